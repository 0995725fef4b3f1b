/* SPDX-License-Identifier: MIT */
/*
 * decoders/resample.c on its own, as TAP: how many frames come out; what
 * happens to tones inside the passband (gain, and the very samples an ideal
 * converter gives) and above the output's Nyquist frequency; that any split
 * of the input into calls, and any output block size, gives the same
 * samples; that channels neither mix nor differ from a mono run; unity DC
 * gain; refusal of zero rates and channels; finite output for full-scale
 * square waves; and that resampler_memory() covers what resampler_new()
 * allocates, since audio.c charges that figure to the memory budget.
 *
 *   test-resample
 */
#include <malloc.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resample.h"
#include "tap.h"

struct pair {
	uint32_t in, out;
};

/*
 * 44099 -> 16000 is already in lowest terms: 16000 phases, more than the
 * 4096 the resampler keeps, so it rounds each output's position.
 */
static const struct pair pairs[] = {
	{ 44100, 16000 }, { 48000, 16000 }, { 22050, 16000 }, { 8000, 16000 },
	{ 44100, 48000 }, { 11025, 16000 }, { 44099, 16000 }, { 16000, 44100 },
};
#define N_PAIRS (sizeof(pairs) / sizeof(pairs[0]))

/* The factor of 256 either way that audio.c allows: the longest filter (12,800 taps), the most outputs per input. */
static const struct pair extremes[] = { { 768000, 3000 }, { 1000, 256000 } };
#define N_EXTREMES (sizeof(extremes) / sizeof(extremes[0]))

/* resample.c's filter reaches 25 samples of the lower rate either side; 27 leaves room for rounding. */
#define REACH_LOW 27.0

static bool downsampling(struct pair p)
{
	return p.out < p.in;
}

/* The frames resample.h promises for n input frames: ceil(n * out / in). */
static size_t promised(size_t n, struct pair p)
{
	return (size_t)(((uint64_t)n * p.out + p.in - 1) / p.in);
}

/* Output frames at each end whose taps reach outside the input. */
static size_t edge(struct pair p)
{
	const double low = p.in < p.out ? p.in : p.out;
	return (size_t)ceil(REACH_LOW * p.out / low) + 2;
}

/*
 * Runs n frames of ch channels through a new resampler, at most chunk
 * frames in and out_cap frames out per call, with the loop audio.c's
 * resample() uses. Returns the frames made, in *out (caller frees), or
 * SIZE_MAX when there was no resampler, a call claimed more input than it
 * was given or more output than it had room for, the output ran past the
 * promised count by more than 1024 frames, or the calls made no progress.
 */
static size_t run(struct pair p, uint32_t ch, const float *in, size_t n, size_t chunk, size_t out_cap, float **out)
{
	struct resampler *r = resampler_new(p.in, p.out, ch);
	const size_t max = promised(n, p) + 1024;
	const size_t max_calls = 4 * (n + max) + 16;
	float *o = malloc(max * ch * sizeof(float));
	float *tmp = malloc(out_cap * ch * sizeof(float));
	size_t total = 0, calls = 0, off = 0;
	bool ok = r != NULL && o != NULL && tmp != NULL;

	while (ok) {
		const size_t given = n - off < chunk ? n - off : chunk;
		const int end = off + given == n;
		const float *x = in + off * ch;
		size_t left = given;
		for (;;) {
			size_t used = 0;
			const size_t made = resampler_run(r, x, left, end, tmp, out_cap, &used);
			if (used > left || made > out_cap || made > max - total || ++calls > max_calls) {
				ok = false;
				break;
			}
			memcpy(o + total * ch, tmp, made * ch * sizeof(float));
			total += made;
			x += used * ch;
			left -= used;
			if (left == 0 && (end ? made == 0 : made < out_cap))
				break;
		}
		off += given;
		if (end)
			break;
	}
	resampler_free(r);
	free(tmp);
	if (!ok) {
		free(o);
		*out = NULL;
		return SIZE_MAX;
	}
	*out = o;
	return total;
}

static float *tone(size_t n, double f, uint32_t rate, double amp)
{
	float *x = malloc(n * sizeof(float));
	for (size_t i = 0; x != NULL && i < n; i++)
		x[i] = (float)(amp * sin(2.0 * M_PI * f * (double)i / rate));
	return x;
}

/* Deterministic noise in [-0.5, 0.5), different for every seed. */
static float *noise(size_t n, uint64_t seed)
{
	float *x = malloc(n * sizeof(float));
	for (size_t i = 0; x != NULL && i < n; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		x[i] = (float)((double)(seed >> 40) / (double)(1u << 24) - 0.5);
	}
	return x;
}

/* Channel c of m frames out of an interleaved buffer of ch channels. */
static float *channel(const float *x, size_t m, uint32_t ch, uint32_t c)
{
	float *y = malloc((m ? m : 1) * sizeof(float));
	for (size_t i = 0; y != NULL && i < m; i++)
		y[i] = x[i * ch + c];
	return y;
}

static void counts(void)
{
	static const size_t lengths[] = { 1, 7, 4095, 4096, 4097, 100000 };
	for (size_t i = 0; i < N_PAIRS + N_EXTREMES; i++) {
		const struct pair p = i < N_PAIRS ? pairs[i] : extremes[i - N_PAIRS];
		for (size_t j = 0; j < sizeof(lengths) / sizeof(lengths[0]); j++) {
			const size_t n = lengths[j];
			/* 256 outputs per input, or 12,800 taps per output: short inputs will do. */
			if (i >= N_PAIRS && n > 4097)
				continue;
			float *x = noise(n, n), *y = NULL;
			const size_t got = run(p, 1, x, n, n, 4096, &y);
			if (!tap_ok(got == promised(n, p), "%u -> %u Hz, %zu frames in: ceil(n * out / in) = %zu out",
				    p.in, p.out, n, promised(n, p)))
				tap_diag("got %zu", got);
			free(x);
			free(y);
		}
	}
}

struct heard {
	double gain_db;	 /* RMS against the ideal output's */
	double err_db;	 /* RMS of output minus ideal output, against the tone's RMS */
	double peak;	 /* the largest |output - ideal output| */
	double level_db; /* RMS against the tone's, for tones the output cannot carry */
};

/*
 * A tone of f Hz at amplitude 0.5 through p, measured on every output frame
 * whose taps lie inside the input. The ideal output frame k is the tone at
 * k * in / out input frames: the filter is symmetric about each output's
 * position, so it adds no delay. 1.125 s of input: the measured frames
 * cover every one of the L positions between two input frames, so a single
 * wrong phase shows in the peak even when the RMS hides it.
 */
static struct heard tone_through(struct pair p, double f)
{
	const double amp = 0.5;
	const size_t n = p.in + p.in / 8, e = edge(p);
	struct heard h = { NAN, NAN, NAN, NAN };
	float *x = tone(n, f, p.in, amp), *y = NULL;
	const size_t m = x != NULL ? run(p, 1, x, n, n, 4096, &y) : SIZE_MAX;
	if (m != SIZE_MAX && m > 2 * e) {
		double sy = 0.0, si = 0.0, se = 0.0, peak = 0.0;
		for (size_t k = e; k < m - e; k++) {
			const double ideal = amp * sin(2.0 * M_PI * f * (double)k / p.out), d = y[k] - ideal;
			sy += (double)y[k] * y[k];
			si += ideal * ideal;
			se += d * d;
			if (!(fabs(d) <= peak))
				peak = fabs(d);
		}
		const double tone_power = (double)(m - 2 * e) * amp * amp / 2.0;
		h.gain_db = 10.0 * log10(sy / si);
		h.err_db = 10.0 * log10(se / tone_power + 1e-30);
		h.peak = peak;
		h.level_db = 10.0 * log10(sy / tone_power + 1e-30);
	}
	free(x);
	free(y);
	return h;
}

static void response(void)
{
	/* Fractions of the lower rate's Nyquist frequency: flat to 0.8 by design, checked to 0.75. */
	static const double pass[] = { 0.02, 0.25, 0.5, 0.75 };
	/* Fractions of the output's Nyquist frequency, up to just below the input's: the stopband starts at 1.0. */
	static const double stop[] = { 1.01, 1.02, 1.05, 1.1, 1.5, 2.5 };
	const size_t n_stop = sizeof(stop) / sizeof(stop[0]);

	for (size_t i = 0; i < N_PAIRS + N_EXTREMES; i++) {
		const struct pair p = i < N_PAIRS ? pairs[i] : extremes[i - N_PAIRS];
		const double low_nyquist = (p.in < p.out ? p.in : p.out) / 2.0, in_nyquist = p.in / 2.0;
		double gain = 0.0, err = -INFINITY, peak = 0.0, level = -INFINITY;
		for (size_t j = 0; j < sizeof(pass) / sizeof(pass[0]); j++) {
			const double f = pass[j] * low_nyquist;
			const struct heard h = tone_through(p, f);
			if (!tap_ok(fabs(h.gain_db) <= 0.1, "%u -> %u Hz: %.0f Hz (%.2f of Nyquist) within 0.1 dB",
				    p.in, p.out, f, pass[j]))
				tap_diag("gain %.4f dB", h.gain_db);
			/* A gain misses a shifted or jittered output: the samples must be the ideal output's too. */
			if (!tap_ok(h.err_db <= -60.0 && h.peak <= 1e-3,
				    "%u -> %u Hz: %.0f Hz gives the ideal output to -60 dB, each sample to 1e-3%s",
				    p.in, p.out, f, downsampling(p) ? "" : ", images removed"))
				tap_diag("error %.1f dB, peak %g", h.err_db, h.peak);
			gain = fmax(gain, fabs(h.gain_db));
			err = fmax(err, h.err_db);
			peak = fmax(peak, h.peak);
		}
		for (size_t j = 0; downsampling(p) && j <= n_stop; j++) {
			const double f = j < n_stop ? stop[j] * p.out / 2.0 : 0.98 * in_nyquist;
			if (f >= 0.99 * in_nyquist)
				continue;
			const struct heard h = tone_through(p, f);
			if (!tap_ok(h.level_db <= -70.0,
				    "%u -> %u Hz: %.0f Hz (%.2f of the output's Nyquist) at -70 dB or less", p.in,
				    p.out, f, f / (p.out / 2.0)))
				tap_diag("level %.1f dB", h.level_db);
			level = fmax(level, h.level_db);
		}
		tap_diag("%u -> %u Hz: passband within %.4f dB, error%s at most %.1f dB, peak %.2g", p.in, p.out, gain,
			 downsampling(p) ? "" : " with images", err, peak);
		if (downsampling(p))
			tap_diag("%u -> %u Hz: stopband at most %.1f dB", p.in, p.out, level);
	}
}

/* Chunks of 1, 13, 4096 and all at once, and one output frame per call, against all at once. */
static void streaming(void)
{
	static const struct {
		struct pair p;
		uint32_t ch;
	} cases[] = {
		{ { 44100, 16000 }, 1 }, { { 44099, 16000 }, 1 }, { { 16000, 44100 }, 1 },
		{ { 48000, 16000 }, 2 }, { { 8000, 16000 }, 3 },
	};
	static const struct {
		size_t chunk, out_cap;
	} ways[] = { { 1, 4096 }, { 13, 4096 }, { 4096, 4096 }, { 0, 1 }, { 0, 7 } };
	const size_t n = 20000;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pair p = cases[i].p;
		const uint32_t ch = cases[i].ch;
		float *x = noise(n * ch, i + 1), *whole = NULL;
		const size_t m = run(p, ch, x, n, n, 4096, &whole);
		for (size_t j = 0; j < sizeof(ways) / sizeof(ways[0]); j++) {
			const size_t chunk = ways[j].chunk ? ways[j].chunk : n;
			float *y = NULL;
			const size_t got = run(p, ch, x, n, chunk, ways[j].out_cap, &y);
			tap_ok(m != SIZE_MAX && got == m && memcmp(whole, y, m * ch * sizeof(float)) == 0,
			       "%u -> %u Hz, %u channel(s): %zu frames in per call, %zu out, bit-identical to one call",
			       p.in, p.out, ch, chunk, ways[j].out_cap);
			free(y);
		}
		free(x);
		free(whole);
	}
}

/*
 * Each channel of an interleaved run against the same samples alone. Not
 * bit for bit: mono sums the taps four lanes at a time and adds the lanes at
 * the end, more channels sum them one by one, so float rounding differs in
 * the last bits: a few 1e-7 at most for these filters' 50 to 150 taps and
 * samples within +-0.5. A mixed-up channel or a misplaced tap is off by far
 * more.
 */
static void channels(void)
{
	static const struct pair ps[] = { { 44100, 16000 }, { 44099, 16000 }, { 16000, 44100 } };
	const size_t n = 30000;

	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		for (uint32_t ch = 2; ch <= 3; ch++) {
			/* A different signal on each channel, within +-0.5: a tone, noise, a louder tone. */
			float *x = malloc(n * ch * sizeof(float)), *y = NULL;
			for (uint32_t c = 0; c < ch; c++) {
				float *s = c == 1 ? noise(n, 99) : tone(n, 440.0 * (c + 1), ps[i].in, 0.25 + 0.125 * c);
				for (size_t k = 0; k < n; k++)
					x[k * ch + c] = s[k];
				free(s);
			}
			const size_t m = run(ps[i], ch, x, n, 4096, 4096, &y);
			double worst = 0.0;
			bool same_length = m != SIZE_MAX;
			for (uint32_t c = 0; c < ch && same_length; c++) {
				float *alone = channel(x, n, ch, c), *ref = NULL;
				const size_t mr = run(ps[i], 1, alone, n, 4096, 4096, &ref);
				same_length = mr == m;
				for (size_t k = 0; same_length && k < m; k++) {
					const double d = fabs((double)y[k * ch + c] - ref[k]);
					if (!(d <= worst))
						worst = d;
				}
				free(alone);
				free(ref);
			}
			if (!tap_ok(same_length && worst <= 1e-6,
				    "%u -> %u Hz, %u channels: each channel as when resampled alone, to 1e-6", ps[i].in,
				    ps[i].out, ch))
				tap_diag("frames %zu, largest difference %g", m, worst);
			else
				tap_diag("%u -> %u Hz, %u channels: largest difference %g", ps[i].in, ps[i].out, ch,
					 worst);
			free(x);
			free(y);
		}
	}
}

/* A constant 0.5 comes out as 0.5 wherever the taps lie inside the input: every set of taps sums to 1. */
static void dc(void)
{
	for (size_t i = 0; i < N_PAIRS + N_EXTREMES + 2; i++) {
		const struct pair p = i < N_PAIRS + N_EXTREMES ? (i < N_PAIRS ? pairs[i] : extremes[i - N_PAIRS])
							       : pairs[i - N_PAIRS - N_EXTREMES];
		const uint32_t ch = i < N_PAIRS + N_EXTREMES ? 1 : 2;
		/* About 4000 frames out, and at least 200 of the lower rate's. */
		const size_t n = (size_t)((uint64_t)4000 * p.in / p.out) + 200;
		float *x = malloc(n * ch * sizeof(float)), *y = NULL;
		for (size_t k = 0; k < n * ch; k++)
			x[k] = 0.5f;
		const size_t m = run(p, ch, x, n, 4096, 4096, &y);
		const size_t e = edge(p);
		double worst = m == SIZE_MAX || m <= 2 * e ? INFINITY : 0.0;
		for (size_t k = e; m != SIZE_MAX && k + e < m; k++)
			for (uint32_t c = 0; c < ch; c++) {
				const double d = fabs(y[k * ch + c] - 0.5);
				if (!(d <= worst))
					worst = d;
			}
		if (!tap_ok(worst <= 1e-6,
			    "%u -> %u Hz, %u channel(s): DC 0.5 stays 0.5 +- 1e-6 past the first %zu frames", p.in,
			    p.out, ch, e))
			tap_diag("largest deviation %g", worst);
		free(x);
		free(y);
	}
}

static void refusals(void)
{
	tap_ok(resampler_new(0, 16000, 1) == NULL, "resampler_new(): input rate 0 is refused");
	tap_ok(resampler_new(44100, 0, 1) == NULL, "resampler_new(): output rate 0 is refused");
	tap_ok(resampler_new(44100, 16000, 0) == NULL, "resampler_new(): 0 channels is refused");
	resampler_free(NULL);
}

/*
 * Full-scale square waves, at the input's Nyquist frequency and below:
 * finite output within +-2. Band-limiting a square makes it overshoot
 * (Gibbs), more where the filter cuts off its harmonics: up to 1.45 here.
 * Taps that do not sum to 1 or a read outside the input go past that.
 */
static void squares(void)
{
	/* Half-periods in input frames: 1 is the input's Nyquist frequency. */
	static const size_t halves[] = { 1, 2, 3, 17, 200 };
	for (size_t i = 0; i < N_PAIRS + N_EXTREMES; i++) {
		const struct pair p = i < N_PAIRS ? pairs[i] : extremes[i - N_PAIRS];
		for (uint32_t ch = 1; ch <= 2; ch++) {
			/* 20,000 frames, or 2,000 for 256 outputs each. */
			const size_t n = p.in > 100000 ? 100000 : p.out / p.in > 16 ? 2000 : 20000;
			float *x = malloc(n * ch * sizeof(float));
			size_t bad = 0, total = 0;
			double peak = 0.0;
			for (size_t h = 0; h < sizeof(halves) / sizeof(halves[0]); h++) {
				float *y = NULL;
				for (size_t k = 0; k < n; k++)
					for (uint32_t c = 0; c < ch; c++)
						x[k * ch + c] = (k / halves[h]) % 2 == c % 2 ? 1.0f : -1.0f;
				const size_t m = run(p, ch, x, n, 4096, 4096, &y);
				if (m == SIZE_MAX) {
					bad++;
					continue;
				}
				for (size_t k = 0; k < m * ch; k++) {
					if (!isfinite(y[k]))
						bad++;
					else if (fabs(y[k]) > peak)
						peak = fabs(y[k]);
				}
				total += m;
				free(y);
			}
			if (!tap_ok(bad == 0 && total > 0 && peak <= 2.0,
				    "%u -> %u Hz, %u channel(s): square waves of +-1 give finite samples within +-2",
				    p.in, p.out, ch))
				tap_diag("%zu bad of %zu frames, peak %g", bad, total, peak);
			free(x);
		}
	}
}

/* glibc's heap in use, small and mmap()ed blocks; 0 under a sanitizer's allocator, which keeps its own. */
static size_t heap_in_use(void)
{
	const struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

/* resampler_new() takes what resampler_memory() says, give or take its struct and malloc's rounding. */
static void memory(void)
{
	static const struct {
		struct pair p;
		uint32_t ch;
	} cases[] = {
		{ { 44100, 16000 }, 1 }, { { 44099, 16000 }, 1 }, { { 16000, 44100 }, 2 }, { { 768000, 3000 }, 8 }
	};
	const size_t slack = 16384;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pair p = cases[i].p;
		const size_t before = heap_in_use();
		struct resampler *r = resampler_new(p.in, p.out, cases[i].ch);
		const size_t after = heap_in_use(), said = resampler_memory(p.in, p.out, cases[i].ch);
		if (before == 0 && after == 0) {
			printf("ok %d - resampler_memory() for %u -> %u Hz # SKIP the heap is not glibc's\n", ++tap_n,
			       p.in, p.out);
		} else if (!tap_ok(r != NULL && after > before && after - before <= said + slack &&
					   said <= after - before + slack,
				   "resampler_memory() for %u -> %u Hz, %u channel(s): %zu bytes, as allocated", p.in,
				   p.out, cases[i].ch, said)) {
			tap_diag("the heap grew by %zu bytes", after - before);
		}
		resampler_free(r);
	}
}

int main(void)
{
	refusals();
	counts();
	response();
	streaming();
	channels();
	dc();
	squares();
	memory();
	return tap_done();
}
