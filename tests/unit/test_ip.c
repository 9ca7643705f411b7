// SPDX-License-Identifier: MIT
/* Unit tests for fs/ip.c: parsing, formatting, prefix arithmetic, IPAM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "vnetfs/ip.h"

/* ---- helpers ----------------------------------------------------------- */

static struct vn_addr A(const char *s) {
	struct vn_addr a;

	if (vn_addr_parse(s, &a))
		fail_msg("bad address in test: %s", s);
	return a;
}

static struct vn_cidr
C(const char *s) {
	struct vn_cidr c;

	if (vn_cidr_parse(s, true, &c))
		fail_msg("bad cidr in test: %s", s);
	return c;
}

static struct vn_pool
P(const char *s) {
	struct vn_pool p;

	if (vn_pool_parse(s, &p))
		fail_msg("bad pool in test: %s", s);
	return p;
}

/* qsort adapter: calling vn_addr_cmp through a cast pointer is UB. */
static int
cmp_addr(const void *a, const void *b)
{
	return vn_addr_cmp(a, b);
}

static void assert_addr(const struct vn_addr *a, const char *want)
{
	char buf[VN_ADDR_STRLEN];

	vn_addr_format(a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void assert_pool(const struct vn_pool *p, const char *want)
{
	char buf[2 * VN_ADDR_STRLEN];

	vn_pool_format(p, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void assert_cidr_text(const char *in, bool strict, const char *want)
{
	struct vn_cidr c;
	char buf[VN_CIDR_STRLEN];

	assert_int_equal(vn_cidr_parse(in, strict, &c), 0);
	vn_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static struct vn_subnet_ipam subnet(const char *cidr, const char *gw, const struct vn_pool *pools,
				    size_t npools)
{
	struct vn_subnet_ipam s = {.cidr = C(cidr), .pools = pools, .npools = npools};

	if (gw) {
		s.has_gateway = true;
		s.gateway = A(gw);
	}
	return s;
}

/* ---- addresses --------------------------------------------------------- */

static void test_addr_parse_v4(void **state)
{
	struct vn_addr a;

	assert_int_equal(vn_addr_parse("10.1.2.3", &a), 0);
	assert_int_equal(a.af, AF_INET);
	assert_true(a.v == 0x0a010203);
	assert_int_equal(vn_addr_parse("0.0.0.0", &a), 0);
	assert_true(a.v == 0);
	assert_int_equal(vn_addr_parse("255.255.255.255", &a), 0);
	assert_true(a.v == 0xffffffffu);
}

static void test_addr_parse_v6(void **state)
{
	struct vn_addr a;

	assert_int_equal(vn_addr_parse("::1", &a), 0);
	assert_int_equal(a.af, AF_INET6);
	assert_true(a.v == 1);
	assert_int_equal(vn_addr_parse("2001:db8::ff", &a), 0);
	assert_true(a.v == (((vn_u128)0x20010db8 << 96) | 0xff));
	assert_int_equal(vn_addr_parse("::", &a), 0);
	assert_true(a.v == 0);
	assert_int_equal(vn_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &a), 0);
	assert_true(a.v == ~(vn_u128)0);
}

static void test_addr_parse_invalid(void **state)
{
	static const char *bad[] = {
		"",	      "1.2.3",	   "1.2.3.4.5",	 "256.0.0.1", "01.2.3.4",
		" 1.2.3.4",   "1.2.3.4 ",  "1.2.3.4/32", "0x1.2.3.4", "1.2.3.-4",
		"a.b.c.d",    "1.2.3.4\n", "10",	 "::g",	      "1:2:3:4:5:6:7:8:9",
		"fe80::1%lo", " ::1",	   "::1 ",	 "1::2::3",   "localhost",
	};
	struct vn_addr a = {.af = 99, .v = 42};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vn_addr_parse(bad[i], &a) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(vn_addr_parse(NULL, &a), -EINVAL);
	/* Failed parses leave the output alone. */
	assert_int_equal(a.af, 99);
	assert_true(a.v == 42);
}

static void test_addr_format(void **state)
{
	static const char *round[] = {"10.0.0.1",   "0.0.0.0",	 "255.255.255.255",	"::", "::1",
				      "2001:db8::", "fe80::1:2", "2001:db8:0:1:1:1:1:1"};
	struct vn_addr a;
	char buf[VN_ADDR_STRLEN];

	for (size_t i = 0; i < sizeof(round) / sizeof(round[0]); i++) {
		a = A(round[i]);
		assert_addr(&a, round[i]);
	}
	/* Non-canonical input comes out canonical. */
	a = A("2001:DB8:0000:0000::0001");
	assert_addr(&a, "2001:db8::1");
	/* A short buffer truncates, NUL-terminated. */
	a = A("10.0.0.1");
	vn_addr_format(&a, buf, 5);
	assert_string_equal(buf, "10.0");
	/* Built by hand: IPv4 is the low 32 bits. */
	a = (struct vn_addr){.af = AF_INET, .v = 0xc0a80101};
	assert_addr(&a, "192.168.1.1");
}

static void test_addr_cmp(void **state)
{
	struct vn_addr a = A("10.0.0.1"), b = A("10.0.0.2"), c = A("::1");

	assert_int_equal(vn_addr_cmp(&a, &b), -1);
	assert_int_equal(vn_addr_cmp(&b, &a), 1);
	assert_int_equal(vn_addr_cmp(&a, &a), 0);
	assert_true(vn_addr_eq(&a, &a));
	assert_false(vn_addr_eq(&a, &b));
	/* ::1 and 0.0.0.1 share a value but not a family. */
	b = A("0.0.0.1");
	assert_false(vn_addr_eq(&b, &c));
	assert_int_not_equal(vn_addr_cmp(&b, &c), 0);
	assert_int_equal(vn_addr_cmp(&b, &c), -vn_addr_cmp(&c, &b));
	assert_int_equal(vn_af_bits(AF_INET), 32);
	assert_int_equal(vn_af_bits(AF_INET6), 128);
	assert_int_equal(vn_af_bits(0), 0);
}

/* ---- cidrs ------------------------------------------------------------- */

static void test_cidr_parse_valid(void **state)
{
	struct vn_cidr c;

	assert_int_equal(vn_cidr_parse("10.0.0.0/24", true, &c), 0);
	assert_int_equal(c.net.af, AF_INET);
	assert_true(c.net.v == 0x0a000000);
	assert_int_equal(c.prefix, 24);

	assert_int_equal(vn_cidr_parse("0.0.0.0/0", true, &c), 0);
	assert_int_equal(c.prefix, 0);
	assert_true(c.net.v == 0);

	assert_int_equal(vn_cidr_parse("::/0", true, &c), 0);
	assert_int_equal(c.net.af, AF_INET6);
	assert_int_equal(c.prefix, 0);

	assert_int_equal(vn_cidr_parse("fe80::/64", true, &c), 0);
	assert_true(c.net.v == (vn_u128)0xfe80 << 112);
	assert_int_equal(c.prefix, 64);

	assert_int_equal(vn_cidr_parse("10.0.0.1/32", true, &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(vn_cidr_parse("::1/128", true, &c), 0);
	assert_int_equal(c.prefix, 128);
	assert_true(c.net.v == 1);
}

static void test_cidr_parse_invalid(void **state)
{
	static const char *bad[] = {
		"10.0.0.0/33",	"10.0.0.0/024",
		" 10.0.0.0/24", "10.0.0.0/24 ",
		"10.0.0.0",	"10.0.0.0/",
		"10.0.0.0/+24", "10.0.0.0/-1",
		"10.0.0.0/2a",	"/24",
		"10.0.0/24",	"10.0.0.0//24",
		"10.0.0.0/24/", "::/129",
		"::/0128",	"fe80::/64x",
		"::/1000",	"10.0.0.0/00",
		"10.0.0.0/ 24", "10.0.0.0 /24",
		"1.2.3.4.5/32", "",
	};
	struct vn_cidr c = {.prefix = 7};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vn_cidr_parse(bad[i], false, &c) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		if (vn_cidr_parse(bad[i], true, &c) != -EINVAL)
			fail_msg("accepted \"%s\" (strict)", bad[i]);
	}
	assert_int_equal(c.prefix, 7);
}

static void test_cidr_parse_strictness(void **state)
{
	struct vn_cidr c = {.prefix = 7};

	assert_int_equal(vn_cidr_parse("10.0.0.1/24", true, &c), -EINVAL);
	assert_int_equal(c.prefix, 7);
	assert_int_equal(vn_cidr_parse("10.0.0.1/24", false, &c), 0);
	assert_true(c.net.v == 0x0a000000);
	assert_int_equal(c.prefix, 24);
	assert_cidr_text("10.0.0.1/24", false, "10.0.0.0/24");
	assert_cidr_text("10.255.3.4/8", false, "10.0.0.0/8");
	assert_cidr_text("1.2.3.4/0", false, "0.0.0.0/0");
	assert_cidr_text("fe80::1/64", false, "fe80::/64");
	assert_cidr_text("2001:db8::ffff/0", false, "::/0");
	assert_cidr_text("2001:db8::ffff/127", false, "2001:db8::fffe/127");
	assert_int_equal(vn_cidr_parse("fe80::1/64", true, &c), -EINVAL);
	assert_int_equal(vn_cidr_parse("1.2.3.4/0", true, &c), -EINVAL);
	assert_int_equal(vn_cidr_parse("::1/0", true, &c), -EINVAL);
}

static void test_cidr_format(void **state)
{
	assert_cidr_text("10.0.0.0/24", true, "10.0.0.0/24");
	assert_cidr_text("0.0.0.0/0", true, "0.0.0.0/0");
	assert_cidr_text("::/0", true, "::/0");
	assert_cidr_text("fe80::/64", true, "fe80::/64");
	assert_cidr_text("2001:0db8:0000::/48", true, "2001:db8::/48");
	assert_cidr_text("192.168.1.128/25", true, "192.168.1.128/25");
	assert_cidr_text("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", true,
			 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

static void test_cidr_contains(void **state)
{
	struct vn_cidr c = C("10.0.0.0/24"), all4 = C("0.0.0.0/0"), all6 = C("::/0");
	struct vn_cidr h = C("10.0.0.7/32"), ll = C("fe80::/64");
	struct vn_addr a;

	a = A("10.0.0.0");
	assert_true(vn_cidr_contains(&c, &a));
	a = A("10.0.0.255");
	assert_true(vn_cidr_contains(&c, &a));
	a = A("10.0.1.0");
	assert_false(vn_cidr_contains(&c, &a));
	a = A("9.255.255.255");
	assert_false(vn_cidr_contains(&c, &a));
	a = A("255.255.255.255");
	assert_true(vn_cidr_contains(&all4, &a));
	assert_false(vn_cidr_contains(&all6, &a)); /* family */
	a = A("10.0.0.7");
	assert_true(vn_cidr_contains(&h, &a));
	a = A("10.0.0.8");
	assert_false(vn_cidr_contains(&h, &a));
	a = A("fe80::ffff:ffff:ffff:ffff");
	assert_true(vn_cidr_contains(&ll, &a));
	assert_true(vn_cidr_contains(&all6, &a));
	assert_false(vn_cidr_contains(&all4, &a));
	a = A("fe80:0:0:1::");
	assert_false(vn_cidr_contains(&ll, &a));
}

static void test_cidr_overlaps(void **state)
{
	struct vn_cidr a = C("10.0.0.0/24"), b = C("10.0.0.128/25"), c = C("10.0.1.0/24");
	struct vn_cidr d = C("10.0.0.0/8"), z = C("0.0.0.0/0"), s = C("::/0");
	struct vn_cidr e = C("fe80::/64"), f = C("fe80::/10"), g = C("fe80:0:0:1::/64");

	assert_true(vn_cidr_overlaps(&a, &b));
	assert_true(vn_cidr_overlaps(&b, &a));
	assert_false(vn_cidr_overlaps(&a, &c));
	assert_false(vn_cidr_overlaps(&c, &b));
	assert_true(vn_cidr_overlaps(&c, &d));
	assert_true(vn_cidr_overlaps(&z, &c));
	assert_true(vn_cidr_overlaps(&a, &a));
	assert_false(vn_cidr_overlaps(&z, &s)); /* family */
	assert_false(vn_cidr_overlaps(&s, &z));
	assert_true(vn_cidr_overlaps(&e, &f));
	assert_true(vn_cidr_overlaps(&s, &g));
	assert_false(vn_cidr_overlaps(&e, &g));
}

static void test_cidr_last(void **state)
{
	struct vn_cidr c;
	struct vn_addr l;

	c = C("10.0.0.0/24");
	l = vn_cidr_last(&c);
	assert_addr(&l, "10.0.0.255");
	c = C("0.0.0.0/0");
	l = vn_cidr_last(&c);
	assert_addr(&l, "255.255.255.255");
	assert_true(l.v == 0xffffffffu); /* no bits above 32 */
	c = C("10.0.0.9/32");
	l = vn_cidr_last(&c);
	assert_addr(&l, "10.0.0.9");
	c = C("::/0");
	l = vn_cidr_last(&c);
	assert_addr(&l, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	c = C("fe80::/64");
	l = vn_cidr_last(&c);
	assert_addr(&l, "fe80::ffff:ffff:ffff:ffff");
	c = C("2001:db8::5/128");
	l = vn_cidr_last(&c);
	assert_addr(&l, "2001:db8::5");
}

static void check_hosts(const char *cidr, const char *first, const char *last)
{
	struct vn_cidr c = C(cidr);
	struct vn_addr f, l;

	assert_int_equal(vn_cidr_hosts(&c, &f, &l), 0);
	assert_addr(&f, first);
	assert_addr(&l, last);
}

static void test_cidr_hosts(void **state)
{
	check_hosts("10.0.0.0/24", "10.0.0.1", "10.0.0.254");
	check_hosts("10.0.0.4/30", "10.0.0.5", "10.0.0.6");
	check_hosts("10.0.0.4/31", "10.0.0.4", "10.0.0.5");
	check_hosts("10.0.0.4/32", "10.0.0.4", "10.0.0.4");
	check_hosts("0.0.0.0/0", "0.0.0.1", "255.255.255.254");
	check_hosts("2001:db8::/64", "2001:db8::1", "2001:db8::ffff:ffff:ffff:ffff");
	check_hosts("2001:db8::/127", "2001:db8::", "2001:db8::1");
	check_hosts("2001:db8::/128", "2001:db8::", "2001:db8::");
	check_hosts("2001:db8::/126", "2001:db8::1", "2001:db8::3");
	check_hosts("::/0", "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void test_cidr_hosts_invalid(void **state)
{
	struct vn_cidr c = {.net = {.af = 0}, .prefix = 0};
	struct vn_addr f = {.af = 7}, l = {.af = 7};

	assert_int_equal(vn_cidr_hosts(&c, &f, &l), -EINVAL);
	c = C("10.0.0.0/24");
	c.prefix = 33;
	assert_int_equal(vn_cidr_hosts(&c, &f, &l), -EINVAL);
	assert_int_equal(f.af, 7);
}

/* ---- pools ------------------------------------------------------------- */

static void test_pool_parse(void **state)
{
	struct vn_pool p = P("10.0.0.2-10.0.0.9");
	static const char *bad[] = {
		"10.0.0.9-10.0.0.2",
		"10.0.0.2-::5",
		"10.0.0.2",
		"10.0.0.2-",
		"-10.0.0.2",
		"10.0.0.2 - 10.0.0.9",
		"10.0.0.2--10.0.0.9",
		"10.0.0.2-10.0.0.3-",
		"::5-::1",
		"",
	};

	assert_int_equal(p.start.af, AF_INET);
	assert_true(p.start.v == 0x0a000002);
	assert_true(p.end.v == 0x0a000009);
	assert_pool(&p, "10.0.0.2-10.0.0.9");
	p = P("10.0.0.2-10.0.0.2");
	assert_pool(&p, "10.0.0.2-10.0.0.2");
	p = P("2001:DB8::10-2001:db8::0:20");
	assert_pool(&p, "2001:db8::10-2001:db8::20");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vn_pool_parse(bad[i], &p) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static void test_pool_overlap_contains(void **state)
{
	struct vn_pool a = P("10.0.0.2-10.0.0.50"), b = P("10.0.0.40-10.0.0.60");
	struct vn_pool c = P("10.0.0.51-10.0.0.60"), d = P("10.0.0.50-10.0.0.50");
	struct vn_pool e = P("::2-::50");
	struct vn_addr x;

	assert_true(vn_pool_overlaps(&a, &b));
	assert_true(vn_pool_overlaps(&b, &a));
	assert_false(vn_pool_overlaps(&a, &c));
	assert_false(vn_pool_overlaps(&c, &a));
	assert_true(vn_pool_overlaps(&a, &d));	/* touching end */
	assert_false(vn_pool_overlaps(&a, &e)); /* family */
	x = A("10.0.0.2");
	assert_true(vn_pool_contains(&a, &x));
	x = A("10.0.0.50");
	assert_true(vn_pool_contains(&a, &x));
	x = A("10.0.0.51");
	assert_false(vn_pool_contains(&a, &x));
	x = A("10.0.0.1");
	assert_false(vn_pool_contains(&a, &x));
	x = A("::2");
	assert_false(vn_pool_contains(&a, &x));
	assert_true(vn_pool_contains(&e, &x));
}

/* ---- routes ------------------------------------------------------------ */

static void test_route_parse(void **state)
{
	struct vn_cidr d;
	struct vn_addr nh;
	char buf[VN_CIDR_STRLEN];

	assert_int_equal(vn_route_parse("10.1.0.0/16 10.0.0.1", &d, &nh), 0);
	vn_cidr_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "10.1.0.0/16");
	assert_addr(&nh, "10.0.0.1");

	assert_int_equal(vn_route_parse("0.0.0.0/0 \t  192.168.0.254", &d, &nh), 0);
	assert_int_equal(d.prefix, 0);
	assert_addr(&nh, "192.168.0.254");

	assert_int_equal(vn_route_parse("2001:db8:1::/48\tfe80::1", &d, &nh), 0);
	vn_cidr_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:1::/48");
	assert_addr(&nh, "fe80::1");
}

static void test_route_parse_invalid(void **state)
{
	static const char *bad[] = {
		"10.1.0.0/16",		 "10.1.0.0/16 ",	 " 10.1.0.0/16 10.0.0.1",
		"10.1.0.0/16 10.0.0.1 ", "10.1.0.1/16 10.0.0.1", /* host bits: not strict */
		"10.1.0.0/16 ::1",				 /* family */
		"::/0 10.0.0.1",	 "10.1.0.0 10.0.0.1",	 "10.1.0.0/16 10.0.0.1 10.0.0.2",
		"10.1.0.0/16\n10.0.0.1", "10.1.0.0/16,10.0.0.1", "",
	};
	struct vn_cidr d = {.prefix = 3};
	struct vn_addr nh = {.af = 5};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vn_route_parse(bad[i], &d, &nh) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(d.prefix, 3);
	assert_int_equal(nh.af, 5);
}

/* ---- default gateway and pools ----------------------------------------- */

static void test_default_gateway(void **state)
{
	struct vn_cidr c;
	struct vn_addr gw;

	c = C("10.0.0.0/24");
	assert_int_equal(vn_ipam_default_gateway(&c, &gw), 0);
	assert_addr(&gw, "10.0.0.1");
	c = C("10.0.0.4/31");
	assert_int_equal(vn_ipam_default_gateway(&c, &gw), 0);
	assert_addr(&gw, "10.0.0.4");
	c = C("2001:db8::/64");
	assert_int_equal(vn_ipam_default_gateway(&c, &gw), 0);
	assert_addr(&gw, "2001:db8::1");
	c = C("2001:db8::/128");
	assert_int_equal(vn_ipam_default_gateway(&c, &gw), 0);
	assert_addr(&gw, "2001:db8::");
}

static void check_default_pools(const char *cidr, const char *gw, size_t want_n, const char *want0,
				const char *want1)
{
	struct vn_cidr c = C(cidr);
	struct vn_addr g;
	struct vn_pool out[2];
	size_t n = 99;

	if (gw)
		g = A(gw);
	assert_int_equal(vn_ipam_default_pools(&c, gw ? &g : NULL, out, &n), 0);
	assert_int_equal(n, want_n);
	assert_pool(&out[0], want0);
	if (want1)
		assert_pool(&out[1], want1);
}

static void test_default_pools(void **state)
{
	check_default_pools("10.0.0.0/24", "10.0.0.1", 1, "10.0.0.2-10.0.0.254", NULL);
	check_default_pools("10.0.0.0/24", NULL, 1, "10.0.0.1-10.0.0.254", NULL);
	check_default_pools("10.0.0.0/24", "10.0.0.254", 1, "10.0.0.1-10.0.0.253", NULL);
	check_default_pools("10.0.0.0/24", "10.0.0.100", 2, "10.0.0.1-10.0.0.99",
			    "10.0.0.101-10.0.0.254");
	/* A gateway outside the usable range takes nothing from it. */
	check_default_pools("10.0.0.0/24", "10.0.1.1", 1, "10.0.0.1-10.0.0.254", NULL);
	check_default_pools("10.0.0.0/30", "10.0.0.1", 1, "10.0.0.2-10.0.0.2", NULL);
	check_default_pools("10.0.0.0/31", "10.0.0.0", 1, "10.0.0.1-10.0.0.1", NULL);
	check_default_pools("10.0.0.0/32", NULL, 1, "10.0.0.0-10.0.0.0", NULL);
	check_default_pools("2001:db8::/64", "2001:db8::1", 1,
			    "2001:db8::2-2001:db8::ffff:ffff:ffff:ffff", NULL);
	check_default_pools("2001:db8::/120", "2001:db8::80", 2, "2001:db8::1-2001:db8::7f",
			    "2001:db8::81-2001:db8::ff");
	check_default_pools("2001:db8::/127", "2001:db8::1", 1, "2001:db8::-2001:db8::", NULL);
}

static void test_default_pools_empty(void **state)
{
	struct vn_cidr c;
	struct vn_addr g;
	struct vn_pool out[2];
	size_t n = 99;

	c = C("10.0.0.5/32");
	g = A("10.0.0.5");
	assert_int_equal(vn_ipam_default_pools(&c, &g, out, &n), -EINVAL);
	assert_int_equal(n, 99);
	c = C("10.0.0.4/30");
	g = A("10.0.0.5");
	assert_int_equal(vn_ipam_default_pools(&c, &g, out, &n), 0);
	assert_int_equal(n, 1);
	assert_pool(&out[0], "10.0.0.6-10.0.0.6");
	c = C("2001:db8::7/128");
	g = A("2001:db8::7");
	assert_int_equal(vn_ipam_default_pools(&c, &g, out, &n), -EINVAL);
	/* A gateway of the other family is an error, not "no gateway". */
	c = C("10.0.0.0/24");
	g = A("::1");
	assert_int_equal(vn_ipam_default_pools(&c, &g, out, &n), -EINVAL);
}

/* ---- validate ---------------------------------------------------------- */

static void expect_invalid(const struct vn_subnet_ipam *s, const char *sentence)
{
	char why[256];

	memset(why, 'X', sizeof(why));
	why[sizeof(why) - 1] = '\0';
	assert_int_equal(vn_ipam_validate(s, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, sentence);
}

static void test_validate_ok(void **state)
{
	struct vn_pool p1[] = {P("10.0.0.2-10.0.0.254")};
	struct vn_pool p2[] = {P("10.0.0.100-10.0.0.200"), P("10.0.0.2-10.0.0.50")};
	struct vn_pool p6[] = {P("2001:db8::2-2001:db8::ffff:ffff:ffff:ffff")};
	struct vn_subnet_ipam s;
	char why[128] = "untouched";

	s = subnet("10.0.0.0/24", "10.0.0.1", p1, 1);
	assert_int_equal(vn_ipam_validate(&s, why, sizeof(why)), 0);
	s = subnet("10.0.0.0/24", "10.0.0.70", p2, 2);
	assert_int_equal(vn_ipam_validate(&s, why, sizeof(why)), 0);
	s = subnet("10.0.0.0/24", NULL, p1, 1);
	assert_int_equal(vn_ipam_validate(&s, why, sizeof(why)), 0);
	s = subnet("10.0.0.0/24", "10.0.0.1", NULL, 0);
	assert_int_equal(vn_ipam_validate(&s, why, sizeof(why)), 0);
	s = subnet("2001:db8::/64", "2001:db8::1", p6, 1);
	assert_int_equal(vn_ipam_validate(&s, why, sizeof(why)), 0);
	/* The gateway need not be the first host. */
	s = subnet("10.0.0.0/24", "10.0.0.254", p1, 0);
	assert_int_equal(vn_ipam_validate(&s, why, sizeof(why)), 0);
	assert_string_equal(why, "untouched");
	/* why may be absent. */
	s = subnet("10.0.0.0/24", "10.0.0.0", NULL, 0);
	assert_int_equal(vn_ipam_validate(&s, NULL, 0), -EINVAL);
}

static void test_validate_gateway(void **state)
{
	struct vn_pool p[] = {P("10.0.0.2-10.0.0.254")};
	struct vn_subnet_ipam s;

	s = subnet("10.0.0.0/24", "10.0.1.1", NULL, 0);
	expect_invalid(&s, "gateway_ip 10.0.1.1 is outside cidr 10.0.0.0/24");
	s = subnet("10.0.0.0/24", "10.0.0.0", NULL, 0);
	expect_invalid(&s, "gateway_ip 10.0.0.0 is not a usable host address in 10.0.0.0/24");
	s = subnet("10.0.0.0/24", "10.0.0.255", NULL, 0);
	expect_invalid(&s, "gateway_ip 10.0.0.255 is not a usable host address in 10.0.0.0/24");
	s = subnet("2001:db8::/64", "2001:db8::", NULL, 0);
	expect_invalid(&s, "gateway_ip 2001:db8:: is not a usable host address in 2001:db8::/64");
	s = subnet("10.0.0.0/24", "::1", NULL, 0);
	expect_invalid(&s, "gateway_ip ::1 is not of the address family of cidr 10.0.0.0/24");
	s = subnet("10.0.0.0/24", "10.0.0.5", p, 1);
	expect_invalid(&s, "gateway_ip 10.0.0.5 is inside allocation pool 10.0.0.2-10.0.0.254");
}

static void test_validate_pools(void **state)
{
	struct vn_pool out[] = {P("10.0.0.10-10.0.1.5")};
	struct vn_pool below[] = {P("9.255.255.250-10.0.0.5")};
	struct vn_pool net[] = {P("10.0.0.0-10.0.0.5")};
	struct vn_pool bcast[] = {P("10.0.0.200-10.0.0.255")};
	struct vn_pool fam[] = {P("::2-::9")};
	struct vn_pool ovl[] = {P("10.0.0.2-10.0.0.50"), P("10.0.0.60-10.0.0.70"),
				P("10.0.0.40-10.0.0.60")};
	struct vn_pool rev[] = {{A("10.0.0.9"), A("10.0.0.2")}};
	struct vn_pool mixed[] = {{A("10.0.0.2"), A("::9")}};
	struct vn_subnet_ipam s;

	s = subnet("10.0.0.0/24", "10.0.0.1", out, 1);
	expect_invalid(&s, "allocation pool 10.0.0.10-10.0.1.5 is outside cidr 10.0.0.0/24");
	s = subnet("10.0.0.0/24", "10.0.0.1", below, 1);
	expect_invalid(&s, "allocation pool 9.255.255.250-10.0.0.5 is outside cidr 10.0.0.0/24");
	s = subnet("10.0.0.0/24", NULL, net, 1);
	expect_invalid(&s, "allocation pool 10.0.0.0-10.0.0.5 includes an address that is not a "
			   "usable host in 10.0.0.0/24");
	s = subnet("10.0.0.0/24", NULL, bcast, 1);
	expect_invalid(&s, "allocation pool 10.0.0.200-10.0.0.255 includes an address that is "
			   "not a usable host in 10.0.0.0/24");
	s = subnet("10.0.0.0/24", NULL, fam, 1);
	expect_invalid(&s,
		       "allocation pool ::2-::9 is not of the address family of cidr 10.0.0.0/24");
	s = subnet("10.0.0.0/24", NULL, mixed, 1);
	expect_invalid(&s, "allocation pool 10.0.0.2-::9 is not of the address family of cidr "
			   "10.0.0.0/24");
	s = subnet("10.0.0.0/24", NULL, rev, 1);
	expect_invalid(&s, "allocation pool 10.0.0.9-10.0.0.2 starts after its end");
	s = subnet("10.0.0.0/24", "10.0.0.1", ovl, 3);
	expect_invalid(&s, "allocation pools 10.0.0.2-10.0.0.50 and 10.0.0.40-10.0.0.60 overlap");
	/* The first two alone are fine; the second and third share .60. */
	s = subnet("10.0.0.0/24", "10.0.0.1", ovl + 1, 2);
	expect_invalid(&s, "allocation pools 10.0.0.60-10.0.0.70 and 10.0.0.40-10.0.0.60 overlap");
	s = subnet("10.0.0.0/24", "10.0.0.1", ovl, 2);
	assert_int_equal(vn_ipam_validate(&s, NULL, 0), 0);
}

static void test_validate_cidr_and_truncation(void **state)
{
	struct vn_subnet_ipam s = subnet("10.0.0.0/24", "10.0.1.1", NULL, 0);
	char why[16];

	/* A short buffer gets a truncated, terminated sentence. */
	assert_int_equal(vn_ipam_validate(&s, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "gateway_ip 10.0");
	/* A cidr with host bits is not a network. */
	s = subnet("10.0.0.0/24", NULL, NULL, 0);
	s.cidr.net = A("10.0.0.1");
	expect_invalid(&s, "cidr 10.0.0.1/24 is not a valid network");
	s.cidr = C("10.0.0.0/24");
	s.cidr.prefix = 40;
	expect_invalid(&s, "cidr 10.0.0.0/40 is not a valid network");
}

/* ---- alloc ------------------------------------------------------------- */

static void test_alloc_basic(void **state)
{
	struct vn_pool p[] = {P("10.0.0.2-10.0.0.5")};
	struct vn_subnet_ipam s = subnet("10.0.0.0/24", "10.0.0.1", p, 1);
	struct vn_addr used[] = {A("10.0.0.1"), A("10.0.0.2"), A("10.0.0.3"), A("10.0.0.5")};
	struct vn_addr out = {0};

	assert_int_equal(vn_ipam_alloc(&s, NULL, 0, &out), 0);
	assert_addr(&out, "10.0.0.2");
	assert_int_equal(vn_ipam_alloc(&s, used, 4, &out), 0);
	assert_addr(&out, "10.0.0.4");
	/* A gap before the pool doesn't count. */
	assert_int_equal(vn_ipam_alloc(&s, used + 1, 2, &out), 0);
	assert_addr(&out, "10.0.0.4");
	assert_int_equal(vn_ipam_alloc(&s, used + 2, 2, &out), 0);
	assert_addr(&out, "10.0.0.2");
}

static void test_alloc_duplicates_and_foreign(void **state)
{
	struct vn_pool p[] = {P("10.0.0.2-10.0.0.9")};
	struct vn_subnet_ipam s = subnet("10.0.0.0/24", NULL, p, 1);
	/* Sorted by vn_addr_cmp: other addresses, duplicates, outsiders. */
	struct vn_addr used[] = {A("1.1.1.1"),	A("10.0.0.2"),	A("10.0.0.2"),
				 A("10.0.0.3"), A("10.0.0.3"),	A("10.0.0.4"),
				 A("10.0.0.9"), A("192.0.2.1"), A("::a00:5")};
	struct vn_addr out;

	qsort(used, sizeof(used) / sizeof(used[0]), sizeof(used[0]), cmp_addr);
	assert_int_equal(vn_ipam_alloc(&s, used, sizeof(used) / sizeof(used[0]), &out), 0);
	assert_int_equal(out.af, AF_INET);
	assert_addr(&out, "10.0.0.5");
}

static void test_alloc_crosses_pools(void **state)
{
	/* Listed out of order: the lower pool is used first. */
	struct vn_pool p[] = {P("10.0.0.100-10.0.0.101"), P("10.0.0.10-10.0.0.11"),
			      P("10.0.0.50-10.0.0.50")};
	struct vn_subnet_ipam s = subnet("10.0.0.0/24", "10.0.0.1", p, 3);
	struct vn_addr used[] = {A("10.0.0.10"), A("10.0.0.11"), A("10.0.0.50"), A("10.0.0.100")};
	struct vn_addr out;

	assert_int_equal(vn_ipam_alloc(&s, used, 0, &out), 0);
	assert_addr(&out, "10.0.0.10");
	assert_int_equal(vn_ipam_alloc(&s, used, 1, &out), 0);
	assert_addr(&out, "10.0.0.11");
	assert_int_equal(vn_ipam_alloc(&s, used, 2, &out), 0);
	assert_addr(&out, "10.0.0.50");
	assert_int_equal(vn_ipam_alloc(&s, used, 3, &out), 0);
	assert_addr(&out, "10.0.0.100");
	assert_int_equal(vn_ipam_alloc(&s, used, 4, &out), 0);
	assert_addr(&out, "10.0.0.101");
}

static void test_alloc_enospc(void **state)
{
	struct vn_pool p[] = {P("10.0.0.2-10.0.0.3"), P("10.0.0.6-10.0.0.6")};
	struct vn_subnet_ipam s = subnet("10.0.0.0/24", "10.0.0.1", p, 2);
	struct vn_addr used[] = {A("10.0.0.2"), A("10.0.0.3"), A("10.0.0.6")};
	struct vn_addr out = A("1.2.3.4");

	assert_int_equal(vn_ipam_alloc(&s, used, 3, &out), -ENOSPC);
	assert_addr(&out, "1.2.3.4");
	s.npools = 0;
	assert_int_equal(vn_ipam_alloc(&s, NULL, 0, &out), -ENOSPC);
	/* A pool ending at the very top of the space must not wrap. */
	p[0] = P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	s = subnet("ffff:ffff:ffff:ffff::/64", NULL, p, 1);
	used[0] = p[0].start;
	used[1] = p[0].end;
	assert_int_equal(vn_ipam_alloc(&s, used, 1, &out), 0);
	assert_addr(&out, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(vn_ipam_alloc(&s, used, 2, &out), -ENOSPC);
}

static void test_alloc_large_pool(void **state)
{
	/* A /8 with its first million addresses taken but one. */
	enum { N = 1 << 20 };
	struct vn_pool p[] = {P("10.0.0.2-10.255.255.254")};
	struct vn_subnet_ipam s = subnet("10.0.0.0/8", "10.0.0.1", p, 1);
	struct vn_addr *used = calloc(N, sizeof(*used));
	struct vn_addr out;

	assert_non_null(used);
	for (size_t i = 0; i < N; i++)
		used[i] = (struct vn_addr){AF_INET, 0x0a000002 + i};
	assert_int_equal(vn_ipam_alloc(&s, used, N, &out), 0);
	assert_true(out.v == 0x0a000002 + (vn_u128)N);
	assert_addr(&out, "10.16.0.2");
	/* Punch a hole deep inside. */
	used[777777].v = 0x0a000001;
	qsort(used, N, sizeof(*used), cmp_addr);
	assert_int_equal(vn_ipam_alloc(&s, used, N, &out), 0);
	assert_true(out.v == 0x0a000002 + (vn_u128)777777);
	free(used);
}

static void test_alloc_v6(void **state)
{
	struct vn_pool p[] = {P("2001:db8::2-2001:db8::ffff:ffff:ffff:ffff")};
	struct vn_subnet_ipam s = subnet("2001:db8::/64", "2001:db8::1", p, 1);
	struct vn_addr used[] = {A("2001:db8::1"), A("2001:db8::2"), A("2001:db8::3")};
	struct vn_addr out;

	assert_int_equal(vn_ipam_alloc(&s, used, 3, &out), 0);
	assert_int_equal(out.af, AF_INET6);
	assert_addr(&out, "2001:db8::4");
}

/* ---- fixed addresses --------------------------------------------------- */

static void expect_fixed(const struct vn_subnet_ipam *s, const char *addr, const char *sentence)
{
	struct vn_addr a = A(addr);
	char why[256] = "";

	if (!sentence) {
		assert_int_equal(vn_ipam_check_fixed(s, &a, why, sizeof(why)), 0);
		return;
	}
	assert_int_equal(vn_ipam_check_fixed(s, &a, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, sentence);
}

static void test_check_fixed(void **state)
{
	struct vn_pool p[] = {P("10.0.0.10-10.0.0.20")};
	struct vn_subnet_ipam s = subnet("10.0.0.0/24", "10.0.0.1", p, 1);

	expect_fixed(&s, "10.0.0.15", NULL);
	expect_fixed(&s, "10.0.0.2", NULL);   /* outside the pools is fine */
	expect_fixed(&s, "10.0.0.254", NULL); /* last host */
	expect_fixed(&s, "10.0.0.1", "ip_address 10.0.0.1 is the gateway_ip of 10.0.0.0/24");
	expect_fixed(&s, "10.0.1.1", "ip_address 10.0.1.1 is outside cidr 10.0.0.0/24");
	expect_fixed(&s, "10.0.0.0",
		     "ip_address 10.0.0.0 is not a usable host address in 10.0.0.0/24");
	expect_fixed(&s, "10.0.0.255",
		     "ip_address 10.0.0.255 is not a usable host address in 10.0.0.0/24");
	expect_fixed(&s, "::1", "ip_address ::1 is not of the address family of cidr 10.0.0.0/24");
	/* Without a gateway, its usual address is fair game. */
	s.has_gateway = false;
	expect_fixed(&s, "10.0.0.1", NULL);
	s = subnet("2001:db8::/64", "2001:db8::1", NULL, 0);
	expect_fixed(&s, "2001:db8::ffff:ffff:ffff:ffff", NULL);
	expect_fixed(&s, "2001:db8::",
		     "ip_address 2001:db8:: is not a usable host address in 2001:db8::/64");
	s = subnet("10.0.0.4/31", NULL, NULL, 0);
	expect_fixed(&s, "10.0.0.4", NULL);
	expect_fixed(&s, "10.0.0.5", NULL);
}

/* ---- names ------------------------------------------------------------- */

static void test_name_check(void **state)
{
	char n63[64], n64[65];
	static const char *good[] = {"a", "net0", "my-net_1.2", "A.B", "-x", "_", "x..", "0"};
	static const char *bad[] = {"",	  ".",	 "..",	 ".x",		"a/b",		"a b",
				    " a", "a ",	 "a\tb", "ne\xc3\xa9t", "\xe2\x82\xac", "a:b",
				    "a*", "a\nb"};

	memset(n63, 'a', 63);
	n63[63] = '\0';
	memset(n64, 'b', 64);
	n64[64] = '\0';
	assert_int_equal(vn_name_check(n63), 0);
	assert_int_equal(vn_name_check(n64), -EINVAL);
	assert_int_equal(vn_name_check(NULL), -EINVAL);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (vn_name_check(good[i]) != 0)
			fail_msg("rejected \"%s\"", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vn_name_check(bad[i]) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

/* ---- MACs -------------------------------------------------------------- */

static void test_mac(void **state)
{
	uint8_t m[6] = {0};
	char buf[18];

	assert_int_equal(vn_mac_parse("fa:16:3e:01:ab:cd", m), 0);
	assert_memory_equal(m, ((uint8_t[]){0xfa, 0x16, 0x3e, 0x01, 0xab, 0xcd}), 6);
	vn_mac_format(m, buf, sizeof(buf));
	assert_string_equal(buf, "fa:16:3e:01:ab:cd");

	assert_int_equal(vn_mac_parse("FA:16:3E:0A:BB:Cd", m), 0);
	assert_memory_equal(m, ((uint8_t[]){0xfa, 0x16, 0x3e, 0x0a, 0xbb, 0xcd}), 6);
	vn_mac_format(m, buf, sizeof(buf));
	assert_string_equal(buf, "fa:16:3e:0a:bb:cd");

	/* Locally administered (bit 1) is still unicast. */
	assert_int_equal(vn_mac_parse("02:00:00:00:00:01", m), 0);
	assert_int_equal(m[0], 0x02);
	assert_int_equal(m[5], 0x01);
}

static void test_mac_invalid(void **state)
{
	static const char *bad[] = {
		"01:00:5e:00:00:01", /* multicast */
		"ff:ff:ff:ff:ff:ff", /* broadcast */
		"fb:16:3e:01:ab:cd", /* odd first octet */
		"00:00:00:00:00:00", /* all zero */
		"fa:16:3e:01:ab",     "fa:16:3e:01:ab:cd:ef", "fa-16-3e-01-ab-cd",
		"fa163e01abcd",	      "fa:16:3e:01:ab:c",     "fa:16:3e:1:ab:cde",
		"fa:16:3e:01:ab:cg",  " fa:16:3e:01:ab:cd",   "fa:16:3e:01:ab:cd ",
		"fa:16:3e:01:ab:cd:", "fa::16:3e:01:ab:c",    "",
		"+a:16:3e:01:ab:cd",
	};
	uint8_t m[6] = {1, 2, 3, 4, 5, 6};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vn_mac_parse(bad[i], m) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(vn_mac_parse(NULL, m), -EINVAL);
	assert_memory_equal(m, ((uint8_t[]){1, 2, 3, 4, 5, 6}), 6);
}

/* ---- special ranges ----------------------------------------------------- */

static void expect_addr_special(const char *addr, const char *range)
{
	struct vn_addr a = A(addr);
	const struct vn_special *sp = vn_addr_special(&a);

	if (!range) {
		if (sp)
			fail_msg("%s: unexpected special range %s", addr, sp->range);
		return;
	}
	if (!sp)
		fail_msg("%s: expected special range %s, got none", addr, range);
	assert_string_equal(sp->range, range);
	assert_non_null(sp->what);
}

static void expect_cidr_special(const char *cidr, const char *range)
{
	struct vn_cidr c = C(cidr);
	const struct vn_special *sp = vn_cidr_special(&c);

	if (!range) {
		if (sp)
			fail_msg("%s: unexpected special range %s", cidr, sp->range);
		return;
	}
	if (!sp)
		fail_msg("%s: expected special range %s, got none", cidr, range);
	assert_string_equal(sp->range, range);
}

static void test_addr_special(void **state)
{
	expect_addr_special("0.0.0.0", "0.0.0.0/8");
	expect_addr_special("0.255.255.255", "0.0.0.0/8");
	expect_addr_special("127.0.0.1", "127.0.0.0/8");
	expect_addr_special("127.255.255.254", "127.0.0.0/8");
	expect_addr_special("169.254.169.254", "169.254.0.0/16");
	expect_addr_special("224.0.0.1", "224.0.0.0/4");
	expect_addr_special("239.255.255.255", "224.0.0.0/4");
	expect_addr_special("240.0.0.1", "240.0.0.0/4");
	expect_addr_special("255.255.255.255", "240.0.0.0/4");
	expect_addr_special("::", "::/128");
	expect_addr_special("::1", "::1/128");
	expect_addr_special("::ffff:10.0.0.1", "::ffff:0:0/96");
	expect_addr_special("::10.0.0.1", "::/96");
	expect_addr_special("fe80::1", "fe80::/10");
	expect_addr_special("febf::1", "fe80::/10");
	expect_addr_special("ff02::1", "ff00::/8");
	/* ordinary unicast, including the edges of the ranges */
	expect_addr_special("1.0.0.0", NULL);
	expect_addr_special("126.255.255.255", NULL);
	expect_addr_special("128.0.0.0", NULL);
	expect_addr_special("169.253.255.255", NULL);
	expect_addr_special("169.255.0.0", NULL);
	expect_addr_special("223.255.255.255", NULL);
	expect_addr_special("10.0.0.1", NULL);
	expect_addr_special("172.24.4.1", NULL);
	expect_addr_special("2001:db8::1", NULL);
	expect_addr_special("fd00::1", NULL);
	expect_addr_special("fec0::1", NULL);
	expect_addr_special("::1:0:0:0", NULL);
	expect_addr_special("64:ff9b::1", NULL);
	assert_true(vn_addr_special(&(struct vn_addr){.af = AF_INET6, .v = 1})->link_local ==
		    false);
	assert_true(vn_addr_special(&(struct vn_addr){.af = AF_INET6, .v = A("fe80::1").v})
			    ->link_local);
}

static void test_cidr_special(void **state)
{
	expect_cidr_special("0.0.0.0/0", "0.0.0.0/8");
	expect_cidr_special("0.0.0.0/8", "0.0.0.0/8");
	expect_cidr_special("0.0.0.0/1", "0.0.0.0/8");
	expect_cidr_special("128.0.0.0/1", "169.254.0.0/16");
	expect_cidr_special("192.0.0.0/2", "224.0.0.0/4");
	expect_cidr_special("127.0.0.0/8", "127.0.0.0/8");
	expect_cidr_special("126.0.0.0/7", "127.0.0.0/8");
	expect_cidr_special("127.1.2.0/24", "127.0.0.0/8");
	expect_cidr_special("169.254.0.0/24", "169.254.0.0/16");
	expect_cidr_special("169.0.0.0/8", "169.254.0.0/16");
	expect_cidr_special("224.0.0.0/24", "224.0.0.0/4");
	expect_cidr_special("255.255.255.252/30", "240.0.0.0/4");
	expect_cidr_special("::/0", "::/128");
	expect_cidr_special("::/64", "::/128");
	expect_cidr_special("::ffff:0:0/104", "::ffff:0:0/96");
	expect_cidr_special("8000::/1", "fe80::/10");
	expect_cidr_special("fe80::/64", "fe80::/10");
	expect_cidr_special("ff00::/8", "ff00::/8");
	expect_cidr_special("ff02::/16", "ff00::/8");
	expect_cidr_special("1.0.0.0/8", NULL);
	expect_cidr_special("64.0.0.0/3", NULL);
	expect_cidr_special("128.0.0.0/2", "169.254.0.0/16");
	expect_cidr_special("170.0.0.0/7", NULL);
	expect_cidr_special("10.0.0.0/8", NULL);
	expect_cidr_special("172.24.4.0/24", NULL);
	expect_cidr_special("2000::/3", NULL);
	expect_cidr_special("fd00::/8", NULL);
	expect_cidr_special("fc00::/7", NULL);
	expect_cidr_special("fec0::/10", NULL);
	expect_cidr_special("::1:0:0:0/80", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse_v4),
		cmocka_unit_test(test_addr_parse_v6),
		cmocka_unit_test(test_addr_parse_invalid),
		cmocka_unit_test(test_addr_format),
		cmocka_unit_test(test_addr_cmp),
		cmocka_unit_test(test_cidr_parse_valid),
		cmocka_unit_test(test_cidr_parse_invalid),
		cmocka_unit_test(test_cidr_parse_strictness),
		cmocka_unit_test(test_cidr_format),
		cmocka_unit_test(test_cidr_contains),
		cmocka_unit_test(test_cidr_overlaps),
		cmocka_unit_test(test_cidr_last),
		cmocka_unit_test(test_cidr_hosts),
		cmocka_unit_test(test_cidr_hosts_invalid),
		cmocka_unit_test(test_pool_parse),
		cmocka_unit_test(test_pool_overlap_contains),
		cmocka_unit_test(test_route_parse),
		cmocka_unit_test(test_route_parse_invalid),
		cmocka_unit_test(test_default_gateway),
		cmocka_unit_test(test_default_pools),
		cmocka_unit_test(test_default_pools_empty),
		cmocka_unit_test(test_validate_ok),
		cmocka_unit_test(test_validate_gateway),
		cmocka_unit_test(test_validate_pools),
		cmocka_unit_test(test_validate_cidr_and_truncation),
		cmocka_unit_test(test_alloc_basic),
		cmocka_unit_test(test_alloc_duplicates_and_foreign),
		cmocka_unit_test(test_alloc_crosses_pools),
		cmocka_unit_test(test_alloc_enospc),
		cmocka_unit_test(test_alloc_large_pool),
		cmocka_unit_test(test_alloc_v6),
		cmocka_unit_test(test_check_fixed),
		cmocka_unit_test(test_name_check),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_mac_invalid),
		cmocka_unit_test(test_addr_special),
		cmocka_unit_test(test_cidr_special),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
