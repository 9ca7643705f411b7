#!/bin/bash
# SPDX-License-Identifier: MIT
# A port's netns is a hostile path, and the daemon is root (issue 6):
# - binding: root binds anywhere; another owner (nobody here) only into a
#   network namespace of a user namespace they made (unshare -U -n), never
#   into the test's (host) namespace, one root made (ip netns add, or
#   root's own unshare -U -n), or another user's, whatever processes of
#   theirs run there;
# - identity: what a path named at bind time is recorded; when the path
#   names another namespace later (deleted and made again) a write, a
#   network mtu change or a restart never plugs the port there: it is DOWN
#   and `error` says why; writing netns again (the same path) rebinds;
# - routes: binding with ipconfig static and unbinding leave root's own
#   proto static routes in the namespace alone;
# - hostile paths: a FIFO, a file, a directory, symlinks (to a namespace,
#   into the mount), /run/netns a symlink into the mount: each fails at
#   once with its errno, never blocks or deadlocks the daemon, also when a
#   bound port's path became a FIFO while the daemon was stopped.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../netlib.sh"
vn_sandbox "$@"
command -v setpriv >/dev/null || vn__skip "setpriv (util-linux) is missing"
command -v nsenter >/dev/null || vn__skip "nsenter (util-linux) is missing"
# nobody must be able to make a user namespace (user.max_user_namespaces,
# kernel.unprivileged_userns_clone where that exists)
setpriv --reuid=65534 --regid=65534 --clear-groups unshare -U -n true 2>/dev/null ||
	vn__skip "nobody cannot unshare -U -n here"
vn_start -o allow_other

M=$VN_MNT
NB=65534
as_nobody() {
	timeout -k 3 20 setpriv --reuid=$NB --regid=$NB --clear-groups "$@"
}
# the open is inside the timeout too: a hung daemon fails the test, not hangs it
nobody_w() { as_nobody bash -c 'printf "%s\n" "$2" >"$1"' x "$1" "$2"; }
w5() { timeout -k 2 5 bash -c 'printf "%s\n" "$2" >"$1"' x "$1" "$2"; }

# fails_with NAME STRERROR CMD...: vn_expect_fail for the errnos lib.sh
# does not name (ELOOP, ESTALE).
fails_with() {
	local name=$1 text=$2 st=0 err
	shift 2
	err=$(vn__run "$@" 2>&1) || st=$?
	if [ "$st" = 0 ]; then
		vn__fail "expected $name from: $*
    but it succeeded"
	elif [ "$st" = 124 ] || [ "$st" = 137 ]; then
		vn__fail "expected $name from: $*
    but it timed out (status $st)"
	elif [[ $err != *"$text"* ]]; then
		vn__fail "expected $name ($text) from: $*
    status: $st
    stderr: $err"
	else
		vn__pass "$name from: $*"
	fi
}
ELOOP_TEXT="Too many levels of symbolic links"
ESTALE_TEXT="Stale file handle"

# ifnames NS: links in NS but lo, sorted
ifnames() {
	ip -n "$1" -j link show | jq -r '.[].ifname | select(. != "lo")' | LC_ALL=C sort
}
# pid_ifnames PID: the same inside the network namespace of PID
pid_ifnames() {
	nsenter -t "$1" -n ip -j link show | jq -r '.[].ifname | select(. != "lo")' | LC_ALL=C sort
}
# host_link PORT_DIR: the port's host veth name, from its id (vnp- + 11 hex)
host_link() {
	local id
	id=$(vn_cat "$1/id")
	id=${id//-/}
	printf 'vnp-%s' "${id:0:11}"
}
# wait_netns PID: until PID runs in a network namespace not ours
wait_netns() {
	local i
	for i in $(seq 50); do
		[ -e "/proc/$1/ns/net" ] && [ "$(readlink "/proc/$1/ns/net")" != "$(readlink /proc/self/ns/net)" ] && return 0
		sleep 0.1
	done
	return 1
}
alive_check() {
	vn_true "$1: the daemon is alive and answers" vn_alive
	vn_eq 1500 "$(timeout 5 cat "$M/networks/public/mtu" 2>&1)" "$1: the mount still answers"
}

# ---- a network of root's and one of nobody's -----------------------------------
vn_ok mkdir "$M/networks/n"
vn_ok mkdir "$M/networks/n/subnets/s"
vn_ok vn_w "$M/networks/n/subnets/s/cidr" 10.9.0.0/24
vn_ok as_nobody mkdir "$M/networks/nbn"
vn_ok as_nobody mkdir "$M/networks/nbn/subnets/nbs"
vn_ok nobody_w "$M/networks/nbn/subnets/nbs/cidr" 10.8.0.0/24
NP=$M/networks/nbn/ports/nbp
vn_ok as_nobody mkdir "$NP"
nb_host=$(host_link "$NP")

# ---- binding rules for nobody ---------------------------------------------------
# nobody's own process, in the test's (host) namespace
setpriv --reuid=$NB --regid=$NB --clear-groups sleep 60 &
nb_here=$!
vn_expect_fail EACCES nobody_w "$NP/netns" "/proc/$nb_here/ns/net"
vn_match "only root may bind a port to /proc/$nb_here/ns/net" "$(vn_cat "$NP/error")" \
	"error: the host's namespace is not nobody's to bind into"
vn_eq "" "$(vn_cat "$NP/netns")" "nobody's port stays unbound"
vn_eq DOWN "$(vn_cat "$NP/status")" "and DOWN"
vn_eq absent "$(vn_link_kind "$nb_host")" "no host veth for it"
vn_expect_fail EACCES nobody_w "$NP/netns" "/proc/$$/ns/net"
vn_expect_fail EACCES nobody_w "$NP/netns" /proc/1/ns/net
kill "$nb_here"
wait "$nb_here" 2>/dev/null || true

# nobody's process inside a namespace root made (ip netns add)
vn_host rootns
ip netns exec rootns setpriv --reuid=$NB --regid=$NB --clear-groups sleep 60 &
nb_inroot=$!
vn_true "nobody's sleeper runs in rootns" wait_netns "$nb_inroot"
vn_expect_fail EACCES nobody_w "$NP/netns" "/proc/$nb_inroot/ns/net"
vn_match "only root" "$(vn_cat "$NP/error")" "error says only root binds there"
vn_expect_fail EACCES nobody_w "$NP/netns" /run/netns/rootns
vn_eq "" "$(ifnames rootns)" "nothing plugged into rootns"
kill "$nb_inroot"
wait "$nb_inroot" 2>/dev/null || true

# a user namespace + netns that root made (owner uid 0), and another user's
unshare -U -n sleep 60 &
root_userns=$!
vn_true "root's unshare -U -n sleeper has its own netns" wait_netns "$root_userns"
vn_expect_fail EACCES nobody_w "$NP/netns" "/proc/$root_userns/ns/net"
vn_eq "" "$(pid_ifnames "$root_userns")" "nothing plugged into root's user namespace"
setpriv --reuid=65533 --regid=65533 --clear-groups unshare -U -n sleep 60 &
other_userns=$!
vn_true "uid 65533's sleeper has its own netns" wait_netns "$other_userns"
vn_expect_fail EACCES nobody_w "$NP/netns" "/proc/$other_userns/ns/net"
vn_match "uid 65533" "$(vn_cat "$NP/error")" "error: that namespace is uid 65533's"
vn_eq "" "$(pid_ifnames "$other_userns")" "nothing plugged into uid 65533's namespace"
kill "$root_userns" "$other_userns"
wait "$root_userns" "$other_userns" 2>/dev/null || true

# a namespace nobody made, rootless-container style: allowed
setpriv --reuid=$NB --regid=$NB --clear-groups unshare -U -n sleep 120 &
nb_own=$!
vn_true "nobody's unshare -U -n sleeper has its own netns" wait_netns "$nb_own"
vn_ok nobody_w "$NP/netns" "/proc/$nb_own/ns/net"
vn_eq "/proc/$nb_own/ns/net" "$(vn_cat "$NP/netns")" "netns reads back"
vn_eq ACTIVE "$(vn_cat "$NP/status")" "nobody's port is ACTIVE"
vn_eq eth0 "$(pid_ifnames "$nb_own")" "the veth peer is in nobody's own namespace"
vn_eq veth "$(vn_link_kind "$nb_host")" "its host end is on the daemon's side"
vn_eq "" "$(vn_cat "$NP/error")" "no error"
# the identity is persisted: a restart keeps it plugged in the same namespace
vn_restart
vn_eq ACTIVE "$(vn_cat "$NP/status")" "after a restart: still ACTIVE"
vn_eq eth0 "$(pid_ifnames "$nb_own")" "after a restart: still plugged into nobody's namespace"
# root may rebind nobody's port anywhere (root's check), and back
vn_ok vn_w "$NP/netns" /run/netns/rootns
vn_eq eth0 "$(ifnames rootns)" "root bound nobody's port into rootns"
vn_ok vn_w "$NP/netns" ""
vn_eq "" "$(ifnames rootns)" "and unbound it"
# the namespace goes away: the next write finds it gone
vn_ok nobody_w "$NP/netns" "/proc/$nb_own/ns/net"
kill "$nb_own"
wait "$nb_own" 2>/dev/null || true
vn_expect_fail ENOENT nobody_w "$NP/ipconfig" static
vn_eq DOWN "$(vn_cat "$NP/status")" "its namespace gone: DOWN"
vn_match "does not exist" "$(vn_cat "$NP/error")" "error says the namespace does not exist"
vn_eq absent "$(vn_link_kind "$nb_host")" "no host veth left"
vn_ok nobody_w "$NP/netns" ""

# ---- identity: the same path, another namespace ---------------------------------
RP=$M/networks/n/ports/rp
vn_ok mkdir "$RP"
r_host=$(host_link "$RP")
vn_host a
vn_ok vn_w "$RP/ipconfig" static
vn_ok vn_w "$RP/netns" /run/netns/a
vn_eq ACTIVE "$(vn_cat "$RP/status")" "root's port bound to /run/netns/a"
vn_eq eth0 "$(ifnames a)" "eth0 in a"
ip netns del a
ip netns add a
ip -n a link set lo up
vn_eq "" "$(ifnames a)" "the new a is empty"
fails_with ESTALE "$ESTALE_TEXT" vn_w "$RP/ipconfig" dhcp
vn_eq static "$(vn_cat "$RP/ipconfig")" "ipconfig unchanged"
vn_eq DOWN "$(vn_cat "$RP/status")" "port DOWN: /run/netns/a is another namespace now"
vn_eq "/run/netns/a is no longer the namespace the port was bound to; write netns again to bind the port to the namespace it names now" \
	"$(vn_cat "$RP/error")" "error says why"
vn_eq "" "$(ifnames a)" "nothing plugged into the new a"
vn_eq absent "$(vn_link_kind "$r_host")" "the host veth is gone"
vn_eq "" "$(vn_cat "$RP/device")" "device is empty while DOWN"
vn_eq /run/netns/a "$(vn_cat "$RP/netns")" "netns still reads the path"
fails_with ESTALE "$ESTALE_TEXT" vn_w "$RP/ifname" eth1
vn_eq "" "$(ifnames a)" "an ifname write plugs nothing either"
# a network mtu change reaches every port: not this one, and it is no failure
vn_ok vn_w "$M/networks/n/mtu" 1400
vn_eq ACTIVE "$(vn_cat "$M/networks/n/status")" "the network is fine"
vn_eq "" "$(ifnames a)" "the mtu change plugged nothing into the new a"
vn_eq DOWN "$(vn_cat "$RP/status")" "the port is still DOWN"
# a restart: still DOWN, still says why, still nothing plugged
vn_restart
vn_eq DOWN "$(vn_cat "$RP/status")" "after a restart: DOWN"
vn_match "no longer the namespace the port was bound to" "$(vn_cat "$RP/error")" "after a restart: error says why"
vn_eq "" "$(ifnames a)" "after a restart: nothing in the new a"
vn_eq absent "$(vn_link_kind "$r_host")" "after a restart: no host veth"
# the same path written again binds to what it names now
vn_ok vn_w "$RP/netns" /run/netns/a
vn_eq ACTIVE "$(vn_cat "$RP/status")" "rebound: ACTIVE"
vn_eq eth0 "$(ifnames a)" "rebound: eth0 in the new a"
vn_eq 1400 "$(vn_link_mtu eth0 a)" "rebound: with the network's mtu"
vn_eq "" "$(vn_cat "$RP/error")" "rebound: no error"
vn_restart
vn_eq ACTIVE "$(vn_cat "$RP/status")" "rebound, restarted: ACTIVE"
vn_eq eth0 "$(ifnames a)" "rebound, restarted: eth0 in a"
vn_ok vn_w "$RP/netns" ""

# rm -r of a port whose path names another namespace now works (resets go
# through, the port is unplugged), and leaves nothing in the new namespace
vn_ok mkdir "$M/networks/n/ports/gone"
gone_host=$(host_link "$M/networks/n/ports/gone")
vn_ok vn_w "$M/networks/n/ports/gone/ipconfig" static
vn_ok vn_w "$M/networks/n/ports/gone/ifname" eth7
vn_ok vn_w "$M/networks/n/ports/gone/netns" /run/netns/a
vn_eq eth7 "$(ifnames a)" "port gone is plugged into a as eth7"
ip netns del a
ip netns add a
ip -n a link set lo up
vn_ok timeout 10 rm -r "$M/networks/n/ports/gone"
vn_true "rm -r removed the port" test ! -e "$M/networks/n/ports/gone"
vn_eq "" "$(ifnames a)" "nothing was plugged into the new a on the way"
vn_eq absent "$(vn_link_kind "$gone_host")" "its host veth is gone"

# ---- routes: root's own static routes stay --------------------------------------
vn_host h
ip -n h link add d0 type veth peer name d1
ip -n h link set d0 up
ip -n h link set d1 up
ip -n h route add 198.51.100.0/24 dev lo proto static
ip -n h route add 203.0.113.0/24 dev d0 proto static
root_routes() {
	ip -n h -j route show proto static | jq -r '.[] | "\(.dst) \(.dev)"' | LC_ALL=C sort
}
want_routes=$(vn_lines "198.51.100.0/24 lo" "203.0.113.0/24 d0")
vn_eq "$want_routes" "$(root_routes)" "root's static routes in h"
vn_ok vn_w "$RP/netns" /run/netns/h
vn_eq "10.9.0.1 eth0 118" "$(default_route h)" "the port's default route, proto 118"
vn_eq "$want_routes" "$(root_routes)" "root's static routes survive the bind"
vn_ok vn_w "$RP/ipconfig" dhcp
vn_ok vn_w "$RP/ipconfig" static
vn_eq "$want_routes" "$(root_routes)" "and an ipconfig change"
vn_ok vn_w "$RP/netns" ""
vn_eq "$want_routes" "$(root_routes)" "and the unbind"
vn_eq "" "$(default_route h)" "our default route went with the port"

# ---- hostile paths: fail at once, never block -----------------------------------
vn_ok vn_w "$RP/netns" /run/netns/a
mkfifo /run/netns/fifo
: >/run/netns/file
mkdir /run/netns/dir
ln -s /run/netns/a /run/netns/link
ln -s "$M/networks/public/mtu" /run/netns/intomount
ln -s "$M/networks" /run/netns/intomountdir
vn_expect_fail EINVAL w5 "$RP/netns" /run/netns/fifo
vn_match "^/run/netns/fifo is not a network namespace$" "$(vn_cat "$RP/error")" "error: the FIFO is not a network namespace"
alive_check "FIFO"
vn_expect_fail EINVAL w5 "$RP/netns" /run/netns/file
vn_match "^/run/netns/file is not a network namespace$" "$(vn_cat "$RP/error")" "error: the file is not a network namespace"
vn_expect_fail EINVAL w5 "$RP/netns" /run/netns/dir
fails_with ELOOP "$ELOOP_TEXT" w5 "$RP/netns" /run/netns/link
vn_match "symbolic link" "$(vn_cat "$RP/error")" "error: a symlink is on the way"
fails_with ELOOP "$ELOOP_TEXT" w5 "$RP/netns" /run/netns/intomount
alive_check "symlink into the mount"
fails_with ELOOP "$ELOOP_TEXT" w5 "$RP/netns" /run/netns/intomountdir
vn_eq /run/netns/a "$(vn_cat "$RP/netns")" "after all that: still bound to a"
vn_eq ACTIVE "$(vn_cat "$RP/status")" "and ACTIVE"
vn_eq eth0 "$(ifnames a)" "and plugged into a"
# the same as nobody (no hostile path gets as far as the owner check)
vn_expect_fail EINVAL nobody_w "$NP/netns" /run/netns/fifo
vn_expect_fail EINVAL nobody_w "$NP/netns" /run/netns/file
alive_check "nobody's FIFO"

# /run/netns itself a symlink into the mount (a private /run for this part)
mount -t tmpfs -o mode=755 vnt-run2 /run
ln -s "$M/networks" /run/netns
fails_with ELOOP "$ELOOP_TEXT" w5 "$RP/netns" /run/netns/public
alive_check "/run/netns a symlink into the mount"
# the daemon's own qrouter- namespaces go there too: refused, not a deadlock
vn_expect_fail EIO timeout -k 2 5 mkdir "$M/routers/rr"
vn_true "no router rr" test ! -e "$M/routers/rr"
alive_check "a router while /run/netns is a symlink into the mount"
umount -l /run
vn_true "/run/netns is the sandbox's again" test -e /run/netns/a

# a bound port whose path becomes a FIFO while the daemon runs...
vn_host b
vn_ok vn_w "$RP/netns" /run/netns/b
ip netns del b
mkfifo /run/netns/b
vn_expect_fail EINVAL w5 "$RP/ipconfig" dhcp
vn_eq DOWN "$(vn_cat "$RP/status")" "path now a FIFO: DOWN"
vn_match "^/run/netns/b is not a network namespace$" "$(vn_cat "$RP/error")" "error says why"
vn_eq absent "$(vn_link_kind "$r_host")" "no host veth"
alive_check "bound path became a FIFO"
# ...and while it is stopped: the daemon still mounts, the port is DOWN
rm /run/netns/b
vn_host b
vn_ok vn_w "$RP/netns" ""
vn_ok vn_w "$RP/netns" /run/netns/b
vn_eq ACTIVE "$(vn_cat "$RP/status")" "bound to b again"
vn_stop
ip netns del b
mkfifo /run/netns/b
t0=$(date +%s)
vn_start -o allow_other
vn_true "the daemon mounted within 5 s" test $(($(date +%s) - t0)) -le 5
vn_eq DOWN "$(vn_cat "$RP/status")" "after start: DOWN"
vn_match "^/run/netns/b is not a network namespace$" "$(vn_cat "$RP/error")" "after start: error says why"
vn_eq absent "$(vn_link_kind "$r_host")" "after start: no host veth"
alive_check "start with a FIFO path"
vn_ok vn_w "$RP/netns" ""
vn_eq DOWN "$(vn_cat "$RP/status")" "unbound: DOWN"
vn_eq "" "$(vn_cat "$RP/error")" "unbound: no error"
rm -f /run/netns/b /run/netns/fifo /run/netns/file /run/netns/link /run/netns/intomount /run/netns/intomountdir
rmdir /run/netns/dir

# ---- ports bound by a daemon that recorded no identity --------------------------
# (state as an older daemon left it: per-object JSON files without the
# private _netns_id key). On start the namespace the path names now is
# taken if the port's owner may bind there under today's rule: root's port
# yes; nobody's port that root had bound into the test's namespace, no.
rid=$(vn_cat "$RP/id")
nid=$(vn_cat "$NP/id")
sdb() { sqlite3 "$VN_STATE/vnetfs.db" "$@"; }
if command -v sqlite3 >/dev/null; then
	vn_host c
	setpriv --reuid=$NB --regid=$NB --clear-groups sleep 60 &
	nb_old=$!
	vn_ok vn_w "$RP/netns" /run/netns/c
	vn_ok vn_w "$NP/netns" "/proc/$nb_old/ns/net"
	vn_eq eth0 "$(pid_ifnames "$nb_old" | grep -x eth0 || true)" "root bound nobody's port into the test's namespace"
	vn_stop
	for id in "$rid" "$nid"; do
		sdb "UPDATE objects SET doc = json_remove(doc, '\$.props._netns_id') WHERE id = '$id'"
	done
	vn_eq "" "$(sdb "SELECT json_extract(doc, '\$.props._netns_id') FROM objects WHERE id = '$rid'")" \
		"the identity is gone from the state"
	vn_start -o allow_other
	vn_eq ACTIVE "$(vn_cat "$RP/status")" "root's old binding is taken"
	vn_eq eth0 "$(ifnames c)" "and plugged into c"
	vn_match '^[0-9]+:[0-9]+:[0-9]+$' "$(sdb "SELECT json_extract(doc, '\$.props._netns_id') FROM objects WHERE id = '$rid'" | jq -r '.["/run/netns/c"]')" \
		"its identity is recorded in the state"
	vn_eq DOWN "$(vn_cat "$NP/status")" "nobody's old binding into the test's namespace is refused"
	vn_match "^only root may bind a port to /proc/$nb_old/ns/net" "$(vn_cat "$NP/error")" "error says why"
	vn_eq absent "$(vn_link_kind "$nb_host")" "nobody's port is unplugged"
	vn_eq "" "$(pid_ifnames "$nb_old" | grep -x eth0 || true)" "nothing of it left in the test's namespace"
	kill "$nb_old"
	wait "$nb_old" 2>/dev/null || true
	vn_ok vn_w "$NP/netns" ""
	vn_ok vn_w "$RP/netns" ""
else
	echo "# (no sqlite3 CLI: the old-state case is not run)"
fi

vn_done
