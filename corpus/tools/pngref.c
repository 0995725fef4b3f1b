/* SPDX-License-Identifier: MIT */
/*
 * Cross-check for corpus/gen_images.py --verify: decodes one PNG with
 * libpng under the strict settings airlock's decoder is specified to use
 * (warnings and benign errors are errors, CRC errors quit, ancillary chunks
 * skipped unread, png_read_end called) and prints what it got:
 *
 *   ok WIDTH HEIGHT CHANNELS FNV64      or      error MESSAGE
 *
 * The manifest's expected values are computed in Python without libpng;
 * this program only confirms that libpng agrees with them.
 *
 * Usage: pngref [-a] FILE      (-a: keep alpha, RGBA8 out)
 * Build: cc -O2 -o pngref pngref.c -lpng16
 */
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct src {
	const uint8_t *buf;
	size_t len, pos;
};

static void src_read(png_structp png, png_bytep data, size_t n)
{
	struct src *s = png_get_io_ptr(png);
	if (n > s->len - s->pos)
		png_error(png, "truncated");
	memcpy(data, s->buf + s->pos, n);
	s->pos += n;
}

static void on_error(png_structp png, png_const_charp msg)
{
	printf("error %s\n", msg);
	png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
	printf("error (warning) %s\n", msg);
	png_longjmp(png, 1);
}

static const png_byte skipped[] = "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0pCAL\0pHYs\0"
				  "sBIT\0sCAL\0sPLT\0sRGB\0tEXt\0tIME\0zTXt\0";

static uint8_t blend(uint32_t s, uint32_t a, uint32_t b)
{
	uint32_t v = s * a + b * (255 - a) + 128;
	return (uint8_t)((v + (v >> 8)) >> 8);
}

int main(int argc, char **argv)
{
	int keep_alpha = argc == 3 && strcmp(argv[1], "-a") == 0;
	if (argc != 2 && !keep_alpha) {
		fprintf(stderr, "usage: pngref [-a] FILE\n");
		return 2;
	}
	FILE *f = fopen(argv[argc - 1], "rb");
	if (!f)
		return 2;
	static uint8_t buf[4 << 20];
	struct src s = { buf, fread(buf, 1, sizeof(buf), f), 0 };
	fclose(f);

	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, on_error, on_warning);
	png_infop info = png_create_info_struct(png);
	uint8_t *volatile px = NULL;
	png_bytep *volatile rows = NULL;
	if (setjmp(png_jmpbuf(png)))
		return 1;
	png_set_read_fn(png, &s, src_read);
	png_set_user_limits(png, 65535, 65535);
	png_set_benign_errors(png, 0);
	png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
	png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, skipped, (int)(sizeof(skipped) / 5));
	png_read_info(png, info);

	png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
	int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
	int has_alpha = (color & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS);
	if ((uint64_t)w * h > 178956970u) {
		printf("error too_large\n");
		return 1;
	}
	png_set_expand(png);
	if (depth == 16)
		png_set_strip_16(png);
	if (!(color & PNG_COLOR_MASK_COLOR))
		png_set_gray_to_rgb(png);
	if (!has_alpha && keep_alpha)
		png_set_filler(png, 0xff, PNG_FILLER_AFTER);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	size_t ch = png_get_channels(png, info);
	if (png_get_rowbytes(png, info) != w * ch)
		return 3;
	px = malloc((size_t)w * h * ch);
	rows = malloc(h * sizeof(*rows));
	for (png_uint_32 y = 0; y < h; y++)
		rows[y] = px + (size_t)y * w * ch;
	png_read_image(png, rows);
	png_read_end(png, NULL);

	size_t n = (size_t)w * h;
	if (has_alpha && !keep_alpha) {
		for (size_t i = 0; i < n; i++)
			for (int c = 0; c < 3; c++)
				px[i * 3 + c] = blend(px[i * 4 + c], px[i * 4 + 3], 255);
		ch = 3;
	}
	uint64_t hash = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n * ch; i++) {
		hash ^= px[i];
		hash *= 0x100000001b3ull;
	}
	printf("ok %u %u %zu %016llx\n", (unsigned)w, (unsigned)h, ch, (unsigned long long)hash);
	png_destroy_read_struct(&png, &info, NULL);
	free(px);
	free(rows);
	return 0;
}
