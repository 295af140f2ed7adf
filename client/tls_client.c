/*
 * tls_client.c - the blocking HTTPS/1.1 client of disclosurectl.
 *
 * One connection at a time, kept alive between requests of one command.
 * The server's certificate must chain to the configured CA and name the
 * host of the URL (DNS name or IP address); there is deliberately no way to
 * switch that off.  When a handshake fails the message says which of the
 * three usual causes it was (unknown CA, expired certificate, host name
 * mismatch) or which alert the server sent about our own certificate, and
 * names the file and the setting it came from.
 *
 * It never prints: errors go back in a struct dsc_error for the caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls_client.h"

#define RBUF_SIZE 16384
#define LINE_MAX_LEN 8192
#define HEADERS_MAX (64u * 1024u)
#define UPLOAD_CHUNK (64u * 1024u)
/* A body this large is announced with "Expect: 100-continue" and sent only
 * once the server says so (or has not answered within EXPECT_WAIT_S): a
 * refusal (413, 401...) then arrives before the body, not in the middle of
 * it, when the server's close would take the answer with it. */
#define EXPECT_MIN (1024u * 1024u)
#define EXPECT_WAIT_S 2

struct https_client {
	char *host, *port, *cert, *key, *ca;
	char *cert_src, *key_src, *ca_src, *server_src;
	int timeout_s;
	bool host_is_ip;
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	unsigned requests_on_conn; /* answered on the current connection */
	int wait_now;              /* seconds the current wait may take, for messages */
	size_t got_bytes;          /* of the current answer: 0 = nothing came back yet */
	size_t put_bytes;          /* of the current request, handed to TLS so far */
	bool body_withheld;        /* the server answered before "100 Continue" */
	bool eof_unclean;          /* the stream ended without a TLS close_notify */
	bool timed_out;            /* the last failure was a timeout */
	char identity[256];
	char own_cert_note[384]; /* "our certificate ... expired on ..." or "" */
	/* What the verify callback saw of the certificate that failed: the
	 * peer certificate is gone once the handshake has failed. */
	char bad_names[512], bad_not_after[64], bad_not_before[64];
	/* The server's own certificate's names, when the one refused was
	 * another of its chain (bad_depth > 0: its CA's, sent along). */
	char leaf_names[512];
	int bad_depth;
	unsigned char rbuf[RBUF_SIZE];
	size_t rpos, rlen;
};

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static const char *src(const char *s)
{
	return s != NULL ? s : "default";
}

/* The reason of the newest OpenSSL error, or fallback. */
static const char *ssl_reason(const char *fallback)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	return r != NULL ? r : fallback;
}

static void asn1_time_text(const ASN1_TIME *t, char *out, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	snprintf(out, cap, "an unknown date");
	if (b == NULL)
		return;
	if (ASN1_TIME_print(b, t) == 1 && (n = BIO_read(b, out, (int)cap - 1)) > 0)
		out[n] = '\0';
	BIO_free(b);
}

/* "DNS:localhost, IP:127.0.0.1" from the subjectAltName, or the subject CN. */
static void cert_names(X509 *x, char *out, size_t cap)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t n = 0;

	out[0] = '\0';
	if (gens != NULL) {
		for (int i = 0; i < sk_GENERAL_NAME_num(gens) && n + 64 < cap; i++) {
			const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
			int w = 0;

			if (g->type == GEN_DNS) {
				w = snprintf(out + n, cap - n, "%sDNS:%.*s", n ? ", " : "",
				             ASN1_STRING_length(g->d.dNSName),
				             (const char *)ASN1_STRING_get0_data(g->d.dNSName));
			} else if (g->type == GEN_IPADD) {
				const unsigned char *ip = ASN1_STRING_get0_data(g->d.iPAddress);
				int len = ASN1_STRING_length(g->d.iPAddress);

				if (len == 4)
					w = snprintf(out + n, cap - n, "%sIP:%u.%u.%u.%u",
					             n ? ", " : "", ip[0], ip[1], ip[2], ip[3]);
				else
					w = snprintf(out + n, cap - n, "%sIP:(IPv6)",
					             n ? ", " : "");
			}
			if (w > 0 && (size_t)w < cap - n)
				n += (size_t)w;
		}
		GENERAL_NAMES_free(gens);
	}
	if (n == 0) {
		char cn[256];

		if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
		                              sizeof(cn)) > 0)
			snprintf(out, cap, "CN=%s (no subjectAltName)", cn);
		else
			snprintf(out, cap, "no names");
	}
}

static int verify_cb(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct https_client *c = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	X509 *x = X509_STORE_CTX_get_current_cert(store);

	if (!ok && c != NULL && x != NULL && c->bad_names[0] == '\0') {
		X509 *leaf = X509_STORE_CTX_get0_cert(store);

		cert_names(x, c->bad_names, sizeof(c->bad_names));
		c->bad_depth = X509_STORE_CTX_get_error_depth(store);
		if (leaf != NULL && leaf != x)
			cert_names(leaf, c->leaf_names, sizeof(c->leaf_names));
		asn1_time_text(X509_get0_notAfter(x), c->bad_not_after, sizeof(c->bad_not_after));
		asn1_time_text(X509_get0_notBefore(x), c->bad_not_before,
		               sizeof(c->bad_not_before));
	}
	return ok;
}

/*
 * A signal (Ctrl-C in a batch, which finishes the row in flight) makes a
 * socket call with SO_RCVTIMEO fail with EINTR even under SA_RESTART;
 * OpenSSL reports that like a timeout.  Such a call is simply repeated.
 */
static bool interrupted_call(SSL *ssl, int r, int saved_errno)
{
	int e = SSL_get_error(ssl, r);

	return saved_errno == EINTR &&
	       (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_SYSCALL);
}

static void close_conn(struct https_client *c)
{
	if (c->ssl != NULL) {
		/* A quiet close: the answer, if any, is already read. */
		SSL_set_quiet_shutdown(c->ssl, 1);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->rpos = c->rlen = 0;
	c->requests_on_conn = 0;
	ERR_clear_error();
}

int https_client_new(const struct tls_endpoint *ep, struct https_client **out,
                     struct dsc_error *err)
{
	struct https_client *c;
	struct in6_addr a6;
	struct in_addr a4;
	X509 *own;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	c->fd = -1;
	c->timeout_s = ep->timeout_s > 0 ? ep->timeout_s : 30;
	c->wait_now = c->timeout_s;
	c->host = dup_or_null(ep->host);
	c->port = dup_or_null(ep->port);
	c->cert = dup_or_null(ep->cert);
	c->key = dup_or_null(ep->key != NULL ? ep->key : ep->cert);
	c->ca = dup_or_null(ep->ca);
	c->cert_src = strdup(src(ep->cert_source));
	c->key_src = strdup(src(ep->key != NULL ? ep->key_source : ep->cert_source));
	c->ca_src = strdup(src(ep->ca_source));
	c->server_src = strdup(src(ep->server_source));
	if (c->host == NULL || c->port == NULL || c->ca == NULL || c->cert_src == NULL ||
	    c->key_src == NULL || c->ca_src == NULL || c->server_src == NULL ||
	    (ep->cert != NULL && (c->cert == NULL || c->key == NULL))) {
		https_client_free(c);
		return dsc_error_set(err, DSC_ENOMEM, "out of memory (or no server or CA given)");
	}
	c->host_is_ip =
	    inet_pton(AF_INET, c->host, &a4) == 1 || inet_pton(AF_INET6, c->host, &a6) == 1;

	ERR_clear_error();
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL) {
		https_client_free(c);
		return dsc_error_set(err, DSC_ENOMEM, "cannot create a TLS context: %s",
		                     ssl_reason("unknown error"));
	}
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(c->ctx, SSL_MODE_AUTO_RETRY);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, verify_cb);

	if (SSL_CTX_load_verify_locations(c->ctx, c->ca, NULL) != 1) {
		int e = dsc_error_set(
		    err, DSC_EINVAL, "cannot read the CA certificates in %s (from %s): %s", c->ca,
		    c->ca_src,
		    access(c->ca, R_OK) != 0 ? strerror(errno)
		                             : ssl_reason("not PEM certificates"));
		https_client_free(c);
		return e;
	}
	if (c->cert != NULL) {
		struct stat st;

		if (SSL_CTX_use_certificate_chain_file(c->ctx, c->cert) != 1) {
			int e = dsc_error_set(
			    err, DSC_EINVAL, "cannot read the client certificate %s (from %s): %s",
			    c->cert, c->cert_src,
			    access(c->cert, R_OK) != 0 ? strerror(errno)
			                               : ssl_reason("not a PEM certificate"));
			https_client_free(c);
			return e;
		}
		if (SSL_CTX_use_PrivateKey_file(c->ctx, c->key, SSL_FILETYPE_PEM) != 1) {
			const char *why = access(c->key, R_OK) != 0
			                      ? strerror(errno)
			                      : ssl_reason("not a PEM private key");
			int e = strstr(why, "mismatch") != NULL
			            ? dsc_error_set(err, DSC_EINVAL,
			                            "the private key %s (from %s) does not belong "
			                            "to the certificate %s (from %s)",
			                            c->key, c->key_src, c->cert, c->cert_src)
			            : dsc_error_set(err, DSC_EINVAL,
			                            "cannot read the private key %s (from %s): %s",
			                            c->key, c->key_src, why);
			https_client_free(c);
			return e;
		}
		if (SSL_CTX_check_private_key(c->ctx) != 1) {
			int e = dsc_error_set(err, DSC_EINVAL,
			                      "the private key %s (from %s) does not belong to the "
			                      "certificate %s (from %s)",
			                      c->key, c->key_src, c->cert, c->cert_src);
			https_client_free(c);
			return e;
		}
		if (stat(c->key, &st) == 0 && (st.st_mode & 0077) != 0)
			fprintf(stderr,
			        "disclosurectl: warning: the private key %s can be read by other "
			        "users (mode %04o); chmod 600 it\n",
			        c->key, (unsigned)(st.st_mode & 07777));
		own = SSL_CTX_get0_certificate(c->ctx);
		if (own != NULL) {
			char when[64];

			X509_NAME_get_text_by_NID(X509_get_subject_name(own), NID_commonName,
			                          c->identity, sizeof(c->identity));
			if (X509_cmp_current_time(X509_get0_notAfter(own)) < 0) {
				asn1_time_text(X509_get0_notAfter(own), when, sizeof(when));
				snprintf(c->own_cert_note, sizeof(c->own_cert_note),
				         "; note: our certificate %s (from %s) expired on %s",
				         c->cert, c->cert_src, when);
			} else if (X509_cmp_current_time(X509_get0_notBefore(own)) > 0) {
				asn1_time_text(X509_get0_notBefore(own), when, sizeof(when));
				snprintf(
				    c->own_cert_note, sizeof(c->own_cert_note),
				    "; note: our certificate %s (from %s) is valid only from %s",
				    c->cert, c->cert_src, when);
			}
		}
	}
	ERR_clear_error();
	*out = c;
	return DSC_OK;
}

void https_client_free(struct https_client *c)
{
	if (c == NULL)
		return;
	close_conn(c);
	SSL_CTX_free(c->ctx);
	free(c->host);
	free(c->port);
	free(c->cert);
	free(c->key);
	free(c->ca);
	free(c->cert_src);
	free(c->key_src);
	free(c->ca_src);
	free(c->server_src);
	free(c);
}

const char *https_client_identity(const struct https_client *c)
{
	return c->identity;
}

void https_response_release(struct https_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static void set_socket_timeout(int fd, int seconds)
{
	struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int tcp_connect(struct https_client *c, struct dsc_error *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res, *ai;
	int r, last_errno = 0, one = 1;

	r = getaddrinfo(c->host, c->port, &hints, &res);
	if (r != 0)
		return dsc_error_set(err, DSC_EIO, "cannot resolve %s (from %s): %s", c->host,
		                     c->server_src, gai_strerror(r));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		                ai->ai_protocol);

		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			last_errno = errno;
			close(fd);
			continue;
		}
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		do
			r = poll(&p, 1, c->timeout_s * 1000);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			last_errno = ETIMEDOUT;
			close(fd);
			continue;
		}
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
			last_errno = r < 0 ? errno : soerr != 0 ? soerr : errno;
			close(fd);
			continue;
		}
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
			last_errno = errno;
			close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		set_socket_timeout(fd, c->timeout_s);
		c->fd = fd;
		freeaddrinfo(res);
		return DSC_OK;
	}
	freeaddrinfo(res);
	return dsc_error_set(err, DSC_EIO, "cannot connect to %s port %s (from %s): %s", c->host,
	                     c->port, c->server_src,
	                     last_errno == ETIMEDOUT ? "timed out" : strerror(last_errno));
}

/* Words for an alert the server sent, which is always about our certificate.
 * own_in_dates: we have a certificate and it is within its dates. */
static const char *alert_words(const char *reason, bool own_in_dates)
{
	if (strstr(reason, "certificate required") != NULL)
		return "the server requires a client certificate; give --cert and --key "
		       "(or DISCLOSURE_CERT/DISCLOSURE_KEY)";
	if (strstr(reason, "unknown ca") != NULL)
		return "the server does not trust our client certificate: it is not issued by the "
		       "CA the server accepts (unknown CA)";
	/* OpenSSL's server sends the same alert when its own CRL is past its
	 * next update: then every client is refused, whatever its dates. */
	if (strstr(reason, "certificate expired") != NULL && own_in_dates)
		return "the server refused our client certificate as expired, but it is within "
		       "its dates: the likelier cause is the server's CRL, past its next update "
		       "(tell the server's administrator)";
	if (strstr(reason, "certificate expired") != NULL)
		return "the server refused our client certificate as expired";
	if (strstr(reason, "certificate revoked") != NULL)
		return "the server refused our client certificate: it has been revoked";
	if (strstr(reason, "bad certificate") != NULL ||
	    strstr(reason, "certificate unknown") != NULL ||
	    strstr(reason, "unsupported certificate") != NULL)
		return "the server refused our client certificate";
	if (strstr(reason, "wrong version number") != NULL ||
	    strstr(reason, "packet length") != NULL)
		return "the server does not speak TLS on this port (is the URL right?)";
	return NULL;
}

/* Sets err for a failed SSL call r on c->ssl during what ("the TLS handshake"). */
static int tls_failure(struct https_client *c, int r, const char *what, struct dsc_error *err)
{
	int e = SSL_get_error(c->ssl, r);
	int saved = errno;
	long vr = SSL_get_verify_result(c->ssl);
	const char *names = c->bad_names[0] ? c->bad_names : "not shown";

	switch (vr) {
	case X509_V_OK:
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		if (c->bad_depth > 0 && c->leaf_names[0] != '\0')
			return dsc_error_set(err, DSC_EIO,
			                     "TLS handshake with %s:%s failed: unknown CA: the server's "
			                     "certificate (%s) comes with a chain up to %s, which is not "
			                     "a CA in %s (from %s): %s",
			                     c->host, c->port, c->leaf_names, names, c->ca, c->ca_src,
			                     X509_verify_cert_error_string(vr));
		return dsc_error_set(err, DSC_EIO,
		                     "TLS handshake with %s:%s failed: unknown CA: the server's "
		                     "certificate (%s) is not signed by a CA in %s (from %s): %s",
		                     c->host, c->port, names, c->ca, c->ca_src,
		                     X509_verify_cert_error_string(vr));
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return dsc_error_set(err, DSC_EIO,
		                     "TLS handshake with %s:%s failed: expired certificate: the "
		                     "server's certificate (%s) expired on %s",
		                     c->host, c->port, names, c->bad_not_after);
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return dsc_error_set(err, DSC_EIO,
		                     "TLS handshake with %s:%s failed: the server's certificate "
		                     "(%s) is not valid before %s (check this machine's clock)",
		                     c->host, c->port, names, c->bad_not_before);
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return dsc_error_set(err, DSC_EIO,
		                     "TLS handshake with %s:%s failed: hostname mismatch: the "
		                     "server's certificate is for %s, not for %s (from %s)",
		                     c->host, c->port, names, c->host, c->server_src);
	default:
		return dsc_error_set(err, DSC_EIO,
		                     "TLS handshake with %s:%s failed: the server's certificate "
		                     "(%s) was refused: %s",
		                     c->host, c->port, names, X509_verify_cert_error_string(vr));
	}
	if (e == SSL_ERROR_SSL) {
		const char *reason = ssl_reason("protocol error");
		const char *words =
		    alert_words(reason, c->cert != NULL && c->own_cert_note[0] == '\0');

		char ours[PATH_MAX + SETTING_SOURCE_MAX + 32];

		if (c->cert != NULL)
			snprintf(ours, sizeof(ours), "our certificate: %s from %s", c->cert,
			         c->cert_src);
		else
			snprintf(ours, sizeof(ours), "no client certificate is configured");
		if (words != NULL)
			return dsc_error_set(err, DSC_EIO, "%s with %s:%s failed: %s (%s; %s)%s",
			                     what, c->host, c->port, words, reason, ours,
			                     c->own_cert_note);
		return dsc_error_set(err, DSC_EIO, "%s with %s:%s failed: %s%s", what, c->host,
		                     c->port, reason, c->own_cert_note);
	}
	/* SO_RCVTIMEO/SO_SNDTIMEO expiring shows up as "want read/write". */
	c->timed_out = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
	               ((e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) &&
	                (saved == EAGAIN || saved == EWOULDBLOCK));
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return dsc_error_set(err, DSC_EIO,
		                     "%s with %s:%s: no answer within %d s (--timeout)", what,
		                     c->host, c->port, c->wait_now);
	if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
		if (saved == EAGAIN || saved == EWOULDBLOCK)
			return dsc_error_set(err, DSC_EIO,
			                     "%s with %s:%s: no answer within %d s (--timeout)",
			                     what, c->host, c->port, c->wait_now);
		if (saved != 0 && e == SSL_ERROR_SYSCALL)
			return dsc_error_set(err, DSC_EIO, "%s with %s:%s failed: %s%s", what,
			                     c->host, c->port, strerror(saved), c->own_cert_note);
		return dsc_error_set(err, DSC_EIO,
		                     "%s with %s:%s failed: the server closed the connection "
		                     "(it may have refused our certificate)%s",
		                     what, c->host, c->port, c->own_cert_note);
	}
	return dsc_error_set(err, DSC_EIO, "%s with %s:%s failed (OpenSSL error %d)", what, c->host,
	                     c->port, e);
}

static int tls_connect(struct https_client *c, struct dsc_error *err)
{
	int r;

	r = tcp_connect(c, err);
	if (r != DSC_OK)
		return r;
	ERR_clear_error();
	c->ssl = SSL_new(c->ctx);
	c->bad_names[0] = '\0';
	c->leaf_names[0] = '\0';
	c->bad_depth = 0;
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_set_app_data(c->ssl, c) != 1) {
		close_conn(c);
		return dsc_error_set(err, DSC_ENOMEM, "cannot set up TLS: %s",
		                     ssl_reason("no memory"));
	}
	if (c->host_is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->host) != 1) {
			close_conn(c);
			return dsc_error_set(err, DSC_EINVAL, "bad IP address %s (from %s)",
			                     c->host, c->server_src);
		}
	} else if (SSL_set_tlsext_host_name(c->ssl, c->host) != 1 ||
	           SSL_set1_host(c->ssl, c->host) != 1) {
		close_conn(c);
		return dsc_error_set(err, DSC_EINVAL, "bad host name %s (from %s)", c->host,
		                     c->server_src);
	}
	do {
		errno = 0;
		r = SSL_connect(c->ssl);
	} while (r != 1 && interrupted_call(c->ssl, r, errno));
	if (r != 1) {
		int e = tls_failure(c, r, "TLS handshake", err);

		close_conn(c);
		return e;
	}
	c->rpos = c->rlen = 0;
	c->requests_on_conn = 0;
	c->wait_now = c->timeout_s;
	return DSC_OK;
}

static int write_all(struct https_client *c, const void *buf, size_t len, struct dsc_error *err)
{
	const unsigned char *p = buf;

	while (len > 0) {
		size_t n = 0;
		int r;

		errno = 0;
		do {
			errno = 0;
			r = SSL_write_ex(c->ssl, p, len, &n);
		} while (r != 1 && interrupted_call(c->ssl, r, errno));
		if (r != 1) {
			unsigned char junk[256];
			size_t got;
			int rr;

			if (c->put_bytes > 0 && SSL_get_error(c->ssl, r) == SSL_ERROR_SYSCALL)
				return dsc_error_set(
				    err, DSC_EIO,
				    "sending the request to %s:%s failed: the server closed the "
				    "connection after %zu bytes of it (a body it would not take, or "
				    "the server stopping)",
				    c->host, c->port, c->put_bytes);
			if (c->requests_on_conn > 0 ||
			    SSL_get_error(c->ssl, r) != SSL_ERROR_SYSCALL)
				return tls_failure(c, r, "sending the request", err);
			/* With TLS 1.3 the server judges our certificate after our side
			 * of the handshake is done, then sends an alert and closes, so
			 * the first write meets a closed socket.  The alert that says
			 * why is still waiting to be read. */
			ERR_clear_error();
			errno = 0;
			rr = SSL_read_ex(c->ssl, junk, sizeof(junk), &got);
			if (rr != 1 && SSL_get_error(c->ssl, rr) == SSL_ERROR_SSL &&
			    ERR_GET_REASON(ERR_peek_error()) != SSL_R_UNEXPECTED_EOF_WHILE_READING)
				return tls_failure(c, rr, "sending the request", err);
			ERR_clear_error();
			return dsc_error_set(
			    err, DSC_EIO,
			    "sending the request to %s:%s failed: the server closed the "
			    "connection right after the handshake; it probably refused "
			    "our client certificate (%s from %s)%s",
			    c->host, c->port, c->cert ? c->cert : "none",
			    c->cert ? c->cert_src : "not configured", c->own_cert_note);
		}
		p += n;
		len -= n;
		c->put_bytes += n;
	}
	return DSC_OK;
}

/* 1: bytes buffered, 0: end of stream, <0: failure with err set. */
static int fill(struct https_client *c, struct dsc_error *err)
{
	size_t n = 0;
	int r;

	if (c->rpos < c->rlen)
		return 1;
	errno = 0;
	do {
		errno = 0;
		r = SSL_read_ex(c->ssl, c->rbuf, sizeof(c->rbuf), &n);
	} while (r != 1 && interrupted_call(c->ssl, r, errno));
	if (r == 1) {
		c->rpos = 0;
		c->rlen = n;
		c->got_bytes += n;
		return 1;
	}
	if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN)
		return 0;
	/* A peer that closes without close_notify (many do after "Connection:
	 * close") ends the stream too; an answer framed by a length or chunks
	 * shows by itself whether it came whole, one with neither does not
	 * (read_response), hence eof_unclean.  Not SSL_OP_IGNORE_UNEXPECTED_EOF:
	 * with it OpenSSL reports such an end as a close_notify. */
	if ((SSL_get_error(c->ssl, r) == SSL_ERROR_SSL &&
	     ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
	    (SSL_get_error(c->ssl, r) == SSL_ERROR_SYSCALL && errno == 0 && ERR_peek_error() == 0)) {
		ERR_clear_error();
		c->eof_unclean = true;
		return 0;
	}
	return tls_failure(c, r, "reading the answer", err);
}

/* Reads one line without its CRLF.  *eof set if the stream ended first. */
static int read_line(struct https_client *c, char *line, size_t cap, bool *eof,
                     struct dsc_error *err)
{
	size_t n = 0;

	*eof = false;
	for (;;) {
		int r = fill(c, err);

		if (r < 0)
			return r;
		if (r == 0) {
			*eof = true;
			return n == 0 ? DSC_OK
			              : dsc_error_set(err, DSC_EIO,
			                              "the server closed the connection mid-line");
		}
		while (c->rpos < c->rlen) {
			char ch = (char)c->rbuf[c->rpos++];

			if (ch == '\n') {
				if (n > 0 && line[n - 1] == '\r')
					n--;
				line[n] = '\0';
				return DSC_OK;
			}
			if (n + 1 >= cap)
				return dsc_error_set(
				    err, DSC_EIO,
				    "the server sent a header line longer than %zu bytes", cap);
			line[n++] = ch;
		}
	}
}

static int read_exact(struct https_client *c, unsigned char *dst, size_t len, struct dsc_error *err)
{
	while (len > 0) {
		int r = fill(c, err);
		size_t n;

		if (r < 0)
			return r;
		if (r == 0)
			return dsc_error_set(err, DSC_EIO,
			                     "the server closed the connection before the end of "
			                     "the answer (%zu bytes missing)",
			                     len);
		n = c->rlen - c->rpos;
		if (n > len)
			n = len;
		memcpy(dst, c->rbuf + c->rpos, n);
		c->rpos += n;
		dst += n;
		len -= n;
	}
	return DSC_OK;
}

static int body_grow(struct https_response *out, size_t *cap, size_t need, struct dsc_error *err)
{
	size_t ncap;
	unsigned char *p;

	if (need > HTTPS_MAX_RESPONSE)
		return dsc_error_set(err, DSC_ETOOBIG,
		                     "the answer is larger than %u MiB; refusing to hold it",
		                     HTTPS_MAX_RESPONSE >> 20);
	if (need + 1 <= *cap)
		return DSC_OK;
	ncap = *cap ? *cap : 4096;
	while (ncap < need + 1)
		ncap *= 2;
	if (ncap > (size_t)HTTPS_MAX_RESPONSE + 1)
		ncap = (size_t)HTTPS_MAX_RESPONSE + 1;
	p = realloc(out->body, ncap);
	if (p == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory for a %zu-byte answer", need);
	out->body = p;
	*cap = ncap;
	return DSC_OK;
}

static int read_chunked(struct https_client *c, struct https_response *out, size_t *cap,
                        struct dsc_error *err)
{
	char line[LINE_MAX_LEN];
	bool eof;
	int r;

	for (;;) {
		char *end;
		unsigned long long size;

		r = read_line(c, line, sizeof(line), &eof, err);
		if (r != DSC_OK)
			return r;
		if (eof)
			return dsc_error_set(err, DSC_EIO, "the answer ended inside a chunk");
		errno = 0;
		size = strtoull(line, &end, 16);
		if (end == line || errno != 0 || (*end != '\0' && *end != ';' && *end != ' '))
			return dsc_error_set(err, DSC_EIO, "bad chunk size line from the server");
		if (size == 0)
			break;
		if (size > HTTPS_MAX_RESPONSE)
			return dsc_error_set(err, DSC_ETOOBIG,
			                     "a chunk of the answer is too large");
		r = body_grow(out, cap, out->len + (size_t)size, err);
		if (r != DSC_OK)
			return r;
		r = read_exact(c, out->body + out->len, (size_t)size, err);
		if (r != DSC_OK)
			return r;
		out->len += (size_t)size;
		r = read_line(c, line, sizeof(line), &eof, err);
		if (r != DSC_OK)
			return r;
		if (eof || line[0] != '\0')
			return dsc_error_set(err, DSC_EIO, "bad chunk ending from the server");
	}
	do { /* trailers, ignored */
		r = read_line(c, line, sizeof(line), &eof, err);
		if (r != DSC_OK)
			return r;
	} while (!eof && line[0] != '\0');
	return DSC_OK;
}

static void copy_header_value(char *dst, size_t cap, const char *v)
{
	size_t n = strcspn(v, "\r\n");

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/*
 * Reads one answer.  *nothing is set when the stream ended before its first
 * byte (a kept-alive connection the server had already closed).
 */
static int read_response(struct https_client *c, bool head, struct https_response *out,
                         bool *must_close, bool *nothing, struct dsc_error *err)
{
	char line[LINE_MAX_LEN];
	size_t cap = 0, header_bytes;
	long long content_length;
	bool chunked, eof;
	int r, minor;

	*nothing = false;
	*must_close = false;
	for (;;) { /* skip 1xx answers */
		r = read_line(c, line, sizeof(line), &eof, err);
		if (r != DSC_OK)
			return r;
		if (eof) {
			*nothing = true;
			return dsc_error_set(err, DSC_EIO,
			                     "the server closed the connection without answering");
		}
		if (sscanf(line, "HTTP/1.%d %3d", &minor, &out->status) != 2 || out->status < 100 ||
		    out->status > 599)
			return dsc_error_set(
			    err, DSC_EIO, "the server's answer is not HTTP/1.x: \"%.60s\"", line);
		if (minor == 0)
			*must_close = true;
		content_length = -1;
		chunked = false;
		header_bytes = 0;
		for (;;) {
			char *colon, *v;

			r = read_line(c, line, sizeof(line), &eof, err);
			if (r != DSC_OK)
				return r;
			if (eof)
				return dsc_error_set(
				    err, DSC_EIO,
				    "the server closed the connection in the headers");
			if (line[0] == '\0')
				break;
			header_bytes += strlen(line) + 2;
			if (header_bytes > HEADERS_MAX)
				return dsc_error_set(err, DSC_EIO,
				                     "the server's headers are too long");
			colon = strchr(line, ':');
			if (colon == NULL)
				continue;
			*colon = '\0';
			v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			if (strcasecmp(line, "Content-Length") == 0) {
				char *end;

				errno = 0;
				content_length = strtoll(v, &end, 10);
				if (errno != 0 || end == v || content_length < 0)
					return dsc_error_set(err, DSC_EIO,
					                     "bad Content-Length from the server");
			} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
				chunked = strcasestr(v, "chunked") != NULL;
			} else if (strcasecmp(line, "Connection") == 0) {
				if (strcasestr(v, "close") != NULL)
					*must_close = true;
			} else if (strcasecmp(line, "X-Request-Id") == 0) {
				copy_header_value(out->request_id, sizeof(out->request_id), v);
			} else if (strcasecmp(line, "X-Audit-Seq") == 0) {
				copy_header_value(out->audit_seq, sizeof(out->audit_seq), v);
			} else if (strcasecmp(line, "X-Audit-Hash") == 0) {
				copy_header_value(out->audit_hash, sizeof(out->audit_hash), v);
			} else if (strcasecmp(line, "Content-Type") == 0) {
				copy_header_value(out->content_type, sizeof(out->content_type), v);
				out->content_type[strcspn(out->content_type, "; ")] = '\0';
				for (char *p = out->content_type; *p; p++)
					if (*p >= 'A' && *p <= 'Z')
						*p = (char)(*p - 'A' + 'a');
			}
		}
		if (out->status >= 200)
			break;
	}

	r = body_grow(out, &cap, 0, err);
	if (r != DSC_OK)
		return r;
	if (head || out->status == 204 || out->status == 304) {
		/* no body */
	} else if (chunked) {
		r = read_chunked(c, out, &cap, err);
		if (r != DSC_OK)
			return r;
	} else if (content_length >= 0) {
		if ((unsigned long long)content_length > HTTPS_MAX_RESPONSE)
			return dsc_error_set(err, DSC_ETOOBIG,
			                     "the answer (%lld bytes) is larger than %u MiB",
			                     content_length, HTTPS_MAX_RESPONSE >> 20);
		r = body_grow(out, &cap, (size_t)content_length, err);
		if (r != DSC_OK)
			return r;
		r = read_exact(c, out->body, (size_t)content_length, err);
		if (r != DSC_OK)
			return r;
		out->len = (size_t)content_length;
	} else {
		/* Neither length nor chunks: the body runs to the end of the connection. */
		*must_close = true;
		for (;;) {
			size_t n;

			r = fill(c, err);
			if (r < 0)
				return r;
			if (r == 0) {
				/* Only close_notify ends such a body: a bare close
				 * may be an answer cut short. */
				if (c->eof_unclean)
					return dsc_error_set(
					    err, DSC_EIO,
					    "the answer was cut short: the server's connection ended "
					    "without a TLS close_notify after %zu bytes of an answer "
					    "with no length",
					    out->len);
				break;
			}
			n = c->rlen - c->rpos;
			r = body_grow(out, &cap, out->len + n, err);
			if (r != DSC_OK)
				return r;
			memcpy(out->body + out->len, c->rbuf + c->rpos, n);
			c->rpos += n;
			out->len += n;
		}
	}
	out->body[out->len] = '\0';
	return DSC_OK;
}

/*
 * After a head with "Expect: 100-continue": waits up to EXPECT_WAIT_S for
 * the server.  "100 Continue" is read and the body is to follow; a final
 * answer is left unread (c->body_withheld: it is read as the answer, and
 * the body is never sent); silence means the body is sent anyway.
 */
static int await_continue(struct https_client *c, struct dsc_error *err)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	char line[LINE_MAX_LEN];
	bool eof;
	int r;

	if (c->rpos == c->rlen && SSL_pending(c->ssl) == 0) {
		do
			r = poll(&p, 1, EXPECT_WAIT_S * 1000);
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			return DSC_OK; /* no word: send it */
	}
	r = fill(c, err);
	if (r < 0)
		return r;
	if (r == 0) {
		c->body_withheld = true; /* closed: read_response says so */
		return DSC_OK;
	}
	/* A status line at the front of what arrived: 100 is taken here, any
	 * other left for read_response. */
	if (c->rlen - c->rpos < 12 || memcmp(c->rbuf + c->rpos, "HTTP/1.", 7) != 0 ||
	    memcmp(c->rbuf + c->rpos + 8, " 100", 4) != 0) {
		c->body_withheld = true;
		return DSC_OK;
	}
	do {
		r = read_line(c, line, sizeof(line), &eof, err);
		if (r != DSC_OK)
			return r;
		if (eof)
			return dsc_error_set(err, DSC_EIO,
			                     "the server closed the connection after 100 Continue");
	} while (line[0] != '\0'); /* its status line, then any headers */
	return DSC_OK;
}

static int send_request(struct https_client *c, const char *method, const char *target,
                        const struct https_body *body, struct dsc_error *err)
{
	char head[4096];
	int n;
	int r;

	bool expect = body != NULL && body->content_type != NULL && body->len >= EXPECT_MIN;

	if (body != NULL && body->content_type != NULL)
		n = snprintf(head, sizeof(head),
		             "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: disclosurectl/%s\r\n"
		             "Accept: application/json, application/x-ndjson\r\n"
		             "Content-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
		             method, target, strchr(c->host, ':') ? "[" : "", c->host,
		             strchr(c->host, ':') ? "]" : "", c->port, VERSION, body->content_type,
		             body->len, expect ? "Expect: 100-continue\r\n" : "");
	else
		n = snprintf(head, sizeof(head),
		             "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: disclosurectl/%s\r\n"
		             "Accept: application/json, application/x-ndjson\r\n\r\n",
		             method, target, strchr(c->host, ':') ? "[" : "", c->host,
		             strchr(c->host, ':') ? "]" : "", c->port, VERSION);
	if (n < 0 || (size_t)n >= sizeof(head))
		return dsc_error_set(err, DSC_EINVAL, "request target too long: %.80s...", target);
	r = write_all(c, head, (size_t)n, err);
	if (r != DSC_OK || body == NULL || body->content_type == NULL)
		return r;
	if (expect && (r = await_continue(c, err)) != DSC_OK)
		return r;
	if (c->body_withheld)
		return DSC_OK; /* the server answered already: that answer is read next */
	if (body->data != NULL || body->read == NULL)
		return write_all(c, body->data, body->len, err);

	unsigned char *buf = malloc(UPLOAD_CHUNK);
	size_t sent = 0;

	if (buf == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	for (;;) {
		size_t got = 0;

		r = body->read(body->arg, buf, UPLOAD_CHUNK, &got, err);
		if (r != DSC_OK)
			break;
		if (got == 0)
			break;
		if (got > body->len - sent) {
			r = dsc_error_set(err, DSC_EIO,
			                  "the upload grew while it was being sent (announced %zu "
			                  "bytes)",
			                  body->len);
			break;
		}
		r = write_all(c, buf, got, err);
		if (r != DSC_OK)
			break;
		sent += got;
	}
	free(buf);
	if (r == DSC_OK && sent != body->len)
		r = dsc_error_set(err, DSC_EIO,
		                  "the upload shrank while it was being sent (%zu of %zu bytes)",
		                  sent, body->len);
	return r;
}

/*
 * Whether a kept-alive connection may be used for another request: the
 * server has sent nothing since the last answer (data or a close there
 * would mean it closed the connection, or is about to).  A look without
 * waiting.
 */
static bool conn_still_open(struct https_client *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	int r;

	if (c->rpos < c->rlen || SSL_pending(c->ssl) > 0)
		return false;
	do
		r = poll(&p, 1, 0);
	while (r < 0 && errno == EINTR);
	return r == 0;
}

int https_request(struct https_client *c, const char *method, const char *target,
                  const struct https_body *body, int wait_s, struct https_response *out,
                  struct dsc_error *err)
{
	bool streamed =
	    body != NULL && body->content_type != NULL && body->data == NULL && body->read != NULL;

	memset(out, 0, sizeof(*out));
	for (int attempt = 0;; attempt++) {
		bool reused, must_close = false, nothing = false, sent = false;
		int r;

		if (c->ssl != NULL && !conn_still_open(c))
			close_conn(c); /* closed by the server while idle: not reused */
		if (c->ssl == NULL) {
			r = tls_connect(c, err);
			if (r != DSC_OK)
				return r;
		}
		reused = c->requests_on_conn > 0;
		c->got_bytes = 0;
		c->put_bytes = 0;
		c->body_withheld = false;
		c->eof_unclean = false;
		c->timed_out = false;
		r = send_request(c, method, target, body, err);
		if (r == DSC_OK) {
			sent = true;
			c->wait_now = wait_s > 0 ? wait_s : c->timeout_s;
			set_socket_timeout(c->fd, c->wait_now);
			r = read_response(c, strcmp(method, "HEAD") == 0, out, &must_close,
			                  &nothing, err);
			if (c->fd >= 0)
				set_socket_timeout(c->fd, c->timeout_s);
		}
		if (r == DSC_OK) {
			c->requests_on_conn++;
			/* A body announced but not sent leaves the connection where
			 * only a close is safe. */
			if (must_close || c->body_withheld)
				close_conn(c);
			return DSC_OK;
		}
		close_conn(c);
		https_response_release(out);
		/* A kept-alive connection closed by the server just as the request
		 * went out (one closed while idle is caught above): one fresh try,
		 * only if the request could not be handed over whole, as then the
		 * server cannot have acted on it.  Once it was, the server may have
		 * run it and died before answering: sending it again would run a
		 * check twice under one record of the request log, so the caller
		 * is told instead.  Never for a streamed upload, which cannot be
		 * replayed. */
		if (sent && nothing && c->got_bytes == 0)
			dsc_error_set(err, DSC_EIO,
			              "the server closed the connection without answering; it may "
			              "or may not have acted on the request (it is in the request "
			              "log: see `disclosurectl log`)");
		if (!reused || attempt > 0 || streamed || sent)
			return r;
		dsc_error_clear(err);
	}
}
