"""The bottleneck adapter: any registered quantizer on latents ``z[B, N, D]`` <-> ``Tokens`` and back.

A tokenizer (2-D grid, 1-D sequence, ...) holds its quantizer as a module and one ``Bottleneck`` around it, and
never needs to know which quantizer its config named::

    quantizer = build_quantizer(name, D, **options)        # registered as a submodule of the tokenizer
    bottleneck = Bottleneck(quantizer)                      # a plain helper object (no parameters of its own)
    out = bottleneck(z, shape)             # training path: QuantOut with latents (B, N, D), loss, stats
    tokens = bottleneck.encode(z, shape, meta={"tokenizer": ...})
    z_hat = bottleneck.decode(tokens)      # (B, N, D) latents; bottleneck.positions(tokens) gives ``shape``
    coarse = bottleneck.truncate(tokens, k)    # first k depths / scales: fewer bits, still decodable

``z`` is a sequence of N positions with D channels. ``shape`` says how the positions are laid out: ``(h, w)``
for a raster-order 2-D grid (N = h * w), ``(N,)`` or None for a 1-D sequence (any tuple whose product is N
works; the base layout is ``seq1d``, ``grid2d`` or ``grid3d`` by its length). The quantizer's ``token_kind``
decides the ``Tokens``:

- ``single`` (vq, fsq, lfq, gq, bsq, dual): ids (B, N) over ``codebook_size``; layout = base layout; shape.
- ``depth`` (rvq; ptq, whose "depths" are its D per-dimension ids): ids (B, k * N) in depth-major order (all
  positions of depth 0, then depth 1, ...), layout ``<base>+depth``, shape = ``shape + (k,)``. The first
  ``j * N`` ids are the code of the first j depths, so ``truncate`` is a prefix (rvq trained with quantizer
  dropout decodes from any prefix; ptq needs all D). Depths dropped in training (ids -1) are left out.
- ``multiscale`` (msrq): the VAR token maps 1x1 ... SxS concatenated coarse to fine, each raster order, layout
  ``multiscale``, shape = the side lengths of the scales present. ``shape`` must be the quantizer's
  ``(S, S)`` grid. Decoding the first k scales works (error falls with k). The 1-D form (msrq1d, VAT's
  multi-scale sequence) gives layout ``multiscale1d``: the token sequences of lengths s_1 ... L concatenated
  coarse to fine, shape = those lengths; ``shape`` must be ``(L,)``.
- ``continuous`` (kl): no ids; ``Tokens.values`` (B, N, C) holds the posterior means in ``value_dtype``
  (float16 by default, or float32), vocabulary 1 so ids cost 0 bits; the rate is C latent dimensions per
  position (``Tokens.value_channels``), ``vocab_size`` and ``bits_per_token`` are None.

``lengths`` (B,) marks variable-length sequences (single and continuous kinds): positions beyond a sample's
length are padding, not stored, and decode to zero latents.

A post-training quantizer (ptq, TokenBridge) is fitted after the continuous model is trained: the training path
(``__call__`` in train mode) and every call before ``fit`` pass ``z`` through unchanged with NaN codebook stats,
as a continuous bottleneck would; once fitted, eval-mode calls and ``encode`` quantize.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.tokens import VALUE_DTYPES, Tokens
from tokzoo.quant.base import Quantizer, QuantOut
from tokzoo.quant.registry import build_quantizer

KINDS = ("single", "depth", "multiscale", "continuous")
BASE_LAYOUTS = {1: "seq1d", 2: "grid2d", 3: "grid3d"}
MULTISCALE_LAYOUTS = {1: "multiscale1d", 2: "multiscale"}  # by the quantizer's ``dims``


class Bottleneck:
    """Turns a quantizer's output on ``z[B, N, D]`` into ``Tokens`` and ``Tokens`` back into latents.

    Args:
        quantizer: any :class:`Quantizer` (its ``token_kind`` picks the token layout).
        value_dtype: ``"float16"`` or ``"float32"``: how continuous tokens store their values.
    """

    def __init__(self, quantizer: Quantizer, *, value_dtype: str = "float16") -> None:
        if quantizer.token_kind not in KINDS:
            raise ConfigError(
                f"quantizer token_kind {quantizer.token_kind!r} is not one of {', '.join(KINDS)}"
            )
        if value_dtype not in VALUE_DTYPES:
            raise ConfigError(f"value_dtype must be one of {', '.join(VALUE_DTYPES)}, got {value_dtype!r}")
        self.quantizer = quantizer
        self.value_dtype = VALUE_DTYPES[value_dtype]

    @classmethod
    def build(cls, name: str, dim: int, *, value_dtype: str = "float16", **options: Any) -> Bottleneck:
        """``Bottleneck(build_quantizer(name, dim, **options))``."""
        return cls(build_quantizer(name, dim, **options), value_dtype=value_dtype)

    @property
    def kind(self) -> str:
        """``single``, ``depth``, ``multiscale`` or ``continuous``."""
        return self.quantizer.token_kind

    @property
    def vocab_size(self) -> int | None:
        """Ids per token (per depth / scale), None for a continuous bottleneck."""
        return None if self.kind == "continuous" else self.quantizer.codebook_size

    # ----------------------------------------------------------------------------------------------- quantize
    def __call__(self, z: torch.Tensor, shape: tuple[int, ...] | None = None) -> QuantOut:
        """The training path: quantize ``z[B, N, D]``; ``latents`` come back as (B, N, D)."""
        shape = self._check(z, shape)
        q = self.quantizer
        if q.post_training and (q.training or not q.is_fitted):
            return _pass_through(z)
        out = q(self._grid(z, shape)) if self.kind == "multiscale" else q(z)
        out.latents = out.latents.reshape(z.shape)
        return out

    @torch.no_grad()
    def encode(
        self,
        z: torch.Tensor,
        shape: tuple[int, ...] | None = None,
        *,
        meta: dict[str, Any] | None = None,
        lengths: torch.Tensor | None = None,
    ) -> Tokens:
        """Quantize ``z[B, N, D]`` (whatever the module's mode) into ``Tokens`` as described in the module doc."""
        shape = self._check(z, shape)
        base = BASE_LAYOUTS.get(len(shape), "seq1d")
        meta = dict(meta or {})
        if lengths is not None and self.kind in ("depth", "multiscale"):
            raise DataError(
                f"variable lengths are not supported by {self.kind} bottlenecks (fixed N per sample)"
            )
        if self.kind == "continuous":
            values = self.quantizer.latent_values(z).to(self.value_dtype)
            return Tokens.from_values(values, base, shape, meta, lengths)
        q = self.quantizer
        if self.kind == "multiscale":
            ids = q(self._grid(z, shape)).ids
            k = _leading_valid(ids.split(q.scale_ids(), dim=1))
            length = sum(q.scale_ids(q.scales[:k]))
            return Tokens.from_ids(ids[:, :length], q.codebook_size, self._ms_layout, q.scales[:k], meta)
        ids = q(z).ids
        if self.kind == "depth":
            k = _leading_valid(ids.unbind(-1))
            flat = ids[..., :k].transpose(1, 2).reshape(ids.shape[0], -1)
            return Tokens.from_ids(flat, q.codebook_size, base + "+depth", (*shape, k), meta)
        if lengths is None:
            return Tokens.from_ids(ids, q.codebook_size, base, shape, meta)
        return Tokens(ids, lengths, q.codebook_size, base, shape, meta)

    # ------------------------------------------------------------------------------------------------- decode
    def decode(self, tokens: Tokens) -> torch.Tensor:
        """``Tokens`` from :meth:`encode` (or :meth:`truncate`) -> latents (B, N, D) on the quantizer's device;
        padding positions of variable-length tokens are zeros. Mismatched tokens raise ``DataError``."""
        self._check_tokens(tokens)
        q, device = self.quantizer, self._device()
        b = len(tokens)
        if self.kind == "continuous":
            assert tokens.values is not None
            latents = q.values_to_latents(tokens.values.to(device))
            return latents * tokens._mask().to(device).unsqueeze(-1)
        if self.kind == "multiscale":
            ids = tokens.ids[:, : sum(q.scale_ids(tokens.shape))].to(device)
            return q.ids_to_latents(ids).reshape(b, -1, q.dim)
        if self.kind == "depth":
            k, n = tokens.shape[-1], math.prod(tokens.shape[:-1])
            ids = tokens.ids[:, : k * n].reshape(b, k, n).transpose(1, 2).to(device)
            try:
                return q.ids_to_latents(ids)
            except ValueError as e:
                raise DataError(f"cannot decode {k} of the depths: {e}") from None
        mask = tokens._mask().to(device)
        ids = torch.where(mask, tokens.ids.to(device), 0)
        return q.ids_to_latents(ids) * mask.unsqueeze(-1)

    def positions(self, tokens: Tokens) -> tuple[int, ...]:
        """How the N decoded positions are laid out: ``(h, w)``, ``(N,)``, ... (``(S, S)`` for multi-scale,
        ``(L,)`` for 1-D multi-scale)."""
        if self.kind == "multiscale":
            return self._ms_positions
        if self.kind == "depth":
            return tokens.shape[:-1]
        return tokens.shape or (int(tokens.ids.shape[1]),)

    def truncate(self, tokens: Tokens, k: int) -> Tokens:
        """The code of the first ``k`` depths (depth kind) or scales (multiscale kind): a lower-rate ``Tokens``
        that :meth:`decode` accepts."""
        self._check_tokens(tokens)
        if self.kind not in ("depth", "multiscale"):
            raise DataError(f"{self.kind} tokens have no depths or scales to drop")
        have = tokens.shape[-1] if self.kind == "depth" else len(tokens.shape)
        if not 1 <= k <= have:
            raise DataError(f"can keep 1..{have} {'depths' if self.kind == 'depth' else 'scales'}, not {k}")
        if self.kind == "depth":
            shape, length = (*tokens.shape[:-1], k), k * math.prod(tokens.shape[:-1])
        else:
            shape, length = tokens.shape[:k], sum(self.quantizer.scale_ids(tokens.shape[:k]))
        return Tokens.from_ids(tokens.ids[:, :length], tokens.vocab_size, tokens.layout, shape, tokens.meta)

    @torch.no_grad()
    def fit(self, z: torch.Tensor) -> Bottleneck:
        """Fit a post-training quantizer (or a kl bottleneck's storage grid) on trained continuous latents
        ``z[..., D]``; returns self."""
        if not self.quantizer.fittable:
            raise ConfigError(
                f"{type(self.quantizer).__name__} is trained with the model, not fitted afterwards"
            )
        self.quantizer.fit(z.reshape(-1, z.shape[-1]))
        return self

    # -------------------------------------------------------------------------------------------------- checks
    def _check(self, z: torch.Tensor, shape: tuple[int, ...] | None) -> tuple[int, ...]:
        if z.ndim != 3:
            raise DataError(f"bottleneck input must be (B, N, D) latents, got shape {tuple(z.shape)}")
        shape = (int(z.shape[1]),) if shape is None else tuple(int(s) for s in shape)
        if math.prod(shape) != z.shape[1] or not shape:
            raise DataError(
                f"positions shape {shape} does not hold the {z.shape[1]} positions of the latents"
            )
        if self.kind == "multiscale" and shape != self._ms_positions:
            side = self.quantizer.scales[-1]
            need = (
                f"sequence of {side} positions"
                if len(self._ms_positions) == 1
                else f"{side}x{side} latent grid"
            )
            raise DataError(f"the multi-scale bottleneck needs a {need} (its last scale), got shape {shape}")
        return shape

    @property
    def _ms_positions(self) -> tuple[int, ...]:
        """The positions a multi-scale quantizer's input covers: ``(S, S)`` or, in 1-D, ``(L,)``."""
        return (self.quantizer.scales[-1],) * self.quantizer.dims

    @property
    def _ms_layout(self) -> str:
        return MULTISCALE_LAYOUTS[self.quantizer.dims]

    def _grid(self, z: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        return z.reshape(z.shape[0], *shape, z.shape[-1])

    def _device(self) -> torch.device:
        for t in (*self.quantizer.parameters(), *self.quantizer.buffers()):
            return t.device
        return torch.device("cpu")

    def _check_tokens(self, tokens: Tokens) -> None:
        """Raise ``DataError`` unless ``tokens`` look like this bottleneck's output."""
        if len(tokens) == 0:
            raise DataError("nothing to decode: an empty batch of tokens")
        if self.kind == "continuous":
            dim = self.quantizer.latent_dim
            if tokens.values is None or tokens.value_channels != dim:
                got = "no values" if tokens.values is None else f"{tokens.value_channels} values per token"
                raise DataError(f"expected continuous tokens with {dim} values per token, got {got}")
            return
        if tokens.vocab_size != self.vocab_size:
            raise DataError(f"tokens have vocabulary {tokens.vocab_size}, this tokenizer {self.vocab_size}")
        if self.kind == "single":
            if tokens.layout.endswith("+depth") or tokens.layout in MULTISCALE_LAYOUTS.values():
                raise DataError(f"expected one id per position, got layout {tokens.layout!r}")
            if tokens.shape and math.prod(tokens.shape) != tokens.ids.shape[1]:
                raise DataError(f"shape {tokens.shape} does not match the {tokens.ids.shape[1]} token slots")
            return
        if self.kind == "multiscale":
            scales = self.quantizer.scales
            ok = (
                tokens.layout == self._ms_layout
                and tokens.shape == scales[: len(tokens.shape)]
                and tokens.shape
            )
            need = sum(self.quantizer.scale_ids(tokens.shape))
        else:
            ok = tokens.layout.endswith("+depth") and len(tokens.shape) >= 2 and tokens.shape[-1] >= 1
            need = math.prod(tokens.shape)
        if not ok:
            raise DataError(
                f"expected {self.kind} tokens from this bottleneck, got layout {tokens.layout!r} shape {tokens.shape}"
            )
        if int(tokens.lengths.min()) != need or int(tokens.lengths.max()) != need:
            raise DataError(f"{tokens.layout} tokens of shape {tokens.shape} need {need} ids per sample")


def _leading_valid(levels: tuple[torch.Tensor, ...] | list[torch.Tensor]) -> int:
    """How many leading levels (depths / scales) have no dropped (negative) id."""
    k = 0
    for level in levels:
        if bool((level < 0).any()):
            break
        k += 1
    if k == 0:
        raise DataError("the quantizer dropped every level: nothing to encode")
    return k


def _pass_through(z: torch.Tensor) -> QuantOut:
    """``z`` unchanged, zero loss, NaN codebook stats (a continuous bottleneck's output)."""
    nan = torch.tensor(float("nan"), device=z.device)
    stats = {"usage": nan, "perplexity": nan.clone(), "entropy_bits": nan.clone()}
    return QuantOut(z, None, z.new_zeros(()), stats)
