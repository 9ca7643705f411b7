# SPDX-License-Identifier: MIT
# Helpers for the system tests that look at traffic and router state
# (ports, routers, routers_restart). Source after lib.sh.

UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
MAC_RE='^fa:16:3e(:[0-9a-f]{2}){3}$'

# vn_t_bad ERRNO FILE VALUE ERROR_REGEX [append]: writing VALUE (or
# appending it) in one write() fails with ERRNO, FILE keeps its content,
# and the object's error file explains (matches ERROR_REGEX).
vn_t_bad() {
	local errno=$1 file=$2 value=$3 re=$4 how=${5:-write} before
	before=$(vn_cat "$file")
	if [ "$how" = append ]; then
		vn_expect_fail "$errno" vn_a "$file" "$value"
	else
		vn_expect_fail "$errno" vn_w "$file" "$value"
	fi
	vn_eq "$before" "$(vn_cat "$file")" "${file#"$VN_MNT"/} unchanged after the rejected '$value'"
	vn_match "$re" "$(vn_cat "$(dirname "$file")/error")" "error says why '$value' was rejected"
}

default_route() {
	ip -n "$1" -j route show default | jq -r '.[] | "\(.gateway) \(.dev) \(.protocol)"'
}
# links NS PREFIX: names of links starting with PREFIX in NS, sorted
links() {
	ip -n "$1" -j link show 2>/dev/null | jq -r --arg p "$2" '.[].ifname | select(startswith($p))' | LC_ALL=C sort
}
# snat_rules NS: "SADDR OIFNAME TO" for each rule of chain postrouting in
# table ip vnetfs, sorted (from nft's JSON, not its text)
snat_rules() {
	ip netns exec "$1" nft -j list table ip vnetfs 2>/dev/null | jq -r '
		.nftables[] | select(.rule and .rule.chain == "postrouting") | .rule.expr |
		[(.[] | select(.match.left.payload.field? == "saddr") | .match.right.prefix | "\(.addr)/\(.len)"),
		 (.[] | select(.match.left.meta.key? == "oifname") | .match.right),
		 (.[] | select(.snat) | "snat \(.snat.addr)")] | join(" ")' | LC_ALL=C sort
}
# nat_handle NS: the handle of table ip vnetfs (a replace makes a new
# table: a new handle; a change in place keeps it)
nat_handle() {
	ip netns exec "$1" nft -a -j list table ip vnetfs 2>/dev/null | jq -r '.nftables[] | select(.table) | .table.handle'
}
# nat_rule_count NS CHAIN: how many rules chain CHAIN of table ip vnetfs has
nat_rule_count() {
	ip netns exec "$1" nft -j list table ip vnetfs 2>/dev/null |
		jq -r --arg c "$2" '[.nftables[] | select(.rule and .rule.chain == $c)] | length'
}
# snat_handle NS CIDR: the handle of the SNAT rule for CIDR
snat_handle() {
	ip netns exec "$1" nft -a -j list table ip vnetfs 2>/dev/null | jq -r --arg a "${2%/*}" '
		.nftables[] | select(.rule and .rule.chain == "postrouting") | .rule |
		select(any(.expr[]; .match.left.payload.field? == "saddr" and .match.right.prefix.addr? == $a)) | .handle'
}
# port_ip NET PORT: the address in the port's first fixed_ips line
port_ip() {
	vn_cat "$M/networks/$1/ports/$2/fixed_ips" | awk 'NR == 1 {print $2}'
}
# can_ping NS ADDR
can_ping() {
	ip netns exec "$1" ping -c1 -W2 "$2" >/dev/null 2>&1
}
cannot_ping() {
	! ip netns exec "$1" ping -c1 -W1 "$2" >/dev/null 2>&1
}

# peer_seen SERVER_NS CLIENT_NS ADDR: the source address a TCP server in
# SERVER_NS sees for a connection from CLIENT_NS to ADDR, or "no connection".
# The server runs `ss` on the accepted connection and sends its line back.
PEER_PORT=${PEER_PORT:-5000}
peer_seen() {
	local srv=$1 cli=$2 addr=$3 port out peer lpid i
	PEER_PORT=$((PEER_PORT + 1))
	port=$PEER_PORT
	ip netns exec "$srv" timeout 10 busybox nc -l -p "$port" \
		-e /bin/sh -c "ss -Htn state established '( sport = :$port )'" >/dev/null 2>&1 &
	lpid=$!
	for ((i = 0; i < 50; i++)); do
		[ -n "$(ip netns exec "$srv" ss -Hltn "( sport = :$port )" 2>/dev/null)" ] && break
		sleep 0.1
	done
	# the client's stdin stays open (a nc client quits at EOF on stdin);
	# it ends when the server closes after sending its line
	out=$(ip netns exec "$cli" timeout 6 busybox nc -w 3 "$addr" "$port" 2>/dev/null < <(sleep 4)) || true
	kill "$lpid" 2>/dev/null || true
	wait "$lpid" 2>/dev/null || true
	# "0 0 [::ffff:10.0.2.2]:5001 [::ffff:10.0.1.2]:40000" -> 10.0.1.2
	peer=$(awk 'NR == 1 {print $4}' <<<"$out")
	peer=${peer%:*}
	peer=${peer#[}
	peer=${peer%]}
	peer=${peer#::ffff:}
	echo "${peer:-no connection}"
}

# vn_lease NS OUTFILE [OPTION...]: busybox udhcpc once in NS on eth0,
# asking for each OPTION too (udhcpc -O: mtu, staticroutes, ntpsrv, ...);
# 0 if it got a lease. Its hook puts the address on eth0 and writes what
# the server sent to OUTFILE, one NAME=VALUE a line (ip, mask, router,
# dns, mtu, staticroutes, lease, ntpsrv, optNN), udhcpc's own output to
# OUTFILE.log. Read a value with vn_lease_got OUTFILE NAME ("" if none).
vn_lease() {
	local ns=$1 out=$2 hook=$VN_TMP/udhcpc-hook.sh opt
	local args=()
	shift 2
	for opt in "$@"; do args+=(-O "$opt"); done
	if [ ! -x "$hook" ]; then
		cat >"$hook" <<'HOOK'
#!/bin/sh
# udhcpc hook (tests/netlib.sh vn_lease): configure the interface, record
# every option the server sent
case "$1" in
deconfig)
	ip addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	env | grep -E '^(ip|mask|router|dns|mtu|staticroutes|lease|ntpsrv|opt[0-9]+)=' | sort >"$OUT"
	;;
esac
exit 0
HOOK
		chmod 755 "$hook"
	fi
	rm -f "$out"
	timeout -k 2 20 ip netns exec "$ns" env OUT="$out" busybox udhcpc -i eth0 -f -q -n \
		-t 8 -T 1 -A 1 "${args[@]}" -s "$hook" >"$out.log" 2>&1 && [ -s "$out" ]
}
vn_lease_got() { grep "^$2=" "$1" | cut -d= -f2- || true; }
