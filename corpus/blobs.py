# SPDX-License-Identifier: MIT
"""Byte builders the hostile generators share (standard library only: gen_hostile.py --large runs without Pillow)."""
import io
import struct
import zipfile


def zip_archive(files):
    """A deterministic ZIP: stored entries dated 1980-01-01."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.create_system = 3
            z.writestr(info, data)
    return buf.getvalue()


def icc_profile(text):
    """A profile-shaped blob: 128-byte header with 'acsp', one desc tag carrying text."""
    tag = b"desc" + b"\0\0\0\0" + struct.pack(">I", len(text) + 1) + text + b"\0"
    body_off = 128 + 4 + 12
    size = body_off + len(tag)
    hdr = struct.pack(">I", size) + b"none" + b"\x04\x30\0\0" + b"mntrRGB XYZ " + bytes(12) + b"acsp"
    hdr += bytes(128 - len(hdr))
    return hdr + struct.pack(">I", 1) + b"desc" + struct.pack(">II", body_off, len(tag)) + tag
