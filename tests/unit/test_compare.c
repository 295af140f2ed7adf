/*
 * test_compare.c - the matcher's comparators (lib/compare.c) against the
 * published reference values listed in the design notes (Jaro-Winkler
 * with p = 0.1, Double Metaphone primary/alternate, Soundex), plus the
 * date-of-birth and postcode comparison levels, each case named in words.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../lib/compare.h"

static void check_close(const char *what, double got, double want)
{
	if (got < want - 0.00005 || got > want + 0.00005) {
		print_error("%s: got %.4f, want %.4f\n", what, got, want);
		fail();
	}
}

static void test_jaro_winkler_reference_values(void **state)
{
	static const struct {
		const char *a, *b;
		double want;
	} cases[] = {
		{"MARTHA", "MARHTA", 0.9611},     {"DWAYNE", "DUANE", 0.8400},
		{"DIXON", "DICKSONX", 0.8133},    {"JONES", "JOHNSON", 0.8324},
		{"MICHELLE", "MICHAEL", 0.9214},  {"SHACKLEFORD", "SHACKELFORD", 0.9818},
		{"WILLIAM", "BILL", 0.7262},      {"STEPHEN", "STEVEN", 0.8944},
		{"JON", "JOHN", 0.9333},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char what[64];
		snprintf(what, sizeof(what), "%s/%s", cases[i].a, cases[i].b);
		check_close(what, jaro_winkler(cases[i].a, strlen(cases[i].a), cases[i].b, strlen(cases[i].b)),
			    cases[i].want);
		/* symmetric */
		check_close(what, jaro_winkler(cases[i].b, strlen(cases[i].b), cases[i].a, strlen(cases[i].a)),
			    cases[i].want);
	}
}

static void test_jaro_winkler_edges(void **state)
{
	(void)state;
	check_close("identical strings", jaro_winkler("SMITH", 5, "SMITH", 5), 1.0);
	check_close("nothing in common", jaro_winkler("ABC", 3, "XYZ", 3), 0.0);
	check_close("one empty string", jaro_winkler("", 0, "SMITH", 5), 0.0);
	check_close("two empty strings", jaro_winkler("", 0, "", 0), 1.0);
	/* Longer than the comparator's bound: compared on the bounded prefix,
	 * never read past it. */
	{
		char a[200], b[200];
		memset(a, 'A', sizeof(a));
		memset(b, 'A', sizeof(b));
		check_close("strings beyond the bound", jaro_winkler(a, sizeof(a), b, sizeof(b)), 1.0);
	}
}

static void test_damerau_levenshtein(void **state)
{
	static const struct {
		const char *name, *a, *b;
		int want;
	} cases[] = {
		{"identical", "SMITH", "SMITH", 0},
		{"one substitution", "SMITH", "SMYTH", 1},
		{"one deletion", "LLEWELLYN", "LLEWELYN", 1},
		{"one insertion", "JONES", "JONESS", 1},
		{"adjacent transposition counts one", "MARTHA", "MARHTA", 1},
		{"transposition with an insertion between (unrestricted)", "CA", "ABC", 2},
		{"kitten/sitting", "KITTEN", "SITTING", 3},
		{"empty against a word", "", "ABC", 3},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = damerau_levenshtein(cases[i].a, strlen(cases[i].a), cases[i].b, strlen(cases[i].b));
		if (got != cases[i].want) {
			print_error("%s: got %d, want %d\n", cases[i].name, got, cases[i].want);
			fail();
		}
	}
}

static void test_double_metaphone_reference_values(void **state)
{
	static const struct {
		const char *name, *word, *primary, *alternate;
	} cases[] = {
		{"SMITH (reference)", "SMITH", "SM0", "XMT"},
		{"SCHMIDT (reference)", "SCHMIDT", "XMT", "SMT"},
		{"GEORGE (reference)", "GEORGE", "JRJ", "KRK"},
		{"FISCHER (reference)", "FISCHER", "FXR", "FSKR"},
		{"CHURCH (reference)", "CHURCH", "XRX", "XRK"},
		{"lower case is the same", "smith", "SM0", "XMT"},
		{"Mohammed and Muhammad share a code", "MOHAMMED", "MHMT", "MHMT"},
		{"Muhammad", "MUHAMMAD", "MHMT", "MHMT"},
		{"silent K of Knight", "KNIGHT", "NT", "NT"},
		{"initial X sounds S", "XAVIER", "SF", "SFR"},
		{"Caesar", "CAESAR", "SSR", "SSR"},
		{"Wasserman has a V alternate", "WASSERMAN", "ASRM", "FSRM"},
		{"Polish CZ", "TYMCZAK", "TMSK", "TMXK"},
		{"pinyin ZH", "ZHANG", "JNK", "JNK"},
		{"codes are cut at four letters", "MACDONALDSON", "MKTN", "MKTN"},
		{"no letters gives empty codes", "123", "", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char p[DM_CODE_MAX + 1], a[DM_CODE_MAX + 1];
		/* Twice each: the second answer comes from the memo. */
		for (int round = 0; round < 3; round++) {
			if (round < 2)
				double_metaphone(cases[i].word, strlen(cases[i].word), p, a);
			else
				double_metaphone_cold(cases[i].word, strlen(cases[i].word), p, a);
			if (strcmp(p, cases[i].primary) != 0 || strcmp(a, cases[i].alternate) != 0) {
				print_error("%s (%s): got %s/%s, want %s/%s\n", cases[i].name,
					    round == 0 ? "first call" : round == 1 ? "memo" : "cold",
					    p, a, cases[i].primary, cases[i].alternate);
				fail();
			}
		}
	}
}

/* A generated name-like token (fictitious: syllables, sometimes a space or
 * a stray letter), from a small linear congruential generator. */
static size_t made_up_token(uint32_t *seed, char *out, size_t cap)
{
	static const char *const syl[] = { "SCH", "MAC", "CH", "GH", "ACH", "ER", "AN", "WICZ", "SKI",
					   "TH", "PH", "OU", "CZ", "ILLO", "GN", "KN", "WR", "SUGAR",
					   "CAE", "JOSE", "VAN ", "ZH", "DG", "TION", "AGGI", "HEIM",
					   "X", "EAU", "MB", "CC", "IER", "SAN ", "O", "E", "A", "Y" };
	size_t n = 0, parts;

	*seed = *seed * 1103515245u + 12345u;
	parts = 1 + (*seed >> 16) % 6;
	while (parts-- > 0) {
		const char *s;
		*seed = *seed * 1103515245u + 12345u;
		s = syl[(*seed >> 16) % (sizeof(syl) / sizeof(syl[0]))];
		if ((*seed >> 8) % 5 == 0) {
			if (n + 1 < cap)
				out[n++] = (char)('a' + (*seed >> 24) % 26); /* lower case too */
			continue;
		}
		for (; *s != '\0' && n + 1 < cap; s++)
			out[n++] = *s;
	}
	out[n] = '\0';
	return n;
}

/* The memo must give what a cold call gives, for words seen before, words
 * that collided with others in its slots, and words too long to keep. */
static void test_double_metaphone_memo_matches_cold_calls(void **state)
{
	enum { TOKENS = 6000 };
	static char words[TOKENS][40];
	static size_t lens[TOKENS];
	uint32_t seed = 20261129;
	size_t hits_checked = 0;

	(void)state;
	for (size_t i = 0; i < TOKENS; i++)
		lens[i] = made_up_token(&seed, words[i], sizeof(words[i]));
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < TOKENS; i++) {
			/* Round 1 walks backwards, so slots are refilled in
			 * another order than round 0 left them. */
			size_t k = round == 1 ? TOKENS - 1 - i : i;
			char p[DM_CODE_MAX + 1], a[DM_CODE_MAX + 1];
			char cp[DM_CODE_MAX + 1], ca[DM_CODE_MAX + 1];

			double_metaphone(words[k], lens[k], p, a);
			double_metaphone_cold(words[k], lens[k], cp, ca);
			if (strcmp(p, cp) != 0 || strcmp(a, ca) != 0) {
				print_error("round %d, \"%s\": memo %s/%s, cold %s/%s\n", round,
					    words[k], p, a, cp, ca);
				fail();
			}
			/* And at once again, which is a hit for any word that fits. */
			double_metaphone(words[k], lens[k], p, a);
			assert_string_equal(p, cp);
			assert_string_equal(a, ca);
			hits_checked++;
		}
	}
	assert_int_equal(hits_checked, 3 * TOKENS);
}

static void test_soundex_reference_values(void **state)
{
	static const struct {
		const char *name, *word, *want;
	} cases[] = {
		{"H does not separate equal codes", "ASHCROFT", "A261"},
		{"vowel-separated equal codes both count", "TYMCZAK", "T522"},
		{"first letter's code is not repeated", "PFISTER", "P236"},
		{"short names are padded", "LEE", "L000"},
		{"lower case", "robert", "R163"},
		{"no letters", "", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[5];
		soundex(cases[i].word, strlen(cases[i].word), out);
		if (strcmp(out, cases[i].want) != 0) {
			print_error("%s: got '%s', want '%s'\n", cases[i].name, out, cases[i].want);
			fail();
		}
	}
}

static struct date D(int y, int m, int d)
{
	struct date x = {(uint16_t)y, (uint8_t)m, (uint8_t)d};
	return x;
}

static void test_dob_levels(void **state)
{
	static const struct {
		const char *name;
		struct date q, r;
		enum dob_level want;
	} cases[] = {
		{"same date is exact", {1970, 3, 12}, {1970, 3, 12}, DOB_EXACT},
		{"day and month swapped", {1970, 12, 3}, {1970, 3, 12}, DOB_DAY_MONTH_SWAPPED},
		{"one digit of the day slipped", {1970, 3, 13}, {1970, 3, 12}, DOB_ONE_DIGIT},
		{"one digit of the year slipped", {1971, 3, 12}, {1970, 3, 12}, DOB_ONE_DIGIT},
		{"two adjacent year digits transposed", {1987, 5, 1}, {1978, 5, 1}, DOB_ONE_DIGIT},
		{"year off by one across a decade", {1980, 3, 12}, {1979, 3, 12}, DOB_YEAR_OFF_BY_ONE},
		{"unrelated dates mismatch", {1955, 7, 28}, {1970, 3, 12}, DOB_MISMATCH},
		{"same year other day and month mismatch", {1970, 8, 25}, {1970, 3, 12}, DOB_MISMATCH},
		{"year, month and day all different mismatch", {1971, 4, 13}, {1970, 3, 12}, DOB_MISMATCH},
		{"year and month digits transposed across the boundary", {1981, 2, 5}, {1980, 12, 5}, DOB_ONE_DIGIT},
		{"one digit of the month slipped", {1970, 8, 12}, {1970, 3, 12}, DOB_ONE_DIGIT},
		{"the 1st of the same month: the month only", {1970, 3, 1}, {1970, 3, 24}, DOB_MONTH_ONLY},
		{"the record's date the 1st: the month only", {1970, 3, 24}, {1970, 3, 1}, DOB_MONTH_ONLY},
		{"1 January of the same year: the year only", {1970, 1, 1}, {1970, 8, 25}, DOB_YEAR_ONLY},
		{"the record's date 1 January: the year only", {1970, 8, 25}, {1970, 1, 1}, DOB_YEAR_ONLY},
		{"the 1st of another month mismatch", {1970, 4, 1}, {1970, 3, 24}, DOB_MISMATCH},
		{"1 January of another year mismatch", {1971, 1, 1}, {1970, 8, 25}, DOB_MISMATCH},
		{"absent query dob", {0, 0, 0}, {1970, 3, 12}, DOB_ABSENT},
		{"absent record dob", {1970, 3, 12}, {0, 0, 0}, DOB_ABSENT},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum dob_level got = compare_dob(&cases[i].q, &cases[i].r);
		if (got != cases[i].want) {
			print_error("%s: got level %d, want %d\n", cases[i].name, got, cases[i].want);
			fail();
		}
	}
}

static void test_age_on(void **state)
{
	struct date dob = D(1970, 3, 12), on;
	(void)state;
	on = D(2026, 3, 11);
	assert_int_equal(age_on(&dob, &on), 55); /* the day before the birthday */
	on = D(2026, 3, 12);
	assert_int_equal(age_on(&dob, &on), 56); /* on the birthday */
	on = D(1960, 1, 1);
	assert_int_equal(age_on(&dob, &on), -1); /* not born yet */
	dob = D(0, 0, 0);
	assert_int_equal(age_on(&dob, &on), -1); /* unknown */
}

static void test_postcode_levels(void **state)
{
	static const struct {
		const char *name, *a, *b;
		enum postcode_level want;
	} cases[] = {
		{"same postcode is full", "WR12AB", "WR12AB", POSTCODE_FULL},
		{"same sector", "WR12AB", "WR12XY", POSTCODE_SECTOR},
		{"same district, other sector", "WR12AB", "WR13AB", POSTCODE_DISTRICT},
		{"same area, other district", "WR12AB", "WR52AB", POSTCODE_AREA},
		{"one-letter area against two-letter area", "B12AB", "BS12AB", POSTCODE_DIFFERENT},
		{"one-letter areas agree", "B12AB", "B992XY", POSTCODE_AREA},
		{"district only against a full postcode", "WR1", "WR12AB", POSTCODE_DISTRICT},
		{"different area", "WR12AB", "SE179JN", POSTCODE_DIFFERENT},
		{"areas differ from the first letter", "WR12AB", "HR12AB", POSTCODE_DIFFERENT},
		{"first letters agree, areas differ", "WR12AB", "WA12AB", POSTCODE_DIFFERENT},
		{"absent", "", "WR12AB", POSTCODE_ABSENT},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum postcode_level got = compare_postcode(cases[i].a, cases[i].b);
		if (got != cases[i].want) {
			print_error("%s: got level %d, want %d\n", cases[i].name, got, cases[i].want);
			fail();
		}
	}
}

static void test_postcode_sector(void **state)
{
	char out[16];
	(void)state;
	assert_int_equal(postcode_sector("WR12AB", out), 4);
	assert_string_equal(out, "WR12");
	assert_int_equal(postcode_sector("SE179JN", out), 5);
	assert_string_equal(out, "SE179");
	assert_int_equal(postcode_sector("WR1", out), 0); /* no inward part, no sector */
}

/* Two postcodes at district level or better share their outward code: the
 * index tag rules records out on it. */
static void test_postcode_outward(void **state)
{
	static const char *const pairs[][2] = {
		{"WR12AB", "WR12AB"}, {"WR12AB", "WR12XY"}, {"WR12AB", "WR19ZZ"}, {"WR1", "WR12AB"},
		{"WR1", "WR1"},       {"SE179JN", "SE17"},  {"M145RT", "M14"},    {"XYZ", "XYZ"},
	};
	char out[16], o2[16];
	(void)state;
	assert_int_equal(postcode_outward("WR12AB", out), 3);
	assert_string_equal(out, "WR1");
	assert_int_equal(postcode_outward("SE179JN", out), 4);
	assert_string_equal(out, "SE17");
	assert_int_equal(postcode_outward("WR1", out), 3);
	assert_string_equal(out, "WR1");
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		enum postcode_level l = compare_postcode(pairs[i][0], pairs[i][1]);
		assert_true(l == POSTCODE_FULL || l == POSTCODE_SECTOR || l == POSTCODE_DISTRICT);
		postcode_outward(pairs[i][0], out);
		postcode_outward(pairs[i][1], o2);
		assert_string_equal(out, o2);
	}
	assert_int_equal(compare_postcode("WR12AB", "WR22AB"), POSTCODE_AREA);
	postcode_outward("WR22AB", o2);
	assert_string_not_equal(postcode_outward("WR12AB", out) ? out : "", o2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jaro_winkler_reference_values),
		cmocka_unit_test(test_jaro_winkler_edges),
		cmocka_unit_test(test_damerau_levenshtein),
		cmocka_unit_test(test_double_metaphone_reference_values),
		cmocka_unit_test(test_double_metaphone_memo_matches_cold_calls),
		cmocka_unit_test(test_soundex_reference_values),
		cmocka_unit_test(test_dob_levels),
		cmocka_unit_test(test_age_on),
		cmocka_unit_test(test_postcode_levels),
		cmocka_unit_test(test_postcode_sector),
		cmocka_unit_test(test_postcode_outward),
	};
	return cmocka_run_group_tests_name("compare", tests, NULL, NULL);
}
