/*
 * chunked.c - the chunked-body decoder of include/disclosure/chunked.h: a
 * state machine fed bytes as they arrive, which hands on the body's bytes
 * in runs and stops at the end of the trailer section.
 *
 * Framing is read byte by byte (a chunk-size line is at most
 * CHUNKED_LINE_MAX bytes, a trailer section CHUNKED_TRAILER_MAX); a
 * chunk's data is handed on in as few runs as the input allows.
 */
#include <string.h>

#include "disclosure/chunked.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

enum phase {
	P_SIZE = 0,    /* the chunk size's digits */
	P_SIZE_WS,     /* white space after them */
	P_EXT,         /* a chunk extension, up to the line's end */
	P_SIZE_CR,     /* a CR: the LF must follow */
	P_DATA,        /* the chunk's bytes */
	P_DATA_END,    /* the CRLF after them */
	P_DATA_CR,     /* its CR was read: the LF must follow */
	P_TRAILER,     /* the start of a trailer line, or of the blank line ending them */
	P_TRAILER_NAME,
	P_TRAILER_VALUE,
	P_TRAILER_CR,
	P_END_CR, /* the blank line's CR: its LF ends the body */
};

void chunked_init(struct chunked *ck, uint64_t limit)
{
	memset(ck, 0, sizeof(*ck));
	ck->phase = P_SIZE;
	ck->limit = limit;
	ck->status = CHUNKED_MORE;
}

static int hex_value(unsigned char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* A token character of RFC 9110 5.6.2 (a field name's). */
static bool tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* A control byte other than horizontal tab (CR and LF are framing). */
static bool control(unsigned char ch)
{
	return (ch < 0x20 && ch != '\t') || ch == 0x7f;
}

static enum chunked_status refuse(struct chunked *ck, const char *why)
{
	ck->why = why;
	ck->status = CHUNKED_BAD;
	return ck->status;
}

/* The chunk-size line has ended: the last chunk, one too big, or data. */
static enum chunked_status size_line_end(struct chunked *ck)
{
	if (ck->size == 0) {
		ck->phase = P_TRAILER;
		return CHUNKED_MORE;
	}
	if (ck->size > ck->limit - ck->total) {
		ck->announced = ck->size > UINT64_MAX - ck->total ? UINT64_MAX : ck->total + ck->size;
		ck->status = CHUNKED_TOO_BIG;
		return ck->status;
	}
	ck->left = ck->size;
	ck->phase = P_DATA;
	return CHUNKED_MORE;
}

/* The next chunk-size line begins. */
static void next_chunk(struct chunked *ck)
{
	ck->phase = P_SIZE;
	ck->size = 0;
	ck->digits = 0;
	ck->line_len = 0;
}

/* One byte of a chunk-size line (phases P_SIZE to P_SIZE_CR). */
static enum chunked_status size_byte(struct chunked *ck, unsigned char ch)
{
	int v;

	if (++ck->line_len > CHUNKED_LINE_MAX)
		return refuse(ck, "a chunk-size line of more than " STRINGIFY(CHUNKED_LINE_MAX) " bytes");
	switch (ck->phase) {
	case P_SIZE:
		if ((v = hex_value(ch)) >= 0) {
			if (++ck->digits > CHUNKED_SIZE_DIGITS)
				return refuse(ck, "a chunk size of more than " STRINGIFY(
							  CHUNKED_SIZE_DIGITS) " hexadecimal digits");
			ck->size = ck->size * 16 + (uint64_t)v;
			return CHUNKED_MORE;
		}
		if (ck->digits == 0)
			return refuse(ck, ch == '\r' || ch == '\n' ? "an empty chunk-size line"
								   : "a chunk size that is not hexadecimal");
		if (ch == ' ' || ch == '\t')
			ck->phase = P_SIZE_WS;
		else if (ch == ';')
			ck->phase = P_EXT;
		else if (ch == '\r')
			ck->phase = P_SIZE_CR;
		else if (ch == '\n')
			return size_line_end(ck);
		else
			return refuse(ck, "a chunk size that is not hexadecimal");
		return CHUNKED_MORE;
	case P_SIZE_WS:
		if (ch == ';')
			ck->phase = P_EXT;
		else if (ch == '\r')
			ck->phase = P_SIZE_CR;
		else if (ch == '\n')
			return size_line_end(ck);
		else if (ch != ' ' && ch != '\t')
			return refuse(ck, "a chunk-size line with more than a size and extensions");
		return CHUNKED_MORE;
	case P_EXT:
		if (ch == '\r')
			ck->phase = P_SIZE_CR;
		else if (ch == '\n')
			return size_line_end(ck);
		else if (control(ch))
			return refuse(ck, "a control byte in a chunk extension");
		return CHUNKED_MORE;
	default: /* P_SIZE_CR */
		if (ch != '\n')
			return refuse(ck, "a CR not followed by LF");
		return size_line_end(ck);
	}
}

/* One byte of the trailer section (phases P_TRAILER to P_END_CR). */
static enum chunked_status trailer_byte(struct chunked *ck, unsigned char ch)
{
	if (++ck->trailer_len > CHUNKED_TRAILER_MAX)
		return refuse(ck, "a trailer section of more than " STRINGIFY(CHUNKED_TRAILER_MAX) " bytes");
	switch (ck->phase) {
	case P_TRAILER:
		if (ch == '\r')
			ck->phase = P_END_CR;
		else if (ch == '\n')
			ck->status = CHUNKED_DONE;
		else if (ch == ' ' || ch == '\t')
			return refuse(ck, "a folded trailer line");
		else if (tchar(ch))
			ck->phase = P_TRAILER_NAME;
		else
			return refuse(ck, "a trailer line that is not 'name: value'");
		return ck->status;
	case P_TRAILER_NAME:
		if (ch == ':')
			ck->phase = P_TRAILER_VALUE;
		else if (!tchar(ch))
			return refuse(ck, "a trailer line that is not 'name: value'");
		return CHUNKED_MORE;
	case P_TRAILER_VALUE:
		if (ch == '\r')
			ck->phase = P_TRAILER_CR;
		else if (ch == '\n')
			ck->phase = P_TRAILER;
		else if (control(ch))
			return refuse(ck, "a control byte in a trailer line");
		return CHUNKED_MORE;
	case P_TRAILER_CR:
		if (ch != '\n')
			return refuse(ck, "a CR not followed by LF");
		ck->phase = P_TRAILER;
		return CHUNKED_MORE;
	default: /* P_END_CR */
		if (ch != '\n')
			return refuse(ck, "a CR not followed by LF");
		ck->status = CHUNKED_DONE;
		return ck->status;
	}
}

enum chunked_status chunked_feed(struct chunked *ck, const char *p, size_t n, size_t *used,
				 bool (*data)(void *arg, const char *bytes, size_t len), void *arg)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0;

	*used = 0;
	if (ck->status != CHUNKED_MORE)
		return ck->status;
	while (i < n && ck->status == CHUNKED_MORE) {
		switch (ck->phase) {
		case P_DATA: {
			size_t k = n - i;

			if ((uint64_t)k > ck->left)
				k = (size_t)ck->left;
			if (!data(arg, p + i, k)) {
				ck->status = CHUNKED_ABORTED;
				break;
			}
			ck->total += k;
			ck->left -= k;
			i += k;
			if (ck->left == 0)
				ck->phase = P_DATA_END;
			continue;
		}
		case P_DATA_END:
			if (u[i] == '\r')
				ck->phase = P_DATA_CR;
			else if (u[i] == '\n')
				next_chunk(ck);
			else
				refuse(ck, "a chunk's data not followed by CRLF");
			break;
		case P_DATA_CR:
			if (u[i] == '\n')
				next_chunk(ck);
			else
				refuse(ck, "a CR not followed by LF");
			break;
		case P_SIZE:
		case P_SIZE_WS:
		case P_EXT:
		case P_SIZE_CR:
			size_byte(ck, u[i]);
			break;
		default:
			trailer_byte(ck, u[i]);
			break;
		}
		/* A byte that ends the body is the body's; one refused is not read. */
		if (ck->status == CHUNKED_MORE || ck->status == CHUNKED_DONE)
			i++;
	}
	*used = i;
	return ck->status;
}
