"""The multi-view 3-D QA part of benchmarks/reduce.py: a small multi-view transformer trained here on
benchmarks/reduce_scenes.py, then its visual tokens pruned to ≤ 10 % after the first block by SeGPruner
(cross-view FPS), SeGPruner per view, DivPrune, saliency (question attention), AdaToken-3D (staged, last
question token) and random; and FastVGGT-style merging in every block's attention as views grow (8 → 256).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from common import median_seconds
from reduce_scenes import ANSWERS, ANY, QUESTIONS, multiview_qa
from tokzoo.nn.transformer import Transformer
from tokzoo.reduce import create_method, patch
from tokzoo.reduce.attention import query_attention
from tokzoo.reduce.base import Reduced

VIEWS, TOKENS_PER_VIEW, WIDTH = 8, 16, 64
PIXEL_MEAN, PIXEL_STD = 0.5, 0.2  # the rendered scenes' pixel statistics, roughly


def fourier(points: torch.Tensor, bands: int = 6) -> torch.Tensor:
    """(…, 3·2·bands) sin/cos features of 3-D points (sky points clipped to the scene's range)."""
    p = points.clamp(-8, 8)[..., None] * (2.0 ** torch.arange(bands) * math.pi / 8)
    return torch.cat([p.sin(), p.cos()], -1).flatten(-2)


class MultiViewQA(nn.Module):
    """Tokens = patch pixels + 3-D point features of every view, then the two question tokens (type, colour);
    the answer is read from the last token."""

    def __init__(self, patch_dim: int = 192, width: int = WIDTH, depth: int = 3, heads: int = 4) -> None:
        super().__init__()
        self.embed = nn.Linear(patch_dim, width)
        self.point = nn.Linear(36, width)
        self.kind = nn.Embedding(len(QUESTIONS), width)
        self.colour = nn.Embedding(ANY + 1, width)
        self.transformer = Transformer(width, depth, heads)
        self.head = nn.Linear(width, ANSWERS)

    def tokens(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        pixels = (batch["patches"] - PIXEL_MEAN) / PIXEL_STD  # standardised: raw pixels left it at chance
        visual = self.embed(pixels) + self.point(fourier(batch["points"]))
        question = torch.stack([self.kind(batch["question"][:, 0]), self.colour(batch["question"][:, 1])], 1)
        return torch.cat([visual, question], 1)

    def forward(self, batch: dict[str, torch.Tensor], prune: Callable | None = None) -> torch.Tensor:
        """Logits; ``prune(block_index, x, block) -> x`` may cut the visual tokens before any block."""
        x = self.tokens(batch)
        for i, block in enumerate(self.transformer.blocks):
            if prune is not None:
                x = prune(i, x, block)
            x = block(x)
        return self.head(self.transformer.norm(x)[:, -1])


def coverage(seeds: int, scenes: int = 300, ratios: tuple[float, ...] = (0.1, 0.05)) -> list[dict]:
    """Model-free: the share of scene objects with at least one kept token on their surface (token point within
    0.15 of the sphere), keeping 10 % / 5 % of the 128 tokens by the pixel-feature methods, per seed (scene set)."""
    methods = {
        "random": lambda seed: create_method("random", seed=seed),
        "divprune": lambda seed: create_method("divprune"),
        "segpruner per view (FPS only)": lambda seed: create_method("segpruner", saliency=0.0, per_view=True),
        "segpruner cross-view (FPS only)": lambda seed: create_method("segpruner", saliency=0.0),
        "segpruner per view (FPS only, valid depth)": lambda seed: create_method(
            "segpruner", saliency=0.0, per_view=True
        ),
        "segpruner cross-view (FPS only, valid depth)": lambda seed: create_method("segpruner", saliency=0.0),
    }
    rows = []
    for seed in range(seeds):
        data = multiview_qa(scenes, VIEWS, seed=100 + seed)
        present = data["radii"] > 0
        for ratio in ratios:
            keep = round(ratio * VIEWS * TOKENS_PER_VIEW)
            for name, make in methods.items():
                context = {"points": data["points"], "scores": torch.zeros(data["points"].shape[:2])}
                if "per view" in name:
                    context["views"] = VIEWS
                if "valid depth" in name:
                    context["depth_valid"] = data["depth_valid"]
                if name in ("random", "divprune"):
                    context = {}
                out = make(seed).reduce(data["patches"], keep, **context)
                kept = data["points"].gather(1, out.index[..., None].expand(-1, -1, 3))
                gap = torch.cdist(data["centres"], kept) - data["radii"][..., None]
                hit = (gap.abs() < 0.15).any(-1) & present
                rows.append(dict(method=name, kept=ratio, seed=seed, acc=float(hit.sum() / present.sum())))
    return rows


def _subset(batch: dict[str, torch.Tensor], idx: torch.Tensor | slice) -> dict[str, torch.Tensor]:
    return {k: v[idx] for k, v in batch.items()}


def train(data: dict[str, torch.Tensor], seed: int, steps: int) -> MultiViewQA:
    torch.manual_seed(seed)
    model = MultiViewQA()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        batch = _subset(data, torch.randint(0, len(data["answer"]), (32,), generator=generator))
        loss = F.cross_entropy(model(batch), batch["answer"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    return model.eval()


def question_scores(x: torch.Tensor, block: nn.Module, visual: int) -> torch.Tensor:
    """(B, visual) attention of the last (question) token to the visual tokens, from ``block``'s q/k rows."""
    h = block.norm1(x)
    w, b = block.attn.qkv.weight, block.attn.qkv.bias
    d = x.shape[-1]
    q = F.linear(h[:, -1:], w[:d], b[:d])
    k = F.linear(h, w[d : 2 * d], b[d : 2 * d])
    return query_attention(q, k, block.attn.heads)[:, :visual]


def pruner(name: str, keep: int, points: torch.Tensor, depth_valid: torch.Tensor, seed: int) -> Callable:
    """``prune`` for ``MultiViewQA.forward``: cut the visual tokens to ``keep`` (before block 1; AdaToken-3D in
    two stages, before blocks 1 and 2). SeGPruner variants named "valid depth" also get the tokens' depth
    validity."""
    method = {
        "segpruner (cross-view FPS)": create_method("segpruner", heads=4),
        "segpruner per view": create_method("segpruner", heads=4, per_view=True),
        "segpruner (cross-view FPS, valid depth)": create_method("segpruner", heads=4),
        "segpruner per view (valid depth)": create_method("segpruner", heads=4, per_view=True),
        "divprune": create_method("divprune"),
        "saliency (question attention)": create_method("attention"),
        "adatoken3d (staged)": create_method("adatoken3d"),
        "random": create_method("random", seed=seed),
    }[name]
    n = VIEWS * TOKENS_PER_VIEW
    stages = {1: round(math.sqrt(keep * n)), 2: keep} if name.startswith("adatoken3d") else {1: keep}
    carried = {"points": points, "depth_valid": depth_valid}

    def prune(i: int, x: torch.Tensor, block: nn.Module) -> torch.Tensor:
        if i not in stages:
            return x
        visual = x.shape[1] - 2
        context = {"scores": question_scores(x, block, visual)} if "scores" in method.context else {}
        if name.startswith("segpruner"):
            context["points"] = carried["points"]
            if "per view" in name:
                context["views"] = VIEWS
            if "valid depth" in name:
                context["depth_valid"] = carried["depth_valid"]
        out: Reduced = method.reduce(x[:, :visual], stages[i], **context)
        carried["points"] = carried["points"].gather(1, out.index[..., None].expand(-1, -1, 3))
        carried["depth_valid"] = carried["depth_valid"].gather(1, out.index)
        return torch.cat([out.tokens, x[:, visual:]], 1)

    return prune


PRUNERS = (
    "random",
    "saliency (question attention)",
    "adatoken3d (staged)",
    "divprune",
    "segpruner per view",
    "segpruner (cross-view FPS)",
    "segpruner per view (valid depth)",
    "segpruner (cross-view FPS, valid depth)",
)


def accuracy(
    model: MultiViewQA, data: dict[str, torch.Tensor], make_prune: Callable | None
) -> dict[str, float]:
    """``acc`` over all questions and ``acc_<kind>`` per question type."""
    right = []
    with torch.no_grad():
        for s in range(0, len(data["answer"]), 200):
            batch = _subset(data, slice(s, s + 200))
            prune = None if make_prune is None else make_prune(batch["points"], batch["depth_valid"])
            right.append(model(batch, prune).argmax(-1).eq(batch["answer"]))
    hits, kinds = torch.cat(right).float(), data["question"][:, 0]
    out = {"acc": float(hits.mean())}
    out.update({f"acc_{q}": float(hits[kinds == k].mean()) for k, q in enumerate(QUESTIONS)})
    return out


def run_pruning(
    seeds: int, steps: int, train_scenes: int, test_scenes: int
) -> tuple[list[dict], list[MultiViewQA]]:
    """Accuracy rows per seed at 10 % and 5 % of the 128 visual tokens; the trained models."""
    train_data = multiview_qa(train_scenes, VIEWS, seed=0)
    test_data = multiview_qa(test_scenes, VIEWS, seed=1)
    rows, models = [], []
    for seed in range(seeds):
        start = time.perf_counter()
        model = train(train_data, seed, steps)
        print(f"3-D QA seed {seed}: trained in {time.perf_counter() - start:.0f} s", flush=True)
        models.append(model)
        rows.append(dict(method="all tokens", kept=1.0, seed=seed, **accuracy(model, test_data, None)))
        for ratio in (0.1, 0.05):
            keep = round(ratio * VIEWS * TOKENS_PER_VIEW)
            for name in PRUNERS:
                acc = accuracy(
                    model,
                    test_data,
                    lambda pts, ok, name=name, keep=keep, seed=seed: pruner(name, keep, pts, ok, seed),
                )
                rows.append(dict(method=name, kept=ratio, seed=seed, **acc))
    return rows, models


def _mean_std(key: str, values: list[float]) -> dict[str, float]:
    """``{key}_mean`` and ``{key}_std`` (sample std over seeds; 0 for one seed)."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {f"{key}_mean": statistics.mean(values), f"{key}_std": std}


def summarise(rows: list[dict]) -> list[dict]:
    """Mean and std over seeds of every ``acc*`` column, per (method, kept)."""
    out = []
    for method, kept in dict.fromkeys((r["method"], r["kept"]) for r in rows):
        group = [r for r in rows if (r["method"], r["kept"]) == (method, kept)]
        row: dict = dict(method=method, kept=kept)
        for key in (k for k in group[0] if k.startswith("acc")):
            row |= _mean_std(key, [r[key] for r in group])
        out.append(row | dict(seeds=len(group)))
    return out


PAIRS = (
    ("segpruner (cross-view FPS)", "segpruner per view"),
    ("segpruner (cross-view FPS, valid depth)", "segpruner per view (valid depth)"),
)


def paired(rows: list[dict], pairs: tuple[tuple[str, str], ...] = PAIRS) -> list[dict]:
    """Per (method a, method b, kept): the mean and std over seeds of a's accuracy minus b's, overall and per
    question type. The seeds share the test scenes, so the paired difference removes the model-to-model spread
    both methods inherit."""
    out = []
    for a, b in pairs:
        for kept in dict.fromkeys(r["kept"] for r in rows if r["method"] == a):
            ra = {r["seed"]: r for r in rows if (r["method"], r["kept"]) == (a, kept)}
            rb = {r["seed"]: r for r in rows if (r["method"], r["kept"]) == (b, kept)}
            seeds = sorted(ra.keys() & rb.keys())
            row: dict = dict(a=a, b=b, kept=kept)
            for key in (k for k in ra[seeds[0]] if k.startswith("acc")):
                row |= _mean_std(f"d_{key}", [ra[s][key] - rb[s][key] for s in seeds])
            out.append(row | dict(seeds=len(seeds), a_wins=sum(ra[s]["acc"] > rb[s]["acc"] for s in seeds)))
    return out


def run_fastvggt(
    model: MultiViewQA, views: tuple[int, ...] = (8, 32, 128, 256), keep: float = 0.25
) -> list[dict]:
    """Forward time of the trained model over V views with and without merging in every block's attention
    (reference view + 5 % sampled destinations; proportional attention; unmerged after attention), and the
    QA accuracy at 8 views (the training setting)."""
    rows = []
    for v in views:
        data = multiview_qa(64 if v <= 16 else max(1, 2048 // (v * 16)), v, seed=2)
        batch = _subset(data, slice(0, len(data["answer"])))

        def run(batch: dict = batch) -> None:
            with torch.no_grad():
                model(batch)

        base = median_seconds(run, repeats=3)
        n = v * TOKENS_PER_VIEW + 2
        context = {
            "reference": TOKENS_PER_VIEW,
            "protect": torch.arange(n).expand(len(data["answer"]), n) >= n - 2,
        }
        handle = patch(model.transformer, "fastvggt", keep, dst_ratio=0.05)
        handle.set_context(**context)  # view 0 is the reference; the question tokens are never merged
        merged = median_seconds(run, repeats=3)
        acc_full = acc_merged = float("nan")
        if v <= 16:
            handle.remove()
            acc_full = accuracy(model, data, None)["acc"]
            handle = patch(model.transformer, "fastvggt", keep, dst_ratio=0.05)
            handle.set_context(**context)
            acc_merged = accuracy(model, data, None)["acc"]
        handle.remove()
        rows.append(
            dict(
                views=v,
                tokens=v * TOKENS_PER_VIEW + 2,
                batch=len(data["answer"]),
                ms_full=base * 1e3,
                ms_merged=merged * 1e3,
                speedup=base / merged,
                acc_full=acc_full,
                acc_merged=acc_merged,
            )
        )
        print(rows[-1], flush=True)
    return rows
