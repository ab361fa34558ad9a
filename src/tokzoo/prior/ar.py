"""GPT-style autoregressive prior over tokens, next-token or next-scale, with a key/value cache.

The token transformer of VQGAN ("Taming Transformers for High-Resolution Image Synthesis", Esser et al., 2021)
on GPT's decoder ("Language Models are Unsupervised Multitask Learners", Radford et al., 2019), generalised to
steps of several tokens: with the groups of :mod:`tokzoo.prior.layout`, a raster grid is generated one token at
a time and ``msrq`` maps one scale at a time (VAR, "Visual Autoregressive Modeling: Scalable Image Generation
via Next-Scale Prediction", Tian et al., 2024). VAR feeds the accumulated upsampled residual latents; here the
input is the previous scale's token embedding upsampled (nearest), which needs no tokenizer at training time.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.nn.transformer import Transformer, block_causal_mask
from tokzoo.prior.config import PriorConfig
from tokzoo.prior.kvcache import KVCache, cached_forward

__all__ = ["ARPrior"]


class ARPrior(nn.Module):
    """``forward(ids, lengths, classes) -> loss``; :meth:`logits` for all positions; :meth:`step` with a cache."""

    def __init__(self, cfg: PriorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        seq = self.seq = cfg.sequence
        self.token_emb = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.start_emb = nn.Embedding(cfg.num_classes + 1, cfg.dim)  # class c, or num_classes = none
        self.pos_emb = nn.Parameter(torch.randn(seq.positions, cfg.dim) * 0.02)
        self.transformer = Transformer(cfg.dim, cfg.depth, cfg.heads)
        self.head = nn.Linear(cfg.dim, seq.outputs)
        self.register_buffer("source", torch.tensor(seq.source, dtype=torch.int64), persistent=False)
        self.register_buffer("mask", block_causal_mask(list(seq.groups)), persistent=False)
        bounds = torch.tensor([0, *seq.groups]).cumsum(0)
        self.bounds: list[int] = bounds.tolist()  # step g covers positions bounds[g]:bounds[g + 1]

    def _classes(self, batch: int, classes: torch.Tensor | None) -> torch.Tensor:
        if classes is None:
            return torch.full((batch,), self.cfg.num_classes, dtype=torch.int64, device=self.pos_emb.device)
        if bool(((classes < 0) | (classes > self.cfg.num_classes)).any()):
            raise ValueError(f"classes must be in [0, {self.cfg.num_classes}]")
        return classes.to(self.pos_emb.device)

    def _inputs(self, ids: torch.Tensor, start: int, stop: int, classes: torch.Tensor) -> torch.Tensor:
        """Input embeddings of positions start:stop from ``ids`` (B, >= the sources they read)."""
        src = self.source[start:stop]
        safe = src.clamp(min=0)
        tok = self.token_emb(ids[:, safe].clamp(0, self.cfg.vocab_size - 1))
        first = self.start_emb(classes)[:, None].expand_as(tok)
        x = torch.where((src < 0)[None, :, None], first, tok)
        return x + self.pos_emb[start:stop]

    def logits(self, ids: torch.Tensor, classes: torch.Tensor | None = None) -> torch.Tensor:
        """(B, positions, outputs) logits: position i predicts token i (or the end symbol at i = length)."""
        full = torch.zeros((ids.shape[0], self.seq.length), dtype=torch.int64, device=self.pos_emb.device)
        full[:, : ids.shape[1]] = ids.to(full.device)
        x = self._inputs(full, 0, self.seq.positions, self._classes(ids.shape[0], classes))
        return self.head(self.transformer(x, self.mask))

    def forward(
        self, ids: torch.Tensor, lengths: torch.Tensor, classes: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Mean cross-entropy (nats/token) of the valid tokens (and the end symbol of variable lengths)."""
        logits = self.logits(ids, classes)
        target, valid = self._targets(ids.to(logits.device), lengths.to(logits.device))
        return F.cross_entropy(logits[valid], target[valid])

    def _targets(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pos = torch.arange(self.seq.positions, device=ids.device)[None]
        target = torch.zeros((ids.shape[0], self.seq.positions), dtype=torch.int64, device=ids.device)
        target[:, : self.seq.length] = ids
        if self.seq.variable:
            target = torch.where(pos == lengths[:, None], self.seq.vocab_size, target)
            return target, pos <= lengths[:, None]
        return target, pos < lengths[:, None]

    @torch.no_grad()
    def nll_bits(
        self, ids: torch.Tensor, lengths: torch.Tensor, classes: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(B,) bits of each sample's ids under the prior, end symbol excluded and renormalised away (the
        length is side information, as in ``Tokens.nbits``)."""
        logits = self.logits(ids, classes)[..., : self.seq.vocab_size]
        target, valid = self._targets(ids.to(logits.device), lengths.to(logits.device))
        valid &= (
            torch.arange(self.seq.positions, device=logits.device)[None] < lengths.to(logits.device)[:, None]
        )
        logp = logits.log_softmax(-1).gather(-1, target.clamp(max=self.seq.vocab_size - 1)[..., None])[..., 0]
        return -(logp * valid).sum(1) / torch.log(torch.tensor(2.0))

    # ------------------------------------------------------------------------------------------ incremental
    def new_cache(self) -> KVCache:
        return KVCache(self.cfg.depth)

    def step(
        self, ids: torch.Tensor, group: int, cache: KVCache, classes: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Logits (B, groups[group], outputs) of step ``group`` given ``ids`` (B, >= bounds[group]) of the
        earlier steps; ``cache`` must hold exactly steps 0..group-1 and is extended by this one."""
        start, stop = self.bounds[group], self.bounds[group + 1]
        if cache.length != start:
            raise ValueError(f"cache holds {cache.length} positions, step {group} starts at {start}")
        full = torch.zeros((ids.shape[0], self.seq.length), dtype=torch.int64, device=self.pos_emb.device)
        full[:, :start] = ids[:, :start].to(full.device)
        x = self._inputs(full, start, stop, self._classes(ids.shape[0], classes))
        return self.head(cached_forward(self.transformer, x, cache))
