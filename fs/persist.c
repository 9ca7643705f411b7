// SPDX-License-Identifier: MIT
/*
 * Persistence: one SQLite database, STATE/vnetfs.db, in WAL mode with
 * synchronous=FULL. SQLite is a well-kept library made for exactly this:
 * an atomic, durable commit per change with one sync, and a file that a
 * crash at any point leaves all old or all new (Incus keeps its state the
 * same way).
 *
 * One acknowledged change is one transaction, however many objects it
 * touches: the generic entry points (vn_obj_create, vn_obj_delete and the
 * attribute write path) open a transaction level with vn_txn_begin and
 * close it with vn_txn_end; nested calls (a router interface creating its
 * leg port, a subnet deletion releasing ports' addresses) join the
 * outermost one, which commits once. BEGIN is issued lazily at the first
 * staged row, so a write that changes nothing costs no sync.
 *
 * Tables: objects (one row per object: id, type, parent, name and the
 * whole record as JSON), meta (first-start marker, schema version) and
 * quarantine (records, or values, that could not be loaded: kept aside
 * with the reason, never a reason to delete anything else).
 *
 * A second database, STATE/owned.db, lists kernel objects that live
 * outside the daemon's own namespace and that it made (router
 * namespaces in the shared /run/netns). A name is recorded, durably,
 * before the object is made, so the start-up sweep removes only what this
 * daemon made, never another daemon's. It is a separate file so that
 * record commits on its own while a change's transaction is still open.
 *
 * Loading attaches parents before children. A record that cannot be read
 * (bad JSON, an unknown kind written by a newer version, a bad name) is
 * moved to quarantine with a log line; its children are held back (left
 * in the store, not loaded, logged). Values are validated as writes are;
 * a bad one is set aside (quarantined) and the object shows ERROR with a
 * sentence until it is written again.
 *
 * The per-object JSON files of earlier versions (STATE/objects/<id>.json)
 * are imported in one transaction on first start and the directory is
 * renamed objects.migrated.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnetfs/ip.h"
#include "vnetfs/model.h"
#include "fs/internal.h"

#define VN_SCHEMA_VERSION "1"
/* A record larger than this is not ours (a state file is a few KiB). */
#define VN_RECORD_MAX (1024 * 1024)

struct vn_store {
	sqlite3 *db;
	sqlite3 *own;
	sqlite3_stmt *put, *del;
	int lock_fd;
	struct lh_table *owned; /* "kind/name" -> (void *)1, mirror of owned.db */
	/* ids of records that are stored but not loaded (quarantined, held
	 * back): the sweep keeps their kernel objects */
	char (*kept)[37];
	size_t nkept;
};

static void vn_keep_id(struct vn_ctx *c, const char *id)
{
	struct vn_store *s = c->store;
	char(*nv)[37];

	if (!s || !id || strlen(id) != 36)
		return;
	nv = realloc(s->kept, (s->nkept + 1) * sizeof(*nv));
	if (!nv)
		return;
	s->kept = nv;
	snprintf(s->kept[s->nkept++], 37, "%s", id);
}

size_t vn_persist_kept(struct vn_ctx *c, const char (**ids)[37])
{
	if (!c->store) {
		*ids = NULL;
		return 0;
	}
	*ids = (const char(*)[37])c->store->kept;
	return c->store->nkept;
}

static void vn_finalizep(sqlite3_stmt **st)
{
	if (*st)
		sqlite3_finalize(*st);
}
#define _cleanup_stmt_ __attribute__((cleanup(vn_finalizep)))

static int vn_sql_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EROFS;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EUCLEAN;
	default:
		return -EIO;
	}
}

static int vn_sql_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		vn_warn(vn_sql_errno(rc), "store: %s: %s", sql, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return vn_sql_errno(rc);
	}
	return 0;
}

static int vn_mkdir_p(const char *path)
{
	_cleanup_free_ char *dup = strdup(path);

	if (!dup)
		return -ENOMEM;
	for (char *p = dup + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dup, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dup, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* A file in the state directory must be a regular file (or absent): a
 * FIFO would block the open, a symlink could point anywhere (/dev/zero). */
static int vn_state_file_ok(struct vn_ctx *c, const char *name)
{
	struct stat st;

	if (fstatat(c->state_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISREG(st.st_mode))
		return vn_err(-EINVAL, "%s/%s is not a regular file; refusing to use it",
			      c->opts.state_dir, name);
	return 0;
}

static int vn_db_open(struct vn_ctx *c, const char *name, sqlite3 **out)
{
	static const char *const sidecars[] = {"", "-wal", "-shm", "-journal"};
	_cleanup_free_ char *path = NULL;
	char side[128];
	int rc, r;

	for (size_t i = 0; i < sizeof(sidecars) / sizeof(sidecars[0]); i++) {
		snprintf(side, sizeof(side), "%s%s", name, sidecars[i]);
		r = vn_state_file_ok(c, side);
		if (r < 0)
			return r;
	}
	if (asprintf(&path, "%s/%s", c->opts.state_dir, name) < 0)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, out,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
				     SQLITE_OPEN_FULLMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		vn_err(vn_sql_errno(rc), "cannot open %s: %s", path,
		       *out ? sqlite3_errmsg(*out) : sqlite3_errstr(rc));
		sqlite3_close(*out);
		*out = NULL;
		return vn_sql_errno(rc) ?: -EIO;
	}
	sqlite3_busy_timeout(*out, 2000);
	sqlite3_extended_result_codes(*out, 1);
	/* WAL + FULL: every commit is durable with one sync of the log. */
	r = vn_sql_exec(*out, "PRAGMA journal_mode=WAL");
	if (r == 0)
		r = vn_sql_exec(*out, "PRAGMA synchronous=FULL");
	if (r < 0)
		return vn_err(r, "cannot set up %s", path);
	return 0;
}

static int vn_store_schema(struct vn_store *s)
{
	int r = vn_sql_exec(s->db,
			    "CREATE TABLE IF NOT EXISTS meta("
			    " key TEXT PRIMARY KEY, value TEXT NOT NULL);"
			    "CREATE TABLE IF NOT EXISTS objects("
			    " id TEXT PRIMARY KEY, type TEXT NOT NULL, parent TEXT,"
			    " name TEXT NOT NULL, doc TEXT NOT NULL);"
			    "CREATE TABLE IF NOT EXISTS quarantine("
			    " qid INTEGER PRIMARY KEY, id TEXT, doc TEXT,"
			    " reason TEXT NOT NULL, at INTEGER NOT NULL);"
			    "INSERT OR IGNORE INTO meta VALUES('schema', " VN_SCHEMA_VERSION ");");

	if (r == 0)
		r = vn_sql_exec(s->own, "CREATE TABLE IF NOT EXISTS owned("
					" kind TEXT NOT NULL, name TEXT NOT NULL,"
					" PRIMARY KEY(kind, name));");
	return r;
}

static void vn_owned_key_free(struct lh_entry *e)
{
	free(lh_entry_k(e));
}

static int vn_owned_load(struct vn_store *s)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int rc;

	s->owned = lh_kchar_table_new(64, vn_owned_key_free);
	if (!s->owned)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(s->own, "SELECT kind, name FROM owned", -1, &st, NULL);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		char *key = NULL;

		if (asprintf(&key, "%s/%s", (const char *)sqlite3_column_text(st, 0),
			     (const char *)sqlite3_column_text(st, 1)) < 0)
			return -ENOMEM;
		lh_table_insert(s->owned, key, (void *)1);
	}
	return rc == SQLITE_DONE ? 0 : vn_sql_errno(rc);
}

int vn_persist_open(struct vn_ctx *c)
{
	struct vn_store *s;
	int r;

	r = vn_mkdir_p(c->opts.state_dir);
	if (r < 0)
		return vn_err(r, "cannot create state directory %s", c->opts.state_dir);
	c->state_fd = open(c->opts.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->state_fd < 0)
		return vn_err(-errno, "cannot open state directory %s", c->opts.state_dir);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lock_fd = -1;
	c->store = s;
	/* One daemon per state directory. */
	r = vn_state_file_ok(c, "lock");
	if (r < 0)
		return r;
	s->lock_fd = openat(c->state_fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s->lock_fd < 0)
		return vn_err(-errno, "cannot open %s/lock", c->opts.state_dir);
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return vn_err(-EBUSY, "another vnetfs daemon uses the state directory %s",
			      c->opts.state_dir);
	r = vn_db_open(c, "vnetfs.db", &s->db);
	if (r == 0)
		r = vn_db_open(c, "owned.db", &s->own);
	if (r == 0)
		r = vn_store_schema(s);
	if (r == 0)
		r = vn_owned_load(s);
	if (r < 0)
		return vn_err(r, "cannot open the state store in %s", c->opts.state_dir);
	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO objects(id, type, parent, name, doc)"
			       " VALUES(?, ?, ?, ?, ?)",
			       -1, &s->put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "DELETE FROM objects WHERE id = ?", -1, &s->del, NULL) !=
		    SQLITE_OK)
		return vn_err(-EIO, "cannot prepare the state store: %s", sqlite3_errmsg(s->db));
	return 0;
}

void vn_persist_close(struct vn_ctx *c)
{
	struct vn_store *s = c->store;

	if (!s)
		return;
	sqlite3_finalize(s->put);
	sqlite3_finalize(s->del);
	sqlite3_close(s->db);
	sqlite3_close(s->own);
	if (s->owned)
		lh_table_free(s->owned);
	free(s->kept);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s);
	c->store = NULL;
	if (c->state_fd >= 0)
		close(c->state_fd);
	c->state_fd = -1;
}

/* ---- transactions ---- */

void vn_txn_begin(struct vn_ctx *c)
{
	c->txn_depth++;
}

/* Rows are staged only inside a transaction; the first one opens it. */
static int vn_txn_stage(struct vn_ctx *c)
{
	int r;

	if (c->txn_open)
		return c->txn_failed ? -EIO : 0;
	r = vn_sql_exec(c->store->db, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	c->txn_open = true;
	c->txn_failed = false;
	return 0;
}

int vn_txn_end(struct vn_ctx *c, bool ok)
{
	int r = 0;

	if (c->txn_depth <= 0)
		return 0;
	if (--c->txn_depth > 0)
		return 0;
	if (!c->txn_open) {
		/* nothing staged: memory changes stand, or fall with !ok */
		vn_undo_finish(c, !ok);
		return 0;
	}
	c->txn_open = false;
	if (ok && !c->txn_failed) {
		r = vn_sql_exec(c->store->db, "COMMIT");
		if (r == 0) {
			vn_undo_finish(c, false);
			return 0;
		}
	}
	vn_sql_exec(c->store->db, "ROLLBACK");
	c->txn_failed = false;
	vn_undo_finish(c, true);
	return ok ? (r ?: -EIO) : 0;
}

int vn_obj_save_end(struct vn_ctx *c, struct vn_obj *o)
{
	int r = vn_obj_save(c, o);

	if (r == 0)
		return vn_txn_end(c, true);
	vn_txn_end(c, false);
	return r;
}

static bool vn_persisting(struct vn_ctx *c)
{
	return c->store && c->store->db && !c->loading && !c->persist_off;
}

static struct json_object *vn_persist_doc(struct vn_obj *o)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "type", json_object_new_string(o->kind->type));
	json_object_object_add(j, "name", json_object_new_string(o->name));
	json_object_object_add(j, "id", json_object_new_string(o->id));
	json_object_object_add(j, "parent",
			       o->parent ? json_object_new_string(o->parent->id) : NULL);
	json_object_object_add(j, "uid", json_object_new_int64(o->uid));
	json_object_object_add(j, "gid", json_object_new_int64(o->gid));
	json_object_object_add(j, "ctime", json_object_new_int64(o->ctime.tv_sec));
	json_object_object_add(j, "ctime_ns", json_object_new_int64(o->ctime.tv_nsec));
	json_object_object_add(j, "props", json_object_get(o->props));
	return j;
}

/* Run a prepared statement once (bindings set), inside a transaction that
 * is opened here if the caller has none (a change of its own). */
static int vn_stage_step(struct vn_ctx *c, sqlite3_stmt *st)
{
	bool own = c->txn_depth == 0;
	int rc, r;

	if (own)
		vn_txn_begin(c);
	r = vn_txn_stage(c);
	if (r == 0) {
		rc = sqlite3_step(st);
		r = rc == SQLITE_DONE ? 0 : vn_sql_errno(rc) ?: -EIO;
		if (r < 0)
			vn_warn(r, "store: %s", sqlite3_errmsg(c->store->db));
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r < 0)
		c->txn_failed = true;
	if (own) {
		int e = vn_txn_end(c, r == 0);

		if (r == 0)
			r = e;
	}
	return r;
}

int vn_obj_save(struct vn_ctx *c, struct vn_obj *o)
{
	_cleanup_json_ struct json_object *doc = NULL;
	sqlite3_stmt *st;
	const char *text;
	int r;

	if (!vn_persisting(c) || o->deleting)
		return 0;
	doc = vn_persist_doc(o);
	if (!doc)
		return -ENOMEM;
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	st = c->store->put;
	sqlite3_bind_text(st, 1, o->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->kind->type, -1, SQLITE_STATIC);
	if (o->parent)
		sqlite3_bind_text(st, 3, o->parent->id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_text(st, 4, o->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, text, -1, SQLITE_STATIC);
	r = vn_stage_step(c, st);
	if (r < 0)
		return vn_err(r, "cannot write state of %s %s", o->kind->type, o->name);
	return 0;
}

int vn_persist_remove(struct vn_ctx *c, struct vn_obj *o)
{
	sqlite3_stmt *st;
	int r;

	if (!vn_persisting(c))
		return 0;
	st = c->store->del;
	sqlite3_bind_text(st, 1, o->id, -1, SQLITE_STATIC);
	r = vn_stage_step(c, st);
	if (r < 0)
		return vn_err(r, "cannot remove state of %s %s", o->kind->type, o->name);
	return 0;
}

static int vn_meta_get(struct vn_ctx *c, const char *key, char *buf, size_t len)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(c->store->db, "SELECT value FROM meta WHERE key = ?", -1, &st,
				NULL);
	if (rc != SQLITE_OK)
		return vn_sql_errno(rc);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return vn_sql_errno(rc);
	snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	return 0;
}

static int vn_meta_set(struct vn_ctx *c, const char *key, const char *value)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(c->store->db, "INSERT OR REPLACE INTO meta VALUES(?, ?)", -1, &st,
				NULL);
	if (rc != SQLITE_OK)
		return vn_sql_errno(rc);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	return rc == SQLITE_DONE ? 0 : vn_sql_errno(rc);
}

bool vn_persist_initialized(struct vn_ctx *c)
{
	char v[16];

	return vn_meta_get(c, "initialized", v, sizeof(v)) == 0;
}

int vn_persist_mark_initialized(struct vn_ctx *c)
{
	return vn_meta_set(c, "initialized", "1");
}

/* ---- kernel objects this daemon made outside its namespace ---- */

static void vn_owned_key(char *buf, size_t len, const char *kind, const char *name)
{
	snprintf(buf, len, "%s/%s", kind, name);
}

bool vn_own_has(struct vn_ctx *c, const char *kind, const char *name)
{
	char key[192];

	if (!c->store || !c->store->owned)
		return false;
	vn_owned_key(key, sizeof(key), kind, name);
	return lh_table_lookup_entry(c->store->owned, key) != NULL;
}

static int vn_own_sql(struct vn_ctx *c, const char *sql, const char *kind, const char *name)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->store->own, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return vn_sql_errno(rc);
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	return rc == SQLITE_DONE ? 0 : vn_sql_errno(rc) ?: -EIO;
}

int vn_own_add(struct vn_ctx *c, const char *kind, const char *name)
{
	char key[192];
	char *dup;
	int r;

	if (!c->store || !c->store->own || vn_own_has(c, kind, name))
		return 0;
	r = vn_own_sql(c, "INSERT OR IGNORE INTO owned VALUES(?, ?)", kind, name);
	if (r < 0)
		return vn_err(r, "cannot record %s %s as ours", kind, name);
	vn_owned_key(key, sizeof(key), kind, name);
	dup = strdup(key);
	if (!dup)
		return -ENOMEM;
	lh_table_insert(c->store->owned, dup, (void *)1);
	return 0;
}

void vn_own_del(struct vn_ctx *c, const char *kind, const char *name)
{
	char key[192];

	if (!c->store || !c->store->own || !vn_own_has(c, kind, name))
		return;
	if (vn_own_sql(c, "DELETE FROM owned WHERE kind = ? AND name = ?", kind, name) < 0)
		return; /* a stale record only makes the sweep try again */
	vn_owned_key(key, sizeof(key), kind, name);
	lh_table_delete(c->store->owned, key);
}

int vn_own_list(struct vn_ctx *c, const char *kind, char ***out)
{
	size_t n = 0, cap = 0, kl = strlen(kind);
	char **v = NULL;
	struct lh_entry *e;

	*out = NULL;
	if (!c->store || !c->store->owned)
		return 0;
	lh_foreach(c->store->owned, e)
	{
		const char *key = lh_entry_k(e);

		if (strncmp(key, kind, kl) || key[kl] != '/')
			continue;
		if (n + 1 >= cap) {
			char **nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto oom;
			v = nv;
		}
		v[n] = strdup(key + kl + 1);
		if (!v[n])
			goto oom;
		v[++n] = NULL;
	}
	*out = v;
	return 0;
oom:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return -ENOMEM;
}

/* ---- loading ---- */

struct vn_pending {
	struct json_object *doc;
	char id[37];
	long long ctime, ctime_ns;
};

struct vn_loader {
	struct vn_ctx *c;
	struct vn_pending *pend;
	size_t n, cap;
};

static int vn_pending_cmp(const void *a, const void *b)
{
	const struct vn_pending *x = a, *y = b;

	if (x->ctime != y->ctime)
		return x->ctime < y->ctime ? -1 : 1;
	return x->ctime_ns < y->ctime_ns ? -1 : x->ctime_ns > y->ctime_ns;
}

static const char *vn_doc_str(struct json_object *doc, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(doc, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool vn_doc_int(struct json_object *doc, const char *key, long long min, long long max,
		       long long *out)
{
	struct json_object *v;

	*out = 0;
	if (!json_object_object_get_ex(doc, key, &v))
		return true; /* absent: 0 */
	if (!json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return *out >= min && *out <= max;
}

static bool vn_uuid_ok(const char *id)
{
	if (!id || strlen(id) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? id[i] != '-' : !strchr("0123456789abcdef", id[i]))
			return false;
	}
	return true;
}

/* Keep a record (or one value of it) aside, with the reason. */
static void vn_quarantine(struct vn_ctx *c, const char *id, const char *doc, const char *reason,
			  bool remove)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	_cleanup_stmt_ sqlite3_stmt *del = NULL;

	vn_warn(-EUCLEAN, "state record %s set aside: %s", id ? id : "?", reason);
	if (!c->store || !c->store->db)
		return;
	if (sqlite3_prepare_v2(c->store->db,
			       "INSERT INTO quarantine(id, doc, reason, at)"
			       " VALUES(?, ?, ?, strftime('%s','now'))",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, doc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE || !remove || !id)
		return;
	if (sqlite3_prepare_v2(c->store->db, "DELETE FROM objects WHERE id = ?", -1, &del, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(del, 1, id, -1, SQLITE_STATIC);
		sqlite3_step(del);
	}
}

/* Tell the parent (if it is loaded) that a child of it was set aside. */
static void vn_note_parent(struct vn_ctx *c, struct json_object *doc, const char *what)
{
	const char *pid = doc ? vn_doc_str(doc, "parent") : NULL;
	struct vn_obj *parent = pid ? vn_find_id(c, pid) : NULL;
	struct vn_err e = {.code = -EUCLEAN};

	if (!parent)
		return;
	snprintf(e.msg, sizeof(e.msg), "%s", what);
	vn_obj_set_error(parent, &e);
	parent->damaged = true;
}

/* Validate the loaded values like writes: the type, the range, the
 * attribute's own syntax check. A bad value is set aside. */
static void vn_load_props(struct vn_ctx *c, struct vn_obj *o, const char *doctext)
{
	_cleanup_buf_ struct vn_buf why = {0};
	struct json_object_iterator it, end;
	char **drop = NULL;
	size_t ndrop = 0;

	it = json_object_iter_begin(o->props);
	end = json_object_iter_end(o->props);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		struct json_object *v = json_object_iter_peek_value(&it);
		const struct vn_attr *a = vn_attr_find(o->kind, key);
		struct vn_err err = {0};
		int r;

		if (key[0] == '_')
			continue; /* the kind's own bookkeeping */
		if (!a)
			r = vn_fail(&err, -EINVAL, "%s is not an attribute of a %s", key,
				    o->kind->type);
		else
			r = vn_attr_validate(c, o, a, v, &err);
		if (r == 0)
			continue;
		vn_buf_printf(&why, "%s%s", why.len ? "; " : "", err.msg);
		char **nd = realloc(drop, (ndrop + 1) * sizeof(*drop));

		if (!nd)
			break;
		drop = nd;
		drop[ndrop++] = strdup(key);
	}
	for (size_t i = 0; i < ndrop; i++) {
		if (drop[i])
			json_object_object_del(o->props, drop[i]);
		free(drop[i]);
	}
	free(drop);
	if (!why.len)
		return;
	vn_quarantine(c, o->id, doctext, why.s, false);
	struct vn_err e = {.code = -EUCLEAN};

	snprintf(e.msg, sizeof(e.msg),
		 "the stored state had bad values, set aside (the defaults are used): %s", why.s);
	vn_obj_set_error(o, &e);
	o->damaged = true;
}

/* Attach one record if its parent is in the model. 1: attached, 0: parent
 * not (yet) there, <0: unusable record (why says why). */
static int vn_persist_attach(struct vn_ctx *c, struct vn_pending *p, char *why, size_t wlen)
{
	const char *type = vn_doc_str(p->doc, "type"), *name = vn_doc_str(p->doc, "name");
	const char *id = vn_doc_str(p->doc, "id"), *parent_id = vn_doc_str(p->doc, "parent");
	const struct vn_kind *k = type ? vn_kind_by_type(type) : NULL;
	struct json_object *props = NULL;
	long long uid, gid;
	struct vn_coll *coll;
	struct vn_obj *o;
	int r;

	if (!type)
		return snprintf(why, wlen, "no type"), -EINVAL;
	if (!k)
		return snprintf(why, wlen, "unknown kind '%.40s' (a newer version's?)", type),
		       -EINVAL;
	if (!name || vn_name_check(name) < 0)
		return snprintf(why, wlen, "bad name"), -EINVAL;
	if (!vn_uuid_ok(id) || (parent_id && !vn_uuid_ok(parent_id)))
		return snprintf(why, wlen, "bad id"), -EINVAL;
	if (p->id[0] && strcmp(p->id, id))
		return snprintf(why, wlen, "the record names id %s", id), -EINVAL;
	if (!vn_doc_int(p->doc, "uid", 0, 0xfffffffeLL, &uid) ||
	    !vn_doc_int(p->doc, "gid", 0, 0xfffffffeLL, &gid))
		return snprintf(why, wlen, "bad owner"), -EINVAL;
	if (parent_id) {
		struct vn_obj *parent = vn_find_id(c, parent_id);

		if (!parent)
			return 0;
		coll = vn_child_coll(parent, k);
		if (!coll)
			return snprintf(why, wlen, "a %s cannot be in a %s", k->type,
					parent->kind->type),
			       -EINVAL;
	} else {
		coll = vn_root_coll(c, k);
		if (!coll)
			return snprintf(why, wlen, "a %s needs a parent", k->type), -EINVAL;
	}
	if (vn_coll_find(coll, name) || vn_find_id(c, id) ||
	    (k->global_names && vn_find_global(c, k, name)))
		return snprintf(why, wlen, "%s '%s' is there twice", k->type, name), -EINVAL;
	if (!json_object_object_get_ex(p->doc, "props", &props) ||
	    !json_object_is_type(props, json_type_object))
		props = NULL;
	r = vn_obj_attach(c, coll, name, id, (uid_t)uid, (gid_t)gid,
			  props ? json_object_get(props) : NULL, &o);
	if (r < 0)
		return snprintf(why, wlen, "%s", strerror(-r)), r;
	o->ctime.tv_sec = (time_t)p->ctime;
	o->ctime.tv_nsec = (long)p->ctime_ns;
	o->mtime = o->ctime;
	vn_load_props(c, o, json_object_to_json_string_ext(p->doc, JSON_C_TO_STRING_PLAIN));
	return 1;
}

static int vn_loader_add(struct vn_loader *l, const char *rowid, const char *text)
{
	struct json_object *doc;
	long long ct, ctn;

	doc = text ? json_tokener_parse(text) : NULL;
	if (!doc || !json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		vn_quarantine(l->c, rowid, text, "not a JSON object", true);
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct vn_pending *np = realloc(l->pend, cap * sizeof(*np));

		if (!np) {
			json_object_put(doc);
			return -ENOMEM;
		}
		l->pend = np;
		l->cap = cap;
	}
	vn_doc_int(doc, "ctime", 0, (1LL << 62), &ct);
	vn_doc_int(doc, "ctime_ns", 0, 999999999, &ctn);
	l->pend[l->n].doc = doc;
	l->pend[l->n].ctime = ct;
	l->pend[l->n].ctime_ns = ctn;
	snprintf(l->pend[l->n].id, sizeof(l->pend[l->n].id), "%s", rowid ? rowid : "");
	l->n++;
	return 0;
}

/* Read a state file of an earlier version: a regular file, bounded. */
static char *vn_read_record(int dirfd, const char *name)
{
	struct stat st;
	char *buf;
	size_t off = 0;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > VN_RECORD_MAX) {
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf && off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	close(fd);
	if (buf)
		buf[off] = '\0';
	return buf;
}

/* Import STATE/objects/<id>.json of earlier versions in one transaction. */
static int vn_persist_migrate(struct vn_ctx *c)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct dirent *de;
	struct stat sb;
	size_t count = 0;
	int dfd, r = 0;
	bool marker = false;
	DIR *d;

	if (fstatat(c->state_fd, "objects", &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(sb.st_mode))
		return 0;
	dfd = openat(c->state_fd, "objects", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	if (sqlite3_prepare_v2(c->store->db,
			       "INSERT OR IGNORE INTO objects(id, type, parent, name, doc)"
			       " VALUES(?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK ||
	    vn_sql_exec(c->store->db, "BEGIN IMMEDIATE") < 0) {
		closedir(d);
		return -EIO;
	}
	while (r == 0 && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		_cleanup_json_ struct json_object *doc = NULL;
		_cleanup_free_ char *text = NULL;
		char id[37];

		if (!strcmp(de->d_name, ".initialized")) {
			marker = true;
			continue;
		}
		if (de->d_name[0] == '.' || l != 41 || strcmp(de->d_name + 36, ".json"))
			continue;
		snprintf(id, sizeof(id), "%.36s", de->d_name);
		text = vn_read_record(dfd, de->d_name);
		doc = text ? json_tokener_parse(text) : NULL;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, doc ? vn_doc_str(doc, "type") ?: "?" : "?", -1,
				  SQLITE_STATIC);
		if (doc && vn_doc_str(doc, "parent"))
			sqlite3_bind_text(st, 3, vn_doc_str(doc, "parent"), -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 3);
		sqlite3_bind_text(st, 4, doc ? vn_doc_str(doc, "name") ?: "?" : "?", -1,
				  SQLITE_STATIC);
		/* an unreadable file is imported as it is, and quarantined by
		 * the loader, never dropped */
		sqlite3_bind_text(st, 5, text ? text : "", -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			r = -EIO;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		count++;
	}
	closedir(d);
	if (r == 0 && marker)
		r = vn_meta_set(c, "initialized", "1");
	if (r == 0)
		r = vn_sql_exec(c->store->db, "COMMIT");
	if (r < 0) {
		vn_sql_exec(c->store->db, "ROLLBACK");
		return vn_err(r, "cannot import the state files of %s/objects", c->opts.state_dir);
	}
	if (renameat(c->state_fd, "objects", c->state_fd, "objects.migrated") < 0)
		return vn_err(-errno, "imported %zu state files but cannot rename %s/objects",
			      count, c->opts.state_dir);
	vn_info("imported %zu state files from %s/objects (kept as objects.migrated)", count,
		c->opts.state_dir);
	return 0;
}

/* Attach what was read, parents first; set aside what cannot be read;
 * hold back what has no parent. */
static void vn_loader_run(struct vn_ctx *c, struct vn_loader *lp)
{
	struct vn_loader l = *lp;
	size_t left;
	bool progress;
	int r;

	if (l.n)
		qsort(l.pend, l.n, sizeof(*l.pend), vn_pending_cmp);
	/* Parents first: repeat until a pass attaches nothing. */
	left = l.n;
	do {
		progress = false;
		for (size_t i = 0; i < l.n; i++) {
			char why[160], what[320];

			if (!l.pend[i].doc)
				continue;
			r = vn_persist_attach(c, &l.pend[i], why, sizeof(why));
			if (r == 0)
				continue;
			if (r < 0) {
				const char *text = json_object_to_json_string_ext(
					l.pend[i].doc, JSON_C_TO_STRING_PLAIN);

				vn_quarantine(c, l.pend[i].id, text, why, true);
				snprintf(what, sizeof(what),
					 "a stored %s record (%s) could not be loaded and was set "
					 "aside: %s",
					 vn_doc_str(l.pend[i].doc, "type") ?: "?", l.pend[i].id,
					 why);
				vn_note_parent(c, l.pend[i].doc, what);
			}
			json_object_put(l.pend[i].doc);
			l.pend[i].doc = NULL;
			left--;
			progress = true;
		}
	} while (progress && left);
	/* What is left has no parent in the model (its parent was set aside):
	 * held back, never deleted. */
	for (size_t i = 0; i < l.n; i++) {
		if (!l.pend[i].doc)
			continue;
		vn_keep_id(c, l.pend[i].id);
		vn_warn(-ENOENT, "state record %s (%s %s) held back: its parent %s is not loaded",
			l.pend[i].id, vn_doc_str(l.pend[i].doc, "type") ?: "?",
			vn_doc_str(l.pend[i].doc, "name") ?: "?",
			vn_doc_str(l.pend[i].doc, "parent") ?: "?");
	}
}

/* The loader on records given as text (the fuzzer's entry point; ids may
 * be NULL). Nothing is stored without a store. */
void vn_persist_load_texts(struct vn_ctx *c, const char *const *texts, size_t n)
{
	struct vn_loader l = {.c = c};

	for (size_t i = 0; i < n; i++)
		if (vn_loader_add(&l, NULL, texts[i]) < 0)
			break;
	vn_loader_run(c, &l);
	for (size_t i = 0; i < l.n; i++)
		json_object_put(l.pend[i].doc);
	free(l.pend);
}

int vn_persist_load(struct vn_ctx *c)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct vn_loader l = {.c = c};
	int r, rc;

	r = vn_persist_migrate(c);
	if (r < 0)
		return r;
	/* Quarantine rows are written here, in one transaction (deferred:
	 * a read-only store still loads). */
	r = vn_sql_exec(c->store->db, "BEGIN");
	if (r < 0)
		return r;
	rc = sqlite3_prepare_v2(c->store->db, "SELECT id, doc FROM objects", -1, &st, NULL);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		const char *doc = (const char *)sqlite3_column_text(st, 1);

		if (doc && strlen(doc) > VN_RECORD_MAX)
			doc = NULL;
		r = vn_loader_add(&l, (const char *)sqlite3_column_text(st, 0), doc);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = vn_err(vn_sql_errno(rc) ?: -EIO, "cannot read the state store: %s",
			   sqlite3_errmsg(c->store->db));
	sqlite3_finalize(st);
	st = NULL;
	if (r < 0)
		goto out;
	vn_loader_run(c, &l);
	/* Records set aside whole (now or by an earlier start) keep their
	 * kernel objects too: nothing that depends on them is deleted. */
	if (sqlite3_prepare_v2(c->store->db, "SELECT DISTINCT id FROM quarantine", -1, &st, NULL) ==
	    SQLITE_OK) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *id = (const char *)sqlite3_column_text(st, 0);

			if (id && !vn_find_id(c, id))
				vn_keep_id(c, id);
		}
	}
out:
	for (size_t i = 0; i < l.n; i++)
		json_object_put(l.pend[i].doc);
	free(l.pend);
	if (vn_sql_exec(c->store->db, r < 0 ? "ROLLBACK" : "COMMIT") < 0 && r == 0)
		r = -EIO;
	return r;
}
