/* SPDX-License-Identifier: MIT */
/* Internal interfaces between the files of fs/ (not for kinds). */
#ifndef VNETFS_FS_INTERNAL_H
#define VNETFS_FS_INTERNAL_H

#include "vnetfs/model.h"

/* model.c */
int vn_obj_attach(struct vn_ctx *c, struct vn_coll *coll, const char *name, const char *id,
		  uid_t uid, gid_t gid, struct json_object *props, struct vn_obj **out);

/* persist.c: the SQLite store STATE/vnetfs.db */
int vn_persist_open(struct vn_ctx *c);
void vn_persist_close(struct vn_ctx *c);
/* Load records given as JSON text, as the store's loader does (for the
 * fuzzer and tests: without a store nothing is written). */
void vn_persist_load_texts(struct vn_ctx *c, const char *const *texts, size_t n);
/* Ids of records stored but not loaded (quarantined, held back). */
size_t vn_persist_kept(struct vn_ctx *c, const char (**ids)[37]);
int vn_persist_remove(struct vn_ctx *c, struct vn_obj *o);
int vn_persist_load(struct vn_ctx *c);
/* Set once the first start created the default objects. */
bool vn_persist_initialized(struct vn_ctx *c);
int vn_persist_mark_initialized(struct vn_ctx *c);

/* errlog.c: the top-level `errors` file (the last refusals; a user reads
 * only their own lines, root all). Call with the model lock held. */
void vn_errlog_add(struct vn_ctx *c, uid_t uid, const char *path, int code, const char *msg);
int vn_errlog_render(struct vn_ctx *c, uid_t uid, struct vn_buf *out);
void vn_errlog_free(struct vn_ctx *c);
/* An object's error was set (vn_obj_set_error): recorded for the request
 * this thread serves (vn_errlog_request: its caller and path), else for
 * the object's owner and directory. */
void vn_errlog_note(struct vn_ctx *c, struct vn_obj *o, int code, const char *msg);
void vn_errlog_request(const char *path, uid_t uid);
void vn_errlog_request_end(void);

/* backend glue (kinds.c): open/close the main namespace */
int vn_ctx_backend_init(struct vn_ctx *c);
void vn_ctx_backend_fini(struct vn_ctx *c);
/* defaults on first start (kinds.c) */
int vn_create_defaults(struct vn_ctx *c);

/* scratch files (editor temp files) held in memory in an object dir */
struct vn_scratch {
	struct vn_scratch *next;
	char *name;
	struct vn_buf data;
	mode_t mode;
	uid_t uid; /* who created it: its owner, charged for its bytes */
	gid_t gid;
	unsigned long long serial; /* unique for the daemon's life (open handles) */
	struct timespec mtime;
};
struct vn_scratch *vn_scratch_find(struct vn_obj *o, const char *name);
int vn_scratch_create(struct vn_obj *o, const char *name, mode_t mode, uid_t uid, gid_t gid,
		      struct vn_scratch **out);
/* 0 if uid/gid may access s as want (R_OK, W_OK), by its mode bits;
 * root always may. */
int vn_scratch_access(const struct vn_scratch *s, uid_t uid, gid_t gid, int want);
/* Data changes, charged to the scratch owner (EFBIG, EDQUOT with err). */
int vn_scratch_write(struct vn_ctx *c, struct vn_scratch *s, const char *data, size_t size,
		     off_t off, struct vn_err *err);
int vn_scratch_truncate(struct vn_ctx *c, struct vn_scratch *s, size_t size, struct vn_err *err);
void vn_scratch_remove(struct vn_ctx *c, struct vn_obj *o, struct vn_scratch *s);
/* Frees without accounting: the object's vn_quota_obj_detach did that. */
void vn_scratch_free_all(struct vn_obj *o);

/* quota.c: per-uid limits on objects and scratch bytes (uid 0 never
 * counted). attach: -EDQUOT over the limit (never while loading). */
int vn_quota_obj_attach(struct vn_ctx *c, uid_t uid);
/* The object leaves the model: its count and its scratch bytes. */
void vn_quota_obj_detach(struct vn_ctx *c, struct vn_obj *o);
/* The sentence for an -EDQUOT from vn_quota_obj_attach; returns -EDQUOT. */
int vn_quota_obj_fail(struct vn_ctx *c, uid_t uid, struct vn_err *err);
/* A scratch file of uid goes from `from` to `to` bytes: -EDQUOT (with a
 * sentence) if growing would pass the limit, nothing changed then. */
int vn_quota_scratch_change(struct vn_ctx *c, uid_t uid, size_t from, size_t to,
			    struct vn_err *err);
/* chown of an object: its count moves from o->uid to uid (root's doing:
 * no limit is checked). */
int vn_quota_obj_move(struct vn_ctx *c, struct vn_obj *o, uid_t uid);
size_t vn_quota_objects(struct vn_ctx *c, uid_t uid);
size_t vn_quota_scratch(struct vn_ctx *c, uid_t uid);
void vn_quota_fini(struct vn_ctx *c);

/* graph.c: the object graph and change propagation */
int vn_graph_init(struct vn_ctx *c);
void vn_graph_fini(struct vn_ctx *c);
/* An object entered the model (its edges, and edges waiting for it) /
 * leaves it (edges naming it wait again). While loading: all at once,
 * at the first use after the load. */
void vn_graph_attach(struct vn_ctx *c, struct vn_obj *o);
void vn_graph_detach(struct vn_ctx *c, struct vn_obj *o);
/* o->props[name] changed (a write, a kind's vn_set, an undo): edges and
 * indexes follow. */
void vn_graph_prop(struct vn_obj *o, const char *name);
/* Pinned from outside the subtree of root: -EBUSY naming the referrer. */
int vn_graph_busy(struct vn_ctx *c, struct vn_obj *root, struct vn_obj *o, struct vn_err *err);
/* o's own hooks run (its write, create, delete, sync): what it changes on
 * the way does not make it dirty. */
void vn_graph_push(struct vn_ctx *c, struct vn_obj *o);
void vn_graph_pop(struct vn_ctx *c);
/* o changed (attribute name; NULL: created or deleted): sync every
 * dependent, in dependency order. undo: after a rollback, best effort
 * (failures mark the dependent failed). */
int vn_propagate(struct vn_ctx *c, struct vn_obj *o, const char *name, bool undo,
		 struct vn_err *err);

/* attr.c */
/* Render an attribute's effective value as text. */
int vn_attr_render(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, struct vn_buf *out);
/* The in-memory undo log of the open change: forget an object that goes
 * away; at the end, drop the log (commit) or replay it backwards. */
void vn_undo_forget(struct vn_ctx *c, struct vn_obj *o);
void vn_undo_finish(struct vn_ctx *c, bool replay);
/* A value loaded from the store, checked like a write of it. */
int vn_attr_validate(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
		     struct json_object *v, struct vn_err *err);
/* The write path's parser alone (for the fuzz targets): the explicit JSON
 * value in *out, NULL for "back to the default". */
int vn_attr_parse(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, const char *val,
		  size_t len, bool append, struct json_object **out, struct vn_err *err);
/* The common file (id status error json) called name, or NULL. */
const char *vn_common_file(const char *name);

#endif
