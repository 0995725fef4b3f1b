#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the audio-length fixtures corpus/audio/len_* and their manifest
corpus/lengths.tsv, which tests/test_audio_lengths.py replays (issue 13).

    corpus/gen_lengths.py

Three groups:
  A  the header states a length that is too SHORT: a decoder that trusts it
     returns the start of the audio, with status ok and no truncated flag;
  B  the header states a length that is too LONG: accepted, flagged truncated;
  C  valid files that airlock refused when this was written.

Every reference length is measured here by running independent decoders
(ffmpeg and the format's own tool, with the commands the test uses; sox,
libsndfile and mpg123 --no-gapless for the record), never by airlock.

Deterministic: fixed tones and sox's default seed (sox -D -R), fixed Ogg
serial numbers, no timestamps; binary surgery in the standard library, with
Ogg page CRCs and the LAME tag CRC recomputed (FLAC STREAMINFO has no CRC,
and none of the MP3 frames here carries the optional frame CRC). Needs
ffmpeg flac vorbis-tools opus-tools mpg123 lame sox (Debian 12 versions).
"""

import array
import ctypes
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "corpus"))
from oggcrc import ogg_crc  # noqa: E402
import test_audio_lengths as lengths  # noqa: E402

OUT = os.path.join(HERE, "audio")
TMP = tempfile.mkdtemp(prefix="airlock-gen-lengths-")
ENV = dict(os.environ, LC_ALL="C")


def sh(*argv, stdin=None, stdout=None):
    subprocess.run(list(argv), check=True, env=ENV, stdin=stdin, stdout=stdout)


def tmp(name):
    return os.path.join(TMP, name)


def out(name):
    return os.path.join(OUT, name)


def rd(path):
    with open(path, "rb") as f:
        return bytearray(f.read())


def wr(path, data):
    with open(path, "wb") as f:
        f.write(bytes(data))
    return path


def sox_synth(name, rate, channels, seconds, *synth):
    """A 16-bit WAV of a fixed signal; -R: sox's default seed, so noise repeats."""
    sh("sox", "-D", "-R", "-q", "--no-glob", "-n", "-r", str(rate), "-c", str(channels), "-b", "16", tmp(name),
       "synth", str(seconds), *synth)
    return tmp(name)


def wav_pcm(path):
    """The data chunk of a canonical 44-byte-header WAV written by sox."""
    b = rd(path)
    assert b[36:40] == b"data"
    return bytes(b[44:])


# ---- FLAC ----

def flac_set_total(b, total):
    """STREAMINFO's 36-bit total-samples field (no CRC covers it)."""
    assert b[:4] == b"fLaC" and b[4] & 0x7F == 0
    v = int.from_bytes(b[18:26], "big")
    b[18:26] = ((v & ~((1 << 36) - 1)) | total).to_bytes(8, "big")
    return b


def id3v1_tag():
    t = (b"TAG" + b"len fixture".ljust(30, b"\0") + b"airlock".ljust(30, b"\0") + b"".ljust(30, b"\0")
         + b"2024" + b"trailing tag".ljust(28, b"\0") + b"\0\x01" + b"\xff")
    assert len(t) == 128
    return t


def apev2_tag():
    def item(key, value):
        return struct.pack("<II", len(value), 0) + key + b"\0" + value

    items = item(b"Title", b"len fixture") + item(b"Artist", b"airlock")

    def header(flags):  # bit 31: the tag has a header; bit 29: this is the header
        return b"APETAGEX" + struct.pack("<IIII", 2000, len(items) + 32, 2, flags) + b"\0" * 8

    return header(0xA0000000) + items + header(0x80000000)


# ---- Ogg ----

def ogg_pages(b):
    p, pages = 0, []
    while p < len(b):
        assert b[p:p + 4] == b"OggS"
        nseg = b[p + 26]
        end = p + 27 + nseg + sum(b[p + 27:p + 27 + nseg])
        pages.append((p, end))
        p = end
    return pages


def ogg_set_last_granule(b, granule):
    start, end = ogg_pages(b)[-1]
    page = b[start:end]
    assert page[5] & 4, "last page lacks end-of-stream"
    page[6:14] = struct.pack("<q", granule)
    page[22:26] = b"\0\0\0\0"
    page[22:26] = struct.pack("<I", ogg_crc(page))
    b[start:end] = page
    return b


def ogg_last_granule(b):
    start, _ = ogg_pages(b)[-1]
    return struct.unpack("<q", b[start + 6:start + 14])[0]


def vorbis_long_block(b):
    i = b.find(b"\x01vorbis")
    return 1 << (b[i + 28] >> 4)


# ---- MPEG audio ----

BITRATES = {
    (1, 1): [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    (1, 2): [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    (1, 3): [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    (2, 3): [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
}
RATES = {1: [44100, 48000, 32000], 2: [22050, 24000, 16000]}


def mpeg_frames(b):
    """Split a headerless (no ID3) stream of fixed-bitrate-index MPEG frames."""
    p, frames = 0, []
    while p < len(b):
        h = int.from_bytes(b[p:p + 4], "big")
        assert h >> 21 == 0x7FF, "no frame sync at %d" % p
        version = {3: 1, 2: 2}[(h >> 19) & 3]
        layer = 4 - ((h >> 17) & 3)
        rate = RATES[version][(h >> 10) & 3]
        bitrate = BITRATES[(version, layer)][(h >> 12) & 15] * 1000
        assert bitrate, "free format"
        pad = (h >> 9) & 1
        if layer == 1:
            n = (12 * bitrate // rate + pad) * 4
        else:
            n = (144 if version == 1 or layer != 3 else 72) * bitrate // rate + pad
        frames.append(bytes(b[p:p + n]))
        p += n
    return frames


def crc16_lame(data):
    """CRC-16 (polynomial 0x8005, reflected, as LAME's tag CRC)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def xing_at(b):
    for tag in (b"Xing", b"Info"):
        i = b.find(tag, 0, 64)
        if i >= 0:
            return i
    return -1


def lame_tag(b):
    """(frames, encoder delay, padding) from the Xing/Info frame, or None."""
    i = xing_at(b)
    if i < 0:
        return None
    flags, frames = struct.unpack(">II", b[i + 4:i + 12])
    assert flags & 1 and flags == 15
    lame = i + 120
    assert b[lame:lame + 4] == b"LAME"
    assert struct.unpack(">H", b[lame + 34:lame + 36])[0] == crc16_lame(b[:lame + 34]), "LAME tag CRC"
    v = int.from_bytes(b[lame + 21:lame + 24], "big")
    return frames, v >> 12, v & 0xFFF


def xing_set_frames(b, frames):
    i = xing_at(b)
    b[i + 8:i + 12] = struct.pack(">I", frames)
    lame = i + 120
    b[lame + 34:lame + 36] = struct.pack(">H", crc16_lame(b[:lame + 34]))
    return b


def id3v24_with_footer():
    def syncsafe(n):
        return bytes([(n >> 21) & 127, (n >> 14) & 127, (n >> 7) & 127, n & 127])

    def text_frame(fid, text):
        body = b"\x03" + text  # UTF-8
        return fid + syncsafe(len(body)) + b"\0\0" + body

    body = text_frame(b"TIT2", b"len fixture") + text_frame(b"TPE1", b"airlock")
    return (b"ID3\x04\x00\x10" + syncsafe(len(body)) + body
            + b"3DI\x04\x00\x10" + syncsafe(len(body)))


class Bits:
    def __init__(self):
        self.bits = []

    def put(self, value, n):
        self.bits += [(value >> i) & 1 for i in range(n - 1, -1, -1)]

    def pack(self, size):
        assert len(self.bits) <= size * 8
        bits = self.bits + [0] * (size * 8 - len(self.bits))
        return bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))


def layer1_stream(nframes):
    """MPEG-1 Layer I, 32 kHz mono 32 kbit/s (48-byte frames, 384 samples
    each, no CRC): subband 0 carries a low tone (8-bit samples, scalefactor
    index 10), the other 31 subbands are unallocated. No Debian encoder
    writes Layer I."""
    data = b""
    for fr in range(nframes):
        w = Bits()
        w.put(0xFFF, 12); w.put(1, 1); w.put(3, 2); w.put(1, 1)  # MPEG-1, Layer I, no CRC
        w.put(1, 4); w.put(2, 2); w.put(0, 1); w.put(0, 1)  # 32 kbit/s, 32 kHz, no padding
        w.put(3, 2); w.put(0, 2); w.put(0, 1); w.put(0, 1); w.put(0, 2)  # mono
        w.put(7, 4)  # subband 0: allocation 7, 8-bit samples
        for _ in range(31):
            w.put(0, 4)
        w.put(10, 6)
        for s in range(12):  # codes 28..228: never the all-ones code
            w.put(128 + round(100 * math.sin(2 * math.pi * (fr * 12 + s) / 24)), 8)
        data += w.pack(48)
    return data


# ---- WAV and AIFF ----

def wav(pcm, rate, channels, chunks=None):
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
    for cid, size, payload in chunks or [(b"data", len(pcm), pcm)]:
        body += cid + struct.pack("<I", size) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def ext80(rate):
    e = int(math.floor(math.log2(rate)))
    return struct.pack(">HQ", 16383 + e, int(rate * 2 ** (63 - e)))


def aiff_claiming(pcm_le, rate, factor):
    """AIFF, 16-bit mono; COMM's frame count and SSND's size say factor times
    the samples present (a file cut short), FORM's size agrees with them."""
    a = array.array("h")
    a.frombytes(pcm_le)
    a.byteswap()
    be = a.tobytes()
    comm = struct.pack(">hIh", 1, len(a) * factor, 16) + ext80(rate)
    ssnd_size = 8 + len(be) * factor
    form = b"AIFF" + b"COMM" + struct.pack(">I", 18) + comm + b"SSND" + struct.pack(">I", ssnd_size)
    return b"FORM" + struct.pack(">I", len(form) - 4 + ssnd_size) + form + b"\0" * 8 + be


# ---- informational decoders ----

class SfInfo(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int), ("channels", ctypes.c_int),
                ("format", ctypes.c_int), ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]


def libsndfile_frames(path):
    """'header/read' frame counts of Debian's libsndfile, what airlock used
    when this was written; for the record only."""
    try:
        sf = ctypes.CDLL("libsndfile.so.1")
    except OSError:
        return "?"
    sf.sf_open.restype = ctypes.c_void_p
    sf.sf_readf_float.restype = ctypes.c_int64
    info = SfInfo()
    h = sf.sf_open(path.encode(), 0x10, ctypes.byref(info))
    if not h:
        return "refused"
    buf = (ctypes.c_float * (4096 * max(info.channels, 1)))()
    n = 0
    while True:
        r = sf.sf_readf_float(ctypes.c_void_p(h), buf, ctypes.c_int64(4096))
        if r <= 0:
            break
        n += r
    sf.sf_close(ctypes.c_void_p(h))
    return "%d/%d" % (info.frames, n)


OWN_TOOL = {"flac": "flac", "vorbis": "oggdec", "opus": "opusdec", "mp3": "mpg123", "wav": "sox", "aiff": "sox"}


def others(path, kind, rate, channels):
    """Other decoders' lengths, for the record (the test does not rerun them)."""
    notes = []
    if kind in ("flac", "vorbis"):
        notes.append("sox=%s" % lengths.reference_frames("sox", path, rate, channels))
    if kind == "mp3":
        notes.append("mpg123-nogapless=%s" % lengths.reference_frames("mpg123-nogapless", path, rate, channels))
    notes.append("libsndfile(header/read)=%s" % libsndfile_frames(path))
    return " ".join(notes)


# ---- the fixtures ----

ROWS = []


def row(name, kind, flags, rate, channels, tolerance, why, description, ref="ffmpeg", outcome="ok"):
    ROWS.append(dict(name=name, type=kind, outcome=outcome, flags=flags, rate=rate, channels=channels, ref=ref,
                     tolerance=tolerance, why=why, description=description))


def mp3_tolerance(path):
    tag = lame_tag(rd(path))
    if tag is None:
        return 529, "no LAME tag: a decoder may or may not drop the 529-sample decoder delay"
    _, delay, pad = tag
    return (delay + 529 + pad,
            "LAME gapless info (delay %d + 529 + padding %d) may be applied, partly applied or not" % (delay, pad))


def make():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.startswith("len_"):
            os.remove(out(f))

    tone8k = sox_synth("tone8k.wav", 8000, 1, 2, "sine", "440", "vol", "0.5")
    noise16k = sox_synth("noise16k.wav", 16000, 1, 3, "pinknoise", "vol", "0.3")
    noise48k = sox_synth("noise48k.wav", 48000, 1, 2, "pinknoise", "vol", "0.3")
    tone32k = sox_synth("tone32k.wav", 32000, 1, 18.5, "sine", "300", "vol", "0.3")
    tone32k_1s = sox_synth("tone32k_1s.wav", 32000, 1, 1, "sine", "300", "vol", "0.3")
    stereo8k = sox_synth("stereo8k.wav", 8000, 2, 1.5, "sine", "440", "sine", "660", "vol", "0.5")

    # Sources that are themselves valid.
    sh("flac", "-s", "-f", "--no-padding", "-o", tmp("t.flac"), tone8k)
    flac = rd(tmp("t.flac"))
    sh("oggenc", "-Q", "-s", "13001", "-q", "0", noise16k, "-o", tmp("v.ogg"))
    vorbis = rd(tmp("v.ogg"))
    sh("opusenc", "--quiet", "--serial", "13002", "--bitrate", "16", noise48k, tmp("o.opus"))
    opus = rd(tmp("o.opus"))
    lamecmd = ["lame", "--quiet", "--noreplaygain"]
    # 64 kbit/s: at 32 kbit/s a 16 kHz mono frame (144 bytes) is too small for the Info tag.
    sh(*lamecmd, "-b", "64", noise16k, tmp("cbr.mp3"))
    sh(*lamecmd, "-V5", noise16k, tmp("vbr.mp3"))

    # A: lengths stated too short.
    wr(out("len_flac_total_1000.flac"), flac_set_total(rd(tmp("t.flac")), 1000))
    row("len_flac_total_1000.flac", "flac", "!truncated", 8000, 1, 0, "FLAC frames carry exact sample counts",
        "A: STREAMINFO total 1000 of 16000 samples present")

    assert ogg_last_granule(vorbis) == 48000
    wr(out("len_vorbis_granule_1000.ogg"), ogg_set_last_granule(rd(tmp("v.ogg")), 1000))
    half = vorbis_long_block(vorbis) // 2
    row("len_vorbis_granule_1000.ogg", "vorbis", "!truncated", 16000, 1, half,
        "the last page's end trim is lost with its granule: ffmpeg keeps the final packet's %d samples, "
        "oggdec drops them; the true length (48000) lies between" % half,
        "A: last page granule 1000 after pages at 38400, 48000 samples encoded")

    assert ogg_last_granule(opus) == 96312
    wr(out("len_opus_granule_1000.opus"), ogg_set_last_granule(rd(tmp("o.opus")), 1000))
    row("len_opus_granule_1000.opus", "opus", "!truncated", 48000, 1, 960,
        "one 20 ms packet: ffmpeg and opusdec drop the final packet whose end trim the granule lost; "
        "the true length (96000) and the untrimmed one (96648) are within 960",
        "A: last page granule 1000 (pre-skip 312) after pages at 96000, 96000 samples encoded")

    frames, _, _ = lame_tag(rd(tmp("cbr.mp3")))
    wr(out("len_mp3_info_tenth.mp3"), xing_set_frames(rd(tmp("cbr.mp3")), frames // 10))
    row("len_mp3_info_tenth.mp3", "mp3", "!truncated", 16000, 1, *mp3_tolerance(out("len_mp3_info_tenth.mp3")),
        "A: CBR 64k, Info frame count %d of %d (LAME tag CRC recomputed)" % (frames // 10, frames))

    frames, _, _ = lame_tag(rd(tmp("vbr.mp3")))
    wr(out("len_mp3_xing_tenth.mp3"), xing_set_frames(rd(tmp("vbr.mp3")), frames // 10))
    row("len_mp3_xing_tenth.mp3", "mp3", "!truncated", 16000, 1, *mp3_tolerance(out("len_mp3_xing_tenth.mp3")),
        "A: lame -V5, Xing frame count %d of %d (LAME tag CRC recomputed)" % (frames // 10, frames))

    # -t: no Info frame; --resample 32: lame would pick 16 kHz for 32 kbit/s.
    sh(*lamecmd, "-t", "-m", "m", "--resample", "32", "-b", "320", tone32k, tmp("hi.mp3"))
    sh(*lamecmd, "-t", "-m", "m", "--resample", "32", "-b", "32", tone32k, tmp("lo.mp3"))
    hi, lo = mpeg_frames(rd(tmp("hi.mp3"))), mpeg_frames(rd(tmp("lo.mp3")))
    assert len(hi[0]) == 1440 and len(lo[0]) == 144 and len(lo) >= 500
    # Both first frames have main_data_begin 0, so the 32k frames' bit
    # reservoir only ever reaches back into 32k frames.
    wr(out("len_mp3_first_frame_320.mp3"), hi[0] + b"".join(lo[:500]))
    row("len_mp3_first_frame_320.mp3", "mp3", "!truncated", 32000, 1, *mp3_tolerance(tmp("lo.mp3")),
        "A: no Xing; one 320 kbit/s frame then 500 at 32 kbit/s (size/first-bitrate estimate: 51 frames)")

    # lame cannot seek back into a pipe to write the Xing frame, so it writes none.
    sh("bash", "-c", 'cat "$1" | "${@:3}" -V5 - - | cat > "$2"', "-", noise16k, out("len_mp3_vbr_pipe.mp3"),
       *lamecmd)
    assert lame_tag(rd(out("len_mp3_vbr_pipe.mp3"))) is None
    row("len_mp3_vbr_pipe.mp3", "mp3", "!truncated", 16000, 1, *mp3_tolerance(out("len_mp3_vbr_pipe.mp3")),
        "A: lame -V5 written to a pipe: VBR with no Xing frame")

    # B: lengths stated too long.
    wr(out("len_flac_total_10x.flac"), flac_set_total(rd(tmp("t.flac")), 160000))
    row("len_flac_total_10x.flac", "flac", "truncated", 8000, 1, 0, "FLAC frames carry exact sample counts",
        "B: STREAMINFO total 160000, 16000 samples present")

    wr(out("len_vorbis_granule_10x.ogg"), ogg_set_last_granule(rd(tmp("v.ogg")), 480000))
    row("len_vorbis_granule_10x.ogg", "vorbis", "truncated", 16000, 1, 0,
        "every decoder keeps the whole final packet once the granule no longer trims it",
        "B: last page granule 480000, 48000 samples encoded")

    pcm = wav_pcm(stereo8k)
    wr(out("len_wav_data_10x.wav"), wav(pcm, 8000, 2, [(b"data", len(pcm) * 10, pcm)]))
    row("len_wav_data_10x.wav", "wav", "truncated", 8000, 2, 0, "PCM", "B: data chunk size 10x the 12000 frames present")

    wr(out("len_aiff_ssnd_10x.aiff"), aiff_claiming(wav_pcm(tone8k)[:24000], 8000, 10))
    row("len_aiff_ssnd_10x.aiff", "aiff", "truncated", 8000, 1, 0, "PCM",
        "B: COMM frames and SSND size 10x the 12000 frames present")

    # C: valid files refused when this was written.
    wr(out("len_flac_id3v1.flac"), flac + id3v1_tag())
    row("len_flac_id3v1.flac", "flac", "!truncated,metadata_dropped", 8000, 1, 0, "FLAC frames carry exact sample counts",
        "C: FLAC followed by a 128-byte ID3v1 tag")

    wr(out("len_flac_apev2.flac"), flac + apev2_tag())
    row("len_flac_apev2.flac", "flac", "!truncated,metadata_dropped", 8000, 1, 0, "FLAC frames carry exact sample counts",
        "C: FLAC followed by an APEv2 tag with header and footer")

    wr(out("len_mp3_id3v24_footer.mp3"), id3v24_with_footer() + rd(tmp("cbr.mp3")))
    row("len_mp3_id3v24_footer.mp3", "mp3", "!truncated,metadata_dropped", 16000, 1, *mp3_tolerance(tmp("cbr.mp3")),
        "C: ID3v2.4 tag with footer (flag 0x10, '3DI') before a CBR 64k MP3")

    wr(out("len_mp1_layer1.mp1"), layer1_stream(167))
    row("len_mp1_layer1.mp1", "mp3", "!truncated", 32000, 1, 0, "Layer I has no encoder delay or gapless info",
        "C: MPEG-1 Layer I, 167 frames of 384 samples written by hand, a tone in subband 0")

    sh(*lamecmd, "--freeformat", "-b", "640", "-m", "m", "--resample", "32", tone32k_1s, out("len_mp3_freeformat_640.mp3"))
    row("len_mp3_freeformat_640.mp3", "mp3", "!truncated", 32000, 1, *mp3_tolerance(out("len_mp3_freeformat_640.mp3")),
        "C: free-format MP3 at 640 kbit/s (bitrate index 0), 1 s; ffmpeg cannot decode free format",
        ref="mpg123")

    pcm = wav_pcm(tone8k)
    wr(out("len_wav_empty_data_first.wav"), wav(pcm, 8000, 1, [(b"data", 0, b""), (b"data", len(pcm), pcm)]))
    # Decided: malformed. A WAV file has one data chunk (RIFF/WAVE); airlock's is the first, and it holds no
    # sample. libsndfile refuses the file too; sox and Python's wave read 0 frames; only ffmpeg reads past it.
    row("len_wav_empty_data_first.wav", "wav", "!truncated", 8000, 1, 4,
        "ffmpeg reads a zero-size data chunk to the end of the file, so it decodes the second chunk's 8-byte "
        "header as 4 frames before the 16000; sox and Python's wave stop at the empty chunk",
        "C: an empty data chunk, then a data chunk of 16000 frames: malformed (one data chunk per file)",
        outcome="malformed")

    sh("ffmpeg", "-nostdin", "-v", "error", "-y", "-i", tone8k, "-ar", "32000", "-c:a", "mp2", "-b:a", "64k",
       "-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", "mp2", out("len_mp2_control.mp2"))
    row("len_mp2_control.mp2", "mp3", "!truncated", 32000, 1, 0, "Layer II has no encoder delay or gapless info",
        "control: MPEG-1 Layer II from ffmpeg, accepted today")


def write_manifest():
    versions = {
        "ffmpeg": ["ffmpeg", "-version"], "flac": ["flac", "--version"], "oggdec": ["oggdec", "--version"],
        "opusdec": ["opusdec", "--version"], "mpg123": ["mpg123", "--version"], "sox": ["sox", "--version"],
    }
    lines = [
        "# SPDX-License-Identifier: MIT",
        "# Audio lengths against independent decoders (issue 13); written by corpus/gen_lengths.py,",
        "# replayed by tests/test_audio_lengths.py.",
        "#",
        "# path           relative to the repository",
        "# type           the airlock type libmagic should detect (flac vorbis opus mp3 wav aiff)",
        "# outcome        ok, or the error name airlock must reject the file with",
        "# flags          change names that must be present, !name for absent ones, - for no check",
        "# rate channels  of airlock's output (source rate and channels)",
        "# ffmpeg         frames per channel from: ffmpeg -v error -i F -f f32le -ac N - (fail: nothing decoded)",
        "# tool           the format's own decoder (flac -d, oggdec, opusdec --rate R, mpg123 -s, sox)",
        "# tool_frames    its frames per channel",
        "# ref            the decoder airlock is compared with at test time",
        "# tolerance      frames airlock may differ from ref by; why_tolerance says why",
        "# others         other decoders, for the record only (sox; mpg123 --no-gapless; Debian libsndfile's",
        "#                header frame count / frames it reads)",
        "#",
        "# Measured with:",
    ]
    for tool, argv in versions.items():
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        first = p.stdout.strip().splitlines()
        lines.append("#   %s" % (first[0] if first else tool))
    lines.append("#\n# " + "\t".join(lengths.COLUMNS))
    for r in ROWS:
        path = "corpus/audio/" + r["name"]
        full = os.path.join(ROOT, path)
        assert os.path.getsize(full) < 100 * 1024, "%s is too big" % path
        tool = OWN_TOOL[r["type"]]
        cells = [path, r["type"], r["outcome"], r["flags"], str(r["rate"]), str(r["channels"]),
                 lengths.reference_frames("ffmpeg", full, r["rate"], r["channels"]), tool,
                 lengths.reference_frames(tool, full, r["rate"], r["channels"]), r["ref"], str(r["tolerance"]),
                 r["why"], others(full, r["type"], r["rate"], r["channels"]), r["description"]]
        assert r["ref"] in ("ffmpeg", tool) and "\t" not in "".join(cells)
        lines.append("\t".join(cells))
        print("%-34s ffmpeg=%-8s %s=%-8s %s" % (r["name"], cells[6], tool, cells[8], cells[12]))
    with open(os.path.join(HERE, "lengths.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    try:
        make()
        write_manifest()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
