/*
 * test_offender.c - the offender record parser (lib/offender.c): what it
 * accepts, what it rejects and with which field path and words, that names
 * in any script survive byte for byte, and that the canonical JSON is
 * stable.  Every person here is made up.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "disclosure/offender.h"

#define BASE_TAIL "\"managing_force\":\"west-mercia\",\"status\":\"active\""
#define ONE_NAME "\"names\":[{\"given\":\"Testy\",\"family\":\"Fictionson\",\"kind\":\"primary\"}]"
#define REC(...) "{\"id\":\"TST-0000001\"," __VA_ARGS__ "}"

static const char full_record[] =
	"{\"id\":\"WMP-0001234\","
	"\"names\":[{\"given\":\"Johnny\",\"middle\":\"Paulo\",\"family\":\"Smithson\",\"kind\":\"primary\"},"
	"{\"given\":\"Jack\",\"family\":\"Smythson\",\"kind\":\"alias\"}],"
	"\"dob\":\"1970-03-12\",\"other_dobs\":[\"1970-12-03\"],\"sex\":\"M\","
	"\"addresses\":[{\"text\":\"12 High Street, Worcester\",\"postcode\":\"WR1 2AB\","
	"\"from\":\"2020-01-01\",\"to\":null}],"
	"\"managing_force\":\"west-mercia\",\"status\":\"active\",\"mappa\":{\"category\":1,\"level\":2},"
	"\"risk_level\":\"high\",\"registration\":{\"start\":\"2011-04-01\",\"end\":null},"
	"\"convictions\":[{\"date\":\"2010-11-01\",\"offence\":\"generic offence\","
	"\"victim_age_band\":\"under_13\"}],"
	"\"orders\":[{\"type\":\"SHPO\",\"start\":\"2012-05-01\",\"end\":null,\"prohibitions\":[\"generic\"]}],"
	"\"updated\":\"2026-10-01T09:00:00Z\"}";

static struct offender *parse_ok(const char *text)
{
	struct offender *o = NULL;
	struct dsc_error err;
	int rc = offender_parse(text, strlen(text), &o, &err);

	if (rc != DSC_OK)
		print_error("unexpected rejection: %s\n  of %s\n", err.msg, text);
	assert_int_equal(rc, DSC_OK);
	assert_non_null(o);
	return o;
}

/* ---- accepted records ---- */

static void full_contract_example_is_accepted_with_every_field(void **state)
{
	struct offender *o = parse_ok(full_record);
	char d[11];

	(void)state;
	assert_string_equal(o->id, "WMP-0001234");
	assert_int_equal(o->n_names, 2);
	assert_string_equal(o->names[0].given, "Johnny");
	assert_string_equal(o->names[0].middle, "Paulo");
	assert_string_equal(o->names[0].family, "Smithson");
	assert_int_equal(o->names[0].kind, NAME_PRIMARY);
	assert_null(o->names[1].middle);
	assert_int_equal(o->names[1].kind, NAME_ALIAS);
	assert_int_equal(offender_primary(o), 0);
	date_format(&o->dob, d);
	assert_string_equal(d, "1970-03-12");
	assert_int_equal(o->n_other_dobs, 1);
	assert_int_equal(o->other_dobs[0].month, 12);
	assert_int_equal(o->sex, 'M');
	assert_int_equal(o->n_addresses, 1);
	assert_string_equal(o->addresses[0].postcode, "WR1 2AB");
	assert_string_equal(o->addresses[0].text, "12 High Street, Worcester");
	assert_int_equal(o->addresses[0].from.year, 2020);
	assert_int_equal(o->addresses[0].to.year, 0);
	assert_string_equal(o->managing_force, "west-mercia");
	assert_int_equal(o->status, STATUS_ACTIVE);
	assert_int_equal(o->mappa_category, 1);
	assert_int_equal(o->mappa_level, 2);
	assert_string_equal(o->risk_level, "high");
	/* Already canonical: the stored form is the input, byte for byte. */
	assert_string_equal(o->json, full_record);
	assert_int_equal(o->json_len, strlen(full_record));
	offender_free(o);
}

static void minimal_record_is_accepted_and_absent_fields_are_empty(void **state)
{
	struct offender *o = parse_ok(REC(ONE_NAME "," BASE_TAIL));

	(void)state;
	assert_int_equal(o->dob.year, 0);
	assert_int_equal(o->sex, 0);
	assert_int_equal(o->n_addresses, 0);
	assert_int_equal(o->n_other_dobs, 0);
	assert_int_equal(o->mappa_category, 0);
	assert_null(o->risk_level);
	assert_null(o->names[0].middle);
	offender_free(o);
}

static void nulls_are_accepted_for_every_optional_field(void **state)
{
	struct offender *o = parse_ok(REC("\"names\":[{\"given\":null,\"middle\":null,\"family\":\"Nullby\"}],"
					  "\"dob\":null,\"other_dobs\":null,\"sex\":null,\"addresses\":null,"
					  "\"mappa\":null,\"risk_level\":null,\"registration\":null,"
					  "\"convictions\":null,\"orders\":null,\"updated\":null," BASE_TAIL));

	(void)state;
	assert_null(o->names[0].given);
	assert_int_equal(o->dob.year, 0);
	offender_free(o);
}

static void a_single_name_without_kind_becomes_primary_and_says_so(void **state)
{
	struct offender *o = parse_ok(REC("\"names\":[{\"family\":\"Kindless\"}]," BASE_TAIL));

	(void)state;
	assert_int_equal(o->names[0].kind, NAME_PRIMARY);
	assert_non_null(strstr(o->json, "{\"family\":\"Kindless\",\"kind\":\"primary\"}"));
	offender_free(o);
}

/* Kinds of name other than primary and alias (a birth or married name,
 * a nickname) are names the person is known by: kept as written, weighed
 * as aliases; "Primary" in any case is the primary one. */
static void other_kinds_of_name_are_aliases_kept_as_written(void **state)
{
	struct offender *o = parse_ok(REC("\"names\":[{\"family\":\"Wedmore\",\"kind\":\"Primary\"},"
					  "{\"family\":\"Ashcombe\",\"kind\":\"birth\"},"
					  "{\"family\":\"Ashcombe-Wedmore\",\"kind\":\"married\"},"
					  "{\"given\":\"Bunty\",\"family\":\"Wedmore\",\"kind\":\"nickname\"}],"
					  BASE_TAIL));

	(void)state;
	assert_int_equal(o->n_names, 4);
	assert_int_equal(offender_primary(o), 0);
	for (size_t i = 1; i < 4; i++)
		assert_int_equal(o->names[i].kind, NAME_ALIAS);
	assert_non_null(strstr(o->json, "\"kind\":\"birth\""));
	assert_non_null(strstr(o->json, "\"kind\":\"married\""));
	assert_non_null(strstr(o->json, "\"kind\":\"Primary\""));
	offender_free(o);
}

/* A register that lists a person's names without kinds: the first is the
 * primary one, the rest aliases, and the stored record says so. */
static void names_without_kinds_make_the_first_primary(void **state)
{
	struct offender *o = parse_ok(REC("\"names\":[{\"family\":\"Alpha\"},{\"family\":\"Beta\"},"
					  "{\"family\":\"Gamma\",\"kind\":\"alias\"},{\"family\":\"Delta\"}],"
					  BASE_TAIL));

	(void)state;
	assert_int_equal(o->names[0].kind, NAME_PRIMARY);
	assert_int_equal(o->names[1].kind, NAME_ALIAS);
	assert_int_equal(o->names[2].kind, NAME_ALIAS);
	assert_int_equal(o->names[3].kind, NAME_ALIAS);
	assert_int_equal(offender_primary(o), 0);
	assert_non_null(strstr(o->json, "{\"family\":\"Alpha\",\"kind\":\"primary\"},"
					"{\"family\":\"Beta\",\"kind\":\"alias\"},"
					"{\"family\":\"Gamma\",\"kind\":\"alias\"},"
					"{\"family\":\"Delta\",\"kind\":\"alias\"}"));
	offender_free(o);
	/* An explicit alias first: the first without a kind is the primary. */
	o = parse_ok(REC("\"names\":[{\"family\":\"One\",\"kind\":\"alias\"},{\"family\":\"Two\"}],"
			 BASE_TAIL));
	assert_int_equal(offender_primary(o), 1);
	offender_free(o);
}

static void further_names_without_kind_become_aliases(void **state)
{
	struct offender *o = parse_ok(REC("\"names\":[{\"family\":\"Alpha\"},{\"family\":\"Beta\",\"kind\":\"primary\"}],"
					  BASE_TAIL));

	(void)state;
	assert_int_equal(o->names[0].kind, NAME_ALIAS);
	assert_int_equal(o->names[1].kind, NAME_PRIMARY);
	assert_int_equal(offender_primary(o), 1);
	assert_non_null(strstr(o->json, "{\"family\":\"Alpha\",\"kind\":\"alias\"}"));
	offender_free(o);
}

/* An independent register's records as their authors may write the
 * words the contract leaves open: refusing the record would lose the
 * person.  The record's JSON keeps them as given. */
static void words_are_read_as_registers_write_them(void **state)
{
	static const struct {
		const char *sex, *risk, *status, *updated;
		char want_sex;
		const char *want_risk;
		enum offender_status want_status;
	} cases[] = {
		{ "\"male\"", "\"High\"", "\"Active\"", "\"2026-10-01\"", 'M', "high", STATUS_ACTIVE },
		{ "\"Female\"", "\"very high\"", "\"In custody\"", "\"2026-10-01 09:00:00.123456\"", 'F',
		  "very_high", STATUS_IN_CUSTODY },
		{ "\"f\"", "\"VERY-HIGH\"", "\"DECEASED\"", "\"2026-10-01T09:00:00+01:00\"", 'F', "very_high",
		  STATUS_DECEASED },
		{ "\"U\"", "\"low\"", "\"expired\"", "null", 0, "low", STATUS_EXPIRED },
		{ "\"\"", "\"Medium\"", "\"active\"", "null", 0, "medium", STATUS_ACTIVE },
		{ "\"not known\"", "null", "\"active\"", "null", 0, NULL, STATUS_ACTIVE },
		{ "\"x\"", "null", "\"in-custody\"", "null", 'X', NULL, STATUS_IN_CUSTODY },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		struct offender *o;

		snprintf(text, sizeof(text),
			 REC(ONE_NAME ",\"sex\":%s,\"risk_level\":%s,\"updated\":%s,"
				      "\"managing_force\":\"south-wales\",\"status\":%s"),
			 cases[i].sex, cases[i].risk, cases[i].updated, cases[i].status);
		o = parse_ok(text);
		assert_int_equal(o->sex, cases[i].want_sex);
		if (cases[i].want_risk == NULL)
			assert_null(o->risk_level);
		else
			assert_string_equal(o->risk_level, cases[i].want_risk);
		assert_int_equal(o->status, cases[i].want_status);
		/* kept as given */
		assert_non_null(strstr(o->json, cases[i].sex));
		assert_non_null(strstr(o->json, cases[i].status));
		offender_free(o);
	}
}

static void every_status_sex_and_risk_word_is_accepted(void **state)
{
	static const struct {
		const char *status, *sex, *risk;
		enum offender_status want;
	} cases[] = {
		{ "active", "M", "low", STATUS_ACTIVE },
		{ "expired", "F", "medium", STATUS_EXPIRED },
		{ "in_custody", "X", "high", STATUS_IN_CUSTODY },
		{ "deceased", "M", "very_high", STATUS_DECEASED },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		struct offender *o;

		snprintf(text, sizeof(text),
			 REC(ONE_NAME ",\"sex\":\"%s\",\"risk_level\":\"%s\","
				      "\"managing_force\":\"south-wales\",\"status\":\"%s\""),
			 cases[i].sex, cases[i].risk, cases[i].status);
		o = parse_ok(text);
		assert_int_equal(o->status, cases[i].want);
		assert_string_equal(offender_status_name(o->status), cases[i].status);
		assert_int_equal(o->sex, cases[i].sex[0]);
		assert_string_equal(o->risk_level, cases[i].risk);
		offender_free(o);
	}
}

/* ---- rejected records: exact field path and words ---- */

struct reject_case {
	const char *name;
	const char *text;
	int code;
	const char *field;
	const char *msg;
};

static const struct reject_case rejects[] = {
	{ "not JSON at all", "{\"id\":", DSC_EJSON, "", NULL },
	{ "an array instead of an object", "[1,2]", DSC_EJSON, "", NULL },
	{ "a duplicate key", REC("\"id\":\"TST-2\"," ONE_NAME "," BASE_TAIL), DSC_EJSON, "", NULL },
	{ "invalid UTF-8 in a name", REC("\"names\":[{\"family\":\"Bad\xff\"}]," BASE_TAIL), DSC_EJSON, "",
	  NULL },
	{ "missing id", "{" ONE_NAME "," BASE_TAIL "}", DSC_EINVAL, "id", "id: required" },
	{ "a right-to-left override in a family name",
	  REC("\"names\":[{\"family\":\"Jo\u202Enes\"}]," BASE_TAIL), DSC_EINVAL, "names[0].family",
	  "names[0].family: holds a C1 control or a bidirectional override (U+0080-U+009F, "
	  "U+202A-U+202E, U+2066-U+2069)" },
	{ "a C1 control, raw, in a family name",
	  REC("\"names\":[{\"family\":\"Jones\xc2\x9b" "31m\"}]," BASE_TAIL), DSC_EINVAL,
	  "names[0].family",
	  "names[0].family: holds a C1 control or a bidirectional override (U+0080-U+009F, "
	  "U+202A-U+202E, U+2066-U+2069)" },
	{ "id with a space", "{\"id\":\"TST 1\"," ONE_NAME "," BASE_TAIL "}", DSC_EINVAL, "id",
	  "id: must be 1-64 characters of A-Z a-z 0-9 _ -" },
	{ "id of 65 characters",
	  "{\"id\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"," ONE_NAME
	  "," BASE_TAIL "}",
	  DSC_EINVAL, "id", "id: must be 1-64 characters of A-Z a-z 0-9 _ -" },
	{ "id as a number", "{\"id\":7," ONE_NAME "," BASE_TAIL "}", DSC_EINVAL, "id",
	  "id: must be 1-64 characters of A-Z a-z 0-9 _ -" },
	{ "names missing", REC(BASE_TAIL), DSC_EINVAL, "names", "names: required" },
	{ "names empty", REC("\"names\":[]," BASE_TAIL), DSC_EINVAL, "names",
	  "names: required (at least one name)" },
	{ "names not an array", REC("\"names\":{\"family\":\"Obj\"}," BASE_TAIL), DSC_EINVAL, "names",
	  "names: must be an array" },
	{ "a name that is not an object", REC("\"names\":[\"Stringy\"]," BASE_TAIL), DSC_EINVAL,
	  "names[0]", "names[0]: must be an object" },
	{ "second name without family",
	  REC("\"names\":[{\"family\":\"Onename\",\"kind\":\"primary\"},{\"given\":\"Nofam\",\"kind\":\"alias\"}]," BASE_TAIL),
	  DSC_EINVAL, "names[1].family", "names[1].family: required" },
	{ "blank family", REC("\"names\":[{\"family\":\"  \"}]," BASE_TAIL), DSC_EINVAL,
	  "names[0].family", "names[0].family: required" },
	{ "family as a number", REC("\"names\":[{\"family\":42}]," BASE_TAIL), DSC_EINVAL,
	  "names[0].family", "names[0].family: must be a string" },
	{ "given of 201 bytes",
	  REC("\"names\":[{\"family\":\"Long\",\"given\":\""
	      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	      "\"}]," BASE_TAIL),
	  DSC_EINVAL, "names[0].given", "names[0].given: too long (at most 200 bytes)" },
	{ "two primary names",
	  REC("\"names\":[{\"family\":\"One\",\"kind\":\"primary\"},{\"family\":\"Two\",\"kind\":\"primary\"}]," BASE_TAIL),
	  DSC_EINVAL, "names", "names: exactly one name must have kind \"primary\" (found 2)" },
	{ "no primary name",
	  REC("\"names\":[{\"family\":\"One\",\"kind\":\"alias\"},{\"family\":\"Two\",\"kind\":\"alias\"}]," BASE_TAIL),
	  DSC_EINVAL, "names", "names: exactly one name must have kind \"primary\" (found 0)" },
	{ "a blank kind", REC("\"names\":[{\"family\":\"One\",\"kind\":\" \"}]," BASE_TAIL),
	  DSC_EINVAL, "names[0].kind", "names[0].kind: must be \"primary\", \"alias\" or another word for a name" },
	{ "a kind that is not a string", REC("\"names\":[{\"family\":\"One\",\"kind\":1}]," BASE_TAIL),
	  DSC_EINVAL, "names[0].kind", "names[0].kind: must be a string" },
	{ "a kind of 65 bytes", REC("\"names\":[{\"family\":\"One\",\"kind\":\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\"}]," BASE_TAIL),
	  DSC_EINVAL, "names[0].kind", "names[0].kind: too long (at most 64 bytes)" },
	{ "only a married name, no primary", REC("\"names\":[{\"family\":\"One\",\"kind\":\"married\"}]," BASE_TAIL),
	  DSC_EINVAL, "names", "names: exactly one name must have kind \"primary\" (found 0)" },
	{ "an unknown field in a name",
	  REC("\"names\":[{\"family\":\"One\",\"nick\":\"Oney\"}]," BASE_TAIL), DSC_EINVAL,
	  "names[0].nick", "names[0].nick: unknown field" },
	{ "a misspelt top-level field", REC(ONE_NAME ",\"dbo\":\"1970-01-01\"," BASE_TAIL), DSC_EINVAL,
	  "dbo", "dbo: unknown field" },
	{ "dob not a date", REC(ONE_NAME ",\"dob\":\"12/03/1970\"," BASE_TAIL), DSC_EINVAL, "dob",
	  "dob: not a date (YYYY-MM-DD)" },
	{ "dob on 30 February", REC(ONE_NAME ",\"dob\":\"1970-02-30\"," BASE_TAIL), DSC_EINVAL, "dob",
	  "dob: not a date (YYYY-MM-DD)" },
	{ "dob on 29 February 1900", REC(ONE_NAME ",\"dob\":\"1900-02-29\"," BASE_TAIL), DSC_EINVAL,
	  "dob", "dob: not a date (YYYY-MM-DD)" },
	{ "dob as a number", REC(ONE_NAME ",\"dob\":19700312," BASE_TAIL), DSC_EINVAL, "dob",
	  "dob: not a date (YYYY-MM-DD)" },
	{ "second other dob wrong",
	  REC(ONE_NAME ",\"other_dobs\":[\"1970-01-01\",\"1970-13-01\"]," BASE_TAIL), DSC_EINVAL,
	  "other_dobs[1]", "other_dobs[1]: not a date (YYYY-MM-DD)" },
	{ "sex not a word for one", REC(ONE_NAME ",\"sex\":\"man\"," BASE_TAIL), DSC_EINVAL, "sex",
	  "sex: must be one of M, F, X (in either case, or male, female), U or unknown, \"\" or null" },
	{ "sex as a number", REC(ONE_NAME ",\"sex\":1," BASE_TAIL), DSC_EINVAL, "sex",
	  "sex: must be one of M, F, X (in either case, or male, female), U or unknown, \"\" or null" },
	{ "updated with a time but no day", REC(ONE_NAME ",\"updated\":\"2026-10-01X09:00:00\"," BASE_TAIL),
	  DSC_EINVAL, "updated", "updated: not a timestamp (YYYY-MM-DDTHH:MM:SSZ)" },
	{ "updated on a day that does not exist", REC(ONE_NAME ",\"updated\":\"2026-02-30\"," BASE_TAIL),
	  DSC_EINVAL, "updated", "updated: not a timestamp (YYYY-MM-DDTHH:MM:SSZ)" },
	{ "address from not a date",
	  REC(ONE_NAME ",\"addresses\":[{\"postcode\":\"WR1 2AB\",\"from\":\"2020\"}]," BASE_TAIL),
	  DSC_EINVAL, "addresses[0].from", "addresses[0].from: not a date (YYYY-MM-DD)" },
	{ "address with an unknown field",
	  REC(ONE_NAME ",\"addresses\":[{\"postcode\":\"WR1 2AB\"},{\"postcod\":\"WR1 2AB\"}]," BASE_TAIL),
	  DSC_EINVAL, "addresses[1].postcod", "addresses[1].postcod: unknown field" },
	{ "managing force missing", REC(ONE_NAME ",\"status\":\"active\""), DSC_EINVAL,
	  "managing_force", "managing_force: required" },
	{ "managing force in capitals",
	  REC(ONE_NAME ",\"managing_force\":\"West Mercia\",\"status\":\"active\""), DSC_EINVAL,
	  "managing_force", "managing_force: must be a force id of 1-64 characters of a-z 0-9 -" },
	{ "status missing", REC(ONE_NAME ",\"managing_force\":\"west-mercia\""), DSC_EINVAL, "status",
	  "status: required" },
	{ "status unknown", REC(ONE_NAME ",\"managing_force\":\"west-mercia\",\"status\":\"gone\""),
	  DSC_EINVAL, "status", "status: must be one of active, expired, in_custody, deceased" },
	{ "mappa category 4", REC(ONE_NAME ",\"mappa\":{\"category\":4}," BASE_TAIL), DSC_EINVAL,
	  "mappa.category", "mappa.category: must be an integer 1-3" },
	{ "mappa level as a string", REC(ONE_NAME ",\"mappa\":{\"level\":\"2\"}," BASE_TAIL),
	  DSC_EINVAL, "mappa.level", "mappa.level: must be an integer 1-3" },
	{ "mappa not an object", REC(ONE_NAME ",\"mappa\":1," BASE_TAIL), DSC_EINVAL, "mappa",
	  "mappa: must be an object" },
	{ "risk level unknown", REC(ONE_NAME ",\"risk_level\":\"extreme\"," BASE_TAIL), DSC_EINVAL,
	  "risk_level", "risk_level: must be one of low, medium, high, very_high" },
	{ "registration end not a date",
	  REC(ONE_NAME ",\"registration\":{\"start\":\"2011-04-01\",\"end\":\"never\"}," BASE_TAIL),
	  DSC_EINVAL, "registration.end", "registration.end: not a date (YYYY-MM-DD)" },
	{ "conviction date not a date",
	  REC(ONE_NAME ",\"convictions\":[{\"date\":\"2010-11-31\"}]," BASE_TAIL), DSC_EINVAL,
	  "convictions[0].date", "convictions[0].date: not a date (YYYY-MM-DD)" },
	{ "order type not a string", REC(ONE_NAME ",\"orders\":[{\"type\":7}]," BASE_TAIL),
	  DSC_EINVAL, "orders[0].type", "orders[0].type: must be a string" },
	{ "a prohibition that is not a string",
	  REC(ONE_NAME ",\"orders\":[{\"type\":\"SHPO\",\"prohibitions\":[\"ok\",3]}]," BASE_TAIL),
	  DSC_EINVAL, "orders[0].prohibitions[1]",
	  "orders[0].prohibitions[1]: must be a string of at most 1000 bytes" },
	{ "updated not a timestamp", REC(ONE_NAME ",\"updated\":\"yesterday\"," BASE_TAIL), DSC_EINVAL,
	  "updated", "updated: not a timestamp (YYYY-MM-DDTHH:MM:SSZ)" },
};

static void every_rejected_record_names_its_field_and_problem(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		const struct reject_case *c = &rejects[i];
		struct offender *o = (struct offender *)1;
		struct dsc_error err;
		int rc = offender_parse(c->text, strlen(c->text), &o, &err);

		if (rc != c->code || strcmp(err.field, c->field) != 0 ||
		    (c->msg != NULL && strcmp(err.msg, c->msg) != 0))
			fail_msg("case \"%s\": got %d field \"%s\" msg \"%s\"; want %d \"%s\" \"%s\"",
				 c->name, rc, err.field, err.msg, c->code, c->field,
				 c->msg ? c->msg : "(any)");
		if (o != NULL)
			fail_msg("case \"%s\": a record came back with the error", c->name);
		assert_int_equal(err.code, c->code);
		assert_true(err.msg[0] != '\0');
	}
}

static void a_record_larger_than_the_limit_is_refused_before_parsing(void **state)
{
	size_t n = 300 * 1024;
	char *big = malloc(n);
	struct offender *o;
	struct dsc_error err;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	assert_int_equal(offender_parse(big, n, &o, &err), DSC_ETOOBIG);
	assert_null(o);
	free(big);
}

/* ---- names in any script ---- */

static void names_in_any_script_survive_byte_for_byte(void **state)
{
	static const char *const families[] = {
		"Иванова",      /* Cyrillic */
		"Παπαδόπουλος", /* Greek */
		"حداد",         /* Arabic */
		"王",           /* Han */
		"पटेल",         /* Devanagari */
		"ਸਿੰਘ",         /* Gurmukhi */
		"Wójcik-Żak",   /* Polish, precomposed */
		"Zoe\xcc\x88",  /* e + combining diaeresis, left decomposed */
		"O'Brien",
		"Nguyễn",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		char text[512];
		struct offender *o;

		snprintf(text, sizeof(text),
			 REC("\"names\":[{\"given\":\"Testy\",\"family\":\"%s\"}]," BASE_TAIL),
			 families[i]);
		o = parse_ok(text);
		assert_string_equal(o->names[0].family, families[i]);
		assert_non_null(strstr(o->json, families[i]));
		offender_free(o);
	}
}

/* ---- canonical JSON ---- */

static void canonical_json_is_compact_ordered_and_stable(void **state)
{
	const char *spaced = "{ \"id\" : \"TST-9\",\n \"status\": \"active\", \"names\": [ {\"family\": \"Tab\\tby\","
			     " \"given\": \"Quo\\\"te\", \"kind\": \"primary\"} ], \"managing_force\": \"kent\","
			     " \"addresses\": [{\"text\": \"1 Back\\\\Slash Road\\u0001\"}] }";
	struct offender *o = parse_ok(spaced), *again;
	json_t *root;
	char *ref;

	(void)state;
	/* Keys stay in the order given; whitespace goes. */
	assert_string_equal(o->json,
			    "{\"id\":\"TST-9\",\"status\":\"active\",\"names\":[{\"family\":\"Tab\\tby\","
			    "\"given\":\"Quo\\\"te\",\"kind\":\"primary\"}],\"managing_force\":\"kent\","
			    "\"addresses\":[{\"text\":\"1 Back\\\\Slash Road\\u0001\"}]}");
	/* The same bytes as jansson's own compact dump. */
	root = json_loads(spaced, 0, NULL);
	assert_non_null(root);
	ref = json_dumps(root, JSON_COMPACT);
	assert_string_equal(o->json, ref);
	free(ref);
	json_decref(root);
	/* Parsing the canonical form gives the canonical form again. */
	again = parse_ok(o->json);
	assert_string_equal(again->json, o->json);
	assert_string_equal(again->names[0].given, "Quo\"te");
	offender_free(again);
	offender_free(o);
}

/* A compact record is kept as it came (its text is the canonical form);
 * anything the canonical form writes otherwise must not be: whitespace
 * between tokens, "-0", a kind written in.  Each is checked against
 * jansson's compact dump of what was stored. */
static void compact_input_is_kept_as_it_came_and_anything_else_is_rewritten(void **state)
{
	static const struct {
		const char *name, *text, *want; /* NULL: the text itself; "": refused */
	} cases[] = {
		{ "compact record", REC(ONE_NAME "," BASE_TAIL), NULL },
		{ "the contract's full example", full_record, NULL },
		{ "spaces inside strings are not whitespace",
		  REC("\"names\":[{\"given\":\"Anna Maria\",\"family\":\"Van Der Fictie\",\"kind\":\"primary\"}],"
		      "\"addresses\":[{\"text\":\" 1 Made Up Road \"}]," BASE_TAIL),
		  NULL },
		{ "an order without a type (the contract asks for no field of it)",
		  REC(ONE_NAME ",\"orders\":[{\"start\":\"2012-05-01\"}]," BASE_TAIL), NULL },
		{ "non-ASCII names", REC("\"names\":[{\"given\":\"Zoë\",\"family\":\"Ñandú\",\"kind\":\"primary\"}]," BASE_TAIL),
		  NULL },
		{ "empty containers and integers",
		  REC(ONE_NAME ",\"convictions\":[],\"mappa\":{\"category\":1,\"level\":3}," BASE_TAIL), NULL },
		{ "a space after a colon goes",
		  REC(ONE_NAME ",\"managing_force\": \"west-mercia\",\"status\":\"active\""),
		  REC(ONE_NAME "," BASE_TAIL) },
		{ "a newline at the end goes", REC(ONE_NAME "," BASE_TAIL) "\n", REC(ONE_NAME "," BASE_TAIL) },
		{ "a tab before a comma goes",
		  REC(ONE_NAME "\t," BASE_TAIL), REC(ONE_NAME "," BASE_TAIL) },
		/* Every integer field is 1-3, so a -0 is refused, whichever
		 * way it would be written. */
		{ "minus zero is zero, and refused",
		  REC(ONE_NAME ",\"mappa\":{\"category\":1,\"level\":-0}," BASE_TAIL), "" },
		{ "a kind decided is written in",
		  REC("\"names\":[{\"given\":\"Testy\",\"family\":\"Fictionson\"}]," BASE_TAIL),
		  REC("\"names\":[{\"given\":\"Testy\",\"family\":\"Fictionson\",\"kind\":\"primary\"}]," BASE_TAIL) },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct offender *o = NULL;
		struct dsc_error err;
		json_t *root;
		char *ref;
		int rc = offender_parse(cases[i].text, strlen(cases[i].text), &o, &err);

		if (cases[i].want != NULL && cases[i].want[0] == '\0') {
			assert_int_equal(rc, DSC_EINVAL);
			assert_null(o);
			continue;
		}
		if (rc != DSC_OK) {
			print_error("%s: refused: %s\n", cases[i].name, err.msg);
			fail();
		}
		if (cases[i].want == NULL) {
			if (strcmp(o->json, cases[i].text) != 0) {
				print_error("%s: stored %s\n", cases[i].name, o->json);
				fail();
			}
		} else {
			assert_string_equal(o->json, cases[i].want);
		}
		/* Whatever was stored is jansson's compact form of itself. */
		root = json_loads(o->json, 0, NULL);
		assert_non_null(root);
		ref = json_dumps(root, JSON_COMPACT);
		assert_string_equal(o->json, ref);
		assert_int_equal(o->json_len, strlen(o->json));
		free(ref);
		json_decref(root);
		offender_free(o);
	}
}

/* A record with n addresses of text_len letters each: sizes from 200 bytes
 * to 100 KB, so that the reader's kept block is too small, fits, or is
 * passed by for a block of the record's own. */
static char *sized_record(size_t n, size_t text_len)
{
	size_t cap = 256 + n * (text_len + 64), at;
	char *t = malloc(cap);

	assert_non_null(t);
	at = (size_t)snprintf(t, cap, "{\"id\":\"TST-%zu-%zu\"," ONE_NAME ",\"addresses\":[", n, text_len);
	for (size_t i = 0; i < n; i++) {
		at += (size_t)snprintf(t + at, cap - at, "%s{\"text\":\"", i ? "," : "");
		for (size_t j = 0; j < text_len; j++)
			t[at++] = (char)('a' + (i + j) % 26);
		at += (size_t)snprintf(t + at, cap - at, "\",\"postcode\":\"WR%zu 1AA\"}", i % 10);
	}
	snprintf(t + at, cap - at, "]," BASE_TAIL "}");
	return t;
}

static void *parse_sizes_in_turn(void *arg)
{
	static const struct { size_t n, text_len; bool bad; } cases[] = {
		{ 1, 10, false },  { 40, 200, false }, { 1, 10, false }, { 5, 100, false },
		{ 100, 1000, false }, { 2, 30, true }, { 3, 30, false }, { 20, 200, false },
		{ 100, 900, true }, { 60, 500, false }, { 1, 1, false },
	};
	int *failures = arg;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char *text = sized_record(cases[k].n, cases[k].text_len), *ref;
		struct offender *o = NULL;
		struct dsc_error err;
		json_t *root;
		size_t len = strlen(text);

		if (cases[k].bad) {
			/* Cut short: the reader gives up half way, and its
			 * block must still go back for the next record. */
			if (offender_parse(text, len / 2, &o, &err) != DSC_EJSON || o != NULL)
				(*failures)++;
			free(text);
			continue;
		}
		root = json_loads(text, 0, NULL);
		ref = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;
		if (ref == NULL || offender_parse(text, len, &o, &err) != DSC_OK ||
		    strcmp(o->json, ref) != 0 || o->n_addresses != cases[k].n ||
		    strlen(o->addresses[cases[k].n - 1].text) != cases[k].text_len)
			(*failures)++;
		offender_free(o);
		free(ref);
		json_decref(root);
		free(text);
	}
	return NULL;
}

static void records_of_every_size_in_turn_parse_alike_on_any_thread(void **state)
{
	int main_failures = 0, thread_failures = 0;
	pthread_t tid;

	(void)state;
	parse_sizes_in_turn(&main_failures);
	assert_int_equal(main_failures, 0);
	/* A second thread has a block of its own, freed when it ends. */
	assert_int_equal(pthread_create(&tid, NULL, parse_sizes_in_turn, &thread_failures), 0);
	assert_int_equal(pthread_join(tid, NULL), 0);
	assert_int_equal(thread_failures, 0);
	parse_sizes_in_turn(&main_failures);
	assert_int_equal(main_failures, 0);
}

/* The reader takes plain strings eight bytes a step: whatever stands at
 * any place in a name, before, across or after an eight-byte step, reads
 * as jansson reads it (a control byte refused, an escape or UTF-8 kept). */
static void a_special_byte_at_any_place_in_a_string_reads_as_jansson_reads_it(void **state)
{
	static const struct {
		const char *in;   /* as written in the JSON */
		const char *out;  /* the name's bytes, NULL if refused */
	} cases[] = {
		{ "\x01", NULL }, { "\x1f", NULL }, { "\t", NULL },
		{ "\\\"", "\"" }, { "\\\\", "\\" }, { "\\u00e9", "\xc3\xa9" },
		{ "\xc3\xa9", "\xc3\xa9" }, { "\xe2\x82\xac", "\xe2\x82\xac" }, { "\xc3", NULL },
		{ " ", " " }, { "~", "~" }, { "\x7f", "\x7f" },
	};

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		for (size_t at = 0; at < 19; at++) {
			char family[64], expect[64], text[256];
			struct offender *o = NULL;
			struct dsc_error err;
			int rc;

			snprintf(family, sizeof(family), "%.*s%s%.*s", (int)at, "Abcdefghijklmnopqrstu",
				 cases[k].in, 3, "xyz");
			snprintf(text, sizeof(text), REC("\"names\":[{\"family\":\"%s\"}]," BASE_TAIL),
				 family);
			rc = offender_parse(text, strlen(text), &o, &err);
			if (cases[k].out == NULL) {
				if (rc == DSC_OK)
					fail_msg("case %zu at %zu accepted: %s", k, at, text);
				assert_int_equal(rc, DSC_EJSON);
				continue;
			}
			if (rc != DSC_OK)
				fail_msg("case %zu at %zu refused (%s): %s", k, at, err.msg, text);
			snprintf(expect, sizeof(expect), "%.*s%sxyz", (int)at, "Abcdefghijklmnopqrstu",
				 cases[k].out);
			assert_string_equal(o->names[0].family, expect);
			offender_free(o);
		}
	}
}

/* A record is one block of its own: every field reads the same after the
 * text it came from is overwritten and freed. */
static void a_record_keeps_every_field_after_its_text_is_gone(void **state)
{
	size_t n = strlen(full_record);
	char *text = malloc(n + 1);
	struct offender *o = NULL;
	struct dsc_error err;
	char *json;

	(void)state;
	assert_non_null(text);
	memcpy(text, full_record, n + 1);
	assert_int_equal(offender_parse(text, n, &o, &err), DSC_OK);
	json = strdup(o->json);
	assert_non_null(json);
	memset(text, 'x', n);
	free(text);
	assert_string_equal(o->id, "WMP-0001234");
	assert_int_equal(o->n_names, 2);
	assert_string_equal(o->names[0].given, "Johnny");
	assert_string_equal(o->names[0].middle, "Paulo");
	assert_string_equal(o->names[0].family, "Smithson");
	assert_string_equal(o->names[1].given, "Jack");
	assert_null(o->names[1].middle);
	assert_string_equal(o->names[1].family, "Smythson");
	assert_int_equal(o->n_other_dobs, 1);
	assert_int_equal(o->other_dobs[0].year, 1970);
	assert_int_equal(o->other_dobs[0].month, 12);
	assert_int_equal(o->n_addresses, 1);
	assert_string_equal(o->addresses[0].text, "12 High Street, Worcester");
	assert_string_equal(o->addresses[0].postcode, "WR1 2AB");
	assert_int_equal(o->addresses[0].from.year, 2020);
	assert_string_equal(o->managing_force, "west-mercia");
	assert_string_equal(o->risk_level, "high");
	assert_int_equal(o->json_len, strlen(json));
	assert_string_equal(o->json, json);
	free(json);
	offender_free(o);
}

static void from_json_validates_an_object_already_parsed(void **state)
{
	json_t *root = json_loads(full_record, 0, NULL);
	struct offender *o;
	struct dsc_error err;

	(void)state;
	assert_int_equal(offender_from_json(root, &o, &err), DSC_OK);
	assert_string_equal(o->json, full_record);
	offender_free(o);
	assert_int_equal(offender_from_json(json_object_get(root, "names"), &o, &err), DSC_EJSON);
	assert_null(o);
	json_decref(root);
}

/* ---- dates and ids ---- */

static void dates_are_real_calendar_dates(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{ "2024-02-29", true },  { "2023-02-29", false }, { "2000-02-29", true },
		{ "1900-02-29", false }, { "1970-12-31", true },  { "1970-04-31", false },
		{ "1970-00-10", false }, { "1970-01-00", false }, { "0000-01-01", false },
		{ "1970-1-01", false },  { "1970-01-01T", false }, { "19700101", false },
		{ "abcd-ef-gh", false }, { "", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct date d;
		char back[11];

		if (date_parse(cases[i].s, &d) != cases[i].ok)
			fail_msg("date \"%s\": want %s", cases[i].s, cases[i].ok ? "valid" : "invalid");
		if (cases[i].ok) {
			date_format(&d, back);
			assert_string_equal(back, cases[i].s);
		}
	}
	assert_false(date_parse(NULL, NULL));
}

static void ids_are_1_to_64_safe_characters(void **state)
{
	static const struct {
		const char *id;
		bool ok;
	} cases[] = {
		{ "WMP-0001234", true }, { "a", true }, { "under_score", true }, { "", false },
		{ "has space", false },  { "slash/no", false }, { "dot.no", false }, { "ü", false },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", true },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (offender_id_valid(cases[i].id) != cases[i].ok)
			fail_msg("id \"%s\": want %s", cases[i].id, cases[i].ok ? "valid" : "invalid");
	}
	assert_false(offender_id_valid(NULL));
}

struct qbuf {
	char b[256];
	size_t n;
};

static void qput(void *arg, const char *p, size_t n)
{
	struct qbuf *q = arg;
	assert_true(q->n + n < sizeof(q->b));
	memcpy(q->b + q->n, p, n);
	q->n += n;
	q->b[q->n] = '\0';
}

/* json_quote writes what jansson's compact dump writes, byte for byte. */
static void json_quote_writes_what_jansson_writes(void **state)
{
	static const char *const cases[] = {
		"", "Smith", "O'Brien", "say \"no\"", "back\\slash", "a/b", "tab\there", "new\nline",
		"\x01\x1f\x7f", "\b\f\r", "Ze\xc5\x82\xc3\xb3" "d\xc5\xba", "\xd0\x9e\xd0\xbb\xd0\xb5\xd0\xb3",
		"\xe2\x80\xa8 and \xf0\x9f\x98\x80",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct qbuf q = {.n = 0};
		json_t *js = json_string(cases[i]);
		char *want;
		assert_non_null(js);
		want = json_dumps(js, JSON_COMPACT | JSON_ENCODE_ANY);
		assert_non_null(want);
		json_quote(cases[i], strlen(cases[i]), qput, &q);
		assert_string_equal(q.b, want);
		free(want);
		json_decref(js);
	}
}

/* utf8_valid (utf8_seq_len over a string) accepts exactly the strings jansson accepts: every string
 * of one and two bytes, every three-byte one led by 0xE0-0xEF, and
 * four-byte ones led by 0xEF-0xF5 over every second and third byte. */
static void utf8_seq_len_agrees_with_jansson(void **state)
{
	unsigned char b[4];
	(void)state;
	for (unsigned long x = 1; x < (1ul << 24); x++) {
		size_t len = x < 0x100 ? 1 : x < 0x10000 ? 2 : 3;
		json_t *j;
		for (size_t i = 0; i < len; i++)
			b[i] = (unsigned char)(x >> (8 * (len - 1 - i)));
		if (memchr(b, 0, len) != NULL || (len == 3 && (b[0] < 0xE0 || b[0] > 0xEF)))
			continue;
		j = json_stringn((const char *)b, len);
		if ((j != NULL) != utf8_valid((const char *)b, len)) {
			print_error("%zu bytes %02x %02x %02x: jansson %d\n", len, b[0], b[1], b[2], j != NULL);
			fail();
		}
		json_decref(j);
	}
	for (unsigned lead = 0xEF; lead <= 0xF5; lead++)
		for (unsigned x = 0x7F; x <= 0xC0; x++)
			for (unsigned y = 0x7F; y <= 0xC0; y++) {
				json_t *j;
				b[0] = (unsigned char)lead, b[1] = (unsigned char)x, b[2] = (unsigned char)y, b[3] = 0x80;
				j = json_stringn((const char *)b, 4);
				assert_int_equal(j != NULL, utf8_valid((const char *)b, 4));
				json_decref(j);
			}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_quote_writes_what_jansson_writes),
		cmocka_unit_test(utf8_seq_len_agrees_with_jansson),
		cmocka_unit_test(full_contract_example_is_accepted_with_every_field),
		cmocka_unit_test(minimal_record_is_accepted_and_absent_fields_are_empty),
		cmocka_unit_test(nulls_are_accepted_for_every_optional_field),
		cmocka_unit_test(a_single_name_without_kind_becomes_primary_and_says_so),
		cmocka_unit_test(names_without_kinds_make_the_first_primary),
		cmocka_unit_test(other_kinds_of_name_are_aliases_kept_as_written),
		cmocka_unit_test(further_names_without_kind_become_aliases),
		cmocka_unit_test(every_status_sex_and_risk_word_is_accepted),
		cmocka_unit_test(words_are_read_as_registers_write_them),
		cmocka_unit_test(every_rejected_record_names_its_field_and_problem),
		cmocka_unit_test(a_record_larger_than_the_limit_is_refused_before_parsing),
		cmocka_unit_test(names_in_any_script_survive_byte_for_byte),
		cmocka_unit_test(canonical_json_is_compact_ordered_and_stable),
		cmocka_unit_test(compact_input_is_kept_as_it_came_and_anything_else_is_rewritten),
		cmocka_unit_test(a_record_keeps_every_field_after_its_text_is_gone),
		cmocka_unit_test(a_special_byte_at_any_place_in_a_string_reads_as_jansson_reads_it),
		cmocka_unit_test(records_of_every_size_in_turn_parse_alike_on_any_thread),
		cmocka_unit_test(from_json_validates_an_object_already_parsed),
		cmocka_unit_test(dates_are_real_calendar_dates),
		cmocka_unit_test(ids_are_1_to_64_safe_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
