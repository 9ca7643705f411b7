#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/run.sh — the one test command. Run as root from anywhere:
#
#   sudo bash tests/run.sh [extra `meson test` args, e.g. --suite system]
#
# Builds vnetfs with AddressSanitizer + UndefinedBehaviorSanitizer into
# build-asan/ (configured on first use, reused afterwards), runs every test
# suite (unit, kernel, system) with `meson test`, then (with no arguments)
# the fuzz smoke runs (build-fuzz) and the threaded tests under
# ThreadSanitizer (build-tsan), and ends with one line:
#
#   N passed, M failed[, K skipped]
#
# Exit status: 0 only if something ran and nothing failed (Fail, Timeout
# and Unexpected Pass count as failed). Full logs:
# build-asan/meson-logs/testlog.txt.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
BUILD=${VN_BUILD_DIR:-build-asan}

if [ "$(id -u)" != 0 ]; then
	echo "tests/run.sh: must be run as root (the kernel and system tests need" >&2
	echo "namespaces, bridges and FUSE): sudo bash tests/run.sh" >&2
	exit 2
fi

# Sanitizers: any ASan/UBSan/LSan report fails the test. Unit tests halt
# on the first report. The system tests let UBSan continue inside the
# daemon (tests/lib.sh), fail on any report found in its log, and check
# the exit status after SIGTERM, which is where LeakSanitizer reports.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:print_summary=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:print_summary=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-print_suppressions=0}

if [ ! -f "$BUILD/build.ninja" ]; then
	echo "==> meson setup $BUILD (ASan + UBSan)"
	if ! meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false; then
		echo "tests/run.sh: meson setup failed" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
else
	echo "==> reusing $BUILD"
fi

echo "==> building"
if ! ninja -C "$BUILD"; then
	echo "tests/run.sh: the build failed" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

log=$(mktemp "${TMPDIR:-/tmp}/vnetfs-run.XXXXXX")
trap 'rm -f "$log"' EXIT

echo "==> meson test -C $BUILD --print-errorlogs $*"
meson test -C "$BUILD" --print-errorlogs "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

# vn_stage BUILD WHAT [meson test args]: build BUILD and run those tests,
# adding their summary to the log; a failed build or test fails the run.
vn_stage() {
	local build=$1 what=$2 src
	shift 2
	echo "==> meson test -C $build ($what) $*"
	if ninja -C "$build" >/dev/null; then
		meson test -C "$build" --print-errorlogs "$@" 2>&1 | tee -a "$log"
		src=${PIPESTATUS[0]}
		[ "$src" = 0 ] || rc=$src
	else
		echo "tests/run.sh: the $what build failed" >&2
		echo "Fail: 1" >>"$log"
		rc=1
	fi
}

# The fuzz targets' smoke runs (10 s each over their seed corpora), in a
# second build with clang's libFuzzer, when clang is there and no suite
# was picked. VN_NO_FUZZ=1 skips them.
if [ $# = 0 ] && [ -z "${VN_NO_FUZZ:-}" ] && command -v clang >/dev/null; then
	FUZZ_BUILD=${VN_FUZZ_BUILD_DIR:-build-fuzz}
	if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
		echo "==> meson setup $FUZZ_BUILD (clang, libFuzzer, ASan + UBSan)"
		CC=clang meson setup "$FUZZ_BUILD" -Dfuzz=true -Dsystem_tests=false \
			-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
	fi
	vn_stage "$FUZZ_BUILD" fuzz --suite fuzz
fi

# ThreadSanitizer: a third build (build-tsan) for the FUSE and model
# layers' threads: the unit tests (test_race renders while a writer
# changes values) and the system tests that race readers and writers,
# with the daemon built with TSan (a report makes its exit status 66,
# which vn_stop checks). When no suite was picked; VN_NO_TSAN=1 skips it.
if [ $# = 0 ] && [ -z "${VN_NO_TSAN:-}" ]; then
	TSAN_BUILD=${VN_TSAN_BUILD_DIR:-build-tsan}
	if [ ! -f "$TSAN_BUILD/build.ninja" ]; then
		echo "==> meson setup $TSAN_BUILD (ThreadSanitizer)"
		meson setup "$TSAN_BUILD" -Db_sanitize=thread >/dev/null
	fi
	TSAN_OPTIONS=${TSAN_OPTIONS:-exitcode=66:halt_on_error=0:second_deadlock_stack=1} \
		vn_stage "$TSAN_BUILD" ThreadSanitizer test_ip test_model test_quota test_jobs \
		test_graph test_race system-concurrency system-racing system-cache
fi

# Meson's summary block:
#   Ok:                 9
#   Expected Fail:      0
#   Fail:               0
#   Unexpected Pass:    0
#   Skipped:            1
#   Timeout:            0
count() {
	awk -v key="$1" '
		{ line = $0; sub(/^[ \t]+/, "", line) }
		index(line, key ":") == 1 { v = substr(line, length(key) + 2); gsub(/[^0-9]/, "", v); n += v }
		END { print n + 0 }' "$log"
}
ok=$(count "Ok")
xfail=$(count "Expected Fail")
fail=$(count "Fail")
xpass=$(count "Unexpected Pass")
skipped=$(count "Skipped")
timeout=$(count "Timeout")

passed=$((ok + xfail))
failed=$((fail + xpass + timeout))
if ! grep -qE '^[[:space:]]*Ok:' "$log"; then
	echo "tests/run.sh: meson test printed no summary (exit status $rc)" >&2
	[ "$failed" = 0 ] && failed=1
fi
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
	echo "tests/run.sh: meson test exited with status $rc" >&2
	failed=1
fi

summary="$passed passed, $failed failed"
[ "$skipped" != 0 ] && summary+=", $skipped skipped"
echo "$summary"

if [ "$failed" != 0 ] || [ "$passed" = 0 ]; then
	exit 1
fi
exit 0
