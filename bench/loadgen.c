/*
 * loadgen.c - an HTTP/1.1 load generator for mutual-TLS servers.
 *
 * wrk and h2load cannot present a client certificate, and the daemon
 * answers nothing without one, so the benchmarks drive it (and nginx, the
 * yardstick) with this program.  It is closed-loop: each of -c connections
 * has exactly one request in flight, sends the next one when the answer
 * has arrived, and the latency of a request runs from its first byte sent
 * (or, with --new-conn, from connect(2)) to the last byte of its answer.
 * Request bodies are cycled from an NDJSON file, one body per line.
 *
 * One epoll event loop per thread (--threads, default 1), non-blocking
 * sockets in edge-triggered mode, non-blocking OpenSSL, requests built once
 * at start: the generator must cost far less CPU per request than the
 * server it measures, or it measures itself.
 *
 * Output: a human summary, then one final machine-readable line
 *   RESULT requests=N errors=N rps=X p50_ms=X p90_ms=X p99_ms=X max_ms=X non2xx=N ...
 *
 * It must never: hide an error or a non-2xx answer in the figures (they
 * are counted and printed, and make the exit status 1); trust the length
 * of a response it has not parsed; grow a buffer from what the server
 * sends (headers are bounded, bodies are counted and discarded).
 */
#include <ctype.h>
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define LOADGEN_VERSION "1"
#define HEAD_MAX 8192    /* response headers longer than this are an error */
#define READ_CHUNK 65536 /* one SSL_read into the worker's buffer */
#define MAX_EVENTS 256
#define MAX_CONNECTIONS 65536
#define MAX_BODY_LINE (16u << 20) /* one NDJSON line; larger is refused */
#define MAX_HEADERS 32
#define RETRY_NS (20 * 1000000ull) /* pause before reconnecting after an error */

#define NS_PER_SEC 1000000000ull

/*
 * Latency histogram, log-linear like HdrHistogram: values below 2^SUB_BITS
 * nanoseconds each have a bucket; above, every power of two is split into
 * 2^SUB_BITS buckets, so a reported value is within 1/128 (0.8%) of the
 * truth over the whole range up to 2^(MAX_SHIFT + SUB_BITS + 1) ns (~78 h).
 */
#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_SHIFT 40
#define HIST_BUCKETS ((HIST_MAX_SHIFT + 2) * HIST_SUB)

struct histogram {
	uint64_t counts[HIST_BUCKETS];
	uint64_t total;
	uint64_t max;
	uint64_t min;
	double sum;
};

static size_t hist_index(uint64_t v)
{
	if (v < HIST_SUB)
		return (size_t)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - HIST_SUB_BITS;
	if (shift > HIST_MAX_SHIFT)
		return HIST_BUCKETS - 1;
	return (size_t)(shift + 1) * HIST_SUB + (size_t)((v >> shift) - HIST_SUB);
}

/* The highest value that falls into bucket i. */
static uint64_t hist_bucket_top(size_t i)
{
	if (i < HIST_SUB)
		return i;
	unsigned shift = (unsigned)(i / HIST_SUB) - 1;
	uint64_t sub = i % HIST_SUB;
	return ((HIST_SUB + sub) << shift) + ((1ull << shift) - 1);
}

static void hist_record(struct histogram *h, uint64_t v)
{
	h->counts[hist_index(v)]++;
	if (h->total == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->total++;
	h->sum += (double)v;
}

static void hist_merge(struct histogram *into, const struct histogram *from)
{
	if (from->total == 0)
		return;
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		into->counts[i] += from->counts[i];
	if (into->total == 0 || from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
	into->total += from->total;
	into->sum += from->sum;
}

/* The value at percentile p (0-100), never above the exact maximum. */
static uint64_t hist_percentile(const struct histogram *h, double p)
{
	if (h->total == 0)
		return 0;
	uint64_t want = (uint64_t)((p / 100.0) * (double)h->total + 0.999999);
	if (want < 1)
		want = 1;
	if (want > h->total)
		want = h->total;
	uint64_t seen = 0;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= want) {
			uint64_t top = hist_bucket_top(i);
			return top < h->max ? top : h->max;
		}
	}
	return h->max;
}

/* ---- settings ---- */

struct header_arg {
	const char *line; /* "Name: value" as given */
};

struct settings {
	const char *url;
	const char *method;
	const char *body_file;
	const char *body;
	const char *cert;
	const char *key;
	const char *ca;
	bool insecure;
	int connections;
	double duration;   /* seconds of measurement; 0 = until --requests */
	double warmup;     /* seconds before measuring */
	uint64_t requests; /* stop after this many measured answers; 0 = no limit */
	double timeout;    /* seconds per connect or request */
	int threads;
	bool new_conn;
	bool resume;
	bool allow_non2xx;
	struct header_arg headers[MAX_HEADERS];
	int nheaders;
	/* from the URL */
	char host[256];
	char port[8];
	char path[2048];
	bool host_is_ip;
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

/* One prepared request: the exact bytes written to the connection. */
struct request {
	char *bytes;
	size_t len;
};

/* ---- shared run state ---- */

static struct settings S;
static struct request *g_requests;
static size_t g_nrequests;
static SSL_CTX *g_ctx;
static int g_conn_ex_index = -1;
static uint64_t g_t0;            /* start of the run */
static uint64_t g_measure_start; /* end of the warm-up */
static uint64_t g_deadline;      /* end of the measurement, UINT64_MAX if none */
static atomic_bool g_stop;
static atomic_uint_fast64_t g_recorded; /* measured answers, for --requests */
static atomic_uint_fast64_t g_stop_at;  /* when the run was stopped early, 0 if not */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* ---- connections ---- */

enum conn_state {
	CS_WAITING,     /* closed; reconnect at retry_at */
	CS_CONNECTING,  /* TCP connect in progress */
	CS_HANDSHAKING, /* TLS handshake in progress */
	CS_SENDING,     /* writing the request */
	CS_RECEIVING,   /* reading the answer */
	CS_STOPPED,
};

enum parse_state {
	P_HEAD,
	P_BODY,
	P_CHUNK_SIZE,
	P_CHUNK_DATA,
	P_CHUNK_END,
	P_TRAILER,
	P_UNTIL_CLOSE,
	P_DONE,
};

enum err_kind {
	E_CONNECT,
	E_TLS,
	E_IO,
	E_CLOSED,
	E_PROTOCOL,
	E_TIMEOUT,
	E_KINDS,
};

static const char *const err_kind_name[E_KINDS] = {
    "connect", "tls", "io", "closed", "protocol", "timeout",
};

struct worker;

struct conn {
	struct worker *w;
	int fd;
	SSL *ssl;
	enum conn_state state;
	uint64_t t_conn;   /* connect(2) began */
	uint64_t t_req;    /* the current request began */
	uint64_t retry_at; /* CS_WAITING: when to reconnect */
	const struct request *req;
	size_t sent;
	unsigned served; /* answers on this connection */

	/* the answer being parsed */
	enum parse_state ps;
	int status;
	bool close_after;
	bool head_only;
	uint64_t left;     /* body bytes or chunk bytes still to come */
	unsigned line_len; /* chunk-size / trailer line length so far */
	unsigned digits;   /* hex digits of the chunk size so far */
	bool in_ext;       /* in a chunk extension (after ';') */
	bool line_blank;   /* trailer line has had no visible characters */
	size_t hlen;
	char head[HEAD_MAX];
};

struct worker {
	int id;
	pthread_t thread;
	int ep;
	struct conn *conns;
	int nconns;
	size_t next_request;
	SSL_SESSION *session; /* latest ticket, for --resume */
	char *rbuf;

	struct histogram hist;
	uint64_t answers; /* measured */
	uint64_t non2xx;
	uint64_t status_class[6]; /* 1xx..5xx, [0] = other */
	uint64_t errors[E_KINDS];
	uint64_t warmup_answers;
	uint64_t warmup_errors;
	uint64_t connects;
	uint64_t handshakes;
	uint64_t resumed;
	uint64_t bytes_in;
	char first_error[320];
};

static void worker_note_error(struct worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void worker_note_error(struct worker *w, const char *fmt, ...)
{
	if (w->first_error[0] != '\0')
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->first_error, sizeof(w->first_error), fmt, ap);
	va_end(ap);
}

static bool in_measurement(uint64_t t)
{
	return t >= g_measure_start;
}

static void conn_start(struct conn *c, uint64_t now);
static void conn_drive(struct conn *c, uint64_t now);

/*
 * --requests counts every measured request that finished, answered or
 * failed, so that a server that only fails still ends the run.  Returns
 * false for a request past the limit (others finished in the same
 * batch), which is then not counted at all.
 */
static bool count_finished(uint64_t now)
{
	if (S.requests == 0)
		return true;
	uint64_t n = atomic_fetch_add_explicit(&g_recorded, 1, memory_order_relaxed) + 1;
	if (n > S.requests)
		return false;
	if (n == S.requests && !atomic_exchange(&g_stop, true))
		atomic_store(&g_stop_at, now);
	return true;
}

static void conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		/* A close_notify is polite and costs one small write; its
		 * failure is of no interest, the socket goes next. */
		if (c->state == CS_SENDING || c->state == CS_RECEIVING)
			(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
		ERR_clear_error();
	}
	if (c->fd >= 0) {
		close(c->fd); /* also leaves the epoll set */
		c->fd = -1;
	}
}

/* The connection failed: count it, close it, reconnect a little later. */
static void conn_fail(struct conn *c, enum err_kind kind, uint64_t now)
{
	struct worker *w = c->w;
	if (in_measurement(now) && now < g_deadline) {
		if (count_finished(now))
			w->errors[kind]++;
	} else if (!in_measurement(now)) {
		w->warmup_errors++;
	}
	conn_close(c);
	c->state = CS_WAITING;
	c->retry_at = now + RETRY_NS;
}

static void tls_error(struct conn *c, const char *what, int sslerr)
{
	unsigned long e = ERR_peek_last_error();
	long vr = c->ssl != NULL ? SSL_get_verify_result(c->ssl) : X509_V_OK;
	char buf[256];
	if (vr != X509_V_OK) {
		worker_note_error(c->w, "%s: server certificate not accepted: %s", what,
		                  X509_verify_cert_error_string(vr));
	} else if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		worker_note_error(c->w, "%s: %s", what, buf);
	} else if (sslerr == SSL_ERROR_SYSCALL && errno != 0) {
		/* TLS 1.3 finishes the client's handshake before the server has
		 * judged its certificate: a refusal surfaces on first use. */
		worker_note_error(c->w, "%s: %s%s", what, strerror(errno),
		                  c->served == 0 && c->state != CS_HANDSHAKING
		                      ? " (on a new TLS 1.3 connection: was the client "
		                        "certificate refused?)"
		                      : "");
	} else if (sslerr == SSL_ERROR_SYSCALL || sslerr == SSL_ERROR_ZERO_RETURN) {
		worker_note_error(c->w, "%s: the server closed the connection", what);
	} else {
		worker_note_error(c->w, "%s: SSL error %d", what, sslerr);
	}
}

static void next_request(struct conn *c)
{
	struct worker *w = c->w;
	c->req = &g_requests[w->next_request];
	if (++w->next_request == g_nrequests)
		w->next_request = 0;
	c->sent = 0;
	/* a fresh clock: the batch's time may be stale by a whole batch */
	c->t_req = S.new_conn ? c->t_conn : now_ns();
	c->state = CS_SENDING;
}

static void conn_start(struct conn *c, uint64_t now)
{
	struct worker *w = c->w;
	c->state = CS_CONNECTING;
	c->t_conn = now_ns();
	c->served = 0;
	c->fd = socket(S.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		worker_note_error(w, "socket: %s", strerror(errno));
		conn_fail(c, E_CONNECT, now);
		return;
	}
	int one = 1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	w->connects++;
	int r = connect(c->fd, (const struct sockaddr *)&S.addr, S.addrlen);
	if (r < 0 && errno != EINPROGRESS) {
		worker_note_error(w, "connect to %s:%s: %s", S.host, S.port, strerror(errno));
		conn_fail(c, E_CONNECT, now);
		return;
	}
	struct epoll_event ev = {
	    .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
	    .data.ptr = c,
	};
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		worker_note_error(w, "epoll_ctl: %s", strerror(errno));
		conn_fail(c, E_CONNECT, now);
		return;
	}
	/* Edge-triggered: the writable edge of the finished connect comes
	 * through epoll even when connect() finished at once. */
}

static bool conn_setup_tls(struct conn *c, uint64_t now)
{
	c->ssl = SSL_new(g_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_ex_data(c->ssl, g_conn_ex_index, c) != 1) {
		tls_error(c, "TLS setup", SSL_ERROR_SSL);
		conn_fail(c, E_TLS, now);
		return false;
	}
	if (!S.host_is_ip)
		(void)SSL_set_tlsext_host_name(c->ssl, S.host);
	if (!S.insecure) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
		int ok = S.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, S.host)
		                      : SSL_set1_host(c->ssl, S.host);
		if (ok != 1) {
			tls_error(c, "TLS setup (server name check)", SSL_ERROR_SSL);
			conn_fail(c, E_TLS, now);
			return false;
		}
	}
	if (S.resume && c->w->session != NULL)
		(void)SSL_set_session(c->ssl, c->w->session);
	SSL_set_connect_state(c->ssl);
	c->state = CS_HANDSHAKING;
	return true;
}

/* ---- the answer's parser ---- */

static bool token_in_list(const char *v, size_t vlen, const char *token)
{
	size_t tlen = strlen(token);
	size_t i = 0;
	while (i < vlen) {
		while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t start = i;
		while (i < vlen && v[i] != ',')
			i++;
		size_t end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end - start == tlen && strncasecmp(v + start, token, tlen) == 0)
			return true;
	}
	return false;
}

/*
 * Parses the status line and headers in c->head[0..len).  Returns 0 and
 * sets ps to how the body is framed, or -1 with a reason noted.
 */
static int parse_head(struct conn *c, size_t len)
{
	const char *p = c->head;
	const char *end = c->head + len;
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	if (eol == NULL || eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ' || !isdigit((unsigned char)p[9]) ||
	    !isdigit((unsigned char)p[10]) || !isdigit((unsigned char)p[11])) {
		worker_note_error(c->w, "the answer does not start with an HTTP/1.x status line");
		return -1;
	}
	bool http10 = p[7] == '0';
	c->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	c->close_after = http10;
	bool chunked = false, have_length = false;
	uint64_t length = 0;

	for (p = eol + 1; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			break;
		const char *lend = eol;
		if (lend > p && lend[-1] == '\r')
			lend--;
		if (lend == p)
			break; /* the blank line */
		const char *colon = memchr(p, ':', (size_t)(lend - p));
		if (colon == NULL) {
			worker_note_error(c->w, "a response header line has no ':'");
			return -1;
		}
		size_t nlen = (size_t)(colon - p);
		const char *v = colon + 1;
		while (v < lend && (*v == ' ' || *v == '\t'))
			v++;
		size_t vlen = (size_t)(lend - v);
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		if (nlen == 14 && strncasecmp(p, "content-length", 14) == 0) {
			uint64_t n = 0;
			if (vlen == 0 || vlen > 18) {
				worker_note_error(c->w, "Content-Length is empty or absurd");
				return -1;
			}
			for (size_t i = 0; i < vlen; i++) {
				if (!isdigit((unsigned char)v[i])) {
					worker_note_error(c->w, "Content-Length is not a number");
					return -1;
				}
				n = n * 10 + (uint64_t)(v[i] - '0');
			}
			if (have_length && n != length) {
				worker_note_error(c->w, "two different Content-Length headers");
				return -1;
			}
			have_length = true;
			length = n;
		} else if (nlen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
			chunked = token_in_list(v, vlen, "chunked");
			if (!chunked) {
				worker_note_error(c->w, "unsupported Transfer-Encoding");
				return -1;
			}
		} else if (nlen == 10 && strncasecmp(p, "connection", 10) == 0) {
			if (token_in_list(v, vlen, "close"))
				c->close_after = true;
			else if (token_in_list(v, vlen, "keep-alive"))
				c->close_after = false;
		}
	}

	if (c->head_only || (c->status >= 100 && c->status < 200) || c->status == 204 ||
	    c->status == 304) {
		c->ps = P_DONE;
	} else if (chunked) {
		c->ps = P_CHUNK_SIZE;
		c->left = 0;
		c->line_len = 0;
		c->digits = 0;
		c->in_ext = false;
	} else if (have_length) {
		c->left = length;
		c->ps = length == 0 ? P_DONE : P_BODY;
	} else {
		c->ps = P_UNTIL_CLOSE;
		c->close_after = true;
	}
	return 0;
}

static void parse_reset(struct conn *c)
{
	c->ps = P_HEAD;
	c->hlen = 0;
	c->status = 0;
	c->left = 0;
	c->close_after = false;
}

/*
 * Feeds n bytes of the answer.  Returns 1 when the answer is complete
 * (bytes after it are an error: nothing was pipelined), 0 for more, -1 on
 * a malformed answer.
 */
static int parse_feed(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		switch (c->ps) {
		case P_HEAD: {
			size_t room = HEAD_MAX - c->hlen;
			size_t take = n < room ? n : room;
			size_t from = c->hlen > 3 ? c->hlen - 3 : 0;
			memcpy(c->head + c->hlen, p, take);
			c->hlen += take;
			const char *e = memmem(c->head + from, c->hlen - from, "\r\n\r\n", 4);
			if (e == NULL) {
				if (c->hlen == HEAD_MAX) {
					worker_note_error(c->w,
					                  "response headers longer than %d bytes",
					                  HEAD_MAX);
					return -1;
				}
				return 0;
			}
			size_t hend = (size_t)(e - c->head) + 4;
			size_t used = take - (c->hlen - hend);
			if (parse_head(c, hend) < 0)
				return -1;
			p += used;
			n -= used;
			if (c->status >= 100 && c->status < 200 && c->status != 101) {
				/* an interim answer; the real one follows */
				c->hlen = 0;
				c->ps = P_HEAD;
			}
			break;
		}
		case P_BODY: {
			size_t take = n < c->left ? n : (size_t)c->left;
			c->left -= take;
			p += take;
			n -= take;
			if (c->left == 0)
				c->ps = P_DONE;
			break;
		}
		case P_CHUNK_SIZE: {
			char ch = *p++;
			n--;
			if (++c->line_len > 1024) {
				worker_note_error(c->w, "a chunk-size line is too long");
				return -1;
			}
			if (ch == '\n') {
				if (c->digits == 0) {
					worker_note_error(c->w, "a chunk-size line has no size");
					return -1;
				}
				c->line_len = 0;
				c->digits = 0;
				c->in_ext = false;
				if (c->left == 0) {
					c->ps = P_TRAILER;
					c->line_blank = true;
				} else {
					c->ps = P_CHUNK_DATA;
				}
			} else if (c->in_ext || ch == '\r') {
				/* chunk extensions are of no interest */
			} else if (ch == ';') {
				c->in_ext = true;
			} else if (isxdigit((unsigned char)ch) && c->digits < 15) {
				int d = isdigit((unsigned char)ch)
				            ? ch - '0'
				            : tolower((unsigned char)ch) - 'a' + 10;
				c->left = c->left * 16 + (uint64_t)d;
				c->digits++;
			} else {
				worker_note_error(c->w, "a chunk-size line is malformed");
				return -1;
			}
			break;
		}
		case P_CHUNK_DATA: {
			size_t take = n < c->left ? n : (size_t)c->left;
			c->left -= take;
			p += take;
			n -= take;
			if (c->left == 0) {
				c->ps = P_CHUNK_END;
				c->line_len = 0;
			}
			break;
		}
		case P_CHUNK_END: {
			char ch = *p++;
			n--;
			if (ch == '\n') {
				c->ps = P_CHUNK_SIZE;
				c->line_len = 0;
				c->digits = 0;
				c->in_ext = false;
				c->left = 0;
			} else if (ch != '\r' || ++c->line_len > 1) {
				worker_note_error(c->w, "a chunk is not followed by CRLF");
				return -1;
			}
			break;
		}
		case P_TRAILER: {
			char ch = *p++;
			n--;
			if (++c->line_len > HEAD_MAX) {
				worker_note_error(c->w, "a trailer line is too long");
				return -1;
			}
			if (ch == '\n') {
				if (c->line_blank) {
					c->ps = P_DONE;
				} else {
					c->line_blank = true;
					c->line_len = 0;
				}
			} else if (ch != '\r') {
				c->line_blank = false;
			}
			break;
		}
		case P_UNTIL_CLOSE:
			return 0; /* everything up to the close is the body */
		case P_DONE:
			worker_note_error(c->w, "the server sent bytes after a complete answer");
			return -1;
		}
	}
	return c->ps == P_DONE ? 1 : 0;
}

/* ---- the state machine ---- */

static void record_answer(struct conn *c)
{
	struct worker *w = c->w;
	uint64_t now = now_ns();
	if (!in_measurement(now)) {
		w->warmup_answers++;
		return;
	}
	if (now >= g_deadline || !count_finished(now))
		return; /* finished after the end: not part of the window */
	hist_record(&w->hist, now - c->t_req);
	w->answers++;
	int cls = c->status / 100;
	w->status_class[cls >= 1 && cls <= 5 ? cls : 0]++;
	if (cls != 2)
		w->non2xx++;
}

static int session_new_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct conn *c = SSL_get_ex_data(ssl, g_conn_ex_index);
	if (c == NULL)
		return 0;
	if (c->w->session != NULL)
		SSL_SESSION_free(c->w->session);
	c->w->session = sess;
	return 1; /* we keep the reference */
}

static void conn_drive(struct conn *c, uint64_t now)
{
	struct worker *w = c->w;
	for (;;) {
		switch (c->state) {
		case CS_WAITING:
		case CS_STOPPED:
			return;
		case CS_CONNECTING: {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);
			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
				soerr = errno;
			if (soerr == EINPROGRESS || soerr == EALREADY)
				return;
			if (soerr != 0) {
				worker_note_error(w, "connect to %s:%s: %s", S.host, S.port,
				                  strerror(soerr));
				conn_fail(c, E_CONNECT, now);
				return;
			}
			if (!conn_setup_tls(c, now))
				return;
			break;
		}
		case CS_HANDSHAKING: {
			ERR_clear_error();
			int r = SSL_connect(c->ssl);
			if (r != 1) {
				int e = SSL_get_error(c->ssl, r);
				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
					return;
				tls_error(c, "TLS handshake", e);
				conn_fail(c, E_TLS, now);
				return;
			}
			w->handshakes++;
			if (SSL_session_reused(c->ssl))
				w->resumed++;
			next_request(c);
			break;
		}
		case CS_SENDING: {
			if (c->sent == 0)
				parse_reset(c);
			ERR_clear_error();
			int r = SSL_write(c->ssl, c->req->bytes + c->sent,
			                  (int)(c->req->len - c->sent));
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);
				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
					return;
				tls_error(c, "sending a request", e);
				conn_fail(c, c->served > 0 && e != SSL_ERROR_SSL ? E_CLOSED : E_IO,
				          now);
				return;
			}
			c->sent += (size_t)r;
			if (c->sent < c->req->len)
				break;
			/* The answer cannot be there yet; reading now would only
			 * cost a read(2) that fails.  Its arrival is an edge. */
			c->state = CS_RECEIVING;
			return;
		}
		case CS_RECEIVING: {
			ERR_clear_error();
			int r = SSL_read(c->ssl, w->rbuf, READ_CHUNK);
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);
				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
					return;
				bool eof =
				    e == SSL_ERROR_ZERO_RETURN ||
				    (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) ||
				    (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_last_error()) ==
				                               SSL_R_UNEXPECTED_EOF_WHILE_READING);
				if (eof && c->ps == P_UNTIL_CLOSE) {
					record_answer(c);
					c->served++;
					conn_close(c);
					conn_start(c, now);
					return;
				}
				if (eof) {
					worker_note_error(w, "the server closed the connection %s",
					                  c->hlen == 0
					                      ? "before answering"
					                      : "in the middle of an answer");
				} else {
					tls_error(c, "reading an answer", e);
				}
				conn_fail(c, eof ? E_CLOSED : E_IO, now);
				return;
			}
			w->bytes_in += (uint64_t)r;
			int done = parse_feed(c, w->rbuf, (size_t)r);
			if (done < 0) {
				conn_fail(c, E_PROTOCOL, now);
				return;
			}
			if (done == 0)
				break;
			record_answer(c);
			c->served++;
			if (atomic_load_explicit(&g_stop, memory_order_relaxed) ||
			    now >= g_deadline) {
				conn_close(c);
				c->state = CS_STOPPED;
				return;
			}
			if (S.new_conn || c->close_after) {
				conn_close(c);
				conn_start(c, now);
				return;
			}
			next_request(c);
			break;
		}
		}
	}
}

static void worker_check_timers(struct worker *w, uint64_t now)
{
	uint64_t limit = (uint64_t)(S.timeout * (double)NS_PER_SEC);
	for (int i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];
		switch (c->state) {
		case CS_WAITING:
			if (now >= c->retry_at)
				conn_start(c, now);
			break;
		case CS_CONNECTING:
		case CS_HANDSHAKING:
			if (now - c->t_conn > limit) {
				worker_note_error(w, "no connection within %.1f s", S.timeout);
				conn_fail(c, E_TIMEOUT, now);
			}
			break;
		case CS_SENDING:
		case CS_RECEIVING:
			if (now - c->t_req > limit) {
				worker_note_error(w, "no answer within %.1f s", S.timeout);
				conn_fail(c, E_TIMEOUT, now);
			}
			break;
		case CS_STOPPED:
			break;
		}
	}
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event events[MAX_EVENTS];
	uint64_t now = now_ns();
	uint64_t next_timers = now + NS_PER_SEC / 10;

	for (int i = 0; i < w->nconns; i++)
		conn_start(&w->conns[i], now);

	for (;;) {
		now = now_ns();
		if (now >= g_deadline || atomic_load_explicit(&g_stop, memory_order_relaxed))
			break;
		if (now >= next_timers) {
			worker_check_timers(w, now);
			next_timers = now + NS_PER_SEC / 10;
		}
		uint64_t wait_until = next_timers < g_deadline ? next_timers : g_deadline;
		int timeout_ms = (int)((wait_until - now + 999999) / 1000000);
		int n = epoll_wait(w->ep, events, MAX_EVENTS, timeout_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			worker_note_error(w, "epoll_wait: %s", strerror(errno));
			break;
		}
		if (n > 0)
			now = now_ns();
		for (int i = 0; i < n; i++)
			conn_drive(events[i].data.ptr, now);
	}
	for (int i = 0; i < w->nconns; i++) {
		conn_close(&w->conns[i]);
		w->conns[i].state = CS_STOPPED;
	}
	return NULL;
}

/* ---- setup ---- */

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: loadgen --url https://HOST:PORT/PATH [options]\n"
	    "\n"
	    "Drives an HTTPS server with HTTP/1.1 requests over mutual TLS, closed-loop,\n"
	    "and reports answers per second and the latency distribution.\n"
	    "\n"
	    "  --url URL            https://HOST[:PORT]/PATH (IPv6 as [::1])\n"
	    "  --method M           GET (default without a body) or POST (default with one)\n"
	    "  --body-file FILE     NDJSON: one request body per line, cycled in order\n"
	    "  --body TEXT          one request body for every request\n"
	    "  --header 'N: V'      an extra request header (repeatable); the default\n"
	    "                       Content-Type of a body is application/json\n"
	    "  --cert FILE          client certificate (PEM, may hold the chain)\n"
	    "  --key FILE           its private key (PEM)\n"
	    "  --ca FILE            CA certificate(s) to verify the server with\n"
	    "  --insecure           do not verify the server (never outside benchmarks)\n"
	    "  -c, --connections N  concurrent connections (default 1)\n"
	    "  -d, --duration S     seconds to measure (default 10; 0 = until --requests)\n"
	    "  -n, --requests N     stop after N measured requests (answered or failed)\n"
	    "  --warmup S           seconds to run before measuring (default 0)\n"
	    "  --timeout S          seconds allowed per connect and per request (default 10)\n"
	    "  --threads N          event-loop threads (default 1)\n"
	    "  --new-conn           a new TCP+TLS connection for every request\n"
	    "  --resume             with --new-conn: resume the last TLS session\n"
	    "  --allow-non2xx       a non-2xx answer is not a failure of the run\n"
	    "  -h, --help           this text;  --version  the version\n"
	    "\n"
	    "Latency runs from the request's first byte (with --new-conn, from connect)\n"
	    "to the last byte of the answer.  The last line of the output is\n"
	    "  RESULT requests=N errors=N rps=X p50_ms=X p90_ms=X p99_ms=X max_ms=X non2xx=N ...\n"
	    "Exit status: 0 if answers arrived and none was an error or (unless\n"
	    "--allow-non2xx) a non-2xx; 1 otherwise; 2 on a usage error.\n");
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
		return false;
	*out = v;
	return true;
}

static bool parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool parse_url(const char *url)
{
	const char *p;
	if (strncasecmp(url, "https://", 8) != 0) {
		fprintf(stderr, "loadgen: --url %s: only https:// URLs are supported\n", url);
		return false;
	}
	p = url + 8;
	const char *hs, *he;
	if (*p == '[') {
		hs = p + 1;
		he = strchr(hs, ']');
		if (he == NULL) {
			fprintf(stderr, "loadgen: --url %s: unclosed '[' in the host\n", url);
			return false;
		}
		p = he + 1;
	} else {
		hs = p;
		he = p + strcspn(p, ":/");
		p = he;
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(S.host)) {
		fprintf(stderr, "loadgen: --url %s: missing or overlong host\n", url);
		return false;
	}
	memcpy(S.host, hs, (size_t)(he - hs));
	S.host[he - hs] = '\0';
	strcpy(S.port, "443");
	if (*p == ':') {
		p++;
		size_t plen = strspn(p, "0123456789");
		if (plen == 0 || plen > 5 || (p[plen] != '/' && p[plen] != '\0')) {
			fprintf(stderr, "loadgen: --url %s: the port is not a number\n", url);
			return false;
		}
		memcpy(S.port, p, plen);
		S.port[plen] = '\0';
		p += plen;
	}
	const char *path = *p == '\0' ? "/" : p;
	if (strlen(path) >= sizeof(S.path) || strpbrk(path, " \r\n") != NULL) {
		fprintf(stderr, "loadgen: --url %s: the path is too long or has spaces\n", url);
		return false;
	}
	strcpy(S.path, path);

	struct in6_addr a6;
	S.host_is_ip =
	    inet_pton(AF_INET, S.host, &a6) == 1 || inet_pton(AF_INET6, S.host, &a6) == 1;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int r = getaddrinfo(S.host, S.port, &hints, &res);
	if (r != 0 || res == NULL) {
		fprintf(stderr, "loadgen: cannot resolve %s: %s\n", S.host, gai_strerror(r));
		return false;
	}
	memcpy(&S.addr, res->ai_addr, res->ai_addrlen);
	S.addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

/* Appends to a growing buffer; false if out of memory. */
struct strbuf {
	char *s;
	size_t len, cap;
};

static bool sb_add(struct strbuf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (s == NULL)
			return false;
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return true;
}

static bool sb_str(struct strbuf *b, const char *s)
{
	return sb_add(b, s, strlen(s));
}

static bool has_header(const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < S.nheaders; i++)
		if (strncasecmp(S.headers[i].line, name, n) == 0 && S.headers[i].line[n] == ':')
			return true;
	return false;
}

/* Builds the exact bytes of one request with the given body (or none). */
static bool build_request(struct request *rq, const char *body, size_t blen, bool with_body)
{
	struct strbuf b = {0};
	char num[64];
	bool ok = sb_str(&b, S.method) && sb_str(&b, " ") && sb_str(&b, S.path) &&
	          sb_str(&b, " HTTP/1.1\r\nHost: ");
	if (ok && strchr(S.host, ':') != NULL)
		ok = sb_str(&b, "[") && sb_str(&b, S.host) && sb_str(&b, "]");
	else if (ok)
		ok = sb_str(&b, S.host);
	if (ok && strcmp(S.port, "443") != 0)
		ok = sb_str(&b, ":") && sb_str(&b, S.port);
	ok = ok && sb_str(&b, "\r\nUser-Agent: disclosured-loadgen/" LOADGEN_VERSION
	                      "\r\nAccept: */*\r\n");
	if (ok && S.new_conn)
		ok = sb_str(&b, "Connection: close\r\n");
	if (ok && with_body) {
		if (!has_header("Content-Type"))
			ok = sb_str(&b, "Content-Type: application/json\r\n");
		snprintf(num, sizeof(num), "Content-Length: %zu\r\n", blen);
		ok = ok && sb_str(&b, num);
	}
	for (int i = 0; ok && i < S.nheaders; i++)
		ok = sb_str(&b, S.headers[i].line) && sb_str(&b, "\r\n");
	ok = ok && sb_str(&b, "\r\n");
	if (ok && with_body)
		ok = sb_add(&b, body, blen);
	if (!ok) {
		free(b.s);
		fprintf(stderr, "loadgen: out of memory building requests\n");
		return false;
	}
	rq->bytes = b.s;
	rq->len = b.len;
	return true;
}

static bool load_requests(void)
{
	bool with_body = S.body_file != NULL || S.body != NULL;
	if (!with_body) {
		g_requests = calloc(1, sizeof(*g_requests));
		g_nrequests = 1;
		return g_requests != NULL && build_request(&g_requests[0], NULL, 0, false);
	}
	if (S.body != NULL) {
		g_requests = calloc(1, sizeof(*g_requests));
		g_nrequests = 1;
		return g_requests != NULL &&
		       build_request(&g_requests[0], S.body, strlen(S.body), true);
	}

	FILE *f = fopen(S.body_file, "r");
	if (f == NULL) {
		fprintf(stderr, "loadgen: --body-file %s: %s\n", S.body_file, strerror(errno));
		return false;
	}
	size_t cap = 0;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	bool ok = true;
	while ((n = getline(&line, &lcap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
		if ((size_t)n > MAX_BODY_LINE) {
			fprintf(stderr, "loadgen: %s:%lu: a body longer than %u bytes\n",
			        S.body_file, lineno, MAX_BODY_LINE);
			ok = false;
			break;
		}
		if (g_nrequests == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct request *r = realloc(g_requests, ncap * sizeof(*r));
			if (r == NULL) {
				fprintf(stderr, "loadgen: out of memory reading %s\n", S.body_file);
				ok = false;
				break;
			}
			g_requests = r;
			cap = ncap;
		}
		if (!build_request(&g_requests[g_nrequests], line, (size_t)n, true)) {
			ok = false;
			break;
		}
		g_nrequests++;
	}
	if (ok && ferror(f)) {
		fprintf(stderr, "loadgen: reading %s: %s\n", S.body_file, strerror(errno));
		ok = false;
	}
	free(line);
	fclose(f);
	if (ok && g_nrequests == 0) {
		fprintf(stderr, "loadgen: %s holds no body (no non-empty line)\n", S.body_file);
		ok = false;
	}
	return ok;
}

static void free_requests(void)
{
	for (size_t i = 0; i < g_nrequests; i++)
		free(g_requests[i].bytes);
	free(g_requests);
	g_requests = NULL;
	g_nrequests = 0;
}

static void print_ssl_errors(const char *what, const char *file)
{
	unsigned long e = ERR_get_error();
	char buf[256];
	if (e == 0) {
		fprintf(stderr, "loadgen: %s %s: failed\n", what, file);
		return;
	}
	ERR_error_string_n(e, buf, sizeof(buf));
	fprintf(stderr, "loadgen: %s %s: %s\n", what, file, buf);
	ERR_clear_error();
}

static bool setup_tls(void)
{
	g_ctx = SSL_CTX_new(TLS_client_method());
	if (g_ctx == NULL) {
		print_ssl_errors("creating", "the TLS context");
		return false;
	}
	SSL_CTX_set_min_proto_version(g_ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(g_ctx,
	                 SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(g_ctx, SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* One read(2) per answer instead of one per record header and body. */
	SSL_CTX_set_read_ahead(g_ctx, 1);
	if (S.cert != NULL && SSL_CTX_use_certificate_chain_file(g_ctx, S.cert) != 1) {
		print_ssl_errors("--cert", S.cert);
		return false;
	}
	if (S.key != NULL && SSL_CTX_use_PrivateKey_file(g_ctx, S.key, SSL_FILETYPE_PEM) != 1) {
		print_ssl_errors("--key", S.key);
		return false;
	}
	if (S.cert != NULL && S.key != NULL && SSL_CTX_check_private_key(g_ctx) != 1) {
		print_ssl_errors("--key does not belong to --cert", S.cert);
		return false;
	}
	if (S.insecure) {
		SSL_CTX_set_verify(g_ctx, SSL_VERIFY_NONE, NULL);
	} else {
		int r = S.ca != NULL ? SSL_CTX_load_verify_locations(g_ctx, S.ca, NULL)
		                     : SSL_CTX_set_default_verify_paths(g_ctx);
		if (r != 1) {
			print_ssl_errors("--ca", S.ca != NULL ? S.ca : "(system default)");
			return false;
		}
		SSL_CTX_set_verify(g_ctx, SSL_VERIFY_PEER, NULL);
	}
	if (S.resume) {
		SSL_CTX_set_session_cache_mode(g_ctx, SSL_SESS_CACHE_CLIENT |
		                                          SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(g_ctx, session_new_cb);
	} else {
		SSL_CTX_set_session_cache_mode(g_ctx, SSL_SESS_CACHE_OFF);
	}
	g_conn_ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	return g_conn_ex_index >= 0;
}

static void on_interrupt(int sig)
{
	(void)sig;
	atomic_store(&g_stop, true);
}

enum {
	OPT_URL = 256,
	OPT_METHOD,
	OPT_BODY_FILE,
	OPT_BODY,
	OPT_HEADER,
	OPT_CERT,
	OPT_KEY,
	OPT_CA,
	OPT_INSECURE,
	OPT_WARMUP,
	OPT_TIMEOUT,
	OPT_THREADS,
	OPT_NEW_CONN,
	OPT_RESUME,
	OPT_ALLOW_NON2XX,
	OPT_VERSION,
};

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, OPT_URL},
	    {"method", required_argument, NULL, OPT_METHOD},
	    {"body-file", required_argument, NULL, OPT_BODY_FILE},
	    {"body", required_argument, NULL, OPT_BODY},
	    {"header", required_argument, NULL, OPT_HEADER},
	    {"cert", required_argument, NULL, OPT_CERT},
	    {"key", required_argument, NULL, OPT_KEY},
	    {"ca", required_argument, NULL, OPT_CA},
	    {"insecure", no_argument, NULL, OPT_INSECURE},
	    {"connections", required_argument, NULL, 'c'},
	    {"duration", required_argument, NULL, 'd'},
	    {"requests", required_argument, NULL, 'n'},
	    {"warmup", required_argument, NULL, OPT_WARMUP},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"threads", required_argument, NULL, OPT_THREADS},
	    {"new-conn", no_argument, NULL, OPT_NEW_CONN},
	    {"resume", no_argument, NULL, OPT_RESUME},
	    {"allow-non2xx", no_argument, NULL, OPT_ALLOW_NON2XX},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {NULL, 0, NULL, 0},
	};
	bool duration_given = false;
	uint64_t u;
	int ch;

	S.connections = 1;
	S.duration = 10;
	S.timeout = 10;
	S.threads = 1;
	while ((ch = getopt_long(argc, argv, "c:d:n:h", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_URL:
			S.url = optarg;
			break;
		case OPT_METHOD:
			S.method = optarg;
			break;
		case OPT_BODY_FILE:
			S.body_file = optarg;
			break;
		case OPT_BODY:
			S.body = optarg;
			break;
		case OPT_HEADER:
			if (S.nheaders == MAX_HEADERS) {
				fprintf(stderr, "loadgen: at most %d --header\n", MAX_HEADERS);
				return 2;
			}
			if (strchr(optarg, ':') == NULL || strpbrk(optarg, "\r\n") != NULL ||
			    optarg[0] == ':') {
				fprintf(stderr, "loadgen: --header '%s': expected 'Name: value'\n",
				        optarg);
				return 2;
			}
			S.headers[S.nheaders++].line = optarg;
			break;
		case OPT_CERT:
			S.cert = optarg;
			break;
		case OPT_KEY:
			S.key = optarg;
			break;
		case OPT_CA:
			S.ca = optarg;
			break;
		case OPT_INSECURE:
			S.insecure = true;
			break;
		case 'c':
			if (!parse_u64(optarg, 1, MAX_CONNECTIONS, &u)) {
				fprintf(stderr, "loadgen: -c %s: expected 1 to %d connections\n",
				        optarg, MAX_CONNECTIONS);
				return 2;
			}
			S.connections = (int)u;
			break;
		case 'd':
			if (!parse_double(optarg, 0, 86400, &S.duration)) {
				fprintf(stderr, "loadgen: -d %s: expected seconds (0 to 86400)\n",
				        optarg);
				return 2;
			}
			duration_given = true;
			break;
		case 'n':
			if (!parse_u64(optarg, 1, UINT64_MAX / 2, &S.requests)) {
				fprintf(stderr, "loadgen: -n %s: expected a positive count\n",
				        optarg);
				return 2;
			}
			break;
		case OPT_WARMUP:
			if (!parse_double(optarg, 0, 3600, &S.warmup)) {
				fprintf(stderr,
				        "loadgen: --warmup %s: expected seconds (0 to 3600)\n",
				        optarg);
				return 2;
			}
			break;
		case OPT_TIMEOUT:
			if (!parse_double(optarg, 0.001, 3600, &S.timeout)) {
				fprintf(stderr, "loadgen: --timeout %s: expected seconds\n",
				        optarg);
				return 2;
			}
			break;
		case OPT_THREADS:
			if (!parse_u64(optarg, 1, 256, &u)) {
				fprintf(stderr, "loadgen: --threads %s: expected 1 to 256\n",
				        optarg);
				return 2;
			}
			S.threads = (int)u;
			break;
		case OPT_NEW_CONN:
			S.new_conn = true;
			break;
		case OPT_RESUME:
			S.resume = true;
			break;
		case OPT_ALLOW_NON2XX:
			S.allow_non2xx = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("loadgen %s\n", LOADGEN_VERSION);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "loadgen: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (S.url == NULL) {
		fprintf(stderr, "loadgen: --url is required (try --help)\n");
		return 2;
	}
	if (S.body != NULL && S.body_file != NULL) {
		fprintf(stderr, "loadgen: give --body or --body-file, not both\n");
		return 2;
	}
	if ((S.cert == NULL) != (S.key == NULL)) {
		fprintf(stderr, "loadgen: --cert and --key go together\n");
		return 2;
	}
	if (S.resume && !S.new_conn) {
		fprintf(stderr, "loadgen: --resume only makes sense with --new-conn\n");
		return 2;
	}
	if (!duration_given && S.requests > 0)
		S.duration = 0;
	if (S.duration == 0 && S.requests == 0) {
		fprintf(stderr, "loadgen: -d 0 needs -n (the run would never end)\n");
		return 2;
	}
	if (S.method == NULL)
		S.method = (S.body != NULL || S.body_file != NULL) ? "POST" : "GET";
	for (const char *m = S.method; *m; m++) {
		if (!isupper((unsigned char)*m)) {
			fprintf(stderr, "loadgen: --method %s: expected an upper-case token\n",
			        S.method);
			return 2;
		}
	}
	if (S.threads > S.connections)
		S.threads = S.connections;
	if (!parse_url(S.url))
		return 2;
	return 0;
}

static void print_report(struct worker *ws, int nw, double elapsed)
{
	struct histogram *h = calloc(1, sizeof(*h));
	uint64_t answers = 0, non2xx = 0, errors = 0, warm = 0, warm_err = 0;
	uint64_t connects = 0, handshakes = 0, resumed = 0, bytes = 0;
	uint64_t cls[6] = {0}, kinds[E_KINDS] = {0};
	const char *first_error = "";
	if (h == NULL) {
		fprintf(stderr, "loadgen: out of memory for the report\n");
		return;
	}
	for (int i = 0; i < nw; i++) {
		struct worker *w = &ws[i];
		hist_merge(h, &w->hist);
		answers += w->answers;
		non2xx += w->non2xx;
		warm += w->warmup_answers;
		warm_err += w->warmup_errors;
		connects += w->connects;
		handshakes += w->handshakes;
		resumed += w->resumed;
		bytes += w->bytes_in;
		for (int k = 0; k < 6; k++)
			cls[k] += w->status_class[k];
		for (int k = 0; k < E_KINDS; k++) {
			kinds[k] += w->errors[k];
			errors += w->errors[k];
		}
		if (first_error[0] == '\0' && w->first_error[0] != '\0')
			first_error = w->first_error;
	}
	double rps = elapsed > 0 ? (double)answers / elapsed : 0;
	double ms = 1e-6;

	printf("loadgen: %s %s, %d connection%s%s, %d thread%s, %.2f s measured", S.method, S.url,
	       S.connections, S.connections == 1 ? "" : "s",
	       S.new_conn ? (S.resume ? " (new per request, resumed)" : " (new per request)") : "",
	       nw, nw == 1 ? "" : "s", elapsed);
	if (S.warmup > 0)
		printf(" after %.1f s warm-up (%" PRIu64 " answers, %" PRIu64 " errors)", S.warmup,
		       warm, warm_err);
	printf("\n");
	printf("  answers   %" PRIu64 "  (%.1f/s)   2xx %" PRIu64 "  3xx %" PRIu64 "  4xx %" PRIu64
	       "  5xx %" PRIu64 "  other %" PRIu64 "\n",
	       answers, rps, cls[2], cls[3], cls[4], cls[5], cls[0] + cls[1]);
	printf("  latency   mean %.3f ms  min %.3f  p50 %.3f  p75 %.3f  p90 %.3f  p99 %.3f  "
	       "p99.9 %.3f  max %.3f\n",
	       h->total ? h->sum / (double)h->total * ms : 0.0, (double)h->min * ms,
	       (double)hist_percentile(h, 50) * ms, (double)hist_percentile(h, 75) * ms,
	       (double)hist_percentile(h, 90) * ms, (double)hist_percentile(h, 99) * ms,
	       (double)hist_percentile(h, 99.9) * ms, (double)h->max * ms);
	printf("  tcp+tls   %" PRIu64 " connects, %" PRIu64 " handshakes, %" PRIu64
	       " resumed;  %.1f MB received\n",
	       connects, handshakes, resumed, (double)bytes / 1e6);
	if (errors > 0) {
		printf("  errors    %" PRIu64 ":", errors);
		for (int k = 0; k < E_KINDS; k++)
			if (kinds[k] > 0)
				printf(" %s %" PRIu64, err_kind_name[k], kinds[k]);
		printf("\n");
	}
	if (first_error[0] != '\0')
		printf("  first error: %s\n", first_error);
	printf("RESULT requests=%" PRIu64 " errors=%" PRIu64 " rps=%.1f p50_ms=%.3f p90_ms=%.3f "
	       "p99_ms=%.3f max_ms=%.3f non2xx=%" PRIu64 " mean_ms=%.3f connections=%d "
	       "connects=%" PRIu64 " resumed=%" PRIu64 " duration_s=%.3f warmup_requests=%" PRIu64
	       "\n",
	       answers, errors, rps, (double)hist_percentile(h, 50) * ms,
	       (double)hist_percentile(h, 90) * ms, (double)hist_percentile(h, 99) * ms,
	       (double)h->max * ms, non2xx, h->total ? h->sum / (double)h->total * ms : 0.0,
	       S.connections, connects, resumed, elapsed, warm);
	fflush(stdout);
	free(h);
}

int main(int argc, char **argv)
{
	int rc = parse_args(argc, argv);
	if (rc != 0)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_interrupt};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (!load_requests() || !setup_tls()) {
		free_requests();
		SSL_CTX_free(g_ctx);
		return 1;
	}

	int nw = S.threads;
	struct worker *ws = calloc((size_t)nw, sizeof(*ws));
	if (ws == NULL) {
		fprintf(stderr, "loadgen: out of memory\n");
		free_requests();
		SSL_CTX_free(g_ctx);
		return 1;
	}
	bool ok = true;
	for (int i = 0; i < nw && ok; i++) {
		struct worker *w = &ws[i];
		w->id = i;
		w->ep = -1;
		w->nconns = S.connections / nw + (i < S.connections % nw ? 1 : 0);
		w->conns = calloc((size_t)w->nconns, sizeof(*w->conns));
		w->rbuf = malloc(READ_CHUNK);
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		w->next_request = g_nrequests * (size_t)i / (size_t)nw;
		if (w->conns == NULL || w->rbuf == NULL || w->ep < 0) {
			fprintf(stderr, "loadgen: cannot set up thread %d: %s\n", i,
			        w->ep < 0 ? strerror(errno) : "out of memory");
			ok = false;
			break;
		}
		for (int j = 0; j < w->nconns; j++) {
			w->conns[j].w = w;
			w->conns[j].fd = -1;
			w->conns[j].state = CS_STOPPED;
			w->conns[j].head_only = strcmp(S.method, "HEAD") == 0;
		}
	}

	int started = 0;
	if (ok) {
		g_t0 = now_ns();
		g_measure_start = g_t0 + (uint64_t)(S.warmup * (double)NS_PER_SEC);
		g_deadline = S.duration > 0
		                 ? g_measure_start + (uint64_t)(S.duration * (double)NS_PER_SEC)
		                 : UINT64_MAX;
		for (; started < nw; started++) {
			int e = pthread_create(&ws[started].thread, NULL, worker_run, &ws[started]);
			if (e != 0) {
				fprintf(stderr, "loadgen: cannot start a thread: %s\n",
				        strerror(e));
				atomic_store(&g_stop, true);
				ok = false;
				break;
			}
		}
	}
	for (int i = 0; i < started; i++)
		pthread_join(ws[i].thread, NULL);
	uint64_t t_end = now_ns();

	uint64_t answers = 0, errors = 0, non2xx = 0;
	if (ok) {
		uint64_t stop_at = atomic_load(&g_stop_at);
		uint64_t end = stop_at != 0 ? stop_at : (t_end < g_deadline ? t_end : g_deadline);
		double elapsed = end > g_measure_start
		                     ? (double)(end - g_measure_start) / (double)NS_PER_SEC
		                     : 0.0;
		print_report(ws, nw, elapsed);
		for (int i = 0; i < nw; i++) {
			answers += ws[i].answers;
			non2xx += ws[i].non2xx;
			for (int k = 0; k < E_KINDS; k++)
				errors += ws[i].errors[k];
		}
	}
	for (int i = 0; i < nw; i++) {
		if (ws[i].ep >= 0)
			close(ws[i].ep);
		if (ws[i].session != NULL)
			SSL_SESSION_free(ws[i].session);
		free(ws[i].conns);
		free(ws[i].rbuf);
	}
	free(ws);
	free_requests();
	SSL_CTX_free(g_ctx);

	if (!ok)
		return 1;
	if (answers == 0) {
		fprintf(stderr, "loadgen: no answer arrived in the measured time\n");
		return 1;
	}
	if (errors > 0 || (non2xx > 0 && !S.allow_non2xx)) {
		fprintf(stderr,
		        "loadgen: the run had %" PRIu64 " errors and %" PRIu64 " non-2xx answers\n",
		        errors, non2xx);
		return 1;
	}
	return 0;
}
