"""Per-image measures used to screen a corpus: colourfulness, flatness, alpha cropping, resizing."""

from __future__ import annotations

import numpy as np
from PIL import Image

__all__ = ["colourfulness", "crop_to_alpha", "dominant_share", "is_normal_map", "shrink_shorter"]

BACKGROUND = 128
"""Gray level that transparent pixels are composited over (see ``crop_to_alpha``)."""


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler and Süsstrunk (2003) colourfulness M of an HxWx3 uint8 image.

    0 for gray images; about 15 "slightly", 33 "moderately", 59 "quite" and 82+ "extremely" colourful.
    """
    x = rgb.astype(np.float64)
    rg = x[..., 0] - x[..., 1]
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def dominant_share(rgb: np.ndarray) -> float:
    """Share of pixels having the most common colour (5 bits per channel): near 1 for flat images."""
    q = (rgb >> 3).astype(np.int32)
    codes = (q[..., 0] << 10) | (q[..., 1] << 5) | q[..., 2]
    return float(np.bincount(codes.ravel(), minlength=1 << 15).max() / codes.size)


def is_normal_map(rgb: np.ndarray) -> bool:
    """True for a tangent-space normal map (bluish-violet texture data, not a picture).

    Its pixels encode unit vectors: R and G centred on 128, B high, and length ``|rgb - 128|`` near 127.
    """
    x = rgb.reshape(-1, 3).astype(np.float64)
    r, g, b = x.mean(axis=0)
    if not (100 <= r <= 156 and 100 <= g <= 156 and b >= 180):
        return False
    length = np.linalg.norm(x - 128.0, axis=1)
    return bool(np.mean(np.abs(length - 127.0) < 20.0) > 0.8)


def crop_to_alpha(rgba: np.ndarray) -> tuple[np.ndarray, float]:
    """Crop an HxWx4 uint8 image to the bounding box of its non-transparent pixels, composite over gray.

    Returns ``(HxWx3 uint8, coverage)`` where coverage is the mean opacity inside the box (0 when the
    image is fully transparent, then the array is empty).
    """
    alpha = rgba[..., 3]
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    if not rows.size:
        return np.zeros((0, 0, 3), np.uint8), 0.0
    box = rgba[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.uint16)
    a = box[..., 3:]
    rgb = (box[..., :3] * a + BACKGROUND * (255 - a) + 127) // 255
    return rgb.astype(np.uint8), float(a.mean() / 255.0)


def shrink_shorter(rgb: np.ndarray, side: int) -> np.ndarray:
    """Resize (Lanczos) so the shorter side is ``side`` px; images already that small are returned as is."""
    h, w = rgb.shape[:2]
    if min(h, w) <= side:
        return rgb
    scale = side / min(h, w)
    size = (max(side, round(w * scale)), max(side, round(h * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))
