/* SPDX-License-Identifier: MIT */
/*
 * A growable in-memory file for libsndfile's virtual I/O, shared by the audio
 * tests and the benchmark: read encoded bytes without a file, or write a
 * generated one without touching the disk. Reading borrows data (cap 0 is
 * fine); writing grows it with realloc, and the caller frees data.
 */
#ifndef AIRLOCK_SNDBUF_H
#define AIRLOCK_SNDBUF_H

#include <sndfile.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct vbuf {
	uint8_t *data;
	sf_count_t len, cap, pos;
};

static inline sf_count_t vbuf_get_filelen(void *user)
{
	return ((const struct vbuf *)user)->len;
}

static inline sf_count_t vbuf_seek(sf_count_t offset, int whence, void *user)
{
	struct vbuf *v = user;
	sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? v->pos : whence == SEEK_END ? v->len : -1;

	if (base < 0 || offset < -base || offset > SF_COUNT_MAX - base)
		return -1;
	v->pos = base + offset;
	return v->pos;
}

static inline sf_count_t vbuf_read(void *ptr, sf_count_t count, void *user)
{
	struct vbuf *v = user;
	sf_count_t n = v->pos < v->len ? v->len - v->pos : 0;

	if (n > count)
		n = count;
	if (n > 0)
		memcpy(ptr, v->data + v->pos, (size_t)n);
	v->pos += n;
	return n;
}

static inline sf_count_t vbuf_write(const void *ptr, sf_count_t count, void *user)
{
	struct vbuf *v = user;

	if (count < 0 || v->pos > SF_COUNT_MAX - count)
		return 0;
	if (v->pos + count > v->cap) {
		sf_count_t cap = v->cap > 0 ? v->cap : 65536;
		uint8_t *p;

		while (cap < v->pos + count)
			cap *= 2;
		p = realloc(v->data, (size_t)cap);
		if (p == NULL)
			return 0;
		v->data = p;
		v->cap = cap;
	}
	/* A seek past the end leaves a hole, as in a file: zeros. */
	if (v->pos > v->len)
		memset(v->data + v->len, 0, (size_t)(v->pos - v->len));
	memcpy(v->data + v->pos, ptr, (size_t)count);
	v->pos += count;
	if (v->pos > v->len)
		v->len = v->pos;
	return count;
}

static inline sf_count_t vbuf_tell(void *user)
{
	return ((const struct vbuf *)user)->pos;
}

static SF_VIRTUAL_IO vbuf_io = { vbuf_get_filelen, vbuf_seek, vbuf_read, vbuf_write, vbuf_tell };

/* Opens len encoded bytes at data (borrowed) for reading. */
static inline SNDFILE *vbuf_open_read(const uint8_t *data, size_t len, struct vbuf *v, SF_INFO *info)
{
	*v = (struct vbuf){ .data = (uint8_t *)data, .len = (sf_count_t)len };
	memset(info, 0, sizeof(*info));
	return sf_open_virtual(&vbuf_io, SFM_READ, info, v);
}

/*
 * A WAV made in memory with libsndfile: frames of s16 sawtooths, a different
 * slope per channel. The caller frees *out.
 */
static inline int vbuf_make_wav(uint32_t rate, uint32_t channels, uint32_t frames, uint8_t **out, size_t *len)
{
	struct vbuf v = { 0 };
	SF_INFO info = { .samplerate = (int)rate,
			 .channels = (int)channels,
			 .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	SNDFILE *sf = sf_open_virtual(&vbuf_io, SFM_WRITE, &info, &v);
	short *s = malloc((size_t)frames * channels * sizeof(*s));
	int ok = sf && s;

	for (size_t i = 0; ok && i < (size_t)frames * channels; i++) {
		uint32_t step = 300 + 97 * (uint32_t)(i % channels);
		s[i] = (short)((int32_t)(((i / channels) * step) % 60000) - 30000);
	}
	if (ok)
		ok = sf_writef_short(sf, s, frames) == frames;
	if (sf)
		ok = sf_close(sf) == 0 && ok;
	free(s);
	if (!ok) {
		free(v.data);
		return 0;
	}
	*out = v.data;
	*len = (size_t)v.len;
	return 1;
}

#endif
