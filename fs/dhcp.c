// SPDX-License-Identifier: MIT
/*
 * A network's DHCP service, Neutron's DHCP agent in small: when one of a
 * network's subnets has enable_dhcp 1 (IPv4, with a cidr), the network has
 *   - the namespace qdhcp-<network id> (recorded as ours, "dhcpns", before
 *     it exists, so the start-up sweep removes only our own),
 *   - a port it owns (typed owner: the network, role "dhcp"; device_owner
 *     network:dhcp) with one address per DHCP subnet from IPAM, plugged
 *     into the bridge as vnp-<id> <-> ns-<id> inside qdhcp-<id>,
 *   - STATE/dhcp/<network id>/{hosts,opts,leases,pid,log}: hosts has one
 *     `MAC,IP` line per address of every other port on a DHCP subnet, opts
 *     the router, DNS servers, classless routes and MTU per subnet (tagged
 *     by the subnet's id), both rewritten atomically when their text changes,
 *   - one dnsmasq, in static mode (this daemon's IPAM is the only
 *     allocator), started by a job off the model lock and supervised
 *     (fs/jobs.c): SIGHUP when only the files changed, a restart when its
 *     argument vector changed (subnets, lease time, interface).
 * It follows the network's subnets and ports through change propagation:
 * the network kind's sync calls vn_dhcp_sync, which costs O(ports of this
 * network) and never looks at other networks.
 *
 * A registry (id -> entry) behind its own mutex says what the network's
 * dnsmasq should be (running with that argument vector, reloaded, or not
 * at all); writes change it and submit the network's dnsmasq job, which
 * makes the process match it when it runs (see "the dnsmasq job"): a
 * start that comes after the service was torn down starts nothing.
 * A reset of enable_dhcp (rm -r's unlink) that brings DHCP up does not
 * set it up at once: a job does, a moment later, from the model as it is
 * then (see "the realise job").
 * Lock order: model lock -> c->dhcp->mu -> the supervisor's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vnetfs/backend.h"
#include "vnetfs/dnsmasq.h"
#include "vnetfs/jobs.h"
#include "vnetfs/model.h"
#include "fs/dhcp.h"
#include "fs/internal.h"
#include "fs/kinds.h"

#define VN_DHCP_MAX_SUBNETS 32
#define VN_DHCP_OWN "dhcpns"
#define VN_DHCP_PROC "dnsmasq"
#define VN_DHCP_HOSTS_DELAY_MS 5 /* a hosts rewrite waits at least this */
#define VN_DHCP_HOSTS_MAX_MS 50	 /* and a change at most about this */
/* DHCP brought up by a reset of enable_dhcp waits this long (see
 * vn_dhcp_note_reset) */
#define VN_DHCP_SETTLE_MS 100

struct vn_dhcp_ent {
	char id[37];
	/* behind c->dhcp->mu (a start job reads them) */
	bool want;	/* the network serves DHCP */
	char *argv_key; /* the argument vector dnsmasq must run with */
	char **argv;	/* ... itself */
	bool started;	/* a start was asked for argv_key */
	char *running;	/* the argv_key the dnsmasq job last started */
	bool reload;	/* dnsmasq must read its files again (SIGHUP) */
	bool end_stale; /* end a dnsmasq an earlier daemon left, first */
	/* under the model lock only */
	char *hosts, *opts; /* the files' text as last written */
	bool ns_ready;
	bool dir_made; /* STATE/dhcp/<id> is there (no descriptor is kept: one
			* a network would run the daemon out of them) */
	/* behind c->dhcp->mu: no hosts rewrite before this (CLOCK_MONOTONIC ms) */
	long long hosts_next_ms;
	long long hosts_asked_ms; /* the oldest change not yet written; 0: none */
	/* behind c->dhcp->mu: the service is not set up before this
	 * (CLOCK_MONOTONIC ms; a reset asked for it), and a realise job for
	 * it is pending (the network reads BUILD) */
	long long settle_ms;
	bool deferred;
};

/* The DHCP services' state, in the context (c->dhcp). */
struct vn_dhcp {
	pthread_mutex_t mu;    /* the entries' fields marked so; lock order above */
	struct lh_table *ents; /* network id -> struct vn_dhcp_ent */
	int depth;	       /* model lock held: the service changes its port */
};

static void vn_ent_free(struct vn_dhcp_ent *e)
{
	free(e->argv_key);
	vn_dnsmasq_argv_free(e->argv);
	free(e->running);
	free(e->hosts);
	free(e->opts);
	free(e);
}

static void vn_ent_entry_free(struct lh_entry *le)
{
	vn_ent_free((struct vn_dhcp_ent *)lh_entry_v(le));
}

int vn_dhcp_init(struct vn_ctx *c)
{
	struct vn_dhcp *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->ents = lh_kchar_table_new(64, vn_ent_entry_free);
	if (!d->ents) {
		free(d);
		return -ENOMEM;
	}
	pthread_mutex_init(&d->mu, NULL);
	c->dhcp = d;
	return 0;
}

void vn_dhcp_fini(struct vn_ctx *c)
{
	struct vn_dhcp *d = c->dhcp;

	if (!d)
		return;
	lh_table_free(d->ents);
	pthread_mutex_destroy(&d->mu);
	free(d);
	c->dhcp = NULL;
}

bool vn_dhcp_writing(struct vn_ctx *c)
{
	return c->dhcp && c->dhcp->depth > 0;
}

void vn_dhcp_namespace(const struct vn_obj *net, char buf[64])
{
	snprintf(buf, 64, VN_DHCP_NS_PREFIX "%s", net->id);
}

bool vn_port_is_dhcp(struct vn_obj *port)
{
	const char *role = NULL;
	struct vn_obj *owner = port->kind == &vn_kind_port ? vn_owner_of(port, &role) : NULL;

	return owner && owner->kind == &vn_kind_network && role && !strcmp(role, VN_DHCP_ROLE);
}

struct vn_obj *vn_dhcp_port(struct vn_obj *net)
{
	vn_refs_in_foreach(net, e)
	{
		if (!e->attr && e->from->kind == &vn_kind_port && !e->from->deleting &&
		    !strcmp(e->role, VN_DHCP_ROLE))
			return e->from;
	}
	return NULL;
}

/* ---- the registry (d->mu held) ---- */

static struct vn_dhcp_ent *vn_ent_find(struct vn_dhcp *d, const char *id)
{
	void *v = NULL;

	return d && lh_table_lookup_ex(d->ents, id, &v) ? v : NULL;
}

static struct vn_dhcp_ent *vn_ent_get(struct vn_dhcp *d, const char *id)
{
	struct vn_dhcp_ent *e = vn_ent_find(d, id);

	if (e || !d)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->id, sizeof(e->id), "%s", id);
	if (lh_table_insert(d->ents, e->id, e) < 0) {
		free(e);
		return NULL;
	}
	return e;
}

static void vn_ent_drop(struct vn_dhcp *d, const char *id)
{
	if (d)
		lh_table_delete(d->ents, id); /* frees it */
}

/* ---- what the network serves ---- */

struct vn_dhcp_sub {
	struct vn_obj *sub;
	struct vn_subnet_ipam ip;
	struct vn_pool pools[VN_MAX_POOLS];
};

/* Subnets with enable_dhcp 1, a cidr, IPv4 (DHCPv6 is not served). */
static size_t vn_dhcp_subnets(struct vn_obj *net, struct vn_dhcp_sub *out, size_t max)
{
	struct vn_obj *sub;
	size_t n = 0;

	vn_coll_foreach(vn_child_coll(net, &vn_kind_subnet), sub)
	{
		if (sub->deleting || !vn_get_bool(sub, "enable_dhcp"))
			continue;
		if (n == max) {
			vn_warn(0, "network %s: only the first %zu DHCP subnets are served",
				net->name, max);
			break;
		}
		if (vn_subnet_ipam(sub, &out[n].ip, out[n].pools) < 0 ||
		    out[n].ip.cidr.net.af != AF_INET)
			continue;
		out[n].ip.pools = out[n].pools;
		out[n].sub = sub;
		n++;
	}
	return n;
}

/* The DHCP port's fixed_ips: per DHCP subnet, the address it has if that
 * is still good there, else the subnet alone (IPAM allocates). */
static struct json_object *vn_dhcp_want_ips(struct vn_obj *port, const struct vn_dhcp_sub *subs,
					    size_t n)
{
	struct json_object *l = json_object_new_array();

	if (!l)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char line[64 + VN_ADDR_STRLEN + 1], as[VN_ADDR_STRLEN], why[256];
		bool kept = false;

		for (size_t j = 0; port && !kept; j++) {
			struct vn_obj *s;
			struct vn_addr a;
			int r = vn_port_fixed_ip(port, j, &s, &a);

			if (r == -ENOENT && j >= vn_list_len(vn_get_list(port, "fixed_ips")))
				break;
			if (r < 0 || s != subs[i].sub ||
			    vn_ipam_check_fixed(&subs[i].ip, &a, why, sizeof(why)) < 0 ||
			    (subs[i].ip.has_gateway && vn_addr_eq(&a, &subs[i].ip.gateway)))
				continue;
			vn_addr_format(&a, as, sizeof(as));
			snprintf(line, sizeof(line), "%s %s", subs[i].sub->name, as);
			kept = true;
		}
		if (!kept)
			snprintf(line, sizeof(line), "%s", subs[i].sub->name);
		json_object_array_add(l, json_object_new_string(line));
	}
	return l;
}

struct json_object *vn_dhcp_port_want(struct vn_ctx *c, struct vn_obj *port)
{
	struct vn_dhcp_sub subs[VN_DHCP_MAX_SUBNETS];
	size_t n = vn_dhcp_subnets(port->parent, subs, VN_DHCP_MAX_SUBNETS);

	return n ? vn_dhcp_want_ips(port, subs, n) : NULL;
}

static bool vn_lists_equal(struct json_object *a, struct json_object *b)
{
	size_t n = vn_list_len(a);

	if (n != vn_list_len(b))
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(vn_list_at(a, i), vn_list_at(b, i)))
			return false;
	return true;
}

/* One `MAC,IP` line per address of every other port on a DHCP subnet.
 * The stored values are canonical already (mac_address and fixed_ips are
 * rewritten by their parsers and IPAM: "fa:16:3e:..", "SUBNET ADDRESS"),
 * so they are copied, not parsed again: this is the O(ports) step of
 * every port change (vn_mac_parse and inet_ntop per line cost 3x). They
 * are still checked to be nothing but MAC and IPv4 characters. */
static bool vn_only(const char *s, size_t n, const char *set)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr(set, s[i]))
			return false;
	return n > 0;
}

static int vn_dhcp_hosts(struct vn_obj *net, struct vn_obj *dport, const struct vn_dhcp_sub *subs,
			 size_t n, struct vn_buf *out)
{
	struct vn_obj *port;

	vn_coll_foreach(vn_child_coll(net, &vn_kind_port), port)
	{
		const char *mac = vn_get_str(port, "mac_address");
		struct json_object *ips = vn_get_list(port, "fixed_ips");
		size_t cnt = vn_list_len(ips);

		if (port == dport || port->deleting || !mac || strlen(mac) != 17 ||
		    !vn_only(mac, 17, "0123456789abcdef:"))
			continue;
		for (size_t i = 0; i < cnt; i++) {
			const char *line = vn_list_at(ips, i), *sp = strchr(line, ' ');
			size_t sl = sp ? (size_t)(sp - line) : 0, al;
			bool ours = false;

			if (!sp)
				continue;
			al = strlen(sp + 1);
			if (al > 15 || !vn_only(sp + 1, al, "0123456789."))
				continue; /* not IPv4 */
			for (size_t k = 0; k < n && !ours; k++)
				ours = strlen(subs[k].sub->name) == sl &&
				       !memcmp(subs[k].sub->name, line, sl);
			if (!ours)
				continue;
			if (vn_buf_add(out, mac, 17) < 0 || vn_buf_add(out, ",", 1) < 0 ||
			    vn_buf_add(out, sp + 1, al) < 0 || vn_buf_add(out, "\n", 1) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static void vn_dhcp_tag(const struct vn_obj *sub, char tag[48])
{
	vn_ifname(tag, "s", sub->id); /* 15 bytes: "s" + 14 id digits */
}

/* Add PIECE to the line begun at start unless the line (with reserve
 * more bytes and its newline) would pass VN_DHCP_LINE_MAX: dnsmasq reads
 * a line in 1,024 bytes and takes the rest of a longer one for a line of
 * its own, an option nobody wrote. The subnet's limits keep every line
 * far shorter; this holds whatever the store held. 1: left out. */
static int vn_dhcp_piece(struct vn_buf *out, size_t start, size_t reserve, const char *piece)
{
	size_t pl = strlen(piece);

	if (out->len - start + pl + reserve + 1 > VN_DHCP_LINE_MAX)
		return 1;
	return vn_buf_add(out, piece, pl);
}

/* Per subnet: router (none: an empty option, so that dnsmasq does not
 * offer itself), DNS servers (likewise), classless static routes (121,
 * with the default route added as RFC 3442 asks, since a client that
 * gets 121 ignores the router option) and the interface MTU (26). */
static int vn_dhcp_opts(struct vn_obj *net, const struct vn_dhcp_sub *subs, size_t n,
			struct vn_buf *out)
{
	long mtu = vn_get_int(net, "mtu");
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		struct json_object *dns = vn_get_list(subs[i].sub, "dns_nameservers");
		struct json_object *routes = vn_get_list(subs[i].sub, "host_routes");
		char tag[48], gw[VN_ADDR_STRLEN] = "", piece[2 * VN_CIDR_STRLEN + 4];
		size_t start, left = 0;

		vn_dhcp_tag(subs[i].sub, tag);
		if (subs[i].ip.has_gateway)
			vn_addr_format(&subs[i].ip.gateway, gw, sizeof(gw));
		r = vn_buf_printf(out, "tag:%s,option:router%s%s\n", tag, gw[0] ? "," : "", gw);
		start = out->len;
		if (r == 0)
			r = vn_buf_printf(out, "tag:%s,option:dns-server", tag);
		for (size_t j = 0; j < vn_list_len(dns) && r >= 0; j++) {
			char as[VN_ADDR_STRLEN];
			struct vn_addr a;

			if (vn_addr_parse(vn_list_at(dns, j), &a) < 0 || a.af != AF_INET)
				continue; /* an IPv6 server is not a DHCPv4 option */
			vn_addr_format(&a, as, sizeof(as));
			snprintf(piece, sizeof(piece), ",%s", as);
			r = vn_dhcp_piece(out, start, 0, piece);
			left += r == 1;
		}
		if (r >= 0)
			r = vn_buf_puts(out, "\n");
		if (r == 0 && vn_list_len(routes)) {
			bool any = false;
			char def[VN_ADDR_STRLEN + 16];
			size_t served = 0;

			snprintf(def, sizeof(def), ",0.0.0.0/0,%s", gw);
			start = out->len;
			r = vn_buf_printf(out, "tag:%s,option:classless-static-route", tag);
			for (size_t j = 0; j < vn_list_len(routes) && r >= 0; j++) {
				char d[VN_CIDR_STRLEN], h[VN_ADDR_STRLEN];
				struct vn_cidr dest;
				struct vn_addr hop;

				if (vn_route_parse(vn_list_at(routes, j), &dest, &hop) < 0 ||
				    dest.net.af != AF_INET)
					continue;
				vn_cidr_format(&dest, d, sizeof(d));
				vn_addr_format(&hop, h, sizeof(h));
				snprintf(piece, sizeof(piece), ",%s,%s", d, h);
				if (served == VN_DHCP_MAX_ROUTES) {
					left++;
					continue;
				}
				r = vn_dhcp_piece(out, start, gw[0] ? strlen(def) : 0, piece);
				left += r == 1;
				served += r == 0;
				any = any || r == 0;
			}
			if (r >= 0 && any && gw[0])
				r = vn_buf_puts(out, def);
			if (r >= 0)
				r = vn_buf_puts(out, "\n");
		}
		if (r >= 0)
			r = vn_buf_printf(out, "tag:%s,option:mtu,%ld\n", tag, mtu);
		if (left)
			vn_warn(0,
				"network %s: subnet %s: %zu DNS servers or host routes left out of "
				"DHCP (it serves %d host routes; no line of dnsmasq's options is "
				"longer than %d bytes)",
				net->name, subs[i].sub->name, left, VN_DHCP_MAX_ROUTES,
				VN_DHCP_LINE_MAX);
	}
	return r < 0 ? r : 0;
}

/* ---- the dnsmasq job ----
 * One job per network (merged while pending; twins never run at once)
 * makes its dnsmasq match what the registry says when it runs: started
 * (or restarted) with the wanted argument vector, sent SIGHUP when only
 * its files changed, stopped when the network serves no DHCP any more.
 * The writes only say what they want (under d->mu) and submit it, so the
 * model lock never waits for a dnsmasq to start or to exit, and a change
 * undone before the job ran costs nothing. */

struct vn_dhcp_snap {
	struct vn_ctx *c;
	char id[37];
};

static void vn_dhcp_rmdir(struct vn_ctx *c, const char *id);

static int vn_dhcp_proc_run(void *snap, void **result, struct vn_err *err)
{
	struct vn_dhcp_snap *s = snap;
	struct vn_dhcp *d = s->c->dhcp;
	struct vn_dhcp_ent *e;
	bool stale, hup = false;
	pid_t pid = 0;
	int r;

	(void)result;
	pthread_mutex_lock(&d->mu);
	e = vn_ent_find(d, s->id);
	stale = e && e->end_stale;
	if (stale)
		e->end_stale = false;
	pthread_mutex_unlock(&d->mu);
	if (stale) {
		char dir[4200], ns[64];
		pid_t old = 0;

		snprintf(dir, sizeof(dir), "%s/dhcp/%s", s->c->opts.state_dir, s->id);
		snprintf(ns, sizeof(ns), VN_DHCP_NS_PREFIX "%s", s->id);
		r = vn_dnsmasq_end_stale(dir, ns, &old);
		if (old)
			vn_info("ended dnsmasq (pid %d) of network %s left by an earlier daemon",
				(int)old, s->id);
		if (r < 0)
			vn_warn(r, "could not end the dnsmasq an earlier daemon left in %s", ns);
	}
	pthread_mutex_lock(&d->mu);
	e = vn_ent_find(d, s->id);
	if (e && e->want && e->argv) {
		if (!e->running || strcmp(e->running, e->argv_key)) {
			/* under d->mu: a teardown waits, then asks for a stop */
			pid = vn_proc_start_id(s->c, s->id, VN_DHCP_PROC, e->argv, err);
			free(e->running);
			e->running = pid < 0 ? NULL : strdup(e->argv_key);
			if (pid < 0)
				e->started = false; /* the next sync tries again */
			e->reload = false;	    /* it reads its files as they are */
		} else if (e->reload) {
			e->reload = false;
			hup = true;
		}
		pthread_mutex_unlock(&d->mu);
		if (hup) {
			r = vn_proc_signal_id(s->c, s->id, VN_DHCP_PROC, SIGHUP);
			/* not running now (restarting: it reads its files anew) or just died */
			if (r < 0 && r != -ENOENT && r != -ESRCH)
				vn_warn(r, "could not signal dnsmasq of network %s", s->id);
		}
		return pid < 0 ? (int)pid : 0;
	}
	if (e) {
		free(e->running);
		e->running = NULL;
	}
	pthread_mutex_unlock(&d->mu);
	/* SIGTERM, SIGKILL after 1 s: off the model lock */
	if (vn_proc_stop_id(s->c, s->id, VN_DHCP_PROC) == 0) {
		/* what it wrote while it went, if the service is still gone
		 * (a new one makes its entry under d->mu before its files) */
		pthread_mutex_lock(&d->mu);
		if (!vn_ent_find(d, s->id))
			vn_dhcp_rmdir(s->c, s->id);
		pthread_mutex_unlock(&d->mu);
	}
	return 0;
}

/* A failed start makes the network ERROR with the sentence; a start that
 * works clears nothing (the network's error may say something else: a
 * value set aside on load, an earlier death). */
static int vn_dhcp_proc_publish(struct vn_ctx *c, struct vn_obj *o, int rc, void *result,
				struct vn_err *err)
{
	if (rc < 0 && o) {
		o->failed = true;
		vn_obj_set_error(o, err);
		vn_changed(c, o, "status");
	}
	return rc;
}

static const struct vn_job_ops vn_dhcp_proc_ops = {
	.what = "dnsmasq",
	.flags = VN_JOB_NO_STATUS,
	.run = vn_dhcp_proc_run,
	.publish = vn_dhcp_proc_publish,
};

/* Queue (or join) the network's dnsmasq job: after the registry says what
 * it wants. With the model lock held. */
static int vn_dhcp_proc_later(struct vn_ctx *c, struct vn_obj *net, struct vn_err *err)
{
	struct vn_dhcp_snap *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return vn_fail(err, -ENOMEM, "out of memory");
	s->c = c;
	snprintf(s->id, sizeof(s->id), "%s", net->id);
	r = vn_job_submit(c, net, NULL, &vn_dhcp_proc_ops, s);
	return r < 0 ? vn_fail(err, r, "could not queue dnsmasq's job") : 0;
}

/* ---- files ---- */

static int vn_dhcp_dir(struct vn_ctx *c, struct vn_obj *net, struct vn_dhcp_ent *e,
		       struct vn_err *err)
{
	int top;

	if (e->dir_made)
		return 0;
	if (mkdirat(c->state_fd, "dhcp", 0700) < 0 && errno != EEXIST)
		return vn_fail(err, -EIO, "could not create %s/dhcp: %s", c->opts.state_dir,
			       strerror(errno));
	top = openat(c->state_fd, "dhcp", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (top < 0)
		return vn_fail(err, -EIO, "could not open %s/dhcp: %s", c->opts.state_dir,
			       strerror(errno));
	if (mkdirat(top, net->id, 0700) < 0 && errno != EEXIST) {
		int x = errno;

		close(top);
		return vn_fail(err, -EIO, "could not create %s/dhcp/%s: %s", c->opts.state_dir,
			       net->id, strerror(x));
	}
	close(top);
	e->dir_made = true;
	return 0;
}

static const char *const vn_dhcp_files[] = {"hosts", "opts",	   "leases",	"pid",
					    "log",   ".hosts.tmp", ".opts.tmp", NULL};

/* Remove STATE/dhcp/<id> and what it holds (only the names we make). */
static void vn_dhcp_rmdir(struct vn_ctx *c, const char *id)
{
	int top = openat(c->state_fd, "dhcp", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	int d;

	if (top < 0)
		return;
	d = openat(top, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (d >= 0) {
		for (size_t i = 0; vn_dhcp_files[i]; i++)
			unlinkat(d, vn_dhcp_files[i], 0);
		close(d);
	}
	if (unlinkat(top, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
		vn_warn(-errno, "could not remove %s/dhcp/%s", c->opts.state_dir, id);
	close(top);
}

/* Write name if its text changed; *changed set. */
static int vn_dhcp_put(struct vn_ctx *c, struct vn_dhcp_ent *e, const char *name, char **cache,
		       struct vn_buf *text, bool *changed, struct vn_err *err)
{
	const char *s = text->s ? text->s : "";
	char sub[64];
	int r, dfd;

	if (*cache && !strcmp(*cache, s))
		return 0;
	/* opened for the write only (see dir_made) */
	snprintf(sub, sizeof(sub), "dhcp/%s", e->id);
	dfd = openat(c->state_fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	r = dfd < 0 ? -errno : vn_dnsmasq_write(dfd, name, s, text->len);
	if (dfd >= 0)
		close(dfd);
	if (r < 0) {
		free(*cache);
		*cache = NULL;
		return vn_fail(err, -EIO, "could not write %s/dhcp/%s/%s: %s", c->opts.state_dir,
			       e->id, name, strerror(-r));
	}
	free(*cache);
	*cache = vn_buf_steal(text);
	if (!*cache)
		*cache = strdup("");
	*changed = true;
	return 0;
}

/* dnsmasq reads its hosts and opts files again on SIGHUP */
static void vn_dhcp_hup(struct vn_ctx *c, struct vn_obj *net)
{
	int r = vn_proc_signal(c, net, VN_DHCP_PROC, SIGHUP);

	/* not running now (restarting, it reads its files anew) or just died */
	if (r < 0 && r != -ENOENT && r != -ESRCH)
		vn_warn(r, "could not signal dnsmasq of network %s", net->name);
}

/* ---- the hosts file, rewritten by a job ----
 * Its text costs O(ports of the network), so it is not made under every
 * port change's write but by a publish-only job (under the lock, after the
 * write returned); twins pending merge, so a burst of port changes costs
 * one rewrite per rewrite's time, not one per change. */

static long long vn_dhcp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Rate limit: a rewrite at most every max(10 ms, twice the last one's
 * time), so that under a stream of port changes (10,000 ports: ~20 ms a
 * rewrite) the lock stays mostly the writers', and never sooner than
 * VN_DHCP_HOSTS_DELAY_MS after the write. A change submitted while this one
 * waits supersedes it (the queue publishes the newest only); a change
 * waiting VN_DHCP_HOSTS_MAX_MS is written without waiting, so under a
 * stream of changes the file is at most that and one rewrite late. */
struct vn_dhcp_hosts_snap {
	struct vn_dhcp *d;
	char id[37];
};

static int vn_dhcp_hosts_run(void *snap, void **result, struct vn_err *err)
{
	struct vn_dhcp_hosts_snap *hs = snap;
	struct vn_dhcp_ent *e;
	long long wait = 0;
	bool overdue;

	pthread_mutex_lock(&hs->d->mu);
	e = vn_ent_find(hs->d, hs->id);
	if (e)
		wait = e->hosts_next_ms - vn_dhcp_now_ms();
	/* a change waiting this long is written now: under a stream of changes
	 * every waiting run would be superseded by the next (no progress) */
	overdue = e && e->hosts_asked_ms &&
		  vn_dhcp_now_ms() - e->hosts_asked_ms >= VN_DHCP_HOSTS_MAX_MS;
	pthread_mutex_unlock(&hs->d->mu);
	/* never at once: the write that asked for it is still waiting for the
	 * cache notifier (fs/fuse_ops.c vn_unlock), which a rewrite holding the
	 * lock would keep waiting (measured: mkdir 0.9 -> 6 ms at 1,000 ports) */
	if (wait < VN_DHCP_HOSTS_DELAY_MS)
		wait = VN_DHCP_HOSTS_DELAY_MS;
	if (overdue)
		wait = 0;
	if (wait > 0)
		usleep((useconds_t)(wait > 200 ? 200 : wait) * 1000);
	*result = strdup(hs->id);
	return *result ? 0 : vn_fail(err, -ENOMEM, "out of memory");
}

static int vn_dhcp_hosts_publish(struct vn_ctx *c, struct vn_obj *o, int rc, void *result,
				 struct vn_err *err)
{
	struct vn_dhcp_sub subs[VN_DHCP_MAX_SUBNETS];
	_cleanup_buf_ struct vn_buf hosts = {0};
	struct vn_obj *net = result ? vn_find_id(c, result) : NULL, *port;
	struct vn_dhcp_ent *e;
	struct vn_err e2 = {0};
	bool changed = false, want;
	long long t0, t1;
	size_t n;
	int r;

	if (rc < 0 || !net || net->kind != &vn_kind_network || net->deleting)
		return 0;
	pthread_mutex_lock(&c->dhcp->mu);
	e = vn_ent_find(c->dhcp, net->id);
	want = e && e->want;
	pthread_mutex_unlock(&c->dhcp->mu);
	port = vn_dhcp_port(net);
	if (!want || !e->dir_made || !port)
		return 0; /* torn down meanwhile */
	t0 = vn_dhcp_now_ms();
	n = vn_dhcp_subnets(net, subs, VN_DHCP_MAX_SUBNETS);
	r = vn_dhcp_hosts(net, port, subs, n, &hosts) < 0
		    ? vn_fail(&e2, -ENOMEM, "out of memory")
		    : vn_dhcp_put(c, e, "hosts", &e->hosts, &hosts, &changed, &e2);
	t1 = vn_dhcp_now_ms();
	pthread_mutex_lock(&c->dhcp->mu);
	e->hosts_next_ms = t1 + (2 * (t1 - t0) > 10 ? 2 * (t1 - t0) : 10);
	e->hosts_asked_ms = 0;
	pthread_mutex_unlock(&c->dhcp->mu);
	if (r < 0) {
		vn_obj_set_error(net, &e2);
		return 0;
	}
	if (changed)
		vn_dhcp_hup(c, net);
	return 0;
}

static void vn_dhcp_hosts_free(void *snap, void *result)
{
	free(snap);
	free(result);
}

static const struct vn_job_ops vn_dhcp_hosts_ops = {
	.what = "DHCP hosts file",
	.flags = VN_JOB_NO_STATUS,
	.run = vn_dhcp_hosts_run,
	.publish = vn_dhcp_hosts_publish,
	.free = vn_dhcp_hosts_free,
};

static int vn_dhcp_hosts_later(struct vn_ctx *c, struct vn_obj *net, struct vn_err *err)
{
	struct vn_dhcp_hosts_snap *id = calloc(1, sizeof(*id));
	char key[64];
	struct vn_dhcp_ent *e;
	int r;

	if (!id)
		return vn_fail(err, -ENOMEM, "out of memory");
	id->d = c->dhcp;
	snprintf(id->id, sizeof(id->id), "%s", net->id);
	snprintf(key, sizeof(key), "dhcp-hosts:%s", net->id);
	pthread_mutex_lock(&c->dhcp->mu);
	e = vn_ent_find(c->dhcp, net->id);
	if (e && !e->hosts_asked_ms)
		e->hosts_asked_ms = vn_dhcp_now_ms();
	pthread_mutex_unlock(&c->dhcp->mu);
	r = vn_job_submit(c, NULL, key, &vn_dhcp_hosts_ops, id);
	return r < 0 ? vn_fail(err, r, "could not queue the DHCP hosts file") : 0;
}

/* ---- the realise job: DHCP brought up by a reset ----
 * rm -r of a network unlinks its subnets' files before it removes them,
 * and the unlink of enable_dhcp resets it to its default, 1: with a cidr
 * that would set the whole service up (namespace, DHCP port and its veth,
 * files, dnsmasq) only for the subnet's rmdir a few requests later to tear
 * it down again (40 ms a network, most of an rm -r's time). So when a
 * reset of enable_dhcp is what brings DHCP up, the service is not set up
 * in that request: one job per network (merged while pending) waits
 * VN_DHCP_SETTLE_MS from the last such reset, then makes the service
 * match the model as it is THEN. After rm -r's removal there is nothing to
 * serve and nothing was made; after a lone `rm enable_dhcp` the service
 * comes up that much later, the network reading BUILD meanwhile. Any
 * other write that brings DHCP up sets it up in the write, as before. */

static int vn_dhcp_do_sync(struct vn_ctx *c, struct vn_obj *net, bool reconcile, bool now,
			   struct vn_err *err);

struct vn_dhcp_realise_snap {
	struct vn_dhcp *d;
	char id[37];
};

static int vn_dhcp_realise_run(void *snap, void **result, struct vn_err *err)
{
	struct vn_dhcp_realise_snap *rs = snap;

	(void)result;
	(void)err;
	/* a later reset moves the time on: wait for the last one (bounded) */
	for (int i = 0; i < 10; i++) {
		struct vn_dhcp_ent *e;
		long long wait = 0;

		pthread_mutex_lock(&rs->d->mu);
		e = vn_ent_find(rs->d, rs->id);
		if (e && e->deferred)
			wait = e->settle_ms - vn_dhcp_now_ms();
		pthread_mutex_unlock(&rs->d->mu);
		if (wait <= 0)
			break;
		usleep((useconds_t)(wait > VN_DHCP_SETTLE_MS ? VN_DHCP_SETTLE_MS : wait) * 1000);
	}
	return 0;
}

static int vn_dhcp_realise_publish(struct vn_ctx *c, struct vn_obj *o, int rc, void *result,
				   struct vn_err *err)
{
	struct vn_dhcp_ent *e;
	bool was;
	int r;

	(void)result;
	if (!o || o->deleting)
		return 0; /* removed meanwhile: its destroy hook found nothing made */
	pthread_mutex_lock(&c->dhcp->mu);
	e = vn_ent_find(c->dhcp, o->id);
	was = e && e->deferred;
	if (e)
		e->deferred = false;
	pthread_mutex_unlock(&c->dhcp->mu);
	if (!was)
		return rc; /* set up or torn down by a write since */
	/* what the service changes on its port does not come back to it */
	vn_graph_push(c, o);
	r = vn_dhcp_do_sync(c, o, false, true, err);
	vn_graph_pop(c);
	if (r < 0) {
		o->failed = true;
		vn_obj_set_error(o, err);
	}
	vn_changed(c, o, "status"); /* BUILD no more */
	return r;
}

static const struct vn_job_ops vn_dhcp_realise_ops = {
	.what = "DHCP service",
	.flags = VN_JOB_NO_STATUS,
	.run = vn_dhcp_realise_run,
	.publish = vn_dhcp_realise_publish,
};

void vn_dhcp_note_reset(struct vn_ctx *c, struct vn_obj *net)
{
	struct vn_dhcp_ent *e;

	if (!c->dhcp || !c->ns || net->kind != &vn_kind_network)
		return;
	pthread_mutex_lock(&c->dhcp->mu);
	e = vn_ent_get(c->dhcp, net->id);
	if (e)
		e->settle_ms = vn_dhcp_now_ms() + VN_DHCP_SETTLE_MS;
	pthread_mutex_unlock(&c->dhcp->mu);
}

bool vn_dhcp_pending(struct vn_ctx *c, const struct vn_obj *net)
{
	struct vn_dhcp_ent *e;
	bool yes;

	if (!c->dhcp)
		return false;
	pthread_mutex_lock(&c->dhcp->mu);
	e = vn_ent_find(c->dhcp, net->id);
	yes = e && e->deferred;
	pthread_mutex_unlock(&c->dhcp->mu);
	return yes;
}

/* Not set up yet, and a reset asked to wait: queue (or join) the realise
 * job. 1: deferred; 0: set it up now; -errno. */
static int vn_dhcp_defer(struct vn_ctx *c, struct vn_obj *net, struct vn_dhcp_ent *e,
			 struct vn_err *err)
{
	struct vn_dhcp_realise_snap *rs;
	bool wait, first;
	int r;

	if (e->ns_ready || vn_dhcp_port(net))
		return 0; /* already serving: changes follow at once */
	pthread_mutex_lock(&c->dhcp->mu);
	wait = e->deferred || e->settle_ms > vn_dhcp_now_ms();
	first = wait && !e->deferred;
	if (wait)
		e->deferred = true;
	pthread_mutex_unlock(&c->dhcp->mu);
	if (!wait)
		return 0;
	if (!first)
		return 1; /* the pending job looks at the model when it runs */
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		r = -ENOMEM;
	else {
		rs->d = c->dhcp;
		snprintf(rs->id, sizeof(rs->id), "%s", net->id);
		r = vn_job_submit(c, net, NULL, &vn_dhcp_realise_ops, rs);
	}
	if (r < 0) {
		pthread_mutex_lock(&c->dhcp->mu);
		e->deferred = false;
		pthread_mutex_unlock(&c->dhcp->mu);
		return vn_fail(err, r, "could not queue the DHCP service of network '%s'",
			       net->name);
	}
	vn_changed(c, net, "status"); /* BUILD */
	return 1;
}

/* ---- tear down / set up ---- */

static int vn_dhcp_teardown(struct vn_ctx *c, struct vn_obj *net, bool deleting, struct vn_err *err)
{
	struct vn_obj *port = deleting ? NULL : vn_dhcp_port(net);
	struct vn_dhcp_ent *e;
	char ns[64];
	bool had, was;
	int r;

	if (!c->ns)
		return 0; /* no backend: nothing was set up */
	vn_dhcp_namespace(net, ns);
	pthread_mutex_lock(&c->dhcp->mu);
	e = vn_ent_find(c->dhcp, net->id);
	had = e && (e->want || e->started || e->ns_ready || e->dir_made);
	if (e)
		e->want = false; /* a start job still to run starts nothing */
	was = e && e->deferred;
	if (was)
		e->deferred = false; /* the realise job finds nothing to do */
	if (e && !had && deleting)
		vn_ent_drop(c->dhcp, net->id); /* else kept for its settle time */
	pthread_mutex_unlock(&c->dhcp->mu);
	if (was)
		vn_changed(c, net, "status"); /* BUILD no more */
	if (!had && !port && !vn_own_has(c, VN_DHCP_OWN, ns))
		return 0; /* nothing was ever set up */
	/* the dnsmasq job stops it, off the model lock (want is false);
	 * where it cannot be queued, here */
	if (vn_dhcp_proc_later(c, net, &(struct vn_err){0}) < 0)
		vn_proc_stop(c, net, VN_DHCP_PROC);
	if (port) {
		c->dhcp->depth++;
		r = vn_obj_delete(c, port, true, err);
		c->dhcp->depth--;
		if (r < 0)
			return r;
	}
	r = vn_netns_delete(ns);
	if (r < 0)
		return vn_fail(err, -EIO, "could not delete namespace %s: %s", ns, strerror(-r));
	vn_own_del(c, VN_DHCP_OWN, ns);
	vn_dhcp_rmdir(c, net->id);
	pthread_mutex_lock(&c->dhcp->mu);
	vn_ent_drop(c->dhcp, net->id);
	pthread_mutex_unlock(&c->dhcp->mu);
	return 0;
}

static int vn_dhcp_ensure_port(struct vn_ctx *c, struct vn_obj *net, const struct vn_dhcp_sub *subs,
			       size_t n, struct vn_obj **out, struct vn_err *err)
{
	struct vn_obj *port = vn_dhcp_port(net);
	struct json_object *want = vn_dhcp_want_ips(port, subs, n);
	int r;

	if (!want)
		return vn_fail(err, -ENOMEM, "out of memory");
	c->dhcp->depth++;
	if (!port) {
		struct json_object *props = json_object_new_object();
		char name[64];

		/* "dhcp", unless a user's port has that name */
		snprintf(name, sizeof(name), "dhcp");
		if (vn_coll_find(vn_child_coll(net, &vn_kind_port), name))
			snprintf(name, sizeof(name), "dhcp-%.8s", net->id);
		json_object_object_add(props, "device_owner",
				       json_object_new_string(VN_OWNER_DHCP));
		vn_owner_props(props, net, VN_DHCP_ROLE);
		json_object_object_add(props, "fixed_ips", want);
		r = vn_obj_create(c, vn_child_coll(net, &vn_kind_port), name, net->uid, net->gid,
				  props, &port, err);
	} else if (!vn_lists_equal(want, vn_get_list(port, "fixed_ips"))) {
		r = vn_attr_set(c, port, vn_attr_find(&vn_kind_port, "fixed_ips"), want, err);
	} else {
		json_object_put(want);
		r = 0;
	}
	c->dhcp->depth--;
	if (r < 0)
		return r;
	*out = port;
	return 0;
}

/* now: set up what the model asks for even within a reset's settle time */
static int vn_dhcp_do_sync(struct vn_ctx *c, struct vn_obj *net, bool reconcile, bool now,
			   struct vn_err *err)
{
	struct vn_dhcp_sub subs[VN_DHCP_MAX_SUBNETS];
	struct vn_dnsmasq_range ranges[VN_DHCP_MAX_SUBNETS];
	_cleanup_buf_ struct vn_buf hosts = {0}, opts = {0}, key = {0};
	struct vn_obj *port = NULL;
	struct vn_dhcp_ent *e;
	struct vn_dnsmasq_conf conf = {0};
	char ns[64], ifname[16], dir[4200];
	char **argv = NULL;
	bool changed = false, start;
	size_t n;
	int r;

	/* No backend (fuzzers, unit tests): no namespaces, no processes,
	 * no files, like every other kind's backend calls. */
	if (net->deleting || !c->ns || c->state_fd < 0)
		return 0;
	n = vn_dhcp_subnets(net, subs, VN_DHCP_MAX_SUBNETS);
	if (!n)
		return vn_dhcp_teardown(c, net, false, err);
	vn_dhcp_namespace(net, ns);
	pthread_mutex_lock(&c->dhcp->mu);
	e = vn_ent_get(c->dhcp, net->id);
	pthread_mutex_unlock(&c->dhcp->mu);
	if (!e)
		return vn_fail(err, -ENOMEM, "out of memory");
	if (!reconcile && !now) {
		r = vn_dhcp_defer(c, net, e, err);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	if (!e->ns_ready) {
		struct vn_ns *h = NULL;

		/* Recorded before it exists: the sweep removes only ours. */
		r = vn_own_add(c, VN_DHCP_OWN, ns);
		if (r < 0)
			return vn_fail(err, -EIO, "could not record namespace %s: %s", ns,
				       strerror(-r));
		r = vn_ns_open(ns, true, &h);
		vn_ns_set_closer(h, vn_ctx_closer(c));
		if (r < 0)
			return vn_fail(err, -EIO, "could not create namespace %s: %s", ns,
				       strerror(-r));
		/* DHCPv4 only: its ns- interface needs no IPv6 */
		r = vn_ns_sysctl(h, "net/ipv6/conf/default/disable_ipv6", "1");
		if (r < 0)
			vn_warn(r, "could not turn IPv6 off in %s", ns);
		vn_ns_close(h);
		e->ns_ready = true;
	}
	r = vn_dhcp_ensure_port(c, net, subs, n, &port, err);
	if (r < 0)
		return r;
	if (reconcile) {
		/* plugged before dnsmasq binds to it (ports reconcile later) */
		r = vn_port_realise(c, port, err);
		if (r < 0)
			return r;
	}
	r = vn_dhcp_dir(c, net, e, err);
	if (r < 0)
		return r;
	if (vn_dhcp_opts(net, subs, n, &opts) < 0)
		return vn_fail(err, -ENOMEM, "out of memory");
	r = vn_dhcp_put(c, e, "opts", &e->opts, &opts, &changed, err);
	if (r < 0)
		return r;

	for (size_t i = 0; i < n; i++) {
		vn_dhcp_tag(subs[i].sub, ranges[i].tag);
		ranges[i].cidr = subs[i].ip.cidr;
	}
	vn_ifname(ifname, VN_DHCP_IF_PREFIX, port->id);
	snprintf(dir, sizeof(dir), "%s/dhcp/%s", c->opts.state_dir, net->id);
	conf.netns = ns;
	conf.ifname = ifname;
	conf.dir = dir;
	conf.ranges = ranges;
	conf.nranges = n;
	conf.lease_time = c->opts.dhcp_lease_time ? c->opts.dhcp_lease_time : VN_DHCP_LEASE_DEFAULT;
	if (c->opts.dhcp_lease_time == (unsigned)-1)
		conf.lease_time = 0; /* infinite */
	r = vn_dnsmasq_argv(&conf, &argv);
	if (r < 0)
		return vn_fail(err, r, "could not make the dnsmasq command line: %s", strerror(-r));
	for (size_t i = 0; argv[i] && r == 0; i++)
		r = vn_buf_printf(&key, "%s\n", argv[i]);
	if (r < 0) {
		vn_dnsmasq_argv_free(argv);
		return vn_fail(err, -ENOMEM, "out of memory");
	}

	start = reconcile || !e->started || !e->argv_key || strcmp(e->argv_key, key.s);
	if (start) {
		/* the hosts file as the new dnsmasq will read it first */
		r = vn_dhcp_hosts(net, port, subs, n, &hosts) < 0
			    ? vn_fail(err, -ENOMEM, "out of memory")
			    : vn_dhcp_put(c, e, "hosts", &e->hosts, &hosts, &changed, err);
		if (r < 0) {
			vn_dnsmasq_argv_free(argv);
			return r;
		}
	}
	pthread_mutex_lock(&c->dhcp->mu);
	e->want = true;
	if (start) {
		char *k = strdup(key.s);

		if (!k) {
			pthread_mutex_unlock(&c->dhcp->mu);
			vn_dnsmasq_argv_free(argv);
			return vn_fail(err, -ENOMEM, "out of memory");
		}
		free(e->argv_key);
		vn_dnsmasq_argv_free(e->argv);
		e->argv_key = k;
		e->argv = argv;
		argv = NULL;
		e->started = true;
		if (reconcile) {
			e->end_stale = true; /* and start one whatever runs */
			free(e->running);
			e->running = NULL;
		}
	} else if (changed) {
		e->reload = true;
	}
	pthread_mutex_unlock(&c->dhcp->mu);
	vn_dnsmasq_argv_free(argv);
	if (start || changed) {
		r = vn_dhcp_proc_later(c, net, err);
		if (r < 0 || start)
			return r;
	}
	return vn_dhcp_hosts_later(c, net, err);
}

int vn_dhcp_sync(struct vn_ctx *c, struct vn_obj *net, struct vn_err *err)
{
	return vn_dhcp_do_sync(c, net, false, false, err);
}

int vn_dhcp_reconcile(struct vn_ctx *c, struct vn_obj *net, struct vn_err *err)
{
	int r;

	/* what the service changes on its port does not come back to it */
	vn_graph_push(c, net);
	r = vn_dhcp_do_sync(c, net, true, true, err);
	vn_graph_pop(c);
	return r;
}

int vn_dhcp_destroy(struct vn_ctx *c, struct vn_obj *net, struct vn_err *err)
{
	return vn_dhcp_teardown(c, net, true, err);
}

/* ---- the start-up sweep ---- */

static bool vn_dhcp_served(struct vn_ctx *c, const char *id)
{
	const char(*kept)[37];
	size_t nkept = vn_persist_kept(c, &kept);
	struct vn_dhcp_ent *e;
	bool yes;

	/* a record set aside on load (quarantined) keeps what it names */
	for (size_t i = 0; i < nkept; i++)
		if (!strcmp(kept[i], id))
			return true;

	pthread_mutex_lock(&c->dhcp->mu);
	e = vn_ent_find(c->dhcp, id);
	yes = e && e->want;
	pthread_mutex_unlock(&c->dhcp->mu);
	return yes;
}

static void vn_dhcp_sweep_one(struct vn_ctx *c, const char *id)
{
	char dir[4200], ns[64];
	pid_t old = 0;

	snprintf(ns, sizeof(ns), VN_DHCP_NS_PREFIX "%s", id);
	snprintf(dir, sizeof(dir), "%s/dhcp/%s", c->opts.state_dir, id);
	if (vn_dnsmasq_end_stale(dir, ns, &old) == 0 && old)
		vn_info("ended stray dnsmasq (pid %d) of %s", (int)old, ns);
	vn_dhcp_rmdir(c, id);
	if (vn_own_has(c, VN_DHCP_OWN, ns)) {
		if (vn_netns_delete(ns) == 0)
			vn_own_del(c, VN_DHCP_OWN, ns);
		vn_info("removed stray namespace %s", ns);
	}
}

int vn_dhcp_sweep(struct vn_ctx *c)
{
	char **have = NULL;
	int top, r;

	if (!c->ns || c->state_fd < 0)
		return 0;
	r = vn_own_list(c, VN_DHCP_OWN, &have);
	if (r < 0)
		return r;
	for (size_t i = 0; have && have[i]; i++) {
		const char *id = have[i] + strlen(VN_DHCP_NS_PREFIX);

		if (strncmp(have[i], VN_DHCP_NS_PREFIX, strlen(VN_DHCP_NS_PREFIX)) ||
		    vn_dhcp_served(c, id))
			continue;
		vn_dhcp_sweep_one(c, id);
	}
	vn_strv_free(have);
	/* state directories of networks that are gone */
	top = openat(c->state_fd, "dhcp", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (top >= 0) {
		DIR *d = fdopendir(top);
		struct dirent *de;
		char **gone = NULL;
		size_t ng = 0;

		while (d && (de = readdir(d))) {
			char **nv;

			if (de->d_name[0] == '.' || strlen(de->d_name) != 36 ||
			    vn_dhcp_served(c, de->d_name))
				continue;
			nv = realloc(gone, (ng + 1) * sizeof(*nv));
			if (!nv)
				break;
			gone = nv;
			if ((gone[ng] = strdup(de->d_name)))
				ng++;
		}
		if (d)
			closedir(d);
		else
			close(top);
		for (size_t i = 0; i < ng; i++) {
			vn_dhcp_sweep_one(c, gone[i]);
			free(gone[i]);
		}
		free(gone);
	}
	return 0;
}
