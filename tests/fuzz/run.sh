#!/bin/bash
# SPDX-License-Identifier: MIT
# Run the libFuzzer targets (tests/fuzz/fuzz_*.c).
#
#   tests/fuzz/run.sh [SECONDS]   build build-fuzz (clang, ASan+UBSan) if
#                                 needed, then run each target SECONDS
#                                 (default 60) and print its executions
#   tests/fuzz/run.sh --smoke BINARY SEEDS [SECONDS]
#                                 one target, 10 s (what `meson test
#                                 --suite fuzz` runs in a -Dfuzz=true build)
#
# Each target starts from its seed corpus tests/fuzz/corpus/NAME (read
# only); what it learns goes to a work corpus in the build directory, and
# a crashing input to BUILD/fuzz-artifacts/ (exit status 1). Not part of
# the default test command.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)

run_one() { # BINARY SEEDS SECONDS WORKDIR
	local bin=$1 seeds=$2 secs=$3 work=$4 name st=0
	name=$(basename "$bin")
	mkdir -p "$work/corpus-$name" "$work/fuzz-artifacts"
	# -rss_limit_mb bounds a run away allocation; a leak fails the run
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/fuzz-artifacts/$name-" \
		"$work/corpus-$name" "$seeds" >"$work/$name.log" 2>&1 || st=$?
	grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+ *DONE' "$work/$name.log" | sed "s/^/$name: /" || true
	if [ "$st" != 0 ]; then
		echo "$name: FAILED (exit $st); log: $work/$name.log" >&2
		grep -E 'ERROR|property failed|SUMMARY|Test unit written' "$work/$name.log" | head -n 20 >&2 || true
		return 1
	fi
	echo "$name: ok ($(ls "$work/corpus-$name" | wc -l) inputs in the work corpus)"
}

if [ "${1:-}" = --smoke ]; then
	bin=$2 seeds=$3 secs=${4:-10}
	run_one "$bin" "$seeds" "$secs" "$(dirname "$bin")/fuzz-work"
	exit
fi

secs=${1:-60}
B=${FUZZ_BUILD:-$SRC/build-fuzz}
if [ ! -f "$B/build.ninja" ]; then
	CC=clang meson setup "$B" "$SRC" -Dfuzz=true -Dsystem_tests=false \
		-Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C "$B" tests/fuzz/fuzz_ip tests/fuzz/fuzz_list tests/fuzz/fuzz_record tests/fuzz/fuzz_sgrule
rc=0
for t in fuzz_ip fuzz_list fuzz_record fuzz_sgrule; do
	run_one "$B/tests/fuzz/$t" "$SRC/tests/fuzz/corpus/$t" "$secs" "$B/tests/fuzz/fuzz-work" || rc=1
done
exit $rc
