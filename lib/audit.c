/*
 * audit.c - the audit log's lines: hash-chained entries, Ed25519-signed
 * checkpoints, and the offline verifier an auditor runs on an export (with
 * the client's receipts when it has them).  docs/audit-format.md is the
 * specification; this file must agree with it byte for byte.
 *
 * The verifier trusts nothing in the file but the bytes it hashes: it
 * never re-encodes JSON to check a hash, so an encoder change can never
 * turn a true line false or a forged one true.
 *
 * Must never: write to disk (the store does), decide when a response may
 * leave (the daemon does), accept a file whose tail is not covered by a
 * checkpoint (unless the caller asks for it), or accept a checkpoint whose
 * key_id does not name the one key the auditor supplied.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "disclosure/audit.h"
#include "disclosure/offender.h" /* utf8_decode() */

#define AUDIT_LINE_MAX (1024 * 1024)            /* longest line the verifier reads */
#define AUDIT_TIME_LEN 24                       /* "2026-11-28T18:00:00.123Z" */
#define AUDIT_SIG_LEN 64                        /* Ed25519 */
#define AUDIT_SIG_B64_LEN 88                    /* base64 of 64 bytes, padded */
#define AUDIT_RECEIPTS_MAX (256u * 1024 * 1024) /* bytes of receipts held in memory */

static const char hash_sep[] = ",\"hash\":\"";
static const char zero_hash[AUDIT_HASH_HEX + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static bool is_hash_hex(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == AUDIT_HASH_HEX;
}

/* The first OpenSSL error in words, for messages; clears the queue. */
static const char *ossl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "no detail from OpenSSL");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/*
 * SHA-256 fetched from the provider once: EVP_sha256() makes OpenSSL 3
 * look the algorithm up again on every digest, which cost as much as
 * hashing a 1.5 KB line.  Never freed: it lives as long as the process.
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (sha256_md == NULL)
		ERR_clear_error(); /* EVP_sha256() below still works, only slower */
}

int audit_line_hash(const char *line, size_t len, char out[AUDIT_HASH_HEX + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	const EVP_MD *alg;

	if (pthread_once(&sha256_once, sha256_fetch) != 0 || sha256_md == NULL)
		alg = EVP_sha256();
	else
		alg = sha256_md;
	if (EVP_Digest(line, len, md, NULL, alg, NULL) != 1) {
		ERR_clear_error();
		return DSC_EINTERNAL;
	}
	hex_encode(md, sizeof(md), out);
	return DSC_OK;
}

/* "2026-11-28T18:00:00.123Z" */
static int format_time(int64_t now_ms, char out[AUDIT_TIME_LEN + 1], struct dsc_error *err)
{
	struct tm tm;
	time_t secs;
	char buf[64];

	if (now_ms < 0)
		return dsc_error_set(err, DSC_EINVAL, "audit: time before 1970 (%" PRId64 " ms)",
		                     now_ms);
	secs = (time_t)(now_ms / 1000);
	if (gmtime_r(&secs, &tm) == NULL || tm.tm_year + 1900 > 9999)
		return dsc_error_set(err, DSC_EINVAL, "audit: time out of range (%" PRId64 " ms)",
		                     now_ms);
	if (strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) != 19)
		return dsc_error_set(err, DSC_EINVAL, "audit: time out of range (%" PRId64 " ms)",
		                     now_ms);
	snprintf(buf + 19, sizeof(buf) - 19, ".%03dZ", (int)(now_ms % 1000));
	memcpy(out, buf, AUDIT_TIME_LEN + 1);
	return DSC_OK;
}

/* Checks the shape of a time as format_time() writes it. */
static bool time_valid(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	if (strlen(s) != AUDIT_TIME_LEN)
		return false;
	for (size_t i = 0; i < AUDIT_TIME_LEN; i++) {
		if (shape[i] == 'd') {
			if (s[i] < '0' || s[i] > '9')
				return false;
		} else if (s[i] != shape[i]) {
			return false;
		}
	}
	return true;
}

void audit_chain_init(struct audit_chain *c)
{
	c->next_seq = 0;
	memcpy(c->head, zero_hash, sizeof(c->head));
	c->last_checkpoint_size = 0;
}

/*
 * A line split into the parts the chain depends on.  The JSON is parsed
 * with duplicate keys refused, so the seq/prev/hash read here are the
 * only ones in the line.
 */
struct parsed_line {
	json_t *obj;
	uint64_t seq;
	const char *prev;
	const char *hash;
	size_t hashed_len; /* bytes before ,"hash":" */
};

/* The value of a JSON string that holds no NUL, else NULL: a member the
 * verifier reads must be exactly what its C string says, never
 * "checkpoint\u0000..." read as "checkpoint". */
static const char *plain_string(const json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL && strlen(s) == json_string_length(v) ? s : NULL;
}

static int line_parse(const char *line, size_t len, struct parsed_line *p, char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *v;
	const char *tail;
	char head[160];
	int n;
	size_t tail_len = sizeof(hash_sep) - 1 + AUDIT_HASH_HEX + 2;

	memset(p, 0, sizeof(*p));
	/* \u0000 is JSON (RFC 8259), and the encoder writes whatever a
	 * field holds: a line whose free fields hold one verifies as any
	 * other (the members read below must hold none). */
	p->obj = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (p->obj == NULL) {
		snprintf(msg, msglen, "not valid JSON (%s, column %d)", jerr.text, jerr.column);
		return DSC_EJSON;
	}
	if (!json_is_object(p->obj)) {
		snprintf(msg, msglen, "not a JSON object");
		goto bad;
	}
	v = json_object_get(p->obj, "seq");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(msg, msglen, "no whole-number \"seq\"");
		goto bad;
	}
	p->seq = (uint64_t)json_integer_value(v);
	v = json_object_get(p->obj, "time");
	if (plain_string(v) == NULL || !time_valid(json_string_value(v))) {
		snprintf(msg, msglen, "no \"time\" of the form 2026-11-28T18:00:00.123Z");
		goto bad;
	}
	v = json_object_get(p->obj, "prev");
	if (plain_string(v) == NULL || !is_hash_hex(json_string_value(v))) {
		snprintf(msg, msglen, "no \"prev\" of 64 lower-case hex digits");
		goto bad;
	}
	p->prev = json_string_value(v);
	v = json_object_get(p->obj, "hash");
	if (plain_string(v) == NULL || !is_hash_hex(json_string_value(v))) {
		snprintf(msg, msglen, "no \"hash\" of 64 lower-case hex digits");
		goto bad;
	}
	p->hash = json_string_value(v);
	/* seq, time and prev open the line, written as the encoder writes
	 * them (no escapes, no spaces): one line, one spelling. */
	n = snprintf(head, sizeof(head), "{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"prev\":\"%s\",",
	             p->seq, json_string_value(json_object_get(p->obj, "time")), p->prev);
	if (n < 0 || (size_t)n >= sizeof(head) || len < (size_t)n ||
	    memcmp(line, head, (size_t)n) != 0) {
		snprintf(msg, msglen,
		         "line does not begin {\"seq\":N,\"time\":\"...\",\"prev\":\"...\",");
		goto bad;
	}
	/* The hash must be the last member, written exactly as the encoder
	 * writes it, so that "the bytes before it" is well defined. */
	if (len < tail_len + 1) {
		snprintf(msg, msglen, "line too short to end with the hash");
		goto bad;
	}
	tail = line + len - tail_len;
	if (line[len - 1] == '\r') {
		/* Valid JSON all the same (a CR is white space), but not the
		 * bytes that were hashed: say what happened to the file. */
		snprintf(msg, msglen, "line ends with a carriage return: the export was converted to "
				      "CRLF line endings (convert it back, e.g. with dos2unix, or export "
				      "it again)");
		goto bad;
	}
	if (memcmp(tail, hash_sep, sizeof(hash_sep) - 1) != 0 ||
	    memcmp(tail + sizeof(hash_sep) - 1, p->hash, AUDIT_HASH_HEX) != 0 ||
	    memcmp(tail + tail_len - 2, "\"}", 2) != 0) {
		snprintf(msg, msglen, "line does not end with ,\"hash\":\"<64 hex>\"}");
		goto bad;
	}
	p->hashed_len = len - tail_len;
	return DSC_OK;
bad:
	json_decref(p->obj);
	p->obj = NULL;
	return DSC_EINVAL;
}

int audit_chain_resume(struct audit_chain *c, uint64_t n, const char *last_line, size_t len,
                       struct dsc_error *err)
{
	struct parsed_line p;
	char msg[256];
	json_t *action;

	if (n == 0) {
		audit_chain_init(c);
		return DSC_OK;
	}
	if (last_line == NULL)
		return dsc_error_set(err, DSC_EINVAL, "audit: no last entry to resume from");
	if (line_parse(last_line, len, &p, msg, sizeof(msg)) != DSC_OK)
		return dsc_error_set(err, DSC_EINVAL,
		                     "audit: stored entry %" PRIu64 " is damaged: %s", n - 1, msg);
	if (p.seq != n - 1) {
		json_decref(p.obj);
		return dsc_error_set(err, DSC_EINVAL,
		                     "audit: the last stored entry has seq %" PRIu64
		                     ", expected %" PRIu64,
		                     p.seq, n - 1);
	}
	c->next_seq = n;
	memcpy(c->head, p.hash, AUDIT_HASH_HEX + 1);
	/* Only the last line is known here: if it is a checkpoint, it covers
	 * everything before it; otherwise the caller knows better (0 means
	 * "sign one soon"). */
	action = json_object_get(p.obj, "action");
	c->last_checkpoint_size =
	    plain_string(action) != NULL && strcmp(json_string_value(action), "checkpoint") == 0
	        ? p.seq
	        : 0;
	json_decref(p.obj);
	return DSC_OK;
}

/*
 * The line encoder.  Entries used to be built by copying the caller's
 * fields into a new object behind seq/time/prev and handing it to
 * json_dumps(JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER); that
 * was a twelfth of the daemon's CPU per check.  The line is now written
 * directly, and must stay byte for byte what jansson 2.14 wrote for every
 * tree (old logs, receipts and docs/audit-format.md depend on the bytes;
 * tests/unit/test_audit.c compares the two over generated trees):
 *
 *   - no white space; members in the object's own (insertion) order;
 *   - strings: \" \\ \b \f \n \r \t, every other character below U+0020
 *     and every one above U+007F as \uXXXX with upper-case hex (beyond
 *     U+FFFF as a UTF-16 surrogate pair); '/' and DEL as they are;
 *   - integers as "%lld"; reals as "%.17g" with ".0" added when neither
 *     '.' nor 'e' appears, and the exponent without '+' or leading zeros.
 *
 * Where jansson refused (text that is not UTF-8, a tree that holds
 * itself), the encoder refuses too.  It also refuses the two inputs the
 * old code wrote wrongly: a member name inside the fields that is not
 * UTF-8 (jansson wrote a broken string and went on) and a field name with a
 * NUL byte (the copy cut it short).  So it never writes a line jansson
 * would not have written, and no line that is not JSON.
 *
 * The buffer is the caller's line itself, grown by doubling: the writer
 * hands every line to the store and frees it, so a buffer kept in
 * struct audit_chain or per thread would cost one more copy per entry and
 * a free that no caller of this API makes.
 */

/* A line is its body (the bytes the hash covers) and the tail
 * ,"hash":"<hex>"}; the whole must fit the verifier's AUDIT_LINE_MAX
 * with its newline. */
#define AUDIT_TAIL_LEN (sizeof(hash_sep) - 1 + AUDIT_HASH_HEX + 2)
#define AUDIT_BODY_MAX (AUDIT_LINE_MAX - 1 - AUDIT_TAIL_LEN)
#define LINE_FIRST_CAP 4096 /* a check's entry is about 1.5 KB */

struct line_buf {
	char *p;
	size_t len, cap;
};

/* Room for n more bytes; DSC_ETOOBIG once the line could no longer be
 * read back by the verifier (which also ends a cyclic tree). */
static int lb_grow(struct line_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : LINE_FIRST_CAP;
	char *p;

	if (n > AUDIT_BODY_MAX - b->len)
		return DSC_ETOOBIG;
	while (cap - b->len < n)
		cap *= 2;
	/* Never more room than the limit, so that every byte past it comes
	 * through here and is refused. */
	if (cap > AUDIT_BODY_MAX)
		cap = AUDIT_BODY_MAX;
	/* + AUDIT_TAIL_LEN + 1: the hash and the NUL never need a realloc. */
	p = realloc(b->p, cap + AUDIT_TAIL_LEN + 1);
	if (p == NULL)
		return DSC_ENOMEM;
	b->p = p;
	b->cap = cap;
	return DSC_OK;
}

static inline int lb_reserve(struct line_buf *b, size_t n)
{
	return n <= b->cap - b->len ? DSC_OK : lb_grow(b, n);
}

static inline int lb_put(struct line_buf *b, const char *s, size_t n)
{
	int rc = lb_reserve(b, n);

	if (rc == DSC_OK) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
	return rc;
}

static inline int lb_putc(struct line_buf *b, char ch)
{
	int rc = lb_reserve(b, 1);

	if (rc == DSC_OK)
		b->p[b->len++] = ch;
	return rc;
}

static void put_u16_escape(char *out, uint32_t u)
{
	static const char hex[] = "0123456789ABCDEF"; /* jansson's case */

	out[0] = '\\';
	out[1] = 'u';
	out[2] = hex[(u >> 12) & 0xf];
	out[3] = hex[(u >> 8) & 0xf];
	out[4] = hex[(u >> 4) & 0xf];
	out[5] = hex[u & 0xf];
}

/* A JSON string of the n bytes at s; DSC_EINVAL if they are not UTF-8. */
static int put_string(struct line_buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0, clen;
	char esc[12];
	size_t elen;
	uint32_t cp;
	int rc;

	if ((rc = lb_putc(b, '"')) != DSC_OK)
		return rc;
	while (i < n) {
		unsigned char ch;
		uint64_t x;

		/* Printable ASCII goes out in runs, untouched: eight bytes
		 * at a time while they are all such. */
		while (n - i >= 8 && (memcpy(&x, s + i, 8), json_special8(x) == 0))
			i += 8;
		if (i == n)
			break;
		ch = u[i];
		if (ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\') {
			i++;
			continue;
		}
		if (i > run && (rc = lb_put(b, s + run, i - run)) != DSC_OK)
			return rc;
		if (ch < 0x80) {
			clen = 1;
			cp = ch;
		} else if ((clen = utf8_decode(u + i, n - i, &cp)) == 0) {
			return DSC_EINVAL;
		}
		elen = 2;
		esc[0] = '\\';
		switch (cp) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			if (cp < 0x10000) {
				put_u16_escape(esc, cp);
				elen = 6;
			} else {
				cp -= 0x10000;
				put_u16_escape(esc, 0xd800 | (cp >> 10));
				put_u16_escape(esc + 6, 0xdc00 | (cp & 0x3ff));
				elen = 12;
			}
			break;
		}
		if ((rc = lb_put(b, esc, elen)) != DSC_OK)
			return rc;
		i += clen;
		run = i;
	}
	if (i > run && (rc = lb_put(b, s + run, i - run)) != DSC_OK)
		return rc;
	return lb_putc(b, '"');
}

static int put_integer(struct line_buf *b, long long v)
{
	char digits[24];
	size_t n = sizeof(digits);
	/* The magnitude in unsigned arithmetic: -LLONG_MIN does not fit. */
	unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do {
		digits[--n] = (char)('0' + m % 10);
		m /= 10;
	} while (m != 0);
	if (v < 0)
		digits[--n] = '-';
	return lb_put(b, digits + n, sizeof(digits) - n);
}

/* A real as jansson's jsonp_dtostr() writes it with precision 17. */
static int put_real_printed(struct line_buf *b, double v);

/* A check's scores are hundredths from 0 to 1, one to three per entry:
 * their texts are made once by put_real_printed() itself, so that the
 * cache cannot disagree with it, and snprintf("%.17g") is not paid per
 * score. */
#define REAL_CACHED_MAX 100
static struct {
	char text[32];
	unsigned char len;
} real_cache[REAL_CACHED_MAX + 1];
static bool real_cache_ok;
static pthread_once_t real_cache_once = PTHREAD_ONCE_INIT;

static void real_cache_fill(void)
{
	char room[64];

	for (int k = 0; k <= REAL_CACHED_MAX; k++) {
		struct line_buf t = {room, 0, sizeof(room)};

		/* Fits: lb_grow() is never reached with cap - len >= 24. */
		if (put_real_printed(&t, (double)k / 100.0) != DSC_OK || t.len >= sizeof(real_cache[k].text))
			return;
		memcpy(real_cache[k].text, room, t.len);
		real_cache[k].len = (unsigned char)t.len;
	}
	real_cache_ok = true;
}

static int put_real(struct line_buf *b, double v)
{
	/* -0.0 == 0.0, but prints as "-0.0": the sign bit must be clear. */
	if (v >= 0.0 && v <= REAL_CACHED_MAX / 100.0 && !signbit(v)) {
		long long k = (long long)(v * 100.0 + 0.5);

		/* Only the very double k / 100.0: any other prints otherwise. */
		if (k >= 0 && k <= REAL_CACHED_MAX && (double)k / 100.0 == v &&
		    pthread_once(&real_cache_once, real_cache_fill) == 0 && real_cache_ok)
			return lb_put(b, real_cache[k].text, real_cache[k].len);
	}
	return put_real_printed(b, v);
}

static int put_real_printed(struct line_buf *b, double v)
{
	char s[64];
	char *e, *from, *to;
	int n = snprintf(s, sizeof(s) - 2, "%.17g", v);
	size_t len;

	if (n < 0 || (size_t)n >= sizeof(s) - 2)
		return DSC_EINTERNAL; /* json_real() holds only finite values */
	len = (size_t)n;
	/* The daemon never calls setlocale(), but a locale's decimal point
	 * is what jansson turns back into '.', so do the same. */
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '+' || s[i] == 'e'))
			s[i] = '.';
	/* A real must not read back as an integer. */
	if (memchr(s, '.', len) == NULL && memchr(s, 'e', len) == NULL) {
		s[len++] = '.';
		s[len++] = '0';
		s[len] = '\0';
	}
	/* "1e+300" -> "1e300", "1e-05" -> "1e-5" */
	if ((e = memchr(s, 'e', len)) != NULL) {
		to = e + 1;
		if (*to == '-')
			to++;
		from = to;
		if (*from == '+')
			from++;
		while (*from == '0' && from[1] != '\0')
			from++;
		if (from != to) {
			memmove(to, from, (size_t)(s + len + 1 - from));
			len -= (size_t)(from - to);
		}
	}
	return lb_put(b, s, len);
}

/* Where the encoder is inside an object or array. */
struct enc_frame {
	const json_t *container;
	void *iter;   /* object: the member to write next, NULL when done */
	size_t index; /* members or elements written so far */
};

#define ENC_FRAMES_LOCAL 16

/*
 * Writes v.  Iterative, with its own stack, rather than recursive: a deep
 * tree cannot exhaust the thread's stack, and a cyclic one (which jansson
 * refused) ends in DSC_ETOOBIG when the line passes its limit.
 */
static int put_value(struct line_buf *b, const json_t *v)
{
	struct enc_frame local[ENC_FRAMES_LOCAL], *stack = local, *top, *bigger;
	size_t depth = 0, cap = ENC_FRAMES_LOCAL;
	int rc = DSC_OK;

	for (;;) {
		/* Write v, or open it. */
		switch (json_typeof(v)) {
		case JSON_NULL:
			rc = lb_put(b, "null", 4);
			break;
		case JSON_TRUE:
			rc = lb_put(b, "true", 4);
			break;
		case JSON_FALSE:
			rc = lb_put(b, "false", 5);
			break;
		case JSON_INTEGER:
			rc = put_integer(b, json_integer_value(v));
			break;
		case JSON_REAL:
			rc = put_real(b, json_real_value(v));
			break;
		case JSON_STRING:
			rc = put_string(b, json_string_value(v), json_string_length(v));
			break;
		case JSON_OBJECT:
		case JSON_ARRAY:
			if (depth == cap) {
				if (cap > SIZE_MAX / 2 / sizeof(*stack)) {
					rc = DSC_ENOMEM;
					break;
				}
				bigger = stack == local ? malloc(2 * cap * sizeof(*stack))
				                        : realloc(stack, 2 * cap * sizeof(*stack));
				if (bigger == NULL) {
					rc = DSC_ENOMEM;
					break;
				}
				if (stack == local)
					memcpy(bigger, local, sizeof(local));
				stack = bigger;
				cap *= 2;
			}
			top = &stack[depth++];
			top->container = v;
			top->index = 0;
			if (json_is_object(v)) {
				top->iter = json_object_iter((json_t *)v);
				rc = lb_putc(b, '{');
			} else {
				top->iter = NULL;
				rc = lb_putc(b, '[');
			}
			break;
		default:
			rc = DSC_EINTERNAL;
			break;
		}
		if (rc != DSC_OK)
			goto out;

		/* Find the next value to write, closing what is finished. */
		for (v = NULL; v == NULL && depth > 0;) {
			top = &stack[depth - 1];
			if (json_is_object(top->container)) {
				if (top->iter == NULL) {
					rc = lb_putc(b, '}');
					depth--;
				} else {
					if (top->index++ > 0 && (rc = lb_putc(b, ',')) != DSC_OK)
						goto out;
					rc = put_string(b, json_object_iter_key(top->iter),
					                json_object_iter_key_len(top->iter));
					if (rc == DSC_OK)
						rc = lb_putc(b, ':');
					v = json_object_iter_value(top->iter);
					top->iter = json_object_iter_next((json_t *)top->container,
					                                  top->iter);
				}
			} else if (top->index == json_array_size(top->container)) {
				rc = lb_putc(b, ']');
				depth--;
			} else {
				if (top->index > 0 && (rc = lb_putc(b, ',')) != DSC_OK)
					goto out;
				v = json_array_get(top->container, top->index++);
			}
			if (rc != DSC_OK)
				goto out;
		}
		if (v == NULL)
			break;
	}
out:
	if (stack != local)
		free(stack);
	return rc;
}

/* Builds the line for fields at c's position without advancing c. */
static int entry_build(const struct audit_chain *c, const json_t *fields, const char *members,
                       size_t members_len, const char *time_str, char **line, size_t *len,
                       char hash_out[AUDIT_HASH_HEX + 1], struct dsc_error *err)
{
	struct line_buf b = {NULL, 0, 0};
	const char *key = "";
	size_t key_len;
	char hash[AUDIT_HASH_HEX + 1];
	void *iter;
	int rc;

	if (!json_is_object(fields))
		return dsc_error_set(err, DSC_EINVAL, "audit: entry fields must be a JSON object");
	if (c->next_seq > (uint64_t)INT64_MAX)
		return dsc_error_set(err, DSC_EINTERNAL, "audit: seq overflow");
	if ((rc = lb_put(&b, "{\"seq\":", 7)) != DSC_OK ||
	    (rc = put_integer(&b, (long long)c->next_seq)) != DSC_OK ||
	    (rc = lb_put(&b, ",\"time\":\"", 9)) != DSC_OK ||
	    (rc = lb_put(&b, time_str, strlen(time_str))) != DSC_OK ||
	    (rc = lb_put(&b, "\",\"prev\":\"", 10)) != DSC_OK ||
	    (rc = lb_put(&b, c->head, AUDIT_HASH_HEX)) != DSC_OK ||
	    (rc = lb_putc(&b, '"')) != DSC_OK)
		goto fail;
	for (iter = json_object_iter((json_t *)fields); iter != NULL;
	     iter = json_object_iter_next((json_t *)fields, iter)) {
		key = json_object_iter_key(iter);
		key_len = json_object_iter_key_len(iter);
		if (strcmp(key, "seq") == 0 || strcmp(key, "time") == 0 ||
		    strcmp(key, "prev") == 0 || strcmp(key, "hash") == 0) {
			free(b.p);
			return dsc_error_set(
			    err, DSC_EINVAL,
			    "audit: field '%s' is the chain's own, not the caller's", key);
		}
		/* The old encoder copied members by C string, so a name with a
		 * NUL in it would have been cut short: refuse it instead. */
		if (memchr(key, '\0', key_len) != NULL) {
			free(b.p);
			return dsc_error_set(err, DSC_EINVAL,
			                     "audit: field name '%s...' holds a NUL byte", key);
		}
		if ((rc = lb_putc(&b, ',')) != DSC_OK ||
		    (rc = put_string(&b, key, key_len)) != DSC_OK ||
		    (rc = lb_putc(&b, ':')) != DSC_OK ||
		    (rc = put_value(&b, json_object_iter_value(iter))) != DSC_OK)
			goto fail;
	}
	if (members_len > 0) {
		key = "(members written ahead)";
		if ((rc = lb_put(&b, members, members_len)) != DSC_OK)
			goto fail;
	}
	if (audit_line_hash(b.p, b.len, hash) != DSC_OK) {
		free(b.p);
		return dsc_error_set(err, DSC_EINTERNAL, "audit: SHA-256 failed");
	}
	/* lb_grow() always left room for the tail and the NUL. */
	memcpy(b.p + b.len, hash_sep, sizeof(hash_sep) - 1);
	memcpy(b.p + b.len + sizeof(hash_sep) - 1, hash, AUDIT_HASH_HEX);
	memcpy(b.p + b.len + AUDIT_TAIL_LEN - 2, "\"}", 3);
	*line = b.p;
	if (len != NULL)
		*len = b.len + AUDIT_TAIL_LEN;
	memcpy(hash_out, hash, sizeof(hash));
	return DSC_OK;
fail:
	free(b.p);
	switch (rc) {
	case DSC_ENOMEM:
		return dsc_error_set(err, DSC_ENOMEM, "audit: out of memory");
	case DSC_ETOOBIG:
		return dsc_error_set(err, DSC_ETOOBIG,
		                     "audit: entry longer than %d bytes, the longest line the "
		                     "verifier reads (at field '%s')",
		                     AUDIT_LINE_MAX - 1, key);
	case DSC_EINVAL:
		return dsc_error_set(err, DSC_EINVAL,
		                     "audit: field '%s' holds text that is not valid UTF-8", key);
	default:
		return dsc_error_set(err, rc, "audit: could not encode field '%s'", key);
	}
}

int audit_entry_encode(struct audit_chain *c, const json_t *fields, int64_t now_ms, char **line,
                       size_t *len, struct dsc_error *err)
{
	char t[AUDIT_TIME_LEN + 1];
	char hash[AUDIT_HASH_HEX + 1];
	int rc;

	if ((rc = format_time(now_ms, t, err)) != DSC_OK)
		return rc;
	if ((rc = entry_build(c, fields, NULL, 0, t, line, len, hash, err)) != DSC_OK)
		return rc;
	c->next_seq++;
	memcpy(c->head, hash, sizeof(hash));
	return DSC_OK;
}

int audit_entry_encode_members(struct audit_chain *c, const json_t *fields,
                               const struct audit_members *m, int64_t now_ms, char **line,
                               size_t *len, struct dsc_error *err)
{
	char t[AUDIT_TIME_LEN + 1];
	char hash[AUDIT_HASH_HEX + 1];
	int rc;

	if (m != NULL && m->rc != DSC_OK)
		return dsc_error_set(err, m->rc, "audit: the members written ahead are incomplete");
	if ((rc = format_time(now_ms, t, err)) != DSC_OK)
		return rc;
	if ((rc = entry_build(c, fields, m != NULL ? m->p : NULL, m != NULL ? m->len : 0, t, line,
	                      len, hash, err)) != DSC_OK)
		return rc;
	c->next_seq++;
	memcpy(c->head, hash, sizeof(hash));
	return DSC_OK;
}

/* ---- members written ahead (audit.h) ---- */

/* The members text is a line_buf of its own: the same limit, the same
 * writers, so its bytes are the ones entry_build() would have written. */
#define MEMBERS_OP(m, call)                                                    \
	do {                                                                   \
		struct line_buf mb_ = {(m)->p, (m)->len, (m)->cap};            \
		if ((m)->rc == DSC_OK)                                         \
			(m)->rc = (call);                                      \
		(m)->p = mb_.p;                                                \
		(m)->len = mb_.len;                                            \
		(m)->cap = mb_.cap;                                            \
	} while (0)

void audit_members_key(struct audit_members *m, const char *key)
{
	size_t n = strlen(key);

	MEMBERS_OP(m, lb_putc(&mb_, ','));
	MEMBERS_OP(m, put_string(&mb_, key, n));
	MEMBERS_OP(m, lb_putc(&mb_, ':'));
}

void audit_members_string(struct audit_members *m, const char *s, size_t n)
{
	if (s == NULL)
		MEMBERS_OP(m, lb_put(&mb_, "null", 4));
	else
		MEMBERS_OP(m, put_string(&mb_, s, n));
}

void audit_members_integer(struct audit_members *m, long long v)
{
	MEMBERS_OP(m, put_integer(&mb_, v));
}

void audit_members_real(struct audit_members *m, double v)
{
	MEMBERS_OP(m, put_real(&mb_, v));
}

void audit_members_raw(struct audit_members *m, const char *s, size_t n)
{
	MEMBERS_OP(m, lb_put(&mb_, s, n));
}

void audit_members_release(struct audit_members *m)
{
	if (m == NULL)
		return;
	free(m->p);
	m->p = NULL;
	m->len = m->cap = 0;
	m->rc = DSC_OK;
}

/* The exact bytes a checkpoint signs (docs/audit-format.md). */
static int checkpoint_message(uint64_t size, const char *head, const char *signed_at,
                              const char *key_id, char *out, size_t outlen)
{
	int n = snprintf(out, outlen,
	                 "disclosured-checkpoint-v1\nsize=%" PRIu64
	                 "\nhead=%s\nsigned_at=%s\nkey_id=%s\n",
	                 size, head, signed_at, key_id);

	return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int audit_key_id(EVP_PKEY *key, char out[AUDIT_KEY_ID_HEX + 1])
{
	unsigned char raw[64];
	size_t rlen = sizeof(raw);
	unsigned char md[SHA256_DIGEST_LENGTH];

	if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(key, raw, &rlen) != 1 || rlen != 32) {
		ERR_clear_error();
		return DSC_EINVAL;
	}
	if (EVP_Digest(raw, rlen, md, NULL, EVP_sha256(), NULL) != 1) {
		ERR_clear_error();
		return DSC_EINTERNAL;
	}
	hex_encode(md, AUDIT_KEY_ID_HEX / 2, out);
	return DSC_OK;
}

static int checkpoint_build(const struct audit_chain *c, EVP_PKEY *key, int64_t now_ms, char **line,
                            size_t *len, char hash_out[AUDIT_HASH_HEX + 1], struct dsc_error *err)
{
	char t[AUDIT_TIME_LEN + 1], key_id[AUDIT_KEY_ID_HEX + 1], why[256];
	char msg[256];
	unsigned char sig[AUDIT_SIG_LEN];
	char sig_b64[AUDIT_SIG_B64_LEN + 1];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = NULL;
	json_t *fields = NULL, *cp;
	int n, rc;

	if ((rc = format_time(now_ms, t, err)) != DSC_OK)
		return rc;
	if (audit_key_id(key, key_id) != DSC_OK)
		return dsc_error_set(err, DSC_EINVAL, "audit: the signing key is not Ed25519");
	n = checkpoint_message(c->next_seq, c->head, t, key_id, msg, sizeof(msg));
	if (n < 0)
		return dsc_error_set(err, DSC_EINTERNAL, "audit: checkpoint message too long");
	md = EVP_MD_CTX_new();
	if (md == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "audit: out of memory");
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)msg, (size_t)n) != 1 ||
	    siglen != sizeof(sig)) {
		EVP_MD_CTX_free(md);
		return dsc_error_set(err, DSC_EINTERNAL, "audit: signing the checkpoint failed: %s",
		                     ossl_reason(why, sizeof(why)));
	}
	EVP_MD_CTX_free(md);
	if (EVP_EncodeBlock((unsigned char *)sig_b64, sig, (int)siglen) != AUDIT_SIG_B64_LEN)
		return dsc_error_set(err, DSC_EINTERNAL, "audit: base64 of the signature failed");

	fields = json_object();
	cp = json_object();
	if (fields == NULL || cp == NULL ||
	    json_object_set_new(fields, "action", json_string("checkpoint")) != 0 ||
	    json_object_set_new(cp, "size", json_integer((json_int_t)c->next_seq)) != 0 ||
	    json_object_set_new(cp, "head", json_string(c->head)) != 0 ||
	    json_object_set_new(cp, "signed_at", json_string(t)) != 0 ||
	    json_object_set_new(cp, "key_id", json_string(key_id)) != 0 ||
	    json_object_set_new(cp, "algorithm", json_string("ed25519")) != 0 ||
	    json_object_set_new(cp, "signature", json_string(sig_b64)) != 0) {
		json_decref(cp);
		json_decref(fields);
		return dsc_error_set(err, DSC_ENOMEM, "audit: out of memory");
	}
	if (json_object_set_new(fields, "checkpoint", cp) != 0) {
		json_decref(fields);
		return dsc_error_set(err, DSC_ENOMEM, "audit: out of memory");
	}
	rc = entry_build(c, fields, NULL, 0, t, line, len, hash_out, err);
	json_decref(fields);
	return rc;
}

int audit_checkpoint_encode(struct audit_chain *c, EVP_PKEY *key, int64_t now_ms, char **line,
                            size_t *len, struct dsc_error *err)
{
	char hash[AUDIT_HASH_HEX + 1];
	int rc;

	if ((rc = checkpoint_build(c, key, now_ms, line, len, hash, err)) != DSC_OK)
		return rc;
	c->last_checkpoint_size = c->next_seq;
	c->next_seq++;
	memcpy(c->head, hash, sizeof(hash));
	return DSC_OK;
}

int audit_checkpoint_encode_unstored(const struct audit_chain *c, EVP_PKEY *key, int64_t now_ms,
                                     char **line, size_t *len, struct dsc_error *err)
{
	char hash[AUDIT_HASH_HEX + 1];

	return checkpoint_build(c, key, now_ms, line, len, hash, err);
}

/* Opens path for reading and fstat()s the very file opened (no race
 * between the check and the read). */
static int key_file_open(const char *path, const char *what, bool private_key, FILE **out,
                         struct dsc_error *err)
{
	struct stat st;
	int fd;
	FILE *f;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return dsc_error_set(err, DSC_EIO, "%s %s: %s", what, path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		int e = errno;

		close(fd);
		return dsc_error_set(err, DSC_EIO, "%s %s: %s", what, path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return dsc_error_set(err, DSC_EINVAL, "%s %s: not a regular file", what, path);
	}
	if (private_key && (st.st_mode & 077) != 0) {
		/* The public half given for the private one is the mistake to
		 * name, not its (rightly) open mode. */
		static const char pub[] = "-----BEGIN PUBLIC KEY-----";
		char head[sizeof(pub) - 1];

		if (pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
		    memcmp(head, pub, sizeof(head)) == 0) {
			close(fd);
			return dsc_error_set(err, DSC_EINVAL,
			                     "%s %s: a public key; the daemon signs with the private "
			                     "half (the auditors verify with this one)",
			                     what, path);
		}
		close(fd);
		return dsc_error_set(err, DSC_EPERM,
		                     "%s %s: mode %04o lets group/others read it; chmod 600", what,
		                     path, (unsigned)(st.st_mode & 07777));
	}
	f = fdopen(fd, "r");
	if (f == NULL) {
		int e = errno;

		close(fd);
		return dsc_error_set(err, DSC_EIO, "%s %s: %s", what, path, strerror(e));
	}
	*out = f;
	return DSC_OK;
}

int audit_key_load(const char *path, EVP_PKEY **out, struct dsc_error *err)
{
	const char *what = "audit signing key";
	char why[256];
	EVP_PKEY *k;
	FILE *f;
	int rc;

	if ((rc = key_file_open(path, what, true, &f, err)) != DSC_OK)
		return rc;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		return dsc_error_set(err, DSC_EINVAL,
		                     "%s %s: not a PEM private key (%s); make one with "
		                     "'openssl genpkey -algorithm ed25519'",
		                     what, path, ossl_reason(why, sizeof(why)));
	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		const char *type = EVP_PKEY_get0_type_name(k);

		rc = dsc_error_set(err, DSC_EINVAL, "%s %s: a key of type %s, not Ed25519", what, path,
		                   type != NULL ? type : "non-Ed25519");
		EVP_PKEY_free(k);
		return rc;
	}
	*out = k;
	return DSC_OK;
}

int audit_pubkey_load(const char *path, EVP_PKEY **out, struct dsc_error *err)
{
	const char *what = "audit public key";
	char why[256];
	EVP_PKEY *k;
	FILE *f;
	int rc;

	if ((rc = key_file_open(path, what, false, &f, err)) != DSC_OK)
		return rc;
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		return dsc_error_set(err, DSC_EINVAL,
		                     "%s %s: not a PEM public key (%s); export it with "
		                     "'openssl pkey -in KEY -pubout'",
		                     what, path, ossl_reason(why, sizeof(why)));
	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		return dsc_error_set(err, DSC_EINVAL, "%s %s: not an Ed25519 key", what, path);
	}
	*out = k;
	return DSC_OK;
}

/* ---- verification ---- */

struct receipt {
	uint64_t seq;
	char hash[AUDIT_HASH_HEX + 1];
	uint64_t line; /* in the client's log, for messages */
};

struct receipt_set {
	struct receipt *r;
	size_t n, cap;
	size_t next; /* first receipt not yet matched (r is sorted by seq) */
};

static int verify_fail(struct audit_verify_result *res, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int verify_fail(struct audit_verify_result *res, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	res->ok = false;
	res->first_bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
	return DSC_EINVAL;
}

/*
 * Reads one line into *buf (without its newline).  Returns 1 for a line,
 * 0 at end of file, -1 on a read error, -2 for a line over the limit
 * (the rest of it is consumed).
 */
static int read_line(FILE *f, char **buf, size_t *cap, size_t *len, bool *had_newline)
{
	size_t n = 0;
	int ch;

	*had_newline = false;
	if (*buf == NULL) {
		/* Room for the terminator even when the first line is empty. */
		*buf = malloc(4096);
		if (*buf == NULL)
			return -3;
		*cap = 4096;
	}
	while ((ch = getc_unlocked(f)) != EOF) {
		if (ch == '\n') {
			*had_newline = true;
			break;
		}
		if (n + 1 >= *cap) {
			size_t ncap = *cap * 2;
			char *nb;

			if (n + 1 >= AUDIT_LINE_MAX) {
				while ((ch = getc_unlocked(f)) != EOF && ch != '\n')
					;
				return -2;
			}
			if (ncap > AUDIT_LINE_MAX)
				ncap = AUDIT_LINE_MAX;
			nb = realloc(*buf, ncap);
			if (nb == NULL)
				return -3;
			*buf = nb;
			*cap = ncap;
		}
		(*buf)[n++] = (char)ch;
	}
	if (ferror(f))
		return -1;
	if (n == 0 && !*had_newline)
		return 0;
	(*buf)[n] = '\0';
	*len = n;
	return 1;
}

/*
 * The keys an auditor gives, in the order the log used them (oldest
 * first): a checkpoint must be signed by one of them, never by one older
 * than an earlier checkpoint's, and each must sign at least one.
 */
struct verify_keys {
	EVP_PKEY *const *pubs;
	size_t n;
	char ids[AUDIT_VERIFY_KEYS_MAX][AUDIT_KEY_ID_HEX + 1];
	bool used[AUDIT_VERIFY_KEYS_MAX];
	size_t at; /* the key of the last checkpoint */
};

/* Checks a checkpoint entry against the chain before it and the keys. */
static int checkpoint_verify(const struct parsed_line *p, const char *head_before, struct verify_keys *k,
                             struct audit_verify_result *res)
{
	EVP_PKEY *pub;
	const char *pub_key_id;
	size_t ki;
	json_t *cp = json_object_get(p->obj, "checkpoint");
	json_t *size_v;
	const char *head, *signed_at, *key_id, *alg, *sig_b64;
	unsigned char sig[AUDIT_SIG_LEN + 3];
	char reenc[AUDIT_SIG_B64_LEN + 1];
	char msg[256];
	EVP_MD_CTX *md;
	int n, ok;
	int64_t seq = (int64_t)p->seq;

	if (!json_is_object(cp))
		return verify_fail(res, seq,
		                   "seq %" PRIu64 ": checkpoint without a \"checkpoint\" object",
		                   p->seq);
	size_v = json_object_get(cp, "size");
	head = plain_string(json_object_get(cp, "head"));
	signed_at = plain_string(json_object_get(cp, "signed_at"));
	key_id = plain_string(json_object_get(cp, "key_id"));
	alg = plain_string(json_object_get(cp, "algorithm"));
	sig_b64 = plain_string(json_object_get(cp, "signature"));
	if (!json_is_integer(size_v) || head == NULL || signed_at == NULL || key_id == NULL ||
	    alg == NULL || sig_b64 == NULL)
		return verify_fail(res, seq,
		                   "seq %" PRIu64
		                   ": checkpoint lacks size, head, signed_at, key_id, "
		                   "algorithm or signature",
		                   p->seq);
	if (json_integer_value(size_v) < 0 || (uint64_t)json_integer_value(size_v) != p->seq)
		return verify_fail(res, seq,
		                   "seq %" PRIu64 ": checkpoint claims size %" JSON_INTEGER_FORMAT
		                   " but %" PRIu64 " entries precede it",
		                   p->seq, json_integer_value(size_v), p->seq);
	if (strcmp(head, head_before) != 0)
		return verify_fail(res, seq,
		                   "seq %" PRIu64
		                   ": checkpoint head %.16s... is not the hash of the "
		                   "entries before it (%.16s...)",
		                   p->seq, head, head_before);
	if (strcmp(alg, "ed25519") != 0)
		return verify_fail(res, seq,
		                   "seq %" PRIu64 ": checkpoint algorithm '%.32s' is not ed25519",
		                   p->seq, alg);
	if (!time_valid(signed_at))
		return verify_fail(
		    res, seq, "seq %" PRIu64 ": checkpoint signed_at is not a UTC time", p->seq);
	/* Bind the key: a checkpoint made with any key the auditor did not
	 * give (an older one, or one the log's holder made later to re-sign a
	 * rewritten log) is a failure, not something to look up and trust;
	 * and the keys given sign in their order, never going back. */
	for (ki = 0; ki < k->n && strcmp(key_id, k->ids[ki]) != 0; ki++)
		;
	if (ki == k->n) {
		if (k->n == 1)
			return verify_fail(res, seq,
			                   "seq %" PRIu64
			                   ": checkpoint signed with key %.16s, not the given "
			                   "key %s",
			                   p->seq, key_id, k->ids[0]);
		return verify_fail(res, seq,
		                   "seq %" PRIu64 ": checkpoint signed with key %.16s, none of the %zu keys given",
		                   p->seq, key_id, k->n);
	}
	if (ki < k->at)
		return verify_fail(res, seq,
		                   "seq %" PRIu64
		                   ": checkpoint signed with key %s (key %zu given) after one signed "
		                   "with key %s (key %zu given): the log went back to an older key",
		                   p->seq, k->ids[ki], ki + 1, k->ids[k->at], k->at + 1);
	pub = k->pubs[ki];
	pub_key_id = k->ids[ki];
	if (strlen(sig_b64) != AUDIT_SIG_B64_LEN ||
	    EVP_DecodeBlock(sig, (const unsigned char *)sig_b64, AUDIT_SIG_B64_LEN) !=
	        AUDIT_SIG_LEN + 2 ||
	    EVP_EncodeBlock((unsigned char *)reenc, sig, AUDIT_SIG_LEN) != AUDIT_SIG_B64_LEN ||
	    strcmp(reenc, sig_b64) != 0)
		return verify_fail(
		    res, seq, "seq %" PRIu64 ": checkpoint signature is not 64 bytes of base64",
		    p->seq);
	n = checkpoint_message(p->seq, head, signed_at, key_id, msg, sizeof(msg));
	if (n < 0)
		return verify_fail(res, seq, "seq %" PRIu64 ": checkpoint message too long",
		                   p->seq);
	md = EVP_MD_CTX_new();
	if (md == NULL)
		return verify_fail(res, seq, "out of memory");
	ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, pub) == 1 &&
	     EVP_DigestVerify(md, sig, AUDIT_SIG_LEN, (const unsigned char *)msg, (size_t)n) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	if (!ok)
		return verify_fail(
		    res, seq, "seq %" PRIu64 ": checkpoint signature does not verify with key %s",
		    p->seq, pub_key_id);
	k->at = ki;
	k->used[ki] = true;
	return DSC_OK;
}

static int verify_run(FILE *f, EVP_PKEY *const *pubs, size_t n_pubs, bool allow_unsealed,
                      struct receipt_set *rs, struct audit_verify_result *res)
{
	struct verify_keys keys = {.pubs = pubs, .n = n_pubs};
	char *buf = NULL;
	size_t cap = 0, len = 0;
	char head[AUDIT_HASH_HEX + 1];
	char hash[AUDIT_HASH_HEX + 1], why[256];
	uint64_t pos = 0;
	bool had_newline = true, last_was_checkpoint = false;
	int r, rc = DSC_OK;

	memset(res, 0, sizeof(*res));
	res->first_bad_seq = -1;
	if (f == NULL || pubs == NULL || n_pubs == 0)
		return verify_fail(res, -1, "no export or no public key given");
	if (n_pubs > AUDIT_VERIFY_KEYS_MAX)
		return verify_fail(res, -1, "%zu public keys given, at most %d", n_pubs,
		                   AUDIT_VERIFY_KEYS_MAX);
	for (size_t i = 0; i < n_pubs; i++) {
		if (pubs[i] == NULL || audit_key_id(pubs[i], keys.ids[i]) != DSC_OK)
			return verify_fail(res, -1, "public key %zu is not an Ed25519 key", i + 1);
		for (size_t j = 0; j < i; j++)
			if (strcmp(keys.ids[i], keys.ids[j]) == 0)
				return verify_fail(res, -1, "public keys %zu and %zu are the same key %s",
				                   j + 1, i + 1, keys.ids[i]);
	}
	memcpy(head, zero_hash, sizeof(head));

	for (;;) {
		struct parsed_line p;
		json_t *action;

		r = read_line(f, &buf, &cap, &len, &had_newline);
		if (r == 0)
			break;
		if (r == -1) {
			rc = verify_fail(res, (int64_t)pos,
			                 "read error after %" PRIu64 " entries: %s", pos,
			                 strerror(errno));
			goto out;
		}
		if (r == -3) {
			rc = verify_fail(res, (int64_t)pos, "out of memory");
			goto out;
		}
		if (r == -2) {
			rc = verify_fail(res, (int64_t)pos,
			                 "line %" PRIu64 " (seq %" PRIu64
			                 " expected) is longer than %d "
			                 "bytes",
			                 pos + 1, pos, AUDIT_LINE_MAX);
			goto out;
		}
		res->entries = pos + 1;
		if (line_parse(buf, len, &p, why, sizeof(why)) != DSC_OK) {
			rc = verify_fail(res, (int64_t)pos,
			                 "line %" PRIu64 " (seq %" PRIu64 " expected): %s", pos + 1,
			                 pos, len == 0 ? "empty line" : why);
			goto out;
		}
		if (p.seq != pos && pos == 0) {
			rc = verify_fail(res, 0,
			                 "line 1: the export begins at seq %" PRIu64 ", not 0: a log is "
			                 "verified from its first entry (an export made with --from is "
			                 "a part of one: export from 0, or append it to the export it "
			                 "continues)",
			                 p.seq);
			json_decref(p.obj);
			goto out;
		}
		if (p.seq != pos) {
			rc = verify_fail(res, (int64_t)pos,
			                 "line %" PRIu64 ": seq %" PRIu64 " where seq %" PRIu64
			                 " was expected (a line was removed, reordered, duplicated "
			                 "or inserted)",
			                 pos + 1, p.seq, pos);
			json_decref(p.obj);
			goto out;
		}
		if (strcmp(p.prev, head) != 0) {
			rc = verify_fail(res, (int64_t)pos,
			                 "seq %" PRIu64
			                 ": prev %.16s... is not the hash of seq %" PRId64
			                 " (%.16s...)",
			                 pos, p.prev, (int64_t)pos - 1, head);
			json_decref(p.obj);
			goto out;
		}
		if (audit_line_hash(buf, p.hashed_len, hash) != DSC_OK) {
			rc = verify_fail(res, (int64_t)pos, "SHA-256 failed");
			json_decref(p.obj);
			goto out;
		}
		if (strcmp(hash, p.hash) != 0) {
			rc = verify_fail(res, (int64_t)pos,
			                 "seq %" PRIu64
			                 ": hash does not match the line's bytes (the "
			                 "entry was changed)",
			                 pos);
			json_decref(p.obj);
			goto out;
		}
		action = json_object_get(p.obj, "action");
		last_was_checkpoint = plain_string(action) != NULL &&
		                      strcmp(json_string_value(action), "checkpoint") == 0;
		if (last_was_checkpoint) {
			if (checkpoint_verify(&p, head, &keys, res) != DSC_OK) {
				json_decref(p.obj);
				rc = DSC_EINVAL;
				goto out;
			}
			res->checkpoints++;
			res->sealed_size = pos;
			{
				json_t *cp = json_object_get(p.obj, "checkpoint");
				const char *at = plain_string(json_object_get(cp, "signed_at"));
				const char *kid = plain_string(json_object_get(cp, "key_id"));

				snprintf(res->last_signed_at, sizeof(res->last_signed_at), "%s", at ? at : "");
				snprintf(res->last_key_id, sizeof(res->last_key_id), "%s", kid ? kid : "");
			}
		}
		json_decref(p.obj);
		while (rs != NULL && rs->next < rs->n && rs->r[rs->next].seq == pos) {
			if (strcmp(rs->r[rs->next].hash, hash) != 0) {
				rc = verify_fail(
				    res, (int64_t)pos,
				    "seq %" PRIu64 ": the receipt (requests log line %" PRIu64
				    ") holds hash %.16s... but the export has %.16s... "
				    "(the entry was rewritten)",
				    pos, rs->r[rs->next].line, rs->r[rs->next].hash, hash);
				goto out;
			}
			rs->next++;
		}
		memcpy(head, hash, sizeof(head));
		pos++;
		if (!had_newline)
			break;
	}
	/* A final line without a newline is accepted: its bytes were fully
	 * checked above, and a cut inside a line fails to parse. */
	if (pos == 0) {
		rc = verify_fail(res, 0, "no entries");
		goto out;
	}
	if (rs != NULL && rs->next < rs->n) {
		rc = verify_fail(res, (int64_t)rs->r[rs->next].seq,
		                 "seq %" PRIu64 ": the receipt (requests log line %" PRIu64
		                 ") is not in the export, which ends at seq %" PRIu64
		                 " (the log was truncated or the export is incomplete)",
		                 rs->r[rs->next].seq, rs->r[rs->next].line, pos - 1);
		goto out;
	}
	if (!last_was_checkpoint && !allow_unsealed) {
		uint64_t first = res->checkpoints ? res->sealed_size + 1 : 0;

		if (res->checkpoints)
			rc = verify_fail(
			    res, (int64_t)first,
			    "seq %" PRIu64 "-%" PRIu64 " come after the last checkpoint "
			    "(seq %" PRIu64 ") and are not sealed: the file was truncated "
			    "or never sealed (--allow-unsealed accepts them)",
			    first, pos - 1, res->sealed_size);
		else
			rc = verify_fail(
			    res, 0,
			    "seq 0-%" PRIu64 " are not sealed by any checkpoint: the file "
			    "was truncated or never sealed (--allow-unsealed accepts them)",
			    pos - 1);
		goto out;
	}
	/* Every key given signs something: a key the log never used, or used
	 * only where a rewrite replaced its checkpoints, is the auditor's to
	 * hear about. */
	for (size_t i = 0; i < n_pubs && res->checkpoints > 0; i++) {
		if (!keys.used[i]) {
			rc = verify_fail(res, -1, "key %zu given (%s) signs no checkpoint of this export",
			                 i + 1, keys.ids[i]);
			goto out;
		}
	}
	res->ok = true;
	res->first_bad_seq = -1;
	if (res->checkpoints == 0)
		snprintf(res->msg, sizeof(res->msg),
		         "%" PRIu64 " entries, no checkpoint: nothing is sealed", res->entries);
	else
		snprintf(res->msg, sizeof(res->msg),
		         "%" PRIu64 " entries, %" PRIu64
		         " checkpoint%s, sealed through seq %" PRIu64 "%s; the last seal signed at %s "
		         "with key %s",
		         res->entries, res->checkpoints, res->checkpoints == 1 ? "" : "s",
		         res->sealed_size - 1,
		         last_was_checkpoint ? "" : " (entries after it are unsealed)", res->last_signed_at,
		         res->last_key_id);
	rc = DSC_OK;
out:
	free(buf);
	return rc;
}

/* An entry's time as ms since the epoch ("2026-11-28T18:00:00.123Z"). */
static int64_t time_ms(const char *t)
{
	struct tm tm;
	int ms = 0;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || !time_valid(t) ||
	    sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static bool line_action_is(const struct parsed_line *p, const char *action)
{
	const char *a = plain_string(json_object_get(p->obj, "action"));

	return a != NULL && strcmp(a, action) == 0;
}

int audit_tail_check(int (*get)(void *arg, uint64_t seq, const char **line, size_t *len), void *arg,
		     uint64_t n, EVP_PKEY *key, uint64_t max_scan, struct audit_tail *out,
		     struct dsc_error *err)
{
	struct audit_verify_result res;
	struct verify_keys keys = {.pubs = &key, .n = 1};
	struct parsed_line p;
	char hash[AUDIT_HASH_HEX + 1], why[256];
	const char *line;
	size_t len;
	uint64_t from = 0, seq;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return DSC_OK;
	if (key == NULL || audit_key_id(key, keys.ids[0]) != DSC_OK)
		return dsc_error_set(err, DSC_EINVAL, "audit: no Ed25519 key to check the log's end with");
	/* Back to the last checkpoint, or as far as the scan goes. */
	for (seq = n; seq-- > 0 && n - seq <= max_scan;) {
		if (get(arg, seq, &line, &len) != DSC_OK || line == NULL)
			return dsc_error_set(err, DSC_EIO, "audit: cannot read stored entry %" PRIu64, seq);
		if (line_parse(line, len, &p, why, sizeof(why)) != DSC_OK)
			return dsc_error_set(err, DSC_EINVAL, "audit: stored entry %" PRIu64 " is damaged: %s",
					     seq, why);
		if (line_action_is(&p, "checkpoint")) {
			out->has_checkpoint = true;
			out->checkpoint_seq = seq;
			json_decref(p.obj);
			break;
		}
		json_decref(p.obj);
		from = seq;
	}
	if (out->has_checkpoint)
		from = out->checkpoint_seq;
	out->unsealed = out->has_checkpoint ? n - 1 - out->checkpoint_seq : n - from;
	/* Forward from there: every line chained to the one before it. */
	for (seq = from; seq < n; seq++) {
		if (get(arg, seq, &line, &len) != DSC_OK || line == NULL)
			return dsc_error_set(err, DSC_EIO, "audit: cannot read stored entry %" PRIu64, seq);
		if (line_parse(line, len, &p, why, sizeof(why)) != DSC_OK)
			return dsc_error_set(err, DSC_EINVAL, "audit: stored entry %" PRIu64 " is damaged: %s",
					     seq, why);
		{
			const char *bad = p.seq != seq ? "holds another seq"
					  : seq > from && strcmp(p.prev, hash) != 0
					      ? "does not link to the entry before it (prev)"
					  : audit_line_hash(line, p.hashed_len, hash) != DSC_OK ||
						  strcmp(hash, p.hash) != 0
					      ? "does not hash to its own hash (it was changed)"
					      : NULL;
			if (bad != NULL) {
				json_decref(p.obj);
				return dsc_error_set(err, DSC_EINVAL,
						     "audit: stored entry %" PRIu64 " %s: the stored log was "
						     "altered or damaged",
						     seq, bad);
			}
		}
		if (seq == out->checkpoint_seq && out->has_checkpoint) {
			json_t *cp = json_object_get(p.obj, "checkpoint");
			const char *kid = plain_string(json_object_get(cp, "key_id"));
			const char *at = plain_string(json_object_get(cp, "signed_at"));

			snprintf(out->key_id, sizeof(out->key_id), "%s", kid != NULL ? kid : "");
			snprintf(out->signed_at, sizeof(out->signed_at), "%s", at != NULL ? at : "");
			if (kid != NULL && strcmp(kid, keys.ids[0]) == 0) {
				memset(&res, 0, sizeof(res));
				if (checkpoint_verify(&p, p.prev, &keys, &res) != DSC_OK) {
					json_decref(p.obj);
					return dsc_error_set(err, DSC_EINVAL, "audit: the last stored checkpoint, %s",
							     res.msg);
				}
				out->verified = true;
			}
		}
		if (seq == n - 1)
			out->last_ms = time_ms(plain_string(json_object_get(p.obj, "time")));
		json_decref(p.obj);
	}
	/* The entry before the last checkpoint, when it is the last line. */
	if (out->has_checkpoint && out->checkpoint_seq == n - 1 && n >= 2) {
		if (get(arg, n - 2, &line, &len) != DSC_OK || line == NULL)
			return dsc_error_set(err, DSC_EIO, "audit: cannot read stored entry %" PRIu64, n - 2);
		if (line_parse(line, len, &p, why, sizeof(why)) == DSC_OK) {
			out->clean_stop = line_action_is(&p, "daemon.stop");
			json_decref(p.obj);
		}
	}
	return DSC_OK;
}

int audit_verify_stream(FILE *f, EVP_PKEY *pub, bool allow_unsealed,
                        struct audit_verify_result *res)
{
	return verify_run(f, &pub, 1, allow_unsealed, NULL, res);
}

int audit_verify_stream_keys(FILE *f, EVP_PKEY *const *pubs, size_t n_pubs, bool allow_unsealed,
                             struct audit_verify_result *res)
{
	return verify_run(f, pubs, n_pubs, allow_unsealed, NULL, res);
}

static int receipt_cmp(const void *a, const void *b)
{
	const struct receipt *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * Which server each request of a requests log went to: its "sent" record
 * names it, the records after it (the receipt's) give only the request's
 * id.  The servers seen, and an open-addressing table of request ids.
 */
#define RECEIPT_SERVERS_MAX 16
#define REQUEST_ID_MAX 64

struct server_map {
	char *servers[RECEIPT_SERVERS_MAX];
	size_t n_servers;
	unsigned with_receipt; /* bit i: a receipt of servers[i] was read */
	bool receipt_of_many;  /* a receipt of a server past those kept */
	struct {
		char id[REQUEST_ID_MAX];
		int server;
	} *slot;
	size_t cap, n;
};

static void server_map_free(struct server_map *m)
{
	for (size_t i = 0; i < m->n_servers; i++)
		free(m->servers[i]);
	free(m->slot);
}

/* A server URL without its trailing slashes, as it is compared. */
static size_t server_len(const char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	return n;
}

static bool server_is(const char *a, const char *b)
{
	size_t n = server_len(a);

	return n == server_len(b) && memcmp(a, b, n) == 0;
}

/* The index of url among the servers seen (added if new); -1 past the most
 * kept, or without memory. */
static int server_index(struct server_map *m, const char *url)
{
	for (size_t i = 0; i < m->n_servers; i++)
		if (server_is(m->servers[i], url))
			return (int)i;
	if (m->n_servers == RECEIPT_SERVERS_MAX)
		return -1;
	if ((m->servers[m->n_servers] = strndup(url, server_len(url))) == NULL)
		return -1;
	return (int)m->n_servers++;
}

static size_t id_slot(const struct server_map *m, const char *id)
{
	uint32_t h = 2166136261u;

	for (const char *p = id; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1))
		if (m->slot[i].id[0] == '\0' || strcmp(m->slot[i].id, id) == 0)
			return i;
}

static int id_put(struct server_map *m, const char *id, int server)
{
	size_t i;

	if (strlen(id) >= REQUEST_ID_MAX || id[0] == '\0')
		return DSC_OK; /* not an id this client writes: left unmapped */
	if ((m->n + 1) * 2 > m->cap) {
		struct server_map old = *m;
		size_t ncap = m->cap ? m->cap * 2 : 1024;

		if (ncap * sizeof(*m->slot) > AUDIT_RECEIPTS_MAX ||
		    (m->slot = calloc(ncap, sizeof(*m->slot))) == NULL) {
			m->slot = old.slot;
			return DSC_ENOMEM;
		}
		m->cap = ncap;
		m->n = 0;
		for (size_t k = 0; k < old.cap; k++)
			if (old.slot[k].id[0] != '\0') {
				i = id_slot(m, old.slot[k].id);
				m->slot[i] = old.slot[k];
				m->n++;
			}
		free(old.slot);
	}
	i = id_slot(m, id);
	if (m->slot[i].id[0] == '\0') {
		memcpy(m->slot[i].id, id, strlen(id) + 1);
		m->n++;
	}
	m->slot[i].server = server;
	return DSC_OK;
}

/* The server of request id: its index, or -1 if the log does not say. */
static int id_server(const struct server_map *m, const char *id)
{
	size_t i;

	if (m->cap == 0 || id == NULL || strlen(id) >= REQUEST_ID_MAX || id[0] == '\0')
		return -1;
	i = id_slot(m, id);
	return m->slot[i].id[0] != '\0' ? m->slot[i].server : -1;
}

/* Collects the receipts of the client's requests log: all of them, or
 * (server not NULL) those of requests sent to server. */
static int receipts_read(FILE *log, const char *server, struct receipt_set *rs,
			 struct audit_verify_result *res)
{
	struct server_map map = {0};
	char *buf = NULL;
	size_t cap = 0, len = 0;
	uint64_t lineno = 0;
	bool nl;
	int r, rc = DSC_OK;

	while ((r = read_line(log, &buf, &cap, &len, &nl)) == 1) {
		json_error_t jerr;
		json_t *obj, *rc_obj, *seq_v;
		const char *hash, *id, *srv;
		int which;

		lineno++;
		if (len == 0)
			continue;
		obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
		if (!json_is_object(obj)) {
			json_decref(obj);
			rc = verify_fail(
			    res, -1, "requests log line %" PRIu64 ": not a JSON object", lineno);
			goto out;
		}
		id = json_string_value(json_object_get(obj, "id"));
		srv = json_string_value(json_object_get(obj, "server"));
		which = srv != NULL ? server_index(&map, srv) : id_server(&map, id);
		if (srv != NULL && id != NULL && id_put(&map, id, which) != DSC_OK) {
			json_decref(obj);
			rc = verify_fail(res, -1, "out of memory");
			goto out;
		}
		rc_obj = json_object_get(obj, "receipt");
		if (rc_obj == NULL || json_is_null(rc_obj)) {
			json_decref(obj);
			continue;
		}
		if (which >= 0 && server != NULL && !server_is(map.servers[which], server)) {
			json_decref(obj);
			continue; /* another server's: not in this export */
		}
		if (which >= 0)
			map.with_receipt |= 1u << which;
		else if (srv != NULL)
			map.receipt_of_many = true;
		seq_v = json_object_get(rc_obj, "seq");
		hash = json_string_value(json_object_get(rc_obj, "hash"));
		if (!json_is_integer(seq_v) || json_integer_value(seq_v) < 0 || hash == NULL ||
		    !is_hash_hex(hash)) {
			json_decref(obj);
			rc = verify_fail(res, -1,
			                 "requests log line %" PRIu64 ": \"receipt\" is not "
			                 "{\"seq\": N, \"hash\": \"<64 hex>\"}",
			                 lineno);
			goto out;
		}
		if (rs->n == rs->cap) {
			size_t ncap = rs->cap ? rs->cap * 2 : 64;
			struct receipt *nr;

			if (ncap * sizeof(*nr) > AUDIT_RECEIPTS_MAX) {
				json_decref(obj);
				rc = verify_fail(res, -1, "requests log holds too many receipts");
				goto out;
			}
			nr = realloc(rs->r, ncap * sizeof(*nr));
			if (nr == NULL) {
				json_decref(obj);
				rc = verify_fail(res, -1, "out of memory");
				goto out;
			}
			rs->r = nr;
			rs->cap = ncap;
		}
		rs->r[rs->n].seq = (uint64_t)json_integer_value(seq_v);
		memcpy(rs->r[rs->n].hash, hash, AUDIT_HASH_HEX + 1);
		rs->r[rs->n].line = lineno;
		rs->n++;
		json_decref(obj);
	}
	if (r == -2)
		rc = verify_fail(res, -1, "requests log line %" PRIu64 " is longer than %d bytes",
		                 lineno + 1, AUDIT_LINE_MAX);
	else if (r == -3)
		rc = verify_fail(res, -1, "out of memory");
	else if (r == -1)
		rc = verify_fail(res, -1, "reading the requests log: %s", strerror(errno));
	if (rc == DSC_OK && server == NULL &&
	    __builtin_popcount(map.with_receipt) + (map.receipt_of_many ? 1 : 0) > 1) {
		char names[512];
		size_t n = 0;

		names[0] = '\0';
		for (size_t i = 0; i < map.n_servers && n < sizeof(names); i++)
			if (map.with_receipt & (1u << i))
				n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
						      n > 0 ? ", " : "", map.servers[i]);
		rc = verify_fail(res, -1,
				 "the requests log holds receipts of requests to several servers (%s%s):"
				 " say which one this export is from (--server)",
				 names, map.receipt_of_many ? ", and more" : "");
	}
out:
	server_map_free(&map);
	free(buf);
	return rc;
}

int audit_receipts_check(FILE *export, FILE *receipts_log, EVP_PKEY *pub, bool allow_unsealed,
                         struct audit_verify_result *res)
{
	return audit_receipts_check_keys(export, receipts_log, &pub, 1, allow_unsealed, res);
}

int audit_receipts_check_keys(FILE *export, FILE *receipts_log, EVP_PKEY *const *pubs, size_t n_pubs,
                              bool allow_unsealed, struct audit_verify_result *res)
{
	return audit_receipts_check_server(export, receipts_log, pubs, n_pubs, allow_unsealed, NULL,
					   res);
}

int audit_receipts_check_server(FILE *export, FILE *receipts_log, EVP_PKEY *const *pubs,
				size_t n_pubs, bool allow_unsealed, const char *server,
				struct audit_verify_result *res)
{
	struct receipt_set rs = {0};
	int rc;

	memset(res, 0, sizeof(*res));
	res->first_bad_seq = -1;
	if (receipts_log == NULL)
		return verify_fail(res, -1, "no requests log given");
	if ((rc = receipts_read(receipts_log, server, &rs, res)) != DSC_OK)
		goto out;
	if (rs.n > 1)
		qsort(rs.r, rs.n, sizeof(*rs.r), receipt_cmp);
	rc = verify_run(export, pubs, n_pubs, allow_unsealed, &rs, res);
	if (rc == DSC_OK) {
		size_t len = strlen(res->msg);

		snprintf(res->msg + len, sizeof(res->msg) - len,
		         "; %zu receipts found in the export", rs.n);
	}
out:
	free(rs.r);
	return rc;
}
