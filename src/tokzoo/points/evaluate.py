"""``tokzoo eval`` for point-cloud tokenizers: bytes per shape, Chamfer-L2 and F-score at 1 % of the
bounding-box diagonal between the decoded points and 10,000 points sampled from the source shape."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from tokzoo.bench.eval_files import FileEval, FileEvalOptions, failure
from tokzoo.bench.protocol import summarize
from tokzoo.points.data import point_files, read_points
from tokzoo.points.metrics import chamfer, f_score

__all__ = ["DEFAULT_DATA", "default_files", "evaluate"]

DEFAULT_DATA = "the held-out homedecor models (homedecor:test)"
METRICS = ("tokens", "bytes", "chamfer", "fscore_1pct")


def default_files() -> list[Path]:
    return point_files("homedecor:test")


def evaluate(model: Any, files: list[Path], opts: FileEvalOptions) -> FileEval:
    """Measure ``model`` on ``files``; skip and list bad ones."""
    records, failures = [], []
    for path in files:
        try:
            cloud = model.load_file(path)
            target = torch.from_numpy(read_points(path, 10_000, seed=1)[0]).float()
            tokens = model.encode(cloud)
            decoded = model.decode(tokens)[0]
        except Exception as e:  # any error fails this file alone
            failures.append(failure(path, "tokenize", e))
            continue
        diag = float((target.amax(0) - target.amin(0)).norm())
        record = {"file": path.name, "tokens": tokens.num_tokens, "bytes": math.ceil(tokens.nbits() / 8)}
        record |= {"chamfer": float(chamfer(decoded, target)[0]) / diag}
        record["fscore_1pct"] = float(f_score(decoded, target, 0.01 * diag)[0])
        records.append(record)
    summary: dict[str, Any] = {"num_files": len(files), "num_failed": len({f["file"] for f in failures})}
    summary |= summarize(records, METRICS)
    return FileEval(records, failures, summary, ["file", *METRICS])
