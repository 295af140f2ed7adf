/*
 * test_config.c - disclosured.conf (lib/config.c): defaults, every key of
 * the contract, relative paths, and a table of broken files, each named
 * for the rule it breaks, with the "FILE:LINE: ..." message an operator
 * would read.  Run from tests/unit (make check-unit does).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "disclosure/config.h"

#define CONF "fixtures/disclosured.conf" /* the folder exists; the file need not */

#define LISTEN "[server]\nlisten = 127.0.0.1:8443\n"
#define REST                                                                                       \
	"[tls]\ncertificate = /etc/d/server.crt\nprivate_key = /etc/d/server.key\n"                \
	"client_ca = /etc/d/ca.crt\n"                                                              \
	"[store]\npath = /var/lib/disclosured\n"                                                   \
	"[audit]\nsigning_key = /etc/d/audit.pem\n"                                                \
	"[access]\nacl = /etc/d/acl.conf\n"
#define MINIMAL LISTEN REST /* [server] is lines 1-2, so a key added after it is line 3 */

static void minimal_file_takes_the_contract_defaults(void **state)
{
	struct dsc_error err;
	struct config *c;

	(void)state;
	assert_int_equal(config_parse(MINIMAL, strlen(MINIMAL), CONF, &c, &err), DSC_OK);
	assert_string_equal(c->path, CONF);
	assert_string_equal(c->server.host, "127.0.0.1");
	assert_string_equal(c->server.port, "8443");
	assert_int_equal(c->server.workers, 2);
	assert_int_equal(c->server.max_connections, 1024);
	assert_int_equal(c->server.request_timeout, 10);
	assert_int_equal(c->server.max_body, 1048576);
	assert_int_equal(c->server.max_bulk_body, 268435456);
	assert_int_equal(c->server.rate_limit, 0);
	assert_int_equal(c->server.max_connections_per_principal, 0);
	assert_int_equal(c->store.map_size, 17179869184ull);
	assert_int_equal(c->store.preallocate, 268435456u);
	assert_int_equal(c->audit.checkpoint_every, 1000);
	assert_int_equal(c->audit.checkpoint_seconds, 60);
	assert_string_equal(c->tls.certificate, "/etc/d/server.crt");
	assert_string_equal(c->tls.private_key, "/etc/d/server.key");
	assert_string_equal(c->tls.client_ca, "/etc/d/ca.crt");
	assert_null(c->tls.crl);
	assert_string_equal(c->store.path, "/var/lib/disclosured");
	assert_string_equal(c->audit.signing_key, "/etc/d/audit.pem");
	assert_string_equal(c->access.acl, "/etc/d/acl.conf");
	assert_null(c->match.nicknames);
	assert_null(c->match.surnames);
	config_free(c);
}

static void every_key_is_read_and_relative_paths_follow_the_file(void **state)
{
	struct dsc_error err;
	struct config *c;
	char dir[PATH_MAX], want[PATH_MAX + 64];

	(void)state;
	assert_non_null(realpath("fixtures", dir));
	assert_int_equal(config_load("fixtures/config-relative.conf", &c, &err), DSC_OK);
	assert_string_equal(c->server.host, "::1");
	assert_string_equal(c->server.port, "8443");
	assert_int_equal(c->server.workers, 4);
	assert_int_equal(c->server.max_connections, 64);
	assert_int_equal(c->server.request_timeout, 5);
	assert_int_equal(c->server.max_body, 65536);
	assert_int_equal(c->server.max_bulk_body, 1048576);
	assert_int_equal(c->server.rate_limit, 20);
	assert_int_equal(c->server.max_connections_per_principal, 12);
	assert_int_equal(c->store.map_size, 1073741824);
	assert_int_equal(c->store.preallocate, 0);
	assert_int_equal(c->audit.checkpoint_every, 10);
	assert_int_equal(c->audit.checkpoint_seconds, 5);
	snprintf(want, sizeof(want), "%s/certs/server.crt", dir);
	assert_string_equal(c->tls.certificate, want);
	snprintf(want, sizeof(want), "%s/certs/server.key", dir);
	assert_string_equal(c->tls.private_key, want);
	snprintf(want, sizeof(want), "%s/certs/clients-ca.crt", dir);
	assert_string_equal(c->tls.client_ca, want);
	assert_string_equal(c->tls.crl, "/etc/disclosured/clients.crl");
	snprintf(want, sizeof(want), "%s/../state", dir);
	assert_string_equal(c->store.path, want);
	snprintf(want, sizeof(want), "%s/audit-ed25519.pem", dir);
	assert_string_equal(c->audit.signing_key, want);
	snprintf(want, sizeof(want), "%s/acl-valid.conf", dir);
	assert_string_equal(c->access.acl, want);
	snprintf(want, sizeof(want), "%s/nicknames.tsv", dir);
	assert_string_equal(c->match.nicknames, want);
	snprintf(want, sizeof(want), "%s/surnames.tsv", dir);
	assert_string_equal(c->match.surnames, want);
	config_free(c);
}

struct listen_case {
	const char *name;
	const char *listen;
	const char *host, *port; /* NULL host: refused with msg */
	const char *msg;
};

static const struct listen_case listen_cases[] = {
    {"IPv4 address and port", "127.0.0.1:8443", "127.0.0.1", "8443", NULL},
    {"every IPv4 address", "0.0.0.0:443", "0.0.0.0", "443", NULL},
    {"host name", "localhost:8443", "localhost", "8443", NULL},
    {"IPv6 in brackets", "[::1]:8443", "::1", "8443", NULL},
    {"every IPv6 address", "[::]:1", "::", "1", NULL},
    {"no port", "127.0.0.1", NULL, NULL,
     "listen: '127.0.0.1' has no port; write host:port, e.g. 127.0.0.1:8443"},
    {"IPv6 without brackets", "::1:8443", NULL, NULL,
     "listen: IPv6 addresses need brackets, e.g. [::1]:8443"},
    {"port zero", "127.0.0.1:0", NULL, NULL, "listen: port '0' is not a number from 1 to 65535"},
    {"port too large", "127.0.0.1:65536", NULL, NULL,
     "listen: port '65536' is not a number from 1 to 65535"},
    {"port by name", "127.0.0.1:https", NULL, NULL,
     "listen: port 'https' is not a number from 1 to 65535"},
    {"brackets without a colon", "[::1]8443", NULL, NULL, "listen: '[::1]8443' is not [IPv6]:port"},
    {"not an IPv6 address in brackets", "[localhost]:8443", NULL, NULL,
     "listen: 'localhost' is not an IPv6 address"},
    {"no host", ":8443", NULL, NULL,
     "listen: ':8443' has no host; write e.g. 0.0.0.0:8443 for every address"},
    {"host with a slash", "a/b:8443", NULL, NULL, "listen: 'a/b' is not a host name or address"},
};

static void listen_addresses_are_parsed_or_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(listen_cases) / sizeof(listen_cases[0]); i++) {
		const struct listen_case *t = &listen_cases[i];
		char text[1024], want[256];
		struct dsc_error err;
		struct config *c;
		int rc;

		snprintf(text, sizeof(text), "[server]\nlisten = %s\n%s", t->listen, REST);
		rc = config_parse(text, strlen(text), CONF, &c, &err);
		if (t->host != NULL) {
			if (rc != DSC_OK)
				fail_msg("case '%s': refused: %s", t->name, err.msg);
			assert_string_equal(c->server.host, t->host);
			assert_string_equal(c->server.port, t->port);
			config_free(c);
		} else {
			snprintf(want, sizeof(want), "%s:2: %s", CONF, t->msg);
			if (rc != DSC_EINVAL || strcmp(err.msg, want) != 0)
				fail_msg("case '%s':\n  got      '%s'\n  expected '%s'", t->name,
				         rc == DSC_OK ? "accepted" : err.msg, want);
			assert_null(c);
		}
	}
}

struct bad_case {
	const char *name;
	const char *text;
	const char *msg; /* after "fixtures/disclosured.conf" */
};

static const struct bad_case bad_cases[] = {
    {"unknown key names its section and line", LISTEN "listne = 1\n" REST,
     ":3: unknown key 'listne' in [server]"},
    {"unknown section names its line", MINIMAL "[srever]\nworkers = 2\n",
     ":13: unknown section [srever] (sections: server, tls, store, audit, access, match)"},
    {"key given twice", LISTEN "workers = 2\nworkers = 3\n" REST,
     ":4: key 'workers' in [server] given twice (first at line 3)"},
    {"section given twice", MINIMAL "[server]\nworkers = 3\n",
     ":13: section [server] appears twice (first at line 1)"},
    {"key before any section", "workers = 2\n" MINIMAL, ":1: key 'workers' before any [section]"},
    {"workers zero", LISTEN "workers = 0\n" REST,
     ":3: workers must be a whole number from 1 to 256, not '0'"},
    {"workers in words", LISTEN "workers = two\n" REST,
     ":3: workers must be a whole number from 1 to 256, not 'two'"},
    {"negative timeout", LISTEN "request_timeout = -1\n" REST,
     ":3: request_timeout must be a whole number from 1 to 3600, not '-1'"},
    {"number that overflows", LISTEN "max_connections = 99999999999999999999999\n" REST,
     ":3: max_connections must be a whole number from 1 to 1000000, not "
     "'99999999999999999999999'"},
    {"size with a unit suffix", LISTEN "max_body = 1M\n" REST,
     ":3: max_body must be a whole number from 1024 to 1073741824, not '1M'"},
    {"checkpoint_every zero", LISTEN "[audit]\ncheckpoint_every = 0\n" REST,
     ":4: checkpoint_every must be a whole number from 1 to 1000000, not '0'"},
    {"max_body larger than max_bulk_body",
     LISTEN "max_body = 1048576\nmax_bulk_body = 65536\n" REST,
     ":4: max_body (1048576) is larger than max_bulk_body (65536)"},
    {"empty value", LISTEN "workers =\n" REST, ":3: workers: no value"},
    {"missing listen", "[server]\nworkers = 2\n" REST,
     ": missing required key 'listen' in [server]"},
    {"missing acl",
     LISTEN "[tls]\ncertificate = a\nprivate_key = b\nclient_ca = c\n[store]\npath = d\n"
            "[audit]\nsigning_key = e\n",
     ": missing required key 'acl' in [access]"},
    {"not a key line", MINIMAL "listen 127.0.0.1\n",
     ":13: expected 'key = value', '[section]' or a comment"},
    {"NUL byte in the file", "[server]\nlisten = 1.2.3.4:1\0\n" REST, ":2: line holds a NUL byte"},
};

static void broken_files_are_refused_with_file_and_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *t = &bad_cases[i];
		char want[512];
		struct dsc_error err;
		struct config *c = (struct config *)1;
		size_t len = strlen(t->text);
		int rc;

		if (strstr(t->name, "NUL") != NULL)
			len += 1 + strlen(t->text + len + 1);
		snprintf(want, sizeof(want), "%s%s", CONF, t->msg);
		rc = config_parse(t->text, len, CONF, &c, &err);
		if (rc != DSC_EINVAL || strcmp(err.msg, want) != 0)
			fail_msg("case '%s':\n  got      '%s'\n  expected '%s'", t->name,
			         rc == DSC_OK ? "accepted" : err.msg, want);
		assert_null(c);
	}
}

static void ranges_accept_their_bounds(void **state)
{
	static const char text[] = "[server]\nlisten = 127.0.0.1:1\nworkers = 256\n"
	                           "max_connections = 1\nrequest_timeout = 3600\nrate_limit = 0\n"
	                           "max_body = 1024\nmax_bulk_body = 17179869184\n"
	                           "[audit]\ncheckpoint_every = 1\ncheckpoint_seconds = 86400\n"
	                           "signing_key = k\n"
	                           "[tls]\ncertificate = a\nprivate_key = b\nclient_ca = c\n"
	                           "[store]\npath = d\nmap_size = 1048576\n[access]\nacl = e\n";
	struct dsc_error err;
	struct config *c;

	(void)state;
	assert_int_equal(config_parse(text, strlen(text), CONF, &c, &err), DSC_OK);
	assert_int_equal(c->server.workers, 256);
	assert_int_equal(c->server.max_bulk_body, 17179869184ull);
	assert_int_equal(c->audit.checkpoint_seconds, 86400);
	assert_int_equal(c->store.map_size, 1048576);
	config_free(c);
}

static void imagined_folder_still_resolves_relative_paths(void **state)
{
	static const char text[] =
	    "[server]\nlisten = 127.0.0.1:8443\n"
	    "[tls]\ncertificate = server.crt\nprivate_key = k\nclient_ca = c\n"
	    "[store]\npath = /var/lib/d\n[audit]\nsigning_key = a.pem\n"
	    "[access]\nacl = acl.conf\n";
	struct dsc_error err;
	struct config *c;

	(void)state;
	assert_int_equal(config_parse(text, strlen(text), "/nonexistent/etc/d.conf", &c, &err),
	                 DSC_OK);
	assert_string_equal(c->tls.certificate, "/nonexistent/etc/server.crt");
	assert_string_equal(c->access.acl, "/nonexistent/etc/acl.conf");
	assert_string_equal(c->store.path, "/var/lib/d");
	config_free(c);
}

static void missing_file_says_why(void **state)
{
	struct dsc_error err;
	struct config *c;

	(void)state;
	assert_int_equal(config_load("fixtures/no-such.conf", &c, &err), DSC_EIO);
	assert_null(c);
	assert_string_equal(err.msg, "fixtures/no-such.conf: No such file or directory");
}

/* A file in the system's temporary folder, of this mode; its path in
 * path (to unlink). */
static void temp_file(const char *text, mode_t mode, char path[64])
{
	int fd;

	snprintf(path, 64, "/tmp/test_config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void a_file_others_may_write_is_refused(void **state)
{
	struct dsc_error err;
	struct config *c;
	char path[64], want[512];

	(void)state;
	temp_file(MINIMAL, 0646, path);
	assert_int_equal(config_load(path, &c, &err), DSC_EPERM);
	assert_null(c);
	snprintf(want, sizeof(want),
	         "configuration %s is writable by others (mode 646): any user of this machine "
	         "could point the daemon at a CA, an ACL or keys of their own; take that away: "
	         "chmod o-w %s",
	         path, path);
	assert_string_equal(err.msg, want);
	assert_int_equal(chmod(path, 0664), 0); /* its group may: root:disclosured 0660 */
	assert_int_equal(config_load(path, &c, &err), DSC_OK);
	config_free(c);
	unlink(path);
}

struct said {
	char msg[8][512];
	unsigned n;
};

static void say(void *arg, const char *msg)
{
	struct said *s = arg;

	if (s->n < 8)
		snprintf(s->msg[s->n], sizeof(s->msg[0]), "%s", msg);
	s->n++;
}

static void check_says_every_problem_and_reads_on(void **state)
{
	/* line 3: a bad value; 4: not a key; 5-6: an unknown section, whose
	 * key is not blamed on its own; 16-17: [access] again, its key not
	 * blamed either; and [tls] lacks a required key */
	static const char text[] = "[server]\nlisten = 127.0.0.1:8443\nworkers = 0\nno key here\n"
	                           "[srever]\nworkers = 2\n"
	                           "[tls]\ncertificate = c.crt\nprivate_key = k.pem\n"
	                           "[store]\npath = /var/lib/d\n"
	                           "[audit]\nsigning_key = a.pem\n[access]\nacl = acl.conf\n"
	                           "[access]\nacl = other.conf\n";
	struct said said;
	struct config *c;
	char path[64], want[6][256];

	(void)state;
	memset(&said, 0, sizeof(said));
	temp_file(text, 0644, path);
	assert_int_equal(config_check(path, &c, say, &said), 5);
	snprintf(want[0], sizeof(want[0]),
	         "%s:3: workers must be a whole number from 1 to 256, not '0'", path);
	snprintf(want[1], sizeof(want[1]), "%s:4: expected 'key = value', '[section]' or a comment",
	         path);
	snprintf(
	    want[2], sizeof(want[2]),
	    "%s:5: unknown section [srever] (sections: server, tls, store, audit, access, match)",
	    path);
	snprintf(want[3], sizeof(want[3]),
	         "%s:16: section [access] appears twice (first at line 14)", path);
	snprintf(want[4], sizeof(want[4]), "%s: missing required key 'client_ca' in [tls]", path);
	for (unsigned i = 0; i < 5; i++)
		assert_string_equal(said.msg[i], want[i]);
	/* What the file did give is there, for the checks of the files. */
	assert_non_null(c);
	assert_string_equal(c->server.host, "127.0.0.1");
	assert_int_equal(c->server.workers, 2); /* the default */
	assert_null(c->tls.client_ca);
	assert_string_equal(c->store.path, "/var/lib/d");
	assert_int_equal(config_line(c, "store", "path"), 11);
	assert_int_equal(config_line(c, "tls", "crl"), 0);
	config_free(c);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(minimal_file_takes_the_contract_defaults),
	    cmocka_unit_test(every_key_is_read_and_relative_paths_follow_the_file),
	    cmocka_unit_test(listen_addresses_are_parsed_or_refused),
	    cmocka_unit_test(broken_files_are_refused_with_file_and_line),
	    cmocka_unit_test(ranges_accept_their_bounds),
	    cmocka_unit_test(imagined_folder_still_resolves_relative_paths),
	    cmocka_unit_test(missing_file_says_why),
	    cmocka_unit_test(a_file_others_may_write_is_refused),
	    cmocka_unit_test(check_says_every_problem_and_reads_on),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
