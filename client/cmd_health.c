/*
 * cmd_health.c - `disclosurectl health`: GET /healthz, for operators and
 * for checking that the connection settings work at all.  Like every
 * command it goes through the request log: even a health probe is a
 * request someone may later need to account for.
 */
#include "client.h"

static const char health_help[] =
    "usage: disclosurectl health [--json]\n"
    "\n"
    "Asks the server whether it is up (GET /healthz; any known principal) and prints\n"
    "its status, the number of offender records and audit_seq, the number of\n"
    "entries in the audit log (the seq the next entry will take: the newest is\n"
    "one less).\n"
    "\n"
    "  --json   print the server's JSON answer (or its JSON error)\n"
    "\n"
    "%s"
    "\n"
    "Exit codes: 0 up; 2 usage; 3 refused (403: certificate not in the ACL);\n"
    "4 server unreachable, TLS failure or 5xx (503: not ready).\n";

int cmd_health(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'J'},
	    CTL_GLOBAL_OPTIONS,
	};
	struct https_response resp;
	bool json_out = false;
	json_t *j;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf(health_help, ctl_global_help);
			return EXIT_OK;
		case 'J':
			json_out = c->json_errors = true;
			break;
		case '?':
			return ctl_usage_error("health", "unknown option or missing value: %s",
			                       argv[optind - 1]);
		default:
			rc = ctl_global_option(c, ch, optarg);
			if (rc != EXIT_OK)
				return rc;
		}
	}
	if (optind < argc)
		return ctl_usage_error("health", "unexpected argument '%s'", argv[optind]);
	rc = ctl_request(c, "GET", "/healthz", NULL, NULL, 0, &resp);
	if (rc != EXIT_OK)
		return rc;
	rc = ctl_take_answer(&resp, json_out, "health", &j);
	if (rc != EXIT_OK || j == NULL)
		return rc;
	print_json_readable(stdout, j, 0);
	json_decref(j);
	return EXIT_OK;
}
