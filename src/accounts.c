/*
 * accounts.c -- account lookup.
 *
 * MUST: the home directory comes from the password database, never from
 * $HOME; it must be absolute.
 * MUST: under --root, only the tree's etc/passwd and etc/group are read,
 * reached through safefs (no link followed, regular files only).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "err.h"
#include "safefs.h"

#define PWBUF_MAX	(64 * 1024)	/* one passwd or group entry */
#define PWFILE_MAX	(64 * 1024 * 1024)	/* a whole passwd or group file */

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
		    c != '.' && !(c == '$' && i == n - 1))
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
lookup_tree(int rootfd, const char *name, struct account *out)
{
	struct passwd	 pw, *res = NULL;
	FILE		*f;
	char		*buf;
	int		 r = KE_NOUSER;

	if ((f = open_tree_file(rootfd, "passwd", &r)) == NULL)
		return r == KE_NOINPUT ? KE_NOUSER : KE_IO;
	r = KE_NOUSER;
	if ((buf = malloc(PWBUF_MAX)) == NULL) {
		(void)fclose(f);
		return KE_NOMEM;
	}
	while (fgetpwent_r(f, &pw, buf, PWBUF_MAX, &res) == 0) {
		if (strcmp(pw.pw_name, name) == 0) {
			r = fill_account(&pw, out);
			break;
		}
	}
	free(buf);
	(void)fclose(f);
	return r;
}

static int
is_member(char *const *mem, const char *name)
{
	for (; mem != NULL && *mem != NULL; mem++)
		if (strcmp(*mem, name) == 0)
			return 1;
	return 0;
}

static int
groups_tree(int rootfd, struct account *a)
{
	struct group	 gr, *res = NULL;
	FILE		*f;
	char		*buf;

	int		 r;

	if ((f = open_tree_file(rootfd, "group", &r)) == NULL)
		return r == KE_NOINPUT ? 0 : KE_IO;
	if ((buf = malloc(PWBUF_MAX)) == NULL) {
		(void)fclose(f);
		return KE_NOMEM;
	}
	while (fgetgrent_r(f, &gr, buf, PWBUF_MAX, &res) == 0) {
		if (gr.gr_gid != a->gid && is_member(gr.gr_mem, a->name) &&
		    a->ngroups < PRIVS_GROUPS_MAX)
			a->groups[a->ngroups++] = gr.gr_gid;
	}
	free(buf);
	(void)fclose(f);
	return 0;
}

static int
lookup_system(const char *name, struct account *out)
{
	struct passwd	 pw, *res = NULL;
	char		*buf;
	int		 r, n = PRIVS_GROUPS_MAX;

	if ((buf = malloc(PWBUF_MAX)) == NULL)
		return KE_NOMEM;
	r = getpwnam_r(name, &pw, buf, PWBUF_MAX, &res);
	if (r != 0 || res == NULL) {
		free(buf);
		return r == 0 || r == ENOENT ? KE_NOUSER : KE_IO;
	}
	r = fill_account(&pw, out);
	free(buf);
	if (r != 0)
		return r;
	if (getgrouplist(out->name, out->gid, out->groups, &n) == -1)
		n = 1;		/* too many: the primary group only */
	out->ngroups = (size_t)n;
	return 0;
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
