"""What tokenizers can do, as protocols: every tokenizer is a :class:`Codec`; some are also :class:`Trainable`
(gradient training by ``tokzoo train``) or :class:`Fittable` (fitted to data by ``tokzoo fit``), or both."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch

from tokzoo.core.tokens import Tokens


@runtime_checkable
class Codec(Protocol):
    """A pair of maps ``x → Tokens → x̂`` and the file reading and writing of its modality.

    ``encode`` takes a batch of the modality's data (images: float (B, 3, H, W) in [0, 1]; SVG: a list of
    sources; meshes: a list of meshes) and ``decode`` gives one item per sample back. ``load_file`` reads one
    file as a batch of one; ``save_file`` writes one decoded item. ``token_counts()`` lists the counts that
    ``encode(x, num_tokens=k)`` accepts, empty where the count follows from the input alone.
    ``example_input()`` is a small valid batch of two at the model's declared input (tests, smoke runs).
    """

    modality: str
    registry_name: str | None

    @property
    def vocab_size(self) -> int | None: ...

    def encode(self, x: Any, *, num_tokens: int | None = None) -> Tokens: ...

    def decode(self, tokens: Tokens) -> Any: ...

    def load_file(self, path: Path) -> Any: ...

    def save_file(self, item: Any, path: Path) -> None: ...

    def token_counts(self) -> Sequence[int]: ...

    def example_input(self) -> Any: ...


@runtime_checkable
class Trainable(Protocol):
    """Trained by gradient descent (``tokzoo.train.Trainer``): ``loss(batch) -> (loss, named scalars)``."""

    def loss(self, batch: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]: ...


@runtime_checkable
class Fittable(Protocol):
    """Fitted to data in one call (``tokzoo fit``): ``fit(data)`` learns its state and returns counts to report."""

    def fit(self, data: Any) -> dict[str, Any]: ...


def supported_commands(model: object) -> list[str]:
    """The CLI commands that can learn ``model``'s state: ``train`` (Trainable), ``fit`` (Fittable)."""
    return [c for c, p in (("train", Trainable), ("fit", Fittable)) if isinstance(model, p)]


def unsupported(model: object, command: str) -> str:
    """One line for ``tokzoo COMMAND`` on a model that lacks its protocol, naming the command it supports."""
    name = getattr(model, "registry_name", None) or type(model).__name__
    other = [c for c in supported_commands(model) if c != command]
    if other:
        return f"{name} is not learned with tokzoo {command}; it supports tokzoo {other[0]}"
    return f"{name} has nothing to learn: neither tokzoo train nor tokzoo fit applies to it"
