// SPDX-License-Identifier: MIT
/*
 * The NAT of a router namespace through libnftnl + libmnl: see
 * include/vnetfs/nft.h.
 *
 * Every change is one nfnetlink batch, so the kernel applies it as one
 * transaction (all or nothing), the way `nft -f` does. A replace
 * (vn_nft_router_sync: start-up, reconcile, gateway and enable_snat
 * changes):
 *
 *	add table ip vnetfs        (NLM_F_CREATE: fine if it exists)
 *	delete table ip vnetfs     (so the old contents are gone)
 *	add table ip vnetfs        (only with a gateway)
 *	add chain ... / add rule ... / add rule vnetfs_mark (the marker)
 *
 * An update (vn_nft_router_update: interfaces added or removed):
 *
 *	delete rule ip vnetfs postrouting handle H   (each subnet gone)
 *	add rule ip vnetfs postrouting ...           (each subnet come)
 *	flush chain ip vnetfs vnetfs_mark; add rule vnetfs_mark (the marker)
 *
 * SNAT rules are sent with NLM_F_ECHO: the kernel echoes each, with the
 * handle it gave it, when the batch commits, and the handle (struct
 * vn_ns.nat) keeps them, so a later delete names its rule. The table's
 * other rules are never touched by an update, so its cost does not grow
 * with the router's interfaces (no rule-set re-validation of them, no
 * rebuild of their expressions).
 *
 * Only the last message of the batch asks for an ACK. The kernel reports
 * an error for every failing message whether or not it asked for an ACK,
 * and delivers all of them (after committing or aborting the whole batch)
 * before the ACK of the last message, so reading until that ACK gives the
 * whole outcome with one or a handful of replies whatever the size of the
 * batch (an ACK per rule could overrun the socket's receive buffer; the
 * echoes of a big replace get a receive buffer sized for them).
 *
 * One socket per namespace handle (struct vn_ns), opened inside the
 * namespace (vn_ns_run) the first time and kept: it stays bound to that
 * namespace, and closing one costs an RCU grace period (8-20 ms), which
 * vn_ns_close() leaves to the handle's closer (fs/jobs.c: the daemon's
 * closer thread). Sequence numbers
 * keep increasing on it; replies of other sequence numbers are ignored and
 * a socket that saw a transport error is given up.
 *
 * A replace is skipped when the kernel already holds it: every commit of
 * ours writes the marker rule, whose comment is "vnetfs HASH gen GEN"
 * (HASH: of the table's contents, its fixed part's messages plus the sum
 * of its SNAT rules' messages' hashes, sequence numbers aside, so an
 * update can compute it from the old one and rule order does not count;
 * GEN: the nftables generation our commit produces, the one read before
 * it plus one). Each commit in a namespace, by anyone, moves its
 * generation on, so a marker that names the table we would make and the
 * generation the namespace is still at says the kernel holds exactly that.
 * This costs one NFT_MSG_GETGEN (and one GETRULE dump of the marker chain
 * when the handle has not itself made the last commit, e.g. after a
 * restart) instead of a commit. An update is only done when the handle
 * made the last commit in the namespace (the generation says so) with the
 * same gateway; anything else is -ESTALE, and the caller replaces.
 *
 * Rules are built with the same expressions `nft` itself generates, so
 * `nft list table ip vnetfs` shows them in the ordinary syntax:
 *
 *	ip saddr 10.0.1.0/24 oifname "qg-x" snat to 172.24.4.10
 *	  payload load 4b @ network header + 12 => reg 1
 *	  bitwise reg 1 = (reg 1 & 0x00ffffff) ^ 0x00000000
 *	  cmp eq reg 1 0x0001000a
 *	  meta load oifname => reg 1
 *	  cmp eq reg 1 "qg-x" (zero-padded to IFNAMSIZ)
 *	  immediate reg 1 0x0a0418ac
 *	  nat snat ip addr_min reg 1
 */
#include "vnetfs/nft.h"

#include "ns_priv.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

/* Room kept free in the batch buffer before building one message: far more
 * than the largest message built here (a rule of seven expressions is a
 * few hundred bytes). */
#define MSG_ROOM 8192
/* Receive buffer for replies (errors are short: NETLINK_CAP_ACK). */
#define RECV_SIZE 16384
/* Receive buffer room kept per echoed rule (its message and skb). */
#define ECHO_ROOM 1024
/* No reply within this long is an error (-ETIMEDOUT). */
#define RECV_TIMEOUT_S 30

/* offsetof(struct iphdr, saddr / daddr) */
#define IP_SADDR_OFF 12
#define IP_DADDR_OFF 16

/* Chain priorities `dstnat` and `srcnat` of the ip family. */
#define PRIO_DSTNAT (-100)
#define PRIO_SRCNAT 100

/* ---- cleanup helpers --------------------------------------------------- */

static void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))

static void table_freep(struct nftnl_table **t)
{
	if (*t)
		nftnl_table_free(*t);
}
#define _cleanup_table_ __attribute__((cleanup(table_freep)))

static void chain_freep(struct nftnl_chain **c)
{
	if (*c)
		nftnl_chain_free(*c);
}
#define _cleanup_chain_ __attribute__((cleanup(chain_freep)))

static void rule_freep(struct nftnl_rule **r)
{
	if (*r)
		nftnl_rule_free(*r);
}
#define _cleanup_rule_ __attribute__((cleanup(rule_freep)))

/* ---- the socket -------------------------------------------------------- */

static int mnl_open_cb(void *arg)
{
	struct mnl_socket **out = arg;
	struct mnl_socket *nl;
	int err;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		mnl_socket_close(nl);
		return err;
	}
	*out = nl;
	return 0;
}

/* Give up the kept socket (after a transport error: replies of an
 * exchange that failed half-way may still be queued on it). Its close is
 * left to the handle's closer. */
static void nft_drop(struct vn_ns *ns)
{
	int copy;

	if (!ns->nft)
		return;
	copy = fcntl(mnl_socket_get_fd(ns->nft), F_DUPFD_CLOEXEC, 0);
	vn_be_close_later(ns, copy);
	mnl_socket_close(ns->nft);
	ns->nft = NULL;
}

/* The NETLINK_NETFILTER socket of ns: opened inside ns the first time,
 * then kept (see ns_priv.h). */
static int nft_socket(struct vn_ns *ns, struct mnl_socket **out)
{
	const struct timeval tv = {.tv_sec = RECV_TIMEOUT_S};
	struct mnl_socket *nl = NULL;
	int one = 1;
	int err;

	*out = ns->nft;
	if (ns->nft)
		return 0;
	err = vn_ns_run(ns, mnl_open_cb, &nl);
	if (err)
		return err;
	/* Errors without the failed message echoed back: replies stay small.
	 * Best effort (kernels < 4.3 echo it, which is merely bigger). */
	(void)mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	/* The kernel answers at once; never hang the caller (who holds the
	 * model lock) on a reply that will not come. */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		err = -errno;
		mnl_socket_close(nl); /* never used: nothing to wait for */
		return err;
	}
	ns->nft = nl;
	ns->nft_stats.opens++;
	*out = nl;
	return 0;
}

/* The next n sequence numbers on ns's socket (never 0). */
static uint32_t nft_seqs(struct vn_ns *ns, uint32_t n)
{
	uint32_t first;

	if (ns->nft_seq == 0 || ns->nft_seq > UINT32_MAX / 2 - n)
		ns->nft_seq = 1;
	first = ns->nft_seq;
	ns->nft_seq += n;
	return first;
}

void vn_nft_stats_get(const struct vn_ns *ns, struct vn_nft_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (ns)
		*st = ns->nft_stats;
}

int vn_nft_sock_fd(const struct vn_ns *ns)
{
	return ns && ns->nft ? mnl_socket_get_fd(ns->nft) : -1;
}

/* A send buffer of at least len bytes (SO_SNDBUFFORCE when root, as nft
 * does for large batches); netlink refuses a message longer than it. */
static int ensure_sndbuf(struct mnl_socket *nl, size_t len)
{
	int fd = mnl_socket_get_fd(nl);
	int cur = 0;
	socklen_t sl = sizeof(cur);
	int want;

	if (len > INT32_MAX / 2)
		return -EMSGSIZE;
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &sl) < 0)
		return -errno;
	if ((size_t)cur >= len + 4096)
		return 0;
	want = (int)len + 4096; /* the kernel doubles it */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want)) < 0)
		return -errno;
	return 0;
}

/* A receive buffer for at least len bytes of replies (echoed rules). */
static int ensure_rcvbuf(struct mnl_socket *nl, size_t len)
{
	int fd = mnl_socket_get_fd(nl);
	int cur = 0;
	socklen_t sl = sizeof(cur);
	int want;

	if (len > INT32_MAX / 4)
		return -EMSGSIZE;
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cur, &sl) < 0)
		return -errno;
	if ((size_t)cur >= 2 * len)
		return 0;
	want = (int)len; /* the kernel doubles it */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want)) < 0)
		return -errno;
	return 0;
}

/* ---- the batch --------------------------------------------------------- */

struct batch {
	char *buf;
	size_t len, cap;
	size_t last;	/* offset of the last object message */
	uint32_t seq;	/* next sequence number */
	uint32_t begin; /* seq of the batch-begin message */
	uint32_t ack;	/* seq of the message asking for the ACK */
	int err;	/* sticky allocation failure */
};

/* Where the next message goes, with MSG_ROOM bytes of zeroed space; NULL
 * (and b->err) when out of memory. */
static char *batch_cur(struct batch *b)
{
	if (b->err)
		return NULL;
	if (b->cap - b->len < MSG_ROOM) {
		size_t ncap = b->cap ? b->cap * 2 : 4 * MSG_ROOM;
		char *nbuf;

		while (ncap - b->len < MSG_ROOM)
			ncap *= 2;
		nbuf = realloc(b->buf, ncap);
		if (!nbuf) {
			b->err = -ENOMEM;
			return NULL;
		}
		memset(nbuf + b->cap, 0, ncap - b->cap);
		b->buf = nbuf;
		b->cap = ncap;
	}
	return b->buf + b->len;
}

/* The message just built at batch_cur() is complete. */
static void batch_next(struct batch *b, const struct nlmsghdr *nlh)
{
	/* A message overrunning MSG_ROOM has already scribbled on the heap:
	 * a bug here, not a runtime condition. */
	if (nlh->nlmsg_len > MSG_ROOM)
		abort();
	b->last = b->len;
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void batch_begin(struct batch *b)
{
	char *p = batch_cur(b);

	if (!p)
		return;
	b->begin = b->seq;
	batch_next(b, nftnl_batch_begin(p, b->seq++));
}

/* Close the batch; the last object message asks for the ACK. */
static void batch_end(struct batch *b)
{
	struct nlmsghdr *last;
	char *p;

	if (b->err)
		return;
	last = (struct nlmsghdr *)(b->buf + b->last);
	last->nlmsg_flags |= NLM_F_ACK;
	b->ack = last->nlmsg_seq;
	p = batch_cur(b);
	if (!p)
		return;
	nftnl_batch_end(p, b->seq++);
	b->len += NLMSG_ALIGN(((struct nlmsghdr *)p)->nlmsg_len);
}

static void udata_freep(struct nftnl_udata_buf **u)
{
	if (*u)
		nftnl_udata_buf_free(*u);
}
#define _cleanup_udata_ __attribute__((cleanup(udata_freep)))

/* comment: the table's comment (NULL: none). */
static void put_table(struct batch *b, uint16_t type, uint16_t flags, const char *comment)
{
	_cleanup_table_ struct nftnl_table *t = nftnl_table_alloc();
	_cleanup_udata_ struct nftnl_udata_buf *u = NULL;
	struct nlmsghdr *nlh;
	char *p = batch_cur(b);

	if (!p)
		return;
	if (!t || nftnl_table_set_str(t, NFTNL_TABLE_NAME, VN_NFT_TABLE) < 0) {
		b->err = -ENOMEM;
		return;
	}
	if (comment) {
		u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
		if (!u || !nftnl_udata_put_strz(u, NFTNL_UDATA_TABLE_COMMENT, comment) ||
		    nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(u),
					 nftnl_udata_buf_len(u)) < 0) {
			b->err = -ENOMEM;
			return;
		}
	}
	nlh = nftnl_table_nlmsg_build_hdr(p, type, NFPROTO_IPV4, flags, b->seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	batch_next(b, nlh);
}

static void put_chain(struct batch *b, const char *name, uint32_t hook, int32_t prio)
{
	_cleanup_chain_ struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	char *p = batch_cur(b);

	if (!p)
		return;
	if (!c || nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, VN_NFT_TABLE) < 0 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name) < 0 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "nat") < 0) {
		b->err = -ENOMEM;
		return;
	}
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = nftnl_chain_nlmsg_build_hdr(p, NFT_MSG_NEWCHAIN, NFPROTO_IPV4, NLM_F_CREATE,
					  b->seq++);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	batch_next(b, nlh);
}

/* ---- rules ------------------------------------------------------------- */

/* A rule under construction; the first allocation failure sticks in err
 * and makes the remaining calls no-ops. */
struct rule {
	struct nftnl_rule *r;
	int err;
};

static struct nftnl_expr *rule_expr(struct rule *ru, const char *name)
{
	struct nftnl_expr *e;

	if (ru->err)
		return NULL;
	e = nftnl_expr_alloc(name);
	if (!e)
		ru->err = -ENOMEM;
	return e;
}

static void rule_add(struct rule *ru, struct nftnl_expr *e)
{
	if (e)
		nftnl_rule_add_expr(ru->r, e);
}

/* reg1 = 4 bytes of the IPv4 header at off */
static void expr_payload(struct rule *ru, uint32_t off)
{
	struct nftnl_expr *e = rule_expr(ru, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, sizeof(uint32_t));
	rule_add(ru, e);
}

/* reg1 == data */
static void expr_cmp_eq(struct rule *ru, const void *data, uint32_t len)
{
	struct nftnl_expr *e = rule_expr(ru, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	if (nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len) < 0)
		ru->err = -ENOMEM;
	rule_add(ru, e);
}

/* reg1 = reg1 & mask (4 bytes) */
static void expr_mask(struct rule *ru, uint32_t mask_be)
{
	struct nftnl_expr *e = rule_expr(ru, "bitwise");
	const uint32_t zero = 0;

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
	if (nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask_be, sizeof(mask_be)) < 0 ||
	    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero)) < 0)
		ru->err = -ENOMEM;
	rule_add(ru, e);
}

/* `ip saddr/daddr NET/PREFIX` (prefix 32: a plain address; 0: nothing). */
static void match_ip(struct rule *ru, uint32_t off, uint32_t net, int prefix)
{
	uint32_t mask = prefix >= 32 ? UINT32_MAX : prefix <= 0 ? 0 : ~(UINT32_MAX >> prefix);
	uint32_t val = htonl(net & mask);

	if (prefix <= 0)
		return;
	expr_payload(ru, off);
	if (prefix < 32)
		expr_mask(ru, htonl(mask));
	expr_cmp_eq(ru, &val, sizeof(val));
}

/* `oifname NAME`: the name zero-padded to IFNAMSIZ, as nft compares it. */
static void match_oifname(struct rule *ru, const char *ifname)
{
	struct nftnl_expr *e = rule_expr(ru, "meta");
	char name[IFNAMSIZ] = {0};

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_OIFNAME);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	rule_add(ru, e);
	strncpy(name, ifname, sizeof(name) - 1);
	expr_cmp_eq(ru, name, sizeof(name));
}

/* `snat to ADDR` / `dnat to ADDR` */
static void stmt_nat(struct rule *ru, enum nft_nat_types type, uint32_t addr)
{
	struct nftnl_expr *imm = rule_expr(ru, "immediate");
	struct nftnl_expr *nat;
	uint32_t val = htonl(addr);

	if (!imm)
		return;
	nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	if (nftnl_expr_set(imm, NFTNL_EXPR_IMM_DATA, &val, sizeof(val)) < 0)
		ru->err = -ENOMEM;
	rule_add(ru, imm);
	nat = rule_expr(ru, "nat");
	if (!nat)
		return;
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_TYPE, type);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	rule_add(ru, nat);
}

static uint32_t v4(const struct vn_addr *a)
{
	return (uint32_t)a->v;
}

/* Append `[ip saddr NET/P] [ip daddr D] [oifname IF] Xnat to TO` to chain. */
struct rule_spec {
	const char *chain;
	const struct vn_cidr *saddr; /* NULL: any */
	const struct vn_addr *daddr; /* NULL: any */
	const char *oifname;	     /* NULL: any */
	enum nft_nat_types nat;
	const struct vn_addr *to;
	bool tag; /* an internal subnet's SNAT rule: saddr as its key */
};

/* The user-data TLV type that names an internal subnet's SNAT rule: the
 * subnet's address (4 bytes, network order) and prefix (1 byte). nft
 * shows only the comment type (0) and ignores others, so `nft list` is
 * unchanged; a restarted daemon finds each rule's handle by it. */
#define UDATA_SNAT_KEY 0xf0
#define SNAT_KEY_LEN 5

static void put_rule(struct batch *b, const struct rule_spec *s)
{
	_cleanup_rule_ struct nftnl_rule *r = nftnl_rule_alloc();
	struct rule ru = {.r = r, .err = r ? 0 : -ENOMEM};
	struct nlmsghdr *nlh;
	char *p;

	if (b->err)
		return;
	if (!ru.err && (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, VN_NFT_TABLE) < 0 ||
			nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, s->chain) < 0))
		ru.err = -ENOMEM;
	if (s->saddr)
		match_ip(&ru, IP_SADDR_OFF, v4(&s->saddr->net), s->saddr->prefix);
	if (s->daddr)
		match_ip(&ru, IP_DADDR_OFF, v4(s->daddr), 32);
	if (s->oifname)
		match_oifname(&ru, s->oifname);
	stmt_nat(&ru, s->nat, v4(s->to));
	if (s->tag && !ru.err) {
		_cleanup_udata_ struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(64);
		uint32_t net = htonl(v4(&s->saddr->net));
		unsigned char key[SNAT_KEY_LEN];

		memcpy(key, &net, 4);
		key[4] = (unsigned char)s->saddr->prefix;
		if (!u || !nftnl_udata_put(u, UDATA_SNAT_KEY, sizeof(key), key) ||
		    nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
					nftnl_udata_buf_len(u)) < 0)
			ru.err = -ENOMEM;
	}
	p = batch_cur(b);
	if (ru.err || !p) {
		b->err = b->err ? b->err : ru.err;
		return;
	}
	nlh = nftnl_rule_nlmsg_build_hdr(p, NFT_MSG_NEWRULE, NFPROTO_IPV4,
					 NLM_F_CREATE | NLM_F_APPEND, b->seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	batch_next(b, nlh);
}

/* ---- talking to the kernel --------------------------------------------- */

/* A rule sent with NLM_F_ECHO: the kernel echoes it, with its handle,
 * when the batch commits. */
struct echo {
	uint32_t seq;
	uint64_t handle; /* 0: not echoed (yet) */
};

struct acks {
	uint32_t begin, last; /* seq of the batch begin and of the ACKed message */
	uint32_t err_seq;
	int err;   /* the error of the earliest failing message */
	bool done; /* the final ACK (or a batch-level error) arrived */
	struct echo *echo;
	size_t necho;
};

static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	struct acks *a = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	/* Not of this batch (a late reply to an earlier exchange). */
	if (nlh->nlmsg_seq < a->begin || nlh->nlmsg_seq > a->last)
		return MNL_CB_OK;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		if (!a->err)
			a->err = -EBADMSG;
		a->done = true;
		return MNL_CB_STOP;
	}
	if (e->error && (!a->err || nlh->nlmsg_seq < a->err_seq)) {
		a->err = e->error < 0 ? e->error : -e->error;
		a->err_seq = nlh->nlmsg_seq;
	}
	/* An error on the batch header itself (no permission, out of memory,
	 * commit failed) may be all that ever comes back. */
	if (nlh->nlmsg_seq == a->last || (e->error && nlh->nlmsg_seq == a->begin)) {
		a->done = true;
		return MNL_CB_STOP;
	}
	return MNL_CB_OK;
}

static int rule_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type == NFTA_RULE_HANDLE && mnl_attr_validate(attr, MNL_TYPE_U64) == 0)
		tb[type] = attr;
	else if (type == NFTA_RULE_CHAIN && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		tb[type] = attr;
	else if (type == NFTA_RULE_USERDATA && mnl_attr_validate(attr, MNL_TYPE_BINARY) == 0)
		tb[type] = attr;
	return MNL_CB_OK;
}

/* A rule of ours echoed back on commit: note its handle. */
static int echo_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_RULE_MAX + 1] = {0};
	struct acks *a = data;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE) ||
	    nlh->nlmsg_seq < a->begin || nlh->nlmsg_seq > a->last)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), rule_attr_cb, tb) < 0 ||
	    !tb[NFTA_RULE_HANDLE])
		return MNL_CB_OK;
	for (size_t i = 0; i < a->necho; i++)
		if (a->echo[i].seq == nlh->nlmsg_seq) {
			a->echo[i].handle = be64toh(mnl_attr_get_u64(tb[NFTA_RULE_HANDLE]));
			break;
		}
	return MNL_CB_OK;
}

static int recv_some(struct mnl_socket *nl, char *buf, size_t len)
{
	ssize_t n;

	do
		n = mnl_socket_recvfrom(nl, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	return (int)n;
}

/* Throw away whatever is queued on the socket (nothing, unless an earlier
 * exchange was cut short): one non-blocking read. */
static void drain(struct mnl_socket *nl, char *buf, size_t len)
{
	while (recv(mnl_socket_get_fd(nl), buf, len, MSG_DONTWAIT) > 0)
		;
}

/* A transport error (not an error the kernel reported about a message):
 * the socket may hold half an exchange, so it is given up. */
static int transport_err(struct vn_ns *ns, int err)
{
	nft_drop(ns);
	return err;
}

/* Send b and read its outcome; the handles of the rules in echo[] (sent
 * with NLM_F_ECHO) are filled in as the kernel echoes them. */
static int batch_send_echo(struct vn_ns *ns, const struct batch *b, struct echo *echo, size_t necho)
{
	_cleanup_free_ char *buf = NULL;
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {[NLMSG_ERROR] = ack_cb};
	struct acks a = {.begin = b->begin, .last = b->ack, .echo = echo, .necho = necho};
	struct mnl_socket *nl;
	unsigned portid;
	ssize_t sent;
	int err;

	err = nft_socket(ns, &nl);
	if (err)
		return err;
	err = ensure_sndbuf(nl, b->len);
	/* An echoed rule is a few hundred bytes; an overrun would lose the
	 * outcome of a batch the kernel has committed. */
	if (!err && necho)
		err = ensure_rcvbuf(nl, necho * ECHO_ROOM + 65536);
	if (err)
		return err;
	buf = malloc(RECV_SIZE);
	if (!buf)
		return -ENOMEM;
	drain(nl, buf, RECV_SIZE);
	portid = mnl_socket_get_portid(nl);
	sent = mnl_socket_sendto(nl, b->buf, b->len);
	if (sent < 0)
		return transport_err(ns, -errno);
	if ((size_t)sent != b->len)
		return transport_err(ns, -EIO);
	ns->nft_stats.batches++;
	while (!a.done) {
		int n = recv_some(nl, buf, RECV_SIZE);

		if (n < 0)
			return transport_err(ns, n);
		if (mnl_cb_run2(buf, (size_t)n, 0, portid, echo_cb, &a, ctl, NLMSG_MIN_TYPE) < 0 &&
		    !a.done)
			return transport_err(ns, -errno);
	}
	return a.err;
}

static int batch_send(struct vn_ns *ns, const struct batch *b)
{
	return batch_send_echo(ns, b, NULL, 0);
}

/* One request (nlh, with NLM_F_ACK) and its replies, each given to cb,
 * until the ACK. 0, or the kernel's error for the request, or a transport
 * error. */
static int request(struct vn_ns *ns, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	_cleanup_free_ char *buf = malloc(RECV_SIZE);
	struct mnl_socket *nl;
	uint32_t seq = nlh->nlmsg_seq;
	unsigned portid;
	int err;

	if (!buf)
		return -ENOMEM;
	err = nft_socket(ns, &nl);
	if (err)
		return err;
	drain(nl, buf, RECV_SIZE);
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return transport_err(ns, -errno);
	for (;;) {
		int n = recv_some(nl, buf, RECV_SIZE);

		if (n < 0)
			return transport_err(ns, n);
		n = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (n < 0) {
			/* errno: the kernel's error for the request, or
			 * ESRCH/EPROTO for a reply that is not ours */
			err = -errno;
			if (errno == ESRCH || errno == EPROTO || errno == EBADMSG)
				return transport_err(ns, err);
			return err;
		}
		if (n == MNL_CB_STOP)
			return 0;
	}
}

/* ---- the API ----------------------------------------------------------- */

static bool has_gateway(const struct vn_nft_router *cfg)
{
	return cfg && cfg->gw_ifname && *cfg->gw_ifname;
}

static int check_cfg(const struct vn_nft_router *cfg)
{
	if (!has_gateway(cfg))
		return 0;
	if (strlen(cfg->gw_ifname) >= IFNAMSIZ)
		return -EINVAL;
	if ((cfg->ninternal && !cfg->internal) || (cfg->nfips && !cfg->fips))
		return -EINVAL;
	for (size_t i = 0; i < cfg->nfips; i++)
		if (cfg->fips[i].floating.af != AF_INET || cfg->fips[i].fixed.af != AF_INET)
			return -EINVAL;
	if (!cfg->snat)
		return 0;
	for (size_t i = 0; i < cfg->ninternal; i++) {
		const struct vn_cidr *c = &cfg->internal[i];

		if (c->net.af == AF_INET6)
			continue; /* no NAT for IPv6, as Neutron */
		if (c->net.af != AF_INET || c->prefix < 0 || c->prefix > 32 ||
		    cfg->gw_addr.af != AF_INET)
			return -EINVAL;
	}
	return 0;
}

/* ---- more messages ----------------------------------------------------- */

/* The chain that holds the marker rule: no hook, never evaluated. */
#define MARK_CHAIN "vnetfs_mark"
#define SNAT_CHAIN "postrouting"

/* A chain with no hook (a non-base chain, never evaluated by itself). */
static void put_plain_chain(struct batch *b, const char *name)
{
	_cleanup_chain_ struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	char *p = batch_cur(b);

	if (!p)
		return;
	if (!c || nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, VN_NFT_TABLE) < 0 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name) < 0) {
		b->err = -ENOMEM;
		return;
	}
	nlh = nftnl_chain_nlmsg_build_hdr(p, NFT_MSG_NEWCHAIN, NFPROTO_IPV4, NLM_F_CREATE,
					  b->seq++);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	batch_next(b, nlh);
}

/* DELRULE in chain: the rule of that handle, or (handle 0) every rule of
 * the chain. */
static void put_delrule(struct batch *b, const char *chain, uint64_t handle)
{
	_cleanup_rule_ struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	char *p = batch_cur(b);

	if (!p)
		return;
	if (!r || nftnl_rule_set_str(r, NFTNL_RULE_TABLE, VN_NFT_TABLE) < 0 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain) < 0) {
		b->err = -ENOMEM;
		return;
	}
	if (handle)
		nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
	nlh = nftnl_rule_nlmsg_build_hdr(p, NFT_MSG_DELRULE, NFPROTO_IPV4, 0, b->seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	batch_next(b, nlh);
}

/* The marker: a rule with no expressions and the comment text. */
static void put_mark(struct batch *b, const char *text)
{
	_cleanup_rule_ struct nftnl_rule *r = nftnl_rule_alloc();
	_cleanup_udata_ struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	struct nlmsghdr *nlh;
	char *p = batch_cur(b);

	if (!p)
		return;
	if (!r || !u || nftnl_rule_set_str(r, NFTNL_RULE_TABLE, VN_NFT_TABLE) < 0 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, MARK_CHAIN) < 0 ||
	    !nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, text) ||
	    nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
				nftnl_udata_buf_len(u)) < 0) {
		b->err = -ENOMEM;
		return;
	}
	nlh = nftnl_rule_nlmsg_build_hdr(p, NFT_MSG_NEWRULE, NFPROTO_IPV4,
					 NLM_F_CREATE | NLM_F_APPEND, b->seq++);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	batch_next(b, nlh);
}

/* ---- what the kernel holds: hashes and the kept rules ------------------ */

/* FNV-1a, 64 bits, of one message: length, type, flags (but ACK and
 * ECHO) and payload, not the sequence number or port id. */
static uint64_t msg_hash(uint64_t h, const struct nlmsghdr *nlh)
{
	const uint32_t head[3] = {nlh->nlmsg_len, nlh->nlmsg_type,
				  nlh->nlmsg_flags & ~(uint32_t)(NLM_F_ACK | NLM_F_ECHO)};
	const unsigned char *p = (const unsigned char *)head;

	for (size_t i = 0; i < sizeof(head); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	p = (const unsigned char *)NLMSG_DATA(nlh);
	for (size_t i = 0; i < nlh->nlmsg_len - NLMSG_HDRLEN; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

#define FNV_BASIS 0xcbf29ce484222325ULL

/* The messages of b from offset off on. */
static uint64_t range_hash(const struct batch *b, size_t off)
{
	uint64_t h = FNV_BASIS;

	while (off + NLMSG_HDRLEN <= b->len) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(b->buf + off);

		if (nlh->nlmsg_len < NLMSG_HDRLEN || off + nlh->nlmsg_len > b->len)
			break;
		h = msg_hash(h, nlh);
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	return h;
}

/* The table's hash: of its fixed part (table, chains, floating IPs) plus
 * the sum of its SNAT rules' (so their order does not count: an
 * incremental change appends, a replace writes them in list order).
 * Never 0 (0: no table). */
static uint64_t table_hash(uint64_t fixed, uint64_t sum)
{
	uint64_t h = fixed + sum;

	return h ? h : 1;
}

struct nat_rule {
	uint32_t net; /* host order, masked to prefix */
	int prefix;
	uint64_t handle; /* 0: not known (a table found, not made, by this handle) */
	uint64_t hash;	 /* of its NEWRULE message */
};

struct vn_nft_nat {
	uint64_t fixed; /* hash of the fixed part */
	uint64_t sum;	/* sum of the rules' hashes */
	uint32_t gen;	/* generation at which the kernel holds this (0: unknown) */
	size_t n, cap;
	struct nat_rule r[];
};

static struct vn_nft_nat *nat_grow(struct vn_nft_nat *nat, size_t want)
{
	struct vn_nft_nat *n;
	size_t cap;

	if (nat && nat->cap >= want)
		return nat;
	cap = nat && nat->cap ? nat->cap : 8;
	while (cap < want)
		cap *= 2;
	n = realloc(nat, sizeof(*n) + cap * sizeof(n->r[0]));
	if (!n)
		return NULL;
	if (!nat)
		memset(n, 0, sizeof(*n));
	n->cap = cap;
	return n;
}

static bool nat_valid(const struct vn_ns *ns)
{
	return ns->nat && ns->nat->gen && ns->nat->gen == ns->nft_mark.gen;
}

static void cidr_key(const struct vn_cidr *c, uint32_t *net, int *prefix)
{
	uint32_t mask = c->prefix >= 32	 ? UINT32_MAX
			: c->prefix <= 0 ? 0
					 : ~(UINT32_MAX >> c->prefix);

	*net = v4(&c->net) & mask;
	*prefix = c->prefix;
}

static ssize_t nat_find(const struct vn_nft_nat *nat, const struct vn_cidr *c)
{
	uint32_t net;
	int prefix;

	cidr_key(c, &net, &prefix);
	for (size_t i = 0; nat && i < nat->n; i++)
		if (nat->r[i].net == net && nat->r[i].prefix == prefix)
			return (ssize_t)i;
	return -1;
}

/* `ip saddr C oifname GW snat to ADDR`, echoed (for its handle): appended
 * to b, its hash in *hash, its seq in *seq. */
static void put_snat(struct batch *b, const struct vn_nft_router *cfg, const struct vn_cidr *c,
		     uint64_t *hash, uint32_t *seq)
{
	struct nlmsghdr *nlh;

	struct vn_cidr key = *c;
	uint32_t net;
	int prefix;

	cidr_key(c, &net, &prefix);
	key.net.v = net;
	put_rule(b, &(struct rule_spec){.chain = SNAT_CHAIN,
					.saddr = &key,
					.oifname = cfg->gw_ifname,
					.nat = NFT_NAT_SNAT,
					.to = &cfg->gw_addr,
					.tag = true});
	if (b->err)
		return;
	nlh = (struct nlmsghdr *)(b->buf + b->last);
	*hash = msg_hash(FNV_BASIS, nlh);
	*seq = nlh->nlmsg_seq;
	nlh->nlmsg_flags |= NLM_F_ECHO;
}

/* The fixed part of the table (after the batch's begin): an empty table
 * made sure of and deleted, then, with a gateway, the table, its chains,
 * the floating IPs' rules. Its hash (0 without a gateway). */
static uint64_t build_fixed(struct batch *b, const struct vn_nft_router *cfg)
{
	size_t off = b->len;

	put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, NULL);
	put_table(b, NFT_MSG_DELTABLE, 0, NULL);
	if (!has_gateway(cfg))
		return 0;
	put_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, NULL);
	put_chain(b, "prerouting", NF_INET_PRE_ROUTING, PRIO_DSTNAT);
	put_chain(b, "output", NF_INET_LOCAL_OUT, PRIO_DSTNAT);
	put_chain(b, SNAT_CHAIN, NF_INET_POST_ROUTING, PRIO_SRCNAT);
	put_plain_chain(b, MARK_CHAIN);
	for (size_t i = 0; i < cfg->nfips; i++) {
		const struct vn_nft_fip *f = &cfg->fips[i];
		const struct vn_cidr fixed = {.net = f->fixed, .prefix = 32};

		put_rule(b, &(struct rule_spec){.chain = "prerouting",
						.daddr = &f->floating,
						.nat = NFT_NAT_DNAT,
						.to = &f->fixed});
		put_rule(b, &(struct rule_spec){.chain = "output",
						.daddr = &f->floating,
						.nat = NFT_NAT_DNAT,
						.to = &f->fixed});
		put_rule(b, &(struct rule_spec){.chain = SNAT_CHAIN,
						.saddr = &fixed,
						.oifname = cfg->gw_ifname,
						.nat = NFT_NAT_SNAT,
						.to = &f->floating});
	}
	/* The SNAT rules' common part (the rules themselves are hashed one
	 * by one): an update is only valid for the same gateway. */
	{
		struct {
			char ifname[IFNAMSIZ];
			uint32_t addr;
			uint32_t snat;
		} gw = {.addr = v4(&cfg->gw_addr), .snat = cfg->snat};
		const unsigned char *p = (const unsigned char *)&gw;
		uint64_t h = range_hash(b, off);

		strncpy(gw.ifname, cfg->gw_ifname, sizeof(gw.ifname) - 1);
		for (size_t i = 0; i < sizeof(gw); i++)
			h = (h ^ p[i]) * 0x100000001b3ULL;
		return h;
	}
}

static int gen_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(attr) == NFTA_GEN_ID && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		tb[NFTA_GEN_ID] = attr;
	return MNL_CB_OK;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_GEN_MAX + 1] = {0};
	uint32_t *gen = data;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWGEN)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr_cb, tb) < 0 || !tb[NFTA_GEN_ID])
		return MNL_CB_OK;
	*gen = ntohl(mnl_attr_get_u32(tb[NFTA_GEN_ID]));
	return MNL_CB_OK;
}

/* The namespace's nftables generation (never 0). */
static int get_gen(struct vn_ns *ns, uint32_t *gen)
{
	char buf[256] = {0};
	struct nlmsghdr *nlh;
	int err;

	*gen = 0;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, nft_seqs(ns, 1));
	err = request(ns, nlh, gen_cb, gen);
	if (!err && !*gen)
		err = -EPROTO;
	return err;
}

static uint32_t gen_next(uint32_t gen)
{
	return gen + 1 ? gen + 1 : 1; /* the kernel skips 0 too */
}

/* A tagged SNAT rule found in the kernel: its key and handle. */
struct found_rule {
	uint32_t net;
	int prefix;
	uint64_t handle;
};

struct table_info {
	bool found;
	char comment[128]; /* "" if none */
	size_t nmark;	   /* rules in the marker chain */
	struct found_rule *rules;
	size_t nrules, caprules;
};

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct table_info *ti = data;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWTABLE)
		ti->found = true;
	return MNL_CB_OK;
}

/* Our table in ns: found or not. */
static int get_table(struct vn_ns *ns, struct table_info *ti)
{
	_cleanup_table_ struct nftnl_table *t = nftnl_table_alloc();
	char buf[512] = {0};
	struct nlmsghdr *nlh;
	int err;

	memset(ti, 0, sizeof(*ti));
	if (!t || nftnl_table_set_str(t, NFTNL_TABLE_NAME, VN_NFT_TABLE) < 0)
		return -ENOMEM;
	nlh = nftnl_table_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_IPV4, NLM_F_ACK,
					  nft_seqs(ns, 1));
	nftnl_table_nlmsg_build_payload(nlh, t);
	err = request(ns, nlh, table_cb, ti);
	if (err == -ENOENT) {
		ti->found = false;
		err = 0;
	}
	return err;
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	struct table_info *ti = data;
	uint8_t len = nftnl_udata_len(attr);
	const char *v = nftnl_udata_get(attr);

	if (nftnl_udata_type(attr) != NFTNL_UDATA_RULE_COMMENT || !len ||
	    len > sizeof(ti->comment) || v[len - 1] != '\0')
		return MNL_CB_OK;
	memcpy(ti->comment, v, len);
	return MNL_CB_OK;
}

static int key_cb(const struct nftnl_udata *attr, void *data)
{
	unsigned char *key = data;

	if (nftnl_udata_type(attr) == UDATA_SNAT_KEY && nftnl_udata_len(attr) == SNAT_KEY_LEN) {
		memcpy(key, nftnl_udata_get(attr), SNAT_KEY_LEN);
		key[SNAT_KEY_LEN] = 1;
	}
	return MNL_CB_OK;
}

/* Each rule of our table: the marker's comment (a second marker rule
 * makes it unreadable: not ours), and the tagged SNAT rules' handles. */
static int rules_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_RULE_MAX + 1] = {0};
	struct table_info *ti = data;
	const char *chain;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWRULE)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), rule_attr_cb, tb) < 0 ||
	    !tb[NFTA_RULE_CHAIN])
		return MNL_CB_OK;
	chain = mnl_attr_get_str(tb[NFTA_RULE_CHAIN]);
	if (!strcmp(chain, MARK_CHAIN)) {
		if (ti->nmark++) {
			ti->comment[0] = '\0';
			return MNL_CB_OK;
		}
		ti->found = true;
		if (tb[NFTA_RULE_USERDATA])
			(void)nftnl_udata_parse(mnl_attr_get_payload(tb[NFTA_RULE_USERDATA]),
						mnl_attr_get_payload_len(tb[NFTA_RULE_USERDATA]),
						comment_cb, ti);
		if (ti->nmark > 1)
			ti->comment[0] = '\0';
	} else if (!strcmp(chain, SNAT_CHAIN) && tb[NFTA_RULE_USERDATA] && tb[NFTA_RULE_HANDLE]) {
		unsigned char key[SNAT_KEY_LEN + 1] = {0};
		struct found_rule *fr;
		uint32_t net;

		(void)nftnl_udata_parse(mnl_attr_get_payload(tb[NFTA_RULE_USERDATA]),
					mnl_attr_get_payload_len(tb[NFTA_RULE_USERDATA]), key_cb,
					key);
		if (!key[SNAT_KEY_LEN])
			return MNL_CB_OK;
		if (ti->nrules == ti->caprules) {
			size_t cap = ti->caprules ? 2 * ti->caprules : 16;

			fr = realloc(ti->rules, cap * sizeof(*fr));
			if (!fr)
				return MNL_CB_OK; /* unknown handles: a replace later */
			ti->rules = fr;
			ti->caprules = cap;
		}
		fr = &ti->rules[ti->nrules++];
		memcpy(&net, key, 4);
		fr->net = ntohl(net);
		fr->prefix = key[4];
		fr->handle = be64toh(mnl_attr_get_u64(tb[NFTA_RULE_HANDLE]));
	}
	return MNL_CB_OK;
}

/* Every rule of our table (one dump): the marker (found: the marker
 * chain has a rule) and the tagged SNAT rules. */
static int get_rules(struct vn_ns *ns, struct table_info *ti)
{
	_cleanup_rule_ struct nftnl_rule *r = nftnl_rule_alloc();
	char buf[512] = {0};
	struct nlmsghdr *nlh;
	int err;

	memset(ti, 0, sizeof(*ti));
	if (!r || nftnl_rule_set_str(r, NFTNL_RULE_TABLE, VN_NFT_TABLE) < 0)
		return -ENOMEM;
	nlh = nftnl_rule_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP,
					 nft_seqs(ns, 1));
	nftnl_rule_nlmsg_build_payload(nlh, r);
	err = request(ns, nlh, rules_cb, ti);
	if (err == -ENOENT) {
		free(ti->rules);
		memset(ti, 0, sizeof(*ti));
		err = 0;
	}
	if (err) {
		free(ti->rules);
		ti->rules = NULL;
	}
	return err;
}

/* The handles of nat's rules that it does not know, from the tagged rules
 * found (a key found twice: not ours to guess, left unknown). */
static void nat_learn(struct vn_nft_nat *nat, const struct table_info *ti)
{
	for (size_t i = 0; nat && i < nat->n; i++) {
		uint64_t h = 0;
		size_t seen = 0;

		if (nat->r[i].handle)
			continue;
		for (size_t k = 0; k < ti->nrules; k++)
			if (ti->rules[k].net == nat->r[i].net &&
			    ti->rules[k].prefix == nat->r[i].prefix) {
				h = ti->rules[k].handle;
				seen++;
			}
		if (seen == 1)
			nat->r[i].handle = h;
	}
}

static void mark_comment(char *buf, size_t len, uint64_t hash, uint32_t gen)
{
	snprintf(buf, len, "vnetfs %016llx gen %u", (unsigned long long)hash, gen);
}

/* The kernel holds what nat describes at generation gen (a skip): keep
 * it as this handle's idea of the table. Kept rules' handles survive if
 * the kept description is that table (the same hash). */
static void nat_adopt(struct vn_ns *ns, struct vn_nft_nat *nat, uint64_t hash, uint32_t gen)
{
	struct vn_nft_nat *cur = ns->nat;

	if (cur && table_hash(cur->fixed, cur->sum) == hash && cur->fixed == nat->fixed) {
		cur->gen = gen;
		free(nat);
		return;
	}
	free(cur);
	ns->nat = nat;
	nat->gen = gen;
}

int vn_nft_router_sync(struct vn_ns *ns, const struct vn_nft_router *cfg)
{
	struct batch b = {0};
	struct vn_nft_nat *nat = NULL;
	struct echo *echo = NULL;
	struct table_info ti = {0};
	char want[128];
	uint64_t hash = 0;
	uint32_t gen = 0;
	size_t n = 0;
	int err;

	if (!ns)
		return -EINVAL;
	err = check_cfg(cfg);
	if (err)
		return err;
	/* No generation (an old kernel, say): never skip, always replace. */
	if (get_gen(ns, &gen) < 0)
		gen = 0;

	/* What we would send: the fixed part, then a rule per subnet. */
	b.seq = nft_seqs(ns, 0);
	batch_begin(&b);
	if (has_gateway(cfg)) {
		size_t cnt = cfg->snat ? cfg->ninternal : 0;

		nat = nat_grow(NULL, cnt ? cnt : 1);
		echo = calloc(cnt ? cnt : 1, sizeof(*echo));
		if (!nat || !echo) {
			err = -ENOMEM;
			goto out;
		}
		nat->fixed = build_fixed(&b, cfg);
		for (size_t i = 0; i < cnt; i++) {
			struct nat_rule *r = &nat->r[n];

			if (cfg->internal[i].net.af != AF_INET ||
			    nat_find(nat, &cfg->internal[i]) >= 0)
				continue;
			cidr_key(&cfg->internal[i], &r->net, &r->prefix);
			r->handle = 0;
			nat->n = ++n;
			put_snat(&b, cfg, &cfg->internal[i], &r->hash, &echo[n - 1].seq);
			nat->sum += r->hash;
		}
		hash = table_hash(nat->fixed, nat->sum);
	} else {
		(void)build_fixed(&b, cfg);
	}
	err = b.err;
	if (err)
		goto out;

	if (gen && ns->nft_mark.gen == gen) {
		/* This handle made the last commit here: nothing since. */
		if (ns->nft_mark.hash == hash) {
			ns->nft_stats.skipped++;
			if (nat) {
				nat_adopt(ns, nat, hash, gen);
				nat = NULL;
			}
			goto out;
		}
	} else if (gen) {
		if (hash)
			err = get_rules(ns, &ti);
		else
			err = get_table(ns, &ti);
		if (err)
			goto out;
		mark_comment(want, sizeof(want), hash, gen);
		if ((!hash && !ti.found) || (hash && ti.found && !strcmp(ti.comment, want))) {
			ns->nft_mark.hash = hash;
			ns->nft_mark.gen = gen;
			ns->nft_stats.skipped++;
			if (nat) {
				nat_adopt(ns, nat, hash, gen);
				nat_learn(ns->nat, &ti);
				nat = NULL;
			} else {
				free(ns->nat); /* no table: no rules to keep */
				ns->nat = NULL;
			}
			goto out;
		}
	}
	ns->nft_mark.gen = 0;
	if (hash) {
		mark_comment(want, sizeof(want), hash, gen ? gen_next(gen) : 0);
		put_mark(&b, want);
	}
	batch_end(&b);
	err = b.err;
	if (err)
		goto out;
	ns->nft_seq = b.seq; /* the numbers build used are spent */
	err = batch_send_echo(ns, &b, echo, n);
	if (err)
		goto out;
	if (gen) {
		ns->nft_mark.hash = hash;
		ns->nft_mark.gen = gen_next(gen);
	}
	free(ns->nat);
	ns->nat = nat;
	if (nat) {
		nat->gen = gen ? gen_next(gen) : 0;
		for (size_t i = 0; i < n; i++) {
			nat->r[i].handle = echo[i].handle;
			if (!echo[i].handle)
				nat->gen = 0; /* not all known: the next change replaces */
		}
	}
	nat = NULL;
out:
	free(ti.rules);
	free(nat);
	free(echo);
	free(b.buf);
	return err;
}

static int check_cidrs(const struct vn_cidr *c, size_t n)
{
	if (n && !c)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (c[i].net.af == AF_INET6)
			continue;
		if (c[i].net.af != AF_INET || c[i].prefix < 0 || c[i].prefix > 32)
			return -EINVAL;
	}
	return 0;
}

int vn_nft_router_update(struct vn_ns *ns, const struct vn_nft_router *cfg,
			 const struct vn_cidr *add, size_t nadd, const struct vn_cidr *del,
			 size_t ndel)
{
	struct batch b = {0};
	struct vn_nft_nat *nat;
	struct echo *echo = NULL;
	struct nat_rule *added = NULL;
	bool *gone = NULL;
	char want[128];
	uint64_t fixed, sum, hash;
	uint32_t gen = 0;
	size_t na = 0, nd = 0;
	int err;

	if (!ns)
		return -EINVAL;
	err = check_cfg(cfg);
	if (!err)
		err = check_cidrs(add, nadd);
	if (!err)
		err = check_cidrs(del, ndel);
	if (err)
		return err;
	if (!has_gateway(cfg) || !nat_valid(ns))
		return -ESTALE;
	nat = ns->nat;
	/* The fixed part must be the one the kernel holds. */
	b.seq = 1;
	fixed = build_fixed(&b, cfg);
	err = b.err;
	free(b.buf);
	b = (struct batch){0};
	if (err)
		return err;
	if (fixed != nat->fixed)
		return -ESTALE;
	if (get_gen(ns, &gen) < 0 || gen != nat->gen)
		return -ESTALE;
	if (!cfg->snat) {
		/* No SNAT rules at all: nothing of them to change. */
		ns->nft_stats.skipped++;
		return 0;
	}

	echo = calloc(nadd + 1, sizeof(*echo));
	added = calloc(nadd + 1, sizeof(*added));
	gone = calloc(nat->n + 1, sizeof(*gone));
	if (!echo || !added || !gone) {
		err = -ENOMEM;
		goto out;
	}
	sum = nat->sum;
	b.seq = nft_seqs(ns, 0);
	batch_begin(&b);
	for (size_t i = 0; i < ndel; i++) {
		ssize_t k;

		if (del[i].net.af != AF_INET)
			continue;
		k = nat_find(nat, &del[i]);
		if (k < 0 || gone[k])
			continue; /* not there: nothing to delete */
		if (!nat->r[k].handle) {
			err = -ESTALE; /* found, not made, by this handle */
			goto out;
		}
		put_delrule(&b, SNAT_CHAIN, nat->r[k].handle);
		gone[k] = true;
		sum -= nat->r[k].hash;
		nd++;
	}
	for (size_t i = 0; i < nadd; i++) {
		ssize_t k;
		bool dup = false;

		if (add[i].net.af != AF_INET)
			continue;
		k = nat_find(nat, &add[i]);
		if (k >= 0 && !gone[k])
			continue; /* there already */
		cidr_key(&add[i], &added[na].net, &added[na].prefix);
		for (size_t j = 0; j < na && !dup; j++)
			dup = added[j].net == added[na].net && added[j].prefix == added[na].prefix;
		if (dup)
			continue;
		put_snat(&b, cfg, &add[i], &added[na].hash, &echo[na].seq);
		sum += added[na].hash;
		na++;
	}
	if (!na && !nd) {
		ns->nft_stats.skipped++;
		goto out;
	}
	hash = table_hash(fixed, sum);
	mark_comment(want, sizeof(want), hash, gen_next(gen));
	put_delrule(&b, MARK_CHAIN, 0);
	put_mark(&b, want);
	batch_end(&b);
	err = b.err;
	if (err)
		goto out;
	ns->nft_seq = b.seq;
	ns->nft_mark.gen = 0;
	nat->gen = 0;
	err = batch_send_echo(ns, &b, echo, na);
	if (err) {
		/* Nothing of it applied (one batch); the caller replaces the
		 * whole table, which also says what was wrong. */
		err = -ESTALE;
		goto out;
	}
	ns->nft_stats.updates++;
	ns->nft_mark.hash = hash;
	ns->nft_mark.gen = gen_next(gen);
	/* The kept rules: the deleted ones out, the added ones in. */
	for (size_t i = nat->n; i-- > 0;)
		if (gone[i])
			nat->r[i] = nat->r[--nat->n];
	nat = nat_grow(nat, nat->n + na);
	if (!nat) {
		free(ns->nat); /* forget it: the next change replaces */
		ns->nat = NULL;
		goto out;
	}
	ns->nat = nat;
	nat->gen = gen_next(gen);
	for (size_t i = 0; i < na; i++) {
		added[i].handle = echo[i].handle;
		if (!echo[i].handle)
			nat->gen = 0;
		nat->r[nat->n++] = added[i];
	}
	nat->sum = sum;
out:
	free(gone);
	free(added);
	free(echo);
	free(b.buf);
	return err;
}

int vn_nft_router_exists(struct vn_ns *ns)
{
	struct table_info ti;
	int err;

	if (!ns)
		return -EINVAL;
	err = get_table(ns, &ti);
	if (err)
		return err;
	return ti.found ? 1 : 0;
}

/* ---- for backend/nft_sg.c (ns_priv.h) ---------------------------------- */

uint32_t vn_nft_seq_reserve(struct vn_ns *ns, uint32_t n)
{
	return nft_seqs(ns, n);
}

int vn_nft_send_batch(struct vn_ns *ns, char *buf, size_t len, uint32_t begin, uint32_t ack)
{
	struct batch b = {.buf = buf, .len = len, .begin = begin, .ack = ack};

	ns->nft_mark.gen = 0; /* a commit of ours that is not the NAT table */
	return batch_send(ns, &b);
}
