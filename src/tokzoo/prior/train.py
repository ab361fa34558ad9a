"""Training a prior on token sequences: AdamW, warm-up + cosine schedule, resumable checkpoints.

The tokenizer :class:`tokzoo.train.Trainer` builds a registered ``Tokenizer`` and its modality's image/file
data; a prior is neither, so this small loop reuses the trainer's pieces instead: the deterministic
:class:`~tokzoo.data.StreamBatchSampler` (the batch at step s is a pure function of (seed, s)), the optimizer
and RNG serialisation of :mod:`tokzoo.train.state` (safetensors + JSON, no pickle) and atomic checkpoint
folders, so a killed run resumed from its last checkpoint continues exactly.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import save as st_save

from tokzoo.core.atomic import atomic_directory
from tokzoo.core.checkpoint import read_safetensors
from tokzoo.core.errors import CheckpointError, NonFiniteLossError
from tokzoo.data import StreamBatchSampler
from tokzoo.prior.checkpoint import Prior, load_prior, save_prior, write_prior_files
from tokzoo.train.state import _optimizer_join, _optimizer_split, _rng_state, _set_rng_state, list_checkpoints

__all__ = ["PriorTrainConfig", "train_prior"]


@dataclass
class PriorTrainConfig:
    """Optimisation settings of :func:`train_prior`."""

    steps: int = 200
    batch_size: int = 16
    lr: float = 1e-3
    warmup: int = 20
    weight_decay: float = 0.01
    seed: int = 0
    checkpoint_every: int = 100
    class_dropout: float = 0.0  # fraction of class labels replaced by "no class" (classifier-free guidance)

    def lr_at(self, step: int) -> float:
        """Linear warm-up, then cosine decay to 10 %."""
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        t = min(1.0, (step - self.warmup) / max(1, self.steps - self.warmup))
        return self.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def _save_state(
    root: Path, step: int, prior: Prior, opt: torch.optim.Optimizer, cfg: PriorTrainConfig
) -> None:
    opt_tensors, opt_meta = _optimizer_split(opt.state_dict())
    rng_tensors, rng_meta = _rng_state()
    with atomic_directory(root / f"step_{step:08d}") as tmp:
        write_prior_files(prior, tmp)
        (tmp / "train_state.safetensors").write_bytes(st_save({**opt_tensors, **rng_tensors}))
        state = {"step": step, "train_config": asdict(cfg), "optimizer": opt_meta, "rng": rng_meta}
        (tmp / "trainer_state.json").write_text(json.dumps(state))


def _load_state(path: Path, prior: Prior, opt: torch.optim.Optimizer) -> int:
    state = json.loads((path / "trainer_state.json").read_text())
    tensors = read_safetensors(path / "train_state.safetensors")
    try:
        prior.load_state_dict(load_prior(path).state_dict())
        opt.load_state_dict(_optimizer_join(tensors, state["optimizer"]))
    except (RuntimeError, ValueError, KeyError) as e:
        raise CheckpointError(f"{path}: does not match the prior being trained ({e})") from None
    _set_rng_state(tensors, state["rng"])
    return int(state["step"])


def _drop_classes(
    classes: torch.Tensor | None, index: torch.Tensor, p: float, prior: Prior
) -> torch.Tensor | None:
    """The batch's classes, each replaced by "no class" with probability ``p``, so one prior learns the
    conditional and the unconditional model ("Classifier-Free Diffusion Guidance", Ho & Salimans, 2022)."""
    if classes is None:
        return None
    batch = classes[index]
    if p <= 0:
        return batch
    return torch.where(torch.rand(len(batch)) < p, prior.cfg.num_classes, batch)


def train_prior(
    prior: Prior,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    out_dir: str | Path,
    cfg: PriorTrainConfig,
    *,
    classes: torch.Tensor | None = None,
    resume: bool = False,
    log: list[dict[str, float]] | None = None,
) -> Path:
    """Train ``prior`` on sequences ``ids`` (N, length) with ``lengths`` (N,) (from
    :func:`tokzoo.prior.layout.to_sequence`); checkpoints under ``out_dir/checkpoints``, the final prior in
    ``out_dir/prior`` (returned). Appends ``{"step", "loss", "tokens_per_s"}`` records to ``log``."""
    out = Path(out_dir)
    root = out / "checkpoints"
    prior.train()
    opt = torch.optim.AdamW(prior.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.95))
    start = 0
    found = list_checkpoints(root)
    if resume and found:
        start = _load_state(found[-1][1], prior, opt)
    if start == 0:
        torch.manual_seed(cfg.seed)  # a resumed run continues the saved RNG state instead
    sampler = StreamBatchSampler(len(ids), cfg.batch_size, seed=cfg.seed, start_step=start)
    batches = iter(sampler)
    for step in range(start, cfg.steps):
        index = torch.tensor([k[0] for k in next(batches)])
        for group in opt.param_groups:
            group["lr"] = cfg.lr_at(step)
        t0 = time.perf_counter()
        loss = prior(ids[index], lengths[index], _drop_classes(classes, index, cfg.class_dropout, prior))
        if not torch.isfinite(loss):
            raise NonFiniteLossError(f"prior loss is {loss.item()} at step {step}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(prior.parameters(), 1.0)
        opt.step()
        if log is not None:
            seconds = time.perf_counter() - t0
            log.append(
                {"step": step, "loss": loss.item(), "tokens_per_s": float(lengths[index].sum()) / seconds}
            )
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps:
            _save_state(root, step + 1, prior, opt, cfg)
    return save_prior(prior.eval(), out / "prior")
