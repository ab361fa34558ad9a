"""Benchmark harness: evaluation protocol, baselines, reports."""

from tokzoo.bench.evaluate import EvalResult, evaluate, prepare_images
from tokzoo.bench.report import format_summary, save_grid, write_metrics
from tokzoo.bench.thumbnail import thumbnail_reconstruct, thumbnail_side

__all__ = [
    "EvalResult",
    "evaluate",
    "format_summary",
    "prepare_images",
    "save_grid",
    "thumbnail_reconstruct",
    "thumbnail_side",
    "write_metrics",
]
