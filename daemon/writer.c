/*
 * writer.c - the one thread that writes: stored checks, decisions,
 * offender records and every audit entry, in batches (group commit).
 * Workers queue jobs; the writer takes everything queued, applies it in one
 * LMDB write transaction with each job's audit entry, adds a signed
 * checkpoint when one is due (every checkpoint_every entries, every
 * checkpoint_seconds while entries arrive, at shutdown), commits once, and
 * only then hands each job back to the worker that answers it.  What queues
 * during one commit goes into the next transaction, so one fsync carries
 * many requests.
 *
 * It owns the head of the hash chain.  If a batch cannot be committed (map
 * or disk full, I/O error) the transaction is aborted, the chain is put
 * back as it was, and every job of the batch is answered 503 with nothing
 * else: no candidate leaves without its audit entry on disk.
 *
 * Never: hand a job back before its entry is committed; let a job's own
 * failure (a decision already made, a record not there) cost the other
 * jobs of the batch their answers.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>

#include <event2/buffer.h>

#include "disclosure/log.h"
#include "disclosured.h"

#define BATCH_BUCKETS 11
static const double batch_bounds[BATCH_BUCKETS] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
#define COMMIT_BUCKETS 12
static const double commit_bounds[COMMIT_BUCKETS] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
						     0.05,   0.1,   0.25,  0.5,   1,    2.5};

struct histogram {
	atomic_uint_fast64_t bucket[16];
	atomic_uint_fast64_t count;
	_Atomic double sum;
};

struct writer {
	struct daemon *d;
	pthread_t thread;
	bool started;
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	struct job *head, *tail;
	bool stopping;
	json_t *stop_fields;
	struct audit_chain chain;
	uint64_t since_checkpoint; /* entries after the last checkpoint */
	uint64_t last_checkpoint_mono_ms;
	bool broken;   /* a write transaction could not even begin */
	bool final_ok; /* the last batch (daemon.stop, final checkpoint) committed */
	struct histogram batch, commit;
	atomic_uint_fast64_t commit_failures;
	atomic_size_t grow_to; /* map size asked for by a reload, 0 = none */
	uint64_t ahead_retry_ms; /* writing zeros ahead failed: not again before */
	bool ahead_failing;
	bool ahead_full;  /* [store] preallocate reached, and not yet half used */
	uint64_t idle_ms; /* when the last batch ended */
	struct audit_tail at_start; /* how the stored log ended when the daemon started */
	/* An outage of the audit log (batches that could not commit, their
	 * requests answered 503), said in an audit.outage entry by the first
	 * batch that commits after it, and in the daemon log once a minute
	 * at most while it lasts. */
	struct {
		uint64_t refused, batches, unlogged;
		int64_t first_ms, last_ms;
		uint64_t logged_mono_ms;
		char why[sizeof(((struct dsc_error *)0)->msg)];
	} outage;
	int64_t last_entry_ms; /* an entry's time never goes back (the clock may) */
};

/* Zeros written ahead of the store's data ([store] preallocate,
 * store_keep_ahead), AHEAD_STEP at a time, each flushed to disk, only once
 * the writer has had no job for AHEAD_QUIET_MS, and only when less than
 * half of them is left: a steady stream of requests, even one at a time,
 * never meets a step, and a request that arrives during one in a quiet
 * moment waits for that step alone (a quarter of a megabyte and its
 * fdatasync, about a millisecond here).  A commit over blocks already
 * written syncs in about half the time of one that grows the file.  A
 * check grows the store by about 4 KiB (its stored result, its audit
 * entry, the pages LMDB copies): 256 MiB of zeros last some 60,000
 * checks, after which commits cost what a growing file costs until a
 * quiet moment.  A due checkpoint goes first. */
#define AHEAD_STEP ((size_t)256 << 10)
#define AHEAD_QUIET_MS 50u
#define AHEAD_RETRY_MS 60000u

static uint64_t mono_ms(void)
{
	return mono_ns() / 1000000u;
}

static void histogram_add(struct histogram *h, const double *bounds, int n, double v)
{
	int i;

	for (i = 0; i < n; i++)
		if (v <= bounds[i])
			break;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	/* Only the writer adds: a plain read-modify-write of the sum is enough. */
	atomic_store_explicit(&h->sum, atomic_load_explicit(&h->sum, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static void histogram_render(struct evbuffer *out, const char *name, const char *help,
			     const struct histogram *h, const double *bounds, int n)
{
	uint64_t cum = 0;

	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (int i = 0; i < n; i++) {
		cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
		evbuffer_add_printf(out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, bounds[i], cum);
	}
	cum += atomic_load_explicit(&h->bucket[n], memory_order_relaxed);
	evbuffer_add_printf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
	evbuffer_add_printf(out, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name,
			    atomic_load_explicit(&h->sum, memory_order_relaxed), name,
			    (uint64_t)atomic_load_explicit(&h->count, memory_order_relaxed));
}

int writer_metrics_render(struct writer *wr, struct evbuffer *out)
{
	histogram_render(out, "disclosured_commit_batch_size",
			 "Jobs (requests) committed per write transaction.", &wr->batch,
			 batch_bounds, BATCH_BUCKETS);
	histogram_render(out, "disclosured_commit_duration_seconds",
			 "Time to apply and commit one write transaction.", &wr->commit,
			 commit_bounds, COMMIT_BUCKETS);
	evbuffer_add_printf(out,
			    "# HELP disclosured_commit_failures_total Write transactions that "
			    "could not be committed (answered 503).\n"
			    "# TYPE disclosured_commit_failures_total counter\n"
			    "disclosured_commit_failures_total %" PRIu64 "\n",
			    (uint64_t)atomic_load_explicit(&wr->commit_failures,
							   memory_order_relaxed));
	return DSC_OK;
}

/* ---- applying one job ---- */

/* Appends one encoded entry for fields and remembers it as j's receipt
 * (j may be NULL). */
static int append_entry(struct writer *wr, struct store_txn *t, const json_t *fields,
			int64_t ms, struct job *j, struct dsc_error *err)
{
	uint64_t seq = wr->chain.next_seq;
	struct audit_chain before = wr->chain;
	char *line = NULL;
	size_t len = 0;
	int rc;

	/* A check's own members come written ahead, after the tree's. */
	if (j != NULL && j->audit_more.len > 0)
		rc = audit_entry_encode_members(&wr->chain, fields, &j->audit_more, ms, &line,
						&len, err);
	else
		rc = audit_entry_encode(&wr->chain, fields, ms, &line, &len, err);
	if (rc != DSC_OK)
		return rc;
	rc = store_audit_append(t, seq, line, len, err);
	free(line);
	if (rc != DSC_OK) {
		wr->chain = before;
		return rc;
	}
	wr->since_checkpoint++;
	if (j != NULL) {
		j->receipt = true;
		j->receipt_seq = seq;
		memcpy(j->receipt_hash, wr->chain.head, sizeof(j->receipt_hash));
	}
	return DSC_OK;
}

static int append_checkpoint(struct writer *wr, struct store_txn *t, int64_t ms, char **keep,
			     size_t *keep_len, struct dsc_error *err)
{
	uint64_t seq = wr->chain.next_seq;
	struct audit_chain before = wr->chain;
	char *line = NULL;
	size_t len = 0;
	int rc;

	rc = audit_checkpoint_encode(&wr->chain, wr->d->audit_key, ms, &line, &len, err);
	if (rc != DSC_OK)
		return rc;
	rc = store_audit_append(t, seq, line, len, err);
	if (rc != DSC_OK) {
		free(line);
		wr->chain = before;
		return rc;
	}
	wr->since_checkpoint = 0;
	if (keep != NULL) {
		*keep = line;
		*keep_len = len;
	} else {
		free(line);
	}
	return DSC_OK;
}

/* Entries written since the last checkpoint, not counting it. */
static uint64_t pending_entries(const struct writer *wr)
{
	return wr->since_checkpoint;
}

/* Errors after which the LMDB transaction is unusable. */
static bool fatal_store_error(int rc)
{
	return rc == DSC_EFULL || rc == DSC_EIO || rc == DSC_ENOMEM || rc == DSC_EINTERNAL;
}

static int apply_decision(struct store_txn *t, struct job *j, struct dsc_error *err)
{
	const void *val;
	size_t vlen;
	json_t *check, *cur;
	char *dump;
	int rc;

	rc = store_txn_get(t, STORE_CHECKS, j->check_id, strlen(j->check_id), &val, &vlen);
	if (rc == DSC_ENOTFOUND) {
		job_error(j, 404, "not_found", NULL, "no check %s", j->check_id);
		return DSC_OK;
	}
	if (rc != DSC_OK)
		return dsc_error_set(err, rc, "reading check %s failed", j->check_id);
	check = json_loadb(val, vlen, 0, NULL);
	if (check == NULL)
		return dsc_error_set(err, DSC_EINTERNAL, "stored check %s is not JSON", j->check_id);
	cur = json_object_get(check, "decision");
	if (cur != NULL && !json_is_null(cur)) {
		json_decref(check);
		job_error(j, 409, "conflict", NULL, "check %s is already decided", j->check_id);
		return DSC_OK;
	}
	json_object_set(check, "decision", j->decision);
	dump = json_dumps(check, JSON_COMPACT);
	json_decref(check);
	if (dump == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory encoding check %s", j->check_id);
	rc = store_txn_put(t, STORE_CHECKS, j->check_id, strlen(j->check_id), dump, strlen(dump),
			   err);
	free(dump);
	return rc;
}

/*
 * Which records a chunk of a bulk import created and which it replaced,
 * by id: an auditor must be able to say who changed a given record, as
 * the entry of a PUT or DELETE says.  A chunk holds up to 100,000 records
 * and a line at most 1 MiB (docs/audit-format.md), so the ids go into
 * entries of their own, "offender.bulk.records", each up to
 * BULK_IDS_BYTES of them, written in the same transaction right after the
 * chunk's "offender.bulk" entry (whose seq they name).  An id is at most 64
 * characters of A-Z a-z 0-9 _ -, none of which JSON escapes.
 */
#define BULK_IDS_BYTES (512 * 1024)

/* what[i]: 'c' created, 'r' replaced, 0 refused. */
static int append_bulk_ids(struct writer *wr, struct store_txn *t, struct job *j, const char *what,
			   uint64_t of_seq, int64_t ms, struct dsc_error *err)
{
	/* Who, and the request, as the chunk's own entry says them. */
	static const char *const copied[] = {"principal", "cn",     "cert_sha256", "roles", "force",
					     "request_id", "method", "path",       "status"};
	size_t i = 0;

	for (;;) {
		json_t *e, *created, *replaced;
		size_t bytes = 0;
		int rc;

		while (i < j->n_bulk && what[i] == 0)
			i++; /* refused: in no list */
		if (i == j->n_bulk)
			break;
		e = json_object();
		created = json_array();
		replaced = json_array();

		if (e == NULL || created == NULL || replaced == NULL) {
			json_decref(e);
			json_decref(created);
			json_decref(replaced);
			return dsc_error_set(err, DSC_ENOMEM, "out of memory");
		}
		json_object_set_new(e, "action", json_string("offender.bulk.records"));
		for (size_t k = 0; k < sizeof(copied) / sizeof(copied[0]); k++) {
			json_t *v = json_object_get(j->audit, copied[k]);
			if (v != NULL)
				json_object_set(e, copied[k], v);
		}
		json_object_set_new(e, "of_seq", json_integer((json_int_t)of_seq));
		for (; i < j->n_bulk && bytes < BULK_IDS_BYTES; i++) {
			if (what[i] == 0)
				continue;
			json_array_append_new(what[i] == 'c' ? created : replaced,
					      json_string(j->bulk[i]->id));
			bytes += strlen(j->bulk[i]->id) + 3;
		}
		json_object_set_new(e, "created", created);
		json_object_set_new(e, "replaced", replaced);
		rc = append_entry(wr, t, e, ms, NULL, err);
		json_decref(e);
		if (rc != DSC_OK)
			return rc;
	}
	return DSC_OK;
}

static int apply_bulk(struct store_txn *t, struct job *j, char *what, long *records_delta,
		      struct dsc_error *err)
{
	json_t *b;
	int rc;

	for (size_t i = 0; i < j->n_bulk; i++) {
		bool replaced = false;
		struct dsc_error e;

		what[i] = 0;
		if (j->bulk_prep != NULL && j->bulk_prep[i] != NULL)
			rc = store_put_prepared(t, j->bulk[i], j->bulk_prep[i], &replaced, &e);
		else
			rc = store_put_offender(t, j->bulk[i], &replaced, &e);
		if (rc == DSC_OK) {
			what[i] = replaced ? 'r' : 'c';
			if (replaced)
				j->bulk_replaced++;
			else {
				j->bulk_created++;
				(*records_delta)++;
			}
		} else if (!fatal_store_error(rc)) {
			j->bulk_rejected++;
			log_warnx("bulk import %s: record %s refused by the store: %s",
				  j->request_id, j->bulk[i]->id, e.msg);
		} else {
			*err = e;
			return rc;
		}
	}
	b = json_object();
	if (b == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	json_object_set_new(b, "created", json_integer((json_int_t)j->bulk_created));
	json_object_set_new(b, "replaced", json_integer((json_int_t)j->bulk_replaced));
	json_object_set_new(b, "rejected", json_integer((json_int_t)j->bulk_rejected));
	json_object_set_new(b, "first_line", json_integer((json_int_t)j->bulk_first_line));
	json_object_set_new(b, "last_line", json_integer((json_int_t)j->bulk_last_line));
	json_object_set_new(j->audit, "bulk", b);
	return DSC_OK;
}

/* The page of an audit read: stored entries [from, page_end), and, when
 * the page reaches the newest entry (this request's own) with room to
 * spare, a checkpoint signed over everything before it.  That seal is
 * usually not stored (docs/audit-format.md): the next stored entry takes its
 * seq.  But when entries and seal fill the page exactly, a client paging
 * "until a page is shorter than limit, from the last seq + 1" asks again
 * from the seal's seq + 1, and would skip the entry that took the seal's
 * seq; so that seal is stored in the chain (*store_seal), and the export
 * stays contiguous whichever way it is paged.  Not for limit <= 2, where a
 * stored seal would fill every following page too. */
static void audit_page_plan(struct writer *wr, struct job *j, bool *seal, bool *store_seal)
{
	uint64_t a = wr->chain.next_seq; /* this request's entry */
	uint64_t from = j->page_from, limit = j->page_limit;
	json_t *ret;

	*seal = from <= a + 1 && a + 1 <= from + limit - 1;
	*store_seal = *seal && limit > 2 && a + 1 == from + limit - 1;
	if (*seal)
		j->page_end = a + 1;
	else
		j->page_end = from + limit < a + 1 ? from + limit : a + 1;
	if (j->page_end < from)
		j->page_end = from;
	ret = json_object();
	if (ret != NULL && (j->page_end > from || *seal)) {
		json_object_set_new(ret, "first", json_integer((json_int_t)from));
		json_object_set_new(ret, "last",
				    json_integer((json_int_t)(*seal ? a + 1 : j->page_end - 1)));
		json_object_set_new(ret, "sealed", json_boolean(*seal));
		json_object_set_new(j->audit, "returned", ret);
	} else {
		json_decref(ret);
		json_object_set_new(j->audit, "returned", json_null());
	}
}

/*
 * What the audit entry of a record written or deleted says of it
 * (docs/audit-format.md): record_sha256, the SHA-256 of the record's JSON
 * as the store keeps it (lower-case hex), so that an auditor can tell
 * which version of a record an entry wrote, or deleted, and compare it
 * with a backup; and, for a record replaced, the names of its top-level
 * members that changed ("names", "status", ...), as old and new are
 * read in the same transaction.
 */
static void record_audit(json_t *audit, const char *json, size_t len)
{
	char hex[AUDIT_HASH_HEX + 1];

	if (audit != NULL && json != NULL && audit_line_hash(json, len, hex) == DSC_OK)
		json_object_set_new(audit, "record_sha256", json_string(hex));
}

/* The top-level members of the stored record o->id that o changes, in
 * the order of the old record then the new one's additions; NULL if there
 * is no stored record (or it cannot be read). */
static json_t *record_changes(struct store_txn *t, const struct offender *o)
{
	const char *old_text;
	size_t old_len;
	json_t *old, *now, *out, *v;
	const char *key;

	if (store_txn_get_offender(t, o->id, &old_text, &old_len) != DSC_OK)
		return NULL;
	old = json_loadb(old_text, old_len, 0, NULL);
	now = json_loadb(o->json, o->json_len, 0, NULL);
	out = json_array();
	if (old == NULL || now == NULL || out == NULL) {
		json_decref(old);
		json_decref(now);
		json_decref(out);
		return NULL;
	}
	json_object_foreach(old, key, v) {
		if (!json_equal(v, json_object_get(now, key)))
			json_array_append_new(out, json_string(key));
	}
	json_object_foreach(now, key, v) {
		if (json_object_get(old, key) == NULL)
			json_array_append_new(out, json_string(key));
	}
	json_decref(old);
	json_decref(now);
	return out;
}

/* DSC_OK unless the transaction is lost (then err says why). */
static int job_apply(struct writer *wr, struct store_txn *t, struct job *j, int64_t ms,
		     long *records_delta, struct dsc_error *err)
{
	bool seal = false, store_seal = false;
	char *bulk_what = NULL; /* JOB_BULK_CHUNK: what became of each record */
	int rc = DSC_OK;

	switch (j->kind) {
	case JOB_CHECK_CREATE:
		if (j->status == 200)
			rc = store_txn_put(t, STORE_CHECKS, j->check_id, strlen(j->check_id),
					   j->store_val, j->store_len, err);
		break;
	case JOB_DECISION:
		if (j->status == 200)
			rc = apply_decision(t, j, err);
		break;
	case JOB_OFFENDER_PUT:
		if (j->status == 200 && j->offender != NULL) {
			struct dsc_error e;
			bool replaced = false;
			json_t *changed = record_changes(t, j->offender);

			rc = store_put_offender(t, j->offender, &replaced, &e);
			if (rc == DSC_OK) {
				j->replaced = replaced;
				j->status = replaced ? 200 : 201;
				if (!replaced)
					(*records_delta)++;
				record_audit(j->audit, j->offender->json, j->offender->json_len);
				json_object_set_new(j->audit, "created", json_boolean(!replaced));
				if (replaced && changed != NULL)
					json_object_set(j->audit, "changed", changed);
			} else if (!fatal_store_error(rc)) {
				job_error_from(j, &e);
				rc = DSC_OK;
			} else {
				*err = e;
			}
			json_decref(changed);
		}
		break;
	case JOB_OFFENDER_DELETE:
		if (j->status == 200) {
			struct dsc_error e;
			const char *old;
			size_t old_len;

			/* The record as it was: its digest, for the auditor. */
			if (store_txn_get_offender(t, j->record_id, &old, &old_len) == DSC_OK)
				record_audit(j->audit, old, old_len);
			rc = store_delete_offender(t, j->record_id, &e);
			if (rc == DSC_OK) {
				(*records_delta)--;
			} else if (rc == DSC_ENOTFOUND) {
				job_error(j, 404, "not_found", NULL, "no offender record %s",
					  j->record_id);
				rc = DSC_OK;
			} else if (!fatal_store_error(rc)) {
				job_error_from(j, &e);
				rc = DSC_OK;
			} else {
				*err = e;
			}
		}
		break;
	case JOB_BULK_CHUNK:
		if ((bulk_what = malloc(j->n_bulk ? j->n_bulk : 1)) == NULL)
			return dsc_error_set(err, DSC_ENOMEM, "out of memory");
		rc = apply_bulk(t, j, bulk_what, records_delta, err);
		break;
	case JOB_AUDIT_PAGE:
		if (j->status == 200)
			audit_page_plan(wr, j, &seal, &store_seal);
		break;
	default:
		break;
	}
	if (rc != DSC_OK || j->audit == NULL) {
		free(bulk_what);
		return rc;
	}
	if (j->kind != JOB_INTERNAL)
		json_object_set_new(j->audit, "status", json_integer(j->status));
	rc = append_entry(wr, t, j->audit, ms, j, err);
	if (rc == DSC_OK && bulk_what != NULL)
		rc = append_bulk_ids(wr, t, j, bulk_what, j->receipt_seq, ms, err);
	free(bulk_what);
	if (rc != DSC_OK)
		return rc;
	if (seal && store_seal)
		rc = append_checkpoint(wr, t, ms, &j->checkpoint_line, &j->checkpoint_len, err);
	else if (seal)
		rc = audit_checkpoint_encode_unstored(&wr->chain, wr->d->audit_key, ms,
						      &j->checkpoint_line, &j->checkpoint_len, err);
	else if (j->kind == JOB_CHECKPOINT && j->status == 200)
		rc = append_checkpoint(wr, t, ms, j->kind == JOB_CHECKPOINT ? &j->checkpoint_line : NULL,
				       &j->checkpoint_len, err);
	return rc;
}

/* ---- the batch ---- */

/* The entry that says an outage happened (docs/audit-format.md,
 * audit.outage): first in the first batch that commits after it. */
static int append_outage(struct writer *wr, struct store_txn *t, int64_t ms, struct dsc_error *err)
{
	json_t *f = json_object();
	char from[32], to[32];
	int rc;

	if (f == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	format_time_ms(wr->outage.first_ms, from);
	format_time_ms(wr->outage.last_ms, to);
	json_object_set_new(f, "request_id", json_null());
	json_object_set_new(f, "principal", json_null());
	json_object_set_new(f, "action", json_string("audit.outage"));
	json_object_set_new(f, "refused", json_integer((json_int_t)wr->outage.refused));
	json_object_set_new(f, "failed_commits", json_integer((json_int_t)wr->outage.batches));
	json_object_set_new(f, "from", json_string(from));
	json_object_set_new(f, "to", json_string(to));
	json_object_set_new(f, "error", json_string_lossy(wr->outage.why));
	rc = append_entry(wr, t, f, ms, NULL, err);
	json_decref(f);
	return rc;
}

/* Returns whether the batch was committed. */
static bool writer_batch(struct writer *wr, struct job *batch, bool timer_due, json_t *final)
{
	struct daemon *d = wr->d;
	struct audit_chain saved = wr->chain;
	uint64_t saved_since = wr->since_checkpoint;
	struct store_txn *t = NULL;
	struct dsc_error err;
	uint64_t t0 = mono_ns();
	int64_t ms = now_ms();
	long records_delta = 0;
	bool failed = false, checkpointed = false;
	size_t n = 0;
	struct job *j, *next;
	int rc;

	/* A clock set back must not date an entry before the one it
	 * follows: the log's order is its time order. */
	if (ms < wr->last_entry_ms)
		ms = wr->last_entry_ms;
	wr->last_entry_ms = ms;
	dsc_error_clear(&err);
	rc = store_write_begin(d->store, &t, &err);
	if (rc != DSC_OK) {
		failed = true;
		t = NULL;
		/* LMDB refuses every transaction after a failed meta-page write
		 * (MDB_PANIC) until the environment is opened again: stop (exit
		 * 1), so that the service manager starts a daemon that serves,
		 * rather than answer 503 for good. */
		if (!wr->broken) {
			wr->broken = true;
			log_errx("the store cannot begin a write transaction (%s): stopping; "
				 "every acknowledged request is on disk",
				 err.msg);
			kill(getpid(), SIGTERM);
		}
	}
	if (!failed && wr->outage.batches > 0) {
		rc = append_outage(wr, t, ms, &err);
		if (rc != DSC_OK)
			failed = true;
	}
	for (j = batch; !failed && j != NULL; j = j->next) {
		uint64_t seq_before = wr->chain.last_checkpoint_size;

		n++;
		rc = job_apply(wr, t, j, ms, &records_delta, &err);
		if (rc != DSC_OK) {
			/* Whatever the job had put in the transaction cannot
			 * stay without its entry: the whole batch is lost. */
			failed = true;
			break;
		}
		if (wr->chain.last_checkpoint_size != seq_before)
			checkpointed = true;
		if (d->cfg->audit.checkpoint_every > 0 &&
		    pending_entries(wr) >= d->cfg->audit.checkpoint_every) {
			rc = append_checkpoint(wr, t, ms, NULL, NULL, &err);
			if (rc != DSC_OK) {
				failed = true;
				break;
			}
			checkpointed = true;
		}
	}
	if (!failed && final != NULL) {
		rc = append_entry(wr, t, final, ms, NULL, &err);
		if (rc != DSC_OK)
			failed = true;
	}
	if (!failed && pending_entries(wr) > 0 && timer_due) {
		rc = append_checkpoint(wr, t, ms, NULL, NULL, &err);
		if (rc != DSC_OK)
			failed = true;
		else
			checkpointed = true;
	}
	if (!failed && t != NULL) {
		rc = store_write_commit(t, &err);
		t = NULL;
		if (rc != DSC_OK)
			failed = true;
	}
	if (t != NULL)
		store_write_abort(t);
	if (failed) {
		uint64_t now_mono = mono_ms();
		size_t all = 0;

		for (j = batch; j != NULL; j = j->next)
			all++;
		wr->chain = saved;
		wr->since_checkpoint = saved_since;
		atomic_fetch_add_explicit(&wr->commit_failures, 1, memory_order_relaxed);
		if (wr->outage.batches == 0)
			wr->outage.first_ms = ms;
		wr->outage.last_ms = ms;
		wr->outage.batches++;
		wr->outage.refused += all;
		snprintf(wr->outage.why, sizeof(wr->outage.why), "%s",
			 err.msg[0] ? err.msg : "unknown store error");
		/* Once a minute while it lasts: a full disk under load failed
		 * thousands of batches a second, each a line. */
		if (wr->outage.logged_mono_ms == 0 || now_mono >= wr->outage.logged_mono_ms + 60000) {
			log_errx("audit commit failed, %zu request(s) answered 503: %s%s", all, wr->outage.why,
				 wr->outage.unlogged > 0 ? " (and more failures since the last line: see "
							   "disclosured_commit_failures_total)"
							 : "");
			wr->outage.logged_mono_ms = now_mono;
			wr->outage.unlogged = 0;
		} else {
			wr->outage.unlogged++;
		}
		for (j = batch; j != NULL; j = j->next)
			j->failed = true;
	} else {
		if (wr->outage.batches > 0) {
			log_notice("the audit log commits again: %" PRIu64 " request(s) were answered 503 "
				   "while it could not; audit.outage records it",
				   wr->outage.refused);
			memset(&wr->outage, 0, sizeof(wr->outage));
		}
		atomic_store_explicit(&d->audit_seq, wr->chain.next_seq, memory_order_relaxed);
		if (records_delta != 0) {
			uint64_t r = atomic_load_explicit(&d->records, memory_order_relaxed);
			atomic_store_explicit(&d->records, (uint64_t)((long)r + records_delta),
					      memory_order_relaxed);
		}
		if (checkpointed)
			wr->last_checkpoint_mono_ms = mono_ms();
	}
	if (n > 0)
		histogram_add(&wr->batch, batch_bounds, BATCH_BUCKETS, (double)n);
	histogram_add(&wr->commit, commit_bounds, COMMIT_BUCKETS,
		      (double)(mono_ns() - t0) / 1e9);
	/* Back to the workers, a run of one worker's jobs under one lock and
	 * one wake-up. */
	for (j = batch; j != NULL; j = next) {
		struct job *last = j;

		next = j->next;
		if (j->on_done != NULL) {
			j->next = NULL;
			job_complete(j);
			continue;
		}
		while (next != NULL && next->on_done == NULL && next->w == j->w) {
			last = next;
			next = next->next;
		}
		last->next = NULL;
		worker_post_done(j->w, j, last);
	}
	return !failed;
}

/* Whether zeros ahead of the data are to be written (the queue is
 * empty); *when: from when (the writer quiet long enough, a failure's
 * minute over). */
static bool ahead_wanted(const struct writer *wr, uint64_t *when)
{
	uint64_t quiet = wr->idle_ms + AHEAD_QUIET_MS;

	if (wr->d->cfg->store.preallocate == 0 || wr->ahead_full)
		return false;
	*when = wr->ahead_failing && wr->ahead_retry_ms > quiet ? wr->ahead_retry_ms : quiet;
	return true;
}

/* After a batch: whether less than half of the zeros is left. */
static void ahead_after_batch(struct writer *wr)
{
	size_t used, map, file;

	wr->idle_ms = mono_ms();
	if (wr->ahead_full && store_space(wr->d->store, &used, &map, &file) == DSC_OK &&
	    file < used + wr->d->cfg->store.preallocate / 2 && file < map)
		wr->ahead_full = false;
}

/* One step of zeros ahead of the data, between transactions.  A failure
 * (a disk nearly full) costs nothing but the speed of the commits: it is
 * said once, tried again a minute later, and its end is said too. */
static void ahead_step(struct writer *wr)
{
	struct dsc_error err;
	size_t added, used, map, file;

	if (store_keep_ahead(wr->d->store, wr->d->cfg->store.preallocate, AHEAD_STEP, &added,
			     &err) != DSC_OK) {
		if (!wr->ahead_failing)
			log_warnx("%s; commits go on, each growing the file (tried again every %u s)",
				  err.msg, AHEAD_RETRY_MS / 1000u);
		wr->ahead_failing = true;
		wr->ahead_retry_ms = mono_ms() + AHEAD_RETRY_MS;
		return;
	}
	if (wr->ahead_failing)
		log_notice("store: zeros are written ahead of the data again");
	wr->ahead_failing = false;
	if (added == 0 || (store_space(wr->d->store, &used, &map, &file) == DSC_OK &&
			   (file >= used + wr->d->cfg->store.preallocate || file >= map)))
		wr->ahead_full = true;
}

/*
 * The writer ahead of the workers.  Every answer waits for its commit, and
 * a commit for the writer to be given a processor.  Where it shares one with
 * a worker (one core, or more workers than cores), a writer woken by the
 * worker's jobs waited for the worker's turn to end, up to a scheduler tick:
 * at 32 connections on one core the commit took 3.2 ms, of which 2 in its
 * system calls, and the core was a third idle.  Ten nice levels below the
 * workers (a weight of about ten to one) let its wake-up preempt them.  It
 * cannot starve them: it spends most of its time waiting for the disk, and
 * a fifth of a check's processor time.
 *
 * Lowering a nice value takes CAP_SYS_NICE or an RLIMIT_NICE that allows it
 * (the unit's LimitNICE=); without either the writer goes as low as the
 * limit lets it, or stays level with the workers, and says so.  *out: the
 * writer's nice value; *base: the workers'.
 */
#define WRITER_NICE_BELOW 10

static void writer_priority(int *out, int *base)
{
	id_t tid = (id_t)gettid();
	struct rlimit rl;
	int want, lowest;

	errno = 0;
	*base = *out = getpriority(PRIO_PROCESS, tid);
	if (*base == -1 && errno != 0)
		return;
	want = *base - WRITER_NICE_BELOW < -20 ? -20 : *base - WRITER_NICE_BELOW;
	if (want < *base && setpriority(PRIO_PROCESS, tid, want) == 0) {
		*out = want;
		return;
	}
	/* RLIMIT_NICE n allows nice values down to 20 - n. */
	if (getrlimit(RLIMIT_NICE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur <= 40) {
		lowest = 20 - (int)rl.rlim_cur;
		if (lowest > want && lowest < *base && setpriority(PRIO_PROCESS, tid, lowest) == 0)
			*out = lowest;
	}
}

static void *writer_main(void *arg)
{
	struct writer *wr = arg;
	const struct config *cfg = wr->d->cfg;
	struct job *batch;
	bool timer_due, stop = false;
	int nice_writer, nice_workers;

	pthread_setname_np(pthread_self(), "writer");
	writer_priority(&nice_writer, &nice_workers);
	if (nice_writer <= nice_workers - WRITER_NICE_BELOW)
		log_info("audit writer at nice %d, the workers at %d", nice_writer, nice_workers);
	else
		log_notice("audit writer at nice %d, the workers at %d: answers wait longer "
			   "for their commit where the two share a core (allow nice %d with "
			   "CAP_SYS_NICE or LimitNICE=)",
			   nice_writer, nice_workers, nice_workers - WRITER_NICE_BELOW);

	for (;;) {
		size_t grow = atomic_exchange(&wr->grow_to, 0);

		if (grow > 0) {
			/* Between transactions, as LMDB requires. */
			struct dsc_error gerr;

			if (store_set_map_size(wr->d->store, grow, &gerr) == DSC_OK)
				log_notice("store map grown to %zu bytes", grow);
			else
				log_warnx("reload: %s", gerr.msg);
		}
		timer_due = false;
		pthread_mutex_lock(&wr->mtx);
		while (wr->head == NULL && !wr->stopping && atomic_load(&wr->grow_to) == 0) {
			uint64_t due = UINT64_MAX, now = mono_ms(), when;

			if (cfg->audit.checkpoint_seconds > 0 && pending_entries(wr) > 0) {
				due = wr->last_checkpoint_mono_ms +
				      (uint64_t)cfg->audit.checkpoint_seconds * 1000u;
				if (now >= due) {
					timer_due = true;
					break;
				}
			}
			if (ahead_wanted(wr, &when)) {
				if (now >= when) {
					pthread_mutex_unlock(&wr->mtx);
					ahead_step(wr);
					pthread_mutex_lock(&wr->mtx);
					continue;
				}
				if (when < due)
					due = when; /* wake for the zeros */
			}
			if (due != UINT64_MAX) {
				struct timespec ts;

				clock_gettime(CLOCK_MONOTONIC, &ts);
				ts.tv_sec += (time_t)((due - now) / 1000u);
				ts.tv_nsec += (long)((due - now) % 1000u) * 1000000L;
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000L;
				}
				pthread_cond_timedwait(&wr->cond, &wr->mtx, &ts);
			} else {
				pthread_cond_wait(&wr->cond, &wr->mtx);
			}
		}
		batch = wr->head;
		wr->head = wr->tail = NULL;
		if (batch == NULL && wr->stopping)
			stop = true;
		pthread_mutex_unlock(&wr->mtx);
		if (stop) {
			/* daemon.stop and the final checkpoint, sealing the log. */
			wr->final_ok = writer_batch(wr, NULL, true, wr->stop_fields);
			break;
		}
		if (batch == NULL && !timer_due)
			continue;
		if (!timer_due && cfg->audit.checkpoint_seconds > 0 && pending_entries(wr) > 0 &&
		    mono_ms() >= wr->last_checkpoint_mono_ms +
					 (uint64_t)cfg->audit.checkpoint_seconds * 1000u)
			timer_due = true;
		(void)writer_batch(wr, batch, timer_due, NULL);
		ahead_after_batch(wr);
	}
	return NULL;
}

/* ---- the interface ---- */

static int tail_get(void *arg, uint64_t seq, const char **line, size_t *len)
{
	return store_audit_get(arg, seq, line, len);
}

const struct audit_tail *writer_at_start(const struct writer *wr)
{
	return &wr->at_start;
}

int writer_new(struct daemon *d, struct writer **out, struct dsc_error *err)
{
	struct store_reader *r = NULL;
	pthread_condattr_t ca;
	struct writer *wr;
	const char *line = NULL;
	size_t len = 0, records = 0;
	uint64_t n = 0;
	int rc;

	wr = calloc(1, sizeof(*wr));
	if (wr == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory for the writer");
	wr->d = d;
	audit_chain_init(&wr->chain);
	if ((rc = store_reader_new(d->store, &r, err)) != DSC_OK)
		goto fail;
	if ((rc = store_read_begin(r, err)) != DSC_OK)
		goto fail;
	if ((rc = store_audit_count(r, &n)) != DSC_OK) {
		dsc_error_set(err, rc, "cannot count the audit entries in the store");
		goto fail_read;
	}
	if (n > 0 && (rc = store_audit_get(r, n - 1, &line, &len)) != DSC_OK) {
		dsc_error_set(err, rc, "cannot read audit entry %" PRIu64 " from the store", n - 1);
		goto fail_read;
	}
	if ((rc = audit_chain_resume(&wr->chain, n, line, len, err)) != DSC_OK)
		goto fail_read;
	/* The log's end, checked before it is extended: the entries since
	 * its last checkpoint chained, that checkpoint signed by this key
	 * (when it names it), and whether the last run stopped cleanly.  A
	 * broken chain is refused: entries added to it would verify no
	 * better, and whatever altered it would be sealed over. */
	if ((rc = audit_tail_check(tail_get, r, n, d->audit_key,
				   (uint64_t)d->cfg->audit.checkpoint_every * 4u + 10000u, &wr->at_start,
				   err)) != DSC_OK)
		goto fail_read;
	wr->last_entry_ms = wr->at_start.last_ms;
	if ((rc = store_offender_count(r, &records)) != DSC_OK) {
		dsc_error_set(err, rc, "cannot count the offender records in the store");
		goto fail_read;
	}
	store_read_end(r);
	store_reader_free(r);
	/* After a restart: a log that does not end with a checkpoint gets one
	 * soon (its tail is "pending"); one that does starts afresh. */
	if (n == 0 || wr->chain.last_checkpoint_size == n - 1)
		wr->since_checkpoint = 0;
	else
		wr->since_checkpoint = n;
	atomic_store(&d->audit_seq, wr->chain.next_seq);
	atomic_store(&d->records, (uint64_t)records);
	wr->last_checkpoint_mono_ms = mono_ms();
	pthread_mutex_init(&wr->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wr->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&wr->thread, NULL, writer_main, wr) != 0) {
		pthread_cond_destroy(&wr->cond);
		pthread_mutex_destroy(&wr->mtx);
		free(wr);
		return dsc_error_set(err, DSC_ENOMEM, "cannot start the writer thread");
	}
	wr->started = true;
	*out = wr;
	return DSC_OK;
fail_read:
	store_read_end(r);
fail:
	store_reader_free(r);
	free(wr);
	return rc;
}

void writer_submit_list(struct writer *wr, struct job *head, struct job *tail)
{
	tail->next = NULL;
	pthread_mutex_lock(&wr->mtx);
	if (wr->tail != NULL)
		wr->tail->next = head;
	else
		wr->head = head;
	wr->tail = tail;
	pthread_cond_signal(&wr->cond);
	pthread_mutex_unlock(&wr->mtx);
}

void writer_submit(struct writer *wr, struct job *j)
{
	writer_submit_list(wr, j, j);
}

static void waiter_wake(struct job *j)
{
	struct writer_wait *w = j->waiter;

	pthread_mutex_lock(&w->mtx);
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mtx);
}

void writer_submit_notify(struct writer *wr, struct job *j, struct writer_wait *w)
{
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->done = false;
	j->waiter = w;
	j->on_done = waiter_wake;
	writer_submit(wr, j);
}

int writer_wait(struct writer_wait *w, struct job *j)
{
	pthread_mutex_lock(&w->mtx);
	while (!w->done)
		pthread_cond_wait(&w->cond, &w->mtx);
	pthread_mutex_unlock(&w->mtx);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mtx);
	j->on_done = NULL;
	j->waiter = NULL;
	return j->failed ? DSC_EIO : DSC_OK;
}

int writer_submit_wait(struct writer *wr, struct job *j)
{
	struct writer_wait w;

	writer_submit_notify(wr, j, &w);
	return writer_wait(&w, j);
}

void writer_grow_map(struct writer *wr, size_t map_size)
{
	pthread_mutex_lock(&wr->mtx);
	atomic_store(&wr->grow_to, map_size);
	pthread_cond_signal(&wr->cond);
	pthread_mutex_unlock(&wr->mtx);
}

int writer_stop(struct writer *wr, json_t *stop_fields)
{
	if (wr == NULL || !wr->started)
		return DSC_OK;
	pthread_mutex_lock(&wr->mtx);
	wr->stopping = true;
	wr->stop_fields = stop_fields;
	pthread_cond_signal(&wr->cond);
	pthread_mutex_unlock(&wr->mtx);
	pthread_join(wr->thread, NULL);
	wr->started = false;
	return wr->final_ok && !wr->broken ? DSC_OK : DSC_EIO;
}

void writer_free(struct writer *wr)
{
	if (wr == NULL)
		return;
	if (wr->started)
		(void)writer_stop(wr, NULL);
	pthread_cond_destroy(&wr->cond);
	pthread_mutex_destroy(&wr->mtx);
	free(wr);
}
