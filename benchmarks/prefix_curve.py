"""Prefix curve of a shipped flexible tokenizer on images spread evenly over a held-out split: mean PSNR of the
reconstruction from the first k tokens, for a few k (the full 1..K curve is part of benchmarks/pretrained.py).

python benchmarks/prefix_curve.py --test data/photos/test --name flex-f16-s-64 --images 96
Writes results/prefix_curve_NAME.csv/.json.
"""

from __future__ import annotations

import argparse

import torch

import tokzoo
from common import write_results
from pretrained import prefix_curve
from tokzoo.bench.eval_run import load_eval_images
from tokzoo.bench.protocol import prepare_images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", default="data/photos/test")
    parser.add_argument("--name", default="flex-f16-s-64")
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 2, 4, 8, 16, 24, 32, 48, 64])
    a = parser.parse_args()
    names, batch = prepare_images(load_eval_images(a.test)[0], 128)
    pick = torch.linspace(0, len(names) - 1, min(a.images, len(names))).round().long().tolist()
    model = tokzoo.create(a.name, pretrained=True).eval()
    write_results(f"prefix_curve_{a.name}", prefix_curve(model, batch[pick], a.counts))


if __name__ == "__main__":
    main()
