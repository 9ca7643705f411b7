// SPDX-License-Identifier: MIT
/*
 * The kind registry, the first-start defaults, and start-up: load the
 * state, create the defaults once, reconcile every object, sweep orphans.
 * A new kind is one fs/kind_*.c file plus one line in the tables below.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnetfs/backend.h"
#include "vnetfs/jobs.h"
#include "vnetfs/model.h"
#include "fs/internal.h"
#include "fs/kinds.h"

/* Top-level directories, in `ls` order. */
const struct vn_kind *const vn_root_kinds[] = {
	&vn_kind_network,
	&vn_kind_router,
	&vn_kind_flavor,
	&vn_kind_secgroup,
	NULL,
};

/* Every kind, for loading state files by their "type". */
const struct vn_kind *const vn_all_kinds[] = {
	&vn_kind_network, &vn_kind_subnet, &vn_kind_port,     &vn_kind_router,
	&vn_kind_flavor,  &vn_kind_secgroup, NULL,
};

int vn_ctx_backend_init(struct vn_ctx *c)
{
	int r = vn_ns_open(c->opts.netns, true, &c->ns);

	vn_ns_set_closer(c->ns, vn_ctx_closer(c));
	if (r < 0)
		return vn_err(r, "cannot open network namespace %s",
			      c->opts.netns ? c->opts.netns : "(current)");
	return 0;
}

void vn_ctx_backend_fini(struct vn_ctx *c)
{
	vn_secgroup_fini(c);
	if (c->ns)
		vn_ns_close(c->ns);
	c->ns = NULL;
}

static int vn_default(struct vn_ctx *c, const struct vn_kind *k, struct vn_obj *parent,
		      const char *name, const char *json_props, struct vn_obj **out)
{
	struct vn_coll *coll = parent ? vn_child_coll(parent, k) : vn_root_coll(c, k);
	struct json_object *props = json_tokener_parse(json_props);
	struct vn_err err = {0};
	int r;

	if (!props)
		return -EINVAL;
	if (vn_coll_find(coll, name)) {
		json_object_put(props);
		return 0;
	}
	r = vn_obj_create(c, coll, name, 0, 0, props, out, &err);
	if (r < 0)
		return vn_err(r, "cannot create default %s %s: %s", k->type, name, err.msg);
	return 0;
}

int vn_create_defaults(struct vn_ctx *c)
{
	struct vn_obj *pub = NULL;
	int r = 0;

	r = r
		    ?: vn_default(c, &vn_kind_flavor, NULL, "m1.nano",
				  "{\"vcpus\":1,\"ram\":64,\"disk\":0}", NULL);
	r = r
		    ?: vn_default(c, &vn_kind_flavor, NULL, "m1.tiny",
				  "{\"vcpus\":1,\"ram\":512,\"disk\":1}", NULL);
	r = r
		    ?: vn_default(c, &vn_kind_flavor, NULL, "m1.small",
				  "{\"vcpus\":1,\"ram\":2048,\"disk\":20}", NULL);
	if (r < 0 || c->opts.no_defaults)
		return r;
	/* devstack's public network: br-ex with 172.24.4.1, its subnet
	 * without DHCP (devstack's --no-dhcp) */
	r = vn_default(c, &vn_kind_network, NULL, "public", "{\"external\":1}", &pub);
	if (r < 0 || !pub)
		return r;
	return vn_default(c, &vn_kind_subnet, pub, "public-subnet",
			  "{\"cidr\":\"172.24.4.0/24\",\"enable_dhcp\":0}", NULL);
}

struct vn_sweep_names {
	void (*name)(const struct vn_obj *o, char *buf);
	char (*v)[64];
	size_t n, cap;
};

static int vn_sweep_collect(struct vn_obj *o, void *arg)
{
	struct vn_sweep_names *s = arg;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char(*nv)[64] = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->name(o, s->v[s->n++]);
	return 0;
}

int vn_sweep(struct vn_ctx *c, const struct vn_kind *k,
	     void (*name)(const struct vn_obj *o, char *buf), char **have,
	     int (*drop)(struct vn_ctx *c, const char *name), const char *what)
{
	struct vn_sweep_names keep = {.name = name};
	int r = vn_foreach_kind(c, k, vn_sweep_collect, &keep);
	const char(*kept)[37];
	size_t nkept = vn_persist_kept(c, &kept);

	/* what records set aside on load would name: theirs, not strays */
	for (size_t i = 0; r == 0 && i < nkept; i++) {
		struct vn_obj ghost = {.kind = k};

		memcpy(ghost.id, kept[i], sizeof(ghost.id));
		r = vn_sweep_collect(&ghost, &keep);
	}

	/* a hash set of our names: one lookup per kernel object */
	struct lh_table *ours = r == 0 ? lh_kchar_table_new(keep.n + 16, NULL) : NULL;

	if (r == 0 && !ours)
		r = -ENOMEM;
	for (size_t j = 0; r == 0 && j < keep.n; j++)
		lh_table_insert(ours, keep.v[j], NULL);
	for (size_t i = 0; r == 0 && have && have[i]; i++) {
		if (lh_table_lookup_entry(ours, have[i]))
			continue;
		vn_info("removing stray %s %s", what, have[i]);
		drop(c, have[i]);
	}
	if (ours)
		lh_table_free(ours);
	free(keep.v);
	return r;
}

int vn_sweep_link(struct vn_ctx *c, const char *name)
{
	return vn_link_delete(c->ns, name);
}

/*
 * Reconcile in dependency order. Every object of a kind comes after every
 * object of the kinds before it in this table, parents before children
 * within a kind (tree order). A router's namespace and forwarding so come
 * before its legs (ports under networks, which a router does not own in
 * the tree), networks before the subnets that address their bridges.
 * What depends the other way (a router's routes and NAT need its legs'
 * addresses when the kernel state is gone) fails on the first try and
 * works on a retry: three tries, the later ones after a short wait (the
 * lock is let go meanwhile); what still fails is ERROR with its `error`.
 * Kinds missing from the table come last, in vn_all_kinds order.
 */
static const struct vn_kind *const vn_reconcile_order[] = {
	&vn_kind_network, &vn_kind_subnet, &vn_kind_flavor,
	&vn_kind_router,  &vn_kind_secgroup, &vn_kind_port, NULL,
};

#define VN_RECONCILE_TRIES 3
static const unsigned vn_reconcile_wait_ms[VN_RECONCILE_TRIES] = {0, 50, 200};

struct vn_reconcile_item {
	char id[37]; /* looked up again: a reconcile may delete (a leg) */
	bool done;
	struct vn_err err;
};

struct vn_reconcile_list {
	struct vn_reconcile_item *v;
	size_t n, cap;
};

static int vn_reconcile_collect(struct vn_obj *o, void *arg)
{
	struct vn_reconcile_list *l = arg;

	if (!o->kind->reconcile)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct vn_reconcile_item *nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	memcpy(l->v[l->n].id, o->id, sizeof(o->id));
	l->n++;
	return 0;
}

static bool vn_reconcile_listed(const struct vn_kind *k)
{
	for (size_t i = 0; vn_reconcile_order[i]; i++)
		if (vn_reconcile_order[i] == k)
			return true;
	return false;
}

/* Every object to reconcile, in dependency order. */
static int vn_reconcile_coll(struct vn_ctx *c, struct vn_reconcile_list *l)
{
	int r = 0;

	for (size_t i = 0; r == 0 && vn_reconcile_order[i]; i++)
		r = vn_foreach_kind(c, vn_reconcile_order[i], vn_reconcile_collect, l);
	for (size_t i = 0; r == 0 && vn_all_kinds[i]; i++)
		if (!vn_reconcile_listed(vn_all_kinds[i]))
			r = vn_foreach_kind(c, vn_all_kinds[i], vn_reconcile_collect, l);
	return r;
}

/* With the write lock held; lets it go while waiting between tries. */
static int vn_reconcile_all(struct vn_ctx *c)
{
	struct vn_reconcile_list l = {0};
	size_t left;
	int r = vn_reconcile_coll(c, &l);

	if (r < 0) {
		free(l.v);
		return vn_err(r, "cannot list the objects to reconcile");
	}
	left = l.n;
	for (unsigned t = 0; t < VN_RECONCILE_TRIES && left; t++) {
		if (vn_reconcile_wait_ms[t]) {
			struct timespec ts = {0, (long)vn_reconcile_wait_ms[t] * 1000000L};

			pthread_rwlock_unlock(&c->lock);
			nanosleep(&ts, NULL);
			pthread_rwlock_wrlock(&c->lock);
		}
		for (size_t i = 0; i < l.n; i++) {
			struct vn_reconcile_item *it = &l.v[i];
			struct vn_obj *o;

			if (it->done)
				continue;
			o = vn_find_id(c, it->id);
			if (!o || o->deleting) {
				it->done = true; /* removed meanwhile (a router's leg) */
				left--;
				continue;
			}
			memset(&it->err, 0, sizeof(it->err));
			if (o->kind->reconcile(c, o, &it->err) == 0) {
				it->done = true;
				left--;
				o->failed = false;
			} else if (t + 1 < VN_RECONCILE_TRIES) {
				vn_debug("reconcile %s %s, try %u: %s; trying again", o->kind->type,
					 o->name, t + 1, it->err.msg);
			}
		}
	}
	for (size_t i = 0; i < l.n; i++) {
		struct vn_obj *o = l.v[i].done ? NULL : vn_find_id(c, l.v[i].id);

		if (!o)
			continue;
		if (!l.v[i].err.code)
			l.v[i].err.code = -EIO;
		o->failed = true;
		vn_obj_set_error(o, &l.v[i].err);
		vn_warn(0, "%s %s is not as the model says after %d tries", o->kind->type, o->name,
			VN_RECONCILE_TRIES);
	}
	free(l.v);
	return 0;
}

static int vn_ctx_start_locked(struct vn_ctx *c)
{
	int r;

	r = vn_persist_open(c);
	if (r < 0)
		return r;
	r = vn_ctx_backend_init(c);
	if (r < 0)
		return r;
	c->loading = true;
	r = vn_persist_load(c);
	c->loading = false;
	if (r < 0)
		return vn_err(r, "cannot load state from %s", c->opts.state_dir);
	/* In dependency order, with retries; then each kind removes the
	 * kernel objects with its prefix that the model lacks. */
	r = vn_reconcile_all(c);
	if (r < 0)
		return r;
	for (size_t i = 0; vn_all_kinds[i]; i++)
		if (vn_all_kinds[i]->sweep)
			vn_all_kinds[i]->sweep(c);
	if (!vn_persist_initialized(c)) {
		r = vn_create_defaults(c);
		if (r < 0)
			return r;
		r = vn_persist_mark_initialized(c);
		if (r < 0)
			return vn_err(r, "cannot write %s/objects/.initialized", c->opts.state_dir);
	}
	return 0;
}

/* The job workers may run already (fs/main.c starts them first): all of
 * start-up happens under the write lock. */
int vn_ctx_start(struct vn_ctx *c)
{
	int r;

	pthread_rwlock_wrlock(&c->lock);
	c->caller_uid = 0;
	r = vn_ctx_start_locked(c);
	pthread_rwlock_unlock(&c->lock);
	return r;
}
