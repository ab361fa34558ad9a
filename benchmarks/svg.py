"""HiVG-style SVG tokens vs raw bytes and byte-level BPE; render fidelity of the quantized SVG.

python benchmarks/svg.py [--train 500 --test 100 --seed 0] [--grid 256] [--fine-bits 4] [--worst 25] [--jobs 2]
python benchmarks/svg.py --test 0 --jobs 2        # the whole held-out split (6,264 files, ~4.5 min)
    ->  results/svg.csv, results/svg_files.csv (and results/svg_causes.csv with --worst); with --grid N other
        than 256 the names end in _gN (results/svg_g1024.csv ...), with --fine-bits B other than 4 in _fB,
        with --fine-below W other than 1 in _wW, with --test 0 in _split

Samples ``--train`` and ``--test`` files per package (openclipart-svg, papirus-icon-theme) from the corpus
(``data/svg``, built on first use), files up to ``--max-kb`` KB; ``--test 0`` takes every (any size)
held-out file, so the ``all`` row is the mean over the held-out split as built (5,499 Papirus and 765
openclipart files), while the default sample weighs both packages equally. Learns the palette + segment BPE
(``svg-hivg-<grid>``) on the train sample, and byte-level BPEs with HF ``tokenizers`` at the vocabulary size
of ``svg-hivg-256`` with the run's ``--fine-bits`` (``--bpe-vocab``; the same baseline at every grid: 5,555
at the default 4 bits, 5,298 without sub-grid atoms): one on the raw SVG text, one on the normalised SVG that
decoding produces; at a grid other than 256 also one on the raw text at the tokenizer's own (larger)
vocabulary size (``byte_bpe_same_vocab``). The tokenizer is fitted in this process (~25 s); the test files are
measured on ``--jobs`` worker processes (one torch thread each: SSIM can differ from a one-process run in the
7th digit). Every test file goes through the measurement ``tokzoo eval`` uses
(:func:`tokzoo.svg.measure.measure_svg_file`: tokens per file at level 1 and 2, the decoded SVG and
original rendered at 256 px with resvg, PSNR, SSIM, silhouette IoU (alpha > 50 %), coverage IoU,
``silhouette_iou`` — the IoU with hairline originals (a silhouette under 25 % of their ink) measured by
coverage IoU instead, "IoU (defined)" in docs/svg.md), plus byte-BPE counts, ``iou_strict`` (a file that does
not tokenize or render counts as 0), ``target_met`` (>= 4x fewer tokens than raw byte-BPE and mean IoU >= 0.98)
and ``*_ceiling``: the same fidelity for the unquantized parse (tokzoo.svg.unquantized: float
coordinates, exact paints), which no grid can beat. ``--worst N`` explains every lost IoU
(tokzoo.svg.diagnose: ablating each SVG feature the original uses), ranks the causes by total IoU lost,
prints the N worst files and why the failing ones fail. The learned tokenizer is saved to results/svg_model
(``svg_model_gN`` at another grid; usable with ``tokzoo encode/decode``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

import tokzoo
from common import RESULTS, write_results
from tokzoo.bench.eval_files import failure
from tokzoo.svg import SvgInputError
from tokzoo.svg.corpus import build_corpus, corpus_files
from tokzoo.svg.diagnose import explain, features
from tokzoo.svg.measure import measure_svg_file
from tokzoo.svg.render import compare_renders, render_svg
from tokzoo.svg.unquantized import unquantized_svg

PACKAGES = ("openclipart-svg", "papirus-icon-theme")
CORPUS = RESULTS.parent / "data" / "svg"  # built on first use, whatever the working directory


def sample(corpus: Path, split: str, n: int, max_bytes: int, rng: random.Random) -> dict[str, list[Path]]:
    """``n`` random files of ``split`` up to ``max_bytes`` per package; ``n`` = 0: all of them."""
    out = {}
    for package in PACKAGES:
        files = corpus_files(corpus, split, package)
        if not n:  # the whole split, any size
            out[package] = files
            continue
        files = [f for f in files if f.stat().st_size <= max_bytes]
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
    ap.add_argument(
        "--corpus", default=str(CORPUS), help="corpus folder (default: data/svg of the repository)"
    )
    ap.add_argument("--train", type=int, default=500, help="train files per package")
    ap.add_argument("--test", type=int, default=100, help="test files per package (0: the whole split)")
    ap.add_argument("--max-kb", type=int, default=256, help="largest train and sampled test file")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--grid", type=int, default=256)
    ap.add_argument("--segments", type=int, default=4096)
    ap.add_argument("--fine-bits", type=int, default=4, help="sub-grid bits of hairline paths (0: off)")
    ap.add_argument("--fine-below", type=float, default=1.0, help="stroke width (grid steps) of FINE paths")
    ap.add_argument("--bpe-vocab", type=int, default=0, help="byte-BPE vocabulary (default: svg-hivg-256's)")
    ap.add_argument("--worst", type=int, default=0, help="explain lost IoU; print the N worst files")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes measuring the test files")
    a = ap.parse_args()
    corpus = Path(a.corpus)
    if not (corpus / "manifest.json").is_file():
        print(build_corpus(corpus))
    rng = random.Random(a.seed)
    train = sample(corpus, "train", a.train, a.max_kb * 1024, rng)
    test = sample(corpus, "test", a.test, a.max_kb * 1024, rng)
    train_files = [f for fs in train.values() for f in fs]

    suffix = ("" if a.grid == 256 else f"_g{a.grid}") + ("" if a.fine_bits == 4 else f"_f{a.fine_bits}")
    suffix += "" if a.fine_below == 1.0 else f"_w{a.fine_below:g}"
    suffix += "" if a.test else "_split"
    t0 = time.perf_counter()
    name = (
        f"svg-hivg-{a.grid}" if f"svg-hivg-{a.grid}" in tokzoo.list_models("svg-hivg-*") else "svg-hivg-256"
    )
    tok = tokzoo.create(
        name, grid=a.grid, num_segments=a.segments, fine_bits=a.fine_bits, fine_below=a.fine_below
    )
    fit = tok.fit(train_files, seed=a.seed)
    fit_s = time.perf_counter() - t0
    tok.save_pretrained(RESULTS / f"svg_model{suffix}")
    baseline = tokzoo.create("svg-hivg-256", num_segments=a.segments, fine_bits=a.fine_bits)
    bpe_vocab = a.bpe_vocab or baseline.vocab_size
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

    bpes = {"raw": bpe_raw, "norm": bpe_norm, "same": bpe_same}
    tasks = [(package, str(f)) for package, files in test.items() for f in files]
    t0 = time.perf_counter()
    if a.jobs <= 1:
        _STATE.update(model=tok, grid=a.grid, **bpes)
        file_rows = [measure_row(t) for t in tasks]
    else:
        init = (str(RESULTS / f"svg_model{suffix}"), {k: b.to_str() for k, b in bpes.items()}, a.grid)
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(a.jobs, mp_context=ctx, initializer=_init_worker, initargs=init) as pool:
            file_rows = list(pool.map(measure_row, tasks, chunksize=8))
    print(
        f"measured {len(tasks)} test files in {time.perf_counter() - t0:.0f} s on {max(1, a.jobs)} process(es)"
    )

    rows = [summary_row(package, file_rows, a.grid) for package in (*PACKAGES, "all")]
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
        "level1_tokens",
        "level2_tokens",
        "bits",
        "clamped",
        "parsed",
        "rendered",
        "psnr",
        "ssim",
        "iou",
        "coverage_iou",
        "hairline",
        "silhouette_iou",
        "psnr_ceiling",
        "iou_ceiling",
        "silhouette_iou_ceiling",
        "cause",
        "features",
        "original_empty",
        "error",
    ]
    if a.worst:
        causes = explain_losses(file_rows, test, a.worst)
    write_results(f"svg_files{suffix}", [{k: _cell(r.get(k)) for k in keys} for r in file_rows])
    print()
    write_results(f"svg{suffix}", rows)
    if a.worst:
        print()
        write_results(f"svg_causes{suffix}", causes)


_STATE: dict[str, Any] = {}
"""What :func:`measure_row` measures with: the fitted tokenizer, the three byte-BPEs and the grid."""

TARGET_RATIO, TARGET_IOU = 4.0, 0.98  # the target: >= 4x fewer tokens than byte-BPE, IoU >= 0.98


def _init_worker(model_dir: str, bpes: dict[str, str], grid: int) -> None:
    """Worker process: one thread, the fitted tokenizer from its checkpoint, the byte-BPEs from JSON."""
    torch.set_num_threads(1)
    _STATE.update(
        model=tokzoo.load(model_dir), grid=grid, **{k: Tokenizer.from_str(v) for k, v in bpes.items()}
    )


def measure_row(task: tuple[str, str]) -> dict[str, Any]:
    """One test file's row: the shared SVG measurement, byte-BPE counts and the unquantized ceiling."""
    package, name = task
    path, st = Path(name), _STATE
    m = measure_svg_file(st["model"], path)
    row: dict[str, Any] = {"package": package, **m.record()}
    row |= {"parsed": int(m.tokenized), "rendered": int(m.fidelity is not None)}
    text = (m.data or b"").decode("utf-8", errors="replace")
    row |= {
        "byte_bpe": len(st["raw"].encode(text).ids),
        "byte_bpe_same_vocab": len(st["same"].encode(text).ids),
    }
    if m.error is not None:
        row["error"] = f"{m.stage}: {failure(path, m.stage or 'parse', m.error)['reason']}"[:160]
    if not m.tokenized:
        row["original_empty"] = _renders_empty(m.data) if m.data is not None else ""
        row["features"] = " ".join(sorted(features(m.data or b"")))
        return row
    if m.svg is None or m.level1 is None:  # decoding failed (in ``error``)
        return row
    assert m.svg == st["model"].decode(m.level1)[0], f"{path}: level 1 and level 2 decode differently"
    row |= {"byte_bpe_norm": len(st["norm"].encode(m.svg).ids), "svg": m.svg}
    if m.fidelity is not None and m.original is not None:
        try:
            ceiling = compare_renders(render_svg(unquantized_svg(m.data, st["grid"])), m.original)
        except Exception as e:  # recorded: a ceiling that cannot be drawn is missing, not a failed file
            row["error"] = f"ceiling: {type(e).__name__}: {e}"[:160]
        else:
            row |= {"psnr_ceiling": ceiling.psnr, "iou_ceiling": ceiling.iou}
            row["silhouette_iou_ceiling"] = ceiling.silhouette_iou
    return row


def summary_row(package: str, file_rows: list[dict[str, Any]], grid: int) -> dict[str, Any]:
    """Means per test file of ``package`` (``all``: every file) and the token ratios over its files."""
    sel = [r for r in file_rows if package in ("all", r["package"])]
    ok = [r for r in sel if r["parsed"]]
    ren = [r for r in ok if r["rendered"]]

    def mean(key: str, rs: list[dict[str, Any]] = ok) -> float:
        values = [r[key] for r in rs if r.get(key) is not None]
        return statistics.fmean(values) if values else float("nan")

    def ratio(key: str) -> float:
        rs = [r for r in ok if r.get(key) is not None]
        return sum(r[key] for r in rs) / max(1, sum(r["level2_tokens"] for r in rs))

    row = {
        "package": package,
        "test_files": len(sel),
        "tokenized": len(ok) / len(sel) if sel else float("nan"),
        "rendered": len(ren) / len(sel) if sel else float("nan"),
        "grid": grid,
        "bytes": mean("bytes"),
        "byte_bpe": mean("byte_bpe"),
        "byte_bpe_same_vocab": mean("byte_bpe_same_vocab"),
        "byte_bpe_norm": mean("byte_bpe_norm"),
        "level1_tokens": mean("level1_tokens"),
        "level2_tokens": mean("level2_tokens"),
        "bpe_over_l2": ratio("byte_bpe"),
        "bpe_over_l2_median": statistics.median(r["byte_bpe"] / r["level2_tokens"] for r in ok)
        if ok
        else float("nan"),
        "samevocab_bpe_over_l2": ratio("byte_bpe_same_vocab"),
        "normbpe_over_l2": ratio("byte_bpe_norm"),
        "l1_over_l2": ratio("level1_tokens"),
        "psnr": mean("psnr", ren),
        "ssim": mean("ssim", ren),
        "iou": mean("iou", ren),
        "iou_min": min((r["iou"] for r in ren), default=float("nan")),
        # strict: a file that does not tokenize or render counts as IoU 0 (also one whose original is empty)
        "iou_strict": sum(r["iou"] for r in ren) / len(sel) if sel else float("nan"),
        "hairline": sum(bool(r["hairline"]) for r in ren),
        "coverage_iou": mean("coverage_iou", ren),
        "silhouette_iou": mean("silhouette_iou", ren),
        "iou_solid": mean("iou", [r for r in ren if not r["hairline"]]),
        "psnr_ceiling": mean("psnr_ceiling", ren),
        "iou_ceiling": mean("iou_ceiling", ren),
        "silhouette_iou_ceiling": mean("silhouette_iou_ceiling", ren),
    }
    row["target_met"] = int(row["bpe_over_l2"] >= TARGET_RATIO and row["iou"] >= TARGET_IOU)
    return row


def _cell(value: Any) -> Any:
    """A CSV cell: booleans as 0/1, a missing value empty."""
    return "" if value is None else int(value) if isinstance(value, bool) else value


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
