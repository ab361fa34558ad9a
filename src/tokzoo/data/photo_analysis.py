"""Screen one candidate image of a package: decode, crop alpha, skip small/gray/flat, shrink, hash, encode."""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from tokzoo.data.dedupe import phash, pixel_hash
from tokzoo.data.photo_sources import Candidate, source_name
from tokzoo.data.screening import colourfulness, crop_to_alpha, dominant_share, is_normal_map, shrink_shorter

__all__ = ["SKIP_REASONS", "Screen", "analyse"]

_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})

SKIP_REASONS = ("small", "gray", "flat", "transparent", "normal_map", "undecodable")


@dataclass(frozen=True)
class Screen:
    """What an image must pass to enter the corpus, and how it is stored."""

    min_side: int = 256  # shorter side of the source (after cropping to its opaque part)
    stored_side: int = 256  # shorter side of the stored PNG
    min_colourfulness: float = 8.0  # Hasler-Süsstrunk M of the stored image; below: "gray"
    max_dominant_share: float = 0.8  # share of the most common colour; above: "flat"
    min_coverage: float = 0.5  # mean opacity inside the opaque bounding box; below: "transparent"

    def key(self) -> str:
        """Short stable text naming these settings (for cache folder names)."""
        return "-".join(f"{v:g}" for v in asdict(self).values())


def _read(root: Path, candidate: Candidate) -> bytes:
    rel, member = candidate
    if member is None:
        return (root / rel).read_bytes()
    with zipfile.ZipFile(root / rel) as z:
        return z.read(member)


def analyse(root: Path, screen: Screen, candidate: Candidate) -> dict[str, Any]:
    """Screen one image. Returns ``{"skip": reason, "why": text}`` or the record with ``png`` bytes.

    Images with alpha are cropped to their opaque bounding box and composited over mid-gray.
    """
    where = source_name(candidate)
    try:
        with warnings.catch_warnings():  # large clip art (up to Pillow's hard limit) is fine: it is shrunk
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return _screen(where, _read(root, candidate), screen)
    except Exception as e:  # Pillow raises many types for bad files; zip members may be corrupt too
        return {"skip": "undecodable", "why": f"{where}: {type(e).__name__}: {e}"}


def _decode(data: bytes, screen: Screen) -> dict[str, Any] | tuple[np.ndarray, str, list[int]]:
    """``(RGB content, pixel hash of the whole source, source size)``, or a skip record."""
    with Image.open(io.BytesIO(data)) as im:
        if min(im.size) < screen.min_side:
            return {"skip": "small"}
        im.load()
        im = ImageOps.exif_transpose(im)
        if im.mode in ("I", "F", "L", "1") or im.mode.startswith("I;"):
            return {"skip": "gray"}
        if im.mode not in _ALPHA_MODES and "transparency" not in im.info:
            rgb = np.asarray(im.convert("RGB"))
            return rgb, pixel_hash(rgb), list(im.size)
        rgba = np.asarray(im.convert("RGBA"))
        rgb, coverage = crop_to_alpha(rgba)
        if coverage < screen.min_coverage:
            return {"skip": "transparent"}
        if min(rgb.shape[:2]) < screen.min_side:
            return {"skip": "small"}
        return rgb, pixel_hash(rgba), list(im.size)


def _screen(where: str, data: bytes, screen: Screen) -> dict[str, Any]:
    """The screening verdict on one encoded image: a skip record, or the record with ``png`` bytes."""
    decoded = _decode(data, screen)
    if isinstance(decoded, dict):
        return decoded
    rgb, exact, source_size = decoded
    small = shrink_shorter(rgb, screen.stored_side)
    m = colourfulness(small)
    if m < screen.min_colourfulness:
        return {"skip": "gray"}
    if dominant_share(small) > screen.max_dominant_share:
        return {"skip": "flat"}
    if is_normal_map(small):
        return {"skip": "normal_map"}
    buf = io.BytesIO()
    Image.fromarray(small).save(buf, format="PNG")
    return {
        "source": where,
        "source_size": source_size,
        "content_size": [rgb.shape[1], rgb.shape[0]],
        "stored_size": [small.shape[1], small.shape[0]],
        "pixel_sha256": exact,
        "phash": f"{phash(small):016x}",
        "colourfulness": round(m, 2),
        "png": buf.getvalue(),
    }
