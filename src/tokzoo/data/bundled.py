"""The offline default image sets: real photographs shipped inside scikit-image's package folder, and a
held-out sample of the photo corpus shipped inside tokzoo.

The scikit-image files are read directly from ``skimage/data`` (no scikit-image fetcher is called, nothing is
downloaded). Only photographs are used; synthetic and binary images are left out. ``motorcycle_right``
is left out of the test split because it is the stereo partner of ``motorcycle_left`` (train): the
two show the same scene from a few centimetres apart, which would leak training content into test.
"""

from __future__ import annotations

import os

import numpy as np
import skimage.data

from tokzoo.core.errors import DataError
from tokzoo.data.decode import load_image

BUNDLED_SPLITS: dict[str, tuple[str, ...]] = {
    "train": (
        "astronaut",
        "camera",
        "coins",
        "moon",
        "page",
        "text",
        "brick",
        "grass",
        "gravel",
        "cell",
        "clock_motion",
        "hubble_deep_field",
        "ihc",
        "motorcycle_left",
        "retina",
    ),
    "test": ("chelsea", "coffee", "rocket"),
}
"""Image names per split; the two splits share no image (and no scene)."""

HELDOUT = "heldout"
"""The split of 30 photographs (shorter side 160 px) from packages of the photo corpus' held-out split
(``tokzoo.data.photos``), shipped in ``tokzoo/data/heldout/`` with each package's copyright file: no shipped
tokenizer saw them or their packages in training. Used by ``make demo``."""


def _heldout_images() -> list[tuple[str, np.ndarray]]:
    folder = os.path.join(os.path.dirname(__file__), HELDOUT)
    names = sorted(f for f in os.listdir(folder) if f.endswith(".jpg"))
    return [(os.path.splitext(f)[0], load_image(os.path.join(folder, f))) for f in names]


def bundled_images(split: str = "train") -> list[tuple[str, np.ndarray]]:
    """``(name, HxWx3 uint8 RGB)`` for every image of ``split`` ("train", "test" or "heldout"); gray becomes
    RGB."""
    if split == HELDOUT:
        return _heldout_images()
    if split not in BUNDLED_SPLITS:
        valid = ", ".join((*BUNDLED_SPLITS, HELDOUT))
        raise DataError(f"unknown bundled split {split!r}; valid splits: {valid}")
    folder = os.path.dirname(skimage.data.__file__)
    out = []
    for name in BUNDLED_SPLITS[split]:
        candidates = [os.path.join(folder, name + ext) for ext in (".png", ".jpg")]
        path = next((p for p in candidates if os.path.isfile(p)), None)
        if path is None:
            raise DataError(f"{os.path.join(folder, name)}.png|.jpg: bundled image missing from scikit-image")
        out.append((name, load_image(path)))
    return out
