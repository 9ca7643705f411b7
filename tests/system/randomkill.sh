#!/bin/bash
# SPDX-License-Identifier: MIT
# Random kills (issue 6): a few hundred random operations — mkdir/rmdir of
# networks, subnets and ports, cidr and mtu writes, routers, router
# interfaces added and removed, the external gateway set and cleared —
# from a seeded RNG, with the daemon SIGKILLed every ~20-40 operations.
# Most kills come from the crash shim (tests/crash/vn_crash.c) at a random
# mutation point, so they land inside an operation (a netlink send, a state
# write or sync); some come between operations. After every kill the daemon
# is started again (without the shim) and:
#   - every acknowledged operation (the command returned 0) is in the tree
#     with its value, and nothing else is: the tree is exactly the test's
#     model, or, for the one operation in flight at the kill (its command
#     failed with ENOTCONN/ECONNABORTED), the model with that operation
#     applied — never a part of it;
#   - a router's interfaces and its leg ports agree (no interface without
#     its leg, no leg without its interface; the gateway likewise);
#   - the kernel matches the tree (vn_kernel_is_model).
# The test reads only the file tree and the kernel, never the state files.
#
# Environment: VN_SEED=N replays a run (the seed is printed; the kill
# points are mutation counts, so a replay kills at the same places);
# VN_RANDOM_OPS=N operations (default 300); VN_KILL_TIMER=1 adds rounds
# killed by a background timer at any moment (not replayable).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
vn_crash_setup
M=$VN_MNT

SEED=${VN_SEED:-$(((($(date +%s%N) / 1000) ^ $$) % 1000000))}
NOPS=${VN_RANDOM_OPS:-300}
RANDOM=$SEED
echo "# seed $SEED (replay with VN_SEED=$SEED), $NOPS operations"

# ---- random choices (in this shell only: $RANDOM in a subshell does not
# advance ours) ---------------------------------------------------------------------
rnd() { R=$((RANDOM % $1)); } # R = 0 .. $1-1
# pick WORDS...: R = one of the words ("" if none)
pick() {
	if [ $# = 0 ]; then
		R=""
		return
	fi
	local i=$((RANDOM % $#))
	shift "$i"
	R=$1
}

# ---- the model: what the acknowledged operations made, one line an object
#   net NAME mtu=MTU
#   subnet NAME net=NET cidr=CIDR
#   port NET/NAME
#   router NAME gateway=NET
#   if ROUTER SUBNET
# (public, its subnet and the flavors are in the starting tree; public is
# part of the model, flavors are not looked at.)
MODEL=""
m_sorted() { LC_ALL=C sort -u | sed '/^$/d'; }
m_list() { awk -v t="$1" '$1 == t {print $2}' <<<"$MODEL"; }
m_has() { grep -qxF -- "$1" <<<"$MODEL"; }
m_get() { # m_get TYPE NAME KEY: the value of KEY= on that line
	awk -v t="$1" -v n="$2" -v k="$3=" '$1 == t && $2 == n {for (i = 3; i <= NF; i++) if (index($i, k) == 1) print substr($i, length(k) + 1)}' <<<"$MODEL"
}
# model_apply MODEL OP...: the model after the operation, on stdout
model_apply() {
	local m=$1 op=$2 a=${3:-} b=${4:-}
	set -- "$a" "$b"
	case $op in
	mknet) printf '%s\nnet %s mtu=1500\n' "$m" "$1" ;;
	rmnet)
		local subs
		subs=$(awk -v n="net=$1" '$1 == "subnet" && $3 == n {print $2}' <<<"$m" | xargs)
		awk -v n="$1" -v subs=" $subs " '
			$1 == "net" && $2 == n {next}
			$1 == "subnet" && $3 == "net=" n {next}
			$1 == "port" && index($2, n "/") == 1 {next}
			$1 == "if" && index(subs, " " $3 " ") {next}
			{print}' <<<"$m"
		;;
	mtu) awk -v n="$1" -v v="$2" '$1 == "net" && $2 == n {$3 = "mtu=" v} {print}' <<<"$m" ;;
	mksub) printf '%s\nsubnet %s net=%s cidr=\n' "$m" "$1" "$2" ;;
	cidr) awk -v s="$1" -v c="$2" '$1 == "subnet" && $2 == s {$4 = "cidr=" c} {print}' <<<"$m" ;;
	rmsub) awk -v s="$1" '($1 == "subnet" && $2 == s) || ($1 == "if" && $3 == s) {next} {print}' <<<"$m" ;;
	mkport) printf '%s\nport %s/%s\n' "$m" "$1" "$2" ;;
	rmport) grep -vxF -- "port $1/$2" <<<"$m" || true ;;
	mkrouter) printf '%s\nrouter %s gateway=\n' "$m" "$1" ;;
	rmrouter) awk -v r="$1" '($1 == "router" || $1 == "if") && $2 == r {next} {print}' <<<"$m" ;;
	ifadd) printf '%s\nif %s %s\n' "$m" "$1" "$2" ;;
	ifdel) grep -vxF -- "if $1 $2" <<<"$m" || true ;;
	gateway) awk -v r="$1" -v g="$2" '$1 == "router" && $2 == r {$3 = "gateway=" g} {print}' <<<"$m" ;;
	*) echo "model_apply: unknown operation $op" >&2 ;;
	esac | m_sorted
}

# ---- the tree in the model's words -------------------------------------------------
# Router legs are not "port" lines: a router's interface shows as "if R S"
# only when its leg port is there too, else "if R S NO-LEG-PORT"; a leg
# port without its interface (or gateway) shows as "leg-without-interface".
# A network's DHCP port is no "port" line either: it shows as "dhcp-port"
# only when it is there without a DHCP subnet with a cidr, or missing with one.
tree_view() {
	local n p s r owner ips sub
	declare -A legs=() gws=()
	for n in "$M"/networks/*/; do
		[ -d "$n" ] || continue
		n=${n%/}
		echo "net ${n##*/} mtu=$(vn_cat "$n/mtu")"
		local dhcp_want=no dhcp_have=no
		for s in "$n"/subnets/*/; do
			[ -d "$s" ] || continue
			s=${s%/}
			echo "subnet ${s##*/} net=${n##*/} cidr=$(vn_cat "$s/cidr")"
			# (every subnet here is IPv4; public-subnet has enable_dhcp 0)
			[ -n "$(vn_cat "$s/cidr")" ] && [ "$(vn_cat "$s/enable_dhcp")" = 1 ] && dhcp_want=yes
		done
		for p in "$n"/ports/*/; do
			[ -d "$p" ] || continue
			p=${p%/}
			owner=$(vn_cat "$p/device_owner")
			case $owner in
			router_interface:*)
				ips=$(vn_cat "$p/fixed_ips")
				sub=${ips%% *}
				legs["${owner#router_interface:} $sub"]=1
				;;
			router_gateway:*) gws["${owner#router_gateway:}"]=${n##*/} ;;
			network:dhcp) dhcp_have=yes ;;
			"") echo "port ${n##*/}/${p##*/}" ;;
			*) echo "port ${n##*/}/${p##*/} owner=$owner" ;;
			esac
		done
		# a network's DHCP port is there exactly while a DHCP subnet has a cidr
		[ "$dhcp_want" = "$dhcp_have" ] || echo "dhcp-port ${n##*/} have=$dhcp_have want=$dhcp_want"
	done
	for r in "$M"/routers/*/; do
		[ -d "$r" ] || continue
		r=${r%/}
		r=${r##*/}
		local gw
		gw=$(vn_cat "$M/routers/$r/external_gateway")
		echo "router $r gateway=$gw"
		[ "${gws[$r]:-}" = "$gw" ] || echo "gateway-leg $r in=${gws[$r]:-none} want=${gw:-none}"
		unset "gws[$r]"
		for s in $(vn_cat "$M/routers/$r/interfaces"); do
			if [ -n "${legs["$r $s"]:-}" ]; then
				echo "if $r $s"
				unset "legs[$r $s]"
			else
				echo "if $r $s NO-LEG-PORT"
			fi
		done
	done
	for s in "${!legs[@]}"; do echo "leg-without-interface $s"; done
	for s in "${!gws[@]}"; do echo "gateway-leg-without-router $s in=${gws[$s]}"; done
} 2>&1

# ---- operations ----------------------------------------------------------------------
NETS="n0 n1 n2 n3 n4 n5"
SUBS="s0 s1 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11"
PORTS="p0 p1 p2 p3"
ROUTERS="r0 r1"
MTUS="1280 1400 1450 1500 1600 9000"

# choose_op: sets OP (words: the model operation and its arguments) and CMD
# (the command: an array) from the model and the RNG; "" if the choice
# finds nothing to act on.
choose_op() {
	local nets subs n s p r c free
	OP="" CMD=()
	nets=$(m_list net)
	rnd 100
	if [ "$R" -lt 10 ]; then # mkdir network
		free=$(comm -23 <(xargs -n1 <<<"$NETS" | sort) <(sort <<<"$nets"))
		pick $free
		[ -n "$R" ] || return 0
		OP="mknet $R" CMD=(mkdir "$M/networks/$R")
	elif [ "$R" -lt 16 ]; then # rmdir network (not public)
		pick $(grep -vx public <<<"$nets" || true)
		[ -n "$R" ] || return 0
		OP="rmnet $R" CMD=(rmdir "$M/networks/$R")
	elif [ "$R" -lt 28 ]; then # mtu
		pick $nets
		n=$R
		pick $MTUS
		OP="mtu $n $R" CMD=(vn_w "$M/networks/$n/mtu" "$R")
	elif [ "$R" -lt 40 ]; then # mkdir subnet
		free=$(comm -23 <(xargs -n1 <<<"$SUBS" | sort) <(m_list subnet | sort))
		pick $free
		s=$R
		pick $(grep -vx public <<<"$nets" || true)
		[ -n "$s" ] && [ -n "$R" ] || return 0
		OP="mksub $s $R" CMD=(mkdir "$M/networks/$R/subnets/$s")
	elif [ "$R" -lt 52 ]; then # cidr on a subnet without one
		pick $(awk '$1 == "subnet" && $4 == "cidr=" {print $2}' <<<"$MODEL")
		[ -n "$R" ] || return 0
		c="10.77.${R#s}.0/24"
		OP="cidr $R $c" CMD=(vn_w "$M/networks/$(m_get subnet "$R" net)/subnets/$R/cidr" "$c")
	elif [ "$R" -lt 58 ]; then # rmdir subnet
		pick $(m_list subnet | grep -vx public-subnet || true)
		[ -n "$R" ] || return 0
		OP="rmsub $R" CMD=(rmdir "$M/networks/$(m_get subnet "$R" net)/subnets/$R")
	elif [ "$R" -lt 70 ]; then # mkdir port
		pick $(grep -vx public <<<"$nets" || true)
		n=$R
		[ -n "$n" ] || return 0
		free=$(comm -23 <(xargs -n1 <<<"$PORTS" | sort) <(m_list port | awk -F/ -v n="$n" '$1 == n {print $2}' | sort))
		pick $free
		[ -n "$R" ] || return 0
		OP="mkport $n $R" CMD=(mkdir "$M/networks/$n/ports/$R")
	elif [ "$R" -lt 76 ]; then # rmdir port
		pick $(m_list port)
		[ -n "$R" ] || return 0
		OP="rmport ${R%/*} ${R#*/}" CMD=(rmdir "$M/networks/${R%/*}/ports/${R#*/}")
	elif [ "$R" -lt 80 ]; then # mkdir or rmdir router
		pick $ROUTERS
		if m_list router | grep -qx "$R"; then
			OP="rmrouter $R" CMD=(rmdir "$M/routers/$R")
		else
			OP="mkrouter $R" CMD=(mkdir "$M/routers/$R")
		fi
	elif [ "$R" -lt 90 ]; then # interface add: a subnet with a cidr on no router
		pick $(m_list router)
		r=$R
		pick $(comm -23 <(awk '$1 == "subnet" && $4 != "cidr=" && $2 != "public-subnet" {print $2}' <<<"$MODEL" | sort) \
			<(awk '$1 == "if" {print $3}' <<<"$MODEL" | sort))
		[ -n "$r" ] && [ -n "$R" ] || return 0
		OP="ifadd $r $R" CMD=(append "$M/routers/$r/interfaces" "$R")
	elif [ "$R" -lt 96 ]; then # interface remove: rewrite the list without it
		pick $(awk '$1 == "if" {print $2 "/" $3}' <<<"$MODEL")
		[ -n "$R" ] || return 0
		r=${R%/*} s=${R#*/}
		OP="ifdel $r $s" CMD=(vn_w "$M/routers/$r/interfaces"
			"$(awk -v r="$r" -v s="$s" '$1 == "if" && $2 == r && $3 != s {print $3}' <<<"$MODEL")")
	else # gateway set or clear
		pick $(m_list router)
		[ -n "$R" ] || return 0
		if [ -n "$(m_get router "$R" gateway)" ]; then
			OP="gateway $R" CMD=(vn_w "$M/routers/$R/external_gateway" "")
		else
			OP="gateway $R public" CMD=(vn_w "$M/routers/$R/external_gateway" public)
		fi
	fi
}

# append FILE LINE: echo LINE >> FILE by a program that checks close()
append() {
	timeout -k 3 "$VN_TIMEOUT" env printf '%s\n' "$2" >>"$1"
}

# ---- the run ---------------------------------------------------------------------------
vn_start_patient
MODEL=$(tree_view | m_sorted)
vn_eq "$(vn_lines "net public mtu=1500" "subnet public-subnet net=public cidr=172.24.4.0/24")" "$MODEL" \
	"the starting tree is public and its subnet"
vn_stop

done_ops=0 round=0 acked=0 refused=0 kills_mid=0 kills_between=0 inflight_applied=0 inflight_dropped=0
PER_OP=8        # mutation points per operation, measured as the run goes
US_PER_OP=40000 # microseconds per operation, likewise
declare -A ERRNOS=()
while [ "$done_ops" -lt "$NOPS" ]; do
	round=$((round + 1))
	rnd 21
	k=$((20 + R)) # operations in this round
	# between: SIGKILL after k operations; mid: at a random mutation point
	# of any operation, some way into the round; compound: at a random
	# point of the multi-object operations in the second half of the round
	# only (the shim counts only while armed, and is armed only for them)
	# timer (with VN_KILL_TIMER=1): SIGKILL from a background timer at a
	# moment some way into the round, wherever the daemon is (such a kill
	# lands anywhere, so a replay differs after the first timer round)
	if [ "${VN_KILL_TIMER:-0}" = 1 ]; then rnd 5; else rnd 4; fi
	case $R in
	0) mode=between at=0 ;;
	4) mode=timer at=0 ;;
	1)
		mode=mid
		rnd $((k * PER_OP / 2 + 1))
		at=$((k * PER_OP / 2 + R + 1))
		;;
	*)
		mode=compound
		rnd 30
		at=$((R + 1))
		;;
	esac
	VN_QUIET=1 vn_crash_start "$at"
	rm -f "$VN_CRASH_LOG"
	[ "$mode" = compound ] || vn_crash_arm
	inflight="" hung="" ops_round=0 timer=""
	t0=${EPOCHREALTIME/./}
	if [ "$mode" = timer ]; then
		rnd 51
		delay=$((US_PER_OP * k * (50 + R) / 100))
		(
			sleep "$((delay / 1000000)).$(printf '%06d' $((delay % 1000000)))"
			kill -KILL "$VN_PID"
		) 2>/dev/null &
		timer=$!
	fi
	while [ "$ops_round" -lt $((k * 3)) ] && [ "$done_ops" -lt "$NOPS" ]; do
		[ "$mode" = between ] && [ "$ops_round" -ge "$k" ] && break
		choose_op
		[ -n "$OP" ] || continue
		ops_round=$((ops_round + 1))
		done_ops=$((done_ops + 1))
		st=0
		if [ "$mode" = compound ] && [ "$ops_round" -gt $((k / 2)) ]; then
			case $OP in rmnet* | rmsub* | cidr* | ifadd* | ifdel* | gateway* | rmrouter*) vn_crash_arm ;; esac
		fi
		# (bash's "Killed" notice for the daemon's job goes to /dev/null)
		{
			out=$(vn__run "${CMD[@]}" 2>&1) || st=$?
			[ "$mode" != compound ] || vn_crash_disarm
		} 2>/dev/null
		if [ "$st" = 0 ]; then
			MODEL=$(model_apply "$MODEL" $OP)
			acked=$((acked + 1))
		elif [[ $out == *"Transport endpoint is not connected"* || $out == *"Software caused connection abort"* ]]; then
			inflight=$OP
			vn_crash_reap 2>/dev/null
			break
		elif [ "$st" = 124 ] || [ "$st" = 137 ]; then
			# no operation may hang; this one may still land: end the round
			# here and accept it whole or not at all
			vn__fail "round $round: '$OP' did not return within $VN_TIMEOUT s"
			inflight=$OP hung=1
			break
		else
			refused=$((refused + 1))
			echo "# refused: $OP: status $st: $out" >>"$VN_TMP/refused"
			e=${out##*: }
			[ -n "$e" ] || e="status $st, no message"
			ERRNOS["$e"]=$((${ERRNOS["$e"]:-0} + 1))
		fi
	done
	if [ -n "$timer" ]; then
		kill "$timer" 2>/dev/null || true
		wait "$timer" 2>/dev/null || true
	fi
	pts=$(vn_crash_points)
	[ "$mode" != compound ] && [ "$ops_round" -gt 0 ] && [ "$pts" -gt 0 ] && PER_OP=$(((pts + ops_round - 1) / ops_round))
	[ "$mode" != timer ] && [ "$ops_round" -gt 0 ] && US_PER_OP=$(((${EPOCHREALTIME/./} - t0) / ops_round))
	vn_crash_disarm
	if [ -n "$inflight" ] && [ -z "$hung" ]; then
		if [ "$mode" = timer ]; then
			vn_eq killed "$VN_CRASH_RESULT" "round $round: the daemon died by SIGKILL from the timer ($((delay / 1000)) ms)"
		else
			vn_eq killed "$VN_CRASH_RESULT" "round $round: the daemon died by SIGKILL at point $at ($(tail -n 1 "$VN_CRASH_LOG" | cut -d' ' -f2- | sed "s|$VN_TMP/||"))"
		fi
		kills_mid=$((kills_mid + 1))
	else
		if [ "$mode" != between ] && [ -z "$hung" ] && ! vn_alive; then
			vn_crash_reap 2>/dev/null
			vn__fail "round $round: the daemon died ($VN_CRASH_RESULT) but no operation failed with ENOTCONN"
		else
			vn_kill9 2>/dev/null
		fi
		kills_between=$((kills_between + 1))
	fi
	VN_QUIET=1 vn_start_patient
	got=$(tree_view | m_sorted)
	label="round $round (after $done_ops operations, $acked acknowledged, kill $mode${inflight:+ during '$inflight'})"
	if [ "$got" = "$MODEL" ]; then
		vn__pass "$label: the tree is every acknowledged operation$([ -n "$inflight" ] && echo ", without the one in flight")"
		[ -n "$inflight" ] && inflight_dropped=$((inflight_dropped + 1))
		res=ok${inflight:+", in flight: not applied"}
	elif [ -n "$inflight" ] && [ "$got" = "$(model_apply "$MODEL" $inflight)" ]; then
		vn__pass "$label: the tree is every acknowledged operation and the one in flight, whole"
		MODEL=$got
		inflight_applied=$((inflight_applied + 1))
		res="ok, in flight: applied whole"
	else
		res="FAILED: $({ diff <(echo "$MODEL") <(echo "$got") || true; } | grep '^[<>]' | head -n 4 | tr '\n' ';')"
		vn__fail "$label: the tree is not the acknowledged model$([ -n "$inflight" ] && echo " (with or without '$inflight')")
    model vs tree:
$({ diff <(echo "$MODEL") <(echo "$got") || true; } | grep '^[<>]' | head -n 12 | sed 's/^/      /')"
		# go on from what is there, so one failure is reported once
		MODEL=$(grep -v -e NO-LEG-PORT -e '^leg-' -e '^gateway-leg' <<<"$got" || true)
	fi
	k=$VN_FAIL
	VN_QUIET=1 vn_kernel_is_model "$label"
	[ "$VN_FAIL" = "$k" ] || res+=" KERNEL MISMATCH"
	how="between operations"
	if [ -n "$inflight" ]; then
		case $mode in
		mid | compound) how="at point $at ($(tail -n 1 "$VN_CRASH_LOG" 2>/dev/null | cut -d' ' -f2- | sed "s|$VN_TMP/||; s/ KILL$//")) during '$inflight'" ;;
		timer) how="by the timer after $((delay / 1000)) ms during '$inflight'" ;;
		esac
	fi
	echo "# round $round: $ops_round ops ($done_ops in all), $mode kill $how: $res"
	# (FUSE releases arrive in the background after close(): let them land
	# before the leak-checked SIGTERM, see crashpoints.sh)
	sleep 0.2
	VN_QUIET=1 vn_stop
done

why=""
for e in "${!ERRNOS[@]}"; do why+="${ERRNOS[$e]} $e; "; done
echo "# seed $SEED: $done_ops operations in $round rounds: $acked acknowledged, $refused refused (${why%; }), $kills_mid kills inside an operation ($inflight_applied applied whole, $inflight_dropped not at all), $kills_between between operations"
[ -f "$VN_TMP/refused" ] && sort "$VN_TMP/refused" | head -n 20
vn_true "most operations were acknowledged ($acked of $done_ops)" test "$acked" -ge $((done_ops / 2))
vn_true "some kills landed inside an operation ($kills_mid)" test "$kills_mid" -ge 1
vn_start_patient
vn_done
