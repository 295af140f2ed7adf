/*
 * normalize.h - turning a name as typed (any script, any case, accents,
 * punctuation) into the lower-case ASCII tokens the matcher compares.
 *
 * Unicode text goes through one ICU transliterator per normalizer
 * (NFKC, other scripts to Latin, Latin to ASCII, lower case); pure ASCII
 * text takes a fast path that never touches ICU.  Then punctuation splits
 * or joins tokens (hyphens and spaces split, apostrophes join: O'Brien is
 * "obrien"), "Mc" becomes "mac" so McDonald and MacDonald agree, and a
 * detached "Mac"/"Mc"/"O" in a family name is joined to the next token.
 *
 * A normalizer is not thread-safe (ICU transliterators are not): one per
 * thread.  It never allocates after normalizer_new() and never fails on
 * input: text it cannot use is dropped, and what is too long is cut.
 */
#ifndef DISCLOSURE_NORMALIZE_H
#define DISCLOSURE_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disclosure/error.h"

#define NORM_TOKEN_MAX 24  /* bytes kept of one token (without NUL) */
#define NORM_TOKENS_MAX 6  /* tokens kept of one name part */
#define NORM_INPUT_MAX 512 /* bytes of a name part looked at */

/* One name part (given, middle or family) as tokens. */
struct norm_part {
	uint8_t n;
	uint8_t len[NORM_TOKENS_MAX];
	char tok[NORM_TOKENS_MAX][NORM_TOKEN_MAX + 1]; /* NUL-terminated */
};

enum norm_part_kind { NORM_GIVEN = 0, NORM_MIDDLE = 1, NORM_FAMILY = 2 };

struct normalizer;

int normalizer_new(struct normalizer **out, struct dsc_error *err);
void normalizer_free(struct normalizer *n);

/*
 * Normalises one name part.  text may be NULL (an absent part: n = 0).
 * *transliterated (may be NULL) is set when the text held letters outside
 * ASCII Latin and went through ICU.
 */
void normalize_part(struct normalizer *n, const char *text, enum norm_part_kind kind,
		    struct norm_part *out, bool *transliterated);

/*
 * Normalises a postcode for comparison: upper-case letters and digits
 * only ("wr1 2ab" -> "WR12AB").  Returns the length, 0 if nothing usable.
 */
size_t normalize_postcode(const char *text, char *out, size_t cap);

/*
 * A check's postcode as people type it into a form: the UK postcode it
 * holds, when one is there among other words and punctuation ("CT6 4PB,
 * UK", "Postcode: wr1-2ab", "(SE17 9JN)" -> "CT64PB", "WR12AB",
 * "SE179JN"); else what normalize_postcode() gives; and "" when that has
 * no digit, for every UK postcode has one, and "N/K", "NFA" (no fixed
 * abode) or "Unknown" say there is none.  The records' postcodes are
 * normalised by normalize_postcode(), as the register holds them.
 */
size_t normalize_query_postcode(const char *text, char *out, size_t cap);

/*
 * The UK postcode written in a text, normalised ("12 High Street,
 * Worcester WR1 2AB" -> "WR12AB"): the first word that is a whole
 * postcode, or two that are its outward and inward codes.  0 and "" when
 * there is none: unlike normalize_query_postcode(), never the text's
 * letters and digits.  Looks at the first 2,048 bytes.
 */
size_t postcode_in_text(const char *text, char *out, size_t cap);

#endif
