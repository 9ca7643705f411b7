// SPDX-License-Identifier: MIT
/*
 * Network namespaces: see include/vnetfs/backend.h.
 *
 * A namespace is held by an fd on its nsfs inode plus an rtnetlink socket
 * created while the calling thread was setns()'d into it (a netlink socket
 * stays bound to the namespace it was created in). Named namespaces live
 * as bind mounts under /run/netns, exactly as iproute2's `ip netns add`
 * makes them, so `ip netns exec` and friends see ours too.
 *
 * Only the calling thread ever changes namespace, and only for the
 * duration of one call: setns() there, do the one thing, setns() back.
 * Creating a namespace is done by a short-lived helper thread that
 * unshares and then exits, so no long-lived thread moves for good.
 */
#include "vnetfs/backend.h"

#include "ns_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#define NETNS_RUN_DIR "/run/netns"
#define SELF_NETNS "/proc/thread-self/ns/net"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_close_ __attribute__((cleanup(closep)))

static void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))

/* ---- closing ------------------------------------------------------------ */

void vn_ns_set_closer(struct vn_ns *ns, struct vn_closer *cl)
{
	if (ns)
		ns->closer = cl;
}

void vn_be_close_later(struct vn_ns *ns, int fd)
{
	if (fd < 0)
		return;
	if (ns && ns->closer)
		ns->closer->close(ns->closer, fd);
	else
		close(fd);
}

/* Hand the socket behind fd to ns's closer and let the caller free its
 * wrapper: the wrapper's close() of fd is then not the last one, so it is
 * quick. */
static void defer_socket(struct vn_ns *ns, int fd)
{
	if (!ns->closer)
		return; /* the wrapper's own close is the last one */
	vn_be_close_later(ns, fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1);
}

/* ---- string vectors ---------------------------------------------------- */

void vn_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int vn_be_strv_push(char ***v, size_t *n, const char *s)
{
	char **nv;
	char *copy = strdup(s);

	if (!copy)
		return -ENOMEM;
	nv = realloc(*v, (*n + 2) * sizeof(**v));
	if (!nv) {
		free(copy);
		return -ENOMEM;
	}
	nv[(*n)++] = copy;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

static int strv_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- namespace fds ----------------------------------------------------- */

/*
 * Every namespace path is hostile: /run/netns/NAME may be a FIFO (an open
 * would block the daemon, which holds its model lock), a device, a
 * regular file, or a symlink, possibly into the daemon's own FUSE mount
 * (an open there re-enters the mount and deadlocks). So no symlink is
 * ever followed (openat2 RESOLVE_NO_SYMLINKS), every step is an O_PATH
 * open (which opens nothing: no FIFO wait, no driver open), the
 * directories walked must not be FUSE (and /proc/PID/ns must be procfs),
 * and the last step must land on nsfs before the O_PATH handle is turned
 * into a real one through /proc/self/fd. Only then is it a namespace fd.
 */

static int open_self_netns(void)
{
	int fd = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* 0 if fd (a real fd, not O_PATH) is a network namespace, -EINVAL if it
 * is anything else. */
static int check_netns_fd(int fd)
{
	struct statfs sfs;
	int type;

	if (fstatfs(fd, &sfs) < 0)
		return -errno;
	if (sfs.f_type != NSFS_MAGIC)
		return -EINVAL;
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0)
		return errno == ENOTTY ? 0 : -errno; /* kernel < 4.11: trust nsfs */
	return type == CLONE_NEWNET ? 0 : -EINVAL;
}

/* openat(dfd, path, flags) following no symlink on the way, the last
 * component included (-ELOOP). Beneath dfd unless it is AT_FDCWD. */
static int open_nofollow(int dfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)flags,
		.resolve = RESOLVE_NO_SYMLINKS | (dfd == AT_FDCWD ? 0 : RESOLVE_BENEATH),
	};
	_cleanup_free_ char *copy = NULL;
	char *save = NULL;
	int cur = dfd;
	long fd;

	fd = syscall(SYS_openat2, dfd, path, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno != ENOSYS)
		return -errno;
	/* Kernels before 5.6: one component at a time, O_NOFOLLOW each. */
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	if (*path == '/') {
		cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (cur < 0)
			return -errno;
	}
	for (char *c = strtok_r(copy, "/", &save); c;) {
		char *next = strtok_r(NULL, "/", &save);
		struct stat st;
		int nfd;

		nfd = -1;
		errno = EXDEV; /* ".." never: nothing here climbs */
		if (strcmp(c, ".."))
			nfd = openat(cur, c,
				     (next ? O_PATH | O_DIRECTORY | O_CLOEXEC : flags) |
					     O_NOFOLLOW);
		if (nfd >= 0 && fstat(nfd, &st) == 0 && S_ISLNK(st.st_mode)) {
			close(nfd);
			nfd = -1;
			errno = ELOOP;
		}
		if (nfd < 0) {
			int e = errno;

			/* O_NOFOLLOW|O_DIRECTORY on a symlink: ENOTDIR */
			if (e == ENOTDIR && fstatat(cur, c, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				e = ELOOP;
			if (cur != dfd)
				close(cur);
			return -e;
		}
		if (cur != dfd)
			close(cur);
		cur = nfd;
		c = next;
	}
	return cur == dfd ? -EINVAL : cur;
}

/* An O_PATH handle on the directory path, reached without a symlink, not
 * on FUSE, and on file system `magic` if non-zero. */
static int open_dir_safe(const char *path, long magic)
{
	int fd = open_nofollow(AT_FDCWD, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct statfs sfs;

	if (fd < 0)
		return fd == -ENOTDIR ? -EINVAL : fd;
	if (fstatfs(fd, &sfs) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	if (sfs.f_type == FUSE_SUPER_MAGIC || (magic && sfs.f_type != magic)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* Turn the O_PATH handle pfd (closed here) into an O_RDONLY namespace fd,
 * if it is on nsfs and a network namespace; -EINVAL if it is not. */
static int ns_from_path_fd(int pfd)
{
	_cleanup_close_ int p = pfd;
	char link[64];
	struct statfs sfs;
	int fd, err;

	if (fstatfs(p, &sfs) < 0)
		return -errno;
	if (sfs.f_type != NSFS_MAGIC)
		return -EINVAL; /* a FIFO, file, directory...: never opened */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", p);
	fd = open(link, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	err = check_netns_fd(fd);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* /run/netns/NAME as a namespace fd (name already checked). */
static int open_run_netns(const char *name)
{
	_cleanup_close_ int dfd = open_dir_safe(NETNS_RUN_DIR, 0);
	int pfd;

	if (dfd < 0)
		return dfd;
	pfd = open_nofollow(dfd, name, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return pfd;
	return ns_from_path_fd(pfd);
}

/* /proc/PID/ns/net as a namespace fd (pid: digits). */
static int open_proc_netns(const char *pid, size_t len)
{
	_cleanup_close_ int dfd = -1;
	char dir[64];
	int pfd;

	if (len == 0 || len > 10)
		return -EINVAL;
	snprintf(dir, sizeof(dir), "/proc/%.*s/ns", (int)len, pid);
	dfd = open_dir_safe(dir, PROC_SUPER_MAGIC);
	if (dfd < 0)
		return dfd;
	/* "net" is a magic link into nsfs: the one link that is followed. */
	pfd = openat(dfd, "net", O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	return ns_from_path_fd(pfd);
}

/*
 * Put the calling thread back into the namespace it came from. Failing
 * here would leave this thread silently working in the wrong namespace
 * for the rest of its life, which is worse than dying loudly; with the
 * privileges needed to have left in the first place it does not happen.
 */
static void setns_back(int self)
{
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
}

/* A NETLINK_ROUTE socket that lives in the namespace nsfd (-1: here). */
static int rtnl_socket_in(int nsfd, struct nl_sock **out)
{
	_cleanup_close_ int self = -1;
	struct nl_sock *sk;
	int one = 1;
	int err;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	if (nsfd >= 0) {
		self = open_self_netns();
		if (self < 0) {
			err = self;
			goto fail;
		}
		if (setns(nsfd, CLONE_NEWNET) < 0) {
			err = -errno;
			goto fail;
		}
	}
	err = vn_be_nlerr(nl_connect(sk, NETLINK_ROUTE));
	if (nsfd >= 0)
		setns_back(self);
	if (err)
		goto fail;
	nl_socket_enable_msg_peek(sk);
	/* Let dumps filter in the kernel (by ifindex, table, protocol); the
	 * callers filter again, so kernels without it (< 4.20) still work. */
	(void)setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one,
			 sizeof(one));
	*out = sk;
	return 0;
fail:
	nl_socket_free(sk);
	return err;
}

/* Takes fd (closed on failure). */
static int ns_new(int fd, const char *name, bool in_place, struct vn_ns **out)
{
	struct vn_ns *ns = calloc(1, sizeof(*ns));
	int err = -ENOMEM;

	if (!ns)
		goto fail;
	ns->fd = fd;
	ns->v6_default = -1;
	ns->name = strdup(name);
	if (!ns->name)
		goto fail;
	err = rtnl_socket_in(in_place ? -1 : fd, &ns->sk);
	if (err)
		goto fail;
	*out = ns;
	return 0;
fail:
	if (ns)
		free(ns->name);
	free(ns);
	close(fd);
	return err;
}

void vn_ns_close(struct vn_ns *ns)
{
	if (!ns)
		return;
	if (ns->sk) {
		defer_socket(ns, nl_socket_get_fd(ns->sk));
		nl_socket_free(ns->sk);
	}
	if (ns->nft) {
		defer_socket(ns, mnl_socket_get_fd(ns->nft));
		mnl_socket_close(ns->nft);
	}
	vn_be_close_later(ns, ns->fd);
	free(ns->nat);
	free(ns->name);
	free(ns);
}

int vn_ns_fd(const struct vn_ns *ns)
{
	return ns ? ns->fd : -EBADF;
}

static int check_ns_name(const char *name);

int vn_ns_open_path(const char *path, struct vn_ns **out)
{
	const char *rest;
	size_t n;
	int fd;

	if (!path || !out)
		return -EINVAL;
	if (!strncmp(path, NETNS_RUN_DIR "/", sizeof(NETNS_RUN_DIR))) {
		rest = path + sizeof(NETNS_RUN_DIR);
		if (check_ns_name(rest))
			return -EINVAL;
		fd = open_run_netns(rest);
	} else if (!strncmp(path, "/proc/", 6)) {
		rest = path + 6;
		n = strspn(rest, "0123456789");
		if (n == 0 || rest[0] == '0' || strcmp(rest + n, "/ns/net"))
			return -EINVAL;
		fd = open_proc_netns(rest, n);
	} else {
		return -EINVAL;
	}
	if (fd < 0)
		return fd;
	return ns_new(fd, path, false, out);
}

int vn_ns_id(const struct vn_ns *ns, struct vn_ns_id *id)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);
	struct stat st;

	if (!ns || !id)
		return -EINVAL;
	if (fstat(ns->fd, &st) < 0)
		return -errno;
	if (getsockopt(nl_socket_get_fd(ns->sk), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0) {
		if (errno != ENOPROTOOPT)
			return -errno;
		cookie = 0; /* kernel < 5.14 */
	}
	id->dev = (uint64_t)st.st_dev;
	id->ino = (uint64_t)st.st_ino;
	id->cookie = cookie;
	return 0;
}

bool vn_ns_id_eq(const struct vn_ns_id *a, const struct vn_ns_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->cookie == b->cookie;
}

int vn_ns_owner(const struct vn_ns *ns, uid_t *uid)
{
	_cleanup_close_ int user = -1;
	_cleanup_close_ int self = -1;
	struct stat a, b;
	uid_t owner;

	if (!ns || !uid)
		return -EINVAL;
	/* EPERM: owned by a user namespace above ours (the host's when we
	 * run in a container). */
	user = ioctl(ns->fd, NS_GET_USERNS);
	if (user < 0)
		return errno == ENOTTY ? -EOPNOTSUPP : -errno;
	self = open("/proc/thread-self/ns/user", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (fstat(user, &a) < 0 || fstat(self, &b) < 0)
		return -errno;
	if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return -EPERM; /* our own user namespace: root's */
	if (ioctl(user, NS_GET_OWNER_UID, &owner) < 0)
		return -errno;
	*uid = owner;
	return 0;
}

/* ---- /run/netns -------------------------------------------------------- */

static int check_ns_name(const char *name)
{
	size_t len;

	if (!name)
		return -EINVAL;
	len = strlen(name);
	if (len == 0 || len > 255 || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	return 0;
}

static int netns_path(char *buf, size_t len, const char *name)
{
	int err = check_ns_name(name);

	if (err)
		return err;
	if ((size_t)snprintf(buf, len, "%s/%s", NETNS_RUN_DIR, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Make /run/netns exist and be a shared mount point, as iproute2's
 * ip/ipnetns.c does, so that unmounting a namespace file propagates to
 * every mount namespace that has a copy and the namespace can die.
 * Returns an O_PATH handle on it (checked like open_dir_safe).
 */
static int prepare_run_dir(void)
{
	bool made_mount = false;
	int dfd, err;

	if (mkdir("/run", 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* Not a symlink (into the mount, say), not FUSE: only then mount. */
	dfd = open_dir_safe(NETNS_RUN_DIR, 0);
	if (dfd < 0)
		return dfd;
	while (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		/* EINVAL: not a mount point yet; make it one, once. */
		if (errno != EINVAL || made_mount)
			goto fail;
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
			goto fail;
		made_mount = true;
	}
	if (made_mount) {
		/* the handle is on what is under the new mount: take it again */
		close(dfd);
		dfd = open_dir_safe(NETNS_RUN_DIR, 0);
	}
	return dfd;
fail:
	err = -errno;
	close(dfd);
	return err;
}

struct mkns_arg {
	const char *path;
	int err;
};

/* Runs on its own thread: only that thread enters the new namespace, and
 * the bind mount keeps the namespace alive after the thread is gone. */
static void *mkns_thread(void *p)
{
	struct mkns_arg *a = p;

	a->err = 0;
	if (unshare(CLONE_NEWNET) < 0)
		a->err = -errno;
	else if (mount(SELF_NETNS, a->path, "none", MS_BIND, NULL) < 0)
		a->err = -errno;
	return NULL;
}

/* Mount a fresh namespace on /run/netns/NAME (an existing non-namespace
 * file there, left over by a crash, is mounted over; a symlink is not). */
static int netns_create(const char *name, const char *path)
{
	struct mkns_arg arg = {.path = path, .err = -EIO};
	_cleanup_close_ int dfd = prepare_run_dir();
	bool made_file = false;
	struct stat st;
	pthread_t t;
	int fd;
	int err;

	if (dfd < 0)
		return dfd;
	fd = openat(dfd, name, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd >= 0) {
		made_file = true;
		close(fd);
	} else if (errno != EEXIST) {
		return -errno;
	} else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		return -errno;
	} else if (S_ISLNK(st.st_mode)) {
		return -ELOOP;
	}
	err = -pthread_create(&t, NULL, mkns_thread, &arg);
	if (!err) {
		pthread_join(t, NULL);
		err = arg.err;
	}
	if (err && made_file)
		unlinkat(dfd, name, 0);
	return err;
}

int vn_ns_open(const char *name, bool create, struct vn_ns **out)
{
	char path[sizeof(NETNS_RUN_DIR) + 256];
	bool created = false;
	struct vn_ns *ns;
	int fd;
	int err;

	if (!out)
		return -EINVAL;
	if (!name) {
		fd = open_self_netns();
		if (fd < 0)
			return fd;
		return ns_new(fd, "self", true, out);
	}
	err = netns_path(path, sizeof(path), name);
	if (err)
		return err;

	fd = open_run_netns(name);
	if (fd < 0) {
		/* ENOENT: not there; EINVAL: a leftover that is no namespace */
		if (!create || (fd != -ENOENT && fd != -EINVAL))
			return fd;
		err = netns_create(name, path);
		if (err)
			return err;
		created = true;
		fd = open_run_netns(name);
		if (fd < 0) {
			err = fd;
			goto undo;
		}
	}
	err = ns_new(fd, name, false, &ns);
	if (err)
		goto undo;
	ns->own = true;
	if (created) {
		err = vn_link_set(ns, "lo", 0, true, NULL);
		if (err) {
			vn_ns_close(ns);
			goto undo;
		}
	}
	*out = ns;
	return 0;
undo:
	if (created)
		vn_netns_delete(name);
	return err;
}

int vn_netns_delete(const char *name)
{
	char path[sizeof(NETNS_RUN_DIR) + 256];
	_cleanup_close_ int dfd = -1;
	int err = netns_path(path, sizeof(path), name);

	if (err)
		return err;
	dfd = open_dir_safe(NETNS_RUN_DIR, 0);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	/* EINVAL: not mounted (a leftover plain file); ENOENT: gone. */
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int vn_netns_list(const char *prefix, char ***names)
{
	size_t plen = prefix ? strlen(prefix) : 0;
	char **v = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d = NULL;
	int dfd;
	int err = 0;

	if (!names)
		return -EINVAL;
	dfd = open_dir_safe(NETNS_RUN_DIR, 0);
	if (dfd >= 0) {
		int rfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		close(dfd);
		if (rfd < 0)
			return -errno;
		d = fdopendir(rfd);
		if (!d) {
			err = -errno;
			close(rfd);
			return err;
		}
	} else if (dfd != -ENOENT) {
		return dfd;
	}
	while (d && (errno = 0, de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type == DT_DIR)
			continue;
		if (plen && strncmp(de->d_name, prefix, plen))
			continue;
		err = vn_be_strv_push(&v, &n, de->d_name);
		if (err)
			goto out;
	}
	if (d && errno) {
		err = -errno;
		goto out;
	}
	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v) {
			err = -ENOMEM;
			goto out;
		}
	}
	qsort(v, n, sizeof(*v), strv_cmp);
	*names = v;
	v = NULL;
out:
	if (d)
		closedir(d);
	vn_strv_free(v);
	return err;
}

/* ---- running code inside a namespace ----------------------------------- */

int vn_ns_run(const struct vn_ns *ns, int (*fn)(void *arg), void *arg)
{
	_cleanup_close_ int self = -1;
	int ret;

	if (!ns || !fn)
		return -EINVAL;
	self = open_self_netns();
	if (self < 0)
		return self;
	if (setns(ns->fd, CLONE_NEWNET) < 0)
		return -errno;
	ret = fn(arg);
	setns_back(self);
	return ret;
}

/* A sysctl key relative to /proc/sys: no empty, "." or ".." component. */
static int check_sysctl_key(const char *key)
{
	const char *c = key;

	if (!key || !*key || *key == '/')
		return -EINVAL;
	while (*c) {
		const char *end = strchrnul(c, '/');
		size_t len = (size_t)(end - c);

		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return -EINVAL;
		c = *end ? end + 1 : end;
		if (!*c && *end)
			return -EINVAL; /* trailing slash */
	}
	return 0;
}

struct sysctl_arg {
	const char *path;
	const char *value;
};

static int sysctl_write(void *p)
{
	const struct sysctl_arg *a = p;
	size_t len = strlen(a->value);
	_cleanup_close_ int fd = open(a->path, O_WRONLY | O_CLOEXEC);
	ssize_t w;

	if (fd < 0)
		return -errno;
	w = write(fd, a->value, len);
	if (w < 0)
		return -errno;
	return (size_t)w == len ? 0 : -EIO;
}

struct sysctl_read_arg {
	const char *path;
	char *buf;
	size_t len;
};

static int sysctl_read(void *p)
{
	const struct sysctl_read_arg *a = p;
	_cleanup_close_ int fd = open(a->path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = read(fd, a->buf, a->len - 1);
	if (r < 0)
		return -errno;
	a->buf[r] = '\0';
	if (r > 0 && a->buf[r - 1] == '\n')
		a->buf[r - 1] = '\0';
	return 0;
}

int vn_be_sysctl_get(const struct vn_ns *ns, const char *key, char *buf, size_t len)
{
	_cleanup_free_ char *path = NULL;
	struct sysctl_read_arg arg;
	int err = check_sysctl_key(key);

	if (err)
		return err;
	if (!buf || len < 2)
		return -EINVAL;
	if (asprintf(&path, "/proc/sys/%s", key) < 0) {
		path = NULL;
		return -ENOMEM;
	}
	arg.path = path;
	arg.buf = buf;
	arg.len = len;
	return vn_ns_run(ns, sysctl_read, &arg);
}

int vn_ns_sysctl(const struct vn_ns *ns, const char *key, const char *value)
{
	_cleanup_free_ char *path = NULL;
	struct sysctl_arg arg;
	int err = check_sysctl_key(key);

	if (err)
		return err;
	if (!value)
		return -EINVAL;
	if (asprintf(&path, "/proc/sys/%s", key) < 0) {
		path = NULL;
		return -ENOMEM;
	}
	arg.path = path;
	arg.value = value;
	return vn_ns_run(ns, sysctl_write, &arg);
}
