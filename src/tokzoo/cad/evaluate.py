"""``tokzoo eval`` for CAD tokenizers: tokens and bytes per program, the round trip, and kernel execution.

Per ``.cadseq`` file: commands, tokens, bit-packed bytes, DeepCAD's fixed-width size (17 values per command),
whether ``decode(encode(p))`` is the program, and the volume of the solid manifold3d builds from the decoded
program with its volume IoU to the original's (1 when the round trip is exact). A program the kernel cannot
build (a loop crossing itself, an empty result) is listed as a failure with its one-line reason.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tokzoo.bench.eval_files import FileEval, FileEvalOptions, failure
from tokzoo.bench.protocol import summarize
from tokzoo.cad.generate import random_programs
from tokzoo.cad.kernel import execute, volume_iou
from tokzoo.cad.quantize import quantize_program
from tokzoo.cad.text import to_cadseq
from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.data.apt import cache_dir

__all__ = ["DEFAULT_DATA", "default_files", "evaluate"]

DEFAULT_DATA = "20 random sketch-and-extrude programs (tokzoo.cad.generate, seed 0), quantized"
METRICS = ("commands", "tokens", "bytes", "deepcad_values", "volume", "volume_iou")


def default_files() -> list[Path]:
    """The default programs, written once under the cache as ``.cadseq`` files."""
    folder = cache_dir() / "cad" / "random-seed0"
    paths = [folder / f"program{i:02d}.cadseq" for i in range(20)]
    if not all(p.is_file() for p in paths):
        folder.mkdir(parents=True, exist_ok=True)
        for path, program in zip(paths, random_programs(20, seed=0), strict=True):
            atomic_write_bytes(path, to_cadseq(quantize_program(program)).encode("utf-8"))
    return paths


def evaluate(model: Any, files: list[Path], opts: FileEvalOptions) -> FileEval:
    """Measure ``model`` (``cad-deepcad-q8``) on ``files``; skip and list bad ones."""
    records: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    for path in files:
        try:
            program = model.load_file(path)[0]
            tokens = model.encode([program])
            decoded = model.decode(tokens)[0]
        except Exception as e:  # any error fails this file alone; failure() names an unexpected one
            failures.append(failure(path, "tokenize", e))
            continue
        record: dict[str, Any] = {"file": path.name, "commands": program.num_commands()}
        record |= {"tokens": tokens.num_tokens, "bytes": math.ceil(tokens.nbits() / 8)}
        record |= {"deepcad_values": 17 * program.num_commands(), "exact": decoded == program}
        try:
            original, rebuilt = execute(program), execute(decoded)
        except Exception as e:
            failures.append(failure(path, "kernel", e))
            record |= {"volume": None, "volume_iou": None}
        else:
            record |= {"volume": rebuilt.volume(), "volume_iou": volume_iou(original, rebuilt)}
        records.append(record)
    summary: dict[str, Any] = {"num_files": len(files), "num_failed": len({f["file"] for f in failures})}
    summary |= {
        "total_tokens": sum(r["tokens"] for r in records),
        "exact": sum(bool(r["exact"]) for r in records),
    }
    summary |= summarize(records, METRICS)
    return FileEval(records, failures, summary, ["file", *METRICS, "exact"])
