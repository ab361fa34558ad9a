"""``PatchTokenizer``: Point-BERT-style patch tokens of point clouds, trainable with ``tokzoo train``.

"Point-BERT: Pre-training 3D Point Cloud Transformers with Masked Point Modeling" (Yu et al., 2022) cuts a
cloud into patches (farthest-point centres, k nearest neighbours; :mod:`tokzoo.points.groups`), embeds each
with a mini-PointNet and gives the patch embeddings, mixed by a transformer, a discrete code (there a dVAE;
here FSQ, any ``tokzoo.quant`` quantizer by name). A decoder (transformer, then an MLP) turns each code and
its centre back into ``group_size`` points. A token is one patch: its centre on a ``2**centre_bits`` grid per
axis and its code, ``centre_id * codebook_size + code`` — so the token count is ``groups`` and the rate is
exact. Clouds are normalised to the unit sphere (:mod:`tokzoo.points.normalize`); ``meta`` keeps each
cloud's centre and scale so ``decode`` returns points in the source units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokens import Tokens
from tokzoo.nn.transformer import Transformer
from tokzoo.points.codec import PointCodec
from tokzoo.points.embed import PatchEmbed, mlp
from tokzoo.points.groups import group
from tokzoo.points.normalize import check_points, normalize
from tokzoo.quant.registry import build_quantizer

__all__ = ["PatchConfig", "PatchTokenizer"]


@dataclass
class PatchConfig:
    """``groups`` patches of ``group_size`` points from clouds of ``num_points`` (what ``load_file`` samples);
    ``dim``/``depth``/``heads`` of the encoder and decoder transformers; ``quantizer`` + options (FSQ levels);
    ``centre_bits`` per axis of the patch centres."""

    num_points: int = 1024
    groups: int = 64
    group_size: int = 32
    dim: int = 128
    depth: int = 2
    heads: int = 4
    quantizer: str = "fsq"
    quantizer_options: dict = field(default_factory=lambda: {"levels": [8, 5, 5, 5]})
    centre_bits: int = 6


class PatchTokenizer(PointCodec):
    """Point clouds <-> one token per patch (centre cell and FSQ code)."""

    def __init__(self, cfg: PatchConfig) -> None:
        super().__init__(cfg)
        if not 1 <= cfg.centre_bits <= 10:
            raise ConfigError(f"centre_bits must be in [1, 10], got {cfg.centre_bits!r}")
        if cfg.groups < 1 or cfg.group_size < 2 or cfg.groups > cfg.num_points:
            raise ConfigError("points: need 1 <= groups <= num_points and group_size >= 2")
        d = cfg.dim
        self.embed = PatchEmbed(d)
        self.encoder = Transformer(d, cfg.depth, cfg.heads)
        self.quantizer = build_quantizer(cfg.quantizer, d, **cfg.quantizer_options)
        if self.quantizer.codebook_size is None:
            raise ConfigError(f"points: quantizer {cfg.quantizer!r} is continuous; patch tokens need codes")
        self.centre_out = mlp(3, d, d)
        self.decoder = Transformer(d, cfg.depth, cfg.heads)
        self.head = mlp(d, 2 * d, 3 * cfg.group_size)

    @property
    def vocab_size(self) -> int:
        return 2 ** (3 * self.cfg.centre_bits) * self.quantizer.codebook_size

    # -- pieces ---------------------------------------------------------------------------------------
    def _centre_ids(self, centres: torch.Tensor) -> torch.Tensor:
        top = 2**self.cfg.centre_bits - 1
        q = torch.round((centres.clamp(-1, 1) + 1) / 2 * top).long()
        return (q[..., 0] << (2 * self.cfg.centre_bits)) | (q[..., 1] << self.cfg.centre_bits) | q[..., 2]

    def _centres_of(self, ids: torch.Tensor) -> torch.Tensor:
        b, top = self.cfg.centre_bits, 2**self.cfg.centre_bits - 1
        q = torch.stack([(ids >> 2 * b) & top, (ids >> b) & top, ids & top], -1).float()
        return q / top * 2 - 1

    def _encode_normalized(self, points: torch.Tensor):
        centres, patches = group(points, self.cfg.groups, self.cfg.group_size)
        h = self.embed(patches, centres)
        return centres, patches, self.quantizer(self.encoder(h))

    def _decode_latents(self, latents: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
        """(B, G, group_size, 3) points in the normalised frame."""
        h = self.decoder(latents + self.centre_out(centres))
        offsets = self.head(h).reshape(*h.shape[:2], self.cfg.group_size, 3)
        return centres[:, :, None] + 0.25 * offsets

    # -- Trainable ------------------------------------------------------------------------------------
    def loss(self, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        """Squared Chamfer distance between each decoded patch and its points (normalised frame) + the
        quantizer's loss."""
        points, _, _ = normalize(check_points(batch))
        centres, patches, q = self._encode_normalized(points)
        centres_q = self._centres_of(self._centre_ids(centres))
        pred = self._decode_latents(q.latents, centres_q)
        target = centres[:, :, None] + patches
        d = torch.cdist(pred.flatten(0, 1), target.flatten(0, 1)) ** 2
        rec = (d.min(-1).values.mean() + d.min(-2).values.mean()) / 2
        loss = rec + q.loss
        logs = {
            "chamfer2": float(rec.detach()),
            "perplexity": float(q.stats.get("perplexity", torch.tensor(0.0))),
        }
        return loss, logs

    # -- Codec ----------------------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, x: Any, *, num_tokens: int | None = None) -> Tokens:
        """One token per patch of each cloud ((N, 3) arrays/tensors, or a (B, N, 3) tensor)."""
        if num_tokens is not None and num_tokens != self.cfg.groups:
            raise ConfigError(
                f"this tokenizer always gives {self.cfg.groups} tokens per cloud, not {num_tokens}"
            )
        ids, centres, scales = [], [], []
        for cloud in self.clouds(x):
            pts, centre, scale = normalize(cloud[None].to(next(self.parameters()).device))
            c, _, q = self._encode_normalized(pts)
            ids.append(self._centre_ids(c)[0] * self.quantizer.codebook_size + q.ids[0])
            centres.append(centre[0].tolist())
            scales.append(float(scale[0]))
        ids_t = torch.stack(ids).cpu()
        lengths = torch.full((len(ids),), self.cfg.groups, dtype=torch.int64)
        meta = {"tokenizer": self.registry_name, "centres": centres, "scales": scales}
        return Tokens(ids_t, lengths, self.vocab_size, "seq1d", (), meta)

    @torch.no_grad()
    def decode(self, tokens: Tokens) -> list[torch.Tensor]:
        """(groups * group_size, 3) points per cloud, in the source units."""
        if tokens.vocab_size != self.vocab_size or tokens.layout != "seq1d":
            raise DataError(f"expected seq1d tokens over {self.vocab_size} ids, got {tokens.vocab_size}")
        device = next(self.parameters()).device
        ids = tokens.ids.to(device)
        k = self.quantizer.codebook_size
        centres = self._centres_of(ids // k)
        latents = self.quantizer.ids_to_latents(ids % k)
        pts = self._decode_latents(latents, centres).flatten(1, 2)
        return self.placed(pts, tokens)


register_preset(
    "points-patch-fsq-64", PatchTokenizer, PatchConfig(),
    "Point-BERT-style patch tokens: 64 patches of 32 points, FSQ codes (1000) + 6-bit centres, 28 bits/token",
)  # fmt: skip
