"""Kept-length samplers for training flexible-length 1D tokenizers, and redundant filling of dropped positions.

- Tail token drop, "One-D-Piece: Image Tokenizer Meets Quality-Controllable Compression" (Miwa et al., 2025):
  a random tail of the latent sequence is dropped, the kept length uniform in ``[min_tokens, K]``.
- Nested dropout, "FlexTok: Resampling Images into 1D Token Sequences of Flexible Length" (Bachmann et al.,
  2025), after "Learning Ordered Representations with Nested Dropout" (Rippel et al., 2014): the kept length is
  drawn from the paper's schedules, ``uniform`` over ``1..K`` or ``pow2`` (uniform over ``1, 2, 4, …, K``).
  ``mixed`` (ours) draws each sample from ``pow2`` or ``uniform`` with equal odds: the powers of two keep their
  share of training and every other length is trained too (``pow2`` alone never trains 3, 5, 6, 7, …, whose
  prefixes then decode no better than their shorter neighbours).
- Redundant token padding, "ReTok: … Redundant Token Padding and Hierarchical Semantic Regularization" (2026):
  the dropped positions are filled instead of masked, so the decoder's tail positions take part in every step.
  The paper's code was not available offline; our reading of its abstract fills position ``j >= k`` with a copy
  of kept token ``j mod k`` (the prefix tiled), which adds no information but keeps every position active.

All samplers return one length per sample, so a batch mixes lengths and the decoder masks per sample.
"""

from __future__ import annotations

import torch

from tokzoo.core.errors import ConfigError

SCHEDULES = ("none", "uniform", "pow2", "mixed")


def check_schedule(model: str, schedule: str, num_tokens: int, min_tokens: int) -> None:
    """ConfigError unless ``schedule`` is known and ``1 <= min_tokens <= num_tokens`` (a model's config check)."""
    if schedule not in SCHEDULES:
        raise ConfigError(f"{model}: drop_schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    if num_tokens < 1 or not 1 <= min_tokens <= num_tokens:
        raise ConfigError(f"{model}: need 1 <= min_tokens <= num_tokens, got {min_tokens}, {num_tokens}")


def causal_register_mask(cells: int, registers: int) -> torch.Tensor:
    """(N + K, N + K) bool attention mask over [cells, registers]: cells see cells only; register i sees the
    cells and registers <= i (FlexTok's causal registers, so a prefix never depends on later tokens)."""
    mask = torch.ones(cells + registers, cells + registers, dtype=torch.bool)
    mask[:cells, cells:] = False
    mask[cells:, cells:] = torch.ones(registers, registers).tril().bool()
    return mask


def pow2_lengths(num_tokens: int) -> list[int]:
    """``1, 2, 4, …`` up to ``num_tokens`` (which is appended when it is not itself a power of two)."""
    out = [1]
    while out[-1] * 2 < num_tokens:
        out.append(out[-1] * 2)
    if out[-1] != num_tokens:
        out.append(num_tokens)
    return out


def sample_keep_lengths(
    batch: int, num_tokens: int, schedule: str, *, min_tokens: int = 1, device: torch.device | None = None
) -> torch.Tensor:
    """(B,) int64 kept lengths in ``[min_tokens, num_tokens]`` drawn from ``schedule`` (global torch RNG).

    ``none`` keeps everything; ``uniform`` draws each length uniformly; ``pow2`` draws uniformly among the
    powers of two not below ``min_tokens`` (and ``num_tokens`` itself); ``mixed`` draws each sample from one of
    those two with equal odds.
    """
    if schedule not in SCHEDULES:
        raise ConfigError(f"unknown token-drop schedule {schedule!r}; expected one of {', '.join(SCHEDULES)}")
    if not 1 <= min_tokens <= num_tokens:
        raise ConfigError(f"min_tokens must be in [1, {num_tokens}], got {min_tokens}")
    if schedule == "none":
        return torch.full((batch,), num_tokens, dtype=torch.int64, device=device)
    if schedule == "uniform":
        return torch.randint(min_tokens, num_tokens + 1, (batch,), device=device)
    choices = torch.tensor([n for n in pow2_lengths(num_tokens) if n >= min_tokens], device=device)
    pow2 = choices[torch.randint(0, len(choices), (batch,), device=device)]
    if schedule == "pow2":
        return pow2
    uniform = torch.randint(min_tokens, num_tokens + 1, (batch,), device=device)
    return torch.where(torch.rand(batch, device=device) < 0.5, pow2, uniform)


def redundant_fill(z: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(B, K, D) → (B, K, D) where position ``j >= lengths[b]`` holds a copy of position ``j mod lengths[b]``."""
    k = z.shape[1]
    source = torch.arange(k, device=z.device)[None] % lengths.clamp_min(1)[:, None]
    return torch.gather(z, 1, source[..., None].expand(-1, -1, z.shape[2]))
