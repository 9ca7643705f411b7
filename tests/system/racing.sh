#!/bin/bash
# SPDX-License-Identifier: MIT
# Racing (issue 6): 8 writer loops (2 of them as user nobody, allow_other)
# doing mkdir / value writes / rmdir / unlink / scratch file renames on a
# handful of networks, subnets and ports, while 2 readers (one as nobody)
# walk the tree (`find | xargs cat`), check every value they read, and hold
# descriptors open across the writers' rmdirs. For VN_RACE_SECONDS
# (default 20; issue 6 asks for a 60 s run: VN_RACE_SECONDS=60).
#
# Fails if the daemon dies, if any single file operation takes more than
# 5 s (each runs under `timeout 5`), if an operation fails in a way a race
# cannot explain (EIO, ENOTCONN, ENOMEM, EFAULT...), if a reader sees a
# value that is not one (an mtu outside 68..9000, a json that does not
# parse), if a sanitizer reports anything (vn_done), or if at the end the
# model and the kernel disagree (one bridge per network and no other, with
# the network's mtu and admin state) or a restart changes the tree.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
command -v setpriv >/dev/null || vn__skip "setpriv (util-linux) is missing"
vn_start -o allow_other

M=$VN_MNT
NB=65534
SECS=${VN_RACE_SECONDS:-20}
D=$VN_TMP/race
mkdir -m 0777 "$D" # each loop writes files of its own there
as_nobody() {
	setpriv --reuid=$NB --regid=$NB --clear-groups "$@"
}

# ---- the loops, as scripts (so that nobody can run them too) ------------------------
# Shared by both: t CMD... runs one file operation under timeout 5 and
# records a timeout or an error no race explains. Errors a race explains:
# ENOENT, EEXIST, EBUSY, EINVAL (a cidr or a value refused), ESTALE (a
# handle whose object went away), EACCES/EPERM (another user's object),
# ENOTEMPTY, ENOSPC.
cat >"$D/common.sh" <<'EOF'
t() {
	local out rc=0
	out=$(timeout -k 1 5 "$@" 2>&1 >/dev/null) || rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "$ME: over 5 s: $*" >>"$D/$ME.timeouts"
	fi
	case $out in
	*"Transport endpoint"* | *"connection abort"* | *"Input/output error"* | *"Bad address"* | \
		*"Cannot allocate"* | *"Function not implemented"* | *"Numerical result"* | \
		*"Bad file descriptor"* | *"Resource temporarily"* | *"Interrupted"*)
		echo "$ME: $*: $out" >>"$D/$ME.unexpected"
		;;
	esac
	OPS=$((OPS + 1))
	[ "$rc" != 0 ] || DONE=$((DONE + 1))
	return 0
}
DONE=0
EOF

cat >"$D/writer.sh" <<'EOF'
# writer.sh ID PREFIXES...: change the networks PREFIX0..3 until $END
set -u
ME=writer$1
shift
. "$D/common.sh"
pre=("$@")
OPS=0
RANDOM=$(( $$ * 31 + ${#ME} ))
while [ "$(date +%s)" -lt "$END" ]; do
	P=${pre[$((RANDOM % ${#pre[@]}))]}
	i=$((RANDOM % 4))
	net=$P$i
	n=$M/networks/$net
	s=$n/subnets/${net}s
	p=$n/ports/${net}p$((RANDOM % 2))
	case $((RANDOM % 16)) in
	0 | 1) t mkdir "$n" ;;
	2) t mkdir "$s" ;;
	3) t sh -c 'echo "$1" >"$2"' x "10.$([ "$P" = r ] && echo 1 || echo 2)$i.$((RANDOM % 4)).0/24" "$s/cidr" ;;
	4) t sh -c 'echo "$1" >"$2"' x $((1280 + RANDOM % 221)) "$n/mtu" ;;
	5) t sh -c 'echo "$1" >"$2"' x "$([ $((RANDOM % 2)) = 0 ] && echo up || echo down)" "$n/admin_state" ;;
	6) t mkdir "$p" ;;
	7) t rmdir "$p" ;;
	8) t rmdir "$s" ;;
	9) t rmdir "$n" ;;
	10) t rm -f "$n/mtu" ;;
	11) t sh -c 'echo 1400 >"$1/.mtu.$2" && mv "$1/.mtu.$2" "$1/mtu"' x "$n" "$ME" ;;
	12) t sh -c 'echo 1 >"$1/.a.$2" && mv "$1/.a.$2" "$1/.b.$2" && cat "$1/.b.$2" && rm "$1/.b.$2"' x "$n" "$ME" ;;
	13) t sh -c 'exec 3>"$1"; rmdir "$2"; echo 1400 >&3' x "$n/mtu" "$n" ;;
	14) t sh -c 'exec 3>"$1" || exit 0; printf 150 >&3; printf "0\n" >&3' x "$n/mtu" ;; # pending at close
	15) t rm -rf "$n" ;;
	esac
done
echo "$OPS" >"$D/$ME.ops"
echo "$DONE" >"$D/$ME.done"
EOF

cat >"$D/reader.sh" <<'EOF'
# reader.sh ID: read everything until $END, checking what it reads
set -u
ME=reader$1
. "$D/common.sh"
OPS=0
bad() { echo "$ME: $*" >>"$D/$ME.garbage"; }
# check FILE: read it; the content must be a value of its kind, or the
# read must fail because the object went away (ENOENT, or ESTALE: libfuse
# answers cat's fstat on a removed file so).
check() {
	local f=$1 v rc=0 err=$D/$ME.err
	v=$(timeout -k 1 5 cat -- "$f" 2>"$err") || rc=$?
	OPS=$((OPS + 1))
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "$ME: over 5 s: cat $f" >>"$D/$ME.timeouts"
		return 0
	fi
	if [ "$rc" != 0 ]; then
		grep -qE 'No such file or directory|Stale file handle' "$err" ||
			bad "cat $f: status $rc: $(cat "$err")"
		return 0
	fi
	case ${f##*/} in
	mtu) [[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge 68 ] && [ "$v" -le 9000 ] || bad "$f: mtu '$v'" ;;
	admin_state) [[ $v =~ ^(up|down)$ ]] || bad "$f: admin_state '$v'" ;;
	id) [[ $v =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] || bad "$f: id '$v'" ;;
	status) [[ $v =~ ^(ACTIVE|DOWN|BUILD|ERROR)$ ]] || bad "$f: status '$v'" ;;
	json) jq -e .id <<<"$v" >/dev/null 2>&1 || bad "$f: json '$v'" ;;
	esac
}
while [ "$(date +%s)" -lt "$END" ]; do
	# the walk of issue 6
	t sh -c 'find "$1" -type f -print0 | xargs -0 -r -n 16 timeout -k 1 5 cat' x "$M"
	# every value read back checked
	files=$(timeout -k 1 5 find "$M/networks" -type f \( -name mtu -o -name admin_state -o -name id -o -name status -o -name json \) 2>/dev/null)
	for f in $files; do
		check "$f"
	done
	# descriptors held open across the writers' rmdirs: what was opened
	# reads whole (the snapshot rendered at open), a write answers or
	# fails cleanly
	for n in $(timeout -k 1 5 ls "$M/networks" 2>/dev/null); do
		case $n in public) continue ;; esac
		out=$(timeout -k 1 5 sh -c '
			exec 3<"$1/json" 4<"$1/mtu" 2>/dev/null || exit 0
			sleep 0.2
			cat <&3 2>/dev/null
			echo "MTU=$(dd bs=64 count=1 <&4 2>/dev/null)"' x "$M/networks/$n" 2>/dev/null)
		rc=$?
		OPS=$((OPS + 1))
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			echo "$ME: over 5 s: held descriptors on $n" >>"$D/$ME.timeouts"
			continue
		fi
		[ -n "$out" ] || continue
		j=${out%MTU=*}
		m=${out##*MTU=}
		jq -e --arg n "$n" '.name == $n' <<<"$j" >/dev/null 2>&1 || bad "held json of $n: '$j'"
		[[ $m =~ ^[0-9]+$ ]] && [ "$m" -ge 68 ] && [ "$m" -le 9000 ] || bad "held mtu of $n: '$m'"
		if [ "$(id -u)" = 0 ]; then
			t sh -c 'exec 5>>"$1/admin_state" || exit 0; sleep 0.1; echo up >&5' x "$M/networks/$n"
		fi
	done
done
echo "$OPS" >"$D/$ME.ops"
EOF

# ---- the race ------------------------------------------------------------------------
export M D
END=$(($(date +%s) + SECS))
export END
echo "# racing for $SECS s"
pids=()
for w in 1 2 3 4 5 6; do
	bash "$D/writer.sh" "$w" r r u & # root: its networks r0..3, sometimes nobody's
	pids+=($!)
done
for w in 7 8; do
	as_nobody bash "$D/writer.sh" "$w" u &
	pids+=($!)
done
bash "$D/reader.sh" 1 &
pids+=($!)
as_nobody bash "$D/reader.sh" 2 &
pids+=($!)
st=0
for p in "${pids[@]}"; do
	wait "$p" || st=$?
done
vn_eq 0 "$st" "every loop ran to its end"

vn_true "the daemon is alive after $SECS s of racing" vn_alive
vn_true "the mount still answers" timeout 10 ls "$M/networks"
ops=0
for f in "$D"/*.ops; do
	ops=$((ops + $(cat "$f")))
done
echo "# $ops operations: $(for f in "$D"/*.ops; do printf '%s=%s ' "$(basename "$f" .ops)" "$(cat "$f")"; done)"
nok=0
for f in "$D"/writer*.done; do
	nok=$((nok + $(cat "$f")))
done
echo "# of the writers' operations, $nok succeeded"
for who in writer1 writer7 reader1 reader2; do
	vn_true "$who did some work" test "$(cat "$D/$who.ops" 2>/dev/null || echo 0)" -gt 10
done
some() { cat "$D"/*."$1" 2>/dev/null | head -n 20 || true; }
vn_eq "" "$(some timeouts)" "no file operation took over 5 s"
vn_eq "" "$(some unexpected)" "no error that a race cannot explain"
vn_eq "" "$(some garbage)" "readers read only values"

# ---- model = kernel ---------------------------------------------------------------------
model_vs_kernel() { # WHEN
	local nets n id br want="" bad=""
	nets=$(vn_ls "$M/networks")
	for n in $nets; do
		id=$(vn_cat "$M/networks/$n/id") || { bad+=" $n:no-id"; continue; }
		br=$(vn_expected_bridge "$id")
		want+="$br"$'\n'
		[ "$(vn_cat "$M/networks/$n/bridge")" = "$br" ] || bad+=" $n:bridge-file"
		[ "$(vn_cat "$M/networks/$n/mtu")" = "$(vn_link_mtu "$br")" ] || bad+=" $n:mtu"
		[ "$(vn_cat "$M/networks/$n/admin_state")" = "$(vn_link_admin "$br")" ] || bad+=" $n:admin_state"
	done
	vn_eq "$(printf '%s' "$want" | LC_ALL=C sort)" "$(vn_bridges)" "$1: one bridge per network in the kernel, no other"
	vn_eq "" "$bad" "$1: every network's bridge, mtu and admin state match the kernel"
}
model_vs_kernel "after the race"
tree() {
	(cd "$M" && timeout 10 find networks -mindepth 1 -not -name '.*' -type d | LC_ALL=C sort)
}
before=$(tree)
vn_ne "" "$before" "the tree is not empty"
vn_restart
vn_eq "$before" "$(tree)" "a restart keeps the tree as it was"
model_vs_kernel "after a restart"

vn_done
