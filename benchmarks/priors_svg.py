"""SVG tokens entropy-coded under an AR prior vs gzip / brotli of the same SVG files (held-out, exact round trip).

python benchmarks/priors_svg.py [--train 500 --test 60 --max-kb 32 --window 256 --steps 600] [--quick]
  -> results/priors_svg.csv        per package and over all test files: bytes per file of every measure
     results/priors_svg_files.csv  per test file

Samples ``--train`` / ``--test`` files per package (openclipart-svg, papirus-icon-theme) of the SVG corpus
(``data/svg``, :mod:`tokzoo.svg.corpus`; files up to ``--max-kb``), learns ``svg-hivg-256`` (palette + segment
BPE) on the train files, and trains an AR prior on their level-2 token sequences cut into ``--window``-token
windows (the prior's context). Every test file's windows are arithmetic-coded into one ``.tokc`` file under
the prior, decoded again and checked equal to the tokens (the run stops on a mismatch). Per file, in bytes:

- ``fixed``: ``Tokens.nbits()`` / 8 (every id at log2 V bits); ``static_unigram``: a real arithmetic code
  under the training tokens' id frequencies; ``prior``: the arithmetic code under the prior (payload), and
  ``tokc_file`` the whole file (magic, version, binary header with the window lengths, CRC32);
- ``gzip`` (level 9) and ``brotli`` (quality 11) of the original file, and of the SVG the tokens decode to
  (``*_decoded``): the tokens are lossy (coordinates on the 256 grid, a 256-colour palette), so the decoded
  SVG is the same content the tokens carry, the fair text baseline; the original is what a user stores.
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import time
from dataclasses import replace
from pathlib import Path

import brotli
import torch

import tokzoo
from common import write_results
from svg import PACKAGES, sample
from tokzoo.core.checkpoint import load
from tokzoo.core.tokens import Tokens
from tokzoo.prior.ar import ARPrior
from tokzoo.prior.config import PriorConfig
from tokzoo.prior.container import compress, decompress
from tokzoo.prior.layout import to_sequence
from tokzoo.prior.prior_coding import PriorCodingModel
from tokzoo.prior.train import PriorTrainConfig, train_prior
from tokzoo.prior.unigram import StaticUnigram, token_counts
from tokzoo.svg import SvgInputError
from tokzoo.svg.corpus import build_corpus

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "svg"
RUNS = ROOT / "runs" / "bench_priors_svg"


def windows(seqs: list[torch.Tensor], window: int, vocab: int) -> Tokens:
    """``seq1d`` Tokens of every sequence cut into consecutive windows of at most ``window`` ids."""
    parts = [w for s in seqs for w in s.split(window)]
    ids = torch.zeros((len(parts), window), dtype=torch.int64)
    for i, w in enumerate(parts):
        ids[i, : len(w)] = w
    return Tokens(ids, torch.tensor([len(w) for w in parts]), vocab, "seq1d", ())


def fitted_tokenizer(train: list[Path], out: Path):
    """``svg-hivg-256`` learned on ``train`` (cached in ``out``)."""
    if (out / "config.json").is_file():
        return load(out)
    tok = tokzoo.create("svg-hivg-256")
    print(tok.fit(train, seed=0), flush=True)
    tok.save_pretrained(out)
    return tok


def encode_files(tok, files: list[Path]) -> dict[Path, torch.Tensor]:
    """Level-2 ids of every file that tokenizes (the others are reported and left out)."""
    out = {}
    for f in files:
        try:
            out[f] = tok.encode(f).sample(0)
        except SvgInputError as e:
            print(f"skipped {f.name}: {e}")
    return out


def trained_prior(train: Tokens, out: Path, args: argparse.Namespace) -> ARPrior:
    cfg = replace(
        PriorConfig.for_tokens(train, dim=args.dim, depth=args.depth, heads=args.heads), length=args.window
    )
    ids, lengths = to_sequence(train, cfg.sequence)
    prior = ARPrior(cfg)
    log: list[dict] = []
    t0 = time.perf_counter()
    train_prior(prior, ids, lengths, out, PriorTrainConfig(steps=args.steps, batch_size=args.batch, lr=2e-3,
                warmup=50, checkpoint_every=50), resume=True, log=log)  # fmt: skip
    if log:
        loss = statistics.mean(r["loss"] for r in log[-20:]) / 0.6931
        print(f"prior: {len(log)} steps in {time.perf_counter() - t0:.0f} s, loss {loss:.3f} bits/token")
    return prior.eval()


def file_row(tok, path: Path, package: str, ids: torch.Tensor, coder, static, window: int) -> dict:
    t = windows([ids], window, tok.vocab_size)
    data, payload = compress(t, coder)
    if not decompress(data, coder).equal(t):
        raise SystemExit(f"{path}: the .tokc file did not decode to its tokens")
    original = path.read_bytes()
    decoded = tok.decode_ids(ids.tolist()).encode("utf-8")
    return {
        "file": path.name, "package": package, "tokens": len(ids), "windows": len(t),
        "original_bytes": len(original), "fixed": t.nbits() / 8, "static_unigram": compress(t, static)[1] / 8,
        "prior": payload / 8, "tokc_file": len(data), "round_trip": True,
        "gzip": len(gzip.compress(original, 9, mtime=0)), "brotli": len(brotli.compress(original, quality=11)),
        "decoded_bytes": len(decoded), "gzip_decoded": len(gzip.compress(decoded, 9, mtime=0)),
        "brotli_decoded": len(brotli.compress(decoded, quality=11)),
    }  # fmt: skip


MEASURES = (
    "fixed",
    "static_unigram",
    "prior",
    "tokc_file",
    "gzip",
    "brotli",
    "gzip_decoded",
    "brotli_decoded",
)


def summary(rows: list[dict]) -> list[dict]:
    out = []
    for package in (*PACKAGES, "all"):
        rs = [r for r in rows if package in ("all", r["package"])]
        if not rs:
            continue
        total = {m: sum(r[m] for r in rs) for m in (*MEASURES, "original_bytes", "tokens")}
        out.append({
            "package": package, "files": len(rs), "tokens_per_file": total["tokens"] / len(rs),
            "original_bytes_per_file": total["original_bytes"] / len(rs),
            **{f"{m}_bytes_per_file": total[m] / len(rs) for m in MEASURES},
            "prior_bits_per_token": 8 * total["prior"] / total["tokens"],
            "prior_vs_brotli_decoded": total["prior"] / total["brotli_decoded"],
            "prior_vs_gzip_decoded": total["prior"] / total["gzip_decoded"],
            "prior_vs_brotli_original": total["prior"] / total["brotli"],
            "round_trips": sum(r["round_trip"] for r in rs),
        })  # fmt: skip
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=CORPUS)
    p.add_argument("--train", type=int, default=500, help="train files per package")
    p.add_argument("--test", type=int, default=60, help="test files per package")
    p.add_argument("--max-kb", type=int, default=32)
    p.add_argument("--window", type=int, default=256)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="tiny run (smoke test of the script)")
    args = p.parse_args()
    if args.quick:
        args.train, args.test, args.steps = 30, 4, 10
    if not (args.corpus / "manifest.json").is_file():
        print(build_corpus(args.corpus))
    rng = random.Random(args.seed)
    max_bytes = args.max_kb * 1024
    train = sample(args.corpus, "train", args.train, max_bytes, rng)
    test = sample(args.corpus, "test", args.test, max_bytes, rng)
    run = RUNS / ("quick" if args.quick else f"t{args.train}_w{args.window}")
    tok = fitted_tokenizer([f for fs in train.values() for f in fs], run / "tokenizer")
    train_ids = encode_files(tok, [f for fs in train.values() for f in fs])
    train_tokens = windows(list(train_ids.values()), args.window, tok.vocab_size)
    print(f"train: {len(train_ids)} files, {train_tokens.num_tokens} tokens, {len(train_tokens)} windows")
    prior = trained_prior(train_tokens, run / "prior", args)
    coder = PriorCodingModel(prior, name="svg-prior")
    static = StaticUnigram(token_counts(train_tokens))
    rows = []
    t0 = time.perf_counter()
    for package, files in test.items():
        for path, ids in encode_files(tok, files).items():
            rows.append(file_row(tok, path, package, ids, coder, static, args.window))
    print(f"coded {len(rows)} test files in {time.perf_counter() - t0:.0f} s")
    suffix = "_quick" if args.quick else ""
    write_results(f"priors_svg{suffix}_files", rows)
    write_results(f"priors_svg{suffix}", summary(rows))


if __name__ == "__main__":
    main()
