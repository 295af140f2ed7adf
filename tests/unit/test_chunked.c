/*
 * test_chunked.c - the chunked-body decoder (lib/chunked.c) against its
 * header, include/disclosure/chunked.h, which is its specification.
 *
 * Every case in the tables is decoded many ways: the whole input in one
 * call, byte by byte, cut in two at every point (three for short inputs),
 * and in random pieces; every way must give the same status, the same
 * body and, when the body ends, the same count of bytes read.  The feeding
 * loop itself checks what must hold on every call: all bytes read while
 * the body goes on, none after it ends, never a byte past the limit handed
 * on, never an empty run.  Valid cases are decoded again with the next
 * pipelined request behind them, which must be left unread.  Last, a
 * reference decoder written here (simple, whole buffer at once) must agree
 * with the decoder on a few thousand generated valid encodings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "disclosure/chunked.h"

/* The next request on the same connection: never the body's. */
static const char next_request[] = "GET /v1/health HTTP/1.1\r\nHost: disclosure.test\r\n\r\n";

/* ---- feeding, and what every call must respect ---- */

/* Where the callback puts the body, and what it saw. */
struct sink {
	char *buf;
	size_t cap, len;
	uint64_t limit;
	size_t calls;
	size_t refuse_call; /* refuse the run of this call (1-based); 0: never */
	char fault[200];
};

static void note_fault(char *fault, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (fault[0] != '\0')
		return; /* the first fault is the one worth reading */
	va_start(ap, fmt);
	vsnprintf(fault, cap, fmt, ap);
	va_end(ap);
}

static bool sink_take(void *arg, const char *bytes, size_t len)
{
	struct sink *s = arg;

	s->calls++;
	if (len == 0)
		note_fault(s->fault, sizeof(s->fault), "the callback was handed an empty run");
	if (len > s->limit || s->len > s->limit - len)
		note_fault(s->fault, sizeof(s->fault),
			   "the callback was handed bytes past the limit (%zu + %zu > %llu)", s->len, len,
			   (unsigned long long)s->limit);
	if (s->refuse_call != 0 && s->calls == s->refuse_call)
		return false;
	if (len > s->cap - s->len) {
		note_fault(s->fault, sizeof(s->fault), "more body than input (%zu + %zu > %zu)", s->len,
			   len, s->cap);
		return false;
	}
	memcpy(s->buf + s->len, bytes, len);
	s->len += len;
	return true;
}

/* What one way of feeding an input gave. */
struct outcome {
	enum chunked_status status;
	size_t used; /* bytes read over all calls */
	char *body;  /* owned; body_len bytes */
	size_t body_len;
	const char *why;
	uint64_t announced;
	char fault[200]; /* a broken rule seen while feeding, or empty */
};

static void outcome_free(struct outcome *o)
{
	free(o->body);
	o->body = NULL;
}

/* How long the next piece is: given the offset and the bytes left (> 0). */
struct splitter {
	size_t (*next)(struct splitter *sp, size_t at, size_t left);
	size_t cut1, cut2; /* cut_at */
	uint64_t rng;      /* random_pieces */
	size_t max_piece;  /* random_pieces */
};

static size_t whole(struct splitter *sp, size_t at, size_t left)
{
	(void)sp;
	(void)at;
	return left;
}

static size_t byte_by_byte(struct splitter *sp, size_t at, size_t left)
{
	(void)sp;
	(void)at;
	(void)left;
	return 1;
}

static size_t cut_at(struct splitter *sp, size_t at, size_t left)
{
	if (at < sp->cut1)
		return sp->cut1 - at;
	if (at < sp->cut2)
		return sp->cut2 - at;
	return left;
}

static uint64_t rng_next(uint64_t *x)
{
	/* xorshift64*: small, fast, reproducible from the seed printed */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ull;
}

static size_t random_pieces(struct splitter *sp, size_t at, size_t left)
{
	(void)at;
	(void)left;
	/* Sometimes an empty feed: it must read nothing and change nothing. */
	return (size_t)(rng_next(&sp->rng) % (sp->max_piece + 1));
}

/*
 * Feeds in[0, n) in the pieces sp chooses, with refuse_call passed to the
 * sink, and checks the rules of every call on the way.  After the status
 * leaves CHUNKED_MORE the remaining pieces are fed anyway, and then a
 * whole new body: they must all be refused unread.
 */
static void decode_with(const char *in, size_t n, uint64_t limit, struct splitter *sp, size_t refuse_call,
			struct outcome *o)
{
	struct chunked ck;
	struct sink s;
	/* Each piece is copied to the very end of scratch: a read past the
	 * piece's end is a read past the allocation, which the sanitizers
	 * see, not a read of the next piece's bytes. */
	size_t scratch_len = n + 32;
	char *scratch = malloc(scratch_len);
	size_t at = 0;
	bool ended = false;

	assert_non_null(scratch);
	memset(o, 0, sizeof(*o));
	memset(&s, 0, sizeof(s));
	s.buf = malloc(n + 1);
	assert_non_null(s.buf);
	s.cap = n;
	s.limit = limit;
	s.refuse_call = refuse_call;
	o->status = CHUNKED_MORE;
	chunked_init(&ck, limit);

	for (int extra = 0; extra < 2;) {
		const char *p;
		size_t len, used = 12345, calls = s.calls;
		enum chunked_status st;

		if (at < n) {
			len = sp->next(sp, at, n - at);
			if (len > n - at)
				len = n - at;
			p = in + at;
		} else if (ended) {
			/* After the end: one empty feed, one whole body. */
			p = "5\r\nhello\r\n0\r\n\r\n";
			len = extra == 0 ? 0 : strlen(p);
			extra++;
		} else {
			break;
		}
		memmove(scratch + scratch_len - len, p, len);
		st = chunked_feed(&ck, scratch + scratch_len - len, len, &used, sink_take, &s);
		if (used > len)
			note_fault(o->fault, sizeof(o->fault), "read %zu bytes of a piece of %zu at offset %zu",
				   used, len, at);
		if (ended) {
			if (st != o->status)
				note_fault(o->fault, sizeof(o->fault),
					   "status %d became %d on a later feed at offset %zu", (int)o->status,
					   (int)st, at);
			if (used != 0)
				note_fault(o->fault, sizeof(o->fault),
					   "read %zu bytes at offset %zu after the status was final", used, at);
			if (s.calls != calls)
				note_fault(o->fault, sizeof(o->fault),
					   "handed on bytes at offset %zu after the status was final", at);
		} else {
			if (used <= len)
				o->used += used;
			o->status = st;
			if (st == CHUNKED_MORE) {
				if (used != len)
					note_fault(o->fault, sizeof(o->fault),
						   "read %zu of %zu bytes at offset %zu while the body goes on",
						   used, len, at);
			} else {
				ended = true;
				o->why = ck.why;
				o->announced = ck.announced;
			}
		}
		if (at < n)
			at += len;
	}
	free(scratch);
	if (s.fault[0] != '\0')
		note_fault(o->fault, sizeof(o->fault), "%s", s.fault);
	o->body = s.buf;
	o->body_len = s.len;
}

static const char *status_name(enum chunked_status st)
{
	switch (st) {
	case CHUNKED_MORE:
		return "MORE";
	case CHUNKED_DONE:
		return "DONE";
	case CHUNKED_TOO_BIG:
		return "TOO_BIG";
	case CHUNKED_BAD:
		return "BAD";
	case CHUNKED_ABORTED:
		return "ABORTED";
	}
	return "(not a status)";
}

/*
 * Whether b agrees with a (a the way taken as the answer): the status,
 * the body, the why of a refusal, the announced size of a body too big,
 * and the bytes read unless the framing was refused (how far a refused
 * input was read is not specified).  Writes the difference into diff.
 */
static bool same_outcome(const struct outcome *a, const struct outcome *b, char *diff, size_t cap)
{
	if (b->fault[0] != '\0') {
		snprintf(diff, cap, "%s", b->fault);
		return false;
	}
	if (a->status != b->status) {
		snprintf(diff, cap, "status %s, not %s", status_name(b->status), status_name(a->status));
		return false;
	}
	if (a->body_len != b->body_len || memcmp(a->body, b->body, a->body_len) != 0) {
		snprintf(diff, cap, "a body of %zu bytes, not the %zu expected (or different bytes)",
			 b->body_len, a->body_len);
		return false;
	}
	if ((a->status == CHUNKED_DONE || a->status == CHUNKED_MORE) && a->used != b->used) {
		snprintf(diff, cap, "read %zu bytes, not %zu", b->used, a->used);
		return false;
	}
	if (a->status == CHUNKED_BAD && (a->why == NULL || b->why == NULL || strcmp(a->why, b->why) != 0)) {
		snprintf(diff, cap, "why \"%s\", not \"%s\"", b->why ? b->why : "(null)",
			 a->why ? a->why : "(null)");
		return false;
	}
	if (a->status == CHUNKED_TOO_BIG && a->announced != b->announced) {
		snprintf(diff, cap, "announced %llu, not %llu", (unsigned long long)b->announced,
			 (unsigned long long)a->announced);
		return false;
	}
	return true;
}

/* Fails the test, naming the case and the way it was fed. */
static void expect_same(const char *name, const char *way, const struct outcome *a, const struct outcome *b)
{
	char diff[300];

	if (!same_outcome(a, b, diff, sizeof(diff))) {
		print_error("%s, fed %s: %s\n", name, way, diff);
		fail();
	}
}

/*
 * Decodes in[0, n) every way and fails unless every way agrees with the
 * whole-input call; returns that call's outcome (the caller frees it).
 */
static void decode_every_way(const char *name, const char *in, size_t n, uint64_t limit, struct outcome *first)
{
	struct splitter sp = {.next = whole};
	struct outcome o;
	char way[80];

	decode_with(in, n, limit, &sp, 0, first);
	if (first->fault[0] != '\0') {
		print_error("%s, fed whole: %s\n", name, first->fault);
		fail();
	}

	sp.next = byte_by_byte;
	decode_with(in, n, limit, &sp, 0, &o);
	expect_same(name, "byte by byte", first, &o);
	outcome_free(&o);

	/* Every cut point for inputs that are not long, a sample otherwise. */
	sp.next = cut_at;
	sp.rng = 0x9e3779b97f4a7c15ull ^ n;
	for (size_t i = 0; i <= n; i++) {
		size_t cut = n <= 2048 ? i : (size_t)(rng_next(&sp.rng) % (n + 1));
		if (n > 2048 && i >= 128)
			break;
		sp.cut1 = sp.cut2 = cut;
		decode_with(in, n, limit, &sp, 0, &o);
		snprintf(way, sizeof(way), "in two at offset %zu", cut);
		expect_same(name, way, first, &o);
		outcome_free(&o);
	}
	if (n <= 48) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = i + 1; j < n; j++) {
				sp.cut1 = i;
				sp.cut2 = j;
				decode_with(in, n, limit, &sp, 0, &o);
				snprintf(way, sizeof(way), "in three at offsets %zu and %zu", i, j);
				expect_same(name, way, first, &o);
				outcome_free(&o);
			}
	}

	sp.next = random_pieces;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		sp.rng = seed * 0x2545f4914f6cdd1dull;
		sp.max_piece = 1 + seed * seed;
		decode_with(in, n, limit, &sp, 0, &o);
		snprintf(way, sizeof(way), "in random pieces (seed %llu)", (unsigned long long)seed);
		expect_same(name, way, first, &o);
		outcome_free(&o);
	}
}

/* ---- the tables ---- */

/* A byte string with its length: the inputs hold NULs and CRs. */
#define BYTES(s) s, sizeof(s) - 1
#define ALL SIZE_MAX /* used: the whole input */
#define NO_LIMIT UINT64_MAX

struct valid_case {
	const char *name;
	const char *in;
	size_t n;
	const char *body;
	size_t body_len;
};

/* Checks one case that must decode to body, every way, with the next
 * request behind it read by none of them. */
static void expect_body(const char *name, const char *in, size_t n, const char *body, size_t body_len)
{
	struct outcome o;
	char *piped;
	char piped_name[200];

	decode_every_way(name, in, n, NO_LIMIT, &o);
	if (o.status != CHUNKED_DONE) {
		print_error("%s: status %s (%s), not DONE\n", name, status_name(o.status),
			    o.why ? o.why : "no reason");
		fail();
	}
	if (o.used != n) {
		print_error("%s: read %zu bytes of %zu\n", name, o.used, n);
		fail();
	}
	if (o.body_len != body_len || memcmp(o.body, body, body_len) != 0) {
		print_error("%s: body \"%.*s\" (%zu bytes), not \"%.*s\"\n", name, (int)o.body_len, o.body,
			    o.body_len, (int)body_len, body);
		fail();
	}
	outcome_free(&o);

	/* The same, with the next pipelined request behind it. */
	piped = malloc(n + sizeof(next_request));
	assert_non_null(piped);
	memcpy(piped, in, n);
	memcpy(piped + n, next_request, sizeof(next_request) - 1);
	snprintf(piped_name, sizeof(piped_name), "%s, with the next request behind it", name);
	decode_every_way(piped_name, piped, n + sizeof(next_request) - 1, NO_LIMIT, &o);
	if (o.status != CHUNKED_DONE || o.used != n || o.body_len != body_len ||
	    memcmp(o.body, body, body_len) != 0) {
		print_error("%s: status %s, read %zu bytes (want DONE and %zu), body of %zu bytes\n",
			    piped_name, status_name(o.status), o.used, n, o.body_len);
		fail();
	}
	outcome_free(&o);
	free(piped);
}

static void test_valid_encodings_decode_to_exactly_the_body(void **state)
{
	static const struct valid_case cases[] = {
		{"a single chunk", BYTES("5\r\nhello\r\n0\r\n\r\n"), BYTES("hello")},
		{"many chunks", BYTES("3\r\nabc\r\n4\r\ndefg\r\n2\r\nhi\r\n0\r\n\r\n"), BYTES("abcdefghi")},
		{"one-byte chunks", BYTES("1\r\na\r\n1\r\nb\r\n1\r\nc\r\n1\r\nd\r\n0\r\n\r\n"), BYTES("abcd")},
		{"a lower-case hexadecimal size", BYTES("a\r\n0123456789\r\n0\r\n\r\n"), BYTES("0123456789")},
		{"an upper-case hexadecimal size", BYTES("A\r\n0123456789\r\n0\r\n\r\n"), BYTES("0123456789")},
		{"a size of mixed case", BYTES("1b\r\nabcdefghijklmnopqrstuvwxyz!\r\n1B\r\nABCDEFGHIJKLMNOPQRSTUVWXYZ!\r\n0\r\n\r\n"),
		 BYTES("abcdefghijklmnopqrstuvwxyz!ABCDEFGHIJKLMNOPQRSTUVWXYZ!")},
		{"leading zeros", BYTES("000a\r\n0123456789\r\n0000\r\n\r\n"), BYTES("0123456789")},
		{"fifteen digits, leading zeros and all", BYTES("000000000000003\r\nabc\r\n0\r\n\r\n"), BYTES("abc")},
		{"chunk extensions", BYTES("5;a=b;c\r\nhello\r\n0;last\r\n\r\n"), BYTES("hello")},
		{"a quoted extension value", BYTES("5;name=\"a quoted; value\"\r\nhello\r\n0\r\n\r\n"), BYTES("hello")},
		{"white space before CRLF", BYTES("5 \r\nhello\r\n3\t\r\nabc\r\n0  \r\n\r\n"), BYTES("helloabc")},
		{"white space after an extension", BYTES("5;a=b \r\nhello\r\n0\r\n\r\n"), BYTES("hello")},
		{"bare LF line ends", BYTES("5\nhello\n3\nabc\n0\n\n"), BYTES("helloabc")},
		{"CRLF and LF mixed", BYTES("5\r\nhello\n3;x\nabc\r\n0\n\r\n"), BYTES("helloabc")},
		{"trailers are read and dropped", BYTES("5\r\nhello\r\n0\r\nExpires: never\r\nX-Trace: abc 1\r\n\r\n"),
		 BYTES("hello")},
		{"a trailer with LF line ends", BYTES("2\nhi\n0\nX-A: b\n\n"), BYTES("hi")},
		{"a trailer with an empty value", BYTES("2\r\nhi\r\n0\r\nX-Empty:\r\n\r\n"), BYTES("hi")},
		{"an empty body", BYTES("0\r\n\r\n"), BYTES("")},
		{"an empty body with bare LFs", BYTES("0\n\n"), BYTES("")},
		{"framing inside the data is data",
		 BYTES("d\r\n0\r\n\r\nX: y\r\n\r\n\r\n0\r\n\r\n"), BYTES("0\r\n\r\nX: y\r\n\r\n")},
		{"NUL and high bytes in the data", BYTES("4\r\n\0\xff\r\x80\r\n0\r\n\r\n"), BYTES("\0\xff\r\x80")},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_body(cases[i].name, cases[i].in, cases[i].n, cases[i].body, cases[i].body_len);
}

static void test_long_lines_within_their_bounds_are_taken(void **state)
{
	/* A chunk-size line of CHUNKED_LINE_MAX bytes with its CRLF. */
	char line[CHUNKED_LINE_MAX + 64];
	char trailer[CHUNKED_TRAILER_MAX + 64];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(line, sizeof(line), "3;x=");
	memset(line + n, 'v', CHUNKED_LINE_MAX - 2 - n);
	n = CHUNKED_LINE_MAX - 2;
	memcpy(line + n, "\r\nabc\r\n0\r\n\r\n", 12);
	n += 12;
	expect_body("a chunk-size line of CHUNKED_LINE_MAX bytes", line, n, BYTES("abc"));

	/* A trailer section of a few lines, CHUNKED_TRAILER_MAX - 64 in all. */
	n = (size_t)snprintf(trailer, sizeof(trailer), "1\r\nz\r\n0\r\n");
	{
		size_t section = 0;
		while (section + 100 <= CHUNKED_TRAILER_MAX - 64) {
			memcpy(trailer + n, "X-Pad: ", 7);
			memset(trailer + n + 7, 'p', 91);
			memcpy(trailer + n + 98, "\r\n", 2);
			n += 100;
			section += 100;
		}
	}
	memcpy(trailer + n, "\r\n", 2);
	n += 2;
	expect_body("a trailer section just under CHUNKED_TRAILER_MAX", trailer, n, BYTES("z"));

	/* One trailer line longer than a chunk-size line may be, well within
	 * the section's bound: the header bounds the section, not its lines. */
	n = (size_t)snprintf(trailer, sizeof(trailer), "1\r\nz\r\n0\r\nX-Long: ");
	memset(trailer + n, 'q', 3000);
	n += 3000;
	memcpy(trailer + n, "\r\n\r\n", 4);
	n += 4;
	expect_body("one trailer line of 3000 bytes", trailer, n, BYTES("z"));
}

/* A case that must end some other way than a body taken whole. */
struct end_case {
	const char *name;
	const char *in;
	size_t n;
	uint64_t limit;
	enum chunked_status status;
	const char *body; /* handed on before the end */
	size_t body_len;
	uint64_t announced; /* TOO_BIG */
};

static void expect_end(const struct end_case *c)
{
	struct outcome o;

	decode_every_way(c->name, c->in, c->n, c->limit, &o);
	if (o.status != c->status) {
		print_error("%s: status %s (%s), not %s\n", c->name, status_name(o.status),
			    o.why ? o.why : "no reason", status_name(c->status));
		fail();
	}
	if (o.body_len != c->body_len || memcmp(o.body, c->body, c->body_len) != 0) {
		print_error("%s: handed on \"%.*s\", not \"%.*s\"\n", c->name, (int)o.body_len, o.body,
			    (int)c->body_len, c->body);
		fail();
	}
	if (c->status == CHUNKED_BAD && (o.why == NULL || o.why[0] == '\0')) {
		print_error("%s: refused without a reason\n", c->name);
		fail();
	}
	if (c->status == CHUNKED_TOO_BIG && o.announced != c->announced) {
		print_error("%s: announced %llu, not %llu\n", c->name, (unsigned long long)o.announced,
			    (unsigned long long)c->announced);
		fail();
	}
	if (c->status == CHUNKED_MORE && o.used != c->n) {
		print_error("%s: read %zu of %zu bytes and wants more\n", c->name, o.used, c->n);
		fail();
	}
	outcome_free(&o);
}

static void test_the_limit(void **state)
{
	static const struct end_case cases[] = {
		{"a body of exactly the limit", BYTES("5\r\nhello\r\n0\r\n\r\n"), 5, CHUNKED_DONE, BYTES("hello"), 0},
		{"one byte over the limit", BYTES("5\r\nhello\r\n0\r\n\r\n"), 4, CHUNKED_TOO_BIG, BYTES(""), 5},
		{"the chunk that passes the limit is not handed on",
		 BYTES("3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"), 5, CHUNKED_TOO_BIG, BYTES("abc"), 6},
		{"two chunks of exactly the limit", BYTES("3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"), 6, CHUNKED_DONE,
		 BYTES("abcdef"), 0},
		{"too big when the size line ends, before any data", BYTES("3\r\nabc\r\n3\r\n"), 5, CHUNKED_TOO_BIG,
		 BYTES("abc"), 6},
		{"too big at a bare LF", BYTES("3\nabc\n3;ext=1\n"), 5, CHUNKED_TOO_BIG, BYTES("abc"), 6},
		{"not yet too big while the size line goes on", BYTES("3\r\nabc\r\n3;ext=1"), 5, CHUNKED_MORE,
		 BYTES("abc"), 0},
		{"not yet too big while more digits may come", BYTES("3\r\nabc\r\n3"), 5, CHUNKED_MORE, BYTES("abc"), 0},
		{"a limit of 0 takes an empty body", BYTES("0\r\n\r\n"), 0, CHUNKED_DONE, BYTES(""), 0},
		{"a limit of 0 refuses one byte", BYTES("1\r\nx\r\n0\r\n\r\n"), 0, CHUNKED_TOO_BIG, BYTES(""), 1},
		{"the largest size waits for its data under a large limit", BYTES("fffffffffffffff\r\nabc"),
		 NO_LIMIT, CHUNKED_MORE, BYTES("abc"), 0},
		{"the largest size after a chunk is too big without wrapping",
		 BYTES("a\r\n0123456789\r\nFFFFFFFFFFFFFFF\r\n"), 1000, CHUNKED_TOO_BIG, BYTES("0123456789"),
		 10ull + 0xfffffffffffffffull},
		{"the largest size against a limit just under it", BYTES("1\r\nx\r\nfffffffffffffff\r\n"),
		 0xfffffffffffffffull, CHUNKED_TOO_BIG, BYTES("x"), 1ull + 0xfffffffffffffffull},
		{"the largest size against a limit just enough", BYTES("1\r\nx\r\nfffffffffffffff\r\nab"),
		 0x1000000000000000ull, CHUNKED_MORE, BYTES("xab"), 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_end(&cases[i]);
}

static void test_a_big_body_at_the_limit_and_one_past_it(void **state)
{
	enum { BODY = 100000 };
	char *in = malloc(BODY + 64), *body = malloc(BODY);
	size_t n;
	struct end_case c;

	(void)state;
	assert_non_null(in);
	assert_non_null(body);
	for (size_t i = 0; i < BODY; i++)
		body[i] = (char)('a' + i % 26);
	/* 60000 + 40000 bytes in two chunks */
	n = (size_t)snprintf(in, 64, "ea60\r\n");
	memcpy(in + n, body, 60000);
	n += 60000;
	n += (size_t)snprintf(in + n, 64, "\r\n9c40\r\n");
	memcpy(in + n, body + 60000, 40000);
	n += 40000;
	memcpy(in + n, "\r\n0\r\n\r\n", 7);
	n += 7;

	c = (struct end_case){"100000 bytes under a limit of 100000", in, n, BODY, CHUNKED_DONE, body, BODY, 0};
	expect_end(&c);
	c = (struct end_case){"100000 bytes under a limit of 99999", in, n, BODY - 1, CHUNKED_TOO_BIG, body,
			      60000, BODY};
	expect_end(&c);
	c = (struct end_case){"100000 bytes under a limit of 59999", in, n, 59999, CHUNKED_TOO_BIG, body, 0, 60000};
	expect_end(&c);
	free(in);
	free(body);
}

static void test_broken_framing_is_refused_with_a_reason(void **state)
{
	static const struct end_case cases[] = {
		{"a size that is not hexadecimal", BYTES("zz\r\nhello\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES(""), 0},
		{"a digit then a letter that is not hexadecimal", BYTES("5g\r\nhello\r\n0\r\n\r\n"), NO_LIMIT,
		 CHUNKED_BAD, BYTES(""), 0},
		{"an empty size line", BYTES("\r\nhello\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES(""), 0},
		{"an empty size line after a chunk", BYTES("3\r\nabc\r\n\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD,
		 BYTES("abc"), 0},
		{"an extension with no size", BYTES(";a=b\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES(""), 0},
		{"a 0x prefix", BYTES("0x10\r\n0123456789abcdef\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES(""), 0},
		{"a plus sign", BYTES("+5\r\nhello\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES(""), 0},
		{"a minus sign", BYTES("-1\r\nx\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES(""), 0},
		{"white space before the size", BYTES(" 5\r\nhello\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES(""), 0},
		{"white space between digits", BYTES("1 0\r\n0123456789abcdef\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD,
		 BYTES(""), 0},
		{"16 hexadecimal digits", BYTES("1000000000000000\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES(""), 0},
		{"16 digits of which the first is a zero", BYTES("0000000000000001\r\nx\r\n0\r\n\r\n"), NO_LIMIT,
		 CHUNKED_BAD, BYTES(""), 0},
		{"17 digits that would wrap a 64-bit size", BYTES("10000000000000005\r\nhello\r\n0\r\n\r\n"), NO_LIMIT,
		 CHUNKED_BAD, BYTES(""), 0},
		{"data not followed by CRLF", BYTES("3\r\nabcX\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES("abc"), 0},
		{"data followed by the next size line", BYTES("3\r\nabc3\r\ndef\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD,
		 BYTES("abc"), 0},
		{"a stray byte between data and the next size line", BYTES("3\r\nabcX1\r\nd\r\n0\r\n\r\n"), NO_LIMIT,
		 CHUNKED_BAD, BYTES("abc"), 0},
		{"data followed by a CR and not LF", BYTES("3\r\nabc\rX\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD,
		 BYTES("abc"), 0},
		{"a size line with a CR and not LF", BYTES("3\rabc\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES(""), 0},
		{"a CR inside an extension", BYTES("3;a\rb\r\nabc\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES(""), 0},
		{"a NUL in an extension", BYTES("3;a\0b\r\nabc\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES(""), 0},
		{"a control byte in an extension", BYTES("3;a=\x01\r\nabc\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD,
		 BYTES(""), 0},
		{"an escape byte in an extension of a later chunk", BYTES("1\r\nq\r\n3;\x1b[0m\r\nabc\r\n0\r\n\r\n"),
		 NO_LIMIT, CHUNKED_BAD, BYTES("q"), 0},
		{"a DEL byte in an extension", BYTES("3;a=\x7f\r\nabc\r\n0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES(""), 0},
		{"a NUL in the last chunk's extension", BYTES("0;\0\r\n\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES(""), 0},
		{"a trailer line without a colon", BYTES("2\r\nhi\r\n0\r\nNoColonHere\r\n\r\n"), NO_LIMIT, CHUNKED_BAD,
		 BYTES("hi"), 0},
		{"a trailer line starting with a space (folding)",
		 BYTES("2\r\nhi\r\n0\r\nX-A: b\r\n folded: c\r\n\r\n"), NO_LIMIT, CHUNKED_BAD, BYTES("hi"), 0},
		{"a trailer line starting with a tab (folding)", BYTES("2\r\nhi\r\n0\r\n\tX-A: b\r\n\r\n"), NO_LIMIT,
		 CHUNKED_BAD, BYTES("hi"), 0},
		{"a trailer line with an empty name", BYTES("2\r\nhi\r\n0\r\n: b\r\n\r\n"), NO_LIMIT, CHUNKED_BAD,
		 BYTES("hi"), 0},
		{"a trailer line with a CR and not LF", BYTES("2\r\nhi\r\n0\r\nX-A: b\rc\r\n\r\n"), NO_LIMIT,
		 CHUNKED_BAD, BYTES("hi"), 0},
		{"the trailer section's end with a CR and not LF", BYTES("2\r\nhi\r\n0\r\n\rX"), NO_LIMIT, CHUNKED_BAD,
		 BYTES("hi"), 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_end(&cases[i]);
}

static void test_lines_over_their_bounds_are_refused_as_they_come(void **state)
{
	char *in = malloc(3 * CHUNKED_TRAILER_MAX);
	size_t n;
	struct end_case c;

	(void)state;
	assert_non_null(in);

	/* A chunk-size line one byte over CHUNKED_LINE_MAX before its end. */
	n = (size_t)snprintf(in, 16, "5;x=");
	memset(in + n, 'v', CHUNKED_LINE_MAX + 1 - n);
	n = CHUNKED_LINE_MAX + 1;
	memcpy(in + n, "\r\nhello\r\n0\r\n\r\n", 14);
	c = (struct end_case){"a chunk-size line over CHUNKED_LINE_MAX", in, n + 14, NO_LIMIT, CHUNKED_BAD,
			      BYTES(""), 0};
	expect_end(&c);
	/* The same line never ended: refused, not waited for forever. */
	memset(in + n, 'v', 2 * CHUNKED_LINE_MAX);
	c = (struct end_case){"a chunk-size line that never ends", in, 3 * CHUNKED_LINE_MAX, NO_LIMIT, CHUNKED_BAD,
			      BYTES(""), 0};
	expect_end(&c);
	/* White space alone can fill a line too. */
	in[0] = '5';
	memset(in + 1, ' ', 2 * CHUNKED_LINE_MAX);
	c = (struct end_case){"a chunk-size line of white space that never ends", in, 2 * CHUNKED_LINE_MAX,
			      NO_LIMIT, CHUNKED_BAD, BYTES(""), 0};
	expect_end(&c);
	/* Leading zeros are digits: they cannot stretch a line without bound. */
	memset(in, '0', 2 * CHUNKED_LINE_MAX);
	c = (struct end_case){"endless leading zeros", in, 2 * CHUNKED_LINE_MAX, NO_LIMIT, CHUNKED_BAD, BYTES(""),
			      0};
	expect_end(&c);

	/* A trailer section over CHUNKED_TRAILER_MAX, in short lines. */
	n = (size_t)snprintf(in, 16, "1\r\nz\r\n0\r\n");
	while (n < CHUNKED_TRAILER_MAX + 200) {
		memcpy(in + n, "X-Pad: ", 7);
		memset(in + n + 7, 'p', 41);
		memcpy(in + n + 48, "\r\n", 2);
		n += 50;
	}
	memcpy(in + n, "\r\n", 2);
	c = (struct end_case){"a trailer section over CHUNKED_TRAILER_MAX", in, n + 2, NO_LIMIT, CHUNKED_BAD,
			      BYTES("z"), 0};
	expect_end(&c);
	/* One trailer line that never ends. */
	n = (size_t)snprintf(in, 32, "1\r\nz\r\n0\r\nX-Endless: ");
	memset(in + n, 'e', 2 * CHUNKED_TRAILER_MAX);
	c = (struct end_case){"a trailer line that never ends", in, n + 2 * CHUNKED_TRAILER_MAX, NO_LIMIT,
			      CHUNKED_BAD, BYTES("z"), 0};
	expect_end(&c);
	free(in);
}

static void test_the_status_is_final(void **state)
{
	static const struct {
		const char *name, *first;
		uint64_t limit;
		enum chunked_status status;
	} cases[] = {
		{"after DONE", "0\r\n\r\n", NO_LIMIT, CHUNKED_DONE},
		{"after TOO_BIG", "9\r\n", 8, CHUNKED_TOO_BIG},
		{"after BAD", "x\r\n", NO_LIMIT, CHUNKED_BAD},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct chunked ck;
		struct sink s = {.buf = NULL, .cap = 0, .limit = NO_LIMIT};
		size_t used = 99;
		const char *why;
		uint64_t announced;

		chunked_init(&ck, cases[i].limit);
		if (chunked_feed(&ck, cases[i].first, strlen(cases[i].first), &used, sink_take, &s) !=
		    cases[i].status) {
			print_error("%s: the first feed did not end with %s\n", cases[i].name,
				    status_name(cases[i].status));
			fail();
		}
		why = ck.why;
		announced = ck.announced;
		for (int again = 0; again < 3; again++) {
			static const char more[] = "5\r\nhello\r\n0\r\n\r\n";
			used = 99;
			if (chunked_feed(&ck, more, again == 0 ? 0 : sizeof(more) - 1, &used, sink_take, &s) !=
				    cases[i].status ||
			    used != 0 || s.calls != 0) {
				print_error("%s, feed %d: status, bytes read (%zu) or bytes handed on changed\n",
					    cases[i].name, again + 2, used);
				fail();
			}
		}
		if (cases[i].status == CHUNKED_BAD && (ck.why != why || why == NULL || why[0] == '\0')) {
			print_error("%s: the reason changed or is empty\n", cases[i].name);
			fail();
		}
		if (cases[i].status == CHUNKED_TOO_BIG && ck.announced != announced) {
			print_error("%s: the announced size changed\n", cases[i].name);
			fail();
		}
	}
}

static void test_a_callback_that_refuses_aborts(void **state)
{
	static const char in[] = "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
	(void)state;
	/* Refusing the first run, fed whole or byte by byte; the second run
	 * byte by byte (the 2nd byte of "abc"). */
	static const struct {
		const char *name;
		bool bytewise;
		size_t refuse_call;
		const char *body;
	} cases[] = {
		{"refusing the first run of a whole input", false, 1, ""},
		{"refusing the first byte fed byte by byte", true, 1, ""},
		{"refusing the fifth byte fed byte by byte", true, 5, "abcd"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct splitter sp = {.next = cases[i].bytewise ? byte_by_byte : whole};
		struct outcome o;

		decode_with(in, sizeof(in) - 1, NO_LIMIT, &sp, cases[i].refuse_call, &o);
		if (o.fault[0] != '\0') {
			print_error("%s: %s\n", cases[i].name, o.fault);
			fail();
		}
		if (o.status != CHUNKED_ABORTED) {
			print_error("%s: status %s, not ABORTED\n", cases[i].name, status_name(o.status));
			fail();
		}
		/* The refused run is not kept by the sink: what came before is. */
		if (o.body_len != strlen(cases[i].body) || memcmp(o.body, cases[i].body, o.body_len) != 0) {
			print_error("%s: kept \"%.*s\", not \"%s\"\n", cases[i].name, (int)o.body_len, o.body,
				    cases[i].body);
			fail();
		}
		outcome_free(&o);
	}
}

/* ---- a reference decoder, and generated encodings ---- */

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The reference: the whole message at once, in the plainest way.  Enough
 * for the encodings generate_encoding() writes (it checks little beyond
 * them); sets the body, the bytes of the message and what was announced.
 */
static enum chunked_status reference_decode(const unsigned char *p, size_t n, uint64_t limit, char *body,
					    size_t *body_len, size_t *used, uint64_t *announced)
{
	size_t i = 0;
	uint64_t total = 0;

	*body_len = 0;
	for (;;) {
		uint64_t size = 0;
		size_t digits = 0;

		while (i < n && hex_value(p[i]) >= 0) {
			size = size * 16 + (uint64_t)hex_value(p[i++]);
			if (++digits > CHUNKED_SIZE_DIGITS)
				return CHUNKED_BAD;
		}
		if (digits == 0)
			return CHUNKED_BAD;
		while (i < n && p[i] != '\n')
			i++; /* extensions and white space: ignored */
		if (i == n)
			return CHUNKED_MORE;
		i++;
		if (size == 0)
			break;
		if (size > limit - total) {
			*announced = total + size;
			return CHUNKED_TOO_BIG;
		}
		if (size > n - i)
			return CHUNKED_MORE;
		memcpy(body + *body_len, p + i, (size_t)size);
		*body_len += (size_t)size;
		total += size;
		i += (size_t)size;
		if (i < n && p[i] == '\r')
			i++;
		if (i == n)
			return CHUNKED_MORE;
		if (p[i++] != '\n')
			return CHUNKED_BAD;
	}
	for (;;) { /* trailer lines, up to an empty one */
		size_t start = i;
		while (i < n && p[i] != '\n')
			i++;
		if (i == n)
			return CHUNKED_MORE;
		i++;
		if (i - start == 1 || (i - start == 2 && p[start] == '\r')) {
			*used = i;
			return CHUNKED_DONE;
		}
		if (memchr(p + start, ':', i - start) == NULL)
			return CHUNKED_BAD;
	}
}

/* A growing buffer for generated encodings (the test's own memory). */
struct text {
	char *p;
	size_t len, cap;
};

static void put(struct text *t, const void *s, size_t n)
{
	if (n > t->cap - t->len) {
		size_t cap = t->cap ? t->cap : 256;
		while (n > cap - t->len)
			cap *= 2;
		t->p = realloc(t->p, cap);
		assert_non_null(t->p);
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

static void puts_(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

static void put_eol(struct text *t, uint64_t *rng)
{
	puts_(t, rng_next(rng) % 3 == 0 ? "\n" : "\r\n");
}

static void put_size_line(struct text *t, uint64_t size, uint64_t *rng)
{
	static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
	char digits[CHUNKED_SIZE_DIGITS + 1];
	size_t nd = 0, zeros;

	do {
		unsigned d = (unsigned)(size % 16);
		digits[nd++] = (rng_next(rng) & 1) ? upper[d] : lower[d];
		size /= 16;
	} while (size != 0);
	zeros = rng_next(rng) % 4 == 0 ? (size_t)(rng_next(rng) % (CHUNKED_SIZE_DIGITS - nd + 1)) : 0;
	while (zeros-- > 0)
		puts_(t, "0");
	while (nd > 0)
		put(t, &digits[--nd], 1);
	for (uint64_t e = rng_next(rng) % 4 == 0 ? 1 + rng_next(rng) % 3 : 0; e > 0; e--) {
		static const char *const ext[] = {";a", ";name=value", ";sig=\"x y;z\"", ";n=1", ";foo-bar=Baz_9"};
		puts_(t, ext[rng_next(rng) % (sizeof(ext) / sizeof(ext[0]))]);
	}
	for (uint64_t w = rng_next(rng) % 5 == 0 ? 1 + rng_next(rng) % 2 : 0; w > 0; w--)
		puts_(t, (rng_next(rng) & 1) ? " " : "\t");
	put_eol(t, rng);
}

/* A valid encoding of a random body into enc, the body into body. */
static void generate_encoding(uint64_t *rng, size_t max_body, size_t max_chunk, struct text *enc, struct text *body)
{
	size_t want = (size_t)(rng_next(rng) % (max_body + 1));

	enc->len = body->len = 0;
	while (body->len < want) {
		size_t size = 1 + (size_t)(rng_next(rng) % max_chunk);
		if (size > want - body->len)
			size = want - body->len;
		put_size_line(enc, size, rng);
		for (size_t i = 0; i < size; i++) {
			/* Bytes of every kind, framing look-alikes among them. */
			uint64_t r = rng_next(rng);
			char c = r % 4 == 0 ? "0\r\n:;"[(r >> 8) % 5] : (char)(r >> 16);
			put(body, &c, 1);
		}
		put(enc, body->p + body->len - size, size);
		put_eol(enc, rng);
	}
	put_size_line(enc, 0, rng);
	for (uint64_t tl = rng_next(rng) % 3 == 0 ? 1 + rng_next(rng) % 3 : 0; tl > 0; tl--) {
		static const char *const trailer[] = {"Expires: Wed, 21 Oct 2026 07:28:00 GMT", "X-Empty:",
						      "X-Digest: sha-256=:abc=:", "x-t:\tv a l"};
		puts_(enc, trailer[rng_next(rng) % (sizeof(trailer) / sizeof(trailer[0]))]);
		put_eol(enc, rng);
	}
	put_eol(enc, rng);
}

/* Generates encodings and checks the decoder against the reference on each. */
static void agree_with_reference(uint64_t seed, int count, size_t max_body, size_t max_chunk, size_t max_piece)
{
	struct text enc = {0}, body = {0};
	uint64_t rng = seed;
	char *ref_body = NULL;
	size_t ref_cap = 0;

	for (int k = 0; k < count; k++) {
		struct outcome want, o;
		struct splitter sp;
		size_t message_len;
		uint64_t limit;
		char name[120], way[80];

		generate_encoding(&rng, max_body, max_chunk, &enc, &body);
		message_len = enc.len;
		switch (rng_next(&rng) % 6) { /* a limit around the body's size */
		case 0:
			limit = NO_LIMIT;
			break;
		case 1:
			limit = body.len;
			break;
		case 2:
			limit = body.len == 0 ? 0 : body.len - 1;
			break;
		case 3:
			limit = 0;
			break;
		default:
			limit = rng_next(&rng) % (body.len + 2);
			break;
		}
		if (rng_next(&rng) & 1)
			puts_(&enc, next_request);
		if (enc.len > ref_cap) {
			ref_cap = enc.len;
			ref_body = realloc(ref_body, ref_cap);
			assert_non_null(ref_body);
		}
		memset(&want, 0, sizeof(want));
		want.body = ref_body;
		want.status = reference_decode((const unsigned char *)enc.p, enc.len, limit, ref_body, &want.body_len,
					       &want.used, &want.announced);
		snprintf(name, sizeof(name), "generated encoding %d of seed %llu (%zu bytes, limit %llu)", k,
			 (unsigned long long)seed, enc.len, (unsigned long long)limit);
		/* The reference must find what the generator made. */
		if ((want.status != CHUNKED_DONE && want.status != CHUNKED_TOO_BIG) ||
		    (want.status == CHUNKED_DONE && (want.used != message_len || want.body_len != body.len))) {
			print_error("%s: the reference itself read it wrong\n", name);
			fail();
		}

		sp = (struct splitter){.next = whole};
		decode_with(enc.p, enc.len, limit, &sp, 0, &o);
		expect_same(name, "whole", &want, &o);
		outcome_free(&o);
		sp = (struct splitter){.next = random_pieces, .rng = rng_next(&rng) | 1, .max_piece = max_piece};
		decode_with(enc.p, enc.len, limit, &sp, 0, &o);
		snprintf(way, sizeof(way), "in random pieces of up to %zu bytes", max_piece);
		expect_same(name, way, &want, &o);
		outcome_free(&o);
		if (k % 16 == 0 && enc.len < 20000) {
			sp = (struct splitter){.next = byte_by_byte};
			decode_with(enc.p, enc.len, limit, &sp, 0, &o);
			expect_same(name, "byte by byte", &want, &o);
			outcome_free(&o);
		}
	}
	free(enc.p);
	free(body.p);
	free(ref_body);
}

static void test_agrees_with_a_reference_decoder_on_generated_encodings(void **state)
{
	(void)state;
	agree_with_reference(20261129, 3000, 400, 40, 16);  /* short chunks, small pieces */
	agree_with_reference(77, 500, 4000, 700, 300);      /* longer chunks */
	agree_with_reference(31337, 6, 1 << 20, 70000, 100000); /* big bodies in random splits */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_encodings_decode_to_exactly_the_body),
		cmocka_unit_test(test_long_lines_within_their_bounds_are_taken),
		cmocka_unit_test(test_the_limit),
		cmocka_unit_test(test_a_big_body_at_the_limit_and_one_past_it),
		cmocka_unit_test(test_broken_framing_is_refused_with_a_reason),
		cmocka_unit_test(test_lines_over_their_bounds_are_refused_as_they_come),
		cmocka_unit_test(test_the_status_is_final),
		cmocka_unit_test(test_a_callback_that_refuses_aborts),
		cmocka_unit_test(test_agrees_with_a_reference_decoder_on_generated_encodings),
	};
	return cmocka_run_group_tests_name("chunked", tests, NULL, NULL);
}
