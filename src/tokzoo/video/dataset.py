"""The video training set: fixed-length windows of clip files, randomly cropped, as a pure function of the key."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import torch
from torch.utils.data import Dataset

from tokzoo.core.errors import DataError
from tokzoo.data.files import collect_files
from tokzoo.data.report import report_bad
from tokzoo.data.sampler import Key
from tokzoo.data.seeding import derive_seed
from tokzoo.data.shards import iter_shards, shard_paths
from tokzoo.data.transforms import random_flip_permute, random_scale_crop
from tokzoo.video.io import VIDEO_SUFFIXES, read_video

log = logging.getLogger("tokzoo.video")

#: Frames per training window: 1 + 4·2, two latent frames after the first at 4x temporal compression.
DEFAULT_FRAMES = 9


class ClipDataset(Dataset[torch.Tensor]):
    """Windows of ``frames`` consecutive frames (non-overlapping, in file order) of the clip ``files`` (paths, or
    ``(name, bytes)`` pairs of files already in memory such as shard members), decoded once into memory as uint8; item ``(index, sample_seed)`` is window ``index`` with one random scale-crop of
    ``size`` x ``size`` (and optional mirror / channel shuffle) shared by all its frames, drawn from a generator
    seeded by ``sample_seed``: a float (3, frames, size, size) clip in [0, 1]. Unreadable files and files shorter
    than one window are reported (path + reason) and skipped."""

    def __init__(
        self,
        files: Sequence[Path | tuple[str, bytes]],
        size: int,
        *,
        frames: int = DEFAULT_FRAMES,
        scale: tuple[float, float] = (1.0, 1.0),
        seed: int = 0,
        hflip: bool = False,
        rgb_permute: bool = False,
        read_size: int | None = None,
    ) -> None:
        self.size, self.frames, self.scale, self.seed = size, frames, scale, seed
        self.hflip, self.rgb_permute = hflip, rgb_permute
        self.windows: list[torch.Tensor] = []
        self.sources: list[str] = []
        for item in files:
            path, data = (item, None) if isinstance(item, Path) else (Path(item[0]), item[1])
            try:
                clip = read_video(path, size=read_size, data=data)
            except DataError as e:
                log.warning("skipping %s", e)
                continue
            if len(clip) < frames:
                log.warning("skipping %s: %d frames, fewer than one window of %d", path, len(clip), frames)
            for start in range(0, len(clip) - frames + 1, frames):
                self.windows.append(clip[start : start + frames].permute(0, 3, 1, 2).contiguous())
                self.sources.append(path.name)
        if not self.windows:
            raise DataError(f"no clip of {frames} frames could be read from {len(files)} files")

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, key: Key | int) -> torch.Tensor:
        index, sample_seed = key if isinstance(key, tuple) else (key, derive_seed(self.seed, key))
        gen = torch.Generator().manual_seed(sample_seed)
        frames = self.windows[index].float() / 255  # (T, 3, H, W): the frames are the batch of the transforms
        crop = random_scale_crop(frames, self.size, self.scale, gen)
        crop = random_flip_permute(crop, gen, hflip=self.hflip, rgb_permute=self.rgb_permute)
        return crop.transpose(0, 1).contiguous()


def shard_clips(pattern: str) -> list[tuple[str, bytes]]:
    """``(SHARD/KEY.EXT, bytes)`` of the video member of every sample in the shards ``pattern`` (a sample without
    one is reported and skipped)."""
    out = []
    for shard in shard_paths(pattern):
        for key, members in iter_shards(shard):
            ext = next((e for e in members if f".{e.lower()}" in VIDEO_SUFFIXES), None)
            if ext is None:
                report_bad(f"{shard}/{key}", f"no video member (has {', '.join(sorted(members))})")
                continue
            out.append((f"{shard}/{key}.{ext}", members[ext]))
    return out


def build_clip_dataset(
    spec: str,
    size: int = 64,
    *,
    scale: tuple[float, float] = (1.0, 1.0),
    seed: int = 0,
    hflip: bool = False,
    rgb_permute: bool = False,
    frames: int = DEFAULT_FRAMES,
) -> ClipDataset:
    """The clip files of a folder (searched recursively, e.g. ``data/video/train`` of
    ``python -m tokzoo.video.data``) or of WebDataset shards (``shards:<brace pattern>``, decoded into memory) as
    random-crop windows of ``frames`` frames."""
    if spec.startswith("shards:"):
        files: Sequence[Path | tuple[str, bytes]] = shard_clips(spec.split(":", 1)[1])
    elif Path(spec).is_dir():
        files = collect_files([spec], VIDEO_SUFFIXES)
    else:
        raise DataError(
            f"data {spec!r}: not a folder of video files ({'/'.join(VIDEO_SUFFIXES)}) nor 'shards:<pattern>'"
        )
    dataset = ClipDataset(
        files, size, frames=frames, scale=scale, seed=seed, hflip=hflip, rgb_permute=rgb_permute
    )
    log.info("training data %s: %d windows of %d frames", spec, len(dataset), frames)
    return dataset
