"""``create``, ``load`` and ``list_models`` as the package exports them: the registry, checkpoint folders and
shipped pretrained weights (:mod:`tokzoo.core.pretrained`) behind one call each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from tokzoo.core import checkpoint, registry
from tokzoo.core import pretrained as shipped
from tokzoo.core.errors import ConfigError
from tokzoo.core.tokenizer import Tokenizer


def create(name: str, *, pretrained: bool = False, **overrides: Any) -> Tokenizer:
    """Build the registered tokenizer ``name`` with config ``overrides`` (fresh, untrained weights), or with
    ``pretrained=True`` its shipped weights (hash-checked; the weights fix the config, so no overrides)."""
    if not pretrained:
        return registry.create(name, **overrides)
    if overrides:
        raise ConfigError(
            f"{name}: pretrained weights fix the config; drop the overrides ({', '.join(overrides)}) "
            "or fine-tune with `tokzoo train --init pretrained:NAME`"
        )
    return shipped.load_pretrained(name)


def load(directory: str | Path, *, map_location: str | torch.device = "cpu") -> Tokenizer:
    """Rebuild a tokenizer from a checkpoint folder written by ``save_pretrained``, or from shipped weights
    given as ``pretrained:NAME`` (hash-checked, float32)."""
    if isinstance(directory, str) and directory.startswith(shipped.PREFIX):
        return shipped.load_pretrained(directory).to(map_location)
    return checkpoint.load(directory, map_location=map_location)


def list_models(pattern: str = "*", modality: str | None = None, *, pretrained: bool = False) -> list[str]:
    """Sorted registered names matching a glob ``pattern`` (and ``modality``, if given); with ``pretrained``
    only those that have shipped (or installed third-party) pretrained weights."""
    names = registry.list_models(pattern, modality)
    if pretrained:
        have = set(shipped.list_pretrained())
        names = [n for n in names if n in have]
    return names
