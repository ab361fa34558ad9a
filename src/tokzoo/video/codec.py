"""``VideoTokenizer``: what every video tokenizer shares — video files in and out, clips (B, 3, T, H, W) in [0, 1]."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

import torch

from tokzoo.core.tokenizer import Tokenizer
from tokzoo.video.checks import usable_frames
from tokzoo.video.io import read_video, write_video


class VideoTokenizer(Tokenizer):
    """Base of the video tokenizers: ``load_file`` reads a clip as a (1, 3, T, H, W) batch (T cut to the longest
    length the model codes), ``save_file`` writes one decoded (3, T, H, W) clip (lossless FFV1 ``.mkv`` by
    default; the container follows the suffix, see :func:`tokzoo.video.io.write_video`)."""

    modality = "video"
    #: frame rate of the files ``save_file`` writes when the tokens do not carry their source's (``meta["fps"]``)
    fps: float = 24.0

    @property
    @abstractmethod
    def time_factor(self) -> int:
        """Frames per latent frame after the first (clips have 1 + time_factor·k frames)."""

    @property
    @abstractmethod
    def input_size(self) -> int:
        """The side of the smallest square frames it takes."""

    def example_input(self) -> torch.Tensor:
        return torch.rand(2, self.cfg.in_channels, 1 + self.time_factor, self.input_size, self.input_size)

    def load_file(self, path: Path) -> torch.Tensor:
        frames = read_video(path)
        frames = frames[: usable_frames(len(frames), self.time_factor)]
        return (frames.permute(3, 0, 1, 2).float() / 255)[None]

    def save_file(self, item: torch.Tensor, path: Path, *, fps: float | None = None) -> None:
        """Write one decoded clip at ``fps`` frames/s (default :attr:`fps`)."""
        clip = item if item.dim() == 4 else item.unsqueeze(1)  # (3, H, W): a one-frame clip
        frames = (clip.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 3, 0)
        write_video(frames, path, fps=fps or self.fps)
