#!/bin/bash
# SPDX-License-Identifier: MIT
# networks/NET/ports/: ports made by mkdir (generated MAC, fixed_ips from
# IPAM, the read-only files), fixed_ips and mac_address writes and their
# errors, binding a port to a network namespace by /run/netns/NAME and by
# /proc/PID/ns/net (veth on the network's bridge, name, MAC, MTU, and with
# ipconfig=static the address and default route), rebinding, ifname changes,
# unbinding, rmdir of a bound port, rmdir EBUSY of what a bound port uses,
# and two bound hosts pinging each other.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../netlib.sh"
vn_sandbox "$@"
vn_start

M=$VN_MNT



# ifnames NS: the links in NS except lo, sorted
ifnames() {
	ip -n "$1" -j link show | jq -r '.[].ifname | select(. != "lo")' | LC_ALL=C sort
}
# core_vnp: our port veths (vnp-*) in the daemon's netns, sorted
core_vnp() {
	ip -n "$VN_NS" -j link show | jq -r '.[].ifname | select(startswith("vnp-"))' | LC_ALL=C sort
}
link_mac() {
	vn_link_json "$1" "${2:-}" | jq -r '.[0].address'
}
link_master() {
	vn_link_json "$1" "${2:-}" | jq -r '.[0].master // "none"'
}

# ---- a network with one subnet ------------------------------------------------
N=$M/networks/a
vn_ok mkdir "$N"
vn_ok mkdir "$N/subnets/sa"
# No DHCP here: this test checks IPAM's exact order and the exact set of
# vnp- links, which a DHCP port (tests/system/dhcp.sh) would join.
vn_ok vn_w "$N/subnets/sa/enable_dhcp" 0
vn_ok vn_w "$N/subnets/sa/cidr" 10.0.1.0/24
vn_ok vn_w "$N/mtu" 1450
br=$(vn_cat "$N/bridge")
vn_eq "" "$(vn_ls "$N/ports")" "a new network has no ports"

# ---- mkdir: defaults ----------------------------------------------------------
P1=$N/ports/p1
P2=$N/ports/p2
vn_ok mkdir "$P1"
vn_ok mkdir "$P2"
vn_eq "$(vn_lines device device_owner error fixed_ips id ifname ipconfig json mac_address netns port_security_enabled security_groups status)" \
	"$(vn_ls "$P1")" "a port's files"
vn_match "$UUID_RE" "$(vn_cat "$P1/id")" "port id is a UUID"
vn_match "$MAC_RE" "$(vn_cat "$P1/mac_address")" "p1 mac_address is generated, fa:16:3e:xx:xx:xx"
vn_match "$MAC_RE" "$(vn_cat "$P2/mac_address")" "p2 mac_address is generated, fa:16:3e:xx:xx:xx"
vn_ne "$(vn_cat "$P1/mac_address")" "$(vn_cat "$P2/mac_address")" "generated MACs differ"
vn_eq "sa 10.0.1.2" "$(vn_cat "$P1/fixed_ips")" "p1 fixed_ips: first free address of the first subnet"
vn_eq "sa 10.0.1.3" "$(vn_cat "$P2/fixed_ips")" "p2 fixed_ips: the next one"
vn_eq "" "$(vn_cat "$P1/device_owner")" "device_owner of a mkdir'd port is empty"
vn_eq "" "$(vn_cat "$P1/device")" "device is empty while unbound"
vn_eq default "$(vn_cat "$P1/security_groups")" "security_groups default"
vn_eq "" "$(vn_cat "$P1/netns")" "netns is empty while unbound"
vn_eq eth0 "$(vn_cat "$P1/ifname")" "ifname default"
vn_eq dhcp "$(vn_cat "$P1/ipconfig")" "ipconfig default"
vn_eq DOWN "$(vn_cat "$P1/status")" "an unbound port is DOWN"
vn_eq "" "$(vn_cat "$P1/error")" "error empty"
vn_eq "p1 a 10.0.1.2 $(vn_cat "$P1/mac_address")" \
	"$(vn_json_get "$P1/json" '"\(.name) \(.network) \(.fixed_ips | join(",") | split(" ")[1]) \(.mac_address)"')" \
	"json carries name, network, fixed_ips and mac_address"
vn_eq "444 444 644" "$(stat -c %a "$P1/device_owner" "$P1/device" "$P1/mac_address" | xargs)" "device_owner and device are read-only, mac_address writable"
vn_expect_fail ANY vn_w "$P1/device" vnp-x
vn_expect_fail ANY vn_w "$P1/device_owner" "router_interface:x"

# ---- fixed_ips writes -----------------------------------------------------------
vn_ok vn_w "$P1/fixed_ips" "sa 10.0.1.50"
vn_eq "sa 10.0.1.50" "$(vn_cat "$P1/fixed_ips")" "p1 took the requested 10.0.1.50"
vn_ok vn_w "$P1/fixed_ips" "sa 10.0.1.50"
vn_eq "sa 10.0.1.50" "$(vn_cat "$P1/fixed_ips")" "rewriting the same value is a no-op"
vn_t_bad EADDRINUSE "$P2/fixed_ips" "sa 10.0.1.50" '10\.0\.1\.50'
vn_t_bad EINVAL "$P2/fixed_ips" "sa 10.0.2.50" '10\.0\.2\.50'
vn_t_bad EINVAL "$P2/fixed_ips" "sa 10.0.1.1" 'gateway'
vn_t_bad EINVAL "$P2/fixed_ips" "sa 10.0.1.255" '10\.0\.1\.255'
vn_t_bad EINVAL "$P2/fixed_ips" "sa not-an-address" 'not-an-address'
vn_t_bad ENOENT "$P2/fixed_ips" "nosuch 10.0.1.9" 'nosuch'
vn_ok vn_w "$P2/fixed_ips" "sa"
p2ip=$(vn_cat "$P2/fixed_ips")
vn_match '^sa 10\.0\.1\.([2-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-4])$' "$p2ip" "'sa' alone allocates an address on sa"
vn_ne "sa 10.0.1.50" "$p2ip" "the allocated address is not p1's"
vn_eq "" "$(vn_cat "$P2/error")" "a successful write clears error"
vn_ok vn_w "$P2/fixed_ips" "sa 10.0.1.60"
vn_eq "sa 10.0.1.60" "$(vn_cat "$P2/fixed_ips")" "p2 moved to 10.0.1.60"
# the address p1 gave up is free again
vn_ok vn_w "$P1/fixed_ips" "sa 10.0.1.2"
vn_eq "sa 10.0.1.2" "$(vn_cat "$P1/fixed_ips")" "p1 back on 10.0.1.2"

# ---- mac_address writes ---------------------------------------------------------
vn_t_bad EADDRINUSE "$P2/mac_address" "$(vn_cat "$P1/mac_address")" 'p1|in use|used'
vn_t_bad EINVAL "$P2/mac_address" "zz:zz" 'zz:zz'
vn_t_bad EINVAL "$P2/mac_address" "01:00:5e:00:00:01" '01:00:5e:00:00:01'
vn_ok vn_w "$P2/mac_address" "fa:16:3e:00:00:02"
vn_eq "fa:16:3e:00:00:02" "$(vn_cat "$P2/mac_address")" "p2 mac_address changed while unbound"
vn_ok vn_w "$P1/mac_address" "FA:16:3E:00:00:01"
vn_eq "fa:16:3e:00:00:01" "$(vn_cat "$P1/mac_address")" "mac_address reads back normalized to lower case"
vn_t_bad EINVAL "$P1/ipconfig" bogus 'bogus'

# ---- binding to /run/netns/NAME, static -------------------------------------------
vn_host h1
vn_host h2
vn_t_bad ENOENT "$P1/netns" /run/netns/nosuch 'nosuch'
vn_eq DOWN "$(vn_cat "$P1/status")" "still DOWN after the failed bind"
vn_eq "" "$(core_vnp)" "no vnp- link left by the failed bind"
vn_ok vn_w "$P1/ipconfig" static
vn_ok vn_w "$P1/netns" /run/netns/h1
vn_eq /run/netns/h1 "$(vn_cat "$P1/netns")" "p1 netns reads back"
vn_eq ACTIVE "$(vn_cat "$P1/status")" "a bound port is ACTIVE"
dev1=$(vn_cat "$P1/device")
vn_match '^vnp-[0-9a-f]{11}$' "$dev1" "device is the host veth vnp-<11 hex>"
vn_eq veth "$(vn_link_kind "$dev1")" "$dev1 is a veth in $VN_NS"
vn_eq "$br" "$(link_master "$dev1")" "$dev1 is plugged into network a's bridge"
vn_eq up "$(vn_link_admin "$dev1")" "$dev1 is up"
vn_eq eth0 "$(ifnames h1)" "h1 has exactly eth0"
vn_eq veth "$(vn_link_kind eth0 h1)" "h1 eth0 is the veth peer"
vn_eq fa:16:3e:00:00:01 "$(link_mac eth0 h1)" "h1 eth0 has the port's MAC"
vn_eq 1450 "$(vn_link_mtu eth0 h1)" "h1 eth0 has the network's mtu"
vn_eq up "$(vn_link_admin eth0 h1)" "h1 eth0 is up"
vn_eq 10.0.1.2/24 "$(vn_link_addrs eth0 h1)" "static: h1 eth0 carries the fixed IP/prefix"
vn_eq "10.0.1.1 eth0 118" "$(default_route h1)" "static: default route via the subnet gateway, proto 118 (the daemon's own)"
vn_ok vn_w "$N/mtu" 1400
vn_eq 1400 "$(vn_link_mtu eth0 h1)" "the bound interface follows a network mtu change"
vn_eq 1400 "$(vn_link_mtu "$dev1")" "so does the host veth"
vn_eq "$dev1 ACTIVE /run/netns/h1" "$(vn_json_get "$P1/json" '"\(.device) \(.status) \(.netns)"')" "json shows the binding"

# ---- what a bound port forbids ------------------------------------------------------
vn_t_bad EBUSY "$P1/mac_address" "fa:16:3e:00:00:09" 'unbind|bound'
vn_eq fa:16:3e:00:00:01 "$(link_mac eth0 h1)" "h1 eth0 MAC unchanged after the EBUSY"
vn_expect_fail EBUSY rmdir "$N/subnets/sa"
vn_true "subnet sa still exists" test -d "$N/subnets/sa"
vn_expect_fail EBUSY rmdir "$N"
vn_true "network a still exists" test -d "$N"

# ---- EEXIST: the interface name is taken in the target namespace --------------------
ip -n h2 link add eth0 type veth peer name eth0-peer
vn_t_bad EEXIST "$P1/netns" /run/netns/h2 'eth0|exists'
vn_eq "eth0 10.0.1.2/24" "$(ifnames h1) $(vn_link_addrs eth0 h1)" "p1 still bound in h1 after the EEXIST"
vn_eq "$dev1" "$(vn_cat "$P1/device")" "device unchanged after the EEXIST"
ip -n h2 link del eth0

# ---- rebind to another namespace ----------------------------------------------------
vn_ok vn_w "$P1/netns" /run/netns/h2
vn_eq "" "$(ifnames h1)" "rebinding removed eth0 from h1"
vn_eq eth0 "$(ifnames h2)" "h2 has eth0"
vn_eq 10.0.1.2/24 "$(vn_link_addrs eth0 h2)" "h2 eth0 carries the fixed IP"
vn_eq "10.0.1.1 eth0 118" "$(default_route h2)" "h2 default route via the gateway"
vn_eq fa:16:3e:00:00:01 "$(link_mac eth0 h2)" "h2 eth0 has the port's MAC"
dev1b=$(vn_cat "$P1/device")
vn_eq "$dev1b" "$(core_vnp)" "exactly one vnp- link in $VN_NS after the rebind"
vn_eq "$br" "$(link_master "$dev1b")" "the new host veth is on the bridge"

# ---- ifname ----------------------------------------------------------------------------
vn_ok vn_w "$P1/ifname" net1
vn_eq net1 "$(vn_cat "$P1/ifname")" "ifname reads back"
vn_eq net1 "$(ifnames h2)" "h2's interface renamed to net1"
vn_eq 10.0.1.2/24 "$(vn_link_addrs net1 h2)" "net1 keeps the address"
vn_eq "10.0.1.1 net1 118" "$(default_route h2)" "the default route follows the rename"
vn_t_bad EINVAL "$P1/ifname" "this-name-is-too-long" 'this-name-is-too-long|15|long'
vn_t_bad EINVAL "$P1/ifname" "a/b" 'a/b'

# ---- fixed_ips change while bound reaches the interface --------------------------------
vn_ok vn_w "$P1/fixed_ips" "sa 10.0.1.77"
vn_eq 10.0.1.77/24 "$(vn_link_addrs net1 h2)" "a fixed_ips change while bound moves the address"

# ---- unbind ---------------------------------------------------------------------------
vn_ok vn_w "$P1/netns" ""
vn_eq "" "$(vn_cat "$P1/netns")" "netns empty after unbind"
vn_eq "" "$(vn_cat "$P1/device")" "device empty after unbind"
vn_eq DOWN "$(vn_cat "$P1/status")" "DOWN after unbind"
vn_eq "" "$(ifnames h2)" "unbind removed net1 from h2"
vn_eq "" "$(core_vnp)" "unbind removed the host veth"
vn_ok vn_w "$P1/netns" ""
vn_eq DOWN "$(vn_cat "$P1/status")" "unbinding an unbound port is a no-op"
vn_ok vn_w "$P1/mac_address" "fa:16:3e:00:00:03"
vn_eq fa:16:3e:00:00:03 "$(vn_cat "$P1/mac_address")" "mac_address writable again once unbound"
vn_ok rmdir "$P2"
vn_true "p2 removed" test ! -e "$P2"

# ---- dhcp (the default): no address configured in the namespace ------------------------
vn_ok vn_w "$P1/ifname" eth0
vn_ok vn_w "$P1/ipconfig" dhcp
vn_ok vn_w "$P1/netns" /run/netns/h1
vn_eq eth0 "$(ifnames h1)" "dhcp: h1 has eth0"
vn_eq fa:16:3e:00:00:03 "$(link_mac eth0 h1)" "dhcp: h1 eth0 has the port's MAC"
vn_eq "" "$(ip -n h1 -j -4 addr show dev eth0 | jq -r '(.[0].addr_info // [])[].local')" "dhcp: no IPv4 address configured by the daemon"
vn_eq "" "$(default_route h1)" "dhcp: no default route configured by the daemon"
vn_ok vn_w "$P1/netns" ""

# ---- binding to /proc/PID/ns/net ---------------------------------------------------------
unshare -n sleep 300 &
nspid=$!
for _ in $(seq 50); do
	[ "$(readlink /proc/$nspid/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.1
done
vn_ne "$(readlink /proc/self/ns/net)" "$(readlink /proc/$nspid/ns/net)" "the sleeper runs in its own netns"
vn_ok vn_w "$P1/ipconfig" static
vn_ok vn_w "$P1/netns" "/proc/$nspid/ns/net"
vn_eq "/proc/$nspid/ns/net" "$(vn_cat "$P1/netns")" "netns reads back the /proc path"
vn_eq ACTIVE "$(vn_cat "$P1/status")" "bound by /proc path: ACTIVE"
vn_eq "eth0 10.0.1.77/24" \
	"$(nsenter -t "$nspid" -n ip -j addr show dev eth0 | jq -r '.[0] | "\(.ifname) \(.addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)")"')" \
	"the process's namespace has eth0 with the fixed IP"
vn_eq "10.0.1.1 eth0 118" "$(nsenter -t "$nspid" -n ip -j route show default | jq -r '.[] | "\(.gateway) \(.dev) \(.protocol)"')" \
	"the process's namespace has the default route"
vn_eq "$(vn_cat "$P1/device")" "$(core_vnp)" "one host veth for the /proc binding"
vn_ok vn_w "$P1/netns" ""
vn_eq "" "$(nsenter -t "$nspid" -n ip -j link show | jq -r '.[].ifname | select(. != "lo")')" "unbind removed eth0 from the process's namespace"
kill "$nspid"
wait "$nspid" 2>/dev/null || true
vn_t_bad ENOENT "$P1/netns" "/proc/$nspid/ns/net" "$nspid"
vn_eq "" "$(core_vnp)" "no vnp- link after binding to a dead process failed"

# ---- rmdir of a bound port -------------------------------------------------------------
vn_ok vn_w "$P1/netns" /run/netns/h1
dev=$(vn_cat "$P1/device")
vn_true "$dev exists before rmdir" vn_link_exists "$dev"
vn_ok rmdir "$P1"
vn_true "p1 is gone" test ! -e "$P1"
vn_eq absent "$(vn_link_kind "$dev")" "rmdir of a bound port removed $dev"
vn_eq "" "$(ifnames h1)" "rmdir of a bound port removed eth0 from h1"
vn_eq "" "$(core_vnp)" "no vnp- link left"

# ---- two hosts on one network ping each other -------------------------------------------
vn_host h3
vn_host h4
for h in h3 h4; do
	vn_ok mkdir "$N/ports/$h"
	vn_ok vn_w "$N/ports/$h/ipconfig" static
	vn_ok vn_w "$N/ports/$h/netns" "/run/netns/$h"
done
ip3=$(vn_cat "$N/ports/h3/fixed_ips" | awk '{print $2}')
ip4=$(vn_cat "$N/ports/h4/fixed_ips" | awk '{print $2}')
vn_eq "$ip3/24" "$(vn_link_addrs eth0 h3)" "h3 has its fixed IP"
vn_eq "$ip4/24" "$(vn_link_addrs eth0 h4)" "h4 has its fixed IP"
vn_true "h3 pings h4 ($ip4)" ip netns exec h3 ping -c1 -W2 "$ip4"
vn_true "h4 pings h3 ($ip3)" ip netns exec h4 ping -c1 -W2 "$ip3"
vn_eq "$(vn_cat "$N/ports/h4/mac_address")" \
	"$(ip -n h3 -j neigh show "$ip4" | jq -r '.[0].lladdr')" "h3 learned h4's port MAC"
# and they stop when one side is unbound
vn_ok vn_w "$N/ports/h4/netns" ""
vn_expect_fail ANY ip netns exec h3 ping -c1 -W1 "$ip4"

# ---- rm -r of the network tears down everything ------------------------------------------
vn_expect_fail EBUSY rmdir "$N"
vn_ok vn_w "$N/ports/h3/netns" ""
# a port alone: unlinking its attributes resets them, then rmdir deletes it
vn_ok rm -r "$N/ports/h4"
vn_true "rm -r removed port h4" test ! -e "$N/ports/h4"
vn_ok rm -r "$N"
vn_true "network a is gone" test ! -e "$N"
if [ -e "$N" ]; then
	# so that the checks below still say something about the teardown
	echo "# rm -r failed; removing network a one rmdir at a time" >&2
	for p in "$N"/ports/*; do [ -d "$p" ] && vn_ok rmdir "$p"; done
	vn_ok rmdir "$N/subnets/sa"
	vn_ok rmdir "$N"
fi
vn_eq "" "$(core_vnp)" "no vnp- link left"
vn_eq absent "$(vn_link_kind "$br")" "a's bridge is gone"

vn_done
