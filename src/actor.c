/*
 * actor.c -- identify the administrator.
 *
 * MUST: SUDO_USER/SUDO_UID are believed only when the real uid is 0 (only
 * sudo can have put them there then) and only if they are well formed.
 * MUST: a name that cannot be found still yields the numeric uid.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actor.h"

static void
name_of(uid_t uid, char *out, size_t outlen)
{
	struct passwd	 pw, *res = NULL;
	char		 buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL &&
	    accounts_valid_name(pw.pw_name))
		(void)snprintf(out, outlen, "%s", pw.pw_name);
	else
		(void)snprintf(out, outlen, "uid %lu", (unsigned long)uid);
}

static int
parse_id(const char *s, long *out)
{
	char	*end;
	long	 v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 0x7fffffffL)
		return -1;
	*out = v;
	return 0;
}

static int
loginuid(long *out)
{
	char	buf[32];
	ssize_t	n;
	int	fd;

	if ((fd = open("/proc/self/loginuid", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	/* 4294967295 means "not set" (no login session) */
	if (parse_id(buf, out) == -1)
		return -1;
	return 0;
}

void
actor_identify(struct actor *a)
{
	const char	*su = getenv("SUDO_USER");
	long		 uid;

	memset(a, 0, sizeof(*a));
	if (getuid() == 0 && su != NULL && accounts_valid_name(su) &&
	    parse_id(getenv("SUDO_UID"), &uid) == 0) {
		(void)snprintf(a->name, sizeof(a->name), "%s", su);
		a->uid = uid;
		(void)snprintf(a->how, sizeof(a->how), "sudo");
		return;
	}
	if (loginuid(&uid) == 0) {
		name_of((uid_t)uid, a->name, sizeof(a->name));
		a->uid = uid;
		(void)snprintf(a->how, sizeof(a->how), "loginuid");
		return;
	}
	a->uid = (long)getuid();
	name_of(getuid(), a->name, sizeof(a->name));
	(void)snprintf(a->how, sizeof(a->how), "uid");
}
