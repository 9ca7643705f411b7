#!/bin/bash
# SPDX-License-Identifier: MIT
# Without -f: the daemon forks before any thread or child exists, and the
# command returns only once the tree is loaded and reconciled (exit 0), or
# with status 1 when loading failed (and no mount is left behind). A
# relative --state still names the directory it was started from.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"

D=$VN_TMP/dmnt
mkdir -p "$D"
DPID=

# daemon_pid: the background daemon serving $D
daemon_pid() {
	pgrep -f -- "--netns $VN_NS $D\$" | head -n 1
}

stop_daemon() {
	local pid
	pid=$(daemon_pid) || true
	[ -n "$pid" ] || return 0
	kill -TERM "$pid"
	local t0=$SECONDS
	vn_true "the daemon (pid $pid) exits on SIGTERM" vn__wait_gone "$pid" 100
	echo "# it took $((SECONDS - t0)) s; state: $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)"
}

cd "$VN_TMP"
st=0
out=$("$VNETFS" --state dstate --netns "$VN_NS" "$D" 2>&1) || st=$?
vn_eq 0 "$st" "the first start in the background returns 0 ($out)"
# no waiting: when the command returns, the tree is there
vn_true "the mount is there when the command returns" mountpoint -q "$D"
vn_eq ACTIVE "$(vn_cat "$D/networks/public/status")" "and the defaults are made (public is ACTIVE)"
vn_true "the relative --state is the directory it was started from" test -f "$VN_TMP/dstate/vnetfs.db"
DPID=$(daemon_pid)
vn_match '^[0-9]+$' "$DPID" "the daemon runs in the background"
vn_eq "$DPID" "$(ps -o sid= -p "$DPID" | tr -d ' ')" "in a session of its own"
# main, 2 job workers, the supervisor, and FUSE's workers: all after the fork
tasks=$(ls "/proc/$DPID/task" | wc -l)
vn_true "its threads exist in the daemon itself ($tasks)" test "$tasks" -ge 4
vn_ok mkdir "$D/networks/n1"
vn_ok vn_w "$D/networks/n1/mtu" 1400
stop_daemon
vn_true "and unmounts" bash -c "! mountpoint -q '$D'"

# a restart: the command returns with the tree loaded
st=0
"$VNETFS" --state dstate --netns "$VN_NS" "$D" || st=$?
vn_eq 0 "$st" "the restart in the background returns 0"
vn_eq 1400 "$(vn_cat "$D/networks/n1/mtu")" "n1 is loaded when it returns"

# a second daemon on the same state: refused before mounting anything
mkdir -p "$VN_TMP/dmnt2"
st=0
out=$("$VNETFS" --state dstate --netns "$VN_NS" "$VN_TMP/dmnt2" 2>&1) || st=$?
vn_eq 1 "$st" "a second daemon on the same state directory exits 1"
vn_match 'another vnetfs daemon' "$out" "and says why"
vn_true "and mounted nothing" bash -c "! mountpoint -q '$VN_TMP/dmnt2'"
stop_daemon

# a load that fails after the fork: the parent reports it
mkdir -p "$VN_TMP/bad" "$VN_TMP/dmnt3"
ln -s /dev/zero "$VN_TMP/bad/vnetfs.db"
st=0
timeout -k 2 20 "$VNETFS" --state "$VN_TMP/bad" --netns vnt-bad --no-defaults "$VN_TMP/dmnt3" || st=$?
vn_eq 1 "$st" "a store that cannot be opened: the background start exits 1"
sleep 0.2
vn_true "and leaves no mount behind" bash -c "! mountpoint -q '$VN_TMP/dmnt3'"
ip netns del vnt-bad 2>/dev/null || true

vn_done
