"""Human-facing outputs of an evaluation: a comparison grid PNG, a text summary, metrics JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from tokzoo.bench.evaluate import EvalResult
from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.data import save_image


def comparison_grid(rows: list[torch.Tensor], pad: int = 2) -> torch.Tensor:
    """Stack equally sized (N, 3, H, W) batches as rows of one (3, H', W') image with white gutters."""
    n, _, h, w = rows[0].shape
    grid = torch.ones(3, len(rows) * (h + pad) + pad, n * (w + pad) + pad)
    for r, batch in enumerate(rows):
        for i in range(n):
            y, x = pad + r * (h + pad), pad + i * (w + pad)
            grid[:, y : y + h, x : x + w] = batch[i]
    return grid


def save_grid(result: EvalResult, path: str | Path) -> Path:
    """Originals (top), tokenizer reconstructions (middle), equal-bits thumbnails (bottom)."""
    grid = comparison_grid([result.originals, result.reconstructions, result.thumbnails])
    save_image(grid, path)
    return Path(path)


def write_metrics(result: EvalResult, path: str | Path, extras: dict[str, Any] | None = None) -> Path:
    """Write ``{"summary", "images", ...extras}`` as JSON (atomically)."""
    payload = result.to_json() | (extras or {})
    atomic_write_bytes(path, (json.dumps(payload, indent=2) + "\n").encode())
    return Path(path)


def format_summary(result: EvalResult, title: str) -> str:
    """A few aligned lines a person can read at the end of a run."""
    s = result.summary

    def m(key: str, fmt: str) -> str:
        v = s[key]
        return f"{v['mean']:{fmt}} (95% CI {v['ci95_low']:{fmt}}–{v['ci95_high']:{fmt}})"

    def opt(key: str, label: str, fmt: str, unit: str = "") -> str:
        if s.get(key) is None:
            reason = s.get("unavailable", {}).get(key, "unavailable")
            return f"  {label:<18}{reason}"
        return f"  {label:<18}{m(key, fmt)}{unit}"

    h, w = s["image_size"]
    lines = [
        title,
        f"  images            {s['num_images']} at {h}x{w} px",
        f"  tokens per image  {s['tokens']['mean']:.0f}",
        f"  bits per image    {s['bits']['mean']:.0f}   ({s['bpp']['mean']:.4f} bits per pixel)",
        f"  PSNR              {m('psnr', '.2f')} dB",
        f"  SSIM              {m('ssim', '.3f')}",
        opt("ms_ssim", "MS-SSIM", ".3f"),
        opt("uqi", "UQI", ".3f"),
        opt("vif", "VIF", ".3f"),
        opt("sam", "SAM", ".4f", " rad"),
    ]
    if s["thumb_psnr"] is None:
        lines.append("  thumbnail         none: fewer than 24 bits per image, not even a 1x1 thumbnail fits")
    else:
        gap = s["psnr"]["mean"] - s["thumb_psnr"]["mean"]
        verdict = "above the floor" if gap > 0 else "below the floor: no better than a thumbnail yet"
        lines += [
            f"  thumbnail PSNR    {m('thumb_psnr', '.2f')} dB at {s['thumb_bits']['mean']:.0f} bits (equal-bits floor)",
            f"  thumbnail SSIM    {m('thumb_ssim', '.3f')}",
            f"  vs thumbnail      {gap:+.2f} dB PSNR ({verdict})",
        ]
    if "token_stats" in s:
        ts = s["token_stats"]
        lines.append(
            f"  codebook          {ts['usage'] * 100:.1f}% of {ts['vocab_size']} codes used, "
            f"perplexity {ts['perplexity']:.1f}"
        )
        cond = ts["conditional_entropy_bits"]
        lines.append(
            f"  token entropy     {ts['entropy_bits']:.2f} bits unigram, "
            + (f"{cond:.2f} bits given the previous token" if cond is not None else "no bigrams")
            + f" (max {ts['max_entropy_bits']:.2f})"
        )
    return "\n".join(lines)
