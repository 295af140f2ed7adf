/*
 * health.c - GET /healthz (any known principal) and GET /metrics (monitor).
 * Successful answers are not audited: they reveal no personal data and a
 * monitor polling every few seconds would otherwise fill the log.  Refused
 * ones are audited like any other request.
 *
 * Never: touch the store on these paths (they answer from counters), so a
 * monitor cannot slow the checks down.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "disclosured.h"

/* The answer is written as text (job->answer): the monitor polls often,
 * and three counters do not need a JSON tree. */
void health_get(struct job *j)
{
	unsigned long long records = atomic_load_explicit(&j->d->records, memory_order_relaxed);
	unsigned long long seq = atomic_load_explicit(&j->d->audit_seq, memory_order_relaxed);
	char text[96];
	int n = snprintf(text, sizeof(text), "{\"status\":\"ok\",\"records\":%llu,\"audit_seq\":%llu",
			 records, seq);

	if (n < 0 || (size_t)n >= sizeof(text) || (j->answer = strdup(text)) == NULL) {
		job_error(j, 503, "unavailable", NULL, "out of memory");
		job_submit(j);
		return;
	}
	j->answer_len = (size_t)n;
	json_decref(j->audit);
	j->audit = NULL;
	job_respond(j);
}

void metrics_get(struct job *j)
{
	if (!require_role(j, ROLE_MONITOR))
		return;
	j->body = evbuffer_new();
	if (j->body == NULL || metrics_render(j->d, j->body) != DSC_OK) {
		job_error(j, 500, "internal", NULL, "could not render the metrics");
		job_submit(j);
		return;
	}
	j->content_type = "text/plain; version=0.0.4; charset=utf-8";
	json_decref(j->audit);
	j->audit = NULL;
	job_respond(j);
}
