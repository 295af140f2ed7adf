/*
 * tls.c - the server's TLS context: mutual TLS 1.2/1.3 with forward-secret
 * suites only, a client certificate required and verified against
 * client_ca (and the CRL when one is configured), session resumption, and
 * the client's identity (the subject CN of the verified certificate).
 *
 * SIGHUP builds a whole new context from the files; only a context that
 * built completely replaces the old one, so a broken file never leaves the
 * daemon without TLS.  Connections keep the context they started with
 * (SSL_new holds a reference).
 *
 * Never: accept a connection without a verified client certificate; hand
 * out a CN from a certificate whose chain did not verify; use a private
 * key that group or others can read.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "disclosure/log.h"
#include "disclosured.h"

/* TLS 1.2: ephemeral ECDH with AEAD ciphers only.  TLS 1.3's own suites
 * all qualify and are left at OpenSSL's defaults. */
#define TLS12_CIPHERS                                                                              \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

#define SESSION_ID_CONTEXT "disclosured"

struct tls_server {
	pthread_mutex_t mtx;
	SSL_CTX *ctx;
};

static int conn_idx = -1;
static pthread_once_t conn_idx_once = PTHREAD_ONCE_INIT;
static void (*conn_release)(struct conn *, SSL *);

void tls_set_conn_release(void (*fn)(struct conn *, SSL *))
{
	conn_release = fn;
}

static void conn_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			 void *argp)
{
	struct conn *c = ptr;

	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (c == NULL)
		return;
	if (conn_release != NULL)
		conn_release(c, parent);
	free(c);
}

static void conn_idx_init(void)
{
	conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_free_cb);
}

struct conn *tls_conn(SSL *ssl)
{
	if (ssl == NULL || conn_idx < 0)
		return NULL;
	return SSL_get_ex_data(ssl, conn_idx);
}

/* The first queued OpenSSL error in words; empties the thread's queue so a
 * later failure is not blamed on this one. */
static const char *ossl_why(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, len, "no further detail from OpenSSL");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/* Refuses a handshake on a connection counted past max_connections. */
static int client_hello_cb(SSL *ssl, int *al, void *arg)
{
	struct conn *c = tls_conn(ssl);

	(void)arg;
	if (c == NULL || c->over_limit) {
		*al = SSL_AD_HANDSHAKE_FAILURE;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* The end of a handshake stops its clock (guard.c).  A fatal alert during
 * the handshake: the socket is kept a moment after
 * evhttp closes it (server.c, lingering close), so that the client can
 * read why it was refused.  The copy must be made now: by the time the
 * SSL is freed, libevent has closed the socket. */
static void info_cb(const SSL *ssl, int where, int ret)
{
	struct conn *c;
	int fd;

	if (where & SSL_CB_HANDSHAKE_DONE) {
		if ((c = tls_conn((SSL *)ssl)) != NULL) {
			guard_handshake_done(c);
			conn_handshake_done(c, (SSL *)ssl);
		}
		return;
	}
	if (!(where & SSL_CB_WRITE_ALERT) || (ret >> 8) != SSL3_AL_FATAL ||
	    SSL_is_init_finished(ssl))
		return;
	c = tls_conn((SSL *)ssl);
	if (c == NULL || c->linger_fd >= 0)
		return;
	fd = SSL_get_fd(ssl);
	if (fd >= 0)
		c->linger_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

/* Reads the private key from an open descriptor after checking the mode of
 * that very file (no window between the check and the read). */
static int key_load(const char *path, EVP_PKEY **out, struct dsc_error *err)
{
	char why[256];
	struct stat st;
	FILE *f;
	EVP_PKEY *key;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return dsc_error_set(err, errno == EACCES ? DSC_EPERM : DSC_EIO,
				     "tls private key %s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return dsc_error_set(err, DSC_EIO, "tls private key %s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return dsc_error_set(err, DSC_EINVAL, "tls private key %s: not a regular file", path);
	}
	if (st.st_mode & (S_IRGRP | S_IROTH)) {
		close(fd);
		return dsc_error_set(err, DSC_EPERM,
				     "tls private key %s is readable by %s (mode %03o); "
				     "make it private: chmod 600 %s",
				     path, (st.st_mode & S_IROTH) ? "others" : "its group",
				     (unsigned)(st.st_mode & 0777), path);
	}
	f = fdopen(fd, "r");
	if (f == NULL) {
		int e = errno;
		close(fd);
		return dsc_error_set(err, DSC_ENOMEM, "tls private key %s: %s", path, strerror(e));
	}
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (key == NULL)
		return dsc_error_set(err, DSC_EINVAL, "tls private key %s: not a PEM private key: %s",
				     path, ossl_why(why, sizeof(why)));
	*out = key;
	return DSC_OK;
}

static int crl_load(SSL_CTX *ctx, const char *path, struct dsc_error *err)
{
	char why[256];
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	X509_CRL *crl;
	BIO *bio;
	int n = 0;

	bio = BIO_new_file(path, "r");
	if (bio == NULL)
		return dsc_error_set(err, DSC_EIO, "tls crl %s: cannot open: %s", path,
				     ossl_why(why, sizeof(why)));
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);

		if (next != NULL && X509_cmp_current_time(next) < 0)
			log_warnx("tls crl %s: a CRL is past its next update: clients will be "
				  "refused until a fresh CRL is installed and SIGHUP sent",
				  path);
		if (X509_STORE_add_crl(store, crl) != 1) {
			X509_CRL_free(crl);
			BIO_free(bio);
			return dsc_error_set(err, DSC_EINVAL, "tls crl %s: %s", path,
					     ossl_why(why, sizeof(why)));
		}
		X509_CRL_free(crl);
		n++;
	}
	BIO_free(bio);
	/* The loop ends on a "no start line" error at the end of the file. */
	ERR_clear_error();
	if (n == 0)
		return dsc_error_set(err, DSC_EINVAL, "tls crl %s: no PEM CRL in the file", path);
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	return DSC_OK;
}

/* OpenSSL says "system lib" for a missing file: say it in words first. */
static int file_readable(const char *what, const char *path, struct dsc_error *err)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	bool regular;

	if (f == NULL)
		return dsc_error_set(err, errno == EACCES ? DSC_EPERM : DSC_EIO,
				     "%s %s: cannot open: %s", what, path, strerror(errno));
	regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
	fclose(f);
	if (!regular)
		return dsc_error_set(err, DSC_EINVAL, "%s %s: not a regular file", what, path);
	return DSC_OK;
}

static int ctx_build(const struct config *cfg, SSL_CTX **out, struct dsc_error *err)
{
	char why[256];
	STACK_OF(X509_NAME) *cas;
	EVP_PKEY *key = NULL;
	SSL_CTX *ctx;
	int rc;

	if ((rc = file_readable("tls certificate", cfg->tls.certificate, err)) != DSC_OK ||
	    (rc = file_readable("tls client_ca", cfg->tls.client_ca, err)) != DSC_OK ||
	    (cfg->tls.crl != NULL && (rc = file_readable("tls crl", cfg->tls.crl, err)) != DSC_OK))
		return rc;
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "tls: cannot create a context: %s",
				     ossl_why(why, sizeof(why)));
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		rc = dsc_error_set(err, DSC_EINTERNAL, "tls: cannot set protocol versions: %s",
				   ossl_why(why, sizeof(why)));
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE |
					 SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		rc = dsc_error_set(err, DSC_EINTERNAL, "tls: cannot set the cipher list: %s",
				   ossl_why(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls.certificate) != 1) {
		rc = dsc_error_set(err, DSC_EINVAL,
				   "tls certificate %s: no PEM certificate (-----BEGIN CERTIFICATE-----) "
				   "in it (%s)",
				   cfg->tls.certificate, ossl_why(why, sizeof(why)));
		goto fail;
	}
	if ((rc = key_load(cfg->tls.private_key, &key, err)) != DSC_OK)
		goto fail;
	if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		rc = dsc_error_set(err, DSC_EINVAL,
				   "tls private key %s does not belong to certificate %s: %s",
				   cfg->tls.private_key, cfg->tls.certificate,
				   ossl_why(why, sizeof(why)));
		goto fail;
	}
	EVP_PKEY_free(key);
	key = NULL;
	if (SSL_CTX_load_verify_locations(ctx, cfg->tls.client_ca, NULL) != 1) {
		rc = dsc_error_set(err, DSC_EINVAL,
				   "tls client_ca %s: no PEM CA certificate (-----BEGIN CERTIFICATE-----) "
				   "in it (%s)",
				   cfg->tls.client_ca, ossl_why(why, sizeof(why)));
		goto fail;
	}
	cas = SSL_load_client_CA_file(cfg->tls.client_ca);
	if (cas == NULL) {
		rc = dsc_error_set(err, DSC_EINVAL, "tls client_ca %s: no CA certificate in it: %s",
				   cfg->tls.client_ca, ossl_why(why, sizeof(why)));
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ctx, cas);
	if (cfg->tls.crl != NULL && (rc = crl_load(ctx, cfg->tls.crl, err)) != DSC_OK)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, 8);
	/* Resumption: without a session id context OpenSSL refuses to resume
	 * sessions that carry a client certificate. */
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)SESSION_ID_CONTEXT,
				       sizeof(SESSION_ID_CONTEXT) - 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, 20480);
	SSL_CTX_set_timeout(ctx, 1800);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_client_hello_cb(ctx, client_hello_cb, NULL);
	SSL_CTX_set_info_callback(ctx, info_cb);
	*out = ctx;
	return DSC_OK;
fail:
	EVP_PKEY_free(key);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int tls_server_new(const struct config *cfg, struct tls_server **out, struct dsc_error *err)
{
	struct tls_server *t;
	int rc;

	pthread_once(&conn_idx_once, conn_idx_init);
	if (conn_idx < 0)
		return dsc_error_set(err, DSC_EINTERNAL, "tls: no SSL ex_data index");
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "tls: out of memory");
	if ((rc = ctx_build(cfg, &t->ctx, err)) != DSC_OK) {
		free(t);
		return rc;
	}
	pthread_mutex_init(&t->mtx, NULL);
	*out = t;
	return DSC_OK;
}

void tls_server_free(struct tls_server *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	pthread_mutex_destroy(&t->mtx);
	free(t);
}

int tls_server_reload(struct tls_server *t, const struct config *cfg, struct dsc_error *err)
{
	SSL_CTX *ctx, *old;
	int rc;

	if ((rc = ctx_build(cfg, &ctx, err)) != DSC_OK)
		return rc;
	pthread_mutex_lock(&t->mtx);
	old = t->ctx;
	t->ctx = ctx;
	pthread_mutex_unlock(&t->mtx);
	SSL_CTX_free(old); /* live connections hold their own references */
	return DSC_OK;
}

SSL *tls_server_ssl_new(struct tls_server *t, struct conn *conn)
{
	SSL *ssl;

	pthread_mutex_lock(&t->mtx);
	ssl = SSL_new(t->ctx);
	pthread_mutex_unlock(&t->mtx);
	if (ssl == NULL) {
		ERR_clear_error();
		return NULL;
	}
	if (SSL_set_ex_data(ssl, conn_idx, conn) != 1) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	return ssl;
}

bool tls_peer_revoked(struct tls_server *t, SSL *ssl)
{
	STACK_OF(X509_OBJECT) *objs;
	X509 *cert = SSL_get0_peer_certificate(ssl);
	X509_STORE *store;
	SSL_CTX *ctx;
	bool revoked = false;

	if (cert == NULL)
		return false;
	/* The CRLs of the context new handshakes get (the one a reload made);
	 * held while read, as a reload may replace it meanwhile. */
	pthread_mutex_lock(&t->mtx);
	ctx = t->ctx;
	SSL_CTX_up_ref(ctx);
	pthread_mutex_unlock(&t->mtx);
	store = SSL_CTX_get_cert_store(ctx);
	/* Locked: handshakes' look-ups may sort the objects meanwhile. */
	X509_STORE_lock(store);
	objs = X509_STORE_get0_objects(store);
	for (int i = 0; objs != NULL && i < sk_X509_OBJECT_num(objs) && !revoked; i++) {
		X509_CRL *crl = X509_OBJECT_get0_X509_CRL(sk_X509_OBJECT_value(objs, i));
		X509_REVOKED *entry;

		if (crl != NULL && X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(cert)) == 0 &&
		    X509_CRL_get0_by_cert(crl, &entry, cert) == 1)
			revoked = true;
	}
	X509_STORE_unlock(store);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return revoked;
}

int tls_peer_cn(SSL *ssl, char *cn, size_t cnlen, struct dsc_error *err)
{
	const X509_NAME_ENTRY *entry;
	const X509_NAME *name;
	unsigned char *utf8 = NULL;
	X509 *cert;
	int i, len;

	if (SSL_get_verify_result(ssl) != X509_V_OK)
		return dsc_error_set(err, DSC_EPERM, "client certificate did not verify");
	cert = SSL_get1_peer_certificate(ssl);
	if (cert == NULL)
		return dsc_error_set(err, DSC_EPERM, "no client certificate");
	name = X509_get_subject_name(cert);
	i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (i < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0) {
		X509_free(cert);
		return dsc_error_set(err, DSC_EPERM,
				     "client certificate subject has no CN or more than one");
	}
	entry = X509_NAME_get_entry(name, i);
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
	X509_free(cert);
	if (len < 0) {
		ERR_clear_error();
		return dsc_error_set(err, DSC_EPERM, "client certificate CN is not text");
	}
	if ((size_t)len >= cnlen || memchr(utf8, '\0', (size_t)len) != NULL) {
		OPENSSL_free(utf8);
		return dsc_error_set(err, DSC_EPERM, "client certificate CN is too long or has NUL");
	}
	memcpy(cn, utf8, (size_t)len);
	cn[len] = '\0';
	OPENSSL_free(utf8);
	return DSC_OK;
}

/* Says on stderr whether a certificate file's first certificate is in its
 * validity period. */
static int cert_dates_check(const char *what, const char *path, struct dsc_error *err)
{
	X509 *cert;
	FILE *f;
	int rc = DSC_OK;

	f = fopen(path, "r");
	if (f == NULL)
		return dsc_error_set(err, DSC_EIO, "%s %s: cannot open: %s", what, path,
				     strerror(errno));
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (cert == NULL) {
		ERR_clear_error();
		return dsc_error_set(err, DSC_EINVAL, "%s %s: no PEM certificate in it", what, path);
	}
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
		rc = dsc_error_set(err, DSC_EINVAL, "%s %s has expired", what, path);
	else if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0)
		rc = dsc_error_set(err, DSC_EINVAL, "%s %s is not valid yet", what, path);
	X509_free(cert);
	return rc;
}

int tls_check_files(const struct config *cfg, struct dsc_error *err)
{
	SSL_CTX *ctx;
	int rc;

	pthread_once(&conn_idx_once, conn_idx_init);
	if ((rc = ctx_build(cfg, &ctx, err)) != DSC_OK)
		return rc;
	SSL_CTX_free(ctx);
	if ((rc = cert_dates_check("tls certificate", cfg->tls.certificate, err)) != DSC_OK)
		return rc;
	if ((rc = cert_dates_check("tls client_ca", cfg->tls.client_ca, err)) != DSC_OK)
		return rc;
	return DSC_OK;
}
