#!/bin/bash
# SPDX-License-Identifier: MIT
# networks/NET/subnets/SUB: cidr validation, derived defaults (gateway_ip,
# allocation_pools, ip_version), gateway none, pool validation, list files
# (dns_nameservers, host_routes) with >>, overlap on one network, names
# unique across the tree, IPv6.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
vn_start

M=$VN_MNT
vn_ok mkdir "$M/networks/a"
vn_ok mkdir "$M/networks/b"
S=$M/networks/a/subnets/s1
vn_ok mkdir "$S"
for f in id status error json cidr gateway_ip enable_dhcp allocation_pools dns_nameservers host_routes ip_version; do
	vn_true "s1/$f is a regular file" test -f "$S/$f"
done
vn_eq "" "$(vn_cat "$S/cidr")" "a new subnet has no cidr yet"

# ---- cidr validation ----------------------------------------------------------
for bad in garbage 10.0.0.0/33 300.0.0.0/24 10.0.0.0/-1 "10.0.0.0/24 10.0.1.0/24" 10.0.0/24 fd00::/129 "10.0.0.0/24x"; do
	vn_expect_fail EINVAL vn_w "$S/cidr" "$bad"
	vn_eq "" "$(vn_cat "$S/cidr")" "cidr still unset after writing '$bad'"
done
vn_ne "" "$(vn_cat "$S/error")" "error explains the rejected cidr"
vn_ok vn_w "$S/cidr" 10.0.0.0/24
vn_eq "" "$(vn_cat "$S/error")" "error cleared by a good write"
vn_eq 10.0.0.0/24 "$(vn_cat "$S/cidr")" "cidr reads back"

# ---- defaults ------------------------------------------------------------------
vn_eq 10.0.0.1 "$(vn_cat "$S/gateway_ip")" "gateway_ip defaults to the first host"
vn_eq 10.0.0.2-10.0.0.254 "$(vn_cat "$S/allocation_pools")" "allocation_pools default: hosts minus gateway"
vn_eq 4 "$(vn_cat "$S/ip_version")" "ip_version 4"
vn_eq 1 "$(vn_cat "$S/enable_dhcp")" "enable_dhcp defaults to 1"
vn_eq "" "$(vn_cat "$S/dns_nameservers")" "dns_nameservers empty by default"
vn_eq "" "$(vn_cat "$S/host_routes")" "host_routes empty by default"
vn_eq ACTIVE "$(vn_cat "$S/status")" "subnet status"
vn_expect_fail ANY vn_w "$S/ip_version" 6
vn_eq 4 "$(vn_cat "$S/ip_version")" "ip_version is read-only"

# ---- gateway_ip ------------------------------------------------------------------
vn_ok vn_w "$S/gateway_ip" 10.0.0.254
vn_eq 10.0.0.254 "$(vn_cat "$S/gateway_ip")" "gateway_ip set to the last host"
vn_eq 10.0.0.1-10.0.0.253 "$(vn_cat "$S/allocation_pools")" "default pools follow the gateway (last host)"
vn_ok vn_w "$S/gateway_ip" 10.0.0.100
vn_eq "10.0.0.1-10.0.0.99
10.0.0.101-10.0.0.254" "$(vn_cat "$S/allocation_pools")" "default pools split around a gateway in the middle"
vn_ok vn_w "$S/gateway_ip" none
vn_eq none "$(vn_cat "$S/gateway_ip")" "gateway_ip none"
vn_eq 10.0.0.1-10.0.0.254 "$(vn_cat "$S/allocation_pools")" "without gateway the pool is every host"
for bad in 10.0.1.1 10.0.0.0 10.0.0.255 notanip 10.0.0.256 fd00::1; do
	vn_expect_fail EINVAL vn_w "$S/gateway_ip" "$bad"
done
vn_eq none "$(vn_cat "$S/gateway_ip")" "gateway_ip unchanged after bad writes"
vn_ok rm "$S/gateway_ip"
vn_eq 10.0.0.1 "$(vn_cat "$S/gateway_ip")" "unlink resets gateway_ip to its default"
vn_eq 10.0.0.2-10.0.0.254 "$(vn_cat "$S/allocation_pools")" "pools back to the default"

# ---- enable_dhcp -------------------------------------------------------------------
vn_ok vn_w "$S/enable_dhcp" 0
vn_eq 0 "$(vn_cat "$S/enable_dhcp")" "enable_dhcp 0"
vn_expect_fail EINVAL vn_w "$S/enable_dhcp" maybe
vn_eq 0 "$(vn_cat "$S/enable_dhcp")" "enable_dhcp unchanged by bad write"
vn_ok vn_w "$S/enable_dhcp" 1

# ---- allocation_pools validation ---------------------------------------------------
vn_ok vn_w "$S/allocation_pools" 10.0.0.10-10.0.0.20
vn_eq 10.0.0.10-10.0.0.20 "$(vn_cat "$S/allocation_pools")" "one explicit pool"
vn_ok vn_a "$S/allocation_pools" 10.0.0.100-10.0.0.200
vn_eq "10.0.0.10-10.0.0.20
10.0.0.100-10.0.0.200" "$(vn_cat "$S/allocation_pools")" ">> appends a pool"
for bad in 10.1.0.2-10.1.0.10 10.0.0.20-10.0.0.10 10.0.0.2 10.0.0.2-x 10.0.0.0-10.0.0.10 10.0.0.250-10.0.0.255 10.0.0.1-10.0.0.9; do
	vn_expect_fail EINVAL vn_w "$S/allocation_pools" "$bad"
done
vn_expect_fail EINVAL vn_a "$S/allocation_pools" 10.0.0.15-10.0.0.30
vn_eq "10.0.0.10-10.0.0.20
10.0.0.100-10.0.0.200" "$(vn_cat "$S/allocation_pools")" "pools unchanged after bad writes (outside, reversed, malformed, network/broadcast, gateway, overlap)"
vn_ok vn_w "$S/allocation_pools" "$(printf '10.0.0.2-10.0.0.50\n10.0.0.60-10.0.0.70')"
vn_eq "10.0.0.2-10.0.0.50
10.0.0.60-10.0.0.70" "$(vn_cat "$S/allocation_pools")" "a two-line write replaces the list"
vn_ok rm "$S/allocation_pools"
vn_eq 10.0.0.2-10.0.0.254 "$(vn_cat "$S/allocation_pools")" "unlink resets pools to the default"

# ---- dns_nameservers ---------------------------------------------------------------
vn_ok vn_w "$S/dns_nameservers" 8.8.8.8
vn_ok vn_a "$S/dns_nameservers" 1.1.1.1
vn_ok vn_a "$S/dns_nameservers" 9.9.9.9
vn_eq "8.8.8.8
1.1.1.1
9.9.9.9" "$(vn_cat "$S/dns_nameservers")" "dns_nameservers: write then two >> appends, in order"
vn_expect_fail EINVAL vn_a "$S/dns_nameservers" notanip
vn_expect_fail EINVAL vn_w "$S/dns_nameservers" 8.8.8.300
vn_eq "8.8.8.8
1.1.1.1
9.9.9.9" "$(vn_cat "$S/dns_nameservers")" "dns_nameservers unchanged by bad writes"
vn_ok vn_w "$S/dns_nameservers" 10.0.0.53
vn_eq 10.0.0.53 "$(vn_cat "$S/dns_nameservers")" "> replaces the whole list"
vn_ok vn_w "$S/dns_nameservers" ""
vn_eq "" "$(vn_cat "$S/dns_nameservers")" "an empty write clears the list"

# ---- host_routes -------------------------------------------------------------------
vn_ok vn_w "$S/host_routes" "192.168.0.0/16 10.0.0.254"
vn_ok vn_a "$S/host_routes" "172.16.0.0/12 10.0.0.253"
vn_eq "192.168.0.0/16 10.0.0.254
172.16.0.0/12 10.0.0.253" "$(vn_cat "$S/host_routes")" "host_routes: write then >> append"
for bad in "192.168.0.0/16" "192.168.0.0/16 nothere" "bogus 10.0.0.1" "192.168.0.0/33 10.0.0.1"; do
	vn_expect_fail EINVAL vn_a "$S/host_routes" "$bad"
done
vn_eq "192.168.0.0/16 10.0.0.254
172.16.0.0/12 10.0.0.253" "$(vn_cat "$S/host_routes")" "host_routes unchanged by bad lines"
# at most 20 (Neutron's max_subnet_host_routes: DHCP serves them all)
hr20=$(for i in $(seq 1 20); do echo "192.168.$i.0/24 10.0.0.$((100 + i))"; done)
vn_ok vn_w "$S/host_routes" "$hr20"
vn_eq "$hr20" "$(vn_cat "$S/host_routes")" "20 host_routes are fine"
vn_expect_fail EINVAL vn_a "$S/host_routes" "192.168.21.0/24 10.0.0.121"
vn_eq "$hr20" "$(vn_cat "$S/host_routes")" "a 21st host route by >> changes nothing"
vn_eq "at most 20 host_routes (21 given): DHCP serves a subnet's host routes, and no more than 20 fit (Neutron's max_subnet_host_routes)" \
	"$(vn_cat "$S/error")" "error says why"
vn_expect_fail EINVAL vn_w "$S/host_routes" "$(printf '%s\n' "$hr20" "192.168.21.0/24 10.0.0.121" "192.168.22.0/24 10.0.0.122")"
vn_match "at most 20 host_routes \(22 given\)" "$(vn_cat "$S/error")" "a 22-line write: EINVAL, and error says so"
vn_eq "$hr20" "$(vn_cat "$S/host_routes")" "... and changes nothing"
vn_ok vn_w "$S/host_routes" "$(vn_lines "192.168.0.0/16 10.0.0.254" "172.16.0.0/12 10.0.0.253")"
js=$(vn_cat "$S/json")
vn_true "subnet json parses" jq -e . <<<"$js"
vn_eq 10.0.0.0/24 "$(jq -r .cidr <<<"$js")" "json .cidr"
vn_eq 4 "$(jq -r .ip_version <<<"$js")" "json .ip_version"
vn_eq 2 "$(jq -r '.host_routes | length' <<<"$js")" "json .host_routes has 2 entries"

# ---- overlap and uniqueness ---------------------------------------------------------
vn_ok mkdir "$M/networks/a/subnets/s2"
vn_expect_fail EINVAL vn_w "$M/networks/a/subnets/s2/cidr" 10.0.0.128/25
vn_expect_fail EINVAL vn_w "$M/networks/a/subnets/s2/cidr" 10.0.0.0/16
vn_expect_fail EINVAL vn_w "$M/networks/a/subnets/s2/cidr" 10.0.0.0/24
vn_eq "" "$(vn_cat "$M/networks/a/subnets/s2/cidr")" "overlapping cidr was not applied"
vn_ok vn_w "$M/networks/a/subnets/s2/cidr" 10.0.1.0/24
vn_eq 10.0.1.0/24 "$(vn_cat "$M/networks/a/subnets/s2/cidr")" "a disjoint cidr on the same network"
vn_expect_fail EEXIST mkdir "$M/networks/b/subnets/s1"
vn_expect_fail EEXIST mkdir "$M/networks/b/subnets/public-subnet"
vn_expect_fail EEXIST mkdir "$M/networks/a/subnets/s1"
vn_eq "" "$(vn_ls "$M/networks/b/subnets")" "no subnet was made on b"
vn_ok mkdir "$M/networks/b/subnets/s3"
vn_ok vn_w "$M/networks/b/subnets/s3/cidr" 10.0.0.0/24
vn_eq 10.0.0.0/24 "$(vn_cat "$M/networks/b/subnets/s3/cidr")" "the same cidr on another network is fine"
vn_expect_fail EINVAL mkdir "$M/networks/b/subnets/.s4"
vn_expect_fail EINVAL mkdir "$M/networks/b/subnets/s 4"

# a freed name can be used elsewhere
vn_ok rmdir "$M/networks/a/subnets/s2"
vn_ok mkdir "$M/networks/b/subnets/s2"
vn_true "s2 now lives on b" test -d "$M/networks/b/subnets/s2"

# ---- IPv6 --------------------------------------------------------------------------
V6=$M/networks/b/subnets/v6
vn_ok mkdir "$V6"
vn_ok vn_w "$V6/cidr" fd00:1::/64
vn_eq fd00:1::/64 "$(vn_cat "$V6/cidr")" "IPv6 cidr reads back"
vn_eq 6 "$(vn_cat "$V6/ip_version")" "ip_version 6"
vn_eq fd00:1::1 "$(vn_cat "$V6/gateway_ip")" "IPv6 gateway defaults to ::1"
vn_ok vn_a "$V6/dns_nameservers" fd00:1::53
vn_eq fd00:1::53 "$(vn_cat "$V6/dns_nameservers")" "IPv6 dns server"
vn_expect_fail EINVAL vn_w "$V6/gateway_ip" 10.0.0.1
vn_ok mkdir "$M/networks/b/subnets/v6b"
vn_expect_fail EINVAL vn_w "$M/networks/b/subnets/v6b/cidr" fd00:1::/48
vn_ok vn_w "$M/networks/b/subnets/v6b/cidr" fd00:2::/64
vn_eq fd00:2::/64 "$(vn_cat "$M/networks/b/subnets/v6b/cidr")" "a second, disjoint IPv6 subnet"

# ---- a value that needs the cidr is refused, never dropped (issue 6) ---------------
NC=$M/networks/b/subnets/nocidr
vn_ok mkdir "$NC"
for f in allocation_pools gateway_ip host_routes dns_nameservers; do
	case $f in
	allocation_pools) v=10.0.0.50-10.0.0.60 ;;
	gateway_ip) v=10.0.0.1 ;;
	host_routes) v="10.9.0.0/16 10.0.0.9" ;;
	dns_nameservers) v=10.0.0.53 ;;
	esac
	vn_expect_fail EINVAL vn_w "$NC/$f" "$v"
	vn_eq "" "$(vn_cat "$NC/$f")" "$f stays empty on a subnet without cidr"
	vn_match "set the cidr first" "$(vn_cat "$NC/error")" "error says to set the cidr first ($f)"
	vn_expect_fail EINVAL vn_a "$NC/$f" "$v"
done
vn_ok vn_w "$NC/cidr" 10.70.0.0/24
vn_eq 10.70.0.2-10.70.0.254 "$(vn_cat "$NC/allocation_pools")" "the refused pool did not come back with the cidr"
vn_ok vn_w "$NC/allocation_pools" 10.70.0.50-10.70.0.60
vn_eq 10.70.0.50-10.70.0.60 "$(vn_cat "$NC/allocation_pools")" "with a cidr the pool is taken"
vn_ok rmdir "$NC"

# ---- addresses no subnet may use (issue 6) ------------------------------------------
AS=$M/networks/b/subnets/addr
vn_ok mkdir "$AS"
while IFS='|' read -r cidr range; do
	[ -n "$cidr" ] || continue
	vn_expect_fail EINVAL vn_w "$AS/cidr" "$cidr"
	vn_eq "" "$(vn_cat "$AS/cidr")" "cidr $cidr refused"
	vn_match "overlaps $range" "$(vn_cat "$AS/error")" "error for $cidr names $range"
done <<'EOF2'
0.0.0.0/0|0.0.0.0/8
0.0.0.0/8|0.0.0.0/8
0.0.0.0/1|0.0.0.0/8
127.0.0.0/8|127.0.0.0/8
127.0.0.0/24|127.0.0.0/8
126.0.0.0/7|127.0.0.0/8
169.254.0.0/16|169.254.0.0/16
128.0.0.0/1|169.254.0.0/16
224.0.0.0/4|224.0.0.0/4
239.1.0.0/16|224.0.0.0/4
240.0.0.0/4|240.0.0.0/4
255.255.255.252/30|240.0.0.0/4
::/0|::/128
::ffff:0:0/96|::ffff:0:0/96
::/96|::/128
fe80::/64|fe80::/10
ff00::/8|ff00::/8
ff02::/64|ff00::/8
8000::/1|fe80::/10
EOF2
vn_ok vn_w "$AS/cidr" 10.71.0.0/24
for bad in 224.0.0.1 127.0.0.53 0.0.0.0 255.255.255.255 ::1 ff02::1 169.254.169.254; do
	vn_expect_fail EINVAL vn_a "$AS/dns_nameservers" "$bad"
done
vn_eq "" "$(vn_cat "$AS/dns_nameservers")" "no non-unicast dns nameserver was taken"
vn_match "not a unicast address" "$(vn_cat "$AS/error")" "error says why the nameserver was refused"
for bad in "10.9.0.0/16 127.0.0.1" "10.9.0.0/16 0.0.0.0" "10.9.0.0/16 224.0.0.9" "10.9.0.0/16 255.255.255.255"; do
	vn_expect_fail EINVAL vn_a "$AS/host_routes" "$bad"
done
vn_eq "" "$(vn_cat "$AS/host_routes")" "no route via a non-unicast next hop was taken"
vn_match "next hop is in" "$(vn_cat "$AS/error")" "error names the next hop's range"
for bad in 127.0.0.1 224.0.0.1 0.0.0.1; do
	vn_expect_fail EINVAL vn_w "$AS/gateway_ip" "$bad"
done
vn_eq 10.71.0.1 "$(vn_cat "$AS/gateway_ip")" "gateway_ip unchanged"
vn_expect_fail EINVAL vn_w "$AS/allocation_pools" 127.0.0.2-127.0.0.9
vn_match "127.0.0.0/8" "$(vn_cat "$AS/error")" "error names loopback for the pool"

# no subnet may overlap a subnet of an external network
pub_br=$(vn_cat "$M/networks/public/bridge")
for bad in 172.24.4.0/25 172.24.4.128/25 172.24.0.0/16 172.0.0.0/8 172.24.4.0/30; do
	vn_expect_fail EINVAL vn_w "$AS/cidr" "$bad"
	vn_eq 10.71.0.0/24 "$(vn_cat "$AS/cidr")" "tenant cidr $bad over public-subnet refused"
done
vn_match "external network 'public'" "$(vn_cat "$AS/error")" "error names the external network"
vn_eq 172.24.4.1/24 "$(vn_link_addrs "$pub_br")" "the host still has 172.24.4.1/24 only"
# tenant networks may overlap each other (different networks), as in Neutron
vn_ok vn_w "$AS/cidr" 1.0.0.0/8
vn_ok mkdir "$M/networks/a/subnets/twin"
vn_ok vn_w "$M/networks/a/subnets/twin/cidr" 1.2.0.0/16
vn_eq 1.2.0.0/16 "$(vn_cat "$M/networks/a/subnets/twin/cidr")" "tenant subnets of two networks may overlap"
# an external network's subnet may not overlap any other subnet
vn_ok mkdir "$M/networks/ext2"
vn_ok vn_w "$M/networks/ext2/external" 1
ext2_br=$(vn_cat "$M/networks/ext2/bridge")
vn_ok mkdir "$M/networks/ext2/subnets/e2"
for bad in 172.24.4.128/25 1.0.0.0/16 1.2.3.0/24 0.0.0.0/0 128.0.0.0/1; do
	vn_expect_fail EINVAL vn_w "$M/networks/ext2/subnets/e2/cidr" "$bad"
done
vn_eq "" "$(vn_cat "$M/networks/ext2/subnets/e2/cidr")" "external subnet cidr refused"
vn_eq "" "$(vn_link_addrs "$ext2_br")" "and no address reached the host"
vn_ok vn_w "$M/networks/ext2/subnets/e2/cidr" 198.51.100.0/24
vn_eq 198.51.100.1/24 "$(vn_link_addrs "$ext2_br")" "a disjoint external subnet works"
vn_expect_fail EINVAL vn_w "$AS/cidr" 198.51.100.0/28
vn_eq 1.0.0.0/8 "$(vn_cat "$AS/cidr")" "tenant cidr over the new external subnet refused"
# the daemon keeps the external networks apart for this check (no walk of
# every network): a restart builds that set again from the tree
vn_restart
vn_expect_fail EINVAL vn_w "$AS/cidr" 198.51.100.0/28
vn_match "external network 'ext2'" "$(vn_cat "$AS/error")" "after a restart the external network made since refuses an overlap"
# a network with subnets overlapping others cannot become external
vn_expect_fail EINVAL vn_w "$M/networks/a/external" 1
vn_eq 0 "$(vn_cat "$M/networks/a/external")" "network a stays internal"
vn_eq "" "$(vn_link_addrs "$(vn_cat "$M/networks/a/bridge")")" "its bridge has no address"
vn_match "overlaps subnet" "$(vn_cat "$M/networks/a/error")" "error says which subnet overlaps"
# a network that is no longer external no longer keeps others off
vn_ok vn_w "$M/networks/ext2/external" 0
vn_ok vn_w "$AS/cidr" 198.51.100.0/28
vn_eq 198.51.100.0/28 "$(vn_cat "$AS/cidr")" "a network no longer external does not refuse an overlap"
vn_expect_fail EINVAL vn_w "$M/networks/ext2/external" 1
vn_eq 0 "$(vn_cat "$M/networks/ext2/external")" "and it cannot become external again over it"
vn_ok rmdir "$M/networks/a/subnets/twin"
vn_ok vn_w "$AS/cidr" 10.71.0.0/24
vn_ok vn_w "$M/networks/ext2/external" 1
vn_expect_fail EINVAL vn_w "$AS/cidr" 198.51.100.0/28
vn_eq 10.71.0.0/24 "$(vn_cat "$AS/cidr")" "external again: it refuses the overlap again"
vn_ok rmdir "$AS"
vn_ok rm -r "$M/networks/ext2"
vn_ok mkdir "$M/networks/b/subnets/after"
vn_ok vn_w "$M/networks/b/subnets/after/cidr" 198.51.100.0/28
vn_eq 198.51.100.0/28 "$(vn_cat "$M/networks/b/subnets/after/cidr")" "a removed external network refuses nothing"
vn_ok rmdir "$M/networks/b/subnets/after"

# ---- rmdir -----------------------------------------------------------------------
vn_ok rmdir "$S"
vn_true "s1 is gone" test ! -e "$S"
vn_ok mkdir "$M/networks/b/subnets/s1"
vn_true "s1 can be made on another network once freed" test -d "$M/networks/b/subnets/s1"

vn_done
