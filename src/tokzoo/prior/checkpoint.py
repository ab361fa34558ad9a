"""Prior checkpoints: a folder with ``config.json`` (format ``tokzoo-prior``) and ``model.safetensors``.

Written atomically (:func:`tokzoo.core.atomic.atomic_directory`); loading reads safetensors only (never
unpickles, :func:`tokzoo.core.checkpoint.read_safetensors`).
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import save as st_save
from torch import nn

from tokzoo.core.atomic import atomic_directory
from tokzoo.core.checkpoint import read_safetensors
from tokzoo.core.errors import CheckpointError
from tokzoo.prior.ar import ARPrior
from tokzoo.prior.config import PriorConfig
from tokzoo.prior.maskgit import MaskGITPrior

__all__ = [
    "FORMAT",
    "Prior",
    "build_prior",
    "count_parameters",
    "load_prior",
    "save_prior",
    "write_prior_files",
]

FORMAT = "tokzoo-prior"
Prior = ARPrior | MaskGITPrior


def build_prior(cfg: PriorConfig) -> Prior:
    """A fresh prior of ``cfg.kind``."""
    return ARPrior(cfg) if cfg.kind == "ar" else MaskGITPrior(cfg)


def write_prior_files(prior: Prior, folder: Path) -> None:
    """``config.json`` and ``model.safetensors`` of ``prior`` into an existing ``folder``."""
    state = {k: v.detach().cpu().contiguous() for k, v in prior.state_dict().items()}
    (folder / "model.safetensors").write_bytes(st_save(state))
    config = {"format": FORMAT, "format_version": 1, "config": prior.cfg.to_dict()}
    (folder / "config.json").write_text(json.dumps(config, indent=1))


def save_prior(prior: Prior, folder: str | Path) -> Path:
    """Write ``prior`` to ``folder`` atomically; returns the folder."""
    folder = Path(folder)
    with atomic_directory(folder) as tmp:
        write_prior_files(prior, tmp)
    return folder


def load_prior(folder: str | Path) -> Prior:
    """The prior saved in ``folder`` (in eval mode); ``CheckpointError`` when it is not a prior checkpoint."""
    folder = Path(folder)
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{folder}: no readable prior config.json ({e})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{folder}: not a prior checkpoint (config.json format is not {FORMAT!r})")
    prior = build_prior(PriorConfig.from_dict(config["config"]))
    try:
        prior.load_state_dict(read_safetensors(folder / "model.safetensors"))
    except RuntimeError as e:
        raise CheckpointError(
            f"{folder}: weights do not match the config ({str(e).splitlines()[0]})"
        ) from None
    return prior.eval()


def count_parameters(prior: nn.Module) -> int:
    """Number of parameters."""
    return sum(p.numel() for p in prior.parameters())
