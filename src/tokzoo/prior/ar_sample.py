"""Sampling from an :class:`~tokzoo.prior.ar.ARPrior`: step by step, with or without the key/value cache,
temperature and top-k, an optional constraint on every next token, class conditioning and classifier-free
guidance."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tokzoo.prior.ar import ARPrior
from tokzoo.prior.constraint import Constraint, constrain
from tokzoo.prior.guidance import guide, with_unconditional

__all__ = ["Samples", "sample_ar"]


@dataclass
class Samples:
    """Sampled ids (B, length) in generation order, lengths (B,), and which samples ended by the end symbol
    (variable-length layouts; always True for fixed ones). A variable-length sample that did not end within
    ``length`` tokens is truncated (``ended`` False)."""

    ids: torch.Tensor
    lengths: torch.Tensor
    ended: torch.Tensor


def _draw(
    logits: torch.Tensor, temperature: float, top_k: int | None, gen: torch.Generator | None
) -> torch.Tensor:
    logits = logits.float() / max(temperature, 1e-6)
    if top_k is not None and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = logits.softmax(-1).reshape(-1, logits.shape[-1])
    return torch.multinomial(probs, 1, generator=gen).reshape(logits.shape[:-1])


@torch.no_grad()
def sample_ar(
    prior: ARPrior,
    n: int,
    *,
    classes: torch.Tensor | None = None,
    temperature: float = 1.0,
    top_k: int | None = None,
    allowed_next: Constraint | None = None,
    use_cache: bool = True,
    guidance: float = 1.0,
    generator: torch.Generator | None = None,
) -> Samples:
    """``n`` samples. Without the cache every step reruns the whole prefix (for timing the difference).
    A constraint applies to one-token steps only (next-scale steps draw a whole map at once). ``guidance``
    other than 1 (with ``classes``) samples with classifier-free guidance (:func:`tokzoo.prior.guidance.guide`)."""
    seq = prior.seq
    if allowed_next is not None and max(seq.groups) > 1:
        raise ValueError("a next-token constraint cannot apply to next-scale steps")
    guided = guidance != 1.0
    if guided and classes is None:
        raise ValueError("classifier-free guidance needs classes to condition on")
    run_classes = with_unconditional(classes, prior.cfg.num_classes) if guided else classes
    device = prior.pos_emb.device
    ids = torch.zeros((n, seq.length), dtype=torch.int64, device=device)
    lengths = torch.full((n,), seq.length, dtype=torch.int64, device=device)
    ended = torch.full((n,), not seq.variable, dtype=torch.bool, device=device)
    cache = prior.new_cache() if use_cache else None
    for g in range(len(seq.groups)):
        start, stop = prior.bounds[g], prior.bounds[g + 1]
        if seq.variable and start == seq.length:  # out of room: samples not ended yet are truncated
            break
        rows = torch.cat([ids, ids]) if guided else ids
        if cache is not None:
            logits = prior.step(rows, g, cache, run_classes)
        else:
            logits = prior.logits(rows[:, :start], run_classes)[:, start:stop]
        if guided:
            logits = guide(logits[:n], logits[n:], guidance)
        if allowed_next is not None:
            for i in range(n):
                if not bool(ended[i]):
                    logits[i, 0] = constrain(
                        logits[i, 0], ids[i, :start].tolist(), allowed_next, seq.vocab_size
                    )
        drawn = _draw(logits, temperature, top_k, generator)
        if seq.variable:
            stop_now = (drawn[:, 0] == seq.vocab_size) & ~ended
            lengths = torch.where(stop_now, start, lengths)
            ended |= stop_now
            drawn = drawn.clamp(max=seq.vocab_size - 1)
            if bool(ended.all()):
                break
        ids[:, start:stop] = drawn
    if seq.variable:
        ids[torch.arange(seq.length, device=device)[None] >= lengths[:, None]] = 0
    return Samples(ids.cpu(), lengths.cpu(), ended.cpu())
