"""Per-file evaluation (SVG, meshes): collect files, measure each, write the outputs.

A modality whose inputs are files declares a :class:`FileEvaluator` in its plugin: ``default_data`` (what is
evaluated when no data is named), ``default_files()`` and ``measure(model, files, opts) -> FileEval``
(e.g. :func:`tokzoo.svg.evaluate.evaluate`). The evaluator then writes the same artefacts as the image path: ``metrics.json`` (per-file rows, failures, and a summary of means with 95%
bootstrap intervals from :func:`tokzoo.bench.protocol.summarize`) and a self-contained ``report.html``.
A file that cannot be read, tokenized or rendered is listed with the reason and skipped; nothing is
written unless at least one file was measured.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tokzoo.bench.eval_run import json_default
from tokzoo.bench.evaluator import EvalRequest
from tokzoo.bench.html import HtmlReport, format_cell
from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import DataError
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.data.files import collect_files

__all__ = ["FileEval", "FileEvalOptions", "FileEvalRun", "FileEvaluator", "failure", "format_file_summary"]


@dataclass
class FileEvalOptions:
    """What a measure function reads: render ``size`` (SVG), example figures; and where the outputs go."""

    size: int | None = None
    out: Path = Path("metrics.json")
    report: Path | None = None
    examples: int = 4
    title: str = "tokzoo eval"
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class FileEval:
    """What an evaluator measured: one record per file it could measure (wholly or in part), and one failure
    (file, stage, reason) per step that failed for a file.

    ``summary`` holds counts and, per metric, the mean with a 95% bootstrap interval (None when no file has a
    value); ``columns`` are the per-file keys shown in the report; ``figures`` are ``(image, caption)`` pairs.
    """

    records: list[dict[str, Any]]
    failures: list[dict[str, str]]
    summary: dict[str, Any]
    columns: list[str]
    figures: list[tuple[np.ndarray, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "files": self.records,
            "failures": self.failures,
            "notes": self.notes,
        }


Measure = Callable[[Tokenizer, list[Path], FileEvalOptions], FileEval]
"""``measure(model, files, opts) -> FileEval``: a modality's per-file measurement."""


@dataclass
class FileEvalRun:
    """What :func:`run_file_eval` measured and where it wrote it."""

    result: FileEval
    data: str
    out: Path
    report: Path


def failure(path: Path, stage: str, error: Exception) -> dict[str, str]:
    """A failure row: the file's name, the stage that failed, and the error without its path prefix; an error
    other than unusable input (OSError, DataError) is named with its type as a tokzoo bug."""
    reason = str(error).removeprefix(f"{path}: ")
    if not isinstance(error, (OSError, DataError)):
        reason = f"unexpected {type(error).__name__} (a tokzoo bug): {reason}"
    return {"file": path.name, "stage": stage, "reason": reason}


def _metrics(summary: dict[str, Any]) -> list[tuple[str, dict[str, float] | None, str]]:
    """``(key, mean/interval or None, note)`` of each summarized metric; the note says why one is missing."""
    reasons = summary.get("unavailable", {})
    return [
        (k, v, "" if v is not None else reasons.get(k, "unavailable: no file has a value"))
        for k, v in summary.items()
        if (isinstance(v, dict) and "mean" in v) or v is None
    ]


def _totals(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    """The summary's plain numbers and strings (counts, totals, ratios over all files)."""
    return [
        (k, v) for k, v in summary.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)
    ]


def _page(result: FileEval, title: str, data: str) -> HtmlReport:
    page = HtmlReport(title)
    s = result.summary
    page.paragraph(f"Data: {data}. {s['num_files']} files, {s['num_failed']} with a failure.")
    for note in result.notes:
        page.paragraph(note)
    rows = [{"metric": k, "mean [95% CI]": v, "note": note} for k, v, note in _metrics(s)]
    page.table(rows, caption="Summary: mean over files with a 95% bootstrap interval")
    page.table([{"quantity": k, "value": v} for k, v in _totals(s)], caption="Counts and totals")
    if result.figures:
        page.heading("Original (left) and reconstruction (right)")
        for image, caption in result.figures:
            page.image(image, caption)
    page.table(result.records, result.columns, caption="Per file")
    if result.failures:
        page.table(
            result.failures,
            ["file", "stage", "reason"],
            caption="Failures (the file is skipped from that stage on)",
        )
    return page


def run_file_eval(
    model: Tokenizer, files: list[Path], data: str, measure: Measure, opts: FileEvalOptions
) -> FileEvalRun:
    """Measure ``model`` on ``files`` (described as ``data``), then write JSON and HTML."""
    result = measure(model, files, opts)
    if not result.records:
        first = result.failures[0]
        raise DataError(
            f"none of the {len(files)} files could be evaluated (e.g. {first['file']}: {first['reason']})"
        )
    extras = {**opts.meta, "data": data, "modality": model.modality}
    payload = json.dumps(extras | result.to_json(), indent=2, default=json_default) + "\n"
    page = _page(result, opts.title, data).render()
    report = opts.report if opts.report is not None else Path(opts.out).parent / "report.html"
    atomic_write_bytes(report, page.encode("utf-8"))
    atomic_write_bytes(opts.out, payload.encode("utf-8"))
    return FileEvalRun(result, data, Path(opts.out), Path(report))


@dataclass(frozen=True)
class FileEvaluator:
    """The :class:`~tokzoo.bench.evaluator.Evaluator` of a modality whose inputs are files with ``suffixes``:
    ``--data`` names files or folders, or ``default_files()`` (described as ``default_data``) are measured."""

    suffixes: tuple[str, ...]
    default_data: str
    default_files: Callable[[], list[Path]]
    measure: Measure
    options: frozenset[str] = frozenset()

    def run(self, model: Tokenizer, request: EvalRequest) -> str:
        if request.data:
            files, data = collect_files(request.data, self.suffixes), " ".join(request.data)
        else:
            files, data = self.default_files(), self.default_data
        title = f"tokzoo eval: {request.model} on {' '.join(request.data) if request.data else 'the default files'}"
        opts = FileEvalOptions(
            size=request.options.get("size"), out=Path(request.out), report=request.report, title=title,
            meta={"model": request.model},
        )  # fmt: skip
        return format_file_summary(run_file_eval(model, files, data, self.measure, opts), title)


def format_file_summary(run: FileEvalRun, title: str) -> str:
    """A few aligned lines: counts, each metric's mean and interval, and the skipped files."""
    s = run.result.summary
    lines = [title, f"  {'files':<26}{s['num_files']}, {s['num_failed']} with a failure"]
    for key, value in _totals(s):
        if key not in ("num_files", "num_failed"):
            lines.append(f"  {key:<26}{format_cell(value)}")
    for key, value, note in _metrics(s):
        if value is None:
            lines.append(f"  {key:<26}{note}")
        else:
            lo, hi = format_cell(value["ci95_low"]), format_cell(value["ci95_high"])
            lines.append(f"  {key:<26}{format_cell(value['mean'])} (95% CI {lo}–{hi})")
    lines += [f"  note: {note}" for note in run.result.notes]
    for failure in run.result.failures:
        lines.append(f"  failed {failure['file']} at {failure['stage']}: {failure['reason']}")
    lines.append(f"  {'metrics':<26}{run.out}")
    lines.append(f"  {'report':<26}{run.report}")
    return "\n".join(lines)
