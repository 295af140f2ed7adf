/*
 * matchbench.c - measures the matcher on a generated register with a
 * labelled query set of its own.
 *
 *   matchbench --register FILE.jsonl --store DIR [--seed N] [--per-kind N]
 *              [--pairs N] [--negatives N] [--reuse] [--verbose]
 *              [--answers FILE] [--trace FILE] [--no-key-filter]
 *
 * Loads the register (genregister's output) into a store with the
 * matcher's indexer, samples true records and corrupts them one way at a
 * time and two ways at once (typos, nicknames, aliases, swapped names,
 * missing middle names, initials, part of a compound surname, another
 * script, dates of birth missing / swapped / slipped / a year off / age
 * only or the birthday kept with the year three to five out, postcode
 * absent, different or inside a two-line address, a typo in the family
 * name with neither date nor postcode, a name changed and not
 * recorded, a date of birth 4 to 45 days out, and three at once: a
 * nickname, a family typo and the year out, and an age guessed four
 * or five years out), adds negatives (people not in the
 * register, namesakes with another date of birth and address, relatives
 * sharing a surname and an address), runs every query in-process with
 * match_run and prints recall, rank-1 rate, wrong-person-in-match rate,
 * the possible_match rate on negatives and check latency.
 *
 * --answers FILE writes every answer, one line a check (the query, then
 * each candidate's id, band, score, matched name and reasons, the counts
 * of records weighed and views read, more_candidates): two builds that
 * give the same file answered every check alike, which is how a change
 * made for speed alone is shown to change no result.  --no-key-filter
 * opens the store without its key filter (store_options.key_filter), to
 * measure it and to show that it changes no answer.  --trace FILE writes
 * one tab-separated line a measured check: its CPU time in µs, the views
 * it read, the records it weighed, its kind, and the subject as
 * given|middle|family|dob|age|sex|postcode (`sort -rn FILE | head` lists
 * the checks that make the tail).
 *
 * Deterministic for a seed and a register.  Every person is fictitious:
 * the register is generated and the corruptions are mechanical.
 * Never used by the daemon; a measuring tool only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "disclosure/match.h"
#include "disclosure/offender.h"
#include "disclosure/store.h"

#include "../lib/compare.h"
#include "../lib/nickname.h"
#include "../lib/normalize.h"

#define SAMPLE_MAX 6000
#define NAME_BUF 160
#define POOL_MAX 20000

/* ---- PRNG (splitmix64: deterministic per seed) ---- */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static size_t rng_below(size_t n)
{
	return n == 0 ? 0 : (size_t)(rng_next() % n);
}

/* ---- query model ---- */

enum kind {
	K_EXACT,
	K_TYPO_FAMILY,
	K_TYPO_GIVEN,
	K_NICKNAME,
	K_ALIAS,
	K_SWAPPED,
	K_NO_MIDDLE,
	K_INITIAL,
	K_COMPOUND_PART,
	K_OTHER_SCRIPT,
	K_DOB_MISSING,
	K_DOB_SWAPPED,
	K_DOB_SLIP,
	K_DOB_YEAR,
	K_AGE_ONLY,
	K_POSTCODE_ABSENT,
	K_POSTCODE_OTHER,
	/* Added 30 November 2026, after them so that the kinds above draw
	 * the same queries as before: */
	K_NAMES_ONLY_TYPO, /* a typo in the family name, and no date nor postcode */
	K_DOB_BIRTHDAY,    /* the birthday kept, the year three to five out */
	K_POSTCODE_TEXT,   /* the postcode inside an address of two lines */
	/* Added later on 30 November 2026, drawn after every query
	 * above (so that they stay the same) and never in a pair: */
	K_NAME_CHANGED,    /* another person's name, the date and postcode kept */
	/* Added 30 November 2026, evening, drawn after K_NAME_CHANGED's: */
	K_DOB_WEEKS,       /* the date 4 to 45 days out, across a year's end too */
	K_NICK_TYPO_YEAR,  /* three at once: a nickname, a family typo, the year out */
	K_AGE_OFF,         /* an age guessed four or five years out, no date */
	/* Added 30 November 2026, 18:20, drawn after every query above,
	 * neg:namesake_age's too: */
	K_DOB_YEAR_SLIP,   /* the year one out and a day or two, or day and month swapped */
	/* Added 2 December 2026, drawn after every query above (a date of
	 * birth known in part, subject.dob "1970" or "1970-03"): */
	K_DOB_PART_YEAR,   /* the year of birth only */
	K_DOB_PART_MONTH,  /* the month and year only */
	K_DOB_PART_YEAR_TYPO, /* the year only, a typo in the family name, no postcode */
	/* Added 2 December 2026, 05:00, drawn after neg:namesake_year: */
	K_BOTH_TYPO_YEAR,  /* the year only, a typo in the given and in the family name, no postcode */
	/* Added 2 December 2026, 05:30, drawn after year+typo_both+no_pc: */
	K_NAMES_ONLY_TYPO_GIVEN, /* a typo in the given name, and no date nor postcode */
	K_N_POSITIVE,
	K_NEG_STRANGER = K_N_POSITIVE,
	K_NEG_NAMESAKE,
	K_NEG_RELATIVE,
	K_NEG_NAMESAKE_AGE, /* a namesake elsewhere, with an age in place of a date */
	K_NEG_NAMESAKE_YEAR, /* a namesake elsewhere, born two years or more from any of his dates, the year only */
	K_N
};

static const char *const kind_names[K_N] = {
	"exact", "typo_family", "typo_given", "nickname", "alias", "swapped_names", "no_middle",
	"initial", "compound_part", "other_script", "dob_missing", "dob_swapped", "dob_one_digit",
	"dob_year_off", "age_only", "postcode_absent", "postcode_other",
	"names_only_typo", "dob_birthday_years", "postcode_in_text", "name_changed", "dob_weeks_out",
	"nick+typo+year", "age_4_5_out", "dob_year+slip", "dob_year_known", "dob_month_known",
	"dob_year_known+typo+no_pc", "year+typo_both+no_pc", "names_only_typo_given",
	"neg:stranger", "neg:namesake", "neg:relative", "neg:namesake_age", "neg:namesake_year",
};

/* Which field a corruption touches: two corruptions of one pair touch
 * different fields, or two different name aspects. */
static int kind_field(enum kind k)
{
	if ((k >= K_DOB_MISSING && k <= K_AGE_ONLY) || k == K_DOB_BIRTHDAY || k == K_DOB_WEEKS ||
	    k == K_DOB_YEAR_SLIP || k == K_DOB_PART_YEAR || k == K_DOB_PART_MONTH)
		return 1;
	if (k == K_POSTCODE_ABSENT || k == K_POSTCODE_OTHER || k == K_POSTCODE_TEXT)
		return 2;
	return 0;
}

struct query {
	char given[NAME_BUF], middle[NAME_BUF], family[NAME_BUF];
	bool has_given, has_middle;
	struct date dob;
	int age;
	char postcode[128]; /* as a check may send it: an address line or two */
	char sex;
	char truth[OFFENDER_ID_MAX + 1]; /* "" for a negative */
	enum kind k1, k2;              /* k2 == K_EXACT for a single corruption */
	bool pair;
};

struct sample {
	struct offender *o;
};

struct result_row {
	size_t n, found, found_match, rank1, wrong_match, any_candidate;
	size_t views; /* view reads, the main cost of a check */
	size_t more;      /* answers that said more_candidates */
	size_t miss_more; /* of the true person's misses, those */
	double *cpu;  /* CPU time of each measured check, microseconds */
	size_t n_cpu, cap_cpu;
};

static struct sample samples[SAMPLE_MAX];
static size_t n_samples;
static char *given_pool[POOL_MAX], *family_pool[POOL_MAX];
static size_t n_given_pool, n_family_pool;
static struct nickname_table *nick;
static struct date today;

/* ---- string helpers ---- */

static bool is_ascii_word(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static void lower_copy(char *dst, const char *src)
{
	size_t i = 0;
	for (; src[i] != '\0' && i + 1 < NAME_BUF; i++)
		dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] - 'A' + 'a' : src[i]);
	dst[i] = '\0';
}

static void set_str(char *dst, const char *src)
{
	snprintf(dst, NAME_BUF, "%s", src != NULL ? src : "");
}

static size_t letter_positions(const char *s, size_t *pos, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; s[i] != '\0' && n < max; i++)
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))
			pos[n++] = i;
	return n;
}

/* One keyboard-style slip: substitute, delete, insert or transpose. */
static bool typo(char *s)
{
	size_t pos[NAME_BUF], n = letter_positions(s, pos, NAME_BUF), len = strlen(s);
	size_t i, p;
	char c = (char)('a' + rng_below(26));

	if (n < 3 || !is_ascii_word(s))
		return false;
	i = 1 + rng_below(n - 1); /* the first letter is kept more often than not */
	if (rng_below(5) == 0)
		i = 0;
	p = pos[i];
	switch (rng_below(4)) {
	case 0: /* substitute */
		if (s[p] >= 'A' && s[p] <= 'Z')
			c = (char)(c - 'a' + 'A');
		if (c == s[p])
			c = c == 'z' ? 'y' : (char)(c + 1);
		s[p] = c;
		break;
	case 1: /* delete */
		memmove(s + p, s + p + 1, len - p);
		break;
	case 2: /* insert */
		if (len + 2 >= NAME_BUF)
			return false;
		memmove(s + p + 1, s + p, len - p + 1);
		s[p] = (i == 0 && s[p + 1] >= 'A' && s[p + 1] <= 'Z') ? (char)(c - 'a' + 'A') : c;
		if (i == 0 && s[p + 1] >= 'A' && s[p + 1] <= 'Z')
			s[p + 1] = (char)(s[p + 1] - 'A' + 'a');
		break;
	default: /* transpose with the next letter */
		if (i + 1 >= n || pos[i + 1] != p + 1 || s[p] == s[p + 1])
			return typo(s);
		c = s[p];
		s[p] = s[p + 1];
		s[p + 1] = c;
		if (i == 0) {
			if (s[p] >= 'a' && s[p] <= 'z')
				s[p] = (char)(s[p] - 'a' + 'A');
			if (s[p + 1] >= 'A' && s[p + 1] <= 'Z')
				s[p + 1] = (char)(s[p + 1] - 'A' + 'a');
		}
		break;
	}
	return true;
}

/* Latin to Cyrillic as a clerk might write a name heard aloud. */
static bool to_cyrillic(const char *in, char *out, size_t cap)
{
	static const struct {
		const char *lat, *cyr;
	} map[] = {
		{"shch", "щ"}, {"sh", "ш"}, {"ch", "ч"}, {"zh", "ж"}, {"kh", "х"}, {"ts", "ц"}, {"ya", "я"},
		{"yu", "ю"}, {"yo", "ё"}, {"th", "т"}, {"ph", "ф"}, {"ck", "к"}, {"ee", "и"}, {"oo", "у"},
		{"a", "а"}, {"b", "б"}, {"c", "к"}, {"d", "д"}, {"e", "е"}, {"f", "ф"}, {"g", "г"},
		{"h", "х"}, {"i", "и"}, {"j", "дж"}, {"k", "к"}, {"l", "л"}, {"m", "м"}, {"n", "н"},
		{"o", "о"}, {"p", "п"}, {"q", "к"}, {"r", "р"}, {"s", "с"}, {"t", "т"}, {"u", "у"},
		{"v", "в"}, {"w", "в"}, {"x", "кс"}, {"y", "й"}, {"z", "з"}, {"-", "-"}, {" ", " "},
		{"'", ""},
	};
	size_t k = 0;
	char low[NAME_BUF];

	if (!is_ascii_word(in))
		return false;
	for (size_t i = 0; in[i] != '\0' && i + 1 < sizeof(low); i++) {
		low[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] - 'A' + 'a' : in[i]);
		low[i + 1] = '\0';
	}
	for (const char *p = low; *p != '\0';) {
		bool done = false;
		for (size_t m = 0; m < sizeof(map) / sizeof(map[0]) && !done; m++) {
			size_t l = strlen(map[m].lat);
			if (strncmp(p, map[m].lat, l) == 0) {
				size_t cl = strlen(map[m].cyr);
				if (k + cl + 1 >= cap)
					return false;
				memcpy(out + k, map[m].cyr, cl);
				k += cl;
				p += l;
				done = true;
			}
		}
		if (!done)
			p++;
	}
	out[k] = '\0';
	return k > 0;
}

static bool date_valid(int y, int m, int d)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1900 || y > 2025 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	return true;
}

static struct date random_dob(void)
{
	struct date d;
	do {
		d.year = (uint16_t)(1940 + rng_below(66));
		d.month = (uint8_t)(1 + rng_below(12));
		d.day = (uint8_t)(1 + rng_below(28));
	} while (!date_valid(d.year, d.month, d.day));
	return d;
}

/* A date that no dob comparison level relates to any of the record's. */
static struct date unrelated_dob(const struct offender *o)
{
	for (;;) {
		struct date d = random_dob();
		bool ok = compare_dob(&d, &o->dob) == DOB_MISMATCH || o->dob.year == 0;
		for (size_t i = 0; i < o->n_other_dobs && ok; i++)
			ok = compare_dob(&d, &o->other_dobs[i]) == DOB_MISMATCH;
		if (ok && (o->dob.year == 0 || abs((int)d.year - (int)o->dob.year) >= 2))
			return d;
	}
}

static const char *current_postcode(const struct offender *o)
{
	for (size_t i = o->n_addresses; i > 0; i--)
		if (o->addresses[i - 1].postcode != NULL)
			return o->addresses[i - 1].postcode;
	return NULL;
}

/* ---- building queries ---- */

static void base_query(struct query *q, const struct offender *o)
{
	const struct person_name *pn = &o->names[offender_primary(o)];
	const char *pc = current_postcode(o);

	memset(q, 0, sizeof(*q));
	q->has_given = pn->given != NULL;
	set_str(q->given, pn->given);
	q->has_middle = pn->middle != NULL && rng_below(2) == 0;
	set_str(q->middle, q->has_middle ? pn->middle : NULL);
	set_str(q->family, pn->family);
	q->dob = o->dob;
	q->age = -1;
	snprintf(q->postcode, sizeof(q->postcode), "%s", pc != NULL ? pc : "");
	q->sex = o->sex;
	snprintf(q->truth, sizeof(q->truth), "%s", o->id);
}

/* Moves d by days (either way) by the C library's calendar; false if it
 * cannot. */
static bool date_shift(struct date *d, int days)
{
	struct tm t = {.tm_year = d->year - 1900, .tm_mon = d->month - 1, .tm_mday = d->day + days, .tm_hour = 12};
	time_t when = timegm(&t);

	if (gmtime_r(&when, &t) == NULL)
		return false;
	d->year = (uint16_t)(t.tm_year + 1900);
	d->month = (uint8_t)(t.tm_mon + 1);
	d->day = (uint8_t)t.tm_mday;
	return true;
}

static bool apply(struct query *q, const struct offender *o, enum kind k)
{
	switch (k) {
	case K_EXACT:
		return true;
	case K_TYPO_FAMILY:
		return typo(q->family);
	case K_TYPO_GIVEN:
		return q->has_given && typo(q->given);
	case K_NICKNAME: {
		const char *vars[32];
		char low[NAME_BUF];
		size_t n;
		if (!q->has_given || !is_ascii_word(q->given))
			return false;
		lower_copy(low, q->given);
		n = nickname_variants(nick, low, vars, 32);
		if (n == 0)
			return false;
		set_str(q->given, vars[rng_below(n)]);
		q->given[0] = (char)(q->given[0] - 'a' + 'A');
		return true;
	}
	case K_ALIAS: {
		size_t aliases[64], n = 0;
		for (size_t i = 0; i < o->n_names && n < 64; i++)
			if (o->names[i].kind == NAME_ALIAS)
				aliases[n++] = i;
		if (n == 0)
			return false;
		const struct person_name *pn = &o->names[aliases[rng_below(n)]];
		q->has_given = pn->given != NULL;
		set_str(q->given, pn->given);
		q->has_middle = pn->middle != NULL;
		set_str(q->middle, pn->middle);
		set_str(q->family, pn->family);
		return true;
	}
	case K_SWAPPED: {
		char t[NAME_BUF];
		if (!q->has_given)
			return false;
		memcpy(t, q->given, NAME_BUF);
		memcpy(q->given, q->family, NAME_BUF);
		memcpy(q->family, t, NAME_BUF);
		return true;
	}
	case K_NO_MIDDLE: {
		const struct person_name *pn = &o->names[offender_primary(o)];
		if (pn->middle == NULL || !q->has_middle) {
			if (pn->middle == NULL)
				return false;
		}
		q->has_middle = false;
		q->middle[0] = '\0';
		return true;
	}
	case K_INITIAL:
		if (!q->has_given || !is_ascii_word(q->given))
			return false;
		q->given[1] = '\0';
		if (q->has_middle && is_ascii_word(q->middle) && rng_below(2) == 0)
			q->middle[1] = '\0';
		return true;
	case K_COMPOUND_PART: {
		char *dash = strchr(q->family, '-');
		char *space = strchr(q->family, ' ');
		char *cut = dash != NULL ? dash : space;
		if (cut == NULL)
			return false;
		if (rng_below(2) == 0) {
			*cut = '\0';
		} else {
			char t[NAME_BUF];
			set_str(t, cut + 1);
			set_str(q->family, t);
		}
		return true;
	}
	case K_OTHER_SCRIPT: {
		char g[NAME_BUF], f[NAME_BUF];
		if (!to_cyrillic(q->family, f, sizeof(f)))
			return false;
		if (q->has_given && !to_cyrillic(q->given, g, sizeof(g)))
			return false;
		set_str(q->family, f);
		if (q->has_given)
			set_str(q->given, g);
		q->has_middle = false;
		return true;
	}
	case K_DOB_MISSING:
		if (q->dob.year == 0)
			return false;
		q->dob.year = 0;
		return true;
	case K_DOB_SWAPPED:
		if (q->dob.year == 0 || q->dob.day > 12 || q->dob.day == q->dob.month)
			return false;
		{
			uint8_t t = q->dob.day;
			q->dob.day = q->dob.month;
			q->dob.month = t;
		}
		return true;
	case K_DOB_SLIP:
		if (q->dob.year == 0)
			return false;
		for (int tries = 0; tries < 50; tries++) {
			int y = q->dob.year, m = q->dob.month, d = q->dob.day;
			int pos = (int)rng_below(6), digit = (int)rng_below(10);
			switch (pos) { /* the last two digits of the year, month and day */
			case 0: y = y / 100 * 100 + digit * 10 + y % 10; break;
			case 1: y = y / 10 * 10 + digit; break;
			case 2: m = digit * 10 + m % 10; break;
			case 3: m = m / 10 * 10 + digit; break;
			case 4: d = digit * 10 + d % 10; break;
			default: d = d / 10 * 10 + digit; break;
			}
			if ((y != q->dob.year || m != q->dob.month || d != q->dob.day) && date_valid(y, m, d)) {
				q->dob.year = (uint16_t)y;
				q->dob.month = (uint8_t)m;
				q->dob.day = (uint8_t)d;
				return true;
			}
		}
		return false;
	case K_DOB_YEAR:
		if (q->dob.year == 0 || (q->dob.month == 2 && q->dob.day == 29))
			return false;
		q->dob.year = (uint16_t)(q->dob.year + (rng_below(2) ? 1 : -1));
		return true;
	case K_AGE_ONLY:
		if (q->dob.year == 0)
			return false;
		q->age = age_on(&q->dob, &today);
		q->dob.year = 0;
		return q->age >= 0;
	case K_POSTCODE_ABSENT:
		if (q->postcode[0] == '\0')
			return false;
		q->postcode[0] = '\0';
		return true;
	case K_POSTCODE_OTHER: {
		const char *pc = current_postcode(samples[rng_below(n_samples)].o);
		if (pc == NULL || strcmp(pc, q->postcode) == 0)
			return false;
		snprintf(q->postcode, sizeof(q->postcode), "%s", pc);
		return true;
	}
	case K_NAMES_ONLY_TYPO:
		if (q->dob.year == 0 || !typo(q->family))
			return false;
		q->dob.year = 0;
		q->postcode[0] = '\0';
		return true;
	case K_DOB_BIRTHDAY: {
		int d = 3 + (int)rng_below(3);
		if (q->dob.year == 0 || (q->dob.month == 2 && q->dob.day == 29))
			return false;
		q->dob.year = (uint16_t)(q->dob.year + (rng_below(2) ? d : -d));
		return true;
	}
	case K_AGE_OFF: {
		/* An age guessed by someone who knows the person by sight. */
		int off = 4 + (int)rng_below(2);
		if (q->dob.year == 0)
			return false;
		q->age = age_on(&q->dob, &today) + (rng_below(2) ? off : -off);
		q->dob.year = 0;
		return q->age >= 0;
	}
	case K_NICK_TYPO_YEAR:
		/* Jim Williasmon for James Williamson, a year out, with the
		 * postcode as recorded. */
		return apply(q, o, K_NICKNAME) && apply(q, o, K_TYPO_FAMILY) && apply(q, o, K_DOB_YEAR);
	case K_DOB_YEAR_SLIP: {
		/* Two mistakes in one date: the year one out, and the day one
		 * to three out (two times in three) or day and month swapped. */
		int shift = 1 + (int)rng_below(3), year_off = rng_below(2) ? 1 : -1;
		if (q->dob.year == 0)
			return false;
		if (rng_below(3) == 2 && q->dob.day <= 12 && q->dob.day != q->dob.month) {
			uint8_t m = q->dob.month;
			q->dob.month = q->dob.day;
			q->dob.day = m;
		} else if (!date_shift(&q->dob, rng_below(2) ? shift : -shift)) {
			return false;
		}
		q->dob.year = (uint16_t)(q->dob.year + year_off);
		return !(q->dob.month == 2 && q->dob.day == 29);
	}
	case K_DOB_PART_YEAR:
		if (q->dob.year == 0)
			return false;
		q->dob.month = 0;
		q->dob.day = 0;
		return true;
	case K_DOB_PART_MONTH:
		if (q->dob.year == 0)
			return false;
		q->dob.day = 0;
		return true;
	case K_DOB_PART_YEAR_TYPO:
		if (q->dob.year == 0 || q->postcode[0] == '\0' || !typo(q->family))
			return false;
		q->dob.month = 0;
		q->dob.day = 0;
		q->postcode[0] = '\0';
		return true;
	case K_NAMES_ONLY_TYPO_GIVEN:
		if (q->dob.year == 0 || !q->has_given || !typo(q->given))
			return false;
		q->dob.year = 0;
		q->postcode[0] = '\0';
		return true;
	case K_BOTH_TYPO_YEAR:
		if (q->dob.year == 0 || q->postcode[0] == '\0' || !q->has_given || !typo(q->family) ||
		    !typo(q->given))
			return false;
		q->dob.month = 0;
		q->dob.day = 0;
		q->postcode[0] = '\0';
		return true;
	case K_DOB_WEEKS: {
		/* Moved 4 to 45 days either way. */
		int shift = 4 + (int)rng_below(42);
		shift = rng_below(2) ? shift : -shift;
		return q->dob.year != 0 && date_shift(&q->dob, shift);
	}
	case K_NAME_CHANGED: {
		/* A name changed (by deed poll, say) and not recorded: the
		 * primary name of another sampled person, sharing no given or
		 * family name with any of this record's names, with the date
		 * of birth and the current postcode as recorded. */
		const struct offender *other = samples[rng_below(n_samples)].o;
		const struct person_name *pn = &other->names[offender_primary(other)];
		if (q->dob.year == 0 || q->postcode[0] == '\0' || pn->given == NULL || other == o)
			return false;
		for (size_t i = 0; i < o->n_names; i++)
			if ((o->names[i].family != NULL && strcasecmp(o->names[i].family, pn->family) == 0) ||
			    (o->names[i].given != NULL && strcasecmp(o->names[i].given, pn->given) == 0))
				return false;
		q->has_given = true;
		set_str(q->given, pn->given);
		q->has_middle = false;
		q->middle[0] = '\0';
		set_str(q->family, pn->family);
		return true;
	}
	case K_POSTCODE_TEXT: {
		char pc[16]; /* the record's postcode, as base_query copied it */
		if (q->postcode[0] == '\0' || strlen(q->postcode) >= sizeof(pc))
			return false;
		memcpy(pc, q->postcode, strlen(q->postcode) + 1);
		snprintf(q->postcode, sizeof(q->postcode), "%u Made-up Road,%sSometown %.15s",
			 (unsigned)(1 + rng_below(200)), rng_below(2) ? "\n" : "\r\n", pc);
		return true;
	}
	default:
		return false;
	}
}

/* Name corruptions that replace the whole name go first. */
static int apply_order(enum kind k)
{
	return k == K_ALIAS ? 0 : k == K_OTHER_SCRIPT ? 3 : k == K_SWAPPED ? 2 : 1;
}

static bool make_positive(struct query *q, enum kind k1, enum kind k2, bool pair)
{
	for (int tries = 0; tries < 200; tries++) {
		const struct offender *o = samples[rng_below(n_samples)].o;
		enum kind a = k1, b = k2;
		base_query(q, o);
		if (pair && apply_order(b) < apply_order(a)) {
			a = k2;
			b = k1;
		}
		if (!apply(q, o, a))
			continue;
		if (pair && !apply(q, o, b))
			continue;
		q->k1 = k1;
		q->k2 = pair ? k2 : K_EXACT;
		q->pair = pair;
		return true;
	}
	return false;
}

/*
 * A negative must really be nobody on the register: with a skewed name
 * distribution a random date can land on (or one slip away from) another
 * record of the same name.  Checks every date related to q->dob through the
 * matcher's date keys ("D" + YYYYMMDD + the first letter of a name word,
 * see lib/match.c: the family name's here, or every letter when it does
 * not begin with a plain one) and rejects the query if a record there
 * carries the same given name and the same family name as the matcher
 * reads it (McDonald is MacDonald: a query built from one is a namesake
 * of the other, born that very day, and not a stranger), or the two the
 * other way round (Hassan Abdi for Abdi Hassan).
 */
static struct store_reader *oracle_reader;

struct taken_ctx {
	const struct query *q;
	bool taken;
};

static struct normalizer *oracle_norm;

/* The same family name as the matcher reads it: McDonald is MacDonald,
 * O'Brien is OBrien (lib/normalize.c). */
static bool same_family(const char *a, const char *b)
{
	struct norm_part x, y;
	bool tr;

	if (strcasecmp(a, b) == 0)
		return true;
	if (oracle_norm == NULL)
		return false;
	normalize_part(oracle_norm, a, NORM_FAMILY, &x, &tr);
	normalize_part(oracle_norm, b, NORM_FAMILY, &y, &tr);
	if (x.n != y.n || x.n == 0)
		return false;
	for (size_t i = 0; i < x.n; i++)
		if (strcmp(x.tok[i], y.tok[i]) != 0)
			return false;
	return true;
}

/* A name of the record given as `given` (any case) with the same family
 * name, normalised. */
static bool json_has_name(const char *json, size_t len, const char *given, const char *family)
{
	char g[NAME_BUF + 16];
	struct offender *o;
	struct dsc_error err;
	bool has = false;

	snprintf(g, sizeof(g), "\"given\":\"%s\"", given);
	if (strcasestr(json, g) == NULL || offender_parse(json, len, &o, &err) != DSC_OK)
		return false;
	for (size_t i = 0; i < o->n_names && !has; i++)
		has = o->names[i].given != NULL && strcasecmp(o->names[i].given, given) == 0 &&
		      same_family(o->names[i].family, family);
	offender_free(o);
	return has;
}

/* The same given name spelt as one of its listed variants
 * (Mohammed/Muhammad) is the same name for this purpose. */
static bool json_has_variant(const char *json, size_t len, const char *given, const char *family)
{
	char low[NAME_BUF], cap[NAME_BUF];
	const char *vars[32];
	size_t n;

	lower_copy(low, given);
	n = nickname_variants(nick, low, vars, 32);
	for (size_t i = 0; i < n; i++) {
		set_str(cap, vars[i]);
		if (json_has_name(json, len, cap, family))
			return true;
	}
	return false;
}

static int taken_fn(void *arg, const struct store_ref *refs, size_t n)
{
	struct taken_ctx *t = arg;
	for (size_t i = 0; i < n && !t->taken; i++) {
		const char *json;
		size_t len;
		if (store_get_offender_by_recno(oracle_reader, refs[i].recno, &json, &len) == DSC_OK &&
		    (json_has_name(json, len, t->q->given, t->q->family) ||
		     (t->q->has_middle && json_has_name(json, len, t->q->middle, t->q->family)) ||
		     json_has_variant(json, len, t->q->given, t->q->family) ||
		     json_has_name(json, len, t->q->family, t->q->given))) /* the two swapped */
			t->taken = true;
	}
	return t->taken ? 1 : 0;
}

static bool name_dob_taken(const struct query *q)
{
	struct taken_ctx t = {q, false};
	struct dsc_error err;
	struct date d = q->dob;
	int y = d.year, m = d.month, dd = d.day;
	char key[32], first = (char)(q->family[0] | 0x20);
	const char *letters = first >= 'a' && first <= 'z' ? (char[2]){first, '\0'} : "abcdefghijklmnopqrstuvwxyz";

	if (oracle_reader == NULL || store_read_begin(oracle_reader, &err) != DSC_OK)
		return false;
	for (int pos = -3; pos < 8 && !t.taken; pos++) {
		for (int digit = 0; digit < 10 && !t.taken; digit++) {
			int ny = y, nm = m, nd = dd;
			if (pos == -3) { if (digit > 0) break; }                  /* exact */
			else if (pos == -2) { if (digit > 0) break; nm = dd; nd = m; } /* swapped */
			else if (pos == -1) { if (digit > 1) break; ny = y + (digit ? 1 : -1); }
			else if (pos < 4) { int p10 = pos == 0 ? 1000 : pos == 1 ? 100 : pos == 2 ? 10 : 1;
				ny = y - (y / p10 % 10) * p10 + digit * p10; }
			else if (pos < 6) { nm = pos == 4 ? digit * 10 + m % 10 : m / 10 * 10 + digit; }
			else { nd = pos == 6 ? digit * 10 + dd % 10 : dd / 10 * 10 + digit; }
			if (!date_valid(ny, nm, nd))
				continue;
			for (const char *l = letters; *l != '\0' && !t.taken; l++) {
				snprintf(key, sizeof(key), "D%04d%02d%02d%c", ny, nm, nd, *l);
				store_index_each(oracle_reader, key, strlen(key), taken_fn, &t);
			}
		}
	}
	store_read_end(oracle_reader);
	return t.taken;
}

static bool make_negative_once(struct query *q, enum kind k);
static const struct offender *neg_source; /* the record make_negative_once drew last */

static bool make_negative(struct query *q, enum kind k)
{
	if (k == K_NEG_NAMESAKE_AGE) {
		/* The namesake, with the age its date gives in place of it. */
		if (!make_negative(q, K_NEG_NAMESAKE))
			return false;
		q->k1 = k;
		q->age = age_on(&q->dob, &today);
		q->dob.year = 0;
		return q->age >= 0;
	}
	if (k == K_NEG_NAMESAKE_YEAR) {
		/* The namesake, with only the year of his date, two years or
		 * more from every date of the person he is named after (a
		 * year one out weighs nothing either way: such a person is a
		 * possible match by right).  name_dob_taken has ruled out
		 * anyone of the name born on the full date; the year alone
		 * may still be another namesake's, a possible match too,
		 * which this row counts (neg_cand), as neg:namesake_age does. */
		if (!make_negative(q, K_NEG_NAMESAKE))
			return false;
		for (size_t i = 0; i < neg_source->n_other_dobs + 1; i++) {
			const struct date *d = i == 0 ? &neg_source->dob : &neg_source->other_dobs[i - 1];
			if (d->year != 0 && abs((int)d->year - (int)q->dob.year) < 2)
				return false;
		}
		q->k1 = k;
		q->dob.month = 0;
		q->dob.day = 0;
		return true;
	}
	return make_negative_once(q, k) && !(q->has_given && name_dob_taken(q));
}

static bool make_negative_once(struct query *q, enum kind k)
{
	const struct offender *o = samples[rng_below(n_samples)].o;

	neg_source = o;
	const struct person_name *pn = &o->names[offender_primary(o)];
	const char *pc;

	memset(q, 0, sizeof(*q));
	q->age = -1;
	q->k1 = k;
	q->k2 = K_EXACT;
	switch (k) {
	case K_NEG_STRANGER:
		set_str(q->given, given_pool[rng_below(n_given_pool)]);
		q->has_given = true;
		set_str(q->family, family_pool[rng_below(n_family_pool)]);
		q->dob = random_dob();
		pc = current_postcode(samples[rng_below(n_samples)].o);
		snprintf(q->postcode, sizeof(q->postcode), "%s", pc != NULL ? pc : "");
		return true;
	case K_NEG_NAMESAKE: {
		const struct offender *other = samples[rng_below(n_samples)].o;
		const char *opc = current_postcode(other), *mpc = current_postcode(o);
		q->has_given = pn->given != NULL;
		set_str(q->given, pn->given);
		q->has_middle = pn->middle != NULL && rng_below(2) == 0;
		set_str(q->middle, q->has_middle ? pn->middle : NULL);
		set_str(q->family, pn->family);
		q->dob = unrelated_dob(o);
		q->sex = o->sex;
		if (opc == NULL || (mpc != NULL && strncmp(opc, mpc, 2) == 0))
			return false; /* need an address elsewhere */
		snprintf(q->postcode, sizeof(q->postcode), "%s", opc);
		return true;
	}
	case K_NEG_RELATIVE: {
		const char *g = given_pool[rng_below(n_given_pool)];
		char low_a[NAME_BUF], low_b[NAME_BUF];
		if (pn->given == NULL)
			return false;
		lower_copy(low_a, g);
		lower_copy(low_b, pn->given);
		if (strcasecmp(g, pn->given) == 0 || nickname_related(nick, low_a, low_b))
			return false;
		set_str(q->given, g);
		q->has_given = true;
		set_str(q->family, pn->family);
		q->dob = unrelated_dob(o);
		pc = current_postcode(o);
		snprintf(q->postcode, sizeof(q->postcode), "%s", pc != NULL ? pc : "");
		return true;
	}
	default:
		return false;
	}
}

/* ---- loading ---- */

static int load_register(struct store *st, const char *path, size_t *loaded, bool reuse)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, seen = 0, in_txn = 0;
	ssize_t len;
	struct store_txn *t = NULL;
	struct dsc_error err;

	if (f == NULL) {
		fprintf(stderr, "matchbench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	*loaded = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		struct offender *o;
		bool keep;
		if (offender_parse(line, (size_t)len, &o, &err) != DSC_OK)
			continue;
		seen++;
		if (!reuse) {
			if (t == NULL && store_write_begin(st, &t, &err) != DSC_OK) {
				fprintf(stderr, "matchbench: %s\n", err.msg);
				offender_free(o);
				break;
			}
			if (store_put_offender(t, o, NULL, &err) != DSC_OK) {
				fprintf(stderr, "matchbench: %s: %s\n", o->id, err.msg);
				offender_free(o);
				continue;
			}
			if (++in_txn == 20000) {
				if (store_write_commit(t, &err) != DSC_OK) {
					fprintf(stderr, "matchbench: commit: %s\n", err.msg);
					t = NULL;
					break;
				}
				t = NULL;
				in_txn = 0;
			}
		}
		(*loaded)++;
		/* Reservoir sample of the records the queries are made from. */
		keep = false;
		if (n_samples < SAMPLE_MAX) {
			samples[n_samples++].o = o;
			keep = true;
		} else {
			size_t j = rng_below(seen);
			if (j < SAMPLE_MAX) {
				offender_free(samples[j].o);
				samples[j].o = o;
				keep = true;
			}
		}
		if (!keep)
			offender_free(o);
	}
	if (t != NULL && store_write_commit(t, &err) != DSC_OK)
		fprintf(stderr, "matchbench: commit: %s\n", err.msg);
	free(line);
	fclose(f);
	if (!reuse && store_sync(st, &err) != DSC_OK)
		fprintf(stderr, "matchbench: sync: %s\n", err.msg);
	for (size_t i = 0; i < n_samples; i++) {
		const struct person_name *pn = &samples[i].o->names[offender_primary(samples[i].o)];
		if (pn->given != NULL && is_ascii_word(pn->given) && n_given_pool < POOL_MAX)
			given_pool[n_given_pool++] = pn->given;
		if (is_ascii_word(pn->family) && n_family_pool < POOL_MAX)
			family_pool[n_family_pool++] = pn->family;
	}
	return n_samples > 0 && n_given_pool > 0 && n_family_pool > 0 ? 0 : -1;
}

/* ---- running ---- */

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* CPU time of this thread: the latency without the other programs that
 * share the machine's two cores. */
static double cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double *cpu_lat;
static size_t n_cpu_lat;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static bool verbose;
static FILE *answers; /* --answers */
static FILE *trace;   /* --trace */
static size_t sum_views, sum_considered, n_measured;

/* A row's CPU times, for its p50 and p99: where the slow checks are. */
static void row_cpu_add(struct result_row *x, double us)
{
	if (x->n_cpu == x->cap_cpu) {
		size_t cap = x->cap_cpu ? x->cap_cpu * 2 : 256;
		double *p = realloc(x->cpu, cap * sizeof(*p));
		if (p == NULL)
			return; /* the percentiles then cover fewer checks */
		x->cpu = p;
		x->cap_cpu = cap;
	}
	x->cpu[x->n_cpu++] = us;
}

/* One line of --answers: everything the check answered. */
static void answer_write(FILE *f, const struct query *q, const struct check_result *res)
{
	fprintf(f, "%s|%s|%s %04u-%02u-%02u age=%d pc=", q->has_given ? q->given : "", q->has_middle ? q->middle : "",
		q->family, q->dob.year, q->dob.month, q->dob.day, q->age);
	for (const char *p = q->postcode; *p != '\0'; p++)
		fputc(*p == '\n' || *p == '\r' ? '/' : *p, f); /* an address of two lines on one */
	fprintf(f, " sex=%c =>", q->sex != 0 ? q->sex : '-');
	for (size_t i = 0; i < res->n_candidates; i++) {
		const struct candidate *k = &res->candidates[i];
		fprintf(f, " %s:%s:%.2f:%s|%s|%s:", k->offender_id, band_name(k->band), k->score, k->matched_name.given,
			k->matched_name.middle, k->matched_name.family);
		for (size_t j = 0; j < k->n_reasons; j++)
			fprintf(f, "%s%s", j > 0 ? "," : "", k->reasons[j]);
	}
	fprintf(f, " considered=%zu views=%zu more=%d\n", res->n_considered, res->n_views, res->more_candidates);
}

static void run_query(struct match_ctx *c, struct store_reader *r, const struct query *q, struct result_row *row,
		      struct result_row *all, double *lat)
{
	struct check_subject s;
	struct check_result res;
	struct dsc_error err;
	double t0, c0;
	bool found = false, found_match = false, wrong = false;

	memset(&s, 0, sizeof(s));
	s.names[0].given = q->has_given ? (char *)q->given : NULL;
	s.names[0].middle = q->has_middle ? (char *)q->middle : NULL;
	s.names[0].family = (char *)q->family;
	s.n_names = 1;
	s.dob = q->dob;
	s.age = q->age;
	snprintf(s.postcode, sizeof(s.postcode), "%s", q->postcode);
	s.sex = q->sex;

	t0 = now_us();
	c0 = cpu_us();
	if (store_read_begin(r, &err) != DSC_OK || match_run(c, r, &s, &res, &err) != DSC_OK) {
		fprintf(stderr, "matchbench: check failed: %s\n", err.msg);
		store_read_end(r);
		return;
	}
	store_read_end(r);
	*lat = now_us() - t0;
	if (answers != NULL)
		answer_write(answers, q, &res);
	if (cpu_lat != NULL) {
		cpu_lat[n_cpu_lat++] = cpu_us() - c0;
		sum_views += res.n_views;
		sum_considered += res.n_considered;
		n_measured++;
	}

	/* --trace: each measured check's CPU time, views read, records
	 * weighed, kind and subject, for finding what makes the tail (sort
	 * -rn) and replaying it; the postcode last, as it may hold '|'. */
	if (trace != NULL && cpu_lat != NULL)
		fprintf(trace, "%.1f\t%zu\t%zu\t%s%s%s\t%s|%s|%s|%04u-%02u-%02u|%d|%c|%s\n", cpu_lat[n_cpu_lat - 1],
			res.n_views, res.n_considered, kind_names[q->k1], q->pair ? "+" : "", q->pair ? kind_names[q->k2] : "",
			q->has_given ? q->given : "", q->has_middle ? q->middle : "", q->family, (unsigned)q->dob.year,
			(unsigned)q->dob.month, (unsigned)q->dob.day, q->age, q->sex != 0 ? q->sex : '-', q->postcode);
	if (verbose && cpu_lat != NULL && cpu_lat[n_cpu_lat - 1] > 700.0)
		printf("  SLOW %.0f us cpu %s%s%s: %s|%s|%s considered %zu\n", cpu_lat[n_cpu_lat - 1], kind_names[q->k1], q->pair ? "+" : "",
		       q->pair ? kind_names[q->k2] : "", q->given, q->middle, q->family, res.n_considered);
	for (size_t i = 0; i < res.n_candidates; i++) {
		bool truth = q->truth[0] != '\0' && strcmp(res.candidates[i].offender_id, q->truth) == 0;
		if (truth) {
			found = true;
			found_match = res.candidates[i].band == BAND_MATCH;
		} else if (res.candidates[i].band == BAND_MATCH) {
			wrong = true;
		}
	}
	for (struct result_row *x = row; x != NULL; x = x == row ? all : NULL) {
		x->n++;
		x->found += found;
		x->found_match += found_match;
		x->rank1 += res.n_candidates > 0 && q->truth[0] != '\0' &&
			    strcmp(res.candidates[0].offender_id, q->truth) == 0;
		x->wrong_match += wrong;
		x->any_candidate += res.n_candidates > 0;
		x->views += res.n_views;
		x->more += res.more_candidates;
		x->miss_more += q->truth[0] != '\0' && !found && res.more_candidates;
		if (cpu_lat != NULL)
			row_cpu_add(x, cpu_lat[n_cpu_lat - 1]);
	}
	if (verbose && ((q->truth[0] != '\0' && !found) || wrong)) {
		char d[11] = "-";
		if (q->dob.year != 0)
			date_format(&q->dob, d);
		printf("  %s %s%s%s: %s|%s|%s dob=%s age=%d pc=%s truth=%s ->", wrong ? "WRONG" : "MISS",
		       kind_names[q->k1], q->pair ? "+" : "", q->pair ? kind_names[q->k2] : "", q->given, q->middle,
		       q->family, d, q->age, q->postcode, q->truth);
		for (size_t i = 0; i < res.n_candidates && i < 3; i++)
			printf(" %s/%s/%.2f", res.candidates[i].offender_id, band_name(res.candidates[i].band),
			       res.candidates[i].score);
		printf(" (considered %zu%s)\n", res.n_considered, res.more_candidates ? ", more_candidates" : "");
		if (wrong) {
			/* Why the wrong person made the match band. */
			printf("      %s as %s|%s|%s:", res.candidates[0].offender_id, res.candidates[0].matched_name.given,
			       res.candidates[0].matched_name.middle, res.candidates[0].matched_name.family);
			for (size_t i = 0; i < res.candidates[0].n_reasons; i++)
				printf(" %s", res.candidates[0].reasons[i]);
			printf("\n");
		}
	}
}

static double pct(size_t a, size_t b)
{
	return b == 0 ? 0.0 : 100.0 * (double)a / (double)b;
}

static void print_row(const char *name, struct result_row *x, bool negative)
{
	double views = x->n > 0 ? (double)x->views / (double)x->n : 0.0;
	double p50 = 0.0, p99 = 0.0;

	if (x->n_cpu > 0) {
		qsort(x->cpu, x->n_cpu, sizeof(*x->cpu), cmp_double);
		p50 = x->cpu[x->n_cpu / 2];
		p99 = x->cpu[x->n_cpu * 99 / 100];
	}
	if (negative)
		printf("  %-30s %6zu %9s %9s %9s %8.2f%% %8.2f%% %6.0f %7.0f %7.0f\n", name, x->n, "-", "-", "-",
		       pct(x->wrong_match, x->n), pct(x->any_candidate, x->n), views, p50, p99);
	else
		printf("  %-30s %6zu %8.2f%% %8.2f%% %8.2f%% %8.2f%% %9s %6.0f %7.0f %7.0f\n", name, x->n,
		       pct(x->found, x->n), pct(x->found_match, x->n), pct(x->rank1, x->n), pct(x->wrong_match, x->n),
		       "-", views, p50, p99);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: matchbench --register FILE.jsonl --store DIR [--seed N] [--per-kind N] [--pairs N]\n"
		   "                  [--negatives N] [--reuse] [--verbose] [--answers FILE] [--trace FILE] [--no-key-filter]\n");
}

int main(int argc, char **argv)
{
	const char *reg = NULL, *dir = NULL;
	unsigned long long seed = 1;
	size_t per_kind = 300, pairs = 1500, negatives = 600, loaded = 0;
	bool reuse = false;
	struct matcher *m = NULL;
	struct match_ctx *c = NULL;
	struct store *st = NULL;
	struct store_reader *r = NULL;
	struct dsc_error err;
	struct store_options opt = {0};
	struct result_row rows[K_N], pair_rows[K_N], all_single = {0}, all_pairs = {0}, all_pos = {0},
				     all_neg = {0}, all_checks = {0}, beyond = {0}, beyond_later = {0},
				     beyond_neg = {0};
	double *lat;
	size_t n_lat = 0, total, n_lat_core = 0, n_cpu_core = 0, views_core = 0, considered_core = 0,
	       measured_core = 0;
	time_t now = time(NULL);
	struct tm tm;
	double t_load;
	bool key_filter = true;
	size_t lookups0 = 0, filtered0 = 0, lookups1 = 0, filtered1 = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--register") == 0 && v) reg = argv[++i];
		else if (strcmp(a, "--store") == 0 && v) dir = argv[++i];
		else if (strcmp(a, "--seed") == 0 && v) seed = strtoull(argv[++i], NULL, 10);
		else if (strcmp(a, "--per-kind") == 0 && v) per_kind = strtoul(argv[++i], NULL, 10);
		else if (strcmp(a, "--pairs") == 0 && v) pairs = strtoul(argv[++i], NULL, 10);
		else if (strcmp(a, "--negatives") == 0 && v) negatives = strtoul(argv[++i], NULL, 10);
		else if (strcmp(a, "--reuse") == 0) reuse = true;
		else if (strcmp(a, "--verbose") == 0) verbose = true;
		else if (strcmp(a, "--no-key-filter") == 0) key_filter = false;
		else if (strcmp(a, "--answers") == 0 && v) {
			if ((answers = fopen(argv[++i], "w")) == NULL) {
				fprintf(stderr, "matchbench: %s: %s\n", argv[i], strerror(errno));
				return 1;
			}
		}
		else if (strcmp(a, "--trace") == 0 && v) {
			if ((trace = fopen(argv[++i], "w")) == NULL) {
				fprintf(stderr, "matchbench: %s: %s\n", argv[i], strerror(errno));
				return 1;
			}
		}
		else if (strcmp(a, "--help") == 0) { usage(stdout); return 0; }
		else { usage(stderr); return 2; }
	}
	if (reg == NULL || dir == NULL) {
		usage(stderr);
		return 2;
	}
	rng_state = seed;
	gmtime_r(&now, &tm);
	today.year = (uint16_t)(tm.tm_year + 1900);
	today.month = (uint8_t)(tm.tm_mon + 1);
	today.day = (uint8_t)tm.tm_mday;

	if (matcher_new(&m, NULL, &err) != DSC_OK || nickname_table_load(&nick, NULL, &err) != DSC_OK ||
	    match_ctx_new(m, &c, &err) != DSC_OK) {
		fprintf(stderr, "matchbench: %s\n", err.msg);
		return 1;
	}
	opt.path = dir;
	opt.map_size = (size_t)32 << 30;
	opt.bulk_nosync = true;
	opt.views_cache = true; /* its own store: nothing else writes it */
	opt.key_filter = key_filter;
	if (store_open(&st, &opt, matcher_indexer(m), &err) != DSC_OK ||
	    store_reader_new(st, &r, &err) != DSC_OK || store_reader_new(st, &oracle_reader, &err) != DSC_OK ||
	    normalizer_new(&oracle_norm, &err) != DSC_OK) {
		fprintf(stderr, "matchbench: %s\n", err.msg);
		return 1;
	}
	t_load = now_us();
	if (load_register(st, reg, &loaded, reuse) != 0) {
		fprintf(stderr, "matchbench: %s: no usable records\n", reg);
		return 1;
	}
	t_load = (now_us() - t_load) / 1e6;

	memset(rows, 0, sizeof(rows));
	memset(pair_rows, 0, sizeof(pair_rows));
	total = per_kind * K_N_POSITIVE + pairs + negatives * (K_N - K_N_POSITIVE);
	lat = calloc(total + 1, sizeof(*lat));
	if (lat == NULL)
		return 1;

	/* A daemon runs warm: its prefault thread maps every page of the
	 * store once after start-up (daemon/prefault.c), so do the same
	 * before measuring, then run some checks unmeasured.  Without it the
	 * first check to touch an index page pays its page fault, several
	 * µs on a virtual machine, and the tail measures the mapping.  A
	 * kernel without MADV_POPULATE_READ: every match view mapped once
	 * instead (sequentially, so it is quick). */
	{
		struct dsc_error e2;
		size_t off = 0, next = 0, n = 0;
		int prc;
		while ((prc = store_prefault(st, off, (size_t)32 << 20, &next, &e2)) == DSC_OK && next != SIZE_MAX)
			off = next;
		if (prc != DSC_OK && store_read_begin(r, &e2) == DSC_OK) {
			if (store_offender_count(r, &n) == DSC_OK) {
				volatile unsigned char sink = 0;
				for (uint32_t rec = 0; rec <= n + n / 8 + 16; rec++) {
					const void *v;
					size_t l;
					if (store_get_view(r, rec, &v, &l) == DSC_OK && l > 0)
						sink ^= *(const unsigned char *)v;
				}
				(void)sink;
			}
			store_read_end(r);
		}
	}
	/* Warm the store's pages and the caches: not measured. */
	for (size_t i = 0; i < 1000; i++) {
		struct query q;
		struct result_row scratch = {0}, scratch2 = {0};
		double l;
		if (make_positive(&q, K_EXACT, K_EXACT, false))
			run_query(c, r, &q, &scratch, &scratch2, &l);
	}

	cpu_lat = calloc(total + 1, sizeof(*cpu_lat));
	if (cpu_lat == NULL)
		return 1;
	store_reader_lookups(r, &lookups0, &filtered0);
	for (int k = K_EXACT; k < K_NAME_CHANGED; k++) {
		for (size_t i = 0; i < per_kind; i++) {
			struct query q;
			if (!make_positive(&q, (enum kind)k, K_EXACT, false))
				break;
			/* Three faults at once (a typo, no date, no postcode):
			 * beyond the set the targets are stated for (one
			 * corruption, or two), and kept out of its totals. */
			run_query(c, r, &q, &rows[k], k == K_NAMES_ONLY_TYPO ? &beyond : &all_single, &lat[n_lat++]);
		}
	}
	for (size_t i = 0; i < pairs; i++) {
		struct query q;
		enum kind a = (enum kind)(1 + rng_below(K_NAME_CHANGED - 1));
		enum kind b = (enum kind)(1 + rng_below(K_NAME_CHANGED - 1));
		if (a == b || (kind_field(a) != 0 && kind_field(a) == kind_field(b)) ||
		    a == K_NAMES_ONLY_TYPO || b == K_NAMES_ONLY_TYPO ||
		    (a == K_OTHER_SCRIPT && kind_field(b) == 0) || (b == K_OTHER_SCRIPT && kind_field(a) == 0)) {
			i--;
			continue;
		}
		if (!make_positive(&q, a, b, true))
			continue;
		run_query(c, r, &q, &pair_rows[kind_field(a) * 3 + kind_field(b)], &all_pairs, &lat[n_lat++]);
	}
	for (int k = K_NEG_STRANGER; k <= K_NEG_RELATIVE; k++) {
		for (size_t i = 0; i < negatives; i++) {
			struct query q;
			int tries = 0;
			while (!make_negative(&q, (enum kind)k) && ++tries < 100)
				;
			if (tries == 100)
				break;
			run_query(c, r, &q, &rows[k], &all_neg, &lat[n_lat++]);
		}
	}
	/* The latency figures are of the checks above (the set the targets
	 * are stated for, with names_only_typo as before): the kinds added
	 * after them are rows of their own, and some (an age only) are
	 * dearer than most. */
	n_lat_core = n_lat;
	n_cpu_core = n_cpu_lat;
	views_core = sum_views;
	considered_core = sum_considered;
	measured_core = n_measured;
	/* Kinds beyond the set the targets are stated for, each a row of its
	 * own and kept out of the totals, drawn in the order they were added
	 * so that every query before them stays the same: a changed name (no
	 * corruption of the name but another name), a date weeks out, three
	 * corruptions at once, an age guessed four or five years out; then
	 * namesakes checked with an age. */
	{
		static const enum kind beyond_kinds[] = {K_NAME_CHANGED, K_DOB_WEEKS, K_NICK_TYPO_YEAR, K_AGE_OFF};
		for (size_t k = 0; k < sizeof(beyond_kinds) / sizeof(beyond_kinds[0]); k++)
			for (size_t i = 0; i < per_kind; i++) {
				struct query q;
				if (!make_positive(&q, beyond_kinds[k], K_EXACT, false))
					break;
				run_query(c, r, &q, &rows[beyond_kinds[k]], &beyond_later, &lat[n_lat++]);
			}
	}
	for (size_t i = 0; i < negatives; i++) {
		struct query q;
		int tries = 0;
		while (!make_negative(&q, K_NEG_NAMESAKE_AGE) && ++tries < 100)
			;
		if (tries == 100)
			break;
		run_query(c, r, &q, &rows[K_NEG_NAMESAKE_AGE], &beyond_neg, &lat[n_lat++]);
	}
	for (size_t i = 0; i < per_kind; i++) {
		struct query q;
		if (!make_positive(&q, K_DOB_YEAR_SLIP, K_EXACT, false))
			break;
		run_query(c, r, &q, &rows[K_DOB_YEAR_SLIP], &beyond_later, &lat[n_lat++]);
	}
	/* A date of birth known in part (2 December 2026). */
	{
		static const enum kind part_kinds[] = {K_DOB_PART_YEAR, K_DOB_PART_MONTH, K_DOB_PART_YEAR_TYPO};
		for (size_t k = 0; k < sizeof(part_kinds) / sizeof(part_kinds[0]); k++)
			for (size_t i = 0; i < per_kind; i++) {
				struct query q;
				if (!make_positive(&q, part_kinds[k], K_EXACT, false))
					break;
				run_query(c, r, &q, &rows[part_kinds[k]], &beyond_later, &lat[n_lat++]);
			}
	}
	for (size_t i = 0; i < negatives; i++) {
		struct query q;
		int tries = 0;
		while (!make_negative(&q, K_NEG_NAMESAKE_YEAR) && ++tries < 100)
			;
		if (tries == 100)
			break;
		run_query(c, r, &q, &rows[K_NEG_NAMESAKE_YEAR], &beyond_neg, &lat[n_lat++]);
	}
	/* Slips in both names with a year; in the given name alone with no
	 * date (2 December 2026, in the order added). */
	{
		static const enum kind slip_kinds[] = {K_BOTH_TYPO_YEAR, K_NAMES_ONLY_TYPO_GIVEN};
		for (size_t k = 0; k < sizeof(slip_kinds) / sizeof(slip_kinds[0]); k++)
			for (size_t i = 0; i < per_kind; i++) {
				struct query q;
				if (!make_positive(&q, slip_kinds[k], K_EXACT, false))
					break;
				run_query(c, r, &q, &rows[slip_kinds[k]], &beyond_later, &lat[n_lat++]);
			}
	}

	all_pos.n = all_single.n + all_pairs.n;
	all_pos.found = all_single.found + all_pairs.found;
	all_pos.found_match = all_single.found_match + all_pairs.found_match;
	all_pos.views = all_single.views + all_pairs.views;
	all_pos.rank1 = all_single.rank1 + all_pairs.rank1;
	all_pos.wrong_match = all_single.wrong_match + all_pairs.wrong_match;
	all_pos.more = all_single.more + all_pairs.more;
	all_pos.miss_more = all_single.miss_more + all_pairs.miss_more;
	all_pos.cpu = malloc((all_single.n_cpu + all_pairs.n_cpu + 1) * sizeof(*all_pos.cpu));
	if (all_pos.cpu != NULL) {
		for (size_t i = 0; i < all_single.n_cpu; i++)
			all_pos.cpu[all_pos.n_cpu++] = all_single.cpu[i];
		for (size_t i = 0; i < all_pairs.n_cpu; i++)
			all_pos.cpu[all_pos.n_cpu++] = all_pairs.cpu[i];
	}
	all_checks.n = all_pos.n + all_neg.n;
	all_checks.wrong_match = all_pos.wrong_match + all_neg.wrong_match;

	qsort(lat, n_lat_core, sizeof(*lat), cmp_double);
	qsort(cpu_lat, n_cpu_core, sizeof(*cpu_lat), cmp_double);
	printf("register: %zu records (loaded in %.1f s), seed %llu, %zu checks\n", loaded, t_load, seed, n_lat);
	printf("  %-30s %6s %9s %9s %9s %9s %9s %6s %7s %7s\n", "kind", "n", "recall", "in_match", "rank1",
	       "wrong_m", "neg_cand", "views", "cpu_p50", "cpu_p99");
	for (int k = K_EXACT; k < K_N_POSITIVE; k++)
		print_row(kind_names[k], &rows[k], false);
	{
		static const char *const fields[] = {"name", "dob", "postcode"};
		for (int a = 0; a < 3; a++)
			for (int b = 0; b < 3; b++) {
				char label[64];
				if (pair_rows[a * 3 + b].n == 0)
					continue;
				snprintf(label, sizeof(label), "pair:%s+%s", fields[a], fields[b]);
				print_row(label, &pair_rows[a * 3 + b], false);
			}
	}
	for (int k = K_NEG_STRANGER; k < K_N; k++)
		print_row(kind_names[k], &rows[k], true);
	print_row("ALL single corruptions", &all_single, false);
	print_row("(names_only_typo, not in ALL)", &beyond, false);
	print_row("ALL pairs", &all_pairs, false);
	print_row("ALL positives", &all_pos, false);
	print_row("ALL negatives", &all_neg, true);
	printf("  wrong person in match band: %.3f%% of all %zu checks\n", pct(all_checks.wrong_match, all_checks.n),
	       all_checks.n);
	if (n_lat_core > 0)
		printf("  latency per check (the %zu checks of the totals and names_only_typo): p50 %.0f us, "
		       "p90 %.0f us, p99 %.0f us, max %.0f us\n",
		       n_lat_core, lat[n_lat_core / 2], lat[n_lat_core * 9 / 10], lat[n_lat_core * 99 / 100],
		       lat[n_lat_core - 1]);
	if (n_cpu_core > 0)
		printf("  CPU time per check: p50 %.0f us, p90 %.0f us, p99 %.0f us, max %.0f us\n",
		       cpu_lat[n_cpu_core / 2], cpu_lat[n_cpu_core * 9 / 10], cpu_lat[n_cpu_core * 99 / 100],
		       cpu_lat[n_cpu_core - 1]);
	/* The same without names_only_typo: the totals' own checks, whose
	 * tail a dearer kind out of the totals would otherwise set. */
	{
		size_t n = all_pos.n_cpu + all_neg.n_cpu;
		double *t = malloc((n + 1) * sizeof(*t));
		if (t != NULL && n > 0) {
			if (all_pos.n_cpu > 0)
				memcpy(t, all_pos.cpu, all_pos.n_cpu * sizeof(*t));
			if (all_neg.n_cpu > 0)
				memcpy(t + all_pos.n_cpu, all_neg.cpu, all_neg.n_cpu * sizeof(*t));
			qsort(t, n, sizeof(*t), cmp_double);
			printf("  CPU time per check of the %zu checks of the totals alone: p50 %.0f us, p99 %.0f us\n", n,
			       t[n / 2], t[n * 99 / 100]);
		}
		free(t);
	}
	/* A miss the answer warned of (more may fit than it shows: a date of
	 * birth or a postcode would narrow it) is not a silent one. */
	printf("  answers saying more_candidates: %.2f%% of positives, %.2f%% of negatives, %.2f%% of "
	       "names_only_typo\n", pct(all_pos.more, all_pos.n), pct(all_neg.more, all_neg.n),
	       pct(beyond.more, beyond.n));
	printf("  misses the answer warned of (more_candidates): %zu of %zu in the totals, %zu of %zu of "
	       "names_only_typo\n", all_pos.miss_more, all_pos.n - all_pos.found, beyond.miss_more,
	       beyond.n - beyond.found);
	if (measured_core > 0)
		printf("  records weighed per check: %.1f, of which by reading their view: %.1f\n",
		       (double)considered_core / (double)measured_core, (double)views_core / (double)measured_core);
	store_reader_lookups(r, &lookups1, &filtered1);
	if (n_lat > 0 && lookups1 > lookups0)
		printf("  index look-ups per check: %.1f, of which the key filter answered %.1f%%%s\n",
		       (double)(lookups1 - lookups0) / (double)n_lat,
		       100.0 * (double)(filtered1 - filtered0) / (double)(lookups1 - lookups0),
		       key_filter ? "" : " (--no-key-filter)");
	printf("RESULT records=%zu recall=%.2f in_match=%.2f rank1=%.2f wrong_match=%.3f neg_possible=%.2f "
	       "namesake_match=%zu p50_us=%.0f p99_us=%.0f cpu_p50_us=%.0f cpu_p99_us=%.0f silent_misses=%zu\n",
	       loaded, pct(all_pos.found, all_pos.n), pct(all_pos.found_match, all_pos.n), pct(all_pos.rank1, all_pos.n),
	       pct(all_checks.wrong_match, all_checks.n), pct(all_neg.any_candidate, all_neg.n),
	       rows[K_NEG_NAMESAKE].wrong_match, n_lat_core ? lat[n_lat_core / 2] : 0.0,
	       n_lat_core ? lat[n_lat_core * 99 / 100] : 0.0, n_cpu_core ? cpu_lat[n_cpu_core / 2] : 0.0,
	       n_cpu_core ? cpu_lat[n_cpu_core * 99 / 100] : 0.0,
	       all_pos.n - all_pos.found - all_pos.miss_more);

	free(lat);
	free(cpu_lat);
	for (int k = 0; k < K_N; k++) {
		free(rows[k].cpu);
		free(pair_rows[k].cpu);
	}
	free(all_single.cpu);
	free(all_pairs.cpu);
	free(beyond.cpu);
	free(beyond_later.cpu);
	free(beyond_neg.cpu);
	free(all_pos.cpu);
	free(all_neg.cpu);
	for (size_t i = 0; i < n_samples; i++)
		offender_free(samples[i].o);
	store_reader_free(r);
	store_reader_free(oracle_reader);
	normalizer_free(oracle_norm);
	store_close(st);
	match_ctx_free(c);
	matcher_free(m);
	nickname_table_free(nick);
	if (answers != NULL && fclose(answers) != 0) {
		fprintf(stderr, "matchbench: writing the answers failed: %s\n", strerror(errno));
		return 1;
	}
	if (trace != NULL && fclose(trace) != 0) {
		fprintf(stderr, "matchbench: writing the trace failed: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
