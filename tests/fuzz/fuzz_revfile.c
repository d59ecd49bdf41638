/*
 * fuzz_revfile.c -- the revoked-keys file sshd reads (RevokedKeys), as
 * revfile reads it before any change: load(), static in src/revfile.c,
 * reached by compiling that source into this file.  revfile_open only
 * adds the walk to the file and safefs_read (which hands over the bytes
 * NUL-terminated, as here); the parsing is all in load().
 *
 * Checked besides memory safety, from revfile.c's MUSTs: a file that
 * loads renders back byte for byte; once given its final newline (as
 * revfile_write does) it passes check_rendered, so keyadm can always
 * rewrite a file it accepted; every key line of it is found by its blob.
 * A refusal says why.
 */
#include "../../src/revfile.c"

#include "fuzz.h"

#define DISP	"/etc/ssh/keyadm_revoked_keys"	/* as in messages */

FUZZ_INIT_KEYPARSE()

static void
check_loaded(struct revfile *rf, const uint8_t *data, size_t size)
{
	const struct authkeys_entry	*e;
	char				*out = NULL;
	size_t				 outlen = 0, i;

	FUZZ_CHECK(rf->ak != NULL, "loaded without lines");
	if (revfile_render(rf, &out, &outlen) == 0)
		FUZZ_CHECK(outlen == size && (size == 0 ||
		    memcmp(out, data, size) == 0),
		    "a loaded file does not render back as it was");
	free(out);
	out = NULL;
	for (i = 0; i < rf->ak->n; i++) {
		e = &rf->ak->lines[i];
		if (e->is_key)
			FUZZ_CHECK(revfile_contains(rf, e->blob, e->bloblen),
			    "a listed key is not found");
	}
	rf->ak->final_newline = 1;
	if (revfile_render(rf, &out, &outlen) == 0)
		FUZZ_CHECK(check_rendered(out, outlen) == 0,
		    "a file that loaded would not be rewritten "
		    "(check_rendered refuses it)");
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct revfile	*rf;
	char		 msg[1024], *buf;
	int		 r;

	if (size > 256 * 1024)
		return 0;
	if ((rf = calloc(1, sizeof(*rf))) == NULL)
		return 0;
	if ((buf = fuzz_cstr(data, size)) == NULL) {
		free(rf);
		return 0;
	}
	rf->dirfd = -1;
	(void)snprintf(rf->disp, sizeof(rf->disp), "%s", DISP);
	msg[0] = '\0';
	r = load(rf, buf, size, msg, sizeof(msg));
	if (r != 0)
		FUZZ_CHECK(fuzz_has_text(msg, sizeof(msg)),
		    "refused file without reason");
	else
		check_loaded(rf, data, size);
	revfile_close(rf);
	free(buf);
	free(rf);
	return 0;
}
