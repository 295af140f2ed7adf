/*
 * config.c - disclosured.conf (contract.md "Daemon configuration") read
 * into struct config, and the line-exact INI reading it shares with
 * acl.c.  Every error names the file and line and says what to write
 * instead; unknown sections and keys are errors, never ignored, so a typo
 * cannot silently leave a default in force.  A file others may write (this
 * one, or acl.conf read through config_file_read) is refused: whoever can
 * change it decides what the daemon trusts and whom it lets in.
 * --check-config reads on past errors (config_check) to say them all.
 *
 * Must never: open, stat or judge the files the configuration names (that
 * is the daemon's --check-config), or accept a number outside its range.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <ini.h>

#include "disclosure/config.h"

#define CONFIG_FILE_MAX (1024 * 1024)

/* ---- INI reading on top of inih ---- */

struct ini_stream {
	const char *text;
	size_t len, off;
	unsigned lineno;
	const char *name;
	config_ini_fn fn;
	void *user;
	char section[256];
	bool in_section;
	unsigned section_line;
	bool failed;
	unsigned err_line;
	unsigned handler_line; /* where key_handler told inih to fail, or 0 */
	char msg[400];
	/* Report mode (config_ini_parse_all): each problem goes to report and
	 * the reading goes on; s->failed is never set. */
	config_report_fn report;
	void *report_arg;
	unsigned problems;
	bool skip_section; /* the open section was refused: its keys are not read */
	unsigned key_line; /* the last line handed to inih that must give a key, or 0 */
	bool key_seen;     /* ...and inih gave it */
};

static void ini_fail(struct ini_stream *s, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ini_fail(struct ini_stream *s, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
	va_end(ap);
	if (s->report != NULL) {
		char full[sizeof(s->msg) + 300];

		if (line > 0)
			snprintf(full, sizeof(full), "%s:%u: %s", s->name, line, s->msg);
		else
			snprintf(full, sizeof(full), "%s: %s", s->name, s->msg);
		s->report(s->report_arg, full);
		s->problems++;
		return;
	}
	s->failed = true;
	s->err_line = line;
}

/* False if the handler refused the event. */
static bool ini_emit(struct ini_stream *s, enum config_ini_kind kind, unsigned line,
                     const char *key, const char *value)
{
	struct config_ini_event ev = {
	    .kind = kind,
	    .line = line,
	    .section = s->in_section ? s->section : NULL,
	    .section_line = s->in_section ? s->section_line : 0,
	    .key = key,
	    .value = value,
	};
	unsigned err_line = line;
	char msg[sizeof(s->msg)];

	if (s->failed)
		return true;
	msg[0] = '\0';
	if (s->fn(s->user, &ev, &err_line, msg, sizeof(msg)) != 0) {
		ini_fail(s, err_line, "%s", msg[0] ? msg : "invalid");
		return false;
	}
	return true;
}

/* Closes the open section, unless it was refused (its handler never
 * heard of it). */
static void ini_section_end(struct ini_stream *s)
{
	if (s->in_section && !s->skip_section)
		ini_emit(s, CONFIG_INI_SECTION_END, s->section_line, NULL, NULL);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* A section header line (leading blanks already skipped). */
static void ini_section(struct ini_stream *s, const char *p, size_t n)
{
	const char *close = memchr(p, ']', n);
	const char *rest;
	size_t name_len;

	if (close == NULL) {
		ini_fail(s, s->lineno, "section header without a closing ']'");
		goto broken;
	}
	for (rest = close + 1; rest < p + n && is_blank(*rest); rest++)
		;
	if (rest < p + n && *rest != ';' && *rest != '#') {
		ini_fail(s, s->lineno, "text after the section header's ']'");
		goto broken;
	}
	name_len = (size_t)(close - (p + 1));
	if (name_len >= sizeof(s->section)) {
		ini_fail(s, s->lineno, "section name longer than %zu bytes",
		         sizeof(s->section) - 1);
		goto broken;
	}
	ini_section_end(s);
	memcpy(s->section, p + 1, name_len);
	s->section[name_len] = '\0';
	s->in_section = true;
	s->section_line = s->lineno;
	s->skip_section = !ini_emit(s, CONFIG_INI_SECTION_START, s->lineno, NULL, NULL);
	return;
broken:
	/* (Report mode.)  The keys below belong to a section that is not
	 * one: read under the section above, each would be blamed on it. */
	ini_section_end(s);
	s->skip_section = true;
}

/* Report mode: a line that should have given a key and did not is one
 * inih could not read. */
static void ini_key_line_done(struct ini_stream *s)
{
	if (s->report != NULL && s->key_line != 0 && !s->key_seen)
		ini_fail(s, s->key_line, "expected 'key = value', '[section]' or a comment");
	s->key_line = 0;
}

/* inih's reader: hands over one line at a time, so s->lineno is the line
 * inih is parsing when it calls ini_handler(). */
static char *line_reader(char *str, int num, void *stream)
{
	struct ini_stream *s = stream;
	const char *p, *eol;
	size_t n;

	ini_key_line_done(s);
	if (s->failed || s->off >= s->len)
		return NULL;
	p = s->text + s->off;
	eol = memchr(p, '\n', s->len - s->off);
	n = eol != NULL ? (size_t)(eol - p) : s->len - s->off;
	s->off += n + (eol != NULL);
	s->lineno++;
	if (memchr(p, '\0', n) != NULL) {
		ini_fail(s, s->lineno, "line holds a NUL byte");
		goto skip;
	}
	if (s->lineno == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
		p += 3;
		n -= 3;
	}
	while (n > 0 && is_blank(*p)) {
		p++;
		n--;
	}
	if (n > 0 && *p == '[') {
		ini_section(s, p, n);
		if (s->failed)
			return NULL;
		/* inih sees a comment: the section is ours to track. */
		snprintf(str, (size_t)num, ";\n");
		return str;
	}
	if (num < 3 || n + 2 > (size_t)num) {
		ini_fail(s, s->lineno, "line longer than %d bytes", num - 2);
		goto skip;
	}
	memcpy(str, p, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	if (n > 0 && *p != ';' && *p != '#') {
		/* Not blank, not a comment (inih's own test): a key, or an
		 * error of inih's. */
		s->key_line = s->lineno;
		s->key_seen = false;
	}
	return str;
skip:
	/* Report mode reads on: inih sees a comment in its place. */
	if (s->failed || num < 3)
		return NULL;
	snprintf(str, (size_t)num, ";\n");
	return str;
}

static int key_handler(void *user, const char *section, const char *name, const char *value)
{
	struct ini_stream *s = user;

	(void)section; /* always "": headers never reach inih */
	if (s->report != NULL) {
		s->key_seen = true;
		if (!s->skip_section)
			ini_emit(s, CONFIG_INI_KEY, s->lineno, name, value);
		return 1;
	}
	ini_emit(s, CONFIG_INI_KEY, s->lineno, name, value);
	if (s->failed && s->handler_line == 0)
		s->handler_line = s->lineno;
	return s->failed ? 0 : 1;
}

int config_ini_parse(const char *text, size_t len, const char *name, config_ini_fn fn, void *user,
                     struct dsc_error *err)
{
	struct ini_stream *s;
	int ret, rc = DSC_OK;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "%s: out of memory", name);
	s->text = text;
	s->len = len;
	s->name = name;
	s->fn = fn;
	s->user = user;
	ret = ini_parse_stream(line_reader, s, key_handler, s);
	/* inih's first error line is a line it could not read, unless it is
	 * the line whose key we refused.  Such a line comes first: it was
	 * read before our own complaint stopped the reading, and a complaint
	 * about a section as a whole (a key it lacks) is dated at its header,
	 * above the line that was meant to give it. */
	if (ret > 0 && (unsigned)ret != s->handler_line) {
		rc = dsc_error_set(err, DSC_EINVAL,
		                   "%s:%d: expected 'key = value', '[section]' or a comment", name,
		                   ret);
		goto out;
	}
	if (ret < 0 && !s->failed) {
		rc = dsc_error_set(err, DSC_ENOMEM, "%s: inih could not allocate its buffer", name);
		goto out;
	}
	if (!s->failed)
		ini_section_end(s);
	if (s->failed) {
		if (s->err_line > 0)
			rc = dsc_error_set(err, DSC_EINVAL, "%s:%u: %s", name, s->err_line, s->msg);
		else
			rc = dsc_error_set(err, DSC_EINVAL, "%s: %s", name, s->msg);
	}
out:
	free(s);
	return rc;
}

unsigned config_ini_parse_all(const char *text, size_t len, const char *name, config_ini_fn fn,
                              void *user, config_report_fn report, void *report_arg)
{
	struct ini_stream *s;
	unsigned problems;
	int ret;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		report(report_arg, "out of memory");
		return 1;
	}
	s->text = text;
	s->len = len;
	s->name = name;
	s->fn = fn;
	s->user = user;
	s->report = report;
	s->report_arg = report_arg;
	ret = ini_parse_stream(line_reader, s, key_handler, s);
	ini_key_line_done(s);
	/* Every line inih refused was said above (ini_key_line_done); this
	 * is for a rule of inih's that line_reader does not know. */
	if (ret > 0 && s->problems == 0)
		ini_fail(s, (unsigned)ret, "expected 'key = value', '[section]' or a comment");
	if (ret < 0)
		ini_fail(s, 0, "inih could not allocate its buffer");
	ini_section_end(s);
	problems = s->problems;
	free(s);
	return problems;
}

/* config_file_read without its judgement of the mode, which it hands
 * back (of the very file read). */
static int file_read(const char *path, size_t max, char **text, size_t *len, mode_t *mode,
                     struct dsc_error *err)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return dsc_error_set(err, DSC_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		int e = errno;

		close(fd);
		return dsc_error_set(err, DSC_EIO, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return dsc_error_set(err, DSC_EIO, "%s: not a regular file", path);
	}
	if ((uintmax_t)st.st_size > max) {
		close(fd);
		return dsc_error_set(err, DSC_ETOOBIG, "%s: %jd bytes, more than the %zu allowed",
		                     path, (intmax_t)st.st_size, max);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return dsc_error_set(err, DSC_ENOMEM, "%s: out of memory", path);
	}
	/* Read to the end, not to st_size: the file may grow meanwhile, and
	 * the limit still holds. */
	for (;;) {
		if (got == (size_t)st.st_size) {
			char probe;

			n = read(fd, &probe, 1);
			if (n == 0)
				break;
			if (n > 0) {
				free(buf);
				close(fd);
				return dsc_error_set(err, DSC_EIO, "%s: changed while being read",
				                     path);
			}
		} else {
			n = read(fd, buf + got, (size_t)st.st_size - got);
			if (n == 0)
				break;
		}
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			free(buf);
			close(fd);
			return dsc_error_set(err, DSC_EIO, "%s: %s", path, strerror(e));
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*text = buf;
	*len = got;
	*mode = st.st_mode;
	return DSC_OK;
}

/* As the daemon says of a private key readable by others (daemon/tls.c). */
static int mode_judge(const char *what, const char *path, mode_t mode, const char *at_stake,
                      struct dsc_error *err)
{
	if (!(mode & S_IWOTH))
		return DSC_OK;
	return dsc_error_set(err, DSC_EPERM,
	                     "%s %s is writable by others (mode %03o): %s; take that away: "
	                     "chmod o-w %s",
	                     what, path, (unsigned)(mode & 0777), at_stake, path);
}

int config_file_read(const char *path, size_t max, const char *what, const char *at_stake,
                     char **text, size_t *len, struct dsc_error *err)
{
	mode_t mode;
	int rc;

	if ((rc = file_read(path, max, text, len, &mode, err)) != DSC_OK)
		return rc;
	if ((rc = mode_judge(what, path, mode, at_stake, err)) != DSC_OK) {
		free(*text);
		*text = NULL;
		return rc;
	}
	return DSC_OK;
}

int config_file_check(const char *path, size_t max, const char *what, const char *at_stake,
                      char **text, size_t *len, config_report_fn report, void *arg)
{
	struct dsc_error err;
	unsigned problems = 0;
	mode_t mode;

	if (file_read(path, max, text, len, &mode, &err) != DSC_OK) {
		report(arg, err.msg);
		return -1;
	}
	if (mode_judge(what, path, mode, at_stake, &err) != DSC_OK) {
		report(arg, err.msg);
		problems++;
	}
	return (int)problems;
}

/* ---- disclosured.conf ---- */

enum key_type { K_LISTEN, K_INT, K_SIZE, K_UINT, K_PATH };

struct key_spec {
	const char *section;
	const char *key;
	enum key_type type;
	bool required;
	unsigned long long min, max;
	size_t offset; /* into struct config */
};

#define OFF(f) offsetof(struct config, f)

static const struct key_spec keys[] = {
    {"server", "listen", K_LISTEN, true, 0, 0, 0},
    {"server", "workers", K_INT, false, 1, 256, OFF(server.workers)},
    {"server", "max_connections", K_INT, false, 1, 1000000, OFF(server.max_connections)},
    {"server", "request_timeout", K_INT, false, 1, 3600, OFF(server.request_timeout)},
    {"server", "max_body", K_SIZE, false, 1024, 1ull << 30, OFF(server.max_body)},
    {"server", "max_bulk_body", K_SIZE, false, 1024, 1ull << 34, OFF(server.max_bulk_body)},
    {"server", "rate_limit", K_INT, false, 0, 1000000, OFF(server.rate_limit)},
    {"server", "max_connections_per_principal", K_INT, false, 0, 1000000,
     OFF(server.max_connections_per_principal)},
    {"tls", "certificate", K_PATH, true, 0, 0, OFF(tls.certificate)},
    {"tls", "private_key", K_PATH, true, 0, 0, OFF(tls.private_key)},
    {"tls", "client_ca", K_PATH, true, 0, 0, OFF(tls.client_ca)},
    {"tls", "crl", K_PATH, false, 0, 0, OFF(tls.crl)},
    {"store", "path", K_PATH, true, 0, 0, OFF(store.path)},
    {"store", "map_size", K_SIZE, false, 1ull << 20, 1ull << 46, OFF(store.map_size)},
    {"store", "preallocate", K_SIZE, false, 0, 1ull << 40, OFF(store.preallocate)},
    {"audit", "signing_key", K_PATH, true, 0, 0, OFF(audit.signing_key)},
    {"audit", "checkpoint_every", K_UINT, false, 1, 1000000, OFF(audit.checkpoint_every)},
    {"audit", "checkpoint_seconds", K_UINT, false, 1, 86400, OFF(audit.checkpoint_seconds)},
    {"access", "acl", K_PATH, true, 0, 0, OFF(access.acl)},
    {"match", "nicknames", K_PATH, false, 0, 0, OFF(match.nicknames)},
    {"match", "surnames", K_PATH, false, 0, 0, OFF(match.surnames)},
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(N_KEYS <= CONFIG_KEYS_MAX, "struct config's key_line is too short");

/* What a configuration file others may write would let them do. */
#define CONFIG_AT_STAKE                                                                            \
	"any user of this machine could point the daemon at a CA, an ACL or keys of their own"

static const char *const sections[] = {"server", "tls", "store", "audit", "access", "match"};
#define N_SECTIONS (sizeof(sections) / sizeof(sections[0]))

struct config_parse {
	struct config *c;
	const char *dir; /* folder relative paths are resolved against */
	unsigned key_line[N_KEYS];
	unsigned section_line[N_SECTIONS];
	int section; /* index into sections, -1 outside */
};

/* Whole decimal number, no sign, no suffix; false if not or over max. */
static bool parse_number(const char *v, unsigned long long min, unsigned long long max,
                         unsigned long long *out)
{
	unsigned long long n = 0;

	if (*v == '\0')
		return false;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return false;
		if (n > (ULLONG_MAX - 9) / 10)
			return false;
		n = n * 10 + (unsigned long long)(*v - '0');
	}
	if (n < min || n > max)
		return false;
	*out = n;
	return true;
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

static int parse_listen(struct config *c, const char *v, char *msg, size_t msglen)
{
	const char *port, *host;
	size_t host_len;
	unsigned long long p;

	if (v[0] == '[') {
		const char *close = strchr(v, ']');
		char addr[INET6_ADDRSTRLEN + 1];
		unsigned char bin[16];

		if (close == NULL || close[1] != ':') {
			snprintf(msg, msglen, "listen: '%s' is not [IPv6]:port", v);
			return -1;
		}
		host = v + 1;
		host_len = (size_t)(close - host);
		port = close + 2;
		if (host_len == 0 || host_len >= sizeof(addr)) {
			snprintf(msg, msglen, "listen: '%s' has no IPv6 address in its brackets",
			         v);
			return -1;
		}
		memcpy(addr, host, host_len);
		addr[host_len] = '\0';
		if (inet_pton(AF_INET6, addr, bin) != 1) {
			snprintf(msg, msglen, "listen: '%s' is not an IPv6 address", addr);
			return -1;
		}
	} else {
		const char *colon = strrchr(v, ':');

		if (colon == NULL) {
			snprintf(msg, msglen,
			         "listen: '%s' has no port; write host:port, e.g. "
			         "127.0.0.1:8443",
			         v);
			return -1;
		}
		host = v;
		host_len = (size_t)(colon - v);
		port = colon + 1;
		if (memchr(v, ':', host_len) != NULL) {
			snprintf(msg, msglen,
			         "listen: IPv6 addresses need brackets, e.g. [::1]:8443");
			return -1;
		}
		if (host_len == 0) {
			snprintf(msg, msglen,
			         "listen: '%s' has no host; write e.g. 0.0.0.0:8443 "
			         "for every address",
			         v);
			return -1;
		}
		for (size_t i = 0; i < host_len; i++) {
			if (!host_char(host[i])) {
				snprintf(msg, msglen,
				         "listen: '%.*s' is not a host name or address",
				         (int)host_len, host);
				return -1;
			}
		}
	}
	if (host_len >= sizeof(c->server.host)) {
		snprintf(msg, msglen, "listen: host longer than %zu bytes",
		         sizeof(c->server.host) - 1);
		return -1;
	}
	if (!parse_number(port, 1, 65535, &p)) {
		snprintf(msg, msglen, "listen: port '%s' is not a number from 1 to 65535", port);
		return -1;
	}
	memcpy(c->server.host, host, host_len);
	c->server.host[host_len] = '\0';
	snprintf(c->server.port, sizeof(c->server.port), "%llu", p);
	return 0;
}

static char *path_resolve(const char *dir, const char *v)
{
	char *out;
	size_t dl, vl;

	if (v[0] == '/')
		return strdup(v);
	dl = strlen(dir);
	vl = strlen(v);
	out = malloc(dl + 1 + vl + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, dir, dl);
	out[dl] = '/';
	memcpy(out + dl + 1, v, vl + 1);
	return out;
}

static int config_event(void *user, const struct config_ini_event *ev, unsigned *err_line,
                        char *msg, size_t msglen)
{
	struct config_parse *cp = user;
	const struct key_spec *k = NULL;
	size_t i;
	unsigned long long n;
	char *base = (char *)cp->c;

	(void)err_line;
	switch (ev->kind) {
	case CONFIG_INI_SECTION_END:
		return 0;
	case CONFIG_INI_SECTION_START:
		for (i = 0; i < N_SECTIONS; i++)
			if (strcmp(ev->section, sections[i]) == 0)
				break;
		if (i == N_SECTIONS) {
			snprintf(msg, msglen,
			         "unknown section [%s] (sections: server, tls, store, audit, "
			         "access, match)",
			         ev->section);
			return -1;
		}
		if (cp->section_line[i] != 0) {
			snprintf(msg, msglen, "section [%s] appears twice (first at line %u)",
			         sections[i], cp->section_line[i]);
			return -1;
		}
		cp->section_line[i] = ev->line;
		cp->section = (int)i;
		return 0;
	case CONFIG_INI_KEY:
		break;
	}
	if (ev->section == NULL) {
		snprintf(msg, msglen, "key '%s' before any [section]", ev->key);
		return -1;
	}
	for (i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].section, ev->section) == 0 &&
		    strcmp(keys[i].key, ev->key) == 0) {
			k = &keys[i];
			break;
		}
	}
	if (k == NULL) {
		snprintf(msg, msglen, "unknown key '%s' in [%s]", ev->key, ev->section);
		return -1;
	}
	if (cp->key_line[i] != 0) {
		snprintf(msg, msglen, "key '%s' in [%s] given twice (first at line %u)", ev->key,
		         ev->section, cp->key_line[i]);
		return -1;
	}
	cp->key_line[i] = ev->line;
	if (ev->value[0] == '\0') {
		snprintf(msg, msglen, "%s: no value", ev->key);
		return -1;
	}
	switch (k->type) {
	case K_LISTEN:
		return parse_listen(cp->c, ev->value, msg, msglen);
	case K_INT:
	case K_UINT:
	case K_SIZE:
		if (!parse_number(ev->value, k->min, k->max, &n)) {
			snprintf(msg, msglen,
			         "%s must be a whole number from %llu to %llu, not '%s'", ev->key,
			         k->min, k->max, ev->value);
			return -1;
		}
		if (k->type == K_INT)
			*(int *)(base + k->offset) = (int)n;
		else if (k->type == K_UINT)
			*(unsigned *)(base + k->offset) = (unsigned)n;
		else
			*(size_t *)(base + k->offset) = (size_t)n;
		return 0;
	case K_PATH: {
		char **slot = (char **)(base + k->offset);

		free(*slot);
		*slot = path_resolve(cp->dir, ev->value);
		if (*slot == NULL) {
			snprintf(msg, msglen, "out of memory");
			return -1;
		}
		return 0;
	}
	}
	return 0;
}

static void config_defaults(struct config *c)
{
	c->server.workers = 2;
	c->server.max_connections = 1024;
	c->server.request_timeout = 10;
	c->server.max_body = 1048576;
	c->server.max_bulk_body = 268435456;
	c->server.rate_limit = 0;
	c->store.map_size = (size_t)17179869184ull;
	c->store.preallocate = (size_t)268435456u;
	c->audit.checkpoint_every = 1000;
	c->audit.checkpoint_seconds = 60;
}

/*
 * The folder that holds path: its realpath when it exists (config_load's
 * case, since the file was just read), else the folder as written, made
 * absolute against the working directory, so that config_parse() on text
 * with an imagined path (tests, fuzzing) still resolves relative paths.
 */
static char *folder_of(const char *path, struct dsc_error *err)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real, *cwd, *abs;
	size_t cl, dl;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		goto nomem;
	real = realpath(dir, NULL);
	if (real != NULL || dir[0] == '/') {
		if (real == NULL)
			return dir;
		free(dir);
		return real;
	}
	cwd = getcwd(NULL, 0);
	if (cwd == NULL) {
		dsc_error_set(err, DSC_EIO, "%s: cannot resolve its folder %s: %s", path, dir,
		              strerror(errno));
		free(dir);
		return NULL;
	}
	cl = strlen(cwd);
	dl = strlen(dir);
	abs = malloc(cl + 1 + dl + 1);
	if (abs != NULL) {
		memcpy(abs, cwd, cl);
		abs[cl] = '/';
		memcpy(abs + cl + 1, dir, dl + 1);
	}
	free(cwd);
	free(dir);
	if (abs == NULL)
		goto nomem;
	return abs;
nomem:
	dsc_error_set(err, DSC_ENOMEM, "%s: out of memory", path);
	return NULL;
}

/*
 * The reading of config_parse; with report, config_check's: each problem
 * is handed to report (counted in *problems) and the reading goes on, a
 * wrong value leaving its default (or NULL) in place.
 */
static int parse(const char *text, size_t len, const char *path, struct config **out,
                 config_report_fn report, void *arg, unsigned *problems, struct dsc_error *err)
{
	struct config_parse cp;
	struct config *c;
	char *dir;
	int rc;

	*out = NULL;
	if (path == NULL)
		path = "disclosured.conf";
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "%s: out of memory", path);
	config_defaults(c);
	c->path = strdup(path);
	dir = folder_of(path, err);
	if (c->path == NULL || dir == NULL) {
		rc = dir == NULL && err != NULL ? err->code : DSC_ENOMEM;
		if (dir != NULL)
			dsc_error_set(err, DSC_ENOMEM, "%s: out of memory", path);
		free(dir);
		config_free(c);
		return rc;
	}
	memset(&cp, 0, sizeof(cp));
	cp.c = c;
	cp.dir = dir;
	cp.section = -1;
	if (report != NULL) {
		*problems += config_ini_parse_all(text, len, path, config_event, &cp, report, arg);
		rc = DSC_OK;
	} else {
		rc = config_ini_parse(text, len, path, config_event, &cp, err);
	}
	free(dir);
	if (rc != DSC_OK) {
		config_free(c);
		return rc;
	}
	memcpy(c->key_line, cp.key_line, sizeof(cp.key_line));
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].required && cp.key_line[i] == 0) {
			rc = dsc_error_set(err, DSC_EINVAL, "%s: missing required key '%s' in [%s]",
			                   path, keys[i].key, keys[i].section);
			if (report == NULL) {
				config_free(c);
				return rc;
			}
			report(arg, err->msg);
			(*problems)++;
		}
	}
	if (c->server.max_body > c->server.max_bulk_body) {
		/* key_line[4] is max_body, key_line[5] max_bulk_body */
		unsigned line = cp.key_line[4] > cp.key_line[5] ? cp.key_line[4] : cp.key_line[5];

		rc = dsc_error_set(err, DSC_EINVAL,
		                   "%s:%u: max_body (%zu) is larger than max_bulk_body (%zu)", path,
		                   line, c->server.max_body, c->server.max_bulk_body);
		if (report == NULL) {
			config_free(c);
			return rc;
		}
		report(arg, err->msg);
		(*problems)++;
	}
	*out = c;
	return DSC_OK;
}

int config_parse(const char *text, size_t len, const char *path, struct config **out,
                 struct dsc_error *err)
{
	return parse(text, len, path, out, NULL, NULL, NULL, err);
}

int config_load(const char *path, struct config **out, struct dsc_error *err)
{
	char *text;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = config_file_read(path, CONFIG_FILE_MAX, "configuration", CONFIG_AT_STAKE, &text,
	                           &len, err)) != DSC_OK)
		return rc;
	rc = parse(text, len, path, out, NULL, NULL, NULL, err);
	free(text);
	return rc;
}

unsigned config_check(const char *path, struct config **out, config_report_fn report, void *arg)
{
	struct dsc_error err;
	unsigned problems;
	char *text;
	size_t len;
	int n;

	*out = NULL;
	n = config_file_check(path, CONFIG_FILE_MAX, "configuration", CONFIG_AT_STAKE, &text, &len,
	                      report, arg);
	if (n < 0)
		return 1;
	problems = (unsigned)n;
	if (parse(text, len, path, out, report, arg, &problems, &err) != DSC_OK) {
		report(arg, err.msg);
		problems++;
	}
	free(text);
	return problems;
}

unsigned config_line(const struct config *c, const char *section, const char *key)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, key) == 0)
			return c->key_line[i];
	return 0;
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->tls.certificate);
	free(c->tls.private_key);
	free(c->tls.client_ca);
	free(c->tls.crl);
	free(c->store.path);
	free(c->audit.signing_key);
	free(c->access.acl);
	free(c->match.nicknames);
	free(c->match.surnames);
	free(c);
}
