/* SPDX-License-Identifier: MIT */
/* MD5 (RFC 1321), for the FLAC STREAMINFO signature; not for anything security-related. */
#ifndef AIRLOCK_MD5_H
#define AIRLOCK_MD5_H

#include <stddef.h>
#include <stdint.h>

struct md5 {
	uint32_t h[4];
	uint64_t len; /* bytes so far */
	uint8_t buf[64];
};

void md5_init(struct md5 *m);
void md5_update(struct md5 *m, const void *data, size_t n);
void md5_final(struct md5 *m, uint8_t digest[16]);

#endif
