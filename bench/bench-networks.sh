#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/bench-networks.sh — how fast is a network through the file tree,
# next to the same bridges made by `ip -batch`? See bench/README.md.
#
#   sudo bash bench/bench-networks.sh [N ...]      (default: 100 1000)
#
# Builds build-release/ (buildtype=release, no sanitizers) unless VNETFS
# is set, then runs everything inside the same throwaway mount + network
# namespace the system tests use (tests/lib.sh), and prints a markdown
# table. Not run by `meson test`. Subnets are made with enable_dhcp 0
# (issue 9): the ip -batch baseline makes bridges and addresses, no DHCP
# service (bench-dhcp.sh measures that).
set -euo pipefail

. "$(dirname "$0")/base.sh"
. "$(dirname "$0")/common.sh"

SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100 1000)
REPEAT=${BENCH_REPEAT:-3}   # runs of the find|cat comparison (median taken)
FLOOR_REPEAT=${BENCH_FLOOR_REPEAT:-3} # python passes against the writable floor (median)

vn_start --no-defaults
M=$VN_MNT

# The FUSE transport floor (bench/fuse-floor.c, built beside the daemon):
# the tmpfs copy served from memory with every kernel cache on, walked in
# the same rounds as vnetfs and the copy; once answering OPEN as vnetfs
# must, once with --no-open (the kernel's no_open mode: no OPEN at all).
# BENCH_FLOOR names another binary; bench/openloop (beside it) times one
# file's open + read + close. fuse-floor --writable on a tree holding an
# empty networks/ takes the python pass's creates (and deletes): the create
# path's floor, timed in the same run as vnetfs's python pass and ip -batch.
FLOOR=${BENCH_FLOOR:-$(dirname "$VNETFS")/fuse-floor}
OPENLOOP=$(dirname "$FLOOR")/openloop
FLOOR_PIDS=() FLOOR_MNTS=()
# floor_start MOUNTPOINT [--no-open | --writable]: serve $FLOOR_SRC (default
# $VN_TMP/copy) there
floor_start() {
	local mnt=$1 src=${FLOOR_SRC:-$VN_TMP/copy} i
	shift
	mkdir "$mnt"
	env --default-signal=INT "$FLOOR" "$@" "$src" "$mnt" 2>>"$VN_TMP/floor.log" &
	FLOOR_PIDS+=($!)
	FLOOR_MNTS+=("$mnt")
	for ((i = 0; i < 300; i++)); do
		mountpoint -q "$mnt" && break
		kill -0 "${FLOOR_PIDS[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	mountpoint -q "$mnt" || { cat "$VN_TMP/floor.log" >&2; echo "fuse-floor did not mount $mnt" >&2; exit 1; }
	# it serves the copy exactly (and, like the mount after cp -r and the
	# fresh copy, starts the rounds warm)
	diff -r -q "$src" "$mnt" >/dev/null || { echo "fuse-floor $* differs from $src" >&2; exit 1; }
}
floor_stop() {
	local p m
	for p in "${FLOOR_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for m in "${FLOOR_MNTS[@]}"; do
		if mountpoint -q "$m" 2>/dev/null; then
			umount "$m" 2>/dev/null || umount -l "$m"
		fi
	done
	FLOOR_PIDS=() FLOOR_MNTS=()
}
# on any exit: the floors first, then tests/lib.sh's cleanup (the daemon),
# which sees the script's exit status
floor_exit() {
	local rc=$?
	trap - ERR
	set +e
	floor_stop
	(exit "$rc")
	vn__exit
}
trap floor_exit EXIT

# Timestamps in µs from bash's EPOCHREALTIME: no fork, so the loop measures
# the file operations, not `date`.
median() { LC_ALL=C sort -n | awk '{a[NR] = $1} END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
fmedian() { LC_ALL=C sort -g | awk '{a[NR] = $1} END { if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
cidr_of() { echo "10.$(($1 / 256)).$(($1 % 256)).0/24"; }

declare -A R

# py_pass N KEY [create]: N networks + subnets + cidrs from one python3
# process, then their deletion (not with create: R[KEY_delete_N] is 0);
# sets R[KEY_total_N] R[KEY_median_N] R[KEY_p99_N] R[KEY_delete_N].
py_pass() {
	local n=$1 key=$2 out nbr
	out=$(python3 - "$M" "$n" ${3:+"$3"} <<'PY'
import os, sys, time, shutil
m, n = sys.argv[1], int(sys.argv[2])
create_only = sys.argv[3:] == ["create"]
lat = []
t0 = time.perf_counter_ns()
for i in range(n):
    a = time.perf_counter_ns()
    os.mkdir(f"{m}/networks/p{i}")
    os.mkdir(f"{m}/networks/p{i}/subnets/ps{i}")
    fd = os.open(f"{m}/networks/p{i}/subnets/ps{i}/enable_dhcp", os.O_WRONLY | os.O_TRUNC)
    os.write(fd, b"0\n")  # the baseline makes no DHCP service
    os.close(fd)
    fd = os.open(f"{m}/networks/p{i}/subnets/ps{i}/cidr", os.O_WRONLY | os.O_TRUNC)
    os.write(fd, f"10.{i // 256}.{i % 256}.0/24\n".encode())
    os.close(fd)
    lat.append((time.perf_counter_ns() - a) // 1000)
t1 = time.perf_counter_ns()
for i in range(0 if create_only else n):
    shutil.rmtree(f"{m}/networks/p{i}")
t2 = time.perf_counter_ns()
lat.sort()
print((t1 - t0) // 1000, lat[(n - 1) // 2] if n % 2 else (lat[n // 2 - 1] + lat[n // 2]) // 2,
      lat[min(n - 1, int(n * 0.99 + 0.999) - 1)], (t2 - t1) // 1000)
PY
	)
	read -r R[${key}_total_$n] R[${key}_median_$n] R[${key}_p99_$n] R[${key}_delete_$n] <<<"$out"
	nbr=$(vn_bridges | wc -l)
	[ "$nbr" = 0 ] || { echo "expected no bridges after the python pass, found $nbr" >&2; exit 1; }
}


for n in "${SIZES[@]}"; do
	echo "# N=$n: creating through the mount" >&2
	lat=$VN_TMP/lat-$n
	: >"$lat"
	lats=()
	t0=${EPOCHREALTIME/./}
	for ((i = 0; i < n; i++)); do
		a=${EPOCHREALTIME/./}
		mkdir "$M/networks/b$i"
		mkdir "$M/networks/b$i/subnets/bs$i"
		echo 0 >"$M/networks/b$i/subnets/bs$i/enable_dhcp" # as the baseline: no DHCP service
		echo "10.$((i / 256)).$((i % 256)).0/24" >"$M/networks/b$i/subnets/bs$i/cidr"
		b=${EPOCHREALTIME/./}
		lats+=($((b - a)))
	done
	t1=${EPOCHREALTIME/./}
	printf '%s\n' "${lats[@]}" >"$lat"
	R[fs_total_$n]=$((t1 - t0))
	R[fs_median_$n]=$(median <"$lat")
	R[fs_p99_$n]=$(LC_ALL=C sort -n "$lat" | awk -v n="$n" 'NR == int(n * 0.99 + 0.999) {print; exit}')
	nbr=$(vn_bridges | wc -l)
	[ "$nbr" = "$n" ] || { echo "expected $n bridges, found $nbr" >&2; exit 1; }

	if [ "$n" = "${SIZES[-1]}" ]; then
		echo "# N=$n: find | xargs cat over the mount vs a tmpfs copy" >&2
		cp -r "$M" "$VN_TMP/copy"
		# the walk over each of these in every round (vnetfs, the copy, the
		# floors), and one file's open + read + close
		names=(fs tmpfs) dirs=("$M" "$VN_TMP/copy")
		if [ -x "$FLOOR" ]; then
			floor_start "$VN_TMP/floor-mnt"
			floor_start "$VN_TMP/floor0-mnt" --no-open
			names+=(floor floor0)
			dirs+=("$VN_TMP/floor-mnt" "$VN_TMP/floor0-mnt")
		else
			echo "# no $FLOOR (ninja -C $(dirname "$VNETFS") fuse-floor openloop): no floor rows" >&2
		fi
		one=networks/b0/subnets/bs0/cidr
		declare -A runs=() olruns=()
		for ((r = 0; r < REPEAT; r++)); do
			for ((k = 0; k < ${#names[@]}; k++)); do
				a=${EPOCHREALTIME/./}
				find "${dirs[k]}" -type f -print0 | xargs -0 cat >/dev/null
				b=${EPOCHREALTIME/./}
				runs[${names[k]}]+="$((b - a)) "
			done
			[ -x "$OPENLOOP" ] || continue
			for ((k = 0; k < ${#names[@]}; k++)); do
				olruns[${names[k]}]+="$("$OPENLOOP" "${dirs[k]}/$one" | awk '{print $1}') "
			done
		done
		for k in "${names[@]}"; do
			R[find_$k]=$(printf '%s\n' ${runs[$k]} | median)
			[ -z "${olruns[$k]:-}" ] || R[ol_$k]=$(printf '%s\n' ${olruns[$k]} | fmedian)
		done
		R[ol_file]=$one
		R[find_files]=$(find "$VN_TMP/copy" -type f | wc -l)
		R[find_dirs]=$(find "$VN_TMP/copy" -type d | wc -l)
		R[find_n]=$n
		floor_stop
		for k in "$VN_TMP/floor-mnt" "$VN_TMP/floor0-mnt"; do
			[ -d "$k" ] || continue
			mountpoint -q "$k" && { echo "fuse-floor left its mount $k" >&2; exit 1; }
			rmdir "$k"
		done
		rm -rf "$VN_TMP/copy"
	fi

	echo "# N=$n: deleting through the mount" >&2
	t0=${EPOCHREALTIME/./}
	for ((i = 0; i < n; i++)); do
		rm -r "$M/networks/b$i"
	done
	t1=${EPOCHREALTIME/./}
	R[fs_delete_$n]=$((t1 - t0))
	nbr=$(vn_bridges | wc -l)
	[ "$nbr" = 0 ] || { echo "expected no bridges after deletion, found $nbr" >&2; exit 1; }

	if command -v python3 >/dev/null; then
		echo "# N=$n: the same through the mount from one python3 process (no fork per step)" >&2
		py_pass "$n" py
	fi

	if [ -x "$FLOOR" ] && command -v python3 >/dev/null; then
		# FLOOR_REPEAT passes, each on a fresh floor; the medians
		echo "# N=$n: the same python3 pass against the writable FUSE floor ($FLOOR_REPEAT times)" >&2
		rm -rf "$VN_TMP/wtree"
		mkdir -p "$VN_TMP/wtree/networks"
		for ((r = 0; r < FLOOR_REPEAT; r++)); do
			FLOOR_SRC=$VN_TMP/wtree floor_start "$VN_TMP/floorw-mnt" --writable
			M=$VN_TMP/floorw-mnt py_pass "$n" "floorw$r"
			floor_stop
			rmdir "$VN_TMP/floorw-mnt"
		done
		for k in total median delete; do
			R[floorw_${k}_$n]=$(for ((r = 0; r < FLOOR_REPEAT; r++)); do echo "${R[floorw${r}_${k}_$n]}"; done | median)
		done
		R[floorw_all_$n]=$(for ((r = 0; r < FLOOR_REPEAT; r++)); do ms "${R[floorw${r}_total_$n]}"; echo; done | paste -sd/)
		R[floorw_req_$n]=$(grep 'requests:' "$VN_TMP/floor.log" | tail -1)
		# the requests of the create loop alone, on a fresh floor
		FLOOR_SRC=$VN_TMP/wtree floor_start "$VN_TMP/floorw-mnt" --writable
		M=$VN_TMP/floorw-mnt py_pass "$n" floorc create
		floor_stop
		R[floorc_req_$n]=$(grep 'requests:' "$VN_TMP/floor.log" | tail -1)
		rmdir "$VN_TMP/floorw-mnt"
	fi

	echo "# N=$n: the same bridges with ip -batch" >&2
	ns=vnb-base-$n
	vn_host "$ns"
	add=$VN_TMP/add-$n del=$VN_TMP/del-$n
	for ((i = 0; i < n; i++)); do
		br=$(printf 'vnb-%011x' "$i")
		gw=$(cidr_of "$i")
		gw=${gw%.0/24}.1/24
		printf 'link add %s mtu 1500 type bridge\naddress add %s dev %s\nlink set dev %s up\n' "$br" "$gw" "$br" "$br"
	done >"$add"
	for ((i = 0; i < n; i++)); do printf 'link del vnb-%011x\n' "$i"; done >"$del"
	t0=${EPOCHREALTIME/./}
	ip -n "$ns" -batch "$add"
	t1=${EPOCHREALTIME/./}
	ip -n "$ns" -batch "$del"
	t2=${EPOCHREALTIME/./}
	R[ip_total_$n]=$((t1 - t0))
	R[ip_delete_$n]=$((t2 - t1))
done

# What one fork+exec of a small program costs here: the create loop runs
# two (mkdir, mkdir), the delete loop one (rm) per network.
a=${EPOCHREALTIME/./}
for ((i = 0; i < 200; i++)); do /bin/true; done
b=${EPOCHREALTIME/./}
R[exec]=$(((b - a) / 200))

kill -TERM "$VN_PID"
wait "$VN_PID" || true
VN_PID=

# The python pass again with the state directory on the real disk (each
# acknowledged write is one durable sync there): BENCH_DISK_DIR, default
# /var/tmp. Skipped with BENCH_DISK_DIR=none or without python3.
DISK_DIR=${BENCH_DISK_DIR:-/var/tmp}
if [ "$DISK_DIR" != none ] && command -v python3 >/dev/null; then
	DISK_STATE=$(mktemp -d "$DISK_DIR/vnetfs-bench-state.XXXXXX")
	R[disk_fs]=$(df --output=fstype "$DISK_STATE" | tail -1 | tr -d ' ')
	VN_STATE=$DISK_STATE
	vn_start --no-defaults >/dev/null
	for n in "${SIZES[@]}"; do
		echo "# N=$n: one python3 process, state directory on $DISK_DIR (${R[disk_fs]})" >&2
		py_pass "$n" disk
	done
	kill -TERM "$VN_PID"
	wait "$VN_PID" || true
	VN_PID=
	rm -rf "$DISK_STATE"
fi

# With a baseline binary (bench/base.sh: BENCH_BASE or BENCH_BASE_REF), the
# tmpfs python pass once more with it, in its own state dir and netns.
if [ -n "${BENCH_BASE:-}" ] && command -v python3 >/dev/null; then
	NEW_BIN=$VNETFS
	VNETFS=$BENCH_BASE
	VN_STATE=$VN_TMP/state-base
	VN_NS=vnt-base
	mkdir -p "$VN_STATE"
	vn_start --no-defaults >/dev/null
	for n in "${SIZES[@]}"; do
		echo "# N=$n: one python3 process, baseline binary" >&2
		py_pass "$n" base
	done
	kill -TERM "$VN_PID"
	wait "$VN_PID" || true
	VN_PID=
	VNETFS=$NEW_BIN
fi

host=$(uname -r)
cpus=$(nproc)
echo
echo "vnetfs bench — $(date -u +%F) — kernel $host, $cpus CPUs, $(basename "$(dirname "$VNETFS")")/vnetfs"
echo
echo "Create N networks, each with one subnet and its cidr; targets: ratio to ip -batch ≤ 1.5 (state on tmpfs) and ≤ 3 (state on disk), median ≤ 3 ms. The state directory is the sandbox's tmpfs scratch unless the row says otherwise."
echo
echo "| N | client | vnetfs total | per network+subnet (median) | p99 | ip -batch total | ratio | delete: vnetfs / ip -batch |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|"
for n in "${SIZES[@]}"; do
	printf '| %s | bash loop (mkdir, mkdir, echo) | %s ms | %s ms | %s ms | %s ms | %s | %s ms / %s ms |\n' \
		"$n" "$(ms "${R[fs_total_$n]}")" "$(ms "${R[fs_median_$n]}")" "$(ms "${R[fs_p99_$n]}")" \
		"$(ms "${R[ip_total_$n]}")" "$(ratio "${R[fs_total_$n]}" "${R[ip_total_$n]}")" \
		"$(ms "${R[fs_delete_$n]}")" "$(ms "${R[ip_delete_$n]}")"
	[ -n "${R[py_total_$n]:-}" ] || continue
	printf '| %s | one python3 process | %s ms | %s ms | %s ms | %s ms | %s | %s ms / %s ms |\n' \
		"$n" "$(ms "${R[py_total_$n]}")" "$(ms "${R[py_median_$n]}")" "$(ms "${R[py_p99_$n]}")" \
		"$(ms "${R[ip_total_$n]}")" "$(ratio "${R[py_total_$n]}" "${R[ip_total_$n]}")" \
		"$(ms "${R[py_delete_$n]}")" "$(ms "${R[ip_delete_$n]}")"
	if [ -n "${R[base_total_$n]:-}" ]; then
		printf '| %s | one python3 process, baseline binary (%s) | %s ms | %s ms | %s ms | %s ms | %s | %s ms / %s ms |\n' \
			"$n" "$BENCH_BASE_LABEL" "$(ms "${R[base_total_$n]}")" "$(ms "${R[base_median_$n]}")" "$(ms "${R[base_p99_$n]}")" \
			"$(ms "${R[ip_total_$n]}")" "$(ratio "${R[base_total_$n]}" "${R[ip_total_$n]}")" \
			"$(ms "${R[base_delete_$n]}")" "$(ms "${R[ip_delete_$n]}")"
	fi
	[ -n "${R[disk_total_$n]:-}" ] || continue
	printf '| %s | one python3 process, state on %s (%s) | %s ms | %s ms | %s ms | %s ms | %s | %s ms / %s ms |\n' \
		"$n" "$DISK_DIR" "${R[disk_fs]}" "$(ms "${R[disk_total_$n]}")" "$(ms "${R[disk_median_$n]}")" "$(ms "${R[disk_p99_$n]}")" \
		"$(ms "${R[ip_total_$n]}")" "$(ratio "${R[disk_total_$n]}" "${R[ip_total_$n]}")" \
		"$(ms "${R[disk_delete_$n]}")" "$(ms "${R[ip_delete_$n]}")"
done
echo
echo "One fork+exec of /bin/true costs $(ms "${R[exec]}") ms here; the create loop spends two per network (mkdir), the delete loop one (rm)."
# per_net N LINE [MINUS]: a floor's "requests:" line (less MINUS's): each
# kind's count, and per network
per_net() {
	awk -v n="$1" -v a="$2" -v b="${3:-}" 'BEGIN {
		na = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= na; i++) if (split(x[i], kv, "=") == 2) v[kv[1]] = kv[2]
		for (i in y) if (split(y[i], kv, "=") == 2) v[kv[1]] -= kv[2]
		for (i = 1; i <= na; i++) {
			if (split(x[i], kv, "=") != 2 || v[kv[1]] == 0) continue
			out = out sep sprintf("%s %d (%.2f)", kv[1], v[kv[1]], v[kv[1]] / n); sep = ", "
			if (kv[1] !~ /^(RELEASE|RELEASEDIR|FORGET|BATCH_FORGET)$/) sync += v[kv[1]]
		}
		printf "%s; synchronous: %d (%.2f)", out, sync, sync / n
	}'
}
if [ -n "${R[floorw_total_${SIZES[0]}]:-}" ]; then
	echo
	echo "The create path's FUSE floor: the same python3 pass against bench/fuse-floor --writable (an in-memory tree that answers MKDIR, OPEN, SETATTR, WRITE, FLUSH as vnetfs does, with nothing behind), in the same run, $FLOOR_REPEAT times on a fresh floor (medians; every pass's total in the floor column). (floor + ip -batch) / ip -batch is the lowest ratio a FUSE server that also makes the bridges could reach."
	echo
	echo "| N | ip -batch total | vnetfs (one python3 process) | FUSE floor total | floor per network (median) | floor / ip -batch | (floor + ip -batch) / ip -batch | vnetfs / ip -batch | vnetfs − floor per network | vnetfs − (floor + ip -batch) per network | delete: floor / ip -batch |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for n in "${SIZES[@]}"; do
		[ -n "${R[floorw_total_$n]:-}" ] || continue
		printf '| %s | %s ms | %s ms | %s ms (%s) | %s ms | %s | **%s** | %s | %s ms | %s ms | %s ms / %s ms |\n' "$n" \
			"$(ms "${R[ip_total_$n]}")" "$(ms "${R[py_total_$n]}")" "$(ms "${R[floorw_total_$n]}")" "${R[floorw_all_$n]}" \
			"$(awk -v us="${R[floorw_median_$n]}" 'BEGIN { printf "%.3f", us / 1000 }')" \
			"$(ratio "${R[floorw_total_$n]}" "${R[ip_total_$n]}")" \
			"$(ratio "$((R[floorw_total_$n] + R[ip_total_$n]))" "${R[ip_total_$n]}")" \
			"$(ratio "${R[py_total_$n]}" "${R[ip_total_$n]}")" \
			"$(awk -v a="${R[py_total_$n]}" -v b="${R[floorw_total_$n]}" -v n="$n" 'BEGIN { printf "%.3f", (a - b) / n / 1000 }')" \
			"$(awk -v a="${R[py_total_$n]}" -v b="$((R[floorw_total_$n] + R[ip_total_$n]))" -v n="$n" 'BEGIN { printf "%.3f", (a - b) / n / 1000 }')" \
			"$(ms "${R[floorw_delete_$n]}")" "$(ms "${R[ip_delete_$n]}")"
	done
	echo
	for n in "${SIZES[@]}"; do
		[ -n "${R[floorc_req_$n]:-}" ] || continue
		echo "Requests the floor answered, total (per network), N=$n: create loop (a fresh floor, creates only): $(per_net "$n" "${R[floorc_req_$n]}"); deletion (shutil.rmtree, the timed pass less the create-only one): $(per_net "$n" "${R[floorw_req_$n]}" "${R[floorc_req_$n]}")."
	done
fi
echo
echo "| tree | files | find \\| xargs cat: vnetfs | same on a tmpfs copy | ratio (issue 7: target ≤ 2) |"
echo "|---|---:|---:|---:|---:|"
printf '| %s networks + subnets | %s | %s ms | %s ms | %s |\n' "${R[find_n]}" "${R[find_files]}" \
	"$(ms "${R[find_fs]}")" "$(ms "${R[find_tmpfs]}")" "$(ratio "${R[find_fs]}" "${R[find_tmpfs]}")"
if [ -n "${R[find_floor]:-}" ]; then
	us_file() { awk -v us="$1" -v n="${R[find_files]}" 'BEGIN { printf "%.1f", us / n }'; }
	echo
	echo "The FUSE transport floor: bench/fuse-floor serves the tmpfs copy from memory with every kernel cache on (names, attributes, pages, readdir), answering OPEN (keep_cache, noflush) or not at all (--no-open: the kernel's no_open mode). ${R[find_n]} networks + subnets, ${R[find_files]} files in ${R[find_dirs]} directories; the walks in the same $REPEAT rounds, medians. open+read+close: one file (${R[ol_file]}) 20000 times from one process (bench/openloop), median of $REPEAT."
	echo
	echo "| file system | find \\| xargs cat | per file | / tmpfs | vnetfs / this | open+read+close | / tmpfs | vnetfs / this |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for k in tmpfs floor floor0 fs; do
		case $k in
		tmpfs) label="tmpfs copy" ;;
		floor) label="FUSE floor (fuse-floor)" ;;
		floor0) label="FUSE floor without OPEN (fuse-floor --no-open)" ;;
		fs) label="vnetfs" ;;
		esac
		printf '| %s | %s ms | %s µs | %s | %s | %s µs | %s | %s |\n' "$label" \
			"$(ms "${R[find_$k]}")" "$(us_file "${R[find_$k]}")" \
			"$(ratio "${R[find_$k]}" "${R[find_tmpfs]}")" "$(ratio "${R[find_fs]}" "${R[find_$k]}")" \
			"${R[ol_$k]:-n/a}" "$(ratio "${R[ol_$k]:-0}" "${R[ol_tmpfs]:-0}")" \
			"$(ratio "${R[ol_fs]:-0}" "${R[ol_$k]:-0}")"
	done
fi

VN_DONE=1
exit 0
