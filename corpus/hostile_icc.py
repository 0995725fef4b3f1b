# SPDX-License-Identifier: MIT
"""Hostile ICC profiles, in PNG iCCP and JPEG APP2: imported by gen_hostile.py, which calls add().

Also the small profile builder gen_icc.py uses (this module needs no Pillow: gen_hostile.py runs with
the plain python3). Every outcome below is airlock's rule for profiles (corpus/gen_icc.py's docstring):
too_large past max_icc_bytes (4 MiB), malformed where lcms2 cannot open the profile or build a transform
from it, converted (icc_converted) where it can, and nothing from a profile ever reaches the output.
"""

import struct
import zlib

# ---------------------------------------------------------------------------
# Profiles made here: a few header fields and tags, enough for lcms2 (and for add() below to break)


def s15(v):
    return struct.pack(">i", int(round(v * 65536)))


def xyz_tag(x, y, z):
    return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)


def curv_gamma(g):
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, int(round(g * 256))) + b"\0\0"


def desc_tag(text):
    t = text.encode("latin-1") + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(t)) + t + struct.pack(">II", 0, 0) + b"\0\0\0" + bytes(67)


def text_tag(text):
    return b"text\0\0\0\0" + text.encode("latin-1") + b"\0"


def icc_build(space, tags, cls=b"mntr", version=0x02100000, size=None, count=None, offsets=None):
    """An ICC profile: header, tag table, tags 4-aligned. size and count override the header's and the
    table's (lies); offsets maps a tag index to an (offset, size) written instead of the real one."""
    table_len = 4 + 12 * len(tags)
    body, entries, at = bytearray(), [], 128 + table_len
    for i, (sig, data) in enumerate(tags):
        off, n = at + len(body), len(data)
        if offsets and i in offsets:
            off, n = offsets[i]
        entries.append(struct.pack(">4sII", sig, off, n))
        body += data
        while len(body) % 4:
            body += b"\0"
    total = 128 + table_len + len(body)
    head = struct.pack(">I4sI4s4s4s", total if size is None else size, b"lcms", version, cls, space, b"XYZ ")
    head += struct.pack(">6H", 2000, 1, 1, 0, 0, 0) + b"acsp" + b"APPL" + bytes(4) + bytes(8) + bytes(8)
    head += struct.pack(">I", 0) + s15(0.9642) + s15(1.0) + s15(0.8249) + b"lcms" + bytes(16) + bytes(28)
    assert len(head) == 128
    table = struct.pack(">I", len(tags) if count is None else count) + b"".join(entries)
    return bytes(head + table + body)


def grey_profile(gamma, desc="linear grey"):
    return icc_build(b"GRAY", [(b"desc", desc_tag(desc)), (b"wtpt", xyz_tag(0.9642, 1.0, 0.8249)),
                               (b"kTRC", curv_gamma(gamma)), (b"cprt", text_tag("No copyright, CC0"))])


def rgb_tags(gamma, desc="made by gen_icc.py"):
    """A matrix/TRC RGB profile's tags: Adobe RGB (1998)'s primaries adapted to D50, and a plain gamma."""
    c = curv_gamma(gamma)
    return [(b"desc", desc_tag(desc)), (b"wtpt", xyz_tag(0.9642, 1.0, 0.8249)),
            (b"rXYZ", xyz_tag(0.6097, 0.3111, 0.0195)), (b"gXYZ", xyz_tag(0.2053, 0.6257, 0.0609)),
            (b"bXYZ", xyz_tag(0.1492, 0.0632, 0.7446)), (b"rTRC", c), (b"gTRC", c), (b"bTRC", c),
            (b"cprt", text_tag("No copyright, CC0"))]


def rgb_profile(gamma, desc="made by gen_icc.py", extra=()):
    return icc_build(b"RGB ", rgb_tags(gamma, desc) + list(extra))


def lut16_tag(nin, nout, grid, data=True):
    """lut16Type (mft2): identity matrix, 2-entry tables, a CLUT of grid^nin points (or only its header)."""
    head = b"mft2\0\0\0\0" + bytes((nin, nout, grid, 0))
    head += b"".join(s15(1.0 if i % 4 == 0 else 0.0) for i in range(9))
    head += struct.pack(">HH", 2, 2)
    tables = struct.pack(">HH", 0, 0xFFFF) * nin
    clut = b""
    if data:
        clut = b"\x80\x00" * (grid ** nin * nout)
    return head + tables + clut + struct.pack(">HH", 0, 0xFFFF) * nout


def matf_nan_tag():
    """multiProcessElementsType with one 3x3 matrix element whose entries are NaN, +inf and -inf (float32)."""
    vals = [float("nan"), float("inf"), float("-inf"), 1.0, float("nan"), 0.0, float("inf"), 0.0, 1.0,
            float("nan"), 0.0, float("-inf")]
    elem = b"matf" + b"\0\0\0\0" + struct.pack(">HH", 3, 3) + struct.pack(">12f", *vals)
    head = b"mpet" + b"\0\0\0\0" + struct.pack(">HHI", 3, 3, 1)
    off = len(head) + 8
    return head + struct.pack(">II", off, len(elem)) + elem


def iccp(profile, keyword=b"ICC Profile"):
    return (b"iCCP", keyword + b"\0\0" + zlib.compress(profile, 9))


def app2_segments(profile, n, count=None, seqs=None):
    """The profile in n APP2 segments; count and sequence numbers may lie."""
    k = max(1, (len(profile) + n - 1) // n)
    parts = [profile[i * k:(i + 1) * k] for i in range(n)]
    seqs = seqs or [(i + 1) & 0xFF for i in range(n)]
    cnt = n if count is None else count
    return [(0xE2, b"ICC_PROFILE\0" + bytes((seqs[i], cnt & 0xFF)) + parts[i]) for i in range(n)]


def add(c, changes, MARKER, INJECT):
    import gen_hostile as gh  # here, not at the top: gen_icc.py imports this module for the builder alone

    PNG_T, JPEG_T = gh.PNG_T, gh.JPEG_T
    cls = "metadata_payload"
    md = changes("metadata_dropped")
    conv = changes("metadata_dropped", "icc_converted")
    mark = MARKER.encode()

    def png_with(profile):
        return gh.png_rgb(before=[iccp(profile)])

    def jpeg_with(segments):
        return gh.jpeg_picture(markers=[gh.seg(mk, body) for mk, body in segments])

    good = rgb_profile(2.2)
    # Size: a profile over max_icc_bytes is too_large before lcms2 sees a byte of it.
    big = rgb_profile(2.2, extra=[(b"zpad", b"\0" * (5 << 20))])
    c.add("icc_png_5mib_profile.png", png_with(big), "size_limit", "too_large", "max_icc_bytes", PNG_T,
          cve="CWE-770", desc="an iCCP inflating to a 5 MiB profile (padding in a private tag): over max_icc_bytes")
    c.row("icc_png_5mib_profile.png", "size_limit", "ok", typ=PNG_T, shape="img:16x8x3", changes=conv,
          opts="max_icc_bytes=8388608", cve="CWE-770", desc="the same with the limit at 8 MiB: converted")
    c.row("icc_png_5mib_profile.png", "size_limit", "ok", typ=PNG_T, shape="img:16x8x3", changes=md, opts="icc=0",
          cve="CWE-770", desc="the same with profiles ignored: skipped unread")

    def jpeg_big():
        return jpeg_with(app2_segments(big, 82))

    c.add("icc_jpeg_5mib_profile_82_segments.jpg", jpeg_big, "size_limit", "too_large", "max_icc_bytes", JPEG_T,
          cve="CWE-770", large=True,
          desc="a 5 MiB profile in 82 APP2 segments: counted as they come, refused past max_icc_bytes")
    c.row("icc_jpeg_5mib_profile_82_segments.jpg", "size_limit", "ok", typ=JPEG_T, shape="img:32x16x3",
          changes=md, opts="icc=0", cve="CWE-770", desc="the same with profiles ignored")

    # Structure: each one is malformed, never a crash.
    s = "structure"
    c.add("icc_png_truncated_header.png", png_with(good[:100]), s, "malformed", typ=PNG_T, cve="CWE-125",
          desc="a profile cut inside its 128-byte header")
    c.add("icc_png_tag_table_past_end.png", png_with(icc_build(b"RGB ", [(b"desc", desc_tag("x"))], count=40)), s,
          "malformed", typ=PNG_T, cve="CWE-125", desc="a tag table of 40 entries in a profile that holds one")
    c.add("icc_png_tag_count_4294967295.png", png_with(icc_build(b"RGB ", [(b"desc", desc_tag("x"))],
                                                                 count=0xFFFFFFFF)), s, "malformed", typ=PNG_T,
          cve="CWE-190", desc="a tag count of 2^32-1")
    tags = [(b"desc", desc_tag("overlap")), (b"wtpt", xyz_tag(0.9642, 1.0, 0.8249)), (b"rXYZ", xyz_tag(0.6, 0.3, 0.0)),
            (b"gXYZ", xyz_tag(0.2, 0.6, 0.1)), (b"bXYZ", xyz_tag(0.1, 0.1, 0.7)), (b"rTRC", curv_gamma(2.2))]
    over = {2: (128 + 4 + 12 * 9 + 4, 20), 3: (128 + 4 + 12 * 9 + 10, 20), 4: (128 + 4 + 12 * 9 + 2, 20),
            6: (128 + 4 + 12 * 9, 40), 7: (128 + 4 + 12 * 9 + 6, 14), 8: (128 + 4 + 12 * 9 + 1, 14)}
    tags += [(b"gTRC", curv_gamma(2.2)), (b"bTRC", curv_gamma(2.2)), (b"cprt", text_tag("c"))]
    c.add("icc_png_overlapping_tags.png", png_with(icc_build(b"RGB ", tags, offsets=over)), s, "malformed",
          typ=PNG_T, cve="CWE-125", desc="colorant and curve tags overlapping each other and the description")
    c.add("icc_png_size_lies_small.png", png_with(icc_build(b"RGB ", rgb_tags(2.2), size=140)), s, "malformed",
          typ=PNG_T, cve="CWE-125", desc="a header size of 140 bytes: every tag lies past it, none is read")
    c.add("icc_png_size_lies_large.png", png_with(icc_build(b"RGB ", rgb_tags(2.2), size=0x7FFFFFF0)), s, "ok",
          typ=PNG_T, shape="img:16x8x3", changes=conv, cve="CWE-125",
          desc="a header size of 2 GiB on a 600-byte profile: lcms2 reads what is there, no more")

    # Work: a CLUT of 255^3 points (99 MB at 16 bits) in a profile of a few hundred bytes.
    huge = icc_build(b"RGB ", [(b"desc", desc_tag("clut")), (b"wtpt", xyz_tag(0.9642, 1.0, 0.8249)),
                               (b"A2B0", lut16_tag(3, 3, 255, data=False))], cls=b"scnr")
    c.add("icc_png_clut_255_cubed.png", png_with(huge), "decompression_bomb", "malformed", typ=PNG_T,
          cve="CWE-789", desc="an A2B0 CLUT of 255^3 points (99 MB) in 400 bytes: over lcms2's memory budget")
    c.add("icc_jpeg_clut_255_cubed.jpg", jpeg_with(app2_segments(huge, 1)), "decompression_bomb", "malformed",
          typ=JPEG_T, cve="CWE-789", desc="the same in a JPEG")
    nan = icc_build(b"RGB ", rgb_tags(2.2) + [(b"D2B0", matf_nan_tag())], version=0x04300000)
    c.add("icc_png_nan_inf_matrix.png", png_with(nan), s, "malformed", typ=PNG_T, cve="CWE-682",
          desc="a floating-point D2B0 matrix of NaN and infinities: lcms2 builds no transform from it (nor for"
               " Pillow)")

    # JPEG segments that lie.
    seqs = [i % 250 + 1 for i in range(300)]
    c.add("icc_jpeg_300_segments.jpg", jpeg_with(app2_segments(good, 300, count=255, seqs=seqs)), s, "ok",
          typ=JPEG_T, shape="img:32x16x3", changes=md, cve="CWE-129",
          desc="300 APP2 segments, sequence numbers repeating and missing: more than a count can say, ignored"
               " (as Pillow)")
    seqs = [i + 1 for i in range(255)]
    seqs[7] = 7
    c.add("icc_jpeg_255_segments_seq_gap.jpg", jpeg_with(app2_segments(good * 3, 255, seqs=seqs)), s, "malformed",
          typ=JPEG_T, cve="CWE-129",
          desc="255 segments, number 8 missing and 7 twice: joined as Pillow joins them, not a profile")

    # The injection in a profile's description: converted, the text dropped with the profile.
    text = "%s %s" % (INJECT, "AIRLOCK-ICC-PAYLOAD")
    evil = rgb_profile(2.2, desc=text, extra=[(b"dmdd", desc_tag(text))])
    c.add("icc_png_desc_injection.png", png_with(evil), cls, "ok", typ=PNG_T, shape="img:16x8x3", changes=conv,
          cve="OWASP-LLM01", desc="a valid profile whose description is the injection: converted, text dropped")
    c.add("icc_jpeg_desc_injection.jpg", jpeg_with(app2_segments(evil, 2)), cls, "ok", typ=JPEG_T,
          shape="img:32x16x3", changes=conv, cve="OWASP-LLM01", desc="the same in two APP2 segments")
    assert mark in evil
