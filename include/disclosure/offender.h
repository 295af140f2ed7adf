/*
 * offender.h - the offender record of the import format (contract.md,
 * "Offender record"): parsed and validated with jansson into a C structure,
 * and kept as canonical compact JSON for storage and display.
 * Names in any script are kept byte for byte; normalisation is the
 * matcher's business, never this module's.
 */
#ifndef DISCLOSURE_OFFENDER_H
#define DISCLOSURE_OFFENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "disclosure/error.h"

#define OFFENDER_ID_MAX 64

enum name_kind { NAME_PRIMARY = 0, NAME_ALIAS = 1 };

struct person_name {
	char *given;  /* NULL if absent */
	char *middle; /* NULL if absent */
	char *family; /* never NULL in a valid record */
	enum name_kind kind;
};

/* A calendar date; year == 0 means absent. */
struct date {
	uint16_t year;
	uint8_t month;
	uint8_t day;
};

struct address {
	char *text;     /* NULL if absent */
	char *postcode; /* as given, NULL if absent */
	struct date from, to;
};

enum offender_status { STATUS_ACTIVE = 0, STATUS_EXPIRED, STATUS_IN_CUSTODY, STATUS_DECEASED };

struct offender {
	char id[OFFENDER_ID_MAX + 1];
	struct person_name *names;
	size_t n_names;
	struct date dob;
	struct date *other_dobs;
	size_t n_other_dobs;
	char sex; /* 'M', 'F', 'X' or 0 if absent */
	struct address *addresses;
	size_t n_addresses;
	char *managing_force;
	enum offender_status status;
	int mappa_category; /* 1-3, 0 if absent */
	int mappa_level;    /* 1-3, 0 if absent */
	char *risk_level;   /* NULL if absent */
	char *json;         /* canonical compact JSON of the whole record */
	size_t json_len;
};

/*
 * Parses one record (one line of the import format).  On failure returns
 * DSC_EJSON (not JSON / not an object / not UTF-8) or DSC_EINVAL with
 * err->field the JSON path ("names[1].family") and err->msg
 * "names[1].family: required".  Callers add "line N: ".
 */
int offender_parse(const char *text, size_t len, struct offender **out, struct dsc_error *err);
/* offender_parse() with the record in the arena (a bulk import's chunk):
 * it lives until the arena is reset or freed, and offender_free() must
 * not be called on it. */
struct dsc_arena;
int offender_parse_in(struct dsc_arena *arena, const char *text, size_t len,
		      struct offender **out, struct dsc_error *err);
int offender_from_json(json_t *obj, struct offender **out, struct dsc_error *err);
void offender_free(struct offender *o);

/* Writes s (n bytes of valid UTF-8) as a JSON string, quotes included,
 * escaped as jansson escapes it (the quote, the backslash and control
 * characters; nothing else), through put(arg, bytes, len) in a few runs.
 * The record's canonical JSON and the daemon's answers use it. */
void json_quote(const char *s, size_t n, void (*put)(void *arg, const char *p, size_t len), void *arg);
/* The length of the UTF-8 sequence at s (at most n bytes) if it is one
 * jansson accepts (no overlong form, no surrogate, nothing past
 * U+10FFFF; ASCII is 1), else 0. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* utf8_seq_len() that also gives the sequence's code point in *cp. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* Whether all n bytes of s are such sequences (a string jansson accepts). */
bool utf8_valid(const char *s, size_t n);
/* Whether the valid UTF-8 s holds a code point that would change how text
 * after it shows on a terminal or a page: a C1 control (U+0080-U+009F, CSI
 * among them) or a bidirectional embedding, override or isolate
 * (U+202A-U+202E, U+2066-U+2069: text that reads otherwise than it is
 * stored).  The marks U+200E/U+200F, which Arabic and Hebrew text carry,
 * are not among them. */
bool utf8_has_display_control(const char *s, size_t n);
/* Whether the code point cp is one of those. */
bool cp_is_display_control(uint32_t cp);
/* Of the 8 bytes in v (as read from memory), those a JSON string cannot
 * carry as they are or that need a closer look ('"', '\\', below 0x20,
 * from 0x80), as the high bit of each: 0 when there is none.  Each test
 * is exact for "some byte is", and the lowest flag is exact (a borrow
 * only runs past a byte that already matched).  The string scanners of
 * the record parser and of the JSON writers step eight bytes at a time
 * with it. */
static inline uint64_t json_special8(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\');

	return (v & highs) | ((v - ones * 0x20) & ~v & highs) | ((q - ones) & ~q & highs) |
	       ((bs - ones) & ~bs & highs);
}

/* Index of the primary name in o->names. */
size_t offender_primary(const struct offender *o);

bool offender_id_valid(const char *id);
/*
 * Sex as registers, forms and police systems write it: M, F, X in either
 * case, male and female in any case (*out 'M', 'F', 'X'); "", spaces, U,
 * unknown, not known and N/K in any case for not known (*out 0).  False for
 * anything else.  s holds len bytes (may hold a NUL: then false).
 */
bool sex_read(const char *s, size_t len, char *out);
const char *offender_status_name(enum offender_status s);

/* "YYYY-MM-DD", a real calendar date. Returns false if invalid. */
bool date_parse(const char *s, struct date *out);
/* Writes "YYYY-MM-DD" (11 bytes with NUL). */
void date_format(const struct date *d, char out[11]);

#endif
