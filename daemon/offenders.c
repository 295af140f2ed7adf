/*
 * offenders.c - one offender record: GET (a disclosure officer, and only a
 * record that was a candidate of a check the officer can read, in the
 * officer's force scope), PUT and DELETE (registrar).  The writes are done
 * by the writer, which says whether a PUT created or replaced and whether
 * a DELETE found anything.
 *
 * Never: give a full record to anyone but a disclosure officer through a
 * check in which it was a candidate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "disclosure/log.h"
#include "disclosured.h"

void offenders_get(struct job *j, const char *id, const char *query)
{
	struct dsc_error err;
	const char *json, *force;
	json_t *check = NULL, *rec;
	char *check_id;
	bool present;
	size_t len;
	int rc;

	j->kind = JOB_AUDIT;
	json_object_set_new(j->audit, "record_id", json_string_lossy(id));
	if (!require_role(j, ROLE_DISCLOSURE_OFFICER))
		return;
	check_id = query_get(query, "check_id", &present);
	if (check_id == NULL || check_id[0] == '\0') {
		free(check_id);
		job_error(j, 400, "invalid_field", "check_id",
			  "check_id: required (the check in which the record was a candidate)");
		job_submit(j);
		return;
	}
	json_object_set_new(j->audit, "check_id", json_string_lossy(check_id));
	if (!offender_id_valid(id)) {
		free(check_id);
		job_error(j, 404, "not_found", NULL, "no offender record %s", id);
		job_submit(j);
		return;
	}
	rc = check_id_valid(check_id) ? check_load(j->w, check_id, &check, &err) : DSC_ENOTFOUND;
	if (rc != DSC_OK && rc != DSC_ENOTFOUND) {
		log_warnx("request %s: %s", j->request_id, err.msg);
		free(check_id);
		job_error(j, 503, "unavailable", NULL, "the store could not be read; try again");
		job_submit(j);
		return;
	}
	if (rc == DSC_ENOTFOUND || !check_readable(&j->p, check, true) ||
	    !check_has_candidate(check, id)) {
		job_error(j, 403, "forbidden", NULL,
			  "record %s was not a candidate of a check principal '%s' can read (%s)",
			  id, j->p.id, check_id);
		json_decref(check);
		free(check_id);
		job_submit(j);
		return;
	}
	json_decref(check);
	free(check_id);

	if ((rc = store_read_begin(j->w->reader, &err)) == DSC_OK) {
		rc = store_get_offender(j->w->reader, id, &json, &len);
		rec = rc == DSC_OK ? json_loadb(json, len, 0, NULL) : NULL;
		store_read_end(j->w->reader);
		if (rc == DSC_OK && rec == NULL)
			rc = DSC_EINTERNAL;
	} else {
		rec = NULL;
	}
	if (rc == DSC_ENOTFOUND) {
		job_error(j, 404, "not_found", NULL, "offender record %s is no longer held", id);
		job_submit(j);
		return;
	}
	if (rc != DSC_OK) {
		log_warnx("request %s: reading record %s failed", j->request_id, id);
		job_error(j, 503, "unavailable", NULL, "the store could not be read; try again");
		job_submit(j);
		return;
	}
	force = json_string_value(json_object_get(rec, "managing_force"));
	if (!principal_national(&j->p) && (force == NULL || strcmp(force, j->p.force) != 0)) {
		/* force points into rec: word the answer before letting rec go. */
		job_error(j, 403, "forbidden", NULL,
			  "record %s is managed by another force; ask %s", id,
			  force != NULL ? force : "its managing force");
		json_decref(rec);
		job_submit(j);
		return;
	}
	j->resp = rec;
	job_submit(j);
}

static void offenders_put_done(struct job *j)
{
	if (!j->failed && (j->status == 200 || j->status == 201)) {
		json_decref(j->resp);
		j->resp = json_object();
		if (j->resp != NULL) {
			json_object_set_new(j->resp, "id", json_string(j->record_id));
			json_object_set_new(j->resp, "created", json_boolean(j->status == 201));
			j->want_receipt = true;
		}
	}
	job_respond(j);
}

void offenders_put(struct job *j, struct evhttp_request *req, const char *id)
{
	struct offender *o = NULL;
	struct dsc_error err;
	const char *body;
	size_t len;

	j->kind = JOB_OFFENDER_PUT;
	json_object_set_new(j->audit, "record_id", json_string_lossy(id));
	if (!require_role(j, ROLE_REGISTRAR))
		return;
	if (!require_content_type(j, req, "application/json"))
		return;
	if (!require_body(j, req, j->d->cfg->server.max_body, &body, &len))
		return;
	if (offender_parse(body, len, &o, &err) != DSC_OK) {
		job_error_from(j, &err);
		job_submit(j);
		return;
	}
	if (strcmp(o->id, id) != 0) {
		job_error(j, 400, "invalid_field", "id", "id: '%s' does not match the path's '%s'",
			  o->id, id);
		offender_free(o);
		job_submit(j);
		return;
	}
	snprintf(j->record_id, sizeof(j->record_id), "%s", o->id);
	j->offender = o;
	j->finish = offenders_put_done;
	job_submit(j);
}

static void offenders_delete_done(struct job *j)
{
	if (!j->failed && j->status == 200) {
		json_decref(j->resp);
		j->resp = json_object();
		if (j->resp != NULL) {
			json_object_set_new(j->resp, "id", json_string(j->record_id));
			json_object_set_new(j->resp, "deleted", json_true());
			j->want_receipt = true;
		}
	}
	job_respond(j);
}

void offenders_delete(struct job *j, const char *id)
{
	j->kind = JOB_OFFENDER_DELETE;
	json_object_set_new(j->audit, "record_id", json_string_lossy(id));
	if (!require_role(j, ROLE_REGISTRAR))
		return;
	if (!offender_id_valid(id)) {
		job_error(j, 404, "not_found", NULL, "no offender record %s", id);
		job_submit(j);
		return;
	}
	snprintf(j->record_id, sizeof(j->record_id), "%s", id);
	j->finish = offenders_delete_done;
	job_submit(j);
}
