"""Layout adapters: every discrete ``Tokens`` layout <-> the flat sequence a prior models, and back.

A :class:`SequenceLayout` says, for one layout and shape, in which order the ids are generated and what each
position sees as input:

- ``grid2d`` / ``grid3d``: raster order, one token per step (the VQGAN transformer, "Taming Transformers for
  High-Resolution Image Synthesis", Esser et al., 2021).
- ``seq1d``: 1-D (TiTok, "An Image is Worth 32 Tokens for Reconstruction and Generation", 2024), flexible-length
  prefixes (FlexTok, "FlexTok: Resampling Images into 1D Token Sequences of Flexible Length", 2025) and SVG /
  mesh programs: one token per step, with an end-of-sequence symbol so lengths are modelled too.
- ``<base>+depth`` (RVQ): position-major order, each position's depths in turn ("Autoregressive Image
  Generation using Residual Quantization", Lee et al., 2022); ``Tokens`` store them depth-major, so the
  adapter permutes.
- ``multiscale`` (msrq) and ``matryoshka``: next-scale order ("Visual Autoregressive Modeling: Scalable Image
  Generation via Next-Scale Prediction", Tian et al., 2024): all tokens of a scale are one step, predicted
  together from the earlier scales; the input at each position is the token of the previous scale at the same
  place (nearest upsampling). ``multiscale1d`` (msrq1d: VAT's multi-scale 1-D tokens, "3D Representation in
  512-Byte: Variational Tokenizer is the Key for Autoregressive 3D Generation", 2024/25) is the same over
  sequences of increasing length instead of square maps.

``groups`` are the sizes of the steps (1 per token, or one per scale) and ``source[i]`` is the position whose
token is the input at position ``i`` (-1: the start/class embedding). Position ``i``'s output predicts the
token at ``i``; attention is block-causal over the groups, so the prediction never sees its own step.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch

from tokzoo.core.tokens import Tokens

__all__ = ["LAYOUTS", "SequenceLayout", "depth_order", "from_sequence", "sequence_layout", "to_sequence"]

LAYOUTS = (
    "seq1d",
    "grid2d",
    "grid3d",
    "seq1d+depth",
    "grid2d+depth",
    "grid3d+depth",
    "multiscale",
    "multiscale1d",
    "matryoshka",
)

#: next-scale layouts and the number of dimensions of each scale (square maps or sequences)
_SCALE_DIMS = {"multiscale": 2, "matryoshka": 2, "multiscale1d": 1}


@dataclass(frozen=True)
class SequenceLayout:
    """The generation order of one ``Tokens`` layout and shape (see the module doc)."""

    layout: str
    shape: tuple[int, ...]
    vocab_size: int
    length: int  # tokens per sample (the maximum for variable-length sequences)
    variable: bool  # lengths vary; an end symbol (id ``vocab_size``) follows the last token
    groups: tuple[int, ...]
    source: tuple[int, ...]

    @property
    def positions(self) -> int:
        """Positions the prior sees: the tokens, plus one for the end symbol of variable-length sequences."""
        return self.length + int(self.variable)

    @property
    def outputs(self) -> int:
        """Size of the prior's output distribution: the ids, plus the end symbol for variable lengths."""
        return self.vocab_size + int(self.variable)

    def to_dict(self) -> dict[str, object]:
        """The arguments of :func:`sequence_layout` that rebuild this layout."""
        return {
            "layout": self.layout,
            "shape": list(self.shape),
            "vocab_size": self.vocab_size,
            "length": self.length,
        }


def _upsample_source(sides: list[int], dims: int = 2) -> list[int]:
    """Per position of scales ``sides`` (squares for ``dims`` = 2, sequences for 1; raster each, coarse first):
    the position of the same place in the previous scale (nearest), or -1 for the first scale."""
    src, offset, prev = [], 0, None
    for s in sides:
        for cell in itertools.product(range(s), repeat=dims):
            if prev is None:
                src.append(-1)
                continue
            p_side, p_off = prev
            index = 0
            for c in cell:
                index = index * p_side + c * p_side // s
            src.append(p_off + index)
        prev = (s, offset)
        offset += s**dims
    return src


def sequence_layout(
    layout: str, shape: tuple[int, ...], vocab_size: int, length: int | None = None
) -> SequenceLayout:
    """The :class:`SequenceLayout` of ``Tokens`` with this ``layout`` and ``shape``; ``length`` is the maximum
    length of ``seq1d`` sequences (default ``shape[0]``). Unknown layouts and continuous tokens are refused."""
    shape = tuple(int(s) for s in shape)
    if layout not in LAYOUTS:
        raise ValueError(f"no prior layout for tokens of layout {layout!r}; known: {', '.join(LAYOUTS)}")
    if layout in _SCALE_DIMS:
        sides, dims = list(shape), _SCALE_DIMS[layout]
        groups = tuple(s**dims for s in sides)
        return SequenceLayout(
            layout, shape, vocab_size, sum(groups), False, groups, tuple(_upsample_source(sides, dims))
        )
    variable = layout == "seq1d"
    default = shape[0] if shape else 0
    n = int(length if length is not None else default) if variable else math.prod(shape)
    if n < 1:
        raise ValueError(f"{layout} tokens of shape {shape} need a positive length (pass length=)")
    positions = n + int(variable)
    return SequenceLayout(
        layout, shape, vocab_size, n, variable, (1,) * positions, tuple(range(-1, positions - 1))
    )


def depth_order(shape: tuple[int, ...]) -> torch.Tensor:
    """Index that turns depth-major ids (k blocks of N positions) into position-major (N blocks of k depths)."""
    k, n = shape[-1], math.prod(shape[:-1])
    return torch.arange(k * n).reshape(k, n).t().reshape(-1)


def to_sequence(tokens: Tokens, seq: SequenceLayout) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids (B, seq.length), lengths (B,)) of ``tokens`` in generation order; ``ValueError`` if they do not
    match ``seq``."""
    if tokens.values is not None:
        raise ValueError("continuous tokens (values) have no ids for a prior to model")
    if tokens.layout != seq.layout or tokens.vocab_size != seq.vocab_size:
        raise ValueError(
            f"tokens are {tokens.layout} over {tokens.vocab_size} ids, the prior models {seq.layout} over {seq.vocab_size}"
        )
    if not seq.variable and tokens.shape != seq.shape:
        raise ValueError(f"tokens have shape {tokens.shape}, the prior models shape {seq.shape}")
    longest = int(tokens.lengths.max()) if len(tokens) else 0
    if longest > seq.length:
        raise ValueError(f"tokens have up to {longest} ids, the prior models at most {seq.length}")
    if not seq.variable and bool((tokens.lengths != seq.length).any()):
        raise ValueError(f"{seq.layout} tokens must all have {seq.length} ids")
    ids = torch.zeros((len(tokens), seq.length), dtype=torch.int64)
    width = min(seq.length, tokens.ids.shape[1])
    ids[:, :width] = tokens.ids[:, :width].cpu()
    ids[~(torch.arange(seq.length) < tokens.lengths.cpu()[:, None])] = 0
    if seq.layout.endswith("+depth"):
        ids = ids[:, depth_order(seq.shape)]
    return ids, tokens.lengths.cpu().clone()


def from_sequence(
    ids: torch.Tensor, lengths: torch.Tensor, seq: SequenceLayout, meta: dict | None = None
) -> Tokens:
    """``Tokens`` of ``seq``'s layout from ids in generation order (inverse of :func:`to_sequence`)."""
    ids = ids.cpu().to(torch.int64)
    if seq.layout.endswith("+depth"):
        ids = ids[:, torch.argsort(depth_order(seq.shape))]
    return Tokens(ids, lengths.cpu(), seq.vocab_size, seq.layout, seq.shape, dict(meta or {}))
