/*
 * test_check.c - the check and decision request bodies (lib/check.c):
 * what contract.md accepts, and for everything else the field path and
 * message the caller gets back.  Bodies are written with ' for " to keep
 * the table readable; every person in them is invented.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "disclosure/audit.h"
#include "disclosure/check.h"

#define DOB_MSG "subject.dob: not a date (YYYY-MM-DD, or YYYY-MM or YYYY if known in part)"

/* Turns ' into " (the table's bodies hold no apostrophes of their own). */
static char *body(const char *s)
{
	char *out = strdup(s);

	assert_non_null(out);
	for (char *p = out; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return out;
}

#define HEAD                                                                                       \
	"{'case_ref':'WM-CSODS-2026-0042','purpose':'csods_right_to_ask','justification':'New "    \
	"partner has contact with two children',"
#define NAMES "'names':[{'given':'Jon','family':'Smith'}]"

static void contract_example_parses(void **state)
{
	char *b = body("{'case_ref':'WM-CSODS-2026-0042','purpose':'csods_right_to_ask',"
	               "'justification':'Applicant\\u2019s new partner has unsupervised contact',"
	               "'subject':{'names':[{'given':'Jon','middle':'Paul','family':'Smith'},"
	               "{'given':'John','family':'Smyth-Evans'}],'dob':'1970-03-12','age':null,"
	               "'postcode':'WR1 2AB','sex':'M'}}");
	struct check_request r;
	struct dsc_error err;

	(void)state;
	assert_int_equal(check_request_parse(b, strlen(b), &r, &err), DSC_OK);
	assert_string_equal(r.case_ref, "WM-CSODS-2026-0042");
	assert_int_equal(r.purpose, PURPOSE_CSODS_RIGHT_TO_ASK);
	assert_string_equal(purpose_name(r.purpose), "csods_right_to_ask");
	assert_int_equal(r.subject.n_names, 2);
	assert_string_equal(r.subject.names[0].given, "Jon");
	assert_string_equal(r.subject.names[0].middle, "Paul");
	assert_string_equal(r.subject.names[0].family, "Smith");
	assert_null(r.subject.names[1].middle);
	assert_string_equal(r.subject.names[1].family, "Smyth-Evans");
	assert_int_equal(r.subject.dob.year, 1970);
	assert_int_equal(r.subject.dob.month, 3);
	assert_int_equal(r.subject.dob.day, 12);
	assert_int_equal(r.subject.age, -1);
	assert_string_equal(r.subject.postcode, "WR1 2AB");
	assert_int_equal(r.subject.sex, 'M');
	check_request_release(&r);
	assert_null(r.json);
	free(b);
}

static void names_are_trimmed_and_any_script_is_kept(void **state)
{
	char *b = body(
	    HEAD "'subject':{'names':[{'given':'  \xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd ',"
	         "'middle':'   ','family':' \xd0\x9f\xd0\xb5\xd1\x82\xd1\x80\xd0\xbe\xd0\xb2 '}],"
	         "'age':44,'postcode':'','sex':null}}");
	struct check_request r;
	struct dsc_error err;

	(void)state;
	assert_int_equal(check_request_parse(b, strlen(b), &r, &err), DSC_OK);
	assert_string_equal(r.subject.names[0].given, "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd");
	assert_null(r.subject.names[0].middle); /* blank is absent */
	assert_string_equal(r.subject.names[0].family,
	                    "\xd0\x9f\xd0\xb5\xd1\x82\xd1\x80\xd0\xbe\xd0\xb2");
	assert_int_equal(r.subject.age, 44);
	assert_int_equal(r.subject.dob.year, 0);
	assert_string_equal(r.subject.postcode, "");
	assert_int_equal(r.subject.sex, 0);
	check_request_release(&r);
	free(b);
}

/* A name copied from a spreadsheet cell or a form's text box often ends
 * with a tab or a line break: white space, taken off as spaces are. */
static void names_with_tabs_and_line_breaks_are_taken(void **state)
{
	char *b = body(HEAD "'subject':{'names':[{'given':'Angus\\r\\n','middle':'\\t',"
	                    "'family':'Brzeczyszczykiewicz\\t'},{'given':'Mary\\nAnn','family':'\\nKerr'}]}}");
	struct check_request r;
	struct dsc_error err;

	(void)state;
	assert_int_equal(check_request_parse(b, strlen(b), &r, &err), DSC_OK);
	assert_string_equal(r.subject.names[0].given, "Angus");
	assert_null(r.subject.names[0].middle);
	assert_string_equal(r.subject.names[0].family, "Brzeczyszczykiewicz");
	assert_string_equal(r.subject.names[1].given, "Mary\nAnn"); /* the normaliser splits it */
	assert_string_equal(r.subject.names[1].family, "Kerr");
	check_request_release(&r);
	free(b);
}

struct bad_case {
	const char *name;
	const char *body;
	int rc;
	const char *field;
	const char *msg;
};

static const struct bad_case bad_checks[] = {
    {"not JSON", "{'case_ref':", DSC_EJSON, "", NULL},
    {"JSON but not an object", "['case_ref']", DSC_EJSON, "", "body is not a JSON object"},
    {"invalid UTF-8", "{'case_ref':'\xff'}", DSC_EJSON, "", NULL},
    {"duplicate key", "{'case_ref':'A','case_ref':'B'}", DSC_EJSON, "", NULL},
    {"missing case_ref", "{'purpose':'other'}", DSC_EINVAL, "case_ref", "case_ref: required"},
    {"case_ref with a space",
     "{'case_ref':'WM "
     "1','purpose':'other','justification':'x','subject':{'names':[{'family':'A'}]}}",
     DSC_EINVAL, "case_ref", "case_ref: must be 1-64 characters of A-Z a-z 0-9 / _ . -"},
    {"empty case_ref", "{'case_ref':''}", DSC_EINVAL, "case_ref",
     "case_ref: must be 1-64 characters of A-Z a-z 0-9 / _ . -"},
    {"case_ref of 65 characters",
     "{'case_ref':'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'}", DSC_EINVAL,
     "case_ref", "case_ref: must be 1-64 characters of A-Z a-z 0-9 / _ . -"},
    {"case_ref as a number", "{'case_ref':42}", DSC_EINVAL, "case_ref",
     "case_ref: must be 1-64 characters of A-Z a-z 0-9 / _ . -"},
    {"unknown purpose", "{'case_ref':'A','purpose':'curiosity'}", DSC_EINVAL, "purpose",
     "purpose: must be one of csods_right_to_ask, csods_right_to_be_told, dvds_right_to_ask, "
     "dvds_right_to_know, mappa_review, other"},
    {"missing justification", "{'case_ref':'A','purpose':'other'}", DSC_EINVAL, "justification",
     "justification: required"},
    {"blank justification", "{'case_ref':'A','purpose':'other','justification':'  '}", DSC_EINVAL,
     "justification", "justification: must not be empty"},
    {"missing subject", "{'case_ref':'A','purpose':'other','justification':'j'}", DSC_EINVAL,
     "subject", "subject: required"},
    {"unknown top-level field", HEAD "'subjet':{}}", DSC_EINVAL, "subjet", "subjet: unknown field"},
    {"unknown subject field", HEAD "'subject':{" NAMES ",'dob_':'1970-01-01'}}", DSC_EINVAL,
     "subject.dob_", "subject.dob_: unknown field"},
    {"unknown name field", HEAD "'subject':{'names':[{'family':'A','nick':'B'}]}}", DSC_EINVAL,
     "subject.names[0].nick", "subject.names[0].nick: unknown field"},
    {"no names", HEAD "'subject':{'names':[]}}", DSC_EINVAL, "subject.names",
     "subject.names: must hold 1-10 names, not 0"},
    {"eleven names",
     HEAD "'subject':{'names':[{'family':'A'},{'family':'A'},{'family':'A'},{'family':'A'},"
          "{'family':'A'},{'family':'A'},{'family':'A'},{'family':'A'},{'family':'A'},"
          "{'family':'A'},{'family':'A'}]}}",
     DSC_EINVAL, "subject.names", "subject.names: must hold 1-10 names, not 11"},
    {"names not an array", HEAD "'subject':{'names':'Smith'}}", DSC_EINVAL, "subject.names",
     "subject.names: must be an array of 1-10 names"},
    {"family missing in the second name",
     HEAD "'subject':{'names':[{'family':'A'},{'given':'B'}]}}", DSC_EINVAL,
     "subject.names[1].family", "subject.names[1].family: required"},
    {"family blank", HEAD "'subject':{'names':[{'family':'   '}]}}", DSC_EINVAL,
     "subject.names[0].family", "subject.names[0].family: must not be empty"},
    {"family a number", HEAD "'subject':{'names':[{'family':7}]}}", DSC_EINVAL,
     "subject.names[0].family", "subject.names[0].family: must be a string"},
    {"given a number", HEAD "'subject':{'names':[{'family':'A','given':7}]}}", DSC_EINVAL,
     "subject.names[0].given", "subject.names[0].given: must be a string or null"},
    {"family with a control character", HEAD "'subject':{'names':[{'family':'A\\u0007'}]}}",
     DSC_EINVAL, "subject.names[0].family", "subject.names[0].family: holds a control character"},
    {"family with a C1 control (CSI)", HEAD "'subject':{'names':[{'family':'Jones\\u009b31m'}]}}",
     DSC_EINVAL, "subject.names[0].family", "subject.names[0].family: holds a control character"},
    {"family with a right-to-left override", HEAD "'subject':{'names':[{'family':'Jo\u202Enes'}]}}",
     DSC_EINVAL, "subject.names[0].family", "subject.names[0].family: holds a control character"},
    {"postcode with a left-to-right isolate",
     HEAD "'subject':{" NAMES ",'postcode':'WR1\u20661AA'}}", DSC_EINVAL, "subject.postcode",
     "subject.postcode: control characters are not allowed"},
    {"family with a NUL", HEAD "'subject':{'names':[{'family':'A\\u0000B'}]}}", DSC_EJSON, "",
     NULL},
    {"name not an object", HEAD "'subject':{'names':['Smith']}}", DSC_EINVAL, "subject.names[0]",
     "subject.names[0]: must be an object with family, given, middle"},
    {"dob not a date", HEAD "'subject':{" NAMES ",'dob':'12/03/1970'}}", DSC_EINVAL, "subject.dob",
     DOB_MSG},
    {"dob on the 30th of February", HEAD "'subject':{" NAMES ",'dob':'1970-02-30'}}", DSC_EINVAL,
     "subject.dob", DOB_MSG},
    {"dob on the 29th of February of a common year",
     HEAD "'subject':{" NAMES ",'dob':'1900-02-29'}}", DSC_EINVAL, "subject.dob",
     DOB_MSG},
    {"dob in month 13", HEAD "'subject':{" NAMES ",'dob':'1970-13-01'}}", DSC_EINVAL, "subject.dob",
     DOB_MSG},
    {"dob in the future", HEAD "'subject':{" NAMES ",'dob':'2999-01-01'}}", DSC_EINVAL,
     "subject.dob", "subject.dob: in the future"},
    {"dob as a number", HEAD "'subject':{" NAMES ",'dob':19700312}}", DSC_EINVAL, "subject.dob",
     DOB_MSG},
    {"dob known in part, month 13", HEAD "'subject':{" NAMES ",'dob':'1970-13'}}", DSC_EINVAL,
     "subject.dob", DOB_MSG},
    {"dob known in part, a day without its month", HEAD "'subject':{" NAMES ",'dob':'1970-00-05'}}",
     DSC_EINVAL, "subject.dob", DOB_MSG},
    {"dob with a one-digit month", HEAD "'subject':{" NAMES ",'dob':'1970-3'}}", DSC_EINVAL,
     "subject.dob", DOB_MSG},
    {"dob of three digits", HEAD "'subject':{" NAMES ",'dob':'197'}}", DSC_EINVAL, "subject.dob",
     DOB_MSG},
    {"dob of year 0", HEAD "'subject':{" NAMES ",'dob':'0000'}}", DSC_EINVAL, "subject.dob",
     DOB_MSG},
    {"dob known in part, a year to come", HEAD "'subject':{" NAMES ",'dob':'2999'}}", DSC_EINVAL,
     "subject.dob", "subject.dob: in the future"},
    {"dob known in part, before 1880", HEAD "'subject':{" NAMES ",'dob':'1879-12'}}", DSC_EINVAL,
     "subject.dob", "subject.dob: before 1880"},
    {"age of 131", HEAD "'subject':{" NAMES ",'age':131}}", DSC_EINVAL, "subject.age",
     "subject.age: must be a whole number of years from 0 to 130, \"\" or null"},
    {"negative age", HEAD "'subject':{" NAMES ",'age':-1}}", DSC_EINVAL, "subject.age",
     "subject.age: must be a whole number of years from 0 to 130, \"\" or null"},
    {"age as a string", HEAD "'subject':{" NAMES ",'age':'40'}}", DSC_EINVAL, "subject.age",
     "subject.age: must be a whole number of years from 0 to 130, \"\" or null"},
    {"age of 130.5", HEAD "'subject':{" NAMES ",'age':130.5}}", DSC_EINVAL, "subject.age",
     "subject.age: must be a whole number of years from 0 to 130, \"\" or null"},
    {"age of 1e300", HEAD "'subject':{" NAMES ",'age':1e300}}", DSC_EINVAL, "subject.age",
     "subject.age: must be a whole number of years from 0 to 130, \"\" or null"},
    {"a name's kind that is not a string", HEAD "'subject':{'names':[{'family':'Smith','kind':1}]}}",
     DSC_EINVAL, "subject.names[0].kind", "subject.names[0].kind: must be a string or null"},
    {"age with a fraction", HEAD "'subject':{" NAMES ",'age':40.5}}", DSC_EINVAL, "subject.age",
     "subject.age: must be a whole number of years from 0 to 130, \"\" or null"},
    {"postcode of 130 bytes", HEAD "'subject':{" NAMES ",'postcode':'Flat 12, The Old Granary, 147 Upper "
     "Riverside Walk, Little Snodbury, near Upton-upon-Severn, Worcestershire, England, WR8 0AB, UK.'}}",
     DSC_EINVAL, "subject.postcode", "subject.postcode: longer than 127 bytes"},
    {"postcode with a control character", HEAD "'subject':{" NAMES ",'postcode':'WR1\\u00072AB'}}",
     DSC_EINVAL, "subject.postcode", "subject.postcode: control characters are not allowed"},
    {"postcode with a form feed", HEAD "'subject':{" NAMES ",'postcode':'WR1\\f2AB'}}",
     DSC_EINVAL, "subject.postcode", "subject.postcode: control characters are not allowed"},
    {"postcode with a DEL", HEAD "'subject':{" NAMES ",'postcode':'WR1\\u007f2AB'}}",
     DSC_EINVAL, "subject.postcode", "subject.postcode: control characters are not allowed"},
    {"sex as another word", HEAD "'subject':{" NAMES ",'sex':'man'}}", DSC_EINVAL, "subject.sex",
     "subject.sex: must be M, F, X (in either case, or male, female), U or unknown, \"\" or null"},
    {"sex as a number", HEAD "'subject':{" NAMES ",'sex':1}}", DSC_EINVAL, "subject.sex",
     "subject.sex: must be M, F, X (in either case, or male, female), U or unknown, \"\" or null"},
};

/* Parses a check whose subject is NAMES plus the given members (written
 * with ' for "), failing the test if it is refused. */
static void parse_subject(const char *members, struct check_request *r)
{
	char text[512];
	char *b;
	struct dsc_error err;

	snprintf(text, sizeof(text), HEAD "'subject':{" NAMES ",%s}}", members);
	b = body(text);
	if (check_request_parse(b, strlen(b), r, &err) != DSC_OK)
		fail_msg("%s refused: %s", members, err.msg);
	free(b);
}

/* Sex as forms and spreadsheets write it. */
static void sex_is_read_in_either_case_and_as_a_word(void **state)
{
	static const struct {
		const char *json;
		char want;
	} cases[] = {
	    {"'M'", 'M'}, {"'m'", 'M'}, {"'f'", 'F'}, {"'x'", 'X'}, {"'Male'", 'M'},
	    {"'FEMALE'", 'F'}, {"''", 0}, {"null", 0}, {"' '", 0}, {"'U'", 0}, {"'u'", 0},
	    {"'Unknown'", 0}, {"'not known'", 0}, {"'N/K'", 0},
	    /* with a form's spaces around it */
	    {"'Female '", 'F'}, {"' m'", 'M'}, {"'\\tX '", 'X'}, {"' unknown '", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char members[64];
		struct check_request r;

		snprintf(members, sizeof(members), "'sex':%s", cases[i].json);
		parse_subject(members, &r);
		if (r.subject.sex != cases[i].want)
			fail_msg("sex %s read as %d, not %d", cases[i].json, r.subject.sex, cases[i].want);
		check_request_release(&r);
	}
}

/* A form's empty date of birth or age ("" or spaces) is absent, as an
 * empty postcode or sex is; the other member still counts. */
static void blank_dob_and_age_are_absent(void **state)
{
	static const struct {
		const char *members;
		int year, age;
	} cases[] = {
	    {"'dob':'','age':44", 0, 44},
	    {"'dob':'  ','age':null", 0, -1},
	    {"'dob':'1970-03-12','age':''", 1970, -1},
	    {"'dob':'\\t','age':' '", 0, -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct check_request r;

		parse_subject(cases[i].members, &r);
		assert_int_equal(r.subject.dob.year, cases[i].year);
		assert_int_equal(r.subject.age, cases[i].age);
		check_request_release(&r);
	}
}

/* What JSON writers and clients reusing a record's name objects send: an
 * age written 34.0, a name with its kind (taken, not used). */
static void a_whole_real_age_and_a_names_kind_are_taken(void **state)
{
	struct check_request r;

	(void)state;
	parse_subject("'age':34.0", &r);
	assert_int_equal(r.subject.age, 34);
	check_request_release(&r);
	parse_subject("'age':0.0", &r);
	assert_int_equal(r.subject.age, 0);
	check_request_release(&r);
	{
		char *b = body(HEAD "'subject':{'names':[{'given':'Jon','family':'Smith','kind':'primary'},"
		                    "{'family':'Smyth','kind':'alias'},{'family':'Smithe','kind':null}]}}");
		struct dsc_error err;

		if (check_request_parse(b, strlen(b), &r, &err) != DSC_OK)
			fail_msg("names with kinds refused: %s", err.msg);
		assert_int_equal(r.subject.n_names, 3);
		assert_string_equal(r.subject.names[1].family, "Smyth");
		check_request_release(&r);
		free(b);
	}
}

/* Postcodes as forms and address lines write them are taken, and kept
 * as sent (the audit log records the query as it came); the matcher
 * reads the postcode out of them (test_normalize). */
static void postcodes_are_taken_as_written(void **state)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
	    {"'WR1-2AB'", "WR1-2AB"},
	    {"'CT6 4PB, UK'", "CT6 4PB, UK"},
	    {"'(se17 9jn)'", "(se17 9jn)"},
	    {"'WR1\\t2AB'", "WR1\t2AB"},
	    {"'WR1\\u00a02AB'", "WR1\xc2\xa0" "2AB"},
	    {"'12 High Street, Worcester, WR1 2AB, England!'", "12 High Street, Worcester, WR1 2AB, England!"},
	    {"'16 Orchard Close, Bedford\\nLU7 7QB'", "16 Orchard Close, Bedford\nLU7 7QB"},
	    {"'16 Orchard Close\\r\\nBedford LU7 7QB'", "16 Orchard Close\r\nBedford LU7 7QB"},
	    {"'Flat 12, The Old Granary, 147 Upper Riverside Walk, Little Snodbury, Worcestershire, WR8 0AB, UK'",
	     "Flat 12, The Old Granary, 147 Upper Riverside Walk, Little Snodbury, Worcestershire, WR8 0AB, UK"},
	    {"'  '", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char members[256];
		struct check_request r;

		snprintf(members, sizeof(members), "'postcode':%s", cases[i].json);
		parse_subject(members, &r);
		assert_string_equal(r.subject.postcode, cases[i].want);
		check_request_release(&r);
	}
}

static void bad_checks_name_the_field(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_checks) / sizeof(bad_checks[0]); i++) {
		const struct bad_case *t = &bad_checks[i];
		char *b = body(t->body);
		struct check_request r;
		struct dsc_error err;
		int rc;

		dsc_error_clear(&err);
		rc = check_request_parse(b, strlen(b), &r, &err);
		if (rc != t->rc || strcmp(err.field, t->field) != 0 ||
		    (t->msg != NULL && strcmp(err.msg, t->msg) != 0))
			fail_msg("case '%s': rc %d field '%s' msg '%s'", t->name, rc, err.field,
			         err.msg);
		if (t->rc == DSC_EJSON && t->msg == NULL &&
		    strncmp(err.msg, "body is not", 11) != 0)
			fail_msg("case '%s': msg '%s'", t->name, err.msg);
		assert_null(r.json);
		free(b);
	}
}

static void justification_is_counted_in_characters(void **state)
{
	/* 1000 two-byte characters are 2000 bytes and still allowed */
	size_t n = 1000;
	char *just = malloc(n * 2 + 2);
	char *b = malloc(n * 2 + 512);
	struct check_request r;
	struct dsc_error err;

	(void)state;
	for (size_t i = 0; i < n; i++)
		memcpy(just + 2 * i, "\xc3\xa9", 2);
	just[2 * n] = '\0';
	sprintf(b,
	        "{\"case_ref\":\"A\",\"purpose\":\"other\",\"justification\":\"%s\","
	        "\"subject\":{\"names\":[{\"family\":\"A\"}]}}",
	        just);
	assert_int_equal(check_request_parse(b, strlen(b), &r, &err), DSC_OK);
	assert_int_equal(strlen(r.justification), 2000);
	check_request_release(&r);
	/* one more is too many */
	memcpy(just + 2 * n, "x", 2);
	sprintf(b,
	        "{\"case_ref\":\"A\",\"purpose\":\"other\",\"justification\":\"%s\","
	        "\"subject\":{\"names\":[{\"family\":\"A\"}]}}",
	        just);
	assert_int_equal(check_request_parse(b, strlen(b), &r, &err), DSC_EINVAL);
	assert_string_equal(err.msg, "justification: longer than 1000 characters");
	free(just);
	free(b);
}

static void today_is_not_in_the_future(void **state)
{
	char b[512], day[16];
	time_t now = time(NULL);
	struct tm tm;
	struct check_request r;
	struct dsc_error err;

	(void)state;
	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	snprintf(b, sizeof(b),
	         "{\"case_ref\":\"A\",\"purpose\":\"other\",\"justification\":\"j\","
	         "\"subject\":{\"names\":[{\"family\":\"A\"}],\"dob\":\"%s\"}}",
	         day);
	assert_int_equal(check_request_parse(b, strlen(b), &r, &err), DSC_OK);
	check_request_release(&r);
}

static void subject_is_recorded_as_normalised_json(void **state)
{
	char *b =
	    body(HEAD "'subject':{'names':[{'given':' Jon ','family':'Smith'},"
	              "{'family':'Smyth','middle':null}],'dob':'1970-03-12','postcode':'wr1 2ab',"
	              "'sex':'X','age':null}}");
	struct check_request r;
	struct dsc_error err;
	json_t *j;
	char *s;

	(void)state;
	assert_int_equal(check_request_parse(b, strlen(b), &r, &err), DSC_OK);
	j = check_subject_to_json(&r.subject);
	assert_non_null(j);
	s = json_dumps(j, JSON_COMPACT);
	assert_string_equal(s, "{\"names\":[{\"given\":\"Jon\",\"family\":\"Smith\"},"
	                       "{\"family\":\"Smyth\"}],\"dob\":\"1970-03-12\","
	                       "\"postcode\":\"wr1 2ab\",\"sex\":\"X\"}");
	free(s);
	json_decref(j);
	check_request_release(&r);
	free(b);
}

static void assert_subject_texts_match_tree(const struct check_subject *s, int i);

/* A date of birth known in part (addition): "YYYY-MM" or "YYYY", or with
 * zeros for the parts not known; kept with the unknown parts 0 and
 * written back in the short form, in the tree and the audit's text
 * alike, by either reader. */
static void dates_known_in_part_are_taken_and_written_short(void **state)
{
	static const struct {
		const char *dob;
		int year, month;
		const char *written;
	} cases[] = {
	    {"1970", 1970, 0, "1970"},       {"1970-03", 1970, 3, "1970-03"},
	    {"1970-00-00", 1970, 0, "1970"}, {"1970-03-00", 1970, 3, "1970-03"},
	    {"1970-00", 1970, 0, "1970"},    {"1880", 1880, 0, "1880"},
	};
	char today[8], month[8];
	time_t now = time(NULL);
	struct tm tm;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char members[64], text[512], *b;
		struct check_request r, t;
		struct dsc_error err;
		json_t *j;

		snprintf(members, sizeof(members), "'dob':'%s'", cases[i].dob);
		parse_subject(members, &r);
		assert_int_equal(r.subject.dob.year, cases[i].year);
		assert_int_equal(r.subject.dob.month, cases[i].month);
		assert_int_equal(r.subject.dob.day, 0);
		j = check_subject_to_json(&r.subject);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "dob")), cases[i].written);
		json_decref(j);
		assert_subject_texts_match_tree(&r.subject, (int)i);
		/* The same through jansson's reader. */
		snprintf(text, sizeof(text), HEAD "'subject':{'names':[{'family':'Smith'}],'dob':'%s'}}", cases[i].dob);
		b = body(text);
		assert_int_equal(check_request_parse_tree(b, strlen(b), &t, &err), DSC_OK);
		assert_memory_equal(&t.subject.dob, &r.subject.dob, sizeof(t.subject.dob));
		check_request_release(&t);
		check_request_release(&r);
		free(b);
	}
	/* This year, and this month, are not in the future. */
	gmtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y", &tm);
	strftime(month, sizeof(month), "%Y-%m", &tm);
	for (int k = 0; k < 2; k++) {
		char members[64];
		struct check_request r;

		snprintf(members, sizeof(members), "'dob':'%s'", k == 0 ? today : month);
		parse_subject(members, &r);
		assert_int_equal(r.subject.dob.year, tm.tm_year + 1900);
		check_request_release(&r);
	}
}

struct decision_case {
	const char *name;
	const char *body;
	int rc;
	enum decision_kind decision;
	const char *field;
	const char *msg;
};

static const struct decision_case decision_cases[] = {
    {"disclose with offender and recipient",
     "{'decision':'disclose','offender_id':'WMP-0001234','recipient':'Applicant (mother)',"
     "'rationale':'Risk to the children'}",
     DSC_OK, DECISION_DISCLOSE, "", NULL},
    {"no disclosure without an offender", "{'decision':'no_disclosure','offender_id':null}", DSC_OK,
     DECISION_NO_DISCLOSURE, "", NULL},
    {"refer with an offender", "{'decision':'refer','offender_id':'WMP-1'}", DSC_OK, DECISION_REFER,
     "", NULL},
    {"disclose without a recipient", "{'decision':'disclose','offender_id':'WMP-1'}", DSC_EINVAL, 0,
     "recipient", "recipient: required"},
    {"disclose without an offender", "{'decision':'disclose','recipient':'R'}", DSC_EINVAL, 0,
     "offender_id", "offender_id: required for a 'disclose' decision"},
    {"refer without an offender", "{'decision':'refer'}", DSC_EINVAL, 0, "offender_id",
     "offender_id: required for a 'refer' decision"},
    {"unknown decision", "{'decision':'maybe'}", DSC_EINVAL, 0, "decision",
     "decision: must be one of disclose, no_disclosure, refer"},
    {"missing decision", "{}", DSC_EINVAL, 0, "decision", "decision: required"},
    {"offender id with a space", "{'decision':'refer','offender_id':'WMP 1'}", DSC_EINVAL, 0,
     "offender_id", "offender_id: must be 1-64 characters of A-Z a-z 0-9 _ -"},
    {"unknown field", "{'decision':'refer','offender_id':'W','reason':'x'}", DSC_EINVAL, 0,
     "reason", "reason: unknown field"},
    {"not an object", "'disclose'", DSC_EJSON, 0, "", "body is not a JSON object"},
};

static void decisions_follow_the_contract(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(decision_cases) / sizeof(decision_cases[0]); i++) {
		const struct decision_case *t = &decision_cases[i];
		char *b = body(t->body);
		struct decision_request d;
		struct dsc_error err;
		int rc;

		dsc_error_clear(&err);
		rc = decision_request_parse(b, strlen(b), &d, &err);
		if (rc != t->rc || strcmp(err.field, t->field) != 0 ||
		    (t->msg != NULL && strcmp(err.msg, t->msg) != 0))
			fail_msg("case '%s': rc %d field '%s' msg '%s'", t->name, rc, err.field,
			         err.msg);
		if (rc == DSC_OK) {
			assert_int_equal(d.decision, t->decision);
			assert_non_null(d.json);
		} else {
			assert_null(d.json);
		}
		decision_request_release(&d);
		free(b);
	}
}

static void decision_fields_are_kept(void **state)
{
	char *b = body("{'decision':'disclose','offender_id':'WMP-0001234','recipient':'Ms Q. "
	               "Example','rationale':'Contact with a child under 13'}");
	struct decision_request d;
	struct dsc_error err;

	(void)state;
	assert_int_equal(decision_request_parse(b, strlen(b), &d, &err), DSC_OK);
	assert_string_equal(decision_name(d.decision), "disclose");
	assert_string_equal(d.offender_id, "WMP-0001234");
	assert_string_equal(d.recipient, "Ms Q. Example");
	assert_string_equal(d.rationale, "Contact with a child under 13");
	decision_request_release(&d);
	free(b);
}

/* ---- the subject written without its tree ---- */

static uint64_t gen_state = 0x9e3779b97f4a7c15ull;

static uint32_t gen_next(uint32_t bound)
{
	gen_state ^= gen_state << 13;
	gen_state ^= gen_state >> 7;
	gen_state ^= gen_state << 17;
	return (uint32_t)(gen_state % bound);
}

/* A name part of 0-12 characters: letters, the characters JSON escapes,
 * and characters of two, three and four bytes (fictitious, generated). */
static void gen_text(char *out, size_t cap)
{
	static const char *const pieces[] = {"a", "Z", " ", "'", "-", "\"", "\\", "/", "\t", "\x01",
	                                     "\x1f", "\x7f", "\xc3\xa9", "\xc5\x81", "\xd0\x96",
	                                     "\xe2\x80\xa8", "\xe6\x9d\x8e", "\xef\xbf\xbd",
	                                     "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"};
	size_t n = 0, count = gen_next(13);

	for (size_t i = 0; i < count; i++) {
		const char *p = pieces[gen_next(sizeof(pieces) / sizeof(pieces[0]))];
		size_t len = strlen(p);

		if (n + len + 1 > cap)
			break;
		memcpy(out + n, p, len);
		n += len;
	}
	out[n] = '\0';
}

struct gen_subject {
	struct check_subject s;
	char text[CHECK_MAX_NAMES][3][64];
};

static void gen_subject(struct gen_subject *g)
{
	memset(g, 0, sizeof(*g));
	g->s.n_names = 1 + gen_next(CHECK_MAX_NAMES);
	for (size_t i = 0; i < g->s.n_names; i++) {
		char **parts[] = {&g->s.names[i].given, &g->s.names[i].middle, &g->s.names[i].family};

		for (size_t k = 0; k < 3; k++) {
			if (k < 2 && gen_next(3) == 0)
				continue;
			gen_text(g->text[i][k], sizeof(g->text[i][k]));
			*parts[k] = g->text[i][k];
		}
	}
	if (gen_next(2)) {
		g->s.dob.year = (uint16_t)(1880 + gen_next(150));
		g->s.dob.month = (uint8_t)(1 + gen_next(12));
		g->s.dob.day = (uint8_t)(1 + gen_next(28));
		if (gen_next(4) == 0) /* known in part */
			g->s.dob.day = 0, g->s.dob.month = gen_next(2) ? g->s.dob.month : 0;
	}
	g->s.age = gen_next(3) == 0 ? -1 : (int)gen_next(131);
	if (gen_next(2)) {
		static const char pc[] = "AB12 3CDwr9";
		size_t n = gen_next(sizeof(g->s.postcode));

		for (size_t i = 0; i < n; i++)
			g->s.postcode[i] = pc[gen_next(sizeof(pc) - 1)];
	}
	g->s.sex = "\0MFX"[gen_next(4)];
}

static void jbuf_put(void *arg, const char *p, size_t n)
{
	struct audit_members *m = arg; /* any growing buffer will do */

	audit_members_raw(m, p, n);
}

/* The dumped text of the subject and its audit members, each against
 * what the tree check_subject_to_json() gives: json_dumps(JSON_COMPACT),
 * and the audit line of a tree holding it as "query". */
static void assert_subject_texts_match_tree(const struct check_subject *s, int i)
{
	struct audit_chain c1, c2;
	struct audit_members dumped = {0}, m = {0};
	struct dsc_error err;
	json_t *tree = check_subject_to_json(s), *with, *empty = json_object();
	char *want, *l1 = NULL, *l2 = NULL;
	size_t n1 = 0, n2 = 0;

	assert_non_null(tree);
	want = json_dumps(tree, JSON_COMPACT);
	assert_non_null(want);
	assert_true(check_subject_dump(s, jbuf_put, &dumped));
	audit_members_raw(&dumped, "", 1);
	assert_int_equal(dumped.rc, DSC_OK);
	if (strcmp(dumped.p, want) != 0)
		fail_msg("subject %d: dumped\n  %s\nbut the tree dumps\n  %s", i, dumped.p, want);

	with = json_pack("{s:O}", "query", tree);
	assert_non_null(with);
	audit_chain_init(&c1);
	audit_chain_init(&c2);
	assert_int_equal(audit_entry_encode(&c1, with, 1700000000123LL, &l1, &n1, &err), DSC_OK);
	audit_members_key(&m, "query");
	check_subject_audit(s, &m);
	assert_int_equal(m.rc, DSC_OK);
	assert_int_equal(audit_entry_encode_members(&c2, empty, &m, 1700000000123LL, &l2, &n2, &err),
	                 DSC_OK);
	if (n1 != n2 || memcmp(l1, l2, n1) != 0)
		fail_msg("subject %d: audit line\n  %s\nbut the tree's is\n  %s", i, l2, l1);
	assert_string_equal(c1.head, c2.head);
	free(l1);
	free(l2);
	free(want);
	json_decref(with);
	json_decref(tree);
	json_decref(empty);
	audit_members_release(&m);
	audit_members_release(&dumped);
}

static void generated_subjects_are_written_as_their_trees(void **state)
{
	struct gen_subject *g = malloc(sizeof(*g));

	(void)state;
	assert_non_null(g);
	for (int i = 0; i < 3000; i++) {
		gen_subject(g);
		assert_subject_texts_match_tree(&g->s, i);
	}
	free(g);
}

static void a_parsed_subject_is_written_as_its_tree(void **state)
{
	char *b =
	    body(HEAD "'subject':{'names':[{'given':' J\\u00f6n ','family':'Sm\\\"ith\\\\'},"
	              "{'family':'\\u674e','middle':null}],'dob':'1970-03-12','postcode':'wr1 2ab',"
	              "'sex':'X','age':41}}");
	struct check_request r;
	struct dsc_error err;

	(void)state;
	assert_int_equal(check_request_parse(b, strlen(b), &r, &err), DSC_OK);
	assert_subject_texts_match_tree(&r.subject, 0);
	check_request_release(&r);
	free(b);
}

static void a_subject_that_is_not_utf8_has_no_text_as_it_has_no_tree(void **state)
{
	struct check_subject s;
	struct audit_members m = {0};
	char bad[] = "Sm\xc3(th";

	(void)state;
	memset(&s, 0, sizeof(s));
	s.age = -1;
	s.n_names = 1;
	s.names[0].family = bad;
	assert_null(check_subject_to_json(&s));
	assert_false(check_subject_dump(&s, jbuf_put, &m));
	assert_int_equal(m.len, 0);
	check_subject_audit(&s, &m);
	assert_int_equal(m.rc, DSC_EINVAL);
	audit_members_release(&m);
}

/* ---- the plain reader against jansson's path ---- */

struct gen_body {
	char *p;
	size_t len, cap;
};

static void gb_add(struct gen_body *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

static const char *gen_pick(const char *const *v, size_t n)
{
	return v[gen_next((uint32_t)n)];
}
#define PICK(v) gen_pick(v, sizeof(v) / sizeof(v[0]))

static const char *const gen_ws[] = {"", "", "", " ", "\n", "\t ", "\r\n  "};

/* A name part's JSON value: mostly good, sometimes not (fictitious). */
static const char *const gen_names[] = {
    "\"Smith\"", "\"Jon\"", "\" Jon \"", "\"\\tJon\"", "\"J\\u00f6rg\"", "\"\\u674e\"",
    "\"O\\u2019Neil\"", "\"Sm\\\"ith\"", "\"Back\\\\slash\"", "\"a\\/b\"", "\"\\ud83d\\ude00x\"",
    "\"\\ud83dx\"", "\"\\ude00\"", "\"\\u0000\"", "\"\\u0007\"", "\"   \"", "\"\"", "null", "7",
    "\"\xc3\xa9l\xc3\xa8ve\"", "\"\xff\"", "\"bad\\q\"", "\"\x01\"", "\"\x7f\"",
    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\""};

static void gen_member(struct gen_body *b, bool *first, const char *key, const char *value)
{
	gb_add(b, *first ? "" : ",");
	gb_add(b, PICK(gen_ws));
	gb_add(b, key);
	gb_add(b, PICK(gen_ws));
	gb_add(b, ":");
	gb_add(b, PICK(gen_ws));
	gb_add(b, value);
	gb_add(b, PICK(gen_ws));
	*first = false;
}

/* Mostly a value every check takes, now and then any of them. */
static const char *gen_name_value(void)
{
	return gen_next(6) ? gen_names[gen_next(11)] : PICK(gen_names);
}

static void gen_name(struct gen_body *b)
{
	static const char *const keys[] = {"\"given\"", "\"middle\"", "\"family\"", "\"nick\"",
	                                   "\"fam\\u0069ly\""};
	bool first = true;

	gb_add(b, "{");
	if (gen_next(10) == 0) {
		/* Any members at all. */
		for (size_t i = 0, n = gen_next(4); i < n; i++)
			gen_member(b, &first, PICK(keys), PICK(gen_names));
	} else {
		if (gen_next(2))
			gen_member(b, &first, "\"given\"", gen_name_value());
		if (gen_next(3) == 0)
			gen_member(b, &first, "\"middle\"", gen_name_value());
		gen_member(b, &first, gen_next(10) ? "\"family\"" : "\"fam\\u0069ly\"",
		           gen_name_value());
	}
	gb_add(b, "}");
}

static void gen_check_body(struct gen_body *b)
{
	static const char *const case_refs[] = {"\"WM-CSODS-2026-0042\"", "\"A\"", "\"\"", "\"a b\"",
	                                        "42", "null", "\"WM\\/1\""};
	static const char *const purposes_v[] = {"\"other\"", "\"csods_right_to_ask\"", "\"mappa_review\"",
	                                         "\"curiosity\"", "null", "\"oth\\u0065r\""};
	static const char *const justs[] = {"\"New partner\"", "\"line\\none\\ttab\"", "\"  \"",
	                                    "\"Applicant\\u2019s partner\"", "\"bell\\u0007\"", "7",
	                                    "\"\xe6\x9d\x8e\""};
	static const char *const dobs[] = {"\"1970-03-12\"", "\"1900-02-29\"", "\"2000-02-29\"", "\"1879-12-31\"",
	                                   "\"2999-01-01\"", "\"12/03/1970\"", "null", "19700312",
	                                   "\"1970\"", "\"1970-03\"", "\"1970-00-00\"", "\"1970-03-00\"",
	                                   "\"1970-13\"", "\"2999\"", "\"1879\"", "\"1970-00-05\""};
	static const char *const ages[] = {"41", "0", "130", "131", "041", "4.0", "-1", "1e2", "null", "\"41\"", "-0"};
	static const char *const pcs[] = {"\"WR1 2AB\"", "\"  \"", "\"\"", "\"WR1-2AB\"", "null",
	                                  "\"WR1 2AB WR1 2AB1\"", "\"wr1\\u00202ab\""};
	static const char *const sexes[] = {"\"M\"", "\"F\"", "\"X\"", "\"m\"", "\"\"", "null", "\"MF\""};
	static const char *const extras[] = {"\"subjet\"", "\"case_ref\"", "\"dob_\""};
	bool first = true, sfirst = true;
	size_t names = gen_next(12) == 0 ? gen_next(13) : 1 + gen_next(2);

	b->len = 0;
	gb_add(b, PICK(gen_ws));
	gb_add(b, "{");
	if (gen_next(20) != 0)
		gen_member(b, &first, "\"case_ref\"", gen_next(4) ? case_refs[0] : PICK(case_refs));
	if (gen_next(20) != 0)
		gen_member(b, &first, "\"purpose\"", gen_next(4) ? purposes_v[0] : PICK(purposes_v));
	if (gen_next(20) != 0)
		gen_member(b, &first, "\"justification\"", gen_next(4) ? justs[0] : PICK(justs));
	gb_add(b, first ? "" : ",");
	gb_add(b, "\"subject\":{");
	if (gen_next(20) != 0) {
		struct gen_body nb = {0};

		gb_add(&nb, "[");
		for (size_t i = 0; i < names; i++) {
			if (i > 0)
				gb_add(&nb, ",");
			gen_name(&nb);
		}
		gb_add(&nb, "]");
		gen_member(b, &sfirst, "\"names\"", nb.p);
		free(nb.p);
	}
	if (gen_next(2))
		gen_member(b, &sfirst, "\"dob\"", gen_next(3) ? dobs[gen_next(3)] : PICK(dobs));
	if (gen_next(3) == 0)
		gen_member(b, &sfirst, "\"age\"", gen_next(2) ? ages[gen_next(3)] : PICK(ages));
	if (gen_next(3) == 0)
		gen_member(b, &sfirst, "\"postcode\"", gen_next(2) ? pcs[gen_next(3)] : PICK(pcs));
	if (gen_next(3) == 0)
		gen_member(b, &sfirst, "\"sex\"", gen_next(2) ? sexes[gen_next(3)] : PICK(sexes));
	gb_add(b, "}");
	if (gen_next(15) == 0)
		gen_member(b, &first, PICK(extras), "\"x\"");
	gb_add(b, "}");
	gb_add(b, PICK(gen_ws));
	if (gen_next(30) == 0)
		gb_add(b, "x");
	if (gen_next(25) == 0) /* cut short anywhere */
		b->len = gen_next((uint32_t)b->len + 1);
}

static void assert_same_str(const char *a, const char *b, int i, const char *what)
{
	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
		fail_msg("body %d: %s is '%s' read plainly, '%s' through jansson", i, what,
		         a ? a : "(null)", b ? b : "(null)");
}

static void generated_bodies_read_as_jansson_reads_them(void **state)
{
	struct gen_body b = {0};
	int plain = 0, refused = 0;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		struct check_request r1, r2;
		struct dsc_error e1, e2;
		int rc1, rc2;

		gen_check_body(&b);
		memset(&e1, 0, sizeof(e1));
		memset(&e2, 0, sizeof(e2));
		rc1 = check_request_parse(b.p, b.len, &r1, &e1);
		rc2 = check_request_parse_tree(b.p, b.len, &r2, &e2);
		if (rc1 != rc2)
			fail_msg("body %d: %d read plainly, %d through jansson (%s): %.*s", i, rc1, rc2,
			         e2.msg, (int)b.len, b.p);
		if (rc1 != DSC_OK) {
			assert_int_equal(e1.code, e2.code);
			assert_string_equal(e1.field, e2.field);
			assert_string_equal(e1.msg, e2.msg);
			refused++;
			continue;
		}
		plain += r1.text != NULL;
		assert_same_str(r1.case_ref, r2.case_ref, i, "case_ref");
		assert_int_equal(r1.purpose, r2.purpose);
		assert_same_str(r1.justification, r2.justification, i, "justification");
		assert_int_equal(r1.subject.n_names, r2.subject.n_names);
		for (size_t k = 0; k < r1.subject.n_names; k++) {
			assert_same_str(r1.subject.names[k].given, r2.subject.names[k].given, i, "given");
			assert_same_str(r1.subject.names[k].middle, r2.subject.names[k].middle, i, "middle");
			assert_same_str(r1.subject.names[k].family, r2.subject.names[k].family, i, "family");
			assert_int_equal(r1.subject.names[k].kind, r2.subject.names[k].kind);
		}
		assert_memory_equal(&r1.subject.dob, &r2.subject.dob, sizeof(r1.subject.dob));
		assert_int_equal(r1.subject.age, r2.subject.age);
		assert_memory_equal(r1.subject.postcode, r2.subject.postcode, sizeof(r1.subject.postcode));
		assert_int_equal(r1.subject.sex, r2.subject.sex);
		check_request_release(&r1);
		check_request_release(&r2);
	}
	free(b.p);
	/* Both kinds of body were seen, and the plain reader took most of
	 * the good ones. */
	print_message("%d plain, %d refused of 20000\n", plain, refused);
	assert_true(plain > 2000);
	assert_true(refused > 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(contract_example_parses),
	    cmocka_unit_test(names_are_trimmed_and_any_script_is_kept),
	    cmocka_unit_test(names_with_tabs_and_line_breaks_are_taken),
	    cmocka_unit_test(bad_checks_name_the_field),
	    cmocka_unit_test(sex_is_read_in_either_case_and_as_a_word),
	    cmocka_unit_test(postcodes_are_taken_as_written),
	    cmocka_unit_test(blank_dob_and_age_are_absent),
	    cmocka_unit_test(dates_known_in_part_are_taken_and_written_short),
	    cmocka_unit_test(a_whole_real_age_and_a_names_kind_are_taken),
	    cmocka_unit_test(justification_is_counted_in_characters),
	    cmocka_unit_test(today_is_not_in_the_future),
	    cmocka_unit_test(subject_is_recorded_as_normalised_json),
	    cmocka_unit_test(decisions_follow_the_contract),
	    cmocka_unit_test(decision_fields_are_kept),
	    cmocka_unit_test(generated_subjects_are_written_as_their_trees),
	    cmocka_unit_test(a_parsed_subject_is_written_as_its_tree),
	    cmocka_unit_test(a_subject_that_is_not_utf8_has_no_text_as_it_has_no_tree),
	    cmocka_unit_test(generated_bodies_read_as_jansson_reads_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
