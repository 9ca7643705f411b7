/* SPDX-License-Identifier: MIT */
/*
 * Private to backend/: the namespace handle and the few helpers that
 * backend/netns.c and backend/link.c share. Not part of the public API.
 */
#ifndef VNETFS_BACKEND_NS_PRIV_H
#define VNETFS_BACKEND_NS_PRIV_H

#include <errno.h>
#include <stddef.h>

#include <netlink/errno.h>
#include <netlink/socket.h>

#include "vnetfs/nft.h"

struct mnl_socket;
struct vn_nft_nat;

struct vn_ns {
	int fd;		    /* O_RDONLY handle on the nsfs inode */
	char *name;	    /* /run/netns name, path, or "self" */
	struct nl_sock *sk; /* NETLINK_ROUTE, bound to this namespace */
	/* NETLINK_NETFILTER, bound to this namespace: opened inside it the
	 * first time nftables is used here, kept until vn_ns_close() (whose
	 * close goes to the handle's closer: see vn_be_close_later). */
	struct mnl_socket *nft;
	uint32_t nft_seq; /* next sequence number on nft */
	/* The last commit this handle made in the namespace: the generation
	 * it produced (0: none known) and the hash of the batch (0: no table).
	 * See backend/nft.c. */
	struct {
		uint64_t hash;
		uint32_t gen;
	} nft_mark;
	struct vn_nft_stats nft_stats;
	/* The router NAT table as this handle's commits left it (its SNAT
	 * rules and their handles), valid while nft_mark.gen is its gen.
	 * Owned by backend/nft.c; freed by vn_ns_close(). */
	struct vn_nft_nat *nat;
	/* Opened by name through vn_ns_open(): a namespace of the daemon's
	 * own, whose defaults (net.ipv6.conf.default) it may set. */
	bool own;
	/* net.ipv6.conf.default.disable_ipv6 as this handle set it: -1 not
	 * set (yet), 0 or 1. */
	int v6_default;
	struct vn_closer *closer; /* NULL: close at once */
};

/* A libnl result (0, positive count, or -NLE_*) as 0 or a negative errno.
 * nl_syserr2nlerr() is the reverse mapping; it folds ENOENT and ESRCH into
 * NLE_OBJ_NOTFOUND, which comes back as ENOENT. */
static inline int vn_be_nlerr(int err)
{
	if (err >= 0)
		return 0;
	switch (-err) {
	case NLE_EXIST:
		return -EEXIST;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_INVAL:
	case NLE_MISSING_ATTR:
	case NLE_IMMUTABLE:
		return -EINVAL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_OPNOTSUPP:
	case NLE_MSGTYPE_NOSUPPORT:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_AGAIN:
	case NLE_DUMP_INTR:
		return -EAGAIN;
	case NLE_INTR:
		return -EINTR;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	default:
		return -EIO;
	}
}

/* Close fd on the backend's reaper thread, off the caller's path: closing
 * a netlink socket can wait for an RCU grace period (8-20 ms for a
 * NETLINK_NETFILTER one) and callers hold the model lock. Falls back to a
 * plain close() if the thread cannot be started. fd < 0: nothing. */
/* Hand fd to ns's closer (or close it now). */
void vn_be_close_later(struct vn_ns *ns, int fd);

/* backend/nft.c, for backend/nft_sg.c: n sequence numbers on ns's kept
 * nftables socket (the first returned), and a batch sent on it (messages
 * begin..ack, the last asking for the ACK): 0 or the first error. */
uint32_t vn_nft_seq_reserve(struct vn_ns *ns, uint32_t n);
int vn_nft_send_batch(struct vn_ns *ns, char *buf, size_t len, uint32_t begin, uint32_t ack);

/* Read the sysctl /proc/sys/KEY inside ns into buf (NUL-terminated,
 * trailing newline dropped). */
int vn_be_sysctl_get(const struct vn_ns *ns, const char *key, char *buf, size_t len);

/* Append a copy of s to the NULL-terminated vector *v holding *n strings. */
int vn_be_strv_push(char ***v, size_t *n, const char *s);

#endif
