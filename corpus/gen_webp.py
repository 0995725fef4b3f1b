#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Generates the WebP fixtures in corpus/images/webp/ and the manifest corpus/images-webp.tsv.

Run with Debian's interpreter:  /usr/bin/python3 corpus/gen_webp.py

Needs (Debian 12): python3-pil (Pillow 9.4 with libwebp 1.2.4 and ImageCms), the
`file` command (libmagic), and /work/shared/corpus-public (../shared/corpus-public
from the source root) for the ICC profiles and the public WebP suites.

Expected pixels are Pillow's, computed here and not by airlock: Image.open() and
load() (frame 0: libwebp's WebPAnimDecoder, the first frame on a transparent
canvas, RGBA when WebPGetFeatures says the file has alpha and RGB otherwise),
ImageOps.exif_transpose(), ImageCms.profileToProfile() to sRGB when the file has
an ICCP chunk (skipped for the `noicc` rows), then the output rules of
corpus/README.md through gen_images.finish_pixels() (RGB, or alpha composited
onto white, or RGBA for the `alpha` rows). The change sets come from a chunk walk
of this file's own.

The fixtures are built from Pillow's encoder (lossy, lossless, alpha) and
assembled chunk by chunk here where Pillow cannot write the structure (animations
with frame offsets, the "Exif" prefix, XMP, trailing bytes). Deterministic: the
same bytes on every run.
"""

import io
import os
import struct
import subprocess
import sys

from PIL import Image, ImageCms, ImageOps

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_images import finish_pixels, fnv64, rgb_image, Manifest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT_DIR = os.path.join(HERE, "images", "webp")
MANIFEST = os.path.join(HERE, "images-webp.tsv")
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus-public"))
PROFILES = os.path.join(SHARED, "icc-test-files", "profiles", "compact-icc-profiles")
SUITE = "webp-test-files"

CHANGE_ORDER = [
    "metadata_dropped", "rotated", "alpha_flattened", "depth_reduced", "cmyk_converted",
    "palette_expanded", "grey_expanded", "alpha_added", "trailing_dropped",
    "animation_dropped", "interlace_removed", "truncated", "downmixed", "resampled",
    "format_converted", "icc_converted",
]

# VP8X flag bits
F_ANIM, F_XMP, F_EXIF, F_ALPHA, F_ICC = 0x02, 0x04, 0x08, 0x10, 0x20


# ---------------------------------------------------------------------------
# RIFF assembly


def chunk(tag, payload):
    assert len(tag) == 4
    return tag + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")


def riff(body):
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def vp8x(flags, w, h):
    return chunk(b"VP8X", bytes([flags, 0, 0, 0]) + struct.pack("<I", w - 1)[:3] + struct.pack("<I", h - 1)[:3])


def chunks_of(data):
    """(tag, payload) of the top-level chunks of a RIFF/WEBP file, as far as they go."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    end = min(len(data), struct.unpack("<I", data[4:8])[0] + 8)
    pos, out = 12, []
    while end - pos >= 8:
        tag = data[pos:pos + 4]
        n = struct.unpack("<I", data[pos + 4:pos + 8])[0]
        out.append((tag, data[pos + 8:pos + 8 + n]))
        if n > end - pos - 8:
            break
        pos += 8 + n + (n & 1)
    return out


def image_data(data):
    """The image chunks (ALPH, VP8, VP8L) of a file Pillow wrote, re-serialised."""
    return b"".join(chunk(t, p) for t, p in chunks_of(data) if t in (b"ALPH", b"VP8 ", b"VP8L"))


def anmf(x, y, w, h, frame, duration=100, blend=True, dispose=False):
    assert x % 2 == 0 and y % 2 == 0
    flags = (0 if blend else 2) | (1 if dispose else 0)
    head = (struct.pack("<I", x // 2)[:3] + struct.pack("<I", y // 2)[:3] + struct.pack("<I", w - 1)[:3]
            + struct.pack("<I", h - 1)[:3] + struct.pack("<I", duration)[:3] + bytes([flags]))
    return chunk(b"ANMF", head + frame)


def pil_webp(im, **kw):
    buf = io.BytesIO()
    im.save(buf, "WEBP", **kw)
    return buf.getvalue()


def rgba_image(name, w, h):
    """rgb_image with an alpha ramp that has 0, 255 and values between."""
    im = rgb_image(name, w, h).convert("RGBA")
    a = []
    for y in range(h):
        for x in range(w):
            k = (x + 2 * y) % 7
            a.append([0, 255, 255, 128, 40, 200, 255][k] if x > 0 else 255)
    alpha = Image.new("L", (w, h))
    alpha.putdata(a)
    im.putalpha(alpha)
    return im


def profile(name):
    with open(os.path.join(PROFILES, name), "rb") as f:
        return f.read()


# ---------------------------------------------------------------------------
# Expectations


def pillow_expected(data, keep_alpha, icc):
    """Pillow's frame 0 by the rules above: (w, h, channels, fnv) or an exception."""
    im = Image.open(io.BytesIO(data))
    im.load()
    prof = im.info.get("icc_profile")
    im = ImageOps.exif_transpose(im)
    if icc and prof:
        src = ImageCms.ImageCmsProfile(io.BytesIO(prof))
        if src.profile.xcolor_space.strip() == "RGB":
            im = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode=im.mode)
    if im.mode == "RGBA":
        rgba, has_alpha = list(im.getdata()), True
    elif im.mode == "RGB":
        rgba, has_alpha = [p + (255,) for p in im.getdata()], False
    else:
        raise ValueError(im.mode)
    ch, out = finish_pixels(rgba, has_alpha, keep_alpha)
    return im.size[0], im.size[1], ch, fnv64(out)


def exif_orientation(data):
    im = Image.open(io.BytesIO(data))
    return im.getexif().get(0x0112) or 1


def expected_changes(data, keep_alpha, icc):
    """The change set by the rules, from the chunk list and what Pillow reports."""
    ch = set()
    cs = chunks_of(data)
    tags = [t for t, _ in cs]
    if any(t not in (b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ANMF") for t in tags):
        ch.add("metadata_dropped")
    riff_end = struct.unpack("<I", data[4:8])[0] + 8
    if len(data) > riff_end:
        ch.add("trailing_dropped")
    flags = cs[0][1][0] if tags and tags[0] == b"VP8X" else 0
    if flags & F_ANIM:
        ch.add("animation_dropped")
    im = Image.open(io.BytesIO(data))
    if exif_orientation(data) in range(2, 9):
        ch.add("rotated")
    if im.mode == "RGBA" and not keep_alpha:
        ch.add("alpha_flattened")
    if im.mode == "RGB" and keep_alpha:
        ch.add("alpha_added")
    prof = im.info.get("icc_profile")
    if icc and prof and ImageCms.ImageCmsProfile(io.BytesIO(prof)).profile.xcolor_space.strip() == "RGB":
        ch.add("icc_converted")
    names = [n for n in CHANGE_ORDER if n in ch]
    return ",".join(names) if names else "-"


def has_icc(data):
    im = Image.open(io.BytesIO(data))
    return bool(im.info.get("icc_profile"))


def rows_for(m, path, data, why=None):
    """The ok rows of a file Pillow decodes: '-', 'alpha', and 'noicc' (and 'alpha,noicc') when it has a profile."""
    opts = [("-", False, True), ("alpha", True, True)]
    if has_icc(data):
        opts += [("noicc", False, False), ("alpha,noicc", True, False)]
    for o, keep, icc in opts:
        w, h, ch, fnv = pillow_expected(data, keep, icc)
        m.add(path, o, "ok", "webp", w, h, ch, fnv, expected_changes(data, keep, icc), why=why if o == "-" else None)


def write_fixture(name, data):
    path = os.path.join(OUT_DIR, name)
    with open(path, "wb") as f:
        f.write(data)
    mime = subprocess.run(["file", "--mime-type", "-b", path], check=True, capture_output=True,
                          text=True).stdout.strip()
    assert mime == "image/webp", (name, mime)
    return os.path.relpath(path, ROOT)


# ---------------------------------------------------------------------------
# Own fixtures


def gen_own(m):
    def ok(name, data, why=None):
        rows_for(m, write_fixture(name, data), data, why)

    base = rgb_image("webp", 37, 23)
    alpha = rgba_image("webp_alpha", 37, 23)
    ok("lossy.webp", pil_webp(base, quality=80, method=4), "VP8, odd size")
    ok("lossless.webp", pil_webp(base, lossless=True), "VP8L")
    ok("lossy_alpha.webp", pil_webp(alpha, quality=80, method=4), "VP8X + ALPH + VP8")
    ok("lossless_alpha.webp", pil_webp(alpha, lossless=True, exact=True), "VP8L with alpha, RGB kept under alpha 0")
    ok("lossy_1x1.webp", pil_webp(rgb_image("one", 1, 1), quality=90))
    ok("lossless_1x1.webp", pil_webp(rgb_image("one", 1, 1), lossless=True))
    ok("lossy_alpha_13x1.webp", pil_webp(rgba_image("thin", 13, 1), quality=90))
    ok("lossless_alpha_1x13.webp", pil_webp(rgba_image("thin", 1, 13), lossless=True, exact=True))
    ok("lossy_129x131.webp", pil_webp(rgb_image("band", 129, 131), quality=75), "more rows than a band")

    # ICC profiles (CC0, ../shared/corpus-public/icc-test-files/profiles/compact-icc-profiles): Display P3 and
    # Adobe RGB primaries, so the conversion visibly changes the colours.
    p3, adobe = profile("DisplayP3-v4.icc"), profile("AdobeCompat-v2.icc")
    ok("icc_p3_lossy.webp", pil_webp(base, quality=85, icc_profile=p3), "VP8X + ICCP (Display P3) + VP8")
    ok("icc_adobe_lossless_alpha.webp", pil_webp(alpha, lossless=True, exact=True, icc_profile=adobe),
       "VP8X + ICCP (Adobe RGB) + VP8L with alpha: the profile before the background")
    # An ICCP chunk without the VP8X ICC flag: the demuxer does not keep it, so Pillow and airlock ignore it.
    img = image_data(pil_webp(base, lossless=True))
    ok("iccp_unflagged.webp", riff(vp8x(0, 37, 23) + chunk(b"ICCP", p3) + img),
       "an ICCP chunk the VP8X flags do not announce: not applied, dropped")
    # A grey profile on RGB pixels: another colour space than the pixels', ignored.
    ok("icc_grey_profile.webp", pil_webp(base, lossless=True, icc_profile=profile("sGrey-v4.icc")),
       "a grey ICC profile on RGB pixels: ignored (Pillow's profileToProfile would refuse the pair)")

    # EXIF orientation 1..8 on an asymmetric lossless picture (exact, so every mapping shows).
    ori = rgb_image("orient", 24, 16)
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        ok("exif_orientation%d.webp" % o, pil_webp(ori, lossless=True, exif=exif.tobytes()))
    exif = Image.Exif()
    exif[0x0112] = 6
    ok("exif_orientation6_alpha.webp", pil_webp(rgba_image("orient", 24, 16), lossless=True, exact=True,
                                                 exif=exif.tobytes()))
    exif[0x0112] = 7
    ok("exif_orientation7_37x301.webp", pil_webp(rgb_image("tall", 37, 301), quality=80, exif=exif.tobytes()),
       "taller than a band of rows")
    # The EXIF chunk body with JPEG's "Exif\0\0" prefix (some writers keep it): read the same.
    exif[0x0112] = 8
    body = exif.tobytes()
    assert body.startswith(b"Exif\0\0")
    ok("exif_prefixed_orientation8.webp", riff(vp8x(F_EXIF, 24, 16) + image_data(pil_webp(ori, lossless=True))
                                               + chunk(b"EXIF", body)))
    # EXIF without the VP8X flag: the demuxer drops it, no rotation.
    exif[0x0112] = 6
    ok("exif_unflagged.webp", riff(vp8x(0, 24, 16) + image_data(pil_webp(ori, lossless=True))
                                   + chunk(b"EXIF", exif.tobytes()[6:])),
       "an EXIF chunk the VP8X flags do not announce: no rotation, dropped")
    # Profile, orientation and alpha together: converted, flattened, then turned.
    exif[0x0112] = 5
    ok("icc_exif_alpha.webp", pil_webp(rgba_image("all", 24, 16), quality=90, icc_profile=p3, exif=exif.tobytes()))
    # XMP, and bytes after the RIFF chunk.
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF>'
           b'</x:xmpmeta>')
    ok("xmp.webp", riff(vp8x(F_XMP, 37, 23) + img + chunk(b"XMP ", xmp)),
       "XMP (with a tiff:Orientation, which Pillow 9.4 does not apply to WebP): dropped")
    ok("trailing.webp", pil_webp(base, lossless=True) + b"\0\0TRAILING BYTES", "bytes after the RIFF chunk")
    ok("unknown_chunk.webp", riff(vp8x(0, 37, 23) + chunk(b"ZZZZ", b"private") + img))

    # Animations: the first frame on the transparent canvas at its offset.
    f1 = image_data(pil_webp(rgba_image("f1", 15, 9), lossless=True, exact=True))
    f2 = image_data(pil_webp(rgb_image("f2", 20, 12), quality=80))
    f3 = image_data(pil_webp(rgba_image("f3", 7, 5), quality=80))
    anim = chunk(b"ANIM", struct.pack("<IH", 0xFF336699, 0))
    ok("anim_offset_alpha.webp",
       riff(vp8x(F_ANIM | F_ALPHA, 31, 21) + anim + anmf(4, 6, 15, 9, f1) + anmf(0, 0, 20, 12, f2)
            + anmf(24, 16, 7, 5, f3, blend=False)),
       "3 frames; frame 1 (VP8L with alpha) at (4,6) on a 31x21 canvas")
    # No alpha flag: Pillow shows RGB, the canvas outside the frame black.
    g1 = image_data(pil_webp(rgb_image("g1", 16, 10), quality=85))
    ok("anim_offset_noalpha.webp",
       riff(vp8x(F_ANIM, 30, 20) + anim + anmf(8, 4, 16, 10, g1) + anmf(0, 0, 20, 12, f2)),
       "2 frames without the alpha flag: frame 1 (VP8) at (8,4), the rest of the canvas black")
    h1 = image_data(pil_webp(rgba_image("h1", 20, 12), quality=80))
    ok("anim_lossy_alpha_full.webp",
       riff(vp8x(F_ANIM | F_ALPHA, 20, 12) + anim + anmf(0, 0, 20, 12, h1, blend=False) + anmf(2, 2, 15, 9, f1)),
       "frame 1 covers the canvas: ALPH + VP8 in an ANMF")
    ok("anim_pillow.webp", pil_webp(alpha, save_all=True, append_images=[base, alpha.rotate(180)], lossless=True,
                                    duration=50), "Pillow's own animation encoder")


# ---------------------------------------------------------------------------
# The public suites


# Files of the public suites whose outcome is not Pillow's, with the reason.
SHARED_DIFFERS = {}


def gen_shared(m):
    root = os.path.join(SHARED, SUITE)
    names = []
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".webp"):
                names.append(os.path.relpath(os.path.join(d, f), SHARED))
    for rel in sorted(names):
        with open(os.path.join(SHARED, rel), "rb") as f:
            data = f.read()
        path = "shared:" + rel
        if rel in SHARED_DIFFERS:
            outcome, why = SHARED_DIFFERS[rel]
            m.add(path, "-", outcome, "webp", why=why)
            continue
        try:
            pillow_expected(data, False, True)
        except Exception as e:  # noqa: BLE001 - Pillow's refusal is the expectation
            m.add(path, "-", "malformed", "webp",
                  why="Pillow refuses it (%s): malformed" % type(e).__name__)
            continue
        rows_for(m, path, data)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name in os.listdir(OUT_DIR):
        os.unlink(os.path.join(OUT_DIR, name))
    m = Manifest()
    gen_own(m)
    if os.path.isdir(os.path.join(SHARED, SUITE)):
        gen_shared(m)
    else:
        print("gen_webp.py: %s missing, the public suite left out" % SHARED)
    with open(MANIFEST, "w", newline="\n") as f:
        f.write("# SPDX-License-Identifier: MIT\n# Written by corpus/gen_webp.py; replayed by tests/test_images.c.\n"
                "# path\topts\toutcome\ttype\twidth\theight\tchannels\tfnv64\tchanges\n")
        for r in m.rows:
            f.write(r + "\n")
    n = sum(1 for r in m.rows if not r.startswith("#"))
    print("wrote %d files to %s, %d manifest rows" % (len(os.listdir(OUT_DIR)), os.path.relpath(OUT_DIR, ROOT), n))


if __name__ == "__main__":
    main()
