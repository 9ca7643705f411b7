// SPDX-License-Identifier: MIT
/*
 * networks/NET/ports/PORT: a place on a network with a MAC and fixed IPs.
 *
 * A port is made by `mkdir` (Neutron's `port create`) or implicitly by
 * other kinds (router legs now; DHCP and instance NICs later), which pass
 * device_owner in its initial values. A bound port is a veth pair: the
 * host end "vnp-<id>" on the network's bridge, the peer inside a network
 * namespace, named, with the port's MAC and the network's MTU. What binds
 * it is either the user (`netns` = /run/netns/NAME or /proc/PID/ns/net,
 * like the CNI bridge plugin does for a container) or the router that owns
 * it (the peer is the router's qr-/qg- leg inside qrouter-<id>).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "vnetfs/backend.h"
#include "vnetfs/ip.h"
#include "vnetfs/jobs.h"
#include "vnetfs/model.h"
#include "fs/dhcp.h"
#include "fs/kinds.h"

#define VN_PORT_PREFIX "vnp-"

/* ---- who owns the port ---- */

struct vn_obj *vn_port_router(struct vn_ctx *c, struct vn_obj *port, bool *gateway)
{
	const char *role = NULL;
	struct vn_obj *owner = vn_owner_of(port, &role);

	if (!owner || owner->kind != &vn_kind_router)
		return NULL;
	if (gateway)
		*gateway = !strcmp(role, "gateway");
	return owner;
}

bool vn_port_is_router_if(struct vn_ctx *c, struct vn_obj *port)
{
	bool gw = true;

	return vn_port_router(c, port, &gw) && !gw;
}

/* A port of an earlier version: its router named in device_owner. */
static struct vn_obj *vn_port_legacy_owner(struct vn_ctx *c, struct vn_obj *port, const char **role)
{
	const char *owner = vn_get_str(port, "device_owner");
	const char *name;

	if (!owner)
		return NULL;
	if (!strncmp(owner, VN_OWNER_ROUTER_IF, strlen(VN_OWNER_ROUTER_IF))) {
		name = owner + strlen(VN_OWNER_ROUTER_IF);
		*role = "interface";
	} else if (!strncmp(owner, VN_OWNER_ROUTER_GW, strlen(VN_OWNER_ROUTER_GW))) {
		name = owner + strlen(VN_OWNER_ROUTER_GW);
		*role = "gateway";
	} else {
		return NULL;
	}
	return vn_coll_find(vn_root_coll(c, &vn_kind_router), name);
}

bool vn_port_bound(struct vn_ctx *c, struct vn_obj *port)
{
	return vn_get_str(port, "netns") || vn_port_router(c, port, NULL) || vn_port_is_dhcp(port);
}

void vn_port_device(const struct vn_obj *port, char buf[16])
{
	vn_ifname(buf, VN_PORT_PREFIX, port->id);
}

/* The interface name inside the target namespace. */
static void vn_port_ifname(struct vn_ctx *c, struct vn_obj *port, char buf[16])
{
	bool gw = false;
	const char *s;

	if (vn_port_router(c, port, &gw)) {
		vn_ifname(buf, gw ? "qg-" : "qr-", port->id);
		return;
	}
	if (vn_port_is_dhcp(port)) {
		vn_ifname(buf, VN_DHCP_IF_PREFIX, port->id);
		return;
	}
	s = vn_get_str(port, "ifname");
	snprintf(buf, 16, "%s", s ? s : "eth0");
}

/* ---- fixed IPs ---- */

/* One fixed_ips line: "SUBNET ADDRESS", or "SUBNET" before allocation. */
static int vn_fixed_split(const char *line, char *sub, size_t sublen, struct vn_addr *a,
			  bool *has_addr)
{
	const char *sp = strpbrk(line, " \t");
	size_t l = sp ? (size_t)(sp - line) : strlen(line);

	if (l == 0 || l >= sublen)
		return -EINVAL;
	memcpy(sub, line, l);
	sub[l] = '\0';
	*has_addr = false;
	if (!sp)
		return 0;
	sp += strspn(sp, " \t");
	if (vn_addr_parse(sp, a) < 0)
		return -EINVAL;
	*has_addr = true;
	return 0;
}

int vn_port_fixed_ip(struct vn_obj *port, size_t i, struct vn_obj **sub, struct vn_addr *a)
{
	struct json_object *list = vn_get_list(port, "fixed_ips");
	struct vn_coll *subs;
	char name[64];
	bool has;

	if (i >= vn_list_len(list))
		return -ENOENT;
	if (vn_fixed_split(vn_list_at(list, i), name, sizeof(name), a, &has) < 0 || !has)
		return -EINVAL;
	subs = vn_child_coll(port->parent, &vn_kind_subnet);
	*sub = vn_coll_find(subs, name);
	return *sub ? 0 : -ENOENT;
}

/* The lowest free address of the subnet's pools (not in mine[] either),
 * from where the last allocation stopped: O(1) per port when a subnet
 * fills up in order, never a walk over every port. */
static int vn_port_alloc(struct vn_obj *sub, const struct vn_subnet_ipam *ip,
			 const struct vn_addr *mine, size_t nmine, struct vn_addr *out)
{
	struct vn_alloc_hint *h = vn_subnet_hint(sub);
	bool same = h && h->valid && h->npools == ip->npools;
	size_t order[VN_MAX_POOLS], n = ip->npools < VN_MAX_POOLS ? ip->npools : VN_MAX_POOLS;
	char as[VN_ADDR_STRLEN];

	for (size_t i = 0; same && i < n; i++)
		same = vn_addr_eq(&h->pools[i].start, &ip->pools[i].start) &&
		       vn_addr_eq(&h->pools[i].end, &ip->pools[i].end);
	/* pools by start address (a handful: insertion sort) */
	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		while (j > 0 &&
		       vn_addr_cmp(&ip->pools[order[j - 1]].start, &ip->pools[i].start) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (size_t k = 0; k < n; k++) {
		const struct vn_pool *p = &ip->pools[order[k]];
		struct vn_addr cand = p->start;

		if (p->start.af != p->end.af || p->start.v > p->end.v)
			continue;
		if (same && h->next.af == cand.af && h->next.v > cand.v) {
			if (h->next.v > p->end.v)
				continue;
			cand = h->next;
		}
		for (;;) {
			bool taken;

			vn_addr_format(&cand, as, sizeof(as));
			taken = vn_ref_holder(sub, "fixed_ips", as, NULL) != NULL;
			for (size_t j = 0; j < nmine && !taken; j++)
				taken = vn_addr_eq(&mine[j], &cand);
			if (!taken) {
				if (h) {
					h->valid = true;
					h->next = cand;
					h->npools = n;
					memcpy(h->pools, ip->pools, n * sizeof(*h->pools));
				}
				*out = cand;
				return 0;
			}
			if (cand.v == p->end.v)
				break;
			cand.v++;
		}
	}
	return -ENOSPC;
}

/* Validate the port's fixed_ips against the model, allocating addresses
 * for lines that name only a subnet; rewrites the list canonically. */
static int vn_port_settle_ips(struct vn_ctx *c, struct vn_obj *port, struct vn_err *err)
{
	struct json_object *list = vn_get_list(port, "fixed_ips");
	_cleanup_json_ struct json_object *out = json_object_new_array();
	struct vn_addr mine[64];
	size_t nmine = 0;

	for (size_t i = 0; i < vn_list_len(list); i++) {
		struct vn_pool pools[VN_MAX_POOLS];
		struct vn_subnet_ipam ip;
		char name[64], why[256], buf[64 + VN_ADDR_STRLEN + 1], as[VN_ADDR_STRLEN];
		struct vn_obj *sub, *holder;
		struct vn_addr a;
		bool has;

		if (vn_fixed_split(vn_list_at(list, i), name, sizeof(name), &a, &has) < 0)
			return vn_fail(err, -EINVAL,
				       "fixed_ips line '%s' is not 'SUBNET [ADDRESS]'",
				       vn_list_at(list, i));
		sub = vn_coll_find(vn_child_coll(port->parent, &vn_kind_subnet), name);
		if (!sub) {
			struct vn_obj *other = vn_find_global(c, &vn_kind_subnet, name);

			if (other)
				return vn_fail(err, -EINVAL,
					       "subnet '%s' is on network '%s', not '%s'", name,
					       other->parent->name, port->parent->name);
			return vn_fail(err, -ENOENT, "subnet '%s' does not exist", name);
		}
		if (vn_subnet_ipam(sub, &ip, pools) < 0)
			return vn_fail(err, -EINVAL, "subnet '%s' has no cidr yet", name);
		if (has) {
			/* A router's interface is where the gateway_ip lives. */
			bool gw_leg = ip.has_gateway && vn_addr_eq(&a, &ip.gateway) &&
				      vn_port_is_router_if(c, port);

			if (!gw_leg && vn_ipam_check_fixed(&ip, &a, why, sizeof(why)) < 0)
				return vn_fail(err, -EINVAL, "%s", why);
			vn_addr_format(&a, as, sizeof(as));
			holder = vn_ref_holder(sub, "fixed_ips", as, port);
			if (holder)
				return vn_fail(err, -EADDRINUSE,
					       "%s is already used on subnet '%s'", as, name);
		} else {
			/* also skip what this port takes on earlier lines */
			if (vn_port_alloc(sub, &ip, mine, nmine, &a) < 0)
				return vn_fail(err, -ENOSPC, "no free address left on subnet '%s'",
					       name);
			vn_addr_format(&a, as, sizeof(as));
		}
		for (size_t j = 0; j < nmine; j++)
			if (vn_addr_eq(&mine[j], &a))
				return vn_fail(err, -EINVAL, "%s appears twice in fixed_ips", as);
		if (nmine == sizeof(mine) / sizeof(mine[0]))
			return vn_fail(err, -EINVAL, "at most 64 fixed IPs on a port");
		mine[nmine++] = a;
		snprintf(buf, sizeof(buf), "%s %s", name, as);
		json_object_array_add(out, json_object_new_string(buf));
	}
	vn_set(port, "fixed_ips", json_object_array_length(out) ? TAKE_PTR(out) : NULL);
	return 0;
}

/* ---- binding ---- */

/*
 * A port bound by the user names its namespace by a path, and a path is
 * not a namespace: /proc/PID/ns/net names whatever process has that PID
 * now, /run/netns/NAME whatever was mounted there last. So the namespace
 * itself (its nsfs inode and netns cookie, vn_ns_id) is recorded when the
 * path is bound (written to netns, after the binding rule allowed it),
 * in the port's private props key "_netns_id" (path -> "DEV:INO:COOKIE"),
 * and every later open of the path compares it: a path that now names
 * another namespace is never used. The port is unplugged and shows DOWN
 * with the reason in `error` until netns is written again (the same path
 * too: that binds to what it names now, checked again) or emptied.
 */

#define VN_NETNS_ID "_netns_id"

/* Runtime-only state of a port (o->priv). */
struct vn_port_priv {
	/* Bound, but its namespace cannot be used now: nothing plugged. */
	bool down;
	/* The value a netns write of the same path is parsing into, while
	 * the port is down (see vn_parse_netns). Compared by address only. */
	const struct json_object *rebind;
};

static struct vn_port_priv *vn_port_priv(struct vn_obj *port)
{
	static struct vn_port_priv none;

	return port->priv ? port->priv : &none;
}

static void vn_nsid_text(const struct vn_ns_id *id, char *buf, size_t len)
{
	snprintf(buf, len, "%llu:%llu:%llu", (unsigned long long)id->dev,
		 (unsigned long long)id->ino, (unsigned long long)id->cookie);
}

/* Record id as path's identity; with prune, forget every other path's. */
static void vn_port_record(struct vn_obj *port, const char *path, const char *id, bool prune)
{
	struct json_object *old = json_object_object_get(port->props, VN_NETNS_ID);
	struct json_object *m = json_object_new_object();

	if (!m)
		return;
	if (!prune && json_object_is_type(old, json_type_object)) {
		json_object_object_foreach(old, k, v)
		{
			if (strcmp(k, path))
				json_object_object_add(m, k, json_object_get(v));
		}
	}
	json_object_object_add(m, path, json_object_new_string(id));
	vn_set(port, VN_NETNS_ID, m);
}

/* netns could not be opened: say why. */
static int vn_port_ns_error(struct vn_err *err, const char *path, int r)
{
	switch (r) {
	case -ENOENT:
		return vn_fail(err, -ENOENT, "network namespace %s does not exist", path);
	case -ELOOP:
		return vn_fail(err, -ELOOP,
			       "%s is not a network namespace: a symbolic link is on the way there "
			       "(name the namespace itself)",
			       path);
	case -EINVAL:
	case -ENOTDIR:
		return vn_fail(err, -EINVAL, "%s is not a network namespace", path);
	case -EACCES:
	case -EPERM:
		return vn_fail(err, -EACCES, "%s cannot be opened: %s", path, strerror(-r));
	default:
		return vn_fail(err, -EIO, "%s cannot be opened: %s", path, strerror(-r));
	}
}

/* The daemon is root: it must not plug a user's port into a namespace the
 * user has no hold on. Root binds anywhere; anyone else only into a
 * network namespace owned by a user namespace of their own (one they made,
 * `unshare -U -n`, as rootless containers do): never the host's, never one
 * root made, whatever processes of theirs run in it. */
static int vn_port_may_bind(struct vn_ns *ns, const char *path, uid_t uid, struct vn_err *err)
{
	uid_t owner;
	int r;

	if (uid == 0)
		return 0;
	r = vn_ns_owner(ns, &owner);
	if (r == -EPERM)
		return vn_fail(err, -EACCES,
			       "only root may bind a port to %s: it is not in a user namespace of "
			       "yours (bind to a namespace you made, e.g. with unshare -U -n)",
			       path);
	if (r < 0)
		return vn_fail(err, -EACCES,
			       "only root may bind a port to %s: its owner cannot be checked: %s",
			       path, strerror(-r));
	if (owner != uid)
		return vn_fail(err, -EACCES,
			       "only root may bind a port to %s: its user namespace belongs to "
			       "uid %u",
			       path, (unsigned)owner);
	return 0;
}

/* Open the namespace of a port bound by path, and make sure it is the one
 * the port was bound to. */
static int vn_port_open_bound(struct vn_ctx *c, struct vn_obj *port, struct vn_ns **out,
			      struct vn_err *err)
{
	const char *path = vn_get_str(port, "netns");
	struct json_object *map = json_object_object_get(port->props, VN_NETNS_ID);
	struct json_object *rec = NULL;
	struct vn_ns *ns = NULL;
	struct vn_ns_id id;
	char text[80];
	int r;

	r = vn_ns_open_path(path, &ns);
	vn_ns_set_closer(ns, vn_ctx_closer(c));
	if (r < 0)
		return vn_port_ns_error(err, path, r);
	r = vn_ns_id(ns, &id);
	if (r < 0) {
		vn_ns_close(ns);
		return vn_fail(err, -EIO, "%s cannot be identified: %s", path, strerror(-r));
	}
	vn_nsid_text(&id, text, sizeof(text));
	if (!map) {
		/* Bound by a daemon that recorded no identity: take what the
		 * path names now, if the port's owner may bind there. */
		r = vn_port_may_bind(ns, path, port->uid, err);
		if (r < 0) {
			vn_ns_close(ns);
			return r;
		}
		vn_port_record(port, path, text, true); /* persisted by reconcile */
		*out = ns;
		return 0;
	}
	if (!json_object_object_get_ex(map, path, &rec) ||
	    strcmp(json_object_get_string(rec), text)) {
		vn_ns_close(ns);
		return vn_fail(err, -ESTALE,
			       "%s is no longer the namespace the port was bound to; write netns "
			       "again to bind the port to the namespace it names now",
			       path);
	}
	*out = ns;
	return 0;
}

/* The port is in place in path's namespace: forget other paths' records
 * (kept until now for an undo going back to the previous binding). */
static void vn_port_prune(struct vn_ctx *c, struct vn_obj *port)
{
	const char *path = vn_get_str(port, "netns");
	struct json_object *map = json_object_object_get(port->props, VN_NETNS_ID);
	struct json_object *rec = NULL;

	if (!path || vn_port_router(c, port, NULL) || !json_object_is_type(map, json_type_object) ||
	    json_object_object_length(map) < 2 || !json_object_object_get_ex(map, path, &rec))
		return;
	vn_port_record(port, path, json_object_get_string(rec), true);
}

struct vn_target {
	struct vn_ns *ns;
	char ifname[16];
	bool static_ip;
	bool router_leg;
	bool borrowed; /* ns is the router's: not closed here */
};

static void vn_target_close(struct vn_target *t)
{
	if (t->ns && !t->borrowed)
		vn_ns_close(t->ns);
}

static int vn_port_open_target(struct vn_ctx *c, struct vn_obj *port, struct vn_target *t,
			       struct vn_err *err)
{
	struct vn_obj *router = vn_port_router(c, port, NULL);
	const char *ipc = vn_get_str(port, "ipconfig");
	int r;

	memset(t, 0, sizeof(*t));
	vn_port_ifname(c, port, t->ifname);
	if (router) {
		char name[64];

		vn_router_namespace(router, name);
		t->static_ip = t->router_leg = true;
		/* the router's own handle, when it has one: no namespace to
		 * enter and no socket to make per leg */
		t->ns = vn_router_ns_held(router);
		if (t->ns) {
			t->borrowed = true;
			return 0;
		}
		r = vn_ns_open(name, true, &t->ns);
		vn_ns_set_closer(t->ns, vn_ctx_closer(c));
		if (r < 0)
			return vn_fail(err, -EIO, "could not open router namespace %s: %s", name,
				       strerror(-r));
		return 0;
	}
	if (vn_port_is_dhcp(port)) {
		char name[64];

		/* the network's DHCP service made the namespace first */
		vn_dhcp_namespace(port->parent, name);
		t->static_ip = t->router_leg = true; /* no default route there */
		r = vn_ns_open(name, false, &t->ns);
		vn_ns_set_closer(t->ns, vn_ctx_closer(c));
		if (r < 0)
			return vn_fail(err, -EIO, "could not open DHCP namespace %s: %s", name,
				       strerror(-r));
		return 0;
	}
	t->static_ip = ipc && !strcmp(ipc, "static");
	return vn_port_open_bound(c, port, &t->ns, err);
}

/* The port's namespace cannot be used: unplug it (its veth may still be
 * in the namespace it was bound to) and show it DOWN, err saying why. */
static void vn_port_go_down(struct vn_ctx *c, struct vn_obj *port, const struct vn_err *err)
{
	char host[16];

	vn_port_device(port, host);
	vn_link_delete(c->ns, host);
	if (port->priv)
		vn_port_priv(port)->down = true;
	vn_obj_set_error(port, err);
}

/* Before a write changes a bound port: is its namespace still its own? */
static int vn_port_verify(struct vn_ctx *c, struct vn_obj *port, struct vn_err *err)
{
	struct vn_ns *ns = NULL;
	int r;

	if (!vn_get_str(port, "netns") || vn_port_router(c, port, NULL))
		return 0;
	r = vn_port_open_bound(c, port, &ns, err);
	if (r < 0) {
		vn_port_go_down(c, port, err);
		return r;
	}
	vn_ns_close(ns);
	return 0;
}

/* Addresses (with their subnets' prefixes) and the default route. */
static void vn_port_addressing(struct vn_obj *port, struct vn_cidr *addrs, size_t *n,
			       struct vn_route *def)
{
	struct vn_obj *sub;
	struct vn_addr a;

	*n = 0;
	memset(def, 0, sizeof(*def));
	size_t cnt = vn_list_len(vn_get_list(port, "fixed_ips"));

	for (size_t i = 0; i < cnt && *n < 64; i++) {
		struct vn_pool pools[VN_MAX_POOLS];
		struct vn_subnet_ipam ip;

		if (vn_port_fixed_ip(port, i, &sub, &a) < 0 || vn_subnet_ipam(sub, &ip, pools) < 0)
			continue;
		addrs[*n].net = a;
		addrs[(*n)++].prefix = ip.cidr.prefix;
		if (!def->gateway.af && ip.has_gateway && a.af == AF_INET) {
			def->dst.net.af = AF_INET;
			def->gateway = ip.gateway;
		}
	}
}

bool vn_port_plugged(struct vn_ctx *c, struct vn_obj *port)
{
	return vn_port_bound(c, port) && !vn_port_priv(port)->down;
}

static int vn_port_realise_link(struct vn_ctx *c, struct vn_obj *port, struct vn_err *err);

/* The link, then its security groups' filtering. */
int vn_port_realise(struct vn_ctx *c, struct vn_obj *port, struct vn_err *err)
{
	int r = vn_port_realise_link(c, port, err);
	struct vn_err e = {0};
	int s = vn_secgroup_port_sync(c, port, &e);

	if (r < 0)
		return r;
	if (s < 0)
		*err = e;
	return s;
}

static int vn_port_realise_link(struct vn_ctx *c, struct vn_obj *port, struct vn_err *err)
{
	struct vn_target t __attribute__((cleanup(vn_target_close))) = {0};
	struct vn_link_state st;
	struct vn_cidr addrs[64];
	struct vn_route def;
	uint8_t mac[6];
	char host[16], br[16];
	size_t n;
	int r;

	vn_port_device(port, host);
	if (!vn_port_bound(c, port)) {
		vn_port_priv(port)->down = false;
		r = vn_link_delete(c->ns, host);
		return r < 0 ? vn_fail(err, -EIO, "could not remove %s: %s", host, strerror(-r))
			     : 0;
	}
	r = vn_port_open_target(c, port, &t, err);
	if (r < 0) {
		if (vn_port_router(c, port, NULL) || vn_port_is_dhcp(port))
			return r;
		/* Not a failure of the caller's change (a network's mtu, a
		 * restart): this port is down, and says why. */
		vn_port_go_down(c, port, err);
		memset(err, 0, sizeof(*err));
		return 0;
	}
	vn_port_priv(port)->down = false;
	/* Never take over an interface somebody else made. */
	if (vn_link_get(c->ns, host, &st) < 0 || !st.exists) {
		if (vn_link_get(t.ns, t.ifname, &st) == 0 && st.exists)
			return vn_fail(err, -EEXIST, "the namespace already has an interface %s",
				       t.ifname);
	}
	vn_network_bridge(port->parent, br);
	if (vn_mac_parse(vn_get_str(port, "mac_address"), mac) < 0)
		return vn_fail(err, -EINVAL, "port has no valid mac_address");
	r = vn_veth_ensure(c->ns, host, br, t.ns, t.ifname, mac,
			   (unsigned)vn_get_int(port->parent, "mtu"));
	if (r == -EEXIST)
		return vn_fail(err, -EEXIST,
			       "an interface %s in the namespace (or %s here) was not made by "
			       "vnetfs and is left alone: remove or rename it",
			       t.ifname, host);
	if (r < 0)
		return vn_fail(err, -EIO, "could not plug %s into %s: %s", t.ifname, br,
			       strerror(-r));
	if (!t.static_ip) {
		vn_port_prune(c, port);
		return 0; /* addressing is DHCP's */
	}
	vn_port_addressing(port, addrs, &n, &def);
	r = vn_addr_sync(t.ns, t.ifname, AF_UNSPEC, addrs, n);
	if (r < 0)
		return vn_fail(err, -EIO, "could not address %s: %s", t.ifname, strerror(-r));
	if (t.router_leg)
		return 0; /* the router owns the routes of its namespace */
	snprintf(def.ifname, sizeof(def.ifname), "%s", t.ifname);
	r = vn_route_sync(t.ns, AF_INET, &def, def.gateway.af ? 1 : 0);
	if (r < 0)
		return vn_fail(err, -EIO, "could not set the default route in the namespace: %s",
			       strerror(-r));
	vn_port_prune(c, port);
	return 0;
}

/* ---- parsers ---- */

static int vn_parse_mac(struct vn_ctx *c, struct vn_obj *o, const char *text,
			struct json_object **out, struct vn_err *err)
{
	uint8_t mac[6];
	char buf[18];

	if (vn_mac_parse(text, mac) < 0)
		return vn_fail(err, -EINVAL,
			       "mac_address '%s' is not a unicast MAC like fa:16:3e:00:00:01",
			       text);
	vn_mac_format(mac, buf, sizeof(buf));
	*out = json_object_new_string(buf);
	return 0;
}

static int vn_parse_fixed(struct vn_ctx *c, struct vn_obj *o, const char *text,
			  struct json_object **out, struct vn_err *err)
{
	char name[64], as[VN_ADDR_STRLEN], buf[64 + VN_ADDR_STRLEN + 1];
	struct vn_addr a;
	bool has;

	if (vn_fixed_split(text, name, sizeof(name), &a, &has) < 0 || vn_name_check(name) < 0)
		return vn_fail(err, -EINVAL, "fixed_ips line '%s' is not 'SUBNET [ADDRESS]'", text);
	if (!has) {
		*out = json_object_new_string(name);
		return 0;
	}
	vn_addr_format(&a, as, sizeof(as));
	snprintf(buf, sizeof(buf), "%s %s", name, as);
	*out = json_object_new_string(buf);
	return 0;
}

/* A port that is down because its path names another namespace now is
 * bound again by writing the same path. The generic write path skips a
 * value equal to the one shown, so while that value is parsed the old one
 * shows as unbound (vn_show_netns): the write is a change, and goes
 * through the binding check and records what the path names now. */
static int vn_netns_value(struct vn_obj *o, const char *text, struct json_object **out)
{
	const char *cur = vn_get_str(o, "netns");

	*out = json_object_new_string(text);
	if (!*out)
		return -ENOMEM;
	if (o->priv && vn_port_priv(o)->down && cur && !strcmp(cur, text))
		vn_port_priv(o)->rebind = *out;
	return 0;
}

static int vn_parse_netns(struct vn_ctx *c, struct vn_obj *o, const char *text,
			  struct json_object **out, struct vn_err *err)
{
	const char *p;

	if (!strncmp(text, "/run/netns/", 11) && vn_name_check(text + 11) == 0)
		return vn_netns_value(o, text, out);
	if (!strncmp(text, "/proc/", 6)) {
		p = text + 6;
		if (*p >= '1' && *p <= '9') {
			p += strspn(p, "0123456789");
			if (!strcmp(p, "/ns/net") && p - (text + 6) <= 10)
				return vn_netns_value(o, text, out);
		}
	}
	return vn_fail(err, -EINVAL, "netns '%s' is not /run/netns/NAME or /proc/PID/ns/net", text);
}

static int vn_parse_ifname(struct vn_ctx *c, struct vn_obj *o, const char *text,
			   struct json_object **out, struct vn_err *err)
{
	size_t l = strlen(text);
	const char *pre;

	if (l == 0 || l > 15 || vn_name_check(text) < 0)
		return vn_fail(
			err, -EINVAL,
			"ifname '%s' is not an interface name (1 to 15 of A-Z a-z 0-9 . _ -)",
			text);
	pre = vn_ifname_reserved(text);
	if (pre)
		return vn_fail(
			err, -EINVAL,
			"ifname '%s' starts with '%s', which vnetfs keeps for the interfaces "
			"it makes",
			text, pre);
	*out = json_object_new_string(text);
	return 0;
}

static int vn_parse_sg(struct vn_ctx *c, struct vn_obj *o, const char *text,
		       struct json_object **out, struct vn_err *err)
{
	if (vn_name_check(text) < 0)
		return vn_fail(err, -EINVAL, "'%s' is not a security group name", text);
	*out = json_object_new_string(text);
	return 0;
}

/* ---- derived values ---- */

static int vn_show_device(struct vn_ctx *c, struct vn_obj *o, struct vn_buf *out)
{
	char host[16];

	if (!vn_port_bound(c, o) || vn_port_priv(o)->down)
		return 0; /* nothing plugged */
	vn_port_device(o, host);
	return vn_buf_printf(out, "%s\n", host);
}

static int vn_show_netns(struct vn_ctx *c, struct vn_obj *o, struct vn_buf *out)
{
	struct vn_obj *router = vn_port_router(c, o, NULL);
	const char *s = vn_get_str(o, "netns");
	char name[64];

	if (router) {
		vn_router_namespace(router, name);
		return vn_buf_printf(out, "/run/netns/%s\n", name);
	}
	if (vn_port_is_dhcp(o)) {
		vn_dhcp_namespace(o->parent, name);
		return vn_buf_printf(out, "/run/netns/%s\n", name);
	}
	if (o->priv && vn_port_priv(o)->rebind &&
	    json_object_object_get(o->props, "netns") != vn_port_priv(o)->rebind)
		return 0; /* the value before a rebind, see vn_netns_value */
	return s ? vn_buf_printf(out, "%s\n", s) : 0;
}

static int vn_show_ifname(struct vn_ctx *c, struct vn_obj *o, struct vn_buf *out)
{
	char name[16];

	vn_port_ifname(c, o, name);
	return vn_buf_printf(out, "%s\n", name);
}

static int vn_show_ipconfig(struct vn_ctx *c, struct vn_obj *o, struct vn_buf *out)
{
	const char *s = vn_get_str(o, "ipconfig");

	if (vn_port_router(c, o, NULL) || vn_port_is_dhcp(o))
		s = "static";
	return vn_buf_printf(out, "%s\n", s ? s : "dhcp");
}

static int vn_show_sgs(struct vn_ctx *c, struct vn_obj *o, struct vn_buf *out)
{
	struct json_object *l = vn_get_list(o, "security_groups");
	int r = 0;

	if (!l)
		return vn_buf_puts(out, "default\n");
	for (size_t i = 0; i < vn_list_len(l) && r == 0; i++)
		r = vn_buf_printf(out, "%s\n", vn_list_at(l, i));
	return r;
}

/* ---- hooks ---- */

static int vn_port_gen_mac(struct vn_ctx *c, struct vn_obj *port)
{
	uint8_t mac[6] = {0xfa, 0x16, 0x3e}; /* Neutron's base_mac */
	char buf[18];

	for (int tries = 0; tries < 16; tries++) {
		if (getrandom(mac + 3, 3, 0) != 3)
			return -EIO;
		vn_mac_format(mac, buf, sizeof(buf));
		if (!vn_unique_holder(port->coll, "mac_address", buf, port)) {
			vn_set(port, "mac_address", json_object_new_string(buf));
			return 0;
		}
	}
	return -EADDRINUSE;
}

static int vn_port_check_mac(struct vn_obj *port, struct vn_err *err)
{
	const char *m = vn_get_str(port, "mac_address");
	struct vn_obj *p;

	if (!m)
		return vn_fail(err, -EINVAL, "a port needs a mac_address");
	p = vn_unique_holder(port->coll, "mac_address", m, port);
	if (p)
		return vn_fail(err, -EADDRINUSE, "mac_address %s is used by port '%s'", m, p->name);
	return 0;
}

static int vn_port_create(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	struct vn_coll *subs = vn_child_coll(o->parent, &vn_kind_subnet);
	int r;

	/* A router's legs are made by the router only: a restore (tar -x,
	 * cp -r) must not make one as a plain port bound into its namespace. */
	if (!vn_owner_of(o, NULL) && (!strncmp(o->name, "qr-", 3) || !strncmp(o->name, "qg-", 3)))
		return vn_fail(
			err, -EPERM,
			"port names starting with qr- or qg- are a router's legs: the router "
			"makes them (write its interfaces or external_gateway)");
	/* So is a network's DHCP port (dhcp, or dhcp-ID where a port of an
	 * older state holds the name). */
	if (!vn_owner_of(o, NULL) && (!strcmp(o->name, "dhcp") || !strncmp(o->name, "dhcp-", 5)))
		return vn_fail(err, -EPERM,
			       "the port name %s is the network's DHCP port's: the network makes "
			       "it (enable_dhcp on a subnet)",
			       o->name);
	if (!vn_get_str(o, "mac_address")) {
		r = vn_port_gen_mac(c, o);
		if (r < 0)
			return vn_fail(err, r, "could not pick a free mac_address");
	}
	r = vn_port_check_mac(o, err);
	if (r < 0)
		return r;
	if (!json_object_object_get(o->props, "fixed_ips")) {
		/* Neutron's default: one address from the first IPv4 subnet
		 * with a cidr (else the first one with a cidr). */
		struct vn_obj *sub, *pick = NULL;
		int pick_af = 0;

		vn_coll_foreach(subs, sub)
		{
			struct vn_pool pools[VN_MAX_POOLS];
			struct vn_subnet_ipam ip;

			if (vn_subnet_ipam(sub, &ip, pools) < 0)
				continue;
			if (!pick || (ip.cidr.net.af == AF_INET && pick_af != AF_INET)) {
				pick = sub;
				pick_af = ip.cidr.net.af;
			}
		}
		if (pick) {
			struct json_object *l = json_object_new_array();

			json_object_array_add(l, json_object_new_string(pick->name));
			vn_set(o, "fixed_ips", l);
		}
	}
	r = vn_port_settle_ips(c, o, err);
	if (r < 0)
		return r;
	r = vn_port_realise(c, o, err);
	if (r < 0) {
		char host[16];

		vn_secgroup_port_gone(c, o); /* the create is undone */
		vn_port_device(o, host);
		vn_link_delete(c->ns, host);
	}
	return r;
}

/* A router's leg is the router's: only its security groups are ours. */
static int vn_port_writable(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			    struct vn_err *err)
{
	struct vn_obj *router = vn_port_router(c, o, NULL);

	if (router && strcmp(a->name, "security_groups"))
		return vn_fail(err, -EBUSY, "port '%s' is managed by router '%s'", o->name,
			       router->name);
	if (vn_port_is_dhcp(o) && !vn_dhcp_writing(c) && strcmp(a->name, "security_groups"))
		return vn_fail(err, -EBUSY, "port '%s' is the DHCP port of network '%s'", o->name,
			       o->parent ? o->parent->name : "?");
	return 0;
}

/* netns written: may the caller bind there? Record what it names. */
static int vn_port_check_netns(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	const char *path = vn_get_str(o, "netns");
	struct vn_ns *ns = NULL;
	struct vn_ns_id id;
	char text[80];
	int r;

	vn_port_priv(o)->rebind = NULL;
	if (!path)
		return 0;
	/* The daemon's own namespaces (routers', DHCP services') are their
	 * objects': a restore (tar, cp -r) of a router leg or a DHCP port as
	 * a plain port must not plug into them. By name: that is how a saved
	 * value names them; a /proc/PID path is root's own choice. */
	if (!strncmp(path, "/run/netns/", 11) &&
	    (vn_own_has(c, "netns", path + 11) || vn_own_has(c, "dhcpns", path + 11)))
		return vn_fail(err, -EPERM,
			       "%s belongs to the daemon (a router's or a DHCP service's "
			       "namespace): a port cannot be bound into it",
			       path);
	r = vn_ns_open_path(path, &ns);
	vn_ns_set_closer(ns, vn_ctx_closer(c));
	if ((r == -EACCES || r == -EPERM) && c->caller_uid != 0)
		return vn_fail(err, -EACCES, "only root may bind a port to %s: it cannot be opened",
			       path);
	if (r < 0)
		return vn_port_ns_error(err, path, r);
	r = vn_port_may_bind(ns, path, c->caller_uid, err);
	if (r == 0) {
		r = vn_ns_id(ns, &id);
		if (r < 0)
			r = vn_fail(err, -EIO, "%s cannot be identified: %s", path, strerror(-r));
	}
	vn_ns_close(ns);
	if (r < 0)
		return r;
	/* The previous binding's record stays until the new one is in place
	 * (an undo goes back to it). */
	vn_nsid_text(&id, text, sizeof(text));
	vn_port_record(o, path, text, false);
	return 0;
}

static int vn_port_check(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			 struct vn_err *err)
{
	int r;

	/* A network's DHCP port is its DHCP service's: a write is refused,
	 * a reset (rm -r) puts back what the service wants (no effect). */
	if (vn_port_is_dhcp(o) && !vn_dhcp_writing(c) && strcmp(a->name, "security_groups")) {
		if (json_object_object_get(o->props, a->name))
			return vn_fail(err, -EBUSY,
				       "port '%s' is the DHCP port of network '%s': the daemon "
				       "manages it (enable_dhcp on the subnets decides)",
				       o->name, o->parent->name);
		if (!strcmp(a->name, "fixed_ips"))
			vn_set(o, "fixed_ips", vn_dhcp_port_want(c, o));
	}
	if (!strcmp(a->name, "netns"))
		return vn_port_check_netns(c, o, err);
	/* Every other change but security groups reopens the namespace: a
	 * value written fails while it is not the port's (the port goes
	 * DOWN). A reset (unlink, rm -r) goes through: the port is unplugged
	 * and DOWN all the same (vn_port_realise), and rm -r still works. */
	if (strcmp(a->name, "security_groups") && json_object_object_get(o->props, a->name)) {
		r = vn_port_verify(c, o, err);
		if (r < 0)
			return r;
	}
	if (!strcmp(a->name, "mac_address")) {
		char host[16];
		struct vn_link_state st;

		vn_port_device(o, host);
		if (vn_link_get(c->ns, host, &st) == 0 && st.exists)
			return vn_fail(
				err, -EBUSY,
				"unbind the port (empty netns) before changing its mac_address");
		return vn_port_check_mac(o, err);
	}
	if (!strcmp(a->name, "fixed_ips"))
		return vn_port_settle_ips(c, o, err);
	if (!strcmp(a->name, "security_groups")) {
		struct json_object *l = vn_get_list(o, "security_groups");
		struct vn_coll *sgs = vn_root_coll(c, &vn_kind_secgroup);

		if (vn_list_len(l) > 64)
			return vn_fail(err, -EINVAL, "a port is in at most 64 security groups");

		for (size_t i = 0; i < vn_list_len(l); i++) {
			struct vn_obj *g = vn_coll_find(sgs, vn_list_at(l, i));

			if (!g)
				return vn_fail(err, -ENOENT, "security group '%s' does not exist",
					       vn_list_at(l, i));
			if (!vn_secgroup_may_use(c, g))
				return vn_fail(err, -EACCES, "security group '%s' is not yours",
					       vn_list_at(l, i));
		}
	}
	return 0;
}

static int vn_port_apply(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			 struct json_object *old, struct vn_err *err)
{
	char host[16];

	if (!strcmp(a->name, "security_groups"))
		return vn_secgroup_port_sync(c, o, err);
	/* A new namespace or name: start the pair over. */
	if (!strcmp(a->name, "netns") || !strcmp(a->name, "ifname")) {
		vn_port_device(o, host);
		vn_link_delete(c->ns, host);
	}
	return vn_port_realise(c, o, err);
}

int vn_port_in_use(struct vn_ctx *c, struct vn_obj *port, struct vn_err *err)
{
	bool gw = false;
	struct vn_obj *router = vn_port_router(c, port, &gw);
	const char *ns = vn_get_str(port, "netns");

	if (router)
		return vn_fail(err, -EBUSY, "port '%s' on network '%s' is router '%s''s %s",
			       port->name, port->parent->name, router->name,
			       gw ? "gateway" : "interface");
	if (vn_port_is_dhcp(port))
		return 0; /* it goes with its network's DHCP service */
	if (ns)
		return vn_fail(err, -EBUSY, "port '%s' on network '%s' is bound to %s", port->name,
			       port->parent->name, ns);
	return 0;
}

static int vn_port_busy(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	bool gw = false;
	struct vn_obj *router = vn_port_router(c, o, &gw);

	if (router)
		return vn_fail(err, -EBUSY, "port '%s' is router '%s''s %s; change routers/%s/%s",
			       o->name, router->name, gw ? "gateway" : "interface", router->name,
			       gw ? "external_gateway" : "interfaces");
	return 0;
}

static int vn_port_destroy(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	char host[16];
	int r;

	vn_secgroup_port_gone(c, o);
	vn_port_device(o, host);
	r = vn_link_delete(c->ns, host); /* the peer goes with it */
	if (r < 0)
		return vn_fail(err, -EIO, "could not remove %s: %s", host, strerror(-r));
	return 0;
}

static int vn_port_reconcile(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	bool had = json_object_object_get(o->props, VN_NETNS_ID) != NULL;
	int r = vn_port_realise(c, o, err);
	int s;

	/* A port bound by an older daemon got its identity recorded: keep it
	 * (a write's save persists it otherwise, but props are clean here). */
	if (!had && json_object_object_get(o->props, VN_NETNS_ID)) {
		s = vn_obj_save(c, o);
		if (s < 0)
			vn_warn(s, "port %s: could not persist the identity of its namespace",
				o->name);
	}
	return r;
}

static int vn_port_sweep(struct vn_ctx *c)
{
	char **links = NULL;
	int r = vn_link_list(c->ns, VN_PORT_PREFIX, &links);

	if (r == 0)
		r = vn_sweep(c, &vn_kind_port, vn_port_device, links, vn_sweep_link, "port link");
	vn_strv_free(links);
	return r;
}

/* A user's rmdir of a DHCP port: its network keeps it. */
static bool vn_port_kept(struct vn_ctx *c, struct vn_obj *o)
{
	return vn_port_is_dhcp(o);
}

static const char *vn_port_status(struct vn_ctx *c, struct vn_obj *o)
{
	return vn_port_bound(c, o) && !vn_port_priv(o)->down ? "ACTIVE" : "DOWN";
}

static const char *const vn_ipconfigs[] = {"dhcp", "static", NULL};

/* A port follows its network's mtu. */
static const char *const vn_port_net_attrs[] = {"mtu", NULL};
static const struct vn_dep vn_port_deps[] = {
	{.via = VN_DEP_PARENT, .kind = &vn_kind_network, .on = vn_port_net_attrs},
	{.via = VN_DEP_END},
};

static int vn_port_sync(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	return vn_port_realise(c, o, err);
}

static const struct vn_attr vn_port_attrs[] = {
	{.name = "mac_address",
	 .mode = 0644,
	 .type = VN_T_STR,
	 .flags = VN_ATTR_NO_DEFAULT,
	 .parse = vn_parse_mac,
	 .unique = true},
	{.name = "fixed_ips",
	 .mode = 0644,
	 .type = VN_T_LIST,
	 .parse = vn_parse_fixed,
	 .ref = &vn_kind_subnet,
	 .ref_scope = VN_REF_PARENT,
	 .role = "address"},
	{.name = "device_owner", .mode = 0444, .type = VN_T_STR},
	{.name = "device", .mode = 0444, .type = VN_T_STR, .show = vn_show_device},
	{.name = "security_groups",
	 .mode = 0644,
	 .type = VN_T_LIST,
	 .parse = vn_parse_sg,
	 .show = vn_show_sgs,
	 .ref = &vn_kind_secgroup,
	 .ref_scope = VN_REF_ROOT,
	 .pins = true,
	 .role = "port"},
	/* Neutron's port_security_enabled: 0 means no security groups'
	 * filtering and no anti-spoofing (a port that routes others) */
	{.name = "port_security_enabled", .mode = 0644, .type = VN_T_BOOL, .dflt = "1"},
	{.name = "netns",
	 .mode = 0644,
	 .type = VN_T_STR,
	 .parse = vn_parse_netns,
	 .show = vn_show_netns},
	{.name = "ifname",
	 .mode = 0644,
	 .type = VN_T_STR,
	 .parse = vn_parse_ifname,
	 .show = vn_show_ifname},
	{.name = "ipconfig",
	 .mode = 0644,
	 .type = VN_T_ENUM,
	 .choices = vn_ipconfigs,
	 .show = vn_show_ipconfig},
	{.name = NULL},
};

const struct vn_kind vn_kind_port = {
	.dir = "ports",
	.type = "port",
	.attrs = vn_port_attrs,
	.priv_size = sizeof(struct vn_port_priv),
	.create = vn_port_create,
	.writable = vn_port_writable,
	.check = vn_port_check,
	.apply = vn_port_apply,
	.busy = vn_port_busy,
	.destroy = vn_port_destroy,
	.reconcile = vn_port_reconcile,
	.sweep = vn_port_sweep,
	.status = vn_port_status,
	.deps = vn_port_deps,
	.sync = vn_port_sync,
	.legacy_owner = vn_port_legacy_owner,
	.kept = vn_port_kept,
};
