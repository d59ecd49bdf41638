/* cmd_verify.c -- placeholder, being written. */
#include "ctx.h"
#include "err.h"

int
cmd_verify(struct ctx *c, int argc, char **argv)
{
	(void)c; (void)argc; (void)argv;
	return KE_INTERNAL;
}
