#!/bin/bash
# SPDX-License-Identifier: MIT
# bench-steps.sh: does each step of making a network stay flat as the tree
# grows? One python3 process makes, per network, the network, a subnet,
# its enable_dhcp and cidr, and a port; the median of each step over the
# first 100 networks is set against the median over 100 more made once
# BENCH_NETS (3000) are there. See bench/README.md.
#   sudo bash bench/bench-steps.sh
#   sudo BENCH_NETS=1000 VNETFS=/path/to/other/vnetfs bash bench/bench-steps.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"
VN_DAEMON_ARGS=(--no-defaults)
vn_start
python3 - "$VN_MNT" <<'PY'
import os, sys, time, statistics as st
m = sys.argv[1]
def w(p, v):
    fd=os.open(p, os.O_WRONLY|os.O_TRUNC); os.write(fd, v.encode()); os.close(fd)
def one(i):
    t=[time.perf_counter()]
    os.mkdir(f"{m}/networks/b{i}"); t.append(time.perf_counter())
    os.mkdir(f"{m}/networks/b{i}/subnets/s{i}"); t.append(time.perf_counter())
    w(f"{m}/networks/b{i}/subnets/s{i}/enable_dhcp", "0\n"); t.append(time.perf_counter())
    w(f"{m}/networks/b{i}/subnets/s{i}/cidr", f"10.{i//256}.{i%256}.0/24\n"); t.append(time.perf_counter())
    os.mkdir(f"{m}/networks/b{i}/ports/p{i}"); t.append(time.perf_counter())
    return [t[k+1]-t[k] for k in range(len(t)-1)]
# one external network, like the default public one (no subnet may
# overlap its subnets: every cidr write checks them)
os.mkdir(f"{m}/networks/ext")
w(f"{m}/networks/ext/external", "1\n")
names=["mkdir networks/X","mkdir X/subnets/S","write S/enable_dhcp","write S/cidr","mkdir X/ports/P"]
N=int(os.environ.get("BENCH_NETS","3000"))
first=[one(i) for i in range(100)]
for i in range(100, N): one(i)
last=[one(i) for i in range(N, N+100)]
print(f"| step | median, first 100 networks | median, networks {N}..{N+99} | ratio |")
print("|---|---:|---:|---:|")
for k,nm in enumerate(names):
    a=st.median([x[k] for x in first])*1e3; b=st.median([x[k] for x in last])*1e3
    print(f"| {nm} | {a:.3f} ms | {b:.3f} ms | {b/a:.2f} |")
PY
vn_done
