#!/bin/bash
# SPDX-License-Identifier: MIT
# The kernel caches entries, attributes and contents (issue 7 section 6):
# whatever a change alters must read new right after the write returns --
# the file written, values derived from it, listings, status and error --
# and `stat` sizes must match what `cat` returns, also with writers busy.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
vn_start

M=$VN_MNT
N=$M/networks/c1
S=$N/subnets/c1-sub
vn_ok mkdir "$N"
vn_ok mkdir "$S"

# size of what cat returns, and stat's size, for one file
sizes() { printf '%s %s' "$(cat -- "$1" | wc -c)" "$(stat -c %s -- "$1")"; }

# ---- a write, then read at once: the value, its derived values, sizes ----------------
bad=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12 20 100 200; do
	echo "10.$i.0.0/16" >"$S/cidr"
	# read everything before and after, in the same loop: the cache holds them
	g=$(cat "$S/gateway_ip")
	[ "$g" = "10.$i.0.1" ] || bad+=" gateway_ip=$g(want 10.$i.0.1)"
	c=$(cat "$S/cidr")
	[ "$c" = "10.$i.0.0/16" ] || bad+=" cidr=$c"
	p=$(cat "$S/allocation_pools")
	[ "$p" = "10.$i.0.2-10.$i.255.254" ] || bad+=" pools=$p"
	for f in cidr gateway_ip allocation_pools json; do
		set -- $(sizes "$S/$f")
		[ "$1" = "$2" ] || bad+=" $f:cat=$1,stat=$2"
	done
	j=$(jq -r .gateway_ip "$S/json")
	[ "$j" = "10.$i.0.1" ] || bad+=" json.gateway_ip=$j"
done
vn_eq "" "$bad" "cidr rewritten 15 times: gateway_ip, pools, json and stat sizes follow at once"

# ---- status and error after a failed write, and after the good one ------------------
cat "$N/error" "$N/status" "$N/mtu" >/dev/null
vn_expect_fail EINVAL vn_w "$N/mtu" 12
vn_match "mtu" "$(cat "$N/error")" "error says why right after the failed write"
vn_eq "$(cat "$N/error" | wc -c)" "$(stat -c %s "$N/error")" "error: stat size matches cat after the failure"
vn_ok vn_w "$N/mtu" 1400
vn_eq "" "$(cat "$N/error")" "error is empty right after a good write"
vn_eq 0 "$(stat -c %s "$N/error")" "error: stat size 0 right after the good write"
vn_eq 1400 "$(jq -r .mtu "$N/json")" "json follows mtu at once"
vn_ok vn_w "$N/admin_state" down
vn_eq DOWN "$(cat "$N/status")" "status DOWN right after admin_state down"
vn_ok vn_w "$N/admin_state" up
vn_eq ACTIVE "$(cat "$N/status")" "status ACTIVE right after admin_state up"

# ---- a port's device appears when it is bound, goes when unbound ----------------------
vn_host h1
P=$N/ports/p1
vn_ok mkdir "$P"
cat "$P/device" "$P/status" "$P/json" >/dev/null
vn_eq "" "$(cat "$P/device")" "no device while unbound"
vn_ok vn_w "$P/netns" /run/netns/h1
vn_match '^vnp-' "$(cat "$P/device")" "device appears right after the bind"
vn_eq ACTIVE "$(cat "$P/status")" "port status right after the bind"
set -- $(sizes "$P/device")
vn_eq "$1" "$2" "device: stat size matches cat after the bind"
vn_match '^vnp-' "$(jq -r .device "$P/json")" "port json has the device"
vn_ok vn_w "$P/netns" ""
vn_eq "" "$(cat "$P/device")" "device is gone right after the unbind"
vn_eq 0 "$(stat -c %s "$P/device")" "device: stat size 0 after the unbind"
vn_ok rmdir "$P"
vn_true "the port is gone for stat" test ! -e "$P"

# ---- a router leg appears in the network's ports/ and json at once --------------------
R=$M/routers/cr
vn_ok mkdir "$R"
# the network already has its DHCP port (its subnet has enable_dhcp 1)
dp=$(ls "$N/ports")
vn_match '^dhcp$' "$dp" "the network's DHCP port is listed"
jq . "$N/json" >/dev/null
vn_ok vn_w "$R/interfaces" c1-sub
leg=$(ls "$N/ports" | grep -vxF "$dp")
vn_match '^qr-' "$leg" "the leg is listed right after the interfaces write"
vn_eq "$(vn_lines "$dp" "$leg")" "$(ls "$N/ports")" "ports/ lists exactly the DHCP port and the leg"
vn_eq "$dp,$leg" "$(jq -r '.ports | join(",")' "$N/json")" "the network's json lists the leg at once"
vn_match 'router_interface' "$(cat "$N/ports/$leg/device_owner")" "the leg reads as a router interface"
vn_ok vn_w "$R/interfaces" ""
vn_eq "$dp" "$(ls "$N/ports")" "the leg is gone from ports/ right after"
vn_true "the leg's directory is gone for stat" test ! -e "$N/ports/$leg"
vn_eq "$dp" "$(jq -r '.ports | join(",")' "$N/json")" "and from the json"
vn_ok rmdir "$R"

# ---- a router's gateway_ip follows its gateway port (another object) at once ------------
# gateway_ip is the fixed address of the router's port on the external
# network: a value of the router derived from a port it owns.
vn_ok mkdir "$M/networks/pub2"
vn_ok vn_w "$M/networks/pub2/external" 1
vn_ok mkdir "$M/networks/pub2/subnets/pub2-sub"
vn_ok vn_w "$M/networks/pub2/subnets/pub2-sub/enable_dhcp" 0 # its ports: the gateway alone
vn_ok vn_w "$M/networks/pub2/subnets/pub2-sub/cidr" 198.51.100.0/24
vn_ok mkdir "$R"
vn_ok vn_w "$R/external_gateway" public
gw1=$(cat "$R/gateway_ip")
vn_match '^172\.24\.4\.[0-9]+$' "$gw1" "gateway_ip is an address of public"
vn_eq "$gw1" "$(jq -r .gateway_ip "$R/json")" "the router's json agrees"
sizes "$R/gateway_ip" >/dev/null
vn_ok vn_w "$R/external_gateway" pub2
vn_match '^198\.51\.100\.[0-9]+$' "$(cat "$R/gateway_ip")" "gateway_ip follows a new gateway port at once"
vn_eq "$(cat "$R/gateway_ip")" "$(jq -r .gateway_ip "$R/json")" "and the json"
read -r a b <<<"$(sizes "$R/gateway_ip")"
vn_eq "$a" "$b" "gateway_ip: stat size matches cat after the change"
gp=$(ls "$M/networks/pub2/ports")
vn_eq "pub2-sub $(cat "$R/gateway_ip")" "$(cat "$M/networks/pub2/ports/$gp/fixed_ips")" "the port holds what the router shows"
vn_eq "" "$(ls "$M/networks/public/ports")" "the old gateway port is gone from public's ports/ at once"
vn_ok vn_w "$R/external_gateway" ""
vn_eq "" "$(cat "$R/gateway_ip")" "gateway_ip empty right after the gateway is cleared"
vn_eq 0 "$(stat -c %s "$R/gateway_ip")" "gateway_ip: stat size 0 after the clear"
vn_ok rmdir "$R"
vn_ok rm -r "$M/networks/pub2"

# ---- a network made and removed shows and goes at once --------------------------------
ls "$M/networks" >/dev/null
vn_ok mkdir "$M/networks/c2"
vn_match c2 "$(ls "$M/networks")" "a new network is listed at once"
vn_eq 1500 "$(cat "$M/networks/c2/mtu")" "and reads"
vn_ok rmdir "$M/networks/c2"
vn_true "gone at once" test ! -e "$M/networks/c2/mtu"
vn_ok mkdir "$M/networks/c2"
vn_ok vn_w "$M/networks/c2/mtu" 1300
vn_ok rmdir "$M/networks/c2"
vn_ok mkdir "$M/networks/c2"
vn_eq 1500 "$(cat "$M/networks/c2/mtu")" "made again under the same name: its own value, not the cached one"
vn_ok rmdir "$M/networks/c2"

# ---- listings the kernel keeps: what reading them means still reaches the daemon ------
# A listing read twice is served by the kernel the second time (the
# daemon sees the OPENDIR alone). rm -r may unlink id and status only
# because it listed the directory, and cp -r finds the attributes of what
# it made absent only because it listed what it copies: both come from
# the OPENDIR now.
L=$M/networks/lst
vn_ok mkdir "$L" "$L/subnets/lst-sub"
vn_ok vn_w "$L/mtu" 1400
ls -R "$L" >/dev/null
ls -R "$L" >/dev/null
out=$(cp -r "$L" "$M/networks/lst2" 2>&1 || true) # id, status...: errors (tools.sh)
vn_eq 1400 "$(cat "$M/networks/lst2/mtu")" "cp -r of a kept listing clones its writable values"
vn_eq 0 "$(printf '%s\n' "$out" | grep -c 'lst2/mtu' || true)" "with no error for them"
ls -R "$M/networks/lst2" >/dev/null
ls -R "$M/networks/lst2" >/dev/null
vn_ok rm -r "$L" "$M/networks/lst2"
vn_true "rm -r of kept listings removes them" test ! -e "$L" -a ! -e "$M/networks/lst2"
vn_eq "" "$(ls "$M/networks" | grep -x 'lst2\?')" "and the collection's kept listing drops them"

# ---- writers busy: readers see whole values, stat sizes of real values ----------------
# mtu alternates between values of 3 and 4 digits: a size from one and
# bytes from the other would show as a cut or padded value.
STOP=$VN_TMP/stop
rm -f "$STOP"
vn_ok vn_w "$N/mtu" 900
writer() {
	local k=0
	while [ ! -e "$STOP" ] && [ $k -lt 150 ]; do
		echo 900 >"$N/mtu" || echo "write 900 failed" >>"$VN_TMP/cache-bad"
		echo 1500 >"$N/mtu" || echo "write 1500 failed" >>"$VN_TMP/cache-bad"
		k=$((k + 1))
	done
}
reader() {
	local k=0 v s
	while [ ! -e "$STOP" ] && [ $k -lt 400 ]; do
		v=$(cat "$N/mtu")
		s=$(stat -c %s "$N/mtu")
		case $v in 900 | 1500) ;; *) echo "read '$v'" >>"$VN_TMP/cache-bad" ;; esac
		case $s in 4 | 5) ;; *) echo "stat size $s" >>"$VN_TMP/cache-bad" ;; esac
		j=$(jq -r .mtu "$N/json" 2>&1)
		case $j in 900 | 1500) ;; *) echo "json mtu '$j'" >>"$VN_TMP/cache-bad" ;; esac
		k=$((k + 1))
	done
}
writer &
w1=$!
writer &
w2=$!
reader &
r1=$!
reader &
r2=$!
wait $r1 $r2 || true
touch "$STOP"
wait $w1 $w2 || true
vn_eq "" "$(sort "$VN_TMP/cache-bad" 2>/dev/null | uniq -c | head -5)" "under two writers: reads are whole values, stat sizes real ones"
v=$(cat "$N/mtu")
vn_eq "$(printf '%s\n' "$v" | wc -c)" "$(stat -c %s "$N/mtu")" "after the writers: stat size matches cat"
vn_eq "$v" "$(jq -r .mtu "$N/json")" "after the writers: json matches the file"
vn_eq "$v" "$(vn_link_mtu "$(cat "$N/bridge")")" "after the writers: the kernel matches the file"

# ---- every file of the tree: stat size equals what cat returns ------------------------
bad=""
while IFS= read -r -d '' f; do
	set -- $(sizes "$f")
	[ "$1" = "$2" ] || bad+=" ${f#"$M"}:cat=$1,stat=$2"
done < <(find "$M" -type f ! -path "$M/errors" -print0) # errors: size 0, per reader (design notes)
vn_eq "" "$bad" "every file: stat size matches cat"

vn_ok rm -r "$N"

# ---- a kept listing is served by the kernel: a second ls is an OPENDIR alone ---------
# (libfuse's request trace, -o debug, says what reached the daemon; the
# notifier's passes 50 ms and 1 s after the mkdir drop the listing, so
# the first ls comes after them)
vn_restart --no-defaults -o debug
vn_ok mkdir "$M/networks/kl"
sleep 1.5
ls "$M/networks/kl" >/dev/null
ls "$M/networks" >/dev/null
from=$(($(wc -l <"$VN_TMP/daemon.log") + 1))
ls "$M/networks/kl" >/dev/null
ls "$M/networks" >/dev/null
sleep 0.2 # the asynchronous RELEASEDIRs
ops=$(tail -n +"$from" "$VN_TMP/daemon.log" | grep -oE 'opcode: (OPENDIR|READDIR)' | sort | uniq -c | awk '{print $3 "=" $1}' | paste -sd' ')
vn_eq "OPENDIR=2" "$ops" "listed again: two OPENDIRs reach the daemon, no READDIR"
vn_ok rmdir "$M/networks/kl"
vn_done
