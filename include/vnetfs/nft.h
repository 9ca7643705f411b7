/* SPDX-License-Identifier: MIT */
/*
 * nftables through libnftnl + libmnl: the NAT of a router namespace.
 *
 * Each router namespace holds one table `ip vnetfs` that is always
 * replaced whole, in one netlink batch (add table; delete table; add
 * table, chains, rules) so a change is all-or-nothing, like `nft -f`.
 * Later features (floating IPs, security groups) add to the description
 * and to the same batch.
 *
 * One NETLINK_NETFILTER socket per struct vn_ns, opened on first use and
 * kept (closing one costs an RCU grace period). The table carries a
 * comment "vnetfs <hash> gen <n>": the hash of the batch that made it and
 * the nftables generation its commit produced. A sync whose batch hashes
 * the same while the namespace's generation is still that one sends
 * nothing: no commit at all happened there since, so the kernel holds
 * exactly what that batch made.
 */
#ifndef VNETFS_NFT_H
#define VNETFS_NFT_H

#include <stdbool.h>
#include <stddef.h>

#include "vnetfs/backend.h"
#include "vnetfs/ip.h"

#define VN_NFT_TABLE "vnetfs"

/* A floating IP: traffic to `floating` goes to `fixed`, and `fixed`
 * leaving through the gateway appears as `floating`. */
struct vn_nft_fip {
	struct vn_addr floating, fixed;
};

struct vn_nft_router {
	/* The gateway leg ("qg-..."); "" or NULL: no gateway, so no NAT at
	 * all and the table is removed. */
	const char *gw_ifname;
	struct vn_addr gw_addr;		/* SNAT source for the internal subnets */
	bool snat;			/* enable_snat */
	const struct vn_cidr *internal; /* the router's internal IPv4 subnets */
	size_t ninternal;
	const struct vn_nft_fip *fips; /* 1:1 NAT (DNAT + SNAT), before SNAT */
	size_t nfips;
};

/* Make the `ip vnetfs` table in ns exactly what cfg describes (cfg NULL or
 * no gateway: no table). One batch; on failure the old table stays. */
int vn_nft_router_sync(struct vn_ns *ns, const struct vn_nft_router *cfg);
/* What vn_nft_router_sync did on this handle (for tests and benchmarks). */
struct vn_nft_stats {
	unsigned long batches; /* batches sent (table replaced or removed) */
	unsigned long skipped; /* syncs that found the kernel matching */
	unsigned long opens;   /* sockets opened */
};
void vn_nft_stats_get(const struct vn_ns *ns, struct vn_nft_stats *st);
/* The kept socket's fd, -1 if none is open. */
int vn_nft_sock_fd(const struct vn_ns *ns);

/* Does ns have our table? 1 yes, 0 no, <0 error. */
int vn_nft_router_exists(struct vn_ns *ns);

#endif
