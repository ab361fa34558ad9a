"""The point-cloud modality plugin: meshes (sampled) or ``.xyz`` in, ``.xyz`` out; training data from the
Debian mesh collections (:mod:`tokzoo.points.data`)."""

from __future__ import annotations

from typing import Any

from tokzoo.core.modality import Modality, register_modality
from tokzoo.points.data import SUFFIXES, PointCloudDataset, point_files


def points_dataset(spec: str, size: int | None = None, *, seed: int = 0, **_: Any) -> PointCloudDataset:
    """1,024 area-uniform points per model of ``spec`` (``homedecor:train``, a folder, ...)."""
    return PointCloudDataset(point_files(spec), 1024, seed)


def _evaluator() -> Any:
    from tokzoo.bench.eval_files import FileEvaluator
    from tokzoo.points.evaluate import DEFAULT_DATA, default_files, evaluate

    return FileEvaluator(SUFFIXES, DEFAULT_DATA, default_files, evaluate)


POINTS = register_modality(
    Modality(
        name="points",
        data="point clouds ((N, 3) arrays or tensors) in, (M, 3) tensors out",
        suffixes=SUFFIXES,
        dataset=points_dataset,
        evaluator=_evaluator,
    )
)
