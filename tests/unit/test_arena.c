/*
 * test_arena.c - the arena of include/disclosure/arena.h (lib/arena.c):
 * objects aligned and apart, an object larger than a block, a reset that
 * keeps the blocks, and sizes it must refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "disclosure/arena.h"

#define MIB ((size_t)1 << 20)

/* Fills p with a pattern that says which object it is. */
static void fill(unsigned char *p, size_t n, size_t which)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(which * 31 + i);
}

static int holds(const unsigned char *p, size_t n, size_t which)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(which * 31 + i))
			return 0;
	return 1;
}

static size_t size_of(size_t i)
{
	return 1 + (i * 2654435761u) % 3000; /* 1 to 3,000 bytes, in no order */
}

static void objects_are_aligned_apart_and_keep_their_bytes(void **state)
{
	enum { N = 5000 };
	struct dsc_arena *a = dsc_arena_new(MIB);
	unsigned char **p = calloc(N, sizeof(*p));
	size_t i, total = 0;

	(void)state;
	assert_non_null(a);
	assert_non_null(p);
	for (i = 0; i < N; i++) {
		p[i] = dsc_arena_alloc(a, size_of(i));
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		fill(p[i], size_of(i), i);
		total += size_of(i);
	}
	/* Every object still holds its own bytes: none overlapped another. */
	for (i = 0; i < N; i++)
		if (!holds(p[i], size_of(i), i))
			fail_msg("object %zu (%zu bytes) was overwritten", i, size_of(i));
	assert_true(dsc_arena_used(a) >= total);
	assert_true(dsc_arena_used(a) < total + N * 16);
	/* 7.5 MB of objects in blocks of 2 MiB (1 MiB rounds up to 2). */
	assert_int_equal(dsc_arena_mapped(a) % (2 * MIB), 0);
	assert_true(dsc_arena_mapped(a) >= dsc_arena_used(a));
	assert_true(dsc_arena_mapped(a) <= dsc_arena_used(a) + 4 * MIB);
	dsc_arena_free(a);
	free(p);
}

static void an_object_larger_than_a_block_gets_a_block_of_its_own(void **state)
{
	struct dsc_arena *a = dsc_arena_new(2 * MIB);
	unsigned char *small, *big, *after;
	size_t big_size = 5 * MIB + 3;

	(void)state;
	assert_non_null(a);
	small = dsc_arena_alloc(a, 100);
	big = dsc_arena_alloc(a, big_size);
	after = dsc_arena_alloc(a, 200);
	assert_non_null(small);
	assert_non_null(big);
	assert_non_null(after);
	fill(small, 100, 1);
	fill(big, big_size, 2);
	fill(after, 200, 3);
	assert_true(holds(small, 100, 1));
	assert_true(holds(big, big_size, 2));
	assert_true(holds(after, 200, 3));
	assert_true(dsc_arena_mapped(a) >= 8 * MIB);
	dsc_arena_free(a);
}

static void a_reset_reuses_the_blocks_it_has(void **state)
{
	struct dsc_arena *a = dsc_arena_new(2 * MIB);
	unsigned char *first, *again;
	size_t mapped, i;

	(void)state;
	assert_non_null(a);
	first = dsc_arena_alloc(a, 1000);
	assert_non_null(first);
	for (i = 0; i < 10000; i++) /* about 10 MB: several blocks */
		assert_non_null(dsc_arena_alloc(a, 1000));
	mapped = dsc_arena_mapped(a);
	assert_true(mapped >= 10 * MIB);

	dsc_arena_reset(a);
	assert_int_equal(dsc_arena_used(a), 0);
	again = dsc_arena_alloc(a, 1000);
	assert_ptr_equal(again, first);
	fill(again, 1000, 7);
	for (i = 0; i < 10000; i++)
		assert_non_null(dsc_arena_alloc(a, 1000));
	/* The same objects again took no new block. */
	assert_int_equal(dsc_arena_mapped(a), mapped);
	assert_true(holds(again, 1000, 7));
	dsc_arena_free(a);
}

static void a_size_no_block_could_hold_is_refused(void **state)
{
	struct dsc_arena *a = dsc_arena_new(0);

	(void)state;
	assert_non_null(a);
	assert_null(dsc_arena_alloc(a, SIZE_MAX));
	assert_null(dsc_arena_alloc(a, SIZE_MAX / 2 + 1));
	/* A zero-byte object is a distinct, aligned pointer. */
	void *z1 = dsc_arena_alloc(a, 0), *z2 = dsc_arena_alloc(a, 0);
	assert_non_null(z1);
	assert_non_null(z2);
	assert_ptr_not_equal(z1, z2);
	dsc_arena_free(a);
	dsc_arena_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(objects_are_aligned_apart_and_keep_their_bytes),
		cmocka_unit_test(an_object_larger_than_a_block_gets_a_block_of_its_own),
		cmocka_unit_test(a_reset_reuses_the_blocks_it_has),
		cmocka_unit_test(a_size_no_block_could_hold_is_refused),
	};
	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
