/* SPDX-License-Identifier: MIT */
/*
 * Security groups: the rule language (fs/sgrule.c, pure) and the
 * enforcement backend (backend/nft_sg.c, libnftnl in the daemon's
 * namespace). See docs/design-notes.md "Security groups (issue 10)".
 *
 * A rule line: DIRECTION [ipv4|ipv6] PROTO [PORT|PORT-PORT|TYPE[/CODE]]
 *              [from CIDR | to CIDR | group NAME]
 * A rule without a family applies to both (unless its CIDR implies one).
 */
#ifndef VNETFS_SG_H
#define VNETFS_SG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnetfs/backend.h"
#include "vnetfs/ip.h"

enum vn_sg_dir { VN_SG_INGRESS, VN_SG_EGRESS };
enum vn_sg_remote { VN_SG_ANY, VN_SG_CIDR, VN_SG_GROUP };

#define VN_SG_PROTO_ANY (-1)
#define VN_SG_LINE_MAX 256

struct vn_sgrule {
	enum vn_sg_dir dir;
	int af;	   /* 0: both families, AF_INET, AF_INET6 */
	int proto; /* VN_SG_PROTO_ANY or 0..255; icmp is 1 (58 for IPv6 alone) */
	/* tcp/udp/sctp/udplite/dccp: port range (-1: any). icmp: pmin the
	 * type, pmax the code (-1: any). */
	int pmin, pmax;
	enum vn_sg_remote remote;
	struct vn_cidr cidr; /* VN_SG_CIDR */
	char group[64];	     /* VN_SG_GROUP: the group's name (the model's) */
	char gid[37];	     /* VN_SG_GROUP: its id, filled in by the model */
};

/* Parse one line. 0, or -EINVAL with a sentence in why. */
int vn_sgrule_parse(const char *line, struct vn_sgrule *r, char *why, size_t whylen);
/* The canonical line (no newline); len >= VN_SG_LINE_MAX. */
void vn_sgrule_format(const struct vn_sgrule *r, char *buf, size_t len);
/* Is proto one that has ports (tcp, udp, sctp, udplite, dccp)? */
bool vn_sg_proto_ports(int proto);

/* A connection as conntrack sees it (original direction). */
struct vn_sg_flow {
	struct vn_addr src, dst;
	int proto;
	int sport, dport; /* ported protocols */
	int itype, icode; /* icmp */
	unsigned zone;	  /* conntrack zone (0: none) */
};
/* Does r allow the flow in its direction? For VN_SG_GROUP, member(arg,
 * gid, addr) says whether addr belongs to the remote group. The flow's
 * remote end is its source for ingress, its destination for egress. */
bool vn_sgrule_match(const struct vn_sgrule *r, const struct vn_sg_flow *f,
		     bool (*member)(void *arg, const char *gid, const struct vn_addr *a),
		     void *arg);

/* ---- the backend (backend/nft_sg.c) ----
 * Tables `bridge vnetfs_sg` (marks ports' packets, anti-spoofing) and
 * `inet vnetfs_sg` (stateful per-port chains, group chains, member sets)
 * in the daemon's namespace. Every call below is one netlink batch. */

/* A filtered port: its host device and a small index (1..65535) that
 * marks its packets. */
struct vn_sg_port {
	char dev[16];
	unsigned idx;
	uint8_t mac[6];
	const struct vn_addr *ips; /* its fixed IPs */
	size_t nips;
	const char *const *gids; /* its groups' ids */
	size_t ngids;
};

/* What one group has in the kernel: its rules' boxes that are elements
 * of its sets (refcounted: two rules may make one), those that overlap
 * another and are nft rules of their own ("spilled"). The caller keeps
 * one per group; a change updates it in place, so change a clone and
 * keep it only when the batch went through. */
struct vn_sg_gstate;
struct vn_sg_gstate *vn_sg_gstate_new(void);
struct vn_sg_gstate *vn_sg_gstate_clone(const struct vn_sg_gstate *gs); /* NULL: empty */
void vn_sg_gstate_free(struct vn_sg_gstate *gs);

struct vn_sg_group {
	const char *gid;
	const struct vn_sgrule *rules;
	size_t nrules;
	struct vn_sg_gstate *gs; /* the rebuild fills it (empty on entry) */
};

/* Start over: both tables replaced by exactly this (groups, their member
 * addresses given per group, ports). Removes whatever stale chains or
 * sets we had. */
struct vn_sg_member {
	const char *gid;
	struct vn_addr addr;
};
/* A network with filtered ports: its bridge's conntrack zone. */
struct vn_sg_zone {
	char bridge[16];
	unsigned zone;
};
int vn_sg_nft_rebuild(struct vn_ns *ns, const struct vn_sg_group *groups, size_t ngroups,
		      const struct vn_sg_member *members, size_t nmembers,
		      const struct vn_sg_port *ports, size_t nports, const struct vn_sg_zone *zones,
		      size_t nzones);

/* One change, built and sent as one batch. */
struct vn_sg_batch;
struct vn_sg_batch *vn_sg_batch_new(void);
void vn_sg_batch_free(struct vn_sg_batch *b);
/* A group's chains and member sets (new group). */
void vn_sg_b_group_add(struct vn_sg_batch *b, const char *gid);
void vn_sg_b_group_del(struct vn_sg_batch *b, const char *gid);
/* A group's rules go from what gs has to all[0..nall): del are the rules
 * that go, add those that come (each rule once). Rules become or stop
 * being set elements (no nft rule, no table validation); a remote-group
 * rule or a spilled box is appended as an nft rule, and removing one
 * remakes that chain. gs is updated (see above). 0 or -errno. */
int vn_sg_b_group_change(struct vn_sg_batch *b, struct vn_sg_gstate *gs, const char *gid,
			 const struct vn_sgrule *all, size_t nall, const struct vn_sgrule *del,
			 size_t ndel, const struct vn_sgrule *add, size_t nadd);
void vn_sg_b_member(struct vn_sg_batch *b, const char *gid, const struct vn_addr *a, bool add);
/* A port's chains and map entries made (or remade) from p. */
void vn_sg_b_port_set(struct vn_sg_batch *b, const struct vn_sg_port *p, bool exists);
void vn_sg_b_port_del(struct vn_sg_batch *b, const struct vn_sg_port *p);
/* Packets bridged by `bridge` get conntrack zone `zone` (1..65535). */
void vn_sg_b_zone(struct vn_sg_batch *b, const char *bridge, unsigned zone, bool add);
/* Messages in the batch (0: nothing to send). */
size_t vn_sg_batch_count(const struct vn_sg_batch *b);
int vn_sg_batch_send(struct vn_ns *ns, struct vn_sg_batch *b);

/* Conntrack: delete the entries for which drop(arg, flow) says true,
 * among those whose source or destination is in addrs. Returns the
 * number deleted or -errno. */
int vn_sg_ct_flush(struct vn_ns *ns, const struct vn_addr *addrs, size_t naddrs,
		   bool (*drop)(void *arg, const struct vn_sg_flow *f), void *arg);
/* The same in two steps. Collect (slow: the dump walks the kernel's
 * whole conntrack hash, ~10 ms; needs no model state, so it runs off the
 * lock): clones of the entries whose source or destination is in addrs.
 * Drop (with the model at hand): delete those drop() says true for;
 * returns the number deleted or -errno. */
struct vn_sg_ctlist;
int vn_sg_ct_collect(struct vn_ns *ns, const struct vn_addr *addrs, size_t naddrs,
		     struct vn_sg_ctlist **out);
int vn_sg_ct_drop(struct vn_ns *ns, struct vn_sg_ctlist *l,
		  bool (*drop)(void *arg, const struct vn_sg_flow *f), void *arg);
void vn_sg_ctlist_free(struct vn_sg_ctlist *l);

#endif
