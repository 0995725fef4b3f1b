#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end tests of `airlock scan` (cli/scan.c, docs/airlock.1 SCAN).

Usage: test_scan.py AIRLOCK_BINARY SOURCE_ROOT SHARED_CORPUS

Prints TAP. The expected outcome of every fixture comes from the manifests
corpus/images.tsv and corpus/audio.tsv (their rows without options), so a
scan is checked against what the decoders are known to do with each file.
Misbehaving workers come from the test zygote tests/evil-zygote, built
beside the airlock binary.
"""

import fcntl
import json
import os
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import zlib

from tapcheck import Failure, Skip, check, run_tests, test
from unpriv import unprivileged

if len(sys.argv) != 4:
    sys.stderr.write("usage: test_scan.py AIRLOCK_BINARY SOURCE_ROOT SHARED_CORPUS\n")
    sys.exit(2)

AIRLOCK = os.path.abspath(sys.argv[1])
ROOT = os.path.abspath(sys.argv[2])
SHARED = os.path.abspath(sys.argv[3])
EVIL_ZYGOTE = os.path.join(os.path.dirname(AIRLOCK), "tests", "evil-zygote")

EXIT_OK, EXIT_USAGE, EXIT_INTERNAL = 0, 64, 70
REPORT_KEYS = ["input", "status", "error", "type", "width", "height", "channels", "rate", "frames", "seconds",
               "changes", "layers", "elapsed_ms"]
OPTIONAL_KEYS = {"mime", "limit", "reason", "output"}
SUMMARY_KEYS = ["summary", "files", "ok", "rejected", "error", "skipped", "by_error", "elapsed_ms"]
MIME = {"png": "image/png", "jpeg": "image/jpeg", "wav": "audio/wav", "flac": "audio/flac", "vorbis": "audio/ogg",
        "opus": "audio/opus", "mp3": "audio/mpeg", "aiff": "audio/aiff", "webp": "image/webp", "gif": "image/gif",
        "bmp": "image/bmp", "tiff": "image/tiff"}
SANDBOX_ERRORS = {"worker_crash", "timeout", "memory", "seccomp", "cpu_limit", "protocol"}

def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def copy(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


class TempDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="airlock-test-scan-")
        return self.path

    def __exit__(self, *exc):
        for d, dirs, files in os.walk(self.path):
            for n in dirs:
                try:
                    os.chmod(os.path.join(d, n), 0o755)
                except OSError:
                    pass
        shutil.rmtree(self.path, ignore_errors=True)
        return False


class Scan:
    """One airlock scan run: exit status, the per-file lines, the summary, stderr."""

    def __init__(self, p, wall):
        self.rc = p.returncode
        self.err = p.stderr.decode("utf-8", "replace")
        self.raw = p.stdout
        self.wall = wall
        text = p.stdout.decode("utf-8")
        check(text == "" or text.endswith("\n"), "stdout does not end with a newline: %r" % text[-200:])
        self.lines = []
        for n, line in enumerate(text.splitlines(), 1):
            try:
                self.lines.append(json.loads(line))
            except ValueError as e:
                raise Failure("stdout line %d is not JSON (%s): %r" % (n, e, line[:300]))
        self.summary = None
        if self.lines and self.lines[-1].get("summary") is True:
            self.summary = self.lines.pop()

    def by_input(self):
        d = {}
        for j in self.lines:
            check(j["input"] not in d, "two lines for %r" % j["input"])
            d[j["input"]] = j
        return d

    def __repr__(self):
        return "rc=%d lines=%d summary=%r stderr=%r" % (self.rc, len(self.lines), self.summary, self.err[:500])


def scan(*args, env=None, cwd=None, timeout=120, no_userns=False):
    """no_userns: run in a user namespace whose user.max_user_namespaces is 0, so the zygote can make none."""
    e = dict(os.environ)
    if env:
        e.update(env)
    cmd = [AIRLOCK, "scan"] + list(args)
    if no_userns:
        cmd = ["unshare", "-Ur", "sh", "-c", 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"', "sh"] + cmd
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, env=e, cwd=cwd)
    return Scan(p, time.monotonic() - t0)


def scan_ok(*args, **kw):
    s = scan(*args, **kw)
    check(s.rc == EXIT_OK, "expected exit 0: %r" % (s,))
    check_consistent(s)
    return s


def check_line(j):
    keys = list(j.keys())
    check(keys[:len(REPORT_KEYS)] == REPORT_KEYS or
          [k for k in keys if k not in OPTIONAL_KEYS] == REPORT_KEYS,
          "keys are not those of airlock --json: %r" % keys)
    check(set(keys) - set(REPORT_KEYS) <= OPTIONAL_KEYS, "unexpected keys %r" % (set(keys) - set(REPORT_KEYS)))
    check(j["status"] in ("ok", "rejected", "error", "skipped"), "status %r" % j["status"])
    check((j["error"] is None) == (j["status"] in ("ok", "skipped")), "error %r with status %r" %
          (j["error"], j["status"]))
    if j["status"] == "skipped":
        check(j.get("reason") in ("symlink", "not_regular", "too_deep", "airlock_temp") and j["layers"] == [] and
              j["elapsed_ms"] == 0, "skipped line %r" % j)
    check("output" not in j or j["status"] == "ok", "output on a line that is not ok: %r" % j)


def check_consistent(s):
    """Every line is well formed, and the summary counts exactly the lines."""
    check(s.summary is not None, "no summary line last: %r" % s.raw[-300:])
    check(list(s.summary.keys()) == SUMMARY_KEYS, "summary keys %r" % list(s.summary.keys()))
    for j in s.lines:
        check_line(j)
    count = {k: 0 for k in ("ok", "rejected", "error", "skipped")}
    by_error = {}
    for j in s.lines:
        count[j["status"]] += 1
        if j["error"] is not None:
            by_error[j["error"]] = by_error.get(j["error"], 0) + 1
    check(s.summary["files"] == len(s.lines), "summary files %d, %d lines" % (s.summary["files"], len(s.lines)))
    for k, v in count.items():
        check(s.summary[k] == v, "summary %s %d, lines %d" % (k, s.summary[k], v))
    check(s.summary["by_error"] == by_error, "summary by_error %r, lines %r" % (s.summary["by_error"], by_error))
    check(s.summary["elapsed_ms"] >= 0, "summary elapsed_ms %r" % s.summary["elapsed_ms"])


def usage_error(*args, **kw):
    s = scan(*args, **kw)
    check(s.rc == EXIT_USAGE, "expected exit 64: %r" % (s,))
    check(s.raw == b"", "stdout has %d bytes" % len(s.raw))
    lines = s.err.split("\n")
    check(lines[-1] == "" and lines[0].startswith("airlock: ") and len(lines) <= 3,
          "not one 'airlock: reason' line: %r" % s.err)
    check(all(l == "Try 'airlock scan --help'." for l in lines[1:-1]), "stderr %r" % s.err)
    return s


def stable(j):
    """A line without what may differ from run to run."""
    return json.dumps({k: v for k, v in j.items() if k != "elapsed_ms"}, sort_keys=True)


# ---- the manifests ----

def option_less_rows(name):
    """The cells of corpus/NAME's rows that take no options and name a file of this repository."""
    with open(os.path.join(ROOT, "corpus", name)) as f:
        for row in f:
            if row.startswith("#") or not row.strip():
                continue
            c = row.rstrip("\n").split("\t")
            if c[1] == "-" and not c[0].startswith("shared:"):
                yield c


def image_manifests():
    """corpus/images.tsv and the new formats' corpus/images-*.tsv."""
    names = sorted(n for n in os.listdir(os.path.join(ROOT, "corpus")) if re.fullmatch(r"images-.+\.tsv", n))
    return ["images.tsv"] + names


def manifest():
    """{repository path: expectation} from the rows of corpus/*.tsv that take no options."""
    want = {}
    for c in (c for name in image_manifests() for c in option_less_rows(name)):
        path, outcome, typ = c[0], c[2], c[3]
        w = {"outcome": outcome, "type": MIME.get(typ)}
        if typ == "tiff":
            # The manifests decode with TIFF allowed; a scan has the default allowlist, which leaves TIFF out.
            w = {"outcome": "type", "type": MIME["tiff"], "limit": "allow"}
        elif outcome == "ok":
            w.update(width=int(c[4]), height=int(c[5]), channels=int(c[6]))
        check(path not in want, "two option-less rows for %s" % path)
        want[path] = w
    for c in option_less_rows("audio.tsv"):
        path, outcome, typ = c[0], c[2], c[3]
        # type_mismatch rows hand the decoder a wrong type on purpose; a scan detects the type itself.
        if outcome == "type_mismatch":
            continue
        limit = None
        if "/" in outcome:
            outcome, limit = outcome.split("/", 1)
        w = {"outcome": outcome, "type": MIME.get(typ) if outcome != "type" else None, "limit": limit,
             "audio": True}
        if outcome == "ok":
            w.update(rate=int(c[4]), channels=int(c[5]), frames=c[6])
        check(path not in want, "two option-less rows for %s" % path)
        want[path] = w
    return want


def check_expected(j, w, where):
    o = w["outcome"]
    if (w.get("audio") and o != "ok" and j["status"] == "rejected" and j["error"] == "type" and
            j["type"] is None):
        # audio.tsv's type comes from airlock's signature check, which trusts a leading ID3 tag; where libmagic
        # sees no audio the sandbox refuses the file as type first, as tests/test_audio_decode.c --sandbox allows.
        return
    if o == "ok":
        check(j["status"] == "ok" and j["error"] is None, "%s: want ok, got %r" % (where, j))
    else:
        check(j["status"] == "rejected" and j["error"] == o, "%s: want rejected %s, got %r" % (where, o, j))
    check(j["type"] == w["type"], "%s: type %r, manifest %r" % (where, j["type"], w["type"]))
    if w.get("limit"):
        # audio.tsv names the key; the report its CLI name.
        cli = {"max_seconds": "max_seconds", "max_decoded_bytes": "max_decoded_bytes", "memory_bytes": "memory",
               "min_rate": "min_rate", "max_rate": "max_rate", "max_channels": "max_channels",
               "allow": "allow"}[w["limit"]]
        check(j.get("limit") == cli, "%s: limit %r, manifest %r" % (where, j.get("limit"), cli))
    if o == "ok" and "width" in w:
        got = (j["width"], j["height"], j["channels"])
        check(got == (w["width"], w["height"], w["channels"]), "%s: shape %r, manifest %r" %
              (where, got, (w["width"], w["height"], w["channels"])))
    if o == "ok" and "rate" in w:
        check(j["rate"] == w["rate"] and j["channels"] == w["channels"], "%s: rate/channels %r/%r, manifest %r/%r" %
              (where, j["rate"], j["channels"], w["rate"], w["channels"]))
        f = w["frames"]
        if f == "?":
            pass
        elif f.startswith("~"):
            n = int(f[1:])
            check(abs(j["frames"] - n) <= n // 100 + 1, "%s: frames %r, manifest %s" % (where, j["frames"], f))
        else:
            check(j["frames"] == int(f), "%s: frames %r, manifest %s" % (where, j["frames"], f))


def build_tree(d, want):
    """Every manifest file under d/tree at a nested path; {tree path: (repository path, expectation)}."""
    tree = {}
    for n, (path, w) in enumerate(sorted(want.items())):
        kind = "img" if "/images/" in path else "snd"
        sub = os.path.join(kind, "set%d" % (n % 3), "deep" if n % 2 else "")
        dst = os.path.join(d, "tree", sub, os.path.basename(path))
        if os.path.exists(dst):  # the same name in two manifests' folders
            dst = os.path.join(d, "tree", sub, "%d-%s" % (n, os.path.basename(path)))
        copy(os.path.join(ROOT, path), dst)
        tree[os.path.normpath(dst)] = (path, w)
    # Not media at all: text, an empty file, a hidden file.
    for name, data, outcome in (("notes.txt", b"just some text\n", "type"), ("empty.png", b"", "empty"),
                                (os.path.join("img", ".hidden.bin"), b"\x00" * 100, "type")):
        dst = write(os.path.join(d, "tree", name), data)
        tree[os.path.normpath(dst)] = (name, {"outcome": outcome, "type": None})
    return tree


_manifest_scan = {}


def manifest_scan():
    """One scan of the whole manifest tree with --jobs 4, shared by the tests that read it."""
    if "s" not in _manifest_scan:
        d = tempfile.mkdtemp(prefix="airlock-test-scan-")
        want = manifest()
        check(len(want) > 100, "only %d manifest rows" % len(want))
        tree = build_tree(d, want)
        _manifest_scan["s"] = (scan("--jobs", "4", os.path.join(d, "tree")), tree, d)
    return _manifest_scan["s"]


def cleanup_manifest_scan():
    if "s" in _manifest_scan:
        shutil.rmtree(_manifest_scan["s"][2], ignore_errors=True)


def walk_order(top):
    """Paths of every non-directory below top in the documented order: entries sorted bytewise, depth first."""
    out = []
    names = sorted(os.listdir(os.fsencode(top)))
    for n in names:
        p = os.path.join(os.fsencode(top), n)
        if stat.S_ISDIR(os.lstat(p).st_mode):
            out += walk_order(os.fsdecode(p))
        else:
            out.append(os.fsdecode(p))
    return out


def small_tree(d):
    """A small tree of clean, hostile and non-media files, with nested directories."""
    t = os.path.join(d, "in")
    copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(t, "rgb8.png"))
    copy(os.path.join(ROOT, "corpus/images/jpeg_420.jpg"), os.path.join(t, "photos", "jpeg_420.jpg"))
    copy(os.path.join(ROOT, "corpus/images/grey1.png"), os.path.join(t, "photos", "2024", "grey.PNG"))
    copy(os.path.join(ROOT, "corpus/images/bad_crc_idat.png"), os.path.join(t, "photos", "bad_crc_idat.png"))
    copy(os.path.join(ROOT, "corpus/images/too_large_20000x20000.png"), os.path.join(t, "big.png"))
    copy(os.path.join(ROOT, "corpus/audio/wav_s16_mono_16k.wav"), os.path.join(t, "audio", "speech.wav"))
    copy(os.path.join(ROOT, "corpus/audio/flac_s16_stereo_48k.flac"), os.path.join(t, "audio", "music.flac"))
    copy(os.path.join(ROOT, "corpus/audio/wav_ima_adpcm_8k.wav"), os.path.join(t, "audio", "adpcm.wav"))
    write(os.path.join(t, "audio", "readme.txt"), b"not audio\n")
    return t


# ---- outcomes ----

@test("a tree of every manifest fixture: one line per file, each with its manifest outcome, type and shape")
def _():
    s, tree, _d = manifest_scan()
    check(s.rc == EXIT_OK, "exit %r" % (s,))
    check_consistent(s)
    got = s.by_input()
    check(set(got) == set(tree), "lines for %r, files %r" % (sorted(set(got) ^ set(tree))[:5], len(tree)))
    for p, (repo, w) in sorted(tree.items()):
        check_expected(got[p], w, repo)
    for j in s.lines:
        if j["status"] != "skipped" and j["error"] not in ("empty", "input_too_big"):  # those reach no helper
            check(j["layers"][:3] == ["rlimits", "no_new_privs", "seccomp"], "layers %r" % j["layers"])


@test("the summary counts each status and error name of the lines; rejections leave exit 0")
def _():
    s, tree, _d = manifest_scan()
    check(s.rc == EXIT_OK and s.err == "", "%r" % (s,))
    check(s.summary["rejected"] > 30 and s.summary["ok"] > 80 and s.summary["error"] == 0, "%r" % s.summary)
    check(s.summary["files"] == len(tree), "files %d, tree %d" % (s.summary["files"], len(tree)))
    for name in ("malformed", "type", "too_large", "unsupported", "out_of_range", "empty"):
        check(s.summary["by_error"].get(name, 0) > 0, "no %s in %r" % (name, s.summary["by_error"]))
    # Ordered by error code, as documented.
    codes = ["malformed", "type", "type_mismatch", "too_large", "input_too_big", "unsupported", "empty",
             "too_complex", "too_long", "out_of_range"]
    keys = list(s.summary["by_error"].keys())
    check(keys == [c for c in codes if c in keys], "by_error order %r" % keys)


@test("the lines agree with airlock --json on the same files, key for key")
def _():
    s, tree, _d = manifest_scan()
    got = s.by_input()
    picks = [p for p in sorted(tree) if not os.path.basename(p).startswith(".")][::25]
    for p in picks:
        r = subprocess.run([AIRLOCK, "--json", p, "-o", os.devnull], capture_output=True, timeout=60)
        j = json.loads(r.stderr.decode("utf-8"))
        check(stable(j) == stable(got[p]), "%s:\n  --json %s\n  scan   %s" % (p, stable(j), stable(got[p])))


@test("--jobs 1 prints in walk order (sorted, depth first), and --jobs 1 and --jobs 4 give the same lines")
def _():
    s4, tree, d = manifest_scan()
    s1 = scan_ok("--jobs", "1", os.path.join(d, "tree"))
    order = walk_order(os.path.join(d, "tree"))
    check([j["input"] for j in s1.lines] == order, "--jobs 1 order differs from the walk order")
    a = sorted(stable(j) for j in s1.lines)
    b = sorted(stable(j) for j in s4.lines)
    check(a == b, "lines differ: %r" % sorted(set(a) ^ set(b))[:4])
    check({k: v for k, v in s1.summary.items() if k != "elapsed_ms"} ==
          {k: v for k, v in s4.summary.items() if k != "elapsed_ms"}, "summaries differ")


@test("limits and --allow apply to every file: --max-pixels, --max-bytes, --allow image")
def _():
    with TempDir() as d:
        t = small_tree(d)
        s = scan_ok("--max-pixels", "100", "--max-bytes", "100000", "--allow", "image", t)
        got = {os.path.relpath(j["input"], t): j for j in s.lines}
        check(got["rgb8.png"]["status"] == "ok", "%r" % got["rgb8.png"])  # 11x7 = 77 pixels
        check(got["photos/jpeg_420.jpg"]["error"] == "too_large" and
              got["photos/jpeg_420.jpg"]["limit"] == "max_pixels", "%r" % got["photos/jpeg_420.jpg"])
        check(got["audio/music.flac"]["error"] in ("type", "input_too_big"), "%r" % got["audio/music.flac"])
        check(got["audio/speech.wav"]["error"] == "type" and got["audio/speech.wav"]["limit"] == "allow",
              "%r" % got["audio/speech.wav"])
        big = [j for j in s.lines if os.path.getsize(j["input"]) > 100000]
        for j in big:
            check(j["error"] == "input_too_big" and j["limit"] == "max_bytes", "%r" % j)


# ---- --out ----

def expected_output(path, *opts):
    """What airlock writes for path alone with opts, or None when it rejects it."""
    fd, tmp = tempfile.mkstemp(prefix="airlock-test-scan-")
    os.close(fd)
    try:
        r = subprocess.run([AIRLOCK] + list(opts) + [path, "-o", tmp], capture_output=True, timeout=60)
        return read(tmp) if r.returncode == 0 else None
    finally:
        os.unlink(tmp)


def files_under(top):
    out = set()
    for d, _dirs, files in os.walk(top):
        for n in files:
            out.add(os.path.relpath(os.path.join(d, n), top))
    return out


@test("--out mirrors the tree: only clean files, extension of the format, bytes equal to airlock FILE -o")
def _():
    with TempDir() as d:
        t = small_tree(d)
        out = os.path.join(d, "clean", "run1")  # created with its parent
        s = scan_ok("--jobs", "3", "--out", out, t)
        want = {"rgb8.png", "photos/jpeg_420.jpg", "photos/2024/grey.png", "audio/speech.wav",
                "audio/music.wav"}
        check(files_under(out) == want, "outputs %r" % sorted(files_under(out)))
        for j in s.lines:
            if j["status"] != "ok":
                check("output" not in j, "%r" % j)
                continue
            rel = os.path.relpath(j["output"], out)
            check(rel in want and os.path.isfile(j["output"]), "output %r" % j["output"])
            check(read(j["output"]) == expected_output(j["input"]),
                  "%s differs from what airlock writes for %s" % (rel, j["input"]))
        check(not any(n.startswith(".airlock-") for n in files_under(out)), "temporary file left")


@test("--out with --to png and a limit: every clean image as PNG, audio rejected as type")
def _():
    with TempDir() as d:
        t = small_tree(d)
        out = os.path.join(d, "out")
        s = scan_ok("--max-pixels", "2000", "--to", "png", "--out", out, t)
        check(files_under(out) == {"rgb8.png", "photos/jpeg_420.png", "photos/2024/grey.png"},
              "outputs %r" % sorted(files_under(out)))
        for j in s.lines:
            if j["input"].endswith((".wav", ".flac", ".txt")):
                check(j["status"] == "rejected" and j["error"] == "type", "%r" % j)
            if j["status"] == "ok":
                check(read(j["output"]) == expected_output(j["input"], "--to", "png", "--max-pixels", "2000"),
                      "%s differs" % j["output"])


@test("--out: outputs that would share a name get ~2, ~3, the same with --jobs 1 and --jobs 4")
def _():
    with TempDir() as d:
        t = os.path.join(d, "in")
        png = os.path.join(ROOT, "corpus/images/rgb8.png")
        jpg = os.path.join(ROOT, "corpus/images/jpeg_420.jpg")
        copy(jpg, os.path.join(t, "a.jpg"))
        copy(png, os.path.join(t, "a.png"))
        copy(png, os.path.join(t, "a"))          # no extension: also a.png
        copy(png, os.path.join(t, "a~2.png"))    # the name the second would take
        copy(png, os.path.join(t, "b.png", "c.png"))  # a directory named like an output
        copy(png, os.path.join(t, "b"))
        runs = []
        for jobs in ("1", "4"):
            out = os.path.join(d, "out" + jobs)
            s = scan_ok("--jobs", jobs, "--out", out, t)
            runs.append({os.path.relpath(j["input"], t): os.path.relpath(j["output"], out) for j in s.lines})
            check(len(set(runs[-1].values())) == len(runs[-1]), "two inputs, one output: %r" % runs[-1])
            check(files_under(out) == set(runs[-1].values()), "files %r, lines %r" % (files_under(out), runs[-1]))
        check(runs[0] == runs[1], "names depend on --jobs: %r vs %r" % tuple(runs))
        m = runs[0]
        check(m["a"] == "a.png" and m["a.jpg"] == "a~2.jpg" and m["a.png"] == "a~3.png" and
              m["a~2.png"] == "a~2~2.png" and m["b.png/c.png"] == "b.png/c.png" and m["b"] == "b~2.png",
              "names %r" % m)


@test("--out that is, holds or lies in a PATH is a usage error, and nothing is written")
def _():
    with TempDir() as d:
        t = small_tree(d)
        usage_error("--out", t, t)
        usage_error("--out", os.path.join(t, "photos", "new"), t)
        usage_error("--out", d, t)
        usage_error("--out", t, os.path.join(t, "photos", "jpeg_420.jpg"))
        check(not os.path.exists(os.path.join(t, "photos", "new")), "--out was created")


@test("a PATH that is a file is scanned itself, its output named after it at the top of --out")
def _():
    with TempDir() as d:
        t = small_tree(d)
        out = os.path.join(d, "o")
        s = scan_ok("--out", out, os.path.join(t, "photos", "jpeg_420.jpg"), os.path.join(t, "rgb8.png"))
        check([j["input"] for j in s.lines] == [os.path.join(t, "photos", "jpeg_420.jpg"),
                                                 os.path.join(t, "rgb8.png")], "%r" % s.lines)
        check(files_under(out) == {"jpeg_420.jpg", "rgb8.png"}, "%r" % files_under(out))


@test("--out never writes through a symlink inside DIR: that file is an error line (output), exit 70")
def _():
    with TempDir() as d:
        t = os.path.join(d, "in")
        copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(t, "a.png"))
        copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(t, "sub", "b.png"))
        copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(t, "c.png"))
        victim = write(os.path.join(d, "elsewhere", "victim.png"), b"untouched")
        out = os.path.join(d, "out")
        os.makedirs(out)
        os.symlink(victim, os.path.join(out, "a.png"))
        os.symlink(os.path.join(d, "elsewhere"), os.path.join(out, "sub"))
        s = scan("--out", out, t)
        check(s.rc == EXIT_INTERNAL, "expected exit 70: %r" % (s,))
        check_consistent(s)
        got = {os.path.relpath(j["input"], t): j for j in s.lines}
        for n in ("a.png", "sub/b.png"):
            check(got[n]["status"] == "error" and got[n]["error"] == "io" and got[n]["reason"] == "output" and
                  got[n]["width"] == 11, "%s: %r" % (n, got[n]))
        check(got["c.png"]["status"] == "ok", "%r" % got["c.png"])
        check(read(victim) == b"untouched" and os.listdir(os.path.join(d, "elsewhere")) == ["victim.png"],
              "wrote through a symlink")
        check(os.path.islink(os.path.join(out, "a.png")), "the symlink was replaced")


# ---- the walk ----

@test("symlinks inside the tree are skipped, never followed; a symlink given as PATH is followed")
def _():
    with TempDir() as d:
        t = os.path.join(d, "in")
        secret = copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(d, "outside", "secret.png"))
        copy(os.path.join(ROOT, "corpus/images/grey1.png"), os.path.join(t, "real.png"))
        os.symlink(secret, os.path.join(t, "file-link.png"))
        os.symlink(os.path.join(d, "outside"), os.path.join(t, "dir-link"))
        os.makedirs(os.path.join(t, "sub"))
        os.symlink("..", os.path.join(t, "sub", "up"))
        os.symlink("/nonexistent", os.path.join(t, "dangling"))
        out = os.path.join(d, "out")
        s = scan_ok("--out", out, t)
        got = {os.path.relpath(j["input"], t): j for j in s.lines}
        check(set(got) == {"real.png", "file-link.png", "dir-link", "sub/up", "dangling"}, "lines %r" % sorted(got))
        for n in ("file-link.png", "dir-link", "sub/up", "dangling"):
            check(got[n]["status"] == "skipped" and got[n]["reason"] == "symlink", "%s: %r" % (n, got[n]))
        check(got["real.png"]["status"] == "ok", "%r" % got["real.png"])
        check(files_under(out) == {"real.png"}, "outputs %r" % files_under(out))
        check(s.summary["skipped"] == 4 and s.summary["files"] == 5, "%r" % s.summary)
        # The caller's own symlink is followed.
        link = os.path.join(d, "link-to-in")
        os.symlink(t, link)
        s = scan_ok(link)
        check(sorted(os.path.relpath(j["input"], link) for j in s.lines) ==
              ["dangling", "dir-link", "file-link.png", "real.png", "sub/up"], "%r" % s.lines)


@test("a helper that cannot be started: exit 70, no line, the path tried and why on stderr, and in the --log line")
def _():
    with TempDir() as d:
        t = os.path.join(d, "in")
        copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(t, "a.png"))
        log = os.path.join(d, "events.jsonl")
        s = scan("--log", log, t, env={"AIRLOCK_ZYGOTE": "/nonexistent/airlock-zygote"})
        check(s.rc == EXIT_INTERNAL and s.lines == [] and s.summary is None, "%r" % (s,))
        check(s.err == 'airlock: cannot start helper "/nonexistent/airlock-zygote": No such file or directory '
              "(AIRLOCK_ZYGOTE names it: point it at airlock-zygote, or unset it)\n", "stderr %r" % s.err)
        ev = [json.loads(line) for line in read(log).decode().splitlines()]
        check(len(ev) == 1 and ev[0]["error"] == "helper" and ev[0]["helper"] == "/nonexistent/airlock-zygote" and
              "No such file" in ev[0]["reason"], "%r" % ev)


@test("a FIFO is skipped as not_regular, without blocking the scan")
def _():
    with TempDir() as d:
        t = os.path.join(d, "in")
        copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(t, "a.png"))
        os.mkfifo(os.path.join(t, "pipe"))
        s = scan_ok(t, timeout=30)
        got = {os.path.basename(j["input"]): j for j in s.lines}
        check(got["pipe"]["status"] == "skipped" and got["pipe"]["reason"] == "not_regular", "%r" % got["pipe"])
        check(got["a.png"]["status"] == "ok", "%r" % got["a.png"])


@test("a stale .airlock-* temporary file in the tree is skipped as airlock_temp, never read; as PATH it is scanned")
def _():
    with TempDir() as d:
        t = os.path.join(d, "in")
        png = os.path.join(ROOT, "corpus/images/rgb8.png")
        copy(png, os.path.join(t, "a.png"))
        # What a killed run leaves beside its outputs: both name shapes airlock writes, and the bare prefix.
        stale = [".airlock-1a2b3c4d", os.path.join("sub", ".airlock-Xy9Zq1"), os.path.join("sub", ".airlock-x.png")]
        for n in stale:
            copy(png, os.path.join(t, n))
        out = os.path.join(d, "out")
        s = scan_ok("--out", out, t)
        got = {os.path.relpath(j["input"], t): j for j in s.lines}
        check(set(got) == set(stale) | {"a.png"}, "lines %r" % sorted(got))
        for n in stale:
            check(got[n]["status"] == "skipped" and got[n]["reason"] == "airlock_temp" and "output" not in got[n],
                  "%s: %r" % (n, got[n]))
        check(got["a.png"]["status"] == "ok", "%r" % got["a.png"])
        check(s.summary["skipped"] == len(stale) and s.summary["ok"] == 1, "%r" % s.summary)
        check(files_under(out) == {"a.png"}, "outputs %r" % files_under(out))
        # Named by the caller, it is the caller's file.
        s = scan_ok(os.path.join(t, stale[0]))
        check(len(s.lines) == 1 and s.lines[0]["status"] == "ok", "%r" % s.lines)


@test("an unreadable file and directory: error lines (io, unreadable), the rest scanned, summary written, exit 70")
def _():
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        raise Skip("root without setpriv: permissions do not stop root")
    with TempDir() as d:
        os.chmod(d, 0o755)
        t = os.path.join(d, "in")
        copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(t, "a.png"))
        copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(t, "b.png"))
        copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(t, "locked", "c.png"))
        copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(t, "z.png"))
        for dd, dirs, files in os.walk(d):
            for n in dirs:
                os.chmod(os.path.join(dd, n), 0o755)
            for n in files:
                os.chmod(os.path.join(dd, n), 0o644)
        os.chmod(os.path.join(t, "b.png"), 0)
        os.chmod(os.path.join(t, "locked"), 0)
        cmd = [AIRLOCK, "scan", t]
        env = None
        if os.geteuid() == 0:
            prefix, env = unprivileged(AIRLOCK, d)
            cmd = prefix + ["scan", t]
        p = subprocess.run(cmd, capture_output=True, timeout=60, env=env)
        s = Scan(p, 0)
        check(s.rc == EXIT_INTERNAL, "expected exit 70: %r" % (s,))
        check_consistent(s)
        got = {os.path.relpath(j["input"], t): j for j in s.lines}
        check(set(got) == {"a.png", "b.png", "locked", "z.png"}, "%r" % sorted(got))
        for n in ("b.png", "locked"):
            check(got[n]["status"] == "error" and got[n]["error"] == "io" and got[n]["reason"] == "unreadable",
                  "%s: %r" % (n, got[n]))
        check(got["a.png"]["status"] == "ok" and got["z.png"]["status"] == "ok", "%r" % s.lines)
        check(s.summary["error"] == 2 and s.summary["by_error"] == {"io": 2}, "%r" % s.summary)
        check(s.err.count("\n") == 2 and "Permission denied" in s.err, "stderr %r" % s.err)


@test("a directory 256 levels down is skipped as too_deep; the files above it are scanned")
def _():
    with TempDir() as d:
        t = os.path.join(d, "in")
        os.makedirs(t)
        copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(t, "top.png"))
        fd = os.open(t, os.O_RDONLY)
        try:
            # Built with relative steps: the full path is longer than PATH_MAX.
            for i in range(257):
                os.mkdir("d", dir_fd=fd)
                nfd = os.open("d", os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = nfd
                if i == 100:
                    with open(os.open("mid.png", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as f:
                        f.write(read(os.path.join(ROOT, "corpus/images/rgb8.png")))
        finally:
            os.close(fd)
        s = scan_ok(t)
        got = {os.path.relpath(j["input"], t): j for j in s.lines}
        check(got["top.png"]["status"] == "ok", "%r" % got.get("top.png"))
        mid = "/".join(["d"] * 101) + "/mid.png"
        check(got[mid]["status"] == "ok", "%r" % got.get(mid))
        deep = [j for j in s.lines if j["status"] == "skipped"]
        check(len(deep) == 1 and deep[0]["reason"] == "too_deep" and
              os.path.relpath(deep[0]["input"], t) == "/".join(["d"] * 256), "%r" % deep)
        shutil.rmtree(t, ignore_errors=True)


# ---- hostile workers ----

@test("a worker crash and a seccomp kill are reported and the scan goes on (evil zygote)")
def _():
    if not os.access(EVIL_ZYGOTE, os.X_OK):
        raise Skip("no %s" % EVIL_ZYGOTE)
    with TempDir() as d:
        t = os.path.join(d, "in")
        write(os.path.join(t, "a", "crash.bin"), b"segv")
        write(os.path.join(t, "a", "syscall.bin"), b"open")
        write(os.path.join(t, "b", "abort.bin"), b"abort")
        write(os.path.join(t, "b", "garbage.bin"), b"garbage")
        for i in range(6):
            copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(t, "c", "ok%d.png" % i))
        log = os.path.join(d, "events.log")
        out = os.path.join(d, "out")
        for jobs in ("1", "3"):
            s = scan_ok("--jobs", jobs, "--log", log, "--out", out, t, env={"AIRLOCK_ZYGOTE": EVIL_ZYGOTE})
            got = {os.path.relpath(j["input"], t): j for j in s.lines}
            want = {"a/crash.bin": "worker_crash", "a/syscall.bin": "seccomp", "b/abort.bin": "worker_crash",
                    "b/garbage.bin": "protocol"}
            for n, e in want.items():
                check(got[n]["status"] == "rejected" and got[n]["error"] == e, "%s: %r" % (n, got[n]))
            check(all(got["c/ok%d.png" % i]["status"] == "ok" for i in range(6)), "clean files after them: %r" %
                  s.lines)
            check(s.summary["ok"] == 6 and s.summary["rejected"] == 4, "%r" % s.summary)
            check(files_under(out) == {"c/ok%d.png" % i for i in range(6)}, "outputs %r" % files_under(out))
        # The event log: one line per sandbox event, naming the file; none for the clean ones.
        ev = [json.loads(l) for l in read(log).decode("utf-8").splitlines()]
        check(len(ev) == 8, "%d log lines" % len(ev))
        check(sorted(os.path.relpath(e["input"], t) for e in ev) == sorted(list(want) * 2), "%r" % ev)
        for e in ev:
            check(e["class"] == "sandbox" and e["error"] == want[os.path.relpath(e["input"], t)], "%r" % e)


@test("a worker over its time limit is a timeout line, and the next file is fine (evil zygote)")
def _():
    if not os.access(EVIL_ZYGOTE, os.X_OK):
        raise Skip("no %s" % EVIL_ZYGOTE)
    with TempDir() as d:
        t = os.path.join(d, "in")
        write(os.path.join(t, "a-loop.bin"), b"loop")
        copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(t, "b.png"))
        s = scan_ok("--timeout-ms", "300", t, env={"AIRLOCK_ZYGOTE": EVIL_ZYGOTE})
        check(s.lines[0]["error"] == "timeout" and s.lines[0]["limit"] == "timeout", "%r" % s.lines[0])
        check(s.lines[1]["status"] == "ok", "%r" % s.lines[1])


@test("--strict-sandbox where the helper lacks a namespace: error lines for every file, exit 70")
def _():
    with TempDir() as d:
        t = small_tree(d)
        s = scan("--strict-sandbox", t, no_userns=True)
        check_consistent(s)
        check(s.rc == EXIT_INTERNAL and s.summary["error"] == s.summary["files"] and
              s.summary["by_error"] == {"sandbox_unavailable": s.summary["files"]}, "%r" % (s,))
        check(all(j["layers"] == ["rlimits", "no_new_privs", "seccomp"] for j in s.lines), "%r" % (s.lines,))
        s = scan("--strict-sandbox", t, no_userns=False)
        check(s.rc == EXIT_OK and s.summary["error"] == 0, "with every namespace strict refuses nothing: %r" % (s,))


# ---- signals and progress ----

def slow_png(w, h):
    """An RGB PNG that takes airlock a good fraction of a second to decode and to encode again: rows of noise."""
    row = bytearray(os.urandom(w * 3))
    raw = bytearray()
    for y in range(h):
        k = (y * 7919) % len(row)
        raw += b"\x00" + row[k:] + row[:k]

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(bytes(raw), 1)) + chunk(b"IEND", b""))


def slow_tree(t, n, w=1200):
    data = slow_png(w, w)
    for i in range(n):
        write(os.path.join(t, "set%d" % (i % 2), "f%02d.png" % i), data)


def temp_files(top):
    return [os.path.join(d, n) for d, _dirs, files in os.walk(top) for n in files if n.startswith(".airlock-")]


def descendants(pid):
    """{pid: start time} of every process below pid, from /proc."""
    kids = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            st = read("/proc/%s/stat" % p).decode("utf-8", "replace")
        except OSError:
            continue
        f = st[st.rindex(")") + 2:].split()
        kids.setdefault(int(f[1]), []).append((int(p), f[19]))
    out, todo = {}, [pid]
    while todo:
        for c, start in kids.get(todo.pop(), []):
            out[c] = start
            todo.append(c)
    return out


def running(pid, start):
    """pid is still the process that started at start, and not a zombie."""
    try:
        st = read("/proc/%d/stat" % pid).decode("utf-8", "replace")
    except OSError:
        return False
    f = st[st.rindex(")") + 2:].split()
    return f[0] != "Z" and f[19] == start


def default_signals():
    # The test may run with SIGINT ignored (a background job), and exec keeps an ignored signal ignored.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


@test("SIGINT or SIGTERM mid-write under --out, or Ctrl-C to the group: no .airlock-* left, no false verdict, "
      "outputs whole, death by the signal, no child")
def _():
    with TempDir() as d:
        t = os.path.join(d, "in")
        slow_tree(t, 12)
        # group: as Ctrl-C does, to the scan's whole process group, so to the helper and its workers too.
        for n, (sig, group) in enumerate(((signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True),
                                          (signal.SIGINT, False))):
            out = os.path.join(d, "out%d" % n)
            # More jobs for the group: some request is then surely in a worker when the signal comes.
            jobs = "4" if group else "2"
            p = subprocess.Popen([AIRLOCK, "scan", "--jobs", jobs, "--out", out, t], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, preexec_fn=default_signals, start_new_session=group)
            try:
                # Signalled when an output is done and another being written: a temporary file exists right now.
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and p.poll() is None:
                    if len(files_under(out)) > len(temp_files(out)) and temp_files(out):
                        break
                    time.sleep(0.002)
                check(p.poll() is None, "the scan ended before it could be interrupted mid-write")
                kids = descendants(p.pid)
                check(kids, "no helper process below the scan")
                if group:
                    os.killpg(p.pid, sig)
                else:
                    p.send_signal(sig)
                o, e = p.communicate(timeout=60)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            check(p.returncode == -sig, "%s: exit %r, stderr %r" % (sig.name, p.returncode, e[-500:]))
            check(not temp_files(out), "%s: left %r" % (sig.name, temp_files(out)))
            check(("interrupted by %s" % sig.name).encode() in e, "%s: stderr %r" % (sig.name, e[-500:]))
            text = o.decode("utf-8")
            check(text == "" or text.endswith("\n"), "a cut line: %r" % text[-200:])
            lines = [json.loads(l) for l in text.splitlines()]
            check(not any(j.get("summary") for j in lines), "a summary after a signal: %r" % lines[-1:])
            # Every input is clean: an error line would be a request the signal ended, reported as the file's.
            check(all(j["status"] == "ok" for j in lines), "%s: %r" % (sig.name, [j for j in lines
                                                                              if j["status"] != "ok"][:2]))
            written = {os.path.relpath(j["output"], out) for j in lines if "output" in j}
            check(written and written == files_under(out), "%s: lines name %r, DIR holds %r" %
                  (sig.name, sorted(written), sorted(files_under(out))))
            for n in written:
                check(read(os.path.join(out, n))[:8] == b"\x89PNG\r\n\x1a\n", "%s is not a PNG" % n)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and any(running(k, v) for k, v in kids.items()):
                time.sleep(0.05)
            left = [k for k, v in kids.items() if running(k, v)]
            check(not left, "%s: processes of the scan still running: %r" % (sig.name, left))


PROGRESS = re.compile(r"airlock scan: (\d+)/(\d+), \d+\.\d/s, (\d+) ok, (\d+) rejected, (\d+) error, "
                      r"(\d+) skipped, \d+:\d\d")


def scan_tty(args, pty_stderr):
    """A scan whose stderr is a terminal (of 200 columns) or a pipe: (stdout, stderr, exit, wall time)."""
    env = dict(os.environ, TERM="xterm")
    if not pty_stderr:
        p = subprocess.run([AIRLOCK, "scan"] + args, capture_output=True, timeout=120, env=env)
        return p.stdout, p.stderr, p.returncode, None
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    got = []

    def drain():
        while True:
            try:
                b = os.read(master, 65536)
            except OSError:  # EIO: the last writer has gone
                return
            if not b:
                return
            got.append(b)
    th = threading.Thread(target=drain)
    th.start()
    t0 = time.monotonic()
    try:
        p = subprocess.run([AIRLOCK, "scan"] + args, stdout=subprocess.PIPE, stderr=slave, timeout=120, env=env)
    finally:
        os.close(slave)
        th.join(30)
        os.close(master)
    return p.stdout, b"".join(got), p.returncode, time.monotonic() - t0


def stable_stdout(raw):
    lines = [json.loads(l) for l in raw.decode("utf-8").splitlines()]
    for j in lines:
        j.pop("elapsed_ms")
    return lines


@test("a progress line on a terminal stderr, redrawn in place and cleared; none with --quiet or into a pipe")
def _():
    with TempDir() as d:
        t = os.path.join(d, "in")
        slow_tree(t, 8, w=1600)
        write(os.path.join(t, "notes.txt"), b"not media\n")
        os.symlink("set0", os.path.join(t, "link"))
        # Long enough for a few redraws on any machine: the tree doubles until a scan takes a second.
        for rnd in range(8):
            t0 = time.monotonic()
            o_pipe, e_pipe, rc, _w = scan_tty(["--jobs", "1", t], False)
            if time.monotonic() - t0 >= 1.0 or rnd == 7:
                break
            for n in os.listdir(os.path.join(t, "set0")):
                shutil.copyfile(os.path.join(t, "set0", n), os.path.join(t, "set0", "r%d-%s" % (rnd, n)))
        check(rc == EXIT_OK and e_pipe == b"", "stderr a pipe: exit %r, stderr %r" % (rc, e_pipe[:300]))
        total = len(walk_order(t))
        base = stable_stdout(o_pipe)
        check(len(base) == total + 1 and base[-1].get("summary"), "stdout %r" % base[-2:])
        o_tty, e_tty, rc, wall = scan_tty(["--jobs", "1", t], True)
        check(rc == EXIT_OK, "exit %r, stderr %r" % (rc, e_tty[-300:]))
        text = e_tty.decode("utf-8")
        draws = text.split("\r")[1:]
        check(draws, "no progress line in %.1f s: %r" % (wall, text[:300]))
        check(text.endswith("\r\x1b[K"), "the line is not cleared at the end: %r" % text[-200:])
        check("\n" not in text, "a newline on the terminal: %r" % text[:300])
        shown = [m for m in (PROGRESS.fullmatch(x[:-3]) for x in draws[:-1]) if m]
        check(len(shown) == len(draws) - 1 and all(x.endswith("\x1b[K") for x in draws),
              "not each a progress line ending in ESC [K: %r" % draws[:3])
        check(len(shown) <= wall * 4 + 2, "%d redraws in %.1f s" % (len(shown), wall))
        done = [int(m.group(1)) for m in shown]
        check(done == sorted(done) and all(int(m.group(2)) == total and int(m.group(1)) <= total for m in shown),
              "counts %r" % [m.group(0) for m in shown])
        m = shown[-1]
        check(int(m.group(1)) == sum(int(m.group(k)) for k in (3, 4, 5, 6)), "%r" % m.group(0))
        o_quiet, e_quiet, rc, _w = scan_tty(["--jobs", "1", "--quiet", t], True)
        check(rc == EXIT_OK and e_quiet == b"", "--quiet on a terminal: exit %r, stderr %r" % (rc, e_quiet[:300]))
        check(stable_stdout(o_tty) == base and stable_stdout(o_quiet) == base, "stdout differs with a terminal")


# ---- usage ----

@test("usage errors exit 64 with nothing on stdout: no PATH, bad --jobs, -o, '-', a missing PATH, bad options")
def _():
    with TempDir() as d:
        t = small_tree(d)
        usage_error()
        usage_error("--jobs", "4")
        for bad in ("0", "257", "x", "-1", "4k", ""):
            usage_error("--jobs", bad, t)
        usage_error("--jobs=0", t)
        usage_error(t, "--jobs")
        usage_error("-o", os.path.join(d, "x.png"), t)
        usage_error("--output=x", t)
        usage_error("-", t)
        usage_error("--out", "", t)
        usage_error("--out", os.path.join(d, "a"), "--out", os.path.join(d, "b"), t)
        usage_error("--frobnicate", t)
        usage_error("--max-width", "0", t)
        usage_error("--to", "gif", t)
        usage_error("--log", os.path.join(d, "no", "such", "dir.log"), t)
        s = usage_error(os.path.join(d, "missing"), t)
        check("cannot open" in s.err, "%r" % s.err)


@test("options take values in both forms and may follow PATHs; -- ends them")
def _():
    with TempDir() as d:
        t = small_tree(d)
        a = scan_ok("--max-pixels=100", "-j", "2", t)
        b = scan_ok(t, "--max-pixels", "100", "--jobs=2")
        check(sorted(map(stable, a.lines)) == sorted(map(stable, b.lines)), "forms differ")
        os.makedirs(os.path.join(d, "-odd"))
        copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(d, "-odd", "x.png"))
        s = scan_ok("--", "-odd", cwd=d)
        check([j["input"] for j in s.lines] == ["-odd/x.png"], "%r" % s.lines)


@test("scan --help exits 0 and names --jobs, --out and the exit statuses; airlock --help names scan")
def _():
    s = subprocess.run([AIRLOCK, "scan", "--help"], capture_output=True, timeout=60)
    text = s.stdout.decode("utf-8")
    check(s.returncode == 0 and "--jobs" in text and "--out" in text and "PATH" in text, "%r" % text)
    for code in ("0", "64", "70"):
        check(code in text, "exit status %s not in scan --help" % code)
    r = subprocess.run([AIRLOCK, "--help"], capture_output=True, timeout=60)
    check(r.returncode == 0 and b"airlock scan" in r.stdout, "airlock --help does not mention scan")


@test("a file named scan is still an INPUT after --")
def _():
    with TempDir() as d:
        copy(os.path.join(ROOT, "corpus/images/rgb8.png"), os.path.join(d, "scan"))
        r = subprocess.run([AIRLOCK, "--json", "--", "scan"], capture_output=True, cwd=d, timeout=60)
        check(r.returncode == 0 and json.loads(r.stderr)["input"] == "scan", "%r" % r.stderr)


# ---- issue 15: the new formats, the default allowlist, unsupported media ----

def tiff_rgb(w, h, px):
    """A baseline little-endian TIFF: one uncompressed RGB strip."""
    entries = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 3, 8 + 12 * 10 + 4 + 2), (259, 3, 1, 1), (262, 3, 1, 2),
               (273, 4, 1, 0), (277, 3, 1, 3), (278, 3, 1, h), (279, 4, 1, len(px)), (284, 3, 1, 1)]
    data_at = 8 + 2 + 12 * len(entries) + 4 + 6
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        value = data_at if tag == 273 else value
        ifd += struct.pack("<HHI", tag, typ, count) + (struct.pack("<HH", value, 0) if typ == 3 and count == 1
                                                       else struct.pack("<I", value))
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + struct.pack("<HHH", 8, 8, 8) + px


def bmp_rgb(w, h, px):
    """A bottom-up 24-bit BMP with a BITMAPINFOHEADER; px is top-down RGB."""
    stride = (w * 3 + 3) & ~3
    rows = b""
    for y in reversed(range(h)):
        row = b"".join(bytes((px[3 * (y * w + x) + 2], px[3 * (y * w + x) + 1], px[3 * (y * w + x)]))
                       for x in range(w))
        rows += row + b"\x00" * (stride - len(row))
    return (b"BM" + struct.pack("<IHHI", 14 + 40 + len(rows), 0, 0, 54) +
            struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(rows), 2835, 2835, 0, 0) + rows)


# The classic 1x1 GIF89a: one red pixel, a two-colour global table.
GIF_1X1 = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00"
           b"\x02\x02D\x01\x00;")
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 16
PX = bytes((i * 29) % 256 for i in range(4 * 3 * 3))


@test("the three refusals in a scan: text is type (no limit), a TIFF type with limit allow (the default "
      "allowlist), HEIC unsupported with its mime; --allow image takes the TIFF")
def _():
    with TempDir() as d:
        t = os.path.join(d, "in")
        write(os.path.join(t, "notes.txt"), b"just some text\n")
        write(os.path.join(t, "scan.tif"), tiff_rgb(4, 3, PX))
        write(os.path.join(t, "photo.heic"), HEIC)
        s = scan_ok(t)
        got = {os.path.basename(j["input"]): j for j in s.lines}
        j = got["notes.txt"]
        check(j["error"] == "type" and j["type"] is None and "limit" not in j and "mime" not in j, "%r" % j)
        j = got["scan.tif"]
        check(j["error"] == "type" and j["type"] == "image/tiff" and j["limit"] == "allow" and "mime" not in j,
              "%r" % j)
        j = got["photo.heic"]
        check(j["status"] == "rejected" and j["error"] == "unsupported" and j["type"] is None and
              j["mime"] == "image/heic" and "limit" not in j, "%r" % j)
        check(list(j).index("mime") == list(j).index("layers") + 1, "mime not after layers: %r" % list(j))
        check(s.summary["by_error"] == {"type": 2, "unsupported": 1}, "%r" % s.summary)
        s = scan_ok("--allow", "image", t)
        j = {os.path.basename(j["input"]): j for j in s.lines}["scan.tif"]
        check(j["error"] != "type", "--allow image: %r" % j)
        # Awaits the TIFF decoder.
        check(j["status"] == "ok" and (j["width"], j["height"], j["channels"]) == (4, 3, 3), "%r" % j)


@test("scan --out: GIF, BMP and TIFF become .png and WebP stays .webp; a.bmp and a.gif get a.png and a~2.png, "
      "also with --allow gif,bmp")
def _():
    with TempDir() as d:
        t = os.path.join(d, "in")
        write(os.path.join(t, "a.gif"), GIF_1X1)
        write(os.path.join(t, "a.bmp"), bmp_rgb(4, 3, PX))
        write(os.path.join(t, "sub", "x.tif"), tiff_rgb(4, 3, PX))
        write(os.path.join(t, "sub", "y.BMP"), bmp_rgb(4, 3, PX))
        p = subprocess.run(["cwebp", "-quiet", "-lossless", os.path.join(ROOT, "corpus/images/rgb8.png"), "-o",
                            os.path.join(t, "w.webp")], capture_output=True, timeout=60)
        check(p.returncode == 0, "cwebp: %r" % p.stderr)
        out = os.path.join(d, "out")
        s = scan_ok("--allow", "image", "--out", out, t)
        names = {os.path.relpath(j["input"], t): os.path.relpath(j["output"], out) if "output" in j else j
                 for j in s.lines}
        want = {"a.bmp": "a.png", "a.gif": "a~2.png", "sub/x.tif": "sub/x.png", "sub/y.BMP": "sub/y.png",
                "w.webp": "w.webp"}
        check(names == want, "names %r" % names)
        check(files_under(out) == set(want.values()), "files %r" % files_under(out))
        for j in s.lines:
            check(read(j["output"]) == expected_output(j["input"], "--allow", "image"), "%s differs" % j["output"])
        out2 = os.path.join(d, "out2")
        s = scan_ok("--allow", "gif,bmp", "--out", out2, t)
        names = {os.path.relpath(j["input"], t): os.path.relpath(j["output"], out2) for j in s.lines if "output" in j}
        check(names == {"a.bmp": "a.png", "a.gif": "a~2.png", "sub/y.BMP": "sub/y.png"}, "names %r" % names)


@test("scan --help names .webp and says GIF, BMP and TIFF files become .png")
def _():
    text = subprocess.run([AIRLOCK, "scan", "--help"], capture_output=True, timeout=60).stdout.decode()
    check(".webp" in text and "GIF, BMP and TIFF files become .png" in text, "%r" % text)


# ---- the public corpus ----

@test("the whole public corpus with --jobs 2: a verdict for every regular file, no error line")
def _():
    if not os.path.isdir(SHARED):
        raise Skip("no public corpus at %s" % SHARED)
    regular = 0
    for d, _dirs, files in os.walk(SHARED):
        regular += sum(1 for n in files if stat.S_ISREG(os.lstat(os.path.join(d, n)).st_mode))
    s = scan("--jobs", "2", SHARED, timeout=300)
    check(s.rc == EXIT_OK, "%r" % (s,))
    check_consistent(s)
    errors = [j for j in s.lines if j["status"] == "error"]
    check(not errors, "%d error lines, first %r" % (len(errors), errors[:1]))
    check(s.summary["files"] == regular and s.summary["skipped"] == 0,
          "summary files %d, regular files %d" % (s.summary["files"], regular))
    sandbox = [j for j in s.lines if j["error"] in SANDBOX_ERRORS]
    check(not sandbox, "sandbox events on the public corpus: %r" % sandbox[:3])
    print("# public corpus summary: %s" % json.dumps(s.summary))
    print("# public corpus wall time: %.1f s with --jobs 2" % s.wall)


# ---- runner ----

def main():
    try:
        return run_tests()
    finally:
        cleanup_manifest_scan()


if __name__ == "__main__":
    sys.exit(main())
