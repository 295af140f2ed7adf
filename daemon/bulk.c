/*
 * bulk.c - POST /v1/offenders/_bulk (registrar): up to max_bulk_body of
 * NDJSON, one offender record a line.  Parsing a million lines would stall
 * a worker's event loop for seconds, so the body is moved (not copied) to
 * a thread of its own, which parses it in chunks (with each record's index
 * keys and match view, store_prepare) and hands each chunk to
 * the writer as one job with its own "offender.bulk" audit entry; while
 * the writer stores one chunk, the next is being parsed.  Every valid line
 * is applied, every invalid one reported with its line number.  The answer
 * goes back to the worker at the end, with the receipt of the last chunk.
 *
 * Never: parse in the worker's thread; keep more than two chunks in memory
 * besides the body; let a failed commit pass silently (the rest is not
 * applied and the answer is 503, naming the line reached).
 */
#include <ctype.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "disclosure/log.h"
#include "disclosured.h"

/*
 * Records per write transaction: a fifth of the register, between these.
 * Each transaction writes its index entries in key order, rewriting every
 * index page one of them lands on; in a large register nearly every page
 * gets one, so a transaction costs about the same however many records it
 * carries.  Measured here, importing the last 100,000 of 1,000,000 records:
 * 10,700-14,100 records/s in chunks of 20,000, 17,700 in 50,000, 18,500-
 * 26,400 in 100,000 (the machine's speed varies; alternating runs: 61 and
 * 42 us of CPU a record).  The price is the wait of checks arriving meanwhile,
 * whose audit entries commit after the chunk's: at most 1.9 s, 2.4 s and
 * 3.4 s there.  Up to 100,000 records (the national register is about
 * 70,000) chunks stay at 20,000, except into an empty register, whose
 * first load nobody can be checking against yet: 100,000 at once there
 * (100,000 records into an empty store: 29,300 records/s against 25,500
 * in chunks of 20,000, medians of three).
 */
#define BULK_CHUNK_MIN 20000
#define BULK_CHUNK_MAX 100000
#define BULK_REJECTED_MAX 1000 /* rejected lines listed in the answer */
#define BULK_ARENA_BLOCK ((size_t)8 << 20) /* a chunk's records: 1.6 KiB each here */

struct bulk {
	struct daemon *d;
	struct job *req;        /* the request: answered at the end */
	struct evbuffer *in;    /* the body */
	char *line;             /* scratch for one line */
	size_t line_cap;
	uint64_t lineno;        /* lines read so far */
	bool at_end;
	json_t *rejected;       /* [{"line","error"}], at most BULK_REJECTED_MAX */
	struct dsc_arena *spare; /* a stored chunk's arena, emptied for the next */
	uint64_t rejected_count, created, replaced;
};

static void reject(struct bulk *b, uint64_t line, const char *msg)
{
	json_t *r;

	b->rejected_count++;
	if (json_array_size(b->rejected) >= BULK_REJECTED_MAX)
		return;
	r = json_object();
	if (r == NULL)
		return;
	json_object_set_new(r, "line", json_integer((json_int_t)line));
	json_object_set_new(r, "error", json_string_lossy(msg));
	json_array_append_new(b->rejected, r);
}

/* Reads the next line into b->line; false at the end of the body.
 * *too_long is set (and the line skipped) past max_body. */
static bool next_line(struct bulk *b, size_t max, size_t *len, bool *too_long)
{
	struct evbuffer_ptr eol;
	size_t eol_len = 0, n;

	*too_long = false;
	if (evbuffer_get_length(b->in) == 0)
		return false;
	eol = evbuffer_search_eol(b->in, NULL, &eol_len, EVBUFFER_EOL_LF);
	n = eol.pos >= 0 ? (size_t)eol.pos : evbuffer_get_length(b->in);
	b->lineno++;
	if (n > max) {
		evbuffer_drain(b->in, n + eol_len);
		*too_long = true;
		*len = 0;
		return true;
	}
	if (n + 1 > b->line_cap) {
		size_t cap = b->line_cap ? b->line_cap : 4096;
		char *p;
		while (cap < n + 1)
			cap *= 2;
		p = realloc(b->line, cap);
		if (p == NULL) {
			evbuffer_drain(b->in, n + eol_len);
			*too_long = true;
			*len = 0;
			return true;
		}
		b->line = p;
		b->line_cap = cap;
	}
	evbuffer_remove(b->in, b->line, n);
	evbuffer_drain(b->in, eol_len);
	while (n > 0 && b->line[n - 1] == '\r')
		n--;
	/* A byte order mark before the first line (an editor's or a
	 * spreadsheet's "UTF-8 with BOM"): ignored, as RFC 8259 8.1 allows,
	 * rather than costing the first record. */
	if (b->lineno == 1 && n >= 3 && memcmp(b->line, "\xEF\xBB\xBF", 3) == 0) {
		memmove(b->line, b->line + 3, n - 3);
		n -= 3;
	}
	b->line[n] = '\0';
	*len = n;
	return true;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

/* The size of the next chunk, from the records stored so far. */
static size_t chunk_size(const struct daemon *d)
{
	uint64_t records = atomic_load_explicit(&d->records, memory_order_relaxed), n = records / 5;

	if (records == 0)
		return BULK_CHUNK_MAX;
	return n < BULK_CHUNK_MIN ? BULK_CHUNK_MIN : n > BULK_CHUNK_MAX ? BULK_CHUNK_MAX : (size_t)n;
}

/* Parses up to chunk_size() records into a new chunk job; NULL when the
 * body is used up (and at least one chunk was made) or memory ran out. */
static struct job *next_chunk(struct bulk *b, bool first)
{
	struct job *c;
	size_t len, max = b->d->cfg->server.max_body, size = chunk_size(b->d);
	bool too_long;
	uint64_t rejected_before = b->rejected_count;

	if (b->at_end && !first)
		return NULL;
	c = job_new(b->d, NULL);
	if (c == NULL)
		return NULL;
	c->kind = JOB_BULK_CHUNK;
	memcpy(c->request_id, b->req->request_id, sizeof(c->request_id));
	c->status = 200;
	c->audit = json_deep_copy(b->req->audit);
	c->bulk = calloc(size, sizeof(*c->bulk));
	c->bulk_prep = calloc(size, sizeof(*c->bulk_prep));
	c->bulk_arena = b->spare != NULL ? b->spare : dsc_arena_new(BULK_ARENA_BLOCK);
	b->spare = NULL;
	if (c->audit == NULL || c->bulk == NULL || c->bulk_prep == NULL || c->bulk_arena == NULL) {
		job_free(c);
		return NULL;
	}
	c->bulk_first_line = b->lineno + 1;
	while (c->n_bulk < size) {
		struct offender *o = NULL;
		struct dsc_error err;
		char msg[sizeof(err.msg) + 32];

		if (!next_line(b, max, &len, &too_long)) {
			b->at_end = true;
			break;
		}
		if (too_long) {
			snprintf(msg, sizeof(msg), "line longer than %zu bytes", max);
			reject(b, b->lineno, msg);
			continue;
		}
		if (blank(b->line, len))
			continue;
		if (offender_parse_in(c->bulk_arena, b->line, len, &o, &err) != DSC_OK) {
			reject(b, b->lineno, err.msg);
			continue;
		}
		/* Index keys and view here, so the writer only writes.  A
		 * rejected record's bytes stay in the arena until the chunk's
		 * end. */
		if (store_prepare_in(b->d->store, c->bulk_arena, o, &c->bulk_prep[c->n_bulk],
				     &err) != DSC_OK) {
			reject(b, b->lineno, err.msg);
			continue;
		}
		c->bulk[c->n_bulk++] = o;
	}
	c->bulk_last_line = b->lineno;
	c->bulk_rejected = b->rejected_count - rejected_before;
	if (c->n_bulk == 0 && c->bulk_rejected == 0 && !first &&
	    c->bulk_last_line < c->bulk_first_line) {
		job_free(c); /* nothing left but the end */
		return NULL;
	}
	return c;
}

static void *bulk_main(void *arg)
{
	struct bulk *b = arg;
	struct job *req = b->req, *pending = NULL, *next;
	struct writer_wait wait;
	bool failed = false, first = true, last;
	uint64_t failed_from = 0, failed_to = 0; /* the lines of the chunk not stored */

	pthread_setname_np(pthread_self(), "bulk-import");
	for (;;) {
		next = next_chunk(b, first);
		first = false;
		if (pending != NULL) {
			if (writer_wait(&wait, pending) != DSC_OK) {
				failed = true;
				failed_from = pending->bulk_first_line;
				failed_to = pending->bulk_last_line;
			} else {
				b->created += pending->bulk_created;
				b->replaced += pending->bulk_replaced;
				req->receipt = pending->receipt;
				req->receipt_seq = pending->receipt_seq;
				memcpy(req->receipt_hash, pending->receipt_hash,
				       sizeof(req->receipt_hash));
			}
			/* Its records are stored: their arena, emptied, takes the
			 * chunk after next, in pages already faulted in.  At the
			 * end the spare is still there: one is enough. */
			if (b->spare == NULL) {
				b->spare = pending->bulk_arena;
				pending->bulk_arena = NULL;
				pending->n_bulk = 0;
				dsc_arena_reset(b->spare);
			}
			job_free(pending);
			pending = NULL;
		}
		if (next == NULL)
			break;
		if (failed) {
			job_free(next);
			break;
		}
		writer_submit_notify(b->d->writer, next, &wait);
		pending = next;
	}
	json_decref(req->audit); /* the chunks carried it */
	req->audit = NULL;
	if (failed || req->receipt == false) {
		if (failed_from == 0)
			failed_from = failed_to = b->lineno;
		log_warnx("bulk import %s stopped at lines %" PRIu64 "-%" PRIu64 ": the store or "
			  "audit log could not be written",
			  req->request_id, failed_from, failed_to);
		req->receipt = false;
		job_error(req, 503, "unavailable", NULL,
			  "the import stopped: the records of lines %" PRIu64 "-%" PRIu64
			  " could not be stored (the store or its audit log could not be written; the "
			  "daemon's log says why: a full store is a map_size to raise). The %" PRIu64
			  " records before line %" PRIu64 " were stored; none after",
			  failed_from, failed_to, b->created + b->replaced, failed_from);
	} else {
		req->resp = json_object();
		if (req->resp != NULL) {
			json_object_set_new(req->resp, "created", json_integer((json_int_t)b->created));
			json_object_set_new(req->resp, "replaced",
					    json_integer((json_int_t)b->replaced));
			json_object_set(req->resp, "rejected", b->rejected);
			json_object_set_new(req->resp, "rejected_count",
					    json_integer((json_int_t)b->rejected_count));
			req->want_receipt = true;
		}
		log_info("bulk import %s by %s: %" PRIu64 " created, %" PRIu64 " replaced, %" PRIu64
			 " rejected",
			 req->request_id, req->p.id, b->created, b->replaced, b->rejected_count);
	}
	last = atomic_fetch_sub(&b->d->bulk_running, 1) == 1;
	evbuffer_free(b->in);
	dsc_arena_free(b->spare);
	json_decref(b->rejected);
	free(b->line);
	free(b);
	job_complete(req); /* to the worker, which answers */
	/* The body and the chunks' records are freed: give their pages back
	 * now rather than keep them in the arenas (main.c's M_TOP_PAD keeps
	 * up to 64 MiB each) until the daemon restarts. */
	if (last)
		malloc_trim(0);
	return NULL;
}

void bulk_post(struct job *j, struct evhttp_request *req)
{
	pthread_attr_t attr;
	pthread_t tid;
	struct bulk *b;
	int running;

	j->kind = JOB_AUDIT;
	if (!require_role(j, ROLE_REGISTRAR))
		return;
	if (!require_content_type(j, req, "application/x-ndjson"))
		return;
	if (!require_length(j, req, j->d->cfg->server.max_bulk_body))
		return;
	running = atomic_fetch_add(&j->d->bulk_running, 1);
	if (running >= BULK_MAX_RUNNING) {
		atomic_fetch_sub(&j->d->bulk_running, 1);
		job_error(j, 503, "unavailable", NULL,
			  "%d bulk imports are running already; try again when they end", running);
		job_submit(j);
		return;
	}
	b = calloc(1, sizeof(*b));
	if (b != NULL) {
		b->in = evbuffer_new();
		b->rejected = json_array();
	}
	if (b == NULL || b->in == NULL || b->rejected == NULL) {
		if (b != NULL) {
			if (b->in != NULL)
				evbuffer_free(b->in);
			json_decref(b->rejected);
			free(b);
		}
		atomic_fetch_sub(&j->d->bulk_running, 1);
		job_error(j, 503, "unavailable", NULL, "out of memory");
		job_submit(j);
		return;
	}
	b->d = j->d;
	b->req = j;
	/* Moves the body's chains, no copy. */
	evbuffer_add_buffer(b->in, evhttp_request_get_input_buffer(req));
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	j->w->inflight++;
	if (pthread_create(&tid, &attr, bulk_main, b) != 0) {
		pthread_attr_destroy(&attr);
		j->w->inflight--;
		evbuffer_free(b->in);
		json_decref(b->rejected);
		free(b);
		atomic_fetch_sub(&j->d->bulk_running, 1);
		job_error(j, 503, "unavailable", NULL, "cannot start the import; try again");
		job_submit(j);
		return;
	}
	pthread_attr_destroy(&attr);
}
