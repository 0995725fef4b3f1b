/* SPDX-License-Identifier: MIT */
/* The WEBP decoder: being written (issue 15); until then every WEBP is unsupported. */
#include "decode.h"

int webp_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		     struct frame *out)
{
	(void)buf;
	(void)len;
	(void)lim;
	(void)pa;
	(void)out;
	return AIRLOCK_E_UNSUPPORTED;
}
