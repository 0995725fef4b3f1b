#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes corpus/images-bmp.tsv: every BMP of ../shared/corpus-public/bmp-test-files, read in place,
and the hostile BMPs that decode (corpus/hostile/bmp_*, from corpus/hostile_bmp.py); and the fuzzing
seeds in corpus/fuzz/bmp/.

Run with Debian's interpreter (Pillow 9.4), after corpus/gen_hostile.py:
    /usr/bin/python3 corpus/gen_bmp.py

Each file's expected outcome and pixels come from two readers that share no
code with airlock: Pillow 9.4, and bmp_read() below, written from the format
(Microsoft's BITMAPINFOHEADER..BITMAPV5HEADER documentation, IBM's OS/2
headers) with airlock's rules for what is malformed. Wherever Pillow decodes a
file that bmp_read() accepts, the two must give the same pixels, or the file
is listed in PILLOW_DIFFERS with the reason; Pillow's two RLE bugs are fixed
for the comparison (see FixedRle). Where Pillow refuses a file that the
format defines (OS/2 2.x 16-byte and V2/V3 headers, 2-bit palettes, bit-field
layouts other than its nine), bmp_read() alone gives the pixels, scaling an
n-bit field as Pillow scales its 5- and 6-bit ones: v * 255 // (2^n - 1).

Rows: "-" for every file; "alpha" too where the output has alpha or the
file's pixels carry it. Output rules as gen_images.py: RGB8, alpha composited
onto white with its blend(); RGBA8 with keep_alpha.
"""

import io
import os
import struct
import subprocess
import sys

from PIL import BmpImagePlugin, Image, ImageFile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_images import CHANGE_ORDER, finish_pixels, fnv64, mime_of  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus-public"))
SUITE = "bmp-test-files"
MANIFEST = os.path.join(HERE, "images-bmp.tsv")
MAX_PIXELS = 178956970
MAX_WH = 65535
MAX_DENSITY = 1000000  # px/m: 25,400 dpi; see decoders/bmp.c


class Reject(Exception):
    def __init__(self, outcome, why):
        super().__init__(why)
        self.outcome, self.why = outcome, why


def u16(d, o):
    return struct.unpack_from("<H", d, o)[0]


def u32(d, o):
    return struct.unpack_from("<I", d, o)[0]


def s32(d, o):
    return struct.unpack_from("<i", d, o)[0]


def mask_bits(m, bits):
    """(shift, width) of a contiguous mask inside a bits-wide pixel; None if it is not one."""
    if m == 0:
        return 0, 0
    if bits < 32 and m >> bits:
        return None
    s = (m & -m).bit_length() - 1
    v = m >> s
    if v & (v + 1):
        return None
    return s, v.bit_length()


def scale(v, width):
    return v * 255 // ((1 << width) - 1) if width else 0


def bmp_read(d):
    """airlock's rules, from the format: (w, h, rgba rows top first, has_alpha, changes, notes) or Reject."""
    notes = set()
    if len(d) < 18 or d[:2] != b"BM":
        raise Reject("malformed", "no BM signature")
    file_size, off, hs = u32(d, 2), u32(d, 10), u32(d, 14)
    if hs not in (12, 16, 40, 52, 56, 64, 108, 124):
        raise Reject("malformed", "header size %d" % hs)
    if len(d) < 14 + hs:
        raise Reject("malformed", "header past the end")
    ih = 14
    clr_used = size_image = 0
    if hs == 12:
        w, h, planes, bits = struct.unpack_from("<HHHH", d, ih + 4)
        comp = 0
    else:
        w, h, planes, bits = struct.unpack_from("<iiHH", d, ih + 4)
        comp = u32(d, ih + 16) if hs >= 20 else 0
        if hs >= 40:
            dx, dy = s32(d, ih + 24), s32(d, ih + 28)
            if not (0 <= dx <= MAX_DENSITY and 0 <= dy <= MAX_DENSITY):
                raise Reject("malformed", "pixel density %d x %d px/m" % (dx, dy))
            clr_used = u32(d, ih + 32)
            size_image = u32(d, ih + 20)
        if hs in (16, 64) and comp > 2:
            raise Reject("unsupported" if comp <= 4 else "malformed", "OS/2 2.x compression %d" % comp)
    if planes != 1:
        raise Reject("malformed", "planes %d" % planes)
    if w <= 0 or h == 0 or h == -2**31:
        raise Reject("malformed", "dimensions %d x %d" % (w, h))
    top_down = h < 0
    h = abs(h)
    if comp == 0:
        if bits == 64:
            raise Reject("unsupported", "64-bit")
        if bits not in (1, 2, 4, 8, 16, 24, 32):
            raise Reject("malformed", "bit count %d" % bits)
    elif comp in (1, 2):
        if bits != (8 if comp == 1 else 4) or top_down:
            raise Reject("malformed", "RLE with %d bits%s" % (bits, ", top-down" if top_down else ""))
    elif comp in (3, 6):
        if bits not in (16, 24, 32):
            raise Reject("malformed", "bit fields with %d bits" % bits)
    elif comp in (4, 5, 11, 12, 13):
        raise Reject("unsupported", "compression %d" % comp)
    else:
        raise Reject("malformed", "compression %d" % comp)
    if w > MAX_WH or h > MAX_WH or w * h > MAX_PIXELS:
        raise Reject("too_large", "%d x %d" % (w, h))
    if file_size > len(d):
        raise Reject("malformed", "bfSize %d past the end of a %d-byte file" % (file_size, len(d)))
    if off > len(d) or size_image > len(d) - off:
        raise Reject("malformed", "biSizeImage %d past the end" % size_image)

    pal_at = 14 + hs
    masks = None
    if comp in (3, 6):
        n = 4 if comp == 6 else 3
        if hs == 40:
            if len(d) - pal_at < 4 * n:
                raise Reject("malformed", "masks past the end")
            masks = list(struct.unpack_from("<%dI" % n, d, pal_at))
            pal_at += 4 * n
        else:
            masks = list(struct.unpack_from("<%dI" % (4 if hs >= 56 else 3), d, ih + 40))
        masks += [0] * (4 - len(masks))
    elif bits == 16:
        masks = [0x7C00, 0x3E0, 0x1F, 0]
    alpha = False
    changes = set()
    fields = None
    if masks is not None:
        if bits == 32 and masks == [0, 0, 0, 0]:
            masks = [0xFF0000, 0xFF00, 0xFF, 0xFF000000]
            notes.add("four empty masks read as BGRA, as Pillow")
        fields = [mask_bits(m, bits) for m in masks]
        if None in fields or 0 in masks[:3]:
            raise Reject("malformed", "masks %s" % [hex(m) for m in masks])
        for i in range(4):
            for j in range(i + 1, 4):
                if masks[i] & masks[j]:
                    raise Reject("malformed", "overlapping masks %s" % [hex(m) for m in masks])
        alpha = bits == 32 and masks[3] != 0
        if any(f[1] > 8 for f in fields[:4 if alpha else 3]):
            changes.add("depth_reduced")
    profile_end = 0
    if hs == 124 and d[ih + 56:ih + 60] in (b"DEBM", b"KNIL") and u32(d, ih + 116) > 0:
        changes.add("metadata_dropped")
        at, n = 14 + u32(d, ih + 112), u32(d, ih + 116)
        if at + n <= len(d):
            profile_end = at + n

    pixels_at = off
    pal = None
    if bits <= 8:
        ent = 3 if hs == 12 else 4
        full = 1 << bits
        if clr_used > full:
            if off < pal_at or clr_used > (off - pal_at) // ent:
                raise Reject("malformed", "palette of %d entries past the pixels" % clr_used)
            n = full
        elif clr_used:
            n = clr_used
        else:
            n = min(full, (off - pal_at) // ent if off > pal_at else 0)
        if off == pal_at and clr_used <= full:
            n = clr_used or full
            pixels_at = pal_at + n * ent
            notes.add("pixel offset points at the palette; the pixels follow it, as Pillow")
        elif off < pal_at + n * ent:
            raise Reject("malformed", "pixels inside the palette")
        if n == 0 or n * ent > len(d) - pal_at:
            raise Reject("malformed", "palette past the end")
        pal = [(d[pal_at + i * ent + 2], d[pal_at + i * ent + 1], d[pal_at + i * ent]) for i in range(n)]
        changes.add("palette_expanded")
    elif off < pal_at:
        raise Reject("malformed", "pixels inside the header")
    if pixels_at > len(d):
        raise Reject("malformed", "pixel offset past the end")

    def lookup(i):
        if i >= len(pal):
            raise Reject("malformed", "index %d past a %d-entry palette" % (i, len(pal)))
        return pal[i] + (255,)

    if comp in (1, 2):
        grid = [[lookup(0)] * w for _ in range(h)]  # stored order: bottom row first
        p, x, y, rle4 = pixels_at, 0, 0, comp == 2
        while True:
            if len(d) - p < 2:
                raise Reject("malformed", "RLE stream without its end")
            c0, c1 = d[p], d[p + 1]
            p += 2
            if c0:
                if y >= h or c0 > w - x:
                    raise Reject("malformed", "RLE run past its row")
                for k in range(c0):
                    grid[y][x + k] = lookup(((c1 & 15) if k & 1 else (c1 >> 4)) if rle4 else c1)
                x += c0
            elif c1 == 0:
                if y >= h:
                    raise Reject("malformed", "RLE end of line past the image")
                if x == 0:
                    notes.add("end of line at the start of a row")
                x, y = 0, y + 1
            elif c1 == 1:
                break
            elif c1 == 2:
                if len(d) - p < 2:
                    raise Reject("malformed", "RLE delta cut off")
                dx, dy = d[p], d[p + 1]
                p += 2
                if dx > w - x or y >= h or dy > h - 1 - y:
                    raise Reject("malformed", "RLE delta past the image")
                x, y = x + dx, y + dy
                notes.add("delta")
            else:
                nb = (c1 + 1) // 2 if rle4 else c1
                padded = nb + (nb & 1)
                if y >= h or c1 > w - x or padded > len(d) - p:
                    raise Reject("malformed", "RLE absolute run past its row or the end")
                for k in range(c1):
                    b = d[p + k // 2] if rle4 else d[p + k]
                    grid[y][x + k] = lookup(((b & 15) if k & 1 else (b >> 4)) if rle4 else b)
                if rle4 and c1 & 1:
                    notes.add("odd RLE4 absolute run")
                x += c1
                p += padded
        rows = grid[::-1]
        data_end = p
    else:
        stride = (w * bits + 31) // 32 * 4
        last = (w * bits + 7) // 8
        if (h - 1) * stride + last > len(d) - pixels_at:
            raise Reject("malformed", "pixel array past the end")
        if h * stride > len(d) - pixels_at:
            notes.add("no padding after the last row")
        rows = []
        for r in range(h):
            row = d[pixels_at + r * stride:pixels_at + r * stride + last]
            out = []
            for xx in range(w):
                if bits <= 8:
                    per = 8 // bits
                    out.append(lookup((row[xx // per] >> (8 - bits * (xx % per + 1))) & ((1 << bits) - 1)))
                elif comp == 0 and bits in (24, 32):
                    bpp = bits // 8
                    out.append((row[xx * bpp + 2], row[xx * bpp + 1], row[xx * bpp], 255))
                else:
                    bpp = bits // 8
                    v = int.from_bytes(row[xx * bpp:xx * bpp + bpp], "little")
                    c = [scale((v >> s) & ((1 << n) - 1), n) for s, n in fields]
                    out.append((c[0], c[1], c[2], c[3] if alpha else 255))
            rows.append(out)
        if not top_down:
            rows = rows[::-1]
        data_end = min(len(d), pixels_at + h * stride)
    if max(data_end, profile_end) < len(d):
        changes.add("trailing_dropped")
    return w, h, rows, alpha, changes, notes


class FixedRle(ImageFile.PyDecoder):
    """Pillow 9.4's BmpRleDecoder with its two misreadings fixed: a delta takes
    the two bytes after it (9.4 reads two more), and an odd RLE4 absolute run
    reads its last byte (9.4 drops it). Everything else as 9.4."""
    _pulls_fd = True

    def decode(self, buffer):
        rle4 = self.args[1]
        data = bytearray()
        x = 0
        xs = self.state.xsize
        while len(data) < xs * self.state.ysize:
            pixels = self.fd.read(1)
            byte = self.fd.read(1)
            if not pixels or not byte:
                break
            num = pixels[0]
            if num:
                if x + num > xs:
                    num = max(0, xs - x)
                if rle4:
                    for i in range(num):
                        data.append(byte[0] & 15 if i % 2 else byte[0] >> 4)
                else:
                    data += byte * num
                x += num
            elif byte[0] == 0:
                while len(data) % xs:
                    data.append(0)
                x = 0
            elif byte[0] == 1:
                break
            elif byte[0] == 2:
                b = self.fd.read(2)
                if len(b) < 2:
                    break
                data += bytes(b[0] + b[1] * xs)
                x = len(data) % xs
            else:
                count = (byte[0] + 1) // 2 if rle4 else byte[0]
                got = self.fd.read(count)
                if rle4:
                    for i in range(byte[0]):
                        if i // 2 < len(got):
                            data.append(got[i // 2] & 15 if i % 2 else got[i // 2] >> 4)
                else:
                    data += got
                if len(got) < count:
                    break
                x += byte[0]
                if count % 2:
                    self.fd.read(1)
        self.set_as_raw(bytes(data), ("L" if self.mode == "L" else "P", 0, self.args[-1]))
        return -1, 0


def pillow_rgba(data, fixed=True):
    """Pillow's decode as (w, h, rgba list, has_alpha), or None when it raises; fixed: FixedRle for RLE."""
    Image.register_decoder("bmp_rle", FixedRle if fixed else BmpImagePlugin.BmpRleDecoder)
    try:
        im = Image.open(io.BytesIO(data))
        im.load()
    except Exception:  # noqa: BLE001 - any refusal is a refusal
        return None
    if im.mode == "RGBA":
        return im.size[0], im.size[1], list(im.getdata()), True
    return im.size[0], im.size[1], [p + (255,) for p in im.convert("RGB").getdata()], False


def changes_str(names):
    names = [n for n in CHANGE_ORDER if n in names]
    return ",".join(names) if names else "-"


# Files where airlock and Pillow 9.4 (RLE fixed) give different outcomes, and why.
PILLOW_DIFFERS = {
    "badbitssize.bmp": "biSizeImage larger than the file: Pillow ignores the field",
    "baddens1.bmp": "a density of 30,000,000 px/m: Pillow ignores the field",
    "baddens2.bmp": "a density of 30,000,000 px/m: Pillow ignores the field",
    "badfilesize.bmp": "bfSize larger than the file: Pillow ignores the field",
    "badplanes.bmp": "biPlanes 30000: Pillow ignores the field",
    "pal8badindex.bmp": "indices past the palette: Pillow shows them black",
    "rletopdown.bmp": "RLE with a negative height, which the format forbids: Pillow decodes it",
}


def add_rows(rows, stats, spath, name, data, alpha_rows):
    """The rows of one file that libmagic calls BMP."""
    pil = pillow_rgba(data)
    try:
        w, h, pix, alpha, changes, notes = bmp_read(data)
    except Reject as e:
        if pil is not None and name not in PILLOW_DIFFERS and e.outcome != "unsupported":
            rows.append("# %s: Pillow decodes it; airlock: %s (%s)" % (spath, e.outcome, e.why))
        rows.append("# %s: %s" % (spath, e.why))
        rows.append("\t".join([spath, "-", e.outcome, "bmp", "-", "-", "-", "-", "-"]))
        stats["rejected"] += 1
        return
    flat = [p for row in pix for p in row]
    if pil is not None:
        if pil != (w, h, flat, alpha):
            raise AssertionError("%s: Pillow disagrees (%s)" % (spath, sorted(notes)))
        stats["pillow_agrees"] += 1
        if pillow_rgba(data, fixed=False) != pil:
            rows.append("# %s: Pillow 9.4 as shipped misreads its RLE (%s); the same with its decoder fixed "
                        "(FixedRle) agrees" % (spath, ", ".join(sorted(notes & {"delta", "odd RLE4 absolute run"}))))
            stats["rle_fixed"].append(name)
    else:
        rows.append("# %s: Pillow 9.4 refuses it; pixels from the format alone" % spath)
        stats["reference_only"] += 1
    for keep in (False, True):
        if keep and not alpha and not alpha_rows:
            continue
        ch, out = finish_pixels(flat, alpha, keep)
        c = set(changes)
        if alpha and not keep:
            c.add("alpha_flattened")
        if keep and not alpha:
            c.add("alpha_added")
        rows.append("\t".join(str(v) for v in (spath, "alpha" if keep else "-", "ok", "bmp", w, h, ch, fnv64(out),
                                                changes_str(c))))


def write_seeds(hostile_files, hb):
    """corpus/fuzz/bmp/: the small hostile files, a few more depths and headers, and trailer variants.
    The cov-* files beside them are what fuzzing runs reached (merged with -merge=1); they stay."""
    out = os.path.join(HERE, "fuzz", "bmp")
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        if not name.startswith("cov-"):
            os.unlink(os.path.join(out, name))
    seeds = {n[:-4]: d for n, d in hostile_files.items() if len(d) <= 4096}

    def packed(w, h, bits, n):
        s = hb.stride(w, bits)
        rows = b""
        for y in range(h):
            v = 0
            for x in range(w):
                v = v << bits | (x + y) % n
            nb = (w * bits + 7) // 8
            v <<= nb * 8 - w * bits
            rows += v.to_bytes(nb, "big") + bytes(s - nb)
        return rows

    for bits in (1, 2, 4):
        n = 1 << bits
        seeds["seed_pal%d" % bits] = hb.bmp(hb.info_header(13, 5, bits, clr_used=n), packed(13, 5, bits, n),
                                            hb.palette(n))
    core_pal = b"".join(hb.palette(16)[4 * i:4 * i + 3] for i in range(16))
    seeds["seed_core_pal4"] = hb.bmp(struct.pack("<IHHHH", 12, 13, 5, 1, 4), packed(13, 5, 4, 16), core_pal)
    seeds["seed_os2v2_16"] = hb.bmp(struct.pack("<IiiHH", 16, 13, 5, 1, 8), hb.rows8(13, 5, lambda x, y: x),
                                    hb.palette(16))
    seeds["seed_rgb555"] = hb.bmp(hb.info_header(5, 3, 16), bytes(range(36)))
    seeds["seed_rgb565_v4"] = hb.bitfields(5, 3, 16, (0xF800, 0x7E0, 0x1F, 0), hs=108)
    seeds["seed_rle4"] = hb.rle4(8, 2, b"\x04\x12\x00\x04\x12\x30\x00\x00\x00\x02\x01\x01\x02\x23\x00\x01")
    seeds["seed_rgb32_top_down"] = hb.bmp(hb.info_header(3, -2, 32), bytes(range(24)))
    for name in list(seeds):
        if name.startswith("seed_") or name in ("bmp_v5_argb_alpha", "bmp_rle8_early_eol", "bmp_masks_all_empty_32"):
            for a, b in ((1, 0), (8, 0), (6, 7), (1, 24)):
                seeds["%s_a%d_b%d" % (name, a, b)] = seeds[name] + bytes((0xA1, 0xF2, a, b))
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    return len(seeds)


class Collect:
    """Stands in for gen_hostile's corpus: keeps the files, ignores the rows."""

    def __init__(self):
        self.files = {}

    def add(self, name, data, *args, **kw):
        self.files[name] = data

    def row(self, *args, **kw):
        pass


def main():
    if not os.path.isdir(os.path.join(SHARED, SUITE)):
        sys.exit("gen_bmp.py: %s missing" % os.path.join(SHARED, SUITE))
    Image.init()  # the plugins register their decoders first; pillow_rgba() picks the RLE one after
    rows = []
    stats = {"pillow_agrees": 0, "reference_only": 0, "rejected": 0, "rle_fixed": []}
    paths = []
    for dirpath, _, files in os.walk(os.path.join(SHARED, SUITE)):
        paths += [os.path.join(dirpath, f) for f in files if f.endswith(".bmp")]
    for path in sorted(paths):
        rel = os.path.relpath(path, SHARED)
        name = os.path.basename(path)
        with open(path, "rb") as f:
            data = f.read()
        mime = mime_of(path)
        if mime not in ("image/bmp", "image/x-ms-bmp"):
            # What detection does with it: the MIME table (decoders/mime.c) names some, others are no type.
            outcome = "unsupported" if mime == "image/x-os2-graphics" else "type"
            rows.append("# %s: libmagic says %s" % (rel, mime))
            rows.append("\t".join(["shared:" + rel, "-", outcome, "-", "-", "-", "-", "-", "-"]))
            stats["rejected"] += 1
            continue
        add_rows(rows, stats, "shared:" + rel, name, data, "alpha" in name.lower() or "rgba" in name.lower())

    # The hostile BMPs that decode (corpus/hostile_bmp.py), pixel for pixel; gen_hostile.py writes them.
    import gen_hostile
    import hostile_bmp
    col = Collect()
    hostile_bmp.add(col, lambda *n: ",".join(n) if n else "-", gen_hostile.MARKER, gen_hostile.INJECT)
    for name in sorted(hostile_bmp.OK):
        path = os.path.join(HERE, "hostile", name)
        with open(path, "rb") as f:
            if f.read() != hostile_bmp.OK[name]:
                sys.exit("gen_bmp.py: %s is stale; run corpus/gen_hostile.py first" % path)
        add_rows(rows, stats, "corpus/hostile/" + name, name, hostile_bmp.OK[name], True)

    write_seeds(col.files, hostile_bmp)

    with open(MANIFEST, "w", newline="\n") as f:
        f.write("# SPDX-License-Identifier: MIT\n# Written by corpus/gen_bmp.py; replayed by tests/test_images.c.\n")
        f.write("# path\topts\toutcome\ttype\twidth\theight\tchannels\tfnv64\tchanges\n")
        for r in rows:
            f.write(r + "\n")
    print("%d rows; Pillow agrees on %d files (%d of them only with its RLE fixed: %s), format alone on %d, "
          "%d rejected" % (sum(1 for r in rows if not r.startswith("#")), stats["pillow_agrees"],
                           len(stats["rle_fixed"]), " ".join(stats["rle_fixed"]), stats["reference_only"],
                           stats["rejected"]))


if __name__ == "__main__":
    main()
