/*
 * audit_api.c - reading the audit log: GET /v1/audit?from=SEQ&limit=N
 * (auditor) and GET /v1/audit/checkpoint (any known principal).
 *
 * A read of the log is itself logged.  The writer appends this request's
 * audit.read entry and, when the page reaches the newest entry, signs a
 * checkpoint over everything before it (not stored: docs/audit-format.md);
 * after the commit the worker reads the page with its own read transaction
 * and sends the stored lines byte for byte, then that checkpoint, so an
 * export that reaches the end always ends sealed.  GET /v1/audit/checkpoint
 * stores its checkpoint in the chain.
 *
 * Never: send a line other than exactly as stored; hold the read
 * transaction while the answer is being written to the network (the page
 * is copied into the answer buffer first).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "disclosure/log.h"
#include "disclosured.h"

/* A query value made only of digits, at most max. */
static bool parse_count(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || s[0] < '0' || s[0] > '9' || strlen(s) > 20)
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

static void audit_page_done(struct job *j)
{
	struct dsc_error err;
	const char *line;
	size_t len;
	int rc = DSC_OK;

	if (j->failed || j->status != 200) {
		job_respond(j);
		return;
	}
	j->body = evbuffer_new();
	if (j->body == NULL) {
		job_error(j, 503, "unavailable", NULL, "out of memory");
		job_respond(j);
		return;
	}
	if ((rc = store_read_begin(j->w->reader, &err)) == DSC_OK) {
		for (uint64_t seq = j->page_from; seq < j->page_end && rc == DSC_OK; seq++) {
			rc = store_audit_get(j->w->reader, seq, &line, &len);
			if (rc == DSC_OK && (evbuffer_add(j->body, line, len) != 0 ||
					     evbuffer_add(j->body, "\n", 1) != 0))
				rc = DSC_ENOMEM;
		}
		store_read_end(j->w->reader);
	}
	if (rc == DSC_OK && j->checkpoint_line != NULL &&
	    (evbuffer_add(j->body, j->checkpoint_line, j->checkpoint_len) != 0 ||
	     evbuffer_add(j->body, "\n", 1) != 0))
		rc = DSC_ENOMEM;
	if (rc != DSC_OK) {
		log_warnx("request %s: reading audit entries %" PRIu64 "..%" PRIu64 " failed (%s)",
			  j->request_id, j->page_from, j->page_end, dsc_status_name(rc));
		job_error(j, 500, "internal", NULL, "the audit log could not be read; try again");
		job_respond(j);
		return;
	}
	j->content_type = "application/x-ndjson";
	job_respond(j);
}

void audit_api_page(struct job *j, const char *query)
{
	uint64_t from = 0, limit = AUDIT_PAGE_DEFAULT;
	char *v;
	bool present;

	j->kind = JOB_AUDIT_PAGE;
	if (!require_role(j, ROLE_AUDITOR))
		return;
	v = query_get(query, "from", &present);
	if (present && !parse_count(v, (uint64_t)INT64_MAX, &from)) {
		free(v);
		job_error(j, 400, "invalid_field", "from",
			  "from: must be a whole number, the first seq wanted");
		job_submit(j);
		return;
	}
	free(v);
	v = query_get(query, "limit", &present);
	if (present && (!parse_count(v, AUDIT_PAGE_MAX, &limit) || limit == 0)) {
		free(v);
		job_error(j, 400, "invalid_field", "limit", "limit: must be a whole number from 1 to %d",
			  AUDIT_PAGE_MAX);
		job_submit(j);
		return;
	}
	free(v);
	json_object_set_new(j->audit, "from", json_integer((json_int_t)from));
	json_object_set_new(j->audit, "limit", json_integer((json_int_t)limit));
	j->page_from = from;
	j->page_limit = limit;
	j->finish = audit_page_done;
	job_submit(j);
}

static void audit_checkpoint_done(struct job *j)
{
	if (!j->failed && j->status == 200 && j->checkpoint_line != NULL) {
		j->body = evbuffer_new();
		if (j->body == NULL ||
		    evbuffer_add(j->body, j->checkpoint_line, j->checkpoint_len) != 0 ||
		    evbuffer_add(j->body, "\n", 1) != 0)
			job_error(j, 503, "unavailable", NULL, "out of memory");
		else
			j->content_type = "application/json";
	}
	job_respond(j);
}

void audit_api_checkpoint(struct job *j)
{
	j->kind = JOB_CHECKPOINT;
	j->finish = audit_checkpoint_done;
	job_submit(j);
}
