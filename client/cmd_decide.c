/*
 * cmd_decide.c - `disclosurectl decide CHECK_ID DECISION`: records the
 * disclosure officer's decision on a check (POST
 * /v1/checks/{id}/decision).  A decision is final: the server answers 409
 * to a second one, and the client never retries it on its own.
 */
#include <string.h>

#include "client.h"

static const char decide_help[] =
    "usage: disclosurectl decide CHECK_ID disclose|no_disclosure|refer\n"
    "                            [--offender ID] [--recipient WHO] [--rationale TEXT] [--json]\n"
    "\n"
    "Records the decision on a check (POST /v1/checks/CHECK_ID/decision; role\n"
    "disclosure_officer, on checks of your force). A check is decided once.\n"
    "\n"
    "  DECISION            disclose, no_disclosure or refer (or --decision DECISION)\n"
    "  --offender ID       the candidate the decision is about; required unless\n"
    "                      no_disclosure\n"
    "  --recipient WHO     who receives the disclosure; required for disclose\n"
    "  --rationale TEXT    the reasons for the decision\n"
    "  --json              print the server's JSON answer (or its JSON error)\n"
    "\n"
    "%s"
    "\n"
    "Exit codes: 0 recorded; 2 usage; 3 refused (400 bad field, 403 not allowed,\n"
    "404 no such check, 409 already decided); 4 server unreachable, TLS failure, 5xx.\n";

int cmd_decide(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"decision", required_argument, NULL, 'd'},
	    {"offender", required_argument, NULL, 'o'},
	    {"recipient", required_argument, NULL, 'r'},
	    {"rationale", required_argument, NULL, 'R'},
	    {"json", no_argument, NULL, 'J'},
	    CTL_GLOBAL_OPTIONS,
	};
	const char *decision = NULL, *offender = NULL, *recipient = NULL, *rationale = NULL;
	const char *check_id;
	struct https_response resp;
	struct https_body hb = {.content_type = "application/json"};
	char esc[512], path[640];
	bool json_out = false;
	json_t *body, *fields, *j;
	char *text;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf(decide_help, ctl_global_help);
			return EXIT_OK;
		case 'd':
			if ((rc = ctl_flag_once("decide", &decision, optarg, "--decision")) != EXIT_OK)
				return rc;
			break;
		case 'o':
			if ((rc = ctl_flag_once("decide", &offender, optarg, "--offender")) != EXIT_OK)
				return rc;
			break;
		case 'r':
			if ((rc = ctl_flag_once("decide", &recipient, optarg, "--recipient")) != EXIT_OK)
				return rc;
			break;
		case 'R':
			if ((rc = ctl_flag_once("decide", &rationale, optarg, "--rationale")) != EXIT_OK)
				return rc;
			break;
		case 'J':
			json_out = c->json_errors = true;
			break;
		case '?':
			return ctl_usage_error("decide", "unknown option or missing value: %s",
			                       argv[optind - 1]);
		default:
			rc = ctl_global_option(c, ch, optarg);
			if (rc != EXIT_OK)
				return rc;
		}
	}
	if (optind >= argc)
		return ctl_usage_error("decide", "give the CHECK_ID and the decision");
	check_id = argv[optind++];
	if (optind < argc && decision == NULL)
		decision = argv[optind++];
	else if (optind < argc && decision != NULL)
		return ctl_usage_error("decide",
		                       "the decision given twice ('%s' and --decision %s): give it "
		                       "once",
		                       argv[optind], decision);
	if (optind < argc)
		return ctl_usage_error("decide", "unexpected argument '%s'", argv[optind]);
	if (decision == NULL)
		return ctl_usage_error("decide",
		                       "give the decision: disclose, no_disclosure or refer");
	if (ctl_escape(check_id, esc, sizeof(esc)) != 0 || check_id[0] == '\0')
		return ctl_usage_error("decide", "CHECK_ID '%.40s' is empty or too long", check_id);
	snprintf(path, sizeof(path), "/v1/checks/%s/decision", esc);

	body = json_pack("{s:s, s:s?, s:s?, s:s?}", "decision", decision, "offender_id", offender,
	                 "recipient", recipient, "rationale", rationale);
	if (body == NULL)
		return ctl_usage_error("decide", "a value is not valid UTF-8 text");
	if (offender == NULL)
		json_object_set_new(body, "offender_id", json_null());
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		ctl_err("out of memory");
		return EXIT_FAILURE_LOCAL;
	}
	hb.data = text;
	hb.len = strlen(text);
	fields = json_pack("{s:s, s:s}", "check_id", check_id, "decision", decision);
	rc = ctl_request(c, "POST", path, &hb, fields, 0, &resp);
	json_decref(fields);
	free(text);
	if (rc != EXIT_OK)
		return rc;
	rc = ctl_take_answer(&resp, json_out, "decide", &j);
	if (rc != EXIT_OK || j == NULL)
		return rc;
	printf("Decision recorded on check %s: %s", check_id, decision);
	if (offender != NULL)
		printf(", offender %s", offender);
	if (recipient != NULL)
		printf(", recipient %s", recipient);
	printf("\n");
	print_receipt(stdout, json_object_get(j, "audit"));
	json_decref(j);
	return EXIT_OK;
}
