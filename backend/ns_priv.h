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

struct vn_ns {
	int fd;		    /* O_RDONLY handle on the nsfs inode */
	char *name;	    /* /run/netns name, path, or "self" */
	struct nl_sock *sk; /* NETLINK_ROUTE, bound to this namespace */
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

/* Append a copy of s to the NULL-terminated vector *v holding *n strings. */
int vn_be_strv_push(char ***v, size_t *n, const char *s);

#endif
