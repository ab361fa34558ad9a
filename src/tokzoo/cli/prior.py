"""``tokzoo tokenize``, ``train-prior``, ``sample`` and ``bench rates``: token datasets and the priors over them."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from tokzoo.cli.common import load_model, positive_int, refuse_size
from tokzoo.core.errors import DataError
from tokzoo.core.modality import Modality, get_modality


def cmd_bench_rates(a: argparse.Namespace) -> None:
    from tokzoo.bench.rates import token_rates
    from tokzoo.data.tok_shards import TokenShards
    from tokzoo.prior.checkpoint import load_prior
    from tokzoo.prior.prior_coding import PriorCodingModel

    tokens = TokenShards(a.tokens).tokens()
    rows = [token_rates(tokens)]
    if a.prior:
        rows.append(token_rates(tokens, PriorCodingModel(load_prior(a.prior), name=Path(a.prior).name)))
    for r in rows:
        per = r.per_token()
        print(
            json.dumps(
                {
                    "model": r.model,
                    "tokens": r.tokens,
                    "fixed_bits_per_token": round(per["fixed"], 4),
                    "unigram_entropy_bits_per_token": round(per["unigram"], 4),
                    "coded_bits_per_token": round(per["coded"], 4),
                    "saving": round(r.saving(), 4),
                }
            )
        )


def _shards(a: argparse.Namespace, modality: Modality) -> tuple[list[Any], list[str] | None]:
    """The input shards ``--data`` names (files/folders, or WebDataset shard URLs) and the class names."""
    from tokzoo.data.files import collect_files
    from tokzoo.data.shard_open import is_shard_url
    from tokzoo.data.tok_inputs import file_shards, url_shards
    from tokzoo.data.tokenize import folder_labels

    urls = [d for d in a.data if is_shard_url(d)]
    if urls:
        if len(urls) != len(a.data):
            other = next(d for d in a.data if not is_shard_url(d))
            raise DataError(
                f"--data mixes WebDataset shards ({urls[0]}) with files or folders ({other}): give one kind"
            )
        if a.labels == "folder":
            raise DataError(
                "--labels folder reads classes from folders (DATA/CLASS/FILE), not from WebDataset shards"
            )
        if a.labels == "cls":
            if a.num_classes is None:
                raise DataError("--labels cls needs --num-classes N (the labels are indices in [0, N))")
            return url_shards(urls, modality.suffixes, a.num_classes), [str(c) for c in range(a.num_classes)]
        return url_shards(urls, modality.suffixes), None
    if a.labels == "cls":
        raise DataError(
            "--labels cls reads each sample's .cls member of WebDataset shards, not files or folders"
        )
    files = collect_files(a.data, modality.suffixes)
    root = Path(os.path.commonpath([str(f.resolve().parent) for f in files]))
    if a.labels == "folder" and len(a.data) == 1 and Path(a.data[0]).is_dir():
        root = Path(a.data[0]).resolve()  # names keep their class folder even when there is one class
    names = [str(f.resolve().relative_to(root)) for f in files]
    labels, classes = folder_labels(names) if a.labels == "folder" else (None, None)
    return file_shards(files, names, a.shard_size, labels), classes


def cmd_tokenize(a: argparse.Namespace) -> None:
    from tokzoo.data.tokenize import dist_env, tokenize_shards

    model = load_model(a.model)
    modality = get_modality(model.modality)
    refuse_size(a.size, modality)
    given = (("clip_frames", a.clip_frames), ("clip_stride", a.clip_stride), ("fps", a.fps),
             ("max_frames", a.max_frames))  # fmt: skip
    options = {k: v for k, v in given if v is not None}
    if options and not set(options) <= set(modality.item_options):
        flags = ", ".join("--" + k.replace("_", "-") for k in options)
        raise DataError(f"{flags} apply to video tokenizers only, not to {modality.name}")
    if a.fps is not None and not 0 < a.fps <= 1000:
        raise DataError(f"--fps must be in (0, 1000], got {a.fps}")
    if a.clip_frames is not None:
        model.check_clip_frames(a.clip_frames)  # type: ignore[attr-defined]  # video tokenizers (item_options)
    shards, classes = _shards(a, modality)
    rank, world = dist_env()
    res = tokenize_shards(model, shards, a.out, batch_size=a.batch_size, size=a.size, rank=rank, world_size=world,
                          progress=rank == 0, fmt=a.format, classes=classes, options=options)  # fmt: skip
    print(json.dumps({"rank": rank, "world_size": world, "shards_written": len(res.written),
                      "shards_resumed": len(res.resumed), "shards_failed": len(res.failed), "samples": res.samples,
                      "skipped_inputs": len(res.bad), "samples_per_s": round(res.samples_per_s, 2),
                      "manifest": res.manifest}))  # fmt: skip
    if res.failed:
        j, reason = res.failed[0]
        more = f" (and {len(res.failed) - 1} more)" if len(res.failed) > 1 else ""
        raise DataError(f"shard {j} not written, rerun to retry{more}: {reason}")


def cmd_train_prior(a: argparse.Namespace) -> None:
    from tokzoo.data.tok_shards import TokenShards, shard_labels
    from tokzoo.prior.checkpoint import build_prior
    from tokzoo.prior.config import PriorConfig
    from tokzoo.prior.layout import to_sequence
    from tokzoo.prior.train import PriorTrainConfig, train_prior

    shards = TokenShards(a.tokens)
    tokens = shards.tokens()
    classes, num_classes = None, 0
    if a.classes:
        classes, num_classes = shard_labels(shards)
    cfg = PriorConfig.for_tokens(tokens, kind=a.kind, dim=a.dim, depth=a.depth, heads=a.heads,
                                 num_classes=num_classes, tokenizer=shards.manifest.get("tokenizer", ""))  # fmt: skip
    prior = build_prior(cfg)
    ids, lengths = to_sequence(tokens, cfg.sequence)
    train_cfg = PriorTrainConfig(steps=a.steps, batch_size=a.batch_size, lr=a.lr, seed=a.seed,
                                 class_dropout=a.class_dropout if a.classes else 0.0)  # fmt: skip
    log: list[dict[str, float]] = []
    out = train_prior(prior, ids, lengths, a.out, train_cfg, classes=classes, resume=a.resume, log=log)
    last = log[-1] if log else {}
    print(
        json.dumps({"prior": str(out), "samples": len(tokens), **{k: round(v, 4) for k, v in last.items()}})
    )


def cmd_sample(a: argparse.Namespace) -> None:
    from tokzoo.prior.checkpoint import load_prior
    from tokzoo.prior.sample_files import sample_to_files

    prior = load_prior(a.prior)
    model = load_model(a.tokenizer)
    paths, dropped = sample_to_files(prior, model, a.n, a.out, temperature=a.temperature, top_k=a.top_k,
                                     steps=a.steps, class_id=a.class_id, guidance=a.guidance,
                                     seed=a.seed)  # fmt: skip
    for path in paths:
        print(path)
    if dropped:
        print(
            f"  ({dropped} samples did not end within the prior's length and were dropped)", file=sys.stderr
        )


def add_prior_parsers(sub: argparse._SubParsersAction) -> None:
    """The ``tokenize``, ``train-prior`` and ``sample`` commands' parsers."""
    s = sub.add_parser(
        "tokenize",
        help="files, folders or WebDataset shard URLs -> token shards (tar of .tok, or Parquet) + manifest; "
        "torchrun: shards per rank",
    )
    s.add_argument(
        "--model", required=True, help="checkpoint folder, pretrained name, or SVG/mesh tokenizer name"
    )
    s.add_argument(
        "--data", nargs="+", required=True,
        help="input folders or files, or WebDataset tar shards: paths, brace patterns (shards-{000..009}.tar), "
        "file:, http(s)://, pipe:CMD (one output shard per input shard)",
    )  # fmt: skip
    s.add_argument("--out", required=True, help="output folder (rerun to resume)")
    s.add_argument("--size", type=positive_int, default=None, help="image size (shorter side + centre crop)")
    s.add_argument("--batch-size", type=positive_int, default=8)
    s.add_argument("--shard-size", type=positive_int, default=256, help="input files per shard")
    s.add_argument(
        "--clip-frames", type=positive_int, default=None,
        help="video tokenizers: frames per clip window (default: the model's clip length)",
    )  # fmt: skip
    s.add_argument(
        "--clip-stride", type=positive_int, default=None,
        help="video tokenizers: frames between window starts (default: --clip-frames; less overlaps windows)",
    )  # fmt: skip
    s.add_argument(
        "--fps", type=float, default=None, help="video tokenizers: resample clips to this frame rate"
    )
    s.add_argument(
        "--max-frames",
        type=positive_int,
        default=None,
        help="video tokenizers: read at most this many frames a file",
    )
    s.add_argument(
        "--format", choices=["tar", "parquet"], default="tar", help="shard files: tar of .tok or Parquet rows"
    )
    s.add_argument(
        "--labels",
        choices=["none", "folder", "cls"],
        default="none",
        help="class labels in the shards: folder = each input's first folder (DATA/CLASS/FILE) is its class; "
        "cls = each WebDataset sample's .cls member (a class index; needs --num-classes)",
    )
    s.add_argument(
        "--num-classes", type=positive_int, default=None, help="--labels cls: labels are indices below this"
    )
    s.set_defaults(fn=cmd_tokenize)

    s = sub.add_parser("train-prior", help="train an AR or MaskGIT prior on token shards")
    s.add_argument("--tokens", required=True, help="token-shard folder written by tokzoo tokenize")
    s.add_argument("--out", required=True, help="run folder (checkpoints/, prior/)")
    s.add_argument("--kind", choices=["ar", "maskgit"], default="ar")
    s.add_argument("--dim", type=positive_int, default=128)
    s.add_argument("--depth", type=positive_int, default=4)
    s.add_argument("--heads", type=positive_int, default=4)
    s.add_argument("--steps", type=positive_int, default=500)
    s.add_argument("--batch-size", type=positive_int, default=16)
    s.add_argument("--lr", type=float, default=1e-3)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    s.add_argument("--classes", action="store_true", help="condition on the shards' class labels")
    s.add_argument(
        "--class-dropout",
        type=float,
        default=0.1,
        help="with --classes: fraction of samples trained without their class (for classifier-free guidance)",
    )
    s.set_defaults(fn=cmd_train_prior)

    s = sub.add_parser("sample", help="sample a prior and decode with its tokenizer -> files")
    s.add_argument("--prior", required=True, help="prior folder (RUN/prior from tokzoo train-prior)")
    s.add_argument("--tokenizer", required=True, help="the tokenizer the prior's tokens came from")
    s.add_argument("-n", type=positive_int, default=16, help="number of samples")
    s.add_argument("--out", default="samples", help="output folder")
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--top-k", type=positive_int, default=None)
    s.add_argument("--steps", type=positive_int, default=8, help="MaskGIT decoding steps")
    s.add_argument(
        "--class-id", type=int, default=None, help="class to condition on (class-conditional priors)"
    )
    s.add_argument("--seed", type=int, default=0)
    s.add_argument(
        "--guidance",
        type=float,
        default=1.0,
        help="classifier-free guidance scale with --class-id (1 = plain conditional sampling)",
    )
    s.set_defaults(fn=cmd_sample)
