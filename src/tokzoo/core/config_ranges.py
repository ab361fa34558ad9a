"""Sane ranges of tokenizer config values, checked before a model is built.

A config value out of range (``ch=100000``, ``codebook_size=2**40``, ``ch=-5``) or of the wrong type
(``ch="abc"``) is one ``ConfigError`` naming the key and the allowed range, instead of a traceback or an
attempt to allocate hundreds of GB. The ranges bound memory (each is far beyond what the shipped configs use);
a model that needs more is built by editing ``CONFIG_RANGES``.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any

from tokzoo.core.errors import ConfigError

__all__ = ["CONFIG_RANGES", "check_config", "check_value"]

#: key -> (lowest, highest) allowed value, for every tokenizer config that has the key.
CONFIG_RANGES: dict[str, tuple[float, float]] = {
    # image models: widths and depths
    "ch": (1, 1024), "z_channels": (1, 4096), "code_dim": (1, 4096), "width": (1, 4096), "heads": (1, 256),
    "num_res_blocks": (0, 64), "encoder_depth": (0, 128), "decoder_depth": (0, 128), "mlp_ratio": (0, 64),
    "in_channels": (1, 64), "image_size": (1, 8192), "patch_size": (1, 1024), "teacher_dim": (0, 16384),
    # token counts and vocabularies
    "codebook_size": (1, 2**24), "num_tokens": (1, 2**16), "min_tokens": (1, 2**16),
    # SVG
    "grid": (2, 2**16), "palette_size": (1, 2**16), "opacity_levels": (1, 256), "num_segments": (0, 2**20),
    "max_segment_atoms": (1, 4096), "fine_bits": (0, 16),
    # meshes
    "bits": (1, 16), "block_bits": (1, 16), "cache_size": (1, 2**16), "max_faces": (1, 5_000_000),
}  # fmt: skip


def _allowed(key: str) -> str:
    low, high = CONFIG_RANGES[key]
    return f"[{low:g}, {high:g}]" if high < 1e6 else f"[{low:g}, {high:,.0f}]"


def check_value(owner: str, key: str, value: Any) -> None:
    """Refuse ``value`` for ``key`` if ``key`` has a range in :data:`CONFIG_RANGES` and ``value`` is not a
    number in it."""
    if key not in CONFIG_RANGES or value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{owner}: {key}={value!r} is not a number (allowed: {_allowed(key)})")
    low, high = CONFIG_RANGES[key]
    if not low <= value <= high:
        raise ConfigError(f"{owner}: {key}={value!r} is outside the allowed range {_allowed(key)}")


def check_config(owner: str, cfg: Any) -> None:
    """Check every field of the dataclass ``cfg``: the type its annotation declares (for int, float, bool and
    str fields) and the range of :data:`CONFIG_RANGES`."""
    hints = typing.get_type_hints(type(cfg))
    for f in dataclasses.fields(cfg):
        value, hint = getattr(cfg, f.name), hints[f.name]
        kinds = [t for t in typing.get_args(hint) or (hint,) if t is not type(None)]
        if value is None and type(None) in typing.get_args(hint):
            continue  # an Optional field left unset
        if kinds and all(k in (int, float, bool, str) for k in kinds) and not _is(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise ConfigError(f"{owner}: {f.name}={value!r} is not of type {names}")
        check_value(owner, f.name, value)


def _is(value: Any, kinds: list[type]) -> bool:
    if isinstance(value, bool):
        return bool in kinds
    if isinstance(value, int):
        return int in kinds or float in kinds
    return any(isinstance(value, k) for k in kinds if k is not bool)
