// SPDX-License-Identifier: MIT
/*
 * Addresses, prefixes and IPAM: see include/vnetfs/ip.h.
 *
 * Every address is a host-order 128-bit integer (IPv4 in the low 32 bits),
 * so ranges and "next address" are plain integer arithmetic. Text goes in
 * through inet_pton and out through inet_ntop; everything here is a pure
 * function of its arguments.
 */
#include "vnetfs/ip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- bits and masks ---------------------------------------------------- */

int vn_af_bits(int af)
{
	if (af == AF_INET)
		return 32;
	if (af == AF_INET6)
		return 128;
	return 0;
}

static bool valid_prefix(int af, int prefix)
{
	int bits = vn_af_bits(af);

	return bits && prefix >= 0 && prefix <= bits;
}

/*
 * Mask of the host bits of a prefix. A shift by the full width of the type
 * (128) is undefined behaviour, so the no-network-bits case (IPv6 /0) is
 * taken apart; IPv4 /0 shifts by 32 only, which is fine in 128 bits. A
 * full-length prefix has no host bits at all.
 */
static vn_u128 host_mask(int af, int prefix)
{
	int n = vn_af_bits(af) - prefix;

	if (n <= 0)
		return 0;
	if (n >= 128)
		return ~(vn_u128)0;
	return ((vn_u128)1 << n) - 1;
}

static bool valid_cidr(const struct vn_cidr *c)
{
	return valid_prefix(c->net.af, c->prefix) &&
	       (c->net.v & host_mask(c->net.af, c->prefix)) == 0;
}

/* ---- parsing ----------------------------------------------------------- */

/* Network-order bytes to a host-order number, most significant first. */
static vn_u128 from_bytes(const unsigned char *b, size_t n)
{
	vn_u128 v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

static void to_bytes(vn_u128 v, unsigned char *b, size_t n)
{
	for (size_t i = n; i-- > 0; v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
}

int vn_addr_parse(const char *s, struct vn_addr *out)
{
	unsigned char b[16];

	if (!s || !out)
		return -EINVAL;
	/* A colon means IPv6; otherwise only a dotted quad will do. */
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, b) != 1)
			return -EINVAL;
		*out = (struct vn_addr){.af = AF_INET6, .v = from_bytes(b, 16)};
	} else {
		if (inet_pton(AF_INET, s, b) != 1)
			return -EINVAL;
		*out = (struct vn_addr){.af = AF_INET, .v = from_bytes(b, 4)};
	}
	return 0;
}

/* Parse s[0..n) as an address (s need not be NUL-terminated there). */
static int addr_parse_n(const char *s, size_t n, struct vn_addr *out)
{
	char buf[VN_ADDR_STRLEN];

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return vn_addr_parse(buf, out);
}

/* Decimal prefix length: digits only, no sign, no leading zero but "0". */
static int prefix_parse(const char *s, int af, int *out)
{
	size_t n = strlen(s);
	int v = 0;

	if (n == 0 || n > 3 || (s[0] == '0' && n > 1))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (!valid_prefix(af, v))
		return -EINVAL;
	*out = v;
	return 0;
}

int vn_cidr_parse(const char *s, bool strict, struct vn_cidr *out)
{
	struct vn_cidr c;
	const char *slash;
	vn_u128 hm;

	if (!s || !out)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash || addr_parse_n(s, (size_t)(slash - s), &c.net) ||
	    prefix_parse(slash + 1, c.net.af, &c.prefix))
		return -EINVAL;
	hm = host_mask(c.net.af, c.prefix);
	if (strict && (c.net.v & hm))
		return -EINVAL;
	c.net.v &= ~hm;
	*out = c;
	return 0;
}

int vn_pool_parse(const char *s, struct vn_pool *out)
{
	struct vn_pool p;
	const char *dash;

	if (!s || !out)
		return -EINVAL;
	/* Neither family's text contains '-', so the first one splits. */
	dash = strchr(s, '-');
	if (!dash || addr_parse_n(s, (size_t)(dash - s), &p.start) ||
	    vn_addr_parse(dash + 1, &p.end))
		return -EINVAL;
	if (p.start.af != p.end.af || p.start.v > p.end.v)
		return -EINVAL;
	*out = p;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int vn_route_parse(const char *s, struct vn_cidr *dest, struct vn_addr *nexthop)
{
	char buf[VN_CIDR_STRLEN];
	struct vn_cidr d;
	struct vn_addr nh;
	size_t n;

	if (!s || !dest || !nexthop)
		return -EINVAL;
	for (n = 0; s[n] && !is_blank(s[n]); n++)
		;
	if (n == 0 || n >= sizeof(buf) || !s[n])
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	while (is_blank(s[n]))
		n++;
	/* vn_addr_parse rejects an empty or blank-trailed next hop. */
	if (vn_cidr_parse(buf, true, &d) || vn_addr_parse(s + n, &nh))
		return -EINVAL;
	if (nh.af != d.net.af)
		return -EINVAL;
	*dest = d;
	*nexthop = nh;
	return 0;
}

/* ---- formatting -------------------------------------------------------- */

/* An address of no family formats as the empty string. */
static void addr_text(const struct vn_addr *a, char out[VN_ADDR_STRLEN])
{
	unsigned char b[16];
	int bytes = vn_af_bits(a->af) / 8;

	out[0] = '\0';
	if (!bytes)
		return;
	to_bytes(a->v, b, (size_t)bytes);
	if (!inet_ntop(a->af, b, out, VN_ADDR_STRLEN))
		out[0] = '\0';
}

void vn_addr_format(const struct vn_addr *a, char *buf, size_t len)
{
	char t[VN_ADDR_STRLEN];

	if (!buf || !len)
		return;
	addr_text(a, t);
	snprintf(buf, len, "%s", t);
}

void vn_cidr_format(const struct vn_cidr *c, char *buf, size_t len)
{
	char t[VN_ADDR_STRLEN];

	if (!buf || !len)
		return;
	addr_text(&c->net, t);
	snprintf(buf, len, "%s/%d", t, c->prefix);
}

void vn_pool_format(const struct vn_pool *p, char *buf, size_t len)
{
	char a[VN_ADDR_STRLEN], b[VN_ADDR_STRLEN];

	if (!buf || !len)
		return;
	addr_text(&p->start, a);
	addr_text(&p->end, b);
	snprintf(buf, len, "%s-%s", a, b);
}

/* ---- comparisons and ranges ------------------------------------------- */

/* Orders by family first, then by value. */
int vn_addr_cmp(const struct vn_addr *a, const struct vn_addr *b)
{
	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	if (a->v != b->v)
		return a->v < b->v ? -1 : 1;
	return 0;
}

bool vn_addr_eq(const struct vn_addr *a, const struct vn_addr *b)
{
	return vn_addr_cmp(a, b) == 0;
}

bool vn_cidr_contains(const struct vn_cidr *c, const struct vn_addr *a)
{
	vn_u128 nm;

	if (a->af != c->net.af || !valid_prefix(c->net.af, c->prefix))
		return false;
	nm = ~host_mask(c->net.af, c->prefix);
	return (a->v & nm) == (c->net.v & nm);
}

/* Prefixes nest: two overlap iff the shorter one holds the other's net. */
bool vn_cidr_overlaps(const struct vn_cidr *a, const struct vn_cidr *b)
{
	if (a->prefix <= b->prefix)
		return vn_cidr_contains(a, &b->net);
	return vn_cidr_contains(b, &a->net);
}

struct vn_addr vn_cidr_last(const struct vn_cidr *c)
{
	struct vn_addr a = c->net;

	if (valid_prefix(c->net.af, c->prefix))
		a.v |= host_mask(c->net.af, c->prefix);
	return a;
}

int vn_cidr_hosts(const struct vn_cidr *c, struct vn_addr *first, struct vn_addr *last)
{
	struct vn_addr f, l;
	int bits = vn_af_bits(c->net.af);

	if (!valid_prefix(c->net.af, c->prefix))
		return -EINVAL;
	f = c->net;
	f.v &= ~host_mask(c->net.af, c->prefix);
	l = vn_cidr_last(c);
	/* IPv4 /31 and /32, IPv6 /127 and /128: every address is a host. */
	if (c->prefix < bits - 1) {
		f.v++; /* network address / subnet-router anycast */
		if (c->net.af == AF_INET)
			l.v--; /* broadcast */
	}
	if (f.v > l.v)
		return -EINVAL;
	*first = f;
	*last = l;
	return 0;
}

bool vn_pool_overlaps(const struct vn_pool *a, const struct vn_pool *b)
{
	return a->start.af == b->start.af && a->start.v <= b->end.v && b->start.v <= a->end.v;
}

bool vn_pool_contains(const struct vn_pool *p, const struct vn_addr *a)
{
	return a->af == p->start.af && p->start.v <= a->v && a->v <= p->end.v;
}

/* ---- IPAM -------------------------------------------------------------- */

int vn_ipam_default_gateway(const struct vn_cidr *c, struct vn_addr *gw)
{
	struct vn_addr last;

	return vn_cidr_hosts(c, gw, &last);
}

int vn_ipam_default_pools(const struct vn_cidr *c, const struct vn_addr *gw, struct vn_pool out[2],
			  size_t *n)
{
	struct vn_addr first, last;
	size_t k = 0;

	if (vn_cidr_hosts(c, &first, &last))
		return -EINVAL;
	if (gw && gw->af != first.af)
		return -EINVAL;
	if (!gw || gw->v < first.v || gw->v > last.v) {
		out[k++] = (struct vn_pool){first, last};
	} else {
		/* The gateway cuts [first, last] into what lies either side. */
		if (gw->v > first.v)
			out[k++] = (struct vn_pool){first, {gw->af, gw->v - 1}};
		if (gw->v < last.v)
			out[k++] = (struct vn_pool){{gw->af, gw->v + 1}, last};
	}
	if (k == 0)
		return -EINVAL;
	*n = k;
	return 0;
}

__attribute__((format(printf, 3, 4))) static int say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Is a an address the subnet may hand out (or use as gateway)? */
static bool usable_host(const struct vn_cidr *c, const struct vn_addr *a)
{
	struct vn_addr f, l;

	return !vn_cidr_hosts(c, &f, &l) && a->af == f.af && f.v <= a->v && a->v <= l.v;
}

/*
 * Where a stands with respect to the subnet, as a sentence about "what"
 * (e.g. "gateway_ip"); 0 if it is a usable host.
 */
static int check_host(const struct vn_cidr *c, const char *cs, const char *what,
		      const struct vn_addr *a, char *why, size_t whylen)
{
	char as[VN_ADDR_STRLEN];

	addr_text(a, as);
	if (a->af != c->net.af)
		return say(why, whylen, "%s %s is not of the address family of cidr %s", what, as,
			   cs);
	if (!vn_cidr_contains(c, a))
		return say(why, whylen, "%s %s is outside cidr %s", what, as, cs);
	if (!usable_host(c, a))
		return say(why, whylen, "%s %s is not a usable host address in %s", what, as, cs);
	return 0;
}

static int check_pool(const struct vn_cidr *c, const char *cs, const struct vn_pool *p, char *why,
		      size_t whylen)
{
	char ps[2 * VN_ADDR_STRLEN];

	vn_pool_format(p, ps, sizeof(ps));
	if (p->start.af != c->net.af || p->end.af != c->net.af)
		return say(why, whylen,
			   "allocation pool %s is not of the address family of cidr %s", ps, cs);
	if (p->start.v > p->end.v)
		return say(why, whylen, "allocation pool %s starts after its end", ps);
	if (!vn_cidr_contains(c, &p->start) || !vn_cidr_contains(c, &p->end))
		return say(why, whylen, "allocation pool %s is outside cidr %s", ps, cs);
	/* Both ends usable means everything between them is. */
	if (!usable_host(c, &p->start) || !usable_host(c, &p->end))
		return say(why, whylen,
			   "allocation pool %s includes an address that is not a usable host in %s",
			   ps, cs);
	return 0;
}

static int check_overlaps(const struct vn_subnet_ipam *s, char *why, size_t whylen)
{
	char a[2 * VN_ADDR_STRLEN], b[2 * VN_ADDR_STRLEN];

	for (size_t i = 0; i < s->npools; i++) {
		for (size_t j = i + 1; j < s->npools; j++) {
			if (!vn_pool_overlaps(&s->pools[i], &s->pools[j]))
				continue;
			vn_pool_format(&s->pools[i], a, sizeof(a));
			vn_pool_format(&s->pools[j], b, sizeof(b));
			return say(why, whylen, "allocation pools %s and %s overlap", a, b);
		}
	}
	return 0;
}

static int check_gateway_not_pooled(const struct vn_subnet_ipam *s, char *why, size_t whylen)
{
	char gs[VN_ADDR_STRLEN], ps[2 * VN_ADDR_STRLEN];

	for (size_t i = 0; i < s->npools; i++) {
		if (!vn_pool_contains(&s->pools[i], &s->gateway))
			continue;
		addr_text(&s->gateway, gs);
		vn_pool_format(&s->pools[i], ps, sizeof(ps));
		return say(why, whylen, "gateway_ip %s is inside allocation pool %s", gs, ps);
	}
	return 0;
}

int vn_ipam_validate(const struct vn_subnet_ipam *s, char *why, size_t whylen)
{
	char cs[VN_CIDR_STRLEN];
	int r;

	vn_cidr_format(&s->cidr, cs, sizeof(cs));
	if (!valid_cidr(&s->cidr))
		return say(why, whylen, "cidr %s is not a valid network", cs);
	if (s->npools && !s->pools)
		return say(why, whylen, "allocation pools of %s are missing", cs);
	if (s->has_gateway) {
		r = check_host(&s->cidr, cs, "gateway_ip", &s->gateway, why, whylen);
		if (r)
			return r;
	}
	for (size_t i = 0; i < s->npools; i++) {
		r = check_pool(&s->cidr, cs, &s->pools[i], why, whylen);
		if (r)
			return r;
	}
	r = check_overlaps(s, why, whylen);
	if (!r && s->has_gateway)
		r = check_gateway_not_pooled(s, why, whylen);
	return r;
}

/* Index of the first used[] entry not below a (used[] sorted ascending). */
static size_t lower_bound(const struct vn_addr *used, size_t nused, const struct vn_addr *a)
{
	size_t lo = 0, hi = nused;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (vn_addr_cmp(&used[mid], a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Lowest free address of one pool: binary-search to the pool start, then
 * walk used[] alongside the candidate. The walk costs the number of used
 * entries met (duplicates included), never the size of the pool.
 */
static bool pool_first_free(const struct vn_pool *p, const struct vn_addr *used, size_t nused,
			    struct vn_addr *out)
{
	struct vn_addr cand = p->start;
	size_t i = lower_bound(used, nused, &cand);

	for (; i < nused; i++) {
		int d = vn_addr_cmp(&used[i], &cand);

		if (d > 0)
			break;
		if (d < 0)
			continue; /* a duplicate of an address already passed */
		if (cand.v == p->end.v)
			return false; /* also guards the increment's overflow */
		cand.v++;
	}
	*out = cand;
	return true;
}

/* Index of the pool with the smallest (start, index) after prev, or npools. */
static size_t next_pool(const struct vn_subnet_ipam *s, size_t prev)
{
	size_t best = s->npools;

	for (size_t i = 0; i < s->npools; i++) {
		const struct vn_addr *a = &s->pools[i].start;
		int d = prev < s->npools ? vn_addr_cmp(a, &s->pools[prev].start) : 1;

		if (d < 0 || (d == 0 && i <= prev))
			continue;
		if (best == s->npools || vn_addr_cmp(a, &s->pools[best].start) < 0)
			best = i;
	}
	return best;
}

int vn_ipam_alloc(const struct vn_subnet_ipam *s, const struct vn_addr *used, size_t nused,
		  struct vn_addr *out)
{
	for (size_t i = next_pool(s, s->npools); i < s->npools; i = next_pool(s, i)) {
		const struct vn_pool *p = &s->pools[i];

		/* A malformed pool (validate reports it) offers nothing. */
		if (p->start.af != p->end.af || p->start.v > p->end.v)
			continue;
		if (pool_first_free(p, used, nused, out))
			return 0;
	}
	return -ENOSPC;
}

int vn_ipam_check_fixed(const struct vn_subnet_ipam *s, const struct vn_addr *a, char *why,
			size_t whylen)
{
	char cs[VN_CIDR_STRLEN], as[VN_ADDR_STRLEN];
	int r;

	vn_cidr_format(&s->cidr, cs, sizeof(cs));
	if (!valid_cidr(&s->cidr))
		return say(why, whylen, "cidr %s is not a valid network", cs);
	r = check_host(&s->cidr, cs, "ip_address", a, why, whylen);
	if (r)
		return r;
	if (s->has_gateway && vn_addr_eq(a, &s->gateway)) {
		addr_text(a, as);
		return say(why, whylen, "ip_address %s is the gateway_ip of %s", as, cs);
	}
	return 0;
}

/* ---- special ranges ---------------------------------------------------- */

/* Most specific first, so an address gets the name of its own range. */
static const struct {
	int af;
	vn_u128 net;
	int prefix;
	struct vn_special s;
} special[] = {
	{AF_INET, 0x00000000u, 8, {"0.0.0.0/8", "\"this network\"", false}},
	{AF_INET, 0x7f000000u, 8, {"127.0.0.0/8", "loopback", false}},
	{AF_INET, 0xa9fe0000u, 16, {"169.254.0.0/16", "link-local", true}},
	{AF_INET, 0xe0000000u, 4, {"224.0.0.0/4", "multicast", false}},
	{AF_INET, 0xf0000000u, 4, {"240.0.0.0/4", "reserved, with the broadcast address", false}},
	{AF_INET6, 0, 128, {"::/128", "unspecified", false}},
	{AF_INET6, 1, 128, {"::1/128", "loopback", false}},
	{AF_INET6, (vn_u128)0xffff << 32, 96, {"::ffff:0:0/96", "IPv4-mapped", false}},
	{AF_INET6, 0, 96, {"::/96", "IPv4-compatible, deprecated", false}},
	{AF_INET6, (vn_u128)0xfe80 << 112, 10, {"fe80::/10", "link-local", true}},
	{AF_INET6, (vn_u128)0xff << 120, 8, {"ff00::/8", "multicast", false}},
};

const struct vn_special *vn_addr_special(const struct vn_addr *a)
{
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		struct vn_cidr r = {{special[i].af, special[i].net}, special[i].prefix};

		if (vn_cidr_contains(&r, a))
			return &special[i].s;
	}
	return NULL;
}

const struct vn_special *vn_cidr_special(const struct vn_cidr *c)
{
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		struct vn_cidr r = {{special[i].af, special[i].net}, special[i].prefix};

		if (valid_prefix(c->net.af, c->prefix) && vn_cidr_overlaps(&r, c))
			return &special[i].s;
	}
	return NULL;
}

/* ---- names and MACs ---------------------------------------------------- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

int vn_name_check(const char *name)
{
	size_t n;

	if (!name)
		return -EINVAL;
	n = strnlen(name, 64);
	/* The leading-dot rule also rules out "." and "..". */
	if (n == 0 || n > 63 || name[0] == '.')
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!name_char(name[i]))
			return -EINVAL;
	return 0;
}

/* Value of a hex digit, or -1 (no locale involved, unlike isxdigit). */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vn_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t m[6];

	if (!s || !mac || strnlen(s, 18) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *g = s + 3 * i;
		int hi = hexval(g[0]), lo = hexval(g[1]);

		if (hi < 0 || lo < 0 || (i < 5 && g[2] != ':'))
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	/* Unicast only: the I/G bit (low bit of the first octet) is clear. */
	if ((m[0] & 1) || !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return -EINVAL;
	memcpy(mac, m, sizeof(m));
	return 0;
}

void vn_mac_format(const uint8_t mac[6], char *buf, size_t len)
{
	if (!buf || !len)
		return;
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}
