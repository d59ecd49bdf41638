/*
 * ctx.h -- the run's context, built by main and passed down.
 *
 * No module keeps state of its own between calls: what a command needs
 * (options, configuration, the root directory, the caller) is here.
 */
#ifndef KEYADM_CTX_H
#define KEYADM_CTX_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "accounts.h"
#include "actor.h"
#include "config.h"
#include "report.h"

struct ctx {
	const char	*rootdir;	/* --root DIR, or NULL */
	int		 rootfd;	/* descriptor of DIR, or of "/" */
	char		 dispprefix[PATH_MAX];	/* "" or DIR without '/' */
	const char	*config_path;
	struct config	 cfg;
	int		 json;
	int		 quiet;
	int		 verbose;
	struct actor	 actor;
	int64_t		 now;		/* time of the run, UTC seconds */
	struct report	 out;
	struct weakkeys	*weak;		/* built on first use (intake) */
	struct denylist	*deny;		/* deny_list, loaded at start */
	struct accounts_cache *accounts;	/* NULL, or read once (import,
						   audit): lookup tries it first */
	/* account lookup: tests and --root point it at a tree */
	int		(*lookup)(const struct ctx *, const char *,
			    struct account *);
};

/* The commands: each parses its own arguments, returns 0 or KE_*. */
int	cmd_check(struct ctx *c, int argc, char **argv);
int	cmd_add(struct ctx *c, int argc, char **argv);
int	cmd_list(struct ctx *c, int argc, char **argv);
int	cmd_revoke(struct ctx *c, int argc, char **argv);
int	cmd_expire(struct ctx *c, int argc, char **argv);
int	cmd_audit(struct ctx *c, int argc, char **argv);
int	cmd_adopt(struct ctx *c, int argc, char **argv);
int	cmd_history(struct ctx *c, int argc, char **argv);
int	cmd_verify(struct ctx *c, int argc, char **argv);
int	cmd_authorized_keys(struct ctx *c, int argc, char **argv);
int	cmd_import(struct ctx *c, int argc, char **argv);

struct store;

/*
 * Every one of the n names must be a valid account name; else one line
 * "keyadm: NAME: not a valid user name" and KE_NOUSER.
 */
int	ctx_check_users(char *const *names, int n);

/*
 * The options of a command that has none but --help (-h): optind is left
 * at the first operand ("+" in flags: also when an operand looks like an
 * option).  0; 1 after --help (usage printed on stdout); KE_USAGE with
 * the message printed.
 */
#define CTX_OPTS_OPERANDS_FIRST	0x1
int	ctx_help_only(int argc, char **argv, int flags, const char *usage);

/*
 * Open the configured store (store_open with c's root, database and busy
 * timeout) and have every event it commits also sent to syslog with its
 * hash.  msg as for store_open.
 */
int	ctx_store_open(struct ctx *c, int flags, struct store **out, char *msg,
	    size_t msglen);

/*
 * 1 when the configured database file does not exist (so a KE_NOINPUT
 * from ctx_store_open means "nothing recorded yet", not "unreadable").
 */
int	ctx_store_absent(const struct ctx *c);

/*
 * Say that the store failed, on one line naming the database as the
 * user sees it: "keyadm: ROOT/DATABASE: <the store's message>" (st
 * NULL: the error's own words).  Returns err.
 */
int	ctx_store_fail(const struct ctx *c, struct store *st, int err);

struct store_event_row;

/*
 * The syslog line of one committed event into buf (always NUL-terminated):
 *   event ID ACTION user=U fingerprint=FP actor=A uid=N hash=HEX detail="D"
 * Absent values are "-"; every text value is escaped (msg_escape), and
 * quoted with '"' as \" when it is empty, "-", or holds a blank, '"' or
 * '='; detail is always quoted when present, comes last and is cut with
 * "..." to fit.  0, or KE_INTERNAL when len cannot hold the fields before
 * detail (the line is then cut short).
 */
int	ctx_event_line(const struct store_event_row *e, char *buf, size_t len);

#endif
