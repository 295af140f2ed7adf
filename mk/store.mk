# store.mk - the offline bulk loader uses the matcher's indexer once the
# matcher exists (lib/match.c); until then it uses a simple indexer of its
# own, so the store can be measured on its own.

ifneq ($(wildcard lib/match.c),)
$(BUILD)/tools/store-import.o: ALL_CFLAGS += -DHAVE_MATCHER
$(BUILD)/tools/store-import.o: lib/match.c
endif
