#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/bench-ports.sh — do port create, router interface add and network
# create stay flat as the tree grows?
#
#   sudo bash bench/bench-ports.sh
#   sudo VNETFS=/path/to/other/vnetfs bash bench/bench-ports.sh   # a baseline binary
#   sudo BENCH_PORTS="0 1000 5000" BENCH_NETS="0 5000" bash bench/bench-ports.sh
#
# Builds build-release/ (buildtype=release, no sanitizers) unless VNETFS is
# set, then runs inside the throwaway mount + network namespace of the
# system tests (tests/lib.sh). Not run by `meson test`. Everything goes
# through the mount from ONE python3 process (os.mkdir, os.write), so a
# fork per step does not hide the daemon's own cost. Measured, in order:
#  1. network create (mkdir networks/X) with no other network;
#  2. port create (mkdir networks/pn/ports/X) on one network holding
#     0 / 1,000 / 10,000 ports (BENCH_PORTS), its subnet a /16;
#  3. router interface add (echo SUB >> routers/r0/interfaces, a fresh
#     network + subnet each time) with 1 / 100 routers (BENCH_ROUTERS),
#     each with an interface of its own, and the ports of 2. in the tree;
#  4. network create again with 10,000 networks (BENCH_NETS' largest) in
#     the tree.
# BENCH_REPEAT (default 30) samples per point; the table shows the median
# and the 90th percentile per operation, and max/min of the medians per row
# group (the target: within 1.3x).
set -euo pipefail

. "$(dirname "$0")/common.sh"
trap - ERR

command -v python3 >/dev/null || { echo "bench-ports.sh: python3 is missing" >&2; exit 2; }
REPEAT=${BENCH_REPEAT:-30}
PORTS=${BENCH_PORTS:-0 1000 10000}
ROUTERS=${BENCH_ROUTERS:-1 100}
NETS=${BENCH_NETS:-0 10000}

vn_start --no-defaults
echo "# binary: $VNETFS" >&2

python3 - "$VN_MNT" "$PORTS" "$ROUTERS" "$NETS" "$REPEAT" <<'EOF'
import os, statistics, sys, time

M = sys.argv[1]
PORTS = [int(x) for x in sys.argv[2].split()]
ROUTERS = [int(x) for x in sys.argv[3].split()]
NETS = [int(x) for x in sys.argv[4].split()]
R = int(sys.argv[5])
rows = []


def w(path, val, append=False):
    fd = os.open(path, os.O_WRONLY | (os.O_APPEND if append else os.O_TRUNC))
    try:
        os.write(fd, val.encode())
    finally:
        os.close(fd)


def timed(fn):
    a = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - a) / 1000.0


def report(what, n, samples):
    s = sorted(samples)
    med = statistics.median(s)
    p90 = s[min(len(s) - 1, int(len(s) * 0.9))]
    rows.append((what, n, med))
    print(f"ROW|{what}|{n}|{med:.1f}|{p90:.1f}", flush=True)
    print(f"# {what} at {n}: median {med:.1f} us", file=sys.stderr, flush=True)


def mknet(net, sub, cidr):
    os.mkdir(f"{M}/networks/{net}")
    os.mkdir(f"{M}/networks/{net}/subnets/{sub}")
    w(f"{M}/networks/{net}/subnets/{sub}/cidr", cidr + "\n")


def nets_create(n):
    samples = []
    for i in range(R):
        samples.append(timed(lambda: os.mkdir(f"{M}/networks/m{n}_{i}")))
    for i in range(R):
        os.rmdir(f"{M}/networks/m{n}_{i}")
    report("network create", n, samples)


# 1. network create, empty tree
nets_create(0)

# 2. ports on one network
mknet("pn", "ps", "10.64.0.0/16")
P = f"{M}/networks/pn/ports"
have = 0
for n in PORTS:
    t0 = time.time()
    while have < n:
        os.mkdir(f"{P}/f{have}")
        have += 1
    print(f"# filled to {n} ports in {time.time() - t0:.1f} s", file=sys.stderr, flush=True)
    samples = []
    for i in range(R):
        samples.append(timed(lambda: os.mkdir(f"{P}/m{n}_{i}")))
    for i in range(R):
        os.rmdir(f"{P}/m{n}_{i}")
    report("port create", n, samples)

# 3. router interface add
routers = 0
for gi, n in enumerate(ROUTERS):
    t0 = time.time()
    while routers < n:
        os.mkdir(f"{M}/routers/r{routers}")
        mknet(f"rn{routers}", f"rs{routers}", f"10.{128 + routers // 200}.{routers % 200}.0/24")
        w(f"{M}/routers/r{routers}/interfaces", f"rs{routers}\n")
        routers += 1
    print(f"# {n} routers in {time.time() - t0:.1f} s", file=sys.stderr, flush=True)
    k = min(R, 60)
    for i in range(k):
        mknet(f"in{n}_{i}", f"is{n}_{i}", f"10.{140 + gi}.{i}.0/24")
    samples = []
    for i in range(k):
        samples.append(timed(lambda: w(f"{M}/routers/r0/interfaces", f"is{n}_{i}\n", append=True)))
    w(f"{M}/routers/r0/interfaces", "rs0\n")
    report("router interface add", n, samples)

# 4. network create with many networks
big = max(NETS)
if big > 0:
    t0 = time.time()
    have = len(os.listdir(f"{M}/networks"))
    i = 0
    while have < big:
        os.mkdir(f"{M}/networks/x{i}")
        i += 1
        have += 1
    print(f"# filled to {big} networks in {time.time() - t0:.1f} s", file=sys.stderr, flush=True)
    nets_create(big)

for what in dict.fromkeys(r[0] for r in rows):
    meds = [r[2] for r in rows if r[0] == what]
    print(f"FLAT|{what}|{max(meds) / min(meds):.2f}", flush=True)
EOF
vn_stop
vn_done >/dev/null 2>&1 || true
