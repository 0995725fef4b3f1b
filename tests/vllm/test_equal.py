# SPDX-License-Identifier: MIT
# ruff: noqa: E501  (the reasons and the per-file table are data: one entry a line)
"""The airlock connector against vLLM's own: every file of the image manifests
(corpus/images.tsv, corpus/images-*.tsv), of the audio manifest (corpus/audio.tsv) and of the
public suites they name (../shared/corpus-public: bmp, gif, icc, pngsuite, tiff, webp; flac,
hound-wav), each one test, through ``fetch_image`` / ``fetch_audio`` on ``data:`` URLs of both
connectors. Images: the same ``MediaWithBytes`` around a PIL image of the same mode and size and
exactly equal pixels. Audio: the same sample rate, float32 mono, samples within AUDIO_ATOL.

Where the two differ the difference is named below, per file (IMAGE_EXPECT, AUDIO_EXPECT) or per
class (TIFF), with its reason, and the test asserts exactly that difference: the code airlock
rejects with, that Pillow refuses, the number of pixels that differ and by how much, the two
lengths. A new, unexplained difference fails, and so does an explained one that went away.

Then a sample through ``file:`` URLs and the async variants, ``image_mode=None``,
``rgba_background_color``, and vLLM's limits (VLLM_MAX_IMAGE_PIXELS, the audio ones) reaching
airlock as its own limits.
"""

from __future__ import annotations

import asyncio
import base64
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python" / "scripts"))
import airlock
import airtest

# Float decoders round differently in the last bits (mpg123's and libvorbis's float output
# against libsndfile's conversions); every PCM and FLAC file of the corpus is bit-exact.
AUDIO_ATOL = 2e-6

IMAGE_SUITES = (
    "bmp-test-files",
    "gif-test-files",
    "icc-test-files",
    "pngsuite-full",
    "tiff-test-files",
    "webp-test-files",
)
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}
AUDIO_SUITES = ("flac-test-files", "hound-wav")
AUDIO_EXTS = {".flac", ".wav"}


def _files(manifest_paths: list[str], suites: tuple[str, ...], exts: set[str]) -> list[str]:
    """The manifests' files (each once), then the named suites' other files of those types."""
    seen = dict.fromkeys(manifest_paths)
    if airtest.SHARED.is_dir():
        for suite in suites:
            for p in sorted((airtest.SHARED / suite).rglob("*")):
                if p.is_file() and p.suffix.lower() in exts:
                    seen.setdefault("shared:" + str(p.relative_to(airtest.SHARED)))
    return list(seen)


IMAGE_FILES = _files(sorted({r.path for r in airtest.image_rows()}), IMAGE_SUITES, IMAGE_EXTS)
AUDIO_FILES = _files(sorted({r.path for r in airtest.audio_rows()}), AUDIO_SUITES, AUDIO_EXTS)

# Why a class of files differs. The tables below name each file's class.
REASONS = {
    "tiff": "airlock's default allowlist leaves TIFF out (AIRLOCK_VLLM_TYPES=tiff adds it): refused as 'type' whatever Pillow makes of it",
    "not_an_allowed_type": "libmagic sees no allowed image type (text files listed by the manifest, a PNG signature alone, a BMP fuzz file that is not a BMP to libmagic)",
    "pnm_not_airlock": "Netpbm (PGM/PPM/PBM) is on vLLM's Pillow allowlist but is not an airlock type",
    "strict_png": "bad CRC or Adler-32, short IDAT rows, missing IEND, bad sBIT: libpng with warnings as errors refuses what Pillow tolerates",
    "strict_gif": "LZW code errors, frames outside the logical screen, junk before the image, zero screen: airlock's GIF decoder refuses, Pillow pads or clips",
    "strict_bmp": "bmpsuite's b/ files (bad sizes, planes, RLE, palette index) and an invalid run length: airlock refuses, Pillow decodes garbage",
    "bmp_pillow_unsupported": "BMP variants Pillow does not implement (unusual bit-field layouts, 2-bit palettes, OS/2 v2 16-byte headers, cut RLE, oversized palette): airlock decodes them",
    "pillow_refuses_bad_icc": "a truncated ICC segment (JPEG) or iCCP with compression method 1 (PNG): Pillow refuses the file, airlock ignores the profile (icc is off by default, as in Pillow)",
    "grey16_clamp": "16-bit grey: Pillow's I;16 -> RGB clamps each value at 255 instead of scaling, so vLLM's stock images are nearly white; airlock scales 16 to 8 bits",
    "trns_low_bit": "1/2/4-bit grey with tRNS: Pillow compares the tRNS key with the scaled 8-bit value, so other pixels turn transparent than the PNG says",
    "rgb16_trns": "16-bit RGB with tRNS: Pillow matches the key after reducing to 8 bits (more pixels transparent); airlock matches at 16 bits as the PNG spec says",
    "gif_palette_index": "pixel indices past the colour table: Pillow reads a padded palette, airlock's decoder gives them its defined colour",
    "orient_raw_profile": "EXIF orientation 6 carried in a PNG 'Raw profile type exif' text chunk: airlock applies it, Pillow's exif_transpose does not see it",
    "orient_xmp": "orientation only in the WebP's XMP: Pillow's exif_transpose applies XMP tiff:Orientation, airlock applies EXIF only",
    "both": "both refuse",
    "rate_channels_range": "sample rate or channel count outside airlock's limits (4 Hz, 655350 Hz, NaN/inf rates, 64 channels): libsndfile accepts them",
    "airlock_codec_unsupported": "IMA/MS ADPCM, float64, chained Vorbis, FLAC without STREAMINFO: not decoded by airlock by default (allow_extra_codecs), libsndfile decodes them",
    "strict_audio": "lying or inconsistent headers (two COMM chunks, wrong FLAC bit depth, mid-stream rate change, NaN/inf float samples): airlock refuses",
    "stock_limit_or_seek": "the header claims a huge length: vLLM's stock loader rejects on the claim (600 s) or libsndfile's seek fails; airlock decodes what is really there",
    "header_lies": "the header's length (FLAC total samples, Xing/Info frames, Ogg granule) is not what the stream holds: libsndfile stops at the claim, airlock decodes every frame (invariant 3)",
}

# path -> (kind, class, detail). kind: airlock_rejects (detail: airlock's code), stock_rejects
# (detail: the stock exception's type), both_reject (airlock's code), pixels ([max |diff|,
# differing values]), shape ([stock shape, airlock shape]); audio: length ([stock, airlock frames]).
# Files not listed are equal. TIFF files are a class of their own (_is_tiff).
IMAGE_EXPECT: dict[str, tuple[str, str, Any]] = {
    "corpus/hostile/bmp_palette_300_entries.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "corpus/hostile/bmp_rle4_odd_absolute.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "corpus/hostile/bmp_rle8_delta_chain.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "corpus/hostile/bmp_rle8_early_eol.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "corpus/hostile/bmp_rle8_eob_2048x2048.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "corpus/hostile/bmp_v3_rgb10.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "corpus/images/adam7_grey16_9x5.png": ("pixels", "grey16_clamp", [230.0, 120]),
    "corpus/images/bad_adler32.png": ("airlock_rejects", "strict_png", "malformed"),
    "corpus/images/bad_crc_idat.png": ("airlock_rejects", "strict_png", "malformed"),
    "corpus/images/bad_crc_ihdr.png": ("both_reject", "both", "malformed"),
    "corpus/images/gif/code_size_9.gif": ("airlock_rejects", "strict_gif", "malformed"),
    "corpus/images/gif/early_eoi.gif": ("both_reject", "both", "malformed"),
    "corpus/images/gif/frame_outside_screen.gif": ("airlock_rejects", "strict_gif", "malformed"),
    "corpus/images/gif/frame_zero_width.gif": ("both_reject", "both", "malformed"),
    "corpus/images/gif/gce_short.gif": ("both_reject", "both", "malformed"),
    "corpus/images/gif/index_past_table.gif": ("pixels", "gif_palette_index", [231.0, 90]),
    "corpus/images/gif/junk_before_image.gif": ("airlock_rejects", "strict_gif", "malformed"),
    "corpus/images/gif/no_image.gif": ("both_reject", "both", "malformed"),
    "corpus/images/gif/screen_too_large.gif": ("both_reject", "both", "too_large"),
    "corpus/images/gif/screen_zero.gif": ("airlock_rejects", "strict_gif", "malformed"),
    "corpus/images/gif/truncated_pixels.gif": ("both_reject", "both", "malformed"),
    "corpus/images/grey16.png": ("pixels", "grey16_clamp", [248.0, 216]),
    "corpus/images/grey16_trns.png": ("pixels", "grey16_clamp", [241.0, 267]),
    "corpus/images/grey2_trns.png": ("pixels", "trns_low_bit", [85.0, 75]),
    "corpus/images/grey4_trns.png": ("pixels", "trns_low_bit", [102.0, 21]),
    "corpus/images/icc/jpeg_rgb_icc_short_segment.jpg": ("stock_rejects", "pillow_refuses_bad_icc", "ValueError"),
    "corpus/images/icc/png_grey16_lingrey.png": ("pixels", "grey16_clamp", [254.0, 552]),
    "corpus/images/icc/png_raw_profile_exif_orientation6.png": (
        "shape",
        "orient_raw_profile",
        [[24, 16, 3], [16, 24, 3]],
    ),
    "corpus/images/icc/png_rgb8_iccp_method1.png": ("stock_rejects", "pillow_refuses_bad_icc", "ValueError"),
    "corpus/images/idat_short_rows.png": ("airlock_rejects", "strict_png", "malformed"),
    "corpus/images/ihdr_width0.png": ("both_reject", "both", "malformed"),
    "corpus/images/jpeg_header_only.jpg": ("both_reject", "both", "malformed"),
    "corpus/images/jpeg_sof_65500x65500.jpg": ("both_reject", "both", "too_large"),
    "corpus/images/jpeg_truncated_scan.jpg": ("both_reject", "both", "malformed"),
    "corpus/images/missing_iend.png": ("airlock_rejects", "strict_png", "malformed"),
    "corpus/images/plte_length_lie.png": ("both_reject", "both", "malformed"),
    "corpus/images/rgb16_trns.png": ("pixels", "rgb16_trns", [245.0, 9]),
    "corpus/images/signature_only.png": ("both_reject", "both", "type"),
    "corpus/images/too_large_20000x20000.png": ("both_reject", "both", "too_large"),
    "corpus/images/trns_length_lie.png": ("both_reject", "both", "malformed"),
    "corpus/images/truncated_idat.png": ("both_reject", "both", "malformed"),
    "corpus/images/webp/xmp.webp": ("shape", "orient_xmp", [[37, 23, 3], [23, 37, 3]]),
    "shared:bmp-test-files/bmpsuite/b/badbitcount.bmp": ("both_reject", "both", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/badbitssize.bmp": ("airlock_rejects", "strict_bmp", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/baddens1.bmp": ("airlock_rejects", "strict_bmp", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/baddens2.bmp": ("airlock_rejects", "strict_bmp", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/badfilesize.bmp": ("airlock_rejects", "strict_bmp", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/badheadersize.bmp": ("both_reject", "both", "type"),
    "shared:bmp-test-files/bmpsuite/b/badpalettesize.bmp": ("both_reject", "both", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/badplanes.bmp": ("airlock_rejects", "strict_bmp", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/badrle.bmp": ("airlock_rejects", "strict_bmp", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/badrle4.bmp": ("airlock_rejects", "strict_bmp", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/badrle4bis.bmp": ("airlock_rejects", "strict_bmp", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/badrle4ter.bmp": ("airlock_rejects", "strict_bmp", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/badrlebis.bmp": ("airlock_rejects", "strict_bmp", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/badrleter.bmp": ("airlock_rejects", "strict_bmp", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/badwidth.bmp": ("both_reject", "both", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/pal8badindex.bmp": ("airlock_rejects", "strict_bmp", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/reallybig.bmp": ("both_reject", "both", "too_large"),
    "shared:bmp-test-files/bmpsuite/b/rgb16-880.bmp": ("both_reject", "both", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/rletopdown.bmp": ("airlock_rejects", "strict_bmp", "malformed"),
    "shared:bmp-test-files/bmpsuite/b/shortfile.bmp": ("both_reject", "both", "malformed"),
    "shared:bmp-test-files/bmpsuite/g/rgb32bf.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/pal1huffmsb.bmp": ("both_reject", "both", "unsupported"),
    "shared:bmp-test-files/bmpsuite/q/pal2.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/pal2color.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/pal4rlecut.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/pal8os2v2-16.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/pal8oversizepal.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/pal8rlecut.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/rgb16-231.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/rgb16-3103.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/rgb24jpeg.bmp": ("both_reject", "both", "unsupported"),
    "shared:bmp-test-files/bmpsuite/q/rgb24png.bmp": ("both_reject", "both", "unsupported"),
    "shared:bmp-test-files/bmpsuite/q/rgb24rle24.bmp": ("both_reject", "both", "unsupported"),
    "shared:bmp-test-files/bmpsuite/q/rgb32-111110.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/rgb32-7187.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/rgba16-1924.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/rgba16-4444.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/rgba32-1010102.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/rgba32-61754.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/rgba32-81284.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/rgba32abf.bmp": ("stock_rejects", "bmp_pillow_unsupported", "ValueError"),
    "shared:bmp-test-files/bmpsuite/q/rgba64.bmp": ("both_reject", "both", "unsupported"),
    "shared:bmp-test-files/bmpsuite/x/ba-bm.bmp": ("both_reject", "both", "unsupported"),
    "shared:bmp-test-files/image-rs-image/bad/Bad_clrsUsed.bmp": ("both_reject", "both", "malformed"),
    "shared:bmp-test-files/image-rs-image/bad/Bad_height.bmp": ("both_reject", "both", "too_large"),
    "shared:bmp-test-files/image-rs-image/bad/Bad_unusual_extend_buffer_usage.bmp": (
        "both_reject",
        "both",
        "malformed",
    ),
    "shared:bmp-test-files/image-rs-image/bad/Bad_width.bmp": ("both_reject", "both", "too_large"),
    "shared:bmp-test-files/image-rs-image/images/V3_A4_R4_G4_B4.bmp": (
        "stock_rejects",
        "bmp_pillow_unsupported",
        "ValueError",
    ),
    "shared:bmp-test-files/image-rs-image/images/V3_A4_R4_G4_B4_Top_Down.bmp": (
        "stock_rejects",
        "bmp_pillow_unsupported",
        "ValueError",
    ),
    "shared:bmp-test-files/image-rs-image/images/V3_X4_R4_G4_B4.bmp": (
        "stock_rejects",
        "bmp_pillow_unsupported",
        "ValueError",
    ),
    "shared:bmp-test-files/image-rs-image/images/V3_X4_R4_G4_B4_Top_Down.bmp": (
        "stock_rejects",
        "bmp_pillow_unsupported",
        "ValueError",
    ),
    "shared:bmp-test-files/image-rs-image/images/imagemagick_invalid_run_length_issue_2321.bmp": (
        "airlock_rejects",
        "strict_bmp",
        "malformed",
    ),
    "shared:bmp-test-files/image-rs-image/images/lenient/rle_overflow.bmp": ("both_reject", "both", "malformed"),
    "shared:bmp-test-files/image-rs-image/images/rgba16-1924.bmp": (
        "stock_rejects",
        "bmp_pillow_unsupported",
        "ValueError",
    ),
    "shared:bmp-test-files/serenity/oss-fuzz-testcase-62541.bmp": ("airlock_rejects", "not_an_allowed_type", "type"),
    "shared:gif-test-files/image-gif/crashtest/issue-117-out-of-range.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/image-gif/crashtest/issue-96-small-codesize-2.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/image-gif/crashtest/issue-96-small-codesize.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/image-gif/stall/issue-101-infinite-empty-loop.gif": ("both_reject", "both", "too_large"),
    "shared:gif-test-files/image-rs-image/images/anim/oob.gif": ("airlock_rejects", "strict_gif", "malformed"),
    "shared:gif-test-files/image-rs-image/images/simple/issue_1455_oversized.gif": (
        "airlock_rejects",
        "strict_gif",
        "malformed",
    ),
    "shared:gif-test-files/image-rs-image/regression/zero-loop-count.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/peterdn-gif-test-suite/gifs/animated_transparent_loop_frames_out_of_bounds.gif": (
        "airlock_rejects",
        "strict_gif",
        "malformed",
    ),
    "shared:gif-test-files/pygif-test-suite/image-outside-bg.gif": ("airlock_rejects", "strict_gif", "malformed"),
    "shared:gif-test-files/pygif-test-suite/image-overlap-bg.gif": ("airlock_rejects", "strict_gif", "malformed"),
    "shared:gif-test-files/pygif-test-suite/image-zero-height.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/pygif-test-suite/image-zero-size.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/pygif-test-suite/image-zero-width.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/pygif-test-suite/invalid-code.gif": ("airlock_rejects", "strict_gif", "malformed"),
    "shared:gif-test-files/pygif-test-suite/invalid-colors.gif": ("pixels", "gif_palette_index", [2.0, 3]),
    "shared:gif-test-files/pygif-test-suite/max-codes.gif": ("airlock_rejects", "strict_gif", "malformed"),
    "shared:gif-test-files/pygif-test-suite/max-size.gif": ("both_reject", "both", "too_large"),
    "shared:gif-test-files/pygif-test-suite/no-data.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/pygif-test-suite/overflow-codes-max.gif": ("airlock_rejects", "strict_gif", "malformed"),
    "shared:gif-test-files/pygif-test-suite/overflow-codes.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/pygif-test-suite/zero-height.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/pygif-test-suite/zero-size.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/pygif-test-suite/zero-width.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/wuffs/artificial-gif/frame-out-of-bounds.gif": (
        "airlock_rejects",
        "strict_gif",
        "malformed",
    ),
    "shared:gif-test-files/wuffs/artificial-gif/no-frames.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/wuffs/artificial-gif/pixel-data-none.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/wuffs/artificial-gif/pixel-data-not-enough.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/wuffs/artificial-gif/zero-width-frame.gif": ("both_reject", "both", "malformed"),
    "shared:gif-test-files/wuffs/hippopotamus.interlaced.truncated.gif": ("both_reject", "both", "malformed"),
    "shared:libjpeg-turbo-seeds/libjpeg-turbo-testimages/testimages/monkey12.jpg": (
        "both_reject",
        "both",
        "unsupported",
    ),
    "shared:pngsuite-full/tests/pngsuite/basi0g16.png": ("pixels", "grey16_clamp", [255.0, 3048]),
    "shared:pngsuite-full/tests/pngsuite/basn0g16.png": ("pixels", "grey16_clamp", [255.0, 3048]),
    "shared:pngsuite-full/tests/pngsuite/g03n0g16.png": ("pixels", "grey16_clamp", [178.0, 2136]),
    "shared:pngsuite-full/tests/pngsuite/g04n0g16.png": ("pixels", "grey16_clamp", [201.0, 2139]),
    "shared:pngsuite-full/tests/pngsuite/g05n0g16.png": ("pixels", "grey16_clamp", [216.0, 2142]),
    "shared:pngsuite-full/tests/pngsuite/g07n0g16.png": ("pixels", "grey16_clamp", [232.0, 2148]),
    "shared:pngsuite-full/tests/pngsuite/g10n0g16.png": ("pixels", "grey16_clamp", [247.0, 2136]),
    "shared:pngsuite-full/tests/pngsuite/g25n0g16.png": ("pixels", "grey16_clamp", [254.0, 2037]),
    "shared:pngsuite-full/tests/pngsuite/oi1n0g16.png": ("pixels", "grey16_clamp", [255.0, 3048]),
    "shared:pngsuite-full/tests/pngsuite/oi2n0g16.png": ("pixels", "grey16_clamp", [255.0, 3048]),
    "shared:pngsuite-full/tests/pngsuite/oi4n0g16.png": ("pixels", "grey16_clamp", [255.0, 3048]),
    "shared:pngsuite-full/tests/pngsuite/oi9n0g16.png": ("pixels", "grey16_clamp", [255.0, 3048]),
    "shared:pngsuite-full/tests/pngsuite/tbwn0g16.png": ("pixels", "grey16_clamp", [248.0, 1713]),
    "shared:pngsuite-full/tests/pngsuite/xc1n0g08.png": ("both_reject", "both", "malformed"),
    "shared:pngsuite-full/tests/pngsuite/xc9n2c08.png": ("both_reject", "both", "malformed"),
    "shared:pngsuite-full/tests/pngsuite/xcrn0g04.png": ("both_reject", "both", "type"),
    "shared:pngsuite-full/tests/pngsuite/xcsn0g01.png": ("airlock_rejects", "strict_png", "malformed"),
    "shared:pngsuite-full/tests/pngsuite/xd0n2c08.png": ("both_reject", "both", "malformed"),
    "shared:pngsuite-full/tests/pngsuite/xd3n2c08.png": ("both_reject", "both", "malformed"),
    "shared:pngsuite-full/tests/pngsuite/xd9n2c08.png": ("both_reject", "both", "malformed"),
    "shared:pngsuite-full/tests/pngsuite/xdtn0g01.png": ("both_reject", "both", "malformed"),
    "shared:pngsuite-full/tests/pngsuite/xhdn0g08.png": ("both_reject", "both", "malformed"),
    "shared:pngsuite-full/tests/pngsuite/xlfn0g04.png": ("both_reject", "both", "type"),
    "shared:pngsuite-full/tests/pngsuite/xs1n0g01.png": ("both_reject", "both", "type"),
    "shared:pngsuite-full/tests/pngsuite/xs2n0g01.png": ("both_reject", "both", "type"),
    "shared:pngsuite-full/tests/pngsuite/xs4n0g01.png": ("both_reject", "both", "type"),
    "shared:pngsuite-full/tests/pngsuite/xs7n0g01.png": ("both_reject", "both", "type"),
    "shared:tiff-test-files/SOURCE.txt": ("both_reject", "both", "type"),
    "shared:tiff-test-files/image-rs-image/LICENSE-MIT": ("both_reject", "not_an_allowed_type", "type"),
    "shared:tiff-test-files/image-tiff/COPYRIGHT": ("both_reject", "not_an_allowed_type", "type"),
    "shared:tiff-test-files/image-tiff/LICENSE": ("both_reject", "not_an_allowed_type", "type"),
    "shared:tiff-test-files/image-tiff/images/COPYRIGHT": ("both_reject", "not_an_allowed_type", "type"),
    "shared:tiff-test-files/image-tiff/images/README.txt": ("both_reject", "both", "type"),
    "shared:tiff-test-files/image-tiff/images/random-fp16.pgm": ("airlock_rejects", "pnm_not_airlock", "unsupported"),
    "shared:tiff-test-files/libtiff-pics/COPYRIGHT-image-tiff": ("both_reject", "not_an_allowed_type", "type"),
    "shared:tiff-test-files/libtiff-pics/README": ("both_reject", "not_an_allowed_type", "type"),
    "shared:tiff-test-files/libtiff-pics/depth/README.txt": ("both_reject", "both", "type"),
    "shared:tiff-test-files/libtiff-pics/depth/summary.txt": ("both_reject", "both", "type"),
    "shared:tiff-test-files/libtiff-pics/g3test.g3": ("both_reject", "both", "type"),
    "shared:tiff-test-files/libtiff/LICENSE.md": ("both_reject", "both", "type"),
    "shared:tiff-test-files/libtiff/test-images/README.txt": ("both_reject", "both", "type"),
    "shared:tiff-test-files/libtiff/test-images/minisblack-1c-8b.pgm": (
        "airlock_rejects",
        "pnm_not_airlock",
        "unsupported",
    ),
    "shared:tiff-test-files/libtiff/test-images/miniswhite-1c-1b.g3": ("both_reject", "both", "type"),
    "shared:tiff-test-files/libtiff/test-images/miniswhite-1c-1b.pbm": (
        "airlock_rejects",
        "pnm_not_airlock",
        "unsupported",
    ),
    "shared:tiff-test-files/libtiff/test-images/rgb-3c-16b.ppm": ("airlock_rejects", "pnm_not_airlock", "unsupported"),
    "shared:tiff-test-files/libtiff/test-images/rgb-3c-8b.ppm": ("airlock_rejects", "pnm_not_airlock", "unsupported"),
    "shared:tiff-test-files/serenity/LICENSE": ("both_reject", "not_an_allowed_type", "type"),
}
AUDIO_EXPECT: dict[str, tuple[str, str, Any]] = {
    "corpus/audio/aifc_comm21.aifc": ("airlock_rejects", "strict_audio", "malformed"),
    "corpus/audio/aifc_ima4_8k.aifc": ("airlock_rejects", "airlock_codec_unsupported", "unsupported"),
    "corpus/audio/aifc_oob.aifc": ("both_reject", "both", "malformed"),
    "corpus/audio/aifc_two_comm.aifc": ("airlock_rejects", "strict_audio", "malformed"),
    "corpus/audio/aiff_form_ima4.aiff": ("airlock_rejects", "strict_audio", "malformed"),
    "corpus/audio/aiff_rate_inf.aiff": ("airlock_rejects", "rate_channels_range", "out_of_range"),
    "corpus/audio/aiff_rate_nan.aiff": ("airlock_rejects", "rate_channels_range", "out_of_range"),
    "corpus/audio/flac_cut_in_frame.flac": ("both_reject", "both", "malformed"),
    "corpus/audio/flac_rate_655350.flac": ("airlock_rejects", "rate_channels_range", "out_of_range"),
    "corpus/audio/flac_rate_change.flac": ("airlock_rejects", "strict_audio", "malformed"),
    "corpus/audio/flac_total_samples_huge.flac": ("stock_rejects", "stock_limit_or_seek", "ValueError"),
    "corpus/audio/len_flac_total_1000.flac": ("length", "header_lies", [1000, 16000]),
    "corpus/audio/len_flac_total_10x.flac": ("stock_rejects", "stock_limit_or_seek", "LibsndfileError"),
    "corpus/audio/len_mp3_first_frame_320.mp3": ("length", "header_lies", [58752, 577152]),
    "corpus/audio/len_mp3_info_tenth.mp3": ("length", "header_lies", [3072, 49536]),
    "corpus/audio/len_mp3_vbr_pipe.mp3": ("length", "header_lies", [27504, 49536]),
    "corpus/audio/len_mp3_xing_tenth.mp3": ("length", "header_lies", [3072, 49536]),
    "corpus/audio/len_opus_granule_1000.opus": ("length", "header_lies", [688, 96648]),
    "corpus/audio/len_vorbis_granule_1000.ogg": ("length", "header_lies", [1000, 47616]),
    "corpus/audio/len_wav_empty_data_first.wav": ("both_reject", "both", "malformed"),
    "corpus/audio/mp3_cut.mp3": ("length", "header_lies", [15023, 16128]),
    "corpus/audio/mp3_id3v2_then_junk.mp3": ("both_reject", "both", "type"),
    "corpus/audio/opus_granule_2e62.opus": ("stock_rejects", "stock_limit_or_seek", "ValueError"),
    "corpus/audio/vorbis_chained.ogg": ("airlock_rejects", "airlock_codec_unsupported", "unsupported"),
    "corpus/audio/wav_64_channels.wav": ("airlock_rejects", "rate_channels_range", "out_of_range"),
    "corpus/audio/wav_f32_inf.wav": ("airlock_rejects", "strict_audio", "malformed"),
    "corpus/audio/wav_f32_nan.wav": ("airlock_rejects", "strict_audio", "malformed"),
    "corpus/audio/wav_f64_8k.wav": ("airlock_rejects", "airlock_codec_unsupported", "unsupported"),
    "corpus/audio/wav_fact0_align0.wav": ("both_reject", "both", "malformed"),
    "corpus/audio/wav_gsm_8k.wav": ("both_reject", "both", "unsupported"),
    "corpus/audio/wav_ima_adpcm_8k.wav": ("airlock_rejects", "airlock_codec_unsupported", "unsupported"),
    "corpus/audio/wav_ima_adpcm_align_0.wav": ("both_reject", "both", "unsupported"),
    "corpus/audio/wav_ms_adpcm_8k.wav": ("airlock_rejects", "airlock_codec_unsupported", "unsupported"),
    "corpus/audio/wav_rate_4hz.wav": ("airlock_rejects", "rate_channels_range", "out_of_range"),
    "shared:flac-test-files/faulty/03 - wrong bit depth.flac": ("airlock_rejects", "strict_audio", "malformed"),
    "shared:flac-test-files/faulty/04 - wrong number of channels.flac": ("both_reject", "both", "malformed"),
    "shared:flac-test-files/faulty/05 - wrong total number of samples.flac": ("length", "header_lies", [39842, 109487]),
    "shared:flac-test-files/faulty/06 - missing streaminfo metadata block.flac": ("both_reject", "both", "malformed"),
    "shared:flac-test-files/faulty/07 - other metadata blocks preceding streaminfo metadata block.flac": (
        "airlock_rejects",
        "strict_audio",
        "malformed",
    ),
    "shared:flac-test-files/faulty/08 - blocksize 65536.flac": ("both_reject", "both", "malformed"),
    "shared:flac-test-files/faulty/11 - incorrect metadata block length.flac": ("both_reject", "both", "malformed"),
    "shared:flac-test-files/subset/22 - 12 bit per sample.flac": ("both_reject", "both", "unsupported"),
    "shared:flac-test-files/subset/45 - no total number of samples set.flac": (
        "stock_rejects",
        "stock_limit_or_seek",
        "ValueError",
    ),
    "shared:flac-test-files/subset/62 - predictor overflow check, 20-bit.flac": ("both_reject", "both", "unsupported"),
    "shared:flac-test-files/uncommon/01 - changing samplerate.flac": ("both_reject", "both", "malformed"),
    "shared:flac-test-files/uncommon/02 - increasing number of channels.flac": ("both_reject", "both", "malformed"),
    "shared:flac-test-files/uncommon/03 - decreasing number of channels.flac": ("both_reject", "both", "malformed"),
    "shared:flac-test-files/uncommon/04 - changing bitdepth.flac": ("both_reject", "both", "malformed"),
    "shared:flac-test-files/uncommon/07 - 15 bit per sample.flac": ("both_reject", "both", "unsupported"),
    "shared:flac-test-files/uncommon/10 - file starting at frame header.flac": (
        "airlock_rejects",
        "airlock_codec_unsupported",
        "unsupported",
    ),
    "shared:flac-test-files/uncommon/11 - file starting with unparsable data.flac": ("both_reject", "both", "type"),
    "shared:hound-wav/testsamples/fuzz/crash-24728523ef4be15c838293b676f6853e73723bf4.wav": (
        "both_reject",
        "both",
        "malformed",
    ),
    "shared:hound-wav/testsamples/fuzz/crash-b8447179832529c48f9c6bf17feab6337bbc78ea.wav": (
        "both_reject",
        "both",
        "malformed",
    ),
    "shared:hound-wav/testsamples/fuzz/crash-cbd757427cea12bd8a21f86cd8cf74d98ce56bee.wav": (
        "both_reject",
        "both",
        "malformed",
    ),
    "shared:hound-wav/testsamples/fuzz/crash-e5471f5b58397287b509db7d026e95f1724454f5.wav": (
        "both_reject",
        "both",
        "malformed",
    ),
    "shared:hound-wav/testsamples/fuzz/crash-e879de4eb4d206c59e21f0e01def16457af80fdc.wav": (
        "both_reject",
        "both",
        "malformed",
    ),
    "shared:hound-wav/testsamples/fuzz/oom-48ae4cd061ff8578ad3f23dc87624bd365cf5216.wav": (
        "both_reject",
        "both",
        "malformed",
    ),
}


def _is_tiff(data: bytes) -> bool:
    return data[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")


def _data_url(data: bytes, mime: str = "application/octet-stream") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def _read(rel: str) -> bytes:
    p = airtest.resolve(rel)
    if p is None:
        pytest.fail(f"{rel}: missing (the public corpus is ../shared/corpus-public, present in CI)")
    return p.read_bytes()


def _airlock_code(e: BaseException, kind: str) -> str:
    """The code named by the connector's ValueError, after checking its form and cause."""
    assert isinstance(e, ValueError), repr(e)
    prefix = f"Failed to load {kind}: airlock "
    assert str(e).startswith(prefix), str(e)
    assert isinstance(e.__cause__, airlock.Rejected), repr(e.__cause__)
    code = str(e)[len(prefix) :].split(":", 1)[0]
    assert code == e.__cause__.name
    return code


def _try(fn: Any, *args: Any, **kw: Any) -> tuple[Any, BaseException | None]:
    try:
        return fn(*args, **kw), None
    except Exception as e:  # every outcome is compared, the exception types included
        return None, e


def _assert_same_image(a: Any, b: Any) -> None:
    from vllm.multimodal.media import MediaWithBytes

    assert type(a) is MediaWithBytes and type(b) is MediaWithBytes
    assert (a.mode, a.size) == (b.mode, b.size)
    assert np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("rel", IMAGE_FILES)
def test_image(rel: str, stock: Any, airlock_conn: Any) -> None:
    data = _read(rel)
    url = _data_url(data)
    s, s_err = _try(stock.fetch_image, url)
    a, a_err = _try(airlock_conn.fetch_image, url)
    if _is_tiff(data):
        assert rel not in IMAGE_EXPECT
        assert a_err is not None and _airlock_code(a_err, "image") == "type", REASONS["tiff"]
        return
    kind, cls, detail = IMAGE_EXPECT.get(rel, ("equal", "", None))
    why = f"{kind} expected ({REASONS.get(cls, '')})"
    if kind == "equal":
        assert s_err is None, f"stock: {s_err!r}"
        assert a_err is None, f"airlock: {a_err!r}"
        _assert_same_image(s, a)
    elif kind == "airlock_rejects":
        assert s_err is None, f"{why}; stock: {s_err!r}"
        assert a_err is not None, why
        assert _airlock_code(a_err, "image") == detail, why
    elif kind == "stock_rejects":
        assert s_err is not None and type(s_err).__name__ == detail, f"{why}; stock: {s_err!r}"
        assert a_err is None, f"{why}; airlock: {a_err!r}"
    elif kind == "both_reject":
        assert s_err is not None, why
        assert a_err is not None and _airlock_code(a_err, "image") == detail, f"{why}; airlock: {a_err!r}"
    elif kind == "pixels":
        assert s_err is None and a_err is None, why
        assert (s.mode, s.size) == (a.mode, a.size)
        diff = np.abs(np.asarray(s).astype(np.int16) - np.asarray(a).astype(np.int16))
        assert [float(diff.max()), int(np.count_nonzero(diff))] == detail, why
    elif kind == "shape":
        assert s_err is None and a_err is None, why
        got = [list(np.asarray(s).shape), list(np.asarray(a).shape)]
        assert got == detail, why
        # The same picture, turned: the height and width swapped.
        assert got[0][:2] == got[1][1::-1]
    else:
        pytest.fail(f"unknown expectation {kind}")


@pytest.mark.parametrize("rel", AUDIO_FILES)
def test_audio(rel: str, stock: Any, airlock_conn: Any) -> None:
    url = _data_url(_read(rel))
    s, s_err = _try(stock.fetch_audio, url)
    a, a_err = _try(airlock_conn.fetch_audio, url)
    kind, cls, detail = AUDIO_EXPECT.get(rel, ("equal", "", None))
    why = f"{kind} expected ({REASONS.get(cls, '')})"
    if kind in ("equal", "length"):
        assert s_err is None, f"stock: {s_err!r}"
        assert a_err is None, f"airlock: {a_err!r}"
        (sy, ssr), (ay, asr) = s, a
        assert ay.dtype == np.float32 and ay.ndim == 1 and sy.ndim == 1
        assert isinstance(asr, int) and asr == ssr
        if kind == "length":
            assert [len(sy), len(ay)] == detail, why
            if rel.endswith(".mp3"):
                # libsndfile also drops the LAME encoder delay at the start (gapless), airlock
                # does not: the samples are offset, so only the two lengths are the difference.
                return
            n = min(len(sy), len(ay))
            sy, ay = sy[:n], ay[:n]
        else:
            assert len(sy) == len(ay)
        np.testing.assert_allclose(ay, sy, rtol=0, atol=AUDIO_ATOL)
    elif kind == "airlock_rejects":
        assert s_err is None, f"{why}; stock: {s_err!r}"
        assert a_err is not None and _airlock_code(a_err, "audio") == detail, f"{why}; airlock: {a_err!r}"
    elif kind == "stock_rejects":
        assert s_err is not None and type(s_err).__name__ == detail, f"{why}; stock: {s_err!r}"
        assert a_err is None, f"{why}; airlock: {a_err!r}"
    elif kind == "both_reject":
        assert s_err is not None, why
        assert a_err is not None and _airlock_code(a_err, "audio") == detail, f"{why}; airlock: {a_err!r}"
    else:
        pytest.fail(f"unknown expectation {kind}")


def test_expectations_name_real_files() -> None:
    """Every file an expectation names is one the tests run, and every class has its reason."""
    assert set(IMAGE_EXPECT) <= set(IMAGE_FILES)
    assert set(AUDIO_EXPECT) <= set(AUDIO_FILES)
    assert {c for _, c, _ in [*IMAGE_EXPECT.values(), *AUDIO_EXPECT.values()]} <= set(REASONS)
    assert len(IMAGE_FILES) > 1500 and len(AUDIO_FILES) > 150


# ---------------------------------------------------------------------------------------------
# file: URLs, async, image_mode, rgba_background_color

SAMPLE_IMAGES = ["corpus/images/rgba8.png", "corpus/images/jpeg_420.jpg", "corpus/images/grey8.png"]
SAMPLE_AUDIO = [
    "corpus/audio/wav_s16_stereo_8k.wav",
    "corpus/audio/flac_s16_stereo_48k.flac",
    "corpus/audio/mp3_mono_16k.mp3",
]


def _connectors(**kw: Any) -> tuple[Any, Any]:
    from vllm.multimodal.media import MEDIA_CONNECTOR_REGISTRY, MediaConnector

    return MediaConnector(**kw), MEDIA_CONNECTOR_REGISTRY.load("airlock", **kw)


def _existing(rels: list[str]) -> list[str]:
    return [r for r in rels if (airtest.ROOT / r).is_file()]


@pytest.mark.parametrize("rel", _existing(SAMPLE_IMAGES))
def test_image_file_url_and_async(rel: str, repo: Path) -> None:
    st, al = _connectors(allowed_local_media_path=str(repo / "corpus"))
    url = (repo / rel).as_uri()
    _assert_same_image(st.fetch_image(url), al.fetch_image(url))
    s2, a2 = asyncio.run(_both_async(st.fetch_image_async, al.fetch_image_async, url))
    _assert_same_image(s2, a2)
    # Outside the allowed directory: vLLM's own check, before any decode, in both.
    for conn in (st, al):
        with pytest.raises(ValueError):
            conn.fetch_image((repo / "README.md").as_uri())


async def _both_async(f: Any, g: Any, url: str) -> tuple[Any, Any]:
    return await f(url), await g(url)


@pytest.mark.parametrize("rel", _existing(SAMPLE_AUDIO))
def test_audio_file_url_and_async(rel: str, repo: Path) -> None:
    st, al = _connectors(allowed_local_media_path=str(repo / "corpus"))
    url = (repo / rel).as_uri()
    for (sy, ssr), (ay, asr) in [
        (st.fetch_audio(url), al.fetch_audio(url)),
        asyncio.run(_both_async(st.fetch_audio_async, al.fetch_audio_async, url)),
    ]:
        assert asr == ssr and ay.dtype == np.float32 and ay.shape == sy.shape
        np.testing.assert_allclose(ay, sy, rtol=0, atol=AUDIO_ATOL)


@pytest.mark.parametrize("mode", [None, "RGBA", "L"])
def test_image_mode(mode: str | None, repo: Path) -> None:
    """media_io_kwargs image_mode: None keeps the decoded mode (RGBA for a PNG with alpha, as
    Pillow opens it), other modes through vLLM's own convert_image_mode."""
    st, al = _connectors(media_io_kwargs={"image": {"image_mode": mode}})
    url = _data_url((repo / "corpus/images/rgba8.png").read_bytes())
    s, a = st.fetch_image(url), al.fetch_image(url)
    assert s.mode == ("RGBA" if mode is None else mode)
    _assert_same_image(s, a)


@pytest.mark.parametrize("bg", [(0, 0, 0), (255, 0, 128), [10, 200, 30]])
def test_rgba_background_color(bg: Any, repo: Path) -> None:
    st, al = _connectors(media_io_kwargs={"image": {"rgba_background_color": bg}})
    url = _data_url((repo / "corpus/images/rgba8.png").read_bytes())
    s, a = st.fetch_image(url), al.fetch_image(url)
    _assert_same_image(s, a)
    white = _connectors()[1].fetch_image(url)
    assert not np.array_equal(np.asarray(a), np.asarray(white)), "the background reached airlock's image"


# ---------------------------------------------------------------------------------------------
# vLLM's limits reaching airlock


def _rejected(fn: Any, url: str, kind: str, code: str, limit: str) -> None:
    with pytest.raises(ValueError) as info:
        fn(url)
    assert _airlock_code(info.value, kind) == code
    assert info.value.__cause__.limit == limit


def test_max_image_pixels(vllm_env: pytest.MonkeyPatch, repo: Path, airlock_conn: Any) -> None:
    data = (repo / "corpus/images/rgba8.png").read_bytes()
    w, h = airlock.image(data).width, airlock.image(data).height
    url = _data_url(data)
    vllm_env.setenv("VLLM_MAX_IMAGE_PIXELS", str(w * h))
    airlock_conn.fetch_image(url)
    vllm_env.setenv("VLLM_MAX_IMAGE_PIXELS", str(w * h - 1))
    _rejected(airlock_conn.fetch_image, url, "image", "too_large", "max_pixels")


def test_max_audio_duration(vllm_env: pytest.MonkeyPatch, repo: Path, airlock_conn: Any) -> None:
    url = _data_url((repo / "corpus/audio/flac_mono_8k_2s.flac").read_bytes())
    vllm_env.setenv("VLLM_MAX_AUDIO_DECODE_DURATION_S", "1")
    _rejected(airlock_conn.fetch_audio, url, "audio", "too_long", "max_seconds")


def test_max_audio_decode_bytes(vllm_env: pytest.MonkeyPatch, repo: Path, airlock_conn: Any) -> None:
    url = _data_url((repo / "corpus/audio/flac_mono_8k_2s.flac").read_bytes())  # 16000 frames
    vllm_env.setenv("VLLM_MAX_AUDIO_DECODE_BYTES", str(16000 * 4 - 4))
    _rejected(airlock_conn.fetch_audio, url, "audio", "too_long", "max_decoded_bytes")


def test_max_audio_clip_filesize(vllm_env: pytest.MonkeyPatch, repo: Path) -> None:
    """VLLM_MAX_AUDIO_CLIP_FILESIZE_MB (whole MiB) becomes airlock's max_audio_input_bytes; vLLM's
    own check on the encoded size runs first and is kept: both connectors refuse with vLLM's
    VLLMValidationError (airlock's own limit is not reached through this path)."""
    big = (repo / "corpus/audio/flac_s16_stereo_48k.flac").read_bytes()
    from airlock.vllm import AirlockAudioMediaIO
    from vllm.exceptions import VLLMValidationError
    from vllm.multimodal.media.audio import AudioMediaIO

    vllm_env.setenv("VLLM_MAX_AUDIO_CLIP_FILESIZE_MB", "0")
    for io in (AudioMediaIO(), AirlockAudioMediaIO()):
        with pytest.raises(VLLMValidationError):
            io.load_bytes(big)
