"""Point clouds: area-uniform sampling of meshes, normalisation, metrics (Chamfer, F-score, normal
consistency), Point-BERT-style patch tokens and VAT-style 1-D tokens (``docs/points.md``)."""

from tokzoo.points import modality  # noqa: F401  (registers the points modality)
from tokzoo.points.groups import farthest_points, group
from tokzoo.points.metrics import chamfer, f_score, normal_consistency
from tokzoo.points.normalize import normalize, unnormalize
from tokzoo.points.patch import PatchConfig, PatchTokenizer
from tokzoo.points.sample import sample_surface
from tokzoo.points.vat import VatConfig, VatTokenizer

__all__ = [
    "PatchConfig",
    "PatchTokenizer",
    "VatConfig",
    "VatTokenizer",
    "chamfer",
    "f_score",
    "farthest_points",
    "group",
    "normal_consistency",
    "normalize",
    "sample_surface",
    "unnormalize",
]
