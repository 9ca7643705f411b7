# SPDX-License-Identifier: MIT
# Sourced by the benchmarks: unless VNETFS names a binary, build the
# release one (sanitizer builds say nothing about speed), then enter the
# same throwaway mount + network namespace as the system tests. Sets
# $here (bench/) and $root (the repository).
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

if [ "${VN_IN_SANDBOX:-}" != 1 ] && [ -z "${VNETFS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "$(basename "$0"): run as root" >&2; exit 2; }
	if [ ! -f "$root/build-release/build.ninja" ]; then
		meson setup "$root/build-release" --buildtype=release -Db_sanitize=none -Db_ndebug=true >&2
	fi
	ninja -C "$root/build-release" vnetfs fuse-floor openloop >&2
	export VNETFS=$root/build-release/vnetfs
fi

export VN_QUIET=1
. "$root/tests/lib.sh"
vn_sandbox "$@"
