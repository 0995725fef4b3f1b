/* SPDX-License-Identifier: MIT */
/* The canonical WebP writer: being written (issue 15). */
#include "internal.h"

int encode_webp(const airlock_result *r, uint32_t quality, uint32_t lossless, airlock_write_fn write, void *user)
{
	(void)r;
	(void)quality;
	(void)lossless;
	(void)write;
	(void)user;
	return AIRLOCK_E_INVALID_ARG;
}
