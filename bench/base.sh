# SPDX-License-Identifier: MIT
# Sourced by bench-routers.sh and bench-restart.sh (before common.sh): the
# baseline daemon, measured in the same run as the binary under test.
#
#   BENCH_BASE=/path/to/old/vnetfs    use that binary as the baseline
#   BENCH_BASE_REF=main               build it from that commit: `git archive`
#                                     into $BENCH_BASE_DIR (default
#                                     /var/tmp/vnetfs-bench-base; nothing in
#                                     the work tree or the repository changes),
#                                     release build in its build-release/
#   neither                           no baseline rows
if [ -z "${BENCH_BASE:-}" ] && [ -n "${BENCH_BASE_REF:-}" ] && [ "${VN_IN_SANDBOX:-}" != 1 ]; then
	_root=$(cd "$(dirname "$0")/.." && pwd)
	_src=${BENCH_BASE_DIR:-/var/tmp/vnetfs-bench-base}
	_rev=$(git -C "$_root" rev-parse --verify "$BENCH_BASE_REF^{commit}")
	if [ "$(cat "$_src/.rev" 2>/dev/null)" != "$_rev" ]; then
		rm -rf "$_src"
		mkdir -p "$_src"
		git -C "$_root" archive "$_rev" | tar -x -C "$_src"
		echo "$_rev" >"$_src/.rev"
	fi
	[ -f "$_src/build-release/build.ninja" ] ||
		meson setup "$_src/build-release" "$_src" --buildtype=release -Db_sanitize=none -Db_ndebug=true >&2
	ninja -C "$_src/build-release" vnetfs >&2
	export BENCH_BASE=$_src/build-release/vnetfs
	export BENCH_BASE_LABEL=${BENCH_BASE_LABEL:-$BENCH_BASE_REF ($(git -C "$_root" rev-parse --short "$_rev"))}
fi
export BENCH_BASE_LABEL=${BENCH_BASE_LABEL:-${BENCH_BASE:-}}

# bench_settle: wait (up to 120 s) until the kernel has finished tearing
# down deleted network namespaces: while that work runs (a kworker showing
# "+netns"), it holds RTNL for long stretches and creating a namespace
# blocks, which would be measured as the daemon's time.
bench_settle() {
	local quiet=0 i
	for ((i = 0; i < 600 && quiet < 5; i++)); do
		if ps -eo comm= | grep -q '+netns'; then quiet=0; else quiet=$((quiet + 1)); fi
		sleep 0.2
	done
}
