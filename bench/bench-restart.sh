#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/bench-restart.sh — how long from starting the daemon to a mounted,
# reconciled tree, after a SIGKILL, with the kernel state still there (warm)
# and gone (cold), next to the same kernel objects made by `ip -batch` and
# `nft -f` in the same run. See bench/README.md.
#
#   sudo bash bench/bench-restart.sh
#   sudo BENCH_BASE_REF=main bash bench/bench-restart.sh          # + main's binary
#   sudo BENCH_NETWORKS=1000 BENCH_ROUTERS=100 BENCH_PORTS=1000 BENCH_REPEAT=2 \
#        bash bench/bench-restart.sh
#
# The tree: BENCH_NETWORKS networks, each with one subnet and its cidr;
# BENCH_ROUTERS routers, each with the public gateway and one interface (on
# subnet I); BENCH_PORTS ports (one per network, round robin; unbound, so
# model and IPAM only). Made from one python3 process, untimed.
#
# The daemon loads and reconciles before it mounts (fs/main.c), so the time
# to the mount appearing is the time to a reconciled tree; the kernel state
# is checked after each start (bridges, router namespaces, their legs and
# NAT tables). Mount polled every 2 ms without forking.
set -euo pipefail

. "$(dirname "$0")/base.sh"
. "$(dirname "$0")/common.sh"
trap - ERR

NNET=${BENCH_NETWORKS:-1000}
NROUT=${BENCH_ROUTERS:-100}
NPORT=${BENCH_PORTS:-1000}
REPEAT=${BENCH_REPEAT:-2}
M=$VN_MNT

ms() { awk -v us="$1" 'BEGIN { printf "%.0f", us / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
now() { echo "${EPOCHREALTIME/./}"; }
die() { echo "bench-restart.sh: $*" >&2; exit 1; }

mkfifo "$VN_TMP/tick"
exec {TICK}<>"$VN_TMP/tick"
tick() { read -r -t 0.002 -u "$TICK" _ || true; }
mounted() {
	local mi=
	read -r -d '' mi </proc/self/mountinfo || true
	[[ $mi == *" $M "* ]]
}

declare -A R

# start_timed: start the daemon, wait for the mount; sets T (µs).
start_timed() {
	local t0
	echo "==== $(date +%T.%N) starting (timed): $VNETFS --netns $VN_NS" >>"$VN_TMP/daemon.log"
	t0=$(now)
	env --default-signal=INT,QUIT "$VNETFS" -f --state "$VN_STATE" --netns "$VN_NS" "$M" \
		>>"$VN_TMP/daemon.log" 2>&1 &
	VN_PID=$!
	until mounted; do
		kill -0 "$VN_PID" 2>/dev/null || die "daemon exited before mounting (see $VN_TMP/daemon.log)"
		tick
	done
	T=$(($(now) - t0))
}

# Our router namespaces (not the raw baseline's).
qrouters() { ip netns list | awk '/^qrouter-/ && !/^qrouter-raw-/ {print $1}'; }

check_kernel() { # WHAT
	local nbr nqr ns
	nbr=$(ip -n "$VN_NS" -br link show type bridge | grep -c '^vnb-' || true)
	[ "$nbr" = $((NNET + 1)) ] || die "$1: $nbr bridges, expected $((NNET + 1))"
	nqr=$(qrouters | wc -l)
	[ "$nqr" = "$NROUT" ] || die "$1: $nqr router namespaces, expected $NROUT"
	for ns in $(qrouters | head -3); do
		[ "$(ip -n "$ns" -br link | grep -c '^q[rg]-')" = 2 ] || die "$1: $ns lacks its legs"
		[[ $(ip netns exec "$ns" nft list table ip vnetfs) == *"snat to"* ]] || die "$1: $ns has no NAT"
	done
}

populate() {
	python3 - "$M" "$NNET" "$NROUT" "$NPORT" <<'PY'
import os, sys
m, nnet, nrout, nport = sys.argv[1], *map(int, sys.argv[2:])
def w(path, val):
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    os.write(fd, (val + "\n").encode())
    os.close(fd)
for i in range(nnet):
    os.mkdir(f"{m}/networks/n{i}")
    os.mkdir(f"{m}/networks/n{i}/subnets/s{i}")
    w(f"{m}/networks/n{i}/subnets/s{i}/cidr", f"10.{i // 256}.{i % 256}.0/24")
for i in range(nport):
    os.mkdir(f"{m}/networks/n{i % nnet}/ports/p{i}")
for i in range(nrout):
    os.mkdir(f"{m}/routers/r{i}")
    w(f"{m}/routers/r{i}/external_gateway", "public")
    w(f"{m}/routers/r{i}/interfaces", f"s{i}")
PY
}

# One binary: populate, then REPEAT warm and REPEAT cold restarts.
run_bin() { # BINARY LABEL
	local r ns
	VNETFS=$1
	VN_NS=vnt-rs-$2
	VN_STATE=$VN_TMP/state-$2
	mkdir -p "$VN_STATE"
	echo "# $2: populating ($NNET networks, $NROUT routers, $NPORT ports)" >&2
	vn_start >/dev/null # with the defaults: the public network
	populate
	check_kernel "$2 populated"
	for ((r = 1; r <= REPEAT; r++)); do
		echo "# $2: warm restart $r" >&2
		vn_kill9
		start_timed
		R[${2}_warm_$r]=$T
		check_kernel "$2 warm $r"
	done
	for ((r = 1; r <= REPEAT; r++)); do
		echo "# $2: cold restart $r" >&2
		vn_kill9
		for ns in $(qrouters); do ip netns del "$ns"; done
		ip netns del "$VN_NS"
		bench_settle # the kernel dismantles the old namespaces in the background
		start_timed
		R[${2}_cold_$r]=$T
		check_kernel "$2 cold $r"
	done
	vn_kill9
	for ns in $(qrouters); do ip netns del "$ns"; done
	ip netns del "$VN_NS"
	bench_settle
}

# The same kernel objects with ip -batch and nft -f: NNET+1 bridges (public
# with 172.24.4.1/24), NROUT router namespaces with ip_forward, a gateway
# and an interface leg each (veth, master, up, address), a default route
# and the NAT table.
raw_run() { # R
	local r=$1 rc=vnt-rs-raw i ns f=$VN_TMP/raw t0
	ip netns add "$rc"
	t0=$(now)
	{
		echo "link set lo up"
		echo "link add vnb-pub mtu 1500 up type bridge"
		echo "address add 172.24.4.1/24 dev vnb-pub"
		for ((i = 0; i < NNET; i++)); do printf 'link add vnb-%011x mtu 1500 up type bridge\n' "$i"; done
		for ((i = 0; i < NROUT; i++)); do
			ns=qrouter-raw-$i
			echo "link add hg-$i type veth peer name qg-$i netns $ns"
			echo "link set hg-$i master vnb-pub up"
			echo "link add hr-$i type veth peer name qr-$i netns $ns"
			printf 'link set hr-%s master vnb-%011x up\n' "$i" "$i"
		done
	} >"$f-core"
	for ((i = 0; i < NROUT; i++)); do echo "netns add qrouter-raw-$i"; done >"$f-ns"
	ip -batch "$f-ns"
	ip -n "$rc" -batch "$f-core"
	for ((i = 0; i < NROUT; i++)); do
		ns=qrouter-raw-$i
		{
			echo "link set lo up"
			echo "link set qg-$i up"
			echo "address add 172.24.4.$((i + 10))/24 dev qg-$i"
			echo "link set qr-$i up"
			echo "address add 10.$((i / 256)).$((i % 256)).1/24 dev qr-$i"
			echo "route add default via 172.24.4.1"
		} >"$f-$i"
		{
			echo "table ip vnetfs"
			echo "delete table ip vnetfs"
			echo "table ip vnetfs {"
			echo "  chain prerouting { type nat hook prerouting priority dstnat; policy accept; }"
			echo "  chain output { type nat hook output priority -100; policy accept; }"
			echo "  chain postrouting { type nat hook postrouting priority srcnat; policy accept;"
			echo "    ip saddr 10.$((i / 256)).$((i % 256)).0/24 oifname \"qg-$i\" snat to 172.24.4.$((i + 10))"
			echo "  }"
			echo "}"
		} >"$f-$i.nft"
		ip -n "$ns" -batch "$f-$i"
		ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward && exec nft -f "$1"' sh "$f-$i.nft"
	done
	R[raw_$r]=$(($(now) - t0))
	[ "$(ip -n "$rc" -br link show type bridge | grep -c '^vnb-')" = $((NNET + 1)) ] || die "raw: bridges missing"
	for ((i = 0; i < NROUT; i++)); do ip netns del "qrouter-raw-$i"; done
	ip netns del "$rc"
	bench_settle
}

bench_settle
NEW_BIN=$VNETFS
run_bin "$NEW_BIN" new
[ -z "${BENCH_BASE:-}" ] || run_bin "$BENCH_BASE" base
VNETFS=$NEW_BIN
for ((r = 1; r <= REPEAT; r++)); do
	echo "# raw ip -batch/nft $r" >&2
	raw_run "$r"
done

echo
echo "vnetfs: $NEW_BIN; baseline: ${BENCH_BASE_LABEL:-none}; $(nproc) CPUs; kernel $(uname -r)"
echo "tree: $NNET networks + subnets, $NROUT routers (gateway + 1 interface), $NPORT ports (unbound)"
echo
runs() { # KEY: "a / b ms"
	local r out=
	for ((r = 1; r <= REPEAT; r++)); do out+="${out:+ / }$(ms "${R[${1}_$r]}")"; done
	echo "$out ms"
}
echo "| restart to a mounted, reconciled tree | vnetfs | ${BENCH_BASE:+baseline binary |} ip -batch + nft -f (same objects) |"
echo "|---|---:|${BENCH_BASE:+---:|}---:|"
echo "| warm (kernel state present) | $(runs new_warm) | ${BENCH_BASE:+$(runs base_warm) |} — |"
echo "| cold (kernel state gone) | $(runs new_cold) | ${BENCH_BASE:+$(runs base_cold) |} $(runs raw) |"
echo
echo "cold / raw: $(ratio "${R[new_cold_1]}" "${R[raw_1]}")x (first runs)"
VN_DONE=1
exit 0
