/*
 * client.h - what the parts of disclosurectl share: the command context
 * (connection settings, the HTTPS connection, the request log), the exit
 * codes of contract.md, option parsing with the global flags accepted
 * before and after the command name, and the helpers that print results.
 *
 * Nothing here may print a secret: settings are file names, never file
 * contents.
 */
#ifndef DISCLOSURECTL_CLIENT_H
#define DISCLOSURECTL_CLIENT_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "disclosure/error.h"
#include "reqlog.h"
#include "tls_client.h"

/* Exit codes (contract.md "Programs"). */
enum ctl_exit {
	EXIT_OK = 0,
	EXIT_FAILURE_LOCAL = 1, /* verification failed, local file errors */
	EXIT_USAGE = 2,         /* bad flags or arguments */
	EXIT_REFUSED = 3,       /* the server refused the request (4xx) */
	EXIT_UNREACHABLE = 4,   /* could not reach the server, TLS failure, 5xx */
};

struct setting {
	char *value; /* malloc'd, NULL if not set */
	char source[SETTING_SOURCE_MAX];
};

struct ctl {
	/* flags given on the command line (before or after the command) */
	const char *flag_server, *flag_cert, *flag_key, *flag_ca, *flag_log;
	int flag_timeout; /* 0: not given */
	/* resolved by ctl_settings_resolve() */
	struct setting server, cert, key, ca, log, timeout;
	char *host, *port, *base_path; /* from the server URL; base_path has no trailing '/' */
	int timeout_s;
	bool resolved;
	struct https_client *https;
	struct reqlog *reqlog;
	const char *command; /* "check", "audit export", ... for the request log */
	bool stdout_tty, stderr_tty;
	/* --json: a refusal's or failure's JSON body also goes to stdout, so a
	 * script reads the server's error as it reads its answers. */
	bool json_errors;
};

/* Long options every command accepts (their codes are >= CTL_OPT_BASE). */
enum {
	CTL_OPT_BASE = 1000,
	CTL_OPT_SERVER,
	CTL_OPT_CERT,
	CTL_OPT_KEY,
	CTL_OPT_CA,
	CTL_OPT_LOG,
	CTL_OPT_TIMEOUT,
};
/* clang-format off */
#define CTL_GLOBAL_OPTIONS \
	{"server", required_argument, NULL, CTL_OPT_SERVER}, \
	{"cert", required_argument, NULL, CTL_OPT_CERT}, \
	{"key", required_argument, NULL, CTL_OPT_KEY}, \
	{"ca", required_argument, NULL, CTL_OPT_CA}, \
	{"log", required_argument, NULL, CTL_OPT_LOG}, \
	{"timeout", required_argument, NULL, CTL_OPT_TIMEOUT}, \
	{"help", no_argument, NULL, 'h'}, \
	{NULL, 0, NULL, 0}
/* clang-format on */

/* Text of the global options for every --help. */
extern const char ctl_global_help[];

/* Handles a global option; returns EXIT_OK, or EXIT_USAGE after saying why. */
int ctl_global_option(struct ctl *c, int opt, const char *arg);
/* "disclosurectl CMD: <message>" + a hint to --help on stderr; returns EXIT_USAGE. */
int ctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets *slot to value, or refuses (EXIT_USAGE, naming flag) if it is set. */
int ctl_flag_once(const char *cmd, const char **slot, const char *value, const char *flag);
/* Prints "disclosurectl: <message>" on stderr. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* settings.c: flags, then environment, then the config file. */
int ctl_settings_resolve(struct ctl *c);
void ctl_settings_release(struct ctl *c);
/* The request log path (flag, environment-free default), for `log`. */
int ctl_log_path(struct ctl *c, char *buf, size_t cap);

/* request.c */
/*
 * Sends one request: appends "sent" to the request log (refusing to send
 * if that fails), sends, appends the answer with its audit receipt.
 * log_fields (borrowed, may be NULL) go into both records.  Returns the
 * exit code: EXIT_OK for a 2xx answer (in *resp, to be released by the
 * caller), otherwise the error has been printed and resp is empty.
 * wait_s: how long to wait for the answer (0: --timeout).
 */
int ctl_request(struct ctl *c, const char *method, const char *path, const struct https_body *body,
                json_t *log_fields, int wait_s, struct https_response *resp);
/* The same, but a 4xx answer is kept in *resp (not printed), with EXIT_REFUSED. */
int ctl_request_keep(struct ctl *c, const char *method, const char *path,
                     const struct https_body *body, json_t *log_fields, int wait_s,
                     struct https_response *resp);
/* Parses a 2xx JSON answer; prints why not and returns NULL. */
json_t *ctl_response_json(const struct https_response *resp, const char *what);
/* Writes the answer's body to stdout as received (ending it with a newline). */
void ctl_print_body(const struct https_response *resp);
/* Takes a 2xx answer and releases resp: with json_out prints the body as
 * received and sets *out = NULL; otherwise parses it into *out (the
 * caller's to json_decref).  EXIT_OK, or EXIT_UNREACHABLE if it is not JSON. */
int ctl_take_answer(struct https_response *resp, bool json_out, const char *what, json_t **out);
/* The answer's audit receipt from its headers (X-Audit-Seq, X-Audit-Hash)
 * as {"seq","hash"}, or NULL: for answers whose body has none (reads). */
json_t *ctl_receipt_of_headers(const struct https_response *resp);
/* An audit seq as the server writes it (X-Audit-Seq): 1-18 digits only. */
bool ctl_seq_parse(const char *s, int64_t *out);
/* Percent-encodes s as one path segment or query value. */
int ctl_escape(const char *s, char *out, size_t cap);
void ctl_free(struct ctl *c);

/* render.c: words for people */
const char *reason_words(const char *code, char *buf, size_t cap);
const char *band_words(const char *band);           /* "POSSIBLE MATCH" */
void print_check_result(FILE *out, json_t *result); /* outcome, table, receipt */
void print_receipt(FILE *out, json_t *audit);
/* s with every control character, and every character that reorders or
 * repaints a terminal, written as <U+XXXX>. */
void ctl_put_text(FILE *out, const char *s);
/* cmd_audit_find.c: `audit find` (argv[0] is "find"). */
int audit_find(int argc, char **argv, struct ctl *c);
/* Prints v (a JSON value) in "key: value" lines, nested with indentation. */
void print_json_readable(FILE *out, json_t *v, int indent);

/* progress.c: a progress bar on stderr, only if it is a terminal. */
struct progress {
	bool enabled;
	uint64_t total, done;
	const char *label;
	double started, last_draw;
	bool full_drawn, finished;
};
void progress_init(struct progress *p, bool enabled, const char *label, uint64_t total);
void progress_update(struct progress *p, uint64_t done);
void progress_finish(struct progress *p);
double monotonic_seconds(void);

/* The commands: argc/argv start at the command name. */
int cmd_check(struct ctl *c, int argc, char **argv);
int cmd_show(struct ctl *c, int argc, char **argv);
int cmd_decide(struct ctl *c, int argc, char **argv);
int cmd_offender(struct ctl *c, int argc, char **argv);
int cmd_import(struct ctl *c, int argc, char **argv);
int cmd_batch(struct ctl *c, int argc, char **argv);
int cmd_audit(struct ctl *c, int argc, char **argv);
int cmd_log(struct ctl *c, int argc, char **argv);
int cmd_health(struct ctl *c, int argc, char **argv);

/* cmd_check.c: the check body from names and fields, shared with batch. */
struct check_input {
	const char *case_ref, *purpose, *justification;
	const char *family, *given, *middle;
	const char *aliases[9];
	size_t n_aliases;
	const char *dob, *age, *postcode, *sex;
};
/* Builds the POST /v1/checks body; on a bad value sets msg and returns NULL. */
json_t *check_body_new(const struct check_input *in, char *msg, size_t cap);
/* Runs one check; *result is the server's JSON on EXIT_OK. */
int check_run(struct ctl *c, json_t *body, json_t **result);

#endif
