/*
 * fuzz_check_request.c - the POST /v1/checks and decision body parsers.
 *
 * check_request_parse() reads a plainly valid body with a reader of its
 * own and leaves every other body to jansson (check_request_parse_tree).
 * The two must never disagree: every input is read both ways, and a
 * body one accepts and the other refuses, or that they read differently,
 * stops the fuzzer (a crash with the input saved, like any other).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "disclosure/check.h"

static int str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int same_request(const struct check_request *a, const struct check_request *b)
{
	const struct check_subject *x = &a->subject, *y = &b->subject;

	if (!str_eq(a->case_ref, b->case_ref) || a->purpose != b->purpose ||
	    !str_eq(a->justification, b->justification))
		return 0;
	if (x->n_names != y->n_names || memcmp(&x->dob, &y->dob, sizeof(x->dob)) != 0 || x->age != y->age ||
	    strncmp(x->postcode, y->postcode, sizeof(x->postcode)) != 0 || x->sex != y->sex)
		return 0;
	for (size_t i = 0; i < x->n_names; i++) {
		const struct person_name *p = &x->names[i], *q = &y->names[i];
		if (!str_eq(p->given, q->given) || !str_eq(p->middle, q->middle) || !str_eq(p->family, q->family) ||
		    p->kind != q->kind)
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct check_request req, tree;
	struct decision_request dec;
	struct dsc_error err, terr;
	int rc = check_request_parse((const char *)data, size, &req, &err);
	int trc = check_request_parse_tree((const char *)data, size, &tree, &terr);

	if (rc != trc)
		abort(); /* one reader accepts what the other refuses */
	if (rc == DSC_OK) {
		json_t *q = check_subject_to_json(&req.subject);
		if (!same_request(&req, &tree))
			abort(); /* read differently */
		json_decref(q);
		check_request_release(&req);
		check_request_release(&tree);
	} else if (strcmp(err.msg, terr.msg) != 0) {
		abort(); /* every refusal is jansson's path's, word for word */
	}
	if (decision_request_parse((const char *)data, size, &dec, &err) == DSC_OK)
		decision_request_release(&dec);
	return 0;
}
