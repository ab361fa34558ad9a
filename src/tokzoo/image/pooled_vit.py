"""ViT tokenizers whose tokens are area-pooled maps of the encoder's patch features (HieraTok, Matryoshka).

A ViT encoder gives a (g, g) feature map; the subclass pools it to one or several s×s maps whose cells become
tokens (quantized with a single-id quantizer), and a ViT ``QueryDecoder`` reads them out with one mask token per
patch. This module holds what both families share: the config fields and their checks, the encoder/decoder
pair, the token checks of ``decode`` and the training loss; the subclasses decide which scales form a code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.core.autoencode import AutoencodeOut
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.tokens import Tokens
from tokzoo.image.codec import ImageTokenizer
from tokzoo.image.vit_parts import PatchEmbed, PixelHead, ViTTokenizerConfig, check_image_size
from tokzoo.nn.losses import autoencoder_loss
from tokzoo.nn.query_decoder import QueryDecoder
from tokzoo.nn.transformer import Transformer


@dataclass
class PooledViTConfig(ViTTokenizerConfig):
    """``ViTTokenizerConfig`` plus the sides of the pooled token maps, coarse to fine."""

    scales: tuple[int, ...] = (1, 2, 4, 8)

    def check_scales(self, model: str) -> None:
        """ViT sizes; a single-id quantizer; increasing positive sides that fit the patch grid."""
        self.check_vit(model)
        self.scales = tuple(int(s) for s in self.scales)
        self.check_quantizer(model, ("single",), "one id per token")
        grid = self.image_size // self.patch_size
        if not self.scales or list(self.scales) != sorted(set(self.scales)) or self.scales[0] < 1:
            raise ConfigError(f"{model}: scales must be increasing positive sides, got {list(self.scales)}")
        if self.scales[-1] > grid:
            raise ConfigError(f"{model}: scales {list(self.scales)} must fit the {grid}x{grid} patch grid")


class PooledViTTokenizer(ImageTokenizer):
    """Shared encoder → pooled maps → quantizer → query decoder; subclasses define ``layout`` and the scales."""

    layout = ""  # the Tokens layout of the subclass

    def __init__(self, cfg: PooledViTConfig) -> None:
        super().__init__(cfg)
        c = cfg
        self.embed = PatchEmbed(c.image_size, c.patch_size, c.in_channels, c.width)
        self.encoder = Transformer(c.width, c.encoder_depth, c.heads, c.mlp_ratio)
        self.quantizer = c.build_quantizer(c.width)
        self.build_token_positions()
        self.decoder_in = nn.Linear(c.width, c.width)
        self.decoder = QueryDecoder(self.embed.grid, c.width, c.decoder_depth, c.heads, c.mlp_ratio)
        self.head = PixelHead(self.embed.grid, c.patch_size, c.in_channels, c.width)

    def build_token_positions(self) -> None:
        """Create the position tables of the tokens (called between the quantizer and the decoder)."""
        raise NotImplementedError

    @property
    def vocab_size(self) -> int:
        return self.quantizer.codebook_size

    @property
    def input_size(self) -> int:
        return self.cfg.image_size

    @property
    def downsample_factor(self) -> int:
        return self.cfg.patch_size

    def pooled(self, x: torch.Tensor, sides: tuple[int, ...] | list[int]) -> torch.Tensor:
        """(B, Σ s², width): the encoder's feature map area-pooled to each side in ``sides``, concatenated."""
        check_image_size(x, channels=self.cfg.in_channels, size=self.cfg.image_size)
        g = self.embed.grid
        fmap = self.encoder(self.embed(x)).transpose(1, 2).reshape(len(x), -1, g, g)
        return torch.cat([F.adaptive_avg_pool2d(fmap, s).flatten(2) for s in sides], dim=2).transpose(1, 2)

    def make_tokens(self, ids: torch.Tensor, x: torch.Tensor) -> Tokens:
        """Wrap (B, L) ids of images ``x`` as this tokenizer's ``Tokens``."""
        meta = {"tokenizer": self.registry_name, "image_size": [int(x.shape[-2]), int(x.shape[-1])]}
        return Tokens.from_ids(ids, self.vocab_size, layout=self.layout, shape=self.cfg.scales, meta=meta)

    def check_tokens(self, tokens: Tokens, allowed: list[int]) -> torch.Tensor:
        """Refuse tokens of another layout, vocabulary or length; the lengths on the model's device."""
        if tokens.layout != self.layout or tokens.shape != self.cfg.scales:
            raise DataError(
                f"expected {self.layout} tokens of scales {list(self.cfg.scales)}, got {tokens.layout!r} "
                f"{tokens.shape}"
            )
        if tokens.vocab_size != self.vocab_size:
            raise DataError(f"tokens have vocabulary {tokens.vocab_size}, this tokenizer {self.vocab_size}")
        bad = [n for n in tokens.lengths.tolist() if n not in allowed]
        if len(tokens) == 0 or bad:
            raise DataError(f"each sample needs one of {allowed} tokens, got {bad[:8]}")
        return tokens.lengths.to(self.decoder_in.weight.device)

    def quantize_and_decode(
        self,
        latents: torch.Tensor,
        decode: Callable[[torch.Tensor], torch.Tensor],
        kept: torch.Tensor,
    ) -> AutoencodeOut:
        """Quantize ``latents``, reconstruct with ``decode(zq)``, and log the mean kept token count ``kept``."""
        out = self.quantizer(latents)
        logs = {"kept_tokens": kept.float().mean(), **out.stats}
        return AutoencodeOut(decode(out.latents), out.loss, logs)

    def last_layer(self) -> torch.Tensor:
        return self.head.proj.weight

    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return autoencoder_loss(self.autoencode(batch), batch, self.cfg.l1_weight)
