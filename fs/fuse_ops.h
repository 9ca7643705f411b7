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

#endif
