# Fuzzing with libFuzzer (clang).  Every parser that takes outside input has
# a target fuzz/fuzz_*.c with a committed seed corpus fuzz/corpus/<target>/
# and kept crash inputs fuzz/regressions/<target>/ (run on every smoke).
#
#   make fuzz                 each target for FUZZ_SECONDS (default 600)
#   make fuzz-smoke           each target for 20 s, plus the regressions (CI)

FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BINS     = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)

.PHONY: fuzz fuzz-smoke fuzz-build
fuzz-build:
	@scripts/ensure-deps.sh build fuzz
	$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang SANITIZE=1 \
		CFLAGS="-g -fsanitize=fuzzer-no-link" $(FUZZ_BUILD)/libdisclosure.a
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "  FUZZ    $$t"; \
		clang -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -fsanitize=fuzzer,address,undefined \
			-fno-sanitize-recover=undefined -o $(FUZZ_BUILD)/$$t fuzz/$$t.c \
			$(FUZZ_BUILD)/libdisclosure.a $(PKG_LIBS) -pthread; \
	done

# run_fuzz SECONDS: each target on a scratch corpus seeded from the committed one.
define run_fuzz
	@set -e; mkdir -p $(FUZZ_BUILD)/artifacts; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t fuzz/regressions/$$t; \
		cp -n fuzz/corpus/$$t/* $(FUZZ_BUILD)/corpus/$$t/ 2>/dev/null || true; \
		if [ -n "$$(ls fuzz/regressions/$$t 2>/dev/null)" ]; then \
			echo "== $$t: regressions"; \
			$(FUZZ_BUILD)/$$t -runs=1 fuzz/regressions/$$t/* >$(FUZZ_BUILD)/$$t.regress.log 2>&1 || \
				{ tail -n 30 $(FUZZ_BUILD)/$$t.regress.log; exit 1; }; \
		fi; \
		echo "== $$t: $(1) s"; \
		$(FUZZ_BUILD)/$$t -max_total_time=$(1) -print_final_stats=1 -rss_limit_mb=2048 \
			-artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- $(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t \
			>$(FUZZ_BUILD)/$$t.log 2>&1 || { tail -n 40 $(FUZZ_BUILD)/$$t.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' $(FUZZ_BUILD)/$$t.log | tr '\n' ' '; echo; \
	done
endef

fuzz: fuzz-build
	$(call run_fuzz,$(FUZZ_SECONDS))

fuzz-smoke: fuzz-build
	$(call run_fuzz,20)
