"""Building the quantizer of the transformer image tokenizers by name (the multi-scale and Matryoshka tokenizers\nhold it directly and accept single-id quantizers only; TiTok wraps it in ``tokzoo.quant.Bottleneck``)."""

from __future__ import annotations

from typing import Any

from tokzoo.core.errors import ConfigError
from tokzoo.quant import Quantizer, build_quantizer

SINGLE_ID_QUANTIZERS = ("vq", "fsq", "lfq", "gq", "bsq", "dual")


def check_quantizer_name(name: str, model: str) -> None:
    """Refuse quantizers that do not give exactly one id per token."""
    if name not in SINGLE_ID_QUANTIZERS:
        raise ConfigError(
            f"{model}: quantizer {name!r} is not one of {', '.join(SINGLE_ID_QUANTIZERS)} (one id per token)"
        )


def build_token_quantizer(
    name: str,
    dim: int,
    *,
    codebook_size: int,
    code_dim: int,
    normalize: bool,
    beta: float,
    options: dict[str, Any],
) -> Quantizer:
    """``vq`` takes codebook size, lookup dimension, cosine codes and commitment weight from the model config
    (``options`` override them); every other quantizer is built from ``options`` alone."""
    if name == "vq":
        base = dict(codebook_size=codebook_size, code_dim=code_dim, normalize=normalize, beta=beta)
        return build_quantizer("vq", dim, **{**base, **options})
    return build_quantizer(name, dim, **options)
