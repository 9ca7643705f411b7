// SPDX-License-Identifier: MIT
/* Unit tests for backend/dnsmasq.c: the argument vector, atomic file
 * writes, and the stale-process check (which must leave strangers alone). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vnetfs/dnsmasq.h"

static struct vn_dnsmasq_range R(const char *tag, const char *cidr) {
	struct vn_dnsmasq_range r = {0};

	snprintf(r.tag, sizeof(r.tag), "%s", tag);
	assert_int_equal(vn_cidr_parse(cidr, true, &r.cidr), 0);
	return r;
}

static size_t
count(char **v, const char *s)
{
	size_t n = 0;

	for (size_t i = 0; v[i]; i++)
		n += !strcmp(v[i], s);
	return n;
}

static void test_argv(void **state)
{
	struct vn_dnsmasq_range rg[2] = {R("s1", "10.0.0.0/24"), R("s2", "172.16.0.0/12")};
	struct vn_dnsmasq_conf c = {.netns = "qdhcp-x",
				    .ifname = "ns-1",
				    .dir = "/st/dhcp/x",
				    .ranges = rg,
				    .nranges = 2,
				    .lease_time = 600};
	char **v = NULL;

	(void)state;
	assert_int_equal(vn_dnsmasq_argv(&c, &v), 0);
	assert_string_equal(v[0], VN_IP_BIN);
	assert_string_equal(v[3], "qdhcp-x");
	assert_string_equal(v[4], VN_DNSMASQ_BIN);
	assert_int_equal(count(v, "--port=0"), 1);
	assert_int_equal(count(v, "--no-ping"), 1);
	assert_int_equal(count(v, "--keep-in-foreground"), 1);
	assert_int_equal(count(v, "--interface=ns-1"), 1);
	assert_int_equal(count(v, "--pid-file=/st/dhcp/x/pid"), 1);
	assert_int_equal(count(v, "--dhcp-hostsfile=/st/dhcp/x/hosts"), 1);
	assert_int_equal(count(v, "--dhcp-range=set:s1,10.0.0.0,static,255.255.255.0,600s"), 1);
	assert_int_equal(count(v, "--dhcp-range=set:s2,172.16.0.0,static,255.240.0.0,600s"), 1);
	vn_dnsmasq_argv_free(v);

	c.lease_time = 0;
	c.nranges = 1;
	assert_int_equal(vn_dnsmasq_argv(&c, &v), 0);
	assert_int_equal(count(v, "--dhcp-range=set:s1,10.0.0.0,static,255.255.255.0,infinite"), 1);
	vn_dnsmasq_argv_free(v);
}

static void test_argv_refuses(void **state)
{
	struct vn_dnsmasq_range rg[1] = {R("s1", "10.0.0.0/24")};
	struct vn_dnsmasq_range v6[1] = {R("s6", "fd00::/64")};
	struct vn_dnsmasq_range bad[1] = {R("s1,x", "10.0.0.0/24")};
	struct vn_dnsmasq_conf c = {
		.netns = "qdhcp-x", .ifname = "ns-1", .dir = "/st", .ranges = rg, .nranges = 1};
	char **v = (char **)1;

	(void)state;
	c.dir = "relative";
	assert_int_equal(vn_dnsmasq_argv(&c, &v), -EINVAL);
	assert_null(v);
	c.dir = "/st/a dir";
	assert_int_equal(vn_dnsmasq_argv(&c, &v), -EINVAL);
	c.dir = "/st";
	c.ifname = "ns-1\n--conf-file=/etc/shadow";
	assert_int_equal(vn_dnsmasq_argv(&c, &v), -EINVAL);
	c.ifname = "ns-1";
	c.ranges = v6;
	assert_int_equal(vn_dnsmasq_argv(&c, &v), -EINVAL);
	c.ranges = bad;
	assert_int_equal(vn_dnsmasq_argv(&c, &v), -EINVAL);
	c.ranges = rg;
	c.nranges = 0;
	assert_int_equal(vn_dnsmasq_argv(&c, &v), -EINVAL);
}

static void test_write(void **state)
{
	char dir[] = "/tmp/vn-dnsmasq-XXXXXX", buf[64];
	struct stat st;
	int d, fd;
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	d = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(d >= 0);
	assert_int_equal(vn_dnsmasq_write(d, "hosts", "a,1\n", 4), 0);
	assert_int_equal(vn_dnsmasq_write(d, "hosts", "b,2\n", 4), 0);
	fd = openat(d, "hosts", O_RDONLY);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "b,2\n", 4);
	assert_int_equal(fstatat(d, "hosts", &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(fstatat(d, ".hosts.tmp", &st, 0), -1); /* renamed away */
	/* a symlink planted at the temporary name is not followed */
	assert_int_equal(symlinkat("/etc/passwd", d, ".opts.tmp"), 0);
	assert_int_equal(vn_dnsmasq_write(d, "opts", "x\n", 2), -ELOOP);
	unlinkat(d, ".opts.tmp", 0);
	unlinkat(d, "hosts", 0);
	close(d);
	rmdir(dir);
}

/* A pid file naming a process that is not our dnsmasq: left alone. */
static void test_stale_stranger(void **state)
{
	char dir[] = "/tmp/vn-dnsmasq-XXXXXX", path[128];
	pid_t child, found = 123;
	FILE *f;
	int st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "%s/pid", dir);
	f = fopen(path, "w");
	fprintf(f, "%d\n", (int)child);
	fclose(f);
	assert_int_equal(vn_dnsmasq_end_stale(dir, "qdhcp-none", &found), 0);
	assert_int_equal(found, 0);
	assert_int_equal(kill(child, 0), 0); /* still alive */
	/* garbage and a missing file: nothing to do */
	f = fopen(path, "w");
	fprintf(f, "12x\n");
	fclose(f);
	assert_int_equal(vn_dnsmasq_end_stale(dir, "qdhcp-none", &found), 0);
	assert_int_equal(found, 0);
	unlink(path);
	assert_int_equal(vn_dnsmasq_end_stale(dir, "qdhcp-none", &found), 0);
	assert_int_equal(found, 0);
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_argv_refuses),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_stale_stranger),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
