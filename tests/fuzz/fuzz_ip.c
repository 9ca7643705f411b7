// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the value parsers of fs/ip.c (address, cidr, pool,
 * route line, MAC, object name) and the IPAM functions on what they accept.
 *
 * The input is one text (up to the first NUL); a second text after the
 * first '\n' is parsed too, for the two-argument functions (overlaps).
 * Besides "no crash, no sanitizer report", it checks properties:
 *   - what a parser accepts formats to a text it accepts again, equal;
 *   - strict and lax cidr parsing agree where both accept;
 *   - a prefix's default gateway and pools pass vn_ipam_validate, and an
 *     address vn_ipam_alloc hands out passes vn_ipam_check_fixed;
 *   - overlap is symmetric; a cidr with no special range holds no special
 *     address at either end.
 * A failed property aborts (libFuzzer saves the input).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vnetfs/ip.h"

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x)) {                                                                        \
			fprintf(stderr, "fuzz_ip: property failed: %s (%s:%d)\n", #x, __FILE__,    \
				__LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void fuzz_addr(const char *s)
{
	char buf[VN_ADDR_STRLEN];
	struct vn_addr a, b;

	if (vn_addr_parse(s, &a))
		return;
	CHECK(a.af == AF_INET || a.af == AF_INET6);
	CHECK(a.af == AF_INET6 || a.v <= 0xffffffffu);
	vn_addr_format(&a, buf, sizeof(buf));
	CHECK(vn_addr_parse(buf, &b) == 0 && vn_addr_eq(&a, &b));
	(void)vn_addr_special(&a);
}

static void fuzz_cidr(const char *s, struct vn_cidr *keep, bool *have)
{
	struct vn_pool pools[2];
	struct vn_addr f, l, gw, got;
	struct vn_cidr st, lax, back;
	char buf[VN_CIDR_STRLEN], why[256];
	int rs = vn_cidr_parse(s, true, &st), rl = vn_cidr_parse(s, false, &lax);
	const struct vn_special *sp;
	size_t n;

	if (rs == 0)
		CHECK(rl == 0 && vn_addr_eq(&st.net, &lax.net) && st.prefix == lax.prefix);
	if (rl)
		return;
	CHECK(lax.prefix >= 0 && lax.prefix <= vn_af_bits(lax.net.af));
	vn_cidr_format(&lax, buf, sizeof(buf));
	CHECK(vn_cidr_parse(buf, true, &back) == 0);
	CHECK(vn_addr_eq(&back.net, &lax.net) && back.prefix == lax.prefix);
	CHECK(vn_cidr_contains(&lax, &lax.net));
	l = vn_cidr_last(&lax);
	CHECK(vn_cidr_contains(&lax, &l) && vn_addr_cmp(&lax.net, &l) <= 0);
	CHECK(vn_cidr_overlaps(&lax, &lax));
	sp = vn_cidr_special(&lax);
	if (!sp)
		CHECK(!vn_addr_special(&lax.net) && !vn_addr_special(&l));
	if (vn_cidr_hosts(&lax, &f, &l) == 0)
		CHECK(vn_cidr_contains(&lax, &f) && vn_cidr_contains(&lax, &l) && f.v <= l.v);
	*keep = lax;
	*have = true;
	if (vn_ipam_default_gateway(&lax, &gw))
		return;
	CHECK(vn_cidr_contains(&lax, &gw));
	/* with the gateway, and without one */
	for (int k = 0; k < 2; k++) {
		struct vn_subnet_ipam ip = {.cidr = lax, .has_gateway = k == 0, .gateway = gw};

		if (vn_ipam_default_pools(&lax, k == 0 ? &gw : NULL, pools, &n))
			continue;
		CHECK(n >= 1 && n <= 2);
		ip.pools = pools;
		ip.npools = n;
		CHECK(vn_ipam_validate(&ip, why, sizeof(why)) == 0);
		if (vn_ipam_alloc(&ip, &gw, 1, &got) == 0) {
			CHECK(!ip.has_gateway || !vn_addr_eq(&got, &gw));
			CHECK(vn_ipam_check_fixed(&ip, &got, why, sizeof(why)) == 0);
		}
	}
}

static void fuzz_pool(const char *s)
{
	char buf[2 * VN_ADDR_STRLEN + 2];
	struct vn_pool p, q;

	if (vn_pool_parse(s, &p))
		return;
	CHECK(p.start.af == p.end.af && p.start.v <= p.end.v);
	CHECK(vn_pool_contains(&p, &p.start) && vn_pool_contains(&p, &p.end));
	CHECK(vn_pool_overlaps(&p, &p));
	vn_pool_format(&p, buf, sizeof(buf));
	CHECK(vn_pool_parse(buf, &q) == 0 && vn_addr_eq(&p.start, &q.start) &&
	      vn_addr_eq(&p.end, &q.end));
}

static void fuzz_route(const char *s)
{
	char d[VN_CIDR_STRLEN], h[VN_ADDR_STRLEN], buf[VN_CIDR_STRLEN + VN_ADDR_STRLEN + 2];
	struct vn_cidr dest, d2;
	struct vn_addr hop, h2;

	if (vn_route_parse(s, &dest, &hop))
		return;
	CHECK(dest.net.af == hop.af);
	vn_cidr_format(&dest, d, sizeof(d));
	vn_addr_format(&hop, h, sizeof(h));
	snprintf(buf, sizeof(buf), "%s %s", d, h);
	CHECK(vn_route_parse(buf, &d2, &h2) == 0);
	CHECK(vn_addr_eq(&dest.net, &d2.net) && dest.prefix == d2.prefix && vn_addr_eq(&hop, &h2));
}

static void fuzz_mac(const char *s)
{
	uint8_t m[6], m2[6];
	char buf[18];

	if (vn_mac_parse(s, m))
		return;
	CHECK(!(m[0] & 1));
	vn_mac_format(m, buf, sizeof(buf));
	CHECK(strlen(buf) == 17);
	CHECK(vn_mac_parse(buf, m2) == 0 && !memcmp(m, m2, 6));
}

static void fuzz_name(const char *s)
{
	size_t n;

	if (vn_name_check(s))
		return;
	n = strlen(s);
	CHECK(n >= 1 && n <= 63 && s[0] != '.' && !strchr(s, '/'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *second;
	struct vn_cidr c1, c2;
	bool h1 = false, h2 = false;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	second = strchr(text, '\n');
	if (second)
		*second++ = '\0';
	fuzz_addr(text);
	fuzz_cidr(text, &c1, &h1);
	fuzz_pool(text);
	fuzz_route(text);
	fuzz_mac(text);
	fuzz_name(text);
	if (second) {
		struct vn_pool p1, p2;

		fuzz_cidr(second, &c2, &h2);
		if (h1 && h2)
			CHECK(vn_cidr_overlaps(&c1, &c2) == vn_cidr_overlaps(&c2, &c1));
		if (vn_pool_parse(text, &p1) == 0 && vn_pool_parse(second, &p2) == 0)
			CHECK(vn_pool_overlaps(&p1, &p2) == vn_pool_overlaps(&p2, &p1));
	}
	free(text);
	return 0;
}
