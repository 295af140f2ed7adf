/*
 * offender.c - the offender record of the import format: validation of one
 * JSON object into a struct offender, and its canonical compact JSON.
 *
 * What it decides (contract.md, "Offender record", made precise):
 *   - id: 1-64 characters of A-Z a-z 0-9 _ -.
 *   - names: 1-50 objects {given, middle, family, kind}; family a non-blank
 *     string, given/middle strings or null; each part at most 200 bytes.
 *     kind is "primary" or "alias".  A missing kind means "primary" when the
 *     record has a single name and "alias" otherwise; the canonical JSON
 *     then carries the kind explicitly.  Exactly one name must be primary.
 *   - dob, other_dobs[], addresses[].from/to, registration.start/end,
 *     convictions[].date, orders[].start/end: real dates YYYY-MM-DD or null.
 *   - sex: M, F or X.  status: active, expired, in_custody, deceased.
 *     risk_level: low, medium, high, very_high.  mappa.category/level: 1-3.
 *   - managing_force: 1-64 characters of a-z 0-9 - (a force id such as
 *     "west-mercia", the same spelling as acl.conf's force).
 *   - updated: a timestamp starting YYYY-MM-DDTHH:MM:SS.
 *   - Unknown keys are refused at every level ("unknown field"), so that a
 *     typo never silently drops data; duplicate keys are refused too.
 *
 * It must never: change a name (names are kept byte for byte, any script;
 * normalisation is the matcher's), accept a record it cannot give back as
 * the same JSON, or abort on any input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Refuses keys that are not in the allowed list. */
static int check_keys(json_t *obj, const char *prefix, const char *const *allowed,
		      struct dsc_error *err)
{
	const char *key;
	json_t *val;

	json_object_foreach (obj, key, val) {
		size_t i;
		bool ok = false;

		(void)val;
		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(key, allowed[i]) == 0) {
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
 * absent, null and blank are refused.  Copies into *out when out != NULL.
 */
static int get_string(json_t *obj, const char *prefix, const char *key, bool required,
		      size_t max, char **out, struct dsc_error *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s;
	size_t len;
	char msg[64];

	if (out != NULL)
		*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return field_err(err, prefix, key, "required");
		return DSC_OK;
	}
	if (!json_is_string(v))
		return field_err(err, prefix, key, "must be a string");
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > max) {
		snprintf(msg, sizeof(msg), "too long (at most %zu bytes)", max);
		return field_err(err, prefix, key, msg);
	}
	if (required && (len == 0 || is_blank(s)))
		return field_err(err, prefix, key, "required");
	if (out != NULL) {
		*out = strdup(s);
		if (*out == NULL)
			return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	}
	return DSC_OK;
}

/* An optional date: absent or null leaves *out zero. */
static int get_date(json_t *obj, const char *prefix, const char *key, bool required,
		    struct date *out, struct dsc_error *err)
{
	json_t *v = json_object_get(obj, key);
	struct date d = { 0, 0, 0 };

	if (v == NULL || json_is_null(v)) {
		if (required)
			return field_err(err, prefix, key, "required");
		if (out != NULL)
			*out = d;
		return DSC_OK;
	}
	if (!json_is_string(v) || json_string_length(v) != 10 || !date_parse(json_string_value(v), &d))
		return field_err(err, prefix, key, "not a date (YYYY-MM-DD)");
	if (out != NULL)
		*out = d;
	return DSC_OK;
}

/* An optional array: *arr NULL if absent or null; refuses more than max. */
static int get_array(json_t *obj, const char *prefix, const char *key, size_t max, json_t **arr,
		     struct dsc_error *err)
{
	json_t *v = json_object_get(obj, key);
	char msg[64];

	*arr = NULL;
	if (v == NULL || json_is_null(v))
		return DSC_OK;
	if (!json_is_array(v))
		return field_err(err, prefix, key, "must be an array");
	if (json_array_size(v) > max) {
		snprintf(msg, sizeof(msg), "too many entries (at most %zu)", max);
		return field_err(err, prefix, key, msg);
	}
	*arr = v;
	return DSC_OK;
}

static int get_object(json_t *obj, const char *prefix, const char *key, json_t **out,
		      struct dsc_error *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return DSC_OK;
	if (!json_is_object(v))
		return field_err(err, prefix, key, "must be an object");
	*out = v;
	return DSC_OK;
}

/* One of a fixed set of words; *index is its position, -1 if absent. */
static int get_enum(json_t *obj, const char *prefix, const char *key, bool required,
		    const char *const *words, const char *wordlist, int *index,
		    struct dsc_error *err)
{
	json_t *v = json_object_get(obj, key);
	char msg[160];
	int i;

	*index = -1;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return field_err(err, prefix, key, "required");
		return DSC_OK;
	}
	if (json_is_string(v)) {
		for (i = 0; words[i] != NULL; i++) {
			if (strcmp(json_string_value(v), words[i]) == 0) {
				*index = i;
				return DSC_OK;
			}
		}
	}
	snprintf(msg, sizeof(msg), "must be one of %s", wordlist);
	return field_err(err, prefix, key, msg);
}

static int get_small_int(json_t *obj, const char *prefix, const char *key, int lo, int hi,
			 int *out, struct dsc_error *err)
{
	json_t *v = json_object_get(obj, key);
	char msg[64];

	*out = 0;
	if (v == NULL || json_is_null(v))
		return DSC_OK;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(msg, sizeof(msg), "must be an integer %d-%d", lo, hi);
		return field_err(err, prefix, key, msg);
	}
	*out = (int)json_integer_value(v);
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
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < o->n_names; i++) {
		free(o->names[i].given);
		free(o->names[i].middle);
		free(o->names[i].family);
	}
	free(o->names);
	free(o->other_dobs);
	for (i = 0; i < o->n_addresses; i++) {
		free(o->addresses[i].text);
		free(o->addresses[i].postcode);
	}
	free(o->addresses);
	free(o->managing_force);
	free(o->risk_level);
	free(o->json);
	free(o);
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
static const char *const sex_words[] = { "M", "F", "X", NULL };
static const char *const kind_words[] = { "primary", "alias", NULL };
static const char *const risk_words[] = { "low", "medium", "high", "very_high", NULL };

static int parse_names(json_t *root, struct offender *o, struct dsc_error *err)
{
	json_t *arr = json_object_get(root, "names");
	size_t i, n, primaries = 0;
	int rc;

	if (arr == NULL || json_is_null(arr))
		return field_err(err, "", "names", "required");
	if (!json_is_array(arr))
		return field_err(err, "", "names", "must be an array");
	n = json_array_size(arr);
	if (n == 0)
		return field_err(err, "", "names", "required (at least one name)");
	if (n > NAMES_MAX)
		return field_err(err, "", "names", "too many entries (at most 50)");
	o->names = calloc(n, sizeof(*o->names));
	if (o->names == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		json_t *nm = json_array_get(arr, i);
		struct person_name *pn = &o->names[i];
		char path[64];
		int kind;

		path_index(path, sizeof(path), "names", i);
		if (!json_is_object(nm))
			return dsc_error_field(err, DSC_EINVAL, path, "must be an object");
		o->n_names = i + 1; /* so offender_free sees what was filled */
		if ((rc = check_keys(nm, path, name_keys, err)) != DSC_OK ||
		    (rc = get_string(nm, path, "family", true, NAME_PART_MAX, &pn->family, err)) != DSC_OK ||
		    (rc = get_string(nm, path, "given", false, NAME_PART_MAX, &pn->given, err)) != DSC_OK ||
		    (rc = get_string(nm, path, "middle", false, NAME_PART_MAX, &pn->middle, err)) != DSC_OK ||
		    (rc = get_enum(nm, path, "kind", false, kind_words, "primary, alias", &kind, err)) != DSC_OK)
			return rc;
		if (kind < 0) {
			kind = n == 1 ? NAME_PRIMARY : NAME_ALIAS;
			/* Written back so the stored record says what was decided. */
			if (json_object_set_new(nm, "kind", json_string(kind_words[kind])) != 0)
				return dsc_error_set(err, DSC_ENOMEM, "out of memory");
		}
		pn->kind = (enum name_kind)kind;
		if (pn->kind == NAME_PRIMARY)
			primaries++;
	}
	if (primaries != 1)
		return dsc_error_field(err, DSC_EINVAL, "names",
				       "exactly one name must have kind \"primary\" (found %zu)",
				       primaries);
	return DSC_OK;
}

static int parse_other_dobs(json_t *root, struct offender *o, struct dsc_error *err)
{
	json_t *arr;
	size_t i, n;
	int rc;

	if ((rc = get_array(root, "", "other_dobs", 20, &arr, err)) != DSC_OK || arr == NULL)
		return rc;
	n = json_array_size(arr);
	if (n == 0)
		return DSC_OK;
	o->other_dobs = calloc(n, sizeof(*o->other_dobs));
	if (o->other_dobs == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		json_t *v = json_array_get(arr, i);
		char path[64];

		if (!json_is_string(v) || !date_parse(json_string_value(v), &o->other_dobs[i])) {
			path_index(path, sizeof(path), "other_dobs", i);
			return dsc_error_field(err, DSC_EINVAL, path, "not a date (YYYY-MM-DD)");
		}
		o->n_other_dobs = i + 1;
	}
	return DSC_OK;
}

static int parse_addresses(json_t *root, struct offender *o, struct dsc_error *err)
{
	json_t *arr;
	size_t i, n;
	int rc;

	if ((rc = get_array(root, "", "addresses", LIST_MAX, &arr, err)) != DSC_OK || arr == NULL)
		return rc;
	n = json_array_size(arr);
	if (n == 0)
		return DSC_OK;
	o->addresses = calloc(n, sizeof(*o->addresses));
	if (o->addresses == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		json_t *a = json_array_get(arr, i);
		struct address *ad = &o->addresses[i];
		char path[64];

		path_index(path, sizeof(path), "addresses", i);
		if (!json_is_object(a))
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
static int check_history(json_t *root, struct dsc_error *err)
{
	json_t *obj, *arr;
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
	for (i = 0; arr != NULL && i < json_array_size(arr); i++) {
		json_t *c = json_array_get(arr, i);
		char path[64];

		path_index(path, sizeof(path), "convictions", i);
		if (!json_is_object(c))
			return dsc_error_field(err, DSC_EINVAL, path, "must be an object");
		if ((rc = check_keys(c, path, conviction_keys, err)) != DSC_OK ||
		    (rc = get_date(c, path, "date", false, NULL, err)) != DSC_OK ||
		    (rc = get_string(c, path, "offence", false, TEXT_MAX, NULL, err)) != DSC_OK ||
		    (rc = get_string(c, path, "victim_age_band", false, SHORT_MAX, NULL, err)) != DSC_OK)
			return rc;
	}

	if ((rc = get_array(root, "", "orders", LIST_MAX, &arr, err)) != DSC_OK)
		return rc;
	for (i = 0; arr != NULL && i < json_array_size(arr); i++) {
		json_t *od = json_array_get(arr, i), *pro;
		char path[64], ppath[128];
		size_t j;

		path_index(path, sizeof(path), "orders", i);
		if (!json_is_object(od))
			return dsc_error_field(err, DSC_EINVAL, path, "must be an object");
		if ((rc = check_keys(od, path, order_keys, err)) != DSC_OK ||
		    (rc = get_string(od, path, "type", true, SHORT_MAX, NULL, err)) != DSC_OK ||
		    (rc = get_date(od, path, "start", false, NULL, err)) != DSC_OK ||
		    (rc = get_date(od, path, "end", false, NULL, err)) != DSC_OK ||
		    (rc = get_array(od, path, "prohibitions", LIST_MAX, &pro, err)) != DSC_OK)
			return rc;
		for (j = 0; pro != NULL && j < json_array_size(pro); j++) {
			json_t *p = json_array_get(pro, j);

			if (!json_is_string(p) || json_string_length(p) > TEXT_MAX) {
				snprintf(ppath, sizeof(ppath), "%s.prohibitions[%zu]", path, j);
				return dsc_error_field(err, DSC_EINVAL, ppath,
						       "must be a string of at most %d bytes", TEXT_MAX);
			}
		}
	}
	return DSC_OK;
}

static int check_updated(json_t *root, struct dsc_error *err)
{
	json_t *v = json_object_get(root, "updated");
	const char *s;
	char day[11];

	if (v == NULL || json_is_null(v))
		return DSC_OK;
	if (!json_is_string(v))
		return field_err(err, "", "updated", "not a timestamp (YYYY-MM-DDTHH:MM:SSZ)");
	s = json_string_value(v);
	if (json_string_length(v) < 19 || json_string_length(v) > 40 || s[10] != 'T' ||
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

static void out_string(struct outbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, run = 0;

	out_bytes(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		out_bytes(b, s + run, i - run);
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
		out_bytes(b, esc, elen);
	}
	out_bytes(b, s + run, n - run);
	out_bytes(b, "\"", 1);
}

static void out_value(struct outbuf *b, json_t *v, int depth)
{
	char num[32];
	int n;

	if (depth > 32) { /* validated records are 4 deep; jansson caps input depth too */
		b->failed = true;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *val;
		bool first = true;

		out_bytes(b, "{", 1);
		json_object_foreach (v, key, val) {
			if (!first)
				out_bytes(b, ",", 1);
			first = false;
			out_string(b, key, strlen(key));
			out_bytes(b, ":", 1);
			out_value(b, val, depth + 1);
		}
		out_bytes(b, "}", 1);
		break;
	}
	case JSON_ARRAY: {
		size_t i;

		out_bytes(b, "[", 1);
		for (i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				out_bytes(b, ",", 1);
			out_value(b, json_array_get(v, i), depth + 1);
		}
		out_bytes(b, "]", 1);
		break;
	}
	case JSON_STRING:
		out_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		out_bytes(b, num, (size_t)n);
		break;
	case JSON_TRUE:
		out_bytes(b, "true", 4);
		break;
	case JSON_FALSE:
		out_bytes(b, "false", 5);
		break;
	case JSON_NULL:
		out_bytes(b, "null", 4);
		break;
	case JSON_REAL: {
		/* Never in a validated record (no field is a real number). */
		char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

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
static char *canonical_json(json_t *root, size_t size_hint, size_t *len)
{
	struct outbuf b = { NULL, 0, size_hint + 256, false };

	b.p = malloc(b.cap);
	if (b.p == NULL)
		return NULL;
	out_value(&b, root, 0);
	out_bytes(&b, "", 1);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	*len = b.len - 1;
	return b.p;
}

static int validate(json_t *root, struct offender *o, struct dsc_error *err)
{
	json_t *mappa, *idv;
	char *force = NULL;
	int rc, idx;

	if ((rc = check_keys(root, "", top_keys, err)) != DSC_OK)
		return rc;

	idv = json_object_get(root, "id");
	if (idv == NULL || json_is_null(idv))
		return field_err(err, "", "id", "required");
	if (!json_is_string(idv) || !offender_id_valid(json_string_value(idv)))
		return field_err(err, "", "id", "must be 1-64 characters of A-Z a-z 0-9 _ -");
	snprintf(o->id, sizeof(o->id), "%s", json_string_value(idv));

	if ((rc = parse_names(root, o, err)) != DSC_OK ||
	    (rc = get_date(root, "", "dob", false, &o->dob, err)) != DSC_OK ||
	    (rc = parse_other_dobs(root, o, err)) != DSC_OK)
		return rc;

	if ((rc = get_enum(root, "", "sex", false, sex_words, "M, F, X", &idx, err)) != DSC_OK)
		return rc;
	o->sex = idx < 0 ? 0 : sex_words[idx][0];

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
	if (idx >= 0 && (o->risk_level = strdup(risk_words[idx])) == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");

	if ((rc = check_history(root, err)) != DSC_OK || (rc = check_updated(root, err)) != DSC_OK)
		return rc;
	return DSC_OK;
}

static int from_json(json_t *obj, size_t size_hint, struct offender **out,
		     struct dsc_error *err)
{
	struct offender *o;
	int rc;

	*out = NULL;
	dsc_error_clear(err);
	if (!json_is_object(obj))
		return dsc_error_set(err, DSC_EJSON, "a record must be a JSON object");
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	rc = validate(obj, o, err);
	if (rc == DSC_OK) {
		o->json = canonical_json(obj, size_hint, &o->json_len);
		if (o->json == NULL)
			rc = dsc_error_set(err, DSC_ENOMEM, "out of memory writing the record's JSON");
	}
	if (rc != DSC_OK) {
		offender_free(o);
		return rc;
	}
	*out = o;
	return DSC_OK;
}

int offender_from_json(json_t *obj, struct offender **out, struct dsc_error *err)
{
	return from_json(obj, 1024, out, err);
}

int offender_parse(const char *text, size_t len, struct offender **out, struct dsc_error *err)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	*out = NULL;
	dsc_error_clear(err);
	if (len > RECORD_MAX)
		return dsc_error_set(err, DSC_ETOOBIG, "record too large (%zu bytes, at most %d)", len,
				     RECORD_MAX);
	/* Duplicate keys would let one value silently win over the other. */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return dsc_error_set(err, DSC_EJSON, "not JSON: %s (column %d)", jerr.text,
				     jerr.column);
	rc = from_json(root, len, out, err);
	json_decref(root);
	return rc;
}
