/*
 * test_store.c - the LMDB store (lib/store.c): create, replace and delete
 * with their index entries, reads through reused readers, iteration, the
 * generic tables and the audit sequence, reopening, the schema check,
 * re-indexing when the indexer or the views' layout changes, match views
 * kept 64 records to a block, a full map, and the key filter (look-ups of
 * keys in no record answered in memory, never one in the index).
 *
 * The tests use an indexer of their own (one key per family name, ASCII
 * lower-cased, "f:" prefix), not the matcher's, so that they test the
 * store's bookkeeping and nothing else.  Every person here is made up.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "disclosure/arena.h"
#include "disclosure/store.h"

static int family_keys(const struct offender *o, store_emit_fn emit, void *sink, void *arg)
{
	const char *prefix = arg ? arg : "f:";
	size_t i, j;
	int rc;

	for (i = 0; i < o->n_names; i++) {
		char key[256];
		const char *src = strcmp(prefix, "g:") == 0 ? o->names[i].given : o->names[i].family;
		size_t n, p = strlen(prefix);

		if (src == NULL)
			continue;
		n = strlen(src);
		if (n > sizeof(key) - p)
			n = sizeof(key) - p;
		memcpy(key, prefix, p);
		for (j = 0; j < n; j++)
			key[p + j] = (src[j] >= 'A' && src[j] <= 'Z') ? (char)(src[j] + 32) : src[j];
		if ((rc = emit(sink, key, p + n)) != 0)
			return rc;
	}
	return 0;
}

/* The view is the id, so a test can tell which record a view belongs to. */
static int id_view(const struct offender *o, struct store_buf *out, void *arg)
{
	(void)arg;
	return store_buf_append(out, o->id, strlen(o->id));
}

/* The tag: the length of the first given name, so that a replace that
 * changes it changes the tag of every entry. */
static uint32_t given_tag(const struct offender *o, void *arg)
{
	(void)arg;
	return o->n_names > 0 && o->names[0].given != NULL ? 0x1000u + (uint32_t)strlen(o->names[0].given) : 0;
}

static const struct store_indexer family_indexer = { family_keys, id_view, NULL, 1, given_tag };
static const struct store_indexer given_indexer = { family_keys, id_view, (void *)"g:", 2, given_tag };

struct fixture {
	char dir[64];
	struct store *s;
	struct store_reader *r;
	size_t filter_bits; /* store_options.key_filter_bits at the next open */
};

static int open_store(struct fixture *f, size_t map_size, const struct store_indexer *ix)
{
	struct store_options opt = { 0 };
	struct dsc_error err;
	int rc;

	opt.path = f->dir;
	opt.map_size = map_size;
	opt.views_cache = true; /* as the daemon opens it */
	opt.key_filter = true;
	opt.key_filter_bits = f->filter_bits;
	rc = store_open(&f->s, &opt, ix, &err);
	if (rc != DSC_OK)
		print_error("store_open: %s\n", err.msg);
	return rc;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct dsc_error err;

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL || open_store(f, 16u << 20, &family_indexer) != DSC_OK ||
	    store_reader_new(f->s, &f->r, &err) != DSC_OK) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static void remove_dir(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/disclosured.lock", dir);
	unlink(path);
	rmdir(dir);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_reader_free(f->r);
	store_close(f->s);
	remove_dir(f->dir);
	free(f);
	return 0;
}

/* Closes the fixture's store (and reader), to reopen or change it. */
static void shut_store(struct fixture *f)
{
	store_reader_free(f->r);
	store_close(f->s);
	f->r = NULL;
	f->s = NULL;
}

static void reopen(struct fixture *f, const struct store_indexer *ix)
{
	struct dsc_error err;

	shut_store(f);
	assert_int_equal(open_store(f, 16u << 20, ix), DSC_OK);
	assert_int_equal(store_reader_new(f->s, &f->r, &err), DSC_OK);
}

/* Reopens the fixture's store with the family indexer and a larger map. */
static void reopen_sized(struct fixture *f, size_t map_size)
{
	struct dsc_error err;

	shut_store(f);
	assert_int_equal(open_store(f, map_size, &family_indexer), DSC_OK);
	assert_int_equal(store_reader_new(f->s, &f->r, &err), DSC_OK);
}

/* Writes one value into a named database of a closed store with LMDB
 * itself: what another program version, or damage, could leave there. */
static void raw_put(const char *dir, const char *db, unsigned flags, const void *key, size_t klen,
		    const void *val, size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, flags, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static struct offender *record(const char *id, const char *given, const char *family,
			       const char *alias_family)
{
	char text[512];
	struct offender *o;
	struct dsc_error err;

	if (alias_family != NULL)
		snprintf(text, sizeof(text),
			 "{\"id\":\"%s\",\"names\":[{\"given\":\"%s\",\"family\":\"%s\",\"kind\":\"primary\"},"
			 "{\"family\":\"%s\",\"kind\":\"alias\"}],\"managing_force\":\"kent\",\"status\":\"active\"}",
			 id, given, family, alias_family);
	else
		snprintf(text, sizeof(text),
			 "{\"id\":\"%s\",\"names\":[{\"given\":\"%s\",\"family\":\"%s\",\"kind\":\"primary\"}],"
			 "\"managing_force\":\"kent\",\"status\":\"active\"}",
			 id, given, family);
	if (offender_parse(text, strlen(text), &o, &err) != DSC_OK)
		fail_msg("test record does not parse: %s", err.msg);
	return o;
}

static void put(struct store *s, const char *id, const char *given, const char *family,
		const char *alias_family, bool want_replaced)
{
	struct offender *o = record(id, given, family, alias_family);
	struct store_txn *t;
	struct dsc_error err;
	bool replaced = !want_replaced;

	assert_int_equal(store_write_begin(s, &t, &err), DSC_OK);
	if (store_put_offender(t, o, &replaced, &err) != DSC_OK)
		fail_msg("put %s: %s", id, err.msg);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	assert_int_equal(replaced, want_replaced);
	offender_free(o);
}

struct collect {
	uint32_t recnos[8192], tags[8192];
	size_t n, calls;
};

static int collect_fn(void *arg, const struct store_ref *refs, size_t n)
{
	struct collect *c = arg;
	size_t i;

	c->calls++;
	for (i = 0; i < n && c->n < 8192; i++) {
		c->tags[c->n] = refs[i].tag;
		c->recnos[c->n++] = refs[i].recno;
	}
	return 0;
}

/* The record numbers under a key, through both index calls (which must agree). */
static size_t key_count(struct store_reader *r, const char *key, struct collect *c)
{
	size_t n = 99;

	static struct store_ref refs[8192];
	size_t count, got;

	memset(c, 0, sizeof(*c));
	assert_int_equal(store_index_count(r, key, strlen(key), &n), DSC_OK);
	assert_int_equal(store_index_each(r, key, strlen(key), collect_fn, c), DSC_OK);
	assert_int_equal(c->n, n);
	/* store_index_get: the same entries with the count when they fit,
	 * none when they do not. */
	assert_int_equal(store_index_get(r, key, strlen(key), refs, 8192, &count, &got), DSC_OK);
	assert_int_equal(count, n);
	assert_int_equal(got, n);
	for (size_t i = 0; i < got; i++) {
		assert_int_equal(refs[i].recno, c->recnos[i]);
		assert_int_equal(refs[i].tag, c->tags[i]);
	}
	if (n > 0) {
		assert_int_equal(store_index_get(r, key, strlen(key), refs, n - 1, &count, &got), DSC_OK);
		assert_int_equal(count, n);
		assert_int_equal(got, 0);
	}
	return n;
}

/* ---- create, get ---- */

static void a_created_record_can_be_read_by_id_and_number_with_its_keys(void **state)
{
	struct fixture *f = *state;
	struct dsc_error err;
	struct collect c;
	const char *json;
	const void *view;
	size_t len, n;
	uint32_t recno;

	put(f->s, "KEN-1", "Alfie", "Fictus", "Madeup", false);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_get_offender(f->r, "KEN-1", &json, &len), DSC_OK);
	assert_non_null(memmem(json, len, "\"family\":\"Fictus\"", 17));
	assert_int_equal(store_get_recno(f->r, "KEN-1", &recno), DSC_OK);
	assert_true(recno >= 1);
	assert_int_equal(store_get_offender_by_recno(f->r, recno, &json, &len), DSC_OK);
	assert_int_equal(store_get_view(f->r, recno, &view, &len), DSC_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(view, "KEN-1", 5);
	assert_int_equal(key_count(f->r, "f:fictus", &c), 1);
	assert_int_equal(c.recnos[0], recno);
	assert_int_equal(key_count(f->r, "f:madeup", &c), 1);
	assert_int_equal(key_count(f->r, "f:nobody", &c), 0);
	assert_int_equal(store_offender_count(f->r, &n), DSC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_get_offender(f->r, "KEN-2", &json, &len), DSC_ENOTFOUND);
	assert_int_equal(store_get_offender(f->r, "not an id", &json, &len), DSC_ENOTFOUND);
	assert_int_equal(store_get_view(f->r, recno + 100, &view, &len), DSC_ENOTFOUND);
	store_read_end(f->r);
}

/* ---- replace ---- */

static void a_replaced_record_keeps_its_number_and_loses_its_old_keys(void **state)
{
	struct fixture *f = *state;
	struct dsc_error err;
	struct collect c;
	const char *json;
	size_t len, n;
	uint32_t before, after;

	put(f->s, "KEN-1", "Alfie", "Fictus", "Madeup", false);
	put(f->s, "KEN-2", "Bertie", "Fictus", NULL, false);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_get_recno(f->r, "KEN-1", &before), DSC_OK);
	store_read_end(f->r);

	put(f->s, "KEN-1", "Alfie", "Newname", NULL, true);

	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_get_recno(f->r, "KEN-1", &after), DSC_OK);
	assert_int_equal(before, after);
	assert_int_equal(store_get_offender(f->r, "KEN-1", &json, &len), DSC_OK);
	assert_non_null(memmem(json, len, "Newname", 7));
	/* The old alias key is gone; the shared key keeps only the other record. */
	assert_int_equal(key_count(f->r, "f:madeup", &c), 0);
	assert_int_equal(key_count(f->r, "f:fictus", &c), 1);
	assert_int_not_equal(c.recnos[0], after);
	assert_int_equal(key_count(f->r, "f:newname", &c), 1);
	assert_int_equal(c.recnos[0], after);
	assert_int_equal(store_offender_count(f->r, &n), DSC_OK);
	assert_int_equal(n, 2);
	store_read_end(f->r);
}

/* The old entries are removed by their exact value, tag included: a
 * replace that changes the tag must leave one entry, with the new tag. */
static void every_entry_carries_its_records_tag_and_a_replace_renews_it(void **state)
{
	struct fixture *f = *state;
	struct dsc_error err;
	struct collect c;
	uint32_t recno;

	put(f->s, "KEN-1", "Alfie", "Fictus", "Madeup", false);
	put(f->s, "KEN-2", "Bartholomew", "Fictus", NULL, false);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(key_count(f->r, "f:fictus", &c), 2);
	assert_int_equal(c.tags[0], 0x1000u + 5);
	assert_int_equal(c.tags[1], 0x1000u + 11);
	store_read_end(f->r);

	put(f->s, "KEN-1", "Alfred", "Fictus", "Madeup", true);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_get_recno(f->r, "KEN-1", &recno), DSC_OK);
	assert_int_equal(key_count(f->r, "f:madeup", &c), 1);
	assert_int_equal(c.recnos[0], recno);
	assert_int_equal(c.tags[0], 0x1000u + 6);
	assert_int_equal(key_count(f->r, "f:fictus", &c), 2);
	assert_int_equal(c.recnos[0] == recno ? c.tags[0] : c.tags[1], 0x1000u + 6);
	store_read_end(f->r);

	/* And a delete finds them by the same value. */
	{
		struct store_txn *t;
		assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
		assert_int_equal(store_delete_offender(t, "KEN-1", &err), DSC_OK);
		assert_int_equal(store_write_commit(t, &err), DSC_OK);
	}
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(key_count(f->r, "f:madeup", &c), 0);
	assert_int_equal(key_count(f->r, "f:fictus", &c), 1);
	assert_int_equal(c.tags[0], 0x1000u + 11);
	store_read_end(f->r);
}

static void the_same_id_twice_in_one_transaction_leaves_only_the_last_keys(void **state)
{
	struct fixture *f = *state;
	struct offender *a = record("KEN-7", "Cyril", "Firstly", NULL);
	struct offender *b = record("KEN-7", "Cyril", "Secondly", NULL);
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;
	bool replaced;

	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	assert_int_equal(store_put_offender(t, a, &replaced, &err), DSC_OK);
	assert_false(replaced);
	assert_int_equal(store_put_offender(t, b, &replaced, &err), DSC_OK);
	assert_true(replaced);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	offender_free(a);
	offender_free(b);

	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(key_count(f->r, "f:firstly", &c), 0);
	assert_int_equal(key_count(f->r, "f:secondly", &c), 1);
	store_read_end(f->r);
}

/* ---- delete ---- */

static void a_deleted_record_leaves_no_key_pointing_at_it(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;
	const char *json;
	const void *view;
	size_t len, n;
	uint32_t gone;

	put(f->s, "KEN-1", "Alfie", "Fictus", "Madeup", false);
	put(f->s, "KEN-2", "Bertie", "Fictus", NULL, false);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_get_recno(f->r, "KEN-1", &gone), DSC_OK);
	store_read_end(f->r);

	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	assert_int_equal(store_delete_offender(t, "KEN-1", &err), DSC_OK);
	assert_int_equal(store_delete_offender(t, "KEN-1", &err), DSC_ENOTFOUND);
	assert_int_equal(store_delete_offender(t, "KEN-404", &err), DSC_ENOTFOUND);
	/* A not-found delete does not spoil the rest of the transaction. */
	assert_int_equal(store_write_commit(t, &err), DSC_OK);

	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_get_offender(f->r, "KEN-1", &json, &len), DSC_ENOTFOUND);
	assert_int_equal(store_get_offender_by_recno(f->r, gone, &json, &len), DSC_ENOTFOUND);
	assert_int_equal(store_get_view(f->r, gone, &view, &len), DSC_ENOTFOUND);
	assert_int_equal(key_count(f->r, "f:madeup", &c), 0);
	assert_int_equal(key_count(f->r, "f:fictus", &c), 1);
	assert_int_not_equal(c.recnos[0], gone);
	assert_int_equal(store_offender_count(f->r, &n), DSC_OK);
	assert_int_equal(n, 1);
	store_read_end(f->r);

	/* A new record never takes the deleted one's number. */
	put(f->s, "KEN-3", "Cedric", "Later", NULL, false);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(key_count(f->r, "f:later", &c), 1);
	assert_true(c.recnos[0] > gone);
	store_read_end(f->r);
}

/* ---- iteration and many records under one key ---- */

struct seen {
	char ids[16][16];
	size_t n;
};

static int seen_fn(void *arg, uint32_t recno, const char *json, size_t len)
{
	struct seen *s = arg;
	const char *p = memmem(json, len, "\"id\":\"", 6);

	(void)recno;
	if (p == NULL || s->n >= 16)
		return -1;
	sscanf(p + 6, "%15[^\"]", s->ids[s->n++]);
	return 0;
}

static int stop_fn(void *arg, uint32_t recno, const char *json, size_t len)
{
	(void)arg;
	(void)recno;
	(void)json;
	(void)len;
	return 7;
}

static void iteration_visits_every_record_in_id_order(void **state)
{
	struct fixture *f = *state;
	struct dsc_error err;
	struct seen seen = { .n = 0 };

	put(f->s, "KEN-3", "Cedric", "Gamma", NULL, false);
	put(f->s, "KEN-1", "Alfie", "Alpha", NULL, false);
	put(f->s, "KEN-2", "Bertie", "Beta", NULL, false);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_offender_each(f->r, seen_fn, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.ids[0], "KEN-1");
	assert_string_equal(seen.ids[1], "KEN-2");
	assert_string_equal(seen.ids[2], "KEN-3");
	/* A non-zero return stops the walk and comes back. */
	assert_int_equal(store_offender_each(f->r, stop_fn, NULL), 7);
	store_read_end(f->r);
}

static void thousands_of_records_under_one_key_come_back_in_chunks(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;
	size_t i;

	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (i = 0; i < 3000; i++) {
		char id[32];
		struct offender *o;

		snprintf(id, sizeof(id), "KEN-%05zu", i);
		o = record(id, "Common", "Commonname", NULL);
		assert_int_equal(store_put_offender(t, o, NULL, &err), DSC_OK);
		offender_free(o);
	}
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(key_count(f->r, "f:commonname", &c), 3000);
	/* More than one page of duplicates: more than one chunk. */
	assert_true(c.calls > 1);
	for (i = 1; i < c.n; i++)
		assert_true(c.recnos[i - 1] < c.recnos[i]);
	store_read_end(f->r);
}

/* ---- readers ---- */

static void a_reader_is_reused_and_sees_new_data_after_each_begin(void **state)
{
	struct fixture *f = *state;
	struct dsc_error err;
	const char *json;
	size_t len, n;
	int round;

	/* Not begun: no read, no crash. */
	assert_int_equal(store_get_offender(f->r, "KEN-1", &json, &len), DSC_EINTERNAL);
	for (round = 0; round < 5; round++) {
		char id[16];

		snprintf(id, sizeof(id), "KEN-%d", round);
		put(f->s, id, "Reuse", "Reader", NULL, false);
		assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
		assert_int_equal(store_offender_count(f->r, &n), DSC_OK);
		assert_int_equal(n, (size_t)round + 1);
		assert_int_equal(store_get_offender(f->r, id, &json, &len), DSC_OK);
		store_read_end(f->r);
	}
	/* Beginning twice is a fresh snapshot, ending twice is harmless. */
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	store_read_end(f->r);
	store_read_end(f->r);
}

static void a_begun_reader_keeps_its_snapshot_while_the_writer_commits(void **state)
{
	struct fixture *f = *state;
	struct dsc_error err;
	size_t n;

	put(f->s, "KEN-1", "Alfie", "Snap", NULL, false);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	put(f->s, "KEN-2", "Bertie", "Snap", NULL, false);
	assert_int_equal(store_offender_count(f->r, &n), DSC_OK);
	assert_int_equal(n, 1);
	store_read_end(f->r);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_offender_count(f->r, &n), DSC_OK);
	assert_int_equal(n, 2);
	store_read_end(f->r);
}

/* ---- tables and the audit sequence ---- */

static void checks_meta_and_audit_entries_are_kept_in_their_tables(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct dsc_error err;
	const void *val;
	const char *line;
	size_t len;
	uint64_t n;

	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	assert_int_equal(store_txn_put(t, STORE_CHECKS, "chk_1", 5, "{\"a\":1}", 7, &err), DSC_OK);
	assert_int_equal(store_txn_put(t, STORE_META, "chk_1", 5, "meta", 4, &err), DSC_OK);
	assert_int_equal(store_txn_get(t, STORE_CHECKS, "chk_1", 5, &val, &len), DSC_OK);
	assert_int_equal(len, 7);
	assert_int_equal(store_audit_append(t, 0, "entry0", 6, &err), DSC_OK);
	assert_int_equal(store_audit_append(t, 1, "entry1", 6, &err), DSC_OK);
	/* A gap or a repeat is refused, and the transaction goes on. */
	assert_int_equal(store_audit_append(t, 3, "entry3", 6, &err), DSC_ECONFLICT);
	assert_non_null(strstr(err.msg, "out of order"));
	assert_int_equal(store_audit_append(t, 1, "again", 5, &err), DSC_ECONFLICT);
	assert_int_equal(store_txn_audit_count(t, &n), DSC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_txn_audit_get(t, 1, &line, &len), DSC_OK);
	assert_memory_equal(line, "entry1", 6);
	assert_int_equal(store_txn_put(t, STORE_CHECKS, "", 0, "x", 1, &err), DSC_EINVAL);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);

	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_get(f->r, STORE_CHECKS, "chk_1", 5, &val, &len), DSC_OK);
	assert_memory_equal(val, "{\"a\":1}", 7);
	assert_int_equal(store_get(f->r, STORE_META, "chk_1", 5, &val, &len), DSC_OK);
	assert_memory_equal(val, "meta", 4);
	assert_int_equal(store_get(f->r, STORE_CHECKS, "chk_2", 5, &val, &len), DSC_ENOTFOUND);
	assert_int_equal(store_audit_count(f->r, &n), DSC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_audit_get(f->r, 0, &line, &len), DSC_OK);
	assert_memory_equal(line, "entry0", 6);
	assert_int_equal(store_audit_get(f->r, 2, &line, &len), DSC_ENOTFOUND);
	store_read_end(f->r);
}

static void audit_entries_past_255_stay_in_sequence_order(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct dsc_error err;
	const char *line;
	size_t len;
	uint64_t seq;

	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (seq = 0; seq < 600; seq++) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "entry%llu", (unsigned long long)seq);

		/* MDB_APPEND would refuse an entry out of byte order. */
		assert_int_equal(store_audit_append(t, seq, buf, (size_t)n, &err), DSC_OK);
	}
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_audit_get(f->r, 256, &line, &len), DSC_OK);
	assert_memory_equal(line, "entry256", 8);
	store_read_end(f->r);
}

/* ---- reopening ---- */

static void reopening_keeps_records_keys_tables_and_numbers(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;
	const char *json;
	size_t len, n;
	uint64_t an;
	uint32_t first, second;

	put(f->s, "KEN-1", "Alfie", "Durable", "Alsodurable", false);
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	assert_int_equal(store_audit_append(t, 0, "entry0", 6, &err), DSC_OK);
	assert_int_equal(store_txn_put(t, STORE_CHECKS, "chk_9", 5, "kept", 4, &err), DSC_OK);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);

	reopen(f, &family_indexer);

	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_get_offender(f->r, "KEN-1", &json, &len), DSC_OK);
	assert_int_equal(store_get_recno(f->r, "KEN-1", &first), DSC_OK);
	assert_int_equal(key_count(f->r, "f:durable", &c), 1);
	assert_int_equal(key_count(f->r, "f:alsodurable", &c), 1);
	assert_int_equal(store_audit_count(f->r, &an), DSC_OK);
	assert_int_equal(an, 1);
	assert_int_equal(store_offender_count(f->r, &n), DSC_OK);
	assert_int_equal(n, 1);
	store_read_end(f->r);

	put(f->s, "KEN-2", "Bertie", "After", NULL, false);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_get_recno(f->r, "KEN-2", &second), DSC_OK);
	assert_true(second > first);
	store_read_end(f->r);
}

/* The data file's size and allocated bytes, and the store's used bytes. */
static void file_sizes(struct fixture *f, size_t *size, size_t *allocated, size_t *used)
{
	char path[128];
	struct stat st;
	size_t map, recs;

	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	assert_int_equal(stat(path, &st), 0);
	*size = (size_t)st.st_size;
	*allocated = (size_t)st.st_blocks * 512u;
	assert_int_equal(store_stat(f->s, used, &map, &recs), DSC_OK);
}

/* Zeros ahead of the data: real blocks, only past the end, up to `low`
 * past the last page in `step`s, never past the map; and LMDB goes on
 * writing over them, every record readable after a reopen. */
static void zeros_are_written_ahead_of_the_data_and_the_store_writes_over_them(void **state)
{
	struct fixture *f = *state;
	const size_t low = 3u << 20, step = 1u << 20;
	size_t size0, alloc0, used0, size, alloc, used, added, steps = 0, total = 0;
	struct dsc_error err;
	char id[32], path[128];
	unsigned char buf[4096];
	FILE *fp;

	for (int i = 0; i < 50; i++) {
		snprintf(id, sizeof(id), "ZAH-%d", i);
		put(f->s, id, "Avery", "Zeroahead", NULL, false);
	}
	file_sizes(f, &size0, &alloc0, &used0);
	assert_true(size0 < used0 + low);
	do {
		assert_int_equal(store_keep_ahead(f->s, low, step, &added, &err), DSC_OK);
		assert_true(added <= step);
		total += added;
		steps++;
	} while (added > 0 && steps < 100);
	file_sizes(f, &size, &alloc, &used);
	assert_int_equal(used, used0);
	assert_int_equal(size, size0 + total);
	assert_true(size >= used + low && size < used + low + step);
	assert_true(steps >= low / step); /* a step at a time */
	/* Written, not a hole: the blocks are the file's. */
	assert_true(alloc >= size - (size0 > alloc0 ? size0 - alloc0 : 0) - 4096);
	/* Far enough ahead: nothing more. */
	assert_int_equal(store_keep_ahead(f->s, low, step, &added, &err), DSC_OK);
	assert_int_equal(added, 0);
	/* Zeros, and only past the old end: the data before it is intact. */
	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, (long)size0, SEEK_SET), 0);
	for (size_t off = size0; off < size; off += sizeof(buf)) {
		size_t n = fread(buf, 1, sizeof(buf), fp);
		assert_true(n > 0);
		for (size_t k = 0; k < n; k++)
			if (buf[k] != 0)
				fail_msg("byte %zu past the data is %u", off + k, buf[k]);
	}
	fclose(fp);

	/* LMDB writes its new pages over the zeros; the file does not grow
	 * while they last, and everything reads back after a reopen. */
	for (int i = 50; i < 300; i++) {
		snprintf(id, sizeof(id), "ZAH-%d", i);
		put(f->s, id, "Avery", "Zeroahead", NULL, false);
	}
	file_sizes(f, &size0, &alloc0, &used0);
	assert_true(used0 > used);
	assert_int_equal(size0, size);
	reopen(f, &family_indexer);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	for (int i = 0; i < 300; i++) {
		const char *json;
		size_t len;

		snprintf(id, sizeof(id), "ZAH-%d", i);
		if (store_get_offender(f->r, id, &json, &len) != DSC_OK)
			fail_msg("%s is lost", id);
	}
	store_read_end(f->r);
}

static void zeros_ahead_stop_at_the_map_size_and_not_on_a_read_only_store(void **state)
{
	struct fixture *f = *state;
	struct store_options opt = { 0 };
	struct store *ro;
	size_t size, alloc, used, added = 1, steps = 0;
	struct dsc_error err;

	put(f->s, "ZAM-1", "Avery", "Mapsize", NULL, false);
	/* Never the last of the disk: asking for more than a quarter of the
	 * free space is refused, and nothing is written. */
	file_sizes(f, &size, &alloc, &used);
	assert_int_equal(store_keep_ahead(f->s, (size_t)1 << 46, 4u << 20, &added, &err), DSC_EFULL);
	assert_int_equal(added, 0);
	assert_non_null(strstr(err.msg, "free on its file system"));
	{
		size_t size2, alloc2, used2;
		file_sizes(f, &size2, &alloc2, &used2);
		assert_int_equal(size2, size);
	}
	/* The fixture's map is 16 MiB: asking for 64 MiB ahead stops there. */
	added = 1;
	while (added > 0 && steps++ < 100)
		assert_int_equal(store_keep_ahead(f->s, 64u << 20, 4u << 20, &added, &err), DSC_OK);
	file_sizes(f, &size, &alloc, &used);
	assert_int_equal(size, 16u << 20);

	shut_store(f);
	opt.path = f->dir;
	opt.map_size = 16u << 20;
	opt.read_only = true;
	assert_int_equal(store_open(&ro, &opt, &family_indexer, &err), DSC_OK);
	assert_int_equal(store_keep_ahead(ro, 64u << 20, 4u << 20, &added, &err), DSC_OK);
	assert_int_equal(added, 0);
	store_close(ro);
	assert_int_equal(open_store(f, 16u << 20, &family_indexer), DSC_OK);
	assert_int_equal(store_reader_new(f->s, &f->r, &err), DSC_OK);
}

static void a_store_of_another_schema_version_is_refused(void **state)
{
	struct fixture *f = *state;
	struct store_options opt = { 0 };
	struct store *s2 = NULL;
	struct dsc_error err;
	uint32_t v = STORE_SCHEMA_VERSION + 1;

	shut_store(f);
	/* Forge a future schema version with LMDB directly. */
	raw_put(f->dir, "_store", 0, "schema_version", 14, &v, sizeof(v));

	opt.path = f->dir;
	opt.map_size = 16u << 20;
	assert_int_equal(store_open(&s2, &opt, &family_indexer, &err), DSC_ECONFLICT);
	assert_null(s2);
	assert_non_null(strstr(err.msg, "schema version 2"));
	assert_non_null(strstr(err.msg, f->dir));

	/* Put version 1 back so that teardown can open nothing and clean up. */
	v = STORE_SCHEMA_VERSION;
	assert_int_equal(open_store(f, 16u << 20, &family_indexer), DSC_ECONFLICT);
	raw_put(f->dir, "_store", 0, "schema_version", 14, &v, sizeof(v));
	reopen(f, &family_indexer);
}

static void a_new_indexer_version_rebuilds_the_index_on_open(void **state)
{
	struct fixture *f = *state;
	struct dsc_error err;
	struct collect c;
	const void *view;
	size_t len;
	uint32_t recno;

	put(f->s, "KEN-1", "Alfie", "Rebuilt", NULL, false);
	reopen(f, &given_indexer);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(key_count(f->r, "f:rebuilt", &c), 0);
	assert_int_equal(key_count(f->r, "g:alfie", &c), 1);
	assert_int_equal(store_get_recno(f->r, "KEN-1", &recno), DSC_OK);
	assert_int_equal(c.recnos[0], recno);
	assert_int_equal(store_get_view(f->r, recno, &view, &len), DSC_OK);
	assert_memory_equal(view, "KEN-1", 5);
	store_read_end(f->r);
	/* And back: the family keys return, the given ones go. */
	reopen(f, &family_indexer);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(key_count(f->r, "f:rebuilt", &c), 1);
	assert_int_equal(key_count(f->r, "g:alfie", &c), 0);
	store_read_end(f->r);
}

/* What a re-index at open said of its progress. */
struct progress_log {
	size_t calls, done[8], total[8];
	bool finished[8];
};

static void progress_note(void *arg, size_t done, size_t total, bool finished)
{
	struct progress_log *p = arg;

	if (p->calls < 8) {
		p->done[p->calls] = done;
		p->total[p->calls] = total;
		p->finished[p->calls] = finished;
	}
	p->calls++;
}

static void a_reindex_at_open_tells_its_progress_and_a_plain_open_tells_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_options opt = { 0 };
	struct progress_log p = { 0 };
	struct dsc_error err;

	put(f->s, "KEN-1", "Alfie", "Counted", NULL, false);
	put(f->s, "KEN-2", "Betty", "Counted", NULL, false);
	put(f->s, "KEN-3", "Cyril", "Counted", NULL, false);
	shut_store(f);
	opt.path = f->dir;
	opt.map_size = 16u << 20;
	opt.reindex_progress = progress_note;
	opt.progress_arg = &p;
	assert_int_equal(store_open(&f->s, &opt, &given_indexer, &err), DSC_OK);
	/* Before it (none done of three), and once the index is written
	 * (all three), in one batch. */
	assert_int_equal(p.calls, 2);
	assert_int_equal(p.done[0], 0);
	assert_int_equal(p.total[0], 3);
	assert_false(p.finished[0]);
	assert_int_equal(p.done[1], 3);
	assert_int_equal(p.total[1], 3);
	assert_true(p.finished[1]);
	store_close(f->s);
	/* The same version again: no re-index, not a word. */
	p.calls = 0;
	assert_int_equal(store_open(&f->s, &opt, &given_indexer, &err), DSC_OK);
	assert_int_equal(p.calls, 0);
	assert_int_equal(store_reader_new(f->s, &f->r, &err), DSC_OK);
}

/* ---- match views, 64 records to a block ---- */

/* A view that is the id and the given name, so that a replace changes its
 * length and a test can tell whose it is. */
static int given_view(const struct offender *o, struct store_buf *out, void *arg)
{
	(void)arg;
	if (store_buf_append(out, o->id, strlen(o->id)) != DSC_OK || store_buf_append(out, ":", 1) != DSC_OK)
		return DSC_ENOMEM;
	return store_buf_append(out, o->names[0].given, strlen(o->names[0].given));
}

static const struct store_indexer view_indexer = { family_keys, given_view, NULL, 3, given_tag };

#define VIEW_PEOPLE 300

struct view_model {
	uint32_t recno[VIEW_PEOPLE];
	char given[VIEW_PEOPLE][40]; /* "" once deleted */
};

static void view_given(char *out, size_t cap, size_t i, unsigned round)
{
	/* Lengths from 1 to 30, changing with each round. */
	size_t n = (i * 7 + round * 11) % 30 + 1;
	snprintf(out, cap, "%.*s", (int)n, "Abcdefghijklmnopqrstuvwxyzabcdefgh");
}

static void view_put(struct store_txn *t, struct view_model *m, size_t i, unsigned round)
{
	char id[32], given[40];
	struct offender *o;
	struct dsc_error err;
	bool replaced;

	snprintf(id, sizeof(id), "VW-%04zu", i);
	view_given(given, sizeof(given), i, round);
	o = record(id, given, "Blockson", NULL);
	if (store_put_offender(t, o, &replaced, &err) != DSC_OK)
		fail_msg("put %s: %s", id, err.msg);
	offender_free(o);
	memcpy(m->given[i], given, sizeof(given));
}

static void view_delete(struct store_txn *t, struct view_model *m, size_t i)
{
	char id[32];
	struct dsc_error err;

	snprintf(id, sizeof(id), "VW-%04zu", i);
	if (store_delete_offender(t, id, &err) != DSC_OK)
		fail_msg("delete %s: %s", id, err.msg);
	m->given[i][0] = '\0';
}

/* Every record's view, one at a time and in groups, is what the model says. */
static void views_agree(struct fixture *f, struct view_model *m, size_t n)
{
	struct dsc_error err;
	char want[128];

	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	for (size_t i = 0; i < n; i++) {
		const void *view;
		size_t len;
		char id[32];

		snprintf(id, sizeof(id), "VW-%04zu", i);
		if (m->given[i][0] == '\0') {
			assert_int_equal(store_get_recno(f->r, id, &m->recno[i]), DSC_ENOTFOUND);
			continue;
		}
		assert_int_equal(store_get_recno(f->r, id, &m->recno[i]), DSC_OK);
		assert_int_equal(store_get_view(f->r, m->recno[i], &view, &len), DSC_OK);
		snprintf(want, sizeof(want), "%s:%s", id, m->given[i]);
		assert_int_equal(len, strlen(want));
		assert_memory_equal(view, want, len);
	}
	/* In groups of up to STORE_VIEWS_MAX, in an order of their own, with
	 * the deleted and a record number never given among them. */
	for (size_t at = 0; at < n; at += 13) {
		uint32_t recnos[STORE_VIEWS_MAX];
		size_t who[STORE_VIEWS_MAX], k = 0;
		const void *views[STORE_VIEWS_MAX];
		size_t lens[STORE_VIEWS_MAX];

		for (size_t j = 0; j < STORE_VIEWS_MAX - 1 && k < STORE_VIEWS_MAX - 1; j++) {
			size_t i = (at + j * 37) % n;
			if (m->given[i][0] == '\0')
				continue;
			who[k] = i;
			recnos[k++] = m->recno[i];
		}
		who[k] = SIZE_MAX;
		recnos[k++] = 900000 + (uint32_t)at; /* no such record */
		assert_int_equal(store_get_views(f->r, recnos, k, views, lens), DSC_OK);
		for (size_t j = 0; j < k; j++) {
			if (who[j] == SIZE_MAX) {
				assert_null(views[j]);
				assert_int_equal(lens[j], 0);
				continue;
			}
			snprintf(want, sizeof(want), "VW-%04zu:%s", who[j], m->given[who[j]]);
			assert_int_equal(lens[j], strlen(want));
			assert_memory_equal(views[j], want, lens[j]);
		}
	}
	{
		const void *views[1];
		size_t lens[1];
		uint32_t one = 1;
		assert_int_equal(store_get_views(f->r, &one, STORE_VIEWS_MAX + 1, views, lens), DSC_EINVAL);
	}
	store_read_end(f->r);
}

static void views_follow_every_create_replace_and_delete_across_blocks(void **state)
{
	struct fixture *f = *state;
	static struct view_model m;
	struct store_txn *t;
	struct dsc_error err;

	memset(&m, 0, sizeof(m));
	reopen(f, &view_indexer);
	/* 250 records in one transaction: four blocks, the last in part. */
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (size_t i = 0; i < 250; i++)
		view_put(t, &m, i, 0);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	views_agree(f, &m, 250);

	/* Replaces that grow and shrink views in the middle of blocks, in no
	 * order; deletes; and new records filling the last block. */
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (size_t i = 0; i < 250; i += 3)
		view_put(t, &m, (i * 101) % 250, 1);
	for (size_t i = 2; i < 250; i += 5)
		view_delete(t, &m, i);
	for (size_t i = 250; i < VIEW_PEOPLE; i++)
		view_put(t, &m, i, 1);
	view_put(t, &m, 7, 2); /* twice in one transaction */
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	views_agree(f, &m, VIEW_PEOPLE);

	/* A whole block deleted, then one of it back. */
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (size_t i = 0; i < VIEW_PEOPLE; i++)
		if (m.recno[i] >= 64 && m.recno[i] < 128 && m.given[i][0] != '\0')
			view_delete(t, &m, i);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	views_agree(f, &m, VIEW_PEOPLE);

	/* An aborted transaction changes no view. */
	{
		static struct view_model scratch;
		memcpy(&scratch, &m, sizeof(m));
		assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
		for (size_t i = 0; i < VIEW_PEOPLE; i += 2)
			view_put(t, &scratch, i, 3);
		view_delete(t, &scratch, 1);
		store_write_abort(t);
	}
	views_agree(f, &m, VIEW_PEOPLE);
	reopen(f, &view_indexer);
	views_agree(f, &m, VIEW_PEOPLE);
}

/*
 * A reader remembers where blocks of views lie, from one read transaction
 * to the next (views_cache): a writer thread replaces records all the
 * while, each round changing every view's length, and the reader checks
 * in each of its snapshots that every view it reads is the one of the
 * record as stored in that same snapshot.  A block remembered past a
 * commit that rewrote it would give the old view (or bytes of a page since
 * reused), beside the new record.
 */
#define CHURN_PEOPLE 200

struct churn {
	struct store *s;
	atomic_bool stop;
	atomic_bool failed; /* msg written: read it after the join */
	atomic_uint rounds;
	char msg[200];
};

/* Person i's record as of round (view_given: each round another length). */
static int churn_put(struct store_txn *t, size_t i, unsigned round, struct dsc_error *err)
{
	char id[32], given[40];
	struct offender *o;
	int rc;

	snprintf(id, sizeof(id), "VW-%04zu", i);
	view_given(given, sizeof(given), i, round);
	o = record(id, given, "Blockson", NULL);
	rc = store_put_offender(t, o, NULL, err);
	offender_free(o);
	return rc;
}

static void *churn_writer(void *arg)
{
	struct churn *ch = arg;

	for (unsigned round = 1; !atomic_load(&ch->stop); round++) {
		struct store_txn *t;
		struct dsc_error err;

		if (store_write_begin(ch->s, &t, &err) != DSC_OK) {
			snprintf(ch->msg, sizeof(ch->msg), "write begin: %.150s", err.msg);
			atomic_store(&ch->failed, true);
			break;
		}
		/* A different third of the people each round, so that blocks
		 * are rewritten in part too. */
		for (size_t i = round % 3; i < CHURN_PEOPLE; i += 3) {
			if (churn_put(t, i, round, &err) != DSC_OK) {
				snprintf(ch->msg, sizeof(ch->msg), "put %zu: %.150s", i, err.msg);
				atomic_store(&ch->failed, true);
				store_write_abort(t);
				return NULL;
			}
		}
		if (store_write_commit(t, &err) != DSC_OK) {
			snprintf(ch->msg, sizeof(ch->msg), "commit: %.150s", err.msg);
			atomic_store(&ch->failed, true);
			break;
		}
		atomic_fetch_add(&ch->rounds, 1);
	}
	return NULL;
}

/* The given name of a stored record, from its JSON. */
static size_t stored_given(const char *json, size_t len, char *out, size_t cap)
{
	const char *g = memmem(json, len, "\"given\":\"", 9), *e;

	if (g == NULL)
		return 0;
	g += 9;
	e = memchr(g, '"', (size_t)(json + len - g));
	if (e == NULL || (size_t)(e - g) >= cap)
		return 0;
	memcpy(out, g, (size_t)(e - g));
	out[e - g] = '\0';
	return (size_t)(e - g);
}

static void views_read_in_a_snapshot_are_of_that_snapshot(struct fixture *f, size_t *checked)
{
	struct dsc_error err;

	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	for (size_t i = 0; i < CHURN_PEOPLE; i++) {
		char id[32], given[40], want[80];
		const char *json;
		const void *view;
		size_t len, vlen;
		uint32_t recno;

		snprintf(id, sizeof(id), "VW-%04zu", i);
		assert_int_equal(store_get_recno(f->r, id, &recno), DSC_OK);
		assert_int_equal(store_get_offender_by_recno(f->r, recno, &json, &len), DSC_OK);
		assert_true(stored_given(json, len, given, sizeof(given)) > 0);
		snprintf(want, sizeof(want), "%s:%s", id, given);
		if (i % 2 == 0) {
			assert_int_equal(store_get_view(f->r, recno, &view, &vlen), DSC_OK);
		} else {
			const void *views[1];
			size_t lens[1];

			assert_int_equal(store_get_views(f->r, &recno, 1, views, lens), DSC_OK);
			assert_non_null(views[0]);
			view = views[0];
			vlen = lens[0];
		}
		if (vlen != strlen(want) || memcmp(view, want, vlen) != 0)
			fail_msg("view of %s is \"%.*s\" beside the record's \"%s\"", id, (int)vlen,
				 (const char *)view, want);
		(*checked)++;
	}
	store_read_end(f->r);
}

static void a_reader_never_keeps_a_view_a_commit_has_changed(void **state)
{
	struct fixture *f = *state;
	struct churn ch;
	struct store_txn *t;
	struct dsc_error err;
	pthread_t tid;
	size_t checked = 0, snapshots = 0;

	reopen(f, &view_indexer);
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (size_t i = 0; i < CHURN_PEOPLE; i++)
		assert_int_equal(churn_put(t, i, 0, &err), DSC_OK);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);

	/* One writer at a time, between snapshots: each commit after the
	 * blocks were remembered. */
	for (unsigned round = 1; round <= 6; round++) {
		views_read_in_a_snapshot_are_of_that_snapshot(f, &checked);
		assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
		for (size_t i = round % 3; i < CHURN_PEOPLE; i += 3)
			assert_int_equal(churn_put(t, i, round, &err), DSC_OK);
		assert_int_equal(store_write_commit(t, &err), DSC_OK);
	}
	views_read_in_a_snapshot_are_of_that_snapshot(f, &checked);
	/* The map grown (it may move): the blocks are looked up again. */
	assert_int_equal(store_set_map_size(f->s, 64u << 20, &err), DSC_OK);
	views_read_in_a_snapshot_are_of_that_snapshot(f, &checked);

	/* And with the writer committing while the reader reads. */
	memset(&ch, 0, sizeof(ch));
	ch.s = f->s;
	atomic_init(&ch.stop, false);
	atomic_init(&ch.failed, false);
	atomic_init(&ch.rounds, 0);
	assert_int_equal(pthread_create(&tid, NULL, churn_writer, &ch), 0);
	while (atomic_load(&ch.rounds) < 150 && !atomic_load(&ch.failed)) {
		views_read_in_a_snapshot_are_of_that_snapshot(f, &checked);
		snapshots++;
	}
	atomic_store(&ch.stop, true);
	assert_int_equal(pthread_join(tid, NULL), 0);
	if (atomic_load(&ch.failed))
		fail_msg("writer: %s", ch.msg);
	assert_true(snapshots > 0);
	assert_true(checked >= (8 + snapshots) * CHURN_PEOPLE);
}

/* ---- the key filter ---- */

/* Puts records KF-<from>..KF-<to - 1> in one transaction, family name
 * Keyname<i>: each a key of its own. */
static void put_keyed(struct store *s, size_t from, size_t to)
{
	struct store_txn *t;
	struct dsc_error err;

	assert_int_equal(store_write_begin(s, &t, &err), DSC_OK);
	for (size_t i = from; i < to; i++) {
		char id[32], family[32];
		struct offender *o;

		snprintf(id, sizeof(id), "KF-%06zu", i);
		snprintf(family, sizeof(family), "Keyname%zu", i);
		o = record(id, "Wenna", family, NULL);
		if (store_put_offender(t, o, NULL, &err) != DSC_OK)
			fail_msg("put %s: %s", id, err.msg);
		offender_free(o);
	}
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
}

static size_t keyed_count(struct store_reader *r, size_t i)
{
	char key[40];
	size_t n = 99;
	int len = snprintf(key, sizeof(key), "f:keyname%zu", i);

	assert_int_equal(store_index_count(r, key, (size_t)len, &n), DSC_OK);
	return n;
}

/* Inside a read: every key f:keyname<from..to-1> is under want records. */
static void expect_keyed(struct store_reader *r, size_t from, size_t to, size_t want)
{
	for (size_t i = from; i < to; i++) {
		size_t n = keyed_count(r, i);

		if (n != want)
			fail_msg("f:keyname%zu: %zu records, not %zu", i, n, want);
	}
}

/* Keys in the index are found through the filter, every one of them, and
 * most keys that are not are answered by it without a look-up. */
static void the_key_filter_answers_absent_keys_and_never_a_present_one(void **state)
{
	struct fixture *f = *state;
	struct store_key_filter_info info;
	struct dsc_error err;
	size_t asked0, filtered0, asked, filtered;

	put_keyed(f->s, 0, 3000);
	store_key_filter_info(f->s, &info);
	assert_int_equal(info.bits, (size_t)1 << 24);
	assert_true(info.keys >= 3000);

	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	expect_keyed(f->r, 0, 3000, 1);
	store_reader_lookups(f->r, &asked0, &filtered0);
	assert_int_equal(filtered0, 0);
	expect_keyed(f->r, 3000, 13000, 0);
	store_read_end(f->r);
	store_reader_lookups(f->r, &asked, &filtered);
	assert_int_equal(asked - asked0, 10000);
	/* 3,000 keys in 2^24 bits: a false positive is about one in a
	 * million; a filter that answered nothing would fail here. */
	assert_true(filtered >= 9990);

	/* And after a reopen, built from the index as it is on disk. */
	reopen(f, &family_indexer);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	expect_keyed(f->r, 0, 3000, 1);
	expect_keyed(f->r, 3000, 4000, 0);
	store_read_end(f->r);
	store_reader_lookups(f->r, &asked, &filtered);
	assert_int_equal(asked, 4000);
	assert_true(filtered >= 999);
}

/* A filter too small for the keys written is rebuilt larger by the write
 * that fills it, and none of the keys is lost on the way; nor the keys of
 * a bulk load, written at its end. */
static void the_key_filter_grows_with_the_index_and_loses_no_key(void **state)
{
	struct fixture *f = *state;
	struct store_key_filter_info info;
	struct dsc_error err;
	size_t asked, filtered, first_bits;

	f->filter_bits = 4096; /* 409 keys before it is rebuilt */
	reopen(f, &family_indexer);
	store_key_filter_info(f->s, &info);
	assert_int_equal(info.bits, 4096);
	first_bits = info.bits;
	for (size_t i = 0; i < 6000; i += 500)
		put_keyed(f->s, i, i + 500);
	assert_int_equal(store_bulk_begin(f->s, &err), DSC_OK);
	for (size_t i = 6000; i < 12000; i += 1000)
		put_keyed(f->s, i, i + 1000);
	assert_int_equal(store_bulk_end(f->s, &err), DSC_OK);
	store_key_filter_info(f->s, &info);
	assert_true(info.rebuilds >= 3);
	assert_true(info.bits > first_bits * 8);

	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	expect_keyed(f->r, 0, 12000, 1);
	expect_keyed(f->r, 12000, 14000, 0);
	store_read_end(f->r);
	store_reader_lookups(f->r, &asked, &filtered);
	assert_int_equal(asked, 14000);
	assert_true(filtered >= 1900);
}

/* Records replaced again and again add their keys again: counted, they
 * fill the filter without a key more.  The write that passes its capacity
 * reads the index and finds no more keys than it holds: it sets the count
 * so (doubling the filter first if it is half full), and the writes after
 * it do not read the index again each. */
static void records_rewritten_do_not_make_every_write_read_the_index(void **state)
{
	struct fixture *f = *state;
	struct store_key_filter_info info;
	struct dsc_error err;

	f->filter_bits = 4096; /* 409 keys before it is read again */
	reopen(f, &family_indexer);
	put_keyed(f->s, 0, 300);
	for (size_t round = 0; round < 300; round++) {
		size_t from = round * 10 % 300;

		put_keyed(f->s, from, from + 10);
	}
	/* 3,300 keys added, 300 of them new: the first read finds 300 keys
	 * in a filter of 409 and doubles it (819, room for 519 more); the
	 * next ones find no more keys and leave it so.  At every write after
	 * the first that passed 409, the index was read 290 times. */
	store_key_filter_info(f->s, &info);
	assert_int_equal(info.bits, 8192);
	assert_int_equal(info.rebuilds, 1);
	assert_true(info.reads >= 3);
	assert_true(info.reads <= 10);
	assert_true(info.keys <= 819);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	expect_keyed(f->r, 0, 300, 1);
	store_read_end(f->r);
}

struct kf_writer {
	struct store *s;
	atomic_size_t written; /* records committed */
	atomic_bool failed;
	char msg[200];
};

#define KF_WRITES 40
#define KF_PER_WRITE 150

static void *kf_writer_main(void *arg)
{
	struct kf_writer *w = arg;

	for (size_t round = 0; round < KF_WRITES; round++) {
		size_t from = round * KF_PER_WRITE;
		struct store_txn *t;
		struct dsc_error err;

		if (store_write_begin(w->s, &t, &err) != DSC_OK) {
			snprintf(w->msg, sizeof(w->msg), "write begin: %.150s", err.msg);
			atomic_store(&w->failed, true);
			return NULL;
		}
		for (size_t i = from; i < from + KF_PER_WRITE; i++) {
			char id[32], family[32];
			struct offender *o;

			snprintf(id, sizeof(id), "KF-%06zu", i);
			snprintf(family, sizeof(family), "Keyname%zu", i);
			o = record(id, "Wenna", family, NULL);
			if (store_put_offender(t, o, NULL, &err) != DSC_OK) {
				snprintf(w->msg, sizeof(w->msg), "put: %.150s", err.msg);
				offender_free(o);
				store_write_abort(t);
				atomic_store(&w->failed, true);
				return NULL;
			}
			offender_free(o);
		}
		if (store_write_commit(t, &err) != DSC_OK) {
			snprintf(w->msg, sizeof(w->msg), "commit: %.150s", err.msg);
			atomic_store(&w->failed, true);
			return NULL;
		}
		atomic_store(&w->written, from + KF_PER_WRITE);
	}
	return NULL;
}

/* A writer adds records, filling and replacing the filter, while a reader
 * reads: every record in a reader's snapshot has its key found, above all
 * the last ones written, whose bits are the newest. */
static void a_reader_finds_every_key_of_its_snapshot_while_the_filter_grows(void **state)
{
	struct fixture *f = *state;
	struct store_key_filter_info info;
	struct kf_writer w;
	struct dsc_error err;
	pthread_t tid;
	size_t snapshots = 0, checked = 0;

	f->filter_bits = 4096;
	reopen(f, &family_indexer);
	memset(&w, 0, sizeof(w));
	w.s = f->s;
	atomic_init(&w.written, 0);
	atomic_init(&w.failed, false);
	assert_int_equal(pthread_create(&tid, NULL, kf_writer_main, &w), 0);
	for (;;) {
		size_t before = atomic_load(&w.written), n = 0;
		bool done = before == KF_WRITES * KF_PER_WRITE || atomic_load(&w.failed);

		assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
		assert_int_equal(store_offender_count(f->r, &n), DSC_OK);
		assert_true(n >= before);
		/* The newest records, and a spread of the older ones. */
		expect_keyed(f->r, n > 300 ? n - 300 : 0, n, 1);
		checked += n > 300 ? 300 : n;
		for (size_t i = 0; i + 300 < n; i += 97, checked++)
			assert_int_equal(keyed_count(f->r, i), 1);
		store_read_end(f->r);
		snapshots++;
		if (done)
			break;
	}
	assert_int_equal(pthread_join(tid, NULL), 0);
	if (atomic_load(&w.failed))
		fail_msg("writer: %s", w.msg);
	store_key_filter_info(f->s, &info);
	assert_true(info.rebuilds >= 2);
	assert_true(snapshots >= 2);
	assert_true(checked >= KF_WRITES * KF_PER_WRITE / 20);
}

/* Without key_filter: no filter, every look-up reads the index. */
static void a_store_opened_without_the_key_filter_has_none(void **state)
{
	struct fixture *f = *state;
	struct store_options opt = { 0 };
	struct store_key_filter_info info;
	struct dsc_error err;
	size_t asked, filtered;

	put_keyed(f->s, 0, 10);
	shut_store(f);
	opt.path = f->dir;
	opt.map_size = 16u << 20;
	opt.views_cache = true;
	assert_int_equal(store_open(&f->s, &opt, &family_indexer, &err), DSC_OK);
	assert_int_equal(store_reader_new(f->s, &f->r, &err), DSC_OK);
	store_key_filter_info(f->s, &info);
	assert_int_equal(info.bits, 0);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	expect_keyed(f->r, 0, 10, 1);
	expect_keyed(f->r, 10, 20, 0);
	store_read_end(f->r);
	store_reader_lookups(f->r, &asked, &filtered);
	assert_int_equal(asked, 20);
	assert_int_equal(filtered, 0);
}

/* The one writing process's lock: flock conflicts between open files even
 * in one process, so a second take here is what another process meets. */
static void the_store_lock_is_held_by_one_taker_who_is_named(void **state)
{
	struct fixture *f = *state;
	struct dsc_error err;
	char want[64];
	int fd, fd2;

	fd = store_lock_take(f->dir, &err);
	assert_true(fd >= 0);
	assert_int_equal(store_lock_take(f->dir, &err), DSC_ECONFLICT);
	snprintf(want, sizeof(want), "in use by another process (pid %ld)", (long)getpid());
	if (strstr(err.msg, want) == NULL)
		fail_msg("%s: does not say \"%s\"", err.msg, want);
	close(fd);
	fd2 = store_lock_take(f->dir, &err);
	assert_true(fd2 >= 0);
	close(fd2);
	/* A folder that cannot be made is an error in words, not a lock. */
	assert_int_equal(store_lock_take("/proc/no-such-store", &err), DSC_EIO);
	assert_non_null(strstr(err.msg, "cannot create"));
}

static void a_store_whose_views_are_laid_out_otherwise_is_reindexed(void **state)
{
	struct fixture *f = *state;
	static struct view_model m;
	struct store_txn *t;
	struct dsc_error err;
	uint32_t v = view_indexer.version, block = 1;

	memset(&m, 0, sizeof(m));
	reopen(f, &view_indexer);
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (size_t i = 0; i < 150; i++)
		view_put(t, &m, i, 0);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	shut_store(f);
	/* What an earlier program version left: its indexer's version alone,
	 * and views under other keys (here, a block overwritten). */
	raw_put(f->dir, "_store", 0, "index_version", 13, &v, sizeof(v));
	raw_put(f->dir, "views", MDB_INTEGERKEY, &block, sizeof(block), "not views", 9);
	reopen(f, &view_indexer);
	views_agree(f, &m, 150);
}

/* A damaged block is never read past its end, and a write into it stops
 * with words rather than building on it. */
static void a_damaged_block_of_views_is_refused_not_trusted(void **state)
{
	struct fixture *f = *state;
	static struct view_model m;
	struct store_txn *t;
	struct dsc_error err;
	uint32_t block = 0, bad[65];
	const void *view;
	size_t len;

	memset(&m, 0, sizeof(m));
	reopen(f, &view_indexer);
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (size_t i = 0; i < 10; i++)
		view_put(t, &m, i, 0);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_get_recno(f->r, "VW-0003", &m.recno[3]), DSC_OK);
	store_read_end(f->r);
	shut_store(f);
	/* Offsets that point far past the value's end. */
	for (size_t i = 0; i < 65; i++)
		bad[i] = (uint32_t)i * 1000;
	raw_put(f->dir, "views", MDB_INTEGERKEY, &block, sizeof(block), bad, sizeof(bad));
	reopen(f, &view_indexer);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_get_view(f->r, m.recno[3], &view, &len), DSC_EIO);
	store_read_end(f->r);
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	{
		struct offender *o = record("VW-0003", "Again", "Blockson", NULL);
		assert_int_equal(store_put_offender(t, o, NULL, &err), DSC_EIO);
		assert_non_null(strstr(err.msg, "damaged"));
		offender_free(o);
	}
	store_write_abort(t);
}

/* An index entry already there when the same one is written again (LMDB
 * answers MDB_KEYEXIST part-way through a multiple-value put, having stored
 * those before it): the rest of the values still go in.  The store never
 * writes such a pair itself; the entries are planted with LMDB. */
static void an_index_entry_already_there_stops_none_of_the_others(void **state)
{
	struct fixture *f = *state;
	const char *given[4] = { "Al", "Bea", "Cass", "Dot" };
	uint32_t recno[4];
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;

	/* Record numbers start at 1 and only grow: the four records below
	 * get 1 to 4.  Plant the entries the 1st and 3rd will have. */
	shut_store(f);
	for (size_t i = 0; i < 4; i += 2) {
		uint64_t v = (uint64_t)(i + 1) << 32 | (0x1000u + (uint32_t)strlen(given[i]));
		raw_put(f->dir, "index", MDB_DUPSORT | MDB_DUPFIXED | MDB_INTEGERDUP, "f:planted", 9, &v,
			sizeof(v));
	}
	reopen(f, &family_indexer);
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (size_t i = 0; i < 4; i++) {
		char id[32];
		struct offender *o;
		snprintf(id, sizeof(id), "KEN-P%zu", i);
		o = record(id, given[i], "Planted", NULL);
		if (store_put_offender(t, o, NULL, &err) != DSC_OK)
			fail_msg("put %s: %s", id, err.msg);
		offender_free(o);
	}
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	for (size_t i = 0; i < 4; i++) {
		char id[32];
		snprintf(id, sizeof(id), "KEN-P%zu", i);
		assert_int_equal(store_get_recno(f->r, id, &recno[i]), DSC_OK);
		assert_int_equal(recno[i], i + 1);
	}
	assert_int_equal(key_count(f->r, "f:planted", &c), 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(c.recnos[i], recno[i]);
		assert_int_equal(c.tags[i], 0x1000u + strlen(given[i]));
	}
	store_read_end(f->r);
}

static void a_read_only_store_reads_but_refuses_writes(void **state)
{
	struct fixture *f = *state;
	struct store_options opt = { 0 };
	struct store *ro;
	struct store_reader *r;
	struct store_txn *t;
	struct dsc_error err;
	const char *json;
	size_t len;

	put(f->s, "KEN-1", "Alfie", "Readonly", NULL, false);
	opt.path = f->dir;
	opt.map_size = 16u << 20;
	opt.read_only = true;
	assert_int_equal(store_open(&ro, &opt, NULL, &err), DSC_OK);
	assert_int_equal(store_reader_new(ro, &r, &err), DSC_OK);
	assert_int_equal(store_read_begin(r, &err), DSC_OK);
	assert_int_equal(store_get_offender(r, "KEN-1", &json, &len), DSC_OK);
	store_read_end(r);
	store_reader_free(r);
	assert_int_equal(store_write_begin(ro, &t, &err), DSC_EPERM);
	store_close(ro);
}

static void opening_without_an_indexer_for_writing_is_refused(void **state)
{
	struct fixture *f = *state;
	struct store_options opt = { 0 };
	struct store *s2 = NULL;
	struct dsc_error err;

	opt.path = f->dir;
	assert_int_equal(store_open(&s2, &opt, NULL, &err), DSC_EINVAL);
	assert_null(s2);
	opt.path = NULL;
	assert_int_equal(store_open(&s2, &opt, &family_indexer, &err), DSC_EINVAL);
	assert_non_null(strstr(err.msg, "no path"));
}

/* ---- a full map ---- */

static void a_full_map_is_an_error_with_words_and_the_store_goes_on(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct dsc_error err;
	const char *json;
	size_t len, n_before, n_after, i;
	int rc = DSC_OK;

	shut_store(f);
	remove_dir(f->dir);
	assert_int_equal(open_store(f, 256u * 1024, &family_indexer), DSC_OK);
	assert_int_equal(store_reader_new(f->s, &f->r, &err), DSC_OK);
	put(f->s, "KEN-0", "Before", "Full", NULL, false);

	/* Commit in small transactions until the map is full. */
	for (i = 1; i < 100000 && rc == DSC_OK; i += 50) {
		size_t j;

		assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
		for (j = 0; j < 50 && rc == DSC_OK; j++) {
			char id[32];
			struct offender *o;

			snprintf(id, sizeof(id), "KEN-%06zu", i + j);
			o = record(id, "Filling", "Themap", NULL);
			rc = store_put_offender(t, o, NULL, &err);
			offender_free(o);
		}
		if (rc == DSC_OK)
			rc = store_write_commit(t, &err);
		else
			store_write_abort(t);
	}
	assert_int_equal(rc, DSC_EFULL);
	assert_non_null(strstr(err.msg, "store full (map_size 262144 bytes)"));

	/* Everything committed before is there; the store takes small writes. */
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_get_offender(f->r, "KEN-0", &json, &len), DSC_OK);
	assert_int_equal(store_offender_count(f->r, &n_before), DSC_OK);
	store_read_end(f->r);
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	assert_int_equal(store_delete_offender(t, "KEN-000001", &err), DSC_OK);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_offender_count(f->r, &n_after), DSC_OK);
	assert_int_equal(n_after, n_before - 1);
	store_read_end(f->r);
}

static void a_full_map_grown_while_open_takes_writes_again(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t = NULL;
	struct dsc_error err;
	const char *json;
	size_t len, used = 0, map = 0, n = 0, i;
	int rc = DSC_OK;

	shut_store(f);
	remove_dir(f->dir);
	assert_int_equal(open_store(f, 256u * 1024, &family_indexer), DSC_OK);
	assert_int_equal(store_reader_new(f->s, &f->r, &err), DSC_OK);
	for (i = 0; i < 100000 && rc == DSC_OK; i++) {
		char id[32];
		struct offender *o;

		snprintf(id, sizeof(id), "GRO-%06zu", i);
		o = record(id, "Growing", "Themap", NULL);
		assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
		rc = store_put_offender(t, o, NULL, &err);
		offender_free(o);
		if (rc == DSC_OK)
			rc = store_write_commit(t, &err);
		else
			store_write_abort(t);
	}
	assert_int_equal(rc, DSC_EFULL);

	/* Shrinking, or a size no larger, is refused in words. */
	assert_int_equal(store_set_map_size(f->s, 128u * 1024, &err), DSC_EINVAL);
	assert_non_null(strstr(err.msg, "not larger"));

	/* A reader between its transactions does not hold the growth off. */
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	store_read_end(f->r);
	assert_int_equal(store_set_map_size(f->s, 4u * 1024 * 1024, &err), DSC_OK);
	assert_int_equal(store_stat(f->s, &used, &map, &n), DSC_OK);
	assert_int_equal(map, 4u * 1024 * 1024);

	/* The write that did not fit now does, and earlier records are read
	 * through the same reader after the remap. */
	{
		struct offender *o = record("GRO-LAST", "After", "Growth", NULL);
		assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
		assert_int_equal(store_put_offender(t, o, NULL, &err), DSC_OK);
		assert_int_equal(store_write_commit(t, &err), DSC_OK);
		offender_free(o);
	}
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_get_offender(f->r, "GRO-000000", &json, &len), DSC_OK);
	assert_int_equal(store_get_offender(f->r, "GRO-LAST", &json, &len), DSC_OK);
	store_read_end(f->r);
}

static void a_failed_write_poisons_its_transaction_until_aborted(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct dsc_error err;
	struct offender *o;
	size_t used = 0, map = 0, n = 0;

	shut_store(f);
	remove_dir(f->dir);
	assert_int_equal(open_store(f, 128u * 1024, &family_indexer), DSC_OK);
	assert_int_equal(store_reader_new(f->s, &f->r, &err), DSC_OK);
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (size_t i = 0; i < 100000; i++) {
		char id[32];
		int rc;

		snprintf(id, sizeof(id), "KEN-%06zu", i);
		o = record(id, "Poison", "Pill", NULL);
		rc = store_put_offender(t, o, NULL, &err);
		offender_free(o);
		if (rc != DSC_OK) {
			assert_int_equal(rc, DSC_EFULL);
			break;
		}
	}
	/* Later writes in it are refused, and the commit does not pretend. */
	o = record("KEN-X", "After", "Failure", NULL);
	assert_int_equal(store_put_offender(t, o, NULL, &err), DSC_EFULL);
	offender_free(o);
	assert_int_equal(store_write_commit(t, &err), DSC_EFULL);
	assert_non_null(strstr(err.msg, "not committed"));
	assert_int_equal(store_stat(f->s, &used, &map, &n), DSC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(map, 128u * 1024);
	assert_true(used > 0 && used <= map);
}


/* ---- prepared records (bulk loads) ---- */

static void a_prepared_record_gets_the_same_keys_and_view_as_a_direct_put(void **state)
{
	struct fixture *f = *state;
	struct offender *o = record("KEN-5", "Prepped", "Ahead", "Beforehand");
	struct store_prepared *prep;
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;
	const void *view;
	size_t len;
	uint32_t recno;
	bool replaced = true;

	assert_int_equal(store_prepare(f->s, o, &prep, &err), DSC_OK);
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	assert_int_equal(store_put_prepared(t, o, prep, &replaced, &err), DSC_OK);
	assert_false(replaced);
	assert_int_equal(store_put_prepared(t, o, NULL, &replaced, &err), DSC_EINVAL);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	store_prepared_free(prep);
	offender_free(o);

	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(store_get_recno(f->r, "KEN-5", &recno), DSC_OK);
	assert_int_equal(key_count(f->r, "f:ahead", &c), 1);
	assert_int_equal(c.recnos[0], recno);
	assert_int_equal(key_count(f->r, "f:beforehand", &c), 1);
	assert_int_equal(store_get_view(f->r, recno, &view, &len), DSC_OK);
	assert_memory_equal(view, "KEN-5", 5);
	store_read_end(f->r);

	/* Replacing it the ordinary way removes the prepared keys. */
	put(f->s, "KEN-5", "Prepped", "Afterwards", NULL, true);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(key_count(f->r, "f:ahead", &c), 0);
	assert_int_equal(key_count(f->r, "f:beforehand", &c), 0);
	assert_int_equal(key_count(f->r, "f:afterwards", &c), 1);
	store_read_end(f->r);
}

/* Records prepared one after another, all held at once as the import
 * holds a chunk, each keep their own keys and view: a long one first, then
 * shorter ones built in the same kept buffers. */
static void records_prepared_in_turn_each_keep_their_own_keys_and_view(void **state)
{
	static const char *const families[] = {
		"Averyveryverylongfamilynamethatgoesonandonforthetest", "Bo", "Carrow", "Da",
	};
	enum { N = sizeof(families) / sizeof(families[0]) };
	struct fixture *f = *state;
	struct offender *o[N];
	struct store_prepared *prep[N];
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;
	size_t i, len;
	const void *view;
	uint32_t recno;

	for (i = 0; i < N; i++) {
		char id[16];

		snprintf(id, sizeof(id), "PRE-%zu", i);
		o[i] = record(id, "Turn", families[i], i == 0 ? "Aliasfamilyofthefirst" : NULL);
		assert_int_equal(store_prepare(f->s, o[i], &prep[i], &err), DSC_OK);
	}
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (i = 0; i < N; i++)
		assert_int_equal(store_put_prepared(t, o[i], prep[i], NULL, &err), DSC_OK);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	for (i = 0; i < N; i++) {
		char key[80];

		snprintf(key, sizeof(key), "f:%s", families[i]);
		for (char *k = key; *k != '\0'; k++)
			*k = (char)(*k >= 'A' && *k <= 'Z' ? *k + 32 : *k);
		assert_int_equal(store_get_recno(f->r, o[i]->id, &recno), DSC_OK);
		assert_int_equal(key_count(f->r, key, &c), 1);
		assert_int_equal(c.recnos[0], recno);
		assert_int_equal(store_get_view(f->r, recno, &view, &len), DSC_OK);
		assert_int_equal(len, strlen(o[i]->id));
		assert_memory_equal(view, o[i]->id, len);
		store_prepared_free(prep[i]);
		offender_free(o[i]);
	}
	assert_int_equal(key_count(f->r, "f:aliasfamilyofthefirst", &c), 1);
	store_read_end(f->r);
}

/*
 * A chunk as the daemon's import makes one: records parsed and prepared in
 * an arena, 20,000 in one transaction.  Their 40,000 index entries (1.25
 * MiB of them, and 1.4 MiB of keys longer than 16 bytes) outgrow the
 * buffers kept for a transaction's entries past the size where they move
 * from malloc to mappings of their own; every entry must still be found.
 */
static void a_chunk_prepared_in_an_arena_is_stored_whole(void **state)
{
	enum { N = 20000 };
	struct fixture *f = *state;
	struct dsc_arena *arena = dsc_arena_new(1u << 20);
	struct offender **o = calloc(N, sizeof(*o));
	struct store_prepared **prep = calloc(N, sizeof(*prep));
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;
	uint32_t recno;
	size_t i;

	assert_non_null(arena);
	assert_non_null(o);
	assert_non_null(prep);
	reopen_sized(f, 256u << 20);
	for (i = 0; i < N; i++) {
		char text[400];
		int n = snprintf(text, sizeof(text),
				 "{\"id\":\"ARN-%05zu\",\"names\":[{\"given\":\"Chunk\",\"family\":"
				 "\"Arenafamilynamenumber%05zu\",\"kind\":\"primary\"},{\"family\":"
				 "\"Arenaaliasnamenumber%05zu\",\"kind\":\"alias\"}],\"managing_force\":"
				 "\"kent\",\"status\":\"active\"}",
				 i, (i * 7919) % N, i);

		assert_int_equal(offender_parse_in(arena, text, (size_t)n, &o[i], &err), DSC_OK);
		assert_int_equal(store_prepare_in(f->s, arena, o[i], &prep[i], &err), DSC_OK);
	}
	assert_true(dsc_arena_used(arena) > (size_t)N * 200);
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (i = 0; i < N; i++)
		if (store_put_prepared(t, o[i], prep[i], NULL, &err) != DSC_OK)
			fail_msg("record %zu: %s", i, err.msg);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	dsc_arena_free(arena);
	free(o);
	free(prep);

	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	for (i = 0; i < N; i++) {
		char id[16], key[64];

		snprintf(id, sizeof(id), "ARN-%05zu", i);
		assert_int_equal(store_get_recno(f->r, id, &recno), DSC_OK);
		snprintf(key, sizeof(key), "f:arenaaliasnamenumber%05zu", i);
		if (key_count(f->r, key, &c) != 1 || c.recnos[0] != recno)
			fail_msg("%s: its alias's entry is missing", id);
		snprintf(key, sizeof(key), "f:arenafamilynamenumber%05zu", (i * 7919) % N);
		if (key_count(f->r, key, &c) != 1 || c.recnos[0] != recno)
			fail_msg("%s: its family name's entry is missing", id);
	}
	store_read_end(f->r);
}

/* The entries a transaction holds back, and their key bytes, grow past
 * several huge pages (lib/store.c, big_grow): each growth moves them to a
 * new 2 MiB boundary with mremap.  10,000 records of 21 names each: 210,000
 * entries of 24 bytes and 6 MB of key bytes, so both move at least twice;
 * every name must come back with its record. */
static void entries_held_back_across_huge_pages_are_all_stored(void **state)
{
	enum { N = 10000, NAMES = 21 };
	struct fixture *f = *state;
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;
	uint32_t recno;
	size_t i, j;

	reopen_sized(f, 512u << 20);
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (i = 0; i < N; i++) {
		char text[2048];
		size_t n = (size_t)snprintf(text, sizeof(text), "{\"id\":\"HPG-%05zu\",\"names\":[", i);
		struct offender *o;

		for (j = 0; j < NAMES; j++)
			n += (size_t)snprintf(text + n, sizeof(text) - n,
					      "%s{\"given\":\"Huge\",\"family\":\"Hugepagefamilyname%05zuv%02zu\","
					      "\"kind\":\"%s\"}",
					      j ? "," : "", i, j, j ? "alias" : "primary");
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "],\"managing_force\":\"kent\",\"status\":\"active\"}");
		assert_true(n < sizeof(text));
		assert_int_equal(offender_parse(text, n, &o, &err), DSC_OK);
		if (store_put_offender(t, o, NULL, &err) != DSC_OK)
			fail_msg("record %zu: %s", i, err.msg);
		offender_free(o);
	}
	assert_int_equal(store_write_commit(t, &err), DSC_OK);

	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	for (i = 0; i < N; i++) {
		char id[16], key[64];

		snprintf(id, sizeof(id), "HPG-%05zu", i);
		assert_int_equal(store_get_recno(f->r, id, &recno), DSC_OK);
		for (j = 0; j < NAMES; j++) {
			snprintf(key, sizeof(key), "f:hugepagefamilyname%05zuv%02zu", i, j);
			if (key_count(f->r, key, &c) != 1 || c.recnos[0] != recno)
				fail_msg("%s: the entry of its name %zu is missing", id, j);
		}
	}
	store_read_end(f->r);
}

static void many_distinct_keys_with_long_shared_prefixes_are_all_found(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;
	size_t i;

	/* Family names alike in their first 16 bytes and more, in no order. */
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (i = 0; i < 500; i++) {
		char id[32], family[64];
		struct offender *o;

		snprintf(id, sizeof(id), "KEN-%04zu", i);
		snprintf(family, sizeof(family), "Longsharedprefixname%03zu", (i * 7919) % 500);
		o = record(id, "Same", family, "Longsharedprefixname");
		assert_int_equal(store_put_offender(t, o, NULL, &err), DSC_OK);
		offender_free(o);
	}
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	for (i = 0; i < 500; i++) {
		char key[64];

		snprintf(key, sizeof(key), "f:longsharedprefixname%03zu", i);
		assert_int_equal(key_count(f->r, key, &c), 1);
	}
	assert_int_equal(key_count(f->r, "f:longsharedprefixname", &c), 500);
	store_read_end(f->r);
}

/* The store hands one transaction's entry buffers to the next, keeps them
 * after a large one and frees them after a small one: transactions of
 * every size in turn, one aborted, must each leave exactly their keys. */
static void entry_buffers_passed_between_transactions_of_any_size_lose_nothing(void **state)
{
	static const size_t sizes[] = { 3000, 2, 4500, 1, 1, 6000, 2500 };
	struct fixture *f = *state;
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;
	size_t i, k, next = 0;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		bool abort_it = k == 3;

		assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
		for (i = 0; i < sizes[k]; i++) {
			char id[32], family[64], alias[64];
			size_t n = abort_it ? 90000 + i : next + i;
			struct offender *o;

			/* A short key and a long one, in no order; half the
			 * records share one key across the transactions. */
			snprintf(id, sizeof(id), "BUF-%05zu", n);
			snprintf(family, sizeof(family), "Fam%05zu", (n * 7919) % 100000);
			if (n % 2)
				snprintf(alias, sizeof(alias), "Longsharedprefixname%05zu", n);
			else
				snprintf(alias, sizeof(alias), "Sharedacrosstransactions");
			o = record(id, "Same", family, alias);
			assert_int_equal(store_put_offender(t, o, NULL, &err), DSC_OK);
			offender_free(o);
		}
		if (abort_it) {
			store_write_abort(t);
			continue;
		}
		assert_int_equal(store_write_commit(t, &err), DSC_OK);
		next += sizes[k];
	}
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	for (i = 0; i < next; i++) {
		char key[64];

		snprintf(key, sizeof(key), "f:fam%05zu", (i * 7919) % 100000);
		assert_int_equal(key_count(f->r, key, &c), 1);
		if (i % 2 == 0)
			continue;
		snprintf(key, sizeof(key), "f:longsharedprefixname%05zu", i);
		assert_int_equal(key_count(f->r, key, &c), 1);
		assert_int_equal(c.recnos[0], i + 1);
	}
	assert_int_equal(key_count(f->r, "f:sharedacrosstransactions", &c), (next + 1) / 2);
	for (i = 0; i < c.n; i++)
		assert_int_equal(c.recnos[i], 2 * i + 1);
	assert_int_equal(key_count(f->r, "f:longsharedprefixname90001", &c), 0);
	assert_int_equal(key_count(f->r, "f:fam00000", &c), 1);
	store_read_end(f->r);
}

/* ---- bulk loads ---- */

static void a_bulk_load_writes_every_key_at_its_end_and_drops_aborted_ones(void **state)
{
	struct fixture *f = *state;
	struct offender *a = record("KEN-1", "Bulk", "Early", NULL);
	struct offender *b = record("KEN-1", "Bulk", "Late", NULL);
	struct offender *c2 = record("KEN-2", "Bulk", "Aborted", NULL);
	struct offender *d = record("KEN-3", "Bulk", "Late", "Other");
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;
	bool replaced;

	put(f->s, "KEN-0", "Before", "Early", NULL, false);
	assert_int_equal(store_bulk_begin(f->s, &err), DSC_OK);
	assert_int_equal(store_bulk_begin(f->s, &err), DSC_ECONFLICT);
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	assert_int_equal(store_put_offender(t, a, &replaced, &err), DSC_OK);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	/* Replaced in a later transaction of the same bulk load. */
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	assert_int_equal(store_put_offender(t, b, &replaced, &err), DSC_OK);
	assert_true(replaced);
	assert_int_equal(store_put_offender(t, d, &replaced, &err), DSC_OK);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	/* An aborted transaction leaves no key behind. */
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	assert_int_equal(store_put_offender(t, c2, &replaced, &err), DSC_OK);
	store_write_abort(t);
	assert_int_equal(store_bulk_end(f->s, &err), DSC_OK);
	assert_int_equal(store_bulk_end(f->s, &err), DSC_EINVAL);

	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(key_count(f->r, "f:early", &c), 1); /* KEN-0 only */
	assert_int_equal(key_count(f->r, "f:late", &c), 2);
	assert_int_equal(key_count(f->r, "f:other", &c), 1);
	assert_int_equal(key_count(f->r, "f:aborted", &c), 0);
	store_read_end(f->r);
	offender_free(a);
	offender_free(b);
	offender_free(c2);
	offender_free(d);

	/* The index is marked complete: a reopen keeps it as it is. */
	reopen(f, &family_indexer);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(key_count(f->r, "f:late", &c), 2);
	store_read_end(f->r);
}

static void a_bulk_load_never_ended_is_reindexed_at_the_next_open(void **state)
{
	struct fixture *f = *state;
	struct offender *o = record("KEN-1", "Bulk", "Unfinished", NULL);
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;

	assert_int_equal(store_bulk_begin(f->s, &err), DSC_OK);
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	assert_int_equal(store_put_offender(t, o, NULL, &err), DSC_OK);
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	offender_free(o);
	/* As after a crash: the record is there, its keys are not yet. */
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(key_count(f->r, "f:unfinished", &c), 0);
	store_read_end(f->r);

	reopen(f, &family_indexer);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(key_count(f->r, "f:unfinished", &c), 1);
	store_read_end(f->r);
}

/* Tens of thousands of entries: the sort splits them by leading bytes
 * before finishing each part in the cache.  Appending to the empty index
 * (MDB_APPEND) refuses any key out of order, so the load ending at all
 * says the order was LMDB's; the counts say nothing was lost. */
static void a_large_bulk_load_of_keys_in_no_order_is_sorted_exactly(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;
	size_t i, n = 12000;
	char key[64];

	assert_int_equal(store_bulk_begin(f->s, &err), DSC_OK);
	assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
	for (i = 0; i < n; i++) {
		char id[32], family[64];
		size_t h = (i * 2654435761u) % 1000003;
		struct offender *o;

		snprintf(id, sizeof(id), "SRT-%05zu", i);
		/* Short keys and long ones alike in their first 16 bytes. */
		if (i % 2)
			snprintf(family, sizeof(family), "F%zu", h);
		else
			snprintf(family, sizeof(family), "Longsharedprefix%zux%zu", h % 7, h);
		o = record(id, "Sorted", family, i % 3 == 0 ? "Everyone" : "Other");
		assert_int_equal(store_put_offender(t, o, NULL, &err), DSC_OK);
		offender_free(o);
	}
	assert_int_equal(store_write_commit(t, &err), DSC_OK);
	if (store_bulk_end(f->s, &err) != DSC_OK)
		fail_msg("bulk end: %s", err.msg);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(key_count(f->r, "f:everyone", &c), n / 3);
	for (i = 1; i < c.n; i++)
		assert_true(c.recnos[i - 1] < c.recnos[i]);
	for (i = 0; i < n; i += 7) {
		size_t h = (i * 2654435761u) % 1000003;

		if (i % 2)
			snprintf(key, sizeof(key), "f:f%zu", h);
		else
			snprintf(key, sizeof(key), "f:longsharedprefix%zux%zu", h % 7, h);
		assert_true(key_count(f->r, key, &c) >= 1);
	}
	store_read_end(f->r);
}

static void a_bulk_load_into_an_empty_store_appends_keys_in_order(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct dsc_error err;
	struct collect c;
	size_t i, round;

	assert_int_equal(store_bulk_begin(f->s, &err), DSC_OK);
	for (round = 0; round < 2; round++) {
		assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
		for (i = 0; i < 320; i++) {
			char id[32], family[32];
			struct offender *o;

			snprintf(id, sizeof(id), "KEN-%zu-%03zu", round, i);
			snprintf(family, sizeof(family), "Fam%02zu", (i * 13) % 40);
			o = record(id, "Append", family, "Everyone");
			assert_int_equal(store_put_offender(t, o, NULL, &err), DSC_OK);
			offender_free(o);
		}
		assert_int_equal(store_write_commit(t, &err), DSC_OK);
	}
	assert_int_equal(store_bulk_end(f->s, &err), DSC_OK);
	assert_int_equal(store_read_begin(f->r, &err), DSC_OK);
	assert_int_equal(key_count(f->r, "f:everyone", &c), 640);
	for (i = 1; i < c.n; i++)
		assert_true(c.recnos[i - 1] < c.recnos[i]);
	for (i = 0; i < 40; i++) {
		char key[32];

		snprintf(key, sizeof(key), "f:fam%02zu", i);
		assert_int_equal(key_count(f->r, key, &c), 2 * 320 / 40);
	}
	store_read_end(f->r);
}

/* ---- mapping pages ahead ---- */

/* Bytes of the store's data file map in this process's page tables
 * (the Rss of its mapping in /proc/self/smaps). */
static size_t map_rss(const char *dir)
{
	char want[128], *line = NULL;
	size_t n = 0, rss = 0, wl;
	bool in = false;
	FILE *fp = fopen("/proc/self/smaps", "re");

	assert_non_null(fp);
	wl = (size_t)snprintf(want, sizeof(want), "%s/data.mdb", dir);
	while (getline(&line, &n, fp) > 0) {
		unsigned long a, b, kb;
		size_t l = strcspn(line, "\n");

		line[l] = '\0';
		if (sscanf(line, "%lx-%lx ", &a, &b) == 2)
			in = l >= wl && strcmp(line + l - wl, want) == 0;
		else if (in && sscanf(line, "Rss: %lu kB", &kb) == 1)
			rss += (size_t)kb * 1024;
	}
	free(line);
	fclose(fp);
	return rss;
}

static void prefault_maps_the_used_file_in_chunks_and_ends(void **state)
{
	struct fixture *f = *state;
	struct store_txn *t;
	struct dsc_error err;
	size_t used, map_size, records, before, after, off, next, calls = 0;
	int rc;

	for (size_t round = 0; round < 6; round++) {
		assert_int_equal(store_write_begin(f->s, &t, &err), DSC_OK);
		for (size_t i = 0; i < 500; i++) {
			char id[32], family[32];
			struct offender *o;

			snprintf(id, sizeof(id), "KEN-%zu-%03zu", round, i);
			snprintf(family, sizeof(family), "Prefault%03zu", i % 97);
			o = record(id, "Mapped", family, NULL);
			assert_int_equal(store_put_offender(t, o, NULL, &err), DSC_OK);
			offender_free(o);
		}
		assert_int_equal(store_write_commit(t, &err), DSC_OK);
	}
	reopen(f, &family_indexer); /* a fresh map: hardly a page in it yet */
	assert_int_equal(store_stat(f->s, &used, &map_size, &records), DSC_OK);
	assert_int_equal(records, 3000);
	before = map_rss(f->dir);

	/* A zero length still gets on (at least a page). */
	rc = store_prefault(f->s, 0, 0, &next, &err);
	if (rc == DSC_EINVAL)
		skip(); /* before Linux 5.14: nothing to test */
	assert_int_equal(rc, DSC_OK);
	assert_true(next > 0 && next != SIZE_MAX);

	for (off = 0; off != SIZE_MAX; off = next, calls++) {
		assert_int_equal(store_prefault(f->s, off, 64u << 10, &next, &err), DSC_OK);
		assert_true(next > off);
	}
	after = map_rss(f->dir);
	if (after < used || after <= before || calls < used / (64u << 10)) {
		print_error("used %zu bytes: %zu mapped before, %zu after, in %zu calls\n", used, before, after,
			    calls);
		fail();
	}
	/* Past the end of the file: nothing to do, and the end is said. */
	assert_int_equal(store_prefault(f->s, (size_t)1 << 40, 4096, &next, &err), DSC_OK);
	assert_true(next == SIZE_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(a_created_record_can_be_read_by_id_and_number_with_its_keys),
		T(a_replaced_record_keeps_its_number_and_loses_its_old_keys),
		T(every_entry_carries_its_records_tag_and_a_replace_renews_it),
		T(the_same_id_twice_in_one_transaction_leaves_only_the_last_keys),
		T(a_deleted_record_leaves_no_key_pointing_at_it),
		T(iteration_visits_every_record_in_id_order),
		T(thousands_of_records_under_one_key_come_back_in_chunks),
		T(a_reader_is_reused_and_sees_new_data_after_each_begin),
		T(a_begun_reader_keeps_its_snapshot_while_the_writer_commits),
		T(checks_meta_and_audit_entries_are_kept_in_their_tables),
		T(audit_entries_past_255_stay_in_sequence_order),
		T(reopening_keeps_records_keys_tables_and_numbers),
		T(zeros_are_written_ahead_of_the_data_and_the_store_writes_over_them),
		T(zeros_ahead_stop_at_the_map_size_and_not_on_a_read_only_store),
		T(a_store_of_another_schema_version_is_refused),
		T(a_new_indexer_version_rebuilds_the_index_on_open),
		T(a_reindex_at_open_tells_its_progress_and_a_plain_open_tells_nothing),
		T(views_follow_every_create_replace_and_delete_across_blocks),
		T(a_reader_never_keeps_a_view_a_commit_has_changed),
		T(the_key_filter_answers_absent_keys_and_never_a_present_one),
		T(the_key_filter_grows_with_the_index_and_loses_no_key),
		T(records_rewritten_do_not_make_every_write_read_the_index),
		T(a_reader_finds_every_key_of_its_snapshot_while_the_filter_grows),
		T(a_store_opened_without_the_key_filter_has_none),
		T(the_store_lock_is_held_by_one_taker_who_is_named),
		T(a_store_whose_views_are_laid_out_otherwise_is_reindexed),
		T(a_damaged_block_of_views_is_refused_not_trusted),
		T(an_index_entry_already_there_stops_none_of_the_others),
		T(a_read_only_store_reads_but_refuses_writes),
		T(opening_without_an_indexer_for_writing_is_refused),
		T(a_full_map_is_an_error_with_words_and_the_store_goes_on),
		T(a_full_map_grown_while_open_takes_writes_again),
		T(a_failed_write_poisons_its_transaction_until_aborted),
		T(a_prepared_record_gets_the_same_keys_and_view_as_a_direct_put),
		T(records_prepared_in_turn_each_keep_their_own_keys_and_view),
		T(a_chunk_prepared_in_an_arena_is_stored_whole),
		T(entries_held_back_across_huge_pages_are_all_stored),
		T(many_distinct_keys_with_long_shared_prefixes_are_all_found),
		T(entry_buffers_passed_between_transactions_of_any_size_lose_nothing),
		T(a_bulk_load_writes_every_key_at_its_end_and_drops_aborted_ones),
		T(a_bulk_load_never_ended_is_reindexed_at_the_next_open),
		T(a_bulk_load_into_an_empty_store_appends_keys_in_order),
		T(a_large_bulk_load_of_keys_in_no_order_is_sorted_exactly),
		T(prefault_maps_the_used_file_in_chunks_and_ends),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
