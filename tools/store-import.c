/*
 * store-import - the offline bulk loader: reads records in the import
 * format (one JSON object a line), validates each, and writes them into a
 * store with their index entries, in large transactions without per-commit
 * fsync (MDB_NOSYNC), syncing once at the end.
 *
 *   store-import [--map-size BYTES] [--batch N] [--jobs N] [--no-bulk] [--quiet] STORE_DIR FILE.jsonl
 *
 * --no-bulk writes each transaction's index entries at its commit instead
 * of all of them at the end (store_bulk_begin), for comparison.
 *
 * Parsing, validation (most of the work: jansson) and the indexer's keys
 * and view run on --jobs worker threads; the main thread reads the file and writes to the store in file
 * order, so the result is the same as a single-threaded import.
 *
 * Prints the rejected lines ("line 7: names[1].family: required") on
 * stderr and a summary with the import rate and the store's size on
 * stdout.  Only for a store no daemon has open: it takes the daemon's lock
 * on the store and refuses one a disclosured is serving.  A crash before
 * the final sync can lose the import (never the store's consistency: LMDB
 * commits stay atomic).
 */
#include <errno.h>
#include <pthread.h>
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

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* ---- the pipeline: the main thread fills chunks of lines, workers parse
 * them, the main thread writes them in order ---- */

#define CHUNK_LINES 1000
#define RING 16 /* chunks in flight */

struct chunk {
	char *text; /* the lines, NUL-separated */
	size_t text_len, text_cap;
	size_t n;
	size_t off[CHUNK_LINES], len[CHUNK_LINES];
	unsigned long long lineno[CHUNK_LINES];
	struct offender *rec[CHUNK_LINES]; /* NULL if rejected */
	struct store_prepared *prep[CHUNK_LINES]; /* its index keys and view */
	char *reject[CHUNK_LINES];         /* the message if rejected */
	size_t stale; /* entries of the slot's last use, freed by a worker */
	bool parsed;
};

struct pipeline {
	const struct store *s;
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	struct chunk ring[RING];
	unsigned long long filled, taken, written; /* chunk sequence numbers */
	bool eof;
};

static void chunk_release(struct chunk *c);

static void *worker(void *arg)
{
	struct pipeline *p = arg;

	pthread_setname_np(pthread_self(), "import-parse"); /* for top and perf */

	for (;;) {
		struct chunk *c;
		size_t i;

		pthread_mutex_lock(&p->lock);
		while (p->taken == p->filled && !p->eof)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->taken == p->filled) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		c = &p->ring[p->taken++ % RING];
		pthread_mutex_unlock(&p->lock);

		/* Freeing is a good part of the cost: done here, not in the writer. */
		chunk_release(c);
		for (i = 0; i < c->n; i++) {
			struct dsc_error err;

			c->reject[i] = NULL;
			c->prep[i] = NULL;
			/* The indexer runs here too, so the writer only writes. */
			if (offender_parse(c->text + c->off[i], c->len[i], &c->rec[i], &err) != DSC_OK ||
			    store_prepare(p->s, c->rec[i], &c->prep[i], &err) != DSC_OK) {
				offender_free(c->rec[i]);
				c->rec[i] = NULL;
				c->reject[i] = strdup(err.msg);
				if (c->reject[i] == NULL)
					c->reject[i] = strdup("out of memory");
			}
		}
		pthread_mutex_lock(&p->lock);
		c->parsed = true;
		pthread_cond_broadcast(&p->done);
		pthread_mutex_unlock(&p->lock);
	}
}

/* Reads up to CHUNK_LINES non-empty lines into c. Returns false at the end
 * of the file with nothing read, or on a read error / lack of memory. */
static bool fill_chunk(struct chunk *c, FILE *in, char **line, size_t *cap,
		       unsigned long long *lineno, bool *failed)
{
	ssize_t len;

	c->n = 0;
	c->text_len = 0;
	c->parsed = false;
	while (c->n < CHUNK_LINES && (len = getline(line, cap, in)) != -1) {
		(*lineno)++;
		while (len > 0 && ((*line)[len - 1] == '\n' || (*line)[len - 1] == '\r'))
			len--;
		/* A byte order mark before the first line: ignored (as the
		 * daemon's bulk import does). */
		if (*lineno == 1 && len >= 3 && memcmp(*line, "\xEF\xBB\xBF", 3) == 0) {
			memmove(*line, *line + 3, (size_t)len - 3);
			len -= 3;
		}
		if (len == 0)
			continue;
		if (c->text_len + (size_t)len + 1 > c->text_cap) {
			size_t ncap = (c->text_cap + (size_t)len + 1) * 2;
			char *t = realloc(c->text, ncap);

			if (t == NULL) {
				*failed = true;
				return false;
			}
			c->text = t;
			c->text_cap = ncap;
		}
		memcpy(c->text + c->text_len, *line, (size_t)len);
		c->text[c->text_len + (size_t)len] = '\0';
		c->off[c->n] = c->text_len;
		c->len[c->n] = (size_t)len;
		c->lineno[c->n] = *lineno;
		c->text_len += (size_t)len + 1;
		c->n++;
	}
	if (ferror(in))
		*failed = true;
	return c->n > 0;
}

static void chunk_free_entries(struct chunk *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		offender_free(c->rec[i]);
		store_prepared_free(c->prep[i]);
		free(c->reject[i]);
		c->rec[i] = NULL;
		c->prep[i] = NULL;
		c->reject[i] = NULL;
	}
}

/* Frees what the slot held the last time round. */
static void chunk_release(struct chunk *c)
{
	chunk_free_entries(c, c->stale);
	c->stale = 0;
}

static void chunk_clear(struct chunk *c)
{
	chunk_free_entries(c, c->n > c->stale ? c->n : c->stale);
	c->n = 0;
	c->stale = 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: store-import [--map-size BYTES] [--batch N] [--jobs N] [--no-bulk] [--quiet] "
		   "STORE_DIR FILE.jsonl\n");
}

struct totals {
	unsigned long long created, replaced, rejected, in_txn, batch;
};

/* Writes one parsed chunk; commits every totals->batch records. */
static int write_chunk(struct store *s, struct store_txn **t, struct chunk *c, struct totals *tot,
		       struct dsc_error *err)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		bool rep;

		if (c->rec[i] == NULL) {
			if (tot->rejected++ < REJECTS_SHOWN)
				fprintf(stderr, "line %llu: %s\n", c->lineno[i], c->reject[i]);
			continue;
		}
		if (*t == NULL && store_write_begin(s, t, err) != DSC_OK)
			return DSC_EIO;
		if (store_put_prepared(*t, c->rec[i], c->prep[i], &rep, err) != DSC_OK) {
			fprintf(stderr, "store-import: line %llu (%s): %s\n", c->lineno[i],
				c->rec[i]->id, err->msg);
			return DSC_EIO;
		}
		if (rep)
			tot->replaced++;
		else
			tot->created++;
		if (++tot->in_txn >= tot->batch) {
			int rc = store_write_commit(*t, err);

			*t = NULL;
			tot->in_txn = 0;
			if (rc != DSC_OK) {
				fprintf(stderr, "store-import: after line %llu: %s\n", c->lineno[i],
					err->msg);
				return rc;
			}
		}
	}
	return DSC_OK;
}

int main(int argc, char **argv)
{
	struct store_options opt = { 0 };
	const struct store_indexer *indexer;
	unsigned long long map_size = 8ULL << 30, jobs = 2, lineno = 0;
	struct totals tot = { 0, 0, 0, 0, 50000 };
	struct store_txn *t = NULL;
	struct store *s = NULL;
	struct pipeline *p = NULL;
	pthread_t threads[16];
	unsigned long long n_threads = 0, i;
	struct dsc_error err;
	char *line = NULL;
	size_t cap = 0, used = 0, mapped = 0, records = 0;
	double t0, t1, t_index = 0;
	bool quiet = false, failed = false, bulk = true;
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
			tot.batch = strtoull(argv[++a], &end, 10);
			if (*end != '\0' || tot.batch == 0) {
				fprintf(stderr, "store-import: --batch: not a number: %s\n", argv[a]);
				return 2;
			}
		} else if (strcmp(argv[a], "--jobs") == 0 && a + 1 < argc) {
			jobs = strtoull(argv[++a], &end, 10);
			if (*end != '\0' || jobs == 0 || jobs > 16) {
				fprintf(stderr, "store-import: --jobs: a number 1-16: %s\n", argv[a]);
				return 2;
			}
		} else if (strcmp(argv[a], "--no-bulk") == 0) {
			bulk = false;
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
	/* Never beside a daemon serving the store: this writes no audit
	 * entry, and the daemon's readers would not see its commits. */
	if (store_lock_take(argv[a], &err) < 0) {
		fprintf(stderr, "store-import: %s%s\n", err.msg,
			err.code == DSC_ECONFLICT ? ": stop it first, or import through the API "
						    "(disclosurectl import)" : "");
		goto out;
	}
	if (store_open(&s, &opt, indexer, &err) != DSC_OK) {
		fprintf(stderr, "store-import: %s\n", err.msg);
		goto out;
	}
	/* Index entries are written once, sorted, at the end. */
	if (bulk && store_bulk_begin(s, &err) != DSC_OK) {
		fprintf(stderr, "store-import: %s\n", err.msg);
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		fprintf(stderr, "store-import: out of memory\n");
		goto out;
	}
	p->s = s;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	for (i = 0; i < jobs; i++) {
		if (pthread_create(&threads[n_threads], NULL, worker, p) != 0) {
			fprintf(stderr, "store-import: cannot start a worker thread\n");
			failed = true;
			break;
		}
		n_threads++;
	}

	while (!failed) {
		struct chunk *c;

		/* Keep the workers fed while there is room in the ring. */
		if (!p->eof && p->filled - p->written < RING) {
			c = &p->ring[p->filled % RING];
			if (!fill_chunk(c, in, &line, &cap, &lineno, &failed)) {
				pthread_mutex_lock(&p->lock);
				p->eof = true;
				pthread_cond_broadcast(&p->work);
				pthread_mutex_unlock(&p->lock);
			} else {
				pthread_mutex_lock(&p->lock);
				p->filled++;
				pthread_cond_signal(&p->work);
				pthread_mutex_unlock(&p->lock);
			}
			if (p->filled - p->written < RING / 2 && !p->eof)
				continue;
		}
		if (p->written == p->filled) {
			if (p->eof)
				break;
			continue;
		}
		c = &p->ring[p->written % RING];
		pthread_mutex_lock(&p->lock);
		while (!c->parsed)
			pthread_cond_wait(&p->done, &p->lock);
		pthread_mutex_unlock(&p->lock);
		if (write_chunk(s, &t, c, &tot, &err) != DSC_OK)
			failed = true;
		c->stale = c->n; /* the next worker to take this slot frees them */
		p->written++;
	}
	/* Stop the workers (also after a failure: they finish their chunk). */
	pthread_mutex_lock(&p->lock);
	p->eof = true;
	p->taken = p->filled; /* nothing more to take */
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);
	if (failed) {
		if (ferror(in))
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
	t_index = now();
	if (bulk && store_bulk_end(s, &err) != DSC_OK) {
		fprintf(stderr, "store-import: writing the index: %s\n", err.msg);
		goto out;
	}
	if (store_sync(s, &err) != DSC_OK) {
		fprintf(stderr, "store-import: %s\n", err.msg);
		goto out;
	}
	t1 = now();
	t_index = t1 - t_index;
	store_stat(s, &used, &mapped, &records);
	if (tot.rejected > REJECTS_SHOWN)
		fprintf(stderr, "... and %llu more rejected lines\n", tot.rejected - REJECTS_SHOWN);
	if (!quiet)
		printf("imported %llu lines: %llu created, %llu replaced, %llu rejected, in %.2f s\n",
		       lineno, tot.created, tot.replaced, tot.rejected, t1 - t0);
	/* CPU seconds too: on a shared machine the wall clock says as much
	 * about the neighbours as about the loader. */
	printf("records=%zu seconds=%.3f rate=%.0f used_bytes=%zu cpu_total=%.3f cpu_writer=%.3f "
	       "index_seconds=%.3f\n",
	       records, t1 - t0, (double)(tot.created + tot.replaced) / (t1 - t0), used,
	       clock_s(CLOCK_PROCESS_CPUTIME_ID), clock_s(CLOCK_THREAD_CPUTIME_ID), t_index);
	rc = 0;
out:
	store_write_abort(t);
	store_close(s);
	if (p != NULL) {
		for (i = 0; i < RING; i++) {
			chunk_clear(&p->ring[i]);
			free(p->ring[i].text);
		}
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->work);
		pthread_cond_destroy(&p->done);
		free(p);
	}
#ifdef HAVE_MATCHER
	matcher_free(m);
#endif
	free(line);
	fclose(in);
	return rc;
}
