// SPDX-License-Identifier: MIT
/*
 * vn_crash.so — an LD_PRELOAD crash-point shim for the crash tests
 * (tests/system/crashpoints.sh, randomkill.sh). Not installed.
 *
 * It counts the daemon's "mutation points" and SIGKILLs the process just
 * before the Nth one runs, so a test can cut an operation at every place
 * where the kernel or the disk changes:
 *
 *   - netlink sends: sendmsg, sendmmsg, sendto, send on an AF_NETLINK
 *     socket (libnl uses sendmsg/sendto, libmnl sendto);
 *   - durability points: fsync, fdatasync, sync_file_range, and write,
 *     writev, pwrite, pwrite64, pwritev, ftruncate on regular files (fds
 *     0-2 excepted: that is the daemon's log), rename, renameat,
 *     renameat2, unlink, unlinkat;
 *   - namespace mounts: mount, umount, umount2 (a netns is a bind mount).
 *
 * Environment:
 *   VN_CRASH_ARM=PATH  count only while PATH exists (stat()ed on each call),
 *                      so start-up and the test's setup are not counted;
 *                      unset: never count
 *   VN_CRASH_AT=N      SIGKILL the process before the Nth counted call
 *                      (unset or 0: count only)
 *   VN_CRASH_AFTER=1   ... right after the Nth call returned instead
 *   VN_CRASH_LOG=PATH  append one line per counted call: "N CALL DETAIL"
 *                      (DETAIL: the file, or "netlink type=T" for the
 *                      first message's nlmsg_type); the killing call's
 *                      line ends in " KILL"
 *
 * Under AddressSanitizer put libasan first in LD_PRELOAD
 * (LD_PRELOAD="$libasan:vn_crash.so"): ASan's interceptors then call
 * into this shim, which calls libc through dlsym(RTLD_NEXT). The shim
 * itself is built without sanitizers. It is thread safe: one atomic
 * counter; the log is written with one write(2) per line on an O_APPEND
 * descriptor.
 */
/* pwrite and pwrite64 (ftruncate, ftruncate64) are distinct symbols here. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define VN_EXPORT __attribute__((visibility("default")))

static unsigned long vn_counter;
static __thread bool vn_kill_after; /* this thread's call was the Nth */

/* The real function, looked up once (a race only looks it up twice). */
#define REAL(name)                                                                                 \
	({                                                                                         \
		static void *p_;                                                                   \
		void *f_ = __atomic_load_n(&p_, __ATOMIC_ACQUIRE);                                 \
		if (!f_) {                                                                         \
			f_ = dlsym(RTLD_NEXT, #name);                                              \
			__atomic_store_n(&p_, f_, __ATOMIC_RELEASE);                               \
		}                                                                                  \
		(__typeof__(&name))f_;                                                             \
	})

static bool vn_armed(void)
{
	const char *arm = getenv("VN_CRASH_ARM");
	struct stat st;

	/* the raw syscall: neither ASan nor this shim in the way */
	return arm && *arm && syscall(SYS_newfstatat, AT_FDCWD, arm, &st, 0) == 0;
}

static void vn_fd_path(int fd, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = syscall(SYS_readlinkat, AT_FDCWD, link, buf, len - 1);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
}

static bool vn_is_regular(int fd)
{
	struct stat st;

	return fd > 2 && syscall(SYS_fstat, fd, &st) == 0 && S_ISREG(st.st_mode);
}

static bool vn_is_netlink(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	return syscall(SYS_getsockname, fd, &ss, &l) == 0 && ss.ss_family == AF_NETLINK;
}

static _Noreturn void vn_die(void)
{
	syscall(SYS_kill, getpid(), SIGKILL);
	for (;;)
		pause();
}

/* One mutation point: count it, log it, and die here if it is the one. */
static void vn_point(const char *call, const char *fmt, ...)
{
	int saved = errno;
	unsigned long n = __atomic_add_fetch(&vn_counter, 1, __ATOMIC_SEQ_CST);
	const char *at = getenv("VN_CRASH_AT"), *log = getenv("VN_CRASH_LOG");
	unsigned long kill_at = at ? strtoul(at, NULL, 10) : 0;
	char line[512], detail[400] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (log && *log) {
		int fd = (int)syscall(SYS_openat, AT_FDCWD, log,
				      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		int l = snprintf(line, sizeof(line), "%lu %s %s%s\n", n, call, detail,
				 n == kill_at ? " KILL" : "");

		if (fd >= 0) {
			if (l > (int)sizeof(line) - 1)
				l = sizeof(line) - 1;
			if (syscall(SYS_write, fd, line, (size_t)l) < 0) {
				/* nothing to do: the log is best effort */
			}
			syscall(SYS_close, fd);
		}
	}
	if (n == kill_at) {
		const char *after = getenv("VN_CRASH_AFTER");

		if (after && *after == '1')
			vn_kill_after = true;
		else
			vn_die();
	}
	errno = saved;
}

/* After each wrapped call: die if the call was the Nth (VN_CRASH_AFTER). */
#define AFTER(expr)                                                                                \
	({                                                                                         \
		__typeof__(expr) r_ = (expr);                                                      \
		if (vn_kill_after)                                                                 \
			vn_die();                                                                  \
		r_;                                                                                \
	})

/* ---- netlink ---- */

static int vn_nl_type(const void *buf, size_t len)
{
	const struct nlmsghdr *h = buf;

	return buf && len >= sizeof(*h) ? h->nlmsg_type : -1;
}

static void vn_netlink_point(const char *call, int fd, const void *buf, size_t len)
{
	if (!vn_armed() || !vn_is_netlink(fd))
		return;
	vn_point(call, "netlink type=%d", vn_nl_type(buf, len));
}

VN_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	const void *b = msg && msg->msg_iovlen ? msg->msg_iov[0].iov_base : NULL;
	size_t l = msg && msg->msg_iovlen ? msg->msg_iov[0].iov_len : 0;

	vn_netlink_point("sendmsg", fd, b, l);
	return AFTER(REAL(sendmsg)(fd, msg, flags));
}

VN_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	const struct msghdr *m = v && n ? &v[0].msg_hdr : NULL;
	const void *b = m && m->msg_iovlen ? m->msg_iov[0].iov_base : NULL;
	size_t l = m && m->msg_iovlen ? m->msg_iov[0].iov_len : 0;

	vn_netlink_point("sendmmsg", fd, b, l);
	return AFTER(REAL(sendmmsg)(fd, v, n, flags));
}

VN_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
			 socklen_t tolen)
{
	vn_netlink_point("sendto", fd, buf, len);
	return AFTER(REAL(sendto)(fd, buf, len, flags, to, tolen));
}

VN_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	vn_netlink_point("send", fd, buf, len);
	return AFTER(REAL(send)(fd, buf, len, flags));
}

/* ---- durability ---- */

/* STATE/dhcp/<network id>/ holds dnsmasq's files (fs/dhcp.c): derived
 * from the model and written again at every start, and written by a job
 * at times of its own, so they are no mutation points of the state. */
static bool vn_skipped(const char *path)
{
	return strstr(path, "/dhcp/") != NULL;
}

static void vn_fd_point(const char *call, int fd, bool regular_only)
{
	char path[256];

	if (fd <= 2 || !vn_armed() || (regular_only && !vn_is_regular(fd)))
		return;
	vn_fd_path(fd, path, sizeof(path));
	if (vn_skipped(path))
		return;
	vn_point(call, "%s", path);
}

VN_EXPORT int fsync(int fd)
{
	vn_fd_point("fsync", fd, false);
	return AFTER(REAL(fsync)(fd));
}

VN_EXPORT int fdatasync(int fd)
{
	vn_fd_point("fdatasync", fd, false);
	return AFTER(REAL(fdatasync)(fd));
}

VN_EXPORT int sync_file_range(int fd, off_t off, off_t n, unsigned int flags)
{
	vn_fd_point("sync_file_range", fd, false);
	return AFTER(REAL(sync_file_range)(fd, off, n, flags));
}

VN_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	vn_fd_point("write", fd, true);
	return AFTER(REAL(write)(fd, buf, len));
}

VN_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	vn_fd_point("writev", fd, true);
	return AFTER(REAL(writev)(fd, iov, n));
}

VN_EXPORT ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	vn_fd_point("pwrite", fd, true);
	return AFTER(REAL(pwrite)(fd, buf, len, off));
}

VN_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	vn_fd_point("pwrite64", fd, true);
	return AFTER(REAL(pwrite64)(fd, buf, len, off));
}

VN_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	vn_fd_point("pwritev", fd, true);
	return AFTER(REAL(pwritev)(fd, iov, n, off));
}

VN_EXPORT int ftruncate(int fd, off_t len)
{
	vn_fd_point("ftruncate", fd, true);
	return AFTER(REAL(ftruncate)(fd, len));
}

VN_EXPORT int ftruncate64(int fd, off64_t len)
{
	vn_fd_point("ftruncate64", fd, true);
	return AFTER(REAL(ftruncate64)(fd, len));
}

static void vn_path_point(const char *call, int dirfd, const char *path, const char *to)
{
	char dir[256] = "";

	if (!vn_armed())
		return;
	if (dirfd >= 0 && path && path[0] != '/')
		vn_fd_path(dirfd, dir, sizeof(dir));
	if (vn_skipped(dir) || (path && vn_skipped(path)))
		return;
	vn_point(call, "%s%s%s%s%s", dir, *dir ? "/" : "", path ? path : "(null)", to ? " -> " : "",
		 to ? to : "");
}

VN_EXPORT int rename(const char *from, const char *to)
{
	vn_path_point("rename", -1, from, to);
	return AFTER(REAL(rename)(from, to));
}

VN_EXPORT int renameat(int fd1, const char *from, int fd2, const char *to)
{
	vn_path_point("renameat", fd1, from, to);
	return AFTER(REAL(renameat)(fd1, from, fd2, to));
}

VN_EXPORT int renameat2(int fd1, const char *from, int fd2, const char *to, unsigned int flags)
{
	vn_path_point("renameat2", fd1, from, to);
	return AFTER(REAL(renameat2)(fd1, from, fd2, to, flags));
}

VN_EXPORT int unlink(const char *path)
{
	vn_path_point("unlink", -1, path, NULL);
	return AFTER(REAL(unlink)(path));
}

VN_EXPORT int unlinkat(int fd, const char *path, int flags)
{
	vn_path_point("unlinkat", fd, path, NULL);
	return AFTER(REAL(unlinkat)(fd, path, flags));
}

/* ---- namespace mounts ---- */

VN_EXPORT int mount(const char *src, const char *target, const char *type, unsigned long flags,
		    const void *data)
{
	vn_path_point("mount", -1, target, NULL);
	return AFTER(REAL(mount)(src, target, type, flags, data));
}

VN_EXPORT int umount(const char *target)
{
	vn_path_point("umount", -1, target, NULL);
	return AFTER(REAL(umount)(target));
}

VN_EXPORT int umount2(const char *target, int flags)
{
	vn_path_point("umount2", -1, target, NULL);
	return AFTER(REAL(umount2)(target, flags));
}
