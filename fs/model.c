// SPDX-License-Identifier: MIT
/*
 * Objects and collections: creation, lookup, deletion, status. Generic
 * over kinds; every kind-specific decision goes through its hooks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "vnetfs/ip.h"
#include "vnetfs/jobs.h"
#include "vnetfs/model.h"
#include "fs/dhcp.h"
#include "fs/internal.h"

const char *const vn_common_files[] = {"id", "status", "error", "json", NULL};

void vn_uuid(char out[37])
{
	uint8_t b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n > 0)
			got += (size_t)n;
	}
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

static void vn_global_key_free(struct lh_entry *e)
{
	free(lh_entry_k(e));
}

static void vn_coll_init_in_place(struct vn_coll *coll, const struct vn_kind *k,
				  struct vn_obj *owner, int *r)
{
	coll->kind = k;
	coll->owner = owner;
	coll->by_name = lh_kchar_table_new(16, NULL);
	if (!coll->by_name)
		*r = -ENOMEM;
}

int vn_ctx_init(struct vn_ctx *c, const struct vn_opts *opts)
{
	int r = 0;
	size_t n = 0;

	memset(c, 0, sizeof(*c));
	c->opts = *opts;
	c->state_fd = -1;
	pthread_mutex_init(&c->fh_mu, NULL);
	clock_gettime(CLOCK_REALTIME, &c->start);
	/* Writer-preferring: a steady stream of readers (find | xargs cat)
	 * must not keep a write out forever. The price: a thread holding the
	 * lock shared must never take it shared again (it would wait behind a
	 * queued writer); nothing does. */
	{
		pthread_rwlockattr_t la;
		int e = pthread_rwlockattr_init(&la);

		if (e == 0)
			e = pthread_rwlockattr_setkind_np(
				&la, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		if (e == 0)
			e = pthread_rwlock_init(&c->lock, &la);
		pthread_rwlockattr_destroy(&la);
		if (e)
			return -ENOMEM;
	}
	while (vn_root_kinds[n])
		n++;
	c->roots = calloc(n, sizeof(*c->roots));
	c->by_id = lh_kchar_table_new(256, NULL);
	c->globals = lh_kchar_table_new(64, vn_global_key_free);
	if (!c->roots || !c->by_id || !c->globals)
		return -ENOMEM;
	c->nroots = n;
	for (size_t i = 0; i < n && r == 0; i++)
		vn_coll_init_in_place(&c->roots[i], vn_root_kinds[i], NULL, &r);
	return r ?: vn_closer_init(c) ?: vn_dhcp_init(c) ?: vn_graph_init(c);
}

static void vn_obj_free(struct vn_obj *o)
{
	if (!o)
		return;
	if (o->ctx)
		vn_undo_forget(o->ctx, o);
	for (size_t i = 0; i < o->ncolls; i++)
		if (o->colls[i].by_name)
			lh_table_free(o->colls[i].by_name);
	free(o->colls);
	if (o->priv && o->kind->free_priv)
		o->kind->free_priv(o);
	free(o->priv);
	vn_scratch_free_all(o);
	json_object_put(o->props);
	free(o->error);
	free(o);
}

static void vn_coll_free_objs(struct vn_coll *coll)
{
	struct lh_entry *e, *next;

	if (!coll->by_name)
		return;
	for (e = coll->by_name->head; e; e = next) {
		struct vn_obj *o = lh_entry_v(e);

		next = e->next;
		for (size_t i = 0; i < o->ncolls; i++)
			vn_coll_free_objs(&o->colls[i]);
		vn_obj_free(o);
	}
}

void vn_ctx_fini(struct vn_ctx *c)
{
	vn_errlog_free(c);
	vn_graph_fini(c);
	for (size_t i = 0; i < c->nroots; i++) {
		vn_coll_free_objs(&c->roots[i]);
		if (c->roots[i].by_name)
			lh_table_free(c->roots[i].by_name);
	}
	free(c->roots);
	vn_undo_finish(c, false);
	free(c->undo);
	if (c->by_id)
		lh_table_free(c->by_id);
	if (c->globals)
		lh_table_free(c->globals);
	if (c->external_nets)
		lh_table_free(c->external_nets);
	vn_persist_close(c);
	if (c->state_fd >= 0)
		close(c->state_fd);
	vn_ctx_backend_fini(c);
	vn_closer_fini(c); /* after every namespace handle is closed */
	vn_dhcp_fini(c);
	vn_quota_fini(c);
	pthread_rwlock_destroy(&c->lock);
	pthread_mutex_destroy(&c->fh_mu);
}

struct vn_coll *vn_root_coll(struct vn_ctx *c, const struct vn_kind *k)
{
	for (size_t i = 0; i < c->nroots; i++)
		if (c->roots[i].kind == k)
			return &c->roots[i];
	return NULL;
}

struct vn_coll *vn_child_coll(struct vn_obj *o, const struct vn_kind *k)
{
	for (size_t i = 0; i < o->ncolls; i++)
		if (o->colls[i].kind == k)
			return &o->colls[i];
	return NULL;
}

struct vn_obj *vn_coll_find(struct vn_coll *coll, const char *name)
{
	void *v = NULL;

	if (!coll || !lh_table_lookup_ex(coll->by_name, name, &v))
		return NULL;
	return v;
}

size_t vn_coll_count(const struct vn_coll *coll)
{
	return (size_t)coll->by_name->count;
}

static void vn_global_key(char *buf, size_t len, const struct vn_kind *k, const char *name)
{
	snprintf(buf, len, "%s/%s", k->type, name);
}

struct vn_obj *vn_find_global(struct vn_ctx *c, const struct vn_kind *k, const char *name)
{
	char key[128];
	void *v = NULL;

	vn_global_key(key, sizeof(key), k, name);
	if (!lh_table_lookup_ex(c->globals, key, &v))
		return NULL;
	return v;
}

struct vn_obj *vn_find_id(struct vn_ctx *c, const char *id)
{
	void *v = NULL;

	if (!lh_table_lookup_ex(c->by_id, id, &v))
		return NULL;
	return v;
}

static int vn_foreach_in(struct vn_coll *coll, const struct vn_kind *k,
			 int (*cb)(struct vn_obj *o, void *arg), void *arg)
{
	struct vn_obj *o;
	int r;

	vn_coll_foreach(coll, o)
	{
		if (o->kind == k) {
			r = cb(o, arg);
			if (r)
				return r;
		}
		for (size_t i = 0; i < o->ncolls; i++) {
			r = vn_foreach_in(&o->colls[i], k, cb, arg);
			if (r)
				return r;
		}
	}
	return 0;
}

int vn_foreach_kind(struct vn_ctx *c, const struct vn_kind *k,
		    int (*cb)(struct vn_obj *o, void *arg), void *arg)
{
	for (size_t i = 0; i < c->nroots; i++) {
		int r = vn_foreach_in(&c->roots[i], k, cb, arg);

		if (r)
			return r;
	}
	return 0;
}

/* Put a new object into the model: tables only, no hooks, no I/O. props
 * (may be NULL) is consumed, also on failure. */
int vn_obj_attach(struct vn_ctx *c, struct vn_coll *coll, const char *name, const char *id,
		  uid_t uid, gid_t gid, struct json_object *props, struct vn_obj **out)
{
	const struct vn_kind *k = coll->kind;
	struct vn_obj *o;
	size_t n = 0;
	int r = vn_quota_obj_attach(c, uid);

	/* props is ours from here on, whatever happens */
	if (r < 0) {
		json_object_put(props);
		return r;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		json_object_put(props);
		return -ENOMEM;
	}
	o->ctx = c;
	o->kind = k;
	o->coll = coll;
	o->parent = coll->owner;
	snprintf(o->name, sizeof(o->name), "%s", name);
	if (id)
		snprintf(o->id, sizeof(o->id), "%s", id);
	else
		vn_uuid(o->id);
	o->uid = uid;
	o->gid = gid;
	clock_gettime(CLOCK_REALTIME, &o->ctime);
	o->mtime = o->ctime;
	o->props = props ? props : json_object_new_object();
	while (k->children && k->children[n])
		n++;
	o->ncolls = n;
	o->colls = n ? calloc(n, sizeof(*o->colls)) : NULL;
	if (k->priv_size)
		o->priv = calloc(1, k->priv_size);
	if (!o->props || (n && !o->colls) || (k->priv_size && !o->priv)) {
		vn_obj_free(o);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && r == 0; i++)
		vn_coll_init_in_place(&o->colls[i], k->children[i], o, &r);
	if (r < 0) {
		vn_obj_free(o);
		return r;
	}
	lh_table_insert(coll->by_name, o->name, o);
	lh_table_insert(c->by_id, o->id, o);
	if (k->global_names) {
		char key[128];

		vn_global_key(key, sizeof(key), k, o->name);
		lh_table_insert(c->globals, strdup(key), o);
	}
	vn_graph_attach(c, o);
	if (out)
		*out = o;
	return 0;
}

/* Take an object (without children) out of the tables and free it. */
static void vn_obj_detach(struct vn_ctx *c, struct vn_obj *o)
{
	vn_graph_detach(c, o);
	vn_quota_obj_detach(c, o);
	lh_table_delete(o->coll->by_name, o->name);
	lh_table_delete(c->by_id, o->id);
	if (o->kind->global_names) {
		char key[128];

		vn_global_key(key, sizeof(key), o->kind, o->name);
		lh_table_delete(c->globals, key);
	}
	vn_obj_free(o);
}

/* A create that cannot stand: tear down its kernel part, let what follows
 * it forget it, and take it out of the model; nothing is stored. */
static void vn_obj_create_undo(struct vn_ctx *c, struct vn_obj *o)
{
	struct vn_err undo = {0};

	c->persist_off++;
	if (o->kind->destroy)
		o->kind->destroy(c, o, &undo);
	o->deleting = true;
	vn_propagate(c, o, NULL, true, &undo);
	c->persist_off--;
	vn_obj_detach(c, o);
}

int vn_obj_create(struct vn_ctx *c, struct vn_coll *coll, const char *name, uid_t uid, gid_t gid,
		  struct json_object *props, struct vn_obj **out, struct vn_err *err)
{
	const struct vn_kind *k = coll->kind;
	struct vn_obj *o, *other;
	int r;

	if (vn_name_check(name) < 0) {
		json_object_put(props);
		return vn_fail(err, -EINVAL,
			       "'%s' is not a valid name: use 1 to 63 letters, digits, '.', '_' "
			       "or '-', not starting with '.'",
			       name);
	}
	if (vn_coll_find(coll, name)) {
		json_object_put(props);
		return vn_fail(err, -EEXIST, "%s '%s' already exists", k->type, name);
	}
	if (k->global_names && (other = vn_find_global(c, k, name))) {
		json_object_put(props);
		if (other->parent)
			return vn_fail(err, -EEXIST, "%s name '%s' is already used in %s '%s'",
				       k->type, name, other->parent->kind->type,
				       other->parent->name);
		return vn_fail(err, -EEXIST, "%s name '%s' is already used", k->type, name);
	}
	r = vn_obj_attach(c, coll, name, NULL, uid, gid, props, &o);
	if (r < 0) {
		return r == -EDQUOT
			       ? vn_quota_obj_fail(c, uid, err)
			       : vn_fail(err, r, "out of memory creating %s '%s'", k->type, name);
	}
	vn_txn_begin(c);
	if (k->create) {
		vn_graph_push(c, o);
		r = k->create(c, o, err);
		vn_graph_pop(c);
		if (r < 0) {
			vn_obj_detach(c, o);
			vn_txn_end(c, false);
			return r;
		}
	}
	/* what follows it (a network's addresses follow its subnets) */
	r = vn_propagate(c, o, NULL, false, err);
	if (r < 0) {
		vn_txn_end(c, false);
		vn_obj_create_undo(c, o);
		return r;
	}
	r = vn_obj_save_end(c, o);
	if (r < 0) {
		/* the store has none of it: take the kernel part back too */
		vn_obj_create_undo(c, o);
		return vn_fail(err, -EIO, "could not persist %s '%s': %s", k->type, name,
			       strerror(-r));
	}
	vn_changed(c, o, NULL);
	vn_changed(c, o->parent, NULL); /* its listing, its json */
	vn_info("created %s %s (%s)", k->type, name, o->id);
	if (out)
		*out = o;
	return 0;
}

/* rmdir must not half-delete: check the whole subtree first. Pinned by a
 * reference from outside the subtree (root): busy, generically; then what
 * only the kind can say. */
static int vn_obj_busy_tree(struct vn_ctx *c, struct vn_obj *root, struct vn_obj *o,
			    struct vn_err *err)
{
	struct vn_obj *child;
	int r;

	r = vn_graph_busy(c, root, o, err);
	if (r < 0)
		return r;
	if (o->kind->busy) {
		r = o->kind->busy(c, o, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < o->ncolls; i++) {
		vn_coll_foreach(&o->colls[i], child)
		{
			r = vn_obj_busy_tree(c, root, child, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Stage the removal of every record of the subtree, and mark it so that
 * no later save (a hook tidying a sibling) brings a row back. */
static int vn_obj_unstore_tree(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	struct vn_obj *child;
	int r;

	o->deleting = true;
	r = vn_persist_remove(c, o);
	if (r < 0)
		return vn_fail(err, -EIO, "could not remove the state of %s '%s': %s",
			       o->kind->type, o->name, strerror(-r));
	for (size_t i = 0; i < o->ncolls; i++) {
		vn_coll_foreach(&o->colls[i], child)
		{
			r = vn_obj_unstore_tree(c, child, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static void vn_obj_undelete_tree(struct vn_obj *o)
{
	struct vn_obj *child;

	o->deleting = false;
	for (size_t i = 0; i < o->ncolls; i++) {
		vn_coll_foreach(&o->colls[i], child)
		{
			vn_obj_undelete_tree(child);
		}
	}
}

/* Tear down the kernel side, children first, later collections first
 * (ports before subnets). Each object whose destroy ran is pushed on
 * done[] so a failure can make it real again. */
struct vn_done {
	struct vn_obj **v;
	size_t n, cap;
};

static int vn_obj_destroy_tree(struct vn_ctx *c, struct vn_obj *o, struct vn_done *done,
			       struct vn_err *err)
{
	struct vn_obj *child;
	int r;

	for (size_t i = o->ncolls; i-- > 0;) {
		vn_coll_foreach(&o->colls[i], child)
		{
			r = vn_obj_destroy_tree(c, child, done, err);
			if (r < 0)
				return r;
		}
	}
	if (done->n == done->cap) {
		size_t cap = done->cap ? done->cap * 2 : 16;
		struct vn_obj **nv = realloc(done->v, cap * sizeof(*nv));

		if (!nv)
			return vn_fail(err, -ENOMEM, "out of memory");
		done->v = nv;
		done->cap = cap;
	}
	if (o->kind->destroy) {
		vn_graph_push(c, o);
		r = o->kind->destroy(c, o, err);
		vn_graph_pop(c);
		if (r < 0)
			return r;
	}
	done->v[done->n++] = o;
	return 0;
}

/* What followed the objects going away follows their absence (or, with
 * undo, their return). */
static int vn_obj_propagate_done(struct vn_ctx *c, struct vn_done *done, bool undo,
				 struct vn_err *err)
{
	for (size_t i = 0; i < done->n; i++) {
		int r = vn_propagate(c, done->v[i], NULL, undo, err);

		if (r < 0 && !undo)
			return r;
	}
	return 0;
}

/* Make what was torn down real again (parents first). */
static void vn_obj_redo(struct vn_ctx *c, struct vn_done *done)
{
	c->persist_off++;
	for (size_t i = done->n; i-- > 0;) {
		struct vn_obj *o = done->v[i];
		struct vn_err e = {0};

		if (o->kind->reconcile && o->kind->reconcile(c, o, &e) < 0) {
			o->failed = true;
			vn_obj_set_error(o, &e);
		}
	}
	c->persist_off--;
}

static void vn_obj_detach_tree(struct vn_ctx *c, struct vn_obj *o)
{
	for (size_t i = o->ncolls; i-- > 0;) {
		struct vn_coll *coll = &o->colls[i];

		while (coll->by_name->head)
			vn_obj_detach_tree(c, lh_entry_v(coll->by_name->head));
	}
	vn_changed(c, o, NULL);
	vn_changed(c, o->parent, NULL);
	vn_info("deleted %s %s (%s)", o->kind->type, o->name, o->id);
	vn_obj_detach(c, o);
}

/* The store first (one transaction with everything the delete touches),
 * then the kernel; a failure after the kernel step makes it real again. */
int vn_obj_delete(struct vn_ctx *c, struct vn_obj *o, bool force, struct vn_err *err)
{
	struct vn_done done = {0};
	int r;

	if (!force && o->kind->kept && o->kind->kept(c, o))
		return 0; /* its owner's: rmdir succeeds without effect */
	if (!force) {
		r = vn_obj_busy_tree(c, o, o, err);
		if (r < 0)
			return r;
	}
	vn_txn_begin(c);
	r = vn_obj_unstore_tree(c, o, err);
	if (r < 0) {
		vn_obj_undelete_tree(o);
		vn_txn_end(c, false);
		return r;
	}
	r = vn_obj_destroy_tree(c, o, &done, err);
	if (r == 0)
		r = vn_obj_propagate_done(c, &done, false, err);
	if (r < 0) {
		struct vn_err e = {0};

		vn_obj_undelete_tree(o);
		vn_txn_end(c, false);
		vn_obj_redo(c, &done);
		c->persist_off++;
		vn_obj_propagate_done(c, &done, true, &e);
		c->persist_off--;
		free(done.v);
		return r;
	}
	r = vn_txn_end(c, true);
	if (r < 0) {
		struct vn_err e = {0};

		vn_obj_undelete_tree(o);
		vn_obj_redo(c, &done);
		c->persist_off++;
		vn_obj_propagate_done(c, &done, true, &e);
		c->persist_off--;
		free(done.v);
		return vn_fail(err, -EIO, "could not persist the removal of %s '%s': %s",
			       o->kind->type, o->name, strerror(-r));
	}
	free(done.v);
	vn_obj_detach_tree(c, o);
	return 0;
}

void vn_changed(struct vn_ctx *c, struct vn_obj *o, const char *name)
{
	if (c && c->on_change && !c->loading)
		c->on_change(c->on_change_arg, o, name);
}

void vn_obj_set_error(struct vn_obj *o, const struct vn_err *err)
{
	vn_changed(o->ctx, o, "error");
	free(o->error);
	o->error = strdup(err->msg[0] ? err->msg : strerror(-err->code));
	vn_log(VN_LOG_WARN, err->code, "%s %s: %s", o->kind->type, o->name, o->error);
	vn_errlog_note(o->ctx, o, err->code, o->error);
}

void vn_obj_clear_error(struct vn_obj *o)
{
	if (o->error)
		vn_changed(o->ctx, o, "error");
	free(o->error);
	o->error = NULL;
}

const char *vn_obj_status(struct vn_ctx *c, struct vn_obj *o)
{
	if (o->failed || o->damaged)
		return "ERROR";
	if (o->kind->status)
		return o->kind->status(c, o);
	return "ACTIVE";
}

const struct vn_kind *vn_kind_by_type(const char *type)
{
	for (size_t i = 0; vn_all_kinds[i]; i++)
		if (!strcmp(vn_all_kinds[i]->type, type))
			return vn_all_kinds[i];
	return NULL;
}
