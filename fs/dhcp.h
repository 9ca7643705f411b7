/* SPDX-License-Identifier: MIT */
/* A network's DHCP service (fs/dhcp.c), as the network and port kinds see it. */
#ifndef VNETFS_FS_DHCP_H
#define VNETFS_FS_DHCP_H

#include <stdbool.h>

#include "vnetfs/model.h"

/* device_owner of a network's DHCP port (Neutron's), and its owner role */
#define VN_OWNER_DHCP "network:dhcp"
#define VN_DHCP_ROLE "dhcp"
#define VN_DHCP_NS_PREFIX "qdhcp-"
/* the DHCP port's interface inside qdhcp-<id>: "ns-" + id digits */
#define VN_DHCP_IF_PREFIX "ns-"
/* dns_nameservers: at most Neutron's default max_dns_nameservers, and
 * host_routes at most its max_subnet_host_routes (EINVAL beyond: DHCP
 * serves them all, and option 121 holds at most 255 bytes; the opts file
 * still serves no more than VN_DHCP_MAX_ROUTES, whatever the store holds). Both keep
 * every line of dnsmasq's opts file far below the 1,024 bytes dnsmasq
 * reads a line in (fgets into a MAXDNAME buffer: the rest of a longer
 * line is read as a line of its own, an option nobody wrote). */
#define VN_DHCP_MAX_DNS 5
#define VN_DHCP_MAX_ROUTES 20
/* No line of the opts or hosts file is longer than this (newline too). */
#define VN_DHCP_LINE_MAX 1000

/* "qdhcp-<network id>" */
void vn_dhcp_namespace(const struct vn_obj *net, char buf[64]);
/* The port is a network's DHCP port (its typed owner: the network). */
bool vn_port_is_dhcp(struct vn_obj *port);
/* The network's DHCP port, or NULL. */
struct vn_obj *vn_dhcp_port(struct vn_obj *net);
/* The DHCP service itself is changing its port (the port kind lets it). */
/* c->dhcp: made by vn_ctx_init, freed by vn_ctx_fini. */
int vn_dhcp_init(struct vn_ctx *c);
void vn_dhcp_fini(struct vn_ctx *c);
bool vn_dhcp_writing(struct vn_ctx *c);
/* The fixed_ips the DHCP port of port's network should have (a new json
 * array; NULL when none): a reset of them puts these back. */
struct json_object *vn_dhcp_port_want(struct vn_ctx *c, struct vn_obj *port);

/* Make the network's DHCP service match the model (namespace, port,
 * files, dnsmasq; or none of them when no subnet has enable_dhcp 1):
 * the network's sync, apply and create. */
int vn_dhcp_sync(struct vn_ctx *c, struct vn_obj *net, struct vn_err *err);
/* The same at start-up: also ends a dnsmasq an earlier daemon left. */
int vn_dhcp_reconcile(struct vn_ctx *c, struct vn_obj *net, struct vn_err *err);
/* A reset (unlink, empty write) of a subnet's enable_dhcp turned it on
 * again (rm -r unlinks a subnet's files before removing it): if that
 * brings DHCP up on net, the service is set up VN_DHCP_SETTLE_MS later,
 * by a job that looks at the model then (fs/dhcp.c, "the realise job"). */
void vn_dhcp_note_reset(struct vn_ctx *c, struct vn_obj *net);
/* That job is pending: the network reads BUILD. Any lock state. */
bool vn_dhcp_pending(struct vn_ctx *c, const struct vn_obj *net);
/* The network is being deleted (its ports are gone already). */
int vn_dhcp_destroy(struct vn_ctx *c, struct vn_obj *net, struct vn_err *err);
/* After reconcile: qdhcp namespaces, dnsmasq processes and state
 * directories of ours that no network serves any more. */
int vn_dhcp_sweep(struct vn_ctx *c);

#endif
