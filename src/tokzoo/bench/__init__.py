"""Benchmark harness: evaluation protocol, baselines, reports."""

from tokzoo.bench.evaluate import EvalResult, evaluate
from tokzoo.bench.protocol import fidelity_batch, fidelity_metrics, prepare_images, summarize
from tokzoo.bench.report import format_summary, save_grid, write_metrics
from tokzoo.bench.thumbnail import thumbnail_reconstruct, thumbnail_side

__all__ = [
    "EvalResult",
    "evaluate",
    "fidelity_batch",
    "fidelity_metrics",
    "format_summary",
    "prepare_images",
    "save_grid",
    "summarize",
    "thumbnail_reconstruct",
    "thumbnail_side",
    "write_metrics",
]
