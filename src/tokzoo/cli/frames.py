"""``tokzoo encode clip.mp4 --model IMAGE-TOKENIZER``: a video's frames, each encoded as an image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from tokzoo.core.modality import Modality
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens

#: frames encoded at once (bounds the model's activations, not the result)
CHUNK = 16


def is_frames_input(model: Tokenizer, src: Path) -> bool:
    """Whether ``src`` is a video file given to an image tokenizer (encoded frame by frame)."""
    from tokzoo.video.io import VIDEO_SUFFIXES

    return model.modality == "image" and src.suffix.lower() in VIDEO_SUFFIXES


def encode_frames(
    model: Tokenizer,
    modality: Modality,
    src: Path,
    *,
    size: int | None,
    max_frames: int | None,
    num_tokens: int | None,
) -> tuple[Tokens, dict[str, Any], str]:
    """Tokens of every frame of the video ``src`` (a batch, one sample per frame, at most ``max_frames``), the
    meta they carry (``fps``, ``frames``), and the rate per frame in words."""
    from tokzoo.data.tok_shards import stack_tokens
    from tokzoo.video.io import probe_video, read_video

    frames = read_video(src, max_frames=max_frames)
    x = frames.permute(0, 3, 1, 2).float() / 255
    if size is not None and modality.resize is not None:
        x = torch.cat([modality.resize(x[i : i + CHUNK], size) for i in range(0, len(x), CHUNK)])
    samples: list[Tokens] = []
    with torch.no_grad():
        for i in range(0, len(x), CHUNK):
            t = model.encode(x[i : i + CHUNK], num_tokens=num_tokens)
            samples += [t[k] for k in range(len(t))]
    tokens = stack_tokens(samples)
    fps = probe_video(src).fps
    meta: dict[str, Any] = {"frames": len(x), **({"fps": fps} if fps > 0 else {})}
    n, (h, w) = len(x), x.shape[-2:]
    rate = f"{len(x)} frames, {tokens.nbits() / n:.0f} bits per frame, {tokens.nbits() / (n * h * w):.4f} bpp"
    return tokens, meta, rate
