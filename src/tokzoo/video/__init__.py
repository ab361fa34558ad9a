"""Video tokenizers, and the video modality plugin (the ``tokzoo.tokenizers`` entry point ``video``)."""

from tokzoo.video import modality  # noqa: F401  (registers the modality)
from tokzoo.video.causal import CausalVideoConfig, CausalVideoTokenizer
from tokzoo.video.flex import VideoFlexConfig, VideoFlexTokenizer

__all__ = ["CausalVideoConfig", "CausalVideoTokenizer", "VideoFlexConfig", "VideoFlexTokenizer"]
