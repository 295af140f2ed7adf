/*
 * server.c - the worker threads.  Each worker owns one event_base and one
 * evhttp watching the one listening socket (whichever worker is free
 * accepts; the address is bound once, without SO_REUSEPORT, so a second
 * daemon on it fails to start rather than take part of its connections),
 * its own store reader and matcher context, and a list of jobs the writer
 * has finished, which it answers.
 *
 * libevent 2.1's evhttp has no limits of its own: the headers size, the
 * body size, the read/write timeout and the number of connections are set
 * or counted here.  Connections are counted when their SSL is made and
 * when it is freed; one past max_connections has its handshake refused.
 *
 * Never: let a connection be served without TLS (router.c refuses any
 * request whose connection has no SSL); block a worker's loop on anything
 * but its own reads of the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/util.h>

#include "disclosure/log.h"
#include "disclosured.h"

#define LISTEN_BACKLOG 1024
#define DRAIN_POLL_MS 50
#define DRAIN_FLUSH_MS 200 /* lets the last answers leave before the loop ends */

#define LINGER_MAX 256          /* sockets per worker drained at once */
#define LINGER_MS 1000          /* how long a refused client has to read its alert */
#define LINGER_BYTES (1u << 20) /* read and dropped at most */

/* What the line that sums up a period's unsaid events of each kind says;
 * the period is a second unless period_ms says otherwise. */
static const struct {
	const char *what;
	bool warn;
	int period_ms;
} log_kinds[LOG_KINDS] = {
	[LOG_OVER_MAX] = {"new connections refused over max_connections", true},
	[LOG_HANDSHAKE] = {"connections closed: their TLS handshake was not done after "
			   "request_timeout",
			   false},
	[LOG_SLOW] = {"connections closed: a request was not whole after request_timeout", false},
	[LOG_NO_SERVICE] = {"connections refused service: a client certificate without one CN "
			    "as text",
			    true},
	[LOG_OVER_PRINCIPAL] = {"connections closed: their principal held "
				"max_connections_per_principal already",
				false},
	[LOG_EVICTED] = {"connections closed in their TLS handshake, the oldest, to make room "
			 "at max_connections",
			 true},
	[LOG_SLOW_READER] = {"connections closed: their answers were read slower than the "
			     "least rate allowed",
			     false},
	[LOG_TLS_REFUSED + TLS_REFUSED_NO_CERTIFICATE] =
	    {"TLS handshakes refused: the client sent no certificate", false, TLS_REFUSED_LOG_MS},
	[LOG_TLS_REFUSED + TLS_REFUSED_UNKNOWN_CA] =
	    {"TLS handshakes refused: a client certificate not issued by client_ca", true,
	     TLS_REFUSED_LOG_MS},
	[LOG_TLS_REFUSED + TLS_REFUSED_REVOKED] =
	    {"TLS handshakes refused: a revoked client certificate", true, TLS_REFUSED_LOG_MS},
	[LOG_TLS_REFUSED + TLS_REFUSED_CERT_EXPIRED] =
	    {"TLS handshakes refused: an expired client certificate", true, TLS_REFUSED_LOG_MS},
	[LOG_TLS_REFUSED + TLS_REFUSED_CRL_EXPIRED] =
	    {"TLS handshakes refused: the CRL is past its next update (every client is refused "
	     "until a fresh CRL is installed and the daemon reloaded)",
	     true, TLS_REFUSED_LOG_MS},
	[LOG_TLS_REFUSED + TLS_REFUSED_BAD_CERTIFICATE] =
	    {"TLS handshakes refused: a client certificate that did not verify", true,
	     TLS_REFUSED_LOG_MS},
	[LOG_TLS_REFUSED + TLS_REFUSED_PROTOCOL] =
	    {"TLS handshakes refused: no protocol version or cipher suite in common, or a "
	     "malformed message",
	     false, TLS_REFUSED_LOG_MS},
	[LOG_TLS_REFUSED + TLS_REFUSED_BY_CLIENT] =
	    {"TLS handshakes ended by the client's alert (does it trust the server's "
	     "certificate?)",
	     true, TLS_REFUSED_LOG_MS},
};

static int64_t log_period(enum log_kind k)
{
	return log_kinds[k].period_ms > 0 ? log_kinds[k].period_ms : 1000;
}

static int64_t mono_ms(void)
{
	return (int64_t)(mono_ns() / 1000000) + 1; /* never 0: 0 is "never said" */
}

/* Says the events of kind k not yet said, in one line. */
static void log_limit_say(struct worker *w, enum log_kind k, int64_t now)
{
	struct log_limit *l = &w->log_limits[k];

	char period[32];

	if (l->unsaid == 0)
		return;
	if (log_period(k) == 1000)
		snprintf(period, sizeof(period), "the second");
	else
		snprintf(period, sizeof(period), "the %d s", (int)(log_period(k) / 1000));
	if (log_kinds[k].warn)
		log_warnx("worker %d: %u more %s, in %s since the last such line", w->index,
			  l->unsaid, log_kinds[k].what, period);
	else
		log_info("worker %d: %u more %s, in %s since the last such line", w->index,
			 l->unsaid, log_kinds[k].what, period);
	l->unsaid = 0;
	l->said_ms = now;
}

static void log_flush_arm(struct worker *w, int64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	if (w->log_flush != NULL && evtimer_add(w->log_flush, &tv) == 0)
		w->log_flush_due = mono_ms() + ms;
}

bool log_limit_pass(struct worker *w, enum log_kind k)
{
	struct log_limit *l = &w->log_limits[k];
	int64_t now = mono_ms(); /* a clock set back must not silence the log */

	if (l->said_ms == 0 || now - l->said_ms >= log_period(k)) {
		log_limit_say(w, k, now); /* the last period's first, in order */
		l->said_ms = now;
		return true;
	}
	/* The timer may be armed for a kind of a longer period: brought
	 * forward, not left to say this kind's count late. */
	if (l->unsaid++ == 0 && w->log_flush != NULL &&
	    (!evtimer_pending(w->log_flush, NULL) ||
	     w->log_flush_due > l->said_ms + log_period(k)))
		log_flush_arm(w, log_period(k) - (now - l->said_ms));
	return false;
}

/* A period is over: says how many of each kind went unsaid in it. */
static void log_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	int64_t now = mono_ms(), wait = 0;

	(void)fd;
	(void)what;
	for (int k = 0; k < LOG_KINDS; k++) {
		const struct log_limit *l = &w->log_limits[k];

		int64_t period = log_period((enum log_kind)k);

		if (l->unsaid > 0 && now - l->said_ms < period) {
			/* Armed for another kind's period: this one's is not over. */
			if (wait == 0 || period - (now - l->said_ms) < wait)
				wait = period - (now - l->said_ms);
		} else {
			log_limit_say(w, (enum log_kind)k, now);
		}
	}
	if (wait > 0)
		log_flush_arm(w, wait);
}

struct lingering_close {
	struct worker *w;
	struct event *ev;
	int fd;
	size_t drained;
};

static void linger_end(struct lingering_close *l)
{
	event_free(l->ev);
	close(l->fd);
	l->w->lingering--;
	free(l);
}

static void linger_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lingering_close *l = arg;
	char buf[16384];
	ssize_t n;

	if (what & EV_TIMEOUT) {
		linger_end(l);
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		l->drained += (size_t)n;
		if (l->drained > LINGER_BYTES) {
			linger_end(l);
			return;
		}
	}
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		linger_end(l);
}

/*
 * A refused handshake (no or a bad client certificate, one connection too
 * many) ends with an alert the client should be able to read.  evhttp
 * closes the socket at once, and a socket closed with unread bytes (the
 * client's request, sent right after its half of a TLS 1.3 handshake)
 * answers with a reset that can destroy the alert before the client reads
 * it.  So the copy tls.c made of such a socket is kept for a moment after
 * evhttp's shutdown(SHUT_WR), and what arrives is read and dropped.
 */
static void linger_start(struct worker *w, int fd)
{
	struct timeval tv = {LINGER_MS / 1000, (LINGER_MS % 1000) * 1000};
	struct lingering_close *l;

	if (w == NULL || w->lingering >= LINGER_MAX || w->draining ||
	    evutil_make_socket_nonblocking(fd) != 0 || (l = calloc(1, sizeof(*l))) == NULL) {
		close(fd);
		return;
	}
	l->w = w;
	l->fd = fd;
	l->ev = event_new(w->base, fd, EV_READ | EV_PERSIST, linger_cb, l);
	if (l->ev == NULL || event_add(l->ev, &tv) != 0) {
		if (l->ev != NULL)
			event_free(l->ev);
		close(fd);
		free(l);
		return;
	}
	w->lingering++;
}

/*
 * Connections still in their TLS handshake, per worker, oldest first.
 * A client that opens connections and never finishes a handshake (it has
 * no certificate, or it means to fill max_connections) would otherwise
 * hold its places for request_timeout each and, renewed, keep every
 * principal out.  So a new connection past max_connections pushes out the
 * oldest connection of its worker still in its handshake, if that one has
 * had EVICT_AGE_MS to finish it: a real handshake takes a few
 * milliseconds, so the connections pushed out are those of such a client,
 * and it cannot push out a real one unless it opens max_connections
 * connections within a real handshake's time.  Only when none is that old
 * is the new connection refused, as before.  At the front of the list go
 * the connections past their principal's count (conn_list_evictable),
 * their handshakes done: they are pushed out first, whatever their age.
 */
#define EVICT_AGE_MS 1000

static void hs_list(struct worker *w, struct conn *c)
{
	c->born_ns = mono_ns();
	c->hs_prev = w->hs_tail;
	c->hs_next = NULL;
	if (w->hs_tail != NULL)
		w->hs_tail->hs_next = c;
	else
		w->hs_head = c;
	w->hs_tail = c;
	c->hs_listed = true;
}

/* A connection whose principal already holds
 * max_connections_per_principal: its place is the first a new connection
 * past max_connections takes, however young (it is cut a moment later
 * anyway, guard_cut_soon).  Without this a flood of them, over their
 * principal's count but each holding a place until cut, kept every other
 * principal's new connections out. */
void conn_list_evictable(struct conn *c)
{
	struct worker *w = c->w;

	if (c->hs_listed || w == NULL)
		return;
	c->born_ns = 0; /* old enough at once */
	c->hs_prev = NULL;
	c->hs_next = w->hs_head;
	if (w->hs_head != NULL)
		w->hs_head->hs_prev = c;
	else
		w->hs_tail = c;
	w->hs_head = c;
	c->hs_listed = true;
}

void conn_handshake_unlist(struct conn *c)
{
	struct worker *w = c->w;

	if (!c->hs_listed || w == NULL)
		return;
	if (c->hs_prev != NULL)
		c->hs_prev->hs_next = c->hs_next;
	else
		w->hs_head = c->hs_next;
	if (c->hs_next != NULL)
		c->hs_next->hs_prev = c->hs_prev;
	else
		w->hs_tail = c->hs_prev;
	c->hs_prev = c->hs_next = NULL;
	c->hs_listed = false;
}

/* Pushes out w's oldest connection in its handshake, if it is old
 * enough; whether it did.  Its close comes from the loop, a moment later
 * (evhttp is accepting the new connection now). */
static bool hs_evict(struct worker *w)
{
	struct conn *old = w->hs_head;
	bufferevent_event_cb ecb;

	while (old != NULL) {
		if (mono_ns() - old->born_ns < (uint64_t)EVICT_AGE_MS * 1000000u)
			return false;
		conn_handshake_unlist(old);
		ecb = NULL;
		if (old->guard_bev != NULL)
			bufferevent_getcb(old->guard_bev, NULL, NULL, &ecb, NULL);
		if (ecb != NULL) {
			bufferevent_trigger_event(old->guard_bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT,
						  BEV_TRIG_DEFER_CALLBACKS);
			return true;
		}
		old = w->hs_head; /* evhttp had let that one go already */
	}
	return false;
}

static void conn_release(struct conn *c, SSL *ssl)
{
	(void)ssl;
	conn_handshake_unlist(c);
	guard_detach(c);
	conn_audit_release(c);
	if (c->linger_fd >= 0)
		linger_start(c->w, c->linger_fd);
	c->linger_fd = -1;
	atomic_fetch_sub_explicit(&c->d->open_conns, 1, memory_order_relaxed);
	if (c->cl_counted)
		connlimit_give(c->d->cl, c->cl_id);
	c->cl_counted = false;
}

/* evhttp asks for a bufferevent for every accepted connection.  Returning
 * NULL would make evhttp serve plaintext, so when no TLS bufferevent can
 * be made we still return NULL but the router refuses every request of a
 * connection without an SSL. */
static struct bufferevent *server_bevcb(struct event_base *base, void *arg)
{
	struct worker *w = arg;
	struct daemon *d = w->d;
	struct bufferevent *bev;
	struct conn *c;
	long open;
	SSL *ssl;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_warnx("worker %d: out of memory for a new connection", w->index);
		return NULL;
	}
	c->d = d;
	c->w = w;
	c->linger_fd = -1;
	open = atomic_fetch_add_explicit(&d->open_conns, 1, memory_order_relaxed) + 1;
	if (open > d->cfg->server.max_connections) {
		if (hs_evict(w)) {
			if (log_limit_pass(w, LOG_EVICTED))
				log_warnx("worker %d: at max_connections (%d): closed the oldest "
					  "connection still in its TLS handshake (more than %d ms) to "
					  "take a new one",
					  w->index, d->cfg->server.max_connections, EVICT_AGE_MS);
		} else {
			c->over_limit = true;
		}
	}
	ssl = tls_server_ssl_new(d->tls, c);
	if (ssl == NULL) {
		conn_release(c, NULL);
		free(c);
		log_warnx("worker %d: cannot create a TLS session for a new connection", w->index);
		return NULL;
	}
	/* From here the SSL owns c (its ex_data free callback). */
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		log_warnx("worker %d: cannot create a TLS bufferevent", w->index);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	if (c->over_limit && log_limit_pass(w, LOG_OVER_MAX))
		log_warnx("worker %d: over max_connections (%d): refused a new connection", w->index,
			  d->cfg->server.max_connections);
	/* The guard refuses bodies too large for their path before they are
	 * sent; without it evhttp's own (bulk) limit still holds. */
	if (guard_attach(bev, c) != 0)
		log_warnx("worker %d: no request guard for a new connection", w->index);
	if (!c->over_limit)
		hs_list(w, c);
	return bev;
}

/* ---- ids: 48 bits of milliseconds and 80 random bits, Crockford base32 ---- */

static uint64_t xorshift128p(uint64_t s[2])
{
	uint64_t a = s[0], b = s[1];

	s[0] = b;
	a ^= a << 23;
	s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
	return s[1] + b;
}

void worker_new_id(struct worker *w, char out[ID_LEN + 1])
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	uint64_t t = (uint64_t)now_ms() & 0xFFFFFFFFFFFFull;
	uint64_t r1 = xorshift128p(w->rng), r2 = xorshift128p(w->rng);
	/* 128 bits, most significant first: 48 of milliseconds, the eight
	 * bytes of r1 lowest first, the two lowest bytes of r2 likewise (the
	 * order the ids have always had), as one number. */
	unsigned __int128 v = (unsigned __int128)t << 80 |
			      (unsigned __int128)__builtin_bswap64(r1) << 16 |
			      (unsigned __int128)(((r2 & 0xFFu) << 8) | ((r2 >> 8) & 0xFFu));

	/* 26 base32 digits, the first carrying 3 bits (ULID), written from
	 * the last: five bits at a time rather than one. */
	for (int i = ID_LEN - 1; i > 0; i--) {
		out[i] = alphabet[(unsigned)(v & 31u)];
		v >>= 5;
	}
	out[0] = alphabet[(unsigned)(v & 7u)];
	out[ID_LEN] = '\0';
}

/* ---- answers from the writer ---- */

static void worker_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct job *list, *next;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&w->done_mtx);
	list = w->done_head;
	w->done_head = w->done_tail = NULL;
	pthread_mutex_unlock(&w->done_mtx);
	for (; list != NULL; list = next) {
		next = list->next;
		list->next = NULL;
		if (list->failed) {
			json_decref(list->resp);
			list->resp = NULL;
			if (list->body != NULL) {
				evbuffer_free(list->body);
				list->body = NULL;
			}
			list->want_receipt = false;
			list->receipt = false;
			list->content_type = NULL;
			list->allow = NULL;
			json_decref(list->audit); /* no second entry: the log could not be written */
			list->audit = NULL;
			job_error(list, 503, "unavailable", NULL,
				  "the audit log could not be written; nothing was done, try again later");
			job_respond(list);
		} else if (list->finish != NULL) {
			list->finish(list);
		} else {
			job_respond(list);
		}
		worker_inflight_done(w);
	}
}

void worker_post_done(struct worker *w, struct job *head, struct job *tail)
{
	pthread_mutex_lock(&w->done_mtx);
	if (w->done_tail != NULL)
		w->done_tail->next = head;
	else
		w->done_head = head;
	w->done_tail = tail;
	pthread_mutex_unlock(&w->done_mtx);
	event_active(w->done_ev, EV_READ, 0);
}

void job_complete(struct job *j)
{
	if (j->on_done != NULL) {
		j->on_done(j);
		return;
	}
	j->next = NULL;
	worker_post_done(j->w, j, j);
}

void worker_submit_flush(struct worker *w)
{
	struct job *head = w->submit_head, *tail = w->submit_tail;

	if (head == NULL)
		return;
	w->submit_head = w->submit_tail = NULL;
	writer_submit_list(w->d->writer, head, tail);
}

/* ---- draining ---- */

/* Ends the loop once nothing has been in flight for DRAIN_FLUSH_MS: the
 * last answers leave, and a request that came in on an open connection
 * meanwhile is still answered, as is one whose body was still arriving
 * (for request_timeout at most). */
static void worker_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval tv = {0, DRAIN_POLL_MS * 1000};
	uint64_t now = mono_ns();

	/* Requests still arriving are waited for request_timeout from the
	 * start of the drain at most, however fast they keep coming: a slow
	 * upload may not hold the stop off for as long as it likes. */
	bool arriving = w->arriving > 0 &&
			now - w->drain_start_ns <
			    (uint64_t)w->d->cfg->server.request_timeout * 1000000000u;

	(void)fd;
	(void)what;
	if (w->inflight > 0 || arriving) {
		w->quiet_since_ns = 0;
	} else if (w->quiet_since_ns == 0) {
		w->quiet_since_ns = now;
	} else if (now - w->quiet_since_ns >= (uint64_t)DRAIN_FLUSH_MS * 1000000u) {
		event_base_loopbreak(w->base);
		return;
	}
	evtimer_add(w->drain_ev, &tv);
}

void worker_inflight_done(struct worker *w)
{
	if (w->inflight > 0)
		w->inflight--;
}

static void worker_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval tv = {0, 0};

	(void)fd;
	(void)what;
	if (w->draining)
		return;
	w->draining = true;
	w->drain_start_ns = mono_ns();
	if (w->bound != NULL) {
		evhttp_del_accept_socket(w->http, w->bound); /* closes the socket */
		w->bound = NULL;
		w->listen_fd = -1;
	}
	evtimer_add(w->drain_ev, &tv);
}

/* ---- listening sockets ---- */

/* Whether the kernel asks for CAP_NET_BIND_SERVICE to bind port: below
 * net.ipv4.ip_unprivileged_port_start (both IPv4 and IPv6), 1024 unless
 * lowered; under the unit's ProcSubset=pid the sysctl cannot be read and
 * 1024 is assumed. */
static bool port_privileged(const char *port)
{
	long start = 1024;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");

	if (f != NULL) {
		if (fscanf(f, "%ld", &start) != 1)
			start = 1024;
		fclose(f);
	}
	return strtol(port, NULL, 10) < start;
}

int server_resolve(const struct config *cfg, struct addrinfo **res, struct dsc_error *err)
{
	struct addrinfo hints;
	unsigned line = config_line(cfg, "server", "listen");
	bool v6 = strchr(cfg->server.host, ':') != NULL;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(cfg->server.host[0] ? cfg->server.host : NULL, cfg->server.port, &hints,
			 res);
	if (rc == 0)
		return DSC_OK;
	*res = NULL;
	return dsc_error_set(err, DSC_EINVAL,
			     "%s:%u: [server] listen %s%s%s:%s: the host does not resolve (%s); "
			     "write an address of this machine (0.0.0.0:%s for all of them) or "
			     "a name it resolves (/etc/hosts or DNS)",
			     cfg->path, line, v6 ? "[" : "", cfg->server.host, v6 ? "]" : "",
			     cfg->server.port,
			     rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc), cfg->server.port);
}

static int listen_socket(const struct config *cfg, struct dsc_error *err)
{
	struct addrinfo *res = NULL;
	int fd, one = 1, rc;

	if ((rc = server_resolve(cfg, &res, err)) != DSC_OK)
		return rc;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = dsc_error_set(err, DSC_EIO, "listen: socket: %s", strerror(errno));
		goto out;
	}
	/* TCP_NODELAY is inherited by accepted sockets on Linux: without it
	 * evhttp's separate header and body writes meet delayed ACKs. */
	/* No SO_REUSEPORT: a second daemon on this address must fail to
	 * bind, not take a share of its connections to another store (the
	 * workers share this one socket instead). */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
		rc = dsc_error_set(err, DSC_EIO, "listen: setsockopt: %s", strerror(errno));
		close(fd);
		goto out;
	}
	if (res->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
		int e = errno;
		const char *why = "";

		if (e == EADDRINUSE)
			why = " (another daemon, or another program, is serving it)";
		else if (e == EACCES && port_privileged(cfg->server.port))
			why = " (a privileged port: binding it takes CAP_NET_BIND_SERVICE in the "
			      "host's user namespace, which the shipped unit's PrivateUsers=yes "
			      "withholds even where the unit grants the capability; see listen in "
			      "disclosured.conf(5) for the ways to serve it)";
		rc = dsc_error_set(err, DSC_EIO, "listen %s:%s: bind: %s%s", cfg->server.host,
				   cfg->server.port, strerror(e), why);
		close(fd);
		goto out;
	}
	if (listen(fd, LISTEN_BACKLOG) != 0) {
		rc = dsc_error_set(err, DSC_EIO, "listen %s:%s: %s", cfg->server.host,
				   cfg->server.port, strerror(errno));
		close(fd);
		goto out;
	}
	rc = fd;
out:
	freeaddrinfo(res);
	return rc;
}

/* ---- worker threads ---- */

static pthread_mutex_t init_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t init_cond = PTHREAD_COND_INITIALIZER;
static int init_pending;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct daemon *d = w->d;
	char name[16];
	int rc;

	snprintf(name, sizeof(name), "worker%d", w->index);
	pthread_setname_np(pthread_self(), name); /* top -H, perf */
	/* LMDB read transactions belong to the thread that made them. */
	rc = store_reader_new(d->store, &w->reader, &w->init_err);
	if (rc == DSC_OK)
		rc = match_ctx_new(d->matcher, &w->mctx, &w->init_err);
	if (rc == DSC_OK && (w->check_res = malloc(sizeof(*w->check_res))) == NULL)
		rc = dsc_error_set(&w->init_err, DSC_ENOMEM, "worker %d: out of memory", w->index);
	pthread_mutex_lock(&init_mtx);
	w->init_rc = rc;
	init_pending--;
	pthread_cond_broadcast(&init_cond);
	pthread_mutex_unlock(&init_mtx);
	/*
	 * One pass of the loop at a time (EVLOOP_ONCE: wait for events, run
	 * every callback they make active), then the jobs of that pass go to
	 * the writer together.  Their answers could not leave before the pass
	 * ends anyway (the writer's wake-up is itself an event of this loop),
	 * and one commit for the pass instead of one per request saves the
	 * fsyncs and page writes that otherwise cost more CPU than the
	 * request itself.
	 */
	while (rc == DSC_OK) {
		int lr = event_base_loop(w->base, EVLOOP_ONCE);

		worker_submit_flush(w);
		if (lr != 0 || event_base_got_break(w->base) || event_base_got_exit(w->base))
			break;
	}
	/* What the last second held back is said before the stop. */
	for (int k = 0; k < LOG_KINDS; k++)
		log_limit_say(w, (enum log_kind)k, mono_ms());
	free(w->check_res);
	w->check_res = NULL;
	match_ctx_free(w->mctx);
	w->mctx = NULL;
	store_reader_free(w->reader);
	w->reader = NULL;
	return NULL;
}

static int worker_setup(struct worker *w, struct daemon *d, int index, struct dsc_error *err)
{
	const struct config *cfg = d->cfg;
	struct event_config *ecfg;
	uint64_t seed[2];

	w->index = index;
	w->d = d;
	w->listen_fd = -1;
	pthread_mutex_init(&w->done_mtx, NULL);
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
		seed[0] = (uint64_t)mono_ns() ^ d->boot_random;
		seed[1] = (uint64_t)index * 0x9E3779B97F4A7C15ull ^ (uint64_t)time(NULL);
	}
	w->rng[0] = seed[0] | 1;
	w->rng[1] = seed[1] ^ d->boot_random;
	/*
	 * The epoll changelist: the changes a pass makes to a descriptor's
	 * events reach the kernel once, before the next wait, as their net
	 * result.  evhttp and the TLS bufferevent turn reading off and on and
	 * writing on and off around every request: four epoll_ctl calls a
	 * request without it, two with it for a /healthz (answered in the pass
	 * that read it) and three for a check (answered after its commit),
	 * counted with strace.  The flag's caveat is descriptors shared
	 * through dup(): the lingering close keeps such a copy of a socket
	 * that evhttp closes (a refused handshake, tls.c; a request answered
	 * with its body unread, guard.c), and the deletion of the original's
	 * events, applied at the next pass, finds it closed and leaves its
	 * registration in place.  The kernel then reports the copy's events
	 * under the original's number too, for as long as the copy lives (at
	 * most LINGER_MS): to no event, or to a new connection given that
	 * number, whose read finds nothing and waits again.  The copy's own
	 * event drains what arrives, so the reports stop at once.
	 */
	w->base = NULL;
	if ((ecfg = event_config_new()) != NULL) {
		event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
		w->base = event_base_new_with_config(ecfg);
		event_config_free(ecfg);
	}
	if (w->base == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "worker %d: cannot create an event base",
				     index);
	w->done_ev = event_new(w->base, -1, 0, worker_done_cb, w);
	w->stop_ev = event_new(w->base, -1, 0, worker_stop_cb, w);
	w->drain_ev = evtimer_new(w->base, worker_drain_cb, w);
	w->log_flush = evtimer_new(w->base, log_flush_cb, w);
	w->http = evhttp_new(w->base);
	w->scratch = evbuffer_new();
	if (w->scratch == NULL || w->done_ev == NULL || w->stop_ev == NULL || w->drain_ev == NULL ||
	    w->log_flush == NULL || w->http == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "worker %d: cannot create its events", index);
	/* Every method reaches the router, which answers 405 with Allow. */
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
						    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(w->http, MAX_HEADERS_SIZE);
	/* The bulk import's limit: max_body is enforced per path by the
	 * router, so the bulk path can take more. */
	evhttp_set_max_body_size(w->http, (ev_ssize_t)cfg->server.max_bulk_body);
	evhttp_set_timeout(w->http, cfg->server.request_timeout);
	evhttp_set_default_content_type(w->http, "application/json");
	/* No EVHTTP_SERVER_LINGERING_CLOSE: with it evhttp 2.1 answers a
	 * declared length over its limit only after reading and discarding
	 * that many bytes.  The guard (guard.c) answers those first, in the
	 * contract's shape; evhttp's limit is only the backstop. */
	evhttp_set_bevcb(w->http, server_bevcb, w);
	evhttp_set_gencb(w->http, router_dispatch, w);
	return DSC_OK;
}

int server_start(struct daemon *d, struct dsc_error *err)
{
	sigset_t block, old;
	int i, rc, lfd;

	tls_set_conn_release(conn_release);
	d->workers = calloc((size_t)d->cfg->server.workers, sizeof(*d->workers));
	if (d->workers == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory for the workers");
	d->n_workers = d->cfg->server.workers;
	/* One listening socket, bound once, which every worker's loop
	 * watches (a copy each, as evhttp closes what it is given): whichever
	 * worker is free accepts the next connection. */
	if ((lfd = listen_socket(d->cfg, err)) < 0)
		return lfd;
	for (i = 0; i < d->n_workers; i++) {
		struct worker *w = &d->workers[i];
		int fd;

		if ((rc = worker_setup(w, d, i, err)) != DSC_OK) {
			close(lfd);
			return rc;
		}
		fd = i == d->n_workers - 1 ? lfd : fcntl(lfd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0) {
			rc = dsc_error_set(err, DSC_EIO, "listen: dup: %s", strerror(errno));
			close(lfd);
			return rc;
		}
		w->listen_fd = fd;
		w->bound = evhttp_accept_socket_with_handle(w->http, fd);
		if (w->bound == NULL) {
			close(fd);
			if (fd != lfd)
				close(lfd);
			w->listen_fd = -1;
			return dsc_error_set(err, DSC_EIO, "worker %d: evhttp cannot take the socket",
					     i);
		}
	}
	/* Signals are the main thread's: workers never see them. */
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	pthread_mutex_lock(&init_mtx);
	init_pending = d->n_workers;
	pthread_mutex_unlock(&init_mtx);
	for (i = 0; i < d->n_workers; i++) {
		if (pthread_create(&d->workers[i].thread, NULL, worker_main, &d->workers[i]) != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			fatalx("cannot start worker thread %d", i);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_lock(&init_mtx);
	while (init_pending > 0)
		pthread_cond_wait(&init_cond, &init_mtx);
	pthread_mutex_unlock(&init_mtx);
	for (i = 0; i < d->n_workers; i++) {
		if (d->workers[i].init_rc != DSC_OK) {
			*err = d->workers[i].init_err;
			return d->workers[i].init_rc;
		}
	}
	return DSC_OK;
}

void server_stop_accepting(struct daemon *d)
{
	for (int i = 0; i < d->n_workers; i++)
		if (d->workers[i].stop_ev != NULL)
			event_active(d->workers[i].stop_ev, EV_READ, 0);
}

void server_join(struct daemon *d)
{
	for (int i = 0; i < d->n_workers; i++)
		pthread_join(d->workers[i].thread, NULL);
}

void server_free(struct daemon *d)
{
	if (d->workers == NULL)
		return;
	for (int i = 0; i < d->n_workers; i++) {
		struct worker *w = &d->workers[i];

		/* Only a drained worker is freed: evhttp_free would free the
		 * requests still waiting for the writer under their feet. */
		if (w->http != NULL && w->inflight == 0)
			evhttp_free(w->http);
		if (w->done_ev != NULL)
			event_free(w->done_ev);
		if (w->scratch != NULL)
			evbuffer_free(w->scratch);
		if (w->stop_ev != NULL)
			event_free(w->stop_ev);
		if (w->drain_ev != NULL)
			event_free(w->drain_ev);
		if (w->log_flush != NULL)
			event_free(w->log_flush);
		if (w->base != NULL && w->inflight == 0)
			event_base_free(w->base);
		pthread_mutex_destroy(&w->done_mtx);
	}
	free(d->workers);
	d->workers = NULL;
}
