/*
 * health.c - GET /healthz (any known principal) and GET /metrics (monitor).
 * Successful answers are not audited: they reveal no personal data and a
 * monitor polling every few seconds would otherwise fill the log.  Refused
 * ones are audited like any other request.
 *
 * Never: touch the store on these paths (they answer from counters), so a
 * monitor cannot slow the checks down.
 */
#include <event2/buffer.h>

#include "disclosured.h"

void health_get(struct job *j)
{
	json_t *r = json_object();

	if (r == NULL) {
		job_error(j, 503, "unavailable", NULL, "out of memory");
		job_submit(j);
		return;
	}
	json_object_set_new(r, "status", json_string("ok"));
	json_object_set_new(r, "records",
			    json_integer((json_int_t)atomic_load_explicit(&j->d->records,
									  memory_order_relaxed)));
	json_object_set_new(r, "audit_seq",
			    json_integer((json_int_t)atomic_load_explicit(&j->d->audit_seq,
									  memory_order_relaxed)));
	j->resp = r;
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
