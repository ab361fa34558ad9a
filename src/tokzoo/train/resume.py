"""What ``--resume`` may change: every ``TrainConfig`` key is either invariant or allowed to change with a note.

Invariant keys change what the run computes (model, data, batches, optimizer, schedule shape): a resume that
changes one is refused, naming it. The others may change; each change is logged. ``resume_config`` gives the
stored config of a run with only the explicitly given keys applied, so ``--resume`` alone (without repeating
the original overrides) continues the run as it was started, not with defaults.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from tokzoo.core.errors import CheckpointError, ConfigError
from tokzoo.train.config import TrainConfig, apply_overrides
from tokzoo.train.state import STATE_JSON, list_checkpoints

__all__ = ["RESUME_INVARIANT", "RESUME_MAY_CHANGE", "check_resumable", "resume_config", "stored_config"]

log = logging.getLogger("tokzoo.train")

RESUME_INVARIANT = (
    "model", "model_overrides", "init", "init_partial", "data", "image_size", "crop_scale", "hflip", "rgb_permute", "batch_size",
    "seed", "size_schedule", "lr", "warmup_steps", "min_lr_ratio", "weight_decay", "betas", "grad_clip",
    "mixed_precision", "pixel_loss", "perceptual_weight", "gan_weight", "gan_start", "gan_adaptive", "disc_lr",
    "disc_ch", "disc_layers", "ema_decay", "image_data", "image_steps", "image_every", "image_batch_size",
)  # fmt: skip
#: May change on resume, each with a note: ``max_steps`` extends or shortens the run (the cosine schedule after
#: the resumed step follows the new value); the rest do not change the losses (``grad_checkpointing`` only
#: trades memory for time).
RESUME_MAY_CHANGE = (
    "max_steps", "out_dir", "ckpt_every", "keep_checkpoints", "log_every", "num_workers", "device", "progress",
    "grad_checkpointing",
)  # fmt: skip


def stored_config(checkpoint: Path) -> dict[str, Any]:
    """The train config a checkpoint was written with (from its ``trainer_state.json``)."""
    try:
        saved = json.loads((checkpoint / STATE_JSON).read_text())["train_config"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{checkpoint}: unreadable train config in {STATE_JSON} ({e})") from None
    if not isinstance(saved, dict):
        raise CheckpointError(f"{checkpoint}: train config in {STATE_JSON} is not a mapping")
    return saved


def resume_config(items: dict[str, Any]) -> TrainConfig:
    """The config to resume with: the newest checkpoint's stored config under the ``out_dir`` that ``items``
    names (or the default), with ``items`` (the YAML file's keys and ``key=value`` overrides) applied."""
    out_dir = Path(str(items.get("out_dir", TrainConfig.out_dir)))
    ckpts = list_checkpoints(out_dir / "checkpoints")
    if not ckpts:
        raise CheckpointError(f"--resume: no checkpoint under {out_dir / 'checkpoints'}")
    saved = stored_config(ckpts[-1][1])
    known = {k: v for k, v in saved.items() if k in TrainConfig.__dataclass_fields__}
    return apply_overrides(TrainConfig(), {**known, **items, "out_dir": str(out_dir)})


def check_resumable(checkpoint: Path, cfg: TrainConfig) -> list[str]:
    """Refuse to resume ``checkpoint`` with a config that changes an invariant key; return a note (also logged)
    for each allowed change."""
    saved = stored_config(checkpoint)
    now = cfg.to_dict()
    changed = [k for k in now if k in saved and _norm(saved[k]) != _norm(now[k])]
    refused = [k for k in changed if k not in RESUME_MAY_CHANGE]
    if refused:
        diffs = ", ".join(f"{k}: {saved[k]!r} -> {now[k]!r}" for k in refused)
        raise ConfigError(
            f"cannot resume {checkpoint}: the run was started with other settings ({diffs}); "
            "resume without them, or start a new out_dir"
        )
    notes = [f"resume: {k} changed from {saved[k]!r} to {now[k]!r}" for k in changed]
    for note in notes:
        log.warning(note)
    return notes


def _norm(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
