# match.mk - the matcher's data and benchmarks.
#
# data/nicknames.tsv (given names) and data/surnames.tsv (family names)
# are compiled into the library as C arrays (so a daemon without the
# installed files still has the tables) and installed beside the program
# by `make install` (the data/* rule of the Makefile).  The generator is
# awk only: no od or xxd needed.

MATCH_TABLES := nicknames surnames
GEN_OBJ += $(MATCH_TABLES:%=$(BUILD)/gen/%_data.o)
# The Makefile's library rule expanded GEN_OBJ before this fragment was
# read, so name the objects as prerequisites too (the recipe archives $^).
$(LIBDSC): $(MATCH_TABLES:%=$(BUILD)/gen/%_data.o)

$(BUILD)/gen/%_data.c: data/%.tsv mk/match.mk
	@mkdir -p $(dir $@)
	awk -v name=$* 'BEGIN { print "/* Generated from data/" name ".tsv by mk/match.mk: do not edit. */"; \
		print "#include <stddef.h>"; print "const char " name "_data[] ="; } \
	{ gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); printf "\t\"%s\\n\"\n", $$0; } \
	END { print "\t\"\";"; print "const size_t " name "_data_len = sizeof(" name "_data) - 1;"; }' \
		$< > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/%_data.o: $(BUILD)/gen/%_data.c | deps
	$(CC) $(ALL_CFLAGS) -Wno-overlength-strings -c -o $@ $<

# The full measurement: registers of 10,000, 100,000 and 1,000,000 records.
.PHONY: bench-match
bench-match: $(BUILD)/matchbench $(BUILD)/genregister
	BUILD=$(BUILD) MATCHBENCH_SIZES="10000 100000 1000000" sh bench/bench-match.sh
