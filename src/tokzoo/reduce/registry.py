"""Reduction methods by name: ``create_method(name, **options)``, ``reduce(x, method, keep, **context)``."""

from __future__ import annotations

from typing import Any

import torch

from tokzoo.core.errors import ConfigError, RegistryError
from tokzoo.reduce.adatoken3d import AdaToken3D
from tokzoo.reduce.attention import AttentionTopK
from tokzoo.reduce.base import Keep, Reduced
from tokzoo.reduce.divprune import DivPrune
from tokzoo.reduce.fastvggt import FastVGGTMerge
from tokzoo.reduce.identifier import IdentifierMerge
from tokzoo.reduce.method import ReductionMethod
from tokzoo.reduce.objects import ObjectPool
from tokzoo.reduce.pool import NestedPool
from tokzoo.reduce.random_keep import RandomKeep
from tokzoo.reduce.segpruner import SeGPruner
from tokzoo.reduce.tome import ToMe
from tokzoo.reduce.visionzip import VisionZip

METHODS: dict[str, type[ReductionMethod]] = {
    cls.name: cls
    for cls in (
        RandomKeep,
        NestedPool,
        ToMe,
        AttentionTopK,
        VisionZip,
        DivPrune,
        SeGPruner,
        AdaToken3D,
        FastVGGTMerge,
        IdentifierMerge,
        ObjectPool,
    )
}


def create_method(name: str | ReductionMethod, **options: Any) -> ReductionMethod:
    """The method registered as ``name`` built with ``options`` (a method instance is returned as is)."""
    if isinstance(name, ReductionMethod):
        if options:
            raise ConfigError("options are given to the method's constructor, not beside an instance")
        return name
    if name not in METHODS:
        raise RegistryError(f"unknown reduction method {name!r}; known: {', '.join(sorted(METHODS))}")
    try:
        return METHODS[name](**options)
    except TypeError as error:
        raise ConfigError(f"{name}: {error}") from error


def reduce(
    x: torch.Tensor, method: str | ReductionMethod, keep: Keep | None = None, **context: Any
) -> Reduced:
    """Reduce tokens ``x`` (B, N, D) with ``method`` (a name uses default options) to ``keep`` per sample."""
    return create_method(method).reduce(x, keep, **context)
