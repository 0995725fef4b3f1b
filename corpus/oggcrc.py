# SPDX-License-Identifier: MIT
"""The Ogg page checksum (RFC 3533): CRC-32, polynomial 0x04C11DB7, MSB first, no reflection, initial 0.
Shared by the corpus generators that patch or build Ogg pages; standard library only."""

_TABLE = []
for _i in range(256):
    _c = _i << 24
    for _ in range(8):
        _c = ((_c << 1) ^ 0x04C11DB7 if _c & 0x80000000 else _c << 1) & 0xFFFFFFFF
    _TABLE.append(_c)


def ogg_crc(page):
    """The CRC of page's bytes, with the CRC field (bytes 22..25) as it is: zero it first."""
    crc = 0
    for byte in page:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _TABLE[(crc >> 24) ^ byte]
    return crc
