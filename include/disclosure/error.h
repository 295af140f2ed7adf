/*
 * error.h - one set of status codes and an error record for the whole
 * project.  Every function that can fail returns one of the DSC_* codes
 * (0 = success, negative = failure) and, where it takes a struct dsc_error,
 * fills it with words a person can act on ("names[1].family: required").
 * Never abort on input: return a status.
 */
#ifndef DISCLOSURE_ERROR_H
#define DISCLOSURE_ERROR_H

#include <stddef.h>

enum dsc_status {
	DSC_OK = 0,
	DSC_EINVAL = -1,    /* invalid input: a field or value is wrong */
	DSC_EJSON = -2,     /* input is not JSON (or not UTF-8) at all */
	DSC_ENOTFOUND = -3, /* no such record, check, entry */
	DSC_ECONFLICT = -4, /* state forbids it (already decided, ...) */
	DSC_EFULL = -5,     /* store map or disk full */
	DSC_EIO = -6,       /* I/O or LMDB failure */
	DSC_ENOMEM = -7,    /* out of memory */
	DSC_EPERM = -8,     /* permission (file mode, role) */
	DSC_EINTERNAL = -9, /* a bug or an impossible state */
	DSC_ETOOBIG = -10,  /* a size limit was exceeded */
};

struct dsc_error {
	int code;
	char field[128]; /* JSON path of the offending field, "" if none */
	char msg[512];   /* full message, including the field path if any */
};

void dsc_error_clear(struct dsc_error *e);
/* Sets code and msg; clears field. e may be NULL. Returns code. */
int dsc_error_set(struct dsc_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sets code, field and msg = "<field>: <formatted>". Returns code. */
int dsc_error_field(struct dsc_error *e, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A short name of a status: "invalid", "not found", ... */
const char *dsc_status_name(int code);

#endif
