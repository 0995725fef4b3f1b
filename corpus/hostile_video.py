# SPDX-License-Identifier: MIT
"""Hostile MP4 and Matroska video files for corpus/gen_hostile.py (add(c, changes, MARKER, INJECT)).

Issue 18's video part: every row is replayed with track=2 (AIRLOCK_TRACK_VIDEO). The codec bits
are real: six small seed files made once with Debian 12's ffmpeg 5.1 (libx264 and libvpx-vp9
single-threaded, -bitexact, no metadata; SEEDS below holds each command line). They are committed
under corpus/hostile/ (four are control rows, the MPEG-4 Part 2 and Motion JPEG ones the
`unsupported` rows), and everything else is re-muxed from them here with the standard library
(the ISO BMFF and EBML writers of hostile_media.py and their own): the samples of the seeds,
sample tables, durations, timestamps and sizes written as each case needs, plus two kinds of coded
frame made here bit by bit, from the seeds' own parameter sets:
- an H.264 P slice that skips every macroblock (about 4 bytes: a copy of the previous frame), so
  thousands of real, decodable frames fit in a few KB;
- a VP9 show_existing_frame header (1 byte: show reference slot 0 again).
H.264 SPS fields (the coded size, VUI timing) and a VP9 key frame's size are rewritten in place.
So --large needs nothing but python3 and the committed seeds; only `--seeds DIR` runs ffmpeg.

Expected outcomes are PREDICTIONS written against the video contract of issue 18 (airlock's video
decoder did not exist when they were written): each row says why. What ffprobe and ffmpeg say about
each file was checked when the rows were written (`ffprobe -count_frames`, `ffmpeg -v warning
-err_detect explode -xerror -threads 1 -i F -f null -`) and is quoted in the descriptions.

Counts in the descriptions: `seen` is the frames decoded (airlock_video_info.frames_seen), `T`
the frames sampled under the row's options (vLLM's rule by default: num_frames 32).
"""

import os
import struct
import subprocess
import sys

from hostile_media import UNKNOWN, boxes, ebml_head, ebml_walk, el, fullbox, vint
from hostile_media import box as _box

MP4_T, MKV_T = "mp4", "matroska"
HERE = os.path.dirname(os.path.abspath(__file__))
SEED_DIR = os.path.join(HERE, "hostile")
VIDEO = "track=2"  # AIRLOCK_TRACK_VIDEO: the test's opts take numbers
CVE_COUNT = "CVE-2026-34755"  # vLLM's frame-count lie
CVE_FPS = "CVE-2026-105758"  # Qwen2-VL/Qwen3-VL fps and max_frames
# The test's classes are fixed (tests/test_hostile.c); header lies of video go to "structure" until a
# video_header_lie class exists (then this one name changes).
HEADER_LIE = "structure"


def box(typ, payload=b"", size=None):
    return _box(typ, payload, size)


# ---------------------------------------------------------------------------
# The seeds: made once with ffmpeg, committed, read back here

LAVFI = ["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"]
X264 = ["-c:v", "libx264", "-threads", "1", "-profile:v", "baseline", "-preset", "medium", "-crf", "40", "-g", "25",
        "-pix_fmt", "yuv420p"]
VPX = ["-c:v", "libvpx-vp9", "-threads", "1", "-crf", "50", "-b:v", "0", "-g", "25", "-pix_fmt", "yuv420p"]
PLAIN = ["-bitexact", "-map_metadata", "-1"]
SEEDS = {
    "vid_h264_control.mp4": ["testsrc=size=320x240:rate=25:duration=1"] + X264 + PLAIN,
    "vid_vp9_control.webm": ["testsrc=size=320x240:rate=25:duration=1"] + VPX + PLAIN,
    "vid_h264_16x16_control.mp4": ["testsrc=size=16x16:rate=25:duration=0.2"] + X264 + PLAIN,
    "vid_vp9_16x16_control.webm": ["testsrc=size=16x16:rate=25:duration=0.2"] + VPX + PLAIN,
    "vid_mpeg4.mp4": ["testsrc=size=64x48:rate=25:duration=0.2", "-c:v", "mpeg4", "-threads", "1", "-q:v", "10"]
    + PLAIN,
    "vid_mjpeg.mkv": ["testsrc=size=64x48:rate=25:duration=0.2", "-c:v", "mjpeg", "-threads", "1", "-q:v", "10",
                      "-pix_fmt", "yuvj420p"] + PLAIN,
}


def make_seeds(out):
    """Runs ffmpeg for every seed into out (the files committed under corpus/hostile/ came from this)."""
    os.makedirs(out, exist_ok=True)
    for name, args in SEEDS.items():
        subprocess.run(["ffmpeg", *LAVFI, *args, os.path.join(out, name)], check=True)


def seed(name):
    """A committed seed. They are inputs, not outputs: a lost one comes back from git, not from ffmpeg (another
    x264 or libvpx build would give other bytes, and the descriptions quote these)."""
    p = os.path.join(SEED_DIR, name)
    if not os.path.exists(p):
        sys.exit("%s is missing: git checkout corpus/hostile/%s (or, for new seeds, python3 corpus/hostile_video.py "
                 "--seeds DIR)" % (p, name))
    with open(p, "rb") as f:
        return f.read()


# ---------------------------------------------------------------------------
# ISO BMFF: reading a seed


def child(data, start, end, name, skip=0):
    """(payload start, end) of the first box called name in data[start:end]."""
    for typ, off, hdr, size in boxes(data, start, end):
        if typ == name:
            return off + hdr + skip, off + size
    raise KeyError(name)


def path(data, names):
    start, end = 0, len(data)
    skips = {b"stsd": 8, b"avc1": 78, b"mp4v": 78}
    for name in names.split(b"/"):
        start, end = child(data, start, end, name, skips.get(name, 0))
    return start, end


def full_payload(data, names):
    """A full box's payload after its version and flags."""
    s, e = path(data, names)
    return data[s + 4:e]


class Mp4Seed:
    """The samples, timing and avcC of the one video track of an ffmpeg-made MP4."""

    def __init__(self, data):
        stbl = b"moov/trak/mdia/minf/stbl"
        mdhd = full_payload(data, b"moov/trak/mdia/mdhd")
        self.timescale = struct.unpack(">I", mdhd[8:12])[0]
        stsz = full_payload(data, stbl + b"/stsz")
        const, n = struct.unpack(">II", stsz[:8])
        sizes = [const] * n if const else list(struct.unpack(">%dI" % n, stsz[8:8 + 4 * n]))
        stts = full_payload(data, stbl + b"/stts")
        self.deltas = []
        for i in range(struct.unpack(">I", stts[:4])[0]):
            count, delta = struct.unpack(">II", stts[4 + 8 * i:12 + 8 * i])
            self.deltas += [delta] * count
        stsc = full_payload(data, stbl + b"/stsc")
        runs = [struct.unpack(">III", stsc[4 + 12 * i:16 + 12 * i]) for i in range(struct.unpack(">I", stsc[:4])[0])]
        stco = full_payload(data, stbl + b"/stco")
        chunks = struct.unpack(">%dI" % struct.unpack(">I", stco[:4])[0], stco[4:])
        self.samples = []
        for ci, off in enumerate(chunks):
            per = [r[1] for r in runs if r[0] <= ci + 1][-1]
            for _ in range(per):
                if len(self.samples) == n:
                    break
                size = sizes[len(self.samples)]
                self.samples.append(data[off:off + size])
                off += size
        assert len(self.samples) == n == len(self.deltas)
        try:
            stss = full_payload(data, stbl + b"/stss")
            self.sync = list(struct.unpack(">%dI" % struct.unpack(">I", stss[:4])[0], stss[4:]))
        except KeyError:
            self.sync = None
        s, e = path(data, stbl + b"/stsd")
        self.entry = data[s:e]  # the whole sample entry box (avc1 or mp4v)
        self.width, self.height = struct.unpack(">HH", self.entry[8 + 24:8 + 28])
        try:
            s, e = path(data, stbl + b"/stsd/avc1/avcC")
            self.avcc = data[s:e]
            n_sps = self.avcc[5] & 0x1F
            assert n_sps == 1
            ln = struct.unpack(">H", self.avcc[6:8])[0]
            self.sps = self.avcc[8:8 + ln]
            p = 8 + ln
            assert self.avcc[p] == 1
            ln2 = struct.unpack(">H", self.avcc[p + 1:p + 3])[0]
            self.pps = self.avcc[p + 3:p + 3 + ln2]
        except KeyError:
            self.avcc = None


def nals(sample):
    """The NAL units of a sample of 4-byte length-prefixed NALs."""
    out, off = [], 0
    while off < len(sample):
        n = struct.unpack(">I", sample[off:off + 4])[0]
        out.append(sample[off + 4:off + 4 + n])
        off += 4 + n
    assert off == len(sample)
    return out


def sample_of(nal_list):
    return b"".join(struct.pack(">I", len(n)) + n for n in nal_list)


def drop_sei(sample):
    """The sample without its SEI NAL units (x264 writes its version and options in one)."""
    return sample_of([n for n in nals(sample) if n[0] & 0x1F != 6])


# ---------------------------------------------------------------------------
# H.264 bits: RBSP, Exp-Golomb, SPS and PPS fields, an all-skip P slice


def rbsp(nal):
    """The RBSP of a NAL (its header byte dropped, emulation prevention removed)."""
    out, zeros = bytearray(), 0
    for b in nal[1:]:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def nal_from_rbsp(header, payload):
    out, zeros = bytearray([header]), 0
    for b in payload:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


class BitReader:
    def __init__(self, data):
        self.bits = "".join("{:08b}".format(b) for b in data)
        self.pos = 0

    def u(self, n):
        v = int(self.bits[self.pos:self.pos + n], 2) if n else 0
        self.pos += n
        return v

    def ue(self):
        z = 0
        while self.bits[self.pos] == "0":
            z += 1
            self.pos += 1
        self.pos += 1
        return (1 << z) - 1 + self.u(z)

    def se(self):
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


def ue_bits(v):
    b = "{:b}".format(v + 1)
    return "0" * (len(b) - 1) + b


def se_bits(v):
    return ue_bits(2 * v - 1 if v > 0 else -2 * v)


def u_bits(v, n):
    assert 0 <= v < (1 << n)
    return "{:0{}b}".format(v, n) if n else ""


def rbsp_bytes(bits):
    """bits (a '0'/'1' string without trailing bits) with the RBSP stop bit and alignment."""
    bits += "1"
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))


def strip_trailing(bits):
    return bits[:bits.rindex("1")]


class Sps:
    """The fields of an SPS this module reads or rewrites, and where they are."""

    def __init__(self, nal):
        self.header = nal[0]
        r = BitReader(rbsp(nal))
        self.bits = strip_trailing(r.bits)
        self.profile = r.u(8)
        r.u(16)  # constraint flags, level
        self.sps_id = r.ue()
        self.chroma_format = 1
        if self.profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
            self.chroma_format = r.ue()
            if self.chroma_format == 3:
                r.u(1)
            r.ue()
            r.ue()
            r.u(1)
            assert r.u(1) == 0, "no scaling matrices"
        self.log2_max_frame_num = r.ue() + 4
        self.poc_type = r.ue()
        assert self.poc_type in (0, 2)
        if self.poc_type == 0:
            self.log2_max_poc_lsb = r.ue() + 4
        self.max_refs = r.ue()
        r.u(1)
        self.size_at = r.pos
        self.width_mbs = r.ue() + 1
        self.height_mbs = r.ue() + 1
        self.frame_mbs_only = r.u(1)
        assert self.frame_mbs_only == 1
        r.u(1)  # direct_8x8_inference
        self.crop = (0, 0, 0, 0)
        if r.u(1):
            self.crop = (r.ue(), r.ue(), r.ue(), r.ue())
        self.size_end = r.pos
        self.timing_at = None
        if r.u(1):  # VUI
            if r.u(1) and r.u(8) == 255:
                r.u(32)
            if r.u(1):
                r.u(1)
            if r.u(1):
                r.u(4)
                if r.u(1):
                    r.u(24)
            if r.u(1):
                r.ue()
                r.ue()
            if r.u(1):
                self.timing_at = r.pos
                self.num_units_in_tick, self.time_scale = r.u(32), r.u(32)

    @property
    def size(self):
        return (16 * self.width_mbs - 2 * (self.crop[0] + self.crop[1]),
                16 * self.height_mbs - 2 * (self.crop[2] + self.crop[3]))

    def with_size(self, w, h):
        """The SPS NAL coding a w x h picture (even sizes: 4:2:0 crops in pairs)."""
        assert w % 2 == 0 and h % 2 == 0
        wm, hm = (w + 15) // 16, (h + 15) // 16
        crop = ((wm * 16 - w) // 2, (hm * 16 - h) // 2)
        rest = self.bits[self.size_end:]  # the VUI flag and on
        r = BitReader(b"")
        r.bits, r.pos = self.bits, self.size_at
        r.ue()
        r.ue()
        fixed = self.bits[r.pos:r.pos + 2]  # frame_mbs_only, direct_8x8_inference
        cropping = "0" if crop == (0, 0) else "1" + ue_bits(0) + ue_bits(crop[0]) + ue_bits(0) + ue_bits(crop[1])
        bits = self.bits[:self.size_at] + ue_bits(wm - 1) + ue_bits(hm - 1) + fixed + cropping + rest
        return nal_from_rbsp(self.header, rbsp_bytes(bits))

    def with_timing(self, num_units_in_tick, time_scale):
        assert self.timing_at is not None
        p = self.timing_at
        bits = self.bits[:p] + u_bits(num_units_in_tick, 32) + u_bits(time_scale, 32) + self.bits[p + 64:]
        return nal_from_rbsp(self.header, rbsp_bytes(bits))


class Pps:
    def __init__(self, nal):
        r = BitReader(rbsp(nal))
        self.pps_id = r.ue()
        self.sps_id = r.ue()
        self.cabac = r.u(1)
        self.bottom_field_poc = r.u(1)
        assert r.ue() == 0, "one slice group"
        self.refs_l0 = r.ue() + 1
        r.ue()
        self.weighted_pred = r.u(1)
        r.u(2)
        r.se()
        r.se()
        r.se()
        self.deblocking_control = r.u(1)
        r.u(1)
        self.redundant_pic_cnt = r.u(1)
        assert not self.cabac and not self.weighted_pred


def skip_slice(sps, pps, i):
    """The i-th (1-based) P frame after an IDR: one slice, every macroblock skipped, a reference frame."""
    bits = ue_bits(0) + ue_bits(5) + ue_bits(pps.pps_id)  # first_mb_in_slice, slice_type P (all), pps
    bits += u_bits(i % (1 << sps.log2_max_frame_num), sps.log2_max_frame_num)
    if sps.poc_type == 0:
        bits += u_bits((2 * i) % (1 << sps.log2_max_poc_lsb), sps.log2_max_poc_lsb)
        if pps.bottom_field_poc:
            bits += se_bits(0)
    if pps.redundant_pic_cnt:
        bits += ue_bits(0)
    bits += "1" + ue_bits(0)  # num_ref_idx_active_override_flag: one reference, the previous frame
    bits += "0"  # ref_pic_list_modification_flag_l0
    bits += "0"  # adaptive_ref_pic_marking_mode_flag: sliding window
    bits += se_bits(0)  # slice_qp_delta
    if pps.deblocking_control:
        bits += ue_bits(1)  # deblocking off
    bits += ue_bits(sps.width_mbs * sps.height_mbs)  # mb_skip_run: all of them
    return nal_from_rbsp(0x41, rbsp_bytes(bits))  # nal_ref_idc 2, type 1 (non-IDR slice)


def skip_run(sps, pps, n):
    """Samples 1..n-1 after an IDR, all-skip: the slices repeat with the frame number's period."""
    period = 1 << sps.log2_max_frame_num
    if sps.poc_type == 0:
        period = max(period, 1 << (sps.log2_max_poc_lsb - 1))
    one = [sample_of([skip_slice(sps, pps, i)]) for i in range(1, min(n, period + 1))]
    return [one[(i - 1) % period] for i in range(1, n)]


def sei_user_data(text):
    """An SEI NAL of user_data_unregistered (payload type 5) carrying text."""
    payload = b"\x41\x49\x52\x4c\x4f\x43\x4b\x2d\x53\x45\x49\x2d\x55\x55\x49\x44" + text  # a 16-byte UUID
    body = bytes([5])
    n = len(payload)
    while n >= 255:
        body += b"\xff"
        n -= 255
    body += bytes([n]) + payload
    return nal_from_rbsp(0x06, body + b"\x80")


def avcc(sps, pps, profile=None):
    p = sps[1] if profile is None else profile
    return bytes([1, p, sps[2], sps[3], 0xFF, 0xE1]) + struct.pack(">H", len(sps)) + sps + b"\x01" + struct.pack(
        ">H", len(pps)) + pps


# ---------------------------------------------------------------------------
# VP9 bits


def vp9_keyframe_size(frame, w, h):
    """A profile-0 VP9 key frame with its frame size (and so its render size) rewritten."""
    bits = "".join("{:08b}".format(b) for b in frame[:12])
    assert bits[:2] == "10" and bits[2:4] == "00" and bits[4:8] == "0010" and bits[8:32] == "010010011000001101000010"
    assert bits[32:35] != "111"  # not RGB: a colour_range bit follows
    at = 36
    bits = bits[:at] + u_bits(w - 1, 16) + u_bits(h - 1, 16) + bits[at + 32:]
    return bytes(int(bits[i:i + 8], 2) for i in range(0, 96, 8)) + frame[12:]


VP9_SHOW_EXISTING_0 = b"\x88"  # frame_marker 2, profile 0, show_existing_frame 1, frame_to_show_map_idx 0


class WebmSeed:
    """The blocks (payload, timecode in ms, key) of the one track of an ffmpeg-made WebM."""

    def __init__(self, data):
        (seg,) = [e for e in ebml_walk(data, 0, len(data)) if e[0] == 0x18538067]
        self.blocks = []
        self.private = None
        for eid, s, e in ebml_walk(data, seg[1], seg[2]):
            if eid == 0x1654AE6B:
                (entry,) = [x for x in ebml_walk(data, s, e) if x[0] == 0xAE]
                for fid, fs, fe in ebml_walk(data, entry[1], entry[2]):
                    if fid == 0x86:
                        self.codec = data[fs:fe].decode()
                    elif fid == 0x63A2:
                        self.private = data[fs:fe]
                    elif fid == 0xE0:
                        for vid, vs, ve in ebml_walk(data, fs, fe):
                            if vid == 0xB0:
                                self.width = int.from_bytes(data[vs:ve], "big")
                            elif vid == 0xBA:
                                self.height = int.from_bytes(data[vs:ve], "big")
            elif eid == 0x1F43B675:
                ctc = 0
                for bid, bs, be in ebml_walk(data, s, e):
                    if bid == 0xE7:
                        ctc = int.from_bytes(data[bs:be], "big")
                    elif bid == 0xA3:
                        assert data[bs] == 0x81 and data[bs + 3] & 0x06 == 0, "track 1, no lacing"
                        tc = struct.unpack(">h", data[bs + 1:bs + 3])[0]
                        self.blocks.append((data[bs + 4:be], ctc + tc, bool(data[bs + 3] & 0x80)))


# ---------------------------------------------------------------------------
# Writers


MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
FTYP = box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")


def avc1_entry(avcc_payload, w, h, size=None):
    body = (b"\0" * 6 + struct.pack(">H", 1) + b"\0" * 16 + struct.pack(">HH", w & 0xFFFF, h & 0xFFFF)
            + struct.pack(">III", 0x00480000, 0x00480000, 0) + struct.pack(">H", 1) + b"\0" * 32
            + struct.pack(">Hh", 0x18, -1) + box(b"avcC", avcc_payload))
    return box(b"avc1", body, size)


def video_moov(entry, sizes, deltas, timescale, w, h, chunk_offsets, per_chunk, sync=None, durations=None,
               tables=None, udta=b"", tkhd_size=None):
    """A moov of one video track. durations: (mvhd, tkhd, mdhd) overrides; tables: stbl boxes by name."""
    t = dict(tables or {})
    total = sum(deltas)
    ms = min(total * 1000 // max(timescale, 1), 0xFFFFFFFF)
    mv, tk, md = durations or (ms, ms, min(total, 0xFFFFFFFF))
    if b"stts" not in t:
        runs = []
        for d in deltas:
            if runs and runs[-1][1] == d:
                runs[-1][0] += 1
            else:
                runs.append([1, d])
        t[b"stts"] = fullbox(b"stts", struct.pack(">I", len(runs)) + b"".join(struct.pack(">II", *r) for r in runs))
    if b"stsz" not in t:
        if len(set(sizes)) == 1:
            t[b"stsz"] = fullbox(b"stsz", struct.pack(">II", sizes[0], len(sizes)))
        else:
            t[b"stsz"] = fullbox(b"stsz", struct.pack(">II", 0, len(sizes))
                                 + b"".join(struct.pack(">I", s) for s in sizes))
    if b"stsc" not in t:
        t[b"stsc"] = fullbox(b"stsc", struct.pack(">IIII", 1, 1, per_chunk, 1))
    if b"stco" not in t:
        t[b"stco"] = fullbox(b"stco", struct.pack(">I", len(chunk_offsets))
                             + b"".join(struct.pack(">I", o) for o in chunk_offsets))
    if b"stss" not in t and sync is not None:
        t[b"stss"] = fullbox(b"stss", struct.pack(">I", len(sync)) + b"".join(struct.pack(">I", s) for s in sync))
    stbl = fullbox(b"stsd", struct.pack(">I", 1) + entry)
    for name in (b"stts", b"stss", b"stsc", b"stsz", b"stco"):
        if t.get(name):
            stbl += t[name]
    tw, th = tkhd_size or (w << 16, h << 16)
    mvhd = fullbox(b"mvhd", struct.pack(">IIII", 0, 0, 1000, mv) + struct.pack(">IH", 0x10000, 0x100) + b"\0" * 10
                   + MATRIX + b"\0" * 24 + struct.pack(">I", 2))
    tkhd = fullbox(b"tkhd", struct.pack(">IIIII", 0, 0, 1, 0, tk) + b"\0" * 8 + struct.pack(">hhhH", 0, 0, 0, 0)
                   + MATRIX + struct.pack(">II", tw, th), flags=3)
    mdhd = fullbox(b"mdhd", struct.pack(">IIIIHH", 0, 0, timescale, md, 0x55C4, 0))
    hdlr = fullbox(b"hdlr", struct.pack(">I4s", 0, b"vide") + b"\0" * 12 + b"VideoHandler\0")
    dinf = box(b"dinf", fullbox(b"dref", struct.pack(">I", 1) + fullbox(b"url ", b"", flags=1)))
    minf = box(b"minf", fullbox(b"vmhd", b"\0" * 8, flags=1) + dinf + box(b"stbl", stbl))
    return box(b"moov", mvhd + box(b"trak", tkhd + box(b"mdia", mdhd + hdlr + minf)) + udta)


def mp4_video(samples, entry, w, h, timescale=12800, deltas=None, ftyp=FTYP, moov_first=True, between=b"",
              mdat_size=None, tail=b"", cut=None, **moov_kw):
    """An MP4 of the samples in one chunk; deltas default to 512 at 12800 (25 fps), as ffmpeg writes."""
    deltas = [512] * len(samples) if deltas is None else deltas
    sizes = [len(s) for s in samples]
    payload = b"".join(samples)
    mdat = struct.pack(">I", 8 + len(payload) if mdat_size is None else mdat_size) + b"mdat"

    def moov(off):
        return video_moov(entry, sizes, deltas, timescale, w, h, [off], len(samples), **moov_kw)

    if moov_first:
        m = moov(0)
        m = moov(len(ftyp) + len(m) + len(between) + 8)
        data = ftyp + m + between + mdat + payload + tail
    else:
        data = ftyp + between + mdat + payload + moov(len(ftyp) + len(between) + 8) + tail
    return data if cut is None else data[:cut]


def info(scale=1000000, duration=None):
    body = el(0x2AD7B1, scale) + el(0x4D80, "hostile_video.py") + el(0x5741, "hostile_video.py")
    if duration is not None:
        body += el(0x4489, float(duration))
    return el(0x1549A966, body)


def video_track(codec, w, h, private=None, default_duration=None, video=None, number=1):
    body = el(0xD7, number) + el(0x73C5, number) + el(0x83, 1) + el(0x86, codec)
    if private is not None:
        body += el(0x63A2, private)
    if default_duration is not None:
        body += el(0x23E383, default_duration)
    body += video if video is not None else el(0xE0, el(0xB0, w) + el(0xBA, h))
    return el(0xAE, body)


def block(payload, timecode, key, track=1, lacing=0, lace_head=b""):
    return el(0xA3, vint(track) + struct.pack(">hB", timecode, (0x80 if key else 0) | lacing) + lace_head + payload)


def clusters_of(blocks, per=500, size=None):
    """Clusters of per blocks each: (payload, ms, key) with block timecodes relative to each cluster."""
    out = []
    for c0 in range(0, len(blocks), per):
        part = blocks[c0:c0 + per]
        base = part[0][1]
        body = el(0xE7, base) + b"".join(block(p, tc - base, k) for p, tc, k in part)
        out.append(el(0x1F43B675, body, size=size))
    return out


def mkv_video(track, clusters, inf=None, doctype="webm", extra=b"", seg_size=None, tail=b"", cut=None):
    body = (info() if inf is None else inf) + el(0x1654AE6B, track) + extra + b"".join(clusters)
    data = ebml_head(doctype) + el(0x18538067, body, size=seg_size) + tail
    return data if cut is None else data[:cut]


def block_spans(data):
    """(start, end) of every SimpleBlock of data, in order."""
    (seg,) = [e for e in ebml_walk(data, 0, len(data)) if e[0] == 0x18538067]
    out = []
    for eid, s, e in ebml_walk(data, seg[1], seg[2]):
        if eid == 0x1F43B675:
            out += [(bs - 1 - len(vint(be - bs)), be) for bid, bs, be in ebml_walk(data, s, e) if bid == 0xA3]
    return out


def xiph_lace(frames):
    """The lace head of Xiph lacing for frames (all but the last size written)."""
    head = bytes([len(frames) - 1])
    for f in frames[:-1]:
        n = len(f)
        head += b"\xff" * (n // 255) + bytes([n % 255])
    return head


# ---------------------------------------------------------------------------
# The cases


class Bases:
    """The seeds, parsed once: the 320x240 H.264 and VP9 streams and the 16x16 ones."""

    def __init__(self):
        h = Mp4Seed(seed("vid_h264_control.mp4"))
        self.h = h
        self.h_samples = [drop_sei(s) for s in h.samples]  # x264's version string is not needed
        self.h_avcc = avcc(h.sps, h.pps)
        self.h_entry = avc1_entry(self.h_avcc, 320, 240)
        self.sps, self.pps = Sps(h.sps), Pps(h.pps)
        t = Mp4Seed(seed("vid_h264_16x16_control.mp4"))
        self.t = t
        self.t_sps, self.t_pps = Sps(t.sps), Pps(t.pps)
        self.t_idr = drop_sei(t.samples[0])
        self.v = WebmSeed(seed("vid_vp9_control.webm"))
        self.tv = WebmSeed(seed("vid_vp9_16x16_control.webm"))
        assert (self.v.width, self.v.height, len(self.v.blocks)) == (320, 240, 25)
        assert (self.tv.width, self.tv.height) == (16, 16)

    def h264(self, samples=None, entry=None, **kw):
        """The 25 H.264 frames, 320x240 at 25 fps, in an MP4 (moov first, one chunk, no edit list)."""
        kw.setdefault("sync", [1])
        return mp4_video(self.h_samples if samples is None else samples, entry or self.h_entry, 320, 240, **kw)

    def h264_blocks(self, samples=None):
        samples = self.h_samples if samples is None else samples
        return [(s, 40 * i, i == 0) for i, s in enumerate(samples)]

    def h264_mkv(self, **kw):
        track = video_track("V_MPEG4/ISO/AVC", 320, 240, private=self.h_avcc)
        return mkv_video(track, clusters_of(self.h264_blocks()), doctype="matroska", **kw)

    def vp9(self, blocks=None, track=None, per=500, **kw):
        """The 25 VP9 frames, 320x240, blocks 40 ms apart, in a WebM."""
        return mkv_video(track or video_track("V_VP9", 320, 240), clusters_of(blocks or self.v.blocks, per), **kw)

    def skip_samples(self, n):
        """The 16x16 IDR and n-1 all-skip P frames (8 bytes each in MP4)."""
        return [self.t_idr] + skip_run(self.t_sps, self.t_pps, n)

    def tiny_h264(self, n, timescale=12800, delta=512):
        entry = avc1_entry(avcc(self.t.sps, self.t.pps), 16, 16)
        return mp4_video(self.skip_samples(n), entry, 16, 16, timescale=timescale, deltas=[delta] * n, sync=[1])

    def tiny_vp9(self, n, step_ms=40):
        """The 16x16 VP9 key frame, then n-1 one-byte frames that show it again."""
        blocks = [(self.tv.blocks[0][0], 0, True)] + [(VP9_SHOW_EXISTING_0, i * step_ms, False) for i in range(1, n)]
        per = max(1, min(500, 30000 // step_ms))  # block timecodes are 16-bit
        return mkv_video(video_track("V_VP9", 16, 16), clusters_of(blocks, per))


def add(c, changes, MARKER, INJECT):
    from gen_hostile import HTML, ZIP, png_rgb  # the shared payloads

    b = Bases()
    S320, S16 = "img:320x240x3", "img:16x16x3"
    md = changes("metadata_dropped")

    def opts(extra=""):
        return VIDEO + ("," + extra if extra else "")

    def new(name, data, cls, outcome, limit="-", typ=MP4_T, shape="-", extra="", cve="-", desc="", large=False,
            chg="-"):
        c.add(name, data, cls, outcome, limit, typ, chg, shape, opts(extra), cve, desc, large)

    def again(name, cls, outcome, limit="-", typ=MP4_T, shape="-", extra="", cve="-", desc="", chg="-"):
        c.row(name, cls, outcome, limit, typ, chg, shape, opts(extra), cve, desc)

    # -- controls: the ffmpeg seeds as they are, and re-muxed by this module (the base of every case)
    cls = "structure"
    for name, typ, shape, what in (
            ("vid_h264_control.mp4", MP4_T, S320, "testsrc through libx264 (baseline, crf 40, keyint 25): H.264 "
             "Constrained Baseline 320x240, 25 frames at 25 fps, 6 KB"),
            ("vid_vp9_control.webm", MKV_T, S320, "testsrc through libvpx-vp9 (crf 50): VP9 profile 0 320x240, 25 "
             "frames at 25 fps"),
            ("vid_h264_16x16_control.mp4", MP4_T, S16, "testsrc through libx264: H.264 16x16, 5 frames"),
            ("vid_vp9_16x16_control.webm", MKV_T, S16, "testsrc through libvpx-vp9: VP9 16x16, 5 frames")):
        n = 5 if "16x16" in name else 25
        new(name, seed(name), cls, "ok", typ=typ, shape=shape,
            desc="control, a seed made by ffmpeg 5.1 (SEEDS in hostile_video.py): %s; ffprobe -count_frames %d; "
            "seen %d, T %d" % (what, n, n, n))
    new("vid_h264_remux.mp4", b.h264(), cls, "ok", shape=S320,
        desc="control: the 25 H.264 frames of vid_h264_control.mp4 re-muxed here (moov first, one chunk, 512 ticks "
        "at 12800, no edit list, x264's SEI dropped); seen 25, T 25 (indices 0..24)")
    new("vid_vp9_remux.webm", b.vp9(), cls, "ok", typ=MKV_T, shape=S320,
        desc="control: the 25 VP9 frames of vid_vp9_control.webm re-muxed here (one Cluster, blocks 40 ms apart, "
        "no DefaultDuration); seen 25, T 25")
    new("vid_h264_remux.mkv", b.h264_mkv(), cls, "ok", typ=MKV_T, shape=S320,
        desc="control: the 25 H.264 frames in Matroska (V_MPEG4/ISO/AVC, the avcC as CodecPrivate); seen 25, T 25")

    # -- CVE-2026-34755: the container's frame count lies; airlock counts decoded frames.
    # Each file has two more rows that pin T through the output size: T x 240 x 320 x 3 bytes exactly at
    # video_max_output_bytes is ok, one byte less is too_large; so T is exactly what the description says.
    cls = HEADER_LIE
    frame_bytes = 320 * 240 * 3

    def pin(name, t, typ=MP4_T, extra="", cve=CVE_COUNT, fb=frame_bytes, shape=S320):
        pre = extra + "," if extra else ""
        again(name, cls, "ok", typ=typ, shape=shape, extra=pre + "video_max_output_bytes=%d" % (t * fb), cve=cve,
              desc="the same with video_max_output_bytes exactly T x H x W x 3 = %d x %d: ok, so T <= %d" % (t, fb, t))
        again(name, cls, "too_large", "video_max_output_bytes", typ=typ, extra=pre + "video_max_output_bytes=%d"
              % (t * fb - 1), cve=cve, desc="the same one byte under: too_large, so T = %d exactly" % t)

    new("vid_stts_count_2e9.mp4", b.h264(tables={b"stts": fullbox(b"stts", struct.pack(">III", 1, 2000000000, 512))}),
        cls, "ok", shape=S320, cve=CVE_COUNT,
        desc="stts claims 2,000,000,000 samples of 512 ticks over an stsz of 25: ffprobe nb_frames=2000000000, "
        "-count_frames 25 (the mov demuxer indexes the stsz's 25); OpenCV's CAP_PROP_FRAME_COUNT is 2e9 (vLLM "
        "0.34's end-seek cross-check corrects it to 25). Predicted ok with the true count: seen 25, T 25")
    pin("vid_stts_count_2e9.mp4", 25)
    new("vid_stts_count_5.mp4", b.h264(tables={b"stts": fullbox(b"stts", struct.pack(">III", 1, 5, 512))}),
        cls, "ok", shape=S320, cve=CVE_COUNT,
        desc="stts claims 5 samples over an stsz of 25: ffprobe nb_frames=5, -count_frames 25 (samples past the "
        "stts keep its last delta). Stock vLLM 0.34 believes 5 (its cross-check only lowers a count) and returns "
        "frames 0-4 of 25. Predicted ok: seen 25, T 25")
    pin("vid_stts_count_5.mp4", 25)
    big = 1000000
    tiny25 = b.skip_samples(25)
    pad = max(len(s) for s in tiny25) + 6

    def padded(s):
        """The sample grown to pad bytes with a filler NAL (type 12, at least 2 bytes), which the decoder skips."""
        fill = pad - len(s) - 4
        return s + struct.pack(">I", fill) + b"\x0c" + b"\xff" * (fill - 2) + b"\x80"

    same_size = [padded(s) for s in tiny25]
    new("vid_stsz_1m_samples_25_in_mdat.mp4",
        mp4_video(same_size, avc1_entry(avcc(b.t.sps, b.t.pps), 16, 16), 16, 16, sync=[1], tables={
            b"stsz": fullbox(b"stsz", struct.pack(">II", pad, big)),
            b"stts": fullbox(b"stts", struct.pack(">III", 1, big, 512)),
            b"stsc": fullbox(b"stsc", struct.pack(">IIII", 1, 1, big, 1))}),
        cls, "ok", shape=S16, cve=CVE_COUNT,
        desc="a self-consistent frame-count lie over 25 16x16 H.264 frames (an IDR and 24 all-skip P slices): stsz "
        "(one size for all: %d bytes, each frame padded with a filler "
        "NAL), stts and stsc claim 1,000,000 samples in one chunk, the mdat ends after 25: ffprobe nb_frames=1000000, "
        "the demuxer's index holds 1,000,000 entries (24 MB), and reading sample 26 meets the end of the file "
        "exactly, a clean end (-count_frames 25, no message). Predicted ok: seen 25, T 25" % pad)
    pin("vid_stsz_1m_samples_25_in_mdat.mp4", 25, fb=768, shape=S16)
    hours = 10 * 3600
    new("vid_durations_10h.mp4", b.h264(durations=(hours * 1000, hours * 1000, hours * 12800)), cls, "ok",
        shape=S320, cve=CVE_COUNT,
        desc="mvhd, tkhd and mdhd durations of 10 hours (900,000 frames at 25 fps) over 1 s of frames: ffprobe "
        "format duration 36000 s, -count_frames 25. Predicted ok: seen 25, T 25, duration measured (1 s)")
    new("vid_durations_1_tick.mp4", b.h264(durations=(1, 1, 1)), cls, "ok", shape=S320, cve=CVE_COUNT,
        desc="mvhd, tkhd and mdhd durations of 1 tick (less than one frame) over 25 frames: -count_frames 25. "
        "Predicted ok: seen 25, T 25")
    new("vid_mkv_duration_10h.webm", b.vp9(inf=info(duration=hours * 1000.0)), cls, "ok", typ=MKV_T, shape=S320,
        cve=CVE_COUNT, desc="an Info Duration of 10 hours over 25 VP9 frames: Matroska stores no frame count, so "
        "OpenCV's CAP_PROP_FRAME_COUNT is duration x fps, 900,000 (vLLM 0.34's cross-check corrects it to 25); "
        "-count_frames 25. Predicted ok: seen 25, T 25")
    pin("vid_mkv_duration_10h.webm", 25, typ=MKV_T)
    new("vid_mkv_duration_1ms.webm", b.vp9(inf=info(duration=1.0)), cls, "ok", typ=MKV_T, shape=S320,
        cve=CVE_COUNT, desc="an Info Duration of 1 ms over 25 VP9 frames (1 s): -count_frames 25. Predicted ok: "
        "seen 25, T 25")

    # -- CVE-2026-105758: the frame rate lies, so that fps x duration explodes
    new("vid_stts_delta_1us.mp4", b.h264(timescale=1000000, deltas=[1] * 25), cls, "ok", shape=S320, cve=CVE_FPS,
        desc="mdhd timescale 1,000,000 and stts deltas of 1: 1,000,000 fps claimed, pts span 24 us; the demuxer's "
        "avg_frame_rate is 1000000/1 (vLLM's metadata: fps 1e6, duration 25 us). Predicted ok: seen 25, T 25 (vLLM "
        "rule, num_frames 32); the fps airlock reports must stay within the protocol's 1000 (neither the header's "
        "nor the measured rate is sane here)")
    new("vid_mdhd_timescale_2_31.mp4", b.h264(timescale=0x7FFFFFFF, deltas=[1] * 25), cls, "malformed",
        cve=CVE_FPS, desc="mdhd timescale 2^31-1 and stts deltas of 1 (2.1e9 fps claimed, 25 frames in 11 ns; "
        "avg_frame_rate 2147483647/1): frames less than a microsecond apart are no video (the frame's times are "
        "microseconds, strictly increasing): malformed. vid_stts_delta_1us.mp4, 1 us apart, is ok")
    new("vid_mdhd_timescale_2_32.mp4", b.h264(timescale=0xFFFFFFFF, deltas=[1] * 25), cls, "malformed",
        cve=CVE_FPS, desc="mdhd timescale 2^32-1: the mov demuxer reads it as -1 and logs 'Invalid mdhd time scale "
        "-1, defaulting to 1' (an error; the file then plays at 1 fps): the error is heard: malformed")
    slow = b.h264(timescale=1000, deltas=[1000000] * 25)
    new("vid_stts_delta_1000s.mp4", slow, cls, "too_long", "max_seconds", cve=CVE_FPS,
        desc="stts deltas of 1,000,000 at timescale 1000: one frame every 1000 s (0.001 fps), a pts span of "
        "24,000 s over 25 frames: over max_seconds (600 s), which counts the measured pts span: too_long")
    again("vid_stts_delta_1000s.mp4", cls, "ok", shape=S320, extra="max_seconds=86400", cve=CVE_FPS,
          desc="the same under max_seconds=86400: seen 25, T 25 (vLLM rule), fps 1/1000")
    again("vid_stts_delta_1000s.mp4", cls, "ok", shape=S320, extra="max_seconds=86400,video_sampling=2", cve=CVE_FPS,
          desc="the same with Qwen3's rule (fps 2): int(25 / 0.001 x 2) = 50,000 frames asked, capped at "
          "min(768, 25): T 25, never 50,000 (stock vLLM's Qwen3 loader also gives 25)")
    again("vid_stts_delta_1000s.mp4", cls, "ok", shape=S320, extra="max_seconds=86400,video_sampling=3", cve=CVE_FPS,
          desc="the same with qwen_vl_utils' rule (fps 2): nframes 50,000 clamped to floor_by_factor(min(768, 25), "
          "2) = 24: T 24")
    pin("vid_stts_delta_1000s.mp4", 24, extra="max_seconds=86400,video_sampling=3", cve=CVE_FPS)
    new("vid_mkv_default_duration_1ns.webm", b.vp9(track=video_track("V_VP9", 320, 240, default_duration=1)), cls,
        "ok", typ=MKV_T, shape=S320, cve=CVE_FPS,
        desc="a DefaultDuration of 1 ns (1e9 fps claimed) over blocks 40 ms apart: the demuxer's avg_frame_rate is "
        "30000/1 (av_reduce's cap), OpenCV's CAP_PROP_FPS 30000 (vLLM's metadata: duration 0.83 ms); the measured "
        "rate is 25. Predicted ok: seen 25, T 25, fps 25 (30000 is no sane rate)")
    # 800 frames of 320x240 (the seed's IDR and 799 all-skip P slices), 40 ms apart, that claim 0.001 fps
    slow_track = video_track("V_MPEG4/ISO/AVC", 320, 240, private=b.h_avcc, default_duration=10**12)
    skip320 = [b.h_samples[0]] + skip_run(b.sps, b.pps, 800)
    dd = mkv_video(slow_track, clusters_of([(x, 40 * i, i == 0) for i, x in enumerate(skip320)]), doctype="matroska")
    new("vid_mkv_default_duration_1000s.mkv", dd, cls, "ok", typ=MKV_T, shape=S320, cve=CVE_FPS,
        desc="800 H.264 frames 40 ms apart (32 s) whose track claims a DefaultDuration of 1000 s: the demuxer's "
        "avg_frame_rate is 1/1000, which passes a range check. %d bytes. Predicted ok: seen 800, T 32 (vLLM rule)"
        % len(dd))
    again("vid_mkv_default_duration_1000s.mkv", cls, "ok", typ=MKV_T, shape=S320, extra="video_sampling=2",
          cve=CVE_FPS, desc="the same with Qwen3's rule (fps 2): the measured rate (25, the pts disagree with the "
          "claim by far more than a tick a frame) gives int(800 / 25 x 2) = 64: T 64. The claimed 1/1000 would "
          "give min(1,600,000, 768, 800) = 768 frames, 12 times the output: stock vLLM 0.34's Qwen3 loader does "
          "that (np.empty of 768 frames; 4.45 GiB for the same file at 1080p)")
    pin("vid_mkv_default_duration_1000s.mkv", 64, typ=MKV_T, extra="video_sampling=2", cve=CVE_FPS)
    new("vid_mkv_timecode_scale_1ns.webm", b.vp9(inf=info(scale=1)), cls, "malformed", typ=MKV_T, cve=CVE_FPS,
        desc="a TimestampScale of 1 ns: the blocks' 40-tick steps become 40 ns (25,000,000 fps, span 0.96 us): "
        "frames less than a microsecond apart: malformed")
    new("vid_mkv_timecode_scale_1s.webm", b.vp9(inf=info(scale=1000000000)), cls, "too_long", "max_seconds",
        typ=MKV_T, cve=CVE_FPS,
        desc="a TimestampScale of 1 s: frames 40 s apart, a pts span of 960 s over 25 frames: over max_seconds "
        "(600 s): too_long")
    again("vid_mkv_timecode_scale_1s.webm", cls, "ok", typ=MKV_T, shape=S320, extra="max_seconds=1000", cve=CVE_FPS,
          desc="the same under max_seconds=1000: seen 25, T 25, fps 1/40")
    new("vid_sps_vui_1m_fps.mp4", b.h264(entry=avc1_entry(avcc(b.sps.with_timing(1, 2000000), b.h.pps), 320, 240)),
        cls, "ok", shape=S320, cve=CVE_FPS,
        desc="the SPS's VUI timing says 1,000,000 fps (time_scale 2,000,000, num_units_in_tick 1); the container "
        "25. Predicted ok: seen 25, T 25, fps 25 (the demuxer's)")

    # -- sampling caps: a request for more frames than airlock gives
    tiny = b.tiny_h264(5000)
    cls = "cpu_bomb"
    new("vid_h264_5000_tiny_frames.mp4", tiny, cls, "ok", shape=S16,
        desc="5000 16x16 H.264 frames (an IDR and 4999 all-skip P slices of 8 bytes) at 25 fps, 200 s, in %d bytes: "
        "-count_frames 5000, decoded within every default limit: seen 5000, T 32 (vLLM rule)" % len(tiny))
    again("vid_h264_5000_tiny_frames.mp4", cls, "too_long", "video_max_decoded_frames",
          extra="video_max_decoded_frames=1000", desc="the same under video_max_decoded_frames=1000: too_long")
    again("vid_h264_5000_tiny_frames.mp4", cls, "too_long", "video_max_decoded_pixels",
          extra="video_max_decoded_pixels=256000",
          desc="the same under video_max_decoded_pixels=256000 (1000 frames of 256): too_long at frame 1001")
    again("vid_h264_5000_tiny_frames.mp4", cls, "ok", shape=S16, extra="video_sampling=2,video_fps_milli=30000",
          cve=CVE_FPS, desc="Qwen3's rule at fps 30: int(5000 / 25 x 30) = 6000 frames asked: T 768 (Qwen's and "
          "airlock's cap)")
    pin("vid_h264_5000_tiny_frames.mp4", 768, extra="video_sampling=2,video_fps_milli=30000", cve=CVE_FPS, fb=768,
        shape=S16)
    again("vid_h264_5000_tiny_frames.mp4", cls, "ok", shape=S16,
          extra="video_sampling=2,video_fps_milli=30000,video_max_sampled_frames=100", cve=CVE_FPS,
          desc="the same under video_max_sampled_frames=100: the cap acts as max_frames=100: T 100")
    pin("vid_h264_5000_tiny_frames.mp4", 100,
        extra="video_sampling=2,video_fps_milli=30000,video_max_sampled_frames=100", cve=CVE_FPS, fb=768, shape=S16)
    again("vid_h264_5000_tiny_frames.mp4", cls, "ok", shape=S16, extra="video_num_frames=18446744073709551615",
          cve=CVE_FPS, desc="vLLM's rule asked for every frame (num_frames -1, AIRLOCK_UNSET): capped at "
          "video_max_sampled_frames (768): T 768, never 5000")
    pin("vid_h264_5000_tiny_frames.mp4", 768, extra="video_num_frames=18446744073709551615", cve=CVE_FPS, fb=768,
        shape=S16)
    tiny_vp9 = b.tiny_vp9(5000)
    new("vid_vp9_5000_tiny_frames.webm", tiny_vp9, cls, "ok", typ=MKV_T, shape=S16,
        desc="a 16x16 VP9 key frame and 4999 one-byte frames that show it again (show_existing_frame), 40 ms "
        "apart, in %d bytes: -count_frames 5000: seen 5000, T 32" % len(tiny_vp9))
    again("vid_vp9_5000_tiny_frames.webm", cls, "too_long", "video_max_decoded_frames", typ=MKV_T,
          extra="video_max_decoded_frames=1000", desc="the same under video_max_decoded_frames=1000: too_long")
    again("vid_vp9_5000_tiny_frames.webm", cls, "too_long", "video_max_decoded_pixels", typ=MKV_T,
          extra="video_max_decoded_pixels=256000", desc="the same under video_max_decoded_pixels=256000: too_long")
    new("vid_h264_200000_tiny_frames.mp4", lambda: b.tiny_h264(200000, timescale=1000, delta=2), cls, "too_long",
        "video_max_decoded_frames", large=True,
        desc="200,000 16x16 H.264 frames at 500 fps (400 s, under max_seconds) in 2.4 MB: over the default "
        "video_max_decoded_frames (108,000), stopped while counting packets: too_long")
    new("vid_vp9_200000_tiny_frames.webm", lambda: b.tiny_vp9(200000, step_ms=2), cls, "too_long",
        "video_max_decoded_frames", typ=MKV_T, large=True,
        desc="200,000 one-byte VP9 frames 2 ms apart (400 s) in 1.4 MB: over the default "
        "video_max_decoded_frames (108,000): too_long")

    # -- size limits at their boundaries
    cls = "size_limit"
    again("vid_h264_5000_tiny_frames.mp4", cls, "ok", shape=S16, extra="video_max_decoded_frames=5000",
          desc="5000 frames exactly at video_max_decoded_frames=5000")
    again("vid_h264_5000_tiny_frames.mp4", cls, "too_long", "video_max_decoded_frames",
          extra="video_max_decoded_frames=4999", desc="one frame over video_max_decoded_frames=4999")
    again("vid_h264_5000_tiny_frames.mp4", cls, "ok", shape=S16, extra="video_max_decoded_pixels=1280000",
          desc="5000 x 256 pixels exactly at video_max_decoded_pixels=1280000")
    again("vid_h264_5000_tiny_frames.mp4", cls, "too_long", "video_max_decoded_pixels",
          extra="video_max_decoded_pixels=1279999", desc="one pixel over video_max_decoded_pixels=1279999")
    out = 25 * 320 * 240 * 3
    again("vid_h264_remux.mp4", cls, "ok", shape=S320, extra="video_max_output_bytes=%d" % out,
          desc="T x H x W x 3 = 25 x 240 x 320 x 3 = %d bytes exactly at video_max_output_bytes" % out)
    again("vid_h264_remux.mp4", cls, "too_large", "video_max_output_bytes",
          extra="video_max_output_bytes=%d" % (out - 1), desc="one byte over video_max_output_bytes")
    again("vid_h264_remux.mp4", cls, "ok", shape=S320, extra="video_max_sampled_frames=10",
          desc="video_max_sampled_frames=10: T 10 (indices linspace(0, 24, 10) floored), seen 25")
    again("vid_stts_delta_1000s.mp4", cls, "too_long", "max_seconds", extra="max_seconds=23999",
          desc="a pts span of 24,000 s (25,000 s with the last frame's duration) over max_seconds=23999")
    again("vid_stts_delta_1000s.mp4", cls, "ok", shape=S320, extra="max_seconds=25000",
          desc="the same under max_seconds=25000 (span and duration both within)")
    h264_len = len(b.h264())
    again("vid_h264_remux.mp4", cls, "input_too_big", "max_input_bytes", typ="-",
          extra="max_input_bytes=%d" % (h264_len - 1),
          desc="one byte over max_input_bytes (%d bytes): refused by the host before a worker starts (no type)"
          % h264_len)
    again("vid_h264_remux.mp4", cls, "ok", shape=S320, extra="max_input_bytes=%d" % h264_len,
          desc="exactly at max_input_bytes")

    # -- dimension lies: the container against the SPS or the VP9 frame header
    cls = "dimension_lie"
    new("vid_tkhd_stsd_65535.mp4", b.h264(entry=avc1_entry(b.h_avcc, 65535, 65535),
                                          tkhd_size=(65535 << 16, 65535 << 16)), cls, "ok", shape=S320,
        desc="tkhd and the avc1 entry say 65535x65535, the SPS 320x240 (codecpar says 65535x65535). Predicted ok "
        "with the decoded 320x240 (OpenCV/vLLM give 25 frames of 320x240). Note: avcodec_open2 with the "
        "container's size fails, EINVAL after 'Picture size 65535x65535 is invalid' (an error): airlock must clear "
        "codecpar's width and height before opening the decoder, or this row is malformed")
    again("vid_tkhd_stsd_65535.mp4", cls, "ok", shape=S320, extra="max_width=320,max_height=240,max_pixels=76800",
          desc="the same with every size limit exactly at 320x240: the container's 65535 is not what is limited")
    new("vid_tkhd_stsd_1x1.mp4", b.h264(entry=avc1_entry(b.h_avcc, 1, 1), tkhd_size=(1 << 16, 1 << 16)), cls, "ok",
        shape=S320, desc="tkhd and the avc1 entry say 1x1, the SPS 320x240: decoded 320x240. Predicted ok")
    again("vid_tkhd_stsd_1x1.mp4", cls, "too_large", "max_width", extra="max_width=64",
          desc="the same under max_width=64: the container's 1 pixel passes, the SPS's 320 does not: too_large "
          "before the first frame is allocated")
    again("vid_h264_remux.mp4", cls, "too_large", "max_width", extra="max_width=64",
          desc="a 320x240 SPS under max_width=64: too_large")
    again("vid_h264_remux.mp4", cls, "too_large", "max_width", extra="max_width=319",
          desc="a 320x240 SPS under max_width=319: too_large")
    again("vid_h264_remux.mp4", cls, "too_large", "max_height", extra="max_height=239",
          desc="a 320x240 SPS under max_height=239: too_large")
    again("vid_h264_remux.mp4", cls, "too_large", "max_pixels", extra="max_pixels=76799",
          desc="a 320x240 SPS (76,800 pixels) under max_pixels=76799: too_large")
    again("vid_h264_remux.mp4", cls, "ok", shape=S320, extra="max_width=320,max_height=240,max_pixels=76800",
          desc="the same exactly at max_width, max_height and max_pixels")
    new("vid_mkv_pixel_65535.webm", b.vp9(track=video_track("V_VP9", 65535, 65535)), cls, "ok", typ=MKV_T,
        shape=S320, desc="the Matroska track's PixelWidth and PixelHeight say 65535x65535, the VP9 key frame 320x240: "
        "predicted ok with the decoded 320x240 (as vid_tkhd_stsd_65535.mp4, and with the same note: opening the "
        "decoder with the track's size fails)")
    new("vid_mkv_pixel_1x1.webm", b.vp9(track=video_track("V_VP9", 1, 1)), cls, "ok", typ=MKV_T, shape=S320,
        desc="PixelWidth and PixelHeight 1x1 over a 320x240 VP9 stream: decoded 320x240. Predicted ok")
    again("vid_mkv_pixel_1x1.webm", cls, "too_large", "max_height", typ=MKV_T, extra="max_height=200",
          desc="the same under max_height=200: the VP9 frame's 240 is over: too_large")

    def h_sps_entry(w, h):
        """The avc1 entry (320x240) over an SPS rewritten to w x h."""
        return avc1_entry(avcc(b.sps.with_size(w, h), b.h.pps), 320, 240)

    new("vid_sps_65520x65520.mp4", b.h264(entry=h_sps_entry(65520, 65520)), cls, "too_large", "max_pixels",
        desc="the SPS rewritten to 4095x4095 macroblocks (65520x65520) over slices of 320x240, the container "
        "320x240: the decoder's max_pixels guard (twice max_pixels) refuses the 4.3 GP picture before it is "
        "allocated ('Picture size ... exceeds specified max pixel count'): too_large, limit max_pixels")
    new("vid_sps_4096x2304.mp4", b.h264(entry=h_sps_entry(4096, 2304)), cls, "malformed",
        desc="the SPS says 4096x2304 (36,864 macroblocks), the slices code 300: FFmpeg decodes each frame with the "
        "rest concealed and logs the errors: malformed")
    again("vid_sps_4096x2304.mp4", cls, "too_large", "max_pixels", extra="max_pixels=1000000",
          desc="the same under max_pixels=1000000: the SPS's 9.4 MP are refused before the first frame is allocated "
          "(with AVCodecContext.max_pixels FFmpeg's get_buffer fails after 'Picture size 4096x2304 exceeds specified "
          "max pixel count': airlock has to name that too_large)")
    again("vid_sps_4096x2304.mp4", cls, "malformed", extra="max_width=1920",
          desc="the same under max_width=1920: the width limit is a decoded frame's, and no frame of this stream "
          "decodes cleanly: malformed, as without the limit")
    new("vid_sps_16x16_over_320x240.mp4", b.h264(entry=h_sps_entry(16, 16)), cls, "malformed",
        desc="the SPS says 16x16 (one macroblock), the slices code 300: FFmpeg reports the slice running past the "
        "picture: malformed")
    key = b.v.blocks[0][0]
    v_big = [(vp9_keyframe_size(key, 4096, 4096), 0, True)] + b.v.blocks[1:]
    new("vid_vp9_keyframe_4096.webm", b.vp9(blocks=v_big), cls, "malformed", typ=MKV_T,
        desc="the VP9 key frame's header says 4096x4096 over tile data coded for 320x240 (the track says 320x240): "
        "avcodec_send_packet returns AVERROR_INVALIDDATA on the key frame (no frame decoded; later frames: 'Not all "
        "references are available'): malformed")
    again("vid_vp9_keyframe_4096.webm", cls, "too_large", "max_pixels", typ=MKV_T, extra="max_pixels=1000000",
          desc="the same under max_pixels=1000000: the frame header's 16.8 MP are refused before allocation (with "
          "AVCodecContext.max_pixels, FFmpeg logs 'Picture size 4096x4096 exceeds specified max pixel count' and "
          "fails EINVAL: airlock has to name that too_large, not malformed)")
    v_small = [(vp9_keyframe_size(key, 8, 8), 0, True)] + b.v.blocks[1:]
    new("vid_vp9_keyframe_8x8.webm", b.vp9(blocks=v_small), cls, "ok", typ=MKV_T, shape="img:8x8x3",
        desc="the VP9 key frame's header says 8x8 over tile data coded for 320x240, the track 320x240: the decoder "
        "reads one 8x8 block's worth and reports nothing, every frame is 8x8 (ffprobe -count_frames 25): the "
        "decoded size wins: ok, seen 25, T 25, 8x8")

    # -- the size changes mid-stream
    tiny5 = [drop_sei(s) for s in b.t.samples]
    spliced = b.h_samples[:13] + [sample_of([b.t.sps, b.t.pps] + nals(tiny5[0]))] + tiny5[1:]
    new("vid_h264_size_change.mp4", b.h264(samples=spliced, sync=[1, 14]), cls, "malformed",
        desc="13 frames of 320x240, then an IDR carrying its own 16x16 SPS and PPS (same ids) and 4 more frames: "
        "ffprobe -show_frames gives 320x240 then 16x16; a frame size other than the first's: malformed")
    tv_blocks = [(p, 520 + 40 * i, k) for i, (p, _, k) in enumerate(b.tv.blocks)]
    new("vid_vp9_size_change.webm", b.vp9(blocks=b.v.blocks[:13] + tv_blocks), cls, "malformed", typ=MKV_T,
        desc="13 VP9 frames of 320x240, then a 16x16 key frame and 4 more: the decoded size changes: malformed")

    # -- sample-table bombs, atom and EBML size lies
    cls = "decompression_bomb"
    new("vid_stsz_count_2_32.mp4", b.h264(tables={b"stsz": fullbox(b"stsz", struct.pack(">II", 0, 0xFFFFFFFF))}),
        cls, "malformed", desc="an stsz of 2^32-1 entries in a 20-byte box: the mov demuxer refuses the count "
        "('error reading header', AVERROR_INVALIDDATA): malformed, as the audio row")
    new("vid_stco_count_2_30.mp4", b.h264(tables={b"stco": fullbox(b"stco", struct.pack(">II", 1 << 30, 48))}), cls,
        "memory", "memory_bytes", desc="an stco of 2^30 chunk offsets in a 20-byte box: FFmpeg allocates the 8 GiB "
        "table before reading it; the worker's address-space limit stops it (as the audio row)")
    new("vid_stts_count_2_32.mp4", b.h264(tables={b"stts": fullbox(b"stts", struct.pack(">III", 0xFFFFFFFF, 25, 512))}),
        cls, "memory", "memory_bytes", desc="an stts of 2^32-1 entries in a 24-byte box: 32 GiB asked for, stopped "
        "by the address-space limit (as the audio row)")
    new("vid_stco_past_end.mp4", b.h264(tables={b"stco": fullbox(b"stco", struct.pack(">II", 1, 0x7FFFFF00))}), cls,
        "malformed", desc="the one chunk offset points 2 GiB past the end of the file: reading the first sample fails "
        "('partial file', an error): malformed")
    new("vid_avcc_sps_length_past_end.mp4",
        b.h264(entry=avc1_entry(b.h_avcc[:6] + b"\xff\xff" + b.h_avcc[8:], 320, 240)), cls, "malformed",
        desc="the avcC's SPS length says 65535 inside a %d-byte avcC: the h264 decoder fails on the extradata "
        "('Error decoding the extradata', then 'Invalid NAL unit size' on every sample): malformed" % len(b.h_avcc))

    cls = "structure"
    new("vid_moov_size_past_eof.mp4", (lambda d: d[:32] + struct.pack(">I", struct.unpack(">I", d[32:36])[0] + 4096)
                                       + d[36:])(b.h264()), cls, "ok", shape=S320,
        desc="the moov box (first) claims 4 KiB past the end of the file, swallowing the mdat: FFmpeg ends it at the "
        "end of the file (as the audio row): seen 25")
    new("vid_moov_size_2_64.mp4", (lambda d: d[:32] + struct.pack(">I", 1) + b"moov" + struct.pack(">Q", 2**64 - 1)
                                   + d[40:])(b.h264()), cls, "malformed",
        desc="the moov box with a 64-bit size of 2^64-1 (the header grows by 8 bytes, eating the mvhd's): the mov "
        "demuxer skips it whole and logs 'moov atom not found' (an error): malformed")
    entry = b.h_entry
    big_entry = avc1_entry(b.h_avcc, 320, 240, size=len(entry) + 65536)
    new("vid_avc1_bigger_than_stsd.mp4", b.h264(entry=big_entry), cls, "malformed",
        desc="an avc1 sample entry claiming 64 KiB more than its stsd holds: the demuxer reads on past the stsd and "
        "logs an error: malformed (as the audio row)")
    new("vid_mdat_size_4g.mp4", b.h264(moov_first=True, mdat_size=0xFFFFFFFF), cls, "ok", shape=S320,
        desc="the last box, mdat, claims 4 GiB: the sample table points inside the file: seen 25")
    new("vid_moov_at_end.mp4", b.h264(moov_first=False), cls, "ok", shape=S320,
        desc="control: moov after mdat (ffmpeg's own layout): seen 25")
    moov_end = b.h264(moov_first=False)
    new("vid_moov_at_end_cut.mp4", moov_end[:-200], cls, "malformed",
        desc="moov after mdat, the last 200 bytes (inside the stbl) cut: 'reached eof, corrupted STTS atom', "
        "'error reading header': malformed")
    live = mkv_video(video_track("V_VP9", 320, 240), clusters_of(b.v.blocks, per=5, size=UNKNOWN), seg_size=UNKNOWN)
    new("vid_mkv_unknown_size_clusters.webm", live, cls, "ok", typ=MKV_T, shape=S320,
        desc="a Segment and five Clusters of unknown size (as live streams write), five frames each: legal, each "
        "Cluster ends where the next begins: seen 25")
    new("vid_mkv_unknown_size_clusters_in_sized_segment.webm",
        mkv_video(video_track("V_VP9", 320, 240), clusters_of(b.v.blocks, per=5, size=UNKNOWN)), cls, "malformed",
        typ=MKV_T, desc="five Clusters of unknown size inside a Segment of known size: the demuxer logs "
        "'Unknown-sized element at 0x7d inside parent with finite size' (an error): malformed")
    new("vid_mkv_segment_unknown_size.webm", b.vp9(seg_size=UNKNOWN), cls, "ok", typ=MKV_T, shape=S320,
        desc="a Segment of unknown size: legal: seen 25")
    new("vid_mkv_cluster_size_huge.webm",
        mkv_video(video_track("V_VP9", 320, 240), clusters_of(b.v.blocks, per=25, size=vint(1 << 48, 8))), cls,
        "malformed", typ=MKV_T, desc="the only Cluster claims 2^48 bytes: the file ends prematurely: malformed")
    vel = el(0xE0, el(0xB0, 320) + el(0xBA, 240), size=vint(1 << 30, 4))
    new("vid_mkv_video_element_1g.webm", b.vp9(track=video_track("V_VP9", 320, 240, video=vel)), cls, "malformed",
        typ=MKV_T, desc="the track's Video element claims 1 GiB inside a TrackEntry of a few bytes: the element "
        "exceeds its parent (an error): malformed")
    # lacing with video blocks
    frames = [p for p, _, _ in b.v.blocks[1:4]]
    laced = [el(0xA3, vint(1) + struct.pack(">hB", 40, 0x02) + xiph_lace(frames) + b"".join(frames))]

    def one_cluster(blocks_bytes):
        return el(0x1F43B675, el(0xE7, 0) + blocks_bytes)

    key_block = block(b.v.blocks[0][0], 0, True)
    lie = bytes([254]) + b"\xff" * 40 + b"\x10"  # 255 frames, the first ~10 KB, in a block of ~150 bytes
    new("vid_mkv_xiph_lacing_past_block.webm",
        mkv_video(video_track("V_VP9", 320, 240), [one_cluster(key_block + el(0xA3, vint(1) + struct.pack(
            ">hB", 40, 0x02) + lie + b"".join(frames)))]), cls, "malformed", typ=MKV_T,
        desc="a VP9 block with Xiph lacing announcing 255 frames whose sizes run far past the block: malformed")
    new("vid_mkv_ebml_lacing_huge.webm",
        mkv_video(video_track("V_VP9", 320, 240), [one_cluster(key_block + el(0xA3, vint(1) + struct.pack(
            ">hB", 40, 0x06) + bytes([254]) + vint((1 << 28) - 2, 4) + b"\x80" * 253 + b"".join(frames)))]), cls,
        "malformed", typ=MKV_T,
        desc="EBML lacing announcing 255 VP9 frames, the first of 2^28-2 bytes, the rest differences of 0: malformed")
    uneven = b"".join(frames) + b"\x00"
    if len(uneven) % 3 == 0:
        uneven += b"\x00"
    new("vid_mkv_fixed_lacing_uneven.webm",
        mkv_video(video_track("V_VP9", 320, 240), [one_cluster(key_block + el(0xA3, vint(1) + struct.pack(
            ">hB", 40, 0x04) + bytes([2]) + uneven))]), cls, "malformed", typ=MKV_T,
        desc="fixed-size lacing of 3 VP9 frames over %d bytes (not a multiple of 3): malformed" % len(uneven))
    new("vid_mkv_xiph_lacing_honest.webm",
        mkv_video(video_track("V_VP9", 320, 240, default_duration=40000000), [one_cluster(key_block + laced[0])]),
        cls, "ok", typ=MKV_T, shape=S320,
        desc="control for the lacing rows: the key frame, then 3 VP9 frames in one Xiph-laced block (DefaultDuration "
        "40 ms gives each its time): seen 4, T 4")
    back = [(p, [0, 80, 40, 120][i] if i < 4 else 40 * i, k) for i, (p, _, k) in enumerate(b.v.blocks)]
    new("vid_mkv_timecodes_backwards.webm", b.vp9(blocks=back), cls, "malformed", typ=MKV_T,
        desc="VP9 blocks (no frame reordering in VP9) with timecodes 0, 80, 40, 120, ...: decoded pts go backwards; "
        "the protocol's pts must increase strictly: predicted malformed")
    same = [(p, 0, k) for p, _, k in b.v.blocks]
    new("vid_mkv_timecodes_all_0.webm", b.vp9(blocks=same), cls, "malformed", typ=MKV_T,
        desc="all 25 VP9 blocks at timecode 0: pts do not increase: predicted malformed")

    # -- truncated streams
    h = b.h264()
    off13 = len(h) - sum(len(s) for s in b.h_samples[13:]) - len(b.h_samples[12]) // 2
    new("vid_h264_cut_mid_frame.mp4", h[:off13], cls, "malformed",
        desc="moov first, the file cut in the middle of frame 13's slice: the demuxer returns the partial sample "
        "('Packet corrupt', then 'partial file' for sample 14, an error) and the decoder fails on it ('Invalid NAL "
        "unit size (114 > 55)'): malformed, not ok with 12 frames: the damage is heard (ffprobe -count_frames "
        "gives 12 and the errors)")
    cut = list(b.h_samples)
    n13 = nals(cut[12])
    cut[12] = sample_of([n13[0][:len(n13[0]) // 2]])
    new("vid_h264_slice_cut.mp4", b.h264(samples=cut), cls, "malformed",
        desc="frame 13's slice NAL cut to half its length, the sample sizes consistent with the cut: the decoder "
        "runs out of slice data ('error while decoding MB', an error): malformed")
    v = b.vp9()
    spans = block_spans(v)  # (start, end) of each SimpleBlock
    blocks_end = spans[12][1]
    new("vid_vp9_cut_mid_frame.webm", v[:(spans[12][0] + spans[12][1]) // 2], cls, "malformed",
        typ=MKV_T, desc="cut in the middle of the 13th VP9 block: the demuxer's error is heard: malformed (as the "
        "audio row mkv_cluster_cut.webm)")
    new("vid_vp9_cut_at_block.webm", v[:blocks_end], cls, "malformed", typ=MKV_T,
        desc="cut exactly after the 13th VP9 block, the Segment and Cluster claiming the rest: every frame before the "
        "cut is whole, but the demuxer logs 'File ended prematurely' at error level: malformed (not ok with 13 "
        "frames: the sizes say the file is cut)")
    live13 = mkv_video(video_track("V_VP9", 320, 240), clusters_of(b.v.blocks[:13], per=5, size=UNKNOWN),
                       seg_size=UNKNOWN)
    assert live.startswith(live13)
    new("vid_vp9_live_cut.webm", live13, cls, "ok", typ=MKV_T, shape=S320,
        desc="vid_mkv_unknown_size_clusters.webm (Segment and Clusters of unknown size) ending after its 13th "
        "block: nothing says more was to come, so this is the whole stream: ok with the frames there are, seen 13, "
        "T 13 (ffprobe -count_frames 13, no message)")
    vcut = list(b.v.blocks)
    vcut[12] = (vcut[12][0][:len(vcut[12][0]) // 2], vcut[12][1], vcut[12][2])
    new("vid_vp9_frame_cut.webm", b.vp9(blocks=vcut), cls, "ok", typ=MKV_T, shape=S320,
        desc="the 13th VP9 frame (an inter frame) cut to half, the block sizes consistent with the cut: FFmpeg's "
        "vp9 decoder reads past the data as zeros and reports nothing (ffmpeg -err_detect explode -xerror decodes "
        "25 frames, no message): ok, seen 25, T 25; frames 13 on are damaged and nothing can tell")

    # -- unsupported codecs
    new("vid_mpeg4.mp4", seed("vid_mpeg4.mp4"), cls, "unsupported", typ=MP4_T + "+mime:video/*",
        desc="MPEG-4 Part 2 (mp4v, ffmpeg -c:v mpeg4) 64x48 in MP4: not a decoded codec: unsupported, the "
        "report's mime video/*")
    new("vid_mjpeg.mkv", seed("vid_mjpeg.mkv"), cls, "unsupported", typ=MKV_T + "+mime:video/*",
        desc="Motion JPEG (V_MJPEG) 64x48 in Matroska: unsupported")

    # -- polyglots
    cls = "polyglot"
    mp4 = b.h264()
    new("vid_mp4_plus_zip.mp4", mp4 + ZIP, cls, "ok", shape=S320,
        desc="a ZIP archive after the last box: the file is a valid MP4 and a valid ZIP (python3 -m zipfile -t): "
        "seen 25")
    new("vid_mp4_zip_in_free.mp4", b.h264(between=box(b"free", ZIP)), cls, "ok", shape=S320,
        desc="a ZIP archive in a free box between moov and mdat: seen 25")
    new("vid_mp4_html_in_udta.mp4", b.h264(udta=box(b"udta", box(b"html", HTML))), cls, "ok", shape=S320,
        desc="an HTML page with a script in an unknown udta box (never read): seen 25")
    new("vid_mp4_png_in_free.mp4", b.h264(between=box(b"free", png_rgb())), cls, "ok", shape=S320,
        desc="a whole PNG in a free box: seen 25")
    new("png_then_video_mp4.png", png_rgb() + mp4, cls, "ok", typ="png", shape="img:16x8x3",
        chg=changes("trailing_dropped"), desc="a PNG with the video MP4 after its IEND, asked as video: libmagic "
        "says PNG, so it is the PNG (track applies to MP4 and Matroska only), the MP4 dropped")
    new("vid_webm_plus_zip.webm", b.vp9() + ZIP, cls, "ok", typ=MKV_T, shape=S320,
        desc="a ZIP archive after the Segment (a valid WebM and a valid ZIP): seen 25")
    new("vid_webm_html_in_void.webm", b.vp9(extra=el(0xEC, HTML)), cls, "ok", typ=MKV_T, shape=S320,
        desc="an HTML page inside a Void element: seen 25")

    # -- disguise: video under audio names and brands
    cls = "disguise"
    m4a_ftyp = box(b"ftyp", b"M4A " + struct.pack(">I", 512) + b"M4A isomiso2")
    new("vid_h264_as_m4a.m4a", b.h264(ftyp=m4a_ftyp), cls, "ok", shape=S320,
        desc="the H.264 video in an audio-branded MP4 (ftyp M4A, an .m4a name; libmagic says audio/x-m4a) asked as "
        "video: detected as MP4 and its video decoded: seen 25")
    again("vid_h264_as_m4a.m4a", cls, "type_mismatch", extra="expect=matroska",
          desc="the same where Matroska is expected")
    new("vid_vp9_as_mka.mka", b.vp9(doctype="matroska"), cls, "ok", typ=MKV_T, shape=S320,
        desc="the VP9 video in a Matroska file with an .mka name (DocType matroska) asked as video: seen 25")
    new("vid_mp4_named_png.png", mp4, cls, "ok", shape=S320,
        desc="the H.264 MP4 under a PNG name, asked as video: detected and decoded as MP4: seen 25")
    again("vid_mp4_named_png.png", cls, "type_mismatch", extra="expect=png", desc="the same when a PNG is expected")
    again("vid_mp4_named_png.png", cls, "type", "allowed_types", extra="allow=image",
          desc="the same when only images are allowed")

    # -- metadata payloads
    cls = "metadata_payload"
    ilst = box(b"meta", struct.pack(">I", 0) + fullbox(b"hdlr", struct.pack(">I4s", 0, b"mdir") + b"appl" + b"\0" * 9)
               + box(b"ilst", box(b"\xa9nam", box(b"data", struct.pack(">II", 1, 0) + INJECT.encode()))
                     + box(b"\xa9cmt", box(b"data", struct.pack(">II", 1, 0) + HTML))))
    new("vid_mp4_ilst_injection.mp4", b.h264(udta=box(b"udta", ilst)), cls, "ok", shape=S320, chg=md,
        desc="iTunes title and comment atoms holding the injection text and an HTML page: seen 25, metadata dropped")
    sei = list(b.h_samples)
    sei[0] = sample_of([sei_user_data(INJECT.encode()), *nals(sei[0])])
    new("vid_h264_sei_injection.mp4", b.h264(samples=sei), cls, "ok", shape=S320,
        desc="the injection text in an H.264 SEI (user_data_unregistered) before the IDR: in the bitstream, not the "
        "container; the output is pixels only: seen 25, no change named")
    tags = el(0x1254C367, el(0x7373, el(0x63C0, b"") + el(0x67C8, el(0x45A3, "TITLE") + el(0x4487, INJECT))
                                 + el(0x67C8, el(0x45A3, "COMMENT") + el(0x4487, HTML))))
    new("vid_webm_tags_injection.webm", b.vp9(extra=tags), cls, "ok", typ=MKV_T, shape=S320, chg=md,
        desc="Matroska Tags holding the injection text and an HTML page: seen 25, metadata dropped")
    del MARKER


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--seeds":
        make_seeds(sys.argv[2])
    else:
        sys.exit("usage: hostile_video.py --seeds DIR   (runs ffmpeg; gen_hostile.py imports the rest)")
