"""The ``Tokenizer`` base class every modality implements: ``encode``, ``decode``, ``loss``."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from tokzoo.core.config_ranges import check_config
from tokzoo.core.tokens import Tokens


class Tokenizer(nn.Module, ABC):
    """A pair of maps ``x → Tokens → x̂`` with a training loss.

    Subclasses keep their hyper-parameters in a dataclass ``self.cfg`` (saved as ``config.json``) and set the
    class attribute ``modality``. ``forward(batch)`` is ``loss(batch)`` so that distributed wrappers (DDP)
    see every training step.
    """

    modality: ClassVar[str] = "generic"
    registry_name: str | None = None
    #: Set when the weights are shipped pretrained ones (``tokzoo.create(name, pretrained=True)``).
    pretrained_name: str | None = None
    #: File suffixes ``load_file`` reads (e.g. ``(".svg",)``); the first is ``save_file``'s default.
    file_suffixes: ClassVar[tuple[str, ...]] = ()

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
    def encode(self, x: torch.Tensor, *, num_tokens: int | None = None) -> Tokens:
        """Map a batch of data to tokens."""

    @abstractmethod
    def decode(self, tokens: Tokens) -> torch.Tensor:
        """Map tokens back to data of the shape ``encode`` was given."""

    @abstractmethod
    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Training loss on a batch, and named scalars to log."""

    def forward(self, batch: torch.Tensor, *, autoencode: bool = False) -> Any:
        """``loss(batch)``, or with ``autoencode=True`` the model's ``autoencode(batch)`` (an ``AutoencodeOut``,
        for training recipes that need the reconstruction). Both go through ``forward`` so that distributed
        wrappers (DDP) see every step."""
        if not autoencode:
            return self.loss(batch)
        if not hasattr(self, "autoencode"):
            from tokzoo.core.errors import ConfigError

            raise ConfigError(
                f"{self.registry_name or type(self).__name__} does not hand its reconstruction to the trainer "
                "(no autoencode): train it with its own loss (no perceptual/GAN/pixel_loss options)"
            )
        return self.autoencode(batch)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, *, num_tokens: int | None = None) -> torch.Tensor:
        """``decode(encode(x))``."""
        return self.decode(self.encode(x, num_tokens=num_tokens))

    def load_file(self, path: Path) -> Any:
        """Read one input file into what ``encode`` takes as a batch of one (used by ``tokzoo encode``)."""
        from tokzoo.core.errors import ConfigError

        raise ConfigError(f"{type(self).__name__} ({self.modality}) does not read files")

    def save_file(self, data: Any, path: Path) -> None:
        """Write one item of ``decode``'s output to ``path`` (used by ``tokzoo decode``)."""
        from tokzoo.core.errors import ConfigError

        raise ConfigError(f"{type(self).__name__} ({self.modality}) does not write files")

    def config_dict(self) -> dict[str, Any]:
        """The JSON-serialisable config that rebuilds this model with ``tokzoo.create``."""
        return dataclasses.asdict(self.cfg)

    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json`` + ``model.safetensors`` into ``directory`` (atomically)."""
        from tokzoo.core.checkpoint import save_pretrained

        return save_pretrained(self, directory)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
