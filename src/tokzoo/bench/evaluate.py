"""Evaluate an image tokenizer on a set of images: rate, fidelity, token statistics, and the equal-bits floor.

Protocol (``docs/evaluation.md``; the same for ``tokzoo eval``, the demo and benchmarks, through
``tokzoo.bench.protocol``): each image is resized so its shorter side is ``size`` (antialiased bicubic) and
centre-cropped to size×size; the reconstruction is clipped and rounded to uint8 before any metric; rate is the
exact ``Tokens.nbits()`` of each image; per-image values are aggregated as a mean with a 95% bootstrap interval
(seed 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from tokzoo.bench.protocol import (
    FIDELITY_KEYS,
    bits_per_pixel,
    fidelity_batch,
    finalize,
    prepare_images,
    summarize,
    unavailable_reason,
)
from tokzoo.bench.thumbnail import thumbnail_reconstruct, thumbnail_side
from tokzoo.core.errors import DataError
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.metrics.token_stats import token_stats

THUMB_KEYS = tuple(f"thumb_{k}" for k in FIDELITY_KEYS)
SUMMARY_KEYS = ("tokens", "bits", "bpp", *FIDELITY_KEYS, "thumb_bits", *THUMB_KEYS)

__all__ = ["SUMMARY_KEYS", "THUMB_KEYS", "EvalResult", "evaluate", "prepare_images"]


@dataclass
class EvalResult:
    """Per-image records, their aggregate, and the images (for figures)."""

    records: list[dict[str, Any]]
    summary: dict[str, Any]
    originals: torch.Tensor
    reconstructions: torch.Tensor
    thumbnails: torch.Tensor
    extras: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary, "images": self.records, **self.extras}


def _encode(model: Tokenizer, x: torch.Tensor):
    """``model.encode`` with the image size named in the error when the model cannot take it."""
    try:
        return model.encode(x)
    except DataError as e:
        h, w = x.shape[-2:]
        raise DataError(
            f"{model.registry_name} cannot encode {h}x{w} images: {e}. "
            "Fix: evaluate at a size the model accepts (tokzoo eval --size)"
        ) from e


@torch.no_grad()
def evaluate(
    model: Tokenizer, names: Sequence[str], images: torch.Tensor, *, batch_size: int = 8
) -> EvalResult:
    """Encode/decode ``images`` (N, 3, H, W) in [0, 1] with ``model`` and measure everything in the protocol."""
    if model.modality != "image":
        raise DataError(f"{model.registry_name} is a {model.modality} tokenizer, not an image tokenizer")
    if len(images) == 0 or len(images) != len(names):
        raise DataError(f"evaluate needs one name per image, got {len(names)} names for {len(images)} images")
    model.eval()
    device = next(model.parameters()).device
    h, w = (int(s) for s in images.shape[-2:])
    recs, thumbs, records, all_ids = [], [], [], []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size].to(device)
        tokens = _encode(model, x)
        rec = finalize(model.decode(tokens)).cpu()
        x = x.cpu()
        bits = tokens.nbits_per_sample()
        side = thumbnail_side(min(bits))
        # Below 24 bits not even a 1x1 thumbnail fits: the floor is then reported as absent (None).
        thumb = finalize(thumbnail_reconstruct(x, side)) if side else torch.full_like(x, 0.5)
        fid, thumb_fid = fidelity_batch(rec, x), fidelity_batch(thumb, x)
        for i in range(len(x)):
            record = {"name": names[start + i], "tokens": int(tokens.lengths[i]), "bits": bits[i]}
            record["bpp"] = bits_per_pixel(bits[i], h, w)
            record |= fid[i]
            record |= {"thumb_side": side, "thumb_bits": 24 * side * side}
            record |= {f"thumb_{k}": (v if side else None) for k, v in thumb_fid[i].items()}
            records.append(record)
            all_ids.append(tokens.sample(i).cpu())
        recs.append(rec)
        thumbs.append(thumb)
    summary: dict[str, Any] = {"num_images": len(records), "image_size": [h, w]}
    summary |= summarize(records, SUMMARY_KEYS)
    summary["unavailable"] = {k: r for k in FIDELITY_KEYS if (r := unavailable_reason(k, h, w))}
    if model.vocab_size is not None:
        summary["token_stats"] = token_stats(all_ids, model.vocab_size)
    return EvalResult(records, summary, images.cpu(), torch.cat(recs), torch.cat(thumbs))
