/*
 * fuzz_audit_chain.c - the audit chain built by the encoder and read by the
 * verifier, with a fixed key made once at start.  fuzz_audit_verify feeds
 * the verifier bytes the fuzzer invents, which nearly always fail at the
 * first hash; here the input is a program instead: entries with fields of
 * the fuzzer's bytes and checkpoints signed with the key, then at most one
 * change to the export.  Two properties, each a crash when broken:
 *
 *   - unchanged, the export verifies, with every checkpoint counted;
 *   - a byte of a line changed, a line removed (not the last), repeated or
 *     two different lines swapped, it never verifies.
 *
 * Input: byte 0 the number of steps (at most 24).  Each step: one byte,
 * bit 0 set for a checkpoint, else an entry whose "principal", "action"
 * and "note" are the next 1 + (b >> 1) % 24 bytes split in three (as they
 * are when UTF-8, the encoder escaping them) and whose "status" is the
 * step byte.  Then the
 * change: a byte (0-4: none, a byte, a line removed, a line repeated, two
 * lines swapped), and two bytes that choose where.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "disclosure/audit.h"

#define STEPS_MAX 24
#define LINES_MAX (STEPS_MAX + 1)

static EVP_PKEY *fz_key;

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static int fz_byte(struct fz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

/* A JSON string of the bytes as they are when they are UTF-8 (the encoder
 * escapes what JSON and ASCII need), else each byte outside printable
 * ASCII as %XX, so that every byte still counts. */
static json_t *fz_string(const uint8_t *b, size_t n)
{
	char buf[3 * 24 + 1];
	size_t k = 0;
	json_t *s = json_stringn((const char *)b, n);

	if (s != NULL)
		return s;
	for (size_t i = 0; i < n; i++) {
		if (b[i] >= 0x20 && b[i] < 0x7f)
			buf[k++] = (char)b[i];
		else
			k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%%%02x", b[i]);
	}
	buf[k] = '\0';
	return json_string(buf);
}

static json_t *fz_fields(struct fz_in *in, int step)
{
	size_t n = 1 + (size_t)(step >> 1) % 24, a, b;
	uint8_t bytes[24];
	json_t *o = json_object();

	for (size_t i = 0; i < n; i++)
		bytes[i] = (uint8_t)fz_byte(in);
	a = n / 3;
	b = 2 * n / 3;
	json_object_set_new(o, "principal", fz_string(bytes, a));
	json_object_set_new(o, "action", fz_string(bytes + a, b - a));
	json_object_set_new(o, "status", json_integer(step));
	json_object_set_new(o, "note", fz_string(bytes + b, n - b));
	return o;
}

static int fz_verify(char **lines, const size_t *lens, size_t n, bool allow_unsealed,
                     struct audit_verify_result *res)
{
	size_t total = 0, at = 0;
	char *buf;
	FILE *f;
	int rc;

	for (size_t i = 0; i < n; i++)
		total += lens[i] + 1;
	buf = malloc(total + 1);
	if (buf == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		memcpy(buf + at, lines[i], lens[i]);
		at += lens[i];
		buf[at++] = '\n';
	}
	f = total > 0 ? fmemopen(buf, total, "r") : fopen("/dev/null", "r");
	if (f == NULL)
		abort();
	rc = audit_verify_stream(f, fz_key, allow_unsealed, res);
	fclose(f);
	free(buf);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	struct audit_chain chain;
	struct audit_verify_result res;
	struct dsc_error err;
	char *lines[LINES_MAX];
	size_t lens[LINES_MAX], n = 0, checkpoints = 0, steps;
	bool sealed = false;
	int change, where, where2;

	if (fz_key == NULL)
		fz_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (fz_key == NULL || size == 0)
		return 0;
	audit_chain_init(&chain);
	steps = (size_t)fz_byte(&in) % (STEPS_MAX + 1);
	for (size_t s = 0; s < steps; s++) {
		int step = fz_byte(&in);
		int rc;
		if ((step & 1) != 0) {
			rc = audit_checkpoint_encode(&chain, fz_key, 1764590400000 + (int64_t)s,
			                             &lines[n], &lens[n], &err);
			if (rc == DSC_OK) {
				checkpoints++;
				sealed = true;
			}
		} else {
			json_t *fields = fz_fields(&in, step);
			rc = audit_entry_encode(&chain, fields, 1764590400000 + (int64_t)s,
			                        &lines[n], &lens[n], &err);
			json_decref(fields);
			if (rc == DSC_OK)
				sealed = false;
		}
		if (rc != DSC_OK)
			__builtin_trap(); /* the encoder refused what it was given */
		n++;
	}

	/* Unchanged: it verifies, every checkpoint counted. */
	if (n > 0 && (fz_verify(lines, lens, n, !sealed, &res) != DSC_OK || !res.ok ||
	              res.checkpoints != checkpoints || res.entries != n))
		__builtin_trap();

	change = fz_byte(&in) % 5;
	where = fz_byte(&in) << 8; /* two statements: the order of the reads is fixed */
	where |= fz_byte(&in);
	where2 = fz_byte(&in);
	if (change != 0 && n > 0) {
		size_t k = (size_t)where % n, k2 = (size_t)where2 % n;
		bool must_fail = true;
		char *keep = lines[k];
		size_t keep_len = lens[k];

		if (change == 1) { /* one byte of line k changed */
			char *copy = malloc(lens[k]);
			size_t at = (size_t)where2 % lens[k];
			uint8_t to = (uint8_t)(fz_byte(&in) | 1);
			if (copy == NULL)
				abort();
			memcpy(copy, lines[k], lens[k]);
			copy[at] = (char)((uint8_t)copy[at] ^ to);
			if (copy[at] == '\n') /* the byte stays in its line (lines are ASCII) */
				copy[at] = (char)((uint8_t)keep[at] ^ 1u);
			lines[k] = copy;
			(void)fz_verify(lines, lens, n, true, &res);
			free(copy);
			lines[k] = keep;
		} else if (change == 2) { /* line k removed: the last may go */
			must_fail = k + 1 < n;
			memmove(lines + k, lines + k + 1, (n - k - 1) * sizeof(*lines));
			memmove(lens + k, lens + k + 1, (n - k - 1) * sizeof(*lens));
			(void)fz_verify(lines, lens, n - 1, true, &res);
			memmove(lines + k + 1, lines + k, (n - k - 1) * sizeof(*lines));
			memmove(lens + k + 1, lens + k, (n - k - 1) * sizeof(*lens));
			lines[k] = keep;
			lens[k] = keep_len;
		} else if (change == 3) { /* line k repeated after itself */
			memmove(lines + k + 1, lines + k, (n - k) * sizeof(*lines));
			memmove(lens + k + 1, lens + k, (n - k) * sizeof(*lens));
			(void)fz_verify(lines, lens, n + 1, true, &res);
			memmove(lines + k, lines + k + 1, (n - k) * sizeof(*lines));
			memmove(lens + k, lens + k + 1, (n - k) * sizeof(*lens));
		} else { /* lines k and k2 swapped */
			must_fail = k != k2;
			lines[k] = lines[k2];
			lens[k] = lens[k2];
			lines[k2] = keep;
			lens[k2] = keep_len;
			(void)fz_verify(lines, lens, n, true, &res);
			lines[k2] = lines[k];
			lens[k2] = lens[k];
			lines[k] = keep;
			lens[k] = keep_len;
		}
		if (must_fail && res.ok)
			__builtin_trap(); /* a changed export verified */
	}
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	return 0;
}
