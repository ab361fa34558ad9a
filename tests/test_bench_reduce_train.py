"""benchmarks/reduce.py's ViT training: FLIP-style random keep ends before the last step, however few the steps
(with fewer than 10 steps the keep mask used to stay patched, and the next `patch` call failed)."""

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import reduce as bench_reduce
from tokzoo.reduce import create_method, patch

TINY = replace(bench_reduce.SETUPS[64], train=16, batch=4, width=16, depth=1, heads=2, train_keep=0.5)


@pytest.mark.parametrize("steps", [3, 12])
def test_training_with_random_keep_leaves_the_model_unpatched(steps):
    model, _, _ = bench_reduce.train(TINY, seed=0, steps=steps)
    handle = patch(model.transformer, create_method("random", protected=1, seed=0), 0.5, layers=[0])
    handle.remove()
