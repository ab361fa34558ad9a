"""Windowed encoding of long videos: a file -> fixed-length clips, streamed, each with the frame rate and place
it came from, for ``tokzoo tokenize`` (the modality's ``load_items``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from tokzoo.core.errors import DataError
from tokzoo.video.codec import VideoTokenizer
from tokzoo.video.io import iter_windows, probe_video

__all__ = ["WINDOW_OPTIONS", "clip_windows"]

#: the options of :func:`clip_windows` (``tokzoo tokenize --clip-frames/--clip-stride/--fps/--max-frames``)
WINDOW_OPTIONS = ("clip_frames", "clip_stride", "fps", "max_frames")


def clip_windows(
    model: VideoTokenizer,
    path: Path,
    *,
    clip_frames: int | None = None,
    clip_stride: int | None = None,
    fps: float | None = None,
    max_frames: int | None = None,
) -> Iterator[tuple[torch.Tensor, dict[str, Any]]]:
    """The clips of ``clip_frames`` frames (default: the model's ``clip_frames``) of the video ``path``, one
    starting every ``clip_stride`` frames (default: ``clip_frames``, consecutive and non-overlapping; less
    overlaps), resampled to ``fps`` (None: the file's rate) and cut after ``max_frames`` frames, as
    ``(clip (1, 3, T, H, W) in [0, 1], meta)``; meta holds ``fps`` (the clip's frame rate, where known),
    ``clip_start`` (index of its first frame) and ``clip_frames``. One window is decoded at a time; frames after
    the last full window are dropped, and a video shorter than one window is a DataError."""
    frames = model.clip_frames if clip_frames is None else clip_frames
    model.check_clip_frames(frames)
    stride = frames if clip_stride is None else clip_stride
    rate = fps if fps is not None else probe_video(path).fps
    count = 0
    windows = iter_windows(path, frames, stride=stride, fps=fps, max_frames=max_frames)
    for count, window in enumerate(windows, 1):
        meta: dict[str, Any] = {"clip_start": (count - 1) * stride, "clip_frames": frames}
        if rate and rate > 0:
            meta["fps"] = float(rate)
        yield (window.permute(3, 0, 1, 2).float() / 255)[None], meta
    if not count:
        limit = "" if max_frames is None else f" within max_frames={max_frames}"
        raise DataError(f"{path}: fewer frames than one clip of {frames}{limit}")
