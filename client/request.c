/*
 * request.c - one request of disclosurectl, as the contract wants it:
 * written to the request log (and flushed) before it is sent, its answer
 * and audit receipt written when it arrives, and the outcome turned into
 * an exit code with the server's own words on stderr.
 *
 * Never sends a request that could not be logged first.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "client.h"

#define TARGET_MAX 4096

static int ensure_connection(struct ctl *c)
{
	struct tls_endpoint ep = {0};
	struct dsc_error err;
	char path[PATH_MAX];
	int rc;

	rc = ctl_settings_resolve(c);
	if (rc != EXIT_OK)
		return rc;
	if (c->https == NULL) {
		ep.host = c->host;
		ep.port = c->port;
		ep.cert = c->cert.value;
		ep.key = c->key.value;
		ep.ca = c->ca.value;
		ep.cert_source = c->cert.source;
		ep.key_source = c->key.source;
		ep.ca_source = c->ca.source;
		ep.server_source = c->server.source;
		ep.timeout_s = c->timeout_s;
		dsc_error_clear(&err);
		if (https_client_new(&ep, &c->https, &err) != DSC_OK) {
			ctl_err("%s", err.msg);
			return EXIT_FAILURE_LOCAL;
		}
	}
	if (c->reqlog == NULL) {
		rc = ctl_log_path(c, path, sizeof(path));
		if (rc != EXIT_OK)
			return rc;
		if (reqlog_open(path, c->flag_log == NULL, &c->reqlog, &err) != DSC_OK) {
			ctl_err("%s; nothing was sent (every request is logged before it is sent)",
			        err.msg);
			return EXIT_FAILURE_LOCAL;
		}
	}
	return EXIT_OK;
}

int ctl_escape(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		bool plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		             (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
		             ch == '~';

		if (n + (plain ? 1 : 3) >= cap)
			return -1;
		if (plain) {
			out[n++] = (char)ch;
		} else {
			out[n++] = '%';
			out[n++] = hex[ch >> 4];
			out[n++] = hex[ch & 15];
		}
	}
	out[n] = '\0';
	return 0;
}

/* {"seq":N,"hash":"..."} from the answer's "audit" member, or NULL. */
static json_t *receipt_of(json_t *answer)
{
	json_t *a = json_object_get(answer, "audit");
	json_t *seq = json_object_get(a, "seq"), *hash = json_object_get(a, "hash");

	if (!json_is_integer(seq) || !json_is_string(hash))
		return NULL;
	return json_pack("{s:O, s:O}", "seq", seq, "hash", hash);
}

bool ctl_seq_parse(const char *s, int64_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(s);

	/* Digits only (no sign, space or exponent), and few enough that a
	 * value cut short by the header buffer cannot pass for another. */
	if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
		return false;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	*out = (int64_t)v;
	return true;
}

/*
 * The receipt in the headers X-Audit-Seq and X-Audit-Hash, which the
 * server sends with every audited answer (reads and refusals too, whose
 * bodies have no "audit" member); NULL if they are absent or malformed.
 */
json_t *ctl_receipt_of_headers(const struct https_response *resp)
{
	int64_t seq;
	size_t n = strlen(resp->audit_hash);

	if (!ctl_seq_parse(resp->audit_seq, &seq) || n != 64 ||
	    strspn(resp->audit_hash, "0123456789abcdef") != n)
		return NULL;
	return json_pack("{s:I, s:s}", "seq", (json_int_t)seq, "hash", resp->audit_hash);
}

/*
 * An NDJSON answer (an audit page) carries no "audit" member, only the
 * X-Audit-Seq header (and X-Audit-Hash from a server of this version);
 * when the page holds that very entry (it reaches the newest), its line
 * gives the hash, and so a full receipt.
 */
static json_t *receipt_of_page(const struct https_response *resp)
{
	int64_t seq;
	char want[40];
	const char *p;
	json_t *line, *receipt = NULL;
	int n;

	if (!ctl_seq_parse(resp->audit_seq, &seq))
		return NULL;
	n = snprintf(want, sizeof(want), "{\"seq\":%" PRId64 ",", seq);
	for (p = (const char *)resp->body; p != NULL && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, want, (size_t)n) != 0)
			continue;
		line = json_loadb(p, strcspn(p, "\n"), 0, NULL);
		if (json_is_string(json_object_get(line, "hash")))
			receipt = json_pack("{s:I, s:O}", "seq", (json_int_t)seq, "hash",
			                    json_object_get(line, "hash"));
		json_decref(line);
		break;
	}
	return receipt;
}

static void print_server_error(const struct https_response *resp, const char *method,
                               const char *target)
{
	json_t *j = NULL, *e;
	const char *code = NULL, *msg = NULL, *field = NULL;
	const char *kind = resp->status < 500 ? "the server refused the request"
	                                      : "the server failed to answer the request";

	if (resp->len > 0)
		j = json_loadb((const char *)resp->body, resp->len, 0, NULL);
	e = json_object_get(j, "error");
	code = json_string_value(json_object_get(e, "code"));
	msg = json_string_value(json_object_get(e, "message"));
	field = json_string_value(json_object_get(e, "field"));
	if (msg != NULL)
		fprintf(stderr, "disclosurectl: %s (%s %s: HTTP %d %s): %s%s%s%s\n", kind, method,
		        target, resp->status, code ? code : "", msg,
		        field && field[0] ? " [field: " : "", field && field[0] ? field : "",
		        field && field[0] ? "]" : "");
	else
		fprintf(stderr, "disclosurectl: %s (%s %s): HTTP %d%s%.200s\n", kind, method,
		        target, resp->status, resp->len ? ": " : "",
		        resp->len ? (const char *)resp->body : "");
	if (resp->request_id[0] != '\0')
		fprintf(stderr, "disclosurectl: the server's request id: %s\n", resp->request_id);
	json_decref(j);
}

static int request(struct ctl *c, const char *method, const char *path,
                   const struct https_body *body, json_t *log_fields, int wait_s,
                   struct https_response *resp, bool keep_refusal)
{
	char target[TARGET_MAX], id[REQLOG_ID_LEN + 1];
	struct dsc_error err;
	json_t *fields, *answer = NULL, *receipt = NULL, *answered_fields = NULL;
	int64_t seq;
	int rc;

	memset(resp, 0, sizeof(*resp));
	rc = ensure_connection(c);
	if (rc != EXIT_OK)
		return rc;
	if (snprintf(target, sizeof(target), "%s%s", c->base_path, path) >= (int)sizeof(target)) {
		ctl_err("request path too long: %.80s...", path);
		return EXIT_FAILURE_LOCAL;
	}

	fields =
	    json_pack("{s:s, s:s, s:s}", "server", c->server.value, "principal",
	              https_client_identity(c->https), "command", c->command ? c->command : "");
	if (fields == NULL) {
		ctl_err("out of memory");
		return EXIT_FAILURE_LOCAL;
	}
	if (body != NULL && body->content_type != NULL) {
		json_object_set_new(fields, "body_bytes", json_integer((json_int_t)body->len));
		if (body->data != NULL) {
			/* A fingerprint of what was asked, without the personal data itself. */
			unsigned char md[SHA256_DIGEST_LENGTH];
			char hex[2 * SHA256_DIGEST_LENGTH + 1];

			SHA256(body->data, body->len, md);
			for (size_t i = 0; i < sizeof(md); i++)
				snprintf(hex + 2 * i, 3, "%02x", md[i]);
			json_object_set_new(fields, "body_sha256", json_string(hex));
		}
	}
	if (log_fields != NULL)
		json_object_update_missing(fields, log_fields);
	dsc_error_clear(&err);
	if (reqlog_sent(c->reqlog, method, target, fields, id, &err) != DSC_OK) {
		json_decref(fields);
		ctl_err("%s; the request was not sent", err.msg);
		return EXIT_FAILURE_LOCAL;
	}
	json_decref(fields);

	rc = https_request(c->https, method, target, body, wait_s, resp, &err);
	if (rc != DSC_OK) {
		struct dsc_error lerr;

		if (reqlog_failed(c->reqlog, id, err.msg, &lerr) != DSC_OK)
			ctl_warn("%s", lerr.msg);
		ctl_err("%s %s: %s", method, target, err.msg);
		return rc == DSC_EINVAL ? EXIT_FAILURE_LOCAL : EXIT_UNREACHABLE;
	}

	if (strcmp(resp->content_type, "application/json") == 0 && resp->len > 0)
		answer = json_loadb((const char *)resp->body, resp->len, 0, NULL);
	receipt = answer != NULL ? receipt_of(answer) : NULL;
	if (receipt == NULL)
		receipt = ctl_receipt_of_headers(resp);
	if (receipt == NULL && strcmp(resp->content_type, "application/x-ndjson") == 0)
		receipt = receipt_of_page(resp);
	answered_fields = json_object();
	if (json_is_string(json_object_get(answer, "check_id")))
		json_object_set(answered_fields, "check_id", json_object_get(answer, "check_id"));
	/* The entry's seq alone, when the answer gives no hash to make a receipt of. */
	if (receipt == NULL && ctl_seq_parse(resp->audit_seq, &seq))
		json_object_set_new(answered_fields, "audit_seq", json_integer((json_int_t)seq));
	if (reqlog_answered(c->reqlog, id, resp->status, resp->request_id, receipt, answered_fields,
	                    &err) != DSC_OK)
		ctl_warn("the answer arrived but its receipt could not be logged: %s", err.msg);
	json_decref(receipt);
	json_decref(answered_fields);
	json_decref(answer);

	if (resp->status >= 200 && resp->status < 300)
		return EXIT_OK;
	if (keep_refusal && resp->status >= 400 && resp->status < 500)
		return EXIT_REFUSED;
	print_server_error(resp, method, target);
	if (c->json_errors && strcmp(resp->content_type, "application/json") == 0 && resp->len > 0)
		ctl_print_body(resp);
	rc = resp->status >= 400 && resp->status < 500 ? EXIT_REFUSED : EXIT_UNREACHABLE;
	https_response_release(resp);
	return rc;
}

int ctl_request(struct ctl *c, const char *method, const char *path, const struct https_body *body,
                json_t *log_fields, int wait_s, struct https_response *resp)
{
	return request(c, method, path, body, log_fields, wait_s, resp, false);
}

int ctl_request_keep(struct ctl *c, const char *method, const char *path,
                     const struct https_body *body, json_t *log_fields, int wait_s,
                     struct https_response *resp)
{
	return request(c, method, path, body, log_fields, wait_s, resp, true);
}

json_t *ctl_response_json(const struct https_response *resp, const char *what)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)resp->body, resp->len, 0, &je);

	if (j == NULL)
		ctl_err("%s: the server's answer is not JSON (%s at byte %d)", what, je.text,
		        je.position);
	return j;
}

void ctl_print_body(const struct https_response *resp)
{
	fwrite(resp->body, 1, resp->len, stdout);
	if (resp->len == 0 || resp->body[resp->len - 1] != '\n')
		putchar('\n');
}

int ctl_take_answer(struct https_response *resp, bool json_out, const char *what, json_t **out)
{
	/* Parsed with --json too: a script must not be handed a page, or an
	 * answer cut short, with exit 0. */
	*out = ctl_response_json(resp, what);
	if (*out != NULL && json_out) {
		ctl_print_body(resp);
		json_decref(*out);
		*out = NULL;
		https_response_release(resp);
		return EXIT_OK;
	}
	https_response_release(resp);
	return *out != NULL ? EXIT_OK : EXIT_UNREACHABLE;
}

void ctl_free(struct ctl *c)
{
	https_client_free(c->https);
	c->https = NULL;
	reqlog_free(c->reqlog);
	c->reqlog = NULL;
	ctl_settings_release(c);
}
