/* SPDX-License-Identifier: MIT */
/* The BMP decoder: being written (issue 15); until then every BMP is unsupported. */
#include "decode.h"

int bmp_decode_into(const uint8_t *buf, size_t len, const struct limits *lim, const struct pixel_alloc *pa,
		    struct frame *out)
{
	(void)buf;
	(void)len;
	(void)lim;
	(void)pa;
	(void)out;
	return AIRLOCK_E_UNSUPPORTED;
}
