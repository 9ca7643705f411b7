#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The object graph end to end: rmdir of what a router uses is EBUSY and
# `error` names the referrer in one exact sentence; addresses are
# allocated lowest-free from the incremental per-subnet index (a released
# address is reused first); MACs are unique per network from the index; a
# subnet's deletion releases ports' addresses through the write path
# (persisted: still so after a restart); a router leg's typed owner is
# persisted as "_owner" and an old store with device_owner only gets it
# derived on load; an external network's bridge follows its subnets by
# propagation.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
command -v sqlite3 >/dev/null || vn__skip "sqlite3 (the CLI) is missing"
vn_start
M=$VN_MNT
db() { sqlite3 "$VN_STATE/vnetfs.db" "$@"; }

mkdir "$M/networks/n" "$M/networks/n/subnets/s1" "$M/networks/n/subnets/s2"
# No DHCP: the allocation order below is IPAM's alone (a DHCP port would
# take the first address; tests/system/dhcp.sh checks that).
vn_ok vn_w "$M/networks/n/subnets/s1/enable_dhcp" 0
vn_ok vn_w "$M/networks/n/subnets/s2/enable_dhcp" 0
vn_ok vn_w "$M/networks/n/subnets/s1/cidr" 10.50.1.0/24
vn_ok vn_w "$M/networks/n/subnets/s2/cidr" 10.50.2.0/24
P=$M/networks/n/ports

# ---- allocation: lowest free, a released address first -----------------------------------
mkdir "$P/p1" "$P/p2" "$P/p3"
vn_eq "s1 10.50.1.2" "$(vn_cat "$P/p1/fixed_ips")" "p1 gets the first pool address"
vn_eq "s1 10.50.1.3" "$(vn_cat "$P/p2/fixed_ips")" "p2 the next"
vn_eq "s1 10.50.1.4" "$(vn_cat "$P/p3/fixed_ips")" "p3 the next"
rmdir "$P/p2"
mkdir "$P/p4"
vn_eq "s1 10.50.1.3" "$(vn_cat "$P/p4/fixed_ips")" "p4 gets p2's released address"
mkdir "$P/p5"
vn_eq "s1 10.50.1.5" "$(vn_cat "$P/p5/fixed_ips")" "p5 the next after the others"
vn_expect_fail EADDRINUSE vn_w "$P/p5/fixed_ips" "s1 10.50.1.2"
vn_match "10\.50\.1\.2 is already used on subnet 's1'" "$(vn_cat "$P/p5/error")" "error names the address"
vn_eq "s1 10.50.1.5" "$(vn_cat "$P/p5/fixed_ips")" "p5 keeps its address after the EADDRINUSE"
vn_ok vn_w "$P/p5/fixed_ips" "$(vn_lines "s2 10.50.2.9" s1)"
vn_eq "$(vn_lines "s2 10.50.2.9" "s1 10.50.1.5")" "$(vn_cat "$P/p5/fixed_ips")" \
	"a rewrite allocates again, lowest free (its own old address)"

# the allocation's starting point is only good for the pools it was made for
vn_ok vn_w "$M/networks/n/subnets/s1/allocation_pools" 10.50.1.100-10.50.1.110
mkdir "$P/p6"
vn_eq "s1 10.50.1.100" "$(vn_cat "$P/p6/fixed_ips")" "p6 gets the first address of the new pool"
vn_ok vn_w "$M/networks/n/subnets/s1/allocation_pools" ""
mkdir "$P/p7"
vn_eq "s1 10.50.1.6" "$(vn_cat "$P/p7/fixed_ips")" "back to the default pool: p7 gets the lowest free address"

# ---- MACs: unique per network ---------------------------------------------------------------
mac1=$(vn_cat "$P/p1/mac_address")
vn_expect_fail EADDRINUSE vn_w "$P/p3/mac_address" "$mac1"
vn_eq "mac_address $mac1 is used by port 'p1'" "$(vn_cat "$P/p3/error")" "error names the port holding the MAC"
vn_ok vn_w "$P/p3/mac_address" fa:16:3e:50:50:50
vn_ok vn_w "$P/p1/mac_address" fa:16:3e:50:50:51
vn_ok vn_w "$P/p4/mac_address" "$mac1"
vn_eq "$mac1" "$(vn_cat "$P/p4/mac_address")" "p1's old MAC is free again"

# ---- a router: generic busy, typed owner -----------------------------------------------------
mkdir "$M/routers/r1"
vn_ok vn_a "$M/routers/r1/interfaces" s2
leg=$(vn_ls "$P" | grep '^qr-')
vn_eq "router_interface:r1" "$(vn_cat "$P/$leg/device_owner")" "the leg's device_owner (what users read)"
leg_id=$(vn_cat "$P/$leg/id")
r1_id=$(vn_cat "$M/routers/r1/id")
vn_eq "$r1_id interface" "$(db "SELECT json_extract(doc, '\$.props._owner.id') || ' ' || json_extract(doc, '\$.props._owner.role') FROM objects WHERE id = '$leg_id'")" \
	"the leg's typed owner is persisted"
vn_expect_fail EBUSY rmdir "$M/networks/n/subnets/s2"
vn_eq "subnet s2 is used by router r1 (interface)" "$(vn_cat "$M/networks/n/subnets/s2/error")" \
	"rmdir's error names the router, exactly"
vn_expect_fail EBUSY rmdir "$M/networks/n"
vn_eq "subnet s2 is used by router r1 (interface)" "$(vn_cat "$M/networks/n/error")" \
	"rmdir of the network: the same sentence"
vn_ok vn_w "$M/routers/r1/external_gateway" public
vn_expect_fail EBUSY rmdir "$M/networks/public"
vn_eq "network public is used by router r1 (gateway)" "$(vn_cat "$M/networks/public/error")" \
	"rmdir of the router's external network names it"

# ---- an old store: device_owner only -> the owner is derived on load ---------------------------
vn_stop
db "UPDATE objects SET doc = json_remove(doc, '\$.props._owner') WHERE id = '$leg_id'"
vn_eq "" "$(db "SELECT json_extract(doc, '\$.props._owner') FROM objects WHERE id = '$leg_id'")" "the store has no _owner now"
vn_start
vn_expect_fail EBUSY rmdir "$P/$leg"
vn_match "router 'r1''s interface" "$(vn_cat "$P/$leg/error")" "after the load the leg is still r1's"
vn_ok vn_w "$M/routers/r1/interfaces" ""
vn_eq "" "$(vn_ls "$P" | grep '^qr-' || true)" "emptying interfaces drops the leg found through the derived owner"
vn_ok vn_w "$M/routers/r1/external_gateway" ""
rmdir "$M/routers/r1"

# ---- a subnet's deletion releases addresses through the write path ----------------------------
vn_ok rmdir "$M/networks/n/subnets/s2"
vn_eq "s1 10.50.1.5" "$(vn_cat "$P/p5/fixed_ips")" "p5 lost its s2 address"
vn_restart
vn_eq "s1 10.50.1.5" "$(vn_cat "$P/p5/fixed_ips")" "... and that was persisted"
vn_ok rmdir "$M/networks/n/subnets/s1"
vn_eq "" "$(vn_cat "$P/p5/fixed_ips")" "p5 has no address left"
vn_eq "" "$(vn_cat "$P/p1/fixed_ips")" "p1 neither"

# ---- propagation: an external bridge follows its subnets -------------------------------------
br=$(vn_cat "$M/networks/public/bridge")
mkdir "$M/networks/public/subnets/pub2"
vn_ok vn_w "$M/networks/public/subnets/pub2/cidr" 172.31.9.0/24
vn_eq "$(vn_lines 172.24.4.1/24 172.31.9.1/24)" "$(vn_link_addrs "$br" | LC_ALL=C sort)" "the bridge gets pub2's gateway"
vn_ok vn_w "$M/networks/public/subnets/pub2/gateway_ip" 172.31.9.254
vn_eq "$(vn_lines 172.24.4.1/24 172.31.9.254/24)" "$(vn_link_addrs "$br" | LC_ALL=C sort)" "... and follows its gateway_ip"
vn_ok rmdir "$M/networks/public/subnets/pub2"
vn_eq "172.24.4.1/24" "$(vn_link_addrs "$br")" "... and drops it with the subnet"
vn_done
