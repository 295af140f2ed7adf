# eval.mk - an independent evaluation of matching through the daemon's API
# (bench/eval-api.py): a register from genregister loaded with store-import,
# the real disclosured over mutual TLS, a corruption model of its own.
#
#   make bench-eval                                   100,000 records, ~2,000 checks
#   make bench-eval EVAL_ARGS="--records 10000 --per-kind 20"
#
# Not part of `make bench` (bench/run.sh runs bench/bench-*.sh only): it
# measures quality, not throughput, and takes a few minutes.

EVAL_ARGS ?=

.PHONY: bench-eval
bench-eval: $(BUILD)/disclosured $(BUILD)/genregister $(BUILD)/store-import
	BUILD=$(BUILD) $(PYTHON) bench/eval-api.py $(EVAL_ARGS)
