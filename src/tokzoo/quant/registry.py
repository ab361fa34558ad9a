"""Quantizers by name, so a tokenizer config can say ``quantizer: fsq`` and pass its options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tokzoo.core.errors import ConfigError
from tokzoo.quant.base import Quantizer

Q = TypeVar("Q", bound=type[Quantizer])
_QUANTIZERS: dict[str, type[Quantizer]] = {}


def register_quantizer(name: str) -> Callable[[Q], Q]:
    """Class decorator: make ``build_quantizer(name, dim, **options)`` construct this class."""

    def wrap(cls: Q) -> Q:
        if name in _QUANTIZERS:
            raise ConfigError(f"quantizer {name!r} is registered twice")
        _QUANTIZERS[name] = cls
        return cls

    return wrap


def list_quantizers(token_kinds: tuple[str, ...] | None = None) -> list[str]:
    """Registered quantizer names, sorted; only those whose ``token_kind`` is in ``token_kinds`` if given."""
    return sorted(n for n, cls in _QUANTIZERS.items() if token_kinds is None or cls.token_kind in token_kinds)


def build_quantizer(name: str, dim: int, **options: Any) -> Quantizer:
    """Construct quantizer ``name`` for inputs ``z[..., dim]``; unknown names or options raise ConfigError."""
    if name not in _QUANTIZERS:
        raise ConfigError(f"unknown quantizer {name!r}; available: {', '.join(list_quantizers())}")
    try:
        return _QUANTIZERS[name](dim, **options)
    except TypeError as e:
        raise ConfigError(f"quantizer {name!r}: invalid option ({e})") from e
