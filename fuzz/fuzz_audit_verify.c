/*
 * fuzz_audit_verify.c - the offline audit export verifier.  A fixed public
 * key (made once at start) verifies whatever export the fuzzer invents: it
 * must never crash, and must never accept a file, since the fuzzer cannot
 * forge an Ed25519 signature.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "disclosure/audit.h"

static EVP_PKEY *fuzz_key;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_verify_result res;
	FILE *f;

	if (fuzz_key == NULL)
		fuzz_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (fuzz_key == NULL || size == 0)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (f == NULL)
		return 0;
	if (audit_verify_stream(f, fuzz_key, false, &res) == DSC_OK && res.checkpoints > 0)
		__builtin_trap(); /* a signature the fuzzer could not have made */
	fclose(f);
	f = fmemopen((void *)data, size, "r");
	if (f != NULL) {
		(void)audit_verify_stream(f, fuzz_key, true, &res);
		fclose(f);
	}
	return 0;
}
