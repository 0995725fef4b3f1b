# SPDX-License-Identifier: MIT
"""Expected video frames and facts from the ffmpeg and ffprobe CLIs (Debian 12's FFmpeg 5.1), never
from airlock: the independent side of the video tests, and the source of corpus/video.tsv's facts
(corpus/gen_video.sh calls `row`).

- probe(path): the first video stream's facts (the manifest's columns), as a Probe.
- pts_us(path): every decoded frame's best-effort pts relative to the first, in microseconds.
- frames(path, indices, size=None, rotate=True, chroma="swscale"): the chosen decoded frames as
  RGB24, a uint8 numpy array (T, H, W, 3) in the order of `indices`.

How frames() converts, to match airlock's video contract (libswscale, convert then rotate):

    ffmpeg -noautorotate -threads 1 -i PATH -map 0:v:0 -an -sn -dn
           -vf "select='eq(n\\,I1)+eq(n\\,I2)+...',scale=W:H:flags=bicubic
                :in_color_matrix=auto:in_range=auto,format=rgb24"
           -fps_mode passthrough -f rawvideo -pix_fmt rgb24 -

  - `n` counts frames as the decoder outputs them (presentation order; frames an edit list
    discards never reach the filter), from 0.
  - The one scale filter does the YUV to RGB24 conversion itself (format=rgb24 after it makes it
    negotiate rgb24), with the flags above, also at the source size (a plain conversion). The
    matrix is the frame's (BT.601 unless it is tagged otherwise, e.g. BT.709), the range the
    frame's (limited unless tagged full).
  - Chroma siting: chroma="swscale" (the default) leaves it to libswscale 5.1, which takes every
    subsampled chroma plane as centred between its luma samples (what a bare sws_getContext()
    does, and ffmpeg 5.1's scale filter on progressive frames). chroma="frame" passes the stream's
    chroma_location (H.264 and HEVC say "left") as in_h_chr_pos/in_v_chr_pos for the subsampled
    directions, as newer FFmpeg does by itself: with it these frames equal PyAV 18's (FFmpeg 8,
    sws_scale_frame) bit for bit on every corpus/video fixture at the source size; with the
    default they differ by up to ~150 on testsrc2's sharp colour edges (mean ~3.3) wherever the
    stream says "left". Streams that say nothing (VP8, VP9, AV1 here) are the same either way.
  - -noautorotate, and the RGB frame turned afterwards with numpy, counter-clockwise by the
    display matrix's angle (np.rot90(frame, rotation // 90)): the direction ffmpeg's autorotate
    turns it, and the order airlock's contract has (convert, then rotate). ffmpeg's autorotate
    instead turns the YUV planes before converting, which is not the same arithmetic: up to 18
    apart at the source size on corpus/video/h264_rot90.mp4 (9 for rot180).
  - `size` is (width, height) of the output, after the turn: for 90 and 270 the frame is scaled
    to (height, width) before it is turned.

The CLI (python3 videoref.py COMMAND ...):

    row FILE                       the manifest columns from container to last_pts_us, tab-separated
    probe FILE                     probe() as JSON
    pts FILE                       pts_us(), one a line
    frames FILE I,J,.. [--size WxH] [--no-rotate] [--chroma frame] [-o OUT]
                                   the raw RGB24 frames (to OUT, else stdout)
    check MANIFEST                 every row's facts recomputed; exit 1 on a difference
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

FFMPEG = os.environ.get("AIRLOCK_FFMPEG", "ffmpeg")
FFPROBE = os.environ.get("AIRLOCK_FFPROBE", "ffprobe")
SCALE_FLAGS = "bicubic"

PathLike = Union[str, "os.PathLike[str]"]

# ffprobe's format_name as airlock's type.
CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "matroska"}


@dataclass(frozen=True)
class Probe:
    """The facts of corpus/video.tsv (the columns container to last_pts_us), all from ffprobe."""

    container: str  # "mp4", "matroska", else ffprobe's format_name
    codec: str  # codec_name
    pix_fmt: str
    color_range: str  # as ffprobe prints them: tv, pc, unknown ...
    color_space: str  # bt709, smpte170m, unknown ...
    chroma_location: str  # left, center, unspecified ...
    width: int  # the decoded frame, before rotation
    height: int
    rotation: int  # the display matrix's angle as ffprobe prints it (counter-clockwise), 0 without
    frames: int  # nb_read_frames of -count_frames
    packets: int  # nb_read_packets of -count_packets
    avg_frame_rate: str  # "num/den" as ffprobe prints it
    r_frame_rate: str
    time_base: str
    start_us: int  # the first decoded frame's best-effort pts, microseconds
    last_pts_us: int  # the last one's minus the first's, microseconds

    @property
    def turn(self) -> int:
        """The counter-clockwise turn that displays a frame, in {0, 90, 180, 270}."""
        return self.rotation % 360

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) after the turn."""
        return (self.height, self.width) if self.turn in (90, 270) else (self.width, self.height)

    def row(self) -> str:
        return "\t".join(str(v) for v in dataclasses.astuple(self))


def _run(cmd: Sequence[str]) -> bytes:
    p = subprocess.run(list(cmd), stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode(errors='replace').strip()}")
    return p.stdout


def _rescale_us(ticks: int, time_base: str) -> int:
    """ticks x time_base in microseconds, to nearest, ties away from zero (av_rescale_q)."""
    num, den = (int(x) for x in time_base.split("/"))
    q, r = divmod(abs(ticks) * num * 1_000_000, den)
    q += 2 * r >= den
    return q if ticks >= 0 else -q


def _stream(path: PathLike) -> dict[str, Any]:
    out = _run(
        [FFPROBE, "-v", "error", "-select_streams", "v:0", "-count_frames", "-count_packets", "-show_entries",
         "format=format_name:stream=codec_name,pix_fmt,color_range,color_space,chroma_location,width,height,"
         "avg_frame_rate,r_frame_rate,time_base,nb_read_frames,nb_read_packets"
         ":stream_side_data=side_data_type,rotation", "-of", "json", os.fspath(path)]
    )  # fmt: skip
    info = json.loads(out)
    streams = info.get("streams") or []
    if not streams:
        raise ValueError(f"{path}: no video stream")
    s: dict[str, Any] = streams[0]
    s["format_name"] = info["format"]["format_name"]
    return s


def _timestamps(path: PathLike) -> list[int]:
    """best_effort_timestamp of every decoded frame of the first video stream, in ticks."""
    out = _run(
        [FFPROBE, "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=best_effort_timestamp",
         "-of", "json", os.fspath(path)]
    )  # fmt: skip
    ts = []
    for f in json.loads(out).get("frames", []):
        t = f.get("best_effort_timestamp")
        if not isinstance(t, int):
            raise ValueError(f"{path}: a frame without a best-effort timestamp")
        ts.append(t)
    return ts


def probe(path: PathLike) -> Probe:
    """The first video stream's facts, from ffprobe (two runs: the counts, then the frames)."""
    s = _stream(path)
    rotation = 0
    for sd in s.get("side_data_list", []):
        if sd.get("side_data_type") == "Display Matrix":
            rotation = int(sd["rotation"])
    ts = _timestamps(path)
    if not ts:
        raise ValueError(f"{path}: no frame decoded")
    tb = str(s["time_base"])
    return Probe(
        container=CONTAINERS.get(s["format_name"], s["format_name"]),
        codec=str(s["codec_name"]),
        pix_fmt=str(s["pix_fmt"]),
        color_range=str(s.get("color_range", "unknown")),
        color_space=str(s.get("color_space", "unknown")),
        chroma_location=str(s.get("chroma_location", "unspecified")),
        width=int(s["width"]),
        height=int(s["height"]),
        rotation=rotation,
        frames=int(s["nb_read_frames"]),
        packets=int(s["nb_read_packets"]),
        avg_frame_rate=str(s["avg_frame_rate"]),
        r_frame_rate=str(s["r_frame_rate"]),
        time_base=tb,
        start_us=_rescale_us(ts[0], tb),
        last_pts_us=_rescale_us(ts[-1] - ts[0], tb),
    )


def pts_us(path: PathLike) -> list[int]:
    """Every decoded frame's best-effort pts minus the first's, in microseconds, in output order."""
    s = _stream(path)
    ts = _timestamps(path)
    return [_rescale_us(t - ts[0], str(s["time_base"])) for t in ts]


# av_chroma_location_enum_to_pos(): (x, y) in 1/256 of a luma sample, libswscale's units.
CHROMA_POS = {"left": (0, 128), "center": (128, 128), "topleft": (0, 0), "top": (128, 0),
              "bottomleft": (0, 256), "bottom": (128, 256)}  # fmt: skip


def _subsampled(pix_fmt: str) -> tuple[bool, bool]:
    """Whether the chroma planes are halved horizontally, vertically (4:2:0 and 4:2:2 kinds)."""
    if "420" in pix_fmt or pix_fmt.startswith(("nv12", "nv21", "p010", "p016")):
        return True, True
    if "422" in pix_fmt or pix_fmt.startswith(("nv16", "p210", "p216")):
        return True, False
    return False, False


def _chroma_opts(p: Probe, chroma: str) -> str:
    if chroma == "swscale":
        return ""
    if chroma != "frame":
        raise ValueError(f"chroma must be 'swscale' or 'frame', not {chroma!r}")
    pos = CHROMA_POS.get(p.chroma_location)
    if pos is None:
        return ""
    h, v = _subsampled(p.pix_fmt)
    return (f":in_h_chr_pos={pos[0]}" if h else "") + (f":in_v_chr_pos={pos[1]}" if v else "")


def _select(indices: Sequence[int]) -> str:
    return "select='" + "+".join(f"eq(n\\,{i})" for i in indices) + "'"


def frames(
    path: PathLike,
    indices: Sequence[int],
    size: tuple[int, int] | None = None,
    rotate: bool = True,
    chroma: str = "swscale",
) -> Any:
    """The decoded frames numbered `indices` (0-based, output order) as a uint8 numpy array
    (len(indices), H, W, 3), RGB24, converted as the module docstring says. `size` is the
    output (width, height) after rotation; None keeps the source size. rotate=False ignores the
    display matrix (and `size` is then the source orientation's). chroma: "swscale" or "frame"."""
    import numpy as np

    want = sorted(set(int(i) for i in indices))
    if not want or want[0] < 0:
        raise ValueError(f"bad indices {list(indices)}")
    p = probe(path)
    turn = p.turn if rotate else 0
    if size is None:
        w, h = p.width, p.height
    else:
        w, h = (size[1], size[0]) if turn in (90, 270) else size
    vf = (
        f"{_select(want)},scale=w={w}:h={h}:flags={SCALE_FLAGS}:in_color_matrix=auto:in_range=auto"
        f"{_chroma_opts(p, chroma)},format=rgb24"
    )
    raw = _run(
        [FFMPEG, "-nostdin", "-v", "error", "-noautorotate", "-threads", "1", "-i", os.fspath(path),
         "-map", "0:v:0", "-an", "-sn", "-dn", "-vf", vf, "-fps_mode", "passthrough", "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"]
    )  # fmt: skip
    size1 = w * h * 3
    if len(raw) != size1 * len(want):
        raise ValueError(f"{path}: {len(raw) // size1} frames out for indices {want} ({p.frames} frames)")
    got = np.frombuffer(raw, dtype=np.uint8).reshape(len(want), h, w, 3)
    if turn:
        got = np.rot90(got, turn // 90, axes=(1, 2))
    pos = {i: k for k, i in enumerate(want)}
    return np.ascontiguousarray(got[[pos[int(i)] for i in indices]])


# ---------------------------------------------------------------------------------------------
# CLI


def _check(manifest: Path) -> int:
    root = manifest.resolve().parent.parent
    bad = 0
    n = 0
    with open(manifest, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            want = "\t".join(cols[1:17])
            got = probe(root / cols[0]).row()
            n += 1
            if got != want:
                bad += 1
                print(f"{cols[0]}:\n  manifest {want}\n  ffprobe  {got}")
    print(f"{n} rows, {bad} differ")
    return 1 if bad else 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("row", "probe", "pts"):
        sub.add_parser(name).add_argument("file")
    fr = sub.add_parser("frames")
    fr.add_argument("file")
    fr.add_argument("indices", help="comma-separated frame numbers")
    fr.add_argument("--size", help="WxH after rotation")
    fr.add_argument("--no-rotate", action="store_true")
    fr.add_argument("--chroma", choices=("swscale", "frame"), default="swscale")
    fr.add_argument("-o", "--output")
    sub.add_parser("check").add_argument("manifest")
    a = ap.parse_args(argv)
    if a.cmd == "row":
        print(probe(a.file).row())
    elif a.cmd == "probe":
        print(json.dumps(dataclasses.asdict(probe(a.file))))
    elif a.cmd == "pts":
        print("\n".join(str(t) for t in pts_us(a.file)))
    elif a.cmd == "frames":
        size = None
        if a.size:
            sw, sh = a.size.lower().split("x")
            size = (int(sw), int(sh))
        arr = frames(a.file, [int(i) for i in a.indices.split(",")], size, rotate=not a.no_rotate, chroma=a.chroma)
        if a.output:
            Path(a.output).write_bytes(arr.tobytes())
        else:
            sys.stdout.buffer.write(arr.tobytes())
    else:
        return _check(Path(a.manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
