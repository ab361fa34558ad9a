"""One way to declare a preset (timm's ``build_model_with_cfg`` role): a tokenizer class, its config, and the
user's overrides → model. Every registered tokenizer of tokzoo is a preset."""

from __future__ import annotations

import dataclasses
from typing import Any

from tokzoo.core.errors import ConfigError
from tokzoo.core.registry import register_tokenizer
from tokzoo.core.tokenizer import Tokenizer


def build_model(cls: type[Tokenizer], base: Any, overrides: dict[str, Any], name: str = "") -> Tokenizer:
    """``cls(replace(base, **overrides))``; ConfigError for an unknown option, or for an override of a field
    the config lists as not applying to its other choices (``inapplicable_fields()``, e.g. ``codebook_size``
    with a quantizer that has no codebook)."""
    names = {f.name for f in dataclasses.fields(base)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ConfigError(
            f"{name or cls.__name__}: unknown option {unknown[0]!r}; options: {', '.join(sorted(names))}"
        )
    cfg = dataclasses.replace(base, **overrides)
    inapplicable = getattr(cfg, "inapplicable_fields", lambda: {})()
    for key, reason in inapplicable.items():
        if key in overrides and overrides[key] != getattr(base, key):
            raise ConfigError(
                f"{name or cls.__name__}: option {key}={overrides[key]!r} does not apply: {reason}"
            )
    return cls(cfg)


def register_preset(name: str, cls: type[Tokenizer], base: Any, description: str) -> None:
    """Register ``name`` as the preset ``base`` config of ``cls``: ``create(name, **overrides)`` builds
    ``build_model(cls, base, overrides)``."""

    def factory(**overrides: Any) -> Tokenizer:
        return build_model(cls, base, overrides, name)

    factory.__doc__ = description
    register_tokenizer(factory, name=name, modality=cls.modality)
