/*
 * migrations.h -- the SQL migrations embedded at build time
 * (cmake/embed.cmake writes migrations.c from sql/NNN-name.sql).
 */
#ifndef KEYADM_MIGRATIONS_H
#define KEYADM_MIGRATIONS_H

#include <stddef.h>

struct migration {
	int		 version;	/* 1, 2, ... */
	const char	*name;		/* "001-initial.sql" */
	const char	*sql;		/* NUL-terminated */
	size_t		 len;
};

extern const struct migration	migrations[];
extern const size_t		migrations_count;

#endif
