"""Point clouds: area-uniform sampling of meshes, normalisation, metrics (Chamfer, F-score, normal
consistency), Point-BERT-style patch tokens, VAT-style 1-D tokens, and Gaussian spatial tokens of RGB-D frames
(``docs/points.md``)."""

from tokzoo.points import modality  # noqa: F401  (registers the points modality)
from tokzoo.points.gaussian_encoder import GaussianEncoderConfig, GaussianEncoderTokenizer
from tokzoo.points.gaussians import GaussianConfig, GaussianTokenizer
from tokzoo.points.groups import farthest_points, group
from tokzoo.points.metrics import chamfer, f_score, normal_consistency, precision_recall
from tokzoo.points.normalize import normalize, unnormalize
from tokzoo.points.patch import PatchConfig, PatchTokenizer
from tokzoo.points.sample import sample_surface
from tokzoo.points.splat import splat
from tokzoo.points.vat import VatConfig, VatTokenizer

__all__ = [
    "GaussianConfig",
    "GaussianEncoderConfig",
    "GaussianEncoderTokenizer",
    "GaussianTokenizer",
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
    "precision_recall",
    "sample_surface",
    "splat",
    "unnormalize",
]
