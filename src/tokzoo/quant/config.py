"""``QuantizerConfig``: the bottleneck fields a tokenizer config shares, and the quantizer they build."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tokzoo.core.errors import ConfigError
from tokzoo.quant.base import Quantizer
from tokzoo.quant.registry import build_quantizer, list_quantizers

#: Config fields that are options of ``vq`` (field -> option name); other quantizers take ``quantizer_options``.
VQ_FIELDS = {
    "codebook_size": "codebook_size",
    "code_dim": "code_dim",
    "normalize_codes": "normalize",
    "beta": "beta",
    "restart_decay": "restart_decay",
    "restart_threshold": "restart_threshold",
}


@dataclass
class QuantizerConfig:
    """``quantizer``: any registered quantizer, built with ``quantizer_options``; the VQ fields are ``vq``'s
    options (``quantizer_options`` override them) and do not apply to any other quantizer."""

    quantizer: str = "vq"
    quantizer_options: dict[str, Any] = field(default_factory=dict)
    codebook_size: int = 1024
    code_dim: int = 8
    normalize_codes: bool = True
    beta: float = 0.25
    restart_decay: float = 0.9
    restart_threshold: float = 0.03

    def check_quantizer(self, model: str, token_kinds: tuple[str, ...] | None = None, why: str = "") -> None:
        """A registered quantizer, of one of ``token_kinds`` (``why``: in words) if given; else ConfigError."""
        if self.quantizer not in list_quantizers():
            raise ConfigError(
                f"{model}: unknown quantizer {self.quantizer!r}; available: {', '.join(list_quantizers())}"
            )
        if token_kinds is not None and self.quantizer not in list_quantizers(token_kinds):
            names = ", ".join(list_quantizers(token_kinds))
            raise ConfigError(f"{model}: quantizer {self.quantizer!r} is not one of {names} ({why})")

    def inapplicable_fields(self) -> dict[str, str]:
        """The VQ fields, when the quantizer is not ``vq`` (for :func:`tokzoo.core.presets.build_model`)."""
        if self.quantizer == "vq":
            return {}
        reason = f"it is an option of quantizer vq, not {self.quantizer} (use quantizer_options)"
        return dict.fromkeys(VQ_FIELDS, reason)

    def build_quantizer(self, dim: int) -> Quantizer:
        """The quantizer for inputs ``z[..., dim]``."""
        if self.quantizer != "vq":
            return build_quantizer(self.quantizer, dim, **self.quantizer_options)
        options = {option: getattr(self, name) for name, option in VQ_FIELDS.items()}
        return build_quantizer("vq", dim, **{**options, **self.quantizer_options})
