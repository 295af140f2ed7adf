/*
 * audit.h - the audit log: hash-chained entries and Ed25519-signed
 * checkpoints, and their offline verification.  The format is documented
 * in docs/audit-format.md; in short, each entry is one line of compact JSON
 *
 *   {"seq":N,"time":"2026-11-28T18:00:00.123Z","prev":"<64 hex>", ...fields...,"hash":"<64 hex>"}
 *
 * whose "hash" is the lower-case hex SHA-256 of the line's bytes before
 * ',"hash":"' (so it covers prev, and through it the whole chain).  A
 * checkpoint is an entry with "action":"checkpoint" and a "checkpoint"
 * object {size, head, signed_at, key_id, signature} signing the chain head
 * over entries [0, size).
 *
 * This module builds and verifies lines; it never writes to disk (the
 * store does) and never decides when a response may leave (the daemon
 * does, only after the entry is committed).
 */
#ifndef DISCLOSURE_AUDIT_H
#define DISCLOSURE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "disclosure/error.h"

#define AUDIT_HASH_HEX 64
#define AUDIT_KEY_ID_HEX 16

/* The head of the chain, owned by the one writer. */
struct audit_chain {
	uint64_t next_seq;
	char head[AUDIT_HASH_HEX + 1]; /* hash of entry next_seq-1, 64 zeros if none */
	uint64_t last_checkpoint_size; /* size covered by the last stored checkpoint */
};

void audit_chain_init(struct audit_chain *c); /* empty chain */
/* Rebuilds the chain head from the last stored entry (line of seq n-1). */
int audit_chain_resume(struct audit_chain *c, uint64_t n, const char *last_line, size_t len,
		       struct dsc_error *err);

/*
 * Encodes the next entry: fields is a JSON object of the entry's own
 * fields (principal, action, status, ...), without seq/time/prev/hash.
 * now_ms is UTC milliseconds since the epoch.  On success *line is a
 * malloc'd NUL-terminated line without newline, and the chain advances.
 */
int audit_entry_encode(struct audit_chain *c, const json_t *fields, int64_t now_ms, char **line,
		       size_t *len, struct dsc_error *err);
/* Encodes a checkpoint entry signed with key over [0, c->next_seq). */
int audit_checkpoint_encode(struct audit_chain *c, EVP_PKEY *key, int64_t now_ms, char **line,
			    size_t *len, struct dsc_error *err);

/* Loads the Ed25519 private key; refuses a file readable by group or
 * others (DSC_EPERM) and any other key type (DSC_EINVAL). */
int audit_key_load(const char *path, EVP_PKEY **out, struct dsc_error *err);
int audit_pubkey_load(const char *path, EVP_PKEY **out, struct dsc_error *err);
/* First 16 hex of SHA-256 over the raw 32-byte public key. */
int audit_key_id(EVP_PKEY *key, char out[AUDIT_KEY_ID_HEX + 1]);

struct audit_verify_result {
	bool ok;
	uint64_t entries;     /* lines read */
	uint64_t checkpoints; /* checkpoints whose signature held */
	uint64_t sealed_size; /* entries covered by the last good checkpoint */
	int64_t first_bad_seq; /* -1 if none; the seq (or the position) of the first bad line */
	char last_signed_at[32]; /* signed_at and key_id of the last good checkpoint ("" if none) */
	char last_key_id[AUDIT_KEY_ID_HEX + 1];
	char msg[512];
};

/*
 * Verifies an export read from f: every line parses, seq runs 0,1,2...,
 * every prev links, every hash holds, every checkpoint's size and head
 * match the entries before it and its signature verifies with pub (and its
 * key_id names pub), and the file ends with a checkpoint covering all its
 * entries unless allow_unsealed.  Returns DSC_OK if and only if res->ok.
 */
int audit_verify_stream(FILE *f, EVP_PKEY *pub, bool allow_unsealed,
			struct audit_verify_result *res);

/*
 * Addition: what a daemon finds at the end of the log it is about to
 * extend.  get(arg, seq, &line, &len) reads stored line seq (0 <= seq <
 * n).  The last checkpoint is looked for among the last max_scan lines;
 * every line from it to the end must parse, run in seq, link (prev) and
 * hash, and the checkpoint, when key_id names key (private or public),
 * must be signed by it.  DSC_EINVAL with err naming the seq when not (the
 * stored log was altered or damaged: nothing should extend it); DSC_OK
 * with *out filled otherwise, also when no checkpoint is found.
 */
struct audit_tail {
	bool has_checkpoint;   /* within the lines scanned */
	uint64_t checkpoint_seq; /* its seq: the entries it seals */
	char key_id[AUDIT_KEY_ID_HEX + 1]; /* the key that signed it */
	char signed_at[32];
	bool verified;         /* signed by the key given, and the signature holds */
	bool clean_stop;       /* the log ends daemon.stop then a checkpoint */
	uint64_t unsealed;     /* entries after the last checkpoint (those scanned if none) */
	int64_t last_ms;       /* time of the last entry, ms since the epoch (0 if none) */
};
int audit_tail_check(int (*get)(void *arg, uint64_t seq, const char **line, size_t *len), void *arg,
		     uint64_t n, EVP_PKEY *key, uint64_t max_scan, struct audit_tail *out,
		     struct dsc_error *err);

/* Hash of one line as its "hash" field should be (lower-case hex). */
int audit_line_hash(const char *line, size_t len, char out[AUDIT_HASH_HEX + 1]);

/*
 * Addition, on the encoding: lines are written with JSON_COMPACT |
 * JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER, so every line is pure ASCII
 * (non-ASCII as \uXXXX) and its bytes cannot depend on an auditor's
 * encoding.  The checkpoint signs exactly the ASCII bytes
 * "disclosured-checkpoint-v1\nsize=N\nhead=<64 hex>\nsigned_at=<time>\n"
 * "key_id=<16 hex>\n" (pure Ed25519).  The verifier never re-encodes: it
 * hashes the bytes as read, lines up to 1 MiB.
 */

/*
 * Addition: the checkpoint a page of GET /v1/audit that reaches the newest
 * entry ends with: signed over [0, c->next_seq) exactly like
 * audit_checkpoint_encode(), but c does not advance (it is not stored; the
 * next stored entry takes the same seq).
 */
int audit_checkpoint_encode_unstored(const struct audit_chain *c, EVP_PKEY *key, int64_t now_ms,
				     char **line, size_t *len, struct dsc_error *err);

/*
 * Addition: audit_verify_stream() of export, and also proves that every
 * receipt in the client's requests log is in the export.  The requests log
 * is NDJSON; a line with a top-level member
 *
 *   "receipt": {"seq": N, "hash": "<64 lower-case hex>"}
 *
 * is a receipt (other lines, and "receipt": null, are ignored; a line that
 * is not a JSON object, or a malformed receipt, is a failure).  Each
 * receipt's seq must be in the export with exactly that hash, else the
 * result fails naming that seq (a rewritten entry, or a log truncated
 * behind the receipt).  Returns DSC_OK if and only if res->ok.
 */
int audit_receipts_check(FILE *export, FILE *receipts_log, EVP_PKEY *pub, bool allow_unsealed,
			 struct audit_verify_result *res);

/*
 * Addition, for a log whose signing key was rotated: audit_verify_stream()
 * and audit_receipts_check() with the public keys the log used, oldest
 * first (at most AUDIT_VERIFY_KEYS_MAX, no key twice).  Every checkpoint
 * must be signed by one of them, never by a key given before the key of
 * an earlier checkpoint (a log does not go back to a retired key), and
 * every key given must sign at least one checkpoint.  With one key these
 * are exactly the functions above.
 */
#define AUDIT_VERIFY_KEYS_MAX 8
int audit_verify_stream_keys(FILE *f, EVP_PKEY *const *pubs, size_t n_pubs, bool allow_unsealed,
			     struct audit_verify_result *res);
int audit_receipts_check_keys(FILE *export, FILE *receipts_log, EVP_PKEY *const *pubs, size_t n_pubs,
			      bool allow_unsealed, struct audit_verify_result *res);

/*
 * Addition: audit_receipts_check_keys() for the receipts of one server's
 * requests.  A client's log may hold requests to several servers: each
 * request's "sent" record names its server ("server": "https://..."), and
 * its receipt is counted only when that is server (compared without a
 * trailing '/'; a receipt whose server the log does not say is counted).
 * With server NULL every receipt is counted, and a log whose receipts
 * come from more than one server is a failure that names them (which
 * server the export is from is for the caller to say).
 */
int audit_receipts_check_server(FILE *export, FILE *receipts_log, EVP_PKEY *const *pubs,
				size_t n_pubs, bool allow_unsealed, const char *server,
				struct audit_verify_result *res);

/*
 * Addition: members of an entry written ahead of the entry, as text, by
 * the very writers audit_entry_encode() uses on a tree, so that the line
 * is byte for byte the one a tree holding the same members last would
 * give (a check's query and result: the daemon writes them from its
 * structs instead of building a tree to be walked once).  Start from
 * {0}; each call appends; the first failure stays in rc (DSC_ENOMEM,
 * DSC_ETOOBIG, DSC_EINVAL for a string that is not UTF-8) and later calls
 * do nothing.  The text is ",\"key\":value..." and must not name seq,
 * time, prev or hash: only the caller's own writing goes here.
 */
struct audit_members {
	char *p;
	size_t len, cap;
	int rc;
};
void audit_members_key(struct audit_members *m, const char *key); /* ,"key": */
/* s as a JSON string (n bytes, UTF-8), or null if s is NULL. */
void audit_members_string(struct audit_members *m, const char *s, size_t n);
void audit_members_integer(struct audit_members *m, long long v);
void audit_members_real(struct audit_members *m, double v);
/* Punctuation and literals: { } [ ] , null true false. */
void audit_members_raw(struct audit_members *m, const char *s, size_t n);
void audit_members_release(struct audit_members *m);
/* audit_entry_encode() of fields, then the members of m (NULL: none);
 * m->rc other than DSC_OK fails the entry. */
int audit_entry_encode_members(struct audit_chain *c, const json_t *fields,
			       const struct audit_members *m, int64_t now_ms, char **line,
			       size_t *len, struct dsc_error *err);

#endif
