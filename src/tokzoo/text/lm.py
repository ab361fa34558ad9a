"""A small causal language model over any token ids, to compare tokenizations in **bits per byte**.

The blocks are the image models' (:class:`tokzoo.nn.transformer.Transformer`, pre-norm, SDPA) under a causal
mask, with learned positions and untied input and output embeddings. Trained for the same number of steps of the
same number of tokens on each tokenization (equal compute up to the embedding and output layers, whose size follows
the vocabulary), its held-out negative log-likelihood divided by the bytes the scored tokens stand for is the
measure that makes vocabularies comparable ("Byte Latent Transformer", Pagnoni et al., 2024, reports bits per
byte for the same reason). Also the byte LM whose next-byte entropies drive entropy patching (:mod:`.patching`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.nn.transformer import Transformer

__all__ = ["CausalLM", "LMConfig", "bits_per_byte", "fit_windows", "next_token_entropies", "train_lm"]


@dataclass(frozen=True)
class LMConfig:
    """Width, depth, heads and context length of the LM; training steps, batch size, learning rate and seed."""

    dim: int = 128
    depth: int = 2
    heads: int = 4
    context: int = 128
    steps: int = 300
    batch: int = 16
    lr: float = 3e-3
    seed: int = 0


class CausalLM(nn.Module):
    """Next-token prediction over ``vocab_size`` ids with ``Transformer`` blocks and a causal mask.

    ``frozen_embeddings`` (vocab_size, dim), e.g. :func:`~tokzoo.text.glyphs.glyph_embeddings`, replaces the
    learned input embedding by a fixed one (not a parameter)."""

    def __init__(self, vocab_size: int, cfg: LMConfig, frozen_embeddings: torch.Tensor | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        if frozen_embeddings is None:
            self.embed = nn.Embedding(vocab_size, cfg.dim)
        else:
            if tuple(frozen_embeddings.shape) != (vocab_size, cfg.dim):
                raise ValueError(
                    f"frozen embeddings must be ({vocab_size}, {cfg.dim}), got {tuple(frozen_embeddings.shape)}"
                )
            self.embed = nn.Embedding.from_pretrained(frozen_embeddings.float(), freeze=True)
        self.pos = nn.Parameter(torch.randn(cfg.context, cfg.dim) * 0.02)
        self.blocks = Transformer(cfg.dim, cfg.depth, cfg.heads)
        self.head = nn.Linear(cfg.dim, vocab_size)
        self.register_buffer(
            "causal", torch.ones(cfg.context, cfg.context, dtype=torch.bool).tril(), persistent=False
        )

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """Logits (B, L, V) of the token after each position of ``ids`` (B, L), L <= context."""
        n = ids.shape[1]
        x = self.embed(ids) + self.pos[:n]
        return self.head(self.blocks(x, self.causal[:n, :n]))


def _windows(seq: np.ndarray, length: int) -> np.ndarray:
    """Non-overlapping windows of ``length`` ids (the tail shorter than a window is dropped)."""
    count = len(seq) // length
    return seq[: count * length].reshape(count, length)


def fit_windows(
    model: nn.Module,
    data: torch.Tensor,
    window: int,
    loss_fn: Callable[[nn.Module, torch.Tensor], torch.Tensor],
    *,
    unit: str,
    log_every: int = 0,
) -> list[float]:
    """The LMs' training loop: ``model.cfg.steps`` AdamW steps (cosine schedule, gradient clipping at 1), each on
    ``model.cfg.batch`` random windows of ``window`` consecutive rows of ``data`` (ids, or words of a word table);
    ``loss_fn(model, batch)`` gives the loss. Returns the training losses."""
    cfg = model.cfg
    if len(data) <= window:
        raise ValueError(f"training data of {len(data)} {unit} is shorter than one window ({window})")
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / cfg.steps)))
    losses = []
    model.train()
    for step in range(cfg.steps):
        starts = torch.randint(0, len(data) - window, (cfg.batch,), generator=gen)
        loss = loss_fn(model, torch.stack([data[s : s + window] for s in starts.tolist()]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if log_every and step % log_every == 0:
            print(f"  step {step}: {losses[-1]:.3f} nats/{unit[:-1]}", flush=True)
    return losses


def _next_token_loss(model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
    logits = model(batch[:, :-1])
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))


def train_lm(model: CausalLM, train: np.ndarray, *, log_every: int = 0) -> list[float]:
    """Train on random windows of ``context + 1`` ids of the concatenated ``train`` stream (AdamW, cosine
    schedule); returns the training losses in nats."""
    stream = torch.from_numpy(np.asarray(train, dtype=np.int64))
    return fit_windows(
        model, stream, model.cfg.context + 1, _next_token_loss, unit="tokens", log_every=log_every
    )


@torch.no_grad()
def bits_per_byte(model: CausalLM, ids: np.ndarray, token_bytes: np.ndarray, batch: int = 64) -> float:
    """Held-out bits per byte: the NLL (bits) of every token but the first of each ``context + 1`` window,
    divided by the bytes those scored tokens stand for (``token_bytes[i]`` for token ``i``)."""
    model.eval()
    length = model.cfg.context + 1
    windows = torch.from_numpy(_windows(np.asarray(ids, dtype=np.int64), length))
    sizes = _windows(np.asarray(token_bytes, dtype=np.int64), length)[:, 1:]
    if not len(windows):
        raise ValueError(f"held-out stream shorter than one window ({length} tokens)")
    nats = 0.0
    for i in range(0, len(windows), batch):
        w = windows[i : i + batch]
        logits = model(w[:, :-1])
        nats += float(
            F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1), reduction="sum")
        )
    return nats / math.log(2) / float(sizes.sum())


@torch.no_grad()
def next_token_entropies(
    model: CausalLM, ids: Sequence[int], *, min_context: int = 0, batch: int = 1
) -> np.ndarray:
    """Entropy (bits) of the model's prediction of each token of ``ids`` from the tokens before it, in windows
    of ``context`` tokens; token 0, predicted from nothing, gets log2 V.

    With ``min_context`` = 0 the windows are consecutive, so the token after each window edge is predicted from
    one token (a spurious entropy peak every ``context`` tokens). With ``min_context`` = m > 0 the windows
    overlap by m tokens and every prediction after the first window sees at least m + 1 earlier tokens.
    ``batch`` windows go through the model at once (1 gives the same floating-point results as before)."""
    step = model.cfg.context - min_context
    if not 0 <= min_context < model.cfg.context:
        raise ValueError(f"min_context must be in [0, {model.cfg.context}), got {min_context}")
    model.eval()
    seq = torch.as_tensor(list(ids), dtype=torch.int64)
    out = np.full(len(seq), math.log2(model.head.out_features))
    starts = list(range(0, max(len(seq) - 1 - min_context, 1), step)) if len(seq) > 1 else []
    full = [s for s in starts if s + model.cfg.context <= len(seq)]
    groups = [full[i : i + batch] for i in range(0, len(full), batch)]
    groups += [[s] for s in starts[len(full) :]]
    for group in groups:
        w = torch.stack([seq[s : s + model.cfg.context] for s in group])
        logp = F.log_softmax(model(w), dim=-1)
        ent = (-(logp.exp() * logp).sum(-1) / math.log(2)).numpy()  # entropy of the token after each position
        for s, e in zip(group, ent, strict=True):
            # predictions from fewer than min_context earlier tokens were taken from the window before
            keep = 0 if s == 0 else min_context
            e = e[keep : len(out) - s - 1]
            out[s + 1 + keep : s + 1 + keep + len(e)] = e
    return out
