#!/bin/bash
# SPDX-License-Identifier: MIT
# DHCP (issue 9): a network with an enable_dhcp subnet gets qdhcp-<id>, a
# DHCP port (network:dhcp) plugged there and one real dnsmasq in static
# mode. Test hosts (namespaces bound as ports) run busybox udhcpc with a
# hook script and must receive exactly their port's address, the gateway,
# the DNS servers, the MTU and the host routes. Bad dns_nameservers and
# host_routes never reach dnsmasq. Port and subnet changes reach dnsmasq
# (SIGHUP, restart); a killed dnsmasq is restarted within a second and the
# death shows in the network's error; after a SIGKILL of the daemon there is
# still exactly one dnsmasq per network (a leftover one of ours is ended, a
# stranger's pid in the pid file is not touched); two networks with the
# same cidr answer each their own hosts; enable_dhcp 0 and rm -r remove
# the namespace, the process and the files.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../netlib.sh"
vn_sandbox "$@"
command -v dnsmasq >/dev/null || vn__skip "dnsmasq (dnsmasq-base) is missing"
command -v busybox >/dev/null || vn__skip "busybox is missing"
vn_start --no-defaults

M=$VN_MNT
N1=$M/networks/n1
# dnsmasqs FILTER: pids of dnsmasq processes whose command line has FILTER
dnsmasqs() {
	local p
	for p in $(pgrep -x dnsmasq || true); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$1" && echo "$p"
	done | sort -n || true
}
qdhcp() { ip netns list | awk '$1 ~ /^qdhcp-/ {print $1}' | LC_ALL=C sort; }
# n_dnsmasqs FILTER, is_one_new FILTER OLDPID: for vn_wait_for
n_dnsmasqs() { dnsmasqs "$1" | wc -w; }
one_new() { [ "$(n_dnsmasqs "$1")" = 1 ] && [ "$(dnsmasqs "$1")" != "$2" ]; }
none_of() { [ -z "$(dnsmasqs "$1")" ]; }
ranges() { tr '\0' '\n' <"/proc/$(dnsmasqs "$1")/cmdline" 2>/dev/null | grep -c -- --dhcp-range; }

# ---- a network with DHCP ----------------------------------------------------
mkdir "$N1" "$N1/subnets/s1"
vn_ok vn_w "$N1/mtu" 1400
vn_eq "" "$(qdhcp)" "no qdhcp namespace while the network has no subnet"
vn_ok vn_w "$N1/subnets/s1/cidr" 10.0.0.0/24
ID1=$(vn_cat "$N1/id")
D1=$VN_STATE/dhcp/$ID1
vn_eq "qdhcp-$ID1" "$(qdhcp)" "ip netns lists qdhcp-<network id>"
DP1=$(basename "$(grep -l network:dhcp "$N1"/ports/*/device_owner | xargs dirname)")
vn_eq "dhcp $DP1" "dhcp $(vn_ls "$N1/ports")" "the network has one port, its DHCP port"
vn_eq dhcp "$DP1" "the DHCP port is called dhcp"
vn_eq "network:dhcp" "$(vn_cat "$N1/ports/$DP1/device_owner")" "DHCP port's device_owner"
vn_eq "/run/netns/qdhcp-$ID1 static ACTIVE" \
	"$(vn_cat "$N1/ports/$DP1/netns") $(vn_cat "$N1/ports/$DP1/ipconfig") $(vn_cat "$N1/ports/$DP1/status")" \
	"DHCP port is plugged into qdhcp-<id>, statically addressed"
DPIF=$(vn_cat "$N1/ports/$DP1/ifname")
vn_match '^ns-[0-9a-f]{12}$' "$DPIF" "DHCP port's interface is ns-<id digits>"
vn_eq "s1 10.0.0.2" "$(vn_cat "$N1/ports/$DP1/fixed_ips")" "DHCP port holds the first free address"
vn_eq "10.0.0.2/24" "$(ip -n "qdhcp-$ID1" -j addr show dev "$DPIF" | jq -r '.[0].addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)"')" \
	"that address is on ns- inside qdhcp-<id>"
some_of() { [ -n "$(dnsmasqs "$1")" ]; }
vn_true "dnsmasq of n1 is running" vn_wait_for 50 some_of "$D1/pid"
PID1=$(dnsmasqs "$D1/pid")
vn_eq 1 "$(wc -w <<<"$PID1")" "exactly one dnsmasq for n1"
CMD=$(tr '\0' '\n' <"/proc/$PID1/cmdline")
for want in --port=0 --no-ping --no-resolv --no-hosts --keep-in-foreground "--interface=$DPIF" \
	"--dhcp-hostsfile=$D1/hosts" "--dhcp-optsfile=$D1/opts" "--dhcp-leasefile=$D1/leases" \
	"--pid-file=$D1/pid"; do
	vn_true "dnsmasq runs with $want" grep -qxF -- "$want" <<<"$CMD"
done
vn_match '^--dhcp-range=set:s[0-9a-f]{14},10\.0\.0\.0,static,255\.255\.255\.0,86400s$' \
	"$(grep -- --dhcp-range <<<"$CMD")" "static range of s1, lease time one day"
vn_eq "$(readlink "/proc/$PID1/ns/net")" "$(ip netns exec "qdhcp-$ID1" readlink /proc/self/ns/net)" \
	"dnsmasq runs inside qdhcp-<id>"
vn_eq "$VN_PID" "$(ps -o ppid= -p "$PID1" | tr -d ' ')" "dnsmasq is the daemon's child (supervised)"

# ---- bad input never reaches dnsmasq -----------------------------------------
S1=$N1/subnets/s1
vn_ok vn_w "$S1/dns_nameservers" "$(vn_lines 1.1.1.1 8.8.8.8)"
vn_ok vn_w "$S1/host_routes" "192.168.50.0/24 10.0.0.254"
opts_before=$(cat "$D1/opts")
vn_t_bad EINVAL "$S1/dns_nameservers" "1.1.1.1 --conf-file=/etc/shadow" "not an IP address"
vn_t_bad EINVAL "$S1/dns_nameservers" "1.1.1.1,9.9.9.9" "not an IP address"
vn_t_bad EINVAL "$S1/dns_nameservers" "$(vn_lines 9.9.9.9 --conf-file=/etc/shadow)" "not an IP address"
vn_t_bad EINVAL "$S1/host_routes" "10.9.0.0/24 10.0.0.9 --dhcp-script=/bin/sh" "is not"
vn_t_bad EINVAL "$S1/host_routes" "10.9.0.0/24,10.0.0.9" "is not"
vn_t_bad EINVAL "$S1/host_routes" "$(vn_lines "10.9.0.0/24 10.0.0.9" "option:router,6.6.6.6")" "is not"
vn_eq "$opts_before" "$(cat "$D1/opts")" "dnsmasq's options file is unchanged by the refused writes"
vn_eq 0 "$(grep -c -e shadow -e dhcp-script -e 6.6.6.6 -e 9.9.9.9 "$D1/opts" || true)" \
	"no refused text in the options file"

# ---- a host gets exactly its port's values ------------------------------------
vn_host h1
mkdir "$N1/ports/p1"
vn_ok vn_w "$N1/ports/p1/netns" /run/netns/h1
IP1=$(vn_cat "$N1/ports/p1/fixed_ips" | awk '{print $2}')
vn_eq "10.0.0.3" "$IP1" "p1's fixed IP"
# (the hosts file is rewritten by a job right after the write returns)
hosts_is() { [ "$(cat "$D1/hosts")" = "$1" ]; }
vn_true "hosts file: one MAC,IP line per port (not the DHCP port's own)" \
	vn_wait_for 20 hosts_is "$(vn_cat "$N1/ports/p1/mac_address"),10.0.0.3"
L=$VN_TMP/h1.lease
vn_true "udhcpc in h1 gets a lease" vn_lease h1 "$L" mtu staticroutes
vn_eq "10.0.0.3/24" "$(vn_lease_got "$L" ip)/$(vn_lease_got "$L" mask)" "h1 got p1's fixed IP"
vn_eq "10.0.0.1" "$(vn_lease_got "$L" router)" "h1 got the gateway"
vn_eq "1.1.1.1 8.8.8.8" "$(vn_lease_got "$L" dns)" "h1 got the DNS servers"
vn_eq "1400" "$(vn_lease_got "$L" mtu)" "h1 got the network's MTU (option 26)"
vn_eq "192.168.50.0/24 10.0.0.254 0.0.0.0/0 10.0.0.1" "$(vn_lease_got "$L" staticroutes)" \
	"h1 got the host routes (option 121, with the default route RFC 3442 asks for)"
vn_eq "86400" "$(vn_lease_got "$L" lease)" "lease time one day"
vn_eq "10.0.0.3/24" "$(ip -n h1 -j addr show dev eth0 | jq -r '.[0].addr_info[] | select(.family == "inet") | "\(.local)/\(.prefixlen)"')" \
	"the hook put the address on h1's eth0"

# gateway none: no router option (dnsmasq would offer itself otherwise)
vn_ok vn_w "$S1/gateway_ip" none
vn_true "lease without a gateway" vn_lease h1 "$L" mtu staticroutes
vn_eq "|192.168.50.0/24 10.0.0.254" "$(vn_lease_got "$L" router)|$(vn_lease_got "$L" staticroutes)" \
	"no router option and no default route when gateway_ip is none"
vn_ok vn_w "$S1/gateway_ip" 10.0.0.1

# ---- port changes reach dnsmasq (hosts rewritten, SIGHUP) ---------------------
vn_ok vn_w "$N1/ports/p1/fixed_ips" "s1 10.0.0.50"
vn_true "hosts file follows p1's new address" vn_wait_for 20 hosts_is "$(vn_cat "$N1/ports/p1/mac_address"),10.0.0.50"
vn_eq "$PID1" "$(dnsmasqs "$D1/pid")" "a port change does not restart dnsmasq"
vn_true "lease after the change" vn_lease h1 "$L" mtu staticroutes
vn_eq "10.0.0.50" "$(vn_lease_got "$L" ip)" "h1 gets p1's new address (SIGHUP re-read the hosts file)"
hosts_lines() { [ "$(wc -l <"$D1/hosts")" = "$1" ]; }
mkdir "$N1/ports/p9"
vn_true "a new port adds its line" vn_wait_for 20 hosts_lines 2
rmdir "$N1/ports/p9"
vn_true "a removed port takes its line away" vn_wait_for 20 hosts_lines 1
vn_ok vn_w "$S1/dns_nameservers" 9.9.9.9
vn_true "lease after a DNS change" vn_lease h1 "$L" mtu staticroutes
vn_eq "9.9.9.9" "$(vn_lease_got "$L" dns)" "a dns_nameservers change reaches the host (SIGHUP re-read opts)"
vn_ok vn_w "$N1/mtu" 1450
vn_true "lease after an MTU change" vn_lease h1 "$L" mtu staticroutes
vn_eq "1450" "$(vn_lease_got "$L" mtu)" "a network mtu change reaches the host"

# ---- the DHCP port is the daemon's ---------------------------------------------
# like a router's legs (tools.sh): its files are read-only, but security_groups
vn_eq "444 444 444 644" "$(stat -c %a "$N1/ports/$DP1/fixed_ips" "$N1/ports/$DP1/mac_address" \
	"$N1/ports/$DP1/netns" "$N1/ports/$DP1/security_groups" | xargs)" "the DHCP port's modes"
vn_expect_fail EACCES vn_w "$N1/ports/$DP1/fixed_ips" "s1 10.0.0.9"
vn_ok rmdir "$N1/ports/$DP1"
vn_eq "s1 10.0.0.2" "$(vn_cat "$N1/ports/$DP1/fixed_ips")" "rmdir of the DHCP port: it stays, unchanged"
vn_expect_fail EPERM rm "$N1/ports/$DP1/fixed_ips"
vn_match "fixed_ips cannot be removed or replaced: port '$DP1' is the DHCP port of network 'n1'" \
	"$(vn_cat "$N1/ports/$DP1/error")" "error says why, and whose port it is"
vn_eq "s1 10.0.0.2" "$(vn_cat "$N1/ports/$DP1/fixed_ips")" "unlink of its fixed_ips: refused, no effect"
vn_eq "$PID1" "$(dnsmasqs "$D1/pid")" "dnsmasq untouched by those"

# ---- a subnet change that needs a restart ---------------------------------------
mkdir "$N1/subnets/s1b"
vn_ok vn_w "$N1/subnets/s1b/cidr" 10.1.0.0/24
vn_eq "$(vn_lines "s1 10.0.0.2" "s1b 10.1.0.2")" "$(vn_cat "$N1/ports/$DP1/fixed_ips")" \
	"DHCP port gets an address on the new DHCP subnet"
vn_true "dnsmasq restarted with two ranges" vn_wait_for 30 one_new "$D1/pid" "$PID1"
PID1=$(dnsmasqs "$D1/pid")
vn_eq 2 "$(tr '\0' '\n' <"/proc/$PID1/cmdline" | grep -c -- --dhcp-range)" "two static ranges"
vn_ok vn_w "$N1/subnets/s1b/enable_dhcp" 0
vn_eq "s1 10.0.0.2" "$(vn_cat "$N1/ports/$DP1/fixed_ips")" "enable_dhcp 0 on s1b: the DHCP port leaves it"
ranges_is() { [ "$(ranges "$1")" = "$2" ]; }
vn_true "back to one range" vn_wait_for 30 ranges_is "$D1/pid" 1
PID1=$(dnsmasqs "$D1/pid")

# ---- supervision: a killed dnsmasq comes back within a second ------------------
kill -KILL "$PID1"
t0=$(date +%s%N)
vn_true "a new dnsmasq within 1 s" vn_wait_for 10 one_new "$D1/pid" "$PID1"
vn_true "lease from the new dnsmasq" vn_lease h1 "$L" mtu staticroutes
t1=$(date +%s%N)
echo "# kill to lease: $(((t1 - t0) / 1000000)) ms"
vn_eq "10.0.0.50" "$(vn_lease_got "$L" ip)" "same lease after the restart"
vn_match "dnsmasq \(pid $PID1\) was killed by signal 9.*restarting it" "$(vn_cat "$N1/error")" \
	"the death is recorded in the network's error"
no_zombies() { [ -z "$(vn_zombies)" ]; }
vn_true "no zombie children" vn_wait_for 10 no_zombies
vn_eq 1 "$(dnsmasqs "$D1/pid" | wc -w)" "still exactly one dnsmasq for n1"
PID1=$(dnsmasqs "$D1/pid")

# ---- two networks with the same cidr are isolated --------------------------------
N2=$M/networks/n2
mkdir "$N2" "$N2/subnets/s2"
vn_ok vn_w "$N2/subnets/s2/cidr" 10.0.0.0/24
vn_ok vn_w "$N2/subnets/s2/gateway_ip" 10.0.0.254
vn_ok vn_w "$N2/subnets/s2/dns_nameservers" 4.4.4.4
ID2=$(vn_cat "$N2/id")
D2=$VN_STATE/dhcp/$ID2
vn_host h2
mkdir "$N2/ports/p2"
vn_ok vn_w "$N2/ports/p2/fixed_ips" "s2 10.0.0.77"
vn_ok vn_w "$N2/ports/p2/netns" /run/netns/h2
vn_eq "$(vn_lines "qdhcp-$ID1" "qdhcp-$ID2" | LC_ALL=C sort)" "$(qdhcp)" "one qdhcp namespace per network"
L2=$VN_TMP/h2.lease
vn_true "udhcpc in h2 gets a lease" vn_lease h2 "$L2" mtu staticroutes
vn_eq "10.0.0.77 10.0.0.254 4.4.4.4" "$(vn_lease_got "$L2" ip) $(vn_lease_got "$L2" router) $(vn_lease_got "$L2" dns)" \
	"h2 gets n2's answer"
vn_true "udhcpc in h1 again" vn_lease h1 "$L" mtu staticroutes
vn_eq "10.0.0.50 10.0.0.1 9.9.9.9" "$(vn_lease_got "$L" ip) $(vn_lease_got "$L" router) $(vn_lease_got "$L" dns)" \
	"h1 still gets n1's answer"
vn_eq 0 "$(grep -c 10.0.0.77 "$D1/hosts" || true)" "n1's hosts file knows nothing of n2's ports"

# ---- SIGKILL the daemon, start again ----------------------------------------------
PID2=$(dnsmasqs "$D2/pid")
CMD1=()
mapfile -d '' CMD1 <"/proc/$PID1/cmdline"
vn_kill9
vn_true "dnsmasq ends with the daemon (parent-death signal)" vn_wait_for 20 none_of "$VN_STATE/dhcp/"
# a leftover dnsmasq of ours (as if it outlived its daemon), and a stranger
# whose pid sits in n2's pid file: the first must go, the second must stay
ip netns exec "qdhcp-$ID1" "${CMD1[@]}" &
STRAY=$!
some_of() { [ -n "$(dnsmasqs "$1")" ]; }
vn_wait_for 30 some_of "$D1/pid" || true
vn_eq "$STRAY" "$(dnsmasqs "$D1/pid")" "a leftover dnsmasq of ours runs before the restart"
sleep 1000 &
STRANGER=$!
echo "$STRANGER" >"$D2/pid"
vn_start --no-defaults
one_of() { [ "$(n_dnsmasqs "$1")" = 1 ]; }
gone() { [ ! -e "/proc/$1/cmdline" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
vn_true "after the restart: exactly one dnsmasq for n1, a new one" vn_wait_for 50 one_new "$D1/pid" "$STRAY"
vn_true "after the restart: exactly one dnsmasq for n2" vn_wait_for 50 one_of "$D2/pid"
vn_true "the leftover dnsmasq was ended" vn_wait_for 20 gone "$STRAY"
wait "$STRAY" 2>/dev/null || true
vn_true "the stranger in n2's pid file is alive" kill -0 "$STRANGER"
kill "$STRANGER"
wait "$STRANGER" 2>/dev/null || true
vn_true "udhcpc in h1 after the restart" vn_lease h1 "$L" mtu staticroutes
vn_true "udhcpc in h2 after the restart" vn_lease h2 "$L2" mtu staticroutes
vn_eq "10.0.0.50 10.0.0.77" "$(vn_lease_got "$L" ip) $(vn_lease_got "$L2" ip)" "same leases after the restart"
vn_eq "$(vn_lines "qdhcp-$ID1" "qdhcp-$ID2" | LC_ALL=C sort)" "$(qdhcp)" "same qdhcp namespaces"
vn_kernel_is_model "after restart"

# ---- enable_dhcp 0 removes the service ----------------------------------------------
PID2=$(dnsmasqs "$D2/pid")
vn_ok vn_w "$N2/subnets/s2/enable_dhcp" 0
vn_eq "qdhcp-$ID1" "$(qdhcp)" "enable_dhcp 0: n2's namespace is gone"
vn_eq "p2" "$(vn_ls "$N2/ports")" "enable_dhcp 0: n2's DHCP port is gone"
vn_true "enable_dhcp 0: n2's dnsmasq is gone" vn_wait_for 20 gone "$PID2"
vn_true "enable_dhcp 0: n2's files are gone" test ! -e "$D2"
vn_ok vn_w "$N2/subnets/s2/enable_dhcp" 1
vn_true "enable_dhcp 1 again: dnsmasq is back" vn_wait_for 50 one_of "$D2/pid"
vn_true "and serves h2" vn_lease h2 "$L2" mtu staticroutes

# ---- rm -r of a network without DHCP sets none up ----------------------------------------
# rm -r unlinks a subnet's files before its rmdir, and the unlink of
# enable_dhcp resets it to 1: with a cidr that set the whole service up
# (namespace, DHCP port, a dnsmasq) for the rmdir to tear it down again.
# Now a reset that brings DHCP up is set up by a job a moment later that
# looks at the model then. Every dnsmasq spawned from here is counted: a
# wrapper bound over the binary (this mount namespace only) logs its pid.
mkdir "$VN_TMP/real"
cp "$(command -v dnsmasq)" "$VN_TMP/real/dnsmasq"
SPAWNS=$VN_TMP/spawns
: >"$SPAWNS"
printf '#!/bin/sh\necho "$$ $*" >>%s\nexec %s "$@"\n' "$SPAWNS" "$VN_TMP/real/dnsmasq" >"$VN_TMP/dnsmasq-wrap"
chmod 755 "$VN_TMP/dnsmasq-wrap"
mount --bind "$VN_TMP/dnsmasq-wrap" /usr/sbin/dnsmasq
spawns() { grep -c . "$SPAWNS" || true; }
qdhcp_before=$(qdhcp)
for k in 1 2 3; do
	N3=$M/networks/n3
	mkdir "$N3" "$N3/subnets/s3a" "$N3/subnets/s3b" "$N3/ports/p3"
	for s in a b; do
		vn_w "$N3/subnets/s3$s/enable_dhcp" 0
		vn_w "$N3/subnets/s3$s/cidr" "10.3$k.$([ $s = a ] && echo 1 || echo 2).0/24"
	done
	ID3=$(vn_cat "$N3/id")
	vn_ok rm -r "$N3"
	vn_true "rm -r n3 ($k): gone" test ! -e "$N3"
done
sleep 0.5 # past the settle time: a start that came late would show now
vn_eq 0 "$(spawns)" "rm -r of a network whose subnets have enable_dhcp 0 spawns no dnsmasq (3 times)"
vn_eq "$qdhcp_before" "$(qdhcp)" "... and leaves no qdhcp namespace"
vn_true "... and no state directory" test ! -e "$VN_STATE/dhcp/$ID3"
vn_eq "" "$(grep -F "$ID3" "$VN_TMP/daemon.log" | grep -v -e ' created network n3 ' -e ' deleted network n3 ' || true)" \
	"... and nothing about its DHCP in the daemon's log"

# a lone rm of enable_dhcp is a reset like any other: DHCP comes up
N4=$M/networks/n4
mkdir "$N4" "$N4/subnets/s4"
vn_ok vn_w "$N4/subnets/s4/enable_dhcp" 0
vn_ok vn_w "$N4/subnets/s4/cidr" 10.40.0.0/24
mkdir "$N4/ports/p4"
vn_host h4
vn_ok vn_w "$N4/ports/p4/netns" /run/netns/h4
ID4=$(vn_cat "$N4/id")
D4=$VN_STATE/dhcp/$ID4
t0=${EPOCHREALTIME/./}
vn_ok rm "$N4/subnets/s4/enable_dhcp"
st=$(vn_cat "$N4/status")
t1=${EPOCHREALTIME/./}
vn_eq 1 "$(vn_cat "$N4/subnets/s4/enable_dhcp")" "rm enable_dhcp: back to its default, 1"
if [ $((t1 - t0)) -lt 80000 ]; then
	vn_eq BUILD "$st" "right after the reset the network reads BUILD (its DHCP service is on its way)"
fi
status_is() { [ "$(vn_cat "$1/status")" = "$2" ]; }
vn_true "then ACTIVE" vn_wait_for 30 status_is "$N4" ACTIVE
vn_true "then a dnsmasq runs for n4" vn_wait_for 50 one_of "$D4/pid"
vn_eq "qdhcp-$ID4" "$(qdhcp | grep -x "qdhcp-$ID4")" "n4 has its qdhcp namespace"
vn_eq "dhcp p4" "$(vn_ls "$N4/ports" | xargs)" "n4 has its DHCP port"
vn_eq 1 "$(spawns)" "one dnsmasq was spawned, n4's"
vn_eq "" "$(vn_cat "$N4/error")" "no error"
P4IP=$(vn_cat "$N4/ports/p4/fixed_ips" | awk '{print $2}')
hosts4() { grep -q "$P4IP" "$D4/hosts" 2>/dev/null; }
vn_true "n4's hosts file has p4" vn_wait_for 20 hosts4
L4=$VN_TMP/h4.lease
vn_true "udhcpc in h4 gets a lease" vn_lease h4 "$L4" mtu staticroutes
vn_eq "$P4IP" "$(vn_lease_got "$L4" ip)" "h4 got p4's address from the DHCP service the reset brought up"
vn_ok vn_w "$N4/ports/p4/netns" ""
vn_ok rm -r "$N4"
vn_eq "$qdhcp_before" "$(qdhcp)" "rm -r n4: its namespace is gone"
vn_true "rm -r n4: its dnsmasq is gone" vn_wait_for 20 none_of "$D4/pid"
vn_eq 1 "$(spawns)" "and no other dnsmasq was spawned"
umount /usr/sbin/dnsmasq

# ---- rm -r leaves nothing ---------------------------------------------------------------
vn_ok vn_w "$N2/ports/p2/netns" ""
vn_ok rm -r "$N2"
vn_true "rm -r n2: gone from the tree" test ! -e "$N2"
vn_eq "qdhcp-$ID1" "$(qdhcp)" "rm -r n2: no qdhcp namespace left"
vn_true "rm -r n2: no dnsmasq left" vn_wait_for 20 none_of "$D2/pid"
vn_true "rm -r n2: no files left" test ! -e "$D2"
vn_ok vn_w "$N1/ports/p1/netns" ""
vn_ok rm -r "$N1"
vn_eq "" "$(qdhcp)" "rm -r n1: no qdhcp namespace left"
vn_true "rm -r n1: no dnsmasq left" vn_wait_for 20 none_of "$VN_STATE/dhcp/"
vn_eq "" "$(ls -A "$VN_STATE/dhcp")" "rm -r n1: no files left"
vn_true "no zombie children at the end" vn_wait_for 10 no_zombies
vn_done
