"""``PointCodec``: what every point-cloud tokenizer shares — batches of clouds checked with one-line errors,
example clouds, files (meshes sampled by area or ``.xyz`` in, ``.xyz`` out), and placing decoded points back
in the source units from ``meta``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import DataError
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens
from tokzoo.points.data import read_points
from tokzoo.points.normalize import check_points

__all__ = ["PointCodec"]


class PointCodec(Tokenizer):
    """Base of the point tokenizers; configs carry ``num_points``, ``groups`` and ``group_size``."""

    modality = "points"

    def clouds(self, x: Any) -> list[torch.Tensor]:
        """The batch ``x`` ((N, 3) arrays/tensors, or a (B, N, 3) tensor) as checked (N, 3) float tensors."""
        items = (
            list(x) if (isinstance(x, torch.Tensor) and x.ndim == 3) or isinstance(x, (list, tuple)) else [x]
        )
        if not items:
            raise DataError("empty batch: nothing to encode")
        need = self.min_points()
        out = []
        for i, c in enumerate(items):
            cloud = check_points(
                c if isinstance(c, torch.Tensor) else torch.from_numpy(np.asarray(c)), f"sample {i}"
            )[0]
            if len(cloud) < need:
                raise DataError(f"sample {i}: {len(cloud)} points; needs at least {need}")
            out.append(cloud)
        return out

    def min_points(self) -> int:
        """The fewest points a cloud may have (the encoder groups them)."""
        return max(self.cfg.groups, self.cfg.group_size)

    def placed(self, points: torch.Tensor | list[torch.Tensor], tokens: Tokens) -> list[torch.Tensor]:
        """Normalised decoded points ((B, M, 3), or B tensors (M_i, 3)) in the source units ``tokens.meta``
        records."""
        n = tokens.batch_size
        centres = tokens.meta.get("centres") or [[0.0] * 3] * n
        scales = tokens.meta.get("scales") or [1.0] * n
        return [
            (p * float(s) + torch.tensor(c, dtype=p.dtype, device=p.device)).cpu()
            for p, c, s in zip(points, centres, scales, strict=True)
        ]

    def example_input(self) -> list[torch.Tensor]:
        """A sphere and a cube surface, ``num_points`` each."""
        n = self.cfg.num_points
        g = torch.Generator().manual_seed(0)
        sphere = nn.functional.normalize(torch.randn(n, 3, generator=g), dim=-1)
        cube = torch.rand(n, 3, generator=g) * 2 - 1
        axis = torch.randint(0, 3, (n,), generator=g)
        cube[torch.arange(n), axis] = torch.sign(cube[torch.arange(n), axis])
        return [sphere, cube]

    def load_file(self, path: Path) -> list[torch.Tensor]:
        """A mesh (``num_points`` sampled by area, seed 0) or an ``.xyz`` file, as a batch of one."""
        return [torch.from_numpy(read_points(Path(path), self.cfg.num_points)[0]).float()]

    def save_file(self, data: torch.Tensor, path: Path) -> None:
        """Write points as ``.xyz`` text (x y z per line)."""
        text = "\n".join(" ".join(f"{v:.6g}" for v in row) for row in torch.as_tensor(data).tolist()) + "\n"
        atomic_write_bytes(Path(path), text.encode())
