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
 *     chain g_GID_e / g_GID_i: the group's rules, each ending in accept
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

/* One element of set, added or deleted; with chain, a vmap element
 * `key : jump chain`; with val, a data map element `key : value`. */
static void m_elem_of(struct vn_sg_batch *b, bool bridge, bool add, const char *set,
		      const void *key, uint32_t klen, const char *chain, const void *val,
		      uint32_t vlen)
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
	m_elem_of(b, bridge, add, set, key, klen, chain, NULL, 0);
}

/* A data map element `key : value`. */
static void m_elem_data(struct vn_sg_batch *b, bool bridge, bool add, const char *set,
			const void *key, uint32_t klen, const void *val, uint32_t vlen)
{
	m_elem_of(b, bridge, add, set, key, klen, NULL, val, vlen);
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

static void ex_meta(struct rule *ru, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	ex_add(ru, e);
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

static void ex_payload(struct rule *ru, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	ex_add(ru, e);
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

/* ---- groups ------------------------------------------------------------ */

static void group_chains(struct vn_sg_batch *b, const char *gid, uint16_t type)
{
	char n[64];

	gname(n, sizeof(n), "g_", gid, "_i");
	m_chain(b, false, type, n, -1, 0);
	gname(n, sizeof(n), "g_", gid, "_e");
	m_chain(b, false, type, n, -1, 0);
}

void vn_sg_b_group_add(struct vn_sg_batch *b, const char *gid)
{
	char n[64];

	gname(n, sizeof(n), "m4_", gid, "");
	m_set(b, false, NFT_MSG_NEWSET, n, TYPE_IPADDR, 4, false);
	gname(n, sizeof(n), "m6_", gid, "");
	m_set(b, false, NFT_MSG_NEWSET, n, TYPE_IP6ADDR, 16, false);
	group_chains(b, gid, NFT_MSG_NEWCHAIN);
}

void vn_sg_b_group_del(struct vn_sg_batch *b, const char *gid)
{
	char n[64];

	gname(n, sizeof(n), "g_", gid, "_i");
	m_flush(b, false, n);
	gname(n, sizeof(n), "g_", gid, "_e");
	m_flush(b, false, n);
	group_chains(b, gid, NFT_MSG_DELCHAIN);
	gname(n, sizeof(n), "m4_", gid, "");
	m_set(b, false, NFT_MSG_DELSET, n, 0, 0, false);
	gname(n, sizeof(n), "m6_", gid, "");
	m_set(b, false, NFT_MSG_DELSET, n, 0, 0, false);
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

void vn_sg_b_group_rules(struct vn_sg_batch *b, const struct vn_sg_group *g, bool append)
{
	char n[64];

	if (!append) {
		gname(n, sizeof(n), "g_", g->gid, "_i");
		m_flush(b, false, n);
		gname(n, sizeof(n), "g_", g->gid, "_e");
		m_flush(b, false, n);
	}
	for (size_t i = 0; i < g->nrules; i++)
		rule_add(b, g->gid, &g->rules[i]);
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
	int r;

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
	for (size_t i = 0; i < ngroups; i++)
		vn_sg_b_group_rules(b, &groups[i], true);
	for (size_t i = 0; i < nmembers; i++)
		vn_sg_b_member(b, members[i].gid, &members[i].addr, true);
	for (size_t i = 0; i < nports; i++)
		vn_sg_b_port_set(b, &ports[i], false);
	for (size_t i = 0; i < nzones; i++)
		vn_sg_b_zone(b, zones[i].bridge, zones[i].zone, true);
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

struct ct_arg {
	const struct vn_addr *addrs;
	size_t naddrs;
	bool (*drop)(void *arg, const struct vn_sg_flow *f);
	void *arg;
	struct nf_conntrack **victims;
	size_t n, cap;
	int err;
};

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
	if (!c->drop(c->arg, &f))
		return NFCT_CB_CONTINUE;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct nf_conntrack **v = realloc(c->victims, cap * sizeof(*v));

		if (!v) {
			c->err = -ENOMEM;
			return NFCT_CB_STOP;
		}
		c->victims = v;
		c->cap = cap;
	}
	c->victims[c->n] = nfct_clone(ct);
	if (c->victims[c->n])
		c->n++;
	return NFCT_CB_CONTINUE;
}

static int ct_run(void *data)
{
	struct ct_arg *c = data;
	struct nfct_handle *h = nfct_open(CONNTRACK, 0);
	uint32_t family = AF_UNSPEC;
	int deleted = 0;

	if (!h)
		return -errno;
	nfct_callback_register(h, NFCT_T_ALL, ct_cb, c);
	if (nfct_query(h, NFCT_Q_DUMP, &family) < 0 && !c->err)
		c->err = -errno;
	for (size_t i = 0; i < c->n; i++) {
		/* gone meanwhile (ENOENT) is as good as deleted */
		if (nfct_query(h, NFCT_Q_DESTROY, c->victims[i]) == 0)
			deleted++;
		nfct_destroy(c->victims[i]);
	}
	nfct_close(h);
	return c->err ? c->err : deleted;
}

int vn_sg_ct_flush(struct vn_ns *ns, const struct vn_addr *addrs, size_t naddrs,
		   bool (*drop)(void *arg, const struct vn_sg_flow *f), void *arg)
{
	struct ct_arg c = {.addrs = addrs, .naddrs = naddrs, .drop = drop, .arg = arg};
	int r;

	if (!ns || !naddrs)
		return 0;
	r = vn_ns_run(ns, ct_run, &c);
	free(c.victims);
	return r;
}
#else
int vn_sg_ct_flush(struct vn_ns *ns, const struct vn_addr *addrs, size_t naddrs,
		   bool (*drop)(void *arg, const struct vn_sg_flow *f), void *arg)
{
	(void)ns, (void)addrs, (void)drop, (void)arg;
	return naddrs ? -EOPNOTSUPP : 0;
}
#endif
