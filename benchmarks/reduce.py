"""Token reduction benchmarks (tokzoo.reduce), offline on CPU, every model trained here.

Image classification: a small ViT (CLS token, tokzoo's SDPA blocks) is trained per seed on digits pasted on
real-photo backgrounds (benchmarks/reduce_data.py; fonts and photos of the test set are held out) at 64 tokens
(32 px, 4 px patches) and 576 tokens (96 px). Each method is then applied training-free through
``tokzoo.reduce.patch`` at kept ratios 100 % … 6.25 % (pruning and one-shot merging at block 1, after one full
block, FastV-style; ``tome`` merges a little before every block as in the ToMe paper). Accuracy mean ± std over
seeds; estimated FLOPs relative to the unreduced model; at 576 tokens the wall-clock of the patched forward
against the unreduced SDPA forward, with the selection time (q/k rows, scores, gather/merge) shown separately.

``--part learn``: a setting where the ViT learns in the CPU budget (``LEARN``: lower clutter, smaller digits,
each image standardised), the same methods and ratios; and nested budgets (M3 / TokenFLEX): one model trained with a
random pooled budget per step against one model per budget, each evaluated at every budget. With
``--learn-tokens 576`` instead: the ``LEARN`` data on 96-px canvases (576 tokens), each seed's 64-token ``LEARN``
model fine-tuned as the 576-token image models are, the same methods and ratios, and the wall-clock table.
``--part code``: identifier-span merging in a causal LM trained on the standard library (``reduce_code.py``),
training-free and fine-tuned with merging in place against an unmerged fine-tuned control (``--finetune-steps``).
``--part views``: multi-view 3-D QA (``reduce_views.py``).

    python benchmarks/reduce.py --part image    # image part, 3 seeds (~6 min on 2 idle cores)
    python benchmarks/reduce.py --part learn --jobs 6
    python benchmarks/reduce.py --part learn --learn-tokens 576 --jobs 1
    python benchmarks/reduce.py --part code --jobs 3
    python benchmarks/reduce.py --quick         # 1 seed, fewer steps

Writes results/reduce_{image,speed,image_learn,nested,code,code_finetune,views,views_seeds,views_paired,coverage,
fastvggt}.csv/.json
(``--learn-tokens 576``: reduce_{image,speed}_learn576).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reduce_code
import reduce_views
from common import median_seconds, write_results
from reduce_data import digits_on_photos
from tokzoo.nn.transformer import Transformer, sincos_2d
from tokzoo.reduce import create_method, patch
from tokzoo.reduce.patch import flops_ratio

RATIOS = (1.0, 0.5, 0.25, 0.125, 0.0625)
#: label -> (method, layers); None: the method's default (block 1; every block for tome)
METHODS = {
    "random": ("random", None),
    "pool (M3)": ("pool", None),
    "tome (every block)": ("tome", None),
    "tome (block 1)": ("tome", [1]),
    "attention (FastV/CLS)": ("attention", None),
    "visionzip": ("visionzip", None),
    "divprune": ("divprune", None),
}


@dataclass(frozen=True)
class Setup:
    tokens: int
    canvas: int
    digit_px: tuple[int, int]
    width: int
    depth: int
    heads: int
    train: int
    steps: int
    batch: int
    train_keep: float = 1.0
    """FLIP-style random token keep while training; the last tenth of the steps sees all tokens."""
    clutter: float = 0.4
    stem: int = 0
    lr: float = 2e-3
    standardize: bool = False
    """Each image to zero mean and unit variance before the patch embedding."""


SETUPS = {
    64: Setup(64, 32, (14, 24), width=64, depth=4, heads=4, train=6000, steps=600, batch=64),
    # the same digits on 3× larger photo crops; starts from the 64-token model of the same seed (CPU budget)
    576: Setup(
        576, 96, (14, 24), width=64, depth=4, heads=4, train=4000, steps=240, batch=32, train_keep=0.25
    ),
}


#: a setting where the ViT learns in the CPU budget: lower clutter, digits on about a quarter of the patches (so
#: which tokens are kept matters), each image standardised (on the low-contrast composites, pixel std ~0.08, the
#: plain ViT stayed at chance for hundreds of steps)
LEARN = Setup(
    64,
    32,
    (12, 17),
    width=64,
    depth=4,
    heads=4,
    train=6000,
    steps=1000,
    batch=64,
    clutter=0.15,
    lr=1e-3,
    standardize=True,
)
#: ``LEARN``'s data and model on 96-px canvases (576 tokens), fine-tuned from the 64-token ``LEARN`` model of the
#: same seed with the 576-token image setup's schedule (steps, batch, FLIP-style random keep)
LEARN_576 = replace(
    LEARN,
    **{k: getattr(SETUPS[576], k) for k in ("tokens", "canvas", "train", "steps", "batch", "train_keep")},
)
#: patch-token budgets of the nested-budget comparison (8×8 → 4×4 → 2×2 → 1×1 pooled after block 1)
NESTED = (64, 16, 4, 1)


class ViT(nn.Module):
    """Patch embedding + CLS + fixed sin-cos positions, tokzoo ``Transformer`` (SDPA), linear head on CLS."""

    def __init__(
        self,
        canvas: int,
        width: int,
        patch_size: int = 4,
        depth: int = 4,
        heads: int = 4,
        stem: int = 0,
        standardize: bool = False,
    ) -> None:
        super().__init__()
        self.standardize = standardize
        grid = canvas // patch_size
        self.embed: nn.Module = nn.Conv2d(1, width, patch_size, patch_size)
        if (
            stem
        ):  # a 3×3 convolution before the patchify ("Early Convolutions Help Transformers See Better", 2021)
            self.embed = nn.Sequential(
                nn.Conv2d(1, stem, 3, padding=1), nn.GELU(), nn.Conv2d(stem, width, patch_size, patch_size)
            )
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.register_buffer("pos", sincos_2d(grid, grid, width)[None], persistent=False)
        self.transformer = Transformer(width, depth, heads)
        self.head = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.standardize:
            x = (x - x.mean((1, 2, 3), keepdim=True)) / (x.std((1, 2, 3), keepdim=True) + 1e-3)
        else:
            x = x * 2 - 1
        tokens = self.embed(x).flatten(2).transpose(1, 2) + self.pos
        tokens = torch.cat([self.cls.expand(len(x), -1, -1), tokens], 1)
        return self.head(self.transformer(tokens)[:, 0])


def train(
    setup: Setup, seed: int, steps: int, init: ViT | None = None, budgets: tuple[int, ...] = ()
) -> tuple[ViT, torch.Tensor, torch.Tensor]:
    """A ViT trained on ``setup``'s training set (from ``init``'s weights if given); returns it with the test
    set. ``budgets``: patch-token counts; each step pools to one drawn at random after block 1 (M3 / TokenFLEX
    nested training; one budget: a model for that budget only)."""
    x, y = digits_on_photos(setup.train, setup.canvas, setup.digit_px, "train", seed, setup.clutter)
    test_x, test_y = digits_on_photos(500, setup.canvas, setup.digit_px, "test", 10_000 + seed, setup.clutter)
    torch.manual_seed(seed)
    model = ViT(
        setup.canvas, setup.width, depth=setup.depth, heads=setup.heads, stem=setup.stem,
        standardize=setup.standardize,
    )  # fmt: skip
    if init is not None:
        model.load_state_dict(init.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=setup.lr, weight_decay=0.05)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=setup.lr, total_steps=steps, pct_start=0.1)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    masked = None
    if setup.train_keep < 1:
        masked = patch(
            model.transformer, create_method("random", protected=1, seed=None), setup.train_keep, layers=[0]
        )
    for step in range(steps):
        if masked is not None and step == steps - max(1, steps // 10):  # at least the last step sees all
            masked.remove()
            masked = None
        idx = torch.randint(0, len(x), (setup.batch,), generator=generator)
        pooled = None
        if budgets:
            k = budgets[int(torch.randint(len(budgets), (1,), generator=generator))]
            if k < setup.tokens:
                pooled = patch(model.transformer, create_method("pool", protected=1), 1 + k, layers=[1])
        loss = F.cross_entropy(model(x[idx]), y[idx])
        if pooled is not None:
            pooled.remove()
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    return model.eval(), test_x, test_y


def kept(setup: Setup, ratio: float) -> int:
    """Tokens kept at ``ratio``: CLS plus that share of the patch tokens (pool-friendly counts)."""
    return 1 + round(ratio * setup.tokens)


def accuracy(model: ViT, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float(
            torch.cat([model(x[i : i + 250]).argmax(-1) for i in range(0, len(x), 250)]).eq(y).float().mean()
        )


def train_chain(setups: tuple[Setup, ...], seed: int, quick: bool) -> Iterator[tuple[Setup, ViT, Any, Any]]:
    """Each setup's model trained in turn, each from the previous one's weights (the 576-token models start from
    the 64-token model of the same seed); yields the setup, the model and its test set."""
    model = None
    for setup in setups:
        start = time.perf_counter()
        model, x, y = train(setup, seed, setup.steps // 3 if quick else setup.steps, init=model)
        print(
            f"{setup.tokens} tokens, seed {seed}: trained in {time.perf_counter() - start:.0f} s", flush=True
        )
        yield setup, model, x, y


def evaluate(model: ViT, setup: Setup, seed: int, x: torch.Tensor, y: torch.Tensor) -> list[dict]:
    rows = []
    full = accuracy(model, x, y)
    for label, (name, layers) in METHODS.items():
        for ratio in RATIOS:
            if ratio == 1.0:  # every method is the identity at 100 % (tested), so the model's own accuracy
                rows.append(
                    dict(tokens=setup.tokens, method=label, ratio=ratio, seed=seed, acc=full, flops=1.0)
                )
                continue
            options = {"seed": seed} if name == "random" else {}
            handle = patch(
                model.transformer,
                create_method(name, protected=1, **options),
                kept(setup, ratio),
                layers=layers,
            )
            acc = accuracy(model, x, y)
            flops = flops_ratio(handle.tokens_per_block, setup.tokens + 1, setup.width)
            handle.remove()
            rows.append(dict(tokens=setup.tokens, method=label, ratio=ratio, seed=seed, acc=acc, flops=flops))
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    table = []
    keys = sorted(
        {(r["tokens"], r["method"], r["ratio"]) for r in rows},
        key=lambda k: (k[0], list(METHODS).index(k[1]), -k[2]),
    )
    for tokens, method, ratio in keys:
        accs = [r["acc"] for r in rows if (r["tokens"], r["method"], r["ratio"]) == (tokens, method, ratio)]
        flops = [
            r["flops"] for r in rows if (r["tokens"], r["method"], r["ratio"]) == (tokens, method, ratio)
        ]
        table.append(
            dict(
                tokens=tokens,
                method=method,
                kept=ratio,
                acc_mean=statistics.mean(accs),
                acc_std=statistics.stdev(accs) if len(accs) > 1 else 0.0,
                flops=statistics.mean(flops),
                seeds=len(accs),
            )
        )
    return table


def speed(model: ViT, setup: Setup, x: torch.Tensor) -> list[dict]:
    """Median forward time of a batch of 64, reduced vs unreduced, with the selection time separately."""
    batch = x[:64]

    def run() -> None:
        with torch.no_grad():
            model(batch)

    base = median_seconds(run, repeats=5)
    rows = [
        dict(method="unreduced SDPA", kept=1.0, ms=base * 1e3, select_ms=0.0, speedup=1.0, flop_speedup=1.0)
    ]
    for label, (name, layers) in METHODS.items():
        for ratio in (0.25, 0.0625):
            handle = patch(
                model.transformer, create_method(name, protected=1), kept(setup, ratio), layers=layers
            )
            t = median_seconds(run, repeats=5)
            selections = []
            for _ in range(3):
                run()
                selections.append(handle.selection_seconds)
            flops = flops_ratio(handle.tokens_per_block, setup.tokens + 1, setup.width)
            handle.remove()
            rows.append(
                dict(
                    method=label,
                    kept=ratio,
                    ms=t * 1e3,
                    select_ms=statistics.median(selections) * 1e3,
                    speedup=base / t,
                    flop_speedup=1 / flops,
                )
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 seed and a third of the training steps")
    parser.add_argument(
        "--part", choices=["image", "learn", "views", "coverage", "code", "all"], default="all"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="seeds run in parallel processes (learn and code parts)"
    )
    parser.add_argument(
        "--learn-tokens",
        type=int,
        choices=[64, 576],
        default=64,
        help="learn part: 64 (the LEARN table and nested budgets) or 576 (LEARN on 96-px canvases, "
        "fine-tuned from the 64-token LEARN models, with the wall-clock table)",
    )
    parser.add_argument(
        "--finetune-steps",
        type=int,
        default=None,
        help="code part: steps of fine-tuning with merging in place, and of the unmerged control "
        "(default a fifth of the base steps: 60, 20 with --quick; 0: training-free only)",
    )
    parser.add_argument(
        "--finetune-levels",
        default="0,1,2,3",
        help="code part: blocks merged before when fine-tuning, comma-separated (default every block)",
    )
    args = parser.parse_args()
    seeds = 1 if args.quick else args.seeds
    if args.part in ("image", "all"):
        image_part(seeds, args.quick)
    if args.part in ("learn", "all"):
        if args.learn_tokens == 576:
            learn576_part(seeds, args.quick, args.jobs)
        else:
            learn_part(seeds, args.quick, args.jobs)
    if args.part in ("views", "all"):
        views_part(seeds, args.quick)
    if args.part in ("coverage", "all"):  # model-free, seconds
        write_results("reduce_coverage", reduce_views.summarise(reduce_views.coverage(seeds)))
    if args.part in ("code", "all"):
        steps = 100 if args.quick else 300
        tune = steps // 5 if args.finetune_steps is None else args.finetune_steps
        levels = tuple(int(level) for level in args.finetune_levels.split(","))
        rows: list[dict] = []
        tuned: list[dict] = []
        start = time.perf_counter()
        for seed_rows, seed_tuned in per_seed(
            reduce_code.run_seed, seeds, args.jobs, steps, (0, 1, 2, 3), tune, levels
        ):
            rows += seed_rows
            tuned += seed_tuned
            write_results("reduce_code", reduce_code.summarise(rows))
            if tuned:
                write_results("reduce_code_finetune", reduce_code.summarise_finetune(tuned))
        print(f"code part: {time.perf_counter() - start:.0f} s", flush=True)
    return 0


def per_seed(fn: Callable[..., Any], seeds: int, jobs: int, *args: Any) -> Iterator[Any]:
    """``fn(seed, *args)`` for every seed, yielded as each finishes, in ``jobs`` processes when more than one."""
    if jobs <= 1:
        yield from (fn(seed, *args) for seed in range(seeds))
        return
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        yield from pool.imap_unordered(_call, [(fn, seed, *args) for seed in range(seeds)])


def _call(job: tuple) -> Any:
    return job[0](*job[1:])


def learn_task(seed: int, budgets: tuple[int, ...], quick: bool) -> tuple[list[dict], list[dict]]:
    """One ``LEARN`` model: unreduced (``budgets`` empty) it is evaluated under every method and is the
    "separate" model of the full budget; otherwise trained at one pooled budget (a separate model) or at random
    budgets (nested, M3 / TokenFLEX). Returns the method rows and its accuracy at every nested budget."""
    steps = LEARN.steps // 3 if quick else LEARN.steps
    start = time.perf_counter()
    model, x, y = train(LEARN, seed, steps, budgets=budgets)
    rows = evaluate(model, LEARN, seed, x, y) if not budgets else []
    label = "nested (random budget)" if len(budgets) > 1 else f"separate ({(budgets or NESTED)[0]} tokens)"
    nested = []
    for k in NESTED:
        handle = None
        if k < LEARN.tokens:
            handle = patch(model.transformer, create_method("pool", protected=1), 1 + k, layers=[1])
        nested.append(dict(model=label, budget=k, seed=seed, acc=accuracy(model, x, y)))
        if handle is not None:
            handle.remove()
    accs = ", ".join(f"{r['acc']:.3f}" for r in nested)
    print(f"learn seed {seed}, {label}: {accs} at {NESTED} ({time.perf_counter() - start:.0f} s)", flush=True)
    return rows, nested


def learn_part(seeds: int, quick: bool, jobs: int) -> None:
    tasks = [(), NESTED] + [(k,) for k in NESTED[1:]]  # the unreduced and the nested models first
    results = []
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        work = [(learn_task, seed, budgets, quick) for budgets in tasks for seed in range(seeds)]
        for result in pool.imap_unordered(_call, work):  # tables rewritten as each model finishes
            results.append(result)
            write_learn(results)


def write_learn(results: list[tuple[list[dict], list[dict]]]) -> None:
    write_results("reduce_image_learn", summarise([r for rows, _ in results for r in rows]))
    nested = [r for _, rows in results for r in rows]
    table = []
    labels = [f"separate ({k} tokens)" for k in NESTED] + ["nested (random budget)"]
    for label in [m for m in labels if any(r["model"] == m for r in nested)]:
        for k in NESTED:
            accs = [r["acc"] for r in nested if (r["model"], r["budget"]) == (label, k)]
            sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
            table.append(
                dict(model=label, budget=k, acc_mean=statistics.mean(accs), acc_std=sd, seeds=len(accs))
            )
    write_results("reduce_nested", table)


def learn576_task(seed: int, quick: bool) -> tuple[list[dict], list[dict]]:
    """The 64-token ``LEARN`` model of ``seed`` fine-tuned at 576 tokens and evaluated under every method; the
    wall-clock table of seed 0's model."""
    rows, speed_rows = [], []
    for setup, model, x, y in train_chain((LEARN, LEARN_576), seed, quick):
        if setup.tokens == 64:
            print(
                f"64 tokens (LEARN), seed {seed}: unreduced accuracy {accuracy(model, x, y):.3f}", flush=True
            )
            continue
        start = time.perf_counter()
        rows = evaluate(model, setup, seed, x, y)
        print(
            f"576 tokens (LEARN), seed {seed}: unreduced accuracy {rows[0]['acc']:.3f}"
            f" (evaluated in {time.perf_counter() - start:.0f} s)",
            flush=True,
        )
        if seed == 0:
            speed_rows = speed(model, setup, x)
    return rows, speed_rows


def learn576_part(seeds: int, quick: bool, jobs: int) -> None:
    rows: list[dict] = []
    start = time.perf_counter()
    for seed_rows, speed_rows in per_seed(learn576_task, seeds, jobs, quick):
        rows += seed_rows  # the tables rewritten as each seed finishes
        write_results("reduce_image_learn576", summarise(rows))
        if speed_rows:
            write_results("reduce_speed_learn576", speed_rows)
    print(f"learn part, 576 tokens: {time.perf_counter() - start:.0f} s", flush=True)


def views_part(seeds: int, quick: bool) -> None:
    rows, models = reduce_views.run_pruning(
        seeds, 100 if quick else 3000, 600 if quick else 6000, 300 if quick else 1200
    )
    write_results("reduce_views", reduce_views.summarise(rows))
    write_results("reduce_views_seeds", rows)
    write_results("reduce_views_paired", reduce_views.paired(rows))
    write_results("reduce_fastvggt", reduce_views.run_fastvggt(models[0]))


def image_part(seeds: int, quick: bool) -> None:
    rows, speed_rows = [], []
    for seed in range(seeds):
        for setup, model, x, y in train_chain(tuple(SETUPS.values()), seed, quick):
            new = evaluate(model, setup, seed, x, y)
            rows += new
            print(f"{setup.tokens} tokens, seed {seed}: unreduced accuracy {new[0]['acc']:.3f}", flush=True)
            if setup.tokens == 576 and seed == 0:
                speed_rows = speed(model, setup, x)
    write_results("reduce_image", summarise(rows))
    write_results("reduce_speed", speed_rows)


if __name__ == "__main__":
    sys.exit(main())
