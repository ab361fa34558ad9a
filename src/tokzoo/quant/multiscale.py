"""Multi-scale residual quantization, coarse to fine, with one shared codebook: of a square 2D latent grid
(``msrq``) or of a 1-D token sequence (``msrq1d``).

Method: "Visual Autoregressive Modeling: Scalable Image Generation via Next-Scale Prediction" (VAR, Tian et
al., 2024); its 1-D form over a token sequence follows "3D Representation in 512-Byte: Variational Tokenizer is
the Key for Autoregressive 3D Generation" (VAT, 2024/25). Quantizer dropout over scales follows "SoundStream: An
End-to-End Neural Audio Codec" (Zeghidour et al., 2021).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.quant.base import Quantizer, QuantOut
from tokzoo.quant.registry import register_quantizer
from tokzoo.quant.residual import level_stats, sample_num_levels
from tokzoo.quant.vq import VectorQuantizer


class _Phi(nn.Module):
    """VAR's per-scale refinement: ``(1 - r) * h + r * conv(h)`` on a channels-first map, with a 3x3 conv (2D)
    or a kernel-3 conv (1D)."""

    def __init__(self, dim: int, ratio: float, dims: int = 2) -> None:
        super().__init__()
        self.ratio = ratio
        self.conv = (nn.Conv1d if dims == 1 else nn.Conv2d)(dim, dim, 3, padding=1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h.mul(1 - self.ratio) + self.conv(h).mul(self.ratio)


@register_quantizer("msrq")
class MultiScaleResidualQuantizer(Quantizer):
    """Multi-scale residual VQ ("Visual Autoregressive Modeling: Scalable Image Generation via Next-Scale
    Prediction", Tian et al., 2024).

    Input is a square 2D grid ``z[B, H, W, D]`` (channels last) with ``H == W == scales[-1]`` (the 1-D form,
    ``z[B, L, D]``, is :class:`MultiScaleResidualQuantizer1d`). For each side length ``s`` in ``scales``:
    area-downsample the current residual to ``s x s``, quantise it with the ONE shared :class:`VectorQuantizer`,
    upsample the codes back to ``H x W`` (``upsample`` mode), optionally refine with a per-scale 3x3 conv (VAR's
    phi, ``phi_ratio > 0``), add to the reconstruction and subtract from the residual.

    ``ids`` is one flat ``(B, sum(s*s))`` tensor, the per-scale token maps in coarse-to-fine, row-major order
    (``split_ids`` recovers the maps). Training follows VAR: the codes are looked up on the detached input, the
    loss at every scale is ``mse(recon, z.detach()) + beta * mse(recon.detach(), z)`` (averaged over scales),
    and the latents pass a straight-through gradient to ``z``.

    Args:
        dim: channel size ``D``.
        scales: increasing side lengths, e.g. ``(1, 2, 4, 8, 16)``; the last must equal ``H`` (and ``W``).
        codebook_size: size of the shared codebook.
        normalize: passed to the shared :class:`VectorQuantizer` (default False, as suits residuals).
        beta: commitment weight (also passed to the codebook).
        upsample: ``"bicubic"`` (VAR, the default) or ``"bilinear"``.
        phi_ratio: mixing ratio of the per-scale conv refinement; 0 disables it (no conv parameters).
        quantizer_dropout: probability that a training batch uses only a random number k of leading scales;
            the ids of the other scales are ``-1``.
        **vq_options: any other :class:`VectorQuantizer` option (``code_dim``, ``ema``, ``kmeans_init``,
            ``restart_decay``, ...). Only its lookup, codebook state updates and statistics are used: the
            codes are re-read for the VAR loss, so its own loss and gradient estimator do not apply.
    """

    token_kind = "multiscale"
    #: spatial dimensions of the input (2: an ``s x s`` map per scale; 1: ``s`` tokens per scale)
    dims: ClassVar[int] = 2
    #: accepted ``upsample`` modes, the first being the default
    upsample_modes: ClassVar[tuple[str, ...]] = ("bicubic", "bilinear")
    _axes: ClassVar[tuple[str, ...]] = ("H", "W")
    _scale_noun: ClassVar[str] = "side lengths"

    def __init__(
        self,
        dim: int,
        scales: Sequence[int] = (1, 2, 4, 8, 16),
        codebook_size: int = 4096,
        *,
        normalize: bool = False,
        beta: float = 0.25,
        upsample: str | None = None,
        phi_ratio: float = 0.0,
        quantizer_dropout: float = 0.0,
        **vq_options: Any,
    ) -> None:
        super().__init__()
        scales = tuple(int(s) for s in scales)
        if not scales or any(s < 1 for s in scales) or any(a >= b for a, b in pairwise(scales)):
            raise ValueError(f"scales must be strictly increasing positive {self._scale_noun}, got {scales}")
        upsample = self.upsample_modes[0] if upsample is None else upsample
        if upsample not in self.upsample_modes:
            modes = " or ".join(repr(m) for m in self.upsample_modes)
            raise ValueError(f"upsample must be {modes}, got {upsample!r}")
        self.dim = dim
        self.scales = scales
        self.codebook_size = codebook_size
        self.beta = beta
        self.upsample = upsample
        self.quantizer_dropout = quantizer_dropout
        self.vq = VectorQuantizer(dim, codebook_size, normalize=normalize, beta=beta, **vq_options)
        self.phi = nn.ModuleList(_Phi(dim, phi_ratio, self.dims) for _ in scales) if phi_ratio > 0 else None

    def scale_ids(self, scales: Sequence[int] | None = None) -> list[int]:
        """Ids per scale of ``scales`` (default: all of this quantizer's): ``s ** dims`` each."""
        return [s**self.dims for s in (self.scales if scales is None else scales)]

    @property
    def num_tokens(self) -> int:
        """Ids per input: ``sum(s * s)`` (2D) or ``sum(s)`` (1D)."""
        return sum(self.scale_ids())

    @property
    def bits_per_token(self) -> float:
        """Bits per input (all scales): ``num_tokens * log2(codebook_size)``; one ``ids`` row is one token."""
        return self.num_tokens * math.log2(self.codebook_size)

    def split_ids(self, ids: torch.Tensor) -> list[torch.Tensor]:
        """Flat ``(B, L)`` ids -> per-scale maps ``[(B, s, s), ...]`` (2D) or ``[(B, s), ...]`` (1D) for the
        leading scales ``L`` covers."""
        maps, start = [], 0
        for s, n in zip(self.scales, self.scale_ids(), strict=True):
            if start + n > ids.shape[1]:
                break
            maps.append(ids[:, start : start + n].reshape(ids.shape[0], *(s,) * self.dims))
            start += n
        if start != ids.shape[1]:
            raise ValueError(f"{ids.shape[1]} ids do not cover a whole prefix of scales {self.scales}")
        return maps

    def _expand(self, q: torch.Tensor, i: int, size: int) -> torch.Tensor:
        """Channels-first codes at scale i -> refined ``(B, D, size[, size])`` contribution."""
        if q.shape[-1] != size:
            q = F.interpolate(q, size=(size,) * self.dims, mode=self.upsample, align_corners=False)
        return self.phi[i](q) if self.phi is not None else q

    def _check(self, z: torch.Tensor) -> None:
        side = self.scales[-1]
        if z.dim() != self.dims + 2 or any(n != side for n in z.shape[1:-1]) or z.shape[-1] != self.dim:
            axes = ", ".join(self._axes)
            raise ValueError(
                f"expected z[B, {axes}, {self.dim}] with {' == '.join(self._axes)} == {side}, got {tuple(z.shape)}"
            )

    def forward(self, z: torch.Tensor) -> QuantOut:
        self._check(z)
        with torch.autocast(device_type=z.device.type, enabled=False):
            return self._quantize(z.float())

    def _quantize(self, z: torch.Tensor) -> QuantOut:
        n = len(self.scales)
        k = sample_num_levels(n, self.quantizer_dropout, self.training, z.device)
        size = z.shape[1]
        target = z.detach().movedim(-1, 1)  # channels first: (B, D, H, W) or (B, D, L)
        recon = torch.zeros_like(target)
        loss = z.new_zeros(())
        ids_maps: list[torch.Tensor] = []
        level_ids: list[torch.Tensor | None] = [None] * n
        for i, (s, count) in enumerate(zip(self.scales, self.scale_ids(), strict=True)):
            if i >= k:
                ids_maps.append(torch.full((z.shape[0], count), -1, dtype=torch.long, device=z.device))
                continue
            residual = (target - recon).detach()
            if s != size:
                residual = F.interpolate(residual, size=(s,) * self.dims, mode="area")
            out = self.vq(residual.movedim(1, -1))  # lookup only; codes re-read below for gradients
            codes = self.vq.ids_to_latents(out.ids).movedim(-1, 1)
            recon = recon + self._expand(codes, i, size)
            loss = loss + F.mse_loss(recon, target) + self.beta * F.mse_loss(recon.detach(), z.movedim(-1, 1))
            ids_maps.append(out.ids.reshape(z.shape[0], -1))
            level_ids[i] = out.ids
        latents = recon.movedim(1, -1)
        latents = z + (latents - z).detach()
        stats = level_stats(level_ids, self.codebook_size)
        stats["num_scales_used"] = torch.tensor(float(k))
        return QuantOut(latents, torch.cat(ids_maps, dim=1), loss / k, stats)

    def ids_to_latents(self, ids: torch.Tensor, num_scales: int | None = None) -> torch.Tensor:
        """Decode flat ids (a prefix of the scales is enough) using only the first ``num_scales`` scales
        (default: all the ids cover). Scales whose ids are negative (dropped) contribute nothing."""
        maps = self.split_ids(ids)
        if num_scales is not None:
            if not 1 <= num_scales <= len(maps):
                raise ValueError(f"num_scales must be in 1..{len(maps)}, got {num_scales}")
            maps = maps[:num_scales]
        size = self.scales[-1]
        recon: torch.Tensor | None = None
        for i, m in enumerate(maps):
            if bool((m < 0).all()):
                continue
            valid = (m >= 0).unsqueeze(-1)
            codes = (self.vq.ids_to_latents(m.clamp_min(0)) * valid).movedim(-1, 1)
            part = self._expand(codes, i, size)
            recon = part if recon is None else recon + part
        if recon is None:
            return self.vq.codebook.weight.new_zeros(ids.shape[0], *(size,) * self.dims, self.dim)
        return recon.movedim(1, -1)


@register_quantizer("msrq1d")
class MultiScaleResidualQuantizer1d(MultiScaleResidualQuantizer):
    """Multi-scale residual VQ over a 1-D token sequence ``z[B, L, D]``: VAR's next-scale residual quantization
    ("Visual Autoregressive Modeling", Tian et al., 2024) along the sequence, as VAT ("3D Representation in
    512-Byte: Variational Tokenizer is the Key for Autoregressive 3D Generation", 2024/25) applies it to its 1-D
    shape tokens.

    ``scales`` are strictly increasing sequence lengths ending at ``L`` (e.g. ``(1, 2, 4, ..., 64)``, or any
    increasing lengths). Per scale the residual is area-downsampled along the sequence to ``s`` tokens
    (``adaptive_avg_pool1d``), quantised with the one shared codebook, upsampled back to ``L`` by ``"linear"``
    interpolation (the 1-D analogue of VAR's bicubic) and, with ``phi_ratio > 0``, refined by a per-scale
    kernel-3 ``Conv1d`` (VAR's phi). ``ids`` is one flat ``(B, sum(scales))`` tensor, coarse to fine; prefix
    decoding, quantizer dropout over scales, the loss and the options are those of
    :class:`MultiScaleResidualQuantizer` (same code).
    """

    dims = 1
    upsample_modes = ("linear",)
    _axes = ("L",)
    _scale_noun = "sequence lengths"
