/*
 * match.h - finding the right person: normalisation, candidate generation
 * over the store's indexes, Fellegi-Sunter style scoring, explained
 * candidates.  Never asserts identity: it ranks candidates with reasons and
 * leaves the decision to a person.
 *
 * struct matcher is shared read-only by all threads after matcher_new();
 * struct match_ctx is per thread (it owns the ICU transliterator and
 * scratch space: never share one between threads).
 */
#ifndef DISCLOSURE_MATCH_H
#define DISCLOSURE_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "disclosure/error.h"
#include "disclosure/offender.h"
#include "disclosure/store.h"

#define CHECK_MAX_NAMES 10
#define MATCH_MAX_CANDIDATES 10
#define MATCH_MAX_REASONS 16
#define MATCH_NAME_MAX 256 /* bytes kept of a matched name part for display */

enum band { BAND_NONE = 0, BAND_POSSIBLE_MATCH = 1, BAND_MATCH = 2 };
const char *band_name(enum band b); /* "no_match", "possible_match", "match" */

/* The person a check asks about (the "subject" of contract.md). */
struct check_subject {
	struct person_name names[CHECK_MAX_NAMES]; /* strings owned by the caller */
	size_t n_names;
	/* year 0 = absent; a date known in part (addition: "1970-03",
	 * "1970") has day 0, or month and day 0 */
	struct date dob;
	int age;         /* whole years, -1 = absent */
	char postcode[128]; /* as sent, at most 127 bytes */
	char sex; /* 'M' 'F' 'X' or 0 */
};

struct candidate {
	char offender_id[OFFENDER_ID_MAX + 1];
	uint32_t recno;
	enum band band;
	double score; /* 0..1, rounded to 2 places for display */
	struct {
		char given[MATCH_NAME_MAX];
		char middle[MATCH_NAME_MAX];
		char family[MATCH_NAME_MAX];
		enum name_kind kind;
	} matched_name; /* the record's name that matched, original spelling */
	const char *reasons[MATCH_MAX_REASONS]; /* static strings, "family:exact" */
	size_t n_reasons;
	char managing_force[64];
	/* summary */
	int birth_year; /* 0 if unknown */
	char sex;       /* 0 if unknown */
	int mappa_category; /* 0 if unknown */
	enum offender_status status;
};

struct check_result {
	enum band outcome;
	struct candidate candidates[MATCH_MAX_CANDIDATES];
	size_t n_candidates;
	size_t n_considered; /* records weighed, by their view or their index tags */
	size_t n_views;      /* of which by their view (for metrics and benchmarks) */
	/* The register holds, or may hold, records that would be in the
	 * possible band and are not among the candidates: the list is full
	 * and some were left out, or a key was too common to read whole;
	 * or, with fewer than ten and no decisive match, one of the name's
	 * own keys was (the scan budget, a name too common).  A date of
	 * birth or a postcode narrows the check. */
	bool more_candidates;
};

struct matcher;
struct match_ctx;

/* nickname_file: path of the nickname/variant table, or NULL for the
 * table compiled into the program (data/nicknames.tsv). */
int matcher_new(struct matcher **out, const char *nickname_file, struct dsc_error *err);
/* The same with the family-name variant table too: surname_file, or NULL
 * for the table compiled in (data/surnames.tsv).  matcher_new uses the
 * built-in one. */
int matcher_new_tables(struct matcher **out, const char *nickname_file, const char *surname_file,
		       struct dsc_error *err);
void matcher_free(struct matcher *m);
/* The indexer to hand to store_open(). */
const struct store_indexer *matcher_indexer(const struct matcher *m);

int match_ctx_new(const struct matcher *m, struct match_ctx **out, struct dsc_error *err);
void match_ctx_free(struct match_ctx *c);

/* Runs a whole check.  r must be inside store_read_begin(); the result
 * holds copies, so the caller may store_read_end() right after. */
int match_run(struct match_ctx *c, struct store_reader *r, const struct check_subject *subject,
	      struct check_result *out, struct dsc_error *err);

#endif
