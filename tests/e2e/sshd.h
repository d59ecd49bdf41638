/*
 * sshd.h -- a real sshd and throwaway accounts for the end-to-end tests
 * (tests/e2e/test_sshd.c, tests/e2e/test_pam_sshd.c).
 *
 * sshd listens on 127.0.0.1 only, on a free port below the kernel's
 * ephemeral range (so that no client's source port can take it), with its
 * own configuration, host key, pid file and log in a directory of the
 * test's tree.  Accounts are real (useradd), named kae2eXXXX, and listed
 * in the tree's etc/passwd and etc/group too, so that `keyadm --root TREE`
 * sees the same account sshd does.
 *
 * Like run.h, every helper fails the current test (cr_assert) when the
 * machinery breaks, and everything it starts or makes is recorded in the
 * caller's structure so that .fini can undo it even after a failure:
 * sshd_stop, sshd_user_delete and sshd_tree_remove accept what was never
 * made, or was already undone.
 */
#ifndef KEYADM_TEST_SSHD_H
#define KEYADM_TEST_SSHD_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "../cli/run.h"

#define SSHD_PATH	"/usr/sbin/sshd"
#define SSHD_LOOPBACK	"127.0.0.1"
#define SSHD_OK_TEXT	"keyadm-e2e-ok"	/* sshd_try_ssh's remote echo */

/* A throwaway account; made by sshd_user_make or sshd_sysuser_make. */
struct sshd_user {
	char	name[32];
	char	home[PATH_MAX];	/* the real home directory */
	uid_t	uid;
	gid_t	gid;
	int	made;		/* useradd worked: userdel in .fini */
};

/*
 * What the sshd_config says beyond the fixed, safe defaults:
 * user		AllowUsers (one name)
 * akfile	AuthorizedKeysFile ("none" too)
 * revoked	RevokedKeys; NULL: no such line
 * use_pam	UsePAM yes instead of no
 * extra	more lines, each ending in "\n"; NULL: none
 * program	the absolute path sshd is started as (sshd names its PAM
 *		service after it and re-executes itself through it); NULL:
 *		SSHD_PATH
 * env		NAME=VALUE entries for sshd's environment, NULL-terminated;
 *		NULL: none
 */
struct sshd_conf {
	const char		*user;
	const char		*akfile;
	const char		*revoked;
	int			 use_pam;
	const char		*extra;
	const char		*program;
	const char *const	*env;
};

/*
 * A running sshd (pid -1 when there is none); dir holds its config, host
 * key, pid file and log (sshd -e: everything it logs).
 */
struct sshd_server {
	pid_t		pid;
	unsigned int	port;
	char		dir[PATH_MAX];
	char		conf[PATH_MAX];
	char		log[PATH_MAX];
};

/* cr_skip_test unless we are root and SSHD_PATH exists. */
void	sshd_need_root(void);

/* n random lower-case hex digits (n < outlen). */
void	sshd_random_hex(char *out, size_t outlen, unsigned int n);

/* A port on 127.0.0.1 that nothing is bound to right now. */
unsigned int sshd_free_port(void);

/*
 * A login account kae2eXXXX with home TREE/home/NAME (0700, its own) and
 * shell /bin/sh, unlocked (no password: sshd's public-key checks only),
 * also in TREE/etc/passwd (home /home/NAME) and TREE/etc/group.
 */
void	sshd_user_make(struct sshd_user *u, const struct tree *t);
/*
 * A system account kae2esXXXX in a new group of the same name, home
 * /nonexistent, shell nologin, also in TREE/etc/passwd and TREE/etc/group
 * with the same uid and gid: sshd's AuthorizedKeysCommandUser.
 */
void	sshd_sysuser_make(struct sshd_user *u, const struct tree *t);
/* userdel (and its group); retries while its last session ends. */
void	sshd_user_delete(struct sshd_user *u);

/*
 * Write dir/sshd_config (StrictModes, public keys only, 127.0.0.1, a new
 * ed25519 host key, LogLevel VERBOSE, short LoginGraceTime) from c, check
 * it with sshd -t, start sshd -D -e and wait (bounded) until it listens.
 * A port somebody took meanwhile is replaced by another.  dir is made
 * 0700 if needed.
 */
void	sshd_start(struct sshd_server *s, const char *dir,
	    const struct sshd_conf *c);
/* SIGTERM, a bounded wait, then SIGKILL.  No-op when not running. */
void	sshd_stop(struct sshd_server *s);
/* sshd's log so far (malloc'd; "(no sshd log)" when there is none). */
char	*sshd_log(const struct sshd_server *s);
/* 1 when sshd's log holds text. */
int	sshd_log_has(const struct sshd_server *s, const char *text);

/*
 * ssh -i key -p port user@127.0.0.1 echo SSHD_OK_TEXT, non-interactive,
 * no agent, no known_hosts, bounded by ConnectTimeout and run_prog's time
 * limit.  Returns the exit status (255: ssh itself failed).
 */
int	sshd_try_ssh(const char *user, const char *key, unsigned int port,
	    struct run_result *r);

/*
 * tree_remove, also for trees made with tree_make_at("/run") (sshd and the
 * PAM module walk a path up to "/", and /tmp is world-writable).
 */
void	sshd_tree_remove(struct tree *t);

#endif
