"""``tokzoo eval`` for mesh tokenizers: tokens per face, bit-packed size, Chamfer distance, what quantization changed.

Measures the serializations of MeshAnything V2 (adjacent mesh tokenization, 2024), BPT (patchified block
indexing, 2025) and Nautilus (2025) as ``benchmarks/mesh.py`` does, per file: faces after quantization,
tokens, tokens per face and the ratio to the naive 9-coordinates-per-face serialization on the same grid,
the bit-packed payload (``Tokens.nbits()`` in bytes), the exactness of the round trip, the Chamfer-L1
distance (:func:`tokzoo.mesh.chamfer.chamfer_distance`) of the decoded mesh to the original surface and the
largest coordinate error, both as fractions of the bounding box's longest side, and every :class:`~tokzoo.mesh.MeshReport` field (merged
vertices, dropped degenerate and duplicate faces, non-manifold edges, largest error).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tokzoo.bench.eval_files import FileEval, FileEvalOptions, failure
from tokzoo.bench.protocol import summarize
from tokzoo.core.errors import ConfigError
from tokzoo.mesh.chamfer import chamfer_distance
from tokzoo.mesh.data import mesh_files
from tokzoo.mesh.tokenizer import MeshConfig, MeshTokenizer

__all__ = ["CHAMFER_POINTS", "DEFAULT_DATA", "default_files", "evaluate"]

CHAMFER_POINTS = 10_000
"""Surface samples each way for the Chamfer distance (seed 0)."""
_HOMEDECOR = 5
DEFAULT_DATA = f"the glmark2 bunny and the first {_HOMEDECOR} minetest-mod-homedecor models (Debian)"
REPORT_KEYS = (
    "input_vertices",
    "input_faces",
    "vertices",
    "merged_vertices",
    "unused_vertices",
    "degenerate_faces",
    "duplicate_faces",
    "non_manifold_edges",
)
METRICS = (
    "faces",
    "tokens",
    "tokens_per_face",
    "ratio_to_naive",
    "bytes",
    "bytes_per_face",
    "chamfer",
    "max_error",
)


def default_files() -> list[Path]:
    """The Stanford bunny of glmark2-data and a few homedecor furniture models (downloaded once)."""
    return mesh_files("glmark2") + mesh_files("homedecor")[:_HOMEDECOR]


def evaluate(model: Any, files: list[Path], opts: FileEvalOptions) -> FileEval:
    """Measure ``model`` (a mesh tokenizer, e.g. ``mesh-amt-q7``) on ``files``; skip and list bad ones."""
    naive = MeshTokenizer(MeshConfig("naive", bits=model.cfg.bits, max_faces=model.cfg.max_faces))
    records: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    unavailable: dict[str, str] = {}
    for path in files:
        try:
            raw = model.load_file(path)[0]
        except Exception as e:  # any error fails this file alone; failure() names an unexpected one
            failures.append(failure(path, "read", e))
            continue
        try:
            mesh, report = model.quantize(raw)
            tokens = model.encode([mesh])
            decoded = model.decode(tokens)[0]
        except Exception as e:
            failures.append(failure(path, "tokenize", e))
            continue
        if not decoded.same_triangles(mesh):
            failures.append({"file": path.name, "stage": "round trip", "reason": "decoded triangles differ"})
        naive_tokens = naive.encode([mesh]).num_tokens
        nbytes = math.ceil(tokens.nbits() / 8)
        record: dict[str, Any] = {"file": path.name, "faces": mesh.num_faces, "tokens": tokens.num_tokens}
        record |= {"tokens_per_face": tokens.num_tokens / mesh.num_faces, "naive_tokens": naive_tokens}
        record |= {"ratio_to_naive": tokens.num_tokens / naive_tokens, "bytes": nbytes}
        record |= {"bytes_per_face": nbytes / mesh.num_faces, "chamfer": None}
        record |= {k: getattr(report, k) for k in REPORT_KEYS}
        record["max_error"] = report.max_error / report.scale
        if "chamfer" not in unavailable:
            original = (raw.vertices, raw.faces)
            try:
                distance = chamfer_distance(
                    original, (decoded.world_vertices(), decoded.faces), points=CHAMFER_POINTS
                )
                record["chamfer"] = distance / report.scale
            except ConfigError as e:  # rtree missing: say so once, keep measuring the rest
                unavailable["chamfer"] = f"unavailable: {e}"
        records.append(record)
    columns = ["file", *METRICS[:6], "naive_tokens", "chamfer", "max_error", *REPORT_KEYS]
    return FileEval(records, failures, _summary(model, files, records, failures, unavailable), columns)


def _summary(
    model: Any,
    files: list[Path],
    records: list[dict[str, Any]],
    failures: list[dict[str, str]],
    unavailable: dict[str, str],
) -> dict[str, Any]:
    faces = sum(r["faces"] for r in records)
    tokens, naive = sum(r["tokens"] for r in records), sum(r["naive_tokens"] for r in records)
    summary: dict[str, Any] = {
        "num_files": len(files),
        "num_failed": len({f["file"] for f in failures}),
        "serialization": model.cfg.serialization,
        "bits": model.cfg.bits,
        "half_step": 0.5 / (2**model.cfg.bits - 1),
        "total_faces": faces,
        "total_tokens": tokens,
        "total_tokens_per_face": tokens / faces if faces else 0.0,
        "total_ratio_to_naive": tokens / naive if naive else 0.0,
        "total_bytes": sum(r["bytes"] for r in records),
    }
    summary |= {f"total_{k}": sum(r[k] for r in records) for k in REPORT_KEYS[3:]}
    summary |= summarize(records, METRICS)
    summary["unavailable"] = unavailable
    return summary
