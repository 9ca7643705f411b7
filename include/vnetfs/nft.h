/* SPDX-License-Identifier: MIT */
/*
 * nftables through libnftnl + libmnl: the NAT of a router namespace.
 *
 * Each router namespace holds one table `ip vnetfs`. vn_nft_router_sync
 * replaces it whole, in one netlink batch (add table; delete table; add
 * table, chains, rules) so a change is all-or-nothing, like `nft -f`: at
 * start-up, on reconcile, for a gateway change. vn_nft_router_update
 * changes only the SNAT rules of the subnets that come and go (an
 * interface added or removed): one batch that adds a rule, or deletes one
 * by the handle the kernel gave it, and nothing else.
 *
 * One NETLINK_NETFILTER socket per struct vn_ns, opened on first use and
 * kept (closing one costs an RCU grace period). A rule with no
 * expressions in the hookless chain `vnetfs_mark` carries the comment
 * "vnetfs <hash> gen <n>": the hash of the table's contents (its fixed
 * part plus the sum of its SNAT rules', so order does not count) and the
 * nftables generation the commit that wrote it produced. Every commit of
 * ours (replace or update) rewrites it. A sync whose table hashes the same
 * while the namespace's generation is still that one sends nothing: no
 * commit at all happened there since, so the kernel holds exactly that.
 * Each SNAT rule carries its subnet as a user-data key (not a comment:
 * `nft list` does not show it), so a handle that found the table (after a
 * restart) learns every rule's handle from the same dump.
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
/* The table as it is, but for the SNAT rules of `add` (added) and `del`
 * (removed): cfg's gateway, snat and floating IPs must be what the last
 * commit on this handle wrote (cfg->internal is not read). One batch,
 * all or nothing. -ESTALE when this handle cannot tell what the kernel
 * holds (another commit in the namespace since its last one, a different
 * gateway, a table it found rather than made, or the kernel refused the
 * change): then call vn_nft_router_sync with the whole description. */
int vn_nft_router_update(struct vn_ns *ns, const struct vn_nft_router *cfg,
			 const struct vn_cidr *add, size_t nadd, const struct vn_cidr *del,
			 size_t ndel);
/* What vn_nft_router_sync / _update did on this handle (for tests and
 * benchmarks). */
struct vn_nft_stats {
	unsigned long batches; /* batches sent (replaces, removals, updates) */
	unsigned long updates; /* of those, vn_nft_router_update's */
	unsigned long skipped; /* syncs that found the kernel matching */
	unsigned long opens;   /* sockets opened */
};
void vn_nft_stats_get(const struct vn_ns *ns, struct vn_nft_stats *st);
/* The kept socket's fd, -1 if none is open. */
int vn_nft_sock_fd(const struct vn_ns *ns);

/* Does ns have our table? 1 yes, 0 no, <0 error. */
int vn_nft_router_exists(struct vn_ns *ns);

#endif
