#!/bin/bash
# SPDX-License-Identifier: MIT
# State and restart: SIGKILL right after acknowledged writes loses nothing;
# on start the daemon reconciles the kernel with the model (stray vnb-*
# bridges deleted, missing ones recreated with their addresses, mtu and
# admin state drift fixed, foreign links left alone); SIGTERM + start gives
# the same tree; the store holds one record per object.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
vn_start

M=$VN_MNT

# snapshot: every file's path, mode, owner and content (not times)
snapshot() {
	(
		cd "$M"
		find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r f; do
			stat -c '%n %F %a %u %g' "$f"
			if [ -f "$f" ]; then
				timeout 10 cat "$f" 2>&1 || echo "<read error>"
				echo
			fi
		done
	)
}

# ---- build a model ---------------------------------------------------------------
vn_ok mkdir "$M/networks/r1" "$M/networks/r2" "$M/networks/r3" "$M/networks/r4"
vn_ok mkdir "$M/networks/r1/subnets/r1-a"
vn_ok vn_w "$M/networks/r1/subnets/r1-a/cidr" 10.1.0.0/24
vn_ok vn_w "$M/networks/r1/subnets/r1-a/gateway_ip" 10.1.0.254
vn_ok vn_a "$M/networks/r1/subnets/r1-a/dns_nameservers" 10.1.0.53
vn_ok vn_a "$M/networks/r1/subnets/r1-a/dns_nameservers" 10.1.0.54
vn_ok vn_w "$M/networks/r1/subnets/r1-a/host_routes" "192.168.0.0/16 10.1.0.1"
vn_ok mkdir "$M/networks/r1/subnets/r1-v6"
vn_ok vn_w "$M/networks/r1/subnets/r1-v6/cidr" fd00:10::/64
vn_ok vn_w "$M/networks/r1/mtu" 1400
vn_ok vn_w "$M/networks/r2/mtu" 9000
vn_ok vn_w "$M/networks/r3/admin_state" down
vn_ok mkdir "$M/networks/r4/subnets/r4-a"
vn_ok vn_w "$M/networks/r4/subnets/r4-a/cidr" 10.4.0.0/24
vn_ok vn_w "$M/networks/r4/subnets/r4-a/enable_dhcp" 0
vn_ok vn_w "$M/networks/r4/external" 1
vn_ok mkdir "$M/flavors/r.large"
vn_ok vn_w "$M/flavors/r.large/vcpus" 8
vn_ok vn_w "$M/flavors/r.large/ram" 16384
vn_ok vn_w "$M/flavors/r.large/disk" 160
# a flavor that is deleted must stay deleted
vn_ok rmdir "$M/flavors/m1.small"

declare -A BR
for n in public r1 r2 r3 r4; do BR[$n]=$(vn_cat "$M/networks/$n/bridge"); done
vn_eq 10.4.0.1/24 "$(vn_link_addrs "${BR[r4]}")" "r4 is external: gateway on its bridge"
snap1=$(snapshot)
bridges1=$(vn_bridges)
vn_eq 5 "$(wc -l <<<"$bridges1")" "five bridges before the kill"

# ---- the state directory ------------------------------------------------------------
nobj=$(($(find "$M/networks" -mindepth 1 -maxdepth 1 -type d | wc -l) +
	$(find "$M/networks" -mindepth 3 -maxdepth 3 -path '*/subnets/*' -type d | wc -l) +
	$(find "$M/networks" -mindepth 3 -maxdepth 3 -path '*/ports/*' -type d | wc -l) +
	$(find "$M/flavors" -mindepth 1 -maxdepth 1 -type d | wc -l) +
	$(find "$M/security_groups" -mindepth 1 -maxdepth 1 -type d | wc -l)))
vn_eq 14 "$nobj" "objects in the tree (5 networks, 4 subnets, r1's DHCP port, 3 flavors, the default security group)"
# One SQLite store (WAL): one row per object, each a valid JSON record.
vn_true "the store is STATE/vnetfs.db" test -f "$VN_STATE/vnetfs.db"
vn_eq "$nobj" "$(sqlite3 "file:$VN_STATE/vnetfs.db?mode=ro" 'SELECT count(*) FROM objects')" \
	"the store holds one record per object"
vn_eq wal "$(sqlite3 "file:$VN_STATE/vnetfs.db?mode=ro" 'PRAGMA journal_mode')" "the store is in WAL mode"
vn_eq "" "$(find "$VN_STATE" -name '*.json' -o -name '*.tmp*')" "no per-object files in the state dir"
bad_json=$(sqlite3 "file:$VN_STATE/vnetfs.db?mode=ro" 'SELECT id FROM objects WHERE json_valid(doc) = 0')
vn_eq "" "$bad_json" "every record is valid JSON"
for n in r1 r2 r3 r4 public; do
	id=$(vn_cat "$M/networks/$n/id")
	vn_eq 1 "$(sqlite3 "file:$VN_STATE/vnetfs.db?mode=ro" "SELECT count(*) FROM objects WHERE id = '$id' AND name = '$n'")" \
		"the store has $n under its id"
done

# ---- SIGKILL right after acknowledged writes ------------------------------------------
vn_ok vn_w "$M/networks/r2/mtu" 8000
vn_ok mkdir "$M/networks/r5"
vn_ok mkdir "$M/networks/r5/subnets/r5-a"
vn_ok vn_w "$M/networks/r5/subnets/r5-a/cidr" 10.5.0.0/24
BR[r5]=$(vn_cat "$M/networks/r5/bridge")
snap1=$(snapshot)
bridges1=$(vn_bridges)
vn_kill9
vn_true "the mount is gone after SIGKILL" bash -c "! mountpoint -q '$M'"
vn_eq "$bridges1" "$(vn_bridges)" "bridges survive the daemon's death"

# ---- tamper with the kernel while the daemon is down -----------------------------------
vn_ok ip -n "$VN_NS" link add vnb-deadbeef000 type bridge
vn_ok ip -n "$VN_NS" link add vnb-ffffffff01 mtu 1300 type bridge
vn_ok ip -n "$VN_NS" link add other-br0 type bridge
vn_ok ip -n "$VN_NS" link set dev "${BR[r1]}" mtu 1280
vn_ok ip -n "$VN_NS" link set dev "${BR[r2]}" down
vn_ok ip -n "$VN_NS" link set dev "${BR[r3]}" up
vn_ok ip -n "$VN_NS" link del dev "${BR[r5]}"
vn_ok ip -n "$VN_NS" link del dev "${BR[public]}"
vn_ok ip -n "$VN_NS" addr del 10.4.0.1/24 dev "${BR[r4]}"
vn_ok ip -n "$VN_NS" addr add 10.4.0.99/24 dev "${BR[r4]}"

vn_start
snap2=$(snapshot)
vn_eq "$snap1" "$snap2" "after SIGKILL + restart the tree is exactly as before"
if [ "$snap1" != "$snap2" ]; then diff <(echo "$snap1") <(echo "$snap2") >&2 || true; fi
vn_eq "$bridges1" "$(vn_bridges)" "reconcile: exactly the model's bridges (strays vnb-deadbeef000, vnb-ffffffff01 gone, missing ones back)"
vn_eq absent "$(vn_link_kind vnb-deadbeef000)" "stray vnb-deadbeef000 deleted"
vn_eq absent "$(vn_link_kind vnb-ffffffff01)" "stray vnb-ffffffff01 deleted"
vn_eq bridge "$(vn_link_kind other-br0)" "a bridge without our prefix is left alone"
vn_eq 1400 "$(vn_link_mtu "${BR[r1]}")" "r1 mtu drift fixed"
vn_eq 8000 "$(vn_link_mtu "${BR[r2]}")" "r2 mtu (written just before SIGKILL)"
vn_eq up "$(vn_link_admin "${BR[r2]}")" "r2 admin state drift fixed (up)"
vn_eq down "$(vn_link_admin "${BR[r3]}")" "r3 admin state drift fixed (down)"
vn_eq bridge "$(vn_link_kind "${BR[r5]}")" "r5's deleted bridge recreated"
vn_eq bridge "$(vn_link_kind "${BR[public]}")" "public's deleted bridge recreated"
vn_eq up "$(vn_link_admin "${BR[public]}")" "public's recreated bridge is up"
vn_eq 172.24.4.1/24 "$(vn_link_addrs "${BR[public]}")" "public's recreated bridge has 172.24.4.1/24"
vn_eq 10.4.0.1/24 "$(vn_link_addrs "${BR[r4]}")" "r4's addresses are exactly its gateway again"
vn_eq "" "$(vn_link_addrs "${BR[r1]}")" "internal r1 has no address"
vn_eq 10.5.0.0/24 "$(vn_cat "$M/networks/r5/subnets/r5-a/cidr")" "r5's subnet made just before SIGKILL survived"
vn_eq "10.1.0.53
10.1.0.54" "$(vn_cat "$M/networks/r1/subnets/r1-a/dns_nameservers")" "list survived"
vn_eq fd00:10::1 "$(vn_cat "$M/networks/r1/subnets/r1-v6/gateway_ip")" "IPv6 subnet survived"
vn_true "m1.small stays deleted" test ! -e "$M/flavors/m1.small"
vn_eq "16384" "$(vn_cat "$M/flavors/r.large/ram")" "custom flavor survived"
# the restarted daemon still enforces the model (on a throwaway network,
# so that no `error` text, which is not persisted, is left behind)
vn_expect_fail EEXIST mkdir "$M/networks/r9" "$M/networks/r9/subnets/r1-a"
vn_ok mkdir "$M/networks/r9/subnets/r9-a"
vn_expect_fail EINVAL vn_w "$M/networks/r9/subnets/r9-a/cidr" 10.1.0.0/33
vn_ok vn_w "$M/networks/r9/subnets/r9-a/cidr" 10.1.0.0/25
vn_expect_fail EINVAL vn_w "$M/networks/r9/subnets/r9-a/cidr" 10.1.0.0/25x
vn_ok rm -r "$M/networks/r9"

# ---- SIGKILL in the middle of a stream of writes ------------------------------------------
# Every acknowledged write must survive; the one in flight may or may not.
vn_ok mkdir "$M/networks/k0"
acked=$VN_TMP/acked
: >"$acked"
(
	set +e
	for v in $(seq 1300 1899); do
		echo "$v" >"$M/networks/k0/mtu" 2>/dev/null || break
		echo "mtu $v" >>"$acked"
		mkdir "$M/networks/k$v" 2>/dev/null || break
		echo "net k$v" >>"$acked"
	done
) &
wpid=$!
sleep 0.5
vn_kill9
wait "$wpid" || true
last_mtu=$(grep '^mtu ' "$acked" | tail -n 1 | cut -d' ' -f2)
nets_acked=$(grep -c '^net ' "$acked" || true)
vn_true "the writer got some writes acknowledged before the kill ($nets_acked networks)" test "$nets_acked" -ge 1
vn_start
got_mtu=$(vn_cat "$M/networks/k0/mtu")
if [ "$got_mtu" = "$last_mtu" ] || [ "$got_mtu" = $((last_mtu + 1)) ]; then
	vn__pass "k0 mtu after SIGKILL is the last acknowledged value ($last_mtu) or the one in flight ($got_mtu)"
else
	vn__fail "k0 mtu after SIGKILL: last acknowledged $last_mtu, got $got_mtu"
fi
missing=""
for n in $(grep '^net ' "$acked" | cut -d' ' -f2); do
	[ -d "$M/networks/$n" ] || missing+=" $n"
done
vn_eq "" "$missing" "every acknowledged mkdir survived SIGKILL"
extra=$(vn_ls "$M/networks" | grep -c '^k1' || true)
vn_true "at most one unacknowledged network appeared ($extra present, $nets_acked acknowledged)" \
	test "$extra" -le $((nets_acked + 1))
vn_eq "$(vn_cat "$M/networks/k0/mtu")" "$(vn_link_mtu "$(vn_cat "$M/networks/k0/bridge")")" "k0 bridge mtu matches after reconcile"
want_br=$(for n in $(vn_ls "$M/networks"); do vn_cat "$M/networks/$n/bridge"; echo; done | LC_ALL=C sort)
vn_eq "$want_br" "$(vn_bridges)" "one bridge per network after SIGKILL mid-stream"
vn_ok rm -r "$M/networks/k0"
for n in $(vn_ls "$M/networks" | grep '^k1' || true); do rmdir "$M/networks/$n"; done
vn_eq "public r1 r2 r3 r4 r5" "$(vn_ls "$M/networks" | tr '\n' ' ' | sed 's/ $//')" "cleaned up"

# ---- SIGTERM + start ---------------------------------------------------------------------
vn_ok vn_w "$M/networks/r3/mtu" 1600
snap1=$(snapshot)
bridges1=$(vn_bridges)
vn_stop
vn_start
vn_eq "$snap1" "$(snapshot)" "after SIGTERM + start the tree is exactly as before"
vn_eq "$bridges1" "$(vn_bridges)" "the same bridges after SIGTERM + start"
vn_eq 1600 "$(vn_link_mtu "${BR[r3]}")" "r3 mtu 1600 after SIGTERM restart"
vn_eq down "$(vn_link_admin "${BR[r3]}")" "r3 still down"

# ---- SIGINT stops it cleanly too -----------------------------------------------------
vn_stop INT
vn_start
vn_eq "$snap1" "$(snapshot)" "after SIGINT + start the tree is exactly as before"

# ---- --no-defaults on an existing state keeps public; on a fresh state makes none ----
vn_stop
vn_start --no-defaults
vn_true "public stays when it is in the state already" test -d "$M/networks/public"
vn_stop
rm -rf "$VN_STATE" && mkdir -m 755 "$VN_STATE"
vn_start --no-defaults
vn_eq "" "$(vn_ls "$M/networks")" "--no-defaults on a fresh state: no networks"
vn_eq "" "$(vn_bridges)" "reconcile on an empty model removed every vnb- bridge"
vn_eq bridge "$(vn_link_kind other-br0)" "foreign bridge still there"
vn_eq "m1.nano
m1.small
m1.tiny" "$(vn_ls "$M/flavors")" "flavors exist even with --no-defaults"

vn_done
