/*
 * store.h - the LMDB store: offender records with their secondary indexes,
 * stored checks, the audit log and a little metadata, in one environment.
 *
 * One writer (a store_txn at a time, from one thread); any number of
 * readers, one struct store_reader per thread, reset after each request and
 * renewed before the next (never held across a network wait).  Pointers
 * returned by reads are valid until store_read_end() / the end of the write
 * transaction.  LMDB failures (MDB_MAP_FULL above all) come back as
 * DSC_EFULL / DSC_EIO with words, never as aborts.
 *
 * The secondary indexes are generic: the matcher supplies a store_indexer
 * that turns a record into index keys and a compact "match view"; the store
 * keeps every key of every record consistent on create, replace and delete
 * in the same transaction.  Index values are (record number, tag) pairs:
 * the tag is 32 bits the indexer derives from the record (the matcher
 * packs the date of birth and sex into it, so that a check can rule a
 * namesake out without reading its view).  Stored MDB_DUPSORT|MDB_DUPFIXED
 * as one 64-bit integer, record number in the high half, so the values of
 * a key come in record-number order.
 */
#ifndef DISCLOSURE_STORE_H
#define DISCLOSURE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disclosure/error.h"
#include "disclosure/offender.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_KEY_MAX 500 /* longest index key (LMDB's limit is 511) */

struct store;
struct store_reader;
struct store_txn;

/* Sink for index keys: the indexer calls emit(sink, key, len) per key. */
typedef int (*store_emit_fn)(void *sink, const void *key, size_t len);

/* Growable byte buffer the indexer writes the match view into. */
struct store_buf {
	unsigned char *data;
	size_t len, cap;
};
int store_buf_append(struct store_buf *b, const void *p, size_t n);

struct store_indexer {
	/* Emit every index key of the record (duplicates are fine). */
	int (*keys)(const struct offender *o, store_emit_fn emit, void *sink, void *arg);
	/* Write the record's compact match view into out (may be NULL). */
	int (*view)(const struct offender *o, struct store_buf *out, void *arg);
	void *arg;
	/* Bump when keys or view change: a store built with another version
	 * is re-indexed on open. */
	uint32_t version;
	/* The 32-bit tag stored with every index entry of the record (may be
	 * NULL: then 0).  A pure function of the record: the same record
	 * must give the same tag when its entries are removed. */
	uint32_t (*tag)(const struct offender *o, void *arg);
};

struct store_options {
	const char *path;  /* environment directory, created if missing */
	size_t map_size;   /* bytes */
	unsigned max_readers; /* 0 = default (126) */
	bool bulk_nosync;  /* offline bulk load only: MDB_NOSYNC, store_sync() at the end */
	bool read_only;
	/* Addition: told how a re-index at open goes (may be NULL): once
	 * before it (done 0), after each batch of records read, and once more
	 * when the new index is written (finished; done is then the records
	 * indexed). */
	void (*reindex_progress)(void *arg, size_t done, size_t total, bool finished);
	void *progress_arg;
	/* Addition: readers remember where blocks of match views lie across
	 * their read transactions, until this process commits a change to
	 * them (lib/store.c, struct vslot).  Only where no other process
	 * writes the store while it is open: the daemon, which holds the
	 * store's lock, and a program on a store of its own. */
	bool views_cache;
	/* Addition: a Bloom filter of the index's keys in memory (lib/store.c,
	 * "The key filter"): a look-up of a key the index does not hold (more
	 * than half of a check's) costs a hash and a cache line instead of a
	 * descent of the B-tree.  Built at open by reading every key once
	 * (about 0.1 s at 100,000 records, 1 s at 1,000,000) and kept up to
	 * date by this process's writes, rebuilt larger by the write that
	 * fills it: the same promise as views_cache, that no other process
	 * writes the store while it is open.  13 to 19 bits a key, 16 MiB at
	 * 1,000,000 records. */
	bool key_filter;
	/* Its smallest size in bits, rounded up to a power of two of at least
	 * 4096; 0: 2^24 (2 MiB).  Tests make it small to see it grow. */
	size_t key_filter_bits;
};

/* Opens (creating if needed), checks the schema version, clears stale
 * readers (mdb_reader_check), re-indexes if indexer->version changed. */
int store_open(struct store **out, const struct store_options *opt,
	       const struct store_indexer *indexer, struct dsc_error *err);
void store_close(struct store *s);
int store_sync(struct store *s, struct dsc_error *err);
/* Bytes used by the data file (pages in use * page size). */
int store_stat(struct store *s, size_t *used_bytes, size_t *map_size, size_t *records);

/* Addition: takes the lock of the one process that may write the store
 * (<dir>/disclosured.lock, flock, with the holder's pid in it), creating
 * dir if needed: the daemon for its life, the offline loader for its run.
 * Returns the descriptor to keep open (the kernel drops the lock on any
 * exit), or a negative status: DSC_ECONFLICT when another process holds
 * it (err names its pid), DSC_EIO or DSC_EINVAL otherwise.  A store whose
 * lock is held may be opened with store_options.views_cache. */
int store_lock_take(const char *dir, struct dsc_error *err);

/* Addition: grows the map to map_size bytes while the store is open, so a
 * full store serves again without a restart.  Only from the writer's
 * thread, outside a write transaction; waits for readers to end their
 * read transactions (store_read_begin() .. store_read_end()). */
int store_set_map_size(struct store *s, size_t map_size, struct dsc_error *err);

/* Addition: enters [offset, offset + len) of the data file into the
 * process's page tables now (MADV_POPULATE_READ), so that the first reads
 * after a start do not each take a page fault; *next: where to go on
 * from, SIZE_MAX at the end.  Holds the map for one call only: call it in
 * chunks (a few MiB), from any thread.  DSC_EINVAL if the kernel cannot
 * (before Linux 5.14): nothing is lost, the first reads map the pages. */
int store_prefault(struct store *s, size_t offset, size_t len, size_t *next, struct dsc_error *err);

/* Addition: bytes up to the last page in use (free pages below it, which
 * LMDB reuses first, included), the map size, and the data file's size
 * (those, and the zeros written ahead), from any thread. */
int store_space(struct store *s, size_t *used, size_t *map, size_t *file);

/* Addition: writes zeros past the end of the data file (not a hole, not
 * fallocate's unwritten extents) until `low` bytes past the last page in
 * use are written, at most `step` bytes (and 1 MiB) a call, never past the
 * map size, and flushes them (fdatasync).  LMDB then writes a commit's
 * pages over blocks that are already the file's, and the commit's
 * fdatasync need not wait for the file system to allocate them and log
 * the file's new size: on ext4 here a sync after growing a file took about
 * 700 µs, one after overwriting about 400.  *added: bytes written (0 when
 * `low` is reached).  Holds LMDB's write lock meanwhile (a transaction it
 * aborts), so never over a page any writer wrote: call it outside a write
 * transaction.  Refuses (DSC_EFULL) when the file system would be left
 * with less than four times `low` free, and gives back a step that failed:
 * the disk's space is the data's first. */
int store_keep_ahead(struct store *s, size_t low, size_t step, size_t *added, struct dsc_error *err);

/* Addition: what the key filter (store_options.key_filter) holds: its
 * size in bits, 0 without one; the keys it was built with and those added
 * since (a key counted again by each write that adds to it); since the
 * store was opened, the times a write read the index to rebuild it
 * (reads) and the times that made it larger (rebuilds). */
struct store_key_filter_info {
	size_t bits, keys, rebuilds, reads;
};
void store_key_filter_info(struct store *s, struct store_key_filter_info *out);

/* ---- reading (one reader per thread) ---- */
int store_reader_new(struct store *s, struct store_reader **out, struct dsc_error *err);
void store_reader_free(struct store_reader *r);
int store_read_begin(struct store_reader *r, struct dsc_error *err); /* renew */
void store_read_end(struct store_reader *r);                        /* reset */

int store_offender_count(struct store_reader *r, size_t *n);
int store_get_recno(struct store_reader *r, const char *id, uint32_t *recno);
/* DSC_ENOTFOUND if absent. */
int store_get_offender(struct store_reader *r, const char *id, const char **json, size_t *len);
int store_get_offender_by_recno(struct store_reader *r, uint32_t recno, const char **json, size_t *len);
int store_get_view(struct store_reader *r, uint32_t recno, const void **view, size_t *len);
/* The views of up to STORE_VIEWS_MAX records at once, fetched side by side
 * rather than one after another: views[i] is NULL (lens[i] 0) for a record
 * without one.  DSC_OK, or the status of a failed read. */
#define STORE_VIEWS_MAX 16
int store_get_views(struct store_reader *r, const uint32_t *recnos, size_t n, const void **views,
		    size_t *lens);
/* Calls fn for every record in id order; a non-zero return stops and is returned. */
int store_offender_each(struct store_reader *r,
			int (*fn)(void *arg, uint32_t recno, const char *json, size_t len), void *arg);
/* Number of records under an index key (0 if none). */
int store_index_count(struct store_reader *r, const void *key, size_t klen, size_t *n);
/* One index entry: the record and the indexer's tag for it. */
struct store_ref {
	uint32_t recno;
	uint32_t tag;
};
/* The number of entries under key in *count and, when that is at most cap,
 * all of them in refs (*got = *count; otherwise *got = 0): one B-tree
 * descent where a count and a read would take two. */
int store_index_get(struct store_reader *r, const void *key, size_t klen, struct store_ref *refs, size_t cap,
		    size_t *count, size_t *got);
/* Calls fn with the entries under key in record-number order, in chunks
 * (MDB_GET_MULTIPLE); a non-zero return stops and is returned. */
int store_index_each(struct store_reader *r, const void *key, size_t klen,
		     int (*fn)(void *arg, const struct store_ref *refs, size_t n), void *arg);
/* Addition: starts fetching what a look-up of key will read first (the key
 * filter's cache line), so that a caller with many keys to look up has
 * their memory fetched side by side rather than one after another.  Only
 * between store_read_begin() and store_read_end(); a hint, never needed. */
void store_index_prefetch(const struct store_reader *r, const void *key, size_t klen);
/* Addition: the index look-ups this reader made (store_index_get, _count
 * and _each) since it was created, and how many of them the key filter
 * answered (the key is not in the index) without reading the index. */
void store_reader_lookups(const struct store_reader *r, size_t *asked, size_t *filtered);

/* ---- generic tables for checks, audit entries and metadata ---- */
enum store_table { STORE_CHECKS = 0, STORE_AUDIT = 1, STORE_META = 2 };
int store_get(struct store_reader *r, enum store_table t, const void *key, size_t klen,
	      const void **val, size_t *vlen);
/* Audit entries are keyed by their sequence number. */
int store_audit_get(struct store_reader *r, uint64_t seq, const char **line, size_t *len);
/* Number of audit entries (= next seq). */
int store_audit_count(struct store_reader *r, uint64_t *n);

/* ---- writing (one writer) ---- */
int store_write_begin(struct store *s, struct store_txn **out, struct dsc_error *err);
/* Commits and frees the transaction; on failure everything in it is lost. */
int store_write_commit(struct store_txn *t, struct dsc_error *err);
void store_write_abort(struct store_txn *t);

/* Create or replace by o->id, with all index keys and the view. */
int store_put_offender(struct store_txn *t, const struct offender *o, bool *replaced,
		       struct dsc_error *err);
/*
 * For bulk loads: the record's index keys and view computed ahead by the
 * store's indexer, on any thread (the indexer must then be thread-safe),
 * so that the writer only writes.  store_put_prepared() is
 * store_put_offender() with them; the prepared keys must come from the
 * same record.
 */
struct store_prepared;
int store_prepare(const struct store *s, const struct offender *o, struct store_prepared **out,
		  struct dsc_error *err);
void store_prepared_free(struct store_prepared *p);
/* store_prepare() with the result in the arena: it lives until the arena
 * is reset or freed, and store_prepared_free() must not be called on it. */
struct dsc_arena;
int store_prepare_in(const struct store *s, struct dsc_arena *arena, const struct offender *o,
		     struct store_prepared **out, struct dsc_error *err);
int store_put_prepared(struct store_txn *t, const struct offender *o,
		       const struct store_prepared *prep, bool *replaced, struct dsc_error *err);
/*
 * Offline bulk loads only (no other writer, no reader relying on the index
 * meanwhile): between these two calls the new index entries of every
 * write transaction are kept in memory and written at store_bulk_end(),
 * sorted, in a few large transactions; records, ids and views are
 * committed as usual.  The index is marked incomplete meanwhile, so a crash
 * or a store_close() without store_bulk_end() makes the next store_open()
 * rebuild it.
 */
int store_bulk_begin(struct store *s, struct dsc_error *err);
int store_bulk_end(struct store *s, struct dsc_error *err);
/* DSC_ENOTFOUND if absent. */
int store_delete_offender(struct store_txn *t, const char *id, struct dsc_error *err);
int store_txn_get(struct store_txn *t, enum store_table tb, const void *key, size_t klen,
		  const void **val, size_t *vlen);
/* Addition: a record's stored JSON inside a write transaction (valid until
 * the transaction writes again or ends); DSC_ENOTFOUND if absent. */
int store_txn_get_offender(struct store_txn *t, const char *id, const char **json, size_t *len);
int store_txn_put(struct store_txn *t, enum store_table tb, const void *key, size_t klen,
		  const void *val, size_t vlen, struct dsc_error *err);
/* Appends the entry with this seq, which must equal the current count. */
int store_audit_append(struct store_txn *t, uint64_t seq, const char *line, size_t len,
		       struct dsc_error *err);
int store_txn_audit_get(struct store_txn *t, uint64_t seq, const char **line, size_t *len);
int store_txn_audit_count(struct store_txn *t, uint64_t *n);

#endif
