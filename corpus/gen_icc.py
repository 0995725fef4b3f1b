#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""ICC colour in PNG and JPEG, and PNG eXIf orientation: corpus/images/icc/ and corpus/images-icc.tsv.

Run with Debian's interpreter (Pillow 9.4 with ImageCms, linked against the same lcms2 2.14 as airlock):

    /usr/bin/python3 corpus/gen_icc.py                       # fixtures and manifest
    /usr/bin/python3 corpus/gen_icc.py --test-use-only DIR   # see below; writes only under DIR

The reference for every pixel is Pillow, independently of airlock:
    Image.open -> (ImageOps.exif_transpose) -> ImageCms.profileToProfile(im, profile,
    ImageCms.createProfile("sRGB"), renderingIntent=0 (perceptual), outputMode="RGB") -> alpha
    composited onto white as gen_images.py does.

airlock's rules, written down here and applied to each fixture (the manifest says what airlock must do):
  * A profile is taken from a PNG's iCCP ahead of the first IDAT, or from a JPEG's APP2 "ICC_PROFILE"
    segments ahead of the first SOS, joined as Pillow's JpegImagePlugin joins them (sorted as byte strings,
    dropped when the first one's count is not the number of segments: then there is no profile, as in
    Pillow and in libjpeg-turbo's jpeg_read_icc_profile).
  * Empty: no profile. Over 4 MiB (AIRLOCK_MAX_ICC_BYTES): too_large. lcms2 cannot open it, or its class is
    not input/display/output/colour space (a device link, abstract or named-colour profile describes no
    pixels): malformed. Its colour space is not the pixels' (an RGB profile in a grey PNG): ignored, as
    browsers do; Pillow would fail there (lcms2 refuses the transform), which is no answer for a sanitizer.
    lcms2 cannot build the transform: malformed. Otherwise the pixels go through the profile: icc_converted.
  * With the option noicc the profile is not looked at (today's behaviour).

Where airlock and Pillow must differ, and why:
  * PNG iCCP: Pillow inflates at most 1 MiB (it fails to open a file with a larger profile) and ignores a
    corrupt zlib stream; airlock takes profiles up to its own limit and calls a corrupt or truncated stream,
    a keyword that is not 1..79 bytes or a compression method other than 0 malformed. Two iCCP chunks are
    malformed (the PNG specification allows one; Pillow keeps the last).
  * Palette, grey+alpha and 16-bit grey PNGs: Pillow's ImageCms has no transform for modes P, LA and I (it
    guesses 8-bit grey and reads the wrong bytes). The reference converts P to RGB(A) first, transforms the
    L channel of LA and puts the alpha back, and reduces 16-bit grey to 8 bits (v >> 8, as airlock and
    libpng's strip_16 do) before the transform. That is what the profile means for those pixels.
  * PNG orientation: airlock reads the eXIf chunk only (the last one before IEND, as Pillow's getexif);
    Pillow also takes a "Raw profile type exif" text chunk and an XMP tiff:Orientation, which are not
    EXIF in the PNG specification. The fixture png_raw_profile_exif_orientation6.png records the difference.
  * A JPEG segment "ICC_PROFILE\\0" too short to hold its sequence number and count: Pillow fails to open
    the file (IndexError); airlock calls it malformed.

--test-use-only DIR: the profiles in ../shared/corpus-public/icc-test-files/test-use-only/ carry no licence
grant, so they are never copied into corpus/. This mode embeds each into a PNG under DIR/corpus/images/tuo/
and writes DIR/corpus/images-tuo.tsv; `build/tests/test-images inprocess DIR SHARED` then checks them in place.
"""

import glob
import io
import os
import struct
import sys
import zlib

from PIL import Image, ImageCms, ImageOps

import gen_images as gi

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = gi.SHARED
ICC_SUITE = os.path.join(SHARED, "icc-test-files")
COMPACT = os.path.join(ICC_SUITE, "profiles", "compact-icc-profiles")
MAX_ICC_BYTES = 4 << 20
SRGB = ImageCms.createProfile("sRGB")

CHANGE_ORDER = gi.CHANGE_ORDER + ["icc_converted"]
ORIENT_OPS = gi.ORIENT_OPS


def changes_str(names):
    unknown = set(names) - set(CHANGE_ORDER)
    assert not unknown, unknown
    names = [n for n in CHANGE_ORDER if n in names]
    return ",".join(names) if names else "-"


def profile(name):
    with open(os.path.join(COMPACT, name), "rb") as f:
        return f.read()


# Profiles made here (hostile_icc.py builds them; it runs without Pillow).
from hostile_icc import grey_profile  # noqa: E402


# Small CC0 profiles (saucecontrol/Compact-ICC-Profiles, see icc-test-files/SOURCE.txt), embedded as they are.
ADOBE = profile("AdobeCompat-v4.icc")
P3 = profile("DisplayP3-v4.icc")
REC2020 = profile("Rec2020-v4.icc")
PROPHOTO = profile("ProPhoto-v4.icc")
GREY = profile("sGrey-v4.icc")
GREY_LINEAR = grey_profile(1.0)  # sGrey is almost the identity to sRGB: this one is not
CMYK = profile("CGATS001Compat-v2-micro.icc")


# ---------------------------------------------------------------------------
# airlock's rules for a profile


def icc_rule(icc, space):
    """'none', 'ignore', 'apply', 'malformed' or 'too_large' for profile bytes on pixels of space
    ('GRAY', 'RGB' or 'CMYK'), decided with Pillow's ImageCms (lcms2)."""
    if icc is None or len(icc) == 0:
        return "none"
    if len(icc) > MAX_ICC_BYTES:
        return "too_large"
    if len(icc) < 132:
        return "malformed"
    try:
        p = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except Exception:
        return "malformed"
    # The header's class and colour space, as lcms2 reads them (Pillow's attributes fail on odd bytes).
    if icc[12:16] not in (b"scnr", b"mntr", b"prtr", b"spac"):
        return "malformed"
    if icc[16:20] != (space.encode() + b"    ")[:4]:
        return "ignore"
    mode = {"GRAY": "L", "RGB": "RGB", "CMYK": "CMYK"}[space]
    try:
        ImageCms.profileToProfile(Image.new(mode, (1, 1)), p, SRGB, renderingIntent=0, outputMode="RGB")
    except Exception:
        return "malformed"
    return "apply"


def to_srgb(im, icc):
    """Pillow+ImageCms: the reference transform (im is L, RGB or CMYK)."""
    p = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    return ImageCms.profileToProfile(im, p, SRGB, renderingIntent=0, outputMode="RGB")


# ---------------------------------------------------------------------------
# Reading what airlock reads


def png_chunks(data):
    """[(type, body)], trailing: the chunk list up to IEND."""
    pos, out = 8, []
    while pos + 12 <= len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        t = data[pos + 4:pos + 8]
        out.append((t, data[pos + 8:pos + 8 + n]))
        pos += 12 + n
        if t == b"IEND":
            return out, pos < len(data)
    return out, False


def iccp_profile(body):
    """airlock's inflate of an iCCP body: bytes, or 'malformed' / 'too_large'."""
    k = body.find(b"\0")
    if k < 1 or k > 79 or len(body) < k + 2 or body[k + 1] != 0:
        return "malformed"
    d = zlib.decompressobj()
    try:
        out = d.decompress(body[k + 2:], MAX_ICC_BYTES + 1)
    except zlib.error:
        return "malformed"
    if len(out) > MAX_ICC_BYTES:
        return "too_large"
    if not d.eof:
        return "malformed"
    return out


def png_icc(chunks):
    """The profile airlock takes from a PNG: None, bytes, or an outcome."""
    found = []
    for t, b in chunks:
        if t == b"IDAT":
            break
        if t == b"iCCP":
            found.append(b)
    if not found:
        return None
    if len(found) > 1:
        return "malformed"
    return iccp_profile(found[0])


def png_orientation(chunks):
    exif = None
    for t, b in chunks:
        if t == b"eXIf":
            exif = b
    if exif is None:
        return 1
    e = Image.Exif()
    try:
        e.load(b"Exif\x00\x00" + exif)
        o = e.get(0x0112, 1)
    except Exception:
        return 1
    return o if o in range(1, 9) else 1


def jpeg_icc(data):
    """The profile Pillow (and airlock) joins from a JPEG, or an outcome."""
    segs = [b for mk, b in gi.jpeg_segments(data) if mk == 0xE2 and b[:12] == b"ICC_PROFILE\0"]
    if not segs:
        return None
    if any(len(s) < 14 for s in segs):
        return "malformed"
    if sum(len(s) - 14 for s in segs) > MAX_ICC_BYTES:
        return "too_large"
    im = Image.open(io.BytesIO(data))
    return im.info.get("icc_profile")


# ---------------------------------------------------------------------------
# The reference


def png_base(data):
    """Pillow's decode as 8-bit colour pixels and alpha: (space, colour image, alpha list or None)."""
    im = Image.open(io.BytesIO(data))
    im.load()
    w, h = im.size
    depth, ctype = data[24], data[25]
    t = im.info.get("transparency")
    if im.mode == "P":
        rgba = im.convert("RGBA")
        alpha = list(rgba.getchannel("A").getdata()) if t is not None else None
        return "RGB", rgba.convert("RGB"), alpha
    if ctype == 4 and im.mode == "RGBA":  # Pillow opens 16-bit grey+alpha as RGBA, R = G = B
        g = im.getchannel("R")
        return "GRAY", g, list(im.getchannel("A").getdata())
    if im.mode in ("1", "L", "I", "I;16", "I;16B", "LA"):
        if im.mode == "LA":
            vals = list(im.getchannel("L").getdata())
            alpha = list(im.getchannel("A").getdata())
        elif im.mode in ("1", "L"):
            raw = list(im.getdata())
            vals = raw
            key = gi.grey_to8(t, depth) if t is not None else None
            alpha = [0 if v == key else 255 for v in raw] if t is not None else None
        else:
            raw = list(im.getdata())
            vals = [v >> 8 for v in raw]
            alpha = [0 if v == t else 255 for v in raw] if t is not None else None
        g = Image.new("L", (w, h))
        g.putdata(vals)
        return "GRAY", g, alpha
    if im.mode == "RGB":
        assert not (t is not None and depth == 16), "16-bit RGB tRNS: Pillow cannot say"
        alpha = [0 if p == t else 255 for p in im.getdata()] if t is not None else None
        return "RGB", im, alpha
    if im.mode == "RGBA":
        return "RGB", im.convert("RGB"), list(im.getchannel("A").getdata())
    raise ValueError(im.mode)


def finish(space, colour, alpha, icc_apply, icc, keep_alpha, orientation):
    """Colour image (L/RGB/CMYK) + alpha -> (w, h, ch, bytes): ICC, flatten, orient."""
    if icc_apply:
        rgb = to_srgb(colour, icc)
    elif space == "CMYK":
        rgb = Image.new("RGB", colour.size)
        rgb.putdata([(((255 - c) * (255 - k) + 127) // 255, ((255 - m) * (255 - k) + 127) // 255,
                      ((255 - y) * (255 - k) + 127) // 255) for c, m, y, k in colour.getdata()])
    else:
        rgb = colour.convert("RGB")
    a = alpha if alpha is not None else [255] * (rgb.size[0] * rgb.size[1])
    rgba = [p + (v,) for p, v in zip(rgb.getdata(), a)]
    ch, out = gi.finish_pixels(rgba, alpha is not None, keep_alpha)
    w, h = rgb.size
    if orientation in ORIENT_OPS:
        im = Image.frombytes("RGBA" if ch == 4 else "RGB", (w, h), out).transpose(ORIENT_OPS[orientation])
        w, h = im.size
        out = im.tobytes()
    return w, h, ch, out


def png_row(data, opts):
    """(outcome, w, h, ch, fnv, changes) for a PNG under airlock's rules."""
    keep, icc_on = "alpha" in opts, "noicc" not in opts
    chunks, trailing = png_chunks(data)
    depth, ctype, interlace = data[24], data[25], data[28]
    icc = png_icc(chunks) if icc_on else None
    if isinstance(icc, str):
        return (icc,)
    space, colour, alpha = png_base(data)
    rule = icc_rule(icc, space)
    if rule in ("malformed", "too_large"):
        return (rule,)
    orientation = png_orientation(chunks)
    w, h, ch, out = finish(space, colour, alpha, rule == "apply", icc, keep, orientation)
    names = set()
    types = [t for t, _ in chunks]
    if any(t not in (b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND") for t in types):
        names.add("metadata_dropped")
    has_alpha = ctype in (4, 6) or b"tRNS" in types
    if has_alpha and not keep:
        names.add("alpha_flattened")
    if keep and not has_alpha:
        names.add("alpha_added")
    if depth == 16:
        names.add("depth_reduced")
    if ctype == 3:
        names.add("palette_expanded")
    if ctype in (0, 4):
        names.add("grey_expanded")
    if trailing:
        names.add("trailing_dropped")
    if b"acTL" in types:
        names.add("animation_dropped")
    if interlace:
        names.add("interlace_removed")
    if rule == "apply":
        names.add("icc_converted")
    if orientation != 1:
        names.add("rotated")
    return ("ok", w, h, ch, gi.fnv64(out), changes_str(names))


def strip_icc(data):
    """The JPEG without its APP2 ICC_PROFILE segments (up to the first SOS)."""
    out, pos = bytearray(data[:2]), 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        mk = data[pos + 1]
        n, = struct.unpack(">H", data[pos + 2:pos + 4])
        if mk == 0xDA:
            break
        if not (mk == 0xE2 and data[pos + 4:pos + 16] == b"ICC_PROFILE\0"):
            out += data[pos:pos + 2 + n]
        pos += 2 + n
    return bytes(out + data[pos:])


def jpeg_row(data, opts):
    keep, icc_on = "alpha" in opts, "noicc" not in opts
    icc = jpeg_icc(data) if icc_on else None
    if isinstance(icc, str):
        return (icc,)
    # The pixels do not depend on the ICC segments; Pillow cannot open a file with a short one (noicc rows).
    pixels = data if icc_on else strip_icc(data)
    im = Image.open(io.BytesIO(pixels))
    im.load()
    orientation = im.getexif().get(0x0112, 1)
    space = {"L": "GRAY", "RGB": "RGB", "CMYK": "CMYK"}[im.mode]
    rule = icc_rule(icc, space)
    if rule in ("malformed", "too_large"):
        return (rule,)
    w, h, ch, out = finish(space, im, None, rule == "apply", icc, keep, orientation)
    if rule != "apply":  # the existing reference must agree where no profile applies
        ref = gi.jpeg_expected(pixels, keep)
        assert (ref[0], ref[1], ref[2], ref[3]) == (w, h, ch, out), "jpeg reference mismatch"
    trailing = not data.rstrip(b"\0").endswith(b"\xff\xd9")
    ch_names = gi.jpeg_changes(data, orientation, keep, trailing)
    names = set() if ch_names == "-" else set(ch_names.split(","))
    if rule == "apply":
        names.add("icc_converted")
    return ("ok", w, h, ch, gi.fnv64(out), changes_str(names))


# ---------------------------------------------------------------------------
# Writing fixtures


class Manifest:
    def __init__(self, path):
        self.path, self.rows = path, []

    def add(self, path, opts, ftype, res, why=None):
        if why:
            self.rows.append("# " + why)
        cols = [path, opts, res[0], ftype] + (list(res[1:]) if res[0] == "ok" else ["-"] * 5)
        self.rows.append("\t".join(str(v) for v in cols))

    def write(self):
        head = "# path\topts\toutcome\ttype\twidth\theight\tchannels\tfnv64\tchanges"
        with open(self.path, "w", newline="\n") as f:
            f.write("# SPDX-License-Identifier: MIT\n# Written by corpus/gen_icc.py; do not edit.\n" + head + "\n")
            for r in self.rows:
                f.write(r + "\n")


class Out:
    def __init__(self, root, sub, manifest):
        self.dir = os.path.join(root, "corpus", "images", sub)
        self.root, self.m = root, Manifest(manifest)
        os.makedirs(self.dir, exist_ok=True)
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        self.worst = 0

    def fixture(self, name, data, opts_list=("-",), why=None):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        mime = gi.mime_of(path)
        ftype = {"image/png": "png", "image/jpeg": "jpeg"}[mime]
        for i, opts in enumerate(opts_list):
            res = png_row(data, opts) if ftype == "png" else jpeg_row(data, opts)
            self.m.add(os.path.relpath(path, self.root), opts, ftype, res, why if i == 0 else None)

    def shared(self, rel, opts_list=("-",), why=None):
        path = os.path.join(SHARED, rel)
        with open(path, "rb") as f:
            data = f.read()
        ftype = {"image/png": "png", "image/jpeg": "jpeg"}[gi.mime_of(path)]
        for i, opts in enumerate(opts_list):
            res = png_row(data, opts) if ftype == "png" else jpeg_row(data, opts)
            self.m.add("shared:" + rel, opts, ftype, res, why if i == 0 else None)


def iccp(icc, keyword=b"ICC Profile", method=0, raw=None):
    return (b"iCCP", keyword + b"\0" + bytes((method,)) + (zlib.compress(icc, 9) if raw is None else raw))


def exif_chunk(o):
    e = Image.Exif()
    e[0x0112] = o
    b = e.tobytes()
    return (b"eXIf", b[6:] if b.startswith(b"Exif\x00\x00") else b)


def spec(name, w, h, depth, ctype, trns=None):
    if ctype == 3:
        return gi.PngSpec(w, h, depth, ctype, gi.indices(name, w, h, 16), plte=gi.palette(16, 5), trns=trns)
    return gi.PngSpec(w, h, depth, ctype, gi.pattern(name, w, h, depth, gi.CHANNELS[ctype], ctype in (4, 6)),
                      trns=trns)


def png(s, before=(), after_idat=()):
    return gi.png_bytes(s.chunks(before=before, after_idat=after_idat))


def gen_png(o):
    W, H = 16, 12
    for tag, icc in (("adobe", ADOBE), ("p3", P3), ("rec2020", REC2020), ("prophoto", PROPHOTO)):
        s = spec("icc_rgb8_" + tag, W, H, 8, 2)
        o.fixture("png_rgb8_%s.png" % tag, png(s, [iccp(icc)]),
                  ("-", "alpha", "noicc") if tag == "adobe" else ("-",))
    o.fixture("png_rgba8_adobe.png", png(spec("icc_rgba8", W, H, 8, 6), [iccp(ADOBE)]), ("-", "alpha", "noicc"))
    o.fixture("png_rgba16_p3.png", png(spec("icc_rgba16", W, H, 16, 6), [iccp(P3)]), ("-", "alpha"))
    o.fixture("png_rgb16_prophoto.png", png(spec("icc_rgb16", W, H, 16, 2), [iccp(PROPHOTO)]))
    o.fixture("png_rgb8_trns_rec2020.png", png(spec("icc_rgb8_trns", W, H, 8, 2, trns=(0, 0, 0)),
                                               [iccp(REC2020)]), ("-", "alpha"))
    o.fixture("png_pal4_p3.png", png(spec("icc_pal4", W, H, 4, 3), [iccp(P3)]), ("-", "alpha"))
    o.fixture("png_pal8_trns_adobe.png", png(spec("icc_pal8_trns", W, H, 8, 3, trns=[0, 64, 128, 255, 200]),
                                             [iccp(ADOBE)]), ("-", "alpha", "noicc"))
    for depth in (1, 4, 8, 16):
        o.fixture("png_grey%d_lingrey.png" % depth, png(spec("icc_grey%d" % depth, W, H, depth, 0), [iccp(GREY_LINEAR)]),
                  ("-", "alpha", "noicc") if depth == 8 else ("-",))
    o.fixture("png_grey8_sgrey.png", png(spec("icc_grey8", W, H, 8, 0), [iccp(GREY)]),
              why="sGrey: grey to sRGB is almost the identity (the other grey rows use a linear grey profile)")
    o.fixture("png_grey8_trns_lingrey.png", png(spec("icc_grey8_trns", W, H, 8, 0, trns=7), [iccp(GREY_LINEAR)]),
              ("-", "alpha"))
    o.fixture("png_greyalpha8_lingrey.png", png(spec("icc_ga8", W, H, 8, 4), [iccp(GREY_LINEAR)]), ("-", "alpha"))
    o.fixture("png_greyalpha16_lingrey.png", png(spec("icc_ga16", W, H, 16, 4), [iccp(GREY_LINEAR)]))
    s = spec("icc_adam7", 13, 11, 8, 2)
    s.interlace = 1
    o.fixture("png_adam7_rgb8_p3.png", png(s, [iccp(P3)]))

    # Profiles of another colour space than the pixels': ignored.
    o.fixture("png_grey8_rgbprofile.png", png(spec("icc_grey8_rgbp", W, H, 8, 0), [iccp(ADOBE)]),
              why="an RGB profile in a grey PNG: ignored, as browsers do (Pillow's transform fails)")
    o.fixture("png_rgb8_greyprofile.png", png(spec("icc_rgb8_greyp", W, H, 8, 2), [iccp(GREY_LINEAR)]))
    o.fixture("png_rgb8_cmykprofile.png", png(spec("icc_rgb8_cmykp", W, H, 8, 2), [iccp(CMYK)]))
    base = spec("icc_rgb8_odd", W, H, 8, 2)
    o.fixture("png_rgb8_empty_iccp.png", png(base, [iccp(b"")]), why="a zero-length profile: no profile")
    o.fixture("png_rgb8_two_iccp.png", png(base, [iccp(ADOBE), iccp(P3)]), ("-", "noicc"),
              why="two iCCP chunks: the specification allows one; which one is meant is a guess")
    o.fixture("png_rgb8_iccp_badzlib.png", png(base, [iccp(ADOBE, raw=b"\x78\x9c" + b"\xff" * 40)]),
              ("-", "noicc"))
    o.fixture("png_rgb8_iccp_truncated.png", png(base, [iccp(ADOBE, raw=zlib.compress(ADOBE, 9)[:-20])]))
    o.fixture("png_rgb8_iccp_method1.png", png(base, [iccp(ADOBE, method=1)]))
    o.fixture("png_rgb8_iccp_nokeyword.png", png(base, [iccp(ADOBE, keyword=b"")]))
    o.fixture("png_rgb8_iccp_notaprofile.png", png(base, [iccp(b"not a profile " * 20)]), ("-", "noicc"))
    o.fixture("png_rgb8_iccp_after_idat.png", png(base, after_idat=[iccp(ADOBE)]),
              why="iCCP after IDAT is out of place (Pillow applies it after load()): ignored")

    # eXIf orientation, Pillow's exif_transpose mapping.
    for ori in range(1, 9):
        s = spec("exif_rgb8", 24, 16, 8, 2)
        o.fixture("png_exif_orientation%d.png" % ori, png(s, [exif_chunk(ori)]),
                  ("-", "alpha") if ori == 6 else ("-",))
    s = spec("exif_tall", 37, 301, 8, 2)
    o.fixture("png_exif_orientation6_37x301.png", png(s, [exif_chunk(6)]))
    s = spec("exif_after", 24, 16, 8, 6)
    o.fixture("png_rgba8_exif_orientation7_after_idat.png", png(s, after_idat=[exif_chunk(7)]), ("-", "alpha"),
              why="eXIf after the image data: Pillow's getexif reads it (it loads the image first)")
    s = spec("exif_icc", 24, 16, 8, 4)
    o.fixture("png_greyalpha8_lingrey_exif_orientation5.png", png(s, [iccp(GREY_LINEAR), exif_chunk(5)]), ("-", "alpha"),
              why="decode -> ICC -> flatten -> orient")
    s = spec("exif_two", 24, 16, 8, 2)
    o.fixture("png_exif_two_last_wins.png", png(s, [exif_chunk(3), exif_chunk(8)]),
              why="two eXIf chunks: the last one, as Pillow's getexif")
    raw = Image.Exif()
    raw[0x0112] = 6
    hexed = raw.tobytes().hex()
    text = "\nexif\n%8d\n%s\n" % (len(raw.tobytes()), hexed)
    s = spec("exif_raw_profile", 24, 16, 8, 2)
    data = png(s, [(b"tEXt", b"Raw profile type exif\0" + text.encode())])
    assert ImageOps.exif_transpose(Image.open(io.BytesIO(data))).size == (16, 24)  # Pillow rotates it
    o.fixture("png_raw_profile_exif_orientation6.png", data,
              why="orientation in a 'Raw profile type exif' text chunk: Pillow rotates, airlock reads eXIf only")


def jpeg_with_icc_segments(data, chunks, order=None, count=None):
    """Adds ICC_PROFILE segments (chunks, sequence numbers 1..n) after APP0, in the given order."""
    n = len(chunks)
    segs = [b"ICC_PROFILE\0" + bytes((i + 1, n if count is None else count)) + c for i, c in enumerate(chunks)]
    if order:
        segs = [segs[i] for i in order]
    return gi.insert_after_app0(data, [(0xE2, s) for s in segs])


def split(b, n):
    k = (len(b) + n - 1) // n
    return [b[i:i + k] for i in range(0, len(b), k)]


def gen_jpeg(o):
    base = gi.rgb_image("icc_jpeg", 40, 32)
    for tag, icc in (("adobe", ADOBE), ("p3", P3), ("rec2020", REC2020), ("prophoto", PROPHOTO)):
        o.fixture("jpeg_rgb_%s.jpg" % tag, gi.pil_jpeg(base, quality=90, icc_profile=icc),
                  ("-", "alpha", "noicc") if tag == "adobe" else ("-",))
    o.fixture("jpeg_grey_lingrey.jpg", gi.pil_jpeg(base.convert("L"), quality=90, icc_profile=GREY_LINEAR),
              ("-", "alpha", "noicc"))
    cm = Image.new("CMYK", (24, 16))
    cm.putdata(gi.cmyk_samples(24, 16))
    o.fixture("jpeg_cmyk_cgats.jpg", gi.pil_jpeg(cm, quality=95, icc_profile=CMYK), ("-", "alpha", "noicc"),
              why="CMYK through its profile, not the naive formula (cmyk_converted still set)")
    cmt = Image.new("CMYK", (24, 200))
    cmt.putdata(gi.cmyk_samples(24, 200))
    ex = Image.Exif()
    ex[0x0112] = 5
    o.fixture("jpeg_cmyk_cgats_orientation5_24x200.jpg",
              gi.pil_jpeg(cmt, quality=90, icc_profile=CMYK, exif=ex.tobytes()), ("-", "alpha"))
    ex[0x0112] = 6
    o.fixture("jpeg_rgb_adobe_orientation6_37x301.jpg",
              gi.pil_jpeg(gi.rgb_image("icc_tall", 37, 301), quality=90, icc_profile=ADOBE, exif=ex.tobytes()),
              ("-", "alpha"), why="converted band by band, then oriented")
    ex[0x0112] = 8
    o.fixture("jpeg_grey_lingrey_orientation8.jpg",
              gi.pil_jpeg(gi.rgb_image("icc_grey_o8", 30, 20).convert("L"), quality=90, icc_profile=GREY_LINEAR,
                          exif=ex.tobytes()), ("-", "alpha"))
    plain = gi.pil_jpeg(base, quality=90)
    o.fixture("jpeg_rgb_p3_3segments_shuffled.jpg", jpeg_with_icc_segments(plain, split(P3, 3), order=[2, 0, 1]),
              why="segments joined in sequence order, whatever their order in the file")
    o.fixture("jpeg_rgb_p3_wrong_count.jpg", jpeg_with_icc_segments(plain, split(P3, 3)[:2], count=3),
              why="a segment missing (count 3, two present): no profile, as Pillow and libjpeg-turbo")
    o.fixture("jpeg_grey_rgbprofile.jpg", gi.pil_jpeg(base.convert("L"), quality=90, icc_profile=ADOBE))
    o.fixture("jpeg_rgb_greyprofile.jpg", gi.pil_jpeg(base, quality=90, icc_profile=GREY_LINEAR))
    o.fixture("jpeg_cmyk_rgbprofile.jpg", gi.pil_jpeg(cm, quality=95, icc_profile=ADOBE),
              why="an RGB profile on CMYK: ignored, the naive formula")
    o.fixture("jpeg_rgb_icc_notaprofile.jpg", jpeg_with_icc_segments(plain, [b"not a profile " * 20]),
              ("-", "noicc"))
    o.fixture("jpeg_rgb_icc_short_segment.jpg",
              gi.insert_after_app0(plain, [(0xE2, b"ICC_PROFILE\0\x01")]), ("-", "noicc"),
              why="an ICC segment with no room for its count: Pillow fails to open it")


def gen_shared(o):
    for path in sorted(glob.glob(os.path.join(ICC_SUITE, "embedded", "*", "*"))):
        rel = os.path.relpath(path, SHARED)
        if gi.mime_of(path) not in ("image/png", "image/jpeg"):
            continue  # WebP and TIFF: their generators
        o.shared(rel, ("-", "noicc"))


def gen_profiles(o, paths, prefix):
    """Each profile embedded into a small PNG of its own colour space (RGB when lcms2 cannot say)."""
    for path in paths:
        with open(path, "rb") as f:
            icc = f.read()
        ctype = 0 if icc[16:20] == b"GRAY" else 2
        rel = os.path.relpath(path, ICC_SUITE).replace("/", "_")
        name = prefix + rel[:-4].replace(".", "_") + ".png"
        s = spec("prof_" + ("grey" if ctype == 0 else "rgb"), 8, 6, 8, ctype)
        o.fixture(name, png(s, [iccp(icc)]))


def main():
    if "--test-use-only" in sys.argv[1:]:
        root = sys.argv[sys.argv.index("--test-use-only") + 1]
        o = Out(root, "tuo", os.path.join(root, "corpus", "images-tuo.tsv"))
        gen_profiles(o, sorted(glob.glob(os.path.join(ICC_SUITE, "test-use-only", "**", "*.icc"), recursive=True)),
                     "tuo_")
        o.m.write()
        print("wrote %d rows to %s" % (sum(1 for r in o.m.rows if not r.startswith("#")), o.m.path))
        return
    o = Out(ROOT, "icc", os.path.join(HERE, "images-icc.tsv"))
    gen_png(o)
    gen_jpeg(o)
    gen_shared(o)
    gen_profiles(o, sorted(glob.glob(os.path.join(ICC_SUITE, "profiles", "**", "*.icc"), recursive=True)),
                 "prof_")
    o.m.write()
    rows = [r for r in o.m.rows if not r.startswith("#")]
    outcomes = {}
    for r in rows:
        outcomes[r.split("\t")[2]] = outcomes.get(r.split("\t")[2], 0) + 1
    print("wrote %d files, %d rows (%s)" % (len(os.listdir(o.dir)), len(rows),
                                           ", ".join("%s %d" % kv for kv in sorted(outcomes.items()))))


if __name__ == "__main__":
    main()
