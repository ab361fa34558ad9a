"""The ``tokzoo`` command line: list, train, fit, encode, decode, eval, bench, tokenize, train-prior, sample, demo.

Commands dispatch through the model's modality plugin (:mod:`tokzoo.core.modality`) and protocols
(:mod:`tokzoo.core.protocols`); no command names a modality."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import torch

from tokzoo.cli.coding import add_coding_parsers
from tokzoo.cli.common import join_names, load_model, output_paths, positive_int, refuse_size
from tokzoo.cli.prior import add_prior_parsers, cmd_bench_rates
from tokzoo.core.errors import ConfigError, DataError, TokzooError
from tokzoo.core.fingerprint import check_fingerprint, stamp
from tokzoo.core.limits import set_limit
from tokzoo.core.modality import get_modality, list_modalities
from tokzoo.core.outputs import check_output
from tokzoo.core.tokenizer import Tokenizer


def cmd_list(a: argparse.Namespace) -> None:
    from tokzoo.core.api import list_models
    from tokzoo.core.registry import get_spec

    for name in list_models(a.pattern, modality=a.modality, pretrained=a.pretrained):
        spec = get_spec(name)
        print(f"{name:<16} {spec.modality:<8} {spec.description}")


def cmd_train(a: argparse.Namespace) -> None:
    from tokzoo.train import train
    from tokzoo.train.config import TrainConfig, apply_overrides, read_items
    from tokzoo.train.resume import resume_config

    overrides = list(a.overrides)
    if a.init:  # fine-tune: the checkpoint's tokenizer is the model
        from tokzoo.core.checkpoint import read_config
        from tokzoo.core.pretrained import PREFIX, verified_folder

        folder = verified_folder(a.init) if a.init.startswith(PREFIX) else a.init
        overrides = [f"init={a.init}", f"model={read_config(folder)['tokenizer']}", *overrides]
    items = read_items(a.config, overrides)
    cfg = resume_config(items) if a.resume else apply_overrides(TrainConfig(), items)
    last = train(cfg, resume=a.resume)
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps({"out_dir": cfg.out_dir, **{k: round(v, 5) for k, v in last.items()}}))


def cmd_fit(a: argparse.Namespace) -> None:
    from tokzoo.core.protocols import Fittable, unsupported

    model = _load_fittable(a.model, a.vocab)
    if not isinstance(model, Fittable):
        raise ConfigError(unsupported(model, "fit"))
    modality = get_modality(model.modality)
    refuse_size(a.size, modality)
    data = modality.dataset(a.data, **({"size": a.size} if a.size is not None else {}))
    counts = model.fit(data)
    out = model.save_pretrained(a.out)
    print(json.dumps({"out": str(out), **counts}))


def _load_fittable(path: str, vocab: int | None = None) -> Tokenizer:
    """A checkpoint folder, or a registered name (fitted from scratch; ``vocab`` sets its vocabulary size)."""
    from tokzoo.core.api import load
    from tokzoo.core.registry import create

    if Path(path).exists():
        if vocab is not None:
            raise ConfigError(f"--vocab sets the vocabulary of a new model, not of the checkpoint {path}")
        return load(path)
    if vocab is None:
        return create(path)
    model = create(path)
    if "vocab" not in model.config_dict():
        raise ConfigError(
            f"--vocab applies to tokenizers with a learned vocabulary size (text-*), not {path}"
        )
    return create(path, vocab=vocab)


def cmd_encode(a: argparse.Namespace) -> None:
    from tokzoo.cli.frames import encode_frames, is_frames_input

    model = load_model(a.model)
    modality = get_modality(model.modality)
    src = Path(a.image)
    if not src.is_file():
        raise DataError(f"{src}: file not found")
    frames = is_frames_input(model, src)
    if src.suffix.lower() not in modality.suffixes and not frames:
        raise DataError(
            f"{src}: {model.registry_name} reads {'/'.join(modality.suffixes)} files, "
            f"not {src.suffix or 'a file without suffix'}"
        )
    if a.max_frames is not None and not frames:
        raise DataError(f"--max-frames applies to a video encoded by an image tokenizer, not to {src.name}")
    refuse_size(a.size, modality)
    out = check_output(a.output or src.with_suffix(".tok"), [src], parents=a.parents)
    if frames:  # an image tokenizer on a video: every frame an image
        try:
            tokens, meta, rate = encode_frames(model, modality, src, size=a.size, max_frames=a.max_frames,
                                               num_tokens=a.num_tokens)  # fmt: skip
        except ValueError as e:
            raise DataError(f"{src}: {e}") from e
    else:
        x = model.load_file(src)
        if a.size is not None:
            x = modality.resize(x, a.size)
        with torch.no_grad():
            try:
                tokens = model.encode(x, num_tokens=a.num_tokens)
            except ValueError as e:  # e.g. a fixed-length model asked for another token count
                raise DataError(f"{src}: {e}") from e
        meta, rate = modality.file_meta(src), modality.rate(x, tokens)
    stamp(model, tokens)
    tokens.meta.update(meta)
    tokens.meta["source"] = src.name
    tokens.save(out)
    print(f"{out}: {tokens.num_tokens} tokens, {tokens.nbits()} bits" + (f" ({rate})" if rate else ""))
    for line in modality.changes(src.name, tokens.meta):
        print(line, file=sys.stderr)


def cmd_decode(a: argparse.Namespace) -> None:
    from tokzoo.core.tokens import Tokens

    model = load_model(a.model)
    modality = get_modality(model.modality)
    tok_path = Path(a.tokens)
    if not tok_path.is_file():
        raise DataError(f"{tok_path}: file not found")
    tokens = Tokens.load(tok_path)
    check_fingerprint(model, tokens, force=a.force, source=a.tokens)
    out = a.output or tok_path.with_name(tok_path.stem + "_rec" + modality.suffixes[0])
    out = check_output(out, [tok_path], parents=a.parents)
    with torch.no_grad():
        items = list(model.decode(tokens))
    if not items:
        raise DataError(f"{tok_path}: nothing to decode (0 samples)")
    options = modality.save_options(tokens.meta)
    for item, path in zip(items, output_paths(out, len(items)), strict=True):
        model.save_file(item, path, **options)
        print(path)


_EVAL_OPTIONS = ("size", "batch_size", "grid", "fid_weights", "lpips_weights", "lpips_backbone", "rd", "text",
                 "text_engine", "text_words", "faces")  # fmt: skip


def cmd_eval(a: argparse.Namespace) -> None:
    from tokzoo.bench.evaluator import EvalRequest

    inputs = [d for d in a.data or [] if Path(d).is_file()]
    for out in (a.out, a.report, a.grid):  # results folders are created when the results are written
        if out:
            check_output(out, inputs, parents=True)
    model = load_model(a.model)
    evaluator = get_modality(model.modality).evaluator()
    given = {k: getattr(a, k) for k in _EVAL_OPTIONS if getattr(a, k) not in (None, False)}
    for key in given.keys() - evaluator.options:
        having = [m for m in list_modalities() if key in get_modality(m).evaluator().options]
        flag = "--" + key.replace("_", "-")
        raise DataError(f"{flag} applies to {join_names(having)} tokenizers only, not to {model.modality}")
    request = EvalRequest(
        model=a.model,
        data=a.data,
        out=Path(a.out),
        report=Path(a.report) if a.report else None,
        options=given,
    )
    print(evaluator.run(model, request))


def cmd_bench_rd(a: argparse.Namespace) -> None:
    from tokzoo.bench.eval_run import check_ocr_engine, drop_small, load_eval_images
    from tokzoo.bench.protocol import prepare_images
    from tokzoo.bench.rd import rate_distortion, summarize_rd, text_rate_distortion, write_rd

    model = load_model(a.model)  # rate_distortion refuses a tokenizer of another modality
    if a.text:
        check_ocr_engine(a.text_engine)  # before any work: a missing engine names its install command
    images, bad = load_eval_images(a.data)
    images, small = drop_small(images, a.size)
    names, batch = prepare_images(images, a.size)
    rows = rate_distortion(model, names, batch, codecs=a.codecs, batch_size=a.batch_size)
    text_rows = None
    if a.text:
        text_rows = text_rate_distortion(
            model, size=a.size, words_per_bin=a.text_words, engine=a.text_engine, codecs=a.codecs,
            batch_size=a.batch_size,
        )  # fmt: skip
    title = f"{model.registry_name} vs codecs: {a.data} at {a.size} px"
    paths = write_rd(rows, a.out, title=title)
    if text_rows is not None:  # written only once everything is measured
        text_title = f"{model.registry_name} vs codecs on rendered text ({a.text_engine}), {a.size} px"
        paths += write_rd(text_rows, a.out, name="rd_text", title=text_title)
    for path in paths:
        print(path)
    for r in summarize_rd(rows) + (summarize_rd(text_rows) if text_rows else []):
        rate = f"{r['bpp']:.4f} bpp" if r["bpp"] is not None else f"fits {r['fit']}/{r['images']} images"
        psnr = f"{r['psnr']:.2f} dB" if r.get("psnr") is not None else "-"
        ocr = f"  OCR {r['ocr_word_acc']:.2f}" if r.get("ocr_word_acc") is not None else ""
        print(f"  {r['method']:<12} {r['point']:<28} {rate:<22} PSNR {psnr}{ocr}")
    if bad:
        print(f"  ({len(bad)} unreadable files skipped)")
    if small:
        print(f"  ({len(small)} images smaller than {a.size} px skipped, not upscaled)")


def cmd_demo(a: argparse.Namespace) -> None:
    from tokzoo.bench.demo import run_demo

    run_demo(a.out, steps=a.steps, rd=not a.no_rd)


def _parents_flag(s: argparse.ArgumentParser) -> None:
    s.add_argument(
        "--parents", action="store_true", help="create the output's missing folders (otherwise an error)"
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tokzoo", description=__doc__)
    p.add_argument(
        "--limit", action="append", default=[], metavar="NAME=VALUE",
        help="raise or lower a resource limit for this run, e.g. --limit svg_elements=1e6 (see docs/limits.md; "
        "also TOKZOO_LIMIT_<NAME>)",
    )  # fmt: skip
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="list registered tokenizers")
    s.add_argument("pattern", nargs="?", default="*", help="glob, e.g. '*f8*'")
    s.add_argument("--modality", default=None)
    s.add_argument(
        "--pretrained", action="store_true", help="only tokenizers with shipped pretrained weights"
    )
    s.set_defaults(fn=cmd_list)

    s = sub.add_parser("train", help="train a tokenizer from a YAML config and key=value overrides")
    s.add_argument("--config", default=None, help="YAML file with TrainConfig keys (see configs/)")
    s.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest checkpoint in out_dir, with its stored config (keys given here must not "
        "change what the run computes)",
    )
    s.add_argument("--init", default=None, help="fine-tune from a checkpoint folder or pretrained:NAME")
    s.add_argument(
        "overrides", nargs="*", help="key=value, e.g. max_steps=200 model_overrides.codebook_size=512"
    )
    s.set_defaults(fn=cmd_train)

    s = sub.add_parser(
        "fit", help="fit a tokenizer to data (e.g. text-bpe, svg-hivg-256, or a ptq grid model) -> checkpoint"
    )
    s.add_argument("--model", required=True, help="a registered name, or a checkpoint folder to fit further")
    s.add_argument(
        "--data", required=True, help="what the modality's dataset reads (e.g. a folder of .svg files)"
    )
    s.add_argument("--out", required=True, help="checkpoint folder to write")
    s.add_argument("--size", type=positive_int, default=None, help="image size (image tokenizers only)")
    s.add_argument(
        "--vocab",
        type=positive_int,
        default=None,
        help="vocabulary size to learn (text tokenizers: text-bpe, ...)",
    )
    s.set_defaults(fn=cmd_fit)

    s = sub.add_parser(
        "encode",
        help="image (or SVG, mesh, text, ... for those tokenizers; a video's frames for image ones) -> .tok",
    )
    s.add_argument("image", help="input file (an image, or what the model's load_file reads)")
    s.add_argument(
        "--model", required=True,
        help="checkpoint folder (config.json + model.safetensors); SVG/mesh: or a name, e.g. mesh-amt-q7",
    )  # fmt: skip
    s.add_argument("-o", "--output", default=None, help="default: IMAGE with suffix .tok")
    _parents_flag(s)
    s.add_argument(
        "--size", type=positive_int, default=None, help="resize shorter side and centre-crop to SIZE first"
    )
    s.add_argument(
        "--num-tokens", type=positive_int, default=None,
        help="keep a K-token prefix (flexible-length image tokenizers: onedpiece-*, flex-*, retok-*, ...)",
    )  # fmt: skip
    s.add_argument(
        "--max-frames", type=positive_int, default=None,
        help="a video given to an image tokenizer: encode at most this many frames (each as an image)",
    )  # fmt: skip
    s.set_defaults(fn=cmd_encode)

    s = sub.add_parser("decode", help=".tok -> PNG (or the model's file type, e.g. .svg)")
    s.add_argument("tokens")
    s.add_argument(
        "--model", required=True, help="checkpoint folder (or SVG/mesh tokenizer name) the tokens came from"
    )
    s.add_argument(
        "-o", "--output", default=None, help="default: TOKENS stem + _rec.png (never the original image)"
    )
    s.add_argument(
        "--force", action="store_true",
        help="decode tokens recorded as made by another tokenizer or checkpoint (fingerprint) anyway",
    )  # fmt: skip
    _parents_flag(s)
    s.set_defaults(fn=cmd_decode)

    s = sub.add_parser("eval", help="evaluate a tokenizer on a folder or files -> metrics JSON + HTML report")
    s.add_argument("--model", required=True, help="checkpoint folder (SVG/mesh: or a name, e.g. mesh-amt-q7)")
    s.add_argument(
        "--data", nargs="+", default=None,
        help="image folder, or bundled:test / bundled:train (default: bundled:test, 3 held-out photos); "
        "SVG/mesh: files or folders (default: a few Papirus icons / the bunny and homedecor models)",
    )  # fmt: skip
    s.add_argument(
        "--size", type=positive_int, default=None,
        help="evaluation resolution (images: shorter side + centre crop, default 128; SVG: render size, "
        "default 256)",
    )  # fmt: skip
    s.add_argument("--out", default="metrics.json", help="metrics JSON path")
    s.add_argument(
        "--report", default=None, help="self-contained HTML report (default: report.html beside --out)"
    )
    s.add_argument("--grid", default=None, help="also write a comparison grid PNG here")
    s.add_argument("--batch-size", type=positive_int, default=None, help="images per batch (default 8)")
    s.add_argument(
        "--fid-weights", default=None, help="FID Inception weights (pt_inception-2015-12-05-*.pth)"
    )
    s.add_argument(
        "--lpips-weights", default=None, help="LPIPS v0.1 AlexNet heads (alex.pth of the lpips package)"
    )
    s.add_argument("--lpips-backbone", default=None, help="AlexNet weights (alexnet-owt-7be5be79.pth)")
    s.add_argument(
        "--rd", action="store_true", help="add rate-distortion against JPEG/WebP/AVIF/JPEG XL + plot"
    )
    s.add_argument("--text", action="store_true", help="add the text-legibility (OCR) section")
    s.add_argument("--text-engine", default=None, choices=["rapidocr", "tesseract"], help="default: rapidocr")
    s.add_argument(
        "--text-words",
        type=positive_int,
        default=None,
        help="words per font-size bin for --text (default 20)",
    )
    s.add_argument("--faces", action="store_true", help="add face identity on the offline face photos")
    s.set_defaults(fn=cmd_eval)

    s = sub.add_parser("bench", help="benchmarks: rd (rate-distortion against codecs and the thumbnail)")
    bench = s.add_subparsers(dest="bench_command", required=True)
    s = bench.add_parser("rd", help="rate-distortion of a tokenizer vs JPEG/WebP/AVIF/JPEG XL -> CSV + PNG")
    s.add_argument("--model", required=True, help="checkpoint folder")
    s.add_argument("--data", required=True, help="image folder, or bundled:test / bundled:train")
    s.add_argument(
        "--size", type=positive_int, default=128, help="evaluation resolution (shorter side + centre crop)"
    )
    s.add_argument("--codecs", nargs="+", default=["jpeg", "webp", "avif", "jxl"], help="codecs to compare")
    s.add_argument("--out", default="results/rd", help="folder for rd.csv, rd_summary.csv and rd.png")
    s.add_argument("--batch-size", type=positive_int, default=8)
    s.add_argument(
        "--text", action="store_true",
        help="also rendered text pages with OCR word accuracy -> rd_text.csv / rd_text.png",
    )  # fmt: skip
    s.add_argument("--text-engine", choices=["rapidocr", "tesseract"], default="rapidocr")
    s.add_argument("--text-words", type=positive_int, default=12, help="words per font-size bin")
    s.set_defaults(fn=cmd_bench_rd)
    s = bench.add_parser(
        "rates",
        help="fixed-width bits, unigram entropy and entropy-coded bits (unigram / prior) of token shards",
    )
    s.add_argument("--tokens", required=True, help="token-shard folder written by tokzoo tokenize")
    s.add_argument("--prior", default=None, help="an AR prior folder (tokzoo train-prior) to code with")
    s.set_defaults(fn=cmd_bench_rates)

    add_prior_parsers(sub)
    add_coding_parsers(sub)

    s = sub.add_parser(
        "demo", help="evaluate the pretrained tokenizers on held-out photos, fine-tune one, report"
    )
    s.add_argument("--out", default="runs/demo")
    s.add_argument("--steps", type=positive_int, default=100, help="fine-tuning steps")
    s.add_argument("--no-rd", action="store_true", help="skip the rate-distortion comparison with codecs")
    s.set_defaults(fn=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 2 bad input or unwritable output, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="tokzoo: %(levelname)s: %(message)s")
    try:
        for assignment in args.limit:
            set_limit(assignment)
        args.fn(args)
    except TokzooError as e:
        print(f"tokzoo: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # an output path that is a folder, a read-only location, a full disk, ...
        where = f"{e.filename}: " if e.filename else ""
        print(f"tokzoo: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tokzoo: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
