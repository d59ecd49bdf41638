/*
 * config.h -- /etc/keyadm.conf: "name = value" lines, '#' comments.
 *
 * Fail closed: an unknown setting, a bad value or an unsafe file stops the
 * run before anything happens (KE_CONFIG with "<file>:<line>: <problem>").
 */
#ifndef KEYADM_CONFIG_H
#define KEYADM_CONFIG_H

#include <limits.h>

#include "policy.h"

#define CONFIG_PATH		"/etc/keyadm.conf"
#define CONFIG_MAX		(64 * 1024)	/* largest config file */
#define DEFAULT_DB		"/var/lib/keyadm/keyadm.db"
#define DEFAULT_REVOKED		"/etc/ssh/keyadm_revoked_keys"
#define DEFAULT_AUTHKEYS	"%h/.ssh/authorized_keys"
#define DEFAULT_UNUSED_DAYS	90
#define DEFAULT_AUDIT_FILES	".ssh/authorized_keys2"	/* sshd's default
						   second AuthorizedKeysFile */
#define DEFAULT_LOCK_MS		10000

struct config {
	struct policy	policy;
	char		database[PATH_MAX];
	char		revoked_keys_file[PATH_MAX];
	char		authorized_keys_file[PATH_MAX];
	/* other key files sshd reads, audited, never written; "" none */
	char		audit_key_files[PATH_MAX];
	unsigned int	unused_days;
	unsigned int	busy_timeout_ms;	/* database and file locks */
	char		deny_list[PATH_MAX];	/* "" when none */
	/* group that may read the store (AuthorizedKeysCommandUser's); "" */
	char		store_group[64];
};

void	config_defaults(struct config *c);
/*
 * Parse len bytes of configuration text named name into c (which holds the
 * defaults).  On error fills msg with "<name>:<line>: <problem>".
 */
int	config_parse(struct config *c, const char *name, const char *buf,
	    size_t len, char *msg, size_t msglen);

#endif
