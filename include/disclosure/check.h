/*
 * check.h - the requests of the check endpoints, parsed and validated
 * (contract.md "POST /v1/checks" and "decision"), with errors that name
 * the field.  Knows nothing of HTTP.
 */
#ifndef DISCLOSURE_CHECK_H
#define DISCLOSURE_CHECK_H

#include <jansson.h>

#include "disclosure/error.h"
#include "disclosure/match.h"

#define CASE_REF_MAX 64
#define JUSTIFICATION_MAX 1000 /* characters (code points) */

enum purpose {
	PURPOSE_CSODS_RIGHT_TO_ASK = 0,
	PURPOSE_CSODS_RIGHT_TO_BE_TOLD,
	PURPOSE_DVDS_RIGHT_TO_ASK,
	PURPOSE_DVDS_RIGHT_TO_KNOW,
	PURPOSE_MAPPA_REVIEW,
	PURPOSE_OTHER,
};
const char *purpose_name(enum purpose p);

struct check_request {
	json_t *json; /* the parsed body (owns the strings below) */
	/* Addition: or this copy of the body, its strings decoded in place,
	 * when the body was read without jansson (json is then NULL). */
	char *text;
	const char *case_ref;
	enum purpose purpose;
	const char *justification;
	struct check_subject subject;
};

/* DSC_EJSON for a body that is not a JSON object in UTF-8, DSC_EINVAL with
 * err->field for a field that breaks the contract. */
/* Addition, the rules beyond contract.md: unknown members at any level are
 * rejected as invalid_field naming them ("subject.nickname: unknown
 * field"), and so are repeated member names (DSC_EJSON), so that nothing a
 * caller typed is silently dropped.  Name parts are trimmed of spaces,
 * tabs and line breaks in place (a blank given/middle is absent; a blank
 * family is an error); other control characters are refused in names and
 * in free text.  A postcode may be any text without control
 * characters but tab and line breaks, up to 127 bytes (an address line
 * or two: the matcher reads the postcode out
 * of it); a blank one is absent, and so is a blank ("" or spaces) dob,
 * age or sex, as forms send a field left empty.  dob and age may both be
 * given.  A dob known in part is taken as "YYYY-MM" or "YYYY" (or with
 * zeros, "1970-03-00", "1970-00-00"), and written back in the short form.
 * subject.names[i] point into r->json: valid until
 * check_request_release(). */
int check_request_parse(const char *body, size_t len, struct check_request *out,
			struct dsc_error *err);
void check_request_release(struct check_request *r);
/* The subject as JSON (what the audit log records as the query). */
json_t *check_subject_to_json(const struct check_subject *s);

enum decision_kind { DECISION_DISCLOSE = 0, DECISION_NO_DISCLOSURE, DECISION_REFER };
const char *decision_name(enum decision_kind d);

struct decision_request {
	json_t *json;
	enum decision_kind decision;
	const char *offender_id; /* NULL allowed only for no_disclosure */
	const char *recipient;   /* required for disclose */
	const char *rationale;   /* optional */
};
int decision_request_parse(const char *body, size_t len, struct decision_request *out,
			   struct dsc_error *err);
void decision_request_release(struct decision_request *r);

/*
 * Addition: the text of check_subject_to_json(s) without the tree.
 * check_subject_audit() appends it as an audit line encodes it
 * (audit.h, audit_members): m->rc is DSC_EINVAL if a name is not UTF-8,
 * where check_subject_to_json() would have failed.
 * check_subject_dump() gives it, in pieces, as
 * json_dumps(JSON_COMPACT) writes it; false (nothing given) if a name is
 * not UTF-8.
 */
struct audit_members;
void check_subject_audit(const struct check_subject *s, struct audit_members *m);
bool check_subject_dump(const struct check_subject *s,
			void (*put)(void *arg, const char *p, size_t n), void *arg);

/*
 * Addition: check_request_parse() reads a body that is plainly valid
 * (the common case) with a reader of its own, and gives every other
 * body to jansson and the checks above, whose error it returns: so
 * every error is the one jansson's path gives, and a body read either
 * way gives the same request.  check_request_parse_tree() is jansson's
 * path alone, for the tests that compare the two.
 */
int check_request_parse_tree(const char *body, size_t len, struct check_request *out,
			     struct dsc_error *err);

#endif
