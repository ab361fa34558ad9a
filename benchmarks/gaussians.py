"""Gaussian spatial tokens (GST-VLA-style) on held-out RGB-D frames: depth error vs token budget and bytes.

python benchmarks/gaussians.py [--quick]  ->  results/gaussians.csv (per frame and setting),
                                              results/gaussians_summary.csv

Frames: 64 x 64 px, 60 degree field of view, rendered from the 9 ``homedecor:test`` meshes (held out by mesh),
2 views each (:mod:`tokzoo.points.depth_data`; no package ships real RGB-D). Each ``gst-depth-K`` model,
K in {16, 32, 64, 128, 256}, is measured twice: the k-means initialisation alone (``steps=0``) and after its
default fitting (30 Adam steps on the splatted depth). Metrics on the pixels with a true depth: AbsRel, RMSE
(m), the share within 1.25x (``delta1``) and coverage; a pixel the decoder leaves empty counts as depth 0.
Floor at equal bytes: the largest s x s log-depth map of 10 bits per value that fits in the tokens' bits
(colour bits included), area-downsampled and bilinearly upsampled (:func:`tokzoo.points.rgbd.depth_floor`).

python benchmarks/gaussians.py --learned runs/gst-learned-cpu/model [--quick]
    ->  results/gaussians_learned.csv, results/gaussians_learned_summary.csv (the part above is not run)

The learned encoder (``gst-learned-K``, :mod:`tokzoo.points.gaussian_encoder`, trained by ``tokzoo train
--config configs/gst-learned-cpu.yaml``) against ``gst-depth-K`` at the same K and bytes (k-means alone and
fitted) on the same frames, each frame encoded alone and timed (``encode_s``: wall seconds of ``encode`` for
one frame, one thread).
"""

from __future__ import annotations

import argparse
import math
import time

import torch

import tokzoo
from common import write_results
from tokzoo.points.data import point_files
from tokzoo.points.depth_data import render_view
from tokzoo.points.rgbd import Camera, depth_floor, depth_metrics, floor_size

BUDGETS = (16, 32, 64, 128, 256)
METRICS = ("absrel", "rmse", "delta1", "coverage")


def frames(views: int, limit: int | None) -> tuple[list[str], torch.Tensor]:
    camera = Camera(64, 60.0)
    files = point_files("homedecor:test")[:limit]
    names = [f"{f.stem}#{v}" for f in files for v in range(views)]
    return names, torch.stack([render_view(f, v, camera) for f in files for v in range(views)])


def learned_part(path: str, names: list[str], batch: torch.Tensor) -> None:
    """Learned vs fitted Gaussians at the learned model's K (module docstring)."""
    learned = tokzoo.load(path)
    k = learned.cfg.num_gaussians
    models = {
        "learned": learned,
        "init": tokzoo.create(f"gst-depth-{k}", steps=0),
        "fitted": tokzoo.create(f"gst-depth-{k}"),
    }
    rows, summary = [], []
    for label, model in models.items():
        setting = []
        for i, name in enumerate(names):
            frame = batch[i : i + 1]
            t0 = time.perf_counter()
            tokens = model.encode(frame)
            seconds = time.perf_counter() - t0
            decoded = model.decode(tokens)[0, 3]
            bits = tokens.nbits()
            side = floor_size(bits)
            ours = depth_metrics(decoded, frame[0, 3])
            floor = depth_metrics(depth_floor(frame[0, 3], side, model.cfg.near, model.cfg.far), frame[0, 3])
            row = {"frame": name, "K": k, "encoder": label, "bytes": math.ceil(bits / 8), "floor_side": side}
            row |= {m: ours[m] for m in METRICS} | {f"floor_{m}": floor[m] for m in METRICS}
            row["encode_s"] = seconds
            rows.append(row)
            setting.append(row)
        mean = {m: sum(r[m] for r in setting) / len(setting) for m in (*METRICS, "encode_s")}
        wins = sum(r["absrel"] < r["floor_absrel"] for r in setting)
        summary.append(
            {"K": k, "encoder": label, "frames": len(setting), "bytes": setting[0]["bytes"]}
            | mean
            | {f"floor_{m}": sum(r[f"floor_{m}"] for r in setting) / len(setting) for m in METRICS}
            | {"absrel_wins": f"{wins}/{len(setting)}"}
        )
        print(summary[-1], flush=True)
    write_results("gaussians_learned", rows)
    write_results("gaussians_learned_summary", summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 meshes, 1 view, K in {16, 64}")
    parser.add_argument(
        "--learned", metavar="CHECKPOINT", help="only: learned vs fitted at its K (see above)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    names, batch = frames(1 if args.quick else 2, 3 if args.quick else None)
    if args.learned:
        learned_part(args.learned, names, batch)
        return
    budgets = (16, 64) if args.quick else BUDGETS
    rows, summary = [], []
    for k in budgets:
        for label, overrides in (("init", {"steps": 0}), ("fitted", {})):
            model = tokzoo.create(f"gst-depth-{k}", **overrides)
            t0 = time.perf_counter()
            tokens = model.encode(batch)
            seconds = time.perf_counter() - t0
            decoded = model.decode(tokens)
            setting = []
            for i, name in enumerate(names):
                bits = tokens.nbits_per_sample()[i]
                side = floor_size(bits)
                ours = depth_metrics(decoded[i, 3], batch[i, 3])
                floor = depth_metrics(
                    depth_floor(batch[i, 3], side, model.cfg.near, model.cfg.far), batch[i, 3]
                )
                row = {"frame": name, "K": k, "fit": label, "bytes": math.ceil(bits / 8), "floor_side": side}
                row |= {m: ours[m] for m in METRICS} | {f"floor_{m}": floor[m] for m in METRICS}
                rows.append(row)
                setting.append(row)
            mean = {m: sum(r[m] for r in setting) / len(setting) for m in METRICS}
            floor_mean = {f"floor_{m}": sum(r[f"floor_{m}"] for r in setting) / len(setting) for m in METRICS}
            wins = sum(r["absrel"] < r["floor_absrel"] for r in setting)
            summary.append(
                {"K": k, "fit": label, "frames": len(setting), "bytes": setting[0]["bytes"]}
                | mean
                | {"floor_side": setting[0]["floor_side"]}
                | floor_mean
                | {"absrel_wins": f"{wins}/{len(setting)}", "encode_s_per_frame": seconds / len(setting)}
            )
            print(summary[-1], flush=True)
    write_results("gaussians", rows)
    write_results("gaussians_summary", summary)


if __name__ == "__main__":
    main()
