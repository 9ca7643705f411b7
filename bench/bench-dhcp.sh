#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/bench-dhcp.sh — DHCP (issue 9): how long from `mkdir` of a port
# bound to a namespace to an address in that namespace, and what one port
# add costs when the network's dnsmasq already serves many ports.
#
#   sudo bash bench/bench-dhcp.sh
#   sudo BENCH_REPEAT=20 BENCH_PORTS="10 1000" bash bench/bench-dhcp.sh
#
# Builds build-release/ unless VNETFS is set; runs inside the throwaway
# mount + network namespace of the system tests (tests/lib.sh). Measured:
#  1. lease: mkdir networks/n/ports/pI, echo /run/netns/hI > netns, then
#     `busybox udhcpc` in hI until its hook has put the address on eth0
#     (median and p90 of BENCH_REPEAT, default 20). Baseline in the same
#     run: the same namespace plugged by hand (ip link add veth ... netns,
#     master, up), a `MAC,IP` line appended to the hosts file of a dnsmasq
#     started by hand in a namespace of its own on a bridge of its own,
#     SIGHUP, the same udhcpc.
#  2. port add: mkdir of one more (unbound) port, from one python3 process,
#     on a network holding BENCH_PORTS ports (default "10 1000") with DHCP
#     (its hosts file rewritten and dnsmasq signalled each time) and, as
#     the baseline in the same run, on a network with enable_dhcp 0.
set -euo pipefail

. "$(dirname "$0")/common.sh"
trap - ERR

command -v python3 >/dev/null || { echo "bench-dhcp.sh: python3 is missing" >&2; exit 2; }
command -v dnsmasq >/dev/null || { echo "bench-dhcp.sh: dnsmasq is missing" >&2; exit 2; }
REPEAT=${BENCH_REPEAT:-20}
PORTS=${BENCH_PORTS:-10 1000}

vn_start --no-defaults
echo "# binary: $VNETFS" >&2
M=$VN_MNT
HOOK=$VN_TMP/hook.sh
cat >"$HOOK" <<'EOF'
#!/bin/sh
case "$1" in
deconfig) ip link set "$interface" up ;;
bound|renew) ip addr add "$ip/$mask" dev "$interface" ;;
esac
exit 0
EOF
chmod 755 "$HOOK"
udhcpc() { # NS: one lease
	ip netns exec "$1" busybox udhcpc -i eth0 -f -q -n -t 20 -T 1 -A 1 -s "$HOOK" >/dev/null 2>&1
}
stats() { # values (ms), one a line -> "median p90"
	sort -n | awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
		p = v[int(NR * 0.9 + 0.999)]; printf "%.1f %.1f\n", m, p}'
}
now_ms() { echo "${EPOCHREALTIME/./}" | awk '{printf "%.3f", $1 / 1000}'; }

# ---- 1. lease through the tree ------------------------------------------------
mkdir "$M/networks/n" "$M/networks/n/subnets/s"
vn_w "$M/networks/n/subnets/s/cidr" 10.10.0.0/16
sleep 1 # dnsmasq up
tree=()
for i in $(seq 1 "$REPEAT"); do
	ip netns add "h$i"
	VN_HOSTS+=("h$i")
	t0=$(now_ms)
	mkdir "$M/networks/n/ports/p$i"
	echo "/run/netns/h$i" >"$M/networks/n/ports/p$i/netns"
	udhcpc "h$i" || echo "# h$i: no lease" >&2
	t1=$(now_ms)
	want=$(awk '{print $2}' "$M/networks/n/ports/p$i/fixed_ips")
	got=$(ip -n "h$i" -j addr show dev eth0 | jq -r '.[0].addr_info[] | select(.family == "inet") | .local')
	[ "$want" = "$got" ] || echo "# h$i: got '$got', want '$want'" >&2
	tree+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')")
done
read -r tree_med tree_p90 < <(printf '%s\n' "${tree[@]}" | stats)

# ---- 1b. baseline: ip + dnsmasq by hand ---------------------------------------------
B=$VN_TMP/base
mkdir -p "$B"
: >"$B/hosts"
ip netns add bdhcp
VN_HOSTS+=(bdhcp)
ip -n "$VN_NS" link add bbr type bridge
ip -n "$VN_NS" link set bbr up
ip -n "$VN_NS" link add bd0 type veth peer name ns0 netns bdhcp
ip -n "$VN_NS" link set bd0 master bbr up
ip -n bdhcp addr add 10.20.0.2/16 dev ns0
ip -n bdhcp link set ns0 up
ip netns exec bdhcp dnsmasq --conf-file=/dev/null --keep-in-foreground --no-hosts --no-resolv --port=0 \
	--no-ping --user=root --group=root --bind-interfaces --interface=ns0 --except-interface=lo \
	--pid-file="$B/pid" --dhcp-leasefile="$B/leases" --log-facility="$B/log" --dhcp-hostsfile="$B/hosts" \
	--dhcp-range=10.20.0.0,static,255.255.0.0,86400s &
BPID=$!
sleep 1
base=()
for i in $(seq 1 "$REPEAT"); do
	ip netns add "b$i"
	VN_HOSTS+=("b$i")
	mac=$(printf 'fa:16:3e:20:%02x:%02x' $((i / 256)) $((i % 256)))
	t0=$(now_ms)
	ip -n "$VN_NS" link add "bv$i" type veth peer name eth0 netns "b$i" address "$mac"
	ip -n "$VN_NS" link set "bv$i" master bbr up
	echo "$mac,10.20.1.$i" >>"$B/hosts"
	kill -HUP "$BPID"
	udhcpc "b$i" || echo "# b$i: no lease" >&2
	t1=$(now_ms)
	base+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')")
done
read -r base_med base_p90 < <(printf '%s\n' "${base[@]}" | stats)
kill "$BPID"
wait "$BPID" 2>/dev/null || true

echo
echo "| lease: mkdir + netns write + udhcpc (n=$REPEAT) | median | p90 |"
echo "|---|---:|---:|"
echo "| vnetfs (port in the tree, its network's dnsmasq) | $tree_med ms | $tree_p90 ms |"
echo "| baseline: ip veth + hosts line + SIGHUP to a dnsmasq by hand | $base_med ms | $base_p90 ms |"

# ---- 2. one port add with many ports -----------------------------------------------
echo
echo "| ports on the network | port add with DHCP (median / p90) | baseline: enable_dhcp 0 (median / p90) | hosts file |"
echo "|---:|---:|---:|---:|"
for n in $PORTS; do
	for mode in 1 0; do
		net=$M/networks/m$n-$mode
		mkdir "$net" "$net/subnets/ms$n-$mode"
		echo "$mode" >"$net/subnets/ms$n-$mode/enable_dhcp"
		echo 10.30.0.0/16 >"$net/subnets/ms$n-$mode/cidr"
	done
	python3 - "$M" "$n" "$REPEAT" <<'EOF'
import os, statistics, sys, time
M, n, R = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = []
for mode in (1, 0):
    ports = f"{M}/networks/m{n}-{mode}/ports"
    for i in range(n):
        os.mkdir(f"{ports}/f{i}")
    t = []
    for i in range(R):
        t0 = time.perf_counter()
        os.mkdir(f"{ports}/x{i}")
        t.append((time.perf_counter() - t0) * 1000)
        os.rmdir(f"{ports}/x{i}")
    t.sort()
    out.append((statistics.median(t), t[min(len(t) - 1, int(len(t) * 0.9))]))
print(f"| {n} | {out[0][0]:.2f} / {out[0][1]:.2f} ms | {out[1][0]:.2f} / {out[1][1]:.2f} ms |", end="")
EOF
	id=$(cat "$M/networks/m$n-1/id")
	echo " $(wc -l <"$VN_STATE/dhcp/$id/hosts") lines, $(stat -c %s "$VN_STATE/dhcp/$id/hosts") bytes |"
done
vn_stop
VN_DONE=1
