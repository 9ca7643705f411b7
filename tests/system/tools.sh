#!/bin/bash
# SPDX-License-Identifier: MIT
# Real file tools on the tree (issue 8, "Tools that replace a file"):
# install, mv from another file system and cp --remove-destination (unlink,
# then O_CREAT|O_EXCL) write the value or fail changing nothing; tar -x of a
# saved network ends, restores what is writable and refuses each read-only
# file; tar --overwrite does not make a router's leg as a plain port; rsync
# -r completes on a second run; cp -r clones where names allow; modes tell
# the truth (managed ports 0444), chmod to another mode is EPERM, chown by
# root gives an object away (persisted, per-user counts move), du sizes;
# rm -r of a network with a bound port in one run, and a failing rm -r puts
# back what its unlinks reset.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
for t in install tar rsync cp setpriv du; do
	command -v "$t" >/dev/null || vn__skip "$t is missing (contrib/packages.txt)"
done
vn_start -o allow_other --max-objects-per-user 3

M=$VN_MNT
NB=65534
T=$VN_TMP/files # a tmpfs: another file system than the mount
mkdir -p "$T"
# mkdir of an object and of its child in one process (the marks of cp -r
# must not hide a new object's collections from its maker)
vn_ok mkdir "$M/networks/m0" "$M/networks/m0/subnets/m0s"
vn_ok mkdir -p "$M/networks/m1/ports/m1p"
vn_ok rm -r "$M/networks/m0" "$M/networks/m1"
# A program that makes an object and at once opens its attributes without
# O_CREAT (os.open O_WRONLY|O_TRUNC, open() to read) finds them: only a
# copier (it listed an object of the kind it did not make) sees them absent.
out=$(timeout 20 python3 - "$M/networks" <<'PY' 2>&1
import os, sys
d = sys.argv[1] + "/m2"
os.mkdir(d)
print(open(d + "/mtu").read().strip())
fd = os.open(d + "/mtu", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"1400\n")
os.close(fd)
os.mkdir(d + "/subnets/m2s")
fd = os.open(d + "/subnets/m2s/cidr", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"10.77.0.0/24\n")
os.close(fd)
print(open(d + "/mtu").read().strip(), open(d + "/subnets/m2s/cidr").read().strip())
PY
)
vn_eq "1500
1400 10.77.0.0/24" "$out" "mkdir, then read and write attributes without O_CREAT in one process"
vn_ok rm -r "$M/networks/m2"
as_nobody() {
	timeout -k 3 20 setpriv --reuid=$NB --regid=$NB --clear-groups "$@"
}
# run CMD...: status and output (stdout+stderr) of CMD as "rc=N\nOUTPUT"
run() {
	local out st=0
	out=$(timeout -k 3 60 "$@" 2>&1) || st=$?
	printf 'rc=%s\n%s' "$st" "$out"
}
rc_of() { printf '%s' "$1" | head -n 1; }

N=$M/networks/private
vn_ok mkdir "$N"
vn_ok mkdir "$N/subnets/s"
vn_ok vn_w "$N/subnets/s/cidr" 10.0.0.0/24
vn_ok vn_w "$N/mtu" 1400

# ---- 1. install, mv from another file system, cp --remove-destination --------------
echo 1300 >"$T/mtu"
vn_ok install -m 644 "$T/mtu" "$N/mtu"
vn_eq 1300 "$(vn_cat "$N/mtu")" "install -m 644 wrote the value"
echo 1350 >"$T/mtu"
vn_ok mv "$T/mtu" "$N/mtu"
vn_eq 1350 "$(vn_cat "$N/mtu")" "mv from tmpfs wrote the value"
vn_eq no "$([ -e "$T/mtu" ] && echo yes || echo no)" "mv removed its source"
echo 1360 >"$T/mtu"
vn_ok cp --remove-destination "$T/mtu" "$N/mtu"
vn_eq 1360 "$(vn_cat "$N/mtu")" "cp --remove-destination wrote the value"
vn_eq 1360 "$(vn_json_get "$N/json" .mtu)" "json follows"
echo abc >"$T/bad"
vn_expect_fail EINVAL install -m 644 "$T/bad" "$N/mtu"
vn_eq 1360 "$(vn_cat "$N/mtu")" "a refused install changes nothing (the unlink's reset is put back)"
vn_match "not 'abc'" "$(vn_cat "$N/error")" "error says why"
vn_expect_fail EINVAL cp --remove-destination "$T/bad" "$N/mtu"
vn_eq 1360 "$(vn_cat "$N/mtu")" "a refused cp --remove-destination changes nothing"
vn_expect_fail EPERM install -m 644 "$T/bad" "$N/id"
vn_match '^[0-9a-f-]{36}$' "$(vn_cat "$N/id")" "install over id: id unchanged"
vn_eq "id cannot be removed or replaced: it is read-only; rmdir removes the network" \
	"$(vn_cat "$N/error")" "error says id is read-only"
vn_expect_fail EPERM rm "$N/id"
vn_expect_fail EPERM rm "$N/status"
printf '9.9.9.9\n1.1.1.1\n' >"$T/dns"
vn_ok install -m 644 "$T/dns" "$N/subnets/s/dns_nameservers"
vn_eq "$(vn_lines 9.9.9.9 1.1.1.1)" "$(vn_cat "$N/subnets/s/dns_nameservers")" "install of a list"
printf '8.8.8.8\nnot-an-address\n' >"$T/dns"
vn_expect_fail EINVAL install -m 644 "$T/dns" "$N/subnets/s/dns_nameservers"
vn_eq "$(vn_lines 9.9.9.9 1.1.1.1)" "$(vn_cat "$N/subnets/s/dns_nameservers")" \
	"a refused list changes nothing"
: >"$T/empty"
vn_ok cp --remove-destination "$T/empty" "$N/mtu"
vn_eq 1500 "$(vn_cat "$N/mtu")" "replaced by an empty file: the unlink's reset stands"
vn_ok vn_w "$N/mtu" 1400
vn_ok rm "$N/mtu"
vn_eq 1500 "$(vn_cat "$N/mtu")" "a lone rm resets to the default"
vn_eq 1500 "$(vn_link_mtu "$(vn_cat "$N/bridge")")" "and the bridge follows"
vn_ok vn_w "$N/mtu" 1400
# the name looks absent to the unlinker only, until it creates it again
out=$(timeout 20 python3 - "$N" <<'PY' 2>&1
import os, subprocess, sys
n = sys.argv[1]
os.unlink(n + "/mtu")
mine = os.path.exists(n + "/mtu")
other = subprocess.run(["cat", n + "/mtu"], capture_output=True, text=True).stdout.strip()
fd = os.open(n + "/mtu", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b"1420\n")
os.close(fd)
print(mine, other, os.path.exists(n + "/mtu"), open(n + "/mtu").read().strip())
PY
)
vn_eq "False 1500 True 1420" "$out" "unlinked: absent for the unlinker, reset for others; O_EXCL create writes"
vn_ok vn_w "$N/mtu" 1400

# ---- 5. modes, chmod, chown, du ---------------------------------------------------------
vn_ok mkdir "$M/routers/r"
vn_ok vn_w "$M/routers/r/interfaces" s
LEG=$(vn_ls "$N/ports" | grep "^qr-")
vn_match '^qr-' "$LEG" "the router made its leg"
vn_eq "444 444 444 444 444 644" \
	"$(stat -c %a "$N/ports/$LEG/mac_address" "$N/ports/$LEG/fixed_ips" "$N/ports/$LEG/netns" \
		"$N/ports/$LEG/ifname" "$N/ports/$LEG/ipconfig" "$N/ports/$LEG/security_groups" | xargs)" \
	"a managed port's attributes are read-only, but its security_groups"
vn_expect_fail EACCES vn_w "$N/ports/$LEG/ifname" eth9
vn_ok chmod 644 "$N/mtu"
vn_expect_fail EPERM chmod 600 "$N/mtu"
vn_expect_fail EPERM chmod 644 "$N/id"
vn_ok chmod 755 "$N"
vn_expect_fail EPERM chmod 700 "$N"
vn_eq 644 "$(stat -c %a "$N/mtu")" "mtu keeps its mode"
js=$(vn_size "$N/json")
vn_eq "$(((js + 511) / 512))" "$(stat -c %b "$N/json")" "st_blocks follows st_size"
vn_ne 0 "$(du -s "$N" | cut -f1)" "du shows a size"

vn_ok mkdir "$M/networks/n1"
vn_ok mkdir "$M/networks/n2"
vn_ok mkdir "$M/networks/n3"
vn_eq "0 0" "$(stat -c '%u %g' "$M/networks/n1")" "root made n1"
vn_expect_fail EPERM as_nobody chown $NB "$M/networks/n1"
vn_ok chown $NB:$NB "$M/networks/n1"
vn_eq "$NB $NB" "$(stat -c '%u %g' "$M/networks/n1")" "chown by root gives n1 to nobody"
vn_eq "$NB $NB" "$(stat -c '%u %g' "$M/networks/n1/mtu")" "its files follow"
vn_ok as_nobody bash -c "echo 1450 > $M/networks/n1/mtu"
vn_eq 1450 "$(vn_cat "$M/networks/n1/mtu")" "the new owner writes it"
vn_ok as_nobody chown $NB "$M/networks/n1"
echo 1440 >"$T/mtu1440"
chmod 644 "$T/mtu1440"
vn_ok as_nobody install -m 644 "$T/mtu1440" "$M/networks/n1/mtu"
vn_eq 1440 "$(vn_cat "$M/networks/n1/mtu")" "nobody's install on its own network"
vn_expect_fail EACCES as_nobody install -m 644 "$T/mtu1440" "$N/mtu"
vn_eq 1400 "$(vn_cat "$N/mtu")" "nobody's install on root's network changes nothing"
vn_expect_fail EPERM as_nobody chown 0 "$M/networks/n1"
vn_expect_fail EPERM chown $NB "$M/networks/n2/mtu"
vn_expect_fail EPERM chown $NB "$N/ports/$LEG"
vn_ok chown $NB "$M/networks/n2"
vn_ok as_nobody mkdir "$M/networks/x1"
vn_expect_fail EDQUOT as_nobody mkdir "$M/networks/x2"
vn_ok chown 0 "$M/networks/n2"
vn_eq "0 0" "$(stat -c '%u %g' "$M/networks/n2")" "chown 0: back to root"
vn_ok as_nobody mkdir "$M/networks/x2"
vn_expect_fail EDQUOT as_nobody mkdir "$M/networks/x3"
vn_ok chown :$NB "$M/networks/n3"
vn_eq "0 $NB" "$(stat -c '%u %g' "$M/networks/n3")" "chown :gid changes the group only"
vn_restart
vn_eq "$NB:$NB 0:$NB" "$(stat -c '%u:%g' "$M/networks/n1") $(stat -c '%u:%g' "$M/networks/n3")" \
	"owners survive a restart"
vn_expect_fail EDQUOT as_nobody mkdir "$M/networks/x3"
vn_ok rm -r "$M/networks/n1" "$M/networks/n2" "$M/networks/n3" "$M/networks/x1" "$M/networks/x2"

vn_ok chown $NB "$M/routers/r"
vn_eq "$NB $NB" "$(stat -c %u "$M/routers/r") $(stat -c %u "$N/ports/$LEG")" "a router's legs go with it"
vn_ok chown 0 "$M/routers/r"
vn_eq "0 0" "$(stat -c %u "$M/routers/r") $(stat -c %u "$N/ports/$LEG")" "and come back with it"

# ---- 2. tar -x of a saved network -------------------------------------------------------
vn_ok mkdir "$N/ports/p1"
vn_ok vn_w "$N/ports/p1/fixed_ips" "s 10.0.0.50"
vn_ok tar -C "$M/networks" -cf "$T/net.tar" private
vn_ok vn_w "$N/mtu" 1300
vn_ok vn_w "$N/ports/p1/fixed_ips" "s 10.0.0.60"
out=$(run tar -C "$M/networks" -xf "$T/net.tar")
vn_eq rc=2 "$(rc_of "$out")" "tar -xf over the network ends, with a failure status"
vn_eq 1400 "$(vn_cat "$N/mtu")" "tar restored mtu"
vn_eq "s 10.0.0.50" "$(vn_cat "$N/ports/p1/fixed_ips")" "tar restored fixed_ips"
vn_match "tar: private/id: Cannot open: File exists" "$out" "tar: a clear error for id"
vn_match "tar: private/ports/$LEG/mac_address: Cannot open: File exists" "$out" \
	"tar: a clear error for a managed port's file"
vn_eq 0 "$(printf '%s\n' "$out" | grep -c 'private/mtu' || true)" "no error for mtu"
vn_ok vn_w "$N/mtu" 1300
out=$(run tar -C "$M/networks" --overwrite -xf "$T/net.tar")
vn_eq rc=2 "$(rc_of "$out")" "tar --overwrite -xf ends, with a failure status"
vn_eq 1400 "$(vn_cat "$N/mtu")" "tar --overwrite restored mtu"
vn_match "tar: private/json: Cannot open: Permission denied" "$out" "--overwrite: json refused"
vn_match "tar: private/ports/$LEG/netns: Cannot open: Permission denied" "$out" \
	"--overwrite: a managed port's netns refused"
# into a mount without the network and the router
vn_ok rm -r "$M/routers/r"
vn_ok rm -r "$N"
vn_eq public "$(vn_ls "$M/networks")" "rm -r left only public"
out=$(run tar -C "$M/networks" -xf "$T/net.tar")
vn_eq rc=2 "$(rc_of "$out")" "tar -xf into the mount ends"
vn_match "tar: private/ports/$LEG: Cannot mkdir: Operation not permitted" "$out" \
	"a router's leg is not made as a plain port"
vn_eq "dhcp p1" "$(vn_ls "$N/ports" | xargs)" "p1 came back, and the network made its DHCP port again"
vn_eq network:dhcp "$(vn_cat "$N/ports/dhcp/device_owner")" "the saved DHCP port did not come back as a plain port"
vn_match "tar: private/ports/dhcp: Cannot mkdir: Operation not permitted" "$out" \
	"a saved DHCP port is not made as a plain port"
vn_eq "1400 10.0.0.0/24" "$(vn_cat "$N/mtu") $(vn_cat "$N/subnets/s/cidr")" "values restored"
vn_eq "" "$(vn_cat "$N/ports/p1/fixed_ips")" "ports come before subnets: fixed_ips fails the first time"
out=$(run tar -C "$M/networks" --overwrite -xf "$T/net.tar")
vn_eq "s 10.0.0.50" "$(vn_cat "$N/ports/p1/fixed_ips")" "a second run completes fixed_ips"
vn_match "port names starting with qr- or qg- are a router's legs" "$(vn_cat "$N/error")" \
	"the network's error says why the leg was refused"

# ---- 3. rsync -r --------------------------------------------------------------------------
rm -rf "$T/saved"
mkdir "$T/saved"
vn_ok tar -C "$T/saved" -xf "$T/net.tar"
vn_ok rm -r "$N"
out=$(run rsync -r "$T/saved/private" "$M/networks/")
vn_eq rc=23 "$(rc_of "$out")" "rsync -r: partial the first time"
vn_match 'private/ports/p1/fixed_ips": Invalid argument' "$out" "fixed_ips before the subnet's cidr"
vn_eq "1400 10.0.0.0/24" "$(vn_cat "$N/mtu") $(vn_cat "$N/subnets/s/cidr")" "rsync: values arrived"
out=$(run rsync -r "$T/saved/private" "$M/networks/")
vn_eq "s 10.0.0.50" "$(vn_cat "$N/ports/p1/fixed_ips")" "rsync: a second run completes it"
vn_eq 0 "$(printf '%s\n' "$out" | grep -c 'Invalid argument' || true)" "no value refused the second time"
vn_match 'private/json": Permission denied' "$out" "read-only files: Permission denied"

# ---- 4. cp -r -----------------------------------------------------------------------------
vn_ok vn_w "$N/admin_state" down
out=$(cd "$M/networks" && run cp -r private private2)
vn_eq rc=1 "$(rc_of "$out")" "cp -r: errors for what cannot be cloned"
vn_eq "1400 down" "$(vn_cat "$M/networks/private2/mtu") $(vn_cat "$M/networks/private2/admin_state")" \
	"cp -r cloned the writable values"
vn_match "cannot create regular file 'private2/id': File exists" "$out" "id: an error"
vn_match "cannot create directory 'private2/ports': File exists" "$out" \
	"child collections are not cloned (the daemon made them)"
vn_eq "" "$(vn_ls "$M/networks/private2/ports")" "no port cloned"
vn_eq 0 "$(printf '%s\n' "$out" | grep -c "private2/mtu\|private2/admin_state" || true)" \
	"no error for the writable values"
vn_ok rm -r "$M/networks/private2"

# ---- 6. rm -r -----------------------------------------------------------------------------
vn_host h1
vn_ok vn_w "$N/ports/p1/netns" /run/netns/h1
vn_eq ACTIVE "$(vn_cat "$N/ports/p1/status")" "p1 bound"
vn_ok mkdir "$M/routers/r"
vn_ok vn_w "$M/routers/r/interfaces" s
out=$(run rm -r "$N")
vn_eq rc=1 "$(rc_of "$out")" "rm -r of a network a router uses fails"
vn_match "subnets/s': Device or resource busy" "$out" "the subnet is busy"
vn_eq "1400 10.0.0.0/24 down" "$(vn_cat "$N/mtu") $(vn_cat "$N/subnets/s/cidr") $(vn_cat "$N/admin_state")" \
	"a failed rm -r puts back what its unlinks reset"
vn_eq 1400 "$(vn_link_mtu "$(vn_cat "$N/bridge")")" "the bridge too"
vn_eq yes "$(vn_ls "$N/ports" | grep -q '^qr-' && echo yes || echo no)" "the leg is still there"
vn_ok rm -r "$M/routers/r"
vn_ok mkdir "$N/ports/p2"
vn_ok vn_w "$N/ports/p2/netns" /run/netns/h1
vn_ok vn_w "$N/ports/p2/ifname" eth1
vn_ok rm -r "$N"
vn_eq public "$(vn_ls "$M/networks")" "rm -r of a network with bound ports in one run"
vn_eq "" "$(ip -n h1 -j link show | jq -r '.[].ifname | select(. != "lo")')" "the ports' links are gone"

vn_done
