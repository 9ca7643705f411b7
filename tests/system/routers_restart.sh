#!/bin/bash
# SPDX-License-Identifier: MIT
# Routers and ports across restarts: after SIGKILL and after SIGTERM the
# daemon reconciles the kernel with the model. A deleted nft table comes
# back, a deleted qrouter namespace comes back with its legs, addresses and
# routes, a stray qrouter-<uuid> namespace and stray vnp-* links disappear,
# bound ports' veths come back; writes acknowledged just before a SIGKILL
# survive; and hosts ping each other (and through SNAT) again afterwards.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../netlib.sh"
vn_sandbox "$@"
vn_start

M=$VN_MNT
# This test is about routing and NAT: the default security group (whose
# ingress admits only its own members) is opened (tests/system/secgroups.sh
# covers filtering).
vn_ok vn_w "$M/security_groups/default/rules" "$(printf 'egress any\ningress any')"
# nft tables in the daemon's namespace other than the security groups' own
foreign_nft() { ip netns exec "$VN_NS" nft list tables | grep -v ' vnetfs_sg$' || true; }
R=$M/routers/r
STRAY_NS=qrouter-00000000-0000-4000-8000-000000000000
OURS_NS=qrouter-11111111-0000-4000-8000-000000000000

# peer_seen SERVER_NS CLIENT_NS ADDR: see routers.sh
# bound_devices: the device of every bound port in the tree, sorted
bound_devices() {
	local f d
	for f in "$M"/networks/*/ports/*/device; do
		d=$(vn_cat "$f") || continue
		[ -n "$d" ] && echo "$d"
	done | LC_ALL=C sort
}
# router_view: the router's files and its leg ports' files (not error)
router_view() {
	local f
	for f in external_gateway gateway_ip enable_snat interfaces routes namespace status id; do
		echo "$f: $(vn_cat "$R/$f" | tr '\n' ' ')"
	done
	for f in "$M"/networks/*/ports/q*/; do
		echo "$(basename "$f"): $(vn_cat "$f/fixed_ips") $(vn_cat "$f/mac_address") $(vn_cat "$f/device_owner") $(vn_cat "$f/status")"
	done
}

declare -A SUBNET_NET=([sa]=a [sb]=b [sc]=c)

# ---- the model ---------------------------------------------------------------
for x in a:sa:10.0.1.0/24 b:sb:10.0.2.0/24 c:sc:10.0.3.0/24; do
	IFS=: read -r n s c <<<"$x"
	vn_ok mkdir "$M/networks/$n"
	vn_ok mkdir "$M/networks/$n/subnets/$s"
	vn_ok vn_w "$M/networks/$n/subnets/$s/cidr" "$c"
done
vn_ok mkdir "$R"
NS=$(vn_cat "$R/namespace")
vn_ok vn_w "$R/external_gateway" public
vn_ok vn_a "$R/interfaces" sa
vn_ok vn_a "$R/interfaces" sb
gw=$(vn_cat "$R/gateway_ip")
for x in ha:a hb:b ho:public; do
	IFS=: read -r h n <<<"$x"
	vn_host "$h"
	vn_ok mkdir "$M/networks/$n/ports/$h"
	vn_ok vn_w "$M/networks/$n/ports/$h/ipconfig" static
	vn_ok vn_w "$M/networks/$n/ports/$h/netns" "/run/netns/$h"
done
ipa=$(port_ip a ha)
ipb=$(port_ip b hb)
ipo=$(port_ip public ho)
ip -n ha addr add 192.168.50.1/32 dev lo
# ha routes 192.168.50.0/24: port security would drop that source
vn_ok vn_w "$M/networks/a/ports/ha/port_security_enabled" 0
vn_ok vn_w "$R/routes" "192.168.50.0/24 $ipa"

# check_all LABEL [snat=1] [interfaces="sa sb"]: the whole kernel picture
check_all() {
	local l=$1 snat=${2:-1} ifs=${3:-sa sb} want qg qrs addrs s
	vn_eq "$NS" "$(ip netns list | awk '{print $1}' | grep '^qrouter-' || true)" "$l: exactly the router's qrouter namespace"
	vn_eq up "$(vn_link_admin lo "$NS")" "$l: lo up in $NS"
	vn_eq 1 "$(ip netns exec "$NS" sysctl -n net.ipv4.ip_forward 2>&1)" "$l: forwarding on in $NS"
	qg=$(links "$NS" qg-)
	vn_match '^qg-[0-9a-f]{12}$' "$qg" "$l: one qg- leg in $NS"
	vn_eq "$gw/24" "$(vn_link_addrs "$qg" "$NS" 2>&1)" "$l: qg- leg carries $gw/24"
	vn_eq "172.24.4.1 $qg 118" "$(default_route "$NS")" "$l: default route via the public gateway"
	qrs=$(links "$NS" qr-)
	addrs=$(for q in $qrs; do vn_link_addrs "$q" "$NS"; done | LC_ALL=C sort | xargs)
	want=""
	for s in $ifs; do want+="$(vn_cat "$M/networks/${SUBNET_NET[$s]}/subnets/$s/gateway_ip")/24 "; done
	vn_eq "$(xargs -n1 <<<"$want" | LC_ALL=C sort | xargs)" "$addrs" "$l: qr- legs carry the gateway addresses of $ifs"
	vn_eq "$ipa $(ip -n "$NS" -j route get "$ipa" | jq -r '.[0].dev')" "$(ip -n "$NS" -j route show 192.168.50.0/24 | jq -r '.[] | "\(.gateway) \(.dev)"')" \
		"$l: the static route is in $NS"
	if [ "$snat" = 1 ]; then
		want=$(for s in $ifs; do echo "$(vn_cat "$M/networks/${SUBNET_NET[$s]}/subnets/$s/cidr") $qg snat $gw"; done | LC_ALL=C sort)
	else
		want=""
	fi
	vn_eq "$want" "$(snat_rules "$NS")" "$l: SNAT rules (enable_snat=$snat)"
	vn_eq "$(bound_devices)" "$(links "$VN_NS" vnp-)" "$l: the vnp- links in $VN_NS are exactly the bound ports' devices"
	vn_eq "$ipa/24" "$(vn_link_addrs eth0 ha 2>&1)" "$l: host a has eth0 with its address"
	vn_eq "10.0.1.1 eth0 118" "$(default_route ha)" "$l: host a's default route"
	vn_eq "$ipb/24" "$(vn_link_addrs eth0 hb 2>&1)" "$l: host b has eth0 with its address"
	vn_true "$l: a pings b" can_ping ha "$ipb"
	vn_true "$l: b pings a" can_ping hb "$ipa"
	vn_true "$l: b reaches 192.168.50.1 by the static route" can_ping hb 192.168.50.1
	vn_true "$l: the router pings a" can_ping "$NS" "$ipa"
	if [ "$snat" = 1 ]; then
		vn_true "$l: a pings the outside host" can_ping ha "$ipo"
		vn_eq "$gw" "$(peer_seen ho ha "$ipo")" "$l: the outside host sees gateway_ip (SNAT)"
	else
		vn_true "$l: snat off: a cannot reach the outside host (no route back)" bash -c "! ip netns exec ha ping -c1 -W1 $ipo >/dev/null 2>&1"
	fi
}

check_all "before any restart"
view0=$(router_view)

# ---- SIGKILL, and drift while the daemon is down ---------------------------------------
ha_dev=$(vn_cat "$M/networks/a/ports/ha/device")
vn_match '^vnp-' "$ha_dev" "host a's veth in $VN_NS is $ha_dev"
vn_kill9
ip netns exec "$NS" nft delete table ip vnetfs
ip netns add "$STRAY_NS"
# a namespace this daemon recorded as its own (a delete cut short after
# the store committed) is removed on start
ip netns add "$OURS_NS"
sqlite3 "$VN_STATE/owned.db" "INSERT INTO owned VALUES('netns', '$OURS_NS')"
ip -n "$VN_NS" link add vnp-0badc0ffee0 type veth peer name vnp-0badc0ffee1
# host a's veth: deleting the host end takes eth0 in ha with it
ip -n "$VN_NS" link del "$ha_dev"
vn_eq "" "$(ip -n ha -j link show | jq -r '.[].ifname | select(. != "lo")')" "(setup) host a lost eth0"
vn_eq "" "$(snat_rules "$NS")" "(setup) the nft table is gone"
vn_start
vn_true "another's $STRAY_NS is left alone (not in our store)" test -e "/run/netns/$STRAY_NS"
ip netns del "$STRAY_NS"
vn_true "our own stray $OURS_NS is gone" test ! -e "/run/netns/$OURS_NS"
vn_eq 0 "$(sqlite3 "file:$VN_STATE/owned.db?mode=ro" "SELECT count(*) FROM owned WHERE name = '$OURS_NS'")" \
	"and its record too"
vn_eq absent "$(vn_link_kind vnp-0badc0ffee0)" "the stray vnp- veth is gone"
vn_eq absent "$(vn_link_kind vnp-0badc0ffee1)" "its vnp- peer is gone"
vn_eq "$view0" "$(router_view)" "after SIGKILL: the router and its legs read the same"
check_all "after SIGKILL"

# ---- SIGKILL with the router namespace deleted -----------------------------------------------
vn_kill9
ip netns del "$NS"
vn_true "(setup) $NS is gone" test ! -e "/run/netns/$NS"
vn_start
vn_true "$NS is back" test -e "/run/netns/$NS"
vn_eq "$view0" "$(router_view)" "after SIGKILL without the namespace: the router reads the same"
check_all "after the namespace came back"

# ---- acknowledged writes right before SIGKILL -------------------------------------------------
vn_ok vn_w "$R/enable_snat" 0
vn_ok vn_a "$R/interfaces" sc
vn_kill9
vn_start
vn_eq 0 "$(vn_cat "$R/enable_snat")" "enable_snat=0 written before SIGKILL survived"
vn_eq "$(vn_lines sa sb sc)" "$(vn_cat "$R/interfaces")" "interface sc added before SIGKILL survived"
vn_match '^qr-[0-9a-f]{8}-[0-9a-f]{8}$' "$(vn_ls "$M/networks/c/ports" | grep -v '^dhcp$')" \
	"sc's leg port survived (beside c's DHCP port)"
check_all "after SIGKILL with snat off and sc" 0 "sa sb sc"
vn_ok vn_w "$R/enable_snat" 1
vn_ok vn_w "$R/interfaces" "$(vn_lines sa sb)"
vn_eq "$(vn_lines sa sb)" "$(vn_cat "$R/interfaces")" "sc removed again"

# ---- SIGTERM with drift while stopped -----------------------------------------------------------
vn_stop
qg=$(links "$NS" qg-)
qr1=$(links "$NS" qr- | head -n1)
ip -n "$NS" route del 192.168.50.0/24 || true
ip -n "$NS" link del "$qr1" || true
ip -n "$NS" route del default || true
ip netns exec "$NS" nft flush chain ip vnetfs postrouting || true
ip netns add "$STRAY_NS"
vn_start
vn_true "another's $STRAY_NS is left alone after SIGTERM + start" test -e "/run/netns/$STRAY_NS"
ip netns del "$STRAY_NS"
vn_eq "$view0" "$(router_view)" "after SIGTERM: the router reads the same"
check_all "after SIGTERM with drift"

# ---- a clean SIGTERM restart changes nothing ------------------------------------------------------
links0=$(links "$NS" q)
vnp0=$(links "$VN_NS" vnp-)
vn_restart
vn_eq "$links0" "$(links "$NS" q)" "a clean restart keeps the router's legs"
vn_eq "$vnp0" "$(links "$VN_NS" vnp-)" "a clean restart keeps the vnp- links"
vn_eq "$view0" "$(router_view)" "a clean restart: the router reads the same"
check_all "after a clean restart"

vn_done
