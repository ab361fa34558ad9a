"""The SVG modality plugin: SVG files in and out, folders of SVG as fitting data, ``tokzoo eval`` per file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokzoo.core.modality import Modality, register_modality
from tokzoo.data.files import collect_files

SUFFIXES = (".svg",)


def svg_dataset(spec: str) -> list[Path]:
    """The SVG files a ``data`` string names: one file, or a folder searched recursively (sorted)."""
    return collect_files([spec], SUFFIXES)


def _evaluator() -> Any:
    from tokzoo.bench.eval_files import FileEvaluator
    from tokzoo.svg.evaluate import DEFAULT_DATA, default_files, evaluate

    return FileEvaluator(SUFFIXES, DEFAULT_DATA, default_files, evaluate, frozenset({"size"}))


def clamped_points(source: str, meta: dict[str, Any]) -> list[str]:
    """The points outside the canvas that encoding clamped to the grid."""
    clamped = sum(meta.get("clamped") or [])
    return (
        [f"{source}: {clamped} points outside the canvas clamped to the {meta['grid']} grid"]
        if clamped
        else []
    )


SVG = register_modality(
    Modality(
        name="svg",
        data="SVG sources (text, bytes or paths) in, SVG text out",
        suffixes=SUFFIXES,
        dataset=svg_dataset,
        evaluator=_evaluator,
        changes=clamped_points,
    )
)
