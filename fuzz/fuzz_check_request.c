/* fuzz_check_request.c - the POST /v1/checks and decision body parsers. */
#include <stddef.h>
#include <stdint.h>

#include "disclosure/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct check_request req;
	struct decision_request dec;
	struct dsc_error err;

	if (check_request_parse((const char *)data, size, &req, &err) == DSC_OK) {
		json_t *q = check_subject_to_json(&req.subject);
		json_decref(q);
		check_request_release(&req);
	}
	if (decision_request_parse((const char *)data, size, &dec, &err) == DSC_OK)
		decision_request_release(&dec);
	return 0;
}
