"""Image tokenizers, and the image modality plugin (the ``tokzoo.tokenizers`` entry point ``image``)."""

from tokzoo.image import flexible, latent_flex, modality, zoo  # noqa: F401  (register onedpiece-*, flex-*, retok-*, flex-f16-s-64; the pretrained; the modality)
from tokzoo.image.grid_vq import GridVQConfig, GridVQTokenizer
from tokzoo.image.hieratok import HieraTokConfig, HieraTokTokenizer
from tokzoo.image.latent_flex import LatentFlexConfig, LatentFlexTokenizer
from tokzoo.image.matryoshka import MatryoshkaConfig, MatryoshkaTokenizer
from tokzoo.image.titok import TiTokConfig, TiTokTokenizer

__all__ = [
    "GridVQConfig",
    "GridVQTokenizer",
    "HieraTokConfig",
    "HieraTokTokenizer",
    "LatentFlexConfig",
    "LatentFlexTokenizer",
    "MatryoshkaConfig",
    "MatryoshkaTokenizer",
    "TiTokConfig",
    "TiTokTokenizer",
]
