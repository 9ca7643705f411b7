// SPDX-License-Identifier: MIT
/*
 * Links, addresses and routes through libnl-route: see
 * include/vnetfs/backend.h.
 *
 * Single objects are looked up with one RTM_GETLINK by name (there may be
 * thousands of links, so no link cache is filled on the hot path). Address
 * and route dumps ask the kernel to filter (by ifindex; by table) when it
 * can, and everything is filtered again here.
 *
 * Every libnl result is turned into 0 or a negative errno at this edge.
 */
#include "vnetfs/backend.h"

#include "ns_priv.h"

#include <ctype.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

/* ---- cleanup helpers --------------------------------------------------- */

static void link_putp(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}
#define _cleanup_link_ __attribute__((cleanup(link_putp)))

static void nladdr_putp(struct nl_addr **a)
{
	if (*a)
		nl_addr_put(*a);
}
#define _cleanup_nladdr_ __attribute__((cleanup(nladdr_putp)))

static void rtaddr_putp(struct rtnl_addr **a)
{
	if (*a)
		rtnl_addr_put(*a);
}
#define _cleanup_rtaddr_ __attribute__((cleanup(rtaddr_putp)))

static void route_putp(struct rtnl_route **r)
{
	if (*r)
		rtnl_route_put(*r);
}
#define _cleanup_route_ __attribute__((cleanup(route_putp)))

static void cache_freep(struct nl_cache **c)
{
	if (*c)
		nl_cache_free(*c);
}
#define _cleanup_cache_ __attribute__((cleanup(cache_freep)))

static void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))

/* ---- names ------------------------------------------------------------- */

void vn_ifname(char *buf, const char *prefix, const char *uuid)
{
	size_t n = 0;

	for (; prefix && prefix[n] && n < VN_IFNAMSIZ - 1; n++)
		buf[n] = prefix[n];
	for (const char *p = uuid; p && *p && n < VN_IFNAMSIZ - 1; p++)
		if (isxdigit((unsigned char)*p))
			buf[n++] = (char)tolower((unsigned char)*p);
	buf[n] = '\0';
}

static int check_ifname(const char *ifname)
{
	size_t len;

	if (!ifname)
		return -EINVAL;
	len = strlen(ifname);
	if (len == 0 || len >= VN_IFNAMSIZ || strchr(ifname, '/'))
		return -EINVAL;
	return 0;
}

/* ---- addresses: struct vn_addr <-> struct nl_addr ---------------------- */

static int af_bytes(int af)
{
	return af == AF_INET ? 4 : af == AF_INET6 ? 16 : 0;
}

static int vn_to_nl(const struct vn_addr *a, int prefix, struct nl_addr **out)
{
	int len = af_bytes(a->af);
	uint8_t b[16];

	if (!len || prefix < 0 || prefix > 8 * len)
		return -EINVAL;
	for (int i = 0; i < len; i++)
		b[i] = (uint8_t)(a->v >> (8 * (len - 1 - i)));
	*out = nl_addr_build(a->af, b, (size_t)len);
	if (!*out)
		return -ENOMEM;
	nl_addr_set_prefixlen(*out, (unsigned)prefix);
	return 0;
}

/* A zero-length nl_addr (a default route's dst) is the all-zero address. */
static int nl_to_vn(struct nl_addr *na, struct vn_addr *out)
{
	int af = nl_addr_get_family(na);
	unsigned len = nl_addr_get_len(na);
	const uint8_t *b = nl_addr_get_binary_addr(na);

	out->af = 0;
	out->v = 0;
	if (!af_bytes(af) || (len != 0 && len != (unsigned)af_bytes(af)))
		return -EINVAL;
	for (unsigned i = 0; i < len; i++)
		out->v = (out->v << 8) | b[i];
	out->af = af;
	return 0;
}

static bool vn_eq(const struct vn_addr *a, const struct vn_addr *b)
{
	return a->af == b->af && a->v == b->v;
}

static bool check_cidr(const struct vn_cidr *c)
{
	int bits = 8 * af_bytes(c->net.af);

	return bits && c->prefix >= 0 && c->prefix <= bits;
}

static bool af_selected(int want, int af)
{
	return want == AF_UNSPEC || want == af;
}

/* ---- dumps ------------------------------------------------------------- */

/* One dump request with our own header (so the kernel can filter), parsed
 * into a cache of the libnl type cname. Retried if the dump was
 * interrupted by a concurrent change. */
static int dump(struct vn_ns *ns, const char *cname, int type, void *hdr, size_t hdrlen,
		struct nl_cache **out)
{
	for (int tries = 0;; tries++) {
		struct nl_cache *c = NULL;
		int err = nl_cache_alloc_name(cname, &c);

		if (err < 0)
			return vn_be_nlerr(err);
		err = nl_send_simple(ns->sk, type, NLM_F_DUMP, hdr, hdrlen);
		if (err >= 0)
			err = nl_cache_pickup(ns->sk, c);
		if (err >= 0) {
			*out = c;
			return 0;
		}
		nl_cache_free(c);
		if (err != -NLE_DUMP_INTR || tries >= 4)
			return vn_be_nlerr(err);
	}
}

/* ---- links ------------------------------------------------------------- */

/* One RTM_GETLINK by name; -ENODEV if there is no such link. */
static int link_get(struct vn_ns *ns, const char *ifname, struct rtnl_link **out)
{
	int err;

	*out = NULL;
	err = check_ifname(ifname);
	if (err)
		return err;
	err = vn_be_nlerr(rtnl_link_get_kernel(ns->sk, 0, ifname, out));
	if (err == -ENOENT)
		err = -ENODEV;
	if (!err && !*out)
		err = -ENODEV;
	return err;
}

static bool link_is(struct rtnl_link *l, const char *type)
{
	const char *t = rtnl_link_get_type(l);

	return t && !strcmp(t, type);
}

/*
 * Bring orig to the wanted state with one RTM_NEWLINK carrying only what
 * differs (nothing is sent when nothing does). mtu 0, up < 0, mac NULL,
 * master < 0: leave as is; master 0: no master.
 */
const char *const vn_reserved_ifname_prefixes[] = {
	VN_BRIDGE_PREFIX, "vnp-", "vnr-", "vng-", "qr-", "qg-", "qdhcp", "tap", "ns-", NULL,
};

const char *vn_ifname_reserved(const char *name)
{
	for (size_t i = 0; vn_reserved_ifname_prefixes[i]; i++)
		if (!strncmp(name, vn_reserved_ifname_prefixes[i],
			     strlen(vn_reserved_ifname_prefixes[i])))
			return vn_reserved_ifname_prefixes[i];
	return NULL;
}

/* Is l one the daemon made (its ifalias is the mark)? */
static bool link_ours(struct rtnl_link *l)
{
	const char *a = rtnl_link_get_ifalias(l);

	return a && !strcmp(a, VN_LINK_MARK);
}

/* Change what differs; mark: give the link the daemon's ifalias too. */
static int link_fix_mark(struct vn_ns *ns, struct rtnl_link *orig, unsigned mtu, int up,
			 const uint8_t *mac, int master, bool mark)
{
	_cleanup_link_ struct rtnl_link *ch = rtnl_link_alloc();
	bool any = false;

	if (!ch)
		return -ENOMEM;
	if (mark && !link_ours(orig)) {
		rtnl_link_set_ifalias(ch, VN_LINK_MARK);
		any = true;
	}
	if (mtu && rtnl_link_get_mtu(orig) != mtu) {
		rtnl_link_set_mtu(ch, mtu);
		any = true;
	}
	if (mac) {
		struct nl_addr *cur = rtnl_link_get_addr(orig);

		if (!cur || nl_addr_get_len(cur) != 6 ||
		    memcmp(nl_addr_get_binary_addr(cur), mac, 6)) {
			_cleanup_nladdr_ struct nl_addr *a = nl_addr_build(AF_LLC, mac, 6);

			if (!a)
				return -ENOMEM;
			rtnl_link_set_addr(ch, a);
			any = true;
		}
	}
	if (master >= 0 && rtnl_link_get_master(orig) != master) {
		rtnl_link_set_master(ch, master);
		any = true;
	}
	if (up >= 0 && !!(rtnl_link_get_flags(orig) & IFF_UP) != !!up) {
		if (up)
			rtnl_link_set_flags(ch, IFF_UP);
		else
			rtnl_link_unset_flags(ch, IFF_UP);
		any = true;
	}
	if (!any)
		return 0;
	return vn_be_nlerr(rtnl_link_change(ns->sk, orig, ch, 0));
}

static int link_fix(struct vn_ns *ns, struct rtnl_link *orig, unsigned mtu, int up,
		    const uint8_t *mac, int master)
{
	return link_fix_mark(ns, orig, mtu, up, mac, master, false);
}

/* Set a link up (up >= 0) and give it the daemon's mark. */
static int link_mark(struct vn_ns *ns, const char *ifname, int up)
{
	_cleanup_link_ struct rtnl_link *l = NULL;
	int err = link_get(ns, ifname, &l);

	return err ? err : link_fix_mark(ns, l, 0, up, NULL, -1, true);
}

int vn_link_get(struct vn_ns *ns, const char *ifname, struct vn_link_state *st)
{
	_cleanup_link_ struct rtnl_link *l = NULL;
	struct nl_addr *mac;
	int master;
	int err;

	if (!ns || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	err = link_get(ns, ifname, &l);
	if (err == -ENODEV)
		return 0;
	if (err)
		return err;
	st->exists = true;
	st->ifindex = rtnl_link_get_ifindex(l);
	st->mtu = rtnl_link_get_mtu(l);
	st->up = rtnl_link_get_flags(l) & IFF_UP;
	mac = rtnl_link_get_addr(l);
	if (mac && nl_addr_get_len(mac) == 6)
		memcpy(st->mac, nl_addr_get_binary_addr(mac), 6);
	master = rtnl_link_get_master(l);
	if (master > 0) {
		_cleanup_link_ struct rtnl_link *m = NULL;

		err = vn_be_nlerr(rtnl_link_get_kernel(ns->sk, master, NULL, &m));
		if (err)
			return err;
		if (!m)
			return -ENODEV;
		snprintf(st->master, sizeof(st->master), "%s", rtnl_link_get_name(m));
	}
	return 0;
}

int vn_link_set(struct vn_ns *ns, const char *ifname, unsigned mtu, bool up, const uint8_t *mac)
{
	_cleanup_link_ struct rtnl_link *l = NULL;
	int err;

	if (!ns)
		return -EINVAL;
	err = link_get(ns, ifname, &l);
	if (err)
		return err;
	return link_fix(ns, l, mtu, up, mac, -1);
}

int vn_link_delete(struct vn_ns *ns, const char *ifname)
{
	_cleanup_link_ struct rtnl_link *l = NULL;
	int err;

	if (!ns)
		return -EINVAL;
	err = check_ifname(ifname);
	if (err)
		return err;
	l = rtnl_link_alloc();
	if (!l)
		return -ENOMEM;
	rtnl_link_set_name(l, ifname);
	err = vn_be_nlerr(rtnl_link_delete(ns->sk, l));
	return err == -ENODEV || err == -ENOENT ? 0 : err;
}

int vn_link_list(struct vn_ns *ns, const char *prefix, char ***names)
{
	_cleanup_cache_ struct nl_cache *c = NULL;
	size_t plen = prefix ? strlen(prefix) : 0;
	char **v = NULL;
	size_t n = 0;
	int err;

	if (!ns || !names)
		return -EINVAL;
	err = vn_be_nlerr(rtnl_link_alloc_cache(ns->sk, AF_UNSPEC, &c));
	if (err)
		return err;
	for (struct nl_object *o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
		const char *name = rtnl_link_get_name((struct rtnl_link *)o);

		if (!name || (plen && strncmp(name, prefix, plen)))
			continue;
		err = vn_be_strv_push(&v, &n, name);
		if (err) {
			vn_strv_free(v);
			return err;
		}
	}
	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	*names = v;
	return 0;
}

int vn_link_set_ipv6(struct vn_ns *ns, const char *ifname, bool on)
{
	char key[64], cur[16];
	int err = check_ifname(ifname);

	if (err)
		return err;
	snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", ifname);
	/* A write takes RTNL with rtnl_trylock() and is restarted from user
	 * space until it gets it (thousands of times while links are being
	 * made): read first, which takes no lock, and write only a change. */
	err = vn_be_sysctl_get(ns, key, cur, sizeof(cur));
	if (!err && !strcmp(cur, on ? "0" : "1"))
		return 0;
	if (!err)
		err = vn_ns_sysctl(ns, key, on ? "0" : "1");
	/* Below 1280 bytes of mtu the kernel drops IPv6 from the link
	 * altogether (the key is gone): nothing to switch. */
	return err == -ENOENT ? 0 : err;
}

/*
 * Is IPv6 off by default for new links in ns? In a namespace of the
 * daemon's own (opened by name: its --netns), the first tenant bridge sets
 * net.ipv6.conf.default.disable_ipv6 = 1 there, once per handle, so every
 * later link is born without IPv6 and needs no write of its own (writing
 * the default takes no RTNL). The host's namespace ("self") and
 * namespaces named by path are never changed: there each bridge still
 * gets its own write.
 */
static bool v6_default_off(struct vn_ns *ns)
{
	if (ns->v6_default < 0 && ns->own)
		ns->v6_default =
			vn_ns_sysctl(ns, "net/ipv6/conf/default/disable_ipv6", "1") == 0 ? 1 : 0;
	return ns->v6_default == 1;
}

int vn_bridge_ensure(struct vn_ns *ns, const char *ifname, unsigned mtu, bool up, bool ipv6)
{
	_cleanup_link_ struct rtnl_link *l = NULL;
	bool created = false;
	int err;

	if (!ns)
		return -EINVAL;
	err = link_get(ns, ifname, &l);
	if (err == -ENODEV) {
		_cleanup_link_ struct rtnl_link *br = rtnl_link_bridge_alloc();
		/* Born with the IPv6 state wanted: made up (and with its mtu)
		 * in the one RTM_NEWLINK. Otherwise made down, and IPv6 is
		 * switched before the first up, so the kernel never
		 * configures it (its per-device IPv6 routes make each new link
		 * cost more than the last). */
		bool born_right = !ipv6 && v6_default_off(ns);

		if (!br)
			return -ENOMEM;
		rtnl_link_set_name(br, ifname);
		if (mtu)
			rtnl_link_set_mtu(br, mtu);
		if (born_right && up)
			rtnl_link_set_flags(br, IFF_UP);
		err = vn_be_nlerr(rtnl_link_add(ns->sk, br, NLM_F_CREATE | NLM_F_EXCL));
		if (err && err != -EEXIST)
			return err;
		created = err == 0;
		/* Made as asked, in one message: nothing left to check. */
		if (created && born_right)
			return 0;
		/* Made by someone else meanwhile: check it like any other. */
		err = link_get(ns, ifname, &l);
	}
	if (err)
		return err;
	if (!link_is(l, "bridge"))
		return -EEXIST;
	if (created) {
		err = vn_link_set_ipv6(ns, ifname, ipv6);
		if (err)
			return err;
	}
	err = link_fix(ns, l, mtu, up, NULL, -1);
	if (err || created)
		return err;
	/* after the mtu: an mtu back over 1280 gives the link IPv6 anew (with
	 * the namespace's default); vn_link_set_ipv6 writes only a change */
	return vn_link_set_ipv6(ns, ifname, ipv6);
}

/* Do h (in its namespace) and p (in its own) form one veth pair? Each end's
 * IFLA_LINK is the other's ifindex (in the other's namespace). */
static bool veth_paired(struct rtnl_link *h, struct rtnl_link *p)
{
	return link_is(h, "veth") && link_is(p, "veth") &&
	       rtnl_link_get_link(h) == rtnl_link_get_ifindex(p) &&
	       rtnl_link_get_link(p) == rtnl_link_get_ifindex(h);
}

static int veth_create(struct vn_ns *ns, const char *ifname, int master, struct vn_ns *peer_ns,
		       const char *peer_ifname, const uint8_t *mac, unsigned mtu)
{
	_cleanup_link_ struct rtnl_link *l = rtnl_link_veth_alloc();
	/* rtnl_link_veth_get_peer() takes a reference of its own. */
	_cleanup_link_ struct rtnl_link *peer = l ? rtnl_link_veth_get_peer(l) : NULL;
	int err;

	if (!l || !peer)
		return -ENOMEM;
	rtnl_link_set_name(l, ifname);
	rtnl_link_set_name(peer, peer_ifname);
	if (mtu) {
		rtnl_link_set_mtu(l, mtu);
		rtnl_link_set_mtu(peer, mtu);
	}
	if (master > 0)
		rtnl_link_set_master(l, master);
	rtnl_link_set_flags(l, IFF_UP);
	/*
	 * The peer is not brought up in this message: the kernel configures
	 * the peer's flags before the pair is linked, and veth_open() of a
	 * peer without its pair fails with ENOTCONN. (Also, libnl sends the
	 * peer's ifi_change as 0, which the kernel reads as "all flags
	 * given", clearing MULTICAST.) It goes up right after.
	 */
	if (mac) {
		_cleanup_nladdr_ struct nl_addr *a = nl_addr_build(AF_LLC, mac, 6);

		if (!a)
			return -ENOMEM;
		rtnl_link_set_addr(peer, a);
	}
	if (peer_ns != ns)
		rtnl_link_set_ns_fd(peer, peer_ns->fd);
	/* One RTM_NEWLINK: the kernel unregisters both ends if any part of
	 * it (peer namespace, mac, mtu, master) fails. */
	err = vn_be_nlerr(rtnl_link_add(ns->sk, l, NLM_F_CREATE | NLM_F_EXCL));
	if (err)
		return err;
	/* The kernel ignores IFLA_IFALIAS in a RTM_NEWLINK that creates: the
	 * mark that says "the daemon made this" comes with the peer's up and
	 * in one more message for the host end. */
	err = link_mark(peer_ns, peer_ifname, 1);
	if (!err)
		err = link_mark(ns, ifname, -1);
	if (err)
		vn_link_delete(ns, ifname); /* takes the peer with it */
	return err;
}

int vn_veth_ensure(struct vn_ns *ns, const char *ifname, const char *master, struct vn_ns *peer_ns,
		   const char *peer_ifname, const uint8_t *mac, unsigned mtu)
{
	_cleanup_link_ struct rtnl_link *h = NULL;
	_cleanup_link_ struct rtnl_link *p = NULL;
	int master_idx = 0;
	int err;

	if (!ns)
		return -EINVAL;
	if (!peer_ns)
		peer_ns = ns;
	err = check_ifname(ifname);
	if (!err)
		err = check_ifname(peer_ifname);
	if (!err && peer_ns == ns && !strcmp(ifname, peer_ifname))
		err = -EINVAL;
	if (err)
		return err;
	if (master) {
		_cleanup_link_ struct rtnl_link *m = NULL;

		err = link_get(ns, master, &m);
		if (err)
			return err;
		master_idx = rtnl_link_get_ifindex(m);
	}

	err = link_get(ns, ifname, &h);
	if (err && err != -ENODEV)
		return err;
	err = link_get(peer_ns, peer_ifname, &p);
	if (err && err != -ENODEV)
		return err;

	if (h && p && veth_paired(h, p)) {
		/* (a pair made before the mark existed gets it now) */
		err = link_fix_mark(ns, h, mtu, 1, NULL, master_idx, true);
		if (!err)
			err = link_fix_mark(peer_ns, p, mtu, 1, mac, -1, true);
		if (!err)
			return 0;
		goto undo;
	}
	/* Half made: start over, but never delete what somebody else made
	 * (an interface of the user's own under the peer's name). Checked
	 * before anything is deleted. */
	if ((h && !link_ours(h)) || (p && !link_ours(p)))
		return -EEXIST;
	if (h) {
		err = vn_link_delete(ns, ifname);
		if (err)
			return err;
	}
	if (p) {
		err = vn_link_delete(peer_ns, peer_ifname);
		if (err)
			return err;
	}
	return veth_create(ns, ifname, master_idx, peer_ns, peer_ifname, mac, mtu);
undo:
	vn_link_delete(ns, ifname);
	vn_link_delete(peer_ns, peer_ifname);
	return err;
}

/* ---- addresses --------------------------------------------------------- */

static int addr_dump(struct vn_ns *ns, int af, int ifindex, struct nl_cache **out)
{
	struct ifaddrmsg hdr = {.ifa_family = (uint8_t)af, .ifa_index = (uint32_t)ifindex};

	return dump(ns, "route/addr", RTM_GETADDR, &hdr, sizeof(hdr), out);
}

/* Is a (from a dump) one of ours to manage: on ifindex, of a selected
 * family, global scope? */
static bool addr_managed(struct rtnl_addr *a, int ifindex, int af)
{
	return rtnl_addr_get_ifindex(a) == ifindex && af_selected(af, rtnl_addr_get_family(a)) &&
	       rtnl_addr_get_scope(a) == RT_SCOPE_UNIVERSE && rtnl_addr_get_local(a);
}

static bool addr_is(struct rtnl_addr *a, const struct vn_cidr *c)
{
	struct vn_addr local;

	return nl_to_vn(rtnl_addr_get_local(a), &local) == 0 && vn_eq(&local, &c->net) &&
	       (int)rtnl_addr_get_prefixlen(a) == c->prefix;
}

static int addr_apply(struct vn_ns *ns, int ifindex, const struct vn_cidr *c, bool add)
{
	_cleanup_rtaddr_ struct rtnl_addr *a = rtnl_addr_alloc();
	_cleanup_nladdr_ struct nl_addr *local = NULL;
	int err;

	if (!a)
		return -ENOMEM;
	err = vn_to_nl(&c->net, c->prefix, &local);
	if (err)
		return err;
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_family(a, c->net.af);
	err = vn_be_nlerr(rtnl_addr_set_local(a, local));
	if (err)
		return err;
	rtnl_addr_set_prefixlen(a, c->prefix);
	if (!add)
		return vn_be_nlerr(rtnl_addr_delete(ns->sk, a, 0));
	if (c->net.af == AF_INET && c->prefix < 31) {
		_cleanup_nladdr_ struct nl_addr *brd = NULL;
		struct vn_addr last = c->net;

		last.v |= (((vn_u128)1 << (32 - c->prefix)) - 1);
		err = vn_to_nl(&last, 32, &brd);
		if (err)
			return err;
		err = vn_be_nlerr(rtnl_addr_set_broadcast(a, brd));
		if (err)
			return err;
	}
	err = vn_be_nlerr(rtnl_addr_add(ns->sk, a, NLM_F_EXCL));
	return err == -EEXIST ? 0 : err;
}

int vn_addr_sync(struct vn_ns *ns, const char *ifname, int af, const struct vn_cidr *addrs,
		 size_t n)
{
	_cleanup_link_ struct rtnl_link *l = NULL;
	_cleanup_cache_ struct nl_cache *c = NULL;
	int deleted = 0;
	int ifindex;
	int err;

	if (!ns || (n && !addrs))
		return -EINVAL;
	if (af != AF_UNSPEC && af != AF_INET && af != AF_INET6)
		return -EAFNOSUPPORT;
	for (size_t i = 0; i < n; i++)
		if (!check_cidr(&addrs[i]) || !af_selected(af, addrs[i].net.af))
			return -EINVAL;
	err = link_get(ns, ifname, &l);
	if (err)
		return err;
	ifindex = rtnl_link_get_ifindex(l);

	err = addr_dump(ns, af, ifindex, &c);
	if (err)
		return err;
	for (struct nl_object *o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct vn_cidr have;
		bool wanted = false;

		if (!addr_managed(a, ifindex, af))
			continue;
		for (size_t i = 0; i < n && !wanted; i++)
			wanted = addr_is(a, &addrs[i]);
		if (wanted)
			continue;
		err = nl_to_vn(rtnl_addr_get_local(a), &have.net);
		if (err)
			continue; /* not an address we could have made */
		have.prefix = (int)rtnl_addr_get_prefixlen(a);
		err = addr_apply(ns, ifindex, &have, false);
		if (err == -EADDRNOTAVAIL || err == -ENOENT)
			err = 0; /* already gone (a flushed IPv4 secondary) */
		if (err)
			return err;
		deleted++;
	}
	/* Deleting an IPv4 primary also deletes its secondaries unless
	 * promote_secondaries is set: look again before adding. */
	if (deleted) {
		nl_cache_free(c);
		c = NULL;
		err = addr_dump(ns, af, ifindex, &c);
		if (err)
			return err;
	}
	for (size_t i = 0; i < n; i++) {
		bool have = false;

		for (size_t j = 0; j < i && !have; j++)
			have = vn_eq(&addrs[j].net, &addrs[i].net) &&
			       addrs[j].prefix == addrs[i].prefix;
		for (struct nl_object *o = nl_cache_get_first(c); o && !have;
		     o = nl_cache_get_next(o))
			have = addr_managed((struct rtnl_addr *)o, ifindex, af) &&
			       addr_is((struct rtnl_addr *)o, &addrs[i]);
		if (have)
			continue;
		err = addr_apply(ns, ifindex, &addrs[i], true);
		if (err)
			return err;
	}
	return 0;
}

/* ---- routes ------------------------------------------------------------ */

struct want_route {
	const struct vn_route *r;
	int oif; /* 0: any */
	bool present;
	bool adopt; /* an equal proto static route is there: take it over */
};

static bool route_is(struct rtnl_route *r, const struct want_route *w)
{
	struct rtnl_nexthop *nh;
	struct nl_addr *gw;
	struct vn_addr dst;

	if (rtnl_route_get_family(r) != w->r->dst.net.af || nl_to_vn(rtnl_route_get_dst(r), &dst) ||
	    !vn_eq(&dst, &w->r->dst.net) ||
	    (int)nl_addr_get_prefixlen(rtnl_route_get_dst(r)) != w->r->dst.prefix ||
	    rtnl_route_get_type(r) != RTN_UNICAST || rtnl_route_get_nnexthops(r) != 1)
		return false;
	nh = rtnl_route_nexthop_n(r, 0);
	if (w->oif && rtnl_route_nh_get_ifindex(nh) != w->oif)
		return false;
	gw = rtnl_route_nh_get_gateway(nh);
	if (!w->r->gateway.af)
		return !gw;
	if (!gw)
		return false;
	if (nl_to_vn(gw, &dst))
		return false;
	return vn_eq(&dst, &w->r->gateway);
}

static int route_add(struct vn_ns *ns, const struct want_route *w, int flags)
{
	_cleanup_route_ struct rtnl_route *r = rtnl_route_alloc();
	_cleanup_nladdr_ struct nl_addr *dst = NULL;
	_cleanup_nladdr_ struct nl_addr *gw = NULL;
	struct rtnl_nexthop *nh;
	int af = w->r->dst.net.af;
	int err;

	if (!r)
		return -ENOMEM;
	err = vn_to_nl(&w->r->dst.net, w->r->dst.prefix, &dst);
	if (err)
		return err;
	if (w->r->gateway.af) {
		err = vn_to_nl(&w->r->gateway, 8 * af_bytes(af), &gw);
		if (err)
			return err;
	}
	rtnl_route_set_family(r, (uint8_t)af);
	rtnl_route_set_table(r, RT_TABLE_MAIN);
	rtnl_route_set_protocol(r, VN_RTPROT);
	rtnl_route_set_type(r, RTN_UNICAST);
	rtnl_route_set_scope(r, gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
	err = vn_be_nlerr(rtnl_route_set_dst(r, dst));
	if (err)
		return err;
	nh = rtnl_route_nh_alloc();
	if (!nh)
		return -ENOMEM;
	if (gw)
		rtnl_route_nh_set_gateway(nh, gw);
	if (w->oif)
		rtnl_route_nh_set_ifindex(nh, w->oif);
	rtnl_route_add_nexthop(r, nh); /* r owns nh now */
	return vn_be_nlerr(rtnl_route_add(ns->sk, r, flags));
}

/*
 * Only routes of protocol VN_RTPROT are the daemon's: those it deletes when
 * not wanted. Everything else in the table (connected routes, routes that
 * root or a container made, proto static included) is left alone. A proto
 * static route equal to a wanted one is what a daemon before VN_RTPROT
 * made (or someone made the very route we want, through our interface):
 * it is replaced by ours rather than failing the add with EEXIST.
 */
static int route_sync_af(struct vn_ns *ns, int af, struct want_route *want, size_t n)
{
	struct rtmsg hdr = {
		.rtm_family = (uint8_t)af,
		.rtm_table = RT_TABLE_MAIN,
	};
	_cleanup_cache_ struct nl_cache *c = NULL;
	int err;

	err = dump(ns, "route/route", RTM_GETROUTE, &hdr, sizeof(hdr), &c);
	if (err)
		return err;
	/* Remove ours that are not wanted (or wanted twice) first, so that a
	 * changed gateway for the same destination can be added after. */
	for (struct nl_object *o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;
		int proto = rtnl_route_get_protocol(r);
		bool keep = false;

		if (rtnl_route_get_family(r) != af || rtnl_route_get_table(r) != RT_TABLE_MAIN ||
		    (proto != VN_RTPROT && proto != RTPROT_STATIC))
			continue;
		for (size_t i = 0; i < n && !keep; i++) {
			if (want[i].r->dst.net.af != af || want[i].present)
				continue;
			if (!route_is(r, &want[i]))
				continue;
			keep = true;
			if (proto == VN_RTPROT)
				want[i].present = true;
			else
				want[i].adopt = true;
		}
		if (keep || proto != VN_RTPROT)
			continue;
		err = vn_be_nlerr(rtnl_route_delete(ns->sk, r, 0));
		if (err && err != -ESRCH && err != -ENOENT)
			return err;
	}
	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		if (want[i].r->dst.net.af != af || want[i].present)
			continue;
		/* The same route asked for twice: the first one makes it. */
		for (size_t j = 0; j < i && !dup; j++)
			dup = want[j].r->dst.net.af == af && want[j].oif == want[i].oif &&
			      vn_eq(&want[j].r->dst.net, &want[i].r->dst.net) &&
			      want[j].r->dst.prefix == want[i].r->dst.prefix &&
			      vn_eq(&want[j].r->gateway, &want[i].r->gateway);
		if (dup)
			continue;
		err = route_add(ns, &want[i], want[i].adopt ? NLM_F_REPLACE : NLM_F_EXCL);
		if (err)
			return err;
		want[i].present = true;
	}
	return 0;
}

int vn_route_sync(struct vn_ns *ns, int af, const struct vn_route *routes, size_t n)
{
	_cleanup_free_ struct want_route *want = NULL;
	int err;

	if (!ns || (n && !routes))
		return -EINVAL;
	if (af != AF_UNSPEC && af != AF_INET && af != AF_INET6)
		return -EAFNOSUPPORT;
	want = calloc(n ? n : 1, sizeof(*want));
	if (!want)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct vn_route *r = &routes[i];

		if (!check_cidr(&r->dst) || !af_selected(af, r->dst.net.af))
			return -EINVAL;
		if (r->gateway.af && r->gateway.af != r->dst.net.af)
			return -EINVAL;
		if (!r->gateway.af && !r->ifname[0])
			return -EINVAL;
		want[i].r = r;
		if (r->ifname[0]) {
			_cleanup_link_ struct rtnl_link *l = NULL;

			if (strnlen(r->ifname, VN_IFNAMSIZ) == VN_IFNAMSIZ)
				return -EINVAL;
			err = link_get(ns, r->ifname, &l);
			if (err)
				return err;
			want[i].oif = rtnl_link_get_ifindex(l);
		}
	}
	if (af == AF_UNSPEC || af == AF_INET) {
		err = route_sync_af(ns, AF_INET, want, n);
		if (err)
			return err;
	}
	if (af == AF_UNSPEC || af == AF_INET6)
		return route_sync_af(ns, AF_INET6, want, n);
	return 0;
}
