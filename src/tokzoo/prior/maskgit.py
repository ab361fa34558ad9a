"""MaskGIT-style bidirectional prior: predict masked tokens from the visible ones, sample in a few parallel steps.

"MaskGIT: Masked Generative Image Transformer" (Chang et al., 2022): training masks a cosine-scheduled fraction
of each sequence and predicts it; sampling starts fully masked and at each of T steps fills the masked
positions, keeps the most confident predictions and re-masks the rest, the masked count following
``ceil(cos(pi/2 * t/T) * n)``. Runs over any fixed-length layout's generation order (its positions are a set
here, not a sequence); variable-length sequences are modelled at their given lengths (padding is never
attended).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.nn.transformer import Transformer, key_padding_mask, prefix_valid
from tokzoo.prior.config import PriorConfig
from tokzoo.prior.guidance import guide, with_unconditional

__all__ = ["MaskGITPrior", "masked_count", "sample_maskgit"]


def masked_count(t: int, steps: int, n: int) -> int:
    """Tokens still masked after step ``t`` of ``steps`` (t = 0 is before the first): n at 0, 0 at ``steps``,
    strictly fewer after every step."""
    if not 0 <= t <= steps:
        raise ValueError(f"step {t} outside 0..{steps}")
    if t == steps:
        return 0
    return min(n - t, math.ceil(math.cos(math.pi / 2 * t / steps) * n)) if t else n


class MaskGITPrior(nn.Module):
    """``forward(ids, lengths, classes, generator) -> loss`` on a random cosine-scheduled mask; :meth:`logits`."""

    def __init__(self, cfg: PriorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        seq = self.seq = cfg.sequence
        self.mask_id = cfg.vocab_size
        self.token_emb = nn.Embedding(cfg.vocab_size + 1, cfg.dim)
        self.class_emb = nn.Embedding(cfg.num_classes + 1, cfg.dim)
        self.pos_emb = nn.Parameter(torch.randn(seq.length, cfg.dim) * 0.02)
        self.transformer = Transformer(cfg.dim, cfg.depth, cfg.heads)
        self.head = nn.Linear(cfg.dim, cfg.vocab_size)

    def logits(
        self, ids: torch.Tensor, lengths: torch.Tensor, classes: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(B, length, vocab) logits for every position of ``ids`` (mask id = ``vocab_size``)."""
        device = self.pos_emb.device
        ids, lengths = ids.to(device), lengths.to(device)
        if classes is None:
            classes = torch.full((ids.shape[0],), self.cfg.num_classes, dtype=torch.int64, device=device)
        x = self.token_emb(ids) + self.pos_emb + self.class_emb(classes.to(device))[:, None]
        return self.head(self.transformer(x, key_padding_mask(prefix_valid(lengths, self.seq.length))))

    def forward(
        self,
        ids: torch.Tensor,
        lengths: torch.Tensor,
        classes: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Cross-entropy (nats) on the masked positions; per sample, ``ceil(cos(pi/2 r) * length)`` with r ~ U(0, 1)
        positions are masked (at least one)."""
        device = self.pos_emb.device
        ids, lengths = ids.to(device), lengths.to(device)
        b, n = ids.shape
        r = torch.rand(b, generator=generator).to(device)
        count = torch.ceil(torch.cos(math.pi / 2 * r) * lengths).clamp(min=1)
        scores = torch.rand(b, n, generator=generator).to(device)
        valid = prefix_valid(lengths, n)
        scores = scores.masked_fill(~valid, 2.0)  # padding is never masked
        rank = scores.argsort(1).argsort(1)
        masked = (rank < count[:, None]) & valid
        logits = self.logits(torch.where(masked, self.mask_id, ids), lengths, classes)
        return F.cross_entropy(logits[masked], ids[masked])


@torch.no_grad()
def sample_maskgit(
    prior: MaskGITPrior,
    n: int,
    *,
    steps: int = 8,
    classes: torch.Tensor | None = None,
    temperature: float = 1.0,
    guidance: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(n, length) ids at full length in ``steps`` parallel steps (confidence = the drawn token's probability);
    ``guidance`` other than 1 (with ``classes``): classifier-free guidance (:func:`tokzoo.prior.guidance.guide`)."""
    if guidance != 1.0 and classes is None:
        raise ValueError("classifier-free guidance needs classes to condition on")
    seq = prior.seq
    device = prior.pos_emb.device
    ids = torch.full((n, seq.length), prior.mask_id, dtype=torch.int64, device=device)
    lengths = torch.full((n,), seq.length, dtype=torch.int64, device=device)
    for t in range(steps):
        masked = ids == prior.mask_id
        if guidance != 1.0:
            both = prior.logits(
                ids.repeat(2, 1), lengths.repeat(2), with_unconditional(classes, prior.cfg.num_classes)
            )
            logits = guide(both[:n], both[n:], guidance)
        else:
            logits = prior.logits(ids, lengths, classes)
        probs = (logits.float() / max(temperature, 1e-6)).softmax(-1)
        drawn = torch.multinomial(probs.reshape(-1, probs.shape[-1]), 1, generator=generator).reshape(n, -1)
        conf = probs.gather(-1, drawn[..., None])[..., 0].masked_fill(~masked, float("inf"))
        keep_masked = masked_count(t + 1, steps, seq.length)
        order = conf.argsort(1)  # least confident first; already visible tokens last
        remask = torch.zeros_like(masked)
        remask.scatter_(1, order[:, :keep_masked], True)
        ids = torch.where(masked & ~remask, drawn.to(device), ids)
    return ids.cpu()
