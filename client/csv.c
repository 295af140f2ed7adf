/*
 * csv.c - the CSV reader and writer of `disclosurectl batch` (see csv.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

struct field_buf {
	char *p;
	size_t len, cap;
};

static int field_add(struct field_buf *b, char ch)
{
	if (b->len + 1 >= b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		char *np;

		if (ncap > CSV_FIELD_MAX + 1)
			ncap = CSV_FIELD_MAX + 1;
		if (b->len + 1 >= ncap)
			return -1;
		np = realloc(b->p, ncap);
		if (np == NULL)
			return -1;
		b->p = np;
		b->cap = ncap;
	}
	b->p[b->len++] = ch;
	return 0;
}

static int field_end(struct csv_record *rec, struct field_buf *b, size_t lineno,
                     struct dsc_error *err)
{
	char *s;

	if (rec->n >= CSV_FIELDS_MAX)
		return dsc_error_set(err, DSC_ETOOBIG, "line %zu: more than %d fields", lineno,
		                     CSV_FIELDS_MAX);
	s = malloc(b->len + 1);
	if (s == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	if (b->len > 0)
		memcpy(s, b->p, b->len);
	s[b->len] = '\0';
	rec->fields[rec->n++] = s;
	b->len = 0;
	return DSC_OK;
}

void csv_record_release(struct csv_record *rec)
{
	for (size_t i = 0; i < rec->n; i++)
		free(rec->fields[i]);
	rec->n = 0;
}

int csv_read(FILE *f, size_t *lineno, struct csv_record *rec, struct dsc_error *err)
{
	struct field_buf b = {0};
	bool quoted = false, after_quote = false, any = false;
	int ch, r = DSC_OK;

	rec->n = 0;
	if (*lineno == 0) { /* skip a UTF-8 byte-order mark */
		int c1 = getc(f);

		if (c1 == 0xEF) {
			int c2 = getc(f), c3 = getc(f);

			if (c2 != 0xBB || c3 != 0xBF) {
				free(b.p);
				return dsc_error_set(err, DSC_EINVAL, "line 1: not UTF-8 text");
			}
		} else if (c1 != EOF) {
			ungetc(c1, f);
		}
	}
	(*lineno)++;
	rec->line = *lineno;
	for (;;) {
		ch = getc(f);
		if (quoted) {
			if (ch == EOF) {
				r = dsc_error_set(
				    err, DSC_EINVAL,
				    "line %zu: a quoted field is not closed before the "
				    "end of the file",
				    rec->line);
				break;
			}
			if (ch == '"') {
				int next = getc(f);

				if (next == '"') {
					if (field_add(&b, '"') != 0)
						goto too_long;
					continue;
				}
				if (next != EOF)
					ungetc(next, f);
				quoted = false;
				after_quote = true;
				continue;
			}
			if (ch == '\n')
				(*lineno)++;
			if (field_add(&b, (char)ch) != 0)
				goto too_long;
			continue;
		}
		if (ch == EOF || ch == '\n' || (ch == '\r')) {
			if (ch == '\r') {
				int next = getc(f);

				if (next != '\n' && next != EOF)
					ungetc(next, f);
			}
			if (!any && b.len == 0 && rec->n == 0) {
				if (ch == EOF) {
					free(b.p);
					return 0;
				}
				(*lineno)++; /* an empty line */
				rec->line = *lineno;
				continue;
			}
			r = field_end(rec, &b, rec->line, err);
			if (r == DSC_OK) {
				free(b.p);
				return 1;
			}
			break;
		}
		any = true;
		if (ch == ',') {
			r = field_end(rec, &b, rec->line, err);
			if (r != DSC_OK)
				break;
			after_quote = false;
			continue;
		}
		if (after_quote) {
			r = dsc_error_set(
			    err, DSC_EINVAL,
			    "line %zu: text after a closing quote (write \"\" for a quote "
			    "inside a quoted field)",
			    *lineno);
			break;
		}
		if (ch == '"' && b.len == 0) {
			quoted = true;
			continue;
		}
		if (field_add(&b, (char)ch) != 0)
			goto too_long;
	}
	free(b.p);
	csv_record_release(rec);
	return r;
too_long:
	free(b.p);
	csv_record_release(rec);
	return dsc_error_set(err, DSC_ETOOBIG, "line %zu: a field is longer than %d bytes",
	                     rec->line, CSV_FIELD_MAX);
}

/* A cell a spreadsheet would take for a formula (OWASP, CSV injection). */
static bool formula_like(const char *s)
{
	return s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
}

/* Whether s is some ' (perhaps none) and then what formula_like says: the
 * cells csv_format writes with one ' more, and csv_unformula reads with
 * one less (when there is one), so that every cell reads back as it was. */
static bool quotes_then_formula(const char *s, size_t *quotes)
{
	size_t q = strspn(s, "'");

	*quotes = q;
	return formula_like(s + q);
}

char *csv_format(const char *const *fields, size_t n)
{
	size_t cap = 2;
	char *out, *p;

	for (size_t i = 0; i < n; i++)
		cap += 2 * strlen(fields[i] ? fields[i] : "") + 4;
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	p = out;
	for (size_t i = 0; i < n; i++) {
		const char *s = fields[i] ? fields[i] : "";
		size_t q;
		bool formula = quotes_then_formula(s, &q);
		bool quote = formula || strpbrk(s, ",\"\r\n") != NULL ||
		             (s[0] != '\0' && (s[0] == ' ' || s[strlen(s) - 1] == ' '));

		if (i > 0)
			*p++ = ',';
		if (quote)
			*p++ = '"';
		if (formula)
			*p++ = '\'';
		for (; *s; s++) {
			if (*s == '"')
				*p++ = '"';
			*p++ = *s;
		}
		if (quote)
			*p++ = '"';
	}
	*p++ = '\n';
	*p = '\0';
	return out;
}

const char *csv_unformula(const char *s)
{
	size_t q;

	return s != NULL && quotes_then_formula(s, &q) && q > 0 ? s + 1 : s;
}
