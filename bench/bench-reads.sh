#!/bin/bash
# SPDX-License-Identifier: MIT
# bench-reads.sh [N]: reads of a tree of N networks (default 1000), each
# with a subnet and a cidr, through the mount against a tmpfs copy of it:
#   - `find MOUNT -type f | xargs cat` and `grep -r`, median of
#     BENCH_REPEAT runs (default 3) each, after one warm-up walk;
#   - open+read+close latency (p50, p99, max) of files of random networks
#     for BENCH_SECONDS (default 5) s, alone and while a writer rewrites
#     values (an mtu and a dns_nameservers list) in a loop.
# See bench/README.md.
set -euo pipefail
. "$(dirname "$0")/common.sh"

N=${1:-1000}
REPEAT=${BENCH_REPEAT:-3}
SECS=${BENCH_SECONDS:-5}
vn_start --no-defaults
M=$VN_MNT

echo "making $N networks + subnets ..." >&2
python3 - "$M" "$N" <<'EOF'
import os, sys
m, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = "%s/networks/b%d" % (m, i)
    os.mkdir(d)
    os.mkdir(d + "/subnets/bs%d" % i)
    fd = os.open(d + "/subnets/bs%d/cidr" % i, os.O_WRONLY | os.O_TRUNC)
    os.write(fd, b"10.%d.%d.0/24\n" % (i // 256, i % 256))
    os.close(fd)
EOF
COPY=$VN_TMP/copy
mkdir -p "$COPY"
cp -r "$M/networks" "$COPY/"
nfiles=$(find "$M" -type f | wc -l)

median() { LC_ALL=C sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { # CMD...: seconds, 3 decimals
	local t0 t1
	t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 || true
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b - a}'
}
walk_cat() { find "$1" -type f -print0 | xargs -0 cat; }
walk_grep() { grep -r -c . "$1"; }
run() { # NAME FN
	local fn=$2 mnt cpy
	walk_cat "$M" >/dev/null 2>&1 # warm-up: names and attributes in the kernel's caches
	mnt=$(for _ in $(seq 1 "$REPEAT"); do timeit "$fn" "$M"; done | median)
	cpy=$(for _ in $(seq 1 "$REPEAT"); do timeit "$fn" "$COPY"; done | median)
	printf '| %s | %d | %s s | %s s | %.1fx |\n' "$1" "$nfiles" "$mnt" "$cpy" \
		"$(awk -v a="$mnt" -v b="$cpy" 'BEGIN {print (b > 0 ? a / b : 0)}')"
}

LAT='
import os, random, sys, time
m, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
files = ["mtu", "status", "json", "id", "admin_state", "bridge"]
lat = []
end = time.monotonic() + secs
while time.monotonic() < end:
    i = random.randrange(n) if random.random() < 0.8 else 0  # b0 is the one written
    p = "%s/networks/b%d/%s" % (m, i, random.choice(files))
    t = time.monotonic()
    fd = os.open(p, os.O_RDONLY)
    os.read(fd, 65536)
    os.close(fd)
    lat.append(time.monotonic() - t)
lat.sort()
q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] * 1000
print("%d %.3f %.3f %.3f" % (len(lat), q(0.5), q(0.99), lat[-1] * 1000))
'
WRITER='
import os, sys, time
m, secs = sys.argv[1], float(sys.argv[2])
def w(p, v):
    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
    os.write(fd, v)
    os.close(fd)
k = 0
end = time.monotonic() + secs
while time.monotonic() < end:
    w(m + "/networks/b0/mtu", b"1400\n" if k % 2 else b"1500\n")
    w(m + "/networks/b0/subnets/bs0/dns_nameservers", b"8.8.8.8\n1.1.1.1\n" if k % 2 else b"9.9.9.9\n")
    k += 1
print(k)
'
lat_row() { # NAME WITH_WRITER
	local out wpid=
	if [ "$2" = 1 ]; then
		python3 -c "$WRITER" "$M" "$((SECS + 1))" >"$VN_TMP/writes" &
		wpid=$!
		sleep 0.3
	fi
	read -r cnt p50 p99 max < <(python3 -c "$LAT" "$M" "$N" "$SECS")
	[ -z "$wpid" ] || wait "$wpid"
	printf '| %s | %d | %s ms | %s ms | %s ms | %s |\n' "$1" "$cnt" "$p50" "$p99" "$max" \
		"$([ -z "$wpid" ] && echo - || echo "$(cat "$VN_TMP/writes") x 2 writes")"
}

echo
echo "vnetfs bench-reads: N=$N networks ($nfiles files), $(basename "$VNETFS") $(git -C "$root" rev-parse --short HEAD 2>/dev/null || true)"
echo
echo "| walk | files | mount | tmpfs copy | ratio |"
echo "|---|---|---|---|---|"
run 'find -type f \| xargs cat' walk_cat
run 'grep -r' walk_grep
echo
echo "| open+read+close | reads | p50 | p99 | max | writer |"
echo "|---|---|---|---|---|---|"
lat_row "alone" 0
lat_row "while a writer rewrites b0's mtu and dns_nameservers" 1
echo
echo "removing ..." >&2
python3 -c 'import shutil, sys; shutil.rmtree(sys.argv[1] + "/networks/b0")' "$M" || true
vn_done >/dev/null || true
