"""Checkpoints: a folder with ``config.json`` + ``model.safetensors``. Loading never unpickles.

``config.json`` holds ``{"format": "tokzoo-checkpoint", "format_version": 1, "tokenizer": <registry name>,
"modality": ..., "config": {...}, "fingerprint": <hash of the weights>, "tokzoo_version": ...}``; ``tokzoo.load(dir)`` rebuilds the model with
``tokzoo.create(tokenizer, **config)`` and loads the weights strictly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from tokzoo.core.atomic import atomic_directory, recover_directory
from tokzoo.core.errors import CheckpointError, ConfigError, RegistryError
from tokzoo.core.fingerprint import fingerprint, matches
from tokzoo.core.version import __version__

if TYPE_CHECKING:
    from tokzoo.core.tokenizer import Tokenizer

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT = "tokzoo-checkpoint"
FORMAT_VERSION = 1
FORM_MARK = "@"  # KEY@NAME in a weight file: a tensor only form NAME of the weights loads (as KEY)
_PICKLE_NAMES = ("pytorch_model.bin", "model.bin", "model.pt", "model.pth", "model.ckpt", "model.pkl")


def checkpoint_config(model: Tokenizer) -> dict[str, Any]:
    """The ``config.json`` content for ``model``."""
    if model.registry_name is None:
        raise CheckpointError(
            f"{type(model).__name__} has no registry name: build it with tokzoo.create(name) to save it"
        )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tokenizer": model.registry_name,
        "modality": model.modality,
        "config": model.config_dict(),
        "fingerprint": fingerprint(model),
        "tokzoo_version": __version__,
    }


def state_dict_bytes(model: torch.nn.Module, metadata: dict[str, str] | None = None) -> bytes:
    """The model's weights as safetensors bytes (shared tensors are de-aliased)."""
    state = {k: v.detach().contiguous().cpu().clone() for k, v in model.state_dict().items()}
    return st_save(state, metadata=metadata)


def write_model_files(model: Tokenizer, directory: Path) -> None:
    """Write ``config.json`` and ``model.safetensors`` into an existing folder (not atomic by itself)."""
    cfg = checkpoint_config(model)
    (directory / CONFIG_NAME).write_text(json.dumps(cfg, indent=2) + "\n")
    (directory / WEIGHTS_NAME).write_bytes(state_dict_bytes(model, {"tokenizer": cfg["tokenizer"]}))


CHECKPOINT_FILES = frozenset(
    {CONFIG_NAME, WEIGHTS_NAME, "train_state.safetensors", "trainer_state.json"}
)  # a folder holding only these may be replaced by a new checkpoint


def check_replaceable(directory: Path) -> None:
    """Refuse to replace ``directory`` unless it is absent or holds nothing but checkpoint files."""
    if not directory.exists():
        return
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: exists and is not a folder; refusing to replace it")
    foreign = sorted(p.name for p in directory.iterdir() if p.name not in CHECKPOINT_FILES)
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise CheckpointError(
            f"{directory}: holds other files ({shown}); refusing to replace it with a checkpoint "
            "(choose an empty or new folder)"
        )


def save_pretrained(model: Tokenizer, directory: str | Path) -> Path:
    """Save ``model`` as a checkpoint folder, replacing a previous checkpoint there atomically.

    A folder that holds anything besides checkpoint files is never replaced (CheckpointError).
    """
    directory = Path(directory)
    check_replaceable(directory.resolve())
    with atomic_directory(directory) as tmp:
        write_model_files(model, tmp)
    return directory


def _looks_like_safetensors(data: bytes) -> bool:
    """A safetensors file: 8-byte little-endian header length n, then n bytes of JSON starting with '{'."""
    if len(data) < 9:
        return False
    n = int.from_bytes(data[:8], "little")
    return 8 + n <= len(data) and data[8:9] == b"{"


def read_safetensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a safetensors file; anything else (a pickle, a zip from ``torch.save``) is refused."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read ({e.strerror or e})") from e
    if not _looks_like_safetensors(data) and (data[:1] == b"\x80" or data[:4] == b"PK\x03\x04"):
        raise CheckpointError(
            f"{path}: is a pickle/torch.save file, not safetensors; tokzoo never unpickles weights "
            "(convert it with safetensors.torch.save_file in a trusted environment)"
        )
    try:
        return st_load(data)
    except (SafetensorError, ValueError, OSError) as e:
        raise CheckpointError(f"{path}: not a valid safetensors file ({e})") from e


def read_config(directory: str | Path, config_name: str = CONFIG_NAME) -> dict[str, Any]:
    """Read and validate ``config.json`` (or ``config_name``) of a checkpoint folder (after recovering an
    interrupted replacement of it, see :func:`~tokzoo.core.atomic.recover_directory`)."""
    directory = Path(directory)
    recover_directory(directory)
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: checkpoint folder not found")
    cfg_path = directory / config_name
    if not cfg_path.is_file():
        raise CheckpointError(f"{directory}: no {config_name} (is this a tokzoo checkpoint folder?)")
    try:
        cfg = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{cfg_path}: invalid JSON ({e})") from e
    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
        raise CheckpointError(f"{cfg_path}: not a tokzoo checkpoint config (missing format={FORMAT!r})")
    if not isinstance(cfg.get("tokenizer"), str) or not isinstance(cfg.get("config", {}), dict):
        raise CheckpointError(f"{cfg_path}: needs a string 'tokenizer' and an object 'config'")
    if cfg.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{cfg_path}: checkpoint format version {cfg.get('format_version')!r} is not supported "
            f"(this tokzoo reads version {FORMAT_VERSION})"
        )
    return cfg


def form_state(state: dict[str, torch.Tensor], name: str) -> dict[str, torch.Tensor]:
    """The tensors tokenizer ``name`` loads from a weight file that several forms of one model share (e.g.
    ``kl-f16-s`` and its grid-stored forms): every plain key, and each ``KEY@name`` as ``KEY``; the other forms'
    ``KEY@other`` tensors are left out."""
    own = FORM_MARK + name
    out = {k: v for k, v in state.items() if FORM_MARK not in k}
    out.update({k[: -len(own)]: v for k, v in state.items() if k.endswith(own)})
    return out


def load(
    directory: str | Path, *, map_location: str | torch.device = "cpu", config_name: str = CONFIG_NAME
) -> Tokenizer:
    """Rebuild a tokenizer from a checkpoint folder written by ``save_pretrained`` (``config_name``: another
    config of the same weights, e.g. a second shipped form of one weight file)."""
    from tokzoo.core.registry import create

    directory = Path(directory)
    cfg = read_config(directory, config_name)
    weights = directory / WEIGHTS_NAME
    if not weights.is_file():
        pickles = [n for n in _PICKLE_NAMES if (directory / n).exists()]
        extra = f"; found {pickles[0]}, a pickle format tokzoo refuses to load" if pickles else ""
        raise CheckpointError(f"{directory}: no {WEIGHTS_NAME}{extra}")
    try:
        model = create(cfg["tokenizer"], **cfg.get("config", {}))
    except RegistryError as e:
        raise CheckpointError(f"{directory}: {e}") from e
    except (ConfigError, TypeError, ValueError, IndexError) as e:
        raise CheckpointError(f"{directory}: config does not match {cfg['tokenizer']!r} ({e})") from e
    state = form_state(read_safetensors(weights), cfg["tokenizer"])
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        raise CheckpointError(f"{weights}: weights do not match the config ({' '.join(first[:3])})") from e
    recorded = cfg.get("fingerprint")
    if recorded is not None and not matches(model, recorded):
        raise CheckpointError(
            f"{directory}: the weights' fingerprint {fingerprint(model)} differs from {recorded} recorded in "
            f"{config_name} (files of two checkpoints mixed, or modified)"
        )
    return model.to(map_location).eval()
