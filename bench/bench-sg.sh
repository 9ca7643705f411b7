#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/bench-sg.sh — security group change latency as the ruleset grows,
# next to Neutron's way (iptables-restore of the whole ruleset) in the
# same run.
#
#   sudo bash bench/bench-sg.sh
#   sudo BENCH_RULES="100 1000" BENCH_REPEAT=10 bash bench/bench-sg.sh
#
# At each size N (default 100, 1000, 10000) there are N rules in groups of
# 100 (group g1 ... g(N/100)), each group also allowing `ingress any group
# rg`; two bound ports list the groups (at most 50 each). Measured,
# BENCH_REPEAT times (default 20), median and worst:
#  (a) one rule added: echo "ingress tcp P" >> security_groups/g1/rules
#  (r) one rule removed: g1's list written again without one of them
#  (b) one remote-group member added: an unbound port with an address goes
#      from `default` to `default rg` (its address joins rg's set)
#  (f) the write path's floor: g1's `description` written (FUSE, the
#      store's commit; no kernel work)
#  (c) baseline: iptables-restore (iptables-nft) of an equivalent ruleset
#      (N ACCEPT rules in per-group chains, one rule per member address)
#      into an empty namespace of its own, i.e. what a full reload costs.
# VNETFS=/path/to/other/vnetfs runs another binary (an A/B against main).
set -euo pipefail

. "$(dirname "$0")/common.sh"
trap - ERR

REPEAT=${BENCH_REPEAT:-20}
read -r -a SIZES <<<"${BENCH_RULES:-100 1000 10000}"
M=$VN_MNT
SG=$M/security_groups

median() { LC_ALL=C sort -n | awk '{a[NR] = $1} END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
maxof() { LC_ALL=C sort -n | tail -1; }
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
now() { echo "${EPOCHREALTIME/./}"; }
command -v iptables-nft-restore >/dev/null || { echo "bench-sg.sh: needs iptables (iptables-nft-restore)" >&2; exit 2; }

vn_start
mkdir "$M/networks/bn" "$M/networks/bn/subnets/bs"
echo 10.0.0.0/16 >"$M/networks/bn/subnets/bs/cidr"
mkdir "$SG/rg"
for h in ba bb; do
	ip netns add "$h"
	mkdir "$M/networks/bn/ports/$h"
	echo static >"$M/networks/bn/ports/$h/ipconfig"
	echo "/run/netns/$h" >"$M/networks/bn/ports/$h/netns"
done
# members to add: unbound ports with an address
for ((i = 1; i <= REPEAT; i++)); do mkdir "$M/networks/bn/ports/m$i"; done

NGR=0
grow_to() { # N: rules in all
	local want=$(($1 / 100)) g p
	for ((g = NGR + 1; g <= want; g++)); do
		mkdir "$SG/g$g"
		{
			echo "egress any"
			echo "ingress any group rg"
			for ((p = 1; p <= 98; p++)); do echo "ingress tcp $((1000 + p)) from 10.$((g % 250)).0.0/16"; done
		} >"$SG/g$g/rules"
	done
	NGR=$want
	# the two bound ports use the groups (at most 50 each)
	seq 1 "$((NGR < 50 ? NGR : 50))" | sed 's/^/g/' >"$M/networks/bn/ports/ba/security_groups"
	if [ "$NGR" -gt 50 ]; then
		seq 51 "$NGR" | sed 's/^/g/' >"$M/networks/bn/ports/bb/security_groups"
	else
		echo g1 >"$M/networks/bn/ports/bb/security_groups"
	fi
}

ipt_file() { # N
	local g p ngr=$(($1 / 100))
	echo "*filter"
	echo ":INPUT ACCEPT [0:0]"
	echo ":FORWARD ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	for ((g = 1; g <= ngr; g++)); do echo ":sg-g$g - [0:0]"; done
	echo ":sg-rg - [0:0]"
	for ((p = 1; p <= REPEAT + 2; p++)); do echo "-A sg-rg -s 10.0.$((p / 250)).$((p % 250 + 1))/32 -j RETURN"; done
	for ((g = 1; g <= ngr; g++)); do
		echo "-A FORWARD -j sg-g$g"
		echo "-A sg-g$g -m state --state RELATED,ESTABLISHED -j RETURN"
		echo "-A sg-g$g -j sg-rg"
		for ((p = 1; p <= 98; p++)); do echo "-A sg-g$g -p tcp -s 10.$((g % 250)).0.0/16 --dport $((1000 + p)) -j RETURN"; done
	done
	echo "COMMIT"
}

printf '| rules | rule add: median / max | rule remove: median / max | member add: median / max | description write: median / max | iptables-restore of the ruleset: median / max | restore / rule add |\n'
printf '|---|---|---|---|---|---|---|\n'
for n in "${SIZES[@]}"; do
	grow_to "$n"
	# rules of the inet table (not its chains, sets and maps)
	nft_rules=$(ip netns exec "$VN_NS" nft -a list table inet vnetfs_sg | grep '# handle' |
		grep -cvE '^[[:space:]]*(table|chain|set|map) ' || true)
	ra=() rr=() ma=() dw=() ir=()
	for ((i = 1; i <= REPEAT; i++)); do
		t0=$(now)
		echo "ingress tcp $((20000 + i))" >>"$SG/g1/rules"
		t1=$(now)
		ra+=($((t1 - t0)))
	done
	# take them out again, one write of g1's list each (the write is timed)
	for ((i = 1; i <= REPEAT; i++)); do
		keep=$(grep -vx "ingress tcp $((20000 + i))" "$SG/g1/rules")
		t0=$(now)
		printf '%s\n' "$keep" >"$SG/g1/rules" # a builtin, like the add's echo
		t1=$(now)
		rr+=($((t1 - t0)))
	done
	for ((i = 1; i <= REPEAT; i++)); do
		t0=$(now)
		echo "d$i" >"$SG/g1/description"
		t1=$(now)
		dw+=($((t1 - t0)))
	done
	for ((i = 1; i <= REPEAT; i++)); do
		t0=$(now)
		printf 'default\nrg\n' >"$M/networks/bn/ports/m$i/security_groups"
		t1=$(now)
		ma+=($((t1 - t0)))
	done
	for ((i = 1; i <= REPEAT; i++)); do echo default >"$M/networks/bn/ports/m$i/security_groups"; done
	ipt_file "$n" >"$VN_TMP/ipt.rules"
	ip netns add ipt
	for ((i = 1; i <= 5; i++)); do
		ip netns exec ipt iptables-nft -F >/dev/null 2>&1 || true
		t0=$(now)
		ip netns exec ipt iptables-nft-restore <"$VN_TMP/ipt.rules"
		t1=$(now)
		ir+=($((t1 - t0)))
	done
	ip netns del ipt
	rmed=$(printf '%s\n' "${ra[@]}" | median)
	printf '| %d (%s nft rules) | %s / %s ms | %s / %s ms | %s / %s ms | %s / %s ms | %s / %s ms | %s× |\n' "$n" "$nft_rules" \
		"$(ms "$rmed")" "$(ms "$(printf '%s\n' "${ra[@]}" | maxof)")" \
		"$(ms "$(printf '%s\n' "${rr[@]}" | median)")" "$(ms "$(printf '%s\n' "${rr[@]}" | maxof)")" \
		"$(ms "$(printf '%s\n' "${ma[@]}" | median)")" "$(ms "$(printf '%s\n' "${ma[@]}" | maxof)")" \
		"$(ms "$(printf '%s\n' "${dw[@]}" | median)")" "$(ms "$(printf '%s\n' "${dw[@]}" | maxof)")" \
		"$(ms "$(printf '%s\n' "${ir[@]}" | median)")" "$(ms "$(printf '%s\n' "${ir[@]}" | maxof)")" \
		"$(awk -v a="$(printf '%s\n' "${ir[@]}" | median)" -v b="$rmed" 'BEGIN { printf "%.0f", a / b }')"
done
vn_done >/dev/null
