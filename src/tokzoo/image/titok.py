"""1D latent-token image tokenizer: TiTok, and its flexible-length variants by configuration.

"An Image is Worth 32 Tokens for Reconstruction and Generation" (Yu et al., 2024): a ViT encoder reads the image
patches together with K learned latent tokens; only the latents are quantized; a ViT decoder reconstructs the
pixels from the quantized latents plus one mask token per patch, trained in a single stage on pixels.

The same model becomes a flexible-length tokenizer through its config (see ``tokzoo.nn.token_drop``):
``drop_schedule`` trains with a random kept prefix per sample (One-D-Piece's tail token drop with ``uniform``,
FlexTok's nested dropout with ``pow2``), ``causal_tokens`` lets latent i attend only latents ≤ i in the encoder
(FlexTok's causal register tokens, so a prefix never depends on later tokens), ``redundant_padding`` and
``semantic_weight`` add ReTok's redundant token padding and hierarchical semantic regularization.
Variable lengths inside a batch use a key-padding mask in the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tokzoo.core.autoencode import AutoencodeOut
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokens import Tokens
from tokzoo.image.codec import ImageTokenizer
from tokzoo.image.semantic import (
    CheckpointTeacher,
    alignment_loss,
    grid_features,
    tail_decay_weights,
    teacher_width,
)
from tokzoo.image.vit_parts import PatchEmbed, PixelHead, ViTTokenizerConfig, check_image_size
from tokzoo.nn.losses import autoencoder_loss
from tokzoo.nn.query_decoder import QueryDecoder, token_table
from tokzoo.nn.token_drop import causal_register_mask, check_schedule, redundant_fill, sample_keep_lengths
from tokzoo.nn.transformer import Transformer, prefix_valid
from tokzoo.quant.bottleneck import Bottleneck


@dataclass
class TiTokConfig(ViTTokenizerConfig):
    """Hyper-parameters of ``TiTokTokenizer`` (stored as the checkpoint's ``config``); the quantizer may be any
    of tokzoo.quant except multi-scale, and rvq/ptq only at fixed length."""

    num_tokens: int = 32
    drop_schedule: str = "none"  # "none" (fixed length) | "uniform" | "pow2" | "mixed"
    min_tokens: int = 1
    causal_tokens: bool = False
    redundant_padding: bool = False
    semantic_weight: float = 0.0
    teacher: str = ""  # checkpoint folder of the semantic teacher (or call set_teacher(module))
    teacher_dim: int = 0  # teacher feature width (inferred from `teacher` when 0)

    def __post_init__(self) -> None:
        check_schedule("titok", self.drop_schedule, self.num_tokens, self.min_tokens)
        self.check_vit("titok")
        self.check_quantizer("titok")
        if self.semantic_weight > 0 and not (self.teacher or self.teacher_dim):
            raise ConfigError("titok: semantic_weight > 0 needs a teacher checkpoint path or teacher_dim")

    @property
    def flexible(self) -> bool:
        return self.drop_schedule != "none"


class TiTokTokenizer(ImageTokenizer):
    """Images (B, 3, S, S) in [0, 1] → ``Tokens`` of layout ``seq1d`` with up to ``num_tokens`` ids each."""

    def __init__(self, cfg: TiTokConfig) -> None:
        super().__init__(cfg)
        c = cfg
        self.embed = PatchEmbed(c.image_size, c.patch_size, c.in_channels, c.width)
        n = self.embed.grid**2
        self.latents = token_table(c.num_tokens, c.width)
        self.encoder = Transformer(c.width, c.encoder_depth, c.heads, c.mlp_ratio)
        self.quantizer = c.build_quantizer(c.width)
        self.bottleneck = Bottleneck(self.quantizer)  # a helper object, not a module: no weights of its own
        if self.bottleneck.kind == "multiscale" or (self.bottleneck.kind == "depth" and c.flexible):
            raise ConfigError(
                f"titok: quantizer {c.quantizer!r} gives {self.bottleneck.kind} tokens, which a "
                + (
                    "1D sequence cannot hold (use hieratok)"
                    if self.bottleneck.kind == "multiscale"
                    else "flexible-length model cannot truncate per sample (use it with drop_schedule none)"
                )
            )
        self.token_pos = token_table(c.num_tokens, c.width)
        self.decoder_in = nn.Linear(c.width, c.width)
        self.decoder = QueryDecoder(self.embed.grid, c.width, c.decoder_depth, c.heads, c.mlp_ratio)
        self.head = PixelHead(self.embed.grid, c.patch_size, c.in_channels, c.width)
        mask = causal_register_mask(n, c.num_tokens)  # used only with causal_tokens
        self.register_buffer("encoder_mask", mask, persistent=False)
        self._teacher: nn.Module | None = None
        if c.semantic_weight > 0:
            if c.teacher_dim == 0:
                self.set_teacher(CheckpointTeacher(c.teacher))
            self.semantic_head = nn.Sequential(
                nn.Linear(c.width, c.width), nn.GELU(), nn.Linear(c.width, c.teacher_dim)
            )

    @property
    def vocab_size(self) -> int | None:
        return self.bottleneck.vocab_size

    @property
    def input_size(self) -> int:
        return self.cfg.image_size

    @property
    def downsample_factor(self) -> int:
        return self.cfg.patch_size

    def set_teacher(self, teacher: nn.Module) -> None:
        """Use ``teacher`` (images → features) for the semantic regularization; it is frozen and not saved."""
        teacher = teacher.eval().requires_grad_(False)
        width = teacher_width(teacher, self.cfg.image_size, self.cfg.in_channels)
        if self.cfg.teacher_dim == 0:
            self.cfg.teacher_dim = width
        elif width != self.cfg.teacher_dim:
            raise ConfigError(
                f"teacher features have {width} channels, the config says teacher_dim={self.cfg.teacher_dim}"
            )
        object.__setattr__(self, "_teacher", teacher)  # not a submodule: kept out of the state dict

    def _run_encoder(self, x: torch.Tensor) -> torch.Tensor:
        check_image_size(x, channels=self.cfg.in_channels, size=self.cfg.image_size)
        patches = self.embed(x)
        seq = torch.cat([patches, self.latents.expand(len(x), -1, -1)], dim=1)
        return self.encoder(seq, None if not self.cfg.causal_tokens else self.encoder_mask)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Encoder features at the patch positions, (B, N, width): the semantic features this model teaches."""
        return self._run_encoder(x)[:, : self.embed.grid**2]

    def _decode_latents(self, zq: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.cfg.redundant_padding:
            zq = redundant_fill(zq, lengths)
            valid = torch.ones(zq.shape[:2], dtype=torch.bool, device=zq.device)
        else:
            valid = prefix_valid(lengths, zq.shape[1])
        h = self.decoder(self.decoder_in(zq) + self.token_pos, valid)
        return self.head(h), h

    def token_counts(self) -> list[int]:
        """Every prefix length 1..K of a flexible model; K alone of a fixed-length one."""
        k_max = self.cfg.num_tokens
        return list(range(1, k_max + 1)) if self.cfg.flexible else [k_max]

    def encode(self, x: torch.Tensor, *, num_tokens: int | None = None) -> Tokens:
        k_max = self.cfg.num_tokens
        k = k_max if num_tokens is None else int(num_tokens)
        if not self.cfg.flexible and k != k_max:
            raise ValueError(
                f"{self.registry_name or 'this tokenizer'} is fixed-length ({k_max} tokens), not {k}; use a "
                "flexible variant (drop_schedule uniform/pow2) or truncate the Tokens yourself"
            )
        if not 1 <= k <= k_max:
            raise ValueError(f"num_tokens must be in [1, {k_max}], got {k}")
        z = self._run_encoder(x)[:, -k_max:]
        meta = {"tokenizer": self.registry_name, "image_size": [int(x.shape[-2]), int(x.shape[-1])]}
        return self.bottleneck.encode(z[:, :k], meta=meta)

    def decode(self, tokens: Tokens) -> torch.Tensor:
        k_max = self.cfg.num_tokens
        layout = "seq1d+depth" if self.bottleneck.kind == "depth" else "seq1d"
        if tokens.layout != layout:
            raise DataError(f"expected {layout} tokens, got layout {tokens.layout!r}")
        slots = tokens.shape[0] if self.bottleneck.kind == "depth" and tokens.shape else None
        lengths = tokens.lengths if slots is None else torch.full((len(tokens),), slots)
        if len(tokens) == 0 or int(lengths.min()) < 1 or int(lengths.max()) > k_max or (slots or 1) > k_max:
            raise DataError(
                f"every sample needs 1..{k_max} tokens to decode, got lengths {lengths.tolist()[:8]}"
            )
        zq = self.bottleneck.decode(tokens)  # (B, L, D), zeros beyond each sample's length
        zq = F.pad(zq[:, :k_max], (0, 0, 0, k_max - min(k_max, zq.shape[1])))
        return self._decode_latents(zq, lengths.to(zq.device))[0].clamp(0, 1)

    def autoencode(self, batch: torch.Tensor) -> AutoencodeOut:
        c = self.cfg
        out = self.bottleneck(self._run_encoder(batch)[:, -c.num_tokens :])
        lengths = sample_keep_lengths(
            len(batch), c.num_tokens, c.drop_schedule, min_tokens=c.min_tokens, device=batch.device
        )
        rec, h = self._decode_latents(out.latents, lengths)
        aux, logs = out.loss, {"vq_loss": out.loss.detach(), "kept_tokens": lengths.float().mean()}
        if c.semantic_weight > 0:
            sem = self._semantic_loss(batch, h, lengths)
            aux = aux + c.semantic_weight * sem
            logs["semantic_loss"] = sem.detach()
        logs.update(out.stats)
        return AutoencodeOut(rec, aux, logs)

    def last_layer(self) -> torch.Tensor:
        return self.head.proj.weight

    def loss(self, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return autoencoder_loss(self.autoencode(batch), batch, self.cfg.l1_weight)

    def _semantic_loss(self, batch: torch.Tensor, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self._teacher is None:
            if not self.cfg.teacher:
                raise ConfigError(
                    "semantic_weight > 0 but no teacher: pass teacher=<checkpoint> or call set_teacher"
                )
            self.set_teacher(CheckpointTeacher(self.cfg.teacher))
        teacher = self._teacher.to(batch.device)
        with torch.no_grad():
            target = grid_features(teacher(batch), self.embed.grid)
        weights = tail_decay_weights(lengths, self.cfg.num_tokens)
        return alignment_loss(self.semantic_head(h), target, weights)


def small_config(num_tokens: int) -> TiTokConfig:
    """The S size at 256 px: width 512, 8+8 blocks, 4096 codes of 12 dimensions."""
    return TiTokConfig(
        image_size=256, patch_size=16, width=512, encoder_depth=8, decoder_depth=8, heads=8,
        num_tokens=num_tokens, codebook_size=4096, code_dim=12,
    )  # fmt: skip


def base_config(num_tokens: int) -> TiTokConfig:
    """The B size at 256 px: width 768, 12+12 blocks, 4096 codes of 12 dimensions."""
    return TiTokConfig(
        image_size=256, patch_size=16, width=768, encoder_depth=12, decoder_depth=12, heads=12,
        num_tokens=num_tokens, codebook_size=4096, code_dim=12,
    )  # fmt: skip


def _register_sizes() -> None:
    """titok-t-{16,32,64} (64 px, CPU), titok-s-{32..256} and titok-b-{32..256} (256 px, GPU)."""
    presets = {
        f"titok-t-{k}": (TiTokConfig(num_tokens=k), "64 px, width 128, 3+3 blocks (CPU)")
        for k in (16, 32, 64)
    }
    for k in (32, 64, 128, 256):
        presets[f"titok-s-{k}"] = (small_config(k), "256 px, width 512, 8+8 blocks, 4096 codes (GPU)")
        presets[f"titok-b-{k}"] = (base_config(k), "256 px, width 768, 12+12 blocks, 4096 codes (GPU)")
    for name, (cfg, what) in presets.items():
        register_preset(
            name, TiTokTokenizer, cfg, f"TiTok 1D tokenizer, {cfg.num_tokens} tokens, fixed length; {what}."
        )


_register_sizes()
