// SPDX-License-Identifier: MIT
/*
 * security_groups/G: Neutron's security groups. `description`, `rules`
 * (fs/sgrule.c: one rule a line, canonical on read). `default` always
 * exists (made at every start if missing, never removed): `egress any`
 * and `ingress any group default`. A new group starts with `egress any`.
 *
 * A port's `security_groups` (default: `default`) and a rule's `group
 * NAME` are references of the object graph (pinning: rmdir of a group in
 * use is EBUSY and says who uses it).
 *
 * Enforcement (backend/nft_sg.c) is incremental: this file keeps, per
 * port, what is installed for it (struct vn_sg_rec: its index, MAC, IPs,
 * groups) and, per group and address, how many member ports have it
 * (the set element exists while the count is > 0), and turns each change
 * into one batch of just the elements and chains it alters. At start-up
 * (the sweep hook, after every port is reconciled) both tables are made
 * again from the model in one batch, stale chains and sets gone.
 * When rules are removed, or a port leaves a group or changes addresses,
 * the conntrack entries of the affected ports that their rules no longer
 * allow are deleted, so established flows stop too.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vnetfs/backend.h"
#include "vnetfs/ip.h"
#include "vnetfs/jobs.h"
#include "vnetfs/model.h"
#include "vnetfs/sg.h"
#include "fs/kinds.h"

#define VN_SG_MAX_IPS 64
#define VN_SG_MAX_GROUPS 64
#define VN_SG_MAX_IDX 65535

struct vn_sg_rec {
	char id[37];
	unsigned idx; /* 0: not filtered (no chains) */
	char dev[16];
	char br[16]; /* its network's bridge (its conntrack zone) */
	uint8_t mac[6];
	struct vn_addr ips[VN_SG_MAX_IPS];
	size_t nips;
	char gids[VN_SG_MAX_GROUPS][37];
	size_t ngids;
};

struct vn_sg_count {
	char key[96];
	unsigned n;
};

struct vn_sg_zcount {
	char br[16];
	unsigned zone, n; /* n filtered ports on the bridge */
};

struct vn_sg {
	bool ready;		/* the tables were made from the model once */
	struct lh_table *zones; /* bridge -> struct vn_sg_zcount */
	uint8_t zused[(VN_SG_MAX_IDX + 8) / 8];
	struct lh_table *recs;	  /* port id -> struct vn_sg_rec */
	struct lh_table *members; /* "gid addr" -> struct vn_sg_count */
	uint8_t used[(VN_SG_MAX_IDX + 8) / 8];
	unsigned long batches, flushed;
	/* addresses whose conntrack entries are to be judged again, taken
	 * by the next flush job's run: shared with the workers under ctmu */
	pthread_mutex_t ctmu;
	struct vn_addr *ctq;
	size_t nctq, capctq;
	bool ctsched; /* a flush job is queued that has not taken ctq yet */
	unsigned ctseq;
};

struct vn_sg_gpriv {
	struct vn_sgrule *rules;
	size_t n;
	struct vn_sg_gstate *gs; /* what the kernel has of the rules */
};

static void *lookup(struct lh_table *t, const char *k)
{
	void *v = NULL;

	return lh_table_lookup_ex(t, k, &v) ? v : NULL;
}

static void vn_sg_free_entry(struct lh_entry *e)
{
	free(lh_entry_v(e));
}

static struct vn_sg *vn_sg_state(struct vn_ctx *c)
{
	if (!c->sg) {
		struct vn_sg *s = calloc(1, sizeof(*s));

		if (!s)
			return NULL;
		s->recs = lh_kchar_table_new(64, vn_sg_free_entry);
		s->members = lh_kchar_table_new(64, vn_sg_free_entry);
		s->zones = lh_kchar_table_new(16, vn_sg_free_entry);
		pthread_mutex_init(&s->ctmu, NULL);
		if (!s->recs || !s->members || !s->zones) {
			if (s->recs)
				lh_table_free(s->recs);
			if (s->members)
				lh_table_free(s->members);
			if (s->zones)
				lh_table_free(s->zones);
			pthread_mutex_destroy(&s->ctmu);
			free(s);
			return NULL;
		}
		c->sg = s;
	}
	return c->sg;
}

void vn_secgroup_fini(struct vn_ctx *c)
{
	if (!c->sg)
		return;
	lh_table_free(c->sg->recs);
	lh_table_free(c->sg->members);
	lh_table_free(c->sg->zones);
	free(c->sg->ctq);
	pthread_mutex_destroy(&c->sg->ctmu);
	free(c->sg);
	c->sg = NULL;
}

void vn_secgroup_stats(struct vn_ctx *c, unsigned long *batches, unsigned long *flushed)
{
	*batches = c->sg ? c->sg->batches : 0;
	*flushed = c->sg ? c->sg->flushed : 0;
}

static struct vn_sg_gpriv *gpriv(struct vn_obj *g)
{
	return g->priv;
}

static void vn_sg_free_priv(struct vn_obj *o)
{
	free(gpriv(o)->rules);
	gpriv(o)->rules = NULL;
	gpriv(o)->n = 0;
	vn_sg_gstate_free(gpriv(o)->gs);
	gpriv(o)->gs = NULL;
}

static struct vn_coll *groups(struct vn_ctx *c)
{
	return vn_root_coll(c, &vn_kind_secgroup);
}

/* ---- the rules attribute ---- */

static int vn_parse_rule(struct vn_ctx *c, struct vn_obj *o, const char *text,
			 struct json_object **out, struct vn_err *err)
{
	struct vn_sgrule r;
	char why[200], line[VN_SG_LINE_MAX];

	(void)c, (void)o;
	if (vn_sgrule_parse(text, &r, why, sizeof(why)) < 0)
		return vn_fail(err, -EINVAL, "'%.80s': %s", text, why);
	vn_sgrule_format(&r, line, sizeof(line));
	*out = json_object_new_string(line);
	return *out ? 0 : -ENOMEM;
}

/* The graph's view of a rule line: the group it names, if any. */
static bool vn_rule_ref(const char *line, char *name)
{
	struct vn_sgrule r;

	if (vn_sgrule_parse(line, &r, NULL, 0) < 0 || r.remote != VN_SG_GROUP)
		return false;
	snprintf(name, 64, "%s", r.group);
	return true;
}

bool vn_secgroup_may_use(struct vn_ctx *c, struct vn_obj *g)
{
	/* a group names its members' addresses and admits them: another
	 * user's group is not one to join or to name (Neutron's groups are
	 * per project); the shared `default` is everyone's */
	return c->caller_uid == 0 || g->uid == c->caller_uid || !strcmp(g->name, "default");
}

/* The group's rules from its props, remote groups resolved to ids (a
 * group that does not exist: ENOENT with the line). */
static int vn_sg_compile(struct vn_ctx *c, struct vn_obj *g, struct vn_sgrule **out, size_t *n,
			 bool perm, struct vn_err *err)
{
	struct json_object *l = vn_get_list(g, "rules");
	size_t len = vn_list_len(l);
	struct vn_sgrule *v = len ? calloc(len, sizeof(*v)) : NULL;
	char why[200];

	*out = NULL;
	*n = 0;
	if (len && !v)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (vn_sgrule_parse(vn_list_at(l, i), &v[i], why, sizeof(why)) < 0) {
			free(v);
			return vn_fail(err, -EINVAL, "rules line %zu: %s", i + 1, why);
		}
		if (v[i].remote == VN_SG_GROUP) {
			struct vn_obj *rg = vn_coll_find(groups(c), v[i].group);

			if (!rg) {
				int e = vn_fail(
					err, -ENOENT,
					"rules line %zu: security group '%s' does not exist", i + 1,
					v[i].group);

				free(v);
				return e;
			}
			if (perm && !vn_secgroup_may_use(c, rg)) {
				int e = vn_fail(err, -EACCES,
						"rules line %zu: security group '%s' is not yours",
						i + 1, v[i].group);

				free(v);
				return e;
			}
			memcpy(v[i].gid, rg->id, sizeof(v[i].gid));
		}
	}
	*out = v;
	*n = len;
	return 0;
}

/* A rule's identity: every field that makes it (not its spelling), in
 * hex; no printf (a write compares whole groups). */
static char *rule_key(const struct vn_sgrule *r)
{
	struct {
		int32_t dir, af, proto, pmin, pmax, remote, prefix;
		uint8_t net[16];
		char gid[37];
	} __attribute__((packed)) k;
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)&k;
	char *out = malloc(2 * sizeof(k) + 1);

	if (!out)
		return NULL;
	memset(&k, 0, sizeof(k));
	k.dir = (int32_t)r->dir;
	k.af = r->af;
	k.proto = r->proto;
	k.pmin = r->pmin;
	k.pmax = r->pmax;
	k.remote = (int32_t)r->remote;
	if (r->remote == VN_SG_CIDR) {
		k.prefix = r->cidr.prefix;
		for (int i = 0; i < 16; i++)
			k.net[i] = (uint8_t)(r->cidr.net.v >> (8 * i));
	}
	if (r->remote == VN_SG_GROUP)
		memcpy(k.gid, r->gid, sizeof(k.gid));
	for (size_t i = 0; i < sizeof(k); i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * sizeof(k)] = '\0';
	return out;
}

static void key_free(struct lh_entry *e)
{
	free((void *)lh_entry_k(e));
}

/* The keys of v[0..n) as a hash set (NULL: out of memory). */
static struct lh_table *rule_set(const struct vn_sgrule *v, size_t n)
{
	struct lh_table *t = lh_kchar_table_new((int)(n < 16 ? 16 : n), key_free);

	for (size_t i = 0; t && i < n; i++) {
		char *k = rule_key(&v[i]);

		if (!k) {
			lh_table_free(t);
			return NULL;
		}
		if (lh_table_lookup_entry(t, k))
			free(k);
		else
			lh_table_insert(t, k, NULL);
	}
	return t;
}

static bool rule_in(const struct vn_sgrule *r, struct lh_table *set)
{
	char *k = rule_key(r);
	bool in = k && lh_table_lookup_entry(set, k);

	free(k);
	return in;
}

/* ---- members and ports ---- */

static void member_key(char *buf, size_t len, const char *gid, const struct vn_addr *a)
{
	char s[VN_ADDR_STRLEN];

	vn_addr_format(a, s, sizeof(s));
	snprintf(buf, len, "%s %s", gid, s);
}

static bool vn_sg_member(void *arg, const char *gid, const struct vn_addr *a)
{
	struct vn_sg *s = arg;
	char k[96];
	struct vn_sg_count *cnt;

	member_key(k, sizeof(k), gid, a);
	cnt = lookup(s->members, k);
	return cnt && cnt->n > 0;
}

/* With b: the set element a change of the count by d would add or remove
 * (0 <-> 1), counts untouched. Without b: the count changes. */
static int member_add(struct vn_sg *s, struct vn_sg_batch *b, const char *gid,
		      const struct vn_addr *a, int d)
{
	char k[96];
	struct vn_sg_count *cnt;

	member_key(k, sizeof(k), gid, a);
	cnt = lookup(s->members, k);
	if (b) {
		unsigned n = cnt ? cnt->n : 0;

		if (d > 0 && n == 0)
			vn_sg_b_member(b, gid, a, true);
		if (d < 0 && n == 1)
			vn_sg_b_member(b, gid, a, false);
		return 0;
	}
	if (!cnt) {
		if (d < 0)
			return 0;
		cnt = calloc(1, sizeof(*cnt));
		if (!cnt)
			return -ENOMEM;
		snprintf(cnt->key, sizeof(cnt->key), "%s", k);
		lh_table_insert(s->members, cnt->key, cnt);
	}
	if (d > 0)
		cnt->n++;
	if (d < 0 && --cnt->n == 0)
		lh_table_delete(s->members, k);
	return 0;
}

/* The membership changes from have to want: into b (counts untouched),
 * or, b NULL, into the counts. */
static int members_diff(struct vn_sg *s, struct vn_sg_batch *b, const struct vn_sg_rec *have,
			const struct vn_sg_rec *want);

static bool port_unfiltered_kind(struct vn_ctx *c, struct vn_obj *port)
{
	const char *owner = vn_get_str(port, "device_owner");

	/* router legs and the network's own ports (DHCP) carry no groups */
	return vn_port_router(c, port, NULL) || (owner && !strncmp(owner, "network:", 8));
}

/* What the model wants installed for port. */
static void port_desired(struct vn_ctx *c, struct vn_obj *port, struct vn_sg_rec *r)
{
	struct json_object *l;
	const char *mac;

	memset(r, 0, sizeof(*r));
	memcpy(r->id, port->id, sizeof(r->id));
	vn_port_device(port, r->dev);
	vn_network_bridge(port->parent, r->br);
	if (port->deleting || port_unfiltered_kind(c, port) ||
	    !vn_get_bool(port, "port_security_enabled"))
		return;
	l = vn_get_list(port, "security_groups");
	if (!l) {
		struct vn_obj *d = vn_coll_find(groups(c), "default");

		if (d)
			memcpy(r->gids[r->ngids++], d->id, 37);
	}
	for (size_t i = 0; i < vn_list_len(l) && r->ngids < VN_SG_MAX_GROUPS; i++) {
		struct vn_obj *g = vn_coll_find(groups(c), vn_list_at(l, i));

		if (g)
			memcpy(r->gids[r->ngids++], g->id, 37);
	}
	size_t nfixed = vn_list_len(vn_get_list(port, "fixed_ips"));

	for (size_t i = 0; i < nfixed && r->nips < VN_SG_MAX_IPS; i++) {
		struct vn_obj *sub;

		if (vn_port_fixed_ip(port, i, &sub, &r->ips[r->nips]) == 0)
			r->nips++;
	}
	mac = vn_get_str(port, "mac_address");
	if (!mac || vn_mac_parse(mac, r->mac) < 0)
		r->ngids = 0; /* no MAC: nothing to filter on */
	if (r->ngids && vn_port_plugged(c, port))
		r->idx = 1; /* wanted; the real index is picked when installed */
}

static unsigned idx_alloc(struct vn_sg *s)
{
	for (unsigned i = 1; i <= VN_SG_MAX_IDX; i++)
		if (!(s->used[i / 8] & (1u << (i % 8)))) {
			s->used[i / 8] |= (uint8_t)(1u << (i % 8));
			return i;
		}
	return 0;
}

static void idx_free(struct vn_sg *s, unsigned i)
{
	if (i)
		s->used[i / 8] &= (uint8_t) ~(1u << (i % 8));
}

static unsigned zone_alloc(struct vn_sg *s)
{
	for (unsigned i = 1; i <= VN_SG_MAX_IDX; i++)
		if (!(s->zused[i / 8] & (1u << (i % 8)))) {
			s->zused[i / 8] |= (uint8_t)(1u << (i % 8));
			return i;
		}
	return 0;
}

/* The zone of a bridge whose filtered ports change by d: with b, the map
 * element that change adds or removes (counts untouched; a new bridge's
 * zone number is reserved); without b, the count changes. */
static int zone_ref(struct vn_sg *s, struct vn_sg_batch *b, const char *br, int d)
{
	struct vn_sg_zcount *z = lookup(s->zones, br);

	if (!z) {
		if (d < 0)
			return 0;
		z = calloc(1, sizeof(*z));
		if (!z)
			return -ENOMEM;
		snprintf(z->br, sizeof(z->br), "%s", br);
		z->zone = zone_alloc(s);
		lh_table_insert(s->zones, z->br, z);
	}
	if (b) {
		if (d > 0 && z->n == 0 && z->zone)
			vn_sg_b_zone(b, br, z->zone, true);
		if (d < 0 && z->n == 1)
			vn_sg_b_zone(b, br, z->zone, false);
		return 0;
	}
	if (d > 0)
		z->n++;
	if (d < 0 && z->n && --z->n == 0) {
		s->zused[z->zone / 8] &= (uint8_t) ~(1u << (z->zone % 8));
		lh_table_delete(s->zones, br);
	}
	return 0;
}

static void rec_port(const struct vn_sg_rec *r, struct vn_sg_port *p, const char **gids)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->dev, r->dev, sizeof(p->dev));
	p->idx = r->idx;
	memcpy(p->mac, r->mac, 6);
	p->ips = r->ips;
	p->nips = r->nips;
	for (size_t i = 0; i < r->ngids; i++)
		gids[i] = r->gids[i];
	p->gids = gids;
	p->ngids = r->ngids;
}

static bool has_gid(const struct vn_sg_rec *r, const char *gid)
{
	for (size_t i = 0; i < r->ngids; i++)
		if (!strcmp(r->gids[i], gid))
			return true;
	return false;
}

static bool has_ip(const struct vn_sg_rec *r, const struct vn_addr *a)
{
	for (size_t i = 0; i < r->nips; i++)
		if (vn_addr_eq(&r->ips[i], a))
			return true;
	return false;
}

static int members_diff(struct vn_sg *s, struct vn_sg_batch *b, const struct vn_sg_rec *have,
			const struct vn_sg_rec *want)
{
	int r = 0;

	for (size_t g = 0; g < want->ngids; g++)
		for (size_t i = 0; i < want->nips; i++)
			if (!has_gid(have, want->gids[g]) || !has_ip(have, &want->ips[i]))
				r = r ?: member_add(s, b, want->gids[g], &want->ips[i], +1);
	for (size_t g = 0; g < have->ngids; g++)
		for (size_t i = 0; i < have->nips; i++)
			if (!has_gid(want, have->gids[g]) || !has_ip(want, &have->ips[i]))
				r = r ?: member_add(s, b, have->gids[g], &have->ips[i], -1);
	return r;
}

/* ---- conntrack: what the rules still allow ---- */

struct vn_ct_ctx {
	struct vn_ctx *c;
	struct vn_sg *s;
};

static bool special(const struct vn_sg_flow *f)
{
	/* DHCP and neighbour discovery, allowed by the port chains */
	if (f->proto == 17 &&
	    ((f->sport == 68 && f->dport == 67) || (f->sport == 546 && f->dport == 547)))
		return true;
	return f->proto == 58 && f->itype >= 130 && f->itype <= 143;
}

static bool rec_allows(struct vn_ct_ctx *x, const struct vn_sg_rec *r, enum vn_sg_dir dir,
		       const struct vn_sg_flow *f)
{
	for (size_t i = 0; i < r->ngids; i++) {
		struct vn_obj *g = vn_find_id(x->c, r->gids[i]);

		if (!g || g->kind != &vn_kind_secgroup)
			continue;
		for (size_t k = 0; k < gpriv(g)->n; k++) {
			const struct vn_sgrule *ru = &gpriv(g)->rules[k];

			if (ru->dir == dir && vn_sgrule_match(ru, f, vn_sg_member, x->s))
				return true;
		}
	}
	return false;
}

static bool vn_ct_drop(void *arg, const struct vn_sg_flow *f)
{
	struct vn_ct_ctx *x = arg;
	struct lh_entry *e;

	if (special(f))
		return false;
	lh_foreach(x->s->recs, e)
	{
		const struct vn_sg_rec *r = lh_entry_v(e);

		const struct vn_sg_zcount *z;

		if (!r->idx)
			continue;
		/* the port's network's flows only */
		z = lookup(x->s->zones, r->br);
		if (z && z->zone != f->zone)
			continue;
		if (has_ip(r, &f->src) && !rec_allows(x, r, VN_SG_EGRESS, f))
			return true;
		if (has_ip(r, &f->dst) && !rec_allows(x, r, VN_SG_INGRESS, f))
			return true;
	}
	return false;
}

/* The flush is a job: the dump (~10 ms, it walks the kernel's whole
 * conntrack hash) runs in a worker without the model lock, and the
 * entries found are judged and deleted under the write lock against what
 * is installed then (so a rule added back meanwhile keeps its flows). The
 * write that removed a rule returns first. The job's run waits
 * VN_CT_DELAY_MS before it takes the addresses asked for so far (ctq,
 * under ctmu) and dumps: a burst of removals shares one dump, and the
 * dump does not compete for the CPU with the write that asked for it. A
 * flush asked after a run took ctq queues the next job (keys differ, so
 * neither supersedes the other's result). */
#define VN_CT_DELAY_MS 20

struct vn_ct_snap {
	struct vn_sg *s;
	struct vn_ns *ns;
	bool wait;
};

static int vn_ct_run(void *snap, void **result, struct vn_err *err)
{
	struct vn_ct_snap *sn = snap;
	struct vn_sg *s = sn->s;
	struct vn_sg_ctlist *l = NULL;
	struct vn_addr *addrs;
	size_t n;
	int r;

	if (sn->wait)
		usleep(VN_CT_DELAY_MS * 1000);
	pthread_mutex_lock(&s->ctmu);
	addrs = s->ctq;
	n = s->nctq;
	s->ctq = NULL;
	s->nctq = s->capctq = 0;
	s->ctsched = false;
	pthread_mutex_unlock(&s->ctmu);
	r = vn_sg_ct_collect(sn->ns, addrs, n, &l);
	free(addrs);
	*result = l;
	if (r < 0)
		return vn_fail(err, r, "could not dump the conntrack table");
	return 0;
}

static int vn_ct_publish(struct vn_ctx *c, struct vn_obj *o, int rc, void *result,
			 struct vn_err *err)
{
	struct vn_sg *s = c->sg;
	struct vn_ct_ctx x = {.c = c, .s = s};
	int r;

	(void)o, (void)err;
	if (!s)
		return 0;
	if (rc < 0) {
		vn_warn(rc, "security groups: could not flush conntrack entries");
		return 0;
	}
	r = vn_sg_ct_drop(c->ns, result, vn_ct_drop, &x);
	if (r < 0)
		vn_warn(r, "security groups: could not flush conntrack entries");
	else
		s->flushed += (unsigned long)r;
	return 0;
}

static void vn_ct_free(void *snap, void *result)
{
	free(snap);
	vn_sg_ctlist_free(result);
}

static const struct vn_job_ops vn_ct_ops = {
	.what = "conntrack flush",
	.flags = VN_JOB_NO_STATUS,
	.run = vn_ct_run,
	.publish = vn_ct_publish,
	.free = vn_ct_free,
};

static void vn_sg_flush(struct vn_ctx *c, const struct vn_addr *addrs, size_t n)
{
	struct vn_sg *s = c->sg;
	struct vn_ct_snap *sn;
	bool submit = false;
	char key[64];
	int r = 0;

	if (!n || !s || !s->ready || !c->ns)
		return;
	pthread_mutex_lock(&s->ctmu);
	if (s->nctq + n > s->capctq) {
		size_t nc = (s->nctq + n) * 2;
		struct vn_addr *nv = realloc(s->ctq, nc * sizeof(*nv));

		if (nv) {
			s->ctq = nv;
			s->capctq = nc;
		} else {
			r = -ENOMEM;
		}
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool dup = false;

		for (size_t k = 0; k < s->nctq && !dup; k++)
			dup = vn_addr_eq(&s->ctq[k], &addrs[i]);
		if (!dup)
			s->ctq[s->nctq++] = addrs[i];
	}
	if (r == 0 && !s->ctsched)
		submit = s->ctsched = true;
	snprintf(key, sizeof(key), "secgroup:conntrack:%u", s->ctseq++);
	pthread_mutex_unlock(&s->ctmu);
	if (r < 0) {
		vn_warn(r, "security groups: could not flush conntrack entries");
		return;
	}
	if (!submit)
		return; /* the queued job's run takes these too */
	sn = calloc(1, sizeof(*sn));
	if (sn) {
		sn->s = s;
		sn->ns = c->ns;
		sn->wait = c->jobs != NULL; /* inline (no workers): at once */
	}
	if (!sn || vn_job_submit(c, NULL, key, &vn_ct_ops, sn) < 0) {
		/* vn_job_submit freed sn; the next flush asked submits again */
		pthread_mutex_lock(&s->ctmu);
		s->ctsched = false;
		pthread_mutex_unlock(&s->ctmu);
		vn_warn(-ENOMEM, "security groups: could not flush conntrack entries");
	}
}

static int send_batch(struct vn_ctx *c, struct vn_sg_batch *b, struct vn_err *err)
{
	int r;

	if (!c->ns || !vn_sg_batch_count(b))
		return 0;
	r = vn_sg_batch_send(c->ns, b);
	if (r < 0)
		return err ? vn_fail(err, -EIO, "could not apply the security group rules: %s",
				     strerror(-r))
			   : r;
	c->sg->batches++;
	return 0;
}

/* ---- a port: make what is installed match the model ---- */

int vn_secgroup_port_sync(struct vn_ctx *c, struct vn_obj *port, struct vn_err *err)
{
	struct vn_sg *s = vn_sg_state(c);
	struct vn_sg_rec want, *have;
	struct vn_sg_batch *b;
	struct vn_addr gone[VN_SG_MAX_IPS];
	size_t ngone = 0;
	bool lost = false;
	int r = 0;

	if (!s)
		return -ENOMEM;
	if (!s->ready || c->loading)
		return 0; /* the start-up rebuild installs everything */
	port_desired(c, port, &want);
	have = lookup(s->recs, port->id);
	if (!have) {
		have = calloc(1, sizeof(*have));
		if (!have)
			return -ENOMEM;
		memcpy(have->id, port->id, sizeof(have->id));
		memcpy(have->dev, want.dev, sizeof(have->dev));
		lh_table_insert(s->recs, have->id, have);
	}
	b = vn_sg_batch_new();
	if (!b)
		return -ENOMEM;
	/* membership: (group, address) pairs; the network's zone */
	members_diff(s, b, have, &want);
	if (want.idx && !have->idx)
		zone_ref(s, b, want.br, +1);
	if (!want.idx && have->idx)
		zone_ref(s, b, have->br, -1);
	for (size_t g = 0; g < have->ngids; g++)
		lost = lost || !has_gid(&want, have->gids[g]);
	for (size_t i = 0; i < have->nips; i++)
		gone[ngone++] = have->ips[i];
	/* chains */
	if (want.idx) {
		const char *gids[VN_SG_MAX_GROUPS];
		struct vn_sg_port p;
		bool same = have->idx && have->ngids == want.ngids && have->nips == want.nips &&
			    !memcmp(have->mac, want.mac, 6);

		for (size_t g = 0; same && g < want.ngids; g++)
			same = !strcmp(have->gids[g], want.gids[g]);
		for (size_t i = 0; same && i < want.nips; i++)
			same = vn_addr_eq(&have->ips[i], &want.ips[i]);
		want.idx = have->idx ? have->idx : idx_alloc(s);
		if (!want.idx) {
			vn_sg_batch_free(b);
			return vn_fail(err, -ENOSPC, "too many filtered ports");
		}
		if (!same) {
			rec_port(&want, &p, gids);
			vn_sg_b_port_set(b, &p, have->idx != 0);
		}
	} else if (have->idx) {
		const char *gids[VN_SG_MAX_GROUPS];
		struct vn_sg_port p;

		rec_port(have, &p, gids);
		vn_sg_b_port_del(b, &p);
	}
	if (r == 0)
		r = send_batch(c, b, err);
	vn_sg_batch_free(b);
	if (r < 0) {
		/* nothing changed in the kernel: recount from the model's old
		 * view at the rollback's sync; drop our partial counts */
		return r;
	}
	if (want.idx && !have->idx)
		zone_ref(s, NULL, want.br, +1);
	if (!want.idx && have->idx)
		zone_ref(s, NULL, have->br, -1);
	r = members_diff(s, NULL, have, &want);
	if (r < 0)
		vn_warn(r, "security groups: out of memory counting members");
	if (have->idx && !want.idx)
		idx_free(s, have->idx);
	{
		struct vn_sg_rec old = *have;

		*have = want;
		if (old.idx && (lost || old.nips != want.nips))
			vn_sg_flush(c, gone, ngone);
	}
	return 0;
}

void vn_secgroup_port_gone(struct vn_ctx *c, struct vn_obj *port)
{
	struct vn_sg *s = c->sg;
	struct vn_sg_rec *have = s ? lookup(s->recs, port->id) : NULL;
	struct vn_sg_batch *b;

	if (!have || !s->ready)
		return;
	b = vn_sg_batch_new();
	if (!b)
		return;
	for (size_t g = 0; g < have->ngids; g++)
		for (size_t i = 0; i < have->nips; i++) {
			member_add(s, b, have->gids[g], &have->ips[i], -1);
			member_add(s, NULL, have->gids[g], &have->ips[i], -1);
		}
	if (have->idx) {
		const char *gids[VN_SG_MAX_GROUPS];
		struct vn_sg_port p;

		rec_port(have, &p, gids);
		vn_sg_b_port_del(b, &p);
		zone_ref(s, b, have->br, -1);
		zone_ref(s, NULL, have->br, -1);
		idx_free(s, have->idx);
	}
	if (send_batch(c, b, NULL) < 0)
		vn_warn(0, "security groups: could not remove the chains of port %s", port->name);
	vn_sg_batch_free(b);
	lh_table_delete(s->recs, port->id);
}

/* ---- the kind's hooks ---- */

static int vn_sg_create(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	struct vn_sg *s = vn_sg_state(c);
	struct vn_sg_batch *b;
	struct vn_sg_gstate *gs;
	int r;

	if (!s)
		return -ENOMEM;
	if (!json_object_object_get(o->props, "rules")) {
		struct json_object *l = json_object_new_array();

		json_object_array_add(l, json_object_new_string("egress any"));
		vn_set(o, "rules", l);
	}
	r = vn_sg_compile(c, o, &gpriv(o)->rules, &gpriv(o)->n, false, err);
	if (r < 0)
		return r;
	if (!s->ready)
		return 0;
	b = vn_sg_batch_new();
	gs = vn_sg_gstate_new();
	if (!b || !gs) {
		vn_sg_batch_free(b);
		vn_sg_gstate_free(gs);
		return -ENOMEM;
	}
	vn_sg_b_group_add(b, o->id);
	r = vn_sg_b_group_change(b, gs, o->id, gpriv(o)->rules, gpriv(o)->n, NULL, 0,
				 gpriv(o)->rules, gpriv(o)->n);
	if (r == 0)
		r = send_batch(c, b, err);
	vn_sg_batch_free(b);
	if (r < 0) {
		vn_sg_gstate_free(gs);
		return r;
	}
	vn_sg_gstate_free(gpriv(o)->gs);
	gpriv(o)->gs = gs;
	return 0;
}

static int vn_sg_check(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
		       struct vn_err *err)
{
	struct vn_sgrule *v;
	size_t n;
	int r;

	if (strcmp(a->name, "rules"))
		return 0;
	r = vn_sg_compile(c, o, &v, &n, true, err);
	free(v);
	return r;
}

static int vn_sg_apply(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
		       struct json_object *old, struct vn_err *err)
{
	struct vn_sg *s = vn_sg_state(c);
	struct vn_sgrule *v = NULL, *add = NULL, *del = NULL;
	size_t n = 0, nadd = 0, ndel = 0;
	struct vn_sg_batch *b;
	struct vn_sg_gstate *gs = NULL;
	int r;

	(void)old;
	if (strcmp(a->name, "rules"))
		return 0;
	if (!s)
		return -ENOMEM;
	r = vn_sg_compile(c, o, &v, &n, false, err);
	if (r < 0)
		return r;
	struct lh_table *newset = rule_set(v, n), *oldset = rule_set(gpriv(o)->rules, gpriv(o)->n);

	if (!newset || !oldset) {
		if (newset)
			lh_table_free(newset);
		if (oldset)
			lh_table_free(oldset);
		free(v);
		return -ENOMEM;
	}
	del = gpriv(o)->n ? calloc(gpriv(o)->n, sizeof(*del)) : NULL;
	for (size_t i = 0; del && i < gpriv(o)->n; i++)
		if (!rule_in(&gpriv(o)->rules[i], newset))
			del[ndel++] = gpriv(o)->rules[i];
	add = n ? calloc(n, sizeof(*add)) : NULL;
	for (size_t i = 0; add && i < n; i++)
		if (!rule_in(&v[i], oldset))
			add[nadd++] = v[i];
	lh_table_free(newset);
	lh_table_free(oldset);
	b = vn_sg_batch_new();
	if ((n && !add) || (gpriv(o)->n && !del) || !b) {
		vn_sg_batch_free(b);
		free(v);
		free(add);
		free(del);
		return -ENOMEM;
	}
	/* the rules that go and come become element deletes and adds of the
	 * group's sets (O(the change) in the kernel, no table validation) */
	r = 0;
	if (s->ready && (nadd || ndel)) {
		gs = vn_sg_gstate_clone(gpriv(o)->gs);
		r = gs ? vn_sg_b_group_change(b, gs, o->id, v, n, del, ndel, add, nadd) : -ENOMEM;
	}
	if (r == 0)
		r = send_batch(c, b, err);
	vn_sg_batch_free(b);
	free(add);
	free(del);
	if (r < 0) {
		vn_sg_gstate_free(gs);
		free(v);
		return r;
	}
	if (gs) {
		vn_sg_gstate_free(gpriv(o)->gs);
		gpriv(o)->gs = gs;
	}
	free(gpriv(o)->rules);
	gpriv(o)->rules = v;
	gpriv(o)->n = n;
	if (ndel && s->ready) {
		/* the addresses of the group's filtered ports */
		struct vn_addr *addrs = NULL;
		size_t na = 0, cap = 0;
		struct lh_entry *e;

		lh_foreach(s->recs, e)
		{
			const struct vn_sg_rec *rec = lh_entry_v(e);

			if (!rec->idx || !has_gid(rec, o->id))
				continue;
			if (na + rec->nips > cap) {
				size_t nc = (cap + rec->nips) * 2;
				struct vn_addr *nv = realloc(addrs, nc * sizeof(*nv));

				if (!nv)
					break;
				addrs = nv;
				cap = nc;
			}
			memcpy(addrs + na, rec->ips, rec->nips * sizeof(*addrs));
			na += rec->nips;
		}
		vn_sg_flush(c, addrs, na);
		free(addrs);
	}
	return 0;
}

static int vn_sg_busy(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	(void)c;
	if (!strcmp(o->name, "default"))
		return vn_fail(err, -EBUSY, "the default security group always exists");
	/* ports that use `default` implicitly name no group; any other use
	 * is an edge of the graph (the generic busy check) */
	return 0;
}

static int vn_sg_destroy(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	struct vn_sg_batch *b;
	int r;

	if (!c->sg || !c->sg->ready)
		return 0;
	b = vn_sg_batch_new();
	if (!b)
		return -ENOMEM;
	vn_sg_b_group_del(b, o->id);
	r = send_batch(c, b, err);
	vn_sg_batch_free(b);
	return r;
}

static int vn_sg_reconcile(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	free(gpriv(o)->rules);
	gpriv(o)->rules = NULL;
	gpriv(o)->n = 0;
	return vn_sg_compile(c, o, &gpriv(o)->rules, &gpriv(o)->n, false, err);
}

/* ---- start-up: the default group, then everything in one batch ---- */

struct vn_rebuild {
	struct vn_ctx *c;
	struct vn_sg *s;
	struct vn_sg_group *g;
	struct vn_obj **go; /* g[i]'s group */
	size_t ng, capg;
	struct vn_sg_member *m;
	size_t nm, capm;
	struct vn_sg_port *p;
	const char *(*pg)[VN_SG_MAX_GROUPS];
	size_t np, capp;
	int err;
};

static int rb_group(struct vn_obj *o, void *arg)
{
	struct vn_rebuild *x = arg;
	struct vn_err e = {0};

	if (x->ng == x->capg) {
		size_t nc = x->capg ? x->capg * 2 : 16;
		struct vn_sg_group *nv = realloc(x->g, nc * sizeof(*nv));
		struct vn_obj **ngo;

		if (!nv)
			return x->err = -ENOMEM;
		x->g = nv;
		ngo = realloc(x->go, nc * sizeof(*ngo));
		if (!ngo)
			return x->err = -ENOMEM;
		x->go = ngo;
		x->capg = nc;
	}
	if (!gpriv(o)->rules && vn_get_list(o, "rules") &&
	    vn_sg_compile(x->c, o, &gpriv(o)->rules, &gpriv(o)->n, false, &e) < 0)
		vn_warn(0, "security group %s: %s", o->name, e.msg);
	x->go[x->ng] = o;
	x->g[x->ng] = (struct vn_sg_group){.gid = o->id,
					   .rules = gpriv(o)->rules,
					   .nrules = gpriv(o)->n,
					   .gs = vn_sg_gstate_new()};
	if (!x->g[x->ng++].gs)
		return x->err = -ENOMEM;
	return 0;
}

static int rb_port(struct vn_obj *o, void *arg)
{
	struct vn_rebuild *x = arg;
	struct vn_sg_rec *r = calloc(1, sizeof(*r));

	if (!r)
		return x->err = -ENOMEM;
	port_desired(x->c, o, r);
	if (r->idx)
		r->idx = idx_alloc(x->s);
	lh_table_insert(x->s->recs, r->id, r);
	for (size_t g = 0; g < r->ngids; g++)
		for (size_t i = 0; i < r->nips; i++)
			member_add(x->s, NULL, r->gids[g], &r->ips[i], +1);
	if (!r->idx)
		return 0;
	zone_ref(x->s, NULL, r->br, +1);
	if (x->np == x->capp) {
		size_t nc = x->capp ? x->capp * 2 : 16;
		struct vn_sg_port *nv = realloc(x->p, nc * sizeof(*nv));
		const char *(*npg)[VN_SG_MAX_GROUPS] = realloc(x->pg, nc * sizeof(*npg));

		if (nv)
			x->p = nv;
		if (npg)
			x->pg = npg;
		if (!nv || !npg)
			return x->err = -ENOMEM;
		x->capp = nc;
	}
	rec_port(r, &x->p[x->np], x->pg[x->np]);
	x->np++;
	return 0;
}

static int vn_sg_sweep(struct vn_ctx *c)
{
	struct vn_sg *s = vn_sg_state(c);
	struct vn_rebuild x = {.c = c, .s = s};
	struct lh_entry *e;
	int r;

	if (!s)
		return -ENOMEM;
	if (!vn_coll_find(groups(c), "default")) {
		struct json_object *props = json_tokener_parse(
			"{\"description\":\"Default security group\","
			"\"rules\":[\"egress any\",\"ingress any group default\"]}");
		struct vn_err err = {0};

		r = vn_obj_create(c, groups(c), "default", 0, 0, props, NULL, &err);
		if (r < 0)
			vn_err(r, "cannot create the default security group: %s", err.msg);
	}
	lh_table_free(s->recs);
	lh_table_free(s->members);
	lh_table_free(s->zones);
	s->recs = lh_kchar_table_new(64, vn_sg_free_entry);
	s->members = lh_kchar_table_new(64, vn_sg_free_entry);
	s->zones = lh_kchar_table_new(16, vn_sg_free_entry);
	memset(s->used, 0, sizeof(s->used));
	memset(s->zused, 0, sizeof(s->zused));
	if (!s->recs || !s->members || !s->zones)
		return -ENOMEM;
	vn_foreach_kind(c, &vn_kind_secgroup, rb_group, &x);
	vn_foreach_kind(c, &vn_kind_port, rb_port, &x);
	lh_foreach(s->members, e)
	{
		struct vn_sg_count *cnt = lh_entry_v(e);
		char gid[37];
		struct vn_addr a;

		if (x.nm == x.capm) {
			size_t nc = x.capm ? x.capm * 2 : 64;
			struct vn_sg_member *nv = realloc(x.m, nc * sizeof(*nv));

			if (!nv) {
				x.err = -ENOMEM;
				break;
			}
			x.m = nv;
			x.capm = nc;
		}
		snprintf(gid, sizeof(gid), "%.36s", cnt->key);
		if (vn_addr_parse(cnt->key + 37, &a) < 0)
			continue;
		x.m[x.nm] = (struct vn_sg_member){.addr = a};
		/* the gid string lives in the group object */
		struct vn_obj *g = vn_find_id(c, gid);

		if (!g)
			continue;
		x.m[x.nm++].gid = g->id;
	}
	size_t nz = 0;
	struct vn_sg_zone *zv = calloc((size_t)lh_table_length(s->zones) + 1, sizeof(*zv));

	if (!zv)
		x.err = -ENOMEM;
	lh_foreach(s->zones, e)
	{
		const struct vn_sg_zcount *z = lh_entry_v(e);

		if (!zv)
			break;
		memcpy(zv[nz].bridge, z->br, sizeof(zv[nz].bridge));
		zv[nz++].zone = z->zone;
	}
	r = x.err;
	if (r == 0 && c->ns)
		r = vn_sg_nft_rebuild(c->ns, x.g, x.ng, x.m, x.nm, x.p, x.np, zv, nz);
	free(zv);
	if (r < 0)
		vn_err(r, "security groups: could not make the filter tables");
	else
		s->batches++;
	for (size_t i = 0; i < x.ng; i++) {
		/* what the kernel has now (nothing of ours if it failed) */
		vn_sg_gstate_free(gpriv(x.go[i])->gs);
		gpriv(x.go[i])->gs = r < 0 ? vn_sg_gstate_new() : x.g[i].gs;
		if (r < 0)
			vn_sg_gstate_free(x.g[i].gs);
	}
	s->ready = true;
	free(x.go);
	free(x.g);
	free(x.m);
	free(x.p);
	free(x.pg);
	return r;
}

static const struct vn_attr vn_sg_attrs[] = {
	{.name = "description", .mode = 0644, .type = VN_T_STR},
	{.name = "rules",
	 .mode = 0644,
	 .type = VN_T_LIST,
	 .flags = VN_ATTR_RULES,
	 .parse = vn_parse_rule,
	 .ref = &vn_kind_secgroup,
	 .ref_scope = VN_REF_ROOT,
	 .pins = true,
	 .role = "rule",
	 .ref_name = vn_rule_ref},
	{.name = NULL},
};

const struct vn_kind vn_kind_secgroup = {
	.dir = "security_groups",
	.type = "security_group",
	.attrs = vn_sg_attrs,
	.priv_size = sizeof(struct vn_sg_gpriv),
	.create = vn_sg_create,
	.check = vn_sg_check,
	.apply = vn_sg_apply,
	.busy = vn_sg_busy,
	.destroy = vn_sg_destroy,
	.reconcile = vn_sg_reconcile,
	.sweep = vn_sg_sweep,
	.free_priv = vn_sg_free_priv,
};
