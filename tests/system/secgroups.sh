#!/bin/bash
# SPDX-License-Identifier: MIT
# Security groups (issue 10): the kind, the rule language, and real
# filtering of bound test hosts (busybox ping / nc inside the test's own
# namespaces only). Each case checks both what must pass and what must be
# blocked.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
vn_start
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

vn_done
