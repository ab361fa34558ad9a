"""The ``tokzoo`` command line: list, train, encode, decode, eval, demo."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import torch

from tokzoo.core.errors import DataError, TokzooError
from tokzoo.core.fingerprint import check_fingerprint, stamp
from tokzoo.core.limits import set_limit
from tokzoo.core.outputs import check_output


def _load_model(path: str):
    import tokzoo
    from tokzoo.core.pretrained import PREFIX, list_pretrained

    if path.startswith(PREFIX) or (not Path(path).exists() and path in list_pretrained()):
        return tokzoo.load(PREFIX + path.removeprefix(PREFIX))
    if not Path(path).exists():
        return _registered_model(path)
    return tokzoo.load(path)


def _registered_model(name: str):
    """A registered SVG or mesh tokenizer by name (e.g. ``mesh-amt-q7``): those work without training."""
    from tokzoo.core.registry import create, get_spec

    try:
        modality = get_spec(name).modality
    except TokzooError:
        raise DataError(f"{name}: checkpoint folder not found") from None
    if modality == "image":
        raise DataError(
            f"{name}: checkpoint folder not found ({name} is an image tokenizer without shipped weights: pass "
            "the folder of a trained checkpoint, e.g. from tokzoo train, or a name from `tokzoo list --pretrained`)"
        )
    return create(name)


def _load_image_model(path: str):
    model = _load_model(path)
    if model.modality != "image":
        raise DataError(
            f"{path}: {model.registry_name} is a {model.modality} tokenizer, not an image tokenizer"
        )
    return model


def _require_file_hooks(path: str, model):
    """``model`` itself, if it reads and writes files through ``load_file`` / ``save_file``."""
    if not model.file_suffixes:
        raise DataError(
            f"{path}: {model.registry_name} is a {model.modality} tokenizer, not an image tokenizer, "
            "and reads no files"
        )
    return model


def _encode_file(a: argparse.Namespace, model) -> None:
    """``tokzoo encode`` for non-image modalities: ``load_file`` -> ``encode`` -> ``.tok``."""
    src = Path(a.image)
    if not src.is_file():
        raise DataError(f"{src}: file not found")
    if src.suffix.lower() not in model.file_suffixes:
        raise DataError(
            f"{src}: {model.registry_name} reads {'/'.join(model.file_suffixes)} files, "
            f"not {src.suffix or 'a file without suffix'}"
        )
    if a.size is not None:
        raise DataError(f"--size applies to image tokenizers only, not to {model.modality}")
    out = check_output(a.output or src.with_suffix(".tok"), [src], parents=a.parents)
    with torch.no_grad():
        tokens = stamp(model, model.encode(model.load_file(src)))
    tokens.meta["source"] = src.name
    tokens.save(out)
    print(f"{out}: {tokens.num_tokens} tokens, {tokens.nbits()} bits")
    for line in _input_changes(src, tokens.meta):
        print(line, file=sys.stderr)


def _input_changes(src: Path, meta: dict) -> list[str]:
    """What encoding changed in the input, as the tokenizer recorded it in ``meta``: each mesh's quantization
    report (merged vertices, dropped faces, ...) and the SVG points clamped to the grid."""
    from tokzoo.mesh.prepare import MeshReport

    lines = [MeshReport(**r).describe() for r in meta.get("reports") or [] if r is not None]
    clamped = sum(meta.get("clamped") or [])
    if clamped:
        lines.append(f"{src.name}: {clamped} points outside the canvas clamped to the {meta['grid']} grid")
    return lines


def _decode_file(a: argparse.Namespace, model, tokens) -> None:
    """``tokzoo decode`` for non-image modalities: ``decode`` gives one item per sample -> ``save_file``."""
    tok_path = Path(a.tokens)
    suffix = model.file_suffixes[0]
    out = a.output or tok_path.with_name(tok_path.stem + "_rec" + suffix)
    out = check_output(out, [tok_path], parents=a.parents)
    with torch.no_grad():
        items = list(model.decode(tokens))
    if not items:
        raise DataError(f"{tok_path}: nothing to decode (0 samples)")
    many = [out.with_name(f"{out.stem}_{i:03d}{out.suffix}") for i in range(len(items))]
    outs = [out] if len(items) == 1 else many
    for item, path in zip(items, outs, strict=True):
        model.save_file(item, path)
        print(path)


def cmd_list(a: argparse.Namespace) -> None:
    from tokzoo.core.registry import get_spec, list_tokenizers

    for name in list_tokenizers(a.pattern, modality=a.modality, pretrained=a.pretrained):
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


def _read_image(path: str, size: int | None) -> torch.Tensor:
    from tokzoo.data import eval_transform, image_to_tensor, load_image

    if not Path(path).is_file():
        raise DataError(f"{path}: file not found")
    x = image_to_tensor(load_image(path))
    return eval_transform(x, size) if size is not None else x


def cmd_encode(a: argparse.Namespace) -> None:
    model = _load_model(a.model)
    if model.modality != "image":
        return _encode_file(a, _require_file_hooks(a.model, model))
    out = check_output(a.output or Path(a.image).with_suffix(".tok"), [a.image], parents=a.parents)
    x = _read_image(a.image, a.size)[None]
    with torch.no_grad():
        try:
            tokens = model.encode(x, num_tokens=a.num_tokens)
        except ValueError as e:  # e.g. a fixed-length model asked for another token count
            raise DataError(f"{a.image}: {e}") from e
    stamp(model, tokens)
    tokens.meta["source"] = Path(a.image).name
    tokens.save(out)
    h, w = x.shape[-2:]
    print(f"{out}: {tokens.num_tokens} tokens, {tokens.nbits()} bits ({tokens.nbits() / (h * w):.4f} bpp)")


def cmd_decode(a: argparse.Namespace) -> None:
    from tokzoo.core.tokens import Tokens
    from tokzoo.data import save_image

    model = _load_model(a.model)
    if model.modality != "image":
        _require_file_hooks(a.model, model)
    if not Path(a.tokens).is_file():
        raise DataError(f"{a.tokens}: file not found")
    tokens = Tokens.load(a.tokens)
    check_fingerprint(model, tokens, force=a.force, source=a.tokens)
    if model.modality != "image":
        return _decode_file(a, model, tokens)
    tok_path = Path(a.tokens)
    out = check_output(
        a.output or tok_path.with_name(tok_path.stem + "_rec.png"), [tok_path], parents=a.parents
    )
    with torch.no_grad():
        x = model.decode(tokens)
    outs = [out] if len(x) == 1 else [out.with_name(f"{out.stem}_{i:03d}{out.suffix}") for i in range(len(x))]
    for image, path in zip(x, outs, strict=True):
        save_image(image, path)
        print(f"{path}: {x.shape[-2]}x{x.shape[-1]} px")


def cmd_eval(a: argparse.Namespace) -> None:
    from tokzoo.bench.eval_run import EvalOptions, run_eval
    from tokzoo.bench.report import format_summary

    inputs = [d for d in a.data or [] if Path(d).is_file()]
    for out in (a.out, a.report, a.grid):  # results folders are created when the results are written
        if out:
            check_output(out, inputs, parents=True)
    model = _load_model(a.model)
    if model.modality != "image":
        return _eval_files(a, model)
    if a.data and len(a.data) > 1:
        raise DataError("image tokenizers take one --data: an image folder, or bundled:test / bundled:train")
    a.data, a.size = a.data[0] if a.data else "bundled:test", a.size or 128
    title = f"tokzoo eval: {a.model} on {a.data}"
    opts = EvalOptions(
        data=a.data, size=a.size, batch_size=a.batch_size, out=Path(a.out),
        report=Path(a.report) if a.report else None, grid=Path(a.grid) if a.grid else None,
        fid_weights=a.fid_weights, lpips_weights=a.lpips_weights, lpips_backbone=a.lpips_backbone,
        rd=a.rd, text=a.text, text_engine=a.text_engine, text_words=a.text_words, faces=a.faces, title=title,
        meta={"model": a.model},
    )  # fmt: skip
    run = run_eval(model, opts)
    skipped = len(run.skipped)
    print(format_summary(run.result, title))
    if run.too_small:
        shown = ", ".join(f"{n} ({r.split(',')[0]})" for n, r in run.too_small[:5])
        more = ", ..." if len(run.too_small) > 5 else ""
        print(
            f"  skipped           {len(run.too_small)} images smaller than the evaluation size {a.size} px, "
            f"not upscaled into the mean: {shown}{more}"
        )
    print(f"  metrics           {a.out}" + (f" ({skipped} unreadable files skipped)" if skipped else ""))
    print(f"  report            {run.report}")


def _eval_files(a: argparse.Namespace, model) -> None:
    """``tokzoo eval`` for tokenizers that read files (SVG, mesh): per-file metrics, failures listed."""
    from tokzoo.bench.eval_files import FileEvalOptions, format_file_summary, run_file_eval

    image_only = {"--rd": a.rd, "--text": a.text, "--faces": a.faces, "--grid": a.grid,
                  "--fid-weights": a.fid_weights, "--lpips-weights": a.lpips_weights,
                  "--lpips-backbone": a.lpips_backbone}  # fmt: skip
    for flag, value in image_only.items():
        if value:
            raise DataError(f"{flag} applies to image tokenizers only, not to {model.modality}")
    title = f"tokzoo eval: {a.model} on {' '.join(a.data) if a.data else 'the default files'}"
    opts = FileEvalOptions(
        data=a.data, size=a.size, out=Path(a.out), report=Path(a.report) if a.report else None, title=title,
        meta={"model": a.model},
    )  # fmt: skip
    print(format_file_summary(run_file_eval(model, opts), title))


def cmd_bench_rd(a: argparse.Namespace) -> None:
    from tokzoo.bench.eval_run import check_ocr_engine, drop_small, load_eval_images
    from tokzoo.bench.protocol import prepare_images
    from tokzoo.bench.rd import rate_distortion, summarize_rd, text_rate_distortion, write_rd

    model = _load_image_model(a.model)
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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


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

    s = sub.add_parser("encode", help="image (or SVG, mesh, ... for those tokenizers) -> .tok")
    s.add_argument("image", help="input file (an image, or what the model's load_file reads)")
    s.add_argument(
        "--model", required=True,
        help="checkpoint folder (config.json + model.safetensors); SVG/mesh: or a name, e.g. mesh-amt-q7",
    )  # fmt: skip
    s.add_argument("-o", "--output", default=None, help="default: IMAGE with suffix .tok")
    _parents_flag(s)
    s.add_argument(
        "--size", type=_positive_int, default=None, help="resize shorter side and centre-crop to SIZE first"
    )
    s.add_argument(
        "--num-tokens", type=_positive_int, default=None,
        help="keep a K-token prefix (flexible-length image tokenizers: onedpiece-*, flex-*, retok-*, ...)",
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
        "--size", type=_positive_int, default=None,
        help="evaluation resolution (images: shorter side + centre crop, default 128; SVG: render size, "
        "default 256)",
    )  # fmt: skip
    s.add_argument("--out", default="metrics.json", help="metrics JSON path")
    s.add_argument(
        "--report", default=None, help="self-contained HTML report (default: report.html beside --out)"
    )
    s.add_argument("--grid", default=None, help="also write a comparison grid PNG here")
    s.add_argument("--batch-size", type=_positive_int, default=8)
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
    s.add_argument("--text-engine", default="rapidocr", choices=["rapidocr", "tesseract"])
    s.add_argument("--text-words", type=_positive_int, default=20, help="words per font-size bin for --text")
    s.add_argument("--faces", action="store_true", help="add face identity on the offline face photos")
    s.set_defaults(fn=cmd_eval)

    s = sub.add_parser("bench", help="benchmarks: rd (rate-distortion against codecs and the thumbnail)")
    bench = s.add_subparsers(dest="bench_command", required=True)
    s = bench.add_parser("rd", help="rate-distortion of a tokenizer vs JPEG/WebP/AVIF/JPEG XL -> CSV + PNG")
    s.add_argument("--model", required=True, help="checkpoint folder")
    s.add_argument("--data", required=True, help="image folder, or bundled:test / bundled:train")
    s.add_argument(
        "--size", type=_positive_int, default=128, help="evaluation resolution (shorter side + centre crop)"
    )
    s.add_argument("--codecs", nargs="+", default=["jpeg", "webp", "avif", "jxl"], help="codecs to compare")
    s.add_argument("--out", default="results/rd", help="folder for rd.csv, rd_summary.csv and rd.png")
    s.add_argument("--batch-size", type=_positive_int, default=8)
    s.add_argument(
        "--text", action="store_true",
        help="also rendered text pages with OCR word accuracy -> rd_text.csv / rd_text.png",
    )  # fmt: skip
    s.add_argument("--text-engine", choices=["rapidocr", "tesseract"], default="rapidocr")
    s.add_argument("--text-words", type=_positive_int, default=12, help="words per font-size bin")
    s.set_defaults(fn=cmd_bench_rd)

    s = sub.add_parser(
        "demo", help="evaluate the pretrained tokenizers on held-out photos, fine-tune one, report"
    )
    s.add_argument("--out", default="runs/demo")
    s.add_argument("--steps", type=_positive_int, default=100, help="fine-tuning steps")
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
