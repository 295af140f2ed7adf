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

void jbuf_add(struct jbuf *b, const char *s, size_t n)
{
	if (!jbuf_room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void jbuf_lit(struct jbuf *b, const char *s)
{
	jbuf_add(b, s, strlen(s));
}

static void jbuf_put(void *arg, const char *p, size_t n)
{
	jbuf_add(arg, p, n);
}

/* s (valid UTF-8) as a JSON string, escaped as jansson escapes it. */
static void jbuf_escaped(struct jbuf *b, const char *s, size_t n)
{
	json_quote(s, n, jbuf_put, b);
}

void jbuf_str(struct jbuf *b, const char *s)
{
	size_t n;
	json_t *lossy;
	const char *v;

	if (s == NULL) {
		jbuf_lit(b, "null");
		return;
	}
	n = strlen(s);
	if (utf8_valid(s, n)) {
		jbuf_escaped(b, s, n);
		return;
	}
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
		jbuf_add(b, ",", 1);
	jbuf_add(b, "\"", 1);
	jbuf_lit(b, key);
	jbuf_add(b, "\":", 2);
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
	jbuf_add(b, p, (size_t)(end - p));
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
		jbuf_add(b, ".", 1);
		jbuf_add(b, frac, frac[1] == '0' ? 1 : 2);
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
	jbuf_add(b, num, (size_t)n);
}

static int jbuf_dump_cb(const char *buffer, size_t size, void *data)
{
	struct jbuf *b = data;

	jbuf_add(b, buffer, size);
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
	jbuf_key(b, "offender_id", true);
	jbuf_str(b, c->offender_id);
	jbuf_key(b, "band", false);
	jbuf_str(b, band_name(c->band));
	jbuf_key(b, "score", false);
	jbuf_score(b, c->score);
}

static void candidate_summary(struct jbuf *b, const struct candidate *c)
{
	jbuf_key(b, "managing_force", false);
	jbuf_str(b, c->managing_force);
	jbuf_key(b, "summary", false);
	jbuf_add(b, "{", 1);
	jbuf_key(b, "birth_year", true);
	if (c->birth_year)
		jbuf_int(b, c->birth_year);
	else
		jbuf_lit(b, "null");
	jbuf_key(b, "sex", false);
	if (c->sex) {
		char sex[2] = {c->sex, '\0'};
		jbuf_str(b, sex);
	} else {
		jbuf_lit(b, "null");
	}
	jbuf_key(b, "mappa_category", false);
	if (c->mappa_category)
		jbuf_int(b, c->mappa_category);
	else
		jbuf_lit(b, "null");
	jbuf_key(b, "status", false);
	jbuf_str(b, offender_status_name(c->status));
	jbuf_add(b, "}", 1);
}

/* The whole candidate, as its own force (or a national reader) sees it. */
static void candidate_full(struct jbuf *b, const struct candidate *c)
{
	bool first = true;

	jbuf_add(b, "{", 1);
	candidate_head(b, c);
	jbuf_key(b, "matched_name", false);
	jbuf_add(b, "{", 1);
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
	jbuf_key(b, "kind", false);
	jbuf_lit(b, c->matched_name.kind == NAME_PRIMARY ? "\"primary\"" : "\"alias\"");
	jbuf_add(b, "}", 1);
	jbuf_key(b, "reasons", false);
	jbuf_add(b, "[", 1);
	for (size_t i = 0; i < c->n_reasons && i < MATCH_MAX_REASONS; i++) {
		if (i > 0)
			jbuf_add(b, ",", 1);
		jbuf_str(b, c->reasons[i]);
	}
	jbuf_add(b, "]", 1);
	candidate_summary(b, c);
	jbuf_add(b, "}", 1);
}

/* What a reader of another force sees (contract.md "Force scope"): the
 * same members candidates_filter() keeps. */
static void candidate_brief(struct jbuf *b, const struct candidate *c)
{
	jbuf_add(b, "{", 1);
	candidate_head(b, c);
	candidate_summary(b, c);
	jbuf_add(b, "}", 1);
}

static bool candidate_visible(const struct candidate *c, const struct principal *reader)
{
	return principal_national(reader) || strcmp(c->managing_force, reader->force) == 0;
}

void check_json_candidates(struct jbuf *b, const struct check_result *res,
			   const struct principal *reader)
{
	jbuf_add(b, "[", 1);
	for (size_t i = 0; i < res->n_candidates; i++) {
		const struct candidate *c = &res->candidates[i];

		if (i > 0)
			jbuf_add(b, ",", 1);
		if (reader == NULL || candidate_visible(c, reader))
			candidate_full(b, c);
		else
			candidate_brief(b, c);
	}
	jbuf_add(b, "]", 1);
}

int check_json_stored(struct jbuf *b, const struct check_json_fields *f,
		      const struct check_result *res)
{
	jbuf_add(b, "{", 1);
	jbuf_key(b, "check_id", true);
	jbuf_str(b, f->check_id);
	jbuf_key(b, "created", false);
	jbuf_str(b, f->created);
	jbuf_key(b, "principal", false);
	jbuf_str(b, f->principal);
	jbuf_key(b, "force", false);
	jbuf_str(b, f->force);
	jbuf_key(b, "case_ref", false);
	jbuf_str(b, f->case_ref);
	jbuf_key(b, "purpose", false);
	jbuf_str(b, f->purpose);
	jbuf_key(b, "justification", false);
	jbuf_str(b, f->justification);
	jbuf_key(b, "subject", false);
	jbuf_json(b, f->subject);
	jbuf_key(b, "response", false);
	jbuf_add(b, "{", 1);
	jbuf_key(b, "outcome", true);
	jbuf_str(b, band_name(res->outcome));
	jbuf_key(b, "candidates", false);
	check_json_candidates(b, res, NULL);
	jbuf_add(b, "}", 1);
	jbuf_key(b, "decision", false);
	jbuf_lit(b, "null");
	jbuf_add(b, "}", 1);
	return b->oom ? DSC_ENOMEM : DSC_OK;
}

int check_json_answer(struct jbuf *b, const char *check_id, const struct check_result *res,
		      const struct principal *reader)
{
	jbuf_add(b, "{", 1);
	jbuf_key(b, "check_id", true);
	jbuf_str(b, check_id);
	jbuf_key(b, "outcome", false);
	jbuf_str(b, band_name(res->outcome));
	jbuf_key(b, "candidates", false);
	check_json_candidates(b, res, reader);
	return b->oom ? DSC_ENOMEM : DSC_OK;
}
