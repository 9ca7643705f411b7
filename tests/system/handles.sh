#!/bin/bash
# SPDX-License-Identifier: MIT
# Handles whose target went away (issue 6), scratch file modes, per-user
# limits.
#
# - The crash reproducers of issue 6 (write through a handle whose
#   attribute was removed, read through a handle whose object was removed)
#   and variants as root and as nobody (allow_other): write, read, flush,
#   ftruncate, fstat, fchmod, readdir on handles whose file, object or
#   directory is gone, or whose object was made again under the same name.
#   Every one answers ESTALE (a rendered file still reads its snapshot),
#   changes nothing, and the daemon lives on.
# - A scratch (temp) file keeps the mode it was created with: 0600 under
#   umask 077 is EACCES for other users, 0644 is readable.
# - --max-objects-per-user / --max-scratch-per-user: EDQUOT with a
#   sentence, root unlimited, counts go down on rmdir/rm and survive a
#   restart.
#
# The handle operations run in one python3 process (fdop below) that does
# the removals itself: a child process (fork) would close a copy of the
# descriptor, and that close flushes the handle early.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
command -v setpriv >/dev/null || vn__skip "setpriv (util-linux) is missing"
# a python3 that user nobody can run too (not one under /root)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || vn__skip "python3 is missing"
setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" -c '' 2>/dev/null ||
	vn__skip "$PY cannot be run by nobody"
vn_start -o allow_other

M=$VN_MNT
NB=65534
as_nobody() {
	timeout -k 3 20 setpriv --reuid=$NB --regid=$NB --clear-groups "$@"
}

# fdop MODE PATH STEP...: open PATH (r, w = O_WRONLY|O_TRUNC, wn = O_WRONLY,
# a = O_APPEND, rw, d = a directory, c = O_RDWR|O_CREAT|O_EXCL 0644) and run
# the steps on it, one output line each: "STEP OK [result]" or "STEP ERRNO".
# Steps on the handle: w:TEXT (\n escapes), r:N, pread:OFF, fstat (mode uid
# size), ftrunc:N, fchmod:MODE, ls (readdir of the handle), close. Steps
# that print nothing unless they fail: rmdir:P, mkdir:P, unlink:P,
# rename:A:B, put:P:TEXT (open, write, close another handle).
FDOP='
import errno, os, sys
def en(e):
    return errno.errorcode.get(e.errno, str(e.errno))
modes = {"r": os.O_RDONLY, "w": os.O_WRONLY | os.O_TRUNC, "wn": os.O_WRONLY,
         "a": os.O_WRONLY | os.O_APPEND, "rw": os.O_RDWR,
         "d": os.O_RDONLY | os.O_DIRECTORY, "c": os.O_RDWR | os.O_CREAT | os.O_EXCL}
def text(s):
    return s.encode().decode("unicode_escape").encode()
def show(b):
    return b.decode(errors="replace").replace("\n", "\\n")
try:
    fd = os.open(sys.argv[2], modes[sys.argv[1]], 0o644)
except OSError as e:
    print("open", en(e))
    sys.exit(0)
for step in sys.argv[3:]:
    op, _, arg = step.partition(":")
    try:
        if op in ("rmdir", "mkdir", "unlink", "rename", "put"):
            if op == "rmdir":
                os.rmdir(arg)
            elif op == "mkdir":
                os.mkdir(arg)
            elif op == "unlink":
                os.unlink(arg)
            elif op == "rename":
                a, b = arg.split(":")
                os.rename(a, b)
            else:
                p, v = arg.split(":", 1)
                f = os.open(p, os.O_WRONLY | os.O_TRUNC)
                os.write(f, text(v))
                os.close(f)
            continue
        res = ""
        if op == "w":
            os.write(fd, text(arg))
        elif op == "r":
            res = show(os.read(fd, int(arg)))
        elif op == "pread":
            res = show(os.pread(fd, 65536, int(arg)))
        elif op == "fstat":
            st = os.fstat(fd)
            res = "%o %d %d" % (st.st_mode & 0o7777, st.st_uid, st.st_size)
        elif op == "ftrunc":
            os.ftruncate(fd, int(arg))
        elif op == "fchmod":
            os.fchmod(fd, int(arg, 8))
        elif op == "ls":
            res = ",".join(sorted(os.listdir(fd)))
        elif op == "close":
            os.close(fd)
        else:
            sys.exit("fdop: unknown step " + step)
        print(op, "OK" + (" " + res if res else ""))
    except OSError as e:
        print(op if op in ("w", "r", "pread", "fstat", "ftrunc", "fchmod", "ls", "close")
              else op + ":" + arg, en(e))
'
fdop() { timeout -k 3 20 "$PY" -c "$FDOP" "$@"; }
nb_fdop() { as_nobody "$PY" -c "$FDOP" "$@"; }

alive() { # MSG: the daemon runs and answers
	if vn_alive && [ "$(vn_cat "$M/networks/public/mtu")" = 1500 ]; then
		vn__pass "daemon alive and answering after $1"
	else
		vn__fail "daemon alive and answering after $1"
	fi
}

# ---- the reproducers of issue 6, in the shell ------------------------------------
wfd3() { printf '%s\n' "$1" >&3; }
vn_ok mkdir "$M/networks/mine"
exec 3>"$M/networks/mine/admin_state"
vn_ok rm "$M/networks/mine/admin_state"
vn_expect_fail ESTALE wfd3 down
exec 3>&-
alive "echo down >&3 on an admin_state removed while open"
vn_eq up "$(vn_cat "$M/networks/mine/admin_state")" "the write through the stale handle changed nothing"

vn_ok mkdir "$M/networks/m2"
json=$(cat "$M/networks/m2/json" && echo .)
exec 3<"$M/networks/m2/json"
vn_ok rmdir "$M/networks/m2"
# (dd, not cat, for the rest: cat's fstat of a removed file is ESTALE)
got=$(timeout 10 dd bs=64 count=1 <&3 2>/dev/null && echo .) || true
rest=$(timeout 10 dd bs=64K count=1 <&3 2>/dev/null && echo .) || true
exec 3<&-
json=${json%.} got=${got%.} rest=${rest%.}
alive "dd <&3 on a json whose network was removed"
vn_eq "${json:0:64}" "$got" "the read serves the snapshot taken at open (first 64 bytes)"
vn_eq "$json" "$got$rest" "and the rest of it"

# the same for a value a scratch file was renamed onto (its node was made
# by the rename, bound at the open), read after the network went
vn_ok mkdir "$M/networks/m3"
vn_ok vn_w "$M/networks/m3/.mtu.tmp" 1400
vn_ok mv "$M/networks/m3/.mtu.tmp" "$M/networks/m3/mtu"
exec 3<"$M/networks/m3/mtu"
vn_ok rmdir "$M/networks/m3"
got=$(timeout 10 dd bs=64 count=1 <&3 2>/dev/null && echo .) || true
exec 3<&-
vn_eq "1400
." "$got" "a value renamed into place and held open reads whole after its network went"

# ---- variants, as root and as nobody -----------------------------------------------
for who in root nobody; do
	if [ $who = root ]; then run=fdop p=r; else run=nb_fdop p=u; fi
	mk() { if [ $who = root ]; then mkdir "$@"; else as_nobody mkdir "$@"; fi; }
	N=$M/networks/$p-h
	vn_ok mk "$N"
	uid=$(stat -c %u "$N")

	vn_eq "w ESTALE
w ESTALE
close OK" "$($run w "$N/admin_state" "unlink:$N/admin_state" w:'down\n' w:'down\n' close)" \
		"$who: write after rm of the attribute"
	vn_eq up "$(vn_cat "$N/admin_state")" "$who: admin_state unchanged"

	vn_eq "r OK 1500\\n
w ESTALE
ftrunc ESTALE
fstat ESTALE
fchmod ESTALE
r OK
close OK" "$($run rw "$N/mtu" r:100 "rmdir:$N" w:'1400\n' ftrunc:0 fstat fchmod:600 r:100 close)" \
		"$who: read/write/ftruncate/fstat/fchmod after rmdir of the object"
	vn_true "$who: the network is gone" test ! -e "$N"
	alive "$who: handles on a removed network"

	vn_ok mk "$N"
	vn_eq "r OK 1500\\n
r OK
close OK" "$($run r "$N/mtu" "rmdir:$N" r:100 r:100 close)" "$who: a read handle keeps reading its snapshot"

	# a value in pieces, pending at close, then the object is made again
	vn_ok mk "$N"
	old_id=$(vn_cat "$N/id")
	vn_eq "w OK
w OK
close ESTALE" "$($run wn "$N/mtu" w:100 w:'0\n' "rmdir:$N" "mkdir:$N" close)" \
		"$who: a value pending at close whose object was made again"
	vn_ne "$old_id" "$(vn_cat "$N/id")" "$who: it is a new network"
	vn_eq 1500 "$(vn_cat "$N/mtu")" "$who: the new network did not get the old handle's value"
	vn_eq "w ESTALE
close OK" "$($run w "$N/mtu" "rmdir:$N" "mkdir:$N" w:'1400\n' close)" \
		"$who: write to a network removed and made again"
	vn_eq 1500 "$(vn_cat "$N/mtu")" "$who: ... still the default mtu"
	vn_eq "" "$(vn_cat "$N/error")" "$who: ... and no error on the new network"
	alive "$who: handles on a network made again"

	# O_TRUNC handle with nothing written (: > file) whose object went away
	vn_eq "close OK" "$($run w "$N/mtu" "rmdir:$N" "mkdir:$N" close)" "$who: : > mtu across rmdir + mkdir"
	vn_eq 1500 "$(vn_cat "$N/mtu")" "$who: ... left the new network alone"

	# directories
	vn_ok mk "$N/subnets/$p-hs"
	vn_eq "ls OK $p-hs
ls ESTALE
close OK" "$($run d "$N/subnets" ls "rmdir:$N/subnets/$p-hs" "rmdir:$N" ls close)" \
		"$who: readdir of subnets/ after its network was removed"
	vn_ok mk "$N"
	vn_eq "ls ESTALE
close OK" "$($run d "$N" "rmdir:$N" ls close)" "$who: readdir of a removed network"
	vn_ok mk "$N"
	alive "$who: directory handles"

	# scratch files
	vn_eq "w OK
fstat OK 644 $uid 3
r ESTALE
pread ESTALE
w ESTALE
ftrunc ESTALE
fstat ESTALE
close OK" "$($run c "$N/.t1" w:abc fstat "unlink:$N/.t1" r:10 pread:0 w:x ftrunc:0 fstat close)" \
		"$who: a scratch file removed while open"
	vn_true "$who: .t1 is gone" test ! -e "$N/.t1"
	vn_eq "w OK
w OK
pread OK abcdef
fstat OK 644 $uid 6
close OK" "$($run c "$N/.t2" w:abc "rename:$N/.t2:$N/.t3" w:def pread:0 fstat close)" \
		"$who: a scratch file renamed while open: the handle follows it"
	vn_eq abcdef "$(vn_cat "$N/.t3")" "$who: .t3 has both writes"
	vn_ok rm "$N/.t3"
	vn_eq "w OK
w ESTALE
pread ESTALE
ftrunc ESTALE
close OK" "$($run c "$N/.t4" w:'1400\n' "rename:$N/.t4:$N/mtu" w:'9000\n' pread:0 ftrunc:0 close)" \
		"$who: a scratch file renamed onto mtu while open"
	vn_eq 1400 "$(vn_cat "$N/mtu")" "$who: mtu is the renamed value, not the later write"
	vn_eq "w OK
close OK" "$($run c "$N/.t5" w:abc "rmdir:$N" close)" "$who: a scratch file whose network was removed"
	vn_true "$who: $N is gone" test ! -e "$N"
	alive "$who: scratch handles"
done

# ---- a handle on a port the daemon removed and made again --------------------------
# A router's leg port is deleted and made again (same name, new id) when the
# interface goes and comes back: the kernel keeps its path, so the daemon
# must tell the new port from the one the handle was opened on.
vn_ok mkdir "$M/networks/ln"
vn_ok mkdir "$M/networks/ln/subnets/lsub"
vn_ok vn_w "$M/networks/ln/subnets/lsub/cidr" 10.77.0.0/24
vn_ok mkdir "$M/routers/lr"
vn_ok vn_w "$M/routers/lr/interfaces" lsub
leg=$(vn_ls "$M/networks/ln/ports" | grep -v '^dhcp$')  # beside ln's DHCP port
vn_match '^qr-' "$leg" "the router made its leg port"
L=$M/networks/ln/ports/$leg
leg_id=$(vn_cat "$L/id")
vn_eq "w OK
w ESTALE
close OK" "$(fdop wn "$L/security_groups" w:'\n' "put:$M/routers/lr/interfaces:\n" \
	"put:$M/routers/lr/interfaces:lsub\n" w:'\n' close)" \
	"write to a leg port removed and made again under the same name"
vn_eq "$leg" "$(vn_ls "$M/networks/ln/ports" | grep -v '^dhcp$')" "the leg is back under its name"
vn_ne "$leg_id" "$(vn_cat "$L/id")" "as a new port"
vn_eq "" "$(vn_cat "$L/error")" "the new leg saw no write"
vn_ok vn_w "$M/routers/lr/interfaces" ""
vn_ok rmdir "$M/routers/lr"
alive "handles on a leg port"

# ---- scratch file modes ------------------------------------------------------------
R=$M/networks/mine
vn_ok as_nobody mkdir "$M/networks/nbown"
U=$M/networks/nbown
vn_ok bash -c "umask 077 && echo secret >'$R/.s600'"
vn_eq "600 0 0" "$(stat -c '%a %u %g' "$R/.s600")" "a scratch made under umask 077 is 0600 root:root"
vn_expect_fail EACCES as_nobody cat "$R/.s600"
vn_eq "open EACCES" "$(nb_fdop r "$R/.s600")" "nobody cannot open root's 0600 scratch for reading"
vn_eq "open EACCES" "$(nb_fdop wn "$R/.s600")" "nor for writing"
vn_ok bash -c "umask 022 && echo hello >'$R/.s644'"
vn_eq "644 0" "$(stat -c '%a %u' "$R/.s644")" "a scratch made under umask 022 is 0644"
vn_eq hello "$(as_nobody cat "$R/.s644" 2>&1)" "nobody reads root's 0644 scratch"
vn_expect_fail EPERM as_nobody chmod 644 "$R/.s600"
vn_eq 600 "$(stat -c %a "$R/.s600")" "nobody's chmod changed nothing"
vn_ok chmod 640 "$R/.s600"
vn_expect_fail EACCES as_nobody cat "$R/.s600"
vn_ok chmod 604 "$R/.s600"
vn_eq secret "$(as_nobody cat "$R/.s600" 2>&1)" "after root's chmod 604 nobody reads it"
vn_ok rm "$R/.s600" "$R/.s644"

# nobody's own 0600 scratch: root reads it, the owner does too
vn_ok as_nobody bash -c "umask 077 && echo mine >'$U/.n600'"
vn_eq "600 $NB $NB" "$(stat -c '%a %u %g' "$U/.n600")" "nobody's scratch is nobody's, 0600"
vn_eq mine "$(as_nobody cat "$U/.n600" 2>&1)" "its owner reads it"
vn_eq mine "$(vn_cat "$U/.n600")" "root reads it"
vn_ok as_nobody chmod 400 "$U/.n600"
vn_expect_fail EACCES as_nobody bash -c "echo more >>'$U/.n600'"
vn_ok as_nobody rm "$U/.n600"

# root's 0600 scratch inside nobody's network: nobody may remove it but not
# read it, nor publish it by renaming it onto an attribute
vn_ok bash -c "umask 077 && echo 1300 >'$U/.r600'"
vn_expect_fail EACCES as_nobody cat "$U/.r600"
vn_expect_fail EACCES as_nobody mv "$U/.r600" "$U/mtu"
vn_eq 1500 "$(vn_cat "$U/mtu")" "the refused rename changed nothing"
vn_ok as_nobody rm "$U/.r600"
vn_true ".r600 is gone" test ! -e "$U/.r600"
vn_ok bash -c "umask 077 && echo x >'$U/.r600'"
vn_expect_fail EPERM as_nobody chmod 644 "$U/.r600" # its owner's (root's) to change
vn_eq 600 "$(stat -c %a "$U/.r600")" "nobody cannot chmod root's scratch in nobody's network"
vn_ok as_nobody rmdir "$U"
alive "scratch modes"

# ---- per-user limits ---------------------------------------------------------------
for bad in "--max-objects-per-user=-1" "--max-objects-per-user=5K" "--max-scratch-per-user=1X" \
	"--max-scratch-per-user=" "--max-scratch-per-user=99999999999999999999"; do
	st=0
	out=$("$VNETFS" "$bad" "$VN_TMP/nomount" 2>&1) || st=$?
	vn_eq 2 "$st" "vnetfs $bad: exit status 2"
	vn_match "^vnetfs: --max-(objects|scratch)-per-user takes a number" "$out" "vnetfs $bad: says why"
done
vn_match "max-objects-per-user N" "$("$VNETFS" --help)" "--help lists --max-objects-per-user"
vn_match "max-scratch-per-user BYTES" "$("$VNETFS" --help)" "--help lists --max-scratch-per-user"
# Start over with small limits; nobody keeps 2 objects across the restart.
vn_ok as_nobody mkdir "$M/networks/q1"
vn_ok as_nobody mkdir "$M/networks/q1/subnets/qs1"
vn_restart -o allow_other --max-objects-per-user 5 --max-scratch-per-user 100K
vn_ok as_nobody mkdir "$M/networks/q2"
vn_ok as_nobody mkdir "$M/networks/q3"
vn_ok as_nobody mkdir "$M/networks/q3/subnets/qs3"
vn_expect_fail EDQUOT as_nobody mkdir "$M/networks/q1/subnets/qs6"
vn_eq "user $NB owns 5 objects, the most this daemon allows one user (--max-objects-per-user 5): remove some first" \
	"$(vn_cat "$M/networks/q1/error")" "the parent's error says why"
vn_expect_fail EDQUOT as_nobody mkdir "$M/networks/q6"
vn_true "the log says why for a top-level mkdir" \
	grep -q "mkdir /networks/q6: user $NB owns 5 objects" "$VN_TMP/daemon.log"
vn_true "q6 was not made" test ! -e "$M/networks/q6"
vn_expect_fail EDQUOT as_nobody mkdir "$M/networks/q1/ports/qp"
for i in 1 2 3 4 5 6 7; do
	vn_ok mkdir "$M/networks/root$i"
done
vn_ok mkdir "$M/networks/root1/subnets/rs1"
vn_ok rmdir "$M/networks/q3/subnets/qs3"
vn_ok as_nobody mkdir "$M/networks/q6"
vn_expect_fail EDQUOT as_nobody mkdir "$M/networks/q7"
vn_ok rmdir "$M/networks/q3" # root removes one of nobody's: it counts down too
vn_ok as_nobody mkdir "$M/networks/q7"
vn_expect_fail EDQUOT as_nobody mkdir "$M/networks/q8"
vn_ok as_nobody bash -c "echo 1400 >'$M/networks/q1/mtu'" # writes are not limited
alive "object limits"

# scratch bytes: 100 KiB for nobody
chunk() { as_nobody bash -c 'head -c "$2" /dev/zero >"$1"' x "$@"; }
vn_ok chunk "$M/networks/q1/.a" 61440
vn_expect_fail EDQUOT chunk "$M/networks/q2/.b" 61440
b=$(vn_size "$M/networks/q2/.b")
vn_true "nobody's scratch stays within 100 KiB (.a 61440 + .b $b)" test $((61440 + b)) -le 102400
vn_match "^the temporary files of user $NB would take [0-9]+ bytes, more than this daemon allows one user \(--max-scratch-per-user 102400\)" \
	"$(vn_cat "$M/networks/q2/error")" "q2's error says why"
vn_expect_fail EDQUOT as_nobody truncate -s 50000 "$M/networks/q6/.c"
vn_ok as_nobody rm "$M/networks/q1/.a"
vn_ok chunk "$M/networks/q2/.b" 61440
vn_eq 61440 "$(vn_size "$M/networks/q2/.b")" "after rm of .a nobody writes 60 KiB again"
vn_expect_fail EDQUOT chunk "$M/networks/q6/.c" 61440
vn_ok as_nobody truncate -s 1000 "$M/networks/q2/.b"
vn_ok chunk "$M/networks/q6/.c" 61440
vn_expect_fail EDQUOT chunk "$M/networks/q7/.d" 61440
vn_ok as_nobody rmdir "$M/networks/q6" # its scratch goes with it
vn_ok chunk "$M/networks/q7/.d" 61440
vn_ok as_nobody bash -c "printf 1400 >'$M/networks/q2/.b'" # O_TRUNC frees too
vn_ok chunk "$M/networks/q1/.e" 30000
vn_ok as_nobody mv "$M/networks/q2/.b" "$M/networks/q2/mtu" # rename onto an attribute frees
vn_eq 1400 "$(vn_cat "$M/networks/q2/mtu")" "the renamed scratch became the mtu"
vn_ok chunk "$M/networks/q1/.f" 10000
for i in 1 2 3; do
	vn_ok bash -c "head -c 61440 /dev/zero >'$M/networks/root$i/.big'" # root: no limit
done
alive "scratch limits"

# the counts survive a restart (objects are counted when loaded)
# (q1, qs1, q2, q7 now: 4)
vn_restart -o allow_other --max-objects-per-user 5 --max-scratch-per-user 100K
vn_ok as_nobody mkdir "$M/networks/q8"
vn_expect_fail EDQUOT as_nobody mkdir "$M/networks/q9"
vn_ok as_nobody rmdir "$M/networks/q7"
vn_ok as_nobody mkdir "$M/networks/q9"
vn_ok chunk "$M/networks/q8/.g" 61440 # the scratch files did not survive

# an object the daemon makes for a user (a router's leg port) counts to the
# owner of the router, whoever writes the interface (q1 qs1 q2 q8 q9 now: 5)
vn_restart -o allow_other --max-objects-per-user 6 --max-scratch-per-user 100K
vn_ok as_nobody mkdir "$M/routers/qr"
# a network's DHCP port is made for its owner too: with DHCP on, the cidr
# write that needs it would be the 7th object
vn_expect_fail EDQUOT as_nobody bash -c "echo 10.99.0.0/24 >'$M/networks/q1/subnets/qs1/cidr'"
vn_eq "" "$(vn_cat "$M/networks/q1/subnets/qs1/cidr")" "no cidr without room for the DHCP port"
vn_eq "" "$(vn_ls "$M/networks/q1/ports")" "no DHCP port was made"
vn_ok as_nobody bash -c "echo 0 >'$M/networks/q1/subnets/qs1/enable_dhcp'"
vn_ok as_nobody bash -c "echo 10.99.0.0/24 >'$M/networks/q1/subnets/qs1/cidr'"
# (a list is applied at close: coreutils printf reports what close() says)
vn_expect_fail EDQUOT as_nobody bash -c "env printf '%s\\n' qs1 >'$M/routers/qr/interfaces'"
vn_eq "user $NB owns 6 objects, the most this daemon allows one user (--max-objects-per-user 6): remove some first" \
	"$(vn_cat "$M/routers/qr/error")" "the router's error says why"
vn_eq "" "$(vn_ls "$M/networks/q1/ports")" "no leg port was made"
vn_eq "" "$(vn_cat "$M/routers/qr/interfaces")" "the interface was not added"
vn_expect_fail EDQUOT vn_w "$M/routers/qr/interfaces" qs1
vn_ok as_nobody rmdir "$M/networks/q9"
vn_ok as_nobody bash -c "echo qs1 >'$M/routers/qr/interfaces'"
vn_match '^qr-' "$(vn_ls "$M/networks/q1/ports")" "with room for it, the leg port is made"
vn_eq "$NB" "$(stat -c %u "$M/networks/q1/ports/$(vn_ls "$M/networks/q1/ports")")" "the leg is nobody's"
vn_expect_fail EDQUOT as_nobody mkdir "$M/networks/q9"
vn_ok as_nobody bash -c "echo >'$M/routers/qr/interfaces'"
vn_ok as_nobody mkdir "$M/networks/q9" # the leg's removal counted down
vn_ok as_nobody rmdir "$M/routers/qr"
alive "limits on objects the daemon makes for a user"

vn_restart -o allow_other --max-objects-per-user 0 --max-scratch-per-user 0
for i in 10 11 12 13; do
	vn_ok as_nobody mkdir "$M/networks/q$i"
done
vn_ok as_nobody bash -c "head -c 61440 /dev/zero >'$M/networks/q10/.h' && head -c 61440 /dev/zero >'$M/networks/q11/.h'"
alive "limits of 0 (none)"

vn_done
