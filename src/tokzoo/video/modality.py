"""The video modality plugin: clips (B, 3, T, H, W) in [0, 1], video files through PyAV, clip-window datasets,
``tokzoo eval`` per clip file."""

from __future__ import annotations

from typing import Any

import torch

from tokzoo.core.errors import DataError
from tokzoo.core.modality import Modality, register_modality
from tokzoo.core.tokens import Tokens
from tokzoo.video.dataset import build_clip_dataset
from tokzoo.video.io import VIDEO_SUFFIXES
from tokzoo.video.transforms import resize_clip


def _evaluator() -> Any:
    from tokzoo.bench.eval_files import FileEvaluator
    from tokzoo.video.evaluate import evaluate

    def no_default() -> list:
        raise DataError("tokzoo eval on a video tokenizer needs --data (clip files or folders)")

    return FileEvaluator(VIDEO_SUFFIXES, "", no_default, evaluate, frozenset({"size"}))


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
    )
)
