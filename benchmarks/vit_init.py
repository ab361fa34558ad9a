"""Initialisation ablation: how long a CPU-sized TiTok sits on the flat-colour plateau with 0.02-scale position
and token tables (the common ViT default) against tokzoo's unit-scale sin-cos / token tables.

Both variants train side by side (one process and one CPU thread each) on the same batches and schedule as
``benchmarks/flexible.py`` (titok-t-32, width 96, 2+2 blocks, FSQ 8x5x5x5, AdamW lr 1e-3, batch 16, random 64 px
crops of the bundled photos); every ``steps // 6`` steps both are evaluated on the 27 held-out crops: PSNR and
``detail`` (mean within-image pixel std: ~0.01 for a flat-colour reconstruction, 0.13 for the images).

    python benchmarks/vit_init.py              # 1800 steps per variant (~8 min on 2 cores)
    python benchmarks/vit_init.py --quick      # 300 steps

Writes results/vit_init.csv/.json.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tokzoo
from common import write_results
from flexible import BENCH, QUANTIZERS, Entry, detail, eval_crops, train
from tokzoo.metrics import psnr

VARIANTS = ("tokzoo (unit-scale sin-cos)", "0.02-scale tables")


def build(variant: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = tokzoo.create("titok-t-32", **BENCH, **QUANTIZERS["fsq"])
    if variant == VARIANTS[1]:  # the common ViT default: small random position / query / token tables
        for table in (model.embed.pos, model.decoder.queries, model.latents, model.token_pos):
            table.data = torch.randn_like(table) * 0.02
    return model


def curve(variant: str, steps: int, lr: float) -> list[dict[str, Any]]:
    """Train ``variant`` for ``steps`` steps (``flexible.train``); one row per evaluation point."""
    torch.set_num_threads(1)
    images, rows, t0 = eval_crops(), [], time.perf_counter()

    def evaluate(step: int, model: torch.nn.Module) -> None:
        if step % max(1, steps // 6):
            return
        model.eval()
        with torch.no_grad():
            rec = model.decode(model.encode(images))
        model.train()
        rows.append({
            "init": variant, "step": step, "psnr": round(float(psnr(rec, images).mean()), 3),
            "detail": detail(rec), "train_s": round(time.perf_counter() - t0, 1),
        })  # fmt: skip

    train(Entry(variant, lambda: build(variant), [32]), steps, 16, lr, after_step=evaluate)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 steps")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args(argv)
    steps = args.steps or (300 if args.quick else 1800)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(curve, v, steps, args.lr) for v in VARIANTS]
        rows = [row for future in futures for row in future.result()]
    write_results("vit_init", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
