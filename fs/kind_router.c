// SPDX-License-Identifier: MIT
/*
 * routers/R: a network namespace qrouter-<id> that routes between its
 * interfaces (one port per subnet, holding the subnet's gateway_ip, as a
 * qr- veth) and, with an external gateway (a port on an external network,
 * as a qg- veth), SNATs the internal subnets to its gateway address with
 * one nftables table replaced in a single batch per change. East-west
 * traffic between internal subnets is routed, not NATed.
 *
 * The legs are ordinary ports (kind_port.c) whose device_owner names the
 * router; the router makes and deletes them as `interfaces` and
 * `external_gateway` change, and owns the routes and NAT of its namespace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetfs/backend.h"
#include "vnetfs/nft.h"
#include "vnetfs/jobs.h"
#include "vnetfs/model.h"
#include "fs/kinds.h"

#define VN_ROUTER_NS_PREFIX "qrouter-"
#define VN_MAX_ROUTER_IFS 64

struct vn_ifc;

struct vn_router_priv {
	struct vn_ns *ns;
	/* the interfaces the legs were last made for (see vn_ifc_build) */
	struct vn_ifc *ifc;
	size_t nifc;
	bool ifc_valid;
};

void vn_router_namespace(const struct vn_obj *router, char buf[64])
{
	snprintf(buf, 64, VN_ROUTER_NS_PREFIX "%s", router->id);
}

static void vn_owner(char *buf, size_t len, const char *prefix, const struct vn_obj *router)
{
	snprintf(buf, len, "%s%s", prefix, router->name);
}

/* The router's legs in the given role ("interface", "gateway"): the
 * objects it owns, from its edges (a copy: cb may delete the port). */
static int vn_router_ports(struct vn_ctx *c, struct vn_obj *r, const char *role,
			   int (*cb)(struct vn_ctx *c, struct vn_obj *port, void *arg), void *arg)
{
	struct vn_obj *legs[2 * VN_MAX_ROUTER_IFS + 2];
	size_t n = 0;
	int e = 0;

	vn_refs_in_foreach(r, ed)
	{
		if (ed->attr || ed->from->kind != &vn_kind_port || strcmp(ed->role, role))
			continue;
		if (n < sizeof(legs) / sizeof(legs[0]))
			legs[n++] = ed->from;
	}
	for (size_t i = 0; i < n && !e; i++)
		e = cb(c, legs[i], arg);
	return e;
}

static int vn_first_cb(struct vn_ctx *c, struct vn_obj *port, void *arg)
{
	*(struct vn_obj **)arg = port;
	return 1;
}

static struct vn_obj *vn_router_gw_port(struct vn_ctx *c, struct vn_obj *r)
{
	struct vn_obj *port = NULL;

	vn_router_ports(c, r, "gateway", vn_first_cb, &port);
	return port;
}

/* Leg names: qr-<router8>-<subnet8> and qg-<router8> (built by hand: this
 * runs for every interface line of every check). */
static void vn_if_leg_name(char buf[64], const struct vn_obj *r, const struct vn_obj *sub)
{
	size_t a = strnlen(r->id, 8), b = strnlen(sub->id, 8);

	memcpy(buf, "qr-", 3);
	memcpy(buf + 3, r->id, a);
	buf[3 + a] = '-';
	memcpy(buf + 4 + a, sub->id, b);
	buf[4 + a + b] = '\0';
}

static void vn_gw_leg_name(char buf[64], const struct vn_obj *r)
{
	snprintf(buf, 64, "qg-%.8s", r->id);
}

/* The port called name on net if it is r's leg in that role: one lookup,
 * not a walk of the router's legs. */
static struct vn_obj *vn_router_leg_named(struct vn_obj *r, struct vn_obj *net, const char *name,
					  const char *role)
{
	struct vn_obj *port = vn_coll_find(vn_child_coll(net, &vn_kind_port), name);
	const char *ro = NULL;

	if (!port || vn_owner_of(port, &ro) != r || !ro || strcmp(ro, role))
		return NULL;
	return port;
}

/* The router's leg on subnet sub, or NULL: found by its name on the
 * subnet's network (the router names every leg it makes), then checked. */
static struct vn_obj *vn_router_if_port(struct vn_ctx *c, struct vn_obj *r, struct vn_obj *sub)
{
	struct vn_obj *port;
	const char *line;
	size_t n = strlen(sub->name);
	char name[64];

	vn_if_leg_name(name, r, sub);
	port = vn_router_leg_named(r, sub->parent, name, "interface");
	/* its first fixed_ips line is "SUBNET ADDRESS", on this network */
	line = port ? vn_list_at(vn_get_list(port, "fixed_ips"), 0) : NULL;
	if (line && !strncmp(line, sub->name, n) && line[n] == ' ')
		return port;
	return NULL;
}

/* The gateway leg, by name on the external_gateway network; the walk of
 * the router's legs only where that finds none (a leg left on another
 * network: vn_router_sync_gateway removes it). */
static struct vn_obj *vn_router_gw_port_fast(struct vn_ctx *c, struct vn_obj *r)
{
	const char *ext = vn_get_str(r, "external_gateway");
	struct vn_obj *net = ext ? vn_coll_find(vn_root_coll(c, &vn_kind_network), ext) : NULL;
	struct vn_obj *port;
	char name[64];

	if (!net)
		return NULL;
	vn_gw_leg_name(name, r);
	port = vn_router_leg_named(r, net, name, "gateway");
	return port ? port : vn_router_gw_port(c, r);
}

struct vn_obj *vn_router_using_network(struct vn_ctx *c, struct vn_obj *net)
{
	struct vn_edge *e = vn_referrer(net, &vn_kind_router, "external_gateway");
	struct vn_obj *sub;

	if (e)
		return e->from;
	vn_coll_foreach(vn_child_coll(net, &vn_kind_subnet), sub)
	{
		e = vn_referrer(sub, &vn_kind_router, "interfaces");
		if (e)
			return e->from;
	}
	return NULL;
}

static bool vn_list_has(struct json_object *list, const char *s)
{
	for (size_t i = 0; i < vn_list_len(list); i++)
		if (!strcmp(vn_list_at(list, i), s))
			return true;
	return false;
}

struct vn_ns *vn_router_ns_held(struct vn_obj *r)
{
	struct vn_router_priv *p = r->priv;

	return p ? p->ns : NULL;
}

static int vn_router_ns(struct vn_ctx *c, struct vn_obj *r, struct vn_ns **ns, struct vn_err *err)
{
	struct vn_router_priv *p = r->priv;
	char name[64];
	int e;

	if (!p->ns) {
		vn_router_namespace(r, name);
		/* Recorded before it exists: the sweep removes only ours. */
		e = vn_own_add(c, "netns", name);
		if (e < 0)
			return vn_fail(err, -EIO, "could not record namespace %s: %s", name,
				       strerror(-e));
		e = vn_ns_open(name, true, &p->ns);
		vn_ns_set_closer(p->ns, vn_ctx_closer(c));
		if (e < 0)
			return vn_fail(err, -EIO, "could not create namespace %s: %s", name,
				       strerror(-e));
		e = vn_ns_sysctl(p->ns, "net/ipv4/ip_forward", "1");
		/* Routers serve IPv4: legs are born without IPv6, so a leg
		 * coming or going does not walk the namespace's IPv6 routes
		 * (one walk per leg: O(interfaces) in the kernel). */
		if (e == 0)
			e = vn_ns_sysctl(p->ns, "net/ipv6/conf/default/disable_ipv6", "1");
		if (e < 0) {
			vn_ns_close(p->ns);
			p->ns = NULL;
			return vn_fail(err, -EIO,
				       "could not set forwarding (IPv4 on, IPv6 off) in %s: %s",
				       name, strerror(-e));
		}
	}
	*ns = p->ns;
	return 0;
}

/* ---- legs ---- */

struct vn_leg_ctx {
	struct vn_obj *router;
	struct json_object *want;
	struct vn_err *err;
};

static int vn_drop_unwanted_leg(struct vn_ctx *c, struct vn_obj *port, void *arg)
{
	struct vn_leg_ctx *l = arg;
	struct vn_obj *sub = NULL;
	struct vn_addr a;

	if (vn_port_fixed_ip(port, 0, &sub, &a) == 0 && vn_list_has(l->want, sub->name))
		return 0;
	return vn_obj_delete(c, port, true, l->err) < 0 ? -1 : 0;
}

static int vn_router_make_leg(struct vn_ctx *c, struct vn_obj *r, struct vn_obj *net,
			      const char *owner_prefix, const char *name, struct json_object *ips,
			      struct vn_err *err)
{
	struct json_object *props = json_object_new_object();
	char owner[128];

	vn_owner(owner, sizeof(owner), owner_prefix, r);
	json_object_object_add(props, "device_owner", json_object_new_string(owner));
	vn_owner_props(props, r,
		       !strcmp(owner_prefix, VN_OWNER_ROUTER_GW) ? "gateway" : "interface");
	if (ips)
		json_object_object_add(props, "fixed_ips", ips);
	return vn_obj_create(c, vn_child_coll(net, &vn_kind_port), name, r->uid, r->gid, props,
			     NULL, err);
}

/* The leg of r on sub (ip: sub's), holding sub's gateway: made unless
 * there. */
static int vn_router_if_leg(struct vn_ctx *c, struct vn_obj *r, struct vn_obj *sub,
			    const struct vn_subnet_ipam *ip, struct vn_err *err)
{
	char gw[VN_ADDR_STRLEN], line[64 + VN_ADDR_STRLEN + 1], name[64];
	struct json_object *ips;

	if (vn_router_if_port(c, r, sub))
		return 0;
	vn_addr_format(&ip->gateway, gw, sizeof(gw));
	snprintf(line, sizeof(line), "%s %s", sub->name, gw);
	vn_if_leg_name(name, r, sub);
	ips = json_object_new_array();
	json_object_array_add(ips, json_object_new_string(line));
	return vn_router_make_leg(c, r, sub->parent, VN_OWNER_ROUTER_IF, name, ips, err);
}

static int vn_router_sync_interfaces(struct vn_ctx *c, struct vn_obj *r, struct vn_err *err)
{
	struct json_object *want = vn_get_list(r, "interfaces");
	struct vn_leg_ctx l = {r, want, err};
	int e;

	if (vn_router_ports(c, r, "interface", vn_drop_unwanted_leg, &l))
		return err->code ? err->code : -EIO;
	for (size_t i = 0; i < vn_list_len(want); i++) {
		struct vn_obj *sub = vn_find_global(c, &vn_kind_subnet, vn_list_at(want, i));
		struct vn_pool pools[VN_MAX_POOLS];
		struct vn_subnet_ipam ip;

		if (!sub || vn_subnet_ipam(sub, &ip, pools) < 0 || !ip.has_gateway)
			return vn_fail(err, -EINVAL, "subnet '%s' cannot be a router interface",
				       vn_list_at(want, i));
		e = vn_router_if_leg(c, r, sub, &ip, err);
		if (e < 0)
			return e;
	}
	return 0;
}

static int vn_router_sync_gateway(struct vn_ctx *c, struct vn_obj *r, struct vn_err *err)
{
	const char *ext = vn_get_str(r, "external_gateway");
	struct vn_obj *port = vn_router_gw_port(c, r);
	struct vn_obj *net = ext ? vn_coll_find(vn_root_coll(c, &vn_kind_network), ext) : NULL;
	char name[64];
	int e;

	if (port && port->parent != net) {
		e = vn_obj_delete(c, port, true, err);
		if (e < 0)
			return e;
		port = NULL;
	}
	if (!net || port)
		return 0;
	vn_gw_leg_name(name, r);
	return vn_router_make_leg(c, r, net, VN_OWNER_ROUTER_GW, name, NULL, err);
}

/* ---- routes and NAT ---- */

static int vn_router_sync_l3(struct vn_ctx *c, struct vn_obj *r, struct vn_ns *ns,
			     struct vn_err *err)
{
	struct json_object *ifs = vn_get_list(r, "interfaces");
	struct json_object *user = vn_get_list(r, "routes");
	struct vn_obj *gwp = vn_router_gw_port_fast(c, r);
	struct vn_cidr internal[VN_MAX_ROUTER_IFS];
	struct vn_route *routes;
	struct vn_nft_router nat = {0};
	char qg[16] = "";
	size_t nr = 0, ni = 0;
	int e;

	routes = calloc(vn_list_len(user) + 1, sizeof(*routes));
	if (!routes)
		return vn_fail(err, -ENOMEM, "out of memory");
	if (gwp) {
		struct vn_pool pools[VN_MAX_POOLS];
		struct vn_subnet_ipam ip;
		struct vn_obj *sub;

		vn_ifname(qg, "qg-", gwp->id);
		if (vn_port_fixed_ip(gwp, 0, &sub, &nat.gw_addr) == 0 &&
		    vn_subnet_ipam(sub, &ip, pools) == 0 && ip.has_gateway) {
			routes[nr].dst.net.af = AF_INET;
			routes[nr].gateway = ip.gateway;
			snprintf(routes[nr].ifname, sizeof(routes[nr].ifname), "%s", qg);
			nr++;
		}
	}
	for (size_t i = 0; i < vn_list_len(user); i++) {
		if (vn_route_parse(vn_list_at(user, i), &routes[nr].dst, &routes[nr].gateway) < 0 ||
		    routes[nr].dst.net.af != AF_INET)
			continue;
		nr++;
	}
	e = vn_route_sync(ns, AF_INET, routes, nr);
	free(routes);
	if (e < 0)
		return vn_fail(err, -EIO, "could not set the routes of the router: %s",
			       strerror(-e));

	for (size_t i = 0; i < vn_list_len(ifs) && ni < VN_MAX_ROUTER_IFS; i++) {
		struct vn_obj *sub = vn_find_global(c, &vn_kind_subnet, vn_list_at(ifs, i));
		struct vn_pool pools[VN_MAX_POOLS];
		struct vn_subnet_ipam ip;

		if (sub && vn_subnet_ipam(sub, &ip, pools) == 0 && ip.cidr.net.af == AF_INET)
			internal[ni++] = ip.cidr;
	}
	nat.gw_ifname = gwp && nat.gw_addr.af == AF_INET ? qg : NULL;
	nat.snat = vn_get_bool(r, "enable_snat");
	nat.internal = internal;
	nat.ninternal = ni;
	e = vn_nft_router_sync(ns, &nat);
	if (e < 0)
		return vn_fail(err, -EIO, "could not set the NAT rules of the router: %s",
			       strerror(-e));
	return 0;
}

static void vn_ifc_clear(struct vn_router_priv *p);
static void vn_ifc_build(struct vn_ctx *c, struct vn_obj *r);
static void vn_ifc_update(struct vn_router_priv *p, struct vn_obj *const *gone, size_t ng,
			  struct vn_obj *const *came, const struct vn_cidr *cidr, size_t nc);

static int vn_router_realise(struct vn_ctx *c, struct vn_obj *r, struct vn_err *err)
{
	struct vn_ns *ns = NULL;
	int e;

	vn_ifc_clear(r->priv);
	e = vn_router_ns(c, r, &ns, err);
	if (e < 0)
		return e;
	e = vn_router_sync_interfaces(c, r, err);
	if (e < 0)
		return e;
	e = vn_router_sync_gateway(c, r, err);
	if (e < 0)
		return e;
	e = vn_router_sync_l3(c, r, ns, err);
	if (e == 0)
		vn_ifc_build(c, r);
	return e;
}

/* ---- parsers and derived values ---- */

static int vn_parse_ref(struct vn_ctx *c, struct vn_obj *o, const char *text,
			struct json_object **out, struct vn_err *err)
{
	if (vn_name_check(text) < 0)
		return vn_fail(err, -EINVAL, "'%s' is not a valid name", text);
	*out = json_object_new_string(text);
	return 0;
}

static int vn_parse_rroute(struct vn_ctx *c, struct vn_obj *o, const char *text,
			   struct json_object **out, struct vn_err *err)
{
	return vn_route_line(text, AF_INET, out, err);
}

static int vn_show_namespace(struct vn_ctx *c, struct vn_obj *o, struct vn_buf *out)
{
	char name[64];

	vn_router_namespace(o, name);
	return vn_buf_printf(out, "%s\n", name);
}

static int vn_show_gateway_ip(struct vn_ctx *c, struct vn_obj *o, struct vn_buf *out)
{
	struct vn_obj *port = vn_router_gw_port_fast(c, o), *sub;
	char buf[VN_ADDR_STRLEN];
	struct vn_addr a;

	if (!port || vn_port_fixed_ip(port, 0, &sub, &a) < 0)
		return 0;
	vn_addr_format(&a, buf, sizeof(buf));
	return vn_buf_printf(out, "%s\n", buf);
}

/* ---- hooks ---- */

/* The cidrs the router is connected to, with their subnet names; fresh:
 * checked in full by this check (not an interface it already had). */
struct vn_connected {
	struct vn_cidr cidr[VN_MAX_ROUTER_IFS + 1];
	const char *name[VN_MAX_ROUTER_IFS + 1];
	size_t fresh[VN_MAX_ROUTER_IFS + 1]; /* indexes into cidr/name */
	size_t n, nfresh;
};

/* Does cidr (line `name`, index n about to be added to cn) overlap one
 * before it? Pairs of two interfaces the router already had were checked
 * when the later one came: only pairs with a fresh one are compared. */
static int vn_connected_add(struct vn_ctx *c, struct vn_connected *cn, const char *name,
			    const struct vn_cidr *cidr, bool fresh, struct vn_err *err)
{
	size_t lim = fresh ? cn->n : cn->nfresh;

	for (size_t k = 0; k < lim; k++) {
		size_t j = fresh ? k : cn->fresh[k];
		struct vn_obj *sub;

		if (!vn_cidr_overlaps(&cn->cidr[j], cidr))
			continue;
		sub = vn_find_global(c, &vn_kind_subnet, name);
		return vn_fail(err, -EBUSY,
			       "subnet '%s' (%s) overlaps subnet '%s' already on the router", name,
			       sub ? vn_get_str(sub, "cidr") : "?", cn->name[j]);
	}
	if (fresh)
		cn->fresh[cn->nfresh++] = cn->n;
	cn->cidr[cn->n] = *cidr;
	cn->name[cn->n++] = name;
	return 0;
}

/* ---- the interfaces as last made (for the check) ---- */

/* The interfaces the router's legs were last made for, sorted by name,
 * with their cidrs: set when an apply, create or sync of the router
 * succeeds, dropped when one starts. A check trusts a line found here
 * (its subnet, its leg, its overlaps with the others here were checked
 * when it came) and checks the others in full, so an interface add costs
 * O(log n) per line the router already had, not a walk of each subnet's
 * addresses. */
struct vn_ifc {
	char *name;
	struct vn_cidr cidr;
};

static void vn_ifc_clear(struct vn_router_priv *p)
{
	for (size_t i = 0; i < p->nifc; i++)
		free(p->ifc[i].name);
	free(p->ifc);
	p->ifc = NULL;
	p->nifc = 0;
	p->ifc_valid = false;
}

static int vn_ifc_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vn_ifc *)a)->name, ((const struct vn_ifc *)b)->name);
}

static const struct vn_ifc *vn_ifc_find(const struct vn_router_priv *p, const char *name)
{
	struct vn_ifc key = {.name = (char *)name};

	if (!p->ifc_valid || !p->nifc)
		return NULL;
	return bsearch(&key, p->ifc, p->nifc, sizeof(key), vn_ifc_cmp);
}

/* From the router's interfaces value (after its legs were made for it). */
static void vn_ifc_build(struct vn_ctx *c, struct vn_obj *r)
{
	struct vn_router_priv *p = r->priv;
	struct json_object *ifs = vn_get_list(r, "interfaces");
	size_t n = vn_list_len(ifs);

	vn_ifc_clear(p);
	if (n > VN_MAX_ROUTER_IFS)
		return;
	p->ifc = calloc(n ? n : 1, sizeof(*p->ifc));
	if (!p->ifc)
		return;
	for (size_t i = 0; i < n; i++) {
		struct vn_obj *sub = vn_find_global(c, &vn_kind_subnet, vn_list_at(ifs, i));
		const char *sc = sub ? vn_get_str(sub, "cidr") : NULL;
		struct vn_ifc *e = &p->ifc[p->nifc];

		if (!sc || vn_cidr_parse(sc, true, &e->cidr) < 0 || e->cidr.net.af != AF_INET ||
		    !vn_router_if_port(c, r, sub) || !(e->name = strdup(sub->name))) {
			vn_ifc_clear(p);
			return;
		}
		p->nifc++;
	}
	qsort(p->ifc, p->nifc, sizeof(*p->ifc), vn_ifc_cmp);
	p->ifc_valid = true;
}

/* The cache, kept (ifc_valid cleared by the caller meanwhile) and
 * changed by difference: the subnets gone out, those come in. */
static void vn_ifc_update(struct vn_router_priv *p, struct vn_obj *const *gone, size_t ng,
			  struct vn_obj *const *came, const struct vn_cidr *cidr, size_t nc)
{
	size_t n = 0;
	struct vn_ifc *v = calloc(p->nifc + nc + 1, sizeof(*v));

	if (!v) {
		vn_ifc_clear(p);
		return;
	}
	for (size_t i = 0; i < p->nifc; i++) {
		bool out = false;

		for (size_t k = 0; k < ng && !out; k++)
			out = !strcmp(p->ifc[i].name, gone[k]->name);
		if (out)
			free(p->ifc[i].name);
		else
			v[n++] = p->ifc[i];
	}
	free(p->ifc);
	p->ifc = v;
	p->nifc = n;
	for (size_t k = 0; k < nc; k++) {
		v[n].cidr = cidr[k];
		v[n].name = strdup(came[k]->name);
		if (!v[n].name) {
			vn_ifc_clear(p);
			return;
		}
		p->nifc = ++n;
	}
	qsort(p->ifc, p->nifc, sizeof(*p->ifc), vn_ifc_cmp);
	p->ifc_valid = true;
}

static int vn_router_check_ifs(struct vn_ctx *c, struct vn_obj *r, struct vn_connected *cn,
			       struct vn_err *err)
{
	struct vn_router_priv *p = r->priv;
	struct json_object *ifs = vn_get_list(r, "interfaces");
	int e;

	if (vn_list_len(ifs) > VN_MAX_ROUTER_IFS)
		return vn_fail(err, -EINVAL, "a router has at most %d interfaces",
			       VN_MAX_ROUTER_IFS);
	for (size_t i = 0; i < vn_list_len(ifs); i++) {
		const char *name = vn_list_at(ifs, i);
		const struct vn_ifc *known = vn_ifc_find(p, name);
		struct vn_obj *sub, *port;
		struct vn_pool pools[VN_MAX_POOLS];
		struct vn_subnet_ipam ip;
		char gw[VN_ADDR_STRLEN];

		if (known) {
			e = vn_connected_add(c, cn, name, &known->cidr, false, err);
			if (e < 0)
				return e;
			continue;
		}
		sub = vn_find_global(c, &vn_kind_subnet, name);
		if (!sub)
			return vn_fail(err, -ENOENT, "subnet '%s' does not exist", name);
		/* like a Neutron tenant: only your own subnets (root: any) */
		if (c->caller_uid != 0 && sub->uid != c->caller_uid &&
		    !vn_router_if_port(c, r, sub))
			return vn_fail(err, -EACCES, "subnet '%s' belongs to another user", name);
		if (vn_subnet_ipam(sub, &ip, pools) < 0)
			return vn_fail(err, -EINVAL, "subnet '%s' has no cidr", name);
		if (!ip.has_gateway)
			return vn_fail(err, -EINVAL,
				       "subnet '%s' has no gateway_ip to put on the router", name);
		if (ip.cidr.net.af != AF_INET)
			return vn_fail(err, -EINVAL, "subnet '%s' is IPv6: routers serve IPv4",
				       name);
		e = vn_connected_add(c, cn, name, &ip.cidr, true, err);
		if (e < 0)
			return e;
		/* who holds the gateway address: one lookup */
		vn_addr_format(&ip.gateway, gw, sizeof(gw));
		port = vn_ref_holder(sub, "fixed_ips", gw, vn_router_if_port(c, r, sub));
		if (port)
			return vn_fail(err, -EBUSY,
				       "gateway_ip %s of subnet '%s' is taken by port '%s'%s%s", gw,
				       name, port->name,
				       vn_get_str(port, "device_owner") ? " of " : "",
				       vn_get_str(port, "device_owner") ?: "");
	}
	return 0;
}

static int vn_router_check(struct vn_ctx *c, struct vn_obj *r, const struct vn_attr *a,
			   struct vn_err *err)
{
	const char *ext = vn_get_str(r, "external_gateway");
	struct json_object *routes = vn_get_list(r, "routes");
	struct vn_connected cn = {0};
	int e;

	if (ext) {
		struct vn_obj *net = vn_coll_find(vn_root_coll(c, &vn_kind_network), ext), *sub;

		if (!net)
			return vn_fail(err, -ENOENT, "network '%s' does not exist", ext);
		if (!vn_get_bool(net, "external"))
			return vn_fail(err, -EINVAL, "network '%s' is not external (external = 0)",
				       ext);
		vn_coll_foreach(vn_child_coll(net, &vn_kind_subnet), sub)
		{
			struct vn_pool pools[VN_MAX_POOLS];
			struct vn_subnet_ipam ip;

			/* the gateway port's address comes from the first one */
			if (vn_subnet_ipam(sub, &ip, pools) == 0 && ip.cidr.net.af == AF_INET) {
				cn.cidr[cn.n] = ip.cidr;
				cn.name[cn.n] = sub->name;
				cn.fresh[cn.nfresh++] = cn.n++;
				break;
			}
		}
		if (!cn.n)
			return vn_fail(err, -EINVAL,
				       "network '%s' has no IPv4 subnet for a gateway", ext);
	}
	e = vn_router_check_ifs(c, r, &cn, err);
	if (e < 0)
		return e;
	for (size_t i = 0; i < vn_list_len(routes); i++) {
		struct vn_cidr dest;
		struct vn_addr hop;
		bool ok = false;

		if (vn_route_parse(vn_list_at(routes, i), &dest, &hop) < 0)
			return vn_fail(err, -EINVAL, "route '%s' is malformed",
				       vn_list_at(routes, i));
		for (size_t j = 0; j < cn.n && !ok; j++)
			ok = vn_cidr_contains(&cn.cidr[j], &hop);
		if (!ok)
			return vn_fail(
				err, !strcmp(a->name, "routes") ? -EINVAL : -EBUSY,
				"route '%s': nexthop is not on a subnet connected to the router",
				vn_list_at(routes, i));
	}
	return 0;
}

/* ---- one interface at a time ---- */

static int vn_strp_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of list, sorted, in v (at most VN_MAX_ROUTER_IFS + 1). */
static size_t vn_sorted_names(struct json_object *list, const char **v)
{
	size_t n = vn_list_len(list);

	if (n > VN_MAX_ROUTER_IFS + 1)
		n = VN_MAX_ROUTER_IFS + 1;
	for (size_t i = 0; i < n; i++)
		v[i] = vn_list_at(list, i);
	qsort(v, n, sizeof(*v), vn_strp_cmp);
	return n;
}

/* The SNAT source of the router's gateway (gw_ifname in qg): false if
 * the router has no IPv4 gateway, so no NAT table. */
static bool vn_router_nat_cfg(struct vn_ctx *c, struct vn_obj *r, struct vn_nft_router *nat,
			      char qg[16])
{
	struct vn_obj *gwp = vn_router_gw_port_fast(c, r), *sub;

	memset(nat, 0, sizeof(*nat));
	if (!gwp || vn_port_fixed_ip(gwp, 0, &sub, &nat->gw_addr) < 0 || nat->gw_addr.af != AF_INET)
		return false;
	vn_ifname(qg, "qg-", gwp->id);
	nat->gw_ifname = qg;
	nat->snat = vn_get_bool(r, "enable_snat");
	return true;
}

/* `interfaces` changed from old to its value: remove the legs of the
 * subnets that left and make those of the subnets that came, change only
 * their SNAT rules, and leave the other legs, the routes (no route can
 * use a subnet that leaves: the check refuses it) and the rest of the NAT
 * table alone. 1: this cannot be done by difference (the router is in
 * ERROR, has no namespace yet, names a subnet that is gone, or the NAT
 * table is not what this handle last wrote): do the whole router. */
static int vn_router_change_interfaces(struct vn_ctx *c, struct vn_obj *r, struct json_object *old,
				       struct vn_err *err)
{
	struct vn_router_priv *p = r->priv;
	const char *was[VN_MAX_ROUTER_IFS + 1], *now[VN_MAX_ROUTER_IFS + 1];
	struct vn_obj *gone[VN_MAX_ROUTER_IFS + 1], *came[VN_MAX_ROUTER_IFS + 1];
	struct vn_cidr del[VN_MAX_ROUTER_IFS + 1], add[VN_MAX_ROUTER_IFS + 1];
	struct vn_nft_router nat;
	size_t nw, nn, ng = 0, nc = 0, i = 0, j = 0;
	char qg[16];
	int e;

	if (!p->ns || r->error || !p->ifc_valid)
		return 1;
	/* Whatever fails below leaves the legs unknown: trusted again only
	 * once made (vn_ifc_update), or by the whole router's realise. */
	p->ifc_valid = false;
	nw = vn_sorted_names(old, was);
	nn = vn_sorted_names(vn_get_list(r, "interfaces"), now);
	if (nw > VN_MAX_ROUTER_IFS || nn > VN_MAX_ROUTER_IFS)
		return 1;
	while (i < nw || j < nn) {
		int d = i == nw ? 1 : j == nn ? -1 : strcmp(was[i], now[j]);
		const char *name = d < 0 ? was[i] : now[j];
		struct vn_obj *sub;

		if (!d) {
			i++, j++;
			continue;
		}
		sub = vn_find_global(c, &vn_kind_subnet, name);
		if (!sub)
			return 1;
		if (d < 0) {
			gone[ng++] = sub;
			i++;
		} else {
			came[nc++] = sub;
			j++;
		}
	}
	for (i = 0; i < ng; i++) {
		struct vn_obj *port = vn_router_if_port(c, r, gone[i]);
		struct vn_pool pools[VN_MAX_POOLS];
		struct vn_subnet_ipam ip;

		if (vn_subnet_ipam(gone[i], &ip, pools) == 0)
			del[i] = ip.cidr;
		else
			memset(&del[i], 0, sizeof(del[i]));
		if (port) {
			e = vn_obj_delete(c, port, true, err);
			if (e < 0)
				return e;
		}
	}
	for (i = 0; i < nc; i++) {
		struct vn_obj *sub = came[i];
		struct vn_pool pools[VN_MAX_POOLS];
		struct vn_subnet_ipam ip;

		if (vn_subnet_ipam(sub, &ip, pools) < 0 || !ip.has_gateway)
			return vn_fail(err, -EINVAL, "subnet '%s' cannot be a router interface",
				       sub->name);
		add[i] = ip.cidr;
		e = vn_router_if_leg(c, r, sub, &ip, err);
		if (e < 0)
			return e;
	}
	if (vn_router_nat_cfg(c, r, &nat, qg)) {
		e = vn_nft_router_update(p->ns, &nat, add, nc, del, ng);
		if (e == -ESTALE)
			return 1;
		if (e < 0)
			return vn_fail(err, -EIO, "could not set the NAT rules of the router: %s",
				       strerror(-e));
	} /* else no gateway: no NAT table to change */
	vn_ifc_update(p, gone, ng, came, add, nc);
	return 0;
}

static int vn_router_apply(struct vn_ctx *c, struct vn_obj *r, const struct vn_attr *a,
			   struct json_object *old, struct vn_err *err)
{
	if (a && !strcmp(a->name, "interfaces")) {
		int e = vn_router_change_interfaces(c, r, old, err);

		if (e <= 0)
			return e;
	}
	return vn_router_realise(c, r, err);
}

static int vn_router_create(struct vn_ctx *c, struct vn_obj *r, struct vn_err *err)
{
	int e = vn_router_realise(c, r, err);
	char name[64];

	if (e < 0) {
		vn_router_namespace(r, name);
		if (vn_netns_delete(name) == 0)
			vn_own_del(c, "netns", name);
	}
	return e;
}

static int vn_router_busy(struct vn_ctx *c, struct vn_obj *r, struct vn_err *err)
{
	struct json_object *ifs = vn_get_list(r, "interfaces");

	if (vn_list_len(ifs))
		return vn_fail(err, -EBUSY,
			       "router '%s' still has interfaces (%s%s); empty "
			       "routers/%s/interfaces first",
			       r->name, vn_list_at(ifs, 0), vn_list_len(ifs) > 1 ? ", ..." : "",
			       r->name);
	return 0;
}

static int vn_delete_leg(struct vn_ctx *c, struct vn_obj *port, void *arg)
{
	return vn_obj_delete(c, port, true, arg) < 0 ? -1 : 0;
}

static int vn_router_destroy(struct vn_ctx *c, struct vn_obj *r, struct vn_err *err)
{
	struct vn_router_priv *p = r->priv;
	char name[64];
	int e;

	vn_ifc_clear(p);
	if (vn_router_ports(c, r, "gateway", vn_delete_leg, err))
		return err->code ? err->code : -EIO;
	if (vn_router_ports(c, r, "interface", vn_delete_leg, err))
		return err->code ? err->code : -EIO;
	if (p->ns) {
		vn_ns_close(p->ns);
		p->ns = NULL;
	}
	vn_router_namespace(r, name);
	e = vn_netns_delete(name);
	if (e < 0)
		return vn_fail(err, -EIO, "could not delete namespace %s: %s", name, strerror(-e));
	vn_own_del(c, "netns", name);
	return 0;
}

static int vn_router_reconcile(struct vn_ctx *c, struct vn_obj *r, struct vn_err *err)
{
	return vn_router_realise(c, r, err);
}

static int vn_router_drop_ns(struct vn_ctx *c, const char *name)
{
	int e = vn_netns_delete(name);

	if (e == 0)
		vn_own_del(c, "netns", name);
	return e;
}

/* Only namespaces this daemon recorded as its own: another daemon's
 * qrouter-* in the same /run/netns are left alone. */
static int vn_router_sweep(struct vn_ctx *c)
{
	char **have = NULL;
	int e = vn_own_list(c, "netns", &have);

	if (e == 0)
		e = vn_sweep(c, &vn_kind_router, vn_router_namespace, have, vn_router_drop_ns,
			     "router namespace");
	vn_strv_free(have);
	return e;
}

static void vn_router_free_priv(struct vn_obj *r)
{
	struct vn_router_priv *p = r->priv;

	vn_ifc_clear(p);
	if (p->ns)
		vn_ns_close(p->ns);
}

/* A router follows the subnets its interfaces name (their cidr and
 * gateway make its legs, routes and NAT) and its legs' addresses. */
static const char *const vn_router_sub_attrs[] = {"cidr", "gateway_ip", NULL};
static const char *const vn_router_leg_attrs[] = {"fixed_ips", NULL};
static const struct vn_dep vn_router_deps[] = {
	{.via = VN_DEP_REFS,
	 .kind = &vn_kind_subnet,
	 .attr = "interfaces",
	 .on = vn_router_sub_attrs},
	{.via = VN_DEP_OWNED, .kind = &vn_kind_port, .on = vn_router_leg_attrs},
	{.via = VN_DEP_END},
};

static const struct vn_attr vn_router_attrs[] = {
	/* first: `rm -r` unlinks in this order, and routes need interfaces */
	{.name = "routes", .mode = 0644, .type = VN_T_LIST, .parse = vn_parse_rroute},
	{.name = "external_gateway",
	 .mode = 0644,
	 .type = VN_T_STR,
	 .parse = vn_parse_ref,
	 .ref = &vn_kind_network,
	 .ref_scope = VN_REF_ROOT,
	 .pins = true,
	 .role = "gateway"},
	{.name = "enable_snat", .mode = 0644, .type = VN_T_BOOL, .dflt = "1"},
	{.name = "gateway_ip", .mode = 0444, .type = VN_T_STR, .show = vn_show_gateway_ip},
	{.name = "interfaces",
	 .mode = 0644,
	 .type = VN_T_LIST,
	 .parse = vn_parse_ref,
	 .ref = &vn_kind_subnet,
	 .ref_scope = VN_REF_GLOBAL,
	 .pins = true,
	 .role = "interface"},
	{.name = "namespace", .mode = 0444, .type = VN_T_STR, .show = vn_show_namespace},
	{.name = NULL},
};

const struct vn_kind vn_kind_router = {
	.dir = "routers",
	.type = "router",
	.attrs = vn_router_attrs,
	.priv_size = sizeof(struct vn_router_priv),
	.create = vn_router_create,
	.check = vn_router_check,
	.apply = vn_router_apply,
	.busy = vn_router_busy,
	.destroy = vn_router_destroy,
	.reconcile = vn_router_reconcile,
	.sweep = vn_router_sweep,
	.free_priv = vn_router_free_priv,
	.deps = vn_router_deps,
	.sync = vn_router_reconcile,
};
