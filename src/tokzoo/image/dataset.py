"""The image datasets: a ``data`` string (bundled split, folder, shards) as random crops for training and fitting."""

from __future__ import annotations

import logging
from pathlib import Path

from tokzoo.core.errors import DataError
from tokzoo.data import CropDataset, ImageFolder, ShardImages, bundled_images

log = logging.getLogger("tokzoo.image")


def build_crop_dataset(
    spec: str,
    size: int = 128,
    *,
    scale: tuple[float, float] = (1.0, 1.0),
    seed: int = 0,
    hflip: bool = False,
    rgb_permute: bool = False,
) -> CropDataset:
    """``bundled:<split>`` (scikit-image photos), ``shards:<pattern>`` (WebDataset tars, decoded into memory)
    or a folder path (decoded lazily; bad files are reported and skipped)."""
    if spec.startswith("bundled:"):
        images = [img for _, img in bundled_images(spec.split(":", 1)[1])]
    elif spec.startswith("shards:"):
        images = [img for _, img in ShardImages(spec.split(":", 1)[1])]
        if not images:
            raise DataError(f"{spec}: no decodable images in these shards")
    elif Path(spec).is_dir():
        images = ImageFolder(spec)
    else:
        raise DataError(f"data {spec!r}: not a folder, nor 'bundled:<split>', nor 'shards:<pattern>'")
    log.info("training data %s: %d images", spec, len(images))
    return CropDataset(images, size, scale=scale, seed=seed, hflip=hflip, rgb_permute=rgb_permute)
