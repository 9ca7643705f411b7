/* SPDX-License-Identifier: MIT */
/* The kinds, and the few functions kinds offer each other. */
#ifndef VNETFS_FS_KINDS_H
#define VNETFS_FS_KINDS_H

#include "vnetfs/ip.h"
#include "vnetfs/model.h"

extern const struct vn_kind vn_kind_network;
extern const struct vn_kind vn_kind_subnet;
extern const struct vn_kind vn_kind_flavor;
extern const struct vn_kind vn_kind_port;
extern const struct vn_kind vn_kind_router;
extern const struct vn_kind vn_kind_secgroup;

/* device_owner of ports that routers make, followed by the router name
 * (what users read; the model keeps the typed owner, vn_owner_of) */
#define VN_OWNER_ROUTER_IF "router_interface:"
#define VN_OWNER_ROUTER_GW "router_gateway:"

/* kinds.c */
/* After reconcile: drop (c, name) each kernel object listed in have
 * (NULL-terminated, may be NULL) that no object of kind k names; name(o,
 * buf) writes an object's kernel name (< 64 bytes). what is for the log. */
int vn_sweep(struct vn_ctx *c, const struct vn_kind *k,
	     void (*name)(const struct vn_obj *o, char *buf), char **have,
	     int (*drop)(struct vn_ctx *c, const char *name), const char *what);
/* drop for vn_sweep: a link in the daemon's namespace */
int vn_sweep_link(struct vn_ctx *c, const char *name);

/* kind_network.c */
/* The bridge of a network: "vnb-" + id digits. */
void vn_network_bridge(const struct vn_obj *net, char buf[16]);

/* kind_subnet.c */
/* Maximum allocation pools on one subnet. */
#define VN_MAX_POOLS 16
/* The subnet as IPAM sees it (effective values). -ENOENT: no cidr yet.
 * pools[] must hold VN_MAX_POOLS. */
int vn_subnet_ipam(struct vn_obj *sub, struct vn_subnet_ipam *out, struct vn_pool *pools);
/* Where the next allocation on a subnet starts: every pool address below
 * `next` is held (valid for these pools only). Lowered as addresses are
 * released (the subnet's `released` hook). */
struct vn_alloc_hint {
	bool valid;
	struct vn_addr next;
	struct vn_pool pools[VN_MAX_POOLS];
	size_t npools;
};
struct vn_alloc_hint *vn_subnet_hint(struct vn_obj *sub);

/* -EINVAL with a sentence if cidr on sub overlaps a subnet of its own
 * network, or (either of them being on an external network) any other. */
int vn_subnet_overlaps(struct vn_ctx *c, struct vn_obj *sub, const struct vn_cidr *cidr,
		       struct vn_err *err);

/* A `DEST NEXTHOP` line in canonical form (af 0: either family). */
int vn_route_line(const char *text, int af, struct json_object **out, struct vn_err *err);

/* kind_port.c */
/* The router owning a port (its leg), or NULL; *gateway: the qg- leg. */
struct vn_obj *vn_port_router(struct vn_ctx *c, struct vn_obj *port, bool *gateway);
/* A router's interface (holds its subnet's gateway_ip). */
bool vn_port_is_router_if(struct vn_ctx *c, struct vn_obj *port);
/* Bound: plugged into a namespace (by the user, or as a router leg). */
bool vn_port_bound(struct vn_ctx *c, struct vn_obj *port);
/* Host end of the port's veth: "vnp-" + id digits. */
void vn_port_device(const struct vn_obj *port, char buf[16]);
/* The i-th fixed IP: its subnet and address. -ENOENT past the end. */
int vn_port_fixed_ip(struct vn_obj *port, size_t i, struct vn_obj **sub, struct vn_addr *a);
/* -EBUSY with a sentence if the port is a router leg or bound. */
int vn_port_in_use(struct vn_ctx *c, struct vn_obj *port, struct vn_err *err);
/* Make the kernel match the port (plug, address, or unplug). */
int vn_port_realise(struct vn_ctx *c, struct vn_obj *port, struct vn_err *err);

/* Plugged: bound, and its veth made (not down). */
bool vn_port_plugged(struct vn_ctx *c, struct vn_obj *port);

/* kind_secgroup.c */
/* Make the port's filtering (chains, member sets) match the model: one
 * batch of what changed; conntrack entries it no longer allows go. */
int vn_secgroup_port_sync(struct vn_ctx *c, struct vn_obj *port, struct vn_err *err);
/* The port is being deleted: its chains and memberships go. */
void vn_secgroup_port_gone(struct vn_ctx *c, struct vn_obj *port);
void vn_secgroup_fini(struct vn_ctx *c);
/* May the caller name group g (a port's security_groups, a rule's group)? */
bool vn_secgroup_may_use(struct vn_ctx *c, struct vn_obj *g);
/* Batches sent and conntrack entries deleted so far (tests, benchmarks). */
void vn_secgroup_stats(struct vn_ctx *c, unsigned long *batches, unsigned long *flushed);

/* kind_router.c */
/* "qrouter-<id>" */
void vn_router_namespace(const struct vn_obj *router, char buf[64]);
/* Routers using network net (as gateway or interface); NULL if none.
 * Costs the edges of net and of its subnets. */
struct vn_obj *vn_router_using_network(struct vn_ctx *c, struct vn_obj *net);
/* The namespace handle router r holds open, or NULL (not made yet):
 * borrowed, the router closes it. Used under the model's write lock. */
struct vn_ns *vn_router_ns_held(struct vn_obj *r);
/* cb(net, arg) for every external network (cb non-zero stops: its
 * value is returned), O(external networks), not O(networks). */
int vn_external_networks_foreach(struct vn_ctx *c, int (*cb)(struct vn_obj *net, void *arg),
				 void *arg);

#endif
