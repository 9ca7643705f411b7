#!/bin/bash
# SPDX-License-Identifier: MIT
# Crash points (issue 6): a crash never half-applies a change. For each
# compound operation — create a network with a subnet, a cidr and a port;
# rmdir of a network holding 2 subnets and 3 ports; rmdir of a subnet a
# port holds an address on; router interface add and remove; external
# gateway set and clear; mkdir of a router (its namespace) and rmdir of
# one with a gateway — the operation is run once with the crash shim
# (tests/crash/vn_crash.c) counting its mutation points (netlink sends,
# state writes, syncs, renames, unlinks, netns mounts), then once for each
# point N with the daemon SIGKILLed just before its Nth point (and once
# right after the last point returned, before the reply). After each
# kill the daemon is started again without the shim on the same state,
# and:
#   - the command in flight failed with ECONNABORTED (the daemon died
#     while it was in flight);
#   - the tree is exactly the tree before that command or exactly the tree
#     after it (commands acknowledged before it are all there);
#   - the kernel matches the tree (vn_kernel_is_model: bridges, qrouter-
#     namespaces, vnp- links and router legs, no strays), and a router's
#     default route and SNAT rules match its gateway and interfaces.
# Every starting state is a copy of a template state dir made once per
# operation through the file tree (the test never reads state files), so
# every run starts from the same ids; the daemon's start-up reconcile makes
# the kernel match it (checked once per operation, before the counting
# run).
#
# Environment: VN_CRASH_MAX_POINTS (default 12): at most this many points
# per operation, evenly sampled, for all but the rmdir operations, which
# are tried at every point. VN_CRASH_ONLY=NAME: run one operation.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../netlib.sh"
vn_sandbox "$@"
vn_crash_setup
M=$VN_MNT
MAX_POINTS=${VN_CRASH_MAX_POINTS:-12}
SUMMARY=()

# ---- the tree, canonically (no ids, MACs or bridge names: those of objects
# an operation creates differ from run to run) --------------------------------
lines() { vn_cat "$1" | paste -sd, -; }
view() {
	local n s p r
	for n in "$M"/networks/*/; do
		[ -d "$n" ] || continue
		echo "net $(basename "$n") mtu=$(vn_cat "$n/mtu") external=$(vn_cat "$n/external") admin=$(vn_cat "$n/admin_state")"
		for s in "$n"subnets/*/; do
			[ -d "$s" ] || continue
			echo "  subnet $(basename "$s") cidr=$(vn_cat "$s/cidr") gateway=$(vn_cat "$s/gateway_ip")"
		done
		for p in "$n"ports/*/; do
			[ -d "$p" ] || continue
			# a DHCP port's namespace is named from its network's id (which
			# differs between runs): shown as "its network's qdhcp-"
			echo "  port $(basename "$p") ips=$(lines "$p/fixed_ips") owner=$(vn_cat "$p/device_owner") device=$([ -n "$(vn_cat "$p/device")" ] && echo yes || echo no) netns=$(vn_cat "$p/netns" | sed "s|^/run/netns/qdhcp-$(vn_cat "$n/id")\$|/run/netns/qdhcp-<its network>|")"
		done
	done
	for r in "$M"/routers/*/; do
		[ -d "$r" ] || continue
		echo "router $(basename "$r") interfaces=$(lines "$r/interfaces") gateway=$(vn_cat "$r/external_gateway") gateway_ip=$(vn_cat "$r/gateway_ip") snat=$(vn_cat "$r/enable_snat") routes=$(lines "$r/routes")"
	done
}

# gw_route NS: "GATEWAY DEV" of the default route (its protocol is the
# daemon's business)
gw_route() {
	ip -n "$1" -j route show default 2>/dev/null | jq -r '.[] | "\(.gateway) \(.dev)"'
}

# routers_kernel LABEL: each router's namespace has a default route via its
# external network's gateway exactly when it has a gateway, and SNAT rules
# for exactly its interfaces' IPv4 subnets then.
routers_kernel() {
	local l=$1 r ns qg want got gw ext s net
	for r in "$M"/routers/*/; do
		[ -d "$r" ] || continue
		ns=$(vn_cat "$r/namespace")
		ext=$(vn_cat "$r/external_gateway")
		qg=$(links "$ns" qg-)
		want="" got=""
		if [ -n "$ext" ]; then
			gw=$(vn_cat "$r/gateway_ip")
			want="$(vn_cat "$M/networks/$ext/subnets/$(vn_ls "$M/networks/$ext/subnets" | head -n1)/gateway_ip") $qg"
			got=$(gw_route "$ns")
			vn_eq "$want" "$got" "$l: router $(basename "$r"): default route via its gateway network"
			want=$(for s in $(vn_cat "$r/interfaces"); do
				net=$(dirname "$(dirname "$(find "$M/networks" -mindepth 3 -maxdepth 3 -path "*/subnets/$s" | head -n1)")")
				echo "$(vn_cat "$net/subnets/$s/cidr") $qg snat $gw"
			done | LC_ALL=C sort)
		else
			vn_eq "" "$(gw_route "$ns")" "$l: router $(basename "$r"): no default route without a gateway"
		fi
		vn_eq "$want" "$(snat_rules "$ns")" "$l: router $(basename "$r"): SNAT rules match gateway and interfaces"
	done
}

# nat_whole LABEL OLD NEW: right after the kill, before any restart, each
# router namespace's NAT table holds the SNAT rules of the interfaces
# before the command (OLD: their cidrs) or after it (NEW), never a mix,
# and one marker rule (an interface's rule is one batch, all or nothing)
nat_whole() {
	local l=$1 ns got
	for ns in $TPL_NS; do
		got=$(snat_rules "$ns" | awk '{print $1}' | xargs)
		if [ "$got" = "$2" ] || [ "$got" = "$3" ]; then
			vn__pass "$l: $ns's SNAT rules are those before or after the command ($got)"
		else
			vn__fail "$l: $ns's SNAT rules are neither '$2' nor '$3': '$got'"
		fi
		vn_eq 1 "$(nat_rule_count "$ns" vnetfs_mark)" "$l: one marker rule in $ns's NAT table"
	done
}

# short_diff OLD NEW: the objects that differ, "-port p1 ~subnet s1 +net x"
short_diff() {
	{ diff <(echo "$1") <(echo "$2") || true; } | awk '
		/^[<>]/ { k = $2 " " $3; if (!(k in seen)) order[n++] = k; seen[k] = seen[k] substr($1, 1, 1) }
		END { for (i = 0; i < n; i++) { k = order[i]; s = seen[k]
			printf "%s%s%s", i ? " " : "", (s == "<" ? "-" : s == ">" ? "+" : "~"), k } }'
}

# ---- steps: the commands of one operation ------------------------------------------
# step CMD...: run CMD unless an earlier step failed; count acknowledged
# steps; in the counting run, record the tree after each.
ACKED=0 FAILED="" FAILED_ERR="" COUNTING=0
declare -a VIEWS
step() {
	[ -z "$FAILED" ] || return 0
	local out st=0
	out=$(vn__run "$@" 2>&1) || st=$?
	if [ "$st" = 0 ]; then
		ACKED=$((ACKED + 1))
		[ "$COUNTING" = 1 ] && VIEWS[ACKED]=$(view)
	else
		FAILED=$(printf '%q ' "$@")
		FAILED_ERR="status $st: $out"
	fi
	return 0
}
# append FILE LINE: echo LINE >> FILE with a program that checks close()
# (a list is applied on flush; bash's echo ignores close's errno)
append() {
	timeout -k 3 "$VN_TIMEOUT" env printf '%s\n' "$2" >>"$1"
}

# ---- the operations: setup_NAME builds the starting state, op_NAME runs
# the operation's steps ------------------------------------------------------------
mknet() { # NET SUBNET CIDR
	vn_ok mkdir "$M/networks/$1" "$M/networks/$1/subnets/$2"
	vn_ok vn_w "$M/networks/$1/subnets/$2/cidr" "$3"
}

setup_create() { :; }
op_create() {
	step mkdir "$M/networks/cn"
	step mkdir "$M/networks/cn/subnets/cs"
	step vn_w "$M/networks/cn/subnets/cs/cidr" 10.20.0.0/24
	step mkdir "$M/networks/cn/ports/cp"
}

setup_rmdir_network() {
	mknet dn d1 10.30.1.0/24
	vn_ok mkdir "$M/networks/dn/subnets/d2"
	vn_ok vn_w "$M/networks/dn/subnets/d2/cidr" 10.30.2.0/24
	vn_ok mkdir "$M/networks/dn/ports/p1" "$M/networks/dn/ports/p2" "$M/networks/dn/ports/p3"
	vn_ok vn_w "$M/networks/dn/ports/p3/fixed_ips" "$(vn_lines "d1 10.30.1.33" "d2 10.30.2.33")"
	mknet keep k1 10.30.9.0/24
}
op_rmdir_network() { step rmdir "$M/networks/dn"; }

setup_rmdir_subnet() {
	mknet sn s1 10.31.1.0/24
	vn_ok mkdir "$M/networks/sn/subnets/s2"
	vn_ok vn_w "$M/networks/sn/subnets/s2/cidr" 10.31.2.0/24
	vn_ok mkdir "$M/networks/sn/ports/q1"
	vn_ok vn_w "$M/networks/sn/ports/q1/fixed_ips" "$(vn_lines "s1 10.31.1.10" "s2 10.31.2.10")"
}
op_rmdir_subnet() { step rmdir "$M/networks/sn/subnets/s1"; }

setup_router() {
	mknet ra ia 10.40.1.0/24
	mknet rb ib 10.40.2.0/24
	vn_ok mkdir "$M/routers/r"
}
setup_interface_add() {
	setup_router
	vn_ok append "$M/routers/r/interfaces" ia
	vn_ok vn_w "$M/routers/r/external_gateway" public
}
op_interface_add() { step append "$M/routers/r/interfaces" ib; }

setup_interface_remove() {
	setup_interface_add
	vn_ok append "$M/routers/r/interfaces" ib
}
op_interface_remove() { step vn_w "$M/routers/r/interfaces" ia; }

setup_gateway_set() {
	setup_router
	vn_ok append "$M/routers/r/interfaces" ia
	vn_ok append "$M/routers/r/interfaces" ib
}
op_gateway_set() { step vn_w "$M/routers/r/external_gateway" public; }

setup_gateway_clear() {
	setup_gateway_set
	vn_ok vn_w "$M/routers/r/external_gateway" public
}
op_gateway_clear() { step vn_w "$M/routers/r/external_gateway" ""; }

setup_router_create() { mknet ra ia 10.40.1.0/24; }
op_router_create() { step mkdir "$M/routers/r2"; }

setup_router_delete() {
	setup_router
	vn_ok vn_w "$M/routers/r/external_gateway" public
}
op_router_delete() { step rmdir "$M/routers/r"; }

# ---- the machinery --------------------------------------------------------------
# restore TEMPLATE: the daemon is down: the template state, and no router
# namespace but the template's (TPL_NS). The daemon's netns is kept:
# deleting a netns each run makes the kernel tear one down each time
# (seconds of rtnl_lock on a busy host); the start-up reconcile puts the
# template's links back and sweeps the rest. A qrouter- namespace the
# template does not know is not recorded as the daemon's, so the daemon
# leaves it alone by design: it is deleted here.
TPL_NS=""
drop_other_routers() {
	local h
	for h in /run/netns/qrouter-*; do
		[ -e "$h" ] || continue
		grep -qxF -- "${h##*/}" <<<"$TPL_NS" || ip netns del "${h##*/}" 2>/dev/null || true
	done
}
restore() {
	drop_other_routers
	rm -rf "$VN_STATE"
	cp -a "$1" "$VN_STATE"
}

# stop_quietly: SIGTERM, expect exit 0 (the leak check) and the unmount.
# The kernel sends FUSE RELEASE after the last close() returns, in the
# background: a SIGTERM right after a command can beat it, and the daemon
# then leaks that handle at exit (LeakSanitizer: vn_op_open). Give the
# releases a moment; that leak is the daemon's to fix, not this test's.
stop_quietly() {
	sleep 0.2
	VN_QUIET=1 vn_stop
}

# the N values to try out of COUNT points
pick_points() {
	local count=$1 all=$2 i
	if [ "$all" = all ] || [ "$count" -le "$MAX_POINTS" ]; then
		seq 1 "$count"
		return
	fi
	for ((i = 0; i < MAX_POINTS; i++)); do
		echo $((1 + i * (count - 1) / (MAX_POINTS - 1)))
	done | uniq
}

# settle: the start-up reconcile makes DHCP namespaces and starts dnsmasq
# off the lock, after the mount is up; once armed, its netlink calls would
# be counted as the operation's points (a kill there happens before the
# operation's command is sent: ENOTCONN, not ECONNABORTED). Wait until a
# dnsmasq of this daemon runs for every network with a DHCP subnet, then
# for its start to end (2 s at most, then 0.2 s).
dhcp_networks() {
	local n s
	for n in "$M"/networks/*/; do
		for s in "$n"subnets/*/; do
			[ -d "$s" ] || continue
			if [ "$(cat "$s/enable_dhcp")" = 1 ] && [ -n "$(cat "$s/cidr")" ]; then
				echo "$n"
				break
			fi
		done
	done | wc -l
}
settle() {
	local want i=0
	want=$(dhcp_networks)
	while [ "$(vn_dnsmasqs | wc -l)" -lt "$want" ] && [ "$i" -lt 20 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$want" = 0 ] || sleep 0.2
}

run_op() {
	local name=$1 all=${2:-sample} tpl=$VN_TMP/tpl-$1 count n got res k where detail after found=0 bad=0 ok_old=0 ok_new=0
	local -a notes=()
	echo "# ==== $name ===="
	# the template state (on a fresh state dir: the start-up sweep removes
	# the last operation's links, and no router namespace is left)
	TPL_NS=""
	drop_other_routers
	rm -rf "$VN_STATE" && mkdir -m 755 "$VN_STATE"
	VN_QUIET=1 vn_start_patient
	VN_QUIET=1 "setup_$name"
	TPL_NS=$(vn_model_router_namespaces)
	stop_quietly
	rm -rf "$tpl" && cp -a "$VN_STATE" "$tpl"

	# the counting run
	restore "$tpl"
	vn_crash_start 999999999
	settle
	vn_kernel_is_model "$name (the starting state)"
	VIEWS=() ACKED=0 FAILED="" FAILED_ERR="" COUNTING=1
	VIEWS[0]=$(view)
	rm -f "$VN_CRASH_LOG"
	vn_crash_arm
	"op_$name"
	vn_crash_disarm
	COUNTING=0
	count=$(vn_crash_points)
	cp "$VN_CRASH_LOG" "$VN_TMP/points-$name" 2>/dev/null || : >"$VN_TMP/points-$name"
	vn_eq "" "$FAILED" "$name: every step succeeds when nothing crashes ($FAILED_ERR)"
	vn_true "$name: the operation has mutation points ($count)" test "$count" -gt 0
	vn_kernel_is_model "$name (no crash)"
	routers_kernel "$name (no crash)"
	stop_quietly
	echo "# $name: $count points, $ACKED steps; the points:"
	sed 's/^/#   /' "$VN_TMP/points-$name"

	# every point (or a sample), killed before the call; and the last one
	# killed right after it returned ("N+")
	for n in $(pick_points "$count" "$all") "$count+"; do
		after=0
		[ "$n" != "${n%+}" ] && after=1
		detail=$(awk -v n="${n%+}" '$1 == n {$1 = ""; print substr($0, 2); exit}' "$VN_TMP/points-$name")
		[ "$after" = 1 ] && detail="after $detail" || detail="before $detail"
		where="$name@$n/$count ($detail)"
		restore "$tpl"
		VN_CRASH_AFTER=$after vn_crash_start "${n%+}"
		settle
		ACKED=0 FAILED="" FAILED_ERR=""
		rm -f "$VN_CRASH_LOG"
		vn_crash_arm
		# (bash's "Killed" notice for the daemon's job goes to /dev/null)
		"op_$name" 2>/dev/null
		vn_crash_disarm
		vn_crash_reap 2>/dev/null
		res=$VN_CRASH_RESULT
		if [ "$res" != killed ]; then
			vn__fail "$where: the daemon did not die at the point (it is: $res)"
			[ "$res" = alive ] && stop_quietly
			notes+=("N=$n: not killed ($res)")
			bad=$((bad + 1))
			continue
		fi
		vn__pass "$where: the daemon died by SIGKILL"
		case $name in
		interface_add) nat_whole "$where (before restart)" 10.40.1.0/24 "10.40.1.0/24 10.40.2.0/24" ;;
		interface_remove) nat_whole "$where (before restart)" "10.40.1.0/24 10.40.2.0/24" 10.40.1.0/24 ;;
		esac
		# the request in flight when the connection went is aborted
		# (ECONNABORTED); a command sent after it would see ENOTCONN
		vn_match 'Software caused connection abort' "$FAILED_ERR" \
			"$where: the command in flight (step $((ACKED + 1))) failed with ECONNABORTED as the daemon died"
		VN_QUIET=1 vn_start_patient
		got=$(view)
		if [ "$got" = "${VIEWS[ACKED]}" ]; then
			res="old"
		elif [ "$got" = "${VIEWS[ACKED + 1]:-<none>}" ]; then
			res="new"
		else
			res="HALF"
		fi
		k=$VN_FAIL
		if [ "$res" = HALF ]; then
			vn__fail "$where: the tree is neither the tree before step $((ACKED + 1)) nor the one after it
    diff (before step $((ACKED + 1)) vs found):
$({ diff <(echo "${VIEWS[ACKED]}") <(echo "$got") || true; } | grep '^[<>]' | head -n 10 | sed 's/^/      /')
    diff (after step $((ACKED + 1)) vs found):
$({ diff <(echo "${VIEWS[ACKED + 1]:-}") <(echo "$got") || true; } | grep '^[<>]' | head -n 10 | sed 's/^/      /')"
		else
			vn__pass "$where: after restart the tree is all $res (step $((ACKED + 1)) $([ "$res" = old ] && echo "not applied" || echo "applied"))"
			[ "$res" = old ] && ok_old=$((ok_old + 1)) || ok_new=$((ok_new + 1))
		fi
		VN_QUIET=1 vn_kernel_is_model "$where"
		VN_QUIET=1 routers_kernel "$where"
		# the state is thrown away: SIGKILL is quicker than SIGTERM (the
		# exit status and leak check are done once per operation)
		if [ "$n" = "$count+" ]; then
			stop_quietly
		else
			vn_kill9 2>/dev/null
		fi
		found=$((found + 1))
		[ "$res" = HALF ] && res+=" ($(short_diff "${VIEWS[ACKED]}" "$got"))"
		[ "$VN_FAIL" != "$k" ] && res+=" FAILED"
		echo "# $name N=$n/$count ${detail//$VN_TMP\//}: $res"
		if [ "$VN_FAIL" != "$k" ]; then
			bad=$((bad + 1))
			notes+=("N=$n $res;")
		fi
	done
	SUMMARY+=("$name: $count points, tried $found: $ok_old all-old, $ok_new all-new, $bad failed${notes[*]:+ — ${notes[*]}}")
}

OPS=(create rmdir_network rmdir_subnet interface_add interface_remove gateway_set gateway_clear router_create router_delete)
for op in "${OPS[@]}"; do
	[ -z "${VN_CRASH_ONLY:-}" ] || [ "$VN_CRASH_ONLY" = "$op" ] || continue
	case $op in
	rmdir_*) run_op "$op" all ;;
	*) run_op "$op" sample ;;
	esac
done

echo "# ==== summary ===="
for s in "${SUMMARY[@]}"; do echo "# $s"; done
vn_done
