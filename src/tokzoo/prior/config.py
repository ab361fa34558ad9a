"""``PriorConfig``: what a prior models (layout, shape, vocabulary, length) and its transformer's size."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tokzoo.core.errors import ConfigError
from tokzoo.core.tokens import Tokens
from tokzoo.prior.layout import SequenceLayout, sequence_layout

__all__ = ["KINDS", "PriorConfig"]

KINDS = ("ar", "maskgit")


@dataclass
class PriorConfig:
    """``kind``: ``ar`` (GPT-style, next token / next scale) or ``maskgit`` (bidirectional, masked tokens).

    ``num_classes`` > 0 adds class conditioning: the start (AR) or added (MaskGIT) embedding of class c; the
    extra class ``num_classes`` means "no class" and is what unconditional calls use."""

    kind: str = "ar"
    layout: str = "grid2d"
    shape: list[int] = field(default_factory=lambda: [8, 8])
    vocab_size: int = 256
    length: int | None = None
    dim: int = 128
    depth: int = 4
    heads: int = 4
    num_classes: int = 0
    tokenizer: str = ""  # the registry name or checkpoint of the tokenizer whose tokens are modelled

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"prior kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        for name in ("dim", "depth", "heads", "vocab_size"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"prior {name} must be >= 1, got {getattr(self, name)}")
        if self.dim % self.heads:
            raise ConfigError(f"prior dim {self.dim} is not divisible by {self.heads} heads")
        if self.num_classes < 0:
            raise ConfigError(f"num_classes must be >= 0, got {self.num_classes}")
        try:
            _ = self.sequence
        except ValueError as e:
            raise ConfigError(str(e)) from None

    @property
    def sequence(self) -> SequenceLayout:
        """The generation order of the modelled layout."""
        return sequence_layout(self.layout, tuple(self.shape), self.vocab_size, self.length)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def for_tokens(cls, tokens: Tokens, **options: Any) -> PriorConfig:
        """A config modelling ``tokens``' layout, shape and vocabulary (``seq1d``: up to their longest length)."""
        length = int(tokens.lengths.max()) if tokens.layout == "seq1d" and len(tokens) else None
        return cls(
            layout=tokens.layout,
            shape=list(tokens.shape),
            vocab_size=tokens.vocab_size,
            length=length,
            **options,
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PriorConfig:
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise ConfigError(f"unknown prior config keys: {', '.join(unknown)}")
        return cls(**d)
