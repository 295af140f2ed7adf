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

struct config {
	char *path; /* the file read */
	struct {
		char host[256]; /* "127.0.0.1", "::1" (no brackets) */
		char port[8];
		int workers;
		int max_connections;
		int request_timeout; /* seconds */
		size_t max_body;
		size_t max_bulk_body; /* addition: bulk import limit, default 256 MiB */
		int rate_limit;       /* requests/s per principal, 0 = unlimited */
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
	} match;
};

int config_load(const char *path, struct config **out, struct dsc_error *err);
/* For tests and fuzzing: parse text as if read from a file at path. */
int config_parse(const char *text, size_t len, const char *path, struct config **out,
		 struct dsc_error *err);
void config_free(struct config *c);

#endif
