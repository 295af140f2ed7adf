/*
 * arena.h - memory for many small objects that are freed together: the
 * records of one chunk of a bulk import and their prepared index keys.
 *
 * Objects are carved in order out of large blocks mapped for the arena;
 * there is no freeing one object.  dsc_arena_reset() empties the arena and
 * keeps its blocks, whose pages are then already in memory, for the next
 * chunk; dsc_arena_free() gives the blocks back to the kernel.
 *
 * Why: a chunk holds up to 100,000 records, two allocations each.  From
 * malloc they cost glibc's bin upkeep on every allocation and free, and a
 * page fault for every fresh 4 KiB; from an arena, a pointer bump, and a
 * fault for every 2 MiB where the kernel gives transparent huge pages to
 * mappings that ask for them (its THP mode "always" or "madvise").
 *
 * Never: hand out memory that is not aligned for any object, or share one
 * arena between threads at the same time (it has no lock; a bulk import
 * passes a chunk's arena from the parser to the writer and back).
 */
#ifndef DISCLOSURE_ARENA_H
#define DISCLOSURE_ARENA_H

#include <stddef.h>

struct dsc_arena;

/* An empty arena that maps blocks of at least block_size bytes as it
 * needs them (rounded up to 2 MiB); NULL when out of memory. */
struct dsc_arena *dsc_arena_new(size_t block_size);
/* size bytes aligned to 16, or NULL when no block could be mapped. */
void *dsc_arena_alloc(struct dsc_arena *a, size_t size);
/* Forgets every object, keeping the blocks for the next ones. */
void dsc_arena_reset(struct dsc_arena *a);
/* The bytes handed out since the last reset. */
size_t dsc_arena_used(const struct dsc_arena *a);
/* The bytes of the blocks mapped. */
size_t dsc_arena_mapped(const struct dsc_arena *a);
void dsc_arena_free(struct dsc_arena *a);

/* The huge page size of x86-64 and arm64. */
#define DSC_HUGE_PAGE ((size_t)2 << 20)
/* size bytes (a multiple of DSC_HUGE_PAGE) mapped at a DSC_HUGE_PAGE
 * boundary and advised huge pages, as the arena's blocks are; for other
 * big buffers (lib/store.c's index entries).  NULL when out of memory;
 * given back with munmap. */
void *dsc_map_huge(size_t size);

#endif
