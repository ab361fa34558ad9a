"""Multi-scale ViT tokenizer with scale-causal attention.

"HieraTok: Multi-Scale Visual Tokenizer Improves Image Reconstruction and Generation" (2025): the encoder's
token map is downsampled to several scales (1×1, 2×2, 4×4, … by area pooling) whose tokens form one coarse-to-fine
sequence; in the decoder a token attends only tokens of its own and coarser scales (a block-causal mask), so
information flows from global to detailed, and the image is read out by one mask token per patch.

With ``scale_drop`` the kept number of scales is sampled per sample in training, and ``encode(x, num_tokens=k)``
accepts any scale boundary ``k`` (1, 1+4, 1+4+16, …): a prefix of whole scales decodes on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tokzoo.core.autoencode import AutoencodeOut
from tokzoo.core.presets import register_preset
from tokzoo.core.tokens import Tokens
from tokzoo.image.pooled_vit import PooledViTConfig, PooledViTTokenizer
from tokzoo.nn.query_decoder import token_table
from tokzoo.nn.transformer import block_causal_mask, prefix_valid


@dataclass
class HieraTokConfig(PooledViTConfig):
    """Hyper-parameters of ``HieraTokTokenizer`` (stored as the checkpoint's ``config``)."""

    scale_drop: bool = False

    def __post_init__(self) -> None:
        self.check_scales("hieratok")

    @property
    def boundaries(self) -> list[int]:
        """Token counts at the end of each scale: 1, 5, 21, 85 for (1, 2, 4, 8)."""
        out, total = [], 0
        for s in self.scales:
            total += s * s
            out.append(total)
        return out


class HieraTokTokenizer(PooledViTTokenizer):
    """Images (B, 3, S, S) in [0, 1] → ``Tokens`` of layout ``multiscale`` (shape = the scale sides)."""

    layout = "multiscale"

    def build_token_positions(self) -> None:
        c = self.cfg
        self.token_pos = token_table(c.boundaries[-1], c.width)
        self.register_buffer("scale_mask", block_causal_mask([s * s for s in c.scales]), persistent=False)

    def _decode_latents(self, zq: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        valid = prefix_valid(lengths, zq.shape[1])
        return self.head(self.decoder(self.decoder_in(zq) + self.token_pos, valid, self.scale_mask))

    def token_counts(self) -> list[int]:
        """The scale boundaries with ``scale_drop``; all scales' tokens without."""
        bounds = self.cfg.boundaries
        return bounds if self.cfg.scale_drop else bounds[-1:]

    def encode(self, x: torch.Tensor, *, num_tokens: int | None = None) -> Tokens:
        bounds = self.cfg.boundaries
        k = bounds[-1] if num_tokens is None else int(num_tokens)
        allowed = self.token_counts()
        if k not in allowed:
            raise ValueError(
                f"{self.registry_name or 'hieratok'}: num_tokens must be one of {allowed}, got {k}"
            )
        return self.make_tokens(self.quantizer(self.pooled(x, self.cfg.scales)).ids[:, :k], x)

    def decode(self, tokens: Tokens) -> torch.Tensor:
        """Samples may stop at any scale boundary (a whole number of scales)."""
        bounds = self.cfg.boundaries
        lengths = self.check_tokens(tokens, bounds)
        ids = torch.zeros(len(tokens), bounds[-1], dtype=torch.int64, device=lengths.device)
        width = min(bounds[-1], tokens.ids.shape[1])
        ids[:, :width] = tokens.ids[:, :width].to(lengths.device)
        ids = ids.masked_fill(~prefix_valid(lengths, bounds[-1]), 0)
        return self._decode_latents(self.quantizer.ids_to_latents(ids), lengths).clamp(0, 1)

    def autoencode(self, batch: torch.Tensor) -> AutoencodeOut:
        c = self.cfg
        bounds = torch.tensor(c.boundaries, device=batch.device)
        latents = self.pooled(batch, c.scales)
        kept = torch.randint(0, len(bounds), (len(batch),), device=batch.device) if c.scale_drop else None
        lengths = bounds[kept] if kept is not None else bounds[-1].expand(len(batch))
        return self.quantize_and_decode(latents, lambda zq: self._decode_latents(zq, lengths), lengths)


register_preset(
    "hieratok-t", HieraTokTokenizer, HieraTokConfig(),
    "HieraTok multi-scale tokens 1+4+16+64 with scale-causal decoding; 64 px, width 128 (CPU).",
)  # fmt: skip
register_preset(
    "hieratok-s", HieraTokTokenizer,
    HieraTokConfig(
        image_size=256, patch_size=16, width=512, encoder_depth=8, decoder_depth=8, heads=8,
        scales=(1, 2, 4, 8, 16), codebook_size=4096, code_dim=12,
    ),
    "HieraTok multi-scale tokens 1+4+…+256 with scale-causal decoding; 256 px, width 512 (GPU).",
)  # fmt: skip
