/*
 * disclosured.h - what the parts of the daemon share: the daemon itself,
 * its worker threads, the per-connection state and the job, which carries
 * one request from the worker that parsed it through the writer thread
 * (which makes its audit entry durable) back to the worker that answers.
 *
 * The one rule every part keeps: a response that is audited never leaves
 * before its audit entry is committed; only a job's finish function, run
 * by the worker after the commit, sends it.
 */
#ifndef DISCLOSURED_H
#define DISCLOSURED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "disclosure/acl.h"
#include "disclosure/arena.h"
#include "disclosure/audit.h"
#include "disclosure/chunked.h"
#include "disclosure/config.h"
#include "disclosure/error.h"
#include "disclosure/match.h"
#include "disclosure/offender.h"
#include "disclosure/store.h"

#define CERT_SHA256_HEX 64 /* a client certificate's SHA-256, hex */

#define ID_LEN 26              /* ULID-like ids: 48-bit time + 80 random bits */
#define CHECK_ID_LEN (4 + ID_LEN) /* "chk_" + id */
#define REQUEST_PATH_MAX 512   /* bytes of the path kept for the audit log */
#define MAX_HEADERS_SIZE 16384 /* request line + headers */
#define AUDIT_PAGE_DEFAULT 1000
#define AUDIT_PAGE_MAX 10000
#define BULK_MAX_RUNNING 2

/* ---- endpoints (router.c) ---- */
enum endpoint {
	EP_NONE = 0, /* unrouted: 404, 405, denied before routing */
	EP_HEALTHZ,
	EP_METRICS,
	EP_CHECKS,
	EP_CHECK,
	EP_CHECK_DECISION,
	EP_OFFENDER,
	EP_OFFENDERS_BULK,
	EP_AUDIT,
	EP_AUDIT_CHECKPOINT,
	EP_COUNT
};
const char *endpoint_name(enum endpoint ep);

/* ---- refused TLS handshakes (tls.c) ---- */
/* Why a TLS handshake failed: the reason label of
 * disclosured_tls_handshake_failures_total, and a kind of log line
 * (LOG_TLS_REFUSED + reason). */
enum tls_refusal {
	TLS_REFUSED_NO_CERTIFICATE = 0, /* the client sent none */
	TLS_REFUSED_UNKNOWN_CA,         /* not issued by client_ca */
	TLS_REFUSED_REVOKED,            /* on the CRL */
	TLS_REFUSED_CERT_EXPIRED,       /* past its notAfter */
	TLS_REFUSED_CRL_EXPIRED,        /* the CRL is past its next update: every client */
	TLS_REFUSED_BAD_CERTIFICATE,    /* any other verification error */
	TLS_REFUSED_PROTOCOL,           /* version, cipher suite, a malformed message */
	TLS_REFUSED_BY_CLIENT,          /* the client's alert: usually our certificate */
	TLS_REFUSALS
};
/* The metric's label for r ("revoked", "crl_expired"...). */
const char *tls_refusal_label(enum tls_refusal r);

/* ---- metrics (metrics.c): relaxed atomics per worker, summed at scrape ---- */
#define METRICS_STATUSES 14
#define METRICS_LATENCY_BUCKETS 14
struct worker_metrics {
	atomic_uint_fast64_t requests[EP_COUNT][METRICS_STATUSES];
	atomic_uint_fast64_t latency[METRICS_LATENCY_BUCKETS + 1]; /* last: +Inf */
	atomic_uint_fast64_t latency_sum_us;
	atomic_uint_fast64_t latency_count;
	atomic_uint_fast64_t checks[3]; /* by outcome: no_match, possible_match, match */
	/* The matcher's work, summed over the checks run: records weighed,
	 * of which by their view, and candidates answered.  Per check they
	 * say why a check costs more on a larger register. */
	atomic_uint_fast64_t check_considered, check_views, check_candidates, check_more;
	atomic_uint_fast64_t tls_refused[TLS_REFUSALS]; /* failed handshakes, by reason */
};
void metrics_request_done(struct worker_metrics *m, enum endpoint ep, int status,
			  uint64_t elapsed_ns);
void metrics_check_outcome(struct worker_metrics *m, enum band outcome);
struct check_result;
void metrics_check_work(struct worker_metrics *m, const struct check_result *res);
struct daemon;
/* Appends the Prometheus text exposition of every counter to out. */
struct evbuffer;
int metrics_render(struct daemon *d, struct evbuffer *out);

/* ---- TLS (tls.c) ---- */
struct tls_server;
struct conn;
int tls_server_new(const struct config *cfg, struct tls_server **out, struct dsc_error *err);
void tls_server_free(struct tls_server *t);
/* Rebuilds the context from the files; on failure the old one stays. */
int tls_server_reload(struct tls_server *t, const struct config *cfg, struct dsc_error *err);
/* A new server-side SSL on the current context, with conn attached (the
 * SSL owns conn from then on and frees it with itself). */
SSL *tls_server_ssl_new(struct tls_server *t, struct conn *conn);
/* The conn attached to ssl, or NULL. */
struct conn *tls_conn(SSL *ssl);
/* The verified peer's subject CN; DSC_EPERM if there is no verified
 * certificate or it has not exactly one usable CN. */
/* Whether the connection's client certificate is on a CRL that new
 * handshakes are checked against now (after a reload: those given before
 * it were checked at their own handshake). */
bool tls_peer_revoked(struct tls_server *t, SSL *ssl);
int tls_peer_cn(SSL *ssl, char *cn, size_t cnlen, struct dsc_error *err);
/* --check-config: the certificate (dates, TLS server purpose) and key pair,
 * the key's mode, the CA (CA certificates only, no bundle of public CAs)
 * and the CRL (refused past its next update).  Hands each problem to
 * report; returns their number. */
unsigned tls_check_files(const struct config *cfg, config_report_fn report, void *arg);
/* The dates of the context new handshakes get, for /metrics: the server
 * certificate's notAfter, and the earliest next update of the CRLs loaded
 * (false if there is no CRL or it names no next update). */
bool tls_server_dates(struct tls_server *t, time_t *cert_not_after, time_t *crl_next_update);
/* Called by the free callback of a conn, with the SSL being freed (NULL
 * if there is none): the daemon's connection count and lingering close. */
void tls_set_conn_release(void (*fn)(struct conn *, SSL *));

/* ---- rate limiting (ratelimit.c) ---- */
struct ratelimit;
int ratelimit_new(unsigned per_second, struct ratelimit **out);
void ratelimit_free(struct ratelimit *rl);
/* true if the principal may make one more request now. */
bool ratelimit_take(struct ratelimit *rl, const char *principal_id);

/* Open connections per principal (connlimit.c): id is the principal's,
 * "" for certificates outside the ACL. */
struct connlimit;
int connlimit_new(unsigned cap, struct connlimit **out);
void connlimit_free(struct connlimit *cl);
/* Counts one more connection of id, *open then its count; false (not
 * counted) when id has cap open already.  *open is 0 when the table had
 * no room for id: then it is neither counted nor limited. */
bool connlimit_take(struct connlimit *cl, const char *id, unsigned *open);
void connlimit_give(struct connlimit *cl, const char *id);

/* ---- per connection ---- */
enum guard_state { GUARD_HEAD = 0, GUARD_BODY, GUARD_CHUNKED, GUARD_PASS };

struct conn {
	struct daemon *d;
	struct worker *w;
	int linger_fd; /* a copy of the socket after a refused handshake, or -1 */
	/* the request guard (guard.c) */
	enum guard_state guard_state;
	bool guard_frozen, guard_busy;
	size_t guard_scan;     /* GUARD_HEAD: offset of the next header block */
	size_t guard_body_end; /* GUARD_BODY: offset where the body ends */
	struct evbuffer *guard_input;
	struct evbuffer_cb_entry *guard_entry;
	struct evbuffer *guard_output;
	struct evbuffer_cb_entry *guard_out_entry;
	bool answer_hold; /* a read high-watermark while an answer is written */
	bool arriving;    /* counted in its worker's arriving: a request under way */
	/* GUARD_CHUNKED: a chunked request being decoded (guard.c) */
	char *guard_head;            /* its head as it came */
	size_t guard_head_len;
	struct evbuffer *guard_hold; /* bytes after it, not decoded yet */
	struct evbuffer *guard_body; /* its body, decoded */
	struct chunked guard_chunked;
	struct bufferevent *guard_bev;  /* the connection's TLS bufferevent */
	void (*guard_saved_wcb)(struct bufferevent *, void *); /* evhttp's, while 100 Continue goes */
	bool guard_saved_writing;
	struct event *guard_deadline; /* the request's whole time (request_timeout) */
	unsigned in_flight;           /* requests the router has and has not answered */
	bool handshaking;             /* the TLS handshake is not done yet */
	/* While handshaking, in its worker's list, oldest first (server.c:
	 * a new connection over max_connections pushes the oldest out). */
	struct conn *hs_prev, *hs_next;
	bool hs_listed;
	uint64_t born_ns;
	uint64_t req_start_ns;        /* when the deadline's clock started */
	uint64_t req_bytes;           /* bytes received since (guard.c, REQUEST_MIN_RATE) */
	struct event *out_deadline;   /* answers waiting for the client: their pace (guard.c) */
	uint64_t out_start_ns;        /* the pace's period began */
	uint64_t out_base;            /* bytes the client had taken then */
	uint64_t out_total;           /* bytes of answers that went into the socket */
	bool over_limit; /* counted past max_connections: the handshake is refused */
	bool resolved;   /* CN read from the certificate (once per connection) */
	unsigned acl_gen; /* the ACL generation principal was looked up in */
	bool known;      /* CN found in the ACL */
	bool revoked;    /* certificate on a CRL reloaded since the handshake */
	bool tls_refused; /* its failed handshake is counted and logged (tls.c) */
	/* connlimit: looked at once, at the handshake's end */
	bool cl_looked;   /* taken or refused */
	bool cl_counted;  /* counted under cl_id: given back when it closes */
	bool cl_over;     /* its principal had the most connections open */
	unsigned cl_open; /* its principal's count when it was taken or refused */
	char cl_id[PRINCIPAL_ID_MAX + 1];
	char cn[PRINCIPAL_CN_MAX + 1];
	char cert_sha256[CERT_SHA256_HEX + 1]; /* the peer certificate's, "" if none */
	struct principal principal;
	/* Addition: the audit fields that are the same for every request of
	 * the connection (principal, cn, cert_sha256, roles, force), made
	 * at its first request and again after an ACL reload, and put into
	 * each request's audit fields by reference (router.c).  They are
	 * never changed once made (jansson counts references atomically, so
	 * the writer may hold them while the worker shares them again). */
	json_t *audit_vals[5];
	unsigned audit_vals_gen;
	bool audit_vals_known;
};
/* Addition: releases c->audit_vals (server.c, with the connection). */
void conn_audit_release(struct conn *c);

/* ---- the request guard (guard.c) ---- */
struct bufferevent;
/* Watches the input of tls_bev for c; guard_detach() before c is freed. */
int guard_attach(struct bufferevent *tls_bev, struct conn *c);
void guard_detach(struct conn *c);
/* The router has a request of c whole / has answered one (the deadline of
 * a request's arrival, request_timeout, stops and starts with them). */
void guard_request_in(struct conn *c);
void guard_request_out(struct conn *c);
/* c's handshake is over (or c closes): out of its worker's list of
 * connections in their handshake.  server.c */
void conn_handshake_unlist(struct conn *c);
/* c is over its principal's count: first in that list, to be pushed out
 * before any other connection when a new one comes past max_connections.
 * server.c */
void conn_list_evictable(struct conn *c);
/* c's TLS handshake is done: its deadline (the same clock) stops. */
void guard_handshake_done(struct conn *c);
/* A connection over max_connections_per_principal: closed unless a request
 * (answered 429) is under way within a second (guard.c). */
void guard_cut_soon(struct conn *c);
/* At the end of the handshake: reads the peer's principal and counts the
 * connection for it (max_connections_per_principal), so that a connection
 * that never sends a request counts too (router.c). */
void conn_handshake_done(struct conn *c, SSL *ssl);
/* Headers only the guard writes (any a client sends is dropped). */
#define CONN_INPUT_MAX (256u * 1024u) /* unread bytes held while an answer is written (guard.c) */
#define MARKER_PREFIX "X-Disclosured-"
#define DECLARED_LENGTH_HEADER "X-Disclosured-Declared-Length" /* too large: 413 */
#define METHOD_HEADER "X-Disclosured-Method"           /* unknown method: 405/404 */
#define BAD_REQUEST_HEADER "X-Disclosured-Bad-Request" /* not HTTP: 400 */
#define BAD_HEADERS_HEADER "X-Disclosured-Bad-Headers" /* a good request line, bad headers: 400 */
#define BAD_BODY_HEADER "X-Disclosured-Bad-Body"       /* a body's framing refused: 400 */
/* BAD_BODY_HEADER's value when the guard had no memory for the body: 503 */
#define BAD_BODY_NO_MEMORY "no memory for the body"

/* ---- jobs ---- */
enum job_kind {
	JOB_AUDIT = 0,       /* the audit entry only */
	JOB_CHECK_CREATE,    /* store the check, then its entry */
	JOB_DECISION,        /* read-modify-write of a stored check */
	JOB_OFFENDER_PUT,
	JOB_OFFENDER_DELETE,
	JOB_BULK_CHUNK,      /* a chunk of a bulk import, from the bulk thread */
	JOB_AUDIT_PAGE,      /* audit.read entry (+ checkpoint if the page ends the log) */
	JOB_CHECKPOINT,      /* checkpoint.read entry + a fresh checkpoint */
	JOB_INTERNAL,        /* daemon.start / daemon.stop / config.reload from main */
};

struct worker;
struct job;
typedef void (*job_fn)(struct job *j);

struct job {
	struct job *next;
	enum job_kind kind;
	struct daemon *d;
	struct worker *w;          /* the worker that answers (NULL: a waiter) */
	job_fn finish;             /* in the worker after the commit; NULL = job_respond */
	job_fn on_done;            /* in the writer after the commit, instead of posting to w */
	void *waiter;              /* for on_done */

	/* the request */
	struct evhttp_request *req;
	enum endpoint ep;
	char request_id[ID_LEN + 1];
	bool known;
	bool revoked;              /* the connection's certificate, by a reloaded CRL */
	struct principal p;        /* copy: the connection may be gone by the answer */
	char cn[PRINCIPAL_CN_MAX + 1];
	char cert_sha256[CERT_SHA256_HEX + 1];
	uint64_t start_ns;
	bool close;                /* answer with Connection: close */
	const char *allow;         /* Allow header of a 405 */
	const char *content_type;  /* of the answer; NULL = application/json */

	/* the audit entry: fields in the agreed order; NULL = not audited */
	json_t *audit;

	/* inputs for the writer */
	char check_id[CHECK_ID_LEN + 1];
	char record_id[OFFENDER_ID_MAX + 1];
	char *store_val;           /* JOB_CHECK_CREATE: the stored check */
	size_t store_len;
	struct offender *offender; /* JOB_OFFENDER_PUT (owned) */
	json_t *decision;          /* JOB_DECISION: the decision to store */
	uint64_t page_from, page_limit;
	struct offender **bulk;    /* JOB_BULK_CHUNK (owned) */
	struct store_prepared **bulk_prep; /* their index keys and views, or NULL */
	struct dsc_arena *bulk_arena; /* holds bulk[] and bulk_prep[] when set (owned) */
	size_t n_bulk;
	uint64_t bulk_first_line, bulk_last_line, bulk_rejected;

	/* outputs */
	int status;                /* HTTP status of the answer */
	bool failed;               /* the commit failed: answer 503, nothing else */
	bool receipt;              /* receipt_seq/hash are set */
	uint64_t receipt_seq;
	char receipt_hash[AUDIT_HASH_HEX + 1];
	bool replaced;             /* JOB_OFFENDER_PUT */
	size_t bulk_created, bulk_replaced;
	uint64_t page_end;         /* JOB_AUDIT_PAGE: entries [page_from, page_end) */
	char *checkpoint_line;     /* JOB_CHECKPOINT (malloc'd) */
	size_t checkpoint_len;
	json_t *resp;              /* the body to send (JSON) */
	char *answer;              /* or this JSON text, without its closing '}' (malloc'd) */
	size_t answer_len;
	struct evbuffer *body;     /* or this, if set (raw body, e.g. NDJSON) */
	bool want_receipt;         /* add "audit":{seq,hash} to resp */
	enum band outcome;         /* JOB_CHECK_CREATE, for metrics */
	void *ctx;                 /* handler-private (bulk state) */
	/* Addition: members of the audit entry written ahead as text
	 * (JOB_CHECK_CREATE: case_ref, purpose, justification, query,
	 * result), encoded after the members of audit; empty if none. */
	struct audit_members audit_more;
};

struct job *job_new(struct daemon *d, struct worker *w);
void job_free(struct job *j);
/* Starts the audit fields of j (principal, action, method, path...). */
int job_audit_begin(struct job *j, const char *action, const char *method, const char *path);
void job_set_action(struct job *j, const char *action);
/* Sets an error answer: status, {"error":{code,message,field}}, and the
 * audit entry's "error".  field may be NULL. */
void job_error(struct job *j, int status, const char *code, const char *field,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void job_error_from(struct job *j, const struct dsc_error *e); /* 400 invalid_json/invalid_field */
/* Hands j on: to the writer if audited, else answered at once. */
void job_submit(struct job *j);
/* Sends j's answer (status, resp or body, headers) and frees j. */
void job_respond(struct job *j);
/* Called by the writer (any thread) when j is committed or failed. */
void job_complete(struct job *j);

/* ---- workers (server.c) ---- */
/* Kinds of log line a client can cause at will, one connection at a
 * time: each said at most once a second per worker (log_limit_pass), a
 * refused TLS handshake once in TLS_REFUSED_LOG_MS per reason. */
enum log_kind {
	LOG_OVER_MAX,   /* a connection refused over max_connections */
	LOG_HANDSHAKE,  /* a handshake not done after request_timeout */
	LOG_SLOW,       /* a request not whole after request_timeout */
	LOG_NO_SERVICE, /* a certificate without one CN as text */
	LOG_OVER_PRINCIPAL, /* a connection over max_connections_per_principal */
	LOG_SLOW_READER,    /* answers read slower than ANSWER_MIN_RATE */
	LOG_EVICTED,        /* a handshaking connection closed to make room */
	/* a TLS handshake refused, one kind per enum tls_refusal in its
	 * order; each said at most once in TLS_REFUSED_LOG_MS */
	LOG_TLS_REFUSED,
	LOG_KINDS = LOG_TLS_REFUSED + TLS_REFUSALS
};
#define TLS_REFUSED_LOG_MS 10000

struct log_limit {
	int64_t said_ms;  /* monotonic */
	unsigned unsaid;  /* since then, said later in one line */
};

struct worker {
	int index;
	struct daemon *d;
	pthread_t thread;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	int listen_fd;
	struct event *done_ev;  /* activated by the writer: answers to send */
	struct event *stop_ev;  /* activated by main: stop accepting, drain */
	struct event *drain_ev; /* timer while draining */
	pthread_mutex_t done_mtx;
	struct job *done_head, *done_tail;
	/* Jobs of this pass of the event loop, handed to the writer together
	 * when the pass ends (worker_submit_flush), so one commit takes all
	 * the requests that arrived together. */
	struct job *submit_head, *submit_tail;
	struct store_reader *reader;
	struct match_ctx *mctx;
	struct evbuffer *scratch; /* answers are built here, evhttp moves them out */
	struct check_result *check_res; /* one check's result at a time */
	unsigned inflight;      /* requests handed to the writer or bulk thread */
	unsigned arriving;      /* requests begun on a connection, not yet whole (guard.c) */
	unsigned lingering;     /* sockets drained after a failed handshake */
	struct conn *hs_head, *hs_tail; /* connections in their handshake, oldest first */
	/* So that a flood of connections cannot flood the log too: each kind
	 * of line once a second at most, the rest counted and said in one
	 * line when the second is over (log_flush). */
	struct log_limit log_limits[LOG_KINDS];
	struct event *log_flush;
	int64_t log_flush_due; /* when log_flush fires, if pending (monotonic ms) */
	bool draining;
	uint64_t quiet_since_ns; /* draining: when inflight last became 0 */
	uint64_t drain_start_ns; /* when draining began */
	uint64_t rng[2];        /* xorshift128+ for ids */
	struct worker_metrics metrics;
	int init_rc;
	struct dsc_error init_err;
};

/* Whether worker w is to log an event of kind k now (its own line); if
 * not, the event is counted and said with others of its kind in one line
 * when the kind's period (a second, or TLS_REFUSED_LOG_MS) is over.
 * server.c */
bool log_limit_pass(struct worker *w, enum log_kind k);

/* ---- the daemon ---- */
struct daemon {
	struct config *cfg;
	pthread_rwlock_t acl_lock;
	struct acl *acl;
	atomic_uint acl_gen; /* bumped by every ACL reload */
	struct tls_server *tls;
	struct store *store;
	struct matcher *matcher;
	EVP_PKEY *audit_key;
	struct writer *writer;
	struct ratelimit *rl;
	struct connlimit *cl;
	struct prefault *prefault; /* the store's pages mapped ahead (prefault.c) */
	struct worker *workers;
	int n_workers;
	atomic_long open_conns;
	atomic_uint_fast64_t audit_seq; /* committed entries (= next seq) */
	atomic_uint_fast64_t records;
	atomic_int bulk_running;
	uint64_t boot_random; /* mixed into every worker's id generator */
};

/* "2026-11-28T18:00:00.123Z" */
void format_time_ms(int64_t ms, char out[32]);
/* A JSON string of s even if s is not UTF-8 (such bytes become %XX). */
json_t *json_string_lossy(const char *s);

/* ---- JSON texts written directly (check_json.c) ---- */
/* A growing text; a failed allocation sets oom and ends all writing. */
struct jbuf {
	char *p;
	size_t len, cap;
	bool oom;
};
void jbuf_reset(struct jbuf *b);
void jbuf_release(struct jbuf *b);
/* The text (NUL-terminated, malloc'd, the caller frees it), the buffer
 * emptied; NULL after a failed allocation. */
char *jbuf_steal(struct jbuf *b, size_t *len);
void jbuf_add(struct jbuf *b, const char *s, size_t n);
void jbuf_lit(struct jbuf *b, const char *s);
/* s as a JSON string: escaped, or as json_string_lossy() if not UTF-8. */
void jbuf_str(struct jbuf *b, const char *s);
void jbuf_int(struct jbuf *b, long long v);
/* v dumped compactly ("null" for NULL). */
int jbuf_json(struct jbuf *b, const json_t *v);

struct check_result;
struct check_json_fields {
	const char *check_id, *created, *principal, *force, *case_ref, *purpose, *justification;
	const json_t *subject;
	/* Addition: the subject itself, written without a tree (used
	 * instead of subject when set; check_json_stored() then fails with
	 * DSC_EINVAL if a name is not UTF-8). */
	const struct check_subject *subject_s;
};
/* The stored check: the full candidates, decision null. */
int check_json_stored(struct jbuf *b, const struct check_json_fields *f,
		      const struct check_result *res);
/* The answer to POST /v1/checks for reader, without its closing '}' (the
 * audit receipt goes there once committed). */
int check_json_answer(struct jbuf *b, const char *check_id, const struct check_result *res,
		      const struct principal *reader);
/* The candidates as reader may see them (NULL: all of them, in full). */
/* Whether reader sees the whole candidate (its own force's, or a national
 * reader), or its summary only (contract.md "Force scope"). */
bool check_candidate_visible(const struct candidate *c, const struct principal *reader);
void check_json_candidates(struct jbuf *b, const struct check_result *res,
			   const struct principal *reader);

/* checks.c, also used by offenders.c */
bool check_id_valid(const char *id);
/* Reads the stored check with the worker's reader: DSC_ENOTFOUND if none. */
int check_load(struct worker *w, const char *check_id, json_t **out, struct dsc_error *err);
/* Whether p may read the check: its owner, an auditor, or a disclosure
 * officer of its force (or national).  officer_only: only the last. */
bool check_readable(const struct principal *p, const json_t *check, bool officer_only);
/* Whether offender_id is one of the check's candidates. */
bool check_has_candidate(const json_t *check, const char *offender_id);

/* Finds the principal for a CN under the ACL lock; copies it. */
bool daemon_find_principal(struct daemon *d, const char *cn, struct principal *out);
int64_t now_ms(void);
uint64_t mono_ns(void);

/* prefault.c: one background thread maps the store's pages ahead of the
 * first reads after a start; prefault_stop() stops and joins it (NULL: none). */
struct prefault;
int prefault_start(struct daemon *d, struct prefault **out);
void prefault_stop(struct prefault *p);

/* server.c */
int server_start(struct daemon *d, struct dsc_error *err);
/* The addresses of [server] listen (getaddrinfo, as server_start binds the
 * first); a host that does not resolve is an error naming the key's line.
 * *res to be freed with freeaddrinfo. */
struct addrinfo;
int server_resolve(const struct config *cfg, struct addrinfo **res, struct dsc_error *err);
void server_stop_accepting(struct daemon *d);
void server_join(struct daemon *d);
void server_free(struct daemon *d);
void worker_new_id(struct worker *w, char out[ID_LEN + 1]);
void worker_inflight_done(struct worker *w);
/* Hands the jobs queued in this pass to the writer (worker thread). */
void worker_submit_flush(struct worker *w);
/* Queues the finished list head..tail for w to answer (any thread). */
void worker_post_done(struct worker *w, struct job *head, struct job *tail);

/* router.c: the general callback of every worker's evhttp */
void router_dispatch(struct evhttp_request *req, void *arg);

/* handlers */
void health_get(struct job *j);
void metrics_get(struct job *j);
void checks_create(struct job *j, struct evhttp_request *req);
void checks_get(struct job *j, const char *check_id);
void checks_decide(struct job *j, struct evhttp_request *req, const char *check_id);
void offenders_get(struct job *j, const char *id, const char *query);
void offenders_put(struct job *j, struct evhttp_request *req, const char *id);
void offenders_delete(struct job *j, const char *id);
void bulk_post(struct job *j, struct evhttp_request *req);
void audit_api_page(struct job *j, const char *query);
void audit_api_checkpoint(struct job *j);

/* handler helpers (router.c) */
/* 415 unless the request names one Content-Type, want (parameters allowed;
 * a charset only UTF-8), and no Content-Encoding other than identity. */
bool require_content_type(struct job *j, struct evhttp_request *req, const char *want);
/* 413 if the body is (or was declared) longer than limit. */
bool require_length(struct job *j, struct evhttp_request *req, size_t limit);
/* require_length(), then points at the whole body. */
bool require_body(struct job *j, struct evhttp_request *req, size_t limit, const char **body,
		  size_t *len);
/* 403 unless the principal has one of roles. */
bool require_role(struct job *j, unsigned roles);
/* Candidates as the contract shows them, filtered for the reader's force. */
json_t *candidates_filter(const json_t *candidates, const struct principal *reader);
/* The value of key in a query string (decoded, malloc'd), or NULL. */
char *query_get(const char *query, const char *key, bool *present);

/* ---- the writer thread (writer.c) ---- */
struct writer;
int writer_new(struct daemon *d, struct writer **out, struct dsc_error *err);
/* How the stored log ended when writer_new() read it (audit_tail_check). */
const struct audit_tail *writer_at_start(const struct writer *wr);
void writer_submit(struct writer *wr, struct job *j);
/* Submits the list head..tail (linked by next) under one lock. */
void writer_submit_list(struct writer *wr, struct job *head, struct job *tail);
/* Submits and waits for the commit (threads other than workers). */
int writer_submit_wait(struct writer *wr, struct job *j);
/* The same in two steps, so that a thread can work while it waits. */
struct writer_wait {
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	bool done;
};
void writer_submit_notify(struct writer *wr, struct job *j, struct writer_wait *w);
int writer_wait(struct writer_wait *w, struct job *j); /* DSC_EIO if the commit failed */
/* Writes daemon.stop and a final checkpoint, commits, joins.  DSC_EIO if
 * that last commit failed or the store broke on the way. */
/* Asks the writer to grow the store's map to map_size bytes before its
 * next transaction (SIGHUP with a larger [store] map_size). */
void writer_grow_map(struct writer *wr, size_t map_size);
int writer_stop(struct writer *wr, json_t *stop_fields);
void writer_free(struct writer *wr);
/* Histograms of batch sizes and commit times, for /metrics. */
int writer_metrics_render(struct writer *wr, struct evbuffer *out);

#endif
