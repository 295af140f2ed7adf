/* fuzz_config.c - the daemon configuration and ACL parsers (inih based). */
#include <stddef.h>
#include <stdint.h>

#include "disclosure/acl.h"
#include "disclosure/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	struct acl *a = NULL;
	struct dsc_error err;

	if (config_parse((const char *)data, size, "/nonexistent/fuzz/disclosured.conf", &c, &err) == DSC_OK)
		config_free(c);
	if (acl_parse((const char *)data, size, "fuzz-acl.conf", &a, &err) == DSC_OK) {
		(void)acl_find_cn(a, "alice.jones");
		acl_free(a);
	}
	return 0;
}
