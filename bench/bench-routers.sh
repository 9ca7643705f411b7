#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/bench-routers.sh — how fast are routers through the file tree, next
# to the same kernel work done by a shell script with plain `ip` and `nft`?
#
#   sudo bash bench/bench-routers.sh
#   sudo VNETFS=build-foo/vnetfs bash bench/bench-routers.sh   # another binary
#   sudo BENCH_BASE_REF=main bash bench/bench-routers.sh         # + main's binary
#   sudo BENCH_BASE=/path/old/vnetfs bash bench/bench-routers.sh # + that binary
#
# With a baseline binary (bench/base.sh) the mount side is measured for both
# binaries in the same run, one after the other, each with a fresh state
# directory and netns.
#
# Builds build-release/ (buildtype=release, no sanitizers) unless VNETFS is
# set, then runs inside the throwaway mount + network namespace of the
# system tests (tests/lib.sh). Not run by `meson test`.
#
# Measured, each at 1 and at 100 routers that already exist (each of those
# with the public gateway and one interface of its own):
#  (a) create a router with the public gateway and one interface:
#      mkdir routers/R; echo public > external_gateway; echo SUB > interfaces
#      (BENCH_REPEAT times, default 10; the router is removed, untimed,
#      after each run)
#  (b) add the Nth interface to one router, N = 1..BENCH_IFACES (default 50),
#      each on its own network: echo SUB_N >> interfaces
# The raw baseline does, with one `ip`/`nft` process per step, what the
# daemon does for the same operation: netns add, lo up, ip_forward=1, a veth
# per leg with the host end on the network's bridge, MAC, address, up,
# default route, and `nft -f` of the whole `ip vnetfs` NAT table when a
# router is made; an interface adds its one SNAT rule (`nft add rule`), as
# the daemon does (one batch with that rule and the table's marker).
# Its bridges live in a namespace of their own, with the same 100 existing
# routers when measuring at 100.
set -euo pipefail

. "$(dirname "$0")/base.sh"
. "$(dirname "$0")/common.sh"
trap - ERR

REPEAT=${BENCH_REPEAT:-10}
NIF=${BENCH_IFACES:-50}
read -r -a COUNTS <<<"${BENCH_ROUTERS:-1 100}"   # existing routers to measure at

M=$VN_MNT

median() { LC_ALL=C sort -n | awk '{a[NR] = $1} END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
now() { echo "${EPOCHREALTIME/./}"; }
die() { echo "bench-routers.sh: $*" >&2; exit 1; }

# ------------------------------------------------------------ through the mount --

mk_net() { # NET SUB CIDR
	mkdir "$M/networks/$1" "$M/networks/$1/subnets/$2"
	echo "$3" >"$M/networks/$1/subnets/$2/cidr"
}
fs_router_delete() { # NAME
	echo >"$M/routers/$1/interfaces"
	echo >"$M/routers/$1/routes"
	echo >"$M/routers/$1/external_gateway"
	rmdir "$M/routers/$1"
}

fs_setup() {
	echo "# networks for the measurements (through the mount, untimed)" >&2
	for ((i = 1; i <= NIF; i++)); do mk_net "bn$i" "bs$i" "10.100.$i.0/24"; done
	mk_net an as 10.99.0.0/24
	FILLERS=0
}
fs_add_fillers() { # up to TOTAL existing routers
	local i
	for ((i = FILLERS + 1; i <= $1; i++)); do
		mk_net "fn$i" "fs$i" "10.200.$i.0/24"
		mkdir "$M/routers/f$i"
		echo public >"$M/routers/f$i/external_gateway"
		echo "fs$i" >"$M/routers/f$i/interfaces"
	done
	FILLERS=$1
	local n
	n=$(ip netns list | grep '^qrouter-' | grep -vc '^qrouter-raw-' || true)
	[ "$n" = "$1" ] || die "expected $1 qrouter namespaces, found $n"
}

declare -A R

fs_measure() { # K [LABEL]
	local k=$1 p=${2:-fs} i a b lat=()
	for ((i = 0; i < REPEAT; i++)); do
		a=$(now)
		mkdir "$M/routers/ta"
		echo public >"$M/routers/ta/external_gateway"
		echo as >"$M/routers/ta/interfaces"
		b=$(now)
		lat+=($((b - a)))
		[ -n "$(ip -n "$(cat "$M/routers/ta/namespace")" -j link show | jq -r '.[].ifname | select(startswith("qr-"))')" ] ||
			die "router ta has no qr- leg"
		fs_router_delete ta
	done
	R[${p}_create_$k]=$(printf '%s\n' "${lat[@]}" | median)
	lat=()
	mkdir "$M/routers/tb"
	echo public >"$M/routers/tb/external_gateway"
	for ((i = 1; i <= NIF; i++)); do
		a=$(now)
		echo "bs$i" >>"$M/routers/tb/interfaces"
		b=$(now)
		lat+=($((b - a)))
	done
	local nqr
	nqr=$(ip -n "$(cat "$M/routers/tb/namespace")" -j link show | jq '[.[].ifname | select(startswith("qr-"))] | length')
	[ "$nqr" = "$NIF" ] || die "router tb has $nqr qr- legs, expected $NIF"
	nqr=$(ip netns exec "$(cat "$M/routers/tb/namespace")" nft -j list chain ip vnetfs postrouting | jq '[.nftables[] | select(.rule)] | length')
	[ "$nqr" = "$NIF" ] || die "router tb has $nqr SNAT rules, expected $NIF"
	R[${p}_add_$k]=$(printf '%s\n' "${lat[@]}" | median)
	R[${p}_add_first_$k]=$(printf '%s\n' "${lat[@]:0:10}" | median)
	R[${p}_add_last_$k]=$(printf '%s\n' "${lat[@]: -10}" | median)
	fs_router_delete tb
}

# ------------------------------------------------------------------ raw ip/nft --

RC=rawcore
ip netns add "$RC"
ip -n "$RC" link set lo up
raw_bridge() { # NAME ADDR|""
	ip -n "$RC" link add "$1" type bridge
	[ -z "$2" ] || ip -n "$RC" addr add "$2" dev "$1"
	ip -n "$RC" link set "$1" up
}
raw_bridge rpub 172.24.4.1/24
raw_bridge ran ""
for ((i = 1; i <= NIF; i++)); do raw_bridge "rbn$i" ""; done
RAWGW=1   # last gateway address used on rpub
RAWMAC=0

raw_mac() { # sets MAC (no subshell: the raw side should not pay for one)
	RAWMAC=$((RAWMAC + 1))
	printf -v MAC 'fa:16:3e:%02x:%02x:%02x' $((RAWMAC >> 16 & 255)) $((RAWMAC >> 8 & 255)) $((RAWMAC & 255))
}
# raw_leg NS IFNAME HOSTNAME BRIDGE ADDR
raw_leg() {
	ip -n "$RC" link add "$3" type veth peer name "$2" netns "$1"
	ip -n "$RC" link set "$3" master "$4" up
	raw_mac
	ip -n "$1" link set "$2" address "$MAC" up
	ip -n "$1" addr add "$5" dev "$2"
}
# raw_nft NS QG GW CIDR...: replace table ip vnetfs in one nft -f batch
raw_nft() {
	local ns=$1 qg=$2 gw=$3 c f=$VN_TMP/nft-$1
	shift 3
	{
		echo "table ip vnetfs"
		echo "delete table ip vnetfs"
		echo "table ip vnetfs {"
		echo "  chain prerouting { type nat hook prerouting priority dstnat; policy accept; }"
		echo "  chain output { type nat hook output priority -100; policy accept; }"
		echo "  chain postrouting { type nat hook postrouting priority srcnat; policy accept;"
		for c in "$@"; do echo "    ip saddr $c oifname \"$qg\" snat to $gw"; done
		echo "  }"
		echo "}"
	} >"$f"
	ip netns exec "$ns" nft -f "$f"
}
# raw_router NAME BRIDGE CIDR GWADDR: netns + gateway + one interface + nft
raw_router() {
	local ns=qrouter-raw-$1 gw
	RAWGW=$((RAWGW + 1))
	gw=172.24.4.$RAWGW
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	raw_leg "$ns" "qg-$1" "hg-$1" rpub "$gw/24"
	ip -n "$ns" route add default via 172.24.4.1
	raw_leg "$ns" "qr-$1" "hr-$1" "$2" "$4"
	raw_nft "$ns" "qg-$1" "$gw" "$3"
}
raw_delete() { # NAME
	ip netns del "qrouter-raw-$1"
}
RAW_FILLERS=0
raw_add_fillers() {
	local i
	for ((i = RAW_FILLERS + 1; i <= $1; i++)); do
		raw_bridge "rfn$i" ""
		raw_router "f$i" "rfn$i" "10.200.$i.0/24" "10.200.$i.1/24"
	done
	RAW_FILLERS=$1
}

raw_measure() { # K
	local k=$1 i a b lat=() ns gw
	for ((i = 0; i < REPEAT; i++)); do
		a=$(now)
		# names unique per run: a deleted namespace's veths go away asynchronously
		raw_router "ta$k-$i" ran 10.99.0.0/24 10.99.0.1/24
		b=$(now)
		lat+=($((b - a)))
		raw_delete "ta$k-$i"
	done
	R[raw_create_$k]=$(printf '%s\n' "${lat[@]}" | median)
	lat=()
	ns=qrouter-raw-tb$k
	RAWGW=$((RAWGW + 1))
	gw=172.24.4.$RAWGW
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	raw_leg "$ns" "qg-tb$k" "hg-tb$k" rpub "$gw/24"
	ip -n "$ns" route add default via 172.24.4.1
	raw_nft "$ns" "qg-tb$k" "$gw"
	for ((i = 1; i <= NIF; i++)); do
		a=$(now)
		raw_leg "$ns" "qr-$k-$i" "hr-$k-$i" "rbn$i" "10.100.$i.1/24"
		ip netns exec "$ns" nft add rule ip vnetfs postrouting ip saddr "10.100.$i.0/24" oifname "qg-tb$k" snat to "$gw"
		b=$(now)
		lat+=($((b - a)))
	done
	R[raw_add_$k]=$(printf '%s\n' "${lat[@]}" | median)
	R[raw_add_first_$k]=$(printf '%s\n' "${lat[@]:0:10}" | median)
	R[raw_add_last_$k]=$(printf '%s\n' "${lat[@]: -10}" | median)
	raw_delete "tb$k"
}

# ---------------------------------------------------------------------- run --

# The mount side for one binary: a daemon of its own (state dir, netns),
# every count, then the daemon stopped and its kernel state removed.
fs_run() { # BINARY LABEL
	local k ns
	VNETFS=$1
	VN_NS=vnt-$2
	VN_STATE=$VN_TMP/state-$2
	mkdir -p "$VN_STATE"
	vn_start
	fs_setup
	for k in "${COUNTS[@]}"; do
		echo "# $k existing routers: adding fillers ($2)" >&2
		fs_add_fillers "$k"
		echo "# $k existing routers: through the mount ($2)" >&2
		fs_measure "$k" "$2"
	done
	vn_stop >/dev/null
	for ns in $(ip netns list | awk '/^qrouter-/ && !/^qrouter-raw-/ {print $1}'); do
		ip netns del "$ns"
	done
	ip netns del "$VN_NS" 2>/dev/null || true
	bench_settle # the kernel dismantles those namespaces in the background
}

NEW_BIN=$VNETFS
fs_run "$NEW_BIN" fs
[ -z "${BENCH_BASE:-}" ] || fs_run "$BENCH_BASE" base
VNETFS=$NEW_BIN
for k in "${COUNTS[@]}"; do
	echo "# $k existing routers: adding fillers (raw)" >&2
	raw_add_fillers "$k"
	echo "# $k existing routers: raw ip/nft" >&2
	raw_measure "$k"
done

# What one step of the raw script costs besides its kernel work: a
# trivial `ip` command (fork, exec, library loading, one netlink dump).
a=$(now)
for ((i = 0; i < 20; i++)); do ip -n "$RC" link show dev lo >/dev/null; done
b=$(now)
ipcmd_us=$(((b - a) / 20))
a=$(now)
for ((i = 0; i < 20; i++)); do /bin/true; done
b=$(now)
fork_us=$(((b - a) / 20))
RAW_STEPS_CREATE=13   # netns add, lo up, sysctl, 2 legs x (veth, master+up, mac+up, addr), default route, nft -f
RAW_STEPS_ADD=5       # veth, master+up, mac+up, addr, nft add rule

echo
echo "vnetfs: $VNETFS; baseline: ${BENCH_BASE_LABEL:-none}; $(nproc) CPUs; kernel $(uname -r); repeat $REPEAT; interfaces 1..$NIF"
echo
if [ -n "${BENCH_BASE:-}" ]; then
	row() { # LABEL K FS_US RAW_US STEPS [BASE_US]
		echo "| $1 | $2 | $(ms "$3") ms | $(ms "$6") ms | $(ms "$4") ms ($5 commands) | $(ratio "$3" "$4") |"
	}
	echo "| operation | existing routers | mount median | baseline binary median | raw ip/nft median | ratio mount/raw |"
	echo "|---|---:|---:|---:|---:|---:|"
else
	row() { # LABEL K FS_US RAW_US STEPS
		echo "| $1 | $2 | $(ms "$3") ms | $(ms "$4") ms ($5 commands) | $(ratio "$3" "$4") |"
	}
	echo "| operation | existing routers | mount median | raw ip/nft median | ratio mount/raw |"
	echo "|---|---:|---:|---:|---:|"
fi
for k in "${COUNTS[@]}"; do
	row "create router + gateway + 1 interface" "$k" "${R[fs_create_$k]}" "${R[raw_create_$k]}" $RAW_STEPS_CREATE "${R[base_create_$k]:-0}"
done
for k in "${COUNTS[@]}"; do
	row "add Nth interface, N=1..$NIF" "$k" "${R[fs_add_$k]}" "${R[raw_add_$k]}" $RAW_STEPS_ADD "${R[base_add_$k]:-0}"
done
for k in "${COUNTS[@]}"; do
	row "add Nth interface, N=1..10" "$k" "${R[fs_add_first_$k]}" "${R[raw_add_first_$k]}" $RAW_STEPS_ADD "${R[base_add_first_$k]:-0}"
	row "add Nth interface, N=$((NIF - 9))..$NIF" "$k" "${R[fs_add_last_$k]}" "${R[raw_add_last_$k]}" $RAW_STEPS_ADD "${R[base_add_last_$k]:-0}"
done
echo
k0=${COUNTS[0]} k1=${COUNTS[-1]}
echo "Growth with existing routers ($k0 -> $k1), mount: create $(ratio "${R[fs_create_$k1]}" "${R[fs_create_$k0]}")x, add interface $(ratio "${R[fs_add_$k1]}" "${R[fs_add_$k0]}")x; raw: create $(ratio "${R[raw_create_$k1]}" "${R[raw_create_$k0]}")x, add interface $(ratio "${R[raw_add_$k1]}" "${R[raw_add_$k0]}")x."
echo "One fork+exec of /bin/true: $(ms "$fork_us") ms; one trivial ip command: $(ms "$ipcmd_us") ms. The mount side forks once per router creation (mkdir) and not at all per interface (echo is a builtin); the raw side runs one process per step ($RAW_STEPS_CREATE for a router, $RAW_STEPS_ADD for an interface). The raw side's time is mostly process start-up, so 'raw' is not the bare kernel work: a ratio below 1 does not mean the daemon beats the kernel."
[ -z "${BENCH_BASE:-}" ] || echo "Target: add interface median <= 3 ms (baseline binary: ${BENCH_BASE_LABEL})."
VN_DONE=1
