"""``tokzoo eval`` for scene tokenizers: tokens and bits per frame, IoU (occupied vs free) and mIoU (classes
other than free) of the decoded scenes, per scene file (default: the held-out ``homedecor:test`` scenes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from tokzoo.bench.eval_files import FileEval, FileEvalOptions, failure
from tokzoo.bench.protocol import summarize
from tokzoo.core.tokens import Tokens
from tokzoo.scenes.data import scene_files
from tokzoo.scenes.metrics import confusion, iou_scores

__all__ = ["DEFAULT_DATA", "default_files", "evaluate", "measure_levels"]

DEFAULT_DATA = "the held-out homedecor scenes (homedecor:test, 32 scenes of 8 frames)"
METRICS = ("tokens_per_frame", "bits_per_frame", "iou", "miou")


def default_files() -> list[Path]:
    return scene_files("homedecor:test")


def measure_levels(
    model: Any, scenes: list[torch.Tensor], levels: tuple[int, int], *, copy_after_key: bool = False
) -> dict[str, float]:
    """Tokens and bits per frame and pooled IoU / mIoU / per-class IoU of ``model`` on ``scenes`` ((1, T, X, Y,
    Z) each) at ``levels`` = (scales of the key frame, of the others). ``copy_after_key``: the floor that sends
    only the key frame and repeats its reconstruction (the later frames' tokens are not counted)."""
    total, tokens, bits, frames = None, 0, 0.0, 0
    for scene in scenes:
        coded, decoded = model.encode_reconstruct(scene, levels=levels)
        decoded = decoded[0].long()
        t = scene.shape[1]
        if copy_after_key:
            decoded = decoded[:1].expand_as(decoded)
            coded = Tokens.from_ids(coded.ids[:, : model.frame_tokens(levels[0])], coded.vocab_size)
        conf = confusion(decoded, scene[0], model.cfg.num_classes)
        total = conf if total is None else total + conf
        tokens, bits, frames = tokens + coded.num_tokens, bits + coded.nbits(), frames + t
    return {"tokens_per_frame": tokens / frames, "bits_per_frame": bits / frames, **iou_scores(total)}


def evaluate(model: Any, files: list[Path], opts: FileEvalOptions) -> FileEval:
    """Measure ``model`` on ``files``; skip and list bad ones. The summary's ``iou_all`` / ``miou_all`` pool
    the voxels of every file (the literature's protocol); the per-file means are beside them."""
    records, failures, total = [], [], None
    for path in files:
        try:
            scene = model.load_file(path)
            tokens = model.encode(scene)
            decoded = model.decode(tokens)[0]
        except Exception as e:  # any error fails this file alone
            failures.append(failure(path, "tokenize", e))
            continue
        conf = confusion(decoded.long(), scene[0], model.cfg.num_classes)
        total = conf if total is None else total + conf
        frames = scene.shape[1]
        record = {"file": path.name, "tokens_per_frame": tokens.num_tokens / frames,
                  "bits_per_frame": tokens.nbits() / frames}  # fmt: skip
        record |= {k: v for k, v in iou_scores(conf).items() if k in ("iou", "miou")}
        records.append(record)
    summary: dict[str, Any] = {"num_files": len(files), "num_failed": len({f["file"] for f in failures})}
    summary |= summarize(records, METRICS)
    if total is not None:
        summary |= {f"{k.replace('/', '_class')}_all": v for k, v in iou_scores(total).items()}
    return FileEval(records, failures, summary, ["file", *METRICS])
