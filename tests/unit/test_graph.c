// SPDX-License-Identifier: MIT
/*
 * Unit tests of the object graph (fs/graph.c): edges follow writes,
 * creates, deletes, loads and rollbacks; referrer, value-holder and
 * unique-value lookups; the generic busy sentence; change propagation in
 * dependency order, with undo when a dependent fails. Test kinds defined
 * here (no backend), plus the real kinds for loading old records.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetfs/model.h"
#include "fs/internal.h"
#include "fs/kinds.h"

/* ---- test kinds: boxes, things that use them, and a dependency chain ---- */

static struct {
	char log[256]; /* "mid:5 top:5 " : sync order with the box size seen */
	int fail_top;  /* top's sync fails while the box size is this */
	int fail_apply;
} T;

extern const struct vn_kind k_box, k_user, k_mid, k_top;

static const struct vn_attr box_attrs[] = {
	{.name = "size", .mode = 0644, .type = VN_T_INT, .min = 0, .max = 100, .dflt = "1"},
	{.name = NULL},
};
const struct vn_kind k_box = {
	.dir = "boxes", .type = "box", .attrs = box_attrs, .global_names = true};

static int user_apply(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
		      struct json_object *old, struct vn_err *err)
{
	if (T.fail_apply)
		return vn_fail(err, -EIO, "backend refused %s", a->name);
	return 0;
}

static const struct vn_attr user_attrs[] = {
	{.name = "uses",
	 .mode = 0644,
	 .type = VN_T_LIST,
	 .ref = &k_box,
	 .ref_scope = VN_REF_GLOBAL,
	 .pins = true,
	 .role = "user-of"},
	{.name = "peek", .mode = 0644, .type = VN_T_STR, .ref = &k_box}, /* does not pin */
	{.name = "mac", .mode = 0644, .type = VN_T_STR, .unique = true},
	{.name = NULL},
};
const struct vn_kind k_user = {
	.dir = "users", .type = "user", .attrs = user_attrs, .apply = user_apply};

/* the size of the box a mid/top names, as its sync sees it */
static long seen_size(struct vn_obj *o)
{
	vn_refs_out_foreach(o, e)
	{
		if (e->to && e->to->kind == &k_box)
			return vn_get_int(e->to, "size");
		if (e->to && e->to->kind == &k_mid)
			return seen_size(e->to);
	}
	return -1;
}

static int t_sync(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	long sz = seen_size(o);
	size_t l = strlen(T.log);

	snprintf(T.log + l, sizeof(T.log) - l, "%s:%ld ", o->name, sz);
	if (o->kind == &k_top && T.fail_top && sz == T.fail_top)
		return vn_fail(err, -EIO, "top cannot follow size %ld", sz);
	return 0;
}

static const char *const on_size[] = {"size", NULL};

static const struct vn_attr mid_attrs[] = {
	{.name = "src", .mode = 0644, .type = VN_T_STR, .ref = &k_box},
	{.name = NULL},
};
static const struct vn_dep mid_deps[] = {
	{.via = VN_DEP_REFS, .kind = &k_box, .attr = "src", .on = on_size},
	{.via = VN_DEP_END},
};
const struct vn_kind k_mid = {.dir = "mids",
			      .type = "mid",
			      .attrs = mid_attrs,
			      .global_names = true,
			      .deps = mid_deps,
			      .sync = t_sync};

/* top follows the box directly and through mid: a diamond */
static const struct vn_attr top_attrs[] = {
	{.name = "src", .mode = 0644, .type = VN_T_STR, .ref = &k_box},
	{.name = "via", .mode = 0644, .type = VN_T_STR, .ref = &k_mid},
	{.name = NULL},
};
static const struct vn_dep top_deps[] = {
	{.via = VN_DEP_REFS, .kind = &k_box, .attr = "src", .on = on_size},
	{.via = VN_DEP_REFS, .kind = &k_mid, .attr = "via"},
	{.via = VN_DEP_END},
};
const struct vn_kind k_top = {
	.dir = "tops", .type = "top", .attrs = top_attrs, .deps = top_deps, .sync = t_sync};

struct fixture {
	struct vn_ctx c;
	struct vn_coll boxes, users, mids, tops;
};

static void coll_init(struct vn_coll *coll, const struct vn_kind *k)
{
	coll->kind = k;
	coll->by_name = lh_kchar_table_new(16, NULL);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vn_opts opts = {.state_dir = "/nonexistent"};

	assert_int_equal(vn_ctx_init(&f->c, &opts), 0);
	coll_init(&f->boxes, &k_box);
	coll_init(&f->users, &k_user);
	coll_init(&f->mids, &k_mid);
	coll_init(&f->tops, &k_top);
	memset(&T, 0, sizeof(T));
	*state = f;
	return 0;
}

static void coll_clear(struct fixture *f, struct vn_coll *coll)
{
	struct vn_err err = {0};

	while (coll->by_name->head)
		vn_obj_delete(&f->c, lh_entry_v(coll->by_name->head), true, &err);
	lh_table_free(coll->by_name);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	coll_clear(f, &f->tops);
	coll_clear(f, &f->mids);
	coll_clear(f, &f->users);
	coll_clear(f, &f->boxes);
	vn_ctx_fini(&f->c);
	free(f);
	return 0;
}

static struct vn_obj *mk(struct fixture *f, struct vn_coll *coll, const char *name)
{
	struct vn_err err = {0};
	struct vn_obj *o = NULL;

	assert_int_equal(vn_obj_create(&f->c, coll, name, 0, 0, NULL, &o, &err), 0);
	return o;
}

static int w(struct fixture *f, struct vn_obj *o, const char *name, const char *val, bool append,
	     struct vn_err *err)
{
	return vn_attr_write(&f->c, o, vn_attr_find(o->kind, name), val, strlen(val), append, err);
}

static size_t nrefs(struct vn_obj *target)
{
	size_t n = 0;

	vn_refs_in_foreach(target, e) n++;
	return n;
}

static struct vn_obj *referrer(struct vn_obj *target, const char *attr)
{
	struct vn_edge *e = vn_referrer(target, NULL, attr);

	return e ? e->from : NULL;
}

/* ---- edges follow writes ---- */
static void test_edges_follow_writes(void **state)
{
	struct fixture *f = *state;
	struct vn_obj *b1 = mk(f, &f->boxes, "b1"), *b2 = mk(f, &f->boxes, "b2");
	struct vn_obj *b3 = mk(f, &f->boxes, "b3"), *u = mk(f, &f->users, "u");
	struct vn_err err = {0};

	assert_int_equal(w(f, u, "uses", "b1\nb2 10.0.0.7\n", false, &err), 0);
	assert_ptr_equal(referrer(b1, "uses"), u);
	assert_ptr_equal(referrer(b2, "uses"), u);
	assert_null(referrer(b3, "uses"));
	assert_ptr_equal(vn_ref_holder(b2, "uses", "10.0.0.7", NULL), u);
	assert_null(vn_ref_holder(b2, "uses", "10.0.0.7", u));
	assert_null(vn_ref_holder(b1, "uses", "10.0.0.7", NULL));

	/* rewritten: b1 is let go, b3 taken */
	assert_int_equal(w(f, u, "uses", "b2 10.0.0.8\nb3\n", false, &err), 0);
	assert_null(referrer(b1, "uses"));
	assert_int_equal(nrefs(b1), 0);
	assert_null(vn_ref_holder(b2, "uses", "10.0.0.7", NULL));
	assert_ptr_equal(vn_ref_holder(b2, "uses", "10.0.0.8", NULL), u);
	assert_ptr_equal(referrer(b3, "uses"), u);

	/* appended */
	assert_int_equal(w(f, u, "uses", "b1\n", true, &err), 0);
	assert_ptr_equal(referrer(b1, "uses"), u);
	assert_int_equal(nrefs(b2), 1);

	/* reset: every edge goes */
	assert_int_equal(vn_attr_reset(&f->c, u, vn_attr_find(&k_user, "uses"), &err), 0);
	assert_int_equal(nrefs(b1) + nrefs(b2) + nrefs(b3), 0);
	assert_null(u->refs_out);
}

/* ---- a name that arrives later, an object that leaves ---- */
static void test_edges_follow_creates_deletes(void **state)
{
	struct fixture *f = *state;
	struct vn_obj *u = mk(f, &f->users, "u"), *later;
	struct vn_err err = {0};

	assert_int_equal(w(f, u, "peek", "later", false, &err), 0);
	assert_non_null(u->refs_out);
	assert_null(u->refs_out->to); /* waits for its name */

	later = mk(f, &f->boxes, "later");
	assert_ptr_equal(u->refs_out->to, later);
	assert_ptr_equal(referrer(later, "peek"), u);

	/* not pinned: the box goes, the edge waits again */
	assert_int_equal(vn_obj_delete(&f->c, later, false, &err), 0);
	assert_null(u->refs_out->to);
	later = mk(f, &f->boxes, "later");
	assert_ptr_equal(referrer(later, "peek"), u);

	/* the referrer goes: nothing names the box */
	assert_int_equal(vn_obj_delete(&f->c, u, false, &err), 0);
	assert_int_equal(nrefs(later), 0);
}

/* ---- rollback: the undo log replays values, edges follow ---- */
static void test_edges_follow_rollback(void **state)
{
	struct fixture *f = *state;
	struct vn_obj *b1 = mk(f, &f->boxes, "b1"), *b2 = mk(f, &f->boxes, "b2");
	struct vn_obj *u = mk(f, &f->users, "u");
	struct vn_err err = {0};

	assert_int_equal(w(f, u, "uses", "b1 10.0.0.1", false, &err), 0);

	/* a failed apply puts the old value back */
	T.fail_apply = 1;
	assert_int_equal(w(f, u, "uses", "b2 10.0.0.2", false, &err), -EIO);
	T.fail_apply = 0;
	assert_ptr_equal(referrer(b1, "uses"), u);
	assert_null(referrer(b2, "uses"));
	assert_ptr_equal(vn_ref_holder(b1, "uses", "10.0.0.1", NULL), u);
	assert_null(vn_ref_holder(b2, "uses", "10.0.0.2", NULL));

	/* a change rolled back as a whole (a kind's own vn_set inside it) */
	vn_txn_begin(&f->c);
	{
		struct json_object *l = json_object_new_array();

		json_object_array_add(l, json_object_new_string("b2 10.0.0.9"));
		vn_set(u, "uses", l);
	}
	assert_ptr_equal(referrer(b2, "uses"), u); /* edges follow vn_set at once */
	assert_null(referrer(b1, "uses"));
	vn_txn_end(&f->c, false);
	assert_ptr_equal(referrer(b1, "uses"), u);
	assert_null(referrer(b2, "uses"));
	assert_null(vn_ref_holder(b2, "uses", "10.0.0.9", NULL));
	assert_ptr_equal(vn_ref_holder(b1, "uses", "10.0.0.1", NULL), u);
}

/* ---- busy: pinned from outside, with the exact sentence ---- */
static void test_generic_busy(void **state)
{
	struct fixture *f = *state;
	struct vn_obj *b1 = mk(f, &f->boxes, "b1"), *b2 = mk(f, &f->boxes, "b2");
	struct vn_obj *u = mk(f, &f->users, "u1");
	struct vn_err err = {0};

	assert_int_equal(w(f, u, "uses", "b1", false, &err), 0);
	assert_int_equal(w(f, u, "peek", "b2", false, &err), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(vn_obj_delete(&f->c, b1, false, &err), -EBUSY);
	assert_string_equal(err.msg, "box b1 is used by user u1 (user-of)");
	assert_non_null(vn_coll_find(&f->boxes, "b1"));
	assert_ptr_equal(referrer(b1, "uses"), u);
	/* a reference that does not pin */
	assert_int_equal(vn_obj_delete(&f->c, b2, false, &err), 0);
	/* let go: deletable */
	assert_int_equal(vn_attr_reset(&f->c, u, vn_attr_find(&k_user, "uses"), &err), 0);
	assert_int_equal(vn_obj_delete(&f->c, b1, false, &err), 0);
}

/* ---- unique values of a collection ---- */
static void test_unique_index(void **state)
{
	struct fixture *f = *state;
	struct vn_obj *u1 = mk(f, &f->users, "u1"), *u2 = mk(f, &f->users, "u2");
	struct vn_err err = {0};

	assert_int_equal(w(f, u1, "mac", "m1", false, &err), 0);
	assert_int_equal(w(f, u2, "mac", "m2", false, &err), 0);
	assert_ptr_equal(vn_unique_holder(&f->users, "mac", "m1", NULL), u1);
	assert_null(vn_unique_holder(&f->users, "mac", "m1", u1));
	assert_int_equal(w(f, u1, "mac", "m3", false, &err), 0);
	assert_null(vn_unique_holder(&f->users, "mac", "m1", NULL));
	assert_ptr_equal(vn_unique_holder(&f->users, "mac", "m3", NULL), u1);
	T.fail_apply = 1;
	assert_int_equal(w(f, u2, "mac", "m4", false, &err), -EIO);
	T.fail_apply = 0;
	assert_ptr_equal(vn_unique_holder(&f->users, "mac", "m2", NULL), u2);
	assert_null(vn_unique_holder(&f->users, "mac", "m4", NULL));
	assert_int_equal(vn_obj_delete(&f->c, u2, false, &err), 0);
	assert_null(vn_unique_holder(&f->users, "mac", "m2", NULL));
}

/* ---- propagation: dependency order, once each, undo on failure ---- */
static void test_propagation_order_and_undo(void **state)
{
	struct fixture *f = *state;
	struct vn_obj *box = mk(f, &f->boxes, "box"), *mid = mk(f, &f->mids, "mid");
	struct vn_obj *top = mk(f, &f->tops, "top");
	struct vn_err err = {0};

	assert_int_equal(w(f, mid, "src", "box", false, &err), 0);
	assert_int_equal(w(f, top, "src", "box", false, &err), 0);
	assert_int_equal(w(f, top, "via", "mid", false, &err), 0);
	T.log[0] = '\0';

	/* top follows box directly and through mid: mid first, top once */
	assert_int_equal(w(f, box, "size", "5", false, &err), 0);
	assert_string_equal(T.log, "mid:5 top:5 ");

	/* an idempotent write propagates nothing */
	T.log[0] = '\0';
	assert_int_equal(w(f, box, "size", "5", false, &err), 0);
	assert_string_equal(T.log, "");

	/* top fails at 9: the write fails, size stays 5, and the dependents
	 * synced with 9 follow 5 again */
	T.fail_top = 9;
	memset(&err, 0, sizeof(err));
	assert_int_equal(w(f, box, "size", "9", false, &err), -EIO);
	assert_string_equal(err.msg, "top cannot follow size 9");
	assert_int_equal(vn_get_int(box, "size"), 5);
	assert_string_equal(T.log, "mid:9 top:9 mid:5 top:5 ");
	T.fail_top = 0;

	/* top follows any change of mid: writing mid's src syncs top (which
	 * sees no box through mid any more), and mid itself is not synced */
	T.log[0] = '\0';
	assert_int_equal(w(f, mid, "src", "", false, &err), 0);
	assert_string_equal(T.log, "top:-1 ");
}

/* ---- loading records of an earlier version: typed owners derived ---- */
#define NET "11111111-1111-4111-8111-111111111111"
#define SUB "22222222-2222-4222-8222-222222222222"
#define RTR "33333333-3333-4333-8333-333333333333"
#define PRT "44444444-4444-4444-8444-444444444444"

static void test_load_old_records(void **state)
{
	static const char *const texts[] = {
		/* the port first: its router is not loaded yet */
		"{\"type\":\"port\",\"name\":\"qr-1\",\"id\":\"" PRT "\",\"parent\":\"" NET
		"\",\"uid\":0,\"gid\":0,\"props\":{\"device_owner\":\"router_interface:router1\","
		"\"fixed_ips\":[\"private-subnet "
		"10.0.0.1\"],\"mac_address\":\"fa:16:3e:00:00:01\"}}",
		"{\"type\":\"router\",\"name\":\"router1\",\"id\":\"" RTR
		"\",\"uid\":0,\"gid\":0,\"props\":{\"interfaces\":[\"private-subnet\"]}}",
		"{\"type\":\"subnet\",\"name\":\"private-subnet\",\"id\":\"" SUB
		"\",\"parent\":\"" NET
		"\",\"uid\":0,\"gid\":0,\"props\":{\"cidr\":\"10.0.0.0/24\"}}",
		"{\"type\":\"network\",\"name\":\"private\",\"id\":\"" NET
		"\",\"uid\":0,\"gid\":0,\"props\":{}}",
	};
	struct vn_opts opts = {.state_dir = "/nonexistent"};
	struct vn_err err = {0};
	struct vn_obj *net, *sub, *rtr, *port;
	struct json_object *owner = NULL, *id = NULL;
	struct vn_ctx c;
	bool gw = true;

	assert_int_equal(vn_ctx_init(&c, &opts), 0);
	c.loading = true;
	vn_persist_load_texts(&c, texts, 4);
	c.loading = false;
	net = vn_find_id(&c, NET);
	sub = vn_find_id(&c, SUB);
	rtr = vn_find_id(&c, RTR);
	port = vn_find_id(&c, PRT);
	assert_non_null(net);
	assert_non_null(sub);
	assert_non_null(rtr);
	assert_non_null(port);

	/* the owner, typed, from device_owner text */
	assert_ptr_equal(vn_port_router(&c, port, &gw), rtr);
	assert_false(gw);
	assert_true(vn_port_is_router_if(&c, port));
	assert_true(json_object_object_get_ex(port->props, "_owner", &owner));
	assert_true(json_object_object_get_ex(owner, "id", &id));
	assert_string_equal(json_object_get_string(id), RTR);
	assert_string_equal(vn_get_str(port, "device_owner"), "router_interface:router1");

	/* edges of every loaded reference */
	assert_ptr_equal(vn_referrer(sub, &vn_kind_router, "interfaces")->from, rtr);
	assert_ptr_equal(vn_referrer(rtr, &vn_kind_port, "")->from, port);
	assert_ptr_equal(vn_ref_holder(sub, "fixed_ips", "10.0.0.1", NULL), port);
	assert_ptr_equal(vn_unique_holder(vn_child_coll(net, &vn_kind_port), "mac_address",
					  "fa:16:3e:00:00:01", NULL),
			 port);
	assert_ptr_equal(vn_router_using_network(&c, net), rtr);

	/* busy, generically, with the referrer named: from the subnet and
	 * from the network holding it */
	assert_int_equal(vn_obj_delete(&c, sub, false, &err), -EBUSY);
	assert_string_equal(err.msg, "subnet private-subnet is used by router router1 (interface)");
	memset(&err, 0, sizeof(err));
	assert_int_equal(vn_obj_delete(&c, net, false, &err), -EBUSY);
	assert_string_equal(err.msg, "subnet private-subnet is used by router router1 (interface)");
	/* the leg itself: the port kind's own sentence */
	memset(&err, 0, sizeof(err));
	assert_int_equal(vn_obj_delete(&c, port, false, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "router 'router1''s interface"));
	vn_ctx_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_edges_follow_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edges_follow_creates_deletes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edges_follow_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generic_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unique_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_propagation_order_and_undo, setup, teardown),
		cmocka_unit_test(test_load_old_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
