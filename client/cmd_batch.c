/*
 * cmd_batch.c - `disclosurectl batch FILE.csv -o OUT`: many checks from a
 * CSV file, one result row a check, resumable.
 *
 * Every answered check is appended to OUT (CSV or NDJSON) and flushed to
 * disk before the next one is sent, keyed by its row number in FILE.  Run
 * again after an interruption (Ctrl-C, a lost network, a crash) and the
 * rows already in OUT are skipped, so no check is run twice except the one
 * that was in flight when the process died.  Rows the server refused are
 * answered too (with the reason) and are not retried: a rerun would only
 * be refused again.  A row that got no answer (unreachable, 5xx) is never
 * written, and the batch stops there.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "csv.h"

static const char batch_help[] =
    "usage: disclosurectl batch FILE.csv -o OUT [--format csv|ndjson]\n"
    "\n"
    "Runs one check (POST /v1/checks) for each row of FILE.csv and appends each\n"
    "result to OUT as soon as it arrives, with a progress bar when stderr is a\n"
    "terminal. Interrupted (Ctrl-C, network lost)? Run the same command again: rows\n"
    "already in OUT are skipped, so answered checks are not repeated.\n"
    "\n"
    "FILE.csv has a header row naming its columns, in any order:\n"
    "  case_ref, purpose, justification, family   required in every row\n"
    "  given, middle, dob, age, postcode, sex      optional (dob or age, not both)\n"
    "  alias, alias2, ... (any column named alias*) other names of the subject,\n"
    "                                             \"GIVEN FAMILY\" or \"FAMILY, GIVEN\"\n"
    "Fields follow RFC 4180 (quotes for commas, \"\" for a quote; UTF-8); a row with\n"
    "more or fewer fields than the header is reported, not sent.\n"
    "\n"
    "  -o, --output OUT       results file (required; created mode 0600, appended)\n"
    "  --format csv|ndjson    format of OUT (default: ndjson if OUT ends in .ndjson or\n"
    "                         .jsonl, else csv)\n"
    "\n"
    "CSV results: row,case_ref,status,check_id,outcome,candidates,best_offender_id,\n"
    "best_band,best_score,audit_seq,audit_hash,error,more_candidates (true: more\n"
    "people may fit than the answer shows; a date of birth or a postcode narrows the\n"
    "row's check); a cell that a spreadsheet would run as a formula (beginning\n"
    "= + - @) gets a ' before it. NDJSON results: one object a row,\n"
    "{\"row\":N,\"case_ref\":...,\"status\":200,\"result\":{the server's\n"
    "answer}} or {... \"status\":400,\"error\":{...}}. row counts the data rows of FILE from 1;\n"
    "status 0 marks a row the client could not send (its error says why): a rerun\n"
    "sends it again, so mend FILE and run the same command. A row the server refused\n"
    "(4xx) was answered and audited and is not repeated: to send it again, mend it\n"
    "and give another OUT.\n"
    "\n"
    "%s"
    "\n"
    "Exit codes: 0 every row answered; 1 interrupted, or a file cannot be read or\n"
    "written, or OUT belongs to another input; 2 usage; 3 some rows were refused\n"
    "(see their error); 4 stopped: server unreachable, TLS failure or 5xx (run again\n"
    "to resume).\n";

enum col {
	COL_CASE_REF,
	COL_PURPOSE,
	COL_JUSTIFICATION,
	COL_FAMILY,
	COL_GIVEN,
	COL_MIDDLE,
	COL_DOB,
	COL_AGE,
	COL_POSTCODE,
	COL_SEX,
	COL_N
};
static const char *const col_names[COL_N] = {"case_ref", "purpose", "justification", "family",
                                             "given",    "middle",  "dob",           "age",
                                             "postcode", "sex"};

#define MAX_ALIAS_COLS 9

enum format { FORMAT_CSV, FORMAT_NDJSON };

static const char *const out_header[] = {
    "row",        "case_ref",   "status",           "check_id",
    "outcome",    "candidates", "best_offender_id", "best_band",
    "best_score", "audit_seq",  "audit_hash",       "error",
    "more_candidates"};
#define OUT_COLS (sizeof(out_header) / sizeof(out_header[0]))
/* Results written before more_candidates was added end at error: a run
 * resumed on such a file goes on writing its columns. */
#define OUT_COLS_BEFORE_MORE (OUT_COLS - 1)

struct batch {
	const char *in_path, *out_path;
	enum format format;
	int col[COL_N];
	int alias_col[MAX_ALIAS_COLS];
	size_t n_alias;
	size_t n_cols; /* fields of the header; every row must have as many */
	size_t out_cols; /* columns of OUT (OUT_COLS, or fewer in an older file) */
	struct csv_record *rows;
	size_t n_rows, rows_cap;
	bool *done;
	size_t n_done;
	size_t n_refused_before; /* rows in OUT whose status is not 2xx */
	/* Rows OUT says the client could not send (status 0) and no later
	 * line answered: sent again, the input perhaps mended. */
	size_t n_unsent_before;
	bool *unsent;
	int out_fd;
};

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static const char *cell(const struct batch *b, const struct csv_record *r, enum col k)
{
	int i = b->col[k];

	if (i < 0 || (size_t)i >= r->n || r->fields[i][0] == '\0')
		return NULL;
	return r->fields[i];
}

static int read_header(struct batch *b, const struct csv_record *h)
{
	for (size_t k = 0; k < COL_N; k++)
		b->col[k] = -1;
	for (size_t i = 0; i < h->n; i++) {
		const char *name = h->fields[i];
		bool known = false;

		for (size_t k = 0; k < COL_N; k++) {
			if (strcmp(name, col_names[k]) != 0)
				continue;
			if (b->col[k] >= 0) {
				ctl_err("%s:1: column '%s' appears twice", b->in_path, name);
				return EXIT_FAILURE_LOCAL;
			}
			b->col[k] = (int)i;
			known = true;
		}
		if (!known && strncmp(name, "alias", 5) == 0) {
			if (b->n_alias >= MAX_ALIAS_COLS) {
				ctl_err("%s:1: more than %d alias columns", b->in_path,
				        MAX_ALIAS_COLS);
				return EXIT_FAILURE_LOCAL;
			}
			b->alias_col[b->n_alias++] = (int)i;
			known = true;
		}
		if (!known) {
			ctl_err(
			    "%s:1: unknown column '%s' (known: case_ref, purpose, justification, "
			    "family, given, middle, dob, age, postcode, sex, alias...)",
			    b->in_path, name);
			return EXIT_FAILURE_LOCAL;
		}
	}
	static const enum col required[] = {COL_CASE_REF, COL_PURPOSE, COL_JUSTIFICATION,
	                                    COL_FAMILY};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (b->col[required[i]] < 0) {
			ctl_err("%s:1: the header has no '%s' column (the first row must name the "
			        "columns)",
			        b->in_path, col_names[required[i]]);
			return EXIT_FAILURE_LOCAL;
		}
	return EXIT_OK;
}

static int read_input(struct batch *b)
{
	struct csv_record h = {0};
	struct dsc_error err;
	size_t lineno = 0;
	FILE *f;
	int r, rc;

	f = fopen(b->in_path, "re");
	if (f == NULL) {
		ctl_err("cannot read %s: %s", b->in_path, strerror(errno));
		return EXIT_FAILURE_LOCAL;
	}
	dsc_error_clear(&err);
	r = csv_read(f, &lineno, &h, &err);
	if (r <= 0) {
		ctl_err("%s: %s", b->in_path, r == 0 ? "empty: no header row" : err.msg);
		fclose(f);
		return EXIT_FAILURE_LOCAL;
	}
	rc = read_header(b, &h);
	b->n_cols = h.n;
	csv_record_release(&h);
	while (rc == EXIT_OK) {
		struct csv_record rec = {0};

		r = csv_read(f, &lineno, &rec, &err);
		if (r == 0)
			break;
		if (r < 0) {
			ctl_err("%s: %s", b->in_path, err.msg);
			rc = EXIT_FAILURE_LOCAL;
			break;
		}
		if (b->n_rows == b->rows_cap) {
			size_t ncap = b->rows_cap ? b->rows_cap * 2 : 256;
			struct csv_record *nr = realloc(b->rows, ncap * sizeof(*nr));

			if (nr == NULL) {
				csv_record_release(&rec);
				ctl_err("out of memory reading %s", b->in_path);
				rc = EXIT_FAILURE_LOCAL;
				break;
			}
			b->rows = nr;
			b->rows_cap = ncap;
		}
		b->rows[b->n_rows++] = rec;
	}
	if (rc == EXIT_OK && ferror(f)) {
		ctl_err("cannot read %s: %s", b->in_path, strerror(errno));
		rc = EXIT_FAILURE_LOCAL;
	}
	fclose(f);
	if (rc == EXIT_OK) {
		b->done = calloc(b->n_rows ? b->n_rows : 1, sizeof(bool));
		b->unsent = calloc(b->n_rows ? b->n_rows : 1, sizeof(bool));
		if (b->done == NULL || b->unsent == NULL) {
			ctl_err("out of memory");
			rc = EXIT_FAILURE_LOCAL;
		}
	}
	return rc;
}

/* Marks row (1-based) done after checking that OUT's row matches FILE's. */
static int mark_done(struct batch *b, long long row, const char *case_ref, long long status,
                     size_t out_line)
{
	const char *want;

	if (row < 1 || (unsigned long long)row > b->n_rows) {
		ctl_err("%s:%zu: row %lld is not a row of %s (it has %zu): is OUT the result of "
		        "another input? Use another -o file",
		        b->out_path, out_line, row, b->in_path, b->n_rows);
		return EXIT_FAILURE_LOCAL;
	}
	if (status == 0) {
		b->unsent[row - 1] = true; /* never sent, so nothing to repeat */
		return EXIT_OK;
	}
	want = cell(b, &b->rows[row - 1], COL_CASE_REF);
	if (strcmp(want ? want : "", case_ref ? case_ref : "") != 0) {
		ctl_err("%s:%zu: row %lld has case_ref '%s' there but '%s' in %s: OUT belongs to "
		        "another input; use another -o file",
		        b->out_path, out_line, row, case_ref ? case_ref : "", want ? want : "",
		        b->in_path);
		return EXIT_FAILURE_LOCAL;
	}
	if (!b->done[row - 1]) {
		b->done[row - 1] = true;
		b->n_done++;
		if (status < 200 || status > 299)
			b->n_refused_before++;
	}
	return EXIT_OK;
}

/* Drops a last line cut short by a crash, so that appending starts clean. */
static int trim_partial_line(struct batch *b)
{
	struct stat st;
	char buf[4096];
	off_t end;

	if (fstat(b->out_fd, &st) != 0) {
		ctl_err("cannot stat %s: %s", b->out_path, strerror(errno));
		return EXIT_FAILURE_LOCAL;
	}
	end = st.st_size;
	while (end > 0) {
		off_t from = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf) : 0;
		ssize_t n = pread(b->out_fd, buf, (size_t)(end - from), from);

		if (n <= 0) {
			ctl_err("cannot read %s: %s", b->out_path,
			        n < 0 ? strerror(errno) : "short");
			return EXIT_FAILURE_LOCAL;
		}
		char *nl = memrchr(buf, '\n', (size_t)n);

		if (nl != NULL) {
			end = from + (nl - buf) + 1;
			break;
		}
		end = from;
	}
	if (end != st.st_size) {
		ctl_warn(
		    "%s: dropping an unfinished last line (%lld bytes) left by an interruption",
		    b->out_path, (long long)(st.st_size - end));
		if (ftruncate(b->out_fd, end) != 0) {
			ctl_err("cannot truncate %s: %s", b->out_path, strerror(errno));
			return EXIT_FAILURE_LOCAL;
		}
	}
	return EXIT_OK;
}

static int write_line(struct batch *b, const char *line)
{
	size_t len = strlen(line), off = 0;

	while (off < len) {
		ssize_t w = write(b->out_fd, line + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ctl_err("cannot write %s: %s", b->out_path,
			        w < 0 ? strerror(errno) : "short");
			return EXIT_FAILURE_LOCAL;
		}
		off += (size_t)w;
	}
	/* The row must be on disk before the next check: that is what makes a
	 * resumed batch skip it. */
	if (fdatasync(b->out_fd) != 0) {
		ctl_err("cannot flush %s to disk: %s", b->out_path, strerror(errno));
		return EXIT_FAILURE_LOCAL;
	}
	return EXIT_OK;
}

static int open_output(struct batch *b)
{
	FILE *f;
	struct csv_record rec = {0};
	struct dsc_error err;
	size_t lineno = 0;
	int rc, fd2, r;
	struct stat st;

	b->out_fd = open(b->out_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (b->out_fd < 0) {
		ctl_err("cannot open %s: %s", b->out_path, strerror(errno));
		return EXIT_FAILURE_LOCAL;
	}
	rc = trim_partial_line(b);
	if (rc != EXIT_OK)
		return rc;
	if (fstat(b->out_fd, &st) != 0 || st.st_size == 0) {
		if (b->format == FORMAT_CSV) {
			char *h = csv_format(out_header, OUT_COLS);

			rc = h != NULL ? write_line(b, h) : EXIT_FAILURE_LOCAL;
			free(h);
			return rc;
		}
		return EXIT_OK;
	}
	/* Resume: read what an earlier run answered. */
	fd2 = open(b->out_path, O_RDONLY | O_CLOEXEC);
	f = fd2 >= 0 ? fdopen(fd2, "r") : NULL;
	if (f == NULL) {
		ctl_err("cannot read %s: %s", b->out_path, strerror(errno));
		if (fd2 >= 0)
			close(fd2);
		return EXIT_FAILURE_LOCAL;
	}
	dsc_error_clear(&err);
	rc = EXIT_OK;
	if (b->format == FORMAT_CSV) {
		r = csv_read(f, &lineno, &rec, &err);
		if (r > 0 && (rec.n == OUT_COLS || rec.n == OUT_COLS_BEFORE_MORE))
			b->out_cols = rec.n;
		if (r <= 0 || (rec.n != OUT_COLS && rec.n != OUT_COLS_BEFORE_MORE) ||
		    strcmp(rec.fields[0], "row") != 0) {
			ctl_err("%s exists but is not a batch results CSV (its header should be "
			        "row,case_ref,...): use another -o file",
			        b->out_path);
			rc = EXIT_FAILURE_LOCAL;
		}
		csv_record_release(&rec);
		while (rc == EXIT_OK && (r = csv_read(f, &lineno, &rec, &err)) > 0) {
			char *end;
			long long row = strtoll(rec.fields[0], &end, 10);

			if (rec.n < 2 || *end != '\0')
				rc = mark_done(b, -1, NULL, 0, rec.line);
			else
				rc = mark_done(b, row, csv_unformula(rec.fields[1]),
				               rec.n > 2 ? strtoll(rec.fields[2], NULL, 10) : 0,
				               rec.line);
			csv_record_release(&rec);
		}
		if (rc == EXIT_OK && r < 0) {
			ctl_err("%s: %s", b->out_path, err.msg);
			rc = EXIT_FAILURE_LOCAL;
		}
	} else {
		char *line = NULL;
		size_t cap = 0;

		while (rc == EXIT_OK && getline(&line, &cap, f) >= 0) {
			json_t *j;

			lineno++;
			if (line[0] == '\n')
				continue;
			j = json_loads(line, 0, NULL);
			if (!json_is_integer(json_object_get(j, "row"))) {
				ctl_err("%s:%zu: not a batch result line: use another -o file",
				        b->out_path, lineno);
				rc = EXIT_FAILURE_LOCAL;
			} else {
				rc = mark_done(b, json_integer_value(json_object_get(j, "row")),
				               json_string_value(json_object_get(j, "case_ref")),
				               json_integer_value(json_object_get(j, "status")),
				               lineno);
			}
			json_decref(j);
		}
		free(line);
	}
	fclose(f);
	return rc;
}

/* One result row: from the server's answer (status 200), its refusal, or
 * a row the client could not send (status 0, msg). */
static int write_result(struct batch *b, size_t row, int status, json_t *answer, const char *msg)
{
	const char *case_ref = cell(b, &b->rows[row - 1], COL_CASE_REF);
	char *line = NULL;
	int rc;

	if (b->format == FORMAT_NDJSON) {
		json_t *o = json_pack("{s:I, s:s?, s:i}", "row", (json_int_t)row, "case_ref",
		                      case_ref, "status", status);

		if (o == NULL)
			return EXIT_FAILURE_LOCAL;
		if (status >= 200 && status < 300)
			json_object_set(o, "result", answer);
		else if (answer != NULL && json_object_get(answer, "error") != NULL)
			json_object_set(o, "error", json_object_get(answer, "error"));
		else
			json_object_set_new(o, "error",
			                    json_pack("{s:s}", "message", msg ? msg : ""));
		/* 15 digits: a score of 0.87 stays 0.87, not 0.86999999999999999. */
		line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
		json_decref(o);
		if (line != NULL) {
			size_t n = strlen(line);
			char *l2 = realloc(line, n + 2);

			if (l2 == NULL) {
				free(line);
				return EXIT_FAILURE_LOCAL;
			}
			line = l2;
			line[n] = '\n';
			line[n + 1] = '\0';
		}
	} else {
		char rowtxt[24], st[8], ncand[16] = "", score[16] = "", seq[24] = "";
		const char *f[OUT_COLS] = {0};
		json_t *cands = json_object_get(answer, "candidates");
		json_t *best = json_array_get(cands, 0);
		json_t *audit = json_object_get(answer, "audit");
		const char *err_msg = msg;

		snprintf(rowtxt, sizeof(rowtxt), "%zu", row);
		snprintf(st, sizeof(st), "%d", status);
		if (status >= 200 && status < 300) {
			snprintf(ncand, sizeof(ncand), "%zu", json_array_size(cands));
			if (json_is_number(json_object_get(best, "score")))
				snprintf(score, sizeof(score), "%.2f",
				         json_number_value(json_object_get(best, "score")));
			if (json_is_integer(json_object_get(audit, "seq")))
				snprintf(seq, sizeof(seq), "%" JSON_INTEGER_FORMAT,
				         json_integer_value(json_object_get(audit, "seq")));
		} else if (answer != NULL) {
			err_msg = json_string_value(
			    json_object_get(json_object_get(answer, "error"), "message"));
		}
		f[0] = rowtxt;
		f[1] = case_ref;
		f[2] = st;
		f[3] = json_string_value(json_object_get(answer, "check_id"));
		f[4] = json_string_value(json_object_get(answer, "outcome"));
		f[5] = ncand;
		f[6] = json_string_value(json_object_get(best, "offender_id"));
		f[7] = json_string_value(json_object_get(best, "band"));
		f[8] = score;
		f[9] = seq;
		f[10] = json_string_value(json_object_get(audit, "hash"));
		f[11] = err_msg;
		if (status >= 200 && status < 300)
			f[12] = json_is_true(json_object_get(answer, "more_candidates")) ? "true" : "false";
		line = csv_format(f, b->out_cols);
	}
	if (line == NULL) {
		ctl_err("out of memory");
		return EXIT_FAILURE_LOCAL;
	}
	rc = write_line(b, line);
	free(line);
	return rc;
}

/* Runs the check of one row; returns EXIT_OK, EXIT_REFUSED (row written
 * with the reason) or a code that stops the batch. */
static int run_row(struct ctl *c, struct batch *b, size_t row)
{
	const struct csv_record *r = &b->rows[row - 1];
	struct check_input in = {0};
	struct https_body hb = {.content_type = "application/json"};
	struct https_response resp;
	char msg[256] = "";
	json_t *body, *fields, *answer;
	char *text;
	int rc;

	/* A comma left unquoted shifts every later column: the family name
	 * would be read from the wrong field and the wrong person checked. */
	if (r->n != b->n_cols) {
		snprintf(
		    msg, sizeof(msg),
		    "line %zu: %zu fields where the header has %zu (quote a field that holds a "
		    "comma); not sent",
		    r->line, r->n, b->n_cols);
		rc = write_result(b, row, 0, NULL, msg);
		return rc == EXIT_OK ? EXIT_REFUSED : rc;
	}
	in.case_ref = cell(b, r, COL_CASE_REF);
	in.purpose = cell(b, r, COL_PURPOSE);
	in.justification = cell(b, r, COL_JUSTIFICATION);
	in.family = cell(b, r, COL_FAMILY);
	in.given = cell(b, r, COL_GIVEN);
	in.middle = cell(b, r, COL_MIDDLE);
	in.dob = cell(b, r, COL_DOB);
	in.age = cell(b, r, COL_AGE);
	in.postcode = cell(b, r, COL_POSTCODE);
	in.sex = cell(b, r, COL_SEX);
	for (size_t i = 0; i < b->n_alias; i++) {
		int k = b->alias_col[i];

		if ((size_t)k < r->n && r->fields[k][0] != '\0')
			in.aliases[in.n_aliases++] = r->fields[k];
	}
	if (in.case_ref == NULL || in.purpose == NULL || in.justification == NULL ||
	    in.family == NULL) {
		snprintf(msg, sizeof(msg),
		         "line %zu: case_ref, purpose, justification and family "
		         "are required",
		         r->line);
		rc = write_result(b, row, 0, NULL, msg);
		return rc == EXIT_OK ? EXIT_REFUSED : rc;
	}
	body = check_body_new(&in, msg, sizeof(msg));
	if (body == NULL) {
		char full[320];

		snprintf(full, sizeof(full), "line %zu: %s", r->line, msg);
		rc = write_result(b, row, 0, NULL, full);
		return rc == EXIT_OK ? EXIT_REFUSED : rc;
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		ctl_err("out of memory");
		return EXIT_FAILURE_LOCAL;
	}
	hb.data = text;
	hb.len = strlen(text);
	fields = json_pack("{s:s, s:s, s:I}", "case_ref", in.case_ref, "purpose", in.purpose,
	                   "batch_row", (json_int_t)row);
	rc = ctl_request_keep(c, "POST", "/v1/checks", &hb, fields, 0, &resp);
	json_decref(fields);
	free(text);
	if (rc != EXIT_OK && rc != EXIT_REFUSED)
		return rc;
	answer = json_loadb((const char *)resp.body, resp.len, 0, NULL);
	if (rc == EXIT_OK && answer == NULL) {
		https_response_release(&resp);
		ctl_err("row %zu: the server's answer is not JSON", row);
		return EXIT_UNREACHABLE;
	}
	if (rc == EXIT_REFUSED)
		snprintf(msg, sizeof(msg), "HTTP %d", resp.status);
	{
		int wr = write_result(b, row, resp.status, answer, rc == EXIT_OK ? NULL : msg);

		if (wr != EXIT_OK)
			rc = wr;
	}
	json_decref(answer);
	https_response_release(&resp);
	return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int cmd_batch(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"format", required_argument, NULL, 'F'},
	    CTL_GLOBAL_OPTIONS,
	};
	struct batch b = {.out_fd = -1, .out_cols = OUT_COLS};
	const char *format = NULL;
	struct progress bar;
	struct sigaction sa = {0}, old_int, old_term;
	size_t answered = 0, refused = 0, resumed;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf(batch_help, ctl_global_help);
			return EXIT_OK;
		case 'o':
			b.out_path = optarg;
			break;
		case 'F':
			format = optarg;
			break;
		case '?':
			return ctl_usage_error("batch", "unknown option or missing value: %s",
			                       argv[optind - 1]);
		default:
			rc = ctl_global_option(c, ch, optarg);
			if (rc != EXIT_OK)
				return rc;
		}
	}
	if (argc - optind != 1)
		return ctl_usage_error("batch", "give exactly one input FILE.csv");
	if (b.out_path == NULL)
		return ctl_usage_error("batch", "-o OUT is required (it is also what makes a "
		                                "rerun resume)");
	b.in_path = argv[optind];
	if (format == NULL)
		b.format = ends_with(b.out_path, ".ndjson") || ends_with(b.out_path, ".jsonl")
		               ? FORMAT_NDJSON
		               : FORMAT_CSV;
	else if (strcmp(format, "csv") == 0)
		b.format = FORMAT_CSV;
	else if (strcmp(format, "ndjson") == 0)
		b.format = FORMAT_NDJSON;
	else
		return ctl_usage_error("batch", "--format %s: use csv or ndjson", format);

	rc = read_input(&b);
	if (rc == EXIT_OK)
		rc = open_output(&b);
	if (rc != EXIT_OK)
		goto out;
	resumed = b.n_done;
	for (size_t i = 0; i < b.n_rows; i++)
		b.n_unsent_before += b.unsent[i] && !b.done[i];
	if (resumed > 0)
		fprintf(stderr, "disclosurectl: resuming: %zu of %zu rows already answered in %s\n",
		        resumed, b.n_rows, b.out_path);
	if (b.n_unsent_before > 0)
		fprintf(stderr,
		        "disclosurectl: %zu rows an earlier run could not send are tried again\n",
		        b.n_unsent_before);

	/* Ctrl-C finishes the row in flight, so OUT stays consistent. */
	sa.sa_handler = on_interrupt;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	progress_init(&bar, c->stderr_tty, "batch", b.n_rows);
	progress_update(&bar, b.n_done);
	for (size_t i = 0; i < b.n_rows && rc == EXIT_OK; i++) {
		int r;

		if (b.done[i])
			continue;
		if (interrupted)
			break;
		r = run_row(c, &b, i + 1);
		if (r == EXIT_OK || r == EXIT_REFUSED) {
			b.done[i] = true;
			b.n_done++;
			answered++;
			if (r == EXIT_REFUSED)
				refused++;
		} else {
			rc = r;
		}
		progress_update(&bar, b.n_done);
	}
	progress_finish(&bar);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);

	printf("batch %s: %zu rows; %zu answered now (%zu refused), %zu answered before; "
	       "results in %s\n",
	       b.in_path, b.n_rows, answered, refused, resumed, b.out_path);
	if (rc != EXIT_OK) {
		fprintf(stderr,
		        "disclosurectl: batch stopped at row %zu of %zu; run the same "
		        "command again to resume\n",
		        b.n_done + 1, b.n_rows);
	} else if (interrupted) {
		fprintf(stderr,
		        "disclosurectl: interrupted after %zu of %zu rows; run the same "
		        "command again to resume\n",
		        b.n_done, b.n_rows);
		rc = EXIT_FAILURE_LOCAL;
	} else if (refused + b.n_refused_before > 0) {
		fprintf(stderr, "disclosurectl: rows refused: %zu; see their error in %s\n",
		        refused + b.n_refused_before, b.out_path);
		rc = EXIT_REFUSED;
	}
out:
	if (b.out_fd >= 0)
		close(b.out_fd);
	for (size_t i = 0; i < b.n_rows; i++)
		csv_record_release(&b.rows[i]);
	free(b.rows);
	free(b.done);
	free(b.unsent);
	return rc;
}
