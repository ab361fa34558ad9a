"""Human-facing outputs of an evaluation: a comparison grid PNG, a text summary, metrics JSON, the HTML page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tokzoo.bench.evaluate import EvalResult
from tokzoo.bench.html import HtmlReport
from tokzoo.bench.protocol import FIDELITY_KEYS, LOWER_IS_BETTER
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


METRIC_LABELS = {
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
    "ms_ssim": "MS-SSIM",
    "uqi": "UQI",
    "vif": "VIF",
    "sam": "SAM (rad)",
    "lpips": "LPIPS",
}
GRID_MAX_IMAGES = 8
PER_IMAGE_COLUMNS = ("name", "tokens", "bits", "bpp", *FIDELITY_KEYS, "thumb_psnr")


def _shown(summary: dict[str, Any], key: str) -> Any:
    """A summary value for a table cell: the CI dict, or the reason it is missing."""
    value = summary.get(key)
    return value if value is not None else summary.get("unavailable", {}).get(key, "unavailable")


def fidelity_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One table row per fidelity metric: tokenizer and equal-bits thumbnail, mean [95% interval]."""
    rows = []
    for key in FIDELITY_KEYS:
        n = (summary.get(key) or {}).get("n", 0)
        rows.append({
            "metric": METRIC_LABELS[key], "tokenizer": _shown(summary, key),
            "equal-bits thumbnail": _shown(summary, f"thumb_{key}") if summary.get("thumb_psnr") else "none",
            "better": "lower" if key in LOWER_IS_BETTER else "higher", "images": n,
        })  # fmt: skip
    return rows


def _token_section(report: HtmlReport, ts: dict[str, Any], num_images: int) -> None:
    from matplotlib.figure import Figure

    report.heading("Token statistics")
    cond = ts["conditional_entropy_bits"]
    report.table(
        [
            {"statistic": "tokens observed", "value": ts["tokens"]},
            {
                "statistic": "codebook usage",
                "value": f"{ts['used_codes']} of {ts['vocab_size']} ({ts['usage']:.1%})",
            },
            {"statistic": "perplexity", "value": ts["perplexity"]},
            {"statistic": "unigram entropy H(t) (bits)", "value": ts["entropy_bits"]},
            {
                "statistic": "conditional entropy H(t_i | t_i-1) (bits)",
                "value": cond if cond is not None else "n/a",
            },
            {"statistic": "per-position entropy, mean (bits)", "value": ts["position_entropy_mean_bits"]},
            {"statistic": "maximum log2(vocabulary) (bits)", "value": ts["max_entropy_bits"]},
        ],
        caption="Plug-in estimates from the evaluated images (biased low on few images)",
    )
    positions = ts["position_entropy_bits"]
    if len(positions) > 1:
        fig = Figure(figsize=(7, 2.6), layout="constrained")
        ax = fig.subplots()
        ceiling = float(np.log2(num_images))
        ax.plot(range(len(positions)), positions, lw=1, label="observed")
        ax.axhline(ceiling, color="grey", ls="--", lw=1, label=f"log2({num_images} images)")
        ax.set_xlabel("token position")
        ax.set_ylabel("entropy (bits)")
        ax.legend(loc="lower right", fontsize="small")
        caption = (
            "Entropy of the token id at each position across images; it cannot exceed log2 of the number of "
            "images, so it only separates informative from constant positions on a large image set"
        )
        report.figure(fig, caption=caption)


def _text_section(report: HtmlReport, text: Any) -> None:
    report.heading("Text legibility (OCR of rendered words)")
    report.paragraph(
        "Words rendered at known positions are read by the OCR engine on the original page (the ceiling) and "
        f"on the reconstruction; engine: {text.summary.get('engine')}. Only font sizes up to a quarter of the "
        "page side are rendered (larger text does not fit enough words on the page)."
    )
    report.table(text.rows, caption="Per font-size bin")
    for ex in text.examples:
        report.image(
            np.concatenate(
                [
                    ex["original"],
                    np.full((ex["original"].shape[0], 4, 3), 255, np.uint8),
                    ex["reconstruction"],
                ],
                1,
            ),
            caption=f"{ex['bin']}, {ex['background']} background: original (left), reconstruction (right)",
        )


def _faces_section(report: HtmlReport, faces: Any) -> None:
    s = faces.summary
    report.heading("Face identity")
    report.paragraph(
        f"Offline face photos ({', '.join(s['photos'])}) cropped so the face spans each width on the page; "
        "face_recognition embeddings of the original and the reconstruction at the original's face box. "
        f"Matched: embedding distance below {s['threshold']} (the library's same-person threshold)."
    )
    report.table(faces.rows, caption="Per face width on the page")
    if s.get("notes"):
        report.paragraph("Skipped: " + "; ".join(s["notes"]))
    shown: set[int] = set()
    for page, rec in zip(faces.pages, faces.reconstructions, strict=True):
        if page.face_width in shown:
            continue
        shown.add(page.face_width)
        gutter = np.full((page.image.shape[0], 4, 3), 255, np.uint8)
        caption = f"{page.name}, face {page.face_width} px wide: original (left), reconstruction (right)"
        report.image(np.concatenate([page.image, gutter, rec], 1), caption=caption)


def html_report(result: EvalResult, title: str, sections: dict[str, Any] | None = None) -> HtmlReport:
    """The ``tokzoo eval`` page: grid, fidelity and rate tables with intervals, token statistics, per-image
    values, and the optional sections (``perceptual``, ``rd`` figure and rows, ``text``, ``faces``)."""
    sections = sections or {}
    s = result.summary
    h, w = s["image_size"]
    report = HtmlReport(title)
    report.paragraph(
        f"{s['num_images']} images at {h}x{w} px (shorter side resized with antialiasing, centre crop), "
        f"{s['tokens']['mean']:.0f} tokens and {s['bits']['mean']:.0f} bits per image "
        f"({s['bpp']['mean']:.4f} bits per pixel). Reconstructions are rounded to uint8 before every metric; "
        "intervals are 95% bootstrap intervals over images (seed 0). Protocol: docs/evaluation.md."
    )
    n = min(len(result.originals), GRID_MAX_IMAGES)
    grid = comparison_grid([result.originals[:n], result.reconstructions[:n], result.thumbnails[:n]])
    report.image(grid, caption="Originals (top), reconstructions (middle), equal-bits thumbnails (bottom)")
    report.heading("Fidelity")
    report.table(fidelity_rows(s), caption="Mean [95% interval] per image")
    report.table(
        [{"quantity": k, "mean [95% interval]": s[k]} for k in ("tokens", "bits", "bpp", "thumb_bits")],
        caption="Rate (exact Tokens.nbits per image)",
    )
    if "perceptual" in sections:
        report.heading("Learned perceptual metrics (optional weights)")
        report.table(sections["perceptual"], columns=["metric", "value", "note"])
    if "token_stats" in s:
        _token_section(report, s["token_stats"], s["num_images"])
    if "rd" in sections:
        report.heading("Rate–distortion against classical codecs and the equal-bits thumbnail")
        report.figure(sections["rd"]["figure"], caption="Mean over images; bits per pixel on a log axis")
        measured = [r for r in sections["rd"]["summary"] if r.get("bits") is not None]
        caption = "Mean per method and rate point (points below a codec's floor are left out)"
        report.table(measured, caption=caption)
    if "text" in sections:
        _text_section(report, sections["text"])
    if "faces" in sections:
        _faces_section(report, sections["faces"])
    report.heading("Per image")
    report.table(result.records, columns=list(PER_IMAGE_COLUMNS))
    if sections.get("skipped"):
        report.heading("Skipped files")
        report.table([{"file": p, "reason": r} for p, r in sections["skipped"]])
    return report
