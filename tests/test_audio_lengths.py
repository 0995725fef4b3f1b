#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Audio lengths against independent decoders (issue 13).

Usage: test_audio_lengths.py AIRLOCK_BINARY SOURCE_ROOT

Prints TAP. For every row of corpus/lengths.tsv (written by
corpus/gen_lengths.py) two tests:

- airlock decodes the file (--json --to raw --sample-format f32) with the
  row's outcome, rate and channel count, the change flags the row demands,
  and as many frames as the row's reference decoder gives when it is run
  now, within the row's tolerance;
- the manifest still holds: ffmpeg and the format's own tool, run now, give
  the frame counts recorded in the row.

The reference decoders (ffmpeg, flac, oggdec, opusdec, mpg123, sox) are
required: a missing one fails its tests, it does not skip them. Standard
library only; the generator imports reference_frames() and read_manifest()
from here, so the manifest and the test measure the same way.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tapcheck import Failure, check, run_tests, test  # noqa: E402

MIME_TYPES = {
    "audio/wav": "wav",
    "audio/flac": "flac",
    "audio/ogg": "vorbis",
    "audio/opus": "opus",
    "audio/mpeg": "mp3",
    "audio/aiff": "aiff",
}
COLUMNS = ["path", "type", "outcome", "flags", "rate", "channels", "ffmpeg", "tool", "tool_frames", "ref",
           "tolerance", "why_tolerance", "others", "description"]
TIMEOUT = 120


def flac_bits(path):
    """Bits per sample from the STREAMINFO of one of our own FLAC fixtures."""
    with open(path, "rb") as f:
        b = f.read(26)
    check(len(b) == 26 and b[:4] == b"fLaC" and b[4] & 0x7F == 0, "%s does not start with STREAMINFO" % path)
    return (((b[20] & 1) << 4) | (b[21] >> 4)) + 1


def tool_command(tool, path, rate, channels):
    """(argv, bytes per frame of what argv writes to stdout)."""
    if tool == "ffmpeg":
        return (["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "f32le", "-ac", str(channels), "-"],
                4 * channels)
    if tool == "flac":
        # Raw, not WAV: flac writes a WAV header from STREAMINFO's (wrong) total.
        bits = flac_bits(path)
        return (["flac", "-d", "-c", "-s", "--force-raw-format", "--endian=little", "--sign=signed", path],
                (bits + 7) // 8 * channels)
    if tool == "oggdec":
        return ["oggdec", "-Q", "-R", "-b", "16", "-o", "-", path], 2 * channels
    if tool == "opusdec":
        # --rate: libopus decodes at that rate directly; our fixtures are 48 kHz.
        return ["opusdec", "--quiet", "--float", "--rate", str(rate), path, "-"], 4 * channels
    if tool == "mpg123":
        return ["mpg123", "-q", "-s", path], 2 * channels
    if tool == "mpg123-nogapless":
        return ["mpg123", "-q", "--no-gapless", "-s", path], 2 * channels
    if tool == "sox":
        return ["sox", "-D", "-V1", path, "-t", "f32", "-"], 4 * channels
    raise Failure("unknown reference decoder %r" % tool)


def reference_frames(tool, path, rate, channels):
    """Frames per channel that tool decodes path to, now, as a string: a
    number, or "fail" when the tool exits non-zero having written nothing.

    A tool that is not installed is a Failure (CI installs them all). The
    exit status is otherwise ignored: flac exits 1 on a trailing tag or a
    STREAMINFO total it did not reach, after writing every sample it had.
    """
    argv, frame_bytes = tool_command(tool, path, rate, channels)
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
    except FileNotFoundError:
        raise Failure("reference decoder %s is not installed (needed: %s)" % (argv[0], " ".join(argv)))
    n = len(p.stdout)
    if n == 0 and p.returncode != 0:
        return "fail"
    check(n % frame_bytes == 0, "%s wrote %d bytes, not whole %d-byte frames" % (tool, n, frame_bytes))
    return str(n // frame_bytes)


def read_manifest(root):
    """The rows of corpus/lengths.tsv as dicts keyed by COLUMNS."""
    rows = []
    with open(os.path.join(root, "corpus", "lengths.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cells = line.split("\t")
            if len(cells) != len(COLUMNS):
                raise ValueError("lengths.tsv: %d cells, want %d: %r" % (len(cells), len(COLUMNS), line))
            rows.append(dict(zip(COLUMNS, cells)))
    return rows


def run_airlock(airlock, path):
    """(exit status, report dict, stdout bytes) of one raw f32 decode."""
    p = subprocess.run([airlock, "--json", "--to", "raw", "--sample-format", "f32", path],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT)
    text = p.stderr.decode("utf-8", "replace")
    try:
        report = json.loads(text)
    except ValueError:
        raise Failure("airlock exit %d, stderr is not one JSON report: %r" % (p.returncode, text[:300]))
    return p.returncode, report, p.stdout


def check_flags(row, changes):
    for flag in row["flags"].split(","):
        if flag == "-":
            continue
        if flag.startswith("!"):
            check(flag[1:] not in changes, "changes %r include %s, which must be absent" % (changes, flag[1:]))
        else:
            check(flag in changes, "changes %r lack %s" % (changes, flag))


def check_airlock(airlock, root, row):
    path = os.path.join(root, row["path"])
    rate, channels = int(row["rate"]), int(row["channels"])
    rc, rep, out = run_airlock(airlock, path)
    if row["outcome"] != "ok":
        check(rep.get("status") == "rejected" and rep.get("error") == row["outcome"],
              "airlock %s (%s), expected rejected: %s" % (rep.get("status"), rep.get("error"), row["outcome"]))
        return
    ref = reference_frames(row["ref"], path, rate, channels)
    check(rep.get("status") == "ok",
          "airlock %s: %s (exit %d); %s decodes %s frames" % (rep.get("status"), rep.get("error"), rc, row["ref"], ref))
    check(ref != "fail", "reference decoder %s failed on %s" % (row["ref"], row["path"]))
    got = MIME_TYPES.get(rep.get("type"))
    check(got == row["type"], "airlock detected %r, expected %s" % (rep.get("type"), row["type"]))
    check(rep.get("rate") == rate and rep.get("channels") == channels,
          "airlock gives %r Hz x %r channels, expected %d x %d" % (rep.get("rate"), rep.get("channels"), rate, channels))
    frames = rep.get("frames")
    check(isinstance(frames, int) and len(out) == frames * channels * 4,
          "airlock wrote %d bytes for %r frames of %d f32 channels" % (len(out), frames, channels))
    tol = int(row["tolerance"])
    check(abs(frames - int(ref)) <= tol,
          "airlock %d frames, %s %s (tolerance %d: %s)" % (frames, row["ref"], ref, tol, row["why_tolerance"]))
    check_flags(row, rep.get("changes", []))


def check_manifest(root, row):
    path = os.path.join(root, row["path"])
    rate, channels = int(row["rate"]), int(row["channels"])
    stale = []
    for tool, want in (("ffmpeg", row["ffmpeg"]), (row["tool"], row["tool_frames"])):
        now = reference_frames(tool, path, rate, channels)
        if now != want:
            stale.append("%s now %s, lengths.tsv says %s" % (tool, now, want))
    check(not stale, "; ".join(stale) + " (regenerate with corpus/gen_lengths.py)")


def register(airlock, root):
    for row in read_manifest(root):
        name = os.path.basename(row["path"])
        test("%s: %s; airlock matches %s" % (name, row["description"], row["ref"]))(
            lambda row=row: check_airlock(airlock, root, row))
        test("%s: ffmpeg and %s still give the recorded frames" % (name, row["tool"]))(
            lambda row=row: check_manifest(root, row))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.stderr.write("usage: test_audio_lengths.py AIRLOCK_BINARY SOURCE_ROOT\n")
        sys.exit(2)
    register(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]))
    sys.exit(run_tests())
