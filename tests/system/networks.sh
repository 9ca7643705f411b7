#!/bin/bash
# SPDX-License-Identifier: MIT
# networks/ and flavors/: the default `public` network, bridges made and
# removed by mkdir/rmdir, mtu / admin_state / external reflected in the
# kernel, the read-only files, json, and the pre-created flavors.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
vn_start

M=$VN_MNT
UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

# ---- the command line --------------------------------------------------------
vn_match '^vnetfs [0-9]+\.[0-9]+' "$("$VNETFS" --version 2>&1 | head -n 1)" "--version prints the version"
vn_ok "$VNETFS" --version
help=$("$VNETFS" --help 2>&1 || true)
for opt in -f --state --netns --no-defaults -o; do
	vn_true "--help mentions $opt" grep -q -- "$opt" <<<"$help"
done
vn_ok "$VNETFS" --help
vn_expect_fail ANY "$VNETFS" -f
vn_expect_fail ANY "$VNETFS" --no-such-option "$VN_TMP"
vn_true "--netns registered $VN_NS like ip netns add" bash -c "ip netns list | grep -qw '$VN_NS'"

# ---- the tree ------------------------------------------------------------
vn_true "networks/ is a directory" test -d "$M/networks"
vn_true "flavors/ is a directory" test -d "$M/flavors"
vn_eq "public" "$(vn_ls "$M/networks")" "only public exists at first start"

# ---- public ----------------------------------------------------------------
P=$M/networks/public
for f in id status error json mtu admin_state external bridge; do
	vn_true "public/$f is a regular file" test -f "$P/$f"
done
for d in subnets ports; do
	vn_true "public/$d is a directory" test -d "$P/$d"
done
pub_id=$(vn_cat "$P/id")
vn_match "$UUID_RE" "$pub_id" "public/id is a UUID"
vn_eq ACTIVE "$(vn_cat "$P/status")" "public status"
vn_eq "" "$(vn_cat "$P/error")" "public error is empty"
vn_eq 1500 "$(vn_cat "$P/mtu")" "public mtu default"
vn_eq up "$(vn_cat "$P/admin_state")" "public admin_state default"
vn_eq 1 "$(vn_cat "$P/external")" "public is external"
vn_eq public-subnet "$(vn_ls "$P/subnets")" "public has exactly public-subnet"
PS=$P/subnets/public-subnet
vn_eq 172.24.4.0/24 "$(vn_cat "$PS/cidr")" "public-subnet cidr"
vn_eq 172.24.4.1 "$(vn_cat "$PS/gateway_ip")" "public-subnet gateway_ip"
vn_eq 4 "$(vn_cat "$PS/ip_version")" "public-subnet ip_version"
pub_br=$(vn_cat "$P/bridge")
vn_eq "$(vn_expected_bridge "$pub_id")" "$pub_br" "public/bridge is vnb- + 11 hex digits of its id"
vn_eq 15 "${#pub_br}" "bridge name is 15 bytes"
vn_eq bridge "$(vn_link_kind "$pub_br")" "public bridge exists in netns $VN_NS and is a bridge"
vn_eq 1500 "$(vn_link_mtu "$pub_br")" "public bridge mtu"
vn_eq up "$(vn_link_admin "$pub_br")" "public bridge is up"
vn_eq 172.24.4.1/24 "$(vn_link_addrs "$pub_br")" "public bridge carries exactly 172.24.4.1/24"
vn_eq "$pub_br" "$(vn_bridges)" "exactly one vnb- bridge at first start"
vn_true "nothing but lo in the test's own netns" test "$(ip -j link show | jq length)" = 1

# ---- mkdir / rmdir a network ------------------------------------------------
vn_ok mkdir "$M/networks/net1"
N=$M/networks/net1
vn_eq "net1
public" "$(vn_ls "$M/networks")" "ls networks after mkdir"
id1=$(vn_cat "$N/id")
vn_match "$UUID_RE" "$id1" "net1/id is a UUID"
vn_ne "$pub_id" "$id1" "net1 and public have different ids"
vn_eq 1500 "$(vn_cat "$N/mtu")" "net1 mtu default"
vn_eq up "$(vn_cat "$N/admin_state")" "net1 admin_state default"
vn_eq 0 "$(vn_cat "$N/external")" "net1 external default"
vn_eq ACTIVE "$(vn_cat "$N/status")" "net1 status"
vn_eq "" "$(vn_ls "$N/subnets")" "net1 has no subnets"
br1=$(vn_cat "$N/bridge")
vn_eq "$(vn_expected_bridge "$id1")" "$br1" "net1/bridge derived from its id"
vn_eq bridge "$(vn_link_kind "$br1")" "mkdir made the bridge"
vn_eq 1500 "$(vn_link_mtu "$br1")" "net1 bridge mtu 1500"
vn_eq up "$(vn_link_admin "$br1")" "net1 bridge is up"
vn_eq "" "$(vn_link_addrs "$br1")" "an internal network's bridge has no address"
vn_expect_fail EEXIST mkdir "$M/networks/net1"
vn_eq "$id1" "$(vn_cat "$N/id")" "id is stable"

# bridge is read-only and id too
vn_expect_fail ANY vn_w "$N/bridge" vnb-foo
vn_eq "$br1" "$(vn_cat "$N/bridge")" "bridge unchanged after a write attempt"
vn_expect_fail ANY vn_w "$N/id" 00000000-0000-4000-8000-000000000000
vn_eq "$id1" "$(vn_cat "$N/id")" "id unchanged after a write attempt"
vn_eq 444 "$(stat -c %a "$N/bridge")" "bridge file mode 0444"
vn_eq 644 "$(stat -c %a "$N/mtu")" "mtu file mode 0644"

# ---- mtu ---------------------------------------------------------------------
vn_ok vn_w "$N/mtu" 9000
vn_eq 9000 "$(vn_cat "$N/mtu")" "mtu reads back 9000"
vn_eq 9000 "$(vn_link_mtu "$br1")" "bridge mtu 9000 in the kernel"
vn_ok vn_w "$N/mtu" 68
vn_eq 68 "$(vn_link_mtu "$br1")" "bridge mtu 68 (minimum)"
vn_expect_fail EINVAL vn_w "$N/mtu" 67
vn_expect_fail EINVAL vn_w "$N/mtu" 9001
vn_eq 68 "$(vn_link_mtu "$br1")" "bridge mtu unchanged by rejected writes"
vn_ok vn_w "$N/mtu" 1450
vn_eq 1450 "$(vn_link_mtu "$br1")" "bridge mtu 1450"
vn_eq 1450 "$(vn_cat "$N/mtu")" "mtu file 1450"

# ---- admin_state -------------------------------------------------------------
vn_ok vn_w "$N/admin_state" down
vn_eq down "$(vn_cat "$N/admin_state")" "admin_state reads down"
vn_eq down "$(vn_link_admin "$br1")" "bridge is DOWN in the kernel"
vn_eq DOWN "$(vn_cat "$N/status")" "network status DOWN while admin_state down"
vn_ok vn_w "$N/admin_state" up
vn_eq up "$(vn_link_admin "$br1")" "bridge is UP again"
vn_eq ACTIVE "$(vn_cat "$N/status")" "network status ACTIVE again"
vn_expect_fail EINVAL vn_w "$N/admin_state" sideways
vn_eq up "$(vn_cat "$N/admin_state")" "admin_state unchanged by a bad write"

# ---- external ----------------------------------------------------------------
vn_ok mkdir "$N/subnets/net1-sub"
vn_ok vn_w "$N/subnets/net1-sub/cidr" 192.168.50.0/24
vn_eq "" "$(vn_link_addrs "$br1")" "internal network: the subnet puts no address on the bridge"
vn_ok vn_w "$N/external" 1
vn_eq 1 "$(vn_cat "$N/external")" "external reads 1"
vn_eq 192.168.50.1/24 "$(vn_link_addrs "$br1")" "external=1 puts the gateway ip on the bridge"
vn_ok mkdir "$N/subnets/net1-sub2"
vn_ok vn_w "$N/subnets/net1-sub2/cidr" 192.168.51.0/24
vn_eq "192.168.50.1/24
192.168.51.1/24" "$(vn_link_addrs "$br1")" "a second subnet on an external network adds its gateway"
vn_ok vn_w "$N/subnets/net1-sub2/gateway_ip" 192.168.51.254
vn_eq "192.168.50.1/24
192.168.51.254/24" "$(vn_link_addrs "$br1")" "changing gateway_ip moves the address on the bridge"
vn_ok rmdir "$N/subnets/net1-sub2"
vn_eq 192.168.50.1/24 "$(vn_link_addrs "$br1")" "rmdir of the subnet removes its gateway address"
vn_ok mkdir "$N/subnets/net1-v6"
vn_ok vn_w "$N/subnets/net1-v6/cidr" fd00:50::/64
vn_eq "192.168.50.1/24
fd00:50::1/64" "$(vn_link_addrs "$br1")" "an IPv6 subnet on an external network puts its gateway on the bridge"
vn_ok rmdir "$N/subnets/net1-v6"
vn_eq 192.168.50.1/24 "$(vn_link_addrs "$br1")" "... and takes it away with the subnet"
vn_ok vn_w "$N/external" 0
vn_eq 0 "$(vn_cat "$N/external")" "external reads 0"
vn_eq "" "$(vn_link_addrs "$br1")" "external=0 removes the gateway ip"
vn_expect_fail EINVAL vn_w "$N/external" 2
vn_eq 0 "$(vn_cat "$N/external")" "external unchanged by a bad write"
# an external subnet is the host's: it may overlap no other subnet (issue 6)
vn_ok mkdir "$M/networks/net2"
vn_ok mkdir "$M/networks/net2/subnets/net2-sub"
vn_ok vn_w "$M/networks/net2/subnets/net2-sub/cidr" 192.168.50.128/25
vn_expect_fail EINVAL vn_w "$N/external" 1
vn_eq 0 "$(vn_cat "$N/external")" "net1 stays internal: its subnet overlaps net2-sub"
vn_match "net2-sub" "$(vn_cat "$N/error")" "error names the overlapping subnet"
vn_eq "" "$(vn_link_addrs "$br1")" "and the host got no address"
vn_ok vn_w "$M/networks/net2/subnets/net2-sub/cidr" 192.168.60.0/24
vn_ok vn_w "$N/external" 1
vn_eq 192.168.50.1/24 "$(vn_link_addrs "$br1")" "once disjoint, net1 becomes external"
vn_expect_fail EINVAL vn_w "$M/networks/net2/subnets/net2-sub/cidr" 192.168.50.0/26
vn_eq 192.168.60.0/24 "$(vn_cat "$M/networks/net2/subnets/net2-sub/cidr")" "a tenant cidr over net1's external subnet is refused"
vn_ok vn_w "$N/external" 0
vn_ok rm -r "$M/networks/net2"

# ---- json --------------------------------------------------------------------
vn_ok vn_w "$N/mtu" 1400
js=$(vn_cat "$N/json")
vn_true "net1/json parses with jq" jq -e . <<<"$js"
vn_eq "$id1" "$(jq -r .id <<<"$js")" "json .id matches id"
vn_eq net1 "$(jq -r .name <<<"$js")" "json .name is the directory name"
vn_eq 1400 "$(jq -r .mtu <<<"$js")" "json .mtu matches mtu"
vn_eq up "$(jq -r .admin_state <<<"$js")" "json .admin_state matches"
vn_eq 0 "$(jq -r '.external | if type == "boolean" then (if . then "1" else "0" end) else tostring end' <<<"$js")" "json .external matches"
vn_eq "$br1" "$(jq -r .bridge <<<"$js")" "json .bridge matches"
vn_eq ACTIVE "$(jq -r .status <<<"$js")" "json .status matches"
sjs=$(vn_cat "$N/subnets/net1-sub/json")
vn_true "subnet json parses" jq -e . <<<"$sjs"
vn_eq 192.168.50.0/24 "$(jq -r .cidr <<<"$sjs")" "subnet json .cidr"
vn_eq 192.168.50.1 "$(jq -r .gateway_ip <<<"$sjs")" "subnet json .gateway_ip"
vn_eq "$(vn_cat "$N/subnets/net1-sub/id")" "$(jq -r .id <<<"$sjs")" "subnet json .id"

# ---- a second network, then rmdir --------------------------------------------
vn_ok mkdir "$M/networks/net2"
br2=$(vn_cat "$M/networks/net2/bridge")
vn_ne "$br1" "$br2" "two networks, two bridges"
vn_eq "$(printf '%s\n' "$pub_br" "$br1" "$br2" | LC_ALL=C sort)" "$(vn_bridges)" "exactly three vnb- bridges"
vn_ok rmdir "$M/networks/net2"
vn_eq absent "$(vn_link_kind "$br2")" "rmdir deleted the bridge"
vn_true "net2 is gone from the tree" test ! -e "$M/networks/net2"
vn_expect_fail ENOENT vn_cat "$M/networks/net2/mtu"
vn_ok rmdir "$N/subnets/net1-sub"
vn_ok rmdir "$N"
vn_eq absent "$(vn_link_kind "$br1")" "rmdir net1 deleted its bridge"
vn_eq "$pub_br" "$(vn_bridges)" "only public's bridge is left"
vn_eq public "$(vn_ls "$M/networks")" "only public is left"
vn_expect_fail ENOENT rmdir "$M/networks/nosuch"
# a deleted name can be made again, with a new id
vn_ok mkdir "$M/networks/net1"
vn_ne "$id1" "$(vn_cat "$M/networks/net1/id")" "re-created network gets a new id"
vn_eq bridge "$(vn_link_kind "$(vn_cat "$M/networks/net1/bridge")")" "re-created network has a bridge"
vn_ok rmdir "$M/networks/net1"

# ---- flavors -----------------------------------------------------------------
F=$M/flavors
vn_eq "m1.nano
m1.small
m1.tiny" "$(vn_ls "$F")" "pre-created flavors"
check_flavor() {
	vn_eq "$2" "$(vn_cat "$F/$1/vcpus")" "$1 vcpus"
	vn_eq "$3" "$(vn_cat "$F/$1/ram")" "$1 ram"
	vn_eq "$4" "$(vn_cat "$F/$1/disk")" "$1 disk"
	vn_match "$UUID_RE" "$(vn_cat "$F/$1/id")" "$1 id"
	vn_eq ACTIVE "$(vn_cat "$F/$1/status")" "$1 status"
	local js
	js=$(vn_cat "$F/$1/json")
	vn_eq "$2 $3 $4" "$(jq -r '"\(.vcpus) \(.ram) \(.disk)"' <<<"$js")" "$1 json numbers"
}
check_flavor m1.nano 1 64 0
check_flavor m1.tiny 1 512 1
check_flavor m1.small 1 2048 20
vn_ok mkdir "$F/m1.custom"
vn_ok vn_w "$F/m1.custom/vcpus" 4
vn_ok vn_w "$F/m1.custom/ram" 4096
vn_ok vn_w "$F/m1.custom/disk" 40
check_flavor m1.custom 4 4096 40
vn_expect_fail EINVAL vn_w "$F/m1.custom/vcpus" 0
vn_expect_fail EINVAL vn_w "$F/m1.custom/vcpus" two
vn_expect_fail EINVAL vn_w "$F/m1.custom/ram" -1
vn_expect_fail EINVAL vn_w "$F/m1.custom/disk" 1.5
check_flavor m1.custom 4 4096 40
vn_expect_fail EEXIST mkdir "$F/m1.tiny"
vn_ok rmdir "$F/m1.custom"
vn_true "m1.custom is gone" test ! -e "$F/m1.custom"

vn_done
