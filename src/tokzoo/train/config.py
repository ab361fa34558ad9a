"""Training configuration: a dataclass, loadable from YAML, with ``key=value`` overrides."""

from __future__ import annotations

import dataclasses
import reprlib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tokzoo.core.errors import ConfigError

PIXEL_LOSSES = ("model", "mse", "l1", "mse+l1", "msssim")


@dataclass
class TrainConfig:
    """Everything a training run needs; saved beside its checkpoints so a run can be resumed."""

    model: str = "vq-f8-s"
    model_overrides: dict[str, Any] = field(default_factory=dict)
    init: str = (
        ""  # start from these weights: a checkpoint folder or "pretrained:NAME" (model = its tokenizer)
    )
    init_partial: bool = False  # init from another architecture: copy the tensors whose name and shape match
    data: str = "bundled:train"  # "bundled:<split>", a folder, or "shards:<brace pattern>"
    image_size: int = 64
    crop_scale: tuple[float, float] = (0.25, 1.0)
    hflip: bool = True
    rgb_permute: bool = False  # shuffle colour channels (helps tiny, colour-skewed training sets)
    batch_size: int = 16
    max_steps: int = 500
    lr: float = 1e-3
    warmup_steps: int = 50
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.99)
    grad_clip: float = 1.0
    seed: int = 0
    out_dir: str = "runs/train"
    ckpt_every: int = 100
    keep_checkpoints: int = 2
    log_every: int = 10
    num_workers: int = 0
    mixed_precision: str = "no"  # "no" | "fp16" | "bf16" (HF Accelerate)
    device: str = "auto"  # "auto" (GPU when available) | "cpu"
    progress: bool = True
    # The full recipe (tokzoo.train.objective); the defaults train with the tokenizer's own loss only.
    pixel_loss: str = "model"  # "model" (the tokenizer's own loss) | mse | l1 | mse+l1 | msssim
    perceptual_weight: float = 0.0  # LPIPS; off (one log line) when its weights are not on disk
    gan_weight: float = 0.0  # PatchGAN hinge loss; 0 = no discriminator
    gan_start: int = 0  # optimizer step at which the discriminator and its loss turn on
    gan_adaptive: bool = True  # VQGAN's adaptive weight (gradient-norm ratio at the decoder's last layer)
    disc_lr: float = 0.0  # discriminator learning rate; 0 = lr
    disc_ch: int = 64
    disc_layers: int = 3
    ema_decay: float = 0.0  # weight EMA (saved beside the raw weights, used for evaluation); 0 = off
    grad_checkpointing: bool = False  # recompute block activations in backward (GPU memory)
    size_schedule: list[list[int]] = field(default_factory=list)  # progressive crops: [[step, size], ...]
    # Joint image-video training (tokzoo.train.joint): images (an image data spec) mixed into a video run.
    image_data: str = ""
    image_steps: int = 0  # stage 1: the first image_steps steps train on images only
    image_every: int = 0  # stage 2: every image_every-th step is an image batch (0: none; else >= 2)
    image_batch_size: int = 0  # 0: batch_size

    def __post_init__(self) -> None:
        checks = [
            (1 <= self.image_size <= 8192, "image_size must be in [1, 8192]"),
            (1 <= self.batch_size <= 65536, "batch_size must be in [1, 65536]"),
            (self.max_steps >= 0, "max_steps must be >= 0"),
            (self.warmup_steps >= 0, "warmup_steps must be >= 0"),
            (self.ckpt_every >= 1, "ckpt_every must be >= 1"),
            (self.log_every >= 1, "log_every must be >= 1"),
            (self.keep_checkpoints >= 1, "keep_checkpoints must be >= 1"),
            (self.num_workers >= 0, "num_workers must be >= 0"),
            (self.lr > 0, "lr must be > 0"),
            (0 <= self.min_lr_ratio <= 1, "min_lr_ratio must be in [0, 1]"),
            (len(self.crop_scale) == 2 and 0 < self.crop_scale[0] <= self.crop_scale[1], "crop_scale must be [min, max] with 0 < min <= max"),
            (len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas), "betas must be two values in [0, 1)"),
            (self.mixed_precision in ("no", "fp16", "bf16"), "mixed_precision must be one of no, fp16, bf16"),
            (self.device in ("auto", "cpu"), "device must be 'auto' or 'cpu'"),
            (self.pixel_loss in PIXEL_LOSSES, f"pixel_loss must be one of {', '.join(PIXEL_LOSSES)}"),
            (self.perceptual_weight >= 0, "perceptual_weight must be >= 0"),
            (self.gan_weight >= 0, "gan_weight must be >= 0"),
            (self.gan_start >= 0, "gan_start must be >= 0"),
            (self.disc_lr >= 0, "disc_lr must be >= 0"),
            (self.disc_ch >= 4 and 1 <= self.disc_layers <= 6, "disc_ch must be >= 4 and disc_layers in [1, 6]"),
            (0 <= self.ema_decay < 1, "ema_decay must be in [0, 1)"),
            (
                self.pixel_loss != "model" or (self.perceptual_weight == 0 and self.gan_weight == 0),
                "pixel_loss must name a pixel loss (mse, l1, mse+l1, msssim) when perceptual_weight or gan_weight is set",
            ),
            (
                all(len(e) == 2 and e[0] >= 0 and e[1] >= 1 for e in self.size_schedule)
                and [e[0] for e in self.size_schedule] == sorted({e[0] for e in self.size_schedule}),
                "size_schedule must be [[step, size], ...] with increasing steps >= 0 and sizes >= 1",
            ),
            (self.image_steps >= 0 and self.image_batch_size >= 0, "image_steps and image_batch_size must be >= 0"),
            (self.image_every == 0 or self.image_every >= 2, "image_every must be 0 (no image batches after image_steps) or >= 2"),
            (
                bool(self.image_data) or (self.image_steps == 0 and self.image_every == 0),
                "image_data must name an image data set (e.g. bundled:train) when image_steps or image_every is set",
            ),
        ]  # fmt: skip
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"{message} (got {_shown(getattr(self, message.split()[0]))})")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_HINTS = typing.get_type_hints(TrainConfig)
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 2, 4, 4, 60, 60


def _shown(value: Any) -> str:
    """A short repr for error messages (a YAML alias bomb's repr would be exponentially long)."""
    return _REPR.repr(value)


def _coerce(key: str, value: Any) -> Any:
    """Convert a YAML value to the declared type of ``key``; raise ConfigError on a mismatch."""
    hint = _HINTS[key]
    origin = typing.get_origin(hint)
    ok: bool
    if hint is float and not isinstance(value, bool) and isinstance(value, (int, str)):
        try:  # YAML 1.1 reads "5e-4" as a string; accept anything float() parses
            return float(value)
        except ValueError:
            raise ConfigError(f"config key {key!r} expects a number, got {_shown(value)}") from None
    if origin is list:
        ok = isinstance(value, list) and all(
            isinstance(e, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in e)
            for e in value
        )
    elif origin is tuple:
        if isinstance(value, (list, tuple)):
            args = typing.get_args(hint)
            try:
                return tuple(float(v) if args[0] is float else v for v in value)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"config key {key!r} expects a list of numbers, got {_shown(value)}"
                ) from None
        ok = False
    elif origin is dict:
        ok = isinstance(value, dict)
    elif hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, hint)
    if not ok:
        raise ConfigError(f"config key {key!r} expects {hint}, got {_shown(value)}")
    return value


def apply_overrides(cfg: TrainConfig, items: dict[str, Any]) -> TrainConfig:
    """Return a copy of ``cfg`` with ``items`` set; ``model_overrides.x`` keys set one model option."""
    values = cfg.to_dict()
    for key, value in items.items():
        if key.startswith("model_overrides."):
            values["model_overrides"] = {**values["model_overrides"], key.split(".", 1)[1]: value}
            continue
        if key not in _HINTS:
            raise ConfigError(f"unknown config key {key!r}; valid keys: {', '.join(_HINTS)}")
        values[key] = _coerce(key, value)
    return TrainConfig(**values)


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Parse ``["lr=3e-4", "model_overrides.codebook_size=512"]`` with YAML scalar typing."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"override {pair!r} is not of the form key=value")
        key, raw = pair.split("=", 1)
        out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
    return out


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """Defaults, then the YAML file at ``path`` (if any), then ``key=value`` overrides."""
    return apply_overrides(TrainConfig(), read_items(path, overrides))


def read_items(path: str | Path | None = None, overrides: list[str] | None = None) -> dict[str, Any]:
    """The keys set explicitly: the YAML file at ``path`` (if any), then ``key=value`` overrides."""
    items: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text())
        except OSError as e:
            raise ConfigError(f"{path}: cannot read config ({e.strerror or e})") from e
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not a text (YAML) file") from None
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: invalid YAML ({e})") from e
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: top level must be a mapping of config keys")
        items.update(loaded or {})
    items.update(parse_overrides(overrides or []))
    return items
