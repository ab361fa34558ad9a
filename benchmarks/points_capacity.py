"""Capacity of a point tokenizer's decoder: train on the very shapes it is scored on.

python benchmarks/points_capacity.py --shapes 1 --steps 300     ->  results/points_capacity_1.csv
python benchmarks/points_capacity.py --shapes 9 --steps 1500    ->  results/points_capacity_9.csv

``benchmarks/points.py`` scores tokenizers trained on ``homedecor:train`` on held-out models, which mixes two
questions: can the architecture (tokens -> field -> dense points) represent a shape to F >= 0.9 at 1 % of the
diagonal at all, and does what it learned generalise? This script answers the first alone: it trains a model
on the first ``--shapes`` ``homedecor:test`` models only (deliberately, no held-out data here) and scores the
decoded clouds of those same models with ``points.score`` (F-score at 1 % of the diagonal against 10,000
samples and against a dense target, Chamfer, the equal-bytes floor and the point-count ceiling). A low F here
means the decoder or its surface extraction is the limit; a high F here and a low one in ``points.py`` means
training data and steps are. For a distance-field decoder it also reads the field itself against the exact
distance to 100,000 surface samples, in the normalised frame: its median on the surface (0 for a perfect
field) and at points moved 0.02 / 0.05 / 0.1 off it in random directions (a sharp field follows the true
distance; a blurred one stays flat).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

import tokzoo
from common import write_results
from points import score, train
from tokzoo.points import normalize
from tokzoo.points.data import point_files, read_points
from tokzoo.points.metrics import nearest

#: how far probe points are moved off the surface (normalised units, farthest point at radius 1)
OFFSETS = (0.02, 0.05, 0.1)


@torch.no_grad()
def field_profile(model, tokens, cloud: torch.Tensor, path: Path) -> dict:
    """Median predicted vs exact distance of a triplane model's field (decoded from ``tokens``, the encoding
    of ``cloud``) on and off the surface of ``path``."""
    planes = model.field.planes(model._embedded(model.bottleneck.decode(tokens)))
    _, centre, scale = normalize(cloud[0][None])
    dense = torch.from_numpy(read_points(path, 100_000, seed=3)[0]).float()[None]
    dense = (dense - centre[:, None]) / scale[:, None, None]
    probe = dense[:, :: len(dense[0]) // 5000][:, :5000]
    gen = torch.Generator().manual_seed(0)
    row = {"field_on_surface": round(float(model.field.distance(planes, probe).median()), 4)}
    for off in OFFSETS:
        q = probe + torch.nn.functional.normalize(torch.randn(probe.shape, generator=gen), dim=-1) * off
        row[f"field_at_{off}"] = round(float(model.field.distance(planes, q).median()), 4)
        row[f"exact_at_{off}"] = round(float(nearest(q, dense)[0].median()), 4)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shapes", type=int, default=1, help="the first N homedecor:test models (1-9)")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--model", default="points-vat-tri-256")
    ap.add_argument("--trained", help="a model already trained on those shapes (skips training)")
    ap.add_argument("--out", help="train into this folder (kept) instead of a temporary one")
    ap.add_argument(
        "--set", nargs="+", default=[], metavar="KEY=VALUE", help="model overrides, e.g. train_points=16384"
    )
    a = ap.parse_args()
    files = point_files("homedecor:test")
    if not 1 <= a.shapes <= len(files):
        raise SystemExit(f"--shapes must be 1..{len(files)}, got {a.shapes}")
    files = files[: a.shapes]
    t0, rows = time.time(), []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "shapes"
        folder.mkdir()
        for f in files:
            (folder / f.name).symlink_to(f)
        run = Path(a.out) if a.out else Path(tmp) / "run"
        bad = [kv for kv in a.set if "=" not in kv[1:]]
        if bad:
            raise SystemExit(f"--set takes KEY=VALUE pairs, got {bad}")
        overrides = dict(kv.split("=", 1) for kv in a.set)
        model_dir = a.trained or train(a.model, overrides, a.steps, run, data=str(folder))
        model = tokzoo.load(model_dir).eval()
        for path in files:
            target = torch.from_numpy(read_points(path, 10_000, seed=1)[0]).float()
            cloud = model.load_file(path)
            tokens = model.encode(cloud)
            row = {"setting": " ".join([f"{a.model} on {a.shapes} shape(s)", *a.set]), "steps": a.steps}
            row |= score(model.decode(tokens)[0], tokens, cloud[0], path, target)
            rows.append(row | (field_profile(model, tokens, cloud, path) if hasattr(model, "field") else {}))
            print(rows[-1], flush=True)
    write_results("_".join([f"points_capacity_{a.shapes}", *(kv.replace("=", "-") for kv in a.set)]), rows)
    mean = lambda k: sum(r[k] for r in rows) / len(rows)  # noqa: E731
    if "field_on_surface" in rows[0]:
        print(
            "field (median, normalised units): on the surface "
            + f"{mean('field_on_surface'):.4f}, "
            + ", ".join(
                f"at {o} off {mean(f'field_at_{o}'):.4f} (exact {mean(f'exact_at_{o}'):.4f})" for o in OFFSETS
            )
        )
    print(
        f"{a.model} {' '.join(a.set)}, {a.shapes} shape(s), {a.steps} steps: F@1% {mean('fscore_1pct'):.3f} "
        f"(precision {mean('precision_1pct'):.3f}, recall {mean('recall_1pct'):.3f}; "
        f"dense {mean('fscore_1pct_dense'):.3f}, ceiling {mean('ceiling_fscore_1pct'):.3f}), "
        f"Chamfer {mean('chamfer'):.4f}; {time.time() - t0:.0f} s"
    )


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
