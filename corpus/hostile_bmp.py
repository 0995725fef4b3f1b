# SPDX-License-Identifier: MIT
"""The BMP part of the hostile corpus: gen_hostile.py calls add(c, changes, MARKER, INJECT).

Every file is built here byte by byte. The outcomes are decoders/bmp.c's
rules (see its header comment and corpus/gen_bmp.py, whose reader states the
same rules from the format); where Pillow 9.4 reads a file differently the
row's description says so. corpus/gen_bmp.py also hashes the pixels of the
files that decode (the rows of corpus/images-bmp.tsv that name
corpus/hostile/bmp_*), so these are checked pixel for pixel too.
"""

import struct

from blobs import zip_archive

T = "bmp"


def palette(n):
    """n BGRX entries: distinct, non-grey colours."""
    return b"".join(bytes(((i * 37 + 11) & 255, (i * 91 + 50) & 255, (i * 13 + 200) & 255, 0)) for i in range(n))


def stride(w, bits):
    return (w * bits + 31) // 32 * 4


def info_header(w, h, bits, comp=0, size_image=0, clr_used=0, planes=1, density=2835, hs=40, masks=(),
                cs_type=b"sRGB", profile=(0, 0)):
    """BITMAPINFOHEADER (40) or V4/V5 (108/124), masks at 40.., a V5 profile (offset, size)."""
    out = struct.pack("<IiiHHIIiiII", hs, w, h, planes, bits, comp, size_image, density, density, clr_used, 0)
    if hs > 40:
        m = (list(masks) + [0, 0, 0, 0])[:4]
        out += struct.pack("<4I", *m)
        if hs >= 108:
            out += cs_type[::-1] + bytes(36) + bytes(12)
        if hs == 124:
            out += struct.pack("<IIII", 4, profile[0], profile[1], 0)
        out = out[:hs]
    return out


def bmp(info, pixels, pal=b"", extra=b"", off=None, file_size=None, gap=b"", trailing=b""):
    """BM file header + info header + extra (masks) + palette + gap + pixels + trailing."""
    body_at = 14 + len(info) + len(extra) + len(pal) + len(gap)
    off = body_at if off is None else off
    total = body_at + len(pixels) + len(trailing)
    fs = total if file_size is None else file_size
    return b"BM" + struct.pack("<IHHI", fs, 0, 0, off) + info + extra + pal + gap + pixels + trailing


def rows8(w, h, f):
    """8-bit index rows, padded, bottom row first."""
    s = stride(w, 8)
    return b"".join(bytes(f(x, y) for x in range(w)) + bytes(s - w) for y in range(h))


def rows24(w, h):
    s = stride(w, 24)
    return b"".join(b"".join(bytes(((x * 8) & 255, (y * 16) & 255, (x * y) & 255)) for x in range(w))
                    + bytes(s - 3 * w) for y in range(h))


def rows32(w, h, alpha=True):
    return b"".join(bytes(((x * 8) & 255, (y * 16) & 255, 200, ((x * 40) & 255) if alpha else 0)) for y in range(h)
                    for x in range(w))


def pal8(w, h, n=16, **kw):
    return bmp(info_header(w, h, 8, clr_used=n), rows8(w, h, lambda x, y: (x + y) % n), palette(n), **kw)


def rgb24(w, h, **kw):
    return bmp(info_header(w, h, 24), rows24(w, h), **kw)


def rle8(w, h, stream, n=4, **kw):
    return bmp(info_header(w, h, 8, comp=1, size_image=len(stream), clr_used=n), stream, palette(n), **kw)


def rle4(w, h, stream, n=4):
    return bmp(info_header(w, h, 4, comp=2, size_image=len(stream), clr_used=n), stream, palette(n))


def bitfields(w, h, bits, masks, hs=40, comp=3, px=None):
    if px is None:
        bpp = bits // 8
        px = b"".join((((x * 2654435761 + y * 40503) & 0xFFFFFFFF).to_bytes(4, "little")[:bpp]
                       + bytes((-w * bpp) % 4 if x == w - 1 else 0)) for y in range(h) for x in range(w))
    if hs == 40:
        return bmp(info_header(w, h, bits, comp=comp), px, extra=struct.pack("<%dI" % len(masks), *masks))
    return bmp(info_header(w, h, bits, comp=comp, hs=hs, masks=masks), px)


def ok_files():
    """The files that decode, with (shape, changes, opts): gen_bmp.py hashes their pixels."""
    return OK


OK = {}


def add(c, changes, MARKER, INJECT):
    def ok(name, data, cls, shape, chg=(), opts="-", desc="", cve="-"):
        c.add(name, data, cls, "ok", typ=T, shape=shape, changes=changes(*chg), opts=opts, desc=desc, cve=cve)
        OK[name] = data

    # -- dimension lies
    cls = "dimension_lie"
    big = bmp(info_header(30000, 30000, 24), b"\0" * 46)
    assert len(big) == 100
    c.add("bmp_30000x30000_in_100_bytes.bmp", big, cls, "too_large", "max_pixels", T, cve="CWE-789",
          desc="a header claiming 30000x30000 (9e8 pixels) in a 100-byte file")
    c.row("bmp_30000x30000_in_100_bytes.bmp", cls, "malformed", typ=T, opts="max_pixels=1000000000",
          desc="the same with max_pixels loosened: the pixel array is checked against the file before anything "
          "is allocated")
    c.add("bmp_width_65536.bmp", bmp(info_header(65536, 1, 1, clr_used=2), bytes(8192), palette(2)), cls,
          "too_large", "max_width", T, desc="width one over airlock's default limit")
    c.add("bmp_height_65536_top_down.bmp", bmp(info_header(1, -65536, 1, clr_used=2), bytes(16), palette(2)), cls,
          "too_large", "max_height", T, desc="a top-down height of -65536: its magnitude is over max_height")
    c.add("bmp_pixels_over_limit.bmp", bmp(info_header(16385, 10923, 1, clr_used=2), bytes(64), palette(2)), cls,
          "too_large", "max_pixels", T, desc="16385x10923, one row over max_pixels, over 64 bytes of pixels")
    c.add("bmp_pixels_at_limit_short.bmp", bmp(info_header(16385, 10922, 1, clr_used=2), bytes(64), palette(2)),
          cls, "malformed", typ=T,
          desc="16385x10922, exactly max_pixels, over 64 bytes: passes the limit, refused as short before allocating")
    c.add("bmp_os2_core_65535x65535.bmp",
          b"BM" + struct.pack("<IHHI", 32, 0, 0, 32) + struct.pack("<IHHHH", 12, 65535, 65535, 1, 24) + bytes(6),
          cls, "too_large", "max_pixels", T, desc="an OS/2 1.x core header at its largest, 65535x65535")
    c.add("bmp_width_0.bmp", rgb24(0, 4), cls, "malformed", typ=T, desc="width 0")
    c.add("bmp_height_0.bmp", bmp(info_header(4, 0, 24), bytes(16)), cls, "malformed", typ=T, desc="height 0")
    c.add("bmp_width_negative.bmp", bmp(info_header(-4, 4, 24), bytes(64)), cls, "malformed", typ=T,
          desc="width -4: BMP widths are positive (only heights are signed)")
    c.add("bmp_height_int32_min.bmp", bmp(info_header(4, -2**31, 24), bytes(64)), cls, "malformed", typ=T,
          desc="height INT32_MIN: no top-down height (its magnitude does not fit a positive int32)")
    c.add("bmp_width_2147483647.bmp", bmp(info_header(2**31 - 1, 1, 8, clr_used=2), bytes(16), palette(2)), cls,
          "too_large", "max_width", T, cve="CWE-190", desc="width 2^31-1: the row stride would overflow 32 bits")
    ok("bmp_64x64_rgb24.bmp", rgb24(64, 64), cls, "img:64x64x3", desc="a plain 24-bit 64x64 image")
    c.row("bmp_64x64_rgb24.bmp", cls, "too_large", "max_pixels", T, opts="max_pixels=4095",
          desc="the same over a tightened max_pixels")
    c.row("bmp_64x64_rgb24.bmp", cls, "too_large", "max_width", T, opts="max_width=63",
          desc="the same over a tightened max_width")

    # -- decompression bombs: RLE streams that say little and cover much
    cls = "decompression_bomb"
    ok("bmp_rle8_eob_2048x2048.bmp", rle8(2048, 2048, b"\x00\x01"), cls, "img:2048x2048x3", ["palette_expanded"],
       cve="CWE-409", desc="2048x2048 RLE8 whose stream is one end-of-bitmap: every pixel palette entry 0, bounded "
       "by max_pixels like any other image")
    c.row("bmp_rle8_eob_2048x2048.bmp", cls, "too_large", "max_pixels", T, opts="max_pixels=1000000",
          desc="the same over a tightened max_pixels: refused from the header")
    c.add("bmp_rle8_eob_8192x8192.bmp", rle8(8192, 8192, b"\x00\x01"), cls, "memory", "memory_bytes", T,
          opts="memory_bytes=67108864", cve="CWE-409",
          desc="8192x8192 RLE8 in one end-of-bitmap: 192 MiB of output over a 64 MiB budget, refused before "
          "allocating")
    deltas = b"\x00\x02\x00\xff" * 8 + b"\x00\x02\x00\x07" + b"\x01\x01\x00\x01"
    ok("bmp_rle8_delta_chain.bmp", rle8(256, 2048, deltas), cls, "img:256x2048x3", ["palette_expanded"],
       desc="RLE8: nine deltas jump 2047 rows up to the top row, one pixel, end: 18 bytes for 512K pixels")

    # -- structure
    cls = "structure"
    c.add("bmp_offbits_past_end.bmp", pal8(8, 8, off=100000), cls, "malformed", typ=T,
          desc="bfOffBits 100000 in a file of a few hundred bytes")
    c.add("bmp_offbits_in_header.bmp", rgb24(8, 8, off=20), cls, "malformed", typ=T,
          desc="bfOffBits 20: the pixels would start inside the header")
    c.add("bmp_filesize_lies.bmp", rgb24(8, 8, file_size=1 << 30), cls, "malformed", typ=T,
          desc="bfSize 1 GiB in a 250-byte file: the file says it is cut off")
    ok("bmp_filesize_small.bmp", rgb24(8, 8, file_size=26), cls, "img:8x8x3",
       desc="bfSize 26 (the header's size, as OS/2 writers put it): smaller than the file is harmless")
    c.add("bmp_sizeimage_lies.bmp", bmp(info_header(8, 8, 24, size_image=1 << 30), rows24(8, 8)), cls,
          "malformed", typ=T, desc="biSizeImage 1 GiB over 192 bytes of pixels")
    hdr40 = rgb24(8, 8)
    c.add("bmp_header_size_124_short_file.bmp", hdr40[:14] + struct.pack("<I", 124) + hdr40[18:80], cls,
          "malformed", typ=T, desc="the header says 124 bytes (V5) in an 80-byte file")
    c.add("bmp_header_size_41.bmp", hdr40[:14] + struct.pack("<I", 41) + hdr40[18:], cls, "type",
          desc="header size 41, which no BMP version has: libmagic does not call it BMP")
    c.add("bmp_planes_0.bmp", bmp(info_header(8, 8, 24, planes=0), rows24(8, 8)), cls, "malformed", typ=T,
          desc="biPlanes 0 (must be 1)")
    c.add("bmp_bits_3.bmp", bmp(info_header(8, 8, 3, clr_used=8), bytes(32), palette(8)), cls, "malformed", typ=T,
          desc="3 bits per pixel, which no BMP has")
    c.add("bmp_bits_64.bmp", bmp(info_header(2, 2, 64), bytes(32)), cls, "unsupported", typ=T,
          desc="64-bit (scRGB fixed point): valid, not decoded (Pillow neither)")
    c.add("bmp_compression_7.bmp", bmp(info_header(8, 8, 24, comp=7), rows24(8, 8)), cls, "malformed", typ=T,
          desc="compression 7, which no BMP defines")
    c.add("bmp_cmyk.bmp", bmp(info_header(8, 8, 32, comp=11), bytes(256)), cls, "unsupported", typ=T,
          desc="BI_CMYK (Windows Metafile spooler): valid, not decoded")
    c.add("bmp_rle24_os2.bmp", bmp(struct.pack("<IiiHHI", 64, 8, 8, 1, 24, 4) + bytes(44), b"\x00\x01"), cls,
          "unsupported", typ=T, desc="OS/2 2.x RLE24: valid, not decoded")
    c.add("bmp_huffman_os2.bmp", bmp(struct.pack("<IiiHHI", 64, 8, 8, 1, 1, 3) + bytes(44), bytes(16),
                                     palette(2)), cls, "unsupported", typ=T,
          desc="OS/2 2.x Huffman 1D (compression 3 in a 64-byte header): valid, not decoded")
    c.add("bmp_embedded_png.bmp", bmp(info_header(8, 8, 0, comp=5, hs=124), b"\x89PNG\r\n\x1a\n" + INJECT.encode()),
          cls, "unsupported", typ=T, desc="BI_PNG: an embedded PNG (here text behind its signature) is never parsed")
    c.add("bmp_embedded_jpeg.bmp", bmp(info_header(8, 8, 0, comp=4, hs=124), b"\xff\xd8\xff\xe0" + INJECT.encode()),
          cls, "unsupported", typ=T, desc="BI_JPEG: an embedded JPEG is never parsed")
    short = rgb24(8, 8)
    c.add("bmp_pixels_short.bmp", short[:-25], cls, "malformed", typ=T,
          desc="the pixel array one byte shorter than its last row")
    ok("bmp_no_last_row_padding.bmp", bmp(info_header(7, 3, 24), rows24(7, 3)[:-3]), cls, "img:7x3x3",
       desc="the last row's 3 padding bytes missing: Pillow reads the rows without them, and so does airlock")
    # RLE streams that run off their rows or the image
    c.add("bmp_rle8_run_past_row.bmp", rle8(8, 2, b"\x09\x01\x00\x01"), cls, "malformed", typ=T,
          cve="CVE-2006-0006", desc="RLE8: a run of 9 in a row of 8 (Pillow cuts it to the row)")
    c.add("bmp_rle8_run_after_full_row.bmp", rle8(8, 2, b"\x08\x01\x01\x02\x00\x01"), cls, "malformed", typ=T,
          desc="RLE8: a full row, then a run with no end of line between")
    c.add("bmp_rle8_absolute_past_row.bmp", rle8(8, 2, b"\x06\x01\x00\x04\x01\x02\x03\x00\x00\x01"), cls,
          "malformed", typ=T, desc="RLE8: an absolute run of 4 from x=6 in a row of 8")
    c.add("bmp_rle8_absolute_past_end.bmp", rle8(8, 2, b"\x00\x08\x01\x02"), cls, "malformed", typ=T,
          desc="RLE8: an absolute run of 8 with 2 bytes left in the file")
    c.add("bmp_rle8_delta_past_image.bmp", rle8(8, 4, b"\x00\x02\x00\x05\x01\x01\x00\x01"), cls, "malformed",
          typ=T, desc="RLE8: a delta 5 rows up in a 4-row image")
    c.add("bmp_rle8_delta_past_row.bmp", rle8(8, 4, b"\x00\x02\x09\x00\x00\x01"), cls, "malformed", typ=T,
          desc="RLE8: a delta 9 right in a row of 8")
    c.add("bmp_rle8_rows_past_image.bmp", rle8(4, 1, b"\x04\x01\x00\x00\x04\x01\x00\x01"), cls, "malformed",
          typ=T, desc="RLE8: a second row of pixels in a 1-row image")
    c.add("bmp_rle8_no_end.bmp", rle8(4, 2, b"\x04\x01\x00\x00\x04\x02"), cls, "malformed", typ=T,
          desc="RLE8: the stream stops without end of bitmap")
    c.add("bmp_rle4_run_past_row.bmp", rle4(4, 1, b"\x05\x12\x00\x01"), cls, "malformed", typ=T,
          desc="RLE4: a run of 5 in a row of 4")
    c.add("bmp_rle8_top_down.bmp", bmp(info_header(4, -2, 8, comp=1, clr_used=4), b"\x04\x01\x00\x00\x04\x02\x00\x01",
                                       palette(4)), cls, "malformed", typ=T,
          desc="RLE8 with a negative (top-down) height, which the format forbids (Pillow decodes it)")
    ok("bmp_rle8_early_eol.bmp", rle8(8, 3, b"\x02\x01\x00\x00\x00\x00\x03\x02\x00\x01"), cls, "img:8x3x3",
       ["palette_expanded"], desc="RLE8: ends of line before the rows are full, one at a row's start (a row down, as Microsoft "
       "defines it; Pillow's decoder does nothing there), then end of bitmap: the rest is palette entry 0")
    ok("bmp_rle4_odd_absolute.bmp", rle4(6, 1, b"\x00\x05\x12\x30\x00\x00\x00\x01"), cls, "img:6x1x3",
       ["palette_expanded"], desc="RLE4: an absolute run of 5 nibbles, word-padded (Pillow 9.4 drops its last byte)")
    # bit fields
    c.add("bmp_masks_overlap.bmp", bitfields(4, 4, 16, (0xF800, 0x0FE0, 0x001F)), cls, "malformed", typ=T,
          desc="16-bit masks whose red and green overlap")
    c.add("bmp_mask_empty_red.bmp", bitfields(4, 4, 16, (0, 0x07E0, 0x001F)), cls, "malformed", typ=T,
          desc="an empty red mask")
    c.add("bmp_masks_all_empty_16.bmp", bitfields(4, 4, 16, (0, 0, 0)), cls, "malformed", typ=T,
          desc="16-bit with all three masks empty")
    c.add("bmp_mask_gappy.bmp", bitfields(4, 4, 16, (0xF00F, 0x0F00, 0x00F0)), cls, "malformed", typ=T,
          desc="a red mask in two pieces")
    c.add("bmp_mask_past_pixel.bmp", bitfields(4, 4, 16, (0x1F0000, 0x07E0, 0x001F)), cls, "malformed", typ=T,
          desc="a 16-bit pixel's red mask in bits 16-20")
    ok("bmp_masks_all_empty_32.bmp", bitfields(4, 4, 32, (0, 0, 0)), cls, "img:4x4x3", ["alpha_flattened"],
       desc="32-bit with empty masks: Pillow reads it as BGRA, and so does airlock")
    c.add("bmp_masks_cut_off.bmp", bitfields(4, 4, 16, (0xF800, 0x07E0, 0x001F))[:62], cls, "malformed",
          typ=T, desc="BI_BITFIELDS with the file ending inside the masks")
    v2 = struct.pack("<IiiHHIIiiII", 52, 1, 1, 1, 32, 6, 0, 0, 0, 0, 0) + struct.pack("<3I", 0xFF0000, 0xFF00, 0xFF)
    c.add("bmp_v2_alphabitfields_at_end.bmp", bmp(v2, b""), cls, "malformed", typ=T,
          desc="a V2 (52-byte) header asking for four masks (BI_ALPHABITFIELDS) as the file's last bytes: V2 holds "
          "three, and nothing past the header is read for a fourth; no pixels, so malformed")
    c.add("bmp_os2_compression_6.bmp", bmp(struct.pack("<IiiHHI", 64, 1, 1, 1, 32, 6) + bytes(44), bytes(4)), cls,
          "malformed", typ=T, desc="an OS/2 2.x header with compression 6, which OS/2 does not define")
    ok("bmp_v5_argb_alpha.bmp", bitfields(4, 4, 32, (0xFF0000, 0xFF00, 0xFF, 0xFF000000), hs=124), cls,
       "img:4x4x3", ["alpha_flattened"], desc="V5, 32-bit BGRA bit fields: alpha composited onto the background")
    c.row("bmp_v5_argb_alpha.bmp", cls, "ok", typ=T, shape="img:4x4x4", opts="keep_alpha",
          desc="the same as RGBA")
    ok("bmp_v3_rgb10.bmp", bitfields(4, 4, 32, (0x3FF00000, 0xFFC00, 0x3FF, 0), hs=56), cls, "img:4x4x3",
       ["depth_reduced"], desc="V3 header, 10-bit fields: scaled to 8 bits")

    # -- palettes
    cls = "palette_abuse"
    c.add("bmp_index_past_palette.bmp", bmp(info_header(8, 8, 8, clr_used=4), rows8(8, 8, lambda x, y: 200),
                                            palette(4)), cls, "malformed", typ=T,
          desc="8-bit indices of 200 into a 4-entry palette (Pillow shows them black)")
    c.add("bmp_rle8_index_past_palette.bmp", rle8(4, 1, b"\x04\x09\x00\x01", n=4), cls, "malformed", typ=T,
          desc="an RLE8 run of index 9 into a 4-entry palette")
    c.add("bmp_rle4_index_past_palette.bmp", rle4(4, 1, b"\x00\x04\x1f\x00\x00\x01", n=4), cls, "malformed",
          typ=T, desc="an RLE4 absolute run with index 15 into a 4-entry palette")
    c.add("bmp_clrused_huge.bmp", bmp(info_header(8, 8, 8, clr_used=0xFFFFFFFF), rows8(8, 8, lambda x, y: 1),
                                      palette(4)), cls, "malformed", typ=T, cve="CWE-789",
          desc="biClrUsed 2^32-1 with 4 entries present")
    c.add("bmp_pal1_one_entry.bmp", bmp(info_header(8, 1, 1, clr_used=1), b"\x55\0\0\0", palette(1)), cls,
          "malformed", typ=T, desc="1-bit with a 1-entry palette and pixels of index 1")
    c.add("bmp_palette_overlaps_pixels.bmp", pal8(8, 8, n=16, off=14 + 40 + 16), cls, "malformed", typ=T,
          desc="biClrUsed 16 but the pixels start after 4 entries")
    ok("bmp_palette_300_entries.bmp", bmp(info_header(8, 8, 8, clr_used=300), rows8(8, 8, lambda x, y: x * 30),
                                          palette(300)), cls, "img:8x8x3", ["palette_expanded"],
       desc="biClrUsed 300 on an 8-bit image, all present: the first 256 are what an index reaches (Pillow refuses)")
    ok("bmp_offbits_at_palette.bmp", pal8(8, 8, n=16, off=54), cls, "img:8x8x3", ["palette_expanded"],
       desc="bfOffBits pointing at the palette: the pixels follow it, as Pillow reads it")

    # -- polyglots and payloads
    cls = "polyglot"
    zip_ = zip_archive([("README.txt", (INJECT + "\n").encode())])
    ok("bmp_plus_zip.bmp", rgb24(8, 8) + zip_, cls, "img:8x8x3", ["trailing_dropped"],
       desc="a ZIP archive after the pixel array (BMP+ZIP polyglot): the archive bytes are dropped")
    ok("bmp_zip_in_gap.bmp", rgb24(8, 8, gap=zip_), cls, "img:8x8x3",
       desc="a ZIP archive between the header and the pixels, skipped by bfOffBits")
    cls = "metadata_payload"
    ok("bmp_text_in_gap.bmp", pal8(8, 8, gap=(INJECT + "\n").encode()), cls, "img:8x8x3", ["palette_expanded"],
       desc="prompt-injection text between the palette and the pixel array: never in the output")
    prof = ("<profile>%s</profile>" % INJECT).encode()
    px = rows32(4, 4, alpha=False)
    v5 = info_header(4, 4, 32, hs=124, cs_type=b"MBED", profile=(124 + len(px), len(prof)))
    ok("bmp_v5_profile_injection.bmp", bmp(v5, px, trailing=prof), cls, "img:4x4x3", ["metadata_dropped"],
       desc="a V5 'embedded profile' of injection text after the pixels: dropped (Pillow ignores profiles too)")
    unc = b"\\\\attacker.invalid\\share\\x.icm\0"
    v5l = info_header(4, 4, 32, hs=124, cs_type=b"LINK", profile=(124 + len(px), len(unc)))
    ok("bmp_v5_linked_profile_unc.bmp", bmp(v5l, px, trailing=unc), cls,
       "img:4x4x3", ["metadata_dropped"], cve="CVE-2023-23397",
       desc="a V5 linked profile naming a UNC path: never opened, dropped")
