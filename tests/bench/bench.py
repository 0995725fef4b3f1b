#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""airlock's performance benchmark (issue 5). Run it as `scripts/bench.sh`,
which installs the tools compared against and builds first; options pass
through:

    scripts/bench.sh [-n N] [--quick] [--markdown FILE] [--skip-library] [--media-only]

Inputs are made once into BUILD/bench-inputs/ (deleted files are remade; no
downloads): three images from ImageMagick's plasma generator (a 1152x864 JPEG
and PNG, a 4032x3024 JPEG, a 64x64 PNG icon) and 60 seconds of synthesized
stereo music as MP3, FLAC and Opus from `bench-sanitize --synth`. The 1152x864
photo also as the formats of issue 15: lossy WebP at quality 90 (convert, or
cwebp if convert cannot write WebP), GIF quantised to 256 colours, TIFF with
LZW in strips (RGB), and photo-1mp-icc.jpg, the JPEG's own bytes with a wide-
gamut RGB profile spliced in as APP2 (Display P3 or Adobe RGB compatible, from
corpus/images/icc/ or else the shared corpus's Compact-ICC-Profiles, CC0).
Without a profile the ICC rows are left out with a note, not a failure.

Sections, each printed as a table when it finishes:

  library    BUILD/tests/bench-sanitize --json: the C benchmark, the plain
             in-process library call against airlock_sanitize() through the
             sandbox; its tables and targets are passed on as they come.
             The issue-15 inputs have the library and ICC rows only (the
             other tables measure the sandbox, not a format), and no
             targets of their own. TIFF is allowed there, and in the CLI
             with --allow tiff (it is off the default allowlist).
  ICC        the ICC-tagged JPEG with AIRLOCK_ICC 1 against 0, in-process
             and sandboxed, beside Pillow with and without
             ImageCms.profileToProfile() to sRGB: both are lcms2.
  Pillow     Pillow in-process, the usual Python server path: open, EXIF
             transpose, convert to RGB (decode), then also save in the
             input's format (JPEG quality 92, airlock's default; PNG with
             Pillow's defaults; WebP quality 92, method 4, as airlock's
             canonical lossy WebP; GIF and TIFF as PNG, the CLI's default
             for them) into memory. The ICC-tagged JPEG also through
             ImageCms.profileToProfile() to sRGB, the job airlock does.
  CLI        wall time of whole commands writing a file, airlock against
             ImageMagick's convert and vips for images, ffmpeg and sox for
             audio. Each time includes process start-up; for airlock that
             is the zygote's exec and a confined worker as well.
  media      the media containers (issue 18; --media-only runs these
             alone): music-60s.m4a (the FLAC as AAC-LC by ffmpeg's own
             encoder), music-60s.webm (the Ogg Opus's packets remuxed by
             ffmpeg) and tiny-0.1s.m4a (0.1 s of sine, AAC), made with the
             ffmpeg CLI. bench-sanitize-media (bench-sanitize with the
             media decoder and a libav floor linked in) measures the M4A
             and the WebM to 16 kHz mono f32 against a libav floor and the
             ffmpeg CLI, the Ogg Opus (libopus) against the WebM (FFmpeg's
             opus decoder) with the difference of their outputs, and a
             request in the media zygote against one in the base zygote,
             first and later; then airlock's CLI against ffmpeg's, both to
             raw f32 on stdout.

Every figure is a median. Rounds are interleaved (in round r each tool runs
once, in turn) so that drift on a busy machine hits all alike, after one
untimed warm-up round whose outputs are also checked. N rounds (-n, default
15; --quick: 3) for small inputs; the 12-megapixel JPEG and the 60-second
audio files take min(N, max(5, N // 3)).

JPEG and WebP output is at quality 92 for every tool (airlock's default;
convert -quality 92, vips copy OUT[Q=92]), so each does the same job; PNG
output uses each tool's own defaults, and the byte columns show the result.
vips and convert may use several threads, airlock one. A tool that fails on
a case is n/a in its row and reported as a failure; the others still run.

Targets (from bench-sanitize, and here: airlock's CLI beats each other tool
on every image case of 0.4 and on 16 kHz mono float32 audio; the issue-15
rows have none) end in a table and the
line `N targets met, M missed`. A missed target is reported, not an error:
the exit status is non-zero only if a tool failed or the benchmark broke.

--markdown FILE also writes every table as GitHub Markdown, after a block
describing the machine and the versions of every tool and library involved,
and the chart (below) beside it, as FILE with the suffix .svg.

--chart FILE draws the main ratios as an SVG bar chart, with the standard
library alone: airlock sandboxed against the in-process floor and against
Pillow, per input; the CLI against convert, vips, ffmpeg and sox. Each bar
is airlock's median time over the other's, on a log scale around 1.0.
--from-markdown FILE takes the tables from a file --markdown wrote (or
docs/performance.md) instead of running anything, so a chart can be redrawn
from a saved run:

    tests/bench/bench.py --from-markdown docs/performance.md --chart docs/performance.svg
"""
import argparse
import datetime
import importlib.util
import json
import os
import re
import shlex
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONVERT = "/usr/bin/convert"  # /usr/local/bin/convert may be something else
SYSTEM_PYTHON = "/usr/bin/python3"  # the one Debian's python3-pil is for

PLASMA_PHOTO = ["plasma:fractal", "-blur", "0x1", "-attenuate", "0.4", "+noise", "Gaussian", "-quality", "90"]
IMAGE_RECIPES = [
    ("photo-1mp.jpg", lambda d, out: [CONVERT, "-seed", "1", "-size", "1152x864", *PLASMA_PHOTO, out]),
    ("photo-12mp.jpg", lambda d, out: [CONVERT, "-seed", "2", "-size", "4032x3024", *PLASMA_PHOTO, out]),
    ("photo-1mp.png", lambda d, out: [CONVERT, str(d / "photo-1mp.jpg"), "-depth", "8", "PNG24:" + out]),
    ("icon-64.png", lambda d, out: [CONVERT, "-seed", "3", "-size", "64x64", "plasma:fractal", "-depth", "8",
                                    "PNG24:" + out]),
]

def webp_recipes(d, out):
    """Alternatives, tried in turn: convert when its delegate writes WebP, else Debian's cwebp."""
    src = str(d / "photo-1mp.jpg")
    return [[CONVERT, src, "-quality", "90", "-define", "webp:lossless=false", out],
            ["cwebp", "-quiet", "-q", "90", src, "-o", out]]


# The issue-15 formats, all from the 1 MP photo; TIFF's predictor is ImageMagick's default for LZW (2).
IMAGE_RECIPES += [
    ("photo-1mp.webp", webp_recipes),
    ("photo-1mp.gif", lambda d, out: [CONVERT, str(d / "photo-1mp.jpg"), "-colors", "256", "GIF:" + out]),
    ("photo-1mp.tiff", lambda d, out: [CONVERT, str(d / "photo-1mp.jpg"), "-type", "TrueColor", "-depth", "8",
                                       "-compress", "LZW", "TIFF:" + out]),
]
ICC_IMAGE = "photo-1mp-icc.jpg"
# Wide-gamut RGB profiles, in order of preference: Display P3 is what phones embed, Adobe RGB what cameras do.
ICC_PROFILE_NAMES = ["DisplayP3-v4.icc", "DisplayP3Compat-v4.icc", "AdobeCompat-v4.icc", "AdobeCompat-v2.icc"]
SOURCE_ROOT = Path(__file__).resolve().parents[2]
# The shared corpus sits beside the source tree, as meson.build looks for it.
ICC_PROFILE_DIRS = [SOURCE_ROOT / "corpus" / "images" / "icc",
                    SOURCE_ROOT.parent / "shared" / "corpus-public" / "icc-test-files" / "profiles" /
                    "compact-icc-profiles"]

IMAGES = ["photo-1mp.jpg", "photo-1mp.png", "icon-64.png", "photo-12mp.jpg"]
FORMAT_IMAGES = ["photo-1mp.webp", "photo-1mp.gif", "photo-1mp.tiff", ICC_IMAGE]
AUDIO = ["music-60s.mp3", "music-60s.flac", "music-60s.opus"]
BIG = {"photo-12mp.jpg", *AUDIO}

# The media containers (issue 18), made by the ffmpeg CLI: the synthesized music's FLAC as AAC-LC in M4A
# (FFmpeg's own encoder), the Ogg Opus's very packets remuxed into WebM (so the two Opus paths decode the same
# stream), and a tenth of a second of a 440 Hz sine as AAC in M4A, whose request is mostly the round trip.
FFMPEG_MAKE = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
BITEXACT = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact"]
TINY_M4A = "tiny-0.1s.m4a"
MEDIA_RECIPES = [
    ("music-60s.m4a", lambda d, out: [*FFMPEG_MAKE, "-i", str(d / "music-60s.flac"), "-map", "0:a", "-c:a", "aac",
                                      "-b:a", "128k", *BITEXACT, out]),
    ("music-60s.webm", lambda d, out: [*FFMPEG_MAKE, "-i", str(d / "music-60s.opus"), "-map", "0:a", "-c:a", "copy",
                                       *BITEXACT, out]),
    (TINY_M4A, lambda d, out: [*FFMPEG_MAKE, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=0.1",
                               "-c:a", "aac", "-b:a", "64k", *BITEXACT, out]),
]
MEDIA = ["music-60s.m4a", "music-60s.webm"]

# (row, input, output extension, airlock's options, targets?). The issue-15 rows have no target: the issue
# asks for their figures, not for a bound.
IMAGE_CASES = [
    ("JPEG→JPEG 1 MP", "photo-1mp.jpg", "jpg", [], True),
    ("JPEG→JPEG 12 MP", "photo-12mp.jpg", "jpg", [], True),
    ("PNG→PNG 1 MP", "photo-1mp.png", "png", [], True),
    ("PNG→PNG 64x64", "icon-64.png", "png", [], True),
    ("JPEG→PNG 1 MP", "photo-1mp.jpg", "png", ["--to", "png"], True),
    ("WebP→WebP 1 MP", "photo-1mp.webp", "webp", ["--to", "webp"], False),
    ("GIF→PNG 1 MP", "photo-1mp.gif", "png", ["--to", "png"], False),
    ("TIFF→PNG 1 MP", "photo-1mp.tiff", "png", ["--allow", "tiff", "--to", "png"], False),
]

# (row suffix, airlock options, ffmpeg options, sox options, output (channels, rate, sample format), targets?);
# None in the output shape: the source's.
AUDIO_CASES = [
    ("WAV s16", [], [], [], (None, None, "s16"), False),
    ("16 kHz mono f32", ["--rate", "16000", "--mono", "--sample-format", "f32"],
     ["-ac", "1", "-ar", "16000", "-c:a", "pcm_f32le"],
     ["-e", "floating-point", "-b", "32", "-r", "16000", "-c", "1"], (1, 16000, "f32"), True),
]


class BenchError(Exception):
    """A tool failed or produced nothing: the run goes on, the exit status will say so."""


class Report:
    """Everything printed so far, for the targets summary and --markdown."""

    def __init__(self):
        self.tables = []
        self.targets = []
        self.failures = []
        self.notes = []
        self.icc = {}  # ICC costs for the ICC table: {"airlock": library row, "Pillow": (with ms, without ms)}

    def table(self, title, header, columns, rows, notes=()):
        """rows: [(name, {column: value})]; prints the table at once."""
        t = {"title": title, "header": header, "columns": columns, "rows": rows, "notes": list(notes)}
        self.tables.append(t)
        print(render_text(t), flush=True)

    def target(self, name, value, op, limit, unit="x"):
        self.targets.append({"target": name, "value": value, "op": op, "limit": limit, "unit": unit})

    def fail(self, msg):
        self.failures.append(msg)
        print(f"bench: FAILED: {msg}", file=sys.stderr, flush=True)

    def note(self, msg):
        """Something left out on purpose (no ICC profile at hand): said, but not a failure."""
        self.notes.append(msg)
        print(f"bench: note: {msg}", file=sys.stderr, flush=True)


# ---- formatting ----

def is_ratio(column):
    return re.search(r"/|ratio|speed-?up|(^|\s)x($|\s)", column) is not None


def fmt(column, v):
    """ms and other floats to 3 decimals, ratios to 2, byte counts whole."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and "bytes" in column:
        v = round(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.2f}" if is_ratio(column) else f"{v:.3f}"
    return str(v)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def cells(t):
    """The table as strings, header first, and which columns hold numbers (right-aligned)."""
    cols = [t["header"], *t["columns"]]
    grid = [cols] + [[name] + [fmt(c, vals.get(c)) for c in t["columns"]] for name, vals in t["rows"]]
    numeric = [False] + [all(is_number(vals.get(c)) or vals.get(c) in (None, "n/a")
                             for _, vals in t["rows"]) for c in t["columns"]]
    return grid, numeric


def render_text(t):
    grid, numeric = cells(t)
    widths = [max(len(row[i]) for row in grid) for i in range(len(grid[0]))]
    lines = ["", t["title"]]
    for row in grid:
        lines.append("  ".join(s.rjust(w) if num else s.ljust(w)
                               for s, w, num in zip(row, widths, numeric)).rstrip())
    lines += [f"  {n}" for n in t["notes"]]
    return "\n".join(lines)


def render_markdown(t):
    grid, numeric = cells(t)
    esc = [[s.replace("|", "\\|") for s in row] for row in grid]
    lines = [f"### {t['title']}", "", "| " + " | ".join(esc[0]) + " |",
             "|" + "|".join("---:" if num else "---" for num in numeric) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in esc[1:]]
    if t["notes"]:
        lines += [""] + [f"{n}  " for n in t["notes"]]
    return "\n".join(lines) + "\n"


def target_met(t):
    v, lim = t["value"], t["limit"]
    return {"<": v < lim, "<=": v <= lim, ">": v > lim, ">=": v >= lim, "==": v == lim}.get(t["op"], False)


def fmt_value(v, unit):
    s = (f"{v:.3f}" if unit == "ms" else f"{v:.2f}") if isinstance(v, float) else str(v)
    return s + unit if unit == "x" else f"{s} {unit}".rstrip()


# ---- running tools ----

def tail(text, lines=3):
    return " | ".join(text.strip().splitlines()[-lines:])


def run(cmd, what, stdout=None):
    """Runs cmd to completion, output captured (stdout into the file stdout, when given); BenchError unless it
    exits 0."""
    try:
        p = subprocess.run([str(c) for c in cmd], stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE,
                           check=False)
    except OSError as e:
        raise BenchError(f"{what}: cannot run {cmd[0]}: {e}") from e
    if p.returncode != 0:
        err = tail(p.stderr.decode(errors="replace"))
        raise BenchError(f"{what}: {Path(str(cmd[0])).name} exited {p.returncode}: {err}")
    return p


def run_timed(cmd, out, what, to_stdout=False):
    """Wall seconds of one run writing out, which must exist and be non-empty afterwards. to_stdout: the
    command writes to its standard output, which goes into out."""
    out.unlink(missing_ok=True)  # a stale file must not pass the check
    if to_stdout:
        with open(out, "wb") as f:
            t0 = time.perf_counter()
            run(cmd, what, stdout=f)
            elapsed = time.perf_counter() - t0
    else:
        t0 = time.perf_counter()
        run(cmd, what)
        elapsed = time.perf_counter() - t0
    if not out.exists() or out.stat().st_size == 0:
        raise BenchError(f"{what}: {Path(str(cmd[0])).name} exited 0 but wrote no {out.name}")
    return elapsed


def time_interleaved(tools, rounds, what, dropped=None, to_stdout=False):
    """tools: {name: (cmd, out)}; to_stdout: each cmd writes to its standard output, which goes into its out.
    Median ms per tool over rounds, after an untimed warm-up round. With a dict
    as dropped, a tool that fails in the warm-up round is left out of the rest and its error put there;
    without, the failure is raised."""
    times = {name: [] for name in tools}
    for r in range(rounds + 1):
        for name, (cmd, out) in tools.items():
            if name not in times:
                continue
            try:
                t = run_timed(cmd, out, f"{what}, {name}", to_stdout)
            except BenchError as e:
                if r > 0 or dropped is None:
                    raise
                dropped[name] = str(e)
                del times[name]
                continue
            if r > 0:
                times[name].append(t)
    return {name: statistics.median(v) * 1000 for name, v in times.items()}


def first_line(cmd):
    """The first line cmd prints, spaces squeezed and any copyright notice cut off."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False, text=True)
    except OSError:
        return "n/a"
    lines = p.stdout.strip().splitlines()
    return " ".join(lines[0].split(" Copyright")[0].split()) if lines else "n/a"


# ---- inputs ----

def icc_profile():
    """(path, bytes) of the first wide-gamut profile found, or None."""
    for d in ICC_PROFILE_DIRS:
        for name in ICC_PROFILE_NAMES:
            p = d / name
            try:
                data = p.read_bytes()
            except OSError:
                continue
            if len(data) >= 132 and data[36:40] == b"acsp" and data[16:20] == b"RGB ":
                return p, data
    return None


def jpeg_with_icc(jpeg, profile):
    """The JPEG's bytes with the profile as one APP2 ICC_PROFILE segment after SOI and any APP0, entropy-coded
    data untouched: the same picture as the plain JPEG, so the two differ by the colour transform alone."""
    if jpeg[:2] != b"\xff\xd8":
        raise BenchError("making the ICC JPEG: the photo is not a JPEG")
    body = b"ICC_PROFILE\x00\x01\x01" + profile
    if len(body) + 2 > 0xFFFF:
        raise BenchError("making the ICC JPEG: the profile does not fit one APP2 segment")
    at = 2
    while jpeg[at:at + 2] == b"\xff\xe0":
        at += 2 + struct.unpack(">H", jpeg[at + 2:at + 4])[0]
    return jpeg[:at] + b"\xff\xe2" + struct.pack(">H", len(body) + 2) + body + jpeg[at:]


def make_recipe(recipe, d, out, name):
    """Runs the recipe's command, or its alternatives in turn until one works."""
    cmds = recipe(d, out)
    if not isinstance(cmds[0], list):
        cmds = [cmds]
    errors = []
    for cmd in cmds:
        try:
            run(cmd, f"making {name}")
            if Path(out).exists() and Path(out).stat().st_size > 0:
                return
            errors.append(f"{Path(cmd[0]).name} wrote nothing")
        except BenchError as e:
            errors.append(str(e))
    raise BenchError("; ".join(errors))


def make_inputs(report, build, outdir):
    """Makes whichever input is missing; returns {name: path} of those there are. An issue-15 image that
    cannot be made is a failure, reported; the others are made and measured all the same."""
    outdir.mkdir(parents=True, exist_ok=True)
    made = set(IMAGES + AUDIO)
    with tempfile.TemporaryDirectory(dir=outdir, prefix=".new-") as tmp:
        tmp = Path(tmp)
        for name, recipe in IMAGE_RECIPES:
            if not (outdir / name).exists():
                print(f"bench: making {outdir / name}", file=sys.stderr, flush=True)
                try:
                    make_recipe(recipe, outdir, str(tmp / name), name)
                except BenchError as e:
                    if name in IMAGES:
                        raise
                    report.fail(str(e))
                    continue
                (tmp / name).rename(outdir / name)
            made.add(name)
        if not (outdir / ICC_IMAGE).exists():
            found = icc_profile()
            if found is None:
                report.note(f"no ICC profile found ({', '.join(ICC_PROFILE_NAMES)} in "
                            f"{', '.join(map(str, ICC_PROFILE_DIRS))}): {ICC_IMAGE} and the ICC rows left out")
            else:
                print(f"bench: making {outdir / ICC_IMAGE} with {found[0]}", file=sys.stderr, flush=True)
                (tmp / ICC_IMAGE).write_bytes(jpeg_with_icc((outdir / "photo-1mp.jpg").read_bytes(), found[1]))
                (tmp / ICC_IMAGE).rename(outdir / ICC_IMAGE)
        if (outdir / ICC_IMAGE).exists():
            made.add(ICC_IMAGE)
        if not all((outdir / name).exists() for name in AUDIO):
            print(f"bench: making {', '.join(AUDIO)} in {outdir}", file=sys.stderr, flush=True)
            run([build / "tests" / "bench-sanitize", "--synth", tmp], "making the audio inputs")
            for name in AUDIO:
                if not (tmp / name).exists():
                    raise BenchError(f"bench-sanitize --synth wrote no {name}")
                (tmp / name).rename(outdir / name)
        for name, recipe in MEDIA_RECIPES:
            if not (outdir / name).exists():
                print(f"bench: making {outdir / name}", file=sys.stderr, flush=True)
                try:
                    make_recipe(recipe, outdir, str(tmp / name), name)
                except BenchError as e:
                    report.fail(str(e))
                    continue
                (tmp / name).rename(outdir / name)
            made.add(name)
    return {name: outdir / name for name in IMAGES + AUDIO + FORMAT_IMAGES + [n for n, _ in MEDIA_RECIPES]
            if name in made}


# ---- sections ----

def library_section(report, build, inputs, n, n_big):
    """bench-sanitize's JSON lines: rows grouped into its tables, targets collected."""
    exe = build / "tests" / "bench-sanitize"
    small = [inputs[k] for k in IMAGES + AUDIO if k not in BIG]
    big = [inputs[k] for k in IMAGES + AUDIO if k in BIG]
    formats = [inputs[k] for k in FORMAT_IMAGES if k in inputs]
    tables = {}  # table id -> {"title", "columns", "rows"}, in order of first appearance
    for batch, rounds, opts in ((small, n, []), (big, n_big, []), (formats, n, ["--library-only", "--no-targets"])):
        if not batch:
            continue
        cmd = [str(exe), "--json", *opts, "-n", str(rounds), *map(str, batch)]
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, check=False, text=True)  # stderr passes through
        except OSError as e:
            raise BenchError(f"library: cannot run {exe}: {e}") from e
        skipped = 0
        for line in p.stdout.splitlines():
            skipped += take_library_line(report, tables, line)
        if p.returncode != 0 and not (p.returncode == 1 and skipped):  # exit 1 with skips: each said why
            report.fail(f"library: bench-sanitize exited {p.returncode} on {', '.join(b.name for b in batch)}")
    notes = {"library": [f"{ICC_IMAGE}: the floor is libjpeg-turbo alone; airlock's columns include the "
                         "transform to sRGB, whose cost the ICC table gives"] if ICC_IMAGE in inputs else []}
    for tid, t in tables.items():
        report.table(t["title"], "input", t["columns"], t["rows"], notes.get(tid, ()))
    icc = dict(tables.get("icc", {}).get("rows", []))
    if ICC_IMAGE in icc:
        report.icc["airlock"] = icc[ICC_IMAGE]
    elif ICC_IMAGE in inputs:
        report.fail(f"library: no ICC row for {ICC_IMAGE}: airlock's decoder did not report icc_converted")


def take_library_line(report, tables, line):
    """Puts one line of bench-sanitize's into tables or report; 1 if it was a skipped input, else 0."""
    try:
        obj = json.loads(line)
    except ValueError:
        obj = None
    if isinstance(obj, dict) and "skipped" in obj:
        report.fail(f"library: {obj['skipped']} not measured: {obj.get('why', '')}")
        return 1
    if isinstance(obj, dict) and "target" in obj:
        try:
            report.target(obj["target"], float(obj["value"]), obj["op"], float(obj["limit"]), obj.get("unit", ""))
        except (KeyError, TypeError, ValueError):
            report.fail(f"library: a target line bench.py cannot read: {line}")
    elif isinstance(obj, dict) and "table" in obj:
        t = tables.setdefault(obj["table"], {"title": obj.get("title", obj["table"]), "columns": [], "rows": []})
        vals = {}
        for col, v in obj.get("cells", []):
            if col not in t["columns"]:
                t["columns"].append(col)
            vals[col] = v
        t["rows"].append((obj.get("row", ""), vals))
    elif line.strip():
        print(f"bench-sanitize: {line}", flush=True)
    return 0


def pillow_section(report, inputs, n, n_big):
    try:
        import PIL
        from PIL import Image, ImageOps
    except ImportError as e:
        raise BenchError(f"Pillow: cannot import it ({e}); install python3-pil") from e
    try:
        from PIL import ImageCms
        srgb = ImageCms.createProfile("sRGB")  # once, as a server would
    except (ImportError, OSError) as e:
        ImageCms = srgb = None
        report.fail(f"Pillow: no ImageCms ({e}): its ICC row left out")
    from io import BytesIO

    def decode(data, icc=False):
        im = ImageOps.exif_transpose(Image.open(BytesIO(data)))
        if icc:
            # The profile to sRGB (perceptual, lcms2) as airlock's decoders do; after the transpose, which needs
            # the EXIF that profileToProfile's new image lacks (a per-pixel transform: the same pixels).
            profile = ImageCms.ImageCmsProfile(BytesIO(im.info["icc_profile"]))
            im = ImageCms.profileToProfile(im, profile, srgb, outputMode="RGB")
        im = im.convert("RGB")
        im.load()
        return im

    def to_file(data, fmt, icc=False):
        out = BytesIO()
        im = decode(data, icc)
        if fmt == "JPEG":
            im.save(out, "JPEG", quality=92)
        elif fmt == "WEBP":
            im.save(out, "WEBP", quality=92, method=4)
        else:
            im.save(out, "PNG")
        return out.getvalue()

    # (row, input, ICC transform?): the ICC-tagged JPEG's row is the job airlock does by default, converted
    # to sRGB; "profile ignored" is Pillow's plain path (and vLLM's).
    cases = [(name, name, False) for name in IMAGES + FORMAT_IMAGES if name in inputs]
    if ICC_IMAGE in inputs:
        cases = [c for c in cases if c[0] != ICC_IMAGE]
        if ImageCms is not None:
            cases.append((ICC_IMAGE, ICC_IMAGE, True))
        cases.append((f"{ICC_IMAGE}, profile ignored", ICC_IMAGE, False))
    rows, dec_ms = [], {}
    for row, name, icc in cases:
        data = inputs[name].read_bytes()
        fmt_ = {".jpg": "JPEG", ".webp": "WEBP"}.get(inputs[name].suffix, "PNG")
        rounds = n_big if name in BIG else n
        dec, enc = [], []
        try:
            for r in range(rounds + 1):
                t0 = time.perf_counter()
                im = decode(data, icc)
                t1 = time.perf_counter()
                out = to_file(data, fmt_, icc)
                t2 = time.perf_counter()
                if r > 0:
                    dec.append(t1 - t0)
                    enc.append(t2 - t1)
        except Exception as e:  # noqa: BLE001 -- any Pillow error is that row's failure, not the run's
            report.fail(f"Pillow: {row}: {type(e).__name__}: {e}")
            continue
        dec_ms[row] = statistics.median(dec) * 1000
        rows.append((row, {"shape": f"{im.width}x{im.height}", "decode ms": dec_ms[row],
                           "to file ms": statistics.median(enc) * 1000, "output bytes": len(out)}))
    if ICC_IMAGE in dec_ms and f"{ICC_IMAGE}, profile ignored" in dec_ms:
        report.icc["Pillow"] = (dec_ms[ICC_IMAGE], dec_ms[f"{ICC_IMAGE}, profile ignored"])
    report.table(f"Pillow {PIL.__version__} in-process (decode; decode and save into memory)", "input",
                 ["shape", "decode ms", "to file ms", "output bytes"], rows,
                 ["decode: open, exif_transpose, convert('RGB'); to file: the same, then save as the CLI's default "
                  "output for the input (JPEG quality 92; WebP quality 92, method 4; PNG defaults)",
                  f"{ICC_IMAGE}: ImageCms.profileToProfile(im, embedded, sRGB, outputMode='RGB') before the rest, "
                  "as airlock converts by default; 'profile ignored': Pillow's plain path"])


def icc_section(report):
    """airlock's ICC cost (bench-sanitize's icc row) beside Pillow's ImageCms on the same file."""
    if not report.icc:
        return
    rows = []
    a = report.icc.get("airlock")
    if a:
        for who, on, off in (("airlock decoder, in-process", "decoder ms", "decoder no-ICC ms"),
                             ("airlock_sanitize(), sandboxed", "sandboxed ms", "sandboxed no-ICC ms")):
            if is_number(a.get(on)) and is_number(a.get(off)) and a[off] > 0:
                w, wo = float(a[on]), float(a[off])
                rows.append((who, {"with ICC ms": w, "without ms": wo, "ICC ms": w - wo, "with/without": w / wo}))
    p = report.icc.get("Pillow")
    if p and p[1] > 0:
        rows.append(("Pillow + ImageCms.profileToProfile", {"with ICC ms": p[0], "without ms": p[1],
                                                             "ICC ms": p[0] - p[1], "with/without": p[0] / p[1]}))
    report.table(f"ICC to sRGB ({ICC_IMAGE}): the transform's cost, airlock (AIRLOCK_ICC 1 against 0) and Pillow",
                 "decode", ["with ICC ms", "without ms", "ICC ms", "with/without"], rows,
                 ["both are lcms2 with the perceptual intent and its built-in sRGB; airlock's transform runs "
                  "in the worker, on the decoded rows; ICC ms is the difference of the medians"])


def image_section(report, build, inputs, n, n_big, tmp):
    rows, notes = [], []
    for row, src_name, ext, al_opts, targets in IMAGE_CASES:
        if src_name not in inputs:
            continue  # not made: already reported
        src = inputs[src_name]
        out = {tool: tmp / f"{tool}.{ext}" for tool in ("airlock", "convert", "vips")}
        lossy = ext in ("jpg", "webp")
        tools = {
            "airlock": ([build / "airlock", *al_opts, src, "-o", out["airlock"]], out["airlock"]),
            "convert": ([CONVERT, src, "-strip"] + (["-quality", "92"] if lossy else []) + [out["convert"]],
                        out["convert"]),
            "vips": (["vips", "copy", src, f"{out['vips']}[Q=92]" if lossy else out["vips"]], out["vips"]),
        }
        dropped = {}
        try:
            ms = time_interleaved(tools, n_big if src_name in BIG else n, f"CLI {row} ({src_name})", dropped)
        except BenchError as e:
            report.fail(str(e))
            continue
        for e in dropped.values():
            report.fail(e)
        notes += [f"{t} n/a for {row}: it failed (see Failures)" for t in dropped]
        vals = {f"{t} ms": ms.get(t, "n/a") for t in tools}
        for other in ("convert", "vips"):
            if other in ms and "airlock" in ms:
                vals[f"{other}/airlock"] = ms[other] / ms["airlock"]
                if targets:
                    report.target(f"CLI {row}: {other} / airlock", ms[other] / ms["airlock"], ">", 1.0)
            else:
                vals[f"{other}/airlock"] = "n/a"
        for t in tools:
            vals[f"{t} bytes"] = out[t].stat().st_size if t in ms else "n/a"
        rows.append((row, vals))
    cols = ["airlock ms", "convert ms", "vips ms", "convert/airlock", "vips/airlock",
            "airlock bytes", "convert bytes", "vips bytes"]
    report.table("CLI to file, images: wall time per command", "case", cols, rows,
                 ["airlock [--allow tiff] [--to FORMAT] IN -o OUT; convert IN -strip [-quality 92] OUT; "
                  "vips copy IN OUT[Q=92]",
                  "JPEG and WebP at quality 92 for all three (airlock's default); PNG with each tool's defaults",
                  "WebP, GIF and TIFF rows: no targets (issue 15 asks for the figures)", *notes])


def wav_info(path):
    """((channels, rate, sample format), frames) from a WAV file's fmt and data chunks; the wave module
    cannot read float."""
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise BenchError(f"{path.name}: not a RIFF WAVE file")
        fmt_ = None
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                raise BenchError(f"{path.name}: no data chunk")
            cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"fmt ":
                body = f.read(size + (size & 1))
                fmt_ = struct.unpack_from("<HHIIHH", body)
                if fmt_[0] == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the subformat's tag
                    fmt_ = (struct.unpack_from("<H", body, 24)[0], *fmt_[1:])
            elif cid == b"data":
                if fmt_ is None:
                    raise BenchError(f"{path.name}: data chunk before fmt")
                left = path.stat().st_size - f.tell()
                if size == 0xFFFFFFFF or size > left:  # streamed: the rest of the file
                    size = left
                tag, channels, rate, _, align, bits = fmt_
                kind = {1: "u" if bits == 8 else "s", 3: "f"}.get(tag, f"tag{tag}:")
                return (channels, rate, f"{kind}{bits}"), size // align
            else:
                f.seek(size + (size & 1), os.SEEK_CUR)


def sox_reads(path):
    """None if sox can read path, else why not."""
    p = subprocess.run(["sox", "--i", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
                       text=True)
    return None if p.returncode == 0 else (tail(p.stderr, 1) or f"sox --i exited {p.returncode}")


def check_same_job(row, outs, expect):
    """Warnings unless every tool's output has the shape expected, the same as the others', and the same
    frame count within 1%: a check that they did the same job."""
    info = {tool: wav_info(out) for tool, out in outs.items()}
    warnings = []
    frames = [f for _, f in info.values()]
    if max(frames) > min(frames) * 1.01:
        warnings.append(f"WARNING: {row}: frame counts differ by more than 1%: " +
                        ", ".join(f"{t} {f}" for t, (_, f) in info.items()))
    shapes = {shape for shape, _ in info.values()}
    wrong = [shape for shape in shapes if any(e is not None and e != v for e, v in zip(expect, shape))]
    if len(shapes) > 1 or wrong:
        warnings.append(f"WARNING: {row}: output (channels, rate, samples) " +
                        ", ".join(f"{t} {s}" for t, (s, _) in info.items()) + f"; asked for {expect}")
    return warnings


def audio_section(report, build, inputs, n_big, tmp):
    rows, notes = [], []
    for name in AUDIO:
        src = inputs[name]
        codec = src.suffix[1:]
        sox_why = sox_reads(src)
        if sox_why:
            notes.append(f"sox n/a for {name}: this sox cannot read it ({sox_why})")
        for suffix, al_opts, ff_opts, sox_opts, expect, targets in AUDIO_CASES:
            row = f"{codec} → {suffix}"
            out = {tool: tmp / f"{tool}.wav" for tool in ("airlock", "ffmpeg", "sox")}
            tools = {
                "airlock": ([build / "airlock", *al_opts, src, "-o", out["airlock"]], out["airlock"]),
                "ffmpeg": (["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", src, *ff_opts, out["ffmpeg"]],
                           out["ffmpeg"]),
            }
            if not sox_why:
                tools["sox"] = (["sox", src, *sox_opts, out["sox"]], out["sox"])
            try:
                ms = time_interleaved(tools, n_big, f"CLI {row} ({name})")
                warnings = check_same_job(row, {t: o for t, (_, o) in tools.items()}, expect)
            except BenchError as e:
                report.fail(str(e))
                continue
            for w in warnings:
                print(w, flush=True)
            notes += warnings
            vals = {"airlock ms": ms["airlock"], "ffmpeg ms": ms["ffmpeg"], "sox ms": ms.get("sox", "n/a"),
                    "ffmpeg/airlock": ms["ffmpeg"] / ms["airlock"],
                    "sox/airlock": ms["sox"] / ms["airlock"] if "sox" in ms else "n/a"}
            if targets:
                for other in ("ffmpeg", "sox"):
                    if other in ms:
                        report.target(f"CLI {row}: {other} / airlock", ms[other] / ms["airlock"], ">", 1.0)
            rows.append((row, vals))
    report.table("CLI to file, audio (60 s stereo): wall time per command", "case",
                 ["airlock ms", "ffmpeg ms", "sox ms", "ffmpeg/airlock", "sox/airlock"], rows,
                 ["WAV s16: source rate and channels, 16-bit; 16 kHz mono f32: resampled, downmixed, float32",
                  *notes])


def bench_sanitize_tables(report, build, args, what):
    """Runs bench-sanitize-media --json with args (bench-sanitize with the media decoder and a libav floor
    linked in; `ninja -C BUILD tests/bench-sanitize-media`, not built by default); its tables, in order, as
    {id: table}. A skipped input or a non-zero exit is a failure, reported."""
    exe = build / "tests" / "bench-sanitize-media"
    try:
        p = subprocess.run([str(exe), "--json", *map(str, args)], stdout=subprocess.PIPE, check=False, text=True)
    except OSError as e:
        raise BenchError(f"{what}: cannot run {exe}: {e}") from e
    tables = {}
    for line in p.stdout.splitlines():
        take_library_line(report, tables, line)
    if p.returncode != 0:
        report.fail(f"{what}: bench-sanitize-media exited {p.returncode}")
    return tables


def media_section(report, build, inputs, n, n_big):
    """Issue 18's figures from bench-sanitize-media: M4A and WebM to 16 kHz mono against the libav floor, Ogg Opus
    (libopus) against the same packets in WebM (FFmpeg's opus), and a request's cost in each zygote."""
    media = [inputs[k] for k in MEDIA if k in inputs]
    if media:
        tables = bench_sanitize_tables(report, build, ["--library-only", "--no-targets", "-n", n_big, *media],
                                       "media")
        for t in tables.values():
            report.table(t["title"], "input", t["columns"], t["rows"],
                         ["floor: libavformat (probed, avformat_find_stream_info) and libavcodec's default decoder "
                          "(aac, opus) to interleaved float at the source rate; floor to 16 kHz mono: the same "
                          "through libswresample (its defaults); decoder: airlock's media_decode_any() in-process; "
                          "sandboxed: airlock_sanitize() with mono, out_rate 16000, f32; expect: the type given "
                          "(straight to the media zygote); no expect: a base worker first, which hands it on",
                          "ffmpeg CLI: ffmpeg -nostdin -v error -i IN -ac 1 -ar 16000 -f f32le - into /dev/null, "
                          "spawned by bench-sanitize-media in the same rounds: its process start and probing included"])
    if "music-60s.opus" in inputs and "music-60s.webm" in inputs:
        tables = bench_sanitize_tables(report, build, ["-n", n_big, "--opus", inputs["music-60s.opus"],
                                                       inputs["music-60s.webm"]], "opus")
        for tid, t in tables.items():
            notes = ["decoder: in-process, music-60s.opus through decode_any() (decoders/audio_ogg.c, libopus), "
                     "music-60s.webm (the same packets) through media_decode_any() (FFmpeg's opus); sandboxed: "
                     "airlock_sanitize(), 16 kHz mono f32; libav floor: music-60s.opus through libavformat's Ogg "
                     "demuxer and libavcodec's \"libopus\" or \"opus\" decoder, float, source rate"] \
                if tid == "opus" else \
                ["outputs of airlock's two decoders in-process; shift: the offset that lines them up best; max "
                 "abs diff in steps of 1/32768; SNR: libopus's output against the difference"]
            report.table(t["title"], "path" if tid == "opus" else "output", t["columns"], t["rows"], notes)
    if TINY_M4A in inputs and "icon-64.png" in inputs:
        tables = bench_sanitize_tables(report, build, ["-n", n, "--media-zygote", inputs[TINY_M4A],
                                                       inputs["icon-64.png"]], "zygotes")
        for tid, t in tables.items():
            notes = [f"{5 * n} requests each, interleaved; decoder: the same input in-process (decode_any(), "
                     "media_decode_any()); sandboxed - decoder: the round trip's own cost"] if tid == "zygotes" else \
                [f"{max(n, 5)} fresh contexts (airlock_open() each) per row, the rows in turn; later: the median "
                 "of the ten requests after the first"]
            report.table(t["title"], "request" if tid == "zygotes" else "first request", t["columns"], t["rows"],
                         notes)


def media_cli_section(report, build, inputs, n_big, tmp):
    """airlock's CLI and ffmpeg's, each writing 16 kHz mono f32le to its standard output."""
    rows, notes = [], []
    for name in MEDIA:
        if name not in inputs:
            continue
        src = inputs[name]
        out = {tool: tmp / f"{tool}.f32" for tool in ("airlock", "ffmpeg")}
        tools = {
            "airlock": ([build / "airlock", "--rate", "16000", "--mono", "--sample-format", "f32", "--to", "raw",
                         src, "-o", "-"], out["airlock"]),
            "ffmpeg": (["ffmpeg", "-nostdin", "-v", "error", "-i", src, "-ac", "1", "-ar", "16000", "-f", "f32le",
                        "-"], out["ffmpeg"]),
        }
        try:
            ms = time_interleaved(tools, n_big, f"CLI media {name}", to_stdout=True)
        except BenchError as e:
            report.fail(str(e))
            continue
        frames = {t: o.stat().st_size // 4 for t, o in out.items()}
        if max(frames.values()) > min(frames.values()) * 1.01:
            w = f"WARNING: {name}: frame counts differ by more than 1%: " + \
                ", ".join(f"{t} {f}" for t, f in frames.items())
            print(w, flush=True)
            notes.append(w)
        rows.append((f"{name} → 16 kHz mono f32", {
            "airlock ms": ms["airlock"], "ffmpeg ms": ms["ffmpeg"], "ffmpeg/airlock": ms["ffmpeg"] / ms["airlock"],
            "airlock frames": frames["airlock"], "ffmpeg frames": frames["ffmpeg"]}))
    report.table("CLI, media (60 s stereo) to 16 kHz mono f32 on stdout: wall time per command", "case",
                 ["airlock ms", "ffmpeg ms", "ffmpeg/airlock", "airlock frames", "ffmpeg frames"], rows,
                 ["airlock --rate 16000 --mono --sample-format f32 --to raw IN -o -; ffmpeg -nostdin -v error -i IN "
                  "-ac 1 -ar 16000 -f f32le -; each stdout into a file; both times include the process start "
                  "(airlock's: the base zygote's spawn, a base worker, the media zygote's spawn and its worker)",
                  *notes])


def targets_section(report):
    rows = [(t["target"], {"value": fmt_value(t["value"], t["unit"]),
                           "limit": f"{t['op']} {fmt_value(t['limit'], t['unit'])}",
                           "met": target_met(t)}) for t in report.targets]
    report.table("Targets", "target", ["value", "limit", "met"], rows)


# ---- the machine, for --markdown ----

def machine(argv):
    def proc_field(path, key):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "n/a"

    try:
        import PIL
        pillow = PIL.__version__
    except ImportError:
        pillow = "n/a"
    mem_kb = proc_field("/proc/meminfo", "MemTotal").split()[0]
    pc = subprocess.run(["pkg-config", "--modversion", "libjpeg", "libpng", "sndfile"],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=False).stdout.split()
    pc += ["n/a"] * (3 - len(pc))

    def modversion(pkg):
        p = subprocess.run(["pkg-config", "--modversion", pkg], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, check=False)
        return p.stdout.strip() or "n/a"

    def giflib():  # giflib has no .pc file in Debian; its header says
        try:
            h = Path("/usr/include/gif_lib.h").read_text()
            v = [re.search(rf"#define GIFLIB_{k}\s+(\d+)", h) for k in ("MAJOR", "MINOR", "RELEASE")]
            return ".".join(m.group(1) for m in v) if all(v) else "n/a"
        except OSError:
            return "n/a"
    try:
        debian = Path("/etc/debian_version").read_text().strip()
    except OSError:
        debian = "n/a"
    git = first_line(["git", "describe", "--always", "--dirty"])
    return [
        ("CPU", proc_field("/proc/cpuinfo", "model name")),
        ("nproc", str(len(os.sched_getaffinity(0)))),
        ("memory", f"{int(mem_kb) / 1048576:.1f} GiB" if mem_kb.isdigit() else "n/a"),
        ("kernel", os.uname().release),
        ("Debian", debian),
        ("gcc", first_line(["gcc", "--version"])),
        ("libjpeg-turbo / libpng", f"{pc[0]} / {pc[1]}"),
        ("libsndfile", pc[2]),
        ("libavformat / libavcodec / libswresample",
         f"{modversion('libavformat')} / {modversion('libavcodec')} / {modversion('libswresample')}"),
        ("libwebp / giflib / libtiff / lcms2",
         f"{modversion('libwebp')} / {giflib()} / {modversion('libtiff-4')} / {modversion('lcms2')}"),
        ("ImageMagick", first_line([CONVERT, "-version"]).removeprefix("Version: ")),
        ("vips", first_line(["vips", "--version"])),
        ("ffmpeg", first_line(["ffmpeg", "-version"])),
        ("sox", first_line(["sox", "--version"]).removeprefix("sox: ")),
        ("Pillow", pillow),
        ("airlock", f"{first_line([str(argv.build / 'airlock'), '--version'])} (git {git})"),
        ("date", datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")),
        ("command", "`" + shlex.join(sys.argv) + "`"),
    ]


def write_markdown(path, report, argv):
    parts = ["### Machine", "", *(f"- {k}: {v}" for k, v in machine(argv)), ""]
    parts += [render_markdown(t) for t in report.tables]
    if report.failures:
        parts += ["### Failures", "", *(f"- {f}" for f in report.failures), ""]
    if report.notes:
        parts += ["### Notes", "", *(f"- {f}" for f in report.notes), ""]
    met = sum(target_met(t) for t in report.targets)
    parts.append(f"{met} targets met, {len(report.targets) - met} missed\n")
    Path(path).write_text("\n".join(parts))


# ---- the chart, for --chart ----

def parse_markdown(text):
    """(tables, machine) from Markdown that write_markdown() wrote, headings at any level: tables as
    Report.tables holds them (numbers as floats, empty cells None), machine as {key: value}."""
    tables, machine_info, title, lines = [], {}, "", text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("#"):
            title = line.lstrip("#").strip()
        elif title == "Machine" and line.startswith("- ") and ":" in line:
            k, v = line[2:].split(":", 1)
            machine_info[k.strip()] = v.strip()
        elif line.startswith("|") and i + 1 < len(lines) and re.match(r"^\|[-:|\s]+\|$", lines[i + 1].strip()):
            def split(row):
                parts = re.split(r"(?<!\\)\|", row.strip()[1:-1])
                return [c.strip().replace("\\|", "|") for c in parts]
            head = split(line)
            rows = []
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                row = split(lines[i])
                vals = {}
                for col, c in zip(head[1:], row[1:]):
                    if c == "":
                        vals[col] = None
                    elif re.fullmatch(r"-?\d+(\.\d+)?", c):
                        vals[col] = float(c)
                    else:
                        vals[col] = c
                rows.append((row[0], vals))
                i += 1
            tables.append({"title": title, "header": head[0], "columns": head[1:], "rows": rows, "notes": []})
            continue
        i += 1
    return tables, machine_info


def chart_panels(tables):
    """The chart's data from the report's tables: [(title, [series], [(row, [ratio or None])])], each ratio
    airlock's time over the other's."""
    def find(prefix):
        return next((t for t in tables if t["title"].startswith(prefix)), None)

    def ratio(a, b):
        return a / b if is_number(a) and is_number(b) and b > 0 else None

    panels = []
    lib, pil = find("Library"), find("Pillow")
    if lib:
        rows = [(name, [v["sandboxed/floor"] if is_number(v.get("sandboxed/floor")) else
                        ratio(v.get("sandboxed ms"), v.get("floor ms"))]) for name, v in lib["rows"]]
        panels.append(("Library: airlock_sanitize(), sandboxed, against the plain in-process decode (the floor)",
                       ["sandboxed ÷ floor"], rows))
    if lib and pil:
        libv = dict(lib["rows"])
        rows = [(name, [ratio(libv.get(name, {}).get("sandboxed ms"), v.get("decode ms")),
                        ratio(libv.get(name, {}).get("+encode ms"), v.get("to file ms"))])
                for name, v in pil["rows"] if name in libv]
        panels.append(("Library against Pillow in-process", ["decode: sandboxed ÷ Pillow",
                                                              "to a file: +encode ÷ Pillow with save"], rows))
    for prefix, title, others in (("CLI to file, images", "CLI to file, images: whole commands", ("convert", "vips")),
                                  ("CLI to file, audio", "CLI to file, audio (60 s stereo): whole commands",
                                   ("ffmpeg", "sox"))):
        t = find(prefix)
        if t:
            rows = [(name, [ratio(v.get("airlock ms"), v.get(f"{o} ms")) for o in others]) for name, v in t["rows"]]
            panels.append((title, [f"airlock ÷ {o}" for o in others], rows))
    return [p for p in panels if p[2]]


def xml(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def chart_svg(tables, subtitle=""):
    """A horizontal bar chart of chart_panels(tables) as SVG text; bars grow from the 1.0 line on a log2 axis."""
    import math
    panels = chart_panels(tables)
    values = [v for _, _, rows in panels for _, vs in rows for v in vs if v]
    if not values:
        raise BenchError("chart: none of the tables it draws from has numbers")
    lo = 2.0 ** max(-8, min(-1, math.floor(math.log2(min(values)))))
    hi = 2.0 ** min(8, max(1, math.ceil(math.log2(max(values)))))
    width, label_x, x0, x1 = 980, 300, 340, 900
    bar_h, bar_gap, row_gap = 13, 2, 7
    colours = ["#3b6fb6", "#e08a2c", "#4a9a5b", "#b54a4a"]

    def x(v):
        v = min(max(v, lo), hi)
        return x0 + (math.log2(v) - math.log2(lo)) / (math.log2(hi) - math.log2(lo)) * (x1 - x0)

    def tick(v):
        return f"{v:g}" if v >= 1 else f"1/{round(1 / v)}"

    out, y = [], 70
    ticks = [2.0 ** k for k in range(round(math.log2(lo)), round(math.log2(hi)) + 1)]
    for title, series, rows in panels:
        y += 26
        out.append(f'<text x="16" y="{y}" class="panel">{xml(title)}</text>')
        y += 20
        lx = x0
        for k, name in enumerate(series):  # the legend, on a line of its own
            out.append(f'<rect x="{lx}" y="{y - 10}" width="10" height="10" fill="{colours[k]}"/>'
                       f'<text x="{lx + 15}" y="{y}" class="legend">{xml(name)}</text>')
            lx += 15 + round(6.8 * len(name)) + 24
        y += 10
        for name, vs in rows:
            h = len(vs) * (bar_h + bar_gap) - bar_gap
            out.append(f'<text x="{label_x}" y="{y + h / 2 + 4:.1f}" class="label" text-anchor="end">'
                       f'{xml(name)}</text>')
            for k, v in enumerate(vs):
                by = y + k * (bar_h + bar_gap)
                if v is None:
                    out.append(f'<text x="{x(1.0) + 4:.1f}" y="{by + bar_h - 3}" class="value">n/a</text>')
                    continue
                a, b = sorted((x(1.0), x(v)))
                out.append(f'<rect x="{a:.1f}" y="{by}" width="{max(b - a, 1):.1f}" height="{bar_h}" '
                           f'fill="{colours[k]}"><title>{xml(name)}, {xml(series[k])}: {v:.2f}</title></rect>')
                tx, anchor = (b + 4, "start") if v >= 1 else (a - 4, "end")
                out.append(f'<text x="{tx:.1f}" y="{by + bar_h - 3}" class="value" text-anchor="{anchor}">'
                           f'{v:.2f}</text>')
            y += h + row_gap
    top, bottom = 70, y + 4
    grid = []
    for v in ticks:
        cls = "one" if v == 1 else "grid"
        grid.append(f'<line x1="{x(v):.1f}" y1="{top}" x2="{x(v):.1f}" y2="{bottom}" class="{cls}"/>')
        for ty in (top - 5, bottom + 16):
            grid.append(f'<text x="{x(v):.1f}" y="{ty}" class="tick" text-anchor="middle">{tick(v)}</text>')
    axis_y = bottom + 38
    foot = [
        f'<text x="{(x0 + x1) / 2:.1f}" y="{axis_y}" class="axis" text-anchor="middle">'
        "airlock's median time ÷ the other's (log scale; 1 = the same time)</text>",
        f'<text x="{x(1.0) - 8:.1f}" y="{axis_y + 20}" class="hint" text-anchor="end">◀ airlock faster</text>',
        f'<text x="{x(1.0) + 8:.1f}" y="{axis_y + 20}" class="hint">airlock slower ▶</text>',
    ]
    height = axis_y + 36
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Verdana, Arial, sans-serif">',
        "<style>.title{font-size:17px;font-weight:bold}.sub{font-size:12px;fill:#555}"
        ".panel{font-size:13.5px;font-weight:bold}.legend,.label{font-size:12px}.value{font-size:11px}"
        ".tick{font-size:11px;fill:#555}.axis{font-size:13px}.hint{font-size:12px;fill:#555}"
        ".grid{stroke:#ddd;stroke-width:1}.one{stroke:#222;stroke-width:1.5}</style>",
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        '<text x="16" y="24" class="title">airlock: time against the in-process floor, Pillow and other tools</text>',
        f'<text x="16" y="42" class="sub">{xml(subtitle)}</text>',
    ]
    return "\n".join(head + grid + out + foot + ["</svg>", ""])


def chart_subtitle(machine_info):
    m = machine_info
    parts = [f"{m['nproc']} cores" if "nproc" in m else "", m.get("CPU", ""), m.get("date", ""),
             "medians; bars grow from 1.0, each value printed; docs/performance.md has the tables"]
    return "; ".join(p for p in parts if p)


def write_chart(path, tables, machine_info):
    Path(path).write_text(chart_svg(tables, chart_subtitle(machine_info)))
    print(f"bench: chart written to {path}", file=sys.stderr, flush=True)


# ---- main ----

def parse_args():
    ap = argparse.ArgumentParser(description="airlock's performance benchmark; see the module docstring.")
    ap.add_argument("--build", type=Path, default=Path("build"), help="meson build directory (build)")
    ap.add_argument("-n", type=int, default=15, help="rounds per measurement (15; big inputs fewer)")
    ap.add_argument("--quick", action="store_true", help="3 rounds, a smoke check")
    ap.add_argument("--markdown", metavar="FILE", help="also write the tables as Markdown into FILE")
    ap.add_argument("--skip-library", action="store_true", help="leave out bench-sanitize's section")
    ap.add_argument("--media-only", action="store_true", help="only the media containers' sections (issue 18)")
    ap.add_argument("--chart", metavar="FILE", help="also draw the main ratios as an SVG chart into FILE "
                    "(--markdown FILE draws one beside it, FILE with the suffix .svg)")
    ap.add_argument("--from-markdown", metavar="FILE", help="run nothing: take the tables from FILE, which "
                    "--markdown wrote (docs/performance.md will do), and draw --chart from them")
    a = ap.parse_args()
    if a.quick:
        a.n = 3
    if a.n < 1:
        ap.error("-n must be at least 1")
    if a.from_markdown and not a.chart:
        ap.error("--from-markdown needs --chart FILE")
    return a


def main():
    # Debian's Pillow belongs to the system python3, not to a python3 from pyenv or a venv.
    if importlib.util.find_spec("PIL") is None and os.path.exists(SYSTEM_PYTHON) and \
       os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON):
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, *sys.argv])
    argv = parse_args()
    if argv.from_markdown:
        try:
            tables, machine_info = parse_markdown(Path(argv.from_markdown).read_text())
            write_chart(argv.chart, tables, machine_info)
        except (OSError, BenchError) as e:
            print(f"bench: {e}", file=sys.stderr)
            return 1
        return 0
    build = argv.build.resolve()
    n, n_big = argv.n, min(argv.n, max(5, argv.n // 3))
    report = Report()
    print(f"airlock benchmark: {n} rounds ({n_big} for the 12 MP JPEG and the audio), medians", flush=True)
    tmp = Path(tempfile.mkdtemp(dir=build, prefix="bench-out-"))  # same filesystem as the inputs
    try:
        inputs = make_inputs(report, build, build / "bench-inputs")
        sections = [
            lambda: None if argv.skip_library else library_section(report, build, inputs, n, n_big),
            lambda: pillow_section(report, inputs, n, n_big),
            lambda: icc_section(report),
            lambda: image_section(report, build, inputs, n, n_big, tmp),
            lambda: audio_section(report, build, inputs, n_big, tmp),
        ]
        if argv.media_only:
            sections = []
        sections += [lambda: media_section(report, build, inputs, n, n_big),
                     lambda: media_cli_section(report, build, inputs, n_big, tmp)]
        for section in sections:
            try:
                section()
            except BenchError as e:
                report.fail(str(e))
    except BenchError as e:
        report.fail(str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if report.targets or not argv.media_only:
        targets_section(report)
    if argv.markdown:
        write_markdown(argv.markdown, report, argv)
    charts = [argv.chart] if argv.chart else []
    # The chart draws the image and audio tables, which --media-only leaves out.
    if argv.markdown and not argv.media_only and Path(argv.markdown).with_suffix(".svg") != Path(argv.chart or ""):
        charts.append(Path(argv.markdown).with_suffix(".svg"))
    for path in charts:
        try:
            write_chart(path, report.tables, dict(machine(argv)))
        except (OSError, BenchError) as e:
            report.fail(str(e))
    for f in report.failures:
        print(f"bench: failure: {f}", file=sys.stderr)
    met = sum(target_met(t) for t in report.targets)
    print(f"\n{met} targets met, {len(report.targets) - met} missed", flush=True)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
