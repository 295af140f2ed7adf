/*
 * render.c - results in words for the person at the terminal: the outcome
 * first, then the candidates as a table with the reasons spelt out, then
 * the audit receipt.  Scripts use --json and never depend on this text.
 *
 * Never hides a candidate or softens a band: what the server ranked is
 * what the person sees, in the server's order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "disclosure/offender.h" /* utf8_decode(), cp_is_display_control() */

struct word {
	const char *code, *words;
};

/* Whole reason codes with an established phrasing. */
static const struct word reason_table[] = {
    {"family:exact", "family name exact"},
    {"family:fuzzy", "family name spelt similarly"},
    {"family:phonetic", "family name sounds the same"},
    {"family:compound_part", "one part of a compound family name exact"},
    {"family:initial", "family name given as its initial alone, which agrees"},
    {"family:reordered", "family name's words the same, in another order"},
    {"family:particles", "family name the same but for its particles (van, de, al ...)"},
    {"family:variant", "family name is a listed variant (another romanisation or spelling)"},
    {"family:two_edits", "family name two typos away (weak evidence)"},
    {"family:mismatch", "family name differs"},
    {"family:missing", "family name not given"},
    {"family:middle_name", "family name given is a middle name of the record's (a father's name used as the surname)"},
    {"family:singh_kaur", "family name Singh or Kaur on one side, another on the other (Sikhs write either): neither for nor against"},
    {"given:exact", "given name exact"},
    {"given:fuzzy", "given name spelt similarly"},
    {"given:phonetic", "given name sounds the same"},
    {"given:nickname", "given name is a nickname"},
    {"given:initial", "given name: initial only"},
    {"given:middle_name", "given name matches a middle name"},
    {"given:missing", "given name not given"},
    {"given:mismatch", "given name differs"},
    {"middle:exact", "middle name exact"},
    {"middle:fuzzy", "middle name spelt similarly"},
    {"middle:initial", "middle name: initial only"},
    {"middle:mismatch", "middle name differs"},
    {"name:alias", "matched a recorded alias"},
    {"name:transliterated", "name matched across scripts (transliterated)"},
    {"name:different", "name differs in every part, shown for its date of birth and postcode (a name changed and not recorded?)"},
    {"names:swapped", "given and family names swapped"},
    {"names:split", "whole name given as the family name, read as given and family name"},
    {"given:another_name", "given names are two different names a letter or a sound apart (a twin or a sibling as likely as a slip)"},
    {"dob:exact", "date of birth exact"},
    {"dob:day_month_swapped", "date of birth: day and month swapped"},
    {"dob:one_digit", "date of birth: one digit different"},
    {"dob:year_off_by_one", "date of birth: year off by one"},
    {"dob:year_off_by_two", "date of birth: same day and month, two years apart"},
    {"dob:same_birthday", "date of birth: same day and month, three to ten years apart"},
    {"dob:other_dob", "date of birth matches a recorded alternative date"},
    {"dob:near", "date of birth: 1 to 3 days apart"},
    {"dob:weeks_apart", "date of birth: 4 to 45 days apart"},
    {"dob:year_and_slip", "date of birth: the year one out and one slip more (a day or two, a digit, or day and month swapped)"},
    {"dob:month_only", "date of birth: same month and year, one given as the 1st"},
    {"dob:year_only", "date of birth: same year, one given as 1 January"},
    {"dob:same_year", "date of birth: same year, more than 45 days apart"},
    {"dob:age_consistent", "age consistent with the date of birth"},
    {"dob:age_approximate", "age two or three years from the date of birth (weighs nothing either way)"},
    {"dob:age_guess", "age four or five years from the date of birth (a guess?)"},
    {"dob:age_inconsistent", "age does not fit the date of birth"},
    {"dob:partial_exact", "the year of birth given (with its month, if given) agrees; the day was not given"},
    {"dob:partial_same_year", "year of birth agrees, the month given does not"},
    {"dob:partial_year_off_by_one", "year of birth given is one year out"},
    {"dob:partial_years_apart", "year of birth given is two to five years out"},
    {"dob:partial_mismatch", "year of birth given is more than five years out"},
    {"dob:absent", "no date of birth to compare"},
    {"dob:century_slipped", "date of birth: the same day a hundred years on (the date given would make the person over 110: a two-digit year read into the wrong century)"},
    {"dob:implausible", "the date of birth given would make the person over 110 (a placeholder such as 1900-01-01, or the century slipped): not compared"},
    {"dob:mismatch", "date of birth differs"},
    {"postcode:full", "postcode exact"},
    {"postcode:sector", "same postcode sector"},
    {"postcode:district", "same postcode district"},
    {"postcode:area", "same postcode area"},
    {"postcode:different", "postcode differs"},
    {"sex:mismatch", "sex differs"},
    {"match:ambiguous", "another record fits as well: a person must tell them apart"},
};

static const struct word field_table[] = {
    {"family", "family name"},
    {"given", "given name"},
    {"middle", "middle name"},
    {"dob", "date of birth"},
    {"postcode", "postcode"},
    {"sex", "sex"},
    {"age", "age"},
    {"name", "name"},
    {"names", "names"},
};

static const struct word level_table[] = {
    {"exact", "exact"},
    {"nickname", "is a nickname"},
    {"phonetic", "sounds the same"},
    {"jw92", "very similar spelling"},
    {"jw88", "similar spelling"},
    {"jw_high", "very similar spelling"},
    {"jw_low", "similar spelling"},
    {"similar", "similar spelling"},
    {"initial", "initial only"},
    {"swapped", "swapped"},
    {"transliterated", "same name in another script"},
    {"absent", "not given"},
    {"missing", "not given"},
    {"mismatch", "differs"},
    {"rare", "rare name"},
};

const char *reason_words(const char *code, char *buf, size_t cap)
{
	const char *colon = strchr(code, ':');
	const char *fw = NULL, *lw = NULL;

	for (size_t i = 0; i < sizeof(reason_table) / sizeof(reason_table[0]); i++)
		if (strcmp(code, reason_table[i].code) == 0)
			return reason_table[i].words;
	if (colon == NULL) {
		snprintf(buf, cap, "%s", code);
	} else {
		size_t fl = (size_t)(colon - code);

		for (size_t i = 0; i < sizeof(field_table) / sizeof(field_table[0]); i++)
			if (strlen(field_table[i].code) == fl &&
			    strncmp(code, field_table[i].code, fl) == 0)
				fw = field_table[i].words;
		for (size_t i = 0; i < sizeof(level_table) / sizeof(level_table[0]); i++)
			if (strcmp(colon + 1, level_table[i].code) == 0)
				lw = level_table[i].words;
		if (fw != NULL && lw != NULL)
			snprintf(buf, cap, "%s %s", fw, lw);
		else if (fw != NULL)
			snprintf(buf, cap, "%s: %s", fw, colon + 1);
		else
			snprintf(buf, cap, "%.*s: %s", (int)fl, code, lw ? lw : colon + 1);
	}
	/* Unknown codes still read as words: "dob:year_close" -> "year close". */
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = ' ';
	return buf;
}

const char *band_words(const char *band)
{
	if (band == NULL)
		return "UNKNOWN";
	if (strcmp(band, "match") == 0)
		return "MATCH";
	if (strcmp(band, "possible_match") == 0)
		return "POSSIBLE MATCH";
	if (strcmp(band, "no_match") == 0)
		return "NO MATCH";
	return band;
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* Display width in code points, a fair measure for names in any script. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

/*
 * Writes text from the server as it reads, not as a terminal would act on
 * it: a control character (but tab and line breaks), a C1 control or a
 * bidirectional embedding, override or isolate is written as <U+XXXX>.
 * The server refuses them in what it is sent now; a record or check
 * stored before it did may still hold one, and an escape sequence there
 * could repaint an officer's screen.
 */
void ctl_put_text(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		uint32_t cp = p[i];
		size_t k = cp < 0x80 ? 1 : utf8_decode(p + i, n - i, &cp);

		if (k == 0) { /* not UTF-8 (jansson gives none): as it is */
			fputc(p[i++], out);
			continue;
		}
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7f ||
		    cp_is_display_control(cp))
			fprintf(out, "<U+%04X>", (unsigned)cp);
		else
			fwrite(p + i, 1, k, out);
		i += k;
	}
}

#define TABLE_COLS 7
#define CELL_MAX 1024

struct table {
	char (*cells)[TABLE_COLS][CELL_MAX];
	size_t rows;
};

static void table_print(FILE *out, const struct table *t)
{
	size_t width[TABLE_COLS] = {0};

	for (size_t r = 0; r < t->rows; r++)
		for (size_t i = 0; i < TABLE_COLS; i++) {
			size_t w = text_width(t->cells[r][i]);

			if (w > width[i])
				width[i] = w;
		}
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t i = 0; i < TABLE_COLS; i++) {
			const char *cell = t->cells[r][i];

			if (i + 1 == TABLE_COLS) {
				ctl_put_text(out, cell);
				fputc('\n', out);
				break;
			}
			ctl_put_text(out, cell);
			for (size_t k = text_width(cell); k < width[i] + 2; k++)
				fputc(' ', out);
		}
	}
}

static void name_text(json_t *n, char *buf, size_t cap)
{
	const char *g = str(n, "given"), *m = str(n, "middle"), *f = str(n, "family");

	snprintf(buf, cap, "%s%s%s%s%s", g, g[0] ? " " : "", m, m[0] ? " " : "", f);
}

void print_receipt(FILE *out, json_t *audit)
{
	json_t *seq = json_object_get(audit, "seq");

	if (json_is_integer(seq))
		fprintf(out, "Audit receipt: seq %" JSON_INTEGER_FORMAT ", hash %s\n",
		        json_integer_value(seq), str(audit, "hash"));
}

/* The server's more_candidates: the people shown may not be all who fit. */
static void print_more(FILE *out, json_t *result)
{
	size_t n = json_array_size(json_object_get(result, "candidates"));

	if (!json_is_true(json_object_get(result, "more_candidates")))
		return;
	if (n >= 10)
		fprintf(out, "More people on the register may fit as well: the list stops at %zu.\n", n);
	else
		fprintf(out, "More people on the register may fit: the name is too common for the\n"
		             "search to read every record under it.\n");
	fprintf(out, "A date of birth or a postcode would narrow the check.\n");
}

void print_check_result(FILE *out, json_t *result)
{
	json_t *cands = json_object_get(result, "candidates"), *cand;
	struct table t = {0};
	size_t idx;

	fprintf(out, "Outcome: %s (check %s)\n", band_words(str(result, "outcome")),
	        str(result, "check_id"));
	if (!json_is_array(cands) || json_array_size(cands) == 0) {
		fprintf(out, "No candidates.\n");
		print_more(out, result);
		print_receipt(out, json_object_get(result, "audit"));
		return;
	}
	t.cells = calloc(json_array_size(cands) + 1, sizeof(*t.cells));
	if (t.cells == NULL) {
		ctl_err("out of memory");
		return;
	}
	static const char *const head[TABLE_COLS] = {
	    "RANK", "BAND", "SCORE", "OFFENDER", "FORCE", "MATCHED NAME (KIND)", "REASONS"};
	for (size_t i = 0; i < TABLE_COLS; i++)
		snprintf(t.cells[0][i], CELL_MAX, "%s", head[i]);
	t.rows = 1;
	json_array_foreach(cands, idx, cand)
	{
		char(*row)[CELL_MAX] = t.cells[t.rows++];
		json_t *mn = json_object_get(cand, "matched_name");
		json_t *reasons = json_object_get(cand, "reasons"), *reason;
		json_t *score = json_object_get(cand, "score");
		size_t ri, n = 0;

		snprintf(row[0], CELL_MAX, "%zu", idx + 1);
		snprintf(row[1], CELL_MAX, "%s", band_words(str(cand, "band")));
		for (char *p = row[1]; *p;
		     p++) /* lower case in the table, capitals for the outcome */
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (json_is_number(score))
			snprintf(row[2], CELL_MAX, "%.2f", json_number_value(score));
		snprintf(row[3], CELL_MAX, "%s", str(cand, "offender_id"));
		snprintf(row[4], CELL_MAX, "%s", str(cand, "managing_force"));
		if (json_is_object(mn)) {
			char name[600];

			name_text(mn, name, sizeof(name));
			snprintf(row[5], CELL_MAX, "%s (%s)", name, str(mn, "kind"));
		} else {
			/* Outside our force: the server gives a summary only. */
			json_t *s = json_object_get(cand, "summary");
			json_t *by = json_object_get(s, "birth_year");
			json_t *mc = json_object_get(s, "mappa_category");
			char yb[32] = "", mb[32] = "";

			if (json_is_integer(by))
				snprintf(yb, sizeof(yb), "born %" JSON_INTEGER_FORMAT ", ",
				         json_integer_value(by));
			if (json_is_integer(mc))
				snprintf(mb, sizeof(mb), "MAPPA %" JSON_INTEGER_FORMAT ", ",
				         json_integer_value(mc));
			snprintf(row[5], CELL_MAX, "(other force: %s%ssex %s, %s)", yb, mb,
			         str(s, "sex")[0] ? str(s, "sex") : "?", str(s, "status"));
		}
		json_array_foreach(reasons, ri, reason)
		{
			char wb[256];
			const char *code = json_string_value(reason);
			int w;

			if (code == NULL)
				continue;
			w = snprintf(row[6] + n, CELL_MAX - n, "%s%s", n ? "; " : "",
			             reason_words(code, wb, sizeof(wb)));
			if (w < 0 || (size_t)w >= CELL_MAX - n)
				break;
			n += (size_t)w;
		}
		if (!json_is_array(reasons))
			snprintf(row[6], CELL_MAX, "(contact %s for details)",
			         str(cand, "managing_force"));
	}
	table_print(out, &t);
	free(t.cells);
	print_more(out, result);
	print_receipt(out, json_object_get(result, "audit"));
}

static void print_scalar(FILE *out, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		ctl_put_text(out, json_string_value(v));
		break;
	case JSON_INTEGER:
		fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(out, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("yes", out);
		break;
	case JSON_FALSE:
		fputs("no", out);
		break;
	case JSON_NULL:
		fputs("-", out);
		break;
	default:
		break;
	}
}

/* Members of object o, one "key: value" line each; the first line's
 * indentation is first_indent (it may follow a "- " already printed). */
static void print_object(FILE *out, json_t *o, int indent, int first_indent)
{
	const char *k;
	json_t *m;
	bool first = true;

	json_object_foreach(o, k, m)
	{
		fprintf(out, "%*s%s:", first ? first_indent : indent, "", k);
		first = false;
		if (json_is_object(m) && json_object_size(m) > 0) {
			fputc('\n', out);
			print_object(out, m, indent + 2, indent + 2);
		} else if (json_is_array(m) && json_array_size(m) > 0) {
			fputc('\n', out);
			print_json_readable(out, m, indent + 2);
		} else if (json_is_object(m) || json_is_array(m)) {
			fputs(" -\n", out);
		} else {
			fputc(' ', out);
			print_scalar(out, m);
			fputc('\n', out);
		}
	}
	if (first)
		fprintf(out, "%*s-\n", first_indent, "");
}

void print_json_readable(FILE *out, json_t *v, int indent)
{
	json_t *m;
	size_t i;

	if (json_is_object(v)) {
		print_object(out, v, indent, indent);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m)
		{
			fprintf(out, "%*s- ", indent, "");
			if (json_is_object(m)) {
				print_object(out, m, indent + 2, 0);
			} else if (json_is_array(m)) {
				fputc('\n', out);
				print_json_readable(out, m, indent + 2);
			} else {
				print_scalar(out, m);
				fputc('\n', out);
			}
		}
	} else {
		fprintf(out, "%*s", indent, "");
		print_scalar(out, v);
		fputc('\n', out);
	}
}
