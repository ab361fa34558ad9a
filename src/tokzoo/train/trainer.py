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

from tokzoo.core.api import load
from tokzoo.core.errors import CheckpointError, ConfigError, NonFiniteLossError
from tokzoo.core.modality import get_modality
from tokzoo.core.protocols import Trainable, unsupported
from tokzoo.core.registry import create
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.data import StreamBatchSampler
from tokzoo.nn import set_grad_checkpointing
from tokzoo.train.config import TrainConfig
from tokzoo.train.ema import EMA
from tokzoo.train.joint import DATA, IMAGE, source_at, source_steps
from tokzoo.train.logger import RunLogger
from tokzoo.train.objective import ImageObjective
from tokzoo.train.resume import check_resumable
from tokzoo.train.state import (
    TrainExtras,
    list_checkpoints,
    load_training_state,
    prune_checkpoints,
    save_training_state,
)

log = logging.getLogger("tokzoo.train")
StepCallback = Callable[[int, dict[str, float]], None]


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to ``lr`` then cosine decay to ``lr * min_lr_ratio`` at ``max_steps``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    span = max(1, cfg.max_steps - cfg.warmup_steps)
    t = min(1.0, (step - cfg.warmup_steps) / span)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


def _initial_model(cfg: TrainConfig) -> Tokenizer:
    """A fresh ``cfg.model``, or the weights of ``cfg.init`` (fine-tuning; its tokenizer must be ``cfg.model``).

    With ``cfg.init_partial`` the init checkpoint may be another architecture: a fresh ``cfg.model`` takes every
    tensor whose name and shape match (e.g. a 32-code FSQ grid from the 1,000-code one: all but the quantizer's
    projections), and the rest keep their fresh initialisation; the log line says how much was transferred.
    """
    if not cfg.init:
        return create(cfg.model, **cfg.model_overrides)
    source = load(cfg.init)
    if cfg.init_partial:
        model = create(cfg.model, **cfg.model_overrides)
        copied, fresh = transfer_matching(source, model)
        log.info(
            "initialised %.1f %% of %s's parameters from %s; fresh: %s",
            100 * copied, cfg.model, cfg.init, ", ".join(fresh) or "none",
        )  # fmt: skip
        return model.train()
    if source.registry_name != cfg.model or cfg.model_overrides:
        raise ConfigError(
            f"init {cfg.init} is a {source.registry_name} checkpoint: set model={source.registry_name} and no "
            "model_overrides (the weights fix the architecture), or init_partial=true to copy what matches"
        )
    log.info("initialised from %s", cfg.init)
    return source.train()


def transfer_matching(source: torch.nn.Module, target: torch.nn.Module) -> tuple[float, list[str]]:
    """Copy into ``target`` every tensor of ``source`` with the same name and shape, then let modules that can
    warm-start from a differently shaped source module do so (``adopt``; e.g. ``KLBottleneck`` from FSQ).

    Returns the share of ``target``'s parameter and buffer elements copied and the names left fresh; raises
    ConfigError when nothing matches (the two models have nothing in common, so "init" would be a no-op).
    """
    src = source.state_dict()
    dst = target.state_dict()
    matched = {k: v for k, v in src.items() if k in dst and dst[k].shape == v.shape}
    if not matched:
        raise ConfigError(
            f"init_partial: no tensor of the init checkpoint ({type(source).__name__}) matches "
            f"{type(target).__name__} by name and shape"
        )
    target.load_state_dict(matched, strict=False)
    adopted = _adopt_modules(source, target)
    total = sum(v.numel() for v in dst.values())
    done = set(matched) | set(adopted)
    fresh = [k for k in dst if k not in done]
    return sum(dst[k].numel() for k in done) / max(1, total), fresh


def _adopt_modules(source: torch.nn.Module, target: torch.nn.Module) -> list[str]:
    """Let each target module with an ``adopt(source_module)`` method (e.g. a KL bottleneck replacing an FSQ
    one) warm-start from the source module of the same name; returns the full names of the tensors it set."""
    src_modules = dict(source.named_modules())
    names: list[str] = []
    for name, module in target.named_modules():
        adopt = getattr(module, "adopt", None)
        if callable(adopt) and name in src_modules:
            names += [f"{name}.{t}" if name else t for t in adopt(src_modules[name])]
    return names


def size_at(step: int, cfg: TrainConfig) -> int:
    """Crop size at ``step``: ``image_size``, then each ``size_schedule`` entry [start, size] from its start."""
    size = cfg.image_size
    for start, value in cfg.size_schedule:
        if step >= start:
            size = value
    return size


class Trainer:
    """Train a registered :class:`~tokzoo.core.protocols.Trainable` tokenizer from a ``TrainConfig``.

    ``model`` and ``dataset`` default to ``tokzoo.create(cfg.model, **cfg.model_overrides)`` and the dataset its
    modality plugin builds from ``cfg.data`` (images: random crops; rebuilt at each ``size_schedule`` stage;
    a given ``dataset`` is used throughout); ``callbacks`` are called as ``cb(step, logs)`` after every
    optimizer step.

    With ``pixel_loss`` other than ``model`` the step runs the full recipe (``ImageObjective``: pixel,
    perceptual and PatchGAN losses, the discriminator with its own AdamW); ``ema_decay`` keeps an EMA of the
    weights. Discriminator, its optimizer and the EMA are checkpointed and resumed with the rest. With
    ``image_data`` a video tokenizer trains progressively on images, then images and clips (``tokzoo.train.joint``).
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
        self.model = model if model is not None else _initial_model(cfg)
        if not isinstance(self.model, Trainable):
            raise ConfigError(unsupported(self.model, "train"))
        if cfg.grad_checkpointing:
            set_grad_checkpointing(self.model)
        self.dataset = dataset
        self._fixed_dataset = dataset is not None
        self.callbacks = list(callbacks)
        self.step = 0
        self.objective = None
        if cfg.pixel_loss != "model":
            self.objective = ImageObjective(
                cfg.pixel_loss, perceptual_weight=cfg.perceptual_weight, gan_weight=cfg.gan_weight,
                gan_start=cfg.gan_start, adaptive=cfg.gan_adaptive, disc_ch=cfg.disc_ch, disc_layers=cfg.disc_layers,
            )  # fmt: skip
        self.ema = EMA(self.model, cfg.ema_decay) if cfg.ema_decay > 0 else None

    @property
    def is_main(self) -> bool:
        return self.accelerator.is_main_process

    def _optimizer(self) -> torch.optim.Optimizer:
        c = self.cfg
        return torch.optim.AdamW(self.model.parameters(), lr=c.lr, betas=c.betas, weight_decay=c.weight_decay)

    def _disc_optimizer(self) -> torch.optim.Optimizer | None:
        disc = self.objective.discriminator if self.objective is not None else None
        if disc is None:
            return None
        return torch.optim.AdamW(disc.parameters(), lr=self.cfg.disc_lr or self.cfg.lr, betas=(0.5, 0.9))

    def _extras(self, disc_optimizer: torch.optim.Optimizer | None) -> TrainExtras:
        disc = self.objective.discriminator if self.objective is not None else None
        return TrainExtras(discriminator=disc, disc_optimizer=disc_optimizer, ema=self.ema)

    def _loader(self, acc: Accelerator, source: str = DATA) -> DataLoader:
        """Batches of ``source`` (``data``, or the ``image_data`` of joint training) from ``self.step`` on, at
        the crop size of the current stage."""
        cfg = self.cfg
        size = size_at(self.step, cfg)
        opts = {"scale": cfg.crop_scale, "seed": cfg.seed, "hflip": cfg.hflip, "rgb_permute": cfg.rgb_permute}
        if source == IMAGE:
            dataset = get_modality("image").dataset(cfg.image_data, size, **opts)
            batch_size = cfg.image_batch_size or cfg.batch_size
        else:
            if not self._fixed_dataset:
                # a model may say what its samples must hold (e.g. the points a distance field trains on)
                opts |= getattr(self.model, "dataset_options", dict)()
                self.dataset = get_modality(self.model.modality).dataset(cfg.data, size, **opts)
            dataset, batch_size = self.dataset, cfg.batch_size
        sampler = StreamBatchSampler(
            len(dataset), batch_size, seed=cfg.seed, start_step=source_steps(self.step, cfg, source),
            rank=acc.process_index, world_size=acc.num_processes,
        )  # fmt: skip
        # An explicit generator: otherwise iter(loader) draws from the global RNG, which a resumed run has
        # just restored, shifting every later random draw (e.g. codebook restarts) by one.
        return DataLoader(
            dataset, batch_sampler=sampler, num_workers=cfg.num_workers, generator=torch.Generator()
        )

    def _batches(self, acc: Accelerator) -> dict[str, Any]:
        """One batch iterator per source the run draws from (``data``, and ``image`` in joint training)."""
        sources = [DATA, IMAGE] if self.cfg.image_data else [DATA]
        return {source: iter(self._loader(acc, source)) for source in sources}

    def _resume_point(self) -> Path | None:
        ckpts = list_checkpoints(self.ckpt_root)
        return ckpts[-1][1] if ckpts else None

    def fit(self, *, resume: bool = False) -> dict[str, float]:
        """Run until ``cfg.max_steps``; with ``resume`` continue from the newest checkpoint in ``out_dir``."""
        cfg, acc = self.cfg, self.accelerator
        optimizer, disc_optimizer = self._optimizer(), self._disc_optimizer()
        extras = self._extras(disc_optimizer)
        point = self._resume_point()
        if resume:
            if point is None:
                raise CheckpointError(f"--resume: no checkpoint under {self.ckpt_root}")
            check_resumable(point, cfg)
            self.step = load_training_state(point, self.model, optimizer, extras)
            if self.is_main:
                print(f"resumed from step {self.step} ({point})", file=sys.stderr)
        elif point is not None:
            raise CheckpointError(
                f"{self.out_dir} already holds checkpoints of an earlier run (newest {point.name}); "
                "pass --resume to continue it, or choose another out_dir"
            )
        if self.step >= cfg.max_steps:
            log.info("nothing to do: step %d >= max_steps %d", self.step, cfg.max_steps)
        batches = self._batches(acc)
        model, optimizer = acc.prepare(self.model, optimizer)
        disc = None
        if disc_optimizer is not None:
            disc, disc_optimizer = acc.prepare(self.objective.discriminator, disc_optimizer)
            extras.disc_optimizer = disc_optimizer
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
            while self.step < cfg.max_steps:
                if size_at(self.step, cfg) != size_at(self.step - 1, cfg) and self.step > 0:
                    batches = self._batches(acc)  # a new crop-size stage starts at this step
                t0 = time.perf_counter()
                source = source_at(self.step, cfg)
                batch = next(batches[source]).to(acc.device)
                last = self._train_step(model, optimizer, batch, disc, disc_optimizer)
                self.step += 1
                size = cfg.image_batch_size or cfg.batch_size if source == IMAGE else cfg.batch_size
                last["imgs_per_s"] = size * acc.num_processes / (time.perf_counter() - t0)
                if cfg.image_data:
                    last["image_batch"] = float(source == IMAGE)
                bar.update(1)
                bar.set_postfix(
                    loss=f"{last['loss']:.4f}", psnr=f"{last.get('psnr', float('nan')):.2f}", refresh=False
                )
                if logger is not None and (self.step % cfg.log_every == 0 or self.step == cfg.max_steps):
                    logger.log(self.step, last)
                if self.step % cfg.ckpt_every == 0 or self.step == cfg.max_steps:
                    self._checkpoint(optimizer, extras)
                for cb in self.callbacks:
                    cb(self.step, last)
        finally:
            bar.close()
            if logger is not None:
                logger.close()
        if self.is_main:
            self._save_final(acc.unwrap_model(model))
        acc.wait_for_everyone()
        return last

    def _save_final(self, model: Tokenizer) -> None:
        """``model/``: the weights to evaluate (the EMA when on; the raw ones are then in ``model_raw/``)."""
        if self.ema is None:
            model.save_pretrained(self.out_dir / "model")
            return
        model.save_pretrained(self.out_dir / "model_raw")
        raw = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.ema.copy_to(model).save_pretrained(self.out_dir / "model")
        model.load_state_dict(raw)

    def _train_step(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        batch: torch.Tensor,
        disc: torch.nn.Module | None = None,
        disc_optimizer: torch.optim.Optimizer | None = None,
    ) -> dict:
        cfg, acc = self.cfg, self.accelerator
        for g in optimizer.param_groups:
            g["lr"] = lr_at(self.step, cfg)
        model.train()
        if self.objective is None:
            loss, logs = model(batch)
            rec = None
        else:
            out = model(batch, autoencode=True)
            last_layer = acc.unwrap_model(model).last_layer()
            loss, logs = self.objective.generator_loss(out, batch, self.step, last_layer, disc)
            rec = out.rec
        self._check_finite(loss, "loss")
        optimizer.zero_grad(set_to_none=True)
        acc.backward(loss)
        grad_norm = acc.clip_grad_norm_(model.parameters(), cfg.grad_clip) if cfg.grad_clip > 0 else None
        if grad_norm is not None and not torch.isfinite(grad_norm):
            raise NonFiniteLossError(f"gradient norm is {grad_norm.item()} at step {self.step + 1}; stopping")
        optimizer.step()
        if self.ema is not None:
            self.ema.update(acc.unwrap_model(model), self.step)
        out_logs = {"loss": loss.item(), "lr": optimizer.param_groups[0]["lr"]}
        if rec is not None and disc is not None and self.objective.gan_active(self.step):
            for g in disc_optimizer.param_groups:
                g["lr"] = lr_at(self.step, cfg) * (cfg.disc_lr or cfg.lr) / cfg.lr
            d_loss, d_logs = self.objective.discriminator_loss(rec, batch, disc)
            self._check_finite(d_loss, "discriminator loss")
            disc_optimizer.zero_grad(set_to_none=True)
            acc.backward(d_loss)
            if cfg.grad_clip > 0:
                acc.clip_grad_norm_(disc.parameters(), cfg.grad_clip)
            disc_optimizer.step()
            logs.update(d_logs)
        out_logs.update({k: float(v) for k, v in logs.items()})
        if grad_norm is not None:
            out_logs["grad_norm"] = float(grad_norm)
        return out_logs

    def _check_finite(self, loss: torch.Tensor, what: str) -> None:
        acc = self.accelerator
        bad = torch.tensor([0.0 if torch.isfinite(loss) else 1.0], device=acc.device)
        if acc.reduce(bad, reduction="sum").item() > 0:  # every rank stops together
            raise NonFiniteLossError(
                f"{what} is {loss.item()} at step {self.step + 1}; stopping before the optimizer step "
                f"(last good checkpoint: {self._resume_point() or 'none'}). Lower the lr or check the data."
            )

    def _checkpoint(self, optimizer: torch.optim.Optimizer, extras: TrainExtras) -> None:
        acc = self.accelerator
        acc.wait_for_everyone()
        if self.is_main:
            model = acc.unwrap_model(self.model)
            save_training_state(self.ckpt_root, self.step, model, optimizer, self.cfg.to_dict(), extras)
            prune_checkpoints(self.ckpt_root, self.cfg.keep_checkpoints)
        acc.wait_for_everyone()


def train(cfg: TrainConfig, *, resume: bool = False, **kwargs: Any) -> dict[str, float]:
    """Convenience wrapper: ``Trainer(cfg, **kwargs).fit(resume=resume)``."""
    return Trainer(cfg, **kwargs).fit(resume=resume)
