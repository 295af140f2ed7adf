/*
 * cmd_check.c - `disclosurectl check`: one disclosure check (POST
 * /v1/checks), printed as outcome, candidate table and audit receipt, or
 * as the server's JSON with --json.
 *
 * The client checks only what it must to build the body (flags present,
 * --age a number); the server validates every field and its words are
 * shown as they are, so client and server never disagree about the rules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static const char check_help[] =
    "usage: disclosurectl check --case REF --purpose PURPOSE --justification TEXT\n"
    "                          --family FAMILY [--given GIVEN] [--middle MIDDLE]\n"
    "                          [--alias \"GIVEN FAMILY\"]... [--dob YYYY-MM-DD | --age YEARS]\n"
    "                          [--postcode POSTCODE] [--sex M|F|X] [--json]\n"
    "\n"
    "Runs one disclosure check (POST /v1/checks; roles caseworker, disclosure_officer)\n"
    "and prints the outcome, then the candidates ranked by score with their band,\n"
    "score, managing force, the record's name that matched and the reasons in words,\n"
    "then the audit receipt. Candidates outside your force show a summary only.\n"
    "\n"
    "  --case REF             case reference, 1-64 of A-Z a-z 0-9 / _ . -\n"
    "  --purpose PURPOSE      csods_right_to_ask, csods_right_to_be_told, dvds_right_to_ask,\n"
    "                         dvds_right_to_know, mappa_review or other\n"
    "  --justification TEXT   why this check is needed (1-1000 characters; audited)\n"
    "  --family, --given, --middle NAME   the subject's name (family required: - if not\n"
    "                         known; with a name left out, a match needs the postcode\n"
    "                         (its district at least) or the middle name as well)\n"
    "  --alias NAME           another name of the subject, \"GIVEN FAMILY\" (the last word\n"
    "                         is the family name) or \"FAMILY, GIVEN\"; up to 9 times\n"
    "  --dob DATE             date of birth, YYYY-MM-DD (or YYYY-MM, YYYY if known in part)\n"
    "  --age YEARS            age in whole years, when the date of birth is unknown\n"
    "  --postcode PC          last known postcode\n"
    "  --sex S                M, F or X (or male, female; U, unknown or N/K for none)\n"
    "  --json                 print the server's JSON answer instead of the table (and\n"
    "                         its JSON error on stdout too when it refuses or fails)\n"
    "\n"
    "%s"
    "\n"
    "Exit codes: 0 the check ran (whatever its outcome); 2 usage; 3 refused by the\n"
    "server (bad field, not allowed); 4 server unreachable, TLS failure or 5xx.\n";

/* "GIVEN ... FAMILY" or "FAMILY, GIVEN ..." into a name object. */
static json_t *alias_name(const char *text, char *msg, size_t cap)
{
	const char *comma = strchr(text, ',');
	char buf[512];
	char *family, *given;

	if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf)) {
		snprintf(msg, cap, "alias '%.40s...' is too long", text);
		return NULL;
	}
	if (comma != NULL) {
		buf[comma - text] = '\0';
		family = buf;
		given = buf + (comma - text) + 1;
	} else {
		char *end = buf + strlen(buf);

		while (end > buf && end[-1] == ' ')
			*--end = '\0';
		family = strrchr(buf, ' ');
		if (family != NULL) {
			*family++ = '\0';
			given = buf;
		} else {
			family = buf;
			given = NULL;
		}
	}
	while (family != NULL && *family == ' ')
		family++;
	while (given != NULL && *given == ' ')
		given++;
	for (char *e = family + strlen(family); e > family && e[-1] == ' ';)
		*--e = '\0';
	if (family[0] == '\0') {
		snprintf(msg, cap, "alias '%s' has no family name", text);
		return NULL;
	}
	json_t *name = given != NULL && given[0] != '\0'
	                   ? json_pack("{s:s, s:s}", "given", given, "family", family)
	                   : json_pack("{s:s}", "family", family);

	if (name == NULL)
		snprintf(msg, cap, "alias '%s' is not valid UTF-8 text", text);
	return name;
}

/* obj[key] = text, or *bad = what when text is not UTF-8 (json_string()
 * refuses it): a value left out would make another check than the one
 * asked for. */
static void put_text(json_t *obj, const char *key, const char *text, const char **bad,
		     const char *what)
{
	json_t *s = json_string(text);

	if (s == NULL || json_object_set_new(obj, key, s) != 0) {
		if (*bad == NULL)
			*bad = what;
	}
}

json_t *check_body_new(const struct check_input *in, char *msg, size_t cap)
{
	json_t *body, *subject, *names, *name;
	const char *bad = NULL;

	if (in->dob != NULL && in->dob[0] != '\0' && in->age != NULL && in->age[0] != '\0') {
		snprintf(msg, cap, "give a date of birth or an age, not both");
		return NULL;
	}
	body = json_object();
	subject = json_object();
	names = json_array();
	name = json_object();
	if (body == NULL || subject == NULL || names == NULL || name == NULL)
		goto nomem;
	put_text(body, "case_ref", in->case_ref ? in->case_ref : "", &bad, "case reference");
	put_text(body, "purpose", in->purpose ? in->purpose : "", &bad, "purpose");
	put_text(body, "justification", in->justification ? in->justification : "", &bad,
		 "justification");
	if (in->given != NULL && in->given[0] != '\0')
		put_text(name, "given", in->given, &bad, "given name");
	if (in->middle != NULL && in->middle[0] != '\0')
		put_text(name, "middle", in->middle, &bad, "middle name");
	put_text(name, "family", in->family ? in->family : "", &bad, "family name");
	json_array_append_new(names, name);
	name = NULL;
	for (size_t i = 0; i < in->n_aliases; i++) {
		json_t *a = alias_name(in->aliases[i], msg, cap);

		if (a == NULL) {
			json_decref(body);
			json_decref(subject);
			json_decref(names);
			return NULL;
		}
		json_array_append_new(names, a);
	}
	json_object_set_new(subject, "names", names);
	names = NULL;
	if (in->dob != NULL && in->dob[0] != '\0')
		put_text(subject, "dob", in->dob, &bad, "date of birth");
	if (in->age != NULL && in->age[0] != '\0') {
		char *end;
		long v;

		errno = 0;
		v = strtol(in->age, &end, 10);
		/* Digits only: strtol would also take " 7" and "+7". */
		if (errno != 0 || end == in->age || *end != '\0' || v < 0 || v > 150 ||
		    in->age[0] < '0' || in->age[0] > '9') {
			snprintf(msg, cap, "age '%s' is not a whole number of years", in->age);
			json_decref(body);
			json_decref(subject);
			return NULL;
		}
		json_object_set_new(subject, "age", json_integer(v));
	}
	if (in->postcode != NULL && in->postcode[0] != '\0')
		put_text(subject, "postcode", in->postcode, &bad, "postcode");
	if (in->sex != NULL && in->sex[0] != '\0')
		put_text(subject, "sex", in->sex, &bad, "sex");
	if (bad != NULL) {
		snprintf(msg, cap, "the %s is not valid UTF-8 text", bad);
		json_decref(body);
		json_decref(subject);
		return NULL;
	}
	json_object_set_new(body, "subject", subject);
	return body;
nomem:
	snprintf(msg, cap, "out of memory");
	json_decref(body);
	json_decref(subject);
	json_decref(names);
	json_decref(name);
	return NULL;
}

int check_run(struct ctl *c, json_t *body, json_t **result)
{
	struct https_response resp;
	struct https_body hb = {.content_type = "application/json"};
	json_t *fields;
	char *text;
	int rc;

	*result = NULL;
	text = json_dumps(body, JSON_COMPACT);
	if (text == NULL) {
		ctl_err("out of memory");
		return EXIT_FAILURE_LOCAL;
	}
	hb.data = text;
	hb.len = strlen(text);
	fields = json_pack("{s:O?, s:O?}", "case_ref", json_object_get(body, "case_ref"), "purpose",
	                   json_object_get(body, "purpose"));
	rc = ctl_request(c, "POST", "/v1/checks", &hb, fields, 0, &resp);
	json_decref(fields);
	free(text);
	if (rc != EXIT_OK)
		return rc;
	*result = ctl_response_json(&resp, "check");
	https_response_release(&resp);
	return *result != NULL ? EXIT_OK : EXIT_UNREACHABLE;
}

int cmd_check(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"case", required_argument, NULL, 'c'},
	    {"purpose", required_argument, NULL, 'p'},
	    {"justification", required_argument, NULL, 'j'},
	    {"family", required_argument, NULL, 'f'},
	    {"given", required_argument, NULL, 'g'},
	    {"middle", required_argument, NULL, 'm'},
	    {"alias", required_argument, NULL, 'a'},
	    {"dob", required_argument, NULL, 'd'},
	    {"age", required_argument, NULL, 'A'},
	    {"postcode", required_argument, NULL, 'P'},
	    {"sex", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'J'},
	    CTL_GLOBAL_OPTIONS,
	};
	struct check_input in = {0};
	struct https_response resp;
	struct https_body hb = {.content_type = "application/json"};
	bool json_out = false;
	char msg[256];
	json_t *body, *result, *fields;
	char *text;
	int ch, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			printf(check_help, ctl_global_help);
			return EXIT_OK;
		case 'c':
			if ((rc = ctl_flag_once("check", &in.case_ref, optarg, "--case")) != EXIT_OK)
				return rc;
			break;
		case 'p':
			if ((rc = ctl_flag_once("check", &in.purpose, optarg, "--purpose")) != EXIT_OK)
				return rc;
			break;
		case 'j':
			if ((rc = ctl_flag_once("check", &in.justification, optarg, "--justification")) != EXIT_OK)
				return rc;
			break;
		case 'f':
			if ((rc = ctl_flag_once("check", &in.family, optarg, "--family")) != EXIT_OK)
				return rc;
			break;
		case 'g':
			if ((rc = ctl_flag_once("check", &in.given, optarg, "--given")) != EXIT_OK)
				return rc;
			break;
		case 'm':
			if ((rc = ctl_flag_once("check", &in.middle, optarg, "--middle")) != EXIT_OK)
				return rc;
			break;
		case 'a':
			if (in.n_aliases >= sizeof(in.aliases) / sizeof(in.aliases[0]))
				return ctl_usage_error("check",
				                       "at most 9 --alias (10 names in all)");
			in.aliases[in.n_aliases++] = optarg;
			break;
		case 'd':
			if ((rc = ctl_flag_once("check", &in.dob, optarg, "--dob")) != EXIT_OK)
				return rc;
			break;
		case 'A':
			if ((rc = ctl_flag_once("check", &in.age, optarg, "--age")) != EXIT_OK)
				return rc;
			break;
		case 'P':
			if ((rc = ctl_flag_once("check", &in.postcode, optarg, "--postcode")) != EXIT_OK)
				return rc;
			break;
		case 's':
			if ((rc = ctl_flag_once("check", &in.sex, optarg, "--sex")) != EXIT_OK)
				return rc;
			break;
		case 'J':
			json_out = c->json_errors = true;
			break;
		case '?':
			return ctl_usage_error("check", "unknown option or missing value: %s",
			                       argv[optind - 1]);
		default:
			rc = ctl_global_option(c, ch, optarg);
			if (rc != EXIT_OK)
				return rc;
		}
	}
	if (optind < argc)
		return ctl_usage_error("check", "unexpected argument '%s'", argv[optind]);
	if (in.case_ref == NULL || in.purpose == NULL || in.justification == NULL ||
	    in.family == NULL)
		return ctl_usage_error("check",
		                       "--case, --purpose, --justification and --family are "
		                       "required");
	body = check_body_new(&in, msg, sizeof(msg));
	if (body == NULL)
		return ctl_usage_error("check", "%s", msg);

	if (json_out) {
		/* The server's bytes, untouched, for scripts. */
		text = json_dumps(body, JSON_COMPACT);
		if (text == NULL) {
			json_decref(body);
			ctl_err("out of memory");
			return EXIT_FAILURE_LOCAL;
		}
		hb.data = text;
		hb.len = strlen(text);
		fields = json_pack("{s:s, s:s}", "case_ref", in.case_ref, "purpose", in.purpose);
		rc = ctl_request(c, "POST", "/v1/checks", &hb, fields, 0, &resp);
		json_decref(fields);
		free(text);
		json_decref(body);
		if (rc != EXIT_OK)
			return rc;
		return ctl_take_answer(&resp, true, "check", &result);
	}
	rc = check_run(c, body, &result);
	json_decref(body);
	if (rc != EXIT_OK)
		return rc;
	print_check_result(stdout, result);
	json_decref(result);
	return EXIT_OK;
}
