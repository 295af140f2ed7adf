# match.mk - the matcher's data and benchmarks.
#
# data/nicknames.tsv is compiled into the library as a C array (so a
# daemon without the installed file still has the table) and installed
# beside the program by `make install` (the data/* rule of the Makefile).
# The generator is awk only: no od or xxd needed.

GEN_OBJ += $(BUILD)/gen/nicknames_data.o
# The Makefile's library rule expanded GEN_OBJ before this fragment was
# read, so name the object as a prerequisite too (the recipe archives $^).
$(LIBDSC): $(BUILD)/gen/nicknames_data.o

$(BUILD)/gen/nicknames_data.c: data/nicknames.tsv mk/match.mk
	@mkdir -p $(dir $@)
	awk 'BEGIN { print "/* Generated from data/nicknames.tsv by mk/match.mk: do not edit. */"; \
		print "#include <stddef.h>"; print "const char nicknames_data[] ="; } \
	{ gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); printf "\t\"%s\\n\"\n", $$0; } \
	END { print "\t\"\";"; print "const size_t nicknames_data_len = sizeof(nicknames_data) - 1;"; }' \
		data/nicknames.tsv > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/nicknames_data.o: $(BUILD)/gen/nicknames_data.c | deps
	$(CC) $(ALL_CFLAGS) -Wno-overlength-strings -c -o $@ $<

# The full measurement: registers of 10,000, 100,000 and 1,000,000 records.
.PHONY: bench-match
bench-match: $(BUILD)/matchbench $(BUILD)/genregister
	BUILD=$(BUILD) MATCHBENCH_SIZES="10000 100000 1000000" sh bench/bench-match.sh
