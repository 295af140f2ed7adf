/*
 * offender.c - the offender record of the import format: validation of one
 * JSON object into a struct offender, and its canonical compact JSON.
 *
 * What it decides (contract.md, "Offender record", made precise):
 *   - id: 1-64 characters of A-Z a-z 0-9 _ -.
 *   - names: 1-50 objects {given, middle, family, kind}; family a non-blank
 *     string, given/middle strings or null; each part at most 200 bytes.
 *     kind is "primary" or another word ("alias", "birth", "married":
 *     weighed as an alias, kept as written).  A missing kind is "alias", except
 *     for the first name without one when no name is marked "primary" (a
 *     single name, or a register that lists the main name first); the
 *     canonical JSON then carries the kind explicitly.  Exactly one name
 *     must be primary.
 *   - dob, other_dobs[], addresses[].from/to, registration.start/end,
 *     convictions[].date, orders[].start/end: real dates YYYY-MM-DD or null.
 *   - sex: M, F or X, read as sex_read() reads it (male, female, U...).
 *     status: active, expired, in_custody, deceased; risk_level: low,
 *     medium, high, very_high: both in any case, with a space or a hyphen
 *     for the underscore (kept as given in the record's JSON).
 *     mappa.category/level: 1-3.
 *   - managing_force: 1-64 characters of a-z 0-9 - (a force id such as
 *     "west-mercia", the same spelling as acl.conf's force).
 *   - updated: a timestamp starting YYYY-MM-DDTHH:MM:SS (or with a space
 *     for the T), or a date YYYY-MM-DD alone.
 *   - Unknown keys are refused at every level ("unknown field"), so that a
 *     typo never silently drops data; duplicate keys are refused too.
 *
 * Text is read by a strict reader of its own when it can (the usual
 * record: no escapes, no real numbers) and by jansson otherwise; both make
 * the same tree for one validator, so what is accepted and how errors read
 * do not depend on which one read it.
 *
 * It must never: change a name (names are kept byte for byte, any script;
 * normalisation is the matcher's), accept a record it cannot give back as
 * the same JSON, let its reader take text jansson would refuse, or abort
 * on any input.
 */
#include <pthread.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disclosure/arena.h"
#include "disclosure/offender.h"

#define NAMES_MAX 50
#define NAME_PART_MAX 200
#define TEXT_MAX 1000
#define SHORT_MAX 64
#define LIST_MAX 100
#define RECORD_MAX (256 * 1024)
#define FORCE_MAX 64

/* Builds "prefix[i]" or "prefix.key" into a path buffer without printf:
 * paths are built for every element of every record, not only on errors.
 * A truncated path still names the field well enough for a person. */
static void path_append(char *out, size_t cap, size_t *at, const char *s)
{
	while (*s != '\0' && *at + 1 < cap)
		out[(*at)++] = *s++;
	out[*at] = '\0';
}

static void path_index(char *out, size_t cap, const char *prefix, size_t i)
{
	char digits_buf[24], *d = digits_buf + sizeof(digits_buf) - 1;
	size_t at = 0;

	*d = '\0';
	do {
		*--d = (char)('0' + i % 10);
		i /= 10;
	} while (i > 0);
	path_append(out, cap, &at, prefix);
	path_append(out, cap, &at, "[");
	path_append(out, cap, &at, d);
	path_append(out, cap, &at, "]");
}

static void path_key(char *out, size_t cap, const char *prefix, const char *key)
{
	size_t at = 0;

	out[0] = '\0';
	path_append(out, cap, &at, prefix);
	if (prefix[0] != '\0')
		path_append(out, cap, &at, ".");
	path_append(out, cap, &at, key);
}

static int field_err(struct dsc_error *err, const char *prefix, const char *key, const char *what)
{
	char path[128];

	path_key(path, sizeof(path), prefix, key);
	return dsc_error_field(err, DSC_EINVAL, path, "%s", what);
}

/* ---- the record as a tree ----
 * Validation and the canonical JSON work on a light tree of the record
 * (struct jv) rather than on jansson's values: building jansson's objects
 * (a hash table, a copy of every key and string) and freeing them again
 * was most of the cost of a bulk import.  offender_parse builds the tree
 * with its own strict reader, in one allocation; anything that reader does
 * not take (escapes, real numbers, doubtful input of any kind) goes to
 * json_loadb as before and the tree is made from jansson's values, so
 * errors and their messages stay jansson's and the validator's own. */

enum jv_type { JV_NULL, JV_TRUE, JV_FALSE, JV_INTEGER, JV_REAL, JV_STRING, JV_ARRAY, JV_OBJECT };

struct jv {
	enum jv_type type;
	const char *key;  /* the member's name in an object, else NULL */
	struct jv *next;  /* the next element or member */
	struct jv *child; /* the first element or member */
	struct jv *last;  /* the last one, to append */
	const char *s;    /* a string, NUL-terminated (it may hold NULs before) */
	size_t len;       /* a string's length, or a container's size */
	json_int_t i;
	json_t *src;      /* the jansson value it was made from, or NULL */
};

/* The nodes of one record and the spare ones for the kinds written in. */
struct jv_tree {
	struct jv *nodes;
	size_t n, cap;
	char *text; /* the reader's copy of the input, strings cut out in place */
	bool plain; /* made by the reader: no string or key needs an escape */
	/* Made by the reader from text that is already the canonical form:
	 * no whitespace between tokens, no "-0", nothing written in since
	 * (set_kind).  Its canonical JSON is then the text itself. */
	bool verbatim;
	struct jv_scratch *scratch; /* where nodes came from, if not malloc */
};

/*
 * The reader's block (nodes and the copy of the text, about 40 bytes per
 * byte of input) is kept per thread between records: a bulk import parses
 * a million records on one thread, and a fresh 30 KiB block each time made
 * glibc consolidate its free lists and spread each chunk's records over
 * new pages.  A block is taken out of the thread's slot while in use (so
 * a nested parse gets its own) and freed with the thread.  Records needing
 * more than SCRATCH_MAX use a block of their own, freed after.
 */
#define SCRATCH_MAX ((size_t)256 * 1024)

struct jv_scratch {
	size_t cap; /* bytes in data */
	alignas(max_align_t) unsigned char data[];
};

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static bool scratch_ready;

static void scratch_destroy(void *p)
{
	free(p);
}

static void scratch_init(void)
{
	scratch_ready = pthread_key_create(&scratch_key, scratch_destroy) == 0;
}

/* A block of at least bytes, the thread's own if it has one free. */
static void *scratch_take(size_t bytes, struct jv_scratch **from)
{
	struct jv_scratch *sc = NULL;

	*from = NULL;
	if (bytes > SCRATCH_MAX)
		return malloc(bytes);
	pthread_once(&scratch_once, scratch_init);
	if (!scratch_ready)
		return malloc(bytes);
	sc = pthread_getspecific(scratch_key);
	if (sc != NULL && sc->cap < bytes) {
		free(sc);
		sc = NULL;
	}
	if (sc == NULL) {
		/* Room for a larger record than this one, so that the next
		 * few do not each grow it. */
		size_t cap = bytes < SCRATCH_MAX / 2 ? bytes * 2 : SCRATCH_MAX;

		if ((sc = malloc(sizeof(*sc) + cap)) == NULL) {
			pthread_setspecific(scratch_key, NULL);
			return NULL;
		}
		sc->cap = cap;
	}
	pthread_setspecific(scratch_key, NULL); /* in use */
	*from = sc;
	return sc->data;
}

static void scratch_give_back(struct jv_scratch *sc)
{
	struct jv_scratch *other = pthread_getspecific(scratch_key);

	/* A nested parse may have left one: keep the larger. */
	if (other != NULL && other->cap > sc->cap) {
		free(sc);
		return;
	}
	free(other);
	if (pthread_setspecific(scratch_key, sc) != 0)
		free(sc);
}

static struct jv *jv_node(struct jv_tree *t, enum jv_type type)
{
	struct jv *v;

	if (t->n >= t->cap)
		return NULL;
	v = &t->nodes[t->n++];
	memset(v, 0, sizeof(*v));
	v->type = type;
	return v;
}

static void jv_append(struct jv *parent, struct jv *v)
{
	if (parent->last != NULL)
		parent->last->next = v;
	else
		parent->child = v;
	parent->last = v;
	parent->len++;
}

/* Whether two member names are equal: they are short (at most 16 bytes
 * in a valid record), where a call to strcmp costs more than the loop. */
static inline bool key_eq(const char *a, const char *b)
{
	for (; *a == *b; a++, b++) {
		if (*a == '\0')
			return true;
	}
	return false;
}

static struct jv *jv_get(const struct jv *obj, const char *key)
{
	struct jv *m;

	/* This runs for every field of every record. */
	for (m = obj->child; m != NULL; m = m->next) {
		if (key_eq(m->key, key))
			return m;
	}
	return NULL;
}

/* Functions, not macros: a json_t has a member named type too. */
static inline bool jv_is_null(const struct jv *v) { return v->type == JV_NULL; }
static inline bool jv_is_string(const struct jv *v) { return v->type == JV_STRING; }
static inline bool jv_is_array(const struct jv *v) { return v->type == JV_ARRAY; }
static inline bool jv_is_object(const struct jv *v) { return v->type == JV_OBJECT; }
static inline bool jv_is_integer(const struct jv *v) { return v->type == JV_INTEGER; }

static void jv_tree_free(struct jv_tree *t)
{
	if (t->scratch != NULL)
		scratch_give_back(t->scratch);
	else
		free(t->nodes); /* the reader's text lies in the same block */
	t->scratch = NULL;
	t->nodes = NULL;
	t->text = NULL;
}

/* -- from jansson's values (offender_from_json, and input the reader left) -- */

static size_t jv_count(json_t *v, int depth)
{
	size_t n = 1, i;
	const char *key;
	json_t *val;

	if (depth > 64) /* refused by the validator long before */
		return n;
	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++)
			n += jv_count(json_array_get(v, i), depth + 1);
	} else if (json_is_object(v)) {
		json_object_foreach (v, key, val)
			n += jv_count(val, depth + 1);
	}
	return n;
}

static struct jv *jv_from_jansson(struct jv_tree *t, json_t *v, int depth)
{
	struct jv *out, *c;
	const char *key;
	json_t *val;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if ((out = jv_node(t, JV_OBJECT)) == NULL)
			return NULL;
		if (depth > 64)
			break;
		json_object_foreach (v, key, val) {
			if ((c = jv_from_jansson(t, val, depth + 1)) == NULL)
				return NULL;
			c->key = key;
			jv_append(out, c);
		}
		break;
	case JSON_ARRAY:
		if ((out = jv_node(t, JV_ARRAY)) == NULL)
			return NULL;
		if (depth > 64)
			break;
		for (i = 0; i < json_array_size(v); i++) {
			if ((c = jv_from_jansson(t, json_array_get(v, i), depth + 1)) == NULL)
				return NULL;
			jv_append(out, c);
		}
		break;
	case JSON_STRING:
		if ((out = jv_node(t, JV_STRING)) == NULL)
			return NULL;
		out->s = json_string_value(v);
		out->len = json_string_length(v);
		break;
	case JSON_INTEGER:
		if ((out = jv_node(t, JV_INTEGER)) == NULL)
			return NULL;
		out->i = json_integer_value(v);
		break;
	case JSON_REAL:
		out = jv_node(t, JV_REAL);
		break;
	case JSON_TRUE:
		out = jv_node(t, JV_TRUE);
		break;
	case JSON_FALSE:
		out = jv_node(t, JV_FALSE);
		break;
	default:
		out = jv_node(t, JV_NULL);
		break;
	}
	if (out != NULL)
		out->src = v;
	return out;
}

static struct jv *jv_tree_from_jansson(struct jv_tree *t, json_t *root)
{
	memset(t, 0, sizeof(*t));
	t->cap = jv_count(root, 0) + NAMES_MAX;
	t->nodes = malloc(t->cap * sizeof(*t->nodes));
	if (t->nodes == NULL)
		return NULL;
	return jv_from_jansson(t, root, 0);
}

size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned c = s[0], v;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, v = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, v = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, v = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) || v > 0x10FFFF ||
	    (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	uint32_t cp;

	return utf8_decode(s, n, &cp);
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq_len(p + i, n - i);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

bool cp_is_display_control(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

bool utf8_has_display_control(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	/* Every such code point is written with lead byte C2 or E2: only
	 * those sequences are decoded. */
	for (size_t i = 0; i < n; i++) {
		uint32_t cp;
		size_t k;

		if (p[i] != 0xC2 && p[i] != 0xE2)
			continue;
		k = utf8_decode(p + i, n - i, &cp);
		if (k > 0 && cp_is_display_control(cp))
			return true;
		if (k > 1)
			i += k - 1;
	}
	return false;
}

/* -- the reader: strict JSON of the usual kind, or NULL to leave it to
 * jansson.  It takes no escapes, no real numbers, no integers past 18
 * digits, nothing deeper than 16 and no duplicate keys; strings must be
 * valid UTF-8 without control characters (as jansson requires).  Whatever
 * it accepts, json_loadb accepts with the same values. -- */

struct reader {
	char *p, *end;
	struct jv_tree *t;
};

static inline void skip_space(struct reader *r)
{
	char *p = r->p;

	while (p < r->end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p != r->p) {
		r->t->verbatim = false; /* the canonical form has none */
		r->p = p;
	}
}

/* A string at r->p (the opening quote): cut out in place, NUL for the
 * closing quote.  Names and addresses are mostly plain ASCII, taken eight
 * bytes a step; the rest is looked at byte by byte. */
static const char *read_string(struct reader *r, size_t *len)
{
	unsigned char *p = (unsigned char *)r->p + 1, *end = (unsigned char *)r->end, *start = p;
	unsigned char *stop;

	for (;;) {
		uint64_t v;

		if (end - p >= 8) {
			uint64_t m;

			memcpy(&v, p, sizeof(v));
			m = json_special8(v);
			if (m == 0) {
				p += 8;
				continue;
			}
			stop = p + 8;
			/* Straight to the first byte that needs a look (the
			 * lowest flag is exact; the word was read little-endian,
			 * so the lowest is the first byte). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			p += __builtin_ctzll(m) >> 3;
#endif
		} else {
			stop = end;
		}
		/* Something in these bytes: each on its own, up to the step's
		 * end (so a short string's quote is not tested for twice). */
		while (p < stop) {
			unsigned c = *p;
			size_t seq;

			if (c == '"')
				goto done;
			if (c < 0x80) {
				if (c < 0x20 || c == '\\')
					return NULL;
				p++;
				continue;
			}
			if ((seq = utf8_seq_len(p, (size_t)(end - p))) == 0)
				return NULL;
			p += seq;
		}
		if (p >= end)
			return NULL;
	}
done:
	*p = '\0';
	*len = (size_t)(p - start);
	r->p = (char *)p + 1;
	return (const char *)start;
}

static struct jv *read_value(struct reader *r, int depth);

static struct jv *read_container(struct reader *r, int depth, bool object)
{
	struct jv *c = jv_node(r->t, object ? JV_OBJECT : JV_ARRAY), *v, *m;
	char close = object ? '}' : ']';

	if (c == NULL || depth > 16)
		return NULL;
	r->p++;
	skip_space(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return c;
	}
	for (;;) {
		const char *key = NULL;
		size_t klen;

		if (object) {
			if (r->p >= r->end || *r->p != '"' || (key = read_string(r, &klen)) == NULL)
				return NULL;
			/* jansson keys end at a NUL, and these have none. */
			for (m = c->child; m != NULL; m = m->next) {
				if (key_eq(m->key, key))
					return NULL; /* a duplicate: jansson words the error */
			}
			skip_space(r);
			if (r->p >= r->end || *r->p != ':')
				return NULL;
			r->p++;
			skip_space(r);
		}
		if ((v = read_value(r, depth + 1)) == NULL)
			return NULL;
		v->key = key;
		jv_append(c, v);
		skip_space(r);
		if (r->p >= r->end)
			return NULL;
		if (*r->p == close) {
			r->p++;
			return c;
		}
		if (*r->p != ',')
			return NULL;
		r->p++;
		skip_space(r);
	}
}

static bool word_at(const struct reader *r, const char *w, size_t n)
{
	return (size_t)(r->end - r->p) >= n && memcmp(r->p, w, n) == 0;
}

static struct jv *read_value(struct reader *r, int depth)
{
	struct jv *v;

	if (r->p >= r->end)
		return NULL;
	switch (*r->p) {
	case '{':
		return read_container(r, depth, true);
	case '[':
		return read_container(r, depth, false);
	case '"':
		if ((v = jv_node(r->t, JV_STRING)) == NULL || (v->s = read_string(r, &v->len)) == NULL)
			return NULL;
		return v;
	case 't':
		if (!word_at(r, "true", 4))
			return NULL;
		r->p += 4;
		return jv_node(r->t, JV_TRUE);
	case 'f':
		if (!word_at(r, "false", 5))
			return NULL;
		r->p += 5;
		return jv_node(r->t, JV_FALSE);
	case 'n':
		if (!word_at(r, "null", 4))
			return NULL;
		r->p += 4;
		return jv_node(r->t, JV_NULL);
	default: {
		/* -?(0|[1-9][0-9]*), at most 18 digits, then no . e or E */
		bool neg = false;
		json_int_t n = 0;
		size_t nd = 0;

		if (*r->p == '-') {
			neg = true;
			r->p++;
		}
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return NULL;
		if (*r->p == '0' && r->p + 1 < r->end && r->p[1] >= '0' && r->p[1] <= '9')
			return NULL;
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
			if (++nd > 18)
				return NULL;
			n = n * 10 + (*r->p++ - '0');
		}
		if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
			return NULL;
		if ((v = jv_node(r->t, JV_INTEGER)) == NULL)
			return NULL;
		if (neg && n == 0)
			r->t->verbatim = false; /* written "0" */
		v->i = neg ? -n : n;
		return v;
	}
	}
}

/* The tree of text, or NULL (t freed) if the reader leaves it to jansson. */
static struct jv *jv_tree_read(struct jv_tree *t, const char *text, size_t len)
{
	struct reader r;
	struct jv *root;

	memset(t, 0, sizeof(*t));
	/* Every value takes at least two bytes with its separator. */
	t->cap = (len + 1) / 2 + 1 + NAMES_MAX;
	/* One block for both, the thread's kept one when it fits. */
	t->nodes = scratch_take(t->cap * sizeof(*t->nodes) + len + 1, &t->scratch);
	if (t->nodes == NULL)
		return NULL;
	t->text = (char *)(t->nodes + t->cap);
	memcpy(t->text, text, len);
	t->text[len] = '\0';
	t->plain = true; /* read_string takes no '\\' and no control character */
	t->verbatim = true; /* until the reader or set_kind says otherwise */
	r.p = t->text;
	r.end = t->text + len;
	r.t = t;
	skip_space(&r);
	if (r.p >= r.end || *r.p != '{' || (root = read_value(&r, 0)) == NULL) {
		jv_tree_free(t);
		return NULL;
	}
	skip_space(&r);
	if (r.p != r.end) {
		jv_tree_free(t);
		return NULL;
	}
	return root;
}

/* Refuses keys that are not in the allowed list. */
static int check_keys(const struct jv *obj, const char *prefix, const char *const *allowed,
		      struct dsc_error *err)
{
	const struct jv *m;

	for (m = obj->child; m != NULL; m = m->next) {
		const char *key = m->key;
		size_t i;
		bool ok = false;

		for (i = 0; allowed[i] != NULL; i++) {
			if (key_eq(key, allowed[i])) {
				ok = true;
				break;
			}
		}
		if (!ok)
			return field_err(err, prefix, key, "unknown field");
	}
	return DSC_OK;
}

static bool is_blank(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	}
	return true;
}

/*
 * An optional string: absent or null leaves *out NULL.  With required set,
 * absent, null and blank are refused.  Points *out (when out != NULL) at
 * the tree's NUL-terminated string, which offender_block() copies.
 */
static int get_string(const struct jv *obj, const char *prefix, const char *key, bool required,
		      size_t max, char **out, struct dsc_error *err)
{
	struct jv *v = jv_get(obj, key);
	const char *s;
	size_t len;
	char msg[64];

	if (out != NULL)
		*out = NULL;
	if (v == NULL || jv_is_null(v)) {
		if (required)
			return field_err(err, prefix, key, "required");
		return DSC_OK;
	}
	if (!jv_is_string(v))
		return field_err(err, prefix, key, "must be a string");
	s = v->s;
	len = v->len;
	if (len > max) {
		snprintf(msg, sizeof(msg), "too long (at most %zu bytes)", max);
		return field_err(err, prefix, key, msg);
	}
	if (required && (len == 0 || is_blank(s)))
		return field_err(err, prefix, key, "required");
	if (utf8_has_display_control(s, len))
		return field_err(err, prefix, key,
		                 "holds a C1 control or a bidirectional override (U+0080-U+009F, "
		                 "U+202A-U+202E, U+2066-U+2069)");
	if (out != NULL)
		*out = (char *)s;
	return DSC_OK;
}

/* An optional date: absent or null leaves *out zero. */
static int get_date(const struct jv *obj, const char *prefix, const char *key, bool required,
		    struct date *out, struct dsc_error *err)
{
	struct jv *v = jv_get(obj, key);
	struct date d = { 0, 0, 0 };

	if (v == NULL || jv_is_null(v)) {
		if (required)
			return field_err(err, prefix, key, "required");
		if (out != NULL)
			*out = d;
		return DSC_OK;
	}
	if (!jv_is_string(v) || v->len != 10 || !date_parse(v->s, &d))
		return field_err(err, prefix, key, "not a date (YYYY-MM-DD)");
	if (out != NULL)
		*out = d;
	return DSC_OK;
}

/* An optional array: *arr NULL if absent or null; refuses more than max. */
static int get_array(const struct jv *obj, const char *prefix, const char *key, size_t max, struct jv **arr,
		     struct dsc_error *err)
{
	struct jv *v = jv_get(obj, key);
	char msg[64];

	*arr = NULL;
	if (v == NULL || jv_is_null(v))
		return DSC_OK;
	if (!jv_is_array(v))
		return field_err(err, prefix, key, "must be an array");
	if (v->len > max) {
		snprintf(msg, sizeof(msg), "too many entries (at most %zu)", max);
		return field_err(err, prefix, key, msg);
	}
	*arr = v;
	return DSC_OK;
}

static int get_object(const struct jv *obj, const char *prefix, const char *key, struct jv **out,
		      struct dsc_error *err)
{
	struct jv *v = jv_get(obj, key);

	*out = NULL;
	if (v == NULL || jv_is_null(v))
		return DSC_OK;
	if (!jv_is_object(v))
		return field_err(err, prefix, key, "must be an object");
	*out = v;
	return DSC_OK;
}

/* word as a register may write it: in any case, with a space or a hyphen
 * for the underscore ("In custody", "very-high" for in_custody, very_high). */
static bool word_is(const char *s, size_t len, const char *word)
{
	size_t i;

	for (i = 0; i < len && word[i] != '\0'; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (c == ' ' || c == '-')
			c = '_';
		if (c != word[i])
			return false;
	}
	return i == len && word[i] == '\0';
}

bool sex_read(const char *s, size_t len, char *out)
{
	static const char *const unknown[] = {"u", "unknown", "not_known", "n/k", NULL};
	size_t i;

	*out = 0;
	/* Spaces around it are a form's, not the value's ("Female "). */
	while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return true; /* blank: not known */
	if (len == 1 && strchr("MFXmfx", s[0]) != NULL && s[0] != '\0') {
		*out = (char)(s[0] & ~0x20);
		return true;
	}
	if (word_is(s, len, "male") || word_is(s, len, "female")) {
		*out = (s[0] == 'm' || s[0] == 'M') ? 'M' : 'F';
		return true;
	}
	for (i = 0; unknown[i] != NULL; i++)
		if (word_is(s, len, unknown[i]))
			return true;
	return false;
}

/* One of a fixed set of words, as word_is() reads them; *index is its
 * position, -1 if absent. */
static int get_enum(const struct jv *obj, const char *prefix, const char *key, bool required,
		    const char *const *words, const char *wordlist, int *index,
		    struct dsc_error *err)
{
	struct jv *v = jv_get(obj, key);
	char msg[160];
	int i;

	*index = -1;
	if (v == NULL || jv_is_null(v)) {
		if (required)
			return field_err(err, prefix, key, "required");
		return DSC_OK;
	}
	if (jv_is_string(v)) {
		for (i = 0; words[i] != NULL; i++) {
			if (word_is(v->s, v->len, words[i])) {
				*index = i;
				return DSC_OK;
			}
		}
	}
	snprintf(msg, sizeof(msg), "must be one of %s", wordlist);
	return field_err(err, prefix, key, msg);
}

static int get_small_int(const struct jv *obj, const char *prefix, const char *key, int lo, int hi,
			 int *out, struct dsc_error *err)
{
	struct jv *v = jv_get(obj, key);
	char msg[64];

	*out = 0;
	if (v == NULL || jv_is_null(v))
		return DSC_OK;
	if (!jv_is_integer(v) || v->i < lo || v->i > hi) {
		snprintf(msg, sizeof(msg), "must be an integer %d-%d", lo, hi);
		return field_err(err, prefix, key, msg);
	}
	*out = (int)v->i;
	return DSC_OK;
}

bool offender_id_valid(const char *id)
{
	size_t n;

	if (id == NULL)
		return false;
	for (n = 0; id[n] != '\0'; n++) {
		char c = id[n];

		if (n >= OFFENDER_ID_MAX)
			return false;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return n > 0;
}

static bool force_valid(const char *f)
{
	size_t n;

	for (n = 0; f[n] != '\0'; n++) {
		char c = f[n];

		if (n >= FORCE_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return n > 0;
}

const char *offender_status_name(enum offender_status s)
{
	switch (s) {
	case STATUS_ACTIVE: return "active";
	case STATUS_EXPIRED: return "expired";
	case STATUS_IN_CUSTODY: return "in_custody";
	case STATUS_DECEASED: return "deceased";
	}
	return "unknown";
}

static int digits(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

bool date_parse(const char *s, struct date *out)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d, dim;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	/* Year 0 means "absent" in struct date, so it cannot be a date. */
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return false;
	dim = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		dim = 29;
	if (d > dim)
		return false;
	if (out != NULL) {
		out->year = (uint16_t)y;
		out->month = (uint8_t)m;
		out->day = (uint8_t)d;
	}
	return true;
}

void date_format(const struct date *d, char out[11])
{
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)(d->year % 10000), (unsigned)(d->month % 100),
		 (unsigned)(d->day % 100));
}

size_t offender_primary(const struct offender *o)
{
	size_t i;

	for (i = 0; i < o->n_names; i++) {
		if (o->names[i].kind == NAME_PRIMARY)
			return i;
	}
	return 0;
}

void offender_free(struct offender *o)
{
	free(o); /* one block: see offender_block() */
}

/* Frees a record being validated: its arrays are its own, its strings
 * the tree's. */
static void draft_free(struct offender *o)
{
	free(o->names);
	free(o->other_dobs);
	free(o->addresses);
}

static size_t str_size(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

/* Copies s (NULL stays NULL) to *at, moving *at past it. */
static char *str_copy(char **at, const char *s)
{
	size_t n;
	char *d = *at;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	memcpy(d, s, n);
	*at += n;
	return d;
}

/*
 * The validated draft (strings in the tree, arrays of its own) and its
 * canonical JSON, copied into one allocation: the struct, the arrays, then
 * the strings.  A bulk import holds twenty thousand records a chunk, and
 * a dozen small allocations each, freed one by one, kept glibc busy
 * merging free chunks.  A string stops at its first NUL, as strdup's copy
 * did.
 */
static struct offender *offender_block(const struct offender *d, const char *json, size_t json_len,
				       struct dsc_arena *arena)
{
	size_t size = sizeof(*d), i;
	struct offender *o;
	char *at;

	size += d->n_names * sizeof(*d->names) + d->n_addresses * sizeof(*d->addresses) +
		d->n_other_dobs * sizeof(*d->other_dobs);
	for (i = 0; i < d->n_names; i++)
		size += str_size(d->names[i].given) + str_size(d->names[i].middle) +
			str_size(d->names[i].family);
	for (i = 0; i < d->n_addresses; i++)
		size += str_size(d->addresses[i].text) + str_size(d->addresses[i].postcode);
	size += str_size(d->managing_force) + str_size(d->risk_level) + json_len + 1;
	o = arena != NULL ? dsc_arena_alloc(arena, size) : malloc(size);
	if (o == NULL)
		return NULL;
	*o = *d;
	/* Pointer arrays first, dates after: each stays aligned. */
	at = (char *)(o + 1);
	o->names = d->n_names > 0 ? (struct person_name *)(void *)at : NULL;
	at += d->n_names * sizeof(*d->names);
	o->addresses = d->n_addresses > 0 ? (struct address *)(void *)at : NULL;
	at += d->n_addresses * sizeof(*d->addresses);
	o->other_dobs = d->n_other_dobs > 0 ? (struct date *)(void *)at : NULL;
	if (d->n_other_dobs > 0)
		memcpy(o->other_dobs, d->other_dobs, d->n_other_dobs * sizeof(*d->other_dobs));
	at += d->n_other_dobs * sizeof(*d->other_dobs);
	for (i = 0; i < d->n_names; i++) {
		o->names[i].kind = d->names[i].kind;
		o->names[i].given = str_copy(&at, d->names[i].given);
		o->names[i].middle = str_copy(&at, d->names[i].middle);
		o->names[i].family = str_copy(&at, d->names[i].family);
	}
	for (i = 0; i < d->n_addresses; i++) {
		o->addresses[i] = d->addresses[i];
		o->addresses[i].text = str_copy(&at, d->addresses[i].text);
		o->addresses[i].postcode = str_copy(&at, d->addresses[i].postcode);
	}
	o->managing_force = str_copy(&at, d->managing_force);
	o->risk_level = str_copy(&at, d->risk_level);
	o->json = at;
	memcpy(o->json, json, json_len);
	o->json[json_len] = '\0';
	o->json_len = json_len;
	return o;
}

static const char *const top_keys[] = { "id", "names", "dob", "other_dobs", "sex", "addresses",
					"managing_force", "status", "mappa", "risk_level",
					"registration", "convictions", "orders", "updated", NULL };
static const char *const name_keys[] = { "given", "middle", "family", "kind", NULL };
static const char *const address_keys[] = { "text", "postcode", "from", "to", NULL };
static const char *const mappa_keys[] = { "category", "level", NULL };
static const char *const registration_keys[] = { "start", "end", NULL };
static const char *const conviction_keys[] = { "date", "offence", "victim_age_band", NULL };
static const char *const order_keys[] = { "type", "start", "end", "prohibitions", NULL };

static const char *const status_words[] = { "active", "expired", "in_custody", "deceased", NULL };
static const char *const kind_words[] = { "primary", "alias", NULL };
static const char *const risk_words[] = { "low", "medium", "high", "very_high", NULL };

/* A name's kind: "primary" (as word_is() reads it) or any other word for
 * a name the person is or was known by ("alias", "birth", "married",
 * "nickname"...), which the matcher weighs as an alias and the record
 * keeps as written; *kind -1 when absent or null. */
static int get_kind(const struct jv *nm, const char *path, int *kind, struct dsc_error *err)
{
	char *word = NULL;
	int rc = get_string(nm, path, "kind", false, SHORT_MAX, &word, err);
	const struct jv *v = jv_get(nm, "kind");

	*kind = -1;
	if (rc != DSC_OK || word == NULL)
		return rc;
	if (is_blank(word) || memchr(word, '\0', v->len) != NULL)
		return field_err(err, path, "kind",
				 "must be \"primary\", \"alias\" or another word for a name");
	*kind = word_is(word, v->len, "primary") ? NAME_PRIMARY : NAME_ALIAS;
	return DSC_OK;
}

/* Sets a name's kind (absent or null), in the tree and in the jansson
 * object it came from if any (offender_from_json's caller sees it too). */
static int set_kind(struct jv_tree *t, struct jv *nm, const char *word)
{
	struct jv *k = jv_get(nm, "kind");

	t->verbatim = false; /* the canonical form now differs from the text */
	if (nm->src != NULL && json_object_set_new(nm->src, "kind", json_string(word)) != 0)
		return -1;
	if (k == NULL) {
		if ((k = jv_node(t, JV_STRING)) == NULL)
			return -1;
		k->key = "kind";
		jv_append(nm, k);
	}
	/* A null kind keeps its place, as it does in jansson's object. */
	k->type = JV_STRING;
	k->s = word;
	k->len = strlen(word);
	k->src = NULL;
	return 0;
}

static int parse_names(struct jv_tree *t, struct jv *root, struct offender *o,
		       struct dsc_error *err)
{
	struct jv *arr = jv_get(root, "names"), *nm, *first_unmarked = NULL;
	size_t i, n, primaries = 0, first_unmarked_i = 0;
	int rc;

	if (arr == NULL || jv_is_null(arr))
		return field_err(err, "", "names", "required");
	if (!jv_is_array(arr))
		return field_err(err, "", "names", "must be an array");
	n = arr->len;
	if (n == 0)
		return field_err(err, "", "names", "required (at least one name)");
	if (n > NAMES_MAX)
		return field_err(err, "", "names", "too many entries (at most 50)");
	o->names = calloc(n, sizeof(*o->names));
	if (o->names == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	for (i = 0, nm = arr->child; i < n; i++, nm = nm->next) {
		struct person_name *pn = &o->names[i];
		char path[64];
		int kind;

		path_index(path, sizeof(path), "names", i);
		if (!jv_is_object(nm))
			return dsc_error_field(err, DSC_EINVAL, path, "must be an object");
		o->n_names = i + 1;
		if ((rc = check_keys(nm, path, name_keys, err)) != DSC_OK ||
		    (rc = get_string(nm, path, "family", true, NAME_PART_MAX, &pn->family, err)) != DSC_OK ||
		    (rc = get_string(nm, path, "given", false, NAME_PART_MAX, &pn->given, err)) != DSC_OK ||
		    (rc = get_string(nm, path, "middle", false, NAME_PART_MAX, &pn->middle, err)) != DSC_OK ||
		    (rc = get_kind(nm, path, &kind, err)) != DSC_OK)
			return rc;
		if (kind < 0) {
			/* An alias, unless no name says it is the primary one:
			 * then the first name without a kind is (a register that
			 * lists a person's names without kinds lists the main one
			 * first; see below).  Written back so the stored record
			 * says what was decided. */
			kind = NAME_ALIAS;
			if (first_unmarked == NULL) {
				first_unmarked = nm;
				first_unmarked_i = i;
			}
			if (set_kind(t, nm, kind_words[kind]) != 0)
				return dsc_error_set(err, DSC_ENOMEM, "out of memory");
		}
		pn->kind = (enum name_kind)kind;
		if (pn->kind == NAME_PRIMARY)
			primaries++;
	}
	if (primaries == 0 && first_unmarked != NULL) {
		o->names[first_unmarked_i].kind = NAME_PRIMARY;
		primaries = 1;
		if (set_kind(t, first_unmarked, kind_words[NAME_PRIMARY]) != 0)
			return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	}
	if (primaries != 1)
		return dsc_error_field(err, DSC_EINVAL, "names",
				       "exactly one name must have kind \"primary\" (found %zu)",
				       primaries);
	return DSC_OK;
}

static int parse_other_dobs(struct jv *root, struct offender *o, struct dsc_error *err)
{
	struct jv *arr, *v;
	size_t i, n;
	int rc;

	if ((rc = get_array(root, "", "other_dobs", 20, &arr, err)) != DSC_OK || arr == NULL)
		return rc;
	n = arr->len;
	if (n == 0)
		return DSC_OK;
	o->other_dobs = calloc(n, sizeof(*o->other_dobs));
	if (o->other_dobs == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	for (i = 0, v = arr->child; i < n; i++, v = v->next) {
		char path[64];

		if (!jv_is_string(v) || !date_parse(v->s, &o->other_dobs[i])) {
			path_index(path, sizeof(path), "other_dobs", i);
			return dsc_error_field(err, DSC_EINVAL, path, "not a date (YYYY-MM-DD)");
		}
		o->n_other_dobs = i + 1;
	}
	return DSC_OK;
}

static int parse_addresses(struct jv *root, struct offender *o, struct dsc_error *err)
{
	struct jv *arr, *a;
	size_t i, n;
	int rc;

	if ((rc = get_array(root, "", "addresses", LIST_MAX, &arr, err)) != DSC_OK || arr == NULL)
		return rc;
	n = arr->len;
	if (n == 0)
		return DSC_OK;
	o->addresses = calloc(n, sizeof(*o->addresses));
	if (o->addresses == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	for (i = 0, a = arr->child; i < n; i++, a = a->next) {
		struct address *ad = &o->addresses[i];
		char path[64];

		path_index(path, sizeof(path), "addresses", i);
		if (!jv_is_object(a))
			return dsc_error_field(err, DSC_EINVAL, path, "must be an object");
		o->n_addresses = i + 1;
		if ((rc = check_keys(a, path, address_keys, err)) != DSC_OK ||
		    (rc = get_string(a, path, "text", false, TEXT_MAX, &ad->text, err)) != DSC_OK ||
		    (rc = get_string(a, path, "postcode", false, 16, &ad->postcode, err)) != DSC_OK ||
		    (rc = get_date(a, path, "from", false, &ad->from, err)) != DSC_OK ||
		    (rc = get_date(a, path, "to", false, &ad->to, err)) != DSC_OK)
			return rc;
	}
	return DSC_OK;
}

/* Parts the struct does not model, validated so the stored JSON is sound. */
static int check_history(struct jv *root, struct dsc_error *err)
{
	struct jv *obj, *arr, *c, *od, *p;
	size_t i;
	int rc;

	if ((rc = get_object(root, "", "registration", &obj, err)) != DSC_OK)
		return rc;
	if (obj != NULL &&
	    ((rc = check_keys(obj, "registration", registration_keys, err)) != DSC_OK ||
	     (rc = get_date(obj, "registration", "start", false, NULL, err)) != DSC_OK ||
	     (rc = get_date(obj, "registration", "end", false, NULL, err)) != DSC_OK))
		return rc;

	if ((rc = get_array(root, "", "convictions", LIST_MAX, &arr, err)) != DSC_OK)
		return rc;
	for (i = 0, c = arr != NULL ? arr->child : NULL; c != NULL; i++, c = c->next) {
		char path[64];

		path_index(path, sizeof(path), "convictions", i);
		if (!jv_is_object(c))
			return dsc_error_field(err, DSC_EINVAL, path, "must be an object");
		if ((rc = check_keys(c, path, conviction_keys, err)) != DSC_OK ||
		    (rc = get_date(c, path, "date", false, NULL, err)) != DSC_OK ||
		    (rc = get_string(c, path, "offence", false, TEXT_MAX, NULL, err)) != DSC_OK ||
		    (rc = get_string(c, path, "victim_age_band", false, SHORT_MAX, NULL, err)) != DSC_OK)
			return rc;
	}

	if ((rc = get_array(root, "", "orders", LIST_MAX, &arr, err)) != DSC_OK)
		return rc;
	for (i = 0, od = arr != NULL ? arr->child : NULL; od != NULL; i++, od = od->next) {
		struct jv *pro;
		char path[64], ppath[128];
		size_t j;

		path_index(path, sizeof(path), "orders", i);
		if (!jv_is_object(od))
			return dsc_error_field(err, DSC_EINVAL, path, "must be an object");
		if ((rc = check_keys(od, path, order_keys, err)) != DSC_OK ||
		    (rc = get_string(od, path, "type", false, SHORT_MAX, NULL, err)) != DSC_OK ||
		    (rc = get_date(od, path, "start", false, NULL, err)) != DSC_OK ||
		    (rc = get_date(od, path, "end", false, NULL, err)) != DSC_OK ||
		    (rc = get_array(od, path, "prohibitions", LIST_MAX, &pro, err)) != DSC_OK)
			return rc;
		for (j = 0, p = pro != NULL ? pro->child : NULL; p != NULL; j++, p = p->next) {

			if (!jv_is_string(p) || p->len > TEXT_MAX) {
				snprintf(ppath, sizeof(ppath), "%s.prohibitions[%zu]", path, j);
				return dsc_error_field(err, DSC_EINVAL, ppath,
						       "must be a string of at most %d bytes", TEXT_MAX);
			}
		}
	}
	return DSC_OK;
}

static int get_sex(const struct jv *root, char *out, struct dsc_error *err)
{
	struct jv *v = jv_get(root, "sex");

	*out = 0;
	if (v == NULL || jv_is_null(v))
		return DSC_OK;
	if (!jv_is_string(v) || !sex_read(v->s, v->len, out))
		return field_err(err, "", "sex",
				 "must be one of M, F, X (in either case, or male, female), U or "
				 "unknown, \"\" or null");
	return DSC_OK;
}

static int check_updated(struct jv *root, struct dsc_error *err)
{
	struct jv *v = jv_get(root, "updated");
	const char *s;
	char day[11];

	if (v == NULL || jv_is_null(v))
		return DSC_OK;
	if (!jv_is_string(v))
		return field_err(err, "", "updated", "not a timestamp (YYYY-MM-DDTHH:MM:SSZ)");
	s = v->s;
	/* A day alone, or a time after a space as well as after T (what
	 * Python's str() of a datetime writes). */
	if (v->len == 10 && date_parse(s, NULL))
		return DSC_OK;
	if (v->len < 19 || v->len > 40 || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':' || digits(s + 11, 2) < 0 || digits(s + 11, 2) > 23 ||
	    digits(s + 14, 2) < 0 || digits(s + 14, 2) > 59 || digits(s + 17, 2) < 0 ||
	    digits(s + 17, 2) > 60)
		return field_err(err, "", "updated", "not a timestamp (YYYY-MM-DDTHH:MM:SSZ)");
	memcpy(day, s, 10);
	day[10] = '\0';
	if (!date_parse(day, NULL))
		return field_err(err, "", "updated", "not a timestamp (YYYY-MM-DDTHH:MM:SSZ)");
	return DSC_OK;
}

/* ---- canonical compact JSON ----
 * The same bytes as json_dumps(JSON_COMPACT) (tests compare the two), written
 * directly into one buffer: jansson's dump goes through a callback per
 * token and was a third of the cost of a bulk import. */

struct outbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static bool out_grow(struct outbuf *b, size_t n)
{
	size_t cap = b->cap * 2 + n;
	char *p;

	if (b->failed)
		return false;
	p = realloc(b->p, cap);
	if (p == NULL) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

/* Called per token: the common case is one compare and a copy. */
static inline void out_bytes(struct outbuf *b, const char *s, size_t n)
{
	if (__builtin_expect(n > b->cap - b->len, 0) && !out_grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void json_quote(const char *s, size_t n, void (*put)(void *arg, const char *p, size_t len), void *arg)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, run = 0;

	put(arg, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(arg, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		put(arg, esc, elen);
	}
	put(arg, s + run, n - run);
	put(arg, "\"", 1);
}

static void out_put(void *arg, const char *p, size_t n)
{
	out_bytes(arg, p, n);
}

static void out_string(struct outbuf *b, const char *s, size_t n)
{
	json_quote(s, n, out_put, b);
}

static void out_integer(struct outbuf *b, json_int_t v)
{
	char num[24], *d = num + sizeof(num);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		*--d = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--d = '-';
	out_bytes(b, d, (size_t)(num + sizeof(num) - d));
}

/* A string the reader took: nothing in it needs an escape. */
static inline void out_plain(struct outbuf *b, const char *s, size_t n)
{
	if (__builtin_expect(n + 2 > b->cap - b->len, 0) && !out_grow(b, n + 2))
		return;
	b->p[b->len] = '"';
	memcpy(b->p + b->len + 1, s, n);
	b->p[b->len + 1 + n] = '"';
	b->len += n + 2;
}

static void out_value(struct outbuf *b, const struct jv *v, int depth, bool plain)
{
	const struct jv *c;

	if (depth > 32) { /* validated records are 4 deep; jansson caps input depth too */
		b->failed = true;
		return;
	}
	switch (v->type) {
	case JV_OBJECT:
		out_bytes(b, "{", 1);
		for (c = v->child; c != NULL; c = c->next) {
			if (c != v->child)
				out_bytes(b, ",", 1);
			if (plain)
				out_plain(b, c->key, strlen(c->key));
			else
				out_string(b, c->key, strlen(c->key));
			out_bytes(b, ":", 1);
			out_value(b, c, depth + 1, plain);
		}
		out_bytes(b, "}", 1);
		break;
	case JV_ARRAY:
		out_bytes(b, "[", 1);
		for (c = v->child; c != NULL; c = c->next) {
			if (c != v->child)
				out_bytes(b, ",", 1);
			out_value(b, c, depth + 1, plain);
		}
		out_bytes(b, "]", 1);
		break;
	case JV_STRING:
		if (plain)
			out_plain(b, v->s, v->len);
		else
			out_string(b, v->s, v->len);
		break;
	case JV_INTEGER:
		out_integer(b, v->i);
		break;
	case JV_TRUE:
		out_bytes(b, "true", 4);
		break;
	case JV_FALSE:
		out_bytes(b, "false", 5);
		break;
	case JV_NULL:
		out_bytes(b, "null", 4);
		break;
	case JV_REAL: {
		/* Never in a validated record (no field is a real number), and
		 * only from jansson (the reader leaves reals to it). */
		char *d = v->src != NULL ? json_dumps(v->src, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

		if (d == NULL) {
			b->failed = true;
			return;
		}
		out_bytes(b, d, strlen(d));
		free(d);
		break;
	}
	}
}

/* The canonical form, NUL-terminated; size_hint is the input's length. */
static char *canonical_json(const struct jv *root, bool plain, size_t size_hint, size_t *len)
{
	struct outbuf b = { NULL, 0, size_hint + 256, false };

	b.p = malloc(b.cap);
	if (b.p == NULL)
		return NULL;
	out_value(&b, root, 0, plain);
	out_bytes(&b, "", 1);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	*len = b.len - 1;
	return b.p;
}

static int validate(struct jv_tree *t, struct jv *root, struct offender *o,
		    struct dsc_error *err)
{
	struct jv *mappa, *idv;
	char *force = NULL;
	int rc, idx;

	if ((rc = check_keys(root, "", top_keys, err)) != DSC_OK)
		return rc;

	idv = jv_get(root, "id");
	if (idv == NULL || jv_is_null(idv))
		return field_err(err, "", "id", "required");
	if (!jv_is_string(idv) || !offender_id_valid(idv->s))
		return field_err(err, "", "id", "must be 1-64 characters of A-Z a-z 0-9 _ -");
	memcpy(o->id, idv->s, strlen(idv->s) + 1); /* offender_id_valid: at most 64 */

	if ((rc = parse_names(t, root, o, err)) != DSC_OK ||
	    (rc = get_date(root, "", "dob", false, &o->dob, err)) != DSC_OK ||
	    (rc = parse_other_dobs(root, o, err)) != DSC_OK)
		return rc;

	if ((rc = get_sex(root, &o->sex, err)) != DSC_OK)
		return rc;

	if ((rc = parse_addresses(root, o, err)) != DSC_OK)
		return rc;

	if ((rc = get_string(root, "", "managing_force", true, FORCE_MAX, &force, err)) != DSC_OK)
		return rc;
	o->managing_force = force;
	if (!force_valid(force))
		return field_err(err, "", "managing_force",
				 "must be a force id of 1-64 characters of a-z 0-9 -");

	if ((rc = get_enum(root, "", "status", true, status_words,
			   "active, expired, in_custody, deceased", &idx, err)) != DSC_OK)
		return rc;
	o->status = (enum offender_status)idx;

	if ((rc = get_object(root, "", "mappa", &mappa, err)) != DSC_OK)
		return rc;
	if (mappa != NULL &&
	    ((rc = check_keys(mappa, "mappa", mappa_keys, err)) != DSC_OK ||
	     (rc = get_small_int(mappa, "mappa", "category", 1, 3, &o->mappa_category, err)) != DSC_OK ||
	     (rc = get_small_int(mappa, "mappa", "level", 1, 3, &o->mappa_level, err)) != DSC_OK))
		return rc;

	if ((rc = get_enum(root, "", "risk_level", false, risk_words, "low, medium, high, very_high",
			   &idx, err)) != DSC_OK)
		return rc;
	if (idx >= 0)
		o->risk_level = (char *)risk_words[idx];

	if ((rc = check_history(root, err)) != DSC_OK || (rc = check_updated(root, err)) != DSC_OK)
		return rc;
	return DSC_OK;
}

/*
 * text is what the tree was read from when t->verbatim: then the text is
 * the canonical form already, byte for byte (the reader took it compact,
 * every string without an escape, every integer in its shortest form), and
 * is copied instead of written out again from the tree.
 */
static int from_tree(struct jv_tree *t, struct jv *root, const char *text, size_t size_hint,
		     struct dsc_arena *arena, struct offender **out, struct dsc_error *err)
{
	struct offender draft;
	char *json;
	size_t json_len;
	int rc;

	if (!jv_is_object(root))
		return dsc_error_set(err, DSC_EJSON, "a record must be a JSON object");
	memset(&draft, 0, sizeof(draft));
	rc = validate(t, root, &draft, err);
	if (rc == DSC_OK && t->verbatim && text != NULL) {
		if ((*out = offender_block(&draft, text, size_hint, arena)) == NULL)
			rc = dsc_error_set(err, DSC_ENOMEM, "out of memory writing the record's JSON");
	} else if (rc == DSC_OK) {
		json = canonical_json(root, t->plain, size_hint, &json_len);
		if (json == NULL || (*out = offender_block(&draft, json, json_len, arena)) == NULL)
			rc = dsc_error_set(err, DSC_ENOMEM, "out of memory writing the record's JSON");
		free(json);
	}
	draft_free(&draft);
	return rc;
}

static int from_json(json_t *obj, size_t size_hint, struct dsc_arena *arena,
		     struct offender **out, struct dsc_error *err)
{
	struct jv_tree t;
	struct jv *root;
	int rc;

	*out = NULL;
	dsc_error_clear(err);
	if (!json_is_object(obj))
		return dsc_error_set(err, DSC_EJSON, "a record must be a JSON object");
	if ((root = jv_tree_from_jansson(&t, obj)) == NULL) {
		jv_tree_free(&t);
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	}
	rc = from_tree(&t, root, NULL, size_hint, arena, out, err);
	jv_tree_free(&t);
	return rc;
}

int offender_from_json(json_t *obj, struct offender **out, struct dsc_error *err)
{
	return from_json(obj, 1024, NULL, out, err);
}

int offender_parse_in(struct dsc_arena *arena, const char *text, size_t len,
		      struct offender **out, struct dsc_error *err)
{
	json_error_t jerr;
	json_t *root;
	struct jv_tree t;
	struct jv *tree;
	int rc;

	*out = NULL;
	dsc_error_clear(err);
	if (len > RECORD_MAX)
		return dsc_error_set(err, DSC_ETOOBIG, "record too large (%zu bytes, at most %d)", len,
				     RECORD_MAX);
	/* The usual record: read here, without jansson. */
	if ((tree = jv_tree_read(&t, text, len)) != NULL) {
		rc = from_tree(&t, tree, text, len, arena, out, err);
		jv_tree_free(&t);
		return rc;
	}
	/* Anything else, jansson reads and words the errors as before.
	 * Duplicate keys would let one value silently win over the other. */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return dsc_error_set(err, DSC_EJSON, "not JSON: %s (column %d)", jerr.text,
				     jerr.column);
	rc = from_json(root, len, arena, out, err);
	json_decref(root);
	return rc;
}

int offender_parse(const char *text, size_t len, struct offender **out, struct dsc_error *err)
{
	return offender_parse_in(NULL, text, len, out, err);
}
