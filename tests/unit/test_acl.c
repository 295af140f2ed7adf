/*
 * test_acl.c - acl.conf parsing and principal lookup (lib/acl.c), after
 * Knot DNS's test_acl.c: a table of files, each named for the rule it
 * checks, with the exact "acl.conf:LINE: ..." message a person would see.
 * Every principal here is invented.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "disclosure/acl.h"

#define ALICE "[alice.jones]\ncn = alice.jones\nroles = caseworker\nforce = west-mercia\n"

struct acl_case {
	const char *name;
	const char *text;
	int rc;
	const char *msg; /* exact message on failure */
};

static const struct acl_case cases[] = {
    {"the contract's example parses",
     ALICE "\n[dana.officer]\ncn = dana.officer\nroles = caseworker, disclosure_officer\n"
           "force = west-mercia\n",
     DSC_OK, NULL},
    {"an empty file is an empty list", "", DSC_OK, NULL},
    {"comments and blank lines are ignored", "; who may ask\n# and who may not\n\n" ALICE, DSC_OK,
     NULL},
    {"inline comment after a value is not part of it",
     "[a]\ncn = a ; the CN\nroles = caseworker ; one role\nforce = * ; national\n", DSC_OK, NULL},
    {"unknown role is rejected with its line",
     "[alice]\ncn = alice\nroles = caseworker, casewroker\nforce = west-mercia\n", DSC_EINVAL,
     "acl.conf:3: unknown role 'casewroker' (roles: caseworker, disclosure_officer, "
     "registrar, auditor, monitor)"},
    {"empty role between commas is rejected",
     "[alice]\ncn = alice\nroles = caseworker,,auditor\nforce = *\n", DSC_EINVAL,
     "acl.conf:3: empty role in 'roles = caseworker,,auditor'"},
    {"unknown key is rejected with its line", "[alice]\ncn = alice\nrole = caseworker\nforce = *\n",
     DSC_EINVAL, "acl.conf:3: unknown key 'role' in [alice] (keys: cn, roles, force)"},
    {"missing cn is rejected at the section", "\n[alice]\nroles = caseworker\nforce = *\n",
     DSC_EINVAL, "acl.conf:2: [alice] lacks 'cn' (every principal needs cn, roles and force)"},
    {"missing force is rejected at the section, also for the last one",
     ALICE "[bob]\ncn = bob\nroles = monitor\n", DSC_EINVAL,
     "acl.conf:5: [bob] lacks 'force' (every principal needs cn, roles and force)"},
    {"empty section is rejected", "[alice]\n" ALICE, DSC_EINVAL,
     "acl.conf:1: [alice] lacks 'cn' (every principal needs cn, roles and force)"},
    {"duplicate section is rejected at the second", ALICE "\n" ALICE, DSC_EINVAL,
     "acl.conf:6: section [alice.jones] appears twice (first at line 1)"},
    {"duplicate CN is rejected at the second",
     ALICE "[alice2]\ncn = alice.jones\nroles = auditor\nforce = *\n", DSC_EINVAL,
     "acl.conf:6: cn 'alice.jones' of [alice2] already belongs to [alice.jones] (line 2)"},
    {"key given twice in one section is rejected",
     "[alice]\ncn = alice\ncn = alice2\nroles = caseworker\nforce = *\n", DSC_EINVAL,
     "acl.conf:3: 'cn' given twice in [alice]"},
    {"key before any section is rejected", "cn = alice\n" ALICE, DSC_EINVAL,
     "acl.conf:1: key 'cn' before any [principal] section"},
    {"principal id with a space is rejected",
     "[alice jones]\ncn = a\nroles = caseworker\nforce = *\n", DSC_EINVAL,
     "acl.conf:1: principal id [alice jones] must be 1-128 characters of A-Z a-z 0-9 . _ @ -"},
    {"empty principal id is rejected", "[]\ncn = a\nroles = caseworker\nforce = *\n", DSC_EINVAL,
     "acl.conf:1: principal id [] must be 1-128 characters of A-Z a-z 0-9 . _ @ -"},
    {"force in capitals is rejected",
     "[alice]\ncn = alice\nroles = caseworker\nforce = West-Mercia\n", DSC_EINVAL,
     "acl.conf:4: force 'West-Mercia' must be * or 1-64 characters of a-z 0-9 -"},
    {"empty cn is rejected", "[alice]\ncn =\nroles = caseworker\nforce = *\n", DSC_EINVAL,
     "acl.conf:2: cn must be 1-256 characters without control characters"},
    {"section header without a bracket is rejected", "[alice\ncn = a\n", DSC_EINVAL,
     "acl.conf:1: section header without a closing ']'"},
    {"text after a section header is rejected", "[alice] x\n", DSC_EINVAL,
     "acl.conf:1: text after the section header's ']'"},
    {"line that is neither key nor section is rejected with its line", ALICE "just words\n",
     DSC_EINVAL, "acl.conf:5: expected 'key = value', '[section]' or a comment"},
    {"a key without '=' is named at its line, not as a key the section lacks",
     "[alice]\ncn = alice\nroles = caseworker\nforce west-mercia\n\n[bob]\ncn = bob\nroles = monitor\n"
     "force = *\n", DSC_EINVAL,
     "acl.conf:4: expected 'key = value', '[section]' or a comment"},
    {"line over inih's buffer is rejected, not split",
     "[alice]\ncn = "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaa\nroles = caseworker\nforce = *\n",
     DSC_EINVAL, "acl.conf:2: line longer than 198 bytes"},
    {"indented continuation line is not glued to the value above",
     "[alice]\ncn = alice\n    roles = monitor\nforce = *\n", DSC_OK, NULL},
};

static void acl_files_are_accepted_or_rejected_with_their_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct acl_case *t = &cases[i];
		struct dsc_error err;
		struct acl *a = (struct acl *)1;
		int rc;

		dsc_error_clear(&err);
		rc = acl_parse(t->text, strlen(t->text), "acl.conf", &a, &err);
		if (rc != t->rc)
			fail_msg("case '%s': rc %d, expected %d (%s)", t->name, rc, t->rc, err.msg);
		if (t->rc == DSC_OK) {
			assert_non_null(a);
		} else {
			assert_null(a);
			if (strcmp(err.msg, t->msg) != 0)
				fail_msg("case '%s':\n  got      '%s'\n  expected '%s'", t->name,
				         err.msg, t->msg);
		}
		acl_free(a);
	}
}

static void principals_are_found_by_exact_cn(void **state)
{
	struct dsc_error err;
	struct acl *a;
	const struct principal *p;
	char roles[128];

	(void)state;
	assert_int_equal(acl_load("fixtures/acl-valid.conf", &a, &err), DSC_OK);
	assert_int_equal(acl_count(a), 4);

	p = acl_find_cn(a, "dana.officer");
	assert_non_null(p);
	assert_string_equal(p->id, "dana.officer");
	assert_string_equal(p->force, "west-mercia");
	assert_true(principal_has(p, ROLE_DISCLOSURE_OFFICER));
	assert_true(principal_has(p, ROLE_CASEWORKER | ROLE_AUDITOR));
	assert_false(principal_has(p, ROLE_REGISTRAR));
	assert_false(principal_national(p));
	roles_format(p->roles, roles, sizeof(roles));
	assert_string_equal(roles, "caseworker,disclosure_officer");

	/* an indented section and a CN with a space */
	p = acl_find_cn(a, "Rory Registrar");
	assert_non_null(p);
	assert_string_equal(p->id, "rory.registrar@example-force");
	assert_int_equal(p->roles, ROLE_REGISTRAR);

	p = acl_find_cn(a, "audit-team");
	assert_non_null(p);
	assert_true(principal_national(p));
	assert_int_equal(p->roles, ROLE_AUDITOR | ROLE_MONITOR);

	/* exact: no case folding, no prefixes, no trailing space */
	assert_null(acl_find_cn(a, "Dana.Officer"));
	assert_null(acl_find_cn(a, "dana.office"));
	assert_null(acl_find_cn(a, "dana.officer "));
	assert_null(acl_find_cn(a, ""));
	assert_null(acl_find_cn(a, NULL));
	acl_free(a);
}

static void roles_have_their_contract_names(void **state)
{
	char out[128];

	(void)state;
	assert_string_equal(role_name(ROLE_CASEWORKER), "caseworker");
	assert_string_equal(role_name(ROLE_DISCLOSURE_OFFICER), "disclosure_officer");
	assert_string_equal(role_name(ROLE_REGISTRAR), "registrar");
	assert_string_equal(role_name(ROLE_AUDITOR), "auditor");
	assert_string_equal(role_name(ROLE_MONITOR), "monitor");
	roles_format(0, out, sizeof(out));
	assert_string_equal(out, "");
	roles_format(ROLE_MONITOR | ROLE_CASEWORKER, out, sizeof(out));
	assert_string_equal(out, "caseworker,monitor");
	roles_format(ROLE_MONITOR | ROLE_CASEWORKER, out, 8); /* truncated, terminated */
	assert_true(strlen(out) < 8);
}

struct value_case {
	const char *name;
	const char *text;
	const char *cn; /* looked up */
	unsigned roles;
	const char *force;
};

static const struct value_case value_cases[] = {
    {"CRLF line ends are not part of the values",
     "[alice]\r\ncn = alice\r\nroles = caseworker\r\nforce = west-mercia\r\n", "alice",
     ROLE_CASEWORKER, "west-mercia"},
    {"a # inside a value is kept", "[a]\ncn = team#2\nroles = monitor\nforce = *\n", "team#2",
     ROLE_MONITOR, "*"},
    {"a ; without a space before it is kept", "[a]\ncn = x;y\nroles = monitor\nforce = *\n", "x;y",
     ROLE_MONITOR, "*"},
    {"roles with tabs and spaces around the commas",
     "[a]\ncn = a\nroles =\tcaseworker ,\tdisclosure_officer , registrar,auditor,monitor\n"
     "force = *\n",
     "a", ROLE_CASEWORKER | ROLE_DISCLOSURE_OFFICER | ROLE_REGISTRAR | ROLE_AUDITOR | ROLE_MONITOR,
     "*"},
    {"a role named twice is one role", "[a]\ncn = a\nroles = auditor, auditor\nforce = *\n", "a",
     ROLE_AUDITOR, "*"},
    {"a UTF-8 byte order mark is skipped",
     "\xEF\xBB\xBF[a]\ncn = a\nroles = auditor\nforce = north-wessex\n", "a", ROLE_AUDITOR,
     "north-wessex"},
    {"keys written with a colon", "[a]\ncn: a\nroles: auditor\nforce: *\n", "a", ROLE_AUDITOR, "*"},
};

static void values_are_read_as_written(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
		const struct value_case *t = &value_cases[i];
		struct dsc_error err;
		struct acl *a;
		const struct principal *p;

		if (acl_parse(t->text, strlen(t->text), "acl.conf", &a, &err) != DSC_OK)
			fail_msg("case '%s': %s", t->name, err.msg);
		p = acl_find_cn(a, t->cn);
		if (p == NULL || p->roles != t->roles || strcmp(p->force, t->force) != 0)
			fail_msg("case '%s': cn '%s' %s", t->name, t->cn,
			         p == NULL ? "not found" : "has other roles or force");
		acl_free(a);
	}
}

static void missing_file_says_why(void **state)
{
	struct dsc_error err;
	struct acl *a;

	(void)state;
	assert_int_equal(acl_load("fixtures/no-such-acl.conf", &a, &err), DSC_EIO);
	assert_null(a);
	assert_string_equal(err.msg, "fixtures/no-such-acl.conf: No such file or directory");
}

static void thousands_of_principals_are_each_found(void **state)
{
	enum { N = 5000 };
	size_t cap = (size_t)N * 100, len = 0;
	char *text = malloc(cap);
	struct dsc_error err;
	struct acl *a;

	(void)state;
	assert_non_null(text);
	/* written in descending order, so the index has work to do */
	for (int i = N - 1; i >= 0; i--)
		len += (size_t)snprintf(text + len, cap - len,
		                        "[worker%05d]\ncn = worker%05d.cn\nroles = caseworker\n"
		                        "force = force-%d\n",
		                        i, i, i % 43);
	assert_int_equal(acl_parse(text, len, "big.conf", &a, &err), DSC_OK);
	assert_int_equal(acl_count(a), N);
	for (int i = 0; i < N; i++) {
		char cn[32], id[32];
		const struct principal *p;

		snprintf(cn, sizeof(cn), "worker%05d.cn", i);
		snprintf(id, sizeof(id), "worker%05d", i);
		p = acl_find_cn(a, cn);
		assert_non_null(p);
		assert_string_equal(p->id, id);
	}
	assert_null(acl_find_cn(a, "worker99999.cn"));
	acl_free(a);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(acl_files_are_accepted_or_rejected_with_their_line),
	    cmocka_unit_test(principals_are_found_by_exact_cn),
	    cmocka_unit_test(roles_have_their_contract_names),
	    cmocka_unit_test(values_are_read_as_written),
	    cmocka_unit_test(missing_file_says_why),
	    cmocka_unit_test(thousands_of_principals_are_each_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
