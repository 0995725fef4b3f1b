/* SPDX-License-Identifier: MIT */
/*
 * Writes a costly PNG the default limits let through, to measure decode CPU
 * (docs/performance.md): 16385 x 10922 (= max_pixels), RGBA at 16 bits (the
 * most bytes to inflate and unfilter a pixel, 8; the output is then cut to
 * 8 bits and composited), Adam7 interlaced, Paeth on every row (libpng has
 * no SIMD Paeth for 8-byte pixels). NOISE sets how much of the image is
 * random low bits, and so the size: keep it under max_input_bytes (64 MiB).
 * Not built by meson: a measurement tool, not a test.
 *
 * Build: cc -O2 -o worst-png tests/bench/worst_png.c -lpng16
 * Usage: worst-png NOISE_BITS INTERLACE OUT.png [HEIGHT]   (NOISE_BITS 0..16, INTERLACE 0 or 1)
 *   HEIGHT (default 10922): 6143 rows of 16385 RGBA16 pixels are the most
 *   max_png_inflated_bytes (768 MiB of stored rows) lets through.
 */
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define W 16385

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: worst-png NOISE_BITS INTERLACE OUT.png [HEIGHT]\n");
		return 2;
	}
	const int bits = atoi(argv[1]), interlace = atoi(argv[2]);
	const uint32_t H = argc == 5 ? (uint32_t)atoi(argv[4]) : 10922;
	FILE *out = fopen(argv[3], "wb");
	if (!out || bits < 0 || bits > 16)
		return 2;
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	if (!png || !info || setjmp(png_jmpbuf(png)))
		return 1;
	png_init_io(png, out);
	png_set_IHDR(png, info, W, H, 16, PNG_COLOR_TYPE_RGB_ALPHA,
		     interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_set_filter(png, 0, PNG_FILTER_PAETH);
	png_set_compression_level(png, 6);
	png_write_info(png, info);

	/* The whole image: interlaced writing needs every row on each pass. */
	const size_t row = (size_t)W * 8;
	uint8_t *img = malloc(row * H);
	png_bytep *rows = malloc(sizeof(*rows) * H);
	if (!img || !rows)
		return 1;
	uint32_t x32 = 2463534242u;
	const uint32_t mask = bits ? (1u << bits) - 1 : 0;
	for (uint32_t y = 0; y < H; y++) {
		rows[y] = img + (size_t)y * row;
		for (uint32_t x = 0; x < W; x++) {
			for (int c = 0; c < 4; c++) {
				x32 ^= x32 << 13;
				x32 ^= x32 >> 17;
				x32 ^= x32 << 5;
				uint32_t v = c == 3 ? (x * 7 + y * 3) & 0xffff
						    : (x * 4 + y * (uint32_t)(c + 1) * 6) & 0xffff;
				v ^= x32 & mask;
				rows[y][(size_t)x * 8 + (size_t)c * 2] = (uint8_t)(v >> 8);
				rows[y][(size_t)x * 8 + (size_t)c * 2 + 1] = (uint8_t)v;
			}
		}
	}
	png_write_image(png, rows);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(rows);
	free(img);
	return fclose(out) ? 1 : 0;
}
