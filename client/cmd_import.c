/*
 * cmd_import.c - `disclosurectl import FILE.jsonl`: bulk import of
 * offender records (POST /v1/offenders/_bulk, role registrar).
 *
 * The file is streamed from disk with its size as Content-Length, so a
 * file of hundreds of MB never sits in memory; a progress bar runs on a
 * terminal.  A file larger than one request may carry (256 MiB) is sent
 * in parts cut at line ends, and the server's line numbers are turned
 * back into the file's.  The server validates every line; the summary
 * repeats its words for each rejected line with the start of the line.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"

#define IMPORT_PART_MAX (256ull << 20) /* contract.md: up to 256 MiB a request */
#define IMPORT_MIN_WAIT 600            /* seconds the server may take to apply a big file */

static const char import_help[] =
    "usage: disclosurectl import FILE.jsonl [--json]\n"
    "\n"
    "Bulk import of offender records (POST /v1/offenders/_bulk; role registrar):\n"
    "FILE holds one record a line in the import format of the contract. It is\n"
    "streamed from disk, with a progress bar when stderr is a terminal; a file over\n"
    "256 MiB (the most one request may carry) is sent in parts cut at line ends;\n"
    "DISCLOSURECTL_IMPORT_PART_MAX=BYTES makes the parts smaller, for a server whose\n"
    "max_bulk_body is lower. Line numbers always count from the start of FILE.\n"
    "All valid lines are applied; the summary says how many records were created and\n"
    "replaced, then lists every rejected line with the server's reason.\n"
    "The answer may take a while for a large file: it waits at least 600 s\n"
    "(or --timeout, if longer).\n"
    "\n"
    "  --json   print the server's JSON answer instead of the summary (for a file sent\n"
    "           in parts, the parts' answers added up, with \"parts\": N)\n"
    "\n"
    "%s"
    "\n"
    "Exit codes: 0 every line applied; 1 some lines rejected (listed), or FILE cannot\n"
    "be read; 2 usage; 3 refused by the server (403 not a registrar, 413 too large);\n"
    "4 server unreachable, TLS failure or 5xx.\n";

struct upload {
	int fd;
	const char *path;
	uint64_t size;
	uint64_t part_start, part_end, pos; /* byte offsets in the file */
	uint64_t part_lines;                /* line ends sent in this part */
	uint64_t part_max;                  /* bytes a request may carry */
	struct progress bar;
	bool local_error;
};

static int upload_read(void *arg, unsigned char *buf, size_t cap, size_t *n, struct dsc_error *err)
{
	struct upload *u = arg;
	uint64_t left = u->part_end - u->pos;
	ssize_t r;

	if (cap > left)
		cap = (size_t)left;
	do
		r = cap > 0 ? pread(u->fd, buf, cap, (off_t)u->pos) : 0;
	while (r < 0 && errno == EINTR);
	if (r < 0 || (r == 0 && cap > 0)) {
		u->local_error = true;
		return dsc_error_set(err, DSC_EIO, "cannot read %s: %s", u->path,
		                     r < 0 ? strerror(errno) : "the file shrank while being sent");
	}
	for (unsigned char *p = buf, *end = buf + r; (p = memchr(p, '\n', (size_t)(end - p)));)
		p++, u->part_lines++;
	*n = (size_t)r;
	u->pos += (uint64_t)r;
	progress_update(&u->bar, u->pos);
	if (u->pos == u->size && u->bar.enabled && !u->bar.finished) {
		/* Applying a large file takes the server a while: say so. */
		progress_finish(&u->bar);
		fprintf(stderr, "import: sent; waiting for the server to apply the records...\n");
	}
	return DSC_OK;
}

/* The end of the part that starts at start: the file's end, or just after
 * the last line end within IMPORT_PART_MAX bytes. */
static int part_end(struct upload *u, uint64_t start, uint64_t *end)
{
	unsigned char buf[65536];
	uint64_t hi;

	if (u->size - start <= u->part_max) {
		*end = u->size;
		return EXIT_OK;
	}
	hi = start + u->part_max;
	while (hi > start) {
		size_t len = hi - start > sizeof(buf) ? sizeof(buf) : (size_t)(hi - start);
		ssize_t r = pread(u->fd, buf, len, (off_t)(hi - len));
		unsigned char *nl;

		if (r != (ssize_t)len) {
			ctl_err("cannot read %s: %s", u->path,
			        r < 0 ? strerror(errno) : "short read");
			return EXIT_FAILURE_LOCAL;
		}
		nl = memrchr(buf, '\n', len);
		if (nl != NULL) {
			*end = hi - len + (uint64_t)(nl - buf) + 1;
			return EXIT_OK;
		}
		hi -= len;
	}
	ctl_err("%s: the line starting at byte %" PRIu64 " is longer than %" PRIu64 " bytes, more "
	        "than one request may carry",
	        u->path, start, u->part_max);
	return EXIT_FAILURE_LOCAL;
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

/* total[key] += part[key] */
static void add_count(json_t *total, json_t *part, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(total, key)) +
	               json_integer_value(json_object_get(part, key));

	json_object_set_new(total, key, json_integer(v));
}

/* The server lists at most some rejected lines; its count covers them all. */
static json_int_t rejected_count(json_t *part)
{
	json_t *n = json_object_get(part, "rejected_count");

	return json_is_integer(n) ? json_integer_value(n)
	                          : (json_int_t)json_array_size(json_object_get(part, "rejected"));
}

int cmd_import(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'J'},
	    CTL_GLOBAL_OPTIONS,
	};
	struct upload u = {.fd = -1};
	struct https_body hb;
	struct https_response resp;
	struct stat st;
	bool json_out = false;
	json_t *total;
	json_int_t n_rejected;
	uint64_t lines_before = 0;
	size_t parts = 0;
	const char *env;
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
	u.size = (uint64_t)st.st_size;
	u.part_max = IMPORT_PART_MAX;
	if ((env = getenv("DISCLOSURECTL_IMPORT_PART_MAX")) != NULL && env[0] != '\0') {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(env, &end, 10);
		if (errno != 0 || *end != '\0' || v < 1024 || v > IMPORT_PART_MAX) {
			close(u.fd);
			return ctl_usage_error("import",
			                       "DISCLOSURECTL_IMPORT_PART_MAX=%s: not a number of "
			                       "bytes from 1024 to %llu",
			                       env, IMPORT_PART_MAX);
		}
		u.part_max = v;
	}
	progress_init(&u.bar, c->stderr_tty, "import", u.size);
	wait_s = c->flag_timeout > IMPORT_MIN_WAIT ? c->flag_timeout : IMPORT_MIN_WAIT;
	total = json_pack("{s:I, s:I, s:[], s:I}", "created", (json_int_t)0, "replaced",
	                  (json_int_t)0, "rejected", "rejected_count", (json_int_t)0);
	if (total == NULL) {
		close(u.fd);
		ctl_err("out of memory");
		return EXIT_FAILURE_LOCAL;
	}
	rc = EXIT_OK;
	do {
		json_t *fields, *part, *item;
		size_t i;

		rc = part_end(&u, u.part_start, &u.part_end);
		if (rc != EXIT_OK)
			break;
		u.pos = u.part_start;
		u.part_lines = 0;
		hb = (struct https_body){.content_type = "application/x-ndjson",
		                         .len = (size_t)(u.part_end - u.part_start),
		                         .read = upload_read,
		                         .arg = &u};
		fields =
		    json_pack("{s:s, s:I, s:I}", "file", u.path, "from_byte",
		              (json_int_t)u.part_start, "from_line", (json_int_t)lines_before + 1);
		rc = ctl_request(c, "POST", "/v1/offenders/_bulk", &hb, fields, wait_s, &resp);
		json_decref(fields);
		if (rc != EXIT_OK) {
			if (u.local_error)
				rc = EXIT_FAILURE_LOCAL;
			break;
		}
		parts++;
		if (json_out && u.part_start == 0 && u.part_end == u.size) {
			/* One request: the server's own answer, byte for byte. */
			progress_finish(&u.bar);
			part = ctl_response_json(&resp, "import");
			if (part != NULL)
				ctl_print_body(&resp);
			https_response_release(&resp);
			rc = part == NULL                                             ? EXIT_UNREACHABLE
			     : json_array_size(json_object_get(part, "rejected")) > 0 ? EXIT_FAILURE_LOCAL
										      : EXIT_OK;
			json_decref(part);
			json_decref(total);
			close(u.fd);
			return rc;
		}
		part = ctl_response_json(&resp, "import");
		https_response_release(&resp);
		if (part == NULL) {
			rc = EXIT_UNREACHABLE;
			break;
		}
		add_count(total, part, "created");
		add_count(total, part, "replaced");
		json_array_foreach(json_object_get(part, "rejected"), i, item)
		{
			json_t *line = json_object_get(item, "line");
			json_t *copy = json_deep_copy(item);

			if (copy == NULL)
				continue;
			if (json_is_integer(line))
				json_object_set_new(copy, "line",
				                    json_integer(json_integer_value(line) +
				                                 (json_int_t)lines_before));
			json_array_append_new(json_object_get(total, "rejected"), copy);
		}
		json_object_set_new(
		    total, "rejected_count",
		    json_integer(json_integer_value(json_object_get(total, "rejected_count")) +
		                 rejected_count(part)));
		if (json_is_object(json_object_get(part, "audit")))
			json_object_set(total, "audit", json_object_get(part, "audit"));
		json_decref(part);
		lines_before += u.part_lines;
		u.part_start = u.part_end;
	} while (u.part_start < u.size);
	progress_finish(&u.bar);
	close(u.fd);
	if (rc != EXIT_OK && parts > 0)
		fprintf(stderr,
		        "disclosurectl: import stopped: lines 1-%" PRIu64 " of %s were sent and "
		        "applied (%zu part%s), the rest was not\n",
		        lines_before, u.path, parts, parts == 1 ? "" : "s");
	if (rc != EXIT_OK && parts == 0) {
		json_decref(total);
		return rc;
	}
	if (parts > 1)
		json_object_set_new(total, "parts", json_integer((json_int_t)parts));
	n_rejected = (json_int_t)json_integer_value(json_object_get(total, "rejected_count"));
	if (json_out) {
		char *text = json_dumps(total, JSON_COMPACT);

		if (text != NULL)
			puts(text);
		free(text);
	} else {
		json_t *rejected = json_object_get(total, "rejected");

		printf("Imported %s: created %" JSON_INTEGER_FORMAT
		       ", replaced %" JSON_INTEGER_FORMAT ", rejected %" JSON_INTEGER_FORMAT "%s\n",
		       u.path, json_integer_value(json_object_get(total, "created")),
		       json_integer_value(json_object_get(total, "replaced")), n_rejected,
		       parts > 1 ? " (sent in parts)" : "");
		if (json_array_size(rejected) > 0) {
			if ((json_int_t)json_array_size(rejected) < n_rejected)
				printf("Rejected lines (the first %zu the server listed):\n",
				       json_array_size(rejected));
			else
				printf("Rejected lines:\n");
			print_rejected(u.path, rejected);
		}
		print_receipt(stdout, json_object_get(total, "audit"));
	}
	json_decref(total);
	if (rc != EXIT_OK)
		return rc;
	return n_rejected > 0 ? EXIT_FAILURE_LOCAL : EXIT_OK;
}
