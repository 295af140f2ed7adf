/*
 * csv.h - RFC 4180 CSV, just enough for `disclosurectl batch`: quoted
 * fields with "" escapes and line breaks inside quotes, LF or CRLF line
 * ends, a UTF-8 byte-order mark ignored.  Bounded: a field longer than
 * CSV_FIELD_MAX or a record of more than CSV_FIELDS_MAX fields is an
 * error naming the line, never unbounded growth.
 */
#ifndef DISCLOSURECTL_CSV_H
#define DISCLOSURECTL_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "disclosure/error.h"

#define CSV_FIELD_MAX 8192
#define CSV_FIELDS_MAX 64

struct csv_record {
	char *fields[CSV_FIELDS_MAX]; /* malloc'd */
	size_t n;
	size_t line; /* line number of the record's first line */
};

/* 1: a record, 0: end of file, <0: error (err says where). Empty lines are skipped. */
int csv_read(FILE *f, size_t *lineno, struct csv_record *rec, struct dsc_error *err);
void csv_record_release(struct csv_record *rec);
/* One record as a CSV line ending in "\n"; malloc'd, NULL if out of memory. */
char *csv_format(const char *const *fields, size_t n);
/* A cell csv_format wrote: without the ' it put before a cell that a
 * spreadsheet would otherwise run as a formula (=, +, -, @, tab, CR). */
const char *csv_unformula(const char *s);

#endif
