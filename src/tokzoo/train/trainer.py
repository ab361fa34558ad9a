"""The training loop, on HF Accelerate: the same code on CPU, one GPU, or ``accelerate launch``/``torchrun``.

Determinism and resume: the batch at global step ``s`` is a pure function of (seed, s) (see
``tokzoo.data.StreamBatchSampler``), and checkpoints hold the model, optimizer moments and RNG states, so a
killed run resumed from its last checkpoint continues with the same batches and the same losses.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import yaml
from accelerate import Accelerator
from accelerate.utils import set_seed
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from tokzoo.core.errors import CheckpointError, NonFiniteLossError
from tokzoo.core.registry import create
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.data import StreamBatchSampler
from tokzoo.train.config import TrainConfig, check_resumable
from tokzoo.train.data import build_crop_dataset
from tokzoo.train.logger import RunLogger
from tokzoo.train.state import list_checkpoints, load_training_state, prune_checkpoints, save_training_state

log = logging.getLogger("tokzoo.train")
StepCallback = Callable[[int, dict[str, float]], None]


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to ``lr`` then cosine decay to ``lr * min_lr_ratio`` at ``max_steps``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    span = max(1, cfg.max_steps - cfg.warmup_steps)
    t = min(1.0, (step - cfg.warmup_steps) / span)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


class Trainer:
    """Train a registered tokenizer from a ``TrainConfig``.

    ``model`` and ``dataset`` default to ``tokzoo.create(cfg.model, **cfg.model_overrides)`` and random crops of
    ``cfg.data``; ``callbacks`` are called as ``cb(step, logs)`` after every optimizer step.
    """

    def __init__(
        self,
        cfg: TrainConfig,
        *,
        model: Tokenizer | None = None,
        dataset: Dataset | None = None,
        callbacks: Sequence[StepCallback] = (),
    ) -> None:
        self.cfg = cfg
        self.out_dir = Path(cfg.out_dir)
        self.ckpt_root = self.out_dir / "checkpoints"
        # Accelerate only sets up multi-process CPU (gloo) runs when told cpu=True.
        cpu = cfg.device == "cpu" or (cfg.device == "auto" and not torch.cuda.is_available())
        self.accelerator = Accelerator(mixed_precision=cfg.mixed_precision, cpu=cpu)
        set_seed(cfg.seed)
        self.model = model if model is not None else create(cfg.model, **cfg.model_overrides)
        self.dataset = dataset
        self.callbacks = list(callbacks)
        self.step = 0

    @property
    def is_main(self) -> bool:
        return self.accelerator.is_main_process

    def _optimizer(self) -> torch.optim.Optimizer:
        c = self.cfg
        return torch.optim.AdamW(self.model.parameters(), lr=c.lr, betas=c.betas, weight_decay=c.weight_decay)

    def _resume_point(self) -> Path | None:
        ckpts = list_checkpoints(self.ckpt_root)
        return ckpts[-1][1] if ckpts else None

    def fit(self, *, resume: bool = False) -> dict[str, float]:
        """Run until ``cfg.max_steps``; with ``resume`` continue from the newest checkpoint in ``out_dir``."""
        cfg, acc = self.cfg, self.accelerator
        optimizer = self._optimizer()
        point = self._resume_point()
        if resume:
            if point is None:
                raise CheckpointError(f"--resume: no checkpoint under {self.ckpt_root}")
            check_resumable(point, cfg)
            self.step = load_training_state(point, self.model, optimizer)
            log.info("resumed from %s (step %d)", point, self.step)
        elif point is not None:
            raise CheckpointError(
                f"{self.out_dir} already holds checkpoints of an earlier run (newest {point.name}); "
                "pass --resume to continue it, or choose another out_dir"
            )
        if self.step >= cfg.max_steps:
            log.info("nothing to do: step %d >= max_steps %d", self.step, cfg.max_steps)
        if self.dataset is None:
            self.dataset = build_crop_dataset(
                cfg.data,
                cfg.image_size,
                scale=cfg.crop_scale,
                seed=cfg.seed,
                hflip=cfg.hflip,
                rgb_permute=cfg.rgb_permute,
            )
        sampler = StreamBatchSampler(
            len(self.dataset), cfg.batch_size, seed=cfg.seed, start_step=self.step,
            rank=acc.process_index, world_size=acc.num_processes,
        )  # fmt: skip
        # An explicit generator: otherwise iter(loader) draws from the global RNG, which a resumed run has
        # just restored, shifting every later random draw (e.g. codebook restarts) by one.
        loader = DataLoader(
            self.dataset, batch_sampler=sampler, num_workers=cfg.num_workers, generator=torch.Generator()
        )
        model, optimizer = acc.prepare(self.model, optimizer)
        logger = None
        if self.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            (self.out_dir / "train_config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
            logger = RunLogger(self.out_dir, resume_step=self.step if resume else None)
        bar = tqdm(
            total=cfg.max_steps, initial=self.step, unit="step", disable=not (self.is_main and cfg.progress),
            mininterval=0.5 if sys.stderr.isatty() else 15.0,  # keep logs of non-interactive runs short
        )  # fmt: skip
        last: dict[str, float] = {}
        try:
            batches = iter(loader)
            while self.step < cfg.max_steps:
                t0 = time.perf_counter()
                batch = next(batches).to(acc.device)
                last = self._train_step(model, optimizer, batch)
                self.step += 1
                last["imgs_per_s"] = cfg.batch_size * acc.num_processes / (time.perf_counter() - t0)
                bar.update(1)
                bar.set_postfix(
                    loss=f"{last['loss']:.4f}", psnr=f"{last.get('psnr', float('nan')):.2f}", refresh=False
                )
                if logger is not None and (self.step % cfg.log_every == 0 or self.step == cfg.max_steps):
                    logger.log(self.step, last)
                if self.step % cfg.ckpt_every == 0 or self.step == cfg.max_steps:
                    self._checkpoint(optimizer)
                for cb in self.callbacks:
                    cb(self.step, last)
        finally:
            bar.close()
            if logger is not None:
                logger.close()
        if self.is_main:
            acc.unwrap_model(model).save_pretrained(self.out_dir / "model")
        acc.wait_for_everyone()
        return last

    def _train_step(
        self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: torch.Tensor
    ) -> dict:
        cfg, acc = self.cfg, self.accelerator
        for g in optimizer.param_groups:
            g["lr"] = lr_at(self.step, cfg)
        model.train()
        loss, logs = model(batch)
        bad = torch.tensor([0.0 if torch.isfinite(loss) else 1.0], device=acc.device)
        if acc.reduce(bad, reduction="sum").item() > 0:  # every rank stops together
            raise NonFiniteLossError(
                f"loss is {loss.item()} at step {self.step + 1}; stopping before the optimizer step "
                f"(last good checkpoint: {self._resume_point() or 'none'}). Lower the lr or check the data."
            )
        optimizer.zero_grad(set_to_none=True)
        acc.backward(loss)
        grad_norm = acc.clip_grad_norm_(model.parameters(), cfg.grad_clip) if cfg.grad_clip > 0 else None
        if grad_norm is not None and not torch.isfinite(grad_norm):
            raise NonFiniteLossError(f"gradient norm is {grad_norm.item()} at step {self.step + 1}; stopping")
        optimizer.step()
        out = {"loss": loss.item(), "lr": optimizer.param_groups[0]["lr"]}
        out.update({k: float(v) for k, v in logs.items()})
        if grad_norm is not None:
            out["grad_norm"] = float(grad_norm)
        return out

    def _checkpoint(self, optimizer: torch.optim.Optimizer) -> None:
        acc = self.accelerator
        acc.wait_for_everyone()
        if self.is_main:
            model = acc.unwrap_model(self.model)
            save_training_state(self.ckpt_root, self.step, model, optimizer, self.cfg.to_dict())
            prune_checkpoints(self.ckpt_root, self.cfg.keep_checkpoints)
        acc.wait_for_everyone()


def train(cfg: TrainConfig, *, resume: bool = False, **kwargs: Any) -> dict[str, float]:
    """Convenience wrapper: ``Trainer(cfg, **kwargs).fit(resume=resume)``."""
    return Trainer(cfg, **kwargs).fit(resume=resume)
