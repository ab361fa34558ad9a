"""The evaluation protocol of ``docs/evaluation.md``, written once and called by every evaluation path.

``tokzoo eval``, the demo, ``tokzoo bench rd`` and the ``benchmarks/`` scripts all go through these functions:
the same crop, the same uint8 rounding, the same metrics, the same rate, the same aggregation and seed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch

from tokzoo.core.errors import DataError
from tokzoo.data import eval_transform, image_to_tensor
from tokzoo.metrics.fidelity import (
    VIF_MIN_SIDE,
    ms_ssim,
    ms_ssim_min_side,
    psnr,
    quantize_uint8,
    sam,
    ssim,
    uqi,
    vif,
)
from tokzoo.metrics.summary import mean_ci

PROTOCOL_SEED = 0
"""Seed of every random choice in an evaluation (bootstrap resampling, sampled words, ...)."""

FIDELITY_KEYS = ("psnr", "ssim", "ms_ssim", "uqi", "vif", "sam")
"""Full-reference metrics of every evaluated image, in report order; all but ``sam`` are higher-is-better."""
_METRIC_FNS = {"psnr": psnr, "ssim": ssim, "ms_ssim": ms_ssim, "uqi": uqi, "vif": vif, "sam": sam}

LOWER_IS_BETTER = frozenset({"sam"})


def prepare_images(images: Sequence[tuple[str, Any]], size: int) -> tuple[list[str], torch.Tensor]:
    """Apply the evaluation transform to ``(name, HxWx3 uint8)`` pairs; returns names and a (N,3,s,s) batch.

    Shorter side resized to ``size`` (antialiased bicubic), clamped to [0, 1], centre-cropped to size×size.
    """
    if not images:
        raise DataError("no images to evaluate")
    names = [n for n, _ in images]
    batch = torch.stack([eval_transform(image_to_tensor(a), size) for _, a in images])
    return names, batch


def finalize(x: torch.Tensor) -> torch.Tensor:
    """What a user would save: clip to [0, 1] and round to uint8 levels (applied before any metric)."""
    return quantize_uint8(x.detach().float())


def bits_per_pixel(bits: float, height: int, width: int) -> float:
    """Rate in bits per pixel of an image of ``height``×``width`` that costs ``bits``."""
    return bits / (height * width)


def unavailable_reason(key: str, height: int, width: int) -> str | None:
    """Why metric ``key`` has no value at this image size (None when it has one)."""
    side = min(height, width)
    if key == "ms_ssim" and side < ms_ssim_min_side():
        return f"unavailable (image too small: MS-SSIM needs a side of at least {ms_ssim_min_side()} px)"
    if key == "vif" and side < VIF_MIN_SIDE:
        return f"unavailable (image too small: VIF needs a side of at least {VIF_MIN_SIDE} px)"
    return None


def _values(t: torch.Tensor | None, n: int) -> list[float | None]:
    if t is None:
        return [None] * n
    return [float(v) if torch.isfinite(v) else None for v in t.cpu()]


@torch.no_grad()
def fidelity_batch(
    pred: torch.Tensor, target: torch.Tensor, keys: Sequence[str] = FIDELITY_KEYS
) -> list[dict[str, float | None]]:
    """The metrics ``keys`` (default: all of ``FIDELITY_KEYS``) for each image of two (B, 3, H, W) batches in [0, 1].

    Both are rounded to uint8 levels first. A metric undefined for the input (too small, flat image) is None.
    Only the metrics asked for are computed.
    """
    if pred.shape != target.shape or pred.ndim != 4:
        raise DataError(
            f"fidelity needs two (B, 3, H, W) batches of one shape, got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    p, t = finalize(pred.cpu()), finalize(target.cpu())
    n = len(p)
    unknown = [k for k in keys if k not in _METRIC_FNS]
    if unknown:
        raise DataError(f"unknown fidelity metrics {unknown}; known: {list(FIDELITY_KEYS)}")
    columns = {k: _values(_METRIC_FNS[k](p, t), n) for k in keys}
    return [{k: columns[k][i] for k in keys} for i in range(n)]


def fidelity_metrics(pred: torch.Tensor, target: torch.Tensor) -> dict[str, float | None]:
    """``fidelity_batch`` for one image: (3, H, W) or (1, 3, H, W) reconstruction and original."""
    if pred.ndim == 3:
        pred, target = pred[None], target[None]
    if len(pred) != 1:
        raise DataError(f"fidelity_metrics takes one image, got a batch of {len(pred)} (use fidelity_batch)")
    return fidelity_batch(pred, target)[0]


def summarize(
    records: Sequence[dict[str, Any]], keys: Iterable[str], *, seed: int = PROTOCOL_SEED
) -> dict[str, dict[str, float] | None]:
    """Mean and 95% bootstrap interval of each key over the records that have a value for it (None if none)."""
    out: dict[str, dict[str, float] | None] = {}
    for key in keys:
        values = [r[key] for r in records if r.get(key) is not None]
        out[key] = mean_ci(values, seed=seed) if values else None
    return out
