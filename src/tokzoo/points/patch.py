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

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.presets import register_preset
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens
from tokzoo.nn.transformer import Transformer
from tokzoo.points.data import read_points
from tokzoo.points.groups import group
from tokzoo.points.normalize import check_points, normalize, unnormalize
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


def _mlp(*sizes: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), nn.GELU()]
    return nn.Sequential(*layers[:-1])


class PatchTokenizer(Tokenizer):
    """Point clouds <-> one token per patch (centre cell and FSQ code)."""

    modality = "points"

    def __init__(self, cfg: PatchConfig) -> None:
        super().__init__(cfg)
        if not 1 <= cfg.centre_bits <= 10:
            raise ConfigError(f"centre_bits must be in [1, 10], got {cfg.centre_bits!r}")
        if cfg.groups < 1 or cfg.group_size < 2 or cfg.groups > cfg.num_points:
            raise ConfigError("points: need 1 <= groups <= num_points and group_size >= 2")
        d = cfg.dim
        self.point_mlp = _mlp(3, 64, d)
        self.patch_mlp = _mlp(2 * d, d, d)
        self.centre_in = _mlp(3, d, d)
        self.encoder = Transformer(d, cfg.depth, cfg.heads)
        self.quantizer = build_quantizer(cfg.quantizer, d, **cfg.quantizer_options)
        if self.quantizer.codebook_size is None:
            raise ConfigError(f"points: quantizer {cfg.quantizer!r} is continuous; patch tokens need codes")
        self.centre_out = _mlp(3, d, d)
        self.decoder = Transformer(d, cfg.depth, cfg.heads)
        self.head = _mlp(d, 2 * d, 3 * cfg.group_size)

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
        h = self.point_mlp(patches)  # (B, G, k, d)
        pooled = h.amax(2)
        h = self.patch_mlp(torch.cat([h.mean(2), pooled], -1)) + self.centre_in(centres)
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
    def _clouds(self, x: Any) -> list[torch.Tensor]:
        if (isinstance(x, torch.Tensor) and x.ndim == 3) or isinstance(x, (list, tuple)):
            items = list(x)
        else:
            items = [x]
        if not items:
            raise DataError("empty batch: nothing to encode")
        clouds = [
            check_points(
                torch.as_tensor(np.asarray(c) if not isinstance(c, torch.Tensor) else c), f"sample {i}"
            )[0]
            for i, c in enumerate(items)
        ]
        for i, c in enumerate(clouds):
            if len(c) < max(self.cfg.groups, self.cfg.group_size):
                raise DataError(
                    f"sample {i}: {len(c)} points; needs at least {max(self.cfg.groups, self.cfg.group_size)}"
                )
        return clouds

    @torch.no_grad()
    def encode(self, x: Any, *, num_tokens: int | None = None) -> Tokens:
        """One token per patch of each cloud ((N, 3) arrays/tensors, or a (B, N, 3) tensor)."""
        if num_tokens is not None and num_tokens != self.cfg.groups:
            raise ConfigError(
                f"this tokenizer always gives {self.cfg.groups} tokens per cloud, not {num_tokens}"
            )
        ids, centres, scales = [], [], []
        for cloud in self._clouds(x):
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
        n = tokens.batch_size
        centre = torch.tensor(
            tokens.meta.get("centres") or [[0.0] * 3] * n, dtype=torch.float32, device=device
        )
        scale = torch.tensor(tokens.meta.get("scales") or [1.0] * n, dtype=torch.float32, device=device)
        return list(unnormalize(pts, centre, scale).cpu())

    def example_input(self) -> list[torch.Tensor]:
        """A sphere and a cube surface, ``num_points`` each."""
        g = torch.Generator().manual_seed(0)
        sphere = nn.functional.normalize(torch.randn(self.cfg.num_points, 3, generator=g), dim=-1)
        cube = torch.rand(self.cfg.num_points, 3, generator=g) * 2 - 1
        axis = torch.randint(0, 3, (self.cfg.num_points,), generator=g)
        cube[torch.arange(self.cfg.num_points), axis] = torch.sign(
            cube[torch.arange(self.cfg.num_points), axis]
        )
        return [sphere, cube]

    def load_file(self, path: Path) -> list[torch.Tensor]:
        """A mesh (``num_points`` sampled by area, seed 0) or an ``.xyz`` file, as a batch of one."""
        return [torch.from_numpy(read_points(Path(path), self.cfg.num_points)[0]).float()]

    def save_file(self, data: torch.Tensor, path: Path) -> None:
        """Write points as ``.xyz`` text (x y z per line)."""
        from tokzoo.core.atomic import atomic_write_bytes

        text = "\n".join(" ".join(f"{v:.6g}" for v in row) for row in torch.as_tensor(data).tolist()) + "\n"
        atomic_write_bytes(Path(path), text.encode())


register_preset(
    "points-patch-fsq-64", PatchTokenizer, PatchConfig(),
    "Point-BERT-style patch tokens: 64 patches of 32 points, FSQ codes (1000) + 6-bit centres, 28 bits/token",
)  # fmt: skip
