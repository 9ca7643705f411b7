// SPDX-License-Identifier: MIT
/*
 * Unit tests of the generic model: the write path (parse, idempotence,
 * append, check/apply failures restoring the old value), object creation
 * rules, rendering, json, and persistence round trips. Uses a kind defined
 * here (no backend) plus the real flavor kind for the state files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vnetfs/model.h"
#include "fs/internal.h"
#include "fs/kinds.h"

/* ---- a test kind ---- */
static struct {
	int checks, applies;
	int fail_check, fail_apply;
} T;

static int t_check(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, struct vn_err *err)
{
	T.checks++;
	if (T.fail_check)
		return vn_fail(err, -EBUSY, "check refused %s", a->name);
	return 0;
}

static int t_apply(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
		   struct json_object *old, struct vn_err *err)
{
	T.applies++;
	if (T.fail_apply && T.applies == 1)
		return vn_fail(err, -EIO, "backend refused %s", a->name);
	return 0;
}

static int t_parse_upper(struct vn_ctx *c, struct vn_obj *o, const char *text,
			 struct json_object **out, struct vn_err *err)
{
	char buf[64];
	size_t i;

	for (i = 0; text[i] && i < sizeof(buf) - 1; i++) {
		if (text[i] == '!')
			return vn_fail(err, -EINVAL, "no '!' in '%s'", text);
		buf[i] = (char)(text[i] >= 'a' && text[i] <= 'z' ? text[i] - 32 : text[i]);
	}
	buf[i] = '\0';
	*out = json_object_new_string(buf);
	return 0;
}

static const char *const t_colors[] = {"red", "green", NULL};

static const struct vn_attr t_attrs[] = {
	{.name = "num", .mode = 0644, .type = VN_T_INT, .min = 1, .max = 100, .dflt = "7"},
	{.name = "flag", .mode = 0644, .type = VN_T_BOOL, .dflt = "1"},
	{.name = "color", .mode = 0644, .type = VN_T_ENUM, .choices = t_colors, .dflt = "red"},
	{.name = "text", .mode = 0644, .type = VN_T_STR},
	{.name = "lines", .mode = 0644, .type = VN_T_LIST, .parse = t_parse_upper},
	{.name = "ro", .mode = 0444, .type = VN_T_STR, .dflt = "fixed"},
	{.name = NULL},
};

static const struct vn_kind t_kind = {
	.dir = "things",
	.type = "testthing", /* unknown to the loader: set aside on reload */
	.attrs = t_attrs,
	.check = t_check,
	.apply = t_apply,
};

struct fixture {
	struct vn_ctx c;
	struct vn_coll coll;
	char dir[64];
	struct vn_obj *o;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vn_opts opts = {0};
	struct vn_err err = {0};

	snprintf(f->dir, sizeof(f->dir), "/tmp/vn-unit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	opts.state_dir = f->dir;
	assert_int_equal(vn_ctx_init(&f->c, &opts), 0);
	assert_int_equal(vn_persist_open(&f->c), 0);
	f->coll.kind = &t_kind;
	f->coll.by_name = lh_kchar_table_new(16, NULL);
	memset(&T, 0, sizeof(T));
	assert_int_equal(vn_obj_create(&f->c, &f->coll, "one", 1000, 1000, NULL, &f->o, &err), 0);
	*state = f;
	return 0;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};

	while (f->coll.by_name->head)
		vn_obj_delete(&f->c, lh_entry_v(f->coll.by_name->head), true, &err);
	lh_table_free(f->coll.by_name);
	vn_ctx_fini(&f->c);
	nftw(f->dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static char *render(struct fixture *f, const char *name)
{
	struct vn_buf b = {0};

	assert_int_equal(vn_obj_render(&f->c, f->o, name, &b), 0);
	return vn_buf_steal(&b);
}

#define assert_file(f, name, expect)                                                               \
	do {                                                                                       \
		char *got_ = render(f, name);                                                      \
		assert_string_equal(got_, expect);                                                 \
		free(got_);                                                                        \
	} while (0)

static int w(struct fixture *f, const char *name, const char *val, bool append, struct vn_err *err)
{
	return vn_attr_write(&f->c, f->o, vn_attr_find(&t_kind, name), val, strlen(val), append,
			     err);
}

static void test_defaults_render(void **state)
{
	struct fixture *f = *state;

	assert_file(f, "num", "7\n");
	assert_file(f, "flag", "1\n");
	assert_file(f, "color", "red\n");
	assert_file(f, "text", "");
	assert_file(f, "lines", "");
	assert_file(f, "ro", "fixed\n");
	assert_file(f, "error", "");
	assert_file(f, "status", "ACTIVE\n");
	assert_int_equal(strlen(f->o->id), 36);
	assert_int_equal(f->o->id[14], '4');
}

static void test_int(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};

	assert_int_equal(w(f, "num", "42\n", false, &err), 0);
	assert_file(f, "num", "42\n");
	assert_int_equal(vn_get_int(f->o, "num"), 42);
	assert_int_equal(w(f, "num", "101", false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "from 1 to 100"));
	assert_int_equal(w(f, "num", "4x", false, &err), -EINVAL);
	assert_int_equal(w(f, "num", "0", false, &err), -EINVAL);
	assert_int_equal(w(f, "num", "1\n2\n", false, &err), -EINVAL);
	assert_file(f, "num", "42\n");
	/* empty: back to the default */
	assert_int_equal(w(f, "num", "\n", false, &err), 0);
	assert_file(f, "num", "7\n");
}

static void test_idempotent(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};

	assert_int_equal(w(f, "num", "9", false, &err), 0);
	assert_int_equal(T.applies, 1);
	assert_int_equal(w(f, "num", "  9 \n", false, &err), 0);
	assert_int_equal(T.applies, 1); /* same value: nothing applied */
	/* writing the default explicitly changes nothing either */
	assert_int_equal(w(f, "color", "red", false, &err), 0);
	assert_int_equal(T.applies, 1);
	assert_null(json_object_object_get(f->o->props, "color"));
}

static void test_bool_enum(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};

	/* written without a final newline: read back without one (issue 8) */
	assert_int_equal(w(f, "flag", "0", false, &err), 0);
	assert_file(f, "flag", "0");
	assert_false(vn_get_bool(f->o, "flag"));
	assert_int_equal(w(f, "flag", "true\n", false, &err), 0);
	assert_file(f, "flag", "1\n");
	assert_int_equal(w(f, "flag", "2", false, &err), -EINVAL);
	assert_file(f, "flag", "1\n"); /* a refused write keeps the newline too */
	assert_int_equal(w(f, "color", "GREEN", false, &err), 0);
	assert_file(f, "color", "green");
	assert_int_equal(w(f, "color", "blue", false, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "red or green"));
	assert_file(f, "color", "green");
	assert_int_equal(w(f, "color", "green\n", false, &err), 0);
	assert_file(f, "color", "green\n"); /* same value, the last write's newline */
	assert_int_equal(w(f, "color", "", false, &err), 0);
	assert_file(f, "color", "red\n"); /* the default, with a newline */
}

static void test_list(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};

	assert_int_equal(w(f, "lines", "a\n\n  b  \n", false, &err), 0);
	assert_file(f, "lines", "A\nB\n");
	assert_int_equal(w(f, "lines", "c\n", true, &err), 0);
	assert_file(f, "lines", "A\nB\nC\n");
	/* appending a line that is there: nothing changes */
	T.applies = 0;
	assert_int_equal(w(f, "lines", "b\n", true, &err), 0);
	assert_int_equal(T.applies, 0);
	assert_file(f, "lines", "A\nB\nC\n");
	/* a whole value with a line twice is malformed */
	assert_int_equal(w(f, "lines", "x\nx\n", false, &err), -EINVAL);
	/* a bad line rejects the whole value */
	assert_int_equal(w(f, "lines", "d\ne!\n", false, &err), -EINVAL);
	assert_int_equal(w(f, "lines", "e!\n", true, &err), -EINVAL);
	assert_file(f, "lines", "A\nB\nC\n");
	/* rewriting without a line removes it */
	assert_int_equal(w(f, "lines", "a\nc\n", false, &err), 0);
	assert_file(f, "lines", "A\nC\n");
	assert_int_equal(w(f, "lines", "", false, &err), 0);
	assert_file(f, "lines", "");
}

static void test_check_apply_failures(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};

	T.fail_check = 1;
	assert_int_equal(w(f, "num", "50", false, &err), -EBUSY);
	assert_string_equal(err.msg, "check refused num");
	assert_file(f, "num", "7\n");
	T.fail_check = 0;
	T.fail_apply = 1;
	T.applies = 0;
	assert_int_equal(w(f, "num", "50", false, &err), -EIO);
	/* the failed apply is followed by one re-apply of the old model */
	assert_int_equal(T.applies, 2);
	assert_file(f, "num", "7\n");
	assert_false(f->o->failed);
}

static void test_ro_and_reset(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};

	assert_int_equal(w(f, "ro", "x", false, &err), -EACCES);
	assert_int_equal(vn_attr_reset(&f->c, f->o, vn_attr_find(&t_kind, "ro"), &err), 0);
	assert_int_equal(w(f, "num", "3", false, &err), 0);
	assert_int_equal(vn_attr_reset(&f->c, f->o, vn_attr_find(&t_kind, "num"), &err), 0);
	assert_file(f, "num", "7\n");
}

static void test_sizes_and_nul(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};
	char *big = malloc(VN_ATTR_MAX + 2);

	memset(big, 'a', VN_ATTR_MAX + 1);
	big[VN_ATTR_MAX + 1] = '\0';
	assert_int_equal(w(f, "text", big, false, &err), -EFBIG);
	free(big);
	assert_int_equal(
		vn_attr_write(&f->c, f->o, vn_attr_find(&t_kind, "text"), "a\0b", 3, false, &err),
		-EINVAL);
	assert_int_equal(w(f, "text", "a\x01", false, &err), -EINVAL);
	assert_int_equal(w(f, "text", "hello world", false, &err), 0);
	assert_file(f, "text", "hello world");
}

static void test_names(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};

	assert_int_equal(vn_obj_create(&f->c, &f->coll, "one", 0, 0, NULL, NULL, &err), -EEXIST);
	assert_int_equal(vn_obj_create(&f->c, &f->coll, ".hidden", 0, 0, NULL, NULL, &err),
			 -EINVAL);
	assert_int_equal(vn_obj_create(&f->c, &f->coll, "a b", 0, 0, NULL, NULL, &err), -EINVAL);
	assert_int_equal(vn_obj_create(&f->c, &f->coll, "two", 0, 0, NULL, NULL, &err), 0);
	assert_int_equal(vn_coll_count(&f->coll), 2);
	assert_non_null(vn_find_id(&f->c, f->o->id));
}

static void test_json(void **state)
{
	struct fixture *f = *state;
	struct vn_err err = {0};
	struct json_object *j, *v;

	assert_int_equal(w(f, "lines", "x\ny\n", false, &err), 0);
	j = vn_obj_json(&f->c, f->o);
	assert_string_equal(json_object_get_string(json_object_object_get(j, "name")), "one");
	assert_int_equal(json_object_get_int(json_object_object_get(j, "num")), 7);
	assert_true(json_object_get_boolean(json_object_object_get(j, "flag")));
	v = json_object_object_get(j, "lines");
	assert_int_equal(json_object_array_length(v), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 1)), "Y");
	assert_true(json_object_object_get_ex(j, "text", &v));
	assert_null(v);
	assert_int_equal(json_object_get_int(json_object_object_get(j, "uid")), 1000);
	json_object_put(j);
}

static int t_count_rows(const char *dir, const char *sql)
{
	char path[160];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;

	snprintf(path, sizeof(path), "%s/vnetfs.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void t_reload(struct fixture *f, struct vn_ctx *c2)
{
	struct vn_opts opts = {.state_dir = f->dir};

	assert_int_equal(vn_ctx_init(c2, &opts), 0);
	assert_int_equal(vn_persist_open(c2), 0);
	c2->loading = true;
	assert_int_equal(vn_persist_load(c2), 0);
	c2->loading = false;
}

/* Persistence: flavors are saved, a fresh context loads them back. */
static void test_persist_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct vn_coll *fl = vn_root_coll(&f->c, &vn_kind_flavor);
	struct vn_err err = {0};
	struct vn_obj *o, *back;
	struct vn_ctx c2;

	assert_int_equal(vn_obj_create(&f->c, fl, "big", 5, 6, NULL, &o, &err), 0);
	assert_int_equal(vn_attr_write(&f->c, o, vn_attr_find(&vn_kind_flavor, "ram"), "4096", 4,
				       false, &err),
			 0);
	assert_int_equal(t_count_rows(f->dir, "SELECT count(*) FROM objects WHERE name='big'"), 1);

	/* a second daemon on the same state directory is refused */
	{
		struct vn_opts opts = {.state_dir = f->dir};
		struct vn_ctx c3;

		assert_int_equal(vn_ctx_init(&c3, &opts), 0);
		assert_int_equal(vn_persist_open(&c3), -EBUSY);
		vn_ctx_fini(&c3);
	}
	vn_persist_close(&f->c); /* as a daemon that stopped */
	t_reload(f, &c2);
	back = vn_coll_find(vn_root_coll(&c2, &vn_kind_flavor), "big");
	assert_non_null(back);
	assert_string_equal(back->id, o->id);
	assert_int_equal(vn_get_int(back, "ram"), 4096);
	assert_int_equal(vn_get_int(back, "vcpus"), 1);
	assert_int_equal(back->uid, 5);
	assert_int_equal(back->gid, 6);
	assert_false(back->damaged);

	/* deleting removes the record */
	assert_int_equal(vn_obj_delete(&c2, back, false, &err), 0);
	assert_int_equal(t_count_rows(f->dir, "SELECT count(*) FROM objects WHERE name='big'"), 0);
	vn_ctx_fini(&c2);
	assert_int_equal(vn_persist_open(&f->c), 0); /* for teardown */
}

/* Bad records are set aside, bad values too, and nothing else is lost. */
static void test_persist_quarantine(void **state)
{
	struct fixture *f = *state;
	struct vn_coll *fl = vn_root_coll(&f->c, &vn_kind_flavor);
	struct vn_err err = {0};
	struct vn_obj *o, *back;
	struct vn_ctx c2;
	char path[160];
	sqlite3 *db;

	assert_int_equal(vn_obj_create(&f->c, fl, "good", 0, 0, NULL, &o, &err), 0);
	vn_persist_close(&f->c);
	snprintf(path, sizeof(path), "%s/vnetfs.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db,
			     /* truncated JSON */
			     "INSERT INTO objects VALUES('11111111-2222-4333-8444-555555555555',"
			     " 'flavor', NULL, 'torn', '{\"type\":\"fla');"
			     /* a kind of a newer version, with a child */
			     "INSERT INTO objects VALUES('21111111-2222-4333-8444-555555555555',"
			     " 'gizmo', NULL, 'g', '{\"type\":\"gizmo\",\"name\":\"g\","
			     "\"id\":\"21111111-2222-4333-8444-555555555555\",\"props\":{}}');"
			     "INSERT INTO objects VALUES('31111111-2222-4333-8444-555555555555',"
			     " 'flavor', '21111111-2222-4333-8444-555555555555', 'kid',"
			     " '{\"type\":\"flavor\",\"name\":\"kid\","
			     "\"id\":\"31111111-2222-4333-8444-555555555555\","
			     "\"parent\":\"21111111-2222-4333-8444-555555555555\"}');"
			     /* a value out of range */
			     "INSERT INTO objects VALUES('41111111-2222-4333-8444-555555555555',"
			     " 'flavor', NULL, 'huge', '{\"type\":\"flavor\",\"name\":\"huge\","
			     "\"id\":\"41111111-2222-4333-8444-555555555555\","
			     "\"props\":{\"ram\":-5,\"vcpus\":2}}');",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);

	t_reload(f, &c2);
	assert_non_null(vn_coll_find(vn_root_coll(&c2, &vn_kind_flavor), "good"));
	assert_null(vn_coll_find(vn_root_coll(&c2, &vn_kind_flavor), "torn"));
	back = vn_coll_find(vn_root_coll(&c2, &vn_kind_flavor), "huge");
	assert_non_null(back);
	assert_true(back->damaged);
	assert_string_equal(vn_obj_status(&c2, back), "ERROR");
	assert_non_null(strstr(back->error, "ram"));
	assert_int_equal(vn_get_int(back, "vcpus"), 2);
	assert_int_not_equal(vn_get_int(back, "ram"), -5);
	vn_ctx_fini(&c2);
	/* the torn record and the gizmo are in quarantine, the gizmo's child
	 * is held back in place, and the good one is untouched */
	assert_int_equal(t_count_rows(f->dir, "SELECT count(*) FROM quarantine WHERE id IN "
					      "('11111111-2222-4333-8444-555555555555',"
					      "'21111111-2222-4333-8444-555555555555')"),
			 2);
	assert_int_equal(t_count_rows(f->dir, "SELECT count(*) FROM objects WHERE id ="
					      " '31111111-2222-4333-8444-555555555555'"),
			 1);
	assert_int_equal(t_count_rows(f->dir, "SELECT count(*) FROM objects WHERE name='good'"), 1);
	assert_int_equal(t_count_rows(f->dir, "SELECT count(*) FROM objects WHERE name='huge'"), 1);
	assert_int_equal(vn_persist_open(&f->c), 0); /* for teardown */
}

/* Earlier versions' per-object files are imported once. */
static void test_persist_migrate(void **state)
{
	struct fixture *f = *state;
	char path[200];
	struct vn_ctx c2;
	FILE *fp;

	vn_persist_close(&f->c);
	snprintf(path, sizeof(path), "%s/objects", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/objects/51111111-2222-4333-8444-555555555555.json",
		 f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("{\"type\":\"flavor\",\"name\":\"old\",\"id\":\"51111111-2222-4333-8444-"
	      "555555555555\",\"parent\":null,\"uid\":7,\"gid\":7,\"props\":{\"ram\":"
	      "1024}}",
	      fp);
	fclose(fp);
	/* a FIFO among them must not block the import */
	snprintf(path, sizeof(path), "%s/objects/61111111-2222-4333-8444-555555555555.json",
		 f->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/objects/.initialized", f->dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));

	t_reload(f, &c2);
	struct vn_obj *old = vn_coll_find(vn_root_coll(&c2, &vn_kind_flavor), "old");

	assert_non_null(old);
	assert_int_equal(vn_get_int(old, "ram"), 1024);
	assert_int_equal(old->uid, 7);
	assert_true(vn_persist_initialized(&c2));
	vn_ctx_fini(&c2);
	snprintf(path, sizeof(path), "%s/objects", f->dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/objects.migrated", f->dir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(vn_persist_open(&f->c), 0); /* for teardown */
}

/* Sentences show what cannot be seen as C escapes; printable text (UTF-8
 * included) is kept, and escaping twice changes nothing (issue 8). */
static void test_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"plain text", "plain text"},
		{"\xef\xbb\xbf"
		 "1427",
		 "\\xef\\xbb\\xbf1427"}, /* BOM */
		{"a\tb\nc\rd", "a\\tb\\nc\\rd"},
		{"\x1b[31m\x7f", "\\x1b[31m\\x7f"},
		{"caf\xc3\xa9 \xf0\x9f\x90\xa7", "caf\xc3\xa9 \xf0\x9f\x90\xa7"}, /* kept */
		{"\xc2\x85", "\\xc2\\x85"},					  /* C1 control */
		{"\xe2\x80\x8b\xe2\x80\xae", "\\xe2\\x80\\x8b\\xe2\\x80\\xae"},	  /* ZWSP, RLO */
		{"\xc0\xaf", "\\xc0\\xaf"},					  /* overlong */
		{"\xed\xa0\x80", "\\xed\\xa0\\x80"},				  /* surrogate */
		{"cut \xe2\x80", "cut \\xe2\\x80"},				  /* cut sequence */
		{"back\\slash", "back\\slash"},
	};
	char out[256], twice[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vn_escape(cases[i].in, out, sizeof(out));
		assert_string_equal(out, cases[i].out);
		vn_escape(out, twice, sizeof(twice));
		assert_string_equal(twice, out);
	}
	/* cut at the buffer's size, never inside an escape */
	vn_escape("\x01\x02\x03", out, 9);
	assert_string_equal(out, "\\x01\\x02");
	{
		struct vn_err err = {0};

		vn_fail(&err, -EINVAL, "not '%s'",
			"\xef\xbb\xbf"
			"1");
		assert_string_equal(err.msg, "not '\\xef\\xbb\\xbf1'");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test_setup_teardown(test_defaults_render, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bool_enum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_apply_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ro_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sizes_and_nul, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persist_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persist_quarantine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persist_migrate, setup, teardown),
	};

	vn_log_init(true, getenv("VN_DEBUG") ? VN_LOG_DEBUG : VN_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
