#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the Vorbis setup-header cases of issue 13 into corpus/hostile/.

    python3 corpus/gen_vorbis_setup.py DIR      # the hostile files into DIR (gen_hostile.py writes them into corpus/hostile/)
    python3 corpus/gen_vorbis_setup.py --real   # corpus/vorbis_setup_real/ (needs oggenc)

Every byte is built here with the standard library: the Vorbis headers with an
LSb-first bit writer (Vorbis I spec, sections 4.2 and 3.2.1), the Ogg pages
with their CRCs recomputed (RFC 3533). Deterministic: fixed serial, no
timestamps.

  vorbis_setup_minimal.ogg         a valid file: one 2-entry codebook, one
                                   floor 1, one residue, 64 audio packets that
                                   leave the floor unused (1 s of silence)
  vorbis_setup_bomb_255_books.ogg  255 codebooks of 2^22 entries each, coded
                                   "ordered" in 12 bytes apiece, and no audio:
                                   libvorbis allocates 1.07 GB of length lists
                                   in vorbis_synthesis_headerin, then needs
                                   64 MB of stack per book in
                                   vorbis_synthesis_init
  vorbis_setup_over_budget.ogg     the minimal file with one codebook just big
                                   enough (2 dimensions) to cost more than
                                   VORBIS_SETUP_BUDGET in decoders/vorbis_setup.c
  vorbis_setup_cut_mid_codebook.ogg  the minimal file's setup header cut in the
                                   middle of its second codebook's length list
                                   (valid Ogg framing around it)
"""

import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oggcrc import ogg_crc  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SERIAL = 0x5E7B0013

# decoders/vorbis_setup.h: VORBIS_SETUP_BUDGET.
BUDGET = 1 << 25


class Bits:
    """Vorbis packs LSb first (spec 2.1.4)."""

    def __init__(self):
        self.out = bytearray()
        self.n = 0

    def put(self, value, width):
        for i in range(width):
            if self.n % 8 == 0:
                self.out.append(0)
            self.out[-1] |= ((value >> i) & 1) << (self.n % 8)
            self.n += 1

    def bytes(self):
        return bytes(self.out)


def ilog(v):
    return v.bit_length()


def ogg_page(flags, granule, seq, segments, body):
    head = b"OggS" + struct.pack("<BBqIII", 0, flags, granule, SERIAL, seq, 0)
    head += bytes([len(segments)]) + bytes(segments)
    page = bytearray(head + body)
    page[22:26] = struct.pack("<I", ogg_crc(page))
    return bytes(page)


def ogg_stream(groups):
    """groups: lists of (packets, granule); each group starts a new page.
    Packets longer than a page continue on the next (flag 1)."""
    out, seq = bytearray(), 0
    for gi, (packets, granule) in enumerate(groups):
        laced = []  # (segment, data, last segment of its packet)
        for p in packets:
            for i in range(0, len(p) // 255 + 1):
                chunk = p[i * 255:(i + 1) * 255]
                laced.append((len(chunk), chunk))
        continued = False
        while laced:
            take, laced = laced[:255], laced[255:]
            flags = (2 if seq == 0 else 0) | (1 if continued else 0)
            if not laced and gi == len(groups) - 1:
                flags |= 4
            segs = [s for s, _ in take]
            out += ogg_page(flags, granule if not laced else -1, seq, segs, b"".join(d for _, d in take))
            continued = segs[-1] == 255
            seq += 1
    return bytes(out)


def id_header(channels, rate, bs0=8, bs1=8):
    return (b"\x01vorbis" + struct.pack("<IBIiiiB", 0, channels, rate, 0, 0, 0, bs0 | bs1 << 4) + b"\x01")


def comment_header():
    vendor = b"airlock gen_vorbis_setup.py"
    return b"\x03vorbis" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0) + b"\x01"


def book_unordered(b, dim, lengths):
    """lengths: 0 for an unused entry (then the sparse flag is set)."""
    b.put(0x564342, 24)
    b.put(dim, 16)
    b.put(len(lengths), 24)
    b.put(0, 1)  # unordered
    sparse = any(n == 0 for n in lengths)
    b.put(1 if sparse else 0, 1)
    for n in lengths:
        if sparse:
            b.put(1 if n else 0, 1)
            if not n:
                continue
        b.put(n - 1, 5)


def book_ordered(b, dim, entries, first_length, nums):
    """Runs of codeword lengths first_length, first_length + 1, ..."""
    b.put(0x564342, 24)
    b.put(dim, 16)
    b.put(entries, 24)
    b.put(1, 1)  # ordered
    b.put(first_length - 1, 5)
    i = 0
    for num in nums:
        b.put(num, ilog(entries - i))
        i += num
    assert i == entries


def lookup_none(b):
    b.put(0, 4)


def lookup_type1(b, quantvals, quant_bits=1):
    b.put(1, 4)
    b.put(0, 32)  # q_min
    b.put(0, 32)  # q_delta
    b.put(quant_bits - 1, 4)
    b.put(0, 1)  # not a sequence
    for i in range(quantvals):
        b.put(i & ((1 << quant_bits) - 1), quant_bits)


def setup_tail(b, groupbook=0):
    """One time slot, one floor 1 with no partitions, one residue 0 with a
    single partition class and no cascade, one mapping, one mode."""
    b.put(0, 6)
    b.put(0, 16)  # time type 0
    b.put(0, 6)  # 1 floor
    b.put(1, 16)  # floor type 1
    b.put(0, 5)  # no partitions
    b.put(0, 2)  # multiplier 1
    b.put(8, 4)  # rangebits: posts 0 and 256
    b.put(0, 6)  # 1 residue
    b.put(0, 16)  # residue type 0
    b.put(0, 24)  # begin
    b.put(128, 24)  # end
    b.put(15, 24)  # grouping 16
    b.put(0, 6)  # 1 partition class
    b.put(groupbook, 8)
    b.put(0, 3)  # cascade 0
    b.put(0, 1)
    b.put(0, 6)  # 1 mapping
    b.put(0, 16)  # mapping type 0
    b.put(0, 1)  # one submap
    b.put(0, 1)  # no coupling
    b.put(0, 2)
    b.put(0, 8)  # time submap
    b.put(0, 8)  # floor 0
    b.put(0, 8)  # residue 0
    b.put(0, 6)  # 1 mode
    b.put(0, 1)  # short blocks
    b.put(0, 16)
    b.put(0, 16)
    b.put(0, 8)  # mapping 0
    b.put(1, 1)  # framing


def setup_minimal():
    b = Bits()
    b.put(0, 8)  # 1 codebook
    book_unordered(b, 1, [1, 1])
    lookup_none(b)
    setup_tail(b)
    return b"\x05vorbis" + b.bytes()


def setup_three_books():
    """The minimal setup with two more (sparse, unordered) books, so that a
    cut can fall inside a codebook's length list."""
    b = Bits()
    b.put(2, 8)  # 3 codebooks
    book_unordered(b, 1, [1, 1])
    lookup_none(b)
    book_unordered(b, 2, [3, 0, 3, 2, 3, 0, 3, 0, 2] + [0] * 31)
    lookup_none(b)
    book_unordered(b, 1, [2, 2, 2, 2])
    lookup_none(b)
    setup_tail(b)
    return b"\x05vorbis" + b.bytes()


def setup_bomb(books=255, entries=1 << 22):
    b = Bits()
    b.put(books - 1, 8)
    for _ in range(books):
        # One run: every entry at length 22, a complete tree.
        book_ordered(b, 1, entries, 22, [entries])
        lookup_none(b)
    setup_tail(b)
    return b"\x05vorbis" + b.bytes()


# The cost model of decoders/vorbis_setup.c, for the one book shape used here
# (ordered, used == entries, lookup type 1); tests/test_vorbis_setup.c checks
# the file lands just over the budget, so a drift in either shows there.
def book_cost(e, d, q):
    u = e
    c = 256 + 256 * 4 + 256 * 2
    c += 2 * e + 9 * q + e
    c += 4 * u + e + 65 * u + 12 * u + u * ilog(u - 1) + 9 * u + 2 * e + 3 * u
    c += 5 * u * d + e
    c += 2 * u
    return c


def tail_cost(groupbook_dim):
    floor1 = 4096 + 65 * 65
    residue = 4096 + (1 + 0) * 8 + 1 * (8 + 32 + 4 * groupbook_dim) + groupbook_dim
    return floor1 + residue + 4096 + 64


def isqrt_floor(e):
    v = int(e ** 0.5)
    while v * v > e:
        v -= 1
    while (v + 1) * (v + 1) <= e:
        v += 1
    return v


def over_budget_entries(dim=2):
    lo, hi = 1 << 16, (1 << 22) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if book_cost(mid, dim, isqrt_floor(mid)) + tail_cost(dim) > BUDGET:
            hi = mid
        else:
            lo = mid + 1
    return lo


def setup_one_book(entries, dim=2):
    """One ordered, complete book of `entries` entries (lengths L and L+1),
    dim 2, lookup type 1; it is also the residue's group book."""
    length = ilog(entries) - 1
    if entries == 1 << length:
        a, b_ = entries, 0
    else:
        a = (1 << (length + 1)) - entries
        b_ = entries - a
    b = Bits()
    b.put(0, 8)
    if b_ == 0:
        book_ordered(b, dim, entries, length, [a])
    else:
        book_ordered(b, dim, entries, length, [a, b_])
    lookup_type1(b, isqrt_floor(entries))
    setup_tail(b)
    return b"\x05vorbis" + b.bytes()


def audio_packets(n=64):
    # Packet type 0, mode 0 (no bits with one mode), short block (no window
    # flags), then floor 1's "nonzero" bit 0: the channel is unused, and no
    # residue is read. One byte of zeros decodes to 128 samples of silence.
    return [b"\x00"] * n


def file_with(setup, audio=True, rate=8000):
    groups = [([id_header(1, rate)], 0), ([comment_header(), setup], 0)]
    if audio:
        packets = audio_packets()
        groups.append((packets, (len(packets) - 1) * 128))
    return ogg_stream(groups)


# The real encoder outputs the tests keep: the costliest setup header measured
# (q 10, 5.1), the cheapest, and two common ones. Only their header pages are
# kept: the setup header depends on quality, channels and rate, not on the sound.
REAL = [(10, 48000, 6), (-1, 8000, 2), (5, 44100, 2), (10, 96000, 8), (0, 16000, 1)]


def wav(rate, channels, seconds=0.25):
    n = int(rate * seconds)
    data = bytearray()
    for i in range(n):
        for c in range(channels):
            # A chord per channel; the content does not change the setup header.
            x = (i * (220 * (c + 1)) * 2 // rate) % 2
            data += struct.pack("<h", 6000 if x else -6000)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" +
            struct.pack("<I", len(data)) + bytes(data))


def header_pages(ogg):
    """The pages up to the one that completes packet 2 (the setup header)."""
    p, packets = 0, 0
    while packets < 3:
        nseg = ogg[p + 26]
        lacing = ogg[p + 27:p + 27 + nseg]
        packets += sum(1 for s in lacing if s < 255)
        p += 27 + nseg + sum(lacing)
    return ogg[:p]


def write_real():
    import subprocess
    import tempfile
    out = os.path.join(HERE, "vorbis_setup_real")
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for q, rate, channels in REAL:
            src, dst = os.path.join(tmp, "in.wav"), os.path.join(tmp, "out.ogg")
            with open(src, "wb") as f:
                f.write(wav(rate, channels))
            subprocess.run(["oggenc", "-Q", "--serial", "19", "-q", str(q), "-o", dst, src], check=True)
            with open(dst, "rb") as f:
                data = header_pages(f.read())
            name = f"vorbis_setup_q{q}_{rate // 1000}k_{channels}ch.ogg".replace("-", "m")
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)
            print(f"{name}\t{len(data)} bytes", file=sys.stderr)


def hostile_files():
    """The four hostile-corpus files, by name; corpus/gen_hostile.py writes them with its own."""
    three = setup_three_books()
    # Book 0 ends 88 bits after "\x05vorbis"; book 1's length list runs
    # from bit 154 to bit 224. A cut at byte 26 leaves enough bytes for
    # libvorbis's up-front size test and ends inside the list itself.
    cut = 7 + 26
    return {
        "vorbis_setup_minimal.ogg": file_with(setup_minimal()),
        "vorbis_setup_bomb_255_books.ogg": file_with(setup_bomb(), audio=False),
        "vorbis_setup_over_budget.ogg": file_with(setup_one_book(over_budget_entries())),
        "vorbis_setup_cut_mid_codebook.ogg": file_with(three[:cut]),
    }


def main():
    if sys.argv[1:] == ["--real"]:
        write_real()
        return
    if len(sys.argv) != 2:
        sys.exit("usage: gen_vorbis_setup.py --real | DIR  (corpus/gen_hostile.py writes the hostile files)")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in hostile_files().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print(f"{name}\t{len(data)} bytes", file=sys.stderr)
    print(f"over-budget book: {over_budget_entries()} entries x 2 dimensions", file=sys.stderr)


if __name__ == "__main__":
    main()
