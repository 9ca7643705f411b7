// SPDX-License-Identifier: MIT
/*
 * Security group rule lines: parse, canonical form, match (pure code; unit
 * tested in tests/unit/test_sgrule.c, fuzzed by tests/fuzz/fuzz_sgrule.c).
 *
 *   DIRECTION [ipv4|ipv6] PROTO [PORT|PORT-PORT|TYPE[/CODE]]
 *             [from CIDR | to CIDR | group NAME]
 *
 * - DIRECTION: ingress or egress. Keywords are case-insensitive; the
 *   canonical form is lower case.
 * - No family: both (unless a CIDR implies one). A CIDR's family is the
 *   rule's: `ipv4 ... from 2001:db8::/32` is refused; the canonical form
 *   leaves the family out when the CIDR says it. 0.0.0.0/0 and ::/0 mean
 *   "anyone of that family": `from 0.0.0.0/0` reads back as `ipv4`.
 * - PROTO: any, icmp, tcp, udp or 0-255 (6 reads back as tcp, 17 as udp,
 *   1 as icmp; 58 is ICMPv6: `ipv6 icmp`). For IPv6, icmp is ICMPv6.
 * - Ports (tcp, udp, sctp 132, udplite 136, dccp 33 only): 1-65535;
 *   `22-22` reads `22`, `1-65535` is left out.
 * - icmp: TYPE (0-255) and optional /CODE (0-255).
 * - `from` goes with ingress, `to` with egress; `group NAME` with either
 *   (the remote end is a member of that group).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "vnetfs/ip.h"
#include "vnetfs/sg.h"

#define MAXTOK 8

static int fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

bool vn_sg_proto_ports(int proto)
{
	return proto == 6 || proto == 17 || proto == 132 || proto == 136 || proto == 33;
}

/* A decimal number in [lo, hi] and nothing else (no sign, no leading
 * zeros but "0", at most 5 digits). */
static int num(const char *s, long lo, long hi, long *out)
{
	long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_proto(const char *t, int *proto)
{
	long v;

	if (!strcasecmp(t, "any"))
		*proto = VN_SG_PROTO_ANY;
	else if (!strcasecmp(t, "icmp"))
		*proto = 1;
	else if (!strcasecmp(t, "tcp"))
		*proto = 6;
	else if (!strcasecmp(t, "udp"))
		*proto = 17;
	else if (num(t, 0, 255, &v) == 0)
		*proto = (int)v;
	else
		return -EINVAL;
	return 0;
}

static bool is_icmp(const struct vn_sgrule *r)
{
	return r->proto == 1 || r->proto == 58;
}

static int parse_ports(const char *t, struct vn_sgrule *r, char *why, size_t wl)
{
	char buf[32];
	char *sep;
	long a, b;

	if (strlen(t) >= sizeof(buf))
		return fail(why, wl, "'%s' is not a port or a range", t);
	snprintf(buf, sizeof(buf), "%s", t);
	if (is_icmp(r)) {
		sep = strchr(buf, '/');
		if (sep)
			*sep++ = '\0';
		if (num(buf, 0, 255, &a) < 0)
			return fail(why, wl, "icmp type '%s' must be a number 0-255", buf);
		b = -1;
		if (sep && num(sep, 0, 255, &b) < 0)
			return fail(why, wl, "icmp code '%s' must be a number 0-255", sep);
		r->pmin = (int)a;
		r->pmax = (int)b;
		return 0;
	}
	if (!vn_sg_proto_ports(r->proto))
		return fail(why, wl, "only tcp, udp, sctp, udplite and dccp rules take ports");
	sep = strchr(buf, '-');
	if (sep)
		*sep++ = '\0';
	if (num(buf, 1, 65535, &a) < 0)
		return fail(why, wl, "port '%s' must be a number 1-65535", buf);
	b = a;
	if (sep && num(sep, 1, 65535, &b) < 0)
		return fail(why, wl, "port '%s' must be a number 1-65535", sep);
	if (b < a)
		return fail(why, wl, "port range %ld-%ld ends before it starts", a, b);
	if (a == 1 && b == 65535)
		a = b = -1; /* every port: the same as none */
	r->pmin = (int)a;
	r->pmax = (int)b;
	return 0;
}

static bool looks_like_ports(const char *t)
{
	return (t[0] >= '0' && t[0] <= '9');
}

int vn_sgrule_parse(const char *line, struct vn_sgrule *r, char *why, size_t wl)
{
	char buf[VN_SG_LINE_MAX + 1];
	char *tok[MAXTOK + 1];
	size_t n = 0, i = 0;
	char *save = NULL, *p;

	memset(r, 0, sizeof(*r));
	r->pmin = r->pmax = -1;
	if (!line)
		return fail(why, wl, "an empty rule");
	if (strlen(line) > VN_SG_LINE_MAX)
		return fail(why, wl, "a rule is at most %d bytes", VN_SG_LINE_MAX);
	for (const char *q = line; *q; q++)
		if ((unsigned char)*q < 0x20 && *q != '\t')
			return fail(why, wl, "a rule has no control characters");
	memcpy(buf, line, strlen(line) + 1); /* fits: checked above */
	for (p = strtok_r(buf, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
		if (n == MAXTOK)
			return fail(why, wl, "too many words in the rule");
		tok[n++] = p;
	}
	tok[n] = NULL;
	if (n == 0)
		return fail(why, wl, "an empty rule");

	if (!strcasecmp(tok[i], "ingress"))
		r->dir = VN_SG_INGRESS;
	else if (!strcasecmp(tok[i], "egress"))
		r->dir = VN_SG_EGRESS;
	else
		return fail(why, wl, "a rule starts with ingress or egress, not '%s'", tok[i]);
	i++;
	if (i < n && !strcasecmp(tok[i], "ipv4")) {
		r->af = AF_INET;
		i++;
	} else if (i < n && !strcasecmp(tok[i], "ipv6")) {
		r->af = AF_INET6;
		i++;
	}
	if (i == n)
		return fail(why, wl, "the protocol is missing (any, icmp, tcp, udp or 0-255)");
	if (parse_proto(tok[i], &r->proto) < 0)
		return fail(why, wl, "'%s' is not a protocol (any, icmp, tcp, udp or 0-255)",
			    tok[i]);
	i++;
	if (r->proto == 58) {
		if (r->af == AF_INET)
			return fail(why, wl, "protocol 58 is ICMPv6: not with ipv4");
		r->af = AF_INET6;
		r->proto = 1; /* icmp of IPv6 is ICMPv6: one spelling, one value */
	}
	if (i < n && looks_like_ports(tok[i])) {
		if (r->proto == VN_SG_PROTO_ANY)
			return fail(why, wl, "a rule for any protocol takes no port");
		if (parse_ports(tok[i], r, why, wl) < 0)
			return -EINVAL;
		i++;
	}
	if (i < n) {
		const char *kw = tok[i];

		bool known = !strcasecmp(kw, "from") || !strcasecmp(kw, "to") ||
			     !strcasecmp(kw, "group");

		if (!known && (looks_like_ports(kw) || kw[0] == '/'))
			return fail(why, wl, "'%s' is in the wrong place", kw);
		if (!known)
			return fail(why, wl, "'%s' is not 'from', 'to' or 'group'", kw);
		if (i + 1 >= n)
			return fail(why, wl, "'%s' needs a value after it", kw);
		if (!strcasecmp(kw, "from") || !strcasecmp(kw, "to")) {
			bool from = !strcasecmp(kw, "from");

			if (from && r->dir == VN_SG_EGRESS)
				return fail(why, wl,
					    "an egress rule names its peer with 'to', not 'from'");
			if (!from && r->dir == VN_SG_INGRESS)
				return fail(why, wl,
					    "an ingress rule names its peer with 'from', not 'to'");
			if (vn_cidr_parse(tok[i + 1], true, &r->cidr) < 0) {
				struct vn_cidr lax;

				if (vn_cidr_parse(tok[i + 1], false, &lax) == 0) {
					char hint[VN_CIDR_STRLEN];

					vn_cidr_format(&lax, hint, sizeof(hint));
					return fail(why, wl,
						    "'%s' has host bits set (did you mean %s?)",
						    tok[i + 1], hint);
				}
				return fail(why, wl, "'%s' is not a CIDR (address/prefix)",
					    tok[i + 1]);
			}
			if (r->af && r->af != r->cidr.net.af)
				return fail(why, wl, "%s is not an %s prefix", tok[i + 1],
					    r->af == AF_INET ? "ipv4" : "ipv6");
			r->af = r->cidr.net.af;
			/* the whole family is what the family alone says */
			r->remote = r->cidr.prefix == 0 ? VN_SG_ANY : VN_SG_CIDR;
		} else if (!strcasecmp(kw, "group")) {
			if (vn_name_check(tok[i + 1]) < 0)
				return fail(why, wl, "'%s' is not a security group name",
					    tok[i + 1]);
			r->remote = VN_SG_GROUP;
			memcpy(r->group, tok[i + 1], strlen(tok[i + 1]) + 1); /* a name: < 64 */
		}
		i += 2;
	}
	if (i < n)
		return fail(why, wl, "'%s' after the end of the rule", tok[i]);
	return 0;
}

void vn_sgrule_format(const struct vn_sgrule *r, char *buf, size_t len)
{
	char proto[8], ports[24] = "", remote[128] = "";
	const char *fam = "";

	if (r->remote != VN_SG_CIDR && r->af == AF_INET)
		fam = " ipv4";
	if (r->remote != VN_SG_CIDR && r->af == AF_INET6)
		fam = " ipv6";
	switch (r->proto) {
	case VN_SG_PROTO_ANY:
		snprintf(proto, sizeof(proto), "any");
		break;
	case 1:
	case 58:
		snprintf(proto, sizeof(proto), "icmp");
		break;
	case 6:
		snprintf(proto, sizeof(proto), "tcp");
		break;
	case 17:
		snprintf(proto, sizeof(proto), "udp");
		break;
	default:
		snprintf(proto, sizeof(proto), "%d", r->proto);
	}
	if (is_icmp(r) && r->pmin >= 0) {
		if (r->pmax >= 0)
			snprintf(ports, sizeof(ports), " %d/%d", r->pmin, r->pmax);
		else
			snprintf(ports, sizeof(ports), " %d", r->pmin);
	} else if (!is_icmp(r) && r->pmin >= 0) {
		if (r->pmin == r->pmax)
			snprintf(ports, sizeof(ports), " %d", r->pmin);
		else
			snprintf(ports, sizeof(ports), " %d-%d", r->pmin, r->pmax);
	}
	if (r->remote == VN_SG_CIDR) {
		char c[VN_CIDR_STRLEN];

		vn_cidr_format(&r->cidr, c, sizeof(c));
		snprintf(remote, sizeof(remote), " %s %s", r->dir == VN_SG_INGRESS ? "from" : "to",
			 c);
	} else if (r->remote == VN_SG_GROUP) {
		snprintf(remote, sizeof(remote), " group %s", r->group);
	}
	snprintf(buf, len, "%s%s %s%s%s", r->dir == VN_SG_INGRESS ? "ingress" : "egress", fam,
		 proto, ports, remote);
}

bool vn_sgrule_match(const struct vn_sgrule *r, const struct vn_sg_flow *f,
		     bool (*member)(void *arg, const char *gid, const struct vn_addr *a), void *arg)
{
	const struct vn_addr *peer = r->dir == VN_SG_INGRESS ? &f->src : &f->dst;
	int fproto = f->proto;

	if (r->af && r->af != f->src.af)
		return false;
	if (r->proto != VN_SG_PROTO_ANY) {
		int want = r->proto;

		if (want == 1 && f->src.af == AF_INET6)
			want = 58; /* icmp of an IPv6 flow is ICMPv6 */
		if (want != fproto)
			return false;
		if (vn_sg_proto_ports(want) && r->pmin >= 0 &&
		    (f->dport < r->pmin || f->dport > r->pmax))
			return false;
		if ((want == 1 || want == 58) && r->pmin >= 0 &&
		    (f->itype != r->pmin || (r->pmax >= 0 && f->icode != r->pmax)))
			return false;
	}
	switch (r->remote) {
	case VN_SG_CIDR:
		return vn_cidr_contains(&r->cidr, peer);
	case VN_SG_GROUP:
		return member && member(arg, r->gid, peer);
	default:
		return true;
	}
}
