/*
 * prefault.c - enters the store's pages into the daemon's page tables once,
 * in the background, right after start-up.
 *
 * Without it, every page of the LMDB map is a page fault the first time a
 * check reads it, even with the whole file in the page cache: on a
 * register of 1,000,000 people some 20,000 faults, several µs each on a
 * virtual machine, spread over the first few thousand checks after every
 * restart.  One thread walks the data file in chunks with
 * store_prefault() (MADV_POPULATE_READ), at a low priority, and stops
 * between chunks when the daemon stops.
 *
 * Never: delay start-up or an answer for it (it runs beside the workers,
 * niced, and holds the map for one chunk at a time); treat a kernel that
 * cannot do it as an error (the first reads then map the pages, as before).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "disclosure/log.h"
#include "disclosured.h"

#define PREFAULT_CHUNK ((size_t)32 << 20) /* bytes per call: a few ms when cached */
#define PREFAULT_NICE 10

struct prefault {
	struct store *store;
	pthread_t thread;
	atomic_bool stop;
};

static void *prefault_main(void *arg)
{
	struct prefault *p = arg;
	struct dsc_error err;
	size_t off = 0, next = 0, used = 0;
	uint64_t t0 = mono_ns();
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	size_t ram = pages > 0 && psize > 0 ? (size_t)pages * (size_t)psize : 0;
	int rc = DSC_OK;

	pthread_setname_np(pthread_self(), "prefault"); /* top -H, perf */
	/* Only this thread: the workers keep their priority.  The shipped
	 * unit denies @resources, so there it fails (EPERM) and the thread
	 * runs at their priority: 0.1-0.2 s of CPU for 1.5 GB, once. */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), PREFAULT_NICE);
	/* A store that would not fit in memory beside everything else is
	 * left to the first reads: mapping it all would only read it from
	 * disk and push other pages out of the cache. */
	if (store_stat(p->store, &used, NULL, NULL) == DSC_OK && ram > 0 &&
	    used > ram / 2) {
		log_info("store of %zu MiB not mapped ahead: more than half of this machine's "
			 "%zu MiB of memory", used >> 20, ram >> 20);
		return NULL;
	}
	while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		rc = store_prefault(p->store, off, PREFAULT_CHUNK, &next, &err);
		if (rc != DSC_OK || next == SIZE_MAX)
			break;
		off = next;
	}
	if (rc == DSC_EINVAL)
		log_debug("%s", err.msg);
	else if (rc != DSC_OK)
		log_warnx("%s (harmless: the first reads map the pages)", err.msg);
	else if (next == SIZE_MAX)
		log_info("store: %zu MiB of pages mapped ahead in %.2f s", used >> 20,
			 (double)(mono_ns() - t0) / 1e9);
	return NULL;
}

int prefault_start(struct daemon *d, struct prefault **out)
{
	struct prefault *p;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return DSC_ENOMEM;
	p->store = d->store;
	atomic_init(&p->stop, false);
	if (pthread_create(&p->thread, NULL, prefault_main, p) != 0) {
		free(p);
		return DSC_ENOMEM;
	}
	*out = p;
	return DSC_OK;
}

void prefault_stop(struct prefault *p)
{
	if (p == NULL)
		return;
	atomic_store_explicit(&p->stop, true, memory_order_relaxed);
	pthread_join(p->thread, NULL);
	free(p);
}
