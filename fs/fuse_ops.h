/* SPDX-License-Identifier: MIT */
#ifndef VNETFS_FS_FUSE_OPS_H
#define VNETFS_FS_FUSE_OPS_H

#define FUSE_USE_VERSION 312
#include <fuse.h>

/* The file operations; private_data is the struct vn_ctx. */
extern const struct fuse_operations vn_fuse_ops;

struct vn_ctx;
/* Stop the kernel-cache notifier thread (started by the init op): call
 * once the session loop has returned, before fuse_destroy frees libfuse's
 * node table, which the notifier reads. The destroy op calls it too. */
void vn_fuse_cache_stop(struct vn_ctx *c);
/* The FUSE layer's own state in the context (c->fuse_cache): made before
 * fuse_new, freed after vn_ctx_fini. */
int vn_fuse_state_init(struct vn_ctx *c);
void vn_fuse_state_fini(struct vn_ctx *c);

#endif
