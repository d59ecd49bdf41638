/*
 * test_err.c -- the error-code to exit-status mapping is an interface.
 */
#include <criterion/criterion.h>

#include "err.h"

Test(err, exit_status_table_matches_design)
{
	cr_assert_eq(keyadm_exit_status(KE_OK), 0);
	cr_assert_eq(keyadm_exit_status(KE_POLICY), 1);
	cr_assert_eq(keyadm_exit_status(KE_FINDINGS), 1);
	cr_assert_eq(keyadm_exit_status(KE_USAGE), 64);
	cr_assert_eq(keyadm_exit_status(KE_MALFORMED), 65);
	cr_assert_eq(keyadm_exit_status(KE_NOINPUT), 66);
	cr_assert_eq(keyadm_exit_status(KE_NOUSER), 67);
	cr_assert_eq(keyadm_exit_status(KE_INTERNAL), 70);
	cr_assert_eq(keyadm_exit_status(KE_NOMEM), 70);
	cr_assert_eq(keyadm_exit_status(KE_CANTCREATE), 73);
	cr_assert_eq(keyadm_exit_status(KE_IO), 74);
	cr_assert_eq(keyadm_exit_status(KE_BUSY), 75);
	cr_assert_eq(keyadm_exit_status(KE_UNSAFE), 77);
	cr_assert_eq(keyadm_exit_status(KE_CONFIG), 78);
}

Test(err, unknown_code_is_internal_error)
{
	cr_assert_eq(keyadm_exit_status(-999), 70);
	cr_assert_str_eq(keyadm_strerror(-999), "unknown error");
}

Test(err, every_code_has_a_name)
{
	int	e;

	for (e = KE_OK; e >= KE_ERR_MIN; e--)
		cr_assert_str_neq(keyadm_strerror(e), "unknown error",
		    "code %d has no name", e);
}
