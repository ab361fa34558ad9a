"""Frozen glyph embeddings: each token's vector is a picture of its characters, never trained.

After "Emergent Semantics Beyond Token Embeddings: Transformer LMs with Frozen Visual Unicode Representations"
(Bochkov, 2025): the token's text is drawn in DejaVu Sans Mono (Debian ``fonts-dejavu-core``) on a 16 x 64 grey
canvas (whitespace drawn as visible symbols, other control characters and bytes that are no character alone as their
hex value) and the 1,024
pixels are mapped to the model width by a fixed Gaussian projection (seeded, so distances between glyph pictures
are roughly kept), then scaled to unit RMS per token. The result is meant for ``nn.Embedding.from_pretrained(...,
freeze=True)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from tokzoo.core.errors import DataError
from tokzoo.data.apt import debian_package

__all__ = ["glyph_embeddings", "glyph_text"]

HEIGHT, WIDTH, FONT_SIZE = 16, 64, 12
FONT = ("fonts-dejavu-core", "usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
_VISIBLE = str.maketrans(
    {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍"}
    | {chr(c): f"x{c:02X}" for c in [*range(32), 127] if chr(c) not in " \n\t\r"}
)


def glyph_text(piece: bytes | None) -> str:
    """What is drawn for a token of these bytes: its text with visible whitespace, else its bytes in hex."""
    if not piece:
        return ""
    try:
        return piece.decode("utf-8").translate(_VISIBLE)
    except UnicodeDecodeError:
        return "".join(f"x{b:02X}" for b in piece)


def font_file() -> Path:
    """DejaVu Sans Mono: the system's copy, else the file in Debian's ``fonts-dejavu-core`` (fetched once)."""
    package, relative = FONT
    system = Path("/") / relative
    path = system if system.is_file() else debian_package(package) / relative
    if not path.is_file():
        raise DataError(f"{path}: not found in Debian package {package}")
    return path


def _picture(text: str, font: ImageFont.FreeTypeFont) -> np.ndarray:
    image = Image.new("L", (WIDTH, HEIGHT), 0)
    ImageDraw.Draw(image).text((0, 1), text, fill=255, font=font)
    return np.asarray(image, dtype=np.float32).reshape(-1) / 255.0


def glyph_embeddings(pieces: Sequence[bytes | None], dim: int, seed: int = 0) -> torch.Tensor:
    """(len(pieces), dim) float32 embeddings of the tokens whose bytes are ``pieces`` (None: an unused id)."""
    font = ImageFont.truetype(str(font_file()), FONT_SIZE, layout_engine=ImageFont.Layout.BASIC)
    pictures = np.stack([_picture(glyph_text(p), font) for p in pieces])
    projection = np.random.default_rng(seed).standard_normal((HEIGHT * WIDTH, dim)).astype(np.float32)
    vectors = pictures @ projection
    rms = np.sqrt((vectors**2).mean(axis=1, keepdims=True))
    return torch.from_numpy(vectors / np.maximum(rms, 1e-6))
