"""Evaluate an image tokenizer on a set of images: rate, fidelity, codebook use, and the equal-bits floor.

Protocol (the same for ``tokzoo eval``, the demo and benchmarks): each image is resized so its shorter side is
``size`` (antialiased bicubic) and centre-cropped to size×size (``tokzoo.data.eval_transform``); the
reconstruction is clipped and rounded to uint8 before any metric; rate is the exact ``Tokens.nbits()`` of each
image; per-image values are aggregated as a mean with a 95% bootstrap interval (seed 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from tokzoo.bench.thumbnail import thumbnail_reconstruct, thumbnail_side
from tokzoo.core.errors import DataError
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.data import eval_transform, image_to_tensor
from tokzoo.metrics import codebook_stats, mean_ci, psnr, quantize_uint8, ssim

SUMMARY_KEYS = ("tokens", "bits", "bpp", "psnr", "ssim", "thumb_bits", "thumb_psnr", "thumb_ssim")


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


def prepare_images(images: Sequence[tuple[str, Any]], size: int) -> tuple[list[str], torch.Tensor]:
    """Apply the evaluation transform to ``(name, HxWx3 uint8)`` pairs; returns names and a (N,3,s,s) batch."""
    if not images:
        raise DataError("no images to evaluate")
    names = [n for n, _ in images]
    batch = torch.stack([eval_transform(image_to_tensor(a), size) for _, a in images])
    return names, batch


@torch.no_grad()
def evaluate(
    model: Tokenizer, names: Sequence[str], images: torch.Tensor, *, batch_size: int = 8
) -> EvalResult:
    """Encode/decode ``images`` (N, 3, H, W) in [0, 1] with ``model`` and measure everything in the protocol."""
    if model.modality != "image":
        raise DataError(f"{model.registry_name} is a {model.modality} tokenizer, not an image tokenizer")
    model.eval()
    device = next(model.parameters()).device
    h, w = images.shape[-2:]
    recs, thumbs, records, all_ids = [], [], [], []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size].to(device)
        tokens = model.encode(x)
        rec = quantize_uint8(model.decode(tokens)).cpu()
        x = x.cpu()
        bits = tokens.nbits_per_sample()
        side = thumbnail_side(min(bits))
        # Below 24 bits not even a 1x1 thumbnail fits: the floor is then reported as absent (None).
        thumb = quantize_uint8(thumbnail_reconstruct(x, side)) if side else torch.full_like(x, 0.5)
        p, s, tp, ts = psnr(rec, x), ssim(rec, x), psnr(thumb, x), ssim(thumb, x)
        for i in range(len(x)):
            records.append({
                "name": names[start + i], "tokens": int(tokens.lengths[i]), "bits": bits[i],
                "bpp": bits[i] / (h * w), "psnr": float(p[i]), "ssim": float(s[i]),
                "thumb_side": side, "thumb_bits": 24 * side * side,
                "thumb_psnr": float(tp[i]) if side else None, "thumb_ssim": float(ts[i]) if side else None,
            })  # fmt: skip
            all_ids.append(tokens.sample(i))
        recs.append(rec)
        thumbs.append(thumb)
    summary: dict[str, Any] = {"num_images": len(records), "image_size": [int(h), int(w)]}
    for key in SUMMARY_KEYS:
        values = [r[key] for r in records if r[key] is not None]
        summary[key] = mean_ci(values) if values else None
    if model.vocab_size is not None:
        stats = codebook_stats(torch.cat(all_ids).cpu(), model.vocab_size)
        summary["codebook"] = {k: float(v) for k, v in stats.items()} | {"size": model.vocab_size}
    return EvalResult(records, summary, images.cpu(), torch.cat(recs), torch.cat(thumbs))
