# SPDX-License-Identifier: MIT
"""Hostile MP4 and Matroska files for corpus/gen_hostile.py (add(c, changes, MARKER, INJECT)).

The codec bits come from the committed fixtures of corpus/media/ (written by corpus/gen_media.sh
with Debian's ffmpeg): the AudioSpecificConfig and AAC frames of aac_mono_16k.m4a, the Opus
packets of opus_mono.webm. Everything around them is written here with the standard library: an
ISO BMFF writer (ftyp, moov and its sample tables, mdat) and an EBML writer (Segment, Info,
Tracks, Cluster, SimpleBlock, lacing), plus FLAC frames with CONSTANT subframes coded by hand
(CRC-8 and CRC-16 included) for the bombs. No tool runs, so --large needs nothing but python3.

Where a row is ok, its shape is what ffmpeg's own decode of the file gives (`ffmpeg -i F -map
0:a:0 -f f32le`), checked by hand when the row was written; the frame counts below say how each
follows from the frames in the file.
"""

import os
import struct

MP4_T, MKV_T = "mp4", "matroska"
HERE = os.path.dirname(os.path.abspath(__file__))
MEDIA = os.path.join(HERE, "media")


def _read(name):
    with open(os.path.join(MEDIA, name), "rb") as f:
        return f.read()


# ---------------------------------------------------------------------------
# ISO BMFF


def box(typ, payload, size=None):
    return struct.pack(">I", 8 + len(payload) if size is None else size) + typ + payload


def fullbox(typ, payload, version=0, flags=0):
    return box(typ, bytes([version]) + flags.to_bytes(3, "big") + payload)


def boxes(data, start=0, end=None):
    """(type, offset, header size, total size) of the boxes in data[start:end]."""
    end = len(data) if end is None else end
    out, off = [], start
    while off + 8 <= end:
        size, typ = struct.unpack(">I4s", data[off:off + 8])
        hdr = 8
        if size == 1:
            size, hdr = struct.unpack(">Q", data[off + 8:off + 16])[0], 16
        elif size == 0:
            size = end - off
        out.append((typ, off, hdr, size))
        off += size
    return out


def find(data, path):
    """The payload of the box at path (b"moov/trak/mdia"), and its offset."""
    start, end = 0, len(data)
    for name in path.split(b"/"):
        skip = {b"stsd": 8, b"mp4a": 28}.get(name, 0)
        for typ, off, hdr, size in boxes(data, start, end):
            if typ == name:
                start, end = off + hdr, off + size
                break
        else:
            raise KeyError(path)
        start += skip
    return data[start:end], start


class AacBase:
    """The esds and the first AAC frames of aac_mono_16k.m4a (16 kHz mono, 1024 samples a frame)."""

    def __init__(self):
        m = _read("aac_mono_16k.m4a")
        stbl = b"moov/trak/mdia/minf/stbl"
        self.esds = find(m, stbl + b"/stsd/mp4a/esds")[0]
        stsz = find(m, stbl + b"/stsz")[0]
        n = struct.unpack(">I", stsz[8:12])[0]
        sizes = struct.unpack(">%dI" % n, stsz[12:12 + 4 * n])
        stco = find(m, stbl + b"/stco")[0]
        assert struct.unpack(">I", stco[4:8])[0] == 1, "one chunk"
        off = struct.unpack(">I", stco[8:12])[0]
        self.frames = []
        for s in sizes[:9]:  # 9 frames of 1024: 0.576 s
            self.frames.append(m[off:off + s])
            off += s
        self.rate, self.channels = 16000, 1


def esds_box(esds_payload):
    return box(b"esds", esds_payload)


def asc_patch(esds_payload, rate_index=None, channels=None):
    """The esds with its AudioSpecificConfig's sampling frequency index or channel configuration changed."""
    p = bytearray(esds_payload)
    i = p.index(b"\x05", 4)  # DecoderSpecificInfo tag (after ES_Descriptor and DecoderConfigDescriptor)
    while p[i + 1] & 0x80:  # expandable size bytes
        i += 1
    a = i + 2  # the first two bytes of the AudioSpecificConfig: 5 bits type, 4 bits rate, 4 bits channels
    v = p[a] << 8 | p[a + 1]
    if rate_index is not None:
        v = (v & ~(0xF << 7)) | (rate_index << 7)
    if channels is not None:
        v = (v & ~(0xF << 3)) | (channels << 3)
    p[a], p[a + 1] = v >> 8, v & 0xFF
    return bytes(p)


MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def mp4a_entry(esds_payload, rate, channels, extra=b""):
    return box(b"mp4a", b"\0" * 6 + struct.pack(">H", 1) + b"\0" * 8 + struct.pack(">HHHHI", channels, 16, 0, 0,
                                                                                      rate << 16)
               + esds_box(esds_payload) + extra)


def dref_self():
    return fullbox(b"dref", struct.pack(">I", 1) + fullbox(b"url ", b"", flags=1))


def stbl_boxes(entry, sizes, chunk_offsets, per_chunk, delta=1024, stts=None, stsz=None, stco=None, stsc=None):
    stsd = fullbox(b"stsd", struct.pack(">I", 1) + entry)
    if stts is None:
        stts = fullbox(b"stts", struct.pack(">III", 1, len(sizes), delta))
    if stsc is None:
        stsc = fullbox(b"stsc", struct.pack(">IIII", 1, 1, per_chunk, 1))
    if stsz is None:
        stsz = fullbox(b"stsz", struct.pack(">II", 0, len(sizes)) + b"".join(struct.pack(">I", s) for s in sizes))
    if stco is None:
        stco = fullbox(b"stco", struct.pack(">I", len(chunk_offsets))
                       + b"".join(struct.pack(">I", o) for o in chunk_offsets))
    return stsd + stts + stsc + stsz + stco


def moov_box(stbl, timescale, duration, mvhd_duration=None, dref=None, handler=b"soun", udta=b"", extra_trak=b""):
    ms = min(duration * 1000 // max(timescale, 1), 0xFFFFFFFF)
    mvhd = fullbox(b"mvhd", struct.pack(">IIII", 0, 0, 1000, ms if mvhd_duration is None else mvhd_duration)
                   + struct.pack(">IH", 0x10000, 0x100) + b"\0" * 10 + MATRIX + b"\0" * 24 + struct.pack(">I", 3))
    tkhd = fullbox(b"tkhd", struct.pack(">IIIII", 0, 0, 1, 0, ms)
                   + b"\0" * 8 + struct.pack(">hhhH", 0, 0, 0x100, 0) + MATRIX + struct.pack(">II", 0, 0), flags=3)
    mdhd = fullbox(b"mdhd", struct.pack(">IIIIHH", 0, 0, timescale, duration, 0x55C4, 0))
    hdlr = fullbox(b"hdlr", struct.pack(">I4s", 0, handler) + b"\0" * 12 + b"SoundHandler\0")
    minf = box(b"minf", fullbox(b"smhd", b"\0" * 4) + box(b"dinf", dref_self() if dref is None else dref)
               + box(b"stbl", stbl))
    trak = box(b"trak", tkhd + box(b"mdia", mdhd + hdlr + minf))
    return box(b"moov", mvhd + trak + extra_trak + udta)


FTYP = box(b"ftyp", b"M4A " + struct.pack(">I", 512) + b"M4A isomiso2")


def mp4_file(base, frames=None, ftyp=FTYP, esds=None, rate=None, channels=None, entry=None, moov_first=True,
             mvhd_duration=None, mdhd_duration=None, dref=None, udta=b"", stbl_kw=None, mdat_size=None, tail=b"",
             extra_trak=b"", between=b""):
    """An M4A of base's AAC frames in one chunk, moov before mdat (or after it)."""
    frames = base.frames if frames is None else frames
    sizes = [len(f) for f in frames]
    rate = base.rate if rate is None else rate
    if entry is None:
        entry = mp4a_entry(base.esds if esds is None else esds, rate, base.channels if channels is None else channels)
    duration = min(1024 * len(frames), 0xFFFFFFFF) if mdhd_duration is None else mdhd_duration
    kw = stbl_kw or {}
    mdat_payload = b"".join(frames)

    def build(data_off):
        stbl = stbl_boxes(entry, sizes, [data_off], len(frames), **kw)
        return moov_box(stbl, rate, duration, mvhd_duration, dref, udta=udta, extra_trak=extra_trak)

    mdat_hdr = struct.pack(">I", 8 + len(mdat_payload) if mdat_size is None else mdat_size) + b"mdat"
    if moov_first:
        moov = build(0)
        moov = build(len(ftyp) + len(moov) + len(between) + 8)
        return ftyp + moov + between + mdat_hdr + mdat_payload + tail
    moov = build(len(ftyp) + len(between) + 8)
    return ftyp + between + mdat_hdr + mdat_payload + moov + tail


# ---------------------------------------------------------------------------
# EBML / Matroska


def vint(n, length=None):
    """An EBML size: the shortest form, or length bytes."""
    if length is None:
        length = 1
        while n >= (1 << (7 * length)) - 1:
            length += 1
    return ((1 << (7 * length)) | n).to_bytes(length, "big")


UNKNOWN = b"\x01\xff\xff\xff\xff\xff\xff\xff"


def el(eid, payload, size=None):
    """An element: payload bytes, an int (unsigned), a float (8 bytes) or a str."""
    if isinstance(payload, bool):
        raise TypeError
    if isinstance(payload, int):
        payload = payload.to_bytes(max(1, (payload.bit_length() + 7) // 8), "big")
    elif isinstance(payload, float):
        payload = struct.pack(">d", payload)
    elif isinstance(payload, str):
        payload = payload.encode()
    idb = eid.to_bytes((eid.bit_length() + 7) // 8, "big")
    return idb + (vint(len(payload)) if size is None else size) + payload


def ebml_head(doctype="webm"):
    return el(0x1A45DFA3, el(0x4286, 1) + el(0x42F7, 1) + el(0x42F2, 4) + el(0x42F3, 8) + el(0x4282, doctype)
              + el(0x4287, 4) + el(0x4285, 2))


def ebml_walk(data, start, end):
    """(id, payload start, payload end) of the elements in data[start:end]."""
    out, off = [], start
    while off < end:
        first = data[off]
        n = 1
        while not first & (0x80 >> (n - 1)):
            n += 1
        eid = int.from_bytes(data[off:off + n], "big")
        off += n
        first = data[off]
        m = 1
        while not first & (0x80 >> (m - 1)):
            m += 1
        size = int.from_bytes(data[off:off + m], "big") & ((1 << (7 * m)) - 1)
        off += m
        if size == (1 << (7 * m)) - 1:
            size = end - off
        out.append((eid, off, off + size))
        off += size
    return out


class OpusBase:
    """The CodecPrivate (OpusHead), CodecDelay and first packets of opus_mono.webm (48 kHz mono, 20 ms each)."""

    def __init__(self):
        w = _read("opus_mono.webm")
        (seg,) = [e for e in ebml_walk(w, 0, len(w)) if e[0] == 0x18538067]
        self.packets = []
        for eid, s, e in ebml_walk(w, seg[1], seg[2]):
            if eid == 0x1654AE6B:
                (entry,) = [x for x in ebml_walk(w, s, e) if x[0] == 0xAE]
                for fid, fs, fe in ebml_walk(w, entry[1], entry[2]):
                    if fid == 0x63A2:
                        self.head = w[fs:fe]
                    elif fid == 0x56AA:
                        self.delay = int.from_bytes(w[fs:fe], "big")
                    elif fid == 0x56BB:
                        self.preroll = int.from_bytes(w[fs:fe], "big")
            elif eid == 0x1F43B675:
                for bid, bs, be in ebml_walk(w, s, e):
                    if bid == 0xA3:
                        assert w[bs] == 0x81 and w[bs + 3] & 0x06 == 0, "track 1, no lacing"
                        self.packets.append(w[bs + 4:be])
        del self.packets[25:]  # 25 packets of 20 ms
        self.delay_samples = self.delay * 48000 // 1000000000  # CodecDelay is in nanoseconds
        self.rate, self.channels = 48000, 1


def opus_track(base, rate=48000.0, channels=1, codec="A_OPUS", private=None, number=1):
    audio = el(0xE1, el(0xB5, float(rate)) + el(0x9F, channels))
    return el(0xAE, el(0xD7, number) + el(0x73C5, number) + el(0x83, 2) + el(0x22B59C, "und") + el(0x86, codec)
              + el(0x63A2, base.head if private is None else private) + el(0x56AA, base.delay)
              + el(0x56BB, base.preroll) + audio)


def simple_block(payload, timecode, track=1, flags=0x80, lacing=b""):
    return el(0xA3, vint(track) + struct.pack(">hB", timecode, flags) + lacing + payload)


def cluster(blocks, timecode=0, size=None):
    return el(0x1F43B675, el(0xE7, timecode) + b"".join(blocks), size=size)


def info(duration_ms=None, scale=1000000):
    body = el(0x2AD7B1, scale) + el(0x4D80, "hostile_media.py") + el(0x5741, "hostile_media.py")
    if duration_ms is not None:
        body += el(0x4489, float(duration_ms))
    return el(0x1549A966, body)


def mkv(tracks, clusters, inf=None, extra=b"", doctype="webm", seg_size=None, tail=b""):
    body = (info() if inf is None else inf) + el(0x1654AE6B, b"".join(tracks)) + extra + b"".join(clusters)
    return ebml_head(doctype) + el(0x18538067, body, size=seg_size) + tail


def opus_blocks(base, packets=None, step=20):
    packets = base.packets if packets is None else packets
    return [simple_block(p, i * step) for i, p in enumerate(packets)]


def opus_mkv(base, **kw):
    return mkv([opus_track(base)], [cluster(opus_blocks(base))], **kw)


# ---------------------------------------------------------------------------
# FLAC frames with CONSTANT subframes: a few bytes for any block size


def crc8(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def utf8_num(n):
    if n < 0x80:
        return bytes([n])
    if n < 0x800:
        return bytes([0xC0 | n >> 6, 0x80 | n & 0x3F])
    if n < 0x10000:
        return bytes([0xE0 | n >> 12, 0x80 | n >> 6 & 0x3F, 0x80 | n & 0x3F])
    return bytes([0xF0 | n >> 18, 0x80 | n >> 12 & 0x3F, 0x80 | n >> 6 & 0x3F, 0x80 | n & 0x3F])


def flac_const_frame(number, block, value=1000):
    """A mono 16-bit 48 kHz frame of block samples all equal to value."""
    hdr = b"\xff\xf8" + bytes([0x7A, 0x08]) + utf8_num(number) + struct.pack(">H", block - 1)
    hdr += bytes([crc8(hdr)])
    frame = hdr + b"\x00" + struct.pack(">h", value)
    return frame + struct.pack(">H", crc16(frame))


def flac_private(block, total=0):
    si = struct.pack(">HH", block, block) + b"\0\0\0" + b"\0\0\0"
    si += (48000 << 44 | 0 << 41 | 15 << 36 | total).to_bytes(8, "big") + b"\0" * 16
    return b"fLaC" + bytes([0x80, 0, 0, 34]) + si


def flac_track(block, total=0):
    return el(0xAE, el(0xD7, 1) + el(0x73C5, 1) + el(0x83, 2) + el(0x22B59C, "und") + el(0x86, "A_FLAC")
              + el(0x63A2, flac_private(block, total)) + el(0xE1, el(0xB5, 48000.0) + el(0x9F, 1)))


def flac_const_mka(frames, block, per_cluster=1000):
    """frames constant FLAC frames of block samples in Matroska, per_cluster SimpleBlocks a cluster."""
    ms = block * 1000 // 48000
    clusters = []
    for c0 in range(0, frames, per_cluster):
        n = min(per_cluster, frames - c0)
        blocks = [simple_block(flac_const_frame(c0 + i, block), (i * ms) & 0x7FFF) for i in range(n)]
        clusters.append(cluster(blocks, timecode=c0 * ms))
    return mkv([flac_track(block)], clusters, doctype="matroska")


# ---------------------------------------------------------------------------


def add(c, changes, MARKER, INJECT):
    from gen_hostile import HTML, ZIP, png_rgb  # the shared payloads

    aac = AacBase()
    opus = OpusBase()
    n_aac = len(aac.frames)
    # No edit list here: every frame's 1024 samples count, the encoder's priming included (ffmpeg agrees).
    aac_shape = "pcm:16000:1:%d" % (1024 * n_aac)
    opus_frames = 960 * len(opus.packets) - opus.delay_samples  # 20 ms packets less the pre-skip
    opus_shape = "pcm:48000:1:%d" % opus_frames
    md = changes("metadata_dropped")
    fc = changes("format_converted")
    m4a = mp4_file(aac)
    webm = opus_mkv(opus)

    # -- structure: box and element sizes, truncation, external references, lacing
    cls = "structure"
    c.add("mp4_control.m4a", m4a, cls, "ok", typ=MP4_T, shape=aac_shape,
          desc="control: %d AAC frames of corpus/media/aac_mono_16k.m4a re-muxed here (moov first, no edit list)"
          % n_aac)
    c.add("mkv_control.webm", webm, cls, "ok", typ=MKV_T, shape=opus_shape,
          desc="control: %d Opus packets of corpus/media/opus_mono.webm re-muxed here" % len(opus.packets))
    moov_off = boxes(m4a)[1][1]
    lie = bytearray(m4a)
    struct.pack_into(">I", lie, moov_off, len(m4a) - moov_off + 4096)
    c.add("mp4_moov_size_past_eof.m4a", bytes(lie), cls, "ok", typ=MP4_T, shape=aac_shape,
          desc="a moov box (first) whose size runs 4 KiB past the end of the file, swallowing the mdat: FFmpeg, "
          "like the ffmpeg CLI, ends it at the end of the file; every sample is there and decoded")
    zero = bytearray(m4a)
    struct.pack_into(">I", zero, moov_off, 0)
    c.add("mp4_moov_size_0.m4a", bytes(zero), cls, "ok", typ=MP4_T, shape=aac_shape,
          desc="a moov box of size 0 (ISO BMFF: to the end of the file) in front of the mdat")
    c.add("mp4_moov_size_2_62.m4a", m4a[:moov_off] + struct.pack(">I4sQ", 1, b"moov", 1 << 62) + m4a[moov_off + 8:],
          cls, "malformed", typ=MP4_T, desc="a moov box with a 64-bit size of 2^62")
    c.add("mp4_moov_size_2_64.m4a",
          m4a[:moov_off] + struct.pack(">I4sQ", 1, b"moov", 0xFFFFFFFFFFFFFFFF) + m4a[moov_off + 8:], cls,
          "malformed", typ=MP4_T, desc="a moov box with a 64-bit size of 2^64-1")
    c.add("mp4_largesize_8.m4a", m4a[:moov_off] + struct.pack(">I4sQ", 1, b"moov", 8) + m4a[moov_off + 8:], cls,
          "malformed", typ=MP4_T, desc="a 64-bit box size of 8, less than its own 16-byte header")
    trak_lie = bytearray(m4a)
    moov_body, moov_start = find(m4a, b"moov")
    for typ, off, _, size in boxes(m4a, moov_start, moov_start + len(moov_body)):
        if typ == b"trak":
            struct.pack_into(">I", trak_lie, off, size + 100000)
    c.add("mp4_trak_bigger_than_moov.m4a", bytes(trak_lie), cls, "ok", typ=MP4_T, shape=aac_shape,
          desc="a trak box 100 KB bigger than the moov that holds it: FFmpeg ends a child at its parent's end")
    _, stsd_off = find(m4a, b"moov/trak/mdia/minf/stbl/stsd")
    entry_lie = bytearray(m4a)
    struct.pack_into(">I", entry_lie, stsd_off, 65536)  # the mp4a entry, after the stsd's version, flags, count
    c.add("mp4_sample_entry_bigger_than_stsd.m4a", bytes(entry_lie), cls, "malformed", typ=MP4_T,
          desc="an mp4a sample entry claiming 64 KiB inside a 100-byte stsd: FFmpeg reads on past the stsd and "
          "logs an error ('Broken file, trak/mdat not at top-level'), which is heard")
    ml = mp4_file(aac, moov_first=False)
    moov_end_off = next(b for b in boxes(ml) if b[0] == b"moov")[1]
    c.add("mp4_moov_at_end_cut.m4a", ml[:moov_end_off + 200], cls, "malformed", typ=MP4_T,
          desc="moov after mdat, cut 200 bytes into the moov (inside the trak): a track that is neither sound "
          "nor pictures (was unsupported, as if a video without sound)")
    c.add("mp4_moov_first_cut.m4a", m4a[:moov_off + 200], cls, "malformed", typ=MP4_T,
          desc="moov first, cut 200 bytes into it (inside the trak), the mdat lost")
    c.add("mp4_moov_header_only.m4a", ml[:moov_end_off + 8], cls, "malformed", typ=MP4_T,
          desc="ftyp, mdat and the 8-byte header of a moov whose body is missing: no track at all")
    c.add("mp4_moov_last_byte_cut.m4a", ml[:-1], cls, "malformed", typ=MP4_T,
          desc="moov after mdat, the file's last byte cut (inside the moov's last box)")
    c.add("mp4_mdat_cut.m4a", m4a[:len(m4a) - len(b"".join(aac.frames)) // 2], cls, "malformed", typ=MP4_T,
          desc="moov first, the mdat cut in half: the sample table points past the end")
    c.add("mp4_no_moov.m4a", ml[:moov_end_off], cls, "malformed", typ=MP4_T, desc="ftyp and mdat, no moov at all")
    c.add("mp4_mdat_size_lie.m4a", mp4_file(aac, mdat_size=0xFFFFFFF0), cls, "ok", typ=MP4_T, shape=aac_shape,
          desc="the last box, mdat, claims 4 GiB: the sample table points only inside the file")
    # dref: the track's data elsewhere. FFmpeg's enable_drefs is off (and airlock's io_open fails with EPERM).
    c.add("mp4_dref_alis.m4a",
          mp4_file(aac, dref=fullbox(b"dref", struct.pack(">I", 1) + fullbox(b"alis", alis_record("/etc/passwd")))),
          cls, "malformed", typ=MP4_T, cve="CWE-610",
          desc="a QuickTime alias (alis) naming /etc/passwd as the track's data: FFmpeg skips the external track, "
          "the track has no data: refused, nothing opened")
    for name, url in (("mp4_dref_url_file.m4a", "file:///etc/passwd"),
                      ("mp4_dref_url_http.m4a", "http://attacker.invalid/a.m4a")):
        c.add(name, mp4_file(aac, dref=fullbox(b"dref", struct.pack(">I", 1) + fullbox(b"url ", url.encode()
                                                                                        + b"\0"))),
              cls, "ok", typ=MP4_T, shape=aac_shape, cve="CWE-610",
              desc="a dref url entry (flags 0: not self-contained) naming %s: nothing is opened (io_open refuses, "
              "and FFmpeg ignores url entries); the samples are the bytes at the sample offsets of this file itself, "
              "so the reference reaches nothing" % url)
    # Matroska sizes.
    c.add("mkv_segment_unknown_size.webm", opus_mkv(opus, seg_size=UNKNOWN), cls, "ok", typ=MKV_T,
          shape=opus_shape, desc="a Segment of unknown size (as live streams write): legal, decoded")
    c.add("mkv_segment_size_huge.webm", opus_mkv(opus, seg_size=vint((1 << 56) - 3, 8)), cls, "malformed",
          typ=MKV_T, desc="a Segment claiming 2^56-3 bytes (64 PB) over a 3 KB file: the demuxer reads to the end "
          "and reports the file ended prematurely, an error (a Segment of unknown size is legal: the row above)")
    c.add("mkv_cluster_size_huge.webm", mkv([opus_track(opus)], [cluster(opus_blocks(opus), size=vint(1 << 48, 8))]),
          cls, "malformed", typ=MKV_T, desc="the last Cluster claims 2^48 bytes: the file ended prematurely")
    c.add("mkv_tracks_size_1g.webm",
          ebml_head() + el(0x18538067, info() + el(0x1654AE6B, opus_track(opus), size=vint(1 << 30, 8))
                           + cluster(opus_blocks(opus))), cls, "malformed", typ=MKV_T,
          desc="a Tracks element claiming 1 GiB: the demuxer stops it at its parent's end (nothing of that size "
          "is read or allocated) and reports the element exceeding its parent, an error")
    nest = b""
    for _ in range(200):
        nest = el(0xEC, b"") + el(0x1254C367, nest)
    c.add("mkv_deep_nesting.webm", opus_mkv(opus, extra=nest), cls, "ok", typ=MKV_T, shape=opus_shape,
          desc="Tags elements nested 200 deep before the first Cluster (skipped unread)")
    unk = ebml_head() + el(0x18538067, info() + el(0x1654AE6B, opus_track(opus)) + el(0x1F43B675, b"", size=UNKNOWN)
                           + b"".join(el(0x1254C367, b"", size=UNKNOWN) for _ in range(100))
                           + cluster(opus_blocks(opus)))
    c.add("mkv_unknown_size_chain.webm", unk, cls, "malformed", typ=MKV_T,
          desc="an empty unknown-size Cluster, then 100 unknown-size Tags masters (unknown sizes are for Segment "
          "and Cluster only), then the real Cluster: the demuxer's errors are heard")
    c.add("mkv_cluster_cut.webm", webm[:len(webm) * 2 // 3], cls, "malformed", typ=MKV_T,
          desc="the only Cluster cut a third before its end, inside a SimpleBlock: the demuxer's error is heard "
          "(was ok with the frames before the cut, as the ffmpeg CLI, which only warns)")
    c.add("mkv_last_byte_cut.webm", webm[:-1], cls, "malformed", typ=MKV_T,
          desc="the file's last byte cut, inside the last SimpleBlock (was ok, the block dropped without a word)")
    c.add("mkv_cut_before_cluster.webm", webm[:webm.index(b"\x1f\x43\xb6\x75")], cls, "malformed", typ=MKV_T,
          desc="cut just before the first Cluster: headers, no audio")
    c.add("mkv_cut_in_tracks.webm", webm[:webm.index(b"\x1f\x43\xb6\x75") - 20], cls, "malformed", typ=MKV_T,
          desc="cut inside the Tracks element, no Cluster")
    p0 = opus.packets[0]
    xiph = simple_block(p0, 0, flags=0x82, lacing=bytes([254]) + b"\xff" * 20)
    c.add("mkv_xiph_lacing_255_frames.webm", mkv([opus_track(opus)], [cluster([xiph, *opus_blocks(opus)[1:]])]),
          cls, "malformed", typ=MKV_T,
          desc="Xiph lacing announcing 255 frames whose sizes (255 and more each) run far past the block")
    lace = simple_block(p0, 0, flags=0x86, lacing=bytes([254]) + vint((1 << 28) - 2, 4) + b"\xbf" * 253)
    c.add("mkv_ebml_lacing_255_frames.webm", mkv([opus_track(opus)], [cluster([lace, *opus_blocks(opus)[1:]])]),
          cls, "malformed", typ=MKV_T,
          desc="EBML lacing announcing 255 frames, the first of 2^28-2 bytes, the rest differences of 0")
    fixed = simple_block(b"\xfc" * 255, 0, flags=0x84, lacing=bytes([254]))
    c.add("mkv_fixed_lacing_255_frames.webm", mkv([opus_track(opus)], [cluster([fixed] * 200)]), cls, "too_long",
          "max_seconds", MKV_T, desc="200 blocks of fixed-size lacing, 255 one-byte Opus frames each (TOC 0xfc: "
          "20 ms of silence each): 1020 s from 53 KB, stopped at max_seconds (600 s)")
    tc = [simple_block(pk, -32768 if i % 2 else 32767) for i, pk in enumerate(opus.packets)]
    c.add("mkv_block_timecode_lie.webm", mkv([opus_track(opus)], [cluster(tc, timecode=(1 << 56) - 2)]), cls, "ok",
          typ=MKV_T, shape=opus_shape, desc="a Cluster timecode of 2^56-2 and block timecodes alternating -32768 "
          "and 32767: airlock counts the decoded samples, not timestamps")

    # -- audio header lies: the container against the stream; the decoded values are what is reported
    cls = "audio_header_lie"
    c.add("mp4_mp4a_rate_lie.m4a", mp4_file(aac, entry=mp4a_entry(aac.esds, 48000, 2)), cls, "ok", typ=MP4_T,
          shape=aac_shape, desc="the mp4a sample entry says 48 kHz stereo, the AudioSpecificConfig and the frames "
          "16 kHz mono: 16 kHz mono is reported")
    c.add("mp4_mp4a_rate_0.m4a", mp4_file(aac, entry=mp4a_entry(aac.esds, 0, 0)), cls, "ok", typ=MP4_T,
          shape=aac_shape, desc="the mp4a sample entry says 0 Hz and 0 channels: the stream's values are reported")
    c.add("mp4_asc_rate_12k.m4a", mp4_file(aac, esds=asc_patch(aac.esds, rate_index=9)), cls, "ok", typ=MP4_T,
          shape="pcm:12000:1:%d" % (1024 * n_aac), desc="the AudioSpecificConfig says 12 kHz over frames coded at "
          "16 kHz (the same scalefactor band tables), the sample entry 16 kHz: raw AAC frames carry no rate, the "
          "decoder's 12 kHz is reported (as ffmpeg gives it)")
    c.add("mp4_asc_rate_48k.m4a", mp4_file(aac, esds=asc_patch(aac.esds, rate_index=3)), cls, "malformed",
          typ=MP4_T, desc="the AudioSpecificConfig says 48 kHz over frames coded at 16 kHz, whose scalefactor bands "
          "do not fit 48 kHz's tables")
    c.add("mp4_asc_rate_index_15.m4a", mp4_file(aac, esds=asc_patch(aac.esds, rate_index=15)), cls, "malformed",
          typ=MP4_T, desc="the AudioSpecificConfig's escape rate index 15 with no 24-bit rate after it")
    c.add("mp4_asc_rate_index_13.m4a", mp4_file(aac, esds=asc_patch(aac.esds, rate_index=13)), cls, "malformed",
          typ=MP4_T, desc="the AudioSpecificConfig's reserved rate index 13")
    c.add("mp4_asc_stereo.m4a", mp4_file(aac, esds=asc_patch(aac.esds, channels=2)), cls, "ok", typ=MP4_T,
          shape="pcm:16000:2:%d" % (1024 * n_aac), desc="the AudioSpecificConfig says stereo, the frames carry one "
          "mono element: the decoder outputs 2 channels (as ffmpeg does), which is what is reported")
    c.add("mp4_asc_channels_7.m4a", mp4_file(aac, esds=asc_patch(aac.esds, channels=7)), cls, "ok", typ=MP4_T,
          shape="pcm:16000:8:%d" % (1024 * n_aac), desc="the AudioSpecificConfig says 7.1, the frames carry one mono "
          "element: the decoder outputs 8 channels (as ffmpeg does)")
    c.row("mp4_asc_channels_7.m4a", cls, "out_of_range", "max_channels", MP4_T, opts="max_channels=2",
          desc="the same under max_channels=2: the decoded 8 channels are refused")
    c.add("mp4_duration_hours.m4a", mp4_file(aac, mvhd_duration=36000000, mdhd_duration=16000 * 36000), cls, "ok",
          typ=MP4_T, shape=aac_shape,
          desc="mvhd, tkhd and mdhd durations of 10 hours over %.3f s of frames: the decoded length wins"
          % (1024 * n_aac / 16000))
    c.add("mkv_duration_hours.webm", opus_mkv(opus, inf=info(duration_ms=36000000)), cls, "ok", typ=MKV_T,
          shape=opus_shape, desc="an Info duration of 10 hours over 0.5 s of Opus: the decoded length wins")
    c.add("mkv_rate_channels_lie.webm", mkv([opus_track(opus, rate=8000.0, channels=2)], [cluster(opus_blocks(opus))]),
          cls, "ok", typ=MKV_T, shape=opus_shape,
          desc="the track says 8 kHz stereo, the OpusHead and the packets 48 kHz mono: 48 kHz mono is reported")
    c.add("mkv_rate_0.webm", mkv([opus_track(opus, rate=0.0, channels=0)], [cluster(opus_blocks(opus))]), cls, "ok",
          typ=MKV_T, shape=opus_shape, desc="the track says 0 Hz and 0 channels: the stream's values are reported")
    head8 = bytearray(opus.head)
    head8[9] = 8
    c.add("mkv_opushead_8_channels.webm", mkv([opus_track(opus, private=bytes(head8))], [cluster(opus_blocks(opus))]),
          cls, "malformed", typ=MKV_T, desc="an OpusHead of 8 channels with mapping family 0 (which allows 1 or 2)")
    c.add("mkv_opus_private_missing.webm", mkv([opus_track(opus, private=b"")], [cluster(opus_blocks(opus))]), cls,
          "ok", typ=MKV_T, shape="pcm:48000:1:%d" % (960 * len(opus.packets)),
          desc="an Opus track with an empty CodecPrivate: no OpusHead, so no pre-skip (ffmpeg decodes the same)")

    # -- decompression bombs: sample tables and tiny frames
    cls = "decompression_bomb"
    c.add("mp4_stsz_count_2_32.m4a",
          mp4_file(aac, stbl_kw={"stsz": fullbox(b"stsz", struct.pack(">II", 0, 0xFFFFFFFF))}), cls, "malformed",
          typ=MP4_T, desc="an stsz of 2^32-1 entries in a 20-byte box (a table of 16 GiB)")
    c.add("mp4_stco_count_2_30.m4a",
          mp4_file(aac, stbl_kw={"stco": fullbox(b"stco", struct.pack(">II", 1 << 30, 48))}), cls, "memory",
          "memory_bytes", MP4_T, desc="an stco of 2^30 chunk offsets in a 20-byte box: FFmpeg allocates the 8 GiB "
          "table the count asks for before reading it, and the worker's address-space limit stops it")
    c.add("mp4_stts_count_2_32.m4a",
          mp4_file(aac, stbl_kw={"stts": fullbox(b"stts", struct.pack(">III", 0xFFFFFFFF, n_aac, 1024))}), cls,
          "memory", "memory_bytes", MP4_T, desc="an stts of 2^32-1 entries in a 24-byte box: 32 GiB asked for, "
          "stopped by the address-space limit")
    c.add("mp4_stts_samples_2_32.m4a",
          mp4_file(aac, stbl_kw={"stts": fullbox(b"stts", struct.pack(">III", 1, 0xFFFFFFFF, 1024))}), cls, "ok",
          typ=MP4_T, shape=aac_shape, desc="one stts entry of 2^32-1 samples over %d frames: the frames decide" % n_aac)
    c.add("mp4_stsc_samples_per_chunk_2_32.m4a",
          mp4_file(aac, stbl_kw={"stsc": fullbox(b"stsc", struct.pack(">IIII", 1, 1, 0xFFFFFFFF, 1))}), cls,
          "malformed", typ=MP4_T,
          desc="an stsc of 2^32-1 samples in the one chunk over an stsz of %d: FFmpeg repairs the entry (and "
          "warns) and would give one sample of the file as the whole; the warning is heard (was ok, 1024 of %d "
          "frames, as the ffmpeg CLI gives)" % (n_aac, 1024 * n_aac))

    def one_byte_samples(count):
        def make():
            stsz = fullbox(b"stsz", struct.pack(">II", 1, count))
            stts = fullbox(b"stts", struct.pack(">III", 1, count, 1024))
            stsc = fullbox(b"stsc", struct.pack(">IIII", 1, 1, count, 1))
            return mp4_file(aac, frames=[b"\x00"] * count, stbl_kw={"stsz": stsz, "stts": stts, "stsc": stsc})
        return make

    c.add("mp4_4m_one_byte_samples.m4a", one_byte_samples(4 << 20), cls, "malformed", typ=MP4_T, large=True,
          desc="4,194,304 AAC samples of one byte each, described by a 20-byte stsz: the index is built (4 M "
          "entries), the first one-byte frame is no AAC frame")
    c.add("mp4_stsz_1_byte_claims_16m.m4a",
          mp4_file(aac, frames=[b"\x00"] * 4096,
                   stbl_kw={"stsz": fullbox(b"stsz", struct.pack(">II", 1, 16 << 20)),
                            "stts": fullbox(b"stts", struct.pack(">III", 1, 16 << 20, 1024)),
                            "stsc": fullbox(b"stsc", struct.pack(">IIII", 1, 1, 16 << 20, 1))}), cls, "malformed",
          typ=MP4_T, desc="a constant sample size of 1 for 16,777,216 samples over 4096 bytes of mdat")
    bomb = flac_const_mka(1000, 65535)
    c.add("mka_flac_const_1000x65535.mka", bomb, cls, "too_long", "max_seconds", MKV_T,
          desc="1000 constant FLAC frames of 65535 samples at 48 kHz in %d bytes: 1365 s of audio, stopped at "
          "max_seconds (600 s)" % len(bomb))
    c.row("mka_flac_const_1000x65535.mka", cls, "too_long", "max_decoded_bytes", MKV_T,
          opts="max_seconds=3000,max_decoded_bytes=100000000",
          desc="the same under max_seconds=3000: 262 MB of float, stopped at max_decoded_bytes (100 MB)")

    # -- cpu bombs: tens of thousands of tiny packets
    cls = "cpu_bomb"
    c.add("mka_flac_50000_tiny_frames.mka", lambda: flac_const_mka(50000, 16), cls, "ok", typ=MKV_T,
          shape="pcm:48000:1:800000", changes=fc, large=True,
          desc="50,000 constant FLAC frames of 16 samples, one packet each (800,000 samples): decoded within the "
          "default CPU and time limits")
    c.add("webm_opus_60000_tiny_packets.webm",
          lambda: mkv([opus_track(opus)], [cluster([simple_block(b"\xfc", (i * 20) & 0x7FFF) for i in range(1000)],
                                                   timecode=k * 20000) for k in range(60)]), cls, "too_long",
          "max_seconds", MKV_T, large=True, desc="60,000 one-byte Opus packets (TOC only: 20 ms of silence each, "
          "20 minutes in all): stopped at max_seconds (600 s), within the default CPU and time limits")

    # -- size limits
    cls = "size_limit"
    c.row("mp4_control.m4a", cls, "input_too_big", "max_audio_input_bytes", MP4_T,
          opts="max_audio_input_bytes=%d" % (len(m4a) - 1), desc="one byte over max_audio_input_bytes")
    c.row("mp4_control.m4a", cls, "ok", typ=MP4_T, shape=aac_shape, opts="max_audio_input_bytes=%d" % len(m4a),
          desc="the same exactly at the limit")
    tone20 = flac_const_mka(200, 4800)
    c.add("mka_flac_20s.mka", tone20, cls, "too_long", "max_seconds", MKV_T, opts="max_seconds=19",
          desc="200 constant FLAC frames of 0.1 s (20 s) in %d bytes, over max_seconds=19" % len(tone20))
    c.row("mka_flac_20s.mka", cls, "ok", typ=MKV_T, shape="pcm:48000:1:960000", changes=fc, opts="max_seconds=20",
          desc="the same exactly at the limit")
    c.row("mkv_control.webm", cls, "too_long", "max_decoded_bytes", MKV_T,
          opts="max_decoded_bytes=%d" % (4 * opus_frames - 1),
          desc="%d frames of float (%d bytes), one byte over max_decoded_bytes" % (opus_frames, 4 * opus_frames))
    c.row("mkv_control.webm", cls, "ok", typ=MKV_T, shape=opus_shape, opts="max_decoded_bytes=%d" % (4 * opus_frames),
          desc="the same exactly at the limit")

    # -- polyglots
    cls = "polyglot"
    c.add("mp4_plus_zip.m4a", m4a + ZIP, cls, "ok", typ=MP4_T, shape=aac_shape,
          desc="a ZIP archive after the last box (an MP4 that is also a valid ZIP)")
    c.add("mp4_zip_in_free.m4a", mp4_file(aac, between=box(b"free", ZIP)), cls, "ok", typ=MP4_T, shape=aac_shape,
          desc="a ZIP archive inside a free box between moov and mdat")
    c.add("mp4_html_in_udta.m4a", mp4_file(aac, udta=box(b"udta", box(b"html", HTML))), cls, "ok", typ=MP4_T,
          shape=aac_shape, desc="an HTML page with a script in an unknown udta box (never read)")
    c.add("mp4_png_in_free.m4a", mp4_file(aac, between=box(b"free", png_rgb())), cls, "ok", typ=MP4_T,
          shape=aac_shape, desc="a whole PNG inside a free box")
    c.add("mkv_plus_zip.webm", webm + ZIP, cls, "ok", typ=MKV_T, shape=opus_shape,
          desc="a ZIP archive after the Segment (a WebM that is also a valid ZIP)")
    c.add("mkv_html_in_void.webm", opus_mkv(opus, extra=el(0xEC, HTML)), cls, "ok", typ=MKV_T, shape=opus_shape,
          desc="an HTML page inside a Void element")
    for brand, mime in ((b"avif", "image/avif"), (b"heic", "image/heic"), (b"mif1", "image/heif")):
        ft = box(b"ftyp", brand + struct.pack(">I", 0) + brand + b"mif1")
        c.add("mp4_ftyp_%s.m4a" % brand.decode(), mp4_file(aac, ftyp=ft), cls, "unsupported", typ="mime:" + mime,
              desc="an audio MP4 whose ftyp names the %s image brand: libmagic says %s, refused by name before "
              "FFmpeg sees it" % (brand.decode(), mime))
    c.add("png_then_mp4.png", png_rgb() + m4a, cls, "ok", typ="png", shape="img:16x8x3",
          changes=changes("trailing_dropped"), desc="a PNG with an M4A after its IEND: a PNG, the MP4 dropped")

    # -- disguise
    cls = "disguise"
    c.add("mp4_named_png.png", m4a, cls, "ok", typ=MP4_T, shape=aac_shape,
          desc="an M4A under a PNG name: detected and decoded as MP4")
    c.row("mp4_named_png.png", cls, "type_mismatch", typ=MP4_T, opts="expect=png",
          desc="the same when a PNG is expected")
    c.row("mp4_named_png.png", cls, "type", "allowed_types", MP4_T, opts="allow=image",
          desc="the same when only images are allowed")
    c.row("mkv_control.webm", cls, "type_mismatch", typ=MKV_T, opts="expect=mp4", desc="a WebM where MP4 is expected")
    c.row("mp4_control.m4a", cls, "type_mismatch", typ=MP4_T, opts="expect=matroska",
          desc="an M4A where Matroska is expected")
    c.row("mp4_control.m4a", cls, "type", "allowed_types", MP4_T, opts="allow=audio",
          desc="an M4A under AIRLOCK_TYPES_AUDIO, the plain audio formats (the containers are AIRLOCK_TYPES_MEDIA; "
          "the CLI's and Python's \"audio\" name both)")

    # -- metadata payloads
    cls = "metadata_payload"
    ilst = box(b"meta", struct.pack(">I", 0) + fullbox(b"hdlr", struct.pack(">I4s", 0, b"mdir") + b"appl" + b"\0" * 9)
               + box(b"ilst", box(b"\xa9nam", box(b"data", struct.pack(">II", 1, 0) + INJECT.encode()))
                     + box(b"\xa9cmt", box(b"data", struct.pack(">II", 1, 0) + HTML))))
    c.add("mp4_ilst_injection.m4a", mp4_file(aac, udta=box(b"udta", ilst)), cls, "ok", typ=MP4_T, shape=aac_shape,
          changes=md, desc="iTunes title and comment atoms holding the injection text and an HTML page")
    tags = el(0x1254C367, el(0x7373, el(0x63C0, b"") + el(0x67C8, el(0x45A3, "TITLE") + el(0x4487, INJECT))
                                 + el(0x67C8, el(0x45A3, "COMMENT") + el(0x4487, HTML))))
    c.add("mkv_tags_injection.webm", opus_mkv(opus, extra=tags), cls, "ok", typ=MKV_T, shape=opus_shape, changes=md,
          desc="Matroska Tags holding the injection text and an HTML page")
    chapters = el(0x1043A770, el(0x45B9, el(0xB6, el(0x73C4, 1) + el(0x91, 0)
                                             + el(0x80, el(0x85, INJECT) + el(0x437C, "eng")))))
    c.add("mkv_chapter_injection.webm", opus_mkv(opus, extra=chapters), cls, "ok", typ=MKV_T, shape=opus_shape,
          changes=md, desc="a chapter whose title is the injection text")
    attach = el(0x1941A469, el(0x61A7, el(0x466E, "readme.html") + el(0x4660, "text/html") + el(0x465C, HTML)
                                 + el(0x46AE, 7)))
    c.add("mkv_attachment_html.mka", mkv([opus_track(opus)], [cluster(opus_blocks(opus))], extra=attach,
                                         doctype="matroska"), cls, "ok", typ=MKV_T, shape=opus_shape, changes=md,
          desc="an HTML attachment (text/html) in a Matroska audio file")
    del MARKER


def alis_record(path):
    """A minimal classic Mac OS alias record (the fields the mov demuxer reads) naming path."""
    rec = bytearray(150)
    struct.pack_into(">4sHH", rec, 0, b"\0\0\0\0", 150, 2)  # creator, size, version 2
    struct.pack_into(">H", rec, 8, 0)  # kind: file
    vol = b"Macintosh HD"
    rec[10] = len(vol)
    rec[11:11 + len(vol)] = vol
    name = os.path.basename(path).encode()
    rec[50] = len(name)
    rec[51:51 + len(name)] = name
    rec[122:124] = struct.pack(">H", 2)  # nlvl from
    rec[124:126] = struct.pack(">H", 3)  # nlvl to
    extra = b""
    for t, v in ((2, path.encode()), (18, path.encode()), (19, b"/..")):
        extra += struct.pack(">hH", t, len(v)) + v + (b"\0" if len(v) & 1 else b"")
    extra += struct.pack(">hH", -1, 0)
    data = bytes(rec) + extra
    return data[:4] + struct.pack(">H", len(data)) + data[6:]
