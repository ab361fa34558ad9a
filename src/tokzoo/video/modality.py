"""The video modality plugin: clips (B, 3, T, H, W) in [0, 1], video files through PyAV, clip-window datasets,
``tokzoo eval`` per clip file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from tokzoo.core.errors import DataError
from tokzoo.core.modality import Modality, register_modality
from tokzoo.core.tokens import Tokens
from tokzoo.video.dataset import build_clip_dataset
from tokzoo.video.io import VIDEO_SUFFIXES, probe_video
from tokzoo.video.transforms import resize_clip
from tokzoo.video.windows import WINDOW_OPTIONS, clip_windows


def _evaluator() -> Any:
    from tokzoo.bench.eval_files import FileEvaluator
    from tokzoo.video.evaluate import evaluate

    def no_default() -> list:
        raise DataError("tokzoo eval on a video tokenizer needs --data (clip files or folders)")

    return FileEvaluator(VIDEO_SUFFIXES, "", no_default, evaluate, frozenset({"size"}))


def _file_meta(path: Path) -> dict[str, Any]:
    """The source's declared frame rate (``fps``), so that ``tokzoo decode`` writes the clip at that rate."""
    fps = probe_video(path).fps
    return {"fps": fps} if fps > 0 else {}


def _save_options(meta: dict[str, Any]) -> dict[str, Any]:
    fps = meta.get("fps")
    if fps is None:
        return {}
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 1000:
        raise DataError(
            f"tokens carry an invalid frame rate {fps!r} (meta 'fps': a number of frames/s in (0, 1000])"
        )
    return {"fps": float(fps)}


def _rate(x: torch.Tensor, tokens: Tokens) -> str:
    t, h, w = x.shape[-3:]
    return f"{tokens.nbits() / t:.0f} bits per frame, {tokens.nbits() / (t * h * w):.4f} bpp"


VIDEO = register_modality(
    Modality(
        name="video",
        data="float tensors (B, 3, T, H, W) in [0, 1]",
        suffixes=VIDEO_SUFFIXES,
        dataset=build_clip_dataset,
        evaluator=_evaluator,
        resize=resize_clip,
        rate=_rate,
        file_meta=_file_meta,
        save_options=_save_options,
        load_items=clip_windows,
        item_options=WINDOW_OPTIONS,
    )
)
