/*
 * cmd_show.c - `disclosurectl show CHECK_ID`: a stored check (GET
 * /v1/checks/{id}) with its request, its result and the decision if one
 * was recorded.  Reading a check is itself audited by the server.
 *
 * Never hides what the stored check holds: fields it does not know are
 * printed as they come, so a newer server's additions still show.
 */
#include <string.h>

#include "client.h"

static const char show_help[] =
    "usage: disclosurectl show CHECK_ID [--json]\n"
    "\n"
    "Shows a stored check (GET /v1/checks/CHECK_ID): who ran it and why, the subject\n"
    "asked about, the outcome and candidates as `check` prints them, and the decision\n"
    "if one was recorded. Allowed for the check's owner, a disclosure officer of the\n"
    "same force, and auditors.\n"
    "\n"
    "  --json   print the server's JSON answer (or its JSON error)\n"
    "\n"
    "%s"
    "\n"
    "Exit codes: 0 shown; 2 usage; 3 refused (403 not yours to read, 404 no such\n"
    "check); 4 server unreachable, TLS failure or 5xx.\n";

/* Prints the members of o that are not objects or arrays, as "Key: value". */
static void print_scalars(FILE *out, json_t *o, const char *skip1, const char *skip2)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v)
	{
		if (json_is_object(v) || json_is_array(v) || strcmp(k, skip1) == 0 ||
		    strcmp(k, skip2) == 0)
			continue;
		json_t *one = json_pack("{s:O}", k, v);

		print_json_readable(out, one, 0);
		json_decref(one);
	}
}

int cmd_show(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'J'},
	    CTL_GLOBAL_OPTIONS,
	};
	struct https_response resp;
	char esc[512], path[600];
	bool json_out = false;
	json_t *j, *fields, *req, *res, *dec;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf(show_help, ctl_global_help);
			return EXIT_OK;
		case 'J':
			json_out = c->json_errors = true;
			break;
		case '?':
			return ctl_usage_error("show", "unknown option or missing value: %s",
			                       argv[optind - 1]);
		default:
			rc = ctl_global_option(c, ch, optarg);
			if (rc != EXIT_OK)
				return rc;
		}
	}
	if (argc - optind != 1)
		return ctl_usage_error("show", "give exactly one CHECK_ID");
	if (ctl_escape(argv[optind], esc, sizeof(esc)) != 0 || argv[optind][0] == '\0')
		return ctl_usage_error("show", "CHECK_ID '%.40s' is empty or too long",
		                       argv[optind]);
	snprintf(path, sizeof(path), "/v1/checks/%s", esc);
	fields = json_pack("{s:s}", "check_id", argv[optind]);
	rc = ctl_request(c, "GET", path, NULL, fields, 0, &resp);
	json_decref(fields);
	if (rc != EXIT_OK)
		return rc;
	rc = ctl_take_answer(&resp, json_out, "show", &j);
	if (rc != EXIT_OK || j == NULL)
		return rc;
	req = json_object_get(j, "request");
	res = json_object_get(j, "response");
	dec = json_object_get(j, "decision");
	printf("Check %s\n", argv[optind]);
	print_scalars(stdout, j, "check_id", "decision");
	if (json_is_object(json_object_get(j, "subject"))) {
		printf("\nSubject:\n");
		print_json_readable(stdout, json_object_get(j, "subject"), 2);
	}
	if (json_is_object(req)) {
		printf("\nRequest:\n");
		print_json_readable(stdout, req, 2);
	}
	if (json_is_object(res)) {
		/* The stored result may not repeat the id it is filed under. */
		if (json_object_get(res, "check_id") == NULL)
			json_object_set_new(res, "check_id", json_string(argv[optind]));
		printf("\n");
		print_check_result(stdout, res);
	}
	/* Sections a newer server may add. */
	{
		const char *k;
		json_t *v;

		json_object_foreach(j, k, v)
		{
			if ((!json_is_object(v) && !json_is_array(v)) ||
			    strcmp(k, "subject") == 0 || strcmp(k, "request") == 0 ||
			    strcmp(k, "response") == 0 || strcmp(k, "decision") == 0)
				continue;
			printf("\n%s:\n", k);
			print_json_readable(stdout, v, 2);
		}
	}
	printf("\nDecision:");
	if (json_is_object(dec)) {
		printf("\n");
		print_json_readable(stdout, dec, 2);
	} else {
		printf(" none recorded\n");
	}
	json_decref(j);
	return EXIT_OK;
}
