# SPDX-License-Identifier: MIT
"""Hostile WebP files for corpus/gen_hostile.py (add(c, changes, MARKER, INJECT)).

Built from nothing with the standard library: the RIFF container chunk by chunk
and VP8L bitstreams written bit by bit. A VP8L image whose five prefix codes each
hold a single symbol costs no bits per pixel, so a picture of any size fits in
a dozen bytes: the WebP decompression bomb, and a cheap frame for the others.
"""

import struct

WEBP_T = "webp"

# VP8X flag bits
F_ANIM, F_XMP, F_EXIF, F_ALPHA, F_ICC = 0x02, 0x04, 0x08, 0x10, 0x20


class Bits:
    """VP8L's bit order: least significant bit first."""

    def __init__(self):
        self.v, self.n = 0, 0

    def put(self, value, nbits):
        assert 0 <= value < (1 << nbits)
        self.v |= value << self.n
        self.n += nbits

    def bytes(self):
        return self.v.to_bytes((self.n + 7) // 8, "little")


def vp8l(w, h, argb=(255, 200, 30, 60), alpha=False, cut=None):
    """A VP8L bitstream of one colour; with cut, only its first cut bytes."""
    a, r, g, b = argb
    bits = Bits()
    bits.put(w - 1, 14)
    bits.put(h - 1, 14)
    bits.put(1 if alpha else 0, 1)
    bits.put(0, 3)  # version
    bits.put(0, 1)  # no transform
    bits.put(0, 1)  # no colour cache
    bits.put(0, 1)  # no meta prefix codes
    for sym in (g, r, b, a):  # green, red, blue, alpha: a simple code of one 8-bit symbol
        bits.put(1, 1)
        bits.put(0, 1)
        bits.put(1, 1)
        bits.put(sym, 8)
    bits.put(1, 1)  # distance: one 1-bit symbol
    bits.put(0, 1)
    bits.put(0, 1)
    bits.put(0, 1)
    data = b"\x2f" + bits.bytes()
    return data[:cut] if cut is not None else data


def chunk(tag, payload):
    return tag + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")


def riff(body, size=None):
    return b"RIFF" + struct.pack("<I", 4 + len(body) if size is None else size) + b"WEBP" + body


def le24(v):
    return struct.pack("<I", v)[:3]


def vp8x(flags, w, h):
    return chunk(b"VP8X", bytes([flags, 0, 0, 0]) + le24(w - 1) + le24(h - 1))


def anmf(x, y, w, h, frame):
    return chunk(b"ANMF", le24(x // 2) + le24(y // 2) + le24(w - 1) + le24(h - 1) + le24(100) + b"\0" + frame)


ANIM = chunk(b"ANIM", struct.pack("<IH", 0, 0))


def still(w=16, h=8):
    return riff(chunk(b"VP8L", vp8l(w, h)))


def tiff_exif(orientation, text):
    """A little-endian TIFF IFD0: Orientation, and an ImageDescription holding text."""
    desc = text.encode() + b"\0"
    head = b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", 2)
    off = 8 + 2 + 2 * 12 + 4
    head += struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0)
    head += struct.pack("<HHII", 0x010E, 2, len(desc), off)
    return head + struct.pack("<I", 0) + desc


def add(c, changes, MARKER, INJECT):
    # -- dimension lies
    cls = "dimension_lie"
    frame = chunk(b"VP8L", vp8l(37, 23))
    c.add("webp_vp8x_canvas_vs_frame.webp", riff(vp8x(0, 100, 100) + frame), cls, "malformed", typ=WEBP_T,
          desc="VP8X canvas 100x100 over a 37x23 VP8L frame: a still image must fill its canvas exactly")
    c.add("webp_vp8x_canvas_smaller.webp", riff(vp8x(0, 8, 8) + frame), cls, "malformed", typ=WEBP_T,
          desc="VP8X canvas 8x8 over a 37x23 frame: the frame would be written past the canvas")
    c.add("webp_canvas_16383x16383.webp",
          riff(vp8x(F_ANIM, 16383, 16383) + ANIM + anmf(0, 0, 4, 4, chunk(b"VP8L", vp8l(4, 4)))), cls, "too_large",
          "max_pixels", WEBP_T, desc="an animation canvas of 16383x16383 (268 MP) under one 4x4 frame: refused "
          "from the header before anything canvas-sized is allocated")
    c.add("webp_vp8l_16384x16384.webp", riff(chunk(b"VP8L", vp8l(16384, 16384))), cls, "too_large", "max_pixels",
          WEBP_T, desc="VP8L's largest size, 16384x16384, declared in 12 bytes")
    c.add("webp_vp8l_wide.webp", riff(chunk(b"VP8L", vp8l(16384, 2))), cls, "too_large", "max_width", WEBP_T,
          opts="max_width=16383", desc="16384x2 under a 16383 width cap")

    # -- decompression bombs
    cls = "decompression_bomb"
    bomb = riff(chunk(b"VP8L", vp8l(16384, 10922)))
    c.add("webp_vp8l_bomb_16384x10922.webp", bomb, cls, "too_large", "max_pixels", WEBP_T,
          opts="max_pixels=16000000", cve="CWE-409",
          desc="a 179-megapixel VP8L image in %d bytes (single-symbol prefix codes: no bits per pixel) under a "
          "16-megapixel cap: refused before decoding" % len(bomb))
    c.row("webp_vp8l_bomb_16384x10922.webp", cls, "memory", "memory_bytes", WEBP_T, opts="memory_bytes=134217728",
          cve="CWE-409", desc="the same within max_pixels but a 128 MiB budget: the canvas and libwebp's ARGB "
          "buffer (1.25 GB) refused before allocation")
    c.add("webp_vp8l_bomb_4000x4000.webp", riff(chunk(b"VP8L", vp8l(4000, 4000, alpha=True))), cls, "ok",
          typ=WEBP_T, shape="img:4000x4000x3", changes=changes("alpha_flattened"), cve="CWE-409",
          desc="16 megapixels of one colour in 17 bytes: within the limits, decoded (48 MB of RGB)")
    c.add("webp_vp8l_bomb_truncated.webp", riff(chunk(b"VP8L", vp8l(16384, 10922, cut=6))), cls, "malformed",
          typ=WEBP_T, cve="CWE-409",
          desc="179 megapixels declared, the prefix codes cut off after one byte: fails at once, nothing decoded")

    # -- animation bomb: 10,000 frames, only the first decoded
    cls = "cpu_bomb"
    one = chunk(b"VP8L", vp8l(2, 2, argb=(128, 10, 20, 30), alpha=True))

    def anim_bomb():
        return riff(vp8x(F_ANIM | F_ALPHA, 64, 64) + ANIM + b"".join(
            anmf((i % 31) * 2, (i // 31 % 31) * 2, 2, 2, one) for i in range(10000)))

    c.add("webp_animation_10000_frames.webp", anim_bomb, cls, "ok", typ=WEBP_T, shape="img:64x64x3",
          changes=changes("metadata_dropped", "alpha_flattened", "animation_dropped"), large=True,
          desc="10,000 frames of 2x2: the container walked once, frame 1 alone decoded")

    # -- structure
    cls = "structure"
    img = chunk(b"VP8L", vp8l(16, 8))
    c.add("webp_frame_outside_canvas.webp",
          riff(vp8x(F_ANIM, 16, 16) + ANIM + anmf(12, 0, 8, 8, chunk(b"VP8L", vp8l(8, 8)))), cls, "malformed",
          typ=WEBP_T, desc="an animation frame at x=12, 8 wide, on a 16-wide canvas")
    c.add("webp_frame3_outside_canvas.webp",
          riff(vp8x(F_ANIM, 16, 16) + ANIM + anmf(0, 0, 8, 8, chunk(b"VP8L", vp8l(8, 8))) * 2
               + anmf(0, 10, 8, 8, chunk(b"VP8L", vp8l(8, 8)))), cls, "malformed", typ=WEBP_T,
          desc="frames 1 and 2 fine, frame 3 past the bottom of the canvas: the whole file is checked")
    c.add("webp_anmf_frame_size_lie.webp",
          riff(vp8x(F_ANIM, 16, 16) + ANIM + anmf(0, 0, 4, 4, chunk(b"VP8L", vp8l(8, 8)))), cls, "ok",
          typ=WEBP_T, shape="img:16x16x3", changes=changes("metadata_dropped", "animation_dropped"),
          desc="an ANMF header saying 4x4 around an 8x8 bitstream: libwebp (and so Pillow) take the bitstream's "
          "size and check that against the canvas, so the frame is decoded 8x8")
    c.add("webp_anmf_frame_size_lie_outside.webp",
          riff(vp8x(F_ANIM, 16, 16) + ANIM + anmf(10, 0, 4, 4, chunk(b"VP8L", vp8l(8, 8)))), cls, "malformed",
          typ=WEBP_T, desc="the same lie at x=10: 4 wide would fit, the real 8 does not")
    c.add("webp_riff_size_past_end.webp", riff(img, size=4 + len(img) + 4096), cls, "malformed", typ=WEBP_T,
          desc="a RIFF size 4 KiB past the end of the file: truncated, refused (as Pillow and dwebp do)")
    c.add("webp_riff_size_cuts_chunk.webp", riff(img, size=4 + 10), cls, "malformed", typ=WEBP_T,
          desc="a RIFF size that ends inside the VP8L chunk")
    c.add("webp_riff_size_0.webp", riff(vp8x(F_ICC, 16, 8) + img, size=0), cls, "malformed", typ=WEBP_T,
          desc="a RIFF size of 0 with chunks after it (a fuzzing find: the chunk walk once read past the RIFF end)")
    c.add("webp_riff_size_0xffffffff.webp", riff(img, size=0xFFFFFFFF), cls, "malformed", typ=WEBP_T,
          desc="a RIFF size of 4 GiB")
    c.add("webp_chunk_size_past_riff.webp", riff(chunk(b"VP8L", vp8l(16, 8))[:4] + struct.pack("<I", 1 << 20)
                                                 + vp8l(16, 8)), cls, "malformed", typ=WEBP_T,
          desc="a VP8L chunk size of 1 MiB in a 30-byte file")
    c.add("webp_truncated_in_vp8l.webp", riff(chunk(b"VP8L", vp8l(16, 8, cut=4))), cls, "malformed", typ=WEBP_T,
          desc="a VP8L chunk cut inside its header")
    c.add("webp_truncated_in_vp8x.webp", riff(vp8x(0, 16, 8)[:12]), cls, "malformed", typ=WEBP_T,
          desc="a VP8X chunk cut short, no image")
    c.add("webp_vp8x_no_image.webp", riff(vp8x(0, 16, 8)), cls, "malformed", typ=WEBP_T,
          desc="a VP8X header and no image chunk")
    c.add("webp_alph_after_vp8l.webp", riff(vp8x(F_ALPHA, 16, 8) + chunk(b"ALPH", b"\0" * 129) + img), cls,
          "malformed", typ=WEBP_T, desc="an ALPH chunk before a VP8L image (which carries its own alpha)")
    c.add("webp_two_images.webp", riff(vp8x(0, 16, 8) + img + img), cls, "malformed", typ=WEBP_T,
          desc="two image chunks in a still file")
    c.add("webp_anim_no_frames.webp", riff(vp8x(F_ANIM, 16, 8) + ANIM), cls, "malformed", typ=WEBP_T,
          desc="an animation without a frame")

    # -- metadata payloads
    cls = "metadata_payload"
    mark = (INJECT + "\n").encode()
    c.add("webp_iccp_injection.webp", riff(vp8x(F_ICC, 16, 8) + chunk(b"ICCP", mark * 4) + img), cls,
          "malformed", typ=WEBP_T, desc="an ICCP chunk of injection text, announced by VP8X: not a profile, "
          "refused (as a malformed profile in any format is)")
    c.row("webp_iccp_injection.webp", cls, "ok", typ=WEBP_T, opts="icc=0", shape="img:16x8x3",
          changes=changes("metadata_dropped"), desc="the same with ICC conversion off: the chunk is dropped unread")
    c.add("webp_exif_injection.webp", riff(vp8x(F_EXIF, 16, 8) + img + chunk(b"EXIF", tiff_exif(1, INJECT))), cls,
          "ok", typ=WEBP_T, shape="img:16x8x3", changes=changes("metadata_dropped"),
          desc="EXIF with the injection text in ImageDescription: dropped")
    c.add("webp_exif_injection_rotated.webp",
          riff(vp8x(F_EXIF, 16, 8) + img + chunk(b"EXIF", b"Exif\0\0" + tiff_exif(6, INJECT))), cls, "ok",
          typ=WEBP_T, shape="img:8x16x3", changes=changes("metadata_dropped", "rotated"),
          desc="the same with orientation 6 behind an Exif prefix: rotated, the text dropped")
    c.add("webp_xmp_injection.webp",
          riff(vp8x(F_XMP, 16, 8) + img + chunk(b"XMP ", b"<x:xmpmeta><!-- " + mark + b" --></x:xmpmeta>")), cls,
          "ok", typ=WEBP_T, shape="img:16x8x3", changes=changes("metadata_dropped"),
          desc="XMP with the injection text: dropped")
    c.add("webp_unknown_chunk_injection.webp", riff(vp8x(0, 16, 8) + chunk(b"TEXT", mark) + img), cls, "ok",
          typ=WEBP_T, shape="img:16x8x3", changes=changes("metadata_dropped"),
          desc="an unknown chunk of injection text: dropped")
    c.add("webp_iccp_too_big.webp", riff(vp8x(F_ICC, 16, 8) + chunk(b"ICCP", b"\0" * 4096) + img), cls,
          "too_large", "max_icc_bytes", WEBP_T, opts="max_icc_bytes=1024",
          desc="a 4 KiB ICCP chunk over a 1 KiB cap: refused before lcms2 reads it")

    # -- polyglots
    cls = "polyglot"
    from gen_hostile import ZIP, HTML  # noqa: E402 - the shared payloads
    c.add("webp_plus_zip.webp", still() + ZIP, cls, "ok", typ=WEBP_T, shape="img:16x8x3",
          changes=changes("trailing_dropped"), desc="a ZIP archive after the RIFF chunk (WebP+ZIP polyglot)")
    c.add("webp_html_in_chunk.webp", riff(vp8x(0, 16, 8) + img + chunk(b"html", HTML)), cls, "ok", typ=WEBP_T,
          shape="img:16x8x3", changes=changes("metadata_dropped"),
          desc="an HTML page with a script inside an unknown chunk")
