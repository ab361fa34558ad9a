"""The CAD modality plugin: ``.cadseq`` programs in and out, ``tokzoo eval`` per file (kernel IoU)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokzoo.core.modality import Modality, register_modality
from tokzoo.data.files import collect_files

SUFFIXES = (".cadseq",)


def cad_dataset(spec: str) -> list[Path]:
    """The ``.cadseq`` files a ``data`` string names: one file, or a folder searched recursively (sorted)."""
    return collect_files([spec], SUFFIXES)


def _evaluator() -> Any:
    from tokzoo.bench.eval_files import FileEvaluator
    from tokzoo.cad.evaluate import DEFAULT_DATA, default_files, evaluate

    return FileEvaluator(SUFFIXES, DEFAULT_DATA, default_files, evaluate)


CAD = register_modality(
    Modality(
        name="cad",
        data="CAD programs (CadProgram or DeepCAD (N, 17) matrices) in, quantized CadProgram out",
        suffixes=SUFFIXES,
        dataset=cad_dataset,
        evaluator=_evaluator,
    )
)
