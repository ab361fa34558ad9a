"""``tokzoo eval`` for RGB-D tokenizers: bytes per frame and depth error (AbsRel, RMSE, share within 1.25x,
coverage) of each ``.npz`` frame or mesh (view 0 rendered, :mod:`tokzoo.points.depth_data`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tokzoo.bench.eval_files import FileEval, FileEvalOptions, failure
from tokzoo.bench.protocol import summarize
from tokzoo.points.data import point_files
from tokzoo.points.rgbd import depth_metrics

__all__ = ["DEFAULT_DATA", "default_files", "evaluate"]

DEFAULT_DATA = "view 0 of the held-out homedecor models (homedecor:test)"
METRICS = ("tokens", "bytes", "absrel", "rmse", "delta1", "coverage")


def default_files() -> list[Path]:
    return point_files("homedecor:test")


def evaluate(model: Any, files: list[Path], opts: FileEvalOptions) -> FileEval:
    """Measure ``model`` on ``files``; skip and list bad ones."""
    records, failures = [], []
    for path in files:
        try:
            frame = model.load_file(path)
            tokens = model.encode(frame)
            decoded = model.decode(tokens)[0]
            scores = depth_metrics(decoded[3], frame[0, 3])
        except Exception as e:  # any error fails this file alone
            failures.append(failure(path, "tokenize", e))
            continue
        record = {"file": path.name, "tokens": tokens.num_tokens, "bytes": math.ceil(tokens.nbits() / 8)}
        records.append(record | scores)
    summary: dict[str, Any] = {"num_files": len(files), "num_failed": len({f["file"] for f in failures})}
    summary |= summarize(records, METRICS)
    return FileEval(records, failures, summary, ["file", *METRICS])
