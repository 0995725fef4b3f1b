#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the fuzzing seeds airlock commits under corpus/fuzz/ (docs/fuzzing.md).

usage: fuzz/gen_seeds.py [ROOT]   (ROOT: the source tree; default: this file's parent's parent)

png/, jpeg/, audio/: small files from corpus/images and corpus/audio with the
trailer (fuzz/fuzz.h) that sets each harness's flags, so a run starts out
exploring them. media/: the same twins of the small MP4 and Matroska files
there (made once by ffmpeg, as the comment above media() says) and of
corpus/media's, once it exists, and for a file with video two more that ask
for its video track. frame/: frame headers as workers send them,
good and bad, with payloads. cli/: argument lists for the option parsers. Deterministic:
running it twice gives the same bytes. Beside the seeds live files this
script leaves alone: repro-*, reproducers of findings, and cov-*, what the
long runs reached (their corpora merged with -merge=1, less the seeds).
"""
import os
import struct
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "corpus", "fuzz")


def trailer(a, b):
    return bytes([0xA1, 0xF2, a, b])


def write(kind, name, data):
    d = os.path.join(OUT, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(*path):
    with open(os.path.join(ROOT, "corpus", *path), "rb") as f:
        return f.read()


def images():
    pngs = ["rgb8_1x1.png", "grey1.png", "adam7_rgba16_9x9.png", "adam7_pal4_37x3.png", "apng_3frames.png"]
    for i, name in enumerate(pngs):
        data = read("images", name)
        # keep_alpha, background, the 4096-pixel cap, CRCs rewritten, every orientation across the set.
        for a, b in ((0, 0), (1, 5), (6, 7), (0x19, 2 + i)):
            write("png", f"{name[:-4]}_a{a}_b{b}", data + trailer(a, b))
    jpgs = ["jpeg_grey.jpg", "jpeg_arithmetic.jpg", "jpeg_truncated_scan.jpg"]
    jpgs += sorted(n for n in os.listdir(os.path.join(ROOT, "corpus", "images"))
                   if n.endswith(".jpg") and "exif" in n and os.path.getsize(os.path.join(ROOT, "corpus", "images", n)) < 8192)[:4]
    for i, name in enumerate(jpgs):
        data = read("images", name)
        for a, b in ((0, 0), (1, 4), (8, 6 + i)):
            write("jpeg", f"{name[:-4]}_a{a}_b{b}", data + trailer(a, b))


AUDIO_TYPES = ["wav", "flac", "vorbis", "opus", "mp3", "aiff"]


def audio():
    # The files themselves replay from corpus/audio; these are their flagged twins.
    d = os.path.join(ROOT, "corpus", "audio")
    small = sorted(n for n in os.listdir(d) if os.path.getsize(os.path.join(d, n)) <= 12 * 1024)
    for name in small:
        data = read("audio", name)
        ext = name.rsplit(".", 1)[-1]
        t = {"aifc": "aiff", "ogg": "vorbis"}.get(ext, ext)
        if t in AUDIO_TYPES:
            # s16, mono, 16 kHz, ADPCM allowed, in turn; the type the file is.
            h = sum(name.encode()) & 0xFF
            crc = 0x80 if t in ("vorbis", "opus") else 0  # Ogg page CRCs rewritten
            out = (h >> 5 & 3) << 3  # encoded to nothing, WAV, FLAC or raw
            write("audio", name + ".flags", data + trailer((h & 0x1F) | 0x20 | crc, AUDIO_TYPES.index(t) | out))


MEDIA_TYPES = {".m4a": 0, ".mp4": 0, ".mov": 0, ".mka": 1, ".mkv": 1, ".webm": 1}  # b bit 0: MP4, Matroska

# The plain media seeds in corpus/fuzz/media, each under 8 KB, were made once by Debian 12's ffmpeg 5.1
# (ffmpeg output is not byte-stable across versions, so this script does not remake them): with
# S="-f lavfi -i sine=frequency=F:sample_rate=R:duration=D" and BE="-fflags +bitexact -flags:a +bitexact
# -map_metadata -1", e.g. `ffmpeg $S -c:a aac -b:a 16k $BE aac_mono_8k.m4a` (F 440, R 8000, D 0.25); the
# others in the same way: aac_stereo_44k.m4a (-ac 2), aac_51.m4a (-af pan=5.1|c0=c0|...|c5=c0),
# aac_two_tracks.mkv (two sines, -map 0 -map 1), aac_tagged.mka (-metadata title=t, language eng),
# aac_fragmented.mp4 (-movflags frag_keyframe+empty_moov+default_base_moof), aac_cover.m4a (an 8x8 MJPEG
# -disposition:v attached_pic), alac_mono_8k.m4a, flac_mono_8k.mka, flac_mono_8k.mp4 (-strict -2),
# flac_96k.mka, opus_mono.webm and opus_mono.mp4 (libopus 6k), vorbis_mono_8k.webm and vorbis_stereo.mka
# (libvorbis -q:a 0), mp3_mono_8k.mka and mp3_mono_16k.mp4 (libmp3lame 8k), video_aac.mp4 and
# video_opus.mkv (a 16x16 mpeg4 video track beside the audio, -shortest), and the refused codecs ac3.mp4,
# mp2.mka, pcm.mov (pcm_s16le).
#
# The video seeds (video_*.mp4/.mkv/.webm but the two above, under 5 KB each) were made the same way by
# Debian 12's ffmpeg 5.1.9 with V="-f lavfi -i testsrc2=size=32x32:rate=5:duration=1" (5 frames) and
# VE="-fflags +bitexact -flags:v +bitexact -map_metadata -1 -an":
#   video_h264_32x32.mp4       ffmpeg $V -c:v libx264 -preset ultrafast -crf 45 -pix_fmt yuv420p $VE
#   video_hevc_32x32.mp4       ffmpeg $V -c:v libx265 -preset ultrafast -crf 51 -tag:v hvc1 $VE
#   video_vp8_32x32.webm       ffmpeg $V -c:v libvpx -crf 60 -b:v 100k -deadline realtime -cpu-used 16 $VE
#   video_vp9_32x32.webm       ffmpeg $V -c:v libvpx-vp9 -crf 60 -b:v 0 -deadline realtime -cpu-used 8 $VE
#   video_av1_32x32.mkv        ffmpeg $V -c:v libaom-av1 -crf 63 -cpu-used 8 -usage realtime $VE
#   video_vp9_10bit_709_full.webm  as vp9, -pix_fmt yuv420p10le -color_range pc -colorspace bt709
#                                  -color_primaries bt709 -color_trc bt709
#   video_h264_444_33x17.mkv   testsrc2 32x16, -vf scale=33:17, libx264 -pix_fmt yuv444p (odd sides)
#   video_h264_bframes_20.mp4  testsrc2 at rate=10:duration=2 (20 frames), libx264 -preset veryfast -bf 2
#   video_h264_1frame.mkv      testsrc2 16x16 at rate=1:duration=1 (one frame)
#   video_h264_fragmented.mp4  as h264, -movflags frag_keyframe+empty_moov+default_base_moof
#   video_h264_aac.mp4         as h264 with a second input, sine at 8 kHz, -c:a aac -b:a 16k (tracks_dropped)
#   video_h264_rot90.mp4       testsrc2 24x16 as h264, then `ffmpeg -i IN -c copy -metadata:s:v:0 rotate=90`
#                              (a display matrix: shown 16x24)


def media():
    # corpus/media's twins are named apart, so that a fixture named as a seed here overwrites nothing.
    sources = [(os.path.join(ROOT, "corpus", "fuzz", "media"), ""), (os.path.join(ROOT, "corpus", "media"), "media-")]
    for d, prefix in ((s, p) for s, p in sources if os.path.isdir(s)):
        for name in sorted(os.listdir(d)):
            ext = os.path.splitext(name)[1]
            path = os.path.join(d, name)
            if ext not in MEDIA_TYPES or os.path.getsize(path) > 8 * 1024:
                continue
            with open(path, "rb") as f:
                data = f.read()
            # s16, mono, the output rate, a 1 s cap and tight caps in turn; the track of any container.
            h = sum(name.encode()) & 0xFF
            a = (h & 0x1F) | 0x20 | (h & 0x40) | (0x80 if h % 5 == 0 else 0)
            out = (h >> 5 & 3) << 1  # encoded to nothing, WAV, FLAC or raw
            write("media", prefix + name + ".flags", data + trailer(a, MEDIA_TYPES[ext] | out))
            if "video" in name or name.startswith(("h264", "vp9", "hevc", "av1")):
                # The video track (b bit 3): once with the defaults, once with the knobs the name's sum picks.
                write("media", prefix + name + ".video", data + trailer(0, MEDIA_TYPES[ext] | 0x08))
                g = (h * 37 + len(name)) & 0xFF
                write("media", prefix + name + ".video2", data + trailer(h, MEDIA_TYPES[ext] | 0x08 | (g & 0xF6)))


FRAME_MAGIC = 0x4652414C
FRAME_VERSION = 2  # sandbox/proto.h; the last 8 bytes are mime (unsupported frames only) and reserved


def header(status=0, kind=0, fmt=0, type_=0, w=0, h=0, ch=0, rate=0, frames=0, changes=0, limit=0, plen=0,
           magic=FRAME_MAGIC, version=FRAME_VERSION, mime=0, reserved=0):
    return struct.pack("<IHHHHIIIIIQIIQII", magic, version, status, kind, fmt, type_, w, h, ch, rate, frames,
                       changes, limit, plen, mime, reserved)


def video_frame(seen, fps, src, rot, idx, pts, out, changes=0, type_=13, duration=None, pad=0, block_extra=b"",
                frames=None):
    """A video frame as decoders/video.h lays it out: header, pixels, padding, entries, the 64-byte block."""
    w, h = out
    t = len(idx)
    pixels = bytes((i * 7 + 1) & 0xFF for i in range(t * w * h * 3))
    padding = bytes((-len(pixels)) % 8)
    if pad:
        padding = bytes([pad]) + padding[1:]
    entries = b"".join(struct.pack("<qQ", p, i) for p, i in zip(pts, idx))
    block = struct.pack("<QQIIIII", seen, pts[-1] + 40000 if duration is None else duration, fps[0], fps[1],
                        src[0], src[1], rot)
    block += block_extra + bytes(64 - len(block) - len(block_extra))
    payload = pixels + padding + entries + block
    return header(kind=3, fmt=1, type_=type_, w=w, h=h, ch=3, frames=t if frames is None else frames,
                  changes=changes, plen=len(payload)) + payload


def video_frames():
    # b bit 2: the request asked for the video track; bits 3-4 the rule; bit 5 a 256-pixel budget; bit 6 tight caps.
    v3 = dict(seen=3, fps=(25, 1), src=(2, 2), rot=0, idx=[0, 1, 2], pts=[0, 40000, 80000], out=(2, 2))
    seeds = {
        # vLLM's rule takes all 3 frames (range(n)); 36 bytes of pixels, 4 of padding.
        "video_vllm_3": video_frame(**v3) + trailer(0, 0x04),
        # Turned 90 degrees: 3x2 shown 2x3, from Matroska with other tracks and metadata dropped.
        "video_rot90_matroska": video_frame(2, (30000, 1001), (3, 2), 90, [0, 1], [0, 33367], (2, 3),
                                            changes=0x10003, type_=14) + trailer(0, 0x04),
        # 20x20 under the 256-pixel budget: 16x16, downscaled; rate unknown, one frame, duration 0.
        "video_downscaled": video_frame(1, (0, 0), (20, 20), 0, [0], [0], (16, 16), changes=1 << 17, duration=0)
        + trailer(0, 0x24),
        # Qwen3-VL: 10 frames at 5 fps, 2 fps asked: 4 frames, linspace(0, 9, 4).round().
        "video_qwen3": video_frame(10, (5, 1), (1, 1), 0, [0, 3, 6, 9], [0, 600000, 1200000, 1800000], (1, 1))
        + trailer(0, 0x14),
        # vLLM's 20 frames capped at 8: linspace(0, 19, 8, dtype=int).
        "video_cap8": video_frame(20, (10, 1), (1, 1), 0, [0, 2, 5, 8, 10, 13, 16, 19],
                                  [i * 100000 for i in [0, 2, 5, 8, 10, 13, 16, 19]], (1, 1)) + trailer(0, 0x44),
        # Lies, each on the first one.
        "video_track_not_asked": video_frame(**v3),
        "video_bad_index": video_frame(**dict(v3, idx=[0, 2, 2])) + trailer(0, 0x04),
        "video_bad_padding": video_frame(**v3, pad=1) + trailer(0, 0x04),
        "video_pts0_not_0": video_frame(**dict(v3, pts=[1, 40000, 80000])) + trailer(0, 0x04),
        "video_rotation_45": video_frame(**dict(v3, rot=45)) + trailer(0, 0x04),
        "video_fps_1001": video_frame(**dict(v3, fps=(1001, 1))) + trailer(0, 0x04),
        "video_reserved_byte": video_frame(**v3, block_extra=b"\x01") + trailer(0, 0x04),
        "video_t_over": video_frame(**dict(v3, idx=[0, 1, 2, 2], pts=[0, 40000, 80000, 80000])) + trailer(0, 0x04),
        "video_downscaled_bit_missing": video_frame(1, (0, 0), (20, 20), 0, [0], [0], (16, 16), duration=0)
        + trailer(0, 0x24),
    }
    for name, data in seeds.items():
        write("frame", name, data)


def frames():
    px = bytes(range(48))
    seeds = {
        "image_rgb_4x4": header(kind=1, fmt=1, type_=1, w=4, h=4, ch=3, plen=48) + px,
        "image_rgba_2x3": header(kind=1, fmt=1, type_=2, w=2, h=3, ch=4, plen=24) + px[:24] + trailer(1, 0),
        "image_tight_caps": header(kind=1, fmt=1, type_=1, w=64, h=1, ch=3, plen=192) + bytes(192) + trailer(0, 1),
        # The image types of 0.5.0 (WebP 9, GIF 10, BMP 11; TIFF 12 with the image allowlist of trailer a=0x20).
        "image_webp": header(kind=1, fmt=1, type_=9, w=2, h=2, ch=3, plen=12) + px[:12],
        "image_gif": header(kind=1, fmt=1, type_=10, w=1, h=4, ch=3, plen=12) + px[:12],
        "image_bmp": header(kind=1, fmt=1, type_=11, w=4, h=1, ch=3, plen=12) + px[:12],
        "image_tiff_allowed": header(kind=1, fmt=1, type_=12, w=2, h=2, ch=3, plen=12) + px[:12] + trailer(0x20, 0),
        "error_unsupported_mime": header(status=6, type_=0, mime=1),
        "bad_mime_on_success": header(kind=1, fmt=1, type_=1, w=1, h=1, ch=3, plen=3, mime=1) + b"abc",
        "bad_version_1": header(kind=1, fmt=1, type_=1, w=1, h=1, ch=3, plen=3, version=1) + b"abc",
        "image_changes": header(kind=1, fmt=1, type_=2, w=1, h=1, ch=3, changes=0x7FF, plen=3) + b"\x01\x02\x03",
        "audio_f32": header(kind=2, fmt=3, type_=3, ch=2, rate=44100, frames=4, plen=32) + struct.pack("<8f", *[0.5] * 8),
        "audio_f32_nan": header(kind=2, fmt=3, type_=4, ch=1, rate=8000, frames=2, plen=8) + struct.pack("<2I", 0, 0x7FC00000),
        "audio_s16_mono": header(kind=2, fmt=2, type_=7, ch=1, rate=16000, frames=4, changes=0x1C, plen=8)
        + struct.pack("<4h", -32768, 0, 1, 32767) + trailer(0x0A | 0x04, 2),
        "audio_s16_16k": header(kind=2, fmt=2, type_=6, ch=2, rate=16000, frames=2, changes=0x08, plen=8)
        + bytes(8) + trailer(0x0A, 0),
        "error_malformed": header(status=2, type_=1),
        "error_limit": header(status=3, type_=2, limit=2),
        "bad_magic": header(magic=0x4652414D, kind=1, fmt=1, type_=1, w=1, h=1, ch=3, plen=3) + b"abc",
        "bad_overflow": header(kind=1, fmt=1, type_=1, w=0xFFFFFFFF, h=0xFFFFFFFF, ch=3, plen=(2**64 - 1)),
        "audio_huge_frames": header(kind=2, fmt=3, type_=5, ch=8, rate=192000, frames=2**61, plen=0),
    }
    for name, data in seeds.items():
        write("frame", name, data)


def cli():
    seeds = {
        "plain": ["in.png", "-o", "out.png"],
        "json_limits": ["--json", "--max-width", "100", "--max-pixels=5000", "--timeout-ms", "10", "in.jpg"],
        "audio": ["--rate", "16000", "--mono", "--sample-format", "f32", "--to", "wav", "-o", "-", "-"],
        "allow_expect": ["--allow", "png,jpeg,wav", "--expect", "jpeg", "--keep-alpha", "--background", "00ff00", "x"],
        "log_strict": ["--log", "events.log", "--strict-sandbox", "--extra-codecs", "--max-channels", "2", "--", "-x"],
        "bad_number": ["--max-bytes", "18446744073709551616", "in"],
        "scan": ["scan", "--jobs", "2", "--out", "clean", "--to", "png", "dir1", "dir2"],
        "scan_json": ["scan", "--json", "--max-seconds=30", "--", "--odd-name"],
        "help": ["--help"],
        "version": ["scan", "--version"],
    }
    for name, args in seeds.items():
        write("cli", name, b"\0".join(a.encode() for a in args))


images()
audio()
media()
frames()
video_frames()
cli()
