// SPDX-License-Identifier: MIT
/*
 * The object graph: who names whom, kept by the generic layer in both
 * directions, and change propagation along it.
 *
 * References are data in the attribute tables (struct vn_attr.ref): the
 * value, or each line's first word, names an object of a kind, looked up
 * in a scope (tree-wide names, the top-level collection, the referrer's
 * parent). The rest of the line is a value the referrer holds on its
 * target (a port's address on a subnet); the target indexes them. An
 * implicit object has a typed owner, kept in its props as "_owner":
 * {"id", "role"} and seen here as an edge with attr NULL.
 *
 * Edges follow the props exactly: every change of a referring value
 * (vn_set, hence every write, every kind's own values, every undo replayed
 * at a rollback) recomputes that attribute's edges of that object, at the
 * cost of its lines. A reference to a name that does not exist (yet)
 * waits in the index under that name and binds when an object of that
 * name arrives; edges naming an object that leaves wait again. While
 * loading nothing is computed: the first use afterwards builds every
 * edge at once (and derives typed owners for records of older versions).
 *
 * The index is one hash table of buckets: waiting edges by name, values
 * held on a target ("v" target attr value) and the unique values of a
 * collection ("u" coll attr value), so "who holds 10.0.0.5 on subnet S"
 * or "which port of this network has MAC M" is one lookup.
 *
 * Propagation: a kind declares what it follows (struct vn_dep). When an
 * object changes, its dependents (found through parent, children, edges
 * and owner: never a scan of the tree) are collected depth first and
 * synced in dependency order, each once, inside the change's transaction;
 * the objects whose own hooks are running (vn_graph_push) are never made
 * dirty by what they do themselves.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetfs/model.h"
#include "fs/internal.h"

struct vn_bucket {
	char *key;
	struct vn_hold *head;
};

struct vn_uhold {
	struct vn_hold h;
	const struct vn_attr *a;
	struct vn_uhold *next;
};

struct vn_graph {
	struct lh_table *index; /* key -> struct vn_bucket */
	/* Objects were loaded: every edge is built at the first use, which
	 * may be a reader's (shared lock): under mu, published by stale. */
	bool stale;
	bool building;
	pthread_mutex_t mu;
	struct vn_obj **stack; /* objects whose own hooks are running */
	size_t nstack, capstack;
};

static void vn_bucket_free(struct lh_entry *e)
{
	struct vn_bucket *b = (struct vn_bucket *)lh_entry_v(e);

	free(b->key);
	free(b);
}

int vn_graph_init(struct vn_ctx *c)
{
	pthread_mutexattr_t ma;

	c->graph = calloc(1, sizeof(*c->graph));
	if (!c->graph)
		return -ENOMEM;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&c->graph->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	c->graph->index = lh_kchar_table_new(256, vn_bucket_free);
	return c->graph->index ? 0 : -ENOMEM;
}

/* ---- buckets ---- */

static struct vn_bucket *vn_bucket_get(struct vn_graph *g, const char *key)
{
	void *v = NULL;

	return lh_table_lookup_ex(g->index, key, &v) ? v : NULL;
}

static void vn_hold_add(struct vn_graph *g, const char *key, struct vn_hold *h, void *who)
{
	struct vn_bucket *b = vn_bucket_get(g, key);

	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return;
		b->key = strdup(key);
		if (!b->key) {
			free(b);
			return;
		}
		lh_table_insert(g->index, b->key, b);
	}
	h->who = who;
	h->b = b;
	h->next = b->head;
	if (b->head)
		b->head->pprev = &h->next;
	h->pprev = &b->head;
	b->head = h;
}

static void vn_hold_del(struct vn_graph *g, struct vn_hold *h)
{
	struct vn_bucket *b = h->b;

	if (!b)
		return;
	*h->pprev = h->next;
	if (h->next)
		h->next->pprev = h->pprev;
	h->b = NULL;
	h->next = NULL;
	h->pprev = NULL;
	if (!b->head)
		lh_table_delete(g->index, b->key);
}

static char *vn_key(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *vn_key(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* ---- resolving names ---- */

static struct vn_obj *vn_resolve(struct vn_ctx *c, struct vn_obj *from, const struct vn_attr *a,
				 const char *name)
{
	if (!a)
		return vn_find_id(c, name);
	switch (a->ref_scope) {
	case VN_REF_GLOBAL:
		return vn_find_global(c, a->ref, name);
	case VN_REF_ROOT:
		return vn_coll_find(vn_root_coll(c, a->ref), name);
	case VN_REF_PARENT:
		return from->parent ? vn_coll_find(vn_child_coll(from->parent, a->ref), name)
				    : NULL;
	}
	return NULL;
}

/* The key an edge waits under while its name resolves to nothing. */
static char *vn_wait_key(struct vn_obj *from, const struct vn_attr *a, const char *name)
{
	if (!a)
		return vn_key("i\x1f%s", name);
	if (a->ref_scope == VN_REF_PARENT)
		return vn_key("p\x1f%s\x1f%s\x1f%s", a->ref->type,
			      from->parent ? from->parent->id : "", name);
	return vn_key("n\x1f%s\x1f%s", a->ref->type, name);
}

/* ---- edges ---- */

static void vn_edge_bind(struct vn_graph *g, struct vn_edge *e, struct vn_obj *to)
{
	e->to = to;
	e->in_next = to->refs_in;
	if (to->refs_in)
		to->refs_in->in_pprev = &e->in_next;
	e->in_pprev = &to->refs_in;
	to->refs_in = e;
	if (e->attr && e->value) {
		char *k = vn_key("v\x1f%p\x1f%s\x1f%s", (void *)to, e->attr->name, e->value);

		if (k)
			vn_hold_add(g, k, &e->val, e);
		free(k);
	}
}

/* Take e off its target; with wait, it waits for its name again. */
static void vn_edge_unbind(struct vn_graph *g, struct vn_edge *e, bool wait)
{
	struct vn_obj *to = e->to;

	if (to) {
		*e->in_pprev = e->in_next;
		if (e->in_next)
			e->in_next->in_pprev = e->in_pprev;
		e->in_next = NULL;
		e->in_pprev = NULL;
		e->to = NULL;
		if (e->val.b) {
			vn_hold_del(g, &e->val);
			if (to->kind->released)
				to->kind->released(to, e);
		}
	}
	if (wait && e->key && !e->dang.b)
		vn_hold_add(g, e->key, &e->dang, e);
}

static void vn_edge_free(struct vn_graph *g, struct vn_edge *e)
{
	vn_edge_unbind(g, e, false);
	vn_hold_del(g, &e->dang);
	free(e->value);
	free(e->key);
	free(e);
}

static void vn_edge_add(struct vn_ctx *c, struct vn_obj *from, const struct vn_attr *a,
			const char *name, const char *role, const char *value)
{
	struct vn_edge *e = calloc(1, sizeof(*e));
	struct vn_obj *to;

	if (!e)
		return;
	e->from = from;
	e->attr = a;
	e->pins = a && a->pins;
	snprintf(e->role, sizeof(e->role), "%s", role);
	e->value = value && *value ? strdup(value) : NULL;
	e->key = vn_wait_key(from, a, name);
	e->out_next = from->refs_out;
	from->refs_out = e;
	to = vn_resolve(c, from, a, name);
	if (to)
		vn_edge_bind(c->graph, e, to);
	else
		vn_edge_unbind(c->graph, e, true);
}

/* Drop from's edges through attribute a (NULL: the owner edge). */
static void vn_edges_drop(struct vn_graph *g, struct vn_obj *from, const struct vn_attr *a,
			  bool all)
{
	struct vn_edge **pp = &from->refs_out;

	while (*pp) {
		struct vn_edge *e = *pp;

		if (all || e->attr == a) {
			*pp = e->out_next;
			vn_edge_free(g, e);
		} else {
			pp = &e->out_next;
		}
	}
}

static bool vn_is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* One value or line: "NAME [REST]". */
static void vn_edge_line(struct vn_ctx *c, struct vn_obj *from, const struct vn_attr *a,
			 const char *line)
{
	size_t l = 0;
	char name[64];

	if (a->ref_name) {
		if (a->ref_name(line, name))
			vn_edge_add(c, from, a, name, a->role ? a->role : a->name, NULL);
		return;
	}
	while (line[l] && !vn_is_blank(line[l]))
		l++;
	if (l == 0 || l >= sizeof(name))
		return; /* names no object (its syntax check says why) */
	memcpy(name, line, l);
	name[l] = '\0';
	while (vn_is_blank(line[l]))
		l++;
	vn_edge_add(c, from, a, name, a->role ? a->role : a->name, line + l);
}

static void vn_edges_attr(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a)
{
	struct json_object *v = NULL;

	vn_edges_drop(c->graph, o, a, false);
	if (!json_object_object_get_ex(o->props, a->name, &v) || !v)
		return;
	if (json_object_is_type(v, json_type_string)) {
		vn_edge_line(c, o, a, json_object_get_string(v));
		return;
	}
	if (!json_object_is_type(v, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *item = json_object_array_get_idx(v, i);

		if (json_object_is_type(item, json_type_string))
			vn_edge_line(c, o, a, json_object_get_string(item));
	}
}

#define VN_OWNER_KEY "_owner"

static void vn_edges_owner(struct vn_ctx *c, struct vn_obj *o)
{
	struct json_object *v = NULL, *id = NULL, *role = NULL;

	vn_edges_drop(c->graph, o, NULL, false);
	if (!json_object_object_get_ex(o->props, VN_OWNER_KEY, &v) ||
	    !json_object_is_type(v, json_type_object) || !json_object_object_get_ex(v, "id", &id) ||
	    !json_object_is_type(id, json_type_string))
		return;
	json_object_object_get_ex(v, "role", &role);
	vn_edge_add(c, o, NULL, json_object_get_string(id),
		    json_object_is_type(role, json_type_string) ? json_object_get_string(role)
								: "owner",
		    NULL);
}

/* ---- unique values of a collection ---- */

static void vn_uniq_attr(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, bool add)
{
	struct vn_uhold **pp = &o->uniq;
	struct json_object *v = NULL;
	struct vn_uhold *u;
	char *k;

	while (*pp) {
		u = *pp;
		if (u->a == a) {
			*pp = u->next;
			vn_hold_del(c->graph, &u->h);
			free(u);
		} else {
			pp = &u->next;
		}
	}
	if (!add || !json_object_object_get_ex(o->props, a->name, &v) ||
	    !json_object_is_type(v, json_type_string) || !*json_object_get_string(v))
		return;
	u = calloc(1, sizeof(*u));
	k = vn_key("u\x1f%p\x1f%s\x1f%s", (void *)o->coll, a->name, json_object_get_string(v));
	if (!u || !k) {
		free(u);
		free(k);
		return;
	}
	u->a = a;
	vn_hold_add(c->graph, k, &u->h, o);
	free(k);
	u->next = o->uniq;
	o->uniq = u;
}

/* ---- objects ---- */

/* Every edge and unique value of o, from its props. */
static void vn_graph_compute(struct vn_ctx *c, struct vn_obj *o)
{
	for (const struct vn_attr *a = o->kind->attrs; a && a->name; a++) {
		if (a->ref)
			vn_edges_attr(c, o, a);
		if (a->unique)
			vn_uniq_attr(c, o, a, true);
	}
	vn_edges_owner(c, o);
}

/* Edges that waited for o's name (or id) now name it. */
static void vn_graph_bind_waiting(struct vn_ctx *c, struct vn_obj *o)
{
	char *keys[3] = {NULL, NULL, NULL};
	size_t n = 0;

	if (o->kind->global_names || !o->parent)
		keys[n++] = vn_key("n\x1f%s\x1f%s", o->kind->type, o->name);
	if (o->parent)
		keys[n++] = vn_key("p\x1f%s\x1f%s\x1f%s", o->kind->type, o->parent->id, o->name);
	keys[n++] = vn_key("i\x1f%s", o->id);
	for (size_t i = 0; i < n; i++) {
		struct vn_bucket *b = keys[i] ? vn_bucket_get(c->graph, keys[i]) : NULL;
		struct vn_hold *h, *next;

		if (!b)
			continue;
		/* the bucket goes away with its last hold: detach the list */
		for (h = b->head; h; h = next) {
			struct vn_edge *e = h->who;
			char name[64];
			const char *nm;

			next = h->next;
			nm = strrchr(e->key, '\x1f');
			snprintf(name, sizeof(name), "%s", nm ? nm + 1 : "");
			if (vn_resolve(c, e->from, e->attr, name) != o)
				continue;		 /* same name, another scope */
			vn_hold_del(c->graph, &e->dang); /* may free b: next is kept */
			vn_edge_bind(c->graph, e, o);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
}

/* A record of an earlier version: its typed owner from what it has. */
static void vn_graph_legacy_owner(struct vn_ctx *c, struct vn_obj *o)
{
	const char *role = NULL;
	struct vn_obj *owner;

	if (o->kind->legacy_owner && !json_object_object_get_ex(o->props, VN_OWNER_KEY, NULL) &&
	    (owner = o->kind->legacy_owner(c, o, &role)))
		vn_owner_props(o->props, owner, role);
}

static void vn_graph_rebuild_in(struct vn_ctx *c, struct vn_coll *coll, int pass)
{
	struct vn_obj *o;

	vn_coll_foreach(coll, o)
	{
		if (pass == 0) {
			vn_edges_drop(c->graph, o, NULL, true);
			for (const struct vn_attr *a = o->kind->attrs; a && a->name; a++)
				if (a->unique)
					vn_uniq_attr(c, o, a, false);
		} else {
			vn_graph_legacy_owner(c, o);
			vn_graph_compute(c, o);
			vn_graph_bind_waiting(c, o);
		}
		for (size_t i = 0; i < o->ncolls; i++)
			vn_graph_rebuild_in(c, &o->colls[i], pass);
	}
}

/* After a load: every edge at once. */
static void vn_graph_ready(struct vn_ctx *c)
{
	struct vn_graph *g = c->graph;

	if (!g || c->loading || !__atomic_load_n(&g->stale, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&g->mu);
	if (g->stale && !g->building) {
		g->building = true;
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < c->nroots; i++)
				vn_graph_rebuild_in(c, &c->roots[i], pass);
		g->building = false;
		__atomic_store_n(&g->stale, false, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&g->mu);
}

void vn_graph_attach(struct vn_ctx *c, struct vn_obj *o)
{
	if (!c->graph)
		return;
	if (c->loading) {
		__atomic_store_n(&c->graph->stale, true, __ATOMIC_RELEASE);
		return;
	}
	vn_graph_ready(c);
	vn_graph_legacy_owner(c, o);
	vn_graph_compute(c, o);
	vn_graph_bind_waiting(c, o);
}

void vn_graph_detach(struct vn_ctx *c, struct vn_obj *o)
{
	if (!c->graph)
		return;
	vn_graph_ready(c);
	vn_edges_drop(c->graph, o, NULL, true);
	for (const struct vn_attr *a = o->kind->attrs; a && a->name; a++)
		if (a->unique)
			vn_uniq_attr(c, o, a, false);
	while (o->refs_in)
		vn_edge_unbind(c->graph, o->refs_in, true);
}

void vn_graph_prop(struct vn_obj *o, const char *name)
{
	struct vn_ctx *c = o->ctx;
	const struct vn_attr *a;

	if (!c || !c->graph || c->loading || c->graph->stale || c->graph->building || !o->coll)
		return;
	if (!strcmp(name, VN_OWNER_KEY)) {
		vn_edges_owner(c, o);
		return;
	}
	a = vn_attr_find(o->kind, name);
	if (a && a->ref)
		vn_edges_attr(c, o, a);
	if (a && a->unique)
		vn_uniq_attr(c, o, a, true);
}

/* Free everything without unlinking (the whole model goes). */
static void vn_graph_free_in(struct vn_ctx *c, struct vn_coll *coll)
{
	struct vn_obj *o;

	vn_coll_foreach(coll, o)
	{
		vn_graph_detach(c, o);
		for (size_t i = 0; i < o->ncolls; i++)
			vn_graph_free_in(c, &o->colls[i]);
	}
}

void vn_graph_fini(struct vn_ctx *c)
{
	if (!c->graph)
		return;
	c->graph->stale = false;
	for (size_t i = 0; i < c->nroots; i++)
		if (c->roots[i].by_name)
			vn_graph_free_in(c, &c->roots[i]);
	if (c->graph->index)
		lh_table_free(c->graph->index);
	free(c->graph->stack);
	pthread_mutex_destroy(&c->graph->mu);
	free(c->graph);
	c->graph = NULL;
}

/* ---- lookups ---- */

struct vn_edge *vn_refs_in(struct vn_obj *o)
{
	if (o->ctx)
		vn_graph_ready(o->ctx);
	return o->refs_in;
}

struct vn_edge *vn_refs_out(struct vn_obj *o)
{
	if (o->ctx)
		vn_graph_ready(o->ctx);
	return o->refs_out;
}

struct vn_obj *vn_owner_of(struct vn_obj *o, const char **role)
{
	if (o->ctx)
		vn_graph_ready(o->ctx);
	vn_refs_out_foreach(o, e)
	{
		if (e->attr || !e->to)
			continue;
		if (role)
			*role = e->role;
		return e->to;
	}
	return NULL;
}

void vn_owner_props(struct json_object *props, struct vn_obj *owner, const char *role)
{
	struct json_object *j = json_object_new_object();

	if (!j)
		return;
	json_object_object_add(j, "id", json_object_new_string(owner->id));
	json_object_object_add(j, "role", json_object_new_string(role ? role : "owner"));
	json_object_object_add(props, VN_OWNER_KEY, j);
}

struct vn_obj *vn_ref_holder(struct vn_obj *target, const char *attr, const char *value,
			     struct vn_obj *except)
{
	struct vn_ctx *c = target->ctx;
	struct vn_bucket *b;
	char *k;

	if (!c || !c->graph)
		return NULL;
	vn_graph_ready(c);
	k = vn_key("v\x1f%p\x1f%s\x1f%s", (void *)target, attr, value);
	b = k ? vn_bucket_get(c->graph, k) : NULL;
	free(k);
	for (struct vn_hold *h = b ? b->head : NULL; h; h = h->next) {
		struct vn_edge *e = h->who;

		if (e->from != except)
			return e->from;
	}
	return NULL;
}

struct vn_obj *vn_unique_holder(struct vn_coll *coll, const char *attr, const char *value,
				struct vn_obj *except)
{
	struct vn_obj *any = coll->by_name->head ? lh_entry_v(coll->by_name->head) : NULL;
	struct vn_ctx *c = any ? any->ctx : NULL;
	struct vn_bucket *b;
	char *k;

	if (!c || !c->graph)
		return NULL;
	vn_graph_ready(c);
	k = vn_key("u\x1f%p\x1f%s\x1f%s", (void *)coll, attr, value);
	b = k ? vn_bucket_get(c->graph, k) : NULL;
	free(k);
	for (struct vn_hold *h = b ? b->head : NULL; h; h = h->next)
		if (h->who != except)
			return h->who;
	return NULL;
}

struct vn_edge *vn_referrer(struct vn_obj *target, const struct vn_kind *k, const char *attr)
{
	if (target->ctx)
		vn_graph_ready(target->ctx);
	vn_refs_in_foreach(target, e)
	{
		if (k && e->from->kind != k)
			continue;
		if (attr && !*attr && e->attr)
			continue;
		if (attr && *attr && (!e->attr || strcmp(e->attr->name, attr)))
			continue;
		return e;
	}
	return NULL;
}

/* ---- busy ---- */

static bool vn_in_subtree(struct vn_obj *o, struct vn_obj *root)
{
	for (; o; o = o->parent)
		if (o == root)
			return true;
	return false;
}

int vn_graph_busy(struct vn_ctx *c, struct vn_obj *root, struct vn_obj *o, struct vn_err *err)
{
	vn_graph_ready(c);
	vn_refs_in_foreach(o, e)
	{
		if (!e->pins || vn_in_subtree(e->from, root) || e->from->deleting)
			continue;
		return vn_fail(err, -EBUSY, "%s %s is used by %s %s (%s)", o->kind->type, o->name,
			       e->from->kind->type, e->from->name, e->role);
	}
	return 0;
}

/* ---- propagation ---- */

void vn_graph_push(struct vn_ctx *c, struct vn_obj *o)
{
	struct vn_graph *g = c->graph;

	if (!g)
		return;
	if (g->nstack == g->capstack) {
		size_t cap = g->capstack ? g->capstack * 2 : 8;
		struct vn_obj **nv = realloc(g->stack, cap * sizeof(*nv));

		if (!nv) {
			g->nstack++; /* counted, not recorded: pop stays balanced */
			return;
		}
		g->stack = nv;
		g->capstack = cap;
	}
	g->stack[g->nstack++] = o;
}

void vn_graph_pop(struct vn_ctx *c)
{
	if (c->graph && c->graph->nstack)
		c->graph->nstack--;
}

static bool vn_on_stack(struct vn_graph *g, struct vn_obj *o)
{
	for (size_t i = 0; i < g->nstack && i < g->capstack; i++)
		if (g->stack[i] == o)
			return true;
	return false;
}

/* An event: an attribute's name, VN_EV_LIFE (created, deleted) or
 * VN_EV_SYNC (the object was synced: only deps on any change follow). */
#define VN_EV_LIFE NULL
static const char vn_ev_sync[] = "";

static bool vn_dep_matches(const struct vn_dep *d, const char *ev)
{
	if (!d->on)
		return true;
	if (ev == VN_EV_LIFE)
		return true;
	if (ev == vn_ev_sync)
		return false;
	for (size_t i = 0; d->on[i]; i++)
		if (!strcmp(d->on[i], ev))
			return true;
	return false;
}

/* Does kind k follow an object of kind of through via (attr for REFS)? */
static bool vn_follows(const struct vn_kind *k, enum vn_dep_via via, const struct vn_kind *of,
		       const char *attr, const char *ev)
{
	for (const struct vn_dep *d = k->deps; d && d->via; d++) {
		if (d->via != via || d->kind != of || !vn_dep_matches(d, ev))
			continue;
		if (via == VN_DEP_REFS && (!attr || !d->attr || strcmp(d->attr, attr)))
			continue;
		return true;
	}
	return false;
}

struct vn_dirty {
	struct lh_table *seen;
	struct vn_obj **v;
	size_t n, cap;
	int err;
};

static void vn_dirty_visit(struct vn_ctx *c, struct vn_dirty *d, struct vn_obj *x, const char *ev);

static void vn_dirty_one(struct vn_ctx *c, struct vn_dirty *d, struct vn_obj *dep)
{
	if (!dep || dep->deleting || lh_table_lookup_entry(d->seen, dep) ||
	    vn_on_stack(c->graph, dep))
		return;
	lh_table_insert(d->seen, dep, dep);
	vn_dirty_visit(c, d, dep, vn_ev_sync);
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct vn_obj **nv = realloc(d->v, cap * sizeof(*nv));

		if (!nv) {
			d->err = -ENOMEM;
			return;
		}
		d->v = nv;
		d->cap = cap;
	}
	d->v[d->n++] = dep; /* after its own dependents: reversed below */
}

static void vn_dirty_visit(struct vn_ctx *c, struct vn_dirty *d, struct vn_obj *x, const char *ev)
{
	struct vn_obj *owner;

	if (x->parent && vn_follows(x->parent->kind, VN_DEP_CHILDREN, x->kind, NULL, ev))
		vn_dirty_one(c, d, x->parent);
	for (size_t i = 0; i < x->ncolls; i++) {
		struct vn_obj *child;

		if (!vn_follows(x->colls[i].kind, VN_DEP_PARENT, x->kind, NULL, ev))
			continue;
		vn_coll_foreach(&x->colls[i], child)
		{
			vn_dirty_one(c, d, child);
		}
	}
	vn_refs_in_foreach(x, e)
	{
		if (e->attr && vn_follows(e->from->kind, VN_DEP_REFS, x->kind, e->attr->name, ev))
			vn_dirty_one(c, d, e->from);
	}
	/* an implicit object comes and goes by its owner's own hooks */
	owner = ev == VN_EV_LIFE ? NULL : vn_owner_of(x, NULL);
	if (owner && vn_follows(owner->kind, VN_DEP_OWNED, x->kind, NULL, ev))
		vn_dirty_one(c, d, owner);
}

int vn_propagate(struct vn_ctx *c, struct vn_obj *o, const char *name, bool undo,
		 struct vn_err *err)
{
	struct vn_dirty d = {0};
	int r = 0;

	if (!c->graph || c->loading)
		return 0;
	vn_graph_ready(c);
	d.seen = lh_kptr_table_new(16, NULL);
	if (!d.seen)
		return vn_fail(err, -ENOMEM, "out of memory");
	lh_table_insert(d.seen, o, o);
	vn_dirty_visit(c, &d, o, name);
	if (d.err < 0 && !undo)
		r = vn_fail(err, d.err, "out of memory");
	/* dependencies before their dependents */
	for (size_t i = d.n; r == 0 && i-- > 0;) {
		struct vn_obj *dep = d.v[i];
		struct vn_err e = {0};
		int s = 0;

		vn_changed(c, dep, NULL);
		if (!dep->kind->sync)
			continue;
		vn_graph_push(c, dep);
		s = dep->kind->sync(c, dep, undo ? &e : err);
		vn_graph_pop(c);
		if (s < 0 && undo) {
			dep->failed = true;
			vn_obj_set_error(dep, &e);
		} else if (s < 0) {
			r = s;
		} else if (!undo && dep->failed) {
			/* it follows again: what failed before is over */
			dep->failed = false;
			vn_obj_clear_error(dep);
			vn_changed(c, dep, "status");
		}
	}
	lh_table_free(d.seen);
	free(d.v);
	return r;
}
