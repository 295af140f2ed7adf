/*
 * check_json.c - the JSON texts of a check, written straight into a
 * buffer: the stored check and the caller's answer.  A check's answer is
 * the hot path of the daemon; building it as a jansson tree (an object
 * with its own hash table per candidate, per name, per summary, then a
 * dump of that tree, then freeing it all) cost more than a tenth of a
 * check.  The texts here carry the same members in the same order as
 * contract.md shows, and every string is escaped as jansson would, or,
 * if it is not UTF-8, made readable as json_string_lossy() does.
 *
 * Never: write a string unescaped; write a text that is cut short (a
 * buffer that cannot grow fails the whole text: jbuf.oom).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disclosure/check.h"
#include "disclosured.h"

#define JBUF_MIN 4096

void jbuf_reset(struct jbuf *b)
{
	b->len = 0;
	b->oom = false;
}

void jbuf_release(struct jbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

char *jbuf_steal(struct jbuf *b, size_t *len)
{
	char *p;

	if (b->oom)
		return NULL;
	if (b->p == NULL && (b->p = malloc(1)) == NULL)
		return NULL;
	p = b->p;
	p[b->len] = '\0';
	*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

/* Room for n more bytes and a NUL. */
static bool jbuf_room(struct jbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	cap = b->cap > 0 ? b->cap : JBUF_MIN;
	while (cap < b->len + n + 1) {
		if (cap > SIZE_MAX / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (p == NULL) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

/* Inline: a check's texts are a few hundred small pieces. */
static inline void jadd(struct jbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap && !jbuf_room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* A literal, its length known at compile time. */
#define JLIT(b, lit) jadd(b, lit, sizeof(lit) - 1)

void jbuf_add(struct jbuf *b, const char *s, size_t n)
{
	jadd(b, s, n);
}

void jbuf_lit(struct jbuf *b, const char *s)
{
	jbuf_add(b, s, strlen(s));
}

static void jbuf_put(void *arg, const char *p, size_t n)
{
	jadd(arg, p, n);
}

/* s (valid UTF-8) as a JSON string, escaped as jansson escapes it. */
static void jbuf_escaped(struct jbuf *b, const char *s, size_t n)
{
	json_quote(s, n, jbuf_put, b);
}

/*
 * s as a JSON string, escaped exactly as json_quote() escapes it, in one
 * pass that also checks that s is UTF-8 (what utf8_valid() checks, with
 * utf8_decode()).  Returns false, with nothing written, if it is not.
 * Room is made once for the worst case (every byte a \u00XX), so the
 * loop writes without checking.
 */
static bool jbuf_quote_valid(struct jbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	size_t start = b->len, i = 0;
	char *o;

	if (n > (SIZE_MAX - 2) / 6 || !jbuf_room(b, 6 * n + 2))
		return true; /* oom is set: the text fails as a whole */
	o = b->p + b->len;
	*o++ = '"';
	while (i < n) {
		unsigned char c;
		uint64_t x;

		while (n - i >= 8 && (memcpy(&x, s + i, 8), json_special8(x) == 0)) {
			memcpy(o, s + i, 8);
			o += 8;
			i += 8;
		}
		if (i == n)
			break;
		c = u[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*o++ = (char)c;
			i++;
		} else if (c >= 0x80) {
			uint32_t cp;
			size_t len = utf8_decode(u + i, n - i, &cp);

			if (len == 0) {
				b->len = start;
				return false;
			}
			memcpy(o, s + i, len);
			o += len;
			i += len;
		} else {
			*o++ = '\\';
			switch (c) {
			case '"': *o++ = '"'; break;
			case '\\': *o++ = '\\'; break;
			case '\b': *o++ = 'b'; break;
			case '\f': *o++ = 'f'; break;
			case '\n': *o++ = 'n'; break;
			case '\r': *o++ = 'r'; break;
			case '\t': *o++ = 't'; break;
			default:
				*o++ = 'u';
				*o++ = '0';
				*o++ = '0';
				*o++ = hex[c >> 4];
				*o++ = hex[c & 15];
				break;
			}
			i++;
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
	return true;
}

void jbuf_str(struct jbuf *b, const char *s)
{
	json_t *lossy;
	const char *v;

	if (s == NULL) {
		JLIT(b, "null");
		return;
	}
	if (jbuf_quote_valid(b, s, strlen(s)))
		return;
	/* Rare: bytes that are not UTF-8 are written as json_string_lossy()
	 * writes them, so the texts say what the trees said. */
	lossy = json_string_lossy(s);
	v = lossy != NULL ? json_string_value(lossy) : NULL;
	if (v == NULL) {
		b->oom = true;
		json_decref(lossy);
		return;
	}
	jbuf_escaped(b, v, strlen(v));
	json_decref(lossy);
}

/* ,"key": (no comma when first) */
static void jbuf_key(struct jbuf *b, const char *key, bool first)
{
	if (!first)
		jadd(b, ",", 1);
	jadd(b, "\"", 1);
	jbuf_lit(b, key);
	jadd(b, "\":", 2);
}

/* Decimal digits of v at the end of buf; returns where they start. */
static char *digits(unsigned long long v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return end;
}

void jbuf_int(struct jbuf *b, long long v)
{
	char num[24], *end = num + sizeof(num), *p;
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

	p = digits(u, end);
	if (v < 0)
		*--p = '-';
	jadd(b, p, (size_t)(end - p));
}

/* A score as jansson writes a real with JSON_REAL_PRECISION(10) ("%.10g",
 * ".0" added to a whole number), rounded to hundredths as the contract
 * shows it.  Scores are 0..1: written from the hundredths without printf;
 * anything else (never seen) through snprintf. */
static void jbuf_score(struct jbuf *b, double score)
{
	double v = (double)(long long)(score * 100.0 + 0.5) / 100.0;
	long long cents = (long long)(score * 100.0 + 0.5);
	char num[40];
	int n;

	if (cents >= 0 && cents <= 100000) {
		char frac[2] = {(char)('0' + cents % 100 / 10), (char)('0' + cents % 10)};

		jbuf_int(b, cents / 100);
		jadd(b, ".", 1);
		jadd(b, frac, frac[1] == '0' ? 1 : 2);
		return;
	}
	n = snprintf(num, sizeof(num), "%.10g", v);
	if (n <= 0 || (size_t)n >= sizeof(num) - 2) {
		b->oom = true;
		return;
	}
	if (strpbrk(num, ".eE") == NULL) {
		num[n++] = '.';
		num[n++] = '0';
	}
	jadd(b, num, (size_t)n);
}

static int jbuf_dump_cb(const char *buffer, size_t size, void *data)
{
	struct jbuf *b = data;

	jadd(b, buffer, size);
	return b->oom ? -1 : 0;
}

int jbuf_json(struct jbuf *b, const json_t *v)
{
	if (v == NULL) {
		jbuf_lit(b, "null");
		return DSC_OK;
	}
	if (json_dump_callback(v, jbuf_dump_cb, b,
			       JSON_COMPACT | JSON_REAL_PRECISION(10) | JSON_ENCODE_ANY) != 0) {
		b->oom = true;
		return DSC_ENOMEM;
	}
	return DSC_OK;
}

/* The members every reader sees: id, band, score. */
static void candidate_head(struct jbuf *b, const struct candidate *c)
{
	JLIT(b, "\"offender_id\":");
	jbuf_str(b, c->offender_id);
	JLIT(b, ",\"band\":");
	jbuf_str(b, band_name(c->band));
	JLIT(b, ",\"score\":");
	jbuf_score(b, c->score);
}

static void candidate_summary(struct jbuf *b, const struct candidate *c)
{
	JLIT(b, ",\"managing_force\":");
	jbuf_str(b, c->managing_force);
	JLIT(b, ",\"summary\":");
	jadd(b, "{", 1);
	JLIT(b, "\"birth_year\":");
	if (c->birth_year)
		jbuf_int(b, c->birth_year);
	else
		jbuf_lit(b, "null");
	JLIT(b, ",\"sex\":");
	if (c->sex) {
		char sex[2] = {c->sex, '\0'};
		jbuf_str(b, sex);
	} else {
		jbuf_lit(b, "null");
	}
	JLIT(b, ",\"mappa_category\":");
	if (c->mappa_category)
		jbuf_int(b, c->mappa_category);
	else
		jbuf_lit(b, "null");
	JLIT(b, ",\"status\":");
	jbuf_str(b, offender_status_name(c->status));
	jadd(b, "}", 1);
}

/* The whole candidate, as its own force (or a national reader) sees it. */
static void candidate_full(struct jbuf *b, const struct candidate *c)
{
	bool first = true;

	jadd(b, "{", 1);
	candidate_head(b, c);
	JLIT(b, ",\"matched_name\":");
	jadd(b, "{", 1);
	if (c->matched_name.given[0]) {
		jbuf_key(b, "given", first);
		jbuf_str(b, c->matched_name.given);
		first = false;
	}
	if (c->matched_name.middle[0]) {
		jbuf_key(b, "middle", first);
		jbuf_str(b, c->matched_name.middle);
		first = false;
	}
	jbuf_key(b, "family", first);
	jbuf_str(b, c->matched_name.family);
	JLIT(b, ",\"kind\":");
	jbuf_lit(b, c->matched_name.kind == NAME_PRIMARY ? "\"primary\"" : "\"alias\"");
	jadd(b, "}", 1);
	JLIT(b, ",\"reasons\":");
	jadd(b, "[", 1);
	for (size_t i = 0; i < c->n_reasons && i < MATCH_MAX_REASONS; i++) {
		if (i > 0)
			jadd(b, ",", 1);
		jbuf_str(b, c->reasons[i]);
	}
	jadd(b, "]", 1);
	candidate_summary(b, c);
	jadd(b, "}", 1);
}

/* What a reader of another force sees (contract.md "Force scope"): the
 * same members candidates_filter() keeps. */
static void candidate_brief(struct jbuf *b, const struct candidate *c)
{
	jadd(b, "{", 1);
	candidate_head(b, c);
	candidate_summary(b, c);
	jadd(b, "}", 1);
}

bool check_candidate_visible(const struct candidate *c, const struct principal *reader)
{
	return principal_national(reader) || strcmp(c->managing_force, reader->force) == 0;
}

void check_json_candidates(struct jbuf *b, const struct check_result *res,
			   const struct principal *reader)
{
	jadd(b, "[", 1);
	for (size_t i = 0; i < res->n_candidates; i++) {
		const struct candidate *c = &res->candidates[i];

		if (i > 0)
			jadd(b, ",", 1);
		if (reader == NULL || check_candidate_visible(c, reader))
			candidate_full(b, c);
		else
			candidate_brief(b, c);
	}
	jadd(b, "]", 1);
}

int check_json_stored(struct jbuf *b, const struct check_json_fields *f,
		      const struct check_result *res)
{
	jadd(b, "{", 1);
	JLIT(b, "\"check_id\":");
	jbuf_str(b, f->check_id);
	JLIT(b, ",\"created\":");
	jbuf_str(b, f->created);
	JLIT(b, ",\"principal\":");
	jbuf_str(b, f->principal);
	JLIT(b, ",\"force\":");
	jbuf_str(b, f->force);
	JLIT(b, ",\"case_ref\":");
	jbuf_str(b, f->case_ref);
	JLIT(b, ",\"purpose\":");
	jbuf_str(b, f->purpose);
	JLIT(b, ",\"justification\":");
	jbuf_str(b, f->justification);
	JLIT(b, ",\"subject\":");
	if (f->subject_s != NULL) {
		/* The text the tree would have dumped; a name that is not
		 * UTF-8 (the tree would not exist) fails the text. */
		if (!check_subject_dump(f->subject_s, jbuf_put, b))
			return DSC_EINVAL;
	} else {
		jbuf_json(b, f->subject);
	}
	JLIT(b, ",\"response\":");
	jadd(b, "{", 1);
	JLIT(b, "\"outcome\":");
	jbuf_str(b, band_name(res->outcome));
	JLIT(b, ",\"candidates\":");
	check_json_candidates(b, res, NULL);
	JLIT(b, ",\"more_candidates\":");
	jbuf_lit(b, res->more_candidates ? "true" : "false");
	jadd(b, "}", 1);
	JLIT(b, ",\"decision\":");
	jbuf_lit(b, "null");
	jadd(b, "}", 1);
	return b->oom ? DSC_ENOMEM : DSC_OK;
}

int check_json_answer(struct jbuf *b, const char *check_id, const struct check_result *res,
		      const struct principal *reader)
{
	jadd(b, "{", 1);
	JLIT(b, "\"check_id\":");
	jbuf_str(b, check_id);
	JLIT(b, ",\"outcome\":");
	jbuf_str(b, band_name(res->outcome));
	JLIT(b, ",\"candidates\":");
	check_json_candidates(b, res, reader);
	JLIT(b, ",\"more_candidates\":");
	jbuf_lit(b, res->more_candidates ? "true" : "false");
	return b->oom ? DSC_ENOMEM : DSC_OK;
}
