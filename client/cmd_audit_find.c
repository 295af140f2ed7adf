/*
 * cmd_audit_find.c - `disclosurectl audit find`: the questions an auditor
 * is asked, answered from an export without jq.
 *
 *   who read, was shown, decided on or changed record X, when, and why;
 *   everything principal P did (or a certificate with CN P tried);
 *   everything done under case reference R, or through check C.
 *
 * It reads an export (verify it first: find trusts what it reads) line
 * by line, keeps the entries every criterion given selects, and prints
 * each as one line of a table, or as the line itself with --json.  The
 * "why" of a read through a check (offender.read, check.read,
 * check.decide) is that check's case and justification, in its
 * check.create entry: a second pass finds them, for the entries kept.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client.h"

struct criteria {
	const char *record, *principal, *case_ref, *check, *action, *since, *until;
};

struct kept {
	char *line;   /* as read, for --json */
	json_t *e;
};

static const char *s_of(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* Whether array a (of strings) holds s. */
static bool array_has(json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
		if (json_is_object(v) && strcmp(s_of(v, "offender_id"), s) == 0)
			return true;
	}
	return false;
}

/* The check an entry concerns: its own (check.create's result) or the
 * one it was made through. */
static const char *check_of(json_t *e)
{
	const char *c = s_of(e, "check_id");

	return c[0] != '\0' ? c : s_of(json_object_get(e, "result"), "check_id");
}

static bool touches_record(json_t *e, const char *id)
{
	json_t *result = json_object_get(e, "result"), *dec = json_object_get(e, "decision");

	return strcmp(s_of(e, "record_id"), id) == 0 ||
	       (json_is_object(result) && array_has(json_object_get(result, "candidates"), id)) ||
	       (json_is_object(dec) && strcmp(s_of(dec, "offender_id"), id) == 0) ||
	       array_has(json_object_get(e, "created"), id) ||
	       array_has(json_object_get(e, "replaced"), id);
}

static bool selected(json_t *e, const struct criteria *k)
{
	const char *t = s_of(e, "time");
	json_t *sent = json_object_get(e, "sent");

	if (k->record != NULL && !touches_record(e, k->record))
		return false;
	if (k->principal != NULL && strcmp(s_of(e, "principal"), k->principal) != 0 &&
	    strcmp(s_of(e, "cn"), k->principal) != 0)
		return false;
	if (k->case_ref != NULL && strcmp(s_of(e, "case_ref"), k->case_ref) != 0 &&
	    !(json_is_object(sent) && strcmp(s_of(sent, "case_ref"), k->case_ref) == 0))
		return false;
	if (k->check != NULL && strcmp(check_of(e), k->check) != 0)
		return false;
	if (k->action != NULL && strcmp(s_of(e, "action"), k->action) != 0)
		return false;
	/* Times are ISO 8601 in UTC: compared as text, a date alone is its
	 * first instant ("2026-12-01" <= "2026-12-01T..."). */
	if (k->since != NULL && strcmp(t, k->since) < 0)
		return false;
	if (k->until != NULL && strncmp(t, k->until, strlen(k->until)) > 0)
		return false;
	return true;
}

/* s on one line: line breaks and tabs (a justification may hold them,
 * and a refused check's "sent" anything) as spaces, the rest as
 * ctl_put_text() writes it; returns the characters written. */
static size_t put_flat(const char *s)
{
	size_t n = 0, len = strlen(s);
	char *flat = strdup(s);

	if (flat == NULL) {
		ctl_put_text(stdout, s);
		return len;
	}
	for (size_t i = 0; i < len; i++) {
		if (flat[i] == '\n' || flat[i] == '\r' || flat[i] == '\t')
			flat[i] = ' ';
		if (((unsigned char)flat[i] & 0xc0) != 0x80)
			n++;
	}
	ctl_put_text(stdout, flat);
	free(flat);
	return n;
}

/* s, then spaces to width, and at least one. */
static void put_cell(const char *s, size_t width)
{
	size_t n = put_flat(s);

	do
		putchar(' ');
	while (++n < width);
}

/* One line of the table: seq, time, who, action, status, check, case,
 * purpose, justification (or, for a read through a check, the check's). */
static void print_entry(json_t *e, json_t *why)
{
	json_t *src = s_of(e, "case_ref")[0] != '\0' ? e : why != NULL ? why : json_object_get(e, "sent");
	char seq[24], status[24];
	json_t *st = json_object_get(e, "status");
	const char *who = s_of(e, "principal")[0] ? s_of(e, "principal") : s_of(e, "cn")[0] ? s_of(e, "cn") : "-";

	snprintf(seq, sizeof(seq), "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(e, "seq")));
	if (json_is_integer(st))
		snprintf(status, sizeof(status), "%" JSON_INTEGER_FORMAT, json_integer_value(st));
	else
		snprintf(status, sizeof(status), "-");
	put_cell(seq, 7);
	put_cell(s_of(e, "time"), 26);
	put_cell(who, 16);
	put_cell(s_of(e, "action"), 22);
	put_cell(status, 5);
	put_cell(check_of(e)[0] ? check_of(e) : "-", 32);
	if (json_is_object(src)) {
		put_cell(s_of(src, "case_ref")[0] ? s_of(src, "case_ref") : "-", 20);
		put_cell(s_of(src, "purpose")[0] ? s_of(src, "purpose") : "-", 24);
		put_flat(s_of(src, "justification"));
	} else {
		put_cell("-", 20);
		put_cell("-", 24);
	}
	putchar('\n');
}

static const char find_help[] =
    "usage: disclosurectl audit find FILE [--record ID] [--principal P] [--case REF]\n"
    "                                [--check CHECK_ID] [--action ACTION]\n"
    "                                [--since TIME] [--until TIME] [--json]\n"
    "\n"
    "Reads an audit export (verify it first with audit verify: find trusts what it\n"
    "reads) and prints the entries every criterion given selects, one a line: seq,\n"
    "time, principal (or the CN of a certificate the ACL does not know), action,\n"
    "status, check, case reference, purpose and justification. For a read of a\n"
    "record or a check, and a decision, the case and justification are those of the\n"
    "check it was made through.\n"
    "\n"
    "  --record ID        entries that showed, read, decided on, wrote or deleted the\n"
    "                     offender record ID\n"
    "  --principal P      entries of principal P, or of a certificate whose CN is P\n"
    "  --case REF         entries of checks under case reference REF\n"
    "  --check CHECK_ID   the check, and every read and decision made through it\n"
    "  --action ACTION    one action (check.create, offender.read, ...)\n"
    "  --since TIME, --until TIME\n"
    "                     UTC, 2026-12-01 or 2026-12-01T09:30:00 (both inclusive)\n"
    "  --json             print the entries' lines as they are in the export\n"
    "\n"
    "Exit codes: 0 some entry found; 1 none found, or the file cannot be read or\n"
    "holds a line that is not JSON; 2 usage.\n";

int audit_find(int argc, char **argv, struct ctl *c)
{
	static const struct option opts[] = {
	    {"record", required_argument, NULL, 'r'}, {"principal", required_argument, NULL, 'p'},
	    {"case", required_argument, NULL, 'c'},   {"check", required_argument, NULL, 'k'},
	    {"action", required_argument, NULL, 'a'}, {"since", required_argument, NULL, 's'},
	    {"until", required_argument, NULL, 'u'},  {"json", no_argument, NULL, 'j'},
	    CTL_GLOBAL_OPTIONS,
	};
	struct criteria k = {0};
	bool json_out = false;
	struct kept *kept = NULL;
	size_t n_kept = 0, cap_kept = 0, lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	json_t *why = NULL; /* check_id -> its check.create entry, for those kept */
	FILE *f;
	int ch, rc = EXIT_OK;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': k.record = optarg; break;
		case 'p': k.principal = optarg; break;
		case 'c': k.case_ref = optarg; break;
		case 'k': k.check = optarg; break;
		case 'a': k.action = optarg; break;
		case 's': k.since = optarg; break;
		case 'u': k.until = optarg; break;
		case 'j': json_out = true; break;
		case 'h':
			fputs(find_help, stdout);
			return EXIT_OK;
		case '?':
			return ctl_usage_error("audit find", "unknown option or missing value: %s",
					       argv[optind - 1]);
		default:
			/* Connection flags are accepted, as by audit verify: find
			 * never connects. */
			if ((rc = ctl_global_option(c, ch, optarg)) != EXIT_OK)
				return rc;
		}
	}
	if (argc - optind != 1)
		return ctl_usage_error("audit find", "give exactly one export FILE");
	if (k.record == NULL && k.principal == NULL && k.case_ref == NULL && k.check == NULL &&
	    k.action == NULL && k.since == NULL && k.until == NULL)
		return ctl_usage_error("audit find", "give at least one of --record, --principal, --case, "
						     "--check, --action, --since, --until");
	if ((f = fopen(argv[optind], "re")) == NULL) {
		ctl_err("cannot read the export %s: %s", argv[optind], strerror(errno));
		return EXIT_FAILURE_LOCAL;
	}
	why = json_object();
	while ((len = getline(&line, &cap, f)) >= 0) {
		json_t *e;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		e = json_loadb(line, (size_t)len, 0, NULL);
		if (!json_is_object(e)) {
			ctl_err("%s: line %zu is not a JSON object: is it an audit export?", argv[optind],
				lineno);
			json_decref(e);
			rc = EXIT_FAILURE_LOCAL;
			goto out;
		}
		if (!selected(e, &k)) {
			json_decref(e);
			continue;
		}
		if (n_kept == cap_kept) {
			struct kept *nk = realloc(kept, (cap_kept = cap_kept ? 2 * cap_kept : 64) * sizeof(*kept));

			if (nk == NULL) {
				json_decref(e);
				ctl_err("out of memory");
				rc = EXIT_FAILURE_LOCAL;
				goto out;
			}
			kept = nk;
		}
		kept[n_kept].line = json_out ? strdup(line) : NULL;
		kept[n_kept++].e = e;
		if (check_of(e)[0] != '\0' && why != NULL)
			json_object_set_new(why, check_of(e), json_null());
	}
	/* The checks the entries kept were made through: their why. */
	if (!json_out && why != NULL && json_object_size(why) > 0) {
		rewind(f);
		while ((len = getline(&line, &cap, f)) >= 0) {
			json_t *e;
			const char *cid;

			if (strstr(line, "\"check.create\"") == NULL)
				continue;
			e = json_loadb(line, (size_t)len, 0, NULL);
			cid = s_of(json_object_get(e, "result"), "check_id");
			if (cid[0] != '\0' && json_object_get(why, cid) != NULL &&
			    strcmp(s_of(e, "action"), "check.create") == 0)
				json_object_set(why, cid, e);
			json_decref(e);
		}
	}
	if (ferror(f)) {
		ctl_err("cannot read the export %s: %s", argv[optind], strerror(errno));
		rc = EXIT_FAILURE_LOCAL;
		goto out;
	}
	if (!json_out && n_kept > 0) {
		put_cell("seq", 7);
		put_cell("time", 26);
		put_cell("principal", 16);
		put_cell("action", 22);
		put_cell("st", 5);
		put_cell("check", 32);
		put_cell("case", 20);
		put_cell("purpose", 24);
		puts("justification");
	}
	for (size_t i = 0; i < n_kept; i++) {
		if (json_out) {
			puts(kept[i].line != NULL ? kept[i].line : "");
		} else {
			json_t *w = json_object_get(why, check_of(kept[i].e));

			print_entry(kept[i].e, json_is_object(w) ? w : NULL);
		}
	}
	if (n_kept == 0) {
		fprintf(stderr, "audit find: no entry of %s is selected\n", argv[optind]);
		rc = EXIT_FAILURE_LOCAL;
	}
out:
	for (size_t i = 0; i < n_kept; i++) {
		free(kept[i].line);
		json_decref(kept[i].e);
	}
	free(kept);
	free(line);
	json_decref(why);
	fclose(f);
	return rc;
}
