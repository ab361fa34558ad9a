"""Which training recipe to ship: an ablation at equal CPU time on the held-out photo split.

Every arm trains the same f8 grid tokenizer (16×16 tokens at 128 px) on random 64 px crops of the photo corpus
for the same CPU-time budget: each arm first measures its own steps per CPU-second (process time, so other
load on the machine does not shift the budget) and then runs a full warm-up + cosine schedule of the number of
steps that fits. Each is evaluated at 128 px on the held-out split: PSNR, SSIM and the high-frequency energy
ratio (sharpness), each beside the equal-bits thumbnail.

python benchmarks/recipe_ablation.py --data data/photos/train --test data/photos/test \
    --budget 180 --jobs 2          ->  results/recipe_ablation.{csv,json}
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

from common import RESULTS, write_results

FSQ = {"quantizer": "fsq", "quantizer_options": {"levels": [8, 5, 5, 5]}}
BASE: dict[str, Any] = dict(model="vq-f8-s", image_size=64, crop_scale=[0.15, 1.0], batch_size=16, lr=1e-3)
ARMS: dict[str, dict[str, Any]] = {
    "vq (model loss: mse+0.5 l1)": {},
    "fsq": {"model_overrides": FSQ},
    "lfq 10 bits": {"model_overrides": {"quantizer": "lfq", "quantizer_options": {"bits": 10}}},
    "fsq, l1": {"model_overrides": FSQ, "pixel_loss": "l1"},
    "fsq, mse": {"model_overrides": FSQ, "pixel_loss": "mse"},
    "fsq, ms-ssim+l1": {"model_overrides": FSQ, "pixel_loss": "msssim"},
    "fsq, ema 0.999": {"model_overrides": FSQ, "ema_decay": 0.999},
    "fsq, gan 0.1 from 50%": {
        "model_overrides": FSQ,
        "pixel_loss": "mse+l1",
        "gan_weight": 0.1,
        "gan_start": -1,
    },
    "fsq, width 48": {"model_overrides": {**FSQ, "ch": 48}},
    "fsq, batch 32": {"model_overrides": FSQ, "batch_size": 32},
    "fsq, lr 2e-3": {"model_overrides": FSQ, "lr": 2e-3},
}


def _config(arm: str, data: str, out: Path, steps: int, ckpt_every: int):
    from tokzoo.train import TrainConfig

    kw = {**BASE, **ARMS[arm], "crop_scale": tuple(BASE["crop_scale"])}
    if kw.get("gan_start") == -1:  # the discriminator joins for the second half of the budget
        kw["gan_start"] = steps // 2
    return TrainConfig(
        **kw, data=data, max_steps=steps, warmup_steps=min(100, steps // 10), out_dir=str(out),
        ckpt_every=ckpt_every, log_every=50, progress=False,
    )  # fmt: skip


def run_arm(arm: str, data: str, test: str, budget: float, out: Path) -> dict[str, Any]:
    """Calibrate, train for ``budget`` CPU-seconds, evaluate; one process, one thread."""
    torch.set_num_threads(1)
    import shutil

    from tokzoo.train import Trainer

    slug = "".join(c if c.isalnum() else "_" for c in arm)
    probe_dir, run_dir = out / f"{slug}-probe", out / slug
    shutil.rmtree(probe_dir, ignore_errors=True)
    shutil.rmtree(run_dir, ignore_errors=True)
    t0 = time.process_time()
    Trainer(_config(arm, data, probe_dir, 12, 10**6)).fit()
    rate = 12 / (time.process_time() - t0)
    steps = max(20, int(rate * budget))
    shutil.rmtree(probe_dir, ignore_errors=True)
    t0, w0 = time.process_time(), time.perf_counter()
    trainer = Trainer(_config(arm, data, run_dir, steps, max(steps // 4, 1)))
    trainer.fit()
    cpu = time.process_time() - t0
    return {"arm": arm, "steps": steps, "cpu_s": round(cpu, 1), "wall_s": round(time.perf_counter() - w0, 1),
            **evaluate_run(run_dir / "model", test)}  # fmt: skip


def evaluate_run(model_dir: Path, test: str, size: int = 128) -> dict[str, Any]:
    """Held-out PSNR / SSIM / high-frequency energy ratio of a trained model and of its equal-bits thumbnail."""
    import tokzoo
    from tokzoo.bench.protocol import finalize
    from tokzoo.bench.thumbnail import thumbnail_reconstruct, thumbnail_side
    from tokzoo.data import ImageFolder, eval_transform, image_to_tensor
    from tokzoo.metrics.fidelity import psnr, ssim
    from tokzoo.metrics.sharpness import hf_energy_ratio

    model = tokzoo.load(model_dir)
    images = ImageFolder(test)
    x = torch.stack([eval_transform(image_to_tensor(images[i]), size) for i in range(len(images))])
    rows: dict[str, list[torch.Tensor]] = {k: [] for k in ("psnr", "ssim", "hf", "t_psnr", "t_ssim", "t_hf")}
    bits = 0
    with torch.no_grad():
        for b in x.split(16):
            tokens = model.encode(b)
            rec = finalize(model.decode(tokens))
            bits = tokens.nbits_per_sample()[0]
            thumb = finalize(thumbnail_reconstruct(b, thumbnail_side(bits)))
            for prefix, y in (("", rec), ("t_", thumb)):
                rows[prefix + "psnr"].append(psnr(y, b))
                rows[prefix + "ssim"].append(ssim(y, b))
                rows[prefix + "hf"].append(hf_energy_ratio(y, b))
    m = {k: torch.cat(v).mean().item() for k, v in rows.items()}
    return {
        "bits": round(float(bits), 1), "psnr": round(m["psnr"], 3), "d_psnr_vs_thumb": round(m["psnr"] - m["t_psnr"], 3),
        "ssim": round(m["ssim"], 4), "thumb_ssim": round(m["t_ssim"], 4), "hf_ratio": round(m["hf"], 3),
        "thumb_hf_ratio": round(m["t_hf"], 3), "test_images": len(x),
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="training images (folder or shards:PATTERN)")
    p.add_argument("--test", required=True, help="held-out image folder")
    p.add_argument("--budget", type=float, default=180.0, help="CPU-seconds of training per arm")
    p.add_argument("--jobs", type=int, default=2, help="arms trained at once (one thread each)")
    p.add_argument("--arms", nargs="*", default=list(ARMS), help="subset of arm names")
    p.add_argument("--out", default=str(RESULTS / "recipe_ablation_runs"))
    a = p.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    out = Path(a.out)
    with ProcessPoolExecutor(a.jobs) as pool:
        futures = [pool.submit(run_arm, arm, a.data, a.test, a.budget, out) for arm in a.arms]
        rows = [f.result() for f in futures]
    write_results("recipe_ablation", rows)


if __name__ == "__main__":
    main()
