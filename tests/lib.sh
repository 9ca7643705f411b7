# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# tests/lib.sh — the shell library every system test (and the benchmark)
# sources. A test looks like this:
#
#   #!/bin/bash
#   set -euo pipefail
#   . "$(dirname "$0")/../lib.sh"
#   vn_sandbox "$@"          # re-exec in a private mount + network namespace
#   vn_start                 # daemon on $VN_MNT, bridges in netns $VN_NS
#   vn_eq 1500 "$(vn_cat "$VN_MNT/networks/public/mtu")" "public mtu"
#   vn_done                  # stops the daemon, prints "N passed, M failed"
#
# Everything runs inside a throwaway mount + network namespace (unshare):
# /run/netns and the scratch dir are tmpfs mounts private to it, so netns,
# FUSE mounts and bridges cannot leak to the host, even when a test dies.
#
# Environment:
#   VNETFS          the daemon binary (meson sets it; otherwise build*/vnetfs)
#   VN_LOG_LINES    lines of the daemon log shown at the end of a failed
#                   test (default 60; each failed assertion shows up to 8
#                   lines logged since the previous failure)
#   VN_QUIET=1      don't print a line for every passed assertion
#   VN_KEEP=DIR     copy the scratch dir (daemon.log, state/) there at exit
#
# Exit status: 0 all assertions passed, 1 otherwise, 77 skipped (no root,
# no unshare, no /dev/fuse).

VN_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VN_SRC_ROOT=$(dirname "$VN_LIB_DIR")
VN_NS=${VN_NS:-vnt-core}
VN_PASS=0
VN_FAIL=0
VN_DONE=0
VN_PID=
VN_DAEMON_ARGS=()
VN_HOSTS=()
VN_TIMEOUT=${VN_TIMEOUT:-20}   # seconds any single file operation may take

# ---------------------------------------------------------------- sandbox --

vn__skip() {
	echo "SKIP: $*" >&2
	VN_DONE=1
	exit 77
}

vn__find_binary() {
	if [ -n "${VNETFS:-}" ]; then
		return 0
	fi
	local b
	for b in "$VN_SRC_ROOT"/build-asan/vnetfs "$VN_SRC_ROOT"/build/vnetfs "$VN_SRC_ROOT"/build*/vnetfs; do
		if [ -x "$b" ]; then
			VNETFS=$b
			return 0
		fi
	done
	echo "FAIL: no daemon binary: set VNETFS or build one into build*/vnetfs" >&2
	exit 1
}

# vn_sandbox "$@": call first thing in a test. Outside the sandbox it
# re-executes the calling script under unshare; inside it prepares the
# private /run/netns, the scratch dir and the cleanup trap.
vn_sandbox() {
	if [ "${VN_IN_SANDBOX:-}" != 1 ]; then
		[ "$(id -u)" = 0 ] || vn__skip "system tests need root"
		command -v unshare >/dev/null || vn__skip "unshare (util-linux) is missing"
		command -v ip >/dev/null || vn__skip "ip (iproute2) is missing"
		command -v jq >/dev/null || vn__skip "jq is missing"
		[ -c /dev/fuse ] || vn__skip "/dev/fuse is missing"
		unshare --mount --net --propagation private true 2>/dev/null ||
			vn__skip "unshare --mount --net failed (no privileges for namespaces?)"
		vn__find_binary
		local script
		script=$(readlink -f "$0")
		export VN_IN_SANDBOX=1 VNETFS
		VNETFS=$(readlink -f "$VNETFS")
		exec unshare --mount --net --propagation private -- bash "$script" "$@"
		vn__skip "exec unshare failed"
	fi
	vn__find_binary
	[ -x "$VNETFS" ] || { echo "FAIL: VNETFS=$VNETFS is not an executable" >&2; exit 1; }

	# From here on we are inside our own mount + net namespace. One stream,
	# so that failures and command errors show in order in meson's log.
	exec 2>&1
	trap vn__exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	set -E
	trap 'vn__on_err $? $LINENO "$BASH_COMMAND"' ERR

	mkdir -p /run/netns
	mount -t tmpfs -o mode=755 vnt-netns /run/netns
	VN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vnetfs-test.XXXXXX")
	mount -t tmpfs -o mode=755 vnt-scratch "$VN_TMP"
	ip link set lo up
	VN_MNT=$VN_TMP/mnt
	VN_STATE=$VN_TMP/state
	mkdir -m 755 "$VN_MNT" "$VN_STATE"
	: >"$VN_TMP/daemon.log"
	export VN_TMP VN_MNT VN_STATE VN_NS VNETFS
	echo "# vnetfs system test $(basename "$0"): VNETFS=$VNETFS scratch=$VN_TMP"
}

vn__on_err() {
	# Only report for the test's own shell, not for command substitutions.
	[ "$BASH_SUBSHELL" = 0 ] || return 0
	echo "ERROR: command failed with status $1 at line $2: $3" >&2
}

vn__exit() {
	local rc=$?
	trap - ERR
	set +e
	if [ "$VN_DONE" != 1 ]; then
		echo "ABORTED: the test did not reach vn_done (exit status $rc)" >&2
		vn__show_log
		[ "$rc" = 0 ] && rc=1
	fi
	vn__cleanup
	exit "$rc"
}

vn__cleanup() {
	local h
	if [ -n "$VN_PID" ] && kill -0 "$VN_PID" 2>/dev/null; then
		kill -TERM "$VN_PID" 2>/dev/null
		vn__wait_gone "$VN_PID" 50 || kill -KILL "$VN_PID" 2>/dev/null
		wait "$VN_PID" 2>/dev/null
	fi
	VN_PID=
	# Background jobs a test left behind.
	local j
	for j in $(jobs -p); do kill -KILL "$j" 2>/dev/null; done
	if [ -n "${VN_MNT:-}" ] && vn__mounted; then
		umount "$VN_MNT" 2>/dev/null || umount -l "$VN_MNT" 2>/dev/null ||
			fusermount3 -uz "$VN_MNT" 2>/dev/null
	fi
	for h in "${VN_HOSTS[@]}" "$VN_NS"; do
		[ -e "/run/netns/$h" ] && ip netns del "$h" 2>/dev/null
	done
	# Anything else that appeared in our private /run/netns.
	if mountpoint -q /run/netns 2>/dev/null; then
		for h in /run/netns/*; do
			[ -e "$h" ] && ip netns del "$(basename "$h")" 2>/dev/null
		done
		umount -l /run/netns 2>/dev/null
	fi
	if [ -n "${VN_TMP:-}" ] && [ -d "$VN_TMP" ]; then
		if [ -n "${VN_KEEP:-}" ]; then
			mkdir -p "$VN_KEEP" && cp -a "$VN_TMP/daemon.log" "$VN_TMP/state" "$VN_KEEP/" 2>/dev/null
		fi
		cd /
		umount -l "$VN_TMP" 2>/dev/null
		rm -rf "$VN_TMP"
	fi
}

# vn__wait_gone PID TENTHS: wait until the process is gone (or a zombie
# of ours); 0 if it is.
vn__wait_gone() {
	local i=0 st
	while [ "$i" -lt "$2" ]; do
		st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
		[ "$st" = Z ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# vn__show_log [N|new]: the last N lines of the daemon log (default
# VN_LOG_LINES or 60).
# With "new", only the lines (at most 8) not shown by an earlier call.
VN_LOG_SHOWN=0
vn__show_log() {
	local n=${1:-${VN_LOG_LINES:-60}} total
	[ -n "${VN_TMP:-}" ] && [ -s "$VN_TMP/daemon.log" ] || return 0
	total=$(wc -l <"$VN_TMP/daemon.log")
	if [ "$n" = new ]; then
		n=$((total - VN_LOG_SHOWN))
		[ "$n" -gt 8 ] && n=8
		VN_LOG_SHOWN=$total
		[ "$n" -gt 0 ] || return 0
		echo "    -- new in the daemon log: --" >&2
		tail -n "$n" "$VN_TMP/daemon.log" | sed 's/^/    | /' >&2
		return 0
	fi
	VN_LOG_SHOWN=$total
	local first
	first=$(grep -n -m1 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$VN_TMP/daemon.log" | cut -d: -f1 || true)
	if [ -n "$first" ]; then
		echo "---- daemon log: first sanitizer report (from line $first of $VN_TMP/daemon.log) ----" >&2
		sed -n "${first},$((first + n - 1))p" "$VN_TMP/daemon.log" >&2
	fi
	echo "---- daemon log (last $n lines of $VN_TMP/daemon.log) ----" >&2
	tail -n "$n" "$VN_TMP/daemon.log" >&2
	echo "---- end of daemon log ----" >&2
}

# ----------------------------------------------------------------- daemon --

# vn_start [extra daemon args]: mount the daemon on $VN_MNT and wait for it.
vn_start() {
	VN_DAEMON_ARGS=("$@")
	echo "==== $(date +%T.%N) starting: $VNETFS -f --state $VN_STATE --netns $VN_NS $* $VN_MNT" >>"$VN_TMP/daemon.log"
	# UBSan keeps going in the daemon (so one report doesn't hide every
	# later result); vn_done fails the test on any report in the log.
	# A background job of a non-interactive shell starts with SIGINT and
	# SIGQUIT ignored; env restores the defaults so the daemon can install
	# its handlers as it would when started from a terminal or a unit.
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=0:print_stacktrace=1" \
		env --default-signal=INT,QUIT \
		"$VNETFS" -f --state "$VN_STATE" --netns "$VN_NS" "$@" "$VN_MNT" >>"$VN_TMP/daemon.log" 2>&1 &
	VN_PID=$!
	# Up to VN_START_TIMEOUT seconds (default 60): the start-up reconcile
	# talks netlink, and on a busy host the kernel can hold rtnl_lock for
	# seconds while it tears down other namespaces. A start that took over
	# 5 s is logged as a note.
	local i=0 max=$((${VN_START_TIMEOUT:-60} * 10))
	while [ "$i" -lt "$max" ]; do
		if mountpoint -q "$VN_MNT"; then
			[ "$i" -le 50 ] || echo "# note: the daemon took $((i / 10)) s to mount" >&2
			vn__pass "daemon started and mounted (pid $VN_PID)"
			return 0
		fi
		if ! kill -0 "$VN_PID" 2>/dev/null; then
			local st=0
			wait "$VN_PID" || st=$?
			VN_PID=
			vn_bail "daemon exited with status $st before mounting $VN_MNT"
		fi
		sleep 0.1
		i=$((i + 1))
	done
	vn_bail "daemon did not mount $VN_MNT within ${VN_START_TIMEOUT:-60} s"
}

# vn_stop [SIGNAL]: SIGTERM (or SIGNAL, e.g. INT), wait (10 s), check it
# exited 0 and unmounted.
vn_stop() {
	local sig=${1:-TERM}
	[ -n "$VN_PID" ] || { vn__fail "vn_stop: daemon is not running"; return 0; }
	local st=0 pid=$VN_PID
	VN_PID=
	kill -"$sig" "$pid" 2>/dev/null || true
	if ! vn__wait_gone "$pid" 100; then
		vn__fail "daemon (pid $pid) did not exit within 10 s of SIG$sig"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" || st=$?
	vn_eq 0 "$st" "daemon exit status after SIG$sig (non-zero: crash, sanitizer or leak report)"
	if vn__mounted; then
		vn__fail "$VN_MNT is still mounted after the daemon exited"
		umount -l "$VN_MNT" 2>/dev/null || fusermount3 -uz "$VN_MNT" 2>/dev/null || true
	else
		vn__pass "daemon unmounted $VN_MNT on SIG$sig"
	fi
}

# vn__mounted: is anything (even a dead FUSE connection, which `mountpoint`
# cannot stat) mounted on $VN_MNT?
vn__mounted() {
	awk -v m="$VN_MNT" '$5 == m {found = 1} END {exit !found}' /proc/self/mountinfo
}

# vn_kill9: SIGKILL the daemon and detach its dead mount.
vn_kill9() {
	[ -n "$VN_PID" ] || { vn__fail "vn_kill9: daemon is not running"; return 0; }
	kill -KILL "$VN_PID" 2>/dev/null || true
	wait "$VN_PID" 2>/dev/null || true
	echo "==== $(date +%T.%N) killed with SIGKILL" >>"$VN_TMP/daemon.log"
	VN_PID=
	if vn__mounted; then
		umount -l "$VN_MNT" 2>/dev/null || fusermount3 -uz "$VN_MNT" 2>/dev/null || true
	fi
	if vn__mounted; then
		vn_bail "could not detach the dead mount $VN_MNT"
	fi
}

# vn_restart [args]: SIGTERM + start again (same args unless given).
vn_restart() {
	local args=("${VN_DAEMON_ARGS[@]}")
	[ $# -gt 0 ] && args=("$@")
	vn_stop
	vn_start "${args[@]}"
}

# vn_wait_for TENTHS CMD...: run CMD every 0.1 s until it succeeds (status
# 0) or TENTHS tries failed (status 1).
vn_wait_for() {
	local i=0 n=$1
	shift
	while [ "$i" -lt "$n" ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# vn_zombies: the daemon's children that are zombies (pids).
vn_zombies() { ps -o stat=,pid= --ppid "$VN_PID" | awk '$1 ~ /^Z/ {print $2}'; }

# vn_dnsmasqs: this daemon's dnsmasq processes (their command line names
# its state directory; other daemons on the machine may run their own).
vn_dnsmasqs() {
	local p
	for p in $(pgrep -x dnsmasq || true); do
		grep -qF -- "$VN_STATE/" "/proc/$p/cmdline" 2>/dev/null && echo "$p"
	done | sort -n || true
}

vn_alive() {
	[ -n "$VN_PID" ] && kill -0 "$VN_PID" 2>/dev/null
}

# vn_host NAME: a network namespace for a test host; deleted at exit.
vn_host() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	VN_HOSTS+=("$1")
}

# ------------------------------------------------------------- assertions --

vn__pass() {
	VN_PASS=$((VN_PASS + 1))
	[ "${VN_QUIET:-}" = 1 ] || echo "ok $((VN_PASS + VN_FAIL)) - $1"
}

vn__fail() {
	VN_FAIL=$((VN_FAIL + 1))
	{
		echo "not ok $((VN_PASS + VN_FAIL)) - $1"
		local i
		for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
			case ${FUNCNAME[$i]} in vn__* | vn_eq | vn_ok | vn_expect_fail | vn_match | vn_true | vn_ne) continue ;; esac
			echo "    at ${BASH_SOURCE[$i]##*/}:${BASH_LINENO[$((i - 1))]} (${FUNCNAME[$i]})"
			break
		done
		if ! vn_alive && [ -n "${VN_TMP:-}" ]; then
			echo "    (the daemon is not running)"
		fi
	} >&2
	vn__show_log new
	# The daemon should be running but died: everything after this would
	# fail the same way, so stop here with its last words.
	if [ -n "$VN_PID" ] && ! kill -0 "$VN_PID" 2>/dev/null && [ -z "${VN_BAILING:-}" ]; then
		local st=0
		wait "$VN_PID" 2>/dev/null || st=$?
		VN_PID=
		vn_bail "the daemon died unexpectedly (exit status $st)"
	fi
}

# vn_bail MSG: give up on this test now (counts as a failure).
vn_bail() {
	VN_BAILING=1
	vn__fail "$*"
	echo "BAIL OUT: $*" >&2
	vn__show_log
	VN_DONE=1
	echo "$VN_PASS passed, $VN_FAIL failed"
	exit 1
}

# vn__q TEXT: quoted for a failure message, long texts cut to 300 bytes
vn__q() {
	if [ "${#1}" -gt 300 ]; then
		printf '%q... (%d bytes in all)' "${1:0:300}" "${#1}"
	else
		printf '%q' "$1"
	fi
}

# vn_eq EXPECTED ACTUAL MSG
vn_eq() {
	if [ "$1" == "$2" ]; then
		vn__pass "$3"
	else
		local extra=""
		if [ "${#1}" -gt 300 ] || [ "${#2}" -gt 300 ]; then
			extra=$'\n    diff (expected vs got):\n'$({ diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") || true; } | head -n 10 | sed 's/^/      /')
		fi
		vn__fail "$3
    expected: $(vn__q "$1")
    got:      $(vn__q "$2")$extra"
	fi
}

# vn_ne UNEXPECTED ACTUAL MSG
vn_ne() {
	if [ "$1" != "$2" ]; then
		vn__pass "$3"
	else
		vn__fail "$3
    expected anything but: $(vn__q "$1")"
	fi
}

# vn_match EXTENDED_REGEX ACTUAL MSG
vn_match() {
	if [[ $2 =~ $1 ]]; then
		vn__pass "$3"
	else
		vn__fail "$3
    expected to match: $1
    got:               $(vn__q "$2")"
	fi
}

# vn__run CMD...: run a shell function in a subshell, a program under
# timeout (the helpers below bound their own file operations).
vn__run() {
	if declare -F "$1" >/dev/null; then
		("$@")
	else
		timeout -k 3 "$VN_TIMEOUT" "$@"
	fi
}

# vn_true MSG CMD...: like vn_ok with a message of your own.
vn_true() {
	local msg=$1 out st=0
	shift
	out=$(vn__run "$@" 2>&1) || st=$?
	if [ "$st" = 0 ]; then
		vn__pass "$msg"
	else
		vn__fail "$msg
    command: $(printf '%q ' "$@")
    status:  $st
    output:  $out"
	fi
}

# vn_ok CMD...: the command must succeed.
vn_ok() {
	vn_true "$(printf '%q ' "$@")" "$@"
}

vn__strerror() {
	case $1 in
	EINVAL) echo "Invalid argument" ;;
	ENOENT) echo "No such file or directory" ;;
	EEXIST) echo "File exists" ;;
	EBUSY) echo "Device or resource busy" ;;
	EACCES) echo "Permission denied" ;;
	EPERM) echo "Operation not permitted" ;;
	EFBIG) echo "File too large" ;;
	EADDRINUSE) echo "Address already in use" ;;
	ENOSPC) echo "No space left on device" ;;
	EIO) echo "Input/output error" ;;
	ENOTEMPTY) echo "Directory not empty" ;;
	ENOTDIR) echo "Not a directory" ;;
	EISDIR) echo "Is a directory" ;;
	EROFS) echo "Read-only file system" ;;
	EDQUOT) echo "Disk quota exceeded" ;;
	ESTALE) echo "Stale file handle" ;;
	ENAMETOOLONG) echo "File name too long" ;;
	ANY) echo "" ;;
	*) echo "vn_expect_fail: unknown errno name $1" >&2; return 1 ;;
	esac
}

# vn_expect_fail ERRNO_NAME CMD...: the command must fail and its stderr
# must carry strerror(ERRNO) ("Invalid argument" ...). ANY: any failure.
# CMD may be a shell function (vn_w, vn_a) or a program.
vn_expect_fail() {
	local name=$1 text st=0 err
	shift
	text=$(vn__strerror "$name") || { vn__fail "bad errno name $name"; return 0; }
	err=$(vn__run "$@" 2>&1) || st=$?
	local what
	what=$(printf '%q ' "$@")
	if [ "$st" = 0 ]; then
		vn__fail "expected $name from: $what
    but it succeeded"
	elif [ "$st" = 124 ] || [ "$st" = 137 ]; then
		vn__fail "expected $name from: $what
    but it timed out (status $st)"
	elif [ -n "$text" ] && [[ $err != *"$text"* ]]; then
		vn__fail "expected $name ($text) from: $what
    status: $st
    stderr: $err"
	else
		vn__pass "$name from: $what"
	fi
}

# vn_done: stop the daemon (checking it exits cleanly), print the summary,
# exit 0 only if every assertion passed.
vn_done() {
	if [ -n "$VN_PID" ]; then
		vn_stop
	fi
	local reports
	reports=$(grep -E 'runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer' "$VN_TMP/daemon.log" | sort | uniq -c || true)
	vn_eq "" "$reports" "no sanitizer reports in the daemon log"
	VN_DONE=1
	if [ "$VN_FAIL" != 0 ]; then
		vn__show_log
	fi
	echo "$VN_PASS passed, $VN_FAIL failed"
	if [ "$VN_FAIL" != 0 ] || [ "$VN_PASS" = 0 ]; then
		exit 1
	fi
	exit 0
}

# ---------------------------------------------------------- file helpers --
# Every file operation is bounded by a timeout so a hung daemon fails the
# test instead of hanging it. Write errors carry strerror text
# ("printf: write error: Invalid argument").

# vn_w FILE VALUE: write VALUE + "\n" in one write() (like echo VALUE > FILE),
# even when VALUE has several lines (coreutils printf writes its buffer once;
# bash's builtin would write a line at a time).
vn_w() {
	timeout -k 3 "$VN_TIMEOUT" env printf '%s\n' "$2" >"$1"
}

# vn_wn FILE VALUE: the same without the trailing newline.
vn_wn() {
	timeout -k 3 "$VN_TIMEOUT" bash -c 'printf "%s" "$2" >"$1"' vn_wn "$1" "$2"
}

# vn_a FILE LINE: append one line (echo LINE >> FILE, O_APPEND).
vn_a() {
	timeout -k 3 "$VN_TIMEOUT" bash -c 'printf "%s\n" "$2" >>"$1"' vn_a "$1" "$2"
}

# vn_cat FILE: the content (trailing newlines dropped by $(...)); on error
# prints "<ERROR: ...>" so that comparisons fail with a readable message.
vn_cat() {
	local out st=0
	out=$(timeout -k 3 "$VN_TIMEOUT" cat -- "$1" 2>&1) || st=$?
	if [ "$st" = 0 ]; then
		printf '%s' "$out"
	else
		printf '<ERROR %s: %s>' "$st" "$out"
		return 1
	fi
}

# vn_size FILE: st_size
vn_size() {
	timeout -k 3 "$VN_TIMEOUT" stat -c %s -- "$1" 2>&1 || true
}

# vn_ls DIR: entries, one line each, sorted, no . and ..
vn_ls() {
	timeout -k 3 "$VN_TIMEOUT" ls -1A -- "$1" 2>&1 | LC_ALL=C sort || true
}

# vn_lines TEXT...: join arguments as lines (for comparing list files).
vn_lines() {
	local IFS=$'\n'
	printf '%s' "$*"
}

# vn_json_get FILE FILTER: jq -r FILTER on the file's JSON
vn_json_get() {
	local out
	out=$(vn_cat "$1") || { printf '%s' "$out"; return 1; }
	printf '%s' "$out" | jq -r "$2" 2>&1
}

# ------------------------------------------------------- kernel helpers --

# vn_link_json NAME [NS]: `ip -j -d link show dev NAME` in the daemon's netns
vn_link_json() {
	ip -n "${2:-$VN_NS}" -d -j link show dev "$1" 2>/dev/null
}

# vn_addr_json NAME [NS]
vn_addr_json() {
	ip -n "${2:-$VN_NS}" -j addr show dev "$1" 2>/dev/null
}

vn_link_exists() {
	ip -n "${2:-$VN_NS}" link show dev "$1" >/dev/null 2>&1
}

# vn_link_mtu NAME: the mtu, or "absent"
vn_link_mtu() {
	local j
	j=$(vn_link_json "$1" "${2:-}") || { echo absent; return 0; }
	jq -r '.[0].mtu' <<<"$j"
}

# vn_link_kind NAME: "bridge", "veth" ..., or "absent"
vn_link_kind() {
	local j
	j=$(vn_link_json "$1" "${2:-}") || { echo absent; return 0; }
	jq -r '.[0].linkinfo.info_kind // "none"' <<<"$j"
}

# vn_link_admin NAME: "up" if IFF_UP is set, "down" if not, or "absent"
vn_link_admin() {
	local j
	j=$(vn_link_json "$1" "${2:-}") || { echo absent; return 0; }
	jq -r 'if (.[0].flags | index("UP")) then "up" else "down" end' <<<"$j"
}

# vn_link_addrs NAME [NS]: global addresses "ADDR/PLEN", one a line, sorted
vn_link_addrs() {
	local j
	j=$(vn_addr_json "$1" "${2:-}") || { echo absent; return 0; }
	jq -r '.[0].addr_info[] | select(.scope == "global") | "\(.local)/\(.prefixlen)"' <<<"$j" | LC_ALL=C sort
}

# vn_bridges [NS]: names of our bridges (vnb-*), sorted
vn_bridges() {
	ip -n "${1:-$VN_NS}" -j link show type bridge 2>/dev/null |
		jq -r '.[].ifname | select(startswith("vnb-"))' | LC_ALL=C sort
}

# vn_expected_bridge ID: the bridge name the backend derives from an id
# ("vnb-" + the first 11 hex digits of the id, dashes dropped).
vn_expected_bridge() {
	local hex=${1//-/}
	printf 'vnb-%s' "${hex:0:11}"
}

# ------------------------------------------------ crash tests (issue 6) --
# Used by crashpoints.sh and randomkill.sh. The shim tests/crash/vn_crash.c
# (built as build*/tests/vn_crash.so; meson passes VN_CRASH_SHIM) SIGKILLs
# the daemon before its Nth netlink send or state write while the file
# VN_CRASH_ARM exists. The checks below look only at the file tree and the
# kernel, never at the state files, so they hold for any store.

# vn_crash_setup: find the shim and write the wrapper that starts the daemon
# with it preloaded (behind libasan when the daemon is built with ASan, so
# ASan's interceptors come first and call into the shim). Sets
# VN_CRASH_WRAPPER, VN_CRASH_ARM (not created) and VN_CRASH_LOG.
vn_crash_setup() {
	local shim=${VN_CRASH_SHIM:-} b asan
	if [ -z "$shim" ]; then
		for b in "$(dirname "$VNETFS")"/tests/vn_crash.so "$VN_SRC_ROOT"/build*/tests/vn_crash.so; do
			[ -f "$b" ] && { shim=$b; break; }
		done
	fi
	[ -n "$shim" ] && [ -f "$shim" ] || vn_bail "no crash shim: set VN_CRASH_SHIM or build tests/vn_crash.so"
	shim=$(readlink -f "$shim")
	asan=$(ldd "$VNETFS" 2>/dev/null | awk '$1 ~ /^libasan\.so/ {print $3; exit}')
	VN_CRASH_WRAPPER=$VN_TMP/vnetfs-crash
	VN_CRASH_ARM=$VN_TMP/crash.arm
	VN_CRASH_LOG=$VN_TMP/crash.log
	rm -f "$VN_CRASH_ARM"
	cat >"$VN_CRASH_WRAPPER" <<-WRAP
		#!/bin/sh
		# the daemon with the crash shim (written by vn_crash_setup)
		LD_PRELOAD="${asan:+$asan:}$shim\${LD_PRELOAD:+:\$LD_PRELOAD}" \\
		VN_CRASH_ARM="$VN_CRASH_ARM" VN_CRASH_LOG="$VN_CRASH_LOG" \\
		VN_CRASH_AT="\${VN_CRASH_AT:-0}" exec "$VNETFS" "\$@"
	WRAP
	chmod 755 "$VN_CRASH_WRAPPER"
	export VN_CRASH_ARM VN_CRASH_LOG
}

# vn_start_patient [daemon args]: vn_start (which waits up to
# VN_START_TIMEOUT seconds, default 60, for the mount).
vn_start_patient() {
	vn_start "$@"
}

# vn_crash_start AT [daemon args]: start the daemon with the shim, killing
# at the AT-th point once armed (0: count only); before that call, or
# right after it returns with VN_CRASH_AFTER=1 in the environment.
# Not armed yet.
vn_crash_start() {
	local at=$1
	shift
	rm -f "$VN_CRASH_ARM"
	VN_QUIET=1 VN_CRASH_AT=$at VNETFS=$VN_CRASH_WRAPPER vn_start_patient "$@"
}

vn_crash_arm() { : >"$VN_CRASH_ARM"; }
vn_crash_disarm() { rm -f "$VN_CRASH_ARM"; }

# vn_crash_points: the number of points the crash log holds
vn_crash_points() {
	if [ -f "$VN_CRASH_LOG" ]; then wc -l <"$VN_CRASH_LOG"; else echo 0; fi
}

# vn_crash_reap [TENTHS]: the daemon is expected to be dead or dying (the
# shim killed it): wait for it (default 5 s), detach its dead mount. Sets
# VN_CRASH_RESULT to "killed" (SIGKILL), "alive" (still running after the
# wait: left running) or "exit N". Call it in the test's shell, not in $(...):
# it waits for the daemon.
vn_crash_reap() {
	local pid=$VN_PID st=0
	VN_CRASH_RESULT="exit none"
	[ -n "$pid" ] || return 0
	if ! vn__wait_gone "$pid" "${1:-50}"; then
		VN_CRASH_RESULT=alive
		return 0
	fi
	wait "$pid" 2>/dev/null || st=$?
	VN_PID=
	echo "==== $(date +%T.%N) died (status $st)" >>"$VN_TMP/daemon.log"
	if vn__mounted; then
		umount -l "$VN_MNT" 2>/dev/null || fusermount3 -uz "$VN_MNT" 2>/dev/null || true
	fi
	if [ "$st" = 137 ]; then VN_CRASH_RESULT=killed; else VN_CRASH_RESULT="exit $st"; fi
}

# vn_model_bridges / vn_model_router_namespaces / vn_model_devices: what
# the tree says the kernel holds, one name a line, sorted.
vn_model_bridges() {
	local d
	for d in "$VN_MNT"/networks/*/; do
		if [ -d "$d" ]; then vn_cat "$d/bridge" || true; echo; fi
	done | sed '/^$/d' | LC_ALL=C sort
}
vn_model_router_namespaces() {
	local d
	for d in "$VN_MNT"/routers/*/; do
		if [ -d "$d" ]; then vn_cat "$d/namespace" || true; echo; fi
	done | sed '/^$/d' | LC_ALL=C sort
}
# "NET PORT DEVICE NETNS IFNAME" for every bound port (device not empty)
vn_model_bound_ports() {
	local p n dev
	for p in "$VN_MNT"/networks/*/ports/*/; do
		[ -d "$p" ] || continue
		dev=$(vn_cat "$p/device") || dev="<unreadable>"
		[ -n "$dev" ] || continue
		n=${p%/ports/*}
		echo "${n##*/} $(basename "$p") $dev $(vn_cat "$p/netns") $(vn_cat "$p/ifname")"
	done | LC_ALL=C sort
}

# vn_kernel_state: the kernel's side of the same, for messages
vn_kernel_bridges() { vn_bridges; }
vn_kernel_router_namespaces() {
	ip netns list 2>/dev/null | awk '$1 ~ /^qrouter-/ {print $1}' | LC_ALL=C sort
}
vn_kernel_port_links() {
	ip -n "$VN_NS" -j link show 2>/dev/null | jq -r '.[].ifname | select(startswith("vnp-"))' | LC_ALL=C sort
}

# vn_kernel_is_model LABEL: the kernel matches the tree. Every network has
# its bridge and there is no vnb- bridge without one; every router has its
# qrouter- namespace and there is no other; every bound port (a router leg
# too) has its vnp- link on its network's bridge and its peer inside its
# namespace, and there is no other vnp- link. One assertion per rule.
vn_kernel_is_model() {
	local l=$1 bad="" net port dev ns ifn master br
	vn_eq "$(vn_model_bridges)" "$(vn_kernel_bridges)" "$l: kernel = model: one vnb- bridge per network, no other"
	vn_eq "$(vn_model_router_namespaces)" "$(vn_kernel_router_namespaces)" \
		"$l: kernel = model: one qrouter- namespace per router, no other"
	local bound
	bound=$(vn_model_bound_ports)
	local -A masters=() bridges=()
	while read -r dev master; do
		[ -n "$dev" ] && masters[$dev]=$master
	done < <(ip -n "$VN_NS" -j link show 2>/dev/null |
		jq -r '.[] | select(.ifname | startswith("vnp-")) | "\(.ifname) \(.master // "none")"')
	vn_eq "$(awk '{print $3}' <<<"$bound" | sed '/^$/d' | LC_ALL=C sort)" \
		"$(for dev in "${!masters[@]}"; do echo "$dev"; done | LC_ALL=C sort)" \
		"$l: kernel = model: one vnp- link per bound port, no other"
	while read -r net port dev ns ifn; do
		[ -n "$net" ] || continue
		[ -n "${bridges[$net]:-}" ] || bridges[$net]=$(vn_cat "$VN_MNT/networks/$net/bridge")
		br=${bridges[$net]}
		master=${masters[$dev]:-absent}
		[ "$master" = "$br" ] || bad+=" $net/$port: $dev on $master (want $br);"
		ns=${ns#/run/netns/}
		# (a router's legs are checked below, one namespace at a time)
		case $ns in qrouter-*) continue ;; esac
		if ! ip -n "$ns" link show dev "$ifn" >/dev/null 2>&1; then
			bad+=" $net/$port: no $ifn in $ns;"
		fi
	done <<<"$bound"
	vn_eq "" "$bad" "$l: kernel = model: every bound port's veth is on its bridge with its peer in its namespace"
	# inside each router's namespace: exactly the legs of its ports
	local want got
	bad=""
	for ns in $(vn_model_router_namespaces); do
		want=$(awk -v ns="/run/netns/$ns" '$4 == ns {print $5}' <<<"$bound" | LC_ALL=C sort)
		got=$(ip -n "$ns" -j link show 2>/dev/null |
			jq -r '.[].ifname | select(startswith("qr-") or startswith("qg-"))' | LC_ALL=C sort)
		[ "$want" = "$got" ] || bad+=" $ns: legs $(xargs <<<"$got") (want $(xargs <<<"$want"));"
	done
	vn_eq "" "$bad" "$l: kernel = model: each router namespace holds exactly its legs"
}
