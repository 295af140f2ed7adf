/*
 * cmd_log.c - `disclosurectl log`: the local request log as a table, one
 * row a request (its "sent" record joined with its answer by id), or the
 * raw NDJSON with --json.  Reads the file only; never contacts the server.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static const char log_help[] =
    "usage: disclosurectl log [--last N] [--json]\n"
    "\n"
    "Lists this client's request log (--log FILE, default\n"
    "$XDG_STATE_HOME/disclosurectl/requests.log): one row a request with its time,\n"
    "id, command, method and path, the HTTP status (or why it failed, or \"-\" if no\n"
    "answer was recorded) and the audit receipt (seq and start of the hash).\n"
    "Never contacts the server.\n"
    "\n"
    "  --last N   only the newest N requests\n"
    "  --json     print the log's NDJSON records as they are (with --last N,\n"
    "             those of the newest N requests)\n"
    "\n"
    "%s"
    "\n"
    "Exit codes: 0 listed (also when the log does not exist yet); 1 the log cannot\n"
    "be read; 2 usage.\n";

struct log_row {
	char id[REQLOG_ID_LEN + 1];
	size_t line; /* of its "sent" record */
	char time[32], command[24], method[8], path[160], outcome[96], receipt[48];
};

struct log_list {
	struct log_row *rows;
	size_t n, cap;
	const char *path;
	bool raw;
	unsigned long last;
	int bad_lines;
	/* --json --last N: the ids of the newest N requests, sorted, and the
	 * line of the first one's "sent" record. */
	const char **keep;
	size_t n_keep, keep_from;
};

static void copy(char *dst, size_t cap, json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));

	snprintf(dst, cap, "%s", s != NULL ? s : "");
}

static struct log_row *find(struct log_list *l, const char *id)
{
	/* Answers follow their request closely: search from the end. */
	for (size_t i = l->n; i > 0; i--)
		if (strcmp(l->rows[i - 1].id, id) == 0)
			return &l->rows[i - 1];
	return NULL;
}

static int collect(void *arg, json_t *rec, size_t lineno)
{
	struct log_list *l = arg;
	const char *state, *id;
	struct log_row *r;

	if (rec == NULL) {
		if (!l->raw) /* else said by print_raw, if of the newest N */
			ctl_warn("%s:%zu: not a JSON record (a line cut short?)", l->path, lineno);
		l->bad_lines++;
		return DSC_OK;
	}
	state = json_string_value(json_object_get(rec, "state"));
	id = json_string_value(json_object_get(rec, "id"));
	if (state == NULL || id == NULL)
		return DSC_OK;
	if (strcmp(state, "sent") == 0) {
		if (l->n == l->cap) {
			size_t ncap = l->cap ? l->cap * 2 : 256;
			struct log_row *nr = realloc(l->rows, ncap * sizeof(*nr));

			if (nr == NULL)
				return DSC_ENOMEM;
			l->rows = nr;
			l->cap = ncap;
		}
		r = &l->rows[l->n++];
		memset(r, 0, sizeof(*r));
		snprintf(r->id, sizeof(r->id), "%s", id);
		r->line = lineno;
		copy(r->time, sizeof(r->time), rec, "time");
		copy(r->command, sizeof(r->command), rec, "command");
		copy(r->method, sizeof(r->method), rec, "method");
		copy(r->path, sizeof(r->path), rec, "path");
		snprintf(r->outcome, sizeof(r->outcome), "-");
		return DSC_OK;
	}
	r = find(l, id);
	if (r == NULL)
		return DSC_OK;
	if (strcmp(state, "answered") == 0) {
		json_t *rc = json_object_get(rec, "receipt");
		json_t *seq = json_object_get(rc, "seq");
		const char *hash = json_string_value(json_object_get(rc, "hash"));

		snprintf(r->outcome, sizeof(r->outcome), "%" JSON_INTEGER_FORMAT,
		         json_integer_value(json_object_get(rec, "status")));
		if (json_is_integer(seq))
			snprintf(r->receipt, sizeof(r->receipt), "%" JSON_INTEGER_FORMAT " %.12s",
			         json_integer_value(seq), hash ? hash : "");
	} else if (strcmp(state, "failed") == 0) {
		snprintf(r->outcome, sizeof(r->outcome), "failed: %.80s",
		         json_string_value(json_object_get(rec, "error")) ?: "");
	}
	return DSC_OK;
}

static int id_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int print_raw(void *arg, json_t *rec, size_t lineno)
{
	struct log_list *l = arg;
	char *s;

	if (rec == NULL) {
		if (l->keep == NULL || lineno >= l->keep_from)
			ctl_warn("%s:%zu: not a JSON record (a line cut short?)", l->path, lineno);
		return DSC_OK;
	}
	if (l->keep != NULL) {
		const char *id = json_string_value(json_object_get(rec, "id"));

		if (lineno < l->keep_from || id == NULL ||
		    bsearch(&id, l->keep, l->n_keep, sizeof(*l->keep), id_cmp) == NULL)
			return DSC_OK; /* another request's record */
	}
	s = json_dumps(rec, JSON_COMPACT);
	if (s == NULL)
		return DSC_ENOMEM;
	puts(s);
	free(s);
	return DSC_OK;
}

int cmd_log(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"last", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'J'},
	    CTL_GLOBAL_OPTIONS,
	};
	struct log_list l = {0};
	struct dsc_error err;
	char path[PATH_MAX];
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hn:", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf(log_help, ctl_global_help);
			return EXIT_OK;
		case 'J':
			l.raw = true;
			break;
		case 'n': {
			char *end;

			errno = 0;
			l.last = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || l.last == 0)
				return ctl_usage_error("log", "--last %s: not a positive number",
				                       optarg);
			break;
		}
		case '?':
			return ctl_usage_error("log", "unknown option or missing value: %s",
			                       argv[optind - 1]);
		default:
			rc = ctl_global_option(c, ch, optarg);
			if (rc != EXIT_OK)
				return rc;
		}
	}
	if (optind < argc)
		return ctl_usage_error("log", "unexpected argument '%s'", argv[optind]);
	rc = ctl_log_path(c, path, sizeof(path));
	if (rc != EXIT_OK)
		return rc;
	l.path = path;
	dsc_error_clear(&err);
	/* --json --last N reads the log twice: which requests, then their
	 * records. */
	rc = reqlog_each(path, l.raw && l.last == 0 ? print_raw : collect, &l, &err);
	if (rc == DSC_OK && l.raw && l.last != 0 && l.n > 0) {
		size_t from = l.last < l.n ? l.n - l.last : 0;

		l.n_keep = l.n - from;
		l.keep_from = l.rows[from].line;
		if ((l.keep = malloc(l.n_keep * sizeof(*l.keep))) == NULL) {
			rc = DSC_ENOMEM;
		} else {
			for (size_t i = 0; i < l.n_keep; i++)
				l.keep[i] = l.rows[from + i].id;
			qsort(l.keep, l.n_keep, sizeof(*l.keep), id_cmp);
			rc = reqlog_each(path, print_raw, &l, &err);
		}
	}
	if (rc == DSC_ENOTFOUND) {
		fprintf(stderr, "disclosurectl: no requests logged yet (%s does not exist)\n",
		        path);
		return EXIT_OK;
	}
	if (rc != DSC_OK) {
		ctl_err("%s", err.msg[0] ? err.msg : "out of memory reading the request log");
		free(l.keep);
		free(l.rows);
		return EXIT_FAILURE_LOCAL;
	}
	if (!l.raw) {
		size_t from = l.last && l.last < l.n ? l.n - l.last : 0;
		int w = 7; /* strlen("REQUEST") */

		for (size_t i = from; i < l.n; i++) {
			int n = (int)(strlen(l.rows[i].method) + 1 + strlen(l.rows[i].path));

			if (n > w)
				w = n;
		}
		printf("%-24s  %-16s  %-12s  %-*s  %-6s  %s\n", "TIME", "ID", "COMMAND", w,
		       "REQUEST", "STATUS", "RECEIPT");
		for (size_t i = from; i < l.n; i++) {
			struct log_row *r = &l.rows[i];
			char req[200];

			snprintf(req, sizeof(req), "%s %s", r->method, r->path);
			printf("%-24s  %-16s  %-12s  %-*s  %-6s  %s\n", r->time, r->id, r->command,
			       w, req, r->outcome, r->receipt);
		}
	}
	free(l.keep);
	free(l.rows);
	return EXIT_OK;
}
