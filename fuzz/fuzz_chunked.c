/*
 * fuzz_chunked.c - the chunked-body decoder (lib/chunked.c) on arbitrary
 * input, cut into pieces in several ways.
 *
 * The first four bytes of an input choose the run, the rest is the body's
 * framing as it would come off the socket:
 *   byte 0: bit 0 set, no limit; clear, the limit is bytes 1 and 2
 *           (little endian, 0-65535);
 *   byte 3: the seed of the random cuts.
 * The framing is decoded whole, byte by byte and in random pieces (each
 * piece copied to the very end of a scratch buffer, so that a read past a
 * piece's end is seen by ASan, not taken from the next piece).  Any difference between the ways in status, body, reason
 * or announced size, any byte handed on past the limit, an empty run, a
 * byte read after the end, or a count of bytes read that is more than
 * given, stops the fuzzer (abort(), a crash with the input saved).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "disclosure/chunked.h"

struct sink {
	char *buf;
	size_t cap, len;
	uint64_t limit;
	size_t calls;
};

static bool sink_take(void *arg, const char *bytes, size_t len)
{
	struct sink *s = arg;

	s->calls++;
	if (len == 0)
		abort(); /* runs are of at least one byte */
	if (len > s->limit || s->len > s->limit - len)
		abort(); /* a byte past the limit handed on */
	if (len > s->cap - s->len)
		abort(); /* more body than framing: bytes invented */
	memcpy(s->buf + s->len, bytes, len);
	s->len += len;
	return true;
}

struct run {
	enum chunked_status status;
	size_t used;
	const char *why;
	uint64_t announced;
	char *body;
	size_t body_len;
};

enum way { WHOLE, BYTE_BY_BYTE, RANDOM_PIECES };

static void decode(const char *in, size_t n, uint64_t limit, enum way way, uint32_t seed, struct run *r)
{
	struct chunked ck;
	struct sink s = {.buf = malloc(n + 1), .cap = n, .limit = limit};
	char *scratch = malloc(n + 1);
	size_t at = 0;
	bool ended = false;

	if (s.buf == NULL || scratch == NULL)
		abort();
	chunked_init(&ck, limit);
	r->status = CHUNKED_MORE;
	r->used = 0;
	while (at < n) {
		size_t len, used = (size_t)-1, calls = s.calls;
		enum chunked_status st;

		if (way == WHOLE) {
			len = n - at;
		} else if (way == BYTE_BY_BYTE) {
			len = 1;
		} else {
			seed = seed * 1103515245u + 12345u;
			len = (seed >> 16) % 24; /* empty feeds too */
			if (len > n - at)
				len = n - at;
		}
		memmove(scratch + n + 1 - len, in + at, len);
		st = chunked_feed(&ck, scratch + n + 1 - len, len, &used, sink_take, &s);
		if (used > len)
			abort(); /* read more than it was given */
		if (ended) {
			if (st != r->status || used != 0 || s.calls != calls)
				abort(); /* the status was final */
		} else {
			r->used += used;
			r->status = st;
			if (st == CHUNKED_MORE && used != len)
				abort(); /* left bytes while the body goes on */
			if (st != CHUNKED_MORE)
				ended = true;
		}
		at += len;
	}
	free(scratch);
	r->why = ck.why;
	r->announced = ck.announced;
	r->body = s.buf;
	r->body_len = s.len;
	if (r->status == CHUNKED_BAD && (r->why == NULL || r->why[0] == '\0'))
		abort(); /* refused without a reason */
	if (r->status == CHUNKED_TOO_BIG && r->announced <= limit)
		abort(); /* too big, yet within the limit */
	if (r->status == CHUNKED_ABORTED)
		abort(); /* the callback here never refuses */
}

static void same(const struct run *a, const struct run *b)
{
	if (a->status != b->status)
		abort();
	if (a->body_len != b->body_len || memcmp(a->body, b->body, a->body_len) != 0)
		abort();
	if ((a->status == CHUNKED_DONE || a->status == CHUNKED_MORE) && a->used != b->used)
		abort();
	if (a->status == CHUNKED_BAD && strcmp(a->why, b->why) != 0)
		abort();
	if (a->status == CHUNKED_TOO_BIG && a->announced != b->announced)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data + 4;
	size_t n;
	uint64_t limit;
	uint32_t seed;
	struct run whole, other;

	if (size < 4)
		return 0;
	n = size - 4;
	limit = (data[0] & 1) ? UINT64_MAX : (uint64_t)data[1] | (uint64_t)data[2] << 8;
	seed = data[3];

	decode(in, n, limit, WHOLE, 0, &whole);
	if (whole.used > n)
		abort();
	decode(in, n, limit, BYTE_BY_BYTE, 0, &other);
	same(&whole, &other);
	free(other.body);
	for (uint32_t k = 0; k < 3; k++) {
		decode(in, n, limit, RANDOM_PIECES, seed * 3 + k + 1, &other);
		same(&whole, &other);
		free(other.body);
	}
	free(whole.body);
	return 0;
}
