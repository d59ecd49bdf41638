/* ctx.c -- placeholder, being written. */
#include "ctx.h"
#include "store.h"

int
ctx_store_open(struct ctx *c, int flags, struct store **out, char *msg,
    size_t msglen)
{
	return store_open(c->rootfd, c->dispprefix, c->cfg.database, flags,
	    (int)c->cfg.busy_timeout_ms, out, msg, msglen);
}
