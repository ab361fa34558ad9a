"""Synthetic clips for the video tests: a bright square moving over a colour gradient."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tokzoo.video.io import write_video


def sprite_frames(frames: int = 9, height: int = 32, width: int = 32, seed: int = 0) -> np.ndarray:
    """uint8 (T, H, W, 3): a 8-px square moving 2 px per frame over a fixed gradient."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    base = np.stack([xs * 255 // max(width - 1, 1), ys * 255 // max(height - 1, 1), np.full_like(xs, 90)], -1)
    out = np.repeat(base[None].astype(np.uint8), frames, axis=0)
    y0, x0 = rng.integers(0, max(height - 8, 1)), 0
    for t in range(frames):
        x = (x0 + 2 * t) % max(width - 8, 1)
        out[t, y0 : y0 + 8, x : x + 8] = (250, 240, 30)
    return out


def write_sprite_clip(path: Path, frames: int = 9, size: int = 32, seed: int = 0, fps: float = 8) -> Path:
    write_video(sprite_frames(frames, size, size, seed), path, fps=fps)
    return path
