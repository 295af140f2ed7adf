/* fuzz_offender.c - the import record parser (one line of the import format). */
#include <stddef.h>
#include <stdint.h>

#include "disclosure/offender.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct offender *o = NULL;
	struct dsc_error err;

	if (offender_parse((const char *)data, size, &o, &err) == DSC_OK) {
		struct offender *again = NULL;
		/* What we accept we must accept again from our own canonical form. */
		if (offender_parse(o->json, o->json_len, &again, &err) != DSC_OK)
			__builtin_trap();
		offender_free(again);
		offender_free(o);
	}
	return 0;
}
