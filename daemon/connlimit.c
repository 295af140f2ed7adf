/*
 * connlimit.c - open connections per principal, shared by all workers:
 * one principal (a leaked key, a runaway tool, a client that reads its
 * answers a trickle at a time) may hold at most max_connections_per_principal
 * of the max_connections, so that it cannot take the service from every
 * other force.  A connection counts from the end of its handshake, when
 * its certificate's principal is known, until it closes (router.c
 * conn_handshake_done, server.c conn_release); certificates outside the
 * ACL share one count.  Principals come from the ACL, so the table is
 * bounded by it: a fixed-size open-addressing table under one mutex, whose
 * entries stay once made (their count goes back to 0).
 *
 * Never: grow without bound; block a worker for longer than a lookup.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disclosured.h"

#define CL_SLOTS 4096 /* power of two; principals past this are not limited */

struct slot {
	char id[PRINCIPAL_ID_MAX + 1]; /* "" for certificates outside the ACL */
	bool used;
	unsigned open;
};

struct connlimit {
	pthread_mutex_t mtx;
	unsigned cap;
	struct slot slots[CL_SLOTS];
};

int connlimit_new(unsigned cap, struct connlimit **out)
{
	struct connlimit *cl = calloc(1, sizeof(*cl));

	if (cl == NULL)
		return DSC_ENOMEM;
	pthread_mutex_init(&cl->mtx, NULL);
	cl->cap = cap;
	*out = cl;
	return DSC_OK;
}

void connlimit_free(struct connlimit *cl)
{
	if (cl == NULL)
		return;
	pthread_mutex_destroy(&cl->mtx);
	free(cl);
}

/* The slot of id, made if need be; NULL when the table is full.  Locked. */
static struct slot *slot_of(struct connlimit *cl, const char *id)
{
	uint32_t h = 2166136261u, i;

	for (const char *s = id; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	i = h & (CL_SLOTS - 1);
	for (uint32_t probe = 0; probe < CL_SLOTS; probe++, i = (i + 1) & (CL_SLOTS - 1)) {
		struct slot *sl = &cl->slots[i];

		if (!sl->used) {
			sl->used = true;
			snprintf(sl->id, sizeof(sl->id), "%s", id);
			return sl;
		}
		if (strcmp(sl->id, id) == 0)
			return sl;
	}
	return NULL;
}

bool connlimit_take(struct connlimit *cl, const char *id, unsigned *open)
{
	struct slot *sl;
	bool ok = true;

	pthread_mutex_lock(&cl->mtx);
	sl = slot_of(cl, id);
	if (sl == NULL) {
		*open = 0; /* not counted: not limited either */
	} else if (sl->open >= cl->cap) {
		*open = sl->open;
		ok = false;
	} else {
		*open = ++sl->open;
	}
	pthread_mutex_unlock(&cl->mtx);
	return ok;
}

void connlimit_give(struct connlimit *cl, const char *id)
{
	struct slot *sl;

	pthread_mutex_lock(&cl->mtx);
	sl = slot_of(cl, id);
	if (sl != NULL && sl->open > 0)
		sl->open--;
	pthread_mutex_unlock(&cl->mtx);
}
