"""Flexible-length tokenizers at small scale: prefix curves, one model vs fixed models, ReTok padding, 1D vs 2D,
and the titok-pytorch peer — all trained with EQUAL steps on the same batches.

Data: random 64 px crops (scale 0.15–1, flips) of the 15 bundled training photos; evaluation on 27 fixed
64 px crops of the 3 held-out bundled test photos (shorter side resized to 64/96/128, centre/corner crops).
Every model sees the same batch sequence (``StreamBatchSampler``, seed 0), AdamW with the Trainer's
warm-up + cosine schedule, gradient clipping 1.0, one CPU thread per model. Models are tiny (width 96, 2+2
blocks); the bottleneck is FSQ with 8x5x5x5 = 1000 codes (``--quantizer vq`` for a 1024-code VQ), except the
titok-pytorch peer comparison, which pairs the peer with tokzoo's TiTok at the peer's own 1024-code VQ.

    python benchmarks/flexible.py --jobs 2   # full run (1200 steps per model; ~35 min with 2 jobs on 2 cores)
    python benchmarks/flexible.py --quick    # a few minutes: fewer steps and models

Writes results/flexible.csv/.json (one row per model x token count), results/flexible_claims.json,
results/flexible_*.png and docs/img/flex_*.png.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

import tokzoo
from common import RESULTS, write_results
from tokzoo.core.tokens import Tokens
from tokzoo.data import StreamBatchSampler, bundled_images, image_to_tensor
from tokzoo.data.transforms import center_crop, resize_shorter
from tokzoo.image.dataset import build_crop_dataset
from tokzoo.metrics import ms_ssim, psnr, quantize_uint8, ssim
from tokzoo.train.config import TrainConfig
from tokzoo.train.trainer import lr_at

DOCS_IMG = Path(__file__).resolve().parent.parent / "docs" / "img"
SIZE = 64
BENCH = dict(width=96, encoder_depth=2, decoder_depth=2, heads=4)  # shared by every transformer model here
GRID = dict(ch=16, codebook_size=1024)
PEER_VQ = dict(quantizer="vq", codebook_size=1024)  # the peer's bottleneck, for the equal-setting comparison
QUANTIZERS = {  # --quantizer: the bottleneck of every tokzoo model in the comparisons (about 10 bits per token)
    "fsq": dict(quantizer="fsq", quantizer_options={"levels": [8, 5, 5, 5]}),
    "vq": dict(quantizer="vq", codebook_size=1024),
}
TEACHER = RESULTS / "flexible_teacher_titok32"  # the trained titok-32, reused as ReTok's semantic teacher


@dataclass
class Entry:
    """One model to train: how to build it, and how to reconstruct a batch from k tokens after training."""

    key: str
    build: Callable[[], torch.nn.Module]
    counts: list[int]
    loss: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor] = field(default=lambda m, x: m.loss(x)[0])
    truncate: bool = False  # decode the first k of the full encoding (fixed-length models)
    peer: bool = False
    result: dict[str, Any] = field(default_factory=dict)


def eval_crops() -> torch.Tensor:
    """27 fixed 64 px crops of the 3 held-out bundled photos."""
    crops = []
    for _, arr in bundled_images("test"):
        x = image_to_tensor(arr)
        crops.append(center_crop(resize_shorter(x, SIZE), SIZE))
        for side in (96, 128):
            y = resize_shorter(x, side)
            h, w = y.shape[-2:]
            for top, left in ((0, 0), (0, w - SIZE), (h - SIZE, 0), (h - SIZE, w - SIZE)):
                crops.append(y[..., top : top + SIZE, left : left + SIZE])
    return torch.stack(crops)


def tokzoo_entry(
    key: str, name: str, counts: list[int], *, truncate: bool = False, **overrides: Any
) -> Entry:
    return Entry(key, lambda: tokzoo.create(name, **overrides), counts, truncate=truncate)


def peer_entry(num_tokens: int) -> Entry:
    from titok_pytorch import TiTokTokenizer as PeerTiTok

    def build() -> torch.nn.Module:
        w, h = BENCH["width"], BENCH["heads"]
        return PeerTiTok(
            dim=w, image_size=SIZE, patch_size=8, num_latent_tokens=num_tokens, codebook_size=1024,
            enc_depth=BENCH["encoder_depth"], dec_depth=BENCH["decoder_depth"], enc_heads=h, dec_heads=h,
            enc_dim_head=w // h, dec_dim_head=w // h,
        )  # fmt: skip

    return Entry(f"peer-titok-pytorch-{num_tokens}", build, [num_tokens], loss=lambda m, x: m(x), peer=True)


def train(
    entry: Entry,
    steps: int,
    batch_size: int,
    lr: float,
    after_step: Callable[[int, torch.nn.Module], None] | None = None,
) -> torch.nn.Module:
    """Train ``entry`` (seed 0, random 64 px crops, AdamW, warm-up then cosine); ``after_step(step, model)`` is
    called after each optimizer step (1-based), e.g. to evaluate a learning curve."""
    torch.manual_seed(0)
    model = entry.build().train()
    cfg = TrainConfig(max_steps=steps, lr=lr, warmup_steps=max(1, steps // 10), batch_size=batch_size)
    data = build_crop_dataset("bundled:train", SIZE, scale=(0.15, 1.0), seed=0, hflip=True)
    loader = DataLoader(data, batch_sampler=StreamBatchSampler(len(data), batch_size, seed=0), num_workers=0)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=0.0)
    t0, batches = time.perf_counter(), iter(loader)
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        loss = entry.loss(model, next(batches))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if after_step is not None:
            after_step(step + 1, model)
    wall = time.perf_counter() - t0
    entry.result.update(steps=steps, train_s=round(wall, 1), imgs_per_s=round(steps * batch_size / wall, 1))
    entry.result["params"] = sum(p.numel() for p in model.parameters())
    return model.eval()


@torch.no_grad()
def reconstruct(entry: Entry, model: torch.nn.Module, x: torch.Tensor, k: int) -> tuple[torch.Tensor, int]:
    """Reconstruction of ``x`` from ``k`` tokens and the exact bits per image."""
    if entry.peer:
        ids = model.tokenize(x)
        return model.codebook_ids_to_images(ids).clamp(0, 1), ids.shape[1] * 10
    if entry.truncate:
        full = model.encode(x)
        tokens = Tokens(
            full.ids, torch.full((len(x),), k), full.vocab_size, full.layout, full.shape, full.meta
        )
    else:
        tokens = model.encode(x, num_tokens=k)
    return model.decode(tokens), tokens.nbits_per_sample()[0]


def evaluate(entry: Entry, model: torch.nn.Module, images: torch.Tensor) -> list[dict[str, Any]]:
    rows = []
    for k in entry.counts:
        rec, bits = reconstruct(entry, model, images, k)
        rec = quantize_uint8(rec)
        ms = ms_ssim(rec, images)
        rows.append({
            "model": entry.key, "tokens": k, "bits": bits, "bpp": round(bits / SIZE**2, 4),
            "psnr": round(float(psnr(rec, images).mean()), 3), "ssim": round(float(ssim(rec, images).mean()), 4),
            "ms_ssim": "unavailable (image too small)" if ms is None else round(float(ms.mean()), 4),
            "detail": detail(rec),
            **{k2: entry.result[k2] for k2 in ("steps", "train_s", "imgs_per_s", "params")},
        })  # fmt: skip
    return rows


def detail(images: torch.Tensor) -> float:
    """Mean within-image pixel standard deviation: near 0 for a flat (single-colour) reconstruction."""
    return round(float(images.std(dim=(2, 3)).mean()), 4)


def mean_colour_row(images: torch.Tensor) -> dict[str, Any]:
    """Reference without training: every image replaced by its own mean colour (3 bytes = 24 bits)."""
    rec = quantize_uint8(images.mean(dim=(2, 3), keepdim=True).expand_as(images).contiguous())
    return {
        "model": "mean colour (reference)", "tokens": "", "bits": 24, "psnr": round(float(psnr(rec, images).mean()), 3),
        "ssim": round(float(ssim(rec, images).mean()), 4), "detail": detail(images),
    }  # fmt: skip


def codec_rows(images: torch.Tensor, budgets_bits: list[int]) -> list[dict[str, Any]]:
    """JPEG/WebP at the same byte budgets (bits rounded up to bytes), where the codec can go that low."""
    from tokzoo.bench.codecs import BelowCodecFloor, available_codecs, encode_to_budget

    rows = []
    arrays = [(img.permute(1, 2, 0) * 255).round().byte().numpy() for img in images]
    for codec in [c for c in ("jpeg", "webp") if c in available_codecs()]:
        for bits in budgets_bits:
            budget = -(-bits // 8)
            try:
                coded = [encode_to_budget(a, codec, budget) for a in arrays]
            except BelowCodecFloor as e:
                rows.append(
                    {"model": codec, "tokens": "", "bits": bits, "psnr": f"below floor ({e.floor_bytes} B)"}
                )
                continue
            rec = torch.stack(
                [torch.from_numpy(np.asarray(c.image)).permute(2, 0, 1).float() / 255 for c in coded]
            )
            rows.append({
                "model": codec, "tokens": "", "bits": round(float(np.mean([c.nbits for c in coded]))),
                "psnr": round(float(psnr(rec, images).mean()), 3), "ssim": round(float(ssim(rec, images).mean()), 4),
            })  # fmt: skip
    return rows


def plan(quick: bool, quantizer: str = "fsq") -> list[Entry]:
    """The models of one run, in training order (the titok-32 teacher before the ReTok + HSR model)."""
    ks = [1, 2, 4, 8, 16, 32]
    flex_ks = [1, 2, 4, 8, 16, 24, 32]
    bench, grid = {**BENCH, **QUANTIZERS[quantizer]}, {**GRID, **QUANTIZERS[quantizer]}
    entries = [
        tokzoo_entry("titok-32 (fixed, truncated)", "titok-t-32", ks, truncate=True, **bench),
        tokzoo_entry("onedpiece-32 (tail drop)", "onedpiece-t-32", ks, **bench),
        tokzoo_entry("flex-32 (nested pow2, causal)", "flex-t-32", flex_ks, **bench),
        tokzoo_entry("nested-32 (uniform, causal)", "flex-t-32", flex_ks, drop_schedule="uniform", **bench),
        tokzoo_entry("retok-32 (padding)", "retok-t-32", flex_ks, **bench),
        tokzoo_entry(  # offline teacher: the titok-32 trained above (not a foundation model)
            "retok-32 + HSR (teacher: titok-32)",
            "retok-t-32",
            flex_ks,
            semantic_weight=0.5,
            teacher=str(TEACHER),
            **bench,
        ),
        tokzoo_entry("titok-8 (fixed)", "titok-t-16", [8], num_tokens=8, **bench),
        tokzoo_entry("titok-16 (fixed)", "titok-t-16", [16], **bench),
        tokzoo_entry("grid-4x4 (2D f16)", "vq-f8-s", [16], ch_mult=(1, 2, 2, 4, 4), **grid),
    ]
    if quick:
        return [
            e
            for e in entries
            if e.key
            in {
                "titok-32 (fixed, truncated)",
                "flex-32 (nested pow2, causal)",
                "retok-32 (padding)",
                "titok-16 (fixed)",
            }
        ]
    entries += [
        tokzoo_entry("titok-64 (fixed)", "titok-t-64", [64], **bench),
        tokzoo_entry("grid-8x8 (2D f8)", "vq-f8-s", [64], **grid),
        tokzoo_entry("matryoshka (1/4/16/64)", "matryoshka-t", [1, 4, 16, 64], **bench),
        tokzoo_entry("hieratok (scale drop)", "hieratok-t", [1, 5, 21, 85], scale_drop=True, **bench),
    ]
    try:
        entries.append(peer_entry(32))
        entries.append(tokzoo_entry("titok-32-vq (peer setting)", "titok-t-32", [32], **{**BENCH, **PEER_VQ}))
    except ImportError:
        print("titok-pytorch not installed (pip install titok-pytorch==0.0.5); peer row skipped")
    return entries


def train_and_evaluate(key: str, job: tuple[bool, str, int, int, float]) -> list[dict[str, Any]]:
    """Train the planned model ``key`` and return its rows (runs in a worker process with ``--jobs``)."""
    quick, quantizer, steps, batch_size, lr = job
    torch.set_num_threads(1)  # on a shared 2-core machine more threads make every step much slower
    entry = next(e for e in plan(quick, quantizer) if e.key == key)
    model = train(entry, steps, batch_size, lr)
    if key == "titok-32 (fixed, truncated)":
        model.save_pretrained(TEACHER)
    return evaluate(entry, model, eval_crops())


def run_jobs(
    keys: list[str], job: tuple[bool, str, int, int, float], jobs: int
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(key, rows) for every model, in plan order; ``jobs`` > 1 trains that many at once in worker processes.

    A model that needs the titok-32 teacher is submitted only once the teacher is trained and saved."""
    needs_teacher = [k for k in keys if "HSR" in k]
    if needs_teacher and "titok-32 (fixed, truncated)" not in keys:
        if not TEACHER.exists():
            raise SystemExit(f"{needs_teacher} need the titok-32 teacher: train it in the same run or first")
        print(f"{needs_teacher}: teacher = the existing checkpoint {TEACHER} from an earlier run", flush=True)
    if jobs <= 1:
        yield from ((key, train_and_evaluate(key, job)) for key in keys)
        return
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {k: pool.submit(train_and_evaluate, k, job) for k in keys if k not in needs_teacher}
        teacher = futures.get("titok-32 (fixed, truncated)")
        for key in keys:
            if key in needs_teacher:
                if teacher is not None:
                    teacher.result()
                futures[key] = pool.submit(train_and_evaluate, key, job)
        key_of = {future: key for key, future in futures.items()}
        done = {}
        for future in as_completed(key_of):  # print each model as it finishes, return in plan order
            key = key_of[future]
            done[key] = future.result()
            print(f"trained {key}", flush=True)
        for key in keys:
            yield key, done[key]


def throughput(entries: list[Entry], batch_size: int, rounds: int = 4, steps: int = 5) -> dict[str, float]:
    """Training images/s of each entry measured interleaved (round-robin bursts of ``steps`` steps), so that the
    changing load of a shared machine hits every model alike."""
    models = {e.key: (e, e.build().train()) for e in entries}
    opts = {k: torch.optim.AdamW(m.parameters(), lr=1e-4) for k, (_, m) in models.items()}
    x = torch.rand(batch_size, 3, SIZE, SIZE)
    seconds = dict.fromkeys(models, 0.0)
    for r in range(rounds + 1):  # round 0 warms up
        for key, (entry, model) in models.items():
            t0 = time.perf_counter()
            for _ in range(steps):
                loss = entry.loss(model, x)
                opts[key].zero_grad(set_to_none=True)
                loss.backward()
                opts[key].step()
            if r:
                seconds[key] += time.perf_counter() - t0
    return {k: round(rounds * steps * batch_size / s, 1) for k, s in seconds.items()}


def speed_ratio(pair: list[Entry], speed: dict[str, float]) -> float:
    """tokzoo's training images/s over the peer's, whatever order the two entries come in."""
    ours = next(e for e in pair if not e.peer)
    peer = next(e for e in pair if e.peer)
    return round(speed[ours.key] / speed[peer.key], 3)


def psnr_at(rows: list[dict[str, Any]], key: str, k: int) -> float:
    return next(r["psnr"] for r in rows if r["model"].startswith(key + " (") and r["tokens"] == k)


def claims(rows: list[dict[str, Any]], quick: bool) -> dict[str, Any]:
    """The five claims, each as the numbers that decide it."""
    out: dict[str, Any] = {}

    def curve(key: str) -> list[tuple[int, float]]:
        return [(r["tokens"], r["psnr"]) for r in rows if r["model"].startswith(key + " (")]

    def monotone(c: list[tuple[int, float]]) -> bool:
        return all(b[1] >= a[1] - 0.05 for a, b in itertools.pairwise(c))

    keys = ["flex-32", "retok-32", "titok-32"] + ([] if quick else ["onedpiece-32", "nested-32"])
    out["a_prefix_monotonic"] = {
        key: {"monotonic": monotone(curve(key)), "curve": curve(key)} for key in keys
    }
    out["b_flexible_vs_fixed_gap_db"] = {
        k: round(psnr_at(rows, "flex-32", k) - psnr_at(rows, f"titok-{k}", k), 3)
        for k in ((16, 32) if quick else (8, 16, 32))
    }

    def tail_gain(key: str) -> float:  # dB per token from k = 16 to k = 32
        return round((psnr_at(rows, key, 32) - psnr_at(rows, key, 16)) / 16, 4)

    base = "flex-32" if quick else "nested-32"
    out["c_tail_gain_db_per_token"] = {"retok-32 (padding)": tail_gain("retok-32"), base: tail_gain(base)}
    if not quick:
        out["c_tail_gain_db_per_token"]["retok-32 + HSR"] = tail_gain("retok-32 + HSR")
    if not quick:
        out["d_1d_vs_2d_psnr"] = {
            "16 tokens": {
                "1D titok-16": psnr_at(rows, "titok-16", 16),
                "2D grid 4x4": psnr_at(rows, "grid-4x4", 16),
            },
            "64 tokens": {
                "1D titok-64": psnr_at(rows, "titok-64", 64),
                "2D grid 8x8": psnr_at(rows, "grid-8x8", 64),
            },
        }
        peer = [r for r in rows if r["model"].startswith("peer")]
        if peer:
            ours = next(r for r in rows if r["model"].startswith("titok-32-vq"))
            out["e_peer"] = {
                "tokzoo titok-32 psnr": ours["psnr"], "titok-pytorch psnr": peer[0]["psnr"],
                "throughput ratio tokzoo/peer": round(ours["imgs_per_s"] / peer[0]["imgs_per_s"], 3),
            }  # fmt: skip
    return out


def plot(rows: list[dict[str, Any]], name: str, reference: dict[str, Any]) -> None:
    """PSNR by token count: results/<name>_psnr.png, and docs/img/flex_psnr.png for the full run only."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    models = list(dict.fromkeys(r["model"] for r in rows))
    ax.set_prop_cycle(color=plt.cm.tab20.colors[: len(models)])
    for m in models:
        pts = [(r["tokens"], r["psnr"]) for r in rows if r["model"] == m]
        style = "o-" if len(pts) > 1 else "s"
        ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=m, ms=5)
    ax.axhline(reference["psnr"], color="0.4", ls="--", lw=1, label="mean colour per image (24 bits)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("tokens per 64 px image (10 bits each)")
    ax.set_ylabel("PSNR (dB), 27 held-out crops")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("Prefix / budget curves, equal training steps")
    fig.tight_layout()
    RESULTS.mkdir(exist_ok=True)
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    fig.savefig(RESULTS / f"{name}_psnr.png", dpi=110)
    if name == "flexible":
        fig.savefig(DOCS_IMG / "flex_psnr.png", dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and models (a few minutes)")
    parser.add_argument("--steps", type=int, default=None, help="training steps per model (same for all)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument(
        "--quantizer", choices=sorted(QUANTIZERS), default="fsq", help="bottleneck of every model"
    )
    parser.add_argument("--jobs", type=int, default=1, help="models trained at once, one CPU thread each")
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated model-name prefixes: train just these (writes flexible_only[_<steps>].*)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # on a shared 2-core machine more threads make every step much slower
    steps = args.steps or (60 if args.quick else 1200)
    images = eval_crops()
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    entries = plan(args.quick)
    if args.only:
        entries = [e for e in entries if e.key.startswith(tuple(args.only.split(",")))]
    job = (args.quick, args.quantizer, steps, args.batch_size, args.lr)
    for key, new in run_jobs([e.key for e in entries], job, args.jobs):
        rows += new
        print(
            f"{key}: {new[0]['train_s']} s, PSNR@k (detail) "
            + ", ".join(f"{r['tokens']}:{r['psnr']} ({r['detail']})" for r in new),
            flush=True,
        )
    claim = {} if args.only else claims(rows, args.quick)
    peers = [e for e in entries if e.peer or e.key.startswith("titok-32-vq")]
    if (
        len(peers) == 2 and not args.only
    ):  # interleaved, since per-model wall times above ran under different machine load
        speed = throughput(peers, args.batch_size)
        claim["e_peer"]["train imgs/s (interleaved)"] = speed
        claim["e_peer"]["throughput ratio tokzoo/peer"] = speed_ratio(peers, speed)
    codec = codec_rows(images, sorted({r["bits"] for r in rows if r["tokens"] in (16, 32, 64)}))
    name = "flexible_only" if args.only else "flexible_quick" if args.quick else "flexible"
    if args.only and args.steps:
        name += f"_{steps}"
    write_results(name, [{**r, "ms_ssim": str(r["ms_ssim"])} for r in rows])
    result = {
        "steps": steps, "batch_size": args.batch_size, "lr": args.lr, "quantizer": args.quantizer,
        "eval_images": len(images), "jobs": args.jobs,
        "data": "bundled:train random 64 px crops; eval 27 crops of bundled:test",
        "total_wall_s": round(time.perf_counter() - t0, 1), "claims": claim, "codecs": codec,
        "reference": mean_colour_row(images),
    }  # fmt: skip
    (RESULTS / f"{name}_claims.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["claims"], indent=2))
    print("codecs at equal bytes:", json.dumps(codec))
    print("reference:", json.dumps(result["reference"]))
    plot(rows, name, result["reference"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
