// SPDX-License-Identifier: MIT
/*
 * The NAT of a router namespace through libnftnl + libmnl: see
 * include/vnetfs/nft.h.
 *
 * Every change is one nfnetlink batch, so the kernel applies it as one
 * transaction (all or nothing), the way `nft -f` does:
 *
 *	add table ip vnetfs        (NLM_F_CREATE: fine if it exists)
 *	delete table ip vnetfs     (so the old contents are gone)
 *	add table ip vnetfs        (only with a gateway)
 *	add chain ... / add rule ...
 *
 * Only the last message of the batch asks for an ACK. The kernel reports
 * an error for every failing message whether or not it asked for an ACK,
 * and delivers all of them (after committing or aborting the whole batch)
 * before the ACK of the last message, so reading until that ACK gives the
 * whole outcome with one or a handful of replies whatever the size of the
 * batch (an ACK per rule could overrun the socket's receive buffer).
 *
 * Sockets are opened per call, inside the namespace (vn_ns_run), and are
 * bound to it for their whole life; nothing is kept between calls.
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

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
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

/* Room kept free in the batch buffer before building one message: far more
 * than the largest message built here (a rule of seven expressions is a
 * few hundred bytes). */
#define MSG_ROOM 8192
/* Receive buffer for replies (errors are short: NETLINK_CAP_ACK). */
#define RECV_SIZE 16384
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

static void mnl_socket_closep(struct mnl_socket **nl)
{
	if (*nl)
		mnl_socket_close(*nl);
}
#define _cleanup_mnl_ __attribute__((cleanup(mnl_socket_closep)))

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

/* A NETLINK_NETFILTER socket living in ns. */
static int nft_socket(struct vn_ns *ns, struct mnl_socket **out)
{
	const struct timeval tv = {.tv_sec = RECV_TIMEOUT_S};
	int one = 1;
	int err;

	*out = NULL;
	err = vn_ns_run(ns, mnl_open_cb, out);
	if (err)
		return err;
	/* Errors without the failed message echoed back: replies stay small.
	 * Best effort (kernels < 4.3 echo it, which is merely bigger). */
	(void)mnl_socket_setsockopt(*out, NETLINK_CAP_ACK, &one, sizeof(one));
	/* The kernel answers at once; never hang the caller (who holds the
	 * model lock) on a reply that will not come. */
	if (setsockopt(mnl_socket_get_fd(*out), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		err = -errno;
		mnl_socket_close(*out);
		*out = NULL;
		return err;
	}
	return 0;
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

static void put_table(struct batch *b, uint16_t type, uint16_t flags)
{
	_cleanup_table_ struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	char *p = batch_cur(b);

	if (!p)
		return;
	if (!t || nftnl_table_set_str(t, NFTNL_TABLE_NAME, VN_NFT_TABLE) < 0) {
		b->err = -ENOMEM;
		return;
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
};

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

struct acks {
	uint32_t begin, last; /* seq of the batch begin and of the ACKed message */
	uint32_t err_seq;
	int err;   /* the error of the earliest failing message */
	bool done; /* the final ACK (or a batch-level error) arrived */
};

static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	struct acks *a = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

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

static int batch_send(struct vn_ns *ns, const struct batch *b)
{
	_cleanup_mnl_ struct mnl_socket *nl = NULL;
	_cleanup_free_ char *buf = NULL;
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {[NLMSG_ERROR] = ack_cb};
	struct acks a = {.begin = b->begin, .last = b->ack};
	unsigned portid;
	ssize_t sent;
	int err;

	err = nft_socket(ns, &nl);
	if (err)
		goto out;
	err = ensure_sndbuf(nl, b->len);
	if (err)
		goto out;
	portid = mnl_socket_get_portid(nl);
	sent = mnl_socket_sendto(nl, b->buf, b->len);
	if (sent < 0) {
		err = -errno;
		goto out;
	}
	if ((size_t)sent != b->len) {
		err = -EIO;
		goto out;
	}
	buf = malloc(RECV_SIZE);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (!a.done) {
		int n = recv_some(nl, buf, RECV_SIZE);

		if (n < 0) {
			err = n;
			goto out;
		}
		if (mnl_cb_run2(buf, (size_t)n, 0, portid, NULL, &a, ctl, NLMSG_MIN_TYPE) < 0 &&
		    !a.done) {
			err = -errno;
			goto out;
		}
	}
	err = a.err;
out:
	return err;
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

int vn_nft_router_sync(struct vn_ns *ns, const struct vn_nft_router *cfg)
{
	struct batch b = {.seq = 1};
	int err;

	if (!ns)
		return -EINVAL;
	err = check_cfg(cfg);
	if (err)
		goto out;

	batch_begin(&b);
	put_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	put_table(&b, NFT_MSG_DELTABLE, 0);
	if (has_gateway(cfg)) {
		const char *gw = cfg->gw_ifname;

		put_table(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		put_chain(&b, "prerouting", NF_INET_PRE_ROUTING, PRIO_DSTNAT);
		put_chain(&b, "output", NF_INET_LOCAL_OUT, PRIO_DSTNAT);
		put_chain(&b, "postrouting", NF_INET_POST_ROUTING, PRIO_SRCNAT);
		for (size_t i = 0; i < cfg->nfips; i++) {
			const struct vn_nft_fip *f = &cfg->fips[i];
			const struct vn_cidr fixed = {.net = f->fixed, .prefix = 32};

			put_rule(&b, &(struct rule_spec){.chain = "prerouting",
							 .daddr = &f->floating,
							 .nat = NFT_NAT_DNAT,
							 .to = &f->fixed});
			put_rule(&b, &(struct rule_spec){.chain = "output",
							 .daddr = &f->floating,
							 .nat = NFT_NAT_DNAT,
							 .to = &f->fixed});
			put_rule(&b, &(struct rule_spec){.chain = "postrouting",
							 .saddr = &fixed,
							 .oifname = gw,
							 .nat = NFT_NAT_SNAT,
							 .to = &f->floating});
		}
		for (size_t i = 0; cfg->snat && i < cfg->ninternal; i++) {
			if (cfg->internal[i].net.af != AF_INET)
				continue;
			put_rule(&b, &(struct rule_spec){.chain = "postrouting",
							 .saddr = &cfg->internal[i],
							 .oifname = gw,
							 .nat = NFT_NAT_SNAT,
							 .to = &cfg->gw_addr});
		}
	}
	batch_end(&b);
	err = b.err;
	if (err)
		goto out;
	err = batch_send(ns, &b);
out:
	free(b.buf);
	return err;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	bool *found = data;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWTABLE)
		*found = true;
	return MNL_CB_OK;
}

int vn_nft_router_exists(struct vn_ns *ns)
{
	_cleanup_mnl_ struct mnl_socket *nl = NULL;
	_cleanup_table_ struct nftnl_table *t = NULL;
	_cleanup_free_ char *buf = NULL;
	struct nlmsghdr *nlh;
	const uint32_t seq = 1;
	bool found = false;
	unsigned portid;
	int err;

	if (!ns)
		return -EINVAL;
	buf = calloc(1, RECV_SIZE);
	t = nftnl_table_alloc();
	if (!buf || !t || nftnl_table_set_str(t, NFTNL_TABLE_NAME, VN_NFT_TABLE) < 0) {
		err = -ENOMEM;
		goto out;
	}
	err = nft_socket(ns, &nl);
	if (err)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh = nftnl_table_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_IPV4, NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		int n = recv_some(nl, buf, RECV_SIZE);

		if (n < 0) {
			err = n;
			goto out;
		}
		n = mnl_cb_run(buf, (size_t)n, seq, portid, table_cb, &found);
		if (n < 0) {
			err = errno == ENOENT ? 0 : -errno;
			goto out;
		}
		if (n == MNL_CB_STOP)
			break;
	}
	err = found ? 1 : 0;
out:
	return err;
}
