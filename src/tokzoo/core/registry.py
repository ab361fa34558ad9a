"""A timm-style registry: ``@register_tokenizer`` on a factory, ``create(name)``, ``list_models(pattern)``.

A factory is a function ``f(**overrides) -> Tokenizer`` declared next to its model, whose name (``_`` → ``-``)
is the registry name. ``create`` records the name on the model so checkpoints can rebuild it. The registry
knows no model: the modules that register them are found through entry points (:mod:`tokzoo.core.plugins`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from tokzoo.core.config_ranges import check_value
from tokzoo.core.errors import ConfigError, RegistryError
from tokzoo.core.plugins import load_plugins

if TYPE_CHECKING:
    from tokzoo.core.tokenizer import Tokenizer

F = TypeVar("F", bound=Callable[..., "Tokenizer"])


@dataclass(frozen=True)
class ModelSpec:
    """One registered tokenizer: its name, factory, modality and a one-line description."""

    name: str
    factory: Callable[..., Tokenizer]
    modality: str
    description: str


_REGISTRY: dict[str, ModelSpec] = {}


def register_tokenizer(
    fn: F | None = None, *, name: str | None = None, modality: str = "image"
) -> F | Callable[[F], F]:
    """Register a tokenizer factory; usable bare (``@register_tokenizer``) or with arguments."""

    def wrap(f: F) -> F:
        key = name or f.__name__.replace("_", "-")
        if key in _REGISTRY:
            raise RegistryError(f"tokenizer {key!r} is registered twice")
        doc = (f.__doc__ or "").strip().splitlines()
        _REGISTRY[key] = ModelSpec(key, f, modality, doc[0] if doc else "")
        return f

    return wrap(fn) if fn is not None else wrap


def list_models(pattern: str = "*", modality: str | None = None) -> list[str]:
    """Sorted registered names matching a glob ``pattern`` (and ``modality``, if given)."""
    load_plugins()
    return sorted(
        n
        for n, s in _REGISTRY.items()
        if fnmatch.fnmatch(n, pattern) and (modality is None or s.modality == modality)
    )


def get_spec(name: str) -> ModelSpec:
    """The registry entry for ``name``; a RegistryError lists close names when it is unknown."""
    load_plugins()
    if name not in _REGISTRY:
        close = [n for n in _REGISTRY if name.split("-")[0] in n][:8]
        hint = f"; similar: {', '.join(close)}" if close else "; see `tokzoo list`"
        raise RegistryError(f"unknown tokenizer {name!r}{hint}")
    return _REGISTRY[name]


def create(name: str, **overrides: Any) -> Tokenizer:
    """Build the registered tokenizer ``name`` with config ``overrides`` (fresh, untrained weights). Values
    outside :data:`~tokzoo.core.config_ranges.CONFIG_RANGES` are a ``ConfigError`` before anything is built."""
    spec = get_spec(name)
    for key, value in overrides.items():  # before the factory allocates anything
        check_value(name, key, value)
    try:
        model = spec.factory(**overrides)
    except TypeError as e:  # an unknown option name, e.g. dataclasses.replace(cfg, bogus=1)
        raise ConfigError(f"{name}: invalid option ({e})") from e
    model.registry_name = name
    return model
