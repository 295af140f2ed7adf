#!/bin/sh
# bench-store.sh - import rate of the offline bulk loader and the store's
# size on disk, for registers of 100,000 and 1,000,000 generated people.
#
# Each size is imported into a fresh store STORE_BENCH_RUNS times (3 by
# default) and the median rate is printed, with the median CPU seconds of
# the whole loader and of its writer thread: on a shared machine the wall
# clock says as much about the neighbours as about the loader (the load
# average is printed too).  The generated registers are cached under
# $BUILD/bench-data/ (same seed, same bytes); the stores are removed
# afterwards.  STORE_BENCH_SIZES overrides the sizes.
set -eu
cd "$(dirname "$0")/.."
: "${BUILD:=build}"
: "${STORE_BENCH_SIZES:=100000 1000000}"
: "${STORE_BENCH_RUNS:=3}"

gen="$BUILD/genregister"
imp="$BUILD/store-import"
for p in "$gen" "$imp"; do
	if [ ! -x "$p" ]; then
		echo "bench-store: $p is missing: run make BUILD=$BUILD first" >&2
		exit 1
	fi
done
data="$BUILD/bench-data"
mkdir -p "$data"
store="$data/store-bench.$$"
trap 'rm -rf "$store"' EXIT INT TERM

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print v[int((NR + 1) / 2)] }'
}

field() { # field NAME LINE
	printf '%s\n' "$2" | sed -n "s/.*[ ^]$1=\([0-9.]*\).*/\1/p; s/^$1=\([0-9.]*\).*/\1/p" | head -n 1
}

echo "store import (offline bulk loader, $(nproc) cores, $STORE_BENCH_RUNS runs each, median)"
for n in $STORE_BENCH_SIZES; do
	reg="$data/register-$n.jsonl"
	if [ ! -s "$reg" ]; then
		"$gen" --seed 1 --count "$n" -o "$reg.tmp"
		mv "$reg.tmp" "$reg"
	fi
	rates="" secs="" cpus="" writers="" indexes="" loads=""
	run=1
	while [ "$run" -le "$STORE_BENCH_RUNS" ]; do
		rm -rf "$store"
		loads="$loads $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')"
		out=$("$imp" --quiet "$store" "$reg")
		records=$(field records "$out")
		if [ "$records" != "$n" ]; then
			echo "bench-store: $records records in the store, $n generated: rejected lines" >&2
			exit 1
		fi
		rates="$rates $(field rate "$out")"
		secs="$secs $(field seconds "$out")"
		cpus="$cpus $(field cpu_total "$out")"
		writers="$writers $(field cpu_writer "$out")"
		indexes="$indexes $(field index_seconds "$out")"
		used=$(field used_bytes "$out")
		run=$((run + 1))
	done
	disk_kib=$(du -k "$store/data.mdb" | cut -f1)
	input_mib=$(du -k "$reg" | awk '{ printf "%.0f", $1 / 1024 }')
	printf '  %8s records: %7s records/s median (%s s wall; runs:%s records/s)\n' \
		"$n" "$(printf '%s\n' $rates | median)" "$(printf '%s\n' $secs | median)" "$rates"
	printf '  %8s          CPU %s s in all, %s s in the writer thread (medians); load average before each run:%s\n' \
		"" "$(printf '%s\n' $cpus | median)" "$(printf '%s\n' $writers | median)" "$loads"
	# The index entries are sorted and written after the records, by one
	# thread while the parsers wait: the part of the wall clock to watch.
	printf '  %8s          of which %s s writing the index at the end (median)\n' \
		"" "$(printf '%s\n' $indexes | median)"
	printf '  %8s          data.mdb %s MiB on disk, %s MiB of pages in use (input %s MiB of JSON lines)\n' \
		"" "$(awk -v k="$disk_kib" 'BEGIN { printf "%.0f", k / 1024 }')" \
		"$(awk -v b="$used" 'BEGIN { printf "%.0f", b / 1048576 }')" "$input_mib"
done
