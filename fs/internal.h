/* SPDX-License-Identifier: MIT */
/* Internal interfaces between the files of fs/ (not for kinds). */
#ifndef VNETFS_FS_INTERNAL_H
#define VNETFS_FS_INTERNAL_H

#include "vnetfs/model.h"

/* model.c */
int vn_obj_attach(struct vn_ctx *c, struct vn_coll *coll, const char *name, const char *id,
		  uid_t uid, gid_t gid, struct json_object *props, struct vn_obj **out);

/* persist.c: one JSON file per object under STATE/objects/ */
int vn_persist_open(struct vn_ctx *c);
int vn_persist_remove(struct vn_ctx *c, struct vn_obj *o);
int vn_persist_load(struct vn_ctx *c);
/* Set once the first start created the default objects. */
bool vn_persist_initialized(struct vn_ctx *c);
int vn_persist_mark_initialized(struct vn_ctx *c);

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
	struct timespec mtime;
};
struct vn_scratch *vn_scratch_find(struct vn_obj *o, const char *name);
int vn_scratch_create(struct vn_obj *o, const char *name, mode_t mode, struct vn_scratch **out);
void vn_scratch_remove(struct vn_obj *o, struct vn_scratch *s);
void vn_scratch_free_all(struct vn_obj *o);

/* attr.c */
/* Render an attribute's effective value as text. */
int vn_attr_render(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, struct vn_buf *out);
/* The write path's parser alone (for the fuzz targets): the explicit JSON
 * value in *out, NULL for "back to the default". */
int vn_attr_parse(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a, const char *val,
		  size_t len, bool append, struct json_object **out, struct vn_err *err);
/* The common file (id status error json) called name, or NULL. */
const char *vn_common_file(const char *name);

#endif
