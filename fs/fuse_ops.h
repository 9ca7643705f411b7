/* SPDX-License-Identifier: MIT */
#ifndef VNETFS_FS_FUSE_OPS_H
#define VNETFS_FS_FUSE_OPS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

/* The file operations (FUSE's low-level API); the session's userdata is
 * the struct vn_ctx. */
extern const struct fuse_lowlevel_ops vn_fuse_ops;

struct vn_ctx;
/* The session the kernel-cache notifier sends its invalidations to: set
 * after fuse_session_new, before the loop (the init op starts it). */
void vn_fuse_set_session(struct vn_ctx *c, struct fuse_session *se);
/* Stop the kernel-cache notifier threads: call once the session loop has
 * returned, before fuse_session_destroy. The destroy op calls it too. */
void vn_fuse_cache_stop(struct vn_ctx *c);
/* The FUSE layer's own state in the context (c->fuse_cache): made before
 * fuse_session_new, freed after vn_ctx_fini. */
int vn_fuse_state_init(struct vn_ctx *c);
void vn_fuse_state_fini(struct vn_ctx *c);

#endif
