/*
 * compare.h - the comparators of the matcher: string similarity
 * (Jaro-Winkler, Damerau-Levenshtein), phonetic codes (Double Metaphone,
 * Soundex), dates of birth and postcodes, each returning a comparison
 * level the scorer weighs.
 *
 * Pure functions on bounded input: no allocation, no global state, safe
 * from any thread (double_metaphone's memo is per thread and never
 * changes an answer).  Strings longer than COMPARE_STR_MAX are compared on
 * their first COMPARE_STR_MAX bytes.  Never asserts on input.
 */
#ifndef DISCLOSURE_COMPARE_H
#define DISCLOSURE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "disclosure/offender.h"

#define COMPARE_STR_MAX 64
#define DM_CODE_MAX 4 /* Double Metaphone codes are cut at 4 characters */

/* Jaro similarity, 0..1. */
double jaro(const char *a, size_t alen, const char *b, size_t blen);
/* Jaro-Winkler with p = 0.1, common prefix up to 4, applied only when
 * the Jaro similarity exceeds 0.7 (Winkler's boost threshold). */
double jaro_winkler(const char *a, size_t alen, const char *b, size_t blen);
/* jaro_winkler(a, b) where that can be floor or more; 0 where it cannot
 * (told from the characters the two have in common, without matching
 * them): for callers that only compare it with thresholds of floor or
 * more, the same answers at a fraction of the cost for unlike names. */
double jaro_winkler_floor(const char *a, size_t alen, const char *b, size_t blen, double floor);
/* Damerau-Levenshtein distance (unrestricted: transpositions of
 * non-adjacent edits allowed, after Lowrance and Wagner). */
int damerau_levenshtein(const char *a, size_t alen, const char *b, size_t blen);

/*
 * Double Metaphone (Lawrence Philips, 2000) of a Latin-letter word, in
 * either case.  primary and alternate receive NUL-terminated codes of at
 * most DM_CODE_MAX letters; alternate equals primary when the word has no
 * alternate pronunciation.  "0" stands for "th".
 */
void double_metaphone(const char *word, size_t len, char primary[DM_CODE_MAX + 1],
		      char alternate[DM_CODE_MAX + 1]);
/* The same codes computed afresh, without the per-thread memo of recent
 * words that double_metaphone() keeps (bounded: 128 KiB a thread); for
 * tests that the memo changes nothing. */
void double_metaphone_cold(const char *word, size_t len, char primary[DM_CODE_MAX + 1],
			   char alternate[DM_CODE_MAX + 1]);
/* The primary code alone, as double_metaphone_cold gives it, computed
 * only as far as it needs (the sounds of a name's many misspellings, of
 * which only the primary is looked up). */
void double_metaphone_primary(const char *word, size_t len, char primary[DM_CODE_MAX + 1]);

/* American Soundex ("A261"); out is "" for a word without letters. */
void soundex(const char *word, size_t len, char out[5]);

/*
 * The consonants of a Latin-letter word as Arabic script writes them:
 * vowels, doubled letters, and w and y inside the word left out, and a
 * final t or h dropped.  A romanised Arabic name (mhmd, hsn) and the same name as a
 * clerk writes it (Mohammed, Hassan) give the same skeleton.  out
 * receives at most cap - 1 letters and a NUL; returns their count.
 */
size_t consonant_skeleton(const char *word, size_t len, char *out, size_t cap);

enum dob_level {
	DOB_ABSENT = 0,
	DOB_EXACT,
	DOB_DAY_MONTH_SWAPPED,
	DOB_ONE_DIGIT,      /* one digit of YYYYMMDD differs, or two adjacent swapped */
	DOB_YEAR_OFF_BY_ONE,
	/* One of the two is the 1st of a month (of January), as a date known
	 * only to its month (year) is often written, and the other agrees on
	 * the month and year (the year). */
	DOB_MONTH_ONLY,
	DOB_YEAR_ONLY,
	/* 1 to 3 days apart, across a month's or a year's end too (09 and
	 * 10, 31 December and 1 January, 29 February and 1 March): a slip of
	 * the calendar rather than of a digit. */
	DOB_NEAR,
	/* 4 to 45 days apart, across a year's end too, and none of the
	 * levels above: a birthday misremembered or mistyped by weeks (the
	 * 6th of October for the 27th of August; 3 February 1970 for 25
	 * December 1969), which agrees by chance with some 80 dates. */
	DOB_WEEKS,
	/* The same day and month two years apart: a year mistyped or
	 * miscounted beyond one digit (1979 for 1981), which agrees by chance
	 * with two dates only. */
	DOB_YEAR_OFF_BY_TWO,
	/* The same day and month three to ten years apart: an age guessed,
	 * miscounted or lied about, the birthday kept. */
	DOB_SAME_BIRTHDAY,
	/* The year one out and, the year put right, one slip more: day and
	 * month swapped, one digit, or 1 to 3 days (29 July 1981 for 28 July
	 * 1982; 1981-03-07 for 1982-07-03): two mistakes in one date, which
	 * 18 to 44 dates match by chance (30 typically). */
	DOB_YEAR_AND_SLIP,
	/* The same year and none of the above: a birthday given wrongly
	 * (months out, another day and month) by someone who knew the
	 * year. */
	DOB_SAME_YEAR,
	DOB_MISMATCH,
};
/* Compares two dates (either absent -> DOB_ABSENT). */
enum dob_level compare_dob(const struct date *q, const struct date *r);
/* Whole years between dob and on (-1 if dob absent or after on). */
int age_on(const struct date *dob, const struct date *on);

/*
 * The dates of birth that give an age within `tol` years of `age` on a
 * day: d is inside when age_on(d, on) >= 0 and |age_on(d, on) - age| <=
 * tol.  The same answer as computing the age, as two integer
 * comparisons: a check with only an age tests thousands of index entries'
 * dates against it.  A date is packed as year * 512 + month * 32 + day,
 * which orders dates as age_on does (month, then day).
 */
struct age_window {
	long lo, hi; /* inside: lo < packed date <= hi */
};

void age_window_init(struct age_window *w, int age, int tol, const struct date *on);

static inline bool age_window_has(const struct age_window *w, const struct date *d)
{
	long p = (long)d->year * 512 + d->month * 32 + d->day;

	return d->year != 0 && p > w->lo && p <= w->hi;
}

enum postcode_level {
	POSTCODE_ABSENT = 0,
	POSTCODE_FULL,     /* WR1 2AB = WR1 2AB */
	POSTCODE_SECTOR,   /* WR1 2.. */
	POSTCODE_DISTRICT, /* WR1 */
	POSTCODE_AREA,     /* WR */
	POSTCODE_DIFFERENT,
};
/* a and b normalised by normalize_postcode() ("WR12AB"); "" is absent. */
enum postcode_level compare_postcode(const char *a, const char *b);
/* The sector of a normalised postcode ("WR12AB" -> "WR12"); returns its
 * length, 0 if the postcode has no inward part. */
size_t postcode_sector(const char *pc, char out[16]);
/* The outward code (district) of a normalised postcode ("WR12AB" ->
 * "WR1"; the whole of one without an inward part); returns its length.
 * compare_postcode gives POSTCODE_DISTRICT or better only to two
 * postcodes with the same outward code. */
size_t postcode_outward(const char *pc, char out[16]);

#endif
