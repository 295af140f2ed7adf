# bench.mk - the load generator of the benchmarks (bench/loadgen.c).
# bench/ is not one of the folders the main Makefile builds from, so the
# rule lives here; `make bench` needs the program before bench/run.sh runs.

LOADGEN := $(BUILD)/loadgen

$(LOADGEN): $(BUILD)/bench/loadgen.o
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(shell pkg-config --libs openssl)

bench: $(LOADGEN)
