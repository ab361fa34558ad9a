"""Helpers shared by benchmark scripts: timing and writing results."""

from __future__ import annotations

import csv
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

RESULTS = Path(__file__).resolve().parent.parent / "results"


def median_seconds(fn: Callable[[], Any], *, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def columns(rows: list[dict[str, Any]]) -> list[str]:
    """The union of all rows' columns, in first-seen order (rows may differ in their columns)."""
    return list(dict.fromkeys(k for r in rows for k in r))


def fill_columns(rows: list[dict[str, Any]], fill: Any = "-") -> list[dict[str, Any]]:
    """Every row with :func:`columns` of all rows, ``fill`` where a row lacks one."""
    keys = columns(rows)
    return [{k: r.get(k, fill) for k in keys} for r in rows]


def write_results(name: str, rows: list[dict[str, Any]]) -> Path:
    """Write ``results/<name>.csv`` and ``results/<name>.json`` (rows plus machine facts); print a table."""
    RESULTS.mkdir(exist_ok=True)
    keys = columns(rows)
    with open(RESULTS / f"{name}.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    env = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    (RESULTS / f"{name}.json").write_text(json.dumps({"env": env, "rows": rows}, indent=2) + "\n")
    print(" | ".join(keys))
    for r in rows:
        print(" | ".join(f"{r[k]:.4g}" if isinstance(r.get(k), float) else str(r.get(k, "")) for k in keys))
    return RESULTS / f"{name}.csv"
