# ci.mk - short versions of the long runs, for CI (.ci/run).
.PHONY: bench-smoke
# The daemon benchmark on a 2,000-person register, one short run per row:
# proves the load generator and the bench script work, prints figures that
# are not the capacity figures (those are `make bench`).
bench-smoke: all $(LOADGEN)
	@scripts/ensure-deps.sh bench
	BUILD=$(BUILD) BENCH_SIZES=2000 BENCH_SECONDS=2 BENCH_REPEATS=1 sh bench/bench-daemon.sh
