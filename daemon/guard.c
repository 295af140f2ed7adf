/*
 * guard.c - reads each request's head before evhttp does, for what evhttp
 * 2.1 cannot do itself: it has one body limit for every path and no hook
 * between the headers and the body (with its own limit it either sends
 * "100 Continue" or waits for the whole declared body), and it answers a
 * head it cannot parse, or a method it does not know, with its own HTML.
 *
 * It watches the TLS bufferevent's input buffer (an evbuffer callback, so
 * it runs as bytes arrive, before evhttp's read callback, and as evhttp
 * consumes them), follows the requests' framing by Content-Length, and
 * while a head at the front of the buffer is incomplete it freezes the
 * front so that evhttp waits for it whole.  Then it hands evhttp, in place
 * of the head:
 *   - a body declared larger than its path allows (max_body, or
 *     max_bulk_body for the bulk import from a registrar): the same headers with
 *     "Content-Length: 0", without "Expect" (no "100 Continue" invites the
 *     body) and with DECLARED_LENGTH_HEADER; the body is never read;
 *   - a head that is not HTTP/1.x (request line, version, header lines,
 *     folding, NUL) or is longer than MAX_HEADERS_SIZE: a GET with
 *     BAD_REQUEST_HEADER saying why;
 *   - a well-formed method evhttp does not know, or CONNECT (which evhttp
 *     would take for a tunnel): GET with METHOD_HEADER;
 * and the router answers 413, 400 (and closes) or 405/404 in the
 * contract's shape.  An Expect other than 100-continue (evhttp would
 * answer 417 with its own page) is dropped.  A chunked body it decodes
 * itself and hands on with a Content-Length ("chunked bodies" below); one
 * in an HTTP/1.0 request is refused (400).  A head to change that arrives
 * behind an unread request waits until evhttp has read up to it.
 * Framing that two readers could read two ways (two lengths, a length
 * that is not a number, a Transfer-Encoding other than chunked alone, or
 * with a length) is refused (400) without reading the body.  What it
 * cannot follow (no memory) it leaves to evhttp and the router for the
 * rest of the connection.
 *
 * Never: change the bytes of a well-formed request within its limits (a
 * marker header a client sent itself is dropped; a chunked body's framing
 * becomes a Content-Length; nothing else); hold back more than one
 * request.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <linux/sockios.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>

#include "disclosure/chunked.h"
#include "disclosure/log.h"
#include "disclosured.h"

#define GUARD_HEAD_MAX (MAX_HEADERS_SIZE + 4096) /* what a head is read into */
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
/* evhttp refuses a head longer than MAX_HEADERS_SIZE with its own page. */
#define HEAD_TOO_LONG "a head of more than " STRINGIFY(MAX_HEADERS_SIZE) " bytes"
#define BULK_PATH "/v1/offenders/_bulk"

static bool name_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

/* The value of a header line, trimmed. */
static void header_value(const char *line, size_t len, const char **v, size_t *vlen)
{
	const char *p = memchr(line, ':', len), *end = line + len;

	p = p != NULL ? p + 1 : end;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*v = p;
	*vlen = (size_t)(end - p);
}

/* Digits only, at most 18 of them. */
static bool parse_length(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;

	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return true;
}

/* Whether the request line's target is the bulk import's path. */
static bool target_is_bulk(const char *line, size_t len)
{
	const char *sp = memchr(line, ' ', len), *t;
	size_t n = 0, rest;

	if (sp == NULL)
		return false;
	t = sp + 1;
	rest = len - (size_t)(t - line);
	while (n < rest && t[n] != ' ' && t[n] != '?')
		n++;
	return n == sizeof(BULK_PATH) - 1 && memcmp(t, BULK_PATH, n) == 0;
}

struct head_scan {
	size_t end;      /* bytes of the block, blank line included */
	size_t line1;    /* bytes of the request line, without its end */
	int n_cl, n_te;
	bool cl_bad, marker;
	bool te_chunked; /* the (last) Transfer-Encoding is "chunked" alone */
	bool expect_continue, expect_other; /* Expect: 100-continue, or another */
	bool http10;     /* the request line says HTTP/1.0 */
	uint64_t cl;
	const char *bad; /* why the block is not HTTP evhttp should see, or NULL */
	bool unknown_method; /* a well-formed method evhttp does not know */
	size_t method_len;
	bool line_ok;    /* the request line passed request_line_check */
	int n_host;
	int n_conn;      /* Connection headers */
	bool conn_close; /* a "close" among their options */
	bool conn_plain; /* the one Connection header is "close" alone */
};

/* Whether a Connection value holds the option "close" (RFC 9112 9.6). */
static bool has_close_option(const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t a, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		a = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > a && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - a == 5 && strncasecmp(v + a, "close", 5) == 0)
			return true;
	}
	return false;
}

static bool tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Whether evhttp's parser takes the target (an absolute URI: evhttp would
 * refuse one it cannot parse with its own page). */
static bool target_parses(const char *t, size_t tlen)
{
	char *z = malloc(tlen + 1);
	struct evhttp_uri *u;

	if (z == NULL)
		return true; /* evhttp decides */
	memcpy(z, t, tlen);
	z[tlen] = '\0';
	u = evhttp_uri_parse_with_flags(z, EVHTTP_URI_NONCONFORMANT);
	free(z);
	if (u == NULL)
		return false;
	evhttp_uri_free(u);
	return true;
}

/* METHOD SP target SP HTTP/1.x, as evhttp reads it. */
static const char *request_line_check(const char *l, size_t len, struct head_scan *hs)
{
	/* The methods evhttp is left to read.  Not CONNECT, though it knows
	 * it: it would read the target as host:port, frame no answer and keep
	 * the connection whatever the answer says (a tunnel); as an unknown
	 * method it reaches the router as any other, and is answered 405. */
	static const char *const known[] = {"GET",     "POST",  "HEAD", "PUT",
					    "DELETE",  "OPTIONS", "TRACE", "PATCH"};
	const char *sp1 = memchr(l, ' ', len), *sp2, *t;
	size_t mlen, tlen, vlen;

	if (sp1 == NULL)
		return "a request line without a target";
	mlen = (size_t)(sp1 - l);
	sp2 = memchr(sp1 + 1, ' ', len - mlen - 1);
	if (mlen == 0 || mlen > 32 || sp2 == NULL)
		return "a request line that is not METHOD TARGET VERSION";
	for (size_t i = 0; i < mlen; i++)
		if (!tchar((unsigned char)l[i]))
			return "a method that is not a token";
	hs->method_len = mlen;
	hs->unknown_method = true;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i]) == mlen && memcmp(l, known[i], mlen) == 0)
			hs->unknown_method = false;
	t = sp1 + 1;
	tlen = (size_t)(sp2 - t);
	if (tlen == 0)
		return "an empty request target";
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return "a request target with spaces, controls or bytes outside ASCII";
	if (t[0] != '/' && !(tlen == 1 && t[0] == '*') && !(tlen >= 7 && memcmp(t, "http://", 7) == 0) &&
	    !(tlen >= 8 && memcmp(t, "https://", 8) == 0))
		return "a request target that is not a path";
	if (t[0] != '/' && t[0] != '*' && !target_parses(t, tlen))
		return "a request target that is not a URI";
	vlen = len - (size_t)(sp2 + 1 - l);
	if (vlen != 8 || (memcmp(sp2 + 1, "HTTP/1.1", 8) != 0 && memcmp(sp2 + 1, "HTTP/1.0", 8) != 0))
		return "an HTTP version other than HTTP/1.1 or HTTP/1.0";
	hs->http10 = memcmp(sp2 + 1, "HTTP/1.0", 8) == 0;
	return NULL;
}

/* Reads the header block at the start of b[0, n): false if incomplete. */
static bool head_scan(const char *b, size_t n, struct head_scan *hs)
{
	size_t start = 0;

	memset(hs, 0, sizeof(*hs));
	for (;;) {
		const char *nl = memchr(b + start, '\n', n - start), *line;
		size_t le, len, name_len;

		if (nl == NULL)
			return false;
		le = (size_t)(nl - b);
		len = le - start;
		if (len > 0 && b[le - 1] == '\r')
			len--;
		line = b + start;
		if (hs->bad == NULL && memchr(line, '\0', len) != NULL)
			hs->bad = "a NUL byte in the head";
		if (start == 0) {
			hs->line1 = len;
			if (hs->bad == NULL)
				hs->bad = request_line_check(line, len, hs);
			hs->line_ok = hs->bad == NULL;
		} else if (len == 0) {
			hs->end = le + 1;
			/* RFC 9112 3.2: one Host, and in HTTP/1.1 always one. */
			if (hs->bad == NULL && hs->n_host > 1)
				hs->bad = "more than one Host header";
			else if (hs->bad == NULL && hs->n_host == 0 && !hs->http10)
				hs->bad = "an HTTP/1.1 request without a Host header";
			return true;
		} else if (hs->bad == NULL && memchr(line, '\r', len) != NULL) {
			/* evhttp would answer a CR left inside a line with its page. */
			hs->bad = "a CR byte inside a header line";
		} else if (line[0] == ' ' || line[0] == '\t') {
			if (hs->bad == NULL)
				hs->bad = "a folded header line";
		} else {
			const char *v;
			size_t vlen;

			for (name_len = 0; name_len < len && tchar((unsigned char)line[name_len]);
			     name_len++)
				;
			if (hs->bad == NULL &&
			    (name_len == 0 || name_len == len || line[name_len] != ':'))
				hs->bad = "a header line that is not 'name: value'";
			if (name_is(line, len, "Content-Length")) {
				hs->n_cl++;
				header_value(line, len, &v, &vlen);
				if (!parse_length(v, vlen, &hs->cl))
					hs->cl_bad = true;
			} else if (name_is(line, len, "Transfer-Encoding")) {
				hs->n_te++;
				header_value(line, len, &v, &vlen);
				hs->te_chunked = vlen == 7 && strncasecmp(v, "chunked", 7) == 0;
			} else if (name_is(line, len, "Expect")) {
				header_value(line, len, &v, &vlen);
				if (vlen == 12 && strncasecmp(v, "100-continue", 12) == 0)
					hs->expect_continue = true;
				else
					hs->expect_other = true;
			} else if (name_is(line, len, "Host")) {
				hs->n_host++;
			} else if (name_is(line, len, "Connection")) {
				header_value(line, len, &v, &vlen);
				hs->n_conn++;
				if (has_close_option(v, vlen))
					hs->conn_close = true;
				hs->conn_plain = hs->n_conn == 1 && vlen == 5 &&
						 strncasecmp(v, "close", 5) == 0;
			} else if (len > sizeof(MARKER_PREFIX) - 1 &&
				   strncasecmp(line, MARKER_PREFIX, sizeof(MARKER_PREFIX) - 1) == 0) {
				hs->marker = true;
			}
		}
		start = le + 1;
	}
}

/* How head_rewrite changes a block besides dropping marker headers and
 * naming an unknown method. */
struct rewrite {
	const char *declared; /* too large: DECLARED_LENGTH_HEADER and Content-Length: 0 */
	const char *bad_body; /* a chunked body refused: BAD_BODY_HEADER and Content-Length: 0 */
	bool dechunked;       /* a chunked body decoded: Content-Length: length */
	uint64_t length;
	bool drop_expect;     /* an expectation evhttp would answer 417 (HTML) */
	bool force_close;     /* "close" among other options: evhttp sees it alone */
};

/*
 * The block as evhttp should see it: without any marker header of the
 * client's own; with an unknown method replaced by GET and named in
 * METHOD_HEADER (the router answers 405 or 404 for it); without Expect
 * if rw says so (an expectation other than 100-continue, which RFC 9110
 * 10.1.1 lets a server ignore; evhttp would answer it 417); with the body's
 * framing replaced as rw says (then without Content-Length,
 * Transfer-Encoding and Expect: nothing more is to be sent, and no
 * "100 Continue" invites it).  Returns a malloc'd block, its length in
 * *out_len.
 */
static char *head_rewrite(const char *b, const struct head_scan *hs, const struct rewrite *rw,
			  size_t *out_len)
{
	bool reframe = rw->declared != NULL || rw->bad_body != NULL || rw->dechunked;
	size_t cap = hs->end + 512, n = 0, start = 0;
	char *out = malloc(cap);
	int r;

	if (out == NULL)
		return NULL;
	for (;;) {
		const char *nl = memchr(b + start, '\n', hs->end - start);
		size_t le = (size_t)(nl - b), len = le - start;
		const char *line = b + start;
		bool drop;

		if (len > 0 && b[le - 1] == '\r')
			len--;
		if (len == 0 && start > 0)
			break;
		if (start == 0 && hs->unknown_method) {
			memcpy(out, "GET", 3);
			memcpy(out + 3, line + hs->method_len, len - hs->method_len);
			n = 3 + len - hs->method_len;
			memcpy(out + n, "\r\n", 2);
			n += 2;
			start = le + 1;
			continue;
		}
		drop = start > 0 && ((len > sizeof(MARKER_PREFIX) - 1 &&
				      strncasecmp(line, MARKER_PREFIX, sizeof(MARKER_PREFIX) - 1) == 0) ||
				     (reframe && (name_is(line, len, "Content-Length") ||
						  name_is(line, len, "Transfer-Encoding") ||
						  name_is(line, len, "Expect"))) ||
				     (rw->drop_expect && name_is(line, len, "Expect")) ||
				     (rw->force_close && name_is(line, len, "Connection")));
		if (!drop) {
			memcpy(out + n, line, len);
			memcpy(out + n + len, "\r\n", 2);
			n += len + 2;
		}
		start = le + 1;
	}
	r = 0;
	if (hs->unknown_method)
		r = snprintf(out + n, cap - n, "%s: %.*s\r\n", METHOD_HEADER, (int)hs->method_len, b);
	if (r < 0 || (size_t)r >= cap - n)
		goto fail;
	n += (size_t)r;
	if (rw->force_close) {
		/* evhttp 2.1 closes only for a Connection header that is exactly
		 * "close"; the request's other options end with the connection. */
		r = snprintf(out + n, cap - n, "Connection: close\r\n");
		if (r < 0 || (size_t)r >= cap - n)
			goto fail;
		n += (size_t)r;
	}
	if (rw->declared != NULL)
		r = snprintf(out + n, cap - n, "%s: %s\r\nContent-Length: 0\r\n\r\n",
			     DECLARED_LENGTH_HEADER, rw->declared);
	else if (rw->bad_body != NULL)
		r = snprintf(out + n, cap - n, "%s: %s\r\nContent-Length: 0\r\n\r\n", BAD_BODY_HEADER,
			     rw->bad_body);
	else if (rw->dechunked)
		r = snprintf(out + n, cap - n, "Content-Length: %llu\r\n\r\n",
			     (unsigned long long)rw->length);
	else
		r = snprintf(out + n, cap - n, "\r\n");
	if (r < 0 || (size_t)r >= cap - n)
		goto fail;
	*out_len = n + (size_t)r;
	return out;
fail:
	free(out);
	return NULL;
}

/*
 * A head evhttp would refuse with its own page becomes a request the
 * router answers 400 in the contract's shape (and closes).  In place of
 * the one that came, for the reason why: a GET of "/" marked
 * BAD_REQUEST_HEADER, or, when its request line was good (hs), that line
 * marked BAD_HEADERS_HEADER, so that the audit entry names the method and
 * path that were asked for.  No body: Content-Length 0.
 */
static char *head_bad(const char *b, const struct head_scan *hs, const char *why, size_t *out_len)
{
	/* A line that leaves no room under MAX_HEADERS_SIZE for the marker
	 * is not kept: evhttp would refuse the new head with its own page,
	 * unaudited, as it would have the old one. */
	bool keep = hs != NULL && hs->line_ok && !hs->unknown_method &&
		    hs->line1 + 256 <= MAX_HEADERS_SIZE;
	size_t line = keep ? hs->line1 : 0, cap = line + 256;
	char *out = malloc(cap);
	int r;

	if (out == NULL)
		return NULL;
	if (keep)
		r = snprintf(out, cap, "%.*s\r\n%s: %s\r\nContent-Length: 0\r\n\r\n", (int)line, b,
			     BAD_HEADERS_HEADER, why);
	else
		r = snprintf(out, cap, "GET / HTTP/1.1\r\n%s: %s\r\nContent-Length: 0\r\n\r\n",
			     BAD_REQUEST_HEADER, why);
	if (r < 0 || (size_t)r >= cap) {
		free(out);
		return NULL;
	}
	*out_len = (size_t)r;
	return out;
}

static void guard_freeze(struct conn *c, struct evbuffer *buf, bool on)
{
	if (c->guard_frozen == on)
		return;
	if (on)
		evbuffer_freeze(buf, 1);
	else
		evbuffer_unfreeze(buf, 1);
	c->guard_frozen = on;
}

static void guard_stop(struct conn *c, struct evbuffer *buf)
{
	guard_freeze(c, buf, false);
	c->guard_state = GUARD_PASS;
}

/*
 * The same, for a request answered and closed with its body unread (413,
 * or 400 for its head or framing).  The client may still be sending that
 * body, and a socket closed with bytes arriving answers with a reset: a
 * client that stops at the first failed send (curl, "Send failure: Broken
 * pipe") never reads the answer.  So, as after a refused handshake
 * (tls.c), a copy of the socket is kept a moment after evhttp closes it
 * and what arrives is read and dropped (server.c, lingering close: at
 * most LINGER_MS and LINGER_BYTES).
 */
static void guard_stop_closing(struct conn *c, struct evbuffer *buf)
{
	int fd = (int)bufferevent_getfd(c->guard_bev);

	if (c->linger_fd < 0 && fd >= 0)
		c->linger_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	guard_stop(c, buf);
}

/* Replaces the block of old_len bytes at the front of buf by nb. */
static bool guard_replace_front(struct conn *c, struct evbuffer *buf, size_t old_len, char *nb,
				size_t new_len)
{
	bool ok;

	if (nb == NULL)
		return false;
	guard_freeze(c, buf, false);
	c->guard_busy = true; /* our own changes are not evhttp's reads */
	ok = evbuffer_drain(buf, old_len) == 0 && evbuffer_prepend(buf, nb, new_len) == 0;
	c->guard_busy = false;
	free(nb);
	return ok;
}

/* ---- chunked bodies ----
 *
 * evhttp 2.1 would read a chunked body itself, up to the one body limit
 * it has (max_bulk_body, on every path), and answer one over it, or one
 * it cannot frame, with its own HTML page: no JSON, no audit entry.  So
 * the guard takes a chunked request out of evhttp's sight (its head kept
 * in guard_head, every later byte moved from the input to guard_hold as
 * it arrives, so that evhttp sees an empty buffer and waits), decodes the
 * body into guard_body as it comes (lib/chunked.c, with the path's
 * limit), and puts back in its place:
 *   - the body decoded: the head with Content-Length instead of
 *     Transfer-Encoding, then the body, then whatever followed it;
 *   - a chunk that would pass the limit: the head with
 *     DECLARED_LENGTH_HEADER (the router answers 413 and closes), at once,
 *     without waiting for the rest;
 *   - framing it cannot read: the head with BAD_BODY_HEADER saying why
 *     (400, then closed).
 * What it holds is the body decoded so far, at most the limit: framing is
 * dropped as it is read (a line not yet ended is the decoder's state, not
 * bytes kept).
 */

static void chunked_release(struct conn *c)
{
	if (c->guard_hold != NULL)
		evbuffer_free(c->guard_hold);
	if (c->guard_body != NULL)
		evbuffer_free(c->guard_body);
	free(c->guard_head);
	c->guard_hold = NULL;
	c->guard_body = NULL;
	c->guard_head = NULL;
	c->guard_head_len = 0;
}

static bool body_add(void *arg, const char *bytes, size_t len)
{
	return evbuffer_add(arg, bytes, len) == 0;
}

/* Feeds the held bytes to the decoder until they run out or it stops. */
static enum chunked_status chunked_decode(struct conn *c)
{
	enum chunked_status st = c->guard_chunked.status;

	while (st == CHUNKED_MORE && evbuffer_get_length(c->guard_hold) > 0) {
		struct evbuffer_iovec v;
		size_t used;

		if (evbuffer_peek(c->guard_hold, -1, NULL, &v, 1) < 1)
			break;
		st = chunked_feed(&c->guard_chunked, v.iov_base, v.iov_len, &used, body_add,
				  c->guard_body);
		evbuffer_drain(c->guard_hold, used);
	}
	return st;
}

/* Puts the request back in the input in its new form and lets evhttp have
 * it; false if there was no memory for that: then the input is emptied
 * and the connection waits for its deadline (request_timeout) to end it. */
static bool chunked_finish(struct conn *c, struct evbuffer *buf, enum chunked_status st)
{
	struct chunked *ck = &c->guard_chunked;
	struct rewrite rw = {0};
	struct head_scan hs;
	char declared[48], *nb;
	size_t new_len;
	bool ok;

	(void)head_scan(c->guard_head, c->guard_head_len, &hs);
	rw.force_close = hs.conn_close && !hs.conn_plain;
	if (st == CHUNKED_DONE) {
		rw.dechunked = true;
		rw.length = ck->total;
	} else if (st == CHUNKED_TOO_BIG) {
		snprintf(declared, sizeof(declared), "at least %llu", (unsigned long long)ck->announced);
		rw.declared = declared;
	} else if (st == CHUNKED_BAD) {
		rw.bad_body = ck->why;
	} else {
		rw.bad_body = BAD_BODY_NO_MEMORY;
	}
	nb = head_rewrite(c->guard_head, &hs, &rw, &new_len);
	c->guard_busy = true; /* our own changes are not evhttp's reads */
	ok = nb != NULL && evbuffer_add(buf, nb, new_len) == 0;
	if (ok && st == CHUNKED_DONE)
		ok = evbuffer_add_buffer(buf, c->guard_body) == 0 &&
		     evbuffer_add_buffer(buf, c->guard_hold) == 0;
	if (!ok)
		evbuffer_drain(buf, evbuffer_get_length(buf)); /* no half request for evhttp */
	c->guard_busy = false;
	free(nb);
	chunked_release(c);
	if (!ok || st != CHUNKED_DONE) {
		guard_stop_closing(c, buf); /* answered, then closed */
		return ok;
	}
	c->guard_scan = new_len;
	c->guard_state = GUARD_HEAD;
	if (rw.length > 0) {
		c->guard_body_end = new_len + (size_t)rw.length;
		c->guard_state = GUARD_BODY;
	}
	return true;
}

/* Moves what arrived to the held bytes and decodes them. */
static void chunked_more(struct conn *c, struct evbuffer *buf)
{
	enum chunked_status st;

	c->guard_busy = true;
	if (evbuffer_add_buffer(c->guard_hold, buf) != 0) {
		evbuffer_drain(buf, evbuffer_get_length(buf));
		c->guard_busy = false;
		chunked_finish(c, buf, CHUNKED_ABORTED);
		return;
	}
	c->guard_busy = false;
	st = chunked_decode(c);
	if (st == CHUNKED_MORE)
		return;
	if (!chunked_finish(c, buf, st))
		log_warnx("out of memory for a chunked request; its connection ends at request_timeout");
}

/*
 * "100 Continue" for a chunked request that asks for it: RFC 9110 10.1.1
 * wants it, or a final answer, as soon as the head is in.  evhttp would
 * send it had it read the head; the guard holds the head, so it writes
 * the line itself.  evhttp's write callback must not see that write:
 * after an earlier answer on the connection it would take the line's
 * flush for the end of that answer (its evcon->cb is still set).  So the
 * write callback is continue_written until the line is out, then
 * evhttp's again.  If evhttp sets its callbacks meanwhile (to answer),
 * its own replace ours and nothing is put back.
 */
static void continue_written(struct bufferevent *bev, void *arg)
{
	struct conn *c = tls_conn(bufferevent_openssl_get_ssl(bev));
	bufferevent_data_cb rcb;
	bufferevent_event_cb ecb;

	if (c == NULL || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	bufferevent_getcb(bev, &rcb, NULL, &ecb, NULL);
	bufferevent_setcb(bev, rcb, c->guard_saved_wcb, ecb, arg);
	if (!c->guard_saved_writing)
		bufferevent_disable(bev, EV_WRITE);
}

static void send_continue(struct conn *c)
{
	static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct bufferevent *bev = c->guard_bev;
	bufferevent_data_cb rcb, wcb;
	bufferevent_event_cb ecb;
	void *arg;

	if (bev == NULL)
		return;
	bufferevent_getcb(bev, &rcb, &wcb, &ecb, &arg);
	if (wcb != continue_written) {
		c->guard_saved_wcb = wcb;
		c->guard_saved_writing = (bufferevent_get_enabled(bev) & EV_WRITE) != 0;
		bufferevent_setcb(bev, rcb, continue_written, ecb, arg);
	}
	if (bufferevent_write(bev, line, sizeof(line) - 1) != 0 ||
	    bufferevent_enable(bev, EV_WRITE) != 0) {
		/* Not sent: the client sends the body after its own wait. */
		bufferevent_setcb(bev, rcb, c->guard_saved_wcb, ecb, arg);
		log_warnx("could not send 100 Continue");
	}
}

static void guard_head(struct conn *c, struct evbuffer *buf);

/* Takes the chunked request whose head is the first hs->end bytes of buf
 * (b holds them) out of evhttp's sight and decodes what is there. */
static void chunked_begin(struct conn *c, struct evbuffer *buf, const char *b,
			  const struct head_scan *hs, uint64_t limit)
{
	c->guard_head = malloc(hs->end);
	c->guard_hold = evbuffer_new();
	c->guard_body = evbuffer_new();
	if (c->guard_head == NULL || c->guard_hold == NULL || c->guard_body == NULL) {
		chunked_release(c);
		guard_stop(c, buf); /* evhttp reads it, as before */
		return;
	}
	memcpy(c->guard_head, b, hs->end);
	c->guard_head_len = hs->end;
	chunked_init(&c->guard_chunked, limit);
	guard_freeze(c, buf, false);
	c->guard_busy = true;
	evbuffer_drain(buf, hs->end);
	c->guard_busy = false;
	c->guard_state = GUARD_CHUNKED;
	/* Only an HTTP/1.1 head asks (http10 was refused before), and only
	 * while none of the body is in (RFC 9110 10.1.1 lets a server that
	 * has some of it leave the line out). */
	if (hs->expect_continue && evbuffer_get_length(buf) == 0)
		send_continue(c);
	chunked_more(c, buf);
	/* Decoded already: the next request may be behind it. */
	if (c->guard_state == GUARD_HEAD || c->guard_state == GUARD_BODY)
		guard_head(c, buf);
}

/* Decides the header block at c->guard_scan (offset from the front). */
static void guard_head(struct conn *c, struct evbuffer *buf)
{
	const struct config *cfg = c->d->cfg;
	size_t len = evbuffer_get_length(buf), avail, n, new_len;
	char b[GUARD_HEAD_MAX];
	struct evbuffer_ptr ptr;
	struct head_scan hs;
	uint64_t limit;
	ev_ssize_t got;
	bool too_big;
	char declared[24], *nb;
	struct rewrite rw = {0};

	for (;;) {
		if (c->guard_state == GUARD_BODY) {
			if (len < c->guard_body_end)
				return;
			c->guard_scan = c->guard_body_end;
			c->guard_state = GUARD_HEAD;
		}
		if (c->guard_state != GUARD_HEAD)
			return;
		avail = len - c->guard_scan;
		if (avail == 0) {
			guard_freeze(c, buf, false);
			return;
		}
		n = avail < sizeof(b) ? avail : sizeof(b);
		/* A frozen front cannot be copied out either (libevent refuses):
		 * thawed while we look, frozen again below if still incomplete. */
		guard_freeze(c, buf, false);
		if (evbuffer_ptr_set(buf, &ptr, c->guard_scan, EVBUFFER_PTR_SET) != 0 ||
		    (got = evbuffer_copyout_from(buf, &ptr, b, n)) < 0 || (size_t)got != n) {
			guard_stop(c, buf);
			return;
		}
		if (b[0] == '\n' || (n >= 2 && b[0] == '\r' && b[1] == '\n')) {
			/* A blank line before a request (RFC 9112 2.2: ignore it). */
			if (c->guard_scan != 0)
				return; /* dropped once at the front */
			guard_freeze(c, buf, false);
			c->guard_busy = true;
			evbuffer_drain(buf, b[0] == '\n' ? 1 : 2);
			c->guard_busy = false;
			len = evbuffer_get_length(buf);
			continue;
		}
		if (!head_scan(b, n, &hs)) {
			if (n > MAX_HEADERS_SIZE) {
				/* Refused before evhttp sees it (it would answer with
				 * its own page): all of it, then closed. */
				if (c->guard_scan != 0)
					return;
				nb = head_bad(b, &hs, HEAD_TOO_LONG, &new_len);
				(void)guard_replace_front(c, buf, len, nb, new_len);
				guard_stop_closing(c, buf);
				return;
			}
			/* Only a block at the front can be held back; one behind
			 * an unread body is held once evhttp has read up to it. */
			guard_freeze(c, buf, c->guard_scan == 0);
			return;
		}
		/* A block to change waits at its place until it is at the front
		 * (evhttp reads up to it from the front, and every such read
		 * calls the guard first). */
		if (hs.bad == NULL && hs.end > MAX_HEADERS_SIZE)
			hs.bad = HEAD_TOO_LONG;
		if (hs.bad != NULL) {
			if (c->guard_scan != 0)
				return;
			nb = head_bad(b, &hs, hs.bad, &new_len);
			(void)guard_replace_front(c, buf, hs.end, nb, new_len);
			guard_stop_closing(c, buf); /* answered 400, then closed */
			return;
		}
		/* The bulk import's limit is for registrars: anyone else's
		 * body there is refused (403) at max_body, not read into
		 * memory up to max_bulk_body first (an outsider's 64
		 * connections would hold 16 GiB). */
		limit = target_is_bulk(b, hs.line1) && c->known &&
				(c->principal.roles & ROLE_REGISTRAR) != 0
			    ? cfg->server.max_bulk_body
			    : cfg->server.max_body;
		if (hs.n_te == 1 && hs.te_chunked && hs.n_cl == 0) {
			if (c->guard_scan != 0)
				return;
			if (hs.http10) {
				/* RFC 9112 6.1: faulty framing; answered 400, then closed. */
				rw.bad_body = "Transfer-Encoding in an HTTP/1.0 request";
				nb = head_rewrite(b, &hs, &rw, &new_len);
				(void)guard_replace_front(c, buf, hs.end, nb, new_len);
				guard_stop_closing(c, buf);
				return;
			}
			chunked_begin(c, buf, b, &hs, limit);
			return;
		}
		if (hs.n_te > 0 || hs.n_cl > 1 || hs.cl_bad) {
			/* Framing two readers could read two ways (request
			 * smuggling): answered 400 in the router's words, then
			 * closed, the body never read. */
			if (c->guard_scan != 0)
				return;
			rw.bad_body = hs.n_cl > 1    ? "more than one Content-Length"
				      : hs.cl_bad    ? "a Content-Length that is not a plain number"
				      : hs.n_cl > 0  ? "Transfer-Encoding together with Content-Length"
						     : "a Transfer-Encoding other than chunked";
			nb = head_rewrite(b, &hs, &rw, &new_len);
			(void)guard_replace_front(c, buf, hs.end, nb, new_len);
			guard_stop_closing(c, buf);
			return;
		}
		too_big = hs.n_cl == 1 && hs.cl > limit;
		rw.force_close = hs.conn_close && !hs.conn_plain;
		if (too_big || hs.marker || hs.unknown_method || hs.expect_other || rw.force_close) {
			if (c->guard_scan != 0)
				return;
			snprintf(declared, sizeof(declared), "%llu", (unsigned long long)hs.cl);
			rw.declared = too_big ? declared : NULL;
			rw.drop_expect = hs.expect_other;
			nb = head_rewrite(b, &hs, &rw, &new_len);
			if (!guard_replace_front(c, buf, hs.end, nb, new_len) || too_big) {
				guard_stop_closing(c, buf); /* 413 (or trouble), then closed */
				return;
			}
			len = evbuffer_get_length(buf);
			hs.end = new_len;
		}
		guard_freeze(c, buf, false);
		c->guard_scan += hs.end;
		if (hs.n_cl == 1 && hs.cl > 0) {
			c->guard_body_end = c->guard_scan + (size_t)hs.cl;
			c->guard_state = GUARD_BODY;
		}
	}
}

/* ---- the whole request's deadline ----
 *
 * evhttp's timeout (request_timeout) is one of inactivity: a client that
 * sends a byte a second keeps a request, and its connection, forever.  So
 * the first byte of a request starts a clock of request_timeout seconds,
 * stopped when the router has the request whole (guard_request_in); if
 * it runs out first, the connection ends as at evhttp's own timeout.  The
 * TLS handshake has the same clock, from the connection's start to the
 * handshake's end (guard_handshake_done): without it a client with no
 * certificate at all could hold a connection by sending its hello a byte
 * at a time.
 *
 * While an answer is being made (in_flight), the time is not the
 * client's: the clock starts again.  A request whose bytes keep coming at
 * REQUEST_MIN_RATE or faster is given the time they need (a bulk import
 * of 256 MiB over a slow link takes minutes): each byte received adds
 * 1/REQUEST_MIN_RATE seconds to its time, as Apache's mod_reqtimeout
 * does.  A byte a second does not keep a connection; a slow but real
 * upload is not cut off.
 */
#define REQUEST_MIN_RATE 4096 /* bytes a second */

static void deadline_set(struct conn *c, uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(c->guard_deadline, &tv);
}

/* Whether a request has begun on the connection and is not whole yet: a
 * drain (SIGTERM) waits for it, up to its deadline, so that it is
 * answered and audited rather than cut off. */
static void arriving_set(struct conn *c, bool on)
{
	if (c->arriving == on || c->w == NULL)
		return;
	c->arriving = on;
	if (on)
		c->w->arriving++;
	else if (c->w->arriving > 0)
		c->w->arriving--;
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	uint64_t timeout_ms = (uint64_t)c->d->cfg->server.request_timeout * 1000;
	uint64_t allowed_ms, elapsed_ms = (mono_ns() - c->req_start_ns) / 1000000;
	bufferevent_event_cb ecb;

	(void)fd;
	(void)what;
	/* evhttp has let the connection go (bufferevent_free clears the
	 * callbacks; c goes when libevent finalizes it, a moment later):
	 * nothing to end, and an event now would revive the bufferevent. */
	bufferevent_getcb(c->guard_bev, NULL, NULL, &ecb, NULL);
	if (ecb == NULL)
		return;
	if (c->cl_over && c->in_flight == 0) {
		/* Over its principal's count and no request to answer 429. */
		if (log_limit_pass(c->w, LOG_OVER_PRINCIPAL))
			log_info("a connection of '%s' is closed: its principal holds "
				 "max_connections_per_principal (%u) already and it sent no request",
				 c->cl_id[0] != '\0' ? c->cl_id : "a certificate outside the access list",
				 c->cl_open);
		arriving_set(c, false);
		bufferevent_trigger_event(c->guard_bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
		return;
	}
	if (c->in_flight > 0) {
		deadline_set(c, timeout_ms);
		return;
	}
	allowed_ms = timeout_ms + c->req_bytes * 1000 / REQUEST_MIN_RATE;
	if (elapsed_ms < allowed_ms) {
		deadline_set(c, allowed_ms - elapsed_ms);
		return;
	}
	if (c->handshaking && log_limit_pass(c->w, LOG_HANDSHAKE))
		log_info("a TLS handshake was not done after request_timeout (%d s): its connection "
			 "is closed",
			 c->d->cfg->server.request_timeout);
	else if (!c->handshaking && log_limit_pass(c->w, LOG_SLOW))
		log_info("a request from '%s' was not whole after request_timeout (%d s): its "
			 "connection is closed",
			 c->cn[0] != '\0' ? c->cn : "-", c->d->cfg->server.request_timeout);
	arriving_set(c, false);
	/* evhttp ends the connection as at its own timeout (c may be gone). */
	bufferevent_trigger_event(c->guard_bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
}

static void deadline_start(struct conn *c)
{
	if (c->guard_deadline == NULL || evtimer_pending(c->guard_deadline, NULL))
		return;
	c->req_start_ns = mono_ns();
	c->req_bytes = 0;
	deadline_set(c, (uint64_t)c->d->cfg->server.request_timeout * 1000);
	if (!c->handshaking)
		arriving_set(c, true);
}

/* What an over-count connection has to send its first request in (it is
 * then answered 429 and closed) before it is closed without a word. */
#define CUT_SOON_MS 1000

void guard_cut_soon(struct conn *c)
{
	if (c->guard_deadline == NULL)
		return;
	evtimer_del(c->guard_deadline);
	deadline_set(c, CUT_SOON_MS);
}

void guard_handshake_done(struct conn *c)
{
	/* Only the first time: OpenSSL says so again after post-handshake
	 * messages (TLS 1.3 session tickets), perhaps with a request under
	 * way whose clock must go on. */
	if (!c->handshaking)
		return;
	c->handshaking = false;
	conn_handshake_unlist(c);
	if (c->guard_deadline != NULL)
		evtimer_del(c->guard_deadline);
}

void guard_request_in(struct conn *c)
{
	if (c->guard_deadline != NULL)
		evtimer_del(c->guard_deadline);
	arriving_set(c, false);
	c->in_flight++;
}

/*
 * While evhttp 2.1 writes an answer it keeps reading the connection (to
 * see a close) and keeps all that arrives: a client that sends request
 * after request and reads no answer would fill the daemon's memory.  So
 * from the answer until its last byte has left, the connection is not
 * read past CONN_INPUT_MAX unread bytes.  Not at other times: evhttp
 * leaves a body in this buffer until all of it has come.
 */
static void answer_hold(struct conn *c, bool on)
{
	if (c->answer_hold == on || c->guard_bev == NULL)
		return;
	c->answer_hold = on;
	bufferevent_setwatermark(c->guard_bev, EV_READ, 0, on ? CONN_INPUT_MAX : 0);
}

/*
 * The answers' pace.  evhttp's write timeout is one of inactivity: a
 * client that reads its answers a few hundred bytes at a time kept its
 * connection, with the answer being written and up to CONN_INPUT_MAX of
 * requests behind it, for as long as the kernel woke the writer now and
 * then; and when evhttp did close it, the kernel went on sending the
 * megabytes the socket held at the client's pace (2,000 pipelined
 * /metrics read at 2 KB/s: some 80 minutes).  So each period of
 * request_timeout seconds while answers wait for the client (in the
 * bufferevent, or unread in the socket), a client that has more waiting
 * than request_timeout seconds at ANSWER_MIN_RATE (64 kbit/s) would take
 * must have taken at least that rate over the period, as Apache's
 * mod_reqtimeout asks of a request's body.  A client that reads that fast
 * is never cut off, however large the answer (an audit page over a slow
 * link), nor is one with less waiting (an answer in flight when the
 * period ends); one that is behind and slower gets a reset (what the
 * socket still holds for it is dropped, not sent at its pace) and its
 * connection ends as at evhttp's write timeout.  A period begins when
 * answers begin to wait for a client that had taken all the earlier ones,
 * and again, whole, when one ends with the router still making an answer
 * of the connection's (in_flight): that time is not the client's.
 */
#define ANSWER_MIN_RATE 8192 /* bytes a second */

/* Bytes of answers in the socket that the client has not taken yet. */
static size_t socket_unsent(const struct conn *c)
{
	int fd = (int)bufferevent_getfd(c->guard_bev), n = 0;

	if (fd < 0 || ioctl(fd, SIOCOUTQ, &n) != 0 || n < 0)
		return 0;
	return (size_t)n;
}

/* A new period from now, the client having `unsent` bytes not taken. */
static void out_period(struct conn *c, size_t unsent)
{
	uint64_t ms = (uint64_t)c->d->cfg->server.request_timeout * 1000;
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	c->out_start_ns = mono_ns();
	c->out_base = c->out_total > unsent ? c->out_total - unsent : 0;
	evtimer_add(c->out_deadline, &tv);
}

static void out_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	uint64_t timeout_ms = (uint64_t)c->d->cfg->server.request_timeout * 1000;
	uint64_t elapsed_ms = (mono_ns() - c->out_start_ns) / 1000000, taken;
	size_t unsent, waiting;
	bufferevent_event_cb ecb;
	struct linger l = { 1, 0 };
	evutil_socket_t sock;

	(void)fd;
	(void)what;
	bufferevent_getcb(c->guard_bev, NULL, NULL, &ecb, NULL);
	unsent = socket_unsent(c);
	if (ecb == NULL || (evbuffer_get_length(c->guard_output) == 0 && unsent == 0))
		return; /* gone, or the client has every answer */
	if (c->in_flight > 0) {
		out_period(c, unsent);
		return;
	}
	taken = c->out_total > unsent ? c->out_total - unsent : 0;
	taken = taken > c->out_base ? taken - c->out_base : 0;
	waiting = evbuffer_get_length(c->guard_output) + unsent;
	if ((uint64_t)waiting * 1000 <= timeout_ms * ANSWER_MIN_RATE ||
	    taken * 1000 >= elapsed_ms * ANSWER_MIN_RATE) {
		out_period(c, unsent);
		return;
	}
	if (log_limit_pass(c->w, LOG_SLOW_READER))
		log_info("'%s' took its answers slower than %d bytes a second (%" PRIu64 " bytes in "
			 "%" PRIu64 " ms, %zu waiting): its connection is reset",
			 c->cn[0] != '\0' ? c->cn : "-", ANSWER_MIN_RATE, taken, elapsed_ms, waiting);
	if ((sock = bufferevent_getfd(c->guard_bev)) >= 0)
		(void)setsockopt((int)sock, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	/* evhttp ends the connection as at its own write timeout. */
	bufferevent_trigger_event(c->guard_bev, BEV_EVENT_WRITING | BEV_EVENT_TIMEOUT, 0);
}

static void answer_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;
	size_t left = evbuffer_get_length(buf);

	if (info->n_deleted > 0 && c->answer_hold && left == 0)
		answer_hold(c, false);
	if (c->out_deadline == NULL)
		return;
	c->out_total += info->n_deleted;
	/* Answers begin to wait: a new period, unless the client is still
	 * behind with earlier ones (then the period it is in goes on). */
	if (info->n_added > 0 && left == info->n_added) {
		size_t unsent = socket_unsent(c);

		if (unsent == 0 || !evtimer_pending(c->out_deadline, NULL))
			out_period(c, unsent);
	}
}

void guard_request_out(struct conn *c)
{
	answer_hold(c, true);
	if (c->in_flight > 0)
		c->in_flight--;
	/* A request that came in while this one was answered gets its whole
	 * time from now. */
	if (c->in_flight == 0 && c->guard_deadline != NULL && evtimer_pending(c->guard_deadline, NULL)) {
		c->req_start_ns = mono_ns();
		deadline_set(c, (uint64_t)c->d->cfg->server.request_timeout * 1000);
	}
}

static void guard_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	if (info->n_added > 0 && !c->guard_busy) {
		deadline_start(c);
		c->req_bytes += info->n_added;
	}
	if (c->guard_busy || c->guard_state == GUARD_PASS)
		return;
	if (c->guard_state == GUARD_CHUNKED) {
		if (info->n_added > 0) {
			chunked_more(c, buf);
			if (c->guard_state == GUARD_HEAD || c->guard_state == GUARD_BODY)
				guard_head(c, buf);
		}
		return;
	}
	if (info->n_deleted > 0) {
		/* evhttp read from the front: our offsets move with it. */
		size_t *at = c->guard_state == GUARD_BODY ? &c->guard_body_end : &c->guard_scan;

		if (info->n_deleted > *at) {
			guard_stop(c, buf); /* it read what we had not looked at */
			return;
		}
		*at -= info->n_deleted;
	}
	guard_head(c, buf);
}

int guard_attach(struct bufferevent *tls_bev, struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(tls_bev);

	c->guard_state = GUARD_HEAD;
	c->guard_bev = tls_bev;
	c->guard_deadline = evtimer_new(bufferevent_get_base(tls_bev), deadline_cb, c);
	c->out_deadline = evtimer_new(bufferevent_get_base(tls_bev), out_deadline_cb, c);
	c->handshaking = true;
	deadline_start(c);
	c->guard_input = in;
	c->guard_output = bufferevent_get_output(tls_bev);
	c->guard_out_entry = evbuffer_add_cb(c->guard_output, answer_out_cb, c);
	c->guard_entry = evbuffer_add_cb(in, guard_cb, c);
	if (c->guard_entry == NULL) {
		c->guard_state = GUARD_PASS;
		c->guard_input = NULL;
		return -1;
	}
	return 0;
}

void guard_detach(struct conn *c)
{
	arriving_set(c, false);
	chunked_release(c);
	if (c->guard_deadline != NULL)
		event_free(c->guard_deadline);
	c->guard_deadline = NULL;
	if (c->out_deadline != NULL)
		event_free(c->out_deadline);
	c->out_deadline = NULL;
	if (c->guard_entry != NULL && c->guard_input != NULL)
		evbuffer_remove_cb_entry(c->guard_input, c->guard_entry);
	c->guard_entry = NULL;
	c->guard_input = NULL;
	if (c->guard_out_entry != NULL && c->guard_output != NULL)
		evbuffer_remove_cb_entry(c->guard_output, c->guard_out_entry);
	c->guard_out_entry = NULL;
	c->guard_output = NULL;
}
