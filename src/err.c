/*
 * err.c -- names of error codes and their exit statuses.
 *
 * One table; the mapping is tested in tests/unit/test_err.c.
 */
#include <stddef.h>

#include "err.h"

static const struct {
	int		 err;
	int		 status;
	const char	*name;
} errtab[] = {
	{ KE_OK,	 EXIT_DONE,	"success" },
	{ KE_POLICY,	 EXIT_REFUSED,	"refused by policy" },
	{ KE_USAGE,	 EXIT_USAGE,	"usage error" },
	{ KE_MALFORMED,	 EXIT_DATAERR,	"malformed input" },
	{ KE_NOINPUT,	 EXIT_NOINPUT,	"input missing or unreadable" },
	{ KE_NOUSER,	 EXIT_NOUSER,	"unknown user" },
	{ KE_INTERNAL,	 EXIT_SOFTWARE,	"internal error" },
	{ KE_NOMEM,	 EXIT_SOFTWARE,	"out of memory" },
	{ KE_CANTCREATE, EXIT_CANTCREAT, "cannot create or replace the target" },
	{ KE_IO,	 EXIT_IOERR,	"I/O error" },
	{ KE_BUSY,	 EXIT_TEMPFAIL,	"busy, try again" },
	{ KE_UNSAFE,	 EXIT_NOPERM,	"unsafe ownership, modes or links" },
	{ KE_CONFIG,	 EXIT_CONFIG,	"bad configuration" },
	{ KE_FINDINGS,	 EXIT_REFUSED,	"findings" },
};

const char *
keyadm_strerror(int err)
{
	size_t	i;

	for (i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].err == err)
			return errtab[i].name;
	return "unknown error";
}

int
keyadm_exit_status(int err)
{
	size_t	i;

	for (i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].err == err)
			return errtab[i].status;
	return EXIT_SOFTWARE;
}
