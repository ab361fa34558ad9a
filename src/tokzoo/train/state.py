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
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save as st_save

from tokzoo.core.atomic import atomic_directory
from tokzoo.core.checkpoint import read_safetensors, write_model_files
from tokzoo.core.errors import CheckpointError
from tokzoo.core.tokenizer import Tokenizer

STEP_DIR = re.compile(r"^step_(\d{8})$")
STATE_TENSORS = "train_state.safetensors"
STATE_JSON = "trainer_state.json"


def _optimizer_split(sd: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"optim/{pid}/{k}"] = v.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[k] = v
    return tensors, {"param_groups": sd["param_groups"], "state_scalars": scalars}


def _optimizer_join(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, v in tensors.items():
        if key.startswith("optim/"):
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
) -> Path:
    """Write checkpoint ``ckpt_root/step_<step>`` atomically and return its path."""
    opt_tensors, opt_meta = _optimizer_split(optimizer.state_dict())
    rng_tensors, rng_meta = _rng_state()
    final = ckpt_root / f"step_{step:08d}"
    with atomic_directory(final) as tmp:
        write_model_files(model, tmp)
        (tmp / STATE_TENSORS).write_bytes(st_save({**opt_tensors, **rng_tensors}))
        state = {"step": step, "train_config": train_config, "optimizer": opt_meta, "rng": rng_meta}
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


def load_training_state(path: Path, model: Tokenizer, optimizer: torch.optim.Optimizer) -> int:
    """Restore model weights, optimizer and RNG from a checkpoint folder; return its step."""
    try:
        state = json.loads((path / STATE_JSON).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: unreadable {STATE_JSON} ({e})") from e
    tensors = read_safetensors(path / STATE_TENSORS)
    try:
        model.load_state_dict(read_safetensors(path / "model.safetensors"))
        optimizer.load_state_dict(_optimizer_join(tensors, state["optimizer"]))
    except (RuntimeError, ValueError, KeyError) as e:
        saved = state.get("train_config", {}).get("model")
        raise CheckpointError(
            f"{path}: checkpoint of model {saved!r} does not match the model being trained "
            f"({str(e).strip().splitlines()[0]})"
        ) from e
    _set_rng_state(tensors, state["rng"])
    return int(state["step"])
