/*
 * tls.c - the server's TLS context: mutual TLS 1.2/1.3 with forward-secret
 * suites only, a client certificate required and verified against
 * client_ca (and the CRL when one is configured), session resumption, and
 * the client's identity (the subject CN of the verified certificate).
 *
 * SIGHUP builds a whole new context from the files; only a context that
 * built completely replaces the old one, so a broken file never leaves the
 * daemon without TLS.  Connections keep the context they started with
 * (SSL_new holds a reference).  A CRL past its next update would refuse
 * every client: a reload does not take one (the old context stays), and
 * --check-config calls it a problem.
 *
 * Every refused handshake is counted by reason (/metrics) and logged with
 * the client's address and certificate, each reason at most once in
 * TLS_REFUSED_LOG_MS per worker, the others of that time counted in one
 * line (log_limit_pass).
 *
 * Never: accept a connection without a verified client certificate; hand
 * out a CN from a certificate whose chain did not verify; use a private
 * key that group or others can read; trust as client_ca a bundle of public
 * CAs (the ACL gives roles by CN, which anyone can get from one).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/* What /metrics and the checks need to know of a context's files. */
struct tls_dates {
	time_t cert_not_after; /* the server certificate's */
	bool has_crl_next;     /* a CRL with a next update is loaded */
	time_t crl_next;       /* the earliest next update of the CRLs */
};

struct tls_server {
	pthread_mutex_t mtx;
	SSL_CTX *ctx;
	struct tls_dates dates; /* of ctx, swapped with it */
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

const char *tls_refusal_label(enum tls_refusal r)
{
	static const char *const labels[TLS_REFUSALS] = {
		[TLS_REFUSED_NO_CERTIFICATE] = "no_certificate",
		[TLS_REFUSED_UNKNOWN_CA] = "unknown_ca",
		[TLS_REFUSED_REVOKED] = "revoked",
		[TLS_REFUSED_CERT_EXPIRED] = "certificate_expired",
		[TLS_REFUSED_CRL_EXPIRED] = "crl_expired",
		[TLS_REFUSED_BAD_CERTIFICATE] = "bad_certificate",
		[TLS_REFUSED_PROTOCOL] = "protocol",
		[TLS_REFUSED_BY_CLIENT] = "client_alert",
	};

	return (unsigned)r < TLS_REFUSALS ? labels[r] : "protocol";
}

/* The words of the first line of each reason (the summing-up line has its
 * own, server.c). */
static const char *refusal_words(enum tls_refusal r)
{
	switch (r) {
	case TLS_REFUSED_NO_CERTIFICATE: return "the client sent no certificate";
	case TLS_REFUSED_UNKNOWN_CA: return "its certificate is not issued by client_ca";
	case TLS_REFUSED_REVOKED: return "its certificate is revoked by the CRL";
	case TLS_REFUSED_CERT_EXPIRED: return "its certificate has expired";
	case TLS_REFUSED_CRL_EXPIRED:
		return "the CRL is past its next update, so every client certificate is refused: "
		       "install a fresh CRL and reload";
	case TLS_REFUSED_BAD_CERTIFICATE: return "its certificate did not verify";
	case TLS_REFUSED_BY_CLIENT:
		return "the client ended it: does it trust the server's certificate, and is that "
		       "within its dates?";
	default: return "no protocol version or cipher suite in common, or a malformed message";
	}
}

static enum tls_refusal refusal_of_verify_error(int e)
{
	switch (e) {
	case X509_V_ERR_CERT_REVOKED: return TLS_REFUSED_REVOKED;
	case X509_V_ERR_CERT_HAS_EXPIRED: return TLS_REFUSED_CERT_EXPIRED;
	case X509_V_ERR_CRL_HAS_EXPIRED: return TLS_REFUSED_CRL_EXPIRED;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: return TLS_REFUSED_UNKNOWN_CA;
	default: return TLS_REFUSED_BAD_CERTIFICATE;
	}
}

/* "203.0.113.7:51234", or "an unknown address". */
static void peer_address(const SSL *ssl, char *out, size_t len)
{
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	char host[NI_MAXHOST], port[NI_MAXSERV];
	int fd = SSL_get_fd(ssl);

	snprintf(out, len, "an unknown address");
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&sa, &salen) != 0 ||
	    getnameinfo((struct sockaddr *)&sa, salen, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return;
	snprintf(out, len, sa.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

/* A name of a certificate a client sent, escaped for the log (RFC 2253,
 * control characters and bytes above 127 as \XX): the client chose it. */
static void name_text(const X509_NAME *name, char *out, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	snprintf(out, len, "?");
	if (b == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_read(b, out, (int)len - 1)) > 0)
		out[n] = '\0';
	BIO_free(b);
	ERR_clear_error();
}

/* Counts and (rate-limited) logs the refusal of c's handshake, once. */
static void refused(struct conn *c, const SSL *ssl, enum tls_refusal r, const char *detail)
{
	char addr[NI_MAXHOST + NI_MAXSERV + 4];

	if (c == NULL || c->tls_refused || c->over_limit || c->w == NULL)
		return; /* over max_connections: said by server.c */
	c->tls_refused = true;
	atomic_fetch_add_explicit(&c->w->metrics.tls_refused[r], 1, memory_order_relaxed);
	if (!log_limit_pass(c->w, (enum log_kind)(LOG_TLS_REFUSED + r)))
		return;
	peer_address(ssl, addr, sizeof(addr));
	if (r == TLS_REFUSED_BY_CLIENT)
		log_warnx("worker %d: TLS handshake from %s failed (%s): %s", c->w->index, addr,
			  detail, refusal_words(r));
	else if (r == TLS_REFUSED_NO_CERTIFICATE || r == TLS_REFUSED_PROTOCOL)
		log_info("worker %d: TLS handshake from %s refused: %s (%s)", c->w->index, addr,
			 refusal_words(r), detail);
	else
		log_warnx("worker %d: TLS handshake from %s refused: %s (%s)", c->w->index, addr,
			  refusal_words(r), detail);
}

/* A client certificate that failed verification: why, and whose.
 * OpenSSL stops at the first error (ok is returned unchanged). */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
	char subject[256], issuer[256], detail[700];
	SSL *ssl;
	X509 *cert;
	int e;

	if (ok)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL)
		return ok;
	e = X509_STORE_CTX_get_error(x);
	cert = X509_STORE_CTX_get0_cert(x); /* the client's own, not the CA's */
	if (cert != NULL) {
		name_text(X509_get_subject_name(cert), subject, sizeof(subject));
		name_text(X509_get_issuer_name(cert), issuer, sizeof(issuer));
	} else {
		snprintf(subject, sizeof(subject), "?");
		snprintf(issuer, sizeof(issuer), "?");
	}
	snprintf(detail, sizeof(detail), "subject %s, issuer %s: %s", subject, issuer,
		 X509_verify_cert_error_string(e));
	refused(tls_conn(ssl), ssl, refusal_of_verify_error(e), detail);
	return ok;
}

/* The end of a handshake stops its clock (guard.c).  A fatal alert during
 * the handshake: the socket is kept a moment after
 * evhttp closes it (server.c, lingering close), so that the client can
 * read why it was refused.  The copy must be made now: by the time the
 * SSL is freed, libevent has closed the socket.  A refusal not already
 * counted by verify_cb is counted here, from the alert. */
static void info_cb(const SSL *ssl, int where, int ret)
{
	char alert[64];
	struct conn *c;
	int fd;

	if (where & SSL_CB_HANDSHAKE_DONE) {
		if ((c = tls_conn((SSL *)ssl)) != NULL) {
			guard_handshake_done(c);
			conn_handshake_done(c, (SSL *)ssl);
		}
		return;
	}
	if (!(where & SSL_CB_ALERT) || (ret >> 8) != SSL3_AL_FATAL || SSL_is_init_finished(ssl))
		return;
	c = tls_conn((SSL *)ssl);
	if (c == NULL)
		return;
	/* OpenSSL 3.0 has no words for TLS 1.3's certificate_required. */
	snprintf(alert, sizeof(alert), "alert: %s",
		 (ret & 0xff) == TLS13_AD_CERTIFICATE_REQUIRED ? "certificate required"
							       : SSL_alert_desc_string_long(ret));
	if (where & SSL_CB_READ) { /* (SSL_CB_READ_ALERT has SSL_CB_ALERT's bit too) */
		refused(c, ssl, TLS_REFUSED_BY_CLIENT, alert);
		return;
	}
	/* TLS 1.3 says certificate_required; TLS 1.2 has no such alert and
	 * says handshake_failure, with OpenSSL's reason queued. */
	if ((ret & 0xff) == TLS13_AD_CERTIFICATE_REQUIRED ||
	    ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
		refused(c, ssl, TLS_REFUSED_NO_CERTIFICATE, alert);
	else
		refused(c, ssl, TLS_REFUSED_PROTOCOL, alert);
	if (c->linger_fd >= 0)
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

/* t as seconds since the epoch; false if OpenSSL cannot read it. */
static bool asn1_time_secs(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return false;
	}
	*out = timegm(&tm);
	return true;
}

/* "2026-11-28 09:00:00 UTC" */
static void time_text(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static int crl_load(SSL_CTX *ctx, const char *path, struct tls_dates *dates,
		    struct dsc_error *err)
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
		time_t next;

		/* The earliest: one stale CRL of several is enough to refuse
		 * the clients of its CA. */
		if (asn1_time_secs(X509_CRL_get0_nextUpdate(crl), &next) &&
		    (!dates->has_crl_next || next < dates->crl_next)) {
			dates->has_crl_next = true;
			dates->crl_next = next;
		}
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

/* Whether the CRL of dates is past its next update; if so, says so in err,
 * ending with what follows for the daemon (tail). */
static bool crl_stale(const struct config *cfg, const struct tls_dates *dates, const char *tail,
		      struct dsc_error *err)
{
	char when[32];

	if (cfg->tls.crl == NULL || !dates->has_crl_next || dates->crl_next > time(NULL))
		return false;
	time_text(dates->crl_next, when);
	dsc_error_set(err, DSC_EINVAL,
		      "tls crl %s is past its next update (%s): every client certificate would be "
		      "refused as if expired; %s",
		      cfg->tls.crl, when, tail);
	return true;
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

/* "FILE:LINE: [section] key" (or "FILE: ..." without a line): where in
 * the configuration the operator finds what a message is about. */
static void key_where(const struct config *cfg, const char *section, const char *key, char *out,
		      size_t len)
{
	unsigned line = config_line(cfg, section, key);

	if (line > 0)
		snprintf(out, len, "%s:%u: [%s] %s", cfg->path, line, section, key);
	else
		snprintf(out, len, "%s: [%s] %s", cfg->path, section, key);
}

/*
 * The server certificate must be one clients accept for a TLS server
 * (X509_PURPOSE_SSL_SERVER): a clientAuth-only certificate, say, loads
 * and matches its key, and then every client refuses the handshake.
 */
static int server_cert_purpose(const struct config *cfg, X509 *cert, struct dsc_error *err)
{
	char where[PATH_MAX + 64];
	const char *why;
	uint32_t flags;

	if (X509_check_purpose(cert, X509_PURPOSE_SSL_SERVER, 0) == 1)
		return DSC_OK;
	flags = X509_get_extension_flags(cert);
	if ((flags & EXFLAG_XKUSAGE) && !(X509_get_extended_key_usage(cert) & XKU_SSL_SERVER))
		why = "its extendedKeyUsage does not include serverAuth";
	else if ((flags & EXFLAG_KUSAGE) &&
		 !(X509_get_key_usage(cert) &
		   (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT)))
		why = "its keyUsage has none of digitalSignature, keyEncipherment, keyAgreement";
	else
		why = "OpenSSL does not accept it for the TLS server purpose";
	ERR_clear_error();
	key_where(cfg, "tls", "certificate", where, sizeof(where));
	return dsc_error_set(err, DSC_EINVAL,
			     "%s %s is not a TLS server certificate: %s, so every client would "
			     "refuse the server; issue one with extendedKeyUsage = serverAuth "
			     "(scripts/mkpki.sh server does)",
			     where, cfg->tls.certificate, why);
}

/* More than this many certificates in client_ca is a bundle of public CAs,
 * not the CA (or few CAs) of one organisation's case workers. */
#define CLIENT_CA_MAX 20

/* Whether path is (resolves to) a distribution's bundle of public CAs, or
 * one public CA of Debian's collection. */
static bool public_ca_file(const char *path)
{
	static const char *const bundles[] = {
		"/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Alpine */
		"/etc/pki/tls/certs/ca-bundle.crt",                  /* Fedora, RHEL */
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* Fedora, RHEL */
		"/etc/ssl/ca-bundle.pem",                            /* openSUSE */
		"/etc/ssl/cert.pem",                                 /* Arch, macOS, BSDs */
		"/etc/pki/tls/cacert.pem",
		"/usr/local/share/certs/ca-root-nss.crt", /* FreeBSD */
	};
	static const char mozilla[] = "/usr/share/ca-certificates/mozilla/";
	char *real = realpath(path, NULL), *other;
	bool public = false;

	if (real == NULL)
		return false;
	public = strncmp(real, mozilla, sizeof(mozilla) - 1) == 0;
	for (size_t i = 0; !public && i <= sizeof(bundles) / sizeof(bundles[0]); i++) {
		/* ...and the bundle this OpenSSL was built to trust */
		other = realpath(i < sizeof(bundles) / sizeof(bundles[0]) ? bundles[i]
									: X509_get_default_cert_file(),
				 NULL);
		public = other != NULL && strcmp(real, other) == 0;
		free(other);
	}
	free(real);
	return public;
}

/*
 * What client_ca must be: the CA certificates that issue the case
 * workers' certificates, and only those.  The ACL gives roles by CN alone,
 * so a public CA here (one that issues certificates to anyone for a name
 * they control) would let anyone with such a certificate in as the
 * principal of that CN; a leaf here (the server's or a client's own
 * certificate, given by mistake) verifies no client at all.
 */
static int client_ca_judge(const struct config *cfg, struct dsc_error *err)
{
	/* (Short: with two paths, the whole must fit struct dsc_error.) */
	static const char tail[] = "name only the CA of your own client certificates "
				   "(scripts/mkpki.sh: DIR/ca.crt)";
	char where[PATH_MAX + 64], subject[256];
	X509 *cert;
	BIO *bio;
	int n = 0, first_leaf = 0;

	key_where(cfg, "tls", "client_ca", where, sizeof(where));
	bio = BIO_new_file(cfg->tls.client_ca, "r");
	if (bio == NULL) {
		ERR_clear_error();
		return dsc_error_set(err, DSC_EIO, "%s %s: cannot open it", where, cfg->tls.client_ca);
	}
	subject[0] = '\0';
	while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		n++;
		if (X509_check_ca(cert) == 0 && first_leaf == 0) {
			first_leaf = n;
			name_text(X509_get_subject_name(cert), subject, sizeof(subject));
		}
		X509_free(cert);
	}
	BIO_free(bio);
	ERR_clear_error();
	if (n > CLIENT_CA_MAX || public_ca_file(cfg->tls.client_ca))
		return dsc_error_set(err, DSC_EINVAL,
				     "%s %s (%d certificate%s) looks like the system's public CAs, "
				     "refused: they issue certificates to anyone for a name they "
				     "control, and acl.conf gives roles by CN alone; %s",
				     where, cfg->tls.client_ca, n, n == 1 ? "" : "s", tail);
	if (first_leaf > 0)
		return dsc_error_set(err, DSC_EINVAL,
				     "%s %s: certificate %d of %d in it (%.80s) is not a CA (a "
				     "client's or the server's own?): client certificates chain only "
				     "to a CA; %s",
				     where, cfg->tls.client_ca, first_leaf, n, subject, tail);
	return DSC_OK;
}

static int ctx_build(const struct config *cfg, SSL_CTX **out, struct tls_dates *dates,
		     struct dsc_error *err)
{
	char why[256];
	STACK_OF(X509_NAME) *cas;
	EVP_PKEY *key = NULL;
	SSL_CTX *ctx;
	int rc;

	memset(dates, 0, sizeof(*dates));
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
	if ((rc = server_cert_purpose(cfg, SSL_CTX_get0_certificate(ctx), err)) != DSC_OK)
		goto fail;
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
	if (!asn1_time_secs(X509_get0_notAfter(SSL_CTX_get0_certificate(ctx)),
			    &dates->cert_not_after))
		dates->cert_not_after = 0;
	if (SSL_CTX_load_verify_locations(ctx, cfg->tls.client_ca, NULL) != 1) {
		rc = dsc_error_set(err, DSC_EINVAL,
				   "tls client_ca %s: no PEM CA certificate (-----BEGIN CERTIFICATE-----) "
				   "in it (%s)",
				   cfg->tls.client_ca, ossl_why(why, sizeof(why)));
		goto fail;
	}
	if ((rc = client_ca_judge(cfg, err)) != DSC_OK)
		goto fail;
	cas = SSL_load_client_CA_file(cfg->tls.client_ca);
	if (cas == NULL) {
		rc = dsc_error_set(err, DSC_EINVAL, "tls client_ca %s: no CA certificate in it: %s",
				   cfg->tls.client_ca, ossl_why(why, sizeof(why)));
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ctx, cas);
	if (cfg->tls.crl != NULL && (rc = crl_load(ctx, cfg->tls.crl, dates, err)) != DSC_OK)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
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
	if ((rc = ctx_build(cfg, &t->ctx, &t->dates, err)) != DSC_OK) {
		free(t);
		return rc;
	}
	/* Served all the same, as when the CRL expires while the daemon runs:
	 * a fresh CRL and SIGHUP let the clients in without a restart.
	 * (--check-config, the unit's ExecStartPre, refuses it.) */
	if (crl_stale(cfg, &t->dates, "install a fresh CRL and send SIGHUP", err))
		log_warnx("%s", err->msg);
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
	struct tls_dates dates;
	SSL_CTX *ctx, *old;
	int rc;

	if ((rc = ctx_build(cfg, &ctx, &dates, err)) != DSC_OK)
		return rc;
	/* It would refuse everyone the CRL in use still lets in: a broken
	 * file like any other. */
	if (crl_stale(cfg, &dates, "install a fresh CRL and reload again", err)) {
		SSL_CTX_free(ctx);
		return DSC_EINVAL;
	}
	pthread_mutex_lock(&t->mtx);
	old = t->ctx;
	t->ctx = ctx;
	t->dates = dates;
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

/* A certificate file's first certificate, or why there is none. */
static int cert_first(const char *what, const char *path, X509 **out, struct dsc_error *err)
{
	int rc;
	FILE *f;

	if ((rc = file_readable(what, path, err)) != DSC_OK)
		return rc;
	if ((f = fopen(path, "r")) == NULL)
		return dsc_error_set(err, DSC_EIO, "%s %s: cannot open: %s", what, path,
				     strerror(errno));
	*out = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (*out == NULL) {
		ERR_clear_error();
		return dsc_error_set(err, DSC_EINVAL,
				     "%s %s: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
				     what, path);
	}
	return DSC_OK;
}

/* Whether a certificate is in its validity period. */
static int cert_dates_check(const char *what, const char *path, X509 *cert,
			    struct dsc_error *err)
{
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
		return dsc_error_set(err, DSC_EINVAL, "%s %s has expired", what, path);
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0)
		return dsc_error_set(err, DSC_EINVAL, "%s %s is not valid yet", what, path);
	return DSC_OK;
}

static int server_cert_check(const struct config *cfg, struct dsc_error *err)
{
	X509 *cert;
	int rc;

	if ((rc = cert_first("tls certificate", cfg->tls.certificate, &cert, err)) != DSC_OK)
		return rc;
	if ((rc = cert_dates_check("tls certificate", cfg->tls.certificate, cert, err)) == DSC_OK)
		rc = server_cert_purpose(cfg, cert, err);
	X509_free(cert);
	return rc;
}

static int client_ca_check(const struct config *cfg, struct dsc_error *err)
{
	X509 *cert;
	int rc;

	if ((rc = cert_first("tls client_ca", cfg->tls.client_ca, &cert, err)) != DSC_OK)
		return rc;
	if ((rc = client_ca_judge(cfg, err)) == DSC_OK)
		rc = cert_dates_check("tls client_ca", cfg->tls.client_ca, cert, err);
	X509_free(cert);
	return rc;
}

static int crl_check(const struct config *cfg, struct dsc_error *err)
{
	struct tls_dates dates;
	SSL_CTX *ctx;
	int rc;

	if ((rc = file_readable("tls crl", cfg->tls.crl, err)) != DSC_OK)
		return rc;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		ERR_clear_error();
		return dsc_error_set(err, DSC_ENOMEM, "tls: cannot create a context");
	}
	memset(&dates, 0, sizeof(dates));
	rc = crl_load(ctx, cfg->tls.crl, &dates, err);
	SSL_CTX_free(ctx);
	if (rc == DSC_OK &&
	    crl_stale(cfg, &dates, "install a fresh one (docs/operators-guide.md, section 3)", err))
		rc = DSC_EINVAL;
	return rc;
}

unsigned tls_check_files(const struct config *cfg, config_report_fn report, void *arg)
{
	struct dsc_error err;
	struct tls_dates dates;
	unsigned problems = 0;
	EVP_PKEY *key = NULL;
	SSL_CTX *ctx;

	pthread_once(&conn_idx_once, conn_idx_init);
	/* Each file on its own first, so that each says its problem... */
	if (server_cert_check(cfg, &err) != DSC_OK) {
		report(arg, err.msg);
		problems++;
	}
	if (key_load(cfg->tls.private_key, &key, &err) != DSC_OK) {
		report(arg, err.msg);
		problems++;
	}
	EVP_PKEY_free(key);
	if (client_ca_check(cfg, &err) != DSC_OK) {
		report(arg, err.msg);
		problems++;
	}
	if (cfg->tls.crl != NULL && crl_check(cfg, &err) != DSC_OK) {
		report(arg, err.msg);
		problems++;
	}
	/* ...then together, as the daemon builds them: the key belongs to
	 * the certificate, the chain file and the CA load. */
	if (problems == 0) {
		if (ctx_build(cfg, &ctx, &dates, &err) != DSC_OK) {
			report(arg, err.msg);
			problems++;
		} else {
			SSL_CTX_free(ctx);
		}
	}
	ERR_clear_error();
	return problems;
}

bool tls_server_dates(struct tls_server *t, time_t *cert_not_after, time_t *crl_next_update)
{
	bool has;

	pthread_mutex_lock(&t->mtx);
	*cert_not_after = t->dates.cert_not_after;
	*crl_next_update = t->dates.crl_next;
	has = t->dates.has_crl_next;
	pthread_mutex_unlock(&t->mtx);
	return has;
}
