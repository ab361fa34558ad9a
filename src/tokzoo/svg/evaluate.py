"""``tokzoo eval`` for SVG tokenizers: tokens per file at both levels and render fidelity of the round trip.

Measures HiVG-style tokens ("Hierarchical SVG Tokenization", 2026) per file with the measurement
``benchmarks/svg.py`` uses (:func:`tokzoo.svg.measure.measure_svg_file`):
its bytes, level-1 (atoms) and level-2 (segments) token counts, the level-2 payload bits, the points clamped
to the grid, and — both rendered with resvg at ``size`` px (default 256) by :func:`tokzoo.svg.render.render_svg`
and compared by :func:`tokzoo.svg.render.compare_renders` — PSNR and SSIM on white and, of the decoded SVG
against the original: ``iou`` (silhouettes at alpha > 50 %), ``coverage_iou`` (sum of min over sum of max
alpha), ``hairline`` (the original's silhouette holds under a quarter of its ink: strokes thinner than a pixel
at this size) and ``silhouette_iou`` (``iou``, or ``coverage_iou`` for a hairline original, whose silhouette
is a sampling artefact; docs/svg.md). Files that fail to parse, decode or render are listed with the stage
and reason; an unexpected exception (a bug) fails only its file and is listed with its type.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tokzoo.bench.eval_files import FileEval, FileEvalOptions, failure
from tokzoo.bench.protocol import summarize
from tokzoo.data.apt import debian_package
from tokzoo.svg.measure import RECORD_KEYS, measure_svg_file

__all__ = ["DEFAULT_DATA", "DEFAULT_SIZE", "default_files", "evaluate"]

DEFAULT_SIZE = 256
# Papirus app icons of 0.9-5.7 KB whose names fall in the test split of tokzoo.svg.corpus (the split is keyed
# on the file name), so a tokenizer fitted on that corpus's train split is measured on icons it has not seen.
_ICONS = ("asciidocfx", "dota2", "frogr", "gtkwave", "ms-excel", "qimgv", "truecrypt", "xmind")
_ICON_DIR = "usr/share/icons/Papirus/48x48/apps"
DEFAULT_DATA = f"{len(_ICONS)} Papirus 48x48 app icons of the corpus test split (Debian papirus-icon-theme)"
METRICS = tuple(k for k in RECORD_KEYS if k not in ("file", "hairline"))


def default_files() -> list[Path]:
    """The default icons: a few held-out Papirus app icons of varied size and complexity (downloaded once)."""
    root = debian_package("papirus-icon-theme") / _ICON_DIR
    return [root / f"{name}.svg" for name in _ICONS]


def _on_white(rgba: np.ndarray) -> np.ndarray:
    alpha = rgba[..., 3:].astype(np.float32) / 255
    return np.round(rgba[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8)


def side_by_side(left: np.ndarray, right: np.ndarray, gap: int = 8) -> np.ndarray:
    """Two RGBA renders of one height composited on white, next to each other with a grey gap."""
    bar = np.full((left.shape[0], gap, 3), 200, np.uint8)
    return np.concatenate([_on_white(left), bar, _on_white(right)], axis=1)


def evaluate(model: Any, files: list[Path], opts: FileEvalOptions) -> FileEval:
    """Measure ``model`` (an SVG tokenizer, e.g. ``svg-hivg-256``) on ``files``; skip and list bad ones."""
    size = opts.size or DEFAULT_SIZE
    records: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    figures: list[tuple[np.ndarray, str]] = []
    for path in files:
        m = measure_svg_file(model, path, size)
        if m.error is not None:
            failures.append(failure(path, m.stage or "parse", m.error))
        if not m.tokenized:
            continue
        record = m.record()
        records.append(record)
        fid = m.fidelity
        if (
            fid is not None
            and m.original is not None
            and m.rendered is not None
            and len(figures) < opts.examples
        ):
            caption = (
                f"{path.name}: {record['level2_tokens']} tokens, IoU {fid.iou:.3f}, PSNR {fid.psnr:.1f} dB"
            )
            figures.append((side_by_side(m.original, m.rendered), caption))
    columns = ["file", *METRICS, "hairline"]
    return FileEval(records, failures, _summary(model, records, failures, size), columns, figures,
                    _notes(model))  # fmt: skip


def _summary(
    model: Any, records: list[dict[str, Any]], failures: list[dict[str, str]], size: int
) -> dict[str, Any]:
    rendered = [r for r in records if r["iou"] is not None]
    n = len(records) + sum(f["stage"] == "parse" for f in failures)
    level1, level2 = sum(r["level1_tokens"] for r in records), sum(r["level2_tokens"] for r in records)
    summary: dict[str, Any] = {
        "num_files": n,
        "num_failed": len({f["file"] for f in failures}),
        "tokenized_share": len(records) / n if n else 0.0,
        "rendered_share": len(rendered) / n if n else 0.0,
        "hairline_files": sum(bool(r["hairline"]) for r in rendered),
        "render_size": size,
        "grid": model.cfg.grid,
        "segments_learned": len(model.table.expansions),
        "vocab_size": model.vocab_size,
        "level1_over_level2": level1 / level2 if level2 else None,
        "bytes_per_level2_token": sum(r["bytes"] for r in records) / level2 if level2 else None,
    }
    return summary | summarize(records, METRICS)


def _notes(model: Any) -> list[str]:
    if len(model.table.expansions):
        return []
    return [
        f"{model.registry_name} has learned no segments (not fitted): level 2 is level 1, one token per atom, "
        "and the palette is uniform. Fit it (HiVGTokenizer.fit on training SVGs, then save_pretrained) "
        "and evaluate the checkpoint folder to measure level-2 compression."
    ]
