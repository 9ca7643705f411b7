#!/bin/bash
# SPDX-License-Identifier: MIT
# How writes behave: rejected values change nothing and explain themselves
# in `error`, good writes clear it, idempotent rewrites, >> appends,
# multi-write values gathered until close, editors' temp file + rename
# (sed -i, cp + mv), rm -r of an object, EFBIG, invalid names, and stat
# sizes that match what cat returns.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
vn_start

M=$VN_MNT
N=$M/networks/w1
vn_ok mkdir "$N"
vn_ok mkdir "$N/subnets/w1-sub"
S=$N/subnets/w1-sub
vn_ok vn_w "$S/cidr" 10.20.0.0/24
br=$(vn_cat "$N/bridge")
vn_eq bridge "$(vn_link_kind "$br")" "w1 has a bridge"

# ---- a bad write changes nothing and sets error -----------------------------------
vn_eq "" "$(vn_cat "$N/error")" "error empty on a fresh network"
vn_eq 0 "$(vn_size "$N/error")" "error has size 0 when fine"
for bad in abc 1500abc 67 9001 -1500 "1400
1300" "1400 1300" 0x5dc 1e3; do
	vn_expect_fail EINVAL vn_w "$N/mtu" "$bad"
	got=$(vn_cat "$N/mtu" || true)
	vn_eq 1500 "$got" "mtu unchanged after writing $(printf '%q' "$bad")"
	# keep one wrongly accepted value from failing every later check
	[ "$got" = 1500 ] || vn_w "$N/mtu" 1500 || true
done
vn_eq 1500 "$(vn_link_mtu "$br")" "bridge mtu untouched by rejected writes"
err=$(vn_cat "$N/error")
vn_ne "" "$err" "error holds a sentence after a failed write"
vn_eq "$(printf '%s\n' "$err" | wc -l)" 1 "the error is one line"
vn_eq "" "$(vn_cat "$S/error")" "another object's error is untouched"
vn_eq "" "$(vn_cat "$M/networks/public/error")" "public's error is untouched"

vn_ok vn_w "$N/mtu" 1400
vn_eq "" "$(vn_cat "$N/error")" "a successful write empties error"
vn_eq 0 "$(vn_size "$N/error")" "error size 0 again"
vn_eq 1400 "$(vn_cat "$N/mtu")" "mtu 1400"
vn_eq 1400 "$(vn_link_mtu "$br")" "bridge mtu 1400"

# without a trailing newline, and with surrounding whitespace
vn_ok vn_wn "$N/mtu" 1401
vn_eq 1401 "$(vn_cat "$N/mtu")" "a value without newline is taken"
vn_eq 1401 "$(vn_link_mtu "$br")" "... and applied"

# ---- idempotent rewrite --------------------------------------------------------
vn_ok vn_w "$N/mtu" 1400
before=$(stat -c '%y' "$N/mtu")
sleep 0.05
vn_ok vn_w "$N/mtu" 1400
vn_ok vn_w "$N/mtu" 1400
vn_eq 1400 "$(vn_cat "$N/mtu")" "rewriting the same value succeeds"
vn_eq "" "$(vn_cat "$N/error")" "rewriting leaves error empty"
vn_eq "$before" "$(stat -c '%y' "$N/mtu")" "rewriting the same value does not touch mtime"
vn_ok vn_w "$N/admin_state" up
vn_eq up "$(vn_link_admin "$br")" "rewriting admin_state up keeps the bridge up"
vn_ok vn_w "$S/cidr" 10.20.0.0/24
vn_eq 10.20.0.0/24 "$(vn_cat "$S/cidr")" "rewriting the same cidr succeeds"

# ---- >> on list files -------------------------------------------------------------
vn_ok vn_a "$S/dns_nameservers" 8.8.8.8
vn_ok vn_a "$S/dns_nameservers" 8.8.4.4
vn_eq "8.8.8.8
8.8.4.4" "$(vn_cat "$S/dns_nameservers")" ">> appends lines"
# one O_APPEND handle, several writes: each write adds lines
vn_ok timeout 10 bash -c 'exec 3>>"$1"; printf "1.1.1.1\n" >&3; printf "1.0.0.1\n" >&3; exec 3>&-' x "$S/dns_nameservers"
vn_eq "8.8.8.8
8.8.4.4
1.1.1.1
1.0.0.1" "$(vn_cat "$S/dns_nameservers")" "two writes on one O_APPEND handle add two lines"

# ---- a value in several writes at growing offsets, applied at close -----------
# (a security group's rules: a list that may be long; a subnet's
# host_routes hold at most 20 lines)
vn_ok mkdir "$M/security_groups/wsg"
R=$M/security_groups/wsg/rules
routes=$VN_TMP/rules
for i in $(seq 0 299); do echo "ingress udp $((10000 + i))-60000"; done >"$routes"
vn_true "rules file is larger than one 4 KiB write" test "$(stat -c %s "$routes")" -gt 4096
vn_ok cp "$routes" "$R"
vn_eq "$(cat "$routes")" "$(vn_cat "$R")" "cp of a 300-line list (7 KiB) reads back"
vn_eq "$(stat -c %s "$routes")" "$(vn_size "$R")" "its stat size is the written size"
vn_ok vn_w "$R" ""
vn_ok timeout 20 bash -c 'cat "$1" > "$2"' x "$routes" "$R"
vn_eq "$(cat "$routes")" "$(vn_cat "$R")" "cat > of the same list reads back"
vn_ok vn_w "$R" ""
# one line per write() at growing offsets (bash's echo in a loop with one
# redirection): gathered and applied as one list at close
vn_ok timeout 20 bash -c 'while IFS= read -r l; do echo "$l"; done < "$1" > "$2"' x "$routes" "$R"
vn_eq "$(cat "$routes")" "$(vn_cat "$R")" "a list written one line per write() reads back whole"
vn_eq 300 "$(vn_cat "$R" | grep -c .)" "... with its 300 lines"
# the same with a bad last line: close() fails with EINVAL (bash ignores
# close errors, so python reports them) and nothing is applied
printf 'ingress udp not-a-port\n' >>"$routes"
linewise='import os, sys
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_TRUNC)
for line in open(sys.argv[1], "rb"):
    os.write(fd, line)
os.close(fd)'
vn_expect_fail EINVAL python3 -c "$linewise" "$routes" "$R"
vn_eq 300 "$(vn_cat "$R" | grep -c .)" "a multi-write list with a bad last line is not applied"
vn_ok vn_w "$R" ""

# ---- temp file + rename (editors, config management) -------------------------------
vn_ok sed -i 's/^1400$/1300/' "$N/mtu"
vn_eq 1300 "$(vn_cat "$N/mtu")" "sed -i rewrote mtu"
vn_eq 1300 "$(vn_link_mtu "$br")" "sed -i result reached the bridge"
vn_ok sed -i '/^8\.8\.4\.4$/d' "$S/dns_nameservers"
vn_eq "8.8.8.8
1.1.1.1
1.0.0.1" "$(vn_cat "$S/dns_nameservers")" "sed -i deleted one line of a list"
printf '1280\n' >"$VN_TMP/newmtu"
vn_ok cp "$VN_TMP/newmtu" "$N/mtu.tmp"
vn_eq 1280 "$(vn_cat "$N/mtu.tmp")" "the scratch file holds what was copied"
vn_ok mv "$N/mtu.tmp" "$N/mtu"
vn_eq 1280 "$(vn_cat "$N/mtu")" "cp to a scratch file + mv onto mtu"
vn_eq 1280 "$(vn_link_mtu "$br")" "... reached the bridge"
vn_true "the scratch file is gone after the rename" test ! -e "$N/mtu.tmp"
vn_eq "" "$(vn_ls "$N" | grep -vxE 'id|status|error|json|mtu|admin_state|external|bridge|subnets|ports' || true)" "no leftover files in the network directory"
# a bad value through rename fails and changes nothing
printf 'bogus\n' >"$VN_TMP/badmtu"
vn_ok cp "$VN_TMP/badmtu" "$N/.mtu.swp"
vn_expect_fail ANY mv "$N/.mtu.swp" "$N/mtu"
vn_eq 1280 "$(vn_cat "$N/mtu")" "mtu unchanged after mv of a bad value onto it"
vn_expect_fail EINVAL python3 -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' "$N/.mtu.swp" "$N/mtu"
vn_eq 1280 "$(vn_cat "$N/mtu")" "mtu unchanged after rename(2) of a bad value onto it"
rm -f "$N/.mtu.swp" 2>/dev/null || true
# dd-like: shell redirection onto a scratch name then mv, as Ansible does
vn_ok timeout 10 bash -c 'cd "$1" && printf "down\n" > .ansible_tmp_x && mv .ansible_tmp_x admin_state' x "$N"
vn_eq down "$(vn_cat "$N/admin_state")" "Ansible-style temp file + rename"
vn_eq down "$(vn_link_admin "$br")" "... reached the bridge"
vn_ok vn_w "$N/admin_state" up

# ---- unlink resets to default ------------------------------------------------------
id=$(vn_cat "$N/id")
vn_expect_fail EPERM rm "$N/id"
vn_eq "$id" "$(vn_cat "$N/id")" "rm of a read-only file (id) is EPERM and changes nothing"
vn_expect_fail EPERM rm -f "$N/json" "$N/status" "$N/error" "$N/bridge"
vn_eq "$br" "$(vn_cat "$N/bridge")" "bridge still there after rm"
vn_ok rmdir "$N/ports"
vn_true "rmdir of the fixed ports/ is a no-op" test -d "$N/ports"
vn_ok mkdir "$M/networks/w9"
vn_ok rmdir "$M/networks/w9/subnets"
vn_true "rmdir of an empty fixed subnets/ is a no-op" test -d "$M/networks/w9/subnets"
vn_ok rmdir "$M/networks/w9"
vn_ok rm "$N/mtu"
vn_eq 1500 "$(vn_cat "$N/mtu")" "rm mtu resets it to 1500"
vn_eq 1500 "$(vn_link_mtu "$br")" "... on the bridge too"
vn_true "the mtu file still exists after rm" test -f "$N/mtu"

# ---- EFBIG -------------------------------------------------------------------------
vn_expect_fail EFBIG timeout 20 bash -c 'printf "%s" "$(head -c 70000 /dev/zero | tr "\0" "9")" > "$1"' x "$S/dns_nameservers"
head -c 100000 /dev/zero | tr '\0' a >"$VN_TMP/big"
vn_expect_fail EFBIG cp "$VN_TMP/big" "$S/host_routes"
vn_expect_fail EFBIG timeout 20 bash -c 'cat "$1" > "$2"' x "$VN_TMP/big" "$N/mtu"
vn_eq "8.8.8.8
1.1.1.1
1.0.0.1" "$(vn_cat "$S/dns_nameservers")" "dns_nameservers unchanged after EFBIG"
vn_eq 1500 "$(vn_cat "$N/mtu")" "mtu unchanged after EFBIG"
vn_true "daemon survived the huge writes" vn_alive

# ---- names ---------------------------------------------------------------------------
long63=$(printf 'n%.0s' $(seq 63))
long64=$(printf 'n%.0s' $(seq 64))
for bad in .hidden "a b" "$long64" "a:b" "tab	x" "é" "a*b" "a\\b" "semi;colon"; do
	vn_expect_fail EINVAL mkdir "$M/networks/$bad"
done
vn_expect_fail EINVAL mkdir "$S/../.dot-subnet"
vn_ok mkdir "$M/networks/$long63"
vn_ok mkdir "$M/networks/A.b_c-9"
vn_ok mkdir "$M/networks/-dash"
vn_eq "$(printf '%s\n' -dash A.b_c-9 "$long63" public w1 | LC_ALL=C sort)" "$(vn_ls "$M/networks")" "valid names were made, invalid ones not"
vn_ok rmdir "$M/networks/$long63"
vn_ok rmdir "$M/networks/A.b_c-9"
vn_ok rmdir "$M/networks/-dash"
vn_expect_fail ANY mkdir "$M/networks/public/nosuchdir"
vn_expect_fail ANY mkdir "$M/nosuchkind"

# ---- stat size == cat length, for every file --------------------------------------
vn_ok vn_w "$N/mtu" 9000
sizes_ok=1
while IFS= read -r -d '' f; do
	s=$(vn_size "$f")
	c=$(timeout 10 cat "$f" | wc -c)
	if [ "$s" != "$c" ]; then
		sizes_ok=0
		vn_eq "$c" "$s" "stat size of ${f#"$M"/} equals the bytes cat returns"
	fi
done < <(find "$M/networks" "$M/flavors" -type f -print0)
vn_eq 1 "$sizes_ok" "stat size equals cat length for every file under networks/ and flavors/"

# ---- rm -r --------------------------------------------------------------------------
# with every kind of attribute set, so that rm -r's unlinks (in readdir
# order) have to reset each of them on the way
vn_ok vn_w "$S/dns_nameservers" 10.20.0.53
vn_ok vn_w "$S/host_routes" "10.30.0.0/16 10.20.0.254"
vn_ok vn_w "$S/allocation_pools" 10.20.0.10-10.20.0.20
vn_ok vn_w "$S/gateway_ip" 10.20.0.254
vn_ok vn_w "$N/external" 1
vn_eq 10.20.0.254/24 "$(vn_link_addrs "$br")" "external w1 carries its gateway before rm -r"
vn_ok rm -r "$N"
vn_true "rm -r removed the network" test ! -e "$N"
vn_eq absent "$(vn_link_kind "$br")" "rm -r removed the bridge"
vn_eq public "$(vn_ls "$M/networks")" "only public is left"
vn_ok mkdir "$M/networks/w2"
vn_ok mkdir "$M/networks/w2/subnets/w1-sub"
vn_true "the subnet name is free again after rm -r" test -d "$M/networks/w2/subnets/w1-sub"
vn_ok rm -rf "$M/networks/w2"
vn_true "rm -rf removed w2" test ! -e "$M/networks/w2"

# ---- one `>>` handle: each write is its own value --------------------------------
# a bad line refuses that write only; later lines on the same handle still add
P=$M/networks/public/subnets/public-subnet/dns_nameservers
appendwise='
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
for line in (b"8.8.8.8\n", b"bogus\n", b"1.1.1.1\n"):
    try:
        os.write(fd, line)
        print("ok")
    except OSError as e:
        print("err %d" % e.errno)
os.close(fd)'
vn_eq "ok
err 22
ok" "$(python3 -c "$appendwise" "$P")" "on one O_APPEND handle only the bad write fails"
vn_eq "8.8.8.8
1.1.1.1" "$(vn_cat "$P")" "the good lines around it were added"
vn_ok vn_w "$P" ""

# ---- values written in pieces (issue 7 section 4) ---------------------------------
# A list is checked line by line as its lines arrive and applied once, at
# close; a concurrent reader sees the old value or the new, never half.
vn_ok mkdir "$M/networks/pw1"
vn_ok mkdir "$M/networks/pw1/subnets/pw1-sub"
N=$M/networks/pw1
S=$N/subnets/pw1-sub
vn_ok vn_w "$S/cidr" 10.22.0.0/24
D=$S/dns_nameservers
vn_ok vn_w "$D" ""
# bash's builtin printf writes a line at a time
vn_ok bash -c "printf '%s\n' 8.8.8.8 1.1.1.1 >'$D'"
vn_eq "$(vn_lines 8.8.8.8 1.1.1.1)" "$(vn_cat "$D")" "builtin printf, a write per line: both lines"
vn_ok bash -c "echo -e '9.9.9.9\n8.8.4.4' >'$D'"
vn_eq "$(vn_lines 9.9.9.9 8.8.4.4)" "$(vn_cat "$D")" "echo -e 'a\\nb': both lines"
vn_ok bash -c "printf '1.0.0.1\n8.8.8.8\n9.9.9.9\n' | dd bs=7 of='$D' status=none"
vn_eq "$(vn_lines 1.0.0.1 8.8.8.8 9.9.9.9)" "$(vn_cat "$D")" "dd bs=7 (lines cut in the middle): the whole list"

# python os.write per line, with a reader in another process in between
pieces='
import os, subprocess, sys
path = sys.argv[1]
def cat():
    return subprocess.run(["cat", path], capture_output=True, text=True).stdout.replace("\n", ",")
fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
out = ["before:" + cat()]
for line in sys.argv[2:]:
    try:
        os.write(fd, line.encode() + b"\n")
        out.append("w ok:" + cat())
    except OSError as e:
        out.append("w %d:%s" % (e.errno, cat()))
try:
    os.close(fd)
    out.append("close ok:" + cat())
except OSError as e:
    out.append("close %d:%s" % (e.errno, cat()))
print(" ".join(out))'
vn_eq "before:1.0.0.1,8.8.8.8,9.9.9.9, w ok:1.0.0.1,8.8.8.8,9.9.9.9, w ok:1.0.0.1,8.8.8.8,9.9.9.9, close ok:4.4.4.4,5.5.5.5," \
	"$(python3 -c "$pieces" "$D" 4.4.4.4 5.5.5.5)" "os.write per line: readers see the old list until close, then the new"
vn_eq "" "$(vn_cat "$S/error")" "error empty after the list in pieces"

# a bad second line: that write fails, close fails too, nothing applied
vn_eq "before:4.4.4.4,5.5.5.5, w ok:4.4.4.4,5.5.5.5, w 22:4.4.4.4,5.5.5.5, close 22:4.4.4.4,5.5.5.5," \
	"$(python3 -c "$pieces" "$D" 6.6.6.6 bogus)" "a bad second line: its write and close say EINVAL, nothing applied"
vn_match "bogus" "$(vn_cat "$S/error")" "error names the bad line"
vn_expect_fail EINVAL bash -c "printf '%s\n' 7.7.7.7 bogus2 >'$D'"
vn_eq "$(vn_lines 4.4.4.4 5.5.5.5)" "$(vn_cat "$D")" "builtin printf with a bad second line: the list is unchanged"
vn_match "bogus2" "$(vn_cat "$S/error")" "error names that line"
vn_ok vn_w "$D" ""

# references: a router's interfaces naming a missing subnet fails in the
# write that carries the line; rewriting the same two lines a line at a
# time leaves the legs as they are (same veth, same ifindex)
vn_ok mkdir "$M/networks/pw2"
vn_ok mkdir "$M/networks/pw2/subnets/pw2-sub"
vn_ok vn_w "$M/networks/pw2/subnets/pw2-sub/cidr" 10.21.0.0/24
vn_ok mkdir "$M/routers/pr"
PR=$M/routers/pr
vn_eq "before: w ok: w 2: close 2:" "$(python3 -c "$pieces" "$PR/interfaces" pw1-sub nosuch)" \
	"interfaces: a missing subnet on line 2 fails that write (ENOENT) and close"
vn_match "nosuch" "$(vn_cat "$PR/error")" "the router's error names the line"
vn_eq "" "$(vn_ls "$N/ports" | grep -v '^dhcp$')" "no leg was made for the first line (the DHCP port aside)"
vn_ok bash -c "printf '%s\n' pw1-sub pw2-sub >'$PR/interfaces'"
vn_eq "$(vn_lines pw1-sub pw2-sub)" "$(vn_cat "$PR/interfaces")" "interfaces from builtin printf, a line per write"
legs() {
	local p d
	for p in "$N/ports/qr-"* "$M/networks/pw2/ports/qr-"*; do
		d=$(vn_cat "$p/device") || continue
		printf '%s=%s ' "$d" "$(vn_link_json "$d" | jq -r '.[0].ifindex')"
	done
}
before=$(legs)
vn_match '^vnp-[^ ]+=[0-9]+ vnp-[^ ]+=[0-9]+ $' "$before" "two router legs with their veths"
vn_ok bash -c "printf '%s\n' pw1-sub pw2-sub >'$PR/interfaces'"
vn_ok bash -c "echo -e 'pw1-sub\npw2-sub' >'$PR/interfaces'"
vn_ok bash -c "printf 'pw1-sub\npw2-sub\n' | dd bs=7 of='$PR/interfaces' status=none"
vn_eq "$before" "$(legs)" "the unchanged list rewritten in pieces rebuilt no leg (same veths, same ifindex)"
vn_ok vn_w "$PR/interfaces" ""
vn_ok rmdir "$PR"
vn_ok rm -r "$M/networks/pw2" "$N"

vn_done
