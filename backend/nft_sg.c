// SPDX-License-Identifier: MIT
/*
 * Security group enforcement in the daemon's namespace (libnftnl + libmnl;
 * the API is in include/vnetfs/sg.h, the design in docs/design-notes.md).
 *
 * Ports are veths on Linux bridges here. Conntrack does not exist in the
 * bridge family on this kernel, but br_netfilter (on in every netns)
 * passes bridged IPv4 and IPv6 through the inet hooks, where the in/out
 * devices are the bridge itself. So, like platform/mark.nft:
 *
 *   table bridge vnetfs_sg
 *     map pin  { ifname : verdict }   prerouting -300: iifname vmap @pin
 *     map pout { ifname : verdict }   forward    -200: oifname vmap @pout
 *     chain p_DEV: meta mark set IDX; anti-spoofing (MAC, ARP, IPs); drop
 *     chain o_DEV: meta mark set meta mark & 0xffff | IDX << 16
 *   table inet vnetfs_sg
 *     map eg { mark : verdict }  forward 0 and input 0:
 *             ct state established,related accept; meta mark & 0xffff vmap @eg
 *     map ig { mark : verdict }  forward 10:
 *             ct state established,related accept; meta mark & 0xffff0000 vmap @ig
 *     chain e_DEV / i_DEV: ct state invalid drop; DHCP, ND; jump g_GID_e ...; drop
 *     chain g_GID_e / g_GID_i: six fixed rules looking packets up in the
 *             group's rule sets g_GID_{i,e}{a,p,c}{4,6} (a rule is set
 *             elements, see "groups" below), then its remote-group rules
 *     set m4_GID, m6_GID: the group's members' addresses
 *
 * Accept in one base chain lets the packet on to the next base chain of
 * the hook, so a packet between two filtered ports passes the sender's
 * egress (priority 0) and then the receiver's ingress (priority 10).
 * Every change is one batch; a rule, member or port change touches only
 * its own chains, map entries or set elements.
 */
#include "vnetfs/sg.h"

#include "ns_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter_bridge.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#ifndef IFNAMSIZ
#define IFNAMSIZ 16
#endif
#define SG_TABLE "vnetfs_sg"
#define MSG_ROOM 8192

/* nftables' datatype numbers, so that `nft list` prints the keys well */
#define TYPE_VERDICT 1
#define TYPE_IPADDR 7
#define TYPE_IP6ADDR 8
#define TYPE_MARK 19
#define TYPE_IFNAME 41
#define TYPE_CT_ZONE 4 /* integer */

struct vn_sg_batch {
	char *buf;
	size_t len, cap;
	size_t nmsg;
	int err;
};

struct vn_sg_batch *vn_sg_batch_new(void)
{
	return calloc(1, sizeof(struct vn_sg_batch));
}

void vn_sg_batch_free(struct vn_sg_batch *b)
{
	if (!b)
		return;
	free(b->buf);
	free(b);
}

size_t vn_sg_batch_count(const struct vn_sg_batch *b)
{
	return b ? b->nmsg : 0;
}

static char *cur(struct vn_sg_batch *b)
{
	if (b->err)
		return NULL;
	if (b->cap - b->len < MSG_ROOM) {
		size_t ncap = b->cap ? b->cap * 2 : 8 * MSG_ROOM;
		char *n = realloc(b->buf, ncap);

		if (!n) {
			b->err = -ENOMEM;
			return NULL;
		}
		memset(n + b->cap, 0, ncap - b->cap);
		b->buf = n;
		b->cap = ncap;
	}
	return b->buf + b->len;
}

static void done(struct vn_sg_batch *b, struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_len > MSG_ROOM)
		abort();
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->nmsg++;
}

static uint16_t fam_of(bool bridge)
{
	return bridge ? NFPROTO_BRIDGE : NFPROTO_INET;
}

/* ---- tables, chains, sets ---------------------------------------------- */

static void m_table(struct vn_sg_batch *b, bool bridge, uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	char *p = cur(b);

	if (!t || !p) {
		b->err = -ENOMEM;
		nftnl_table_free(t);
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, SG_TABLE);
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(p, type, fam_of(bridge), flags, 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	done(b, nlh);
}

/* hook < 0: a regular chain. */
static void m_chain(struct vn_sg_batch *b, bool bridge, uint16_t type, const char *name, int hook,
		    int prio)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	char *p = cur(b);

	if (!ch || !p) {
		b->err = -ENOMEM;
		nftnl_chain_free(ch);
		return;
	}
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, SG_TABLE);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, name);
	if (hook >= 0 && type == NFT_MSG_NEWCHAIN) {
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(
		p, type, fam_of(bridge), type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0, 0);
	nftnl_chain_nlmsg_build_payload(nlh, ch);
	nftnl_chain_free(ch);
	done(b, nlh);
}

/* Every rule of a chain goes (a DELRULE without a handle). */
static void m_flush(struct vn_sg_batch *b, bool bridge, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	char *p = cur(b);

	if (!r || !p) {
		b->err = -ENOMEM;
		nftnl_rule_free(r);
		return;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, SG_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_DELRULE, fam_of(bridge), 0, 0);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	done(b, nlh);
}

static void m_set2(struct vn_sg_batch *b, bool bridge, uint16_t type, const char *name,
		   uint32_t keytype, uint32_t keylen, bool vmap, uint32_t dlen);

static void m_set(struct vn_sg_batch *b, bool bridge, uint16_t type, const char *name,
		  uint32_t keytype, uint32_t keylen, bool vmap)
{
	m_set2(b, bridge, type, name, keytype, keylen, vmap, 0);
}

/* dlen > 0: a data map (values of dlen bytes) */
static void m_set2(struct vn_sg_batch *b, bool bridge, uint16_t type, const char *name,
		   uint32_t keytype, uint32_t keylen, bool vmap, uint32_t dlen)
{
	struct nftnl_set *s = nftnl_set_alloc();
	char *p = cur(b);

	if (!s || !p) {
		b->err = -ENOMEM;
		nftnl_set_free(s);
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, SG_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	if (type == NFT_MSG_NEWSET) {
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, fam_of(bridge));
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, keytype);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, keylen);
		nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
		if (vmap) {
			nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
			nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		} else if (dlen) {
			nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP);
			nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, TYPE_CT_ZONE);
			nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, dlen);
		}
	}
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(p, type, fam_of(bridge),
						     type == NFT_MSG_NEWSET ? NLM_F_CREATE : 0, 0);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	done(b, nlh);
}

/* One element of set, added or deleted; with kend, the range key ..
 * kend (a concatenated interval set); with chain, a vmap element
 * `key : jump chain`; with val, a data map element `key : value`. */
static void m_elem_of(struct vn_sg_batch *b, bool bridge, bool add, const char *set,
		      const void *key, const void *kend, uint32_t klen, const char *chain,
		      const void *val, uint32_t vlen)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	char *p = cur(b);

	if (!s || !e || !p) {
		b->err = -ENOMEM;
		nftnl_set_free(s);
		nftnl_set_elem_free(e);
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, SG_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, klen);
	if (kend)
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, kend, klen);
	if (chain && add) {
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
		nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
	}
	if (val && add)
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, val, vlen);
	nftnl_set_elem_add(s, e); /* the set owns it now */
	struct nlmsghdr *nlh =
		nftnl_nlmsg_build_hdr(p, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
				      fam_of(bridge), add ? NLM_F_CREATE : 0, 0);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	done(b, nlh);
}

/* One element; chain non-NULL: a vmap element `key : jump chain`. */
static void m_elem(struct vn_sg_batch *b, bool bridge, bool add, const char *set, const void *key,
		   uint32_t klen, const char *chain)
{
	m_elem_of(b, bridge, add, set, key, NULL, klen, chain, NULL, 0);
}

/* A data map element `key : value`. */
static void m_elem_data(struct vn_sg_batch *b, bool bridge, bool add, const char *set,
			const void *key, uint32_t klen, const void *val, uint32_t vlen)
{
	m_elem_of(b, bridge, add, set, key, NULL, klen, NULL, val, vlen);
}

/* ---- rules ------------------------------------------------------------- */

struct rule {
	struct nftnl_rule *r;
	struct vn_sg_batch *b;
};

static void ex_add(struct rule *ru, struct nftnl_expr *e)
{
	if (!e) {
		ru->b->err = -ENOMEM;
		return;
	}
	nftnl_rule_add_expr(ru->r, e);
}

static void ex_meta_r(struct rule *ru, uint32_t key, uint32_t reg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, reg);
	}
	ex_add(ru, e);
}

static void ex_meta(struct rule *ru, uint32_t key)
{
	ex_meta_r(ru, key, NFT_REG_1);
}

static void ex_meta_set(struct rule *ru, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
	}
	ex_add(ru, e);
}

static void ex_payload_r(struct rule *ru, uint32_t base, uint32_t off, uint32_t len, uint32_t reg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, reg);
	}
	ex_add(ru, e);
}

static void ex_payload(struct rule *ru, uint32_t base, uint32_t off, uint32_t len)
{
	ex_payload_r(ru, base, off, len, NFT_REG_1);
}

static void ex_cmp(struct rule *ru, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	ex_add(ru, e);
}

static void ex_cmp8(struct rule *ru, uint8_t v)
{
	ex_cmp(ru, NFT_CMP_EQ, &v, 1);
}

static void ex_bitwise(struct rule *ru, const void *mask, const void * xor, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
	}
	ex_add(ru, e);
}

static void ex_lookup(struct rule *ru, const char *set, bool vmap)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
		if (vmap)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	}
	ex_add(ru, e);
}

static void ex_imm32(struct rule *ru, uint32_t v)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &v, sizeof(v));
	}
	ex_add(ru, e);
}

static void ex_verdict(struct rule *ru, int verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
		if (chain)
			nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	}
	ex_add(ru, e);
}

/* ct state & bits != 0 */
static void ex_ctstate(struct rule *ru, uint32_t bits)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");
	uint32_t zero = 0;

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	ex_add(ru, e);
	ex_bitwise(ru, &bits, &zero, 4);
	ex_cmp(ru, NFT_CMP_NEQ, &zero, 4);
}

static void rule_begin(struct rule *ru, struct vn_sg_batch *b, const char *chain)
{
	ru->b = b;
	ru->r = nftnl_rule_alloc();
	if (!ru->r) {
		b->err = -ENOMEM;
		return;
	}
	nftnl_rule_set_str(ru->r, NFTNL_RULE_TABLE, SG_TABLE);
	nftnl_rule_set_str(ru->r, NFTNL_RULE_CHAIN, chain);
}

static void rule_end(struct rule *ru, bool bridge)
{
	char *p;

	if (!ru->r)
		return;
	p = cur(ru->b);
	if (p) {
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(p, NFT_MSG_NEWRULE, fam_of(bridge),
							     NLM_F_CREATE | NLM_F_APPEND, 0);
		nftnl_rule_nlmsg_build_payload(nlh, ru->r);
		done(ru->b, nlh);
	}
	nftnl_rule_free(ru->r);
	ru->r = NULL;
}

/* ---- names ------------------------------------------------------------- */

static void gname(char *buf, size_t len, const char *pfx, const char *gid, const char *sfx)
{
	char hex[33];
	size_t n = 0;

	for (const char *q = gid; *q && n < 32; q++)
		if (*q != '-')
			hex[n++] = *q;
	hex[n] = '\0';
	snprintf(buf, len, "%s%s%s", pfx, hex, sfx);
}

static void ifkey(char key[IFNAMSIZ], const char *dev)
{
	memset(key, 0, IFNAMSIZ);
	snprintf(key, IFNAMSIZ, "%s", dev);
}

static void v4be(const struct vn_addr *a, uint32_t *out)
{
	*out = htonl((uint32_t)a->v);
}

static void v6be(const struct vn_addr *a, uint8_t out[16])
{
	for (int i = 0; i < 16; i++)
		out[i] = (uint8_t)(a->v >> (8 * (15 - i)));
}

/* One family's nft rule for r in the chain. */
static void rule_one(struct vn_sg_batch *b, const char *chain, const struct vn_sgrule *r, int af,
		     bool need_af)
{
	struct rule ru;
	int proto = r->proto;

	rule_begin(&ru, b, chain);
	if (need_af) {
		ex_meta(&ru, NFT_META_NFPROTO);
		ex_cmp8(&ru, af == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
	}
	if (r->remote != VN_SG_ANY) {
		bool in = r->dir == VN_SG_INGRESS;
		uint32_t off = af == AF_INET ? (in ? 12 : 16) : (in ? 8 : 24);
		uint32_t len = af == AF_INET ? 4 : 16;

		ex_payload(&ru, NFT_PAYLOAD_NETWORK_HEADER, off, len);
		if (r->remote == VN_SG_CIDR) {
			uint8_t net[16], mask[16], zero[16] = {0};
			vn_u128 m;
			int bits = af == AF_INET ? 32 : 128;

			m = r->cidr.prefix == 0 ? 0 : (~(vn_u128)0) << (bits - r->cidr.prefix);
			struct vn_addr ma = {.af = af, .v = m};

			if (af == AF_INET) {
				v4be(&r->cidr.net, (uint32_t *)net);
				v4be(&ma, (uint32_t *)mask);
			} else {
				v6be(&r->cidr.net, net);
				v6be(&ma, mask);
			}
			if (r->cidr.prefix != bits)
				ex_bitwise(&ru, mask, zero, len);
			ex_cmp(&ru, NFT_CMP_EQ, net, len);
		} else {
			char set[64];

			gname(set, sizeof(set), af == AF_INET ? "m4_" : "m6_", r->gid, "");
			ex_lookup(&ru, set, false);
		}
	}
	if (proto != VN_SG_PROTO_ANY) {
		if (proto == 1 && af == AF_INET6)
			proto = 58;
		ex_meta(&ru, NFT_META_L4PROTO);
		ex_cmp8(&ru, (uint8_t)proto);
		if (vn_sg_proto_ports(proto) && r->pmin >= 0) {
			uint16_t lo = htons((uint16_t)r->pmin), hi = htons((uint16_t)r->pmax);

			ex_payload(&ru, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
			if (r->pmin == r->pmax) {
				ex_cmp(&ru, NFT_CMP_EQ, &lo, 2);
			} else {
				ex_cmp(&ru, NFT_CMP_GTE, &lo, 2);
				ex_cmp(&ru, NFT_CMP_LTE, &hi, 2);
			}
		} else if ((proto == 1 || proto == 58) && r->pmin >= 0) {
			ex_payload(&ru, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
			ex_cmp8(&ru, (uint8_t)r->pmin);
			if (r->pmax >= 0) {
				ex_payload(&ru, NFT_PAYLOAD_TRANSPORT_HEADER, 1, 1);
				ex_cmp8(&ru, (uint8_t)r->pmax);
			}
		}
	}
	ex_verdict(&ru, NF_ACCEPT, NULL);
	rule_end(&ru, false);
}

static void rule_add(struct vn_sg_batch *b, const char *gid, const struct vn_sgrule *r)
{
	char chain[64];
	/* one rule serves both families unless something in it is
	 * family-specific (addresses, icmp) */
	bool split = r->af == 0 && (r->remote != VN_SG_ANY || r->proto == 1);

	gname(chain, sizeof(chain), "g_", gid, r->dir == VN_SG_INGRESS ? "_i" : "_e");
	if (r->af) {
		rule_one(b, chain, r, r->af, true);
	} else if (split) {
		rule_one(b, chain, r, AF_INET, true);
		rule_one(b, chain, r, AF_INET6, true);
	} else {
		rule_one(b, chain, r, AF_INET, false);
	}
}

/* ---- groups ------------------------------------------------------------
 * A group's rules are elements, not nft rules. Per direction and family
 * there are three interval sets of concatenated keys ("boxes": a range in
 * every field), ADDR being the remote end (the source for ingress, the
 * destination for egress), a CIDR's range or everything:
 *
 *   g_GID_Da4  ADDR . inet_proto                  a protocol, or any (0-255)
 *   g_GID_Dp4  ADDR . inet_proto . inet_service   ports (the destination's)
 *   g_GID_Dc4  ADDR . inet_proto . icmp_type . icmp_code
 *   (D: i or e; 6 for IPv6, the same with an IPv6 address)
 *
 * The chain g_GID_D has six fixed rules, `meta nfproto ipv4 ip saddr .
 * meta l4proto . th dport @g_GID_ip4 accept` and its kin, made with the
 * group. Adding or removing a rule is then adding or deleting elements of
 * plain sets: no new rule, no verdict, so nf_tables does not validate the
 * table's jump graph at commit (it does for every new rule or verdict map
 * element, O(ruleset); docs/design-notes.md).
 *
 * The kernel refuses an element that overlaps one of its set (pipapo),
 * and rules do overlap (`tcp 22 from 10.0.0.0/24` and `tcp 20-30 from
 * 10.0.0.0/16`). Two rules that make the same box share its element
 * (refcounted); a box that overlaps another of its set becomes an nft rule
 * of its own in the chain ("spilled": correct, but that add validates the
 * table). Rules naming a remote group are one nft rule each, as before
 * (`ip saddr @m4_RGID ...`): they are few, and their addresses change
 * through the member sets, never the rule. Removing a spilled box or a
 * remote-group rule remakes that one chain (its six matchers, its remote
 * and spilled rules; the sets keep their elements). What is where lives
 * in struct vn_sg_gstate, which the caller keeps per group and replaces
 * only once the kernel took the batch. */

enum { CLS_A, CLS_P, CLS_C, NCLS };
#define NSETS (2 * 2 * NCLS) /* direction x family x class */
#define KEYMAX 28	     /* an IPv6 address and three 32-bit registers */

/* nftables' datatypes of the fields, for `nft list` */
#define TYPE_INET_PROTO 12
#define TYPE_INET_SERVICE 13
#define TYPE_ICMP_TYPE 14
#define TYPE_ICMP_CODE 32
#define TYPE_ICMPV6_TYPE 29
#define TYPE_ICMPV6_CODE 33
#define TYPE_BITS 6

struct box {
	uint8_t set; /* set_idx() */
	uint8_t lo[KEYMAX], hi[KEYMAX];
	unsigned refs;
};

struct vn_sg_gstate {
	struct box *el; /* elements of the sets */
	size_t nel, capel;
	struct box *sp; /* spilled: an nft rule each */
	size_t nsp, capsp;
};

static int set_idx(int dir, bool v6, int cls)
{
	return (dir * 2 + (v6 ? 1 : 0)) * NCLS + cls;
}
static int set_dir(int i)
{
	return i / (2 * NCLS);
}
static bool set_v6(int i)
{
	return (i / NCLS) % 2;
}
static int set_cls(int i)
{
	return i % NCLS;
}
static uint32_t set_alen(int i)
{
	return set_v6(i) ? 16 : 4;
}
/* fields: the address, then 32-bit registers */
static int set_nfields(int i)
{
	return set_cls(i) == CLS_A ? 2 : set_cls(i) == CLS_P ? 3 : 4;
}
static uint32_t set_klen(int i)
{
	return set_alen(i) + 4 * (uint32_t)(set_nfields(i) - 1);
}
static uint32_t field_off(int i, int f)
{
	return f == 0 ? 0 : set_alen(i) + 4 * (uint32_t)(f - 1);
}
static uint32_t field_len(int i, int f)
{
	if (f == 0)
		return set_alen(i);
	if (f == 1)
		return 1; /* inet_proto */
	return set_cls(i) == CLS_P ? 2 : 1;
}

static void set_name(char *buf, size_t len, const char *gid, int i)
{
	char sfx[8];

	snprintf(sfx, sizeof(sfx), "_%c%c%c", set_dir(i) ? 'e' : 'i', "apc"[set_cls(i)],
		 set_v6(i) ? '6' : '4');
	gname(buf, len, "g_", gid, sfx);
}

static uint32_t set_keytype(int i)
{
	bool v6 = set_v6(i);
	uint32_t t[4] = {v6 ? TYPE_IP6ADDR : TYPE_IPADDR, TYPE_INET_PROTO, 0, 0}, k = 0;

	if (set_cls(i) == CLS_P) {
		t[2] = TYPE_INET_SERVICE;
	} else if (set_cls(i) == CLS_C) {
		t[2] = v6 ? TYPE_ICMPV6_TYPE : TYPE_ICMP_TYPE;
		t[3] = v6 ? TYPE_ICMPV6_CODE : TYPE_ICMP_CODE;
	}
	for (int f = 0; f < set_nfields(i); f++)
		k = k << TYPE_BITS | t[f];
	return k;
}

/* An interval set of concatenated fields (the kernel's pipapo). */
static void m_set_box(struct vn_sg_batch *b, uint16_t type, const char *name, int i)
{
	struct nftnl_set *s = nftnl_set_alloc();
	uint8_t flen[4] = {0};
	char *p = cur(b);

	if (!s || !p) {
		b->err = -ENOMEM;
		nftnl_set_free(s);
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, SG_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	if (type == NFT_MSG_NEWSET) {
		for (int f = 0; f < set_nfields(i); f++)
			flen[f] = (uint8_t)field_len(i, f);
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, set_keytype(i));
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, set_klen(i));
		nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_INTERVAL | NFT_SET_CONCAT);
		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, flen, (uint32_t)set_nfields(i));
	}
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(p, type, NFPROTO_INET,
						     type == NFT_MSG_NEWSET ? NLM_F_CREATE : 0, 0);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	done(b, nlh);
}

/* The fixed rule of chain that looks packets up in set i:
 * `meta nfproto F ADDR . meta l4proto [. th dport | . icmp type . icmp
 * code] @set accept` (each field in its own 32-bit register). */
static void matcher(struct vn_sg_batch *b, const char *chain, const char *set, int i)
{
	bool v6 = set_v6(i), in = set_dir(i) == VN_SG_INGRESS;
	uint32_t reg = NFT_REG32_00 + set_alen(i) / 4;
	struct rule ru;

	rule_begin(&ru, b, chain);
	ex_meta(&ru, NFT_META_NFPROTO);
	ex_cmp8(&ru, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	ex_payload_r(&ru, NFT_PAYLOAD_NETWORK_HEADER, v6 ? (in ? 8 : 24) : (in ? 12 : 16),
		     set_alen(i), NFT_REG32_00);
	ex_meta_r(&ru, NFT_META_L4PROTO, reg++);
	if (set_cls(i) == CLS_P) {
		ex_payload_r(&ru, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg);
	} else if (set_cls(i) == CLS_C) {
		ex_payload_r(&ru, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, reg++);
		ex_payload_r(&ru, NFT_PAYLOAD_TRANSPORT_HEADER, 1, 1, reg);
	}
	ex_lookup(&ru, set, false);
	ex_verdict(&ru, NF_ACCEPT, NULL);
	rule_end(&ru, false);
}

static bool full_range(const uint8_t *lo, const uint8_t *hi, uint32_t len)
{
	for (uint32_t k = 0; k < len; k++)
		if (lo[k] != 0 || hi[k] != 0xff)
			return false;
	return true;
}

/* field f of x, loaded and compared, unless it is the whole range */
static void box_field(struct rule *ru, const struct box *x, int f, uint32_t base, uint32_t off)
{
	uint32_t o = field_off(x->set, f), len = field_len(x->set, f);

	if (full_range(x->lo + o, x->hi + o, len))
		return;
	if (f == 1)
		ex_meta(ru, NFT_META_L4PROTO);
	else
		ex_payload(ru, base, off, len);
	if (!memcmp(x->lo + o, x->hi + o, len)) {
		ex_cmp(ru, NFT_CMP_EQ, x->lo + o, len);
	} else {
		ex_cmp(ru, NFT_CMP_GTE, x->lo + o, len);
		ex_cmp(ru, NFT_CMP_LTE, x->hi + o, len);
	}
}

/* A spilled box as an nft rule of its own (cmp compares bytes, so
 * ranges of big-endian fields are >= lo and <= hi). */
static void box_rule(struct vn_sg_batch *b, const char *chain, const struct box *x)
{
	bool v6 = set_v6(x->set), in = set_dir(x->set) == VN_SG_INGRESS;
	struct rule ru;

	rule_begin(&ru, b, chain);
	ex_meta(&ru, NFT_META_NFPROTO);
	ex_cmp8(&ru, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	box_field(&ru, x, 0, NFT_PAYLOAD_NETWORK_HEADER, v6 ? (in ? 8 : 24) : (in ? 12 : 16));
	box_field(&ru, x, 1, 0, 0);
	if (set_cls(x->set) == CLS_P) {
		box_field(&ru, x, 2, NFT_PAYLOAD_TRANSPORT_HEADER, 2);
	} else if (set_cls(x->set) == CLS_C) {
		box_field(&ru, x, 2, NFT_PAYLOAD_TRANSPORT_HEADER, 0);
		box_field(&ru, x, 3, NFT_PAYLOAD_TRANSPORT_HEADER, 1);
	}
	ex_verdict(&ru, NF_ACCEPT, NULL);
	rule_end(&ru, false);
}

/* ---- a group's state: which box is an element, which is spilled ---- */

struct vn_sg_gstate *vn_sg_gstate_new(void)
{
	return calloc(1, sizeof(struct vn_sg_gstate));
}

void vn_sg_gstate_free(struct vn_sg_gstate *gs)
{
	if (!gs)
		return;
	free(gs->el);
	free(gs->sp);
	free(gs);
}

static struct box *boxes_dup(const struct box *v, size_t n)
{
	struct box *c = malloc((n ? n : 1) * sizeof(*c));

	if (c && n)
		memcpy(c, v, n * sizeof(*c));
	return c;
}

struct vn_sg_gstate *vn_sg_gstate_clone(const struct vn_sg_gstate *gs)
{
	struct vn_sg_gstate *c = vn_sg_gstate_new();

	if (!c || !gs)
		return c;
	c->el = boxes_dup(gs->el, gs->nel);
	c->sp = boxes_dup(gs->sp, gs->nsp);
	if (!c->el || !c->sp) {
		vn_sg_gstate_free(c);
		return NULL;
	}
	c->nel = c->capel = gs->nel;
	c->nsp = c->capsp = gs->nsp;
	return c;
}

static int box_find(const struct box *v, size_t n, const struct box *x)
{
	uint32_t kl = set_klen(x->set);

	for (size_t i = 0; i < n; i++)
		if (v[i].set == x->set && !memcmp(v[i].lo, x->lo, kl) &&
		    !memcmp(v[i].hi, x->hi, kl))
			return (int)i;
	return -1;
}

/* Do two boxes of one set share a point? (each field's bytes are
 * big-endian, zero-padded alike in lo and hi) */
static bool box_meet(const struct box *a, const struct box *x)
{
	for (int f = 0; f < set_nfields(x->set); f++) {
		uint32_t o = field_off(x->set, f), l = field_len(x->set, f);

		if (memcmp(a->lo + o, x->hi + o, l) > 0 || memcmp(x->lo + o, a->hi + o, l) > 0)
			return false;
	}
	return true;
}

static int box_push(struct box **v, size_t *n, size_t *cap, const struct box *x)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct box *nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *x;
	return 0;
}

static void put_addr(uint8_t *out, int af, vn_u128 v)
{
	struct vn_addr a = {.af = af, .v = v};

	if (af == AF_INET) {
		uint32_t be;

		v4be(&a, &be);
		memcpy(out, &be, 4);
	} else {
		v6be(&a, out);
	}
}

/* The boxes a rule makes, one per family it applies to (none for a
 * remote-group rule: that is an nft rule). */
static int rule_boxes(const struct vn_sgrule *r, struct box out[2])
{
	int n = 0;

	if (r->remote == VN_SG_GROUP)
		return 0;
	for (int v6 = 0; v6 < 2; v6++) {
		int af = v6 ? AF_INET6 : AF_INET, proto = r->proto, cls = CLS_A;
		int bits = v6 ? 128 : 32;
		vn_u128 all = v6 ? ~(vn_u128)0 : (((vn_u128)1 << 32) - 1), m = 0, net = 0;
		struct box *x;
		uint32_t a;

		if ((r->af && r->af != af) || (r->remote == VN_SG_CIDR && r->cidr.net.af != af))
			continue;
		if (proto == 1 && v6)
			proto = 58;
		if (proto != VN_SG_PROTO_ANY && r->pmin >= 0 && vn_sg_proto_ports(proto))
			cls = CLS_P;
		else if (r->pmin >= 0 && (proto == 1 || proto == 58))
			cls = CLS_C;
		x = &out[n++];
		memset(x, 0, sizeof(*x));
		x->set = (uint8_t)set_idx(r->dir == VN_SG_EGRESS, v6, cls);
		a = set_alen(x->set);
		if (r->remote == VN_SG_CIDR) {
			m = r->cidr.prefix == 0 ? 0 : (all << (bits - r->cidr.prefix)) & all;
			net = r->cidr.net.v & m;
			put_addr(x->lo, af, net);
			put_addr(x->hi, af, net | (all & ~m));
		} else {
			memset(x->hi, 0xff, a);
		}
		x->lo[a] = proto == VN_SG_PROTO_ANY ? 0 : (uint8_t)proto;
		x->hi[a] = proto == VN_SG_PROTO_ANY ? 0xff : (uint8_t)proto;
		if (cls == CLS_P) {
			uint16_t lo = htons((uint16_t)r->pmin), hi = htons((uint16_t)r->pmax);

			memcpy(x->lo + a + 4, &lo, 2);
			memcpy(x->hi + a + 4, &hi, 2);
		} else if (cls == CLS_C) {
			x->lo[a + 4] = x->hi[a + 4] = (uint8_t)r->pmin;
			x->lo[a + 8] = r->pmax >= 0 ? (uint8_t)r->pmax : 0;
			x->hi[a + 8] = r->pmax >= 0 ? (uint8_t)r->pmax : 0xff;
		}
	}
	return n;
}

static void box_elem(struct vn_sg_batch *b, const char *gid, const struct box *x, bool add)
{
	char n[64];

	set_name(n, sizeof(n), gid, x->set);
	m_elem_of(b, false, add, n, x->lo, x->hi, set_klen(x->set), NULL, NULL, 0);
}

static void group_chain_name(char *buf, size_t len, const char *gid, int dir)
{
	gname(buf, len, "g_", gid, dir == VN_SG_INGRESS ? "_i" : "_e");
}

/* A group chain's six matchers. */
static void group_matchers(struct vn_sg_batch *b, const char *gid, int dir)
{
	char ch[64], n[64];

	group_chain_name(ch, sizeof(ch), gid, dir);
	for (int i = 0; i < NSETS; i++) {
		if (set_dir(i) != dir)
			continue;
		set_name(n, sizeof(n), gid, i);
		matcher(b, ch, n, i);
	}
}

static void group_chains(struct vn_sg_batch *b, const char *gid, uint16_t type)
{
	char n[64];

	group_chain_name(n, sizeof(n), gid, VN_SG_INGRESS);
	m_chain(b, false, type, n, -1, 0);
	group_chain_name(n, sizeof(n), gid, VN_SG_EGRESS);
	m_chain(b, false, type, n, -1, 0);
}

void vn_sg_b_group_add(struct vn_sg_batch *b, const char *gid)
{
	char n[64];

	gname(n, sizeof(n), "m4_", gid, "");
	m_set(b, false, NFT_MSG_NEWSET, n, TYPE_IPADDR, 4, false);
	gname(n, sizeof(n), "m6_", gid, "");
	m_set(b, false, NFT_MSG_NEWSET, n, TYPE_IP6ADDR, 16, false);
	for (int i = 0; i < NSETS; i++) {
		set_name(n, sizeof(n), gid, i);
		m_set_box(b, NFT_MSG_NEWSET, n, i);
	}
	group_chains(b, gid, NFT_MSG_NEWCHAIN);
	group_matchers(b, gid, VN_SG_INGRESS);
	group_matchers(b, gid, VN_SG_EGRESS);
}

void vn_sg_b_group_del(struct vn_sg_batch *b, const char *gid)
{
	char n[64];

	group_chain_name(n, sizeof(n), gid, VN_SG_INGRESS);
	m_flush(b, false, n);
	group_chain_name(n, sizeof(n), gid, VN_SG_EGRESS);
	m_flush(b, false, n);
	group_chains(b, gid, NFT_MSG_DELCHAIN);
	for (int i = 0; i < NSETS; i++) {
		set_name(n, sizeof(n), gid, i);
		m_set_box(b, NFT_MSG_DELSET, n, i);
	}
	gname(n, sizeof(n), "m4_", gid, "");
	m_set(b, false, NFT_MSG_DELSET, n, 0, 0, false);
	gname(n, sizeof(n), "m6_", gid, "");
	m_set(b, false, NFT_MSG_DELSET, n, 0, 0, false);
}

int vn_sg_b_group_change(struct vn_sg_batch *b, struct vn_sg_gstate *gs, const char *gid,
			 const struct vn_sgrule *all, size_t nall, const struct vn_sgrule *del,
			 size_t ndel, const struct vn_sgrule *add, size_t nadd)
{
	bool redo[2] = {false, false};
	size_t sp0;
	struct box x[2];
	char ch[64];
	int r = 0;

	if (!gs)
		return -EINVAL;
	for (size_t i = 0; i < ndel; i++) {
		int nb = rule_boxes(&del[i], x);

		if (del[i].remote == VN_SG_GROUP)
			redo[del[i].dir == VN_SG_EGRESS] = true;
		for (int k = 0; k < nb; k++) {
			int j = box_find(gs->el, gs->nel, &x[k]);

			if (j >= 0) {
				if (--gs->el[j].refs == 0) {
					box_elem(b, gid, &gs->el[j], false);
					gs->el[j] = gs->el[--gs->nel];
				}
				continue;
			}
			j = box_find(gs->sp, gs->nsp, &x[k]);
			if (j >= 0 && --gs->sp[j].refs == 0) {
				redo[set_dir(gs->sp[j].set)] = true;
				gs->sp[j] = gs->sp[--gs->nsp];
			}
		}
	}
	sp0 = gs->nsp;
	for (size_t i = 0; i < nadd && r == 0; i++) {
		int nb = rule_boxes(&add[i], x);

		for (int k = 0; k < nb && r == 0; k++) {
			int j = box_find(gs->el, gs->nel, &x[k]);
			bool meets = false;

			if (j >= 0) {
				gs->el[j].refs++;
				continue;
			}
			j = box_find(gs->sp, gs->nsp, &x[k]);
			if (j >= 0) {
				gs->sp[j].refs++;
				continue;
			}
			for (size_t e = 0; e < gs->nel && !meets; e++)
				meets = gs->el[e].set == x[k].set && box_meet(&gs->el[e], &x[k]);
			x[k].refs = 1;
			if (meets) {
				r = box_push(&gs->sp, &gs->nsp, &gs->capsp, &x[k]);
			} else {
				r = box_push(&gs->el, &gs->nel, &gs->capel, &x[k]);
				if (r == 0)
					box_elem(b, gid, &x[k], true);
			}
		}
	}
	if (r < 0)
		return r;
	for (int dir = 0; dir < 2; dir++) {
		group_chain_name(ch, sizeof(ch), gid, dir);
		if (redo[dir]) {
			m_flush(b, false, ch);
			group_matchers(b, gid, dir);
			for (size_t i = 0; i < nall; i++)
				if (all[i].remote == VN_SG_GROUP && (int)all[i].dir == dir)
					rule_add(b, gid, &all[i]);
			for (size_t i = 0; i < gs->nsp; i++)
				if (set_dir(gs->sp[i].set) == dir)
					box_rule(b, ch, &gs->sp[i]);
		} else {
			for (size_t i = 0; i < nadd; i++)
				if (add[i].remote == VN_SG_GROUP && (int)add[i].dir == dir)
					rule_add(b, gid, &add[i]);
			for (size_t i = sp0; i < gs->nsp; i++)
				if (set_dir(gs->sp[i].set) == dir)
					box_rule(b, ch, &gs->sp[i]);
		}
	}
	return b->err;
}

void vn_sg_b_member(struct vn_sg_batch *b, const char *gid, const struct vn_addr *a, bool add)
{
	char n[64];
	uint8_t key[16];

	gname(n, sizeof(n), a->af == AF_INET ? "m4_" : "m6_", gid, "");
	if (a->af == AF_INET)
		v4be(a, (uint32_t *)key);
	else
		v6be(a, key);
	m_elem(b, false, add, n, key, a->af == AF_INET ? 4 : 16, NULL);
}

/* ---- ports ------------------------------------------------------------- */

static void pchain(char *buf, size_t len, const char *pfx, const struct vn_sg_port *p)
{
	snprintf(buf, len, "%s%s", pfx, p->dev);
}

/* `ether type T` in the bridge family */
static void ex_ethertype(struct rule *ru, uint16_t type)
{
	uint16_t be = htons(type);

	ex_payload(ru, NFT_PAYLOAD_LL_HEADER, 12, 2);
	ex_cmp(ru, NFT_CMP_EQ, &be, 2);
}

/* return when the frame's source (IPv4: also ARP's) is a */
static void spoof_ok(struct vn_sg_batch *b, const char *chain, const struct vn_addr *a)
{
	struct rule ru;
	uint8_t key[16];

	if (a->af == AF_INET) {
		v4be(a, (uint32_t *)key);
		rule_begin(&ru, b, chain);
		ex_ethertype(&ru, 0x0800);
		ex_payload(&ru, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
		ex_cmp(&ru, NFT_CMP_EQ, key, 4);
		ex_verdict(&ru, NFT_RETURN, NULL);
		rule_end(&ru, true);
		rule_begin(&ru, b, chain);
		ex_ethertype(&ru, 0x0806);
		ex_payload(&ru, NFT_PAYLOAD_NETWORK_HEADER, 14, 4); /* arp saddr ip */
		ex_cmp(&ru, NFT_CMP_EQ, key, 4);
		ex_verdict(&ru, NFT_RETURN, NULL);
		rule_end(&ru, true);
	} else {
		v6be(a, key);
		rule_begin(&ru, b, chain);
		ex_ethertype(&ru, 0x86dd);
		ex_payload(&ru, NFT_PAYLOAD_NETWORK_HEADER, 8, 16);
		ex_cmp(&ru, NFT_CMP_EQ, key, 16);
		ex_verdict(&ru, NFT_RETURN, NULL);
		rule_end(&ru, true);
	}
}

static void port_rules(struct vn_sg_batch *b, const struct vn_sg_port *p)
{
	char ch[64], g[64];
	struct rule ru;
	uint32_t mask = 0xffff, idx = p->idx, hi = p->idx << 16;
	struct vn_addr ll = {.af = AF_INET6}, unspec = {.af = AF_INET6};
	struct vn_addr any4 = {.af = AF_INET};

	/* bridge prerouting: mark, then anti-spoofing */
	pchain(ch, sizeof(ch), "p_", p);
	rule_begin(&ru, b, ch);
	ex_imm32(&ru, idx);
	ex_meta_set(&ru, NFT_META_MARK);
	rule_end(&ru, true);
	rule_begin(&ru, b, ch); /* ether saddr != MAC drop */
	ex_payload(&ru, NFT_PAYLOAD_LL_HEADER, 6, 6);
	ex_cmp(&ru, NFT_CMP_NEQ, p->mac, 6);
	ex_verdict(&ru, NF_DROP, NULL);
	rule_end(&ru, true);
	rule_begin(&ru, b, ch); /* arp saddr ether != MAC drop */
	ex_ethertype(&ru, 0x0806);
	ex_payload(&ru, NFT_PAYLOAD_NETWORK_HEADER, 8, 6);
	ex_cmp(&ru, NFT_CMP_NEQ, p->mac, 6);
	ex_verdict(&ru, NF_DROP, NULL);
	rule_end(&ru, true);
	for (size_t i = 0; i < p->nips; i++)
		spoof_ok(b, ch, &p->ips[i]);
	/* DHCP's discover, ARP probes (0.0.0.0), DAD (::) and the link-local
	 * address the kernel derives from the MAC (EUI-64) */
	spoof_ok(b, ch, &any4);
	spoof_ok(b, ch, &unspec);
	ll.v = (vn_u128)0xfe80 << 112;
	ll.v |= (vn_u128)((p->mac[0] ^ 2) & 0xff) << 56 | (vn_u128)p->mac[1] << 48 |
		(vn_u128)p->mac[2] << 40 | (vn_u128)0xff << 32 | (vn_u128)0xfe << 24 |
		(vn_u128)p->mac[3] << 16 | (vn_u128)p->mac[4] << 8 | p->mac[5];
	spoof_ok(b, ch, &ll);
	rule_begin(&ru, b, ch);
	ex_verdict(&ru, NF_DROP, NULL);
	rule_end(&ru, true);

	/* bridge forward: the receiving port's index in the high half */
	pchain(ch, sizeof(ch), "o_", p);
	rule_begin(&ru, b, ch);
	ex_meta(&ru, NFT_META_MARK);
	ex_bitwise(&ru, &mask, &hi, 4);
	ex_meta_set(&ru, NFT_META_MARK);
	rule_end(&ru, true);

	for (int dir = 0; dir < 2; dir++) {
		bool in = dir == 0;
		uint16_t cs = htons(in ? 67 : 68), cd = htons(in ? 68 : 67);
		uint16_t c6s = htons(in ? 547 : 546), c6d = htons(in ? 546 : 547);

		pchain(ch, sizeof(ch), in ? "i_" : "e_", p);
		rule_begin(&ru, b, ch);
		ex_ctstate(&ru, NF_CT_STATE_INVALID_BIT);
		ex_verdict(&ru, NF_DROP, NULL);
		rule_end(&ru, false);
		/* DHCP: a client's requests out, a server's answers in; a
		 * filtered port never answers as a DHCP server */
		for (int v6 = 0; v6 < 2; v6++) {
			for (int bad = 0; bad < (in ? 1 : 2); bad++) {
				uint16_t s = v6 ? c6s : cs, d = v6 ? c6d : cd;

				if (bad) {
					s = v6 ? htons(547) : htons(67);
					d = v6 ? htons(546) : htons(68);
				}
				rule_begin(&ru, b, ch);
				ex_meta(&ru, NFT_META_NFPROTO);
				ex_cmp8(&ru, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
				ex_meta(&ru, NFT_META_L4PROTO);
				ex_cmp8(&ru, IPPROTO_UDP);
				ex_payload(&ru, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2);
				ex_cmp(&ru, NFT_CMP_EQ, &s, 2);
				ex_payload(&ru, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
				ex_cmp(&ru, NFT_CMP_EQ, &d, 2);
				ex_verdict(&ru, bad ? NF_DROP : NF_ACCEPT, NULL);
				rule_end(&ru, false);
			}
		}
		/* IPv6 neighbour discovery and MLD (router advertisements
		 * only in) */
		static const uint8_t nd_in[] = {130, 131, 132, 133, 134, 135, 136, 143};
		static const uint8_t nd_out[] = {130, 131, 132, 133, 135, 136, 143};
		const uint8_t *t = in ? nd_in : nd_out;
		size_t nt = in ? sizeof(nd_in) : sizeof(nd_out);

		for (size_t k = 0; k < nt; k++) {
			rule_begin(&ru, b, ch);
			ex_meta(&ru, NFT_META_L4PROTO);
			ex_cmp8(&ru, IPPROTO_ICMPV6);
			ex_payload(&ru, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
			ex_cmp8(&ru, t[k]);
			ex_verdict(&ru, NF_ACCEPT, NULL);
			rule_end(&ru, false);
		}
		for (size_t k = 0; k < p->ngids; k++) {
			gname(g, sizeof(g), "g_", p->gids[k], in ? "_i" : "_e");
			rule_begin(&ru, b, ch);
			ex_verdict(&ru, NFT_JUMP, g);
			rule_end(&ru, false);
		}
		rule_begin(&ru, b, ch);
		ex_verdict(&ru, NF_DROP, NULL);
		rule_end(&ru, false);
	}
}

void vn_sg_b_port_set(struct vn_sg_batch *b, const struct vn_sg_port *p, bool exists)
{
	char ch[64], key[IFNAMSIZ];
	uint32_t idx = p->idx, hi = p->idx << 16;

	if (exists) {
		pchain(ch, sizeof(ch), "p_", p);
		m_flush(b, true, ch);
		pchain(ch, sizeof(ch), "o_", p);
		m_flush(b, true, ch);
		pchain(ch, sizeof(ch), "e_", p);
		m_flush(b, false, ch);
		pchain(ch, sizeof(ch), "i_", p);
		m_flush(b, false, ch);
	} else {
		ifkey(key, p->dev);
		pchain(ch, sizeof(ch), "p_", p);
		m_chain(b, true, NFT_MSG_NEWCHAIN, ch, -1, 0);
		m_elem(b, true, true, "pin", key, IFNAMSIZ, ch);
		pchain(ch, sizeof(ch), "o_", p);
		m_chain(b, true, NFT_MSG_NEWCHAIN, ch, -1, 0);
		m_elem(b, true, true, "pout", key, IFNAMSIZ, ch);
		pchain(ch, sizeof(ch), "e_", p);
		m_chain(b, false, NFT_MSG_NEWCHAIN, ch, -1, 0);
		m_elem(b, false, true, "eg", &idx, 4, ch);
		pchain(ch, sizeof(ch), "i_", p);
		m_chain(b, false, NFT_MSG_NEWCHAIN, ch, -1, 0);
		m_elem(b, false, true, "ig", &hi, 4, ch);
	}
	port_rules(b, p);
}

void vn_sg_b_port_del(struct vn_sg_batch *b, const struct vn_sg_port *p)
{
	char ch[64], key[IFNAMSIZ];
	uint32_t idx = p->idx, hi = p->idx << 16;

	ifkey(key, p->dev);
	m_elem(b, true, false, "pin", key, IFNAMSIZ, "x");
	m_elem(b, true, false, "pout", key, IFNAMSIZ, "x");
	m_elem(b, false, false, "eg", &idx, 4, "x");
	m_elem(b, false, false, "ig", &hi, 4, "x");
	static const char *const pf[] = {"p_", "o_", "e_", "i_"};
	for (int k = 0; k < 4; k++) {
		pchain(ch, sizeof(ch), pf[k], p);
		m_flush(b, k < 2, ch);
		m_chain(b, k < 2, NFT_MSG_DELCHAIN, ch, -1, 0);
	}
}

void vn_sg_b_zone(struct vn_sg_batch *b, const char *bridge, unsigned zone, bool add)
{
	char key[IFNAMSIZ];
	uint16_t z = (uint16_t)zone;

	ifkey(key, bridge);
	m_elem_data(b, false, add, "zones", key, IFNAMSIZ, &z, 2);
}

/* ---- the whole thing --------------------------------------------------- */

static void base(struct vn_sg_batch *b)
{
	struct rule ru;
	uint32_t lo = 0xffff, hi = 0xffff0000, zero = 0;

	/* bridge */
	m_table(b, true, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	m_set(b, true, NFT_MSG_NEWSET, "pin", TYPE_IFNAME, IFNAMSIZ, true);
	m_set(b, true, NFT_MSG_NEWSET, "pout", TYPE_IFNAME, IFNAMSIZ, true);
	m_chain(b, true, NFT_MSG_NEWCHAIN, "pre", NF_BR_PRE_ROUTING, -300);
	m_chain(b, true, NFT_MSG_NEWCHAIN, "fwd", NF_BR_FORWARD, -200);
	rule_begin(&ru, b, "pre");
	ex_meta(&ru, NFT_META_IIFNAME);
	ex_lookup(&ru, "pin", true);
	rule_end(&ru, true);
	rule_begin(&ru, b, "fwd");
	ex_meta(&ru, NFT_META_OIFNAME);
	ex_lookup(&ru, "pout", true);
	rule_end(&ru, true);
	/* inet */
	m_table(b, false, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	m_set(b, false, NFT_MSG_NEWSET, "eg", TYPE_MARK, 4, true);
	m_set(b, false, NFT_MSG_NEWSET, "ig", TYPE_MARK, 4, true);
	m_chain(b, false, NFT_MSG_NEWCHAIN, "egress", NF_INET_FORWARD, 0);
	m_chain(b, false, NFT_MSG_NEWCHAIN, "ingress", NF_INET_FORWARD, 10);
	m_chain(b, false, NFT_MSG_NEWCHAIN, "input", NF_INET_LOCAL_IN, 0);
	/* a conntrack zone per network with filtered ports, before conntrack
	 * (-200): tenants may reuse addresses on different bridges */
	m_set2(b, false, NFT_MSG_NEWSET, "zones", TYPE_IFNAME, IFNAMSIZ, false, 2);
	m_chain(b, false, NFT_MSG_NEWCHAIN, "zone", NF_INET_PRE_ROUTING, -300);
	rule_begin(&ru, b, "zone");
	ex_meta(&ru, NFT_META_IIFNAME);
	{
		struct nftnl_expr *e = nftnl_expr_alloc("lookup");

		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
			nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "zones");
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_1);
		}
		ex_add(&ru, e);
		e = nftnl_expr_alloc("ct");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_ZONE);
			nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
		}
		ex_add(&ru, e);
	}
	rule_end(&ru, false);
	static const char *const bc[] = {"egress", "input", "ingress"};
	for (int k = 0; k < 3; k++) {
		rule_begin(&ru, b, bc[k]);
		ex_ctstate(&ru,
			   NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED));
		ex_verdict(&ru, NF_ACCEPT, NULL);
		rule_end(&ru, false);
		rule_begin(&ru, b, bc[k]);
		ex_meta(&ru, NFT_META_MARK);
		ex_bitwise(&ru, k == 2 ? &hi : &lo, &zero, 4);
		ex_lookup(&ru, k == 2 ? "ig" : "eg", true);
		rule_end(&ru, false);
	}
}

int vn_sg_nft_rebuild(struct vn_ns *ns, const struct vn_sg_group *groups, size_t ngroups,
		      const struct vn_sg_member *members, size_t nmembers,
		      const struct vn_sg_port *ports, size_t nports, const struct vn_sg_zone *zones,
		      size_t nzones)
{
	struct vn_sg_batch *b = vn_sg_batch_new();
	int r = 0;

	if (!b)
		return -ENOMEM;
	/* whatever we had (stale chains, sets, an older layout) goes */
	m_table(b, true, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	m_table(b, true, NFT_MSG_DELTABLE, 0);
	m_table(b, false, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	m_table(b, false, NFT_MSG_DELTABLE, 0);
	base(b);
	for (size_t i = 0; i < ngroups; i++)
		vn_sg_b_group_add(b, groups[i].gid);
	for (size_t i = 0; i < ngroups && r == 0; i++)
		r = vn_sg_b_group_change(b, groups[i].gs, groups[i].gid, groups[i].rules,
					 groups[i].nrules, NULL, 0, groups[i].rules,
					 groups[i].nrules);
	for (size_t i = 0; i < nmembers; i++)
		vn_sg_b_member(b, members[i].gid, &members[i].addr, true);
	for (size_t i = 0; i < nports; i++)
		vn_sg_b_port_set(b, &ports[i], false);
	for (size_t i = 0; i < nzones; i++)
		vn_sg_b_zone(b, zones[i].bridge, zones[i].zone, true);
	if (r == 0)
		r = vn_sg_batch_send(ns, b);
	vn_sg_batch_free(b);
	return r;
}

int vn_sg_batch_send(struct vn_ns *ns, struct vn_sg_batch *b)
{
	struct vn_sg_batch out = {0};
	uint32_t seq, first, ack = 0;
	size_t off;
	char *p;
	int r;

	if (b->err)
		return b->err;
	if (!b->nmsg)
		return 0;
	if (!ns)
		return -EINVAL;
	/* batch begin + the messages + batch end, numbered now */
	seq = first = vn_nft_seq_reserve(ns, (uint32_t)b->nmsg + 2);
	p = cur(&out);
	if (!p)
		return -ENOMEM;
	out.len += NLMSG_ALIGN(nftnl_batch_begin(p, seq++)->nlmsg_len);
	if (out.cap - out.len < b->len + MSG_ROOM) {
		char *n = realloc(out.buf, out.len + b->len + MSG_ROOM);

		if (!n) {
			free(out.buf);
			return -ENOMEM;
		}
		memset(n + out.len, 0, b->len + MSG_ROOM);
		out.buf = n;
		out.cap = out.len + b->len + MSG_ROOM;
	}
	memcpy(out.buf + out.len, b->buf, b->len);
	for (off = out.len; off < out.len + b->len;) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(out.buf + off);

		nlh->nlmsg_seq = ack = seq++;
		if (off + NLMSG_ALIGN(nlh->nlmsg_len) >= out.len + b->len)
			nlh->nlmsg_flags |= NLM_F_ACK;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	out.len += b->len;
	out.len += NLMSG_ALIGN(nftnl_batch_end(out.buf + out.len, seq++)->nlmsg_len);
	r = vn_nft_send_batch(ns, out.buf, out.len, first, ack);
	free(out.buf);
	return r;
}

/* ---- conntrack ----------------------------------------------------------
 * libnetfilter_conntrack (Debian's libnetfilter-conntrack-dev): it builds
 * and parses ctnetlink's nested tuples for us. A dump of the namespace's
 * table is filtered here (the kernel's dump filter cannot say "source or
 * destination in this list"), and each entry the caller no longer allows
 * is deleted by its original tuple. Without the library the flush is
 * refused with EOPNOTSUPP (logged by the caller; filtering still works). */
#ifdef VN_HAVE_NFCT
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

struct vn_sg_ctlist {
	struct nf_conntrack **ct; /* clones of the dumped entries */
	struct vn_sg_flow *flow;  /* ... as flows */
	size_t n, cap;
};

struct ct_arg {
	const struct vn_addr *addrs;
	size_t naddrs;
	struct vn_sg_ctlist *l;
	int err;
};

void vn_sg_ctlist_free(struct vn_sg_ctlist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		nfct_destroy(l->ct[i]);
	free(l->ct);
	free(l->flow);
	free(l);
}

static void ct_addr(const struct nf_conntrack *ct, int af, bool src, struct vn_addr *a)
{
	a->af = af;
	a->v = 0;
	if (af == AF_INET) {
		a->v = ntohl(nfct_get_attr_u32(ct, src ? ATTR_ORIG_IPV4_SRC : ATTR_ORIG_IPV4_DST));
	} else {
		const uint8_t *p = nfct_get_attr(ct, src ? ATTR_ORIG_IPV6_SRC : ATTR_ORIG_IPV6_DST);

		for (int i = 0; p && i < 16; i++)
			a->v = a->v << 8 | p[i];
	}
}

static int ct_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct ct_arg *c = data;
	struct vn_sg_flow f = {0};
	int af = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
	bool ours = false;

	(void)type;
	if (af != AF_INET && af != AF_INET6)
		return NFCT_CB_CONTINUE;
	ct_addr(ct, af, true, &f.src);
	ct_addr(ct, af, false, &f.dst);
	for (size_t i = 0; i < c->naddrs && !ours; i++)
		ours = vn_addr_eq(&c->addrs[i], &f.src) || vn_addr_eq(&c->addrs[i], &f.dst);
	if (!ours)
		return NFCT_CB_CONTINUE;
	f.proto = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
	if (nfct_attr_is_set(ct, ATTR_ZONE) > 0)
		f.zone = nfct_get_attr_u16(ct, ATTR_ZONE);
	if (vn_sg_proto_ports(f.proto)) {
		f.sport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
		f.dport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
	} else if (f.proto == IPPROTO_ICMP || f.proto == IPPROTO_ICMPV6) {
		f.itype = nfct_get_attr_u8(ct, ATTR_ICMP_TYPE);
		f.icode = nfct_get_attr_u8(ct, ATTR_ICMP_CODE);
	}
	struct vn_sg_ctlist *l = c->l;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct nf_conntrack **v = realloc(l->ct, cap * sizeof(*v));
		struct vn_sg_flow *fv;

		if (v)
			l->ct = v;
		fv = v ? realloc(l->flow, cap * sizeof(*fv)) : NULL;
		if (!fv) {
			c->err = -ENOMEM;
			return NFCT_CB_STOP;
		}
		l->flow = fv;
		l->cap = cap;
	}
	l->ct[l->n] = nfct_clone(ct);
	if (l->ct[l->n])
		l->flow[l->n++] = f;
	return NFCT_CB_CONTINUE;
}

/* The entries of the calling thread's namespace (net sysctls follow it),
 * or -1 when that cannot be read. */
static long ct_count(void)
{
	FILE *f = fopen("/proc/sys/net/netfilter/nf_conntrack_count", "re");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* The dump walks the kernel's whole conntrack hash (262,144 buckets here,
 * shared by every namespace, each bucket's lock taken): ~10 ms however
 * few entries there are, which is why callers do it off the model lock,
 * and skip it when the namespace has no entry at all. */
static int ct_dump(void *data)
{
	struct ct_arg *c = data;
	struct nfct_handle *h;
	uint32_t family = AF_UNSPEC;

	if (ct_count() == 0)
		return 0;
	h = nfct_open(CONNTRACK, 0);
	if (!h)
		return -errno;
	nfct_callback_register(h, NFCT_T_ALL, ct_cb, c);
	if (nfct_query(h, NFCT_Q_DUMP, &family) < 0 && !c->err)
		c->err = -errno;
	nfct_close(h);
	return c->err;
}

int vn_sg_ct_collect(struct vn_ns *ns, const struct vn_addr *addrs, size_t naddrs,
		     struct vn_sg_ctlist **out)
{
	struct ct_arg c = {.addrs = addrs, .naddrs = naddrs};
	int r;

	*out = NULL;
	if (!ns || !naddrs)
		return 0;
	c.l = calloc(1, sizeof(*c.l));
	if (!c.l)
		return -ENOMEM;
	r = vn_ns_run(ns, ct_dump, &c);
	if (r < 0) {
		vn_sg_ctlist_free(c.l);
		return r;
	}
	*out = c.l;
	return 0;
}

struct ct_del {
	struct vn_sg_ctlist *l;
	bool (*drop)(void *arg, const struct vn_sg_flow *f);
	void *arg;
};

static int ct_delete(void *data)
{
	struct ct_del *d = data;
	struct nfct_handle *h = NULL;
	int deleted = 0;

	for (size_t i = 0; i < d->l->n; i++) {
		if (!d->drop(d->arg, &d->l->flow[i]))
			continue;
		if (!h && !(h = nfct_open(CONNTRACK, 0)))
			return -errno;
		/* gone meanwhile (ENOENT) is as good as deleted */
		if (nfct_query(h, NFCT_Q_DESTROY, d->l->ct[i]) == 0)
			deleted++;
	}
	if (h)
		nfct_close(h);
	return deleted;
}

int vn_sg_ct_drop(struct vn_ns *ns, struct vn_sg_ctlist *l,
		  bool (*drop)(void *arg, const struct vn_sg_flow *f), void *arg)
{
	struct ct_del d = {.l = l, .drop = drop, .arg = arg};

	if (!ns || !l || !l->n)
		return 0;
	return vn_ns_run(ns, ct_delete, &d);
}

int vn_sg_ct_flush(struct vn_ns *ns, const struct vn_addr *addrs, size_t naddrs,
		   bool (*drop)(void *arg, const struct vn_sg_flow *f), void *arg)
{
	struct vn_sg_ctlist *l = NULL;
	int r = vn_sg_ct_collect(ns, addrs, naddrs, &l);

	if (r == 0)
		r = vn_sg_ct_drop(ns, l, drop, arg);
	vn_sg_ctlist_free(l);
	return r;
}
#else
int vn_sg_ct_collect(struct vn_ns *ns, const struct vn_addr *addrs, size_t naddrs,
		     struct vn_sg_ctlist **out)
{
	(void)ns, (void)addrs;
	*out = NULL;
	return naddrs ? -EOPNOTSUPP : 0;
}

int vn_sg_ct_drop(struct vn_ns *ns, struct vn_sg_ctlist *l,
		  bool (*drop)(void *arg, const struct vn_sg_flow *f), void *arg)
{
	(void)ns, (void)l, (void)drop, (void)arg;
	return 0;
}

void vn_sg_ctlist_free(struct vn_sg_ctlist *l)
{
	(void)l;
}

int vn_sg_ct_flush(struct vn_ns *ns, const struct vn_addr *addrs, size_t naddrs,
		   bool (*drop)(void *arg, const struct vn_sg_flow *f), void *arg)
{
	(void)ns, (void)addrs, (void)drop, (void)arg;
	return naddrs ? -EOPNOTSUPP : 0;
}
#endif
