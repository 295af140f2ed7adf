/*
 * guard.c - reads each request's header block before evhttp does, so that
 * a body declared larger than its path allows (max_body, or max_bulk_body
 * for the bulk import) is refused before it is sent: evhttp 2.1 has one
 * body limit for every path and no hook between the headers and the body
 * (with its own limit it either sends "100 Continue" or waits for the whole
 * declared body before answering).
 *
 * It watches the TLS bufferevent's input buffer (an evbuffer callback, so
 * it runs as bytes arrive, before evhttp's read callback, and as evhttp
 * consumes them), follows the requests' framing by Content-Length, and
 * while a header block at the front of the buffer is incomplete it
 * freezes the front so that evhttp waits for it whole.  A request whose
 * declared body is too large has its header block replaced by the same
 * headers with "Content-Length: 0", without "Expect" (no "100 Continue"
 * invites the body) and with X-Disclosured-Declared-Length; the router
 * answers 413 in the contract's shape and closes.  Anything it cannot
 * follow (Transfer-Encoding, two lengths, a pipelined header block behind
 * an unread body) it leaves to evhttp and the router for the rest of the
 * connection.
 *
 * Never: change the bytes of a request within its limits (a marker header
 * a client sent itself is dropped, nothing else); hold back more than one
 * header block.
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
	size_t end;   /* bytes of the block, blank line included */
	size_t line1; /* bytes of the request line, without its end */
	int n_cl, n_te;
	bool cl_bad, marker;
	uint64_t cl;
};

/* Reads the header block at the start of b[0, n): false if incomplete. */
static bool head_scan(const char *b, size_t n, struct head_scan *hs)
{
	size_t start = 0;

	memset(hs, 0, sizeof(*hs));
	for (;;) {
		const char *nl = memchr(b + start, '\n', n - start);
		size_t le, len;

		if (nl == NULL)
			return false;
		le = (size_t)(nl - b);
		len = le - start;
		if (len > 0 && b[le - 1] == '\r')
			len--;
		if (start == 0)
			hs->line1 = len;
		if (len == 0 && start > 0) {
			hs->end = le + 1;
			return true;
		}
		if (start > 0) {
			const char *line = b + start, *v;
			size_t vlen;

			if (name_is(line, len, "Content-Length")) {
				hs->n_cl++;
				header_value(line, len, &v, &vlen);
				if (!parse_length(v, vlen, &hs->cl))
					hs->cl_bad = true;
			} else if (name_is(line, len, "Transfer-Encoding")) {
				hs->n_te++;
			} else if (name_is(line, len, DECLARED_LENGTH_HEADER)) {
				hs->marker = true;
			}
		}
		start = le + 1;
	}
}

/* The block again without any marker of the client's own; if declared is
 * not 0, also without Content-Length and Expect, and with Content-Length: 0
 * and the marker.  Returns a malloc'd block, its length in *out_len. */
static char *head_rewrite(const char *b, const struct head_scan *hs, uint64_t declared,
			  size_t *out_len)
{
	size_t cap = hs->end + 128, n = 0, start = 0;
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
		drop = start > 0 && (name_is(line, len, DECLARED_LENGTH_HEADER) ||
				     (declared > 0 && (name_is(line, len, "Content-Length") ||
						       name_is(line, len, "Expect"))));
		if (!drop) {
			memcpy(out + n, line, len);
			memcpy(out + n + len, "\r\n", 2);
			n += len + 2;
		}
		start = le + 1;
	}
	if (declared > 0)
		r = snprintf(out + n, cap - n, "%s: %llu\r\nContent-Length: 0\r\n\r\n",
			     DECLARED_LENGTH_HEADER, (unsigned long long)declared);
	else
		r = snprintf(out + n, cap - n, "\r\n");
	if (r < 0 || (size_t)r >= cap - n) {
		free(out);
		return NULL;
	}
	*out_len = n + (size_t)r;
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

/* Replaces the block at the front of buf; the connection ends after the
 * answer when declared is not 0. */
static bool guard_replace_front(struct conn *c, struct evbuffer *buf, const char *b,
				const struct head_scan *hs, uint64_t declared, size_t *new_len)
{
	char *nb = head_rewrite(b, hs, declared, new_len);
	bool ok;

	if (nb == NULL)
		return false;
	c->guard_busy = true; /* our own changes are not evhttp's reads */
	ok = evbuffer_drain(buf, hs->end) == 0 && evbuffer_prepend(buf, nb, *new_len) == 0;
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
		if (hs.n_te > 0 || hs.n_cl > 1 || hs.cl_bad) {
			guard_stop(c, buf); /* the router refuses smuggling */
			return;
		}
		limit = target_is_bulk(b, hs.line1) ? cfg->server.max_bulk_body
						    : cfg->server.max_body;
		if ((hs.n_cl == 1 && hs.cl > limit) || hs.marker) {
			bool too_big = hs.n_cl == 1 && hs.cl > limit;

			guard_freeze(c, buf, false);
			if (c->guard_scan != 0 ||
			    !guard_replace_front(c, buf, b, &hs, too_big ? hs.cl : 0, &new_len)) {
				guard_stop(c, buf);
				return;
			}
			if (too_big) {
				guard_stop(c, buf); /* answered 413, then closed */
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
