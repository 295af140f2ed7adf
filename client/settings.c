/*
 * settings.c - where disclosurectl finds its connection settings: each of
 * server, cert, key, ca from its flag, else from DISCLOSURE_<NAME>, else
 * from $XDG_CONFIG_HOME/disclosurectl/config (INI, keys in lower case; a
 * [disclosurectl] section is allowed but not needed).  Each value keeps
 * the name of its source, so an error can say which flag, variable or file
 * line to fix.  Relative paths in the config file are relative to its
 * folder, as for disclosured.conf.
 *
 * It reads file names only; certificates and keys are opened by
 * tls_client.c, and their contents never pass through here.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "client.h"

struct config_read {
	struct ctl *c;
	const char *path;
	char dir[PATH_MAX];
	struct setting *want[5]; /* server, cert, key, ca, timeout; NULL if already set */
	char error[512];
};

static const char *const config_keys[] = {"server", "cert", "key", "ca", "timeout"};

static int setting_set(struct setting *s, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int setting_set(struct setting *s, const char *value, const char *fmt, ...)
{
	va_list ap;

	free(s->value);
	s->value = strdup(value);
	if (s->value == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(s->source, sizeof(s->source), fmt, ap);
	va_end(ap);
	return 0;
}

static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct config_read *cr = user;

	if (section[0] != '\0' && strcmp(section, "disclosurectl") != 0) {
		snprintf(cr->error, sizeof(cr->error),
		         "unknown section [%s] (keys go at the top or under [disclosurectl])",
		         section);
		return 0;
	}
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
		char path[PATH_MAX];
		const char *v = value;

		if (strcmp(name, config_keys[i]) != 0)
			continue;
		if (cr->want[i] == NULL)
			return 1; /* a flag or the environment already decided */
		if (value[0] == '\0') {
			snprintf(cr->error, sizeof(cr->error), "%s: empty value", name);
			return 0;
		}
		/* cert, key, ca: relative to the config file's folder */
		if (i >= 1 && i <= 3 && value[0] != '/') {
			if (snprintf(path, sizeof(path), "%s/%s", cr->dir, value) >=
			    (int)sizeof(path)) {
				snprintf(cr->error, sizeof(cr->error), "%s: path too long", name);
				return 0;
			}
			v = path;
		}
		if (setting_set(cr->want[i], v, "%s (key '%s')", cr->path, name) != 0) {
			snprintf(cr->error, sizeof(cr->error), "out of memory");
			return 0;
		}
		return 1;
	}
	snprintf(cr->error, sizeof(cr->error),
	         "unknown key '%s' (known: server, cert, key, ca, timeout)", name);
	return 0;
}

static int config_path(char *buf, size_t cap)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;

	if (x != NULL && x[0] == '/')
		n = snprintf(buf, cap, "%s/disclosurectl/config", x);
	else if (home != NULL && home[0] == '/')
		n = snprintf(buf, cap, "%s/.config/disclosurectl/config", home);
	else
		return -1;
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int read_config(struct ctl *c, struct config_read *cr, const char *path)
{
	char *slash;
	int line;

	cr->c = c;
	cr->path = path;
	snprintf(cr->dir, sizeof(cr->dir), "%s", path);
	slash = strrchr(cr->dir, '/');
	if (slash != NULL)
		*slash = '\0';
	line = ini_parse(path, config_handler, cr);
	if (line == -1) {
		if (errno == ENOENT)
			return EXIT_OK; /* no config file is fine */
		ctl_err("cannot read the config file %s: %s", path, strerror(errno));
		return EXIT_FAILURE_LOCAL;
	}
	if (line != 0) {
		ctl_err("%s:%d: %s", path, line,
		        cr->error[0] ? cr->error : "not INI (key = value)");
		return EXIT_FAILURE_LOCAL;
	}
	return EXIT_OK;
}

/* https://HOST[:PORT][/PREFIX], HOST may be [IPv6]. */
static int parse_url(struct ctl *c)
{
	const char *u = c->server.value, *h, *hend, *p;
	char port[8] = "8443";

	if (strncmp(u, "https://", 8) != 0) {
		ctl_err("%s: server '%s' must start with https:// (the server speaks only HTTPS "
		        "with client certificates)",
		        c->server.source, u);
		return EXIT_USAGE;
	}
	h = u + 8;
	if (*h == '[') {
		hend = strchr(h, ']');
		if (hend == NULL) {
			ctl_err("%s: server '%s': missing ']' after the IPv6 address",
			        c->server.source, u);
			return EXIT_USAGE;
		}
		c->host = strndup(h + 1, (size_t)(hend - h - 1));
		p = hend + 1;
	} else {
		hend = h + strcspn(h, ":/");
		c->host = strndup(h, (size_t)(hend - h));
		p = hend;
	}
	if (c->host == NULL || c->host[0] == '\0') {
		ctl_err("%s: server '%s' has no host", c->server.source, u);
		return EXIT_USAGE;
	}
	if (*p == ':') {
		size_t n = strspn(p + 1, "0123456789");
		long v = n > 0 && n < 6 ? strtol(p + 1, NULL, 10) : 0;

		if (v < 1 || v > 65535 || (p[1 + n] != '\0' && p[1 + n] != '/')) {
			ctl_err("%s: server '%s': bad port", c->server.source, u);
			return EXIT_USAGE;
		}
		snprintf(port, sizeof(port), "%ld", v);
		p += 1 + n;
	}
	if (*p != '\0' && *p != '/') {
		ctl_err("%s: server '%s' is not https://HOST[:PORT]", c->server.source, u);
		return EXIT_USAGE;
	}
	c->port = strdup(port);
	c->base_path = strdup(p);
	if (c->port == NULL || c->base_path == NULL) {
		ctl_err("out of memory");
		return EXIT_FAILURE_LOCAL;
	}
	size_t bl = strlen(c->base_path);
	while (bl > 0 && c->base_path[bl - 1] == '/')
		c->base_path[--bl] = '\0';
	return EXIT_OK;
}

int ctl_settings_resolve(struct ctl *c)
{
	static const char *const envs[] = {"DISCLOSURE_SERVER", "DISCLOSURE_CERT", "DISCLOSURE_KEY",
	                                   "DISCLOSURE_CA", "DISCLOSURE_TIMEOUT"};
	struct setting *all[] = {&c->server, &c->cert, &c->key, &c->ca, &c->timeout};
	const char *flags[] = {c->flag_server, c->flag_cert, c->flag_key, c->flag_ca, NULL};
	static const char *const flag_names[] = {"--server", "--cert", "--key", "--ca",
	                                         "--timeout"};
	struct config_read cr = {0};
	char cfg[PATH_MAX];
	bool missing = false;
	int rc;

	if (c->resolved)
		return EXIT_OK;
	for (size_t i = 0; i < 5; i++) {
		const char *e = getenv(envs[i]);
		int r = 0;

		if (flags[i] != NULL)
			r = setting_set(all[i], flags[i], "%s", flag_names[i]);
		else if (e != NULL && e[0] != '\0')
			r = setting_set(all[i], e, "%s", envs[i]);
		else {
			cr.want[i] = all[i];
			missing = true;
		}
		if (r != 0) {
			ctl_err("out of memory");
			return EXIT_FAILURE_LOCAL;
		}
	}
	if (c->flag_timeout > 0) {
		cr.want[4] = NULL;
		char t[16];

		snprintf(t, sizeof(t), "%d", c->flag_timeout);
		if (setting_set(&c->timeout, t, "--timeout") != 0)
			return EXIT_FAILURE_LOCAL;
	}
	cfg[0] = '\0';
	if (missing && config_path(cfg, sizeof(cfg)) == 0) {
		rc = read_config(c, &cr, cfg);
		if (rc != EXIT_OK)
			return rc;
	}
	if (c->server.value == NULL) {
		ctl_err(
		    "no server given: use --server https://HOST:PORT, set DISCLOSURE_SERVER, or "
		    "put 'server = https://HOST:PORT' in %s",
		    cfg[0] ? cfg : "$XDG_CONFIG_HOME/disclosurectl/config");
		return EXIT_USAGE;
	}
	if (c->ca.value == NULL) {
		ctl_err("no CA certificate given to check the server with: use --ca FILE, set "
		        "DISCLOSURE_CA, or put 'ca = FILE' in %s",
		        cfg[0] ? cfg : "$XDG_CONFIG_HOME/disclosurectl/config");
		return EXIT_USAGE;
	}
	if (c->key.value != NULL && c->cert.value == NULL) {
		ctl_err("%s gives a private key but no certificate is set (--cert, DISCLOSURE_CERT "
		        "or 'cert =')",
		        c->key.source);
		return EXIT_USAGE;
	}
	c->timeout_s = 30;
	if (c->timeout.value != NULL) {
		char *end;
		long v;

		errno = 0;
		v = strtol(c->timeout.value, &end, 10);
		if (errno != 0 || end == c->timeout.value || *end != '\0' || v < 1 || v > 86400) {
			ctl_err("%s: timeout '%s' is not a number of seconds (1-86400)",
			        c->timeout.source, c->timeout.value);
			return EXIT_USAGE;
		}
		c->timeout_s = (int)v;
	}
	rc = parse_url(c);
	if (rc != EXIT_OK)
		return rc;
	c->resolved = true;
	return EXIT_OK;
}

int ctl_log_path(struct ctl *c, char *buf, size_t cap)
{
	struct dsc_error err;

	if (c->flag_log != NULL) {
		if (snprintf(buf, cap, "%s", c->flag_log) >= (int)cap) {
			ctl_err("--log %s: path too long", c->flag_log);
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	if (reqlog_default_path(buf, cap, &err) != DSC_OK) {
		ctl_err("%s", err.msg);
		return EXIT_FAILURE_LOCAL;
	}
	return EXIT_OK;
}

void ctl_settings_release(struct ctl *c)
{
	struct setting *all[] = {&c->server, &c->cert, &c->key, &c->ca, &c->log, &c->timeout};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		free(all[i]->value);
		all[i]->value = NULL;
	}
	free(c->host);
	free(c->port);
	free(c->base_path);
	c->host = c->port = c->base_path = NULL;
	c->resolved = false;
}
