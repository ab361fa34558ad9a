"""tokzoo.data: decoding, transforms, folders, tar shards, bundled and Debian image sets, samplers."""

from __future__ import annotations

from typing import Any

from tokzoo.data.braces import expand_braces
from tokzoo.data.bundled import BUNDLED_SPLITS, bundled_images
from tokzoo.data.dataset import CropDataset
from tokzoo.data.decode import image_to_tensor, load_image, save_image, tensor_to_image
from tokzoo.data.folder import IMAGE_EXTENSIONS, ImageFolder, LoadResult
from tokzoo.data.report import OnError
from tokzoo.data.sampler import StreamBatchSampler
from tokzoo.data.seeding import derive_seed
from tokzoo.data.shards import ShardImages, iter_shards, shard_paths, write_shards
from tokzoo.data.transforms import (
    center_crop,
    eval_transform,
    random_crop,
    random_flip_permute,
    random_scale_crop,
    resize,
    resize_shorter,
)

__all__ = [
    "BUNDLED_SPLITS",
    "IMAGE_EXTENSIONS",
    "CropDataset",
    "ImageFolder",
    "LoadResult",
    "OnError",
    "ShardImages",
    "StreamBatchSampler",
    "build_debian_imageset",
    "bundled_images",
    "center_crop",
    "derive_seed",
    "eval_transform",
    "expand_braces",
    "image_to_tensor",
    "iter_shards",
    "load_image",
    "random_crop",
    "random_flip_permute",
    "random_scale_crop",
    "resize",
    "resize_shorter",
    "save_image",
    "shard_paths",
    "tensor_to_image",
    "write_shards",
]


def __getattr__(name: str) -> Any:
    # Imported lazily so that `python -m tokzoo.data.debian` does not find the module already loaded.
    if name == "build_debian_imageset":
        from tokzoo.data.debian import build_debian_imageset

        return build_debian_imageset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
