"""Run logs: one JSON object per line (``logs.jsonl``) plus TensorBoard scalars (``tb/``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from torch.utils.tensorboard import SummaryWriter


class RunLogger:
    """Append-only JSONL + TensorBoard logger. On resume, entries after the resumed step are dropped."""

    def __init__(self, out_dir: Path, *, resume_step: int | None = None) -> None:
        self.path = out_dir / "logs.jsonl"
        out_dir.mkdir(parents=True, exist_ok=True)
        if resume_step is not None and self.path.exists():
            kept = [ln for ln in self.path.read_text().splitlines() if _step_of(ln) <= resume_step]
            self.path.write_text("".join(ln + "\n" for ln in kept))
        elif resume_step is None:
            self.path.write_text("")
        self._file = self.path.open("a")
        self._tb = SummaryWriter(str(out_dir / "tb"), purge_step=resume_step)

    def log(self, step: int, values: dict[str, float]) -> None:
        record: dict[str, Any] = {"step": step, **{k: _clean(v) for k, v in values.items()}}
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        for k, v in values.items():
            self._tb.add_scalar(k, v, step)

    def close(self) -> None:
        self._file.close()
        self._tb.close()


def _clean(v: float) -> float | str:
    return v if math.isfinite(v) else str(v)


def _step_of(line: str) -> float:
    try:
        return json.loads(line)["step"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return math.inf
