"""Map-style dataset of random square crops whose randomness is a pure function of the key."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from tokzoo.core.errors import DataError
from tokzoo.data.decode import image_to_tensor
from tokzoo.data.folder import ImageFolder
from tokzoo.data.report import LOGGER, report_bad
from tokzoo.data.sampler import Key
from tokzoo.data.seeding import derive_seed
from tokzoo.data.transforms import random_flip_permute, random_scale_crop


class CropDataset(Dataset[torch.Tensor]):
    """Random ``size`` x ``size`` crops (3, size, size) float32 in [0, 1] of in-memory images or an ImageFolder.

    ``dataset[(index, sample_seed)]`` applies ``random_scale_crop(image, size, scale)`` with a
    ``torch.Generator`` seeded by ``sample_seed``: the same key always gives the same crop, in any
    worker and after a resume (pair with ``StreamBatchSampler``). ``dataset[index]`` uses the sample
    seed ``derive_seed(seed, index)``. An image that fails to decode is reported once per process and
    replaced by the next index that decodes (wrapping around; DataError if none does). Images whose
    shorter side is below ``size`` are upscaled (one warning per process). ``hflip`` / ``rgb_permute`` add
    random mirroring / colour-channel shuffling, drawn from the same generator.
    """

    def __init__(
        self,
        images: Sequence[np.ndarray] | ImageFolder,
        size: int,
        *,
        scale: tuple[float, float] = (0.25, 1.0),
        seed: int = 0,
        hflip: bool = False,
        rgb_permute: bool = False,
    ) -> None:
        if len(images) == 0:
            raise DataError("CropDataset needs at least one image")
        if size < 1 or not 0.0 < scale[0] <= scale[1]:
            raise ValueError(f"need size >= 1 and 0 < scale[0] <= scale[1], got {size=}, {scale=}")
        self.images, self.size, self.scale, self.seed = images, size, scale, seed
        self.hflip, self.rgb_permute = hflip, rgb_permute
        self._bad: set[int] = set()
        self._warned_small = False

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, key: Key | int) -> torch.Tensor:
        index, sample_seed = key if isinstance(key, tuple) else (key, derive_seed(self.seed, key))
        image = self._load_from(index)
        h, w = image.shape[-2:]
        if min(h, w) < self.size and not self._warned_small:
            self._warned_small = True
            LOGGER.warning(
                "image %d is %dx%d, smaller than the %d crop: upscaling it (and any others like it)",
                index,
                h,
                w,
                self.size,
            )
        gen = torch.Generator().manual_seed(sample_seed)
        crop = random_scale_crop(image, self.size, self.scale, gen)
        return random_flip_permute(crop, gen, hflip=self.hflip, rgb_permute=self.rgb_permute).contiguous()

    def _load_from(self, index: int) -> torch.Tensor:
        """Image ``index`` as a tensor, or the next one that decodes."""
        n = len(self.images)
        if not 0 <= index < n:
            raise IndexError(f"index {index} out of range for {n} images")
        for i in (j % n for j in range(index, index + n)):
            if i in self._bad:
                continue
            try:
                return image_to_tensor(self.images[i])
            except DataError as e:
                self._bad.add(i)
                report_bad(f"image {i}", f"{e}; using the next image that decodes")
        raise DataError(f"none of the {n} images decodes")
