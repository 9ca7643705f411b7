#!/bin/bash
# SPDX-License-Identifier: MIT
# routers/: the scenario of issue 3. Networks a (10.0.1.0/24) and b
# (10.0.2.0/24), a router with both interfaces and the public gateway, hosts
# bound as static ports on a, b and public. Checks the qrouter namespace,
# its qr-/qg- legs and the leg ports, routed east-west traffic that keeps
# its source address, SNAT to the gateway address towards the outside (and
# its absence with enable_snat=0), no way in from outside, static routes,
# bad writes (errno, file unchanged, a sentence in error), rmdir EBUSY
# cases, removing an interface and the gateway, and `rm -r routers/R`
# leaving nothing behind (ip netns, links, nft).
#
# The peer address a TCP server sees is taken from `ss` run by the server
# side itself (busybox nc -l -e), so no extra tool is needed.
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




# peer_seen SERVER_NS CLIENT_NS ADDR: the source address that a TCP server
# in SERVER_NS sees for a connection from CLIENT_NS to ADDR, or
# "no connection". The server runs `ss` on the accepted connection and
# sends its line back to the client.

mknet() { # NET SUBNET CIDR
	vn_ok mkdir "$M/networks/$1"
	vn_ok mkdir "$M/networks/$1/subnets/$2"
	vn_ok vn_w "$M/networks/$1/subnets/$2/cidr" "$3"
}
# bind_host NS NET PORT: a static port PORT on NET bound into host NS
bind_host() {
	vn_host "$1"
	vn_ok mkdir "$M/networks/$2/ports/$3"
	vn_ok vn_w "$M/networks/$2/ports/$3/ipconfig" static
	vn_ok vn_w "$M/networks/$2/ports/$3/netns" "/run/netns/$1"
}

# ---- networks ---------------------------------------------------------------------
mknet a sa 10.0.1.0/24
mknet b sb 10.0.2.0/24
mknet c sc 10.0.1.128/25      # overlaps sa
mknet d sd 10.0.4.0/24        # no gateway
vn_ok vn_w "$M/networks/d/subnets/sd/gateway_ip" none
mknet e se 10.0.5.0/24        # for the interface removal checks

# ---- mkdir routers/r ----------------------------------------------------------------
R=$M/routers/r
vn_eq "" "$(vn_ls "$M/routers")" "no routers at first"
vn_ok mkdir "$R"
vn_eq "$(vn_lines enable_snat error external_gateway gateway_ip id interfaces json namespace routes status)" \
	"$(vn_ls "$R")" "a router's files"
rid=$(vn_cat "$R/id")
vn_match "$UUID_RE" "$rid" "router id is a UUID"
NS=$(vn_cat "$R/namespace")
vn_eq "qrouter-$rid" "$NS" "namespace is qrouter-<id>"
vn_true "ip netns lists $NS" bash -c "ip netns list | grep -qw -- '$NS'"
vn_eq up "$(vn_link_admin lo "$NS")" "lo is up in $NS"
vn_eq 1 "$(ip netns exec "$NS" sysctl -n net.ipv4.ip_forward)" "IPv4 forwarding is on in $NS"
vn_eq "" "$(vn_cat "$R/external_gateway")" "external_gateway empty at first"
vn_eq "" "$(vn_cat "$R/gateway_ip")" "gateway_ip empty at first"
vn_eq 1 "$(vn_cat "$R/enable_snat")" "enable_snat default 1"
vn_eq "" "$(vn_cat "$R/interfaces")" "interfaces empty at first"
vn_eq "" "$(vn_cat "$R/routes")" "routes empty at first"
vn_eq "" "$(vn_cat "$R/error")" "error empty"
vn_eq "444 444 444 644 644 644 644" "$(stat -c %a "$R/namespace" "$R/gateway_ip" "$R/id" "$R/external_gateway" \
	"$R/enable_snat" "$R/interfaces" "$R/routes" | xargs)" "file modes"
vn_expect_fail ANY vn_w "$R/namespace" qrouter-x
vn_expect_fail ANY vn_w "$R/gateway_ip" 172.24.4.99

# ---- external gateway ----------------------------------------------------------------
# a plain port is never bound into the daemon's own namespaces (a restore
# of a saved leg or DHCP port would name them): EPERM, also for root
vn_ok mkdir "$M/networks/a/ports/intruder"
vn_t_bad EPERM "$M/networks/a/ports/intruder/netns" "/run/netns/$NS" 'belongs to the daemon'
vn_t_bad EPERM "$M/networks/a/ports/intruder/netns" "/run/netns/$(ls /run/netns | grep '^qdhcp-' | head -1)" \
	'belongs to the daemon'
vn_eq "" "$(vn_cat "$M/networks/a/ports/intruder/netns")" "the intruder stays unbound"
vn_ok rmdir "$M/networks/a/ports/intruder"
vn_t_bad ENOENT "$R/external_gateway" nosuch 'nosuch'
vn_t_bad EINVAL "$R/external_gateway" a "'?a'?.*external|external.*'?a'?"
vn_eq "" "$(links "$NS" qg-)" "no qg- leg after the rejected writes"
vn_ok vn_w "$R/external_gateway" public
vn_eq public "$(vn_cat "$R/external_gateway")" "external_gateway reads back"
gw=$(vn_cat "$R/gateway_ip")
vn_eq 172.24.4.2 "$gw" "gateway_ip is the first free address of the public pool"
qg_port=$(vn_ls "$M/networks/public/ports")
vn_eq "qg-${rid:0:8}" "$qg_port" "the gateway leg is port qg-<router id prefix> on public"
QG=$M/networks/public/ports/$qg_port
vn_eq "router_gateway:r" "$(vn_cat "$QG/device_owner")" "qg port device_owner"
vn_eq "public-subnet $gw" "$(vn_cat "$QG/fixed_ips")" "qg port fixed_ips"
vn_eq ACTIVE "$(vn_cat "$QG/status")" "qg port is ACTIVE"
qg=$(links "$NS" qg-)
vn_match '^qg-[0-9a-f]{12}$' "$qg" "one qg- veth in $NS"
vn_eq "$gw/24" "$(vn_link_addrs "$qg" "$NS")" "$qg carries gateway_ip/24"
vn_eq "$(vn_cat "$QG/mac_address")" "$(vn_link_json "$qg" "$NS" | jq -r '.[0].address')" "$qg has the qg port's MAC"
vn_eq "172.24.4.1 $qg 118" "$(default_route "$NS")" "default route of $NS via the public gateway"
vn_eq "$(vn_cat "$M/networks/public/bridge")" "$(vn_link_json "$(vn_cat "$QG/device")" | jq -r '.[0].master')" \
	"the qg leg's host end is on public's bridge"
vn_ok vn_w "$R/external_gateway" public
vn_eq "$gw $qg_port" "$(vn_cat "$R/gateway_ip") $(vn_ls "$M/networks/public/ports")" "rewriting the same gateway changes nothing"

# ---- interfaces ------------------------------------------------------------------------
vn_ok vn_a "$R/interfaces" sa
vn_ok vn_a "$R/interfaces" sb
vn_eq "$(vn_lines sa sb)" "$(vn_cat "$R/interfaces")" "interfaces lists sa and sb"
vn_t_bad ENOENT "$R/interfaces" nosuch 'nosuch' append
# `>>` of a line already there: success, nothing changes (issue 8)
vn_ok vn_a "$R/interfaces" sa
vn_eq "$(vn_lines sa sb)" "$(vn_cat "$R/interfaces")" "appending sa again changes nothing"
vn_eq "1" "$(vn_ls "$M/networks/a/ports" | grep -c "^qr-")" "appending sa again makes no second leg"
vn_eq "" "$(vn_cat "$R/error")" "appending sa again leaves no error"
vn_t_bad EBUSY "$R/interfaces" sc 'sc' append
vn_t_bad EINVAL "$R/interfaces" sd 'sd' append
vn_t_bad ENOENT "$R/interfaces" "$(vn_lines sa sb nosuch)" 'nosuch'
vn_ok vn_w "$R/interfaces" "$(vn_lines sa sb)"
vn_eq "$(vn_lines sa sb)" "$(vn_cat "$R/interfaces")" "rewriting the same list changes nothing"
# (each network also has its DHCP port, ports/dhcp)
qr_a=$(vn_ls "$M/networks/a/ports" | grep '^qr-')
qr_b=$(vn_ls "$M/networks/b/ports" | grep '^qr-')
sa_id=$(vn_cat "$M/networks/a/subnets/sa/id")
vn_eq "qr-${rid:0:8}-${sa_id:0:8}" "$qr_a" "sa's leg is port qr-<router id prefix>-<subnet id prefix> on a"
vn_match '^qr-[0-9a-f]{8}-[0-9a-f]{8}$' "$qr_b" "sb's leg port on b"
vn_eq "router_interface:r" "$(vn_cat "$M/networks/a/ports/$qr_a/device_owner")" "qr port device_owner"
vn_eq "sa 10.0.1.1" "$(vn_cat "$M/networks/a/ports/$qr_a/fixed_ips")" "sa's leg has the subnet's gateway_ip"
vn_eq "sb 10.0.2.1" "$(vn_cat "$M/networks/b/ports/$qr_b/fixed_ips")" "sb's leg has the subnet's gateway_ip"
qrs=$(links "$NS" qr-)
vn_eq 2 "$(grep -cE '^qr-[0-9a-f]{12}$' <<<"$qrs")" "two qr- veths in $NS"
addrs=""
for l in $qrs; do addrs+="$(vn_link_addrs "$l" "$NS") "; done
vn_eq "10.0.1.1/24 10.0.2.1/24" "$(xargs -n1 <<<"$addrs" | LC_ALL=C sort | xargs)" "the qr- legs carry the gateway addresses"
vn_eq "$(vn_lines "10.0.1.0/24 $qg snat $gw" "10.0.2.0/24 $qg snat $gw")" "$(snat_rules "$NS")" \
	"SNAT: one rule per internal subnet, leaving by $qg, to gateway_ip"
vn_eq "" "$(foreign_nft)" "no nft tables in the daemon's own netns but the security groups'"
vn_eq ACTIVE "$(vn_cat "$R/status")" "router is ACTIVE"
vn_eq "public $gw sa,sb $NS" "$(vn_json_get "$R/json" '"\(.external_gateway) \(.gateway_ip) \(.interfaces | join(",")) \(.namespace)"')" \
	"json shows the router"

# ---- hosts -----------------------------------------------------------------------------
bind_host ha a ha
# ha routes 192.168.50.0/24 (on its lo): port security would drop that source
vn_ok vn_w "$M/networks/a/ports/ha/port_security_enabled" 0
bind_host hb b hb
bind_host ho public ho
ipa=$(port_ip a ha)
ipb=$(port_ip b hb)
ipo=$(port_ip public ho)
# .1 is the router's leg, .2 the network's DHCP port
vn_eq 10.0.1.3 "$ipa" "host a's address"
vn_eq 10.0.2.3 "$ipb" "host b's address"
vn_eq 172.24.4.3 "$ipo" "outside host's address (after the router's gateway)"
vn_eq "10.0.1.1 eth0 118" "$(default_route ha)" "host a's default route via the router"

# ---- data plane -------------------------------------------------------------------------
vn_true "a pings b through the router" can_ping ha "$ipb"
vn_true "b pings a through the router" can_ping hb "$ipa"
vn_eq "$ipa" "$(peer_seen hb ha "$ipb")" "east-west: b sees a's own address (routed, not NATed)"
vn_eq "$ipb" "$(peer_seen ha hb "$ipa")" "east-west: a sees b's own address"
vn_true "a pings the outside host" can_ping ha "$ipo"
vn_true "b pings the outside host" can_ping hb "$ipo"
vn_eq "$gw" "$(peer_seen ho ha "$ipo")" "SNAT: the outside host sees the router's gateway_ip for a"
vn_eq "$gw" "$(peer_seen ho hb "$ipo")" "SNAT: the outside host sees the router's gateway_ip for b"
vn_true "outside -> a fails (no floating IP)" cannot_ping ho "$ipa"
vn_eq "no connection" "$(peer_seen ha ho "$ipa")" "outside -> a: no TCP connection either"
for h in "$ipa" "$ipb" "$ipo"; do
	vn_true "the router namespace pings $h" can_ping "$NS" "$h"
done

# enable_snat=0
vn_t_bad EINVAL "$R/enable_snat" 2 '2'
vn_ok vn_w "$R/enable_snat" 0
vn_eq 0 "$(vn_cat "$R/enable_snat")" "enable_snat reads back 0"
vn_eq "" "$(snat_rules "$NS")" "enable_snat=0 removes the SNAT rules"
vn_true "snat off: a -> outside fails (the outside has no route back)" cannot_ping ha "$ipo"
ip -n ho route add 10.0.1.0/24 via "$gw"
vn_eq "$ipa" "$(peer_seen ho ha "$ipo")" "snat off + a route back: the outside sees a's real address"
vn_ok vn_w "$R/enable_snat" 1
vn_eq "$(vn_lines "10.0.1.0/24 $qg snat $gw" "10.0.2.0/24 $qg snat $gw")" "$(snat_rules "$NS")" "enable_snat=1 restores the rules"
vn_eq "$gw" "$(peer_seen ho ha "$ipo")" "snat on again: the outside sees gateway_ip even with its route back"
ip -n ho route del 10.0.1.0/24 via "$gw"

# ---- routes --------------------------------------------------------------------------------
ip -n ha addr add 192.168.50.1/32 dev lo
vn_t_bad EINVAL "$R/routes" "192.168.50.0/24 10.0.3.1" '10\.0\.3\.1'
vn_t_bad EINVAL "$R/routes" "192.168.50.0/24" '192\.168\.50\.0/24'
vn_t_bad EINVAL "$R/routes" "not-a-cidr 10.0.1.2" 'not-a-cidr'
vn_eq "" "$(ip -n "$NS" -j route show 192.168.50.0/24 | jq -r '.[].dst')" "no route after the rejected writes"
vn_true "before the route: b cannot reach 192.168.50.1" cannot_ping hb 192.168.50.1
vn_ok vn_w "$R/routes" "192.168.50.0/24 $ipa"
vn_eq "192.168.50.0/24 $ipa" "$(vn_cat "$R/routes")" "routes reads back"
qr_a_dev=$(ip -n "$NS" -j route get "$ipa" | jq -r '.[0].dev')
vn_eq "$ipa $qr_a_dev 118" "$(ip -n "$NS" -j route show 192.168.50.0/24 | jq -r '.[] | "\(.gateway) \(.dev) \(.protocol)"')" \
	"the route is in $NS, via a, proto 118 (the daemon's own)"
vn_true "with the route: b reaches 192.168.50.1 behind a" can_ping hb 192.168.50.1
# an interface a route depends on cannot go
vn_t_bad EBUSY "$R/interfaces" sb 'route|192\.168\.50|sa'
vn_ok vn_w "$R/routes" ""
vn_eq "" "$(ip -n "$NS" -j route show 192.168.50.0/24 | jq -r '.[].dst')" "clearing routes removes the route"
vn_true "without the route: b cannot reach 192.168.50.1" cannot_ping hb 192.168.50.1
vn_ok vn_w "$R/routes" "192.168.50.0/24 $ipa"

# ---- rmdir EBUSY ------------------------------------------------------------------------------
vn_expect_fail EBUSY rmdir "$R"
vn_match 'interface' "$(vn_cat "$R/error")" "error says the router still has interfaces"
vn_true "the router namespace survived the EBUSY" bash -c "ip netns list | grep -qw -- '$NS'"
vn_expect_fail EBUSY rmdir "$M/networks/a/subnets/sa"
vn_expect_fail EBUSY rmdir "$M/networks/a"
vn_expect_fail EBUSY rmdir "$M/networks/a/ports/$qr_a"
vn_expect_fail EBUSY rmdir "$QG"
vn_expect_fail EBUSY rmdir "$M/networks/public"
vn_eq "$qr_a" "$(vn_ls "$M/networks/a/ports" | grep '^qr-')" "the leg port survived"
vn_true "a still pings b after the EBUSY attempts" can_ping ha "$ipb"
# a leg port is the router's, not the user's
vn_expect_fail ANY vn_w "$M/networks/a/ports/$qr_a/netns" /run/netns/hb
vn_eq "/run/netns/$NS" "$(vn_cat "$M/networks/a/ports/$qr_a/netns")" "the leg port stays bound in $NS"
vn_expect_fail ANY vn_w "$M/networks/a/ports/$qr_a/fixed_ips" "sa 10.0.1.9"
vn_eq "sa 10.0.1.1" "$(vn_cat "$M/networks/a/ports/$qr_a/fixed_ips")" "the leg port keeps the gateway address"

# ---- removing and re-adding an interface --------------------------------------------------------
vn_ok vn_a "$R/interfaces" se
vn_eq 3 "$(links "$NS" qr- | wc -l)" "three qr- legs with se"
vn_ok vn_w "$R/interfaces" "$(vn_lines sa sb)"
vn_eq "$(vn_lines sa sb)" "$(vn_cat "$R/interfaces")" "se removed by rewriting without it"
vn_eq "" "$(vn_ls "$M/networks/e/ports" | grep '^qr-')" "se's leg port is gone"
vn_eq 2 "$(links "$NS" qr- | wc -l)" "two qr- legs again"
vn_eq "$(vn_lines "10.0.1.0/24 $qg snat $gw" "10.0.2.0/24 $qg snat $gw")" "$(snat_rules "$NS")" "no SNAT rule left for se"
vn_ok rm -r "$M/networks/e"
vn_true "network e can be removed once off the router" test ! -e "$M/networks/e"

# ---- interfaces one at a time: only that interface's SNAT rule changes ----------------------
# (the table is changed in place: its handle stays, and so do the other
# rules' handles; a replace would make a new table)
snat_want() { for c in "$@"; do echo "$c $qg snat $gw"; done | LC_ALL=C sort; }
nat_exact() { # LABEL CIDR...
	local l=$1
	shift
	vn_eq "$(snat_want "$@")" "$(snat_rules "$NS")" "$l: SNAT rules exactly for $*"
	vn_eq "0 0 1" "$(nat_rule_count "$NS" prerouting) $(nat_rule_count "$NS" output) $(nat_rule_count "$NS" vnetfs_mark)" \
		"$l: no DNAT rules, one marker rule"
}
vn_eq 1 "$(ip netns exec "$NS" sysctl -n net.ipv6.conf.default.disable_ipv6)" "legs in $NS are made without IPv6"
for x in f:6 g:7 h:8 i:9; do mknet "${x%:*}" "s${x%:*}" "10.0.${x#*:}.0/24"; done
bind_host hf f hf
ipf=$(port_ip f hf)
th=$(nat_handle "$NS")
ha_rule=$(snat_handle "$NS" 10.0.1.0/24)
vn_match '^[0-9]+$' "$th" "the NAT table has a handle"
vn_match '^[0-9]+$' "$ha_rule" "sa's SNAT rule has a handle"
vn_true "before sf is on the router: f -> outside fails" cannot_ping hf "$ipo"
vn_ok vn_a "$R/interfaces" sf
nat_exact "sf added" 10.0.1.0/24 10.0.2.0/24 10.0.6.0/24
vn_eq "$th $ha_rule" "$(nat_handle "$NS") $(snat_handle "$NS" 10.0.1.0/24)" "sf added: the same table, sa's rule untouched"
vn_eq "$gw" "$(peer_seen ho hf "$ipo")" "sf added: the outside host sees gateway_ip for f"
vn_true "sf added: f pings a" can_ping hf "$ipa"
vn_ok vn_a "$R/interfaces" sg
vn_ok vn_a "$R/interfaces" sh
nat_exact "sg, sh added" 10.0.1.0/24 10.0.2.0/24 10.0.6.0/24 10.0.7.0/24 10.0.8.0/24
sf_rule=$(snat_handle "$NS" 10.0.6.0/24)
sh_rule=$(snat_handle "$NS" 10.0.8.0/24)
vn_ok vn_w "$R/interfaces" "$(vn_lines sa sb sf sh)"
nat_exact "sg (the middle one) removed" 10.0.1.0/24 10.0.2.0/24 10.0.6.0/24 10.0.8.0/24
vn_eq "$th $ha_rule $sf_rule $sh_rule" \
	"$(nat_handle "$NS") $(snat_handle "$NS" 10.0.1.0/24) $(snat_handle "$NS" 10.0.6.0/24) $(snat_handle "$NS" 10.0.8.0/24)" \
	"sg removed: the same table, the other rules untouched"
vn_eq 4 "$(links "$NS" qr- | wc -l)" "sg removed: four qr- legs"
vn_ok vn_w "$R/interfaces" "$(vn_lines sa sb sh si sg)"
nat_exact "sf removed and si, sg added in one write" 10.0.1.0/24 10.0.2.0/24 10.0.7.0/24 10.0.8.0/24 10.0.9.0/24
vn_true "sf removed: f -> outside fails again" cannot_ping hf "$ipo"
vn_eq "" "$(vn_ls "$M/networks/f/ports" | grep '^qr-' || true)" "sf removed: its leg port is gone"
handles_before=$(for c in 1 2 7 8 9; do snat_handle "$NS" "10.0.$c.0/24"; done | xargs)
vn_ok vn_w "$R/interfaces" "$(vn_lines sg si sh sb sa)"
vn_eq "$handles_before" "$(for c in 1 2 7 8 9; do snat_handle "$NS" "10.0.$c.0/24"; done | xargs)" \
	"the same interfaces in another order: no rule touched"
vn_eq "$th" "$(nat_handle "$NS")" "after all of that: still the same table"
vn_ok vn_a "$R/interfaces" sf
# (sf's new leg has a new MAC: f must not keep sending to the old one)
ip -n hf neigh flush all
nat_exact "sf back" 10.0.1.0/24 10.0.2.0/24 10.0.6.0/24 10.0.7.0/24 10.0.8.0/24 10.0.9.0/24
vn_eq "$gw" "$(peer_seen ho hf "$ipo")" "sf back: the outside host sees gateway_ip for f"
# a SIGKILL and a restart: the reconcile finds the table as its marker
# says and keeps it (same handle); then it is still changed exactly
vn_kill9
vn_start
vn_eq "$th" "$(nat_handle "$NS")" "after SIGKILL + restart: the table was kept, not replaced"
nat_exact "after SIGKILL + restart" 10.0.1.0/24 10.0.2.0/24 10.0.6.0/24 10.0.7.0/24 10.0.8.0/24 10.0.9.0/24
vn_eq "$gw" "$(peer_seen ho ha "$ipo")" "after restart: SNAT for a"
vn_ok vn_w "$R/interfaces" "$(vn_lines sa sb sh si sf)"
nat_exact "after restart, sg removed" 10.0.1.0/24 10.0.2.0/24 10.0.6.0/24 10.0.8.0/24 10.0.9.0/24
vn_ok vn_a "$R/interfaces" sg
nat_exact "after restart, sg added" 10.0.1.0/24 10.0.2.0/24 10.0.6.0/24 10.0.7.0/24 10.0.8.0/24 10.0.9.0/24
th=$(nat_handle "$NS")
vn_ok vn_w "$R/interfaces" "$(vn_lines sa sb)"
nat_exact "back to sa, sb" 10.0.1.0/24 10.0.2.0/24
vn_eq "$th" "$(nat_handle "$NS")" "back to sa, sb: the same table"
vn_eq 2 "$(links "$NS" qr- | wc -l)" "two qr- legs again"
vn_eq "$gw" "$(peer_seen ho hb "$ipo")" "SNAT for b after all the changes"
vn_ok rmdir "$M/networks/f/ports/hf"
ip netns del hf
for n in f g h i; do vn_ok rm -r "$M/networks/$n"; done

# ---- clearing and setting the gateway --------------------------------------------------------
vn_ok vn_w "$R/external_gateway" ""
vn_eq "" "$(vn_cat "$R/external_gateway")" "external_gateway cleared"
vn_eq "" "$(vn_cat "$R/gateway_ip")" "gateway_ip empty without a gateway"
vn_eq ho "$(vn_ls "$M/networks/public/ports")" "the qg port is gone from public"
vn_eq "" "$(links "$NS" qg-)" "the qg- veth is gone"
vn_eq "" "$(default_route "$NS")" "no default route without a gateway"
vn_eq "" "$(snat_rules "$NS")" "no SNAT rules without a gateway"
vn_true "a -> outside fails without a gateway" cannot_ping ha "$ipo"
vn_true "a -> b still routed without a gateway" can_ping ha "$ipb"
vn_ok vn_w "$R/external_gateway" public
gw=$(vn_cat "$R/gateway_ip")
qg=$(links "$NS" qg-)
vn_match '^172\.24\.4\.([2-9]|[1-9][0-9]+)$' "$gw" "a gateway_ip again"
vn_eq "$(vn_lines "10.0.1.0/24 $qg snat $gw" "10.0.2.0/24 $qg snat $gw")" "$(snat_rules "$NS")" "SNAT rules back with the gateway"
vn_eq "$gw" "$(peer_seen ho ha "$ipo")" "SNAT works again"

# ---- rm -r routers/r -------------------------------------------------------------------------
legs="$(vn_cat "$M/networks/a/ports/$qr_a/device") $(vn_cat "$M/networks/b/ports/$qr_b/device") $(vn_cat "$M/networks/public/ports/$(vn_ls "$M/networks/public/ports" | grep '^qg-')/device")"
# the hosts' veths, and those of the networks' DHCP ports (ns- in qdhcp-*)
hostdevs=$(for p in a/ports/ha b/ports/hb public/ports/ho; do vn_cat "$M/networks/$p/device"; echo; done
	for p in "$M"/networks/*/ports/dhcp; do vn_cat "$p/device"; echo; done)
hostdevs=$(sed '/^$/d' <<<"$hostdevs" | LC_ALL=C sort)
vn_eq 3 "$(wc -w <<<"$legs")" "three leg devices before rm -r"
vn_ok rm -r "$R"
if [ -e "$R" ]; then
	echo "# rm -r failed; clearing routes and trying again so the checks below still mean something" >&2
	vn_w "$R/routes" "" || true
	rm -r "$R" || true
fi
vn_true "routers/r is gone" test ! -e "$R"
vn_eq "" "$(vn_ls "$M/routers")" "routers/ is empty"
vn_eq "" "$(ip netns list | awk '{print $1}' | grep '^qrouter-' || true)" "no qrouter- namespace left in ip netns"
vn_true "/run/netns/$NS is gone" test ! -e "/run/netns/$NS"
for l in $legs; do
	vn_eq absent "$(vn_link_kind "$l")" "leg veth $l is gone from $VN_NS"
done
vn_eq "$hostdevs" "$(links "$VN_NS" vnp-)" "only the hosts' and the DHCP ports' veths are left in $VN_NS"
vn_eq "" "$(vn_ls "$M/networks/a/ports" | grep -v -e '^ha$' -e '^dhcp$' || true)" "no leg port left on a"
vn_eq "" "$(vn_ls "$M/networks/b/ports" | grep -v -e '^hb$' -e '^dhcp$' || true)" "no leg port left on b"
vn_eq ho "$(vn_ls "$M/networks/public/ports")" "no leg port left on public"
vn_true "a cannot reach b any more" cannot_ping ha "$ipb"
vn_eq "" "$(nft list ruleset)" "nothing in nft in the test's netns"
vn_eq "" "$(foreign_nft)" "nothing in nft in $VN_NS but the security groups' tables"

# ---- and the rest goes too ---------------------------------------------------------------------
for p in a/ports/ha b/ports/hb public/ports/ho; do vn_ok rmdir "$M/networks/$p"; done
for n in a b c d; do
	vn_ok rm -r "$M/networks/$n"
	if [ -e "$M/networks/$n" ]; then
		rmdir "$M/networks/$n"/subnets/* "$M/networks/$n" || true
	fi
done
vn_eq "" "$(links "$VN_NS" vnp-)" "no vnp- link left in $VN_NS"
vn_eq "public" "$(vn_ls "$M/networks")" "only public is left"
vn_eq "$(vn_lines ha hb ho "$VN_NS")" "$(ip netns list | awk '{print $1}' | LC_ALL=C sort)" "ip netns: only the test's own namespaces"

vn_done
