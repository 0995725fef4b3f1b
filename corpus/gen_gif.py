#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Generates the GIF fixtures in corpus/images/gif/ and the manifest corpus/images-gif.tsv.

Run with Debian's interpreter (Pillow 9.4):  /usr/bin/python3 corpus/gen_gif.py

Needs python3-pil and file (libmagic, to predict type detection). The output
is deterministic: fixed seeds, no timestamps.

What each row expects, computed without the code under test:
  * pixels: Pillow 9.4's frame 0 (Image.open, .convert("RGBA"), composited
    onto white as gen_images.py does, or kept as RGBA for the `alpha` rows).
    For the fixtures built here byte by byte, a model of the rules below must
    give the same pixels as Pillow; for pygif-test-suite files, its expected
    first frame must too, where its rendering of the screen is Pillow's.
  * changes and the refusals: a walk of the GIF structure in this file (walk()),
    by the rules of decoders/gif.c's header.

The rules (Pillow 9.4's frame 0, GifImagePlugin.py):
  * the screen outside the first image is the Graphic Control Extension's
    transparency index when there is one, else index 0; never the background
    index;
  * an index with no colour table entry, or any index when there is no table,
    is the grey (i, i, i) (Pillow's palette past its end, or mode L);
  * the transparency index is the last one a GCE before the image sets;
  * the image is good when every pixel was decoded from the bytes the file
    has: a missing EOI code, block terminator or trailer is no error, too few
    pixels is (Pillow: "image file is truncated").

Where airlock and Pillow differ, on purpose:
  * a first image that does not fit on the logical screen is malformed (issue
    15's rule). Pillow grows the screen to hold it, so the same file gives
    pictures of different sizes in different viewers;
  * a first image of zero width or height is malformed: there is no image
    (Pillow fails on these too, with one error or another);
  * a byte that starts no record before the first image is malformed (Pillow
    skips it, one byte at a time; the format has no such thing);
  * an LZW minimum code size above 8 is malformed: no colour table has more
    than 256 entries for its literal codes to index, and giflib refuses it
    ("only on a severely malformed GIF"). Pillow decodes larger code sizes
    (pygif's max-codes.gif, code size 11; code_size_9.gif here);
  * a GCE shorter than 4 bytes is malformed (Pillow fails on most of them too).
"""

import configparser
import glob
import io
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_images import INJECTION, MAX_PIXELS, changes_str, finish_pixels, fnv64, mime_of  # noqa: E402
from hostile_gif import pack_codes  # noqa: E402
from rng import Rng  # noqa: E402

from PIL import Image  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT_DIR = os.path.join(HERE, "images", "gif")
SEED_DIR = os.path.join(HERE, "fuzz", "gif")
MANIFEST = os.path.join(HERE, "images-gif.tsv")
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "corpus-public"))
SUITE = "gif-test-files"


# ---------------------------------------------------------------------------
# Writing GIF


def lzw_encode(indices, min_size, clear_at=4096, eoi=True):
    """The LZW code stream of GIF (LSB first), with a clear code first and
    whenever the table fills. clear_at < 4096 clears earlier (more clears)."""
    clear = 1 << min_size
    codes = [(clear, min_size + 1)]
    nxt = clear + 2

    def width(n):
        # The decoder reads a code with the width that holds its next free entry
        # (it adds that entry one code later than the encoder does).
        s = min_size + 1
        while n - 1 >= (1 << s) and s < 12:
            s += 1
        return s

    table = {}
    w = None
    for k in indices:
        assert 0 <= k < clear, (k, clear)
        if w is None:
            w = (k,)
            continue
        wk = w + (k,)
        if wk in table:
            w = wk
            continue
        codes.append((w[0] if len(w) == 1 else table[w], width(nxt)))
        if nxt < 4096:
            table[wk] = nxt
            nxt += 1
        if nxt >= min(clear_at, 4095):
            codes.append((clear, width(nxt)))
            table = {}
            nxt = clear + 2
        w = (k,)
    if w is not None:
        codes.append((w[0] if len(w) == 1 else table[w], width(nxt)))
        if nxt < 4096:
            nxt += 1
    if eoi:
        codes.append((clear + 1, width(nxt)))
    return pack_codes(codes)


def sub_blocks(data, size=255, terminate=True):
    out = bytearray()
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out.append(len(piece))
        out += piece
    return bytes(out) + (b"\0" if terminate else b"")


def table_bits(n):
    return max(1, (n - 1).bit_length())


def color_table(colors):
    bits = table_bits(len(colors))
    return b"".join(bytes(c) for c in colors) + bytes(3 * ((1 << bits) - len(colors)))


def screen(w, h, gct=None, bg=0, version=b"GIF89a", aspect=0):
    flags = 0
    if gct is not None:
        bits = table_bits(len(gct))
        flags = 0x80 | (7 << 4) | (bits - 1)
    return version + struct.pack("<HHBBB", w, h, flags, bg, aspect) + (color_table(gct) if gct else b"")


def gce(trans=None, dispose=0, delay=0, size=4):
    body = bytes([(dispose << 2) | (1 if trans is not None else 0)]) + struct.pack("<H", delay) + bytes([trans or 0])
    body = (body + bytes(8))[:size]
    return b"!\xf9" + bytes([len(body)]) + body + b"\0"


def extension(label, data):
    return b"!" + bytes([label]) + sub_blocks(data)


def comment(text):
    return extension(0xFE, text)


def netscape(loops=0):
    return b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loops) + b"\0"


def plain_text(text):
    head = struct.pack("<HHHHBBBB", 0, 0, 40, 8, 8, 8, 1, 0)
    return b"!\x01\x0c" + head + sub_blocks(text)


def image(x, y, w, h, indices, min_size=None, lct=None, interlace=False, data=None):
    """An image descriptor and its data; indices in display order (interlaced here)."""
    flags = 0x40 if interlace else 0
    tab = b""
    if lct is not None:
        flags |= 0x80 | (table_bits(len(lct)) - 1)
        tab = color_table(lct)
    if min_size is None:
        min_size = max(2, max(indices).bit_length() if indices else 2)
    if data is None:
        stored = indices
        if interlace:
            stored = []
            for start, step in ((0, 8), (4, 8), (2, 4), (1, 2)):
                for r in range(start, h, step):
                    stored += indices[r * w:(r + 1) * w]
        data = sub_blocks(lzw_encode(stored, min_size))
    return b"," + struct.pack("<HHHHB", x, y, w, h, flags) + tab + bytes([min_size]) + data


TRAILER = b";"


# ---------------------------------------------------------------------------
# The rules as a model: what frame 0 is, from what the file says


def model_rgba(sw, sh, frame, table, indices, trans):
    """frame (x, y, w, h); table a list of (r, g, b) or None; indices in display order."""
    def color(i):
        rgb = tuple(table[i]) if table is not None and i < len(table) else (i, i, i)
        return rgb + (0 if i == trans else 255,)

    fill = trans if trans is not None else 0
    px = [color(fill)] * (sw * sh)
    fx, fy, fw, fh = frame
    for r in range(fh):
        for c in range(fw):
            px[(fy + r) * sw + fx + c] = color(indices[r * fw + c])
    return px


# ---------------------------------------------------------------------------
# Reading GIF: the structure airlock's rules look at (independent of giflib)


class Reject(Exception):
    def __init__(self, outcome, why):
        super().__init__(why)
        self.outcome, self.why = outcome, why


def read_blocks(data, pos):
    """Sub-blocks from pos; returns (blocks, pos after the terminator). Raises IndexError when cut."""
    blocks = []
    while True:
        n = data[pos]
        if n == 0:
            return blocks, pos + 1
        if pos + 1 + n > len(data):
            raise IndexError("cut")
        blocks.append(data[pos + 1:pos + 1 + n])
        pos += 1 + n


def walk(data, max_pixels=MAX_PIXELS):
    """The rules of decoders/gif.c over the records: returns (changes, has_alpha) for a
    file that is to decode, or raises Reject with the outcome. Pixel data is not
    decoded here: Pillow does that."""
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise Reject("malformed", "no GIF87a/GIF89a signature")
    if len(data) < 13:
        raise Reject("malformed", "the screen descriptor is cut short")
    sw, sh, flags = struct.unpack("<HHB", data[6:11])
    pos = 13
    gct = None
    if flags & 0x80:
        n = 2 << (flags & 7)
        if pos + 3 * n > len(data):
            raise Reject("malformed", "the global colour table is cut short")
        gct, pos = n, pos + 3 * n
    if sw == 0 or sh == 0:
        raise Reject("malformed", "a logical screen of zero width or height")
    if sw * sh > max_pixels:
        raise Reject("too_large", "the logical screen is over max_pixels")
    ch = set()
    trans = None
    while True:
        if pos >= len(data):
            raise Reject("malformed", "no image before the end of the file")
        b = data[pos]
        pos += 1
        if b == 0x2C:
            break
        if b == 0x3B:
            raise Reject("malformed", "the trailer before any image")
        if b != 0x21:
            raise Reject("malformed", "a byte that starts no record before the first image")
        if pos >= len(data):
            raise Reject("malformed", "an extension cut short")
        label = data[pos]
        try:
            blocks, pos = read_blocks(data, pos + 1)
        except IndexError:
            raise Reject("malformed", "an extension cut short")
        if label == 0xF9:
            if not blocks or len(blocks[0]) < 4:
                raise Reject("malformed", "a Graphic Control Extension shorter than 4 bytes")
            if blocks[0][0] & 1:
                trans = blocks[0][3]
        else:
            ch.add("metadata_dropped")
    if pos + 9 > len(data):
        raise Reject("malformed", "the image descriptor is cut short")
    fx, fy, fw, fh, iflags = struct.unpack("<HHHHB", data[pos:pos + 9])
    pos += 9
    lct = None
    if iflags & 0x80:
        n = 2 << (iflags & 7)
        if pos + 3 * n > len(data):
            raise Reject("malformed", "the local colour table is cut short")
        lct, pos = n, pos + 3 * n
    if pos >= len(data):
        raise Reject("malformed", "no LZW minimum code size")
    min_size = data[pos]
    pos += 1
    if min_size > 8:
        raise Reject("malformed", "an LZW minimum code size above 8")
    if fw == 0 or fh == 0:
        raise Reject("malformed", "a first image of zero width or height")
    if fx + fw > sw or fy + fh > sh:
        raise Reject("malformed", "the first image does not fit on the logical screen")
    ch.add("palette_expanded" if (lct or gct) else "grey_expanded")
    if iflags & 0x40:
        ch.add("interlace_removed")
    # The image data: whether it runs to the end of the file (then nothing follows).
    cut = False
    while True:
        if pos >= len(data):
            cut = True
            break
        n = data[pos]
        if pos + 1 + n > len(data):
            cut = True
            break
        pos += 1 + n
        if n == 0:
            break
    while not cut and pos < len(data):
        b = data[pos]
        pos += 1
        if b == 0x3B:
            if pos < len(data):
                ch.add("trailing_dropped")
            break
        if b == 0x2C:
            ch.add("animation_dropped")
            break
        if b != 0x21 or pos >= len(data):
            ch.add("trailing_dropped")
            break
        label = data[pos]
        try:
            _, pos = read_blocks(data, pos + 1)
        except IndexError:
            ch.add("trailing_dropped")
            break
        if label != 0xF9:
            ch.add("metadata_dropped")
    return ch, trans is not None


def changes_for(ch, has_alpha, keep_alpha):
    ch = set(ch)
    if has_alpha and not keep_alpha:
        ch.add("alpha_flattened")
    if keep_alpha and not has_alpha:
        ch.add("alpha_added")
    return changes_str(ch)


# ---------------------------------------------------------------------------
# Pillow, the reference for pixels


def pillow_frame0(data):
    """Pillow's frame 0 as RGBA tuples, and its size; raises what Pillow raises."""
    im = Image.open(io.BytesIO(data))
    im.load()
    return im.size, list(im.convert("RGBA").getdata())


def pillow_reason(e):
    """Pillow's message without what varies from run to run (object addresses, paths)."""
    msg = str(e)
    if "cannot identify image file" in msg:
        return "cannot identify image file"
    return msg.split(" <")[0].split(" '")[0]


def outcome_pixels(rgba, has_alpha, keep_alpha):
    ch, out = finish_pixels(rgba, has_alpha, keep_alpha)
    return ch, fnv64(out)


# ---------------------------------------------------------------------------
# The manifest


class Manifest:
    def __init__(self):
        self.rows = []
        self.counts = {}

    def add(self, path, opts, outcome, w="-", h="-", ch="-", fnv="-", changes="-", why=None):
        if why:
            self.rows.append("# " + why)
        self.rows.append("\t".join(str(v) for v in (path, opts, outcome, "gif", w, h, ch, fnv, changes)))
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def write(self):
        with open(MANIFEST, "w", newline="\n") as f:
            f.write("# SPDX-License-Identifier: MIT\n")
            f.write("# Written by corpus/gen_gif.py (Pillow 9.4 is the reference); replayed by tests/test_images.c.\n")
            f.write("# path\topts\toutcome\ttype\twidth\theight\tchannels\tfnv64\tchanges\n")
            for r in self.rows:
                f.write(r + "\n")


def rows_for(m, path, data, alpha_too, why=None, model=None):
    """The rows of one file: the walk decides refusals and changes, Pillow the pixels."""
    try:
        ch, has_alpha = walk(data)
    except Reject as r:
        m.add(path, "-", r.outcome, why=why or r.why)
        return r.outcome
    try:
        size, rgba = pillow_frame0(data)
    except Exception as e:  # Pillow's refusal is airlock's too, once the walk found nothing to refuse
        m.add(path, "-", "malformed", why=why or "Pillow refuses it too: %s" % pillow_reason(e))
        return "malformed"
    if model is not None:
        assert model == rgba, path + ": the model and Pillow disagree"
    for keep in ([False, True] if alpha_too else [False]):
        nch, fnv = outcome_pixels(rgba, has_alpha, keep)
        m.add(path, "alpha" if keep else "-", "ok", size[0], size[1], nch, fnv, changes_for(ch, has_alpha, keep),
              why=why if not keep else None)
    return "ok"


# ---------------------------------------------------------------------------
# Fixtures built here


def palette(n, seed):
    rng = Rng(seed)
    return [(rng.below(256), rng.below(256), rng.below(256)) for _ in range(n)]


def pattern(name, w, h, n):
    rng = Rng(sum(name.encode()) * 7919 + w * 31 + h)
    return [((x + y) % n if (x * y) % 3 else rng.below(n)) for y in range(h) for x in range(w)]


class Fixtures:
    def __init__(self, m):
        self.m = m

    def write(self, name, data):
        path = os.path.join(OUT_DIR, name)
        with open(path, "wb") as f:
            f.write(data)
        mime = mime_of(path)
        assert mime == "image/gif", (name, mime)
        return os.path.relpath(path, ROOT)

    def ok(self, name, data, sw, sh, frame, table, indices, trans=None, alpha_too=False, why=None):
        """A file the rules decode: the model, Pillow and the walk must agree."""
        path = self.write(name, data)
        model = model_rgba(sw, sh, frame, table, indices, trans)
        assert rows_for(self.m, path, data, alpha_too, why, model) == "ok", name

    def refused(self, name, data, outcome, why):
        path = self.write(name, data)
        assert rows_for(self.m, path, data, False, why) == outcome, name


def gen_fixtures(m):
    f = Fixtures(m)

    # Every table size, global only, odd sizes (13x7: rows end mid-code).
    for bits in range(1, 9):
        n = 1 << bits
        w, h = (13, 7) if bits < 8 else (37, 23)
        pal = palette(n, bits)
        idx = pattern("depth%d" % bits, w, h, n)
        f.ok("global_%dbit.gif" % bits, screen(w, h, pal) + image(0, 0, w, h, idx) + TRAILER, w, h, (0, 0, w, h),
             pal, idx, alpha_too=bits in (1, 8))

    # A local table only; a local table over a global one (the local wins).
    pal, loc = palette(16, 101), palette(8, 102)
    idx = pattern("local", 11, 9, 8)
    f.ok("local_only.gif", screen(11, 9) + image(0, 0, 11, 9, idx, lct=loc) + TRAILER, 11, 9, (0, 0, 11, 9), loc, idx)
    f.ok("global_and_local.gif", screen(11, 9, pal) + image(0, 0, 11, 9, idx, lct=loc) + TRAILER, 11, 9,
         (0, 0, 11, 9), loc, idx, alpha_too=True)

    # No table at all: each index is its own grey.
    idx = pattern("grey", 9, 5, 256)
    f.ok("no_table.gif", screen(9, 5) + image(0, 0, 9, 5, idx, min_size=8) + TRAILER, 9, 5, (0, 0, 9, 5), None, idx,
         why="no colour table: Pillow's mode L, index i is grey (i, i, i)")

    # Indices past a short table: grey too (Pillow's palette past its end).
    pal = palette(4, 7)
    idx = [i * 37 % 256 for i in range(8 * 4)]
    f.ok("index_past_table.gif", screen(8, 4, pal) + image(0, 0, 8, 4, idx, min_size=8) + TRAILER, 8, 4, (0, 0, 8, 4),
         pal, idx, why="a 4-entry table and indices up to 255: past the table, index i is grey (i, i, i), as Pillow")

    # Transparency: every index through the transparent one, and a frame inside the screen.
    pal = palette(16, 3)
    idx = pattern("trans", 12, 8, 16)
    f.ok("transparent.gif", screen(12, 8, pal) + gce(5) + image(0, 0, 12, 8, idx) + TRAILER, 12, 8, (0, 0, 12, 8), pal,
         idx, trans=5, alpha_too=True)
    idx = pattern("offset", 5, 3, 16)
    f.ok("offset_frame.gif", screen(12, 8, pal) + image(4, 3, 5, 3, idx) + TRAILER, 12, 8, (4, 3, 5, 3), pal, idx,
         alpha_too=True, why="a 5x3 image at (4, 3) on a 12x8 screen, no transparency: the rest is index 0, as Pillow")
    f.ok("offset_frame_transparent.gif", screen(12, 8, pal, bg=9) + gce(2) + image(4, 3, 5, 3, idx) + TRAILER, 12, 8,
         (4, 3, 5, 3), pal, idx, trans=2, alpha_too=True,
         why="the same with transparency index 2: the rest is transparent (index 2), never the background index 9")
    f.ok("transparent_past_table.gif", screen(6, 4, palette(4, 9)) + gce(200) + image(1, 1, 3, 2, [0, 1, 2, 3, 200, 1],
                                                                                     min_size=8) + TRAILER,
         6, 4, (1, 1, 3, 2), palette(4, 9), [0, 1, 2, 3, 200, 1], trans=200, alpha_too=True,
         why="transparency index 200 past a 4-entry table: transparent grey (200, 200, 200, 0) as Pillow")
    idx = pattern("two", 4, 4, 16)
    f.ok("two_gces.gif", screen(4, 4, pal) + gce(1) + gce(None, delay=5) + image(0, 0, 4, 4, idx) + TRAILER,
         4, 4, (0, 0, 4, 4), pal, idx, trans=1, alpha_too=True,
         why="a GCE with transparency index 1, then one without: Pillow keeps index 1")

    # Interlace, at heights that leave passes empty.
    for w, h in ((9, 19), (7, 1), (5, 2), (4, 3), (3, 5), (6, 8)):
        pal = palette(32, w * h)
        idx = pattern("il", w, h, 32)
        f.ok("interlaced_%dx%d.gif" % (w, h), screen(w, h, pal) + image(0, 0, w, h, idx, interlace=True) + TRAILER,
             w, h, (0, 0, w, h), pal, idx, alpha_too=(w, h) == (9, 19))
    pal = palette(8, 77)
    idx = pattern("ilo", 6, 9, 8)
    f.ok("interlaced_offset_local.gif",
         screen(10, 12, palette(4, 1)) + gce(3) + image(2, 1, 6, 9, idx, lct=pal, interlace=True) + TRAILER, 10, 12,
         (2, 1, 6, 9), pal, idx, trans=3, alpha_too=True)

    # Odd shapes, and a larger picture whose LZW table fills and clears many times.
    for w, h in ((1, 1), (1, 37), (37, 1)):
        pal = palette(4, w + h)
        idx = pattern("odd", w, h, 4)
        f.ok("odd_%dx%d.gif" % (w, h), screen(w, h, pal) + image(0, 0, w, h, idx) + TRAILER, w, h, (0, 0, w, h), pal,
             idx)
    pal = palette(256, 5)
    rng = Rng(1234)
    idx = [rng.below(256) for _ in range(160 * 120)]
    f.ok("noise_160x120.gif", screen(160, 120, pal) + image(0, 0, 160, 120, idx) + TRAILER, 160, 120,
         (0, 0, 160, 120), pal, idx, why="random indices: the LZW table fills and is cleared again and again")
    idx = pattern("clears", 40, 30, 4)
    f.ok("early_clears.gif", screen(40, 30, palette(4, 8)) + image(
        0, 0, 40, 30, idx, min_size=2, data=sub_blocks(lzw_encode(idx, 2, clear_at=10), size=17)) + TRAILER, 40, 30,
        (0, 0, 40, 30), palette(4, 8), idx, why="a clear code every few codes, in 17-byte sub-blocks")

    # GIF87a; metadata of every kind; an animation.
    pal = palette(4, 11)
    idx = pattern("g87", 8, 6, 4)
    f.ok("gif87a.gif", screen(8, 6, pal, version=b"GIF87a") + image(0, 0, 8, 6, idx) + TRAILER, 8, 6, (0, 0, 8, 6),
         pal, idx)
    body = image(0, 0, 8, 6, idx)
    f.ok("comment.gif", screen(8, 6, pal) + comment(INJECTION.encode()) + body + comment(b"after") + TRAILER, 8, 6,
         (0, 0, 8, 6), pal, idx, why="comment extensions before and after the image (a prompt injection): dropped")
    f.ok("comment_after.gif", screen(8, 6, pal) + body + comment(INJECTION.encode()) + TRAILER, 8, 6, (0, 0, 8, 6),
         pal, idx)
    f.ok("netscape_loop.gif", screen(8, 6, pal) + netscape(0) + body + TRAILER, 8, 6, (0, 0, 8, 6), pal, idx)
    f.ok("plain_text.gif", screen(8, 6, pal) + plain_text(b"HELLO") + body + TRAILER, 8, 6, (0, 0, 8, 6), pal, idx,
         why="a Plain Text Extension: text Pillow (and airlock) never renders")
    f.ok("unknown_extension.gif", screen(8, 6, pal) + extension(0x42, b"??") + body + TRAILER, 8, 6, (0, 0, 8, 6), pal,
         idx)
    f.ok("gce_long.gif", screen(8, 6, pal) + gce(1, size=7) + body + TRAILER, 8, 6, (0, 0, 8, 6), pal, idx, trans=1,
         why="a 7-byte GCE: its fields are where a 4-byte one has them (Pillow reads them so too)")
    frames = b"".join(gce(None, delay=10) + image(0, 0, 8, 6, pattern("anim%d" % i, 8, 6, 4)) for i in range(1, 3))
    f.ok("animated.gif", screen(8, 6, pal) + netscape(0) + gce(None, delay=10) + body + frames + TRAILER, 8, 6,
         (0, 0, 8, 6), pal, idx, alpha_too=True)
    f.ok("animated_offset.gif", screen(8, 6, pal) + gce(0, dispose=2) + image(2, 2, 3, 3, idx[:9]) + gce(
        None) + image(0, 0, 8, 6, pattern("a2", 8, 6, 4)) + TRAILER, 8, 6, (2, 2, 3, 3), pal, idx[:9], trans=0,
        alpha_too=True, why="frame 0 only, with its own transparency; the second frame would cover the screen")

    # The end of the file.
    f.ok("no_trailer.gif", screen(8, 6, pal) + body, 8, 6, (0, 0, 8, 6), pal, idx,
         why="no trailer: the image is whole, as Pillow")
    f.ok("trailing_bytes.gif", screen(8, 6, pal) + body + TRAILER + b"PK\x03\x04 and more", 8, 6, (0, 0, 8, 6), pal,
         idx)
    f.ok("junk_after_image.gif", screen(8, 6, pal) + body + b"\x00\x00junk", 8, 6, (0, 0, 8, 6), pal, idx,
         why="bytes that are no record after the first image: dropped as trailing bytes")
    f.ok("extension_cut_after_image.gif", screen(8, 6, pal) + body + b"!\xfe\x20abc", 8, 6, (0, 0, 8, 6), pal, idx,
         why="a comment cut short after the first image: trailing bytes, not metadata")
    full = image(0, 0, 8, 6, idx)
    f.ok("no_block_terminator.gif", screen(8, 6, pal) + full[:-1], 8, 6, (0, 0, 8, 6), pal, idx,
         why="the data's block terminator and the trailer missing: every pixel is there (Pillow decodes it)")
    data = lzw_encode(idx, 2, eoi=False)
    f.ok("no_eoi.gif", screen(8, 6, pal) + image(0, 0, 8, 6, idx, data=sub_blocks(data)) + TRAILER, 8, 6,
         (0, 0, 8, 6), pal, idx)
    f.ok("cut_after_pixels.gif", screen(8, 6, pal) + image(0, 0, 8, 6, idx, data=sub_blocks(data, terminate=False)
                                                           + b"\x10\x55\x55\x55"), 8, 6, (0, 0, 8, 6), pal, idx,
         why="every pixel, then a sub-block cut short and no trailer: Pillow stops at the last pixel, so does airlock")

    # Refused.
    f.refused("truncated_pixels.gif", screen(8, 6, pal) + full[:len(full) - 6], "malformed",
              "the data ends before the last pixels (Pillow: image file is truncated)")
    short = lzw_encode(idx[:20], 2)
    f.refused("early_eoi.gif", screen(8, 6, pal) + image(0, 0, 8, 6, idx, data=sub_blocks(short)) + TRAILER,
              "malformed", "an EOI code after 20 of 48 pixels (Pillow: image file is truncated)")
    f.refused("frame_outside_screen.gif", screen(8, 6, pal) + image(4, 2, 8, 6, pattern("o", 8, 6, 4)) + TRAILER,
              "malformed", "the first image runs off the screen: malformed (Pillow grows the screen to 12x8)")
    f.refused("frame_zero_width.gif", screen(8, 6, pal) + image(0, 0, 0, 6, [], data=b"\x02\x01\x44\x00") + TRAILER,
              "malformed", "an image of zero width (Pillow fails too)")
    f.refused("junk_before_image.gif", screen(8, 6, pal) + b"\x00" + body + TRAILER, "malformed",
              "a zero byte before the image descriptor: malformed (Pillow skips it)")
    f.refused("no_image.gif", screen(8, 6, pal) + comment(b"nothing") + TRAILER, "malformed", "a trailer and no image")
    f.refused("screen_zero.gif", screen(0, 6, pal) + body + TRAILER, "malformed", "a logical screen of zero width")
    big = palette(256, 12)
    f.refused("code_size_9.gif", screen(8, 6, big) + image(0, 0, 8, 6, [i * 5 for i in range(48)], min_size=9)
              + TRAILER, "malformed",
              "an LZW minimum code size of 9 (indices below 256): malformed, though Pillow decodes it")
    f.refused("gce_short.gif", screen(8, 6, pal) + gce(1, size=3) + body + TRAILER, "malformed",
              "a 3-byte GCE (Pillow fails on it too)")
    f.refused("screen_too_large.gif", screen(65535, 65535, pal) + image(0, 0, 1, 1, [1]) + TRAILER, "too_large",
              "a 65535x65535 screen: over max_pixels before anything is allocated")

    # Pillow's own encoder, for files no code here wrote.
    rng = Rng(99)
    im = Image.new("RGB", (23, 17))
    im.putdata([(x * 11 % 256, y * 15 % 256, rng.below(256)) for y in range(17) for x in range(23)])
    buf = io.BytesIO()
    im.quantize(colors=64, dither=Image.Dither.NONE).save(buf, "GIF")
    path = f.write("pillow_quantized.gif", buf.getvalue())
    assert rows_for(m, path, buf.getvalue(), True, "written by Pillow's encoder") == "ok"
    buf = io.BytesIO()
    p = im.quantize(colors=16, dither=Image.Dither.NONE)
    p.save(buf, "GIF", transparency=3, save_all=True, append_images=[p.rotate(180)], duration=50, loop=0,
           comment=b"pillow")
    path = f.write("pillow_animated_transparent.gif", buf.getvalue())
    assert rows_for(m, path, buf.getvalue(), True, "Pillow's encoder: transparency, two frames, a comment") == "ok"


# ---------------------------------------------------------------------------
# The public suites


# pygif tests whose expected first frame is not Pillow's frame 0, and why.
PYGIF_RENDERS_OTHERWISE = {
    "image-inside-bg": "pygif leaves the screen outside the image transparent; Pillow fills it with index 0",
    "dispose-restore-background": "pygif leaves the screen outside the image transparent; Pillow uses index 0",
    "missing-pixels": "pygif leaves the screen outside the image transparent; Pillow uses index 0",
    "images-combine": "pygif's first frame is every image up to the first delay; airlock's is the first image",
    "images-overlap": "pygif's first frame is every image up to the first delay; airlock's is the first image",
    "high-color": "pygif's first frame is every image up to the first delay; airlock's is the first image",
    "dispose-restore-previous": "pygif's first frame is every image up to the first delay; airlock's is the first",
}


def pygif_expected(name):
    """pygif's expected first frame as RGBA tuples with its size, or None."""
    d = os.path.join(SHARED, SUITE, "pygif-test-suite")
    conf = os.path.join(d, name + ".conf")
    if not os.path.exists(conf):
        return None
    cp = configparser.ConfigParser(inline_comment_prefixes=("#",))
    cp.read(conf)
    frames = [x for x in cp["config"].get("frames", "").split(",") if x]
    if not frames:
        return None
    f0 = cp[frames[0]]
    size = (int(cp["config"]["width"]), int(cp["config"]["height"]))
    if "pixels" in f0:
        with open(os.path.join(d, f0["pixels"]), "rb") as fh:
            raw = fh.read()
        return size, [tuple(raw[i:i + 4]) for i in range(0, len(raw), 4)]
    return size, list(Image.open(os.path.join(d, f0["image"])).convert("RGBA").getdata())


def same_visible(a, b):
    """Equal where visible; transparent pixels need only be transparent."""
    return len(a) == len(b) and all(p[3] == q[3] and (p[3] == 0 or p[:3] == q[:3]) for p, q in zip(a, b))


def gen_public(m):
    base = os.path.join(SHARED, SUITE)
    files = sorted(glob.glob(os.path.join(base, "**", "*.gif"), recursive=True))
    agreed = 0
    for path in files:
        rel = os.path.relpath(path, SHARED)
        with open(path, "rb") as fh:
            data = fh.read()
        assert mime_of(path) == "image/gif", rel
        outcome = rows_for(m, "shared:" + rel, data, alpha_too=True)
        if "pygif-test-suite" in rel and outcome == "ok":
            name = os.path.basename(path)[:-4]
            exp = pygif_expected(name)
            if exp is not None and name not in PYGIF_RENDERS_OTHERWISE:
                size, rgba = pillow_frame0(data)
                assert exp[0] == size and same_visible(exp[1], rgba), rel + ": pygif's expected frame differs"
                agreed += 1
    return len(files), agreed


# Seeds for fuzz/fuzz_gif.c: small fixtures, each with fuzz trailers (fuzz/fuzz.h) that set
# keep_alpha and the background (a), the 4096-pixel cap (a bit 3), an orientation and an output (b).
SEEDS = ("global_1bit.gif", "global_8bit.gif", "local_only.gif", "no_table.gif", "index_past_table.gif",
         "transparent.gif", "offset_frame_transparent.gif", "interlaced_9x19.gif", "interlaced_offset_local.gif",
         "early_clears.gif", "comment.gif", "animated_offset.gif", "cut_after_pixels.gif", "no_block_terminator.gif",
         "pillow_animated_transparent.gif")
TRAILERS = ((0, 0), (1, 5), (6, 15), (9, 26))


def write_seeds():
    os.makedirs(SEED_DIR, exist_ok=True)
    for name in os.listdir(SEED_DIR):
        if not name.startswith(("repro-", "cov-")):
            os.unlink(os.path.join(SEED_DIR, name))
    for name in SEEDS:
        with open(os.path.join(OUT_DIR, name), "rb") as f:
            data = f.read()
        for a, b in TRAILERS:
            with open(os.path.join(SEED_DIR, "%s_a%d_b%d" % (name[:-4], a, b)), "wb") as f:
                f.write(data + (bytes([0xA1, 0xF2, a, b]) if (a, b) != (0, 0) else b""))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name in os.listdir(OUT_DIR):
        os.unlink(os.path.join(OUT_DIR, name))
    m = Manifest()
    gen_fixtures(m)
    made = len(os.listdir(OUT_DIR))
    write_seeds()
    n, agreed = gen_public(m) if os.path.isdir(os.path.join(SHARED, SUITE)) else (0, 0)
    m.write()
    rows = sum(1 for r in m.rows if not r.startswith("#"))
    print("wrote %d fixtures to %s and %d rows (%s) to %s; %d public files, %d pygif frames agree with Pillow"
          % (made, os.path.relpath(OUT_DIR, ROOT), rows,
             ", ".join("%s %d" % kv for kv in sorted(m.counts.items())), os.path.relpath(MANIFEST, ROOT), n, agreed))


if __name__ == "__main__":
    main()
