/* SPDX-License-Identifier: MIT */
/* airlock-zygote: the helper a context execs; see zygote.c. */
#include "sandbox.h"

int main(void)
{
	static const struct zygote_family base = { "airlock-zygote", decode_any_into, NULL };
	return zygote_main(&base);
}
