/*
 * arena.c - the arena of include/disclosure/arena.h: a list of blocks,
 * each mapped on its own, 2 MiB-aligned and advised MADV_HUGEPAGE, carved
 * from the front.  A block that is full is left behind; the arena moves to
 * the next block it already has (after a reset) or maps a new one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "disclosure/arena.h"

/* Under AddressSanitizer the unused part of every block is poisoned, and
 * each object unpoisoned to its exact size: a write past an object's end
 * is reported as it would be from malloc. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ARENA_HUGE DSC_HUGE_PAGE
#define ARENA_ALIGN 16

struct arena_block {
	struct arena_block *next;
	size_t size; /* the whole mapping, this header included */
	size_t used; /* from the block's start: the header, then the objects */
};

struct dsc_arena {
	size_t block_size;
	struct arena_block *first; /* every block, in the order they are used */
	struct arena_block *cur;   /* the block being carved: first, or later */
	size_t used, mapped;
};

#define HEADER_SIZE ((sizeof(struct arena_block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

/* Maps size bytes (a multiple of ARENA_HUGE) at an address aligned to
 * ARENA_HUGE, so that the kernel can back all of it with huge pages: map
 * one huge page more and unmap what lies outside the aligned range. */
void *dsc_map_huge(size_t size)
{
	size_t span = size + ARENA_HUGE, head;
	uintptr_t at;
	char *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	at = ((uintptr_t)p + ARENA_HUGE - 1) & ~(uintptr_t)(ARENA_HUGE - 1);
	head = at - (uintptr_t)p;
	if (head > 0)
		munmap(p, head);
	if (span - head > size)
		munmap((char *)at + size, span - head - size);
#ifdef MADV_HUGEPAGE
	/* Advice only: without huge pages the block works the same. */
	(void)madvise((void *)at, size, MADV_HUGEPAGE);
#endif
	return (void *)at;
}

struct dsc_arena *dsc_arena_new(size_t block_size)
{
	struct dsc_arena *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->block_size = round_up(block_size > 0 ? block_size : ARENA_HUGE, ARENA_HUGE);
	return a;
}

/* A block with room for size bytes after its header: the next one already
 * mapped if it has the room, else a new one put after cur. */
static struct arena_block *next_block(struct dsc_arena *a, size_t size)
{
	struct arena_block *b = a->cur != NULL ? a->cur->next : a->first;
	size_t want;

	if (b != NULL && b->size - HEADER_SIZE >= size)
		return b;
	if (size > SIZE_MAX - HEADER_SIZE - 2 * ARENA_HUGE)
		return NULL;
	want = round_up(HEADER_SIZE + size, ARENA_HUGE);
	if (want < a->block_size)
		want = a->block_size;
	if ((b = dsc_map_huge(want)) == NULL)
		return NULL;
	b->size = want;
	b->used = HEADER_SIZE;
	POISON((char *)b + HEADER_SIZE, want - HEADER_SIZE);
	if (a->cur == NULL) {
		b->next = a->first;
		a->first = b;
	} else {
		b->next = a->cur->next;
		a->cur->next = b;
	}
	a->mapped += want;
	return b;
}

void *dsc_arena_alloc(struct dsc_arena *a, size_t size)
{
	struct arena_block *b = a->cur;
	size_t rounded;
	void *p;

	if (size > SIZE_MAX / 2)
		return NULL;
	rounded = round_up(size > 0 ? size : 1, ARENA_ALIGN);
	if (b == NULL || b->size - b->used < rounded) {
		if ((b = next_block(a, rounded)) == NULL)
			return NULL;
		b->used = HEADER_SIZE;
		a->cur = b;
	}
	p = (char *)b + b->used;
	UNPOISON(p, size);
	b->used += rounded;
	a->used += rounded;
	return p;
}

void dsc_arena_reset(struct dsc_arena *a)
{
	struct arena_block *b;

	for (b = a->first; b != NULL; b = b->next)
		POISON((char *)b + HEADER_SIZE, b->size - HEADER_SIZE);
	a->cur = NULL;
	a->used = 0;
}

size_t dsc_arena_used(const struct dsc_arena *a)
{
	return a->used;
}

size_t dsc_arena_mapped(const struct dsc_arena *a)
{
	return a->mapped;
}

void dsc_arena_free(struct dsc_arena *a)
{
	struct arena_block *b, *next;

	if (a == NULL)
		return;
	for (b = a->first; b != NULL; b = next) {
		next = b->next;
		UNPOISON((char *)b + HEADER_SIZE, b->size - HEADER_SIZE);
		munmap(b, b->size);
	}
	free(a);
}
