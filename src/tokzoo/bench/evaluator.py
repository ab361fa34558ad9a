"""The evaluator contract of ``tokzoo eval``: each modality's evaluator (declared by its modality plugin) takes
an :class:`EvalRequest`, measures, writes ``metrics.json`` and ``report.html``, and returns its summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tokzoo.core.tokenizer import Tokenizer


@dataclass
class EvalRequest:
    """What ``tokzoo eval`` was asked for: ``data`` (None: the modality's default set), the outputs (``report``
    None: report.html beside ``out``), the model's name for titles, extra ``meta`` for metrics.json, and the
    modality-specific ``options`` that were given (e.g. ``size``, ``rd``): an evaluator refuses others."""

    model: str
    data: list[str] | None = None
    out: Path = Path("metrics.json")
    report: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def report_path(self) -> Path:
        return self.report if self.report is not None else Path(self.out).parent / "report.html"


class Evaluator(Protocol):
    """One modality's ``tokzoo eval``: ``options`` are the request options it reads."""

    options: frozenset[str]

    def run(self, model: Tokenizer, request: EvalRequest) -> str:
        """Measure ``model``, write metrics JSON and the HTML report, return the summary to print."""
        ...
