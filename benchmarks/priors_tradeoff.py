"""The reconstruction–generation trade-off at small scale: image tokenizers of equal bits, their held-out
reconstruction PSNR against the bits per image an AR prior needs for their tokens, and samples.

python benchmarks/priors_tradeoff.py [--quick] [--steps 800] [--only NAME ...] [--floor] [--pretrained]
  -> results/priors_tradeoff.csv       per tokenizer (and per prefix of the flexible ones): PSNR, prior bits
     results/priors_tradeoff/NAME.png  16 samples of the prior decoded by the tokenizer
     docs/img/priors_tradeoff.png      PSNR vs prior bits per image
  --floor       adds the equal-bits thumbnail floor (s x s uint8 thumbnails) to the results and the figure
  --pretrained  the shipped 128 px tokenizers instead (three 2-D grids, one flexible; no training):
                results/priors_tradeoff_pretrained.csv, docs/img/priors_tradeoff_pretrained.png

Every tokenizer is trained here from scratch at 64 px on the photo corpus with the same steps, batch and
learning rate, and all code 640 bits per image (64 ids of 10 bits): a 2-D grid (VQ; LFQ with and without its
entropy loss, "GigaTok", 2025), a 1-D TiTok sequence ("An Image is Worth 32 Tokens...", 2024) and a flexible
1-D sequence whose every prefix decodes (ReTok's redundant padding over FlexTok-style nested dropout, with and
without ReTok's hierarchical semantic regularization toward the 2-D VQ encoder's features: offline there is
no foundation model to align with, so the teacher is a tokzoo encoder, which the table says). One AR prior of
the same size and steps is trained on each tokenizer's training-split ids; its bits are the held-out negative
log-likelihood (the arithmetic coder realises it within a few bits per file: ``benchmarks/priors.py``). For a
flexible tokenizer the prior's bits of the first k ids are the code length of the k-token prefix, so one prior
gives the whole curve.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from common import RESULTS, write_results
from priors import _images, _prior
from tokzoo.bench.protocol import fidelity_batch
from tokzoo.bench.thumbnail import thumbnail_reconstruct
from tokzoo.core.api import create, load
from tokzoo.core.modality import get_modality
from tokzoo.core.tokens import Tokens
from tokzoo.data.tok_shards import TokenShards
from tokzoo.data.tokenize import tokenize_files
from tokzoo.prior.ar import ARPrior
from tokzoo.prior.ar_sample import sample_ar
from tokzoo.prior.layout import from_sequence, to_sequence

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "runs" / "bench_tradeoff"
CORPUS = ROOT / "data" / "photos"  # python -m tokzoo.data.photos --out data/photos
SIZE = 64


def _lfq(entropy_weight: float) -> dict[str, object]:
    return {"model_overrides.quantizer": "lfq",
            "model_overrides.quantizer_options": f"{{bits: 10, entropy_weight: {entropy_weight}}}"}  # fmt: skip


#: name -> (registered model, family, config overrides); every one codes 64 ids of 10 bits = 640 bits but
#: 2d-vq-c16, the same grid with 16 codes (256 bits): a second point on the 2-D curve
TOKENIZERS: dict[str, tuple[str, str, dict[str, object]]] = {
    "2d-vq": ("vq-f8-s", "2-D grid", {}),
    "flex": ("retok-t-64", "1-D flexible", {}),
    "flex-semantic": (
        "retok-t-64",
        "1-D flexible",
        {"model_overrides.semantic_weight": 0.5, "model_overrides.teacher": "{runs}/2d-vq/model"},
    ),
    "1d-titok": ("titok-t-64", "1-D", {}),
    "2d-vq-c16": ("vq-f8-s", "2-D grid", {"model_overrides.codebook_size": 16}),
    "2d-lfq": ("vq-f8-s", "2-D grid", _lfq(0.0)),
    "2d-lfq-entropy": ("vq-f8-s", "2-D grid", _lfq(0.1)),
}
PREFIXES = (8, 16, 32, 64)
#: --pretrained: the shipped 128 px tokenizers (docs/pretrained.md) instead of the 64 px ones trained here
PRETRAINED = {"fsq-f16-s": "2-D grid", "flex-f16-s-64": "1-D flexible", "fsq-f8-s-lo": "2-D grid",
              "fsq-f8-s": "2-D grid"}  # fmt: skip


def _train_tokenizer(name: str, steps: int, data: Path, runs: Path) -> Path:
    model, _, overrides = TOKENIZERS[name]
    out = runs / name
    if not (out / "model" / "config.json").is_file():
        cmd = [sys.executable, "-m", "tokzoo", "train", f"model={model}", f"data={data / 'train'}",
               f"out_dir={out}", f"image_size={SIZE}", "crop_scale=[0.25,1.0]", "batch_size=16",
               f"max_steps={steps}", "lr=1e-3", "warmup_steps=100", "min_lr_ratio=0.05", "seed=0",
               f"ckpt_every={max(50, steps // 8)}", "log_every=100", "progress=false",
               *(f"{k}={v}".replace("{runs}", str(runs)) for k, v in overrides.items())]  # fmt: skip
        resume = ["--resume"] if (out / "checkpoints").is_dir() else []
        subprocess.run(cmd + resume, check=True, stdout=subprocess.DEVNULL)
    return out / "model"


def _tokens(model, files: list[Path], out: Path, size: int) -> Tokens:
    if not (out / "manifest.json").is_file():
        names = [f"{f.parent.name}/{f.name}" for f in files]
        tokenize_files(model, files, names, out, shard_size=512, batch_size=32, size=size)
    return TokenShards(out).tokens()


def _prefix(tokens: Tokens, k: int) -> Tokens:
    return Tokens(tokens.ids[:, :k], tokens.lengths.clamp(max=k), tokens.vocab_size, tokens.layout,
                  (k,), tokens.meta)  # fmt: skip


def _psnr(model, x: torch.Tensor, tokens: Tokens) -> float:
    with torch.no_grad():
        rec = torch.cat([model.decode(tokens[i : i + 32]) for i in range(0, len(tokens), 32)])
    return statistics.mean(r["psnr"] for r in fidelity_batch(rec, x, keys=["psnr"]))


def _bits(prior: ARPrior, tokens: Tokens, k: int) -> float:
    """Mean bits per sample of the first ``k`` ids under the prior."""
    ids, lengths = to_sequence(tokens, prior.seq)
    with torch.no_grad():
        return float(prior.nll_bits(ids, lengths.clamp(max=k)).mean())


def _samples(prior: ARPrior, model, path: Path, size: int) -> None:
    from PIL import Image

    s = sample_ar(prior, 16, generator=torch.Generator().manual_seed(0))
    tokens = from_sequence(s.ids, s.lengths, prior.seq, {"tokenizer": model.registry_name})
    with torch.no_grad():
        img = model.decode(tokens).clamp(0, 1)
    grid = img.reshape(2, 8, 3, size, size).permute(0, 3, 1, 4, 2).reshape(2 * size, 8 * size, 3)
    Image.fromarray((grid * 255).round().byte().numpy()).save(path)


def run_one(name: str, args: argparse.Namespace, data: Path) -> list[dict]:
    t0 = time.perf_counter()
    runs, size = args.runs, args.size
    if args.pretrained:
        model, registered, family = create(name, pretrained=True).eval(), name, PRETRAINED[name]
    else:
        model = load(_train_tokenizer(name, args.steps, data, runs)).eval()
        registered, family = TOKENIZERS[name][:2]
    train = _tokens(model, _images(data, "train", args.train_images), runs / name / "tokens_train", size)
    test_files = _images(data, "test", args.test_images)
    test = _tokens(model, test_files, runs / name / "tokens_test", size)
    modality = get_modality(model.modality)
    x = torch.cat([modality.resize(model.load_file(f), size) for f in test_files])[: len(test)]
    prior, _ = _prior(train, runs / name / "prior", args.prior_steps)  # the recipe of benchmarks/priors.py
    (RESULTS / "priors_tradeoff").mkdir(parents=True, exist_ok=True)
    _samples(prior, model, RESULTS / "priors_tradeoff" / f"{name}.png", size)
    n = test.ids.shape[1]
    prefixes = [k for k in PREFIXES if k <= n] if family == "1-D flexible" else [n]
    rows = []
    for k in prefixes:
        sub = _prefix(test, k) if k < n else test
        bits = _bits(prior, test, k)
        fixed = sub.nbits() / len(sub)
        rows.append({
            "tokenizer": name, "model": registered, "family": family, "tokens": k,
            "fixed_bits": fixed, "psnr": round(_psnr(model, x, sub), 3),
            "prior_bits_per_image": round(bits, 1), "prior_bits_per_token": round(bits / k, 3),
            "prior_train_bits_per_token": round(_bits(prior, train[:256], k) / k, 3),
            "saving_vs_fixed": round(1 - bits / fixed, 3), "train_steps": args.steps,
        })  # fmt: skip
    print(f"{name}: {time.perf_counter() - t0:.0f} s", flush=True)
    return rows


def thumbnail_rows(data: Path, count: int, size: int, sides: int) -> list[dict]:
    """The equal-bits floor on the same held-out images: an s x s uint8 RGB thumbnail (24 s^2 bits, no prior)
    upsampled bicubically, for s = 1..sides."""
    reader = create("vq-f8-s")  # any image tokenizer reads and resizes as the tokenizers' rows did
    x = torch.cat(
        [get_modality("image").resize(reader.load_file(f), size) for f in _images(data, "test", count)]
    )
    rows = []
    for side in range(1, sides + 1):
        psnr = statistics.mean(
            r["psnr"] for r in fidelity_batch(thumbnail_reconstruct(x, side), x, keys=["psnr"])
        )
        rows.append({"tokenizer": "thumbnail", "model": f"{side}x{side} px", "family": "thumbnail floor",
                     "tokens": side * side * 3, "fixed_bits": 24 * side * side, "psnr": round(psnr, 3),
                     "prior_bits_per_image": 24 * side * side})  # fmt: skip
    return rows


def plot(rows: list[dict], path: Path, size: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name in dict.fromkeys(r["tokenizer"] for r in rows):
        pts = sorted((r["prior_bits_per_image"], r["psnr"]) for r in rows if r["tokenizer"] == name)
        style = {"color": "0.5", "linestyle": "--"} if name == "thumbnail" else {}
        ax.plot(*zip(*pts, strict=True), marker="o", label=name, **style)
    ax.set_xlabel("prior bits per image (held-out NLL)")
    ax.set_ylabel(f"reconstruction PSNR dB (held-out, {size} px)")
    ax.set_title("tokenizers: reconstruction vs what a prior pays for their tokens")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=CORPUS, help="photo folder with train/ and test/ (corpus)")
    p.add_argument("--quick", action="store_true", help="tiny run (smoke test of the script)")
    p.add_argument("--steps", type=int, default=800, help="tokenizer training steps (each)")
    p.add_argument("--only", nargs="+", choices=list(TOKENIZERS), help="a subset (flex-semantic needs 2d-vq)")
    p.add_argument("--floor", action="store_true", help="add the thumbnail floor to the results and replot")
    p.add_argument("--pretrained", action="store_true", help="the shipped 128 px tokenizers (no training)")
    args = p.parse_args()
    args.runs = RUNS / ("quick" if args.quick else "pretrained" if args.pretrained else f"steps{args.steps}")
    args.size = 128 if args.pretrained else SIZE
    args.result = "priors_tradeoff_pretrained" if args.pretrained else "priors_tradeoff"
    if args.pretrained:
        args.steps = "shipped"
    if args.quick:
        args.steps = 20
    args.prior_steps = 20 if args.quick else 1000
    args.train_images = 64 if args.quick else 3000
    args.test_images = 16 if args.quick else 300
    data = args.data
    if not (data / "train").is_dir():
        raise SystemExit(
            f"{data}: no train/ folder (build the corpus: python -m tokzoo.data.photos --out {data})"
        )
    figure = ROOT / "docs" / "img" / f"{args.result}.png"
    if args.floor:
        sides = 10 if args.pretrained else 6
        rows = _earlier_rows(args.result, {"thumbnail"}, args.steps)
        rows += thumbnail_rows(data, args.test_images, args.size, sides)
        write_results(args.result, rows)
        plot(rows, figure, args.size)
        return
    names = list(PRETRAINED) if args.pretrained else args.only or list(TOKENIZERS)
    if "flex-semantic" in names and "2d-vq" not in names:
        _train_tokenizer("2d-vq", args.steps, data, args.runs)  # the teacher
    own: list[dict] = []
    for name in names:
        own += run_one(name, args, data)
        if not args.quick:  # after each tokenizer: a cut-short run keeps what it measured
            rows = _earlier_rows(args.result, set(names), args.steps) + own
            write_results(args.result, rows)
            plot(rows, figure, args.size)


def _earlier_rows(result: str, names: set[str], steps: int | str) -> list[dict]:
    """Rows of other tokenizers at the same steps from an earlier run (``--only`` runs add up)."""
    path = RESULTS / f"{result}.json"
    if not path.is_file():
        return []
    rows = json.loads(path.read_text()).get("rows", [])
    return [r for r in rows if r["tokenizer"] not in names and r.get("train_steps", steps) == steps]


if __name__ == "__main__":
    main()
