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
 * Characters that are there and not seen: the soft hyphen, zero-width
 * space, joiner and non-joiner, word joiner, byte-order mark, the marks
 * that set the direction of text, variation selectors (Unicode's
 * Default_Ignorable_Code_Point).  A name pasted from a web page, a PDF or
 * a word processor carries them, and none is a letter or a space: kept,
 * the tokenizer split the name at them ("Marl\u00ADon": "marl on") and
 * the exact name was weighed as a near spelling.  Dropped after NFKC,
 * before any other rule reads the letters either side.
 */
#define NORM_DROP_INVISIBLE "[:Default_Ignorable_Code_Point:] > ;\n"

/*
 * NFKC first so that compatibility forms (full-width Latin, ligatures)
 * become ordinary letters; Cyrillic goes through the BGN/PCGN
 * romanisation, the one British officials use (zh, kh, ts, ch, sh, yu,
 * ya), because ICU's default gives bare s for sh and z for zh; Any-Latin
 * covers Cyrillic, Greek, Arabic,
 * Han, Devanagari, Gurmukhi and the rest; Latin-ASCII removes diacritics
 * and expands letters such as ß and æ; Lower is the case fold.
 *
 * Before Any-Latin, Urdu's own letters are written as the Arabic letters
 * they are read as, for ICU's Arabic romanisation knows only Arabic's:
 * it passed ہ (h), ھ (the h of bh, kh, th), ٹ (t), ڈ (d), ڑ (r), ں
 * (n), ے (e) and ۃ through untouched, and the tokenizer then split the
 * name there or lost the letter (شاہد, Shahid: "sha d"; بھٹی, Bhatti:
 * "b y"; ڈار, Dar: "ar").  Now شاہد is shahd, بھٹی bhty, ڈار dar, as
 * the Arabic letters would give (Unicode's Arabic block, U+0600-U+06FF:
 * ہ U+06C1, ۂ U+06C2 and ۀ U+06C0 as ه U+0647; ھ U+06BE as ه; ۃ U+06C3
 * as ة U+0629; ے U+06D2 and ۓ U+06D3 as ي U+064A; ٹ U+0679 as ت U+062A;
 * ڈ U+0688 as د U+062F; ڑ U+0691 as ر U+0631; ں U+06BA as ن U+0646).
 * After it, the marks ICU writes for ع and ء (ʿ U+02BF, ʾ U+02BE, which
 * scholars write too: Saʿid) are dropped, as an apostrophe is: they split
 * the name where they stood (سعید, Saeed: "s yd"; جعفر, Jafar: "j fr").
 */
#define NORM_TRANSLIT_RULES \
	":: NFKC;\n" \
	NORM_DROP_INVISIBLE \
	"[\\u06C0\\u06C1\\u06C2\\u06BE] > \\u0647;\n" \
	"\\u06C3 > \\u0629;\n" \
	"[\\u06D2\\u06D3] > \\u064A;\n" \
	"\\u0679 > \\u062A;\n" \
	"\\u0688 > \\u062F;\n" \
	"\\u0691 > \\u0631;\n" \
	"\\u06BA > \\u0646;\n" \
	":: Russian-Latin/BGN;\n" \
	":: Any-Latin;\n" \
	"[\\u02BE\\u02BF] > ;\n" \
	":: Latin-ASCII;\n" \
	":: Any-Lower;\n"

/*
 * Names in the Indic scripts (Devanagari, Gurmukhi, Bengali, Gujarati and
 * the rest of U+0900-U+0D7F) go through their own rules.  ICU romanises
 * them letter by letter (ISO 15919): every consonant with its inherent a,
 * s for both sh sounds, c for ch.  Hindi, Punjabi and Bengali leave that a
 * unsaid at a word's end and in the middle of most words, and the names
 * are written in Latin letters as said: पटेल is Patel, not patela;
 * ਹਰਜੀਤ Harjit, not harajita; রহমান Rahman; शर्मा Sharma.  So, after
 * ICU's romanisation:
 *   - a word's last a goes after one consonant (or an aspirate, or a nasal
 *     and a consonant: Singh), and stays after a cluster (नरेंद्र,
 *     Narendra; कृष्ण, Krishna);
 *   - then an a between a vowel and a consonant and a consonant (or a
 *     consonant and r or y) and a vowel goes, the one before a long vowel
 *     first (अमरजीत: Amarjit, not Amrajit; मोहनलाल: Mohanlal);
 *   - ś and ṣ are written sh, c ch (छ, already ch, becomes chh: Chhabra).
 * Before it, Gurmukhi's nasal signs (tippi, bindi), which ICU drops, are
 * written as the n they stand for (ਸਿੰਘ: Singh, not sigha), and
 * Devanagari's anusvara before ह as the ng of सिंह, Singh.
 */
#define NORM_INDIC_RULES \
	":: NFKC;\n" \
	NORM_DROP_INVISIBLE \
	"\\u0A70 > \\u0A28\\u0A4D;\n" \
	"\\u0A02 > \\u0A28\\u0A4D;\n" \
	"\\u0902\\u0939 > \\u0919\\u094D\\u0918;\n" \
	":: Any-Latin;\n" \
	":: Null;\n" \
	"$V = [a\\u0101i\\u012Bu\\u016Be\\u0113o\\u014D];\n" \
	"$N = [n\\u1E45\\u00F1\\u1E47m];\n" \
	"$C = [[:L:]-$V];\n" \
	"$E = [^[:L:][:M:]];\n" \
	"$V $C h { a } $E > ;\n" \
	"$V $C h { a } $ > ;\n" \
	"$V $N $C h { a } $E > ;\n" \
	"$V $N $C h { a } $ > ;\n" \
	"$V $N $C { a } $E > ;\n" \
	"$V $N $C { a } $ > ;\n" \
	"$V $C { a } $E > ;\n" \
	"$V $C { a } $ > ;\n" \
	":: Null;\n" \
	"$V $C h { a } $C h? [$V-[a]] > ;\n" \
	"$V $C { a } $C h? [$V-[a]] > ;\n" \
	":: Null;\n" \
	"$V $C h { a } $C h? $V > ;\n" \
	"$V $C { a } $C h? $V > ;\n" \
	"$V $C { a } [$C-[nmrlyvwh]] [ry] $V > ;\n" \
	":: Null;\n" \
	"[\\u015B\\u1E63] > sh;\n" \
	"[\\u015A\\u1E62] > Sh;\n" \
	"c > ch;\n" \
	"C > Ch;\n" \
	":: Latin-ASCII;\n" \
	":: Any-Lower;\n"
#define NORM_UCAP 4096 /* UTF-16 units: transliteration can expand text */

/*
 * Transliteration results are cached (direct-mapped, per normalizer):
 * names repeat, and ICU costs microseconds per name while the cache costs
 * a hash and a compare.
 */
#define NORM_CACHE_SLOTS 2048
#define NORM_CACHE_KEY 96

struct norm_cache_entry {
	uint32_t hash;
	uint8_t kind, used, translit;
	uint16_t len;
	char text[NORM_CACHE_KEY];
	struct norm_part part;
};

struct normalizer {
	struct norm_cache_entry cache[NORM_CACHE_SLOTS];
	UTransliterator *trans;
	UTransliterator *indic; /* NORM_INDIC_RULES */
	UChar ubuf[NORM_UCAP];
	char abuf[NORM_UCAP * 3];
};

static void normalize_icu(struct normalizer *n, const char *text, size_t len, enum norm_part_kind kind,
			  struct norm_part *out, bool *transliterated);

/* Opens a transliterator from the rules text rules8 (ASCII, \u escapes). */
static int rules_open(UTransliterator **out, const char *name, const char *rules8, size_t size,
		      const char *what, struct dsc_error *err)
{
	UChar id[64], *rules = calloc(size, sizeof(*rules));
	UErrorCode st = U_ZERO_ERROR;
	UParseError perr = {0};

	if (rules == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "normalizer: out of memory");
	u_uastrncpy(id, name, (int32_t)(sizeof(id) / sizeof(id[0])));
	u_uastrncpy(rules, rules8, (int32_t)size);
	*out = utrans_openU(id, -1, UTRANS_FORWARD, rules, -1, &perr, &st);
	free(rules);
	if (U_FAILURE(st) || *out == NULL) {
		*out = NULL;
		return dsc_error_set(err, DSC_EINTERNAL,
				     "cannot open the %s transliteration rules: %s (line %d, offset %d; "
				     "is the ICU data package installed?)",
				     what, u_errorName(st), (int)perr.line, (int)perr.offset);
	}
	return DSC_OK;
}

int normalizer_new(struct normalizer **out, struct dsc_error *err)
{
	static const char names8[] = NORM_TRANSLIT_RULES, indic8[] = NORM_INDIC_RULES;
	struct normalizer *n;
	int rc;

	*out = NULL;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "normalizer: out of memory");
	if ((rc = rules_open(&n->trans, "x-disclosured-names", names8, sizeof(names8), "name", err)) != DSC_OK ||
	    (rc = rules_open(&n->indic, "x-disclosured-indic", indic8, sizeof(indic8), "Indic", err)) != DSC_OK) {
		normalizer_free(n);
		return rc;
	}
	/*
	 * ICU loads the rules of each script the first time it meets it (Han
	 * took over 100 ms here): pay that now, at start, not in a check.
	 */
	{
		static const char *const warm[] = {
			"\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd",             /* Cyrillic */
			"\xce\x93\xce\xb9\xcf\x8e\xcf\x81\xce\xb3\xce\xbf\xcf\x82", /* Greek */
			"\xd8\xae\xd8\xa7\xd9\x86",                         /* Arabic */
			"\xe5\xbc\xa0\xe4\xbc\x9f",                         /* Han */
			"\xe0\xa4\xb9\xe0\xa4\xb0",                         /* Devanagari */
			"\xe0\xa8\x97\xe0\xa9\x81",                         /* Gurmukhi */
			"\xe0\xa6\xb0\xe0\xa6\xb9",                         /* Bengali */
			"\xd7\xa9\xd7\x9c",                                     /* Hebrew */
			"\xe0\xb8\x81\xe0\xb8\xb2",                         /* Thai */
			"\xea\xb9\x80",                                         /* Hangul */
			"\xe3\x81\x8b\xe3\x82\xab",                         /* Kana */
			"Nguy\xe1\xbb\x85n",                                     /* Latin with marks */
		};
		struct norm_part p;
		bool t;
		for (size_t i = 0; i < sizeof(warm) / sizeof(warm[0]); i++)
			normalize_icu(n, warm[i], strlen(warm[i]), NORM_FAMILY, &p, &t);
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
	if (n->indic != NULL)
		utrans_close(n->indic);
	free(n);
}

/* Whether t is one of the words of list (NULL-terminated). */
static bool word_in(const char *t, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(t, list[i]) == 0)
			return true;
	return false;
}

static bool is_title(const char *t)
{
	static const char *const titles[] = {"mr", "mrs", "ms", "miss", "mx", "dr", "sir", "rev", NULL};

	return word_in(t, titles);
}

/* A generation written after a name (Thompson Jr, Thompson III): no part
 * of the name, and with it kept the family name was weighed a part of a
 * compound name, never a match.  Junior and Senior, which are names too,
 * only in a family name. */
static bool is_suffix(const char *t, enum norm_part_kind kind)
{
	static const char *const suffixes[] = {"jr", "jnr", "snr", "sr", "ii", "iii", "iv", NULL};
	static const char *const names_too[] = {"junior", "senior", NULL};

	return word_in(t, suffixes) || (kind == NORM_FAMILY && word_in(t, names_too));
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

/*
 * The letter a digit stands for inside a name, where a scanned form's
 * recognition or a hurried hand put it (Th0mpson, Dav1d, 5mith): 0 o,
 * 1 i (the commoner in names of the two letters it stands for; for an l,
 * Mar1on, the name is then one letter out, a near spelling), 3 e, 4 a,
 * 5 s, 6 b (G at a word's start), 7 t, 8 s (B at a word's start), 9 g;
 * 2 none (Anne2Marie is two names).
 * NUL for a digit that stands for no letter.
 */
static char digit_letter(unsigned char c, bool word_start)
{
	static const char mid[10] = {'o', 'i', 0, 'e', 'a', 's', 'b', 't', 's', 'g'};
	static const char start[10] = {'o', 'i', 0, 'e', 'a', 's', 'g', 't', 'b', 'g'};

	if (c < '0' || c > '9')
		return 0;
	return word_start ? start[c - '0'] : mid[c - '0'];
}

/* Whether the digits from s[i] on, any that stand for a letter, are
 * followed by a letter: a digit is read as a letter only inside or at
 * the start of a word.  At its end, or alone, it is not (Smith 2, Smith1:
 * a number written beside a name), and separates as before.  Which digits
 * stand for a letter does not depend on the word's start (only 2 stands
 * for none), so the answer holds for every digit of the run. */
static bool digits_then_letter(const char *s, size_t i, size_t len)
{
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i] | 0x20;
		if (c >= 'a' && c <= 'z')
			return true;
		if (digit_letter((unsigned char)s[i], false) == 0)
			return false;
	}
	return false;
}

/* The ASCII stage: letters kept (lower case), apostrophes join, a digit
 * inside or at the start of a word is the letter it looks like
 * (digit_letter), anything else separates tokens. */
static void tokenize_ascii(const char *s, size_t len, enum norm_part_kind kind, struct norm_part *out)
{
	size_t cur = 0;
	bool open = false;
	int run = -1; /* digits_then_letter of the digits' run under way; -1: none */

	out->n = 0;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)s[i] : ' ';

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c >= '0' && c <= '9' && digit_letter(c, false) != 0) {
			if (run < 0) /* once a run: a long one is read once, not once a digit */
				run = digits_then_letter(s, i, len);
			if (run == 1)
				c = (unsigned char)digit_letter(c, !open);
		} else {
			run = -1;
		}
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
		if (c == '\'' || c == '`') {
			/* O'Brien, D'Souza: one token.  M' is the old short form
			 * of Mac (M'Donald, M'Kenzie): written out, so that it
			 * meets Mac and Mc; but not before a b, the West African
			 * M'Baye, M'Bala (Mbaye). */
			if (kind == NORM_FAMILY && open && cur == 1 && out->tok[out->n][0] == 'm' && i + 1 < len &&
			    (s[i + 1] | 0x20) >= 'a' && (s[i + 1] | 0x20) <= 'z' && (s[i + 1] | 0x20) != 'b') {
				out->tok[out->n][cur++] = 'a';
				out->tok[out->n][cur++] = 'c';
			}
			continue;
		}
		if (open) {
			out->tok[out->n][cur] = '\0';
			out->len[out->n] = (uint8_t)cur;
			out->n++;
			open = false;
		}
	}

	/* A title before the given name, or before the family name where a
	 * form had no given name or a clerk wrote it so (Mr Thompson). */
	if (kind == NORM_GIVEN || kind == NORM_FAMILY) {
		while (out->n > 1 && is_title(out->tok[0]))
			part_remove(out, 0);
	}
	if (kind == NORM_FAMILY) {
		for (size_t i = 0; i + 1 < out->n; i++) {
			const char *t = out->tok[i];
			if (strcmp(t, "mc") == 0 || strcmp(t, "mac") == 0 || strcmp(t, "o") == 0)
				part_join_next(out, i);
			else if (strcmp(t, "saint") == 0) {
				/* Saint John and St John, Saint Clair and St. Clair:
				 * one name, written as the register mostly does. */
				memcpy(out->tok[i], "st", 3);
				out->len[i] = 2;
			}
		}
		for (size_t i = 0; i < out->n; i++)
			token_mac(out, i);
	}
	/* After Mac and O have joined the word after them: Mac Iv is a name. */
	if (kind == NORM_GIVEN || kind == NORM_FAMILY) {
		while (out->n > 1 && is_suffix(out->tok[out->n - 1], kind))
			out->n--;
	}
}

/* BGN writes the English J (Джеймс, James) as "dzh": write it as j. */
static size_t english_j(char *s, size_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < len; i++) {
		if (i + 2 < len && s[i] == 'd' && s[i + 1] == 'z' && s[i + 2] == 'h') {
			s[k++] = 'j';
			i += 2;
			continue;
		}
		s[k++] = s[i];
	}
	return k;
}

static uint32_t text_hash(const char *s, size_t len, unsigned kind)
{
	uint32_t h = 2166136261u ^ kind;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static void normalize_icu(struct normalizer *n, const char *text, size_t len, enum norm_part_kind kind,
			  struct norm_part *out, bool *transliterated);

void normalize_part(struct normalizer *n, const char *text, enum norm_part_kind kind,
		    struct norm_part *out, bool *transliterated)
{
	size_t len;
	bool ascii = true, tr = false;
	struct norm_cache_entry *e;
	uint32_t h;

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
	h = text_hash(text, len, kind);
	e = &n->cache[h & (NORM_CACHE_SLOTS - 1)];
	if (e->used && e->hash == h && e->kind == kind && e->len == len && memcmp(e->text, text, len) == 0) {
		*out = e->part;
		if (transliterated != NULL)
			*transliterated = e->translit;
		return;
	}
	normalize_icu(n, text, len, kind, out, &tr);
	if (transliterated != NULL)
		*transliterated = tr;
	if (len <= NORM_CACHE_KEY) {
		e->used = 1;
		e->hash = h;
		e->kind = (uint8_t)kind;
		e->len = (uint16_t)len;
		e->translit = tr;
		memcpy(e->text, text, len);
		e->part = *out;
	}
}

static void normalize_icu(struct normalizer *n, const char *text, size_t len, enum norm_part_kind kind,
			  struct norm_part *out, bool *transliterated)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t ulen = 0, limit, alen = 0;
	bool other_script = false, indic = false;

	*transliterated = false;

	/* Do not cut a UTF-8 sequence in half at the input limit. */
	if (len == NORM_INPUT_MAX)
		while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
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
	for (int32_t i = 0; i < ulen && !indic; i++)
		indic = n->ubuf[i] >= 0x0900 && n->ubuf[i] <= 0x0D7F;
	st = U_ZERO_ERROR;
	limit = ulen;
	utrans_transUChars(indic ? n->indic : n->trans, n->ubuf, &ulen, NORM_UCAP - 1, 0, &limit, &st);
	if (U_FAILURE(st)) {
		tokenize_ascii(text, len, kind, out);
		return;
	}
	u_strToUTF8(n->abuf, (int32_t)sizeof(n->abuf), &alen, n->ubuf, ulen, &st);
	if (U_FAILURE(st) || alen < 0) {
		tokenize_ascii(text, len, kind, out);
		return;
	}
	alen = (int32_t)english_j(n->abuf, (size_t)alen);
	tokenize_ascii(n->abuf, (size_t)alen, kind, out);
	*transliterated = other_script;
}

size_t normalize_postcode(const char *text, char *out, size_t cap)
{
	size_t k = 0;

	if (cap == 0)
		return 0;
	if (text != NULL) {
		for (size_t i = 0; text[i] != '\0' && i < NORM_INPUT_MAX && k + 1 < cap; i++) {
			char c = text[i];
			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
				out[k++] = c;
		}
	}
	out[k] = '\0';
	return k;
}

/* ASCII only, whatever the locale. */
#define PC_UPPER(c) ((c) >= 'A' && (c) <= 'Z')
#define PC_DIGIT(c) ((c) >= '0' && (c) <= '9')

/* The outward code's shapes: A9, A99, A9A, AA9, AA99, AA9A. */
static bool pc_outward(const char *t, size_t n)
{
	size_t i = 0;

	if (n < 2 || n > 4 || !PC_UPPER(t[0]))
		return false;
	i = PC_UPPER(t[1]) ? 2 : 1;
	if (i >= n || !PC_DIGIT(t[i]))
		return false;
	i++;
	if (i < n && (PC_DIGIT(t[i]) || PC_UPPER(t[i])))
		i++;
	return i == n;
}

/* The inward code: 9AA. */
static bool pc_inward(const char *t, size_t n)
{
	return n == 3 && PC_DIGIT(t[0]) && PC_UPPER(t[1]) &&
	       PC_UPPER(t[2]);
}

#define PC_WORD_MAX 16
#define PC_TEXT_MAX 2048 /* bytes of a text looked at for a postcode */

/* A word of the text just ended (w, n letters and digits; n may exceed
 * what w holds, and then it is no postcode): the postcode it makes, alone
 * or after the word before it (p, pn), written to out.  Returns its
 * length, 0 if none (or if it would not fit). */
static size_t pc_word_done(const char *p, size_t pn, const char *w, size_t n, char *out, size_t cap)
{
	if (pn > 0 && pc_outward(p, pn) && pc_inward(w, n)) {
		if (pn + 4 > cap)
			return 0;
		memcpy(out, p, pn);
		memcpy(out + pn, w, 3);
		out[pn + 3] = '\0';
		return pn + 3;
	}
	if (n >= 5 && n <= 7 && pc_outward(w, n - 3) && pc_inward(w + n - 3, 3)) {
		if (n + 1 > cap)
			return 0;
		memcpy(out, w, n);
		out[n] = '\0';
		return n;
	}
	return 0;
}

size_t postcode_in_text(const char *text, char *out, size_t cap)
{
	char w[2][PC_WORD_MAX];
	size_t wl[2] = {0, 0}, cur = 0, k;
	bool in = false;

	if (cap == 0)
		return 0;
	out[0] = '\0';
	if (text == NULL)
		return 0;
	/* Words of letters and digits, upper-cased; anything else (spaces,
	 * punctuation, bytes of other scripts) separates them.  Each word is
	 * tried alone and after the one before it, in the order they come. */
	for (size_t i = 0; i <= PC_TEXT_MAX; i++) {
		char c = i < PC_TEXT_MAX ? text[i] : '\0';
		bool alnum;

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		alnum = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (alnum) {
			if (!in) {
				cur ^= 1;
				wl[cur] = 0;
				in = true;
			}
			if (wl[cur] < PC_WORD_MAX - 1)
				w[cur][wl[cur]] = c;
			if (wl[cur] < PC_WORD_MAX)
				wl[cur]++; /* a word too long for a postcode stays too long */
			continue;
		}
		if (in) {
			size_t pl = wl[cur ^ 1] < PC_WORD_MAX ? wl[cur ^ 1] : 0;
			in = false;
			if (wl[cur] < PC_WORD_MAX && (k = pc_word_done(w[cur ^ 1], pl, w[cur], wl[cur], out, cap)) > 0)
				return k;
		}
		if (c == '\0')
			break;
	}
	out[0] = '\0';
	return 0;
}

/* The UK's postcode areas, the letters an outward code starts with. */
static bool pc_area(const char *t, size_t n)
{
	static const char *const areas[] = {
		"AB", "AL", "B",  "BA", "BB", "BD", "BF", "BH", "BL", "BN", "BR", "BS", "BT", "BX", "CA", "CB", "CF",
		"CH", "CM", "CO", "CR", "CT", "CV", "CW", "DA", "DD", "DE", "DG", "DH", "DL", "DN", "DT",
		"DY", "E",  "EC", "EH", "EN", "EX", "FK", "FY", "G",  "GL", "GU", "GY", "HA", "HD", "HG",
		"HP", "HR", "HS", "HU", "HX", "IG", "IM", "IP", "IV", "JE", "KA", "KT", "KW", "KY", "L",
		"LA", "LD", "LE", "LL", "LN", "LS", "LU", "M",  "ME", "MK", "ML", "N",  "NE", "NG", "NN",
		"NP", "NR", "NW", "OL", "OX", "PA", "PE", "PH", "PL", "PO", "PR", "RG", "RH", "RM", "S",
		"SA", "SE", "SG", "SK", "SL", "SM", "SN", "SO", "SP", "SR", "SS", "ST", "SW", "SY", "TA",
		"TD", "TF", "TN", "TQ", "TR", "TS", "TW", "UB", "W",  "WA", "WC", "WD", "WF", "WN", "WR",
		"WS", "WV", "YO", "ZE", NULL};

	for (size_t i = 0; areas[i] != NULL; i++)
		if (strlen(areas[i]) == n && memcmp(areas[i], t, n) == 0)
			return true;
	return false;
}

/* Whether t (n letters and digits) is a postcode, or with whole false an
 * outward code alone, of a real area and with an inward code's letters
 * (never C, I, K, M, O or V). */
static bool pc_valid(const char *t, size_t n, bool whole)
{
	size_t o = whole ? n - 3 : n, a = 0;

	if (whole && (n < 5 || !pc_inward(t + o, 3) || strchr("CIKMOV", t[o + 1]) != NULL ||
		      strchr("CIKMOV", t[o + 2]) != NULL))
		return false;
	if (!pc_outward(t, o))
		return false;
	while (a < o && PC_UPPER(t[a]))
		a++;
	return pc_area(t, a > 2 ? 2 : a);
}

/* The characters a letter or digit is misread or mistyped as, each way. */
static const char *pc_lookalikes(char c)
{
	switch (c) {
	case '0': return "OD";
	case '1': return "IL";
	case '2': return "Z";
	case '5': return "S";
	case '6': return "G";
	case '7': return "T";
	case '8': return "B";
	case 'O': case 'D': case 'Q': return "0";
	case 'I': case 'L': return "1";
	case 'Z': return "2";
	case 'S': return "5";
	case 'G': return "6";
	case 'T': return "7";
	case 'B': return "8";
	default: return "";
	}
}

struct pc_repair {
	char best[8];
	unsigned changes; /* of best */
	unsigned n_best;  /* readings with that many changes */
};

/* Tries every reading of t[i..n) with at most `left` more lookalikes
 * read the other way, keeping the valid ones with fewest changes. */
static void pc_try(char *t, size_t n, size_t i, unsigned changes, unsigned left, bool whole,
		   struct pc_repair *r)
{
	if (i == n) {
		if (changes == 0 || !pc_valid(t, n, whole))
			return;
		if (r->n_best == 0 || changes < r->changes) {
			r->changes = changes;
			r->n_best = 0;
		}
		if (changes == r->changes && (r->n_best == 0 || strcmp(r->best, t) != 0)) {
			memcpy(r->best, t, n + 1);
			r->n_best++;
		}
		return;
	}
	pc_try(t, n, i + 1, changes, left, whole, r);
	if (left == 0)
		return;
	for (const char *alt = pc_lookalikes(t[i]); *alt != '\0'; alt++) {
		char keep = t[i];
		t[i] = *alt;
		pc_try(t, n, i + 1, changes + 1, left - 1, whole, r);
		t[i] = keep;
	}
}

/*
 * A postcode that is none as typed but one a letter or two read as the
 * digit it looks like (or the other way) would make: WSl9 8ST, W519 8ST,
 * WS19 BST are WS19 8ST.  Only when exactly one such reading needs the
 * fewest changes, of a real area, and at most two; an outward code alone
 * (W519) likewise.  out (n letters and digits, upper case) is repaired
 * in place.
 */
static void pc_repair(char *out, size_t n)
{
	struct pc_repair r = {.n_best = 0};
	bool whole = n >= 5 && n <= 7;
	char t[8];

	if (!(whole || (n >= 2 && n <= 4)) || pc_valid(out, n, whole) || strcmp(out, "GIR0AA") == 0)
		return;
	memcpy(t, out, n);
	t[n] = '\0';
	pc_try(t, n, 0, 0, 2, whole, &r);
	if (r.n_best == 1)
		memcpy(out, r.best, n);
}

/* Full-width Latin letters and digits (U+FF10-FF19, FF21-FF3A, FF41-FF5A,
 * as an East Asian keyboard types them) as ASCII, and the full-width
 * space as a space; the rest as it is.  Returns dst. */
static const char *pc_halfwidth(const char *text, char *dst, size_t cap)
{
	size_t k = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p != '\0' && k + 1 < cap; p++) {
		if (p[0] == 0xEF && (p[1] == 0xBC || p[1] == 0xBD) && p[2] >= 0x80 && p[2] <= 0xBF) {
			unsigned cp = 0xFF00u + (unsigned)(p[1] - 0xBC) * 0x40u + (unsigned)(p[2] - 0x80);
			if (cp >= 0xFF01 && cp <= 0xFF5E) {
				dst[k++] = (char)(cp - 0xFEE0);
				p += 2;
				continue;
			}
		}
		if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) {
			dst[k++] = ' ';
			p += 2;
			continue;
		}
		dst[k++] = (char)*p;
	}
	dst[k] = '\0';
	return dst;
}

size_t normalize_query_postcode(const char *text, char *out, size_t cap)
{
	char half[PC_TEXT_MAX + 1];
	size_t k;

	if (cap == 0)
		return 0;
	out[0] = '\0';
	if (text == NULL)
		return 0;
	text = pc_halfwidth(text, half, sizeof(half));
	if ((k = postcode_in_text(text, out, cap)) > 0)
		return k;
	k = normalize_postcode(text, out, cap);
	if (strpbrk(out, "0123456789") == NULL) {
		out[0] = '\0';
		return 0;
	}
	pc_repair(out, k);
	return k;
}
