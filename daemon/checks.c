/*
 * checks.c - the check endpoints: POST /v1/checks runs a check (match in
 * this worker with its own reader and matcher context, read transaction
 * closed before anything else happens), GET /v1/checks/{id} reads one back,
 * POST /v1/checks/{id}/decision records a disclosure officer's decision.
 *
 * The stored check keeps the full, unfiltered candidates; every answer
 * filters them for the reader's force (contract.md "Force scope").
 * Whether a decision was already made is decided by the writer, inside
 * the transaction that stores it, so two officers cannot both decide.
 *
 * Never: answer a check before its audit entry is committed (job_submit);
 * store anything about the applicant beyond the case reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disclosure/check.h"
#include "disclosure/log.h"
#include "disclosure/offender.h" /* utf8_valid() */
#include "disclosured.h"

bool check_id_valid(const char *id)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

	if (strncmp(id, "chk_", 4) != 0 || strlen(id) != CHECK_ID_LEN)
		return false;
	for (const char *p = id + 4; *p; p++)
		if (strchr(alphabet, *p) == NULL)
			return false;
	return true;
}

int check_load(struct worker *w, const char *check_id, json_t **out, struct dsc_error *err)
{
	const void *val;
	size_t len;
	json_error_t jerr;
	int rc;

	if ((rc = store_read_begin(w->reader, err)) != DSC_OK)
		return rc;
	rc = store_get(w->reader, STORE_CHECKS, check_id, strlen(check_id), &val, &len);
	if (rc == DSC_OK) {
		/* Parsed (copied) before the transaction ends. */
		*out = json_loadb(val, len, 0, &jerr);
		if (*out == NULL)
			rc = dsc_error_set(err, DSC_EINTERNAL, "stored check %s is damaged: %s",
					   check_id, jerr.text);
	} else if (rc == DSC_ENOTFOUND) {
		dsc_error_set(err, rc, "no check %s", check_id);
	} else {
		dsc_error_set(err, rc, "reading check %s failed", check_id);
	}
	store_read_end(w->reader);
	return rc;
}

bool check_readable(const struct principal *p, const json_t *check, bool officer_only)
{
	const char *owner = json_string_value(json_object_get(check, "principal"));
	const char *force = json_string_value(json_object_get(check, "force"));

	if (principal_has(p, ROLE_DISCLOSURE_OFFICER) &&
	    (principal_national(p) || (force != NULL && strcmp(force, p->force) == 0)))
		return true;
	if (officer_only)
		return false;
	if (principal_has(p, ROLE_AUDITOR))
		return true;
	return owner != NULL && strcmp(owner, p->id) == 0 &&
	       principal_has(p, ROLE_CASEWORKER | ROLE_DISCLOSURE_OFFICER);
}

/* The check's candidate offender_id, or NULL. */
static const json_t *check_candidate(const json_t *check, const char *offender_id)
{
	const json_t *cands = json_object_get(json_object_get(check, "response"), "candidates");
	json_t *c;
	size_t i;

	json_array_foreach(cands, i, c) {
		const char *id = json_string_value(json_object_get(c, "offender_id"));
		if (id != NULL && strcmp(id, offender_id) == 0)
			return c;
	}
	return NULL;
}

bool check_has_candidate(const json_t *check, const char *offender_id)
{
	return check_candidate(check, offender_id) != NULL;
}

/* ---- POST /v1/checks ---- */

static json_t *str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string_lossy(s) : json_null();
}

static void checks_create_done(struct job *j)
{
	if (j->status == 200)
		metrics_check_outcome(&j->w->metrics, j->outcome);
	job_respond(j);
}

/*
 * format_time_ms() of ms, which costs a gmtime_r() and a printf: the
 * part up to the seconds is made by it once a second (per worker
 * thread), the milliseconds are written here.
 */
static void created_time(int64_t ms, char out[32])
{
	static _Thread_local int64_t cached_sec = -1;
	static _Thread_local char cached[32];
	unsigned milli;

	if (ms < 0) {
		format_time_ms(ms, out);
		return;
	}
	if (ms / 1000 != cached_sec) {
		format_time_ms(ms, cached);
		/* Only "YYYY-MM-DDTHH:MM:SS.mmmZ" is cut at the same places. */
		if (strlen(cached) != 24 || cached[19] != '.') {
			cached_sec = -1;
			memcpy(out, cached, 32);
			return;
		}
		cached_sec = ms / 1000;
	}
	milli = (unsigned)(ms % 1000);
	memcpy(out, cached, 20);
	out[20] = (char)('0' + milli / 100);
	out[21] = (char)('0' + milli / 10 % 10);
	out[22] = (char)('0' + milli % 10);
	out[23] = 'Z';
	out[24] = '\0';
}

/* A string of the audit entry as json_string_lossy() would make it. */
static void audit_str_lossy(struct audit_members *m, const char *s)
{
	json_t *lossy;
	const char *v;

	if (utf8_valid(s, strlen(s))) {
		audit_members_string(m, s, strlen(s));
		return;
	}
	lossy = json_string_lossy(s);
	v = lossy != NULL ? json_string_value(lossy) : NULL;
	if (v == NULL) {
		if (m->rc == DSC_OK)
			m->rc = DSC_ENOMEM;
	} else {
		audit_members_string(m, v, strlen(v));
	}
	json_decref(lossy);
}

#define AUDIT_LIT(m, lit) audit_members_raw(m, lit, sizeof(lit) - 1)

/*
 * The check's members of its audit entry, written as text: what the
 * tree of case_ref, purpose, justification, query (the subject) and
 * result (ids, bands, scores, managing forces and what the caller was
 * shown of each) would encode to, members that the
 * tree of j->audit used to carry last.  Building that tree cost a
 * hundred allocations per check, freed again after one walk.
 */
static int check_audit_members(struct job *j, const struct check_request *cr,
			       const struct check_result *res)
{
	struct audit_members *m = &j->audit_more;

	audit_members_key(m, "case_ref");
	audit_members_string(m, cr->case_ref, strlen(cr->case_ref));
	audit_members_key(m, "purpose");
	audit_members_string(m, purpose_name(cr->purpose), strlen(purpose_name(cr->purpose)));
	audit_members_key(m, "justification");
	audit_members_string(m, cr->justification, strlen(cr->justification));
	audit_members_key(m, "query");
	check_subject_audit(&cr->subject, m);
	audit_members_key(m, "result");
	AUDIT_LIT(m, "{\"check_id\":");
	audit_members_string(m, j->check_id, strlen(j->check_id));
	audit_members_key(m, "outcome");
	audit_members_string(m, band_name(res->outcome), strlen(band_name(res->outcome)));
	audit_members_key(m, "candidates");
	AUDIT_LIT(m, "[");
	for (size_t i = 0; i < res->n_candidates; i++) {
		const struct candidate *c = &res->candidates[i];

		if (i > 0)
			AUDIT_LIT(m, ",");
		AUDIT_LIT(m, "{\"offender_id\":");
		audit_str_lossy(m, c->offender_id);
		audit_members_key(m, "band");
		audit_members_string(m, band_name(c->band), strlen(band_name(c->band)));
		audit_members_key(m, "score");
		audit_members_real(m, (double)(long long)(c->score * 100.0 + 0.5) / 100.0);
		/* What the caller was shown of it: the whole candidate, or
		 * (another force's record) its summary only. */
		audit_members_key(m, "managing_force");
		audit_str_lossy(m, c->managing_force);
		audit_members_key(m, "shown");
		if (check_candidate_visible(c, &j->p))
			AUDIT_LIT(m, "\"full\"");
		else
			AUDIT_LIT(m, "\"summary\"");
		AUDIT_LIT(m, "}");
	}
	AUDIT_LIT(m, "]");
	audit_members_key(m, "more_candidates");
	if (res->more_candidates)
		AUDIT_LIT(m, "true");
	else
		AUDIT_LIT(m, "false");
	AUDIT_LIT(m, "}");
	if (m->rc != DSC_OK) {
		audit_members_release(m);
		return DSC_EINVAL;
	}
	return DSC_OK;
}

/*
 * The check's members of its audit entry as members of the tree, as they
 * were before the text: for the entries of a check that failed (and for
 * a subject the text cannot hold, which the tree then records as null).
 */
static void check_audit_tree(struct job *j, const struct check_request *cr)
{
	json_t *query = check_subject_to_json(&cr->subject);

	audit_members_release(&j->audit_more);
	json_object_set_new(j->audit, "case_ref", json_string(cr->case_ref));
	json_object_set_new(j->audit, "purpose", json_string(purpose_name(cr->purpose)));
	json_object_set_new(j->audit, "justification", json_string(cr->justification));
	json_object_set_new(j->audit, "query", query != NULL ? query : json_null());
}

/*
 * A check refused for its body: what it asked, as far as it can be read
 * (docs/audit-format.md, "sent").  A check refused for its purpose
 * ("curiosity") with the justification "looking up my ex" left no trace
 * of either.  The members case_ref, purpose, justification and subject as
 * sent, whatever JSON they hold, when the body is a JSON object in UTF-8
 * of at most SENT_MAX bytes (its line then stays far under the log's
 * 1 MiB, each byte escaped to six at most); nothing when it is not JSON.
 */
#define SENT_MAX (64 * 1024)

static void check_audit_refused(struct job *j, const char *body, size_t len)
{
	static const char *const keys[] = {"case_ref", "purpose", "justification", "subject"};
	json_t *o, *sent;

	if (j->audit == NULL || body == NULL)
		return;
	if (len > SENT_MAX) {
		json_object_set_new(j->audit, "sent", json_string("not recorded: the body is over 64 KiB"));
		return;
	}
	o = json_loadb(body, len, 0, NULL);
	if (!json_is_object(o) || (sent = json_object()) == NULL) {
		json_decref(o);
		return;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(o, keys[i]);

		if (v != NULL)
			json_object_set(sent, keys[i], v);
	}
	json_object_set_new(j->audit, "sent", sent);
	json_decref(o);
}

/*
 * Builds the stored check and the caller's answer as text (check_json.c),
 * and the audit entry's members of the check (check_audit_members()).
 */
static int check_build(struct job *j, const struct check_request *cr,
		       const struct check_result *res)
{
	struct check_json_fields f;
	struct jbuf b = {0};
	char created[32];
	int rc = DSC_ENOMEM;

	created_time(now_ms(), created);
	memset(&f, 0, sizeof(f));
	f.check_id = j->check_id;
	f.created = created;
	f.principal = j->p.id;
	f.force = j->p.force;
	f.case_ref = cr->case_ref;
	f.purpose = purpose_name(cr->purpose);
	f.justification = cr->justification;
	f.subject_s = &cr->subject;
	if ((rc = check_json_stored(&b, &f, res)) != DSC_OK ||
	    (j->store_val = jbuf_steal(&b, &j->store_len)) == NULL) {
		rc = rc != DSC_OK ? rc : DSC_ENOMEM;
		goto out;
	}
	rc = DSC_ENOMEM;
	if (check_json_answer(&b, j->check_id, res, &j->p) != DSC_OK ||
	    (j->answer = jbuf_steal(&b, &j->answer_len)) == NULL)
		goto out;
	if ((rc = check_audit_members(j, cr, res)) != DSC_OK)
		goto out;
	j->want_receipt = true;
	j->outcome = res->outcome;
	rc = DSC_OK;
out:
	jbuf_release(&b);
	return rc;
}

void checks_create(struct job *j, struct evhttp_request *req)
{
	struct check_request cr;
	struct check_result *res;
	struct dsc_error err;
	const char *body;
	size_t len;
	int rc;

	j->kind = JOB_CHECK_CREATE;
	if (!require_role(j, ROLE_CASEWORKER | ROLE_DISCLOSURE_OFFICER))
		return;
	if (!require_content_type(j, req, "application/json"))
		return;
	if (!require_body(j, req, j->d->cfg->server.max_body, &body, &len))
		return;
	memset(&cr, 0, sizeof(cr));
	if (check_request_parse(body, len, &cr, &err) != DSC_OK) {
		job_error_from(j, &err);
		check_audit_refused(j, body, len);
		job_submit(j);
		return;
	}
	res = j->w->check_res;
	/* The read transaction lives only around the match: never across a
	 * wait on the client or the writer. */
	rc = store_read_begin(j->w->reader, &err);
	if (rc == DSC_OK) {
		rc = match_run(j->w->mctx, j->w->reader, &cr.subject, res, &err);
		store_read_end(j->w->reader);
	}
	if (rc == DSC_EINVAL) {
		/* The request, not the daemon: names with no letter. */
		check_audit_tree(j, &cr);
		check_request_release(&cr);
		job_error_from(j, &err);
		job_submit(j);
		return;
	}
	if (rc != DSC_OK) {
		log_warnx("request %s: check failed: %s", j->request_id, err.msg);
		check_audit_tree(j, &cr);
		check_request_release(&cr);
		job_error(j, 500, "internal", NULL, "the check could not be run; the log has the details");
		job_submit(j);
		return;
	}
	/* Counted here: res is the worker's, and the next check reuses it
	 * before this one's answer leaves. */
	metrics_check_work(&j->w->metrics, res);
	memcpy(j->check_id, "chk_", 4);
	worker_new_id(j->w, j->check_id + 4);
	rc = check_build(j, &cr, res);
	if (rc != DSC_OK) {
		/* Out of memory, or a subject the text cannot hold (where the
		 * tree, too, had none): the entry as the trees made it. */
		check_audit_tree(j, &cr);
		check_request_release(&cr);
		job_error(j, 503, "unavailable", NULL, "out of memory");
		j->status = 503;
		job_submit(j);
		return;
	}
	check_request_release(&cr);
	j->finish = checks_create_done;
	job_submit(j);
}

/* ---- GET /v1/checks/{id} ---- */

/* The stored check as this reader may see it. */
static json_t *check_for_reader(const json_t *check, const struct principal *p)
{
	json_t *out = json_copy((json_t *)check), *resp, *filtered;
	const json_t *cands;

	if (out == NULL)
		return NULL;
	resp = json_copy(json_object_get(check, "response"));
	if (resp != NULL) {
		cands = json_object_get(resp, "candidates");
		filtered = candidates_filter(cands, p);
		if (filtered != NULL)
			json_object_set_new(resp, "candidates", filtered);
		json_object_set_new(out, "response", resp);
	}
	return out;
}

/* Loads the check or sets the error answer (404, 403, 503). */
static json_t *check_for(struct job *j, const char *id, bool officer_only)
{
	struct dsc_error err;
	json_t *check = NULL;
	int rc;

	if (!check_id_valid(id)) {
		job_error(j, 404, "not_found", NULL, "no check %s", id);
		return NULL;
	}
	rc = check_load(j->w, id, &check, &err);
	if (rc == DSC_ENOTFOUND) {
		job_error(j, 404, "not_found", NULL, "no check %s", id);
		return NULL;
	}
	if (rc != DSC_OK) {
		log_warnx("request %s: %s", j->request_id, err.msg);
		job_error(j, 503, "unavailable", NULL, "the store could not be read; try again");
		return NULL;
	}
	if (!check_readable(&j->p, check, officer_only)) {
		json_decref(check);
		job_error(j, 403, "forbidden", NULL, "principal '%s' may not %s check %s", j->p.id,
			  officer_only ? "decide" : "read", id);
		return NULL;
	}
	return check;
}

void checks_get(struct job *j, const char *id)
{
	json_t *check;

	j->kind = JOB_AUDIT;
	json_object_set_new(j->audit, "check_id", json_string_lossy(id));
	if (!require_role(j, ROLE_CASEWORKER | ROLE_DISCLOSURE_OFFICER | ROLE_AUDITOR))
		return;
	check = check_for(j, id, false);
	if (check != NULL) {
		j->resp = check_for_reader(check, &j->p);
		json_decref(check);
		if (j->resp == NULL)
			job_error(j, 503, "unavailable", NULL, "out of memory");
		else
			j->want_receipt = true;
	}
	job_submit(j);
}

/* ---- POST /v1/checks/{id}/decision ---- */

static void checks_decide_done(struct job *j)
{
	if (j->status == 200 && !j->failed) {
		json_decref(j->resp);
		j->resp = json_object();
		if (j->resp != NULL) {
			json_object_set_new(j->resp, "check_id", json_string(j->check_id));
			json_object_set(j->resp, "decision", j->decision);
			j->want_receipt = true;
		}
	}
	job_respond(j);
}

void checks_decide(struct job *j, struct evhttp_request *req, const char *id)
{
	struct decision_request dr;
	struct dsc_error err;
	const char *body;
	const json_t *cand;
	json_t *check, *dec, *audit_dec;
	char at[32];
	size_t len;

	j->kind = JOB_DECISION;
	json_object_set_new(j->audit, "check_id", json_string_lossy(id));
	if (!require_role(j, ROLE_DISCLOSURE_OFFICER))
		return;
	check = check_for(j, id, true);
	if (check == NULL) {
		job_submit(j);
		return;
	}
	if (!require_content_type(j, req, "application/json") ||
	    !require_body(j, req, j->d->cfg->server.max_body, &body, &len)) {
		json_decref(check);
		return;
	}
	memset(&dr, 0, sizeof(dr));
	if (decision_request_parse(body, len, &dr, &err) != DSC_OK) {
		json_decref(check);
		job_error_from(j, &err);
		job_submit(j);
		return;
	}
	cand = dr.offender_id != NULL ? check_candidate(check, dr.offender_id) : NULL;
	if (dr.offender_id != NULL && cand == NULL) {
		json_decref(check);
		job_error(j, 400, "invalid_field", "offender_id",
			  "offender_id: '%s' was not a candidate of check %s", dr.offender_id, id);
		decision_request_release(&dr);
		job_submit(j);
		return;
	}
	if (dr.offender_id != NULL && dr.decision != DECISION_REFER && !principal_national(&j->p)) {
		/* A record of another force, which this officer sees only in
		 * summary and may not read: whether to disclose it is that
		 * force's to decide; this one refers the case to it. */
		const char *force = json_string_value(json_object_get(cand, "managing_force"));

		if (force == NULL || strcmp(force, j->p.force) != 0) {
			job_error(j, 403, "forbidden", NULL,
				  "record %s is managed by another force (%s): only that force "
				  "decides on it; record the decision 'refer' to pass the case on",
				  dr.offender_id, force != NULL ? force : "unknown");
			json_decref(check);
			decision_request_release(&dr);
			job_submit(j);
			return;
		}
	}
	json_decref(check);
	format_time_ms(now_ms(), at);
	dec = json_object();
	audit_dec = json_object();
	if (dec == NULL || audit_dec == NULL) {
		json_decref(dec);
		json_decref(audit_dec);
		decision_request_release(&dr);
		job_error(j, 503, "unavailable", NULL, "out of memory");
		job_submit(j);
		return;
	}
	json_object_set_new(dec, "decision", json_string(decision_name(dr.decision)));
	json_object_set_new(dec, "offender_id", str_or_null(dr.offender_id));
	json_object_set_new(dec, "recipient", str_or_null(dr.recipient));
	json_object_set_new(dec, "rationale", str_or_null(dr.rationale));
	json_object_update(audit_dec, dec);
	json_object_set_new(dec, "decided_by", json_string_lossy(j->p.id));
	json_object_set_new(dec, "decided_at", json_string(at));
	json_object_set_new(j->audit, "decision", audit_dec);
	decision_request_release(&dr);
	snprintf(j->check_id, sizeof(j->check_id), "%s", id);
	j->decision = dec;
	j->finish = checks_decide_done;
	job_submit(j);
}
