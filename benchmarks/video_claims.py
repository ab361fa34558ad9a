"""The two paper claims of ``benchmarks/video.py`` (a helper module, not a benchmark of its own).

- ``omni_rows``: OmniTokenizer ("OmniTokenizer: A Joint Image-Video Tokenizer for Visual Generation", 2024):
  joint image-video training beats video-only training at equal steps on held-out clips, and the same weights
  still tokenize images. Each checkpoint is measured on the held-out clips and on held-out photos (one-frame
  clips); runs labelled ``GROUP/SEED`` are also averaged per group; the equal-bits thumbnail floor beside them.
- ``flex_rows``: VideoFlexTok ("VideoFlexTok: Flexible-Length Coarse-to-Fine Video Tokenization", 2025): the
  prefix curve of a flexible model (PSNR at every k = 1..K tokens; is it monotone?) and fixed-length models of
  the same architecture at their own k, with the equal-bits thumbnail floor at those k.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import torch

import tokzoo
from tokzoo.bench.video_thumbnail import thumbnail_clip, thumbnail_shapes
from tokzoo.data.bundled import bundled_images
from tokzoo.data.decode import image_to_tensor
from tokzoo.data.transforms import eval_transform
from tokzoo.metrics.video import flicker, frame_psnr, frame_ssim
from tokzoo.video.transforms import resize_clip


def heldout_photos(size: int) -> torch.Tensor:
    """The bundled test photos and the held-out photo set (never trained on), scaled to ``size`` (B, 3, S, S)."""
    photos = [img for split in ("test", "heldout") for _, img in bundled_images(split)]
    return torch.stack([eval_transform(image_to_tensor(p)[None], size)[0] for p in photos])


@torch.no_grad()
def _fidelity(model: tokzoo.Tokenizer, x: torch.Tensor, num_tokens: int | None = None) -> dict[str, float]:
    """Mean per-frame PSNR / SSIM (uint8-rounded), flicker and bits of ``model`` on clips ``x``, one at a time."""
    out: dict[str, list[float]] = {"psnr": [], "ssim": [], "flicker": [], "bits": []}
    for i in range(len(x)):
        clip = x[i : i + 1]
        tokens = model.encode(clip, num_tokens=num_tokens)
        rec = model.decode(tokens)
        out["psnr"].append(float(frame_psnr(rec, clip).mean()))
        out["ssim"].append(float(frame_ssim(rec, clip).mean()))
        if clip.shape[2] > 2:
            out["flicker"].append(float(flicker(rec, clip).mean()))
        out["bits"].append(tokens.nbits())
    return {k: float(np.mean(v)) if v else math.nan for k, v in out.items()}


def _floor_psnr(x: torch.Tensor, bits: float) -> float:
    """Mean PSNR of the equal-bits thumbnail floor on clips ``x`` (best t x s x s shape per clip); NaN below one
    1 x 1 x 1 thumbnail (24 bits)."""
    if not thumbnail_shapes(bits, x.shape[2]):
        return math.nan
    best = []
    for i in range(len(x)):
        clip = x[i : i + 1]
        shapes = thumbnail_shapes(bits, clip.shape[2])
        best.append(max(float(frame_psnr(thumbnail_clip(clip, t, s), clip).mean()) for t, s in shapes))
    return float(np.mean(best))


def omni_rows(specs: list[str], clips: torch.Tensor, size: int) -> list[dict[str, Any]]:
    """One row per ``LABEL=CHECKPOINT`` (held-out clips and photos at ``size``), then the mean of each group of
    labels ``GROUP/SEED``."""
    clips = resize_clip(clips, size)
    photos = heldout_photos(size)
    rows: list[dict[str, Any]] = []
    for spec in specs:
        label, _, path = spec.partition("=")
        model = tokzoo.load(path).eval()
        clip = _fidelity(model, clips)
        image = _fidelity(model, photos[:, :, None])
        rows.append(
            {
                "run": label, "group": label.split("/")[0], "clips": len(clips), "clip_bits": clip["bits"],
                "clip_psnr": clip["psnr"], "clip_ssim": clip["ssim"], "clip_flicker": clip["flicker"],
                "images": len(photos), "image_bits": image["bits"], "image_psnr": image["psnr"],
                "image_ssim": image["ssim"],
            }
        )  # fmt: skip
    if rows:
        rows.append(
            {
                "run": "thumbnail floor", "group": "floor", "clips": len(clips), "clip_bits": rows[0]["clip_bits"],
                "clip_psnr": _floor_psnr(clips, rows[0]["clip_bits"]), "images": len(photos),
                "image_bits": rows[0]["image_bits"], "image_psnr": _floor_psnr(photos[:, :, None], rows[0]["image_bits"]),
            }
        )  # fmt: skip
    for group in dict.fromkeys(r["group"] for r in rows):
        members = [r for r in rows if r["group"] == group]
        if len(members) > 1:
            mean = {
                k: float(np.mean([r[k] for r in members])) for k in members[0] if k not in ("run", "group")
            }
            spread = {f"{k}_std": float(np.std([r[k] for r in members])) for k in ("clip_psnr", "image_psnr")}
            rows.append({"run": f"{group} (mean of {len(members)})", "group": group, **mean, **spread})
    return rows


def flex_rows(flex_path: str, fixed: list[str], clips: torch.Tensor) -> tuple[list[dict[str, Any]], bool]:
    """The flexible model's prefix curve (k = 1..K) and each fixed-length ``K=CHECKPOINT`` model at its k, on the
    held-out clips at the flexible model's frame size; and whether the curve is monotone (non-decreasing)."""
    flex = tokzoo.load(flex_path).eval()
    clips = resize_clip(clips[:, :, : flex.cfg.frames], flex.cfg.image_size)
    rows: list[dict[str, Any]] = []
    for k in range(1, flex.cfg.num_tokens + 1):
        rows.append({"model": "flexible", "tokens": k, **_fidelity(flex, clips, k)})
    psnrs = [r["psnr"] for r in rows]
    monotone = all(b >= a for a, b in itertools.pairwise(psnrs))
    for spec in fixed:
        k, _, path = spec.partition("=")
        model = tokzoo.load(path).eval()
        row = {"model": "fixed", "tokens": int(k), **_fidelity(model, clips, int(k))}
        row["flexible_minus_fixed_db"] = psnrs[int(k) - 1] - row["psnr"]
        rows.append(row)
    for k in sorted({int(spec.partition("=")[0]) for spec in fixed}):
        bits = rows[k - 1]["bits"]
        rows.append({"model": "thumbnail floor", "tokens": k, "bits": bits, "psnr": _floor_psnr(clips, bits)})
    return rows, monotone
