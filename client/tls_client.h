/*
 * tls_client.h - a small blocking HTTPS/1.1 client on OpenSSL, just what
 * disclosurectl needs: mutual TLS, the server certificate verified against
 * one CA file and the host name or IP address of the URL, keep-alive,
 * Content-Length and chunked response bodies, and uploads streamed from a
 * callback (bulk import of files far larger than memory).
 *
 * It never guesses around a verification failure (no "insecure" switch),
 * and it says in words why a handshake failed and which file is to blame.
 * It knows nothing of the project's API; client/request.c does.
 */
#ifndef DISCLOSURECTL_TLS_CLIENT_H
#define DISCLOSURECTL_TLS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "disclosure/error.h"

/* Where one setting came from, for error messages ("--ca", "DISCLOSURE_CA",
 * "/home/x/.config/disclosurectl/config:3"). */
#define SETTING_SOURCE_MAX 512

struct tls_endpoint {
	const char *host; /* host name or IP address literal, without brackets */
	const char *port; /* decimal */
	const char *cert; /* client certificate (chain) in PEM, NULL: none */
	const char *key;  /* its private key in PEM, NULL: cert holds it */
	const char *ca;   /* CA certificates that may sign the server's certificate */
	const char *cert_source, *key_source, *ca_source, *server_source;
	int timeout_s; /* connect, handshake and every wait for the network */
};

/* Largest response body accepted (an audit page of 10000 entries is a few MB). */
#define HTTPS_MAX_RESPONSE (256u << 20)

struct https_response {
	int status;
	char request_id[128];   /* X-Request-Id, "" if absent */
	char content_type[128]; /* without parameters, lower case */
	char audit_seq[24];     /* X-Audit-Seq: the seq of the request's audit entry, or "" */
	char audit_hash[72];    /* X-Audit-Hash: that entry's hash, or "" */
	unsigned char *body;    /* malloc'd, NUL-terminated (not counted in len) */
	size_t len;
};
void https_response_release(struct https_response *r);

/*
 * Fills buf with up to cap bytes of the upload; *n = 0 only at the end.
 * Returns DSC_OK or a failure (with err set) that aborts the request.
 */
typedef int (*https_body_reader)(void *arg, unsigned char *buf, size_t cap, size_t *n,
                                 struct dsc_error *err);

struct https_body {
	const char *content_type; /* NULL: no body */
	const void *data;         /* in-memory body, or NULL with read */
	size_t len;               /* length of data, or of what read will produce */
	https_body_reader read;
	void *arg;
};

struct https_client;

/* Checks the files and builds the TLS context; does not connect yet. */
int https_client_new(const struct tls_endpoint *ep, struct https_client **out,
                     struct dsc_error *err);
void https_client_free(struct https_client *c);

/*
 * Sends one request and reads its answer, connecting (again) if needed.
 * wait_s is how long to wait for the answer once the request is sent
 * (0: the endpoint's timeout).  Any status the server answers is DSC_OK;
 * a failure means no complete answer arrived (err says why in words).
 */
int https_request(struct https_client *c, const char *method, const char *target,
                  const struct https_body *body, int wait_s, struct https_response *out,
                  struct dsc_error *err);

/* Common name of the client certificate, "" if none (for the request log). */
const char *https_client_identity(const struct https_client *c);

#endif
