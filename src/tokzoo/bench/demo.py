"""``tokzoo demo``: train a small image tokenizer on the bundled photos, evaluate it, write a report.

Trains ``vq-f8-s`` on random 64 px crops of the scikit-image training photos, evaluates on the held-out
photos at 128 px (16×16 = 256 tokens each) against the equal-bits thumbnail, and writes under ``out``:
``model/`` (checkpoint), ``metrics.json``, ``grid.png`` (originals / reconstructions / thumbnails) and
``summary.txt``. A killed demo continues from its last checkpoint when run again.
"""

from __future__ import annotations

import time
from pathlib import Path

import tokzoo
from tokzoo.bench.evaluate import evaluate, prepare_images
from tokzoo.bench.report import format_summary, save_grid, write_metrics
from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.data import bundled_images
from tokzoo.train import TrainConfig, train
from tokzoo.train.state import list_checkpoints


def demo_config(out: Path, steps: int) -> TrainConfig:
    """The demo's training recipe (about 0.25 s per step on 2 CPU cores)."""
    return TrainConfig(
        model="vq-f8-s", data="bundled:train", image_size=64, crop_scale=(0.15, 1.0), batch_size=16,
        max_steps=steps, lr=1e-3, warmup_steps=50, seed=0, out_dir=str(out), ckpt_every=200, log_every=20,
    )  # fmt: skip


def run_demo(out: str | Path = "runs/demo", *, steps: int = 900, eval_size: int = 128) -> dict:
    """Train (or resume), evaluate, report; returns the evaluation summary."""
    out = Path(out)
    t0 = time.perf_counter()
    cfg = demo_config(out, steps)
    resume = bool(list_checkpoints(out / "checkpoints"))
    print(
        f"[demo] training {cfg.model} for {steps} steps on {cfg.data} ({'resuming' if resume else 'fresh'})"
    )
    train(cfg, resume=resume)
    train_s = time.perf_counter() - t0
    model = tokzoo.load(out / "model")
    names, images = prepare_images(bundled_images("test"), eval_size)
    result = evaluate(model, names, images)
    save_grid(result, out / "grid.png")
    extras = {"model": cfg.model, "train_steps": steps, "train_seconds": round(train_s, 1)}
    write_metrics(result, out / "metrics.json", extras)
    text = format_summary(result, f"tokzoo demo: {cfg.model}, {steps} steps, held-out bundled photos")
    text += f"\n  wall time         {time.perf_counter() - t0:.0f} s (training {train_s:.0f} s)\n"
    text += f"  outputs           {out}/model, metrics.json, grid.png, summary.txt\n"
    atomic_write_bytes(out / "summary.txt", text.encode())
    print(text)
    return result.summary
