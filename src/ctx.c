/*
 * ctx.c -- what commands share through struct ctx: checking account names,
 * and opening the store with the event hook that sends each committed
 * event to syslog.
 *
 * MUST: every event the store commits through a store opened here goes
 * to syslog (LOG_AUTHPRIV, LOG_NOTICE) exactly once, after its commit,
 * with its id and hash, so that a copy of the chain leaves the machine
 * (store.h: deleting the newest rows cannot be seen from the table).
 * MUST: untrusted text (user, actor, detail, ...) is escaped with
 * msg_escape; a value that could be mistaken for another field is
 * quoted, so one event is always one unambiguous line.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "ctx.h"
#include "err.h"
#include "msg.h"
#include "store.h"

#define FIELD_MAX	160	/* escaped user, actor, ... (not detail) */

/* Bytes of the escaped item at p: \\, \xNN, one UTF-8 character or byte. */
static size_t
item_len(const char *p)
{
	size_t	n = 1;

	if (p[0] == '\\')
		return p[1] == 'x' ? 4 : 2;
	while (((unsigned char)p[0] & 0xc0) == 0xc0 &&
	    ((unsigned char)p[n] & 0xc0) == 0x80)
		n++;
	return n;
}

/*
 * Copy escaped text into out (room bytes, no NUL), '"' as \"; cut with
 * "..." between items when it does not fit.  Returns the bytes used, or
 * SIZE_MAX when not even "..." fits.
 */
static size_t
put_text(char *out, size_t room, const char *esc, int quote)
{
	size_t	i, n, w, o = 0, total = 0;

	for (i = 0; esc[i] != '\0'; i += item_len(esc + i))
		total += quote && esc[i] == '"' ? 2 : item_len(esc + i);
	for (i = 0; esc[i] != '\0'; i += n) {
		n = item_len(esc + i);
		w = quote && esc[i] == '"' ? 2 : n;
		if (total > room && o + w + 3 > room)
			break;
		if (w == 2 && n == 1)
			out[o++] = '\\';
		memcpy(out + o, esc + i, n);
		o += n;
	}
	if (esc[i] == '\0')
		return o;
	if (o + 3 > room)
		return SIZE_MAX;
	memcpy(out + o, "...", 3);
	return o + 3;
}

/*
 * One field " key=value" (" value" when key is NULL) at buf + *o: "-"
 * when val is NULL, the escaped value bare when that is unambiguous, else
 * in double quotes with '"' written as \" (msg_escape already doubled
 * every backslash).  Cut with "..." to fit; 0, or -1 when not even the
 * key and "..." fit.
 */
static int
put_field(char *buf, size_t len, size_t *o, const char *key,
    const char *val, size_t cap, int quote)
{
	char	esc[MSG_MAX];
	size_t	n;

	if (val == NULL) {
		val = "-";
		quote = 0;
	} else {
		msg_escape(val, strlen(val), esc, cap < sizeof(esc) ? cap :
		    sizeof(esc));
		quote |= esc[0] == '\0' || strcmp(esc, "-") == 0 ||
		    strpbrk(esc, " \"=") != NULL;
		val = esc;
	}
	n = (size_t)snprintf(buf + *o, len - *o, " %s%s%s", key != NULL ?
	    key : "", key != NULL ? "=" : "", quote ? "\"" : "");
	/* room is left for at least the closing quote and the NUL */
	if (n + (quote ? 2 : 1) > len - *o)
		return -1;
	*o += n;
	if ((n = put_text(buf + *o, len - *o - (quote ? 2 : 1), val,
	    quote)) == SIZE_MAX) {
		buf[*o] = '\0';
		return -1;
	}
	*o += n;
	if (quote)
		buf[(*o)++] = '"';
	buf[*o] = '\0';
	return 0;
}

int
ctx_event_line(const struct store_event_row *e, char *buf, size_t len)
{
	char	uid[32];
	size_t	o;
	int	n;

	if (len == 0)
		return KE_INTERNAL;
	buf[0] = '\0';
	n = snprintf(buf, len, "event %lld", (long long)e->id);
	if (n < 0 || (size_t)n >= len)
		return KE_INTERNAL;
	o = (size_t)n;
	(void)snprintf(uid, sizeof(uid), "%ld", e->actor_uid);
	/* the action is ours, one word; escaped all the same */
	if (put_field(buf, len, &o, NULL, e->action, FIELD_MAX, 0) != 0 ||
	    put_field(buf, len, &o, "user", e->user, FIELD_MAX, 0) != 0 ||
	    put_field(buf, len, &o, "fingerprint", e->fingerprint,
	    FIELD_MAX, 0) != 0 ||
	    put_field(buf, len, &o, "actor", e->actor, FIELD_MAX, 0) != 0 ||
	    put_field(buf, len, &o, "uid", uid, FIELD_MAX, 0) != 0 ||
	    put_field(buf, len, &o, "hash", e->hash, FIELD_MAX, 0) != 0 ||
	    put_field(buf, len, &o, "detail", e->detail, MSG_MAX, 1) != 0)
		return KE_INTERNAL;
	return 0;
}

/* The store's event hook: one syslog line per committed event. */
static void
event_to_syslog(const struct store_event_row *e, void *arg)
{
	char	line[MSG_MAX];

	(void)arg;
	/* a line cut short still goes out: the hash comes before detail */
	(void)ctx_event_line(e, line, sizeof(line));
	msg_syslog(LOG_NOTICE, "%s", line);
}

int
ctx_store_absent(const struct ctx *c)
{
	struct stat	 st;
	const char	*p = c->cfg.database;

	while (*p == '/')
		p++;
	/* only to choose a message: a name, not a descriptor walk */
	return *p != '\0' && fstatat(c->rootfd, p, &st,
	    AT_SYMLINK_NOFOLLOW) == -1 && errno == ENOENT;
}

int
ctx_store_open(struct ctx *c, int flags, struct store **out, char *msg,
    size_t msglen)
{
	gid_t	gid = 0;
	long	share = -1;
	int	r;

	/* as root, make the store readable by store_group (any command) */
	if (c->cfg.store_group[0] != '\0' && geteuid() == 0) {
		r = accounts_group_gid(c->rootdir != NULL ? c->rootfd : -1,
		    c->cfg.store_group, &gid);
		if (r != 0) {
			(void)snprintf(msg, msglen, "store_group %s: %s",
			    c->cfg.store_group, r == KE_NOUSER ?
			    "no such group" : "cannot read the group database");
			return r == KE_NOUSER ? KE_CONFIG : r;
		}
		share = (long)gid;
	}
	r = store_open_shared(c->rootfd, c->dispprefix, c->cfg.database,
	    flags, (int)c->cfg.busy_timeout_ms, share, out, msg, msglen);
	if (r == 0)
		store_set_event_hook(*out, event_to_syslog, NULL);
	return r;
}

int
ctx_store_fail(const struct ctx *c, struct store *st, int err)
{
	msg_err(NULL, "%s%s: %s", c->dispprefix, c->cfg.database,
	    st != NULL ? store_errmsg(st) : keyadm_strerror(err));
	return err;
}

int
ctx_help_only(int argc, char **argv, int flags, const char *usage)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	optind = 0;	/* 0: a full reset of GNU getopt for the command */
	opterr = 0;	/* our own message, in our own form */
	while ((ch = getopt_long(argc, argv, (flags &
	    CTX_OPTS_OPERANDS_FIRST) ? "+h" : "h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			(void)printf("%s\n", usage);
			return 1;
		}
		msg_usage(argv[optind - 1], usage);
		return KE_USAGE;
	}
	return 0;
}

int
ctx_check_users(char *const *names, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		if (!accounts_valid_name(names[i])) {
			msg_err(names[i], "not a valid user name");
			return KE_NOUSER;
		}
	return 0;
}
