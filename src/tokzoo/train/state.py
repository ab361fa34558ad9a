"""Training-state checkpoints without pickle: tensors in safetensors, everything else in JSON.

A checkpoint folder ``step_XXXXXXXX`` holds the model (``config.json`` + ``model.safetensors``, loadable with
``tokzoo.load``), ``train_state.safetensors`` (optimizer moments, torch RNG) and ``trainer_state.json`` (step,
train config, optimizer hyper-parameters, Python/NumPy RNG). It is written to a hidden folder and renamed
into place, so a crash never leaves a half-written checkpoint behind.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save as st_save

from tokzoo.core.atomic import atomic_directory
from tokzoo.core.checkpoint import read_safetensors, write_model_files
from tokzoo.core.errors import CheckpointError
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.train.ema import EMA

STEP_DIR = re.compile(r"^step_(\d{8})$")
STATE_TENSORS = "train_state.safetensors"
STATE_JSON = "trainer_state.json"


@dataclass
class TrainExtras:
    """State beyond the tokenizer and its optimizer: the discriminator, its optimizer and the weight EMA."""

    discriminator: torch.nn.Module | None = None
    disc_optimizer: torch.optim.Optimizer | None = None
    ema: EMA | None = None


def _optimizer_split(
    sd: dict[str, Any], prefix: str = "optim"
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"{prefix}/{pid}/{k}"] = v.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[k] = v
    return tensors, {"param_groups": sd["param_groups"], "state_scalars": scalars}


def _optimizer_join(
    tensors: dict[str, torch.Tensor], meta: dict[str, Any], prefix: str = "optim"
) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, v in tensors.items():
        if key.startswith(prefix + "/"):
            _, pid, k = key.split("/", 2)
            state.setdefault(int(pid), {})[k] = v
    for pid, kv in meta["state_scalars"].items():
        state.setdefault(int(pid), {}).update(kv)
    return {"state": state, "param_groups": meta["param_groups"]}


def _rng_state() -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors = {"rng/torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{i}"] = s
    name, keys, pos, has_gauss, cached = np.random.get_state()
    tensors["rng/numpy_keys"] = torch.from_numpy(keys.astype(np.int64))
    py_version, py_state, py_gauss = random.getstate()
    meta = {
        "numpy": [name, int(pos), int(has_gauss), float(cached)],
        "python": [py_version, list(py_state), py_gauss],
    }
    return tensors, meta


def _set_rng_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    torch.set_rng_state(tensors["rng/torch_cpu"])
    cuda = sorted(k for k in tensors if k.startswith("rng/cuda/"))
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[k] for k in cuda])
    name, pos, has_gauss, cached = meta["numpy"]
    np.random.set_state((name, tensors["rng/numpy_keys"].numpy().astype(np.uint32), pos, has_gauss, cached))
    py_version, py_state, py_gauss = meta["python"]
    random.setstate((py_version, tuple(py_state), py_gauss))


def save_training_state(
    ckpt_root: Path,
    step: int,
    model: Tokenizer,
    optimizer: torch.optim.Optimizer,
    train_config: dict[str, Any],
    extras: TrainExtras | None = None,
) -> Path:
    """Write checkpoint ``ckpt_root/step_<step>`` atomically and return its path."""
    opt_tensors, opt_meta = _optimizer_split(optimizer.state_dict())
    rng_tensors, rng_meta = _rng_state()
    extra_tensors, extra_meta = _extras_split(extras or TrainExtras())
    final = ckpt_root / f"step_{step:08d}"
    with atomic_directory(final) as tmp:
        write_model_files(model, tmp)
        (tmp / STATE_TENSORS).write_bytes(st_save({**opt_tensors, **rng_tensors, **extra_tensors}))
        state = {
            "step": step,
            "train_config": train_config,
            "optimizer": opt_meta,
            "rng": rng_meta,
            **extra_meta,
        }
        (tmp / STATE_JSON).write_text(json.dumps(state))
    return final


def list_checkpoints(ckpt_root: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints under ``ckpt_root`` as (step, path), oldest first (hidden temp folders skipped)."""
    if not ckpt_root.is_dir():
        return []
    found = [
        (int(m.group(1)), p) for p in ckpt_root.iterdir() if (m := STEP_DIR.match(p.name)) and p.is_dir()
    ]
    return sorted(found)


def prune_checkpoints(ckpt_root: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints."""
    for _, path in list_checkpoints(ckpt_root)[:-keep] if keep > 0 else []:
        shutil.rmtree(path, ignore_errors=True)


def _extras_split(extras: TrainExtras) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {}
    if extras.discriminator is not None:
        sd = extras.discriminator.state_dict()
        tensors.update({f"disc/{k}": v.detach().cpu().contiguous() for k, v in sd.items()})
    if extras.disc_optimizer is not None:
        t, meta["disc_optimizer"] = _optimizer_split(extras.disc_optimizer.state_dict(), "optim_disc")
        tensors.update(t)
    if extras.ema is not None:
        tensors.update({k: v.cpu() for k, v in extras.ema.state_tensors().items()})
    return tensors, meta


def _extras_join(tensors: dict[str, torch.Tensor], state: dict[str, Any], extras: TrainExtras) -> None:
    if extras.discriminator is not None:
        extras.discriminator.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("disc/")})
    if extras.disc_optimizer is not None:
        extras.disc_optimizer.load_state_dict(_optimizer_join(tensors, state["disc_optimizer"], "optim_disc"))
    if extras.ema is not None:
        extras.ema.load_state_tensors(tensors)


def load_training_state(
    path: Path, model: Tokenizer, optimizer: torch.optim.Optimizer, extras: TrainExtras | None = None
) -> int:
    """Restore model weights, optimizer, RNG (and discriminator, its optimizer and EMA) from a checkpoint
    folder; return its step."""
    try:
        state = json.loads((path / STATE_JSON).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: unreadable {STATE_JSON} ({e})") from e
    tensors = read_safetensors(path / STATE_TENSORS)
    try:
        model.load_state_dict(read_safetensors(path / "model.safetensors"))
        optimizer.load_state_dict(_optimizer_join(tensors, state["optimizer"]))
        _extras_join(tensors, state, extras or TrainExtras())
    except (RuntimeError, ValueError, KeyError) as e:
        saved = state.get("train_config", {}).get("model")
        raise CheckpointError(
            f"{path}: checkpoint of model {saved!r} does not match the model being trained "
            f"({str(e).strip().splitlines()[0]})"
        ) from e
    _set_rng_state(tensors, state["rng"])
    return int(state["step"])
