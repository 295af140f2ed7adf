/*
 * reqlog.h - the client's request log: one NDJSON line appended, and
 * flushed to disk, before each request is sent, and one when its answer
 * (with the server's audit receipt) or its failure is known.
 *
 *   {"time":"...Z","id":"9c1f...","state":"sent","method":"POST","path":"/v1/checks",
 *    "server":"https://...","principal":"alice.jones","command":"check",...}
 *   {"time":"...Z","id":"9c1f...","state":"answered","status":200,"request_id":"...",
 *    "receipt":{"seq":1043,"hash":"<64 hex>"},...}
 *   {"time":"...Z","id":"9c1f...","state":"failed","error":"..."}
 *
 * The receipts are what `audit verify --receipts` later proves against an
 * export.  The log must never hold the private key, certificate contents or
 * any other secret, nor the names of the person checked: only what
 * identifies a request (case_ref, purpose, check and offender ids) and a
 * SHA-256 of the body that was sent.  The file is created with mode 0600.
 */
#ifndef DISCLOSURECTL_REQLOG_H
#define DISCLOSURECTL_REQLOG_H

#include <stddef.h>
#include <jansson.h>

#include "disclosure/error.h"

#define REQLOG_ID_LEN 16

struct reqlog;

/* The default path: $XDG_STATE_HOME/disclosurectl/requests.log, else
 * $HOME/.local/state/disclosurectl/requests.log. */
int reqlog_default_path(char *buf, size_t cap, struct dsc_error *err);

/* Opens (creating it and, if make_dirs, its folders 0700) for appending. */
int reqlog_open(const char *path, int make_dirs, struct reqlog **out, struct dsc_error *err);
void reqlog_free(struct reqlog *l);
const char *reqlog_path(const struct reqlog *l);

/* Appends a "sent" record; fields (borrowed, may be NULL) are added to it.
 * id receives the new request's id. */
int reqlog_sent(struct reqlog *l, const char *method, const char *path, json_t *fields,
                char id[REQLOG_ID_LEN + 1], struct dsc_error *err);
/* Appends an "answered" record; receipt and fields are borrowed, may be NULL. */
int reqlog_answered(struct reqlog *l, const char *id, int status, const char *request_id,
                    json_t *receipt, json_t *fields, struct dsc_error *err);
int reqlog_failed(struct reqlog *l, const char *id, const char *error, struct dsc_error *err);

/*
 * Calls fn for every record of the log at path, in order; lines that are
 * not JSON objects (a line cut short by a crash) are passed as NULL with
 * their number so the caller can say so.  fn returns DSC_OK to go on.
 */
typedef int (*reqlog_fn)(void *arg, json_t *record, size_t lineno);
int reqlog_each(const char *path, reqlog_fn fn, void *arg, struct dsc_error *err);

/* "2026-11-28T18:00:00.123Z" for now. */
void reqlog_now(char out[32]);

#endif
