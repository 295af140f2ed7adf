/*
 * test_compare.c - the matcher's comparators (lib/compare.c) against the
 * published reference values listed in the design notes (Jaro-Winkler
 * with p = 0.1, Double Metaphone primary/alternate, Soundex), plus the
 * date-of-birth and postcode comparison levels, each case named in words.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* Jaro as its definition states it, one position at a time: the
 * matching characters within the window, each position of b taken once,
 * the first free one, then half the matched pairs out of order. */
static double jaro_by_definition(const char *a, size_t alen, const char *b, size_t blen)
{
	bool am[COMPARE_STR_MAX] = {false}, bm[COMPARE_STR_MAX] = {false};
	size_t window, matches = 0, trans = 0, k = 0;

	alen = alen < COMPARE_STR_MAX ? alen : COMPARE_STR_MAX;
	blen = blen < COMPARE_STR_MAX ? blen : COMPARE_STR_MAX;
	if (alen == 0 && blen == 0)
		return 1.0;
	if (alen == 0 || blen == 0)
		return 0.0;
	window = (alen > blen ? alen : blen) / 2;
	window = window > 0 ? window - 1 : 0;
	for (size_t i = 0; i < alen; i++) {
		size_t lo = i > window ? i - window : 0, hi = i + window + 1 < blen ? i + window + 1 : blen;
		for (size_t j = lo; j < hi; j++)
			if (!bm[j] && a[i] == b[j]) {
				am[i] = bm[j] = true;
				matches++;
				break;
			}
	}
	if (matches == 0)
		return 0.0;
	for (size_t i = 0; i < alen; i++) {
		if (!am[i])
			continue;
		while (!bm[k])
			k++;
		trans += a[i] != b[k++];
	}
	double m = (double)matches;
	return (m / (double)alen + m / (double)blen + (m - (double)trans / 2.0) / m) / 3.0;
}

/* The comparator finds its matches with bit masks; on strings of every
 * length up to past the bound, from small alphabets (many repeated
 * letters, the hard case for "the first free position") and from every
 * byte value, it must give exactly what the definition gives. */
static void test_jaro_agrees_with_its_definition(void **state)
{
	uint64_t x = 20261201;
	char a[COMPARE_STR_MAX + 8], b[COMPARE_STR_MAX + 8];
	size_t compared = 0;

	(void)state;
	for (int round = 0; round < 200000; round++) {
		size_t alen, blen;
		unsigned alphabet;
		x = x * 6364136223846793005u + 1442695040888963407u;
		alen = (size_t)(x >> 33) % (COMPARE_STR_MAX + 5);
		blen = (size_t)(x >> 17) % (COMPARE_STR_MAX + 5);
		if (round % 4 != 0) { /* mostly names' lengths */
			alen %= 14;
			blen %= 14;
		}
		alphabet = round % 3 == 0 ? 2 : round % 3 == 1 ? 6 : 256;
		for (size_t i = 0; i < alen; i++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			a[i] = (char)(alphabet == 256 ? (x >> 40) & 0xff : 'a' + (x >> 40) % alphabet);
		}
		for (size_t i = 0; i < blen; i++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			b[i] = (char)(alphabet == 256 ? (x >> 40) & 0xff : 'a' + (x >> 40) % alphabet);
		}
		double got = jaro(a, alen, b, blen), want = jaro_by_definition(a, alen, b, blen);
		if (got != want) {
			print_error("round %d: lengths %zu and %zu: jaro %.17g, by definition %.17g\n", round, alen,
				    blen, got, want);
			fail();
		}
		compared++;
	}
	assert_int_equal(compared, 200000);
}

/* jaro_winkler_floor() tells most unlike pairs apart from the letters
 * they share; for the thresholds the scorer uses, and for thresholds
 * just at a pair's own value, it must give the full value whenever that
 * reaches the floor, and something below the floor otherwise.  Pairs of
 * names' lengths from small alphabets (many reach the floor) and from
 * the whole alphabet (most are told apart early): both ways must be
 * taken often, or the test proves nothing. */
static void test_jaro_winkler_floor_agrees_with_the_full_value(void **state)
{
	uint64_t x = 20261202;
	char a[COMPARE_STR_MAX + 8], b[COMPARE_STR_MAX + 8];
	size_t reached = 0, told_apart = 0;

	(void)state;
	for (int round = 0; round < 300000; round++) {
		size_t alen, blen;
		unsigned alphabet = round % 3 == 0 ? 3 : round % 3 == 1 ? 8 : 26;
		x = x * 6364136223846793005u + 1442695040888963407u;
		alen = (size_t)(x >> 33) % (round % 10 == 0 ? COMPARE_STR_MAX + 5 : 13);
		blen = (size_t)(x >> 17) % (round % 10 == 0 ? COMPARE_STR_MAX + 5 : 13);
		for (size_t i = 0; i < alen; i++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			a[i] = (char)('a' + (x >> 40) % alphabet);
		}
		/* b: a's letters with a few changed, or letters of its own */
		for (size_t i = 0; i < blen; i++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			b[i] = i < alen && (x >> 20) % 4 != 0 ? a[i] : (char)('a' + (x >> 40) % alphabet);
		}
		double full = jaro_winkler(a, alen, b, blen);
		const double floors[] = {0.85, 0.92, full, full - 1e-12, full + 1e-12};
		for (size_t f = 0; f < sizeof(floors) / sizeof(floors[0]); f++) {
			double got = jaro_winkler_floor(a, alen, b, blen, floors[f]);
			if (full >= floors[f] ? got != full : got >= floors[f]) {
				print_error("round %d: '%.*s' and '%.*s', floor %.17g: %.17g, jaro_winkler %.17g\n", round,
					    (int)alen, a, (int)blen, b, floors[f], got, full);
				fail();
			}
			if (f < 2 && full >= floors[f])
				reached++;
			else if (f < 2 && got == 0.0 && full > 0.0)
				told_apart++;
		}
	}
	assert_true(reached > 10000);
	assert_true(told_apart > 100000);
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
		/* A W, a K or a CZ anywhere makes a word Slavic or Germanic,
		 * which changes how an R at the end and a Z are read. */
		{"French R at the end", "ROGIER", "RJ", "RJR"},
		{"...not when a K makes it Germanic", "ROGIERK", "RJRK", "RKRK"},
		{"...nor a CZ", "ROGIERCZ", "RJRS", "RKRX"},
		{"Z of a Slavic word", "KOZARA", "KSR", "KTSR"},
		{"Z of another", "ZOLA", "SL", "SL"},
		{"WITZ", "GOWITZ", "KTS", "KFX"},
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

/* The primary code alone (what the sounds of a name's misspellings are
 * looked up by) is the primary code of the full computation, for the
 * reference words and made-up ones, and for every spelling one letter
 * put in or replaced away from each. */
static void test_double_metaphone_primary_matches_cold_calls(void **state)
{
	enum { TOKENS = 1500 };
	uint32_t seed = 20261202;
	size_t checked = 0;

	(void)state;
	for (size_t i = 0; i < TOKENS; i++) {
		char w[40], v[42];
		size_t n = made_up_token(&seed, w, sizeof(w));

		if (i == 0)
			n = (size_t)snprintf(w, sizeof(w), "%s", "ROGIER");
		for (size_t at = 0; at <= n; at++) {
			for (int kind = 0; kind < 3; kind++) {
				for (char ch = 'A'; ch <= 'Z'; ch++) {
					char p[DM_CODE_MAX + 1], a[DM_CODE_MAX + 1], q[DM_CODE_MAX + 1];
					size_t vl = n;

					memcpy(v, w, n);
					if (kind == 0) { /* the word itself, once */
						if (at > 0 || ch > 'A')
							continue;
					} else if (kind == 1) { /* ch put in at `at` */
						memcpy(v + at + 1, w + at, n - at);
						v[at] = ch;
						vl = n + 1;
					} else if (at < n) { /* the letter at `at` replaced */
						v[at] = ch;
					} else {
						continue;
					}
					double_metaphone_cold(v, vl, p, a);
					double_metaphone_primary(v, vl, q);
					if (strcmp(p, q) != 0) {
						print_error("\"%.*s\": primary alone %s, full %s/%s\n", (int)vl, v, q, p, a);
						fail();
					}
					checked++;
				}
			}
		}
	}
	assert_true(checked > 100000);
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
		{"one digit of the year slipped", {1976, 3, 12}, {1970, 3, 12}, DOB_ONE_DIGIT},
		{"the year one out by its last digit: a year off by one", {1971, 3, 12}, {1970, 3, 12},
		 DOB_YEAR_OFF_BY_ONE},
		{"two adjacent year digits transposed", {1987, 5, 1}, {1978, 5, 1}, DOB_ONE_DIGIT},
		{"year off by one across a decade", {1980, 3, 12}, {1979, 3, 12}, DOB_YEAR_OFF_BY_ONE},
		{"the birthday two years apart across a decade", {1981, 3, 12}, {1979, 3, 12}, DOB_YEAR_OFF_BY_TWO},
		{"two years apart, one digit: a one-digit slip", {1972, 3, 12}, {1970, 3, 12}, DOB_ONE_DIGIT},
		{"the birthday three years apart across a decade", {1982, 3, 12}, {1979, 3, 12}, DOB_SAME_BIRTHDAY},
		{"the birthday five years apart", {2000, 6, 19}, {1995, 6, 19}, DOB_SAME_BIRTHDAY},
		{"the birthday eight years apart (a year lied about)", {1983, 6, 19}, {1975, 6, 19}, DOB_SAME_BIRTHDAY},
		{"the birthday ten years apart", {2001, 6, 19}, {1991, 6, 19}, DOB_SAME_BIRTHDAY},
		{"the birthday eleven years apart: no level", {2006, 6, 19}, {1995, 6, 19}, DOB_MISMATCH},
		{"two years apart, another day", {1981, 3, 13}, {1979, 3, 12}, DOB_MISMATCH},
		{"unrelated dates mismatch", {1955, 7, 28}, {1970, 3, 12}, DOB_MISMATCH},
		{"same year, other day and month: same year", {1970, 8, 25}, {1970, 3, 12}, DOB_SAME_YEAR},
		{"year, month and day all different mismatch", {1971, 4, 13}, {1970, 3, 12}, DOB_MISMATCH},
		{"year and month digits transposed across the boundary", {1981, 2, 5}, {1980, 12, 5}, DOB_ONE_DIGIT},
		{"one digit of the month slipped", {1970, 8, 12}, {1970, 3, 12}, DOB_ONE_DIGIT},
		{"the 1st of the same month: the month only", {1970, 3, 1}, {1970, 3, 24}, DOB_MONTH_ONLY},
		{"the record's date the 1st: the month only", {1970, 3, 24}, {1970, 3, 1}, DOB_MONTH_ONLY},
		{"1 January of the same year: the year only", {1970, 1, 1}, {1970, 8, 25}, DOB_YEAR_ONLY},
		{"the record's date 1 January: the year only", {1970, 8, 25}, {1970, 1, 1}, DOB_YEAR_ONLY},
		{"the 1st of the next month, a week later: weeks apart", {1970, 4, 1}, {1970, 3, 24}, DOB_WEEKS},
		{"the 1st of a month months later: same year", {1970, 7, 1}, {1970, 3, 24}, DOB_SAME_YEAR},
		{"1 January of another year mismatch", {1971, 1, 1}, {1970, 8, 25}, DOB_MISMATCH},
		{"a day apart across a ten (09 and 10): near", {1986, 3, 10}, {1986, 3, 9}, DOB_NEAR},
		{"a day apart across a month's end: near", {1986, 4, 1}, {1986, 3, 31}, DOB_NEAR},
		{"a day apart across a year's end: near", {1985, 12, 31}, {1986, 1, 1}, DOB_NEAR},
		{"29 February written as 1 March: near", {2000, 3, 1}, {2000, 2, 29}, DOB_NEAR},
		{"three days apart: near", {1986, 3, 17}, {1986, 3, 20}, DOB_NEAR},
		{"four days apart: weeks apart", {1986, 3, 16}, {1986, 3, 20}, DOB_WEEKS},
		{"a month and a week apart: weeks apart", {1992, 1, 8}, {1992, 2, 15}, DOB_WEEKS},
		{"45 days apart: weeks apart", {1992, 1, 2}, {1992, 2, 16}, DOB_WEEKS},
		{"46 days apart: same year", {1992, 1, 2}, {1992, 2, 17}, DOB_SAME_YEAR},
		{"40 days apart across a year's end: weeks apart", {1970, 2, 3}, {1969, 12, 25}, DOB_WEEKS},
		{"the same day a month apart across a year's end: weeks apart", {1969, 12, 5}, {1970, 1, 5},
		 DOB_WEEKS},
		{"50 days apart across a year's end mismatch", {1970, 2, 3}, {1969, 12, 15}, DOB_MISMATCH},
		{"weeks apart but two years mismatch", {1971, 1, 10}, {1969, 12, 25}, DOB_MISMATCH},
		{"a day apart but one digit: one digit first", {1986, 3, 8}, {1986, 3, 9}, DOB_ONE_DIGIT},
		{"a year and a day apart mismatch", {1984, 12, 31}, {1986, 1, 1}, DOB_MISMATCH},
		{"the year one out and a day: the year and a slip", {1982, 7, 28}, {1981, 7, 29}, DOB_YEAR_AND_SLIP},
		{"the year one out and day and month swapped", {1981, 3, 7}, {1982, 7, 3}, DOB_YEAR_AND_SLIP},
		{"the year one out and one digit of the month", {1982, 8, 3}, {1981, 3, 3}, DOB_YEAR_AND_SLIP},
		{"the year one out and two digits of the day", {1982, 7, 28}, {1981, 7, 13}, DOB_MISMATCH},
		{"the year one out and two weeks mismatch", {1982, 7, 14}, {1981, 7, 28}, DOB_MISMATCH},
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

/* The levels by their definitions, digit by digit, without compare_dob's
 * shortcuts: the oracle of the next test. */
static enum dob_level dob_level_by_definition(const struct date *q, const struct date *r)
{
	char a[16], b[16];
	int diff = 0, first = -1, second = -1;

	if (q->year == 0 || r->year == 0)
		return DOB_ABSENT;
	if (q->year == r->year && q->month == r->month && q->day == r->day)
		return DOB_EXACT;
	if (q->year == r->year && q->month == r->day && q->day == r->month)
		return DOB_DAY_MONTH_SWAPPED;
	snprintf(a, sizeof(a), "%04u%02u%02u", (unsigned)q->year, (unsigned)q->month, (unsigned)q->day);
	snprintf(b, sizeof(b), "%04u%02u%02u", (unsigned)r->year, (unsigned)r->month, (unsigned)r->day);
	if (q->month == r->month && q->day == r->day && abs((int)q->year - (int)r->year) == 1)
		return DOB_YEAR_OFF_BY_ONE;
	for (int i = 0; i < 8; i++)
		if (a[i] != b[i]) {
			second = diff == 1 ? i : second;
			first = diff == 0 ? i : first;
			diff++;
		}
	if (diff == 1 || (diff == 2 && second == first + 1 && a[first] == b[second] && a[second] == b[first]))
		return DOB_ONE_DIGIT;
	if (q->month == r->month && q->day == r->day && abs((int)q->year - (int)r->year) == 2)
		return DOB_YEAR_OFF_BY_TWO;
	if (q->month == r->month && q->day == r->day && abs((int)q->year - (int)r->year) >= 3 &&
	    abs((int)q->year - (int)r->year) <= 10)
		return DOB_SAME_BIRTHDAY;
	if (q->year == r->year && q->month == r->month && (q->day == 1 || r->day == 1))
		return DOB_MONTH_ONLY;
	if (q->year == r->year && ((q->month == 1 && q->day == 1) || (r->month == 1 && r->day == 1)))
		return DOB_YEAR_ONLY;
	{
		/* near: 1-3 days apart, by the C library's calendar */
		struct tm tq = {.tm_year = q->year - 1900, .tm_mon = q->month - 1, .tm_mday = q->day};
		struct tm tr = {.tm_year = r->year - 1900, .tm_mon = r->month - 1, .tm_mday = r->day};
		long long days = llabs((long long)(timegm(&tq) - timegm(&tr))) / 86400;
		if (days >= 1 && days <= 3)
			return DOB_NEAR;
		if (days >= 4 && days <= 45)
			return DOB_WEEKS;
	}
	if (q->year == r->year)
		return DOB_SAME_YEAR;
	if (abs((int)q->year - (int)r->year) == 1) {
		struct date q2 = *q;
		enum dob_level l;
		q2.year = r->year;
		l = dob_level_by_definition(&q2, r);
		if (l == DOB_DAY_MONTH_SWAPPED || l == DOB_ONE_DIGIT || l == DOB_NEAR)
			return DOB_YEAR_AND_SLIP;
	}
	return DOB_MISMATCH;
}

static int days_in(int year, int month)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return month == 2 && leap ? 29 : mdays[month - 1];
}

/* compare_dob rules most pairs out early (another year and another day);
 * every date of the years around each subject's, and of every year one
 * digit away, must get the level its definition gives. */
static void test_dob_levels_match_their_definition(void **state)
{
	static const struct date subjects[] = {
	    {1970, 3, 12}, {1970, 12, 3}, {1981, 2, 5}, {1980, 12, 5}, {1987, 5, 1},  {1970, 1, 1},
	    {1999, 12, 31}, {2000, 2, 29}, {1955, 7, 28}, {1964, 11, 11}, {1901, 10, 10}, {2009, 9, 9},
	    {1990, 1, 10},  {1990, 10, 1}, {1973, 6, 30}, {1948, 4, 1},  {2011, 11, 21}, {1969, 1, 31},
	};
	size_t compared = 0, seen[DOB_MISMATCH + 1] = {0};
	(void)state;
	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		const struct date *q = &subjects[i];
		int years[64], ny = 0;
		for (int y = q->year - 12; y <= q->year + 12; y++)
			years[ny++] = y;
		for (int pos = 1; pos <= 1000; pos *= 10)
			for (int digit = 0; digit <= 9; digit++) {
				int y = q->year - (q->year / pos % 10) * pos + digit * pos;
				if (y >= 1 && abs(y - q->year) > 12)
					years[ny++] = y;
			}
		for (int k = 0; k < ny; k++)
			for (int m = 1; m <= 12; m++)
				for (int d = 1; d <= days_in(years[k], m); d++) {
					struct date r = {(uint16_t)years[k], (uint8_t)m, (uint8_t)d};
					enum dob_level want = dob_level_by_definition(q, &r), got = compare_dob(q, &r);
					if (got != want) {
						print_error("%04d-%02d-%02d against %04d-%02d-%02d: level %d, by definition %d\n",
							    q->year, q->month, q->day, r.year, r.month, r.day, got, want);
						fail();
					}
					compared++;
					seen[want]++;
				}
	}
	/* Not a vacuous walk: every level but "absent" was met several times,
	 * a slipped digit about forty times a subject. */
	assert_true(compared > 300000);
	for (int l = DOB_EXACT; l < DOB_MISMATCH; l++)
		if (seen[l] < 5 || (l == DOB_ONE_DIGIT && seen[l] < 20 * sizeof(subjects) / sizeof(subjects[0]))) {
			print_error("level %d met only %zu times\n", l, seen[l]);
			fail();
		}
	assert_true(seen[DOB_MISMATCH] > 300000);
}

/* age_window gives what computing each age gives: every day of 130 years
 * against ages at both edges of each tolerance, on days around year ends,
 * month ends and a leap day. */
static void test_age_window_matches_age_on(void **state)
{
	static const struct date days[] = {{2026, 11, 29}, {2026, 1, 1}, {2026, 12, 31},
					   {2028, 2, 29}, {2027, 2, 28}, {2027, 3, 1}};
	static const int ages[] = {-1, 0, 1, 2, 3, 4, 5, 17, 18, 40, 99, 120, 200};
	static const int tols[] = {1, 3, 5};
	size_t inside = 0, outside = 0;
	(void)state;
	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++)
		for (size_t a = 0; a < sizeof(ages) / sizeof(ages[0]); a++)
			for (size_t t = 0; t < sizeof(tols) / sizeof(tols[0]); t++) {
				struct age_window w;
				age_window_init(&w, ages[a], tols[t], &days[i]);
				for (int y = days[i].year - 130; y <= days[i].year + 1; y++)
					for (int m = 1; m <= 12; m++)
						for (int d = 1; d <= days_in(y, m); d++) {
							struct date dob = {(uint16_t)y, (uint8_t)m, (uint8_t)d};
							int age = age_on(&dob, &days[i]);
							bool want = age >= 0 && abs(age - ages[a]) <= tols[t];
							if (age_window_has(&w, &dob) != want) {
								print_error("born %04d-%02d-%02d, on %04d-%02d-%02d, age %d +- %d: "
									    "window says %d, age_on %d\n",
									    y, m, d, days[i].year, days[i].month, days[i].day,
									    ages[a], tols[t], !want, age);
								fail();
							}
							inside += want;
							outside += !want;
						}
				struct date none = {0, 0, 0};
				assert_false(age_window_has(&w, &none));
			}
	assert_true(inside > 100000);
	assert_true(outside > 1000000);
}

/*
 * Names as ICU romanises them from Arabic script (no short vowels, long
 * ones as a, w, y, the ending ة as t) against Latin spellings a clerk
 * writes: the same consonants.  And names that differ in a consonant,
 * which must stay apart.
 */
static void test_consonant_skeleton(void **state)
{
	static const struct {
		const char *romanised, *latin[4];
	} same[] = {
		{"mhmd", {"Mohammed", "muhammad", "Mohamed", "MOHAMMAD"}},
		{"hsn", {"Hassan", "hasan", "Hasan", NULL}},
		{"ywsf", {"Youssef", "Yusuf", "yousef", NULL}},
		{"fatmt", {"Fatima", "Fatma", "Fatimah", NULL}},
		{"aysht", {"Aisha", "Ayesha", NULL, NULL}},
		{"hdad", {"Haddad", NULL, NULL, NULL}},
		{"bdallh", {"Abdullah", "Abdalla", NULL, NULL}},
		{"khlyl", {"Khalil", "Khaleel", NULL, NULL}},
		{"nasr", {"Nasser", "Nasir", NULL, NULL}},
		{"mr", {"Omar", "Umar", NULL, NULL}},
		{"jmal", {"Gamal", "Jamal", NULL, NULL}},
		{"qasm", {"Kasim", "Qasim", NULL, NULL}},
		{"abrahym", {"Ibrahim", NULL, NULL, NULL}},
		{"wlyd", {"Walid", "Waleed", NULL, NULL}},
		{"shr", {"Sahar", NULL, NULL, NULL}},
		{"ghsan", {"Ghassan", NULL, NULL, NULL}},
		{"tlht", {"Talha", "Talhah", NULL, NULL}},
		{"jawyd", {"Javed", "Jawed", "Javaid", NULL}},
		{"prwyn", {"Parveen", "Parvin", "Perween", NULL}},
		{"nwyd", {"Navid", "Naveed", NULL, NULL}},
		/* dh is d: the d of ض written dh, and Urdu's h before the d. */
		{"rmdan", {"Ramadan", "Ramadhan", "Ramdan", NULL}},
		{"chwhdry", {"Chaudhry", "Chaudhary", "Choudhury", "Chowdhury"}},
		/* Urdu's reading of ض, ذ and ث (urdu_reading, lib/match.c). */
		{"ryaz", {"Riaz", "Riyaz", NULL, NULL}},
		{"sman", {"Usman", "Osman", NULL, NULL}},
	};
	static const char *const differ[][2] = {
		{"khlyl", "Khalid"}, {"hsn", "Hamza"}, {"hdad", "Hamdan"}, {"mhmd", "Ahmed"},
		{"nasr", "Nasrallah"}, {"ywsf", "Yunus"}, {"shryf", "Sharma"},
		{"khald", "Khalaf"},
		{"rmdan", "Ramzan"}, {"ryad", "Riaz"},
	};
	char a[40], b[40];

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		size_t n = consonant_skeleton(same[i].romanised, strlen(same[i].romanised), a, sizeof(a));
		assert_true(n > 0);
		assert_int_equal(n, strlen(a));
		for (size_t j = 0; j < 4 && same[i].latin[j] != NULL; j++) {
			consonant_skeleton(same[i].latin[j], strlen(same[i].latin[j]), b, sizeof(b));
			if (strcmp(a, b) != 0) {
				print_error("%s (%s) and %s (%s) should agree\n", same[i].romanised, a, same[i].latin[j], b);
				fail();
			}
		}
	}
	for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
		consonant_skeleton(differ[i][0], strlen(differ[i][0]), a, sizeof(a));
		consonant_skeleton(differ[i][1], strlen(differ[i][1]), b, sizeof(b));
		if (strcmp(a, b) == 0) {
			print_error("%s and %s should differ (both %s)\n", differ[i][0], differ[i][1], a);
			fail();
		}
	}
	/* A doubled letter is one; a t and an h side by side stay two
	 * letters, as a vowel between them leaves them (الطحان, althan). */
	consonant_skeleton("althan", 6, a, sizeof(a));
	consonant_skeleton("Al-Tahhan", 9, b, sizeof(b));
	assert_string_equal(a, "lthn");
	assert_string_equal(b, "lthn");
	consonant_skeleton("aisha", 5, a, sizeof(a));
	assert_string_equal(a, "sh"); /* a final h only after two letters more */
	/* Within cap, always terminated; nothing for no letters. */
	assert_int_equal(consonant_skeleton("mohammed", 8, a, 4), 3);
	assert_string_equal(a, "mhm");
	assert_int_equal(consonant_skeleton("mohammed", 8, a, 0), 0);
	assert_int_equal(consonant_skeleton("aeiou", 5, a, sizeof(a)), 0);
	assert_string_equal(a, "");
	assert_int_equal(consonant_skeleton("", 0, a, sizeof(a)), 0);
	/* Bytes beyond ASCII are skipped, not read as letters. */
	consonant_skeleton("m\xc3\xbcller", 7, a, sizeof(a));
	assert_string_equal(a, "mlr");
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
		cmocka_unit_test(test_jaro_agrees_with_its_definition),
		cmocka_unit_test(test_jaro_winkler_floor_agrees_with_the_full_value),
		cmocka_unit_test(test_damerau_levenshtein),
		cmocka_unit_test(test_double_metaphone_reference_values),
		cmocka_unit_test(test_double_metaphone_memo_matches_cold_calls),
		cmocka_unit_test(test_double_metaphone_primary_matches_cold_calls),
		cmocka_unit_test(test_soundex_reference_values),
		cmocka_unit_test(test_dob_levels),
		cmocka_unit_test(test_dob_levels_match_their_definition),
		cmocka_unit_test(test_age_on),
		cmocka_unit_test(test_age_window_matches_age_on),
		cmocka_unit_test(test_consonant_skeleton),
		cmocka_unit_test(test_postcode_levels),
		cmocka_unit_test(test_postcode_sector),
		cmocka_unit_test(test_postcode_outward),
	};
	return cmocka_run_group_tests_name("compare", tests, NULL, NULL);
}
