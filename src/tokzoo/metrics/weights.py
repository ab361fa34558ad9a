"""Finding and safely loading the standard weights of the optional learned metrics (rFID, LPIPS).

tokzoo downloads nothing: a weight file is taken from an explicit path, an environment variable, or the usual
cache folders (``~/.cache/tokzoo/weights``, torch hub's ``~/.cache/torch/hub/checkpoints``). Files are read
with safetensors or ``torch.load(weights_only=True)`` (plain tensors only; no pickled code runs), and every
tensor is checked against the architecture before use, so a wrong file is refused with the key and shapes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from tokzoo.core.checkpoint import read_safetensors
from tokzoo.core.errors import CheckpointError


def cache_dirs() -> list[Path]:
    """Folders searched for standard weight files, in order."""
    home = Path.home()
    torch_home = Path(os.environ.get("TORCH_HOME", home / ".cache" / "torch"))
    return [
        Path(os.environ.get("TOKZOO_WEIGHTS_DIR", home / ".cache" / "tokzoo" / "weights")),
        torch_home / "hub" / "checkpoints",
    ]


def find_weights(explicit: str | os.PathLike[str] | None, env: str, filenames: Sequence[str]) -> Path | None:
    """The weight file to use: ``explicit``, else ``$env``, else the first of ``filenames`` in ``cache_dirs()``.

    An explicit path or environment variable that names a missing file is an error (the user asked for it);
    nothing found in the caches gives None (the metric is then reported as unavailable).
    """
    for given, origin in ((explicit, "path"), (os.environ.get(env) or None, f"${env}")):
        if given is not None:
            path = Path(given).expanduser()
            if not path.is_file():
                raise CheckpointError(f"{path}: weight file not found (given as {origin})")
            return path
    for folder in cache_dirs():
        for name in filenames:
            if (folder / name).is_file():
                return folder / name
    return None


def read_weights(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """A flat ``name -> tensor`` dict from a safetensors file or a ``torch.save`` file of plain tensors."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(9)
    header_len = int.from_bytes(head[:8], "little") if len(head) == 9 else -1
    if head[8:9] == b"{" and 8 + header_len <= path.stat().st_size:  # safetensors: length, then JSON
        return read_safetensors(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises a variety of pickle/zip errors for foreign files
        raise CheckpointError(
            f"{path}: not a safetensors or plain-tensor torch file ({type(e).__name__}: {e})"
        ) from e
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a dict of tensors (a state dict)")
    return state


def load_into(
    module: nn.Module,
    state: dict[str, torch.Tensor],
    source: str | os.PathLike[str],
    *,
    ignore_prefixes: tuple[str, ...] = (),
) -> nn.Module:
    """Copy ``state`` into ``module`` after checking every key and shape; returns ``module`` in eval mode.

    Keys starting with one of ``ignore_prefixes`` (e.g. a classifier head the metric does not use) and
    BatchNorm ``num_batches_tracked`` counters are allowed to be absent or extra; anything else missing,
    extra or of the wrong shape is a CheckpointError naming the first such key.
    """
    name = type(module).__name__

    def optional(key: str) -> bool:
        return key.startswith(ignore_prefixes) or key.endswith("num_batches_tracked")

    expected = module.state_dict()
    for key, value in expected.items():
        if key in state and state[key].shape != value.shape:
            raise CheckpointError(
                f"{source}: tensor {key!r} has shape {tuple(state[key].shape)}, {name} needs {tuple(value.shape)}"
            )
    missing = [k for k in expected if k not in state and not optional(k)]
    if missing:
        raise CheckpointError(
            f"{source}: missing tensor {missing[0]!r} for {name} ({len(missing)} missing in all)"
        )
    extra = [k for k in state if k not in expected and not optional(k)]
    if extra:
        raise CheckpointError(
            f"{source}: unexpected tensor {extra[0]!r} for {name} ({len(extra)} unexpected in all)"
        )
    module.load_state_dict({k: v for k, v in state.items() if k in expected}, strict=False)
    return module.eval()
