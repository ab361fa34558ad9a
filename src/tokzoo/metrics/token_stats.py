"""Statistics of a token stream: how much of the codebook it uses and how predictable it is.

All entropies are plug-in (maximum-likelihood) estimates in bits from the observed counts. They are biased
low when the number of observed tokens is small compared with the vocabulary, so read them as lower bounds on
a small evaluation set. The bigram conditional entropy H(t_i | t_{i-1}) is what a first-order model of the
stream (e.g. the first step of an autoregressive prior) would need per token; its gap to the unigram entropy
is the information one token carries about the next ("Elements of Information Theory", Cover & Thomas, 2006).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


def _entropy_of_counts(counts: torch.Tensor) -> float:
    """Entropy in bits of the distribution given by ``counts`` (0 for no counts)."""
    total = counts.sum()
    if total <= 0:
        return 0.0
    p = counts.double() / total
    p = p[p > 0]
    return float(-(p * torch.log2(p)).sum())


def _flat(seqs: Sequence[torch.Tensor]) -> torch.Tensor:
    parts = [s.reshape(-1).long().cpu() for s in seqs]
    return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.long)


def unigram_entropy(seqs: Sequence[torch.Tensor]) -> float:
    """H(t) in bits of all tokens of all sequences pooled together."""
    flat = _flat(seqs)
    if flat.numel() == 0:
        return 0.0
    return _entropy_of_counts(torch.unique(flat, return_counts=True)[1])


def conditional_entropy(seqs: Sequence[torch.Tensor]) -> float | None:
    """H(t_i | t_{i-1}) in bits over the adjacent pairs inside each sequence (pairs never span two sequences).

    Computed as H(t_{i-1}, t_i) − H(t_{i-1}) over the pairs; None when no sequence has two tokens.
    """
    pairs = [
        torch.stack([s[:-1], s[1:]], dim=1) for s in (q.reshape(-1).long().cpu() for q in seqs) if len(s) > 1
    ]
    if not pairs:
        return None
    both = torch.cat(pairs)
    joint = _entropy_of_counts(torch.unique(both, dim=0, return_counts=True)[1])
    previous = _entropy_of_counts(torch.unique(both[:, 0], return_counts=True)[1])
    return max(0.0, joint - previous)


def position_entropy(seqs: Sequence[torch.Tensor]) -> list[float]:
    """Entropy in bits of the token at each position across sequences (position j uses sequences longer than j).

    Low values mean a position carries the same id in every image (wasted rate for that position).
    """
    rows = [s.reshape(-1).long().cpu() for s in seqs]
    longest = max((len(r) for r in rows), default=0)
    out = []
    for j in range(longest):
        column = torch.stack([r[j] for r in rows if len(r) > j])
        out.append(_entropy_of_counts(torch.unique(column, return_counts=True)[1]))
    return out


def token_stats(seqs: Sequence[torch.Tensor], vocab_size: int) -> dict[str, Any]:
    """Codebook usage and perplexity, unigram / conditional / per-position entropies of ``seqs`` (1-D id tensors).

    Keys: ``tokens`` (count), ``vocab_size``, ``used_codes``, ``usage`` (used / vocab), ``entropy_bits``
    (unigram), ``perplexity`` (2**entropy), ``conditional_entropy_bits`` (bigram, None for 1-token sequences),
    ``max_entropy_bits`` (log2 vocab, what a uniform iid stream would reach), ``position_entropy_bits``
    (list), ``position_entropy_mean_bits``.
    """
    if vocab_size < 1:
        raise ValueError(f"vocab_size must be positive, got {vocab_size}")
    flat = _flat(seqs)
    used = int(torch.unique(flat).numel())
    entropy = unigram_entropy(seqs)
    positions = position_entropy(seqs)
    return {
        "tokens": int(flat.numel()),
        "vocab_size": int(vocab_size),
        "used_codes": used,
        "usage": used / vocab_size,
        "entropy_bits": entropy,
        "perplexity": 2.0**entropy,
        "conditional_entropy_bits": conditional_entropy(seqs),
        "max_entropy_bits": float(torch.log2(torch.tensor(float(vocab_size), dtype=torch.float64))),
        "position_entropy_bits": positions,
        "position_entropy_mean_bits": sum(positions) / len(positions) if positions else None,
    }
