/*
 * cmd_audit.c - `disclosurectl audit export` and `audit verify`.
 *
 * export pages through GET /v1/audit and writes every line exactly as the
 * server sent it (a changed byte would break the hash chain the auditor
 * verifies), to FILE.partial first, then fsync and rename: a FILE that
 * exists is a complete export.
 *
 * verify needs nothing but the export and the public key (and, with
 * --receipts, this client's request log): it never contacts the server,
 * and exits 0 only when lib/audit.c says every hash, link, signature and
 * receipt holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "disclosure/audit.h"
#include "client.h"

#define EXPORT_PAGE_MAX 10000

static const char audit_help[] =
    "usage: disclosurectl audit export [--from SEQ] [--limit N] [-o FILE]\n"
    "       disclosurectl audit verify FILE --key PUBKEY [--key PUBKEY...] [--receipts LOG]\n"
    "                                   [--allow-unsealed]\n"
    "       disclosurectl audit find FILE [--record ID] [--principal P] [--case REF] ...\n"
    "                                   (audit find --help says more)\n"
    "\n"
    "audit export (role auditor) fetches the audit log from seq SEQ (default 0) to\n"
    "the newest entry, paging through GET /v1/audit (N entries a page, default and\n"
    "at most 10000), and writes the NDJSON lines exactly as received to FILE (written\n"
    "as FILE.partial, flushed to disk, then renamed) or to standard output. A complete\n"
    "export ends with a checkpoint the server signs over all entries before it.\n"
    "\n"
    "  --from SEQ         first entry to fetch (default 0; verify needs a whole log)\n"
    "  --limit N          entries per page (2-10000, default 10000)\n"
    "  -o, --output FILE  write to FILE instead of standard output\n"
    "\n"
    "audit verify checks an export offline, with nothing but the file and the\n"
    "server's Ed25519 public key: every line parses, seq runs 0, 1, 2... without\n"
    "gaps, every prev links, every hash holds, every checkpoint's size, head and\n"
    "signature hold, and the file ends with a checkpoint covering all entries.\n"
    "On failure it prints \"audit verify: FAILED at seq N: <why>\" naming the first\n"
    "bad entry.\n"
    "\n"
    "  --key PUBKEY       the audit public key (PEM), e.g. audit-public.pem; after a\n"
    "                     key rotation, every key the log used, oldest first (each\n"
    "                     must sign a checkpoint, and never after a newer one)\n"
    "  --receipts LOG     also prove that every audit receipt in the request log LOG\n"
    "                     (as written by this client) is in the export with the same\n"
    "                     hash: a rewritten or truncated server log is caught; if\n"
    "                     LOG holds requests to several servers, --server URL says\n"
    "                     whose receipts to prove (the export's server)\n"
    "  --allow-unsealed   accept entries after the last checkpoint\n"
    "\n"
    "%s"
    "\n"
    "Exit codes: 0 exported / verified; 1 verification failed, or a local file cannot\n"
    "be read or written; 2 usage; 3 refused by the server (403: not an auditor);\n"
    "4 server unreachable, TLS failure or 5xx.\n";

/* The seq of an audit line: fast path for {"seq":N,...}, else parse it. */
static int line_seq(const char *line, size_t len, int64_t *seq)
{
	static const char prefix[] = "{\"seq\":";
	json_t *j;

	if (len > sizeof(prefix) && memcmp(line, prefix, sizeof(prefix) - 1) == 0) {
		int64_t v = 0;
		size_t i = sizeof(prefix) - 1, start = i;

		while (i < len && line[i] >= '0' && line[i] <= '9' && i - start < 18)
			v = v * 10 + (line[i++] - '0');
		if (i > start && i < len && (line[i] == ',' || line[i] == '}')) {
			*seq = v;
			return 0;
		}
	}
	j = json_loadb(line, len, 0, NULL);
	if (!json_is_integer(json_object_get(j, "seq"))) {
		json_decref(j);
		return -1;
	}
	*seq = json_integer_value(json_object_get(j, "seq"));
	json_decref(j);
	return 0;
}

static bool line_is_checkpoint(const char *line, size_t len)
{
	/* Only a hint used for paging; the verifier decides what a checkpoint is. */
	return memmem(line, len, "\"action\":\"checkpoint\"", 21) != NULL;
}

static int write_all_fd(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

struct line {
	const char *p;
	size_t len;
};

static int audit_export(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"from", required_argument, NULL, 'f'},
	    {"limit", required_argument, NULL, 'l'},
	    {"output", required_argument, NULL, 'o'},
	    CTL_GLOBAL_OPTIONS,
	};
	const char *out_path = NULL;
	char tmp_path[PATH_MAX], path[128];
	int64_t from = 0, limit = EXPORT_PAGE_MAX, first = -1, last = -1, asked;
	char *held = NULL; /* a page's final checkpoint, written only if no entry replaces it */
	size_t held_len = 0;
	uint64_t written = 0;
	struct line *lines = NULL;
	size_t lines_cap = 0;
	int ch, rc, fd = STDOUT_FILENO;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		char *end;

		switch (ch) {
		case 'h':
			printf(audit_help, ctl_global_help);
			return EXIT_OK;
		case 'f':
		case 'l': {
			long long v;

			errno = 0;
			v = strtoll(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || v < 0)
				return ctl_usage_error("audit export",
				                       "--%s %s: not a whole number of 0 or more",
				                       ch == 'f' ? "from" : "limit", optarg);
			if (ch == 'l' && (v < 2 || v > EXPORT_PAGE_MAX))
				return ctl_usage_error("audit export",
				                       "--limit %s: outside 2-%d (entries per page)",
				                       optarg, EXPORT_PAGE_MAX);
			if (ch == 'f')
				from = v;
			else
				limit = v;
			break;
		}
		case 'o':
			out_path = optarg;
			break;
		case '?':
			return ctl_usage_error("audit export",
			                       "unknown option or missing value: %s",
			                       argv[optind - 1]);
		default:
			rc = ctl_global_option(c, ch, optarg);
			if (rc != EXIT_OK)
				return rc;
		}
	}
	if (optind < argc)
		return ctl_usage_error("audit export", "unexpected argument '%s'", argv[optind]);
	c->command = "audit export";
	if (out_path != NULL) {
		if (snprintf(tmp_path, sizeof(tmp_path), "%s.partial", out_path) >=
		    (int)sizeof(tmp_path))
			return ctl_usage_error("audit export", "-o %s: path too long", out_path);
		fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			ctl_err("cannot create %s: %s", tmp_path, strerror(errno));
			return EXIT_FAILURE_LOCAL;
		}
	}

	asked = from;
	for (;;) {
		struct https_response resp;
		size_t n = 0, upto;
		json_t *fields;
		int64_t own;
		bool full, reached;

		snprintf(path, sizeof(path), "/v1/audit?from=%" PRId64 "&limit=%" PRId64, from,
		         limit);
		fields = json_pack("{s:I}", "from", (json_int_t)from);
		rc = ctl_request(c, "GET", path, NULL, fields, 120, &resp);
		json_decref(fields);
		if (rc != EXIT_OK)
			goto fail;
		/* Split into lines (the body is NUL-terminated by the client). */
		for (char *p = (char *)resp.body, *end = p + resp.len; p < end;) {
			char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

			if (len > 0 && p[len - 1] == '\r')
				len--;
			if (len > 0) {
				if (n == lines_cap) {
					size_t ncap = lines_cap ? lines_cap * 2 : 1024;
					struct line *nl2 = realloc(lines, ncap * sizeof(*nl2));

					if (nl2 == NULL) {
						https_response_release(&resp);
						ctl_err("out of memory");
						rc = EXIT_FAILURE_LOCAL;
						goto fail;
					}
					lines = nl2;
					lines_cap = ncap;
				}
				lines[n].p = p;
				lines[n].len = len;
				n++;
			}
			if (nl == NULL)
				break;
			p = nl + 1;
		}
		/* The checkpoint held back from the previous page: if this page
		 * starts with the same bytes it was stored, else a newer entry took
		 * its seq and it is dropped (it was an unstored end-of-page seal). */
		if (held != NULL) {
			if (n == 0) {
				if (write_all_fd(fd, held, held_len) != 0 ||
				    write_all_fd(fd, "\n", 1) != 0) {
					https_response_release(&resp);
					goto write_fail;
				}
				written++;
			}
			free(held);
			held = NULL;
		}
		/* The page that ends with the seal right after this very request's
		 * own entry (X-Audit-Seq) reached the newest entry: it is the last,
		 * even when it is exactly limit lines long.  Without the header, a
		 * short page is the last (contract.md). */
		own = -1;
		{
			int64_t v;

			if (ctl_seq_parse(resp.audit_seq, &v))
				own = v;
		}
		reached = false;
		if (own >= 0 && n > 0 && line_is_checkpoint(lines[n - 1].p, lines[n - 1].len)) {
			int64_t seq;

			reached =
			    line_seq(lines[n - 1].p, lines[n - 1].len, &seq) == 0 && seq == own + 1;
		}
		full = (int64_t)n >= limit && !reached;
		upto = n;
		if (full && own < 0 && n > 0 &&
		    line_is_checkpoint(lines[n - 1].p, lines[n - 1].len)) {
			held = malloc(lines[n - 1].len);
			if (held == NULL) {
				https_response_release(&resp);
				ctl_err("out of memory");
				rc = EXIT_FAILURE_LOCAL;
				goto fail;
			}
			memcpy(held, lines[n - 1].p, lines[n - 1].len);
			held_len = lines[n - 1].len;
			upto = n - 1;
		}
		for (size_t i = 0; i < upto; i++) {
			int64_t seq;

			if (line_seq(lines[i].p, lines[i].len, &seq) != 0) {
				ctl_err(
				    "GET %s: line %zu of the answer is not an audit entry: %.80s",
				    path, i + 1, lines[i].p);
				https_response_release(&resp);
				rc = EXIT_UNREACHABLE;
				goto fail;
			}
			if (first < 0)
				first = seq;
			last = seq;
			if (write_all_fd(fd, lines[i].p, lines[i].len) != 0 ||
			    write_all_fd(fd, "\n", 1) != 0) {
				https_response_release(&resp);
				goto write_fail;
			}
			written++;
		}
		if (!full) {
			https_response_release(&resp);
			break;
		}
		int64_t next;

		if (held != NULL) {
			if (line_seq(held, held_len, &next) != 0)
				next = last + 1;
		} else {
			next = last + 1;
		}
		https_response_release(&resp);
		if (next <= from && held == NULL) {
			ctl_err("the server's audit pages make no progress at from=%" PRId64, from);
			rc = EXIT_UNREACHABLE;
			goto fail;
		}
		from = next;
	}
	free(lines);
	lines = NULL;
	if (out_path != NULL) {
		char dir[PATH_MAX], *slash;
		int dfd;

		if (fsync(fd) != 0) {
			ctl_err("cannot flush %s to disk: %s", tmp_path, strerror(errno));
			rc = EXIT_FAILURE_LOCAL;
			goto fail;
		}
		if (close(fd) != 0) {
			fd = -1;
			goto write_fail;
		}
		fd = -1;
		if (rename(tmp_path, out_path) != 0) {
			ctl_err("cannot rename %s to %s: %s", tmp_path, out_path, strerror(errno));
			unlink(tmp_path);
			return EXIT_FAILURE_LOCAL;
		}
		snprintf(dir, sizeof(dir), "%s", out_path);
		slash = strrchr(dir, '/');
		if (slash != NULL)
			*slash = '\0';
		dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd); /* the rename itself survives a crash */
			close(dfd);
		}
		if (first < 0)
			fprintf(stderr,
			        "disclosurectl: exported 0 lines to %s: the log has no entry from "
			        "seq %" PRId64 " on\n",
			        out_path, asked);
		else
			fprintf(stderr,
			        "disclosurectl: exported %" PRIu64 " lines (seq %" PRId64 "-%" PRId64
			        ") to %s\n",
			        written, first, last, out_path);
	} else {
		(void)fdatasync(STDOUT_FILENO); /* a regular file; pipes say EINVAL */
	}
	return EXIT_OK;

write_fail:
	ctl_err("cannot write %s: %s", out_path ? tmp_path : "standard output", strerror(errno));
	rc = EXIT_FAILURE_LOCAL;
fail:
	free(held);
	free(lines);
	if (out_path != NULL) {
		if (fd >= 0)
			close(fd);
		unlink(tmp_path);
	}
	return rc;
}

/* res->msg often starts with "seq N: "; the caller already names the seq. */
static const char *without_seq_prefix(const struct audit_verify_result *res)
{
	char prefix[40];
	size_t n;

	n = (size_t)snprintf(prefix, sizeof(prefix), "seq %" PRId64 ": ", res->first_bad_seq);
	if (strncmp(res->msg, prefix, n) == 0)
		return res->msg + n;
	return res->msg;
}

static void pubkeys_free(EVP_PKEY **pubs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		EVP_PKEY_free(pubs[i]);
}

static int audit_verify(int argc, char **argv, struct ctl *c)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"receipts", required_argument, NULL, 'r'},
	    {"allow-unsealed", no_argument, NULL, 'u'},
	    CTL_GLOBAL_OPTIONS,
	};
	const char *key_paths[AUDIT_VERIFY_KEYS_MAX], *receipts = NULL, *file;
	size_t n_keys = 0;
	bool allow_unsealed = false;
	struct audit_verify_result res;
	struct dsc_error err;
	EVP_PKEY *pubs[AUDIT_VERIFY_KEYS_MAX];
	FILE *f, *rl = NULL;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf(audit_help, ctl_global_help);
			return EXIT_OK;
		case 'k':
			if (n_keys == AUDIT_VERIFY_KEYS_MAX)
				return ctl_usage_error("audit verify", "at most %d --key options",
				                       AUDIT_VERIFY_KEYS_MAX);
			key_paths[n_keys++] = optarg;
			break;
		case 'r':
			receipts = optarg;
			break;
		case 'u':
			allow_unsealed = true;
			break;
		case '?':
			return ctl_usage_error("audit verify",
			                       "unknown option or missing value: %s",
			                       argv[optind - 1]);
		default:
			/* Connection flags are accepted (scripts pass them everywhere)
			 * but verification never connects. */
			rc = ctl_global_option(c, ch, optarg);
			if (rc != EXIT_OK)
				return rc;
		}
	}
	if (argc - optind != 1)
		return ctl_usage_error("audit verify", "give exactly one export FILE");
	if (n_keys == 0)
		return ctl_usage_error("audit verify", "--key PUBKEY is required");
	file = argv[optind];
	dsc_error_clear(&err);
	for (size_t i = 0; i < n_keys; i++) {
		if (audit_pubkey_load(key_paths[i], &pubs[i], &err) != DSC_OK) {
			ctl_err("--key %s: %s", key_paths[i], err.msg);
			pubkeys_free(pubs, i);
			return EXIT_FAILURE_LOCAL;
		}
	}
	f = fopen(file, "re");
	if (f == NULL) {
		ctl_err("cannot read the export %s: %s", file, strerror(errno));
		pubkeys_free(pubs, n_keys);
		return EXIT_FAILURE_LOCAL;
	}
	if (receipts != NULL) {
		rl = fopen(receipts, "re");
		if (rl == NULL) {
			ctl_err("--receipts %s: cannot read the request log: %s", receipts,
			        strerror(errno));
			fclose(f);
			pubkeys_free(pubs, n_keys);
			return EXIT_FAILURE_LOCAL;
		}
		/* --server (only the flag: verification reads no settings) says
		 * whose receipts to prove when the log holds several servers'. */
		rc = audit_receipts_check_server(f, rl, pubs, n_keys, allow_unsealed, c->flag_server,
		                                 &res);
		fclose(rl);
	} else {
		rc = audit_verify_stream_keys(f, pubs, n_keys, allow_unsealed, &res);
	}
	fclose(f);
	pubkeys_free(pubs, n_keys);
	if (rc == DSC_OK && res.ok) {
		printf("audit verify: OK: %s: %s\n", file, res.msg);
		return EXIT_OK;
	}
	if (res.first_bad_seq >= 0)
		printf("audit verify: FAILED at seq %" PRId64 ": %s\n", res.first_bad_seq,
		       without_seq_prefix(&res));
	else
		printf("audit verify: FAILED: %s\n", res.msg[0] ? res.msg : "unknown reason");
	return EXIT_FAILURE_LOCAL;
}

int cmd_audit(struct ctl *c, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		printf(audit_help, ctl_global_help);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (strcmp(argv[1], "export") == 0)
		return audit_export(c, argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return audit_verify(argc - 1, argv + 1, c);
	if (strcmp(argv[1], "find") == 0)
		return audit_find(argc - 1, argv + 1, c);
	return ctl_usage_error("audit", "unknown subcommand '%s' (export, verify or find)", argv[1]);
}
