/*
 * store-import - the offline bulk loader: reads records in the import
 * format (one JSON object a line), validates each, and writes them into a
 * store with their index entries, in large transactions without per-commit
 * fsync (MDB_NOSYNC), syncing once at the end.
 *
 *   store-import [--map-size BYTES] [--batch N] [--quiet] STORE_DIR FILE.jsonl
 *
 * Prints the rejected lines ("line 7: names[1].family: required") on
 * stderr and a summary with the import rate and the store's size on
 * stdout.  Only for a store no daemon has open: it must never run beside a
 * serving disclosured, and a crash before the final sync can lose the
 * import (never the store's consistency: LMDB commits stay atomic).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "disclosure/offender.h"
#include "disclosure/store.h"
#ifdef HAVE_MATCHER
#include "disclosure/match.h"
#endif

#define REJECTS_SHOWN 20

#ifndef HAVE_MATCHER
/* Without the matcher: one key per family name (ASCII lower-cased, any
 * other byte kept) and one per birth year, enough to exercise the index. */
static int simple_keys(const struct offender *o, store_emit_fn emit, void *sink, void *arg)
{
	char key[STORE_KEY_MAX];
	size_t i, j, n;
	int rc;

	(void)arg;
	for (i = 0; i < o->n_names; i++) {
		const char *f = o->names[i].family;

		key[0] = 'f';
		key[1] = ':';
		n = strlen(f);
		if (n > sizeof(key) - 2)
			n = sizeof(key) - 2;
		for (j = 0; j < n; j++)
			key[2 + j] = (f[j] >= 'A' && f[j] <= 'Z') ? (char)(f[j] - 'A' + 'a') : f[j];
		if ((rc = emit(sink, key, n + 2)) != 0)
			return rc;
	}
	if (o->dob.year != 0) {
		n = (size_t)snprintf(key, sizeof(key), "y:%04u", (unsigned)o->dob.year);
		if ((rc = emit(sink, key, n)) != 0)
			return rc;
	}
	return 0;
}

static const struct store_indexer simple_indexer = { simple_keys, NULL, NULL, 1 };
#endif

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: store-import [--map-size BYTES] [--batch N] [--quiet] STORE_DIR FILE.jsonl\n");
}

int main(int argc, char **argv)
{
	struct store_options opt = { 0 };
	const struct store_indexer *indexer;
	unsigned long long map_size = 8ULL << 30, batch = 50000;
	unsigned long long lineno = 0, created = 0, replaced = 0, rejected = 0, in_txn = 0;
	struct store_txn *t = NULL;
	struct store *s = NULL;
	struct dsc_error err;
	char *line = NULL;
	size_t cap = 0, used = 0, mapped = 0, records = 0;
	ssize_t len;
	double t0, t1;
	bool quiet = false;
	FILE *in;
	int a, rc = 1;
#ifdef HAVE_MATCHER
	struct matcher *m = NULL;
#endif

	for (a = 1; a < argc && argv[a][0] == '-'; a++) {
		char *end;

		if (strcmp(argv[a], "--map-size") == 0 && a + 1 < argc) {
			map_size = strtoull(argv[++a], &end, 10);
			if (*end != '\0' || map_size == 0) {
				fprintf(stderr, "store-import: --map-size: not a size in bytes: %s\n", argv[a]);
				return 2;
			}
		} else if (strcmp(argv[a], "--batch") == 0 && a + 1 < argc) {
			batch = strtoull(argv[++a], &end, 10);
			if (*end != '\0' || batch == 0) {
				fprintf(stderr, "store-import: --batch: not a number: %s\n", argv[a]);
				return 2;
			}
		} else if (strcmp(argv[a], "--quiet") == 0) {
			quiet = true;
		} else if (strcmp(argv[a], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "store-import: unknown argument: %s\n", argv[a]);
			usage(stderr);
			return 2;
		}
	}
	if (argc - a != 2) {
		usage(stderr);
		return 2;
	}
	if ((in = fopen(argv[a + 1], "r")) == NULL) {
		fprintf(stderr, "store-import: %s: %s\n", argv[a + 1], strerror(errno));
		return 1;
	}

#ifdef HAVE_MATCHER
	if (matcher_new(&m, NULL, &err) != DSC_OK) {
		fprintf(stderr, "store-import: matcher: %s\n", err.msg);
		fclose(in);
		return 1;
	}
	indexer = matcher_indexer(m);
#else
	indexer = &simple_indexer;
#endif
	opt.path = argv[a];
	opt.map_size = (size_t)map_size;
	opt.bulk_nosync = true;
	t0 = now();
	if (store_open(&s, &opt, indexer, &err) != DSC_OK) {
		fprintf(stderr, "store-import: %s\n", err.msg);
		goto out;
	}
	while ((len = getline(&line, &cap, in)) != -1) {
		struct offender *o;
		bool rep;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (offender_parse(line, (size_t)len, &o, &err) != DSC_OK) {
			if (rejected++ < REJECTS_SHOWN)
				fprintf(stderr, "line %llu: %s\n", lineno, err.msg);
			continue;
		}
		if (t == NULL && store_write_begin(s, &t, &err) != DSC_OK) {
			offender_free(o);
			fprintf(stderr, "store-import: %s\n", err.msg);
			goto out;
		}
		if (store_put_offender(t, o, &rep, &err) != DSC_OK) {
			fprintf(stderr, "store-import: line %llu (%s): %s\n", lineno, o->id, err.msg);
			offender_free(o);
			goto out;
		}
		offender_free(o);
		if (rep)
			replaced++;
		else
			created++;
		if (++in_txn >= batch) {
			rc = store_write_commit(t, &err);
			t = NULL;
			in_txn = 0;
			if (rc != DSC_OK) {
				fprintf(stderr, "store-import: after line %llu: %s\n", lineno, err.msg);
				rc = 1;
				goto out;
			}
			rc = 1;
		}
	}
	if (ferror(in)) {
		fprintf(stderr, "store-import: reading %s: %s\n", argv[a + 1], strerror(errno));
		goto out;
	}
	if (t != NULL) {
		int crc = store_write_commit(t, &err);

		t = NULL;
		if (crc != DSC_OK) {
			fprintf(stderr, "store-import: at the end: %s\n", err.msg);
			goto out;
		}
	}
	if (store_sync(s, &err) != DSC_OK) {
		fprintf(stderr, "store-import: %s\n", err.msg);
		goto out;
	}
	t1 = now();
	store_stat(s, &used, &mapped, &records);
	if (rejected > REJECTS_SHOWN)
		fprintf(stderr, "... and %llu more rejected lines\n", rejected - REJECTS_SHOWN);
	if (!quiet)
		printf("imported %llu lines: %llu created, %llu replaced, %llu rejected, in %.2f s\n",
		       lineno, created, replaced, rejected, t1 - t0);
	printf("records=%zu seconds=%.3f rate=%.0f used_bytes=%zu\n", records, t1 - t0,
	       (double)(created + replaced) / (t1 - t0), used);
	rc = 0;
out:
	store_write_abort(t);
	store_close(s);
#ifdef HAVE_MATCHER
	matcher_free(m);
#endif
	free(line);
	fclose(in);
	return rc;
}
