// SPDX-License-Identifier: MIT
/*
 * The router NAT table (backend/nft.c) against the real kernel. main()
 * first moves the whole process into a fresh network + mount namespace
 * (/ made rprivate, a tmpfs on /run/netns), so nothing made here can touch
 * the host. Needs root (skipped otherwise, exit 77) and the nft and ip
 * binaries (skipped if missing).
 *
 * The state is checked independently of the code under test: through the
 * `nft` binary's own listing, and with real UDP traffic across veth pairs
 * between namespaces for the translation itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>

#include "vnetfs/backend.h"
#include "vnetfs/ip.h"
#include "vnetfs/nft.h"

/* ---- helpers ----------------------------------------------------------- */

/* Run argv (PATH lookup), stdout into *out (malloc'd, NUL-terminated; may
 * be NULL to discard), stderr to /dev/null. The exit status, or -1. */
static int run(char *const argv[], char **out)
{
	int pfd[2];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int status;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(pfd[1], 1);
		if (null >= 0)
			dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		n = read(pfd[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(pfd[0]);
	buf[len] = '\0';
	if (waitpid(pid, &status, 0) < 0)
		status = -1;
	if (out)
		*out = buf;
	else
		free(buf);
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define RUN(...)                                                                                   \
	do {                                                                                       \
		char *const argv_[] = {__VA_ARGS__, NULL};                                         \
		assert_int_equal(run(argv_, NULL), 0);                                             \
	} while (0)

/* `nft list table ip vnetfs`, or NULL if there is no such table. */
static char *nft_list(void)
{
	char *const argv[] = {"nft", "list", "table", "ip", VN_NFT_TABLE, NULL};
	char *out = NULL;

	if (run(argv, &out) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void assert_has(const char *hay, const char *needle)
{
	if (!hay)
		fail_msg("no output while looking for \"%s\"", needle);
	else if (!strstr(hay, needle))
		fail_msg("missing \"%s\" in:\n%s", needle, hay);
}

static void assert_lacks(const char *hay, const char *needle)
{
	if (!hay)
		fail_msg("no output while checking for no \"%s\"", needle);
	else if (strstr(hay, needle))
		fail_msg("unexpected \"%s\" in:\n%s", needle, hay);
}

static struct vn_addr A(const char *s) {
	struct vn_addr a;

	assert_int_equal(vn_addr_parse(s, &a), 0);
	return a;
}

static struct vn_cidr
C(const char *s) {
	struct vn_cidr c;

	assert_int_equal(vn_cidr_parse(s, true, &c), 0);
	return c;
}

static struct vn_ns *
self_ns(void)
{
	struct vn_ns *ns = NULL;

	assert_int_equal(vn_ns_open(NULL, false, &ns), 0);
	assert_non_null(ns);
	return ns;
}

/* ---- tests ------------------------------------------------------------- */

static void test_empty(void **state)
{
	struct vn_ns *ns = self_ns();
	const struct vn_nft_router nogw = {.gw_ifname = "", .snat = true};

	(void)state;
	/* No table: removing it is a no-op (add + delete in one batch). */
	assert_int_equal(vn_nft_router_exists(ns), 0);
	assert_int_equal(vn_nft_router_sync(ns, NULL), 0);
	assert_int_equal(vn_nft_router_exists(ns), 0);
	assert_null(nft_list());
	assert_int_equal(vn_nft_router_sync(ns, &nogw), 0);
	assert_int_equal(vn_nft_router_exists(ns), 0);
	assert_null(nft_list());
	assert_int_equal(vn_nft_router_sync(NULL, NULL), -EINVAL);
	assert_int_equal(vn_nft_router_exists(NULL), -EINVAL);
	vn_ns_close(ns);
}

static void test_sync(void **state)
{
	struct vn_ns *ns = self_ns();
	const struct vn_cidr internal[] = {C("10.0.1.0/24"), C("10.0.2.0/23"), C("fd00::/64"),
					   C("192.168.7.0/27")};
	const struct vn_nft_fip fips[] = {
		{.floating = A("172.24.4.20"), .fixed = A("10.0.1.5")},
		{.floating = A("172.24.4.21"), .fixed = A("10.0.2.9")},
	};
	struct vn_nft_router cfg = {
		.gw_ifname = "qg-test",
		.gw_addr = A("172.24.4.10"),
		.snat = true,
		.internal = internal,
		.ninternal = 4,
		.fips = fips,
		.nfips = 2,
	};
	char *l, *l2;

	(void)state;
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	assert_int_equal(vn_nft_router_exists(ns), 1);
	l = nft_list();
	assert_non_null(l);
	assert_has(l, "chain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy "
		      "accept;\n"
		      "\t\tip daddr 172.24.4.20 dnat to 10.0.1.5\n"
		      "\t\tip daddr 172.24.4.21 dnat to 10.0.2.9\n\t}");
	assert_has(l, "chain output {\n\t\ttype nat hook output priority -100; policy accept;\n"
		      "\t\tip daddr 172.24.4.20 dnat to 10.0.1.5\n"
		      "\t\tip daddr 172.24.4.21 dnat to 10.0.2.9\n\t}");
	/* Floating IPs first, then the subnets in order; IPv6 left out. */
	assert_has(l, "chain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy "
		      "accept;\n"
		      "\t\tip saddr 10.0.1.5 oifname \"qg-test\" snat to 172.24.4.20\n"
		      "\t\tip saddr 10.0.2.9 oifname \"qg-test\" snat to 172.24.4.21\n"
		      "\t\tip saddr 10.0.1.0/24 oifname \"qg-test\" snat to 172.24.4.10\n"
		      "\t\tip saddr 10.0.2.0/23 oifname \"qg-test\" snat to 172.24.4.10\n"
		      "\t\tip saddr 192.168.7.0/27 oifname \"qg-test\" snat to 172.24.4.10\n\t}");
	assert_int_equal(count(l, "nat to"), 9);

	/* Same again: the same table, nothing doubled. */
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	l2 = nft_list();
	assert_non_null(l2);
	assert_string_equal(l, l2);
	free(l2);
	free(l);
	vn_ns_close(ns);
}

static void test_resync(void **state)
{
	struct vn_ns *ns = self_ns();
	const struct vn_cidr internal1[] = {C("10.0.1.0/24")};
	const struct vn_cidr internal2[] = {C("10.9.0.0/16")};
	const struct vn_nft_fip fips1[] = {{.floating = A("172.24.4.20"), .fixed = A("10.0.1.5")}};
	const struct vn_nft_fip fips2[] = {{.floating = A("172.24.4.30"), .fixed = A("10.9.3.4")}};
	struct vn_nft_router cfg = {
		.gw_ifname = "qg-test",
		.gw_addr = A("172.24.4.10"),
		.snat = true,
		.internal = internal1,
		.ninternal = 1,
		.fips = fips1,
		.nfips = 1,
	};
	char *l;

	(void)state;
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	l = nft_list();
	assert_non_null(l);
	assert_has(l, "ip saddr 10.0.1.0/24 oifname \"qg-test\" snat to 172.24.4.10");
	assert_has(l, "ip daddr 172.24.4.20 dnat to 10.0.1.5");
	free(l);

	/* Everything changes: new gateway, address, subnets and fips. */
	cfg.gw_ifname = "qg-other";
	cfg.gw_addr = A("172.24.4.11");
	cfg.internal = internal2;
	cfg.fips = fips2;
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	l = nft_list();
	assert_non_null(l);
	assert_lacks(l, "10.0.1.");
	assert_lacks(l, "172.24.4.20");
	assert_lacks(l, "qg-test");
	assert_lacks(l, "172.24.4.10");
	assert_has(l, "ip saddr 10.9.0.0/16 oifname \"qg-other\" snat to 172.24.4.11");
	assert_has(l, "ip saddr 10.9.3.4 oifname \"qg-other\" snat to 172.24.4.30");
	assert_int_equal(count(l, "ip daddr 172.24.4.30 dnat to 10.9.3.4"), 2);
	assert_int_equal(count(l, "nat to"), 4);
	free(l);

	/* snat off: the floating IPs stay, the subnets' SNAT goes. */
	cfg.snat = false;
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	l = nft_list();
	assert_non_null(l);
	assert_lacks(l, "10.9.0.0/16");
	assert_lacks(l, "snat to 172.24.4.11");
	assert_has(l, "ip saddr 10.9.3.4 oifname \"qg-other\" snat to 172.24.4.30");
	assert_int_equal(count(l, "nat to"), 3);
	free(l);

	/* No fips, no snat: the table and its chains, empty. */
	cfg.nfips = 0;
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	assert_int_equal(vn_nft_router_exists(ns), 1);
	l = nft_list();
	assert_non_null(l);
	assert_int_equal(count(l, "nat to"), 0);
	assert_int_equal(count(l, "type nat hook"), 3);
	free(l);

	/* The gateway goes: so does the table. */
	cfg.gw_ifname = "";
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	assert_int_equal(vn_nft_router_exists(ns), 0);
	assert_null(nft_list());

	/* And back, then cfg NULL. */
	cfg.gw_ifname = "qg-test";
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	assert_int_equal(vn_nft_router_exists(ns), 1);
	assert_int_equal(vn_nft_router_sync(ns, NULL), 0);
	assert_int_equal(vn_nft_router_exists(ns), 0);
	assert_null(nft_list());
	vn_ns_close(ns);
}

/* Is a socket with this inode still open in this process? */
static bool sock_open(ino_t ino)
{
	char want[64], path[64], link[64];
	bool found = false;

	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)ino);
	for (int fd = 0; fd < 1024 && !found; fd++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = !strcmp(link, want);
	}
	return found;
}

/* A listing's chains without the marker chain (whose comment names the
 * generation, which every commit moves on). */
static char *chains(const char *l)
{
	const char *a = strstr(l, "chain");
	const char *e = strstr(l, "chain vnetfs_mark");

	assert_non_null(a);
	assert_non_null(e);
	return strndup(a, (size_t)(e - a));
}

static void assert_same_chains(const char *l1, const char *l2)
{
	char *a = chains(l1), *b = chains(l2);

	assert_string_equal(a, b);
	free(a);
	free(b);
}

static struct vn_nft_stats stats(struct vn_ns *ns)
{
	struct vn_nft_stats st;

	vn_nft_stats_get(ns, &st);
	return st;
}

/* One socket per handle, kept across calls; a sync the kernel already
 * holds sends no batch; anything that touched the namespace's nftables
 * (or the table itself) since makes it replace again. */
static void test_kept_socket(void **state)
{
	struct vn_ns *ns = self_ns(), *ns2;
	const struct vn_cidr internal[] = {C("10.0.1.0/24")};
	struct vn_nft_router cfg = {
		.gw_ifname = "qg-keep",
		.gw_addr = A("172.24.4.10"),
		.snat = true,
		.internal = internal,
		.ninternal = 1,
	};
	struct vn_nft_stats st;
	struct stat sb;
	char *l, *l2;
	int fd;

	(void)state;
	assert_int_equal(vn_nft_sock_fd(ns), -1);
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	fd = vn_nft_sock_fd(ns);
	assert_true(fd >= 0);
	st = stats(ns);
	assert_int_equal(st.opens, 1);
	assert_int_equal(st.batches, 1);
	assert_int_equal(st.skipped, 0);
	l = nft_list();
	assert_has(l, "comment \"vnetfs ");
	assert_has(l, "ip saddr 10.0.1.0/24 oifname \"qg-keep\" snat to 172.24.4.10");

	/* The same again: nothing sent, the same socket. */
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	st = stats(ns);
	assert_int_equal(st.batches, 1);
	assert_int_equal(st.skipped, 2);
	assert_int_equal(st.opens, 1);
	assert_int_equal(vn_nft_sock_fd(ns), fd);
	l2 = nft_list();
	assert_string_equal(l, l2);
	free(l2);

	/* A change: one batch, on the same socket. */
	cfg.snat = false;
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	st = stats(ns);
	assert_int_equal(st.batches, 2);
	assert_int_equal(st.opens, 1);
	assert_int_equal(vn_nft_sock_fd(ns), fd);
	l2 = nft_list();
	assert_lacks(l2, "snat to 172.24.4.10");
	free(l2);
	cfg.snat = true;
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	assert_int_equal(stats(ns).batches, 3);

	/* Someone adds a rule to our table: replaced, the rule is gone. */
	RUN("nft", "add", "rule", "ip", VN_NFT_TABLE, "postrouting", "ip", "saddr", "10.7.7.7",
	    "accept");
	l2 = nft_list();
	assert_has(l2, "10.7.7.7");
	free(l2);
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	assert_int_equal(stats(ns).batches, 4);
	l2 = nft_list();
	assert_same_chains(l2, l);
	free(l2);

	/* The table deleted behind our back: made again. */
	RUN("nft", "delete", "table", "ip", VN_NFT_TABLE);
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	assert_int_equal(stats(ns).batches, 5);
	l2 = nft_list();
	assert_non_null(l2);
	assert_same_chains(l2, l);
	free(l2);

	/* A new handle (a restarted daemon): it finds the table as the
	 * comment says and sends nothing. */
	assert_int_equal(vn_ns_open(NULL, false, &ns2), 0);
	assert_int_equal(vn_nft_router_sync(ns2, &cfg), 0);
	st = stats(ns2);
	assert_int_equal(st.batches, 0);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(st.opens, 1);
	/* ... but not a different description. */
	cfg.gw_addr = A("172.24.4.11");
	assert_int_equal(vn_nft_router_sync(ns2, &cfg), 0);
	assert_int_equal(stats(ns2).batches, 1);
	l2 = nft_list();
	assert_has(l2, "snat to 172.24.4.11");
	free(l2);
	/* The first handle's idea of the kernel is stale now (another commit
	 * happened): it looks again and sees ns2's table is what it wants. */
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	st = stats(ns);
	assert_int_equal(st.batches, 5);
	assert_int_equal(st.skipped, 3);

	/* Any commit in the namespace, even to another table, means "look
	 * again": the table is replaced, never wrongly kept. */
	RUN("nft", "add", "table", "ip", "other");
	assert_int_equal(vn_nft_router_sync(ns2, &cfg), 0);
	assert_int_equal(stats(ns2).batches, 2);
	RUN("nft", "delete", "table", "ip", "other");

	/* No gateway: the table goes, once; then nothing to do. */
	assert_int_equal(vn_nft_router_sync(ns2, NULL), 0);
	assert_int_equal(stats(ns2).batches, 3);
	assert_null(nft_list());
	assert_int_equal(vn_nft_router_sync(ns2, NULL), 0);
	assert_int_equal(vn_nft_router_sync(ns, NULL), 0);
	assert_int_equal(stats(ns2).batches, 3);
	assert_int_equal(stats(ns).batches, 5);
	assert_null(nft_list());

	/* Closing a handle without a closer closes its socket at once. */
	assert_int_equal(fstat(fd, &sb), 0);
	assert_true(sock_open(sb.st_ino));
	vn_ns_close(ns);
	assert_false(sock_open(sb.st_ino));
	vn_ns_close(ns2);
	free(l);
}

/* The SNAT rules of listing l are exactly those of cidrs (any order). */
static void assert_snat(const char *l, const char *const *cidrs, size_t n)
{
	char want[160];

	assert_non_null(l);
	assert_int_equal(count(l, "snat to"), n);
	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "ip saddr %s oifname \"qg-upd\" snat to 172.24.4.10\n",
			 cidrs[i]);
		assert_has(l, want);
	}
}

#define SNAT_IS(ns_list, ...)                                                                      \
	do {                                                                                       \
		const char *const want_[] = {__VA_ARGS__};                                         \
		char *l_ = nft_list();                                                             \
		assert_snat(l_, want_, sizeof(want_) / sizeof(want_[0]));                          \
		free(l_);                                                                          \
	} while (0)

/* An interface's SNAT rule alone: added, or deleted by its handle, in one
 * batch; the marker follows, so a whole sync (a restart) still finds the
 * kernel matching; whatever this handle cannot vouch for is -ESTALE. */
static void test_update(void **state)
{
	struct vn_ns *ns = self_ns(), *ns2;
	const struct vn_cidr all[] = {C("10.0.1.0/24"), C("10.0.2.0/24"), C("10.0.3.0/24"),
				      C("10.0.4.0/24")};
	const struct vn_cidr perm[] = {all[2], all[0], all[1]};
	const struct vn_cidr last2[] = {all[2], all[3]};
	const struct vn_cidr first_last[] = {all[0], all[3]};
	struct vn_nft_router cfg = {
		.gw_ifname = "qg-upd",
		.gw_addr = A("172.24.4.10"),
		.snat = true,
		.internal = all,
		.ninternal = 2,
	};
	struct vn_nft_stats st;
	char *l;

	(void)state;
	/* Nothing made by this handle yet: it cannot change by difference. */
	assert_int_equal(vn_nft_router_update(ns, &cfg, &all[2], 1, NULL, 0), -ESTALE);
	assert_null(nft_list());
	assert_int_equal(vn_nft_router_update(NULL, &cfg, NULL, 0, NULL, 0), -EINVAL);
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	SNAT_IS(l, "10.0.1.0/24", "10.0.2.0/24");
	assert_int_equal(stats(ns).batches, 1);

	/* One added: one batch, an update. */
	assert_int_equal(vn_nft_router_update(ns, &cfg, &all[2], 1, NULL, 0), 0);
	st = stats(ns);
	assert_int_equal(st.batches, 2);
	assert_int_equal(st.updates, 1);
	SNAT_IS(l, "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24");
	/* Already there: nothing sent. */
	assert_int_equal(vn_nft_router_update(ns, &cfg, &all[2], 1, NULL, 0), 0);
	assert_int_equal(stats(ns).batches, 2);
	/* The whole description now, in any order: the kernel holds it. */
	cfg.ninternal = 3;
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	cfg.internal = perm;
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	assert_int_equal(stats(ns).batches, 2);

	/* The middle one removed, by its handle. */
	assert_int_equal(vn_nft_router_update(ns, &cfg, NULL, 0, &all[1], 1), 0);
	SNAT_IS(l, "10.0.1.0/24", "10.0.3.0/24");
	/* One added and one removed in the same batch. */
	assert_int_equal(vn_nft_router_update(ns, &cfg, &all[3], 1, &all[0], 1), 0);
	st = stats(ns);
	assert_int_equal(st.batches, 4);
	assert_int_equal(st.updates, 3);
	SNAT_IS(l, "10.0.3.0/24", "10.0.4.0/24");
	/* Removing what is not there sends nothing. */
	assert_int_equal(vn_nft_router_update(ns, &cfg, NULL, 0, &all[1], 1), 0);
	assert_int_equal(stats(ns).batches, 4);
	cfg.internal = last2;
	cfg.ninternal = 2;
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	assert_int_equal(stats(ns).batches, 4);

	/* A restarted daemon (a new handle) finds the table as the marker
	 * says after those updates, and sends nothing. */
	assert_int_equal(vn_ns_open(NULL, false, &ns2), 0);
	assert_int_equal(vn_nft_router_sync(ns2, &cfg), 0);
	st = stats(ns2);
	assert_int_equal(st.batches, 0);
	assert_int_equal(st.skipped, 1);
	/* It knows every rule's handle (the tagged rules of the dump that
	 * found the marker): adds and deletes are updates at once. */
	assert_int_equal(vn_nft_router_update(ns2, &cfg, &all[0], 1, NULL, 0), 0);
	assert_int_equal(stats(ns2).updates, 1);
	SNAT_IS(l, "10.0.1.0/24", "10.0.3.0/24", "10.0.4.0/24");
	assert_int_equal(vn_nft_router_update(ns2, &cfg, NULL, 0, &all[2], 1), 0);
	st = stats(ns2);
	assert_int_equal(st.batches, 2);
	assert_int_equal(st.updates, 2);
	SNAT_IS(l, "10.0.1.0/24", "10.0.4.0/24");
	/* The whole sync of that: nothing to send; a replace (another
	 * gateway address) learns every handle from the echo. */
	cfg.internal = first_last;
	assert_int_equal(vn_nft_router_sync(ns2, &cfg), 0);
	assert_int_equal(stats(ns2).batches, 2);
	cfg.gw_addr = A("172.24.4.12");
	assert_int_equal(vn_nft_router_sync(ns2, &cfg), 0);
	cfg.gw_addr = A("172.24.4.10");
	assert_int_equal(vn_nft_router_sync(ns2, &cfg), 0);
	assert_int_equal(stats(ns2).batches, 4);
	SNAT_IS(l, "10.0.1.0/24", "10.0.4.0/24");
	assert_int_equal(vn_nft_router_update(ns2, &cfg, NULL, 0, &all[0], 1), 0);
	SNAT_IS(l, "10.0.4.0/24");
	assert_int_equal(stats(ns2).batches, 5);
	/* nft shows the rules as ever: the subnet key is not a comment. */
	l = nft_list();
	assert_lacks(l, "comment \"10.");
	assert_has(l, "ip saddr 10.0.4.0/24 oifname \"qg-upd\" snat to 172.24.4.10\n");
	free(l);

	/* The first handle did not make the last commit: stale. */
	assert_int_equal(vn_nft_router_update(ns, &cfg, &all[1], 1, NULL, 0), -ESTALE);
	assert_int_equal(stats(ns).batches, 4);
	/* Any other commit in the namespace: stale. */
	RUN("nft", "add", "table", "ip", "other");
	assert_int_equal(vn_nft_router_update(ns2, &cfg, &all[1], 1, NULL, 0), -ESTALE);
	RUN("nft", "delete", "table", "ip", "other");
	SNAT_IS(l, "10.0.4.0/24");
	cfg.internal = &all[3];
	cfg.ninternal = 1;
	assert_int_equal(vn_nft_router_sync(ns2, &cfg), 0);
	assert_int_equal(stats(ns2).batches, 6);
	/* A rule of someone else's in our chain: stale (the generation). */
	RUN("nft", "add", "rule", "ip", VN_NFT_TABLE, "postrouting", "ip", "saddr", "10.7.7.7",
	    "accept");
	assert_int_equal(vn_nft_router_update(ns2, &cfg, &all[1], 1, NULL, 0), -ESTALE);
	assert_int_equal(vn_nft_router_sync(ns2, &cfg), 0);
	l = nft_list();
	assert_lacks(l, "10.7.7.7");
	free(l);
	/* Another gateway address or interface: stale, nothing sent. */
	cfg.gw_addr = A("172.24.4.11");
	assert_int_equal(vn_nft_router_update(ns2, &cfg, &all[1], 1, NULL, 0), -ESTALE);
	cfg.gw_addr = A("172.24.4.10");
	cfg.gw_ifname = "qg-other";
	assert_int_equal(vn_nft_router_update(ns2, &cfg, &all[1], 1, NULL, 0), -ESTALE);
	cfg.gw_ifname = "qg-upd";
	SNAT_IS(l, "10.0.4.0/24");
	/* enable_snat off: no SNAT rules, nothing to change. */
	cfg.snat = false;
	assert_int_equal(vn_nft_router_sync(ns2, &cfg), 0);
	assert_int_equal(vn_nft_router_update(ns2, &cfg, &all[1], 1, NULL, 0), 0);
	l = nft_list();
	assert_int_equal(count(l, "snat to"), 0);
	free(l);
	/* No table: stale. */
	assert_int_equal(vn_nft_router_sync(ns2, NULL), 0);
	cfg.snat = true;
	assert_int_equal(vn_nft_router_update(ns2, &cfg, &all[1], 1, NULL, 0), -ESTALE);
	assert_null(nft_list());
	vn_ns_close(ns2);
	vn_ns_close(ns);
}

/* Bad descriptions are refused before anything is sent. */
static void test_invalid(void **state)
{
	struct vn_ns *ns = self_ns();
	const struct vn_cidr internal[] = {C("10.0.1.0/24")};
	const struct vn_nft_fip fip6[] = {{.floating = A("2001:db8::1"), .fixed = A("10.0.1.5")}};
	struct vn_nft_router cfg = {
		.gw_ifname = "qg-test",
		.gw_addr = A("172.24.4.10"),
		.snat = true,
		.internal = internal,
		.ninternal = 1,
	};
	char *before, *after;

	(void)state;
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	before = nft_list();
	assert_non_null(before);

	cfg.gw_ifname = "qg-0123456789abc"; /* 16 bytes: too long */
	assert_int_equal(vn_nft_router_sync(ns, &cfg), -EINVAL);
	cfg.gw_ifname = "qg-test";
	cfg.fips = fip6;
	cfg.nfips = 1;
	assert_int_equal(vn_nft_router_sync(ns, &cfg), -EINVAL);
	cfg.nfips = 0;
	cfg.gw_addr = A("2001:db8::10");
	assert_int_equal(vn_nft_router_sync(ns, &cfg), -EINVAL);
	cfg.snat = false; /* the gateway address does not matter then */
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	assert_int_equal(vn_nft_router_sync(ns, NULL), 0);

	free(before);
	after = nft_list();
	assert_null(after);
	vn_ns_close(ns);
}

/*
 * A batch the kernel rejects changes nothing. The test holds a netlink
 * socket owning `table ip vnetfs` (NFT_TABLE_F_OWNER): any other socket
 * touching it gets EPERM, so our batch fails from its first message on.
 */
static struct mnl_socket *own_table(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_nlmsg_batch *b;
	struct mnl_socket *nl;
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	uint32_t seq = 100;
	int n;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	assert_non_null(nl);
	assert_int_equal(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
	t = nftnl_table_alloc();
	assert_non_null(t);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, VN_NFT_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, NFT_TABLE_F_OWNER);

	b = mnl_nlmsg_batch_start(buf, sizeof(buf));
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	nlh = nftnl_table_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWTABLE,
					  NFPROTO_IPV4, NLM_F_CREATE | NLM_F_ACK, seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	mnl_nlmsg_batch_next(b);
	nftnl_batch_end(mnl_nlmsg_batch_current(b), seq++);
	mnl_nlmsg_batch_next(b);
	assert_true(mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) > 0);
	mnl_nlmsg_batch_stop(b);
	nftnl_table_free(t);

	n = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(mnl_cb_run(buf, (size_t)n, 0, mnl_socket_get_portid(nl), NULL, NULL),
			 MNL_CB_STOP);
	return nl;
}

static void test_kernel_rejects(void **state)
{
	struct vn_ns *ns = self_ns();
	const struct vn_cidr internal[] = {C("10.0.1.0/24")};
	struct vn_nft_router cfg = {
		.gw_ifname = "qg-test",
		.gw_addr = A("172.24.4.10"),
		.snat = true,
		.internal = internal,
		.ninternal = 1,
	};
	struct mnl_socket *owner;
	char *before, *after;

	(void)state;
	owner = own_table();
	before = nft_list();
	assert_non_null(before);
	assert_has(before, "flags owner");
	assert_int_equal(vn_nft_router_exists(ns), 1);

	assert_int_equal(vn_nft_router_sync(ns, &cfg), -EPERM);
	assert_int_equal(vn_nft_router_sync(ns, NULL), -EPERM);
	after = nft_list();
	assert_non_null(after);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* The owner gone, its table goes with it and we are free again. */
	mnl_socket_close(owner);
	assert_int_equal(vn_nft_router_exists(ns), 0);
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	assert_int_equal(vn_nft_router_exists(ns), 1);
	assert_int_equal(vn_nft_router_sync(ns, NULL), 0);
	vn_ns_close(ns);
}

/* Hundreds of rules: the batch outgrows any single buffer. */
static void test_big(void **state)
{
	enum { NFIPS = 1000, NNETS = 500 };
	struct vn_ns *ns = self_ns();
	struct vn_nft_fip *fips = calloc(NFIPS, sizeof(*fips));
	struct vn_cidr *nets = calloc(NNETS, sizeof(*nets));
	struct vn_nft_router cfg = {
		.gw_ifname = "qg-big",
		.gw_addr = A("100.64.0.1"),
		.snat = true,
		.internal = nets,
		.ninternal = NNETS,
		.fips = fips,
		.nfips = NFIPS,
	};
	char *l;

	(void)state;
	assert_non_null(fips);
	assert_non_null(nets);
	for (unsigned i = 0; i < NFIPS; i++) {
		fips[i].floating = A("100.64.0.0");
		fips[i].floating.v += 100 + i;
		fips[i].fixed = A("10.0.0.0");
		fips[i].fixed.v += (i << 8) + 5;
	}
	for (unsigned i = 0; i < NNETS; i++) {
		nets[i] = C("10.0.0.0/24");
		nets[i].net.v += i << 8;
	}
	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	l = nft_list();
	assert_non_null(l);
	assert_int_equal(count(l, "dnat to"), 2 * NFIPS);
	assert_int_equal(count(l, "snat to"), NFIPS + NNETS);
	assert_has(l, "ip saddr 10.1.243.0/24 oifname \"qg-big\" snat to 100.64.0.1");
	assert_has(l, "ip daddr 100.64.4.75 dnat to 10.3.231.5");
	free(l);
	assert_int_equal(vn_nft_router_sync(ns, NULL), 0);
	assert_null(nft_list());
	free(fips);
	free(nets);
	vn_ns_close(ns);
}

/* ---- real traffic ------------------------------------------------------ */

/*
 * This namespace is the router: qg-test (172.24.4.10/24, plus the floating
 * 172.24.4.20/32) to namespace "ext" (172.24.4.1), qr-test (10.0.1.1/24) to
 * namespace "cli" (10.0.1.2 and 10.0.1.5, default via 10.0.1.1).
 */
static int open_netns(const char *name)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* A UDP socket bound to addr:port inside the namespace nsfd (-1: here),
 * with a receive timeout. */
static int udp_in(int nsfd, const char *addr, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 3};
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd;

	assert_true(self >= 0);
	if (nsfd >= 0)
		assert_int_equal(setns(nsfd, CLONE_NEWNET), 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (nsfd >= 0 && setns(self, CLONE_NEWNET) < 0)
		abort();
	close(self);
	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	return fd;
}

/* Send from `from` to to:port, receive on `rx`; the source seen there. */
static void udp_check(int from, const char *to, uint16_t port, int rx, const char *want_src)
{
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr_in src;
	socklen_t sl = sizeof(src);
	char msg[] = "vnetfs", got[16], srcs[INET_ADDRSTRLEN];
	ssize_t n;

	assert_int_equal(inet_pton(AF_INET, to, &dst.sin_addr), 1);
	assert_int_equal(sendto(from, msg, sizeof(msg), 0, (struct sockaddr *)&dst, sizeof(dst)),
			 sizeof(msg));
	n = recvfrom(rx, got, sizeof(got), 0, (struct sockaddr *)&src, &sl);
	if (n < 0)
		fail_msg("nothing arrived for %s:%u (%s)", to, port, strerror(errno));
	assert_int_equal(n, sizeof(msg));
	assert_memory_equal(got, msg, sizeof(msg));
	inet_ntop(AF_INET, &src.sin_addr, srcs, sizeof(srcs));
	assert_string_equal(srcs, want_src);
}

static void test_traffic(void **state)
{
	struct vn_ns *ns = self_ns();
	const struct vn_cidr internal[] = {C("10.0.1.0/24")};
	const struct vn_nft_fip fips[] = {{.floating = A("172.24.4.20"), .fixed = A("10.0.1.5")}};
	const struct vn_nft_router cfg = {
		.gw_ifname = "qg-test",
		.gw_addr = A("172.24.4.10"),
		.snat = true,
		.internal = internal,
		.ninternal = 1,
		.fips = fips,
		.nfips = 1,
	};
	const struct vn_nft_router nosnat = {.gw_ifname = "qg-test", .snat = false};
	int ext, cli, ext_rx1, ext_rx2, cli_tx2, cli_tx5, cli_rx5, rtr_tx;

	(void)state;
	RUN("ip", "netns", "add", "ext");
	RUN("ip", "netns", "add", "cli");
	RUN("ip", "link", "add", "qg-test", "type", "veth", "peer", "name", "eth0", "netns", "ext");
	RUN("ip", "link", "add", "qr-test", "type", "veth", "peer", "name", "eth0", "netns", "cli");
	RUN("ip", "addr", "add", "172.24.4.10/24", "dev", "qg-test");
	RUN("ip", "addr", "add", "172.24.4.20/32", "dev", "qg-test");
	RUN("ip", "addr", "add", "10.0.1.1/24", "dev", "qr-test");
	RUN("ip", "link", "set", "qg-test", "up");
	RUN("ip", "link", "set", "qr-test", "up");
	RUN("ip", "-n", "ext", "addr", "add", "172.24.4.1/24", "dev", "eth0");
	RUN("ip", "-n", "ext", "link", "set", "eth0", "up");
	RUN("ip", "-n", "ext", "link", "set", "lo", "up");
	RUN("ip", "-n", "cli", "addr", "add", "10.0.1.2/24", "dev", "eth0");
	RUN("ip", "-n", "cli", "addr", "add", "10.0.1.5/24", "dev", "eth0");
	RUN("ip", "-n", "cli", "link", "set", "eth0", "up");
	RUN("ip", "-n", "cli", "link", "set", "lo", "up");
	RUN("ip", "-n", "cli", "route", "add", "default", "via", "10.0.1.1");
	assert_int_equal(vn_ns_sysctl(ns, "net/ipv4/ip_forward", "1"), 0);

	ext = open_netns("ext");
	cli = open_netns("cli");
	/* Fresh flows for each case: conntrack decides NAT once per flow. */
	ext_rx1 = udp_in(ext, "0.0.0.0", 5555);
	ext_rx2 = udp_in(ext, "0.0.0.0", 5556);
	cli_tx2 = udp_in(cli, "10.0.1.2", 0);
	cli_tx5 = udp_in(cli, "10.0.1.5", 0);
	cli_rx5 = udp_in(cli, "10.0.1.5", 6666);
	rtr_tx = udp_in(-1, "0.0.0.0", 0);

	/* Without NAT the internal addresses go out as they are. */
	assert_int_equal(vn_nft_router_sync(ns, &nosnat), 0);
	RUN("ip", "-n", "ext", "route", "add", "10.0.1.0/24", "via", "172.24.4.10");
	udp_check(cli_tx2, "172.24.4.1", 5555, ext_rx1, "10.0.1.2");
	RUN("ip", "-n", "ext", "route", "del", "10.0.1.0/24");

	assert_int_equal(vn_nft_router_sync(ns, &cfg), 0);
	/* The subnet leaves as the gateway address... */
	udp_check(cli_tx2, "172.24.4.1", 5556, ext_rx2, "172.24.4.10");
	/* ...the port with a floating IP as its floating IP... */
	udp_check(cli_tx5, "172.24.4.1", 5556, ext_rx2, "172.24.4.20");
	/* ...and the floating IP reaches the port, from outside and from the
	 * router itself (output chain). */
	{
		int ext_tx = udp_in(ext, "172.24.4.1", 0);

		udp_check(ext_tx, "172.24.4.20", 6666, cli_rx5, "172.24.4.1");
		close(ext_tx);
	}
	udp_check(rtr_tx, "172.24.4.20", 6666, cli_rx5, "172.24.4.20");

	close(rtr_tx);
	close(cli_rx5);
	close(cli_tx5);
	close(cli_tx2);
	close(ext_rx2);
	close(ext_rx1);
	close(cli);
	close(ext);
	assert_int_equal(vn_nft_router_sync(ns, NULL), 0);
	RUN("ip", "link", "del", "qg-test");
	RUN("ip", "link", "del", "qr-test");
	RUN("ip", "netns", "del", "ext");
	RUN("ip", "netns", "del", "cli");
	vn_ns_close(ns);
}

/* ---- main -------------------------------------------------------------- */

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

static bool have(const char *prog)
{
	char *const argv[] = {(char *)prog, "--version", NULL};
	char *const argv2[] = {(char *)prog, "-V", NULL};

	return run(argv, NULL) == 0 || run(argv2, NULL) == 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),	       cmocka_unit_test(test_sync),
		cmocka_unit_test(test_resync),	       cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_kernel_rejects), cmocka_unit_test(test_big),
		cmocka_unit_test(test_traffic),	       cmocka_unit_test(test_kept_socket),
		cmocka_unit_test(test_update),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_nft: needs root, skipped\n");
		return 77;
	}
	/* Nothing below may run in the host's namespaces: bail out hard. */
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
		perror("test_nft: unshare");
		return errno == EPERM ? 77 : 1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		perror("test_nft: make / rprivate");
		return 1;
	}
	if (mkdir_p("/run/netns") < 0 || mount("tmpfs", "/run/netns", "tmpfs",
					       MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") < 0) {
		perror("test_nft: tmpfs on /run/netns");
		return 1;
	}
	if (!have("nft") || !have("ip")) {
		fprintf(stderr, "test_nft: needs the nft and ip binaries, skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
