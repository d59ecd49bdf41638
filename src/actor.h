/*
 * actor.h -- who is running keyadm, for the audit trail.
 *
 * The administrator behind sudo (SUDO_USER, trusted only when the real uid
 * is 0), else the login uid (/proc/self/loginuid), else the real uid; always
 * with the numeric uid.
 */
#ifndef KEYADM_ACTOR_H
#define KEYADM_ACTOR_H

#include "accounts.h"

struct actor {
	char	name[USERNAME_MAX + 1];	/* "alice", or "uid 1234" */
	long	uid;
	char	how[16];		/* "sudo", "loginuid", "uid" */
};

void	actor_identify(struct actor *a);

#endif
