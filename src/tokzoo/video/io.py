"""Video files through PyAV (FFmpeg): bounded reading with frame-rate / size / frame-count options, and writing.

Reading checks the decoded size against the limits ``video_frames`` and ``video_pixels`` (:mod:`tokzoo.core.limits`)
from what the container declares, before decoding, and again while it streams frames (a container may declare
nothing or lie), so no file is ever held whole in memory beyond the limits. Every failure is one ``DataError``
line naming the file. Writing encodes into memory and then writes the file atomically, so a failed write leaves
nothing behind.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import DataError
from tokzoo.core.limits import check_limit, get_limits

__all__ = ["VIDEO_SUFFIXES", "VideoInfo", "iter_windows", "probe_video", "read_video", "write_video"]

#: Containers read and written; the first is the lossless default that ``tokzoo decode`` writes.
VIDEO_SUFFIXES = (".mkv", ".mp4", ".webm", ".avi", ".mov", ".gif")

#: suffix -> (container format, codec, pixel format, codec options): FFV1 and VP9 lossless, the rest high quality.
_WRITERS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    ".mkv": ("matroska", "ffv1", "bgr0", {}),
    ".webm": ("webm", "libvpx-vp9", "yuv444p", {"lossless": "1"}),
    ".mp4": ("mp4", "libx264", "yuv444p", {"crf": "10", "preset": "medium"}),
    ".mov": ("mov", "libx264", "yuv444p", {"crf": "10", "preset": "medium"}),
    ".avi": ("avi", "ffv1", "bgr0", {}),
    ".gif": ("gif", "gif", "rgb8", {}),
}


@dataclass(frozen=True)
class VideoInfo:
    """What a file's first video stream declares: size, frame rate (frames/s) and frame count (0: unknown)."""

    width: int
    height: int
    fps: float
    frames: int


def _fail(path: object, error: Exception) -> DataError:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return DataError(f"{path}: cannot read video ({reason})")


def _open(path: Path, data: bytes | None = None) -> av.container.InputContainer:
    if data is None and not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        container = av.open(str(path) if data is None else io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError, OSError, UnicodeDecodeError) as e:
        raise _fail(path, e) from None
    if not container.streams.video:
        container.close()
        raise DataError(f"{path}: no video stream")
    return container


def _info(path: Path, stream: av.video.stream.VideoStream) -> VideoInfo:
    ctx = stream.codec_context
    if ctx is None:
        raise DataError(f"{path}: unsupported video codec (FFmpeg has no decoder for this stream)")
    if not ctx.width or not ctx.height:
        raise DataError(f"{path}: the video stream declares no frame size")
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    frames = int(stream.frames or 0)
    if not frames and stream.duration and stream.time_base and fps:
        frames = math.ceil(float(stream.duration * stream.time_base) * fps)
    return VideoInfo(int(ctx.width), int(ctx.height), fps, frames)


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """The declared size, frame rate and frame count of ``path``'s first video stream (nothing decoded)."""
    path = Path(path)
    container = _open(path)
    try:
        return _info(path, container.streams.video[0])
    finally:
        container.close()


def _out_size(info: VideoInfo, size: int | None) -> tuple[int, int, int, int]:
    """(scaled width, scaled height, crop width, crop height): the shorter side scaled to ``size``, then a centred
    ``size`` x ``size`` crop (the image evaluation protocol, per frame); the file's own size without ``size``."""
    if size is None:
        return info.width, info.height, info.width, info.height
    scale = size / min(info.width, info.height)
    return max(size, round(info.width * scale)), max(size, round(info.height * scale)), size, size


def _frames(path: Path, container: av.container.InputContainer, fps: float | None) -> Iterator[av.VideoFrame]:
    """Decoded frames in order; with ``fps``, resampled to that rate by keeping the first frame at or after each
    tick of 1/fps seconds (variable frame rates included: the times are the frames' own timestamps)."""
    next_time = 0.0
    try:
        for frame in container.decode(video=0):
            if fps is not None and frame.time is not None:
                if frame.time + 1e-6 < next_time:
                    continue
                next_time = max(next_time + 1 / fps, frame.time + 1 / fps - 1e-6)
            yield frame
    except (av.FFmpegError, ValueError, OSError) as e:
        raise _fail(path, e) from None


def _decoded(
    path: Path,
    fps: float | None,
    size: int | None,
    max_frames: int | None,
    data: bytes | None,
    held: int | None,
) -> Iterator[np.ndarray]:
    """The frames (H, W, 3) uint8 that :func:`read_video` and :func:`iter_windows` take, with the limits checked
    for ``held`` frames held in memory at once (None: all of them)."""
    if fps is not None and not fps > 0:
        raise DataError(f"{path}: fps must be positive, got {fps}")
    if max_frames is not None and max_frames < 1:
        raise DataError(f"{path}: max_frames must be at least 1, got {max_frames}")
    container = _open(path, data)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        info = _info(path, stream)
        scaled_w, scaled_h, out_w, out_h = _out_size(info, size)
        declared = info.frames
        if fps is not None and info.fps:
            declared = math.ceil(declared * min(1.0, fps / info.fps))
        cap = max_frames if max_frames is not None else get_limits().video_frames
        if max_frames is None:
            check_limit(path, "video_frames", declared, "declared frame count")
        expected = min(declared, cap, held or cap) if declared else 1  # undeclared: bounded while streaming
        check_limit(
            path,
            "video_pixels",
            expected * out_w * out_h,
            f"decoded size ({expected} frames of {out_w}x{out_h})",
        )
        count = 0
        for frame in _frames(path, container, fps):
            if count == cap:
                if max_frames is None:
                    check_limit(path, "video_frames", cap + 1, "frame count (more than declared)")
                break
            in_memory = count % held + 1 if held else count + 1
            check_limit(path, "video_pixels", in_memory * out_w * out_h, "decoded pixels")
            rgb = frame.to_ndarray(format="rgb24", width=scaled_w, height=scaled_h)
            top, left = (scaled_h - out_h) // 2, (scaled_w - out_w) // 2
            count += 1
            yield rgb[top : top + out_h, left : left + out_w]
    finally:
        container.close()
    if not count:
        raise DataError(f"{path}: no decodable video frames")


def read_video(
    path: str | os.PathLike[str],
    *,
    fps: float | None = None,
    size: int | None = None,
    max_frames: int | None = None,
    data: bytes | None = None,
) -> torch.Tensor:
    """Decode ``path`` into a uint8 tensor (T, H, W, 3).

    Args:
        data: the file's bytes, already in memory (e.g. a WebDataset shard member); ``path`` then only names it.
        fps: resample to this frame rate (None: every frame).
        size: scale the shorter side to ``size`` and centre-crop ``size`` x ``size`` (None: the file's size).
        max_frames: stop after this many frames (None: all, within the limit ``video_frames``).

    A file whose declared frames exceed ``video_frames`` (when ``max_frames`` does not cut it), or whose decoded
    frames x pixels exceed ``video_pixels``, is refused before decoding; one that turns out longer than declared
    is refused when the limit is crossed. Corrupt, truncated, empty or unsupported files: ``DataError``.
    """
    return torch.from_numpy(np.stack(list(_decoded(Path(path), fps, size, max_frames, data, None))))


def iter_windows(
    path: str | os.PathLike[str],
    window: int,
    *,
    stride: int | None = None,
    fps: float | None = None,
    max_frames: int | None = None,
    data: bytes | None = None,
) -> Iterator[torch.Tensor]:
    """Decode ``path`` as windows of ``window`` frames starting every ``stride`` frames (None: ``window``, i.e.
    consecutive and non-overlapping; smaller overlaps, larger skips frames), uint8 (window, H, W, 3) each,
    holding one window in memory at a time (``video_pixels`` bounds one window, not the file). Frames after the
    last full window are dropped; a file shorter than one window yields nothing. ``fps`` and ``max_frames`` as
    in :func:`read_video`; a decoding error part-way raises ``DataError`` after the windows already yielded."""
    path = Path(path)
    if window < 1:
        raise DataError(f"{path}: window must be at least 1 frame, got {window}")
    stride = window if stride is None else stride
    if stride < 1:
        raise DataError(f"{path}: window stride must be at least 1 frame, got {stride}")
    buffer: list[np.ndarray] = []
    start = 0  # index of the next window's first frame
    for index, rgb in enumerate(_decoded(path, fps, None, max_frames, data, window)):
        if index >= start:
            buffer.append(rgb)
        if len(buffer) == window:
            yield torch.from_numpy(np.stack(buffer))
            start += stride
            buffer = buffer[min(stride, window) :]


def write_video(
    frames: torch.Tensor | np.ndarray, path: str | os.PathLike[str], *, fps: float = 24.0
) -> None:
    """Write uint8 frames (T, H, W, 3) to ``path``, the container and codec chosen by its suffix
    (:data:`VIDEO_SUFFIXES`: .mkv/.avi FFV1 and .webm VP9 are lossless, .mp4/.mov H.264 4:4:4 at CRF 10, .gif
    paletted). Encoded in memory, then written atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _WRITERS:
        raise DataError(
            f"{path}: cannot write {suffix or 'a file without suffix'} (use {', '.join(VIDEO_SUFFIXES)})"
        )
    arr = frames.numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3 or not len(arr):
        raise DataError(
            f"{path}: expected uint8 frames (T, H, W, 3) with T >= 1, got {arr.dtype} {arr.shape}"
        )
    fmt, codec, pix_fmt, options = _WRITERS[suffix]
    height, width = arr.shape[1:3]
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=fmt) as out:
        stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.options = options
        for rgb in arr:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    atomic_write_bytes(path, buffer.getvalue())
