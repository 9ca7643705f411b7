// SPDX-License-Identifier: MIT
/*
 * Unit tests of the per-user limits (fs/quota.c) as the model and the
 * scratch code use them: objects counted to their owner, root never,
 * EDQUOT with a sentence, counts going down on delete, objects loaded
 * from the state never refused; scratch bytes charged on growth and
 * released on truncate, removal and the object's deletion; scratch modes.
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
#include <unistd.h>

#include "vnetfs/model.h"
#include "fs/internal.h"

static const struct vn_attr q_attrs[] = {
	{.name = "text", .mode = 0644, .type = VN_T_STR},
	{.name = NULL},
};

static const struct vn_kind q_kind = {
	.dir = "things",
	.type = "flavor", /* a registered type name; nothing is persisted here */
	.attrs = q_attrs,
};

struct fixture {
	struct vn_ctx c;
	struct vn_coll coll;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vn_opts opts = {.max_objects_per_user = 3, .max_scratch_per_user = 100};

	assert_int_equal(vn_ctx_init(&f->c, &opts), 0); /* no state dir: nothing saved */
	f->coll.kind = &q_kind;
	f->coll.by_name = lh_kchar_table_new(16, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};

	while (f->coll.by_name->head)
		vn_obj_delete(&f->c, lh_entry_v(f->coll.by_name->head), true, &err);
	assert_int_equal(vn_quota_objects(&f->c, 1000), 0);
	assert_int_equal(vn_quota_scratch(&f->c, 1000), 0);
	lh_table_free(f->coll.by_name);
	vn_ctx_fini(&f->c);
	free(f);
	return 0;
}

static int mk(struct fixture *f, const char *name, uid_t uid, struct vn_obj **out,
	      struct vn_err *err)
{
	return vn_obj_create(&f->c, &f->coll, name, uid, uid, NULL, out, err);
}

static void test_objects(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};
	struct vn_obj *o = NULL;
	char name[16];

	assert_int_equal(mk(f, "a1", 1000, &o, &err), 0);
	assert_int_equal(mk(f, "a2", 1000, NULL, &err), 0);
	assert_int_equal(mk(f, "a3", 1000, NULL, &err), 0);
	assert_int_equal(vn_quota_objects(&f->c, 1000), 3);
	assert_int_equal(mk(f, "a4", 1000, NULL, &err), -EDQUOT);
	assert_string_equal(err.msg, "user 1000 owns 3 objects, the most this daemon allows one "
				     "user (--max-objects-per-user 3): remove some first");
	assert_null(vn_coll_find(&f->coll, "a4"));
	assert_int_equal(vn_quota_objects(&f->c, 1000), 3);
	/* another user has a count of its own; root has none */
	assert_int_equal(mk(f, "b1", 1001, NULL, &err), 0);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		assert_int_equal(mk(f, name, 0, NULL, &err), 0);
	}
	assert_int_equal(vn_quota_objects(&f->c, 0), 0);
	assert_int_equal(vn_quota_objects(&f->c, 1001), 1);
	/* a delete counts down */
	assert_int_equal(vn_obj_delete(&f->c, o, false, &err), 0);
	assert_int_equal(vn_quota_objects(&f->c, 1000), 2);
	assert_int_equal(mk(f, "a4", 1000, NULL, &err), 0);
	assert_int_equal(mk(f, "a5", 1000, NULL, &err), -EDQUOT);
	/* what the state holds is loaded whatever the limit, and counted */
	f->c.loading = true;
	assert_int_equal(vn_obj_attach(&f->c, &f->coll, "a5", NULL, 1000, 1000, NULL, NULL), 0);
	f->c.loading = false;
	assert_int_equal(vn_quota_objects(&f->c, 1000), 4);
	assert_int_equal(mk(f, "a6", 1000, NULL, &err), -EDQUOT);
}

/* chown: the count moves from the old owner to the new one (root's
 * doing: no limit checked), and to or from root (never counted). */
static void test_move(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};
	struct vn_obj *o = NULL, *r = NULL;

	assert_int_equal(mk(f, "m1", 1000, &o, &err), 0);
	assert_int_equal(mk(f, "m2", 1001, NULL, &err), 0);
	assert_int_equal(mk(f, "m3", 1001, NULL, &err), 0);
	assert_int_equal(mk(f, "m4", 1001, NULL, &err), 0);
	assert_int_equal(vn_quota_obj_move(&f->c, o, 1001), 0);
	o->uid = 1001;
	assert_int_equal(vn_quota_objects(&f->c, 1000), 0);
	assert_int_equal(vn_quota_objects(&f->c, 1001), 4); /* over 3: root decided */
	assert_int_equal(mk(f, "m5", 1001, NULL, &err), -EDQUOT);
	assert_int_equal(vn_quota_obj_move(&f->c, o, 0), 0);
	o->uid = 0;
	assert_int_equal(vn_quota_objects(&f->c, 1001), 3);
	assert_int_equal(vn_quota_objects(&f->c, 0), 0);
	assert_int_equal(mk(f, "r1", 0, &r, &err), 0);
	assert_int_equal(vn_quota_obj_move(&f->c, r, 1000), 0);
	r->uid = 1000;
	assert_int_equal(vn_quota_objects(&f->c, 1000), 1);
	assert_int_equal(vn_quota_obj_move(&f->c, r, 1000), 0); /* no change */
	assert_int_equal(vn_quota_objects(&f->c, 1000), 1);
	/* a delete counts down from the new owner */
	assert_int_equal(vn_obj_delete(&f->c, r, false, &err), 0);
	assert_int_equal(vn_quota_objects(&f->c, 1000), 0);
}

static void test_no_limit(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};
	char name[16];

	f->c.opts.max_objects_per_user = 0;
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		assert_int_equal(mk(f, name, 1000, NULL, &err), 0);
	}
	assert_int_equal(vn_quota_objects(&f->c, 1000), 20);
}

static void test_scratch_bytes(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};
	struct vn_scratch *s1, *s2, *s3, *rs;
	struct vn_obj *o, *o2, *ro;
	char data[200];

	memset(data, 'x', sizeof(data));
	assert_int_equal(mk(f, "s", 1000, &o, &err), 0);
	assert_int_equal(mk(f, "s2", 1000, &o2, &err), 0);
	assert_int_equal(vn_scratch_create(o, ".a", 0644, 1000, 1000, &s1), 0);
	assert_int_equal(vn_scratch_create(o, ".b", 0644, 1000, 1000, &s2), 0);
	assert_int_equal(vn_scratch_create(o2, ".c", 0644, 1000, 1000, &s3), 0);
	assert_int_equal(vn_scratch_write(&f->c, s1, data, 60, 0, &err), 0);
	assert_int_equal(vn_quota_scratch(&f->c, 1000), 60);
	/* growing past the limit: refused whole, nothing changed */
	assert_int_equal(vn_scratch_write(&f->c, s2, data, 60, 0, &err), -EDQUOT);
	assert_string_equal(err.msg,
			    "the temporary files of user 1000 would take 120 bytes, more than this "
			    "daemon allows one user (--max-scratch-per-user 100): rename or remove "
			    "some first");
	assert_int_equal(s2->data.len, 0);
	assert_int_equal(vn_quota_scratch(&f->c, 1000), 60);
	/* rewriting bytes already there costs nothing */
	assert_int_equal(vn_scratch_write(&f->c, s1, data, 60, 0, &err), 0);
	assert_int_equal(vn_quota_scratch(&f->c, 1000), 60);
	/* up to the limit exactly; a hole counts */
	assert_int_equal(vn_scratch_write(&f->c, s2, data, 10, 30, &err), 0);
	assert_int_equal(s2->data.len, 40);
	assert_int_equal(vn_quota_scratch(&f->c, 1000), 100);
	assert_int_equal(vn_scratch_truncate(&f->c, s3, 1, &err), -EDQUOT);
	/* truncate, remove and the object's deletion give bytes back */
	assert_int_equal(vn_scratch_truncate(&f->c, s1, 10, &err), 0);
	assert_int_equal(vn_quota_scratch(&f->c, 1000), 50);
	assert_int_equal(vn_scratch_truncate(&f->c, s3, 50, &err), 0);
	assert_int_equal(vn_quota_scratch(&f->c, 1000), 100);
	vn_scratch_remove(&f->c, o, s2);
	assert_int_equal(vn_quota_scratch(&f->c, 1000), 60);
	assert_int_equal(vn_obj_delete(&f->c, o, false, &err), 0);
	assert_int_equal(vn_quota_scratch(&f->c, 1000), 50);
	/* root's bytes are not counted; the per-file bound still holds */
	assert_int_equal(mk(f, "root", 0, &ro, &err), 0);
	assert_int_equal(vn_scratch_create(ro, ".r", 0600, 0, 0, &rs), 0);
	assert_int_equal(vn_scratch_write(&f->c, rs, data, 200, 0, &err), 0);
	assert_int_equal(vn_scratch_truncate(&f->c, rs, VN_ATTR_MAX, &err), 0);
	assert_int_equal(vn_quota_scratch(&f->c, 0), 0);
	assert_int_equal(vn_scratch_truncate(&f->c, rs, VN_ATTR_MAX + 1, &err), -EFBIG);
	assert_int_equal(vn_scratch_write(&f->c, rs, data, 1, VN_ATTR_MAX, &err), -EFBIG);
	assert_int_equal(vn_obj_delete(&f->c, o2, false, &err), 0);
	assert_int_equal(vn_quota_scratch(&f->c, 1000), 0);
}

static void test_scratch_mode(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};
	struct vn_scratch *s;
	struct vn_obj *o;

	assert_int_equal(mk(f, "m", 1000, &o, &err), 0);
	assert_int_equal(vn_scratch_create(o, ".m", 0640, 1000, 100, &s), 0);
	assert_int_equal(vn_scratch_access(s, 1000, 1000, R_OK | W_OK), 0);
	assert_int_equal(vn_scratch_access(s, 0, 0, R_OK | W_OK), 0);
	assert_int_equal(vn_scratch_access(s, 1001, 100, R_OK), 0);
	assert_int_equal(vn_scratch_access(s, 1001, 100, W_OK), -EACCES);
	assert_int_equal(vn_scratch_access(s, 1001, 1001, R_OK), -EACCES);
	s->mode = 0604;
	assert_int_equal(vn_scratch_access(s, 1001, 1001, R_OK), 0);
	assert_int_equal(vn_scratch_access(s, 1001, 100, R_OK), -EACCES); /* group bits */
	s->mode = 0200;
	assert_int_equal(vn_scratch_access(s, 1000, 1000, R_OK), -EACCES);
	assert_int_equal(vn_scratch_access(s, 1000, 1000, W_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch_mode, setup, teardown),
	};

	vn_log_init(true, VN_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
