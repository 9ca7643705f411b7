// SPDX-License-Identifier: MIT
/*
 * networks/NET/subnets/SUB: an IP prefix on a network, with IPAM.
 *
 * Neutron semantics: gateway_ip defaults to the first host and follows the
 * cidr until written (`none`: no gateway); allocation_pools default to the
 * host range minus the gateway; subnet names are unique across the tree so
 * routers and ports name a subnet alone. Both IPv4 and IPv6 prefixes are
 * accepted and validated; the data plane of later features (DHCP, routers,
 * NAT) serves IPv4.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetfs/ip.h"
#include "vnetfs/model.h"
#include "fs/dhcp.h"
#include "fs/kinds.h"

/* ---- parsers (one value, or one line of a list) ---- */

static int vn_parse_cidr(struct vn_ctx *c, struct vn_obj *o, const char *text,
			 struct json_object **out, struct vn_err *err)
{
	const struct vn_special *sp;
	char buf[VN_CIDR_STRLEN];
	struct vn_cidr cidr;

	if (vn_cidr_parse(text, true, &cidr) < 0) {
		if (vn_cidr_parse(text, false, &cidr) == 0) {
			vn_cidr_format(&cidr, buf, sizeof(buf));
			return vn_fail(err, -EINVAL,
				       "cidr '%s' has host bits set: did you mean %s?", text, buf);
		}
		return vn_fail(err, -EINVAL,
			       "cidr '%s' is not a network prefix like 10.0.0.0/24 or fd00::/64",
			       text);
	}
	sp = vn_cidr_special(&cidr);
	if (sp)
		return vn_fail(err, -EINVAL,
			       "cidr '%s' overlaps %s (%s): no subnet may use those addresses",
			       text, sp->range, sp->what);
	if (cidr.prefix > vn_af_bits(cidr.net.af) - 2 && cidr.net.af == AF_INET)
		return vn_fail(err, -EINVAL, "cidr '%s' is too small for a subnet (at most /30)",
			       text);
	if (cidr.net.af == AF_INET6 && cidr.prefix > 126)
		return vn_fail(err, -EINVAL, "cidr '%s' is too small for a subnet (at most /126)",
			       text);
	vn_cidr_format(&cidr, buf, sizeof(buf));
	*out = json_object_new_string(buf);
	return 0;
}

static int vn_parse_addr(const char *what, const char *text, struct json_object **out,
			 struct vn_err *err)
{
	const struct vn_special *sp;
	char buf[VN_ADDR_STRLEN];
	struct vn_addr a;

	if (vn_addr_parse(text, &a) < 0)
		return vn_fail(err, -EINVAL, "%s '%s' is not an IP address", what, text);
	sp = vn_addr_special(&a);
	if (sp)
		return vn_fail(err, -EINVAL, "%s '%s' is in %s (%s), not a unicast address", what,
			       text, sp->range, sp->what);
	vn_addr_format(&a, buf, sizeof(buf));
	*out = json_object_new_string(buf);
	return 0;
}

static int vn_parse_gateway(struct vn_ctx *c, struct vn_obj *o, const char *text,
			    struct json_object **out, struct vn_err *err)
{
	if (!strcmp(text, "none")) {
		*out = json_object_new_string("none");
		return 0;
	}
	return vn_parse_addr("gateway_ip", text, out, err);
}

static int vn_parse_nameserver(struct vn_ctx *c, struct vn_obj *o, const char *text,
			       struct json_object **out, struct vn_err *err)
{
	return vn_parse_addr("dns nameserver", text, out, err);
}

static int vn_parse_pool(struct vn_ctx *c, struct vn_obj *o, const char *text,
			 struct json_object **out, struct vn_err *err)
{
	char buf[2 * VN_ADDR_STRLEN + 2];
	const struct vn_special *sp;
	struct vn_pool p;

	if (vn_pool_parse(text, &p) < 0)
		return vn_fail(err, -EINVAL,
			       "allocation pool '%s' is not START-END with START <= END", text);
	if ((sp = vn_addr_special(&p.start)) || (sp = vn_addr_special(&p.end)))
		return vn_fail(err, -EINVAL,
			       "allocation pool '%s' reaches into %s (%s), not unicast addresses",
			       text, sp->range, sp->what);
	vn_pool_format(&p, buf, sizeof(buf));
	*out = json_object_new_string(buf);
	return 0;
}

int vn_route_line(const char *text, int af, struct json_object **out, struct vn_err *err)
{
	char d[VN_CIDR_STRLEN], h[VN_ADDR_STRLEN], buf[VN_CIDR_STRLEN + VN_ADDR_STRLEN + 1];
	const struct vn_special *sp;
	struct vn_cidr dest;
	struct vn_addr hop;

	if (vn_route_parse(text, &dest, &hop) < 0 || (af && dest.net.af != af))
		return vn_fail(err, -EINVAL, "route '%s' is not 'DESTINATION_CIDR NEXTHOP'%s", text,
			       af == AF_INET ? " (IPv4)" : "");
	/* A link-local next hop is an ordinary one (IPv6 routers use them). */
	sp = vn_addr_special(&hop);
	if (sp && !sp->link_local)
		return vn_fail(err, -EINVAL, "route '%s': next hop is in %s (%s), not unicast",
			       text, sp->range, sp->what);
	vn_cidr_format(&dest, d, sizeof(d));
	vn_addr_format(&hop, h, sizeof(h));
	snprintf(buf, sizeof(buf), "%s %s", d, h);
	*out = json_object_new_string(buf);
	return 0;
}

static int vn_parse_route(struct vn_ctx *c, struct vn_obj *o, const char *text,
			  struct json_object **out, struct vn_err *err)
{
	return vn_route_line(text, 0, out, err);
}

/* ---- effective values ---- */

static int vn_subnet_cidr(struct vn_obj *sub, struct vn_cidr *cidr)
{
	const char *s = vn_get_str(sub, "cidr");

	if (!s || vn_cidr_parse(s, true, cidr) < 0)
		return -ENOENT;
	return 0;
}

int vn_subnet_ipam(struct vn_obj *sub, struct vn_subnet_ipam *out, struct vn_pool *pools)
{
	struct json_object *list = vn_get_list(sub, "allocation_pools");
	const char *gw = vn_get_str(sub, "gateway_ip");
	size_t n;
	int r;

	memset(out, 0, sizeof(*out));
	r = vn_subnet_cidr(sub, &out->cidr);
	if (r < 0)
		return r;
	if (gw && !strcmp(gw, "none"))
		out->has_gateway = false;
	else if (gw)
		out->has_gateway = vn_addr_parse(gw, &out->gateway) == 0;
	else
		out->has_gateway = vn_ipam_default_gateway(&out->cidr, &out->gateway) == 0;
	out->pools = pools;
	if (list) {
		n = vn_list_len(list);
		if (n > VN_MAX_POOLS)
			n = VN_MAX_POOLS;
		for (size_t i = 0; i < n; i++)
			if (vn_pool_parse(vn_list_at(list, i), &pools[i]) < 0)
				return -EINVAL;
		out->npools = n;
		return 0;
	}
	if (vn_ipam_default_pools(&out->cidr, out->has_gateway ? &out->gateway : NULL, pools,
				  &out->npools) < 0)
		out->npools = 0;
	return 0;
}

static int vn_show_gateway(struct vn_ctx *c, struct vn_obj *o, struct vn_buf *out)
{
	struct vn_pool pools[VN_MAX_POOLS];
	struct vn_subnet_ipam ip;
	char buf[VN_ADDR_STRLEN];
	const char *gw = vn_get_str(o, "gateway_ip");

	if (gw)
		return vn_buf_printf(out, "%s\n", gw);
	if (vn_subnet_ipam(o, &ip, pools) < 0 || !ip.has_gateway)
		return 0;
	vn_addr_format(&ip.gateway, buf, sizeof(buf));
	return vn_buf_printf(out, "%s\n", buf);
}

static int vn_show_pools(struct vn_ctx *c, struct vn_obj *o, struct vn_buf *out)
{
	struct vn_pool pools[VN_MAX_POOLS];
	struct vn_subnet_ipam ip;
	char buf[2 * VN_ADDR_STRLEN + 2];
	int r = 0, q = vn_subnet_ipam(o, &ip, pools);

	if (q == -ENOENT) {
		/* No cidr: show an explicit list as it is, so that a write
		 * of one is seen as a change (and refused by the check)
		 * instead of vanishing as "the same empty text". */
		struct json_object *list = vn_get_list(o, "allocation_pools");

		for (size_t i = 0; i < vn_list_len(list) && r == 0; i++)
			r = vn_buf_printf(out, "%s\n", vn_list_at(list, i));
		return r;
	}
	if (q < 0)
		return 0;
	for (size_t i = 0; i < ip.npools && r == 0; i++) {
		vn_pool_format(&ip.pools[i], buf, sizeof(buf));
		r = vn_buf_printf(out, "%s\n", buf);
	}
	return r;
}

static int vn_show_ip_version(struct vn_ctx *c, struct vn_obj *o, struct vn_buf *out)
{
	struct vn_cidr cidr;

	if (vn_subnet_cidr(o, &cidr) < 0)
		return 0;
	return vn_buf_printf(out, "%d\n", cidr.net.af == AF_INET6 ? 6 : 4);
}

/* ---- hooks ---- */

/* The first port holding an address on sub (through its fixed_ips), or
 * NULL: the subnet's referrers, never the network's ports. */
static struct vn_obj *vn_subnet_holder(struct vn_ctx *c, struct vn_obj *sub,
				       bool (*pick)(struct vn_ctx *c, struct vn_obj *port))
{
	vn_refs_in_foreach(sub, e)
	{
		if (e->from->kind != &vn_kind_port || !e->attr ||
		    strcmp(e->attr->name, "fixed_ips") || !e->value)
			continue;
		if (!pick || pick(c, e->from))
			return e->from;
	}
	return NULL;
}

/* Ports that hold an address as users see it: a network's DHCP port
 * follows the subnet (its network's sync moves or drops its address). */
static bool vn_port_not_dhcp(struct vn_ctx *c, struct vn_obj *port)
{
	return !vn_port_is_dhcp(port);
}

static bool vn_port_bound_user(struct vn_ctx *c, struct vn_obj *port)
{
	return vn_port_bound(c, port) && !vn_port_is_dhcp(port);
}

static int vn_subnet_check_use(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			       struct vn_err *err)
{
	struct vn_obj *port;

	if (!strcmp(a->name, "cidr") && (port = vn_subnet_holder(c, o, vn_port_not_dhcp)))
		return vn_fail(err, -EBUSY,
			       "port '%s' has an address on subnet '%s': its cidr "
			       "cannot change",
			       port->name, o->name);
	if (!strcmp(a->name, "gateway_ip") && (port = vn_subnet_holder(c, o, vn_port_is_router_if)))
		return vn_fail(err, -EBUSY, "the gateway_ip of subnet '%s' is on a router (%s)",
			       o->name, vn_get_str(port, "device_owner"));
	return 0;
}

/* Does cidr (of subnet sub) overlap a subnet of net? */
static int vn_subnet_overlaps_in(struct vn_obj *net, struct vn_obj *sub, const struct vn_cidr *cidr,
				 struct vn_err *err)
{
	char buf[VN_CIDR_STRLEN];
	struct vn_obj *other;

	vn_coll_foreach(vn_child_coll(net, &vn_kind_subnet), other)
	{
		struct vn_cidr oc;

		if (other == sub || vn_subnet_cidr(other, &oc) < 0 || !vn_cidr_overlaps(&oc, cidr))
			continue;
		vn_cidr_format(cidr, buf, sizeof(buf));
		if (net == sub->parent)
			return vn_fail(err, -EINVAL,
				       "cidr %s overlaps subnet '%s' (%s) on network '%s'", buf,
				       other->name, vn_get_str(other, "cidr"), net->name);
		return vn_fail(err, -EINVAL,
			       "cidr %s overlaps subnet '%s' (%s) on %snetwork '%s': no "
			       "subnet may overlap a subnet of an external network",
			       buf, other->name, vn_get_str(other, "cidr"),
			       vn_get_bool(net, "external") ? "external " : "", net->name);
	}
	return 0;
}

struct vn_overlap {
	struct vn_obj *sub;
	const struct vn_cidr *cidr;
	struct vn_err *err;
};

static int vn_subnet_overlaps_ext(struct vn_obj *net, void *arg)
{
	struct vn_overlap *x = arg;

	return net == x->sub->parent ? 0 : vn_subnet_overlaps_in(net, x->sub, x->cidr, x->err);
}

/* Would cidr on sub overlap a subnet it must not? Subnets of one network
 * never overlap; a subnet of an external network is the host's address and
 * route, so no subnet anywhere may overlap one (in either direction). So a
 * subnet looks at its own network's subnets and the external networks'
 * (kept apart: O(those), not O(networks)); a subnet of an external network
 * at every subnet, which only root can cause. */
int vn_subnet_overlaps(struct vn_ctx *c, struct vn_obj *sub, const struct vn_cidr *cidr,
		       struct vn_err *err)
{
	struct vn_overlap x = {.sub = sub, .cidr = cidr, .err = err};
	struct vn_obj *net;
	int r;

	if (vn_get_bool(sub->parent, "external")) {
		vn_coll_foreach(vn_root_coll(c, &vn_kind_network), net)
		{
			r = vn_subnet_overlaps_in(net, sub, cidr, err);
			if (r < 0)
				return r;
		}
		return 0;
	}
	r = vn_subnet_overlaps_in(sub->parent, sub, cidr, err);
	if (r < 0)
		return r;
	r = vn_external_networks_foreach(c, vn_subnet_overlaps_ext, &x);
	if (r < 0 && !err->msg[0]) /* not a refusal: the set could not be built */
		return vn_fail(err, r, "cannot list the external networks: %s", strerror(-r));
	return r;
}

static int vn_subnet_check(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			   struct vn_err *err)
{
	struct vn_pool pools[VN_MAX_POOLS];
	struct json_object *list;
	struct vn_subnet_ipam ip;
	struct vn_obj *net = o->parent;
	char why[256];
	int r;

	r = vn_subnet_check_use(c, o, a, err);
	if (r < 0)
		return r;
	/* they become a DHCP option: see VN_DHCP_MAX_DNS */
	if (vn_list_len(vn_get_list(o, "dns_nameservers")) > VN_DHCP_MAX_DNS)
		return vn_fail(err, -EINVAL, "at most %d dns_nameservers (%zu given)",
			       VN_DHCP_MAX_DNS, vn_list_len(vn_get_list(o, "dns_nameservers")));
	/* DHCP serves them (option 121 holds 255 bytes): Neutron's default
	 * max_subnet_host_routes, VN_DHCP_MAX_ROUTES. Checked on their own
	 * write only: a longer list stored before the limit does not make
	 * every other write (rm -r's resets) fail. */
	if (!strcmp(a->name, "host_routes") &&
	    vn_list_len(vn_get_list(o, "host_routes")) > VN_DHCP_MAX_ROUTES)
		return vn_fail(err, -EINVAL,
			       "at most %d host_routes (%zu given): DHCP serves a subnet's host "
			       "routes, and no more than %d fit (Neutron's max_subnet_host_routes)",
			       VN_DHCP_MAX_ROUTES, vn_list_len(vn_get_list(o, "host_routes")),
			       VN_DHCP_MAX_ROUTES);
	if (c->caller_uid != 0 && vn_get_bool(net, "external") &&
	    (!strcmp(a->name, "cidr") || !strcmp(a->name, "gateway_ip")))
		return vn_fail(err, -EACCES,
			       "only root sets the %s of a subnet on external network '%s': its "
			       "addresses and routes are the host's",
			       a->name, net->name);
	r = vn_subnet_ipam(o, &ip, pools);
	if (r == -ENOENT) {
		/* No cidr: clearing values is fine (rm -r removes cidr first),
		 * anything else has nothing to be checked against. */
		if (!strcmp(a->name, "cidr") || !strcmp(a->name, "enable_dhcp") ||
		    !json_object_object_get_ex(o->props, a->name, NULL))
			return 0;
		return vn_fail(err, -EINVAL,
			       "subnet '%s' has no cidr yet: set the cidr first, then %s", o->name,
			       a->name);
	}
	if (vn_list_len(vn_get_list(o, "allocation_pools")) > VN_MAX_POOLS)
		return vn_fail(err, -EINVAL, "at most %d allocation pools", VN_MAX_POOLS);
	if (vn_ipam_validate(&ip, why, sizeof(why)) < 0)
		return vn_fail(err, -EINVAL, "%s", why);
	list = vn_get_list(o, "host_routes");
	for (size_t i = 0; i < vn_list_len(list); i++) {
		struct vn_cidr dest;
		struct vn_addr hop;

		if (vn_route_parse(vn_list_at(list, i), &dest, &hop) < 0 ||
		    dest.net.af != ip.cidr.net.af)
			return vn_fail(err, -EINVAL,
				       "host route '%s' is not of the subnet's family",
				       vn_list_at(list, i));
	}
	if (ip.cidr.net.af == AF_INET6 && vn_get_int(net, "mtu") < 1280)
		return vn_fail(err, -EINVAL,
			       "network '%s' has mtu %ld, below the IPv6 minimum 1280", net->name,
			       vn_get_int(net, "mtu"));
	if (strcmp(a->name, "cidr"))
		return 0;
	return vn_subnet_overlaps(c, o, &ip.cidr, err);
}

static int vn_subnet_create(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	int r;

	/* A subnet created with values (the defaults, or implicit creation)
	 * is checked like a write of its cidr. */
	if (vn_get_str(o, "cidr")) {
		r = vn_subnet_check(c, o, vn_attr_find(o->kind, "cidr"), err);
		if (r < 0)
			return r;
	}
	return 0; /* its network's addresses follow (vn_kind_network.deps) */
}

static int vn_subnet_busy(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	/* a bound port or a router's leg holding an address here */
	struct vn_obj *port = vn_subnet_holder(c, o, vn_port_bound_user);

	return port ? vn_port_in_use(c, port, err) : 0;
}

/* Ports that are not in use lose their addresses on a deleted subnet,
 * each through the write path (its hooks, its row, its errors): the
 * subnet's referrers, not every port of the network. Ports going away in
 * the same delete keep theirs. */
static int vn_subnet_release_ports(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	const struct vn_attr *fa = vn_attr_find(&vn_kind_port, "fixed_ips");
	struct vn_obj **ports = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	vn_refs_in_foreach(o, e)
	{
		struct vn_obj *p = e->from;

		if (p->kind != &vn_kind_port || e->attr != fa || p->deleting)
			continue;
		if (vn_port_is_dhcp(p))
			continue; /* its network's DHCP service moves it (the network syncs) */
		if (n && ports[n - 1] == p)
			continue; /* two lines on this subnet */
		if (n == cap) {
			struct vn_obj **nv =
				realloc(ports, (cap = cap ? cap * 2 : 8) * sizeof(*nv));

			if (!nv) {
				free(ports);
				return vn_fail(err, -ENOMEM, "out of memory");
			}
			ports = nv;
		}
		ports[n++] = p;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		struct vn_obj *port = ports[i], *s;
		struct json_object *list = vn_get_list(port, "fixed_ips");
		struct json_object *keep = json_object_new_array();
		struct vn_addr a;
		size_t cnt = vn_list_len(list);
		bool dup = false;

		for (size_t j = 0; j < i && !dup; j++)
			dup = ports[j] == port;
		if (dup || !keep) {
			json_object_put(keep);
			continue;
		}
		for (size_t j = 0; j < cnt; j++)
			if (vn_port_fixed_ip(port, j, &s, &a) < 0 || s != o)
				json_object_array_add(
					keep, json_object_get(json_object_array_get_idx(list, j)));
		if (json_object_array_length(keep) == cnt) {
			json_object_put(keep);
			continue;
		}
		if (!json_object_array_length(keep)) {
			json_object_put(keep);
			keep = NULL;
		}
		r = vn_attr_set(c, port, fa, keep, err);
	}
	free(ports);
	return r;
}

static int vn_subnet_destroy(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	/* its network's addresses follow (vn_kind_network.deps) */
	return vn_subnet_release_ports(c, o, err);
}

struct vn_alloc_hint *vn_subnet_hint(struct vn_obj *sub)
{
	return sub->kind == &vn_kind_subnet ? sub->priv : NULL;
}

/* An address was given back: allocation may start there again. */
static void vn_subnet_released(struct vn_obj *o, const struct vn_edge *e)
{
	struct vn_alloc_hint *h = o->priv;
	struct vn_addr a;

	if (!h || !h->valid || !e->value || vn_addr_parse(e->value, &a) < 0)
		return;
	if (a.af != h->next.af)
		h->valid = false;
	else if (a.v < h->next.v)
		h->next = a;
}

/* enable_dhcp back to its default 1 by a reset (props without it), from 0:
 * rm -r on its way to removing the subnet, most likely. The network's
 * DHCP service then waits a little before it is set up (vn_dhcp_note_reset). */
static int vn_subnet_apply(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			   struct json_object *old, struct vn_err *err)
{
	(void)err;
	if (!strcmp(a->name, "enable_dhcp") && old && !json_object_get_boolean(old) &&
	    !json_object_object_get_ex(o->props, "enable_dhcp", NULL))
		vn_dhcp_note_reset(c, o->parent);
	return 0;
}

static const char *vn_subnet_status(struct vn_ctx *c, struct vn_obj *o)
{
	return vn_get_str(o, "cidr") ? "ACTIVE" : "BUILD";
}

static const struct vn_attr vn_subnet_attrs[] = {
	{.name = "cidr",
	 .mode = 0644,
	 .type = VN_T_STR,
	 .flags = VN_ATTR_NO_DEFAULT,
	 .parse = vn_parse_cidr},
	{.name = "gateway_ip",
	 .mode = 0644,
	 .type = VN_T_STR,
	 .parse = vn_parse_gateway,
	 .show = vn_show_gateway},
	{.name = "enable_dhcp", .mode = 0644, .type = VN_T_BOOL, .dflt = "1"},
	{.name = "allocation_pools",
	 .mode = 0644,
	 .type = VN_T_LIST,
	 .parse = vn_parse_pool,
	 .show = vn_show_pools},
	{.name = "dns_nameservers", .mode = 0644, .type = VN_T_LIST, .parse = vn_parse_nameserver},
	{.name = "host_routes", .mode = 0644, .type = VN_T_LIST, .parse = vn_parse_route},
	{.name = "ip_version", .mode = 0444, .type = VN_T_INT, .show = vn_show_ip_version},
	{.name = NULL},
};

const struct vn_kind vn_kind_subnet = {
	.dir = "subnets",
	.type = "subnet",
	.attrs = vn_subnet_attrs,
	.global_names = true,
	.priv_size = sizeof(struct vn_alloc_hint),
	.create = vn_subnet_create,
	.check = vn_subnet_check,
	.apply = vn_subnet_apply,
	.busy = vn_subnet_busy,
	.destroy = vn_subnet_destroy,
	.status = vn_subnet_status,
	.released = vn_subnet_released,
};
