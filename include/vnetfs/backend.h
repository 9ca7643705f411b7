/* SPDX-License-Identifier: MIT */
/*
 * The kernel backend: links, addresses, routes and network namespaces,
 * through libnl-route (rtnetlink) and plain syscalls for namespaces.
 *
 * The backend never sees user text or paths inside the mount: only
 * interface names built from object ids, addresses and numbers that the
 * model already validated. Every function returns 0 or a negative errno
 * (libnl's -NLE_* codes are translated at this edge).
 *
 * A struct vn_ns is one network namespace with an rtnetlink socket opened
 * inside it. Sockets stay bound to the namespace they were created in, so
 * the daemon's threads never have to setns() to change links there.
 * Functions taking a vn_ns are safe to call from any thread but a single
 * vn_ns must not be used by two threads at once (the model lock
 * serialises all writers).
 */
#ifndef VNETFS_BACKEND_H
#define VNETFS_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vnetfs/ip.h"

/* Interface and namespace names we own start with these, so reconcile can
 * tell ours from everybody else's. Bridges: "vnb-" + 11 hex of the network
 * id; veth ends: "vnp-" (host side of a bound port), "qr-", "qg-" (router
 * legs, inside qrouter namespaces); peers on the bridge "vnr-"/"vng-". */
#define VN_BRIDGE_PREFIX "vnb-"
/* The ifalias the daemon gives both ends of every veth it makes: what it
 * may delete (vn_veth_ensure never deletes a link without it). */
#define VN_LINK_MARK "vnetfs"
#define VN_IFNAMSIZ 16

/* Interface name prefixes the daemon keeps for itself (the ones above,
 * and those of DHCP ports and instance NICs to come: "tap", "ns-", and
 * "qdhcp"): a user's `ifname` may not start with one. NULL-terminated;
 * the one list, also for the docs. */
extern const char *const vn_reserved_ifname_prefixes[];
/* The reserved prefix name starts with, or NULL. */
const char *vn_ifname_reserved(const char *name);

struct vn_ns;

/* Open the namespace registered as /run/netns/NAME, creating it first if
 * missing the way `ip netns add` does (a bind mount of a fresh namespace on
 * /run/netns/NAME, /run/netns made a shared mount point). name NULL: the
 * calling thread's current namespace. lo is brought up in a new one. */
int vn_ns_open(const char *name, bool create, struct vn_ns **out);
/* Open a namespace by path (/run/netns/NAME or /proc/PID/ns/net, nothing
 * else); never creates. -ENOENT if it does not exist, -EINVAL if not a
 * netns, -ELOOP if a symlink is on the way. Paths are hostile: no symlink
 * is followed, nothing is opened before it is known to be on nsfs (a FIFO,
 * device or file fails at once, never blocks), no FUSE directory is
 * walked. vn_ns_open checks /run/netns/NAME the same way. */
int vn_ns_open_path(const char *path, struct vn_ns **out);

/* What a namespace is, independent of the path that named it: the nsfs
 * inode (st_dev, st_ino) and the kernel's netns cookie (never reused while
 * the system runs; 0 on kernels before 5.14, which lack it). */
struct vn_ns_id {
	uint64_t dev, ino, cookie;
};
int vn_ns_id(const struct vn_ns *ns, struct vn_ns_id *id);
bool vn_ns_id_eq(const struct vn_ns_id *a, const struct vn_ns_id *b);
/* The uid owning the user namespace that owns ns, as the daemon sees it:
 * who created it (`unshare -U -n` by a user: that user). -EPERM if ns
 * belongs to the daemon's own user namespace (the host's: root's) or one
 * above it. */
int vn_ns_owner(const struct vn_ns *ns, uid_t *uid);
/* Who closes a handle's sockets and fd. Closing the last fd of a netlink
 * socket can wait for an RCU grace period (8-20 ms for NETLINK_NETFILTER),
 * and handles are closed under the model lock: the daemon hands them to a
 * thread of its own (fs/jobs.c, struct vn_fd_closer). A handle without a
 * closer closes them at once. close() is called with a descriptor the
 * closer now owns; it must not block. */
struct vn_closer {
	void (*close)(struct vn_closer *self, int fd);
};
void vn_ns_set_closer(struct vn_ns *ns, struct vn_closer *cl);
/* Frees ns at once; its sockets and fd go to its closer (or are closed
 * now, without one). */
void vn_ns_close(struct vn_ns *ns);
/* The namespace's fd (for setns or moving links into it). */
int vn_ns_fd(const struct vn_ns *ns);
/* Unmount and remove /run/netns/NAME (0 if it did not exist). Processes
 * still inside keep the namespace alive, as with `ip netns delete`. */
int vn_netns_delete(const char *name);
/* Names under /run/netns starting with prefix. *names is a NULL-terminated
 * malloc'd array of malloc'd strings (free with vn_strv_free). */
int vn_netns_list(const char *prefix, char ***names);
void vn_strv_free(char **v);

/* Run fn(arg) on the calling thread while it is inside ns (setns there and
 * back). For the few things netlink can't do (sysctl writes). */
int vn_ns_run(const struct vn_ns *ns, int (*fn)(void *arg), void *arg);
/* Write a sysctl under /proc/sys/... inside ns, e.g.
 * ("net/ipv4/ip_forward", "1"). */
int vn_ns_sysctl(const struct vn_ns *ns, const char *key, const char *value);

/* ---- links ---- */

struct vn_link_state {
	bool exists;
	int ifindex;
	unsigned mtu;
	bool up;
	uint8_t mac[6];
	char master[VN_IFNAMSIZ]; /* "" if none */
};

/* Make a bridge named ifname exist with this mtu and admin state (create,
 * or fix drift). Idempotent. ipv6 false: the host has no IPv6 on it (no
 * link-local address, no routes), as os-vif does for tenant bridges; it
 * is switched off before a new bridge first goes up. In a namespace opened
 * by name (vn_ns_open(name): the daemon's own), the first such bridge sets
 * net.ipv6.conf.default.disable_ipv6 = 1 there, and new tenant bridges are
 * then made up, with their mtu, in one RTM_NEWLINK; elsewhere (the
 * caller's own namespace) the default is left alone and each bridge gets
 * its own write. disable_ipv6 is only written when it differs. */
int vn_bridge_ensure(struct vn_ns *ns, const char *ifname, unsigned mtu, bool up, bool ipv6);
/* net.ipv6.conf.IFNAME.disable_ipv6 = !on, inside ns. */
int vn_link_set_ipv6(struct vn_ns *ns, const char *ifname, bool on);
/* Delete a link by name; 0 if it does not exist. */
int vn_link_delete(struct vn_ns *ns, const char *ifname);
int vn_link_get(struct vn_ns *ns, const char *ifname, struct vn_link_state *st);
/* Set mtu / admin state / mac (mac NULL: leave) of an existing link. */
int vn_link_set(struct vn_ns *ns, const char *ifname, unsigned mtu, bool up, const uint8_t *mac);
/* Names of links starting with prefix (NULL-terminated, vn_strv_free). */
int vn_link_list(struct vn_ns *ns, const char *prefix, char ***names);

/* A veth pair: host end `ifname` in ns, enslaved to bridge `master` (NULL:
 * none) and up; the peer is created directly inside peer_ns (which may be
 * ns itself) named peer_ifname, with mac (NULL: random) and mtu, and set up.
 * Idempotent: if both ends already exist as asked, fix mtu/mac/state/master
 * and return 0; a half-made pair is removed and remade. Both ends carry
 * the ifalias VN_LINK_MARK; a link under either name without it (not made
 * by the daemon) is never deleted: -EEXIST, nothing changed. On failure
 * nothing is left behind. */
int vn_veth_ensure(struct vn_ns *ns, const char *ifname, const char *master, struct vn_ns *peer_ns,
		   const char *peer_ifname, const uint8_t *mac, unsigned mtu);

/* ---- addresses and routes ---- */

/* Make the global-scope addresses of family af on ifname exactly addrs[]
 * (address + prefix length each): add missing, delete others. af
 * AF_UNSPEC: both families. Link-local IPv6 addresses are left alone. */
int vn_addr_sync(struct vn_ns *ns, const char *ifname, int af, const struct vn_cidr *addrs,
		 size_t n);

struct vn_route {
	struct vn_cidr dst;	  /* 0.0.0.0/0 for default */
	struct vn_addr gateway;	  /* af 0: directly connected via ifname */
	char ifname[VN_IFNAMSIZ]; /* "" : let the kernel pick by gateway */
};
/* The rtnetlink protocol of every route the daemon adds (`ip route` shows
 * "proto 118"; unused in iproute2's rt_protos). It is how the daemon knows
 * its own routes: vn_route_sync deletes only routes with this protocol. */
#define VN_RTPROT 0x76
/* Make the routes of family af in the main table that we put there (proto
 * VN_RTPROT) exactly routes[]. Every other route (the kernel's connected
 * ones, anybody's static ones) is left alone, except that a proto static
 * route exactly equal to a wanted one (made by a daemon before VN_RTPROT)
 * is taken over. */
int vn_route_sync(struct vn_ns *ns, int af, const struct vn_route *routes, size_t n);

/* ---- helpers for names built from ids ---- */

/* prefix + the first hex digits of the uuid (dashes dropped) so that the
 * whole name is 15 bytes. buf >= VN_IFNAMSIZ. */
void vn_ifname(char *buf, const char *prefix, const char *uuid);

#endif
