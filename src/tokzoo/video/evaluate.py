"""``tokzoo eval`` for video tokenizers: per clip file, bits per frame and per pixel, per-frame PSNR / SSIM
(uint8-rounded, the image protocol frame by frame) and temporal flicker of the reconstruction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from tokzoo.bench.eval_files import FileEval, FileEvalOptions, failure
from tokzoo.bench.protocol import summarize
from tokzoo.metrics.video import flicker, frame_psnr, frame_ssim
from tokzoo.video.transforms import resize_clip

__all__ = ["METRICS", "evaluate"]

METRICS = ("frames", "tokens", "bits", "bits_per_frame", "bpp", "psnr", "ssim", "flicker")


def _strip(clip: torch.Tensor, rec: torch.Tensor) -> np.ndarray:
    """Original frames over reconstructed frames, side by side in time, as one uint8 image (H*2, W*T, 3)."""
    rows = [torch.cat(list(c.unbind(1)), dim=-1) for c in (clip, rec)]  # (3, H, W*T) each
    return (torch.cat(rows, dim=-2).clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()


def evaluate(model: Any, files: list[Path], opts: FileEvalOptions) -> FileEval:
    """Measure ``model`` (a video tokenizer) on clip ``files`` (``opts.size``: shorter side scaled and centre
    cropped first); unreadable or uncodable files are listed as failures and skipped."""
    records: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    figures: list[tuple[np.ndarray, str]] = []
    for path in files:
        try:
            x = model.load_file(path)
            if opts.size is not None:
                x = resize_clip(x, opts.size)
        except Exception as e:  # any error fails this file alone; failure() names an unexpected one
            failures.append(failure(path, "read", e))
            continue
        try:
            with torch.no_grad():
                tokens = model.encode(x)
                rec = model.decode(tokens)
        except Exception as e:
            failures.append(failure(path, "tokenize", e))
            continue
        _, _, t, h, w = x.shape
        bits = tokens.nbits()
        records.append(
            {
                "file": path.name,
                "frames": t,
                "size": f"{w}x{h}",
                "tokens": tokens.num_tokens,
                "bits": bits,
                "bits_per_frame": bits / t,
                "bpp": bits / (t * h * w),
                "psnr": float(frame_psnr(rec, x).mean()),
                "ssim": float(frame_ssim(rec, x).mean()),
                "flicker": float(flicker(rec, x)[0]),
            }
        )
        if len(figures) < opts.examples:
            figures.append(
                (_strip(x[0, :, :8], rec[0, :, :8]), f"{path.name}: original (top), reconstruction")
            )
    summary: dict[str, Any] = {"num_files": len(files), "num_failed": len({f["file"] for f in failures})}
    summary |= summarize(records, METRICS)
    return FileEval(records, failures, summary, ["file", "size", *METRICS], figures)
