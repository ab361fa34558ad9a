"""``VatTokenizer``: a short 1-D token sequence per point cloud, VAT-style, trainable with ``tokzoo train``.

After "3D Representation in 512-Byte: Variational Tokenizer is the Key for Autoregressive 3D Generation"
(VAT, 2024/2025): point patches (:mod:`tokzoo.points.groups`, :class:`~tokzoo.points.embed.PatchEmbed`) and
``num_tokens`` learned latent queries go through one transformer; the queries' outputs are the 1-D latent
sequence, quantized by any ``tokzoo.quant`` bottleneck (FSQ by default; ``rvq`` gives residual depths, ``kl``
the continuous variational latent, ``msrq1d`` VAT's coarse-to-fine multi-scale residual tokens, whose
``scales`` are sequence lengths ending at ``num_tokens``: a shape then costs ``sum(scales)`` ids). The decoder
reads the latent tokens with ``out_groups`` learned output queries, each emitting a centre and ``out_size``
points around it (``decoder="points"``, trained with the Chamfer distance), or, as VAT, into a triplane field (``decoder="triplane"``, :class:`~tokzoo.points.triplane.TriplaneField`):
VAT's field is an occupancy; this one is an unsigned distance, trained as NDF does (:mod:`tokzoo.points.udf`) on
denser clouds (``train_points``), because the real furniture meshes are not watertight and have no inside. Decoding
the field gives as many surface points as its grid (``surface_res``) holds, not a fixed count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import torch
from torch import nn

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokens import Tokens
from tokzoo.nn.transformer import Transformer
from tokzoo.points.codec import PointCodec
from tokzoo.points.embed import PatchEmbed, mlp
from tokzoo.points.groups import group
from tokzoo.points.normalize import check_points, normalize
from tokzoo.points.triplane import TriplaneField
from tokzoo.points.udf import sample_queries, surface_points, udf_targets
from tokzoo.quant.bottleneck import Bottleneck
from tokzoo.quant.registry import build_quantizer

__all__ = ["VatConfig", "VatTokenizer"]


@dataclass
class VatConfig:
    """``num_tokens`` latent tokens from ``groups`` input patches of ``group_size`` points (clouds of
    ``num_points``); ``out_groups`` x ``out_size`` decoded points; transformer ``dim``/``depth``/``heads``;
    ``quantizer`` + ``quantizer_options`` (``latent_dim`` channels enter it; for ``msrq1d`` the last of its
    ``scales`` must be ``num_tokens``). ``encoder``: ``"queries"`` (learned
    queries beside the patches) or ``"patches"`` (token i starts from the i-th of ``num_tokens`` farthest-point
    patches, plus a learned embedding of i). ``decoder``: ``"points"`` or
    ``"triplane"`` (``plane_res`` texels a side in ``plane_patch`` tiles of ``plane_channels``; trained on
    ``train_points`` per cloud with ``udf_queries`` queries and distances clamped at ``udf_clip``; decoded on a
    ``surface_res`` grid, at most ``max_out_points`` points)."""

    num_tokens: int = 64
    num_points: int = 1024
    groups: int = 64
    group_size: int = 32
    out_groups: int = 64
    out_size: int = 32
    dim: int = 128
    depth: int = 2
    heads: int = 4
    latent_dim: int = 16
    quantizer: str = "fsq"
    quantizer_options: dict = field(default_factory=lambda: {"levels": [8, 5, 5, 5]})
    encoder: str = "queries"
    decoder: str = "points"
    plane_res: int = 32
    plane_patch: int = 4
    plane_channels: int = 32
    train_points: int = 4096
    udf_queries: int = 2048
    udf_clip: float = 0.1
    surface_res: int = 64
    max_out_points: int = 50_000


class VatTokenizer(PointCodec):
    """Point clouds <-> ``num_tokens`` 1-D tokens (no positions or centres are sent); with the multi-scale
    ``msrq1d`` quantizer, ``sum(scales)`` ids per cloud, coarse to fine (layout ``multiscale1d``)."""

    def __init__(self, cfg: VatConfig) -> None:
        super().__init__(cfg)
        if cfg.num_tokens < 1 or cfg.groups > cfg.num_points or cfg.group_size < 2 or cfg.out_size < 1:
            raise ConfigError("points-vat: need num_tokens >= 1, groups <= num_points, group_size >= 2")
        if cfg.encoder not in ("queries", "patches"):
            raise ConfigError(f"points-vat: encoder must be 'queries' or 'patches', got {cfg.encoder!r}")
        if cfg.encoder == "patches" and cfg.num_tokens > cfg.num_points:
            raise ConfigError("points-vat: the patches encoder needs num_tokens <= num_points")
        if cfg.decoder not in ("points", "triplane"):
            raise ConfigError(f"points-vat: decoder must be 'points' or 'triplane', got {cfg.decoder!r}")
        d = cfg.dim
        self.embed = PatchEmbed(d)
        self.queries = nn.Parameter(torch.randn(cfg.num_tokens, d) * 0.02)
        self.encoder = Transformer(d, cfg.depth, cfg.heads)
        self.to_latent = nn.Linear(d, cfg.latent_dim)
        self.quantizer = build_quantizer(cfg.quantizer, cfg.latent_dim, **cfg.quantizer_options)
        self._check_multiscale()
        self.from_latent = nn.Linear(cfg.latent_dim, d)
        self.latent_pos = nn.Parameter(torch.randn(cfg.num_tokens, d) * 0.02)
        if cfg.decoder == "triplane":
            self.field = TriplaneField(
                d, cfg.depth, cfg.heads, cfg.plane_res, cfg.plane_patch, cfg.plane_channels
            )
        else:
            self.out_queries = nn.Parameter(torch.randn(cfg.out_groups, d) * 0.02)
            self.decoder = Transformer(d, cfg.depth, cfg.heads)
            self.head = mlp(d, 2 * d, 3 + 3 * cfg.out_size)

    def _check_multiscale(self) -> None:
        q, n = self.quantizer, self.cfg.num_tokens
        if q.token_kind != "multiscale":
            return
        if q.dims != 1:
            raise ConfigError(
                f"points-vat: quantizer {self.cfg.quantizer!r} quantizes a square 2-D grid; the 1-D token "
                "sequence needs msrq1d"
            )
        if q.scales[-1] != n:
            raise ConfigError(
                f"points-vat: the multi-scale quantizer's scales {list(q.scales)} must end at num_tokens = {n} "
                f"(sequence lengths, coarse to fine, e.g. [1, 2, 4, ..., {n}])"
            )

    @property
    def multiscale(self) -> bool:
        """Whether the tokens are multi-scale (``msrq1d``): ``sum(scales)`` ids, any whole prefix of scales decodes."""
        return self.quantizer.token_kind == "multiscale"

    def token_counts(self) -> list[int]:
        """Multi-scale: the ids of each whole prefix of scales (1, 1 + s_2, ..., sum(scales)); else none."""
        return list(accumulate(self.quantizer.scale_ids())) if self.multiscale else []

    @property
    def bottleneck(self) -> Bottleneck:
        return Bottleneck(self.quantizer)

    @property
    def vocab_size(self) -> int | None:
        return self.bottleneck.vocab_size

    def _latents(self, points: torch.Tensor) -> torch.Tensor:
        if self.cfg.encoder == "patches":
            centres, patches = group(points, self.cfg.num_tokens, self.cfg.group_size)
            return self.to_latent(self.encoder(self.embed(patches, centres) + self.queries))
        centres, patches = group(points, self.cfg.groups, self.cfg.group_size)
        h = torch.cat([self.embed(patches, centres), self.queries.expand(len(points), -1, -1)], 1)
        return self.to_latent(self.encoder(h)[:, -self.cfg.num_tokens :])

    def min_points(self) -> int:
        groups = self.cfg.num_tokens if self.cfg.encoder == "patches" else self.cfg.groups
        return max(groups, self.cfg.group_size)

    def dataset_options(self) -> dict[str, int]:
        """What the training data must give: ``train_points`` per cloud for the triplane field."""
        return {"points": self.cfg.train_points} if self.cfg.decoder == "triplane" else {}

    def _embedded(self, latents: torch.Tensor) -> torch.Tensor:
        return self.from_latent(latents) + self.latent_pos

    def _points(self, latents: torch.Tensor) -> torch.Tensor:
        """(B, out_groups * out_size, 3) in the normalised frame."""
        b, k = len(latents), self.cfg.num_tokens
        h = torch.cat([self._embedded(latents), self.out_queries.expand(b, -1, -1)], 1)
        out = self.head(self.decoder(h)[:, k:])
        centres, offsets = out[..., :3], out[..., 3:].reshape(b, self.cfg.out_groups, self.cfg.out_size, 3)
        return (torch.tanh(centres)[:, :, None] + 0.25 * offsets).flatten(1, 2)

    def loss(self, batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        """Squared Chamfer distance of the decoded cloud to the input (normalised frame) + quantizer loss; for
        the triplane field, L1 of the clamped distances at NDF's queries."""
        points, _, _ = normalize(check_points(batch))
        if self.cfg.decoder == "triplane":
            return self._field_loss(points)
        q = self.bottleneck(self._latents(points), (self.cfg.num_tokens,))
        pred = self._points(q.latents)
        d = torch.cdist(pred, points) ** 2
        rec = (d.min(-1).values.mean() + d.min(-2).values.mean()) / 2
        logs = {
            "chamfer2": float(rec.detach()),
            "perplexity": float(q.stats.get("perplexity", torch.tensor(0.0))),
        }
        return rec + q.loss, logs

    def _field_loss(self, cloud: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        n = self.cfg.num_points
        enc = (
            cloud[:, torch.randperm(cloud.shape[1], device=cloud.device)[:n]] if cloud.shape[1] > n else cloud
        )
        q = self.bottleneck(self._latents(enc), (self.cfg.num_tokens,))
        planes = self.field.planes(self._embedded(q.latents))
        clip = self.cfg.udf_clip
        queries = sample_queries(cloud, self.cfg.udf_queries, (0.01, 0.04))
        with torch.no_grad():
            target = udf_targets(queries, cloud, clip)
        pred = self.field.distance(planes, queries)
        # L1 to the clamped distance; beyond the clamp only a prediction below it is wrong (NDF clamps both
        # sides instead, which leaves no gradient for a prediction above the clamp where the target is not)
        err = torch.where(target < clip, (pred - target).abs(), (clip - pred).clamp_min(0))
        rec = err.mean()
        near = target < 0.02
        logs = {
            "udf_l1": float(rec.detach()),
            "udf_l1_near": float(err[near].mean().detach()) if near.any() else 0.0,
            "perplexity": float(q.stats.get("perplexity", torch.tensor(0.0))),
        }
        return rec + q.loss, logs

    @torch.no_grad()
    def encode(self, x: Any, *, num_tokens: int | None = None) -> Tokens:
        """``num_tokens`` tokens per cloud ((N, 3) arrays/tensors, or a (B, N, 3) tensor). Multi-scale: all
        ``sum(scales)`` ids by default; ``num_tokens`` may be any of :meth:`token_counts` (a prefix of scales)."""
        counts = self.token_counts()
        if counts and num_tokens is not None and num_tokens not in counts:
            raise ConfigError(
                f"this multi-scale tokenizer gives a whole prefix of scales {list(self.quantizer.scales)}: "
                f"num_tokens must be one of {counts}, not {num_tokens}"
            )
        if not counts and num_tokens is not None and num_tokens != self.cfg.num_tokens:
            raise ConfigError(
                f"this tokenizer gives {self.cfg.num_tokens} tokens per cloud, not {num_tokens}"
            )
        clouds = self.clouds(x)
        device = self.queries.device
        normed, centres, scales = [], [], []
        for cloud in clouds:
            pts, centre, scale = normalize(cloud[None].to(device))
            normed.append(self._latents(pts))
            centres.append(centre[0].tolist())
            scales.append(float(scale[0]))
        meta = {"tokenizer": self.registry_name, "centres": centres, "scales": scales}
        tokens = self.bottleneck.encode(torch.cat(normed), (self.cfg.num_tokens,), meta=meta)
        if counts and num_tokens is not None:
            tokens = self.bottleneck.truncate(tokens, counts.index(num_tokens) + 1)
        return tokens

    @torch.no_grad()
    def decode(self, tokens: Tokens) -> list[torch.Tensor]:
        """Points per cloud in the source units: ``out_groups * out_size`` of them, or for the triplane field
        the points of its zero set on a ``surface_res`` grid (a count that depends on the shape). Multi-scale
        tokens of a prefix of the scales decode too (a coarser shape)."""
        try:
            latents = self.bottleneck.decode(tokens)
        except DataError as e:
            raise DataError(f"points-vat: {e}") from None
        if self.cfg.decoder == "points":
            return self.placed(self._points(latents), tokens)
        planes = self.field.planes(self._embedded(latents))
        size, cap = self.cfg.surface_res, self.cfg.max_out_points
        points = [
            surface_points(lambda x, i=i: self.field.distance(planes[i : i + 1], x), size, max_points=cap)
            for i in range(len(latents))
        ]
        return self.placed(points, tokens)


for _k in (64, 128, 256):
    register_preset(
        f"points-vat-{_k}", VatTokenizer, VatConfig(num_tokens=_k),
        f"VAT-style 1-D point-cloud tokens: {_k} FSQ tokens (1000 codes) per shape, point decoder",
    )  # fmt: skip
    # LFQ with its entropy term: with FSQ the triplane model collapsed (docs/points.md)
    register_preset(
        f"points-vat-tri-{_k}", VatTokenizer,
        VatConfig(num_tokens=_k, encoder="patches", decoder="triplane", quantizer="lfq", quantizer_options={"bits": 10}),
        f"VAT-style 1-D point-cloud tokens: {_k} LFQ tokens (10 bits) per shape, triplane distance field",
    )  # fmt: skip
    # VAT's multi-scale residual tokens: sequence lengths 1, 2, 4, ..., k, one 1,024-code VQ codebook (10 bits
    # per id), 2k - 1 ids per shape
    register_preset(
        f"points-vat-tri-ms-{_k}", VatTokenizer,
        VatConfig(num_tokens=_k, encoder="patches", decoder="triplane", quantizer="msrq1d",
                  quantizer_options={"scales": [2**i for i in range(_k.bit_length())], "codebook_size": 1024}),
        f"VAT-style multi-scale 1-D point-cloud tokens: lengths 1, 2, 4, ..., {_k} ({2 * _k - 1} ids of 10 bits) "
        "per shape, triplane distance field",
    )  # fmt: skip
