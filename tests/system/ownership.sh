#!/bin/bash
# SPDX-License-Identifier: MIT
# Ownership: objects record the uid/gid that created them (ls -ln shows
# it); only root and the owner may change or remove an object. Runs the
# daemon with -o allow_other and acts as user nobody (65534).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
vn_sandbox "$@"
command -v setpriv >/dev/null || vn__skip "setpriv (util-linux) is missing"
vn_start -o allow_other

M=$VN_MNT
NB=65534
as_nobody() {
	timeout -k 3 20 setpriv --reuid=$NB --regid=$NB --clear-groups "$@"
}
nobody_w() { as_nobody bash -c 'printf "%s\n" "$2" >"$1"' x "$1" "$2"; }
nobody_a() { as_nobody bash -c 'printf "%s\n" "$2" >>"$1"' x "$1" "$2"; }

vn_eq "$NB $NB" "$(as_nobody sh -c 'echo "$(id -u) $(id -g)"')" "setpriv really runs as nobody"

# ---- nobody can read everything ------------------------------------------------------
vn_eq 1500 "$(as_nobody cat "$M/networks/public/mtu" 2>&1)" "nobody reads root's mtu"
vn_eq public "$(as_nobody ls "$M/networks" 2>&1)" "nobody lists networks"
vn_eq "0 0" "$(stat -c '%u %g' "$M/networks/public")" "public is owned by root"
vn_eq "0 0" "$(stat -c '%u %g' "$M/networks/public/mtu")" "public/mtu is owned by root"

# ---- nobody creates its own network ------------------------------------------------
vn_ok as_nobody mkdir "$M/networks/nbnet"
vn_eq "$NB $NB" "$(stat -c '%u %g' "$M/networks/nbnet")" "nobody's network is owned by 65534:65534"
vn_eq "$NB $NB" "$(stat -c '%u %g' "$M/networks/nbnet/mtu")" "its mtu file too"
vn_eq "$NB $NB" "$(stat -c '%u %g' "$M/networks/nbnet/subnets")" "its subnets/ dir too"
line=$(ls -ln "$M/networks" | awk '$NF == "nbnet" {print $3, $4}')
vn_eq "$NB $NB" "$line" "ls -ln shows 65534 65534 for nbnet"
line=$(ls -ln "$M/networks" | awk '$NF == "public" {print $3, $4}')
vn_eq "0 0" "$line" "ls -ln shows 0 0 for public"
nb_br=$(vn_cat "$M/networks/nbnet/bridge")
vn_eq bridge "$(vn_link_kind "$nb_br")" "nobody's mkdir made a real bridge"
vn_ok nobody_w "$M/networks/nbnet/mtu" 1400
vn_eq 1400 "$(vn_link_mtu "$nb_br")" "nobody changed its own mtu"
vn_ok as_nobody mkdir "$M/networks/nbnet/subnets/nbsub"
vn_eq "$NB $NB" "$(stat -c '%u %g' "$M/networks/nbnet/subnets/nbsub")" "nobody's subnet owned by nobody"
vn_ok nobody_w "$M/networks/nbnet/subnets/nbsub/cidr" 10.66.0.0/24
vn_ok nobody_a "$M/networks/nbnet/subnets/nbsub/dns_nameservers" 10.66.0.53
vn_eq 10.66.0.53 "$(vn_cat "$M/networks/nbnet/subnets/nbsub/dns_nameservers")" "nobody appended to its own list"
vn_ok as_nobody sed -i 's/1400/1450/' "$M/networks/nbnet/mtu"
vn_eq 1450 "$(vn_cat "$M/networks/nbnet/mtu")" "nobody's sed -i on its own attribute"

# ---- nobody cannot touch root's objects -----------------------------------------------
vn_expect_fail EACCES nobody_w "$M/networks/public/mtu" 1400
vn_eq 1500 "$(vn_cat "$M/networks/public/mtu")" "public mtu unchanged"
vn_eq 1500 "$(vn_link_mtu "$(vn_cat "$M/networks/public/bridge")")" "public bridge mtu unchanged"
vn_expect_fail EACCES nobody_w "$M/networks/public/admin_state" down
vn_expect_fail EACCES nobody_a "$M/networks/public/subnets/public-subnet/dns_nameservers" 9.9.9.9
vn_eq "" "$(vn_cat "$M/networks/public/subnets/public-subnet/dns_nameservers")" "root's list unchanged"
vn_expect_fail EACCES as_nobody rm "$M/networks/public/mtu"
vn_expect_fail EACCES as_nobody rmdir "$M/networks/public/subnets/public-subnet"
vn_expect_fail EACCES as_nobody rmdir "$M/networks/public"
vn_expect_fail EACCES as_nobody mkdir "$M/networks/public/subnets/nb-in-root"
vn_true "public and its subnet are still there" test -d "$M/networks/public/subnets/public-subnet"
vn_expect_fail EACCES as_nobody rmdir "$M/flavors/m1.tiny"
vn_expect_fail EACCES nobody_w "$M/flavors/m1.tiny/ram" 1
vn_eq 512 "$(vn_cat "$M/flavors/m1.tiny/ram")" "m1.tiny ram unchanged"
printf '1300\n' >"$VN_TMP/v"
chmod 644 "$VN_TMP/v"
vn_expect_fail EACCES as_nobody cp "$VN_TMP/v" "$M/networks/public/mtu.tmp"
vn_expect_fail ANY as_nobody rm -r "$M/networks/public"
vn_true "public survived nobody's rm -r" test -d "$M/networks/public/subnets/public-subnet"
vn_eq 1500 "$(vn_cat "$M/networks/public/mtu")" "public mtu still 1500 after nobody's rm -r"

# root's network made now, then nobody tries it
vn_ok mkdir "$M/networks/rootnet"
vn_expect_fail EACCES nobody_w "$M/networks/rootnet/mtu" 1400
vn_expect_fail EACCES as_nobody rmdir "$M/networks/rootnet"
vn_true "rootnet survived" test -d "$M/networks/rootnet"

# ---- root may change and remove nobody's objects ---------------------------------------
vn_ok vn_w "$M/networks/nbnet/mtu" 9000
vn_eq 9000 "$(vn_link_mtu "$nb_br")" "root changed nobody's mtu"
vn_eq "$NB $NB" "$(stat -c '%u %g' "$M/networks/nbnet")" "root's write did not change the owner"

# ---- ownership survives a restart ------------------------------------------------------
vn_restart
vn_eq "$NB $NB" "$(stat -c '%u %g' "$M/networks/nbnet")" "owner recorded across restart"
vn_eq "$NB $NB" "$(stat -c '%u %g' "$M/networks/nbnet/subnets/nbsub")" "subnet owner recorded across restart"
vn_expect_fail EACCES nobody_w "$M/networks/rootnet/mtu" 1400
vn_ok nobody_w "$M/networks/nbnet/mtu" 1500

# a port of nobody's may only go into a namespace of nobody's own process
vn_ok as_nobody mkdir "$M/networks/nbnet/ports/nbport"
vn_host nbhost
vn_expect_fail EACCES nobody_w "$M/networks/nbnet/ports/nbport/netns" /run/netns/nbhost
vn_expect_fail EACCES nobody_w "$M/networks/nbnet/ports/nbport/netns" /proc/1/ns/net
vn_eq "" "$(vn_cat "$M/networks/nbnet/ports/nbport/netns")" "nobody's port stays unbound"
vn_match "only root" "$(vn_cat "$M/networks/nbnet/ports/nbport/error")" "error says only root binds there"
# setpriv and unshare exec in place: $! is the sleep, nobody's process
setpriv --reuid=$NB --regid=$NB --clear-groups unshare --user --net sleep 60 &
nbpid=$!
for _ in $(seq 50); do
	[ "$(readlink "/proc/$nbpid/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.1
done
vn_ok nobody_w "$M/networks/nbnet/ports/nbport/netns" "/proc/$nbpid/ns/net"
vn_eq eth0 "$(nsenter --net="/proc/$nbpid/ns/net" ip -j link show dev eth0 | jq -r '.[0].ifname')" \
	"nobody's port is plugged into nobody's own namespace"
vn_ok nobody_w "$M/networks/nbnet/ports/nbport/netns" ""
kill "$nbpid"
wait "$nbpid" 2>/dev/null || true
# nobody's router may use public as gateway but not root's subnets
vn_ok as_nobody mkdir "$M/routers/nbr"
vn_ok nobody_w "$M/routers/nbr/external_gateway" public
vn_expect_fail EACCES nobody_w "$M/routers/nbr/interfaces" public-subnet
vn_match "another user" "$(vn_cat "$M/routers/nbr/error")" "error says the subnet is someone else's"
vn_ok nobody_w "$M/routers/nbr/interfaces" nbsub
vn_ok nobody_w "$M/routers/nbr/interfaces" ""
vn_ok as_nobody rm -r "$M/routers/nbr"
# root binds anywhere
vn_ok vn_w "$M/networks/nbnet/ports/nbport/netns" /run/netns/nbhost
vn_ok vn_w "$M/networks/nbnet/ports/nbport/netns" ""

# nobody removes its own network with everything in it
vn_ok as_nobody rm -r "$M/networks/nbnet"
vn_true "nobody's rm -r removed nbnet" test ! -e "$M/networks/nbnet"
vn_eq absent "$(vn_link_kind "$nb_br")" "and its bridge"
vn_ok as_nobody mkdir "$M/networks/nbnet2"
vn_ok rmdir "$M/networks/nbnet2"
vn_true "root removed nobody's network" test ! -e "$M/networks/nbnet2"
vn_ok rmdir "$M/networks/rootnet"

vn_done
