"""Pretrained image tokens entropy-coded under an AR prior vs JPEG / WebP / AVIF / JPEG XL at equal PSNR.

python benchmarks/priors_codecs.py [--tokenizer fsq-f8-s] [--data data/photos] [--size 128] [--steps 1000]
                                   [--test 0] [--codec-images 0] [--quick]
  -> results/priors_codecs_<tokenizer>.csv         one row per rate measure / codec (means over test images)
     results/priors_codecs_<tokenizer>_images.csv  per test image: PSNR, every rate, every codec's match

A shipped tokenizer (``tokzoo.create(name, pretrained=True)``) tokenizes the photo corpus' train split
(``tokenize_files``: the ``tokzoo tokenize`` code path, resumable), an AR prior is trained on those tokens
(``train_prior``, resumable: rerunning continues from the last checkpoint), and every held-out test image
(``--test 0``: the whole split) is prepared by the evaluation protocol (shorter side to ``--size``, centre
crop, uint8), tokenized, and entropy-coded alone into a ``.tokc`` file under the prior, which is decoded again
and checked equal to the tokens (the run stops on the first mismatch). Rates per image, in bits per pixel:

- ``fixed``: ``Tokens.nbits()`` (every id at log2 V bits);
- ``unigram_H``: the plug-in unigram entropy of all test ids (an optimistic bound for any unigram code);
- ``static_unigram``: a real arithmetic code under the id frequencies of the training tokens;
- ``prior_payload``: the arithmetic code under the prior (``payload_bits``), ``prior_file``: the whole
  ``.tokc`` file (magic, version, binary header with shape and model name, CRC32 included).

Each codec then gets, per image, its smallest file whose PSNR reaches the tokenizer's PSNR on that image
(:func:`tokzoo.bench.equal_quality.codec_at_psnr`): at native resolution, and the best over coding at
``--scales`` of the resolution then upsampling. ``at_floor`` counts images where the codec's lowest quality
already beats the tokenizer (its rate is then an upper bound), ``not_reached`` images where no setting reaches
the tokenizer's PSNR (the best file is counted).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

import tokzoo
from common import write_results
from tokzoo.bench.codecs import available_codecs
from tokzoo.bench.equal_quality import codec_at_psnr
from tokzoo.bench.protocol import finalize
from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.tokens import Tokens
from tokzoo.data.decode import image_to_tensor, load_image, tensor_to_image
from tokzoo.data.tok_shards import TokenShards
from tokzoo.data.tokenize import tokenize_files
from tokzoo.data.transforms import eval_transform
from tokzoo.metrics.fidelity import psnr
from tokzoo.metrics.token_stats import unigram_entropy
from tokzoo.prior.ar import ARPrior
from tokzoo.prior.config import PriorConfig
from tokzoo.prior.container import compress, decompress
from tokzoo.prior.layout import to_sequence
from tokzoo.prior.prior_coding import PriorCodingModel
from tokzoo.prior.train import PriorTrainConfig, train_prior
from tokzoo.prior.unigram import StaticUnigram, token_counts

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "runs" / "bench_priors_codecs"
SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def _files(folder: Path, count: int) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES)
    if count and count < len(files):
        step = len(files) / count
        files = [files[int(i * step)] for i in range(count)]
    return files


def train_tokens(model, files: list[Path], out: Path, args: argparse.Namespace) -> Tokens | None:
    """The training split's tokens, through ``tokzoo tokenize``'s code path (resumes finished shards; with
    ``--world-size`` N, N processes started with ``--rank`` 0..N-1 share the shards); None until all are done."""
    names = [str(f.relative_to(f.parents[1])) for f in files]
    done = tokenize_files(model, files, names, out, shard_size=100, batch_size=20, size=args.size, progress=True,
                          rank=args.rank, world_size=args.world_size)  # fmt: skip
    return TokenShards(out).tokens() if done.manifest else None


def trained_prior(tokens: Tokens, out: Path, args: argparse.Namespace) -> ARPrior:
    """An AR prior over ``tokens``, trained (or resumed, or just loaded) under ``out``."""
    cfg = PriorConfig.for_tokens(tokens, dim=args.dim, depth=args.depth, heads=args.heads)
    ids, lengths = to_sequence(tokens, cfg.sequence)
    prior = ARPrior(cfg)
    log: list[dict] = []
    train_cfg = PriorTrainConfig(steps=args.steps, batch_size=args.batch, lr=args.lr, warmup=50,
                                 checkpoint_every=50)  # fmt: skip
    t0 = time.perf_counter()
    train_prior(prior, ids, lengths, out, train_cfg, resume=True, log=log)
    if log:
        losses = [r["loss"] for r in log[-20:]]
        print(f"prior: {len(log)} steps in {time.perf_counter() - t0:.0f} s, last loss "
              f"{statistics.mean(losses) / 0.6931:.3f} bits/token", flush=True)  # fmt: skip
    return prior.eval()


def test_images(files: list[Path], size: int) -> tuple[list[str], list]:
    """Test images as the protocol prepares them, as HxWx3 uint8 (what tokenizer and codecs both see)."""
    names, images = [], []
    for f in files:
        x = eval_transform(image_to_tensor(load_image(f.read_bytes(), name=str(f))), size)
        names.append(str(f.relative_to(f.parents[1])))
        images.append(tensor_to_image(x))
    return names, images


@torch.no_grad()
def tokenizer_rows(model, names: list[str], images: list) -> tuple[list[dict], list[Tokens]]:
    """Per image: the tokenizer's PSNR and fixed-width bits, and its tokens."""
    rows, tokens = [], []
    for start in range(0, len(images), 32):
        x = torch.stack([image_to_tensor(a) for a in images[start : start + 32]])
        batch = model.encode(x)
        values = psnr(finalize(model.decode(batch)), x)
        for k in range(len(batch)):
            tokens.append(batch[k])
            rows.append({"image": names[start + k], "psnr": float(values[k]), "tokens": batch[k].num_tokens,
                         "fixed_bits": batch[k].nbits()})  # fmt: skip
    return rows, tokens


def code_rows(rows: list[dict], tokens: list[Tokens], prior: ARPrior, train: Tokens, name: str) -> None:
    """Adds each image's coded bits: every ``.tokc`` file is decoded back and checked equal to its tokens."""
    coder = PriorCodingModel(prior, name=f"{name}-prior")
    static = StaticUnigram(token_counts(train))
    t0 = time.perf_counter()
    for i, (row, t) in enumerate(zip(rows, tokens, strict=True)):
        data, payload = compress(t, coder)
        if not decompress(data, coder).equal(t):
            raise SystemExit(f"{row['image']}: the .tokc file did not decode to its tokens")
        row.update(
            static_bits=compress(t, static)[1], prior_bits=payload, file_bytes=len(data), round_trip=True
        )
        if (i + 1) % 25 == 0 or i + 1 == len(rows):
            print(
                f"coded {i + 1}/{len(rows)} ({(time.perf_counter() - t0) / (i + 1):.2f} s/image)", flush=True
            )


def codec_rows(rows: list[dict], images: list, count: int, args: argparse.Namespace, cache: Path) -> None:
    """Adds each codec's bytes / PSNR at the tokenizer's PSNR, native and best over ``args.scales``, to ``count``
    rows spread evenly over the test images; matches are cached in ``cache`` (JSON), so a run with
    ``--codecs-only`` can fill it while the prior trains."""
    found = json.loads(cache.read_text()) if cache.is_file() else {}
    chosen = sorted({int(k * len(rows) / count) for k in range(count)})
    for done, i in enumerate(chosen):
        row = rows[i]
        key = f"{row['image']}@{row['psnr']:.6f}@{args.scales}"
        if key not in found:
            found[key] = {}
            for c in available_codecs():
                for label, sc in (("native", [1.0]), ("scaled", args.scales)):
                    m = codec_at_psnr(images[i], c, row["psnr"], sc)
                    found[key].update({f"{c}_{label}_bytes": m.nbytes, f"{c}_{label}_psnr": m.psnr,
                                       f"{c}_{label}_scale": m.scale, f"{c}_{label}_at_floor": m.at_floor,
                                       f"{c}_{label}_reached": m.reached})  # fmt: skip
            if (done + 1) % 25 == 0 or done + 1 == len(chosen):
                atomic_write_bytes(cache, json.dumps(found).encode())
                print(f"codecs {done + 1}/{len(chosen)}", flush=True)
        row.update(found[key], codecs_matched=True)


def summary(rows: list[dict], ids: list[torch.Tensor], name: str, pixels: int) -> list[dict]:
    n = len(rows)
    tokens = sum(r["tokens"] for r in rows)
    h = unigram_entropy(ids) * tokens / n
    mean = lambda key, rs=rows: statistics.mean(r[key] for r in rs)  # noqa: E731
    tok_psnr = mean("psnr")
    fixed = mean("fixed_bits")

    def row(method: str, bits: float, p: float, images: int, **extra) -> dict:
        return {"tokenizer": name, "method": method, "images": images, "bpp": bits / pixels,
                "bits_per_image": bits, "vs_fixed": bits / fixed - 1, "psnr": p, **extra}  # fmt: skip

    out = [
        row("tokens, fixed width", fixed, tok_psnr, n),
        row("tokens, unigram entropy (test ids)", h, tok_psnr, n),
        row("tokens, static unigram (coded)", mean("static_bits"), tok_psnr, n),
        row("tokens, AR prior (coded payload)", mean("prior_bits"), tok_psnr, n,
            round_trips=sum(r["round_trip"] for r in rows)),
        row("tokens, AR prior (.tokc file)", 8 * mean("file_bytes"), tok_psnr, n),
    ]  # fmt: skip
    sub = [r for r in rows if r.get("codecs_matched")]
    for c in available_codecs():
        for label in ("native", "scaled"):
            k = f"{c}_{label}"
            out.append(row(f"{c} ({label})", 8 * mean(f"{k}_bytes", sub), mean(f"{k}_psnr", sub), len(sub),
                           tokenizer_psnr_same_images=mean("psnr", sub),
                           at_floor=sum(r[f"{k}_at_floor"] for r in sub),
                           not_reached=sum(not r[f"{k}_reached"] for r in sub),
                           mean_scale=mean(f"{k}_scale", sub)))  # fmt: skip
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokenizer", default="fsq-f8-s", help="a shipped pretrained tokenizer")
    p.add_argument("--data", type=Path, default=ROOT / "data" / "photos", help="folder with train/ and test/")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--train", type=int, default=0, help="training images (0: the whole split)")
    p.add_argument("--test", type=int, default=0, help="test images (0: the whole split)")
    p.add_argument("--codec-images", type=int, default=0, help="images the codecs are matched on (0: all)")
    p.add_argument("--scales", type=float, nargs="+", default=[1.0, 0.75, 0.5, 0.375])
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--prior-only", action="store_true", help="stop after training the prior")
    p.add_argument("--tokens-only", action="store_true", help="stop after tokenizing the training images")
    p.add_argument("--rank", type=int, default=0, help="this process's share of the tokenizing (0..N-1)")
    p.add_argument("--world-size", type=int, default=1, help="processes sharing the tokenizing")
    p.add_argument("--codecs-only", action="store_true", help="only match the codecs (fills their cache)")
    p.add_argument("--quick", action="store_true", help="tiny run (smoke test of the script)")
    args = p.parse_args()
    if args.quick:
        args.train, args.test, args.steps, args.codec_images, args.scales = 64, 8, 20, 4, [1.0, 0.5]
    if not (args.data / "train").is_dir() or not (args.data / "test").is_dir():
        raise SystemExit(
            f"{args.data}: needs train/ and test/ (python -m tokzoo.data.photos --out {args.data})"
        )
    run = RUNS / (f"{args.tokenizer}-quick" if args.quick else args.tokenizer)
    run.mkdir(parents=True, exist_ok=True)
    model = tokzoo.create(args.tokenizer, pretrained=True).eval()
    if not args.codecs_only:
        train = train_tokens(model, _files(args.data / "train", args.train), run / "tokens_train", args)
        if train is None or args.tokens_only:
            return
        print(
            f"train tokens: {len(train)} images x {train.ids.shape[1]} ids over {train.vocab_size}",
            flush=True,
        )
        prior = trained_prior(train, run / "prior", args)
        if args.prior_only:
            return
    names, images = test_images(_files(args.data / "test", args.test), args.size)
    rows, tokens = tokenizer_rows(model, names, images)
    count = min(args.codec_images or len(rows), len(rows))
    if args.codecs_only:
        codec_rows(rows, images, count, args, run / "codec_matches.json")
        return
    code_rows(rows, tokens, prior, train, args.tokenizer)
    codec_rows(rows, images, count, args, run / "codec_matches.json")
    table = summary(rows, [t.sample(0) for t in tokens], args.tokenizer, args.size * args.size)
    suffix = "_quick" if args.quick else ""
    write_results(f"priors_codecs_{args.tokenizer}{suffix}_images", rows)
    write_results(f"priors_codecs_{args.tokenizer}{suffix}", table)


if __name__ == "__main__":
    main()
