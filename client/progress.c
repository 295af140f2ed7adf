/*
 * progress.c - a one-line progress bar on stderr for long commands
 * (import, batch), drawn at most ten times a second, and only when stderr
 * is a terminal: logs and pipes never receive carriage returns.
 */
#include <stdio.h>
#include <time.h>

#include "client.h"

#define BAR_WIDTH 30

double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, bool enabled, const char *label, uint64_t total)
{
	p->enabled = enabled;
	p->total = total;
	p->done = 0;
	p->label = label;
	p->started = monotonic_seconds();
	p->last_draw = 0;
	p->full_drawn = false;
	p->finished = false;
}

static void draw(struct progress *p)
{
	double elapsed = monotonic_seconds() - p->started;
	unsigned fill = 0;
	double frac = 0;
	char bar[BAR_WIDTH + 1];

	if (p->total > 0) {
		frac = (double)p->done / (double)p->total;
		if (frac > 1)
			frac = 1;
		fill = (unsigned)(frac * BAR_WIDTH);
	}
	for (unsigned i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	if (frac > 0.001 && frac < 1) {
		double eta = elapsed / frac - elapsed;

		fprintf(stderr, "\r%s [%s] %5.1f%% %llu/%llu, %.0f s left   ", p->label, bar,
		        frac * 100, (unsigned long long)p->done, (unsigned long long)p->total, eta);
	} else {
		fprintf(stderr, "\r%s [%s] %5.1f%% %llu/%llu            ", p->label, bar,
		        frac * 100, (unsigned long long)p->done, (unsigned long long)p->total);
	}
	fflush(stderr);
}

void progress_update(struct progress *p, uint64_t done)
{
	double now;

	p->done = done;
	if (!p->enabled || p->finished || (done >= p->total && p->full_drawn))
		return;
	now = monotonic_seconds();
	if (now - p->last_draw < 0.1 && done < p->total)
		return;
	p->last_draw = now;
	p->full_drawn = done >= p->total;
	draw(p);
}

void progress_finish(struct progress *p)
{
	if (!p->enabled || p->finished)
		return;
	p->finished = true;
	if (!p->full_drawn || p->done < p->total)
		draw(p);
	fputc('\n', stderr);
}
