/*
 * nickname.h - the curated table of nicknames, diminutives and spelling
 * variants of given names (data/nicknames.tsv, compiled into the library
 * and installed beside the program).
 *
 * A line of the table is a group: "william<TAB>bill billy will liam".
 * Two names are related when they share a group.  A line that begins with
 * '!' lists names that are apart, however alike: "! hassan hasan /
 * hussein husain", sets of spellings separated by slashes.  Names may sit in
 * several groups ("ron" is in ronald's, aaron's, cameron's and
 * veronica's), which is why relation is not transitive: ronald and
 * veronica are not related through ron.
 *
 * Read-only after it is built: safe to share between threads.  Never
 * treats a nickname hit as proof: the scorer weighs it below an exact name.
 */
#ifndef DISCLOSURE_NICKNAME_H
#define DISCLOSURE_NICKNAME_H

#include <stdbool.h>
#include <stddef.h>

#include "disclosure/error.h"

#define NICKNAME_FILE_MAX (4u << 20) /* bytes of a table file */

struct nickname_table;

/* Builds a table from text in the file format; source names it in errors
 * ("nicknames.tsv:14: name 'b!ll' has characters other than a-z"). */
int nickname_table_parse(struct nickname_table **out, const char *text, size_t len,
			 const char *source, struct dsc_error *err);
/* path NULL: the table compiled into the library. */
int nickname_table_load(struct nickname_table **out, const char *path, struct dsc_error *err);
/* The family-name variant table (data/surnames.tsv: romanisations and
 * spellings of one surname, "zhou<TAB>chow chou jau"), in the same format
 * and read by the same code; path NULL: the table compiled in. */
int surname_table_load(struct nickname_table **out, const char *path, struct dsc_error *err);
void nickname_table_free(struct nickname_table *t);

/* Names are normalised tokens (lower-case a-z). */
bool nickname_related(const struct nickname_table *t, const char *a, const char *b);
/* A name's number in the table, -1 if it is not listed (or t is NULL),
 * and nickname_related for an a whose number is known: for a caller
 * that asks about one name against many (a check's given name against
 * every record's). */
long nickname_find(const struct nickname_table *t, const char *name);
bool nickname_related_to(const struct nickname_table *t, long ia, const char *b);
/* Whether a line of names apart ("! hassan hasan / hussein husain")
 * holds the two in different sets: two names, not spellings of one. */
bool nickname_apart(const struct nickname_table *t, const char *a, const char *b);
/* Every name related to name (not name itself), at most max, the names
 * its groups begin with (the full names) first; returns the
 * count stored.  The strings belong to the table. */
size_t nickname_variants(const struct nickname_table *t, const char *name, const char **out, size_t max);
/* Number of groups and distinct names (for tests and logs). */
void nickname_table_size(const struct nickname_table *t, size_t *groups, size_t *names);

#endif
