/* SPDX-License-Identifier: MIT */
/*
 * Writes a YCCK JPEG (Adobe marker, transform 2) from raw CMYK samples, for
 * corpus/gen_images.py: Pillow can only write plain CMYK JPEGs. The samples
 * are stored as given (no inversion); libjpeg writes no timestamps, so the
 * output depends only on the input and the library version.
 *
 * Usage: mkycck WIDTH HEIGHT QUALITY IN.cmyk OUT.jpg
 * Build: cc -O2 -o mkycck mkycck.c -ljpeg
 */
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

int main(int argc, char **argv)
{
	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr jerr;
	unsigned char *buf = NULL;
	FILE *in = NULL, *out = NULL;
	int rc = 1;

	if (argc != 6) {
		fprintf(stderr, "usage: mkycck WIDTH HEIGHT QUALITY IN.cmyk OUT.jpg\n");
		return 2;
	}
	long w = strtol(argv[1], NULL, 10), h = strtol(argv[2], NULL, 10), q = strtol(argv[3], NULL, 10);
	if (w < 1 || w > 4096 || h < 1 || h > 4096 || q < 1 || q > 100) {
		fprintf(stderr, "mkycck: bad size or quality\n");
		return 2;
	}
	size_t size = (size_t)w * (size_t)h * 4;
	buf = malloc(size);
	in = fopen(argv[4], "rb");
	if (!buf || !in || fread(buf, 1, size, in) != size) {
		fprintf(stderr, "mkycck: cannot read %s\n", argv[4]);
		goto out;
	}
	out = fopen(argv[5], "wb");
	if (!out) {
		fprintf(stderr, "mkycck: cannot create %s\n", argv[5]);
		goto out;
	}

	cinfo.err = jpeg_std_error(&jerr); /* errors exit: fine for a build tool */
	jpeg_create_compress(&cinfo);
	jpeg_stdio_dest(&cinfo, out);
	cinfo.image_width = (JDIMENSION)w;
	cinfo.image_height = (JDIMENSION)h;
	cinfo.input_components = 4;
	cinfo.in_color_space = JCS_CMYK;
	jpeg_set_defaults(&cinfo);
	jpeg_set_colorspace(&cinfo, JCS_YCCK);
	jpeg_set_quality(&cinfo, (int)q, TRUE);
	jpeg_start_compress(&cinfo, TRUE);
	while (cinfo.next_scanline < cinfo.image_height) {
		JSAMPROW row = buf + (size_t)cinfo.next_scanline * (size_t)w * 4;
		jpeg_write_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	rc = 0;
out:
	if (out && fclose(out) != 0)
		rc = 1;
	if (in)
		fclose(in);
	free(buf);
	return rc;
}
