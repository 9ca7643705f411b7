/* SPDX-License-Identifier: MIT */
/* The kinds, and the few functions kinds offer each other. */
#ifndef VNETFS_FS_KINDS_H
#define VNETFS_FS_KINDS_H

#include "vnetfs/ip.h"
#include "vnetfs/model.h"

extern const struct vn_kind vn_kind_network;
extern const struct vn_kind vn_kind_subnet;
extern const struct vn_kind vn_kind_flavor;

/* kind_network.c */
/* The bridge of a network: "vnb-" + id digits. */
void vn_network_bridge(const struct vn_obj *net, char buf[16]);
/* External networks carry their subnets' gateway addresses on the bridge
 * (devstack's br-ex). Recompute them; skip `except` (a subnet going away). */
int vn_network_sync_addrs(struct vn_ctx *c, struct vn_obj *net, const struct vn_obj *except,
			  struct vn_err *err);

/* kind_subnet.c */
/* Maximum allocation pools on one subnet. */
#define VN_MAX_POOLS 16
/* The subnet as IPAM sees it (effective values). -ENOENT: no cidr yet.
 * pools[] must hold VN_MAX_POOLS. */
int vn_subnet_ipam(struct vn_obj *sub, struct vn_subnet_ipam *out, struct vn_pool *pools);

#endif
