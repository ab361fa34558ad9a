"""Offline labelled data for benchmarks/reduce.py: digit glyphs on real-photo backgrounds.

Digits 0–9 are rendered with the DejaVu fonts shipped by the system (Debian fonts-dejavu) at a random size,
rotation and contrast, and pasted at a random place on random crops of real photographs (scikit-image's photos
through ``tokzoo.data.bundled``). Train and test share neither fonts nor photographs: the test set uses held-out
fonts and the ``test`` split's photographs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from tokzoo.data.bundled import bundled_images

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
TEST_FONTS = ("DejaVuSerif-Italic.ttf", "DejaVuSansMono-Oblique.ttf", "DejaVuSansCondensed-Bold.ttf")


def fonts(split: str) -> list[Path]:
    """Font files of ``split``: the held-out three for "test", every other DejaVu text font for "train"."""
    every = sorted(
        p for p in FONT_DIR.glob("DejaVu*.ttf") if "Math" not in p.name and "ExtraLight" not in p.name
    )
    if not every:
        raise FileNotFoundError(f"no DejaVu fonts in {FONT_DIR} (apt-get install fonts-dejavu-core)")
    return [p for p in every if (p.name in TEST_FONTS) == (split == "test")]


def _gray_photos(split: str) -> list[np.ndarray]:
    return [im.astype(np.float32).mean(-1) / 255.0 for _, im in bundled_images(split)]


def _glyph(digit: int, font: Path, height: int, angle: float) -> np.ndarray:
    """A float mask in [0, 1] of one digit, cropped to its ink."""
    size = height * 2
    canvas = Image.new("L", (size * 2, size * 2), 0)
    ImageDraw.Draw(canvas).text(
        (size // 2, size // 4), str(digit), fill=255, font=ImageFont.truetype(str(font), size)
    )
    canvas = canvas.rotate(angle, resample=Image.BILINEAR)
    box = canvas.getbbox()
    glyph = canvas.crop(box)
    scale = height / glyph.height
    glyph = glyph.resize((max(1, round(glyph.width * scale)), height), Image.LANCZOS)
    return np.asarray(glyph, dtype=np.float32) / 255.0


def digits_on_photos(
    count: int, canvas: int, digit_px: tuple[int, int], split: str, seed: int, clutter: float = 0.4
) -> tuple[torch.Tensor, torch.Tensor]:
    """(count, 1, canvas, canvas) float images in [0, 1] and (count,) labels, a pure function of the arguments.
    ``clutter``: contrast of the photo background (0: flat grey)."""
    rng = np.random.default_rng(seed)
    photos, font_files = _gray_photos(split), fonts(split)
    images = np.empty((count, 1, canvas, canvas), dtype=np.float32)
    labels = rng.integers(0, 10, count)
    for i in range(count):
        photo = photos[rng.integers(len(photos))]
        zoom = rng.uniform(1.0, 3.0)  # crop a (zoom·canvas)² region and shrink it: varied clutter scale
        side = min(int(canvas * zoom), *photo.shape)
        y, x = rng.integers(0, photo.shape[0] - side + 1), rng.integers(0, photo.shape[1] - side + 1)
        crop = Image.fromarray(photo[y : y + side, x : x + side]).resize((canvas, canvas), Image.BILINEAR)
        background = np.array(crop, dtype=np.float32)
        background = 0.5 + clutter * (background - background.mean())  # clutter at reduced contrast
        glyph = _glyph(
            int(labels[i]),
            font_files[rng.integers(len(font_files))],
            int(rng.integers(*digit_px)),
            rng.uniform(-15, 15),
        )
        h, w = min(glyph.shape[0], canvas), min(glyph.shape[1], canvas)
        glyph = glyph[:h, :w]
        top, left = rng.integers(0, canvas - h + 1), rng.integers(0, canvas - w + 1)
        region = background[top : top + h, left : left + w]
        ink = rng.uniform(0.8, 1.0) if region.mean() < 0.5 else rng.uniform(0.0, 0.2)  # contrast locally
        background[top : top + h, left : left + w] = region * (1 - glyph) + ink * glyph
        images[i, 0] = background
    return torch.from_numpy(images), torch.from_numpy(labels)
