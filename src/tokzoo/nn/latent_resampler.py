"""FlexTok's resampler over a frozen autoencoder's latent cells, shared by the image and video flex models.

"FlexTok: Resampling Images into 1D Token Sequences of Flexible Length" (Bachmann et al., 2025) and
"VideoFlexTok: Flexible-Length Coarse-to-Fine Video Tokenization" (2025) both keep a trained autoencoder fixed and
learn only to *resample its latent cells* into K causal register tokens with nested dropout: register i reads
every cell and the registers before it, only the registers are quantized, and a query decoder predicts every cell
back from any kept prefix. :class:`LatentResampler` is that part, independent of the cells' layout (an image's
(h, w) grid or a clip's (t, h, w) grid): a model that owns a conv ``encoder``, the grid's ``quantizer`` (FSQ)
and a conv ``decoder`` calls :meth:`LatentResampler._build_resampler` once with its cell count and positions and
then uses the methods below; the module names it adds (``grid_in``, ``grid_pos``, ``registers``, ``resampler``,
``token_quantizer``, ``token_pos``, ``token_in``, ``token_decoder``, ``grid_out``) are those of the checkpoints.

The training target (``latent_loss``) is the frozen encoder's latent in the grid FSQ's bounded code space, the
only part of the latent the grid's decoder sees; ``code_match`` logs the share of cells whose grid code the kept
prefix reproduces.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.core.autoencode import AutoencodeOut
from tokzoo.core.errors import DataError
from tokzoo.core.tokens import Tokens
from tokzoo.nn.query_decoder import QueryDecoder, token_table
from tokzoo.nn.token_drop import causal_register_mask, sample_keep_lengths
from tokzoo.nn.transformer import Transformer, prefix_valid
from tokzoo.quant import Bottleneck
from tokzoo.quant.fsq import FSQ


class LatentResampler(nn.Module):
    """Mixin for tokenizers that resample a frozen FSQ autoencoder's latent cells into flexible 1-D tokens.

    The subclass sets ``cfg`` (``width``, ``encoder_depth``, ``decoder_depth``, ``heads``, ``mlp_ratio``,
    ``num_tokens``, ``drop_schedule``, ``min_tokens``, ``z_channels``, ``flexible`` and the token bottleneck's
    ``build_quantizer``) and ``quantizer`` (the grid's FSQ), calls :meth:`_build_resampler`, and gives the frozen
    encoder's cells of an input (``_cells``) and the rendering of cells through the grid's decoder (``_render``).
    """

    cfg: Any
    quantizer: FSQ
    registry_name: str | None

    @abstractmethod
    def _cells(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, z_channels) latent cells of inputs ``x`` (checked) from the frozen encoder."""

    @abstractmethod
    def _render(self, cells: torch.Tensor) -> torch.Tensor:
        """Inputs (unclamped) from latent cells, through the grid's FSQ and decoder."""

    def _build_resampler(self, cell_pos: torch.Tensor) -> None:
        """Add the resampler's modules for cells at the (N, width) initial positions ``cell_pos``."""
        c = self.cfg
        self.grid_in = nn.Linear(c.z_channels, c.width)
        self.grid_pos = nn.Parameter(cell_pos.clone())
        self.registers = token_table(c.num_tokens, c.width)
        self.resampler = Transformer(c.width, c.encoder_depth, c.heads, c.mlp_ratio)
        self.token_quantizer = c.build_quantizer(c.width)
        self.bottleneck = Bottleneck(self.token_quantizer)  # a helper object, not a module: no weights
        self.token_pos = token_table(c.num_tokens, c.width)
        self.token_in = nn.Linear(c.width, c.width)
        self.token_decoder = QueryDecoder(cell_pos, c.width, c.decoder_depth, c.heads, c.mlp_ratio)
        self.grid_out = nn.Linear(c.width, c.z_channels)
        mask = causal_register_mask(len(cell_pos), c.num_tokens)
        self.register_buffer("resampler_mask", mask, persistent=False)

    @property
    def vocab_size(self) -> int | None:
        return self.bottleneck.vocab_size

    def token_counts(self) -> list[int]:
        """Every prefix length 1..K of a flexible model; K alone of a fixed-length one."""
        k_max = self.cfg.num_tokens
        return list(range(1, k_max + 1)) if self.cfg.flexible else [k_max]

    def _registers(self, cells: torch.Tensor) -> torch.Tensor:
        """(B, K, width) register outputs of the resampler for the latent ``cells`` (B, N, z_channels)."""
        seq = torch.cat(
            [self.grid_in(cells) + self.grid_pos, self.registers.expand(len(cells), -1, -1)], dim=1
        )
        return self.resampler(seq, self.resampler_mask)[:, -self.cfg.num_tokens :]

    def _predict_cells(self, zq: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Quantized registers (B, K, width), of which the first ``lengths[b]`` count → (B, N, z_channels)."""
        h = self.token_decoder(self.token_in(zq) + self.token_pos, prefix_valid(lengths, zq.shape[1]))
        return self.grid_out(h)

    def _code_space(self, cells: torch.Tensor) -> torch.Tensor:
        """The grid FSQ's bounded pre-rounding values of ``cells``: what its rounding (and decoder) sees."""
        return self.quantizer.bound(self.quantizer.proj_in(cells))

    def _encode_cells(self, cells: torch.Tensor, num_tokens: int | None, meta: dict[str, Any]) -> Tokens:
        """The first ``num_tokens`` (default K) register tokens of ``cells``; ValueError for a bad count."""
        k_max = self.cfg.num_tokens
        k = k_max if num_tokens is None else int(num_tokens)
        if not self.cfg.flexible and k != k_max:
            raise ValueError(
                f"{self.registry_name or 'this tokenizer'} is fixed-length ({k_max} tokens), not {k}"
            )
        if not 1 <= k <= k_max:
            raise ValueError(f"num_tokens must be in [1, {k_max}], got {k}")
        return self.bottleneck.encode(self._registers(cells)[:, :k], meta=meta)

    def _decode_cells(self, tokens: Tokens) -> torch.Tensor:
        """Predicted latent cells (B, N, z_channels) of ``seq1d`` tokens of 1..K ids per sample."""
        k_max = self.cfg.num_tokens
        if tokens.layout != "seq1d":
            raise DataError(f"expected seq1d tokens, got layout {tokens.layout!r}")
        lengths = tokens.lengths
        if len(tokens) == 0 or int(lengths.min()) < 1 or int(lengths.max()) > k_max:
            raise DataError(
                f"every sample needs 1..{k_max} tokens to decode, got lengths {lengths.tolist()[:8]}"
            )
        zq = self.bottleneck.decode(tokens)  # (B, L, width), zeros beyond each sample's length
        zq = F.pad(zq[:, :k_max], (0, 0, 0, k_max - min(k_max, zq.shape[1])))
        return self._predict_cells(zq, lengths.to(zq.device))

    def decode(self, tokens: Tokens) -> torch.Tensor:
        return self._render(self._decode_cells(tokens)).clamp(0, 1)

    def autoencode(self, batch: torch.Tensor) -> AutoencodeOut:
        predicted, logs, aux = self._resample(self._cells(batch))
        return AutoencodeOut(self._render(predicted), aux, logs)

    def _resample(self, cells: torch.Tensor) -> tuple[torch.Tensor, dict, torch.Tensor]:
        """(cells predicted from a random kept prefix per sample, logs, token aux loss) for training."""
        c = self.cfg
        out = self.bottleneck(self._registers(cells))
        lengths = sample_keep_lengths(
            len(cells), c.num_tokens, c.drop_schedule, min_tokens=c.min_tokens, device=cells.device
        )
        logs = {"vq_loss": out.loss.detach(), "kept_tokens": lengths.float().mean(), **out.stats}
        return self._predict_cells(out.latents, lengths), logs, out.loss

    def _latent_loss(
        self, cells: torch.Tensor, predicted: torch.Tensor, logs: dict, aux: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """MSE between predicted and encoder cells in the grid FSQ's code space (+ ``aux``); logs ``code_mse``
        and ``code_match``."""
        with torch.no_grad():
            target = self._code_space(cells)
        code_mse = F.mse_loss(self._code_space(predicted), target)
        logs["code_mse"] = code_mse.detach()
        with torch.no_grad():
            logs["code_match"] = (self.quantizer(predicted).ids == self.quantizer(cells).ids).float().mean()
        return code_mse + aux, logs
