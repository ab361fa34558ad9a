"""The ``Tokenizer`` base class: a :class:`~tokzoo.core.protocols.Codec` with a dataclass config and checkpoints."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from tokzoo.core.config_ranges import check_config
from tokzoo.core.tokens import Tokens


class Tokenizer(nn.Module, ABC):
    """A pair of maps ``x → Tokens → x̂`` (the :class:`~tokzoo.core.protocols.Codec` protocol).

    Subclasses keep their hyper-parameters in a dataclass ``self.cfg`` (saved as ``config.json``) and set the
    class attribute ``modality``. Those that are ``Trainable`` define ``loss(batch)``, which ``forward`` calls so
    that distributed wrappers (DDP) see every training step; those that are ``Fittable`` define ``fit(data)``.
    """

    modality: ClassVar[str] = "generic"
    registry_name: str | None = None
    #: Set when the weights are shipped pretrained ones (``tokzoo.create(name, pretrained=True)``).
    pretrained_name: str | None = None

    @property
    def starts_trained(self) -> bool:
        """Whether a fresh build already has working weights although the model is trainable (it takes them
        from shipped weights at build, e.g. the key-frame video tokenizer's image tokenizer); the CLI then
        accepts its registered name without a checkpoint."""
        return False

    def __init__(self, cfg: Any) -> None:
        super().__init__()
        if not dataclasses.is_dataclass(cfg):
            raise TypeError(f"{type(self).__name__} needs a dataclass config, got {type(cfg).__name__}")
        check_config(type(self).__name__, cfg)
        self.cfg = cfg

    @property
    @abstractmethod
    def vocab_size(self) -> int | None:
        """Number of distinct token ids (None for a continuous tokenizer)."""

    @abstractmethod
    def encode(self, x: Any, *, num_tokens: int | None = None) -> Tokens:
        """Map a batch of data to tokens."""

    @abstractmethod
    def decode(self, tokens: Tokens) -> Any:
        """Map tokens back to one item of data per sample."""

    @abstractmethod
    def load_file(self, path: Path) -> Any:
        """Read one input file as what ``encode`` takes for a batch of one (``tokzoo encode``)."""

    @abstractmethod
    def save_file(self, item: Any, path: Path) -> None:
        """Write one item of ``decode``'s output to ``path`` (``tokzoo decode``)."""

    @abstractmethod
    def example_input(self) -> Any:
        """A small valid batch of two inputs at the model's declared input (for tests and smoke runs)."""

    def token_counts(self) -> Sequence[int]:
        """The counts ``encode(x, num_tokens=k)`` accepts; empty where the count follows from the input alone."""
        return ()

    def forward(self, batch: Any, *, autoencode: bool = False) -> Any:
        """``loss(batch)`` of a Trainable tokenizer, or with ``autoencode=True`` its ``autoencode(batch)`` (an
        ``AutoencodeOut``, for training recipes that need the reconstruction). Both go through ``forward`` so
        that distributed wrappers (DDP) see every step."""
        if not autoencode:
            return self.loss(batch)  # type: ignore[attr-defined]
        if not hasattr(self, "autoencode"):
            from tokzoo.core.errors import ConfigError

            raise ConfigError(
                f"{self.registry_name or type(self).__name__} does not hand its reconstruction to the trainer "
                "(no autoencode): train it with its own loss (no perceptual/GAN/pixel_loss options)"
            )
        return self.autoencode(batch)

    @torch.no_grad()
    def reconstruct(self, x: Any, *, num_tokens: int | None = None) -> Any:
        """``decode(encode(x))``."""
        return self.decode(self.encode(x, num_tokens=num_tokens))

    def config_dict(self) -> dict[str, Any]:
        """The JSON-serialisable config that rebuilds this model with ``tokzoo.create``."""
        return dataclasses.asdict(self.cfg)

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json`` + ``model.safetensors`` into ``directory`` (atomically)."""
        from tokzoo.core.checkpoint import save_pretrained

        return save_pretrained(self, directory)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
