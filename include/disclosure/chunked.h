/*
 * chunked.h - an incremental decoder of HTTP/1.1 chunked request bodies
 * (RFC 9112 section 7.1), with a limit on the decoded size.
 *
 * The daemon's request guard (daemon/guard.c) decodes a chunked body
 * itself, as it arrives, and hands evhttp the request with a
 * Content-Length instead: evhttp 2.1 would hold any chunked body up to the
 * largest limit of any path, and answer one over it, or one it cannot
 * frame, with its own HTML page and no audit entry.
 *
 * What it takes: chunk sizes of 1-15 hexadecimal digits; chunk extensions
 * (";name=value", bounded by CHUNKED_LINE_MAX, otherwise ignored); white
 * space before the end of a chunk-size line; lines ended by CRLF or by a
 * bare LF; a trailer section of "name: value" lines (at most
 * CHUNKED_TRAILER_MAX bytes in all), which it reads and drops.  What it
 * refuses: anything else, with a reason a person can read.
 *
 * Never: read past the end of the body (the bytes after it belong to the
 * next request), hand on a byte that is not the body's, or let the body
 * pass its limit.  It allocates nothing and knows nothing of sockets.
 */
#ifndef DISCLOSURE_CHUNKED_H
#define DISCLOSURE_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHUNKED_LINE_MAX 1024    /* a chunk-size line, extensions and all */
#define CHUNKED_TRAILER_MAX 8192 /* the trailer section, its lines together */
#define CHUNKED_SIZE_DIGITS 15   /* hexadecimal digits of one chunk size */

enum chunked_status {
	CHUNKED_MORE = 0, /* the body goes on: feed the next bytes */
	CHUNKED_DONE,     /* the body and its trailer section have ended */
	CHUNKED_TOO_BIG,  /* a chunk would take the body past the limit */
	CHUNKED_BAD,      /* not chunked framing: why says what is wrong */
	CHUNKED_ABORTED,  /* the data callback refused the bytes it was given */
};

struct chunked {
	int phase;          /* where in the framing the next byte falls */
	uint64_t limit;     /* the most decoded bytes taken */
	uint64_t total;     /* decoded bytes so far */
	uint64_t size;      /* the chunk size being read, or the one being copied */
	uint64_t left;      /* bytes of the current chunk still to come */
	uint64_t announced; /* TOO_BIG: total plus the size of the chunk refused */
	size_t line_len;    /* bytes of the current chunk-size or trailer line */
	size_t digits;      /* hexadecimal digits of the current chunk size */
	size_t trailer_len; /* bytes of the trailer section so far */
	const char *why;    /* BAD: why, in words (a static string) */
	enum chunked_status status;
};

/* Gets ck ready for a body of at most limit decoded bytes. */
void chunked_init(struct chunked *ck, uint64_t limit);

/*
 * Reads p[0, n).  Each run of the body's bytes found is passed to
 * data(arg, bytes, len) in order (runs of at least one byte; the
 * callback returns false to stop: CHUNKED_ABORTED).  *used is set to the
 * bytes of p read: all of them while the status stays CHUNKED_MORE; with
 * CHUNKED_DONE, those up to and including the end of the trailer section
 * (what follows is not the body's); with the other statuses, those before
 * the byte that stopped it.  Once the status is not CHUNKED_MORE, further
 * calls read nothing and return it again.
 */
enum chunked_status chunked_feed(struct chunked *ck, const char *p, size_t n, size_t *used,
				 bool (*data)(void *arg, const char *bytes, size_t len), void *arg);

#endif
