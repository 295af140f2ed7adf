/*
 * router.c - every request's way in and out: it refuses a connection that
 * is not TLS, finds the principal (once per connection), refuses
 * smuggling attempts, applies the rate limit, routes by path and method
 * (404, 405 with Allow), and hands the request to its endpoint's handler
 * as a job.  It also holds the helpers every handler uses to answer:
 * errors in the contract's shape, X-Request-Id, the audit receipt.
 *
 * Never: serve a request on a connection without a verified TLS session;
 * send an audited answer other than through the writer (job_submit).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "disclosure/log.h"
#include "disclosured.h"

#define ROUTE_ID_MAX 128 /* longest path segment taken as an id */

const char *endpoint_name(enum endpoint ep)
{
	switch (ep) {
	case EP_HEALTHZ: return "/healthz";
	case EP_METRICS: return "/metrics";
	case EP_CHECKS: return "/v1/checks";
	case EP_CHECK: return "/v1/checks/{id}";
	case EP_CHECK_DECISION: return "/v1/checks/{id}/decision";
	case EP_OFFENDER: return "/v1/offenders/{id}";
	case EP_OFFENDERS_BULK: return "/v1/offenders/_bulk";
	case EP_AUDIT: return "/v1/audit";
	case EP_AUDIT_CHECKPOINT: return "/v1/audit/checkpoint";
	default: return "other";
	}
}

/* ---- jobs ---- */

struct job *job_new(struct daemon *d, struct worker *w)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->d = d;
	j->w = w;
	j->status = 200;
	return j;
}

void job_free(struct job *j)
{
	if (j == NULL)
		return;
	json_decref(j->audit);
	audit_members_release(&j->audit_more);
	json_decref(j->resp);
	json_decref(j->decision);
	if (j->body != NULL)
		evbuffer_free(j->body);
	free(j->store_val);
	free(j->answer);
	free(j->checkpoint_line);
	offender_free(j->offender);
	if (j->bulk != NULL) {
		for (size_t i = 0; j->bulk_arena == NULL && i < j->n_bulk; i++) {
			offender_free(j->bulk[i]);
			if (j->bulk_prep != NULL)
				store_prepared_free(j->bulk_prep[i]);
		}
		free(j->bulk);
	}
	free(j->bulk_prep);
	dsc_arena_free(j->bulk_arena);
	free(j);
}

json_t *json_string_lossy(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char buf[REQUEST_PATH_MAX * 3 + 1];
	json_t *v = json_string(s);
	size_t n = 0;

	if (v != NULL)
		return v;
	for (const unsigned char *p = (const unsigned char *)s; *p && n + 4 < sizeof(buf); p++) {
		if (*p >= 0x20 && *p < 0x7f) {
			buf[n++] = (char)*p;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[*p >> 4];
			buf[n++] = hex[*p & 15];
		}
	}
	buf[n] = '\0';
	return json_string(buf);
}

/* Who made a request, as its audit entry records it: principal, cn,
 * roles and force (new references; a NULL where memory ran out). */
enum { WHO_PRINCIPAL, WHO_CN, WHO_CERT, WHO_ROLES, WHO_FORCE, WHO_N };

static void who_values(json_t *who[WHO_N], bool known, const struct principal *p, const char *cn,
		       const char *cert)
{
	json_t *roles = json_array();

	if (roles != NULL && known) {
		for (unsigned bit = 1; bit <= ROLE_MONITOR; bit <<= 1)
			if ((p->roles & bit) &&
			    json_array_append_new(roles, json_string(role_name((enum role)bit))) != 0) {
				json_decref(roles);
				roles = NULL;
				break;
			}
	}
	who[WHO_PRINCIPAL] = known ? json_string_lossy(p->id) : json_null();
	who[WHO_CN] = cn[0] ? json_string_lossy(cn) : json_null();
	who[WHO_CERT] = cert[0] ? json_string(cert) : json_null();
	who[WHO_ROLES] = roles;
	who[WHO_FORCE] = known ? json_string_lossy(p->force) : json_null();
}

static void who_release(json_t *who[WHO_N])
{
	for (size_t i = 0; i < WHO_N; i++) {
		json_decref(who[i]);
		who[i] = NULL;
	}
}

/* The audit entry's first members, in the agreed order, with who made
 * the request (borrowed: the entry takes references of its own). */
static int audit_start(struct job *j, json_t *const who[WHO_N], const char *action, const char *method,
		       const char *path)
{
	char trimmed[REQUEST_PATH_MAX + 1];
	size_t n = strnlen(path, REQUEST_PATH_MAX);
	json_t *a;

	for (size_t i = 0; i < WHO_N; i++)
		if (who[i] == NULL)
			return DSC_ENOMEM;
	if ((a = json_object()) == NULL)
		return DSC_ENOMEM;
	memcpy(trimmed, path, n);
	trimmed[n] = '\0';
	json_object_set_new(a, "request_id", json_string(j->request_id));
	json_object_set(a, "principal", who[WHO_PRINCIPAL]);
	json_object_set(a, "cn", who[WHO_CN]);
	json_object_set(a, "cert_sha256", who[WHO_CERT]);
	json_object_set(a, "roles", who[WHO_ROLES]);
	json_object_set(a, "force", who[WHO_FORCE]);
	json_object_set_new(a, "action", json_string(action));
	json_object_set_new(a, "method", json_string(method));
	json_object_set_new(a, "path", json_string_lossy(trimmed));
	json_object_set_new(a, "status", json_integer(0));
	j->audit = a;
	return DSC_OK;
}

int job_audit_begin(struct job *j, const char *action, const char *method, const char *path)
{
	json_t *who[WHO_N];
	int rc;

	who_values(who, j->known, &j->p, j->cn, j->cert_sha256);
	rc = audit_start(j, who, action, method, path);
	who_release(who);
	return rc;
}

void conn_audit_release(struct conn *c)
{
	who_release(c->audit_vals);
}

/*
 * job_audit_begin() for a request of connection c (whose principal j
 * carries): the same members, with the connection's own who shared by
 * its requests rather than made for every one, and made again only when
 * what it was made from may have changed (an ACL reload, the principal
 * becoming known).
 */
static int job_audit_begin_conn(struct job *j, struct conn *c, const char *action,
				const char *method, const char *path)
{
	if (c->audit_vals[WHO_PRINCIPAL] == NULL || c->audit_vals_gen != c->acl_gen ||
	    c->audit_vals_known != c->known) {
		conn_audit_release(c);
		who_values(c->audit_vals, c->known, &c->principal, c->cn, c->cert_sha256);
		c->audit_vals_gen = c->acl_gen;
		c->audit_vals_known = c->known;
	}
	if (audit_start(j, c->audit_vals, action, method, path) == DSC_OK)
		return DSC_OK;
	conn_audit_release(c); /* out of memory: made again next time */
	return job_audit_begin(j, action, method, path);
}

void job_set_action(struct job *j, const char *action)
{
	if (j->audit != NULL)
		json_object_set_new(j->audit, "action", json_string(action));
}

static const char *error_code_of(int status)
{
	switch (status) {
	case 400: return "invalid_field";
	case 403: return "forbidden";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 409: return "conflict";
	case 413: return "payload_too_large";
	case 415: return "unsupported_media_type";
	case 429: return "too_many_requests";
	case 503: return "unavailable";
	default: return "internal";
	}
}

static void job_error_set(struct job *j, int status, const char *code, const char *field,
			  const char *msg)
{
	json_t *e;

	if (code == NULL)
		code = error_code_of(status);
	json_decref(j->resp);
	j->resp = NULL;
	free(j->answer);
	j->answer = NULL;
	if (j->body != NULL) {
		evbuffer_free(j->body);
		j->body = NULL;
	}
	j->content_type = NULL;
	j->want_receipt = false;
	j->status = status;
	e = json_object();
	if (e != NULL) {
		json_object_set_new(e, "code", json_string(code));
		json_object_set_new(e, "message", json_string_lossy(msg));
		if (field != NULL && field[0] != '\0')
			json_object_set_new(e, "field", json_string_lossy(field));
		j->resp = json_object();
		if (j->resp != NULL)
			json_object_set_new(j->resp, "error", e);
		else
			json_decref(e);
	}
	if (j->audit != NULL) {
		/* And why, in the words the client was given: a refusal's code
		 * alone ("forbidden") does not tell an auditor an officer's
		 * attempt on another force's record from a role's. */
		json_object_set_new(j->audit, "error", json_string(code));
		json_object_set_new(j->audit, "error_message", json_string_lossy(msg));
		if (field != NULL && field[0] != '\0')
			json_object_set_new(j->audit, "error_field", json_string_lossy(field));
	}
}

void job_error(struct job *j, int status, const char *code, const char *field, const char *fmt,
	       ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	job_error_set(j, status, code, field, msg);
}

void job_error_from(struct job *j, const struct dsc_error *e)
{
	switch (e->code) {
	case DSC_EJSON:
		job_error_set(j, 400, "invalid_json", NULL, e->msg);
		break;
	case DSC_EINVAL:
		job_error_set(j, 400, "invalid_field", e->field, e->msg);
		break;
	case DSC_ETOOBIG:
		job_error_set(j, 413, "payload_too_large", e->field, e->msg);
		break;
	case DSC_ENOTFOUND:
		job_error_set(j, 404, "not_found", NULL, e->msg);
		break;
	case DSC_ECONFLICT:
		job_error_set(j, 409, "conflict", e->field, e->msg);
		break;
	case DSC_EFULL:
	case DSC_EIO:
		job_error_set(j, 503, "unavailable", NULL, "the store is unavailable; try again later");
		break;
	default:
		job_error_set(j, 500, "internal", NULL, "internal error; the log has the details");
		break;
	}
}

void job_submit(struct job *j)
{
	if (j->audit == NULL) {
		job_respond(j);
		return;
	}
	/* Queued for the end of this pass of the event loop: the writer then
	 * commits every request of the pass at once (server.c). */
	j->w->inflight++;
	j->next = NULL;
	if (j->w->submit_tail != NULL)
		j->w->submit_tail->next = j;
	else
		j->w->submit_head = j;
	j->w->submit_tail = j;
}

static int dump_to_evbuffer(const char *buffer, size_t size, void *data)
{
	return evbuffer_add(data, buffer, size);
}

/* ,"audit":{"seq":N,"hash":"<hex>"}} and the newline that end a text
 * answer, written without printf (one per check).  Returns its length. */
#define RECEIPT_HEAD ",\"audit\":{\"seq\":"
#define RECEIPT_MID ",\"hash\":\""
#define RECEIPT_TAIL "\"}}\n"
#define RECEIPT_TEXT_MAX (sizeof(RECEIPT_HEAD RECEIPT_MID RECEIPT_TAIL) + 20 + AUDIT_HASH_HEX)

static size_t receipt_text(char out[RECEIPT_TEXT_MAX], uint64_t seq, const char *hash)
{
	char digits[20], *d = digits + sizeof(digits);
	size_t n = 0, dn;

	do {
		*--d = (char)('0' + seq % 10);
		seq /= 10;
	} while (seq > 0);
	dn = (size_t)(digits + sizeof(digits) - d);
	memcpy(out, RECEIPT_HEAD, sizeof(RECEIPT_HEAD) - 1);
	n += sizeof(RECEIPT_HEAD) - 1;
	memcpy(out + n, d, dn);
	n += dn;
	memcpy(out + n, RECEIPT_MID, sizeof(RECEIPT_MID) - 1);
	n += sizeof(RECEIPT_MID) - 1;
	memcpy(out + n, hash, AUDIT_HASH_HEX);
	n += AUDIT_HASH_HEX;
	memcpy(out + n, RECEIPT_TAIL, sizeof(RECEIPT_TAIL) - 1);
	return n + sizeof(RECEIPT_TAIL) - 1;
}

/* The largest answer made into one TLS record (TLS's own limit). */
#define ONE_RECORD_MAX 16384

/*
 * An answer to HEAD is the head alone (RFC 9110 9.3.2): evhttp 2.1 would
 * send the body after it, with no length, and a keep-alive client would
 * read it as the next answer.  The length is the one a GET would get.
 */
static void head_no_body(struct evhttp_request *req, struct evbuffer *buf)
{
	char n[24];

	if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		return;
	snprintf(n, sizeof(n), "%zu", evbuffer_get_length(buf));
	evhttp_remove_header(evhttp_request_get_output_headers(req), "Content-Length");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", n);
	evbuffer_drain(buf, evbuffer_get_length(buf));
}

void job_respond(struct job *j)
{
	struct evhttp_request *req = j->req;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = j->w->scratch;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
	struct evbuffer *wire;
	char seq[24];

	evbuffer_drain(buf, evbuffer_get_length(buf));
	evhttp_add_header(out, "X-Request-Id", j->request_id);
	evhttp_add_header(out, "Cache-Control", "no-store");
	if (j->allow != NULL)
		evhttp_add_header(out, "Allow", j->allow);
	if (j->close)
		evhttp_add_header(out, "Connection", "close");
	/* The receipt of every audited answer, reads and refusals included
	 * (the body carries it too where the contract puts it there).  Not to
	 * a stranger: the position of the log would tell it how many
	 * consultations are being made. */
	if (j->receipt && j->known) {
		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)j->receipt_seq);
		evhttp_add_header(out, "X-Audit-Seq", seq);
		evhttp_add_header(out, "X-Audit-Hash", j->receipt_hash);
	}
	if (j->body != NULL) {
		evhttp_add_header(out, "Content-Type",
				  j->content_type ? j->content_type : "application/json");
		evbuffer_add_buffer(buf, j->body);
	} else if (j->answer != NULL) {
		/* A text written by its handler without its closing brace. */
		evhttp_add_header(out, "Content-Type",
				  j->content_type ? j->content_type : "application/json");
		evbuffer_add(buf, j->answer, j->answer_len);
		if (j->want_receipt && j->receipt) {
			char r[RECEIPT_TEXT_MAX];

			evbuffer_add(buf, r, receipt_text(r, j->receipt_seq, j->receipt_hash));
		} else {
			evbuffer_add(buf, "}\n", 2);
		}
	} else if (j->resp != NULL) {
		if (j->want_receipt && j->receipt && json_is_object(j->resp)) {
			json_t *r = json_object();
			if (r != NULL) {
				json_object_set_new(r, "seq", json_integer((json_int_t)j->receipt_seq));
				json_object_set_new(r, "hash", json_string(j->receipt_hash));
				json_object_set_new(j->resp, "audit", r);
			}
		}
		evhttp_add_header(out, "Content-Type",
				  j->content_type ? j->content_type : "application/json");
		if (json_dump_callback(j->resp, dump_to_evbuffer, buf,
				       JSON_COMPACT | JSON_REAL_PRECISION(10)) != 0) {
			log_warnx("request %s: could not encode the answer", j->request_id);
			evbuffer_drain(buf, evbuffer_get_length(buf));
			evbuffer_add_printf(buf, "{\"error\":{\"code\":\"internal\",\"message\":"
						 "\"could not encode the answer\"}}");
			j->status = 500;
		}
		evbuffer_add(buf, "\n", 1);
	}
	if (evhttp_request_get_command(req) == EVHTTP_REQ_CONNECT) {
		/* Only when guard.c had stopped following the connection (it
		 * hands every other CONNECT on as an unknown method): evhttp
		 * frames no answer to a CONNECT (it expects a tunnel) and keeps
		 * the connection whatever Connection says, so the length, or
		 * the client could not tell where the answer ends. */
		char n[24];
		snprintf(n, sizeof(n), "%zu", evbuffer_get_length(buf));
		evhttp_add_header(out, "Content-Length", n);
	}
	if (bev != NULL) {
		struct conn *c = tls_conn(bufferevent_openssl_get_ssl(bev));
		if (c != NULL)
			guard_request_out(c);
	}
	head_no_body(req, buf);
	evhttp_send_reply(req, j->status, NULL, buf);
	/* evhttp leaves the head and the body in separate chains, and the TLS
	 * bufferevent writes each chain as its own record and write(2): one
	 * chain makes a small answer one record, one segment, one syscall. */
	wire = bev != NULL ? bufferevent_get_output(bev) : NULL;
	if (wire != NULL && evbuffer_get_length(wire) <= ONE_RECORD_MAX)
		evbuffer_pullup(wire, -1);
	metrics_request_done(&j->w->metrics, j->ep, j->status, mono_ns() - j->start_ns);
	/* Ids and statuses only: never a name or a date of birth. */
	log_debug("request %s %s %s -> %d%s", j->request_id, j->known ? j->p.id : "-",
		  endpoint_name(j->ep), j->status, j->receipt ? " (audited)" : "");
	job_free(j);
}

/* ---- helpers for handlers ---- */

bool require_role(struct job *j, unsigned roles)
{
	if (principal_has(&j->p, roles))
		return true;
	job_error(j, 403, "forbidden", NULL, "principal '%s' may not use %s", j->p.id,
		  endpoint_name(j->ep));
	job_submit(j);
	return false;
}

/*
 * The charset parameter of a media type's parameters (after the first ';'),
 * unquoted, into out.  RFC 9110 5.6.6: name=value pairs, the value a token
 * or a quoted string, in which a backslash quotes the next character.
 * Returns the number of charset parameters (a second one is ambiguous).
 */
static int media_charset(const char *p, char *out, size_t cap)
{
	int found = 0;

	while (p != NULL && *p != '\0') {
		const char *name;
		size_t nlen, o = 0;
		bool is_charset;

		p += strspn(p, "; \t");
		name = p;
		nlen = strcspn(p, "=; \t");
		p += nlen;
		p += strspn(p, " \t");
		if (*p != '=') {
			p = strchr(p, ';');
			continue;
		}
		p += 1 + strspn(p + 1, " \t");
		is_charset = nlen == 7 && strncasecmp(name, "charset", 7) == 0;
		if (is_charset && found++ > 0)
			return found;
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (is_charset && o + 1 < cap)
					out[o++] = *p;
			}
			if (*p == '"')
				p++;
		} else {
			for (; *p != '\0' && *p != ';' && *p != ' ' && *p != '\t'; p++)
				if (is_charset && o + 1 < cap)
					out[o++] = *p;
		}
		if (is_charset && cap > 0)
			out[o] = '\0';
		p = strchr(p, ';');
	}
	return found;
}

/*
 * The body's media type must be want, in UTF-8 (the only charset the
 * parsers read: a body in another would be read as UTF-8 all the same),
 * named once, and not compressed or otherwise encoded (RFC 9110 15.5.16:
 * 415 for a content coding the server does not take).  Other parameters
 * are ignored.
 */
bool require_content_type(struct job *j, struct evhttp_request *req, const char *want)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *ct = NULL, *other = NULL, *coding = NULL;
	struct evkeyval *kv;
	size_t n, wl = strlen(want);
	char charset[32];

	TAILQ_FOREACH(kv, h, next) {
		if (strcasecmp(kv->key, "Content-Type") == 0) {
			if (ct == NULL)
				ct = kv->value;
			else if (other == NULL)
				other = kv->value;
		} else if (strcasecmp(kv->key, "Content-Encoding") == 0 && coding == NULL) {
			const char *v = kv->value + strspn(kv->value, " \t");
			size_t vn = strlen(v);
			while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
				vn--;
			if (vn > 0 && !(vn == 8 && strncasecmp(v, "identity", 8) == 0))
				coding = v;
		}
	}
	if (other != NULL) {
		job_error(j, 415, "unsupported_media_type", NULL,
			  "two Content-Type headers ('%s' and '%s'): send one, %s", ct, other, want);
		job_submit(j);
		return false;
	}
	if (coding != NULL) {
		job_error(j, 415, "unsupported_media_type", NULL,
			  "Content-Encoding '%s' is not taken here: send the body as plain %s", coding,
			  want);
		job_submit(j);
		return false;
	}
	if (ct != NULL) {
		while (*ct == ' ' || *ct == '\t')
			ct++;
		n = strcspn(ct, "; \t");
		if (n == wl && strncasecmp(ct, want, wl) == 0) {
			int charsets = media_charset(strchr(ct + n, ';'), charset, sizeof(charset));

			if (charsets == 0 || (charsets == 1 && (strcasecmp(charset, "utf-8") == 0 ||
								strcasecmp(charset, "utf8") == 0)))
				return true;
			if (charsets > 1)
				job_error(j, 415, "unsupported_media_type", NULL,
					  "the Content-Type names a charset twice: name one, UTF-8");
			else
				job_error(j, 415, "unsupported_media_type", NULL,
					  "the body must be UTF-8 text, not charset=%s", charset);
			job_submit(j);
			return false;
		}
	}
	job_error(j, 415, "unsupported_media_type", NULL, "the body must be %s%s%s", want,
		  ct ? ", not " : "", ct ? ct : "");
	job_submit(j);
	return false;
}

bool require_length(struct job *j, struct evhttp_request *req, size_t limit)
{
	const char *declared =
		evhttp_find_header(evhttp_request_get_input_headers(req), DECLARED_LENGTH_HEADER);
	size_t n = evbuffer_get_length(evhttp_request_get_input_buffer(req));

	if (declared != NULL) {
		job_error(j, 413, "payload_too_large", NULL,
			  "the body would have %s bytes; at most %zu are taken here", declared, limit);
		j->close = true;
		job_submit(j);
		return false;
	}
	if (n > limit) {
		job_error(j, 413, "payload_too_large", NULL,
			  "the body has %zu bytes; at most %zu are taken here", n, limit);
		j->close = true;
		job_submit(j);
		return false;
	}
	return true;
}

bool require_body(struct job *j, struct evhttp_request *req, size_t limit, const char **body,
		  size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	const unsigned char *p;

	if (!require_length(j, req, limit))
		return false;
	p = n > 0 ? evbuffer_pullup(in, -1) : NULL;
	*body = p != NULL ? (const char *)p : "";
	*len = n;
	return true;
}

json_t *candidates_filter(const json_t *candidates, const struct principal *reader)
{
	static const char *const summary_keys[] = {"offender_id", "band", "score",
						   "managing_force", "summary"};
	json_t *out = json_array();
	json_t *c;
	size_t i;

	if (out == NULL)
		return NULL;
	json_array_foreach(candidates, i, c) {
		const char *force = json_string_value(json_object_get(c, "managing_force"));
		json_t *o;

		if (principal_national(reader) || (force != NULL && strcmp(force, reader->force) == 0)) {
			json_array_append(out, c);
			continue;
		}
		o = json_object();
		if (o == NULL)
			continue;
		for (size_t k = 0; k < sizeof(summary_keys) / sizeof(summary_keys[0]); k++) {
			json_t *v = json_object_get(c, summary_keys[k]);
			if (v != NULL)
				json_object_set(o, summary_keys[k], v);
		}
		json_array_append_new(out, o);
	}
	return out;
}

char *query_get(const char *query, const char *key, bool *present)
{
	struct evkeyvalq q;
	const char *v;
	char *out = NULL;

	if (present != NULL)
		*present = false;
	if (query == NULL)
		return NULL;
	TAILQ_INIT(&q);
	if (evhttp_parse_query_str(query, &q) != 0) {
		evhttp_clear_headers(&q);
		return NULL;
	}
	v = evhttp_find_header(&q, key);
	if (v != NULL) {
		if (present != NULL)
			*present = true;
		out = strdup(v);
	}
	evhttp_clear_headers(&q);
	return out;
}

/* ---- routing ---- */

static const char *method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	default: return "OTHER";
	}
}

struct route {
	enum endpoint ep;
	char id[ROUTE_ID_MAX + 1];
};

/* Copies one path segment (up to the next '/' or the end) into out. */
static const char *segment(const char *p, char *out, size_t outlen)
{
	size_t n = strcspn(p, "/");

	if (n == 0 || n >= outlen)
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	return p + n;
}

static bool route_find(const char *path, struct route *r)
{
	const char *p;

	r->ep = EP_NONE;
	r->id[0] = '\0';
	if (strcmp(path, "/healthz") == 0)
		r->ep = EP_HEALTHZ;
	else if (strcmp(path, "/metrics") == 0)
		r->ep = EP_METRICS;
	else if (strcmp(path, "/v1/checks") == 0)
		r->ep = EP_CHECKS;
	else if (strcmp(path, "/v1/audit") == 0)
		r->ep = EP_AUDIT;
	else if (strcmp(path, "/v1/audit/checkpoint") == 0)
		r->ep = EP_AUDIT_CHECKPOINT;
	else if (strcmp(path, "/v1/offenders/_bulk") == 0)
		r->ep = EP_OFFENDERS_BULK;
	else if (strncmp(path, "/v1/checks/", 11) == 0) {
		p = segment(path + 11, r->id, sizeof(r->id));
		if (p == NULL)
			return false;
		if (*p == '\0')
			r->ep = EP_CHECK;
		else if (strcmp(p, "/decision") == 0)
			r->ep = EP_CHECK_DECISION;
	} else if (strncmp(path, "/v1/offenders/", 14) == 0) {
		p = segment(path + 14, r->id, sizeof(r->id));
		if (p != NULL && *p == '\0')
			r->ep = EP_OFFENDER;
	}
	return r->ep != EP_NONE;
}

/* The methods of an endpoint, as a bit set and as an Allow header. */
static unsigned endpoint_methods(enum endpoint ep, const char **allow)
{
	switch (ep) {
	case EP_CHECKS:
	case EP_CHECK_DECISION:
	case EP_OFFENDERS_BULK:
		*allow = "POST";
		return EVHTTP_REQ_POST;
	case EP_OFFENDER:
		*allow = "GET, PUT, DELETE";
		return EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE;
	case EP_HEALTHZ:
		/* Load balancers probe with HEAD.  Only here: a HEAD elsewhere
		 * would be an audited read that returns nothing. */
		*allow = "GET, HEAD";
		return EVHTTP_REQ_GET | EVHTTP_REQ_HEAD;
	default:
		*allow = "GET";
		return EVHTTP_REQ_GET;
	}
}

static const char *endpoint_action(enum endpoint ep, enum evhttp_cmd_type m)
{
	switch (ep) {
	case EP_HEALTHZ: return "health.read";
	case EP_METRICS: return "metrics.read";
	case EP_CHECKS: return "check.create";
	case EP_CHECK: return "check.read";
	case EP_CHECK_DECISION: return "check.decide";
	case EP_OFFENDER:
		return m == EVHTTP_REQ_PUT ? "offender.put"
		       : m == EVHTTP_REQ_DELETE ? "offender.delete"
						: "offender.read";
	case EP_OFFENDERS_BULK: return "offender.bulk";
	case EP_AUDIT: return "audit.read";
	case EP_AUDIT_CHECKPOINT: return "checkpoint.read";
	default: return "request";
	}
}

/* Request smuggling: two Content-Lengths, one that is not a plain number,
 * Transfer-Encoding with Content-Length, a Transfer-Encoding other than
 * chunked, white space in a header name.  evhttp would pick one reading; a
 * proxy in front might pick another. */
static const char *smuggling(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	struct evkeyval *kv;
	int ncl = 0, nte = 0;
	bool te_other = false;

	TAILQ_FOREACH(kv, h, next) {
		/* "Transfer-Encoding : chunked" is not a header to evhttp, but
		 * is to some proxies (RFC 9112 5.1: refuse it). */
		if (kv->key[strcspn(kv->key, " \t")] != '\0')
			return "white space in a header name";
		if (strcasecmp(kv->key, "Content-Length") == 0) {
			size_t n = strlen(kv->value);
			/* 1*DIGIT only: evhttp also takes "+12" */
			if (n == 0 || n > 18 || strspn(kv->value, "0123456789") != n)
				return "a Content-Length that is not a plain number";
			ncl++;
		}
		else if (strcasecmp(kv->key, "Transfer-Encoding") == 0) {
			const char *v = kv->value;
			size_t n;
			nte++;
			while (*v == ' ' || *v == '\t')
				v++;
			n = strlen(v);
			while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n != 7 || strncasecmp(v, "chunked", 7) != 0)
				te_other = true;
		}
	}
	if (ncl > 1)
		return "more than one Content-Length";
	if (nte > 0 && ncl > 0)
		return "Transfer-Encoding together with Content-Length";
	if (nte > 1 || te_other)
		return "a Transfer-Encoding other than chunked";
	return NULL;
}

/* The SHA-256 of the peer's certificate (DER), lower-case hex, or "":
 * which certificate made a request, where the CN alone cannot tell a
 * stolen certificate from the one issued in its place. */
static void peer_fingerprint(SSL *ssl, char out[CERT_SHA256_HEX + 1])
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	X509 *cert = SSL_get0_peer_certificate(ssl);

	out[0] = '\0';
	if (cert == NULL || X509_digest(cert, EVP_sha256(), md, &n) != 1 || n * 2 != CERT_SHA256_HEX) {
		ERR_clear_error();
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		out[2 * i] = hexd[md[i] >> 4];
		out[2 * i + 1] = hexd[md[i] & 15];
	}
	out[CERT_SHA256_HEX] = '\0';
}

/* Reads the peer's CN once per connection and looks it up in the ACL;
 * again only after a reload, so that a principal removed from the ACL is
 * refused on the connections it already has open. */
static void conn_resolve(struct conn *c, SSL *ssl)
{
	unsigned gen = atomic_load_explicit(&c->d->acl_gen, memory_order_acquire);
	struct dsc_error err;

	if (c->resolved && c->acl_gen == gen)
		return;
	if (!c->resolved) {
		c->resolved = true;
		peer_fingerprint(ssl, c->cert_sha256);
		if (tls_peer_cn(ssl, c->cn, sizeof(c->cn), &err) != DSC_OK) {
			c->cn[0] = '\0';
			c->known = false;
			c->acl_gen = gen;
			if (log_limit_pass(c->w, LOG_NO_SERVICE))
				log_warnx("connection refused service: %s", err.msg);
			return;
		}
	}
	c->acl_gen = gen;
	c->known = c->cn[0] != '\0' && daemon_find_principal(c->d, c->cn, &c->principal);
	/* A reload may also have brought a CRL that revokes this certificate:
	 * the connection then ends with its next request, however busy it is
	 * kept (a stolen key's holder is never idle).  Also a connection whose
	 * handshake came just before the reload and its first request after
	 * (gen counts reloads: none, no look). */
	if (gen != 0 && c->known && !c->revoked && tls_peer_revoked(c->d->tls, ssl)) {
		c->revoked = true;
		log_warnx("certificate of '%s' revoked by the reloaded CRL: its open connection "
			  "is refused and closed",
			  c->cn);
	}
	if (c->revoked)
		c->known = false;
}

/* Counts the connection for its principal (max_connections_per_principal)
 * once, when the principal is known; one over the count is marked. */
static void conn_count(struct conn *c)
{
	if (c->cl_looked || c->d->cl == NULL)
		return;
	c->cl_looked = true;
	snprintf(c->cl_id, sizeof(c->cl_id), "%s", c->known ? c->principal.id : "");
	if (connlimit_take(c->d->cl, c->cl_id, &c->cl_open))
		c->cl_counted = c->cl_open > 0;
	else
		c->cl_over = true;
}

void conn_handshake_done(struct conn *c, SSL *ssl)
{
	if (c->cl_looked)
		return; /* said again after post-handshake messages */
	conn_resolve(c, ssl);
	conn_count(c);
	if (c->cl_over) {
		guard_cut_soon(c);
		conn_list_evictable(c);
	}
}

/* An answer made without a job (there is no connection to audit for, or
 * no memory for one): the contract's JSON error with a request id, then
 * the connection closes. */
static void refuse_bare(struct worker *w, struct evhttp_request *req, int status, const char *json)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = w->scratch;
	char id[ID_LEN + 1];

	worker_new_id(w, id);
	evbuffer_drain(buf, evbuffer_get_length(buf));
	evbuffer_add(buf, json, strlen(json));
	evhttp_add_header(out, "X-Request-Id", id);
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "Content-Type", "application/json");
	evhttp_add_header(out, "Connection", "close");
	head_no_body(req, buf);
	evhttp_send_reply(req, status, NULL, buf);
}

void router_dispatch(struct evhttp_request *req, void *arg)
{
	struct worker *w = arg;
	struct daemon *d = w->d;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	SSL *ssl = NULL;
	struct conn *c;
	const struct evhttp_uri *uri;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const char *path, *query, *allow, *why, *declared, *method, *bad_body;
	char target[REQUEST_PATH_MAX];
	bool limited = false, raw_target;
	struct route r;
	struct job *j;

	if (bev != NULL)
		ssl = bufferevent_openssl_get_ssl(bev);
	c = tls_conn(ssl);
	if (c == NULL || !SSL_is_init_finished(ssl)) {
		/* A connection without TLS: nothing but a refusal. */
		log_warnx("refused a request on a connection without TLS");
		refuse_bare(w, req, 400,
			    "{\"error\":{\"code\":\"invalid_field\",\"message\":\"TLS required\"}}\n");
		return;
	}
	conn_resolve(c, ssl);
	conn_count(c); /* done at the handshake's end, unless it was missed */
	guard_request_in(c);
	j = job_new(d, w);
	if (j == NULL) {
		log_warnx("out of memory for a request");
		guard_request_out(c);
		refuse_bare(w, req, 503,
			    "{\"error\":{\"code\":\"unavailable\",\"message\":\"out of memory\"}}\n");
		return;
	}
	j->req = req;
	j->start_ns = mono_ns();
	/* Stopping: this request is served, but its connection ends with it,
	 * so that busy keep-alive clients cannot hold the shutdown off. */
	if (w->draining)
		j->close = true;
	worker_new_id(w, j->request_id);
	j->known = c->known;
	if (c->known)
		j->p = c->principal;
	memcpy(j->cn, c->cn, sizeof(j->cn));
	memcpy(j->cert_sha256, c->cert_sha256, sizeof(j->cert_sha256));
	j->revoked = c->revoked;

	uri = evhttp_request_get_evhttp_uri(req);
	path = uri ? evhttp_uri_get_path(uri) : NULL;
	query = uri ? evhttp_uri_get_query(uri) : NULL;
	/* "//x/v1/audit" is an origin-form path whose first segment is empty
	 * (RFC 9112 3.2.1), which evhttp reads as the host x and the path
	 * /v1/audit: a filter in front that knows the path as sent would be
	 * by-passed, and the audit entry would name another path.  It is
	 * taken as sent, and is no endpoint's (404). */
	raw_target = evhttp_request_get_uri(req) != NULL && evhttp_request_get_uri(req)[0] == '/' &&
		     evhttp_request_get_uri(req)[1] == '/';
	if (m == EVHTTP_REQ_CONNECT || raw_target) {
		/* Past guard.c (see job_respond): evhttp reads a CONNECT's
		 * target as an authority (host:port), leaving no path; take the
		 * target as sent, up to any query, so that CONNECT /healthz is
		 * told its method is wrong (405) and its audit entry names the
		 * path asked for.  (No endpoint takes CONNECT or a path that
		 * begins "//", so target is not used past this function.) */
		const char *t = evhttp_request_get_uri(req);
		size_t n = t != NULL ? strcspn(t, "?#") : 0;
		if (t != NULL && n < sizeof(target)) {
			memcpy(target, t, n);
			target[n] = '\0';
			path = target;
		} else if (raw_target) {
			path = "//"; /* too long to name: still no endpoint's */
		}
	}
	if (path == NULL || path[0] == '\0')
		path = "/";
	declared = evhttp_find_header(evhttp_request_get_input_headers(req), DECLARED_LENGTH_HEADER);
	why = evhttp_find_header(evhttp_request_get_input_headers(req), BAD_REQUEST_HEADER);
	bad_body = evhttp_find_header(evhttp_request_get_input_headers(req), BAD_BODY_HEADER);
	if (why != NULL)
		path = "-"; /* what came was not a request line */
	else if ((why = evhttp_find_header(evhttp_request_get_input_headers(req),
					   BAD_HEADERS_HEADER)) != NULL)
		; /* a request line, with headers refused: its method and path audited */
	else if (bad_body != NULL && strcmp(bad_body, BAD_BODY_NO_MEMORY) != 0)
		why = bad_body; /* a chunked body guard.c could not read */
	else
		why = smuggling(req);
	/* evhttp reads no body for these: one declared would be taken for the
	 * next request. */
	if (why == NULL && (m == EVHTTP_REQ_HEAD || m == EVHTTP_REQ_TRACE) &&
	    (evhttp_find_header(evhttp_request_get_input_headers(req), "Transfer-Encoding") ||
	     (evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Length") &&
	      strcmp(evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Length"),
		     "0") != 0)))
		why = "a body on a HEAD or TRACE request";
	/* A method evhttp does not know came as GET (guard.c). */
	method = evhttp_find_header(evhttp_request_get_input_headers(req), METHOD_HEADER);
	if (method != NULL)
		m = 0;
	else
		method = method_name(m);
	/* The monitor's polls: answered from counters and, when they succeed,
	 * not audited, so no audit fields are built for them. */
	if (j->known && !c->cl_over && why == NULL && declared == NULL && bad_body == NULL &&
	    ((strcmp(path, "/healthz") == 0 && (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD)) ||
	     (strcmp(path, "/metrics") == 0 && m == EVHTTP_REQ_GET &&
	      principal_has(&j->p, ROLE_MONITOR)))) {
		if (d->rl == NULL || ratelimit_take(d->rl, j->p.id)) {
			j->ep = path[1] == 'h' ? EP_HEALTHZ : EP_METRICS;
			if (j->ep == EP_HEALTHZ)
				health_get(j);
			else
				metrics_get(j);
			return;
		}
		limited = true;
	}
	if (job_audit_begin_conn(j, c, "request", method, path) != DSC_OK) {
		job_error(j, 503, "unavailable", NULL, "out of memory");
		job_respond(j);
		return;
	}
	/* A body declared over its path's limit was never read (guard.c):
	 * the stream cannot go on after the answer. */
	if (declared != NULL)
		j->close = true;
	if (why != NULL) {
		job_error(j, 400, "invalid_field", NULL, "refused: the request has %s", why);
		j->close = true;
		j->ep = EP_NONE;
		job_submit(j);
		return;
	}
	if (bad_body != NULL) {
		job_error(j, 503, "unavailable", NULL, "out of memory reading the request's body");
		j->close = true;
		j->ep = EP_NONE;
		job_submit(j);
		return;
	}
	if (j->revoked) {
		job_error(j, 403, "forbidden", NULL,
			  "the client certificate of '%s' has been revoked; the connection is closed",
			  j->cn);
		j->close = true;
		job_submit(j);
		return;
	}
	if (c->cl_over) {
		/* One principal cannot take every connection from the others.
		 * (A stranger is not told how many strangers are connected.) */
		if (j->known)
			job_error(j, 429, "too_many_requests", NULL,
				  "%s has %u connections open, the most one principal may have "
				  "(max_connections_per_principal); this one is closed",
				  j->p.id, c->cl_open);
		else
			job_error(j, 429, "too_many_requests", NULL,
				  "too many connections from certificates outside the access list; "
				  "this one is closed");
		j->close = true;
		job_submit(j);
		return;
	}
	if (!j->known) {
		job_error(j, 403, "forbidden", NULL,
			  "the client certificate's CN '%s' is not in the access list", j->cn);
		job_submit(j);
		return;
	}
	if (limited || (d->rl != NULL && !ratelimit_take(d->rl, j->p.id))) {
		job_error(j, 429, "too_many_requests", NULL,
			  "more than %d requests a second from principal '%s'; slow down",
			  d->cfg->server.rate_limit, j->p.id);
		job_submit(j);
		return;
	}
	if (!route_find(path, &r)) {
		job_error(j, 404, "not_found", NULL, "no such path: %s", path);
		job_submit(j);
		return;
	}
	if ((endpoint_methods(r.ep, &allow) & m) == 0) {
		job_error(j, 405, "method_not_allowed", NULL, "%s takes %s, not %s",
			  endpoint_name(r.ep), allow, method);
		j->allow = allow;
		job_submit(j);
		return;
	}
	j->ep = r.ep;
	job_set_action(j, endpoint_action(r.ep, m));
	switch (r.ep) {
	case EP_HEALTHZ: health_get(j); break;
	case EP_METRICS: metrics_get(j); break;
	case EP_CHECKS: checks_create(j, req); break;
	case EP_CHECK: checks_get(j, r.id); break;
	case EP_CHECK_DECISION: checks_decide(j, req, r.id); break;
	case EP_OFFENDER:
		if (m == EVHTTP_REQ_GET)
			offenders_get(j, r.id, query);
		else if (m == EVHTTP_REQ_PUT)
			offenders_put(j, req, r.id);
		else
			offenders_delete(j, r.id);
		break;
	case EP_OFFENDERS_BULK: bulk_post(j, req); break;
	case EP_AUDIT: audit_api_page(j, query); break;
	case EP_AUDIT_CHECKPOINT: audit_api_checkpoint(j); break;
	default:
		job_error(j, 404, "not_found", NULL, "no such path: %s", path);
		job_submit(j);
		break;
	}
}
