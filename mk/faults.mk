# faults.mk - the disk-error shim of the integration tests.
#
# tests/integration/faultfs.c is preloaded (LD_PRELOAD) into the daemon by
# tests/integration/test_io_faults.py to make fsync/fdatasync and the
# store's page writes fail while a trigger file exists.  It is built here,
# beside the programs, because the suite finds it as $(BUILD)/faultfs.so.
# Never with the sanitizers: a preloaded library cannot carry ASan's
# runtime (the test tells an ASan daemon not to insist on coming first).

FAULTFS := $(BUILD)/faultfs.so

$(FAULTFS): tests/integration/faultfs.c mk/faults.mk | deps
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -fPIC -shared -o $@ $< -ldl

check-integration: $(FAULTFS)
