/*
 * store.c - the LMDB store: offender records, their secondary indexes and
 * match views, stored checks, the audit log and the daemon's metadata, in
 * one environment.
 *
 * Layout (named databases):
 *   _store   schema_version, index_version, next_recno (uint32, native)
 *   ids      offender id -> recno (uint32)
 *   records  recno -> canonical compact JSON          (MDB_INTEGERKEY)
 *   views    recno / 64 -> the match views of 64 records (MDB_INTEGERKEY;
 *            layout below, "Match views")
 *   index    key bytes -> (recno << 32 | tag), sorted duplicates (DUPSORT|DUPFIXED|INTEGERDUP)
 *   checks   check id -> stored check                 (STORE_CHECKS)
 *   audit    seq (uint64 big-endian) -> entry line    (STORE_AUDIT)
 *   meta     anything the daemon keeps                (STORE_META)
 *
 * The index is generic: the matcher's store_indexer says which keys a
 * record has; this module keeps them exact.  On replace and delete it
 * re-derives the old record's keys from the stored JSON with the same
 * indexer, so the index never keeps a key that no longer belongs to the
 * record.  A store built with another indexer version is re-indexed when
 * opened.  A record number is never reused for another id: ids keep theirs
 * across replace, and next_recno only grows.
 *
 * New index entries are collected per transaction and written sorted at
 * commit; between store_bulk_begin() and store_bulk_end() (the offline
 * loader, re-indexing) they are collected across transactions and written
 * once, appended in key order when the index was empty.  While a bulk load
 * runs, index_version is 0, so a crash in it means a rebuild at next open.
 *
 * It must never: abort on an LMDB failure (MDB_MAP_FULL above all comes back
 * as DSC_EFULL and the writer can go on after aborting), commit a record
 * without its index entries, or keep a read transaction open between
 * store_read_end() and store_read_begin().
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "disclosure/arena.h"
#include "disclosure/store.h"

#define DEFAULT_MAP_SIZE ((size_t)1 << 30)
/*
 * Match views, 64 records to an LMDB value: 65 uint32_t offsets (native
 * order; record recno's view lies between offsets recno % 64 and the next,
 * counted from the end of the offsets, empty if it has none), then the
 * views.  A check reads a few dozen views of records scattered over the
 * register: keyed by record each was the leaf of a tree of 40,000 pages,
 * a descent of cache and TLB misses; keyed by 64 records the tree is 85
 * pages that stay in cache, and the view's place is known without a
 * search, so that several can be fetched at once (store_get_views).  A
 * write rewrites its block of 64, staged in the transaction
 * (struct view_stage) so that consecutive records rewrite it once.
 */
#define VIEW_BLOCK_SHIFT 6
#define VIEW_BLOCK (1u << VIEW_BLOCK_SHIFT)
#define VIEW_HEAD (sizeof(uint32_t) * (VIEW_BLOCK + 1))
/* The views' layout, in the stored index_version beside the indexer's own
 * version: a program that lays views out otherwise re-indexes. */
#define VIEW_LAYOUT 2u
#define REINDEX_BATCH 20000 /* records per transaction while re-indexing */
/*
 * A check reads the view of each candidate, up to a few hundred blocks,
 * each an mdb_get: two binary searches down the views' tree, whose pages
 * (87 at a million records) are mostly out of the processor's cache.  So a
 * reader of a store opened with views_cache remembers where each block lies
 * in the map, as LMDB gave it, for later read transactions too, for as
 * long as no commit has changed the views.  That is sound under LMDB's
 * copy-on-write: a page of the views' tree is freed, and may be reused,
 * only by a commit that changes the tree, so while none has, every
 * remembered block is still there, unchanged.
 *
 * Which commits changed the views is counted in memory (views_seq), not in
 * the store: a count kept in LMDB would dirty a page more in the commits
 * that change a view, and a delete on a full map must still fit.  So only
 * this process's commits are seen, and the caller promises there are no
 * others (the daemon holds the store's lock).  views_seq is raised before
 * such a commit and again after it, odd meanwhile, as a sequence lock: a
 * read transaction begun with the same even count before and after its
 * snapshot was taken sees exactly the commits counted, and one that finds
 * another count than its slots were filled under forgets them all.  A
 * read transaction that cannot tell (a commit under way) looks every block
 * up.  The map moving (store_set_map_size) forgets them too.
 * Direct-mapped by block number: 16,384 slots (256 KiB a reader) hold the
 * blocks of a million records without a collision; beyond that, a block
 * that collides is looked up again.
 */
#define VCACHE_SLOTS 16384u /* a power of two */

struct vslot {
	uint32_t tag;  /* block + 1; 0: empty */
	uint32_t len;  /* 0: the block does not exist */
	const void *data;
};

/* Index entries waiting to be written in key order. */
struct pending_set {
	struct store_buf arena; /* per entry: uint16_t length, key bytes */
	struct pending_key *keys;
	size_t n, cap;
	size_t high; /* the most entries held at once since it was kept */
	struct pending_key *tmp; /* the radix sort's other array */
	size_t tmp_cap;
};

struct store {
	MDB_env *env;
	MDB_dbi db_store, db_ids, db_records, db_views, db_index;
	MDB_dbi db_checks, db_audit, db_meta;
	struct store_indexer indexer;
	bool has_indexer;
	bool read_only;
	size_t map_size;
	void (*reindex_progress)(void *arg, size_t done, size_t total, bool finished);
	void *progress_arg;
	char path[PATH_MAX];
	/* Between store_bulk_begin() and store_bulk_end(): the new index
	 * entries of all transactions, written once at the end; which record
	 * numbers have entries there (a replace of one must write them
	 * first); whether the index was empty (then entries are appended). */
	struct pending_set *bulk;
	unsigned char *bulk_touched;
	size_t bulk_touched_bytes;
	bool bulk_append;
	bool bulk_broken; /* entries were lost with an aborted transaction */
	/* The indexer's tag of each record whose entries are pending, by
	 * record number: a record's pending entries are all of its latest
	 * version (a replace writes the old ones first), so one tag each. */
	uint32_t *tags;
	size_t n_tags;
	/* The buffers of the last write transaction's entries, given to the
	 * next one: a bulk import writes tens of megabytes of entries per
	 * transaction, and allocating them afresh each time cost a page
	 * fault per 4 KiB and the heap's growing and trimming.  Touched only
	 * while LMDB's write lock is held (between mdb_txn_begin and the
	 * commit or abort), so writers never share it. */
	struct pending_set kept;
	/* Held shared by every reader between store_read_begin() and
	 * store_read_end(), exclusively by store_set_map_size(): LMDB may
	 * remap only while no transaction of this process is active. */
	pthread_rwlock_t resize_lock;
	/* Raised by store_set_map_size() (under resize_lock, exclusive): the
	 * map may have moved, and every pointer into it with it. */
	unsigned map_epoch;
	bool views_cache;            /* store_options.views_cache */
	atomic_ulong views_seq;      /* commits that changed views, twice (vslot) */
	/* The key filter (struct keyfilter): the current one, replaced only
	 * by a writer holding LMDB's write lock; the commits that wrote index
	 * keys, counted twice as views_seq counts its; the filters replaced,
	 * which a reader may still be reading (kf_free_retired). */
	_Atomic(struct keyfilter *) kf;
	atomic_ulong index_seq;
	struct keyfilter *kf_retired;
	atomic_size_t kf_rebuilds, kf_builds;
	size_t kf_min_bits; /* store_options.key_filter_bits, a power of two */
};

struct store_reader {
	struct store *s;
	MDB_txn *txn;
	bool active;
	/* A cursor on the index kept across reads (a check makes dozens of
	 * look-ups): renewed on first use in each read transaction. */
	MDB_cursor *icur;
	bool icur_ready;
	/* The key filter this read transaction may trust, or NULL; the
	 * look-ups made and those it answered (store_reader_lookups). */
	const struct keyfilter *kf;
	size_t lookups, filtered;
	/* Where each block of match views lies in the map, found in earlier
	 * read transactions (struct vslot). */
	struct vslot *vcache;
	unsigned long vcache_seq; /* the views_seq they were filled under */
	unsigned vcache_epoch;    /* and the map_epoch */
	unsigned long txn_seq;    /* views_seq of this read transaction's snapshot */
	bool txn_seq_known;       /* the same before and after, and even */
	bool vcache_checked;      /* against txn_seq, in this read transaction */
};

/* An index entry waiting to be written: the first 16 key bytes as two
 * big-endian integers (the sort key), where the key lies in the arena (a
 * uint16_t length, then the bytes), and the record number. */
struct pending_key {
	uint64_t prefix, prefix2;
	uint32_t off; /* or PENDING_SHORT | length, for keys of up to 16 bytes */
	uint32_t recno;
};

/* A key of at most 16 bytes is all in its prefix and has no arena bytes
 * (arena offsets stay below BULK_ARENA_MAX, 2^31). */
#define PENDING_SHORT 0x80000000u

/* The block of match views a write transaction is changing. */
struct view_stage {
	bool active, dirty;
	uint32_t block; /* recno >> VIEW_BLOCK_SHIFT */
	uint32_t off[VIEW_BLOCK + 1];
	struct store_buf data;
};

struct store_txn {
	struct store *s;
	MDB_txn *txn;
	int failed; /* status of an earlier failed write, DSC_OK if none */
	uint32_t next_recno, start_next_recno;
	struct store_buf view;
	struct view_stage vs;
	bool views_changed; /* views_seq is raised around the commit */
	bool keys_added;    /* and index_seq (the key filter) */
	/* New index entries, written sorted at commit: in key order LMDB
	 * finds each leaf beside the last one instead of descending from
	 * the root at a random place, which made bulk loads several times
	 * faster.  Removals are never deferred.  pend is own, or the store's
	 * bulk set during a bulk load; bulk_mark is where this transaction's
	 * entries start in it, to drop them if it aborts. */
	struct pending_set own;
	struct pending_set *pend;
	size_t bulk_mark_n, bulk_mark_arena;
	bool bulk_flushed;
};

#define PENDING_ARENA_MAX ((size_t)64 << 20)
#define BULK_ARENA_MAX ((size_t)2 << 30)  /* offsets are uint32_t */
#define BULK_WRITE_CHUNK ((size_t)4 << 20) /* entries per transaction at the end */

/* Words for an LMDB failure; MDB_MAP_FULL and friends say what to do. */
static int mdb_fail(const struct store *s, struct dsc_error *err, int rc, const char *what)
{
	switch (rc) {
	case MDB_MAP_FULL:
		return dsc_error_set(err, DSC_EFULL,
				     "store full (map_size %zu bytes): %s; raise [store] map_size",
				     s->map_size, what);
	case MDB_TXN_FULL:
		return dsc_error_set(err, DSC_EFULL,
				     "store transaction too large: %s; commit in smaller batches", what);
	case ENOSPC:
		return dsc_error_set(err, DSC_EFULL, "store %s: disk full: %s", s->path, what);
	case EACCES:
	case EPERM:
		return dsc_error_set(err, DSC_EPERM, "store %s: %s: %s", s->path, what,
				     mdb_strerror(rc));
	case MDB_NOTFOUND:
		return dsc_error_set(err, DSC_ENOTFOUND, "%s: not found", what);
	case ENOMEM:
		return dsc_error_set(err, DSC_ENOMEM, "out of memory: %s", what);
	default:
		return dsc_error_set(err, DSC_EIO, "store %s: %s: %s", s->path, what, mdb_strerror(rc));
	}
}

/* The status of an LMDB failure without words, for read calls. */
static int mdb_status(int rc)
{
	switch (rc) {
	case 0: return DSC_OK;
	case MDB_NOTFOUND: return DSC_ENOTFOUND;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case ENOSPC: return DSC_EFULL;
	case ENOMEM: return DSC_ENOMEM;
	default: return DSC_EIO;
	}
}

/*
 * The index entries a transaction holds back (tens of megabytes in a bulk
 * import's chunk) grow by doubling.  From malloc they came out of the
 * arena's padded top (main.c's M_TOP_PAD), where each doubling copied them
 * and faulted in fresh pages: 14% of the daemon's CPU importing 100,000
 * records into an empty store.  Past BIG_BUF they live in mappings of their
 * own instead, which mremap grows by moving page tables, not bytes.
 *
 * Those mappings are whole huge pages (BIG_ALIGN), at a huge page's
 * boundary, and advised MADV_HUGEPAGE: their first touch is then one page
 * fault for 2 MiB instead of 512, and on a virtual machine a fault costs
 * several microseconds whatever it maps (400 MB touched in 4 KiB pages
 * took 1.27 s here, 0.02-0.9 s in huge pages).  They grow by moving to a
 * new boundary too (mremap with MREMAP_FIXED): the kernel moves a huge
 * page's entry whole only between aligned addresses, and splits it into
 * 512 otherwise (thp_split_pmd: advised but moved to any address, they
 * were split, and gained nothing measurable).  Against the mappings of
 * any size before: 100,000 records into an empty store, CPU a record
 * 38.3 -> 35.7 us (medians of five alternated pairs, docs/capacity.md).
 */
#define BIG_BUF ((size_t)1 << 20)
#define BIG_ALIGN DSC_HUGE_PAGE

/* The bytes mapped for a big buffer of size bytes. */
static size_t big_mapped(size_t size)
{
	return (size + BIG_ALIGN - 1) & ~(BIG_ALIGN - 1);
}

/* Grows p from old_size to new_size bytes (new_size > old_size), keeping
 * its contents; NULL (p untouched) when out of memory. */
static void *big_grow(void *p, size_t old_size, size_t new_size)
{
	size_t len;
	void *q;

	if (new_size < BIG_BUF)
		return realloc(p, new_size);
	if (new_size > SIZE_MAX / 2)
		return NULL; /* so that big_mapped and dsc_map_huge's span cannot wrap */
	len = big_mapped(new_size);
	if (old_size >= BIG_BUF && big_mapped(old_size) == len)
		return p; /* its last huge page had room */
	if ((q = dsc_map_huge(len)) == NULL)
		return NULL;
	if (old_size >= BIG_BUF) {
		/* Over the new mapping, which the move replaces.  A failed move
		 * may have unmapped it already (Linux unmaps the destination
		 * first), and another thread may have mapped something there
		 * since: it is left alone, untouched address space at worst. */
		if (mremap(p, big_mapped(old_size), len, MREMAP_MAYMOVE | MREMAP_FIXED, q) == MAP_FAILED)
			return NULL;
	} else {
		if (old_size > 0)
			memcpy(q, p, old_size);
		free(p);
	}
	return q;
}

static void big_free(void *p, size_t size)
{
	if (p != NULL && size >= BIG_BUF)
		munmap(p, big_mapped(size));
	else
		free(p);
}

/* Makes room in b for n more bytes after its len; big: b's bytes are
 * freed with big_free (a pending set's key bytes), not free. */
static int buf_reserve_as(struct store_buf *b, size_t n, bool big)
{
	if (n > SIZE_MAX / 2 - b->len)
		return DSC_ETOOBIG;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		unsigned char *d;

		while (cap < b->len + n)
			cap *= 2;
		d = big ? big_grow(b->data, b->cap, cap) : realloc(b->data, cap);
		if (d == NULL)
			return DSC_ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	return DSC_OK;
}

static int buf_reserve(struct store_buf *b, size_t n)
{
	return buf_reserve_as(b, n, false);
}

int store_buf_append(struct store_buf *b, const void *p, size_t n)
{
	int rc;

	if (n == 0)
		return DSC_OK;
	if ((rc = buf_reserve(b, n)) != DSC_OK)
		return rc;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return DSC_OK;
}

static int meta_get_u32(MDB_txn *txn, MDB_dbi dbi, const char *name, uint32_t *out)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(txn, dbi, &k, &v);

	if (rc != 0)
		return rc;
	if (v.mv_size != sizeof(uint32_t))
		return MDB_CORRUPTED;
	memcpy(out, v.mv_data, sizeof(*out));
	return 0;
}

static int meta_put_u32(MDB_txn *txn, MDB_dbi dbi, const char *name, uint32_t val)
{
	MDB_val k = { strlen(name), (void *)name }, v = { sizeof(val), &val };

	return mdb_put(txn, dbi, &k, &v, 0);
}

static size_t db_entries(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_stat st;

	if (mdb_stat(txn, dbi, &st) != 0)
		return 0;
	return st.ms_entries;
}

/* ---- the key filter ---- */

/*
 * The key filter (store_options.key_filter): a blocked Bloom filter of
 * every key in the index.  A check looks up forty keys or so (the sounds
 * of the names and of their slips, swapped, with each date and sector),
 * and more than half of them are in no record: 55% of the look-ups of
 * bench-daemon's checks at 100,000 records, 38% of bench-match's at
 * 1,000,000.  Each look-up descends LMDB's B-tree to a leaf page and
 * searches it, some eight cache lines of a map far larger than any cache,
 * 0.6-0.8 us; the filter answers "not there" from one cache line of its
 * own.  A key it does not rule out is looked up as before, so it changes
 * no answer: it may only err towards a look-up (0.35% of absent keys at
 * 13 bits a key, 0.06% at 19).
 *
 * Each key's 64-bit hash chooses a 512-bit block (a cache line) by its top
 * bits and, mixed again, sets or tests KF_PROBES bits in it.  Built at
 * open by reading every key of the index once; a write sets the bits of
 * the keys it adds before it commits (pending_write), and the commit
 * raises index_seq before and after it, as views_seq is for the views
 * (the comment on struct vslot): a read transaction trusts the filter
 * only when it saw the same even count before and after taking its
 * snapshot, so every key in its snapshot has its bits set.  Keys removed
 * keep theirs (a look-up more).  Only this process's writes set bits: the
 * same promise as views_cache, that no other process writes the store.
 *
 * When the keys added since it was built pass its capacity (KF_BITS_MAX_KEY
 * bits a key), the write that did so builds a larger one by reading the
 * index through its own transaction, under LMDB's write lock, so that no
 * key can be added meanwhile, and puts it in place before its commit; a
 * reader that took the old one keeps it (the old one holds every key of a
 * snapshot taken before that commit, and a snapshot after it sees
 * index_seq move), so the old ones are freed only once no read
 * transaction has been under way since (kf_free_retired).  A store
 * growing from empty to 1,000,000 records rebuilds it a few times, each
 * time for as long as a build at that size (under 1 s at a million
 * records); a restart builds it at the size the index asks for.
 */
#define KF_BLOCK_WORDS 8 /* 512 bits, a cache line */
#define KF_PROBES 6      /* bits a key, 9 bits of the mixed hash each */
#define KF_MIN_BITS ((size_t)1 << 24) /* 2 MiB: one huge page */
#define KF_SMALLEST_BITS ((size_t)1 << 12) /* 8 blocks (store_options.key_filter_bits) */
#define KF_MAX_BITS ((size_t)1 << 40)
#define KF_BITS_ENTRY 4   /* bits sized per index entry: 13-19 a key */
#define KF_BITS_MAX_KEY 10 /* rebuilt larger past this few bits a key */
#define KF_BITS_KEY_LEAST 12 /* built at open again when it has fewer a key */
/* Rebuilt by a write with room for as many keys again as there are: a
 * write that only re-counted keys (records replaced) then leaves room for
 * half its capacity more before the index is read again. */
#define KF_BITS_KEY_GROWN (2 * KF_BITS_MAX_KEY)
#define KF_AHEAD 16

struct keyfilter {
	_Atomic uint64_t *words;
	size_t bits, mapped;  /* mapped: bytes, whole huge pages */
	unsigned block_shift; /* 64 - log2(blocks) */
	size_t capacity;      /* keys it takes before it is rebuilt */
	atomic_size_t built_keys; /* distinct keys when it was built (or counted) */
	atomic_size_t added;  /* keys added since (counted per write) */
	struct keyfilter *next_retired;
};

static uint64_t kf_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0x9e3779b97f4a7c15u ^ (uint64_t)len, w;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 29;
	}
	if (len > 0) {
		w = 0;
		memcpy(&w, p, len);
		h = (h ^ w) * 0xff51afd7ed558ccdu;
		h ^= h >> 29;
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53u;
	h ^= h >> 33;
	return h;
}

/* The block of a key's hash and the mask of its bits in each word. */
static size_t kf_masks(const struct keyfilter *kf, uint64_t h, uint64_t mask[KF_BLOCK_WORDS])
{
	uint64_t g = (h ^ (h >> 31)) * 0x94d049bb133111ebu;

	memset(mask, 0, sizeof(uint64_t) * KF_BLOCK_WORDS);
	for (unsigned i = 0; i < KF_PROBES; i++, g >>= 9)
		mask[(g >> 6) & 7] |= (uint64_t)1 << (g & 63);
	return (size_t)(h >> kf->block_shift) * KF_BLOCK_WORDS;
}

/* Only one thread adds at a time (the one building it, before anyone
 * else sees it, or a writer holding LMDB's write lock), so a load and a
 * store do what an atomic OR would, without its locked bus cycle: a reader
 * sees each word before or after, never torn. */
static void kf_add_hash(struct keyfilter *kf, uint64_t h)
{
	uint64_t mask[KF_BLOCK_WORDS];
	size_t at = kf_masks(kf, h, mask);

	for (unsigned i = 0; i < KF_BLOCK_WORDS; i++) {
		_Atomic uint64_t *w = &kf->words[at + i];

		if (mask[i] != 0)
			atomic_store_explicit(w, atomic_load_explicit(w, memory_order_relaxed) | mask[i],
					      memory_order_relaxed);
	}
}

/*
 * Keys added in a run (a build, a write's new keys): each key's line is
 * fetched KF_AHEAD keys before its bits are set.  One at a time, a build
 * at 1,000,000 records (7.2 million keys) took 4.8 s, most of it waiting
 * for the filter's lines, and the keys of 100,000 records written into an
 * empty store added a fifth to the write's CPU.
 */
struct kf_run {
	struct keyfilter *kf;
	uint64_t ahead[KF_AHEAD];
	size_t n;
};

static void kf_run_add(struct kf_run *run, const void *key, size_t len)
{
	struct keyfilter *kf = run->kf;
	uint64_t h = kf_hash(key, len);

	__builtin_prefetch((const void *)&kf->words[(size_t)(h >> kf->block_shift) * KF_BLOCK_WORDS], 1);
	if (run->n >= KF_AHEAD)
		kf_add_hash(kf, run->ahead[run->n % KF_AHEAD]);
	run->ahead[run->n++ % KF_AHEAD] = h;
}

/* Sets the bits of the keys still waiting; returns the keys of the run. */
static size_t kf_run_end(struct kf_run *run)
{
	for (size_t i = run->n > KF_AHEAD ? run->n - KF_AHEAD : 0; i < run->n; i++)
		kf_add_hash(run->kf, run->ahead[i % KF_AHEAD]);
	return run->n;
}

/* False: the key is in no record (of a snapshot the filter may be trusted
 * with, store_read_begin()). */
static bool kf_may_hold(const struct keyfilter *kf, const void *key, size_t len)
{
	uint64_t mask[KF_BLOCK_WORDS];
	size_t at = kf_masks(kf, kf_hash(key, len), mask);

	for (unsigned i = 0; i < KF_BLOCK_WORDS; i++)
		if (mask[i] != 0 &&
		    (atomic_load_explicit(&kf->words[at + i], memory_order_relaxed) & mask[i]) != mask[i])
			return false;
	return true;
}

static void kf_free(struct keyfilter *kf)
{
	if (kf == NULL)
		return;
	munmap((void *)kf->words, kf->mapped);
	free(kf);
}

/* A filter of bits bits (a power of two) with every key of the index as
 * txn sees it; *n: the keys.  DSC_OK, or a status. */
static int kf_fill(struct store *s, MDB_txn *txn, size_t bits, struct keyfilter **out, size_t *n,
		   struct dsc_error *err)
{
	struct kf_run run = { 0 };
	struct keyfilter *kf;
	MDB_cursor *cur;
	MDB_val k, v;
	unsigned shift = 64;
	size_t got;
	int rc;

	*out = NULL;
	for (size_t blocks = bits / 512; blocks > 1; blocks >>= 1)
		shift--;
	if ((kf = calloc(1, sizeof(*kf))) == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory for the key filter");
	kf->mapped = (bits / 8 + DSC_HUGE_PAGE - 1) & ~(DSC_HUGE_PAGE - 1);
	if ((kf->words = dsc_map_huge(kf->mapped)) == NULL) {
		free(kf);
		return dsc_error_set(err, DSC_ENOMEM, "out of memory for the key filter (%zu MiB)",
				     bits / 8 >> 20);
	}
	kf->bits = bits;
	kf->block_shift = shift;
	kf->capacity = bits / KF_BITS_MAX_KEY;
	if ((rc = mdb_cursor_open(txn, s->db_index, &cur)) != 0) {
		kf_free(kf);
		return mdb_fail(s, err, rc, "reading the index for the key filter");
	}
	run.kf = kf;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP))
		kf_run_add(&run, k.mv_data, k.mv_size);
	got = kf_run_end(&run);
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND) {
		kf_free(kf);
		return mdb_fail(s, err, rc, "reading the index for the key filter");
	}
	atomic_init(&kf->built_keys, got);
	atomic_init(&kf->added, 0);
	*out = kf;
	*n = got;
	return DSC_OK;
}

/*
 * A filter of every key of the index as txn sees it.  Sized from the
 * entries (mdb_stat: the keys are not counted anywhere), KF_BITS_ENTRY
 * bits each, which is 13 to 19 bits a key for the matcher's index (two to
 * four records a key); where that turns out fewer than least bits a key
 * (a key or so an entry), built again at the next power of two that has
 * them.  *out NULL on failure.
 */
static int kf_build(struct store *s, MDB_txn *txn, size_t least, struct keyfilter **out,
		    struct dsc_error *err)
{
	size_t entries = db_entries(txn, s->db_index), bits = s->kf_min_bits, n = 0;
	int rc;

	while (bits / KF_BITS_ENTRY < entries && bits < KF_MAX_BITS)
		bits <<= 1;
	if ((rc = kf_fill(s, txn, bits, out, &n, err)) != DSC_OK)
		return rc;
	if (bits / least >= n || bits >= KF_MAX_BITS)
		return DSC_OK;
	kf_free(*out);
	while (bits / least < n && bits < KF_MAX_BITS)
		bits <<= 1;
	return kf_fill(s, txn, bits, out, &n, err);
}

/*
 * Before the commit of a write transaction that added index keys: when
 * the keys added since the filter was built pass its capacity, the index
 * is read again through txn (which holds LMDB's write lock, so no key is
 * added meanwhile).  A larger filter takes the place of the old one, which
 * readers may still hold (kf_free_retired).  A filter that is not larger (the keys were
 * counted again, not new: records replaced) leaves the old one, which
 * holds them all, with its count set to the keys there are; one that
 * cannot be built (memory) leaves it overfull but sound, and is tried
 * again a capacity later.  Either way the next write does not read the
 * index again.
 */
static void kf_grow(struct store *s, MDB_txn *txn)
{
	struct keyfilter *kf = atomic_load(&s->kf), *bigger;
	struct dsc_error err;

	if (kf == NULL || atomic_load(&kf->built_keys) + atomic_load(&kf->added) <= kf->capacity)
		return;
	atomic_fetch_add(&s->kf_builds, 1);
	if (kf_build(s, txn, KF_BITS_KEY_GROWN, &bigger, &err) != DSC_OK) {
		atomic_store(&kf->added, 0);
		return;
	}
	if (bigger->bits <= kf->bits) {
		atomic_store(&kf->built_keys, atomic_load(&bigger->built_keys));
		atomic_store(&kf->added, 0);
		kf_free(bigger);
		return;
	}
	atomic_store(&s->kf, bigger);
	kf->next_retired = s->kf_retired;
	s->kf_retired = kf;
	atomic_fetch_add(&s->kf_rebuilds, 1);
}

/* Frees a list of replaced filters (next_retired). */
static void kf_free_list(struct keyfilter *kf)
{
	while (kf != NULL) {
		struct keyfilter *next = kf->next_retired;

		kf_free(kf);
		kf = next;
	}
}

/*
 * Frees the filters replaced, when no read transaction is under way: a
 * reader takes the filter after resize_lock (store_read_begin), so once
 * the lock has been free of readers after the replacement, none holds an
 * old one.  Only tried (a thread may commit while its own reader is
 * active): a busy moment leaves them to the next commit that adds keys,
 * or to close.  Under LMDB's write lock, as the list's every change is.
 */
static void kf_free_retired(struct store *s)
{
	if (s->kf_retired == NULL || pthread_rwlock_trywrlock(&s->resize_lock) != 0)
		return;
	pthread_rwlock_unlock(&s->resize_lock);
	kf_free_list(s->kf_retired);
	s->kf_retired = NULL;
}

/* Commits a transaction that added index keys (index_seq odd meanwhile,
 * the comment on the key filter).  An LMDB code. */
static int commit_with_keys(struct store *s, MDB_txn *txn)
{
	int rc;

	kf_grow(s, txn);
	kf_free_retired(s);
	atomic_fetch_add(&s->index_seq, 1);
	rc = mdb_txn_commit(txn);
	atomic_fetch_add(&s->index_seq, 1);
	return rc;
}

void store_key_filter_info(struct store *s, struct store_key_filter_info *out)
{
	const struct keyfilter *kf = atomic_load(&s->kf);

	memset(out, 0, sizeof(*out));
	if (kf != NULL) {
		out->bits = kf->bits;
		out->keys = atomic_load(&kf->built_keys) + atomic_load(&kf->added);
	}
	out->rebuilds = atomic_load(&s->kf_rebuilds);
	out->reads = atomic_load(&s->kf_builds);
}

/* ---- index maintenance ---- */

/* The bytes and length of a pending key: a short one is rebuilt from its
 * prefix into buf (no trip to the arena, which sorted entries visit in
 * random order), a long one lies in the arena. */
static inline const unsigned char *pending_key_bytes(const struct pending_key *p,
						     const unsigned char *arena,
						     unsigned char buf[16], uint16_t *len)
{
	int i;

	if (p->off & PENDING_SHORT) {
		*len = (uint16_t)(p->off & ~PENDING_SHORT);
		for (i = 0; i < 8; i++) {
			buf[i] = (unsigned char)(p->prefix >> (56 - 8 * i));
			buf[8 + i] = (unsigned char)(p->prefix2 >> (56 - 8 * i));
		}
		return buf;
	}
	memcpy(len, arena + p->off, sizeof(*len));
	return arena + p->off + 2;
}

/* The index value: record number in the high half, so that a key's
 * values (MDB_INTEGERDUP) come in record-number order. */
static uint64_t index_value(uint32_t recno, uint32_t tag)
{
	return (uint64_t)recno << 32 | tag;
}

static int tag_set(struct store *s, uint32_t recno, uint32_t tag, struct dsc_error *err)
{
	if (recno >= s->n_tags) {
		size_t n = (size_t)recno + 1 > s->n_tags * 2 ? (size_t)recno + 1024 : s->n_tags * 2;
		uint32_t *t = realloc(s->tags, n * sizeof(*t));

		if (t == NULL)
			return dsc_error_set(err, DSC_ENOMEM, "out of memory for index tags");
		memset(t + s->n_tags, 0, (n - s->n_tags) * sizeof(*t));
		s->tags = t;
		s->n_tags = n;
	}
	s->tags[recno] = tag;
	return DSC_OK;
}

static int pending_cmp(const void *a, const void *b, void *arg)
{
	const struct pending_key *x = a, *y = b;
	const unsigned char *arena = arg;
	unsigned char xb[16], yb[16];
	const unsigned char *xk, *yk;
	uint16_t xl, yl;
	int c;

	if (x->prefix != y->prefix)
		return x->prefix < y->prefix ? -1 : 1;
	if (x->prefix2 != y->prefix2)
		return x->prefix2 < y->prefix2 ? -1 : 1;
	if ((x->off & y->off & PENDING_SHORT) != 0) {
		/* Equal prefixes that are the whole keys, padded with zeros:
		 * only the lengths can differ. */
		xl = (uint16_t)(x->off & ~PENDING_SHORT);
		yl = (uint16_t)(y->off & ~PENDING_SHORT);
	} else {
		xk = pending_key_bytes(x, arena, xb, &xl);
		yk = pending_key_bytes(y, arena, yb, &yl);
		/* LMDB's order for keys: bytes, then the shorter first. */
		c = memcmp(xk, yk, xl < yl ? xl : yl);
		if (c != 0)
			return c;
	}
	if (xl != yl)
		return xl < yl ? -1 : 1;
	return x->recno < y->recno ? -1 : x->recno > y->recno;
}

/* Byte pos (0 the most significant) of an entry's 16-byte prefix. */
static inline unsigned prefix_byte(const struct pending_key *e, int pos)
{
	return pos < 8 ? (unsigned)(e->prefix >> (56 - 8 * pos)) & 0xff
		       : (unsigned)(e->prefix2 >> (56 - 8 * (pos - 8))) & 0xff;
}

/* Ranges of at most this many entries are finished by insertion. */
#define SORT_INSERTION 16

static inline bool prefix_less(const struct pending_key *x, const struct pending_key *y)
{
	return x->prefix != y->prefix ? x->prefix < y->prefix : x->prefix2 < y->prefix2;
}

/* Whether byte pos of the prefixes varies, from the XOR of all of them
 * with the first (diff1 for bytes 0-7, diff2 for 8-15). */
static inline bool byte_varies(uint64_t diff1, uint64_t diff2, int pos)
{
	return pos < 8 ? ((diff1 >> (56 - 8 * pos)) & 0xff) != 0
		       : ((diff2 >> (56 - 8 * (pos - 8))) & 0xff) != 0;
}

/*
 * Sorts n entries stably by prefix bytes pos..15 (the bytes before pos are
 * equal).  home and other are two arrays of n; the entries are in other
 * when in_other, and end in home.  A most-significant-byte-first radix
 * sort: one pass finds the first byte that varies in the range (the
 * matcher's keys share long prefixes: most bytes do not), two more split
 * the range by it into the other array, and each part is sorted on its
 * own; a few entries are sorted by insertion.  Each entry is moved about
 * once per byte that tells it from its neighbours, instead of once per
 * byte that varies anywhere.
 */
static void radix_sort(struct pending_key *home, struct pending_key *other, size_t n, int pos,
		       bool in_other)
{
	struct pending_key *src = in_other ? other : home, *dst = in_other ? home : other;
	uint64_t diff1 = 0, diff2 = 0;
	size_t i, c[256], at;
	unsigned b, lo = 255, hi = 0;

	if (n <= SORT_INSERTION) {
		if (in_other)
			memcpy(home, other, n * sizeof(*home));
		for (i = 1; i < n; i++) {
			struct pending_key x = home[i];
			size_t k = i;

			while (k > 0 && prefix_less(&x, &home[k - 1])) {
				home[k] = home[k - 1];
				k--;
			}
			home[k] = x;
		}
		return;
	}
	for (i = 1; i < n; i++) {
		diff1 |= src[i].prefix ^ src[0].prefix;
		diff2 |= src[i].prefix2 ^ src[0].prefix2;
	}
	while (pos < 16 && !byte_varies(diff1, diff2, pos))
		pos++;
	if (pos == 16) {
		if (in_other)
			memcpy(home, other, n * sizeof(*home));
		return;
	}
	/* Only the byte values from lo to hi are visited: most ranges are
	 * small, and 256 counters each would cost more than their entries. */
	memset(c, 0, sizeof(c));
	for (i = 0; i < n; i++) {
		unsigned v = prefix_byte(&src[i], pos);

		c[v]++;
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	for (b = lo, at = 0; b <= hi; b++) {
		size_t k = c[b];

		c[b] = at;
		at += k;
	}
	for (i = 0; i < n; i++)
		dst[c[prefix_byte(&src[i], pos)]++] = src[i];
	/* c[b] is now where part b ends. */
	for (b = lo, at = 0; b <= hi; at = c[b], b++) {
		if (c[b] - at > 0)
			radix_sort(home + at, other + at, c[b] - at, pos + 1, !in_other);
	}
}

/*
 * Sorts the pending entries into LMDB's key order: a stable radix sort on
 * the 16-byte prefix (passes over the array instead of millions of
 * comparisons; the matcher's keys share long prefixes such as "BSM0:JN:"),
 * then a comparison sort of the runs whose prefixes are equal.
 * Entries were added in record-number order and both steps are stable, so
 * equal keys keep their record numbers ascending.  The radix sort splits
 * by leading bytes first: a bulk import's chunk has half a million
 * entries (12 MB), and an LSD sort's pass over all of them for each of up
 * to sixteen bytes was most of the sort's time; split this way the parts
 * soon fit in the cache, and each entry moves once per byte that tells it
 * from its neighbours.
 */
static int pending_sort(struct pending_set *ps)
{
	struct pending_key *a = ps->keys;
	size_t n = ps->n, i, j, run;

	if (n < 2)
		return DSC_OK;
	if (ps->tmp_cap < n) {
		/* Not grown: the old contents are not wanted. */
		big_free(ps->tmp, ps->tmp_cap * sizeof(*ps->tmp));
		ps->tmp_cap = 0;
		if ((ps->tmp = big_grow(NULL, 0, ps->cap * sizeof(*ps->tmp))) == NULL)
			return DSC_ENOMEM;
		ps->tmp_cap = ps->cap;
	}
	radix_sort(ps->keys, ps->tmp, n, 0, false);
	a = ps->keys;
	for (run = 0; run < n; run = j) {
		bool sorted = true;

		for (j = run + 1; j < n && a[j].prefix == a[run].prefix &&
			    a[j].prefix2 == a[run].prefix2; j++) {
			if (sorted && pending_cmp(&a[j - 1], &a[j], ps->arena.data) > 0)
				sorted = false;
		}
		/* Most runs are one short key in many records, already in
		 * record-number order (the radix sort is stable): a run of
		 * thousands must not go through qsort for nothing. */
		if (sorted)
			continue;
		if (j - run > 32) {
			/* Long runs would make insertion sort quadratic; the
			 * comparison includes the record number, so the order
			 * is total. */
			qsort_r(a + run, j - run, sizeof(*a), pending_cmp, ps->arena.data);
			continue;
		}
		for (i = run + 1; i < j; i++) {
			struct pending_key x = a[i];
			size_t k = i;

			while (k > run && pending_cmp(&a[k - 1], &x, ps->arena.data) > 0) {
				a[k] = a[k - 1];
				k--;
			}
			a[k] = x;
		}
	}
	return DSC_OK;
}

static void pending_reset(struct pending_set *ps)
{
	if (ps->n > ps->high)
		ps->high = ps->n;
	ps->n = 0;
	ps->arena.len = 0;
}

static void pending_free(struct pending_set *ps)
{
	big_free(ps->arena.data, ps->arena.cap);
	big_free(ps->keys, ps->cap * sizeof(*ps->keys));
	big_free(ps->tmp, ps->tmp_cap * sizeof(*ps->tmp));
	memset(ps, 0, sizeof(*ps));
}

/* Entries (32 bytes each) a kept set may hold however little it is used. */
#define PENDING_KEEP_SMALL 4096

/*
 * Gives the transaction's own entry buffers back to the store for the next
 * one, emptied, while the write lock is still held.  Buffers grown for a
 * large transaction (a bulk import's chunk) are kept only while
 * transactions keep using a quarter of them: the first ordinary write after
 * an import frees them instead of leaving tens of megabytes in the heap.
 */
static void pending_keep(struct store_txn *t)
{
	struct pending_set *ps = &t->own;

	pending_reset(ps);
	if (ps->cap > PENDING_KEEP_SMALL && ps->high * 4 < ps->cap) {
		pending_free(ps);
		return;
	}
	ps->high = 0;
	pending_free(&t->s->kept); /* empty unless a writer raced: never kept twice */
	t->s->kept = *ps;
	memset(ps, 0, sizeof(*ps));
}

/* Whether two pending entries have the same key bytes. */
static bool pending_same_key(const struct pending_key *x, const struct pending_key *y,
			     const unsigned char *arena)
{
	unsigned char xb[16], yb[16];
	const unsigned char *xk, *yk;
	uint16_t xl, yl;

	if (x->prefix != y->prefix || x->prefix2 != y->prefix2)
		return false;
	/* Keys of up to 16 bytes are all in the prefix: the lengths tell. */
	if ((x->off | y->off) & PENDING_SHORT)
		return x->off == y->off;
	xk = pending_key_bytes(x, arena, xb, &xl);
	yk = pending_key_bytes(y, arena, yb, &yl);
	return xl == yl && memcmp(xk, yk, xl) == 0;
}

#define PUT_MULTIPLE_MAX 512 /* values of one key given to LMDB at once */

/* Puts n values (ascending record numbers) under one key with a single
 * MDB_MULTIPLE call where LMDB takes them: one search for the key instead
 * of one per value.  A value already there is skipped (the indexer
 * emitted the key twice), as mdb_cursor_put with MDB_NODUPDATA would. */
static int put_values(MDB_cursor *cur, MDB_val *k, uint64_t *vals, size_t n)
{
	while (n > 0) {
		MDB_val d[2] = { { sizeof(*vals), vals }, { n, NULL } };
		int rc;

		if (n == 1)
			rc = mdb_cursor_put(cur, k, &d[0], MDB_NODUPDATA);
		else
			rc = mdb_cursor_put(cur, k, d, MDB_MULTIPLE | MDB_NODUPDATA);
		if (rc == 0)
			return 0;
		if (rc != MDB_KEYEXIST)
			return rc;
		/* d[1] says how many went in before the one already there. */
		if (n == 1 || d[1].mv_size >= n)
			return 0;
		vals += d[1].mv_size + 1;
		n -= d[1].mv_size + 1;
	}
	return 0;
}

/*
 * Writes sorted entries [from, to) into the index.  With append (the index
 * was empty and every entry so far came in order) LMDB is told so and
 * fills each page completely instead of searching and splitting.  Without
 * it, the values of each key go in together (put_values).
 */
static int pending_write(struct store *s, MDB_txn *txn, const struct pending_set *ps,
			 size_t from, size_t to, bool append, struct dsc_error *err)
{
	/* The entry before a chunk decides whether its first one is a new key. */
	const struct pending_key *prev = from > 0 ? &ps->keys[from - 1] : NULL;
	uint64_t vals[PUT_MULTIPLE_MAX];
	/* Under LMDB's write lock: the filter cannot be replaced meanwhile. */
	struct kf_run run = { .kf = atomic_load(&s->kf) };
	MDB_cursor *cur;
	size_t i, j, nv;
	int rc = 0;

	if ((rc = mdb_cursor_open(txn, s->db_index, &cur)) != 0)
		return mdb_fail(s, err, rc, "writing the index");
	for (i = from; i < to && !append; i = j) {
		const struct pending_key *p = &ps->keys[i];
		unsigned char kbuf[16];
		uint16_t klen;
		MDB_val k;

		k.mv_data = (void *)pending_key_bytes(p, ps->arena.data, kbuf, &klen);
		k.mv_size = klen;
		nv = 0;
		for (j = i; j < to && (j == i || pending_same_key(&ps->keys[j], p, ps->arena.data));
		     j++) {
			const struct pending_key *q = &ps->keys[j];

			/* Sorted entries point all over the arena: fetch ahead. */
			if (j + 8 < to && !(ps->keys[j + 8].off & PENDING_SHORT))
				__builtin_prefetch(ps->arena.data + ps->keys[j + 8].off);
			if (j > i && q->recno == ps->keys[j - 1].recno)
				continue; /* the indexer emitted this key twice */
			if (nv == PUT_MULTIPLE_MAX) {
				if ((rc = put_values(cur, &k, vals, nv)) != 0)
					break;
				nv = 0;
			}
			vals[nv++] = index_value(q->recno, q->recno < s->n_tags ? s->tags[q->recno] : 0);
		}
		if (rc != 0 || (rc = put_values(cur, &k, vals, nv)) != 0)
			break;
		if (run.kf != NULL)
			kf_run_add(&run, k.mv_data, k.mv_size);
	}
	for (i = from; i < to && append; i++) {
		const struct pending_key *p = &ps->keys[i];
		uint64_t value = index_value(p->recno, p->recno < s->n_tags ? s->tags[p->recno] : 0);
		MDB_val k, v = { sizeof(value), &value };
		unsigned char kbuf[16];
		uint16_t klen;
		bool same = false;

		/* Sorted entries point all over the arena: fetch ahead. */
		if (i + 8 < to && !(ps->keys[i + 8].off & PENDING_SHORT))
			__builtin_prefetch(ps->arena.data + ps->keys[i + 8].off);
		k.mv_data = (void *)pending_key_bytes(p, ps->arena.data, kbuf, &klen);
		k.mv_size = klen;
		if (prev != NULL && prev->prefix == p->prefix && prev->prefix2 == p->prefix2) {
			unsigned char pbuf[16];
			uint16_t plen;
			const unsigned char *pk = pending_key_bytes(prev, ps->arena.data, pbuf, &plen);

			same = plen == klen && memcmp(pk, k.mv_data, klen) == 0;
		}
		if (same && prev->recno == p->recno)
			continue; /* the indexer emitted this key twice */
		/* A new key goes after the last one; a known key gets a larger
		 * record number after its last one. */
		rc = mdb_cursor_put(cur, &k, &v, same ? MDB_APPENDDUP : MDB_APPEND);
		if (rc != 0)
			break;
		if (run.kf != NULL && !same)
			kf_run_add(&run, k.mv_data, k.mv_size);
		prev = p;
	}
	mdb_cursor_close(cur);
	/* Even after a failed put: bits of keys not written cost a look-up. */
	if (run.kf != NULL)
		atomic_fetch_add(&run.kf->added, kf_run_end(&run));
	if (rc != 0)
		return mdb_fail(s, err, rc, "writing the index");
	return DSC_OK;
}

/* Writes the transaction's pending index entries (during a bulk load, all
 * of the bulk's so far) in key order, inside the transaction. */
static int pending_flush(struct store_txn *t, struct dsc_error *err)
{
	struct pending_set *ps = t->pend;
	int rc;

	if (ps->n == 0)
		return DSC_OK;
	if ((rc = pending_sort(ps)) != DSC_OK)
		return dsc_error_set(err, rc, "out of memory sorting index entries");
	rc = pending_write(t->s, t->txn, ps, 0, ps->n, false, err);
	t->keys_added = true;
	pending_reset(ps);
	if (ps != &t->own) {
		/* Entries of earlier, committed transactions now live in this
		 * one: if it aborts they are gone (see store_write_abort). */
		t->bulk_flushed = true;
		t->bulk_mark_n = 0;
		t->bulk_mark_arena = 0;
		t->s->bulk_append = false;
		memset(t->s->bulk_touched, 0, t->s->bulk_touched_bytes);
	}
	return rc;
}

static int pending_add(struct store_txn *t, const void *key, size_t len, uint32_t recno,
		       struct dsc_error *err)
{
	unsigned char be[16] = { 0 };
	uint16_t klen = (uint16_t)len;
	struct pending_key *p;
	int rc;

	struct pending_set *ps = t->pend;
	size_t limit = ps == &t->own ? PENDING_ARENA_MAX : BULK_ARENA_MAX;

	if (ps->arena.len + len + 2 > limit && (rc = pending_flush(t, err)) != DSC_OK)
		return rc;
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 4096;

		p = big_grow(ps->keys, ps->cap * sizeof(*p), cap * sizeof(*p));
		if (p == NULL)
			return dsc_error_set(err, DSC_ENOMEM, "out of memory for index entries");
		ps->keys = p;
		ps->cap = cap;
	}
	p = &ps->keys[ps->n];
	p->off = len <= 16 ? PENDING_SHORT | (uint32_t)len : (uint32_t)ps->arena.len;
	p->recno = recno;
	memcpy(be, key, len < 16 ? len : 16);
	memcpy(&p->prefix, be, 8);
	memcpy(&p->prefix2, be + 8, 8);
	p->prefix = be64toh(p->prefix);
	p->prefix2 = be64toh(p->prefix2);
	if (len > 16) {
		if (buf_reserve_as(&ps->arena, len + 2, true) != DSC_OK)
			return dsc_error_set(err, DSC_ENOMEM, "out of memory for index entries");
		memcpy(ps->arena.data + ps->arena.len, &klen, sizeof(klen));
		memcpy(ps->arena.data + ps->arena.len + 2, key, len);
		ps->arena.len += len + 2;
	}
	ps->n++;
	return DSC_OK;
}

struct emit_ctx {
	struct store_txn *t;
	uint32_t recno;
	uint32_t tag;
	bool del;
	int rc;
	struct dsc_error *err;
};

static int emit_key(void *sink, const void *key, size_t len)
{
	struct emit_ctx *c = sink;
	uint64_t value = index_value(c->recno, c->tag);
	MDB_val k = { len, (void *)key }, v = { sizeof(value), &value };
	int rc;

	if (c->rc != DSC_OK)
		return c->rc;
	if (len == 0 || len > STORE_KEY_MAX) {
		c->rc = dsc_error_set(c->err, DSC_EINTERNAL,
				      "index key of %zu bytes (must be 1-%d): an indexer bug", len,
				      STORE_KEY_MAX);
		return c->rc;
	}
	if (c->del) {
		rc = mdb_del(c->t->txn, c->t->s->db_index, &k, &v);
		if (rc == MDB_NOTFOUND) /* the indexer emitted this key twice */
			rc = 0;
	} else {
		c->rc = pending_add(c->t, key, len, c->recno, c->err);
		return c->rc;
	}
	if (rc != 0)
		c->rc = mdb_fail(c->t->s, c->err, rc, "removing an index entry");
	return c->rc;
}

static int index_record(struct store_txn *t, const struct offender *o, uint32_t recno, bool del,
			struct dsc_error *err)
{
	struct emit_ctx c = { t, recno, 0, del, DSC_OK, err };
	int rc;

	if (t->s->indexer.tag != NULL)
		c.tag = t->s->indexer.tag(o, t->s->indexer.arg);
	if (!del && (rc = tag_set(t->s, recno, c.tag, err)) != DSC_OK)
		return rc;
	rc = t->s->indexer.keys(o, emit_key, &c, t->s->indexer.arg);
	if (c.rc != DSC_OK)
		return c.rc;
	if (rc != DSC_OK)
		return dsc_error_set(err, rc < 0 ? rc : DSC_EINTERNAL,
				     "indexing record %s failed (%s)", o->id, dsc_status_name(rc));
	return DSC_OK;
}

/* Checks a block of views read from the store: its offsets must rise and
 * stay within it. */
static bool view_block_valid(const MDB_val *v)
{
	uint32_t prev = 0, o;

	if (v->mv_size < VIEW_HEAD)
		return false;
	for (size_t i = 0; i <= VIEW_BLOCK; i++) {
		memcpy(&o, (const unsigned char *)v->mv_data + i * sizeof(o), sizeof(o));
		if (o < prev || o > v->mv_size - VIEW_HEAD)
			return false;
		prev = o;
	}
	return true;
}

/* Writes the staged block (or removes it when it holds no view). */
static int view_stage_flush(struct store_txn *t, struct dsc_error *err)
{
	struct view_stage *vs = &t->vs;
	MDB_val k = { sizeof(vs->block), &vs->block }, v;
	int rc;

	if (!vs->active || !vs->dirty)
		return DSC_OK;
	vs->dirty = false;
	if (vs->off[VIEW_BLOCK] == 0) {
		rc = mdb_del(t->txn, t->s->db_views, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return mdb_fail(t->s, err, rc, "deleting a block of match views");
		t->views_changed = true;
		return DSC_OK;
	}
	v.mv_size = VIEW_HEAD + vs->data.len;
	v.mv_data = NULL;
	if ((rc = mdb_put(t->txn, t->s->db_views, &k, &v, MDB_RESERVE)) != 0)
		return mdb_fail(t->s, err, rc, "writing a block of match views");
	t->views_changed = true;
	memcpy(v.mv_data, vs->off, VIEW_HEAD);
	memcpy((unsigned char *)v.mv_data + VIEW_HEAD, vs->data.data, vs->data.len);
	return DSC_OK;
}

/* Makes the block of recno the staged one, as stored (or empty). */
static int view_stage_load(struct store_txn *t, uint32_t recno, struct dsc_error *err)
{
	struct view_stage *vs = &t->vs;
	uint32_t block = recno >> VIEW_BLOCK_SHIFT;
	MDB_val k = { sizeof(block), &block }, v;
	int rc;

	if (vs->active && vs->block == block)
		return DSC_OK;
	if ((rc = view_stage_flush(t, err)) != DSC_OK)
		return rc;
	vs->active = false;
	vs->block = block;
	vs->data.len = 0;
	rc = mdb_get(t->txn, t->s->db_views, &k, &v);
	if (rc == MDB_NOTFOUND) {
		memset(vs->off, 0, sizeof(vs->off));
	} else if (rc != 0) {
		return mdb_fail(t->s, err, rc, "reading a block of match views");
	} else if (!view_block_valid(&v)) {
		return dsc_error_set(err, DSC_EIO,
				     "store %s: the match views of records %u to %u are damaged; "
				     "re-index the store",
				     t->s->path, block << VIEW_BLOCK_SHIFT,
				     (block << VIEW_BLOCK_SHIFT) + VIEW_BLOCK - 1);
	} else {
		memcpy(vs->off, v.mv_data, VIEW_HEAD);
		if ((rc = store_buf_append(&vs->data, (const unsigned char *)v.mv_data + VIEW_HEAD,
					   vs->off[VIEW_BLOCK])) != DSC_OK)
			return dsc_error_set(err, rc, "out of memory");
	}
	vs->active = true;
	return DSC_OK;
}

/* Sets (len 0: removes) the view of recno in its staged block. */
static int write_view_bytes(struct store_txn *t, uint32_t recno, const void *view, size_t len,
			    struct dsc_error *err)
{
	struct view_stage *vs = &t->vs;
	size_t i = recno & (VIEW_BLOCK - 1), at, old, tail;
	int rc;

	if ((rc = view_stage_load(t, recno, err)) != DSC_OK)
		return rc;
	at = vs->off[i];
	old = vs->off[i + 1] - at;
	tail = vs->data.len - vs->off[i + 1];
	if (len > UINT32_MAX - VIEW_HEAD - (vs->data.len - old))
		return dsc_error_set(err, DSC_ETOOBIG, "match views of one block too large");
	if (len > old && buf_reserve(&vs->data, len - old) != DSC_OK)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	if (tail > 0 && len != old)
		memmove(vs->data.data + at + len, vs->data.data + at + old, tail);
	if (len > 0)
		memcpy(vs->data.data + at, view, len);
	vs->data.len = vs->data.len - old + len;
	for (size_t j = i + 1; j <= VIEW_BLOCK; j++)
		vs->off[j] = (uint32_t)(vs->off[j] - old + len);
	vs->dirty = true;
	return DSC_OK;
}

static int write_view(struct store_txn *t, uint32_t recno, const struct store_buf *view,
		      struct dsc_error *err)
{
	return write_view_bytes(t, recno, view->data, view->len, err);
}

static int put_view(struct store_txn *t, const struct offender *o, uint32_t recno,
		    struct dsc_error *err)
{
	int rc;

	if (t->s->indexer.view == NULL)
		return DSC_OK;
	t->view.len = 0;
	rc = t->s->indexer.view(o, &t->view, t->s->indexer.arg);
	if (rc != DSC_OK)
		return dsc_error_set(err, rc < 0 ? rc : DSC_EINTERNAL,
				     "match view of record %s failed (%s)", o->id, dsc_status_name(rc));
	return write_view(t, recno, &t->view, err);
}

static bool bulk_touched(const struct store *s, uint32_t recno)
{
	return (size_t)(recno / 8) < s->bulk_touched_bytes &&
	       (s->bulk_touched[recno / 8] & (1u << (recno % 8))) != 0;
}

static int bulk_touch(struct store *s, uint32_t recno, struct dsc_error *err)
{
	size_t need = (size_t)recno / 8 + 1;

	if (need > s->bulk_touched_bytes) {
		size_t n = need * 2;
		unsigned char *b = realloc(s->bulk_touched, n);

		if (b == NULL)
			return dsc_error_set(err, DSC_ENOMEM, "out of memory");
		memset(b + s->bulk_touched_bytes, 0, n - s->bulk_touched_bytes);
		s->bulk_touched = b;
		s->bulk_touched_bytes = n;
	}
	s->bulk_touched[recno / 8] |= (unsigned char)(1u << (recno % 8));
	return DSC_OK;
}

/* Removes the index keys of the record stored under recno, as the indexer
 * derives them from the stored JSON. */
static int unindex_stored(struct store_txn *t, uint32_t recno, struct dsc_error *err)
{
	MDB_val k = { sizeof(recno), &recno }, v;
	struct offender *old;
	struct dsc_error perr;
	int rc;

	/* The old keys may still be pending (the same id twice in one
	 * transaction or bulk load): write them first so the removal finds
	 * them. */
	if ((t->pend == &t->own || bulk_touched(t->s, recno)) &&
	    (rc = pending_flush(t, err)) != DSC_OK)
		return rc;
	rc = mdb_get(t->txn, t->s->db_records, &k, &v);
	if (rc != 0)
		return mdb_fail(t->s, err, rc, "reading the stored record to replace");
	rc = offender_parse(v.mv_data, v.mv_size, &old, &perr);
	if (rc != DSC_OK)
		return dsc_error_set(err, DSC_EINTERNAL,
				     "stored record %u no longer parses (%s): cannot remove its index keys",
				     recno, perr.msg);
	rc = index_record(t, old, recno, true, err);
	offender_free(old);
	return rc;
}

/* ---- opening ---- */

static int open_dbs(struct store *s, MDB_txn *txn, struct dsc_error *err)
{
	static const struct {
		const char *name;
		size_t off;
		unsigned flags;
	} dbs[] = {
		{ "_store", offsetof(struct store, db_store), 0 },
		{ "ids", offsetof(struct store, db_ids), 0 },
		{ "records", offsetof(struct store, db_records), MDB_INTEGERKEY },
		{ "views", offsetof(struct store, db_views), MDB_INTEGERKEY },
		{ "index", offsetof(struct store, db_index), MDB_DUPSORT | MDB_DUPFIXED | MDB_INTEGERDUP },
		{ "checks", offsetof(struct store, db_checks), 0 },
		{ "audit", offsetof(struct store, db_audit), 0 },
		{ "meta", offsetof(struct store, db_meta), 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		MDB_dbi *dbi = (MDB_dbi *)((char *)s + dbs[i].off);
		unsigned flags = dbs[i].flags | (s->read_only ? 0 : MDB_CREATE);
		int rc = mdb_dbi_open(txn, dbs[i].name, flags, dbi);
		char what[64];

		if (rc == MDB_NOTFOUND)
			return dsc_error_set(err, DSC_EIO,
					     "store %s: not a disclosured store (no \"%s\" database)",
					     s->path, dbs[i].name);
		if (rc != 0) {
			snprintf(what, sizeof(what), "opening database \"%s\"", dbs[i].name);
			return mdb_fail(s, err, rc, what);
		}
	}
	return DSC_OK;
}

static int check_schema(struct store *s, MDB_txn *txn, struct dsc_error *err)
{
	uint32_t version;
	int rc = meta_get_u32(txn, s->db_store, "schema_version", &version);

	if (rc == MDB_NOTFOUND) {
		if (s->read_only)
			return dsc_error_set(err, DSC_EIO, "store %s: no schema version recorded",
					     s->path);
		rc = meta_put_u32(txn, s->db_store, "schema_version", STORE_SCHEMA_VERSION);
		if (rc != 0)
			return mdb_fail(s, err, rc, "writing the schema version");
		return DSC_OK;
	}
	if (rc != 0)
		return mdb_fail(s, err, rc, "reading the schema version");
	if (version != STORE_SCHEMA_VERSION)
		return dsc_error_set(err, DSC_ECONFLICT,
				     "store %s has schema version %u, this program reads version %d: "
				     "use the matching program version or convert the store",
				     s->path, version, STORE_SCHEMA_VERSION);
	return DSC_OK;
}

static void bulk_free(struct store *s);

/* Rebuilds the index and views from the records as a bulk load (views in
 * batches of transactions, the index sorted at the end), so that a large
 * store neither overflows one transaction nor rewrites its index pages
 * once per batch.  index_version is written last: an interrupted rebuild
 * starts again at the next open. */
static int reindex(struct store *s, size_t total, struct dsc_error *err)
{
	struct store_txn *t = NULL;
	uint32_t from = 0;
	size_t done_records = 0;
	int rc;

	if (s->reindex_progress != NULL)
		s->reindex_progress(s->progress_arg, 0, total, false);

	rc = store_write_begin(s, &t, err);
	if (rc != DSC_OK)
		return rc;
	if ((rc = mdb_drop(t->txn, s->db_index, 0)) != 0 ||
	    (rc = mdb_drop(t->txn, s->db_views, 0)) != 0 ||
	    (rc = meta_put_u32(t->txn, s->db_store, "index_version", 0)) != 0) {
		rc = mdb_fail(s, err, rc, "clearing the index for a rebuild");
		store_write_abort(t);
		return rc;
	}
	t->views_changed = true;
	if ((rc = store_write_commit(t, err)) != DSC_OK ||
	    (rc = store_bulk_begin(s, err)) != DSC_OK ||
	    (rc = store_write_begin(s, &t, err)) != DSC_OK) {
		bulk_free(s);
		return rc;
	}
	for (;;) {
		MDB_cursor *cur;
		MDB_val k = { sizeof(from), &from }, v;
		MDB_cursor_op op = MDB_SET_RANGE;
		size_t n = 0;
		bool done = false;

		rc = mdb_cursor_open(t->txn, s->db_records, &cur);
		if (rc != 0) {
			rc = mdb_fail(s, err, rc, "re-indexing");
			store_write_abort(t);
			return rc;
		}
		while (n < REINDEX_BATCH) {
			struct dsc_error perr;
			struct offender *o;
			uint32_t recno;

			rc = mdb_cursor_get(cur, &k, &v, op);
			op = MDB_NEXT;
			if (rc == MDB_NOTFOUND) {
				done = true;
				rc = 0;
				break;
			}
			if (rc != 0) {
				rc = mdb_fail(s, err, rc, "re-indexing");
				break;
			}
			memcpy(&recno, k.mv_data, sizeof(recno));
			rc = offender_parse(v.mv_data, v.mv_size, &o, &perr);
			if (rc != DSC_OK) {
				rc = dsc_error_set(err, DSC_EINTERNAL,
						   "re-indexing: stored record %u no longer parses: %s",
						   recno, perr.msg);
				break;
			}
			rc = index_record(t, o, recno, false, err);
			if (rc == DSC_OK)
				rc = put_view(t, o, recno, err);
			offender_free(o);
			if (rc != DSC_OK)
				break;
			from = recno + 1;
			n++;
		}
		mdb_cursor_close(cur);
		done_records += n;
		if (rc != DSC_OK) {
			store_write_abort(t);
			bulk_free(s);
			return rc;
		}
		rc = store_write_commit(t, err);
		if (rc != DSC_OK) {
			bulk_free(s);
			return rc;
		}
		if (done || from == 0) { /* from 0: wrapped past UINT32_MAX */
			rc = store_bulk_end(s, err); /* writes index_version */
			if (rc == DSC_OK && s->reindex_progress != NULL)
				s->reindex_progress(s->progress_arg, done_records, total, true);
			return rc;
		}
		if (s->reindex_progress != NULL)
			s->reindex_progress(s->progress_arg, done_records, total, false);
		rc = store_write_begin(s, &t, err);
		if (rc != DSC_OK) {
			bulk_free(s);
			return rc;
		}
	}
}

/* What index_version records: the indexer's version (keys, tags, views)
 * and the layout the views are kept in. */
static uint32_t index_version(const struct store *s)
{
	return (s->indexer.version & 0xffffu) | VIEW_LAYOUT << 16;
}

static int check_index(struct store *s, struct dsc_error *err)
{
	MDB_txn *txn;
	uint32_t version = 0;
	size_t records, keys;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return mdb_fail(s, err, rc, "checking the index version");
	rc = meta_get_u32(txn, s->db_store, "index_version", &version);
	records = db_entries(txn, s->db_records);
	keys = db_entries(txn, s->db_index);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_fail(s, err, rc, "reading the index version");
	if (rc == 0 && version == index_version(s) && (keys > 0 || records == 0))
		return DSC_OK;
	if (rc == MDB_NOTFOUND && records == 0) {
		/* A new store: nothing to rebuild, just say which indexer. */
		struct store_txn *t;

		if ((rc = store_write_begin(s, &t, err)) != DSC_OK)
			return rc;
		rc = meta_put_u32(t->txn, s->db_store, "index_version", index_version(s));
		if (rc != 0) {
			rc = mdb_fail(s, err, rc, "writing the index version");
			store_write_abort(t);
			return rc;
		}
		return store_write_commit(t, err);
	}
	if (s->read_only)
		return dsc_error_set(err, DSC_ECONFLICT,
				     "store %s was indexed by another version of the program (index "
				     "version %#x, this program's %#x): open it read-write once to "
				     "rebuild the index",
				     s->path, version, index_version(s));
	return reindex(s, records, err);
}

int store_open(struct store **out, const struct store_options *opt,
	       const struct store_indexer *indexer, struct dsc_error *err)
{
	struct store *s;
	MDB_txn *txn = NULL;
	MDB_envinfo info;
	unsigned flags;
	int rc, dead = 0;

	*out = NULL;
	dsc_error_clear(err);
	if (opt == NULL || opt->path == NULL || opt->path[0] == '\0')
		return dsc_error_set(err, DSC_EINVAL, "store: no path given");
	if (indexer == NULL && !opt->read_only)
		return dsc_error_set(err, DSC_EINVAL,
				     "store %s: opening for writing needs an indexer", opt->path);
	if (indexer != NULL && indexer->keys == NULL)
		return dsc_error_set(err, DSC_EINVAL, "store %s: the indexer has no keys function",
				     opt->path);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	if (snprintf(s->path, sizeof(s->path), "%s", opt->path) >= (int)sizeof(s->path)) {
		free(s);
		return dsc_error_set(err, DSC_EINVAL, "store: path too long");
	}
	{
		/* Writer-preferring, so that a stream of requests cannot hold a
		 * growth off for ever (readers never nest the lock). */
		pthread_rwlockattr_t ra;

		pthread_rwlockattr_init(&ra);
		pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&s->resize_lock, &ra);
		pthread_rwlockattr_destroy(&ra);
	}
	s->read_only = opt->read_only;
	s->views_cache = opt->views_cache;
	atomic_init(&s->views_seq, 0);
	atomic_init(&s->index_seq, 0);
	atomic_init(&s->kf, NULL);
	atomic_init(&s->kf_rebuilds, 0);
	atomic_init(&s->kf_builds, 0);
	s->kf_min_bits = opt->key_filter_bits == 0 ? KF_MIN_BITS : KF_SMALLEST_BITS;
	while (s->kf_min_bits < opt->key_filter_bits && s->kf_min_bits < KF_MAX_BITS)
		s->kf_min_bits <<= 1;
	s->reindex_progress = opt->reindex_progress;
	s->progress_arg = opt->progress_arg;
	s->map_size = opt->map_size ? opt->map_size : DEFAULT_MAP_SIZE;
	if (indexer != NULL) {
		s->indexer = *indexer;
		s->has_indexer = true;
	}

	if (!s->read_only && mkdir(s->path, 0700) != 0 && errno != EEXIST) {
		rc = errno;
		dsc_error_set(err, rc == EACCES ? DSC_EPERM : DSC_EIO,
			      "store %s: cannot create the directory: %s", s->path, strerror(rc));
		free(s);
		return err ? err->code : DSC_EIO;
	}

	if ((rc = mdb_env_create(&s->env)) != 0) {
		free(s);
		return dsc_error_set(err, DSC_ENOMEM, "store: mdb_env_create: %s", mdb_strerror(rc));
	}
	flags = MDB_NOTLS; /* a reader's slot belongs to its txn, not to a thread */
	if (s->read_only)
		flags |= MDB_RDONLY;
	if (opt->bulk_nosync)
		flags |= MDB_NOSYNC;
	if ((rc = mdb_env_set_maxdbs(s->env, 8)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, s->map_size)) != 0 ||
	    (opt->max_readers > 0 && (rc = mdb_env_set_maxreaders(s->env, opt->max_readers)) != 0)) {
		mdb_fail(s, err, rc, "setting up the environment");
		goto fail;
	}
	if ((rc = mdb_env_open(s->env, s->path, flags, 0600)) != 0) {
		if (rc == ENOENT)
			dsc_error_set(err, DSC_ENOTFOUND, "store %s: no store there", s->path);
		else
			mdb_fail(s, err, rc, "opening the environment");
		goto fail;
	}
	/* The map may be larger than asked if the file already is. */
	if (mdb_env_info(s->env, &info) == 0)
		s->map_size = info.me_mapsize;
	/* Readers left by a crashed process would stop page reuse forever. */
	if ((rc = mdb_reader_check(s->env, &dead)) != 0) {
		mdb_fail(s, err, rc, "clearing stale readers");
		goto fail;
	}

	rc = mdb_txn_begin(s->env, NULL, s->read_only ? MDB_RDONLY : 0, &txn);
	if (rc != 0) {
		mdb_fail(s, err, rc, "starting the opening transaction");
		goto fail;
	}
	if (open_dbs(s, txn, err) != DSC_OK || check_schema(s, txn, err) != DSC_OK)
		goto fail;
	rc = mdb_txn_commit(txn); /* keeps the database handles */
	txn = NULL;
	if (rc != 0) {
		mdb_fail(s, err, rc, "committing the opening transaction");
		goto fail;
	}
	if (s->has_indexer && check_index(s, err) != DSC_OK)
		goto fail;
	if (opt->key_filter) {
		struct keyfilter *kf;

		if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0) {
			mdb_fail(s, err, rc, "reading the index for the key filter");
			goto fail;
		}
		rc = kf_build(s, txn, KF_BITS_KEY_LEAST, &kf, err);
		mdb_txn_abort(txn);
		txn = NULL;
		if (rc != DSC_OK)
			goto fail;
		atomic_store(&s->kf, kf);
	}
	*out = s;
	return DSC_OK;

fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	bulk_free(s);
	free(s->tags);
	mdb_env_close(s->env);
	free(s);
	return err ? err->code : DSC_EIO;
}

static void bulk_free(struct store *s)
{
	if (s->bulk != NULL) {
		pending_free(s->bulk);
		free(s->bulk);
		s->bulk = NULL;
	}
	free(s->bulk_touched);
	s->bulk_touched = NULL;
	s->bulk_touched_bytes = 0;
	s->bulk_broken = false;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	/* A bulk load not ended leaves index_version 0: rebuilt at open. */
	bulk_free(s);
	pending_free(&s->kept);
	free(s->tags);
	kf_free(atomic_load(&s->kf));
	kf_free_list(s->kf_retired);
	mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->resize_lock);
	free(s);
}

int store_bulk_begin(struct store *s, struct dsc_error *err)
{
	MDB_txn *txn;
	int rc;

	if (s->read_only)
		return dsc_error_set(err, DSC_EPERM, "store %s is open read-only", s->path);
	if (s->bulk != NULL)
		return dsc_error_set(err, DSC_ECONFLICT, "store %s: a bulk load is already going on",
				     s->path);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return mdb_fail(s, err, rc, "starting a bulk load");
	s->bulk_append = db_entries(txn, s->db_index) == 0;
	/* Until store_bulk_end() the index is incomplete: a crash in between
	 * makes the next store_open() rebuild it. */
	if ((rc = meta_put_u32(txn, s->db_store, "index_version", 0)) != 0 ||
	    (rc = mdb_txn_commit(txn)) != 0) {
		if (rc == 0)
			mdb_txn_abort(txn);
		return mdb_fail(s, err, rc, "starting a bulk load");
	}
	s->bulk = calloc(1, sizeof(*s->bulk));
	if (s->bulk == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	s->bulk_broken = false;
	return DSC_OK;
}

int store_bulk_end(struct store *s, struct dsc_error *err)
{
	struct pending_set *ps = s->bulk;
	MDB_txn *txn;
	size_t from;
	int rc;

	if (ps == NULL)
		return dsc_error_set(err, DSC_EINVAL, "store %s: no bulk load to end", s->path);
	if (s->bulk_broken) {
		bulk_free(s);
		return dsc_error_set(err, DSC_EIO,
				     "store %s: index entries were lost with an aborted transaction; "
				     "the index is rebuilt at the next open", s->path);
	}
	if ((rc = pending_sort(ps)) != DSC_OK) {
		bulk_free(s);
		return dsc_error_set(err, rc, "out of memory sorting index entries");
	}
	/* In chunks, so that no transaction outgrows LMDB's dirty-page limit. */
	for (from = 0; from < ps->n; from += BULK_WRITE_CHUNK) {
		size_t to = ps->n - from > BULK_WRITE_CHUNK ? from + BULK_WRITE_CHUNK : ps->n;

		if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
			rc = mdb_fail(s, err, rc, "writing the index");
			bulk_free(s);
			return rc;
		}
		rc = pending_write(s, txn, ps, from, to, s->bulk_append, err);
		if (rc != DSC_OK) {
			mdb_txn_abort(txn);
			bulk_free(s);
			return rc;
		}
		if ((rc = commit_with_keys(s, txn)) != 0) {
			rc = mdb_fail(s, err, rc, "writing the index");
			bulk_free(s);
			return rc;
		}
	}
	bulk_free(s);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return mdb_fail(s, err, rc, "ending the bulk load");
	if ((rc = meta_put_u32(txn, s->db_store, "index_version", index_version(s))) != 0 ||
	    (rc = mdb_txn_commit(txn)) != 0) {
		if (rc == 0)
			mdb_txn_abort(txn);
		return mdb_fail(s, err, rc, "ending the bulk load");
	}
	return DSC_OK;
}

int store_sync(struct store *s, struct dsc_error *err)
{
	int rc = mdb_env_sync(s->env, 1);

	if (rc != 0)
		return mdb_fail(s, err, rc, "syncing to disk");
	return DSC_OK;
}

/* Bytes up to the last page in use (free pages below it included), and
 * the map size; an LMDB error code. */
static int env_used(MDB_env *env, size_t *used, size_t *map)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc;

	if ((rc = mdb_env_info(env, &info)) != 0 || (rc = mdb_env_stat(env, &st)) != 0)
		return rc;
	*used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
	if (map != NULL)
		*map = info.me_mapsize;
	return 0;
}

int store_stat(struct store *s, size_t *used_bytes, size_t *map_size, size_t *records)
{
	size_t used, map;
	MDB_txn *txn;
	int rc;

	if ((rc = env_used(s->env, &used, &map)) != 0)
		return mdb_status(rc);
	if (used_bytes != NULL)
		*used_bytes = used;
	if (map_size != NULL)
		*map_size = map;
	if (records != NULL) {
		if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
			return mdb_status(rc);
		*records = db_entries(txn, s->db_ids);
		mdb_txn_abort(txn);
	}
	return DSC_OK;
}

/* ---- reading ---- */

int store_reader_new(struct store *s, struct store_reader **out, struct dsc_error *err)
{
	struct store_reader *r;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	r->s = s;
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &r->txn);
	if (rc != 0) {
		free(r);
		if (rc == MDB_READERS_FULL)
			return dsc_error_set(err, DSC_EFULL,
					     "store %s: no reader slot left: raise max_readers", s->path);
		return mdb_fail(s, err, rc, "creating a reader");
	}
	/* Parked until store_read_begin(): it holds no snapshot meanwhile. */
	mdb_txn_reset(r->txn);
	*out = r;
	return DSC_OK;
}

void store_reader_free(struct store_reader *r)
{
	if (r == NULL)
		return;
	store_read_end(r);
	if (r->icur != NULL)
		mdb_cursor_close(r->icur);
	mdb_txn_abort(r->txn);
	free(r->vcache);
	free(r);
}

int store_read_begin(struct store_reader *r, struct dsc_error *err)
{
	const struct keyfilter *kf;
	unsigned long seq, kseq;
	int rc;

	store_read_end(r);
	pthread_rwlock_rdlock(&r->s->resize_lock);
	seq = atomic_load(&r->s->views_seq);
	kseq = atomic_load(&r->s->index_seq);
	kf = atomic_load(&r->s->kf);
	rc = mdb_txn_renew(r->txn);
	if (rc != 0) {
		pthread_rwlock_unlock(&r->s->resize_lock);
		return mdb_fail(r->s, err, rc, "starting a read");
	}
	/* The snapshot is taken: views_seq read again after it (vslot). */
	atomic_thread_fence(memory_order_seq_cst);
	r->txn_seq = seq;
	r->txn_seq_known = r->s->views_cache && (seq & 1) == 0 && atomic_load(&r->s->views_seq) == seq;
	/* The key filter holds every key of the snapshot when no commit that
	 * wrote keys was under way meanwhile (the comment on the filter). */
	r->kf = (kseq & 1) == 0 && atomic_load(&r->s->index_seq) == kseq ? kf : NULL;
	r->active = true;
	r->icur_ready = false;
	r->vcache_checked = false;
	return DSC_OK;
}

void store_read_end(struct store_reader *r)
{
	if (r != NULL && r->active) {
		mdb_txn_reset(r->txn);
		r->active = false;
		pthread_rwlock_unlock(&r->s->resize_lock);
	}
}

int store_space(struct store *s, size_t *used, size_t *map, size_t *file)
{
	struct stat fs;
	int fd, rc;

	/* The meta pages are in the map, which store_set_map_size moves. */
	pthread_rwlock_rdlock(&s->resize_lock);
	if ((rc = env_used(s->env, used, map)) == 0 && (rc = mdb_env_get_fd(s->env, &fd)) == 0)
		*file = fstat(fd, &fs) == 0 ? (size_t)fs.st_size : 0;
	pthread_rwlock_unlock(&s->resize_lock);
	return rc == 0 ? DSC_OK : mdb_status(rc);
}

int store_keep_ahead(struct store *s, size_t low, size_t step, size_t *added, struct dsc_error *err)
{
	/* In .bss and never written: reading it maps the zero page, no memory. */
	static unsigned char zeros[1u << 20];
	MDB_txn *txn;
	struct stat fs;
	struct statvfs vfs;
	size_t used, end, target;
	off_t off;
	int fd, rc, e = 0;

	*added = 0;
	if (s->read_only)
		return DSC_OK;
	if (step > sizeof(zeros))
		step = sizeof(zeros);
	/* LMDB's write lock, held while the file's end is read and the zeros
	 * written: no other writer (another process on the same store: an
	 * mdb_load, a store-import by mistake) can be growing the file at the
	 * same time.  The transaction writes nothing and is aborted. */
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return mdb_fail(s, err, rc, "locking the store to write zeros ahead");
	if ((rc = env_used(s->env, &used, NULL)) != 0 || (rc = mdb_env_get_fd(s->env, &fd)) != 0) {
		mdb_txn_abort(txn);
		return mdb_fail(s, err, rc, "reading the store's size");
	}
	if (fstat(fd, &fs) != 0) {
		e = errno;
		mdb_txn_abort(txn);
		return dsc_error_set(err, DSC_EIO, "store %s: fstat: %s", s->path, strerror(e));
	}
	end = (size_t)fs.st_size;
	if (end >= used + low || end >= s->map_size) {
		mdb_txn_abort(txn);
		return DSC_OK;
	}
	/* Never the last of the disk: zeros are for speed, and the disk's
	 * free space is for the data (and for what an operator frees). */
	if (fstatvfs(fd, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < (uint64_t)step + 4 * (uint64_t)low) {
		mdb_txn_abort(txn);
		return dsc_error_set(err, DSC_EFULL,
				     "store %s: not writing zeros ahead of the data: %llu MiB free on "
				     "its file system, less than four times [store] preallocate",
				     s->path, (unsigned long long)((uint64_t)vfs.f_bavail * vfs.f_frsize >> 20));
	}
	target = end + step;
	if (target > s->map_size)
		target = s->map_size;
	/* Only past the file's end, which is past every page LMDB wrote. */
	for (off = (off_t)end; (size_t)off < target;) {
		ssize_t w = pwrite(fd, zeros, target - (size_t)off, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = w < 0 ? errno : EIO;
			break;
		}
		off += w;
	}
	/* On disk before the next commit: its fdatasync would otherwise
	 * wait for them (it flushes every dirty page of the file), and the
	 * file's new size is logged now, not by that commit. */
	if (e == 0 && fdatasync(fd) != 0)
		e = errno;
	if (e != 0) {
		/* Give back what this step took. */
		(void)ftruncate(fd, (off_t)end);
		mdb_txn_abort(txn);
		return dsc_error_set(err, e == ENOSPC ? DSC_EFULL : DSC_EIO,
				     "store %s: writing zeros ahead of the data: %s", s->path,
				     strerror(e));
	}
	mdb_txn_abort(txn);
	*added = target - end;
	return DSC_OK;
}

int store_lock_take(const char *dir, struct dsc_error *err)
{
	char path[PATH_MAX], pid[32];
	int fd, n, e;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return dsc_error_set(err, DSC_EIO, "store %s: cannot create it: %s", dir, strerror(errno));
	if (snprintf(path, sizeof(path), "%s/disclosured.lock", dir) >= (int)sizeof(path))
		return dsc_error_set(err, DSC_EINVAL, "store %s: path too long", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return dsc_error_set(err, DSC_EIO, "store %s: cannot open %s: %s", dir, path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		e = errno;
		n = (int)pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		if (e != EWOULDBLOCK)
			return dsc_error_set(err, DSC_EIO, "store %s: cannot lock %s: %s", dir, path, strerror(e));
		return dsc_error_set(err, DSC_ECONFLICT, "store %s is in use by another process (pid %s)", dir,
				     pid[0] ? pid : "unknown");
	}
	/* The pid only names the holder to others; the lock holds without it. */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, pid, (size_t)n, 0);
	return fd;
}

int store_set_map_size(struct store *s, size_t map_size, struct dsc_error *err)
{
	int rc;

	if (map_size <= s->map_size)
		return dsc_error_set(err, DSC_EINVAL,
				     "store %s: map_size %zu is not larger than the current %zu (LMDB "
				     "maps only grow while open)", s->path, map_size, s->map_size);
	/* Waits for readers to end their (short) transactions; the caller is
	 * the one writer, between its transactions. */
	pthread_rwlock_wrlock(&s->resize_lock);
	rc = mdb_env_set_mapsize(s->env, map_size);
	if (rc == 0)
		s->map_size = map_size;
	s->map_epoch++; /* even on failure: LMDB may have unmapped it */
	pthread_rwlock_unlock(&s->resize_lock);
	if (rc != 0)
		return mdb_fail(s, err, rc, "growing the map");
	return DSC_OK;
}

/*
 * Addition: after a start every page of the map is a page fault the first
 * time a read touches it, even when the file is in the page cache: at
 * 1,000,000 records some 20,000 faults over the first few thousand checks,
 * several µs each on a virtual machine.  This enters [offset, offset + len)
 * of the data file into the process's page tables ahead
 * (MADV_POPULATE_READ, Linux 5.14), reading from disk what is not cached.
 * *next is where to go on from, SIZE_MAX once the file's end is reached.
 * The map is found in /proc/self/maps by the data file's inode (LMDB does
 * not give its address) and held (resize_lock) only for one call, so a
 * caller goes in chunks and may stop between them.  DSC_EINVAL if the
 * kernel cannot: then the first reads map the pages, as before.
 */
int store_prefault(struct store *s, size_t offset, size_t len, size_t *next, struct dsc_error *err)
{
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = 0, end;
	uintptr_t lo = 0, hi = 0;
	char *line = NULL;
	struct stat st;
	FILE *maps;
	int fd, rc = DSC_OK;

	*next = SIZE_MAX;
	pthread_rwlock_rdlock(&s->resize_lock);
	if (mdb_env_get_fd(s->env, &fd) != 0 || fstat(fd, &st) != 0) {
		rc = dsc_error_set(err, DSC_EIO, "store %s: cannot stat the data file: %s", s->path,
				   strerror(errno));
		goto out;
	}
	if ((maps = fopen("/proc/self/maps", "re")) == NULL) {
		rc = dsc_error_set(err, DSC_EIO, "store %s: cannot read /proc/self/maps: %s", s->path,
				   strerror(errno));
		goto out;
	}
	while (getline(&line, &n, maps) > 0) {
		unsigned long a, b, off, ino;
		unsigned int maj, min;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &a, &b, perms, &off, &maj, &min, &ino) == 7 &&
		    ino == (unsigned long)st.st_ino && makedev(maj, min) == st.st_dev && off == 0) {
			lo = a;
			hi = b;
			break;
		}
	}
	free(line);
	fclose(maps);
	if (lo == 0) {
		rc = dsc_error_set(err, DSC_ENOTFOUND, "store %s: its map is not in /proc/self/maps",
				   s->path);
		goto out;
	}
	end = (size_t)st.st_size < hi - lo ? (size_t)st.st_size : hi - lo;
	{
		/* Not the zeros written ahead of the data (store_keep_ahead). */
		size_t used;

		if (env_used(s->env, &used, NULL) == 0 && used < end)
			end = used;
	}
	end -= end % page;
	offset -= offset % page;
	if (offset >= end)
		goto out;
	if (len < page)
		len = page; /* at least a page, or a caller would never get on */
	if (len > end - offset)
		len = end - offset;
	if (madvise((void *)(lo + offset), len, MADV_POPULATE_READ) == 0) {
		*next = offset + len < end ? offset + len : SIZE_MAX;
	} else if (errno == EINTR || errno == EAGAIN) {
		*next = offset; /* interrupted: the caller goes on from here */
	} else if (errno == EINVAL) {
		rc = dsc_error_set(err, DSC_EINVAL,
				   "store %s: this kernel cannot map pages ahead (MADV_POPULATE_READ "
				   "needs Linux 5.14); the first reads map them",
				   s->path);
	} else {
		rc = dsc_error_set(err, DSC_EIO, "store %s: mapping pages ahead at byte %zu: %s",
				   s->path, offset, strerror(errno));
	}
out:
	pthread_rwlock_unlock(&s->resize_lock);
	return rc;
}

static int rget(struct store_reader *r, MDB_dbi dbi, const void *key, size_t klen, MDB_val *v)
{
	MDB_val k = { klen, (void *)key };

	if (!r->active)
		return DSC_EINTERNAL;
	if (klen == 0 || klen > 511)
		return DSC_ENOTFOUND;
	return mdb_status(mdb_get(r->txn, dbi, &k, v));
}

int store_offender_count(struct store_reader *r, size_t *n)
{
	MDB_stat st;
	int rc;

	if (!r->active)
		return DSC_EINTERNAL;
	if ((rc = mdb_stat(r->txn, r->s->db_ids, &st)) != 0)
		return mdb_status(rc);
	*n = st.ms_entries;
	return DSC_OK;
}

int store_get_recno(struct store_reader *r, const char *id, uint32_t *recno)
{
	MDB_val v;
	int rc;

	if (!offender_id_valid(id))
		return DSC_ENOTFOUND;
	if ((rc = rget(r, r->s->db_ids, id, strlen(id), &v)) != DSC_OK)
		return rc;
	if (v.mv_size != sizeof(*recno))
		return DSC_EINTERNAL;
	memcpy(recno, v.mv_data, sizeof(*recno));
	return DSC_OK;
}

int store_get_offender_by_recno(struct store_reader *r, uint32_t recno, const char **json,
				size_t *len)
{
	MDB_val v;
	int rc;

	if ((rc = rget(r, r->s->db_records, &recno, sizeof(recno), &v)) != DSC_OK)
		return rc;
	*json = v.mv_data;
	*len = v.mv_size;
	return DSC_OK;
}

int store_get_offender(struct store_reader *r, const char *id, const char **json, size_t *len)
{
	uint32_t recno;
	int rc;

	if ((rc = store_get_recno(r, id, &recno)) != DSC_OK)
		return rc;
	return store_get_offender_by_recno(r, recno, json, len);
}

/* The view of record recno in a block read from the store. */
static int view_in_block(const MDB_val *v, uint32_t recno, const void **view, size_t *len)
{
	size_t i = recno & (VIEW_BLOCK - 1);
	uint32_t o[2];

	if (v->mv_size < VIEW_HEAD)
		return DSC_EIO;
	memcpy(o, (const unsigned char *)v->mv_data + i * sizeof(uint32_t), sizeof(o));
	if (o[0] > o[1] || o[1] > v->mv_size - VIEW_HEAD)
		return DSC_EIO; /* damaged: never read past the value */
	if (o[0] == o[1])
		return DSC_ENOTFOUND;
	*view = (const unsigned char *)v->mv_data + VIEW_HEAD + o[0];
	*len = o[1] - o[0];
	return DSC_OK;
}

/* The slots, valid in this read transaction; NULL if there are none (not
 * asked for, a commit under way, out of memory): then every block is
 * looked up. */
static struct vslot *vcache(struct store_reader *r)
{
	if (!r->txn_seq_known)
		return NULL;
	if (!r->vcache_checked) {
		r->vcache_checked = true;
		if (r->vcache == NULL) {
			r->vcache = calloc(VCACHE_SLOTS, sizeof(*r->vcache));
		} else if (r->vcache_seq != r->txn_seq || r->vcache_epoch != r->s->map_epoch) {
			memset(r->vcache, 0, VCACHE_SLOTS * sizeof(*r->vcache));
		}
		r->vcache_seq = r->txn_seq;
		r->vcache_epoch = r->s->map_epoch;
	}
	return r->vcache;
}

/* The block of 64 views numbered block, as rget would give it. */
static int view_block(struct store_reader *r, uint32_t block, MDB_val *v)
{
	struct vslot *slots, *e = NULL;
	int rc;

	if (r->active && (slots = vcache(r)) != NULL) {
		e = &slots[block & (VCACHE_SLOTS - 1)];
		if (e->tag == block + 1) {
			if (e->len == 0)
				return DSC_ENOTFOUND;
			v->mv_size = e->len;
			v->mv_data = (void *)e->data;
			return DSC_OK;
		}
	}
	rc = rget(r, r->s->db_views, &block, sizeof(block), v);
	if (e == NULL)
		return rc;
	/* Blocks end at 2^26 (record numbers are uint32_t), so block + 1 is
	 * never 0; an empty value would read as "no block": not kept. */
	if (rc == DSC_ENOTFOUND) {
		e->tag = block + 1;
		e->len = 0;
		e->data = NULL;
	} else if (rc == DSC_OK && v->mv_size > 0 && v->mv_size <= UINT32_MAX) {
		e->tag = block + 1;
		e->len = (uint32_t)v->mv_size;
		e->data = v->mv_data;
	}
	return rc;
}

int store_get_view(struct store_reader *r, uint32_t recno, const void **view, size_t *len)
{
	uint32_t block = recno >> VIEW_BLOCK_SHIFT;
	MDB_val v;
	int rc;

	if ((rc = view_block(r, block, &v)) != DSC_OK)
		return rc;
	return view_in_block(&v, recno, view, len);
}

int store_get_views(struct store_reader *r, const uint32_t *recnos, size_t n, const void **views,
		    size_t *lens)
{
	MDB_val v[STORE_VIEWS_MAX];
	int rc;

	if (n > STORE_VIEWS_MAX)
		return DSC_EINVAL;
	/* The blocks first, asking for each view's offsets... */
	for (size_t i = 0; i < n; i++) {
		uint32_t block = recnos[i] >> VIEW_BLOCK_SHIFT;
		rc = view_block(r, block, &v[i]);
		if (rc == DSC_ENOTFOUND) {
			v[i].mv_size = 0;
			continue;
		}
		if (rc != DSC_OK)
			return rc;
		if (v[i].mv_size >= VIEW_HEAD)
			__builtin_prefetch((const uint32_t *)v[i].mv_data + (recnos[i] & (VIEW_BLOCK - 1)));
	}
	/* ...then the views, asking for their first bytes: the caller reads
	 * them in turn while the rest arrive. */
	for (size_t i = 0; i < n; i++) {
		views[i] = NULL;
		lens[i] = 0;
		if (v[i].mv_size == 0)
			continue; /* no block: none of its records has a view */
		rc = view_in_block(&v[i], recnos[i], &views[i], &lens[i]);
		if (rc == DSC_ENOTFOUND)
			continue;
		if (rc != DSC_OK)
			return rc;
		__builtin_prefetch(views[i]);
		__builtin_prefetch((const char *)views[i] + 64);
	}
	return DSC_OK;
}

int store_offender_each(struct store_reader *r,
			int (*fn)(void *arg, uint32_t recno, const char *json, size_t len), void *arg)
{
	MDB_cursor *cur;
	MDB_val k, v, rk, rv;
	MDB_cursor_op op = MDB_FIRST;
	int rc;

	if (!r->active)
		return DSC_EINTERNAL;
	if ((rc = mdb_cursor_open(r->txn, r->s->db_ids, &cur)) != 0)
		return mdb_status(rc);
	for (;;) {
		uint32_t recno;

		rc = mdb_cursor_get(cur, &k, &v, op);
		op = MDB_NEXT;
		if (rc == MDB_NOTFOUND) {
			rc = DSC_OK;
			break;
		}
		if (rc != 0) {
			rc = mdb_status(rc);
			break;
		}
		if (v.mv_size != sizeof(recno)) {
			rc = DSC_EINTERNAL;
			break;
		}
		memcpy(&recno, v.mv_data, sizeof(recno));
		rk.mv_size = sizeof(recno);
		rk.mv_data = &recno;
		if ((rc = mdb_get(r->txn, r->s->db_records, &rk, &rv)) != 0) {
			rc = rc == MDB_NOTFOUND ? DSC_EINTERNAL : mdb_status(rc);
			break;
		}
		if ((rc = fn(arg, recno, rv.mv_data, rv.mv_size)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc;
}

/* The reader's index cursor, ready for this read transaction. */
static int index_cursor(struct store_reader *r, MDB_cursor **cur)
{
	int rc;

	if (r->icur == NULL) {
		if ((rc = mdb_cursor_open(r->txn, r->s->db_index, &r->icur)) != 0)
			return mdb_status(rc);
		r->icur_ready = true;
	} else if (!r->icur_ready) {
		if ((rc = mdb_cursor_renew(r->txn, r->icur)) != 0)
			return mdb_status(rc);
		r->icur_ready = true;
	}
	*cur = r->icur;
	return DSC_OK;
}

/* Hands out the values of the multiple-value page in v (as
 * MDB_GET_MULTIPLE gives it) as refs, in chunks; fn's non-zero return is
 * returned. */
static int refs_of_page(const MDB_val *v, struct store_ref *chunk, size_t cap,
			int (*fn)(void *arg, const struct store_ref *refs, size_t n), void *arg)
{
	/* Values of a small duplicate set live inside the node, after a key of
	 * any length, so they may be unaligned: copy before handing out. */
	const unsigned char *p = v->mv_data;
	size_t left = v->mv_size / sizeof(uint64_t);
	int rc;

	if (v->mv_size % sizeof(uint64_t) != 0)
		return DSC_EINTERNAL; /* not an index this program wrote */
	while (left > 0) {
		size_t n = left < cap ? left : cap;

		for (size_t i = 0; i < n; i++) {
			uint64_t x;

			memcpy(&x, p + i * sizeof(x), sizeof(x));
			chunk[i].recno = (uint32_t)(x >> 32);
			chunk[i].tag = (uint32_t)x;
		}
		if ((rc = fn(arg, chunk, n)) != 0)
			return rc;
		p += n * sizeof(uint64_t);
		left -= n;
	}
	return 0;
}

struct fill_ctx {
	struct store_ref *out;
	size_t cap, n;
};

static int fill_fn(void *arg, const struct store_ref *refs, size_t n)
{
	struct fill_ctx *f = arg;

	if (n > f->cap - f->n)
		n = f->cap - f->n;
	memcpy(f->out + f->n, refs, n * sizeof(*refs));
	f->n += n;
	return f->n == f->cap ? 1 : 0;
}

/* Counts a look-up; true when the key filter says key is in no record. */
static bool ruled_out(struct store_reader *r, const void *key, size_t klen)
{
	r->lookups++;
	if (r->kf == NULL || kf_may_hold(r->kf, key, klen))
		return false;
	r->filtered++;
	return true;
}

int store_index_get(struct store_reader *r, const void *key, size_t klen, struct store_ref *refs, size_t cap,
		    size_t *count, size_t *got)
{
	MDB_cursor *cur;
	MDB_val k = { klen, (void *)key }, v;
	struct fill_ctx f = { refs, cap, 0 };
	size_t n = 0;
	int rc;

	*count = 0;
	*got = 0;
	if (!r->active)
		return DSC_EINTERNAL;
	if (klen == 0 || klen > STORE_KEY_MAX)
		return DSC_OK;
	if (ruled_out(r, key, klen))
		return DSC_OK;
	if ((rc = index_cursor(r, &cur)) != DSC_OK)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
	if (rc == 0)
		rc = mdb_cursor_count(cur, &n);
	if (rc == MDB_NOTFOUND)
		return DSC_OK;
	if (rc != 0)
		return mdb_status(rc);
	*count = n;
	if (n > cap || cap == 0)
		return DSC_OK;
	rc = mdb_cursor_get(cur, &k, &v, MDB_GET_MULTIPLE);
	while (rc == 0) {
		struct store_ref chunk[64];
		int frc = refs_of_page(&v, chunk, 64, fill_fn, &f);

		if (frc == 1)
			break; /* all cap of them: the count said no more */
		if (frc != 0)
			return frc;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_MULTIPLE);
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mdb_status(rc);
	*got = f.n;
	return DSC_OK;
}

int store_index_count(struct store_reader *r, const void *key, size_t klen, size_t *n)
{
	size_t got;

	return store_index_get(r, key, klen, NULL, 0, n, &got);
}

int store_index_each(struct store_reader *r, const void *key, size_t klen,
		     int (*fn)(void *arg, const struct store_ref *refs, size_t n), void *arg)
{
	struct store_ref chunk[512];
	MDB_cursor *cur;
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	if (!r->active)
		return DSC_EINTERNAL;
	if (klen == 0 || klen > STORE_KEY_MAX)
		return DSC_OK;
	if (ruled_out(r, key, klen))
		return DSC_OK;
	if ((rc = index_cursor(r, &cur)) != DSC_OK)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_GET_MULTIPLE);
	while (rc == 0) {
		if ((rc = refs_of_page(&v, chunk, 512, fn, arg)) != 0)
			return rc;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_MULTIPLE);
	}
	return rc == MDB_NOTFOUND ? DSC_OK : mdb_status(rc);
}

void store_index_prefetch(const struct store_reader *r, const void *key, size_t klen)
{
	const struct keyfilter *kf = r->kf;

	if (r->active && kf != NULL)
		__builtin_prefetch((const void *)&kf->words[(size_t)(kf_hash(key, klen) >> kf->block_shift) *
							    KF_BLOCK_WORDS]);
}

void store_reader_lookups(const struct store_reader *r, size_t *asked, size_t *filtered)
{
	*asked = r->lookups;
	*filtered = r->filtered;
}

static MDB_dbi table_dbi(const struct store *s, enum store_table t)
{
	switch (t) {
	case STORE_CHECKS: return s->db_checks;
	case STORE_AUDIT: return s->db_audit;
	case STORE_META: return s->db_meta;
	}
	return s->db_meta;
}

static bool table_valid(enum store_table t)
{
	return t == STORE_CHECKS || t == STORE_AUDIT || t == STORE_META;
}

int store_get(struct store_reader *r, enum store_table t, const void *key, size_t klen,
	      const void **val, size_t *vlen)
{
	MDB_val v;
	int rc;

	if (!table_valid(t))
		return DSC_EINVAL;
	if ((rc = rget(r, table_dbi(r->s, t), key, klen, &v)) != DSC_OK)
		return rc;
	*val = v.mv_data;
	*vlen = v.mv_size;
	return DSC_OK;
}

static void seq_key(uint64_t seq, unsigned char out[8])
{
	int i;

	/* Big-endian so that LMDB's byte order is sequence order. */
	for (i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(seq & 0xff);
		seq >>= 8;
	}
}

int store_audit_get(struct store_reader *r, uint64_t seq, const char **line, size_t *len)
{
	unsigned char key[8];
	MDB_val v;
	int rc;

	seq_key(seq, key);
	if ((rc = rget(r, r->s->db_audit, key, sizeof(key), &v)) != DSC_OK)
		return rc;
	*line = v.mv_data;
	*len = v.mv_size;
	return DSC_OK;
}

int store_audit_count(struct store_reader *r, uint64_t *n)
{
	MDB_stat st;
	int rc;

	if (!r->active)
		return DSC_EINTERNAL;
	if ((rc = mdb_stat(r->txn, r->s->db_audit, &st)) != 0)
		return mdb_status(rc);
	*n = st.ms_entries;
	return DSC_OK;
}

/* ---- writing ---- */

int store_write_begin(struct store *s, struct store_txn **out, struct dsc_error *err)
{
	struct store_txn *t;
	uint32_t next = 1;
	int rc;

	*out = NULL;
	if (s->read_only)
		return dsc_error_set(err, DSC_EPERM, "store %s is open read-only", s->path);
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	t->s = s;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &t->txn)) != 0) {
		free(t);
		return mdb_fail(s, err, rc, "starting a write");
	}
	rc = meta_get_u32(t->txn, s->db_store, "next_recno", &next);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		mdb_txn_abort(t->txn);
		free(t);
		return mdb_fail(s, err, rc, "reading the next record number");
	}
	/* Record numbers start at 1 so that 0 can mean "none" to callers. */
	t->next_recno = t->start_next_recno = next;
	/* The write lock is ours: the last transaction's buffers are free. */
	t->own = s->kept;
	memset(&s->kept, 0, sizeof(s->kept));
	t->pend = s->bulk != NULL ? s->bulk : &t->own;
	if (s->bulk != NULL) {
		t->bulk_mark_n = s->bulk->n;
		t->bulk_mark_arena = s->bulk->arena.len;
	}
	*out = t;
	return DSC_OK;
}

static void txn_free(struct store_txn *t)
{
	free(t->view.data);
	free(t->vs.data.data);
	pending_free(&t->own);
	free(t);
}

void store_write_abort(struct store_txn *t)
{
	if (t == NULL)
		return;
	pending_keep(t); /* before the write lock goes */
	mdb_txn_abort(t->txn);
	if (t->pend != &t->own) {
		/* Drop this transaction's bulk entries; if it had written the
		 * bulk's earlier entries, those are lost with it. */
		t->pend->n = t->bulk_mark_n;
		t->pend->arena.len = t->bulk_mark_arena;
		if (t->bulk_flushed)
			t->s->bulk_broken = true;
	}
	txn_free(t);
}

int store_write_commit(struct store_txn *t, struct dsc_error *err)
{
	struct store *s;
	int rc;

	if (t == NULL)
		return dsc_error_set(err, DSC_EINTERNAL, "store: commit without a transaction");
	s = t->s;
	if (t->failed != DSC_OK) {
		rc = t->failed;
		store_write_abort(t);
		return dsc_error_set(err, rc,
				     "write not committed: a change in it failed earlier (%s)",
				     dsc_status_name(rc));
	}
	if ((rc = view_stage_flush(t, err)) != DSC_OK ||
	    (t->pend == &t->own && (rc = pending_flush(t, err)) != DSC_OK)) {
		store_write_abort(t);
		return rc;
	}
	if (t->next_recno != t->start_next_recno &&
	    (rc = meta_put_u32(t->txn, s->db_store, "next_recno", t->next_recno)) != 0) {
		rc = mdb_fail(s, err, rc, "writing the next record number");
		store_write_abort(t);
		return rc;
	}
	pending_keep(t); /* before the write lock goes */
	/* Odd while the commit may be half seen (the comment on vslot). */
	if (t->views_changed)
		atomic_fetch_add(&s->views_seq, 1);
	rc = t->keys_added ? commit_with_keys(s, t->txn) : mdb_txn_commit(t->txn);
	if (t->views_changed)
		atomic_fetch_add(&s->views_seq, 1);
	t->txn = NULL;
	if (rc != 0 && t->pend != &t->own) {
		t->pend->n = t->bulk_mark_n;
		t->pend->arena.len = t->bulk_mark_arena;
		if (t->bulk_flushed)
			s->bulk_broken = true;
	}
	txn_free(t);
	if (rc != 0)
		return mdb_fail(s, err, rc, "committing");
	return DSC_OK;
}

/* A failed LMDB write poisons the transaction: remember it so that a commit
 * cannot pretend the rest happened. */
static int txn_failed(struct store_txn *t, int rc)
{
	if (rc != DSC_OK && rc != DSC_ENOTFOUND && t->failed == DSC_OK)
		t->failed = rc;
	return rc;
}

static int txn_usable(struct store_txn *t, struct dsc_error *err)
{
	if (t->failed != DSC_OK)
		return dsc_error_set(err, t->failed,
				     "write abandoned: an earlier change in this transaction failed");
	return DSC_OK;
}

struct store_prepared {
	struct store_buf keys; /* (uint16_t length, bytes) per key */
	struct store_buf view;
	bool has_view;
	uint32_t tag;
};

static int prepared_emit(void *sink, const void *key, size_t len)
{
	struct store_buf *keys = sink;
	uint16_t klen = (uint16_t)len;

	if (len == 0 || len > STORE_KEY_MAX)
		return DSC_EINTERNAL;
	if (keys->cap - keys->len >= len + 2) {
		/* The kept buffer has room: no call per key. */
		memcpy(keys->data + keys->len, &klen, sizeof(klen));
		memcpy(keys->data + keys->len + 2, key, len);
		keys->len += len + 2;
		return DSC_OK;
	}
	if (store_buf_append(keys, &klen, sizeof(klen)) != DSC_OK ||
	    store_buf_append(keys, key, len) != DSC_OK)
		return DSC_ENOMEM;
	return DSC_OK;
}

/*
 * A record's keys and view are built in buffers kept per thread (the
 * daemon's import thread, store-import's workers) and then copied into one
 * block with the struct: a bulk import prepares a million records, and a
 * struct and two buffers grown by doubling each time were a dozen mallocs,
 * reallocs and frees a record.  Buffers grown past PREP_SCRATCH_KEEP by an
 * unusual record are not kept.
 */
#define PREP_SCRATCH_KEEP ((size_t)64 * 1024)

struct prep_scratch {
	struct store_buf keys, view;
};

static pthread_key_t prep_key;
static pthread_once_t prep_once = PTHREAD_ONCE_INIT;
static bool prep_key_ready;

static void prep_scratch_destroy(void *arg)
{
	struct prep_scratch *sc = arg;

	free(sc->keys.data);
	free(sc->view.data);
	free(sc);
}

static void prep_key_init(void)
{
	prep_key_ready = pthread_key_create(&prep_key, prep_scratch_destroy) == 0;
}

/* The thread's scratch, emptied, or NULL (then the caller uses its own). */
static struct prep_scratch *prep_scratch_get(void)
{
	struct prep_scratch *sc;

	pthread_once(&prep_once, prep_key_init);
	if (!prep_key_ready)
		return NULL;
	sc = pthread_getspecific(prep_key);
	if (sc == NULL) {
		if ((sc = calloc(1, sizeof(*sc))) == NULL)
			return NULL;
		if (pthread_setspecific(prep_key, sc) != 0) {
			free(sc);
			return NULL;
		}
	}
	sc->keys.len = 0;
	sc->view.len = 0;
	return sc;
}

static void prep_scratch_done(struct prep_scratch *sc, bool kept)
{
	if (!kept || sc->keys.cap > PREP_SCRATCH_KEEP) {
		free(sc->keys.data);
		sc->keys.data = NULL;
		sc->keys.cap = 0;
	}
	if (!kept || sc->view.cap > PREP_SCRATCH_KEEP) {
		free(sc->view.data);
		sc->view.data = NULL;
		sc->view.cap = 0;
	}
}

int store_prepare_in(const struct store *s, struct dsc_arena *arena, const struct offender *o,
		     struct store_prepared **out, struct dsc_error *err)
{
	struct prep_scratch own = { { NULL, 0, 0 }, { NULL, 0, 0 } }, *sc;
	struct store_prepared *p = NULL;
	uint32_t tag = 0;
	bool has_view = false;
	int rc;

	*out = NULL;
	if (!s->has_indexer)
		return dsc_error_set(err, DSC_EINVAL, "store %s has no indexer", s->path);
	if ((sc = prep_scratch_get()) == NULL)
		sc = &own;
	if (s->indexer.tag != NULL)
		tag = s->indexer.tag(o, s->indexer.arg);
	rc = s->indexer.keys(o, prepared_emit, &sc->keys, s->indexer.arg);
	if (rc != DSC_OK) {
		rc = dsc_error_set(err, rc < 0 ? rc : DSC_EINTERNAL, "indexing record %s failed (%s)",
				   o->id, dsc_status_name(rc));
		goto done;
	}
	if (s->indexer.view != NULL) {
		rc = s->indexer.view(o, &sc->view, s->indexer.arg);
		if (rc != DSC_OK) {
			rc = dsc_error_set(err, rc < 0 ? rc : DSC_EINTERNAL,
					   "match view of record %s failed (%s)", o->id,
					   dsc_status_name(rc));
			goto done;
		}
		has_view = true;
	}
	if (arena != NULL)
		p = dsc_arena_alloc(arena, sizeof(*p) + sc->keys.len + sc->view.len);
	else
		p = malloc(sizeof(*p) + sc->keys.len + sc->view.len);
	if (p == NULL) {
		rc = dsc_error_set(err, DSC_ENOMEM, "out of memory");
		goto done;
	}
	p->keys.data = (unsigned char *)(p + 1);
	p->keys.len = p->keys.cap = sc->keys.len;
	p->view.data = p->keys.data + sc->keys.len;
	p->view.len = p->view.cap = sc->view.len;
	if (sc->keys.len > 0)
		memcpy(p->keys.data, sc->keys.data, sc->keys.len);
	if (sc->view.len > 0)
		memcpy(p->view.data, sc->view.data, sc->view.len);
	p->has_view = has_view;
	p->tag = tag;
	*out = p;
	rc = DSC_OK;
done:
	prep_scratch_done(sc, sc != &own);
	return rc;
}

int store_prepare(const struct store *s, const struct offender *o, struct store_prepared **out,
		  struct dsc_error *err)
{
	return store_prepare_in(s, NULL, o, out, err);
}

void store_prepared_free(struct store_prepared *p)
{
	free(p); /* keys and view lie in the same block */
}

static int add_prepared(struct store_txn *t, const struct offender *o,
			const struct store_prepared *p, uint32_t recno, struct dsc_error *err)
{
	size_t at = 0;
	int rc;

	if ((rc = tag_set(t->s, recno, p->tag, err)) != DSC_OK)
		return rc;
	while (at + 2 <= p->keys.len) {
		uint16_t klen;

		memcpy(&klen, p->keys.data + at, sizeof(klen));
		if (at + 2 + klen > p->keys.len)
			return dsc_error_set(err, DSC_EINTERNAL, "prepared keys of %s are cut", o->id);
		if ((rc = pending_add(t, p->keys.data + at + 2, klen, recno, err)) != DSC_OK)
			return rc;
		at += 2 + (size_t)klen;
	}
	if (!p->has_view)
		return DSC_OK;
	return write_view(t, recno, &p->view, err);
}

static int put_offender(struct store_txn *t, const struct offender *o,
			const struct store_prepared *prep, bool *replaced, struct dsc_error *err);

int store_put_offender(struct store_txn *t, const struct offender *o, bool *replaced,
		       struct dsc_error *err)
{
	return put_offender(t, o, NULL, replaced, err);
}

int store_put_prepared(struct store_txn *t, const struct offender *o,
		       const struct store_prepared *prep, bool *replaced, struct dsc_error *err)
{
	if (prep == NULL)
		return dsc_error_set(err, DSC_EINVAL, "no prepared index keys");
	return put_offender(t, o, prep, replaced, err);
}

static int put_offender(struct store_txn *t, const struct offender *o,
			const struct store_prepared *prep, bool *replaced, struct dsc_error *err)
{
	struct store *s = t->s;
	uint32_t recno = t->next_recno;
	MDB_val k, v;
	bool old = false;
	int rc;

	if (replaced != NULL)
		*replaced = false;
	if ((rc = txn_usable(t, err)) != DSC_OK)
		return rc;
	if (o == NULL || o->json == NULL || !offender_id_valid(o->id))
		return dsc_error_set(err, DSC_EINVAL, "not a validated record");
	if (recno == 0)
		return txn_failed(t, dsc_error_set(err, DSC_EFULL, "store: record numbers exhausted"));

	k.mv_size = strlen(o->id);
	k.mv_data = (void *)o->id;
	v.mv_size = sizeof(recno);
	v.mv_data = &recno;
	rc = mdb_put(t->txn, s->db_ids, &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		/* v now holds the record number the id already has. */
		if (v.mv_size != sizeof(recno))
			return txn_failed(t, dsc_error_set(err, DSC_EINTERNAL,
							   "store: id %s has a bad record number", o->id));
		memcpy(&recno, v.mv_data, sizeof(recno));
		old = true;
		if ((rc = unindex_stored(t, recno, err)) != DSC_OK)
			return txn_failed(t, rc);
	} else if (rc != 0) {
		return txn_failed(t, mdb_fail(s, err, rc, "writing the record's id"));
	} else {
		t->next_recno++;
	}

	k.mv_size = sizeof(recno);
	k.mv_data = &recno;
	v.mv_size = o->json_len;
	v.mv_data = o->json;
	/* New record numbers only grow, so a new record is an append. */
	rc = mdb_put(t->txn, s->db_records, &k, &v, old ? 0 : MDB_APPEND);
	if (rc != 0)
		return txn_failed(t, mdb_fail(s, err, rc, "writing the record"));
	if (t->pend != &t->own && (rc = bulk_touch(s, recno, err)) != DSC_OK)
		return txn_failed(t, rc);
	if (prep != NULL)
		rc = add_prepared(t, o, prep, recno, err);
	else if ((rc = index_record(t, o, recno, false, err)) == DSC_OK)
		rc = put_view(t, o, recno, err);
	if (rc != DSC_OK)
		return txn_failed(t, rc);
	if (replaced != NULL)
		*replaced = old;
	return DSC_OK;
}

int store_delete_offender(struct store_txn *t, const char *id, struct dsc_error *err)
{
	struct store *s = t->s;
	MDB_val k, v;
	uint32_t recno;
	int rc;

	if ((rc = txn_usable(t, err)) != DSC_OK)
		return rc;
	if (!offender_id_valid(id))
		return dsc_error_set(err, DSC_ENOTFOUND, "no offender record with that id");
	k.mv_size = strlen(id);
	k.mv_data = (void *)id;
	rc = mdb_get(t->txn, s->db_ids, &k, &v);
	if (rc == MDB_NOTFOUND)
		return dsc_error_set(err, DSC_ENOTFOUND, "no offender record %s", id);
	if (rc != 0)
		return txn_failed(t, mdb_fail(s, err, rc, "looking up the record"));
	if (v.mv_size != sizeof(recno))
		return txn_failed(t, dsc_error_set(err, DSC_EINTERNAL,
						   "store: id %s has a bad record number", id));
	memcpy(&recno, v.mv_data, sizeof(recno));
	if ((rc = unindex_stored(t, recno, err)) != DSC_OK)
		return txn_failed(t, rc);
	if ((rc = mdb_del(t->txn, s->db_ids, &k, NULL)) != 0)
		return txn_failed(t, mdb_fail(s, err, rc, "deleting the record's id"));
	k.mv_size = sizeof(recno);
	k.mv_data = &recno;
	if ((rc = mdb_del(t->txn, s->db_records, &k, NULL)) != 0)
		return txn_failed(t, mdb_fail(s, err, rc, "deleting the record"));
	if ((rc = write_view_bytes(t, recno, NULL, 0, err)) != DSC_OK)
		return txn_failed(t, rc);
	return DSC_OK;
}

int store_txn_get(struct store_txn *t, enum store_table tb, const void *key, size_t klen,
		  const void **val, size_t *vlen)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	if (t->failed != DSC_OK)
		return t->failed;
	if (!table_valid(tb))
		return DSC_EINVAL;
	if (klen == 0 || klen > 511)
		return DSC_ENOTFOUND;
	if ((rc = mdb_get(t->txn, table_dbi(t->s, tb), &k, &v)) != 0)
		return mdb_status(rc);
	*val = v.mv_data;
	*vlen = v.mv_size;
	return DSC_OK;
}

int store_txn_get_offender(struct store_txn *t, const char *id, const char **json, size_t *len)
{
	MDB_val k, v;
	uint32_t recno;
	int rc;

	if (t->failed != DSC_OK)
		return t->failed;
	if (!offender_id_valid(id))
		return DSC_ENOTFOUND;
	k.mv_size = strlen(id);
	k.mv_data = (void *)id;
	if ((rc = mdb_get(t->txn, t->s->db_ids, &k, &v)) != 0)
		return mdb_status(rc);
	if (v.mv_size != sizeof(recno))
		return DSC_EINTERNAL;
	memcpy(&recno, v.mv_data, sizeof(recno));
	k.mv_size = sizeof(recno);
	k.mv_data = &recno;
	if ((rc = mdb_get(t->txn, t->s->db_records, &k, &v)) != 0)
		return mdb_status(rc);
	*json = v.mv_data;
	*len = v.mv_size;
	return DSC_OK;
}

int store_txn_put(struct store_txn *t, enum store_table tb, const void *key, size_t klen,
		  const void *val, size_t vlen, struct dsc_error *err)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc;

	if ((rc = txn_usable(t, err)) != DSC_OK)
		return rc;
	if (!table_valid(tb))
		return dsc_error_set(err, DSC_EINVAL, "store: no such table %d", (int)tb);
	if (klen == 0 || klen > STORE_KEY_MAX)
		return dsc_error_set(err, DSC_EINVAL, "store: key of %zu bytes (must be 1-%d)", klen,
				     STORE_KEY_MAX);
	if ((rc = mdb_put(t->txn, table_dbi(t->s, tb), &k, &v, 0)) != 0)
		return txn_failed(t, mdb_fail(t->s, err, rc, "writing"));
	return DSC_OK;
}

int store_txn_audit_count(struct store_txn *t, uint64_t *n)
{
	MDB_stat st;
	int rc;

	if (t->failed != DSC_OK)
		return t->failed;
	if ((rc = mdb_stat(t->txn, t->s->db_audit, &st)) != 0)
		return mdb_status(rc);
	*n = st.ms_entries;
	return DSC_OK;
}

int store_audit_append(struct store_txn *t, uint64_t seq, const char *line, size_t len,
		       struct dsc_error *err)
{
	unsigned char key[8];
	MDB_val k = { sizeof(key), key }, v = { len, (void *)line };
	uint64_t next;
	int rc;

	if ((rc = txn_usable(t, err)) != DSC_OK)
		return rc;
	if ((rc = store_txn_audit_count(t, &next)) != DSC_OK)
		return txn_failed(t, dsc_error_set(err, rc, "store: cannot count audit entries"));
	if (seq != next)
		return dsc_error_set(err, DSC_ECONFLICT,
				     "audit entry %llu out of order: the next is %llu",
				     (unsigned long long)seq, (unsigned long long)next);
	seq_key(seq, key);
	if ((rc = mdb_put(t->txn, t->s->db_audit, &k, &v, MDB_APPEND)) != 0)
		return txn_failed(t, mdb_fail(t->s, err, rc, "appending an audit entry"));
	return DSC_OK;
}

int store_txn_audit_get(struct store_txn *t, uint64_t seq, const char **line, size_t *len)
{
	unsigned char key[8];
	const void *v;
	int rc;

	seq_key(seq, key);
	if ((rc = store_txn_get(t, STORE_AUDIT, key, sizeof(key), &v, len)) != DSC_OK)
		return rc;
	*line = v;
	return DSC_OK;
}
