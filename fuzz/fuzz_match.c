/*
 * fuzz_match.c - name normalisation and the matcher, end to end: the input
 * is split into up to CHECK_MAX_NAMES names of "given|middle|family" (lines)
 * plus an optional "@YYYY-MM-DD" date (or "@N", an age; or "%YYYY" or
 * "%YYYY-MM", a date known in part) and "#postcode", and run as a check
 * against a small real store of fictitious people made at start.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disclosure/match.h"
#include "disclosure/store.h"

static struct matcher *fz_matcher;
static struct match_ctx *fz_ctx;
static struct store *fz_store;
static struct store_reader *fz_reader;

static const char *fz_people[] = {
	"{\"id\":\"FZ-1\",\"names\":[{\"given\":\"Gareth\",\"family\":\"Llewellyn\",\"kind\":\"primary\"},"
	"{\"given\":\"Gary\",\"family\":\"Llewelyn\",\"kind\":\"alias\"}],\"dob\":\"1971-04-09\","
	"\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"FZ-2\",\"names\":[{\"given\":\"Ольга\",\"family\":\"Коваленко\",\"kind\":\"primary\"}],"
	"\"dob\":\"1985-11-23\",\"managing_force\":\"west-midlands\",\"status\":\"active\"}",
	"{\"id\":\"FZ-3\",\"names\":[{\"given\":\"Siobhan\",\"middle\":\"Mary\",\"family\":\"McAllister-O'Neill\","
	"\"kind\":\"primary\"}],\"managing_force\":\"warwickshire\",\"status\":\"active\","
	"\"addresses\":[{\"postcode\":\"CV34 4AB\"}]}",
	"{\"id\":\"FZ-4\",\"names\":[{\"given\":\"محمد\",\"family\":\"خان\",\"kind\":\"primary\"},"
	"{\"given\":\"Mohammed\",\"family\":\"Khan\",\"kind\":\"alias\"}],\"dob\":\"1990-07-30\","
	"\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	/* Urdu: its own letters, and ض ث read both ways (urdu_reading). */
	"{\"id\":\"FZ-5\",\"names\":[{\"given\":\"عثمان\",\"middle\":\"شاہد\",\"family\":\"رمضان\",\"kind\":\"primary\"}],"
	"\"dob\":\"1983-02-17\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
};

static void fz_setup(void)
{
	char dir[] = "/tmp/fuzz-match-XXXXXX";
	struct store_options opt = {0};
	struct store_txn *t;
	struct dsc_error err;

	if (mkdtemp(dir) == NULL)
		abort();
	opt.path = dir;
	opt.map_size = 64u << 20;
	opt.views_cache = true; /* as the daemon opens it: one reader, its slots kept across inputs */
	if (matcher_new(&fz_matcher, NULL, &err) != DSC_OK ||
	    match_ctx_new(fz_matcher, &fz_ctx, &err) != DSC_OK ||
	    store_open(&fz_store, &opt, matcher_indexer(fz_matcher), &err) != DSC_OK ||
	    store_write_begin(fz_store, &t, &err) != DSC_OK) {
		fprintf(stderr, "fuzz_match: setup: %s\n", err.msg);
		abort();
	}
	for (size_t i = 0; i < sizeof(fz_people) / sizeof(fz_people[0]); i++) {
		struct offender *o;
		bool replaced;
		if (offender_parse(fz_people[i], strlen(fz_people[i]), &o, &err) != DSC_OK ||
		    store_put_offender(t, o, &replaced, &err) != DSC_OK) {
			fprintf(stderr, "fuzz_match: setup record %zu: %s\n", i, err.msg);
			abort();
		}
		offender_free(o);
	}
	if (store_write_commit(t, &err) != DSC_OK || store_reader_new(fz_store, &fz_reader, &err) != DSC_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct check_subject s;
	struct check_result res;
	struct dsc_error err;
	char *buf, *line, *save = NULL;

	if (fz_matcher == NULL)
		fz_setup();
	if (size > 4096)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(&s, 0, sizeof(s));
	s.age = -1;
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '@') {
			if (!date_parse(line + 1, &s.dob))
				s.age = atoi(line + 1) % 131;
		} else if (line[0] == '%') {
			/* A date known in part, as lib/check.c keeps it. */
			s.dob.year = (uint16_t)(1880 + (unsigned)atoi(line + 1) % 200);
			s.dob.month = (uint8_t)(strlen(line) > 6 ? (unsigned)atoi(line + 6) % 13 : 0);
			s.dob.day = 0;
		} else if (line[0] == '#') {
			snprintf(s.postcode, sizeof(s.postcode), "%s", line + 1);
		} else if (s.n_names < CHECK_MAX_NAMES) {
			struct person_name *n = &s.names[s.n_names];
			char *p1 = strchr(line, '|'), *p2 = p1 ? strchr(p1 + 1, '|') : NULL;
			if (p1 && p2) {
				*p1 = *p2 = '\0';
				n->given = line;
				n->middle = p1 + 1;
				n->family = p2 + 1;
			} else {
				n->family = line;
			}
			if (n->family[0] != '\0')
				s.n_names++;
		}
	}
	if (s.n_names > 0 && store_read_begin(fz_reader, &err) == DSC_OK) {
		if (match_run(fz_ctx, fz_reader, &s, &res, &err) == DSC_OK) {
			if (res.n_candidates > MATCH_MAX_CANDIDATES)
				__builtin_trap();
			for (size_t i = 0; i < res.n_candidates; i++)
				if (res.candidates[i].band == BAND_NONE || res.candidates[i].score < 0 ||
				    res.candidates[i].score > 1)
					__builtin_trap();
		}
		store_read_end(fz_reader);
	}
	free(buf);
	return 0;
}
