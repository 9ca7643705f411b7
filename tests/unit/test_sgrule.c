// SPDX-License-Identifier: MIT
/* Unit tests for fs/sgrule.c: security group rule lines (parse, canonical
 * form, malformed lines, matching a flow). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vnetfs/ip.h"
#include "vnetfs/sg.h"

static void canon(const char *in, const char *want)
{
	struct vn_sgrule r;
	char why[200] = "", out[VN_SG_LINE_MAX];

	if (vn_sgrule_parse(in, &r, why, sizeof(why)) != 0)
		fail_msg("'%s' refused: %s", in, why);
	vn_sgrule_format(&r, out, sizeof(out));
	if (strcmp(out, want))
		fail_msg("'%s' reads back '%s', not '%s'", in, out, want);
	/* the canonical form is a fixed point */
	assert_int_equal(vn_sgrule_parse(out, &r, why, sizeof(why)), 0);
	vn_sgrule_format(&r, why, sizeof(why));
	assert_string_equal(why, want);
}

static void test_canonical(void **state)
{
	(void)state;
	/* canonical lines read back exactly as written */
	static const char *const same[] = {
		"ingress icmp",
		"ingress tcp 22",
		"egress any",
		"ingress any group default",
		"ingress tcp 22 from 10.0.0.0/24",
		"ingress udp 5000-5100 from 10.0.0.0/8",
		"egress tcp 443 to 2001:db8::/32",
		"ingress ipv6 icmp",
		"ingress ipv4 any",
		"ingress icmp 8",
		"ingress icmp 3/4",
		"ingress 47",
		"ingress 0",
		"ingress 132 7",
		"egress ipv4 udp 53 group dns",
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		canon(same[i], same[i]);
	canon("INGRESS TCP 22", "ingress tcp 22");
	canon("ingress\ttcp   22-22", "ingress tcp 22");
	canon("ingress 6 22", "ingress tcp 22");
	canon("ingress 17", "ingress udp");
	canon("ingress 1", "ingress icmp");
	canon("ingress 58", "ingress ipv6 icmp");
	canon("ingress tcp 1-65535", "ingress tcp");
	canon("ingress tcp 22 from 0.0.0.0/0", "ingress ipv4 tcp 22");
	canon("ingress tcp from ::/0", "ingress ipv6 tcp");
	canon("ingress ipv4 tcp 22 from 10.0.0.0/24", "ingress tcp 22 from 10.0.0.0/24");
	canon("ingress ipv6 tcp from 2001:DB8::/32", "ingress tcp from 2001:db8::/32");
	canon("egress ipv4 any to 10.1.2.3/32", "egress any to 10.1.2.3/32");
}

static const char *const bad[] = {
	"",
	" ",
	"ingres tcp",
	"ingress",
	"egress",
	"ingress ipv4",
	"ingress ipv6",
	"ingress tcpp",
	"ingress 256",
	"ingress -1",
	"ingress 01",
	"ingress 1000000",
	"ingress tcp 0",
	"ingress tcp 65536",
	"ingress tcp 22-21",
	"ingress tcp 22-",
	"ingress tcp 22-23-24",
	"ingress tcp x",
	"ingress any 22",
	"ingress icmp 256",
	"ingress icmp 8/256",
	"ingress icmp 8/",
	"ingress icmp /3",
	"ingress 47 22",
	"ingress tcp 22 from",
	"ingress tcp 22 to 10.0.0.0/24",
	"egress tcp 22 from 10.0.0.0/24",
	"ingress tcp 22 from 10.0.0.1/24",
	"ingress tcp 22 from 10.0.0.0/33",
	"ingress tcp 22 from 10.0.0.0",
	"ingress tcp 22 from host",
	"ingress ipv6 tcp from 10.0.0.0/8",
	"ingress ipv4 tcp from 2001:db8::/32",
	"ingress ipv4 58",
	"ingress tcp group",
	"ingress tcp group ../x",
	"ingress tcp group .x",
	"ingress tcp group a/b",
	"ingress tcp 22 group web extra",
	"ingress tcp 22 22",
	"ingress tcp from 10.0.0.0/8 from 10.0.0.0/8",
	"ingress tcp via 10.0.0.0/8",
	"ingress ipv4 ipv6 tcp",
	"ingress tcp 22 from 10.0.0.0/24 group web",
	"ingress ipv5 tcp",
	"sideways any",
	"ingress tcp 99999",
	"ingress udp 1-65536",
	"ingress tcp 22,23",
	"ingress icmp x",
	"ingress icmp 8/x",
	"ingress tcp 2 2 2 2 2 2 2 2 2",
	"ingress tcp 22 from ::1/129",
	"ingress tcp 22 from 10.0.0.0/-1",
	"ingress tcp 22 from 1.2.3.4.5/32",
	"egress tcp 22 to",
	"ingress tcp 22 from 0.0.0.0/0 extra",
	"ingress tcp +22",
	"ingress tcp 0x16",
	"ingress tcp\x01 22",
	"ingress udp 53 from 2001:db8::1/32",
};

static void test_malformed(void **state)
{
	size_t n = sizeof(bad) / sizeof(bad[0]);
	struct vn_sgrule r;
	char why[200];

	(void)state;
	assert_true(n >= 50);
	for (size_t i = 0; i < n; i++) {
		why[0] = '\0';
		if (vn_sgrule_parse(bad[i], &r, why, sizeof(why)) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		if (!why[0])
			fail_msg("'%s' refused without a sentence", bad[i]);
	}
	/* longer than a line may be */
	char longl[400];

	memset(longl, 'a', sizeof(longl) - 1);
	longl[sizeof(longl) - 1] = '\0';
	memcpy(longl, "ingress ", 8);
	assert_int_equal(vn_sgrule_parse(longl, &r, why, sizeof(why)), -EINVAL);
	assert_int_equal(vn_sgrule_parse(NULL, &r, why, sizeof(why)), -EINVAL);
}

static struct vn_addr A(const char *s) {
	struct vn_addr a;

	if (vn_addr_parse(s, &a))
		fail_msg("bad address %s", s);
	return a;
}

static bool
member(void *arg, const char *gid, const struct vn_addr *a)
{
	struct vn_addr m = A("10.0.0.7");

	(void)arg;
	return !strcmp(gid, "G") && vn_addr_eq(a, &m);
}

static bool match(const char *line, const char *src, const char *dst, int proto, int dport)
{
	struct vn_sgrule r;
	struct vn_sg_flow f = {.src = A(src), .dst = A(dst), .proto = proto, .dport = dport};
	char why[200];

	if (vn_sgrule_parse(line, &r, why, sizeof(why)))
		fail_msg("'%s': %s", line, why);
	if (r.remote == VN_SG_GROUP)
		strcpy(r.gid, "G");
	if (proto == 1 || proto == 58)
		f.itype = dport, f.icode = 0;
	return vn_sgrule_match(&r, &f, member, NULL);
}

static void test_match(void **state)
{
	(void)state;
	assert_true(match("ingress tcp 22", "10.0.1.1", "10.0.0.2", 6, 22));
	assert_false(match("ingress tcp 22", "10.0.1.1", "10.0.0.2", 6, 23));
	assert_false(match("ingress tcp 22", "10.0.1.1", "10.0.0.2", 17, 22));
	assert_true(match("ingress tcp 22 from 10.0.0.0/24", "10.0.0.9", "10.0.0.2", 6, 22));
	assert_false(match("ingress tcp 22 from 10.0.0.0/24", "10.0.1.9", "10.0.0.2", 6, 22));
	assert_true(match("egress tcp 80 to 10.0.1.0/24", "10.0.0.2", "10.0.1.9", 6, 80));
	assert_false(match("egress tcp 80 to 10.0.1.0/24", "10.0.0.2", "10.0.2.9", 6, 80));
	assert_true(match("ingress udp 5000-5100", "1.2.3.4", "10.0.0.2", 17, 5050));
	assert_false(match("ingress udp 5000-5100", "1.2.3.4", "10.0.0.2", 17, 5101));
	assert_true(match("ingress any group G", "10.0.0.7", "10.0.0.2", 6, 1));
	assert_false(match("ingress any group G", "10.0.0.8", "10.0.0.2", 6, 1));
	assert_true(match("ingress icmp", "fd00::1", "fd00::2", 58, 128));
	assert_false(match("ingress ipv4 icmp", "fd00::1", "fd00::2", 58, 128));
	assert_true(match("ingress icmp 8", "10.0.0.1", "10.0.0.2", 1, 8));
	assert_false(match("ingress icmp 8", "10.0.0.1", "10.0.0.2", 1, 13));
	assert_true(match("egress any", "fd00::1", "fd00::2", 6, 1));
	assert_false(match("egress ipv6 any", "10.0.0.1", "10.0.0.2", 6, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
