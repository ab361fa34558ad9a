"""``tokzoo demo``: train a small image tokenizer on the bundled photos, evaluate it, write a report.

Trains ``vq-f8-s`` on random 64 px crops of the scikit-image training photos, evaluates on the held-out
photos at 128 px (16×16 = 256 tokens each) through the same code path as ``tokzoo eval`` (against the
equal-bits thumbnail and, with ``rd``, JPEG/WebP/AVIF/JPEG XL at equal bytes), and writes under ``out``:
``model/`` (checkpoint), ``metrics.json``, ``report.html`` (self-contained), ``grid.png`` (originals /
reconstructions / thumbnails) and ``summary.txt``. A killed demo continues from its last checkpoint when run
again.
"""

from __future__ import annotations

import time
from pathlib import Path

import tokzoo
from tokzoo.bench.eval_run import EvalOptions, run_eval
from tokzoo.bench.report import format_summary
from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.train import TrainConfig, train
from tokzoo.train.state import list_checkpoints


def demo_config(out: Path, steps: int) -> TrainConfig:
    """The demo's training recipe (about 0.25 s per step on 2 CPU cores)."""
    return TrainConfig(
        model="vq-f8-s", data="bundled:train", image_size=64, crop_scale=(0.15, 1.0), batch_size=16,
        max_steps=steps, lr=1e-3, warmup_steps=50, seed=0, out_dir=str(out), ckpt_every=200, log_every=20,
    )  # fmt: skip


def run_demo(
    out: str | Path = "runs/demo", *, steps: int = 900, eval_size: int = 128, rd: bool = True
) -> dict:
    """Train (or resume), evaluate (with the codec rate–distortion section when ``rd``), report; returns the
    evaluation summary."""
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
    title = f"tokzoo demo: {cfg.model}, {steps} steps, held-out bundled photos"
    opts = EvalOptions(
        data="bundled:test", size=eval_size, out=out / "metrics.json", grid=out / "grid.png", rd=rd, title=title,
        meta={"model": cfg.model, "train_steps": steps, "train_seconds": round(train_s, 1)},
    )  # fmt: skip
    result = run_eval(model, opts).result
    text = format_summary(result, title)
    text += f"\n  wall time         {time.perf_counter() - t0:.0f} s (training {train_s:.0f} s)\n"
    text += f"  outputs           {out}/model, metrics.json, report.html, grid.png, summary.txt\n"
    atomic_write_bytes(out / "summary.txt", text.encode())
    print(text)
    return result.summary
