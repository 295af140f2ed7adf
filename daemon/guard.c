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
 *     max_bulk_body for the bulk import): the same headers with
 *     "Content-Length: 0", without "Expect" (no "100 Continue" invites the
 *     body) and with DECLARED_LENGTH_HEADER; the body is never read;
 *   - a head that is not HTTP/1.x (request line, version, header lines,
 *     folding, NUL): a GET with BAD_REQUEST_HEADER saying why;
 *   - a well-formed method evhttp does not know, or CONNECT (which evhttp
 *     would take for a tunnel): GET with METHOD_HEADER;
 * and the router answers 413, 400 (and closes) or 405/404 in the
 * contract's shape.  Anything it cannot follow (Transfer-Encoding, two
 * lengths, a head behind an unread body) it leaves to evhttp and the
 * router for the rest of the connection.
 *
 * Never: change the bytes of a well-formed request within its limits (a
 * marker header a client sent itself is dropped, nothing else); hold back
 * more than one head.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "disclosure/log.h"
#include "disclosured.h"

#define GUARD_HEAD_MAX (MAX_HEADERS_SIZE + 4096) /* past this, evhttp refuses it */
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
	uint64_t cl;
	const char *bad; /* why the block is not HTTP evhttp should see, or NULL */
	bool unknown_method; /* a well-formed method evhttp does not know */
	size_t method_len;
};

static bool tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
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
	vlen = len - (size_t)(sp2 + 1 - l);
	if (vlen != 8 || (memcmp(sp2 + 1, "HTTP/1.1", 8) != 0 && memcmp(sp2 + 1, "HTTP/1.0", 8) != 0))
		return "an HTTP version other than HTTP/1.1 or HTTP/1.0";
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
		} else if (len == 0) {
			hs->end = le + 1;
			return true;
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
			} else if (len > sizeof(MARKER_PREFIX) - 1 &&
				   strncasecmp(line, MARKER_PREFIX, sizeof(MARKER_PREFIX) - 1) == 0) {
				hs->marker = true;
			}
		}
		start = le + 1;
	}
}

/*
 * The block as evhttp should see it: without any marker header of the
 * client's own; with an unknown method replaced by GET and named in
 * METHOD_HEADER (the router answers 405 or 404 for it); if declared is not
 * 0, without Content-Length and Expect and with Content-Length: 0 and
 * DECLARED_LENGTH_HEADER.  Returns a malloc'd block, its length in *out_len.
 */
static char *head_rewrite(const char *b, const struct head_scan *hs, uint64_t declared,
			  size_t *out_len)
{
	size_t cap = hs->end + 256, n = 0, start = 0;
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
				     (declared > 0 && (name_is(line, len, "Content-Length") ||
						       name_is(line, len, "Expect"))));
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
	if (declared > 0)
		r = snprintf(out + n, cap - n, "%s: %llu\r\nContent-Length: 0\r\n\r\n",
			     DECLARED_LENGTH_HEADER, (unsigned long long)declared);
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

/* A head evhttp would refuse with its own page becomes a request the
 * router answers 400 in the contract's shape (and closes). */
static char *head_bad(const char *why, size_t *out_len)
{
	char *out = malloc(256);
	int r;

	if (out == NULL)
		return NULL;
	r = snprintf(out, 256, "GET / HTTP/1.1\r\n%s: %s\r\nContent-Length: 0\r\n\r\n",
		     BAD_REQUEST_HEADER, why);
	if (r < 0 || r >= 256) {
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
		if (evbuffer_ptr_set(buf, &ptr, c->guard_scan, EVBUFFER_PTR_SET) != 0 ||
		    (got = evbuffer_copyout_from(buf, &ptr, b, n)) < 0 || (size_t)got != n) {
			guard_stop(c, buf);
			return;
		}
		if (b[0] == '\n' || (n >= 2 && b[0] == '\r' && b[1] == '\n')) {
			/* A blank line before a request (RFC 9112 2.2: ignore it). */
			if (c->guard_scan != 0) {
				guard_stop(c, buf);
				return;
			}
			guard_freeze(c, buf, false);
			c->guard_busy = true;
			evbuffer_drain(buf, b[0] == '\n' ? 1 : 2);
			c->guard_busy = false;
			len = evbuffer_get_length(buf);
			continue;
		}
		if (!head_scan(b, n, &hs)) {
			if (n >= sizeof(b)) {
				guard_stop(c, buf); /* too long: evhttp refuses it */
				return;
			}
			/* Only a block at the front can be held back; one behind
			 * an unread body is held once evhttp has read up to it. */
			guard_freeze(c, buf, c->guard_scan == 0);
			return;
		}
		if (hs.bad != NULL) {
			if (c->guard_scan == 0) {
				char *nb = head_bad(hs.bad, &new_len);
				(void)guard_replace_front(c, buf, hs.end, nb, new_len);
			}
			guard_stop(c, buf); /* answered 400, then closed */
			return;
		}
		if (hs.n_te > 0 || hs.n_cl > 1 || hs.cl_bad) {
			guard_stop(c, buf); /* the router refuses smuggling */
			return;
		}
		limit = target_is_bulk(b, hs.line1) ? cfg->server.max_bulk_body
						    : cfg->server.max_body;
		too_big = hs.n_cl == 1 && hs.cl > limit;
		if (too_big || hs.marker || hs.unknown_method) {
			char *nb;

			if (c->guard_scan != 0) {
				guard_stop(c, buf);
				return;
			}
			nb = head_rewrite(b, &hs, too_big ? hs.cl : 0, &new_len);
			if (!guard_replace_front(c, buf, hs.end, nb, new_len) || too_big) {
				guard_stop(c, buf); /* 413 (or trouble), then closed */
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

static void guard_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	if (c->guard_busy || c->guard_state == GUARD_PASS)
		return;
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
	c->guard_input = in;
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
	if (c->guard_entry != NULL && c->guard_input != NULL)
		evbuffer_remove_cb_entry(c->guard_input, c->guard_entry);
	c->guard_entry = NULL;
	c->guard_input = NULL;
}
