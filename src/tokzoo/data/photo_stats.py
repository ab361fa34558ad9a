"""Statistics of an image set (counts, resolutions, colourfulness) and a Markdown table of them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from tokzoo.data.bundled import BUNDLED_SPLITS, HELDOUT, bundled_images
from tokzoo.data.screening import colourfulness, shrink_shorter

__all__ = ["bundled_stats", "corpus_stats", "packages_table", "stats_table"]

_BINS = ((0, 256), (256, 512), (512, 1024), (1024, 2048), (2048, None))


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    a = np.asarray(values, dtype=np.float64)
    q = np.quantile(a, [0.1, 0.5, 0.9])
    return {"mean": round(float(a.mean()), 1), "p10": round(float(q[0]), 1), "median": round(float(q[1]), 1),
            "p90": round(float(q[2]), 1), "min": round(float(a.min()), 1), "max": round(float(a.max()), 1)}  # fmt: skip


def _summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Count, shorter-side distribution (of the source content) and colourfulness of ``records``."""
    shorter = [min(r["content_size"]) for r in records]
    bins = {
        f"{lo}-{hi - 1}" if hi else f"{lo}+": sum(lo <= s < (hi or 1 << 62) for s in shorter)
        for lo, hi in _BINS
    }
    return {
        "count": len(records),
        "shorter_side": _quantiles(shorter) | {"bins": bins},
        "colourfulness": _quantiles([r["colourfulness"] for r in records]),
    }


def _by(records: Iterable[dict[str, Any]], field: str) -> dict[str, dict[str, int]]:
    out: dict[str, Counter[str]] = {}
    for r in records:
        out.setdefault(r[field], Counter())[r["split"]] += 1
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def corpus_stats(images: list[dict[str, Any]]) -> dict[str, Any]:
    """Statistics of manifest image records: overall and per split, and counts per package and domain."""
    order = ("train", "val", "test", HELDOUT)
    splits = sorted(
        {r["split"] for r in images}, key=lambda s: (order.index(s) if s in order else len(order), s)
    )
    return {
        "count": len(images),
        "all": _summary(images),
        "splits": {s: _summary([r for r in images if r["split"] == s]) for s in splits},
        "packages": _by(images, "package"),
        "domains": _by(images, "domain"),
    }


def bundled_stats(stored_side: int = 256) -> dict[str, Any]:
    """The same statistics for the bundled photos: scikit-image's train/test and the shipped held-out 30
    (colourfulness at the corpus's stored size)."""
    records = []
    for split in (*BUNDLED_SPLITS, HELDOUT):
        for name, rgb in bundled_images(split):
            h, w = rgb.shape[:2]
            m = colourfulness(shrink_shorter(rgb, stored_side))
            records.append({"key": name, "split": split, "package": "scikit-image", "domain": "photo",
                            "content_size": [w, h], "colourfulness": round(m, 2)})  # fmt: skip
    return corpus_stats(records)


def _row(name: str, s: dict[str, Any]) -> str:
    side, col = s["shorter_side"], s["colourfulness"]
    big = sum(n for b, n in side["bins"].items() if b.startswith(("1024-", "2048+")))
    return (
        f"| {name} | {s['count']} | {side['p10']:.0f} / {side['median']:.0f} / {side['p90']:.0f} "
        f"| {100 * big / max(s['count'], 1):.0f}% | {col['mean']:.1f} | {col['p10']:.1f} / {col['median']:.1f} / {col['p90']:.1f} |"
    )


def stats_table(photos: dict[str, Any], bundled: dict[str, Any]) -> str:
    """Markdown table: one row per split of the corpus and of the bundled set."""
    lines = [
        "| set | images | shorter side p10 / median / p90 (px) | shorter side >= 1024 | colourfulness mean "
        "| colourfulness p10 / median / p90 |",
        "|---|---:|---|---:|---:|---|",
    ]
    for split, s in photos["splits"].items():
        lines.append(_row(f"photos {split}", s))
    lines.append(_row("photos all", photos["all"]))
    for split, s in bundled["splits"].items():
        lines.append(_row(f"bundled {split}", s))
    lines.append(_row("bundled all", bundled["all"]))
    return "\n".join(lines)


_SKIP_COLUMNS = (
    "small",
    "gray",
    "flat",
    "transparent",
    "normal_map",
    "undecodable",
    "excluded",
    "duplicate",
    "near_duplicate",
)


def packages_table(manifest: dict[str, Any]) -> str:
    """Markdown table: per package, its role, images kept and why the others were skipped."""
    lines = [
        "| package | version | role | kept | "
        + " | ".join(c.replace("_", " ") for c in _SKIP_COLUMNS)
        + " |",
        "|---|---|---|---:|" + "---:|" * len(_SKIP_COLUMNS),
    ]
    for name, p in manifest["packages"].items():
        version = p.get("version") or "-"
        skipped = " | ".join(str(p["skipped"].get(c, 0)) for c in _SKIP_COLUMNS)
        lines.append(
            f"| {name} | {version} | {'held out' if p['heldout'] else 'train'} | {p['images']} | {skipped} |"
        )
    for name, reason in manifest["failed"].items():
        lines.append(f"| {name} | - | failed: {reason} | 0 |" + " |" * len(_SKIP_COLUMNS))
    return "\n".join(lines)
