#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end tests of the airlock(1) command-line contract.

Usage: test_cli.py AIRLOCK_BINARY SOURCE_ROOT

Prints TAP. Each test checks one behaviour of the CLI as documented in
sanitizer/cli.c and include/airlock.h; the fixtures and their expected
outcomes come from corpus/images/ and corpus/images.tsv.
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import zlib

if len(sys.argv) != 3:
    sys.stderr.write("usage: test_cli.py AIRLOCK_BINARY SOURCE_ROOT\n")
    sys.exit(2)

AIRLOCK = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
IMAGES = os.path.join(ROOT, "corpus", "images")

EXIT_OK, EXIT_USAGE, EXIT_REJECTED = 0, 64, 65
REPORT_KEYS = {"input", "status", "error", "type", "width", "height", "channels", "rate", "frames", "seconds",
               "changes", "elapsed_ms"}
INJECTION = b"IGNORE PREVIOUS INSTRUCTIONS"

TESTS = []


def test(name):
    def register(fn):
        TESTS.append((name, fn))
        return fn

    return register


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def img(name):
    return os.path.join(IMAGES, name)


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Run:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr

    def __repr__(self):
        return "rc=%d stdout=%d bytes stderr=%r" % (self.rc, len(self.out), self.err[:300])


def run(*args, stdin=None, umask=None, cwd=None):
    """Runs airlock with args; stdin is bytes, a file path (str) or None (empty)."""
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    if isinstance(stdin, str):
        with open(stdin, "rb") as f:
            p = subprocess.run([AIRLOCK] + list(args), stdin=f, capture_output=True, timeout=60,
                               preexec_fn=preexec, cwd=cwd)
    else:
        p = subprocess.run([AIRLOCK] + list(args), input=stdin if stdin is not None else b"",
                           capture_output=True, timeout=60, preexec_fn=preexec, cwd=cwd)
    return Run(p)


def run_ok(*args, **kw):
    r = run(*args, **kw)
    check(r.rc == EXIT_OK, "expected exit 0: %r" % (r,))
    return r


def report(r):
    """The single JSON report line from stderr, parsed."""
    text = r.err.decode("utf-8")
    lines = text.split("\n")
    check(len(lines) == 2 and lines[1] == "", "stderr is not exactly one line: %r" % text)
    try:
        return json.loads(lines[0])
    except ValueError as e:
        raise Failure("stderr is not valid JSON (%s): %r" % (e, lines[0]))


class TempDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="airlock-test-cli-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)
        return False


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


# ---- format parsers ----

PNG_SIG = b"\x89PNG\r\n\x1a\n"


def png_chunks(data):
    """[(type, payload)], checking the signature, lengths and every CRC."""
    check(data.startswith(PNG_SIG), "output does not start with the PNG signature: %r" % data[:16])
    pos, chunks = len(PNG_SIG), []
    while pos < len(data):
        check(pos + 12 <= len(data), "truncated PNG chunk header at %d" % pos)
        n = int.from_bytes(data[pos:pos + 4], "big")
        ctype = data[pos + 4:pos + 8]
        check(pos + 12 + n <= len(data), "PNG chunk %r runs past the end" % ctype)
        payload = data[pos + 8:pos + 8 + n]
        crc = int.from_bytes(data[pos + 8 + n:pos + 12 + n], "big")
        check(zlib.crc32(ctype + payload) & 0xFFFFFFFF == crc, "bad CRC on PNG chunk %r" % ctype)
        chunks.append((ctype.decode("latin-1"), payload))
        pos += 12 + n
        if ctype == b"IEND":
            break
    check(pos == len(data), "%d bytes after IEND" % (len(data) - pos))
    check(chunks and chunks[-1][0] == "IEND", "PNG has no IEND")
    return chunks


def png_ihdr(data):
    chunks = png_chunks(data)
    check(chunks[0][0] == "IHDR" and len(chunks[0][1]) == 13, "first chunk is not a 13-byte IHDR")
    p = chunks[0][1]
    return {
        "width": int.from_bytes(p[0:4], "big"),
        "height": int.from_bytes(p[4:8], "big"),
        "depth": p[8],
        "colour": p[9],
        "interlace": p[12],
    }


def png_pixels(data):
    """Decodes an 8-bit, non-interlaced RGB/RGBA PNG to (w, h, channels, bytes)."""
    h = png_ihdr(data)
    check(h["depth"] == 8 and h["colour"] in (2, 6) and h["interlace"] == 0,
          "not an 8-bit non-interlaced RGB(A) PNG: %r" % h)
    ch = 3 if h["colour"] == 2 else 4
    w, hh = h["width"], h["height"]
    z = b"".join(p for t, p in png_chunks(data) if t == "IDAT")
    raw = zlib.decompress(z)
    stride = w * ch
    check(len(raw) == hh * (stride + 1), "IDAT inflates to %d bytes, want %d" % (len(raw), hh * (stride + 1)))
    out = bytearray()
    prev = bytearray(stride)
    for y in range(hh):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        check(f <= 4, "bad filter type %d" % f)
        for i in range(stride):
            a = line[i - ch] if i >= ch else 0
            b = prev[i]
            c = prev[i - ch] if i >= ch else 0
            if f == 1:
                pred = a
            elif f == 2:
                pred = b
            elif f == 3:
                pred = (a + b) // 2
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            else:
                pred = 0
            line[i] = (line[i] + pred) & 0xFF
        out += line
        prev = line
    return w, hh, ch, bytes(out)


def jpeg_markers(data):
    """[(marker, payload)] from SOI up to and including SOS."""
    check(data[:2] == b"\xff\xd8", "output does not start with a JPEG SOI: %r" % data[:4])
    check(data[-2:] == b"\xff\xd9", "JPEG output does not end with EOI")
    pos, out = 2, []
    while True:
        check(pos + 4 <= len(data), "JPEG ends before SOS")
        check(data[pos] == 0xFF, "no marker at offset %d" % pos)
        m = data[pos + 1]
        n = int.from_bytes(data[pos + 2:pos + 4], "big")
        check(n >= 2 and pos + 2 + n <= len(data), "bad segment length for marker %02x" % m)
        out.append((m, data[pos + 4:pos + 2 + n]))
        pos += 2 + n
        if m == 0xDA:
            return out


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def manifest():
    rows = []
    with open(os.path.join(ROOT, "corpus", "images.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            path, opts, outcome, typ, w, h, ch, fnv, changes = line.split("\t")
            if path.startswith("shared:"):
                continue
            rows.append({"path": os.path.join(ROOT, path), "alpha": opts == "alpha", "outcome": outcome,
                         "type": typ, "width": w, "height": h, "channels": ch, "fnv": fnv,
                         "changes": changes})
    return rows


def make_png_with_text(marker):
    """rgb8.png with a tEXt chunk holding marker inserted after IHDR."""
    data = read(img("rgb8.png"))
    end_ihdr = len(PNG_SIG) + 12 + 13
    payload = b"Comment\x00" + marker
    chunk = len(payload).to_bytes(4, "big") + b"tEXt" + payload + \
        (zlib.crc32(b"tEXt" + payload) & 0xFFFFFFFF).to_bytes(4, "big")
    return data[:end_ihdr] + chunk + data[end_ihdr:]


def temp_names(d):
    return [n for n in os.listdir(d) if n.startswith(".airlock-")]


# ---- basic I/O ----

def check_sanitized_png(out, name):
    """out is a clean RGB PNG whose pixels match the manifest row of name (no options)."""
    rows = [r for r in manifest() if os.path.basename(r["path"]) == name and not r["alpha"]]
    check(len(rows) == 1, "no manifest row for %s" % name)
    w, h, ch, px = png_pixels(out)
    got = (str(w), str(h), str(ch), "%016x" % fnv1a64(px))
    want = (rows[0]["width"], rows[0]["height"], rows[0]["channels"], rows[0]["fnv"])
    check(got == want, "PNG output (w, h, channels, fnv64) %r, want %r" % (got, want))


# pal8.png has a PLTE chunk and palette pixels: a pass-through cannot match.
@test("PNG file input: exit 0 and the sanitized PNG on stdout")
def _():
    check_sanitized_png(run_ok(img("pal8.png")).out, "pal8.png")


@test("PNG from stdin with '-': exit 0 and the sanitized PNG on stdout")
def _():
    check_sanitized_png(run_ok("-", stdin=img("pal8.png")).out, "pal8.png")


@test("PNG from stdin with no INPUT: exit 0 and the sanitized PNG on stdout")
def _():
    check_sanitized_png(run_ok(stdin=img("pal8.png")).out, "pal8.png")


@test("stdin and file input give the same bytes")
def _():
    a = run_ok(img("pal8.png")).out
    b = run_ok(stdin=img("pal8.png")).out
    check(a == b, "stdin output differs from file output")


@test("PNG output has only IHDR, IDAT, IEND chunks")
def _():
    for name in ("pal8.png", "metadata_injection.png", "apng_3frames.png", "ancillary_ignored.png"):
        r = run_ok(img(name))
        types = [t for t, _ in png_chunks(r.out)]
        check(types[0] == "IHDR" and types[-1] == "IEND" and set(types[1:-1]) == {"IDAT"},
              "%s: chunks %r" % (name, types))


@test("PNG output IHDR is 8-bit, RGB, non-interlaced, of the input size")
def _():
    r = run_ok(img("adam7_rgb8_40x32.png"))
    h = png_ihdr(r.out)
    check((h["width"], h["height"], h["depth"], h["colour"], h["interlace"]) == (40, 32, 8, 2, 0),
          "IHDR %r" % h)


def jpeg_sof(data):
    """(marker, width, height, components) of the frame header."""
    sofs = [(m, p) for m, p in jpeg_markers(data) if 0xC0 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC)]
    check(len(sofs) == 1, "%d SOF markers" % len(sofs))
    m, p = sofs[0]
    return m, int.from_bytes(p[3:5], "big"), int.from_bytes(p[1:3], "big"), p[5]


@test("JPEG input gives a baseline JPEG by default (progressive in, SOF0 out)")
def _():
    r = run_ok(img("jpeg_progressive.jpg"))
    sof = jpeg_sof(r.out)
    check(sof == (0xC0, 40, 32, 3), "SOF %r" % (sof,))


@test("JPEG output has no APP1..APP15 or COM markers")
def _():
    for name in ("jpeg_metadata_injection.jpg", "jpeg_exif_orientation6.jpg", "jpeg_420.jpg"):
        r = run_ok(img(name))
        bad = [m for m, _ in jpeg_markers(r.out) if 0xE1 <= m <= 0xEF or m == 0xFE]
        check(not bad, "%s: forbidden markers %r" % (name, ["%02x" % m for m in bad]))


@test("JPEG output starts with an APP0 JFIF segment (even from an Adobe APP14 input)")
def _():
    for name in ("jpeg_cmyk.jpg", "jpeg_metadata_injection.jpg"):
        m = jpeg_markers(run_ok(img(name)).out)
        check(m[0][0] == 0xE0 and m[0][1].startswith(b"JFIF\x00"),
              "%s: first segment %02x %r" % (name, m[0][0], m[0][1][:5]))


@test("--to png on a JPEG gives a PNG")
def _():
    check_sanitized_png(run_ok("--to", "png", img("jpeg_444.jpg")).out, "jpeg_444.jpg")


@test("--to jpeg on a PNG gives a JPEG")
def _():
    sof = jpeg_sof(run_ok("--to", "jpeg", img("rgb8.png")).out)
    check(sof == (0xC0, 11, 7, 3), "SOF %r" % (sof,))


@test("--to jpg is accepted as jpeg")
def _():
    a = run_ok("--to", "jpg", img("rgb8.png")).out
    b = run_ok("--to", "jpeg", img("rgb8.png")).out
    check(a == b, "--to jpg output differs from --to jpeg")


@test("--to raw length == width*height*channels from --json")
def _():
    for name, extra in (("rgb8.png", []), ("jpeg_420_37x19.jpg", []), ("rgba8.png", ["--keep-alpha"])):
        r = run_ok("--json", "--to", "raw", *extra, img(name))
        j = report(r)
        want = j["width"] * j["height"] * j["channels"]
        check(len(r.out) == want, "%s: raw is %d bytes, report says %d" % (name, len(r.out), want))


@test("--to raw pixels equal the pixels of the PNG output")
def _():
    raw = run_ok("--to", "raw", img("adam7_rgb8_3x37.png")).out
    _, _, _, px = png_pixels(run_ok(img("adam7_rgb8_3x37.png")).out)
    check(raw == px, "PNG output decodes to different pixels than --to raw")


@test("--to raw pixels match the manifest's fnv64 for every local fixture")
def _():
    bad = []
    for row in manifest():
        if row["outcome"] != "ok":
            continue
        args = ["--to", "raw"] + (["--keep-alpha"] if row["alpha"] else []) + [row["path"]]
        r = run(*args)
        if r.rc != 0 or "%016x" % fnv1a64(r.out) != row["fnv"]:
            bad.append("%s%s rc=%d" % (os.path.basename(row["path"]), " alpha" if row["alpha"] else "", r.rc))
    check(not bad, "mismatches: %s" % ", ".join(bad))


@test("-o - writes to stdout")
def _():
    a = run_ok(img("rgb8.png"), "-o", "-").out
    b = run_ok(img("rgb8.png")).out
    check(a == b and a, "-o - output differs from plain stdout output")


# ---- determinism ----

@test("same PNG input twice gives identical bytes")
def _():
    a, b = run_ok(img("pal4.png")).out, run_ok(img("pal4.png")).out
    check(a == b, "outputs differ")


@test("same JPEG input twice gives identical bytes")
def _():
    a, b = run_ok(img("jpeg_progressive.jpg")).out, run_ok(img("jpeg_progressive.jpg")).out
    check(a == b, "outputs differ")


@test("same input twice with --to raw gives identical bytes")
def _():
    a, b = run_ok("--to", "raw", img("rgba16.png")).out, run_ok("--to", "raw", img("rgba16.png")).out
    check(a == b, "outputs differ")


@test("PNG output is idempotent: sanitizing it again gives the identical file")
def _():
    for name in ("rgb8.png", "grey16.png", "metadata_injection.png", "adam7_pal4_37x3.png"):
        once = run_ok(img(name)).out
        twice = run_ok("-", stdin=once).out
        check(once == twice, "%s: second pass changed the PNG" % name)


@test("PNG output with --keep-alpha is idempotent")
def _():
    once = run_ok("--keep-alpha", img("rgba8.png")).out
    twice = run_ok("--keep-alpha", stdin=once).out
    check(once == twice, "second pass changed the RGBA PNG")


@test("raw pixels are unchanged by a round trip through the PNG output")
def _():
    raw1 = run_ok("--to", "raw", img("rgba16.png")).out
    png = run_ok(img("rgba16.png")).out
    raw2 = run_ok("--to", "raw", stdin=png).out
    check(raw1 == raw2, "raw of the airlock PNG differs from raw of the input")


@test("second pass on an airlock PNG reports no changes")
def _():
    png = run_ok(img("greyalpha16.png")).out
    j = report(run_ok("--json", stdin=png))
    check(j["changes"] == [], "changes %r" % j["changes"])


# ---- metadata and trailing data ----

@test("metadata_injection.png input contains the injection text")
def _():
    check(INJECTION in read(img("metadata_injection.png")), "fixture lacks %r" % INJECTION)


@test("metadata_injection.png output contains no injection text")
def _():
    out = run_ok(img("metadata_injection.png")).out
    check(INJECTION not in out and b"ignore previous" not in out.lower(), "injection text survived")


@test("metadata_injection.png output in every format contains no injection text")
def _():
    for fmt in ("png", "jpeg", "raw"):
        out = run_ok("--to", fmt, img("metadata_injection.png")).out
        check(b"ignore previous" not in out.lower(), "injection text survived --to %s" % fmt)


@test("metadata_injection.png report lists metadata_dropped")
def _():
    j = report(run_ok("--json", img("metadata_injection.png")))
    check("metadata_dropped" in j["changes"], "changes %r" % j["changes"])


@test("jpeg_metadata_injection.jpg input contains the injection text")
def _():
    check(INJECTION in read(img("jpeg_metadata_injection.jpg")), "fixture lacks %r" % INJECTION)


@test("jpeg_metadata_injection.jpg output contains no injection text")
def _():
    out = run_ok(img("jpeg_metadata_injection.jpg")).out
    check(INJECTION not in out and b"ignore previous" not in out.lower(), "injection text survived")


@test("jpeg_metadata_injection.jpg report lists metadata_dropped")
def _():
    j = report(run_ok("--json", img("jpeg_metadata_injection.jpg")))
    check("metadata_dropped" in j["changes"], "changes %r" % j["changes"])


@test("trailing_zip.png: input has a ZIP, output has none")
def _():
    check(b"PK\x03\x04" in read(img("trailing_zip.png")), "fixture lacks a ZIP header")
    r = run_ok("--json", img("trailing_zip.png"))
    check(b"PK\x03\x04" not in r.out, "ZIP header survived")
    check("trailing_dropped" in report(r)["changes"], "no trailing_dropped change")


@test("jpeg_trailing_zip.jpg: input has a ZIP, output has none")
def _():
    check(b"PK\x03\x04" in read(img("jpeg_trailing_zip.jpg")), "fixture lacks a ZIP header")
    r = run_ok("--json", img("jpeg_trailing_zip.jpg"))
    check(b"PK\x03\x04" not in r.out, "ZIP header survived")
    check("trailing_dropped" in report(r)["changes"], "no trailing_dropped change")


# ---- rejection ----

BAD = img("bad_crc_idat.png")


@test("malformed input exits 65")
def _():
    r = run(BAD)
    check(r.rc == EXIT_REJECTED, "%r" % (r,))


@test("malformed input leaves stdout empty")
def _():
    r = run(BAD)
    check(r.out == b"", "stdout has %d bytes" % len(r.out))


@test("malformed input leaves stdout empty for every output format")
def _():
    for fmt in ("png", "jpeg", "raw"):
        r = run("--to", fmt, stdin=BAD)
        check(r.rc == EXIT_REJECTED and r.out == b"", "--to %s: %r" % (fmt, r))


@test("rejection without --json prints one line naming the error")
def _():
    r = run(BAD)
    lines = r.err.decode().splitlines()
    check(len(lines) == 1 and "malformed" in lines[0], "stderr %r" % r.err)


@test("rejected run with -o OUT does not create OUT")
def _():
    with TempDir() as d:
        out = os.path.join(d, "out.png")
        r = run(BAD, "-o", out)
        check(r.rc == EXIT_REJECTED, "%r" % (r,))
        check(not os.path.lexists(out), "OUT was created")


@test("rejected run leaves an existing OUT unchanged (bytes and mtime)")
def _():
    with TempDir() as d:
        out = write(os.path.join(d, "out.png"), b"known contents\n")
        os.utime(out, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
        before = os.stat(out)
        r = run(BAD, "-o", out)
        check(r.rc == EXIT_REJECTED, "%r" % (r,))
        after = os.stat(out)
        check(read(out) == b"known contents\n", "OUT bytes changed")
        check(after.st_mtime_ns == before.st_mtime_ns and after.st_ino == before.st_ino,
              "OUT mtime or inode changed")


@test("no .airlock-* temp file is left after a rejected run")
def _():
    with TempDir() as d:
        for i, bad in enumerate((BAD, img("too_large_20000x20000.png"), img("jpeg_truncated_scan.jpg"))):
            r = run(bad, "-o", os.path.join(d, "out%d" % i))
            check(r.rc == EXIT_REJECTED, "%s: %r" % (os.path.basename(bad), r))
        check(os.listdir(d) == [], "left behind: %r" % os.listdir(d))


@test("no .airlock-* temp file is left after a successful run")
def _():
    with TempDir() as d:
        run_ok(img("rgb8.png"), "-o", os.path.join(d, "out.png"))
        run_ok(img("jpeg_444.jpg"), "-o", "rel.jpg", cwd=d)
        check(temp_names(d) == [], "left behind: %r" % temp_names(d))
        check(sorted(os.listdir(d)) == ["out.png", "rel.jpg"], "directory holds %r" % os.listdir(d))


# ---- -o OUT ----

@test("-o OUT writes the same bytes as stdout and nothing to stdout")
def _():
    with TempDir() as d:
        out = os.path.join(d, "out.png")
        r = run_ok(img("rgb8.png"), "-o", out)
        check(r.out == b"", "stdout has %d bytes" % len(r.out))
        check(read(out) == run_ok(img("rgb8.png")).out, "OUT differs from the stdout output")


@test("--output=FILE works like -o FILE")
def _():
    with TempDir() as d:
        out = os.path.join(d, "out.png")
        run_ok(img("rgb8.png"), "--output=" + out)
        png_chunks(read(out))


@test("-o OUT has mode 0644 under umask 022")
def _():
    with TempDir() as d:
        out = os.path.join(d, "out.png")
        run_ok(img("rgb8.png"), "-o", out, umask=0o022)
        mode = stat.S_IMODE(os.stat(out).st_mode)
        check(mode == 0o644, "mode %o" % mode)


@test("-o OUT has mode 0600 under umask 077")
def _():
    with TempDir() as d:
        out = os.path.join(d, "out.png")
        run_ok(img("rgb8.png"), "-o", out, umask=0o077)
        mode = stat.S_IMODE(os.stat(out).st_mode)
        check(mode == 0o600, "mode %o" % mode)


@test("-o over an existing file replaces it by rename (new inode, new bytes)")
def _():
    with TempDir() as d:
        out = write(os.path.join(d, "out.png"), b"old contents\n")
        ino = os.stat(out).st_ino
        keep = os.open(out, os.O_RDONLY)  # pins the old inode so its number is not reused
        try:
            run_ok(img("rgb8.png"), "-o", out, umask=0o022)
            check(os.stat(out).st_ino != ino, "OUT was rewritten in place, not renamed over")
            check(os.read(keep, 100) == b"old contents\n", "the old file's contents were modified")
        finally:
            os.close(keep)
        png_chunks(read(out))
        check(stat.S_IMODE(os.stat(out).st_mode) == 0o644, "replaced OUT mode is not 0644")


# ---- usage errors ----

def usage_error(*args, stdin=None):
    r = run(*args, stdin=stdin)
    check(r.rc == EXIT_USAGE, "expected exit 64: %r" % (r,))
    check(r.out == b"", "stdout has %d bytes" % len(r.out))
    lines = r.err.decode("utf-8", "replace").split("\n")
    check(lines[-1] == "", "stderr does not end with a newline: %r" % r.err)
    lines = lines[:-1]
    check(lines and re.match(r"^airlock: \S", lines[0]), "no 'airlock: reason' line: %r" % r.err)
    # One reason line; the only thing allowed after it is the --help hint.
    check(all(l == "Try 'airlock --help'." for l in lines[1:]), "reason is not one line: %r" % r.err)
    return r


@test("unknown option exits 64")
def _():
    usage_error("--frobnicate", img("rgb8.png"))


@test("unknown short option exits 64")
def _():
    usage_error("-x", img("rgb8.png"))


@test("missing option value exits 64")
def _():
    usage_error(img("rgb8.png"), "--max-width")


@test("--max-width abc exits 64")
def _():
    usage_error("--max-width", "abc", img("rgb8.png"))


@test("--max-width 0 exits 64")
def _():
    usage_error("--max-width", "0", img("rgb8.png"))


@test("--max-width -5 and 5x exit 64")
def _():
    usage_error("--max-width=-5", img("rgb8.png"))
    usage_error("--max-width", "5x", img("rgb8.png"))


@test("--to gif exits 64")
def _():
    usage_error("--to", "gif", img("rgb8.png"))


@test("--allow svg exits 64")
def _():
    usage_error("--allow", "svg", img("rgb8.png"))


@test("--expect gif exits 64")
def _():
    usage_error("--expect", "gif", img("rgb8.png"))


@test("--background 12345 exits 64")
def _():
    usage_error("--background", "12345", img("rgb8.png"))


@test("--background with a non-hex digit exits 64")
def _():
    usage_error("--background", "12345g", img("rgb8.png"))


@test("a flag given a value (--json=1) exits 64")
def _():
    usage_error("--json=1", img("rgb8.png"))


@test("two INPUTs exit 64")
def _():
    usage_error(img("rgb8.png"), img("pal8.png"))


@test("two OUTPUTs exit 64 and create neither")
def _():
    with TempDir() as d:
        a, b = os.path.join(d, "a.png"), os.path.join(d, "b.png")
        usage_error(img("rgb8.png"), "-o", a, "-o", b)
        check(os.listdir(d) == [], "created %r" % os.listdir(d))


@test("non-existent INPUT exits 64")
def _():
    with TempDir() as d:
        usage_error(os.path.join(d, "missing.png"))


@test("non-existent INPUT with --json still exits 64 with one line")
def _():
    with TempDir() as d:
        usage_error("--json", os.path.join(d, "missing.png"))


# ---- --help and --version ----

def option_names():
    src = read(os.path.join(ROOT, "sanitizer", "cli.c")).decode("utf-8")
    m = re.search(r"\bopts\s*\[\s*\]\s*=\s*\{(.*?)\n\};", src, re.S)
    check(m, "cannot find the opts[] table in sanitizer/cli.c")
    names = re.findall(r"\{\s*\"([a-z0-9-]+)\"\s*,", m.group(1))
    check(len(names) >= 10, "parsed only %r from opts[]" % names)
    return names


@test("--help exits 0 and names every option in cli.c's opts[] table")
def _():
    r = run_ok("--help")
    text = r.out.decode("utf-8")
    missing = [n for n in option_names() if not re.search(r"--%s\b(?![-\w])" % re.escape(n), text)]
    check(not missing, "--help does not mention %r" % missing)


@test("--help mentions -o and the exit statuses")
def _():
    text = run_ok("--help").out.decode("utf-8")
    check(re.search(r"(?<![\w-])-o\b", text), "no -o in --help")
    for code in ("0", "64", "65"):
        check(re.search(r"\b%s\b" % code, text), "exit status %s not in --help" % code)


@test("-h is --help")
def _():
    check(run_ok("-h").out == run_ok("--help").out, "-h output differs from --help")


@test("--version prints 'airlock VERSION' from meson.build")
def _():
    src = read(os.path.join(ROOT, "meson.build")).decode("utf-8")
    m = re.search(r"project\s*\(.*?\bversion\s*:\s*'([^']+)'", src, re.S)
    check(m, "no version in meson.build's project()")
    r = run_ok("--version")
    check(r.out == ("airlock %s\n" % m.group(1)).encode(), "got %r" % r.out)


# ---- limits and type checks ----

def rejected(args, error, limit=None, stdin=None):
    r = run("--json", *args, stdin=stdin)
    check(r.rc == EXIT_REJECTED, "expected exit 65: %r" % (r,))
    check(r.out == b"", "stdout has %d bytes" % len(r.out))
    j = report(r)
    check(j["status"] == "rejected", "status %r" % j["status"])
    check(j["error"] == error, "error %r, want %r" % (j["error"], error))
    if limit is not None:
        check(j.get("limit") == limit, "limit %r, want %r" % (j.get("limit"), limit))
    return j


@test("--max-width 5 on an 11-wide PNG: too_large, limit max_width")
def _():
    rejected(["--max-width", "5", img("rgb8.png")], "too_large", "max_width")


@test("--max-width 11 on an 11-wide PNG is accepted")
def _():
    run_ok("--max-width", "11", img("rgb8.png"))


@test("--max-height 6 on a 7-high PNG: too_large, limit max_height")
def _():
    rejected(["--max-height", "6", img("rgb8.png")], "too_large", "max_height")


@test("--max-pixels 10: too_large, limit max_pixels")
def _():
    rejected(["--max-pixels", "10", img("rgb8.png")], "too_large", "max_pixels")


@test("--max-bytes 100 on a bigger file: input_too_big")
def _():
    check(os.path.getsize(img("adam7_rgb8_40x32.png")) > 100, "fixture too small")
    rejected(["--max-bytes", "100", img("adam7_rgb8_40x32.png")], "input_too_big")


@test("--max-bytes 100 on a bigger stdin: input_too_big")
def _():
    rejected(["--max-bytes", "100"], "input_too_big", stdin=img("adam7_rgb8_40x32.png"))


@test("--max-bytes equal to the file size is accepted")
def _():
    run_ok("--max-bytes", str(os.path.getsize(img("adam7_rgb8_40x32.png"))), img("adam7_rgb8_40x32.png"))


@test("--allow jpeg on a PNG: type")
def _():
    rejected(["--allow", "jpeg", img("rgb8.png")], "type")


@test("--allow png,jpeg accepts a JPEG")
def _():
    run_ok("--allow", "png,jpeg", img("jpeg_444.jpg"))


@test("--expect jpeg on a PNG: type_mismatch")
def _():
    rejected(["--expect", "jpeg", img("rgb8.png")], "type_mismatch")


@test("--expect png on a PNG is accepted")
def _():
    run_ok("--expect", "png", img("rgb8.png"))


@test("empty file: empty")
def _():
    with TempDir() as d:
        rejected([write(os.path.join(d, "x.png"), b"")], "empty")


@test("empty stdin: empty")
def _():
    rejected([], "empty", stdin=b"")


@test("text file named x.png: type")
def _():
    with TempDir() as d:
        rejected([write(os.path.join(d, "x.png"), b"hello, this is not an image\n" * 4)], "type")


@test("ELF binary named x.png: type")
def _():
    with TempDir() as d:
        rejected([write(os.path.join(d, "x.png"), read("/bin/true"))], "type")


@test("20000x20000 PNG: too_large with the default limits")
def _():
    rejected([img("too_large_20000x20000.png")], "too_large")


# ---- JSON report ----

@test("--json success: one line of JSON with exactly the documented keys")
def _():
    r = run_ok("--json", img("rgb8.png"))
    j = report(r)
    check(set(j) == REPORT_KEYS, "keys %r" % sorted(j))


@test("--json rejection: documented keys, limit only as an extra")
def _():
    j = rejected([BAD], "malformed")
    check(REPORT_KEYS <= set(j) <= REPORT_KEYS | {"limit"}, "keys %r" % sorted(j))
    j = rejected(["--max-width", "5", img("rgb8.png")], "too_large", "max_width")
    check(set(j) == REPORT_KEYS | {"limit"}, "keys %r" % sorted(j))


@test("--json success: status ok, error null, type image/png")
def _():
    j = report(run_ok("--json", img("rgb8.png")))
    check(j["status"] == "ok" and j["error"] is None and j["type"] == "image/png", "%r" % j)


@test("--json JPEG: type image/jpeg")
def _():
    j = report(run_ok("--json", img("jpeg_444.jpg")))
    check(j["type"] == "image/jpeg", "%r" % j)


@test("--json rejection: status rejected, detected type, null dimensions")
def _():
    j = rejected([BAD], "malformed")
    check(j["type"] == "image/png", "type %r" % j["type"])
    check(j["width"] is None and j["height"] is None and j["channels"] is None, "%r" % j)
    check(j["changes"] == [], "changes %r" % j["changes"])
    check("limit" not in j, "limit on a malformed rejection: %r" % j)


@test("--json width/height/channels/changes/type match the manifest")
def _():
    bad = []
    for row in manifest():
        args = ["--json"] + (["--keep-alpha"] if row["alpha"] else []) + [row["path"]]
        r = run(*args)
        try:
            j = report(r)
        except Failure as e:
            bad.append("%s: %s" % (os.path.basename(row["path"]), e))
            continue
        tag = os.path.basename(row["path"]) + (" alpha" if row["alpha"] else "")
        if row["outcome"] == "ok":
            got = (r.rc, j["status"], str(j["width"]), str(j["height"]), str(j["channels"]),
                   sorted(j["changes"]), j["type"])
            changes = [] if row["changes"] == "-" else sorted(row["changes"].split(","))
            want = (0, "ok", row["width"], row["height"], row["channels"], changes, "image/" + row["type"])
        else:
            got = (r.rc, j["status"], j["error"], j["type"])
            want = (EXIT_REJECTED, "rejected", row["outcome"],
                    None if row["type"] == "-" else "image/" + row["type"])
        if got != want:
            bad.append("%s: got %r want %r" % (tag, got, want))
    check(not bad, "; ".join(bad))


@test("--json elapsed_ms is a non-negative number")
def _():
    for args in (["--json", img("rgb8.png")], ["--json", BAD]):
        j = report(run(*args))
        e = j["elapsed_ms"]
        check(isinstance(e, (int, float)) and not isinstance(e, bool) and e >= 0, "elapsed_ms %r" % e)


@test("--json changes is a list of strings")
def _():
    j = report(run_ok("--json", img("rgba16.png")))
    check(isinstance(j["changes"], list) and all(isinstance(c, str) for c in j["changes"]),
          "changes %r" % j["changes"])
    check(sorted(j["changes"]) == ["alpha_flattened", "depth_reduced"], "changes %r" % j["changes"])


@test("--json stdin input is reported as \"-\"")
def _():
    check(report(run_ok("--json", stdin=img("rgb8.png")))["input"] == "-", "input is not '-'")


@test("stderr never echoes input bytes (accepted input)")
def _():
    marker = b"AIRLOCK-ECHO-MARKER-7f3a9c"
    data = make_png_with_text(marker)
    check(marker in data, "marker not in input")
    r1 = run_ok("--json", stdin=data)
    r2 = run_ok(stdin=data)
    check(marker not in r1.err and marker not in r2.err, "stderr echoes input bytes")
    check(marker not in r1.out, "tEXt survived into the output")


@test("stderr never echoes input bytes (rejected input)")
def _():
    marker = b"AIRLOCK-ECHO-MARKER-5b81d2"
    good = make_png_with_text(marker)
    inputs = [marker * 8, good[:len(good) - 20], good[:-4] + b"\0\0\0\0"]
    for data in inputs:
        for args in (["--json"], []):
            r = run(*args, stdin=data)
            check(r.rc == EXIT_REJECTED, "%r" % (r,))
            check(marker not in r.err, "stderr echoes input bytes: %r" % r.err)


@test("--json escapes a path with a quote, backslash, tab and newline")
def _():
    with TempDir() as d:
        path = os.path.join(d, 'we"ird\\na\tme\nx.png')
        shutil.copyfile(img("rgb8.png"), path)
        j = report(run_ok("--json", path))
        check(j["input"] == path, "input %r, want %r" % (j["input"], path))


@test("--json escapes a rejected input path with a quote and newline")
def _():
    with TempDir() as d:
        path = os.path.join(d, 'bad"\nname.png')
        shutil.copyfile(BAD, path)
        j = rejected([path], "malformed")
        check(j["input"] == path, "input %r, want %r" % (j["input"], path))


@test("--json does not change the output bytes")
def _():
    check(run_ok("--json", img("rgb8.png")).out == run_ok(img("rgb8.png")).out, "outputs differ")


@test("success without --json prints nothing on stderr")
def _():
    r = run_ok(img("metadata_injection.png"))
    check(r.err == b"", "stderr %r" % r.err)


# ---- alpha and background ----

@test("--keep-alpha on rgba8.png: channels 4 in JSON")
def _():
    j = report(run_ok("--json", "--keep-alpha", img("rgba8.png")))
    check(j["channels"] == 4, "channels %r" % j["channels"])


@test("--keep-alpha on rgba8.png: PNG colour type 6")
def _():
    h = png_ihdr(run_ok("--keep-alpha", img("rgba8.png")).out)
    check(h["colour"] == 6 and h["depth"] == 8, "IHDR %r" % h)


@test("default on rgba8.png: channels 3 and PNG colour type 2")
def _():
    r = run_ok("--json", img("rgba8.png"))
    check(report(r)["channels"] == 3, "channels not 3")
    check(png_ihdr(r.out)["colour"] == 2, "colour type not 2")


@test("--background 000000 changes the flattened pixels of rgba8.png")
def _():
    white = run_ok("--to", "raw", img("rgba8.png")).out
    black = run_ok("--to", "raw", "--background", "000000", img("rgba8.png")).out
    check(len(white) == len(black) == 11 * 7 * 3, "raw lengths %d %d" % (len(white), len(black)))
    check(white != black, "--background 000000 gave the same pixels as the default")


@test("--background ffffff equals the default and #RRGGBB is accepted")
def _():
    dflt = run_ok("--to", "raw", img("rgba8.png")).out
    check(run_ok("--to", "raw", "--background", "ffffff", img("rgba8.png")).out == dflt, "ffffff differs")
    check(run_ok("--to", "raw", "--background", "#FFFFFF", img("rgba8.png")).out == dflt, "#FFFFFF differs")


@test("--background does not touch an opaque image")
def _():
    a = run_ok("--to", "raw", img("rgb8.png")).out
    b = run_ok("--to", "raw", "--background", "000000", img("rgb8.png")).out
    check(a == b, "opaque pixels changed")


@test("--quality changes JPEG output and stays deterministic")
def _():
    q50 = run_ok("--quality", "50", img("jpeg_444.jpg")).out
    q95 = run_ok("--quality", "95", img("jpeg_444.jpg")).out
    check(q50 != q95, "--quality had no effect")
    check(q50 == run_ok("--quality", "50", img("jpeg_444.jpg")).out, "quality 50 not deterministic")


@test("-o /dev/null writes into the device and leaves it a device")
def _():
    r = run("-o", "/dev/null", img("rgb8.png"))
    check(r.rc == 0, "exit %r" % r)
    check(stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null is no longer a character device")


@test("-o through a symlink replaces the target, keeps the link and the target's mode")
def _():
    with tempfile.TemporaryDirectory() as d:
        real, link = os.path.join(d, "real.png"), os.path.join(d, "link.png")
        write(real, b"old")
        os.chmod(real, 0o640)
        os.symlink("real.png", link)
        r = run("-o", link, img("rgb8.png"))
        check(r.rc == 0, "exit %r" % r)
        check(os.path.islink(link) and os.readlink(link) == "real.png", "the symlink was replaced")
        check(read(real)[:8] == b"\x89PNG\r\n\x1a\n", "the target does not hold the PNG")
        check(stat.S_IMODE(os.stat(real).st_mode) == 0o640, "mode %o" % stat.S_IMODE(os.stat(real).st_mode))
        check(temp_names(d) == [], "temp files left: %r" % temp_names(d))


@test("--max-height applies to the rotated JPEG: a 24x16 image shown 16x24 passes 24, fails 20 with limit max_height")
def _():
    ok = run("--json", "--max-height", "24", "--max-width", "16", img("jpeg_exif_orientation6.jpg"))
    check(ok.rc == 0, "height 24 as output should pass: %r" % ok)
    bad = run("--json", "--max-height", "20", img("jpeg_exif_orientation6.jpg"))
    j = report(bad)
    check(bad.rc == 65 and j["error"] == "too_large" and j.get("limit") == "max_height", "%r" % bad)


@test("--max-scans 2 on a progressive JPEG: too_complex with limit max_scans")
def _():
    r = run("--json", "--max-scans", "2", img("jpeg_progressive.jpg"))
    j = report(r)
    check(r.rc == 65 and j["error"] == "too_complex" and j.get("limit") == "max_scans", "%r" % r)


# ---- runner ----

def main():
    print("1..%d" % len(TESTS))
    sys.stdout.flush()
    failed = 0
    for n, (name, fn) in enumerate(TESTS, 1):
        try:
            fn()
        except Failure as e:
            failed += 1
            print("not ok %d - %s" % (n, name))
            for line in str(e).splitlines() or [""]:
                print("# %s" % line)
        except Exception:
            failed += 1
            print("not ok %d - %s" % (n, name))
            for line in traceback.format_exc().splitlines():
                print("# %s" % line)
        else:
            print("ok %d - %s" % (n, name))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
