#!/bin/bash
# SPDX-License-Identifier: MIT
# Security groups (issue 10): the kind, the rule language, and real
# filtering of bound test hosts (busybox ping / nc inside the test's own
# namespaces only). Each case checks both what must pass and what must be
# blocked.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
vn_start -o allow_other
M=$VN_MNT
SG=$M/security_groups
BB=$(command -v busybox)

can_ping() { ip netns exec "$1" "$BB" ping -c1 -W1 "$2" >/dev/null 2>&1; }
cannot_ping() { ! ip netns exec "$1" "$BB" ping -c1 -W1 "$2" >/dev/null 2>&1; }
# tcp_ok CLIENT SERVER ADDR PORT: a TCP connection from CLIENT to ADDR:PORT
# (server in SERVER) carries a line back.
tcp_ok() {
	local out
	ip netns exec "$2" timeout 4 "$BB" nc -l -p "$4" -e echo hello >/dev/null 2>&1 &
	local srv=$!
	sleep 0.2
	out=$(ip netns exec "$1" timeout 2 "$BB" nc -w 1 "$3" "$4" </dev/null 2>/dev/null || true)
	kill "$srv" 2>/dev/null || true
	wait "$srv" 2>/dev/null || true
	[ "$out" = hello ]
}
tcp_blocked() { ! tcp_ok "$@"; }
# bind_host NS NET PORT: a static port PORT on NET bound into host NS
bind_host() {
	vn_host "$1"
	vn_ok mkdir "$M/networks/$2/ports/$3"
	vn_ok vn_w "$M/networks/$2/ports/$3/ipconfig" static
	vn_ok vn_w "$M/networks/$2/ports/$3/netns" "/run/netns/$1"
}
ipof() { vn_cat "$M/networks/$1/ports/$2/fixed_ips" | awk '{print $2}'; }

# ---- the kind ------------------------------------------------------------------------
vn_eq default "$(vn_ls "$SG")" "security_groups holds default from the start"
vn_eq "egress any
ingress any group default" "$(vn_cat "$SG/default/rules")" "default group's rules"
vn_expect_fail EBUSY rmdir "$SG/default"
vn_ok mkdir "$SG/web"
vn_eq "egress any" "$(vn_cat "$SG/web/rules")" "a new group starts with egress any"

# ---- default group: members reach each other ------------------------------------------
vn_ok mkdir "$M/networks/n"
vn_ok mkdir "$M/networks/n/subnets/s"
vn_ok vn_w "$M/networks/n/subnets/s/cidr" 10.0.0.0/24
bind_host h1 n p1
bind_host h2 n p2
bind_host h3 n p3
ip1=$(ipof n p1); ip2=$(ipof n p2); ip3=$(ipof n p3)
vn_true "h1 pings h2 (both in default)" can_ping h1 "$ip2"
vn_true "h2 pings h1 (both in default)" can_ping h2 "$ip1"
vn_ok vn_w "$M/networks/n/ports/p3/security_groups" web
vn_true "h3 (web) cannot ping h1 (default)" cannot_ping h3 "$ip1"
vn_true "h1 (default) cannot ping h3 (web: no ingress)" cannot_ping h1 "$ip3"
vn_true "h1 still pings h2" can_ping h1 "$ip2"

# ---- IPv6: the same rules cover both families ---------------------------------------------
vn_ok mkdir "$M/networks/n6"
vn_ok mkdir "$M/networks/n6/subnets/s6"
vn_ok vn_w "$M/networks/n6/subnets/s6/cidr" fd00:6::/64
bind_host h61 n6 p61
bind_host h62 n6 p62
ip61=$(ipof n6 p61); ip62=$(ipof n6 p62)
ping6_ok() { # NS ADDR: DAD may hold the address for a moment
	for _ in 1 2 3 4 5; do can_ping "$1" "$2" && return 0; sleep 0.5; done
	return 1
}
vn_true "IPv6: h61 pings h62 (both in default; ND allowed)" ping6_ok h61 "$ip62"
vn_ok vn_w "$M/networks/n6/ports/p62/security_groups" web
vn_true "IPv6: h61 cannot ping h62 (web: no ingress icmp)" cannot_ping h61 "$ip62"
# the IPv6 port and icmp sets, with traffic
vn_ok vn_a "$SG/web/rules" "ingress tcp 7000"
vn_true "IPv6: 'ingress tcp 7000' lets tcp/7000 from h61 in" tcp_ok h61 h62 "$ip62" 7000
vn_true "IPv6: tcp/7001 stays blocked" tcp_blocked h61 h62 "$ip62" 7001
vn_ok vn_a "$SG/web/rules" "ingress icmp 128"
vn_true "IPv6: 'ingress icmp 128' (echo request) lets h61 ping h62" ping6_ok h61 "$ip62"
vn_ok vn_w "$SG/web/rules" "$(printf 'egress any\ningress icmp 129')"
vn_true "IPv6: with only 'ingress icmp 129' h61 cannot ping h62" cannot_ping h61 "$ip62"
vn_ok vn_w "$SG/web/rules" "egress any"
vn_ok vn_w "$M/networks/n6/ports/p62/security_groups" default
vn_true "IPv6: back in default, h61 pings h62" ping6_ok h61 "$ip62"

# ---- two networks reusing one prefix: a conntrack zone each ----------------------------------
vn_ok mkdir "$M/networks/o2"
vn_ok mkdir "$M/networks/o2/subnets/so2"
vn_ok vn_w "$M/networks/o2/subnets/so2/cidr" 10.0.0.0/24
bind_host hx1 o2 px1
bind_host hx2 o2 px2
vn_eq "$ip1 $ip2" "$(ipof o2 px1) $(ipof o2 px2)" "o2's hosts have the same addresses as h1 and h2"
vn_true "h1 pings h2 on n" can_ping h1 "$ip2"
vn_true "hx1 pings hx2 on o2 (same addresses)" can_ping hx1 "$ip2"
zones=$(ip netns exec "$VN_NS" grep "icmp .*src=$ip1 dst=$ip2 " /proc/net/nf_conntrack |
	grep -o 'zone=[0-9]*' | sort -u | wc -l)
vn_eq 2 "$zones" "the two flows are in two conntrack zones"
vn_ok vn_w "$M/networks/o2/ports/px2/security_groups" web
vn_true "o2: hx1 cannot ping hx2 (web) while h1 pings h2 on n" cannot_ping hx1 "$ip2"
vn_true "n: h1 still pings h2" can_ping h1 "$ip2"
for p in px1 px2; do
	vn_ok vn_w "$M/networks/o2/ports/$p/netns" ""
	vn_ok rmdir "$M/networks/o2/ports/$p"
done
vn_ok rm -r "$M/networks/o2"

# ---- the rule language through the file ------------------------------------------------
W=$SG/web/rules
vn_ok vn_w "$W" "$(printf 'egress any\nINGRESS  tcp 22-22 from 10.0.0.0/24\ningress udp 1-65535\ningress tcp 22 from 10.0.0.0/24')"
vn_eq "egress any
ingress tcp 22 from 10.0.0.0/24
ingress udp" "$(vn_cat "$W")" "rules read back canonical, duplicates collapsed"
vn_ok vn_a "$W" "ingress tcp 22 from 10.0.0.0/24"
vn_eq 3 "$(vn_cat "$W" | grep -c '')" ">> of a rule already there: success, no change"
vn_ok vn_a "$W" "ingress 6 23-24 from 10.0.1.0/24"
vn_eq "ingress tcp 23-24 from 10.0.1.0/24" "$(vn_cat "$W" | tail -1)" ">> appends, canonical"
before=$(vn_cat "$W")
bad=(
	"" "ingres tcp" "ingress" "ingress ipv4" "ingress tcpp" "ingress 256" "ingress -1" "ingress 01"
	"ingress tcp 0" "ingress tcp 65536" "ingress tcp 22-21" "ingress tcp 22-" "ingress tcp -22"
	"ingress tcp 22-23-24" "ingress tcp x" "ingress any 22" "ingress icmp 256" "ingress icmp 8/256"
	"ingress icmp 8/" "ingress icmp /3" "ingress 47 22" "ingress tcp 22 from" "ingress tcp 22 to 10.0.0.0/24"
	"egress tcp 22 from 10.0.0.0/24" "ingress tcp 22 from 10.0.0.1/24" "ingress tcp 22 from 10.0.0.0/33"
	"ingress tcp 22 from 10.0.0.0" "ingress tcp 22 from host" "ingress ipv6 tcp from 10.0.0.0/8"
	"ingress ipv4 tcp from 2001:db8::/32" "ingress ipv4 58" "ingress tcp group" "ingress tcp group ../x"
	"ingress tcp group .x" "ingress tcp group a/b" "ingress tcp 22 group web extra" "ingress tcp 22 22"
	"ingress tcp from 10.0.0.0/8 from 10.0.0.0/8" "ingress tcp via 10.0.0.0/8" "ingress ipv4 ipv6 tcp"
	"ingress tcp 22 from 10.0.0.0/24 group web" "ingress ipv5 tcp" "sideways any" "ingress tcp 99999"
	"ingress udp 1-65536" "ingress tcp 22,23" "ingress icmp x" "ingress icmp 8/x" "ingress tcp 2 2 2 2 2 2 2 2 2"
	"ingress tcp 22 from ::1/129" "ingress tcp 22 from 10.0.0.0/-1" "ingress tcp 22 from 1.2.3.4.5/32"
	"ingress $(head -c 300 /dev/zero | tr '\0' a)" "ingress any group $(head -c 70 /dev/zero | tr '\0' g)"
	"egress tcp 22 to" "ingress tcp 22 from 0.0.0.0/0 extra"
)
nbad=0
for b in "${bad[@]}"; do
	[ -z "$b" ] && continue
	vn_expect_fail EINVAL vn_w "$W" "$(printf 'egress any\n%s' "$b")"
	nbad=$((nbad + 1))
done
vn_true "at least 50 malformed lines tried ($nbad)" test "$nbad" -ge 50
vn_eq "$before" "$(vn_cat "$W")" "after $nbad malformed writes the rules are unchanged"
vn_expect_fail EINVAL vn_w "$W" "$(printf 'egress any\ningress tcp 99999')"
vn_match "line 2.*99999" "$(vn_cat "$SG/web/error")" "error names the line number and why"
vn_expect_fail ENOENT vn_w "$W" "$(printf 'egress any\ningress tcp group nosuch')"
vn_match "nosuch" "$(vn_cat "$SG/web/error")" "error names the missing group"
vn_expect_fail ENOENT vn_w "$M/networks/n/ports/p1/security_groups" nosuch
vn_eq "$before" "$(vn_cat "$W")" "rules unchanged after ENOENT"
vn_expect_fail EBUSY rmdir "$SG/web"
vn_match "p3" "$(vn_cat "$SG/web/error")" "EBUSY names the port using the group"
vn_ok mkdir "$SG/trusted"
vn_ok vn_a "$W" "ingress tcp 80 group trusted"
vn_expect_fail EBUSY rmdir "$SG/trusted"
vn_match "web" "$(vn_cat "$SG/trusted/error")" "EBUSY names the group whose rule refers to it"

# ---- a router namespace pings a port only once ingress icmp is allowed ------------------
vn_ok mkdir "$M/networks/m"
vn_ok mkdir "$M/networks/m/subnets/sm"
vn_ok vn_w "$M/networks/m/subnets/sm/cidr" 10.0.1.0/24
vn_ok mkdir "$M/routers/r"
vn_ok vn_w "$M/routers/r/interfaces" "$(printf 's\nsm')"
NS=$(vn_cat "$M/routers/r/namespace")
bind_host h5 m p5
ip5=$(ipof m p5)
vn_true "the router namespace cannot ping h1 before ingress icmp" cannot_ping "$NS" "$ip1"
vn_ok vn_a "$SG/default/rules" "ingress icmp"
vn_true "after ingress icmp the router pings h1" can_ping "$NS" "$ip1"
vn_true "after ingress icmp h5 (other network, routed) pings h1" can_ping h5 "$ip1"

# ---- ingress tcp 22 from 10.0.0.0/24 -----------------------------------------------------
vn_true "tcp/22 from inside the prefix (h1) passes" tcp_ok h1 h3 "$ip3" 22
vn_true "tcp/22 from outside the prefix (h5, 10.0.1.x) fails" tcp_blocked h5 h3 "$ip3" 22
vn_true "tcp/23 from inside the prefix fails" tcp_blocked h1 h3 "$ip3" 23
vn_true "tcp/23 from 10.0.1.x (rule: 23-24 from 10.0.1.0/24) passes" tcp_ok h5 h3 "$ip3" 23

# ---- rules are set elements: adding or removing one is no nft rule -----------------------
NFT() { ip netns exec "$VN_NS" nft "$@"; }
wid=$(vn_cat "$SG/web/id" | tr -d -)
nrules() { NFT -a list chain inet vnetfs_sg "g_${wid}_i" | grep -c 'accept # handle' || true; }
vn_match "10\.0\.0\.0/24 \. tcp \. 22[^0-9-]" "$(NFT list set inet vnetfs_sg "g_${wid}_ip4")" \
	"'ingress tcp 22 from 10.0.0.0/24' is an element of web's IPv4 port set"
vn_match "10\.0\.1\.0/24 \. tcp \. 23-24" "$(NFT list set inet vnetfs_sg "g_${wid}_ip4")" \
	"'ingress tcp 23-24 from 10.0.1.0/24' is an element (a range)"
vn_match "0\.0\.0\.0/0 \. udp" "$(NFT list set inet vnetfs_sg "g_${wid}_ia4")" \
	"'ingress udp' is an element of web's IPv4 protocol set"
vn_match "::/0 \. udp" "$(NFT list set inet vnetfs_sg "g_${wid}_ia6")" "... and of its IPv6 one"
n0=$(nrules)
vn_eq 8 "$n0" "web's ingress chain: six matchers and the remote-group rule (IPv4, IPv6)"
mon=$VN_TMP/monitor.out
NFT monitor rules >"$mon" 2>&1 &
monpid=$!
sleep 0.3
vn_ok vn_a "$W" "ingress tcp 5000"
vn_ok vn_a "$W" "ingress ipv4 tcp 5000"
vn_match "::/0 \. tcp \. 5000" "$(NFT list set inet vnetfs_sg "g_${wid}_ip6")" \
	"'ingress tcp 5000' is an IPv6 element too"
vn_true "tcp/5000 from h5 passes" tcp_ok h5 h3 "$ip3" 5000
# two rules make one IPv4 element: removing one keeps it
vn_ok vn_w "$W" "$(vn_cat "$W" | grep -vx 'ingress tcp 5000')"
vn_true "'ingress ipv4 tcp 5000' still there: tcp/5000 from h5 passes" tcp_ok h5 h3 "$ip3" 5000
vn_eq "" "$(NFT list set inet vnetfs_sg "g_${wid}_ip6" | grep 5000)" "the IPv6 element went"
# one write that drops one of them and brings the other back: the IPv4
# element is deleted and added again in one batch
vn_ok vn_w "$W" "$(vn_cat "$W" | sed 's/^ingress ipv4 tcp 5000$/ingress tcp 5000/')"
vn_true "'ingress ipv4 tcp 5000' replaced by 'ingress tcp 5000' in one write: tcp/5000 passes" \
	tcp_ok h5 h3 "$ip3" 5000
vn_ok vn_w "$W" "$(vn_cat "$W" | grep -vx 'ingress tcp 5000')"
vn_true "both gone: tcp/5000 from h5 fails" tcp_blocked h5 h3 "$ip3" 5000
vn_eq "" "$(NFT list set inet vnetfs_sg "g_${wid}_ip4" | grep 5000)" "the IPv4 element went"
sleep 0.3
vn_eq "" "$(grep -E '^(add|delete) rule' "$mon")" "adding and removing port rules made or deleted no nft rule"
vn_eq "$n0" "$(nrules)" "web's ingress chain has as many rules as before"
# a remote-group rule is still an nft rule (the monitor sees it: this check can fail)
vn_ok vn_a "$W" "ingress udp 53 group trusted"
sleep 0.3
vn_match "add rule inet vnetfs_sg g_${wid}_i .*@m4_" "$(cat "$mon")" "a remote-group rule is one nft rule"
kill "$monpid" 2>/dev/null || true
wait "$monpid" 2>/dev/null || true
vn_ok vn_w "$W" "$(vn_cat "$W" | grep -vx 'ingress udp 53 group trusted')"
vn_eq "$n0" "$(nrules)" "its removal remade the chain: as many rules as before"
vn_true "after the chain was remade: tcp/22 from h1 passes" tcp_ok h1 h3 "$ip3" 22
# a rule that overlaps an element of its set becomes an nft rule of its own
vn_ok vn_a "$W" "ingress tcp 22-23 from 10.0.1.0/24"
vn_eq "$((n0 + 1))" "$(nrules)" "the overlapping rule is one more nft rule"
vn_true "tcp/22 from h5 passes through it" tcp_ok h5 h3 "$ip3" 22
vn_ok vn_w "$W" "$(vn_cat "$W" | grep -vx 'ingress tcp 23-24 from 10.0.1.0/24')"
vn_true "23-24 removed: tcp/23 from h5 still passes (22-23)" tcp_ok h5 h3 "$ip3" 23
vn_true "23-24 removed: tcp/24 from h5 fails" tcp_blocked h5 h3 "$ip3" 24
vn_ok vn_w "$W" "$(vn_cat "$W" | grep -vx 'ingress tcp 22-23 from 10.0.1.0/24')"
vn_eq "$n0" "$(nrules)" "the overlapping rule's removal took its nft rule"
vn_true "22-23 removed: tcp/22 from h5 fails" tcp_blocked h5 h3 "$ip3" 22
vn_true "22-23 removed: tcp/22 from h1 still passes" tcp_ok h1 h3 "$ip3" 22
vn_ok vn_a "$W" "ingress tcp 23-24 from 10.0.1.0/24"
vn_true "23-24 back: tcp/23 from h5 passes" tcp_ok h5 h3 "$ip3" 23

# ---- egress restricted -------------------------------------------------------------------
vn_ok mkdir "$SG/out"
vn_ok vn_w "$SG/out/rules" "egress tcp 22"
vn_eq "egress tcp 22" "$(vn_cat "$SG/out/rules")" "out's rules"
bind_host h4 n p4
ip4=$(ipof n p4)
vn_ok vn_w "$M/networks/n/ports/p4/security_groups" out
vn_true "egress-restricted h4 reaches h3 on tcp/22" tcp_ok h4 h3 "$ip3" 22
vn_true "egress-restricted h4 cannot ping h1 (h1 allows icmp in)" cannot_ping h4 "$ip1"
vn_ok vn_a "$SG/out/rules" "egress icmp"
vn_true "after egress icmp h4 pings h1" can_ping h4 "$ip1"
oid=$(vn_cat "$SG/out/id" | tr -d -)
vn_ok vn_w "$SG/out/rules" "$(printf 'egress tcp 22\negress icmp 8')"
vn_match "0\.0\.0\.0/0 \. icmp \. echo-request \. 0-255" \
	"$(NFT list set inet vnetfs_sg "g_${oid}_ec4")" "'egress icmp 8' is an element of the icmp set"
vn_true "egress icmp 8 (echo request): h4 pings h1" can_ping h4 "$ip1"
vn_ok vn_w "$SG/out/rules" "$(printf 'egress tcp 22\negress icmp 0/0')"
vn_true "egress icmp 0/0 (echo reply) only: h4 cannot ping h1" cannot_ping h4 "$ip1"
vn_ok vn_w "$SG/out/rules" "$(printf 'egress tcp 22\negress icmp')"
vn_true "egress icmp again: h4 pings h1" can_ping h4 "$ip1"

# ---- remote group membership takes effect at once -----------------------------------------
vn_true "h1 (not in trusted) cannot reach h3 tcp/80" tcp_blocked h1 h3 "$ip3" 80
vn_ok vn_w "$M/networks/n/ports/p1/security_groups" "$(printf 'default\ntrusted')"
vn_true "h1 joined trusted: reaches h3 tcp/80 at once" tcp_ok h1 h3 "$ip3" 80
vn_true "h2 (not in trusted) still cannot" tcp_blocked h2 h3 "$ip3" 80
vn_ok vn_w "$M/networks/n/ports/p1/security_groups" default
vn_true "h1 left trusted: blocked again" tcp_blocked h1 h3 "$ip3" 80

# ---- removing a rule breaks an established TCP session (conntrack flush) ----------------
vn_ok vn_w "$M/networks/n/ports/p1/security_groups" "$(printf 'default\ntrusted')"
out=$VN_TMP/session.out
: >"$out"
# the server's stdin stays open (busybox nc ends the session at its EOF)
(sleep 7 | ip netns exec h3 timeout 8 "$BB" nc -l -p 80 >"$out" 2>/dev/null) &
srv=$!
sleep 0.2
(echo first; sleep 2; echo second; sleep 1) | ip netns exec h1 timeout 6 "$BB" nc "$ip3" 80 >/dev/null 2>&1 &
cli=$!
sleep 1
vn_eq first "$(cat "$out")" "the session carried its first line"
vn_ok vn_w "$W" "$(vn_cat "$W" | grep -v 'group trusted')"
wait "$cli" 2>/dev/null || true
kill "$srv" 2>/dev/null || true
wait "$srv" 2>/dev/null || true
vn_eq first "$(cat "$out")" "after the rule went, the established session carried nothing more"
vn_eq 0 "$(ip netns exec "$VN_NS" grep -c "dport=80 " /proc/net/nf_conntrack || true)" \
	"no conntrack entry for the session is left as established"

# ---- anti-spoofing ------------------------------------------------------------------------
vn_true "h1 pings h2 from its own address" can_ping h1 "$ip2"
ip -n h1 addr add 10.0.0.200/24 dev eth0
vn_true "h1 with a spoofed source address is dropped" \
	bash -c "! ip netns exec h1 $BB ping -c1 -W1 -I 10.0.0.200 $ip2 >/dev/null 2>&1"
ip -n h1 addr del 10.0.0.200/24 dev eth0
mac1=$(vn_cat "$M/networks/n/ports/p1/mac_address")
ip -n h1 link set eth0 address 02:00:00:00:00:99
ip -n h2 neigh flush all
vn_true "h1 with a changed MAC is dropped" cannot_ping h1 "$ip2"
ip -n h1 link set eth0 address "$mac1"
vn_true "h1 back on its MAC pings h2 again" can_ping h1 "$ip2"
# port security off: no filtering, no anti-spoofing (Neutron's port_security_enabled)
vn_ok vn_w "$M/networks/n/ports/p3/port_security_enabled" 0
vn_true "with port security off, h1 reaches h3 on tcp/23" tcp_ok h1 h3 "$ip3" 23
ip -n h3 addr add 10.0.0.201/24 dev eth0
vn_true "with port security off, h3 may send from another address" \
	bash -c "ip netns exec h3 $BB ping -c1 -W1 -I 10.0.0.201 $ip1 >/dev/null 2>&1"
ip -n h3 addr del 10.0.0.201/24 dev eth0
vn_ok vn_w "$M/networks/n/ports/p3/port_security_enabled" 1
vn_true "port security on again: tcp/23 to h3 fails" tcp_blocked h1 h3 "$ip3" 23

# ---- another user's group is not one to join or to name ---------------------------------
nobody() { timeout -k 3 20 setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
vn_ok nobody mkdir "$SG/nbg"
vn_expect_fail EACCES nobody bash -c "printf 'ingress tcp group web\n' >'$SG/nbg/rules'"
vn_ok nobody sh -c "printf 'egress any\ningress tcp group default\ningress tcp group nbg\n' >'$SG/nbg/rules'"
vn_ok nobody mkdir "$M/networks/nbn"
vn_ok nobody mkdir "$M/networks/nbn/ports/np"
vn_expect_fail EACCES nobody bash -c "echo web >'$M/networks/nbn/ports/np/security_groups'"
vn_ok nobody sh -c "printf 'default\nnbg\n' >'$M/networks/nbn/ports/np/security_groups'"
vn_ok nobody rmdir "$M/networks/nbn/ports/np"
vn_ok nobody rmdir "$M/networks/nbn"
vn_ok nobody rmdir "$SG/nbg"

# ---- restart: exactly the model's rules again, stale ones gone ----------------------------
ip netns exec "$VN_NS" nft add chain inet vnetfs_sg stale_chain
ip netns exec "$VN_NS" nft add set inet vnetfs_sg stale_set '{ type ipv4_addr; }'
vn_restart
vn_eq "" "$(ip netns exec "$VN_NS" nft list table inet vnetfs_sg | grep -E 'stale_(chain|set)')" \
	"restart removed our stale chain and set"
vn_true "after restart: h1 pings h2 (default)" can_ping h1 "$ip2"
vn_match "10\.0\.0\.0/24 \. tcp \. 22[^0-9-]" "$(NFT list set inet vnetfs_sg "g_${wid}_ip4")" \
	"after restart: web's rule is an element again"
vn_eq 6 "$(nrules)" "after restart: web's ingress chain has its six matchers (its remote rule went)"
vn_true "after restart: tcp/22 from h1 to h3 passes" tcp_ok h1 h3 "$ip3" 22
vn_true "after restart: tcp/23 from h1 to h3 fails" tcp_blocked h1 h3 "$ip3" 23
vn_true "after restart: h4 still cannot reach h3 tcp/23 (egress)" tcp_blocked h4 h3 "$ip3" 23
vn_eq "egress any
ingress tcp 22 from 10.0.0.0/24
ingress udp
ingress tcp 23-24 from 10.0.1.0/24" "$(vn_cat "$W")" "web's rules survived the restart"

vn_done
