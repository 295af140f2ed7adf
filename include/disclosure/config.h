/*
 * config.h - the daemon's configuration file (contract.md
 * "Daemon configuration"), read with inih.  Unknown sections and keys are
 * errors with file:line; relative paths are made relative to the file's
 * folder.  Checking that the files named here are usable (permissions,
 * certificates) is the daemon's --check-config, not this module.
 */
#ifndef DISCLOSURE_CONFIG_H
#define DISCLOSURE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "disclosure/error.h"

#define CONFIG_KEYS_MAX 32

struct config {
	char *path; /* the file read */
	unsigned key_line[CONFIG_KEYS_MAX]; /* config.c's; ask config_line() */
	struct {
		char host[256]; /* "127.0.0.1", "::1" (no brackets) */
		char port[8];
		int workers;
		int max_connections;
		int request_timeout; /* seconds */
		size_t max_body;
		size_t max_bulk_body; /* addition: bulk import limit, default 256 MiB */
		int rate_limit;       /* requests/s per principal, 0 = unlimited */
		/* addition: open connections per principal, 0 = a quarter of
		 * max_connections (at least 1) */
		int max_connections_per_principal;
	} server;
	struct {
		char *certificate;
		char *private_key;
		char *client_ca;
		char *crl; /* NULL if not set */
	} tls;
	struct {
		char *path;
		size_t map_size;
		size_t preallocate; /* addition: zeros kept written past the data, bytes */
	} store;
	struct {
		char *signing_key;
		unsigned checkpoint_every;
		unsigned checkpoint_seconds;
	} audit;
	struct {
		char *acl;
	} access;
	struct {
		char *nicknames; /* addition: NULL = the built-in table */
		char *surnames;  /* addition: NULL = the built-in family-name table */
	} match;
};

/* The problems of a file, one message at a time ("FILE:LINE: ..."). */
typedef void (*config_report_fn)(void *arg, const char *msg);

/* Refuses (DSC_EPERM) a file others may write, as it refuses any error. */
int config_load(const char *path, struct config **out, struct dsc_error *err);
/*
 * Addition, for --check-config: reads path as config_load does, but does
 * not stop at the first problem: each is handed to report in the words
 * config_load would stop with, and the reading goes on.  Returns the number
 * of problems; *out is the configuration as far as the file gave one (a
 * wrong value left at its default, a missing or wrong path NULL), or NULL
 * when the file could not be read at all.
 */
unsigned config_check(const char *path, struct config **out, config_report_fn report, void *arg);
/* The line of the file that gave [section] key, 0 if none did. */
unsigned config_line(const struct config *c, const char *section, const char *key);
/* For tests and fuzzing: parse text as if read from a file at path. */
int config_parse(const char *text, size_t len, const char *path, struct config **out,
		 struct dsc_error *err);
void config_free(struct config *c);

/*
 * Addition: the INI reading config.c and acl.c share, on top of inih.
 * Lines are counted here, so every event and every error carries the line
 * it came from; section headers are read here (inih keeps only 49 bytes of
 * a section name); leading white space is dropped (so an indented line is
 * never a continuation of the value above); a line longer than inih's
 * buffer, or holding a NUL byte, is an error rather than silently split.
 * Inline comments start with " ;" (white space, then ';'), as inih's.
 */
enum config_ini_kind { CONFIG_INI_SECTION_START, CONFIG_INI_SECTION_END, CONFIG_INI_KEY };
struct config_ini_event {
	enum config_ini_kind kind;
	unsigned line;         /* of the key, or of the section header */
	const char *section;   /* NULL for a key before any section */
	unsigned section_line; /* line of the section's header, 0 if none */
	const char *key;       /* CONFIG_INI_KEY only */
	const char *value;     /* CONFIG_INI_KEY only, trimmed, comments removed */
};
/* Returns 0, or nonzero with msg set (and *err_line, which starts as
 * ev->line, moved if another line is to blame). */
typedef int (*config_ini_fn)(void *user, const struct config_ini_event *ev, unsigned *err_line,
			     char *msg, size_t msglen);
/* Errors come back as DSC_EINVAL "NAME:LINE: msg". */
int config_ini_parse(const char *text, size_t len, const char *name, config_ini_fn fn, void *user,
		     struct dsc_error *err);
/* The same, reading on past errors: each "NAME:LINE: msg" goes to report,
 * the count is returned.  A section whose header is broken or refused by
 * fn has its keys skipped (and no SECTION_END): read under the section
 * above they would only add errors of their own. */
unsigned config_ini_parse_all(const char *text, size_t len, const char *name, config_ini_fn fn,
			      void *user, config_report_fn report, void *report_arg);
/*
 * Reads a whole (small) file: DSC_EIO with strerror, DSC_ETOOBIG over max,
 * DSC_EPERM if others may write it ("WHAT PATH is writable by others (mode
 * 666): AT_STAKE; take that away: chmod o-w PATH"): whoever can change the
 * file changes what the daemon allows.
 */
int config_file_read(const char *path, size_t max, const char *what, const char *at_stake,
		     char **text, size_t *len, struct dsc_error *err);
/* The same for --check-config: each problem to report; -1 if the file
 * could not be read (*text unset), else the number of problems (the mode)
 * with *text read all the same. */
int config_file_check(const char *path, size_t max, const char *what, const char *at_stake,
		      char **text, size_t *len, config_report_fn report, void *arg);

#endif
