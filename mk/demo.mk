# demo.mk - `make demo`, the README's first command: install what is
# missing, build the daemon, the client and the register generator, then
# run scripts/demo.sh, which leaves a ready-made deployment in ./demo/.
.PHONY: demo demo-deps

demo-deps:
	@scripts/ensure-deps.sh build check demo

demo: demo-deps
	$(MAKE) --no-print-directory BUILD=$(BUILD) $(BUILD)/disclosured $(BUILD)/disclosurectl $(BUILD)/genregister
	BUILD=$(BUILD) scripts/demo.sh
