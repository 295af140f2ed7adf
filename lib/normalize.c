/*
 * normalize.c - names to comparable ASCII tokens (see normalize.h).
 *
 * The common case (plain ASCII names) never reaches ICU: ICU calls cost
 * microseconds each and a check normalises up to ten names, while the
 * whole check has a budget of about a millisecond.
 * Never fails on input and never allocates after normalizer_new().
 */
#include <stdlib.h>
#include <string.h>

#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>

#include "normalize.h"

/*
 * NFKC first so that compatibility forms (full-width Latin, ligatures)
 * become ordinary letters; Any-Latin covers Cyrillic, Greek, Arabic,
 * Han, Devanagari, Gurmukhi and the rest; Latin-ASCII removes diacritics
 * and expands letters such as ß and æ; Lower is the case fold.
 */
#define NORM_TRANSLIT_ID "NFKC; Any-Latin; Latin-ASCII; Any-Lower"
#define NORM_UCAP 4096 /* UTF-16 units: transliteration can expand text */

struct normalizer {
	UTransliterator *trans;
	UChar ubuf[NORM_UCAP];
	char abuf[NORM_UCAP * 3];
};

int normalizer_new(struct normalizer **out, struct dsc_error *err)
{
	struct normalizer *n;
	UChar id[64];
	UErrorCode st = U_ZERO_ERROR;
	UParseError perr;

	*out = NULL;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "normalizer: out of memory");
	u_uastrncpy(id, NORM_TRANSLIT_ID, (int32_t)(sizeof(id) / sizeof(id[0])));
	n->trans = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, &perr, &st);
	if (U_FAILURE(st) || n->trans == NULL) {
		free(n);
		return dsc_error_set(err, DSC_EINTERNAL,
				     "cannot open the ICU transliterator \"%s\": %s (is the ICU data package installed?)",
				     NORM_TRANSLIT_ID, u_errorName(st));
	}
	*out = n;
	return DSC_OK;
}

void normalizer_free(struct normalizer *n)
{
	if (n == NULL)
		return;
	if (n->trans != NULL)
		utrans_close(n->trans);
	free(n);
}

static bool is_title(const char *t)
{
	static const char *const titles[] = {"mr", "mrs", "ms", "miss", "mx", "dr", "sir", "rev", NULL};

	for (size_t i = 0; titles[i] != NULL; i++)
		if (strcmp(t, titles[i]) == 0)
			return true;
	return false;
}

static void part_remove(struct norm_part *p, size_t i)
{
	for (size_t j = i; j + 1 < p->n; j++) {
		p->len[j] = p->len[j + 1];
		memcpy(p->tok[j], p->tok[j + 1], sizeof(p->tok[j]));
	}
	p->n--;
}

/* Appends token b to token a (a detached prefix such as "mac" or "o"). */
static void part_join_next(struct norm_part *p, size_t i)
{
	size_t room = NORM_TOKEN_MAX - p->len[i];
	size_t take = p->len[i + 1] < room ? p->len[i + 1] : room;

	memcpy(p->tok[i] + p->len[i], p->tok[i + 1], take);
	p->len[i] = (uint8_t)(p->len[i] + take);
	p->tok[i][p->len[i]] = '\0';
	part_remove(p, i + 1);
}

/* "mc..." -> "mac...": McDonald, MacDonald and Macdonald compare equal. */
static void token_mac(struct norm_part *p, size_t i)
{
	char *t = p->tok[i];

	if (p->len[i] < 3 || t[0] != 'm' || t[1] != 'c' || p->len[i] >= NORM_TOKEN_MAX)
		return;
	memmove(t + 2, t + 1, p->len[i]); /* moves the NUL too */
	t[1] = 'a';
	p->len[i]++;
}

/* The ASCII stage: letters kept (lower case), apostrophes join, anything
 * else separates tokens. */
static void tokenize_ascii(const char *s, size_t len, enum norm_part_kind kind, struct norm_part *out)
{
	size_t cur = 0;
	bool open = false;

	out->n = 0;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)s[i] : ' ';

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c >= 'a' && c <= 'z') {
			if (!open) {
				if (out->n == NORM_TOKENS_MAX)
					break;
				open = true;
				cur = 0;
			}
			if (cur < NORM_TOKEN_MAX)
				out->tok[out->n][cur++] = (char)c;
			continue;
		}
		if (c == '\'' || c == '`')
			continue; /* O'Brien, D'Souza: one token */
		if (open) {
			out->tok[out->n][cur] = '\0';
			out->len[out->n] = (uint8_t)cur;
			out->n++;
			open = false;
		}
	}

	if (kind == NORM_GIVEN) {
		while (out->n > 1 && is_title(out->tok[0]))
			part_remove(out, 0);
	}
	if (kind == NORM_FAMILY) {
		for (size_t i = 0; i + 1 < out->n; i++) {
			const char *t = out->tok[i];
			if (strcmp(t, "mc") == 0 || strcmp(t, "mac") == 0 || strcmp(t, "o") == 0)
				part_join_next(out, i);
		}
		for (size_t i = 0; i < out->n; i++)
			token_mac(out, i);
	}
}

void normalize_part(struct normalizer *n, const char *text, enum norm_part_kind kind,
		    struct norm_part *out, bool *transliterated)
{
	size_t len;
	bool ascii = true;
	UErrorCode st = U_ZERO_ERROR;
	int32_t ulen = 0, limit, alen = 0;
	bool other_script = false;

	out->n = 0;
	if (transliterated != NULL)
		*transliterated = false;
	if (text == NULL)
		return;
	len = strnlen(text, NORM_INPUT_MAX);
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)text[i] >= 0x80) {
			ascii = false;
			break;
		}
	}
	if (ascii || n == NULL) {
		tokenize_ascii(text, len, kind, out);
		return;
	}

	/* Do not cut a UTF-8 sequence in half at the input limit. */
	while (len > 0 && len == NORM_INPUT_MAX && ((unsigned char)text[len] & 0xC0) == 0x80)
		len--;
	u_strFromUTF8WithSub(n->ubuf, NORM_UCAP / 4, &ulen, text, (int32_t)len, 0xFFFD, NULL, &st);
	if (U_FAILURE(st)) {
		tokenize_ascii(text, len, kind, out); /* keeps the ASCII letters */
		return;
	}
	/* "Transliterated" means another script, not merely an accent. */
	for (int32_t i = 0; i < ulen; i++) {
		UScriptCode sc = uscript_getScript(n->ubuf[i], &st);
		if (U_SUCCESS(st) && sc != USCRIPT_LATIN && sc != USCRIPT_COMMON &&
		    sc != USCRIPT_INHERITED) {
			other_script = true;
			break;
		}
	}
	st = U_ZERO_ERROR;
	limit = ulen;
	utrans_transUChars(n->trans, n->ubuf, &ulen, NORM_UCAP - 1, 0, &limit, &st);
	if (U_FAILURE(st)) {
		tokenize_ascii(text, len, kind, out);
		return;
	}
	u_strToUTF8(n->abuf, (int32_t)sizeof(n->abuf), &alen, n->ubuf, ulen, &st);
	if (U_FAILURE(st) || alen < 0) {
		tokenize_ascii(text, len, kind, out);
		return;
	}
	tokenize_ascii(n->abuf, (size_t)alen, kind, out);
	if (transliterated != NULL)
		*transliterated = other_script;
}

size_t normalize_postcode(const char *text, char *out, size_t cap)
{
	size_t k = 0;

	if (cap == 0)
		return 0;
	if (text != NULL) {
		for (const char *p = text; *p != '\0' && k + 1 < cap; p++) {
			char c = *p;
			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
				out[k++] = c;
		}
	}
	out[k] = '\0';
	return k;
}
