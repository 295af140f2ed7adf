/*
 * test_normalize.c - names to comparable tokens (lib/normalize.c): a
 * table of names as people type them, each with the tokens the matcher
 * must see, for the ASCII fast path and the ICU path (accents, other
 * scripts, compatibility forms), and the bounds on hostile input.
 * All names are invented or common given/family names, no real people.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../lib/normalize.h"

struct norm_case {
	const char *name;
	const char *text;
	enum norm_part_kind kind;
	const char *want; /* tokens joined by single spaces */
	int transliterated; /* -1: do not check */
};

static const struct norm_case cases[] = {
	{"plain name is lower-cased", "Smith", NORM_FAMILY, "smith", 0},
	{"surrounding spaces are dropped", "  Smith  ", NORM_FAMILY, "smith", 0},
	{"hyphenated surname gives two tokens", "Smith-Jones", NORM_FAMILY, "smith jones", 0},
	{"double-barrelled with a space gives two tokens", "Smyth Evans", NORM_FAMILY, "smyth evans", 0},
	{"apostrophe joins O'Brien", "O'Brien", NORM_FAMILY, "obrien", 0},
	{"detached O joins the next token", "O Brien", NORM_FAMILY, "obrien", 0},
	{"Mc becomes Mac", "McDonald", NORM_FAMILY, "macdonald", 0},
	{"MacDonald stays Mac", "MacDonald", NORM_FAMILY, "macdonald", 0},
	{"detached Mac joins the next token", "Mac Donald", NORM_FAMILY, "macdonald", 0},
	{"detached Mc joins and becomes Mac", "Mc Donald", NORM_FAMILY, "macdonald", 0},
	{"Saint before a family name is written St", "Saint John", NORM_FAMILY, "st john", 0},
	{"St. with its stop is St", "St. Clair", NORM_FAMILY, "st clair", 0},
	{"Saint alone stays a name", "Saint", NORM_FAMILY, "saint", 0},
	{"a given name Saint is left alone", "Saint John", NORM_GIVEN, "saint john", 0},
	{"Mc with a hyphenated second part", "McLeod-Cameron", NORM_FAMILY, "macleod cameron", 0},
	{"M' is the short form of Mac", "M'Donald", NORM_FAMILY, "macdonald", 0},
	{"M' with a typographic apostrophe", "M\xe2\x80\x99Kenzie", NORM_FAMILY, "mackenzie", 0},
	{"an M' given name is left alone", "M'Kai", NORM_GIVEN, "mkai", 0},
	{"M'B is not Mac (M'Baye is Mbaye)", "M'Baye", NORM_FAMILY, "mbaye", 0},
	{"a given name is not treated as Mc", "Mcebisi", NORM_GIVEN, "mcebisi", 0},
	{"initials with dots are tokens", "J.P.", NORM_GIVEN, "j p", 0},
	{"a title before the given name is dropped", "Mr John", NORM_GIVEN, "john", 0},
	{"a title alone is kept (it may be a name)", "Ms", NORM_GIVEN, "ms", 0},
	{"a title before a family name is dropped", "Mrs. O'Neill", NORM_FAMILY, "oneill", 0},
	{"a generation after a family name is dropped", "Thompson Jr.", NORM_FAMILY, "thompson", 0},
	{"Jnr, Snr and roman numerals too", "Thompson-Jnr", NORM_FAMILY, "thompson", 0},
	{"a numeral after a given name", "Marlon III", NORM_GIVEN, "marlon", 0},
	{"Junior after a family name", "Thompson Junior", NORM_FAMILY, "thompson", 0},
	{"Junior after a given name is a name", "Marlon Junior", NORM_GIVEN, "marlon junior", 0},
	{"a family name that is a suffix alone is kept", "Senior", NORM_FAMILY, "senior", 0},
	{"a Mac name is no generation", "Mac Iv", NORM_FAMILY, "maciv", 0},
	{"digits and symbols separate tokens", "Anne2Marie!", NORM_GIVEN, "anne marie", 0},
	/* A digit misread or typed for the letter it looks like. */
	{"a zero inside a name is an o", "Th0mpson", NORM_FAMILY, "thompson", 0},
	{"a one inside a name is an i", "Dav1d", NORM_GIVEN, "david", 0},
	{"a one for an l is one letter out", "Mar1on", NORM_GIVEN, "marion", 0},
	{"a one starting a name is an I", "1an", NORM_GIVEN, "ian", 0},
	{"a five starting a name is an s", "5mith", NORM_FAMILY, "smith", 0},
	{"an eight starting a name is a B and a nine a g", "8ri9gs", NORM_FAMILY, "briggs", 0},
	{"digits standing for letters in a row", "J00NES", NORM_FAMILY, "joones", 0},
	{"a long run of digits before a letter, cut as a long word is", "111111111111111111111111111111a", NORM_FAMILY,
	 "iiiiiiiiiiiiiiiiiiiiiiii", 0},
	{"a run ended by a 2 stands for no letters", "112a", NORM_FAMILY, "a", 0},
	{"a digit after a name is no letter", "Smith1", NORM_FAMILY, "smith", 0},
	{"a number beside a name is no letter", "Smith 25", NORM_FAMILY, "smith", 0},
	{"a full-width zero inside a name (NFKC)", "Th\xef\xbc\x90mpson", NORM_FAMILY, "thompson", 0},
	{"acute accent is removed", "Jos\xc3\xa9", NORM_GIVEN, "jose", 0},
	{"Polish L with stroke", "\xc5\x81ukasz", NORM_GIVEN, "lukasz", 0},
	{"umlaut is removed", "M\xc3\xbcller", NORM_FAMILY, "muller", 0},
	{"sharp s becomes ss", "Stra\xc3\x9f" "er", NORM_FAMILY, "strasser", 0},
	{"Turkish dotless i", "Y\xc4\xb1lmaz", NORM_FAMILY, "yilmaz", 0},
	{"Vietnamese stacked marks", "Nguy\xe1\xbb\x85n", NORM_FAMILY, "nguyen", 0},
	{"full-width Latin (NFKC)", "\xef\xbc\xb3\xef\xbd\x8d\xef\xbd\x89\xef\xbd\x94\xef\xbd\x88", NORM_FAMILY,
	 "smith", 0},
	/* Invisible format characters, as text pasted from a web page or a
	 * PDF carries them: no letter, no split (Default_Ignorable_Code_Point). */
	{"a soft hyphen inside a name is dropped", "Marl\xc2\xad" "on", NORM_GIVEN, "marlon", 0},
	{"a zero-width space inside a name is dropped", "Mar\xe2\x80\x8b" "lon", NORM_GIVEN, "marlon", 0},
	{"a zero-width non-joiner is dropped", "Thomp\xe2\x80\x8cson", NORM_FAMILY, "thompson", 0},
	{"a word joiner is dropped", "Thom\xe2\x81\xa0pson", NORM_FAMILY, "thompson", 0},
	{"a byte-order mark inside is dropped", "Thomp\xef\xbb\xbfson", NORM_FAMILY, "thompson", 0},
	{"a right-to-left mark inside an Arabic name is dropped", "\xd8\xae\xd8\xa7\xe2\x80\x8f\xd9\x86", NORM_FAMILY, "khan", 1},
	{"a zero-width joiner inside Devanagari is dropped (Sharma)", "\xe0\xa4\xb6\xe0\xa4\xb0\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xae\xe0\xa4\xbe", NORM_FAMILY, "sharma", 1},
	{"a no-break space still separates words", "Anne\xc2\xa0Marie", NORM_GIVEN, "anne marie", 0},
	{"typographic apostrophe joins", "O\xe2\x80\x99" "Brien", NORM_FAMILY, "obrien", 0},
	{"Cyrillic Ivan (BGN)", "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd", NORM_GIVEN, "ivan", 1},
	{"Cyrillic sh and kh keep their h", "\xd0\xa8\xd0\xb0\xd1\x85", NORM_FAMILY, "shakh", 1},
	{"Cyrillic dzh is an English j", "\xd0\x94\xd0\xb6\xd0\xbe\xd0\xbd\xd1\x81", NORM_FAMILY, "jons", 1},
	{"Greek", "\xce\x93\xce\xb9\xcf\x8e\xcf\x81\xce\xb3\xce\xbf\xcf\x82", NORM_GIVEN, "giorgos", 1},
	{"Arabic", "\xd8\xae\xd8\xa7\xd9\x86", NORM_FAMILY, "khan", 1},
	{"Urdu: the h of its own script (Shahid)", "\xd8\xb4\xd8\xa7\xdb\x81\xd8\xaf", NORM_GIVEN, "shahd", 1},
	{"Urdu: the aspirate and the retroflex t (Bhatti)", "\xd8\xa8\xda\xbe\xd9\xb9\xdb\x8c", NORM_FAMILY, "bhty", 1},
	{"Urdu: the retroflex d (Dar)", "\xda\x88\xd8\xa7\xd8\xb1", NORM_FAMILY, "dar", 1},
	{"Urdu: the retroflex r", "\xd8\xa8\xd8\xa7\xda\x91\xd8\xa7", NORM_FAMILY, "bara", 1},
	{"Urdu: the nasal n (Khan as Urdu once wrote it)", "\xd8\xae\xd8\xa7\xda\xba", NORM_FAMILY, "khan", 1},
	{"Urdu: the final h of a woman's name (Shabana)", "\xd8\xb4\xd8\xa8\xd8\xa7\xd9\x86\xdb\x81", NORM_GIVEN, "shbanh", 1},
	{"Urdu: the yeh at a word's end", "\xd8\xa8\xdb\x92", NORM_FAMILY, "by", 1},
	{"Urdu: its own ta marbuta (Fatima)", "\xd9\x81\xd8\xa7\xd8\xb7\xd9\x85\xdb\x83", NORM_GIVEN, "fatmt", 1},
	{"Arabic: ayn inside a name is no split (Saeed)", "\xd8\xb3\xd8\xb9\xdb\x8c\xd8\xaf", NORM_GIVEN, "syd", 1},
	{"Arabic: ayn inside a name is no split (Jafar)", "\xd8\xac\xd8\xb9\xd9\x81\xd8\xb1", NORM_GIVEN, "jfr", 1},
	{"a scholar's ayn and hamza join as apostrophes do", "\x53\x61\xca\xbf\x69\x64\x20\x4d\x61\xca\xbe\x6d\x75\x6e", NORM_GIVEN, "said mamun", 0},
	{"Han gives pinyin syllables", "\xe5\xbc\xa0\xe4\xbc\x9f", NORM_GIVEN, "zhang wei", 1},
	{"Devanagari: the last inherent a unsaid, its sh written so (Rajesh Patel)", "\xe0\xa4\xb0\xe0\xa4\xbe\xe0\xa4\x9c\xe0\xa5\x87\xe0\xa4\xb6 \xe0\xa4\xaa\xe0\xa4\x9f\xe0\xa5\x87\xe0\xa4\xb2", NORM_GIVEN, "rajesh patel", 1},
	{"Devanagari: a after a cluster stays (Narendra)", "\xe0\xa4\xa8\xe0\xa4\xb0\xe0\xa5\x87\xe0\xa4\x82\xe0\xa4\xa6\xe0\xa5\x8d\xe0\xa4\xb0", NORM_GIVEN, "narendra", 1},
	{"Devanagari: the a inside unsaid, the one before a long vowel first (Amarjit)", "\xe0\xa4\x85\xe0\xa4\xae\xe0\xa4\xb0\xe0\xa4\x9c\xe0\xa5\x80\xe0\xa4\xa4", NORM_GIVEN, "amarjit", 1},
	{"Devanagari: Mohanlal, not Mohnlal", "\xe0\xa4\xae\xe0\xa5\x8b\xe0\xa4\xb9\xe0\xa4\xa8\xe0\xa4\xb2\xe0\xa4\xbe\xe0\xa4\xb2", NORM_GIVEN, "mohanlal", 1},
	{"Devanagari: a long final vowel stays (Sharma)", "\xe0\xa4\xb6\xe0\xa4\xb0\xe0\xa5\x8d\xe0\xa4\xae\xe0\xa4\xbe", NORM_FAMILY, "sharma", 1},
	{"Devanagari: anusvara before h is the ng of Singh", "\xe0\xa4\xb8\xe0\xa4\xbf\xe0\xa4\x82\xe0\xa4\xb9", NORM_FAMILY, "singh", 1},
	{"Devanagari: Sinha is not Singh", "\xe0\xa4\xb8\xe0\xa4\xbf\xe0\xa4\xa8\xe0\xa5\x8d\xe0\xa4\xb9\xe0\xa4\xbe", NORM_FAMILY, "sinha", 1},
	{"Devanagari: c is ch (Chopra)", "\xe0\xa4\x9a\xe0\xa5\x8b\xe0\xa4\xaa\xe0\xa4\xa1\xe0\xa4\xbc\xe0\xa4\xbe", NORM_FAMILY, "chopra", 1},
	{"Gurmukhi: the tippi is an n (Singh, not sigha)", "\xe0\xa8\xb8\xe0\xa8\xbf\xe0\xa9\xb0\xe0\xa8\x98", NORM_FAMILY, "singh", 1},
	{"Gurmukhi: Harjit Kaur", "\xe0\xa8\xb9\xe0\xa8\xb0\xe0\xa8\x9c\xe0\xa9\x80\xe0\xa8\xa4 \xe0\xa8\x95\xe0\xa9\x8c\xe0\xa8\xb0", NORM_GIVEN, "harjit kaur", 1},
	{"Gurmukhi: Karan keeps its a before a final consonant", "\xe0\xa8\x95\xe0\xa8\xb0\xe0\xa8\xa8", NORM_GIVEN, "karan", 1},
	{"Bengali: Rahman", "\xe0\xa6\xb0\xe0\xa6\xb9\xe0\xa6\xae\xe0\xa6\xbe\xe0\xa6\xa8", NORM_FAMILY, "rahman", 1},
	{"Polish s-acute outside the Indic rules stays s", "Wi\xc5\x9bniewski", NORM_FAMILY, "wisniewski", 0},
	{"absent part has no tokens", NULL, NORM_MIDDLE, "", 0},
	{"punctuation only has no tokens", "-- ' .", NORM_FAMILY, "", 0},
	{"a very long token is cut", "Abcdefghijklmnopqrstuvwxyzabcdefghij", NORM_FAMILY,
	 "abcdefghijklmnopqrstuvwx", 0},
	{"more than six tokens keeps six", "a b c d e f g h", NORM_GIVEN, "a b c d e f", 0},
	{"invalid UTF-8 keeps the ASCII letters", "Sm\xff\xfeith", NORM_FAMILY, "sm ith", -1},
};

static void join(const struct norm_part *p, char *out, size_t cap)
{
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		int n = snprintf(out + k, cap - k, "%s%s", i ? " " : "", p->tok[i]);
		if (n < 0 || (size_t)n >= cap - k)
			return;
		k += (size_t)n;
	}
}

static void test_name_table(void **state)
{
	struct normalizer *n = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct norm_part p;
		bool tr = false;
		char got[256];
		normalize_part(n, cases[i].text, cases[i].kind, &p, &tr);
		join(&p, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0) {
			print_error("%s: got '%s', want '%s'\n", cases[i].name, got, cases[i].want);
			fail();
		}
		for (size_t t = 0; t < p.n; t++)
			assert_int_equal(p.len[t], strlen(p.tok[t]));
		if (cases[i].transliterated >= 0 && tr != (cases[i].transliterated == 1)) {
			print_error("%s: transliterated %d, want %d\n", cases[i].name, tr, cases[i].transliterated);
			fail();
		}
	}
}

static void test_cache_gives_the_same_answer(void **state)
{
	struct normalizer *n = *state;
	struct norm_part a, b;
	bool ta, tb;

	/* The second call is served from the transliteration cache. */
	normalize_part(n, "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd", NORM_GIVEN, &a, &ta);
	normalize_part(n, "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd", NORM_GIVEN, &b, &tb);
	assert_int_equal(a.n, b.n);
	assert_string_equal(a.tok[0], b.tok[0]);
	assert_true(ta && tb);
	/* Same text as another part kind is not confused with the cached one. */
	normalize_part(n, "Mc \xc3\x89vans", NORM_FAMILY, &a, &ta);
	normalize_part(n, "Mc \xc3\x89vans", NORM_GIVEN, &b, &tb);
	assert_string_equal(a.tok[0], "macevans");
	assert_int_equal(b.n, 2);
	assert_string_equal(b.tok[0], "mc");
}

static void test_input_longer_than_the_limit(void **state)
{
	struct normalizer *n = *state;
	struct norm_part p;
	char *big = malloc(NORM_INPUT_MAX * 4 + 1);

	assert_non_null(big);
	/* Cyrillic letters (2 bytes) so that the cut falls inside a sequence. */
	for (size_t i = 0; i < NORM_INPUT_MAX * 2; i++) {
		big[2 * i] = (char)0xd0;
		big[2 * i + 1] = (char)0xb0;
	}
	big[NORM_INPUT_MAX * 4] = '\0';
	normalize_part(n, big + 1, NORM_FAMILY, &p, NULL); /* starts mid-sequence too */
	assert_true(p.n <= NORM_TOKENS_MAX);
	for (size_t t = 0; t < p.n; t++)
		assert_true(p.len[t] <= NORM_TOKEN_MAX);
	free(big);
}

static void test_postcodes(void **state)
{
	static const struct {
		const char *name, *in, *want;
	} pcs[] = {
		{"spaces and case", "wr1 2ab", "WR12AB"},
		{"already normal", "SE179JN", "SE179JN"},
		{"punctuation dropped", " b-1 2ab.", "B12AB"},
		{"absent", NULL, ""},
	};
	char out[16];
	(void)state;
	for (size_t i = 0; i < sizeof(pcs) / sizeof(pcs[0]); i++) {
		normalize_postcode(pcs[i].in, out, sizeof(out));
		if (strcmp(out, pcs[i].want) != 0) {
			print_error("%s: got '%s', want '%s'\n", pcs[i].name, out, pcs[i].want);
			fail();
		}
	}
	/* Bounded by the output size. */
	assert_int_equal(normalize_postcode("ABCDEFGHIJKLMNOPQRSTUVWXYZ", out, 8), 7);
}

/* A check's postcode as people type it: the UK postcode in it, or none. */
static void test_query_postcodes(void **state)
{
	static const struct {
		const char *name, *in, *want;
	} pcs[] = {
		{"as the register has it", "WR1 2AB", "WR12AB"},
		{"lower case, no space", "wr12ab", "WR12AB"},
		{"a dash", "WR1-2AB", "WR12AB"},
		{"a country after it", "CT6 4PB, UK", "CT64PB"},
		{"a label before it", "Postcode: se17 9jn", "SE179JN"},
		{"in brackets", "(W1A 1AA)", "W1A1AA"},
		{"AA9A outward", "EC1A1BB", "EC1A1BB"},
		{"a whole address line", "12 High Street, Worcester WR1 2AB", "WR12AB"},
		{"a non-breaking space", "WR1\xc2\xa0" "2AB", "WR12AB"},
		{"a tab", "WR1\t2AB", "WR12AB"},
		{"only the outward code", "WR1", "WR1"},
		{"a shape this table does not know", "GIR 0AA", "GIR0AA"},
		{"an area this table does not know", "XY1 2AB", "XY12AB"},
		/* Letters and digits that look alike, read the other way when
		 * only that makes a postcode, and only one way does. */
		{"l for 1 in the outward code", "WSl9 8ST", "WS198ST"},
		{"5 for S in the area", "W519 8ST", "WS198ST"},
		{"B for 8 in the inward code", "WS19 BST", "WS198ST"},
		{"0 for O in the area", "S016 7NP", "SO167NP"},
		{"7 for T in the inward code", "WS19 8S7", "WS198ST"},
		{"an outward code alone", "W519", "WS19"},
		{"full-width", "\xef\xbc\xb7\xef\xbc\xb2\xef\xbc\x91\xe3\x80\x80\xef\xbc\x92\xef\xbd\x81\xef\xbd\x82", "WR12AB"},
		{"not known", "N/K", ""},
		{"no fixed abode", "NFA", ""},
		{"unknown", "Unknown", ""},
		{"punctuation only", "--", ""},
		{"absent", NULL, ""},
	};
	char out[16];
	(void)state;
	for (size_t i = 0; i < sizeof(pcs) / sizeof(pcs[0]); i++) {
		size_t n = normalize_query_postcode(pcs[i].in, out, sizeof(out));

		if (strcmp(out, pcs[i].want) != 0 || n != strlen(out)) {
			print_error("%s: got '%s' (%zu), want '%s'\n", pcs[i].name, out, n, pcs[i].want);
			fail();
		}
	}
	/* Bounded by the output size, found postcode or not. */
	assert_int_equal(normalize_query_postcode("EC1A 1BB", out, 4), 3);
	assert_int_equal(normalize_query_postcode("A1B2C3D4E5F6G7H8", out, 8), 7);
}

/* A record's address text, when the register gives no postcode field:
 * only a postcode found in it counts, never the text's letters. */
static void test_postcode_in_text(void **state)
{
	static const struct {
		const char *name, *in, *want;
	} pcs[] = {
		{"at the end of an address", "12 High Street, Worcester WR1 2AB", "WR12AB"},
		{"written without its space", "Flat 3, 2 Mill Lane, London SE179JN", "SE179JN"},
		{"lines of an address", "4 Orchard Close\nKidderminster\nDY10 3QT\nUK", "DY103QT"},
		{"the first of two", "WR1 2AB then HR4 9QT", "WR12AB"},
		{"after more than sixteen words",
		 "The Old Rectory Cottage behind the Church of Saint Mary and All Saints off the Lower "
		 "Green Lane near the Village Hall of Little Snodbury Worcestershire WR7 4PQ",
		 "WR74PQ"},
		{"after a word too long for one", "Flat 2, Llanfairpwllgwyngyll LL61 5UJ", "LL615UJ"},
		{"an address without one", "12 High Street, Worcester", ""},
		{"only the outward code", "Somewhere in WR1", ""},
		{"a house number and a flat letter", "Flat 2A, 5 Mill Lane", ""},
		{"no fixed abode", "NFA", ""},
		{"empty", "", ""},
		{"absent", NULL, ""},
	};
	char out[16];
	(void)state;
	for (size_t i = 0; i < sizeof(pcs) / sizeof(pcs[0]); i++) {
		size_t n = postcode_in_text(pcs[i].in, out, sizeof(out));

		if (strcmp(out, pcs[i].want) != 0 || n != strlen(out)) {
			print_error("%s: got '%s' (%zu), want '%s'\n", pcs[i].name, out, n, pcs[i].want);
			fail();
		}
	}
	/* A postcode that does not fit is none, and the output stays a string. */
	assert_int_equal(postcode_in_text("EC1A 1BB", out, 4), 0);
	assert_string_equal(out, "");
	assert_int_equal(postcode_in_text("EC1A 1BB", out, 8), 7);
	assert_string_equal(out, "EC1A1BB");
	assert_int_equal(postcode_in_text("EC1A 1BB", out, 0), 0);
}

static int setup(void **state)
{
	struct normalizer *n;
	struct dsc_error err;

	if (normalizer_new(&n, &err) != DSC_OK) {
		print_error("normalizer_new: %s\n", err.msg);
		return -1;
	}
	*state = n;
	return 0;
}

static int teardown(void **state)
{
	normalizer_free(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_table),
		cmocka_unit_test(test_query_postcodes),
		cmocka_unit_test(test_postcode_in_text),
		cmocka_unit_test(test_cache_gives_the_same_answer),
		cmocka_unit_test(test_input_longer_than_the_limit),
		cmocka_unit_test(test_postcodes),
	};
	return cmocka_run_group_tests_name("normalize", tests, setup, teardown);
}
