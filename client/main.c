/*
 * main.c - disclosurectl: global flags, the command dispatch and the exit
 * codes of contract.md (0 ok, 1 failure, 2 usage, 3 refused by the server,
 * 4 server unreachable / TLS failure / 5xx).
 *
 * Global flags may come before or after the command name: scripts write
 * `disclosurectl --log F check ...` and people write `... check ... --log F`.
 * Nothing is sent before all flags have been read and checked.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

const char ctl_global_help[] =
    "Global flags, before or after the command. Each connection setting comes from its\n"
    "flag, else from DISCLOSURE_SERVER, DISCLOSURE_CERT, DISCLOSURE_KEY, DISCLOSURE_CA,\n"
    "DISCLOSURE_TIMEOUT, else from the key server, cert, key, ca or timeout of\n"
    "$XDG_CONFIG_HOME/disclosurectl/config (INI; paths relative to its folder):\n"
    "  --server URL      https://HOST[:PORT] of disclosured (port 8443 if omitted)\n"
    "  --cert FILE       client certificate (PEM)\n"
    "  --key FILE        its private key (PEM; default: the --cert file)\n"
    "  --ca FILE         CA certificate(s) that sign the server's certificate\n"
    "  --timeout SEC     connect and answer timeout in seconds (default 30)\n"
    "  --log FILE        request log (default $XDG_STATE_HOME/disclosurectl/requests.log,\n"
    "                    else ~/.local/state/disclosurectl/requests.log)\n"
    "  -h, --help        this help\n";

static const char main_help[] =
    "usage: disclosurectl [GLOBAL FLAGS] COMMAND [ARGS]\n"
    "\n"
    "The client of disclosured: disclosure checks, decisions, offender records,\n"
    "bulk import, batch checks and the audit log.\n"
    "\n"
    "Commands:\n"
    "  check       run one disclosure check (caseworker, disclosure_officer)\n"
    "  show        show a stored check: request, result, decision\n"
    "  decide      record the decision on a check (disclosure_officer)\n"
    "  offender    show the full record of a candidate of a check (disclosure_officer)\n"
    "  import      bulk import offender records from NDJSON (registrar)\n"
    "  batch       run many checks from a CSV file, resumable\n"
    "  audit       export the audit log (auditor) or verify an export offline\n"
    "  log         list this client's request log\n"
    "  health      ask the server whether it is up (GET /healthz)\n"
    "\n"
    "Run `disclosurectl COMMAND --help` for the flags of each command.\n"
    "\n"
    "%s"
    "  --version         print the version and exit\n"
    "\n"
    "Exit codes: 0 success; 1 failure (verification failed, local file error);\n"
    "2 usage error; 3 the server refused the request (4xx); 4 could not reach the\n"
    "server, TLS failure, or server error (5xx).\n"
    "\n"
    "Every request is appended to the request log before it is sent, and its\n"
    "answer with the server's audit receipt (seq, hash) when it arrives\n"
    "(NDJSON, mode 0600); `audit verify --receipts LOG` proves them later.\n";

void ctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("disclosurectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void ctl_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("disclosurectl: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int ctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "disclosurectl%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry `disclosurectl%s%s --help`.\n", cmd ? " " : "", cmd ? cmd : "");
	return EXIT_USAGE;
}

int ctl_flag_once(const char *cmd, const char **slot, const char *value, const char *flag)
{
	/* A fact of the check or decision given twice: which one was meant
	 * is not for the client to guess (the last would silently win). */
	if (*slot != NULL)
		return ctl_usage_error(cmd, "%s given twice ('%s' and '%s')", flag, *slot, value);
	*slot = value;
	return EXIT_OK;
}

int ctl_global_option(struct ctl *c, int opt, const char *arg)
{
	char *end;
	long v;

	switch (opt) {
	case CTL_OPT_SERVER:
		c->flag_server = arg;
		return EXIT_OK;
	case CTL_OPT_CERT:
		c->flag_cert = arg;
		return EXIT_OK;
	case CTL_OPT_KEY:
		c->flag_key = arg;
		return EXIT_OK;
	case CTL_OPT_CA:
		c->flag_ca = arg;
		return EXIT_OK;
	case CTL_OPT_LOG:
		c->flag_log = arg;
		return EXIT_OK;
	case CTL_OPT_TIMEOUT:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno != 0 || end == arg || *end != '\0' || v < 1 || v > 86400)
			return ctl_usage_error(
			    NULL, "--timeout %s: not a number of seconds (1-86400)", arg);
		c->flag_timeout = (int)v;
		return EXIT_OK;
	}
	return ctl_usage_error(NULL, "unknown option");
}

struct command {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
};

static const struct command commands[] = {
    {"check", cmd_check},       {"show", cmd_show},     {"decide", cmd_decide},
    {"offender", cmd_offender}, {"import", cmd_import}, {"batch", cmd_batch},
    {"audit", cmd_audit},       {"log", cmd_log},       {"health", cmd_health},
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"version", no_argument, NULL, 'V'},
	    CTL_GLOBAL_OPTIONS,
	};
	struct ctl c = {0};
	int ch, rc;

	/* A server that closes mid-upload must be an error, not our death. */
	signal(SIGPIPE, SIG_IGN);
	c.stdout_tty = isatty(STDOUT_FILENO);
	c.stderr_tty = isatty(STDERR_FILENO);

	opterr = 0;
	/* "+": stop at the command name; the command parses the rest. */
	while ((ch = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf(main_help, ctl_global_help);
			return EXIT_OK;
		case 'V':
			printf("disclosurectl %s\n", VERSION);
			return EXIT_OK;
		case '?':
			if (optopt != 0)
				return ctl_usage_error(
				    NULL, "option -%c needs a value or is unknown", optopt);
			return ctl_usage_error(NULL, "unknown option or missing value: %s",
			                       argv[optind - 1]);
		default:
			rc = ctl_global_option(&c, ch, optarg);
			if (rc != EXIT_OK)
				return rc;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, main_help, ctl_global_help);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		c.command = commands[i].name;
		argc -= optind;
		argv += optind;
		optind = 0; /* the command's own getopt_long starts afresh */
		rc = commands[i].run(&c, argc, argv);
		ctl_free(&c);
		if (fflush(stdout) != 0 && rc == EXIT_OK) {
			ctl_err("cannot write the output: %s", strerror(errno));
			rc = EXIT_FAILURE_LOCAL;
		}
		return rc;
	}
	if (strcmp(argv[optind], "help") == 0) {
		printf(main_help, ctl_global_help);
		return EXIT_OK;
	}
	return ctl_usage_error(NULL, "unknown command '%s'", argv[optind]);
}
