/*
 * compare.c - string, phonetic, date and postcode comparators (compare.h).
 *
 * Everything works on bounded stack buffers: the scorer calls these
 * functions thousands of times per check and must never allocate.
 * Double Metaphone is written from Philips' published description of the
 * algorithm (C/C++ Users Journal, June 2000), rule by rule.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"

static size_t cap_len(size_t n)
{
	return n < COMPARE_STR_MAX ? n : COMPARE_STR_MAX;
}

/* ---------------------------------------------------------------- Jaro */

/*
 * Jaro's matching, one bit per position (COMPARE_STR_MAX is 64): for
 * each character of a in order, the first position of b inside the
 * window that holds the same character and is not yet taken, as the
 * textbook loop finds it, but as the lowest bit of a mask.  pos[c] has a
 * bit for every position of b holding c; only the entries of a's and b's
 * characters are cleared and read, so the table is never set in full.
 */
double jaro(const char *a, size_t alen, const char *b, size_t blen)
{
	uint64_t pos[256], am = 0, bm = 0;
	size_t window, matches = 0, trans = 0;

	_Static_assert(COMPARE_STR_MAX <= 64, "one bit per position");
	alen = cap_len(alen);
	blen = cap_len(blen);
	if (alen == 0 && blen == 0)
		return 1.0;
	if (alen == 0 || blen == 0)
		return 0.0;
	window = (alen > blen ? alen : blen) / 2;
	window = window > 0 ? window - 1 : 0;
	for (size_t i = 0; i < alen; i++)
		pos[(unsigned char)a[i]] = 0;
	for (size_t j = 0; j < blen; j++)
		pos[(unsigned char)b[j]] = 0;
	for (size_t j = 0; j < blen; j++)
		pos[(unsigned char)b[j]] |= UINT64_C(1) << j;
	/* The window of a[i]: positions up to i + window (upto) and not
	 * below i - window (below), slid one place a character; pos holds
	 * no position past b's end. */
	uint64_t upto = (UINT64_C(1) << (window + 1)) - 1, below = 0;
	for (size_t i = 0; i < alen; i++) {
		uint64_t free_here = pos[(unsigned char)a[i]] & ~bm & upto & ~below;
		if (free_here != 0) {
			bm |= free_here & -free_here;
			am |= UINT64_C(1) << i;
			matches++;
		}
		upto = upto << 1 | 1;
		if (i >= window)
			below = below << 1 | 1;
	}
	if (am == 0)
		return 0.0;
	/* The matched characters of each string in order, pairwise. */
	for (uint64_t x = am, y = bm; x != 0; x &= x - 1, y &= y - 1)
		if (a[__builtin_ctzll(x)] != b[__builtin_ctzll(y)])
			trans++;
	double m = (double)matches;
	return (m / (double)alen + m / (double)blen + (m - (double)trans / 2.0) / m) / 3.0;
}

double jaro_winkler(const char *a, size_t alen, const char *b, size_t blen)
{
	double j = jaro(a, alen, b, blen);
	size_t prefix = 0;

	if (j <= 0.7)
		return j;
	while (prefix < 4 && prefix < alen && prefix < blen && a[prefix] == b[prefix])
		prefix++;
	return j + (double)prefix * 0.1 * (1.0 - j);
}

/*
 * At most as many characters match as the two strings have in common,
 * each taken once wherever it stands (m <= common), and none out of
 * order, so Jaro is at most (common/|a| + common/|b| + 1) / 3; Winkler's
 * boost, with the common prefix the strings have, is increasing in it.
 * A bound below floor (by more than rounding could account for) means
 * jaro_winkler() is too.
 */
double jaro_winkler_floor(const char *a, size_t alen, const char *b, size_t blen, double floor)
{
	unsigned char count[256];
	size_t common = 0, prefix = 0;
	double m, most;

	if (alen == 0 || blen == 0 || alen > COMPARE_STR_MAX || blen > COMPARE_STR_MAX)
		return jaro_winkler(a, alen, b, blen);
	for (size_t i = 0; i < alen; i++)
		count[(unsigned char)a[i]] = 0;
	for (size_t j = 0; j < blen; j++)
		count[(unsigned char)b[j]] = 0;
	for (size_t i = 0; i < alen; i++)
		count[(unsigned char)a[i]]++;
	for (size_t j = 0; j < blen; j++) {
		if (count[(unsigned char)b[j]] > 0) {
			count[(unsigned char)b[j]]--;
			common++;
		}
	}
	while (prefix < 4 && prefix < alen && prefix < blen && a[prefix] == b[prefix])
		prefix++;
	m = (double)common;
	most = (m / (double)alen + m / (double)blen + 1.0) / 3.0;
	most += (double)prefix * 0.1 * (1.0 - most);
	if (common == 0 || most < floor - 1e-9)
		return 0.0;
	return jaro_winkler(a, alen, b, blen);
}

/* ---------------------------------------------------- Damerau-Levenshtein */

int damerau_levenshtein(const char *a, size_t alen, const char *b, size_t blen)
{
	/* d has a border row and column holding "infinity" (alen + blen). */
	enum { W = COMPARE_STR_MAX + 2 };
	int d[W][W];
	int last_row[256] = {0}; /* last row (1-based) where each byte was seen in a */
	int inf;

	alen = cap_len(alen);
	blen = cap_len(blen);
	inf = (int)(alen + blen);
	d[0][0] = inf;
	for (size_t i = 0; i <= alen; i++) {
		d[i + 1][0] = inf;
		d[i + 1][1] = (int)i;
	}
	for (size_t j = 0; j <= blen; j++) {
		d[0][j + 1] = inf;
		d[1][j + 1] = (int)j;
	}
	for (size_t i = 1; i <= alen; i++) {
		int last_col = 0; /* last column in this row where a[i-1] matched */
		for (size_t j = 1; j <= blen; j++) {
			int i1 = last_row[(unsigned char)b[j - 1]];
			int j1 = last_col;
			int cost = 1;
			if (a[i - 1] == b[j - 1]) {
				cost = 0;
				last_col = (int)j;
			}
			int v = d[i][j] + cost;                      /* substitution */
			if (d[i + 1][j] + 1 < v)
				v = d[i + 1][j] + 1;                 /* insertion */
			if (d[i][j + 1] + 1 < v)
				v = d[i][j + 1] + 1;                 /* deletion */
			int t = d[i1][j1] + ((int)i - i1 - 1) + 1 + ((int)j - j1 - 1);
			if (t < v)
				v = t;                               /* transposition */
			d[i + 1][j + 1] = v;
		}
		last_row[(unsigned char)a[i - 1]] = (int)i;
	}
	return d[alen + 1][blen + 1];
}

/* ------------------------------------------------------- Double Metaphone */

struct dm {
	char w[COMPARE_STR_MAX + 8]; /* upper case, padded with NULs */
	int len;
	char p[DM_CODE_MAX + 1], a[DM_CODE_MAX + 1];
	int plen, alen;
	bool slavo_germanic;
	bool primary_only; /* stop once the primary code is whole */
};

static char dm_at(const struct dm *d, int i)
{
	return i < 0 || i >= d->len ? '\0' : d->w[i];
}

static bool dm_vowel(const struct dm *d, int i)
{
	char c = dm_at(d, i);
	return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U' || c == 'Y';
}

/*
 * True if one of the NULL-terminated strings (all of length n) starts at i.
 * This runs at every rule of every letter, so the IS macro gives each rule
 * its patterns as a static array (built once, not at every call) and this
 * is inlined into the rule, where the compiler can unroll the walk over
 * patterns it knows: a word's codes took some 350 ns, now about 120 (the
 * sounds of a long name's misspellings are some 600 of them).  Past the
 * end reads as NUL (w is padded with them), so a pattern's trailing space
 * (the published rules' word separator) matches the end of the word.
 */
static inline __attribute__((always_inline)) bool dm_is(const struct dm *d, int i, int n, const char *const *list)
{
	const char *s;

	if (i < 0)
		return false;
	if (i + n > (int)sizeof(d->w)) {
		/* Never from the rules' offsets (at most 6 past the last
		 * letter); kept exact all the same, through dm_at. */
		for (; (s = *list) != NULL; list++) {
			int k;
			for (k = 0; k < n; k++) {
				char c = dm_at(d, i + k);
				if (s[k] == ' ' ? c != '\0' && c != ' ' : c != s[k])
					break;
			}
			if (k == n)
				return true;
		}
		return false;
	}
	for (; (s = *list) != NULL; list++) {
		int k;

		/* Most patterns differ from the word at their first letter. */
		if (s[0] != ' ' && s[0] != d->w[i])
			continue;
		for (k = 0; k < n; k++) {
			char c = d->w[i + k];
			if (s[k] == ' ' ? c != '\0' && c != ' ' : c != s[k])
				break;
		}
		if (k == n)
			return true;
	}
	return false;
}

static void dm_add2(struct dm *d, const char *p, const char *a)
{
	for (; *p != '\0' && d->plen < DM_CODE_MAX; p++)
		d->p[d->plen++] = *p;
	for (; *a != '\0' && d->alen < DM_CODE_MAX; a++)
		d->a[d->alen++] = *a;
}

static void dm_add(struct dm *d, const char *both)
{
	dm_add2(d, both, both);
}

#define IS(i, n, ...)                                                              \
	__extension__({                                                            \
		static const char *const is_list_[] = {__VA_ARGS__, NULL};         \
		dm_is(d, (i), (n), is_list_);                                      \
	})

static int dm_c(struct dm *d, int cur)
{
	if (cur > 1 && !dm_vowel(d, cur - 2) && IS(cur - 1, 3, "ACH") && dm_at(d, cur + 2) != 'I' &&
	    (dm_at(d, cur + 2) != 'E' || IS(cur - 2, 6, "BACHER", "MACHER"))) {
		dm_add(d, "K");
		return cur + 2;
	}
	if (cur == 0 && IS(cur, 6, "CAESAR")) {
		dm_add(d, "S");
		return cur + 2;
	}
	if (IS(cur, 4, "CHIA")) {
		dm_add(d, "K");
		return cur + 2;
	}
	if (IS(cur, 2, "CH")) {
		if (cur > 0 && IS(cur, 4, "CHAE")) {
			dm_add2(d, "K", "X");
			return cur + 2;
		}
		if (cur == 0 && (IS(cur + 1, 5, "HARAC", "HARIS") || IS(cur + 1, 3, "HOR", "HYM", "HIA", "HEM")) &&
		    !IS(0, 5, "CHORE")) {
			dm_add(d, "K");
			return cur + 2;
		}
		if (IS(0, 4, "VAN ", "VON ") || IS(0, 3, "SCH") || IS(cur - 2, 6, "ORCHES", "ARCHIT", "ORCHID") ||
		    IS(cur + 2, 1, "T", "S") ||
		    ((IS(cur - 1, 1, "A", "O", "U", "E") || cur == 0) &&
		     IS(cur + 2, 1, "L", "R", "N", "M", "B", "H", "F", "V", "W", " "))) {
			dm_add(d, "K");
		} else if (cur > 0) {
			if (IS(0, 2, "MC"))
				dm_add(d, "K");
			else
				dm_add2(d, "X", "K");
		} else {
			dm_add(d, "X");
		}
		return cur + 2;
	}
	if (IS(cur, 2, "CZ") && !IS(cur - 2, 4, "WICZ")) {
		dm_add2(d, "S", "X");
		return cur + 2;
	}
	if (IS(cur + 1, 3, "CIA")) {
		dm_add(d, "X");
		return cur + 3;
	}
	if (IS(cur, 2, "CC") && !(cur == 1 && dm_at(d, 0) == 'M')) {
		if (IS(cur + 2, 1, "I", "E", "H") && !IS(cur + 2, 2, "HU")) {
			if ((cur == 1 && dm_at(d, cur - 1) == 'A') || IS(cur - 1, 5, "UCCEE", "UCCES"))
				dm_add(d, "KS");
			else
				dm_add(d, "X");
			return cur + 3;
		}
		dm_add(d, "K");
		return cur + 2;
	}
	if (IS(cur, 2, "CK", "CG", "CQ")) {
		dm_add(d, "K");
		return cur + 2;
	}
	if (IS(cur, 2, "CI", "CE", "CY")) {
		if (IS(cur, 3, "CIO", "CIE", "CIA"))
			dm_add2(d, "S", "X");
		else
			dm_add(d, "S");
		return cur + 2;
	}
	dm_add(d, "K");
	if (IS(cur + 1, 2, " C", " Q", " G"))
		return cur + 3;
	if (IS(cur + 1, 1, "C", "K", "Q") && !IS(cur + 1, 2, "CE", "CI"))
		return cur + 2;
	return cur + 1;
}

static int dm_g(struct dm *d, int cur)
{
	char next = dm_at(d, cur + 1);

	if (next == 'H') {
		if (cur > 0 && !dm_vowel(d, cur - 1)) {
			dm_add(d, "K");
			return cur + 2;
		}
		if (cur == 0) {
			dm_add(d, dm_at(d, cur + 2) == 'I' ? "J" : "K");
			return cur + 2;
		}
		/* Silent in Hugh, bough, broughton. */
		if ((cur > 1 && IS(cur - 2, 1, "B", "H", "D")) || (cur > 2 && IS(cur - 3, 1, "B", "H", "D")) ||
		    (cur > 3 && IS(cur - 4, 1, "B", "H")))
			return cur + 2;
		if (cur > 2 && dm_at(d, cur - 1) == 'U' && IS(cur - 3, 1, "C", "G", "L", "R", "T"))
			dm_add(d, "F"); /* laugh, tough */
		else if (cur > 0 && dm_at(d, cur - 1) != 'I')
			dm_add(d, "K");
		return cur + 2;
	}
	if (next == 'N') {
		if (cur == 1 && dm_vowel(d, 0) && !d->slavo_germanic)
			dm_add2(d, "KN", "N");
		else if (!IS(cur + 2, 2, "EY") && dm_at(d, cur + 1) != 'Y' && !d->slavo_germanic)
			dm_add2(d, "N", "KN");
		else
			dm_add(d, "KN");
		return cur + 2;
	}
	if (IS(cur + 1, 2, "LI") && !d->slavo_germanic) {
		dm_add2(d, "KL", "L");
		return cur + 2;
	}
	if (cur == 0 && (next == 'Y' || IS(cur + 1, 2, "ES", "EP", "EB", "EL", "EY", "IB", "IL", "IN", "IE", "EI", "ER"))) {
		dm_add2(d, "K", "J");
		return cur + 2;
	}
	if ((IS(cur + 1, 2, "ER") || next == 'Y') && !IS(0, 6, "DANGER", "RANGER", "MANGER") &&
	    !IS(cur - 1, 1, "E", "I") && !IS(cur - 1, 3, "RGY", "OGY")) {
		dm_add2(d, "K", "J");
		return cur + 2;
	}
	if (IS(cur + 1, 1, "E", "I", "Y") || IS(cur - 1, 4, "AGGI", "OGGI")) {
		if (IS(0, 4, "VAN ", "VON ") || IS(0, 3, "SCH") || IS(cur + 1, 2, "ET"))
			dm_add(d, "K");
		else if (IS(cur + 1, 4, "IER "))
			dm_add(d, "J");
		else
			dm_add2(d, "J", "K");
		return cur + 2;
	}
	dm_add(d, "K");
	return next == 'G' ? cur + 2 : cur + 1;
}

static int dm_j(struct dm *d, int cur)
{
	if (IS(cur, 4, "JOSE") || IS(0, 4, "SAN ")) {
		if ((cur == 0 && dm_at(d, cur + 4) == ' ') || IS(0, 4, "SAN "))
			dm_add(d, "H");
		else
			dm_add2(d, "J", "H");
		return cur + 1;
	}
	if (cur == 0 && !IS(cur, 4, "JOSE"))
		dm_add2(d, "J", "A");
	else if (dm_vowel(d, cur - 1) && !d->slavo_germanic &&
		 (dm_at(d, cur + 1) == 'A' || dm_at(d, cur + 1) == 'O'))
		dm_add2(d, "J", "H");
	else if (cur == d->len - 1)
		dm_add2(d, "J", "");
	else if (!IS(cur + 1, 1, "L", "T", "K", "S", "N", "M", "B", "Z") && !IS(cur - 1, 1, "S", "K", "L"))
		dm_add(d, "J");
	return dm_at(d, cur + 1) == 'J' ? cur + 2 : cur + 1;
}

static int dm_s(struct dm *d, int cur)
{
	int last = d->len - 1;

	if (IS(cur - 1, 3, "ISL", "YSL"))
		return cur + 1; /* island, carlisle */
	if (cur == 0 && IS(cur, 5, "SUGAR")) {
		dm_add2(d, "X", "S");
		return cur + 1;
	}
	if (IS(cur, 2, "SH")) {
		if (IS(cur + 1, 4, "HEIM", "HOEK", "HOLM", "HOLZ"))
			dm_add(d, "S");
		else
			dm_add(d, "X");
		return cur + 2;
	}
	if (IS(cur, 3, "SIO", "SIA") || IS(cur, 4, "SIAN")) {
		if (!d->slavo_germanic)
			dm_add2(d, "S", "X");
		else
			dm_add(d, "S");
		return cur + 3;
	}
	if ((cur == 0 && IS(cur + 1, 1, "M", "N", "L", "W")) || IS(cur + 1, 1, "Z")) {
		dm_add2(d, "S", "X");
		return IS(cur + 1, 1, "Z") ? cur + 2 : cur + 1;
	}
	if (IS(cur, 2, "SC")) {
		if (dm_at(d, cur + 2) == 'H') {
			if (IS(cur + 3, 2, "OO", "ER", "EN", "UY", "ED", "EM")) {
				if (IS(cur + 3, 2, "ER", "EN"))
					dm_add2(d, "X", "SK");
				else
					dm_add(d, "SK");
				return cur + 3;
			}
			if (cur == 0 && !dm_vowel(d, 3) && dm_at(d, 3) != 'W')
				dm_add2(d, "X", "S");
			else
				dm_add(d, "X");
			return cur + 3;
		}
		if (IS(cur + 2, 1, "I", "E", "Y")) {
			dm_add(d, "S");
			return cur + 3;
		}
		dm_add(d, "SK");
		return cur + 3;
	}
	if (cur == last && IS(cur - 2, 2, "AI", "OI"))
		dm_add2(d, "", "S"); /* French: Dubois */
	else
		dm_add(d, "S");
	return IS(cur + 1, 1, "S", "Z") ? cur + 2 : cur + 1;
}

static int dm_t(struct dm *d, int cur)
{
	if (IS(cur, 4, "TION")) {
		dm_add(d, "X");
		return cur + 3;
	}
	if (IS(cur, 3, "TIA", "TCH")) {
		dm_add(d, "X");
		return cur + 3;
	}
	if (IS(cur, 2, "TH") || IS(cur, 3, "TTH")) {
		if (IS(cur + 2, 2, "OM", "AM") || IS(0, 4, "VAN ", "VON ") || IS(0, 3, "SCH"))
			dm_add(d, "T");
		else
			dm_add2(d, "0", "T");
		return cur + 2;
	}
	dm_add(d, "T");
	return IS(cur + 1, 1, "T", "D") ? cur + 2 : cur + 1;
}

static int dm_w(struct dm *d, int cur)
{
	int last = d->len - 1;

	if (IS(cur, 2, "WR")) {
		dm_add(d, "R");
		return cur + 2;
	}
	if (cur == 0 && (dm_vowel(d, cur + 1) || IS(cur, 2, "WH"))) {
		if (dm_vowel(d, cur + 1))
			dm_add2(d, "A", "F"); /* Wasserman / Vasserman */
		else
			dm_add(d, "A");
	}
	if ((cur == last && dm_vowel(d, cur - 1)) || IS(cur - 1, 5, "EWSKI", "EWSKY", "OWSKI", "OWSKY") ||
	    IS(0, 3, "SCH")) {
		dm_add2(d, "", "F");
		return cur + 1;
	}
	if (IS(cur, 4, "WICZ", "WITZ")) {
		dm_add2(d, "TS", "FX");
		return cur + 4;
	}
	return cur + 1;
}

/*
 * The codes of word into d->p and d->a.  The cursor's way through the word
 * and the primary code never depend on the alternate (dm_add2 appends to
 * each apart), so with d->primary_only set the walk stops once the
 * primary is whole and gives the same primary.
 */
static void dm_encode(struct dm *d, const char *word, size_t len)
{
	int cur = 0;

	/* ASCII letters in upper case and spaces, the rest left out; a W, a
	 * K or a CZ anywhere makes the word Slavic or Germanic (WITZ has its
	 * W). */
	for (size_t i = 0; i < len && d->len < COMPARE_STR_MAX; i++) {
		char c = word[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!(c >= 'A' && c <= 'Z') && c != ' ')
			continue;
		if (c == 'W' || c == 'K' || (c == 'Z' && d->len > 0 && d->w[d->len - 1] == 'C'))
			d->slavo_germanic = true;
		d->w[d->len++] = c;
	}

	if (IS(0, 2, "GN", "KN", "PN", "WR", "PS"))
		cur = 1;
	if (dm_at(d, 0) == 'X') {
		dm_add(d, "S"); /* Xavier */
		cur = 1;
	}
	while ((d->plen < DM_CODE_MAX || (d->alen < DM_CODE_MAX && !d->primary_only)) && cur < d->len) {
		char c = d->w[cur];
		switch (c) {
		case 'A': case 'E': case 'I': case 'O': case 'U': case 'Y':
			if (cur == 0)
				dm_add(d, "A");
			cur++;
			break;
		case 'B':
			dm_add(d, "P");
			cur += dm_at(d, cur + 1) == 'B' ? 2 : 1;
			break;
		case 'C':
			cur = dm_c(d, cur);
			break;
		case 'D':
			if (IS(cur, 2, "DG")) {
				if (IS(cur + 2, 1, "I", "E", "Y")) {
					dm_add(d, "J");
					cur += 3;
				} else {
					dm_add(d, "TK");
					cur += 2;
				}
			} else if (IS(cur, 2, "DT", "DD")) {
				dm_add(d, "T");
				cur += 2;
			} else {
				dm_add(d, "T");
				cur++;
			}
			break;
		case 'F':
			dm_add(d, "F");
			cur += dm_at(d, cur + 1) == 'F' ? 2 : 1;
			break;
		case 'G':
			cur = dm_g(d, cur);
			break;
		case 'H':
			if ((cur == 0 || dm_vowel(d, cur - 1)) && dm_vowel(d, cur + 1)) {
				dm_add(d, "H");
				cur += 2;
			} else {
				cur++;
			}
			break;
		case 'J':
			cur = dm_j(d, cur);
			break;
		case 'K':
			dm_add(d, "K");
			cur += dm_at(d, cur + 1) == 'K' ? 2 : 1;
			break;
		case 'L':
			if (dm_at(d, cur + 1) == 'L') {
				int last = d->len - 1;
				if ((cur == d->len - 3 && IS(cur - 1, 4, "ILLO", "ILLA", "ALLE")) ||
				    ((IS(last - 1, 2, "AS", "OS") || IS(last, 1, "A", "O")) && IS(cur - 1, 4, "ALLE"))) {
					dm_add2(d, "L", ""); /* Spanish: Cabrillo */
					cur += 2;
					break;
				}
				cur += 2;
			} else {
				cur++;
			}
			dm_add(d, "L");
			break;
		case 'M':
			if ((IS(cur - 1, 3, "UMB") && (cur + 1 == d->len - 1 || IS(cur + 2, 2, "ER"))) ||
			    dm_at(d, cur + 1) == 'M')
				cur += 2;
			else
				cur++;
			dm_add(d, "M");
			break;
		case 'N':
			dm_add(d, "N");
			cur += dm_at(d, cur + 1) == 'N' ? 2 : 1;
			break;
		case 'P':
			if (dm_at(d, cur + 1) == 'H') {
				dm_add(d, "F");
				cur += 2;
			} else {
				dm_add(d, "P");
				cur += IS(cur + 1, 1, "P", "B") ? 2 : 1;
			}
			break;
		case 'Q':
			dm_add(d, "K");
			cur += dm_at(d, cur + 1) == 'Q' ? 2 : 1;
			break;
		case 'R':
			if (cur == d->len - 1 && !d->slavo_germanic && IS(cur - 2, 2, "IE") &&
			    !IS(cur - 4, 2, "ME", "MA"))
				dm_add2(d, "", "R"); /* French: Rogier */
			else
				dm_add(d, "R");
			cur += dm_at(d, cur + 1) == 'R' ? 2 : 1;
			break;
		case 'S':
			cur = dm_s(d, cur);
			break;
		case 'T':
			cur = dm_t(d, cur);
			break;
		case 'V':
			dm_add(d, "F");
			cur += dm_at(d, cur + 1) == 'V' ? 2 : 1;
			break;
		case 'W':
			cur = dm_w(d, cur);
			break;
		case 'X':
			if (!(cur == d->len - 1 && (IS(cur - 3, 3, "IAU", "EAU") || IS(cur - 2, 2, "AU", "OU"))))
				dm_add(d, "KS");
			cur += IS(cur + 1, 1, "C", "X") ? 2 : 1;
			break;
		case 'Z':
			if (dm_at(d, cur + 1) == 'H') {
				dm_add(d, "J"); /* Chinese pinyin: Zhao */
				cur += 2;
				break;
			}
			if (IS(cur + 1, 2, "ZO", "ZI", "ZA") || (d->slavo_germanic && cur > 0 && dm_at(d, cur - 1) != 'T'))
				dm_add2(d, "S", "TS");
			else
				dm_add(d, "S");
			cur += dm_at(d, cur + 1) == 'Z' ? 2 : 1;
			break;
		default:
			cur++;
			break;
		}
	}
}

void double_metaphone_cold(const char *word, size_t len, char primary[DM_CODE_MAX + 1],
			   char alternate[DM_CODE_MAX + 1])
{
	struct dm d;

	memset(&d, 0, sizeof(d));
	dm_encode(&d, word, len);
	memcpy(primary, d.p, (size_t)d.plen);
	primary[d.plen] = '\0';
	memcpy(alternate, d.a, (size_t)d.alen);
	alternate[d.alen] = '\0';
}

void double_metaphone_primary(const char *word, size_t len, char primary[DM_CODE_MAX + 1])
{
	struct dm d;

	memset(&d, 0, sizeof(d));
	d.primary_only = true;
	dm_encode(&d, word, len);
	memcpy(primary, d.p, (size_t)d.plen);
	primary[d.plen] = '\0';
}

/*
 * The codes of the words this thread encoded last, by the word's bytes.  A
 * register repeats its names (a few thousand family names among 100,000
 * people) and the indexer encodes every token of every name and alias, so
 * most words were encoded moments ago.  Direct-mapped and fixed in size
 * (128 KiB a thread, touched only by threads that encode): a collision
 * just replaces the older word, and a word longer than a slot's key is
 * encoded every time.  The codes depend on nothing but the bytes, so a hit
 * gives what a cold call would.
 */
#define DM_MEMO_SLOTS 4096 /* a power of two */
#define DM_MEMO_KEY 21     /* makes a slot 32 bytes */

struct dm_memo {
	unsigned char len; /* 0: empty (the empty word is not kept) */
	char key[DM_MEMO_KEY];
	char p[DM_CODE_MAX + 1], a[DM_CODE_MAX + 1];
};

static _Thread_local struct dm_memo dm_memo[DM_MEMO_SLOTS];

void double_metaphone(const char *word, size_t len, char primary[DM_CODE_MAX + 1],
		      char alternate[DM_CODE_MAX + 1])
{
	struct dm_memo *m;
	uint32_t h = 2166136261u; /* FNV-1a */

	if (len == 0 || len > DM_MEMO_KEY) {
		double_metaphone_cold(word, len, primary, alternate);
		return;
	}
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)word[i]) * 16777619u;
	m = &dm_memo[(h ^ h >> 16) & (DM_MEMO_SLOTS - 1)];
	if (m->len != len || memcmp(m->key, word, len) != 0) {
		memset(m->p, 0, sizeof(m->p)); /* what follows a code's NUL too */
		memset(m->a, 0, sizeof(m->a));
		double_metaphone_cold(word, len, m->p, m->a);
		memcpy(m->key, word, len);
		m->len = (unsigned char)len;
	}
	memcpy(primary, m->p, sizeof(m->p));
	memcpy(alternate, m->a, sizeof(m->a));
}

#undef IS

/* ---------------------------------------------------------------- Soundex */

static char soundex_code(char c)
{
	switch (c) {
	case 'B': case 'F': case 'P': case 'V': return '1';
	case 'C': case 'G': case 'J': case 'K': case 'Q': case 'S': case 'X': case 'Z': return '2';
	case 'D': case 'T': return '3';
	case 'L': return '4';
	case 'M': case 'N': return '5';
	case 'R': return '6';
	default: return '0'; /* vowels, H, W, Y */
	}
}

void soundex(const char *word, size_t len, char out[5])
{
	size_t k = 0;
	char last = 0;

	out[0] = '\0';
	for (size_t i = 0; i < len && k < 4; i++) {
		unsigned char uc = (unsigned char)word[i];
		if (uc >= 0x80 || !isalpha(uc))
			continue;
		char c = (char)toupper(uc);
		char code = soundex_code(c);
		if (k == 0) {
			out[k++] = c;
			last = code;
			continue;
		}
		if (c == 'H' || c == 'W')
			continue; /* do not separate letters of the same code */
		if (code == '0') {
			last = 0;
			continue;
		}
		if (code != last)
			out[k++] = code;
		last = code;
	}
	if (k == 0)
		return;
	while (k < 4)
		out[k++] = '0';
	out[4] = '\0';
}

/* ------------------------------------------------- Consonant skeleton */

/*
 * Arabic writes a name's consonants and long vowels; its short vowels and
 * doubled letters are left to the reader, and ICU's romanisation keeps
 * what is written: محمد is mhmd, حسن hsn, حداد hdad.  A clerk writing the
 * same name in Latin letters writes the vowels as heard: Mohammed,
 * Hassan, Haddad.  Both read the same with their vowels and doubled
 * letters taken out.  The long vowels (ICU's a, w and y; Latin's ou, ee)
 * go too, except w and y opening a word (Walid, Youssef).  q is k, g is j
 * (Gamal, Jamal: ج), p is b (Arabic has none), and v is w: Urdu and
 * Persian say و as v (جاوید jawyd, Javed; نوید nwyd, Navid).  The ending
 * ة (ICU: t; Fatima) is left off, and a final h after two letters more
 * (Fatimah, Abdullah: عبدالله, bdallh).  The digraphs (kh, sh, th) are
 * left as two letters: ICU writes خ as kh, as a clerk does, but also
 * writes ط ح as t h side by side where a clerk writes a vowel between
 * (الطحان: althan, Al-Tahhan), which a digraph would make another letter.
 * dh is d: clerks write the d of ض and ذ as dh (Ramadhan; ICU: رمضان
 * rmdan), and Urdu writes the h of Chaudhry before its d (چوہدری:
 * chwhdry).
 */
size_t consonant_skeleton(const char *word, size_t len, char *out, size_t cap)
{
	size_t k = 0;

	if (cap == 0)
		return 0;
	if (len > COMPARE_STR_MAX)
		len = COMPARE_STR_MAX;
	for (size_t i = 0; i < len && k + 1 < cap; i++) {
		unsigned char uc = (unsigned char)word[i];
		char c;
		if (uc >= 0x80 || !isalpha(uc))
			continue;
		c = (char)tolower(uc);
		if (c == 'v')
			c = 'w';
		if (strchr("aeiou", c) != NULL || ((c == 'w' || c == 'y') && i > 0)) {
			continue;
		} else if (c == 'q' || c == 'c') {
			c = 'k';
		} else if (c == 'g') {
			c = 'j';
		} else if (c == 'p') {
			c = 'b';
		}
		if (k > 0 && (out[k - 1] == c || (c == 'h' && out[k - 1] == 'd')))
			continue;
		out[k++] = c;
	}
	if (k >= 2 && out[k - 1] == 't')
		k--;
	if (k >= 3 && out[k - 1] == 'h')
		k--;
	out[k] = '\0';
	return k;
}

/* ------------------------------------------------------- Dates of birth */

/*
 * The date's YYYYMMDD digits, byte i of the number the i-th (each part
 * taken modulo its width, as a form's boxes would hold it).  Two dates'
 * digits are compared all at once (digit_diffs).
 */
static uint64_t date_digits(const struct date *d)
{
	static const char two[100][2] = {
#define DIGITS_ROW(t) {t, '0'}, {t, '1'}, {t, '2'}, {t, '3'}, {t, '4'}, {t, '5'}, {t, '6'}, {t, '7'}, {t, '8'}, {t, '9'}
	    DIGITS_ROW('0'), DIGITS_ROW('1'), DIGITS_ROW('2'), DIGITS_ROW('3'), DIGITS_ROW('4'),
	    DIGITS_ROW('5'), DIGITS_ROW('6'), DIGITS_ROW('7'), DIGITS_ROW('8'), DIGITS_ROW('9'),
#undef DIGITS_ROW
	};
	char b[8];
	uint64_t v;

	memcpy(b, two[d->year / 100 % 100], 2);
	memcpy(b + 2, two[d->year % 100], 2);
	memcpy(b + 4, two[d->month % 100], 2);
	memcpy(b + 6, two[d->day % 100], 2);
	memcpy(&v, b, sizeof(v));
	return v;
}

/* The high bit of every byte in which two dates' digits (date_digits)
 * differ: digits '0'-'9' differ in their low four bits only, and a byte
 * of those plus 0x7f reaches 0x80 exactly when it is not zero. */
static uint64_t digit_diffs(uint64_t a, uint64_t b)
{
	return (((a ^ b) & UINT64_C(0x0f0f0f0f0f0f0f0f)) + UINT64_C(0x7f7f7f7f7f7f7f7f)) &
	       UINT64_C(0x8080808080808080);
}

/* Days from 1 March of year 0 (the civil calendar's days, for distances). */
static long civil_days(const struct date *d)
{
	long y = (long)d->year - (d->month <= 2);
	long m = d->month <= 2 ? d->month + 9 : d->month - 3;

	return y * 365 + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + d->day - 1;
}

#define DOB_NEAR_DAYS 3
#define DOB_WEEKS_DAYS 45

static long days_apart(const struct date *q, const struct date *r)
{
	return labs(civil_days(q) - civil_days(r));
}

/* Months 1-12 and days 1-31 (may_be_weeks_apart's and year_and_slip's
 * arithmetic holds for these). */
static bool date_in_range(const struct date *d)
{
	return d->month >= 1 && d->month <= 12 && d->day >= 1 && d->day <= 31;
}

/*
 * False when two dates the same year or a year apart are sure to be more
 * than DOB_WEEKS_DAYS apart, which most such pairs are, without counting
 * the days.  In one year, three months or more apart: the firsts of the
 * months are at least 89 days apart (1 February to 1 May), and the days
 * take at most 30 off, so 59 or more.  A year apart, unless from November
 * or December into January or February: 62 or more (31 October to
 * 1 January), or 59 or more (1 March is 59 days into a year).  For months
 * 1-12 and days 1-31 only; for any other date the days are counted.
 */
static bool may_be_weeks_apart(const struct date *q, const struct date *r)
{
	const struct date *early = q, *late = r;

	if (!date_in_range(q) || !date_in_range(r))
		return true;
	if (q->year == r->year)
		return abs((int)q->month - (int)r->month) <= 2;
	if (q->year > r->year) {
		early = r;
		late = q;
	}
	return early->month >= 11 && late->month <= 2;
}

enum dob_level compare_dob(const struct date *q, const struct date *r);

/* Dates a year apart (r's year one from q's) that, with q's year put
 * right, are one slip apart: DOB_YEAR_AND_SLIP. */
static bool year_and_slip(const struct date *q, const struct date *r)
{
	struct date q2 = *q;
	enum dob_level l;

	/* Another day as well, in months 1-12 and days 1-31: the slip is
	 * the day and month swapped, a digit of the day (the same month),
	 * two digits swapped across month and day (10/21 and 12/01: at most
	 * two months apart, for the day to stay a day and the month a
	 * month), or 1 to 3 days (a month apart at most).  Months further
	 * apart, not swapped, are no slip: most pairs a year apart. */
	if (q->day != r->day && date_in_range(q) && date_in_range(r) && abs((int)q->month - (int)r->month) > 2 &&
	    !(q->day == r->month && q->month == r->day))
		return false;
	q2.year = r->year;
	l = compare_dob(&q2, r);
	return l == DOB_DAY_MONTH_SWAPPED || l == DOB_ONE_DIGIT || l == DOB_NEAR;
}

enum dob_level compare_dob(const struct date *q, const struct date *r)
{
	uint64_t a, b, diffs, rest;

	if (q->year == 0 || r->year == 0)
		return DOB_ABSENT;
	if (q->year == r->year && q->month == r->month && q->day == r->day)
		return DOB_EXACT;
	if (q->year == r->year && q->day == r->month && q->month == r->day)
		return DOB_DAY_MONTH_SWAPPED;
	/* Another year and another day: at least two digits differ, one of
	 * the year's and one of the day's, never side by side (the month's
	 * lie between: not one digit transposed), and the birthday is not
	 * kept, so no nearer level can apply.  Most candidates a scorer sees
	 * are like this. */
	if (q->year != r->year && q->day != r->day) {
		/* (or, around a year's end, days or weeks apart) */
		long d;

		if (abs((int)q->year - (int)r->year) != 1)
			return DOB_MISMATCH;
		if (may_be_weeks_apart(q, r)) {
			d = days_apart(q, r);
			if (d <= DOB_NEAR_DAYS)
				return DOB_NEAR;
			if (d <= DOB_WEEKS_DAYS)
				return DOB_WEEKS;
		}
		return year_and_slip(q, r) ? DOB_YEAR_AND_SLIP : DOB_MISMATCH;
	}
	/* The birthday kept and the year one out: a year off by one, which
	 * two dates meet by chance, even where one digit is all that differs
	 * (1970 and 1971), which some thirty dates do. */
	if (q->month == r->month && q->day == r->day && abs((int)q->year - (int)r->year) == 1)
		return DOB_YEAR_OFF_BY_ONE;
	a = date_digits(q);
	b = date_digits(r);
	diffs = digit_diffs(a, b);
	rest = diffs & (diffs - 1); /* the differing digits but the first */
	if (diffs != 0 && rest == 0)
		return DOB_ONE_DIGIT;
	if (rest != 0 && (rest & (rest - 1)) == 0) {
		/* Two digits differ: 1978 typed as 1987 when they are side by
		 * side and swapped. */
		int first = __builtin_ctzll(diffs) / 8, second = __builtin_ctzll(rest) / 8;
		if (second == first + 1 && (uint8_t)(a >> (8 * first)) == (uint8_t)(b >> (8 * second)) &&
		    (uint8_t)(a >> (8 * second)) == (uint8_t)(b >> (8 * first)))
			return DOB_ONE_DIGIT;
	}
	if (q->month == r->month && q->day == r->day && abs((int)q->year - (int)r->year) == 2)
		return DOB_YEAR_OFF_BY_TWO;
	if (q->month == r->month && q->day == r->day && abs((int)q->year - (int)r->year) <= 10)
		return DOB_SAME_BIRTHDAY; /* (a year lied about keeps the birthday) */
	/* Forms and older records write a birthday nobody knew as the 1st,
	 * or as 1 January: the same month (year) is then all that can agree. */
	if (q->year == r->year && q->month == r->month && (q->day == 1 || r->day == 1))
		return DOB_MONTH_ONLY;
	if (q->year == r->year && ((q->month == 1 && q->day == 1) || (r->month == 1 && r->day == 1)))
		return DOB_YEAR_ONLY;
	if (abs((int)q->year - (int)r->year) <= 1 && may_be_weeks_apart(q, r)) {
		long d = days_apart(q, r);
		if (q->year == r->year && abs((int)q->month - (int)r->month) <= 1 && d >= 1 && d <= DOB_NEAR_DAYS)
			return DOB_NEAR;
		/* (a year apart with the same day: 5 December and 5 January) */
		if (d <= DOB_WEEKS_DAYS)
			return DOB_WEEKS;
	}
	if (q->year == r->year)
		return DOB_SAME_YEAR;
	if (abs((int)q->year - (int)r->year) == 1 && year_and_slip(q, r))
		return DOB_YEAR_AND_SLIP;
	return DOB_MISMATCH;
}

int age_on(const struct date *dob, const struct date *on)
{
	int age;

	if (dob->year == 0 || on->year == 0)
		return -1;
	age = (int)on->year - (int)dob->year;
	if (on->month < dob->month || (on->month == dob->month && on->day < dob->day))
		age--;
	return age < 0 ? -1 : age;
}

/*
 * age_on(d, on) >= A exactly when d is on or before the day A years
 * before `on` (year on.year - A, the same month and day), compared as
 * (year, month, day); so the ages from A to B are the dates after the day
 * B + 1 years before and up to the day A years before.  A is never below
 * 0: age_on gives -1 for a date after `on`.
 */
void age_window_init(struct age_window *w, int age, int tol, const struct date *on)
{
	long lo_age = (long)age - tol, hi_age = (long)age + tol;
	long day = on->month * 32 + on->day;

	if (lo_age < 0)
		lo_age = 0;
	if (hi_age < lo_age || on->year == 0) {
		w->lo = 0; /* empty */
		w->hi = 0;
		return;
	}
	w->hi = (on->year - lo_age) * 512 + day;
	w->lo = (on->year - hi_age - 1) * 512 + day;
}

/* ------------------------------------------------------------ Postcodes */

/* Splits a normalised postcode: the inward code is the last three
 * characters when they are digit-letter-letter. */
static size_t outward_len(const char *pc, size_t len)
{
	if (len >= 5 && isdigit((unsigned char)pc[len - 3]) && isalpha((unsigned char)pc[len - 2]) &&
	    isalpha((unsigned char)pc[len - 1]))
		return len - 3;
	return len;
}

static size_t area_len(const char *pc, size_t len)
{
	size_t k = 0;
	while (k < len && isalpha((unsigned char)pc[k]))
		k++;
	return k;
}

size_t postcode_sector(const char *pc, char out[16])
{
	size_t len = strnlen(pc, 15), ol = outward_len(pc, len);

	out[0] = '\0';
	if (ol == len)
		return 0;
	memcpy(out, pc, ol + 1);
	out[ol + 1] = '\0';
	return ol + 1;
}

size_t postcode_outward(const char *pc, char out[16])
{
	size_t len = strnlen(pc, 15), ol = outward_len(pc, len);

	memcpy(out, pc, ol);
	out[ol] = '\0';
	return ol;
}

enum postcode_level compare_postcode(const char *a, const char *b)
{
	size_t al = strnlen(a, 15), bl = strnlen(b, 15);
	size_t ao, bo, aa, ba;

	if (al == 0 || bl == 0)
		return POSTCODE_ABSENT;
	/* Every level below compares from the first character on. */
	if (a[0] != b[0])
		return POSTCODE_DIFFERENT;
	if (al == bl && memcmp(a, b, al) == 0)
		return outward_len(a, al) < al ? POSTCODE_FULL : POSTCODE_DISTRICT;
	ao = outward_len(a, al);
	bo = outward_len(b, bl);
	if (ao == bo && memcmp(a, b, ao) == 0) {
		if (ao < al && bo < bl && a[ao] == b[bo])
			return POSTCODE_SECTOR;
		return POSTCODE_DISTRICT;
	}
	aa = area_len(a, al);
	ba = area_len(b, bl);
	if (aa > 0 && aa == ba && memcmp(a, b, aa) == 0)
		return POSTCODE_AREA;
	return POSTCODE_DIFFERENT;
}
