/*
 * reqlog.c - the client's request log (see reqlog.h for the line shapes).
 *
 * Each record is written at the end of the file under flock(2) and followed
 * by fdatasync(2): two disclosurectl processes sharing a log never
 * interleave their lines, a record that could not be written whole is cut
 * off again, and a record that was reported written survives a crash.
 * The "sent" record is durable before the request leaves, so a request the
 * server may have audited is never missing from the log.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reqlog.h"

struct reqlog {
	int fd;
	char path[PATH_MAX];
};

void reqlog_now(char out[32])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char date[20];

	if (strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		date[0] = '\0';
	snprintf(out, 32, "%s.%03dZ", date, (int)(ts.tv_nsec / 1000000));
}

int reqlog_default_path(char *buf, size_t cap, struct dsc_error *err)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;

	/* The XDG spec says a relative value is invalid and must be ignored. */
	if (state != NULL && state[0] == '/')
		n = snprintf(buf, cap, "%s/disclosurectl/requests.log", state);
	else if (home != NULL && home[0] == '/')
		n = snprintf(buf, cap, "%s/.local/state/disclosurectl/requests.log", home);
	else
		return dsc_error_set(err, DSC_EINVAL,
		                     "no place for the request log: set XDG_STATE_HOME or HOME, "
		                     "or give --log FILE");
	if (n < 0 || (size_t)n >= cap)
		return dsc_error_set(err, DSC_EINVAL, "the request log path is too long");
	return DSC_OK;
}

/* mkdir -p of the folders above path, mode 0700. */
static int make_parents(const char *path, struct dsc_error *err)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return dsc_error_set(err, DSC_EINVAL, "path too long: %s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return dsc_error_set(err, DSC_EIO, "cannot create the folder %s: %s", tmp,
			                     strerror(errno));
		*p = '/';
	}
	return DSC_OK;
}

int reqlog_open(const char *path, int make_dirs, struct reqlog **out, struct dsc_error *err)
{
	struct reqlog *l;
	struct stat st;
	int r;

	*out = NULL;
	if (make_dirs) {
		r = make_parents(path, err);
		if (r != DSC_OK)
			return r;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	if (snprintf(l->path, sizeof(l->path), "%s", path) >= (int)sizeof(l->path)) {
		free(l);
		return dsc_error_set(err, DSC_EINVAL, "request log path too long: %s", path);
	}
	l->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600); /* read: its last byte */
	if (l->fd < 0) {
		r = dsc_error_set(err, DSC_EIO, "cannot open the request log %s: %s", path,
		                  strerror(errno));
		free(l);
		return r;
	}
	if (fstat(l->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = dsc_error_set(err, DSC_EIO, "the request log %s is not a regular file", path);
		reqlog_free(l);
		return r;
	}
	/* It names cases and holds receipts: it is for its owner only. */
	if ((st.st_mode & 0077) != 0 && fchmod(l->fd, 0600) != 0)
		fprintf(stderr,
		        "disclosurectl: warning: the request log %s is readable by others (mode "
		        "%04o) and could not be made 0600: %s\n",
		        path, (unsigned)(st.st_mode & 07777), strerror(errno));
	*out = l;
	return DSC_OK;
}

void reqlog_free(struct reqlog *l)
{
	if (l == NULL)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}

const char *reqlog_path(const struct reqlog *l)
{
	return l->path;
}

/* Writes all of buf at the end of the log: 0, or -1 with errno set. */
static int write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

/*
 * Under an exclusive lock (other disclosurectl processes sharing the log
 * take it too), so that the end cannot move while a record is written:
 * a record that could not be written whole (a full disk) is cut off
 * again, and one cut short before (a crash mid-write) is ended with a
 * newline first, so that this record is never glued onto it.
 */
static int append(struct reqlog *l, json_t *rec, struct dsc_error *err)
{
	char *line = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII);
	size_t len;
	off_t start;
	char last;
	int r = DSC_OK;

	if (line == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "out of memory for a request log record");
	len = strlen(line);
	line[len] = '\n'; /* json_dumps leaves room: the NUL becomes the newline */
	while (flock(l->fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			r = dsc_error_set(err, DSC_EIO, "cannot lock the request log %s: %s",
			                  l->path, strerror(errno));
			free(line);
			return r;
		}
	}
	start = lseek(l->fd, 0, SEEK_END);
	if (start < 0) {
		r = dsc_error_set(err, DSC_EIO, "cannot append to the request log %s: %s", l->path,
		                  strerror(errno));
	} else if (start > 0 && pread(l->fd, &last, 1, start - 1) == 1 && last != '\n' &&
	           write_all(l->fd, "\n", 1) != 0) {
		r = dsc_error_set(err, DSC_EIO, "cannot append to the request log %s: %s", l->path,
		                  strerror(errno));
	} else if (write_all(l->fd, line, len + 1) != 0) {
		r = dsc_error_set(err, DSC_EIO, "cannot append to the request log %s: %s", l->path,
		                  strerror(errno));
		/* Not a record: what was written of it goes. */
		if (ftruncate(l->fd, start) != 0)
			fprintf(stderr,
			        "disclosurectl: warning: the request log %s ends with a record cut "
			        "short, and it could not be cut off: %s\n",
			        l->path, strerror(errno));
	}
	free(line);
	if (r == DSC_OK && fdatasync(l->fd) != 0)
		r = dsc_error_set(err, DSC_EIO, "cannot flush the request log %s to disk: %s",
		                  l->path, strerror(errno));
	flock(l->fd, LOCK_UN);
	return r;
}

static json_t *record_new(const char *id, const char *state)
{
	char now[32];

	reqlog_now(now);
	return json_pack("{s:s, s:s, s:s}", "time", now, "id", id, "state", state);
}

static void merge(json_t *rec, json_t *fields)
{
	const char *k;
	json_t *v;

	if (fields == NULL || !json_is_object(fields))
		return;
	json_object_foreach(fields, k, v)
	{
		if (json_object_get(rec, k) == NULL) /* never overwrite id/state/time */
			json_object_set(rec, k, v);
	}
}

int reqlog_sent(struct reqlog *l, const char *method, const char *path, json_t *fields,
                char id[REQLOG_ID_LEN + 1], struct dsc_error *err)
{
	unsigned char raw[REQLOG_ID_LEN / 2];
	json_t *rec;
	int r;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return dsc_error_set(err, DSC_EIO, "cannot get random bytes for a request id: %s",
		                     strerror(errno));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	rec = record_new(id, "sent");
	if (rec == NULL || json_object_set_new(rec, "method", json_string(method)) != 0 ||
	    json_object_set_new(rec, "path", json_string(path)) != 0) {
		json_decref(rec);
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	}
	merge(rec, fields);
	r = append(l, rec, err);
	json_decref(rec);
	return r;
}

int reqlog_answered(struct reqlog *l, const char *id, int status, const char *request_id,
                    json_t *receipt, json_t *fields, struct dsc_error *err)
{
	json_t *rec = record_new(id, "answered");
	int r;

	if (rec == NULL || json_object_set_new(rec, "status", json_integer(status)) != 0) {
		json_decref(rec);
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	}
	if (request_id != NULL && request_id[0] != '\0')
		json_object_set_new(rec, "request_id", json_string(request_id));
	if (receipt != NULL)
		json_object_set(rec, "receipt", receipt);
	merge(rec, fields);
	r = append(l, rec, err);
	json_decref(rec);
	return r;
}

int reqlog_failed(struct reqlog *l, const char *id, const char *error, struct dsc_error *err)
{
	json_t *rec = record_new(id, "failed");
	int r;

	if (rec == NULL || json_object_set_new(rec, "error", json_string(error)) != 0) {
		json_decref(rec);
		return dsc_error_set(err, DSC_ENOMEM, "out of memory");
	}
	r = append(l, rec, err);
	json_decref(rec);
	return r;
}

int reqlog_each(const char *path, reqlog_fn fn, void *arg, struct dsc_error *err)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int r = DSC_OK;

	if (f == NULL)
		return dsc_error_set(err, errno == ENOENT ? DSC_ENOTFOUND : DSC_EIO,
		                     "cannot read the request log %s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0) {
		json_t *rec;

		lineno++;
		if (n == 0 || (n == 1 && line[0] == '\n'))
			continue;
		rec = json_loadb(line, (size_t)n, JSON_DISABLE_EOF_CHECK, NULL);
		if (rec != NULL && !json_is_object(rec)) {
			json_decref(rec);
			rec = NULL;
		}
		r = fn(arg, rec, lineno);
		json_decref(rec);
		if (r != DSC_OK)
			break;
	}
	if (r == DSC_OK && ferror(f))
		r = dsc_error_set(err, DSC_EIO, "cannot read the request log %s: %s", path,
		                  strerror(errno));
	free(line);
	fclose(f);
	return r;
}
