#!/bin/sh
# Runs every bench/bench-*.sh in name order; each prints its own figures.
set -eu
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
export BUILD
status=0
for b in bench/bench-*.sh; do
	[ -e "$b" ] || continue
	echo "=== $b"
	sh "$b" || { echo "!!! $b failed" >&2; status=1; }
done
exit $status
