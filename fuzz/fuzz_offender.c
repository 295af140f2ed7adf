/*
 * fuzz_offender.c - the import record parser (one line of the import
 * format).  What it accepts it must accept again from its own canonical
 * form, which must be that form already (stable), and must be jansson's
 * compact dump of itself: the stored text is what GET returns and what
 * the audit log's hashes cover, whichever of the parser's paths wrote it
 * (the plain reader may keep the input as it came).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "disclosure/offender.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct offender *o = NULL;
	struct dsc_error err;

	if (offender_parse((const char *)data, size, &o, &err) == DSC_OK) {
		struct offender *again = NULL;
		json_t *root;
		char *dump;

		if (offender_parse(o->json, o->json_len, &again, &err) != DSC_OK)
			__builtin_trap();
		if (again->json_len != o->json_len || memcmp(again->json, o->json, o->json_len) != 0)
			__builtin_trap(); /* not stable */
		root = json_loadb(o->json, o->json_len, 0, NULL);
		if (root == NULL)
			__builtin_trap();
		dump = json_dumps(root, JSON_COMPACT);
		if (dump == NULL || strlen(dump) != o->json_len || memcmp(dump, o->json, o->json_len) != 0)
			__builtin_trap(); /* not jansson's compact form */
		free(dump);
		json_decref(root);
		offender_free(again);
		offender_free(o);
	}
	return 0;
}
