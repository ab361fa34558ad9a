"""``tokzoo eval`` end to end: load, evaluate, optional sections, then write every output at once.

Nothing is written until every measurement has succeeded, and each file is written atomically, so a failed
run (bad data, a model that cannot take the size, a missing OCR engine) leaves no output that looks like a
result. Bad input is reported as one ``DataError`` naming the problem and the fix.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from tokzoo.bench.evaluate import EvalResult, evaluate
from tokzoo.bench.protocol import PROTOCOL_SEED, prepare_images, summarize, unavailable_reason
from tokzoo.bench.report import comparison_grid, html_report
from tokzoo.bench.text_render import text_bins
from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import DataError
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.data import tensor_to_image


@dataclass
class EvalOptions:
    """What ``tokzoo eval`` measures and where it writes (``report`` defaults to report.html beside ``out``)."""

    data: str
    size: int = 128
    batch_size: int = 8
    out: Path = Path("metrics.json")
    report: Path | None = None
    grid: Path | None = None
    fid_weights: str | None = None
    lpips_weights: str | None = None
    lpips_backbone: str | None = None
    rd: bool = False
    text: bool = False
    text_engine: str = "rapidocr"
    text_words: int = 20
    faces: bool = False
    title: str = "tokzoo eval"
    meta: dict[str, Any] = field(default_factory=dict)


def load_eval_images(data: str) -> tuple[list[tuple[str, np.ndarray]], list[tuple[str, str]]]:
    """``(name, image)`` pairs and ``(path, reason)`` of unreadable files from a folder or ``bundled:SPLIT``."""
    from tokzoo.data import ImageFolder, bundled_images

    if data.startswith("bundled:"):
        return bundled_images(data.split(":", 1)[1]), []
    try:
        loaded = ImageFolder(data).load_all()
    except DataError as e:
        raise DataError(f"{e}. Fix: point --data at a folder of images, or use --data bundled:test") from e
    if not loaded.images:
        path, reason = loaded.bad[0]
        raise DataError(
            f"{data}: none of the {len(loaded.bad)} image files could be read (e.g. {path}: {reason}). "
            "Fix: re-save the files as PNG or JPEG, or point --data at another folder"
        )
    return loaded.images, loaded.bad


def drop_small(
    images: list[tuple[str, np.ndarray]], size: int
) -> tuple[list[tuple[str, np.ndarray]], list[tuple[str, str]]]:
    """Split off the images whose shorter side is below the evaluation ``size``: upscaled, they would score
    the interpolation (a 1x1 image is perfectly reconstructed) rather than the tokenizer. Returns the kept
    images and ``(name, reason)`` of the dropped ones; all dropped is a ``DataError``."""
    kept = [(n, a) for n, a in images if min(a.shape[:2]) >= size]
    small = [
        (n, f"{a.shape[1]}x{a.shape[0]} px, smaller than the evaluation size {size} px (not upscaled)")
        for n, a in images
        if min(a.shape[:2]) < size
    ]
    if images and not kept:
        least = max(min(a.shape[:2]) for _, a in images)
        raise DataError(
            f"all {len(images)} images are smaller than the evaluation size {size} px (the largest shorter "
            f"side is {least} px). Fix: pass --size {least} or less, or use larger images"
        )
    return kept, small


@dataclass
class LearnedMetrics:
    """The optional learned metrics' networks (None where their standard weights were not found)."""

    fid: Any = None
    lpips: Any = None

    @classmethod
    def load(cls, opts: EvalOptions) -> LearnedMetrics:
        """Find and load the weights now, before any measurement: a named but missing file fails the run early."""
        from tokzoo.metrics.frechet import load_fid_inception
        from tokzoo.metrics.lpips import load_lpips

        return cls(load_fid_inception(opts.fid_weights), load_lpips(opts.lpips_weights, opts.lpips_backbone))


def perceptual_rows(result: EvalResult, learned: LearnedMetrics) -> list[dict[str, Any]]:
    """rFID and LPIPS where their weights were found; otherwise rows saying why they are unavailable.

    LPIPS per image is added to ``result.records`` and its mean/interval to ``result.summary``.
    """
    from tokzoo.metrics.frechet import FID_ENV, rfid
    from tokzoo.metrics.lpips import LPIPS_ENV, lpips_distance

    rows = []
    if learned.fid is None:
        note = f"unavailable: no Inception weights (--fid-weights PATH or ${FID_ENV})"
        rows.append({"metric": "rFID", "value": None, "note": note})
    elif len(result.originals) < 2:
        rows.append({"metric": "rFID", "value": None, "note": "unavailable: needs at least 2 images"})
    else:
        value = rfid(learned.fid, result.originals, result.reconstructions)
        result.summary["rfid"] = value
        note = "few images: rank-deficient covariance, compare only on the same image set"
        rows.append({"metric": "rFID", "value": value, "note": note if len(result.originals) < 2048 else ""})
    if learned.lpips is None:
        note = f"unavailable: no LPIPS weights (--lpips-weights/--lpips-backbone or ${LPIPS_ENV})"
        rows.append({"metric": "LPIPS (AlexNet)", "value": None, "note": note})
    else:
        values = lpips_distance(learned.lpips, result.reconstructions, result.originals)
        for record, v in zip(result.records, values.tolist(), strict=True):
            record["lpips"] = v
        result.summary |= summarize(result.records, ["lpips"])
        rows.append(
            {"metric": "LPIPS (AlexNet)", "value": result.summary["lpips"], "note": "lower is better"}
        )
    return rows


def face_widths(size: int) -> list[int]:
    """The face widths (``FACE_WIDTHS``) that leave room around the face on a page of ``size`` px (≤ size / 2)."""
    from tokzoo.bench.faces import FACE_WIDTHS

    widths = [w for w in FACE_WIDTHS if 2 * w <= size]
    if not widths:
        raise DataError(f"--faces needs pages of at least {2 * FACE_WIDTHS[0]} px, got --size {size}")
    return widths


def check_ocr_engine(engine: str) -> None:
    """Fail before any measurement when the OCR engine for ``--text`` is missing (the error names the fix)."""
    from tokzoo.bench.ocr import read_crops

    read_crops([np.full((16, 48, 3), 255, np.uint8)], engine)


def _rd_section(model: Tokenizer, names: list[str], images: torch.Tensor) -> dict[str, Any]:
    from tokzoo.bench.rd import plot_rd, rate_distortion, summarize_rd

    rows = rate_distortion(model, names, images)
    h, w = images.shape[-2:]
    metrics = [m for m in ("psnr", "ms_ssim") if unavailable_reason(m, h, w) is None]
    return {"rows": rows, "summary": summarize_rd(rows), "figure": plot_rd(rows, metrics)}


@dataclass
class EvalRun:
    """What ``run_eval`` measured and wrote."""

    result: EvalResult
    report: Path
    skipped: list[tuple[str, str]]
    too_small: list[tuple[str, str]] = field(default_factory=list)


def run_eval(model: Tokenizer, opts: EvalOptions) -> EvalRun:
    """Measure ``model`` on ``opts.data``, then write metrics JSON, the HTML report and (optionally) the grid."""
    # Everything that can fail for a missing file, engine or unsuitable size is checked before any work.
    learned = LearnedMetrics.load(opts)
    if opts.text:
        bins = text_bins(opts.size)
        check_ocr_engine(opts.text_engine)
    if opts.faces:
        from tokzoo.bench.faces import face_modules

        widths = face_widths(opts.size)
        face_modules()  # DataError with the install command when face_recognition is missing
    images, bad = load_eval_images(opts.data)
    images, small = drop_small(images, opts.size)
    names, batch = prepare_images(images, opts.size)
    result = evaluate(model, names, batch, batch_size=opts.batch_size)
    sections: dict[str, Any] = {"perceptual": perceptual_rows(result, learned), "skipped": bad + small}
    if opts.rd:
        sections["rd"] = _rd_section(model, names, batch)
    if opts.text:
        from tokzoo.bench.text import text_legibility

        sections["text"] = text_legibility(
            model,
            size=opts.size,
            seed=PROTOCOL_SEED,
            engine=opts.text_engine,
            words_per_bin=opts.text_words,
            bins=bins,
        )
    if opts.faces:
        from tokzoo.bench.faces import face_identity

        sections["faces"] = face_identity(model, size=opts.size, widths=widths)
    extras: dict[str, Any] = {**opts.meta, "data": opts.data, "size": opts.size}
    extras["skipped"] = [list(b) for b in bad + small]
    extras["perceptual"] = sections["perceptual"]
    if "rd" in sections:
        extras["rd"] = sections["rd"]["summary"]
    if "text" in sections:
        extras["text_legibility"] = {"rows": sections["text"].rows, "summary": sections["text"].summary}
    if "faces" in sections:
        extras["face_identity"] = {"rows": sections["faces"].rows, "summary": sections["faces"].summary}
    page = html_report(result, opts.title, sections).render().encode("utf-8")
    payload = (json.dumps(result.to_json() | extras, indent=2, default=json_default) + "\n").encode()
    report_path = opts.report if opts.report is not None else Path(opts.out).parent / "report.html"
    # Everything is measured; only now touch the disk.
    if opts.grid is not None:
        grid = comparison_grid([result.originals, result.reconstructions, result.thumbnails])
        png = io.BytesIO()
        Image.fromarray(tensor_to_image(grid)).save(png, format="PNG")
        atomic_write_bytes(opts.grid, png.getvalue())
    atomic_write_bytes(report_path, page)
    atomic_write_bytes(opts.out, payload)
    return EvalRun(result, Path(report_path), bad, small)


def json_default(value: Any) -> Any:
    """``json.dumps(default=...)`` for metrics.json: numpy scalars and paths."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to metrics.json")
