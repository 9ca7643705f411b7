#!/bin/bash
# SPDX-License-Identifier: MIT
# Hostile input (issue 6): every writable attribute of networks, subnets,
# ports, routers and flavors, and mkdir names, fed bad values, NUL bytes,
# invalid UTF-8, control characters, embedded newlines, junk around a good
# value, huge and negative numbers, 64 KiB + 1, writes at odd offsets;
# and the address and external rules as a non-root user.
#
# The battery is a table, one case a row:  MODE|PATH|VALUE|ERRNO[|FLAGS]
#   MODE   w: VALUE + "\n" in one write()   n: VALUE alone (no newline)
#          a: `>>` (O_APPEND)               big: VALUE bytes of '1' in one write()
#          seek:N: VALUE written at offset N (dd seek=N conv=notrunc)
#          trunc: truncate -s VALUE         mkdir: mkdir PATH/VALUE
#   PATH   relative to the mount; VALUE goes through printf %b (\x00, \n, \377)
#   FLAGS  "-": refused before the attribute layer (fs/fuse_ops.c), so the
#          object's error file is not expected to hold a sentence.
# Each case asserts: the exact errno; the file reads back exactly as before
# (mkdir: nothing new appeared); the object's error file has a sentence
# (cleared by a good write just before, so it is this case's); the daemon
# is alive.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
command -v setpriv >/dev/null || vn__skip "setpriv (util-linux) is missing"
vn_start -o allow_other
export VN_QUIET=${VN_QUIET:-1} # ~900 assertions: print the failures only

M=$VN_MNT

# ---- the objects under attack ------------------------------------------------------
vn_ok mkdir "$M/networks/hn"
vn_ok mkdir "$M/networks/hn/subnets/hs"
vn_ok vn_w "$M/networks/hn/subnets/hs/cidr" 10.80.0.0/24
vn_ok mkdir "$M/networks/hn/subnets/hsn" # no cidr
vn_ok mkdir "$M/networks/hn/subnets/hs2" # no router, no port
vn_ok vn_w "$M/networks/hn/subnets/hs2/cidr" 10.82.0.0/24
vn_ok mkdir "$M/networks/hn/subnets/hs6"
vn_ok vn_w "$M/networks/hn/subnets/hs6/cidr" fd00:80::/64
vn_ok mkdir "$M/networks/hn/ports/hp"
vn_ok vn_w "$M/networks/hn/ports/hp/fixed_ips" hs
vn_ok mkdir "$M/networks/hn/ports/hp2"
vn_ok mkdir "$M/routers/hr"
vn_ok vn_w "$M/routers/hr/interfaces" hs
vn_host hh
: >"$VN_TMP/regular"

# ---- helpers -----------------------------------------------------------------------
wb() { timeout -k 3 "$VN_TIMEOUT" env printf '%b\n' "$2" >"$1"; }
wbn() { timeout -k 3 "$VN_TIMEOUT" env printf '%b' "$2" >"$1"; }
ab() { timeout -k 3 "$VN_TIMEOUT" env printf '%b\n' "$2" >>"$1"; }
wseek() { env printf '%b\n' "$3" | timeout -k 3 "$VN_TIMEOUT" dd of="$2" bs=64 seek="$1" oflag=seek_bytes conv=notrunc status=none; }
wbig() {
	head -c "$2" /dev/zero | tr '\0' 1 >"$VN_TMP/big"
	timeout -k 3 "$VN_TIMEOUT" dd if="$VN_TMP/big" of="$1" bs="$2" count=1 status=none
}
mkdirb() { timeout -k 3 "$VN_TIMEOUT" mkdir -- "$1/$(env printf '%b' "$2")"; }

# error_file PATH: the error file of the object PATH (an attribute) is in
error_file() { printf '%s/error' "$(dirname "$1")"; }

CASES=0
run_case() { # MODE PATH VALUE ERRNO FLAGS
	local mode=$1 f=$M/$2 v=$3 e=$4 flags=${5:-} before after what
	CASES=$((CASES + 1))
	what="$mode $2 $(printf '%q' "$v")"
	if [ "$mode" = mkdir ]; then
		before=$(vn_ls "$f")
		vn_expect_fail "$e" mkdirb "$f" "$v"
		vn_eq "$before" "$(vn_ls "$f")" "[$what] nothing new in $2"
		# a child collection's owner records why; a top-level one has no object
		if [ "$flags" != - ] && [ "$(dirname "$f")" != "$M" ]; then
			vn_ne "" "$(vn_cat "$(dirname "$f")/error")" "[$what] error of $(dirname "$2") has a sentence"
		fi
		vn_true "[$what] daemon alive" vn_alive
		return 0
	fi
	before=$(vn_cat "$f")
	# A good write of the current value clears the error file.
	vn_w "$f" "$before" >/dev/null 2>&1 || true
	case $mode in
	w) vn_expect_fail "$e" wb "$f" "$v" ;;
	n) vn_expect_fail "$e" wbn "$f" "$v" ;;
	a) vn_expect_fail "$e" ab "$f" "$v" ;;
	big) vn_expect_fail "$e" wbig "$f" "$v" ;;
	trunc) vn_expect_fail "$e" timeout -k 3 "$VN_TIMEOUT" truncate -s "$v" "$f" ;;
	seek:*) vn_expect_fail "$e" wseek "${mode#seek:}" "$f" "$v" ;;
	*) vn_bail "bad mode $mode in the table" ;;
	esac
	after=$(vn_cat "$f")
	vn_eq "$before" "$after" "[$what] reads back unchanged"
	if [ "$flags" != - ]; then
		vn_ne "" "$(vn_cat "$(error_file "$f")")" "[$what] error has a sentence"
	fi
	vn_true "[$what] daemon alive" vn_alive
}

run_table() {
	local mode path value errno flags
	while IFS='|' read -r mode path value errno flags; do
		case $mode in '' | '#'*) continue ;; esac
		run_case "$mode" "$path" "$value" "$errno" "$flags"
	done
}

tree() { (cd "$M" && find . -mindepth 1 -maxdepth 5 -type d | LC_ALL=C sort); }
TREE=$(tree)
N=networks/hn
S=networks/hn/subnets/hs
P=networks/hn/ports/hp
R=routers/hr
F=flavors/m1.tiny

# The same junk for every writable attribute: NUL, invalid UTF-8, control
# characters, an embedded newline (lists: a bad second line), junk around
# a value, 64 KiB + 1, writes at an odd offset, truncate to a length.
generic() {
	local p
	for p in "$N/mtu" "$N/admin_state" "$N/external" \
		"$S/cidr" "$S/gateway_ip" "$S/enable_dhcp" "$S/allocation_pools" "$S/dns_nameservers" "$S/host_routes" \
		"$P/mac_address" "$P/fixed_ips" "$P/security_groups" "$P/netns" "$P/ifname" "$P/ipconfig" \
		"$R/routes" "$R/external_gateway" "$R/enable_snat" "$R/interfaces" \
		"$F/vcpus" "$F/ram" "$F/disk"; do
		echo "w|$p|1\\x002|EINVAL"
		echo "w|$p|\\377\\376\\xc3\\x28|EINVAL"
		echo "w|$p|a\\x01b|EINVAL"
		echo "big|$p|65537|EFBIG|-"
		echo "seek:7|$p|1|EINVAL|-"
	done
	# scalars: a second line, junk before/after
	for p in "$N/mtu" "$N/admin_state" "$N/external" "$S/cidr" "$S/gateway_ip" "$S/enable_dhcp" \
		"$P/mac_address" "$P/netns" "$P/ifname" "$P/ipconfig" "$R/external_gateway" "$R/enable_snat" \
		"$F/vcpus" "$F/ram" "$F/disk"; do
		echo "w|$p|1\\n2|EINVAL"
		echo "w|$p|\\x1b[31m|EINVAL"
	done
	echo "trunc|$N/mtu|3|EINVAL|-"
	echo "trunc|$S/dns_nameservers|100|EINVAL|-"
}
run_table < <(generic)

run_table <<'EOF'
# ---- networks: mtu (68..9000), admin_state (up|down), external (0|1)
w|networks/hn/mtu|abc|EINVAL
w|networks/hn/mtu|-1|EINVAL
w|networks/hn/mtu|0|EINVAL
w|networks/hn/mtu|67|EINVAL
w|networks/hn/mtu|9001|EINVAL
w|networks/hn/mtu|99999999999999999999|EINVAL
w|networks/hn/mtu|9223372036854775808|EINVAL
w|networks/hn/mtu|-9223372036854775809|EINVAL
w|networks/hn/mtu|0x5dc|EINVAL
w|networks/hn/mtu|1500.0|EINVAL
w|networks/hn/mtu|1e3|EINVAL
w|networks/hn/mtu|1400 1400|EINVAL
w|networks/hn/mtu|1400abc|EINVAL
w|networks/hn/mtu|abc1400|EINVAL
w|networks/hn/mtu|\xd9\xa1\xd9\xa4\xd9\xa0\xd9\xa0|EINVAL
w|networks/hn/mtu|--1400|EINVAL
n|networks/hn/mtu|1400\n\n1300|EINVAL
w|networks/hn/admin_state|sideways|EINVAL
w|networks/hn/admin_state|up down|EINVAL
w|networks/hn/admin_state|upx|EINVAL
w|networks/hn/admin_state|up;reboot|EINVAL
w|networks/hn/admin_state|$(reboot)|EINVAL
w|networks/hn/admin_state|\xef\xbd\x95\xef\xbd\x90|EINVAL
w|networks/hn/external|2|EINVAL
w|networks/hn/external|-1|EINVAL
w|networks/hn/external|yes please|EINVAL
w|networks/hn/external|tru|EINVAL
w|networks/hn/external|0x1|EINVAL
w|networks/hn/external|\xef\xbc\x91|EINVAL
# ---- subnets: cidr, gateway_ip, enable_dhcp, allocation_pools, dns_nameservers, host_routes
w|networks/hn/subnets/hs/cidr|10.81.0.0/24|EBUSY
w|networks/hn/subnets/hs/cidr|garbage|EINVAL
w|networks/hn/subnets/hs/cidr|10.80.0.0/24 junk|EINVAL
w|networks/hn/subnets/hs/cidr|10.80.0.0/24x|EINVAL
w|networks/hn/subnets/hs/cidr|10.80.0.0/024|EINVAL
w|networks/hn/subnets/hs/cidr|10.80.0.0/+24|EINVAL
w|networks/hn/subnets/hs/cidr|10.80.0.0/ 24|EINVAL
w|networks/hn/subnets/hs/cidr|010.80.0.0/24|EINVAL
w|networks/hn/subnets/hs/cidr|10.80.0.1/24|EINVAL
w|networks/hn/subnets/hs/cidr|10.80.0.0/31|EINVAL
w|networks/hn/subnets/hs/cidr|10.80.0.0/99999999999|EINVAL
w|networks/hn/subnets/hs/cidr|127.0.0.0/8|EINVAL
w|networks/hn/subnets/hs/cidr|224.0.0.0/4|EINVAL
w|networks/hn/subnets/hs/cidr|0.0.0.0/0|EINVAL
w|networks/hn/subnets/hs/cidr|128.0.0.0/1|EINVAL
w|networks/hn/subnets/hsn/cidr|172.24.4.0/25|EINVAL
w|networks/hn/subnets/hsn/cidr|172.24.0.0/16|EINVAL
w|networks/hn/subnets/hs/cidr|ff00::/8|EINVAL
w|networks/hn/subnets/hs/cidr|::ffff:0:0/96|EINVAL
w|networks/hn/subnets/hsn/cidr|fd00:80::/64|EINVAL
w|networks/hn/subnets/hsn/cidr|fd00:80::/48|EINVAL
w|networks/hn/subnets/hsn/cidr|10.80.0.0/25|EINVAL
w|networks/hn/subnets/hsn/allocation_pools|10.0.0.50-10.0.0.60|EINVAL
a|networks/hn/subnets/hsn/allocation_pools|10.0.0.50-10.0.0.60|EINVAL
w|networks/hn/subnets/hsn/gateway_ip|10.0.0.1|EINVAL
w|networks/hn/subnets/hsn/host_routes|10.9.0.0/16 10.0.0.9|EINVAL
w|networks/hn/subnets/hsn/dns_nameservers|10.0.0.53|EINVAL
w|networks/hn/subnets/hs2/gateway_ip|10.82.0.0|EINVAL
w|networks/hn/subnets/hs2/gateway_ip|10.82.0.255|EINVAL
w|networks/hn/subnets/hs2/gateway_ip|10.81.0.1|EINVAL
w|networks/hn/subnets/hs2/gateway_ip|10.82.0.1/24|EINVAL
w|networks/hn/subnets/hs2/gateway_ip|none none|EINVAL
w|networks/hn/subnets/hs2/gateway_ip|127.0.0.1|EINVAL
w|networks/hn/subnets/hs2/gateway_ip|::1|EINVAL
w|networks/hn/subnets/hs/gateway_ip|10.80.0.2|EBUSY
w|networks/hn/subnets/hs/enable_dhcp|2|EINVAL
w|networks/hn/subnets/hs/enable_dhcp|maybe|EINVAL
w|networks/hn/subnets/hs/allocation_pools|10.80.0.50|EINVAL
w|networks/hn/subnets/hs/allocation_pools|10.80.0.60-10.80.0.50|EINVAL
w|networks/hn/subnets/hs/allocation_pools|10.80.0.0-10.80.0.10|EINVAL
w|networks/hn/subnets/hs/allocation_pools|10.80.0.250-10.80.0.255|EINVAL
w|networks/hn/subnets/hs/allocation_pools|10.80.0.1-10.80.0.9|EINVAL
w|networks/hn/subnets/hs/allocation_pools|10.81.0.10-10.81.0.20|EINVAL
w|networks/hn/subnets/hs/allocation_pools|x-y|EINVAL
w|networks/hn/subnets/hs/allocation_pools|10.80.0.10 - 10.80.0.20|EINVAL
w|networks/hn/subnets/hs/allocation_pools|10.80.0.10-10.80.0.20\n10.80.0.10-10.80.0.20|EINVAL
w|networks/hn/subnets/hs/allocation_pools|10.80.0.10-10.80.0.20\n10.80.0.15-10.80.0.30|EINVAL
w|networks/hn/subnets/hs/allocation_pools|127.0.0.2-127.0.0.9|EINVAL
w|networks/hn/subnets/hs/allocation_pools|fd00:80::2-fd00:80::9|EINVAL
w|networks/hn/subnets/hs/allocation_pools|10.80.0.2-10.80.0.2\n10.80.0.3-10.80.0.3\n10.80.0.4-10.80.0.4\n10.80.0.5-10.80.0.5\n10.80.0.6-10.80.0.6\n10.80.0.7-10.80.0.7\n10.80.0.8-10.80.0.8\n10.80.0.9-10.80.0.9\n10.80.0.10-10.80.0.10\n10.80.0.11-10.80.0.11\n10.80.0.12-10.80.0.12\n10.80.0.13-10.80.0.13\n10.80.0.14-10.80.0.14\n10.80.0.15-10.80.0.15\n10.80.0.16-10.80.0.16\n10.80.0.17-10.80.0.17\n10.80.0.18-10.80.0.18|EINVAL
w|networks/hn/subnets/hs/dns_nameservers|8.8.8.8 8.8.4.4|EINVAL
w|networks/hn/subnets/hs/dns_nameservers|dns.google|EINVAL
w|networks/hn/subnets/hs/dns_nameservers|1.1.1.1\n1.1.1.1|EINVAL
w|networks/hn/subnets/hs/dns_nameservers|224.0.0.251|EINVAL
w|networks/hn/subnets/hs/dns_nameservers|0.0.0.0|EINVAL
w|networks/hn/subnets/hs/dns_nameservers|255.255.255.255|EINVAL
a|networks/hn/subnets/hs/dns_nameservers|127.0.0.53|EINVAL
a|networks/hn/subnets/hs/dns_nameservers|ff02::fb|EINVAL
w|networks/hn/subnets/hs/host_routes|10.9.0.0/16|EINVAL
w|networks/hn/subnets/hs/host_routes|10.9.0.0/16 10.80.0.9 extra|EINVAL
w|networks/hn/subnets/hs/host_routes|10.9.0.1/16 10.80.0.9|EINVAL
w|networks/hn/subnets/hs/host_routes|fd01::/64 fd00:80::9|EINVAL
w|networks/hn/subnets/hs/host_routes|10.9.0.0/16 ::1|EINVAL
w|networks/hn/subnets/hs/host_routes|10.9.0.0/16 127.0.0.1|EINVAL
w|networks/hn/subnets/hs/host_routes|10.9.0.0/16 224.0.0.1|EINVAL
a|networks/hn/subnets/hs/host_routes|0.0.0.0/0 0.0.0.0|EINVAL
# ---- ports: mac_address, fixed_ips, security_groups, netns, ifname, ipconfig
w|networks/hn/ports/hp/mac_address|ff:ff:ff:ff:ff:ff|EINVAL
w|networks/hn/ports/hp/mac_address|01:00:5e:00:00:01|EINVAL
w|networks/hn/ports/hp/mac_address|00:00:00:00:00:00|EINVAL
w|networks/hn/ports/hp/mac_address|fa:16:3e:00:00|EINVAL
w|networks/hn/ports/hp/mac_address|fa:16:3e:00:00:01:02|EINVAL
w|networks/hn/ports/hp/mac_address|fa-16-3e-00-00-01|EINVAL
w|networks/hn/ports/hp/mac_address|fa:16:3e:00:00:0g|EINVAL
w|networks/hn/ports/hp/mac_address|fa:16:3e:00:00:01 junk|EINVAL
w|networks/hn/ports/hp/fixed_ips|nosuchsub|ENOENT
w|networks/hn/ports/hp/fixed_ips|hs 10.81.0.5|EINVAL
w|networks/hn/ports/hp/fixed_ips|hs 10.80.0.1|EINVAL
w|networks/hn/ports/hp/fixed_ips|hs 10.80.0.0|EINVAL
w|networks/hn/ports/hp/fixed_ips|hs 10.80.0.255|EINVAL
w|networks/hn/ports/hp/fixed_ips|hs 10.80.0.5 extra|EINVAL
w|networks/hn/ports/hp/fixed_ips|../hs|EINVAL
w|networks/hn/ports/hp/fixed_ips|hsn|EINVAL
w|networks/hn/ports/hp/fixed_ips|hs 10.80.0.7\nhs 10.80.0.7|EINVAL
w|networks/hn/ports/hp/fixed_ips|public-subnet|EINVAL
w|networks/hn/ports/hp/security_groups|bad name|EINVAL
w|networks/hn/ports/hp/security_groups|../x|EINVAL
w|networks/hn/ports/hp/security_groups|.x|EINVAL
w|networks/hn/ports/hp/security_groups|aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|EINVAL
w|networks/hn/ports/hp/netns|/etc/passwd|EINVAL
w|networks/hn/ports/hp/netns|/run/netns/../../etc/passwd|EINVAL
w|networks/hn/ports/hp/netns|/run/netns/|EINVAL
w|networks/hn/ports/hp/netns|/run/netns/nosuch|ENOENT
w|networks/hn/ports/hp/netns|/proc/self/ns/net|EINVAL
w|networks/hn/ports/hp/netns|/proc/0/ns/net|EINVAL
w|networks/hn/ports/hp/netns|/proc/1/ns/net/../net|EINVAL
w|networks/hn/ports/hp/netns|/proc/01/ns/net|EINVAL
w|networks/hn/ports/hp/netns|relative/path|EINVAL
w|networks/hn/ports/hp/netns|/run/netns/hh extra|EINVAL
w|networks/hn/ports/hp/ifname|this-is-too-long0|EINVAL
w|networks/hn/ports/hp/ifname|eth 0|EINVAL
w|networks/hn/ports/hp/ifname|eth/0|EINVAL
w|networks/hn/ports/hp/ifname|.eth0|EINVAL
w|networks/hn/ports/hp/ipconfig|manual|EINVAL
w|networks/hn/ports/hp/ipconfig|dhcp static|EINVAL
w|networks/hn/ports/hp/ipconfig|dhcp6|EINVAL
# ---- routers: routes, external_gateway, enable_snat, interfaces
w|routers/hr/routes|10.9.0.0/16|EINVAL
w|routers/hr/routes|fd01::/64 fd00:80::9|EINVAL
w|routers/hr/routes|10.9.0.0/16 127.0.0.1|EINVAL
w|routers/hr/routes|10.9.0.0/16 10.80.0.9 extra|EINVAL
w|routers/hr/routes|10.9.0.1/16 10.80.0.9|EINVAL
w|routers/hr/external_gateway|nosuch|ENOENT
w|routers/hr/external_gateway|hn|EINVAL
w|routers/hr/external_gateway|../public|EINVAL
w|routers/hr/external_gateway|pub lic|EINVAL
w|routers/hr/enable_snat|2|EINVAL
w|routers/hr/enable_snat|on|EINVAL
w|routers/hr/interfaces|nosuch|ENOENT
w|routers/hr/interfaces|../hs|EINVAL
w|routers/hr/interfaces|hs hs|EINVAL
w|routers/hr/interfaces|hs\nhs|EINVAL
w|routers/hr/interfaces|hs6|EINVAL
w|routers/hr/interfaces|hsn|EINVAL
# ---- flavors: vcpus (1..256), ram (16..4194304), disk (0..65536)
w|flavors/m1.tiny/vcpus|0|EINVAL
w|flavors/m1.tiny/vcpus|257|EINVAL
w|flavors/m1.tiny/vcpus|-1|EINVAL
w|flavors/m1.tiny/vcpus|1.5|EINVAL
w|flavors/m1.tiny/ram|15|EINVAL
w|flavors/m1.tiny/ram|4194305|EINVAL
w|flavors/m1.tiny/ram|18446744073709551617|EINVAL
w|flavors/m1.tiny/ram|512M|EINVAL
w|flavors/m1.tiny/disk|-1|EINVAL
w|flavors/m1.tiny/disk|65537|EINVAL
w|flavors/m1.tiny/disk|1 GB|EINVAL
# ---- bad names for mkdir
mkdir|networks|aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|EINVAL
mkdir|networks|.hidden|EINVAL
mkdir|networks|..|EEXIST|-
mkdir|networks|.|EEXIST|-
mkdir|networks|n\xc3\xa9t|EINVAL
mkdir|networks|a b|EINVAL
mkdir|networks|a\nb|EINVAL
mkdir|networks|a\x01b|EINVAL
mkdir|networks|\xff\xfe|EINVAL
mkdir|networks|a:b|EINVAL
mkdir|networks|public|EEXIST
mkdir|routers|-x;y|EINVAL
mkdir|flavors|m1.tiny|EEXIST
mkdir|networks/hn/subnets|.x|EINVAL
mkdir|networks/hn/subnets|hs|EEXIST
mkdir|networks/hn/subnets|public-subnet|EEXIST
mkdir|networks/hn/subnets|s\xe2\x80\x8bx|EINVAL
mkdir|networks/hn/ports|p\tq|EINVAL
mkdir|networks/hn/ports|hp|EEXIST
mkdir|networks/hn|bogus|EPERM|-
EOF

# Cases needing run-time values (another port's mac and address).
mac=$(vn_cat "$M/$P/mac_address")
ip=$(vn_cat "$M/$P/fixed_ips")
run_case w "networks/hn/ports/hp2/mac_address" "$mac" EADDRINUSE
run_case w "networks/hn/ports/hp2/fixed_ips" "$ip" EADDRINUSE
# a name longer than NAME_MAX never reaches the daemon
run_case mkdir networks "$(printf 'a%.0s' $(seq 256))" ENAMETOOLONG -
# regular files and a foreign path as netns
run_case w "$P/netns" "$VN_TMP/regular" EINVAL
vn_eq "" "$(vn_cat "$M/$P/netns")" "the port is still unbound"

vn_true "at least 150 cases ($CASES)" test "$CASES" -ge 150
echo "# $CASES hostile cases"

# ---- the daemon's own state is as it was -------------------------------------------
vn_eq 1500 "$(vn_cat "$M/$N/mtu")" "hn mtu untouched"
vn_eq 10.80.0.0/24 "$(vn_cat "$M/$S/cidr")" "hs cidr untouched"
vn_eq 512 "$(vn_cat "$M/$F/ram")" "m1.tiny ram untouched"
vn_eq "$TREE" "$(tree)" "no object appeared or went away"
vn_eq 172.24.4.1/24 "$(vn_link_addrs "$(vn_cat "$M/networks/public/bridge")")" "the host's public address is as it was"

# ---- as a non-root user ------------------------------------------------------------
NB=65534
as_nobody() { timeout -k 3 20 setpriv --reuid=$NB --regid=$NB --clear-groups "$@"; }
nobody_w() { as_nobody bash -c 'printf "%s\n" "$2" >"$1"' x "$1" "$2"; }

vn_ok as_nobody mkdir "$M/networks/nbt"
vn_ok as_nobody mkdir "$M/networks/nbt/subnets/nbts"
T=$M/networks/nbt
vn_expect_fail EACCES nobody_w "$T/external" 1
vn_eq 0 "$(vn_cat "$T/external")" "nobody's network stays internal"
vn_match "only root" "$(vn_cat "$T/error")" "error says external is root's"
vn_expect_fail EACCES as_nobody sed -i s/0/1/ "$T/external"
vn_eq 0 "$(vn_cat "$T/external")" "nobody's editor cannot make it external either"
vn_eq "" "$(ls -A "$T" | grep '^\.' || true)" "sed left no temp file behind"
vn_expect_fail EACCES as_nobody bash -c 'printf "1\n" >>"$1"' x "$T/external"
vn_eq 0 "$(vn_cat "$T/external")" "nor an append"
vn_ok nobody_w "$T/external" 0
vn_ok as_nobody rm "$T/external"
vn_eq "" "$(vn_cat "$T/error")" "writing the current value is fine"
vn_eq "" "$(vn_link_addrs "$(vn_cat "$T/bridge")")" "nobody's bridge has no address"
# tenant subnets: non-unicast and the host's external prefixes are refused
for bad in 128.0.0.0/1 0.0.0.0/0 127.0.0.0/8 224.0.0.0/4 240.0.0.0/4 169.254.0.0/16 172.24.4.0/25 172.24.0.0/16 ff00::/8 ::1/128; do
	vn_expect_fail EINVAL nobody_w "$T/subnets/nbts/cidr" "$bad"
	vn_eq "" "$(vn_cat "$T/subnets/nbts/cidr")" "nobody's cidr $bad refused"
done
vn_ne "" "$(vn_cat "$T/subnets/nbts/error")" "nobody's subnet error has a sentence"
# a tenant subnet is not the host's: any unicast prefix is nobody's to use
vn_ok nobody_w "$T/subnets/nbts/cidr" 1.0.0.0/8
vn_eq "" "$(ip -n "$VN_NS" route show 1.0.0.0/8)" "no host route for nobody's tenant 1.0.0.0/8"
vn_eq "" "$(vn_link_addrs "$(vn_cat "$T/bridge")")" "and no host address"
# root makes nobody's network external: its addresses become root's to set
vn_ok as_nobody mkdir "$M/networks/nbx"
X=$M/networks/nbx
vn_ok as_nobody mkdir "$X/subnets/nbxs"
vn_ok vn_w "$X/external" 1
vn_expect_fail EACCES nobody_w "$X/external" 0
vn_eq 1 "$(vn_cat "$X/external")" "nobody cannot turn root's decision back"
for bad in 1.0.0.0/8 198.51.100.0/24 172.24.4.0/25; do
	vn_expect_fail EACCES nobody_w "$X/subnets/nbxs/cidr" "$bad"
	vn_eq "" "$(vn_cat "$X/subnets/nbxs/cidr")" "nobody's external cidr $bad refused"
done
vn_match "only root" "$(vn_cat "$X/subnets/nbxs/error")" "error says the external subnet's addresses are root's"
vn_expect_fail EINVAL nobody_w "$X/subnets/nbxs/cidr" 128.0.0.0/1
vn_eq "" "$(vn_link_addrs "$(vn_cat "$X/bridge")")" "nothing of nobody's reached the host"
vn_eq "" "$(ip -n "$VN_NS" route show 1.0.0.0/8)" "no host route for 1.0.0.0/8"
# root may (not overlapping nobody's tenant 1.0.0.0/8, nor public)
vn_expect_fail EINVAL vn_w "$X/subnets/nbxs/cidr" 1.2.0.0/16
vn_ok vn_w "$X/subnets/nbxs/cidr" 198.51.100.0/24
vn_eq 198.51.100.1/24 "$(vn_link_addrs "$(vn_cat "$X/bridge")")" "root's cidr on the external network is the host's"
vn_expect_fail EACCES nobody_w "$X/subnets/nbxs/gateway_ip" 198.51.100.9
vn_eq 198.51.100.1 "$(vn_cat "$X/subnets/nbxs/gateway_ip")" "gateway_ip unchanged"
vn_ok nobody_w "$X/subnets/nbxs/dns_nameservers" 198.51.100.53
vn_eq 198.51.100.53 "$(vn_cat "$X/subnets/nbxs/dns_nameservers")" "nobody still sets the other values"
vn_expect_fail EINVAL nobody_w "$T/subnets/nbts/cidr" 198.51.100.0/25
vn_eq 1.0.0.0/8 "$(vn_cat "$T/subnets/nbts/cidr")" "nobody's tenant subnet cannot overlap the external one"
# rm -r stops at `external` (unlinking it would reset it): rmdir does it
vn_expect_fail EACCES as_nobody rm "$X/external"
vn_ok as_nobody rm -r "$X/subnets/nbxs" "$T"
vn_ok as_nobody rmdir "$X"
vn_eq "" "$(vn_link_addrs "$(vn_cat "$M/networks/public/bridge")" | grep -v 172.24.4.1/24)" "only public's address is left on the host"
vn_true "daemon alive after the non-root section" vn_alive

vn_done
