/* SPDX-License-Identifier: MIT */
#ifndef VNETFS_FS_FUSE_OPS_H
#define VNETFS_FS_FUSE_OPS_H

#define FUSE_USE_VERSION 312
#include <fuse.h>

/* The file operations; private_data is the struct vn_ctx. */
extern const struct fuse_operations vn_fuse_ops;

#endif
