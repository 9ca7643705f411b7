#!/bin/bash
# SPDX-License-Identifier: MIT
# Concurrency: several writers at once (mkdir of networks and subnets,
# mtu writes, races for the same names, readers walking the tree), then
# every file must agree with the kernel and the daemon must still be alive.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
vn_start

M=$VN_MNT
W=4        # writer processes
K=16       # networks per writer
R=20       # names raced for by every writer
ERR=$VN_TMP/errors
mkdir -p "$ERR"

# writer w: make K networks with a subnet each, then rewrite every mtu a
# few times; the last mtu of network c$w-$i is 1000 + 10*w + i.
writer() {
	local w=$1 i round n
	set +e
	for i in $(seq 1 "$K"); do
		n=$M/networks/c$w-$i
		mkdir "$n" 2>>"$ERR/w$w" || echo "mkdir c$w-$i failed" >>"$ERR/w$w"
		mkdir "$n/subnets/cs$w-$i" 2>>"$ERR/w$w" || echo "mkdir cs$w-$i failed" >>"$ERR/w$w"
		echo "10.$w.$i.0/24" >"$n/subnets/cs$w-$i/cidr" 2>>"$ERR/w$w" || echo "cidr cs$w-$i failed" >>"$ERR/w$w"
	done
	for round in 1 2 3; do
		for i in $(seq 1 "$K"); do
			echo $((1000 + 100 * round + 10 * w + i)) >"$M/networks/c$w-$i/mtu" 2>>"$ERR/w$w" ||
				echo "mtu c$w-$i round $round failed" >>"$ERR/w$w"
		done
	done
	for i in $(seq 1 "$K"); do
		echo $((1000 + 10 * w + i)) >"$M/networks/c$w-$i/mtu" 2>>"$ERR/w$w" ||
			echo "final mtu c$w-$i failed" >>"$ERR/w$w"
	done
	# the exit status says how many steps failed (checked below)
	[ ! -s "$ERR/w$w" ]
}

# racer w: everybody tries to create race-$j and subnet rs-$j (the subnet
# on its own network, so that only the global name collides); record wins.
racer() {
	local w=$1 j
	set +e
	mkdir "$M/networks/rnet$w" 2>>"$ERR/r$w" || echo "mkdir rnet$w failed" >>"$ERR/r$w"
	for j in $(seq 1 "$R"); do
		if mkdir "$M/networks/race-$j" 2>"$ERR/r$w.last"; then
			echo "race-$j" >>"$ERR/wins$w"
		elif ! grep -q "File exists" "$ERR/r$w.last"; then
			cat "$ERR/r$w.last" >>"$ERR/r$w"
		fi
		if mkdir "$M/networks/rnet$w/subnets/rs-$j" 2>"$ERR/r$w.last"; then
			echo "rs-$j" >>"$ERR/wins$w"
		elif ! grep -q "File exists" "$ERR/r$w.last"; then
			cat "$ERR/r$w.last" >>"$ERR/r$w"
		fi
	done
	[ ! -s "$ERR/r$w" ]
}

# reader: walk and read the whole tree while the writers work, checking
# every value read (an mtu is a number in range, never "\n" or two numbers
# run together; ids, status, json parse...). A file or directory removed
# while walking may answer ENOENT or ESTALE; any other errno counts.
READER='
import errno, json, os, re, sys
mnt, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
rules = {
    "id": lambda v: re.fullmatch(UUID + "\n", v),
    "status": lambda v: re.fullmatch("(ACTIVE|DOWN|BUILD|ERROR)\n", v),
    "admin_state": lambda v: v in ("up\n", "down\n"),
    "external": lambda v: v in ("0\n", "1\n"),
    "mtu": lambda v: re.fullmatch("[0-9]+\n", v) and 68 <= int(v) <= 9000,
    "cidr": lambda v: v == "" or re.fullmatch("[0-9a-f.:]+/[0-9]+\n", v),
    "error": lambda v: v == "" or (v.endswith("\n") and v.count("\n") == 1),
}
def check_json(v):
    j = json.loads(v)
    if not re.fullmatch(UUID, j["id"]):
        return False
    m = j.get("mtu")
    return m is None or (isinstance(m, int) and 68 <= m <= 9000)
gone = (errno.ENOENT, errno.ESTALE)
rounds = files = bad = unexpected = 0
log = open(out, "w")
while rounds < 200 and not os.path.exists(stop):
    for d, dirs, names in os.walk(mnt, onerror=lambda e: None):
        for n in names:
            p = os.path.join(d, n)
            try:
                with open(p) as f:
                    v = f.read()
            except OSError as e:
                if e.errno not in gone:
                    unexpected += 1
                    log.write("%s: %s\n" % (p, e))
                continue
            files += 1
            try:
                ok = check_json(v) if n == "json" else rules.get(n, lambda v: True)(v)
            except Exception:
                ok = False
            if not ok:
                bad += 1
                log.write("%s: read %r\n" % (p, v[:200]))
    rounds += 1
log.write("rounds %d files %d bad %d unexpected %d\n" % (rounds, files, bad, unexpected))
print(rounds, files, bad, unexpected)
'
reader() {
	python3 -c "$READER" "$M" "$1" "$ERR/reader-log" >"$ERR/reader-counts"
}

pids=()
reader "$ERR/stop" &
rpid=$!
for w in $(seq 1 "$W"); do
	writer "$w" &
	pids+=($!)
	racer "$w" &
	pids+=($!)
done
st=0
for p in "${pids[@]}"; do
	wait "$p" || st=$?
done
touch "$ERR/stop"
wait "$rpid" || true
vn_eq 0 "$st" "all writers exited 0"
vn_true "daemon still alive after the concurrent phase" vn_alive
vn_true "the mount still answers" timeout 10 ls "$M/networks"
for w in $(seq 1 "$W"); do
	vn_eq "" "$(cat "$ERR/w$w" 2>/dev/null)" "writer $w saw no errors"
	vn_eq "" "$(cat "$ERR/r$w" 2>/dev/null)" "racer $w saw no errors but EEXIST"
done

# ---- every name raced for was won exactly once ------------------------------------------
wins=$(cat "$ERR"/wins* 2>/dev/null | LC_ALL=C sort)
expected=$( (
	for j in $(seq 1 "$R"); do echo "race-$j"; echo "rs-$j"; done
) | LC_ALL=C sort)
vn_eq "$expected" "$wins" "each raced name was created exactly once"
nsub=0
for w in $(seq 1 "$W"); do
	nsub=$((nsub + $(vn_ls "$M/networks/rnet$w/subnets" | grep -c . || true)))
done
vn_eq "$R" "$nsub" "exactly $R rs-* subnets exist across the racers' networks"

# ---- files and kernel agree ------------------------------------------------------------
declare -A seen
bad=""
for w in $(seq 1 "$W"); do
	for i in $(seq 1 "$K"); do
		n=$M/networks/c$w-$i
		want=$((1000 + 10 * w + i))
		mtu=$(vn_cat "$n/mtu" || true)
		br=$(vn_cat "$n/bridge" || true)
		kmtu=$(vn_link_mtu "$br")
		jmtu=$(vn_json_get "$n/json" .mtu || true)
		cidr=$(vn_cat "$n/subnets/cs$w-$i/cidr" || true)
		id=$(vn_cat "$n/id" || true)
		[ "$mtu" = "$want" ] || bad+=" c$w-$i:mtu=$mtu(want $want)"
		[ "$kmtu" = "$want" ] || bad+=" c$w-$i:kernel-mtu=$kmtu(want $want)"
		[ "$jmtu" = "$want" ] || bad+=" c$w-$i:json-mtu=$jmtu(want $want)"
		[ "$cidr" = "10.$w.$i.0/24" ] || bad+=" c$w-$i:cidr=$cidr"
		[ "$br" = "$(vn_expected_bridge "$id")" ] || bad+=" c$w-$i:bridge=$br"
		[ -z "${seen[$id]:-}" ] || bad+=" c$w-$i:duplicate-id"
		seen[$id]=1
	done
done
vn_eq "" "$bad" "every network's mtu (file, json, kernel), cidr and bridge are consistent"

# one bridge per network, no more, no less
nets=$(vn_ls "$M/networks")
want_br=$(for n in $nets; do vn_cat "$M/networks/$n/bridge"; echo; done | LC_ALL=C sort)
vn_eq "$want_br" "$(vn_bridges)" "the kernel has exactly one bridge per network"
vn_eq $((1 + W * K + R + W)) "$(wc -l <<<"$nets")" "network count (public + writers' + races + racers' own)"

# ---- many writers on one network: file, json and kernel must agree ----------------------
vn_ok mkdir "$M/networks/shared"
sbr=$(vn_cat "$M/networks/shared/bridge")
pids=()
for w in $(seq 1 "$W"); do
	(
		set +e
		for v in $(seq 1 25); do
			echo $((2000 + 100 * w + v)) >"$M/networks/shared/mtu" 2>>"$ERR/s$w" || echo "mtu $w/$v failed" >>"$ERR/s$w"
			echo $((v % 2 == 0 ? 1 : 0)) >"$M/networks/shared/external" 2>>"$ERR/s$w" || echo "external $w/$v failed" >>"$ERR/s$w"
		done
	) &
	pids+=($!)
done
st=0
for p in "${pids[@]}"; do wait "$p" || st=$?; done
vn_eq 0 "$st" "shared-network writers exited 0"
for w in $(seq 1 "$W"); do
	vn_eq "" "$(cat "$ERR/s$w" 2>/dev/null)" "shared-network writer $w saw no errors"
done
smtu=$(vn_cat "$M/networks/shared/mtu")
vn_match '^2[1-9][0-9][0-9]$' "$smtu" "shared mtu is one of the written values"
vn_eq "$smtu" "$(vn_link_mtu "$sbr")" "shared: kernel mtu equals the file"
vn_eq "$smtu" "$(vn_json_get "$M/networks/shared/json" .mtu)" "shared: json mtu equals the file"
vn_ok rmdir "$M/networks/shared"

# ---- concurrent deletion -----------------------------------------------------------------
pids=()
for w in $(seq 1 "$W"); do
	(
		set +e
		for i in $(seq 1 "$K"); do
			rm -r "$M/networks/c$w-$i" 2>>"$ERR/d$w" || echo "rm c$w-$i failed" >>"$ERR/d$w"
		done
		rm -r "$M/networks/rnet$w" 2>>"$ERR/d$w" || echo "rm rnet$w failed" >>"$ERR/d$w"
	) &
	pids+=($!)
done
(
	set +e
	for j in $(seq 1 "$R"); do rmdir "$M/networks/race-$j" 2>>"$ERR/d0" || echo "rmdir race-$j failed" >>"$ERR/d0"; done
) &
pids+=($!)
st=0
for p in "${pids[@]}"; do wait "$p" || st=$?; done
vn_eq 0 "$st" "all deleters exited 0"
for w in 0 $(seq 1 "$W"); do
	vn_eq "" "$(cat "$ERR/d$w" 2>/dev/null)" "deleter $w saw no errors"
done
vn_eq public "$(vn_ls "$M/networks")" "only public is left"
vn_eq "$(vn_cat "$M/networks/public/bridge")" "$(vn_bridges)" "only public's bridge is left"
vn_true "daemon still alive at the end" vn_alive
read -r rounds files rbad runexp <"$ERR/reader-counts" || rounds=0
vn_true "the reader made progress ($rounds rounds, $files files read)" test "$rounds" -ge 1 -a "$files" -ge 100
vn_eq "0 0" "${rbad:-x} ${runexp:-x}" "the reader read only valid values and met no unexpected errno"
vn_eq "" "$(grep -v '^rounds' "$ERR/reader-log" | head -5)" "the reader's log of bad reads is empty"

vn_done
