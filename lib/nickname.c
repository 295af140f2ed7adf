/*
 * nickname.c - the nickname and variant table, and the family-name
 * variant table read by the same code (nickname.h).
 *
 * Built once at start; lookups are an open-addressing hash of names to
 * the groups they belong to, so a check pays a few probes per name pair
 * and never allocates.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nickname.h"

#define NAME_GROUPS_MAX 32/* groups one name may belong to */
#define NICK_NAME_MAX 32

extern const char nicknames_data[];
extern const size_t nicknames_data_len;
extern const char surnames_data[];
extern const size_t surnames_data_len;

#define NAME_APART_MAX 8 /* "apart" lines one name may be on */

struct nick_name {
	char *name;
	uint32_t groups[NAME_GROUPS_MAX];
	uint8_t n_groups;
	/* The "apart" lines the name is on: line number << 4 | its set. */
	uint32_t apart[NAME_APART_MAX];
	uint8_t n_apart;
};

struct nickname_table {
	struct nick_name *names; /* distinct names */
	size_t n_names, cap_names;
	/* hash: the name's hash << 32 | index+1 into names, 0 = empty; a
	 * probe compares the hash before the name (a look-up of a name the
	 * table does not hold reads no name at all) */
	uint64_t *slots;
	size_t n_slots;
	uint32_t *members; /* flat: the name indexes of every group */
	size_t n_members, cap_members;
	uint32_t *group_start; /* n_groups + 1 offsets into members */
	size_t n_groups, cap_groups;
	size_t n_apart_lines;
};

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static long find_name(const struct nickname_table *t, const char *name)
{
	if (t->n_slots == 0)
		return -1;
	uint32_t h = name_hash(name);

	for (size_t i = h & (t->n_slots - 1);; i = (i + 1) & (t->n_slots - 1)) {
		uint64_t v = t->slots[i];
		uint32_t k = (uint32_t)v;
		if (k == 0)
			return -1;
		if ((uint32_t)(v >> 32) == h && strcmp(t->names[k - 1].name, name) == 0)
			return (long)(k - 1);
	}
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return DSC_OK;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap * elem);
	if (np == NULL)
		return DSC_ENOMEM;
	*p = np;
	*cap = ncap;
	return DSC_OK;
}

/* Puts name, number k, into the first free slot of its probe. */
static void slot_put(uint64_t *slots, size_t n_slots, const char *name, size_t k)
{
	uint32_t h = name_hash(name);
	size_t i = h & (n_slots - 1);

	while (slots[i] != 0)
		i = (i + 1) & (n_slots - 1);
	slots[i] = (uint64_t)h << 32 | (uint32_t)(k + 1);
}

static int rehash(struct nickname_table *t)
{
	size_t n = 64;
	uint64_t *s;

	while (n < t->n_names * 2 + 2)
		n *= 2;
	s = calloc(n, sizeof(*s));
	if (s == NULL)
		return DSC_ENOMEM;
	for (size_t k = 0; k < t->n_names; k++)
		slot_put(s, n, t->names[k].name, k);
	free(t->slots);
	t->slots = s;
	t->n_slots = n;
	return DSC_OK;
}

/* The name's index, the name added (in no group yet) if new; -1 and err
 * set when memory runs out. */
static long name_index(struct nickname_table *t, const char *name, const char *source, struct dsc_error *err)
{
	long k = find_name(t, name);
	struct nick_name *nn;

	if (k < 0) {
		if (grow((void **)&t->names, &t->cap_names, t->n_names + 1, sizeof(*t->names)) != DSC_OK)
			goto oom;
		nn = &t->names[t->n_names];
		memset(nn, 0, sizeof(*nn));
		nn->name = strdup(name);
		if (nn->name == NULL)
			goto oom;
		k = (long)t->n_names++;
		if (t->n_names * 2 + 2 > t->n_slots && rehash(t) != DSC_OK)
			goto oom;
		if (t->n_slots > 0 && find_name(t, name) != k)
			slot_put(t->slots, t->n_slots, name, (size_t)k);
	}
	return k;
oom:
	dsc_error_set(err, DSC_ENOMEM, "%s: out of memory", source);
	return -1;
}

/* Adds name to the current group (the last one). */
static int add_member(struct nickname_table *t, const char *name, const char *source, size_t line,
		      struct dsc_error *err)
{
	long k = name_index(t, name, source, err);
	uint32_t g = (uint32_t)(t->n_groups - 1);
	struct nick_name *nn;

	if (k < 0)
		return DSC_ENOMEM;
	nn = &t->names[k];
	for (size_t i = 0; i < nn->n_groups; i++)
		if (nn->groups[i] == g)
			return DSC_OK; /* listed twice on one line */
	if (nn->n_groups == NAME_GROUPS_MAX)
		return dsc_error_set(err, DSC_EINVAL, "%s:%zu: '%s' is in more than %d groups", source, line,
				     name, NAME_GROUPS_MAX);
	nn->groups[nn->n_groups++] = g;
	if (grow((void **)&t->members, &t->cap_members, t->n_members + 1, sizeof(*t->members)) != DSC_OK)
		return dsc_error_set(err, DSC_ENOMEM, "%s: out of memory", source);
	t->members[t->n_members++] = (uint32_t)k;
	t->group_start[t->n_groups] = (uint32_t)t->n_members;
	return DSC_OK;
}

/* Reads one name (a-z, upper case folded) at p[*i] into name. */
static int read_name(const char *p, size_t len, size_t *i, char name[NICK_NAME_MAX + 1], const char *source,
		     size_t line, struct dsc_error *err)
{
	size_t k = 0;

	while (*i < len && p[*i] != ' ' && p[*i] != '\t' && p[*i] != ',' && p[*i] != '#' && p[*i] != '/') {
		char c = p[(*i)++];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c < 'a' || c > 'z')
			return dsc_error_set(err, DSC_EINVAL,
					     "%s:%zu: a name has the character '%c'; only letters a-z are allowed (write names normalised, without accents or hyphens)",
					     source, line, c);
		if (k == NICK_NAME_MAX)
			return dsc_error_set(err, DSC_EINVAL, "%s:%zu: a name is longer than %d letters", source,
					     line, NICK_NAME_MAX);
		name[k++] = c;
	}
	name[k] = '\0';
	return DSC_OK;
}

/*
 * A line "! hassan hasan / hussein husain hussain": names that are not one
 * name however alike they look or sound, in sets (the spellings of each
 * name) separated by slashes.  Any two names in different sets of the line
 * are apart (nickname_apart).
 */
static int parse_apart(struct nickname_table *t, const char *p, size_t len, size_t i, const char *source,
		       size_t line, struct dsc_error *err)
{
	char name[NICK_NAME_MAX + 1];
	size_t set = 0, in_set = 0;
	uint32_t id = (uint32_t)t->n_apart_lines++;
	int rc;

	if (id > (UINT32_MAX >> 4))
		return dsc_error_set(err, DSC_EINVAL, "%s:%zu: too many lines", source, line);
	for (;;) {
		long k;
		while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
			i++;
		if (i == len || p[i] == '#' || p[i] == '/') {
			if (in_set == 0)
				return dsc_error_set(err, DSC_EINVAL, "%s:%zu: a set of names apart is empty", source,
						     line);
			if (i == len || p[i] == '#')
				break;
			i++;
			if (++set > 15)
				return dsc_error_set(err, DSC_EINVAL, "%s:%zu: more than 16 sets of names apart",
						     source, line);
			in_set = 0;
			continue;
		}
		if ((rc = read_name(p, len, &i, name, source, line, err)) != DSC_OK)
			return rc;
		if ((k = name_index(t, name, source, err)) < 0)
			return DSC_ENOMEM;
		if (t->names[k].n_apart == NAME_APART_MAX)
			return dsc_error_set(err, DSC_EINVAL, "%s:%zu: '%s' is on more than %d lines of names apart",
					     source, line, name, NAME_APART_MAX);
		t->names[k].apart[t->names[k].n_apart++] = id << 4 | (uint32_t)set;
		in_set++;
	}
	if (set == 0)
		return dsc_error_set(err, DSC_EINVAL, "%s:%zu: names apart need two sets at least (a slash between)",
				     source, line);
	return DSC_OK;
}

static int parse_line(struct nickname_table *t, const char *p, size_t len, const char *source, size_t line,
		      struct dsc_error *err)
{
	char name[NICK_NAME_MAX + 1];
	size_t i = 0, members = 0;
	int rc;

	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == len || p[i] == '#')
		return DSC_OK;
	if (p[i] == '!')
		return parse_apart(t, p, len, i + 1, source, line, err);
	if (grow((void **)&t->group_start, &t->cap_groups, t->n_groups + 2, sizeof(*t->group_start)) != DSC_OK)
		return dsc_error_set(err, DSC_ENOMEM, "%s: out of memory", source);
	if (t->n_groups == 0)
		t->group_start[0] = 0;
	t->n_groups++;
	t->group_start[t->n_groups] = (uint32_t)t->n_members;
	while (i < len) {
		while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
			i++;
		if (i == len || p[i] == '#')
			break;
		if (p[i] == '/')
			return dsc_error_set(err, DSC_EINVAL,
					     "%s:%zu: a slash belongs on a line of names apart (one that begins with '!')",
					     source, line);
		if ((rc = read_name(p, len, &i, name, source, line, err)) != DSC_OK)
			return rc;
		rc = add_member(t, name, source, line, err);
		if (rc != DSC_OK)
			return rc;
		members++;
	}
	if (members < 2)
		return dsc_error_set(err, DSC_EINVAL, "%s:%zu: a group needs at least two names", source, line);
	return DSC_OK;
}

int nickname_table_parse(struct nickname_table **out, const char *text, size_t len, const char *source,
			 struct dsc_error *err)
{
	struct nickname_table *t;
	size_t line = 0, pos = 0;
	int rc;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return dsc_error_set(err, DSC_ENOMEM, "%s: out of memory", source);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		size_t l = end - pos;
		line++;
		if (l > 0 && text[pos + l - 1] == '\r')
			l--;
		rc = parse_line(t, text + pos, l, source, line, err);
		if (rc != DSC_OK) {
			nickname_table_free(t);
			return rc;
		}
		pos = end + 1;
	}
	if (t->n_groups == 0) {
		nickname_table_free(t);
		return dsc_error_set(err, DSC_EINVAL, "%s: the table has no groups", source);
	}
	*out = t;
	return DSC_OK;
}

/* path NULL: the built-in text, named builtin in errors. */
static int table_load(struct nickname_table **out, const char *path, const char *data, size_t data_len,
		      const char *builtin, struct dsc_error *err)
{
	FILE *f;
	char *buf;
	size_t n;
	int rc;

	if (path == NULL)
		return nickname_table_parse(out, data, data_len, builtin, err);
	*out = NULL;
	f = fopen(path, "rb");
	if (f == NULL)
		return dsc_error_set(err, errno == EACCES ? DSC_EPERM : DSC_EIO, "%s: cannot open: %s", path,
				     strerror(errno));
	buf = malloc(NICKNAME_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		return dsc_error_set(err, DSC_ENOMEM, "%s: out of memory", path);
	}
	n = fread(buf, 1, NICKNAME_FILE_MAX + 1, f);
	if (ferror(f)) {
		rc = dsc_error_set(err, DSC_EIO, "%s: read error", path);
	} else if (n > NICKNAME_FILE_MAX) {
		rc = dsc_error_set(err, DSC_ETOOBIG, "%s: larger than %u bytes", path, NICKNAME_FILE_MAX);
	} else {
		rc = nickname_table_parse(out, buf, n, path, err);
	}
	free(buf);
	fclose(f);
	return rc;
}

int nickname_table_load(struct nickname_table **out, const char *path, struct dsc_error *err)
{
	return table_load(out, path, nicknames_data, nicknames_data_len, "nicknames.tsv (built in)", err);
}

int surname_table_load(struct nickname_table **out, const char *path, struct dsc_error *err)
{
	return table_load(out, path, surnames_data, surnames_data_len, "surnames.tsv (built in)", err);
}

void nickname_table_free(struct nickname_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_names; i++)
		free(t->names[i].name);
	free(t->names);
	free(t->slots);
	free(t->members);
	free(t->group_start);
	free(t);
}

long nickname_find(const struct nickname_table *t, const char *name)
{
	return t == NULL ? -1 : find_name(t, name);
}

bool nickname_related(const struct nickname_table *t, const char *a, const char *b)
{
	return nickname_related_to(t, nickname_find(t, a), b);
}

bool nickname_related_to(const struct nickname_table *t, long ia, const char *b)
{
	long ib;

	if (t == NULL || ia < 0 || (size_t)ia >= t->n_names)
		return false;
	ib = find_name(t, b);
	if (ib < 0 || ia == ib)
		return false;
	for (size_t i = 0; i < t->names[ia].n_groups; i++)
		for (size_t j = 0; j < t->names[ib].n_groups; j++)
			if (t->names[ia].groups[i] == t->names[ib].groups[j])
				return true;
	return false;
}

bool nickname_apart(const struct nickname_table *t, const char *a, const char *b)
{
	long ia, ib;

	if (t == NULL || t->n_apart_lines == 0 || (ia = find_name(t, a)) < 0 || (ib = find_name(t, b)) < 0 ||
	    ia == ib)
		return false;
	for (size_t i = 0; i < t->names[ia].n_apart; i++)
		for (size_t j = 0; j < t->names[ib].n_apart; j++)
			if (t->names[ia].apart[i] >> 4 == t->names[ib].apart[j] >> 4 &&
			    t->names[ia].apart[i] != t->names[ib].apart[j])
				return true;
	return false;
}

/* Adds the name numbered other to out unless it is the name itself or
 * there already; false when out is full. */
static bool variant_add(const struct nickname_table *t, long self, uint32_t other, const char **out, size_t *n,
			size_t max)
{
	if ((long)other == self)
		return true;
	for (size_t j = 0; j < *n; j++)
		if (out[j] == t->names[other].name)
			return true;
	if (*n == max)
		return false;
	out[(*n)++] = t->names[other].name;
	return true;
}

/*
 * The names each group begins with first (the full names: Jonathan and
 * John for Jon, Elizabeth and Bethan for Beth), then the others.  A caller
 * that keeps only the first few (the matcher's keys, QUERY_GIVEN_CODES_MAX
 * sounds) keeps the name a nickname most likely stands for, rather than
 * the other diminutives of the first group listed (Jack, Ian and Sean of
 * John's, before Jonathan).
 */
size_t nickname_variants(const struct nickname_table *t, const char *name, const char **out, size_t max)
{
	long k;
	size_t n = 0;

	if (t == NULL)
		return 0;
	k = find_name(t, name);
	if (k < 0)
		return 0;
	for (size_t i = 0; i < t->names[k].n_groups; i++) {
		uint32_t g = t->names[k].groups[i];
		if (!variant_add(t, k, t->members[t->group_start[g]], out, &n, max))
			return n;
	}
	for (size_t i = 0; i < t->names[k].n_groups; i++) {
		uint32_t g = t->names[k].groups[i];
		for (uint32_t m = t->group_start[g] + 1; m < t->group_start[g + 1]; m++)
			if (!variant_add(t, k, t->members[m], out, &n, max))
				return n;
	}
	return n;
}

void nickname_table_size(const struct nickname_table *t, size_t *groups, size_t *names)
{
	*groups = t != NULL ? t->n_groups : 0;
	*names = t != NULL ? t->n_names : 0;
}
