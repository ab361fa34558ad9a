"""Image tokenizers."""

from tokzoo.image.grid_vq import GridVQConfig, GridVQTokenizer

__all__ = ["GridVQConfig", "GridVQTokenizer"]
