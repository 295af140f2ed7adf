/*
 * check.c - the bodies of POST /v1/checks and POST /v1/checks/{id}/decision
 * (contract.md), parsed with jansson and validated field by field into
 * struct check_request / struct decision_request.  Every error names the
 * field by its JSON path ("subject.names[0].family") and says what is
 * expected, so a caller can fix the request without reading code.
 *
 * Unknown fields are rejected (invalid_field naming the field), not
 * ignored: a misspelt "subjet" or "dob_" must not silently run a check on
 * less than the case worker typed, and nothing unvalidated reaches the
 * audit log.  Duplicate keys are rejected for the same reason.
 *
 * Must never: touch the store or the matcher, normalise names (the
 * matcher's business), or keep a pointer past check_request_release().
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "disclosure/audit.h"
#include "disclosure/check.h"
#include "disclosure/offender.h" /* json_quote(), utf8_valid() */

#define NAME_PART_MAX 200 /* bytes, after trimming */
#define POSTCODE_MAX 127 /* bytes: struct check_subject's postcode */
#define AGE_MAX 130
#define RECIPIENT_MAX 200  /* characters */
#define RATIONALE_MAX 2000 /* characters */
#define DOB_YEAR_MIN 1880

static const char *const purposes[] = {
    [PURPOSE_CSODS_RIGHT_TO_ASK] = "csods_right_to_ask",
    [PURPOSE_CSODS_RIGHT_TO_BE_TOLD] = "csods_right_to_be_told",
    [PURPOSE_DVDS_RIGHT_TO_ASK] = "dvds_right_to_ask",
    [PURPOSE_DVDS_RIGHT_TO_KNOW] = "dvds_right_to_know",
    [PURPOSE_MAPPA_REVIEW] = "mappa_review",
    [PURPOSE_OTHER] = "other",
};
#define N_PURPOSES (sizeof(purposes) / sizeof(purposes[0]))

static const char *const decisions[] = {
    [DECISION_DISCLOSE] = "disclose",
    [DECISION_NO_DISCLOSURE] = "no_disclosure",
    [DECISION_REFER] = "refer",
};
#define N_DECISIONS (sizeof(decisions) / sizeof(decisions[0]))

const char *purpose_name(enum purpose p)
{
	return (unsigned)p < N_PURPOSES ? purposes[p] : "unknown";
}

const char *decision_name(enum decision_kind d)
{
	return (unsigned)d < N_DECISIONS ? decisions[d] : "unknown";
}

/* Code points of valid UTF-8 (jansson has validated it). */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* True if s holds a C0 control or DEL (tab/newline/CR allowed if
 * free_text, as in a typed justification). */
static bool has_control(const char *s, bool free_text)
{
	const char *start = s;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (free_text && (c == '\t' || c == '\n' || c == '\r'))
			continue;
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	/* And what would make the text show otherwise than it is, to an
	 * officer reading the check, or an auditor its entry, on a terminal. */
	return utf8_has_display_control(start, (size_t)(s - start));
}

/* White space as forms and pasted text hold it: spaces, tabs, line breaks. */
static bool name_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool only_space(const char *s)
{
	for (; *s != '\0'; s++)
		if (!name_space(*s))
			return false;
	return true;
}

/* "" or white space only: what a form sends for a field left empty (the
 * body's reader has refused NULs in strings already). */
static bool blank_string(const json_t *v)
{
	return json_is_string(v) && only_space(json_string_value(v));
}

static bool is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * A date of birth: "YYYY-MM-DD", a real calendar date, or (addition) one
 * known in part, "YYYY-MM" or "YYYY", also written with zeros for the
 * parts not known ("1970-03-00", "1970-00-00").  A part known is stored
 * with the parts after it 0 (struct check_subject).
 */
static bool date_read(const char *s, struct date *out)
{
	static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	size_t len = strlen(s);
	unsigned y, m = 0, d = 0, dim;

	if (!(len == 4 || (len == 7 && s[4] == '-') || (len == 10 && s[4] == '-' && s[7] == '-')) ||
	    !digits(s, 4) || (len >= 7 && !digits(s + 5, 2)) || (len == 10 && !digits(s + 8, 2)))
		return false;
	y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
	if (len >= 7)
		m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
	if (len == 10)
		d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
	if (y == 0 || m > 12 || (m == 0 && d != 0))
		return false;
	if (d != 0) {
		dim = mdays[m - 1] + (m == 2 && is_leap(y));
		if (d > dim)
			return false;
	}
	out->year = (uint16_t)y;
	out->month = (uint8_t)m;
	out->day = (uint8_t)d;
	return true;
}

/* After today; a date known in part, when all of it is. */
static bool date_after_today(const struct date *d)
{
	time_t now = time(NULL);
	struct tm tm;
	unsigned today, that;

	if (gmtime_r(&now, &tm) == NULL)
		return false;
	today = (unsigned)(tm.tm_year + 1900) * 10000 + (unsigned)(tm.tm_mon + 1) * 100 +
	        (unsigned)tm.tm_mday;
	that = (unsigned)d->year * 10000 + (d->month != 0 ? d->month : 1) * 100u +
	       (d->day != 0 ? d->day : 1);
	return that > today;
}

/*
 * Rejects any member of obj not in allowed (NULL-terminated); path is the
 * object's own path ("" for the body).
 */
static int no_unknown(json_t *obj, const char *path, const char *const *allowed,
                      struct dsc_error *err)
{
	const char *key;
	json_t *v;
	char field[128];

	json_object_foreach(obj, key, v)
	{
		size_t i;

		(void)v;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			snprintf(field, sizeof(field), "%s%s%.80s", path, path[0] ? "." : "", key);
			return dsc_error_field(err, DSC_EINVAL, field, "unknown field");
		}
	}
	return DSC_OK;
}

static json_t *body_load(const char *body, size_t len, struct dsc_error *err)
{
	json_error_t jerr;
	json_t *j;

	if (body == NULL) {
		dsc_error_set(err, DSC_EJSON, "body is empty; expected a JSON object");
		return NULL;
	}
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (j == NULL) {
		dsc_error_set(err, DSC_EJSON, "body is not valid JSON: %s (line %d, column %d)",
		              jerr.text, jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		dsc_error_set(err, DSC_EJSON, "body is not a JSON object");
		return NULL;
	}
	return j;
}

/* ASCII white space (spaces, tabs, line breaks) off both ends, in place
 * inside the JSON tree (the string is replaced so the tree keeps owning
 * it).  Returns the value. */
static const char *trimmed(json_t *parent, const char *key, json_t *str)
{
	const char *s = json_string_value(str);
	size_t len = json_string_length(str), start = 0, end = len;

	while (start < end && name_space(s[start]))
		start++;
	while (end > start && name_space(s[end - 1]))
		end--;
	if (start == 0 && end == len)
		return s;
	if (json_object_set_new(parent, key, json_stringn(s + start, end - start)) != 0)
		return NULL;
	return json_string_value(json_object_get(parent, key));
}

/*
 * A name part: family (required) or given/middle (optional; a JSON null,
 * or nothing but white space, is absent).  *out points into the tree.
 */
static int name_part(json_t *name, const char *key, bool required, const char *path, char **out,
                     struct dsc_error *err)
{
	json_t *v = json_object_get(name, key);
	const char *s;
	char field[128];

	*out = NULL;
	snprintf(field, sizeof(field), "%s.%s", path, key);
	if (v == NULL || json_is_null(v)) {
		if (required)
			return dsc_error_field(err, DSC_EINVAL, field, "required");
		return DSC_OK;
	}
	if (!json_is_string(v))
		return dsc_error_field(err, DSC_EINVAL, field, "must be a string%s",
		                       required ? "" : " or null");
	/* Tabs and line breaks are white space: a name copied from a
	 * spreadsheet cell or a form's text box often ends with one. */
	if (memchr(json_string_value(v), '\0', json_string_length(v)) != NULL ||
	    has_control(json_string_value(v), true))
		return dsc_error_field(err, DSC_EINVAL, field, "holds a control character");
	s = trimmed(name, key, v);
	if (s == NULL)
		return dsc_error_field(err, DSC_ENOMEM, field, "out of memory");
	if (s[0] == '\0') {
		if (required)
			return dsc_error_field(err, DSC_EINVAL, field, "must not be empty");
		return DSC_OK;
	}
	if (strlen(s) > NAME_PART_MAX)
		return dsc_error_field(err, DSC_EINVAL, field, "longer than %d bytes",
		                       NAME_PART_MAX);
	*out = (char *)s; /* struct person_name is not const; the tree owns it */
	return DSC_OK;
}

static int subject_parse(json_t *subj, struct check_subject *s, struct dsc_error *err)
{
	static const char *const subject_keys[] = {"names", "dob", "age", "postcode", "sex", NULL};
	/* kind as a record's names carry it: taken, so that a client may send
	 * a record's name objects, and not used (every name of the subject is
	 * searched alike). */
	static const char *const name_keys[] = {"given", "middle", "family", "kind", NULL};
	json_t *names, *v;
	int rc;

	memset(s, 0, sizeof(*s));
	s->age = -1;
	if (subj == NULL || json_is_null(subj))
		return dsc_error_field(err, DSC_EINVAL, "subject", "required");
	if (!json_is_object(subj))
		return dsc_error_field(err, DSC_EINVAL, "subject", "must be an object");
	if ((rc = no_unknown(subj, "subject", subject_keys, err)) != DSC_OK)
		return rc;

	names = json_object_get(subj, "names");
	if (names == NULL || json_is_null(names))
		return dsc_error_field(err, DSC_EINVAL, "subject.names", "required");
	if (!json_is_array(names))
		return dsc_error_field(err, DSC_EINVAL, "subject.names",
		                       "must be an array of 1-%d names", CHECK_MAX_NAMES);
	if (json_array_size(names) < 1 || json_array_size(names) > CHECK_MAX_NAMES)
		return dsc_error_field(err, DSC_EINVAL, "subject.names",
		                       "must hold 1-%d names, not %zu", CHECK_MAX_NAMES,
		                       json_array_size(names));
	for (size_t i = 0; i < json_array_size(names); i++) {
		json_t *n = json_array_get(names, i);
		struct person_name *pn = &s->names[i];
		char path[64];

		snprintf(path, sizeof(path), "subject.names[%zu]", i);
		if (!json_is_object(n))
			return dsc_error_field(err, DSC_EINVAL, path,
			                       "must be an object with family, given, middle");
		if ((rc = no_unknown(n, path, name_keys, err)) != DSC_OK)
			return rc;
		v = json_object_get(n, "kind");
		if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
			char field[80];

			snprintf(field, sizeof(field), "%s.kind", path);
			return dsc_error_field(err, DSC_EINVAL, field, "must be a string or null");
		}
		if ((rc = name_part(n, "family", true, path, &pn->family, err)) != DSC_OK ||
		    (rc = name_part(n, "given", false, path, &pn->given, err)) != DSC_OK ||
		    (rc = name_part(n, "middle", false, path, &pn->middle, err)) != DSC_OK)
			return rc;
		pn->kind = i == 0 ? NAME_PRIMARY : NAME_ALIAS;
		s->n_names = i + 1;
	}

	/* A blank date of birth or age, as forms send a field left empty,
	 * is absent (as a blank postcode or sex is). */
	v = json_object_get(subj, "dob");
	if (v != NULL && !json_is_null(v) && !blank_string(v)) {
		if (!json_is_string(v) || !date_read(json_string_value(v), &s->dob))
			return dsc_error_field(err, DSC_EINVAL, "subject.dob",
			                       "not a date (YYYY-MM-DD, or YYYY-MM or YYYY if known in part)");
		if (s->dob.year < DOB_YEAR_MIN)
			return dsc_error_field(err, DSC_EINVAL, "subject.dob", "before %d",
			                       DOB_YEAR_MIN);
		if (date_after_today(&s->dob))
			return dsc_error_field(err, DSC_EINVAL, "subject.dob", "in the future");
	}

	v = json_object_get(subj, "age");
	if (v != NULL && !json_is_null(v) && !blank_string(v)) {
		/* 34.0 is a whole number too, as JSON writers may put it. */
		double a = json_is_integer(v) ? (double)json_integer_value(v)
		           : json_is_real(v)  ? json_real_value(v)
		                              : -1.0;

		if (a < 0 || a > AGE_MAX || a != (double)(int)a)
			return dsc_error_field(
			    err, DSC_EINVAL, "subject.age",
			    "must be a whole number of years from 0 to %d, \"\" or null", AGE_MAX);
		s->age = (int)a;
	}

	v = json_object_get(subj, "postcode");
	if (v != NULL && !json_is_null(v)) {
		const char *pc = json_string_value(v);
		size_t len = json_string_length(v);

		if (pc == NULL)
			return dsc_error_field(err, DSC_EINVAL, "subject.postcode",
			                       "must be a string or null");
		if (len > POSTCODE_MAX)
			return dsc_error_field(err, DSC_EINVAL, "subject.postcode",
			                       "longer than %d bytes", POSTCODE_MAX);
		/* As forms and address lines write it ("WR1-2AB", "CT6 4PB,
		 * UK"): the matcher reads the postcode out of it
		 * (normalize_query_postcode), and the audit log keeps it as
		 * sent.  Only control characters are refused, but tab and the
		 * line breaks of an address pasted from a form's text box
		 * ("16 Orchard Close, Bedford\nLU7 7QB"). */
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)pc[i];

			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
				return dsc_error_field(err, DSC_EINVAL, "subject.postcode",
				                       "control characters are not allowed");
		}
		if (utf8_has_display_control(pc, len))
			return dsc_error_field(err, DSC_EINVAL, "subject.postcode",
			                       "control characters are not allowed");
		/* An empty or blank postcode is no postcode (forms send ""). */
		if (!only_space(pc))
			memcpy(s->postcode, pc, len + 1);
	}

	v = json_object_get(subj, "sex");
	if (v != NULL && !json_is_null(v)) {
		const char *sx = json_string_value(v);

		/* As forms, spreadsheets and police systems write it: see
		 * sex_read() (U is the code UK police systems use for not known). */
		if (sx == NULL || !sex_read(sx, json_string_length(v), &s->sex))
			return dsc_error_field(err, DSC_EINVAL, "subject.sex",
			                       "must be M, F, X (in either case, or male, female), "
			                       "U or unknown, \"\" or null");
	}
	return DSC_OK;
}

/* A required or optional free-text string of min..max code points. */
static int text_field(json_t *obj, const char *key, const char *field, bool required,
                      size_t max_chars, const char **out, struct dsc_error *err)
{
	json_t *v = json_object_get(obj, key);
	const char *s;

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return dsc_error_field(err, DSC_EINVAL, field, "required");
		return DSC_OK;
	}
	if (!json_is_string(v))
		return dsc_error_field(err, DSC_EINVAL, field, "must be a string");
	s = json_string_value(v);
	if (memchr(s, '\0', json_string_length(v)) != NULL || has_control(s, true))
		return dsc_error_field(err, DSC_EINVAL, field, "holds a control character");
	if (only_space(s)) {
		if (required)
			return dsc_error_field(err, DSC_EINVAL, field, "must not be empty");
		return DSC_OK;
	}
	if (utf8_chars(s) > max_chars)
		return dsc_error_field(err, DSC_EINVAL, field, "longer than %zu characters",
		                       max_chars);
	*out = s;
	return DSC_OK;
}

static bool case_ref_valid(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return n >= 1 && n <= CASE_REF_MAX;
}

int check_request_parse_tree(const char *body, size_t len, struct check_request *out,
                             struct dsc_error *err)
{
	static const char *const top_keys[] = {"case_ref", "purpose", "justification", "subject",
	                                       NULL};
	json_t *j, *v;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	out->subject.age = -1;
	if ((j = body_load(body, len, err)) == NULL)
		return DSC_EJSON;
	if ((rc = no_unknown(j, "", top_keys, err)) != DSC_OK)
		goto fail;

	v = json_object_get(j, "case_ref");
	if (v == NULL || json_is_null(v)) {
		rc = dsc_error_field(err, DSC_EINVAL, "case_ref", "required");
		goto fail;
	}
	if (!json_is_string(v) || !case_ref_valid(json_string_value(v))) {
		rc =
		    dsc_error_field(err, DSC_EINVAL, "case_ref",
		                    "must be 1-%d characters of A-Z a-z 0-9 / _ . -", CASE_REF_MAX);
		goto fail;
	}
	out->case_ref = json_string_value(v);

	v = json_object_get(j, "purpose");
	if (v == NULL || json_is_null(v)) {
		rc = dsc_error_field(err, DSC_EINVAL, "purpose", "required");
		goto fail;
	}
	for (i = 0; i < N_PURPOSES; i++)
		if (json_is_string(v) && strcmp(json_string_value(v), purposes[i]) == 0)
			break;
	if (i == N_PURPOSES) {
		rc = dsc_error_field(err, DSC_EINVAL, "purpose",
		                     "must be one of csods_right_to_ask, csods_right_to_be_told, "
		                     "dvds_right_to_ask, dvds_right_to_know, mappa_review, other");
		goto fail;
	}
	out->purpose = (enum purpose)i;

	if ((rc = text_field(j, "justification", "justification", true, JUSTIFICATION_MAX,
	                     &out->justification, err)) != DSC_OK)
		goto fail;
	if ((rc = subject_parse(json_object_get(j, "subject"), &out->subject, err)) != DSC_OK)
		goto fail;
	out->json = j;
	return DSC_OK;
fail:
	json_decref(j);
	memset(out, 0, sizeof(*out));
	out->subject.age = -1;
	return rc;
}

/* ---- the plain reader ---- */

/*
 * A check's body is read here without jansson when it is plainly valid:
 * one object of the four members, the subject of its five, names of
 * their three, strings (with any JSON escape but \u0000), small whole
 * numbers and nulls, no member twice, and every value valid as the
 * checks above want it.  The reader decodes the strings in place in a
 * copy of the body (an escape is never shorter than what it stands
 * for).  Anything else, or anything it is not sure of, it leaves to
 * check_request_parse_tree(), which says what is wrong: so it need only
 * be right about what it accepts.
 */
#define PLAIN_BODY_MAX 65536 /* longer bodies are jansson's */

struct plain {
	char *p, *end;
};

static void plain_space(struct plain *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool plain_char(struct plain *r, char c)
{
	plain_space(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return true;
	}
	return false;
}

static int hex4(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static char *utf8_write(char *w, uint32_t cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xC0 | cp >> 6);
		*w++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xE0 | cp >> 12);
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*w++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*w++ = (char)(0xF0 | cp >> 18);
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*w++ = (char)(0x80 | (cp & 0x3F));
	}
	return w;
}

/* A string, decoded in place and NUL-terminated; false for anything
 * jansson would refuse (a raw control character, bytes that are not
 * UTF-8, a bad escape or lone surrogate) and for \u0000. */
static bool plain_string(struct plain *r, char **out)
{
	char *w;

	plain_space(r);
	if (r->p >= r->end || *r->p != '"')
		return false;
	w = *out = ++r->p;
	while (r->p < r->end) {
		unsigned char c = (unsigned char)*r->p;

		if (c == '"') {
			r->p++;
			*w = '\0'; /* at most where the closing quote was */
			return true;
		}
		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			uint32_t cp;
			size_t n = utf8_decode((const unsigned char *)r->p, (size_t)(r->end - r->p), &cp);

			if (n == 0)
				return false;
			memmove(w, r->p, n);
			w += n;
			r->p += n;
			continue;
		}
		if (c != '\\') {
			*w++ = (char)c;
			r->p++;
			continue;
		}
		if (r->end - r->p < 2)
			return false;
		switch (r->p[1]) {
		case '"': *w++ = '"'; break;
		case '\\': *w++ = '\\'; break;
		case '/': *w++ = '/'; break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'u': {
			int hi, lo;
			uint32_t cp;

			if (r->end - r->p < 6 || (hi = hex4(r->p + 2)) < 0 || hi == 0 ||
			    (hi >= 0xDC00 && hi <= 0xDFFF))
				return false;
			cp = (uint32_t)hi;
			if (hi >= 0xD800 && hi <= 0xDBFF) {
				if (r->end - r->p < 12 || r->p[6] != '\\' || r->p[7] != 'u' ||
				    (lo = hex4(r->p + 8)) < 0xDC00 || lo > 0xDFFF)
					return false;
				cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
				r->p += 6;
			}
			w = utf8_write(w, cp);
			r->p += 6;
			continue;
		}
		default:
			return false;
		}
		r->p += 2;
	}
	return false;
}

/* null: true with *out NULL; a string: true with *out set. */
static bool plain_string_or_null(struct plain *r, char **out)
{
	plain_space(r);
	if (r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0) {
		r->p += 4;
		*out = NULL;
		return true;
	}
	return plain_string(r, out);
}

/* A member's name among keys (at most 8); false if unknown or seen. */
static bool plain_key(struct plain *r, const char *const *keys, unsigned *seen, int *which)
{
	char *k;

	if (!plain_string(r, &k) || !plain_char(r, ':'))
		return false;
	for (int i = 0; keys[i] != NULL; i++) {
		if (strcmp(k, keys[i]) == 0) {
			if (*seen & (1u << i))
				return false;
			*seen |= 1u << i;
			*which = i;
			return true;
		}
	}
	return false;
}

/* A name part as name_part() takes it: no control character but tab and
 * line breaks, trimmed of those and spaces, at most NAME_PART_MAX bytes; a
 * blank one is absent (false for a required one). */
static bool plain_name_part(char *s, bool required, char **out)
{
	size_t len, start = 0;

	*out = NULL;
	if (s == NULL)
		return !required;
	if (has_control(s, true))
		return false;
	len = strlen(s);
	while (start < len && name_space(s[start]))
		start++;
	while (len > start && name_space(s[len - 1]))
		len--;
	s[len] = '\0';
	if (len == start)
		return !required;
	if (len - start > NAME_PART_MAX)
		return false;
	*out = s + start;
	return true;
}

static bool plain_names(struct plain *r, struct check_subject *s)
{
	static const char *const keys[] = {"given", "middle", "family", NULL};

	if (!plain_char(r, '['))
		return false;
	do {
		char *v[3] = {NULL, NULL, NULL};
		unsigned seen = 0;
		int which;
		struct person_name *pn;

		if (s->n_names == CHECK_MAX_NAMES || !plain_char(r, '{'))
			return false;
		do {
			if (!plain_key(r, keys, &seen, &which) || !plain_string_or_null(r, &v[which]))
				return false;
		} while (plain_char(r, ','));
		if (!plain_char(r, '}'))
			return false;
		pn = &s->names[s->n_names];
		if (!plain_name_part(v[2], true, &pn->family) ||
		    !plain_name_part(v[0], false, &pn->given) ||
		    !plain_name_part(v[1], false, &pn->middle))
			return false;
		pn->kind = s->n_names == 0 ? NAME_PRIMARY : NAME_ALIAS;
		s->n_names++;
	} while (plain_char(r, ','));
	return plain_char(r, ']');
}

/* An age: null, or 0..AGE_MAX written plainly. */
static bool plain_age(struct plain *r, int *age)
{
	int v = 0, n = 0;

	plain_space(r);
	if (r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0) {
		r->p += 4;
		return true;
	}
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9' && n < 4) {
		v = v * 10 + (*r->p - '0');
		r->p++;
		n++;
	}
	/* No leading zero, no fraction or exponent: those are jansson's. */
	if (n == 0 || n > 3 || (n > 1 && r->p[-n] == '0') || v > AGE_MAX)
		return false;
	if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
		return false;
	*age = v;
	return true;
}

static bool plain_subject(struct plain *r, struct check_subject *s)
{
	static const char *const keys[] = {"names", "dob", "age", "postcode", "sex", NULL};
	unsigned seen = 0;
	int which;
	char *v;

	memset(s, 0, sizeof(*s));
	s->age = -1;
	if (!plain_char(r, '{'))
		return false;
	do {
		if (!plain_key(r, keys, &seen, &which))
			return false;
		switch (which) {
		case 0:
			if (!plain_names(r, s))
				return false;
			break;
		case 1:
			if (!plain_string_or_null(r, &v))
				return false;
			if (v != NULL && (!date_read(v, &s->dob) || s->dob.year < DOB_YEAR_MIN ||
			                  date_after_today(&s->dob)))
				return false;
			break;
		case 2:
			if (!plain_age(r, &s->age))
				return false;
			break;
		case 3:
			if (!plain_string_or_null(r, &v))
				return false;
			if (v != NULL) {
				size_t len = strlen(v);

				if (len > POSTCODE_MAX)
					return false;
				for (size_t i = 0; i < len; i++)
					if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') ||
					      (v[i] >= '0' && v[i] <= '9') || v[i] == ' '))
						return false;
				if (!only_space(v))
					memcpy(s->postcode, v, len + 1);
			}
			break;
		default:
			if (!plain_string_or_null(r, &v))
				return false;
			if (v != NULL) {
				if (strlen(v) != 1 || strchr("MFX", v[0]) == NULL)
					return false;
				s->sex = v[0];
			}
			break;
		}
	} while (plain_char(r, ','));
	/* names is required (and was read whole, with at least one name). */
	return plain_char(r, '}') && (seen & 1u) && s->n_names > 0;
}

/* DSC_OK with out filled, or DSC_EINVAL: leave the body to jansson. */
static int plain_parse(const char *body, size_t len, struct check_request *out)
{
	static const char *const keys[] = {"case_ref", "purpose", "justification", "subject", NULL};
	struct plain r;
	unsigned seen = 0;
	int which;
	char *v[3] = {NULL, NULL, NULL};
	size_t i;

	if (body == NULL || len == 0 || len > PLAIN_BODY_MAX || (out->text = malloc(len + 1)) == NULL)
		return DSC_EINVAL;
	memcpy(out->text, body, len);
	out->text[len] = '\0';
	r.p = out->text;
	r.end = out->text + len;
	if (!plain_char(&r, '{'))
		goto refuse;
	do {
		if (!plain_key(&r, keys, &seen, &which))
			goto refuse;
		if (which == 3) {
			if (!plain_subject(&r, &out->subject))
				goto refuse;
		} else if (!plain_string(&r, &v[which])) {
			goto refuse;
		}
	} while (plain_char(&r, ','));
	if (!plain_char(&r, '}') || seen != 0xFu)
		goto refuse;
	plain_space(&r);
	if (r.p != r.end)
		goto refuse;
	/* As check_request_parse_tree() checks them. */
	if (!case_ref_valid(v[0]))
		goto refuse;
	for (i = 0; i < N_PURPOSES; i++)
		if (strcmp(v[1], purposes[i]) == 0)
			break;
	if (i == N_PURPOSES)
		goto refuse;
	if (has_control(v[2], true) || only_space(v[2]) || utf8_chars(v[2]) > JUSTIFICATION_MAX)
		goto refuse;
	out->case_ref = v[0];
	out->purpose = (enum purpose)i;
	out->justification = v[2];
	return DSC_OK;
refuse:
	free(out->text);
	memset(out, 0, sizeof(*out));
	out->subject.age = -1;
	return DSC_EINVAL;
}

int check_request_parse(const char *body, size_t len, struct check_request *out,
                        struct dsc_error *err)
{
	memset(out, 0, sizeof(*out));
	out->subject.age = -1;
	if (plain_parse(body, len, out) == DSC_OK)
		return DSC_OK;
	return check_request_parse_tree(body, len, out, err);
}

void check_request_release(struct check_request *r)
{
	if (r == NULL)
		return;
	free(r->text);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
	r->subject.age = -1;
}

/* Adds key: s (or nothing if s is NULL); false on allocation failure. */
static bool put_str(json_t *obj, const char *key, const char *s)
{
	return s == NULL || json_object_set_new(obj, key, json_string(s)) == 0;
}

static size_t dob_text(const struct date *d, char out[11]);

json_t *check_subject_to_json(const struct check_subject *s)
{
	json_t *o = json_object(), *names = json_array();
	char dob[16];

	if (o == NULL || names == NULL || json_object_set_new(o, "names", names) != 0) {
		json_decref(names);
		goto fail;
	}
	for (size_t i = 0; i < s->n_names && i < CHECK_MAX_NAMES; i++) {
		json_t *n = json_object();

		if (n == NULL || json_array_append_new(names, n) != 0)
			goto fail;
		if (!put_str(n, "given", s->names[i].given) ||
		    !put_str(n, "middle", s->names[i].middle) ||
		    !put_str(n, "family", s->names[i].family))
			goto fail;
	}
	if (s->dob.year != 0) {
		dob_text(&s->dob, dob);
		if (!put_str(o, "dob", dob))
			goto fail;
	}
	if (s->age >= 0 && json_object_set_new(o, "age", json_integer(s->age)) != 0)
		goto fail;
	if (s->postcode[0] != '\0') {
		char pc[sizeof(s->postcode)];

		memcpy(pc, s->postcode, sizeof(pc));
		pc[sizeof(pc) - 1] = '\0';
		if (!put_str(o, "postcode", pc))
			goto fail;
	}
	if (s->sex != 0) {
		char sx[2] = {s->sex, '\0'};

		if (!put_str(o, "sex", sx))
			goto fail;
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* "YYYY-MM-DD" (%04u-%02u-%02u of the values modulo 10000 and 100), or
 * a date known in part as "YYYY-MM" or "YYYY"; returns the length. */
static size_t dob_text(const struct date *d, char out[11])
{
	unsigned y = (unsigned)d->year % 10000, m = (unsigned)d->month % 100,
		 dd = (unsigned)d->day % 100;
	size_t n = d->month == 0 ? 4 : d->day == 0 ? 7 : 10;

	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + dd / 10);
	out[9] = (char)('0' + dd % 10);
	out[n] = '\0';
	return n;
}

/* The postcode as check_subject_to_json() copies it: at most its array,
 * NUL-terminated. */
static size_t postcode_len(const struct check_subject *s)
{
	const char *end = memchr(s->postcode, '\0', sizeof(s->postcode) - 1);

	return end != NULL ? (size_t)(end - s->postcode) : sizeof(s->postcode) - 1;
}

#define AM_LIT(m, lit) audit_members_raw(m, lit, sizeof(lit) - 1)

void check_subject_audit(const struct check_subject *s, struct audit_members *m)
{
	static const char *const part_keys[] = {"given", "middle", "family"};
	char num[16];

	AM_LIT(m, "{\"names\":[");
	for (size_t i = 0; i < s->n_names && i < CHECK_MAX_NAMES; i++) {
		const char *parts[] = {s->names[i].given, s->names[i].middle, s->names[i].family};
		bool first = true;

		if (i > 0)
			AM_LIT(m, ",");
		AM_LIT(m, "{");
		for (size_t k = 0; k < 3; k++) {
			if (parts[k] == NULL)
				continue;
			/* audit_members_key() writes the comma: drop it once. */
			if (first) {
				audit_members_string(m, part_keys[k], strlen(part_keys[k]));
				AM_LIT(m, ":");
			} else {
				audit_members_key(m, part_keys[k]);
			}
			audit_members_string(m, parts[k], strlen(parts[k]));
			first = false;
		}
		AM_LIT(m, "}");
	}
	AM_LIT(m, "]");
	if (s->dob.year != 0) {
		size_t n = dob_text(&s->dob, num);

		audit_members_key(m, "dob");
		audit_members_string(m, num, n);
	}
	if (s->age >= 0) {
		audit_members_key(m, "age");
		audit_members_integer(m, s->age);
	}
	if (s->postcode[0] != '\0') {
		audit_members_key(m, "postcode");
		audit_members_string(m, s->postcode, postcode_len(s));
	}
	if (s->sex != 0) {
		char sx = s->sex;

		audit_members_key(m, "sex");
		audit_members_string(m, &sx, 1);
	}
	AM_LIT(m, "}");
}

#define PUT_LIT(lit) put(arg, lit, sizeof(lit) - 1)

bool check_subject_dump(const struct check_subject *s,
			void (*put)(void *arg, const char *p, size_t n), void *arg)
{
	static const char *const part_keys[] = {"\"given\":", "\"middle\":", "\"family\":"};
	char num[16];

	/* json_string() refuses what is not UTF-8, and with it the whole tree. */
	for (size_t i = 0; i < s->n_names && i < CHECK_MAX_NAMES; i++) {
		const char *parts[] = {s->names[i].given, s->names[i].middle, s->names[i].family};

		for (size_t k = 0; k < 3; k++)
			if (parts[k] != NULL && !utf8_valid(parts[k], strlen(parts[k])))
				return false;
	}
	if (s->postcode[0] != '\0' && !utf8_valid(s->postcode, postcode_len(s)))
		return false;
	if (s->sex != 0 && (unsigned char)s->sex >= 0x80)
		return false;
	PUT_LIT("{\"names\":[");
	for (size_t i = 0; i < s->n_names && i < CHECK_MAX_NAMES; i++) {
		const char *parts[] = {s->names[i].given, s->names[i].middle, s->names[i].family};
		bool first = true;

		if (i > 0)
			PUT_LIT(",");
		PUT_LIT("{");
		for (size_t k = 0; k < 3; k++) {
			if (parts[k] == NULL)
				continue;
			if (!first)
				PUT_LIT(",");
			put(arg, part_keys[k], strlen(part_keys[k]));
			json_quote(parts[k], strlen(parts[k]), put, arg);
			first = false;
		}
		PUT_LIT("}");
	}
	PUT_LIT("]");
	if (s->dob.year != 0) {
		size_t n = dob_text(&s->dob, num);

		PUT_LIT(",\"dob\":\"");
		put(arg, num, n);
		PUT_LIT("\"");
	}
	if (s->age >= 0) {
		char *d = num + sizeof(num);
		unsigned v = (unsigned)s->age;

		do {
			*--d = (char)('0' + v % 10);
			v /= 10;
		} while (v > 0);
		PUT_LIT(",\"age\":");
		put(arg, d, (size_t)(num + sizeof(num) - d));
	}
	if (s->postcode[0] != '\0') {
		PUT_LIT(",\"postcode\":");
		json_quote(s->postcode, postcode_len(s), put, arg);
	}
	if (s->sex != 0) {
		char sx = s->sex;

		PUT_LIT(",\"sex\":");
		json_quote(&sx, 1, put, arg);
	}
	PUT_LIT("}");
	return true;
}

static bool offender_ref_valid(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return n >= 1 && n <= OFFENDER_ID_MAX;
}

int decision_request_parse(const char *body, size_t len, struct decision_request *out,
                           struct dsc_error *err)
{
	static const char *const keys[] = {"decision", "offender_id", "recipient", "rationale",
	                                   NULL};
	json_t *j, *v;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((j = body_load(body, len, err)) == NULL)
		return DSC_EJSON;
	if ((rc = no_unknown(j, "", keys, err)) != DSC_OK)
		goto fail;

	v = json_object_get(j, "decision");
	if (v == NULL || json_is_null(v)) {
		rc = dsc_error_field(err, DSC_EINVAL, "decision", "required");
		goto fail;
	}
	for (i = 0; i < N_DECISIONS; i++)
		if (json_is_string(v) && strcmp(json_string_value(v), decisions[i]) == 0)
			break;
	if (i == N_DECISIONS) {
		rc = dsc_error_field(err, DSC_EINVAL, "decision",
		                     "must be one of disclose, no_disclosure, refer");
		goto fail;
	}
	out->decision = (enum decision_kind)i;

	v = json_object_get(j, "offender_id");
	if (v == NULL || json_is_null(v)) {
		if (out->decision != DECISION_NO_DISCLOSURE) {
			rc = dsc_error_field(err, DSC_EINVAL, "offender_id",
			                     "required for a '%s' decision",
			                     decisions[out->decision]);
			goto fail;
		}
	} else if (!json_is_string(v) || !offender_ref_valid(json_string_value(v))) {
		rc = dsc_error_field(err, DSC_EINVAL, "offender_id",
		                     "must be 1-%d characters of A-Z a-z 0-9 _ -", OFFENDER_ID_MAX);
		goto fail;
	} else {
		out->offender_id = json_string_value(v);
	}

	if ((rc = text_field(j, "recipient", "recipient", out->decision == DECISION_DISCLOSE,
	                     RECIPIENT_MAX, &out->recipient, err)) != DSC_OK)
		goto fail;
	if ((rc = text_field(j, "rationale", "rationale", false, RATIONALE_MAX, &out->rationale,
	                     err)) != DSC_OK)
		goto fail;
	out->json = j;
	return DSC_OK;
fail:
	json_decref(j);
	memset(out, 0, sizeof(*out));
	return rc;
}

void decision_request_release(struct decision_request *r)
{
	if (r == NULL)
		return;
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}
