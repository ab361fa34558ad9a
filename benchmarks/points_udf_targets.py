"""How far the distance field's training targets are from zero ON the surface, per training-cloud density.

python benchmarks/points_udf_targets.py [--points 4096 16384 65536]  ->  results/points_udf_targets.csv

The triplane field of ``points-vat-tri-*`` learns the distance to the nearest of ``train_points`` surface
samples (NDF's targets). A query that lies on the surface but between samples gets a target of about half the
sample spacing instead of 0, so the field cannot learn a zero set sharper than that. For every held-out
``homedecor:test`` model, in the normalised frame the model trains in (farthest point at radius 1), this prints
the median and 90th percentile of that on-surface target (2,000 fresh surface samples against clouds of each
size) next to the F-score threshold (1 % of the diagonal). Seconds on one thread.
"""

from __future__ import annotations

import argparse

import torch

from common import write_results
from tokzoo.points import normalize
from tokzoo.points.data import point_files, read_points
from tokzoo.points.metrics import nearest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, nargs="+", default=[4096, 16384, 65536])
    a = ap.parse_args()
    rows = []
    for path in point_files("homedecor:test"):
        probe = torch.from_numpy(read_points(path, 2000, seed=5)[0]).float()[None]
        for n in a.points:
            cloud = torch.from_numpy(read_points(path, n, seed=0)[0]).float()[None]
            normed, centre, scale = normalize(cloud)
            probe_n = (probe - centre[:, None]) / scale[:, None, None]
            d = nearest(probe_n, normed)[0][0]
            diag = float((normed[0].amax(0) - normed[0].amin(0)).norm())
            rows.append({"model": path.name, "train_points": n, "f_threshold": round(0.01 * diag, 4),
                         "median_target": round(float(d.median()), 4),
                         "p90_target": round(float(d.quantile(0.9)), 4)})  # fmt: skip
            print(rows[-1], flush=True)
    write_results("points_udf_targets", rows)
    for n in a.points:
        sel = [r for r in rows if r["train_points"] == n]
        med = sorted(r["median_target"] for r in sel)
        print(f"{n} points: on-surface target median {med[0]:.4f}-{med[-1]:.4f} over {len(sel)} models "
              f"(F threshold {min(r['f_threshold'] for r in sel):.4f}-{max(r['f_threshold'] for r in sel):.4f})")  # fmt: skip


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
