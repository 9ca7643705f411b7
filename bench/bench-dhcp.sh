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
#     on a network holding BENCH_PORTS ports (default "10 1000") with DHCP:
#     the time mkdir takes, and the time until the port's line is in the
#     hosts file (the rewrite and SIGHUP are a job's, after mkdir returned);
#     then 100 adds back to back until the last line is there. Baseline in
#     the same run: the same on a network with enable_dhcp 0 (no file).
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
echo "| ports on the network | with DHCP: mkdir returns (median / p90) | mkdir until its line is in the hosts file (median / p90) | baseline, enable_dhcp 0: mkdir returns (median / p90) | 100 adds back to back until the last line is in the hosts file / baseline: the 100 mkdirs | hosts file |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in $PORTS; do
	for mode in 1 0; do
		net=$M/networks/m$n-$mode
		mkdir "$net" "$net/subnets/ms$n-$mode"
		echo "$mode" >"$net/subnets/ms$n-$mode/enable_dhcp"
		echo 10.30.0.0/16 >"$net/subnets/ms$n-$mode/cidr"
	done
	id=$(cat "$M/networks/m$n-1/id")
	python3 - "$M" "$n" "$REPEAT" "$VN_STATE/dhcp/$id/hosts" <<'EOF'
import os, statistics, sys, time
M, n, R, hosts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]


def mac(path):
    with open(path + "/mac_address") as f:
        return f.read().strip()


def has(m):
    with open(hosts) as f:
        return m in f.read()


def q(t):
    t = sorted(t)
    return statistics.median(t), t[min(len(t) - 1, int(len(t) * 0.9))]


res = {}
for mode in (1, 0):
    ports = f"{M}/networks/m{n}-{mode}/ports"
    for i in range(n):
        os.mkdir(f"{ports}/f{i}")
    time.sleep(0.5)
    ret, line = [], []
    for i in range(R):
        time.sleep(0.03)  # each add on its own, not rate-limited by the last
        t0 = time.perf_counter()
        os.mkdir(f"{ports}/x{i}")
        t1 = time.perf_counter()
        ret.append((t1 - t0) * 1000)
        if mode == 1:
            m = mac(f"{ports}/x{i}")
            while not has(m):
                time.sleep(0.0002)
            line.append((time.perf_counter() - t0) * 1000)
    # a burst: 100 adds back to back, until the last one's line is there
    time.sleep(0.05)
    t0 = time.perf_counter()
    for i in range(100):
        os.mkdir(f"{ports}/y{i}")
    if mode == 1:
        m = mac(f"{ports}/y99")
        while not has(m):
            time.sleep(0.0002)
    burst = (time.perf_counter() - t0) * 1000
    res[mode] = (q(ret), q(line) if line else None, burst)
(r1, l1, b1), (r0, _, b0) = res[1], res[0]
print(f"| {n} | {r1[0]:.2f} / {r1[1]:.2f} ms | {l1[0]:.2f} / {l1[1]:.2f} ms | {r0[0]:.2f} / {r0[1]:.2f} ms "
      f"| {b1:.0f} ms / {b0:.0f} ms |", end="")
EOF
	echo " $(wc -l <"$VN_STATE/dhcp/$id/hosts") lines at the end, $(stat -c %s "$VN_STATE/dhcp/$id/hosts") bytes |"
done
vn_stop
VN_DONE=1
