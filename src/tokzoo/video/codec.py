"""``VideoTokenizer``: what every video tokenizer shares — video files in and out, clips (B, 3, T, H, W) in [0, 1];
``GridVideoTokenizer``: the codec of those whose tokens are a fixed (t, h, w) grid."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

import torch

from tokzoo.core.errors import DataError
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens
from tokzoo.quant import Bottleneck
from tokzoo.video.checks import as_clip_batch, grid3d_shape, usable_frames
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

    @property
    def clip_frames(self) -> int:
        """The default clip length of windowed encoding (``tokzoo tokenize``): 1 + 4·time_factor frames."""
        return 1 + 4 * self.time_factor

    def check_clip_frames(self, frames: int) -> None:
        """DataError unless clips of ``frames`` frames can be encoded (1 + time_factor·k)."""
        if frames < 1 or usable_frames(frames, self.time_factor) != frames:
            raise DataError(
                f"{self.registry_name or 'this tokenizer'} codes clips of 1 + {self.time_factor}·k frames, "
                f"not {frames}"
            )

    def load_file(self, path: Path) -> torch.Tensor:
        frames = read_video(path)
        frames = frames[: usable_frames(len(frames), self.time_factor)]
        return (frames.permute(3, 0, 1, 2).float() / 255)[None]

    def save_file(self, item: torch.Tensor, path: Path, *, fps: float | None = None) -> None:
        """Write one decoded clip at ``fps`` frames/s (default :attr:`fps`)."""
        clip = item if item.dim() == 4 else item.unsqueeze(1)  # (3, H, W): a one-frame clip
        frames = (clip.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 3, 0)
        write_video(frames, path, fps=fps or self.fps)


class FixedClipTokenizer(VideoTokenizer):
    """A video tokenizer that codes clips of exactly ``cfg.frames`` frames of ``cfg.image_size``² (its config has
    ``frames``, ``image_size`` and ``in_channels``): files are read up to that length, other clips are refused."""

    @property
    def input_size(self) -> int:
        return self.cfg.image_size

    def example_input(self) -> torch.Tensor:
        c = self.cfg
        return torch.rand(2, c.in_channels, c.frames, c.image_size, c.image_size)

    @property
    def clip_frames(self) -> int:
        return self.cfg.frames

    def check_clip_frames(self, frames: int) -> None:
        if frames != self.cfg.frames:
            raise DataError(f"{self.registry_name or 'this tokenizer'} codes clips of exactly {self.cfg.frames} "
                            f"frames, not {frames}")  # fmt: skip

    def load_file(self, path: Path) -> torch.Tensor:
        """The first ``frames`` frames of a clip file as a (1, 3, frames, H, W) batch (fewer: refused on encode)."""
        frames = read_video(path, max_frames=self.cfg.frames)
        return (frames.permute(3, 0, 1, 2).float() / 255)[None]

    def _check_clip(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` as a (B, C, frames, S, S) float batch; DataError for any other shape or dtype."""
        x = as_clip_batch(x)
        c = self.cfg
        want = (c.in_channels, c.frames, c.image_size, c.image_size)
        if not x.is_floating_point() or tuple(x.shape[1:]) != want:
            raise DataError(
                f"{self.registry_name or 'this tokenizer'} takes float clips (B, {', '.join(map(str, want))}) "
                f"in [0, 1], got {x.dtype} {tuple(x.shape)} (resize / trim first, e.g. `--size`)"
            )
        return x


class GridVideoTokenizer(VideoTokenizer):
    """A video tokenizer whose tokens are one (t, h, w) grid of its ``bottleneck``: subclasses give the latents of
    a clip (``_latents``: (B, N, D) and the grid shape) and the clip of decoded latents (``_decode_latents``)."""

    bottleneck: Bottleneck

    @abstractmethod
    def _latents(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int, int]]: ...

    @abstractmethod
    def _decode_latents(self, latents: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor: ...

    def encode(self, x: torch.Tensor, *, num_tokens: int | None = None) -> Tokens:
        z, shape = self._latents(x)
        clip = as_clip_batch(x)
        meta = {"tokenizer": self.registry_name, "clip_size": [int(s) for s in clip.shape[-3:]]}
        tokens = self.bottleneck.encode(z, shape, meta=meta)
        if num_tokens is not None and num_tokens != tokens.ids.shape[1]:
            raise ValueError(
                f"{self.registry_name or 'this tokenizer'} is fixed-length: a clip of {tuple(clip.shape[-3:])} "
                f"(T, H, W) always gives {tokens.ids.shape[1]} tokens, not {num_tokens}"
            )
        return tokens

    def decode(self, tokens: Tokens) -> torch.Tensor:
        shape = grid3d_shape(tokens, self.bottleneck)
        return self._decode_latents(self.bottleneck.decode(tokens), shape).clamp(0, 1)
