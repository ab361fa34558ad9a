"""Priors over tokens: entropy-coded bits vs fixed-width bits, prior throughput, tokenize scaling, meshes vs Draco.

python benchmarks/priors.py [--quick] [--parts images tokenize [mesh]]
  -> results/priors_images.csv      per tokenizer: held-out PSNR, fixed-width / unigram-entropy / coded bits
     results/priors_throughput.csv  prior training and sampling tokens/s, with and without the KV cache
     results/priors_tokenize.csv    tokzoo tokenize samples/s under torchrun with 1 and 2 processes
     results/priors_mesh.csv        mesh tokens entropy-coded vs Draco, bits per face at 8-bit quantisation
                                    (the rows of benchmarks/priors_mesh.py, which compares every serialization)

Image tokenizers are trained here for a few hundred steps at 64 px on the photo corpus (``--data``; the
bundled photos when it is absent), so nothing depends on shipped weights. Every rate is measured on held-out
images: ``fixed`` is ``Tokens.nbits()``, ``unigram_H`` the plug-in entropy of the held-out ids themselves (an
optimistic bound for any unigram code), ``static``/``adaptive`` real arithmetic codes under a unigram model
fitted on the training tokens / adapted on the fly, and ``prior`` the real code under an AR prior trained on
the training tokens.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from common import RESULTS, write_results
from tokzoo.bench.protocol import fidelity_batch
from tokzoo.core.api import load
from tokzoo.core.modality import get_modality
from tokzoo.core.tokens import Tokens
from tokzoo.data.tok_shards import TokenShards
from tokzoo.data.tokenize import tokenize_files
from tokzoo.metrics.token_stats import unigram_entropy
from tokzoo.prior.ar import ARPrior
from tokzoo.prior.ar_sample import sample_ar
from tokzoo.prior.config import PriorConfig
from tokzoo.prior.container import compress
from tokzoo.prior.layout import to_sequence
from tokzoo.prior.prior_coding import PriorCodingModel
from tokzoo.prior.train import PriorTrainConfig, train_prior
from tokzoo.prior.unigram import AdaptiveUnigram, StaticUnigram, token_counts

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "runs" / "bench_priors"
CORPUS = ROOT / "data" / "photos"  # python -m tokzoo.data.photos --out data/photos
#: tokenizer -> (its CPU training config at 64 px, training steps here): a 2-D grid, a 1-D sequence and
#: multi-scale maps; the 1-D and multi-scale models need more steps to clear the thumbnail floor than the grid
TOKENIZERS = {
    "vq-f8-s": ("configs/vq-f8-s-cpu.yaml", 300),
    "titok-t-32": ("configs/titok-t-32-cpu.yaml", 800),
    "hieratok-t": ("configs/hieratok-t-cpu.yaml", 800),
}
SIZE = 64


def _images(data: Path, split: str, count: int) -> list[Path]:
    files = sorted(p for p in (data / split).rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    step = max(1, len(files) // count)
    return files[::step][:count]


def _train_tokenizer(name: str, quick: bool, data: Path) -> Path:
    out = RUNS / name
    config, steps = TOKENIZERS[name]
    steps = 20 if quick else steps
    if not (out / "model" / "config.json").is_file():
        cmd = [sys.executable, "-m", "tokzoo", "train", "--config", str(ROOT / config),
               f"max_steps={steps}", f"out_dir={out}", f"data={data / 'train'}", "ckpt_every=100000",
               "log_every=100", "warmup_steps=20"]  # fmt: skip
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out / "model"


def _tokens(model, files: list[Path], out: Path) -> Tokens:
    names = [f"{f.parent.name}/{f.name}" for f in files]
    tokenize_files(model, files, names, out, shard_size=512, batch_size=16, size=SIZE)
    return TokenShards(out).tokens()


def _psnr(model, files: list[Path], tokens: Tokens) -> float:
    modality = get_modality(model.modality)
    x = torch.cat([modality.resize(model.load_file(f), SIZE) for f in files])
    with torch.no_grad():
        rec = torch.cat([model.decode(tokens[i : i + 32]) for i in range(0, len(tokens), 32)])
    return statistics.mean(r["psnr"] for r in fidelity_batch(rec, x[: len(rec)], keys=["psnr"]))


def _prior(tokens: Tokens, out: Path, steps: int, batch: int = 32) -> tuple[ARPrior, list[dict]]:
    cfg = PriorConfig.for_tokens(tokens, dim=128, depth=4, heads=4)
    ids, lengths = to_sequence(tokens, cfg.sequence)
    log: list[dict] = []
    torch.manual_seed(0)
    prior = ARPrior(cfg)
    train_prior(
        prior, ids, lengths, out, PriorTrainConfig(steps=steps, batch_size=batch, lr=1e-3, warmup=50), log=log
    )
    return prior.eval(), log


def _as_raster(tokens: Tokens) -> Tokens:
    """Multi-scale ids as one flat sequence, to model them in raster (next-token) order."""
    return Tokens(tokens.ids, tokens.lengths, tokens.vocab_size, "seq1d", (tokens.ids.shape[1],), tokens.meta)


def _rate_row(name: str, order: str, train: Tokens, test: Tokens, prior: ARPrior, psnr: float) -> dict:
    n = test.num_tokens
    bits = {
        "fixed": test.nbits(),
        "static": compress(test, StaticUnigram(token_counts(train)))[1],
        "adaptive": compress(test, AdaptiveUnigram(test.vocab_size))[1],
        "prior": compress(test, PriorCodingModel(prior, "bench"))[1],
    }
    unigram = unigram_entropy([test.sample(i) for i in range(len(test))]) * n
    ids, lengths = to_sequence(train[:256], prior.seq)
    train_bits = float(prior.nll_bits(ids, lengths).sum()) / int(lengths.sum())
    per_image = len(test)
    return {
        "tokenizer": name, "order": order, "tokens_per_image": n // per_image, "vocab": test.vocab_size,
        "psnr": round(psnr, 2), "fixed_bpt": bits["fixed"] / n, "unigram_H_bpt": unigram / n,
        "static_bpt": bits["static"] / n, "adaptive_bpt": bits["adaptive"] / n, "prior_bpt": bits["prior"] / n,
        "prior_train_bpt": train_bits, "prior_bits_per_image": bits["prior"] / per_image,
        "saving_vs_fixed": 1 - bits["prior"] / bits["fixed"],
    }  # fmt: skip


def _throughput(name: str, prior: ARPrior, log: list[dict]) -> dict:
    seq = prior.seq
    n = 16
    row = {"tokenizer": name, "length": seq.length, "steps_per_sample": len(seq.groups)}
    row["train_tokens_per_s"] = statistics.median(r["tokens_per_s"] for r in log[5:])
    for cache in (True, False):
        t0 = time.perf_counter()
        sample_ar(prior, n, use_cache=cache, generator=torch.Generator().manual_seed(0))
        row[f"sample_tokens_per_s_{'cache' if cache else 'nocache'}"] = (
            n * seq.length / (time.perf_counter() - t0)
        )
    return row


def run_images(args: argparse.Namespace, data: Path) -> tuple[list[dict], list[dict]]:
    train_files = _images(data, "train", args.train_images)
    test_files = _images(data, "test", args.test_images)
    rates, speed = [], []
    for name in TOKENIZERS:
        t0 = time.perf_counter()
        model = load(_train_tokenizer(name, args.quick, data)).eval()
        train = _tokens(model, train_files, RUNS / name / "tokens_train")
        test = _tokens(model, test_files, RUNS / name / "tokens_test")
        psnr = _psnr(model, test_files, test)
        orders = [("raster" if train.layout != "multiscale" else "next-scale", train, test)]
        if train.layout == "multiscale":
            orders.append(("raster", _as_raster(train), _as_raster(test)))
        for order, tr, te in orders:
            prior, log = _prior(tr, RUNS / name / f"prior_{order}", args.prior_steps)
            rates.append(_rate_row(name, order, tr, te, prior, psnr))
            speed.append({**_throughput(name, prior, log), "order": order})
        print(f"{name}: {time.perf_counter() - t0:.0f} s", flush=True)
    return rates, speed


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        if not p.name.startswith("."):
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def run_tokenize(args: argparse.Namespace, data: Path) -> list[dict]:
    model_dir = _train_tokenizer("vq-f8-s", args.quick, data)
    folder = RUNS / "tokenize_input"
    folder.mkdir(parents=True, exist_ok=True)
    for f in _images(data, "train", args.tokenize_images):  # one flat folder of links to the inputs
        link = folder / f"{f.parent.name}__{f.name}"
        if not link.exists():
            link.symlink_to(f)
    rows, digests = [], []
    for procs in (1, 2):
        out = RUNS / f"tokenize_{procs}"
        subprocess.run(["rm", "-rf", str(out)], check=True)
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}", "-m",
               "tokzoo", "tokenize", "--model", str(model_dir), "--data", str(folder), "--out", str(out),
               "--size", str(SIZE), "--batch-size", "16", "--shard-size", "64"]  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        t0 = time.perf_counter()
        done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
        ranks = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        samples = sum(r["samples"] for r in ranks)
        digests.append(_digest(out))
        rows.append({
            "processes": procs, "samples": samples, "wall_s": wall, "samples_per_s_wall": samples / wall,
            "samples_per_s_encode": sum(r["samples_per_s"] for r in ranks),
        })  # fmt: skip
    for r in rows:
        r["identical_to_1_process"] = digests[rows.index(r)] == digests[0]
    return rows


def run_mesh(args: argparse.Namespace) -> list[dict]:
    """Mesh tokens vs Draco: the rows of ``benchmarks/priors_mesh.py`` (see there) for a few serializations."""
    import priors_mesh

    sub = argparse.Namespace(
        quick=args.quick, serializations=args.mesh_serializations, prior_steps=args.mesh_prior_steps,
        prior_serializations=args.mesh_serializations, runs=RUNS,
    )  # fmt: skip
    return priors_mesh.run(sub)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=CORPUS, help="photo folder with train/ and test/ (corpus)")
    p.add_argument(
        "--parts",
        nargs="+",
        default=["images", "tokenize"],
        help="images, tokenize, mesh (mesh: a subset of benchmarks/priors_mesh.py, run on its own by run_all)",
    )
    p.add_argument("--quick", action="store_true", help="tiny run (smoke test of the script)")
    args = p.parse_args()
    full = not args.quick
    args.prior_steps = 500 if full else 30
    args.mesh_prior_steps = 300 if full else 10
    args.mesh_serializations = ["nautilus"] if full else ["nautilus", "amt"]
    args.train_images = 2000 if full else 64
    args.test_images = 200 if full else 16
    args.tokenize_images = 512 if full else 64
    data = args.data
    if not (data / "train").is_dir():
        raise SystemExit(
            f"{data}: no train/ folder (build the corpus: python -m tokzoo.data.photos --out {data})"
        )
    RESULTS.mkdir(exist_ok=True)
    if "images" in args.parts:
        rates, speed = run_images(args, data)
        write_results("priors_images", rates)
        write_results("priors_throughput", speed)
    if "tokenize" in args.parts:
        write_results("priors_tokenize", run_tokenize(args, data))
    if "mesh" in args.parts:
        try:
            write_results("priors_mesh", run_mesh(args))
        except ImportError:
            print("mesh part skipped: DracoPy missing (pip install -e '.[mesh-bench]')")


if __name__ == "__main__":
    main()
