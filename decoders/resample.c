/* SPDX-License-Identifier: MIT */
/*
 * A polyphase windowed-sinc resampler for interleaved float audio, in one
 * streaming pass after the decoder and the downmix.
 *
 * Output sample k sits at t = k * in_rate / out_rate input samples. With
 * the ratio reduced to L/M (L = out_rate / g, M = in_rate / g), t has
 * integer part k*M / L and fraction (k*M mod L) / L, so the filter needs
 * only L distinct sets of taps, computed once. Above MAX_PHASES phases (or
 * MAX_TABLE taps in all) the fraction is rounded to the nearest of fewer
 * phases: a timing error of at most half a phase.
 *
 * The filter is a Kaiser-windowed sinc (beta 8: about 80 dB of stopband
 * attenuation) whose passband ends at 0.8 and stopband starts at 1.0 of the
 * lower rate's Nyquist frequency, so nothing above the output's Nyquist
 * frequency folds back, and everything below 0.8 of it passes flat. Each
 * set of taps is normalised to a DC gain of 1 (to float precision).
 *
 * Why not libsamplerate's sinc converters: on 60 s of 44.1 kHz stereo to
 * 16 kHz mono, SRC_SINC_MEDIUM_QUALITY took about 0.8 s on the benchmark
 * machine, five times the decode itself (docs/performance.md); this takes
 * a few tens of milliseconds.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resample.h"

#define MAX_PHASES 4096
/* At most this many taps in all (4 MiB of floats): a steep downsampling ratio gets fewer phases instead. */
#define MAX_TABLE (1u << 20)
/* Half the filter's length in samples of the lower rate: 50 taps there, about 5 / transition width. */
#define HALF_LOW 25.0
#define KAISER_B 8.0

struct resampler {
	uint32_t channels;
	uint64_t L, M;	   /* out/in, reduced */
	uint32_t phases;   /* sets of taps: L, or fewer (MAX_PHASES, MAX_TABLE) */
	uint32_t taps;	   /* per set: 2*K */
	int32_t K;	   /* taps reach K-1 input samples back and K ahead */
	float *coef;	   /* phases * taps */
	float *buf;	   /* input history, frames * channels */
	float *acc;	   /* one running sum per channel */
	size_t cap;	   /* frames buf holds */
	size_t len;	   /* frames in buf */
	uint64_t start;	   /* absolute index of buf[0] */
	uint64_t k;	   /* next output sample */
	uint64_t consumed; /* input frames received */
};

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* The zeroth-order modified Bessel function, by its series; enough terms for x up to 8. */
static double bessel_i0(double x)
{
	double sum = 1.0, term = 1.0;
	for (int n = 1; n < 40; n++) {
		term *= (x / (2.0 * n)) * (x / (2.0 * n));
		sum += term;
	}
	return sum;
}

/* The filter's half length K in input samples, and how many sets of taps it gets. */
static void shape(uint32_t in_rate, uint32_t out_rate, uint32_t *K, uint32_t *phases, uint64_t *L)
{
	const double scale = out_rate < in_rate ? (double)out_rate / in_rate : 1.0;
	*L = out_rate / gcd(in_rate, out_rate);
	*K = (uint32_t)ceil(HALF_LOW / scale);
	uint64_t p = *L < MAX_PHASES ? *L : MAX_PHASES;
	if (p * 2 * *K > MAX_TABLE)
		p = MAX_TABLE / (2 * *K) > 0 ? MAX_TABLE / (2 * *K) : 1;
	*phases = (uint32_t)p;
}

size_t resampler_memory(uint32_t in_rate, uint32_t out_rate, uint32_t channels)
{
	uint32_t K, phases;
	uint64_t L;
	if (in_rate == 0 || out_rate == 0 || channels == 0)
		return 0;
	shape(in_rate, out_rate, &K, &phases, &L);
	return (size_t)phases * 2 * K * sizeof(float) +
	       (RESAMPLE_CHUNK + 2 * (size_t)K + 1) * channels * sizeof(float) + channels * sizeof(float);
}

struct resampler *resampler_new(uint32_t in_rate, uint32_t out_rate, uint32_t channels)
{
	if (in_rate == 0 || out_rate == 0 || channels == 0)
		return NULL;
	struct resampler *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	const uint64_t g = gcd(in_rate, out_rate);
	uint32_t K;
	r->channels = channels;
	shape(in_rate, out_rate, &K, &r->phases, &r->L);
	r->M = in_rate / g;
	/* In input samples: the cutoff, halfway through the transition band, and the half length. */
	const double scale = out_rate < in_rate ? (double)out_rate / in_rate : 1.0;
	const double fc = 0.45 * scale, half = HALF_LOW / scale;
	r->K = (int32_t)K;
	r->taps = 2 * (uint32_t)r->K;
	r->coef = malloc((size_t)r->phases * r->taps * sizeof(float));
	r->cap = RESAMPLE_CHUNK + r->taps + 1;
	r->buf = calloc(r->cap * channels, sizeof(float));
	r->acc = calloc(channels, sizeof(float));
	if (!r->coef || !r->buf || !r->acc) {
		resampler_free(r);
		return NULL;
	}
	const double i0b = bessel_i0(KAISER_B);
	for (uint32_t p = 0; p < r->phases; p++) {
		const double frac = (double)p / r->phases;
		float *c = r->coef + (size_t)p * r->taps;
		double sum = 0.0;
		/* Tap j weighs input sample floor(t) + j - K + 1, at distance frac - (j - K + 1) from t. */
		for (uint32_t j = 0; j < r->taps; j++) {
			const double d = frac - ((double)j - r->K + 1);
			const double x = d / half;
			double h = 0.0;
			if (fabs(x) < 1.0) {
				const double s = d == 0.0 ? 1.0 : sin(2.0 * M_PI * fc * d) / (2.0 * M_PI * fc * d);
				h = 2.0 * fc * s * bessel_i0(KAISER_B * sqrt(1.0 - x * x)) / i0b;
			}
			c[j] = (float)h;
			sum += h;
		}
		for (uint32_t j = 0; j < r->taps; j++)
			c[j] = (float)(c[j] / sum);
	}
	/* The K-1 samples before the first are silence. */
	r->len = (size_t)r->K - 1;
	r->start = 0;
	return r;
}

void resampler_free(struct resampler *r)
{
	if (!r)
		return;
	free(r->coef);
	free(r->buf);
	free(r->acc);
	free(r);
}

/* Four floats at once: SSE on x86-64, NEON on arm64, plain C elsewhere (GCC and clang). */
typedef float v4f __attribute__((vector_size(16)));

static inline v4f load4(const float *p)
{
	v4f v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* One output frame from the taps starting at buf frame i, with the given set of taps. */
static void convolve(const struct resampler *r, size_t i, uint32_t phase, float *out)
{
	const float *c = r->coef + (size_t)phase * r->taps;
	if (r->channels == 1) {
		const float *x = r->buf + i;
		v4f a = { 0 }, b = { 0 };
		uint32_t j = 0;
		for (; j + 8 <= r->taps; j += 8) {
			a += load4(c + j) * load4(x + j);
			b += load4(c + j + 4) * load4(x + j + 4);
		}
		float s = 0.0f;
		for (; j < r->taps; j++)
			s += c[j] * x[j];
		a += b;
		s += a[0] + a[1] + a[2] + a[3];
		out[0] = s;
		return;
	}
	if (r->channels == 2) {
		/* Two frames (four floats) at a time, each tap's coefficient twice. */
		const float *x = r->buf + i * 2;
		v4f a = { 0 };
		uint32_t j = 0;
		for (; j + 2 <= r->taps; j += 2) {
			const v4f cc = { c[j], c[j], c[j + 1], c[j + 1] };
			a += cc * load4(x + 2 * j);
		}
		float left = a[0] + a[2], right = a[1] + a[3];
		for (; j < r->taps; j++) {
			left += c[j] * x[2 * j];
			right += c[j] * x[2 * j + 1];
		}
		out[0] = left;
		out[1] = right;
		return;
	}
	/* Interleaved: through the frames in order, one running sum per channel. */
	const float *x = r->buf + i * r->channels;
	memset(r->acc, 0, r->channels * sizeof(float));
	for (uint32_t j = 0; j < r->taps; j++, x += r->channels)
		for (uint32_t ch = 0; ch < r->channels; ch++)
			r->acc[ch] += c[j] * x[ch];
	memcpy(out, r->acc, r->channels * sizeof(float));
}

size_t resampler_run(struct resampler *r, const float *in, size_t n, int end, float *out, size_t out_cap, size_t *used)
{
	/* Take as much input as fits after what the taps still need. */
	size_t take = r->cap - r->len < n ? r->cap - r->len : n;
	memcpy(r->buf + r->len * r->channels, in, take * r->channels * sizeof(float));
	r->len += take;
	r->consumed += take;
	*used = take;
	const int last = end && take == n;

	size_t made = 0;
	while (made < out_cap) {
		/* t = k*M/L input samples; buf is indexed from K-1 samples of silence before input 0. */
		const uint64_t num = r->k * r->M;
		const uint64_t base = num / r->L, rem = num % r->L;
		/* Every output whose position lies inside the input, and no other. */
		if (last && base >= r->consumed)
			break;
		uint32_t phase;
		uint64_t first = base; /* the first tap's padded index: input base - K + 1 */
		if (r->phases == r->L) {
			phase = (uint32_t)rem;
		} else {
			uint64_t q = (rem * r->phases + r->L / 2) / r->L;
			if (q == r->phases) { /* rounded up to the next whole sample */
				q = 0;
				first++;
			}
			phase = (uint32_t)q;
		}
		const uint64_t need = first + r->taps, have = r->start + r->len;
		if (need > have) {
			if (!last)
				break;
			/* Silence after the end, up to the last tap. */
			const size_t pad = (size_t)(need - have);
			if (r->len + pad > r->cap)
				break;
			memset(r->buf + r->len * r->channels, 0, pad * r->channels * sizeof(float));
			r->len += pad;
		}
		convolve(r, (size_t)(first - r->start), phase, out + made * r->channels);
		made++;
		r->k++;
	}
	/* Drop the history no output needs any more. */
	const uint64_t keep_from = (r->k * r->M) / r->L;
	if (keep_from > r->start) {
		size_t drop = (size_t)(keep_from - r->start);
		if (drop > r->len)
			drop = r->len;
		memmove(r->buf, r->buf + drop * r->channels, (r->len - drop) * r->channels * sizeof(float));
		r->len -= drop;
		r->start += drop;
	}
	return made;
}
