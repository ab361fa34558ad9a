"""Sub-grid precision (FINE paths) on the hairline drawings of the SVG benchmark's test sample.

python benchmarks/svg_fine.py [--bits 0 2 3 4] [--train 500 --test 100 --seed 0 --max-kb 256] [--corpus data/svg]
    ->  results/svg_fine.csv

Draws the same train/test samples as ``benchmarks/svg.py`` (same seed), keeps the test files whose original
is a *hairline* drawing at 256 px (silhouette under 25 % of its ink, tokzoo.svg.render), and for each
``fine_bits`` fits ``svg-hivg-256`` on the train sample, then reports the mean silhouette IoU, coverage IoU,
PSNR and level-1 / level-2 tokens of those files, and ``fine_paths``: the share of their paths written as
FINE paths.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import tokzoo
from common import write_results
from svg import CORPUS, sample
from tokzoo.svg.corpus import build_corpus
from tokzoo.svg.measure import measure_svg_file
from tokzoo.svg.vocab import Vocab


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--corpus", default=str(CORPUS), help="corpus folder (default: data/svg of the repository)"
    )
    ap.add_argument("--bits", type=int, nargs="+", default=[0, 2, 3, 4])
    ap.add_argument("--train", type=int, default=500, help="train files per package")
    ap.add_argument("--test", type=int, default=100, help="test files per package")
    ap.add_argument("--max-kb", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    corpus = Path(a.corpus)
    if not (corpus / "manifest.json").is_file():
        print(build_corpus(corpus))
    train = sample(corpus, "train", a.train, a.max_kb * 1024, rng)
    test = sample(corpus, "test", a.test, a.max_kb * 1024, rng)
    train_files = [f for fs in train.values() for f in fs]
    plain = tokzoo.create("svg-hivg-256", fine_bits=0, num_segments=0)
    hairline = []
    for f in (f for fs in test.values() for f in fs):
        fid = measure_svg_file(plain, f).fidelity
        if fid is not None and fid.hairline:
            hairline.append(f)
    rows = []
    for bits in a.bits:
        t0 = time.perf_counter()
        tok = tokzoo.create("svg-hivg-256", fine_bits=bits)
        tok.fit(train_files, seed=a.seed)
        fit_s = time.perf_counter() - t0
        per_file = []
        for f in hairline:
            m = measure_svg_file(tok, f)
            if m.fidelity is None or m.level1 is None or m.level2 is None:
                raise SystemExit(f"{f}: {m.stage} failed at fine_bits {bits}: {m.error}")
            atoms = m.level1.sample(0)
            fine_paths = int((atoms == tok.atom_vocab.fine).sum()) if bits else 0
            per_file.append((m.fidelity, m.level1.num_tokens, m.level2.num_tokens, fine_paths,
                             int((atoms == Vocab.PATH).sum())))  # fmt: skip
        mean = lambda xs: statistics.fmean(xs)  # noqa: E731
        rows.append(
            {
                "fine_bits": bits,
                "files": len(per_file),
                "iou": mean(r[0].iou for r in per_file),
                "coverage_iou": mean(r[0].coverage_iou for r in per_file),
                "psnr": mean(r[0].psnr for r in per_file),
                "level1": mean(r[1] for r in per_file),
                "level2": mean(r[2] for r in per_file),
                "fine_paths": sum(r[3] for r in per_file) / max(1, sum(r[4] for r in per_file)),
                "atoms": tok.atom_vocab.size,
                "fit_s": round(fit_s, 1),
            }
        )
    write_results("svg_fine", rows)


if __name__ == "__main__":
    main()
