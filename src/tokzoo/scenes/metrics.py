"""Occupancy metrics as the 3-D occupancy literature reports them (Occ3D, OccWorld, I²-World): IoU of occupied
vs free voxels (geometry) and mIoU, the mean IoU over the semantic classes other than free, both accumulated over
all voxels of a set before dividing (so large scenes weigh more, as in those benchmarks)."""

from __future__ import annotations

import torch

__all__ = ["confusion", "iou_scores"]


def confusion(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(C, C) int64 counts, rows = target class, columns = predicted class, over all voxels."""
    if pred.shape != target.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape")
    idx = target.reshape(-1).long() * num_classes + pred.reshape(-1).long()
    return torch.bincount(idx, minlength=num_classes**2).reshape(num_classes, num_classes)


def iou_scores(conf: torch.Tensor) -> dict[str, float]:
    """``iou`` (occupied = any class but 0), ``miou`` (mean over classes 1..C-1 present in target or
    prediction) and ``iou/<c>`` per class; NaN where a class never occurs."""
    conf = conf.double()
    out: dict[str, float] = {}
    occupied = conf[1:, 1:].sum()  # occupied in both, whatever the classes
    union = occupied + conf[0, 1:].sum() + conf[1:, 0].sum()
    out["iou"] = float(occupied / union) if union > 0 else float("nan")
    per_class = []
    for c in range(1, conf.shape[0]):
        union = conf[c, :].sum() + conf[:, c].sum() - conf[c, c]
        value = float(conf[c, c] / union) if union > 0 else float("nan")
        out[f"iou/{c}"] = value
        if union > 0:
            per_class.append(value)
    out["miou"] = sum(per_class) / len(per_class) if per_class else float("nan")
    return out
