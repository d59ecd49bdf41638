/* cmd_history.c -- placeholder, being written. */
#include "ctx.h"
#include "err.h"

int
cmd_history(struct ctx *c, int argc, char **argv)
{
	(void)c; (void)argc; (void)argv;
	return KE_INTERNAL;
}
