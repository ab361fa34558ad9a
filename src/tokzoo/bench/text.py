"""Text legibility of reconstructions, per font-size bin (after TokBench).

"TokBench: Evaluating Your Visual Tokenizer before Visual Generation" (2025) measures how much text survives
a visual tokenizer by running OCR on reconstructions. Here the pages are rendered (``text_render``) so every
word and its box are known; an OCR engine (``ocr``) reads each box on the original page (the ceiling: what
the engine can read at all) and on the reconstruction. Per size bin we report word accuracy (exact match)
and 1 − normalised edit distance (NED), for both, and the reconstruction's accuracy relative to the original's.

Matching is case-insensitive and ignores everything but letters and digits (spaces an engine inserts inside
a word, stray punctuation), since the pages hold single dictionary words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torchmetrics.functional.text import edit_distance

from tokzoo.bench.ocr import ocr_read
from tokzoo.bench.text_render import SIZE_BINS, TextPage, bin_label, pages_to_tensor, render_pages
from tokzoo.core.errors import DataError
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.metrics.fidelity import quantize_uint8

Reconstructor = Callable[[torch.Tensor], torch.Tensor]
"""(N, 3, H, W) in [0, 1] → reconstruction of the same shape (a codec, or any image-to-image map)."""

_KEEP = re.compile(r"[^0-9a-z]")


def normalize_text(text: str) -> str:
    """Lower case, letters and digits only (what counts when comparing a read word to the truth)."""
    return _KEEP.sub("", text.lower())


def word_scores(read: Sequence[str], truth: Sequence[str]) -> tuple[list[bool], list[float]]:
    """Per word: exact match after ``normalize_text``, and 1 − edit distance / length of the longer string."""
    if len(read) != len(truth):
        raise DataError(f"{len(read)} read strings for {len(truth)} words")
    if not truth:
        return [], []
    a = [normalize_text(s) for s in read]
    b = [normalize_text(s) for s in truth]
    dist = edit_distance(a, b, reduction="none").tolist()
    ned = [1.0 - d / max(len(x), len(y), 1) for d, x, y in zip(dist, a, b, strict=True)]
    return [x == y for x, y in zip(a, b, strict=True)], ned


def ocr_accuracy(
    pages: Sequence[TextPage], reconstructions: torch.Tensor | Sequence[np.ndarray], engine: str = "rapidocr"
) -> list[float]:
    """Word accuracy of each reconstructed page: the share of its words the OCR engine reads exactly.

    ``pages`` come from ``render_pages``; ``reconstructions`` are the same pages after a codec or tokenizer,
    as a (N, 3, H, W) batch in [0, 1] or N HxWx3 uint8 arrays. One value per page (for rate–distortion points).
    """
    reads = ocr_read(reconstructions, [[w.box for w in p.words] for p in pages], engine)
    out = []
    for page, read in zip(pages, reads, strict=True):
        exact, _ = word_scores(read, [w.text for w in page.words])
        out.append(sum(exact) / len(exact) if exact else float("nan"))
    return out


@dataclass
class TextLegibility:
    """Result of ``text_legibility``: one row per size bin (plus ``all``), per-background summary, examples."""

    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    examples: list[dict[str, Any]] = field(default_factory=list)
    words: list[dict[str, Any]] = field(default_factory=list)


def _aggregate(label: str, words: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(words)
    acc_o = sum(w["ok_orig"] for w in words) / n
    acc_r = sum(w["ok_rec"] for w in words) / n
    readable = [w for w in words if w["ok_orig"]]
    return {
        "bin": label,
        "words": n,
        "ocr_acc_orig": acc_o,
        "ocr_acc_rec": acc_r,
        "ned_orig": sum(w["ned_orig"] for w in words) / n,
        "ned_rec": sum(w["ned_rec"] for w in words) / n,
        "relative_acc": acc_r / acc_o if acc_o > 0 else None,
        "kept": sum(w["ok_rec"] for w in readable) / len(readable) if readable else None,
    }


def legibility_table(
    pages: Sequence[TextPage],
    reconstructions: torch.Tensor | Sequence[np.ndarray],
    *,
    engine: str = "rapidocr",
    original_reads: list[list[str]] | None = None,
    bins: Sequence[tuple[int, int]] = SIZE_BINS,
    num_examples: int = 1,
) -> TextLegibility:
    """Score ``reconstructions`` of ``pages`` against the OCR of the pages themselves.

    ``original_reads`` (from ``ocr_read`` on the pages) may be passed to reuse the ceiling across methods.
    Row keys: bin, words, ocr_acc_orig, ocr_acc_rec, ned_orig, ned_rec, relative_acc (rec / orig accuracy)
    and kept (share of the words read right on the original that are still read right on the reconstruction).
    """
    boxes = [[w.box for w in p.words] for p in pages]
    if original_reads is None:
        original_reads = ocr_read([p.image for p in pages], boxes, engine)
    rec_reads = ocr_read(reconstructions, boxes, engine)
    words: list[dict[str, Any]] = []
    for i, page in enumerate(pages):
        truth = [w.text for w in page.words]
        ok_o, ned_o = word_scores(original_reads[i], truth)
        ok_r, ned_r = word_scores(rec_reads[i], truth)
        for j, w in enumerate(page.words):
            words.append({
                "page": i, "bin": page.size_bin, "background": page.background, "font": w.font, "size": w.size,
                "text": w.text, "read_orig": original_reads[i][j], "read_rec": rec_reads[i][j],
                "ok_orig": ok_o[j], "ok_rec": ok_r[j], "ned_orig": ned_o[j], "ned_rec": ned_r[j],
            })  # fmt: skip
    if not words:
        raise DataError("the text pages hold no words")
    rows = []
    for lo, hi in bins:
        in_bin = [w for w in words if w["bin"] == bin_label(lo, hi)]
        if in_bin:
            rows.append(_aggregate(bin_label(lo, hi), in_bin))
    rows.append(_aggregate("all", words))
    summary = {"engine": engine, "all": rows[-1]}
    for bg in sorted({p.background for p in pages}):
        summary[bg] = _aggregate("all", [w for w in words if w["background"] == bg])
    rec_arrays = _uint8_list(reconstructions)
    examples = []
    for lo, hi in bins:
        idx = [i for i, p in enumerate(pages) if p.size_bin == bin_label(lo, hi)][:num_examples]
        for i in idx:
            examples.append({
                "bin": pages[i].size_bin, "background": pages[i].background,
                "original": pages[i].image, "reconstruction": rec_arrays[i],
                "words": [(w["text"], w["read_orig"], w["read_rec"]) for w in words if w["page"] == i],
            })  # fmt: skip
    return TextLegibility(rows, summary, examples, words)


def _uint8_list(images: torch.Tensor | Sequence[np.ndarray]) -> list[np.ndarray]:
    if isinstance(images, torch.Tensor):
        arr = (quantize_uint8(images.detach().float().cpu()) * 255).round().to(torch.uint8)
        return list(arr.permute(0, 2, 3, 1).numpy())
    return [np.asarray(a) for a in images]


@torch.no_grad()
def reconstruct(
    model: Tokenizer | Reconstructor, images: torch.Tensor, *, batch_size: int = 8
) -> torch.Tensor:
    """Reconstructions of ``images`` (N, 3, H, W), clipped and rounded to uint8 levels as in the protocol.

    A ``Tokenizer`` is run through ``encode`` → ``decode`` in eval mode on its own device; any other callable
    is applied as is.
    """
    if not isinstance(model, Tokenizer):
        return quantize_uint8(model(images).detach().float().cpu())
    if model.modality != "image":
        raise DataError(f"{model.registry_name} is a {model.modality} tokenizer, not an image tokenizer")
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(images), batch_size):
        x = images[start : start + batch_size].to(device)
        out.append(quantize_uint8(model.decode(model.encode(x))).cpu())
    return torch.cat(out)


def text_legibility(
    model: Tokenizer | Reconstructor,
    *,
    size: int = 256,
    seed: int = 0,
    words_per_bin: int = 60,
    engine: str = "rapidocr",
    bins: Sequence[tuple[int, int]] = SIZE_BINS,
    num_examples: int = 1,
) -> TextLegibility:
    """Render text pages at ``size`` px from ``seed``, reconstruct them with ``model``, OCR both, score per bin.

    ``model`` is an image ``Tokenizer`` or any (N, 3, H, W) → (N, 3, H, W) callable (e.g. a codec round trip).
    """
    pages = render_pages(size, seed=seed, words_per_bin=words_per_bin, bins=bins)
    rec = reconstruct(model, pages_to_tensor(pages))
    return legibility_table(pages, rec, engine=engine, bins=bins, num_examples=num_examples)
