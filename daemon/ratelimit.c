/*
 * ratelimit.c - a token bucket per principal, shared by all workers: each
 * principal may make rate_limit requests a second on average, with bursts
 * of up to one second's worth.  Principals come from the ACL, so the table
 * is bounded by it; a fixed-size open-addressing table under one mutex is
 * enough (the critical section is a few arithmetic operations).
 *
 * Never: grow without bound; block a worker for longer than a lookup.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "disclosured.h"

#define RL_SLOTS 4096 /* power of two; more principals than this are not limited */

struct bucket {
	char id[PRINCIPAL_ID_MAX + 1];
	double tokens;
	uint64_t last_ns;
};

struct ratelimit {
	pthread_mutex_t mtx;
	double rate;
	struct bucket slots[RL_SLOTS];
};

int ratelimit_new(unsigned per_second, struct ratelimit **out)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));

	if (rl == NULL)
		return DSC_ENOMEM;
	pthread_mutex_init(&rl->mtx, NULL);
	rl->rate = per_second;
	*out = rl;
	return DSC_OK;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->mtx);
	free(rl);
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

bool ratelimit_take(struct ratelimit *rl, const char *principal_id)
{
	uint32_t i = fnv1a(principal_id) & (RL_SLOTS - 1);
	uint64_t now = mono_ns();
	bool ok = true;

	pthread_mutex_lock(&rl->mtx);
	for (uint32_t probe = 0; probe < RL_SLOTS; probe++, i = (i + 1) & (RL_SLOTS - 1)) {
		struct bucket *b = &rl->slots[i];

		if (b->id[0] == '\0') {
			strncpy(b->id, principal_id, sizeof(b->id) - 1);
			b->tokens = rl->rate - 1;
			b->last_ns = now;
			goto out;
		}
		if (strcmp(b->id, principal_id) != 0)
			continue;
		b->tokens += rl->rate * (double)(now - b->last_ns) / 1e9;
		if (b->tokens > rl->rate)
			b->tokens = rl->rate;
		b->last_ns = now;
		if (b->tokens >= 1.0)
			b->tokens -= 1.0;
		else
			ok = false;
		goto out;
	}
out:
	pthread_mutex_unlock(&rl->mtx);
	return ok;
}
