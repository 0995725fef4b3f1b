/* SPDX-License-Identifier: MIT */
/*
 * Writes the costliest JPEG the default limits let through, to measure
 * decode CPU (docs/performance.md): 16385 x 10922 (= max_pixels), 4:2:0,
 * progressive with exactly max_jpeg_scans (100) scans, most of them
 * successive-approximation refinements over the AC band (the costliest scans
 * to decode, since each touches every nonzero coefficient of every block),
 * and an EXIF orientation, so the output is transposed as well. Noise of the
 * given amplitude on a gradient sets the size (keep it under max_input_bytes,
 * 64 MiB). Not built by meson: a measurement tool, not a test.
 *
 * Build: cc -O2 -o worst-jpeg tests/bench/worst_jpeg.c -ljpeg
 * Usage: worst-jpeg NOISE ORIENTATION OUT.jpg [spectral|baseline|sixteen]
 *   NOISE 0..255 on a gradient (12 gives 63 MiB, 0 a few MiB); "spectral":
 *   spectral selection only (1 + 99 single-pass bands), for comparison;
 *   "baseline": one sequential scan, the cheapest way to code the same image;
 *   "sixteen": DC and, per component, the whole AC band at Al 4 and four
 *   refinements: 16 scans, the most max_jpeg_scan_pixels (3e9) lets through
 *   at max_pixels.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#define W 16385
#define H 10922

static void scan(jpeg_scan_info *s, int *n, int comp, int ss, int se, int ah, int al)
{
	s[*n] = (jpeg_scan_info){ .comps_in_scan = comp < 0 ? 3 : 1, .Ss = ss, .Se = se, .Ah = ah, .Al = al };
	if (comp < 0) {
		for (int c = 0; c < 3; c++)
			s[*n].component_index[c] = c;
	} else {
		s[*n].component_index[0] = comp;
	}
	(*n)++;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: worst-jpeg NOISE ORIENTATION OUT.jpg [spectral|baseline|sixteen]\n");
		return 2;
	}
	const int noise = atoi(argv[1]), orientation = atoi(argv[2]);
	FILE *out = fopen(argv[3], "wb");
	if (!out || noise < 0 || noise > 255 || orientation < 1 || orientation > 8)
		return 2;

	/*
	 * DC: one interleaved scan. AC: per component, three bands of the
	 * spectrum, each as a first scan at Al 10 (libjpeg's maximum for 8-bit
	 * samples) and ten refinements: 1 + 3 * 3 * 11 = 100 scans.
	 */
	static const int bands[3][2] = { { 1, 5 }, { 6, 20 }, { 21, 63 } };
	static jpeg_scan_info s[100];
	int n = 0;
	scan(s, &n, -1, 0, 0, 0, 0);
	if (argc == 5 && strcmp(argv[4], "spectral") == 0) {
		/* 33 bands a component: 30 of two coefficients, 3 of one. */
		for (int c = 0; c < 3; c++)
			for (int k = 1; k <= 63; k += k <= 60 ? 2 : 1)
				scan(s, &n, c, k, k <= 60 ? k + 1 : k, 0, 0);
	} else if (argc == 5 && strcmp(argv[4], "sixteen") == 0) {
		for (int c = 0; c < 3; c++) {
			scan(s, &n, c, 1, 63, 0, 4);
			for (int al = 3; al >= 0; al--)
				scan(s, &n, c, 1, 63, al + 1, al);
		}
	} else {
		for (int c = 0; c < 3; c++) {
			for (int b = 0; b < 3; b++) {
				scan(s, &n, c, bands[b][0], bands[b][1], 0, 10);
				for (int al = 9; al >= 0; al--)
					scan(s, &n, c, bands[b][0], bands[b][1], al + 1, al);
			}
		}
	}
	fprintf(stderr, "worst-jpeg: %d scans\n", n);

	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr jerr;
	cinfo.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&cinfo);
	jpeg_stdio_dest(&cinfo, out);
	cinfo.image_width = W;
	cinfo.image_height = H;
	cinfo.input_components = 3;
	cinfo.in_color_space = JCS_RGB;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, 95, TRUE);
	if (argc != 5 || strcmp(argv[4], "baseline") != 0) {
		cinfo.scan_info = s;
		cinfo.num_scans = n;
	}
	jpeg_start_compress(&cinfo, TRUE);

	/* EXIF: big-endian TIFF, one IFD entry, Orientation SHORT. */
	uint8_t exif[6 + 8 + 2 + 12 + 4] = { 'E', 'x', 'i', 'f',  0,	0, 'M', 'M', 0, 42, 0, 0, 0,
					     8,	  0,   1,   0x01, 0x12, 0, 3,	0,   0, 0,  1, 0, (uint8_t)orientation,
					     0,	  0 };
	jpeg_write_marker(&cinfo, JPEG_APP0 + 1, exif, sizeof(exif));

	uint8_t *row = malloc((size_t)W * 3);
	uint32_t x32 = 2463534242u;
	while (cinfo.next_scanline < H) {
		const uint32_t y = cinfo.next_scanline;
		for (uint32_t x = 0; x < W; x++) {
			for (int c = 0; c < 3; c++) {
				x32 ^= x32 << 13;
				x32 ^= x32 >> 17;
				x32 ^= x32 << 5;
				int v = (int)((x * 255u / W + y * 255u / H * (uint32_t)c) % 256u);
				v += noise ? (int)(x32 % (uint32_t)(2 * noise + 1)) - noise : 0;
				row[(size_t)x * 3 + (size_t)c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
			}
		}
		JSAMPROW r = row;
		jpeg_write_scanlines(&cinfo, &r, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	free(row);
	return fclose(out) ? 1 : 0;
}
