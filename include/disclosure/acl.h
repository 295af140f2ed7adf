/*
 * acl.h - principals and their roles and force scope, from acl.conf
 * (contract.md "Access control list").  Errors carry file:line and the
 * offending word ("acl.conf:14: unknown role 'casewroker'").
 */
#ifndef DISCLOSURE_ACL_H
#define DISCLOSURE_ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "disclosure/config.h"
#include "disclosure/error.h"

enum role {
	ROLE_CASEWORKER = 1u << 0,
	ROLE_DISCLOSURE_OFFICER = 1u << 1,
	ROLE_REGISTRAR = 1u << 2,
	ROLE_AUDITOR = 1u << 3,
	ROLE_MONITOR = 1u << 4,
};

#define PRINCIPAL_ID_MAX 128
#define PRINCIPAL_CN_MAX 256
#define FORCE_MAX 64

struct principal {
	char id[PRINCIPAL_ID_MAX + 1];
	char cn[PRINCIPAL_CN_MAX + 1];
	unsigned roles; /* enum role bits */
	char force[FORCE_MAX + 1]; /* "*" = national scope */
};

struct acl;

/* Refuses (DSC_EPERM) a file others may write, as it refuses any error. */
int acl_load(const char *path, struct acl **out, struct dsc_error *err);
/* Addition, for --check-config: as acl_load, but every problem of the file
 * goes to report (config_check); returns their number, and the ACL in *out
 * only when there is none. */
unsigned acl_check(const char *path, struct acl **out, config_report_fn report, void *arg);
/* name is used in messages in place of a file name. */
int acl_parse(const char *text, size_t len, const char *name, struct acl **out,
	      struct dsc_error *err);
void acl_free(struct acl *a);
size_t acl_count(const struct acl *a);
/* Addition: the i-th principal in the file's order, NULL past the end. */
const struct principal *acl_get(const struct acl *a, size_t i);
/* NULL if no principal has this CN. */
const struct principal *acl_find_cn(const struct acl *a, const char *cn);

bool principal_has(const struct principal *p, unsigned role_bits); /* any of */
bool principal_national(const struct principal *p);
/* "caseworker,disclosure_officer" */
void roles_format(unsigned roles, char *out, size_t outlen);
const char *role_name(enum role r);

#endif
