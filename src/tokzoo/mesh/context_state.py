"""A fitted mesh context model on disk: ``context.json`` (serialization, name, every context key) and
``stats.safetensors`` (the float64 counts and mixer weights), so a decoder needs the file, not the training
meshes. Floats are stored exactly (float64 tensors; JSON floats round-trip in Python), which the arithmetic
coder needs: a decoder whose probabilities differ in the last bit decodes garbage. Never unpickled."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from tokzoo.core.atomic import atomic_directory
from tokzoo.core.errors import DataError
from tokzoo.mesh.vertex_model import MeshStats
from tokzoo.prior.mixing import AdaptiveCounts, FixedShareMixer

__all__ = ["FORMAT", "load_stats", "save_stats"]

FORMAT = "tokzoo-mesh-context/1"
_JSON, _TENSORS = "context.json", "stats.safetensors"


def _key_out(key: Any) -> Any:
    """A context key (nested tuples of str / int / float / bool / None) as JSON (tuples become lists)."""
    return [_key_out(k) for k in key] if isinstance(key, tuple) else key


def _key_in(key: Any) -> Any:
    return tuple(_key_in(k) for k in key) if isinstance(key, list) else key


def save_stats(stats: MeshStats, folder: str | Path, header: dict[str, Any]) -> None:
    """Write ``stats`` and ``header`` (the serialization and the model's name) into ``folder`` atomically."""
    tensors: dict[str, torch.Tensor] = {}
    tables, mixers = [], []
    for i, (key, t) in enumerate(stats.tables.items()):
        tensors[f"t{i}"] = torch.from_numpy(np.ascontiguousarray(t.counts, dtype=np.float64))
        tables.append([_key_out(key), t.prior, t.limit, t.seen])
    for i, (key, m) in enumerate(stats.mixers.items()):
        tensors[f"m{i}"] = torch.from_numpy(np.ascontiguousarray(m.w, dtype=np.float64))
        mixers.append([_key_out(key), m.alpha])
    scales = [[_key_out(k), v] for k, v in stats.scales.items()]
    doc = {"format": FORMAT, **header, "bits": int(np.log2(stats.size)), "tables": tables, "mixers": mixers,
           "scales": scales}  # fmt: skip
    with atomic_directory(folder) as tmp:
        (tmp / _JSON).write_text(json.dumps(doc))
        (tmp / _TENSORS).write_bytes(st_save(tensors))


def load_stats(folder: str | Path) -> tuple[MeshStats, dict[str, Any]]:
    """(stats, the whole JSON document) written by :func:`save_stats`; DataError naming what is wrong."""
    folder = Path(folder)
    try:
        doc = json.loads((folder / _JSON).read_text())
        tensors = st_load((folder / _TENSORS).read_bytes())
    except FileNotFoundError as e:
        raise DataError(
            f"{folder}: not a saved mesh context model ({Path(e.filename).name} missing)"
        ) from None
    except (ValueError, SafetensorError) as e:
        raise DataError(f"{folder}: damaged mesh context model ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DataError(f"{folder}: not a mesh context model of format {FORMAT}")
    try:
        stats = MeshStats(int(doc["bits"]))
        for i, (key, prior, limit, seen) in enumerate(doc["tables"]):
            counts = tensors[f"t{i}"].numpy().astype(np.float64)
            table = AdaptiveCounts(len(counts), float(prior), float(limit))
            table.counts, table.seen = counts, float(seen)
            stats.tables[_key_in(key)] = table
        for i, (key, alpha) in enumerate(doc["mixers"]):
            w = tensors[f"m{i}"].numpy().astype(np.float64)
            mixer = FixedShareMixer(len(w), float(alpha))
            mixer.w = w
            stats.mixers[_key_in(key)] = mixer
        stats.scales = {_key_in(k): float(v) for k, v in doc["scales"]}
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(f"{folder}: malformed mesh context model ({type(e).__name__}: {e})") from None
    return stats, doc
