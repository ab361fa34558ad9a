"""Point-cloud tokens on held-out real models: F-score and Chamfer vs bytes per shape.

python benchmarks/points.py [--steps 400] [--quick]  ->  results/points.csv (per model and setting),
                                                         results/points_summary.csv
python benchmarks/points.py --only vat-tri-256 --trained vat-tri-256=runs/points-vat-tri-cpu/model
    -> results/points_vat-tri-256.csv, results/points_summary_vat-tri-256.csv (settings named, models given)

Trains each setting with ``tokzoo train`` (CPU, 1 thread) on ``homedecor:train``: ``points-patch-fsq-64`` at 16,
32 and 64 patches (2,048 decoded points each: 128, 64, 32 per patch) and ``points-vat-{64,128,256}`` (2,048
decoded points), then on every ``homedecor:test`` model (held out
by model name): bytes per shape (``Tokens.nbits()``), Chamfer-L2 and F-score at 1 % of the bounding-box
diagonal between the decoded points and 10,000 points sampled from the mesh (seed 1). The floor at equal
bytes: as many farthest-point samples of the input as fit in the same bytes at 10 bits per coordinate. The
ceiling of the decoder's point count: as many exact surface samples (seed 2) as were decoded, against the same
target. ``points-vat-tri-256`` decodes a triplane distance field into as many points as its 64^3 grid gives
(up to 50,000): for it (and every setting) the F-score is also measured against a target as dense as the
decoded cloud (at least 10,000 samples, seed 3), where sampling density no longer caps it. A multi-scale model
(``points-vat-tri-ms-128``) is also scored on shorter whole prefixes of its scales (``--ms-prefixes``, rows
``LABEL@IDS``): one model's F-score vs bytes curve.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import tokzoo
from common import write_results
from tokzoo.points import f_score, farthest_points
from tokzoo.points.data import point_files, read_points
from tokzoo.points.metrics import chamfer, f_measure, precision_recall

#: (label, registered model, overrides): patch tokens at 16/32/64 patches (2,048 decoded points each) and
#: VAT-style 1-D tokens at 64/128/256 tokens.
SETTINGS = [
    ("patch-16", "points-patch-fsq-64", {"groups": 16, "group_size": 128}),
    ("patch-32", "points-patch-fsq-64", {"groups": 32, "group_size": 64}),
    ("patch-64", "points-patch-fsq-64", {}),
    ("vat-64", "points-vat-64", {}),
    ("vat-128", "points-vat-128", {}),
    ("vat-256", "points-vat-256", {}),
    ("vat-tri-256", "points-vat-tri-256", {}),
    ("vat-tri-409", "points-vat-tri-256", {"num_tokens": 409}),  # 4,090 bits: the 512-byte budget
    ("vat-tri-ms-128", "points-vat-tri-ms-128", {}),  # multi-scale: 1 + 2 + ... + 128 = 255 ids, 319 bytes
]


def train(model: str, overrides: dict, steps: int, out: Path, data: str = "homedecor:train") -> Path:
    """``tokzoo train`` of one setting on ``data``; the folder of its final model."""
    overrides = [f"model_overrides.{k}={v}" for k, v in overrides.items()]
    cmd = [sys.executable, "-m", "tokzoo", "train", f"model={model}", f"data={data}",
           "batch_size=8", f"max_steps={steps}", "lr=1e-3", "warmup_steps=50", "weight_decay=0",
           f"out_dir={out}", f"ckpt_every={steps}", "log_every=50", "progress=false", *overrides]  # fmt: skip
    subprocess.run(cmd, check=True)
    return out / "model"


def floor_points(cloud: torch.Tensor, nbytes: int) -> torch.Tensor:
    """The equal-bytes floor: farthest-point samples of ``cloud`` at 30 bits each, quantized to 10 bits per
    coordinate over the cloud's bounding box."""
    k = max(1, nbytes * 8 // 30)
    pts = cloud[farthest_points(cloud[None], min(k, len(cloud)))[0]]
    lo, hi = cloud.amin(0), cloud.amax(0)
    q = torch.round((pts - lo) / (hi - lo).clamp_min(1e-12) * 1023)
    return lo + q / 1023 * (hi - lo)


def score(decoded: torch.Tensor, tokens, cloud: torch.Tensor, path: Path, target: torch.Tensor) -> dict:
    """One held-out model's row: bytes, F-score at 1 % of the diagonal and Chamfer of ``decoded`` against
    ``target``, the equal-bytes floor, the point-count ceiling and the dense-target F-scores."""
    diag = float((target.amax(0) - target.amin(0)).norm())
    nbytes = math.ceil(tokens.nbits() / 8)
    floor = floor_points(cloud, nbytes)
    row = {"model": path.name, "tokens": tokens.num_tokens, "bytes": nbytes}
    precision, recall = precision_recall(decoded, target, 0.01 * diag)  # one pass of nearest neighbours
    row |= {"fscore_1pct": float(f_measure(precision, recall)[0])}
    row |= {"precision_1pct": float(precision[0]), "recall_1pct": float(recall[0])}
    row |= {"chamfer": float(chamfer(decoded, target)[0]) / diag}
    row |= {"floor_points": len(floor), "floor_fscore_1pct": float(f_score(floor, target, 0.01 * diag)[0])}
    row["floor_chamfer"] = float(chamfer(floor, target)[0]) / diag
    exact = torch.from_numpy(read_points(path, len(decoded), seed=2)[0]).float()
    row["ceiling_fscore_1pct"] = float(f_score(exact, target, 0.01 * diag)[0])
    dense = torch.from_numpy(read_points(path, max(10_000, len(decoded)), seed=3)[0]).float()
    row |= {"decoded_points": len(decoded), "dense_target_points": len(dense)}
    row["fscore_1pct_dense"] = float(f_score(decoded, dense, 0.01 * diag)[0])
    row["ceiling_fscore_1pct_dense"] = float(f_score(exact, dense, 0.01 * diag)[0])
    return row


def ms_selection(counts: list[int], last: int, ids: list[int] | None, label: str) -> list[int | None]:
    """The whole prefixes (ids) a multi-scale model is scored at: ``ids`` if given, else the last ``last`` of
    ``counts``; ``[None]`` (all tokens) for a single-scale model."""
    if not counts:
        return [None]
    if ids:
        bad = [n for n in ids if n not in counts]
        if bad:
            raise SystemExit(f"--ms-ids {bad} are not whole prefixes of {label}'s scales: {counts}")
        return list(ids)
    if last < 1:
        raise SystemExit(f"--ms-prefixes must be at least 1, got {last}")
    return list(counts[-last:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument(
        "--quick", action="store_true", help="40 training steps, 16 and 64 patches, 4 test models"
    )
    ap.add_argument(
        "--only", nargs="+", metavar="LABEL", help="these settings only (results named after them)"
    )
    ap.add_argument(
        "--trained", nargs="+", default=[], metavar="LABEL=DIR", help="a trained model per setting"
    )
    ap.add_argument(
        "--ms-prefixes",
        type=int,
        default=3,
        help="a multi-scale model's whole prefixes of scales scored (last N)",
    )
    ap.add_argument(
        "--ms-ids",
        type=int,
        nargs="+",
        metavar="N",
        help="score a multi-scale model at these whole prefixes instead (ids, e.g. 1 7 15; see token_counts())",
    )
    a = ap.parse_args()
    steps = 40 if a.quick else a.steps
    settings = [SETTINGS[0], SETTINGS[3]] if a.quick else SETTINGS
    if a.only:
        settings = [s for s in SETTINGS if s[0] in a.only]
    trained = dict(t.split("=", 1) for t in a.trained)
    given = {label: f"given ({folder})" for label, folder in trained.items()}
    files = point_files("homedecor:test")[: 4 if a.quick else None]
    targets = {p: torch.from_numpy(read_points(p, 10_000, seed=1)[0]).float() for p in files}
    rows, t0 = [], time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for label, name, overrides in settings:
            folder = trained.get(label) or train(name, overrides, steps, Path(tmp) / label)
            model = tokzoo.load(folder).eval()
            # a multi-scale model is scored on whole prefixes of its scales (--ms-prefixes / --ms-ids)
            counts = model.token_counts() if hasattr(model, "token_counts") else []
            chosen = ms_selection(counts, a.ms_prefixes, a.ms_ids, label)
            for path, target in targets.items():
                cloud = model.load_file(path)
                for n in chosen:
                    tokens = model.encode(cloud, num_tokens=n)
                    row = score(model.decode(tokens)[0], tokens, cloud[0], path, target)
                    rows.append({"setting": label if n is None or n == counts[-1] else f"{label}@{n}"} | row)
                    print(rows[-1], flush=True)
    suffix = ("_" + "_".join(a.only) if a.only else "") + (
        "_ids-" + "-".join(map(str, a.ms_ids)) if a.ms_ids else ""
    )
    write_results("points" + suffix, rows)
    summary = []
    for label in dict.fromkeys(r["setting"] for r in rows):
        sel = [r for r in rows if r["setting"] == label]
        mean = lambda k, sel=sel: sum(r[k] for r in sel) / len(sel)  # noqa: E731
        summary.append({"setting": label, "tokens": sel[0]["tokens"], "bytes": sel[0]["bytes"], "models": len(sel),
                        "steps": given.get(label.split("@")[0], steps),
                        "fscore_1pct": mean("fscore_1pct"), "chamfer": mean("chamfer"),
                        "floor_points": sel[0]["floor_points"], "floor_fscore_1pct": mean("floor_fscore_1pct"),
                        "floor_chamfer": mean("floor_chamfer"), "ceiling_fscore_1pct": mean("ceiling_fscore_1pct"),
                        "decoded_points": mean("decoded_points"), "fscore_1pct_dense": mean("fscore_1pct_dense"),
                        "ceiling_fscore_1pct_dense": mean("ceiling_fscore_1pct_dense")})  # fmt: skip
    write_results("points_summary" + suffix, summary)
    print(f"{time.time() - t0:.0f} s")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
