/*
 * acl.c - acl.conf (contract.md "Access control list"): one section per
 * principal with its certificate CN, roles and force scope, and the
 * lookup the daemon makes on every request (exact CN, binary search over
 * a sorted index, so thousands of principals cost a dozen comparisons).
 *
 * Must never: guess (a misspelt role, a missing key, two sections for one
 * id or two principals with one CN is an error naming the line, never a
 * principal with fewer or other rights than written), or match a CN other
 * than byte for byte.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disclosure/acl.h"
#include "disclosure/config.h"

#define ACL_FILE_MAX (64u * 1024 * 1024)
#define ACL_PRINCIPALS_MAX 1000000

struct acl_entry {
	struct principal p;
	unsigned line;    /* of the section header */
	unsigned cn_line; /* of the cn key */
};

struct acl {
	struct acl_entry *e;
	size_t n, cap;
	const struct acl_entry **by_cn; /* sorted by cn */
};

static const struct {
	const char *name;
	enum role role;
} role_names[] = {
    {"caseworker", ROLE_CASEWORKER}, {"disclosure_officer", ROLE_DISCLOSURE_OFFICER},
    {"registrar", ROLE_REGISTRAR},   {"auditor", ROLE_AUDITOR},
    {"monitor", ROLE_MONITOR},
};
#define N_ROLES (sizeof(role_names) / sizeof(role_names[0]))

const char *role_name(enum role r)
{
	for (size_t i = 0; i < N_ROLES; i++)
		if (role_names[i].role == r)
			return role_names[i].name;
	return "unknown";
}

void roles_format(unsigned roles, char *out, size_t outlen)
{
	size_t used = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < N_ROLES; i++) {
		int n;

		if (!(roles & role_names[i].role))
			continue;
		n = snprintf(out + used, outlen - used, "%s%s", used ? "," : "",
		             role_names[i].name);
		if (n < 0 || (size_t)n >= outlen - used)
			return; /* truncated, still NUL-terminated */
		used += (size_t)n;
	}
}

bool principal_has(const struct principal *p, unsigned role_bits)
{
	return p != NULL && (p->roles & role_bits) != 0;
}

bool principal_national(const struct principal *p)
{
	return p != NULL && strcmp(p->force, "*") == 0;
}

static bool id_valid(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '@' || c == '-'))
			return false;
	}
	return n >= 1 && n <= PRINCIPAL_ID_MAX;
}

static bool force_valid(const char *s)
{
	size_t n = 0;

	if (strcmp(s, "*") == 0)
		return true;
	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return n >= 1 && n <= FORCE_MAX;
}

/* A CN is compared byte for byte with the certificate's; refuse only
 * what could never be one or would confuse a log reader. */
static bool cn_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > PRINCIPAL_CN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* Parses "caseworker, disclosure_officer" into role bits. */
static int roles_parse(const char *v, unsigned *out, char *msg, size_t msglen)
{
	unsigned roles = 0;
	const char *p = v;

	for (;;) {
		const char *start, *end;
		size_t len, i;

		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (*p != '\0' && *p != ',')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		len = (size_t)(end - start);
		if (len == 0) {
			snprintf(msg, msglen, "empty role in 'roles = %s'", v);
			return -1;
		}
		for (i = 0; i < N_ROLES; i++)
			if (strlen(role_names[i].name) == len &&
			    memcmp(role_names[i].name, start, len) == 0)
				break;
		if (i == N_ROLES) {
			snprintf(msg, msglen,
			         "unknown role '%.*s' (roles: caseworker, disclosure_officer, "
			         "registrar, auditor, monitor)",
			         (int)(len > 64 ? 64 : len), start);
			return -1;
		}
		roles |= role_names[i].role;
		if (*p == '\0')
			break;
		p++; /* the comma */
	}
	*out = roles;
	return 0;
}

struct acl_parse {
	struct acl *a;
	struct acl_entry *cur; /* the open section */
	unsigned roles_line, force_line;
	bool cur_refused; /* a key of cur was refused (said already) */
};

/* What an ACL others may write would let them do. */
#define ACL_AT_STAKE "any user of this machine could give themselves a role"

static int acl_key_or_section(void *user, const struct config_ini_event *ev, unsigned *err_line,
                              char *msg, size_t msglen)
{
	struct acl_parse *ap = user;
	struct acl *a = ap->a;
	struct acl_entry *e;

	switch (ev->kind) {
	case CONFIG_INI_SECTION_START:
		if (!id_valid(ev->section)) {
			snprintf(msg, msglen,
			         "principal id [%.140s] must be 1-%d characters of A-Z a-z 0-9 . _ "
			         "@ -",
			         ev->section, PRINCIPAL_ID_MAX);
			return -1;
		}
		if (a->n == ACL_PRINCIPALS_MAX) {
			snprintf(msg, msglen, "more than %d principals", ACL_PRINCIPALS_MAX);
			return -1;
		}
		if (a->n == a->cap) {
			size_t ncap = a->cap ? a->cap * 2 : 16;
			struct acl_entry *ne = realloc(a->e, ncap * sizeof(*ne));

			if (ne == NULL) {
				snprintf(msg, msglen, "out of memory");
				return -1;
			}
			a->e = ne;
			a->cap = ncap;
		}
		e = &a->e[a->n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->p.id, sizeof(e->p.id), "%s", ev->section);
		e->line = ev->line;
		ap->cur = e;
		ap->roles_line = ap->force_line = 0;
		ap->cur_refused = false;
		return 0;
	case CONFIG_INI_SECTION_END:
		e = ap->cur;
		*err_line = ev->line;
		/* (acl_check reads on past a refused key: the key it lacks
		 * then is the one already said to be wrong.) */
		if (!ap->cur_refused &&
		    (e->cn_line == 0 || ap->roles_line == 0 || ap->force_line == 0)) {
			snprintf(msg, msglen,
			         "[%s] lacks '%s' (every principal needs cn, roles and "
			         "force)",
			         e->p.id,
			         e->cn_line == 0       ? "cn"
			         : ap->roles_line == 0 ? "roles"
			                               : "force");
			return -1;
		}
		ap->cur = NULL;
		return 0;
	case CONFIG_INI_KEY:
		break;
	}
	e = ap->cur;
	if (e == NULL) {
		snprintf(msg, msglen, "key '%s' before any [principal] section", ev->key);
		return -1;
	}
	if (strcmp(ev->key, "cn") == 0) {
		if (e->cn_line != 0)
			goto twice;
		if (!cn_valid(ev->value)) {
			snprintf(msg, msglen,
			         "cn must be 1-%d characters without control characters",
			         PRINCIPAL_CN_MAX);
			return -1;
		}
		snprintf(e->p.cn, sizeof(e->p.cn), "%s", ev->value);
		e->cn_line = ev->line;
	} else if (strcmp(ev->key, "roles") == 0) {
		if (ap->roles_line != 0)
			goto twice;
		if (roles_parse(ev->value, &e->p.roles, msg, msglen) != 0)
			return -1;
		ap->roles_line = ev->line;
	} else if (strcmp(ev->key, "force") == 0) {
		if (ap->force_line != 0)
			goto twice;
		if (!force_valid(ev->value)) {
			snprintf(msg, msglen,
			         "force '%.80s' must be * or 1-%d characters of a-z 0-9 -",
			         ev->value, FORCE_MAX);
			return -1;
		}
		snprintf(e->p.force, sizeof(e->p.force), "%s", ev->value);
		ap->force_line = ev->line;
	} else {
		snprintf(msg, msglen, "unknown key '%.60s' in [%s] (keys: cn, roles, force)",
		         ev->key, e->p.id);
		return -1;
	}
	return 0;
twice:
	snprintf(msg, msglen, "'%s' given twice in [%s]", ev->key, e->p.id);
	return -1;
}

static int acl_event(void *user, const struct config_ini_event *ev, unsigned *err_line, char *msg,
                     size_t msglen)
{
	struct acl_parse *ap = user;
	int rc = acl_key_or_section(user, ev, err_line, msg, msglen);

	if (rc != 0 && ev->kind == CONFIG_INI_KEY && ap->cur != NULL)
		ap->cur_refused = true;
	return rc;
}

static int cmp_cn(const void *x, const void *y)
{
	const struct acl_entry *const *a = x, *const *b = y;

	return strcmp((*a)->p.cn, (*b)->p.cn);
}

static int cmp_id(const void *x, const void *y)
{
	const struct acl_entry *const *a = x, *const *b = y;
	int c = strcmp((*a)->p.id, (*b)->p.id);

	if (c != 0)
		return c;
	return (*a)->line < (*b)->line ? -1 : (*a)->line > (*b)->line;
}

/* Sorted views find duplicates in n log n; the later line is blamed. */
static int acl_index(struct acl *a, const char *name, struct dsc_error *err)
{
	const struct acl_entry **v;
	int rc = DSC_OK;

	if (a->n == 0)
		return DSC_OK;
	v = calloc(a->n, sizeof(*v));
	if (v == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "%s: out of memory", name);
	for (size_t i = 0; i < a->n; i++)
		v[i] = &a->e[i];
	qsort(v, a->n, sizeof(*v), cmp_id);
	for (size_t i = 1; i < a->n; i++) {
		if (strcmp(v[i - 1]->p.id, v[i]->p.id) == 0) {
			rc = dsc_error_set(err, DSC_EINVAL,
			                   "%s:%u: section [%s] appears twice (first at line %u)",
			                   name, v[i]->line, v[i]->p.id, v[i - 1]->line);
			goto fail;
		}
	}
	/* Blame the later of two equal CNs: sort ties by line. */
	qsort(v, a->n, sizeof(*v), cmp_cn);
	for (size_t i = 1; i < a->n; i++) {
		if (strcmp(v[i - 1]->p.cn, v[i]->p.cn) == 0) {
			const struct acl_entry *first = v[i - 1], *later = v[i];

			if (first->cn_line > later->cn_line) {
				first = v[i];
				later = v[i - 1];
			}
			rc = dsc_error_set(
			    err, DSC_EINVAL,
			    "%s:%u: cn '%s' of [%s] already belongs to [%s] (line %u)", name,
			    later->cn_line, later->p.cn, later->p.id, first->p.id, first->cn_line);
			goto fail;
		}
	}
	a->by_cn = v;
	return DSC_OK;
fail:
	free(v);
	return rc;
}

/* acl_parse's reading; with report, acl_check's (see config_check). */
static int parse(const char *text, size_t len, const char *name, struct acl **out,
                 config_report_fn report, void *arg, unsigned *problems, struct dsc_error *err)
{
	struct acl_parse ap;
	struct acl *a;
	int rc;

	*out = NULL;
	if (name == NULL)
		name = "acl.conf";
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "%s: out of memory", name);
	memset(&ap, 0, sizeof(ap));
	ap.a = a;
	if (report != NULL) {
		unsigned n = config_ini_parse_all(text, len, name, acl_event, &ap, report, arg);

		*problems += n;
		/* Duplicates among sections already wrong would be noise. */
		rc = n == 0 ? acl_index(a, name, err) : DSC_EINVAL;
		if (rc != DSC_OK && n == 0) {
			report(arg, err->msg);
			(*problems)++;
		}
	} else {
		rc = config_ini_parse(text, len, name, acl_event, &ap, err);
		if (rc == DSC_OK)
			rc = acl_index(a, name, err);
	}
	if (rc != DSC_OK) {
		acl_free(a);
		return rc;
	}
	*out = a;
	return DSC_OK;
}

int acl_parse(const char *text, size_t len, const char *name, struct acl **out,
              struct dsc_error *err)
{
	return parse(text, len, name, out, NULL, NULL, NULL, err);
}

int acl_load(const char *path, struct acl **out, struct dsc_error *err)
{
	char *text;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = config_file_read(path, ACL_FILE_MAX, "acl", ACL_AT_STAKE, &text, &len, err)) !=
	    DSC_OK)
		return rc;
	rc = parse(text, len, path, out, NULL, NULL, NULL, err);
	free(text);
	return rc;
}

unsigned acl_check(const char *path, struct acl **out, config_report_fn report, void *arg)
{
	struct dsc_error err;
	unsigned problems;
	char *text;
	size_t len;
	int n;

	*out = NULL;
	n = config_file_check(path, ACL_FILE_MAX, "acl", ACL_AT_STAKE, &text, &len, report, arg);
	if (n < 0)
		return 1;
	problems = (unsigned)n;
	(void)parse(text, len, path, out, report, arg, &problems, &err);
	free(text);
	if (problems > 0) {
		acl_free(*out);
		*out = NULL;
	}
	return problems;
}

void acl_free(struct acl *a)
{
	if (a == NULL)
		return;
	free(a->by_cn);
	free(a->e);
	free(a);
}

size_t acl_count(const struct acl *a)
{
	return a != NULL ? a->n : 0;
}

const struct principal *acl_get(const struct acl *a, size_t i)
{
	return a != NULL && i < a->n ? &a->e[i].p : NULL;
}

const struct principal *acl_find_cn(const struct acl *a, const char *cn)
{
	size_t lo = 0, hi;

	if (a == NULL || cn == NULL || a->by_cn == NULL)
		return NULL;
	hi = a->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(cn, a->by_cn[mid]->p.cn);

		if (c == 0)
			return &a->by_cn[mid]->p;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
