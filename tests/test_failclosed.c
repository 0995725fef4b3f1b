/* SPDX-License-Identifier: MIT */
/*
 * Fail closed: on a system where seccomp cannot be loaded, airlock refuses
 * to decode and says why. The test makes such a system for itself: it
 * installs a filter on its own process (inherited by the zygote across exec)
 * that fails seccomp() and prctl(PR_SET_SECCOMP) with ENOSYS, as an old or
 * locked-down kernel would.
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>

#include "airlock.h"
#include "proc.h"
#include "tap.h"

int main(void)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	int ok = f && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
		 seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(seccomp), 0) == 0 &&
		 seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(prctl), 1,
				  SCMP_A0(SCMP_CMP_EQ, PR_SET_SECCOMP)) == 0 &&
		 seccomp_load(f) == 0;
	seccomp_release(f);
	if (!tap_ok(ok, "test filter that disables seccomp installed"))
		return tap_done();

	const int fds = proc_fd_count();
	airlock_ctx *ctx = NULL;
	int rc = airlock_open(&ctx);
	tap_ok(rc == AIRLOCK_E_SANDBOX_UNAVAILABLE && ctx == NULL,
	       "without seccomp airlock_open refuses with sandbox_unavailable (got %s)", airlock_error_name(rc));
	tap_ok(airlock_error_classify(rc) == AIRLOCK_CLASS_INTERNAL,
	       "sandbox_unavailable is an internal failure, not the input's");
	tap_ok(strstr(airlock_strerror(rc), "refusing") != NULL, "the message says it refuses to decode");
	tap_ok(proc_fd_count() == fds && proc_children(NULL, 0) == 0, "nothing left behind");
	return tap_done();
}
