"""Rate–distortion of an image tokenizer against classical codecs and the equal-bits thumbnail.

On the same images and through the same protocol as ``evaluate`` (``tokzoo.bench.protocol``: the evaluation
crop, uint8 rounding before any metric, exact ``Tokens.nbits()``), ``rate_distortion`` measures

- the tokenizer at each token count it supports (one for fixed-length models; for models whose ``encode``
  accepts ``num_tokens``, the default count and its halvings down to 1 token);
- each codec of ``tokzoo.bench.codecs`` at the tokenizer's byte budgets, at a sweep of budgets, and at its
  floor (lowest quality): a budget below the floor gives a row marked ``fits=False`` with no metrics, never an
  over-budget file;
- the equal-bits thumbnail (s×s RGB at 8 bits per channel, upsampled bicubically) at several sizes.

``summarize_rd`` averages over images (a point counts only when every image fits), ``plot_rd`` draws bpp on a
log axis with each codec's curve stopping at its floor, and ``write_rd`` saves CSVs and PNGs.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from tokzoo.bench.codecs import CODECS, BelowCodecFloor, BudgetSearch, Encoded, get_codec
from tokzoo.bench.protocol import bits_per_pixel, fidelity_batch, finalize, unavailable_reason
from tokzoo.bench.thumbnail import thumbnail_reconstruct
from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import DataError, TokzooError
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.data import image_to_tensor, tensor_to_image

DEFAULT_CODECS = ("jpeg", "webp", "avif", "jxl")
SWEEP_BPP = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0)
"""Codec budgets (bits per pixel) swept beside the tokenizer's own budgets."""
THUMB_SIDES = (1, 2, 4, 8, 16, 32)
RD_METRICS = ("psnr", "ssim", "ms_ssim")
COLUMNS = (
    "image", "kind", "method", "point", "budget_bits", "quality", "fits", "bits", "bpp", *RD_METRICS,
)  # fmt: skip

OcrScorer = Callable[[torch.Tensor, Sequence[int]], Sequence[float]]
"""``(reconstructions (B, 3, H, W), image indices) -> word accuracy per image`` for an OCR column."""


def _encode(model: Tokenizer, x: torch.Tensor, num_tokens: int | None):
    try:
        return model.encode(x, num_tokens=num_tokens)
    except (ValueError, TokzooError) as e:
        h, w = x.shape[-2:]
        asked = f" at {num_tokens} tokens" if num_tokens is not None else ""
        raise DataError(f"{model.registry_name} cannot encode {h}x{w} images{asked}: {e}") from e


def supported_token_counts(model: Tokenizer) -> list[int | None]:
    """Token counts to measure: ``None`` (the default, the largest count) and its halvings for as long as
    ``model.token_counts()`` lists them (only the default for a model whose count follows from the input)."""
    accepted = set(model.token_counts())
    counts: list[int | None] = [None]
    k = max(accepted, default=0) // 2
    while k >= 1 and k in accepted:
        counts.append(k)
        k //= 2
    return counts


class _Rows:
    """Accumulates per-image rows for one image set."""

    def __init__(self, names: Sequence[str], images: torch.Tensor, ocr: OcrScorer | None) -> None:
        self.names, self.images, self.ocr = list(names), images, ocr
        self.h, self.w = (int(s) for s in images.shape[-2:])
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        kind: str,
        method: str,
        point: str,
        recs: Sequence[torch.Tensor | None],
        bits: Sequence[int | None],
        *,
        budget_bits: Sequence[int | None] | None = None,
        quality: Sequence[int | None] | None = None,
    ) -> None:
        """One row per image; ``recs[i]`` None means image ``i`` did not fit (no metrics)."""
        n = len(self.names)
        ok = [i for i in range(n) if recs[i] is not None]
        scores: dict[int, dict[str, Any]] = {i: dict.fromkeys(RD_METRICS) for i in range(n)}
        if ok:
            batch = torch.stack([recs[i] for i in ok])  # type: ignore[misc]
            for i, s in zip(ok, fidelity_batch(batch, self.images[ok], RD_METRICS), strict=True):
                scores[i] = s
            if self.ocr is not None:
                for i, acc in zip(ok, self.ocr(finalize(batch), ok), strict=True):
                    scores[i]["ocr_word_acc"] = float(acc)
        for i in range(n):
            fits = recs[i] is not None
            self.rows.append({
                "image": self.names[i], "kind": kind, "method": method, "point": point,
                "budget_bits": None if budget_bits is None else budget_bits[i],
                "quality": None if quality is None else quality[i], "fits": fits,
                "bits": bits[i], "bpp": bits_per_pixel(bits[i], self.h, self.w) if fits else None,
                **scores[i],
            })  # fmt: skip


@torch.no_grad()
def _tokenizer_points(
    model: Tokenizer, rows: _Rows, counts: Sequence[int | None], batch_size: int
) -> dict[str, list[int]]:
    """Add the tokenizer's rows at each count; returns its per-image bit budgets by point label."""
    model.eval()
    device = next(model.parameters()).device
    budgets: dict[str, list[int]] = {}
    for count in counts:
        recs, bits, lengths = [], [], []
        for start in range(0, len(rows.images), batch_size):
            x = rows.images[start : start + batch_size].to(device)
            tokens = _encode(model, x, count)
            recs.extend(finalize(model.decode(tokens)).cpu())
            bits.extend(tokens.nbits_per_sample())
            lengths.extend(int(n) for n in tokens.lengths)
        label = f"{round(sum(lengths) / len(lengths))} tokens"
        rows.add("tokenizer", model.registry_name or type(model).__name__, label, recs, bits)
        budgets[f"= {model.registry_name} {label}"] = list(bits)
    return budgets


def _codec_points(codec: str, rows: _Rows, budgets: dict[str, list[int]]) -> None:
    """Add one codec's rows: its floor, then each budget (per image, in bits; files get ``bits // 8`` bytes)."""
    searches = [BudgetSearch(tensor_to_image(x), codec) for x in rows.images]
    label = CODECS[codec].label

    def add(point: str, results: Sequence[Encoded | BelowCodecFloor], budget_bits: list[int] | None) -> None:
        recs = [image_to_tensor(r.image) if isinstance(r, Encoded) else None for r in results]
        bits = [r.nbits if isinstance(r, Encoded) else None for r in results]
        quality = [r.quality if isinstance(r, Encoded) else None for r in results]
        rows.add("codec", label, point, recs, bits, budget_bits=budget_bits, quality=quality)

    add("floor", [s.floor() for s in searches], None)
    for point, per_image in budgets.items():
        results: list[Encoded | BelowCodecFloor] = []
        for s, budget in zip(searches, per_image, strict=True):
            try:
                results.append(s.fit(max(1, budget // 8)))
            except BelowCodecFloor as e:
                results.append(e)
        add(point, results, per_image)


def rate_distortion(
    model: Tokenizer | None,
    names: Sequence[str],
    images: torch.Tensor,
    *,
    codecs: Sequence[str] = DEFAULT_CODECS,
    token_counts: Sequence[int] | None = None,
    sweep_bpp: Sequence[float] = SWEEP_BPP,
    thumb_sides: Sequence[int] = THUMB_SIDES,
    batch_size: int = 8,
    ocr: OcrScorer | None = None,
) -> list[dict[str, Any]]:
    """Per-image rate–distortion rows of ``model`` (or None: codecs and thumbnails only) on ``images``.

    ``images`` is an (N, 3, H, W) batch in [0, 1] from ``tokzoo.bench.protocol.prepare_images``. Each row has
    ``COLUMNS`` (plus ``ocr_word_acc`` when ``ocr`` is given): kind ("tokenizer", "codec", "thumbnail"),
    method, point (the rate label shared across images), budget_bits, quality, fits, bits, bpp and metrics.
    ``token_counts`` overrides the counts of ``supported_token_counts``.
    """
    if images.ndim != 4 or images.shape[1] != 3 or len(images) == 0 or len(images) != len(names):
        raise DataError(
            f"rate_distortion needs a non-empty (N, 3, H, W) batch and one name per image, got shape "
            f"{tuple(images.shape)} and {len(names)} names"
        )
    for codec in codecs:
        get_codec(codec)  # unknown or not installed: fail before any work
    images = images.cpu()
    rows = _Rows(names, images, ocr)
    budgets: dict[str, list[int]] = {}
    if model is not None:
        if model.modality != "image":
            raise DataError(f"{model.registry_name} is a {model.modality} tokenizer, not an image tokenizer")
        counts = list(token_counts) if token_counts is not None else supported_token_counts(model)
        budgets |= _tokenizer_points(model, rows, counts, batch_size)
    for bpp in sweep_bpp:
        budgets[f"{bpp:g} bpp"] = [round(bpp * rows.h * rows.w)] * len(images)
    for codec in codecs:
        _codec_points(codec, rows, budgets)
    for side in thumb_sides:
        if side > min(rows.h, rows.w):
            continue
        recs = list(finalize(thumbnail_reconstruct(images, side)))
        rows.add("thumbnail", "thumbnail", f"{side}x{side}", recs, [24 * side * side] * len(images))
    return rows.rows


def text_rate_distortion(
    model: Tokenizer | None,
    *,
    size: int = 128,
    seed: int = 0,
    words_per_bin: int = 12,
    engine: str = "rapidocr",
    **options: Any,
) -> list[dict[str, Any]]:
    """``rate_distortion`` on rendered text pages (``tokzoo.bench.text_render``) with OCR word accuracy.

    Font-size bins whose largest size exceeds a quarter of the page are left out. Each row gains ``ocr_word_acc``: the share of a page's words the OCR engine reads exactly on the
    reconstruction ("TokBench: Evaluating Your Visual Tokenizer before Visual Generation", 2025). Rows of kind
    "reference" hold the OCR of the original pages (the ceiling). ``options`` go to ``rate_distortion``.
    """
    from tokzoo.bench.text import ocr_accuracy
    from tokzoo.bench.text_render import pages_to_tensor, render_pages, text_bins

    pages = [
        p for p in render_pages(size, seed=seed, words_per_bin=words_per_bin, bins=text_bins(size)) if p.words
    ]
    images = pages_to_tensor(pages)
    names = [f"page{i:03d}-{p.size_bin}-{p.background}" for i, p in enumerate(pages)]
    ceiling = ocr_accuracy(pages, images, engine)  # fails early (with the install hint) without the engine

    def scorer(rec: torch.Tensor, index: Sequence[int]) -> Sequence[float]:
        return ocr_accuracy([pages[i] for i in index], rec, engine)

    rows = rate_distortion(model, names, images, ocr=scorer, **options)
    for name, acc in zip(names, ceiling, strict=True):
        rows.append({
            "image": name, "kind": "reference", "method": f"original pages ({engine} ceiling)",
            "point": "original", "budget_bits": None, "quality": None, "fits": True, "bits": None, "bpp": None,
            **dict.fromkeys(RD_METRICS), "ocr_word_acc": acc,
        })  # fmt: skip
    return rows


def summarize_rd(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean over images per (kind, method, point), in first-seen order.

    A point is averaged only when every image fits its budget; otherwise bits, bpp and metrics are None and
    ``fit`` says on how many images it did.
    """
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["kind"], r["method"], r["point"]), []).append(r)
    metrics = [k for k in (*RD_METRICS, "ocr_word_acc") if any(k in r for r in rows)]
    out = []
    for (kind, method, point), members in groups.items():
        fit = sum(bool(r["fits"]) for r in members)
        row: dict[str, Any] = {"kind": kind, "method": method, "point": point, "images": len(members)}
        row["fit"] = fit
        for key in ("bits", "bpp", *metrics):
            values = [r.get(key) for r in members]
            ok = fit == len(members) and all(v is not None for v in values)
            row[key] = sum(values) / len(values) if ok else None  # type: ignore[arg-type]
        out.append(row)
    return out


_KIND_ORDER = {"tokenizer": 0, "codec": 1, "thumbnail": 2}
_METRIC_LABELS = {
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
    "ms_ssim": "MS-SSIM",
    "ocr_word_acc": "OCR word accuracy",
}


def plot_rd(
    rows: Sequence[dict[str, Any]], metric: str | Sequence[str] = "psnr", *, title: str | None = None
):
    """A matplotlib Figure of ``metric`` (or one panel per metric) against bits per pixel on a log axis.

    ``rows`` are per-image rows of ``rate_distortion`` (averaged here with ``summarize_rd``). Codec curves start
    at their floor (marked, with a dotted drop line) and are never extended below it; the equal-bits thumbnail
    is drawn on every panel. Raises DataError for a metric with no value (e.g. MS-SSIM below 176 px).
    """
    from matplotlib.figure import Figure

    metrics = [metric] if isinstance(metric, str) else list(metric)
    summary = summarize_rd(rows)
    fig = Figure(figsize=(6.4 * len(metrics), 4.6), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, key in zip(axes, metrics, strict=True):
        _plot_panel(ax, summary, key, rows)
    if title:
        fig.suptitle(title)
    return fig


def _plot_panel(ax, summary: list[dict[str, Any]], key: str, rows: Sequence[dict[str, Any]]) -> None:
    points = [s for s in summary if s.get(key) is not None and s["bpp"] is not None]
    for ref in (s for s in summary if s["kind"] == "reference" and s.get(key) is not None):
        ax.axhline(ref[key], color="black", ls="-.", lw=1, label=ref["method"])
    if not points:
        first = rows[0] if rows else None
        reason = None
        if first is not None:
            side = _image_side(rows)
            reason = unavailable_reason(key, side, side)
        raise DataError(f"no {key} values to plot" + (f": {reason}" if reason else ""))
    methods: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for s in points:
        methods.setdefault((s["kind"], s["method"]), []).append(s)
    codec_colors = iter(["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink"])
    # Several tokenizers on one panel must stay distinguishable: warm colours, one marker shape each.
    tokenizer_styles = iter(zip(
        ["crimson", "darkred", "deeppink", "darkorange", "firebrick", "magenta", "maroon", "orangered"] * 4,
        ["*", "D", "^", "v", "P", "X", "h", "p"] * 4, strict=True,
    ))  # fmt: skip
    for (kind, method), pts in sorted(methods.items(), key=lambda m: _KIND_ORDER.get(m[0][0], 3)):
        pts = sorted(pts, key=lambda s: s["bpp"])
        x, y = [s["bpp"] for s in pts], [s[key] for s in pts]
        if kind == "tokenizer":
            color, marker = next(tokenizer_styles)
            size = 13 if marker == "*" else 8
            ax.plot(
                x,
                y,
                "-" + marker,
                color=color,
                markersize=size,
                lw=2,
                label=f"{method} (tokenizer)",
                zorder=5,
            )
        elif kind == "thumbnail":
            ax.plot(x, y, "--s", color="0.45", markersize=4, label="equal-bits thumbnail", zorder=3)
            for s in pts:
                ax.annotate(s["point"], (s["bpp"], s[key]), fontsize=6, color="0.35", xytext=(2, -8),
                            textcoords="offset points")  # fmt: skip
        else:
            color = next(codec_colors)
            floor = next((s for s in pts if s["point"] == "floor"), None)
            label = method + (f" (floor {floor['bpp']:.3g} bpp)" if floor else "")
            ax.plot(x, y, "-o", color=color, markersize=3.5, label=label, zorder=4)
            if floor is not None:
                ax.plot([floor["bpp"]], [floor[key]], marker="|", color=color, markersize=16, mew=2.5)
                ax.axvline(floor["bpp"], color=color, ls=":", lw=1, alpha=0.7)
    ax.set_xscale("log")
    ax.set_xlabel("bits per pixel (log scale)")
    ax.set_ylabel(_METRIC_LABELS.get(key, key))
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7, loc="upper left")
    side = _image_side(rows)
    n = len({r["image"] for r in rows})
    ax.set_title(f"{_METRIC_LABELS.get(key, key)} vs rate: {n} images at {side}x{side} px", fontsize=9)


def _image_side(rows: Sequence[dict[str, Any]]) -> int:
    """The image side implied by a fitted row's bits and bpp (all rows of one run share one size)."""
    for r in rows:
        if r.get("bpp"):
            return round(math.sqrt(r["bits"] / r["bpp"]))
    return 0


def rows_to_csv(rows: Sequence[dict[str, Any]]) -> bytes:
    """CSV text of rows (columns in first-seen order, None as empty)."""
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: "" if r.get(k) is None else r[k] for k in columns})
    return buf.getvalue().encode()


def write_rd(
    rows: Sequence[dict[str, Any]],
    out_dir: str | Path,
    *,
    name: str = "rd",
    metrics: Sequence[str] = (*RD_METRICS, "ocr_word_acc"),
    title: str | None = None,
) -> list[Path]:
    """Write ``NAME.csv`` (per image), ``NAME_summary.csv`` and ``NAME.png`` (one panel per metric with values)."""
    out = Path(out_dir)
    side = _image_side(rows)
    usable = [
        m
        for m in metrics
        if unavailable_reason(m, side, side) is None and any(r.get(m) is not None for r in rows)
    ]
    if not usable:
        raise DataError(f"none of the metrics {', '.join(metrics)} has a value at {side}x{side} px")
    fig = plot_rd(rows, usable, title=title)
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100)
    paths = [out / f"{name}.csv", out / f"{name}_summary.csv", out / f"{name}.png"]
    atomic_write_bytes(paths[0], rows_to_csv(rows))
    atomic_write_bytes(paths[1], rows_to_csv(summarize_rd(rows)))
    atomic_write_bytes(paths[2], png.getvalue())
    return paths
