"""The mesh modality plugin: OBJ/PLY/STL/OFF in, OBJ (or PLY) out, ``tokzoo eval`` per file, quantization reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokzoo.core.modality import Modality, register_modality
from tokzoo.data.files import collect_files
from tokzoo.mesh.io import READ_SUFFIXES
from tokzoo.mesh.prepare import MeshReport


def mesh_dataset(spec: str) -> list[Path]:
    """The mesh files a ``data`` string names: one file, or a folder searched recursively (sorted)."""
    return collect_files([spec], READ_SUFFIXES)


def _evaluator() -> Any:
    from tokzoo.bench.eval_files import FileEvaluator
    from tokzoo.mesh.evaluate import DEFAULT_DATA, default_files, evaluate

    return FileEvaluator(READ_SUFFIXES, DEFAULT_DATA, default_files, evaluate)


def quantization_reports(source: str, meta: dict[str, Any]) -> list[str]:
    """Each mesh's quantization report (merged vertices, dropped faces, ...) where quantization changed it."""
    return [MeshReport(**r).describe() for r in meta.get("reports") or [] if r is not None]


MESH = register_modality(
    Modality(
        name="mesh",
        data="triangle meshes (RawMesh, trimesh, (vertices, faces)) in, QuantizedMesh out",
        suffixes=READ_SUFFIXES,
        dataset=mesh_dataset,
        evaluator=_evaluator,
        changes=quantization_reports,
    )
)
