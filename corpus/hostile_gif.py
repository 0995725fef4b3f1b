# SPDX-License-Identifier: MIT
"""Hostile GIF files for corpus/gen_hostile.py (add(c, changes, MARKER, INJECT)).

Built from nothing with the standard library. A GIF of one colour needs one
LZW code per run, and the runs grow by one pixel per code until the table is
full (3,838 entries, the longest 3,839 pixels): after that every 12-bit code
is 3,839 pixels, about 2,500 to one. That is the LZW bomb, and a cheap frame
for the others. The outcomes follow decoders/gif.c's rules (its header and
corpus/gen_gif.py, where Pillow 9.4 checks them).
"""

import struct

from blobs import zip_archive

GIF_T = "gif"
MAX_PIXELS = 178956970


def _width(n, min_size):
    # The decoder reads each code with the width that holds its next free table entry.
    s = min_size + 1
    while n - 1 >= (1 << s) and s < 12:
        s += 1
    return s


def pack_codes(codes):
    acc = n = 0
    out = bytearray()
    for code, width in codes:
        acc |= code << n
        n += width
        while n >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            n -= 8
    if n:
        out.append(acc & 0xFF)
    return bytes(out)


def solid_lzw(npix, color=1, min_size=2):
    """The LZW codes of npix pixels of one index: runs of 1, 2, 3, ... then 3,839 each."""
    clear = 1 << min_size
    codes = [(clear, min_size + 1)]
    nxt, run, left = clear + 2, 1, npix
    while left > 0:
        r = min(run, left)
        codes.append((color if r == 1 else clear + r, _width(nxt, min_size)))
        nxt += 1 if nxt < 4096 else 0
        left -= r
        if clear + run < 4095:
            run += 1
    codes.append((clear + 1, _width(nxt, min_size)))
    return pack_codes(codes)


def literal_lzw(indices, min_size, extra=()):
    """Each index as its own code (a clear code before the table would grow a width), then extra codes."""
    clear = 1 << min_size
    codes = [(clear, min_size + 1)]
    for i in indices:
        codes.append((i, min_size + 1))
        codes.append((clear, min_size + 1))
    codes += [(c, min_size + 1) for c in extra]
    codes.append((clear + 1, min_size + 1))
    return pack_codes(codes)


def blocks(data, terminate=True):
    out = bytearray()
    for i in range(0, len(data), 255):
        out.append(len(data[i:i + 255]))
        out += data[i:i + 255]
    return bytes(out) + (b"\0" if terminate else b"")


PALETTE = bytes([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])  # 4 entries


def screen(w, h, table=PALETTE):
    """The header and logical screen; table None for no global colour table."""
    if table is None:
        return b"GIF89a" + struct.pack("<HHBBB", w, h, 0, 0, 0)
    bits = (len(table) // 3 - 1).bit_length()
    return b"GIF89a" + struct.pack("<HHBBB", w, h, 0x80 | 0x70 | (bits - 1), 0, 0) + table


def image(x, y, w, h, data, min_size=2, flags=0):
    return b"," + struct.pack("<HHHHB", x, y, w, h, flags) + bytes([min_size]) + data


def solid(x, y, w, h, color=1):
    return image(x, y, w, h, blocks(solid_lzw(w * h, color)))


def gce(trans=None, delay=0):
    return b"!\xf9\x04" + bytes([1 if trans is not None else 0]) + struct.pack("<H", delay) + bytes([trans or 0]) \
        + b"\0"


def extension(label, data):
    return b"!" + bytes([label]) + blocks(data)


def app_extension(ident, data):
    assert len(ident) == 11
    return b"!\xff\x0b" + ident + blocks(data)


def netscape():
    return b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"


def animation_bomb(frames=10000, w=64, h=64):
    one = gce(None, delay=1) + solid(0, 0, w, h, 2)
    return screen(w, h) + netscape() + gce(None, delay=1) + solid(0, 0, w, h, 1) + one * (frames - 1) + b";"


def add(c, changes, MARKER, INJECT):
    pal = changes("palette_expanded")

    # Dimension lies: a screen as large as the format allows, over max_pixels, with a 1x1 image.
    cls = "dimension_lie"
    c.add("gif_screen_65535x65535_frame_1x1.gif", screen(65535, 65535) + solid(0, 0, 1, 1) + b";", cls, "too_large",
          limit="max_pixels", typ=GIF_T, cve="CWE-789",
          desc="a 65535x65535 logical screen (4.3 G pixels) around a 1x1 image: refused before anything is allocated")
    c.add("gif_screen_65535x1.gif", screen(65535, 1) + solid(0, 0, 65535, 1) + b";", cls, "ok", typ=GIF_T,
          changes=pal, shape="img:65535x1x3", desc="width 65535, the most the format holds: decoded")
    c.row("gif_screen_65535x1.gif", cls, "too_large", limit="max_width", typ=GIF_T, opts="max_width=65534",
          desc="the same one pixel over a lowered width cap")
    c.add("gif_frame_65535x65535_on_16x16.gif", screen(16, 16) + image(0, 0, 65535, 65535, blocks(b"\x04\x01"))
          + b";", cls, "malformed", typ=GIF_T, cve="CWE-787",
          desc="a 65535x65535 image on a 16x16 screen: off the screen, refused before any pixel is decoded")

    # The LZW bomb: one colour, 2,500 pixels to the byte.
    cls = "decompression_bomb"
    bw, bh = 8192, 8192
    bomb = screen(bw, bh) + solid(0, 0, bw, bh) + b";"
    c.add("gif_lzw_bomb_8192x8192.gif", bomb, cls, "ok", typ=GIF_T, changes=pal, shape="img:8192x8192x3",
          cve="CWE-409", desc="8192x8192 of one colour in %d KB of LZW: within the limits, decoded to 192 MiB of RGB"
          % (len(bomb) // 1024))
    c.row("gif_lzw_bomb_8192x8192.gif", cls, "too_large", limit="max_pixels", typ=GIF_T, opts="max_pixels=16000000",
          cve="CWE-409", desc="the same under a 16-megapixel cap: refused from the screen descriptor")
    c.row("gif_lzw_bomb_8192x8192.gif", cls, "memory", limit="memory_bytes", typ=GIF_T, opts="memory_bytes=67108864",
          cve="CWE-409", desc="the same under a 64 MiB memory cap: the 192 MiB buffer is refused before allocating")
    mw, mh = 16384, MAX_PIXELS // 16384
    c.add("gif_lzw_bomb_max_pixels.gif", lambda: screen(mw, mh) + solid(0, 0, mw, mh) + b";", cls, "ok", typ=GIF_T,
          changes=pal, shape="img:%dx%dx3" % (mw, mh), cve="CWE-409", large=True,
          desc="%dx%d of one colour, just under max_pixels, in 68 KB: decoded (about a second)" % (mw, mh))

    # The animation bomb: 10,000 frames, of which only the first is decoded.
    cls = "cpu_bomb"
    c.add("gif_10000_frames.gif", animation_bomb, cls, "ok", typ=GIF_T,
          changes=changes("metadata_dropped", "palette_expanded", "animation_dropped"), shape="img:64x64x3",
          cve="CWE-400", large=True,
          desc="10,000 64x64 frames: the first decoded, the walk stops at the second image descriptor")

    # Structure: frames off the screen, code-size lies, bad codes, cut data.
    cls = "structure"
    c.add("gif_frame_off_screen_by_one.gif", screen(16, 16) + solid(1, 0, 16, 16) + b";", cls, "malformed",
          typ=GIF_T, desc="a 16x16 image at x=1 on a 16x16 screen (Pillow grows the screen; airlock refuses)")
    c.add("gif_frame_offset_65535.gif", screen(16, 16) + solid(65535, 65535, 1, 1) + b";", cls, "malformed",
          typ=GIF_T, cve="CWE-190", desc="a 1x1 image at (65535, 65535): the offset plus the size overflow 16 bits")
    c.add("gif_second_frame_off_screen.gif", screen(16, 16) + solid(0, 0, 16, 16) + solid(60000, 60000, 9, 9)
          + b";", cls, "ok", typ=GIF_T, changes=changes("palette_expanded", "animation_dropped"),
          shape="img:16x16x3", desc="a second image far off the screen: never decoded, so never judged")
    c.add("gif_lzw_code_size_12.gif", screen(16, 16) + image(0, 0, 16, 16, blocks(solid_lzw(256)), min_size=12)
          + b";", cls, "malformed", typ=GIF_T,
          desc="an LZW minimum code size of 12 over 2-bit codes: refused before decoding")
    c.add("gif_lzw_code_size_255.gif", screen(16, 16) + image(0, 0, 16, 16, blocks(solid_lzw(256)), min_size=255)
          + b";", cls, "malformed", typ=GIF_T, desc="an LZW minimum code size of 255")
    c.add("gif_lzw_undefined_code.gif", screen(4, 4) + image(0, 0, 4, 4, blocks(literal_lzw([1], 2, extra=[7])))
          + b";", cls, "malformed", typ=GIF_T,
          desc="a code past the next free table entry (Pillow: broken data stream)")
    c.add("gif_lzw_eoi_first.gif", screen(4, 4) + image(0, 0, 4, 4, blocks(pack_codes([(4, 3), (5, 3)]))) + b";", cls,
          "malformed", typ=GIF_T, desc="a clear code then EOI: no pixels at all")
    c.add("gif_data_cut.gif", screen(64, 64) + image(0, 0, 64, 64, blocks(literal_lzw([1] * 600, 2))[:300]), cls,
          "malformed", typ=GIF_T, desc="the image data ends after about 400 of 4096 pixels")
    c.add("gif_empty_sub_block_first.gif", screen(4, 4) + image(0, 0, 4, 4, b"\0") + b";", cls, "malformed",
          typ=GIF_T, desc="image data that is only the block terminator")
    c.add("gif_no_image.gif", screen(4, 4) + netscape() + b";", cls, "malformed", typ=GIF_T,
          desc="a screen, a loop extension, a trailer and no image")
    c.add("gif_only_signature.gif", b"GIF89a", cls, "malformed", typ=GIF_T, desc="the signature alone")
    c.add("gif_extension_runs_off.gif", screen(4, 4) + b"!\xfe\xff" + b"x" * 40, cls, "malformed", typ=GIF_T,
          desc="a comment sub-block claiming 255 bytes where 40 remain, before any image")

    # Colour tables: indices past the table, a transparency index past it.
    cls = "palette_abuse"
    idx = list(range(0, 256, 16))
    c.add("gif_index_past_table.gif", screen(4, 4) + image(0, 0, 4, 4, blocks(literal_lzw(idx, 8)), min_size=8)
          + b";", cls, "ok", typ=GIF_T, changes=pal, shape="img:4x4x3",
          desc="a 4-entry table and indices up to 240: past the table each index is its grey (Pillow's palette)")
    c.add("gif_transparent_past_table.gif", screen(4, 4) + gce(200) + solid(0, 0, 4, 4, 3) + b";", cls, "ok",
          typ=GIF_T, changes=changes("alpha_flattened", "palette_expanded"), shape="img:4x4x3",
          desc="a transparency index of 200 with a 4-entry table")
    c.add("gif_no_table.gif", screen(4, 4, table=None) + image(
        0, 0, 4, 4, blocks(literal_lzw(idx, 8)), min_size=8) + b";", cls, "ok", typ=GIF_T,
        changes=changes("grey_expanded"), shape="img:4x4x3", desc="no colour table at all: every index a grey")

    # Metadata with a payload: never in the output.
    cls = "metadata_payload"
    body = solid(0, 0, 16, 16)
    md = changes("metadata_dropped", "palette_expanded")
    for name, ext, what in (
            ("gif_comment.gif", extension(0xFE, INJECT.encode()), "a comment extension"),
            ("gif_plain_text.gif", b"!\x01\x0c" + struct.pack("<HHHHBBBB", 0, 0, 16, 16, 8, 8, 1, 0)
             + blocks(INJECT.encode()), "a Plain Text Extension (text meant to be drawn on the image)"),
            ("gif_xmp.gif", app_extension(b"XMP DataXMP", ('<x:xmpmeta><dc:description>%s</dc:description>'
                                                           '</x:xmpmeta>' % INJECT).encode()), "an XMP extension"),
            ("gif_icc.gif", app_extension(b"ICCRGBG1012", INJECT.encode()),
             "an ICC profile extension whose profile is the text (Pillow 9.4 ignores GIF profiles)"),
            ("gif_unknown_app.gif", app_extension(b"AIRLOCKPWN1", INJECT.encode()), "an unknown application block"),
            ("gif_unknown_ext.gif", extension(0x42, INJECT.encode()), "an unknown extension label")):
        c.add(name, screen(16, 16) + ext + body + b";", cls, "ok", typ=GIF_T, changes=md, shape="img:16x16x3",
              cve="OWASP-LLM01", desc=what + " with the injection text: dropped")
    c.add("gif_comment_after_image.gif", screen(16, 16) + body + extension(0xFE, MARKER.encode()) + b";", cls, "ok",
          typ=GIF_T, changes=md, shape="img:16x16x3", cve="OWASP-LLM01",
          desc="the injection in a comment after the image")

    # Polyglots.
    cls = "polyglot"
    archive = zip_archive([("README.txt", (INJECT + "\n").encode())])
    c.add("gif_plus_zip.gif", screen(16, 16) + body + b";" + archive, cls, "ok", typ=GIF_T,
          changes=changes("palette_expanded", "trailing_dropped"), shape="img:16x16x3",
          desc="a ZIP archive after the trailer (GIF+ZIP polyglot)")
    c.add("gif_zip_in_comment.gif", screen(16, 16) + extension(0xFE, archive) + body + b";", cls, "ok", typ=GIF_T,
          changes=md, shape="img:16x16x3", desc="a ZIP archive inside a comment extension")
    c.add("gif_html_after_image.gif", screen(16, 16) + body + ("<html><script>alert('%s')</script></html>"
                                                                % MARKER).encode(), cls, "ok", typ=GIF_T,
          changes=changes("palette_expanded", "trailing_dropped"), shape="img:16x16x3",
          desc="HTML where the trailer should be (a GIFAR-style polyglot): dropped as trailing bytes")
