/* SPDX-License-Identifier: MIT */
/* airlock-zygote: the helper a context execs; see zygote.c. */
#include "sandbox.h"

int main(void)
{
	return zygote_main(decode_any_into);
}
