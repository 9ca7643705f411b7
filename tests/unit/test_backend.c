// SPDX-License-Identifier: MIT
/*
 * The kernel backend against the real kernel. main() first moves the whole
 * process into a fresh network + mount namespace (/ made rprivate, a tmpfs
 * on /run/netns), so neither the links nor the namespaces made here can
 * touch the host's. Needs root (skipped otherwise, exit 77).
 *
 * State is checked independently of the code under test where it is cheap
 * to: flags with SIOCGIFFLAGS, addresses with getifaddrs(), routes with a
 * libnl dump of our own, sysctls by reading /proc/sys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/route.h>

#include "vnetfs/backend.h"

#include "backend/ns_priv.h"

/* ---- helpers ----------------------------------------------------------- */

static struct vn_ns *ns_new(const char *name)
{
	struct vn_ns *ns = NULL;

	vn_netns_delete(name);
	assert_int_equal(vn_ns_open(name, true, &ns), 0);
	assert_non_null(ns);
	return ns;
}

static void ns_done(struct vn_ns *ns, const char *name)
{
	vn_ns_close(ns);
	assert_int_equal(vn_netns_delete(name), 0);
}

static bool strv_has(char **v, const char *s)
{
	for (; v && *v; v++)
		if (!strcmp(*v, s))
			return true;
	return false;
}

static size_t strv_len(char **v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static ino_t ino_of_fd(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

static ino_t ino_of_path(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static struct vn_addr a4(const char *s)
{
	struct in_addr in;
	struct vn_addr a = {.af = AF_INET};

	assert_int_equal(inet_pton(AF_INET, s, &in), 1);
	a.v = ntohl(in.s_addr);
	return a;
}

static struct vn_addr a6(const char *s)
{
	struct in6_addr in;
	struct vn_addr a = {.af = AF_INET6};

	assert_int_equal(inet_pton(AF_INET6, s, &in), 1);
	for (int i = 0; i < 16; i++)
		a.v = (a.v << 8) | in.s6_addr[i];
	return a;
}

static struct vn_cidr c4(const char *s, int prefix)
{
	return (struct vn_cidr){.net = a4(s), .prefix = prefix};
}

static struct vn_cidr c6(const char *s, int prefix)
{
	return (struct vn_cidr){.net = a6(s), .prefix = prefix};
}

/* Interface flags of ifname inside ns, by ioctl from a socket made there. */
struct flags_arg {
	const char *ifname;
	short flags;
};

static int flags_fn(void *p)
{
	struct flags_arg *a = p;
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", a->ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	a->flags = ifr.ifr_flags;
	close(fd);
	return err;
}

static short if_flags(struct vn_ns *ns, const char *ifname)
{
	struct flags_arg a = {.ifname = ifname};

	assert_int_equal(vn_ns_run(ns, flags_fn, &a), 0);
	return a.flags;
}

/* Addresses on ifname inside ns as " addr/prefix" words, by getifaddrs(). */
struct addrs_arg {
	const char *ifname;
	char out[2048];
};

static int prefix_of(const struct sockaddr *mask)
{
	const uint8_t *b;
	int len, n = 0;

	if (!mask)
		return -1;
	if (mask->sa_family == AF_INET) {
		b = (const uint8_t *)&((const struct sockaddr_in *)mask)->sin_addr;
		len = 4;
	} else {
		b = ((const struct sockaddr_in6 *)mask)->sin6_addr.s6_addr;
		len = 16;
	}
	for (int i = 0; i < len; i++)
		n += __builtin_popcount(b[i]);
	return n;
}

static int addrs_fn(void *p)
{
	struct addrs_arg *a = p;
	struct ifaddrs *ifa, *i;
	size_t off = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	a->out[0] = '\0';
	for (i = ifa; i; i = i->ifa_next) {
		char buf[INET6_ADDRSTRLEN];
		const void *src;

		if (strcmp(i->ifa_name, a->ifname) || !i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			src = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		else if (i->ifa_addr->sa_family == AF_INET6)
			src = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		else
			continue;
		inet_ntop(i->ifa_addr->sa_family, src, buf, sizeof(buf));
		off += (size_t)snprintf(a->out + off, sizeof(a->out) - off, " %s/%d", buf,
					prefix_of(i->ifa_netmask));
	}
	freeifaddrs(ifa);
	return 0;
}

static const char *addrs_on(struct vn_ns *ns, const char *ifname, struct addrs_arg *a)
{
	a->ifname = ifname;
	assert_int_equal(vn_ns_run(ns, addrs_fn, a), 0);
	return a->out;
}

static int count_words(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Routes of the main table inside ns, as " dst/len gw proto" lines, from a
 * libnl dump on a socket of our own made inside ns. */
struct routes_arg {
	int af;
	char out[4096];
};

static int routes_fn(void *p)
{
	struct routes_arg *a = p;
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *c = NULL;
	size_t off = 0;
	int err;

	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (!err)
		err = rtnl_route_alloc_cache(sk, a->af, 0, &c);
	a->out[0] = '\0';
	for (struct nl_object *o = c ? nl_cache_get_first(c) : NULL; o; o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;
		struct rtnl_nexthop *nh;
		char dst[128] = "?", gw[128] = "-";

		if (rtnl_route_get_table(r) != RT_TABLE_MAIN)
			continue;
		if (nl_addr_get_len(rtnl_route_get_dst(r)) == 0) /* libnl says "none" */
			snprintf(dst, sizeof(dst), "%s", a->af == AF_INET ? "0.0.0.0/0" : "::/0");
		else
			nl_addr2str(rtnl_route_get_dst(r), dst, sizeof(dst));
		if (rtnl_route_get_nnexthops(r) == 1) {
			nh = rtnl_route_nexthop_n(r, 0);
			if (rtnl_route_nh_get_gateway(nh))
				nl_addr2str(rtnl_route_nh_get_gateway(nh), gw, sizeof(gw));
		}
		off += (size_t)snprintf(a->out + off, sizeof(a->out) - off, " [%s %s %d]", dst, gw,
					rtnl_route_get_protocol(r));
	}
	if (c)
		nl_cache_free(c);
	nl_socket_free(sk);
	return err < 0 ? -EIO : 0;
}

static const char *routes_in(struct vn_ns *ns, int af, struct routes_arg *a)
{
	a->af = af;
	assert_int_equal(vn_ns_run(ns, routes_fn, a), 0);
	return a->out;
}

struct read_arg {
	const char *path;
	char buf[64];
};

static int read_fn(void *p)
{
	struct read_arg *a = p;
	int fd = open(a->path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, a->buf, sizeof(a->buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	a->buf[n] = '\0';
	a->buf[strcspn(a->buf, "\n")] = '\0';
	return 0;
}

static int connect_fn(void *p)
{
	return nl_connect(p, NETLINK_ROUTE) < 0 ? -EIO : 0;
}

static int ret42(void *p)
{
	(void)p;
	return 42;
}

/* ---- tests ------------------------------------------------------------- */

static void test_ifname(void **state)
{
	char buf[VN_IFNAMSIZ];

	(void)state;
	vn_ifname(buf, "vnb-", "3f2a9c1e-77b0-4d1a-9e2b-0123456789ab");
	assert_string_equal(buf, "vnb-3f2a9c1e77b");
	assert_int_equal(strlen(buf), 15);
	vn_ifname(buf, "qr-", "3F2A9C1E-77B0-4d1a-9e2b-0123456789ab");
	assert_string_equal(buf, "qr-3f2a9c1e77b0");
	vn_ifname(buf, "vng-", "ab-cd");
	assert_string_equal(buf, "vng-abcd");
	vn_ifname(buf, "averyveryverylongprefix", "abcd");
	assert_string_equal(buf, "averyveryverylo");
}

static void test_bridge(void **state)
{
	struct vn_ns *ns = NULL;
	struct vn_link_state st, st2;

	(void)state;
	/* The sandbox namespace itself (never the host's: see main). */
	assert_int_equal(vn_ns_open(NULL, false, &ns), 0);

	assert_int_equal(vn_link_get(ns, "vnb-test0", &st), 0);
	assert_false(st.exists);

	assert_int_equal(vn_bridge_ensure(ns, "vnb-test0", 1400, true, true), 0);
	assert_int_equal(vn_link_get(ns, "vnb-test0", &st), 0);
	assert_true(st.exists);
	assert_true(st.ifindex > 0);
	assert_int_equal(st.mtu, 1400);
	assert_true(st.up);
	assert_string_equal(st.master, "");
	assert_true(if_flags(ns, "vnb-test0") & IFF_UP);
	assert_true(if_flags(ns, "vnb-test0") & IFF_MULTICAST);

	/* Idempotent: same link, nothing changed. */
	assert_int_equal(vn_bridge_ensure(ns, "vnb-test0", 1400, true, true), 0);
	assert_int_equal(vn_link_get(ns, "vnb-test0", &st2), 0);
	assert_int_equal(st2.ifindex, st.ifindex);
	assert_int_equal(st2.mtu, 1400);

	/* Drift (mtu, admin down) is fixed. */
	assert_int_equal(vn_link_set(ns, "vnb-test0", 1300, false, NULL), 0);
	assert_int_equal(vn_link_get(ns, "vnb-test0", &st2), 0);
	assert_int_equal(st2.mtu, 1300);
	assert_false(st2.up);
	assert_false(if_flags(ns, "vnb-test0") & IFF_UP);
	assert_int_equal(vn_bridge_ensure(ns, "vnb-test0", 1400, true, true), 0);
	assert_int_equal(vn_link_get(ns, "vnb-test0", &st2), 0);
	assert_int_equal(st2.ifindex, st.ifindex);
	assert_int_equal(st2.mtu, 1400);
	assert_true(st2.up);

	/* vn_link_set changes the mac, and with mtu 0 leaves the mtu. */
	{
		const uint8_t mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

		assert_int_equal(vn_link_set(ns, "vnb-test0", 0, true, mac), 0);
		assert_int_equal(vn_link_get(ns, "vnb-test0", &st2), 0);
		assert_memory_equal(st2.mac, mac, 6);
		assert_int_equal(st2.mtu, 1400);
	}

	/* Ensure can also leave a bridge down. */
	assert_int_equal(vn_bridge_ensure(ns, "vnb-test0", 1400, false, true), 0);
	assert_int_equal(vn_link_get(ns, "vnb-test0", &st2), 0);
	assert_false(st2.up);

	/* A non-bridge under the name is not silently taken over. */
	assert_int_equal(vn_bridge_ensure(ns, "lo", 1500, true, true), -EEXIST);

	assert_int_equal(vn_link_set(ns, "vnb-missing", 1500, true, NULL), -ENODEV);
	assert_int_equal(vn_link_delete(ns, "vnb-test0"), 0);
	assert_int_equal(vn_link_get(ns, "vnb-test0", &st2), 0);
	assert_false(st2.exists);
	assert_int_equal(vn_link_delete(ns, "vnb-test0"), 0);
	assert_int_equal(vn_link_delete(ns, "no-such-link"), 0);

	/* Names that cannot be interface names. */
	assert_int_equal(vn_bridge_ensure(ns, "", 1500, true, true), -EINVAL);
	assert_int_equal(vn_bridge_ensure(ns, "0123456789abcdef", 1500, true, true), -EINVAL);
	vn_ns_close(ns);
}

static void test_link_list(void **state)
{
	struct vn_ns *ns = ns_new("vnt-list");
	char **names = NULL;

	(void)state;
	assert_int_equal(vn_bridge_ensure(ns, "vnb-aaa", 1500, true, true), 0);
	assert_int_equal(vn_bridge_ensure(ns, "vnb-bbb", 1500, false, true), 0);
	assert_int_equal(vn_bridge_ensure(ns, "xvnb-ccc", 1500, true, true), 0);
	assert_int_equal(vn_bridge_ensure(ns, "vn-ddd", 1500, true, true), 0);

	assert_int_equal(vn_link_list(ns, VN_BRIDGE_PREFIX, &names), 0);
	assert_int_equal(strv_len(names), 2);
	assert_true(strv_has(names, "vnb-aaa"));
	assert_true(strv_has(names, "vnb-bbb"));
	vn_strv_free(names);

	assert_int_equal(vn_link_list(ns, "zzz", &names), 0);
	assert_non_null(names);
	assert_int_equal(strv_len(names), 0);
	vn_strv_free(names);

	assert_int_equal(vn_link_list(ns, "", &names), 0);
	assert_int_equal(strv_len(names), 5); /* + lo */
	assert_true(strv_has(names, "lo"));
	vn_strv_free(names);

	ns_done(ns, "vnt-list");
}

static bool run_netns_is_shared(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	bool shared = false;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char mp[1024];

		if (sscanf(line, "%*s %*s %*s %*s %1023s", mp) == 1 && !strcmp(mp, "/run/netns"))
			shared = strstr(line, " shared:") != NULL;
	}
	fclose(f);
	return shared;
}

static void test_netns(void **state)
{
	struct vn_ns *ns = NULL, *again = NULL;
	struct vn_link_state st;
	char **names = NULL;

	(void)state;
	vn_netns_delete("vnq-one");
	assert_int_equal(vn_ns_open("vnq-one", false, &ns), -ENOENT);
	assert_int_equal(vn_ns_open("bad/name", true, &ns), -EINVAL);
	assert_int_equal(vn_ns_open("..", true, &ns), -EINVAL);

	assert_int_equal(vn_ns_open("vnq-one", true, &ns), 0);
	assert_true(vn_ns_fd(ns) >= 0);
	/* A new namespace, not ours, registered where iproute2 looks. */
	assert_int_not_equal(ino_of_fd(vn_ns_fd(ns)), ino_of_path("/proc/self/ns/net"));
	assert_int_equal(ino_of_fd(vn_ns_fd(ns)), ino_of_path("/run/netns/vnq-one"));
	assert_true(run_netns_is_shared());
	/* The creating thread stayed where it was. */
	assert_int_equal(ino_of_path("/proc/thread-self/ns/net"), ino_of_path("/proc/self/ns/net"));

	/* lo is up in it, and it has nothing else. */
	assert_int_equal(vn_link_get(ns, "lo", &st), 0);
	assert_true(st.exists);
	assert_true(st.up);
	assert_true(if_flags(ns, "lo") & IFF_UP);
	assert_int_equal(vn_link_list(ns, NULL, &names), 0);
	assert_int_equal(strv_len(names), 1);
	vn_strv_free(names);

	/* Opening again (create or not) gives the same namespace. */
	assert_int_equal(vn_ns_open("vnq-one", true, &again), 0);
	assert_int_equal(ino_of_fd(vn_ns_fd(again)), ino_of_fd(vn_ns_fd(ns)));
	vn_ns_close(again);
	assert_int_equal(vn_ns_open("vnq-one", false, &again), 0);
	assert_int_equal(ino_of_fd(vn_ns_fd(again)), ino_of_fd(vn_ns_fd(ns)));
	vn_ns_close(again);

	/* Sockets are bound to their namespace: a bridge made through ns is
	 * not in the sandbox namespace. */
	assert_int_equal(vn_bridge_ensure(ns, "vnb-inner", 1500, true, true), 0);
	assert_int_equal(vn_ns_open(NULL, false, &again), 0);
	assert_int_equal(vn_link_get(again, "vnb-inner", &st), 0);
	assert_false(st.exists);
	vn_ns_close(again);

	/* vn_ns_run goes there and back and passes the result through. */
	assert_int_equal(vn_ns_run(ns, ret42, NULL), 42);
	assert_int_equal(ino_of_path("/proc/thread-self/ns/net"), ino_of_path("/proc/self/ns/net"));

	assert_int_equal(vn_netns_delete("vnq-one"), 0); /* first, while still open */
	assert_int_equal(vn_netns_list("vnq-", &names), 0);
	assert_false(strv_has(names, "vnq-one"));
	vn_strv_free(names);

	vn_ns_close(ns);
	ns = ns_new("vnq-one");
	again = ns_new("vnq-two");
	assert_int_equal(vn_netns_list("vnq-", &names), 0);
	assert_int_equal(strv_len(names), 2);
	assert_string_equal(names[0], "vnq-one");
	assert_string_equal(names[1], "vnq-two");
	vn_strv_free(names);
	assert_int_equal(vn_netns_list("vnq-t", &names), 0);
	assert_int_equal(strv_len(names), 1);
	assert_string_equal(names[0], "vnq-two");
	vn_strv_free(names);

	ns_done(again, "vnq-two");
	ns_done(ns, "vnq-one");
	assert_int_equal(access("/run/netns/vnq-one", F_OK), -1);
	assert_int_equal(vn_netns_delete("vnq-one"), 0);
	assert_int_equal(vn_netns_list("vnq-", &names), 0);
	assert_int_equal(strv_len(names), 0);
	vn_strv_free(names);

	/* A leftover plain file (a crash between create and mount) is not a
	 * namespace; create mounts a namespace over it. */
	{
		int fd = open("/run/netns/vnq-stale", O_RDONLY | O_CREAT | O_CLOEXEC, 0);

		assert_true(fd >= 0);
		close(fd);
		assert_int_equal(vn_ns_open("vnq-stale", false, &ns), -EINVAL);
		assert_int_equal(vn_ns_open("vnq-stale", true, &ns), 0);
		assert_int_not_equal(ino_of_fd(vn_ns_fd(ns)), ino_of_path("/proc/self/ns/net"));
		ns_done(ns, "vnq-stale");
		assert_int_equal(access("/run/netns/vnq-stale", F_OK), -1);
	}
}

/* /run/netns not a mount point yet (a fresh /run, private to this test):
 * it is made one (bound on itself) and shared, as `ip netns add` does. */
static void test_netns_fresh_run(void **state)
{
	struct vn_ns *ns = NULL;
	struct stat st;

	(void)state;
	assert_int_equal(mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"), 0);
	assert_int_equal(stat("/run/netns", &st), -1);
	assert_int_equal(vn_ns_open("vnq-fresh", true, &ns), 0);
	assert_true(run_netns_is_shared());
	assert_int_equal(ino_of_fd(vn_ns_fd(ns)), ino_of_path("/run/netns/vnq-fresh"));
	ns_done(ns, "vnq-fresh");
	/* Again, now that it is a shared mount point already. */
	assert_int_equal(vn_ns_open("vnq-fresh", true, &ns), 0);
	ns_done(ns, "vnq-fresh");
	assert_int_equal(umount2("/run", MNT_DETACH), 0);
}

static void make_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	close(fd);
}

/* Hostile paths fail at once, with the errno that says why, and never
 * block: a FIFO (nobody writes to it), a file, a directory, symlinks (to
 * a real namespace too), a /run/netns that is a symlink, a uts namespace. */
static void test_ns_open_path(void **state)
{
	struct vn_ns *ns = NULL;
	struct vn_link_state st;
	char self[64];
	int fd;

	(void)state;
	snprintf(self, sizeof(self), "/proc/%d/ns/net", (int)getpid());
	assert_int_equal(vn_ns_open_path(self, &ns), 0);
	assert_int_equal(ino_of_fd(vn_ns_fd(ns)), ino_of_path("/proc/self/ns/net"));
	assert_int_equal(vn_link_get(ns, "lo", &st), 0);
	assert_true(st.exists);
	vn_ns_close(ns);

	/* Only the two forms, spelt exactly. */
	assert_int_equal(vn_ns_open_path("/proc/self/ns/net", &ns), -EINVAL);
	assert_int_equal(vn_ns_open_path("/proc/thread-self/ns/net", &ns), -EINVAL);
	assert_int_equal(vn_ns_open_path("/proc/1/ns/mnt", &ns), -EINVAL);
	assert_int_equal(vn_ns_open_path("/proc/01/ns/net", &ns), -EINVAL);
	assert_int_equal(vn_ns_open_path("/proc/1/../1/ns/net", &ns), -EINVAL);
	assert_int_equal(vn_ns_open_path("/run/netns/../netns/x", &ns), -EINVAL);
	assert_int_equal(vn_ns_open_path("/run/netns/", &ns), -EINVAL);
	assert_int_equal(vn_ns_open_path("/run/netns/..", &ns), -EINVAL);
	assert_int_equal(vn_ns_open_path("/tmp/x", &ns), -EINVAL);
	assert_int_equal(vn_ns_open_path("", &ns), -EINVAL);
	assert_int_equal(vn_ns_open_path("/proc/999999999/ns/net", &ns), -ENOENT);
	assert_int_equal(vn_ns_open_path("/run/netns/missing", &ns), -ENOENT);

	make_file("/run/netns/plain-file");
	assert_int_equal(vn_ns_open_path("/run/netns/plain-file", &ns), -EINVAL);
	unlink("/run/netns/plain-file");

	/* A FIFO: an open without O_NONBLOCK would wait for a writer forever. */
	assert_int_equal(mkfifo("/run/netns/fifo", 0644), 0);
	assert_int_equal(vn_ns_open_path("/run/netns/fifo", &ns), -EINVAL);
	assert_int_equal(vn_ns_open("fifo", false, &ns), -EINVAL);
	unlink("/run/netns/fifo");

	assert_int_equal(mkdir("/run/netns/dir", 0755), 0);
	assert_int_equal(vn_ns_open_path("/run/netns/dir", &ns), -EINVAL);
	rmdir("/run/netns/dir");

	/* A namespace, but not a network one. */
	make_file("/run/netns/uts");
	assert_int_equal(mount("/proc/self/ns/uts", "/run/netns/uts", NULL, MS_BIND, NULL), 0);
	assert_int_equal(vn_ns_open_path("/run/netns/uts", &ns), -EINVAL);
	assert_int_equal(umount2("/run/netns/uts", MNT_DETACH), 0);
	unlink("/run/netns/uts");

	/* Symlinks: to a namespace, to a FIFO, to the daemon's mount... */
	ns = ns_new("vnq-real");
	vn_ns_close(ns);
	ns = NULL;
	assert_int_equal(symlink("/run/netns/vnq-real", "/run/netns/link"), 0);
	assert_int_equal(vn_ns_open_path("/run/netns/link", &ns), -ELOOP);
	assert_int_equal(vn_ns_open("link", false, &ns), -ELOOP);
	assert_int_equal(vn_ns_open("link", true, &ns), -ELOOP); /* not mounted over */
	assert_int_equal(lstat("/run/netns/link", &(struct stat){0}), 0);
	unlink("/run/netns/link");
	assert_int_equal(symlink(self, "/run/netns/link"), 0);
	assert_int_equal(vn_ns_open_path("/run/netns/link", &ns), -ELOOP);
	unlink("/run/netns/link");
	assert_int_equal(vn_ns_open_path("/run/netns/vnq-real", &ns), 0);
	vn_ns_close(ns);
	assert_int_equal(vn_netns_delete("vnq-real"), 0);

	/* ...and /run/netns itself a symlink (to a directory that holds a
	 * namespace): nothing under it is used, made or removed. Built on a
	 * fresh tmpfs /run of our own mount namespace. */
	assert_int_equal(mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"), 0);
	assert_int_equal(mkdir("/run/alt", 0755), 0);
	make_file("/run/alt/x");
	assert_int_equal(mount(self, "/run/alt/x", NULL, MS_BIND, NULL), 0);
	assert_int_equal(symlink("/run/alt", "/run/netns"), 0);
	assert_int_equal(vn_ns_open_path("/run/netns/x", &ns), -ELOOP);
	assert_int_equal(vn_ns_open("x", false, &ns), -ELOOP);
	assert_int_equal(vn_ns_open("vnq-new", true, &ns), -ELOOP);
	assert_int_equal(access("/run/alt/vnq-new", F_OK), -1);
	{
		char **names = NULL;

		assert_int_equal(vn_netns_list(NULL, &names), -ELOOP);
	}
	assert_int_equal(vn_netns_delete("x"), -ELOOP);
	assert_int_equal(vn_ns_open_path("/run/alt/x", &ns), -EINVAL); /* not a form we take */
	assert_int_equal(umount2("/run", MNT_DETACH), 0);
	fd = open("/run/netns/vnq-real", O_PATH);
	assert_int_equal(fd, -1);
}

/* The same refusals on kernels without openat2 (before 5.6), where each
 * component is opened O_NOFOLLOW: a child process that sees openat2 fail
 * with ENOSYS (seccomp), in a mount namespace of its own with a fresh
 * /run. Returns the number of the first check that failed, 0 if none. */
static int nofollow_fallback_child(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
	struct open_how how = {.flags = O_PATH};
	struct vn_ns *ns = NULL;
	char self[64];
	int fd;

	snprintf(self, sizeof(self), "/proc/%d/ns/net", (int)getpid());
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 || mkdir("/run/netns", 0755) < 0)
		return 1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return 2;
	if (syscall(__NR_openat2, AT_FDCWD, "/", &how, sizeof(how)) != -1 || errno != ENOSYS)
		return 3;
	fd = open("/run/netns/x", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return 4;
	close(fd);
	if (mount(self, "/run/netns/x", NULL, MS_BIND, NULL) < 0)
		return 5;
	if (vn_ns_open_path("/run/netns/x", &ns) != 0)
		return 6;
	vn_ns_close(ns);
	if (vn_ns_open_path(self, &ns) != 0)
		return 7;
	vn_ns_close(ns);
	if (mkfifo("/run/netns/fifo", 0644) < 0 ||
	    vn_ns_open_path("/run/netns/fifo", &ns) != -EINVAL)
		return 8;
	if (symlink("/run/netns/x", "/run/netns/link") < 0 ||
	    vn_ns_open_path("/run/netns/link", &ns) != -ELOOP)
		return 9;
	if (vn_ns_open_path("/run/netns/missing", &ns) != -ENOENT)
		return 10;
	/* /run/netns a symlink to a directory holding a namespace */
	if (mount("/run/netns", "/run/netns", NULL, MS_BIND, NULL) < 0 ||
	    mkdir("/run/alt", 0755) < 0 ||
	    mount("/run/netns", "/run/alt", NULL, MS_BIND | MS_REC, NULL) < 0 ||
	    umount2("/run/netns", MNT_DETACH) < 0 || rename("/run/netns", "/run/old") < 0 ||
	    symlink("/run/alt", "/run/netns") < 0)
		return 11;
	if (vn_ns_open_path("/run/alt/x", &ns) != -EINVAL) /* sanity: the layout is there */
		return 12;
	if (vn_ns_open_path("/run/netns/x", &ns) != -ELOOP)
		return 13;
	if (vn_ns_open("vnq-new", true, &ns) != -ELOOP || access("/run/alt/vnq-new", F_OK) == 0)
		return 14;
	return 0;
}

static void test_ns_open_nofollow_fallback(void **state)
{
	int st = 0;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(nofollow_fallback_child());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* Identity follows the namespace, not the path; the owner is the user
 * namespace's. */
static void test_ns_identity(void **state)
{
	struct vn_ns *a = ns_new("vnq-id"), *again = NULL, *self = NULL;
	struct vn_ns_id ia, ib, is;
	uid_t owner = 12345;

	(void)state;
	assert_int_equal(vn_ns_id(a, &ia), 0);
	assert_int_equal(ia.ino, ino_of_path("/run/netns/vnq-id"));
	assert_int_equal(vn_ns_open_path("/run/netns/vnq-id", &again), 0);
	assert_int_equal(vn_ns_id(again, &ib), 0);
	assert_true(vn_ns_id_eq(&ia, &ib));
	vn_ns_close(again);
	assert_int_equal(vn_ns_open(NULL, false, &self), 0);
	assert_int_equal(vn_ns_id(self, &is), 0);
	assert_false(vn_ns_id_eq(&ia, &is));
	/* Made by us (root, in our own user namespace): no user's. */
	assert_int_equal(vn_ns_owner(a, &owner), -EPERM);
	assert_int_equal(vn_ns_owner(self, &owner), -EPERM);
	assert_int_equal(owner, 12345);
	vn_ns_close(self);

	/* The path deleted and made again: another namespace. */
	vn_ns_close(a);
	assert_int_equal(vn_netns_delete("vnq-id"), 0);
	a = ns_new("vnq-id");
	assert_int_equal(vn_ns_id(a, &ib), 0);
	assert_false(vn_ns_id_eq(&ia, &ib));
	ns_done(a, "vnq-id");
}

static const uint8_t port_mac[6] = {0xfa, 0x16, 0x3e, 0x01, 0x02, 0x03};

static void test_veth(void **state)
{
	struct vn_ns *host = ns_new("vnt-host");
	struct vn_ns *peer = ns_new("vnt-peer");
	struct vn_link_state h, p, h2, p2;

	(void)state;
	assert_int_equal(vn_bridge_ensure(host, "vnb-net", 1450, true, true), 0);
	assert_int_equal(vn_veth_ensure(host, "vnp-1", "vnb-net", peer, "qr-1", port_mac, 1450), 0);

	assert_int_equal(vn_link_get(host, "vnp-1", &h), 0);
	assert_true(h.exists);
	assert_int_equal(h.mtu, 1450);
	assert_true(h.up);
	assert_string_equal(h.master, "vnb-net");
	assert_int_equal(vn_link_get(peer, "qr-1", &p), 0);
	assert_true(p.exists);
	assert_int_equal(p.mtu, 1450);
	assert_true(p.up);
	assert_memory_equal(p.mac, port_mac, 6);
	assert_string_equal(p.master, "");
	/* Each end only where it belongs. */
	assert_int_equal(vn_link_get(host, "qr-1", &p2), 0);
	assert_false(p2.exists);
	assert_int_equal(vn_link_get(peer, "vnp-1", &h2), 0);
	assert_false(h2.exists);
	/* Brought up without losing the flags a veth is born with. */
	assert_true(if_flags(peer, "qr-1") & IFF_UP);
	assert_true(if_flags(peer, "qr-1") & IFF_MULTICAST);
	assert_true(if_flags(peer, "qr-1") & IFF_BROADCAST);
	assert_true(if_flags(host, "vnp-1") & IFF_MULTICAST);

	/* Idempotent: nothing is remade. */
	assert_int_equal(vn_veth_ensure(host, "vnp-1", "vnb-net", peer, "qr-1", port_mac, 1450), 0);
	assert_int_equal(vn_link_get(host, "vnp-1", &h2), 0);
	assert_int_equal(vn_link_get(peer, "qr-1", &p2), 0);
	assert_int_equal(h2.ifindex, h.ifindex);
	assert_int_equal(p2.ifindex, p.ifindex);

	/* Drift on both ends is fixed in place. */
	{
		const uint8_t other[6] = {0x02, 0, 0, 0, 0, 0x09};
		char **names = NULL;

		assert_int_equal(vn_link_set(peer, "qr-1", 1300, false, other), 0);
		assert_int_equal(vn_link_set(host, "vnp-1", 0, false, NULL), 0);
		assert_int_equal(vn_bridge_ensure(host, "vnb-other", 1450, true, true), 0);
		assert_int_equal(
			vn_veth_ensure(host, "vnp-1", "vnb-other", peer, "qr-1", port_mac, 1400),
			0);
		assert_int_equal(vn_link_get(host, "vnp-1", &h2), 0);
		assert_int_equal(vn_link_get(peer, "qr-1", &p2), 0);
		assert_int_equal(h2.ifindex, h.ifindex);
		assert_int_equal(p2.ifindex, p.ifindex);
		assert_int_equal(h2.mtu, 1400);
		assert_int_equal(p2.mtu, 1400);
		assert_true(h2.up);
		assert_true(p2.up);
		assert_string_equal(h2.master, "vnb-other");
		assert_memory_equal(p2.mac, port_mac, 6);

		/* master NULL: taken off the bridge. */
		assert_int_equal(vn_veth_ensure(host, "vnp-1", NULL, peer, "qr-1", NULL, 1400), 0);
		assert_int_equal(vn_link_get(host, "vnp-1", &h2), 0);
		assert_string_equal(h2.master, "");
		assert_int_equal(h2.ifindex, h.ifindex);
		assert_int_equal(vn_link_get(peer, "qr-1", &p2), 0);
		assert_memory_equal(p2.mac, port_mac, 6); /* mac NULL: left alone */

		assert_int_equal(vn_link_list(peer, NULL, &names), 0);
		assert_int_equal(strv_len(names), 2); /* lo, qr-1 */
		vn_strv_free(names);
	}

	/* The host name is taken by something the daemon did not make (no
	 * ifalias mark) and the peer is missing: refused, nothing deleted. */
	assert_int_equal(vn_link_delete(host, "vnp-1"), 0);
	assert_int_equal(vn_link_get(peer, "qr-1", &p2), 0);
	assert_false(p2.exists); /* went with its pair */
	assert_int_equal(vn_bridge_ensure(host, "vnp-1", 1500, true, true), 0);
	assert_int_equal(vn_link_get(host, "vnp-1", &h), 0);
	assert_int_equal(vn_veth_ensure(host, "vnp-1", "vnb-net", peer, "qr-1", port_mac, 1450),
			 -EEXIST);
	assert_int_equal(vn_link_get(host, "vnp-1", &h2), 0);
	assert_int_equal(h2.ifindex, h.ifindex); /* the bridge is still there */
	assert_int_equal(vn_link_get(peer, "qr-1", &p2), 0);
	assert_false(p2.exists);
	assert_int_equal(vn_link_delete(host, "vnp-1"), 0);
	/* The peer's name is taken by a foreign link while the host end (the
	 * daemon's) exists: refused, both left alone. */
	assert_int_equal(vn_veth_ensure(host, "vnp-1", "vnb-net", peer, "qr-1", port_mac, 1450), 0);
	assert_int_equal(vn_bridge_ensure(peer, "qr-9", 1500, true, true), 0);
	assert_int_equal(vn_link_get(peer, "qr-9", &p), 0);
	assert_int_equal(vn_link_get(host, "vnp-1", &h), 0);
	assert_int_equal(vn_veth_ensure(host, "vnp-1", "vnb-net", peer, "qr-9", port_mac, 1450),
			 -EEXIST);
	assert_int_equal(vn_link_get(peer, "qr-9", &p2), 0);
	assert_int_equal(p2.ifindex, p.ifindex);
	assert_int_equal(vn_link_get(host, "vnp-1", &h2), 0);
	assert_int_equal(h2.ifindex, h.ifindex);
	assert_int_equal(vn_link_delete(peer, "qr-9"), 0);
	/* Half made from the daemon's own (marked) links: remade. The host
	 * end is the daemon's and paired with another peer of its own. */
	assert_int_equal(vn_link_delete(host, "vnp-1"), 0);
	assert_int_equal(vn_veth_ensure(host, "vnp-1", NULL, host, "vnp-1b", NULL, 1500), 0);
	assert_int_equal(vn_veth_ensure(host, "vnp-1", "vnb-net", peer, "qr-1", port_mac, 1450), 0);
	assert_int_equal(vn_link_get(host, "vnp-1", &h2), 0);
	assert_string_equal(h2.master, "vnb-net");
	assert_int_equal(vn_link_get(host, "vnp-1b", &p2), 0);
	assert_false(p2.exists); /* the old pair went */
	assert_int_equal(vn_link_get(peer, "qr-1", &p2), 0);
	assert_true(p2.exists);
	assert_memory_equal(p2.mac, port_mac, 6);

	/* Peer end present but unpaired (its host end is gone). */
	assert_int_equal(vn_veth_ensure(peer, "qr-x", NULL, peer, "qr-y", NULL, 1500), 0);
	assert_int_equal(vn_veth_ensure(host, "vnp-2", "vnb-net", peer, "qr-y", NULL, 1500), 0);
	assert_int_equal(vn_link_get(peer, "qr-x", &p2), 0);
	assert_false(p2.exists); /* the old pair went */
	assert_int_equal(vn_link_get(host, "vnp-2", &h2), 0);
	assert_true(h2.exists);
	assert_int_equal(vn_link_get(peer, "qr-y", &p2), 0);
	assert_true(p2.exists);

	/* A missing master fails and leaves nothing behind. */
	assert_int_equal(vn_veth_ensure(host, "vnp-3", "vnb-nope", peer, "qr-3", NULL, 1500),
			 -ENODEV);
	assert_int_equal(vn_link_get(host, "vnp-3", &h2), 0);
	assert_false(h2.exists);
	assert_int_equal(vn_link_get(peer, "qr-3", &p2), 0);
	assert_false(p2.exists);
	/* A bad mac (multicast) is refused by the kernel, atomically. */
	{
		const uint8_t mcast[6] = {0x01, 0, 0x5e, 0, 0, 1};

		assert_true(vn_veth_ensure(host, "vnp-3", "vnb-net", peer, "qr-3", mcast, 1500) <
			    0);
		assert_int_equal(vn_link_get(host, "vnp-3", &h2), 0);
		assert_false(h2.exists);
		assert_int_equal(vn_link_get(peer, "qr-3", &p2), 0);
		assert_false(p2.exists);
	}

	/* Both ends in one namespace. */
	assert_int_equal(vn_veth_ensure(host, "vnr-a", "vnb-net", host, "qr-a", port_mac, 1450), 0);
	assert_int_equal(vn_link_get(host, "qr-a", &p2), 0);
	assert_true(p2.exists);
	assert_true(p2.up);
	assert_memory_equal(p2.mac, port_mac, 6);
	assert_int_equal(vn_veth_ensure(host, "vnr-a", "vnb-net", host, "qr-a", port_mac, 1450), 0);
	assert_int_equal(vn_link_get(host, "qr-a", &h2), 0);
	assert_int_equal(h2.ifindex, p2.ifindex);

	ns_done(peer, "vnt-peer");
	ns_done(host, "vnt-host");
}

static void test_addr_sync(void **state)
{
	struct vn_ns *ns = ns_new("vnt-addr");
	struct addrs_arg a;
	const char *s;

	(void)state;
	assert_int_equal(vn_veth_ensure(ns, "qr-a", NULL, ns, "qr-b", NULL, 1500), 0);

	{
		const struct vn_cidr want[] = {
			c4("10.1.0.1", 24),
			c4("10.1.0.5", 24),
			c6("fd00::1", 64),
		};

		assert_int_equal(vn_addr_sync(ns, "qr-a", AF_UNSPEC, want, 3), 0);
		s = addrs_on(ns, "qr-a", &a);
		assert_non_null(strstr(s, " 10.1.0.1/24"));
		assert_non_null(strstr(s, " 10.1.0.5/24"));
		assert_non_null(strstr(s, " fd00::1/64"));
		/* Again: nothing added twice. */
		assert_int_equal(vn_addr_sync(ns, "qr-a", AF_UNSPEC, want, 3), 0);
		s = addrs_on(ns, "qr-a", &a);
		assert_int_equal(count_words(s, " 10.1.0."), 2);
		assert_int_equal(count_words(s, " fd00::"), 1);
	}
	{
		/* IPv4 only: the primary goes, its secondary 10.1.0.5 must
		 * survive (the kernel flushes secondaries with the primary),
		 * the IPv6 address is not touched. */
		const struct vn_cidr want[] = {c4("10.1.0.5", 24), c4("10.2.0.1", 16)};

		assert_int_equal(vn_addr_sync(ns, "qr-a", AF_INET, want, 2), 0);
		s = addrs_on(ns, "qr-a", &a);
		assert_null(strstr(s, " 10.1.0.1/"));
		assert_non_null(strstr(s, " 10.1.0.5/24"));
		assert_non_null(strstr(s, " 10.2.0.1/16"));
		assert_non_null(strstr(s, " fd00::1/64"));
		assert_int_equal(count_words(s, " 10."), 2);
	}
	{
		/* Same address, other prefix length: replaced. */
		const struct vn_cidr want[] = {c4("10.1.0.5", 25), c4("10.2.0.1", 16)};

		assert_int_equal(vn_addr_sync(ns, "qr-a", AF_INET, want, 2), 0);
		s = addrs_on(ns, "qr-a", &a);
		assert_non_null(strstr(s, " 10.1.0.5/25"));
		assert_null(strstr(s, " 10.1.0.5/24"));
	}
	{
		const struct vn_cidr want[] = {c6("fd00::2", 64), c6("2001:db8::7", 48)};

		assert_int_equal(vn_addr_sync(ns, "qr-a", AF_INET6, want, 2), 0);
		s = addrs_on(ns, "qr-a", &a);
		assert_null(strstr(s, " fd00::1/"));
		assert_non_null(strstr(s, " fd00::2/64"));
		assert_non_null(strstr(s, " 2001:db8::7/48"));
		assert_non_null(strstr(s, " 10.2.0.1/16"));
	}
	/* Mismatched family and bad prefix are refused. */
	{
		const struct vn_cidr bad[] = {c6("fd00::2", 64)};
		const struct vn_cidr bad2[] = {c4("10.0.0.1", 33)};

		assert_int_equal(vn_addr_sync(ns, "qr-a", AF_INET, bad, 1), -EINVAL);
		assert_int_equal(vn_addr_sync(ns, "qr-a", AF_INET, bad2, 1), -EINVAL);
		assert_int_equal(vn_addr_sync(ns, "qr-nope", AF_INET, NULL, 0), -ENODEV);
	}

	/* Empty: everything global goes, both families; link-local stays
	 * (an up veth with carrier has one). */
	assert_int_equal(vn_addr_sync(ns, "qr-a", AF_UNSPEC, NULL, 0), 0);
	s = addrs_on(ns, "qr-a", &a);
	assert_null(strstr(s, " 10."));
	assert_null(strstr(s, " fd00:"));
	assert_null(strstr(s, " 2001:"));
	assert_non_null(strstr(s, " fe80:"));
	/* lo's 127.0.0.1 (host scope) is never ours. */
	assert_int_equal(vn_addr_sync(ns, "lo", AF_UNSPEC, NULL, 0), 0);
	s = addrs_on(ns, "lo", &a);
	assert_non_null(strstr(s, " 127.0.0.1/8"));

	ns_done(ns, "vnt-addr");
}

static void test_route_sync(void **state)
{
	struct vn_ns *ns = ns_new("vnt-route");
	struct routes_arg r;
	const char *s;

	(void)state;
	assert_int_equal(vn_veth_ensure(ns, "qg-a", NULL, ns, "qg-b", NULL, 1500), 0);
	{
		const struct vn_cidr addrs[] = {c4("10.3.0.2", 24), c6("fd01::2", 64)};

		assert_int_equal(vn_addr_sync(ns, "qg-a", AF_UNSPEC, addrs, 2), 0);
	}
	{
		struct vn_route v4[] = {
			{.dst = c4("0.0.0.0", 0), .gateway = a4("10.3.0.1")},
			{.dst = c4("192.168.7.0", 24), .gateway = {0}, .ifname = "qg-a"},
		};

		assert_int_equal(vn_route_sync(ns, AF_INET, v4, 2), 0);
		s = routes_in(ns, AF_INET, &r);
		assert_non_null(strstr(s, "[0.0.0.0/0 10.3.0.1 118]"));
		assert_non_null(strstr(s, "[192.168.7.0/24 - 118]"));
		assert_non_null(strstr(s, "[10.3.0.0/24 - 2]")); /* connected, proto kernel */

		/* Idempotent. */
		assert_int_equal(vn_route_sync(ns, AF_INET, v4, 2), 0);
		s = routes_in(ns, AF_INET, &r);
		assert_int_equal(count_words(s, "[0.0.0.0/0 "), 1);
		assert_int_equal(count_words(s, "[192.168.7.0/24 "), 1);
	}
	{
		/* New gateway for the default route; the other one goes. */
		struct vn_route v4[] = {
			{.dst = c4("0.0.0.0", 0), .gateway = a4("10.3.0.254"), .ifname = "qg-a"},
		};

		assert_int_equal(vn_route_sync(ns, AF_INET, v4, 1), 0);
		s = routes_in(ns, AF_INET, &r);
		assert_non_null(strstr(s, "[0.0.0.0/0 10.3.0.254 118]"));
		assert_null(strstr(s, "10.3.0.1 "));
		assert_null(strstr(s, "192.168.7.0"));
	}
	{
		struct vn_route v6[] = {
			{.dst = c6("::", 0), .gateway = a6("fd01::1")},
			{.dst = c6("fd02::", 64), .gateway = a6("fd01::9"), .ifname = "qg-a"},
		};

		assert_int_equal(vn_route_sync(ns, AF_INET6, v6, 2), 0);
		assert_int_equal(vn_route_sync(ns, AF_INET6, v6, 2), 0);
		s = routes_in(ns, AF_INET6, &r);
		assert_non_null(strstr(s, "[::/0 fd01::1 118]"));
		assert_non_null(strstr(s, "[fd02::/64 fd01::9 118]"));
		assert_int_equal(count_words(s, "[::/0 "), 1);
		/* The IPv4 routes were left alone by an IPv6 sync. */
		s = routes_in(ns, AF_INET, &r);
		assert_non_null(strstr(s, "[0.0.0.0/0 10.3.0.254 118]"));
	}
	/* Bad requests. */
	{
		struct vn_route mixed[] = {{.dst = c4("0.0.0.0", 0), .gateway = a6("fd01::1")}};
		struct vn_route nowhere[] = {{.dst = c4("10.9.0.0", 16)}};
		struct vn_route nodev[] = {{.dst = c4("10.9.0.0", 16), .ifname = "qg-zz"}};

		assert_int_equal(vn_route_sync(ns, AF_INET, mixed, 1), -EINVAL);
		assert_int_equal(vn_route_sync(ns, AF_INET, nowhere, 1), -EINVAL);
		assert_int_equal(vn_route_sync(ns, AF_INET, nodev, 1), -ENODEV);
	}
	/* Removal of everything ours, both families; connected routes stay. */
	assert_int_equal(vn_route_sync(ns, AF_UNSPEC, NULL, 0), 0);
	s = routes_in(ns, AF_INET, &r);
	assert_null(strstr(s, "[0.0.0.0/0 "));
	assert_non_null(strstr(s, "[10.3.0.0/24 - 2]"));
	s = routes_in(ns, AF_INET6, &r);
	assert_null(strstr(s, "[::/0 "));
	assert_null(strstr(s, "[fd02::/64 "));
	assert_non_null(strstr(s, "[fd01::/64 "));

	ns_done(ns, "vnt-route");
}

/* A route of protocol proto added behind our back, through a socket of
 * our own made inside ns. */
static void foreign_route(struct vn_ns *ns, const char *dst_s, const char *gw_s, int proto)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = NULL, *gw = NULL;
	struct nl_sock *sk;

	assert_int_equal(nl_addr_parse(dst_s, AF_INET, &dst), 0);
	assert_int_equal(nl_addr_parse(gw_s, AF_INET, &gw), 0);
	rtnl_route_set_family(rt, AF_INET);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_protocol(rt, (uint8_t)proto);
	rtnl_route_set_dst(rt, dst);
	rtnl_route_nh_set_gateway(nh, gw);
	rtnl_route_add_nexthop(rt, nh);
	sk = nl_socket_alloc();
	assert_non_null(sk);
	assert_int_equal(vn_ns_run(ns, connect_fn, sk), 0);
	assert_int_equal(rtnl_route_add(sk, rt, NLM_F_EXCL), 0);
	nl_socket_free(sk);
	rtnl_route_put(rt);
	nl_addr_put(dst);
	nl_addr_put(gw);
}

static void test_route_foreign(void **state)
{
	struct vn_ns *ns = ns_new("vnt-rforeign");
	struct routes_arg r;
	const char *s;

	(void)state;
	assert_int_equal(vn_veth_ensure(ns, "qg-a", NULL, ns, "qg-b", NULL, 1500), 0);
	{
		const struct vn_cidr addrs[] = {c4("10.4.0.2", 24)};

		assert_int_equal(vn_addr_sync(ns, "qg-a", AF_INET, addrs, 1), 0);
	}
	/* Someone else's route (proto boot) */
	foreign_route(ns, "10.44.0.0/16", "10.4.0.1", RTPROT_BOOT);
	assert_int_equal(vn_route_sync(ns, AF_INET, NULL, 0), 0);
	s = routes_in(ns, AF_INET, &r);
	assert_non_null(strstr(s, "[10.44.0.0/16 10.4.0.1 3]"));
	/* A proto static route is not ours either (root's, a container's). */
	foreign_route(ns, "10.45.0.0/16", "10.4.0.1", RTPROT_STATIC);
	{
		struct vn_route v4[] = {{.dst = c4("10.46.0.0", 16), .gateway = a4("10.4.0.1")}};

		assert_int_equal(vn_route_sync(ns, AF_INET, v4, 1), 0);
		s = routes_in(ns, AF_INET, &r);
		assert_non_null(strstr(s, "[10.46.0.0/16 10.4.0.1 118]"));
		assert_int_equal(vn_route_sync(ns, AF_INET, NULL, 0), 0);
	}
	s = routes_in(ns, AF_INET, &r);
	assert_non_null(strstr(s, "[10.45.0.0/16 10.4.0.1 4]"));
	assert_null(strstr(s, "10.46.0.0"));
	/* One exactly like a wanted one (an older daemon's) is taken over. */
	foreign_route(ns, "10.47.0.0/16", "10.4.0.1", RTPROT_STATIC);
	{
		struct vn_route v4[] = {{.dst = c4("10.47.0.0", 16), .gateway = a4("10.4.0.1")}};

		assert_int_equal(vn_route_sync(ns, AF_INET, v4, 1), 0);
		s = routes_in(ns, AF_INET, &r);
		assert_non_null(strstr(s, "[10.47.0.0/16 10.4.0.1 118]"));
		assert_int_equal(count_words(s, "[10.47.0.0/16 "), 1);
		assert_int_equal(vn_route_sync(ns, AF_INET, NULL, 0), 0);
	}
	s = routes_in(ns, AF_INET, &r);
	assert_null(strstr(s, "10.47.0.0"));
	assert_non_null(strstr(s, "[10.45.0.0/16 10.4.0.1 4]"));
	assert_non_null(strstr(s, "[10.44.0.0/16 10.4.0.1 3]"));

	ns_done(ns, "vnt-rforeign");
}

static void test_sysctl(void **state)
{
	struct vn_ns *ns = ns_new("vnt-sysctl");
	struct read_arg rd = {.path = "/proc/sys/net/ipv4/ip_forward"};

	(void)state;
	assert_int_equal(vn_ns_run(ns, read_fn, &rd), 0);
	assert_string_equal(rd.buf, "0");
	assert_int_equal(vn_ns_sysctl(ns, "net/ipv4/ip_forward", "1"), 0);
	assert_int_equal(vn_ns_run(ns, read_fn, &rd), 0);
	assert_string_equal(rd.buf, "1");
	/* Not in the sandbox namespace we run in. */
	assert_int_equal(read_fn(&rd), 0);
	assert_string_equal(rd.buf, "0");

	assert_int_equal(vn_ns_sysctl(ns, "net/ipv4/../../kernel/hostname", "x"), -EINVAL);
	assert_int_equal(vn_ns_sysctl(ns, "/net/ipv4/ip_forward", "1"), -EINVAL);
	assert_int_equal(vn_ns_sysctl(ns, "net//ipv4/ip_forward", "1"), -EINVAL);
	assert_int_equal(vn_ns_sysctl(ns, "net/ipv4/no_such_key", "1"), -ENOENT);
	ns_done(ns, "vnt-sysctl");
}

/* A bridge made with ipv6 off has IPv6 disabled; ensure follows the flag
 * both ways. */
static void test_bridge_ipv6(void **state)
{
	struct vn_ns *ns = ns_new("vnt-br6");
	struct read_arg rd = {.path = "/proc/sys/net/ipv6/conf/vnb-six/disable_ipv6"};

	(void)state;
	assert_int_equal(vn_bridge_ensure(ns, "vnb-six", 1500, true, false), 0);
	assert_int_equal(vn_ns_run(ns, read_fn, &rd), 0);
	assert_string_equal(rd.buf, "1");
	assert_int_equal(vn_bridge_ensure(ns, "vnb-six", 1500, true, true), 0);
	assert_int_equal(vn_ns_run(ns, read_fn, &rd), 0);
	assert_string_equal(rd.buf, "0");
	assert_int_equal(vn_bridge_ensure(ns, "vnb-six", 1500, true, false), 0);
	assert_int_equal(vn_ns_run(ns, read_fn, &rd), 0);
	assert_string_equal(rd.buf, "1");
	/* below 1280 the kernel drops IPv6 from the link; back above it, the
	 * link must not come back with IPv6 on */
	assert_int_equal(vn_bridge_ensure(ns, "vnb-six", 68, true, false), 0);
	assert_int_equal(vn_bridge_ensure(ns, "vnb-six", 1500, true, false), 0);
	assert_int_equal(vn_ns_run(ns, read_fn, &rd), 0);
	assert_string_equal(rd.buf, "1");
	assert_int_equal(vn_link_set_ipv6(ns, "no/such", true), -EINVAL);
	ns_done(ns, "vnt-br6");
}

/* Every sendmsg() of the process comes here (the executable's symbol wins
 * over libc's for libnl too); those on the watched fd are counted. libnl
 * sends each netlink request with one sendmsg(). */
static int watch_fd = -1;
static unsigned watch_sends;

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (fd == watch_fd)
		watch_sends++;
	return syscall(SYS_sendmsg, fd, msg, flags);
}

/* rtnetlink requests sent on ns's socket since the last call. */
static unsigned rtnl_sent(struct vn_ns *ns)
{
	unsigned n = watch_sends;

	watch_fd = nl_socket_get_fd(ns->sk);
	watch_sends = 0;
	return n;
}

static const char *sysctl_in(struct vn_ns *ns, const char *path)
{
	static struct read_arg rd;

	rd.path = path;
	assert_int_equal(vn_ns_run(ns, read_fn, &rd), 0);
	return rd.buf;
}

/* In a namespace of its own (opened by name), the first tenant bridge
 * switches IPv6 off by default there, and a tenant bridge is then made
 * up, with its mtu, by one RTM_NEWLINK after the lookup; an external one
 * still gets IPv6. The namespace we run in ("self": the host's, for the
 * daemon without --netns) keeps its default. */
static void test_bridge_one_message(void **state)
{
	struct vn_ns *ns = ns_new("vnt-brone"), *self = NULL;
	struct vn_link_state st;

	(void)state;
	assert_string_equal(sysctl_in(ns, "/proc/sys/net/ipv6/conf/default/disable_ipv6"), "0");
	(void)rtnl_sent(ns);
	assert_int_equal(vn_bridge_ensure(ns, "vnb-one", 1400, true, false), 0);
	assert_int_equal(rtnl_sent(ns), 2); /* RTM_GETLINK, RTM_NEWLINK */
	assert_string_equal(sysctl_in(ns, "/proc/sys/net/ipv6/conf/default/disable_ipv6"), "1");
	assert_string_equal(sysctl_in(ns, "/proc/sys/net/ipv6/conf/vnb-one/disable_ipv6"), "1");
	assert_int_equal(vn_link_get(ns, "vnb-one", &st), 0);
	assert_true(st.exists);
	assert_int_equal(st.mtu, 1400);
	assert_true(st.up);
	assert_true(if_flags(ns, "vnb-one") & IFF_UP);
	assert_true(if_flags(ns, "vnb-one") & IFF_MULTICAST);
	(void)rtnl_sent(ns);

	/* Already right: one lookup, no change sent. */
	assert_int_equal(vn_bridge_ensure(ns, "vnb-one", 1400, true, false), 0);
	assert_int_equal(rtnl_sent(ns), 1);

	/* Down, a second one: the same single message, left down. */
	assert_int_equal(vn_bridge_ensure(ns, "vnb-two", 1500, false, false), 0);
	assert_int_equal(rtnl_sent(ns), 2);
	assert_int_equal(vn_link_get(ns, "vnb-two", &st), 0);
	assert_false(st.up);
	assert_int_equal(st.mtu, 1500);
	assert_string_equal(sysctl_in(ns, "/proc/sys/net/ipv6/conf/vnb-two/disable_ipv6"), "1");
	(void)rtnl_sent(ns);

	/* Under 1280 (no IPv6 on the link at all): still one message. */
	assert_int_equal(vn_bridge_ensure(ns, "vnb-small", 1000, true, false), 0);
	assert_int_equal(rtnl_sent(ns), 2);
	assert_int_equal(vn_link_get(ns, "vnb-small", &st), 0);
	assert_int_equal(st.mtu, 1000);
	assert_true(st.up);
	/* ... and back over it, born of the default: IPv6 stays off. */
	assert_int_equal(vn_bridge_ensure(ns, "vnb-small", 1500, true, false), 0);
	assert_string_equal(sysctl_in(ns, "/proc/sys/net/ipv6/conf/vnb-small/disable_ipv6"), "1");

	/* External: IPv6 on, against the default, switched before up. */
	assert_int_equal(vn_bridge_ensure(ns, "vnb-ext", 1500, true, true), 0);
	assert_string_equal(sysctl_in(ns, "/proc/sys/net/ipv6/conf/vnb-ext/disable_ipv6"), "0");
	assert_int_equal(vn_link_get(ns, "vnb-ext", &st), 0);
	assert_true(st.up);
	/* and a tenant one made after it is still off */
	assert_int_equal(vn_bridge_ensure(ns, "vnb-three", 1500, true, false), 0);
	assert_string_equal(sysctl_in(ns, "/proc/sys/net/ipv6/conf/vnb-three/disable_ipv6"), "1");

	/* The namespace we run in: default untouched, the bridge off. */
	assert_int_equal(vn_ns_open(NULL, false, &self), 0);
	assert_int_equal(vn_bridge_ensure(self, "vnb-self", 1500, true, false), 0);
	assert_string_equal(sysctl_in(self, "/proc/sys/net/ipv6/conf/default/disable_ipv6"), "0");
	assert_string_equal(sysctl_in(self, "/proc/sys/net/ipv6/conf/vnb-self/disable_ipv6"), "1");
	assert_int_equal(vn_link_get(self, "vnb-self", &st), 0);
	assert_true(st.up);
	assert_int_equal(vn_link_delete(self, "vnb-self"), 0);
	vn_ns_close(self);
	ns_done(ns, "vnt-brone");
}

/* A closer that keeps what it is handed, for the test to look at. */
struct test_closer {
	struct vn_closer ops;
	int fds[8];
	size_t n;
};

static void test_closer_close(struct vn_closer *self, int fd)
{
	struct test_closer *t = (struct test_closer *)self;

	if (t->n < 8)
		t->fds[t->n++] = fd;
	else
		close(fd);
}

/* The inode (nsfs or socket) st is an fd of this process. */
static bool fd_open_on(const struct stat *want)
{
	char link[64], path[64];

	for (int fd = 0; fd < 1024; fd++) {
		struct stat st;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (readlink(path, link, sizeof(link)) <= 0 || fstat(fd, &st) < 0)
			continue;
		if (st.st_dev == want->st_dev && st.st_ino == want->st_ino)
			return true;
	}
	return false;
}

/* vn_ns_close() hands the namespace's fd and its socket to the handle's
 * closer (it must not wait for the socket's close under the model lock)
 * and keeps no other copy; without a closer it closes them at once. */
static void test_ns_close_deferred(void **state)
{
	struct test_closer tc = {.ops.close = test_closer_close};
	struct vn_ns *ns = ns_new("vnt-reap");
	struct stat a, b;

	(void)state;
	assert_int_equal(fstat(vn_ns_fd(ns), &a), 0);
	assert_int_equal(fstat(nl_socket_get_fd(ns->sk), &b), 0);
	vn_ns_set_closer(ns, &tc.ops);
	vn_ns_close(ns);
	assert_int_equal(tc.n, 2); /* the nsfs fd, a copy of the rtnl socket */
	assert_true(fd_open_on(&a));
	assert_true(fd_open_on(&b));
	for (size_t i = 0; i < tc.n; i++)
		close(tc.fds[i]);
	assert_false(fd_open_on(&a));
	assert_false(fd_open_on(&b));

	ns = ns_new("vnt-reap2"); /* no closer: closed at once */
	assert_int_equal(fstat(vn_ns_fd(ns), &a), 0);
	assert_int_equal(fstat(nl_socket_get_fd(ns->sk), &b), 0);
	vn_ns_close(ns);
	assert_false(fd_open_on(&a));
	assert_false(fd_open_on(&b));
	assert_int_equal(vn_netns_delete("vnt-reap"), 0);
	assert_int_equal(vn_netns_delete("vnt-reap2"), 0);
}

/* ---- sandbox ----------------------------------------------------------- */

static int mkdir_p(const char *path)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int lo_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = -1;

	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		err = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return err;
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ifname),
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_link_list),
		cmocka_unit_test(test_netns),
		cmocka_unit_test(test_netns_fresh_run),
		cmocka_unit_test(test_ns_open_path),
		cmocka_unit_test(test_ns_open_nofollow_fallback),
		cmocka_unit_test(test_ns_identity),
		cmocka_unit_test(test_veth),
		cmocka_unit_test(test_addr_sync),
		cmocka_unit_test(test_route_sync),
		cmocka_unit_test(test_route_foreign),
		cmocka_unit_test(test_sysctl),
		cmocka_unit_test(test_bridge_ipv6),
		cmocka_unit_test(test_bridge_one_message),
		cmocka_unit_test(test_ns_close_deferred),
	};
	/* clang-format on */

	if (geteuid() != 0) {
		fprintf(stderr, "test_backend: needs root, skipped\n");
		return 77;
	}
	/* Nothing below may run in the host's namespaces: bail out hard. */
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
		perror("test_backend: unshare");
		return errno == EPERM ? 77 : 1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		perror("test_backend: make / rprivate");
		return 1;
	}
	/* No /run/netns on the host: rather than make one there, put a tmpfs
	 * on /run (in our private mount namespace only) to make it in. */
	if (access("/run/netns", F_OK) < 0 &&
	    (mkdir_p("/run") < 0 ||
	     mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)) {
		perror("test_backend: tmpfs on /run");
		return 1;
	}
	if (mkdir_p("/run/netns") < 0 || mount("tmpfs", "/run/netns", "tmpfs",
					       MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") < 0) {
		perror("test_backend: tmpfs on /run/netns");
		return 1;
	}
	if (lo_up() < 0) {
		perror("test_backend: lo up");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
