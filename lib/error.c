/* error.c - the project's status codes in words. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "disclosure/error.h"

void dsc_error_clear(struct dsc_error *e)
{
	if (e == NULL)
		return;
	e->code = DSC_OK;
	e->field[0] = '\0';
	e->msg[0] = '\0';
}

int dsc_error_set(struct dsc_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	e->field[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

int dsc_error_field(struct dsc_error *e, int code, const char *field, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (e == NULL)
		return code;
	e->code = code;
	snprintf(e->field, sizeof(e->field), "%s", field);
	n = snprintf(e->msg, sizeof(e->msg), "%s: ", field);
	if (n < 0 || (size_t)n >= sizeof(e->msg))
		return code;
	va_start(ap, fmt);
	vsnprintf(e->msg + n, sizeof(e->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return code;
}

const char *dsc_status_name(int code)
{
	switch (code) {
	case DSC_OK: return "ok";
	case DSC_EINVAL: return "invalid";
	case DSC_EJSON: return "not JSON";
	case DSC_ENOTFOUND: return "not found";
	case DSC_ECONFLICT: return "conflict";
	case DSC_EFULL: return "store full";
	case DSC_EIO: return "I/O error";
	case DSC_ENOMEM: return "out of memory";
	case DSC_EPERM: return "permission denied";
	case DSC_EINTERNAL: return "internal error";
	case DSC_ETOOBIG: return "too big";
	}
	return "unknown error";
}
