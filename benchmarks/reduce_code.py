"""Code LM benchmark for benchmarks/reduce.py: identifier-span merging in a causal LM trained on Python source.

Data: the ``.py`` files of this Python's standard library (tests, ``idlelib``, ``lib2to3``, ``site-packages``
left out), split **by file** (a file is held out when crc32 of its relative path is 0 mod 10). A byte-level BPE
(tokzoo's ``SubwordTokenizer``, 1,024 ids) is fitted on the training files; ``identifier_spans`` marks the
sub-tokens of each Python identifier (a NAME that is not a keyword). A ``CausalLM`` (tokzoo's SDPA blocks, causal
mask) is trained on the training stream, unreduced.

Merging ("On the Effect of Token Merging on Pre-trained Models for Code", Saad et al., 2025), training-free:
after block ``m`` the hidden states of each segment are averaged into one slot at the segment's **last**
position (``IdentifierMerge(at="last")``: no slot sees a later token); the remaining blocks run on the merged
sequence under a causal mask over the slots' positions plus ToMe's log-size bias (proportional attention).
Three segmentations remove exactly the same number of tokens from every window (equal FLOPs):

- ``identifier``: each identifier's sub-tokens form one segment;
- ``random``: the same segment lengths in a random order (random contiguous merges of the same sizes);
- ``pool``: contiguous segments of near-equal length (1-D average pooling to the same count).

Fine-tuning with merging in place (``finetune``; the paper fine-tunes its code models with merging for its
downstream tasks): a copy of the trained LM is trained ``finetune_steps`` more steps (the same AdamW / cosine
schedule from the same peak lr, the same batches for every copy) with one segmentation merged before one block,
the loss on the slots' next tokens; the fair control is a copy trained the same extra steps unmerged, evaluated
unmerged and with training-free merging.

Perplexity is measured on **the positions every compared segmentation keeps as a slot end** (the last token of a
segment in all three, ``t`` < L - 1): the NLL of token ``t + 1`` given tokens ≤ ``t``, the unmerged model scored
at the same positions. Next-identifier accuracy: top-1 accuracy on those of these positions whose next token
starts an identifier.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import statistics
import sysconfig
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tokzoo.core.errors import DataError
from tokzoo.reduce import identifier_spans, reduce
from tokzoo.reduce.patch import flops_ratio
from tokzoo.text.config import SubwordConfig
from tokzoo.text.lm import CausalLM, LMConfig, fit_windows, train_lm
from tokzoo.text.subword import SubwordTokenizer

SKIP_DIRS = {"test", "tests", "idlelib", "lib2to3", "site-packages", "dist-packages", "__pycache__"}
SEGMENTATIONS = ("identifier", "random", "pool")
#: fine-tuning batches come from seed + this (the base training's batches from seed)
FINETUNE_SEED = 1000


@dataclass
class CodeData:
    """Token streams of the training and held-out files, with the identifier span id of every token (-1: none;
    ids are unique over the whole stream)."""

    train: np.ndarray
    train_spans: np.ndarray
    test: np.ndarray
    test_spans: np.ndarray
    vocab: int


def stdlib_files() -> list[Path]:
    """The standard library's ``.py`` files in a fixed order, without tests and vendored packages."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.rglob("*.py") if not SKIP_DIRS & set(p.relative_to(root).parts[:-1]))
    if not files:
        raise DataError(f"no Python source under {root}")
    return files


def held_out(path: Path) -> bool:
    root = Path(sysconfig.get_paths()["stdlib"])
    return zlib.crc32(str(path.relative_to(root)).encode()) % 10 == 0


def load_code(
    vocab: int = 1024, max_train_tokens: int = 3_000_000, max_test_tokens: int = 24_000
) -> CodeData:
    """Tokenize the standard library (training files until ``max_train_tokens``)."""
    files = stdlib_files()
    texts = {p: p.read_text(encoding="utf-8", errors="replace") for p in files}
    tok = SubwordTokenizer(SubwordConfig(vocab=vocab, sample_bytes=4 << 20))
    tok.fit([t for p, t in texts.items() if not held_out(p)][::3])
    streams: dict[bool, tuple[list[np.ndarray], list[np.ndarray]]] = {True: ([], []), False: ([], [])}
    counts = {True: 0, False: 0}
    limit = {True: max_test_tokens, False: max_train_tokens}
    next_span = 0
    for path, text in texts.items():
        test = held_out(path)
        if counts[test] >= limit[test]:
            continue
        enc = tok.hf.encode(text, add_special_tokens=False)
        offsets = [(s + (text[s : s + 1].isspace() and e - s > 1), e) for s, e in enc.offsets]
        try:
            spans = np.asarray(identifier_spans(text, offsets), dtype=np.int64)
        except DataError:  # a file Python's tokenize rejects (none in 3.11's stdlib; kept for other versions)
            continue
        spans = np.where(spans >= 0, spans + next_span, -1)
        next_span = int(spans.max(initial=next_span - 1)) + 1
        streams[test][0].append(np.asarray(enc.ids, dtype=np.int64))
        streams[test][1].append(spans)
        counts[test] += len(enc.ids)
    cat = np.concatenate
    return CodeData(
        cat(streams[False][0]), cat(streams[False][1]), cat(streams[True][0]), cat(streams[True][1]), vocab
    )


def segment_ends(spans: torch.Tensor) -> torch.Tensor:
    """(B, L) bool: positions that end an identifier segment (singletons end their own)."""
    nxt = torch.cat([spans[:, 1:], torch.full_like(spans[:, :1], -1)], 1)
    return (spans < 0) | (spans != nxt)


def lengths_to_spans(lengths: list[int]) -> list[int]:
    """Span ids of a segmentation given by its lengths (a segment of length 1 gets -1)."""
    out: list[int] = []
    for i, n in enumerate(lengths):
        out += [i if n > 1 else -1] * n
    return out


def segmentations(spans: torch.Tensor, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Per window: the identifier spans, and random and pooled segmentations with as many segments."""
    out: dict[str, list[list[int]]] = {"random": [], "pool": []}
    ends = segment_ends(spans)
    for row, end in zip(spans.tolist(), ends.tolist(), strict=True):
        cuts = [i + 1 for i, e in enumerate(end) if e]
        lengths = [b - a for a, b in itertools.pairwise([0, *cuts])]
        order = torch.randperm(len(lengths), generator=generator).tolist()
        out["random"].append(lengths_to_spans([lengths[i] for i in order]))
        n, k = len(row), len(lengths)
        bounds = [round(j * n / k) for j in range(k + 1)]
        out["pool"].append(lengths_to_spans([b - a for a, b in itertools.pairwise(bounds)]))
    return {"identifier": spans, **{k: torch.tensor(v) for k, v in out.items()}}


def merged_logits(model: CausalLM, ids: torch.Tensor, spans: torch.Tensor | None, at_block: int):
    """Logits (B, L, V) at every position that is a slot after merging ``spans`` before block ``at_block``
    (other positions are NaN), and the tokens each block ran on."""
    n = ids.shape[1]
    x = model.embed(ids) + model.pos[:n]
    blocks = model.blocks.blocks
    mask: torch.Tensor = model.causal[:n, :n]
    out = None
    tokens = []
    for i, block in enumerate(blocks):
        if spans is not None and i == at_block:
            out = reduce(x, "identifier", spans=spans)
            x = out.tokens
            pos = out.index
            mask = torch.where(
                pos[:, None, :] <= pos[:, :, None], out.sizes.log()[:, None, :], float("-inf")
            )  # causal over slot positions + log-size bias
        tokens.append(float(n) if out is None else float(out.counts.float().mean()))
        x = block(x, mask)
    logits = model.head(model.blocks.norm(x))
    if out is None:
        return logits, tokens
    index = (
        out.index if out.valid is None else out.index.masked_fill(~out.valid, n)
    )  # padding to a spare column
    dense = torch.full((len(ids), n + 1, logits.shape[-1]), float("nan"))
    dense.scatter_(1, index[..., None].expand_as(logits), logits)
    return dense[:, :n], tokens


def windows(stream: np.ndarray, spans: np.ndarray, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    count = len(stream) // length
    ids = torch.from_numpy(stream[: count * length].reshape(count, length))
    sp = torch.from_numpy(spans[: count * length].reshape(count, length))
    return ids, sp


@torch.no_grad()
def evaluate(
    model: CausalLM,
    data: CodeData,
    seed: int,
    levels: tuple[int, ...],
    names: tuple[str, ...] = ("unmerged", *SEGMENTATIONS),
) -> list[dict]:
    """Perplexity and next-identifier accuracy of every segmentation in ``names`` merged before each block in
    ``levels`` (and of the unmerged model if ``names`` has "unmerged")."""
    model.eval()
    ctx = model.cfg.context
    ids, spans = windows(data.test, data.test_spans, ctx + 1)
    inputs, targets, spans = ids[:, :-1], ids[:, 1:], spans[:, :-1]
    segs = segmentations(spans, torch.Generator().manual_seed(seed))
    common = torch.stack([segment_ends(s) for s in segs.values()]).all(0)  # slot ends in all three
    nxt = torch.from_numpy(data.test_spans[: len(ids) * (ctx + 1)].reshape(len(ids), ctx + 1))[:, 1:]
    starts_identifier = (nxt >= 0) & (nxt != spans)
    rows = []
    removed = float(1 - segment_ends(spans).float().mean())
    for name, seg in [("unmerged", None), *segs.items()]:
        if name not in names:
            continue
        for level in levels if seg is not None else (0,):
            nll, hits, tokens = [], [], []
            for i in range(0, len(inputs), 64):
                logits, t = merged_logits(
                    model, inputs[i : i + 64], None if seg is None else seg[i : i + 64], level
                )
                tokens.append(t)
                m = common[i : i + 64]
                nll.append(F.cross_entropy(logits[m], targets[i : i + 64][m], reduction="none"))
                sel = m & starts_identifier[i : i + 64]
                hits.append(logits[sel].argmax(-1).eq(targets[i : i + 64][sel]))
            per_block = np.mean(np.asarray(tokens, dtype=float), 0)
            rows.append(
                dict(
                    segmentation=name,
                    merge_before_block=level if seg is not None else None,
                    seed=seed,
                    ppl=math.exp(float(torch.cat(nll).mean())),
                    next_identifier_acc=float(torch.cat(hits).float().mean()),
                    flops=flops_ratio(list(per_block), ctx, model.cfg.dim),
                    scored=int(common.sum()),
                    tokens_removed=removed,
                )
            )
    return rows


def train(data: CodeData, seed: int, steps: int) -> CausalLM:
    torch.manual_seed(seed)
    cfg = LMConfig(dim=64, depth=4, heads=4, context=64, steps=steps, batch=32, lr=3e-3, seed=seed)
    model = CausalLM(data.vocab, cfg)
    train_lm(model, data.train)
    return model


def finetune(
    model: CausalLM, data: CodeData, seed: int, steps: int, segmentation: str | None, level: int = 0
) -> tuple[CausalLM, list[float]]:
    """A copy of ``model`` trained ``steps`` more steps on the training stream with ``segmentation`` (one of
    ``SEGMENTATIONS``; None: unmerged) merged before block ``level``; returns it (in eval mode) and its training
    losses. The training loop is the LM's own (``fit_windows``: AdamW, cosine schedule from ``model.cfg.lr``,
    clipping); the loss is the mean NLL of the next token at every slot (every position when unmerged). Every
    copy of one seed sees the same batches; random segmentations are drawn from ``seed``."""
    tuned = copy.deepcopy(model)
    cfg = tuned.cfg
    tuned.cfg = dataclasses.replace(cfg, steps=steps, seed=FINETUNE_SEED + seed)
    generator = torch.Generator().manual_seed(seed)

    def loss(m: CausalLM, batch: torch.Tensor) -> torch.Tensor:
        ids, spans = batch[..., 0], batch[..., 1][:, :-1]
        inputs, targets = ids[:, :-1], ids[:, 1:]
        if segmentation is None:
            logits, slots = m(inputs), torch.ones_like(inputs, dtype=torch.bool)
        else:
            seg = segmentations(spans, generator)[segmentation]
            logits, slots = merged_logits(m, inputs, seg, level)[0], segment_ends(seg)
        return F.cross_entropy(logits[slots], targets[slots])

    stream = torch.from_numpy(np.stack([data.train, data.train_spans], 1))  # (T, 2): id and span id
    losses = fit_windows(tuned, stream, cfg.context + 1, loss, unit="tokens")
    tuned.cfg = cfg
    return tuned.eval(), losses


def run_seed(
    seed: int,
    steps: int,
    levels: tuple[int, ...] = (0, 1, 2, 3),
    finetune_steps: int = 0,
    finetune_levels: tuple[int, ...] = (0, 1, 2, 3),
) -> tuple[list[dict], list[dict]]:
    """Train the LM of ``seed`` and evaluate every segmentation merged before each block in ``levels``
    (training-free). With ``finetune_steps``: also fine-tune copies with each segmentation merged before each
    block in ``finetune_levels`` and an unmerged control copy (``finetune``), each evaluated at its setting (the
    control unmerged and training-free merged at every fine-tuned setting), with the base model's rows at those
    settings; returns (training-free rows, fine-tuning rows)."""
    data = load_code()
    model = train(data, seed, steps)
    rows = evaluate(model, data, seed, levels)
    print(f"code seed {seed}: unmerged ppl {rows[0]['ppl']:.2f}", flush=True)
    if not finetune_steps:
        return rows, []
    tuned_rows = [
        dict(model="base", **r)
        for r in rows
        if r["merge_before_block"] is None or r["merge_before_block"] in finetune_levels
    ]
    control, _ = finetune(model, data, seed, finetune_steps, None)
    control_rows = evaluate(control, data, seed, finetune_levels)
    tuned_rows += [dict(model="control", **r) for r in control_rows]
    print(f"code seed {seed}: control (+{finetune_steps} steps) ppl {control_rows[0]['ppl']:.2f}", flush=True)
    for name in SEGMENTATIONS:
        for level in finetune_levels:
            tuned, losses = finetune(model, data, seed, finetune_steps, name, level)
            (row,) = evaluate(tuned, data, seed, (level,), names=(name,))
            tuned_rows.append(dict(model="merged fine-tune", **row, finetune_loss=losses))
            print(f"code seed {seed}: {name} at {level} fine-tuned, ppl {row['ppl']:.2f}", flush=True)
    return rows, tuned_rows


def summarise(rows: list[dict]) -> list[dict]:
    keys = list(dict.fromkeys((r["segmentation"], r["merge_before_block"]) for r in rows))
    table = []
    for seg, level in keys:
        group = [r for r in rows if (r["segmentation"], r["merge_before_block"]) == (seg, level)]

        def stats(key: str, group: list[dict] = group) -> tuple[float, float]:
            values = [r[key] for r in group]
            return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0

        (ppl, ppl_sd), (acc, acc_sd) = stats("ppl"), stats("next_identifier_acc")
        table.append(
            dict(
                segmentation=seg,
                merge_before_block=level,
                flops=statistics.mean(r["flops"] for r in group),
                ppl_mean=ppl,
                ppl_std=ppl_sd,
                next_identifier_acc_mean=acc,
                next_identifier_acc_std=acc_sd,
                tokens_removed=group[0]["tokens_removed"],
                scored=group[0]["scored"],
                seeds=len(group),
            )
        )
    return table


def summarise_finetune(rows: list[dict]) -> list[dict]:
    """``summarise`` per model ("base": training-free, "control": fine-tuned unmerged, "merged fine-tune"), with
    the fine-tuning losses' mean over the first and the last tenth of the steps."""
    table = []
    for model in dict.fromkeys(r["model"] for r in rows):
        group = [r for r in rows if r["model"] == model]
        for entry in summarise(group):
            entry = dict(model=model, **entry)
            losses = [
                r["finetune_loss"]
                for r in group
                if (r["segmentation"], r["merge_before_block"])
                == (entry["segmentation"], entry["merge_before_block"])
                and "finetune_loss" in r
            ]
            if losses:
                tenth = max(len(losses[0]) // 10, 1)
                entry["loss_first"] = statistics.mean(statistics.mean(x[:tenth]) for x in losses)
                entry["loss_last"] = statistics.mean(statistics.mean(x[-tenth:]) for x in losses)
            table.append(entry)
    return table
