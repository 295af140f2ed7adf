/*
 * cmd_import.c - `disclosurectl import FILE.jsonl`: bulk import of
 * offender records (POST /v1/offenders/_bulk, role registrar).
 *
 * The file is streamed from disk with its size as Content-Length, so a
 * file of hundreds of MB never sits in memory; a progress bar runs on a
 * terminal.  The server validates every line; the summary repeats its
 * words for each rejected line with the start of the line itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"

#define IMPORT_MAX_BYTES (256ull << 20) /* contract.md: up to 256 MiB a request */
#define IMPORT_MIN_WAIT 600             /* seconds the server may take to apply a big file */

static const char import_help[] =
    "usage: disclosurectl import FILE.jsonl [--json]\n"
    "\n"
    "Bulk import of offender records (POST /v1/offenders/_bulk; role registrar):\n"
    "FILE holds one record a line in the import format of the contract (up to 256\n"
    "MiB). It is streamed from disk, with a progress bar when stderr is a terminal.\n"
    "All valid lines are applied; the summary says how many records were created and\n"
    "replaced, then lists every rejected line with the server's reason.\n"
    "The answer may take a while for a large file: it waits at least 600 s\n"
    "(or --timeout, if longer).\n"
    "\n"
    "  --json   print the server's JSON answer instead of the summary\n"
    "\n"
    "%s"
    "\n"
    "Exit codes: 0 every line applied; 1 some lines rejected (listed), or FILE cannot\n"
    "be read; 2 usage; 3 refused by the server (403 not a registrar, 413 too large);\n"
    "4 server unreachable, TLS failure or 5xx.\n";

struct upload {
	int fd;
	const char *path;
	uint64_t sent, size;
	struct progress bar;
	bool local_error;
};

static int upload_read(void *arg, unsigned char *buf, size_t cap, size_t *n, struct dsc_error *err)
{
	struct upload *u = arg;
	ssize_t r;

	do
		r = read(u->fd, buf, cap);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		u->local_error = true;
		return dsc_error_set(err, DSC_EIO, "cannot read %s: %s", u->path, strerror(errno));
	}
	*n = (size_t)r;
	u->sent += (uint64_t)r;
	progress_update(&u->bar, u->sent);
	if (r == 0 && u->bar.enabled) {
		/* Applying a large file takes the server a while: say so. */
		progress_finish(&u->bar);
		fprintf(stderr, "import: sent; waiting for the server to apply the records...\n");
	}
	return DSC_OK;
}

struct rejected_line {
	json_int_t line;
	const char *error;
};

static int rejected_cmp(const void *a, const void *b)
{
	json_int_t x = ((const struct rejected_line *)a)->line;
	json_int_t y = ((const struct rejected_line *)b)->line;

	return (x > y) - (x < y);
}

/* Each rejected line: the server's reason, then the start of the line
 * itself (read from the file once more, in one pass). */
static void print_rejected(const char *path, json_t *rejected)
{
	size_t n = json_array_size(rejected), k = 0, cap = 0;
	struct rejected_line *r = calloc(n ? n : 1, sizeof(*r));
	json_int_t lineno = 0;
	char *line = NULL;
	FILE *f;

	if (r == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		json_t *item = json_array_get(rejected, i);

		r[i].line = json_integer_value(json_object_get(item, "line"));
		r[i].error = json_string_value(json_object_get(item, "error"));
		if (r[i].error == NULL)
			r[i].error = "(no reason given)";
	}
	qsort(r, n, sizeof(*r), rejected_cmp);
	f = fopen(path, "re");
	while (k < n) {
		bool have = false;

		while (f != NULL && lineno < r[k].line && getline(&line, &cap, f) >= 0)
			lineno++;
		have = f != NULL && lineno == r[k].line && line != NULL;
		printf("  line %" JSON_INTEGER_FORMAT ": %s\n", r[k].line, r[k].error);
		if (have) {
			line[strcspn(line, "\r\n")] = '\0';
			printf("      %.100s%s\n", line, strlen(line) > 100 ? "..." : "");
		}
		k++;
	}
	free(line);
	if (f != NULL)
		fclose(f);
	free(r);
}

int cmd_import(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'J'},
	    CTL_GLOBAL_OPTIONS,
	};
	struct upload u = {.fd = -1};
	struct https_body hb = {.content_type = "application/x-ndjson"};
	struct https_response resp;
	struct stat st;
	bool json_out = false;
	json_t *j, *rejected, *fields;
	int ch, rc, wait_s;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf(import_help, ctl_global_help);
			return EXIT_OK;
		case 'J':
			json_out = true;
			break;
		case '?':
			return ctl_usage_error("import", "unknown option or missing value: %s",
			                       argv[optind - 1]);
		default:
			rc = ctl_global_option(c, ch, optarg);
			if (rc != EXIT_OK)
				return rc;
		}
	}
	if (argc - optind != 1)
		return ctl_usage_error("import", "give exactly one FILE.jsonl");
	u.path = argv[optind];
	u.fd = open(u.path, O_RDONLY | O_CLOEXEC);
	if (u.fd < 0) {
		ctl_err("cannot open %s: %s", u.path, strerror(errno));
		return EXIT_FAILURE_LOCAL;
	}
	if (fstat(u.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		ctl_err("%s is not a regular file (its size must be known before sending)", u.path);
		close(u.fd);
		return EXIT_FAILURE_LOCAL;
	}
	if ((uint64_t)st.st_size > IMPORT_MAX_BYTES)
		ctl_warn("%s is %" PRIu64 " MiB; the server accepts up to 256 MiB a request: "
		         "split the file at line boundaries",
		         u.path, (uint64_t)st.st_size >> 20);
	u.size = (uint64_t)st.st_size;
	hb.len = (size_t)st.st_size;
	hb.read = upload_read;
	hb.arg = &u;
	progress_init(&u.bar, c->stderr_tty, "import", u.size);
	wait_s = c->flag_timeout > IMPORT_MIN_WAIT ? c->flag_timeout : IMPORT_MIN_WAIT;
	fields = json_pack("{s:s}", "file", u.path);
	rc = ctl_request(c, "POST", "/v1/offenders/_bulk", &hb, fields, wait_s, &resp);
	json_decref(fields);
	progress_finish(&u.bar);
	close(u.fd);
	if (rc != EXIT_OK)
		return u.local_error ? EXIT_FAILURE_LOCAL : rc;
	if (json_out) {
		ctl_print_body(&resp);
		j = json_loadb((const char *)resp.body, resp.len, 0, NULL);
		https_response_release(&resp);
		rc = json_array_size(json_object_get(j, "rejected")) > 0 ? EXIT_FAILURE_LOCAL
		                                                         : EXIT_OK;
		json_decref(j);
		return rc;
	}
	j = ctl_response_json(&resp, "import");
	https_response_release(&resp);
	if (j == NULL)
		return EXIT_UNREACHABLE;
	rejected = json_object_get(j, "rejected");
	printf("Imported %s: created %" JSON_INTEGER_FORMAT ", replaced %" JSON_INTEGER_FORMAT
	       ", rejected %zu\n",
	       u.path, json_integer_value(json_object_get(j, "created")),
	       json_integer_value(json_object_get(j, "replaced")), json_array_size(rejected));
	if (json_array_size(rejected) > 0) {
		printf("Rejected lines:\n");
		print_rejected(u.path, rejected);
	}
	print_receipt(stdout, json_object_get(j, "audit"));
	rc = json_array_size(rejected) > 0 ? EXIT_FAILURE_LOCAL : EXIT_OK;
	json_decref(j);
	return rc;
}
