/*
 * err.h -- error codes shared by every module.
 *
 * Modules return 0 or a negative enum keyadm_err.  main.c is the only place
 * that turns one into a process exit status (keyadm_exit_status()).  The
 * numbers of the exit statuses follow <sysexits.h>, which we do not include.
 */
#ifndef KEYADM_ERR_H
#define KEYADM_ERR_H

enum keyadm_err {
	KE_OK = 0,
	KE_POLICY = -1,		/* refused by policy (a valid "no") */
	KE_USAGE = -2,		/* bad command line */
	KE_MALFORMED = -3,	/* malformed key or input */
	KE_NOINPUT = -4,	/* input missing or unreadable */
	KE_NOUSER = -5,		/* unknown user */
	KE_INTERNAL = -6,	/* bug, or a library failed unexpectedly */
	KE_NOMEM = -7,		/* allocation failed */
	KE_CANTCREATE = -8,	/* cannot create or replace the target */
	KE_IO = -9,		/* read or write failed */
	KE_BUSY = -10,		/* database locked: try again */
	KE_UNSAFE = -11,	/* unsafe ownership, modes or links */
	KE_CONFIG = -12,	/* bad configuration or store not ours */
	KE_FINDINGS = -13,	/* audit found something */
	KE_ERR_MIN = -13
};

/* Exit statuses: the interface of the command line (DESIGN.md). */
enum keyadm_exit {
	EXIT_DONE = 0,
	EXIT_REFUSED = 1,
	EXIT_USAGE = 64,
	EXIT_DATAERR = 65,
	EXIT_NOINPUT = 66,
	EXIT_NOUSER = 67,
	EXIT_SOFTWARE = 70,
	EXIT_CANTCREAT = 73,
	EXIT_IOERR = 74,
	EXIT_TEMPFAIL = 75,
	EXIT_NOPERM = 77,
	EXIT_CONFIG = 78
};

/* Short English name of an error code; never NULL. */
const char	*keyadm_strerror(int err);
/* The exit status for an error code (0 for KE_OK). */
int		 keyadm_exit_status(int err);

#endif
