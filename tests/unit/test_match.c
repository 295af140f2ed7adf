/*
 * test_match.c - whole checks (lib/match.c) against a real LMDB store in a
 * temporary directory, indexed by the matcher's own indexer: each case is
 * a query a case worker might type and the outcome, first candidate and
 * reasons it must give.  Also the store keeping the keys right through
 * replace and delete, and the limits of the result.
 * Every person here is invented.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "disclosure/match.h"
#include "disclosure/offender.h"
#include "disclosure/store.h"

#include "../../lib/nickname.h"

static const char *const register_lines[] = {
	"{\"id\":\"WMP-0000001\",\"names\":[{\"given\":\"Gareth\",\"middle\":\"Huw\",\"family\":\"Llewellyn\",\"kind\":\"primary\"},"
	"{\"given\":\"Gary\",\"family\":\"Llewelyn\",\"kind\":\"alias\"}],\"dob\":\"1970-03-12\",\"sex\":\"M\","
	"\"addresses\":[{\"postcode\":\"WR1 2AB\"}],\"managing_force\":\"west-mercia\",\"status\":\"active\",\"mappa\":{\"category\":1,\"level\":2}}",
	"{\"id\":\"WMP-0000002\",\"names\":[{\"given\":\"William\",\"family\":\"Quennell\",\"kind\":\"primary\"}],"
	"\"dob\":\"1964-11-05\",\"other_dobs\":[\"1964-05-11\"],\"sex\":\"M\",\"addresses\":[{\"postcode\":\"HR4 9QT\"}],"
	"\"managing_force\":\"west-mercia\",\"status\":\"in_custody\"}",
	"{\"id\":\"MET-0000003\",\"names\":[{\"given\":\"Siobhan\",\"family\":\"Carrow-Pellin\",\"kind\":\"primary\"}],"
	"\"dob\":\"1982-07-23\",\"sex\":\"F\",\"addresses\":[{\"postcode\":\"SE17 9JN\"}],\"managing_force\":\"metropolitan\",\"status\":\"active\"}",
	"{\"id\":\"MET-0000004\",\"names\":[{\"given\":\"Oleg\",\"family\":\"Vashtenko\",\"kind\":\"primary\"},"
	"{\"given\":\"\xd0\x9e\xd0\xbb\xd0\xb5\xd0\xb3\",\"family\":\"\xd0\x92\xd0\xb0\xd1\x89\xd0\xb5\xd0\xbd\xd0\xba\xd0\xbe\",\"kind\":\"alias\"}],"
	"\"dob\":\"1979-01-30\",\"sex\":\"M\",\"managing_force\":\"metropolitan\",\"status\":\"active\"}",
	"{\"id\":\"GMP-0000005\",\"names\":[{\"given\":\"Darren\",\"family\":\"Ormsby\",\"kind\":\"primary\"}],"
	"\"dob\":\"1975-09-14\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"M14 5RT\"}],\"managing_force\":\"greater-manchester\",\"status\":\"active\"}",
	"{\"id\":\"GMP-0000006\",\"names\":[{\"given\":\"Kelly\",\"family\":\"Ormsby\",\"kind\":\"primary\"}],"
	"\"dob\":\"1999-02-02\",\"sex\":\"F\",\"addresses\":[{\"postcode\":\"M14 5RT\"}],\"managing_force\":\"greater-manchester\",\"status\":\"active\"}",
	"{\"id\":\"GMP-0000007\",\"names\":[{\"given\":\"Tobias\",\"family\":\"Fenwright\",\"kind\":\"primary\"}],"
	"\"dob\":\"1988-10-04\",\"sex\":\"M\",\"managing_force\":\"greater-manchester\",\"status\":\"active\"}",
	/* Other dates of birth the index tag describes (one, six years off)
	 * and cannot (two; one eleven years off): never ruled out wrongly. */
	"{\"id\":\"WMP-0000008\",\"names\":[{\"given\":\"Cornelius\",\"family\":\"Vantreight\",\"kind\":\"primary\"}],"
	"\"dob\":\"1950-03-03\",\"other_dobs\":[\"1956-08-19\"],\"sex\":\"M\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000009\",\"names\":[{\"given\":\"Perpetua\",\"family\":\"Ashcombe\",\"kind\":\"primary\"}],"
	"\"dob\":\"1960-01-01\",\"other_dobs\":[\"1966-06-06\",\"1971-07-27\"],\"sex\":\"F\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000010\",\"names\":[{\"given\":\"Ignatius\",\"family\":\"Pelloe\",\"kind\":\"primary\"}],"
	"\"dob\":\"1990-04-04\",\"other_dobs\":[\"1979-12-30\"],\"sex\":\"M\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000011\",\"names\":[{\"given\":\"Kwesi\",\"family\":\"Owusu\",\"kind\":\"primary\"}],"
	"\"dob\":\"1983-05-17\",\"sex\":\"M\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000012\",\"names\":[{\"given\":\"Jason\",\"family\":\"Baker\",\"kind\":\"primary\"}],"
	"\"dob\":\"1991-06-14\",\"sex\":\"M\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000013\",\"names\":[{\"given\":\"Gideon\",\"family\":\"Pellow\",\"kind\":\"primary\"}],"
	"\"dob\":\"1966-05-14\",\"sex\":\"M\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000014\",\"names\":[{\"given\":\"Marcin\",\"family\":\"Kowalczyk\",\"kind\":\"primary\"}],"
	"\"dob\":\"1986-05-24\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"E2 2XH\"}],\"managing_force\":\"west-mercia\","
	"\"status\":\"active\"}",
	/* Registered in Arabic script only: حسن خليل, and محمد المصري (its
	 * article written joined). */
	"{\"id\":\"WMP-0000015\",\"names\":[{\"given\":\"\xd8\xad\xd8\xb3\xd9\x86\",\"family\":"
	"\"\xd8\xae\xd9\x84\xd9\x8a\xd9\x84\",\"kind\":\"primary\"}],\"dob\":\"1978-08-19\",\"sex\":\"M\","
	"\"addresses\":[{\"postcode\":\"B11 1AA\"}],\"managing_force\":\"west-midlands\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000016\",\"names\":[{\"given\":\"\xd9\x85\xd8\xad\xd9\x85\xd8\xaf\",\"family\":"
	"\"\xd8\xa7\xd9\x84\xd9\x85\xd8\xb5\xd8\xb1\xd9\x8a\",\"kind\":\"primary\"}],\"dob\":\"1969-02-11\","
	"\"sex\":\"M\",\"managing_force\":\"west-midlands\",\"status\":\"active\"}",
	/* A postcode only in the address's text, as some registers keep it. */
	"{\"id\":\"WMP-0000017\",\"names\":[{\"given\":\"Ebenezer\",\"family\":\"Thistlecombe\"}],"
	"\"dob\":\"1959-10-10\",\"addresses\":[{\"text\":\"7 Quarry Bank, Malvern WR14 3XY\"}],"
	"\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000018\",\"names\":[{\"given\":\"Florian\",\"family\":\"van Tassendorp\"}],"
	"\"dob\":\"1981-01-20\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	/* Registered in Devanagari only: राजेश पटेल, romanised letter by
	 * letter "rajesa patela". */
	"{\"id\":\"WMP-0000019\",\"names\":[{\"given\":\"\xe0\xa4\xb0\xe0\xa4\xbe\xe0\xa4\x9c\xe0\xa5\x87\xe0\xa4\xb6\",\"family\":\"\xe0\xa4\xaa\xe0\xa4\x9f\xe0\xa5\x87\xe0\xa4\xb2\"}],"
	"\"dob\":\"1977-07-07\",\"addresses\":[{\"postcode\":\"LE4 6AB\"}],"
	"\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	/* Written as English records write Somali names. */
	"{\"id\":\"WMP-0000020\",\"names\":[{\"given\":\"Abdi\",\"middle\":\"Osman\",\"family\":\"Hassan\"}],"
	"\"dob\":\"1968-03-05\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"SA3 0HG\"}],"
	"\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000021\",\"names\":[{\"given\":\"Mohamed\",\"family\":\"Farah\"}],"
	"\"dob\":\"1983-11-02\",\"sex\":\"M\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	/* Registered in Urdu only: ریاض قاضی (Riaz Qazi, or Riyad Qadi as
	 * an Arab reads it), شاہد بھٹی (Shahid Bhatti: Urdu's own letters),
	 * عثمان رمضان (Usman Ramzan), عمران چوہدری (Imran Chaudhry, the h
	 * before the d), سعید علی (Saeed Ali: one consonant in the family
	 * name, an ayn inside the given); and Zulfiqar Nazir in Latin
	 * letters. */
	"{\"id\":\"WMP-0000022\",\"names\":[{\"given\":\"\xd8\xb1\xdb\x8c\xd8\xa7\xd8\xb6\",\"family\":\"\xd9\x82\xd8\xa7\xd8\xb6\xdb\x8c\",\"kind\":\"primary\"}],"
	"\"dob\":\"1975-04-02\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"BD8 7QA\"}],"
	"\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000023\",\"names\":[{\"given\":\"\xd8\xb4\xd8\xa7\xdb\x81\xd8\xaf\",\"family\":\"\xd8\xa8\xda\xbe\xd9\xb9\xdb\x8c\",\"kind\":\"primary\"}],"
	"\"dob\":\"1984-09-21\",\"sex\":\"M\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000024\",\"names\":[{\"given\":\"\xd8\xb9\xd8\xab\xd9\x85\xd8\xa7\xd9\x86\",\"family\":\"\xd8\xb1\xd9\x85\xd8\xb6\xd8\xa7\xd9\x86\",\"kind\":\"primary\"}],"
	"\"dob\":\"1990-01-15\",\"sex\":\"M\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000026\",\"names\":[{\"given\":\"\xd8\xb9\xd9\x85\xd8\xb1\xd8\xa7\xd9\x86\",\"family\":\"\xda\x86\xd9\x88\xdb\x81\xd8\xaf\xd8\xb1\xdb\x8c\",\"kind\":\"primary\"}],"
	"\"dob\":\"1979-11-03\",\"sex\":\"M\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000027\",\"names\":[{\"given\":\"\xd8\xb3\xd8\xb9\xdb\x8c\xd8\xaf\",\"family\":\"\xd8\xb9\xd9\x84\xdb\x8c\",\"kind\":\"primary\"}],"
	"\"dob\":\"1982-02-14\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"BB1 7YX\"}],"
	"\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	/* Registered in Hangul only: 박지훈 (Park Ji-hoon; ICU: bag jihun). */
	"{\"id\":\"WMP-0000028\",\"names\":[{\"given\":\"\xec\xa7\x80\xed\x9b\x88\",\"family\":\"\xeb\xb0\x95\",\"kind\":\"primary\"}],"
	"\"dob\":\"1993-05-08\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"KT3 4PL\"}],"
	"\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000029\",\"names\":[{\"given\":\"Kin Wah\",\"family\":\"Leung\",\"kind\":\"primary\"}],"
	"\"dob\":\"1977-12-01\",\"sex\":\"M\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	/* Both names begin with ʿayn when written in Arabic script: عمران
	 * عباس for Imran Abbas (Latin here), and عمر عباسی (Umar Abbasi)
	 * registered in Urdu only. */
	"{\"id\":\"WMP-0000030\",\"names\":[{\"given\":\"Imran\",\"family\":\"Abbas\",\"kind\":\"primary\"}],"
	"\"dob\":\"1994-08-13\",\"sex\":\"M\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000031\",\"names\":[{\"given\":\"\xd8\xb9\xd9\x85\xd8\xb1\",\"family\":\"\xd8\xb9\xd8\xa8\xd8\xa7\xd8\xb3\xdb\x8c\",\"kind\":\"primary\"}],"
	"\"dob\":\"1966-03-09\",\"sex\":\"M\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	/* Trevor Fordingham: found by a pet form, a slip that changes the
	 * family name's sound and a year out at once. */
	"{\"id\":\"WMP-0000032\",\"names\":[{\"given\":\"Trevor\",\"family\":\"Fordingham\",\"kind\":\"primary\"}],"
	"\"dob\":\"1964-01-17\",\"sex\":\"M\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	/* Bilal Riaz: found with a slip in his name and one in his date at
	 * once. */
	"{\"id\":\"WMP-0000033\",\"names\":[{\"given\":\"Bilal\",\"family\":\"Riaz\",\"kind\":\"primary\"}],"
	"\"dob\":\"1969-08-20\",\"sex\":\"M\",\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
	"{\"id\":\"WMP-0000025\",\"names\":[{\"given\":\"Zulfiqar\",\"family\":\"Nazir\",\"kind\":\"primary\"}],"
	"\"dob\":\"1971-06-30\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"LS8 5NP\"}],"
	"\"managing_force\":\"west-mercia\",\"status\":\"active\"}",
};

/* Twelve namesakes, for the limits of the result. */
#define N_NAMESAKES 12

struct fixture {
	char dir[64];
	struct matcher *m;
	struct match_ctx *c;
	struct store *s;
	struct store_reader *r;
};

/* Parses a record and puts it in an open transaction (a fixture record
 * that does not parse fails the test, saying why). */
static void put_in(struct store_txn *t, const char *line)
{
	struct offender *o;
	struct dsc_error err;

	if (offender_parse(line, strlen(line), &o, &err) != DSC_OK) {
		print_error("fixture record: %s\n", err.msg);
		fail();
	}
	assert_int_equal(store_put_offender(t, o, NULL, &err), DSC_OK);
	offender_free(o);
}

static void put_line(struct store *s, const char *line)
{
	struct store_txn *t;
	struct dsc_error err;

	assert_int_equal(store_write_begin(s, &t, &err), DSC_OK);
	put_in(t, line);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
}

/* Puts each of n records, each in its own transaction (put_line). */
static void put_lines(struct store *s, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_line(s, lines[i]);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct store_options opt = {0};
	struct dsc_error err;

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_match-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	opt.path = f->dir;
	opt.views_cache = true; /* as the daemon opens it */
	opt.map_size = 64u << 20;
	if (matcher_new(&f->m, NULL, &err) != DSC_OK || match_ctx_new(f->m, &f->c, &err) != DSC_OK ||
	    store_open(&f->s, &opt, matcher_indexer(f->m), &err) != DSC_OK ||
	    store_reader_new(f->s, &f->r, &err) != DSC_OK) {
		print_error("setup: %s\n", err.msg);
		return -1;
	}
	for (size_t i = 0; i < sizeof(register_lines) / sizeof(register_lines[0]); i++)
		put_line(f->s, register_lines[i]);
	for (int i = 0; i < N_NAMESAKES; i++) {
		char line[512];
		snprintf(line, sizeof(line),
			 "{\"id\":\"NS-%04d\",\"names\":[{\"given\":\"Peter\",\"family\":\"Ashdown\",\"kind\":\"primary\"}],"
			 "\"dob\":\"19%02d-04-%02d\",\"managing_force\":\"kent\",\"status\":\"active\"}",
			 i, 50 + i, 1 + i);
		put_line(f->s, line);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_reader_free(f->r);
	store_close(f->s);
	match_ctx_free(f->c);
	matcher_free(f->m);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		print_error("could not remove %s\n", f->dir);
	free(f);
	return 0;
}

struct query {
	const char *given, *middle, *family;
	const char *given2, *family2; /* a second name (alias) of the subject, optional */
	const char *dob;
	int age;
	const char *postcode;
	char sex;
};

static void run(struct fixture *f, const struct query *q, struct check_result *res)
{
	struct check_subject s;
	struct dsc_error err;

	memset(&s, 0, sizeof(s));
	s.names[0].given = (char *)q->given;
	s.names[0].middle = (char *)q->middle;
	s.names[0].family = (char *)q->family;
	s.n_names = 1;
	if (q->family2 != NULL) {
		s.names[1].given = (char *)q->given2;
		s.names[1].family = (char *)q->family2;
		s.n_names = 2;
	}
	if (q->dob != NULL && strlen(q->dob) < 10) {
		/* Known in part, "1970" or "1970-03", as lib/check.c keeps it. */
		s.dob.year = (uint16_t)atoi(q->dob);
		s.dob.month = (uint8_t)(strlen(q->dob) == 7 ? atoi(q->dob + 5) : 0);
	} else if (q->dob != NULL) {
		assert_true(date_parse(q->dob, &s.dob));
	}
	s.age = q->dob == NULL && q->age > 0 ? q->age : -1;
	if (q->postcode != NULL)
		snprintf(s.postcode, sizeof(s.postcode), "%s", q->postcode);
	s.sex = q->sex;
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	if (match_run(f->c, f->r, &s, res, &err) != DSC_OK) {
		print_error("match_run: %s\n", err.msg);
		store_read_end(f->r);
		fail();
	}
	store_read_end(f->r);
}

/* Whether the answer lists the record. */
static bool lists(const struct check_result *res, const char *id)
{
	for (size_t i = 0; i < res->n_candidates; i++)
		if (strcmp(res->candidates[i].offender_id, id) == 0)
			return true;
	return false;
}

static bool has_reason(const struct candidate *c, const char *r)
{
	for (size_t i = 0; i < c->n_reasons; i++)
		if (strcmp(c->reasons[i], r) == 0)
			return true;
	return false;
}

struct check_case {
	const char *name;
	struct query q;
	enum band outcome;
	const char *first;      /* id of the first candidate, NULL: none expected */
	const char *reasons[4]; /* reasons the first candidate must give */
};

static const struct check_case cases[] = {
	{"exact name and dob is a match, the person first",
	 {.given = "Gareth", NULL, "Llewellyn", .dob = "1970-03-12"}, BAND_MATCH, "WMP-0000001",
	 {"family:exact", "given:exact", "dob:exact"}},
	{"alias with a one-letter slip and no dob is a candidate",
	 {.given = "Gary", NULL, "Llewellen"}, BAND_POSSIBLE_MATCH, "WMP-0000001", {"name:alias", "dob:absent"}},
	{"alias spelt as the primary, no dob, is a candidate",
	 {.given = "Gary", NULL, "Llewellyn"}, BAND_POSSIBLE_MATCH, "WMP-0000001", {"family:exact"}},
	{"the year of birth alone, the person's, is a possible match and says so",
	 {.given = "Gareth", NULL, "Llewellyn", .dob = "1970"}, BAND_POSSIBLE_MATCH, "WMP-0000001",
	 {"family:exact", "given:exact", "dob:partial_exact"}},
	{"the month and year alone are a possible match too",
	 {.given = "Gareth", NULL, "Llewellyn", .dob = "1970-03"}, BAND_POSSIBLE_MATCH, "WMP-0000001",
	 {"dob:partial_exact"}},
	{"the month and year known in part with the full postcode are still no match",
	 {.given = "Darren", NULL, "Ormsby", .dob = "1975-09", .postcode = "M14 5RT"}, BAND_POSSIBLE_MATCH,
	 "GMP-0000005", {"dob:partial_exact", "postcode:full"}},
	{"both names garbled past every name key, the year and the address: the sector's people of that year",
	 {.given = "Barren", NULL, "Ormsly", .dob = "1975", .postcode = "M14 5RT"}, BAND_POSSIBLE_MATCH,
	 "GMP-0000005", {"dob:partial_exact", "postcode:full"}},
	{"a slip in both names that changes both sounds, the year and no postcode: the I key (initials and year)",
	 {.given = "Darrem", NULL, "Orksby", .dob = "1975"}, BAND_POSSIBLE_MATCH, "GMP-0000005",
	 {"dob:partial_exact"}},
	{"the year right and the month wrong", {.given = "Gareth", NULL, "Llewellyn", .dob = "1970-07"},
	 BAND_POSSIBLE_MATCH, "WMP-0000001", {"dob:partial_same_year"}},
	{"the year known in part one out", {.given = "Gareth", NULL, "Llewellyn", .dob = "1971"},
	 BAND_POSSIBLE_MATCH, "WMP-0000001", {"dob:partial_year_off_by_one"}},
	{"the year known in part four out", {.given = "Gareth", NULL, "Llewellyn", .dob = "1966-03"},
	 BAND_POSSIBLE_MATCH, "WMP-0000001", {"dob:partial_years_apart"}},
	{"unknown person with a dob is no match",
	 {.given = "Zebedee", NULL, "Quarrington", .dob = "1981-06-17"}, BAND_NONE, NULL, {NULL}},
	{"nickname with exact dob is a match with the nickname reason",
	 {.given = "Bill", NULL, "Quennell", .dob = "1964-11-05"}, BAND_MATCH, "WMP-0000002", {"given:nickname", "dob:exact"}},
	{"day and month swapped",
	 {.given = "Darren", NULL, "Ormsby", .dob = "1975-09-14", .postcode = "M14 5RT"}, BAND_MATCH, "GMP-0000005",
	 {"dob:exact", "postcode:full"}},
	{"another recorded dob counts as other_dob",
	 {.given = "William", NULL, "Quennell", .dob = "1964-05-11"}, BAND_MATCH, "WMP-0000002", {"dob:other_dob"}},
	{"an other dob six years from the first is a match",
	 {.given = "Cornelius", NULL, "Vantreight", .dob = "1956-08-19"}, BAND_MATCH, "WMP-0000008", {"dob:other_dob"}},
	{"the second of two other dobs is a match",
	 {.given = "Perpetua", NULL, "Ashcombe", .dob = "1971-07-27"}, BAND_MATCH, "WMP-0000009", {"dob:other_dob"}},
	{"an other dob eleven years from the first is a match",
	 {.given = "Ignatius", NULL, "Pelloe", .dob = "1979-12-30"}, BAND_MATCH, "WMP-0000010", {"dob:other_dob"}},
	{"one digit of the dob slipped, and nothing else to go on: a possible match (a namesake born a slip away looks so)",
	 {.given = "Tobias", NULL, "Fenwright", .dob = "1988-10-07"}, BAND_POSSIBLE_MATCH, "GMP-0000007", {"dob:one_digit"}},
	{"year off by one across a decade (not a one-digit slip), nothing else: a possible match",
	 {.given = "Oleg", NULL, "Vashtenko", .dob = "1980-01-30"}, BAND_POSSIBLE_MATCH, "MET-0000004",
	 {"dob:year_off_by_one"}},
	{"the birthday two years apart across a decade, nothing else: a possible match, dob:year_off_by_two",
	 {.given = "Oleg", NULL, "Vashtenko", .dob = "1981-01-30"}, BAND_POSSIBLE_MATCH, "MET-0000004",
	 {"dob:year_off_by_two"}},
	{"a slipped date with the middle name behind it is a match",
	 {.given = "Gareth", .middle = "Huw", .family = "Llewellyn", .dob = "1970-03-13"}, BAND_MATCH, "WMP-0000001",
	 {"dob:one_digit", "middle:exact"}},
	{"a slipped date with the postcode behind it is a match",
	 {.given = "Gareth", NULL, "Llewellyn", .dob = "1970-03-13", .postcode = "WR1 2AB"}, BAND_MATCH, "WMP-0000001",
	 {"dob:one_digit", "postcode:full"}},
	{"a slipped date where the postcode is another is at most a possible match",
	 {.given = "Gareth", .middle = "Huw", .family = "Llewellyn", .dob = "1970-03-13", .postcode = "SE17 9JN"},
	 BAND_POSSIBLE_MATCH,
	 "WMP-0000001", {"dob:one_digit", "postcode:different", "family:exact", "given:exact"}},
	{"day and month swapped where the postcode is another is at most a possible match",
	 {.given = "Gareth", .middle = "Huw", .family = "Llewellyn", .dob = "1970-12-03", .postcode = "SE17 9JN"},
	 BAND_POSSIBLE_MATCH, "WMP-0000001", {"dob:day_month_swapped", "postcode:different"}},
	{"a slipped date where the postcode agrees in its area only is at most a possible match",
	 {.given = "Gareth", .middle = "Huw", .family = "Llewellyn", .dob = "1970-03-13", .postcode = "WR9 9ZZ"},
	 BAND_POSSIBLE_MATCH, "WMP-0000001", {"dob:one_digit", "postcode:area"}},
	{"the same slip with the postcode agreeing is a match",
	 {.given = "Gareth", NULL, "Llewellyn", .dob = "1970-03-13", .postcode = "WR1 2AB"}, BAND_MATCH,
	 "WMP-0000001", {"dob:one_digit", "postcode:full"}},
	{"the exact date with another postcode (the person moved) is still a match",
	 {.given = "Gareth", NULL, "Llewellyn", .dob = "1970-03-12", .postcode = "SE17 9JN"}, BAND_MATCH,
	 "WMP-0000001", {"dob:exact", "postcode:different"}},
	{"the birthday three years out, with the postcode, is a possible match, dob:same_birthday",
	 {.given = "Gareth", NULL, "Llewellyn", .dob = "1967-03-12", .postcode = "WR1 2AB"}, BAND_POSSIBLE_MATCH,
	 "WMP-0000001", {"dob:same_birthday", "postcode:full"}},
	{"without a date, a slip in the given name's first letter is found through a rare family name",
	 {.given = "Fobias", NULL, "Fenwright"}, BAND_POSSIBLE_MATCH, "GMP-0000007", {"given:fuzzy", "family:exact"}},
	{"the whole name in the family field, no given name, is read as given and family name",
	 {.given = NULL, NULL, "Tobias Fenwright", .dob = "1988-10-04"}, BAND_MATCH, "GMP-0000007",
	 {"names:split", "given:exact", "family:exact"}},
	{"the whole name in the family field, the family name first",
	 {.given = NULL, NULL, "Fenwright Tobias", .dob = "1988-10-04"}, BAND_MATCH, "GMP-0000007",
	 {"names:split", "given:exact", "family:exact"}},
	{"the birthday kept and the year nine out (an age lied about): listed on a rare name, dob:same_birthday",
	 {.given = "Tobias", NULL, "Fenwright", .dob = "1979-10-04"}, BAND_POSSIBLE_MATCH, "GMP-0000007",
	 {"dob:same_birthday"}},
	{"one digit of the year slipped",
	 {.given = "Tobias", NULL, "Fenwright", .dob = "1983-10-04"}, BAND_POSSIBLE_MATCH, "GMP-0000007", {"dob:one_digit"}},
	{"the year one out by its last digit is a year off by one, not a mere slip",
	 {.given = "Tobias", NULL, "Fenwright", .dob = "1987-10-04"}, BAND_POSSIBLE_MATCH, "GMP-0000007",
	 {"dob:year_off_by_one"}},
	{"a date three days out whose digits do not line up (12 and 09) is dob:near (a possible match alone)",
	 {.given = "Gareth", NULL, "Llewellyn", .dob = "1970-03-09"}, BAND_POSSIBLE_MATCH, "WMP-0000001", {"dob:near"}},
	{"the right year but a birthday weeks out is a possible match, never a match (dob:same_year)",
	 {.given = "Gareth", .middle = "Huw", .family = "Llewellyn-Prothero", .dob = "1970-05-02"},
	 BAND_POSSIBLE_MATCH, "WMP-0000001", {"dob:same_year"}},
	{"a birthday three weeks out is a possible match, never a match (dob:weeks_apart)",
	 {.given = "Gareth", NULL, "Llewellyn", .dob = "1970-04-02"}, BAND_POSSIBLE_MATCH, "WMP-0000001",
	 {"family:exact", "given:exact", "dob:weeks_apart"}},
	{"a birthday five weeks out across a year's end is a possible match (dob:weeks_apart)",
	 {.given = "Perpetua", NULL, "Ashcombe", .dob = "1959-11-27"}, BAND_POSSIBLE_MATCH, "WMP-0000009",
	 {"dob:weeks_apart"}},
	{"a nickname, a family-name slip that changes its sound and the year out are found by the postcode",
	 {.given = "Bill", NULL, "Quenenll", .dob = "1965-11-05", .postcode = "HR4 9QT"}, BAND_MATCH,
	 "WMP-0000002", {"given:nickname", "dob:year_off_by_one", "postcode:full"}},
	{"a date a day out across a year's end is dob:near (a possible match alone)",
	 {.given = "Perpetua", NULL, "Ashcombe", .dob = "1959-12-31"}, BAND_POSSIBLE_MATCH, "WMP-0000009", {"dob:near"}},
	{"a given name written as a placeholder (Unknown) is no given name, as absent is",
	 {.given = "Unknown", NULL, "Fenwright", .dob = "1988-10-04"}, BAND_POSSIBLE_MATCH, "GMP-0000007",
	 {"family:exact", "given:missing", "dob:exact"}},
	{"N/K for the given name with the date and postcode is a match, as an absent name is",
	 {.given = "N/K", NULL, "Carrow-Pellin", .dob = "1982-07-23", .postcode = "SE17 9JN"}, BAND_MATCH, "MET-0000003",
	 {"family:exact", "given:missing", "postcode:full"}},
	{"given and family swapped",
	 {.given = "Fenwright", NULL, "Tobias", .dob = "1988-10-04"}, BAND_MATCH, "GMP-0000007", {"names:swapped"}},
	{"one part of a hyphenated surname, with the postcode, is a match",
	 {.given = "Siobhan", NULL, "Pellin", .dob = "1982-07-23", .postcode = "SE17 9JN"}, BAND_MATCH, "MET-0000003",
	 {"family:compound_part", "postcode:full"}},
	{"the postcode inside an address line, as a form may send it, agrees in full",
	 {.given = "Siobhan", NULL, "Pellin", .dob = "1982-07-23", .postcode = "Flat 2, se17-9jn, UK"}, BAND_MATCH,
	 "MET-0000003", {"family:compound_part", "postcode:full"}},
	{"one part of a hyphenated surname with the date alone is a possible match",
	 {.given = "Siobhan", NULL, "Pellin", .dob = "1982-07-23"}, BAND_POSSIBLE_MATCH, "MET-0000003",
	 {"family:compound_part", "given:exact", "dob:exact"}},
	{"both parts of a hyphenated surname the other way round, with the date alone, are a match",
	 {.given = "Siobhan", NULL, "Pellin-Carrow", .dob = "1982-07-23"}, BAND_MATCH, "MET-0000003",
	 {"family:reordered", "given:exact", "dob:exact"}},
	{"both parts of a compound surname the other way round, written apart, without a date",
	 {.given = "Siobhan", NULL, "Pellin Carrow"}, BAND_POSSIBLE_MATCH, "MET-0000003",
	 {"family:reordered", "given:exact"}},
	{"one part of a hyphenated surname, living in the same postcode district, is a match",
	 {.given = "Siobhan", NULL, "Pellin", .dob = "1982-07-23", .postcode = "SE17 2AA"}, BAND_MATCH, "MET-0000003",
	 {"family:compound_part", "postcode:district"}},
	{"one part of a hyphenated surname with the middle name too is a match",
	 {.given = "Gareth", .middle = "Huw", .family = "Llewellyn-Prothero", .dob = "1970-03-12"}, BAND_MATCH,
	 "WMP-0000001", {"family:compound_part", "middle:exact", "dob:exact"}},
	{"a surname that only sounds alike, with the date alone, is a possible match (Osei is not Owusu)",
	 {.given = "Kwesi", NULL, "Osei", .dob = "1983-05-17"}, BAND_POSSIBLE_MATCH, "WMP-0000011",
	 {"family:phonetic", "given:exact", "dob:exact"}},
	{"Irish spelling variant is a nickname hit",
	 {.given = "Shevaun", NULL, "Carrow-Pellin", .dob = "1982-07-23"}, BAND_MATCH, "MET-0000003", {"given:nickname"}},
	{"an initial with the exact date and nothing else is a possible match",
	 {.given = "T", NULL, "Fenwright", .dob = "1988-10-04"}, BAND_POSSIBLE_MATCH, "GMP-0000007",
	 {"given:initial", "dob:exact"}},
	{"no given name, with the exact date and nothing else, is a possible match (as an initial is)",
	 {.given = NULL, NULL, "Fenwright", .dob = "1988-10-04"}, BAND_POSSIBLE_MATCH, "GMP-0000007",
	 {"family:exact", "given:missing", "dob:exact"}},
	{"no given name, with the exact date and the full postcode, is a match",
	 {.given = NULL, NULL, "Carrow-Pellin", .dob = "1982-07-23", .postcode = "SE17 9JN"}, BAND_MATCH, "MET-0000003",
	 {"family:exact", "given:missing", "dob:exact", "postcode:full"}},
	{"no family name (a dash), the given name and the date alone, is a possible match",
	 {.given = "Tobias", NULL, "-", .dob = "1988-10-04"}, BAND_POSSIBLE_MATCH, "GMP-0000007",
	 {"family:missing", "given:exact", "dob:exact"}},
	{"no family name (a dash), with the given name, the date and the full postcode, is a match",
	 {.given = "Siobhan", NULL, "-", .dob = "1982-07-23", .postcode = "SE17 9JN"}, BAND_MATCH, "MET-0000003",
	 {"family:missing", "given:exact", "postcode:full"}},
	{"the whole name typed into the family field, with the date alone, is read as given and family name",
	 {.given = NULL, NULL, "Siobhan Carrow-Pellin", .dob = "1982-07-23"}, BAND_MATCH, "MET-0000003",
	 {"family:exact", "given:exact", "names:split", "dob:exact"}},
	{"the whole name typed into the family field, with the date and the postcode, is a match",
	 {.given = NULL, NULL, "Siobhan Carrow-Pellin", .dob = "1982-07-23", .postcode = "SE17 9JN"}, BAND_MATCH,
	 "MET-0000003", {"family:exact", "names:split", "postcode:full"}},
	{"one part of a compound family name alone, no given name, with the date, is a possible match",
	 {.given = NULL, NULL, "Carrow", .dob = "1982-07-23"}, BAND_POSSIBLE_MATCH, "MET-0000003",
	 {"family:compound_part", "given:missing", "dob:exact"}},
	{"Cyrillic query finds the Latin record",
	 {.given = "\xd0\x9e\xd0\xbb\xd0\xb5\xd0\xb3", NULL, "\xd0\x92\xd0\xb0\xd1\x88\xd1\x82\xd0\xb5\xd0\xbd\xd0\xba\xd0\xbe",
	  .dob = "1979-01-30"}, BAND_MATCH, "MET-0000004", {"name:transliterated"}},
	{"a name written in Cyrillic as heard (its w and h become v and kh in romanisation) finds the Latin record",
	 {.given = "\xd0\x9a\xd0\xb2\xd0\xb5\xd1\x81\xd0\xb8", NULL, "\xd0\x9e\xd0\xb2\xd1\x83\xd1\x81\xd1\x83",
	  .dob = "1983-05-17"}, BAND_MATCH, "WMP-0000011", {"name:transliterated", "family:exact", "given:exact"}},
	{"a name written in modern Greek (its j and b romanised tz and mp) finds the Latin record",
	 {.given = "\xce\xa4\xce\xb6\xce\xb5\xcf\x8a\xcf\x83\xce\xbf\xce\xbd", NULL,
	  "\xce\x9c\xcf\x80\xce\xb5\xcf\x8a\xce\xba\xce\xb5\xcf\x81", .dob = "1991-06-14"}, BAND_MATCH, "WMP-0000012",
	 {"name:transliterated", "dob:exact"}},
	{"a name written in Arabic, its vowels as waw and ya, finds the Latin record",
	 {.given = "\xd9\x85\xd8\xa7\xd8\xb1\xd9\x83\xd9\x8a\xd9\x86", NULL,
	  "\xd9\x83\xd9\x88\xd9\x88\xd8\xa7\xd9\x84\xd9\x83\xd8\xb2\xd9\x8a\xd9\x83", .dob = "1986-05-24",
	  .postcode = "E2 2XH"}, BAND_MATCH, "WMP-0000014", {"name:transliterated", "dob:exact", "postcode:full"}},
	/* Arabic writes no short vowels (حسن: hsn, خليل: khlyl): the Latin
	 * spelling agrees with it in its consonants. */
	{"a Latin spelling of a name registered only in Arabic script, with the date, is a match",
	 {.given = "Hassan", NULL, "Khalil", .dob = "1978-08-19"}, BAND_MATCH, "WMP-0000015",
	 {"name:transliterated", "family:phonetic", "given:phonetic", "dob:exact"}},
	{"another Latin spelling of it, with the postcode and no date, is a possible match",
	 {.given = "Hasan", NULL, "Khaleel", .postcode = "B11 1AA"}, BAND_POSSIBLE_MATCH, "WMP-0000015",
	 {"family:phonetic", "given:phonetic", "postcode:full"}},
	{"the Arabic article written joined in the record and apart in the check",
	 {.given = "Muhammad", NULL, "El Masri", .dob = "1969-02-11"}, BAND_MATCH, "WMP-0000016",
	 {"family:phonetic", "given:phonetic", "dob:exact"}},
	{"the article left out, and the name written with every vowel",
	 {.given = "Mohammed", NULL, "Masri", .dob = "1969-02-11"}, BAND_MATCH, "WMP-0000016",
	 {"family:phonetic", "given:phonetic", "dob:exact"}},
	{"other consonants (Hamza Khalid) on the same date are no match for the Arabic record",
	 {.given = "Hamza", NULL, "Khalid", .dob = "1978-08-19"}, BAND_NONE, NULL, {NULL}},
	/* Urdu reads ض and ذ as z and ث as s, where ICU romanises them as
	 * Arabic does (d, dh, th): both readings find the person. */
	{"Latin letters for a name registered in Urdu, its U+0636 read as z (Riaz Qazi), with the date, is a match",
	 {.given = "Riaz", NULL, "Qazi", .dob = "1975-04-02"}, BAND_MATCH, "WMP-0000022",
	 {"name:transliterated", "family:fuzzy", "given:fuzzy", "dob:exact"}},
	{"the Arabic reading of the same letters (Riyad Qadi) finds it too",
	 {.given = "Riyad", NULL, "Qadi", .dob = "1975-04-02"}, BAND_MATCH, "WMP-0000022",
	 {"family:fuzzy", "given:fuzzy", "dob:exact"}},
	{"other consonants (Tariq Qasim) on the same date are no match for the Urdu record",
	 {.given = "Tariq", NULL, "Qasim", .dob = "1975-04-02"}, BAND_NONE, NULL, {NULL}},
	{"a name written with Urdu's own letters (U+06C1, U+06BE, U+0679: Shahid Bhatti) is read",
	 {.given = "Shahid", NULL, "Bhatti", .dob = "1984-09-21"}, BAND_MATCH, "WMP-0000023",
	 {"family:phonetic", "given:fuzzy", "dob:exact"}},
	{"U+062B read as s and U+0636 as z (Usman Ramzan)",
	 {.given = "Usman", NULL, "Ramzan", .dob = "1990-01-15"}, BAND_MATCH, "WMP-0000024",
	 {"family:fuzzy", "given:fuzzy", "dob:exact"}},
	/* ICU drops ʿayn: عمران عباس was mran bas, and no key of the check
	 * met Imran Abbas's (their sounds and initials all differ). */
	{"both names beginning with an ayn, in Arabic script, with the date, find the Latin record",
	 {.given = "\xd8\xb9\xd9\x85\xd8\xb1\xd8\xa7\xd9\x86", NULL, "\xd8\xb9\xd8\xa8\xd8\xa7\xd8\xb3", .dob = "1994-08-13"}, BAND_MATCH,
	 "WMP-0000030", {"name:transliterated", "dob:exact"}},
	{"a Latin spelling of a name registered in Urdu whose words begin with an ayn (Umar Abbasi)",
	 {.given = "Umar", NULL, "Abbasi", .dob = "1966-03-09"}, BAND_MATCH, "WMP-0000031",
	 {"name:transliterated", "dob:exact"}},
	/* No key of the name or the exact date meets: the G keys (a given
	 * name's sound and a year) were the given name's own only, and Trev
	 * sounds otherwise than Trevor. */
	{"a pet form, a slip that changes the family name's sound and a year out at once",
	 {.given = "Trev", NULL, "Fodringham", .dob = "1963-01-17"}, BAND_POSSIBLE_MATCH, "WMP-0000032",
	 {"given:nickname", "dob:year_off_by_one"}},
	/* The date keys want the date right, the name keys the family
	 * name's sound: the slips of a family name nobody carries are
	 * looked up with a date too. */
	{"a slip that changes the family name's sound and a digit of the year at once",
	 {.given = "Bilal", NULL, "Rijaz", .dob = "1960-08-20"}, BAND_POSSIBLE_MATCH, "WMP-0000033",
	 {"given:exact", "dob:one_digit"}},
	{"Chaudhry, its h after the d, for a name Urdu writes with the h before it",
	 {.given = "Imran", NULL, "Chaudhry", .dob = "1979-11-03"}, BAND_MATCH, "WMP-0000026",
	 {"family:phonetic", "dob:exact"}},
	{"a family name of one consonant (Ali) and a given name with an ayn inside (Saeed) registered in Urdu",
	 {.given = "Saeed", NULL, "Ali", .dob = "1982-02-14", .postcode = "BB1 7YX"}, BAND_MATCH, "WMP-0000027",
	 {"family:phonetic", "given:phonetic", "dob:exact", "postcode:full"}},
	{"a passport's spelling of a Korean name registered in Hangul (Park: ICU writes bag), with the date and postcode",
	 {.given = "Jihoon", NULL, "Park", .dob = "1993-05-08", .postcode = "KT3 4PL"}, BAND_MATCH, "WMP-0000028",
	 {"name:transliterated", "family:variant", "dob:exact", "postcode:full"}},
	{"the same with the given name written apart (Ji Hoon)",
	 {.given = "Ji Hoon", NULL, "Park", .dob = "1993-05-08", .postcode = "KT3 4PL"}, BAND_MATCH, "WMP-0000028",
	 {"family:variant", "given:phonetic", "dob:exact", "postcode:full"}},
	{"a given name written together (Kinwah) that the record writes apart (Kin Wah)",
	 {.given = "Kinwah", NULL, "Leung", .dob = "1977-12-01"}, BAND_MATCH, "WMP-0000029",
	 {"family:exact", "given:fuzzy", "dob:exact"}},
	{"the year one out and a day out too (two mistakes in one date), no postcode: a possible match",
	 {.given = "Gareth", NULL, "Llewellyn", .dob = "1971-03-13"}, BAND_POSSIBLE_MATCH, "WMP-0000001",
	 {"family:exact", "given:exact", "dob:year_and_slip"}},
	{"the year one out and day and month swapped, with the postcode: a possible match, never match",
	 {.given = "Gareth", NULL, "Llewellyn", .dob = "1969-12-03", .postcode = "WR1 2AB"}, BAND_POSSIBLE_MATCH,
	 "WMP-0000001", {"dob:year_and_slip", "postcode:full"}},
	{"a check written in Urdu (U+0630 read as z) finds the Latin record (Zulfiqar Nazir)",
	 {.given = "\xd8\xb0\xd9\x88\xd8\xa7\xd9\x84\xd9\x81\xd9\x82\xd8\xa7\xd8\xb1", NULL, "\xd9\x86\xd8\xb0\xdb\x8c\xd8\xb1", .dob = "1971-06-30"}, BAND_MATCH, "WMP-0000025",
	 {"name:transliterated", "family:phonetic", "given:phonetic", "dob:exact"}},
	{"a postcode written only in the record's address text is read",
	 {.given = "Ebenezer", NULL, "Thistlecombe", .postcode = "wr14 3xy"}, BAND_POSSIBLE_MATCH, "WMP-0000017",
	 {"family:exact", "given:exact", "postcode:full", "dob:absent"}},
	/* Without a date only the names' sounds find a person: a slip that
	 * changes the family name's sound is undone for the look-up. */
	{"two letters of the family name swapped, changing its sound, without a date, still find the person",
	 {.given = "Tobias", NULL, "Fenwrihgt"}, BAND_POSSIBLE_MATCH, "GMP-0000007",
	 {"family:fuzzy", "given:exact", "dob:absent"}},
	{"the first two letters swapped (Romsby), without a date",
	 {.given = "Darren", NULL, "Romsby"}, BAND_POSSIBLE_MATCH, "GMP-0000005", {"family:fuzzy", "given:exact"}},
	{"a letter too many that changes the sound (Ormshby), without a date",
	 {.given = "Darren", NULL, "Ormshby"}, BAND_POSSIBLE_MATCH, "GMP-0000005", {"family:fuzzy", "given:exact"}},
	/* A family name nobody on the register spells so: the spellings a
	 * letter missed or mistyped away are looked up by their sounds too. */
	{"a letter missed that changes the sound (Omsby), without a date",
	 {.given = "Darren", NULL, "Omsby"}, BAND_POSSIBLE_MATCH, "GMP-0000005", {"family:fuzzy", "given:exact"}},
	{"a letter mistyped that changes the sound (Ornsby), without a date",
	 {.given = "Darren", NULL, "Ornsby"}, BAND_POSSIBLE_MATCH, "GMP-0000005", {"family:fuzzy", "given:exact"}},
	{"the family name's first letter missed (Enwright), without a date",
	 {.given = "Tobias", NULL, "Enwright"}, BAND_POSSIBLE_MATCH, "GMP-0000007", {"family:fuzzy", "given:exact"}},
	{"a name registered only in Devanagari is found by its Latin spelling, exactly",
	 {.given = "Rajesh", NULL, "Patel", .postcode = "LE4 6AB"}, BAND_POSSIBLE_MATCH, "WMP-0000019",
	 {"family:exact", "given:exact", "postcode:full", "name:transliterated"}},
	/* Somali's own spelling: x for h, c for the ayn, long vowels doubled. */
	{"Cabdi Xasan in Somali spelling finds Abdi Hassan",
	 {.given = "Cabdi", NULL, "Xasan", .dob = "1968-03-05", .postcode = "SA3 0HG"}, BAND_MATCH, "WMP-0000020",
	 {"given:exact", "dob:exact", "postcode:full"}},
	{"Maxamed Faarax in Somali spelling finds Mohamed Farah, without a postcode",
	 {.given = "Maxamed", NULL, "Faarax", .dob = "1983-11-02"}, BAND_MATCH, "WMP-0000021",
	 {"family:exact", "dob:exact"}},
	{"the family name without its particle is the same name but for it, with the date a match",
	 {.given = "Florian", NULL, "Tassendorp", .dob = "1981-01-20"}, BAND_MATCH, "WMP-0000018",
	 {"family:particles", "given:exact", "dob:exact"}},
	{"another particle (van den for van) is the same name but for it",
	 {.given = "Florian", NULL, "Van Den Tassendorp", .dob = "1981-01-20"}, BAND_MATCH, "WMP-0000018",
	 {"family:particles", "given:exact", "dob:exact"}},
	{"the particle alone is no part of the family name (Florian Van is not Florian van Tassendorp)",
	 {.given = "Florian", NULL, "Van"}, BAND_NONE, NULL, {NULL}},
	{"the particle alone, with the date, is a family name lost on the form: weighed as missing",
	 {.given = "Florian", NULL, "van", .dob = "1981-01-20"}, BAND_POSSIBLE_MATCH, "WMP-0000018",
	 {"family:missing", "given:exact", "dob:exact"}},
	{"nor is a name that sounds like the particle (Florian Vann)",
	 {.given = "Florian", NULL, "Vann"}, BAND_NONE, NULL, {NULL}},
	{"typos that change the sound of both names, with the exact date, still find the person (date keys)",
	 {.given = "Gixeon", NULL, "Pezlow", .dob = "1966-05-14"}, BAND_MATCH, "WMP-0000013",
	 {"given:fuzzy", "family:fuzzy", "dob:exact"}},
	{"a date known only to its month, written as the 1st, is at most a possible match",
	 {.given = "Siobhan", NULL, "Carrow-Pellin", .dob = "1982-07-01"}, BAND_POSSIBLE_MATCH, "MET-0000003",
	 {"dob:month_only", "family:exact", "given:exact"}},
	{"a date known only to its year, written as 1 January, is at most a possible match",
	 {.given = "Darren", NULL, "Ormsby", .dob = "1975-01-01", .postcode = "M14 5RT"}, BAND_POSSIBLE_MATCH, "GMP-0000005",
	 {"dob:year_only", "postcode:full"}},
	{"age only is at most a possible match",
	 {.given = "Tobias", NULL, "Fenwright", .age = 0}, BAND_POSSIBLE_MATCH, "GMP-0000007", {"dob:absent"}},
	{"a second name of the subject finds the alias",
	 {.given = "Zebedee", .family = "Quarrington", .given2 = "Gary", .family2 = "Llewelyn", .dob = "1970-03-12"}, BAND_MATCH, "WMP-0000001",
	 {"name:alias"}},
	{"a relative sharing surname, address and even the dob is not a match",
	 {.given = "Kelly", NULL, "Ormsby", .dob = "1975-09-14", .postcode = "M14 5RT"}, BAND_POSSIBLE_MATCH, "GMP-0000005",
	 {"given:mismatch", "dob:exact"}},
	{"a relative sharing surname and address with another dob is no match",
	 {.given = "Kevin", NULL, "Ormsby", .dob = "2003-12-25", .postcode = "M14 5RT"}, BAND_NONE, NULL, {NULL}},
};

/* Runs each case: its outcome, its first candidate and that one's
 * reasons.  A case without a first candidate wants none at all, or with
 * none_in_match only none in the match band. */
static void run_cases(struct fixture *f, const struct check_case *table, size_t n, bool none_in_match)
{
	for (size_t i = 0; i < n; i++) {
		const struct check_case *k = &table[i];
		struct check_result res;
		run(f, &k->q, &res);
		if (res.outcome != k->outcome) {
			print_error("%s: outcome %s, want %s\n", k->name, band_name(res.outcome), band_name(k->outcome));
			fail();
		}
		if (k->first == NULL) {
			for (size_t j = 0; j < res.n_candidates; j++) {
				if (!none_in_match || res.candidates[j].band == BAND_MATCH) {
					print_error("%s: %s candidate %s, want none%s\n", k->name,
						    band_name(res.candidates[j].band), res.candidates[j].offender_id,
						    none_in_match ? " in the match band" : "");
					fail();
				}
			}
			continue;
		}
		if (res.n_candidates == 0 || strcmp(res.candidates[0].offender_id, k->first) != 0) {
			print_error("%s: first candidate %s, want %s\n", k->name,
				    res.n_candidates ? res.candidates[0].offender_id : "(none)", k->first);
			fail();
		}
		for (size_t j = 0; j < 4 && k->reasons[j] != NULL; j++) {
			if (!has_reason(&res.candidates[0], k->reasons[j])) {
				print_error("%s: reason %s missing (has:", k->name, k->reasons[j]);
				for (size_t r = 0; r < res.candidates[0].n_reasons; r++)
					print_error(" %s", res.candidates[0].reasons[r]);
				print_error(")\n");
				fail();
			}
		}
	}
}

static void test_check_table(void **state)
{
	run_cases(*state, cases, sizeof(cases) / sizeof(cases[0]), false);
}

/* The age today (UTC, as the matcher counts it) of someone born on dob. */
static int age_today(const struct date *dob)
{
	time_t now = time(NULL);
	struct tm tm;
	int month, day;

	gmtime_r(&now, &tm);
	month = tm.tm_mon + 1;
	day = tm.tm_mday;
	return tm.tm_year + 1900 - dob->year - ((month < dob->month || (month == dob->month && day < dob->day)) ? 1 : 0);
}

static void test_age_consistent_reason(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	struct query q = {.given = "Tobias", NULL, "Fenwright", .age = 0};
	const struct date dob = {1988, 10, 4};

	q.age = age_today(&dob);
	run(f, &q, &res);
	assert_true(res.n_candidates > 0);
	assert_string_equal(res.candidates[0].offender_id, "GMP-0000007");
	assert_true(has_reason(&res.candidates[0], "dob:age_consistent"));
	assert_int_equal(res.candidates[0].band, BAND_POSSIBLE_MATCH);
}

/* A date known in part weighs by how near it is: among twelve Peter
 * Ashdowns born on the 1st to 12th of April of 1950 to 1961, asked about
 * as born in 1955 (or April 1955): the one born that year first, with
 * the month more than without; the years one out next, weighing as no
 * date does; two or more years out weigh less (−3, −12), and a name this
 * common does not keep them in view.  Never the match band. */
static const struct candidate *find_id(const struct check_result *res, const char *id)
{
	for (size_t i = 0; i < res->n_candidates; i++)
		if (strcmp(res->candidates[i].offender_id, id) == 0)
			return &res->candidates[i];
	return NULL;
}

static void test_a_date_known_in_part_weighs_by_how_near_it_is(void **state)
{
	static const struct {
		const char *id, *why; /* born 1955 + the offset */
	} steps[] = {
	    {"NS-0005", "dob:partial_exact"},
	    {"NS-0004", "dob:partial_year_off_by_one"},
	    {"NS-0006", "dob:partial_year_off_by_one"},
	};
	struct fixture *f = *state;
	struct check_result res, month, none;
	struct query q = {.given = "Peter", NULL, "Ashdown", .dob = "1955"};
	const struct candidate *c, *prev = NULL;

	run(f, &q, &res);
	for (size_t i = 0; i < res.n_candidates; i++)
		assert_int_not_equal(res.candidates[i].band, BAND_MATCH);
	assert_string_equal(res.candidates[0].offender_id, "NS-0005");
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		c = find_id(&res, steps[i].id);
		if (c == NULL)
			fail_msg("%s not listed", steps[i].id);
		assert_true(has_reason(c, steps[i].why));
		if (prev != NULL && strcmp(steps[i - 1].why, steps[i].why) != 0 && !(c->score < prev->score))
			fail_msg("%s scored %.2f, not below %s's %.2f", steps[i].id, c->score, prev->offender_id,
				 prev->score);
		prev = c;
	}
	/* Two to five years out, and six, this name is not rare enough to
	 * keep in view; with no date it is. */
	for (int k = 0; k < N_NAMESAKES; k++) {
		char id[16];

		snprintf(id, sizeof(id), "NS-%04d", k);
		if (k < 4 || k > 6)
			assert_null(find_id(&res, id));
	}
	/* The month too weighs more; one year out weighs as no date. */
	q.dob = "1955-04";
	run(f, &q, &month);
	assert_string_equal(month.candidates[0].offender_id, "NS-0005");
	assert_true(has_reason(&month.candidates[0], "dob:partial_exact"));
	assert_true(month.candidates[0].score > res.candidates[0].score);
	assert_int_equal(month.candidates[0].band, BAND_POSSIBLE_MATCH);
	q.dob = NULL;
	run(f, &q, &none);
	assert_non_null(find_id(&none, "NS-0003"));
	assert_non_null(find_id(&none, "NS-0004"));
	assert_true(find_id(&none, "NS-0004")->score == find_id(&res, "NS-0004")->score);
	/* The right year in another month weighs as no date too. */
	q.dob = "1955-09";
	run(f, &q, &month);
	assert_true(has_reason(find_id(&month, "NS-0005"), "dob:partial_same_year"));
	assert_true(find_id(&month, "NS-0005")->score == find_id(&none, "NS-0005")->score);
}

/* An age guessed four or five years out keeps a rare name in view, with
 * its own reason; six years out it is inconsistent. */
/* An age is no date of birth: the spellings a letter away of a family
 * name off the register are looked up with an age only too.  The age is
 * guessed four years out, so that the given name's keys of the years it
 * allows (G) do not find him instead. */
static void test_a_typo_off_the_register_with_an_age_only_is_found(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	struct query q = {.given = "Tobias", NULL, "Fenwight", .age = 0};
	const struct date dob = {1988, 10, 4};

	q.age = age_today(&dob) + 4;
	run(f, &q, &res);
	assert_true(res.n_candidates > 0);
	assert_string_equal(res.candidates[0].offender_id, "GMP-0000007");
	assert_true(has_reason(&res.candidates[0], "family:fuzzy"));
	assert_true(has_reason(&res.candidates[0], "dob:age_guess"));
}

static void test_age_guessed_years_out(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	struct query q = {.given = "Tobias", NULL, "Fenwright", .age = 0};
	const struct date dob = {1988, 10, 4};
	const int offsets[] = {4, -4, 5, -5};

	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		q.age = age_today(&dob) + offsets[i];
		run(f, &q, &res);
		assert_true(res.n_candidates > 0);
		assert_string_equal(res.candidates[0].offender_id, "GMP-0000007");
		assert_true(has_reason(&res.candidates[0], "dob:age_guess"));
		assert_int_equal(res.candidates[0].band, BAND_POSSIBLE_MATCH);
	}
	/* Two or three years out: neither way, and said so. */
	for (int d = -3; d <= 3; d++) {
		if (d > -2 && d < 2)
			continue;
		q.age = age_today(&dob) + d;
		run(f, &q, &res);
		assert_true(res.n_candidates > 0);
		assert_string_equal(res.candidates[0].offender_id, "GMP-0000007");
		assert_false(has_reason(&res.candidates[0], "dob:age_guess"));
		assert_true(has_reason(&res.candidates[0], "dob:age_approximate"));
		assert_false(has_reason(&res.candidates[0], "dob:absent"));
	}
	/* Six to ten years young: inconsistent, never the match band, but
	 * half the weight of a date that differs (W_DOB_AGE_FAR): a rare name
	 * keeps him listed (evaluation I: partners who give themselves out
	 * as years younger, missed at -12). */
	for (int d = 6; d <= 10; d += 4) {
		q.age = age_today(&dob) - d;
		run(f, &q, &res);
		assert_true(res.n_candidates > 0);
		assert_string_equal(res.candidates[0].offender_id, "GMP-0000007");
		assert_true(has_reason(&res.candidates[0], "dob:age_inconsistent"));
		assert_int_equal(res.candidates[0].band, BAND_POSSIBLE_MATCH);
	}
	/* Further out, weighed as a year of birth that far out is
	 * (W_DOB_AGE_INCONSISTENT): the name alone, rare as it is in this
	 * register, does not list him (evaluation G: namesakes ten and twenty
	 * years from the age given were shown, records disclosed to no
	 * purpose). */
	q.age = age_today(&dob) + 11;
	run(f, &q, &res);
	for (size_t i = 0; i < res.n_candidates; i++)
		assert_string_not_equal(res.candidates[i].offender_id, "GMP-0000007");
}

/* A record's Urdu reading (urdu_reading) is a way of reading its name,
 * not a name of its own: the one that matched is shown as written, once,
 * with its kind. */
static void test_urdu_reading_shows_the_name_as_written(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	const struct query q = {.given = "Riaz", NULL, "Qazi", .dob = "1975-04-02"};
	const struct candidate *c;

	run(f, &q, &res);
	assert_true(res.n_candidates >= 1);
	c = &res.candidates[0];
	assert_string_equal(c->offender_id, "WMP-0000022");
	assert_string_equal(c->matched_name.given, "\xd8\xb1\xdb\x8c\xd8\xa7\xd8\xb6");
	assert_string_equal(c->matched_name.family, "\xd9\x82\xd8\xa7\xd8\xb6\xdb\x8c");
	assert_int_equal(c->matched_name.kind, NAME_PRIMARY);
	for (size_t i = 1; i < res.n_candidates; i++)
		assert_string_not_equal(res.candidates[i].offender_id, "WMP-0000022");
}

static void test_candidate_details(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	const struct query q = {.given = "Gary", NULL, "Llewelyn", .dob = "1970-03-12"};
	const struct candidate *c;

	run(f, &q, &res);
	assert_true(res.n_candidates >= 1);
	c = &res.candidates[0];
	assert_string_equal(c->offender_id, "WMP-0000001");
	/* The record's name that matched, in its own spelling, and its kind. */
	assert_string_equal(c->matched_name.given, "Gary");
	assert_string_equal(c->matched_name.family, "Llewelyn");
	assert_int_equal(c->matched_name.kind, NAME_ALIAS);
	assert_string_equal(c->managing_force, "west-mercia");
	assert_int_equal(c->birth_year, 1970);
	assert_int_equal(c->sex, 'M');
	assert_int_equal(c->mappa_category, 1);
	assert_int_equal(c->status, STATUS_ACTIVE);
	assert_true(c->score >= 0.90 && c->score <= 1.0);
	/* Two decimals. */
	assert_true(c->score * 100.0 - (double)(long)(c->score * 100.0 + 1e-9) < 1e-6);
	assert_true(res.n_considered >= 1);
}

static void test_namesake_with_other_dob_and_address_is_never_a_match(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	const struct query q = {.given = "Gareth", "Huw", "Llewellyn", .dob = "1958-08-27", .postcode = "SE1 7PB"};

	run(f, &q, &res);
	assert_int_not_equal(res.outcome, BAND_MATCH);
	for (size_t i = 0; i < res.n_candidates; i++)
		assert_int_not_equal(res.candidates[i].band, BAND_MATCH);
}

static void test_at_most_ten_sorted_and_no_weak_candidates(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	const struct query q = {.given = "Peter", NULL, "Ashdown"};

	run(f, &q, &res);
	assert_int_equal(res.n_candidates, MATCH_MAX_CANDIDATES); /* twelve namesakes, ten shown */
	assert_true(res.more_candidates); /* and the answer says that two more fit */
	assert_int_equal(res.outcome, BAND_POSSIBLE_MATCH);
	for (size_t i = 0; i < res.n_candidates; i++) {
		assert_true(res.candidates[i].band >= BAND_POSSIBLE_MATCH);
		assert_true(res.candidates[i].score >= 0.50);
		if (i > 0)
			assert_true(res.candidates[i - 1].score >= res.candidates[i].score);
	}
}

static void put_fennimore(struct fixture *f, int i, const char *family, const char *postcode)
{
	char line[512], addr[96] = "";

	if (postcode != NULL)
		snprintf(addr, sizeof(addr), "\"addresses\":[{\"postcode\":\"%s\"}],", postcode);
	snprintf(line, sizeof(line),
		 "{\"id\":\"FM-%04d\",\"names\":[{\"given\":\"Quilla\",\"family\":\"%s\",\"kind\":\"primary\"}],"
		 "\"dob\":\"19%02d-%02d-%02d\",%s\"managing_force\":\"kent\",\"status\":\"active\"}",
		 i, family, 50 + i, 1 + i % 12, 1 + i, addr);
	put_line(f->s, line);
}

/*
 * The list stops at ten: an answer whose ten leave out a person who would
 * have been shown says so (more_candidates), and one that shows all who
 * fit does not.  Ten Quilla Fennimores, checked by name alone: all ten
 * shown, nothing more.  An eleventh, read last: still ten shown, and the
 * answer says more would fit, both when the eleventh is left out unread
 * (the order of equals) and when, living in the area asked about, it is
 * read and weighed and falls below the tenth.  With the date of birth of one of them the
 * answer is that one, with room to spare.
 */
static void test_a_full_list_says_whether_more_would_fit(void **state)
{
	struct fixture *f = *state;
	const struct query q = {.given = "Quilla", NULL, "Fennimore"};
	const struct query dated = {.given = "Quilla", NULL, "Fennimore", .dob = "1953-04-04"};
	const struct query placed = {.given = "Quilla", NULL, "Fennimore", .postcode = "YO10 5DD"};
	struct check_result res;

	for (int i = 0; i < 3; i++)
		put_fennimore(f, i, "Fennimore", NULL);
	run(f, &q, &res);
	assert_int_equal(res.n_candidates, 3);
	assert_false(res.more_candidates);

	for (int i = 3; i < MATCH_MAX_CANDIDATES; i++)
		put_fennimore(f, i, "Fennimore", NULL);
	run(f, &q, &res);
	assert_int_equal(res.n_candidates, MATCH_MAX_CANDIDATES);
	assert_false(res.more_candidates);

	put_fennimore(f, MATCH_MAX_CANDIDATES, "Fenimore", "YO31 7EX");
	run(f, &q, &res);
	assert_int_equal(res.n_candidates, MATCH_MAX_CANDIDATES);
	assert_string_equal(res.candidates[MATCH_MAX_CANDIDATES - 1].offender_id, "FM-0009");
	assert_true(res.more_candidates);

	/* Its area lifts its bound above the tenth's weight, so it is read
	 * and scored; its misspelt name leaves it below the ten. */
	run(f, &placed, &res);
	assert_int_equal(res.n_candidates, MATCH_MAX_CANDIDATES);
	for (size_t i = 0; i < res.n_candidates; i++)
		assert_string_not_equal(res.candidates[i].offender_id, "FM-0010");
	assert_true(res.n_views > MATCH_MAX_CANDIDATES);
	assert_true(res.more_candidates);

	run(f, &dated, &res); /* FM-0003, born 1953-04-04 */
	assert_int_equal(res.outcome, BAND_MATCH);
	assert_string_equal(res.candidates[0].offender_id, "FM-0003");
	assert_true(res.n_candidates < MATCH_MAX_CANDIDATES);
	assert_false(res.more_candidates);
}

/* A name held by more people than a key is read for, given with nothing
 * else: the answer holds people of that very name, not only those of the
 * smaller keys (a nickname). */
static void test_a_very_common_name_alone_still_finds_people_of_that_name(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	const struct query q = {.given = "Michael", NULL, "Hallworth"};
	struct store_txn *t;
	struct dsc_error err;

	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (int i = 0; i < 430; i++) {
		char line[512];
		snprintf(line, sizeof(line),
			 "{\"id\":\"HW-%04d\",\"names\":[{\"given\":\"%s\",\"family\":\"Hallworth\",\"kind\":\"primary\"}],"
			 "\"dob\":\"19%02d-%02d-%02d\",\"managing_force\":\"kent\",\"status\":\"active\"}",
			 i, i < 3 ? "Mick" : "Michael", 40 + i % 50, 1 + i % 12, 1 + i % 28);
		put_in(t, line);
	}
	assert_int_equal(store_write_commit(t, &err), DSC_OK);

	run(f, &q, &res);
	assert_int_equal(res.n_candidates, MATCH_MAX_CANDIDATES);
	assert_true(res.more_candidates); /* 427 Michaels: the list is cut */
	for (size_t i = 0; i < res.n_candidates; i++)
		assert_string_equal(res.candidates[i].matched_name.given, "Michael");

}

/*
 * More records under the name's own key than the scan reads (SCAN_BUDGET),
 * few of them fit: the answer shows fewer than ten and must not pass for
 * the end of the search.  400 Mykall Hollwerths, men, sound like Michael
 * Hallworth, asked about as a woman: the first 350 are read, and weigh
 * too little for the possible band (the sex is not in their tags).
 */
static void test_a_search_cut_short_says_so_when_the_list_is_not_full(void **state)
{
	struct fixture *f = *state;
	const struct query q = {.given = "Michael", NULL, "Hallworth", .sex = 'F'};
	struct check_result res;
	struct store_txn *t;
	struct dsc_error err;

	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (int i = 0; i < 400; i++) {
		char line[512];
		snprintf(line, sizeof(line),
			 "{\"id\":\"MH-%04d\",\"names\":[{\"given\":\"Mykall\",\"family\":\"Hollwerth\",\"kind\":\"primary\"}],"
			 "\"dob\":\"19%02d-%02d-%02d\",\"sex\":\"M\","
			 "\"managing_force\":\"kent\",\"status\":\"active\"}",
			 i, 40 + i % 50, 1 + i % 12, 1 + i % 28);
		put_in(t, line);
	}
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	run(f, &q, &res);
	assert_int_equal(res.n_views, 350); /* SCAN_BUDGET */
	assert_true(res.n_candidates < MATCH_MAX_CANDIDATES);
	assert_true(res.more_candidates);
}

/* 45 Ashdales born in 1980 with J- names (more than the family-and-initial
 * and family-and-year keys are read for on a first pass), three others
 * born on 1980-05-18 (so the date key holds someone), and AD-TRUTH,
 * Jonathan Ashdale, born 1980-05-17. */
static void put_ashdales(struct fixture *f)
{
	static const char *const given[] = {"Jack", "James", "Jacob", "Joseph", "Joshua"};
	struct store_txn *t;
	struct dsc_error err;
	char line[512];

	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (int i = 0; i < 45; i++) {
		snprintf(line, sizeof(line),
			 "{\"id\":\"AD-%04d\",\"names\":[{\"given\":\"%s\",\"family\":\"Ashdale\",\"kind\":\"primary\"}],"
			 "\"dob\":\"1980-%02d-%02d\",\"managing_force\":\"kent\",\"status\":\"active\"}",
			 i, given[i % 5], 1 + i % 4, 1 + i % 28); /* January to April */
		put_in(t, line);
	}
	for (int i = 0; i < 3; i++) {
		snprintf(line, sizeof(line),
			 "{\"id\":\"AD-%04d\",\"names\":[{\"given\":\"Zebulon\",\"family\":\"Quarrington%c\",\"kind\":\"primary\"}],"
			 "\"dob\":\"1980-05-18\",\"managing_force\":\"kent\",\"status\":\"active\"}",
			 45 + i, 'a' + i);
		put_in(t, line);
	}
	put_in(t, "{\"id\":\"AD-TRUTH\",\"names\":[{\"given\":\"Jonathan\",\"family\":\"Ashdale\",\"kind\":\"primary\"}],"
		  "\"dob\":\"1980-05-17\",\"managing_force\":\"kent\",\"status\":\"active\"}");
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
}

static bool among_candidates(const struct check_result *res, const char *id)
{
	for (size_t i = 0; i < res->n_candidates; i++)
		if (strcmp(res->candidates[i].offender_id, id) == 0)
			return true;
	return false;
}

/* Under a family name many share, with a slipped date of birth, only the
 * family name with the initial (or the year) leads to the person: for a
 * subject known by an initial, and for a given name whose typo changes
 * its sound. */
static void test_an_initial_or_a_sound_changing_typo_with_a_slipped_date_still_find_the_person(void **state)
{
	static const struct query queries[] = {
		{.given = "J", NULL, "Ashdale", .dob = "1980-05-18"},
		{.given = "Jomathan", NULL, "Ashdale", .dob = "1980-05-18"},
	};
	struct fixture *f = *state;
	struct check_result res;

	put_ashdales(f);
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		run(f, &queries[i], &res);
		if (!among_candidates(&res, "AD-TRUTH")) {
			print_error("%s %s %s: AD-TRUTH is not among the candidates\n", queries[i].given,
				    queries[i].family, queries[i].dob);
			fail();
		}
	}
}

/* A check without a date under ten names, nine of them spelt as nobody
 * on the register spells them: each part of each of those has some
 * seventy sounds a letter away, more keys together than a check holds
 * (QKEYS_MAX).  They come after every other key, so the tenth name,
 * spelt as registered, is still looked up and the person found. */
static void test_the_sounds_of_unknown_names_never_crowd_out_a_known_one(void **state)
{
	static const char *const unknown[][2] = {
		{"Zebedee", "Pennithwaite-Grotiv"}, {"Ottoline", "Trabok-Vostik"},  {"Evander", "Badek-Splevik"},
		{"Peregrine", "Krabit-Glomek"},     {"Araminta", "Drupik-Dravik"},  {"Leopold", "Zarbit-Skarvel"},
		{"Cressida", "Plimbo-Mirbel"},      {"Barnaby", "Kelmot-Frabst"},   {"Philippa", "Brogan-Ravensclaughton"},
	};
	struct fixture *f = *state;
	struct check_subject s;
	struct check_result res;
	struct dsc_error err;

	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		s.names[i].given = (char *)unknown[i][0];
		s.names[i].family = (char *)unknown[i][1];
	}
	s.names[9].given = (char *)"Darren";
	s.names[9].family = (char *)"Ormsby";
	s.n_names = 10;
	s.age = -1;
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(match_run(f->c, f->r, &s, &res, &err), DSC_OK);
	store_read_end(f->r);
	if (!among_candidates(&res, "GMP-0000005")) {
		print_error("Darren Ormsby, the tenth name, is not among the %zu candidates\n", res.n_candidates);
		fail();
	}
}

/* Names of punctuation (or of emoji) only were answered no_match, which
 * reads like a clean result for a check that matched against nothing: it
 * is refused, and says which field. */
static void test_names_without_a_letter_are_refused(void **state)
{
	struct fixture *f = *state;
	struct check_subject s;
	struct check_result res;
	struct dsc_error err;

	memset(&s, 0, sizeof(s));
	s.names[0].given = (char *)"--";
	s.names[0].family = (char *)"'.";
	s.names[1].family = (char *)"\xf0\x9f\x98\x80\xf0\x9f\x98\x80";
	s.n_names = 2;
	s.age = -1;
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(match_run(f->c, f->r, &s, &res, &err), DSC_EINVAL);
	store_read_end(f->r);
	assert_string_equal(err.field, "subject.names");
	assert_non_null(strstr(err.msg, "no name holds a letter"));
	/* A letter in any one name is enough. */
	s.names[1].family = (char *)"Ormsby";
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(match_run(f->c, f->r, &s, &res, &err), DSC_OK);
	store_read_end(f->r);
}

static void test_only_one_of_two_close_people_is_a_match(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	/* Exact for NS-0003 (1953-04-04); NS-0002 (1952-04-03) is a one-digit
	 * slip away and must not share the match band with the clear winner. */
	const struct query q = {.given = "Peter", NULL, "Ashdown", .dob = "1953-04-04"};

	run(f, &q, &res);
	assert_int_equal(res.outcome, BAND_MATCH);
	assert_string_equal(res.candidates[0].offender_id, "NS-0003");
	for (size_t i = 1; i < res.n_candidates; i++)
		assert_int_not_equal(res.candidates[i].band, BAND_MATCH);
}

/* A possible match by band that weighs nearly as much as the match makes
 * it no match either: Dafydd Jones born 1 March 1987 at OX14 2JY is
 * Dafydd Gethin Jones, born that day and living elsewhere, as much as
 * Dafydd Jones born on the 20th at that very postcode (the 1st may stand
 * for the month only, and a date that agrees no better is never a
 * match).  (1 January, the first form of this test, is no longer the
 * match on its own: test_a_first_of_january_alone_is_not_the_match.) */
/*
 * 1 January is the date written for whoever's birthday is unknown (the
 * Home Office gives it to asylum seekers without papers), so namesakes
 * share it far more often than any other day: agreeing on it exactly is
 * the match only with the postcode (its district) or the middle name
 * behind it, as a near date is; and it never ends the search, so that
 * the person born later that year whose date was given as "1 January"
 * for the year alone is still found.  (An independent evaluation's
 * namesakes born "1 January" were the match of each other 61 times in
 * 64.)
 */
static void test_a_first_of_january_alone_is_not_the_match(void **state)
{
	static const struct check_case jan_cases[] = {
		{"Abdi Hussein born 1 January, another postcode: a possible match",
		 {.given = "Abdi", .middle = "Mohamed", .family = "Hussein", .dob = "2001-01-01", .postcode = "WF19 5WG"},
		 BAND_POSSIBLE_MATCH, "JAN-ABDI", {"dob:exact", "postcode:different"}},
		{"...and no postcode, no middle name: a possible match",
		 {.given = "Abdi", NULL, "Hussein", .dob = "2001-01-01"}, BAND_POSSIBLE_MATCH, "JAN-ABDI", {"dob:exact"}},
		{"...the middle name too: the match",
		 {.given = "Abdi", .middle = "Ali", .family = "Hussein", .dob = "2001-01-01"}, BAND_MATCH, "JAN-ABDI",
		 {"dob:exact", "middle:exact"}},
		{"...the postcode too: the match",
		 {.given = "Abdi", NULL, "Hussein", .dob = "2001-01-01", .postcode = "CH12 1FZ"}, BAND_MATCH, "JAN-ABDI",
		 {"dob:exact", "postcode:full"}},
		{"another day of the year alone is the match, as it was",
		 {.given = "Abdi", NULL, "Hussein", .dob = "1999-06-14"}, BAND_MATCH, "JAN-OTHER", {"dob:exact"}},
	};
	static const char *const lines[] = {
		"{\"id\":\"JAN-ABDI\",\"names\":[{\"given\":\"Abdi\",\"middle\":\"Ali\",\"family\":\"Hussein\","
		"\"kind\":\"primary\"}],\"dob\":\"2001-01-01\",\"addresses\":[{\"postcode\":\"CH12 1FZ\"}],"
		"\"managing_force\":\"cheshire\",\"status\":\"active\"}",
		"{\"id\":\"JAN-OTHER\",\"names\":[{\"given\":\"Abdi\",\"family\":\"Hussein\",\"kind\":\"primary\"}],"
		"\"dob\":\"1999-06-14\",\"addresses\":[{\"postcode\":\"LS8 1RU\"}],"
		"\"managing_force\":\"west-yorkshire\",\"status\":\"active\"}",
		/* David Smiths born 1 January 1964 (three, below), one born that
		 * March: asked about as "1964-01-01" for the year alone. */
		"{\"id\":\"JAN-MARCH\",\"names\":[{\"given\":\"David\",\"family\":\"Smith\",\"kind\":\"primary\"}],"
		"\"dob\":\"1964-03-14\",\"addresses\":[{\"postcode\":\"NG5 1AB\"}],"
		"\"managing_force\":\"nottinghamshire\",\"status\":\"active\"}",
	};
	struct fixture *f = *state;
	const struct query year_only = {.given = "David", NULL, "Smith", .dob = "1964-01-01"};
	struct check_result res;
	struct store_txn *t;
	struct dsc_error err;

	put_lines(f->s, lines, sizeof(lines) / sizeof(lines[0]));
	run_cases(f, jan_cases, sizeof(jan_cases) / sizeof(jan_cases[0]), false);

	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (int i = 0; i < 3; i++) {
		char line[512];
		snprintf(line, sizeof(line),
			 "{\"id\":\"JAN-DS%02d\",\"names\":[{\"given\":\"David\",\"family\":\"Smith\",\"kind\":\"primary\"}],"
			 "\"dob\":\"1964-01-01\",\"addresses\":[{\"postcode\":\"DE%d 2AB\"}],"
			 "\"managing_force\":\"derbyshire\",\"status\":\"active\"}",
			 i, 1 + i);
		put_in(t, line);
	}
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	run(f, &year_only, &res);
	for (size_t i = 0; i < res.n_candidates; i++)
		assert_int_equal(res.candidates[i].band, BAND_POSSIBLE_MATCH);
	assert_true(lists(&res, "JAN-MARCH"));
}

/*
 * A date of birth that makes the person older than 110 is not his:
 * 1900-01-01 is what forms hold where nobody knew it, 1903 is 2003 with
 * the century slipped.  Where it conflicts with a record's date it weighs
 * nothing (dob:implausible), not -12 against every record: an
 * evaluation's David Palmer, "1900-01-01", was not found at his own
 * postcode.  A record's date it agrees with as a slip (1905 for 1965)
 * counts as usual, and the same day a hundred years on is the century
 * slipped (dob:century_slipped), found by its own D keys.
 */
static void test_a_date_of_birth_over_110_years_old(void **state)
{
	static const struct check_case old_cases[] = {
		{"a date of birth making him 126 is a placeholder: it weighs nothing against his",
		 {.given = "Tegwyn", NULL, "Prothero", .dob = "1900-01-01", .postcode = "LS8 1RU"}, BAND_POSSIBLE_MATCH,
		 "OLD-TEGWYN", {"dob:implausible", "postcode:full"}},
		{"a century slipped (1903 for 2003) is that slip: a possible match alone",
		 {.given = "Ysolde", NULL, "Prothero", .dob = "1903-08-28"}, BAND_POSSIBLE_MATCH, "OLD-YSOLDE",
		 {"dob:century_slipped"}},
		{"...the match with the middle name behind it (as a near date)",
		 {.given = "Ysolde", .middle = "Mair", .family = "Prothero", .dob = "1903-08-28"}, BAND_MATCH,
		 "OLD-YSOLDE", {"dob:century_slipped", "middle:exact"}},
		{"...and another day a hundred years on is no such slip",
		 {.given = "Ysolde", .middle = "Mair", .family = "Prothero", .dob = "1903-08-27"}, BAND_POSSIBLE_MATCH,
		 "OLD-YSOLDE", {"dob:implausible", "middle:exact"}},
		{"a year slipped by a digit past 110 (1905 for 1965) is still that slip",
		 {.given = "Tegwyn", NULL, "Prothero", .dob = "1906-11-24", .postcode = "LS8 1RU"}, BAND_MATCH,
		 "OLD-TEGWYN", {"dob:one_digit", "postcode:full"}},
		{"a date that makes her 100 is a date, compared (at her address)",
		 {.given = "Ysolde", .middle = "Mair", .family = "Prothero", .dob = "1926-08-28", .postcode = "LE1 9NF"},
		 BAND_POSSIBLE_MATCH, "OLD-YSOLDE", {"dob:mismatch", "postcode:full"}},
	};
	static const char *const lines[] = {
		"{\"id\":\"OLD-TEGWYN\",\"names\":[{\"given\":\"Tegwyn\",\"family\":\"Prothero\",\"kind\":\"primary\"}],"
		"\"dob\":\"1956-11-24\",\"addresses\":[{\"postcode\":\"LS8 1RU\"}],"
		"\"managing_force\":\"west-yorkshire\",\"status\":\"active\"}",
		"{\"id\":\"OLD-YSOLDE\",\"names\":[{\"given\":\"Ysolde\",\"middle\":\"Mair\",\"family\":\"Prothero\","
		"\"kind\":\"primary\"}],\"dob\":\"2003-08-28\",\"addresses\":[{\"postcode\":\"LE1 9NF\"}],"
		"\"managing_force\":\"leicestershire\",\"status\":\"active\"}",
	};
	struct fixture *f = *state;

	put_lines(f->s, lines, sizeof(lines) / sizeof(lines[0]));
	run_cases(f, old_cases, sizeof(old_cases) / sizeof(old_cases[0]), false);
}

static void test_a_possible_match_that_weighs_as_much_leaves_no_match(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	const struct query q = {.given = "Dafydd", .family = "Jones", .dob = "1987-03-01", .postcode = "OX14 2JY"};
	bool elsewhere = false, here = false;

	put_line(f->s, "{\"id\":\"AMB-ELSEWHERE\",\"names\":[{\"given\":\"Dafydd\",\"middle\":\"Gethin\",\"family\":\"Jones\","
		       "\"kind\":\"primary\"}],\"dob\":\"1987-03-01\",\"addresses\":[{\"postcode\":\"LL57 2DG\"}],"
		       "\"managing_force\":\"north-wales\",\"status\":\"active\"}");
	put_line(f->s, "{\"id\":\"AMB-HERE\",\"names\":[{\"given\":\"Dafydd\",\"family\":\"Jones\",\"kind\":\"primary\"}],"
		       "\"dob\":\"1987-03-20\",\"addresses\":[{\"postcode\":\"OX14 2JY\"}],"
		       "\"managing_force\":\"thames-valley\",\"status\":\"active\"}");
	run(f, &q, &res);
	assert_int_equal(res.outcome, BAND_POSSIBLE_MATCH);
	for (size_t i = 0; i < res.n_candidates; i++) {
		assert_int_equal(res.candidates[i].band, BAND_POSSIBLE_MATCH);
		if (strcmp(res.candidates[i].offender_id, "AMB-ELSEWHERE") == 0) {
			elsewhere = true;
			assert_true(has_reason(&res.candidates[i], "dob:exact"));
			assert_true(has_reason(&res.candidates[i], "match:ambiguous"));
		}
		if (strcmp(res.candidates[i].offender_id, "AMB-HERE") == 0) {
			here = true;
			assert_true(has_reason(&res.candidates[i], "postcode:full"));
			assert_true(has_reason(&res.candidates[i], "dob:month_only"));
		}
	}
	assert_true(elsewhere && here);
}

static void test_two_records_that_fit_equally_are_not_a_match(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	const struct query q = {.given = "Quentin", .family = "Marlowe", .dob = "1966-06-06"};

	/* The same name and date of birth under two ids (another force's
	 * record of someone else, or a duplicate): a person must decide. */
	put_line(f->s, "{\"id\":\"DUP-0001\",\"names\":[{\"given\":\"Quentin\",\"family\":\"Marlowe\",\"kind\":\"primary\"}],"
		       "\"dob\":\"1966-06-06\",\"managing_force\":\"kent\",\"status\":\"active\"}");
	put_line(f->s, "{\"id\":\"DUP-0002\",\"names\":[{\"given\":\"Quentin\",\"family\":\"Marlowe\",\"kind\":\"primary\"}],"
		       "\"dob\":\"1966-06-06\",\"managing_force\":\"essex\",\"status\":\"active\"}");
	run(f, &q, &res);
	assert_int_equal(res.outcome, BAND_POSSIBLE_MATCH);
	assert_true(res.n_candidates >= 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(res.candidates[i].band, BAND_POSSIBLE_MATCH);
		assert_true(has_reason(&res.candidates[i], "match:ambiguous"));
		assert_true(res.candidates[i].score <= 0.89);
	}
}

/* A postcode field that says there is none ("NFA": no fixed abode,
 * "N/K") is no postcode: it weighs nothing, as a missing one, rather than
 * a postcode that disagrees with every record's. */
static void test_a_postcode_that_says_there_is_none_weighs_nothing(void **state)
{
	static const char *const none[] = {"NFA", "N/K", "Unknown", "--"};
	struct fixture *f = *state;
	struct query q = {.given = "Siobhan", .family = "Pellin", .dob = "1982-07-23"};
	struct check_result base, res;

	run(f, &q, &base);
	assert_true(base.n_candidates > 0);
	assert_string_equal(base.candidates[0].offender_id, "MET-0000003");
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		q.postcode = none[i];
		run(f, &q, &res);
		if (res.n_candidates == 0 || strcmp(res.candidates[0].offender_id, "MET-0000003") != 0 ||
		    res.candidates[0].score != base.candidates[0].score ||
		    res.candidates[0].band != base.candidates[0].band ||
		    has_reason(&res.candidates[0], "postcode:different")) {
			print_error("postcode '%s': %s, score %.2f (%s), want the score %.2f of no postcode\n",
				    none[i], res.n_candidates ? res.candidates[0].offender_id : "(none)",
				    res.n_candidates ? res.candidates[0].score : 0.0,
				    res.n_candidates && has_reason(&res.candidates[0], "postcode:different")
					? "postcode:different" : "no postcode reason",
				    base.candidates[0].score);
			fail();
		}
	}
}

/* A name changed (by deed poll, say) and not recorded: no part of it is
 * the record's, but the date of birth is, and the postcode agrees to its
 * sector.  A possible match, never a match; nothing less will do. */
static void test_a_name_changed_and_not_recorded_is_a_possible_match(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	struct query q = {.given = "Stanley", .family = "Brightwater", .dob = "1964-11-05",
			  .postcode = "HR4 9QT"};

	run(f, &q, &res);
	assert_true(res.n_candidates >= 1);
	assert_string_equal(res.candidates[0].offender_id, "WMP-0000002");
	assert_int_equal(res.candidates[0].band, BAND_POSSIBLE_MATCH);
	assert_true(has_reason(&res.candidates[0], "name:different"));
	assert_true(has_reason(&res.candidates[0], "family:mismatch"));
	assert_true(has_reason(&res.candidates[0], "given:mismatch"));
	assert_true(has_reason(&res.candidates[0], "dob:exact"));
	assert_true(has_reason(&res.candidates[0], "postcode:full"));

	/* The same sector, another street: still shown. */
	q.postcode = "HR4 9ZZ";
	run(f, &q, &res);
	assert_true(res.n_candidates >= 1);
	assert_string_equal(res.candidates[0].offender_id, "WMP-0000002");
	assert_int_equal(res.candidates[0].band, BAND_POSSIBLE_MATCH);
	assert_true(has_reason(&res.candidates[0], "postcode:sector"));

	/* The record's other date of birth counts as its own. */
	q.postcode = "HR4 9QT";
	q.dob = "1964-05-11";
	run(f, &q, &res);
	assert_true(among_candidates(&res, "WMP-0000002"));

	/* Anything less is not shown: the district only, a date one digit
	 * out, the record's sex not the subject's, no postcode. */
	q.dob = "1964-11-05";
	q.postcode = "HR4 1AA";
	run(f, &q, &res);
	assert_false(among_candidates(&res, "WMP-0000002"));
	q.postcode = "HR4 9QT";
	q.dob = "1964-11-06";
	run(f, &q, &res);
	assert_false(among_candidates(&res, "WMP-0000002"));
	q.dob = "1964-11-05";
	q.sex = 'F';
	run(f, &q, &res);
	assert_false(among_candidates(&res, "WMP-0000002"));
	q.sex = 0;
	q.postcode = NULL;
	run(f, &q, &res);
	assert_false(among_candidates(&res, "WMP-0000002"));
}

static void test_partial_names_with_exact_dob_are_not_a_match(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	/* Part of the compound surname and the middle name as given name:
	 * two partial agreements, however exact the date. */
	const struct query q = {.given = "Huw", .family = "Llewellyn-Prothero", .dob = "1970-03-12"};

	run(f, &q, &res);
	assert_true(res.n_candidates >= 1);
	assert_string_equal(res.candidates[0].offender_id, "WMP-0000001");
	assert_int_equal(res.candidates[0].band, BAND_POSSIBLE_MATCH);
	assert_true(has_reason(&res.candidates[0], "family:compound_part"));
	assert_true(has_reason(&res.candidates[0], "given:middle_name"));
}

static void test_index_follows_replace_and_delete(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	struct store_txn *t;
	struct dsc_error err;
	const struct query old_name = {.given = "Tobias", NULL, "Fenwright", .dob = "1988-10-04"};
	const struct query new_name = {.given = "Tobias", NULL, "Marchbanks", .dob = "1988-10-04"};

	/* Replace: the record changes its family name. */
	put_line(f->s, "{\"id\":\"GMP-0000007\",\"names\":[{\"given\":\"Tobias\",\"family\":\"Marchbanks\",\"kind\":\"primary\"}],"
		       "\"dob\":\"1988-10-04\",\"sex\":\"M\",\"managing_force\":\"greater-manchester\",\"status\":\"active\"}");
	run(f, &new_name, &res);
	assert_int_equal(res.outcome, BAND_MATCH);
	assert_string_equal(res.candidates[0].offender_id, "GMP-0000007");
	assert_string_equal(res.candidates[0].matched_name.family, "Marchbanks");
	run(f, &old_name, &res);
	assert_int_not_equal(res.outcome, BAND_MATCH); /* the old name is gone from the view */

	/* Delete: nothing is found any more. */
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	assert_int_equal(store_delete_offender(t, "GMP-0000007", &err), DSC_OK);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	run(f, &new_name, &res);
	for (size_t i = 0; i < res.n_candidates; i++)
		assert_string_not_equal(res.candidates[i].offender_id, "GMP-0000007");
}

static void test_subject_without_names_is_refused(void **state)
{
	struct fixture *f = *state;
	struct check_subject s;
	struct check_result res;
	struct dsc_error err;

	memset(&s, 0, sizeof(s));
	s.age = -1;
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(match_run(f->c, f->r, &s, &res, &err), DSC_EINVAL);
	store_read_end(f->r);
	assert_string_equal(err.field, "subject.names");
	assert_int_equal(res.n_candidates, 0);
}

static void test_band_names(void **state)
{
	(void)state;
	assert_string_equal(band_name(BAND_MATCH), "match");
	assert_string_equal(band_name(BAND_POSSIBLE_MATCH), "possible_match");
	assert_string_equal(band_name(BAND_NONE), "no_match");
}

static void test_nickname_file_errors_name_the_line(void **state)
{
	char path[] = "/tmp/test_match-nick-XXXXXX";
	int fd = mkstemp(path);
	struct matcher *m = NULL;
	struct dsc_error err;
	const char *text = "# a comment\nwilliam\tbill billy\nb!ll\twilliam\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(matcher_new(&m, path, &err), DSC_EINVAL);
	assert_null(m);
	assert_non_null(strstr(err.msg, ":3: "));
	unlink(path);
	assert_int_equal(matcher_new(&m, "/nonexistent/nicknames.tsv", &err), DSC_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/nicknames.tsv"));
}

/* Lines of names apart ('!'): sets of spellings separated by slashes, two
 * sets at least, none empty; a slash anywhere else is an error. */
static void test_nickname_lines_of_names_apart(void **state)
{
	static const struct {
		const char *text, *where;
	} bad[] = {
		{"william\tbill\n! hassan hasan\n", ":2: "},          /* one set */
		{"william\tbill\n! hassan / / hussein\n", ":2: "},   /* an empty set */
		{"william\tbill\n! / hussein\n", ":2: "},             /* an empty first set */
		{"william\tbill / will\n", ":1: "},                    /* a slash in a group */
		{"william\tbill\n! hassan / hu$sein\n", ":2: "},      /* a character */
	};
	const char *good = "hussain\thussein husain\n! hassan hasan / hussain hussein husain # twins' names\n";
	struct nickname_table *t = NULL;
	struct dsc_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (nickname_table_parse(&t, bad[i].text, strlen(bad[i].text), "t.tsv", &err) != DSC_EINVAL ||
		    strstr(err.msg, bad[i].where) == NULL) {
			print_error("case %zu: accepted, or the wrong line: %s\n", i, err.msg);
			fail();
		}
		assert_null(t);
	}
	assert_int_equal(nickname_table_parse(&t, good, strlen(good), "t.tsv", &err), DSC_OK);
	assert_true(nickname_apart(t, "hassan", "hussein"));
	assert_true(nickname_apart(t, "hussain", "hasan"));
	assert_false(nickname_apart(t, "hassan", "hasan"));     /* one name's spellings */
	assert_false(nickname_apart(t, "hussein", "husain"));
	assert_false(nickname_apart(t, "hassan", "mohammed")); /* not listed */
	assert_true(nickname_related(t, "hussain", "hussein")); /* groups as before */
	assert_false(nickname_related(t, "hassan", "hussein"));
	nickname_table_free(t);

	/* The table compiled in. */
	assert_int_equal(nickname_table_load(&t, NULL, &err), DSC_OK);
	assert_true(nickname_apart(t, "hassan", "hussein"));
	assert_true(nickname_apart(t, "mehmet", "mahmut"));
	assert_true(nickname_apart(t, "oluwaseun", "oluwafemi"));
	assert_true(nickname_apart(t, "harjinder", "rajinder"));
	assert_true(nickname_apart(t, "mitchell", "michael"));
	assert_false(nickname_apart(t, "mick", "michael"));
	assert_false(nickname_apart(t, "mohammed", "muhammad"));
	assert_false(nickname_apart(t, "hussain", "hussein"));
	nickname_table_free(t);
}

/*
 * Twins at one address, born the same day, with names alike yet two
 * names (Hassan and Hussein): the one not registered is no match for his
 * twin, whatever the near spelling says (given:another_name, listed as a
 * possible match).  An independent evaluation put 33 of its 400 twins in
 * the match band so.  A spelling of the twin's own name still is.
 */
static void test_twins_with_names_apart(void **state)
{
	static const struct check_case twin_cases[] = {
		{"Hussein Ahmed, his twin Hassan's date and address: a possible match, another name",
		 {.given = "Hussein", NULL, "Ahmed", .dob = "1948-01-02", .postcode = "L3 2BJ"}, BAND_POSSIBLE_MATCH,
		 "TW-HASSAN", {"given:another_name", "dob:exact", "postcode:full"}},
		{"Oluwafemi Balogun, his twin Oluwaseun's: the same",
		 {.given = "Oluwafemi", NULL, "Balogun", .dob = "1992-06-16", .postcode = "IG9 3LS"}, BAND_POSSIBLE_MATCH,
		 "TW-SEUN", {"given:another_name"}},
		{"Hasan Ahmed, a spelling of Hassan: the match",
		 {.given = "Hasan", NULL, "Ahmed", .dob = "1948-01-02", .postcode = "L3 2BJ"}, BAND_MATCH, "TW-HASSAN",
		 {"given:nickname", "dob:exact", "postcode:full"}},
	};
	static const char *const lines[] = {
		"{\"id\":\"TW-HASSAN\",\"names\":[{\"given\":\"Hassan\",\"middle\":\"Abdullahi\",\"family\":\"Ahmed\","
		"\"kind\":\"primary\"}],\"dob\":\"1948-01-02\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"L3 2BJ\"}],"
		"\"managing_force\":\"merseyside\",\"status\":\"active\"}",
		"{\"id\":\"TW-SEUN\",\"names\":[{\"given\":\"Oluwaseun\",\"family\":\"Balogun\",\"kind\":\"primary\"}],"
		"\"dob\":\"1992-06-16\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"IG9 3LS\"}],"
		"\"managing_force\":\"metropolitan\",\"status\":\"active\"}",
	};
	struct fixture *f = *state;

	put_lines(f->s, lines, sizeof(lines) / sizeof(lines[0]));
	run_cases(f, twin_cases, sizeof(twin_cases) / sizeof(twin_cases[0]), false);
}

/* A Wilfred Thornbury born on 15 January 1961, living at postcode (NULL:
 * no address). */
static void put_thornbury(struct fixture *f, size_t n, const char *postcode)
{
	char line[512], addr[96] = "";

	if (postcode != NULL)
		snprintf(addr, sizeof(addr), "\"addresses\":[{\"postcode\":\"%s\"}],", postcode);
	snprintf(line, sizeof(line),
		 "{\"id\":\"TH-%04zu\",\"names\":[{\"given\":\"Wilfred\",\"family\":\"Thornbury\",\"kind\":\"primary\"}],"
		 "\"dob\":\"1961-01-15\",%s\"managing_force\":\"north-yorkshire\",\"status\":\"active\"}",
		 n, addr);
	put_line(f->s, line);
}

/*
 * Namesakes that an age cannot tell apart (they were born on the same
 * day), most living in other areas: the tags rule most of them out unread (their area, and the order
 * of equals), and the answer must be the one scoring every one of them
 * would give: the district, the area, no postcode at all, then the rest
 * of equal weight in record order.  The ones that must come first are put
 * last, so that they are read after the list has filled.
 */
static void test_namesakes_elsewhere_are_ruled_out_by_area_and_record_order(void **state)
{
	static const char *const elsewhere[] = {
		"AB10 1AA", "B15 2TT", "BS8 1TH", "CF10 3AT", "DH1 3LE", "EX4 4QJ", "G12 8QQ", "HU6 7RX",
		"IP4 1AA", "KT1 2EE", "LN6 7TS", "ME4 4TB", "NR4 7TJ", "OX1 2JD", "PL4 8AA", "RG6 6AH",
		"SA2 8PP", "TR1 3HD", "WF1 2DD", "ZE1 0LL", "12345", "DL1 1AA", "PO1 2UP", "CT2 7NZ",
	};
	static const char *const want[] = {
		"TH-0101", /* YO10 4NR: the district */
		"TH-0102", /* YO31 7EX: the area */
		"TH-0103", /* no address */
		"TH-0001", "TH-0002", "TH-0003", "TH-0004", "TH-0005", "TH-0006", "TH-0007",
	};
	struct fixture *f = *state;
	const struct date born = {1961, 1, 15};
	struct query q = {.given = "Wilfred", NULL, "Thornbury", .postcode = "YO10 5DD"};
	struct check_result res;

	q.age = age_today(&born);

	for (size_t i = 0; i < sizeof(elsewhere) / sizeof(elsewhere[0]); i++)
		put_thornbury(f, i + 1, elsewhere[i]);
	put_thornbury(f, 101, "YO10 4NR");
	put_thornbury(f, 102, "YO31 7EX");
	put_thornbury(f, 103, NULL);

	run(f, &q, &res);
	assert_int_equal(res.n_candidates, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < res.n_candidates; i++) {
		if (strcmp(res.candidates[i].offender_id, want[i]) != 0) {
			print_error("candidate %zu is %s, want %s\n", i, res.candidates[i].offender_id, want[i]);
			fail();
		}
	}
	assert_true(has_reason(&res.candidates[0], "postcode:district"));
	assert_true(has_reason(&res.candidates[1], "postcode:area"));
	assert_true(has_reason(&res.candidates[3], "postcode:different"));
	/* Most were never read: ruled out by their tags. */
	assert_true(res.n_views < sizeof(elsewhere) / sizeof(elsewhere[0]));
}

/*
 * Family names written in another romanisation or spelling of the same
 * name (data/surnames.tsv), with and without the Arabic article, and with
 * and without Mac: found without a date of birth when the given name and
 * the postcode agree, weighed as family:variant, and never a match on the
 * date alone.
 */
static void put_variant_people(struct fixture *f)
{
	static const char *const lines[] = {
		"{\"id\":\"FV-CHOW\",\"names\":[{\"given\":\"Jiahao\",\"family\":\"Chow\",\"kind\":\"primary\"}],"
		"\"dob\":\"1984-02-19\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"LS6 3QN\"}],\"managing_force\":\"west-yorkshire\","
		"\"status\":\"active\"}",
		"{\"id\":\"FV-KWOK\",\"names\":[{\"given\":\"Meilin\",\"family\":\"Kwok\",\"kind\":\"primary\"}],"
		"\"dob\":\"1979-11-03\",\"sex\":\"F\",\"addresses\":[{\"postcode\":\"B15 2TT\"}],\"managing_force\":\"west-midlands\","
		"\"status\":\"active\"}",
		"{\"id\":\"FV-HASSAN\",\"names\":[{\"given\":\"Karim\",\"family\":\"Al-Hassan\",\"kind\":\"primary\"}],"
		"\"dob\":\"1990-08-21\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"M14 6HR\"}],\"managing_force\":\"greater-manchester\","
		"\"status\":\"active\"}",
		"{\"id\":\"FV-LEE\",\"names\":[{\"given\":\"Wei\",\"family\":\"Lee\",\"kind\":\"primary\"}],"
		"\"dob\":\"1988-05-27\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"NG7 2RD\"}],\"managing_force\":\"nottinghamshire\","
		"\"status\":\"active\"}",
		"{\"id\":\"FV-MACKAY\",\"names\":[{\"given\":\"Torquil\",\"family\":\"MacKay\",\"kind\":\"primary\"}],"
		"\"dob\":\"1972-04-09\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"IV2 3PX\"}],\"managing_force\":\"scotland\","
		"\"status\":\"active\"}",
	};
	struct store_txn *t;
	struct dsc_error err;

	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		put_in(t, lines[i]);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
}

static void test_family_name_variants(void **state)
{
	static const struct check_case variant_cases[] = {
		{"Zhou finds Chow with no date of birth, the given name and the postcode agreeing",
		 {.given = "Jiahao", NULL, "Zhou", .postcode = "LS6 3QN"}, BAND_POSSIBLE_MATCH, "FV-CHOW",
		 {"family:variant", "given:exact", "dob:absent", "postcode:full"}},
		{"Zhou finds Chow in the same district, another sector (through the variant's name key)",
		 {.given = "Jiahao", NULL, "Zhou", .postcode = "LS6 1AA"}, BAND_POSSIBLE_MATCH, "FV-CHOW",
		 {"family:variant", "postcode:district"}},
		{"Zhou finds Chow with the given name alone",
		 {.given = "Jiahao", NULL, "Zhou"}, BAND_POSSIBLE_MATCH, "FV-CHOW", {"family:variant", "given:exact"}},
		{"Guo finds Kwok with no date of birth",
		 {.given = "Meilin", NULL, "Guo", .postcode = "B15 2TT"}, BAND_POSSIBLE_MATCH, "FV-KWOK",
		 {"family:variant", "given:exact", "postcode:full"}},
		{"a variant with the date of birth alone is a possible match (it needs the district)",
		 {.given = "Meilin", NULL, "Guo", .dob = "1979-11-03"}, BAND_POSSIBLE_MATCH, "FV-KWOK",
		 {"family:variant", "dob:exact"}},
		{"a variant with the date of birth and the postcode is a match",
		 {.given = "Meilin", NULL, "Guo", .dob = "1979-11-03", .postcode = "B15 2TT"}, BAND_MATCH, "FV-KWOK",
		 {"family:variant", "dob:exact", "postcode:full"}},
		{"a namesake by variant born on another day and living elsewhere is no match",
		 {.given = "Jiahao", NULL, "Zhou", .dob = "1991-07-30", .postcode = "SE1 7PB"}, BAND_NONE, NULL, {NULL}},
		{"the family name without its article (Hassan for Al-Hassan) is the same name but for it",
		 {.given = "Karim", NULL, "Hassan", .dob = "1990-08-21", .postcode = "M14 6HR"}, BAND_MATCH, "FV-HASSAN",
		 {"family:particles", "dob:exact"}},
		{"the article written as one word (Alhassan) is the same name, joined",
		 {.given = "Karim", NULL, "Alhassan", .postcode = "M14 6HR"}, BAND_POSSIBLE_MATCH, "FV-HASSAN",
		 {"family:exact", "given:exact"}},
		{"El Hassan for Al-Hassan agrees in the name, not through the article",
		 {.given = "Karim", NULL, "El Hassan", .postcode = "M14 6HR"}, BAND_POSSIBLE_MATCH, "FV-HASSAN",
		 {"family:particles"}},
		{"the article as the whole family name is the rest of Al-Hassan lost: weighed as missing",
		 {.given = "Karim", NULL, "Al", .postcode = "M14 6HR"}, BAND_POSSIBLE_MATCH, "FV-HASSAN",
		 {"family:missing"}},
		{"Kay for MacKay, with the date and the postcode, is a match",
		 {.given = "Torquil", NULL, "Kay", .dob = "1972-04-09", .postcode = "IV2 3PX"}, BAND_MATCH, "FV-MACKAY",
		 {"family:variant", "dob:exact", "postcode:full"}},
		{"Li for Lee agrees by sound, which the table does not weaken",
		 {.given = "Wei", NULL, "Li", .dob = "1988-05-27"}, BAND_POSSIBLE_MATCH, "FV-LEE",
		 {"family:phonetic", "dob:exact"}},
		{"Li written in Han characters for Lee: sound is no weak evidence in another script, a match",
		 {.given = "\u4f1f", NULL, "\u674e", .dob = "1988-05-27"}, BAND_MATCH, "FV-LEE",
		 {"family:phonetic", "dob:exact", "name:transliterated"}},
		{"Kay for MacKay with the date alone is a possible match",
		 {.given = "Torquil", NULL, "Kay", .dob = "1972-04-09"}, BAND_POSSIBLE_MATCH, "FV-MACKAY",
		 {"family:variant", "dob:exact"}},
	};
	struct fixture *f = *state;

	put_variant_people(f);
	run_cases(f, variant_cases, sizeof(variant_cases) / sizeof(variant_cases[0]), true);
}

/*
 * A typo in the Mc of a family name: the normaliser writes Mc as mac, so
 * MNamara (the c left out) is two letters from the record's macnamara
 * and would weigh as a mismatch; it is one from the McNamara typed, and
 * weighs as a near spelling.  Found with the given name alone (the typo
 * keys of a family name nobody on the register spells so).  MKay for
 * MacKay is not near: three letters after the Mac are too few to trust
 * (it agrees in sound, and weighs as that).
 */
static void test_a_typo_in_the_mc(void **state)
{
	static const struct check_case mc_cases[] = {
		{"MNamara for McNamara, with the date, is a match",
		 {.given = "Oisin", NULL, "MNamara", .dob = "1983-10-02"}, BAND_MATCH, "MC-MCNAMARA",
		 {"family:fuzzy", "given:exact", "dob:exact"}},
		{"MNamara for McNamara with the given name alone is a possible match",
		 {.given = "Oisin", NULL, "MNamara"}, BAND_POSSIBLE_MATCH, "MC-MCNAMARA",
		 {"family:fuzzy", "given:exact", "dob:absent"}},
		{"cNamara for McNamara with the given name alone is a possible match",
		 {.given = "Oisin", NULL, "cNamara"}, BAND_POSSIBLE_MATCH, "MC-MCNAMARA", {"family:fuzzy", "given:exact"}},
		{"MvNamara (a slip on the c) for McNamara with the postcode",
		 {.given = "Oisin", NULL, "MvNamara", .postcode = "BT9 5AB"}, BAND_POSSIBLE_MATCH, "MC-MCNAMARA",
		 {"family:fuzzy", "given:exact", "postcode:full"}},
		{"MacNamara is McNamara, exactly",
		 {.given = "Oisin", NULL, "MacNamara", .dob = "1983-10-02"}, BAND_MATCH, "MC-MCNAMARA",
		 {"family:exact", "dob:exact"}},
	};
	static const char mcnamara[] =
		"{\"id\":\"MC-MCNAMARA\",\"names\":[{\"given\":\"Oisin\",\"family\":\"McNamara\",\"kind\":\"primary\"}],"
		"\"dob\":\"1983-10-02\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"BT9 5AB\"}],"
		"\"managing_force\":\"northern-ireland\",\"status\":\"active\"}";
	const struct query mkay = {.given = "Torquil", NULL, "MKay", .dob = "1972-04-09"};
	struct fixture *f = *state;
	struct check_result res;

	put_variant_people(f);
	put_line(f->s, mcnamara);
	run_cases(f, mc_cases, sizeof(mc_cases) / sizeof(mc_cases[0]), true);

	/* Found by its date, and alike in sound only. */
	run(f, &mkay, &res);
	assert_true(res.n_candidates > 0);
	assert_string_equal(res.candidates[0].offender_id, "FV-MACKAY");
	assert_true(has_reason(&res.candidates[0], "family:phonetic"));
	assert_false(has_reason(&res.candidates[0], "family:fuzzy"));
}

/*
 * A typo that makes the family name another on the register: Williams
 * typed William, with no date of birth, when someone else is called
 * William.  Nobody has that family name with that given name, so the
 * spellings a letter away are looked up as for a name nobody spells so
 * (typo_keys), and Rhodri Williams is found; with a date of birth the
 * date's keys find him anyway.  Glenys William, checked as she is
 * registered, is found through her own keys.
 */
static void test_a_typo_into_another_registered_name(void **state)
{
	static const struct check_case typo_cases[] = {
		{"William for Williams, no date, another William registered: a possible match",
		 {.given = "Rhodri", NULL, "William"}, BAND_POSSIBLE_MATCH, "TY-WILLIAMS",
		 {"family:fuzzy", "given:exact", "dob:absent"}},
		{"the same with the postcode",
		 {.given = "Rhodri", NULL, "William", .postcode = "LL57 2DG"}, BAND_POSSIBLE_MATCH, "TY-WILLIAMS",
		 {"family:fuzzy", "given:exact", "postcode:full"}},
		{"Glenys William is found as she is",
		 {.given = "Glenys", NULL, "William"}, BAND_POSSIBLE_MATCH, "TY-WILLIAM",
		 {"family:exact", "given:exact"}},
	};
	static const char *const lines[] = {
		"{\"id\":\"TY-WILLIAMS\",\"names\":[{\"given\":\"Rhodri\",\"family\":\"Williams\",\"kind\":\"primary\"}],"
		"\"dob\":\"1979-06-21\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"LL57 2DG\"}],"
		"\"managing_force\":\"north-wales\",\"status\":\"active\"}",
		"{\"id\":\"TY-WILLIAM\",\"names\":[{\"given\":\"Glenys\",\"family\":\"William\",\"kind\":\"primary\"}],"
		"\"dob\":\"1962-02-08\",\"sex\":\"F\",\"addresses\":[{\"postcode\":\"SA1 1NW\"}],"
		"\"managing_force\":\"south-wales\",\"status\":\"active\"}",
	};
	struct fixture *f = *state;

	put_lines(f->s, lines, sizeof(lines) / sizeof(lines[0]));
	run_cases(f, typo_cases, sizeof(typo_cases) / sizeof(typo_cases[0]), true);
}

/*
 * A nickname, a typo in the family name and a date of birth a year out,
 * with the postcode: the name keys miss (the family name's sound has
 * changed) and so do the date keys; the given name's sounds in the
 * postcode sector are what is left.  Jon and Johnny are in John's group
 * of the nickname table, whose other names (Jack, Ian, Sean, Evan) took
 * every place for a sound before Jonathan's was reached, and Will's
 * variants ran out before Bilal's: the answer named nobody.
 */
static void test_a_nickname_with_a_typo_and_a_year_out_is_found_in_the_sector(void **state)
{
	static const struct check_case nick_cases[] = {
		{"Jon Matthew Smiwh, a year out, in LS8 1RU: Jonathan Matthew Smith",
		 {.given = "Jon", "Matthew", "Smiwh", .dob = "1962-01-04", .postcode = "LS8 1RU"}, BAND_MATCH,
		 "NK-JONATHAN", {"family:fuzzy", "given:nickname", "middle:exact", "postcode:full"}},
		{"Johnny Wlson, a year out, in WF9 8JQ: Jonathan Wilson",
		 {.given = "Johnny", NULL, "Wlson", .dob = "1985-12-16", .postcode = "WF9 8JQ"}, BAND_MATCH,
		 "NK-WILSON", {"family:fuzzy", "given:nickname", "postcode:full"}},
		{"Will Hsosain, a year out, in CV15 7UG: Bilal Hossain",
		 {.given = "Will", NULL, "Hsosain", .dob = "1992-05-07", .postcode = "CV15 7UG"}, BAND_MATCH,
		 "NK-BILAL", {"given:nickname", "postcode:full"}},
	};
	static const char *const lines[] = {
		"{\"id\":\"NK-JONATHAN\",\"names\":[{\"given\":\"Jonathan\",\"middle\":\"Matthew\",\"family\":\"Smith\","
		"\"kind\":\"primary\"}],\"dob\":\"1963-01-04\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"LS8 1RU\"}],"
		"\"managing_force\":\"west-yorkshire\",\"status\":\"active\"}",
		"{\"id\":\"NK-WILSON\",\"names\":[{\"given\":\"Jonathan\",\"family\":\"Wilson\",\"kind\":\"primary\"}],"
		"\"dob\":\"1984-12-16\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"WF9 8JQ\"}],"
		"\"managing_force\":\"west-yorkshire\",\"status\":\"active\"}",
		"{\"id\":\"NK-BILAL\",\"names\":[{\"given\":\"Bilal\",\"family\":\"Hossain\",\"kind\":\"primary\"}],"
		"\"dob\":\"1991-05-07\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"CV15 7UG\"}],"
		"\"managing_force\":\"west-midlands\",\"status\":\"active\"}",
	};
	struct fixture *f = *state;
	struct nickname_table *t = NULL;
	struct dsc_error err;
	const char *vars[4];

	/* The full names a nickname stands for come first. */
	assert_int_equal(nickname_table_load(&t, NULL, &err), DSC_OK);
	assert_int_equal(nickname_variants(t, "jon", vars, 4), 4);
	assert_string_equal(vars[0], "john");
	assert_string_equal(vars[1], "jonathan");
	assert_int_equal(nickname_variants(t, "beth", vars, 2), 2);
	assert_string_equal(vars[0], "elizabeth");
	assert_string_equal(vars[1], "bethan");
	nickname_table_free(t);

	put_lines(f->s, lines, sizeof(lines) / sizeof(lines[0]));
	run_cases(f, nick_cases, sizeof(nick_cases) / sizeof(nick_cases[0]), true);
}

/*
 * A date of birth wholly other than the record's, or an age far out, with
 * both names agreeing and the postcode agreeing in full: the date given
 * wrongly (or lied about), or a relative of the same name in the
 * household.  The person at that address is listed (possible, never the
 * match), and ranked before namesakes living elsewhere; a given name that
 * disagrees is not.  (An independent evaluation's David Roberts,
 * 1967-10-06, LE5 0XT: no_match, beside the David Roberts born 1977-03-09
 * who lives there, when the name was a common one.)
 */
static void test_a_wrong_date_at_the_very_address_is_listed(void **state)
{
	struct fixture *f = *state;
	struct check_result res;
	struct store_txn *t;
	struct dsc_error err;
	struct date dob = {1977, 3, 9};
	struct query wrong_date = {.given = "David", NULL, "Roberts", .dob = "1967-10-06", .postcode = "LE5 0XT"};
	struct query wrong_age = {.given = "David", NULL, "Roberts", .age = 0, .postcode = "LE5 0XT"};
	struct query other_given = {.given = "Daniel", NULL, "Roberts", .dob = "1967-10-06", .postcode = "LE5 0XT"};
	struct query elsewhere = {.given = "David", NULL, "Roberts", .dob = "1967-10-06", .postcode = "LE5 7QA"};

	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	/* Sixty David Robertses (a common name: its weight is the least),
	 * twenty of them about as old as the age that will be given. */
	for (int i = 0; i < 60; i++) {
		char line[512];
		snprintf(line, sizeof(line),
			 "{\"id\":\"DR-%04d\",\"names\":[{\"given\":\"David\",\"family\":\"Roberts\",\"kind\":\"primary\"}],"
			 "\"dob\":\"%d-%02d-%02d\",\"addresses\":[{\"postcode\":\"%s%d %dAB\"}],"
			 "\"managing_force\":\"leicestershire\",\"status\":\"active\"}",
			 i, i < 20 ? 1985 : 1940 + i % 60, 1 + i % 12, 1 + i % 28, i % 2 ? "NG" : "DE", 1 + i % 20, i % 9);
		put_in(t, line);
	}
	put_in(t, "{\"id\":\"DR-HOME\",\"names\":[{\"given\":\"David\",\"family\":\"Roberts\",\"kind\":\"primary\"}],"
		  "\"dob\":\"1977-03-09\",\"addresses\":[{\"postcode\":\"LE5 0XT\"}],"
		  "\"managing_force\":\"leicestershire\",\"status\":\"active\"}");
	assert_int_equal(store_write_commit(t, &err), DSC_OK);

	run(f, &wrong_date, &res);
	assert_true(res.n_candidates > 0);
	assert_string_equal(res.candidates[0].offender_id, "DR-HOME");
	assert_int_equal(res.candidates[0].band, BAND_POSSIBLE_MATCH);
	assert_true(has_reason(&res.candidates[0], "dob:mismatch"));
	assert_true(has_reason(&res.candidates[0], "postcode:full"));

	/* An age understated by ten years: before the twenty namesakes of
	 * that age elsewhere. */
	wrong_age.age = age_today(&dob) - 10;
	run(f, &wrong_age, &res);
	assert_true(res.n_candidates > 0);
	assert_string_equal(res.candidates[0].offender_id, "DR-HOME");
	assert_int_equal(res.candidates[0].band, BAND_POSSIBLE_MATCH);
	assert_true(has_reason(&res.candidates[0], "dob:age_inconsistent"));

	/* Another given name at the address, or the name elsewhere in the
	 * district: the date conflicts in full, and nobody is listed for it. */
	run(f, &other_given, &res);
	assert_false(lists(&res, "DR-HOME"));
	run(f, &elsewhere, &res);
	assert_false(lists(&res, "DR-HOME"));
}

/*
 * What a profile on social media or a partner gives: the family name as
 * its initial alone ("Jamie W"), or a surname other than the registered
 * one (taken on marriage, or in use) with the given name and an age, at
 * the very address.  Listed (possible, never the match), and only where
 * the rest agrees.  (Evaluation I found none of them.)
 */
static void test_a_family_initial_or_a_surname_in_use_at_the_address(void **state)
{
	static const struct check_case cases_here[] = {
		{"Jamie W, at his postcode: James Woodton, family:initial",
		 {.given = "Jamie", NULL, "W", .postcode = "LS19 8TL"}, BAND_POSSIBLE_MATCH, "SM-WOODTON",
		 {"family:initial", "given:nickname", "postcode:full"}},
		{"Luke W, James Woodton's date, at his postcode: the initial counts for nothing with another given name",
		 {.given = "Luke", NULL, "W", .dob = "1998-12-11", .postcode = "LS19 8TL"}, BAND_NONE, NULL, {NULL}},
		{"...with his date of birth too: still not the match (a name in part)",
		 {.given = "James", NULL, "W", .dob = "1998-12-10", .postcode = "LS19 8TL"}, BAND_POSSIBLE_MATCH,
		 "SM-WOODTON", {"family:initial", "given:exact", "dob:exact"}},
		{"Susan Knight, her date, at her postcode: Susan Whitby",
		 {.given = "Susan", NULL, "Knight", .dob = "2000-09-13", .postcode = "M16 5XX"}, BAND_POSSIBLE_MATCH,
		 "SM-WHITBY", {"family:mismatch", "given:exact", "postcode:full"}},
		{"Daniel Knight at her postcode, born a day from her: nobody (another given name)",
		 {.given = "Daniel", NULL, "Knight", .dob = "2000-09-14", .postcode = "M16 5XX"}, BAND_NONE, NULL, {NULL}},
		{"Susan Knight elsewhere: nobody",
		 {.given = "Susan", NULL, "Knight", .dob = "2001-02-03", .postcode = "M16 6AB"}, BAND_NONE, NULL, {NULL}},
	};
	static const char *const lines[] = {
		"{\"id\":\"SM-WOODTON\",\"names\":[{\"given\":\"James\",\"middle\":\"Michael\",\"family\":\"Woodton\","
		"\"kind\":\"primary\"}],\"dob\":\"1998-12-10\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"LS19 8TL\"}],"
		"\"managing_force\":\"west-yorkshire\",\"status\":\"active\"}",
		"{\"id\":\"SM-WHITBY\",\"names\":[{\"given\":\"Susan\",\"family\":\"Whitby\",\"kind\":\"primary\"}],"
		"\"dob\":\"2000-09-13\",\"sex\":\"F\",\"addresses\":[{\"postcode\":\"M16 5XX\"}],"
		"\"managing_force\":\"greater-manchester\",\"status\":\"active\"}",
	};
	struct fixture *f = *state;
	struct query by_age = {.given = "Susan", NULL, "Knight", .age = 0, .postcode = "M16 5XX"};
	const struct date dob = {2000, 9, 13};
	struct check_result res;

	put_lines(f->s, lines, sizeof(lines) / sizeof(lines[0]));
	run_cases(f, cases_here, sizeof(cases_here) / sizeof(cases_here[0]), false);
	/* With her age rather than her date, the same. */
	by_age.age = age_today(&dob);
	run(f, &by_age, &res);
	assert_true(res.n_candidates > 0);
	assert_string_equal(res.candidates[0].offender_id, "SM-WHITBY");
	assert_int_equal(res.candidates[0].band, BAND_POSSIBLE_MATCH);
	assert_true(has_reason(&res.candidates[0], "dob:age_consistent"));
}

/*
 * Ten people named given + near_family (a near spelling of the family
 * name asked about), born on dob at postcode, registered first, then the
 * one record (id, given, middle or NULL, family) of the same date and
 * postcode: the list is full of equals by the time the last is read.
 */
static void put_ten_then_one(struct fixture *f, const char *prefix, const char *given, const char *near_family,
			     const char *id, const char *middle, const char *family, const char *dob,
			     const char *postcode)
{
	char line[512], mid[96] = "";

	for (int i = 0; i < 10; i++) {
		snprintf(line, sizeof(line),
			 "{\"id\":\"%s-%04d\",\"names\":[{\"given\":\"%s\",\"family\":\"%s\",\"kind\":\"primary\"}],"
			 "\"dob\":\"%s\",\"addresses\":[{\"postcode\":\"%s\"}],\"managing_force\":\"west-mercia\","
			 "\"status\":\"active\"}",
			 prefix, i, given, near_family, dob, postcode);
		put_line(f->s, line);
	}
	if (middle != NULL)
		snprintf(mid, sizeof(mid), "\"middle\":\"%s\",", middle);
	snprintf(line, sizeof(line),
		 "{\"id\":\"%s\",\"names\":[{\"given\":\"%s\",%s\"family\":\"%s\",\"kind\":\"primary\"}],"
		 "\"dob\":\"%s\",\"addresses\":[{\"postcode\":\"%s\"}],\"managing_force\":\"west-mercia\","
		 "\"status\":\"active\"}",
		 id, given, mid, family, dob, postcode);
	put_line(f->s, line);
}

/*
 * The most a record's names can weigh (name_bound), against which records
 * are ruled out by their index tags, counts a family name nobody has as a
 * family name at what it weighs as a record's middle name: Nabil Faraj,
 * where nobody is called Faraj, is Nabil Faraj Haddad (family:middle_name,
 * its exact weight less 3), which is more than the near spelling such a
 * name weighs at most otherwise.  Ten Nabil Farejs of his date and
 * postcode fill the list first (a near spelling of the family name); his
 * record, read last, weighs more than all of them and heads the list.
 * With the bound at the near spelling it tied with the tenth and, later
 * in record order, was left out unread.
 */
static void test_a_family_name_nobody_has_still_counts_as_a_middle_name(void **state)
{
	struct fixture *f = *state;
	const struct query q = {.given = "Nabil", .family = "Faraj", .dob = "1981-06-19", .postcode = "WR3 8HP"};
	struct check_result res;

	put_ten_then_one(f, "NF", "Nabil", "Farej", "NF-HADDAD", "Faraj", "Haddad", "1981-06-19", "WR3 8HP");
	run(f, &q, &res);
	assert_int_equal(res.n_candidates, MATCH_MAX_CANDIDATES);
	assert_string_equal(res.candidates[0].offender_id, "NF-HADDAD");
	assert_true(has_reason(&res.candidates[0], "family:middle_name"));
	assert_true(has_reason(&res.candidates[1], "family:fuzzy"));
}

/*
 * The same bound for a family name nobody has word for word that is
 * somebody's split elsewhere: Winston ThompsonFrancis is Winston Thompson
 * Francis (family:exact, the letters joined).  Ten Winston
 * ThompsonFrancizes of his date and postcode (a near spelling) fill the
 * list first; his record, read last, heads it.
 */
static void test_a_family_name_split_elsewhere_is_still_exact(void **state)
{
	struct fixture *f = *state;
	const struct query q = {.given = "Winston", .family = "ThompsonFrancis", .dob = "1979-03-08",
				.postcode = "NG7 2QT"};
	struct check_result res;

	put_ten_then_one(f, "TF", "Winston", "ThompsonFranciz", "TF-SPLIT", NULL, "Thompson Francis", "1979-03-08", "NG7 2QT");
	run(f, &q, &res);
	assert_int_equal(res.n_candidates, MATCH_MAX_CANDIDATES);
	assert_string_equal(res.candidates[0].offender_id, "TF-SPLIT");
	assert_true(has_reason(&res.candidates[0], "family:exact"));
	assert_true(has_reason(&res.candidates[1], "family:fuzzy"));
}

/* And the other way: Ottoline Quen Tavisham, two words nobody has, is
 * Ottoline Quentavisham, one word (a T key, not a J key). */
static void test_a_family_name_split_where_it_is_one_word_is_still_exact(void **state)
{
	struct fixture *f = *state;
	const struct query q = {.given = "Ottoline", .family = "Quen Tavisham", .dob = "1983-10-21",
				.postcode = "EX4 6PL"};
	struct check_result res;

	put_ten_then_one(f, "QT", "Ottoline", "Quentavishan", "QT-WHOLE", NULL, "Quentavisham", "1983-10-21", "EX4 6PL");
	run(f, &q, &res);
	assert_int_equal(res.n_candidates, MATCH_MAX_CANDIDATES);
	assert_string_equal(res.candidates[0].offender_id, "QT-WHOLE");
	assert_true(has_reason(&res.candidates[0], "family:exact"));
}

/*
 * No family name ("Paul", "-"), an age and a postcode district: the given
 * name's keys with the years the age allows are the name's own keys, read
 * whole however many Pauls were born then (not as a secondary key under
 * SECONDARY_CAP), so the Paul of that district is found.  (Evaluation I:
 * one Paul of that age living elsewhere, and an answer that said the list
 * was whole.)
 */
static void test_a_given_name_alone_reads_its_own_keys(void **state)
{
	struct fixture *f = *state;
	struct query q = {.given = "Paul", NULL, "-", .age = 0, .postcode = "M24"};
	const struct date dob = {1990, 12, 6};
	struct check_result res;
	struct store_txn *t;
	struct dsc_error err;

	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (int i = 0; i < 160; i++) { /* Pauls born in 1990 and 1991, far away */
		char line[512];
		snprintf(line, sizeof(line),
			 "{\"id\":\"PA-%04d\",\"names\":[{\"given\":\"Paul\",\"family\":\"Fordwick%c\",\"kind\":\"primary\"}],"
			 "\"dob\":\"%d-%02d-%02d\",\"addresses\":[{\"postcode\":\"TR%d 1AB\"}],"
			 "\"managing_force\":\"devon-and-cornwall\",\"status\":\"active\"}",
			 i, 'a' + i % 26, 1990 + i % 2, 1 + i % 12, 1 + i % 28, 1 + i % 20);
		put_in(t, line);
	}
	put_in(t, "{\"id\":\"PA-M24\",\"names\":[{\"given\":\"Paul\",\"family\":\"Evanscombe\",\"kind\":\"primary\"}],"
		  "\"dob\":\"1990-12-06\",\"addresses\":[{\"postcode\":\"M24 7HU\"}],"
		  "\"managing_force\":\"greater-manchester\",\"status\":\"active\"}");
	assert_int_equal(store_write_commit(t, &err), DSC_OK);

	q.age = age_today(&dob);
	run(f, &q, &res);
	assert_true(res.n_candidates > 0);
	assert_string_equal(res.candidates[0].offender_id, "PA-M24");
	assert_true(has_reason(&res.candidates[0], "postcode:district"));
}

/*
 * Terence Smith written in Ukrainian Cyrillic as heard (теренке сміт:
 * terenke smit), born on 7 December and asked about as 12 July: neither
 * name keeps its sound, and the date keys hold the date as given.  The
 * date swapped, in the postcode's sector (an E key), is the key left.
 */
static void test_a_swapped_date_in_the_sector_finds_a_name_whose_sounds_all_changed(void **state)
{
	static const struct check_case swap_cases[] = {
		{"теренке сміт, 12 July for 7 December, in DY7 5DD: Terence Smith",
		 {.given = "теренке", NULL, "сміт", .dob = "1973-07-12", .postcode = "DY7 5DD"}, BAND_MATCH,
		 "SW-TERENCE", {"dob:day_month_swapped", "postcode:full", "name:transliterated"}},
	};
	static const char *const line =
		"{\"id\":\"SW-TERENCE\",\"names\":[{\"given\":\"Terence\",\"family\":\"Smith\",\"kind\":\"primary\"}],"
		"\"dob\":\"1973-12-07\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"DY7 5DD\"}],"
		"\"managing_force\":\"west-mercia\",\"status\":\"active\"}";
	struct fixture *f = *state;

	put_line(f->s, line);
	run_cases(f, swap_cases, sizeof(swap_cases) / sizeof(swap_cases[0]), false);
}

/*
 * John Johes for John Jones (a slip that changes the family name's sound)
 * with day and month swapped, or a year out, and no postcode: too many
 * Johns born in those years for the G keys, no name key and no D key of
 * the date as given.  The D keys of the date swapped and a year either
 * side, with the name's initials (slipped_date_keys), find him.
 */
static void test_a_slip_in_the_family_name_and_one_in_the_date(void **state)
{
	static const struct check_case slip_cases[] = {
		{"John Johes, 1988-09-01: John Jones, 1988-01-09", {.given = "John", NULL, "Johes", .dob = "1988-09-01"},
		 BAND_POSSIBLE_MATCH, "SD-JONES", {"family:fuzzy", "dob:day_month_swapped"}},
		{"John Johes, 1987-01-09: John Jones, 1988-01-09", {.given = "John", NULL, "Johes", .dob = "1987-01-09"},
		 BAND_POSSIBLE_MATCH, "SD-JONES", {"family:fuzzy", "dob:year_off_by_one"}},
	};
	static const char *const pre[] = {"Ash", "Brom", "Cal", "Dun", "Elm", "Fen", "Gar", "Hal", "Kel"};
	static const char *const suf[] = {"ford", "ley", "wick", "more", "ton"};
	struct fixture *f = *state;
	char line[512];

	put_line(f->s, "{\"id\":\"SD-JONES\",\"names\":[{\"given\":\"John\",\"family\":\"Jones\","
		       "\"kind\":\"primary\"}],\"dob\":\"1988-01-09\",\"sex\":\"M\","
		       "\"managing_force\":\"kent\",\"status\":\"active\"}");
	for (int y = 1986; y <= 1990; y++)
		for (size_t p = 0; p < sizeof(pre) / sizeof(pre[0]); p++)
			for (size_t q = 0; q < sizeof(suf) / sizeof(suf[0]); q++) {
				snprintf(line, sizeof(line),
					 "{\"id\":\"SD-%d-%zu-%zu\",\"names\":[{\"given\":\"John\",\"family\":\"%s%s\","
					 "\"kind\":\"primary\"}],\"dob\":\"%d-%02zu-%02zu\",\"managing_force\":\"kent\","
					 "\"status\":\"active\"}",
					 y, p, q, pre[p], suf[q], y, 2 + p, 10 + q);
				put_line(f->s, line);
			}
	run_cases(f, slip_cases, sizeof(slip_cases) / sizeof(slip_cases[0]), true);
}

/*
 * Mxarcia Williams for Marcia Williams, with no date: the slipped given
 * name's sound meets no N key, and the F key of Williams and M holds too
 * many for its cap.  The given name's spellings one slip away
 * (given_slip_keys) find her.
 */
static void test_a_slip_in_the_given_name_without_a_date(void **state)
{
	static const struct check_case given_cases[] = {
		{"Mxarcia Williams, no date: Marcia Williams", {.given = "Mxarcia", NULL, "Williams"}, BAND_POSSIBLE_MATCH,
		 "GS-MARCIA", {"family:exact", "given:fuzzy", "dob:absent"}},
	};
	struct fixture *f = *state;
	char line[512];

	/* 320 other Williamses whose given names begin with M, registered
	 * before her: more than the F key's cap and its partial read
	 * (FALLBACK_SCAN, which takes the first) hold. */
	for (int i = 0; i < 320; i++) {
		snprintf(line, sizeof(line),
			 "{\"id\":\"GS-%03d\",\"names\":[{\"given\":\"M%c%clen\",\"family\":\"Williams\","
			 "\"kind\":\"primary\"}],\"dob\":\"19%02d-%02d-%02d\",\"managing_force\":\"kent\","
			 "\"status\":\"active\"}",
			 i, "aeiouy"[i % 6], 'b' + i / 6 % 20, 40 + i % 50, 1 + i % 12, 1 + i % 28);
		put_line(f->s, line);
	}
	put_line(f->s, "{\"id\":\"GS-MARCIA\",\"names\":[{\"given\":\"Marcia\",\"family\":\"Williams\","
		       "\"kind\":\"primary\"}],\"dob\":\"1982-11-16\",\"sex\":\"F\","
		       "\"managing_force\":\"kent\",\"status\":\"active\"}");
	run_cases(f, given_cases, sizeof(given_cases) / sizeof(given_cases[0]), true);
}

/*
 * A spelling by sound that Double Metaphone tells apart: Huzsayn (HSSN)
 * for Hussain (HSN).  Found by the given name's key in the postcode
 * sector, he was weighed as another family name and fell below the
 * possible band.  Oacez is not Oakes by sound (the c of "ce" is an s):
 * he is two typos of it (test_two_typos_in_a_family_name), no more.
 */
static void test_a_spelling_by_sound_is_alike_in_sound(void **state)
{
	static const struct check_case sound_cases[] = {
		{"Ahmed Huzsayn, no date, at E13 8YN: Ahmed Hussain",
		 {.given = "Ahmed", NULL, "Huzsayn", .postcode = "E13 8YN"}, BAND_POSSIBLE_MATCH, "SA-HUSSAIN",
		 {"family:phonetic", "given:exact", "postcode:full"}},
		{"Paul Oacez, no date, at NG16 2SY: Paul Oakes by two typos, not by sound",
		 {.given = "Paul", NULL, "Oacez", .postcode = "NG16 2SY"}, BAND_POSSIBLE_MATCH, "SA-OAKES",
		 {"family:two_edits", "given:exact", "postcode:full"}},
	};
	static const char *const lines[] = {
		"{\"id\":\"SA-HUSSAIN\",\"names\":[{\"given\":\"Ahmed\",\"family\":\"Hussain\",\"kind\":\"primary\"}],"
		"\"dob\":\"1987-03-02\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"E13 8YN\"}],"
		"\"managing_force\":\"metropolitan\",\"status\":\"active\"}",
		"{\"id\":\"SA-OAKES\",\"names\":[{\"given\":\"Paul\",\"family\":\"Oakes\",\"kind\":\"primary\"}],"
		"\"dob\":\"1966-02-04\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"NG16 2SY\"}],"
		"\"managing_force\":\"nottinghamshire\",\"status\":\"active\"}",
	};
	struct fixture *f = *state;

	put_lines(f->s, lines, sizeof(lines) / sizeof(lines[0]));
	run_cases(f, sound_cases, sizeof(sound_cases) / sizeof(sound_cases[0]), false);
}

/*
 * Greek writes a d as ντ and a b as μπ, and the letters n-t and m-p the
 * same way: Γκραντ is Grant, read back as "grad" when every ντ is a d.
 * A reading with ντ and μπ as d and b only where no vowel comes before
 * them finds Grant (and Campbell, καμπμπελλ, whose second μπ is a b);
 * Ντέιβιντ Έντουαρντς is still David Edwards through the other reading.
 */
static void test_greek_nt_and_mp_after_a_vowel(void **state)
{
	static const struct check_case greek_cases[] = {
		{"ντελροι γκραντ, aged 60, at B22 5XL: Delroy Grant",
		 {.given = "ντελροι", NULL, "γκραντ", .age = 60, .postcode = "B22 5XL"}, BAND_POSSIBLE_MATCH, "GR-GRANT",
		 {"family:exact", "postcode:full", "name:transliterated"}},
		{"ντελροι καμπμπελλ, aged 34, at BA8 3GG: Delroy Campbell",
		 {.given = "ντελροι", NULL, "καμπμπελλ", .age = 34, .postcode = "BA8 3GG"}, BAND_POSSIBLE_MATCH,
		 "GR-CAMPBELL", {"family:fuzzy", "postcode:full", "name:transliterated"}},
		{"Ντέιβιντ Έντουαρντς with the date: David Edwards",
		 {.given = "Ντέιβιντ", NULL, "Έντουαρντς", .dob = "1970-02-02"}, BAND_MATCH, "GR-EDWARDS",
		 {"family:exact", "dob:exact", "name:transliterated"}},
	};
	static const char *const lines[] = {
		"{\"id\":\"GR-GRANT\",\"names\":[{\"given\":\"Delroy\",\"middle\":\"Desmond\",\"family\":\"Grant\","
		"\"kind\":\"primary\"}],\"dob\":\"1965-08-25\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"B22 5XL\"}],"
		"\"managing_force\":\"west-midlands\",\"status\":\"active\"}",
		"{\"id\":\"GR-CAMPBELL\",\"names\":[{\"given\":\"Delroy\",\"family\":\"Campbell\",\"kind\":\"primary\"}],"
		"\"dob\":\"1992-08-20\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"BA8 3GG\"}],"
		"\"managing_force\":\"avon-and-somerset\",\"status\":\"active\"}",
		"{\"id\":\"GR-EDWARDS\",\"names\":[{\"given\":\"David\",\"family\":\"Edwards\",\"kind\":\"primary\"}],"
		"\"dob\":\"1970-02-02\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"SN1 1AA\"}],"
		"\"managing_force\":\"wiltshire\",\"status\":\"active\"}",
	};
	struct fixture *f = *state;

	put_lines(f->s, lines, sizeof(lines) / sizeof(lines[0]));
	run_cases(f, greek_cases, sizeof(greek_cases) / sizeof(greek_cases[0]), false);
}

/*
 * Ukrainian writes the h of an English name as г, which Russian reads
 * (and ICU romanises) as g: гув джонес is Huw Jones.  A reading with г
 * as h finds him at his postcode without a date; Григорий Иванов is
 * still Grigory Ivanov through the reading as romanised.
 */
static void test_ukrainian_h(void **state)
{
	static const struct check_case uk_cases[] = {
		{"гув джонес, no date, at NW5 4BQ: Huw Jones",
		 {.given = "гув", NULL, "джонес", .postcode = "NW5 4BQ"}, BAND_POSSIBLE_MATCH, "UK-HUW",
		 {"family:exact", "given:exact", "postcode:full", "name:transliterated"}},
		{"Григорий Иванов with the date: Grigory Ivanov",
		 {.given = "Григорий", NULL, "Иванов", .dob = "1970-02-02"}, BAND_MATCH, "UK-GRIGORY",
		 {"family:exact", "dob:exact", "name:transliterated"}},
	};
	static const char *const lines[] = {
		"{\"id\":\"UK-HUW\",\"names\":[{\"given\":\"Huw\",\"family\":\"Jones\",\"kind\":\"primary\"}],"
		"\"dob\":\"1950-02-24\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"NW5 4BQ\"}],"
		"\"managing_force\":\"metropolitan\",\"status\":\"active\"}",
		"{\"id\":\"UK-GRIGORY\",\"names\":[{\"given\":\"Grigory\",\"family\":\"Ivanov\",\"kind\":\"primary\"}],"
		"\"dob\":\"1970-02-02\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"E1 6AN\"}],"
		"\"managing_force\":\"metropolitan\",\"status\":\"active\"}",
	};
	struct fixture *f = *state;

	put_lines(f->s, lines, sizeof(lines) / sizeof(lines[0]));
	run_cases(f, uk_cases, sizeof(uk_cases) / sizeof(uk_cases[0]), false);
}

/* Puts 400 people of invented names, so that a name three records
 * carry is few enough to weigh more than a near spelling's cap. */
static void put_filler(struct fixture *f)
{
	static const char *const syll[] = {"Zor", "Vel", "Quen", "Thal", "Brom", "Kest", "Lun", "Pav",
					   "Dra", "Mirn", "Osk", "Fen", "Gar", "Hul", "Jory", "Wyn",
					   "Tes", "Cal", "Rud", "Yen"};
	struct store_txn *t;
	struct dsc_error err;
	char line[512];

	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (int i = 0; i < 400; i++) {
		snprintf(line, sizeof(line),
			 "{\"id\":\"NRF-%04d\",\"names\":[{\"given\":\"%s%sa\",\"family\":\"%s%sley\","
			 "\"kind\":\"primary\"}],\"dob\":\"19%02d-%02d-%02d\",\"managing_force\":\"kent\","
			 "\"status\":\"active\"}",
			 i, syll[i % 20], syll[i / 20], syll[(i * 7) % 20], syll[(i / 20 + 3) % 20], 50 + i % 40,
			 1 + i % 12, 1 + i % 28);
		put_in(t, line);
	}
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
}

/* Puts a record NRN-<id> of the given and family name, born on 14 March
 * 1971 when it is the one looked for (born), else on another day. */
static void put_person(struct fixture *f, int id, const char *given, const char *family, bool born)
{
	char line[512];

	snprintf(line, sizeof(line),
		 "{\"id\":\"NRN-%04d\",\"names\":[{\"given\":\"%s\",\"family\":\"%s\",\"kind\":\"primary\"}],"
		 "\"dob\":\"%s\",\"managing_force\":\"kent\",\"status\":\"active\"}",
		 id, given, family, born ? "1971-03-14" : id % 2 ? "1962-08-21" : "1984-11-05");
	put_line(f->s, line);
}

/* Runs q and returns the top candidate's score, which must be NRN-0001's
 * with the reason want. */
static double top_score(struct fixture *f, const struct query *q, const char *want)
{
	struct check_result res;

	run(f, q, &res);
	assert_true(res.n_candidates >= 1);
	assert_string_equal(res.candidates[0].offender_id, "NRN-0001");
	if (!has_reason(&res.candidates[0], want)) {
		print_error("%s %s: no %s\n", q->given, q->family, want);
		fail();
	}
	return res.candidates[0].score;
}

/*
 * A near spelling between two given names the register knows well
 * (Harry and Barry, each carried by several records) weighs less than
 * one between a name and a slip nobody is called (Barrt): each is a
 * name in its own right.  A namesake of Barry Barker born on his date
 * and living elsewhere, Harry, was a match at 1,000,000 records.  The
 * date is one digit out: a name alone with another first letter is not
 * looked for (the F keys hold the initial).  Harry and Barry neither
 * sound alike nor keep their consonants: given:another_name, never the
 * match band (a twin).
 */
static void test_a_near_spelling_between_two_known_names_weighs_less(void **state)
{
	struct fixture *f = *state;
	const struct query other = {.given = "Harry", .family = "Quillfeather", .dob = "1971-04-14"};
	const struct query slip = {.given = "Barrt", .family = "Quillfeather", .dob = "1971-04-14"};
	double a, b;

	put_filler(f);
	put_person(f, 1, "Barry", "Quillfeather", true);
	put_person(f, 2, "Barry", "Oakhurst", false);
	put_person(f, 3, "Barry", "Pellingham", false);
	put_person(f, 4, "Harry", "Oakhurst", false);
	put_person(f, 5, "Harry", "Pellingham", false);
	put_person(f, 6, "Harry", "Tidewell", false);
	a = top_score(f, &other, "given:another_name");
	b = top_score(f, &slip, "given:fuzzy");
	if (!(a < b)) {
		print_error("Harry for Barry scored %.3f, Barrt for Barry %.3f: want less\n", a, b);
		fail();
	}
}

/*
 * The same for family names (a stranger Kevin Hill born on a Kevin
 * Hall's date was a match at 1,000,000 records): Hartwell for Harwell,
 * both carried by several records, weighs less than the slip Harwelk;
 * Clark for Clarke, two spellings of one name that data/surnames.tsv
 * lists, weighs as a slip does.  Without a date, where the scores are
 * not yet near their ceiling.
 */
static void test_a_near_spelling_between_two_known_family_names_weighs_less(void **state)
{
	struct fixture *f = *state;
	const struct query other = {.given = "Tobin", .family = "Hartwell"};
	const struct query slip = {.given = "Tobin", .family = "Harwelk"};
	const struct query listed = {.given = "Tobin", .family = "Clark"};
	const struct query listed_slip = {.given = "Tobin", .family = "Clarkr"};
	double a, b, c, d;

	put_filler(f);
	put_person(f, 1, "Tobin", "Harwell", true);
	put_person(f, 2, "Ulric", "Harwell", false);
	put_person(f, 3, "Wendel", "Harwell", false);
	put_person(f, 4, "Ulric", "Hartwell", false);
	put_person(f, 5, "Wendel", "Hartwell", false);
	put_person(f, 6, "Osric", "Hartwell", false);
	a = top_score(f, &other, "family:fuzzy");
	b = top_score(f, &slip, "family:fuzzy");
	if (!(a < b)) {
		print_error("Hartwell for Harwell scored %.3f, Harwelk %.3f: want less\n", a, b);
		fail();
	}
	/* NRN-0001 becomes Tobin Clarke; Clark is three other people's. */
	put_person(f, 1, "Tobin", "Clarke", true);
	put_person(f, 2, "Ulric", "Clarke", false);
	put_person(f, 3, "Wendel", "Clarke", false);
	put_person(f, 4, "Ulric", "Clark", false);
	put_person(f, 5, "Wendel", "Clark", false);
	put_person(f, 6, "Osric", "Clark", false);
	c = top_score(f, &listed, "family:fuzzy");
	d = top_score(f, &listed_slip, "family:fuzzy");
	if (fabs(c - d) > 0.011) { /* scores are given to two places */
		print_error("Clark for Clarke scored %.3f, Clarkr %.3f: want the same\n", c, d);
		fail();
	}
}

/*
 * Pet forms and equivalents of the built-in given-name table that were
 * missing (Dafi for Dafydd, Stu, Si, Cal, Al, Shay for Seamus, Jakub for
 * James, Cormac for Charles), and the groups they joined kept apart where
 * the names are not one: Jakub is James and Jacob, Jacob is not James.
 */
static void test_given_name_table_pet_forms(void **state)
{
	static const char *const related[][2] = {
		{"dafi", "dafydd"}, {"dafi", "david"}, {"stu", "stuart"}, {"si", "simon"},
		{"cal", "callum"},  {"al", "alasdair"}, {"al", "albert"}, {"shay", "seamus"},
		{"marky", "mark"},  {"paulie", "paul"}, {"piotrek", "piotr"}, {"lukas", "luke"},
		{"jakub", "james"}, {"jakub", "jacob"}, {"cormac", "charles"}, {"wojciech", "albert"},
		{"mhd", "mohammed"}, {"muhd", "muhammad"}, {"matthew", "mathew"}, {"allen", "alan"},
		{"bryan", "brian"}, {"clare", "claire"}, {"tracy", "tracey"}, {"bernie", "bernard"},
		{"stan", "stanley"}, {"stan", "stanislaw"}, {"tom", "tomasz"}, {"mary", "maryam"},
		{"abdul", "abdullah"}, {"misha", "mikhail"},
		{"trev", "trevor"}, {"howie", "howard"}, {"norm", "norman"}, {"albie", "albert"},
		{"des", "desmond"}, {"vic", "victor"}, {"wilf", "wilfred"}, {"cliff", "clifford"},
		{"mo", "maurice"}, {"shaz", "sharon"}, {"bazza", "barry"},
		/* Yoruba and Igbo names and the forms they are called by */
		{"tobi", "oluwatobiloba"}, {"lekan", "olalekan"}, {"amaka", "chiamaka"},
		{"ify", "ifeanyi"}, {"kunle", "adekunle"}, {"obi", "obinna"}, {"uche", "uchenna"},
		{"olufemi", "oluwafemi"},
		/* and the colloquial forms evaluation G found missing */
		{"waz", "warren"}, {"shuggie", "hugh"}, {"tam", "thomas"}, {"wullie", "william"},
		{"winnie", "winston"}, {"darek", "dariusz"}, {"ozzy", "usman"},
		/* and evaluation H's (Kully for an alias Kulwinder; Mahmut, the
		 * Turkish Mahmoud) */
		{"kully", "kulwinder"}, {"kully", "kuldip"}, {"mahmut", "mahmoud"},
		/* and evaluation I's */
		{"jase", "jason"}, {"kez", "kieran"}, {"natey", "nathan"},
	};
	static const char *const apart[][2] = {
		{"jacob", "james"}, {"charlie", "cormac"}, {"albert", "alasdair"}, {"simon", "stuart"},
		{"harry", "barry"}, {"dean", "sean"}, {"stanley", "stanislaw"},
		{"maurice", "mohammed"}, {"chiamaka", "nwamaka"}, {"winston", "winifred"},
		{"mahmut", "mehmet"}, {"kulwinder", "kuldip"},
	};
	struct nickname_table *t = NULL;
	struct dsc_error err;

	(void)state;
	assert_int_equal(nickname_table_load(&t, NULL, &err), DSC_OK);
	for (size_t i = 0; i < sizeof(related) / sizeof(related[0]); i++) {
		if (!nickname_related(t, related[i][0], related[i][1]) ||
		    !nickname_related(t, related[i][1], related[i][0])) {
			print_error("%s and %s: not related\n", related[i][0], related[i][1]);
			fail();
		}
	}
	for (size_t i = 0; i < sizeof(apart) / sizeof(apart[0]); i++) {
		if (nickname_related(t, apart[i][0], apart[i][1])) {
			print_error("%s and %s: related\n", apart[i][0], apart[i][1]);
			fail();
		}
	}
	nickname_table_free(t);
}

/* nickname_related_to with nickname_find's number answers what
 * nickname_related does, for every pair of a set of listed and unlisted
 * names, either way round (the scorer looks a check's given name up once
 * and asks about it against every record's). */
static void test_nickname_find_answers_as_related(void **state)
{
	static const char *const names[] = {
	    "jon", "john", "jonathan", "johnny", "jack", "james", "jim", "hamish", "jacob", "beth",
	    "elizabeth", "liz", "betty", "hassan", "hussein", "hussain", "kully", "kulwinder", "kuldip",
	    "zyqefoboru", "marlon", "delroy", "x", "", "mo", "maurice", "mohammed",
	};
	size_t n = sizeof(names) / sizeof(names[0]), related = 0;
	struct nickname_table *t = NULL;
	struct dsc_error err;

	(void)state;
	assert_int_equal(nickname_table_load(&t, NULL, &err), DSC_OK);
	assert_true(nickname_find(t, "zyqefoboru") < 0);
	assert_true(nickname_find(t, "john") >= 0);
	assert_false(nickname_related_to(t, -1, "john"));
	assert_false(nickname_related_to(t, 1L << 30, "john")); /* no such number */
	assert_true(nickname_find(NULL, "john") < 0);
	assert_false(nickname_related_to(NULL, 0, "john"));
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			bool want = nickname_related(t, names[i], names[j]);
			if (nickname_related_to(t, nickname_find(t, names[i]), names[j]) != want) {
				print_error("%s and %s: related_to says %d\n", names[i], names[j], !want);
				fail();
			}
			related += want;
		}
	assert_true(related >= 20); /* not a walk of unrelated names */
	nickname_table_free(t);
}

/*
 * Two readings of letters another script writes for English sounds it
 * lacks.  Arabic has no ch and writes it تش (ICU: tsh): تشارلي سميث is
 * Charlie Smith.  ICU writes Greek γκ (g) as it writes νκ (n-k), so the
 * reading that takes nk as g made τζανκοουσκι jagouski: after a vowel it
 * is also n-k (Jankowski), as μπ and ντ are m-p and n-t.  Both were
 * answered with nothing (bench/eval-api.py seeds 73 and 71).
 */
static void test_arabic_ch_and_greek_nk(void **state)
{
	static const struct check_case sc_cases[] = {
		{"تشارلي سميث, no date, at SK17 1RW: Charlie Smith",
		 {.given = "تشارلي", NULL, "سميث", .postcode = "SK17 1RW"}, BAND_POSSIBLE_MATCH, "SC-CHARLIE",
		 {"given:fuzzy", "postcode:full", "name:transliterated"}},
		{"πιοτρ τζανκοουσκι, no date, at OX15 4QB: Piotr Jankowski",
		 {.given = "πιοτρ", NULL, "τζανκοουσκι", .postcode = "OX15 4QB"}, BAND_POSSIBLE_MATCH, "SC-PIOTR",
		 {"family:fuzzy", "given:exact", "postcode:full", "name:transliterated"}},
	};
	static const char *const lines[] = {
		"{\"id\":\"SC-CHARLIE\",\"names\":[{\"given\":\"Charlie\",\"family\":\"Smith\",\"kind\":\"primary\"}],"
		"\"dob\":\"1956-09-23\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"SK17 1RW\"}],"
		"\"managing_force\":\"greater-manchester\",\"status\":\"active\"}",
		"{\"id\":\"SC-PIOTR\",\"names\":[{\"given\":\"Piotr\",\"family\":\"Jankowski\",\"kind\":\"primary\"}],"
		"\"dob\":\"1984-10-25\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"OX15 4QB\"}],"
		"\"managing_force\":\"thames-valley\",\"status\":\"active\"}",
	};
	struct fixture *f = *state;

	put_lines(f->s, lines, sizeof(lines) / sizeof(lines[0]));
	run_cases(f, sc_cases, sizeof(sc_cases) / sizeof(sc_cases[0]), false);
}

/*
 * Two typos in a family name (Shitj for Smith) with a date one digit out
 * and the full postcode: found, possible_match, with a reason that says
 * so.  As another name it weighed 8 bits against, and the answer was
 * empty (bench/eval-api.py seed 59).  Nelson is not two typos of Wilson:
 * the first letters differ.
 */
static void test_two_typos_in_a_family_name(void **state)
{
	static const struct check_case te_cases[] = {
		{"James Shitj born 1970-05-20 at N13 8ZZ: James Smith born 1971-05-20 there",
		 {.given = "James", NULL, "Shitj", .dob = "1970-05-20", .postcode = "N13 8ZZ"}, BAND_POSSIBLE_MATCH,
		 "TE-SMITH", {"family:two_edits", "given:exact", "dob:year_off_by_one", "postcode:full"}},
		{"Kwaku Mwhsah, no date, at SE15 4TL: Kwaku Mensah there",
		 {.given = "Kwaku", NULL, "Mwhsah", .postcode = "SE15 4TL"}, BAND_POSSIBLE_MATCH, "TE-MENSAH",
		 {"family:two_edits", "given:exact", "postcode:full"}},
		{"Kwaku Nelson, no date, at SE15 4TL: not Kwaku Wilson",
		 {.given = "Kwaku", NULL, "Nelson", .postcode = "SE15 4TL"}, BAND_NONE, NULL, {NULL}},
	};
	static const char *const lines[] = {
		"{\"id\":\"TE-SMITH\",\"names\":[{\"given\":\"James\",\"family\":\"Smith\",\"kind\":\"primary\"}],"
		"\"dob\":\"1971-05-20\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"N13 8ZZ\"}],"
		"\"managing_force\":\"metropolitan\",\"status\":\"active\"}",
		"{\"id\":\"TE-MENSAH\",\"names\":[{\"given\":\"Kwaku\",\"family\":\"Mensah\",\"kind\":\"primary\"}],"
		"\"dob\":\"1984-09-02\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"SE15 4TL\"}],"
		"\"managing_force\":\"metropolitan\",\"status\":\"active\"}",
		"{\"id\":\"TE-WILSON\",\"names\":[{\"given\":\"Kwaku\",\"family\":\"Wilson\",\"kind\":\"primary\"}],"
		"\"dob\":\"1979-01-30\",\"sex\":\"M\",\"addresses\":[{\"postcode\":\"SE15 4TL\"}],"
		"\"managing_force\":\"metropolitan\",\"status\":\"active\"}",
	};
	struct fixture *f = *state;

	put_lines(f->s, lines, sizeof(lines) / sizeof(lines[0]));
	run_cases(f, te_cases, sizeof(te_cases) / sizeof(te_cases[0]), false);
}

/* The article of Al-Hassan is no part of the name: Al-Rashid born on
 * the same day at the same address agrees with it in nothing but the
 * article, and was a match through it ("al" as one part of a compound
 * surname). */
static void test_the_article_alone_is_no_agreement(void **state)
{
	struct fixture *f = *state;
	const struct query q = {.given = "Karim", NULL, "Al-Rashid", .dob = "1990-08-21", .postcode = "M14 6HR"};
	struct check_result res;

	put_variant_people(f);
	run(f, &q, &res);
	for (size_t i = 0; i < res.n_candidates; i++) {
		assert_int_not_equal(res.candidates[i].band, BAND_MATCH);
		assert_false(has_reason(&res.candidates[i], "family:compound_part"));
	}
	assert_true(res.n_candidates > 0);
	assert_true(has_reason(&res.candidates[0], "family:mismatch"));
}

/* The family-name table: built in, read by the nickname loader, its
 * relation not transitive (Wong is Wang and Huang; Wang is not Huang),
 * and a bad line named. */
static void test_surname_table(void **state)
{
	char path[] = "/tmp/test_match-sur-XXXXXX";
	int fd = mkstemp(path);
	struct nickname_table *t = NULL;
	struct matcher *m = NULL;
	struct dsc_error err;
	size_t groups, names;
	const char *text = "# a comment\nzhou\tchow chou\nguo\tkw0k\n";

	(void)state;
	assert_int_equal(surname_table_load(&t, NULL, &err), DSC_OK);
	nickname_table_size(t, &groups, &names);
	assert_true(groups >= 50);
	assert_true(nickname_related(t, "zhou", "chow"));
	assert_true(nickname_related(t, "guo", "kwok"));
	assert_true(nickname_related(t, "wong", "wang"));
	assert_true(nickname_related(t, "wong", "huang"));
	assert_false(nickname_related(t, "wang", "huang"));
	assert_true(nickname_related(t, "smith", "smyth")); /* one name: keeps a near spelling's weight */
	assert_false(nickname_related(t, "hall", "hill")); /* two names a letter apart */
	assert_true(nickname_related(t, "wilson", "willson")); /* one name, a letter doubled */
	nickname_table_free(t);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(matcher_new_tables(&m, NULL, path, &err), DSC_EINVAL);
	assert_null(m);
	assert_non_null(strstr(err.msg, ":3: "));
	unlink(path);
	assert_int_equal(matcher_new_tables(&m, NULL, "/nonexistent/surnames.tsv", &err), DSC_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/surnames.tsv"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_table),
		cmocka_unit_test(test_urdu_reading_shows_the_name_as_written),
		cmocka_unit_test(test_age_consistent_reason),
		cmocka_unit_test(test_a_date_known_in_part_weighs_by_how_near_it_is),
		cmocka_unit_test(test_a_typo_off_the_register_with_an_age_only_is_found),
		cmocka_unit_test(test_age_guessed_years_out),
		cmocka_unit_test(test_candidate_details),
		cmocka_unit_test(test_namesake_with_other_dob_and_address_is_never_a_match),
		cmocka_unit_test_setup_teardown(test_a_very_common_name_alone_still_finds_people_of_that_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_wrong_date_at_the_very_address_is_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_first_of_january_alone_is_not_the_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_date_of_birth_over_110_years_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_sounds_of_unknown_names_never_crowd_out_a_known_one, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_names_without_a_letter_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_initial_or_a_sound_changing_typo_with_a_slipped_date_still_find_the_person,
						setup, teardown),
		cmocka_unit_test(test_at_most_ten_sorted_and_no_weak_candidates),
		cmocka_unit_test_setup_teardown(test_a_full_list_says_whether_more_would_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_search_cut_short_says_so_when_the_list_is_not_full, setup,
						teardown),
		cmocka_unit_test(test_only_one_of_two_close_people_is_a_match),
		cmocka_unit_test(test_subject_without_names_is_refused),
		cmocka_unit_test(test_band_names),
		cmocka_unit_test(test_nickname_file_errors_name_the_line),
		cmocka_unit_test(test_nickname_lines_of_names_apart),
		cmocka_unit_test(test_nickname_find_answers_as_related),
		cmocka_unit_test_setup_teardown(test_twins_with_names_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_family_initial_or_a_surname_in_use_at_the_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_family_name_nobody_has_still_counts_as_a_middle_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_family_name_split_elsewhere_is_still_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_family_name_split_where_it_is_one_word_is_still_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_given_name_alone_reads_its_own_keys, setup, teardown),
		cmocka_unit_test(test_surname_table),
		cmocka_unit_test_setup_teardown(test_family_name_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_typo_in_the_mc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_typo_into_another_registered_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_nickname_with_a_typo_and_a_year_out_is_found_in_the_sector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_swapped_date_in_the_sector_finds_a_name_whose_sounds_all_changed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_slip_in_the_family_name_and_one_in_the_date, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_slip_in_the_given_name_without_a_date, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_spelling_by_sound_is_alike_in_sound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_greek_nt_and_mp_after_a_vowel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ukrainian_h, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_typos_in_a_family_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arabic_ch_and_greek_nk, setup, teardown),
		cmocka_unit_test(test_given_name_table_pet_forms),
		cmocka_unit_test_setup_teardown(test_a_near_spelling_between_two_known_names_weighs_less, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_near_spelling_between_two_known_family_names_weighs_less,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_article_alone_is_no_agreement, setup, teardown),
		cmocka_unit_test(test_two_records_that_fit_equally_are_not_a_match),
		cmocka_unit_test_setup_teardown(test_a_possible_match_that_weighs_as_much_leaves_no_match, setup, teardown),
		cmocka_unit_test(test_a_postcode_that_says_there_is_none_weighs_nothing),
		cmocka_unit_test(test_partial_names_with_exact_dob_are_not_a_match),
		cmocka_unit_test(test_a_name_changed_and_not_recorded_is_a_possible_match),
		cmocka_unit_test_setup_teardown(test_namesakes_elsewhere_are_ruled_out_by_area_and_record_order, setup,
						teardown),
		/* last: it changes the register */
		cmocka_unit_test(test_index_follows_replace_and_delete),
	};
	return cmocka_run_group_tests_name("match", tests, setup, teardown);
}
