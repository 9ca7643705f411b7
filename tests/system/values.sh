#!/bin/bash
# SPDX-License-Identifier: MIT
# Issue 8, values: a value reads back byte for byte as written (final
# newline or not, so Ansible's copy/template converge); `>>` of a line
# already there succeeds for every list; ifname refuses the daemon's own
# prefixes and the daemon never deletes an interface it did not make;
# error sentences escape unprintable bytes; every refusal has a sentence
# (the object's error, the parent's error for a refused name, the
# top-level `errors`); the daemon's --log file.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
command -v setpriv >/dev/null || vn__skip "setpriv (util-linux) is missing"
vn_start -o allow_other

M=$VN_MNT

# vn_bytes FILE: the exact content, trailing newlines kept, as %q
vn_bytes() {
	local v
	v=$(timeout -k 3 "$VN_TIMEOUT" cat -- "$1" 2>&1; printf x) || true
	printf '%q' "${v%x}"
}
q() { printf '%q' "$1"; }

# ---- read back what was written ---------------------------------------------------
N=$M/networks/v1
vn_ok mkdir "$N"
br=$(vn_cat "$N/bridge")
vn_eq "$(q $'1500\n')" "$(vn_bytes "$N/mtu")" "a default reads with a final newline"
vn_ok vn_wn "$N/mtu" 1400
vn_eq "$(q 1400)" "$(vn_bytes "$N/mtu")" "1400 written without a newline reads back without one"
vn_eq 4 "$(vn_size "$N/mtu")" "... and stat says 4 bytes"
vn_eq 1400 "$(vn_link_mtu "$br")" "... and the bridge has mtu 1400"
vn_eq 1400 "$(vn_json_get "$N/json" .mtu)" "json has the number 1400"
vn_ok vn_w "$N/mtu" 1400
vn_eq "$(q $'1400\n')" "$(vn_bytes "$N/mtu")" "1400\\n over 1400 reads back with the newline (the last write's)"
vn_eq 5 "$(vn_size "$N/mtu")" "... stat says 5 bytes"
vn_ok vn_wn "$N/mtu" 1400
vn_eq "$(q 1400)" "$(vn_bytes "$N/mtu")" "1400 over 1400\\n: no newline again"
vn_eq 1400 "$(vn_link_mtu "$br")" "bridge mtu still 1400"
vn_ok vn_wn "$N/mtu" 1500
vn_eq "$(q 1500)" "$(vn_bytes "$N/mtu")" "the default's value written without a newline reads without one"
vn_ok rm "$N/mtu"
vn_eq "$(q $'1500\n')" "$(vn_bytes "$N/mtu")" "rm: the default, with a newline"
vn_ok vn_wn "$N/mtu" 1450
vn_ok vn_wn "$N/mtu" ""
vn_eq "$(q $'1500\n')" "$(vn_bytes "$N/mtu")" "an empty write: the default, with a newline"
vn_ok vn_wn "$N/admin_state" down
vn_eq "$(q down)" "$(vn_bytes "$N/admin_state")" "an enum without a newline"
vn_ok vn_wn "$N/admin_state" DOWN
vn_eq "$(q down)" "$(vn_bytes "$N/admin_state")" "an enum in another case reads in its canonical form"
vn_ok vn_w "$N/admin_state" up

# lists
vn_ok mkdir "$N/subnets/s1"
S=$N/subnets/s1
vn_ok vn_w "$S/cidr" 10.30.0.0/24
vn_ok vn_wn "$S/dns_nameservers" $'10.30.0.53\n10.30.0.54'
vn_eq "$(q $'10.30.0.53\n10.30.0.54')" "$(vn_bytes "$S/dns_nameservers")" "a list without a final newline reads back without one"
vn_ok vn_a "$S/dns_nameservers" 10.30.0.55
vn_eq "$(q $'10.30.0.53\n10.30.0.54\n10.30.0.55\n')" "$(vn_bytes "$S/dns_nameservers")" ">> a line: each line ends in a newline"
vn_ok vn_a "$S/dns_nameservers" 10.30.0.53
vn_eq "$(q $'10.30.0.53\n10.30.0.54\n10.30.0.55\n')" "$(vn_bytes "$S/dns_nameservers")" ">> of a line already there changes nothing"

# ---- ifname: the daemon's prefixes are refused --------------------------------------
P=$N/ports/pv
vn_ok mkdir "$P"
for bad in vnb-x vnp-x vnr-x vng-x qr-x qg-x qdhcp0 tap0 ns-x; do
	vn_expect_fail EINVAL vn_w "$P/ifname" "$bad"
	vn_match "ifname '$bad' starts with '.*', which vnetfs keeps" "$(vn_cat "$P/error")" "ifname $bad: the sentence names the prefix"
done
vn_eq eth0 "$(vn_cat "$P/ifname")" "ifname unchanged by the refused names"
vn_ok vn_w "$P/ifname" qrx0
vn_eq "" "$(vn_cat "$P/error")" "... but not names that merely look alike (qrx0)"
vn_ok vn_w "$P/ifname" eth0

# ---- the daemon never deletes an interface it did not make --------------------------
vn_host vh1
vn_ok vn_w "$P/netns" /run/netns/vh1
vn_eq vnetfs "$(ip -n vh1 -j -d link show dev eth0 | jq -r '.[0].ifalias')" "the daemon marks the veth end it made (ifalias vnetfs)"
dev=$(vn_cat "$P/device")
vn_eq vnetfs "$(vn_link_json "$dev" | jq -r '.[0].ifalias')" "... and the host end"
# the user renames the daemon's eth0 and puts an interface of their own under the name
ip -n vh1 link set eth0 name eth9
ip -n vh1 link add eth0 type veth peer name eth0u
mine=$(ip -n vh1 -j link show dev eth0 | jq -r '.[0].ifindex')
# every port of the network is plugged again: the write is refused, whole
vn_expect_fail EEXIST vn_w "$N/mtu" 1460
vn_eq "$mine veth" "$(ip -n vh1 -j -d link show dev eth0 | jq -r '"\(.[0].ifindex) \(.[0].linkinfo.info_kind)"')" "the user's own eth0 is still there, untouched"
vn_eq 1500 "$(vn_cat "$N/mtu")" "the network's mtu is unchanged"
vn_eq 1500 "$(vn_link_mtu "$br")" "... and so is its bridge's"
vn_match "eth0 .*not made by vnetfs and is left alone" "$(vn_cat "$N/error")" "the network's error says why"
vn_match "eth0 .*not made by vnetfs and is left alone" "$(vn_cat "$P/error")" "so does the port's"
ip -n vh1 link del eth0 # and its peer eth0u
ip -n vh1 link set eth9 name eth0
vn_ok vn_w "$N/mtu" 1460
vn_eq "1460 $dev vnetfs" "$(ip -n vh1 -j -d link show dev eth0 | jq -r '"\(.[0].mtu) "')$(vn_cat "$P/device") $(ip -n vh1 -j -d link show dev eth0 | jq -r '.[0].ifalias')" "once the name is free the port follows the network again"
vn_eq ACTIVE "$(vn_cat "$P/status")" "... and is ACTIVE"
vn_ok vn_w "$P/netns" ""

# ---- errors a person can read --------------------------------------------------------
NB=65534
as_nobody() {
	timeout -k 3 20 setpriv --reuid=$NB --regid=$NB --clear-groups "$@"
}
vn_expect_fail EINVAL vn_wn "$N/mtu" $'\xef\xbb\xbf1427'
vn_eq "mtu must be an integer from 68 to 9000, not '\\xef\\xbb\\xbf1427'" "$(vn_cat "$N/error")" "a BOM is shown as C escapes"
vn_expect_fail EINVAL vn_wn "$N/mtu" $'14\t00'
vn_eq "mtu must be an integer from 68 to 9000, not '14\\t00'" "$(vn_cat "$N/error")" "a tab is shown as \\t"
vn_expect_fail EINVAL vn_wn "$N/mtu" $'\xe2\x80\x8b1400\xff'
vn_eq "mtu must be an integer from 68 to 9000, not '\\xe2\\x80\\x8b1400\\xff'" "$(vn_cat "$N/error")" "a zero-width space and a byte that is not UTF-8 are escaped"
vn_expect_fail EINVAL vn_wn "$N/mtu" 'café'
vn_eq "mtu must be an integer from 68 to 9000, not 'café'" "$(vn_cat "$N/error")" "printable UTF-8 is kept as it is"
vn_expect_fail EINVAL vn_wn "$N/admin_state" 'a\x1bb'
vn_eq "admin_state must be one of up or down, not 'a\\x1bb'" "$(vn_cat "$N/error")" "a backslash is kept (escaping twice changes nothing)"
vn_expect_fail EINVAL mkdir "$M/networks/"$'bad\x1b[31mname'
vn_match "^[0-9T:.-]+Z uid=0 /networks/bad\\\\x1b\\[31mname: 'bad\\\\x1b\\[31mname' is not a valid name" "$(tail -n 1 "$M/errors")" "a refused top-level mkdir is in errors, escaped"

# truncate to a size other than 0
mtu_before=$(vn_bytes "$N/mtu")
vn_expect_fail EINVAL truncate -s 2 "$N/mtu"
vn_match "^mtu: truncate to 2 bytes is not a value" "$(vn_cat "$N/error")" "truncate -s 2: the sentence is in the object's error"
vn_eq "$mtu_before" "$(vn_bytes "$N/mtu")" "truncate -s 2 changed nothing"
vn_match "uid=0 /networks/v1/mtu: mtu: truncate to 2 bytes is not a value.* \\(Invalid argument\\)$" "$(tail -n 1 "$M/errors")" "... and in errors, with the path"
vn_ok truncate -s 0 "$N/mtu"
vn_eq "$(q $'1500\n')" "$(vn_bytes "$N/mtu")" "truncate -s 0 still empties a value (its default)"

# a refused name below an object: the parent's error
vn_expect_fail EINVAL mkdir "$N/subnets/bad name"
vn_match "'bad name' is not a valid name" "$(vn_cat "$N/error")" "a refused subnet name is in the network's error"
vn_match "uid=0 /networks/v1/subnets/bad name: 'bad name' is not a valid name" "$(tail -n 1 "$M/errors")" "... and in errors"

# the errors file: each user sees their own, root all
vn_expect_fail EINVAL as_nobody mkdir "$M/networks/nb bad"
vn_expect_fail EACCES as_nobody sh -c "echo 1400 > '$N/mtu'"
vn_ok as_nobody mkdir "$M/networks/nbnet"
vn_expect_fail EINVAL as_nobody sh -c "/usr/bin/printf 5 > '$M/networks/nbnet/mtu'"
nbs=$(as_nobody cat "$M/errors")
vn_eq 3 "$(printf '%s\n' "$nbs" | grep -c .)" "nobody reads three lines in errors: its own refusals"
vn_eq "" "$(printf '%s\n' "$nbs" | grep -v " uid=$NB " || true)" "... none of another user's"
vn_match "uid=$NB /networks/nb bad: 'nb bad' is not a valid name" "$(printf '%s\n' "$nbs" | head -n 1)" "nobody's refused mkdir"
vn_match "uid=$NB /networks/v1/mtu: only its owner \(uid 0\) or root may change network 'v1' \(Permission denied\)" "$(printf '%s\n' "$nbs" | sed -n 2p)" "nobody's write to root's network: EACCES, told in errors"
vn_eq "" "$(vn_cat "$N/error" | grep -i owner || true)" "... not in the object's error (nobody may not fill it)"
vn_match "uid=$NB /networks/nbnet/mtu: mtu must be an integer from 68 to 9000, not '5'" "$(printf '%s\n' "$nbs" | tail -n 1)" "nobody's refused write"
vn_match "uid=$NB /networks/nb bad" "$(cat "$M/errors")" "root sees nobody's refusals too"
vn_match "uid=0 /networks/v1/mtu" "$(cat "$M/errors")" "... and its own"
vn_eq "0 -r--r--r--" "$(stat -c '%s %A' "$M/errors")" "errors: mode 0444, size 0 (its content depends on the reader)"
vn_expect_fail EPERM rm "$M/errors"
vn_expect_fail EACCES sh -c "echo x > '$M/errors'"
vn_match "errors" "$(ls "$M")" "ls shows errors at the top"
vn_expect_fail EACCES as_nobody mkdir "$N/subnets/nbsub"
vn_match "uid=$NB /networks/v1/subnets/nbsub: only its owner \(uid 0\) or root may change network 'v1'" "$(as_nobody tail -n 1 "$M/errors")" "a non-owner's mkdir: told in errors"
vn_expect_fail EACCES sh -c "echo x > '$M/networks/v1/bridge'"
vn_match "uid=0 /networks/v1/bridge: bridge is read-only \(Permission denied\)" "$(tail -n 1 "$M/errors")" "writing a read-only attribute: told in errors"
vn_ok rmdir "$M/networks/nbnet"

# ---- Ansible: copy and template converge (second run changed=0) ------------------
if command -v ansible-playbook >/dev/null; then
	A=$M/networks/ans
	vn_ok mkdir "$A"
	vn_ok mkdir "$A/subnets/as"
	vn_ok vn_w "$A/subnets/as/cidr" 10.31.0.0/24
	export ANSIBLE_LOCAL_TEMP=$VN_TMP/ans-local ANSIBLE_REMOTE_TEMP=$VN_TMP/ans-remote \
		ANSIBLE_HOME=$VN_TMP/ans-home ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0
	printf '%s\n%s\n' '{{ ns1 }}' '{{ ns2 }}' >"$VN_TMP/ns.j2"
	printf '%s' '{{ state }}' >"$VN_TMP/state.j2"
	cat >"$VN_TMP/pb.yml" <<PB
- hosts: localhost
  connection: local
  gather_facts: false
  vars: {ns1: 10.31.0.53, ns2: 10.31.0.54, state: down}
  tasks:
    - copy: {content: "1400", dest: "$A/mtu"}
    - template: {src: "$VN_TMP/ns.j2", dest: "$A/subnets/as/dns_nameservers"}
    - template: {src: "$VN_TMP/state.j2", dest: "$A/admin_state"}
PB
	# recap: "localhost : ok=3 changed=N ..."
	ans_changed() {
		local out
		out=$(timeout -k 3 120 ansible-playbook -i localhost, "$@" "$VN_TMP/pb.yml" 2>&1) || {
			printf 'failed: %s' "$out" | tail -5
			return 0
		}
		printf '%s\n' "$out" | sed -n 's/^localhost *: .*changed=\([0-9]*\).*failed=\([0-9]*\).*/changed=\1 failed=\2/p'
	}
	vn_eq "changed=3 failed=0" "$(ans_changed --check)" "ansible --check on a fresh network: 3 to change"
	vn_eq "$(q $'1500\n')" "$(vn_bytes "$A/mtu")" "--check changed nothing"
	vn_eq "changed=3 failed=0" "$(ans_changed)" "ansible run 1 changes 3 files"
	vn_eq "$(q 1400)" "$(vn_bytes "$A/mtu")" "copy content 1400 reads back as 1400"
	vn_eq 1400 "$(vn_link_mtu "$(vn_cat "$A/bridge")")" "the bridge has mtu 1400"
	vn_eq "$(q $'10.31.0.53\n10.31.0.54\n')" "$(vn_bytes "$A/subnets/as/dns_nameservers")" "the template's list reads back as rendered"
	vn_eq down "$(vn_cat "$A/admin_state")" "the template set admin_state down"
	vn_eq "changed=0 failed=0" "$(ans_changed)" "ansible run 2 changes nothing"
	vn_eq "changed=0 failed=0" "$(ans_changed --check)" "ansible --check after it: nothing to change"
	vn_eq "" "$(vn_ls "$A" | grep -v -x -E 'id|status|error|json|mtu|admin_state|external|bridge|subnets|ports' || true)" "no temporary file left in the network"
	vn_eq "" "$(vn_cat "$A/error")" "no error on the network"
else
	echo "# ansible-playbook is not installed (contrib/packages.txt: ansible-core): Ansible part skipped" >&2
	vn__fail "ansible-playbook is missing: install ansible-core"
fi

# the flag is kept across a restart
vn_ok vn_wn "$N/mtu" 1450
vn_restart
vn_eq "$(q 1450)" "$(vn_bytes "$N/mtu")" "after a restart 1450 still reads without a newline"
vn_eq 1450 "$(vn_link_mtu "$br")" "... and the bridge has 1450"
vn_eq "$(q $'10.30.0.53\n10.30.0.54\n10.30.0.55\n')" "$(vn_bytes "$S/dns_nameservers")" "after a restart the list reads as before"
vn_eq "" "$(vn_cat "$N/error")" "no error after the restart"

# ---- the daemon's log file -----------------------------------------------------------
vn_match "--log FILE" "$("$VNETFS" --help)" "--help tells of --log"
vn_stop
LOGF=$VN_TMP/my.log
vn_start -o allow_other --log "$LOGF"
vn_expect_fail EINVAL vn_w "$N/mtu" 42
vn_match "^[0-9T:.-]+Z vnetfs\[$VN_PID\] warning: network v1: mtu must be an integer from 68 to 9000, not '42' \(Invalid argument\)$" \
	"$(grep "not '42'" "$LOGF")" "--log FILE: the refusal is in the file, with time and pid"
vn_eq "" "$(sed -n '/^==== .*--log/,$p' "$VN_TMP/daemon.log" | grep "not '42'" || true)" "... and no longer on stderr"
vn_stop
# in the background (no -f), without --log: STATE/vnetfs.log
vn_eq "" "$(ls "$VN_STATE/vnetfs.log" 2>/dev/null || true)" "no vnetfs.log while the daemon ran in the foreground"
vn_ok "$VNETFS" --state "$VN_STATE" --netns "$VN_NS" -o allow_other "$VN_MNT"
vn_true "the daemon in the background mounted $VN_MNT" mountpoint -q "$VN_MNT"
bgpid=$(sed -n 's/^.*Z vnetfs\[\([0-9]*\)\] info: mounted on .*/\1/p' "$VN_STATE/vnetfs.log" | tail -n 1)
vn_match '^[0-9]+$' "$bgpid" "STATE/vnetfs.log says the daemon mounted, and its pid"
VN_PID=$bgpid # so that the cleanup stops it
vn_expect_fail EINVAL vn_w "$N/mtu" 43
vn_match "warning: network v1: mtu must be an integer from 68 to 9000, not '43' \(Invalid argument\)$" \
	"$(grep "not '43'" "$VN_STATE/vnetfs.log")" "in the background the refusal is in STATE/vnetfs.log"
vn_match "\.[0-9]{3}Z uid=0 /networks/v1/mtu: mtu must be an integer from 68 to 9000, not '43'" "$(tail -n 1 "$M/errors")" "... and in errors"
kill -TERM "$bgpid"
if vn__wait_gone "$bgpid" 100; then vn__pass "the background daemon stopped on SIGTERM"; else vn__fail "the background daemon did not stop"; fi
VN_PID=
vn_true "the background daemon unmounted" bash -c '! mountpoint -q "$1"' _ "$VN_MNT"
vn_match "info: unmounting" "$(tail -n 1 "$VN_STATE/vnetfs.log")" "its last line says it unmounted"
vn_start -o allow_other

vn_done
