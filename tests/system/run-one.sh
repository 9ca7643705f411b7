#!/bin/sh
# SPDX-License-Identifier: MIT
# Meson wrapper for one system test: run-one.sh SCRIPT
# Runs SCRIPT with bash; its exit status is passed through (77 = skipped,
# which meson reports as SKIP). VNETFS (the built daemon) comes from meson.
if [ $# -lt 1 ]; then
	echo "usage: $0 SCRIPT [ARGS...]" >&2
	exit 99
fi
script=$1
shift
if [ ! -f "$script" ]; then
	echo "run-one.sh: no such test script: $script" >&2
	exit 99
fi
exec bash "$script" "$@"
