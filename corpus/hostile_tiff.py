# SPDX-License-Identifier: MIT
"""The hostile TIFF cases, imported by corpus/gen_hostile.py (add(c, changes, MARKER, INJECT)).

Every file is built here, byte by byte, with the standard library. TIFF is off
the default allowlist, so each row but one opts in (allow=tiff); that one shows
the default refusal.
"""

import struct
import zlib

from blobs import icc_profile, zip_archive

TIFF_T = "tiff"
ALLOW = "allow=tiff"
BYTE, ASCII, SHORT, LONG, UNDEFINED = 1, 2, 3, 4, 7


def ifd(entries, e, data_off):
    """entries: (tag, type, count, value bytes). Returns (ifd bytes, blob bytes) with blobs at data_off."""
    entries = sorted(entries, key=lambda t: t[0])
    body = struct.pack(e + "H", len(entries))
    blobs = b""
    for tag, typ, count, vb in entries:
        if len(vb) <= 4:
            body += struct.pack(e + "HHI", tag, typ, count) + vb.ljust(4, b"\0")
        else:
            body += struct.pack(e + "HHII", tag, typ, count, data_off + len(blobs))
            blobs += vb + (b"\0" if len(vb) % 2 else b"")
    return body, blobs


def tiff(w=16, h=8, spp=3, photometric=2, strip=None, compression=1, extra=(), override=None, next_ifd=0,
         rows=None, tail=b""):
    """A little-endian TIFF, one strip after the IFD. override: {tag: (type, count, value bytes)} replaces."""
    e = "<"
    strip = bytes((x * 16 + y * 3 + c * 50) & 0xFF for y in range(h) for x in range(w) for c in range(spp)) \
        if strip is None else strip
    tags = {256: (LONG, 1, struct.pack("<I", w)), 257: (LONG, 1, struct.pack("<I", h)),
            258: (SHORT, spp, struct.pack("<%dH" % spp, *([8] * spp))), 259: (SHORT, 1, struct.pack("<H", compression)),
            262: (SHORT, 1, struct.pack("<H", photometric)), 273: (LONG, 1, b"SOFF"),
            277: (SHORT, 1, struct.pack("<H", spp)), 278: (LONG, 1, struct.pack("<I", h if rows is None else rows)),
            279: (LONG, 1, struct.pack("<I", len(strip)))}
    for tag, typ, count, vb in extra:
        tags[tag] = (typ, count, vb)
    for tag, v in (override or {}).items():
        tags[tag] = v
    entries = [(t, v[0], v[1], v[2]) for t, v in tags.items()]
    n = len(entries)
    data_off = 8 + 2 + 12 * n + 4
    body, blobs = ifd(entries, e, data_off)
    strip_off = data_off + len(blobs)
    body = body.replace(b"SOFF", struct.pack("<I", strip_off), 1)
    nxt = 8 if next_ifd == "self" else next_ifd
    return b"II*\0" + struct.pack("<I", 8) + body + struct.pack("<I", nxt) + blobs + strip + tail


def add(c, changes, MARKER, INJECT):
    plain = tiff()
    ok = dict(typ=TIFF_T, shape="img:16x8x3", opts=ALLOW)

    # --- the allowlist
    c.add("tiff_default_allowlist.tif", plain, "disguise", "type", limit="allowed_types", typ=TIFF_T,
          desc="a valid TIFF with the default allowlist, which leaves TIFF out (libtiff's history, TIFF's breadth)")
    c.row("tiff_default_allowlist.tif", "disguise", "ok", changes="-", **ok,
          desc="the same TIFF once the caller allows it")

    # --- structure: IFD chains, offsets, counts
    cls = "structure"
    c.add("tiff_ifd_loop_self.tif", tiff(next_ifd="self"), cls, "malformed", typ=TIFF_T, opts=ALLOW,
          cve="CVE-2017-9147", desc="IFD 0's next-IFD offset points at IFD 0 itself")
    # IFD 1 (a copy of IFD 0's entries) after the strip, pointing back at IFD 0.
    base = tiff()
    one_at = len(base)
    n = struct.unpack("<H", base[8:10])[0]
    ifd0 = base[8:8 + 2 + 12 * n]
    cyc = bytearray(base[:8 + 2 + 12 * n] + struct.pack("<I", one_at) + base[8 + 2 + 12 * n + 4:])
    cyc += ifd0 + struct.pack("<I", 8)
    c.add("tiff_ifd_cycle.tif", bytes(cyc), cls, "malformed", typ=TIFF_T, opts=ALLOW,
          desc="IFD 0 -> IFD 1 -> IFD 0: a cycle of two")
    c.add("tiff_strip_offset_oob.tif", tiff(override={273: (LONG, 1, struct.pack("<I", 0x7FFFFFF0))}), cls,
          "malformed", typ=TIFF_T, opts=ALLOW, desc="StripOffsets far past the end of the file")
    c.add("tiff_strip_bytecount_huge.tif", tiff(override={279: (LONG, 1, struct.pack("<I", 0xFFFFFFF0))}), cls,
          "malformed", typ=TIFF_T, opts=ALLOW,
          desc="StripByteCounts claims 4 GiB for a 384-byte strip: libtiff calls it bogus (a warning: an error)")
    c.add("tiff_deflate_bytecount_huge.tif", tiff(strip=zlib.compress(bytes(384)), compression=8,
                                                  override={279: (LONG, 1, struct.pack("<I", 0xFFFFFFF0))}), cls,
          "malformed", typ=TIFF_T, opts=ALLOW,
          desc="a Deflate strip whose byte count claims 4 GiB: libtiff reads to the end of the file, no further")
    c.add("tiff_strip_bytecount_short.tif", tiff(override={279: (LONG, 1, struct.pack("<I", 100))}), cls,
          "malformed", typ=TIFF_T, opts=ALLOW, desc="StripByteCounts smaller than the uncompressed strip")
    c.add("tiff_tag_count_bomb.tif", tiff(extra=[(65000, BYTE, 0xFFFFFFFF, struct.pack("<I", 200))]), cls,
          "malformed", typ=TIFF_T, opts=ALLOW,
          desc="a private tag with count 2^32-1 (4 GiB) at an offset inside a 500-byte file")
    c.add("tiff_stripoffsets_count_bomb.tif", tiff(override={273: (LONG, 0xFFFFFFFF, struct.pack("<I", 200))}), cls,
          "malformed", typ=TIFF_T, opts=ALLOW, desc="StripOffsets with count 2^32-1")
    c.add("tiff_rowsperstrip_huge.tif", tiff(rows=0xFFFFFFFF), cls, "ok", changes="-",
          **dict(ok, desc="RowsPerStrip 2^32-1 (the default, one strip): read as the image height"))
    c.add("tiff_rowsperstrip_zero.tif", tiff(rows=0), cls, "malformed", typ=TIFF_T, opts=ALLOW,
          desc="RowsPerStrip 0")

    # --- dimension lies and the budgets
    cls = "dimension_lie"
    # Deflate strips of a few bytes: libtiff has no uncompressed size to hold the byte counts against.
    z = zlib.compress(bytes(64), 9)
    c.add("tiff_width_huge.tif", tiff(strip=z, compression=8, override={256: (LONG, 1, struct.pack("<I", 1000000))}),
          cls, "too_large",
          limit="max_width", typ=TIFF_T, opts=ALLOW, desc="ImageWidth 10^6 over a 384-byte strip")
    c.add("tiff_pixels_huge.tif", tiff(strip=z, compression=8, rows=0xFFFFFFFF,
                                       override={256: (LONG, 1, struct.pack("<I", 60000)),
                                                 257: (LONG, 1, struct.pack("<I", 60000))}), cls, "too_large",
          limit="max_pixels", typ=TIFF_T, opts=ALLOW, desc="60000 x 60000: within each side, over max_pixels")
    c.add("tiff_height_rotated.tif", tiff(strip=z, compression=8, rows=0xFFFFFFFF,
                                          override={256: (LONG, 1, struct.pack("<I", 70000)),
                                                    257: (LONG, 1, struct.pack("<I", 2))},
                                          extra=[(274, SHORT, 1, struct.pack("<H", 6))]), cls, "too_large",
          limit="max_height", typ=TIFF_T, opts=ALLOW,
          desc="70000 x 2 rotated by Orientation 6: 70000 rows out, over max_height")
    t = tiled(16, 8, 1 << 20, 1 << 20)
    c.add("tiff_tile_size_lie.tif", t, cls, "too_large", limit="max_png_inflated_bytes", typ=TIFF_T, opts=ALLOW,
          desc="a 16x8 image in one 2^20 x 2^20 tile: 3 TiB for the codec to fill; the inflated-bytes cap stops it")
    c.add("tiff_tile_size_lie_small.tif", tiled(16, 8, 4096, 4096), cls, "ok", changes="-",
          **dict(ok, desc="a 16x8 image in one 4096x4096 tile (48 MiB, within the caps): decoded, padding dropped"))

    cls = "decompression_bomb"
    for comp, name, data in ((8, "deflate", zlib.compress(bytes(64 << 20), 9)), (5, "lzw", lzw_zeros(1 << 20))):
        c.add("tiff_%s_bomb.tif" % name, tiff(strip=data, compression=comp), cls, "ok", changes="-",
              **dict(ok, desc="one %s strip that inflates to %d MiB for a 384-byte image: libtiff stops at the "
                              "strip's size" % (name, (64 if comp == 8 else 1))))

    # --- payloads
    cls = "metadata_payload"
    prof = icc_profile(INJECT.encode())
    c.add("tiff_icc_injection.tif", tiff(extra=[(34675, UNDEFINED, len(prof), prof)]), cls, "malformed", typ=TIFF_T,
          opts=ALLOW, desc="an ICC tag whose profile is a shell around the injection text: lcms2 refuses it")
    c.row("tiff_icc_injection.tif", cls, "ok", changes="metadata_dropped", typ=TIFF_T, shape="img:16x8x3",
          opts=ALLOW + ",icc=0", desc="the same with ICC conversion off: the profile is ignored, and dropped")
    d = INJECT.encode() + b"\0"
    c.add("tiff_description_injection.tif", tiff(extra=[(270, ASCII, len(d), d), (305, ASCII, len(d), d)]), cls,
          "ok", changes="metadata_dropped", **dict(ok, desc="ImageDescription and Software carry the injection "
                                                            "text: dropped, never in the output"))

    cls = "polyglot"
    c.add("tiff_plus_zip.tif", tiff(tail=zip_archive([("README.txt", (MARKER + "\n").encode())])), cls, "ok", changes="-",
          **dict(ok, desc="a ZIP archive after the strip (TIFF+ZIP polyglot): TIFF has no end marker, so nothing "
                          "says the bytes are trailing; they are never read"))


def tiled(w, h, tw, th):
    """A tiled TIFF, one Deflate tile of tw x th (RGB); tiles up to 64 MiB are there in full."""
    full = tw * th * 3
    data = zlib.compress(bytes(full) if full <= 64 << 20 else bytes(w * h * 3), 9)
    tags = [(256, LONG, 1, struct.pack("<I", w)), (257, LONG, 1, struct.pack("<I", h)),
            (258, SHORT, 3, struct.pack("<3H", 8, 8, 8)), (259, SHORT, 1, struct.pack("<H", 8)),
            (262, SHORT, 1, struct.pack("<H", 2)), (277, SHORT, 1, struct.pack("<H", 3)),
            (322, LONG, 1, struct.pack("<I", tw)), (323, LONG, 1, struct.pack("<I", th)),
            (324, LONG, 1, b"SOFF"), (325, LONG, 1, struct.pack("<I", len(data)))]
    data_off = 8 + 2 + 12 * len(tags) + 4
    body, blobs = ifd(tags, "<", data_off)
    body = body.replace(b"SOFF", struct.pack("<I", data_off + len(blobs)), 1)
    return b"II*\0" + struct.pack("<I", 8) + body + struct.pack("<I", 0) + blobs + data


def lzw_zeros(n):
    """A TIFF LZW stream (MSB first, ClearCode first) of n zero bytes, by a minimal encoder."""
    out, acc, nbits = bytearray(), 0, 0

    def put(code, width):
        nonlocal acc, nbits
        acc = (acc << width) | code
        nbits += width
        while nbits >= 8:
            nbits -= 8
            out.append((acc >> nbits) & 0xFF)

    table = {bytes([i]): i for i in range(256)}
    nxt, width = 258, 9
    put(256, width)
    w = b""
    produced = 0
    data = bytes(n)
    for i in range(n):
        ch = data[i:i + 1]
        wc = w + ch
        if wc in table:
            w = wc
            continue
        put(table[w], width)
        produced += len(w)
        table[wc] = nxt
        nxt += 1
        if nxt + 1 >= (1 << width):
            if width == 12:
                put(256, width)
                table = {bytes([j]): j for j in range(256)}
                nxt, width = 258, 9
            else:
                width += 1
        w = ch
    put(table[w], width)
    put(257, width)
    if nbits:
        out.append((acc << (8 - nbits)) & 0xFF)
    return bytes(out)
