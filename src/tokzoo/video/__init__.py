"""Video tokenizers, and the video modality plugin (the ``tokzoo.tokenizers`` entry point ``video``)."""

from tokzoo.video import modality  # noqa: F401  (registers the modality)
from tokzoo.video.causal import CausalVideoConfig, CausalVideoTokenizer
from tokzoo.video.flex import VideoFlexConfig, VideoFlexTokenizer
from tokzoo.video.keyframes import KeyframeConfig, KeyframeVideoTokenizer
from tokzoo.video.latent_flex import VideoLatentFlexConfig, VideoLatentFlexTokenizer
from tokzoo.video.omni import OmniConfig, OmniTokenizer

__all__ = [
    "CausalVideoConfig",
    "CausalVideoTokenizer",
    "KeyframeConfig",
    "KeyframeVideoTokenizer",
    "OmniConfig",
    "OmniTokenizer",
    "VideoFlexConfig",
    "VideoFlexTokenizer",
    "VideoLatentFlexConfig",
    "VideoLatentFlexTokenizer",
]
