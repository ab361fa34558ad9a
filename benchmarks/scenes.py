"""Occupancy scenes: mIoU vs tokens per frame, intra/inter tokens (I²-World-style) vs per-frame tokens.

python benchmarks/scenes.py [--steps 400] [--quick] [--scenes N] [--key-scales K ...] [--models II FRAME]
    ->  results/scenes.csv (every setting), results/scenes_summary.csv (tokens per frame at equal mIoU)

Trains ``scene-ii-msrq`` and ``scene-frame-msrq`` with ``tokzoo train`` (CPU, 1 thread, batch 4, the settings of
``configs/scene-*-cpu.yaml``) on scenes generated from the ``homedecor`` train models, unless ``--models`` names
two trained model folders. Then, on the 32 held-out ``homedecor:test`` scenes (8 frames of 32³ voxels, models
never seen in training), at every number of scales kept:

- ``frame``: every frame coded alone with k scales (k = 1..6: 1, 5, 14, 30, 66, 130 tokens per frame);
- ``ii``: the key frame with k_key scales, every later frame with k_rest scales of inter tokens;
- ``copy``: the floor of the split — the ii key frame at k_key, repeated (later frames cost nothing).

IoU (occupied vs free) and mIoU (floor, static, moving) pool all voxels of all scenes. The summary answers the
claim: for each per-frame setting, the fewest tokens per frame an ii (or copy) setting needs to reach the same
mIoU, and the same for IoU. ``--from-results`` recomputes the summary and plot from results/scenes.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import tokzoo
from common import RESULTS, write_results
from tokzoo.scenes.data import read_scene, scene_files
from tokzoo.scenes.evaluate import measure_levels

SCALES = 6


def train(model: str, steps: int, out: Path) -> Path:
    """``tokzoo train`` of one model with the CPU config's settings; the folder of its final model."""
    cmd = [sys.executable, "-m", "tokzoo", "train", f"model={model}", "data=homedecor:train", "batch_size=4",
           f"max_steps={steps}", "lr=2e-3", f"warmup_steps={min(50, steps // 4)}", "weight_decay=0",
           f"out_dir={out}", f"ckpt_every={steps}", "log_every=25", "progress=false"]  # fmt: skip
    subprocess.run(cmd, check=True)
    return out / "model"


def row(method: str, levels: tuple[int, int], m: dict[str, float]) -> dict:
    out = {"method": method, "k_key": levels[0], "k_rest": levels[1]}
    out |= {k: m[k] for k in ("tokens_per_frame", "bits_per_frame", "iou", "miou")}
    return out | {"iou_floor": m["iou/1"], "iou_static": m["iou/2"], "iou_moving": m["iou/3"]}


def summary(rows: list[dict], metric: str) -> list[dict]:
    """For each per-frame setting: the cheapest ii (and copy) setting with at least its ``metric``."""
    out = []
    for f in (r for r in rows if r["method"] == "frame"):
        line = {
            "metric": metric,
            "frame_k": f["k_key"],
            "frame_tokens": f["tokens_per_frame"],
            "frame": f[metric],
        }
        for method in ("ii", "copy"):
            ok = [r for r in rows if r["method"] == method and r[metric] >= f[metric]]
            best = min(ok, key=lambda r: r["tokens_per_frame"]) if ok else None
            line[f"{method}_tokens"] = best["tokens_per_frame"] if best else None
            line[f"{method}_levels"] = f"{best['k_key']}/{best['k_rest']}" if best else None
            line[method] = best[metric] if best else None
            line[f"{method}_saving"] = f["tokens_per_frame"] / best["tokens_per_frame"] if best else None
        out.append(line)
    return out


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for method, style in (("frame", "o-"), ("copy", "s--")):
        sel = sorted((r for r in rows if r["method"] == method), key=lambda r: r["tokens_per_frame"])
        ax.plot([r["tokens_per_frame"] for r in sel], [r["miou"] for r in sel], style, label=method)
    ii = [r for r in rows if r["method"] == "ii"]
    ax.scatter(
        [r["tokens_per_frame"] for r in ii],
        [r["miou"] for r in ii],
        s=12,
        c="C2",
        label="ii (all k_key/k_rest)",
    )
    ax.set(
        xscale="log",
        xlabel="tokens per frame",
        ylabel="mIoU (held-out scenes)",
        title="Occupancy scenes, 32³ × 8",
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--quick", action="store_true", help="30 training steps, 4 test scenes, fewer settings")
    ap.add_argument("--scenes", type=int, default=32, help="held-out scenes to measure (of 32)")
    ap.add_argument(
        "--key-scales", type=int, nargs="+", help="key-frame scales of the ii sweep (default: all)"
    )
    ap.add_argument("--models", nargs=2, type=Path, metavar=("II", "FRAME"), help="trained model folders")
    ap.add_argument("--from-results", action="store_true", help="summarise results/scenes.json again, no run")
    a = ap.parse_args()
    if a.from_results:
        rows = json.loads((RESULTS / "scenes.json").read_text())["rows"]
        write_results("scenes_summary", summary(rows, "miou") + summary(rows, "iou"))
        plot(rows, RESULTS / "scenes.png")
        return
    steps = 30 if a.quick else a.steps
    scenes = [torch.from_numpy(read_scene(p).astype("int64"))[None] for p in scene_files("homedecor:test")]
    scenes = scenes[: 4 if a.quick else a.scenes]
    ks = [1, 3, 6] if a.quick else list(range(1, SCALES + 1))
    keys = a.key_scales or ks
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        ii_path, frame_path = a.models or (
            train("scene-ii-msrq", steps, Path(tmp) / "ii"),
            train("scene-frame-msrq", steps, Path(tmp) / "frame"),
        )
        ii, frame = tokzoo.load(ii_path).eval(), tokzoo.load(frame_path).eval()
        rows = [row("frame", (k, k), measure_levels(frame, scenes, (k, k))) for k in ks]
        rows += [row("copy", (k, 1), measure_levels(ii, scenes, (k, 1), copy_after_key=True)) for k in ks]
        rows += [row("ii", (k, j), measure_levels(ii, scenes, (k, j))) for k in keys for j in ks]
    write_results("scenes", rows)
    write_results("scenes_summary", summary(rows, "miou") + summary(rows, "iou"))
    plot(rows, RESULTS / "scenes.png")
    print(f"{len(scenes)} scenes, {time.time() - t0:.0f} s")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
