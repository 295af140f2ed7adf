/*
 * cmd_offender.c - `disclosurectl offender ID --check CHECK_ID`: the full
 * record of a candidate (GET /v1/offenders/{id}?check_id=...).  The server
 * releases it only to a disclosure officer, for a record that was a
 * candidate of a check the officer may read; the check id is therefore
 * required here too, so the request always says why it is made.
 */
#include <string.h>

#include "client.h"

static const char offender_help[] =
    "usage: disclosurectl offender ID --check CHECK_ID [--json]\n"
    "\n"
    "Shows the full offender record ID (GET /v1/offenders/ID?check_id=CHECK_ID; role\n"
    "disclosure_officer). ID must have been a candidate of CHECK_ID, a check you may\n"
    "read, and be managed by your force.\n"
    "\n"
    "  --check CHECK_ID   the check in which ID appeared as a candidate (required)\n"
    "  --json             print the server's JSON answer (or its JSON error)\n"
    "\n"
    "%s"
    "\n"
    "Exit codes: 0 shown; 2 usage; 3 refused (403 not allowed or not a candidate,\n"
    "404 no such record); 4 server unreachable, TLS failure or 5xx.\n";

int cmd_offender(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"check", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'J'},
	    CTL_GLOBAL_OPTIONS,
	};
	const char *check_id = NULL, *id;
	struct https_response resp;
	char eid[256], echk[512], path[900];
	bool json_out = false;
	json_t *fields, *j;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf(offender_help, ctl_global_help);
			return EXIT_OK;
		case 'c':
			if ((rc = ctl_flag_once("offender", &check_id, optarg, "--check")) != EXIT_OK)
				return rc;
			break;
		case 'J':
			json_out = c->json_errors = true;
			break;
		case '?':
			return ctl_usage_error("offender", "unknown option or missing value: %s",
			                       argv[optind - 1]);
		default:
			rc = ctl_global_option(c, ch, optarg);
			if (rc != EXIT_OK)
				return rc;
		}
	}
	if (argc - optind != 1)
		return ctl_usage_error("offender", "give exactly one offender ID");
	if (check_id == NULL)
		return ctl_usage_error("offender", "--check CHECK_ID is required");
	id = argv[optind];
	if (id[0] == '\0' || check_id[0] == '\0' || ctl_escape(id, eid, sizeof(eid)) != 0 ||
	    ctl_escape(check_id, echk, sizeof(echk)) != 0)
		return ctl_usage_error("offender", "ID or CHECK_ID is empty or too long");
	snprintf(path, sizeof(path), "/v1/offenders/%s?check_id=%s", eid, echk);
	fields = json_pack("{s:s, s:s}", "offender_id", id, "check_id", check_id);
	rc = ctl_request(c, "GET", path, NULL, fields, 0, &resp);
	json_decref(fields);
	if (rc != EXIT_OK)
		return rc;
	json_t *hdr_receipt = json_out ? NULL : ctl_receipt_of_headers(&resp);

	rc = ctl_take_answer(&resp, json_out, "offender", &j);
	if (rc != EXIT_OK || j == NULL) {
		json_decref(hdr_receipt);
		return rc;
	}
	/* The record itself may carry the receipt under "audit"; else it came
	 * in the headers (a release is audited like any read).  Shown last. */
	json_t *audit = json_incref(json_object_get(j, "audit"));

	if (audit == NULL)
		audit = json_incref(hdr_receipt);
	json_decref(hdr_receipt);

	json_object_del(j, "audit");
	printf("Offender record %s (released for check %s)\n", id, check_id);
	print_json_readable(stdout, j, 2);
	print_receipt(stdout, audit);
	json_decref(audit);
	json_decref(j);
	return EXIT_OK;
}
