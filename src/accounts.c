/*
 * accounts.c -- account lookup and the walk over every account.
 *
 * MUST: the home directory comes from the password database, never from
 * $HOME; it must be absolute.
 * MUST: under --root, only the tree's etc/passwd and etc/group are read,
 * reached through safefs (no link followed, regular files only).
 * MUST: a walk names each account once, as a lookup of that name would
 * find it (the first entry wins), and reads each tree file once: it stays
 * n log n in the number of accounts and memberships.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <search.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "err.h"
#include "safefs.h"

#define PWBUF_MAX	(64 * 1024)	/* one passwd or group entry */
#define PWENT_MAX	(16 * 1024 * 1024)	/* PWBUF_MAX grown on ERANGE */
#define PWFILE_MAX	(64 * 1024 * 1024)	/* a passwd or group file */

/* The buffer for one passwd or group entry, doubled on ERANGE. */
struct entbuf {
	char	*p;
	size_t	 size;
};

/* A name listed as a member in a tree's etc/group. */
struct gmember {
	const char	*name;	/* in gindex.names, once the index is built */
	size_t		 off;	/* of the name in gindex.names */
	size_t		 line;	/* entry of etc/group: keeps the file's order */
	gid_t		 gid;
};

/* Every membership of a tree's etc/group, sorted by name, then line. */
struct gindex {
	struct gmember	*m;
	size_t		 n, cap;
	char		*names;	/* the members' names, each NUL-terminated */
	size_t		 len, size;
};

/* One accounts_each. */
struct walk {
	accounts_cb	 cb;
	void		*arg;
	void		*seen;	/* tsearch tree of the names met so far */
	struct entbuf	 buf;
	struct account	 a;
};

int
accounts_valid_name(const char *name)
{
	size_t	i, n = strlen(name);

	if (n == 0 || n > USERNAME_MAX || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '_' && c != '-' &&
		    c != '.' && !(c == '$' && i == n - 1) &&
		    !(c == '@' && i > 0))
			return 0;
	}
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static int
fill_account(const struct passwd *pw, struct account *out)
{
	memset(out, 0, sizeof(*out));
	if (pw->pw_dir == NULL || pw->pw_dir[0] != '/' ||
	    strlen(pw->pw_dir) >= sizeof(out->home))
		return KE_CONFIG;
	(void)snprintf(out->name, sizeof(out->name), "%s", pw->pw_name);
	(void)snprintf(out->home, sizeof(out->home), "%s", pw->pw_dir);
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	out->groups[0] = pw->pw_gid;
	out->ngroups = 1;
	return 0;
}

/*
 * Open the tree's etc/NAME as a stream over a safely read copy: etc is
 * walked without following links, the file must be regular, one link, owned
 * by root or us.  NULL with *err set: KE_NOINPUT when missing, else KE_IO.
 */
static FILE *
open_tree_file(int rootfd, const char *name, int *err)
{
	char	 msg[SAFEFS_MSG_MAX], *buf = NULL;
	size_t	 len = 0;
	FILE	*f;
	int	 etcfd = -1, r;

	r = safefs_walk(rootfd, "", "/etc", geteuid(), &etcfd, msg,
	    sizeof(msg));
	if (r == 0)
		r = safefs_read(etcfd, name, name, geteuid(), PWFILE_MAX, &buf,
		    &len, NULL, msg, sizeof(msg));
	if (etcfd != -1)
		(void)close(etcfd);
	if (r == 0 && buf == NULL)
		r = KE_NOINPUT;
	*err = r == KE_NOINPUT ? KE_NOINPUT : KE_IO;
	if (r != 0)
		return NULL;
	/* "r" on a copy: fclose frees nothing of ours, so keep buf with f */
	if ((f = fmemopen(NULL, len + 1, "w+")) == NULL) {
		free(buf);
		return NULL;
	}
	if (fwrite(buf, 1, len, f) != len || fseek(f, 0, SEEK_SET) != 0) {
		(void)fclose(f);
		f = NULL;
	}
	free(buf);
	return f;
}


static int
entbuf_grow(struct entbuf *b)
{
	char	*p;
	size_t	 size;

	size = b->size == 0 ? PWBUF_MAX : b->size * 2;
	if (size > PWENT_MAX)
		return KE_IO;
	if ((p = realloc(b->p, size)) == NULL)
		return KE_NOMEM;
	b->p = p;
	b->size = size;
	return 0;
}

/*
 * The next entry of the passwd stream f, or of the system database when f
 * is NULL (between setpwent and endpwent), into pw, growing b as needed.
 * Lines that do not parse are skipped (the C library does it).  1, 0 at
 * the end, or KE_IO (unreadable, or an entry over PWENT_MAX), KE_NOMEM.
 */
static int
next_pw(FILE *f, struct passwd *pw, struct entbuf *b)
{
	struct passwd	*res = NULL;
	int		 e, r;

	if (b->size == 0 && (r = entbuf_grow(b)) != 0)
		return r;
	for (;;) {
		if (f != NULL)
			e = fgetpwent_r(f, pw, b->p, b->size, &res);
		else
			e = getpwent_r(pw, b->p, b->size, &res);
		if (e == 0 && res != NULL)
			return 1;
		if (e == 0 || e == ENOENT)
			return 0;
		if (e != ERANGE)
			return KE_IO;
		/* the C library rewinds to the entry: read it again */
		if ((r = entbuf_grow(b)) != 0)
			return r;
	}
}

/* As next_pw, for the group stream f. */
static int
next_gr(FILE *f, struct group *gr, struct entbuf *b)
{
	struct group	*res = NULL;
	int		 e, r;

	if (b->size == 0 && (r = entbuf_grow(b)) != 0)
		return r;
	for (;;) {
		e = fgetgrent_r(f, gr, b->p, b->size, &res);
		if (e == 0 && res != NULL)
			return 1;
		if (e == 0 || e == ENOENT)
			return 0;
		if (e != ERANGE)
			return KE_IO;
		if ((r = entbuf_grow(b)) != 0)
			return r;
	}
}

/*
 * fill_account, then the groups through the name service (getgrouplist;
 * the primary group only when there are more than PRIVS_GROUPS_MAX).
 * 0 or KE_CONFIG.
 */
static int
fill_system(const struct passwd *pw, struct account *out)
{
	int	r, n = PRIVS_GROUPS_MAX;

	if ((r = fill_account(pw, out)) != 0)
		return r;
	if (getgrouplist(out->name, out->gid, out->groups, &n) == -1)
		n = 1;		/* too many: the primary group only */
	out->ngroups = (size_t)n;
	return 0;
}

/* Make room for one more member of at most nlen bytes.  0 or KE_NOMEM. */
static int
gindex_reserve(struct gindex *gi, size_t nlen)
{
	void	*p;
	size_t	 n;

	if (gi->n == gi->cap) {
		n = gi->cap == 0 ? 256 : gi->cap;
		if (n > SIZE_MAX / 2 ||
		    (p = reallocarray(gi->m, n * 2, sizeof(*gi->m))) == NULL)
			return KE_NOMEM;
		gi->m = p;
		gi->cap = n * 2;
	}
	if (gi->size - gi->len < nlen) {
		n = gi->size == 0 ? 4096 : gi->size;
		while (n - gi->len < nlen) {
			if (n > SIZE_MAX / 2)
				return KE_NOMEM;
			n *= 2;
		}
		if ((p = realloc(gi->names, n)) == NULL)
			return KE_NOMEM;
		gi->names = p;
		gi->size = n;
	}
	return 0;
}

/* Record the members of gr, the line'th entry of etc/group.  0, KE_NOMEM. */
static int
gindex_entry(struct gindex *gi, const struct group *gr, size_t line)
{
	char *const	*mem;
	size_t		 nlen;
	int		 r;

	for (mem = gr->gr_mem; mem != NULL && *mem != NULL; mem++) {
		/* no account has an invalid name: such a member is nobody */
		if (!accounts_valid_name(*mem))
			continue;
		nlen = strlen(*mem) + 1;
		if ((r = gindex_reserve(gi, nlen)) != 0)
			return r;
		memcpy(gi->names + gi->len, *mem, nlen);
		gi->m[gi->n].name = NULL;
		gi->m[gi->n].off = gi->len;
		gi->m[gi->n].line = line;
		gi->m[gi->n].gid = gr->gr_gid;
		gi->n++;
		gi->len += nlen;
	}
	return 0;
}

static int
gmember_cmp(const void *a, const void *b)
{
	const struct gmember	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

static void
gindex_free(struct gindex *gi)
{
	free(gi->m);
	free(gi->names);
	memset(gi, 0, sizeof(*gi));
}

/*
 * Read the tree's etc/group once into gi (which the caller frees with
 * gindex_free, on error too).  A missing file is an empty index.  0,
 * KE_IO, KE_NOMEM.
 */
static int
gindex_open(int rootfd, struct gindex *gi)
{
	struct group	 gr;
	struct entbuf	 b = { NULL, 0 };
	FILE		*f;
	size_t		 i, line = 0;
	int		 r;

	memset(gi, 0, sizeof(*gi));
	if ((f = open_tree_file(rootfd, "group", &r)) == NULL)
		return r == KE_NOINPUT ? 0 : KE_IO;
	while ((r = next_gr(f, &gr, &b)) == 1)
		if ((r = gindex_entry(gi, &gr, line++)) != 0)
			break;
	free(b.p);
	(void)fclose(f);
	if (r != 0)
		return r;
	for (i = 0; i < gi->n; i++)
		gi->m[i].name = gi->names + gi->m[i].off;
	if (gi->n > 1)
		qsort(gi->m, gi->n, sizeof(*gi->m), gmember_cmp);
	return 0;
}

/*
 * Add to a (primary group filled) every etc/group entry listing it as a
 * member, in the file's order, each entry once and the primary group not
 * again, up to PRIVS_GROUPS_MAX groups in all.
 */
static void
gindex_groups(const struct gindex *gi, struct account *a)
{
	size_t	lo = 0, hi = gi->n, mid, i, last = SIZE_MAX;

	while (lo < hi) {		/* the first member named a->name */
		mid = lo + (hi - lo) / 2;
		if (strcmp(gi->m[mid].name, a->name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < gi->n && a->ngroups < PRIVS_GROUPS_MAX &&
	    strcmp(gi->m[i].name, a->name) == 0; i++) {
		if (gi->m[i].line == last)	/* listed twice in one entry */
			continue;
		last = gi->m[i].line;
		if (gi->m[i].gid != a->gid)
			a->groups[a->ngroups++] = gi->m[i].gid;
	}
}

static int
lookup_tree(int rootfd, const char *name, struct account *out)
{
	struct passwd	 pw;
	struct entbuf	 b = { NULL, 0 };
	FILE		*f;
	int		 r;

	if ((f = open_tree_file(rootfd, "passwd", &r)) == NULL)
		return r == KE_NOINPUT ? KE_NOUSER : KE_IO;
	while ((r = next_pw(f, &pw, &b)) == 1)
		if (strcmp(pw.pw_name, name) == 0)
			break;
	if (r == 1)
		r = fill_account(&pw, out);
	else if (r == 0)
		r = KE_NOUSER;
	free(b.p);
	(void)fclose(f);
	return r;
}

static int
groups_tree(int rootfd, struct account *a)
{
	struct gindex	gi;
	int		r;

	if ((r = gindex_open(rootfd, &gi)) == 0)
		gindex_groups(&gi, a);
	gindex_free(&gi);
	return r;
}

static int
lookup_system(const char *name, struct account *out)
{
	struct passwd	 pw, *res = NULL;
	char		*buf;
	int		 r;

	if ((buf = malloc(PWBUF_MAX)) == NULL)
		return KE_NOMEM;
	r = getpwnam_r(name, &pw, buf, PWBUF_MAX, &res);
	if (r != 0 || res == NULL) {
		free(buf);
		return r == 0 || r == ENOENT ? KE_NOUSER : KE_IO;
	}
	r = fill_system(&pw, out);
	free(buf);
	return r;
}

int
accounts_lookup(int rootfd, const char *name, struct account *out)
{
	int	r;

	memset(out, 0, sizeof(*out));
	if (!accounts_valid_name(name))
		return KE_NOUSER;
	if (rootfd < 0)
		return lookup_system(name, out);
	if ((r = lookup_tree(rootfd, name, out)) != 0)
		return r;
	return groups_tree(rootfd, out);
}

int
accounts_group_gid(int rootfd, const char *name, gid_t *gid)
{
	struct group	 gr, *res = NULL;
	struct entbuf	 b = { NULL, 0 };
	FILE		*f;
	char		*buf;
	int		 r, err;

	if (!accounts_valid_name(name))
		return KE_NOUSER;
	if (rootfd < 0) {
		if ((buf = malloc(PWBUF_MAX)) == NULL)
			return KE_NOMEM;
		r = getgrnam_r(name, &gr, buf, PWBUF_MAX, &res);
		if (r == 0 && res != NULL)
			*gid = gr.gr_gid;
		free(buf);
		if (r != 0 && r != ENOENT)
			return KE_IO;
		return res != NULL ? 0 : KE_NOUSER;
	}
	if ((f = open_tree_file(rootfd, "group", &err)) == NULL)
		return err == KE_NOINPUT ? KE_NOUSER : err;
	while ((r = next_gr(f, &gr, &b)) == 1)
		if (strcmp(gr.gr_name, name) == 0) {
			*gid = gr.gr_gid;
			break;
		}
	free(b.p);
	(void)fclose(f);
	return r == 1 ? 0 : r == 0 ? KE_NOUSER : r;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * Whether pw is the first entry of a valid name: 1 (the name is now
 * remembered), 0 to skip it, KE_NOMEM.  A name is decided by its first
 * entry, as a lookup would: a later one is skipped even when the first has
 * no usable home.
 */
static int
walk_new_name(struct walk *w, const struct passwd *pw)
{
	char	*copy;
	void	*node;

	if (pw->pw_name == NULL || !accounts_valid_name(pw->pw_name))
		return 0;
	if ((copy = strdup(pw->pw_name)) == NULL)
		return KE_NOMEM;
	if ((node = tsearch(copy, &w->seen, name_cmp)) == NULL) {
		free(copy);
		return KE_NOMEM;
	}
	if (*(void **)node != (void *)copy) {
		free(copy);		/* met before */
		return 0;
	}
	return 1;
}

/*
 * Hand every account of the passwd stream f (NULL: the system database,
 * groups through the name service) with its groups from gi to w->cb.
 * 0, cb's non-zero return, KE_IO, KE_NOMEM.
 */
static int
walk_entries(struct walk *w, FILE *f, const struct gindex *gi)
{
	struct passwd	pw;
	int		r;

	while ((r = next_pw(f, &pw, &w->buf)) == 1) {
		if ((r = walk_new_name(w, &pw)) < 0)
			break;
		if (r == 0)
			continue;
		if (f == NULL)
			r = fill_system(&pw, &w->a);
		else if ((r = fill_account(&pw, &w->a)) == 0)
			gindex_groups(gi, &w->a);
		if (r != 0)
			continue;	/* home not absolute */
		if ((r = w->cb(&w->a, w->arg)) != 0)
			break;
	}
	return r;
}

/*
 * The tree's etc/passwd and etc/group, each read once.  No etc/passwd (or
 * no etc): an empty database, 0 without a call.  No etc/group: each account
 * has its primary group only.
 */
static int
each_tree(int rootfd, struct walk *w)
{
	struct gindex	 gi;
	FILE		*f;
	int		 r;

	if ((f = open_tree_file(rootfd, "passwd", &r)) == NULL)
		return r == KE_NOINPUT ? 0 : KE_IO;
	if ((r = gindex_open(rootfd, &gi)) == 0)
		r = walk_entries(w, f, &gi);
	gindex_free(&gi);
	(void)fclose(f);
	return r;
}

/*
 * The system walk holds the name service's passwd enumeration: cb must
 * not call setpwent, getpwent or endpwent (lookups by name are fine).
 * Under a tree, a missing etc/passwd is no account and 0: see each_tree.
 */
int
accounts_each(int rootfd, accounts_cb cb, void *arg)
{
	struct walk	w;
	int		r;

	memset(&w, 0, sizeof(w));
	w.cb = cb;
	w.arg = arg;
	if (rootfd < 0) {
		setpwent();
		r = walk_entries(&w, NULL, NULL);
		endpwent();
	} else
		r = each_tree(rootfd, &w);
	free(w.buf.p);
	tdestroy(w.seen, free);
	return r;
}

/* ---- a run's cache of the password database -------------------------- */

struct cached {
	char	*name;
	char	*home;
	uid_t	 uid;
	gid_t	 gid;
	gid_t	*groups;
	size_t	 ngroups;
};

struct accounts_cache {
	struct cached	*v;
	size_t		 n, cap;
};

static int
cache_add(const struct account *a, void *arg)
{
	struct accounts_cache	*ac = arg;
	struct cached		*nv, *e;
	size_t			 cap;

	if (ac->n == ac->cap) {
		cap = ac->cap == 0 ? 64 : ac->cap * 2;
		if ((nv = reallocarray(ac->v, cap, sizeof(*nv))) == NULL)
			return KE_NOMEM;
		ac->v = nv;
		ac->cap = cap;
	}
	e = &ac->v[ac->n];
	memset(e, 0, sizeof(*e));
	e->uid = a->uid;
	e->gid = a->gid;
	e->ngroups = a->ngroups;
	if ((e->name = strdup(a->name)) == NULL ||
	    (e->home = strdup(a->home)) == NULL ||
	    (a->ngroups > 0 && (e->groups = calloc(a->ngroups,
	    sizeof(*e->groups))) == NULL)) {
		free(e->name);
		free(e->home);
		return KE_NOMEM;
	}
	if (a->ngroups > 0)
		memcpy(e->groups, a->groups, a->ngroups * sizeof(*e->groups));
	ac->n++;
	return 0;
}

static int
cached_cmp(const void *x, const void *y)
{
	return strcmp(((const struct cached *)x)->name,
	    ((const struct cached *)y)->name);
}

int
accounts_cache_new(int rootfd, struct accounts_cache **out)
{
	struct accounts_cache	*ac;
	int			 r;

	*out = NULL;
	if ((ac = calloc(1, sizeof(*ac))) == NULL)
		return KE_NOMEM;
	if ((r = accounts_each(rootfd, cache_add, ac)) != 0) {
		accounts_cache_free(ac);
		return r;
	}
	if (ac->n > 1)	/* accounts_each gives each name once */
		qsort(ac->v, ac->n, sizeof(*ac->v), cached_cmp);
	*out = ac;
	return 0;
}

int
accounts_cache_lookup(const struct accounts_cache *ac, const char *name,
    struct account *out)
{
	struct cached	 key, *e;

	memset(out, 0, sizeof(*out));
	key.name = (char *)(uintptr_t)name;
	if (ac == NULL || (e = bsearch(&key, ac->v, ac->n, sizeof(*ac->v),
	    cached_cmp)) == NULL)
		return KE_NOUSER;
	(void)snprintf(out->name, sizeof(out->name), "%s", e->name);
	(void)snprintf(out->home, sizeof(out->home), "%s", e->home);
	out->uid = e->uid;
	out->gid = e->gid;
	out->ngroups = e->ngroups;
	if (e->ngroups > 0)
		memcpy(out->groups, e->groups, e->ngroups * sizeof(*e->groups));
	return 0;
}

void
accounts_cache_free(struct accounts_cache *ac)
{
	size_t	i;

	if (ac == NULL)
		return;
	for (i = 0; i < ac->n; i++) {
		free(ac->v[i].name);
		free(ac->v[i].home);
		free(ac->v[i].groups);
	}
	free(ac->v);
	free(ac);
}
