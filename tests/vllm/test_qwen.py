# SPDX-License-Identifier: MIT
"""Qwen-VL preprocessing fed by airlock (issue 17), against the real transformers, vLLM and qwen-vl-utils.

Every image file of the manifests (corpus/images.tsv, corpus/images-*.tsv, the public suites where present) is
decoded twice: by airlock (profiles ignored, `icc=False`, as vLLM's connector does by default) and by vLLM's own
stock path (`vllm.multimodal.media.ImageMediaIO().load_bytes`: Pillow's open with vLLM's format allowlist,
EXIF transpose, RGB with alpha composited onto white). Then:

* where both decode to equal pixels, transformers' `Qwen2VLImageProcessorPil` and `Qwen2VLImageProcessor`
  (torchvision) give exactly the same `pixel_values` and `image_grid_thw` for airlock's read-only array
  (`np.asarray(img)`, passed with input_data_format="channels_last"), for `img.to_pil()`, and for vLLM's Pillow image;
* every other outcome is one of the exceptions below, each explained and checked against an independent
  reference (Pillow's raw samples, the file's own palette), never just tolerated:

  - both refuse the file;
  - the manifest refuses a file for its colour profile (a malformed ICC): with profiles ignored airlock decodes
    it, and with them converted raises the manifest's code;
  - airlock refuses a file Pillow decodes: airlock raises exactly the code its manifest gives the file
    (malformed: checksums, truncation, frames off the screen; unsupported: TIFF variants airlock does not
    decode; type; too_large);
  - Pillow refuses a file airlock decodes (PILLOW_REFUSES, listed with the reasons);
  - vLLM's stock path fails with an exception that is not its ValueError (STOCK_ESCAPES): airlock refuses
    the file as malformed;
  - 16-bit greyscale (Pillow's mode I;16): Pillow's convert("RGB") clips each 16-bit sample at 255,
    airlock keeps the high byte;
  - transparency by colour key (tRNS in 1/2/4-bit grey and 16-bit PNGs): Pillow keeps the key unscaled, so it
    never matches; airlock composites exactly the keyed pixels onto white;
  - GIF indices past the colour table: Pillow gives black, airlock the grey (i, i, i);
  - orientation stored outside EXIF (ORIENTATION_ELSEWHERE): Pillow's exif_transpose also reads XMP and PNG
    "Raw profile type exif" text; airlock applies EXIF orientation only.

qwen-vl-utils' `fetch_image` takes PIL images: swapping `img.to_pil()` for the Pillow image gives equal output.
Runs in the vLLM environment (scripts/vllmenv.sh: vllm, transformers, torchvision, qwen-vl-utils, OpenCV).
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from io import BytesIO
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python" / "scripts"))
# Imported, never skipped (tests/vllm/conftest.py): a missing package is a failure of the environment.
import airlock  # noqa: E402
import airtest  # noqa: E402
import qwen_vl_utils  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402
from vllm.multimodal.media import ImageMediaIO  # noqa: E402

pytestmark = airtest.hang_guard(600)

# Small budgets keep the resize cheap: 4..64 patches of 28x28 before the 2x2 merge.
MIN_PIXELS = 56 * 56
MAX_PIXELS = 28 * 28 * 64

# Files Pillow (through vLLM's ImageMediaIO) refuses and airlock decodes, with the reason.
PILLOW_REFUSES: dict[str, str] = {
    # BMP: layouts Pillow's reader does not implement.
    **dict.fromkeys(
        [
            "shared:bmp-test-files/bmpsuite/g/rgb32bf.bmp",
            "shared:bmp-test-files/bmpsuite/q/rgb16-231.bmp",
            "shared:bmp-test-files/bmpsuite/q/rgb16-3103.bmp",
            "shared:bmp-test-files/bmpsuite/q/rgb32-111110.bmp",
            "shared:bmp-test-files/bmpsuite/q/rgb32-7187.bmp",
            "shared:bmp-test-files/bmpsuite/q/rgba16-1924.bmp",
            "shared:bmp-test-files/bmpsuite/q/rgba16-4444.bmp",
            "shared:bmp-test-files/bmpsuite/q/rgba32-1010102.bmp",
            "shared:bmp-test-files/bmpsuite/q/rgba32-61754.bmp",
            "shared:bmp-test-files/bmpsuite/q/rgba32-81284.bmp",
            "shared:bmp-test-files/image-rs-image/images/V3_A4_R4_G4_B4.bmp",
            "shared:bmp-test-files/image-rs-image/images/V3_A4_R4_G4_B4_Top_Down.bmp",
            "shared:bmp-test-files/image-rs-image/images/V3_X4_R4_G4_B4.bmp",
            "shared:bmp-test-files/image-rs-image/images/V3_X4_R4_G4_B4_Top_Down.bmp",
            "shared:bmp-test-files/image-rs-image/images/rgba16-1924.bmp",
            "corpus/hostile/bmp_v3_rgb10.bmp",
        ],
        "BMP bitfields Pillow does not support",
    ),
    "shared:bmp-test-files/bmpsuite/q/pal2.bmp": "2-bit BMP",
    "shared:bmp-test-files/bmpsuite/q/pal2color.bmp": "2-bit BMP",
    "shared:bmp-test-files/bmpsuite/q/pal8os2v2-16.bmp": "OS/2 v2 header of 16 bytes",
    "shared:bmp-test-files/bmpsuite/q/rgba32abf.bmp": "BI_ALPHABITFIELDS (compression 6)",
    "shared:bmp-test-files/bmpsuite/q/pal8oversizepal.bmp": "palette larger than the depth allows",
    "corpus/hostile/bmp_palette_300_entries.bmp": "palette larger than the depth allows",
    **dict.fromkeys(
        [
            "shared:bmp-test-files/bmpsuite/q/pal4rlecut.bmp",
            "shared:bmp-test-files/bmpsuite/q/pal8rlecut.bmp",
            "corpus/hostile/bmp_rle4_odd_absolute.bmp",
            "corpus/hostile/bmp_rle8_delta_chain.bmp",
            "corpus/hostile/bmp_rle8_early_eol.bmp",
            "corpus/hostile/bmp_rle8_eob_2048x2048.bmp",
        ],
        "RLE that ends early: Pillow wants every pixel, airlock leaves the rest as the BMP rules say",
    ),
    # TIFF: colour models and containers Pillow does not open.
    "corpus/images/tiff/greyalpha8_assoc.tif": "associated-alpha grey (Pillow's mode La has no conversion)",
    "shared:tiff-test-files/image-tiff/subsubifds.tif": "associated-alpha grey (Pillow's mode La has no conversion)",
    "corpus/images/tiff/greyalpha16_unassoc.tif": "16-bit grey with alpha",
    "corpus/images/tiff/cmyka8_unassoc.tif": "CMYK with an extra alpha sample",
    "shared:tiff-test-files/image-tiff/images/cmyk-4c-8b.tiff": "CMYK layout Pillow does not identify",
    "shared:tiff-test-files/image-tiff/images/bigtiff/BigTIFFMotorola.tif": "big-endian BigTIFF",
    "shared:tiff-test-files/libtiff-pics/cramps-tile.tif": "tiles past the end of a short file (Pillow: truncated)",
    # Colour profiles Pillow refuses while opening; airlock ignores (or converts) the profile.
    "corpus/images/icc/png_rgb8_iccp_method1.png": "iCCP with an unknown compression method",
    "corpus/images/icc/jpeg_rgb_icc_short_segment.jpg": "an ICC APP2 segment shorter than its header",
}

# Files on which vLLM's stock path raises something other than the ValueError("Failed to load image: ...") that
# ImageMediaIO makes of Pillow's failures: the exception escapes its except clause (vLLM's server still answers
# 400 through its fallback for raw TypeErrors; other callers see a TypeError). airlock refuses both as malformed.
STOCK_ESCAPES = {
    "shared:tiff-test-files/image-tiff/fuzz_images/oor_panic/id=000049,sig=06,src=000318,op=havoc,rep=8": (
        TypeError,
        "Pillow's TIFF reader seeks to a rational strip offset",
    ),
    "shared:tiff-test-files/image-tiff/fuzz_images/oor_panic/id=000055,sig=06,src=000343,op=havoc,rep=2": (
        TypeError,
        "Pillow's TIFF reader seeks to a rational strip offset",
    ),
}

# Orientation that Pillow's exif_transpose finds outside the EXIF block; airlock reads EXIF only.
ORIENTATION_ELSEWHERE = {
    "corpus/images/webp/xmp.webp": "XMP tiff:Orientation",
    "corpus/images/icc/png_raw_profile_exif_orientation6.png": 'PNG text "Raw profile type exif"',
}


class Path_(NamedTuple):
    manifest: str
    path: str
    outcome: str | None  # the manifest's outcome for the file without options ("-"), if it has such a row
    noicc: str | None  # ... and with profiles ignored ("noicc"), if it has such a row


def _paths() -> list[Path_]:
    rows: dict[str, dict[str, str]] = {}
    manifest: dict[str, str] = {}
    for r in airtest.image_rows():
        manifest.setdefault(r.path, r.manifest)
        rows.setdefault(r.path, {}).setdefault(r.opts, r.outcome)
    return [Path_(manifest[p], p, o.get("-"), o.get("noicc")) for p, o in rows.items()]


PATHS = _paths()


@functools.lru_cache(maxsize=1)
def _sanitizer() -> Any:
    # TIFF is off the default list; every image type, as tests/test_images.c allows.
    return airlock.Sanitizer(allowed_types=airtest.IMAGE_TYPES)


@functools.lru_cache(maxsize=1)
def _processors() -> tuple[Any, Any]:
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

    size = {"shortest_edge": MIN_PIXELS, "longest_edge": MAX_PIXELS}
    return Qwen2VLImageProcessorPil(size=size), Qwen2VLImageProcessor(size=size)


def _read(path: str) -> bytes:
    p = airtest.resolve(path)
    if p is None:
        pytest.fail(f"{path}: cannot read (the public corpus is ../shared/corpus-public)")
    return p.read_bytes()


def _vllm_image(data: bytes) -> Any:
    """vLLM's stock decode: a PIL image, or the ValueError vLLM turns into HTTP 400."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ImageMediaIO().load_bytes(data).media


def _features(proc: Any, image: Any, **kw: Any) -> tuple[np.ndarray, np.ndarray]:
    """The processor's features for one image. An array is passed with input_data_format="channels_last" (see
    test_array_needs_channels_last), as anyone feeding airlock's (H, W, C) arrays should."""
    if isinstance(image, np.ndarray) and "input_data_format" not in kw:
        kw["input_data_format"] = "channels_last"
    with warnings.catch_warnings():
        # torch warns that airlock's array is read-only (it is, by design); the processor only reads it.
        warnings.simplefilter("ignore", UserWarning)
        out = proc(images=[image], return_tensors="np", **kw)
    return np.asarray(out["pixel_values"]), np.asarray(out["image_grid_thw"])


def _try_features(proc: Any, image: Any) -> tuple[Any, Any]:
    """_features, or the processor's refusal as (type, message): Qwen-VL refuses aspect ratios above 200 whoever
    decoded the picture, and then both sides must refuse alike."""
    try:
        return _features(proc, image)
    except ValueError as e:
        return type(e), str(e)


def _same(x: tuple[Any, Any], y: tuple[Any, Any]) -> bool:
    if isinstance(x[0], np.ndarray) and isinstance(y[0], np.ndarray):
        return x[0].dtype == y[0].dtype and np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1])
    return x == y


def _raw(data: bytes) -> tuple[Any, np.ndarray]:
    """Pillow's image as opened (no transpose, no conversion) and its samples."""
    im = Image.open(BytesIO(data))
    im.load()
    return im, np.asarray(im)


def _colour_keyed(data: bytes, key: Any) -> np.ndarray:
    """The pixels a PNG's tRNS colour key makes transparent, from libpng's samples through OpenCV (a decoder
    vLLM ships for video): for RGB, IMREAD_UNCHANGED expands the key to an alpha channel itself; for grey it gives
    the samples (1, 2 and 4 bits scaled to 8, 16 bits as they are), compared here with the key at that depth."""
    import cv2

    dec = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    assert dec is not None
    if dec.ndim == 3:
        assert dec.shape[2] == 4
        return np.asarray(dec[..., 3] == 0)
    depth = data[24]  # IHDR's bit depth
    scale = 255 // ((1 << depth) - 1) if depth < 8 else 1
    return np.asarray(dec == int(key) * scale)


def _explain_difference(p: Path_, data: bytes, a: np.ndarray, v: np.ndarray) -> str:
    """Both decoded, the pixels differ: say which documented difference it is, after checking it exactly."""
    im, raw = _raw(data)
    if p.path in ORIENTATION_ELSEWHERE:
        # airlock: the stored pixels; vLLM: the same turned by an orientation airlock does not read.
        assert np.array_equal(a, np.asarray(im.convert("RGB")))
        assert np.array_equal(v, np.asarray(ImageOps.exif_transpose(im).convert("RGB")))
        assert a.shape[:2] == v.shape[1::-1]
        return "orientation"
    white = (a == 255).all(axis=2)
    keyed = _colour_keyed(data, im.info["transparency"]) if "transparency" in im.info and im.format == "PNG" else None
    if im.mode.startswith("I;16"):
        r = raw.astype(np.int64)
        # Pillow clips the 16-bit samples; airlock keeps their high byte (or the white of a keyed pixel).
        assert np.array_equal(v, np.repeat(np.clip(r, 0, 255)[..., None], 3, axis=2).astype(np.uint8))
        want = r >> 8
        if isinstance(im, Image.Image) and getattr(im, "tag_v2", {}).get(262) == 0:
            want = 255 - want  # TIFF WhiteIsZero: airlock inverts, Pillow's I;16 does not
        if keyed is None:
            keyed = np.zeros(want.shape, dtype=bool)
        assert (a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all()
        assert np.array_equal(a[..., 0][~keyed], want[~keyed]) and white[keyed].all()
        return "grey16"
    if keyed is not None and im.mode in ("L", "RGB"):
        # Pillow keeps a key it cannot match (unscaled, or of 16-bit samples against 8-bit ones): vLLM gives the
        # plain conversion. airlock composites exactly the keyed pixels onto white.
        assert np.array_equal(v, np.asarray(im.convert("RGB")))
        differ = (a != v).any(axis=2)
        assert keyed.any() and white[keyed].all()
        assert np.array_equal(a[~keyed], v[~keyed])
        assert np.array_equal(differ, keyed & ~(v == 255).all(axis=2))
        return "colour key"
    if im.format == "GIF" and im.mode == "P":
        # Indices past the colour table: vLLM black, airlock the index as a grey.
        entries = len(im.getpalette(rawmode="RGB") or []) // 3
        differ = (a != v).any(axis=2)
        assert differ.any() and (raw[differ] >= entries).all()
        assert (v[differ] == 0).all()
        assert np.array_equal(a[differ], np.repeat(raw[differ][:, None], 3, axis=1))
        return "gif index past table"
    pytest.fail(f"{p.path}: airlock and vLLM's Pillow differ ({int((a != v).any(axis=2).sum())} pixels), unexplained")


@pytest.mark.parametrize("p", PATHS, ids=[f"{p.manifest}:{p.path.rsplit('/', 1)[-1]}" for p in PATHS])
def test_qwen2vl_processor_same_features(p: Path_) -> None:
    """Qwen2-VL's image processors give equal features for airlock's pixels and vLLM's Pillow image, or the
    file is one of the explained exceptions."""
    data = _read(p.path)
    s = _sanitizer()
    try:
        img = s.image(data, icc=False)
    except airlock.AirlockError as e:
        img, a_err = None, e
    try:
        vim = _vllm_image(data)
    except ValueError as e:
        vim, v_err = None, e
    except Exception as e:
        # Not the ValueError vLLM answers with 400: only the listed files, with the listed exception.
        assert p.path in STOCK_ESCAPES, f"vLLM's stock path raised {type(e).__name__}: {e}"
        assert type(e) is STOCK_ESCAPES[p.path][0]
        assert img is None and a_err.name == (p.noicc or p.outcome) == "malformed"
        return
    assert p.path not in STOCK_ESCAPES

    want = p.noicc or p.outcome
    if img is None:
        # airlock refuses: exactly what its manifest says for the file, whatever Pillow does.
        assert want not in (None, "ok"), f"airlock refused with {a_err.name}"
        assert a_err.name == want
        return
    if want not in (None, "ok"):
        # The manifest refuses the file with profiles converted: the profile is the defect. Ignored (as vLLM
        # ignores it), the picture decodes; converted, it is refused as the manifest says.
        assert p.noicc is None
        with pytest.raises(airlock.AirlockError) as info:
            s.image(data)
        assert info.value.name == p.outcome
    if vim is None:
        assert p.path in PILLOW_REFUSES, f"only Pillow refuses: {v_err}"
        return
    assert p.path not in PILLOW_REFUSES, "listed as refused by Pillow, but Pillow decoded it"

    a = np.asarray(img)
    v = np.asarray(vim)
    assert vim.mode == "RGB" and img.mode == "RGB"
    slow, fast = _processors()
    if a.shape != v.shape or not np.array_equal(a, v):
        _explain_difference(p, data, a, v)
        # Different pixels, but the processors still see airlock's image in every form alike.
        for proc in (slow, fast):
            assert _same(_try_features(proc, a), _try_features(proc, img.to_pil()))
        return
    assert p.path not in ORIENTATION_ELSEWHERE
    for proc in (slow, fast):
        want = _try_features(proc, vim)
        for form in (a, img.to_pil()):
            got = _try_features(proc, form)
            assert _same(got, want), f"{type(proc).__name__}: {got[1]} against {want[1]}"


@pytest.mark.parametrize("path", ["corpus/images/webp/lossy_1x1.webp", "corpus/images/webp/lossy_alpha_13x1.webp"])
def test_array_needs_channels_last(path: str) -> None:
    """transformers guesses an array's channel axis from its shape: an (H, W, 3) array 1 or 3 pixels tall is taken
    for channels-first, and the features are of another picture. Pillow images carry their layout; arrays need
    input_data_format="channels_last" (docs/integrations.md says so)."""
    data = _read(path)
    img = _sanitizer().image(data, icc=False)
    a = np.asarray(img)
    assert a.shape[0] in (1, 3) and a.shape[2] == 3
    for proc in _processors():
        want = _features(proc, img.to_pil())
        got = _features(proc, a)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        guessed = _features(proc, a, input_data_format=None)
        assert not np.array_equal(guessed[1], want[1]) or not np.array_equal(guessed[0], want[0])


def test_processors_are_the_two_backends() -> None:
    """The comparison above runs the PIL backend and the torchvision one, not one of them twice."""
    slow, fast = _processors()
    assert type(slow).__name__ == "Qwen2VLImageProcessorPil"
    assert type(fast).__name__ == "Qwen2VLImageProcessor"
    assert "torchvision" in type(fast).__mro__[1].__name__.lower()


def test_manifests_cover_the_exceptions() -> None:
    """Every listed exception is a file of the manifests (a renamed file would leave a dead entry)."""
    paths = {p.path for p in PATHS}
    assert len(paths) > 1000
    assert set(PILLOW_REFUSES) <= paths
    assert set(ORIENTATION_ELSEWHERE) <= paths
    assert set(STOCK_ESCAPES) <= paths


# ---------------------------------------------------------------------------------------------
# qwen-vl-utils


def _qwen_fetch_image() -> Any:
    return qwen_vl_utils.fetch_image


# Pictures of the kinds users send: photos with and without EXIF orientation, PNGs, a palette GIF, WebP.
SWAP_FILES = [
    "corpus/images/rgb8.png",
    "corpus/images/adam7_rgb8_40x32.png",
    "corpus/images/jpeg_exif_orientation1.jpg",
    "corpus/images/jpeg_exif_orientation6.jpg",
    "corpus/images/jpeg_exif_orientation7_301x37.jpg",
    "corpus/images/pal8.png",
    "corpus/images/rgba8.png",
    "corpus/images/webp/lossy.webp",
    "corpus/images/webp/lossless_alpha.webp",
    "corpus/images/webp/exif_orientation6.webp",
    "corpus/images/webp/anim_offset_alpha.webp",
    "corpus/images/gif/global_8bit.gif",
    "corpus/images/gif/transparent.gif",
    "corpus/images/gif/animated_offset.gif",
]


@pytest.mark.parametrize("path", SWAP_FILES)
def test_qwen_vl_utils_one_line_swap(path: str) -> None:
    """`fetch_image({"image": img.to_pil()})` equals `fetch_image({"image": <vLLM's Pillow image>})`: same size
    after smart_resize, same pixels, for the default budget and a small one."""
    fetch_image = _qwen_fetch_image()
    data = _read(path)
    img = _sanitizer().image(data, icc=False)
    vim = _vllm_image(data)
    assert np.array_equal(np.asarray(img), np.asarray(vim))
    for extra in ({}, {"min_pixels": MIN_PIXELS, "max_pixels": MAX_PIXELS}):
        ours = fetch_image({"image": img.to_pil(), **extra})
        theirs = fetch_image({"image": vim, **extra})
        assert ours.size == theirs.size and ours.mode == theirs.mode == "RGB"
        assert np.array_equal(np.asarray(ours), np.asarray(theirs))


def test_qwen_vl_utils_plain_open_loses_orientation() -> None:
    """Why the swap matters beyond safety: qwen-vl-utils given `Image.open(path)` ignores EXIF orientation, so a
    phone photo reaches the model on its side; airlock's image is upright (as vLLM's own path is)."""
    fetch_image = _qwen_fetch_image()
    path = "corpus/images/jpeg_exif_orientation6_37x301.jpg"
    data = _read(path)
    img = _sanitizer().image(data, icc=False)
    plain = fetch_image({"image": Image.open(BytesIO(data))})
    ours = fetch_image({"image": img.to_pil()})
    upright = fetch_image({"image": ImageOps.exif_transpose(Image.open(BytesIO(data)))})
    assert np.array_equal(np.asarray(ours), np.asarray(upright))
    assert (plain.size[0] > plain.size[1]) != (ours.size[0] > ours.size[1])


def test_qwen_vl_utils_plain_open_equal_without_metadata() -> None:
    """For a file with nothing to normalise (8-bit RGB, no EXIF, no alpha), the literal swap of the README,
    `Image.open(path)` for `img.to_pil()`, gives the same model input."""
    fetch_image = _qwen_fetch_image()
    for path in ("corpus/images/rgb8.png", "corpus/images/jpeg_exif_orientation1.jpg"):
        data = _read(path)
        img = _sanitizer().image(data, icc=False)
        a = fetch_image({"image": img.to_pil()})
        b = fetch_image({"image": Image.open(BytesIO(data))})
        assert np.array_equal(np.asarray(a), np.asarray(b))
