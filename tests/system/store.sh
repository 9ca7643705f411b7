#!/bin/bash
# SPDX-License-Identifier: MIT
# The state store (STATE/vnetfs.db, SQLite): a change the store refuses
# changes nothing (not the tree, not the kernel); a record that cannot be
# read is set aside and loses nothing else; bad values on load are set
# aside and shown; the per-object files of earlier versions are imported;
# a second daemon on the same host removes none of the first one's router
# namespaces; one daemon per state directory.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
command -v sqlite3 >/dev/null || vn__skip "sqlite3 (the CLI) is missing"
[ -n "${VN_EIO_SHIM:-}" ] && [ -f "$VN_EIO_SHIM" ] || vn__skip "VN_EIO_SHIM is not built"

M=$VN_MNT
db() { sqlite3 "$VN_STATE/vnetfs.db" "$@"; }

# The daemon runs with a shim that fails every write and sync on the
# store while $ARM exists (a disk gone bad or read-only under it).
ARM=$VN_TMP/eio.arm
export VN_EIO_ARM=$ARM VN_EIO_DIR=$VN_STATE
export LD_PRELOAD=$VN_EIO_SHIM
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
vn_start
unset LD_PRELOAD # not for the test's own tools

vn_host h1
vn_ok mkdir "$M/networks/n1"
vn_ok mkdir "$M/networks/n1/subnets/s1"
vn_ok vn_w "$M/networks/n1/subnets/s1/cidr" 10.9.0.0/24
vn_ok mkdir "$M/networks/n1/ports/p1"
vn_ok vn_w "$M/networks/n1/ports/p1/ipconfig" static
vn_ok vn_w "$M/networks/n1/ports/p1/netns" /run/netns/h1
vn_ok mkdir "$M/networks/n3"
vn_ok mkdir "$M/networks/n3/subnets/s3a"
vn_ok vn_w "$M/networks/n3/subnets/s3a/cidr" 10.33.0.0/24
vn_ok mkdir "$M/networks/n3/subnets/s3b"
vn_ok vn_w "$M/networks/n3/subnets/s3b/cidr" 10.34.0.0/24
vn_ok mkdir "$M/networks/n3/ports/q1"
vn_ok mkdir "$M/networks/n3/ports/q2"
dev1=$(vn_cat "$M/networks/n1/ports/p1/device")
br1=$(vn_cat "$M/networks/n1/bridge")
br3=$(vn_cat "$M/networks/n3/bridge")
vn_true "p1's veth $dev1 exists" vn_link_exists "$dev1"
vn_true "h1 has eth0" vn_link_exists eth0 h1
bridges0=$(vn_bridges)
rows0=$(db 'SELECT count(*) FROM objects')

# ---- the store fails: nothing changes ------------------------------------------------
touch "$ARM"
vn_expect_fail EIO rmdir "$M/networks/n1/ports/p1"
vn_true "p1 is still in the tree" test -d "$M/networks/n1/ports/p1"
vn_eq ACTIVE "$(vn_cat "$M/networks/n1/ports/p1/status")" "p1 still reads ACTIVE"
vn_true "p1's veth is still there (made real again)" vn_link_exists "$dev1"
vn_true "h1 still has eth0" vn_link_exists eth0 h1
# (.2 is n1's DHCP port)
vn_eq 10.9.0.3/24 "$(ip -n h1 -j addr show dev eth0 | jq -r '.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"')" \
	"h1's eth0 has its address back"
vn_match 'persist|store|state' "$(vn_cat "$M/networks/n1/ports/p1/error")" "p1's error says the store failed"

vn_expect_fail EIO vn_w "$M/networks/n1/mtu" 1400
vn_eq 1500 "$(vn_cat "$M/networks/n1/mtu")" "n1's mtu reads 1500"
vn_eq 1500 "$(vn_link_mtu "$br1")" "n1's bridge keeps mtu 1500"
vn_eq 1500 "$(vn_link_mtu "$dev1")" "p1's veth keeps mtu 1500"

vn_expect_fail EIO mkdir "$M/networks/n2"
vn_true "no n2" test ! -e "$M/networks/n2"
vn_eq "$bridges0" "$(vn_bridges)" "no bridge was made for n2"

vn_expect_fail EIO rmdir "$M/networks/n3"
for p in n3 n3/subnets/s3a n3/subnets/s3b n3/ports/q1 n3/ports/q2; do
	vn_true "$p is still there" test -d "$M/networks/$p"
done
vn_eq 10.33.0.0/24 "$(vn_cat "$M/networks/n3/subnets/s3a/cidr")" "s3a keeps its cidr"
vn_match '^s3a 10\.33\.0\.[0-9]+$' "$(vn_cat "$M/networks/n3/ports/q1/fixed_ips")" "q1 keeps its address"
vn_true "n3's bridge is still there" vn_link_exists "$br3"
vn_eq "$bridges0" "$(vn_bridges)" "the same bridges"

vn_expect_fail EIO vn_w "$M/networks/n3/subnets/s3b/dns_nameservers" 10.34.0.53
vn_eq "" "$(vn_cat "$M/networks/n3/subnets/s3b/dns_nameservers")" "a refused list stays empty"
rm -f "$ARM"
vn_eq "$rows0" "$(db 'SELECT count(*) FROM objects')" "the store holds the same records"

# ---- the store works again ------------------------------------------------------------
vn_ok vn_w "$M/networks/n1/mtu" 1400
vn_eq 1400 "$(vn_link_mtu "$br1")" "now the bridge follows"
vn_ok rmdir "$M/networks/n3"
vn_true "n3 is gone" test ! -e "$M/networks/n3"
vn_eq absent "$(vn_link_kind "$br3")" "n3's bridge is gone"
vn_eq 0 "$(db "SELECT count(*) FROM objects WHERE name IN ('n3','s3a','s3b','q1','q2')")" \
	"n3's records are gone with it, in one change"
vn_ok mkdir "$M/networks/n3"
vn_ok vn_w "$M/networks/n3/mtu" 1450

# ---- values that don't validate are set aside on load ----------------------------------
vn_kill9
id1=$(db "SELECT id FROM objects WHERE name = 'n1'")
db "UPDATE objects SET doc = json_set(doc, '\$.props.mtu', 99999, '\$.props.admin_state', 'sideways') WHERE id = '$id1'"
vn_start
vn_eq ERROR "$(vn_cat "$M/networks/n1/status")" "n1 with stored mtu 99999 reads ERROR"
err=$(vn_cat "$M/networks/n1/error")
vn_match 'mtu' "$err" "its error names mtu"
vn_match 'admin_state' "$err" "and admin_state"
vn_eq 1500 "$(vn_cat "$M/networks/n1/mtu")" "the bad mtu is not used (the default is)"
vn_eq 1500 "$(vn_link_mtu "$br1")" "the bridge has the default mtu"
vn_eq up "$(vn_cat "$M/networks/n1/admin_state")" "admin_state is the default"
vn_match 99999 "$(db "SELECT doc FROM quarantine WHERE id = '$id1'")" "the bad record is kept in quarantine"
vn_ok vn_w "$M/networks/n1/mtu" 1400
vn_eq ACTIVE "$(vn_cat "$M/networks/n1/status")" "a new write makes n1 ACTIVE again"
vn_eq "" "$(vn_cat "$M/networks/n1/error")" "and clears its error"

# ---- a record that cannot be read is set aside; nothing else is lost ------------------
vn_ok mkdir "$M/networks/n4"
vn_ok mkdir "$M/networks/n4/subnets/s4"
vn_ok vn_w "$M/networks/n4/subnets/s4/cidr" 10.44.0.0/24
vn_ok mkdir "$M/networks/n4/ports/r1"
br4=$(vn_cat "$M/networks/n4/bridge")
vn_kill9
id4=$(db "SELECT id FROM objects WHERE name = 'n4'")
ids4=$(db "SELECT count(*) FROM objects WHERE parent = '$id4'")
vn_eq 3 "$ids4" "(setup) n4 has three child records (s4, r1, its DHCP port)"
db "UPDATE objects SET doc = substr(doc, 1, 20) WHERE id = '$id4'"                  # torn
idp=$(db "SELECT id FROM objects WHERE name = 'p1'")
db "UPDATE objects SET doc = json_set(doc, '\$.type', 'gizmo') WHERE id = '$idp'" # a newer kind
vn_start
vn_true "n4 (unreadable) is not in the tree" test ! -e "$M/networks/n4"
vn_true "n1 and n3 are" test -d "$M/networks/n1" -a -d "$M/networks/n3"
vn_eq 1450 "$(vn_cat "$M/networks/n3/mtu")" "n3 kept its mtu"
vn_eq 3 "$(db "SELECT count(*) FROM objects WHERE parent = '$id4'")" "n4's children are kept in the store"
vn_eq 1 "$(db "SELECT count(*) FROM quarantine WHERE id = '$id4'")" "n4's record is in quarantine"
vn_eq bridge "$(vn_link_kind "$br4")" "n4's bridge is not swept"
vn_true "n4's qdhcp namespace is not swept" test -e "/run/netns/qdhcp-$id4"
vn_true "nor its DHCP files" test -e "$VN_STATE/dhcp/$id4/hosts"
vn_true "p1 (a kind this version lacks) is not in the tree" test ! -e "$M/networks/n1/ports/p1"
vn_match 'set aside' "$(vn_cat "$M/networks/n1/error")" "n1's error says a port record was set aside"
vn_true "p1's veth is not swept" vn_link_exists "$dev1"
vn_true "h1 keeps eth0" vn_link_exists eth0 h1
vn_true "the daemon logged it" grep -q "set aside" "$VN_TMP/daemon.log"
# putting the records back (what a newer version, or a person, does) restores all
vn_kill9
db "INSERT INTO objects(id, type, parent, name, doc) SELECT id, 'port', json_extract(doc, '\$.parent'), 'p1', json_set(doc, '\$.type', 'port') FROM quarantine WHERE id = '$idp'"
vn_start
vn_true "p1 is back from quarantine" test -d "$M/networks/n1/ports/p1"
vn_eq ACTIVE "$(vn_cat "$M/networks/n1/ports/p1/status")" "and ACTIVE"

# ---- one daemon per state directory --------------------------------------------------
out=$("$VNETFS" -f --state "$VN_STATE" --netns vnt-other "$VN_TMP/mnt-x" 2>&1) && st=0 || st=$?
vn_ne 0 "$st" "a second daemon on the same state directory exits"
vn_match 'another vnetfs daemon' "$out" "and says why"

# ---- two daemons on one host: neither sweeps the other's routers ----------------------
vn_ok mkdir "$M/routers/ra"
nsa=$(vn_cat "$M/routers/ra/namespace")
vn_true "router ra's $nsa exists" test -e "/run/netns/$nsa"
M2=$VN_TMP/mnt2
mkdir -p "$M2"
"$VNETFS" -f --state "$VN_TMP/state2" --netns vnt-two --no-defaults "$M2" >>"$VN_TMP/daemon2.log" 2>&1 &
pid2=$!
for _ in $(seq 100); do mountpoint -q "$M2" && break; sleep 0.1; done
vn_true "the second daemon mounted" mountpoint -q "$M2"
vn_true "the first daemon's $nsa survives the second's start" test -e "/run/netns/$nsa"
vn_ok mkdir "$M2/routers/rb"
nsb=$(cat "$M2/routers/rb/namespace")
vn_restart
vn_true "the second daemon's $nsb survives the first's restart" test -e "/run/netns/$nsb"
vn_true "and the first's own $nsa is still there" test -e "/run/netns/$nsa"
rmdir "$M2/routers/rb"
kill -TERM "$pid2"
wait "$pid2" || true
ip netns del vnt-two 2>/dev/null || true
vn_ok rmdir "$M/routers/ra"
vn_true "$nsa is gone with ra" test ! -e "/run/netns/$nsa"

# ---- earlier versions' per-object files are imported ----------------------------------
vn_stop
old=$VN_TMP/state-old
mkdir -p "$old/objects"
nid=aaaaaaaa-1111-4222-8333-444444444444
sid=bbbbbbbb-1111-4222-8333-444444444444
printf '{"type":"network","name":"legacy","id":"%s","parent":null,"uid":0,"gid":0,"ctime":1,"ctime_ns":0,"props":{"mtu":1300}}' "$nid" >"$old/objects/$nid.json"
printf '{"type":"subnet","name":"legacy-sub","id":"%s","parent":"%s","uid":0,"gid":0,"ctime":2,"ctime_ns":0,"props":{"cidr":"10.77.0.0/24"}}' "$sid" "$nid" >"$old/objects/$sid.json"
mkfifo "$old/objects/cccccccc-1111-4222-8333-444444444444.json" # hostile: must not block
touch "$old/objects/.initialized"
VN_STATE=$old
vn_start
vn_eq 1300 "$(vn_cat "$M/networks/legacy/mtu")" "the legacy network is imported"
vn_eq 10.77.0.0/24 "$(vn_cat "$M/networks/legacy/subnets/legacy-sub/cidr")" "with its subnet"
vn_eq 1300 "$(vn_link_mtu "$(vn_expected_bridge "$nid")")" "and its bridge is made"
vn_true "no public network: the first start had happened (.initialized)" test ! -e "$M/networks/public"
vn_true "objects/ is kept as objects.migrated" test -d "$old/objects.migrated" -a ! -e "$old/objects"
vn_restart
vn_eq 1300 "$(vn_cat "$M/networks/legacy/mtu")" "still there after a restart"
# a descriptor still open when the daemon stops: its handle is freed at
# unmount (vn_stop checks the exit status, where LeakSanitizer reports)
exec 3<"$M/networks/legacy/mtu" 4>"$M/networks/legacy/subnets/legacy-sub/dns_nameservers"
vn_stop
exec 3<&- 4>&- 2>/dev/null || true

# ---- hostile state files: refused at once, never opened --------------------------------
bad=$VN_TMP/state-bad
mkdir -p "$bad" "$VN_TMP/mnt-bad"
for what in symlink fifo wal-fifo; do
	rm -f "$bad"/vnetfs.db*
	case $what in
	symlink) ln -s /dev/zero "$bad/vnetfs.db" ;;
	fifo) mkfifo "$bad/vnetfs.db" ;;
	wal-fifo) mkfifo "$bad/vnetfs.db-wal" ;;
	esac
	st=0
	out=$(timeout -k 2 10 "$VNETFS" -f --state "$bad" --netns vnt-bad --no-defaults "$VN_TMP/mnt-bad" 2>&1) || st=$?
	vn_ne 0 "$st" "a $what as the store: the daemon does not start"
	vn_ne 124 "$st" "a $what as the store: and does not hang"
	vn_match 'not a regular file' "$out" "a $what as the store: it says why"
done
ip netns del vnt-bad 2>/dev/null || true

vn_done
