#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Generates the TIFF fixtures in corpus/images/tiff/ and the manifest corpus/images-tiff.tsv.

Run with Debian's interpreter:  /usr/bin/python3 corpus/gen_tiff.py

Needs (Debian 12): python3-pil (Pillow 9.4 with libtiff 4.5.0 and ImageCms),
libtiff-tools (tiffcp, to recompress, tile and re-order the fixtures and to
read the public files as libtiff's own tools do), file (libmagic).

Expected values are computed without the code under test:
  * Fixtures: written here, uncompressed, from known sample arrays, then
    recompressed or tiled by tiffcp. The reference pixels are Pillow's decode
    (ImageCms.profileToProfile to sRGB when there is a profile, then RGB or
    the RGBA composite onto white of gen_images.py). Pillow applies the
    Orientation tag of a TIFF as it loads it (exif_transpose would apply it a
    second time), so the loaded image is already the oriented one; for the lossless ones they must equal the output rules
    applied to the source arrays. Where Pillow cannot decode a layout or
    decodes it wrongly the source arrays are the reference, and the row's
    comment says why:
      - 16-bit grey: Pillow's I;16 -> RGB clips at 255 where airlock, like its
        PNG decoder and like Pillow's own 16-bit RGB unpackers, keeps the high
        byte; and Pillow ignores MinIsWhite at 16 bits.
      - grey + alpha other than 8-bit unassociated, CMYK + alpha: Pillow has
        no mode for them.
  * Public files (shared:tiff-test-files, the TIFFs of icc-test-files/embedded):
    the outcome follows from the file's tags, read by an IFD parser here, and
    from libtiff's tools: outside the subset -> unsupported; libtiff reports an
    error or warning reading image 0 (tiffcp FILE,0) -> malformed; else Pillow's
    pixels. Files libmagic does not call image/tiff are rows of their own
    (unsupported media, or no type).

The output is deterministic: no timestamps, fixed patterns.
"""

import io
import os
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gen_images import ORIENT_OPS, blend, fnv64, mime_of, pattern, palette  # noqa: E402

from PIL import Image, ImageCms, ImageOps  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT_DIR = os.path.join(HERE, "images", "tiff")
MANIFEST = os.path.join(HERE, "images-tiff.tsv")
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus-public"))
PROFILES = os.path.join(SHARED, "icc-test-files", "profiles", "compact-icc-profiles")

CHANGE_ORDER = [
    "metadata_dropped", "rotated", "alpha_flattened", "depth_reduced", "cmyk_converted",
    "palette_expanded", "grey_expanded", "alpha_added", "trailing_dropped",
    "animation_dropped", "interlace_removed", "truncated", "downmixed", "resampled",
    "format_converted", "icc_converted",
]

# Tags that describe the pixels of IFD 0 (decoders/tiff.c, pixel_tag); any other is metadata.
PIXEL_TAGS = {254, 255, 256, 257, 258, 259, 262, 266, 273, 274, 277, 278, 279, 284, 317, 320, 322, 323, 324,
              325, 332, 338, 339, 347, 530, 531, 532}
SUPPORTED_COMPRESSION = {1, 5, 7, 8, 32773, 32946}


def changes_str(names):
    unknown = set(names) - set(CHANGE_ORDER)
    assert not unknown, unknown
    names = [n for n in CHANGE_ORDER if n in names]
    return ",".join(names) if names else "-"


# ---------------------------------------------------------------------------
# Writing TIFF by hand (uncompressed, one strip, classic)

SHORT, LONG, ASCII, UNDEFINED, RATIONAL = 3, 4, 2, 7, 5
TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1}


def pack_samples(values, bps, le):
    if bps == 16:
        return struct.pack(("<" if le else ">") + "%dH" % len(values), *values)
    if bps == 8:
        return bytes(values)
    return None


def pack_rows(px, w, h, spp, bps, le):
    """px: flat list of samples, row-major. Rows are byte-aligned."""
    out = bytearray()
    for y in range(h):
        row = px[y * w * spp:(y + 1) * w * spp]
        if bps >= 8:
            out += pack_samples(row, bps, le)
            continue
        bits, n = 0, 0
        for v in row:
            bits = (bits << bps) | v
            n += bps
            if n == 8:
                out.append(bits)
                bits, n = 0, 0
        if n:
            out.append(bits << (8 - n))
    return bytes(out)


def write_tiff(w, h, spp, bps, photometric, px, le=True, extra=None, colormap=None, tags=(), compression=1,
               data=None, planar=None):
    """A classic TIFF, one strip. tags: extra (tag, type, values) entries; data replaces the strip."""
    e = "<" if le else ">"
    strip = data if data is not None else pack_rows(px, w, h, spp, bps, le)
    entries = [(256, LONG, [w]), (257, LONG, [h]), (258, SHORT, [bps] * spp), (259, SHORT, [compression]),
               (262, SHORT, [photometric]), (273, LONG, [0]), (277, SHORT, [spp]), (278, LONG, [h]),
               (279, LONG, [len(strip)])]
    if extra is not None:
        entries.append((338, SHORT, [extra]))
    if colormap is not None:
        entries.append((320, SHORT, colormap))
    if planar is not None:
        entries.append((284, SHORT, [planar]))
    entries += list(tags)
    entries.sort(key=lambda t: t[0])

    def value_bytes(typ, vals):
        if typ in (ASCII, UNDEFINED, 1):
            return bytes(vals)
        if typ == SHORT:
            return struct.pack(e + "%dH" % len(vals), *vals)
        if typ == LONG:
            return struct.pack(e + "%dI" % len(vals), *vals)
        if typ == RATIONAL:
            return b"".join(struct.pack(e + "II", a, b) for a, b in vals)
        raise ValueError(typ)

    ifd_off = 8
    ifd_size = 2 + 12 * len(entries) + 4
    data_off = ifd_off + ifd_size
    blobs = bytearray()
    body = bytearray(struct.pack(e + "H", len(entries)))
    strip_entry_pos = None
    for tag, typ, vals in entries:
        vb = value_bytes(typ, vals)
        count = len(vals) if typ != ASCII else len(vb)
        if tag == 273:
            strip_entry_pos = len(body) + 8
        if len(vb) <= 4:
            body += struct.pack(e + "HHI", tag, typ, count) + vb.ljust(4, b"\0")
        else:
            body += struct.pack(e + "HHII", tag, typ, count, data_off + len(blobs))
            blobs += vb
            if len(blobs) % 2:
                blobs += b"\0"
    body += struct.pack(e + "I", 0)
    strip_off = data_off + len(blobs)
    body[strip_entry_pos:strip_entry_pos + 4] = struct.pack(e + "I", strip_off)
    head = (b"II*\0" if le else b"MM\0*") + struct.pack(e + "I", ifd_off)
    return head + bytes(body) + bytes(blobs) + strip


def tiffcp(data, args, tmp):
    src, dst = os.path.join(tmp, "in.tif"), os.path.join(tmp, "out.tif")
    with open(src, "wb") as f:
        f.write(data)
    if os.path.exists(dst):
        os.remove(dst)
    subprocess.run(["tiffcp"] + args + [src, dst], check=True, capture_output=True)
    with open(dst, "rb") as f:
        return f.read()


# ---------------------------------------------------------------------------
# The output rules, from samples (the reference where Pillow cannot be one)


def unpremultiply(v, a):
    # Pillow's unpackRGBa: truncating, alpha 0 gives 0.
    if a == 0:
        return 0
    if a == 255:
        return v
    return min(255, v * 255 // a)


def to8(v, bps):
    return v >> 8 if bps == 16 else v if bps == 8 else v * (255 // ((1 << bps) - 1))


def rules_rgba(kind, w, h, spp, bps, px, alpha=0, miniswhite=False, cmap=None):
    """Source samples -> list of (r, g, b, a) 8-bit tuples, by decoders/tiff.c's rules."""
    out = []
    colour = {"grey": 1, "rgb": 3, "pal": 1, "cmyk": 4}[kind]
    for i in range(w * h):
        s = px[i * spp:(i + 1) * spp]
        if kind == "pal":
            c = [cmap[0][s[0]] >> 8, cmap[1][s[0]] >> 8, cmap[2][s[0]] >> 8]
        else:
            c = [to8(v, bps) for v in s[:colour]]
            if miniswhite:
                c = [255 - v for v in c]
        a = 255
        if alpha:
            a = to8(s[colour], bps)
            if alpha == 1:
                c = [unpremultiply(v, a) for v in c]
        if kind == "grey":
            c = [c[0]] * 3
        elif kind == "cmyk":
            k = 255 - c[3]
            c = [((255 - v) * k + 127) // 255 for v in c[:3]]
        out.append((c[0], c[1], c[2], a))
    return out


def finish(w, h, rgba, has_alpha, keep_alpha, orientation=1):
    """RGBA tuples -> oriented (w, h, channels, bytes) by the output rules."""
    im = Image.new("RGBA", (w, h))
    im.putdata(rgba)
    if orientation in ORIENT_OPS:
        im = im.transpose(ORIENT_OPS[orientation])
    out = bytearray()
    if keep_alpha:
        ch = 4
        out = im.tobytes()
    elif has_alpha:
        ch = 3
        for r, g, b, a in im.getdata():
            out += bytes((blend(r, a), blend(g, a), blend(b, a)))
    else:
        ch = 3
        out = im.convert("RGB").tobytes()
    return im.size[0], im.size[1], ch, fnv64(bytes(out))


# ---------------------------------------------------------------------------
# Pillow as the reference


class NoPillow(Exception):
    pass


def pillow_expected(data, keep_alpha, use_icc=True):
    """Pillow's decode -> (ICC) -> exif_transpose -> RGB / RGBA composite. NoPillow where Pillow cannot."""
    try:
        im = Image.open(io.BytesIO(data))
        im.load()
    except Exception as ex:  # noqa: BLE001 - any failure means Pillow is no reference here
        raise NoPillow(str(ex))
    tags = im.tag_v2
    bps = tags.get(258, (1,))
    if isinstance(bps, int):
        bps = (bps,)
    if im.mode in ("I;16", "I;16B", "I;16L"):
        # Pillow's own I;16 -> L clips at 255 and it keeps MinIsWhite's values as stored: its decoded
        # 16-bit samples are the reference, reduced to 8 by the high byte and inverted by the output rules.
        inv = tags.get(262) == 0
        vals = [(255 - (v >> 8)) if inv else v >> 8 for v in im.getdata()]
        info = dict(im.info)
        im = Image.frombytes("L", im.size, bytes(vals))
        im.info = info
    if im.mode in ("I", "F", "LAB", "YCbCr"):
        raise NoPillow("mode " + im.mode)
    orientation = tags.get(274, 1)
    has_alpha = im.mode in ("RGBA", "LA", "PA")
    if im.mode in ("P", "PA"):
        im = im.convert("RGBA" if has_alpha else "RGB")
    elif im.mode == "1":
        im = im.convert("L")
    elif im.mode == "RGBX":
        im = im.convert("RGB")
    icc = im.info.get("icc_profile") if use_icc else None
    converted = False
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        except Exception as ex:  # noqa: BLE001
            raise NoPillow("profile: %s" % ex)
        space = src.profile.xcolor_space.strip()
        want = {"L": "GRAY", "LA": "GRAY", "RGB": "RGB", "RGBA": "RGB", "CMYK": "CMYK"}[im.mode]
        if space == want:
            im = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"),
                                           outputMode="RGBA" if has_alpha else "RGB")
            converted = True
    if im.mode == "CMYK":
        rgba = [(((255 - c) * (255 - k) + 127) // 255, ((255 - m) * (255 - k) + 127) // 255,
                 ((255 - y) * (255 - k) + 127) // 255, 255) for c, m, y, k in im.getdata()]
    elif im.mode == "L":
        rgba = [(v, v, v, 255) for v in im.getdata()]
    elif im.mode == "LA":
        rgba = [(v, v, v, a) for v, a in im.getdata()]
    elif im.mode == "RGB":
        rgba = [p + (255,) for p in im.getdata()]
    elif im.mode == "RGBA":
        rgba = list(im.getdata())
    else:
        raise NoPillow("mode " + im.mode)
    # Pillow 9.4 applies a TIFF's Orientation tag itself as it loads (TiffImageFile.load_end), and
    # ImageOps.exif_transpose would then apply it a second time (a mirror undone, a rotation by 180 where
    # 90 was meant): the reference is the image as Pillow loads it, oriented once.
    w, h = im.size
    res = finish(w, h, rgba, has_alpha, keep_alpha, 1)
    return res, orientation, has_alpha, converted


# ---------------------------------------------------------------------------
# The manifest


class Manifest:
    def __init__(self):
        self.rows = []

    def add(self, path, opts, outcome, w="-", h="-", ch="-", fnv="-", changes="-", why=None, ftype="tiff"):
        if why:
            self.rows.append("# " + why)
        self.rows.append("\t".join(str(v) for v in (path, opts, outcome, ftype, w, h, ch, fnv, changes)))

    def write(self):
        head = "# path\topts\toutcome\ttype\twidth\theight\tchannels\tfnv64\tchanges"
        with open(MANIFEST, "w", newline="\n") as f:
            f.write("# SPDX-License-Identifier: MIT\n# Written by corpus/gen_tiff.py.\n" + head + "\n")
            for r in self.rows:
                f.write(r + "\n")


def rel(path):
    return os.path.relpath(path, ROOT)


# ---------------------------------------------------------------------------
# IFD 0, read here (independent of libtiff and of airlock)


def ifd0(data):
    """-> (tags {id: (type, count, values or None)}, other_ifds) or None when unreadable."""
    if len(data) < 8 or data[:2] not in (b"II", b"MM"):
        return None
    e = "<" if data[:2] == b"II" else ">"
    ver = struct.unpack(e + "H", data[2:4])[0]
    if ver == 42:
        off = struct.unpack(e + "I", data[4:8])[0]
        cfmt, efmt, esz, nfmt, inline = "H", "HHI", 12, "I", 4
    elif ver == 43 and len(data) >= 16:
        off = struct.unpack(e + "Q", data[8:16])[0]
        cfmt, efmt, esz, nfmt, inline = "Q", "HHQ", 20, "Q", 8
    else:
        return None
    csz = struct.calcsize(e + cfmt)
    if off + csz > len(data):
        return None
    n = struct.unpack(e + cfmt, data[off:off + csz])[0]
    if off + csz + n * esz > len(data):
        return None
    tags = {}
    for i in range(n):
        p = off + csz + i * esz
        tag, typ, count = struct.unpack(e + efmt, data[p:p + struct.calcsize(e + efmt)])
        vp = p + struct.calcsize(e + efmt)
        size = TYPE_SIZE.get(typ, 0) * count
        vals = None
        if typ in (3, 4) and size and count < 1 << 16:
            where = vp if size <= inline else struct.unpack(e + nfmt, data[vp:vp + inline])[0]
            raw = data[where:where + size]
            if len(raw) == size:
                vals = list(struct.unpack(e + "%d%s" % (count, "H" if typ == 3 else "I"), raw))
        tags.setdefault(tag, (typ, count, vals))
    np_ = off + csz + n * esz
    nxt = struct.unpack(e + nfmt, data[np_:np_ + struct.calcsize(e + nfmt)])[0] if np_ + struct.calcsize(e + nfmt) <= len(
        data) else 0
    return tags, 0 < nxt < len(data)


def first(tags, tag, default):
    t = tags.get(tag)
    if t is None or not t[2]:
        return default
    return t[2][0]


def subset_verdict(tags):
    """None when IFD 0 is inside airlock's subset, else the reason it is not."""
    comp = first(tags, 259, 1)
    photo = first(tags, 262, None)
    spp = first(tags, 277, 1)
    bps = first(tags, 258, 1)
    if comp not in SUPPORTED_COMPRESSION:
        return "compression %d" % comp
    if first(tags, 284, 1) != 1:
        return "separate planes"
    if first(tags, 339, 1) not in (1, 4):  # 4: "void", read as unsigned
        return "sample format %d" % first(tags, 339, 1)
    if comp in (5, 8, 32946) and first(tags, 317, 1) not in (1, 2):
        return "predictor %d" % first(tags, 317, 1)
    colour = {0: 1, 1: 1, 2: 3, 3: 1, 5: 4, 6: 3}.get(photo)
    if colour is None:
        return "photometric %s" % photo
    depths = {0: (1, 2, 4, 8, 16), 1: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 5: (8,), 6: (8,)}[photo]
    if bps not in depths:
        return "%d bits" % bps
    if photo == 6 and comp != 7:
        return "YCbCr outside JPEG"
    if photo == 5 and first(tags, 332, 1) != 1:
        return "ink set"
    if spp > colour + 1:
        return "%d extra samples" % (spp - colour)
    extra = tags.get(338, (0, 0, None))[2] or []
    if photo == 5 and extra[:1] == [1]:
        return "premultiplied CMYK"
    return None


# ---------------------------------------------------------------------------
# Fixtures


STATS = {"rows": 0, "pillow": 0, "rules": 0}


def expected_rows(m, name, data, kind, w, h, spp, bps, px, alpha=0, miniswhite=False, cmap=None, lossless=True,
                  orientation=1, icc=False, metadata=False, pillow_ok=True, why=None, both=True):
    """Rows for a fixture, keep_alpha off and on; Pillow's pixels unless pillow_ok is False."""
    path = os.path.join(OUT_DIR, name)
    with open(path, "wb") as f:
        f.write(data)
    assert mime_of(path) == "image/tiff", name
    has_alpha = alpha in (1, 2)
    for keep in ((False, True) if both else (False,)):
        for use_icc in ((True, False) if icc else (True,)):
            ref = None
            converted = False
            if pillow_ok:
                ref, o, pil_alpha, converted = pillow_expected(data, keep, use_icc)
                assert o == orientation and pil_alpha == has_alpha, (name, o, pil_alpha)
                STATS["pillow"] += 1
            if lossless and not (icc and use_icc):
                rules = finish(w, h, rules_rgba(kind, w, h, spp, bps, px, alpha, miniswhite, cmap), has_alpha, keep,
                               orientation)
                if ref is None:
                    ref = rules
                    STATS["rules"] += 1
                assert ref == rules, (name, keep, ref, rules)
            assert ref is not None, name
            ch = set()
            if metadata or icc:
                ch.add("metadata_dropped")
            if orientation != 1:
                ch.add("rotated")
            if has_alpha and not keep:
                ch.add("alpha_flattened")
            if has_alpha or keep:
                pass
            if keep and not has_alpha:
                ch.add("alpha_added")
            if bps == 16:
                ch.add("depth_reduced")
            ch.add({"grey": "grey_expanded", "pal": "palette_expanded", "cmyk": "cmyk_converted", "rgb": None}[kind])
            ch.discard(None)
            if converted:
                ch.add("icc_converted")
            opts = ",".join(([] if not keep else ["alpha"]) + ([] if use_icc or not icc else ["noicc"])) or "-"
            m.add(rel(path), opts, "ok", ref[0], ref[1], ref[2], ref[3], changes_str(ch), why=why)
            why = None
            STATS["rows"] += 1


def grey_px(name, w, h, bps, alpha=False):
    return [v for row in pattern(name, w, h, bps, 2 if alpha else 1, alpha_last=alpha) for p in row for v in p]


def flat(name, w, h, bps, nch, alpha=False):
    return [v for row in pattern(name, w, h, bps, nch, alpha_last=alpha) for p in row for v in p]


def colormap16(n, seed):
    pal = palette(n, seed)
    # 16-bit entries whose low byte is not the high byte: a reader that keeps the wrong byte shows it.
    return [[c[i] * 256 + (c[i] * 7 + 3) % 256 for c in pal] for i in range(3)]


def gen_fixtures(m, tmp):
    W, H = 13, 7
    # --- grey, each depth, MinIsBlack and MinIsWhite
    for bps in (1, 2, 4, 8, 16):
        for photo, tag in ((1, "black"), (0, "white")):
            name = "grey%d_mins%s.tif" % (bps, tag)
            px = grey_px(name, W, H, bps)
            data = write_tiff(W, H, 1, bps, photo, px)
            pil = bps != 16
            why = None if pil else ("16-bit grey: Pillow clips I;16 at 255 (and ignores MinIsWhite); "
                                    "the reference is the high byte, as airlock's PNG and Pillow's 16-bit RGB")
            expected_rows(m, name, data, "grey", W, H, 1, bps, px, miniswhite=photo == 0, pillow_ok=pil, why=why,
                          both=bps in (8, 16))
    # --- RGB 8 and 16, both byte orders
    for bps in (8, 16):
        for le in (True, False):
            name = "rgb%d_%s.tif" % (bps, "le" if le else "be")
            px = flat(name, W, H, bps, 3)
            expected_rows(m, name, write_tiff(W, H, 3, bps, 2, px, le=le), "rgb", W, H, 3, bps, px)
    # --- palette 1/2/4/8
    for bps in (1, 2, 4, 8):
        name = "pal%d.tif" % bps
        n = 1 << bps
        cmap = colormap16(n, bps)
        px = [v for row in pattern(name, W, H, bps, 1) for p in row for v in p]
        expected_rows(m, name, write_tiff(W, H, 1, bps, 3, px, colormap=cmap[0] + cmap[1] + cmap[2]), "pal", W, H,
                      1, bps, px, cmap=cmap, both=bps == 4)
    # --- CMYK
    name = "cmyk8.tif"
    px = flat(name, W, H, 8, 4)
    cmyk = write_tiff(W, H, 4, 8, 5, px, tags=[(332, SHORT, [1])])
    expected_rows(m, name, cmyk, "cmyk", W, H, 4, 8, px)

    # --- alpha: unassociated (2) and associated (1)
    for bps in (8, 16):
        for a in (2, 1):
            name = "rgba%d_%s.tif" % (bps, "assoc" if a == 1 else "unassoc")
            px = flat(name, W, H, bps, 4, alpha=True)
            if a == 1:  # premultiplied data: colour never above alpha
                top = (1 << bps) - 1
                px = [px[i] if i % 4 == 3 else px[i] * px[i - i % 4 + 3] // top for i in range(len(px))]
            expected_rows(m, name, write_tiff(W, H, 4, bps, 2, px, extra=a), "rgb", W, H, 4, bps, px, alpha=a)
    for bps, a, pil in ((8, 2, True), (8, 1, False), (16, 2, False)):
        name = "greyalpha%d_%s.tif" % (bps, "assoc" if a == 1 else "unassoc")
        px = grey_px(name, W, H, bps, alpha=True)
        if a == 1:
            top = (1 << bps) - 1
            px = [px[i] if i % 2 else px[i] * px[i + 1] // top for i in range(len(px))]
        why = None if pil else "Pillow has no mode for this grey + alpha: the reference is the output rules"
        expected_rows(m, name, write_tiff(W, H, 2, bps, 1, px, extra=a), "grey", W, H, 2, bps, px, alpha=a,
                      pillow_ok=pil, why=why)
    name = "cmyka8_unassoc.tif"
    px = flat(name, W, H, 8, 5, alpha=True)
    expected_rows(m, name, write_tiff(W, H, 5, 8, 5, px, extra=2, tags=[(332, SHORT, [1])]), "cmyk", W, H, 5, 8,
                  px, alpha=2, pillow_ok=False,
                  why="Pillow opens CMYK + alpha as CMYK; airlock keeps the alpha: the reference is the output rules")
    name = "pal8_alpha.tif"
    cmap = colormap16(256, 99)
    px = flat(name, W, H, 8, 2, alpha=True)
    expected_rows(m, name, write_tiff(W, H, 2, 8, 3, px, extra=2, colormap=cmap[0] + cmap[1] + cmap[2]), "pal", W,
                  H, 2, 8, px, alpha=2, cmap=cmap)
    name = "rgbx8_unspecified.tif"
    px = flat(name, W, H, 8, 4)
    expected_rows(m, name, write_tiff(W, H, 4, 8, 2, px, extra=0), "rgb", W, H, 4, 8,
                  px, alpha=0,
                  why="an extra sample of unspecified meaning is skipped, as Pillow skips it (RGBX)")

    # --- compressions, predictors, tiles, strips, BigTIFF (tiffcp from the plain files)
    TW, TH = 37, 21
    bases = {}
    for name, kind, spp, bps, photo, extra in (("rgb8", "rgb", 3, 8, 2, None), ("grey8", "grey", 1, 8, 1, None),
                                               ("rgb16", "rgb", 3, 16, 2, None), ("rgba8", "rgb", 4, 8, 2, 2),
                                               ("grey16", "grey", 1, 16, 1, None)):
        px = flat("big_" + name, TW, TH, bps, spp, alpha=extra is not None)
        bases[name] = (kind, spp, bps, px, extra, write_tiff(TW, TH, spp, bps, photo, px, extra=extra))
    pal4map = colormap16(16, 4)
    pal4px = [v for row in pattern("big_pal4", TW, TH, 4, 1) for p in row for v in p]
    bases["pal4"] = ("pal", 1, 4, pal4px, None,
                     write_tiff(TW, TH, 1, 4, 3, pal4px, colormap=pal4map[0] + pal4map[1] + pal4map[2]))
    cmykpx = flat("big_cmyk", TW, TH, 8, 4)
    bases["cmyk8"] = ("cmyk", 4, 8, cmykpx, None, write_tiff(TW, TH, 4, 8, 5, cmykpx, tags=[(332, SHORT, [1])]))
    variants = [
        ("rgb8", "lzw", ["-c", "lzw"]), ("rgb8", "lzw_pred2", ["-c", "lzw:2"]), ("rgb8", "zip", ["-c", "zip"]),
        ("rgb8", "zip_pred2", ["-c", "zip:2"]), ("rgb8", "packbits", ["-c", "packbits"]),
        ("rgb8", "strips3", ["-c", "none", "-r", "3"]), ("rgb8", "lzw_strips5", ["-c", "lzw:2", "-r", "5"]),
        ("rgb8", "tiles", ["-c", "none", "-t", "-w", "16", "-l", "16"]),
        ("rgb8", "tiles_lzw", ["-c", "lzw:2", "-t", "-w", "16", "-l", "16"]),
        ("rgb8", "tiles_zip", ["-c", "zip", "-t", "-w", "32", "-l", "16"]),
        ("rgb8", "bigtiff", ["-8", "-c", "zip:2"]), ("rgb8", "be_lzw", ["-B", "-c", "lzw:2"]),
        ("grey8", "lzw_pred2", ["-c", "lzw:2"]), ("grey8", "zip", ["-c", "zip"]), ("grey8", "packbits", ["-c", "packbits"]),
        ("grey8", "tiles_packbits", ["-c", "packbits", "-t", "-w", "16", "-l", "16"]),
        ("rgb16", "lzw_pred2", ["-c", "lzw:2"]), ("rgb16", "zip_pred2_be", ["-B", "-c", "zip:2"]),
        ("rgb16", "tiles_zip", ["-c", "zip:2", "-t", "-w", "16", "-l", "16"]),
        ("rgba8", "lzw_pred2", ["-c", "lzw:2"]), ("rgba8", "tiles_zip", ["-c", "zip", "-t", "-w", "16", "-l", "16"]),
        ("grey16", "zip_pred2", ["-c", "zip:2"]), ("grey16", "tiles_lzw", ["-c", "lzw", "-t", "-w", "16", "-l", "16"]),
        ("pal4", "lzw", ["-c", "lzw"]), ("pal4", "packbits", ["-c", "packbits"]),
        ("pal4", "tiles", ["-c", "none", "-t", "-w", "16", "-l", "16"]),
        ("cmyk8", "lzw", ["-c", "lzw:2"]), ("cmyk8", "tiles_zip", ["-c", "zip", "-t", "-w", "16", "-l", "16"]),
    ]
    for base, tag, args in variants:
        kind, spp, bps, px, extra, data = bases[base]
        out = tiffcp(data, args, tmp)
        pil = not (kind == "grey" and bps == 16)
        expected_rows(m, "%s_%s.tif" % (base, tag), out, kind, TW, TH, spp, bps, px, alpha=extra or 0,
                      cmap=pal4map if kind == "pal" else None, pillow_ok=pil, both=base in ("rgb8", "rgba8"),
                      why=None if pil else "16-bit grey: the output rules (see grey16_minsblack.tif)")
    # Deflate under its other code (32946, what the TIFF-PS spec first used): written here, as tiffcp writes 8.
    kind, spp, bps, px, extra, _ = bases["rgb8"]
    z = zlib.compress(pack_rows(px, TW, TH, 3, 8, True), 9)
    expected_rows(m, "rgb8_deflate32946.tif", write_tiff(TW, TH, 3, 8, 2, px, compression=32946, data=z), kind, TW,
                  TH, 3, 8, px)
    # JPEG: lossy, so Pillow (the same libtiff and libjpeg-turbo) is the only reference.
    for base, tag, args in (("rgb8", "jpeg_ycbcr", ["-c", "jpeg"]), ("rgb8", "jpeg_rgb", ["-c", "jpeg:r"]),
                            ("grey8", "jpeg", ["-c", "jpeg"]),
                            ("rgb8", "jpeg_tiles", ["-c", "jpeg", "-t", "-w", "16", "-l", "16"]),
                            ("rgb8", "jpeg_strips", ["-c", "jpeg", "-r", "16"])):
        kind, spp, bps, px, extra, data = bases[base]
        expected_rows(m, "%s_%s.tif" % (base, tag), tiffcp(data, args, tmp), kind, TW, TH, spp, bps, px,
                      lossless=False, both=tag == "jpeg_ycbcr")

    # --- orientation 1..8 (tag 274 in IFD 0)
    for o in range(1, 9):
        name = "orient%d.tif" % o
        px = flat(name, 11, 6, 8, 3)
        expected_rows(m, name, write_tiff(11, 6, 3, 8, 2, px, tags=[(274, SHORT, [o])]), "rgb", 11, 6, 3, 8, px,
                      orientation=o, both=o == 6)
    name = "orient6_rgba.tif"
    px = flat(name, 11, 6, 8, 4, alpha=True)
    expected_rows(m, name, write_tiff(11, 6, 4, 8, 2, px, extra=2, tags=[(274, SHORT, [6])]), "rgb", 11, 6, 4, 8,
                  px, alpha=2, orientation=6)

    # --- ICC profiles (CC0, Compact-ICC-Profiles: icc-test-files/profiles/compact-icc-profiles/SOURCE)
    for name, prof, kind, spp, photo in (("icc_displayp3_rgb8.tif", "DisplayP3-v4.icc", "rgb", 3, 2),
                                         ("icc_rec2020_rgba8.tif", "Rec2020-v4.icc", "rgb", 4, 2),
                                         ("icc_sgrey_grey8.tif", "sGrey-v4.icc", "grey", 1, 1),
                                         ("icc_rgbprofile_on_grey8.tif", "DisplayP3-v4.icc", "grey", 1, 1)):
        with open(os.path.join(PROFILES, prof), "rb") as f:
            icc = f.read()
        alpha = 2 if spp == 4 else 0
        px = flat(name, W, H, 8, spp, alpha=bool(alpha))
        data = write_tiff(W, H, spp, 8, photo, px, extra=alpha or None, tags=[(34675, UNDEFINED, list(icc))])
        expected_rows(m, name, data, kind, W, H, spp, 8, px, alpha=alpha, icc=True,
                      why="ICC profile %s (Compact-ICC-Profiles, CC0)" % prof if "on_grey" not in name else
                      "an RGB profile on grey pixels is ignored (as browsers do): no icc_converted")

    # --- metadata: a text tag, a second image
    name = "rgb8_description.tif"
    px = flat(name, W, H, 8, 3)
    desc = list(b"a picture of a cat\0")
    expected_rows(m, name, write_tiff(W, H, 3, 8, 2, px, tags=[(270, ASCII, desc)]), "rgb", W, H, 3, 8, px,
                  metadata=True, both=False)
    name = "rgb8_two_pages.tif"
    px = flat(name, W, H, 8, 3)
    one = os.path.join(tmp, "p1.tif")
    two = os.path.join(tmp, "p2.tif")
    with open(one, "wb") as f:
        f.write(write_tiff(W, H, 3, 8, 2, px))
    with open(two, "wb") as f:
        f.write(write_tiff(5, 3, 1, 8, 1, list(range(15))))
    dst = os.path.join(tmp, "pages.tif")
    subprocess.run(["tiffcp", "-c", "none", one, two, dst], check=True, capture_output=True)
    with open(dst, "rb") as f:
        expected_rows(m, name, f.read(), "rgb", W, H, 3, 8, px, metadata=True, both=False)

    # --- outside the subset: exact refusals
    def refuse(name, data, outcome, why):
        path = os.path.join(OUT_DIR, name)
        with open(path, "wb") as f:
            f.write(data)
        m.add(rel(path), "-", outcome, why=why)
    px = flat("planar", W, H, 8, 3)
    refuse("rgb8_planar_separate.tif", tiffcp(write_tiff(W, H, 3, 8, 2, px), ["-p", "separate"], tmp),
           "unsupported", "separate planes: outside the subset")
    refuse("rgb8_two_extra.tif", write_tiff(W, H, 5, 8, 2, flat("two", W, H, 8, 5), tags=[(338, SHORT, [2, 0])]),
           "unsupported",
           "two extra samples: outside the subset")
    refuse("grey12.tif", write_tiff(W, H, 1, 12, 1, None, data=bytes(W * H * 2)), "unsupported", "12-bit grey")
    refuse("float32.tif", write_tiff(W, H, 1, 32, 1, None, data=bytes(W * H * 4), tags=[(339, SHORT, [3])]),
           "unsupported", "float samples")
    refuse("ycbcr_uncompressed.tif", write_tiff(W, H, 3, 8, 6, flat("ycc", W, H, 8, 3)), "unsupported",
           "YCbCr outside JPEG")
    refuse("rgb8_truncated_strip.tif", write_tiff(W, H, 3, 8, 2, None, data=bytes(W * H * 3 - 5)), "malformed",
           "the strip ends early")


# ---------------------------------------------------------------------------
# The public files


def directory_complaint(path):
    """What libtiff says while it reads IFD 0 (tiffinfo, up to its first directory listing), but unknown tags."""
    r = subprocess.run(["stdbuf", "-o0", "-e0", "tiffinfo", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=20)
    for ln in r.stdout.decode("latin-1").splitlines():
        if ln.startswith("=== TIFF directory") or ln.startswith("TIFF Directory at offset"):
            return None
        if ln.strip() and "Unknown field with tag" not in ln:
            return ln.strip()[:120]
    return "no directory" if r.returncode else None


def libtiff_complains(path, tmp):
    """libtiff's own reading of image 0 (tiffcp FILE,0): any error or warning but an unknown tag's."""
    dst = os.path.join(tmp, "copy.tif")
    if os.path.exists(dst):
        os.remove(dst)
    try:
        r = subprocess.run(["tiffcp", "-,=%", "-c", "none", path + "%0", dst], capture_output=True, text=True, timeout=20,
                           errors="replace")
    except subprocess.TimeoutExpired:
        return "timeout"
    lines = [ln for ln in r.stderr.splitlines() if ln.strip() and "Unknown field with tag" not in ln]
    if r.returncode != 0 or lines:
        return (lines[0] if lines else "exit %d" % r.returncode)[:120]
    return None


def walk_loops(data):
    """True when the chain of IFDs comes back on itself (checked from IFD 0 on, 64 IFDs at most)."""
    if len(data) < 8 or data[:2] not in (b"II", b"MM"):
        return False
    e = "<" if data[:2] == b"II" else ">"
    big = struct.unpack(e + "H", data[2:4])[0] == 43
    off = struct.unpack(e + ("Q" if big else "I"), data[8:16] if big else data[4:8])[0] if len(data) >= 16 or not big \
        else 0
    cfmt, esz, nfmt = ("Q", 20, "Q") if big else ("H", 12, "I")
    seen = []
    while off and off < len(data) and len(seen) < 64:
        if off in seen:
            return True
        seen.append(off)
        csz = struct.calcsize(e + cfmt)
        if off + csz > len(data):
            return False
        n = struct.unpack(e + cfmt, data[off:off + csz])[0]
        p = off + csz + n * esz
        if p + struct.calcsize(e + nfmt) > len(data):
            return False
        off = struct.unpack(e + nfmt, data[p:p + struct.calcsize(e + nfmt)])[0]
    return False


# Files whose outcome the rules above do not decide alone; each says why.
OVERRIDES = {
}


def public_rows(m, tmp):
    files = []
    for top in ("tiff-test-files", os.path.join("icc-test-files", "embedded")):
        for d, _, names in os.walk(os.path.join(SHARED, top)):
            for n in names:
                files.append(os.path.relpath(os.path.join(d, n), SHARED))
    files.sort()
    counts = {}
    for relp in files:
        path = os.path.join(SHARED, relp)
        mime = mime_of(path)
        if mime != "image/tiff":
            if relp.startswith("icc-test-files"):
                continue  # the JPEG, PNG and WebP files there are other manifests' rows
            # Not a TIFF to libmagic: media airlock does not decode, or no type at all.
            outcome = "unsupported" if mime.split("/")[0] in ("image", "audio", "video") else "type"
            m.add("shared:" + relp, "-", outcome, ftype="-", why="libmagic: %s" % mime)
            counts[outcome] = counts.get(outcome, 0) + 1
            continue
        with open(path, "rb") as f:
            data = f.read()
        outcome, why, res = decide(data, path, tmp)
        if relp in OVERRIDES:
            outcome, why = OVERRIDES[relp]
            res = None
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome != "ok":
            m.add("shared:" + relp, "-", outcome, why=why)
            continue
        for keep, r in zip((False, True), res):
            m.add("shared:" + relp, "alpha" if keep else "-", "ok", *r, why=why if not keep else None)
    return counts


def unpack(raw, w, h, spp, bps, le):
    rb = (w * spp * bps + 7) // 8
    out = []
    for y in range(h):
        row = raw[y * rb:(y + 1) * rb]
        if bps == 16:
            out += struct.unpack(("<" if le else ">") + "%dH" % (w * spp), row[:w * spp * 2])
        elif bps == 8:
            out += row[:w * spp]
        else:
            bits = "".join(format(b, "08b") for b in row)
            out += [int(bits[i * bps:(i + 1) * bps], 2) for i in range(w * spp)]
    return out


def rules_from_libtiff(path, tmp, keep):
    """The output rules on image 0's samples as libtiff's tiffcp writes them out uncompressed, in strips."""
    dst = os.path.join(tmp, "plain.tif")
    subprocess.run(["tiffcp", "-,=%", "-s", "-c", "none", path + "%0", dst], check=True, capture_output=True)
    with open(dst, "rb") as f:
        data = f.read()
    tags, _ = ifd0(data)
    w, h, spp, bps = first(tags, 256, 0), first(tags, 257, 0), first(tags, 277, 1), first(tags, 258, 1)
    photo, orient = first(tags, 262, 1), first(tags, 274, 1)
    raw = b"".join(data[o:o + n] for o, n in zip(tags[273][2], tags[279][2]))
    px = unpack(raw, w, h, spp, bps, data[:2] == b"II")
    kind = {0: "grey", 1: "grey", 2: "rgb", 3: "pal", 5: "cmyk"}[photo]
    colour = {"grey": 1, "rgb": 3, "pal": 1, "cmyk": 4}[kind]
    extra = (tags.get(338, (0, 0, None))[2] or [0])[0] if spp > colour else 0
    alpha = {1: 1, 2: 2}.get(extra, 0)
    cmap = None
    if kind == "pal":
        cm = tags[320][2]
        n = 1 << bps
        cmap = [cm[:n], cm[n:2 * n], cm[2 * n:]]
    rgba = rules_rgba(kind, w, h, spp, bps, px, alpha, photo == 0, cmap)
    return finish(w, h, rgba, bool(alpha), keep, orient), orient, bool(alpha), False


def decide(data, path, tmp):
    """-> (outcome, comment, [rows for keep_alpha 0 and 1]) for a public TIFF."""
    if data[:4] not in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
        return "malformed", "no TIFF signature", None
    parsed = ifd0(data)
    if parsed is None:
        return "malformed", "IFD 0 out of the file", None
    tags, others = parsed
    if walk_loops(data):
        return "malformed", "the chain of IFDs loops", None
    complaint = directory_complaint(path)
    if complaint:
        return "malformed", "libtiff reading IFD 0: " + complaint, None
    for t in (256, 257, 262):
        if t not in tags:
            return "malformed", "tag %d missing" % t, None
    w, h = first(tags, 256, 0), first(tags, 257, 0)
    o = first(tags, 274, 1)
    sw, sh = (h, w) if o in (5, 6, 7, 8) else (w, h)
    if w and h and (sw > 65535 or sh > 65535 or sw * sh > 178956970):
        return "too_large", "%dx%d over the default limits" % (w, h), None
    reason = subset_verdict(tags)
    if reason:
        return "unsupported", reason, None
    complaint = libtiff_complains(path, tmp)
    if complaint:
        if "Old-style LZW" in complaint:
            return "unsupported", "old-style (pre-5.0) LZW codes", None
        return "malformed", "libtiff: " + complaint, None
    rows = []
    for keep in (False, True):
        try:
            res, orient, has_alpha, converted = pillow_expected(data, keep)
        except NoPillow as ex:
            if 34675 in tags:
                return "review", "Pillow: %s" % ex, None
            res, orient, has_alpha, converted = rules_from_libtiff(path, tmp, keep)
            why = ("Pillow 9.4 cannot open it (%s): the reference is the output rules applied to the samples "
                   "libtiff's tiffcp writes out uncompressed" % str(ex).split(" <")[0])
        kind = {0: "grey", 1: "grey", 2: "rgb", 3: "pal", 5: "cmyk", 6: "rgb"}[first(tags, 262, 1)]
        ch = set()
        if any(t not in PIXEL_TAGS for t in tags) or others:
            ch.add("metadata_dropped")
        if orient != 1:
            ch.add("rotated")
        if has_alpha and not keep:
            ch.add("alpha_flattened")
        if keep and not has_alpha:
            ch.add("alpha_added")
        if first(tags, 258, 1) == 16:
            ch.add("depth_reduced")
        ch.add({"grey": "grey_expanded", "pal": "palette_expanded", "cmyk": "cmyk_converted", "rgb": None}[kind])
        ch.discard(None)
        if converted:
            ch.add("icc_converted")
        rows.append(list(res) + [changes_str(ch)])
    return "ok", None, rows


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for n in os.listdir(OUT_DIR):
        os.remove(os.path.join(OUT_DIR, n))
    m = Manifest()
    with tempfile.TemporaryDirectory(prefix="gen_tiff.") as tmp:
        gen_fixtures(m, tmp)
        counts = public_rows(m, tmp)
    m.write()
    print("rows %d (fixtures %d: Pillow %d, rules %d); public files %s" % (
        len([r for r in m.rows if not r.startswith("#")]), STATS["rows"], STATS["pillow"], STATS["rules"],
        " ".join("%s=%d" % kv for kv in sorted(counts.items()))))


if __name__ == "__main__":
    main()
