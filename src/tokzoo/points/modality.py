"""The point-cloud modality plugin: meshes (sampled) or ``.xyz`` in, ``.xyz`` out; training data from the
Debian mesh collections (:mod:`tokzoo.points.data`). And the RGB-D modality of the Gaussian spatial tokens:
``.npz`` frames or meshes (rendered, :mod:`tokzoo.points.depth_data`) in, ``.npz`` frames out."""

from __future__ import annotations

from typing import Any

from tokzoo.core.modality import Modality, register_modality
from tokzoo.points.data import MESH_SUFFIXES, SUFFIXES, PointCloudDataset, point_files
from tokzoo.points.depth_data import FrameDataset
from tokzoo.points.rgbd import Camera


def points_dataset(
    spec: str, size: int | None = None, *, seed: int = 0, points: int = 1024, **_: Any
) -> PointCloudDataset:
    """``points`` area-uniform points per model of ``spec`` (``homedecor:train``, a folder, ...)."""
    return PointCloudDataset(point_files(spec), points, seed)


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


def rgbd_dataset(spec: str, size: int | None = None, *, seed: int = 0, **_: Any) -> FrameDataset:
    """4 rendered views (``size`` px, default 64, 60 degree field of view) of each mesh of ``spec``."""
    return FrameDataset(point_files(spec), Camera(size or 64, 60.0), views=4)


def _rgbd_evaluator() -> Any:
    from tokzoo.bench.eval_files import FileEvaluator
    from tokzoo.points.depth_eval import DEFAULT_DATA, default_files, evaluate

    return FileEvaluator((".npz", *MESH_SUFFIXES), DEFAULT_DATA, default_files, evaluate)


RGBD = register_modality(
    Modality(
        name="rgbd",
        data="RGB-D frames ((B, 4, H, W): RGB in [0, 1], depth in metres, 0 = none) in, the same out",
        suffixes=(".npz", *MESH_SUFFIXES),
        dataset=rgbd_dataset,
        evaluator=_rgbd_evaluator,
    )
)
