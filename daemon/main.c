/*
 * main.c - disclosured: flags, start-up, signals and shutdown.
 *
 *   disclosured -c FILE                 serve in the foreground (systemd Type=notify)
 *   disclosured -c FILE --check-config  say what is wrong with the setup, exit 0/1
 *
 * Start-up refuses to serve (exit 1, in words on stderr) when the
 * configuration or the ACL (others may not write them), the certificates
 * (a server certificate for TLS servers, a client_ca of CAs and no bundle
 * of public ones), the TLS key (mode included) or the audit signing key
 * (mode included) is not right.  --check-config says every problem it
 * finds, also a listen host that does not resolve and a store this user
 * cannot create or write.  The main thread
 * then only waits for signals: SIGHUP reloads the certificate, key, CRL
 * and ACL (a broken new file keeps the old one), SIGTERM and SIGINT stop
 * accepting, let the requests in flight finish, write daemon.stop and a
 * final checkpoint, and exit 0.
 *
 * Never: report READY=1 before the sockets accept; exit on SIGTERM before
 * the writer has committed the last entry.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/thread.h>
#include <openssl/err.h>
#include <systemd/sd-daemon.h>

#include "disclosure/log.h"
#include "disclosured.h"

#define DEFAULT_CONFIG "/etc/disclosured/disclosured.conf"

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void format_time_ms(int64_t ms, char out[32])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	char buf[80];

	gmtime_r(&secs, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	memcpy(out, buf, 31);
	out[31] = '\0';
}

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool daemon_find_principal(struct daemon *d, const char *cn, struct principal *out)
{
	const struct principal *p;
	bool found = false;

	pthread_rwlock_rdlock(&d->acl_lock);
	p = d->acl != NULL ? acl_find_cn(d->acl, cn) : NULL;
	if (p != NULL) {
		*out = *p;
		found = true;
	}
	pthread_rwlock_unlock(&d->acl_lock);
	return found;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: disclosured -c FILE [--check-config] [-v]\n"
		   "       disclosured --version | --help\n"
		   "\n"
		   "  -c, --config FILE   the configuration file, e.g. " DEFAULT_CONFIG "\n"
		   "      --check-config  check the configuration, certificates, key permissions,\n"
		   "                      ACL and audit key; print what is wrong; exit 0 or 1\n"
		   "  -v, --verbose       log debug lines too\n"
		   "      --version       print the version\n"
		   "  -h, --help          print this help\n");
}

/* ---- --check-config ---- */

static void say(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "disclosured: %s\n", msg);
}

/* "uid 995 (disclosured)": who "this user" is. */
static void user_text(char *out, size_t len)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw != NULL)
		snprintf(out, len, "uid %u (%s)", (unsigned)geteuid(), pw->pw_name);
	else
		snprintf(out, len, "uid %u", (unsigned)geteuid());
}

/*
 * Whether the daemon, run as this user, could create and write the store:
 * the folder itself if it exists (and the files the daemon keeps in it),
 * else its parent, in which the daemon makes it (one level, mode 0700).
 * access() answers for this user, and EROFS for a read-only mount, which
 * is what the unit's ProtectSystem=strict makes of anywhere outside its
 * StateDirectory= and ReadWritePaths=: under the unit (ExecStartPre) this
 * sees the sandbox the daemon will have.
 */
static unsigned store_check(const struct config *cfg)
{
	static const char *const files[] = {"data.mdb", "lock.mdb", "disclosured.lock"};
	const char *path = cfg->store.path;
	char where[PATH_MAX + 64], who[96], sub[PATH_MAX + 32];
	unsigned line = config_line(cfg, "store", "path"), problems = 0;
	struct stat st;
	char *parent, *slash;

	snprintf(where, sizeof(where), "%s:%u: [store] path %s", cfg->path, line, path);
	user_text(who, sizeof(who));
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr, "disclosured: %s is not a folder\n", where);
			return 1;
		}
		if (access(path, R_OK | W_OK | X_OK) != 0) {
			if (errno == EROFS)
				fprintf(stderr,
					"disclosured: %s: read-only for this user, %s (%s); under the "
					"shipped unit a store outside /var/lib/disclosured needs "
					"ReadWritePaths=%s (systemctl edit disclosured)\n",
					where, who, strerror(errno), path);
			else
				fprintf(stderr,
					"disclosured: %s: cannot write in it as this user, %s (%s); "
					"give it to the daemon's user (under the unit, disclosured): "
					"chown -R disclosured: %s\n",
					where, who, strerror(errno), path);
			return 1;
		}
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(sub, sizeof(sub), "%s/%s", path, files[i]);
			if (access(sub, F_OK) == 0 && access(sub, R_OK | W_OK) != 0) {
				fprintf(stderr,
					"disclosured: %s: %s cannot be written as this user, %s (%s): "
					"was the daemon run as another user (root)?  chown -R "
					"disclosured: %s\n",
					where, files[i], who, strerror(errno), path);
				problems++;
			}
		}
		return problems;
	}
	if (errno != ENOENT) {
		fprintf(stderr, "disclosured: %s: %s, as this user, %s\n", where, strerror(errno), who);
		return 1;
	}
	/* Not there yet: the daemon will mkdir it in its parent. */
	if ((parent = strdup(path)) == NULL) {
		fprintf(stderr, "disclosured: out of memory\n");
		return 1;
	}
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr,
			"disclosured: %s: cannot be created: its folder %s %s (the daemon makes the "
			"store's own folder only); make it first, e.g. install -d -o disclosured "
			"-g disclosured -m 0700 %s\n",
			where, parent, errno == ENOENT ? "does not exist" : "is not a folder", path);
		problems = 1;
	} else if (access(parent, W_OK | X_OK) != 0) {
		fprintf(stderr,
			"disclosured: %s: cannot be created as this user, %s: %s: %s; %screate it "
			"beforehand, owned by the daemon's user (under the unit, disclosured): "
			"install -d -o disclosured -g disclosured -m 0700 %s\n",
			where, who, parent, strerror(errno),
			errno == EROFS ? "under the shipped unit a store outside /var/lib/disclosured "
					 "needs ReadWritePaths= (systemctl edit disclosured); "
				       : "",
			path);
		problems = 1;
	}
	free(parent);
	return problems;
}

/* Every problem it can find, not only the first: a configuration that
 * cannot be read whole still names the files to check. */
static int check_config(const char *path)
{
	struct config *cfg = NULL;
	struct acl *acl = NULL;
	EVP_PKEY *key = NULL;
	struct matcher *m = NULL;
	struct addrinfo *res = NULL;
	struct dsc_error err;
	unsigned problems;

	problems = config_check(path, &cfg, say, NULL);
	if (cfg == NULL)
		return 1;
	if (cfg->server.host[0] != '\0') { /* else [server] listen is wrong, and said */
		if (server_resolve(cfg, &res, &err) != DSC_OK) {
			say(NULL, err.msg);
			problems++;
		}
		if (res != NULL)
			freeaddrinfo(res);
	}
	if (cfg->tls.certificate != NULL && cfg->tls.private_key != NULL && cfg->tls.client_ca != NULL)
		problems += tls_check_files(cfg, say, NULL);
	if (cfg->access.acl != NULL) {
		unsigned n = acl_check(cfg->access.acl, &acl, say, NULL);

		problems += n;
		if (n == 0 && acl_count(acl) == 0) {
			fprintf(stderr,
				"disclosured: acl %s has no principals: every request would be "
				"refused\n",
				cfg->access.acl);
			problems++;
		}
	}
	if (cfg->audit.signing_key != NULL &&
	    audit_key_load(cfg->audit.signing_key, &key, &err) != DSC_OK) {
		say(NULL, err.msg);
		problems++;
	}
	if (cfg->store.path != NULL)
		problems += store_check(cfg);
	if (matcher_new_tables(&m, cfg->match.nicknames, cfg->match.surnames, &err) != DSC_OK) {
		say(NULL, err.msg);
		problems++;
	}
	matcher_free(m);
	EVP_PKEY_free(key);
	acl_free(acl);
	if (problems == 0)
		printf("disclosured: configuration %s is OK\n", cfg->path ? cfg->path : path);
	else
		fprintf(stderr, "disclosured: configuration %s: %u problem%s\n",
			cfg->path ? cfg->path : path, problems, problems == 1 ? "" : "s");
	config_free(cfg);
	ERR_clear_error();
	return problems == 0 ? 0 : 1;
}

/* ---- audit entries of the daemon itself ---- */

static json_t *internal_fields(const char *action)
{
	json_t *f = json_object();

	if (f == NULL)
		return NULL;
	json_object_set_new(f, "request_id", json_null());
	json_object_set_new(f, "principal", json_null());
	json_object_set_new(f, "action", json_string(action));
	return f;
}

/*
 * What daemon.start says of the log it extends (docs/audit-format.md):
 * the key it signs with, and how the last run left the log: "clean" (it
 * ended daemon.stop and its checkpoint), "unclean" (it did not: the run
 * was killed or crashed, or entries were removed; the entries after the
 * last checkpoint were never sealed by the run that wrote them), or
 * "none" (an empty log).
 */
static void start_fields(struct daemon *d, json_t *f)
{
	const struct audit_tail *t = writer_at_start(d->writer);
	char kid[AUDIT_KEY_ID_HEX + 1];
	uint64_t n = atomic_load(&d->audit_seq);

	if (audit_key_id(d->audit_key, kid) == DSC_OK)
		json_object_set_new(f, "key_id", json_string(kid));
	json_object_set_new(f, "previous_stop", json_string(n == 0 ? "none" : t->clean_stop ? "clean" : "unclean"));
	if (n == 0)
		return;
	json_object_set_new(f, "sealed_through", t->has_checkpoint ? json_integer((json_int_t)t->checkpoint_seq - 1)
								   : json_null());
	json_object_set_new(f, "unsealed", json_integer((json_int_t)t->unsealed));
	if (t->has_checkpoint && !t->verified)
		json_object_set_new(f, "sealed_by_key_id", json_string(t->key_id));
	if (!t->clean_stop) {
		if (t->has_checkpoint)
			log_warnx("the audit log does not end with daemon.stop and its checkpoint (the last run "
				  "was killed or crashed, or entries were removed): %" PRIu64 " entries after "
				  "the checkpoint at seq %" PRIu64 " were not sealed by the run that wrote them; "
				  "daemon.start records it",
				  t->unsealed, t->checkpoint_seq);
		else
			log_warnx("the audit log's last %" PRIu64 " entries hold no checkpoint; daemon.start "
				  "records it",
				  t->unsealed);
	}
}

/*
 * What a reload changed in the ACL, for config.reload's entry: the ids of
 * the principals added, removed and changed (roles, force or CN), told
 * apart by id.  An auditor then sees a role given and taken away, not two
 * "reloaded" entries.
 */
static int principal_by_id(const void *a, const void *b)
{
	return strcmp((*(const struct principal *const *)a)->id, (*(const struct principal *const *)b)->id);
}

/* The principals of a sorted by id (NULL if out of memory; *n their count). */
static const struct principal **acl_sorted(const struct acl *a, size_t *n)
{
	const struct principal **v;

	*n = acl_count(a);
	if ((v = malloc((*n + 1) * sizeof(*v))) == NULL)
		return NULL;
	for (size_t i = 0; i < *n; i++)
		v[i] = acl_get(a, i);
	qsort(v, *n, sizeof(*v), principal_by_id);
	return v;
}

static json_t *acl_changes(const struct acl *was, const struct acl *now)
{
	json_t *o = json_object(), *added = json_array(), *removed = json_array(), *changed = json_array();
	size_t nw, nn, i = 0, k = 0;
	const struct principal **w = acl_sorted(was, &nw), **v = acl_sorted(now, &nn);

	if (o == NULL || added == NULL || removed == NULL || changed == NULL || w == NULL || v == NULL) {
		json_decref(o);
		json_decref(added);
		json_decref(removed);
		json_decref(changed);
		free(w);
		free(v);
		return json_null();
	}
	/* A merge of the two lists in id order. */
	while (i < nn || k < nw) {
		int c = i == nn ? 1 : k == nw ? -1 : strcmp(v[i]->id, w[k]->id);

		if (c < 0) {
			json_array_append_new(added, json_string_lossy(v[i++]->id));
		} else if (c > 0) {
			json_array_append_new(removed, json_string_lossy(w[k++]->id));
		} else {
			if (v[i]->roles != w[k]->roles || strcmp(v[i]->force, w[k]->force) != 0 ||
			    strcmp(v[i]->cn, w[k]->cn) != 0)
				json_array_append_new(changed, json_string_lossy(v[i]->id));
			i++;
			k++;
		}
	}
	free(w);
	free(v);
	json_object_set_new(o, "added", added);
	json_object_set_new(o, "removed", removed);
	json_object_set_new(o, "changed", changed);
	json_object_set_new(o, "principals", json_integer((json_int_t)nn));
	return o;
}

/* Writes one entry of the daemon's own and waits until it is committed. */
static int audit_internal(struct daemon *d, json_t *fields)
{
	struct job *j;
	int rc;

	if (fields == NULL)
		return DSC_ENOMEM;
	j = job_new(d, NULL);
	if (j == NULL) {
		json_decref(fields);
		return DSC_ENOMEM;
	}
	j->kind = JOB_INTERNAL;
	j->audit = fields;
	rc = writer_submit_wait(d->writer, j);
	job_free(j);
	return rc;
}

/* ---- SIGHUP ---- */

static void reload(struct daemon *d)
{
	struct dsc_error err;
	struct acl *acl = NULL, *old;
	json_t *f = internal_fields("config.reload");
	bool ok = true;

	sd_notify(0, "RELOADING=1");
	if (tls_server_reload(d->tls, d->cfg, &err) != DSC_OK) {
		log_warnx("reload: keeping the old TLS certificate, key and CRL: %s", err.msg);
		json_object_set_new(f, "tls", json_string(err.msg));
		ok = false;
	} else {
		log_info("reload: TLS certificate, key, CA and CRL reloaded");
		json_object_set_new(f, "tls", json_string("reloaded"));
		/* Open connections look again at their next request
		 * (conn_resolve): the CRL may revoke one. */
		atomic_fetch_add(&d->acl_gen, 1);
	}
	if (acl_load(d->cfg->access.acl, &acl, &err) != DSC_OK) {
		log_warnx("reload: keeping the old ACL: %s", err.msg);
		json_object_set_new(f, "acl", json_string(err.msg));
		ok = false;
	} else if (acl_count(acl) == 0) {
		log_warnx("reload: keeping the old ACL: %s has no principals", d->cfg->access.acl);
		json_object_set_new(f, "acl", json_string("no principals: the old ACL kept"));
		acl_free(acl);
		ok = false;
	} else {
		json_object_set_new(f, "acl_changes", acl_changes(d->acl, acl));
		pthread_rwlock_wrlock(&d->acl_lock);
		old = d->acl;
		d->acl = acl;
		atomic_fetch_add(&d->acl_gen, 1);
		pthread_rwlock_unlock(&d->acl_lock);
		acl_free(old);
		log_info("reload: ACL reloaded, %zu principals", acl_count(acl));
		json_object_set_new(f, "acl", json_string("reloaded"));
	}
	{
		/* The map may grow while the daemon runs (a full store serves
		 * again); nothing else of the configuration file changes on a
		 * reload. */
		struct config *nc = NULL;

		if (config_load(d->cfg->path, &nc, &err) != DSC_OK) {
			log_warnx("reload: %s: store map size unchanged", err.msg);
		} else if (nc->store.map_size > d->cfg->store.map_size) {
			log_info("reload: growing the store map from %zu to %zu bytes",
				 d->cfg->store.map_size, nc->store.map_size);
			json_object_set_new(f, "map_size", json_integer((json_int_t)nc->store.map_size));
			writer_grow_map(d->writer, nc->store.map_size);
			d->cfg->store.map_size = nc->store.map_size;
		} else if (nc->store.map_size < d->cfg->store.map_size) {
			log_warnx("reload: [store] map_size %zu is smaller than the %zu in use; an open "
				  "map only grows (restart to shrink it)",
				  nc->store.map_size, d->cfg->store.map_size);
		}
		config_free(nc);
	}
	json_object_set_new(f, "result", json_string(ok ? "ok" : "partial"));
	if (audit_internal(d, f) != DSC_OK)
		log_warnx("reload: the config.reload audit entry could not be written");
	ERR_clear_error();
	sd_notify(0, "READY=1");
}

/* ---- start and stop ---- */

/*
 * A version whose matcher indexes records otherwise re-indexes the store
 * when it first opens it, before it answers (a million records took 18 s
 * here; a slower disk takes longer).  Said in the log, and to systemd as
 * the service's status, each batch pushing its start timeout on by a
 * minute (EXTEND_TIMEOUT_USEC), so that a big register is not killed
 * half-way through as a start that hangs.
 */
static void reindex_progress(void *arg, size_t done, size_t total, bool finished)
{
	static uint64_t t0;

	(void)arg;
	if (done == 0 && !finished) {
		t0 = mono_ns();
		log_notice("re-indexing the store for this version's matcher: %zu records", total);
	}
	if (finished) {
		log_notice("store re-indexed: %zu records in %.1f s", done, (double)(mono_ns() - t0) / 1e9);
		sd_notify(0, "STATUS=store re-indexed\nEXTEND_TIMEOUT_USEC=60000000");
		return;
	}
	sd_notifyf(0, "STATUS=re-indexing the store: %zu of %zu records read\nEXTEND_TIMEOUT_USEC=60000000",
		   done, total);
}

static int daemon_open(struct daemon *d, const char *path)
{
	struct store_options so;
	struct store_key_filter_info kfi;
	struct dsc_error err;
	uint64_t t0;

	if (config_load(path, &d->cfg, &err) != DSC_OK) {
		log_errx("%s", err.msg);
		return 1;
	}
	if (tls_server_new(d->cfg, &d->tls, &err) != DSC_OK) {
		log_errx("%s", err.msg);
		return 1;
	}
	if (acl_load(d->cfg->access.acl, &d->acl, &err) != DSC_OK) {
		log_errx("%s", err.msg);
		return 1;
	}
	if (acl_count(d->acl) == 0) {
		/* As --check-config says: a daemon that refuses everyone is
		 * a slip in the file, not a deployment. */
		log_errx("acl %s has no principals: every request would be refused", d->cfg->access.acl);
		return 1;
	}
	if (audit_key_load(d->cfg->audit.signing_key, &d->audit_key, &err) != DSC_OK) {
		log_errx("%s", err.msg);
		return 1;
	}
	if (matcher_new_tables(&d->matcher, d->cfg->match.nicknames, d->cfg->match.surnames, &err) != DSC_OK) {
		log_errx("%s", err.msg);
		return 1;
	}
	/* The store has one writer, which owns the head of the audit chain: a
	 * second daemon on the same store (an operator's slip, an overlapping
	 * restart) must not start, or the two would fight over every append;
	 * nor may the offline loader write it meanwhile (store_lock_take). */
	if (store_lock_take(d->cfg->store.path, &err) < 0) {
		log_errx("%s%s", err.msg, err.code == DSC_ECONFLICT ? ": one daemon per store" : "");
		return 1;
	}
	memset(&so, 0, sizeof(so));
	so.path = d->cfg->store.path;
	so.map_size = d->cfg->store.map_size;
	so.max_readers = (unsigned)d->cfg->server.workers + 16;
	so.reindex_progress = reindex_progress;
	so.views_cache = true; /* the lock just taken: no other disclosured writes it */
	so.key_filter = true;  /* the same promise */
	t0 = mono_ns();
	if (store_open(&d->store, &so, matcher_indexer(d->matcher), &err) != DSC_OK) {
		log_errx("%s", err.msg);
		return 1;
	}
	store_key_filter_info(d->store, &kfi);
	log_info("store open in %.2f s; key filter: %zu MiB for %zu index keys",
		 (double)(mono_ns() - t0) / 1e9, kfi.bits / 8 >> 20, kfi.keys);
	if (d->cfg->server.rate_limit > 0 &&
	    ratelimit_new((unsigned)d->cfg->server.rate_limit, &d->rl) != DSC_OK) {
		log_errx("out of memory for the rate limiter");
		return 1;
	}
	/* max_connections_per_principal, 0 for a quarter of max_connections */
	int cap = d->cfg->server.max_connections_per_principal;

	if (cap == 0)
		cap = d->cfg->server.max_connections / 4 > 0 ? d->cfg->server.max_connections / 4 : 1;
	if (connlimit_new((unsigned)cap, &d->cl) != DSC_OK) {
		log_errx("out of memory for the connection counts");
		return 1;
	}
	if (writer_new(d, &d->writer, &err) != DSC_OK) {
		log_errx("%s", err.msg);
		return 1;
	}
	return 0;
}

static void daemon_close(struct daemon *d)
{
	prefault_stop(d->prefault);
	d->prefault = NULL;
	server_free(d);
	writer_free(d->writer);
	store_close(d->store);
	matcher_free(d->matcher);
	ratelimit_free(d->rl);
	connlimit_free(d->cl);
	EVP_PKEY_free(d->audit_key);
	acl_free(d->acl);
	tls_server_free(d->tls);
	config_free(d->cfg);
	pthread_rwlock_destroy(&d->acl_lock);
}

static int run(const char *path)
{
	struct daemon d;
	struct dsc_error err;
	sigset_t sigs;
	json_t *f;
	int sig = 0, rc;

	memset(&d, 0, sizeof(d));
	pthread_rwlock_init(&d.acl_lock, NULL);
	if (getrandom(&d.boot_random, sizeof(d.boot_random), 0) != (ssize_t)sizeof(d.boot_random))
		d.boot_random = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	signal(SIGPIPE, SIG_IGN);
	/* Every thread inherits this mask: only sigwait() below takes them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (evthread_use_pthreads() != 0) {
		log_errx("libevent has no pthreads support");
		return 1;
	}
	if (daemon_open(&d, path) != 0) {
		daemon_close(&d);
		return 1;
	}
	f = internal_fields("daemon.start");
	if (f != NULL) {
		json_object_set_new(f, "version", json_string(VERSION));
		json_object_set_new(f, "pid", json_integer(getpid()));
		start_fields(&d, f);
	}
	if (audit_internal(&d, f) != DSC_OK) {
		log_errx("cannot write the daemon.start audit entry: is the store full or "
			 "read-only? (%s)",
			 d.cfg->store.path);
		daemon_close(&d);
		return 1;
	}
	if (server_start(&d, &err) != DSC_OK) {
		log_errx("%s", err.msg);
		server_stop_accepting(&d);
		(void)writer_stop(d.writer, internal_fields("daemon.stop"));
		_exit(1); /* workers may be half started: do not free under them */
	}
	/* Beside the workers, not before them: start-up does not wait for it. */
	if (prefault_start(&d, &d.prefault) != DSC_OK)
		log_warnx("out of memory for the thread that maps the store ahead; the first "
			  "checks will map it");
	log_notice("serving on %s:%s with %d workers; %llu records, audit log at %llu entries",
		   d.cfg->server.host, d.cfg->server.port, d.n_workers,
		   (unsigned long long)atomic_load(&d.records),
		   (unsigned long long)atomic_load(&d.audit_seq));
	sd_notify(0, "READY=1\nSTATUS=serving");
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP: reloading certificates, CRL and ACL");
			reload(&d);
			continue;
		}
		break;
	}
	sd_notify(0, "STOPPING=1\nSTATUS=draining");
	log_notice("%s: no new connections; finishing the requests in flight",
		   sig == SIGINT ? "SIGINT" : "SIGTERM");
	server_stop_accepting(&d);
	server_join(&d);
	f = internal_fields("daemon.stop");
	if (f != NULL)
		json_object_set_new(f, "signal", json_string(sig == SIGINT ? "SIGINT" : "SIGTERM"));
	rc = writer_stop(d.writer, f);
	json_decref(f);
	if (rc != DSC_OK) {
		/* Exit 0 promises a committed audit log. */
		log_errx("stopped, but the last audit entries could not be committed (see above); "
			 "the log holds %llu entries, every acknowledged request among them",
			 (unsigned long long)atomic_load(&d.audit_seq));
		daemon_close(&d);
		return 1;
	}
	log_notice("stopped; audit log at %llu entries",
		   (unsigned long long)atomic_load(&d.audit_seq));
	daemon_close(&d);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'C'},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	bool check = false;
	int level = LOG_LEVEL_INFO, ch;

	log_init("disclosured", level);
	while ((ch = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'C': check = true; break;
		case 'v': level = LOG_LEVEL_DEBUG; break;
		case 'V': printf("disclosured %s\n", VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "disclosured: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (path == NULL) {
		fprintf(stderr, "disclosured: -c FILE is required (e.g. -c " DEFAULT_CONFIG ")\n");
		usage(stderr);
		return 2;
	}
	log_set_level(level);
	if (check)
		return check_config(path);
	/*
	 * Before any thread starts: every thread's malloc arena grows its
	 * heap by 64 MiB of address space at a time instead of by what each
	 * request needs.  A bulk import grows and frees tens of megabytes per
	 * chunk, and glibc made each page of that growth writable with an
	 * mprotect call of its own (51,000 calls for 100,000 records, about
	 * 7% of the import's CPU); with the pad, each new heap is made
	 * writable whole (smaller pads did not help: 30,000 calls at 4 MiB).
	 * The cost: an arena keeps up to 64 MiB of freed memory instead of
	 * trimming it, resident where it was touched: 3.3 MiB more anonymous
	 * memory at start-up (what start-up freed and kept), and the
	 * import's buffers, which it gives back when it ends (malloc_trim in
	 * bulk.c).  This also fixes the mmap threshold at its 128 KiB default
	 * instead of letting it rise.
	 */
	if (mallopt(M_TOP_PAD, 64 << 20) != 1)
		log_warnx("cannot set malloc's top pad: bulk imports will be slower");
	return run(path);
}
