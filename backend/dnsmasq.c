// SPDX-License-Identifier: MIT
/*
 * dnsmasq for a network's DHCP (see include/vnetfs/dnsmasq.h): its
 * argument vector, its files written atomically, and the end of a stale
 * one of ours. Addresses come in parsed and are formatted here, so the
 * argument vector and files hold nothing a user wrote.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vnetfs/dnsmasq.h"

static int vn_strv_add(char ***v, size_t *n, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int vn_strv_add(char ***v, size_t *n, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	if (*n + 2 > *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		char **nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
	return 0;
}

void vn_dnsmasq_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static bool vn_safe_word(const char *s)
{
	/* names made from ids and the state path: no separators of
	 * dnsmasq's option syntax, no blanks, no newlines */
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (*s == ',' || *s == '\n' || *s == ' ' || *s == '\t' || *s == '=')
			return false;
	return true;
}

int vn_dnsmasq_argv(const struct vn_dnsmasq_conf *conf, char ***out)
{
	char **v = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (r == 0)                                                                        \
			r = vn_strv_add(&v, &n, &cap, __VA_ARGS__);                                \
	} while (0)

	*out = NULL;
	if (!vn_safe_word(conf->netns) || !vn_safe_word(conf->ifname) || !vn_safe_word(conf->dir) ||
	    conf->dir[0] != '/' || !conf->nranges)
		return -EINVAL;
	ADD("%s", VN_IP_BIN);
	ADD("netns");
	ADD("exec");
	ADD("%s", conf->netns);
	ADD("%s", VN_DNSMASQ_BIN);
	ADD("--conf-file=/dev/null");
	ADD("--keep-in-foreground");
	ADD("--no-hosts");
	ADD("--no-resolv");
	ADD("--port=0");
	ADD("--no-ping");
	/* Errors only: a line per DHCP packet in a log nobody rotates let a
	 * client flood the state directory's disk. */
	ADD("--quiet-dhcp");
	/* The state directory is 0700: dnsmasq keeps root (inside the
	 * namespace) to read its files again on SIGHUP. */
	ADD("--user=root");
	ADD("--group=root");
	ADD("--bind-interfaces");
	ADD("--interface=%s", conf->ifname);
	ADD("--except-interface=lo");
	ADD("--pid-file=%s/pid", conf->dir);
	ADD("--dhcp-leasefile=%s/leases", conf->dir);
	ADD("--log-facility=%s/log", conf->dir);
	ADD("--dhcp-hostsfile=%s/hosts", conf->dir);
	ADD("--dhcp-optsfile=%s/opts", conf->dir);
	ADD("--dhcp-lease-max=65536");
	for (size_t i = 0; i < conf->nranges && r == 0; i++) {
		const struct vn_dnsmasq_range *rg = &conf->ranges[i];
		char net[VN_ADDR_STRLEN], mask[VN_ADDR_STRLEN], lease[24];
		struct vn_addr m = {.af = AF_INET};

		if (rg->cidr.net.af != AF_INET || !vn_safe_word(rg->tag)) {
			r = -EINVAL;
			break;
		}
		m.v = rg->cidr.prefix ? (((vn_u128)0xffffffffu << (32 - rg->cidr.prefix)) &
					 (vn_u128)0xffffffffu)
				      : 0;
		vn_addr_format(&rg->cidr.net, net, sizeof(net));
		vn_addr_format(&m, mask, sizeof(mask));
		if (conf->lease_time)
			snprintf(lease, sizeof(lease), "%us", conf->lease_time);
		else
			snprintf(lease, sizeof(lease), "infinite");
		ADD("--dhcp-range=set:%s,%s,static,%s,%s", rg->tag, net, mask, lease);
	}
#undef ADD
	if (r < 0) {
		vn_dnsmasq_argv_free(v);
		return r;
	}
	*out = v;
	return 0;
}

int vn_dnsmasq_write(int dirfd, const char *name, const char *text, size_t len)
{
	char tmp[128];
	size_t off = 0;
	int fd, e = 0;

	if (snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			e = -errno;
			break;
		}
		off += (size_t)w;
	}
	/* No fsync: the files are made again from the model on every start. */
	if (close(fd) < 0 && !e)
		e = -errno;
	if (!e && renameat(dirfd, tmp, dirfd, name) < 0)
		e = -errno;
	if (e)
		unlinkat(dirfd, tmp, 0);
	return e;
}

static int vn_read_small(const char *path, char *buf, size_t len, size_t *got)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off + 1 < len) {
		ssize_t n = read(fd, buf + off, len - 1 - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*got = off;
	return 0;
}

/* Does pid run dnsmasq with exactly our pid file, in netns? */
static bool vn_dnsmasq_is_ours(pid_t pid, const char *dir, const char *netns)
{
	char path[64], cmd[8192], want[4200], nspath[320];
	struct stat a, b;
	size_t n = 0;
	bool bin = false, pidf = false;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (vn_read_small(path, cmd, sizeof(cmd), &n) < 0 || !n)
		return false;
	snprintf(want, sizeof(want), "--pid-file=%s/pid", dir);
	for (size_t i = 0; i < n; i += strlen(cmd + i) + 1) {
		const char *arg = cmd + i, *base = strrchr(arg, '/');

		if (i == 0)
			bin = !strcmp(base ? base + 1 : arg, "dnsmasq");
		else if (!strcmp(arg, want))
			pidf = true;
	}
	if (!bin || !pidf)
		return false;
	snprintf(nspath, sizeof(nspath), "/run/netns/%s", netns);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(nspath, &a) < 0)
		return true; /* its namespace is gone: the pid file says enough */
	return stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int vn_pidfd_wait(int pidfd, int ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : -ETIMEDOUT;
}

int vn_dnsmasq_end_stale(const char *dir, const char *netns, pid_t *found)
{
	char path[4200], buf[32];
	size_t n = 0;
	long v;
	char *end;
	int pidfd, r;

	*found = 0;
	snprintf(path, sizeof(path), "%s/pid", dir);
	r = vn_read_small(path, buf, sizeof(buf), &n);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || v <= 1 || v > 0x3fffffff)
		return 0; /* not a pid file of dnsmasq's */
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)v, 0);
	if (pidfd < 0)
		return errno == ESRCH ? 0 : -errno;
	/* checked after the pidfd holds it: the pid cannot be reused now */
	if (!vn_dnsmasq_is_ours((pid_t)v, dir, netns)) {
		close(pidfd);
		return 0;
	}
	*found = (pid_t)v;
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0) == 0 &&
	    vn_pidfd_wait(pidfd, 1000) == 0) {
		close(pidfd);
		return 0;
	}
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	r = vn_pidfd_wait(pidfd, 2000);
	close(pidfd);
	return r;
}
