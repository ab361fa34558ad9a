"""A timm-style registry: ``@register_tokenizer`` on a factory, ``create(name)``, ``list_tokenizers(pattern)``.

A factory is a function ``f(**overrides) -> Tokenizer`` declared next to its model, whose name (``_`` → ``-``)
is the registry name. ``create`` records the name on the model so checkpoints can rebuild it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from tokzoo.core.config_ranges import check_value
from tokzoo.core.errors import ConfigError, RegistryError

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


def _ensure_models_imported() -> None:
    """Import the modality packages so their ``@register_tokenizer`` decorators have run."""
    import tokzoo.image
    import tokzoo.mesh
    import tokzoo.svg  # noqa: F401


def list_tokenizers(
    pattern: str = "*", modality: str | None = None, *, pretrained: bool = False
) -> list[str]:
    """Sorted registered names matching a glob ``pattern`` (and ``modality``, if given); with ``pretrained``
    only those that have shipped (or installed third-party) pretrained weights."""
    _ensure_models_imported()
    names = sorted(
        n
        for n, s in _REGISTRY.items()
        if fnmatch.fnmatch(n, pattern) and (modality is None or s.modality == modality)
    )
    if pretrained:
        from tokzoo.core.pretrained import list_pretrained

        have = set(list_pretrained())
        names = [n for n in names if n in have]
    return names


def get_spec(name: str) -> ModelSpec:
    """The registry entry for ``name``; a RegistryError lists close names when it is unknown."""
    _ensure_models_imported()
    if name not in _REGISTRY:
        close = [n for n in _REGISTRY if name.split("-")[0] in n][:8]
        hint = f"; similar: {', '.join(close)}" if close else "; see `tokzoo list`"
        raise RegistryError(f"unknown tokenizer {name!r}{hint}")
    return _REGISTRY[name]


def create(name: str, *, pretrained: bool = False, **overrides: Any) -> Tokenizer:
    """Build the registered tokenizer ``name`` with config ``overrides`` (fresh, untrained weights), or with
    ``pretrained=True`` its shipped weights (hash-checked; the weights fix the config, so no overrides). Values
    outside :data:`~tokzoo.core.config_ranges.CONFIG_RANGES` are a ``ConfigError`` before anything is built."""
    if pretrained:
        from tokzoo.core.pretrained import load_pretrained

        if overrides:
            raise ConfigError(
                f"{name}: pretrained weights fix the config; drop the overrides ({', '.join(overrides)}) "
                "or fine-tune with `tokzoo train --init pretrained:NAME`"
            )
        return load_pretrained(name)
    spec = get_spec(name)
    for key, value in overrides.items():  # before the factory allocates anything
        check_value(name, key, value)
    try:
        model = spec.factory(**overrides)
    except TypeError as e:  # an unknown option name, e.g. dataclasses.replace(cfg, bogus=1)
        raise ConfigError(f"{name}: invalid option ({e})") from e
    model.registry_name = name
    return model
