/*
 * test_audit.c - the audit chain (lib/audit.c): the line format, the
 * signed checkpoints, and above all the verifier against every way of
 * tampering with an export that docs/audit-format.md promises to catch,
 * including the two that fooled journald's verifier (CVE-2023-31438: a
 * tail truncated behind a seal; CVE-2023-31439: a log re-signed with
 * another key).  Keys are generated fresh in each run; the people in the
 * entries are invented.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/pem.h>

#include "disclosure/audit.h"

#define T0_MS 1795888800123LL /* 2026-11-28T18:00:00.123Z */
#define MAX_LINES 64

static EVP_PKEY *key;       /* the daemon's key */
static EVP_PKEY *other_key; /* somebody else's Ed25519 key */

/* An export held as lines, so that tests can tamper with it. */
struct log {
	char *line[MAX_LINES];
	size_t n;
};

static void log_free(struct log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->line[i]);
	l->n = 0;
}

static json_t *entry_fields(size_t i)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:s}", "principal", "tamsin.okafor", "action",
	                 "check", "case_ref", i % 2 ? "WM-CSODS-2026-0042" : "WM-DVDS-2026-0007",
	                 "status", 200, "note", "caf\xc3\xa9 & \"quotes\"");
}

/*
 * Builds n lines: entries, with a checkpoint wherever is_cp[seq] says (a
 * checkpoint takes a seq like any entry).
 */
static void log_build(struct log *l, size_t n, const bool *is_cp, struct audit_chain *c_out)
{
	struct audit_chain c;
	struct dsc_error err;

	audit_chain_init(&c);
	l->n = 0;
	for (size_t i = 0; i < n; i++) {
		char *line = NULL;
		size_t len = 0;
		int rc;

		if (is_cp != NULL && is_cp[i]) {
			rc =
			    audit_checkpoint_encode(&c, key, T0_MS + (int64_t)i, &line, &len, &err);
		} else {
			json_t *f = entry_fields(i);

			rc = audit_entry_encode(&c, f, T0_MS + (int64_t)i, &line, &len, &err);
			json_decref(f);
		}
		assert_int_equal(rc, DSC_OK);
		assert_int_equal(strlen(line), len);
		l->line[l->n++] = line;
	}
	if (c_out != NULL)
		*c_out = c;
}

static FILE *log_file(const struct log *l, const char *trailer)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%s\n", l->line[i]);
	if (trailer != NULL)
		fputs(trailer, f);
	rewind(f);
	return f;
}

static int verify(const struct log *l, const char *trailer, bool allow_unsealed,
                  struct audit_verify_result *res)
{
	FILE *f = log_file(l, trailer);
	int rc = audit_verify_stream(f, key, allow_unsealed, res);

	fclose(f);
	assert_true((rc == DSC_OK) == res->ok);
	return rc;
}

/* Re-encodes a (tampered) line object the way a forger would: correct
 * hash over the new bytes. */
static char *reseal(json_t *obj)
{
	char *dump, *out, hash[AUDIT_HASH_HEX + 1];
	size_t n;

	json_object_del(obj, "hash");
	dump = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	assert_non_null(dump);
	n = strlen(dump) - 1; /* without '}' */
	assert_int_equal(audit_line_hash(dump, n, hash), DSC_OK);
	out = malloc(n + 80 + 1);
	assert_non_null(out);
	snprintf(out, n + 81, "%.*s,\"hash\":\"%s\"}", (int)n, dump, hash);
	free(dump);
	return out;
}

static json_t *line_json(const char *line)
{
	json_t *j = json_loads(line, 0, NULL);

	assert_non_null(j);
	return j;
}

static const char *line_hash(const char *line)
{
	static char h[AUDIT_HASH_HEX + 1];
	json_t *j = line_json(line);

	snprintf(h, sizeof(h), "%s", json_string_value(json_object_get(j, "hash")));
	json_decref(j);
	return h;
}

/* Rewrites line i from the chain head prev onwards, renumbered to seq. */
static void forge_line(struct log *l, size_t i, uint64_t seq, const char *prev)
{
	json_t *j = line_json(l->line[i]);

	json_object_set_new(j, "seq", json_integer((json_int_t)seq));
	json_object_set_new(j, "prev", json_string(prev));
	free(l->line[i]);
	l->line[i] = reseal(j);
	json_decref(j);
}

/* ---- the line format ---- */

static void entry_line_has_the_documented_shape(void **state)
{
	static const char expected[] =
	    "{\"seq\":0,\"time\":\"2026-11-28T18:00:00.123Z\",\"prev\":\""
	    "0000000000000000000000000000000000000000000000000000000000000000\","
	    "\"principal\":\"tamsin.okafor\",\"action\":\"check\",\"case_ref\":"
	    "\"WM-DVDS-2026-0007\",\"status\":200,\"note\":\"caf\\u00E9 & "
	    "\\\"quotes\\\"\",\"hash\":\"";
	struct log l;
	char hash[AUDIT_HASH_HEX + 1];
	const char *tail;
	size_t len;

	(void)state;
	log_build(&l, 2, NULL, NULL);
	assert_true(strncmp(l.line[0], expected, strlen(expected)) == 0);
	/* hash = SHA-256 of the bytes before ,"hash":" */
	len = strlen(l.line[0]);
	tail = strstr(l.line[0], ",\"hash\":\"");
	assert_non_null(tail);
	assert_int_equal(audit_line_hash(l.line[0], (size_t)(tail - l.line[0]), hash), DSC_OK);
	assert_memory_equal(tail + 9, hash, AUDIT_HASH_HEX);
	assert_string_equal(l.line[0] + len - 2, "\"}");
	/* the next entry links to it */
	assert_non_null(strstr(l.line[1], hash));
	/* pure ASCII, whatever the fields held */
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)l.line[0][i] < 0x80);
	log_free(&l);
}

static void chain_fields_may_not_be_given_by_the_caller(void **state)
{
	static const char *const reserved[] = {"seq", "time", "prev", "hash"};
	struct audit_chain c;
	struct dsc_error err;

	(void)state;
	audit_chain_init(&c);
	for (size_t i = 0; i < 4; i++) {
		json_t *f = json_pack("{s:s, s:i}", "action", "check", reserved[i], 1);
		char *line = NULL;
		size_t len;

		assert_int_equal(audit_entry_encode(&c, f, T0_MS, &line, &len, &err), DSC_EINVAL);
		assert_non_null(strstr(err.msg, reserved[i]));
		assert_null(line);
		assert_int_equal(c.next_seq, 0); /* the chain did not move */
		json_decref(f);
	}
}

static void time_before_1970_is_refused(void **state)
{
	struct audit_chain c;
	struct dsc_error err;
	json_t *f = json_pack("{s:s}", "action", "check");
	char *line = NULL;
	size_t len;

	(void)state;
	audit_chain_init(&c);
	assert_int_equal(audit_entry_encode(&c, f, -5, &line, &len, &err), DSC_EINVAL);
	assert_int_equal(c.next_seq, 0);
	json_decref(f);
}

static void checkpoint_signs_the_documented_message(void **state)
{
	bool cp[4] = {false, false, false, true};
	struct log l;
	json_t *j, *c;
	char msg[512], key_id[AUDIT_KEY_ID_HEX + 1];
	unsigned char sig[80];
	EVP_MD_CTX *md;

	(void)state;
	log_build(&l, 4, cp, NULL);
	j = line_json(l.line[3]);
	c = json_object_get(j, "checkpoint");
	assert_string_equal(json_string_value(json_object_get(j, "action")), "checkpoint");
	assert_int_equal(json_integer_value(json_object_get(c, "size")), 3);
	assert_string_equal(json_string_value(json_object_get(c, "head")), line_hash(l.line[2]));
	assert_string_equal(json_string_value(json_object_get(c, "algorithm")), "ed25519");
	assert_int_equal(audit_key_id(key, key_id), DSC_OK);
	assert_string_equal(json_string_value(json_object_get(c, "key_id")), key_id);
	assert_string_equal(json_string_value(json_object_get(c, "signed_at")),
	                    "2026-11-28T18:00:00.126Z");
	/* Rebuild the message by hand, as docs/audit-format.md says. */
	snprintf(msg, sizeof(msg),
	         "disclosured-checkpoint-v1\nsize=3\nhead=%s\nsigned_at=%s\nkey_id=%s\n",
	         json_string_value(json_object_get(c, "head")),
	         json_string_value(json_object_get(c, "signed_at")), key_id);
	assert_int_equal(
	    EVP_DecodeBlock(
	        sig, (const unsigned char *)json_string_value(json_object_get(c, "signature")), 88),
	    66);
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, NULL, NULL, key), 1);
	assert_int_equal(EVP_DigestVerify(md, sig, 64, (unsigned char *)msg, strlen(msg)), 1);
	EVP_MD_CTX_free(md);
	json_decref(j);
	log_free(&l);
}

static void resumed_chain_continues_where_it_stopped(void **state)
{
	bool cp[6] = {false, false, true, false, false, false};
	struct log whole, part;
	struct audit_chain c;
	struct dsc_error err;
	json_t *f = entry_fields(5);
	char *line;
	size_t len;

	(void)state;
	log_build(&whole, 6, cp, NULL);
	log_build(&part, 5, cp, NULL);
	assert_int_equal(audit_chain_resume(&c, 5, part.line[4], strlen(part.line[4]), &err),
	                 DSC_OK);
	assert_int_equal(c.next_seq, 5);
	assert_int_equal(audit_entry_encode(&c, f, T0_MS + 5, &line, &len, &err), DSC_OK);
	assert_string_equal(line, whole.line[5]);
	free(line);
	/* a damaged or misplaced last line is refused */
	assert_int_equal(audit_chain_resume(&c, 4, part.line[4], strlen(part.line[4]), &err),
	                 DSC_EINVAL);
	assert_int_equal(audit_chain_resume(&c, 5, "{\"seq\":4}", 9, &err), DSC_EINVAL);
	/* after a checkpoint, the chain knows what it covers */
	assert_int_equal(audit_chain_resume(&c, 3, part.line[2], strlen(part.line[2]), &err),
	                 DSC_OK);
	assert_int_equal(c.last_checkpoint_size, 2);
	json_decref(f);
	log_free(&whole);
	log_free(&part);
}

static void unstored_checkpoint_seals_without_moving_the_chain(void **state)
{
	struct log l;
	struct audit_chain c, before;
	struct dsc_error err;
	struct audit_verify_result res;
	char *line;
	size_t len;

	(void)state;
	log_build(&l, 5, NULL, &c);
	before = c;
	assert_int_equal(audit_checkpoint_encode_unstored(&c, key, T0_MS + 9, &line, &len, &err),
	                 DSC_OK);
	/* member by member: the struct's padding is not the chain */
	assert_int_equal(c.next_seq, before.next_seq);
	assert_string_equal(c.head, before.head);
	assert_int_equal(c.last_checkpoint_size, before.last_checkpoint_size);
	l.line[l.n++] = line;
	assert_int_equal(verify(&l, NULL, false, &res), DSC_OK);
	assert_int_equal(res.sealed_size, 5);
	log_free(&l);
}

/* A field may hold any string, NUL included (JSON writes it \u0000): the
 * verifier read such a line as invalid JSON, so an export holding one
 * could never verify and a daemon whose last entry held one could not
 * resume (fuzz_audit_chain found it).  Now it verifies and resumes; and
 * a member the verifier reads never matches through a NUL ("checkpoint"
 * followed by one is no checkpoint). */
static void a_field_holding_nul_verifies_and_resumes(void **state)
{
	struct log l = {0};
	struct audit_chain c, r;
	struct dsc_error err;
	struct audit_verify_result res;
	json_t *f = json_object();
	size_t len;

	(void)state;
	audit_chain_init(&c);
	json_object_set_new(f, "principal", json_string("cw.alice"));
	json_object_set_new(f, "action", json_stringn("check\0x", 7));
	json_object_set_new(f, "note", json_stringn("\0", 1));
	assert_int_equal(audit_entry_encode(&c, f, T0_MS, &l.line[l.n++], &len, &err), DSC_OK);
	assert_non_null(strstr(l.line[0], "\"note\":\"\\u0000\""));
	assert_int_equal(audit_checkpoint_encode(&c, key, T0_MS + 1, &l.line[l.n++], &len, &err), DSC_OK);
	assert_int_equal(verify(&l, NULL, false, &res), DSC_OK);
	assert_int_equal(res.entries, 2);
	assert_int_equal(res.checkpoints, 1);
	/* The daemon restarted after that entry resumes from it. */
	len = strlen(l.line[0]);
	assert_int_equal(audit_chain_resume(&r, 1, l.line[0], len, &err), DSC_OK);
	assert_int_equal(r.next_seq, 1);
	assert_memory_equal(r.head, l.line[0] + len - 2 - AUDIT_HASH_HEX, AUDIT_HASH_HEX);
	json_decref(f);
	log_free(&l);

	/* An entry whose action is "checkpoint" and a NUL: an entry, not a
	 * checkpoint, so the log is unsealed. */
	audit_chain_init(&c);
	f = json_object();
	json_object_set_new(f, "action", json_stringn("checkpoint\0", 11));
	assert_int_equal(audit_entry_encode(&c, f, T0_MS, &l.line[l.n++], &len, &err), DSC_OK);
	assert_int_not_equal(verify(&l, NULL, false, &res), DSC_OK);
	assert_int_equal(verify(&l, NULL, true, &res), DSC_OK);
	assert_int_equal(res.checkpoints, 0);
	json_decref(f);
	log_free(&l);
}

/* ---- the verifier ---- */

static void sealed_log_verifies(void **state)
{
	bool cp[12] = {[4] = true, [11] = true};
	struct log l;
	struct audit_verify_result res;

	(void)state;
	log_build(&l, 12, cp, NULL);
	assert_int_equal(verify(&l, NULL, false, &res), DSC_OK);
	assert_int_equal(res.entries, 12);
	assert_int_equal(res.checkpoints, 2);
	assert_int_equal(res.sealed_size, 11);
	assert_int_equal(res.first_bad_seq, -1);
	/* a last line without its newline is still the same bytes */
	{
		FILE *f = tmpfile();

		for (size_t i = 0; i < l.n; i++)
			fprintf(f, i + 1 < l.n ? "%s\n" : "%s", l.line[i]);
		rewind(f);
		assert_int_equal(audit_verify_stream(f, key, false, &res), DSC_OK);
		fclose(f);
	}
	log_free(&l);
}

/* Each tamper gets a fresh log of 12 lines: entries 0-3, checkpoint 4,
 * entries 5-10, checkpoint 11. */
typedef void (*tamper_fn)(struct log *l);

static void change_one_byte(struct log *l)
{
	char *p = strstr(l->line[3], "tamsin");

	p[0] = 'T';
}

static void remove_a_line(struct log *l)
{
	free(l->line[6]);
	memmove(&l->line[6], &l->line[7], (l->n - 7) * sizeof(char *));
	l->n--;
}

static void swap_two_lines(struct log *l)
{
	char *t = l->line[2];

	l->line[2] = l->line[3];
	l->line[3] = t;
}

static void duplicate_a_line(struct log *l)
{
	memmove(&l->line[6], &l->line[5], (l->n - 5) * sizeof(char *));
	l->line[5] = strdup(l->line[6]);
	l->n++;
}

/* A forged entry that links correctly to seq 6 and carries a true hash,
 * pushed in before the real seq 7. */
static void insert_forged_line(struct log *l)
{
	json_t *j = line_json(l->line[7]);

	json_object_set_new(j, "principal", json_string("forged.person"));
	memmove(&l->line[8], &l->line[7], (l->n - 7) * sizeof(char *));
	l->line[7] = reseal(j);
	l->n++;
	json_decref(j);
}

/* The forger rewrites entry 6 and re-hashes everything after it, the
 * last checkpoint included; only the signature can catch this. */
static void rewrite_and_rehash_the_rest(struct log *l)
{
	json_t *j = line_json(l->line[6]);
	char prev[AUDIT_HASH_HEX + 1];

	json_object_set_new(j, "status", json_integer(403));
	free(l->line[6]);
	l->line[6] = reseal(j);
	json_decref(j);
	for (size_t i = 7; i < l->n; i++) {
		snprintf(prev, sizeof(prev), "%s", line_hash(l->line[i - 1]));
		if (i == 11) {
			json_t *c = line_json(l->line[i]);

			json_object_set_new(json_object_get(c, "checkpoint"), "head",
			                    json_string(prev));
			json_object_set_new(c, "prev", json_string(prev));
			free(l->line[i]);
			l->line[i] = reseal(c);
			json_decref(c);
		} else {
			forge_line(l, i, i, prev);
		}
	}
}

/* Truncation behind the first checkpoint: the tail, with the last
 * checkpoint, is gone. */
static void truncate_behind_a_checkpoint(struct log *l)
{
	for (size_t i = 8; i < l->n; i++)
		free(l->line[i]);
	l->n = 8;
}

/* An export made with --from: the first lines are not there. */
static void keep_from_seq_5(struct log *l)
{
	for (size_t i = 0; i < 5; i++)
		free(l->line[i]);
	memmove(l->line, l->line + 5, (l->n - 5) * sizeof(l->line[0]));
	l->n -= 5;
}

/* A well-formed, well-linked entry appended after the last checkpoint. */
static void append_after_last_checkpoint(struct log *l)
{
	struct audit_chain c;
	struct dsc_error err;
	json_t *f = entry_fields(12);
	char *line;
	size_t len;

	assert_int_equal(audit_chain_resume(&c, 12, l->line[11], strlen(l->line[11]), &err),
	                 DSC_OK);
	assert_int_equal(audit_entry_encode(&c, f, T0_MS + 12, &line, &len, &err), DSC_OK);
	l->line[l->n++] = line;
	json_decref(f);
}

/* The whole log re-signed with another key (the journald -31439 case). */
static void resign_with_another_key(struct log *l)
{
	struct audit_chain c;
	struct dsc_error err;
	char *line;
	size_t len;

	assert_int_equal(audit_chain_resume(&c, 11, l->line[10], strlen(l->line[10]), &err),
	                 DSC_OK);
	assert_int_equal(audit_checkpoint_encode(&c, other_key, T0_MS + 11, &line, &len, &err),
	                 DSC_OK);
	free(l->line[11]);
	l->line[11] = line;
}

/* Signed by another key, but claiming the right key's id. */
static void resign_and_claim_the_right_key_id(struct log *l)
{
	char key_id[AUDIT_KEY_ID_HEX + 1];
	json_t *j;

	resign_with_another_key(l);
	assert_int_equal(audit_key_id(key, key_id), DSC_OK);
	j = line_json(l->line[11]);
	json_object_set_new(json_object_get(j, "checkpoint"), "key_id", json_string(key_id));
	free(l->line[11]);
	l->line[11] = reseal(j);
	json_decref(j);
}

static void checkpoint_claims_another_size(struct log *l)
{
	json_t *j = line_json(l->line[4]);

	json_object_set_new(json_object_get(j, "checkpoint"), "size", json_integer(3));
	free(l->line[4]);
	l->line[4] = reseal(j);
	json_decref(j);
}

static void checkpoint_claims_another_head(struct log *l)
{
	json_t *j = line_json(l->line[4]);

	json_object_set_new(json_object_get(j, "checkpoint"), "head",
	                    json_string(line_hash(l->line[2])));
	free(l->line[4]);
	l->line[4] = reseal(j);
	json_decref(j);
}

static void drop_every_checkpoint(struct log *l)
{
	/* keep 0-3 only: a log never sealed */
	for (size_t i = 4; i < l->n; i++)
		free(l->line[i]);
	l->n = 4;
}

static void cut_the_last_line_in_half(struct log *l)
{
	l->line[11][strlen(l->line[11]) / 2] = '\0';
}

static void hash_in_upper_case(struct log *l)
{
	char *h = strstr(l->line[5], ",\"hash\":\"") + 9;

	for (int i = 0; i < AUDIT_HASH_HEX; i++)
		if (h[i] >= 'a' && h[i] <= 'f')
			h[i] = (char)(h[i] - 'a' + 'A');
}

static void members_in_another_order(struct log *l)
{
	/* same members, same values: time before seq */
	json_t *j = line_json(l->line[5]), *o = json_object();
	const char *k;
	json_t *v;

	json_object_set(o, "time", json_object_get(j, "time"));
	json_object_foreach(j, k, v)
	{
		if (strcmp(k, "time") != 0)
			json_object_set(o, k, v);
	}
	free(l->line[5]);
	l->line[5] = reseal(o);
	json_decref(o);
	json_decref(j);
}

/* A space after the first colon, re-hashed: the same JSON, another
 * spelling. */
static void spaces_after_the_colons(struct log *l)
{
	char *p = l->line[5], *cut = strstr(p, ",\"hash\":\""), hash[AUDIT_HASH_HEX + 1];
	size_t n = (size_t)(cut - p) + 1;
	char *out = malloc(n + 80);

	snprintf(out, n + 80, "{\"seq\": %.*s", (int)(cut - p - 7), p + 7);
	assert_int_equal(audit_line_hash(out, strlen(out), hash), DSC_OK);
	snprintf(out + strlen(out), 80, ",\"hash\":\"%s\"}", hash);
	free(l->line[5]);
	l->line[5] = out;
}

static void duplicate_key_in_a_line(struct log *l)
{
	/* two "seq" members: a parser that keeps the last would see 99 */
	char *p = l->line[5];
	char *out = malloc(strlen(p) + 16);

	sprintf(out, "{\"seq\":99,%s", p + 1);
	free(l->line[5]);
	l->line[5] = out;
}

/* Every line ended CRLF, as a Windows editor or a mail gateway leaves it. */
static void crlf_line_endings(struct log *l)
{
	for (size_t i = 0; i < l->n; i++) {
		size_t n = strlen(l->line[i]);
		char *out = malloc(n + 2);

		memcpy(out, l->line[i], n);
		memcpy(out + n, "\r", 2);
		free(l->line[i]);
		l->line[i] = out;
	}
}

struct tamper_case {
	const char *name;
	tamper_fn tamper;
	const char *trailer; /* bytes appended after the last line */
	bool allow_unsealed;
	bool ok;
	int64_t first_bad_seq;
	const char *msg_has;
};

static const struct tamper_case tamper_cases[] = {
    {"changed byte in an entry is caught at that entry", change_one_byte, NULL, false, false, 3,
     "hash does not match"},
    {"removed line is caught where it is missing", remove_a_line, NULL, false, false, 6,
     "seq 7 where seq 6"},
    {"swapped lines are caught at the first of them", swap_two_lines, NULL, false, false, 2,
     "seq 3 where seq 2"},
    {"duplicated line is caught at the copy", duplicate_a_line, NULL, false, false, 6,
     "seq 5 where seq 6"},
    {"inserted forged line with a true hash is caught at the next real entry", insert_forged_line,
     NULL, false, false, 8, "seq 7 where seq 8"},
    {"rewritten and re-hashed chain is caught by the checkpoint signature",
     rewrite_and_rehash_the_rest, NULL, false, false, 11, "signature does not verify"},
    {"truncation behind a checkpoint leaves an unsealed tail", truncate_behind_a_checkpoint, NULL,
     false, false, 5, "come after the last checkpoint (seq 4) and are not sealed"},
    {"truncation behind a checkpoint is accepted only with allow_unsealed",
     truncate_behind_a_checkpoint, NULL, true, true, -1, "sealed through seq 3"},
    {"an export that begins after seq 0 says so, not that a line was removed", keep_from_seq_5,
     NULL, false, false, 0, "the export begins at seq 5, not 0"},
    {"forged line appended after the last checkpoint is unsealed", append_after_last_checkpoint,
     NULL, false, false, 12, "seq 12-12 come after"},
    {"log re-signed with another key is refused by key id", resign_with_another_key, NULL, false,
     false, 11, "not the given key"},
    {"checkpoint by another key claiming the right key id fails its signature",
     resign_and_claim_the_right_key_id, NULL, false, false, 11, "signature does not verify"},
    {"checkpoint whose size does not match the entries before it", checkpoint_claims_another_size,
     NULL, false, false, 4, "claims size 3"},
    {"checkpoint whose head is not the chain head", checkpoint_claims_another_head, NULL, false,
     false, 4, "is not the hash of the entries before it"},
    {"unsealed file without any checkpoint fails", drop_every_checkpoint, NULL, false, false, 0,
     "not sealed by any checkpoint"},
    {"unsealed file without any checkpoint passes with allow_unsealed", drop_every_checkpoint, NULL,
     true, true, -1, "4 entries, no checkpoint"},
    {"trailing garbage after the last checkpoint fails", NULL, "garbage\n", false, false, 12,
     "not valid JSON"},
    {"trailing blank line fails", NULL, "\n", false, false, 12, "empty line"},
    {"last line cut in half fails", cut_the_last_line_in_half, NULL, false, false, 11,
     "not valid JSON"},
    {"hash in upper case is not the documented form", hash_in_upper_case, NULL, false, false, 5,
     "lower-case"},
    {"duplicate key in a line is refused", duplicate_key_in_a_line, NULL, false, false, 5,
     "not valid JSON"},
    {"members in another order are refused", members_in_another_order, NULL, false, false, 5,
     "line does not begin"},
    {"another spelling of the same JSON is refused", spaces_after_the_colons, NULL, false, false, 5,
     "line does not begin"},
    {"an export converted to CRLF line endings is named as such", crlf_line_endings, NULL, false,
     false, 0, "converted to CRLF line endings"},
};

/*
 * A log whose key was rotated: checkpoints at seq 3 and 7 signed with key,
 * at 11 and 15 with other_key (the chain goes on across the rotation).
 */
static void log_build_rotated(struct log *l)
{
	struct audit_chain c;
	struct dsc_error err;

	audit_chain_init(&c);
	l->n = 0;
	for (size_t i = 0; i < 16; i++) {
		char *line = NULL;
		size_t len = 0;
		int rc;

		if (i % 4 == 3) {
			rc = audit_checkpoint_encode(&c, i < 8 ? key : other_key, T0_MS + (int64_t)i, &line,
			                             &len, &err);
		} else {
			json_t *f = entry_fields(i);

			rc = audit_entry_encode(&c, f, T0_MS + (int64_t)i, &line, &len, &err);
			json_decref(f);
		}
		assert_int_equal(rc, DSC_OK);
		l->line[l->n++] = line;
	}
}

static void a_rotated_log_verifies_with_its_keys_in_order_only(void **state)
{
	static const struct {
		const char *name;
		int keys[3]; /* 1: key, 2: other_key, 0: end */
		bool ok;
		int64_t bad_seq;
		const char *says;
	} cases[] = {
		{"both keys, oldest first", {1, 2, 0}, true, -1, "4 checkpoints"},
		{"the old key alone", {1, 0, 0}, false, 11, "not the given key"},
		{"the new key alone", {2, 0, 0}, false, 3, "not the given key"},
		{"both keys, newest first", {2, 1, 0}, false, 11, "went back to an older key"},
		{"a key given twice", {1, 1, 0}, false, -1, "are the same key"},
	};
	struct log l;
	(void)state;

	log_build_rotated(&l);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EVP_PKEY *pubs[3];
		size_t n = 0;
		struct audit_verify_result res;
		FILE *f = log_file(&l, NULL);
		int rc;

		while (n < 3 && cases[i].keys[n] != 0) {
			pubs[n] = cases[i].keys[n] == 1 ? key : other_key;
			n++;
		}
		rc = audit_verify_stream_keys(f, pubs, n, false, &res);
		fclose(f);
		if ((rc == DSC_OK) != cases[i].ok || res.ok != cases[i].ok ||
		    res.first_bad_seq != cases[i].bad_seq || strstr(res.msg, cases[i].says) == NULL) {
			print_error("%s: rc %d ok %d at seq %lld: %s\n", cases[i].name, rc, res.ok,
			            (long long)res.first_bad_seq, res.msg);
			fail();
		}
	}
	/* Key A (then B) given for a log that only ever used A: B signs
	 * nothing, which the auditor is told. */
	{
		struct log one;
		static const bool cp[8] = {false, false, false, true, false, false, false, true};
		EVP_PKEY *pubs[2] = {key, other_key};
		struct audit_verify_result res;
		FILE *f;

		log_build(&one, 8, cp, NULL);
		f = log_file(&one, NULL);
		assert_int_equal(audit_verify_stream_keys(f, pubs, 2, false, &res), DSC_EINVAL);
		fclose(f);
		assert_non_null(strstr(res.msg, "key 2 given"));
		assert_non_null(strstr(res.msg, "signs no checkpoint"));
		log_free(&one);
	}
	log_free(&l);
}

static void tampered_exports_fail_at_the_right_seq(void **state)
{
	bool cp[12] = {[4] = true, [11] = true};

	(void)state;
	for (size_t i = 0; i < sizeof(tamper_cases) / sizeof(tamper_cases[0]); i++) {
		const struct tamper_case *t = &tamper_cases[i];
		struct audit_verify_result res;
		struct log l;
		int rc;

		log_build(&l, 12, cp, NULL);
		if (t->tamper != NULL)
			t->tamper(&l);
		rc = verify(&l, t->trailer, t->allow_unsealed, &res);
		if (res.ok != t->ok || res.first_bad_seq != t->first_bad_seq ||
		    strstr(res.msg, t->msg_has) == NULL)
			fail_msg("case '%s': ok=%d first_bad_seq=%lld msg='%s'", t->name, res.ok,
			         (long long)res.first_bad_seq, res.msg);
		assert_int_equal(rc, t->ok ? DSC_OK : DSC_EINVAL);
		log_free(&l);
	}
}

static void empty_file_has_no_entries(void **state)
{
	struct log l = {.n = 0};
	struct audit_verify_result res;

	(void)state;
	assert_int_equal(verify(&l, NULL, true, &res), DSC_EINVAL);
	assert_string_equal(res.msg, "no entries");
}

static void blank_first_line_is_a_bad_entry(void **state)
{
	/* the first read of a stream must have room for the terminator */
	static const char text[] = "\n{\"seq\":0}\n";
	struct audit_verify_result res;
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	(void)state;
	assert_non_null(f);
	assert_int_equal(audit_verify_stream(f, key, true, &res), DSC_EINVAL);
	assert_int_equal(res.first_bad_seq, 0);
	assert_string_equal(res.msg, "line 1 (seq 0 expected): empty line");
	fclose(f);
}

static void overlong_line_is_a_bad_entry(void **state)
{
	struct log l;
	struct audit_verify_result res;
	size_t big = 1024 * 1024 + 10;
	char *junk = malloc(big + 2);

	(void)state;
	memset(junk, 'x', big);
	junk[big] = '\n';
	junk[big + 1] = '\0';
	log_build(&l, 2, NULL, NULL);
	assert_int_equal(verify(&l, junk, true, &res), DSC_EINVAL);
	assert_int_equal(res.first_bad_seq, 2);
	assert_non_null(strstr(res.msg, "longer than"));
	free(junk);
	log_free(&l);
}

/* ---- receipts ---- */

static FILE *receipts_file(const char *text)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	fputs(text, f);
	rewind(f);
	return f;
}

struct receipt_case {
	const char *name;
	int seq;          /* receipt seq, or -1 for the literal line below */
	bool true_hash;   /* the hash of that seq in the export, or a made-up one */
	const char *line; /* used when seq < 0 */
	bool ok;
	int64_t first_bad_seq;
	const char *msg_has;
};

static const struct receipt_case receipt_cases[] = {
    {"receipt of an entry in the export holds", 7, true, NULL, true, -1, "receipts found"},
    {"receipt of a checkpoint in the export holds", 4, true, NULL, true, -1, "receipts found"},
    {"receipt whose hash differs names its seq", 7, false, NULL, false, 7, "rewritten"},
    {"receipt beyond the end of the export names its seq", 30, false, NULL, false, 30,
     "not in the export"},
    {"malformed receipt fails", -1, false, "{\"receipt\":{\"seq\":\"7\",\"hash\":\"ab\"}}\n", false,
     -1, "line 2"},
    {"requests log line that is not JSON fails", -1, false, "{\"request\":\n", false, -1, "line 2"},
    {"lines without a receipt are ignored", -1, false,
     "{\"request\":{\"method\":\"POST\"},\"receipt\":null}\n", true, -1, "receipts found"},
};

static void receipts_are_proved_against_the_export(void **state)
{
	bool cp[12] = {[4] = true, [11] = true};
	struct log l;

	(void)state;
	log_build(&l, 12, cp, NULL);
	for (size_t i = 0; i < sizeof(receipt_cases) / sizeof(receipt_cases[0]); i++) {
		const struct receipt_case *t = &receipt_cases[i];
		struct audit_verify_result res;
		char text[1024];
		FILE *ex, *rl;
		int rc;

		/* Every log starts with a true receipt of seq 2 and a request line. */
		int n = snprintf(text, sizeof(text),
		                 "{\"request\":{\"method\":\"POST\",\"path\":\"/v1/checks\"}}\n"
		                 "{\"status\":200,\"receipt\":{\"seq\":2,\"hash\":\"%s\"}}\n",
		                 line_hash(l.line[2]));

		if (t->seq >= 0) {
			const char *h = t->true_hash
			                    ? line_hash(l.line[t->seq])
			                    : "1111111111111111111111111111111111111111111111"
			                      "111111111111111111";

			snprintf(text + n, sizeof(text) - (size_t)n,
			         "{\"status\":200,\"receipt\":{\"seq\":%d,\"hash\":\"%s\"}}\n",
			         t->seq, h);
		} else {
			/* the literal line replaces the second line */
			snprintf(text, sizeof(text), "{\"request\":{}}\n%s", t->line);
		}
		ex = log_file(&l, NULL);
		rl = receipts_file(text);
		rc = audit_receipts_check(ex, rl, key, false, &res);
		fclose(ex);
		fclose(rl);
		if (res.ok != t->ok || res.first_bad_seq != t->first_bad_seq ||
		    strstr(res.msg, t->msg_has) == NULL)
			fail_msg("case '%s': ok=%d first_bad_seq=%lld msg='%s'", t->name, res.ok,
			         (long long)res.first_bad_seq, res.msg);
		assert_int_equal(rc, t->ok ? DSC_OK : DSC_EINVAL);
	}
	log_free(&l);
}

static void receipt_catches_truncation_to_an_earlier_sealed_prefix(void **state)
{
	/* Cut back to the first checkpoint: on its own a valid sealed log,
	 * but the client holds a receipt for seq 8. */
	bool cp[12] = {[4] = true, [11] = true};
	struct log l;
	struct audit_verify_result res;
	char text[256];
	FILE *ex, *rl;

	(void)state;
	log_build(&l, 12, cp, NULL);
	snprintf(text, sizeof(text), "{\"receipt\":{\"seq\":8,\"hash\":\"%s\"}}\n",
	         line_hash(l.line[8]));
	for (size_t i = 5; i < l.n; i++)
		free(l.line[i]);
	l.n = 5;
	assert_int_equal(verify(&l, NULL, false, &res), DSC_OK);
	ex = log_file(&l, NULL);
	rl = receipts_file(text);
	assert_int_equal(audit_receipts_check(ex, rl, key, false, &res), DSC_EINVAL);
	assert_int_equal(res.first_bad_seq, 8);
	fclose(ex);
	fclose(rl);
	log_free(&l);
}

/* ---- keys ---- */

static char tmpdir[64];

static char *write_key(const char *name, EVP_PKEY *k, bool pub, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	if (pub)
		assert_int_equal(PEM_write_PUBKEY(f, k), 1);
	else
		assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void signing_key_readable_by_others_is_refused(void **state)
{
	struct dsc_error err;
	EVP_PKEY *k = NULL;
	char *path;

	(void)state;
	path = write_key("open.pem", key, false, 0644);
	assert_int_equal(audit_key_load(path, &k, &err), DSC_EPERM);
	assert_null(k);
	assert_non_null(strstr(err.msg, "mode 0644 lets group/others read it; chmod 600"));
	path = write_key("group.pem", key, false, 0640);
	assert_int_equal(audit_key_load(path, &k, &err), DSC_EPERM);
	unlink(path);
	unlink(write_key("open.pem", key, false, 0600));
}

static void signing_key_of_mode_600_loads_and_matches_its_public_key(void **state)
{
	struct dsc_error err;
	EVP_PKEY *k = NULL, *p = NULL;
	char a[AUDIT_KEY_ID_HEX + 1], b[AUDIT_KEY_ID_HEX + 1];
	char *path;

	(void)state;
	path = write_key("good.pem", key, false, 0600);
	assert_int_equal(audit_key_load(path, &k, &err), DSC_OK);
	unlink(path);
	path = write_key("good.pub", key, true, 0644);
	assert_int_equal(audit_pubkey_load(path, &p, &err), DSC_OK);
	unlink(path);
	assert_int_equal(audit_key_id(k, a), DSC_OK);
	assert_int_equal(audit_key_id(p, b), DSC_OK);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), AUDIT_KEY_ID_HEX);
	EVP_PKEY_free(k);
	EVP_PKEY_free(p);
}

static void signing_key_of_another_type_is_refused(void **state)
{
	struct dsc_error err;
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *k = NULL;
	char *path;

	(void)state;
	assert_non_null(ec);
	path = write_key("ec.pem", ec, false, 0600);
	assert_int_equal(audit_key_load(path, &k, &err), DSC_EINVAL);
	assert_non_null(strstr(err.msg, "not Ed25519"));
	unlink(path);
	path = write_key("ec.pub", ec, true, 0644);
	assert_int_equal(audit_pubkey_load(path, &k, &err), DSC_EINVAL);
	unlink(path);
	EVP_PKEY_free(ec);
}

static void public_key_given_as_the_signing_key_is_named(void **state)
{
	struct dsc_error err;
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *k = NULL;
	char *path;

	(void)state;
	assert_non_null(ed);
	/* Mode 0644, as a public key is: the message was "chmod 600". */
	path = write_key("ed.pub", ed, true, 0644);
	assert_int_equal(audit_key_load(path, &k, &err), DSC_EINVAL);
	assert_non_null(strstr(err.msg, "a public key"));
	assert_null(strstr(err.msg, "chmod"));
	assert_null(k);
	unlink(path);
	EVP_PKEY_free(ed);
}

static void missing_key_file_says_why(void **state)
{
	struct dsc_error err;
	EVP_PKEY *k = NULL;

	(void)state;
	assert_int_equal(audit_key_load("/nonexistent/audit.pem", &k, &err), DSC_EIO);
	assert_non_null(strstr(err.msg, "No such file or directory"));
	assert_int_equal(audit_pubkey_load("/nonexistent/audit.pub", &k, &err), DSC_EIO);
}

static void garbage_key_file_is_refused(void **state)
{
	struct dsc_error err;
	EVP_PKEY *k = NULL;
	char path[128];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/junk.pem", tmpdir);
	f = fopen(path, "w");
	fputs("not a key\n", f);
	fclose(f);
	chmod(path, 0600);
	assert_int_equal(audit_key_load(path, &k, &err), DSC_EINVAL);
	assert_non_null(strstr(err.msg, "not a PEM private key"));
	unlink(path);
}

/* ---- the encoder writes what jansson's json_dumps wrote ----
 *
 * Lines were once written by json_dumps(JSON_COMPACT | JSON_ENSURE_ASCII |
 * JSON_PRESERVE_ORDER) of {seq, time, prev, ...fields}; old logs, receipts
 * and the documented format depend on those bytes, so the encoder is held
 * to them over every character and many generated trees. */

#define DUMP_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER)
#define LINE_MAX_BYTES (1024 * 1024 - 1) /* the longest line audit.c writes */

/* What the old encoder wrote before ,"hash":" for fields at c's position. */
static char *jansson_body(const struct audit_chain *c, const json_t *fields, size_t *len)
{
	json_t *obj = json_object(), *v;
	const char *k;
	char *dump;

	assert_non_null(obj);
	assert_int_equal(json_object_set_new(obj, "seq", json_integer((json_int_t)c->next_seq)), 0);
	assert_int_equal(json_object_set_new(obj, "time", json_string("2026-11-28T18:00:00.123Z")),
	                 0);
	assert_int_equal(json_object_set_new(obj, "prev", json_string(c->head)), 0);
	/* As the old encoder did; json_object_set() refuses a name that is
	 * not UTF-8, and so did the old encoder. */
	json_object_foreach((json_t *)fields, k, v)
	{
		if (json_object_set(obj, k, v) != 0) {
			json_decref(obj);
			return NULL;
		}
	}
	dump = json_dumps(obj, DUMP_FLAGS);
	json_decref(obj);
	if (dump == NULL)
		return NULL;
	*len = strlen(dump) - 1; /* without the closing brace */
	return dump;
}

/*
 * Encodes fields on c and fails, naming the case, unless the line is
 * jansson's bytes followed by the right hash.  Consumes fields.
 */
static void assert_encodes_as_jansson(struct audit_chain *c, const char *what, json_t *fields)
{
	struct dsc_error err;
	char *line = NULL, *want, hash[AUDIT_HASH_HEX + 1];
	size_t len = 0, want_len = 0, i;
	uint64_t seq = c->next_seq;

	assert_non_null(fields);
	want = jansson_body(c, fields, &want_len);
	if (want == NULL)
		fail_msg("%s: json_dumps refused the fields", what);
	if (audit_entry_encode(c, fields, T0_MS, &line, &len, &err) != DSC_OK)
		fail_msg("%s: audit_entry_encode failed: %s", what, err.msg);
	for (i = 0; i < want_len && i < len && line[i] == want[i]; i++)
		;
	if (i < want_len)
		fail_msg("%s: byte %zu differs from json_dumps:\n  ours:    ...%.60s\n  jansson: "
		         "...%.60s",
		         what, i, line + (i > 20 ? i - 20 : 0), want + (i > 20 ? i - 20 : 0));
	assert_int_equal(len, want_len + 9 + AUDIT_HASH_HEX + 2);
	assert_int_equal(line[len], '\0');
	assert_int_equal(audit_line_hash(want, want_len, hash), DSC_OK);
	assert_memory_equal(line + want_len, ",\"hash\":\"", 9);
	assert_memory_equal(line + want_len + 9, hash, AUDIT_HASH_HEX);
	assert_string_equal(line + len - 2, "\"}");
	assert_int_equal(c->next_seq, seq + 1);
	assert_string_equal(c->head, hash);
	free(want);
	free(line);
	json_decref(fields);
}

/* Appends the UTF-8 of cp to out at *n. */
static void utf8_put(char *out, size_t *n, uint32_t cp)
{
	if (cp < 0x80) {
		out[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*n)++] = (char)(0xc0 | cp >> 6);
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*n)++] = (char)(0xe0 | cp >> 12);
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*n)++] = (char)(0xf0 | cp >> 18);
		out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (cp & 0x3f));
	}
}

static bool is_surrogate(uint32_t cp)
{
	return cp >= 0xd800 && cp <= 0xdfff;
}

/* A string of the code points from, from+step, ... below to (surrogates
 * skipped), at most max of them; *next is where it stopped. */
static json_t *string_of_code_points(uint32_t from, uint32_t to, uint32_t step, size_t max,
                                     uint32_t *next)
{
	char *buf = malloc(max * 4 + 1);
	size_t n = 0, count = 0;
	uint32_t cp;
	json_t *s;

	assert_non_null(buf);
	for (cp = from; cp < to && count < max; cp += step) {
		if (is_surrogate(cp))
			continue;
		utf8_put(buf, &n, cp);
		count++;
	}
	*next = cp;
	s = json_stringn(buf, n);
	assert_non_null(s);
	free(buf);
	return s;
}

/* fields holding s as a value, as a nested key and, when it has no NUL,
 * as a field name (the same text in every place a string is written). */
static json_t *fields_around(json_t *s)
{
	json_t *f = json_object(), *inner = json_object(), *arr = json_array();
	const char *text = json_string_value(s);
	size_t len = json_string_length(s);

	assert_non_null(f);
	assert_non_null(inner);
	assert_non_null(arr);
	assert_int_equal(json_object_set_new(f, "action", json_string("check")), 0);
	assert_int_equal(json_object_set(f, "text", s), 0);
	assert_int_equal(json_object_setn(inner, text, len, s), 0);
	assert_int_equal(json_array_append(arr, s), 0);
	assert_int_equal(json_array_append_new(arr, json_string("after")), 0);
	assert_int_equal(json_object_set_new(inner, "list", arr), 0);
	assert_int_equal(json_object_set_new(f, "nested", inner), 0);
	if (memchr(text, '\0', len) == NULL)
		assert_int_equal(json_object_set(f, text, s), 0);
	json_decref(s);
	return f;
}

static void every_ascii_character_is_written_as_jansson_writes_it(void **state)
{
	struct audit_chain c;
	char what[64], text[3];

	(void)state;
	audit_chain_init(&c);
	for (unsigned ch = 0; ch < 0x80; ch++) {
		/* alone, and between letters (a run cut by an escape) */
		text[0] = 'a';
		text[1] = (char)ch;
		text[2] = 'z';
		snprintf(what, sizeof(what), "U+%04X alone", ch);
		assert_encodes_as_jansson(&c, what, fields_around(json_stringn(text + 1, 1)));
		snprintf(what, sizeof(what), "U+%04X between letters", ch);
		assert_encodes_as_jansson(&c, what, fields_around(json_stringn(text, 3)));
	}
	/* the empty string */
	assert_encodes_as_jansson(&c, "empty string", fields_around(json_string("")));
}

/* Every step-th code point of [from, to) in strings of per, then each of
 * the edges alone, each compared with jansson's line. */
static void assert_code_points_encode_as_jansson(struct audit_chain *c, uint32_t from, uint32_t to,
						 uint32_t step, size_t per, const uint32_t *edges,
						 size_t n_edges)
{
	char what[64];
	uint32_t cp = from, next;

	while (cp < to) {
		snprintf(what, sizeof(what), "every %u from U+%04X, %zu a string", step, cp, per);
		assert_encodes_as_jansson(c, what,
					  fields_around(string_of_code_points(cp, to, step, per, &next)));
		cp = next;
	}
	for (size_t i = 0; i < n_edges; i++) {
		snprintf(what, sizeof(what), "U+%04X alone", edges[i]);
		assert_encodes_as_jansson(
		    c, what, fields_around(string_of_code_points(edges[i], edges[i] + 1, 1, 1, &next)));
	}
}

static void every_two_and_three_byte_character_is_written_as_jansson_writes_it(void **state)
{
	static const uint32_t edges[] = {0x80,   0x7ff,  0x800,  0xd7ff,
	                                 0xe000, 0xfeff, 0xfffd, 0xffff};
	struct audit_chain c;

	(void)state;
	audit_chain_init(&c);
	/* U+0080..U+FFFF in strings of 1024, surrogates excepted; the edges
	 * of each length alone */
	assert_code_points_encode_as_jansson(&c, 0x80, 0x10000, 1, 1024, edges,
					     sizeof(edges) / sizeof(edges[0]));
}

static void four_byte_characters_are_written_as_surrogate_pairs_as_jansson_does(void **state)
{
	static const uint32_t edges[] = {0x10000, 0x103ff, 0x10400, 0x1ffff, 0x10fc00, 0x10ffff};
	struct audit_chain c;

	(void)state;
	audit_chain_init(&c);
	/* every 61st code point of the planes above the BMP, 512 a string,
	 * and the edges */
	assert_code_points_encode_as_jansson(&c, 0x10000, 0x110000, 61, 512, edges,
					     sizeof(edges) / sizeof(edges[0]));
	/* every character of the emoji block */
	assert_code_points_encode_as_jansson(&c, 0x1f300, 0x1f600, 1, 768, NULL, 0);
}

static void integers_at_the_extremes_are_written_as_jansson_writes_them(void **state)
{
	static const json_int_t cases[] = {
	    0,
	    1,
	    -1,
	    9,
	    10,
	    -10,
	    99,
	    100,
	    201,
	    65535,
	    2147483647LL,
	    -2147483648LL,
	    4294967296LL,
	    999999999999999999LL,
	    1000000000000000000LL,
	    INT64_MAX - 1,
	    INT64_MAX,
	    INT64_MIN + 1,
	    INT64_MIN,
	};
	struct audit_chain c;
	char what[64];

	(void)state;
	audit_chain_init(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "integer %lld", (long long)cases[i]);
		assert_encodes_as_jansson(
		    &c, what, json_pack("{s:I, s:[I]}", "status", cases[i], "list", cases[i]));
	}
}

/* A reproducible stream of numbers for the generated cases (xorshift64*). */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void reals_are_written_as_jansson_formats_them(void **state)
{
	static const double cases[] = {
	    0.5,
	    1e300,
	    -0.0,
	    0.0,
	    1.0,
	    -1.0,
	    0.1,
	    123456789.123,
	    0.87,
	    0.92,
	    1.0 / 3.0,
	    100.0,
	    1e15,
	    1e16,
	    1e17,
	    1e21,
	    1e22,
	    123456789012345678.0,
	    1e-4,
	    1e-5,
	    1.5e-7,
	    -2.5e-10,
	    1e-300,
	    5e-324,
	    2.2250738585072014e-308,
	    1.7976931348623157e308,
	    -1.7976931348623157e308,
	    3.141592653589793,
	    2.718281828459045,
	    6.02214076e23,
	    9007199254740993.0,
	};
	struct audit_chain c;
	char what[96];

	(void)state;
	audit_chain_init(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "real %.17g", cases[i]);
		assert_encodes_as_jansson(
		    &c, what, json_pack("{s:f, s:[f]}", "score", cases[i], "list", cases[i]));
	}
	/* scores as the daemon rounds them, and doubles of any bit pattern */
	for (int k = 0; k <= 100; k++) {
		snprintf(what, sizeof(what), "score %d/100", k);
		assert_encodes_as_jansson(&c, what, json_pack("{s:f}", "score", k / 100.0));
	}
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (int k = 0; k < 2000; k++) {
		uint64_t bits = rng();
		double d;

		memcpy(&d, &bits, sizeof(d));
		if (d != d || d - d != 0.0) /* NaN or infinite: jansson holds neither */
			continue;
		snprintf(what, sizeof(what), "real of bits %016llx", (unsigned long long)bits);
		assert_encodes_as_jansson(&c, what, json_pack("{s:f}", "score", d));
	}
}

static void nesting_and_empty_containers_are_written_as_jansson_writes_them(void **state)
{
	struct audit_chain c;
	json_t *deep, *inner;

	(void)state;
	audit_chain_init(&c);
	assert_encodes_as_jansson(&c, "no fields at all", json_object());
	assert_encodes_as_jansson(
	    &c, "empty object and array",
	    json_pack("{s:{}, s:[], s:[{}, [], [[]], {s:{}}]}", "o", "a", "m", "x"));
	assert_encodes_as_jansson(
	    &c, "true false null",
	    json_pack("{s:b, s:b, s:n, s:[b, n, b]}", "t", 1, "f", 0, "z", "l", 1, 0));
	/* 200 levels, objects and arrays in turn */
	deep = json_string("bottom");
	for (int level = 0; level < 200; level++) {
		inner = level % 2 ? json_pack("{s:o, s:i}", "down", deep, "level", level)
		                  : json_pack("[i, o, s]", level, deep, "/");
		assert_non_null(inner);
		deep = inner;
	}
	assert_encodes_as_jansson(&c, "200 levels deep", json_pack("{s:o}", "deep", deep));
}

/* The fields daemon/router.c and daemon/checks.c give a check's entry;
 * the people are invented. */
static json_t *check_entry_fields(const char *given, const char *family, size_t n_candidates)
{
	json_t *cands = json_array();

	assert_non_null(cands);
	for (size_t i = 0; i < n_candidates; i++) {
		char id[32];

		snprintf(id, sizeof(id), "OFF-2026-%06zu", 100 + 37 * i);
		assert_int_equal(
		    json_array_append_new(
		        cands, json_pack("{s:s, s:s, s:f}", "offender_id", id, "band",
		                         i < 2 ? "strong" : "possible", "score",
		                         (double)(long long)(95 - 7 * (long long)i) / 100.0)),
		    0);
	}
	return json_pack(
	    "{s:s, s:s, s:s, s:[s, s], s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s,"
	    " s:{s:[{s:s, s:s, s:s}], s:s, s:i, s:s, s:s},"
	    " s:{s:s, s:s, s:o}, s:s}",
	    "request_id", "6f1c0d2e9a4b7c3d5e8f1a2b3c4d5e6f", "principal", "tamsin.okafor", "cn",
	    "tamsin.okafor@wm.police.example", "roles", "caseworker", "disclosure_officer", "force",
	    "west-midlands", "action", "check", "method", "POST", "path", "/v1/checks", "status",
	    201, "case_ref", "WM-CSODS-2026-0042", "purpose", "sarahs_law", "justification",
	    "Applicant (parent of two) asks about a new partner who stays \"most nights\";\n"
	    "school raised a concern on 2026-11-20\t(ref S/114).",
	    "query", "names", "given", given, "middle", "Ol\xc3\xa1", "family", family, "dob",
	    "1979-03-14", "age", 47, "postcode", "WV10 6QH", "sex", "M", "result", "check_id",
	    "chk_9a8b7c6d5e4f3a2b", "outcome", n_candidates ? "strong" : "none", "candidates",
	    cands, "check_id", "chk_9a8b7c6d5e4f3a2b");
}

static void a_check_entry_is_written_as_jansson_writes_it(void **state)
{
	static const struct {
		const char *what, *given, *family;
		size_t n_candidates;
	} cases[] = {
	    {"Latin name, eight candidates", "Bj\xc3\xb8rn", "Halvorsen-Achterberg", 8},
	    {"Greek name, no candidate",
	     "\xce\x9d\xce\xb9\xce\xba\xce\xbf\xce\xbb\xce\xac\xce\xbf\xcf\x82",
	     "\xce\xa0\xce\xb1\xcf\x80\xce\xb1\xce\xb4\xcf\x8c\xcf\x80\xce\xbf\xcf\x85\xce\xbb\xce"
	     "\xbf\xcf\x82",
	     0},
	    {"Arabic name, three candidates", "\xd8\xb3\xd8\xa7\xd9\x85\xd8\xb1",
	     "\xd8\xa7\xd9\x84\xd8\xad\xd8\xaf\xd8\xa7\xd8\xaf", 3},
	    {"Chinese name, twenty candidates", "\xe5\xbb\xba\xe5\x9b\xbd", "\xe6\xa2\x81", 20},
	    {"name with an astral character", "Zo\xc3\xab \xf0\x9f\x8c\xbb", "O'Dowd", 1},
	};
	struct audit_chain c;

	(void)state;
	audit_chain_init(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_encodes_as_jansson(
		    &c, cases[i].what,
		    check_entry_fields(cases[i].given, cases[i].family, cases[i].n_candidates));
}

/* A random string: mostly the characters that need thought. */
static json_t *random_string(void)
{
	static const char specials[] = "\"\\/\b\f\n\r\t\x7f";
	char buf[16 * 4];
	size_t n = 0, count = rng() % 16;

	for (size_t i = 0; i < count; i++) {
		uint32_t cp;

		switch (rng() % 8) {
		case 0:
			cp = (uint32_t)(rng() % 0x20);
			break;
		case 1:
			cp = (unsigned char)specials[rng() % (sizeof(specials) - 1)];
			break;
		case 2:
			cp = 0x80 + (uint32_t)(rng() % (0x800 - 0x80));
			break;
		case 3:
			cp = 0x800 + (uint32_t)(rng() % (0x10000 - 0x800));
			break;
		case 4:
			cp = 0x10000 + (uint32_t)(rng() % (0x110000 - 0x10000));
			break;
		default:
			cp = 0x20 + (uint32_t)(rng() % 0x5f);
			break;
		}
		if (is_surrogate(cp))
			cp = 0xfffd;
		utf8_put(buf, &n, cp);
	}
	return json_stringn(buf, n);
}

static json_t *random_value(int depth)
{
	json_t *v;
	double d;
	uint64_t bits;
	size_t n;

	switch (rng() % (depth < 4 ? 9 : 7)) {
	case 0:
		return json_null();
	case 1:
		return json_boolean(rng() % 2);
	case 2:
		return json_integer((json_int_t)rng());
	case 3:
		bits = rng();
		memcpy(&d, &bits, sizeof(d));
		return json_real(d != d || d - d != 0.0 ? (double)(int64_t)bits / 1e6 : d);
	case 4:
		return json_real((double)(rng() % 100000) / 100.0);
	case 5:
	case 6:
		return random_string();
	case 7:
		v = json_array();
		for (n = rng() % 5; n > 0; n--)
			json_array_append_new(v, random_value(depth + 1));
		return v;
	default:
		v = json_object();
		for (n = rng() % 5; n > 0; n--) {
			json_t *k = random_string();

			json_object_setn_new(v, json_string_value(k), json_string_length(k),
			                     random_value(depth + 1));
			json_decref(k);
		}
		return v;
	}
}

static void generated_trees_are_written_as_jansson_writes_them(void **state)
{
	struct audit_chain c;
	char what[64];

	(void)state;
	audit_chain_init(&c);
	rng_state = 0x2545f4914f6cdd1dULL;
	for (int t = 0; t < 1500; t++) {
		json_t *f = json_object();

		for (size_t n = 1 + rng() % 6; n > 0; n--) {
			json_t *k = random_string();
			const char *name = json_string_value(k);

			/* field names: no NUL, none of the chain's own */
			if (memchr(name, '\0', json_string_length(k)) == NULL &&
			    strcmp(name, "seq") != 0 && strcmp(name, "time") != 0 &&
			    strcmp(name, "prev") != 0 && strcmp(name, "hash") != 0)
				json_object_set_new(f, name, random_value(0));
			json_decref(k);
		}
		snprintf(what, sizeof(what), "generated tree %d", t);
		assert_encodes_as_jansson(&c, what, f);
	}
}

static void text_that_is_not_utf8_is_refused_as_jansson_refused_it(void **state)
{
	static const struct {
		const char *what, *bytes;
	} cases[] = {
	    {"a lone continuation byte", "a\x80z"},
	    {"0xff", "\xff"},
	    {"an overlong slash", "\xc0\xaf"},
	    {"an overlong NUL", "\xc0\x80"},
	    {"an overlong three-byte form", "\xe0\x80\xaf"},
	    {"an overlong four-byte form", "\xf0\x80\x80\xaf"},
	    {"a surrogate", "\xed\xa0\x80"},
	    {"beyond U+10FFFF", "\xf4\x90\x80\x80"},
	    {"0xf5", "\xf5\x80\x80\x80"},
	    {"a character cut short", "caf\xc3"},
	    {"a three-byte character cut short", "\xe2\x82"},
	    {"a continuation byte missing", "\xe2\x28\xa1"},
	};
	struct audit_chain c;
	struct dsc_error err;

	(void)state;
	audit_chain_init(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *in_value = json_pack("{s:s, s:o}", "action", "check", "note",
		                             json_string_nocheck(cases[i].bytes));
		json_t *in_list =
		    json_pack("{s:[s, o]}", "list", "ok", json_string_nocheck(cases[i].bytes));
		json_t *as_name = json_object(), *inner = json_object();
		json_t *as_inner_name = json_pack("{s:o}", "nested", inner);
		json_t *tries[] = {in_value, in_list, as_name, as_inner_name};
		char *line = NULL;
		size_t len, n;

		json_object_set_new_nocheck(as_name, cases[i].bytes, json_true());
		json_object_set_new_nocheck(inner, cases[i].bytes, json_true());
		for (size_t t = 0; t < 4; t++) {
			char *dump = jansson_body(&c, tries[t], &n);

			/* jansson refused the first three too (for a field name,
			 * json_object_set did); a member name deeper in, it wrote a
			 * broken string for, leaving a line that is not JSON. */
			if (t < 3 && dump != NULL)
				fail_msg("%s: json_dumps wrote it", cases[i].what);
			free(dump);
			if (audit_entry_encode(&c, tries[t], T0_MS, &line, &len, &err) !=
			    DSC_EINVAL)
				fail_msg("%s (try %zu): not refused as invalid", cases[i].what, t);
			assert_null(line);
			assert_non_null(strstr(err.msg, "UTF-8"));
			assert_int_equal(c.next_seq, 0);
			json_decref(tries[t]);
		}
	}
}

static void field_name_holding_a_nul_is_refused(void **state)
{
	struct audit_chain c;
	struct dsc_error err;
	json_t *f = json_object();
	char *line = NULL;
	size_t len;

	(void)state;
	audit_chain_init(&c);
	/* The old encoder would have cut the name at the NUL: refused now. */
	assert_int_equal(json_object_setn_new(f, "note\0x", 6, json_string("a")), 0);
	assert_int_equal(audit_entry_encode(&c, f, T0_MS, &line, &len, &err), DSC_EINVAL);
	assert_null(line);
	assert_non_null(strstr(err.msg, "NUL"));
	assert_int_equal(c.next_seq, 0);
	json_decref(f);
}

/* Fields {"note":"<n bytes: n-1 letters and c>"}. */
static json_t *note_of(size_t n, const char *last)
{
	char *s = malloc(n + 1);
	json_t *f;

	assert_non_null(s);
	memset(s, 'x', n);
	memcpy(s + n - strlen(last), last, strlen(last));
	s[n] = '\0';
	f = json_pack("{s:s}", "note", s);
	free(s);
	assert_non_null(f);
	return f;
}

static void entry_longer_than_the_verifier_reads_is_refused(void **state)
{
	/* {"seq":0,"time":"…","prev":"<64>","note":"…" then ,"hash":"<64>"} */
	const size_t fixed =
	    strlen("{\"seq\":0,\"time\":\"2026-11-28T18:00:00.123Z\",\"prev\":\"\","
	           "\"note\":\"\",\"hash\":\"\"}") +
	    2 * AUDIT_HASH_HEX;
	const size_t fits = LINE_MAX_BYTES - fixed;
	static const char *const last[] = {"x", "\xc3\xa9" /* é: \u00E9 */,
	                                   "\xf0\x9f\x8c\xbb" /* \uD83C\uDF3B */};
	static const size_t escaped_len[] = {1, 6, 12};
	struct audit_chain c;
	struct dsc_error err;
	char *line = NULL;
	size_t len;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		/* exactly the longest line, the last character escaped or not */
		size_t n = fits - escaped_len[i] + strlen(last[i]);
		json_t *f = note_of(n, last[i]);

		audit_chain_init(&c);
		assert_int_equal(audit_entry_encode(&c, f, T0_MS, &line, &len, &err), DSC_OK);
		assert_int_equal(len, LINE_MAX_BYTES);
		free(line);
		json_decref(f);
		/* one byte more */
		f = note_of(n + 1, last[i]);
		line = NULL;
		assert_int_equal(audit_entry_encode(&c, f, T0_MS, &line, &len, &err), DSC_ETOOBIG);
		assert_null(line);
		assert_int_equal(c.next_seq, 1);
		json_decref(f);
	}
}

static void tree_that_holds_itself_is_refused_not_followed_forever(void **state)
{
	struct audit_chain c;
	struct dsc_error err;
	json_t *a = json_array(), *b = json_array(), *f;
	char *line = NULL;
	size_t len;

	(void)state;
	audit_chain_init(&c);
	assert_int_equal(json_array_append(a, b), 0);
	assert_int_equal(json_array_append(b, a), 0);
	f = json_pack("{s:O}", "loop", a);
	assert_int_not_equal(audit_entry_encode(&c, f, T0_MS, &line, &len, &err), DSC_OK);
	assert_null(line);
	assert_int_equal(c.next_seq, 0);
	json_array_clear(b); /* break the loop so that the tree can be freed */
	json_decref(f);
	json_decref(a);
	json_decref(b);
}

static int setup(void **state)
{
	(void)state;
	key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	other_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_audit.XXXXXX");
	if (key == NULL || other_key == NULL || mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	EVP_PKEY_free(other_key);
	rmdir(tmpdir);
	return 0;
}

/* ---- members written ahead ---- */

static uint64_t members_rng = 0x2545f4914f6cdd1dull;

static uint32_t members_next(uint32_t bound)
{
	members_rng ^= members_rng << 13;
	members_rng ^= members_rng >> 7;
	members_rng ^= members_rng << 17;
	return (uint32_t)(members_rng % bound);
}

/* A fictitious value of a check's result: ids, bands, hundredths and
 * other reals, integers, text with escapes and characters of 1-4 bytes. */
static void members_string(char *out, size_t cap)
{
	static const char *const pieces[] = {"O", "7", "_", "\"", "\\", "\n", "\x02", "\x7f",
	                                     "\xc3\xa9", "\xe2\x80\xa8", "\xf0\x9f\x98\x80"};
	size_t n = 0, count = members_next(10);

	for (size_t i = 0; i < count; i++) {
		const char *p = pieces[members_next(sizeof(pieces) / sizeof(pieces[0]))];

		if (n + strlen(p) + 1 > cap)
			break;
		memcpy(out + n, p, strlen(p));
		n += strlen(p);
	}
	out[n] = '\0';
}

static double members_real(void)
{
	switch (members_next(4)) {
	case 0: return (double)(long long)members_next(101) / 100.0; /* a score */
	case 1: return -(double)members_next(101) / 100.0;
	case 2: return (double)members_next(1000000) / 7.0;
	default: return members_next(2) ? 0.0 : -0.0;
	}
}

static void members_written_ahead_encode_as_the_tree_would(void **state)
{
	(void)state;
	for (int round = 0; round < 2000; round++) {
		json_t *head = json_pack("{s:s, s:i}", "action", "check.create", "status", 200);
		json_t *tree = json_deep_copy(head), *cands = json_array(), *result;
		struct audit_members m = {0};
		struct audit_chain c1, c2;
		struct dsc_error err;
		char text[64], *l1 = NULL, *l2 = NULL;
		size_t n1 = 0, n2 = 0, nc = members_next(5);
		long long num = (long long)members_next(1u << 31) - (1ll << 30);

		assert_non_null(head);
		assert_non_null(tree);
		assert_non_null(cands);
		members_string(text, sizeof(text));
		json_object_set_new(tree, "case_ref", json_string(text));
		audit_members_key(&m, "case_ref");
		audit_members_string(&m, text, strlen(text));
		json_object_set_new(tree, "n", json_integer(num));
		audit_members_key(&m, "n");
		audit_members_integer(&m, num);
		audit_members_key(&m, "result");
		audit_members_raw(&m, "{\"candidates\":[", 15);
		for (size_t i = 0; i < nc; i++) {
			double score = members_real();

			members_string(text, sizeof(text));
			json_array_append_new(cands, json_pack("{s:s, s:f}", "offender_id", text,
			                                       "score", score));
			if (i > 0)
				audit_members_raw(&m, ",", 1);
			audit_members_raw(&m, "{\"offender_id\":", 15);
			audit_members_string(&m, text, strlen(text));
			audit_members_key(&m, "score");
			audit_members_real(&m, score);
			audit_members_raw(&m, "}", 1);
		}
		audit_members_raw(&m, "]", 1);
		audit_members_key(&m, "none");
		audit_members_string(&m, NULL, 0);
		audit_members_raw(&m, "}", 1);
		result = json_pack("{s:o, s:n}", "candidates", cands, "none");
		json_object_set_new(tree, "result", result);
		assert_int_equal(m.rc, DSC_OK);

		audit_chain_init(&c1);
		audit_chain_init(&c2);
		assert_int_equal(audit_entry_encode(&c1, tree, T0_MS, &l1, &n1, &err), DSC_OK);
		assert_int_equal(audit_entry_encode_members(&c2, head, &m, T0_MS, &l2, &n2, &err),
		                 DSC_OK);
		if (n1 != n2 || memcmp(l1, l2, n1) != 0)
			fail_msg("round %d: members give\n  %s\nthe tree gives\n  %s", round, l2, l1);
		assert_string_equal(c1.head, c2.head);
		assert_int_equal(c1.next_seq, c2.next_seq);
		free(l1);
		free(l2);
		json_decref(head);
		json_decref(tree);
		audit_members_release(&m);
	}
}

static void members_that_are_not_utf8_fail_the_entry(void **state)
{
	struct audit_members m = {0};
	struct audit_chain c;
	struct dsc_error err;
	json_t *head = json_object();
	char *line = NULL;
	size_t len = 0;

	(void)state;
	audit_chain_init(&c);
	audit_members_key(&m, "case_ref");
	audit_members_string(&m, "WM-\xc3(", 5);
	audit_members_key(&m, "later");
	assert_int_equal(m.rc, DSC_EINVAL);
	assert_int_not_equal(audit_entry_encode_members(&c, head, &m, T0_MS, &line, &len, &err),
	                     DSC_OK);
	assert_null(line);
	assert_int_equal(c.next_seq, 0);
	json_decref(head);
	audit_members_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(entry_line_has_the_documented_shape),
	    cmocka_unit_test(chain_fields_may_not_be_given_by_the_caller),
	    cmocka_unit_test(every_ascii_character_is_written_as_jansson_writes_it),
	    cmocka_unit_test(every_two_and_three_byte_character_is_written_as_jansson_writes_it),
	    cmocka_unit_test(four_byte_characters_are_written_as_surrogate_pairs_as_jansson_does),
	    cmocka_unit_test(integers_at_the_extremes_are_written_as_jansson_writes_them),
	    cmocka_unit_test(reals_are_written_as_jansson_formats_them),
	    cmocka_unit_test(nesting_and_empty_containers_are_written_as_jansson_writes_them),
	    cmocka_unit_test(a_check_entry_is_written_as_jansson_writes_it),
	    cmocka_unit_test(generated_trees_are_written_as_jansson_writes_them),
	    cmocka_unit_test(members_written_ahead_encode_as_the_tree_would),
	    cmocka_unit_test(members_that_are_not_utf8_fail_the_entry),
	    cmocka_unit_test(text_that_is_not_utf8_is_refused_as_jansson_refused_it),
	    cmocka_unit_test(field_name_holding_a_nul_is_refused),
	    cmocka_unit_test(entry_longer_than_the_verifier_reads_is_refused),
	    cmocka_unit_test(tree_that_holds_itself_is_refused_not_followed_forever),
	    cmocka_unit_test(time_before_1970_is_refused),
	    cmocka_unit_test(checkpoint_signs_the_documented_message),
	    cmocka_unit_test(resumed_chain_continues_where_it_stopped),
	    cmocka_unit_test(a_field_holding_nul_verifies_and_resumes),
	    cmocka_unit_test(unstored_checkpoint_seals_without_moving_the_chain),
	    cmocka_unit_test(sealed_log_verifies),
	    cmocka_unit_test(tampered_exports_fail_at_the_right_seq),
	    cmocka_unit_test(a_rotated_log_verifies_with_its_keys_in_order_only),
	    cmocka_unit_test(empty_file_has_no_entries),
	    cmocka_unit_test(blank_first_line_is_a_bad_entry),
	    cmocka_unit_test(overlong_line_is_a_bad_entry),
	    cmocka_unit_test(receipts_are_proved_against_the_export),
	    cmocka_unit_test(receipt_catches_truncation_to_an_earlier_sealed_prefix),
	    cmocka_unit_test(signing_key_readable_by_others_is_refused),
	    cmocka_unit_test(signing_key_of_mode_600_loads_and_matches_its_public_key),
	    cmocka_unit_test(signing_key_of_another_type_is_refused),
	    cmocka_unit_test(public_key_given_as_the_signing_key_is_named),
	    cmocka_unit_test(missing_key_file_says_why),
	    cmocka_unit_test(garbage_key_file_is_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
