"""HiVG-style SVG tokens vs raw bytes and byte-level BPE; render fidelity of the quantized SVG.

python benchmarks/svg.py [--train 500 --test 100 --seed 0] [--grid 256] [--fine-bits 4] [--worst 25]
    ->  results/svg.csv, results/svg_files.csv (and results/svg_causes.csv with --worst);
        with --grid N other than 256 the names end in _gN (results/svg_g1024.csv ...), with --fine-bits B
        other than 4 in _fB

Samples ``--train`` and ``--test`` files per package (openclipart-svg, papirus-icon-theme) from the corpus
(``data/svg``, built on first use), files up to ``--max-kb`` KB. Learns the palette + segment BPE
(``svg-hivg-<grid>``) on the train sample, and byte-level BPEs with HF ``tokenizers`` at the vocabulary size
of ``svg-hivg-256`` (``--bpe-vocab``; the same baseline at every grid): one on the raw SVG text, one on the
normalised SVG that decoding produces; at a grid other than 256 also one on the raw text at the tokenizer's own
(larger) vocabulary size (``byte_bpe_same_vocab``). On the test sample it counts
tokens per file (raw bytes, byte-BPE, level 1, level 2), renders original and decoded SVG at 256 px with
resvg and reports PSNR, SSIM, silhouette IoU (alpha > 50 %), coverage IoU, and the share of files that
parse, tokenize and re-render; ``*_ceiling``: the same for the unquantized parse (tokzoo.svg.unquantized:
float coordinates, exact paints), which no grid can beat; ``iou_defined`` is the silhouette IoU with hairline originals (a silhouette
under 25 % of their ink) measured by coverage IoU instead (docs/svg.md). ``--worst N`` explains every lost
IoU (tokzoo.svg.diagnose: ablating each SVG feature the original uses), ranks the causes by total IoU lost,
prints the N worst files and why the failing ones fail. The learned tokenizer is saved to results/svg_model
(``svg_model_gN`` at another grid; usable with ``tokzoo encode/decode``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

import tokzoo
from common import RESULTS, write_results
from tokzoo.svg import SvgInputError, SvgTokenError
from tokzoo.svg.corpus import build_corpus, corpus_files
from tokzoo.svg.diagnose import explain, features
from tokzoo.svg.render import compare_renders, render_svg
from tokzoo.svg.unquantized import unquantized_svg

PACKAGES = ("openclipart-svg", "papirus-icon-theme")


def sample(corpus: Path, split: str, n: int, max_bytes: int, rng: random.Random) -> dict[str, list[Path]]:
    out = {}
    for package in PACKAGES:
        files = [f for f in corpus_files(corpus, split, package) if f.stat().st_size <= max_bytes]
        out[package] = rng.sample(files, min(n, len(files)))
    return out


def byte_bpe(texts: list[str], vocab_size: int) -> Tokenizer:
    """A GPT-2 style byte-level BPE (regex pre-split) trained on ``texts``."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(texts, trainer)
    return tok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default="data/svg")
    ap.add_argument("--train", type=int, default=500, help="train files per package")
    ap.add_argument("--test", type=int, default=100, help="test files per package")
    ap.add_argument("--max-kb", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--grid", type=int, default=256)
    ap.add_argument("--segments", type=int, default=4096)
    ap.add_argument("--fine-bits", type=int, default=4, help="sub-grid bits of hairline paths (0: off)")
    ap.add_argument("--bpe-vocab", type=int, default=0, help="byte-BPE vocabulary (default: svg-hivg-256's)")
    ap.add_argument("--worst", type=int, default=0, help="explain lost IoU; print the N worst files")
    a = ap.parse_args()
    corpus = Path(a.corpus)
    if not (corpus / "manifest.json").is_file():
        print(build_corpus(corpus))
    rng = random.Random(a.seed)
    train = sample(corpus, "train", a.train, a.max_kb * 1024, rng)
    test = sample(corpus, "test", a.test, a.max_kb * 1024, rng)
    train_files = [f for fs in train.values() for f in fs]

    suffix = ("" if a.grid == 256 else f"_g{a.grid}") + ("" if a.fine_bits == 4 else f"_f{a.fine_bits}")
    t0 = time.perf_counter()
    name = (
        f"svg-hivg-{a.grid}"
        if f"svg-hivg-{a.grid}" in tokzoo.list_tokenizers("svg-hivg-*")
        else "svg-hivg-256"
    )
    tok = tokzoo.create(name, grid=a.grid, num_segments=a.segments, fine_bits=a.fine_bits)
    fit = tok.fit(train_files, seed=a.seed)
    fit_s = time.perf_counter() - t0
    tok.save_pretrained(RESULTS / f"svg_model{suffix}")
    bpe_vocab = a.bpe_vocab or tokzoo.create("svg-hivg-256", num_segments=a.segments).vocab_size
    raw_train = [f.read_text(errors="replace") for f in train_files]
    norm_train = []
    for f in train_files:
        try:
            norm_train.append(tok.decode(tok.encode(f))[0])
        except SvgInputError:
            continue
    bpe_raw = byte_bpe(raw_train, bpe_vocab)
    bpe_norm = byte_bpe(norm_train, bpe_vocab)
    bpe_same = bpe_raw if tok.vocab_size == bpe_vocab else byte_bpe(raw_train, tok.vocab_size)

    file_rows = []
    for package, files in test.items():
        for f in files:
            data = f.read_bytes()
            text = data.decode("utf-8", errors="replace")
            row = {
                "package": package,
                "file": f.name,
                "bytes": len(data),
                "byte_bpe": len(bpe_raw.encode(text).ids),
                "byte_bpe_same_vocab": len(bpe_same.encode(text).ids),
                "parsed": 0,
                "rendered": 0,
            }
            try:
                doc = tok.level1(f)
                l1, l2 = tok.doc_tokens([doc], level=1), tok.doc_tokens([doc])
            except SvgInputError as e:
                row["error"] = str(e)[:120]
                row["original_empty"] = _renders_empty(data)
                row["features"] = " ".join(sorted(features(data)))
                file_rows.append(row)
                continue
            svg = tok.decode(l2)[0]
            assert svg == tok.decode(l1)[0]
            row.update(
                parsed=1,
                level1=l1.num_tokens,
                level2=l2.num_tokens,
                bits2=l2.nbits(),
                byte_bpe_norm=len(bpe_norm.encode(svg).ids),
            )
            try:
                target = render_svg(data)
                fid = compare_renders(render_svg(svg), target)
                ceiling = compare_renders(render_svg(unquantized_svg(data, a.grid)), target)
            except (SvgInputError, SvgTokenError) as e:
                row["error"] = str(e)[:120]
                file_rows.append(row)
                continue
            row.update(rendered=1, psnr=fid.psnr, ssim=fid.ssim, iou=fid.iou, coverage_iou=fid.coverage_iou)
            row.update(hairline=int(fid.hairline), iou_defined=fid.silhouette_iou, svg=svg)
            row.update(
                psnr_ceiling=ceiling.psnr, iou_ceiling=ceiling.iou, iou_defined_ceiling=ceiling.silhouette_iou
            )
            file_rows.append(row)

    rows = []
    for package in (*PACKAGES, "all"):
        sel = [r for r in file_rows if package in ("all", r["package"])]
        ok = [r for r in sel if r["parsed"]]
        ren = [r for r in ok if r["rendered"]]
        mean = lambda k, rs=ok: statistics.fmean(r[k] for r in rs) if rs else float("nan")  # noqa: E731
        rows.append(
            {
                "package": package,
                "test_files": len(sel),
                "tokenized": len(ok) / len(sel) if sel else float("nan"),
                "rendered": len(ren) / len(sel) if sel else float("nan"),
                "grid": a.grid,
                "bytes": mean("bytes"),
                "byte_bpe": mean("byte_bpe"),
                "byte_bpe_same_vocab": mean("byte_bpe_same_vocab"),
                "byte_bpe_norm": mean("byte_bpe_norm"),
                "level1": mean("level1"),
                "level2": mean("level2"),
                "bpe_over_l2": sum(r["byte_bpe"] for r in ok) / max(1, sum(r["level2"] for r in ok)),
                "bpe_over_l2_median": statistics.median(r["byte_bpe"] / r["level2"] for r in ok)
                if ok
                else float("nan"),
                "samevocab_bpe_over_l2": sum(r["byte_bpe_same_vocab"] for r in ok)
                / max(1, sum(r["level2"] for r in ok)),
                "normbpe_over_l2": sum(r["byte_bpe_norm"] for r in ok) / max(1, sum(r["level2"] for r in ok)),
                "l1_over_l2": sum(r["level1"] for r in ok) / max(1, sum(r["level2"] for r in ok)),
                "psnr": mean("psnr", ren),
                "ssim": mean("ssim", ren),
                "iou": mean("iou", ren),
                "iou_min": min((r["iou"] for r in ren), default=float("nan")),
                "hairline": sum(r["hairline"] for r in ren),
                "coverage_iou": mean("coverage_iou", ren),
                "iou_defined": mean("iou_defined", ren),
                "iou_solid": mean("iou", [r for r in ren if not r["hairline"]]),
                "psnr_ceiling": mean("psnr_ceiling", ren),
                "iou_ceiling": mean("iou_ceiling", ren),
                "iou_defined_ceiling": mean("iou_defined_ceiling", ren),
            }
        )
    print(
        f"fit on {len(train_files)} train files ({fit}) in {fit_s:.0f} s; vocabulary {tok.vocab_size} "
        f"(atoms {tok.atom_vocab.size}); byte-BPE vocabularies {bpe_raw.get_vocab_size()}, "
        f"{bpe_norm.get_vocab_size()}, {bpe_same.get_vocab_size()}"
    )
    keys = [
        "package",
        "file",
        "bytes",
        "byte_bpe",
        "byte_bpe_same_vocab",
        "byte_bpe_norm",
        "level1",
        "level2",
        "bits2",
        "parsed",
        "rendered",
        "psnr",
        "ssim",
        "iou",
        "coverage_iou",
        "hairline",
        "iou_defined",
        "psnr_ceiling",
        "iou_ceiling",
        "iou_defined_ceiling",
        "cause",
        "features",
        "original_empty",
        "error",
    ]
    if a.worst:
        causes = explain_losses(file_rows, test, a.worst)
    write_results(f"svg_files{suffix}", [{k: r.get(k, "") for k in keys} for r in file_rows])
    print()
    write_results(f"svg{suffix}", rows)
    if a.worst:
        print()
        write_results(f"svg_causes{suffix}", causes)


def _renders_empty(data: bytes) -> int | str:
    """1 when the original itself draws nothing at 256 px (nothing to reconstruct), '' if it cannot render."""
    try:
        return int(not (render_svg(data)[..., 3] > 0).any())
    except SvgInputError:
        return ""


def explain_losses(file_rows: list[dict], test: dict[str, list[Path]], worst: int) -> list[dict]:
    """Attach the main cause of every lost IoU to its row; print the ``worst`` files and the failures;
    return the causes ranked by total silhouette IoU lost (per package and overall)."""
    paths = {(p, f.name): f for p, fs in test.items() for f in fs}
    for r in file_rows:
        if not r["rendered"]:
            continue
        data = paths[(r["package"], r["file"])].read_bytes()
        r["features"] = " ".join(sorted(features(data)))
        r["cause"] = explain(data, r["svg"]).cause if r["iou"] < 0.999 else "none"
    ren = sorted((r for r in file_rows if r["rendered"]), key=lambda r: r["iou"])
    print(f"\n{worst} worst test files by silhouette IoU:")
    for r in ren[:worst]:
        print(
            f"  {r['package'][:10]:10} {r['file']}  IoU {r['iou']:.3f}  coverage {r['coverage_iou']:.3f}  "
            f"PSNR {r['psnr']:.1f}  cause: {r['cause']:14} uses: {r['features'] or '-'}"
        )
    print("\nfiles that do not tokenize or render:")
    for r in file_rows:
        if not r["rendered"]:
            empty = " (the original itself draws nothing)" if r.get("original_empty") == 1 else ""
            print(
                f"  {r['package'][:10]:10} {r['file']}  {r.get('error', '')}{empty}  uses: {r.get('features') or '-'}"
            )
    out = []
    for package in (*PACKAGES, "all"):
        lost: dict[str, list[float]] = {}
        for r in ren:
            if package in ("all", r["package"]) and r["cause"] != "none":
                lost.setdefault(r["cause"], []).append(1 - r["iou"])
        n = sum(1 for r in ren if package in ("all", r["package"]))
        for cause, losses in sorted(lost.items(), key=lambda kv: -sum(kv[1])):
            out.append(
                {
                    "package": package,
                    "cause": cause,
                    "files": len(losses),
                    "iou_lost_total": sum(losses),
                    "mean_iou_lost": sum(losses) / max(1, n),
                }
            )
    return out


if __name__ == "__main__":
    main()
