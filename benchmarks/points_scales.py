"""Where a multi-scale VAT model's latent goes, scale by scale: for each held-out homedecor model, the share of the
latent's norm the first scale (one id, the sequence mean) takes and the residual left after each whole prefix of
scales (relative to the latent's norm). Backs the per-scale residuals in docs/points.md.

    python benchmarks/points_scales.py runs/points-vat-tri-ms-cpu/model
"""

from __future__ import annotations

import argparse

import torch

import tokzoo
from common import write_results
from tokzoo.points.data import point_files, read_points
from tokzoo.points.normalize import normalize


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="a trained multi-scale VAT model folder (points-vat-tri-ms-*)")
    ap.add_argument("--models", type=int, default=9, help="held-out homedecor models read")
    a = ap.parse_args()
    tok = tokzoo.load(a.model).eval()
    if not getattr(tok, "multiscale", False):
        raise SystemExit(f"{a.model}: not a multi-scale VAT model (quantizer msrq1d)")
    q = tok.quantizer
    rows = []
    with torch.no_grad():
        for path in point_files("homedecor:test")[: a.models]:
            pts, _ = read_points(path, tok.cfg.num_points)
            cloud, _, _ = normalize(torch.as_tensor(pts, dtype=torch.float32)[None])
            z = tok._latents(cloud)
            ids = tok.bottleneck(z, (tok.cfg.num_tokens,)).ids
            norm = float(z.norm())
            row = {"model": path.name, "latent_norm": norm}
            for k, n in enumerate(tok.token_counts(), start=1):
                row[f"residual_after_{n}_ids"] = (
                    float((z - q.ids_to_latents(ids, num_scales=k)).norm()) / norm
                )
            row["first_scale_share"] = float(q.ids_to_latents(ids, num_scales=1).norm()) / norm
            rows.append(row)
    write_results("points_scales", rows)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
