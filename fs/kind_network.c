// SPDX-License-Identifier: MIT
/*
 * networks/NET: a Linux bridge named from the network's id. An external
 * network (a provider network like devstack's br-ex) also carries its
 * subnets' gateway addresses on the bridge, so the host is its gateway.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetfs/backend.h"
#include "vnetfs/model.h"
#include "fs/dhcp.h"
#include "fs/kinds.h"

void vn_network_bridge(const struct vn_obj *net, char buf[16])
{
	vn_ifname(buf, VN_BRIDGE_PREFIX, net->id);
}

static int vn_network_show_bridge(struct vn_ctx *c, struct vn_obj *o, struct vn_buf *out)
{
	char br[16];

	vn_network_bridge(o, br);
	return vn_buf_printf(out, "%s\n", br);
}

static bool vn_network_up(struct vn_obj *net)
{
	const char *s = vn_get_str(net, "admin_state");

	return !s || !strcmp(s, "up");
}

/* External networks carry their subnets' gateway addresses on the bridge
 * (devstack's br-ex); subnets being deleted are left out. */
static int vn_network_sync_addrs(struct vn_ctx *c, struct vn_obj *net, struct vn_err *err)
{
	struct vn_cidr addrs[64];
	struct vn_coll *subs = vn_child_coll(net, &vn_kind_subnet);
	struct vn_obj *sub;
	size_t n = 0;
	char br[16];
	int r;

	vn_network_bridge(net, br);
	if (vn_get_bool(net, "external")) {
		vn_coll_foreach(subs, sub)
		{
			struct vn_pool pools[VN_MAX_POOLS];
			struct vn_subnet_ipam ip;

			if (sub->deleting || n == sizeof(addrs) / sizeof(addrs[0]))
				continue;
			if (vn_subnet_ipam(sub, &ip, pools) < 0 || !ip.has_gateway)
				continue;
			addrs[n].net = ip.gateway;
			addrs[n].prefix = ip.cidr.prefix;
			n++;
		}
	}
	r = vn_addr_sync(c->ns, br, AF_UNSPEC, addrs, n);
	if (r < 0)
		return vn_fail(err, -EIO, "could not set the gateway addresses of bridge %s: %s",
			       br, strerror(-r));
	return 0;
}

/* addrs: also make the bridge's addresses exact. Only an external network
 * has any, so others need it only to clean up (reconcile, external 1->0). */
static int vn_network_realise(struct vn_ctx *c, struct vn_obj *o, bool addrs, struct vn_err *err)
{
	char br[16];
	int r;

	vn_network_bridge(o, br);
	/* Only an external network's bridge is the host's (its gateway);
	 * on tenant networks the host stays off IPv6. */
	r = vn_bridge_ensure(c->ns, br, (unsigned)vn_get_int(o, "mtu"), vn_network_up(o),
			     vn_get_bool(o, "external"));
	if (r < 0)
		return vn_fail(err, -EIO, "could not set up bridge %s: %s", br, strerror(-r));
	if (!addrs && !vn_get_bool(o, "external"))
		return 0;
	return vn_network_sync_addrs(c, o, err);
}

/* ---- the external networks ----
 * Every subnet must stay clear of every external network's subnets
 * (vn_subnet_overlaps): a cidr write would otherwise look at every network
 * of the tree. So the ids of the networks that are external are kept: the
 * set is built by one scan the first time it is needed (after loading:
 * loading runs no hooks) and from then on grows when a network becomes
 * external (create, a write of external). So it holds every external
 * network, and maybe some that were: an id is dropped only once its
 * object is gone (an undo may make a network external again without a
 * hook), and every use skips the networks that are not external. */
static void vn_external_add(struct vn_ctx *c, struct vn_obj *o)
{
	char *k;

	if (!c->external_nets || !vn_get_bool(o, "external") ||
	    lh_table_lookup_entry(c->external_nets, o->id))
		return;
	k = strdup(o->id);
	if (!k || lh_table_insert(c->external_nets, k, NULL) < 0) {
		free(k);
		lh_table_free(c->external_nets); /* built again at its next use */
		c->external_nets = NULL;
	}
}

static void vn_external_key_free(struct lh_entry *e)
{
	free(lh_entry_k(e));
}

static int vn_external_build(struct vn_ctx *c)
{
	struct vn_obj *net;

	c->external_nets = lh_kchar_table_new(16, vn_external_key_free);
	if (!c->external_nets)
		return -ENOMEM;
	vn_coll_foreach(vn_root_coll(c, &vn_kind_network), net)
	{
		vn_external_add(c, net);
		if (!c->external_nets)
			return -ENOMEM;
	}
	return 0;
}

int vn_external_networks_foreach(struct vn_ctx *c, int (*cb)(struct vn_obj *net, void *arg),
				 void *arg)
{
	struct lh_entry *e, *tmp;
	int r;

	if (!c->external_nets && (r = vn_external_build(c)) < 0)
		return r;
	lh_foreach_safe(c->external_nets, e, tmp)
	{
		struct vn_obj *net = vn_find_id(c, (const char *)lh_entry_k(e));

		if (!net || net->kind != &vn_kind_network) {
			lh_table_delete_entry(c->external_nets, e);
			continue;
		}
		if (!vn_get_bool(net, "external"))
			continue;
		r = cb(net, arg);
		if (r)
			return r;
	}
	return 0;
}

static int vn_network_create(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	int r = vn_network_realise(c, o, false, err);

	if (r == 0)
		r = vn_dhcp_sync(c, o, err); /* implicit creation with subnets */

	if (r < 0) {
		char br[16];

		vn_network_bridge(o, br);
		vn_link_delete(c->ns, br);
	} else {
		vn_external_add(c, o);
	}
	return r;
}

static int vn_network_check(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			    struct vn_err *err)
{
	struct vn_obj *sub, *router;

	/* Neutron's router:external is admin-only: an external network's
	 * subnets are addresses and routes of the host itself. The check
	 * runs on a change only, so writing the current value is fine. */
	if (!strcmp(a->name, "external") && c->caller_uid != 0)
		return vn_fail(err, -EACCES,
			       "only root may change external: an external network's subnets "
			       "become addresses and routes of the host");
	if (!strcmp(a->name, "external") && vn_get_bool(o, "external")) {
		vn_coll_foreach(vn_child_coll(o, &vn_kind_subnet), sub)
		{
			struct vn_pool pools[VN_MAX_POOLS];
			struct vn_subnet_ipam ip;
			int r;

			if (vn_subnet_ipam(sub, &ip, pools) == -ENOENT)
				continue;
			r = vn_subnet_overlaps(c, sub, &ip.cidr, err);
			if (r < 0)
				return r;
		}
	}
	if (!strcmp(a->name, "external") && !vn_get_bool(o, "external") &&
	    (router = vn_router_using_network(c, o)))
		return vn_fail(err, -EBUSY, "router '%s' uses network '%s'", router->name, o->name);

	if (!strcmp(a->name, "mtu") && vn_get_int(o, "mtu") < 1280) {
		vn_coll_foreach(vn_child_coll(o, &vn_kind_subnet), sub)
		{
			struct vn_pool pools[VN_MAX_POOLS];
			struct vn_subnet_ipam ip;

			if (vn_subnet_ipam(sub, &ip, pools) == 0 && ip.cidr.net.af == AF_INET6)
				return vn_fail(err, -EINVAL,
					       "mtu %ld is below 1280, the IPv6 minimum, and "
					       "subnet '%s' is IPv6",
					       vn_get_int(o, "mtu"), sub->name);
		}
	}
	return 0;
}

static int vn_network_apply(struct vn_ctx *c, struct vn_obj *o, const struct vn_attr *a,
			    struct json_object *old, struct vn_err *err)
{
	/* Re-assert the whole bridge: mtu, state and addresses are one small
	 * set of idempotent netlink calls, and a failure in the middle is
	 * undone by asserting the old model again (the caller restores it). */
	int r = vn_network_realise(c, o, !strcmp(a->name, "external"), err);

	if (r == 0)
		vn_external_add(c, o);
	/* ports follow the mtu (vn_kind_port.deps); DHCP offers it */
	return r < 0 ? r : vn_dhcp_sync(c, o, err);
}

static int vn_network_busy(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	struct vn_obj *port;
	int r;

	/* A router's legs: the references pinning the network or its
	 * subnets say so (generic busy). Ports bound by users: */
	vn_coll_foreach(vn_child_coll(o, &vn_kind_port), port)
	{
		if (vn_port_router(c, port, NULL) || vn_port_is_dhcp(port))
			continue;
		r = vn_port_in_use(c, port, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int vn_network_destroy(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	char br[16];
	int r;

	r = vn_dhcp_destroy(c, o, err);
	if (r < 0)
		return r;
	vn_network_bridge(o, br);
	r = vn_link_delete(c->ns, br);
	if (r < 0)
		return vn_fail(err, -EIO, "could not delete bridge %s: %s", br, strerror(-r));
	return 0;
}

static int vn_network_reconcile(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	int r = vn_network_realise(c, o, true, err); /* ports reconcile themselves */

	return r < 0 ? r : vn_dhcp_reconcile(c, o, err);
}

static int vn_network_sweep(struct vn_ctx *c)
{
	char **links = NULL;
	int r = vn_link_list(c->ns, VN_BRIDGE_PREFIX, &links);

	if (r == 0)
		r = vn_sweep(c, &vn_kind_network, vn_network_bridge, links, vn_sweep_link,
			     "bridge");
	vn_strv_free(links);
	if (r == 0)
		r = vn_dhcp_sweep(c);
	return r;
}

static const char *vn_network_status(struct vn_ctx *c, struct vn_obj *o)
{
	if (vn_dhcp_pending(c, o))
		return "BUILD"; /* its DHCP service is still to be set up */
	return vn_network_up(o) ? "ACTIVE" : "DOWN";
}

static const char *const vn_admin_states[] = {"up", "down", NULL};

/* An external network's bridge carries its subnets' gateways. */
static const char *const vn_network_sub_attrs[] = {"cidr", "gateway_ip", NULL};
/* Its DHCP service serves its subnets' values and its ports' addresses. */
static const char *const vn_network_dhcp_sub_attrs[] = {"enable_dhcp", "dns_nameservers",
							"host_routes", "allocation_pools", NULL};
static const char *const vn_network_port_attrs[] = {"mac_address", "fixed_ips", NULL};
static const struct vn_dep vn_network_deps[] = {
	{.via = VN_DEP_CHILDREN, .kind = &vn_kind_subnet, .on = vn_network_sub_attrs},
	{.via = VN_DEP_CHILDREN, .kind = &vn_kind_subnet, .on = vn_network_dhcp_sub_attrs},
	{.via = VN_DEP_CHILDREN, .kind = &vn_kind_port, .on = vn_network_port_attrs},
	{.via = VN_DEP_END},
};

static int vn_network_sync(struct vn_ctx *c, struct vn_obj *o, struct vn_err *err)
{
	int r;

	/* only an external network's bridge has addresses */
	if (vn_get_bool(o, "external")) {
		r = vn_network_sync_addrs(c, o, err);
		if (r < 0)
			return r;
	}
	return vn_dhcp_sync(c, o, err);
}

static const struct vn_attr vn_network_attrs[] = {
	{.name = "mtu", .mode = 0644, .type = VN_T_INT, .min = 68, .max = 9000, .dflt = "1500"},
	{.name = "admin_state",
	 .mode = 0644,
	 .type = VN_T_ENUM,
	 .choices = vn_admin_states,
	 .dflt = "up"},
	{.name = "external", .mode = 0644, .type = VN_T_BOOL, .dflt = "0"},
	{.name = "bridge", .mode = 0444, .type = VN_T_STR, .show = vn_network_show_bridge},
	{.name = NULL},
};

static const struct vn_kind *const vn_network_children[] = {
	&vn_kind_subnet,
	&vn_kind_port,
	NULL,
};

const struct vn_kind vn_kind_network = {
	.dir = "networks",
	.type = "network",
	.attrs = vn_network_attrs,
	.children = vn_network_children,
	.create = vn_network_create,
	.check = vn_network_check,
	.apply = vn_network_apply,
	.busy = vn_network_busy,
	.destroy = vn_network_destroy,
	.reconcile = vn_network_reconcile,
	.sweep = vn_network_sweep,
	.status = vn_network_status,
	.deps = vn_network_deps,
	.sync = vn_network_sync,
};
