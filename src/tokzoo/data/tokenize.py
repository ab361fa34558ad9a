"""``tokzoo tokenize``: a dataset of files -> token shards, batched, sharded over processes, resumable.

The sorted input files are cut into shards of ``shard_size`` consecutive files; shard j is encoded by rank
``j % world_size`` (ranks from ``RANK`` / ``WORLD_SIZE`` under ``torchrun`` or ``accelerate launch``; more
nodes are more ranks), in batches of ``batch_size`` consecutive files of that shard. A shard's content is
thus a function of the inputs alone, and 1 or N processes write byte-identical folders. Each finished shard
(a WebDataset tar of ``.tok`` records, or Parquet rows with ``fmt="parquet"``) is written atomically
(temporary file + rename) followed by its record ``shard-NNNNNN.json``; a rerun skips
shards whose record exists, so a killed run resumes losing at most the shards in flight and writing no
sample twice. Inputs that fail to load or encode are reported (logger + the shard's record) and skipped.
The last rank to finish writes ``manifest.json`` (see :mod:`tokzoo.data.tok_shards`). No collective is used,
so no rank can hang on another.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import TokzooError
from tokzoo.core.fingerprint import stamp
from tokzoo.core.modality import get_modality
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens
from tokzoo.data.report import report_bad
from tokzoo.data.tok_parquet import write_parquet_shard
from tokzoo.data.tok_shards import MANIFEST, MANIFEST_FORMAT, sha256_file

__all__ = ["TokenizeResult", "dist_env", "folder_labels", "tokenize_files", "write_manifest"]

SHARD = "shard-{:06d}"


@dataclass
class TokenizeResult:
    """What one process did: shards written and skipped (already done), samples encoded, inputs skipped."""

    written: list[int] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)
    samples: int = 0
    bad: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    manifest: bool = False

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else 0.0


def dist_env() -> tuple[int, int]:
    """(rank, world size) from ``RANK`` / ``WORLD_SIZE`` (1 process when unset)."""
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    if not 0 <= rank < world:
        raise ValueError(f"RANK={rank} is outside WORLD_SIZE={world}")
    return rank, world


def _tar(samples: list[tuple[str, Tokens]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for key, tokens in samples:
            data = tokens.to_bytes()
            info = tarfile.TarInfo(f"{key}.tok")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


#: shard format -> (file suffix, writer of (key, Tokens) pairs)
FORMATS: dict[str, tuple[str, Callable[[list[tuple[str, Tokens]]], bytes]]] = {
    "tar": (".tar", _tar),
    "parquet": (".parquet", write_parquet_shard),
}


def _batch(items: list[Any]) -> Any:
    """Concatenate loaded inputs: tensors of one shape along dim 0, lists by extension; None if they differ."""
    if all(isinstance(x, torch.Tensor) for x in items):
        return torch.cat(items) if len({tuple(x.shape[1:]) for x in items}) == 1 else None
    if all(isinstance(x, list) for x in items):
        return [y for x in items for y in x]
    return None


class _Encoder:
    """Loads, resizes and encodes files with one model; failures become ``bad`` entries."""

    def __init__(self, model: Tokenizer, size: int | None) -> None:
        self.model = model
        self.modality = get_modality(model.modality)
        if size is not None and self.modality.resize is None:
            raise ValueError(
                f"size applies to tokenizers of modalities with a resolution, not {model.modality}"
            )
        self.size = size

    def load(self, path: Path) -> Any:
        x = self.model.load_file(path)
        return self.modality.resize(x, self.size) if self.size is not None and self.modality.resize else x

    @torch.no_grad()
    def encode(self, items: list[Any]) -> list[Tokens]:
        tokens = self.model.encode(_batch(items) if len(items) > 1 else items[0])
        return [tokens[i] for i in range(len(tokens))]

    def run(self, paths: list[Path], names: list[str], bad: list[tuple[str, str]]) -> list[Tokens | None]:
        """Tokens per path (None for a bad input, recorded in ``bad``)."""
        loaded: list[Any] = []
        for path, name in zip(paths, names, strict=True):
            try:
                loaded.append(self.load(path))
            except (TokzooError, OSError, ValueError) as e:
                loaded.append(None)
                bad.append((name, str(e)))
                report_bad(name, str(e))
        good = [x for x in loaded if x is not None]
        encoded = None
        if len(good) > 1 and _batch(good) is not None:
            try:
                encoded = self.encode(good)
            except (TokzooError, ValueError):
                encoded = None  # find the failing input one at a time
        if encoded is None:
            return self._each(loaded, names, bad)
        it = iter(encoded)
        return [None if x is None else next(it) for x in loaded]

    def _each(self, loaded: list[Any], names: list[str], bad: list[tuple[str, str]]) -> list[Tokens | None]:
        """Encode one at a time (inputs of different shapes, or to find the input that fails)."""
        result: list[Tokens | None] = []
        for i, x in enumerate(loaded):
            if x is None:
                result.append(None)
                continue
            try:
                result.append(self.encode([x])[0])
            except (TokzooError, ValueError) as e:
                result.append(None)
                bad.append((names[i], str(e)))
                report_bad(names[i], str(e))
        return result


def _write_shard(
    out: Path,
    j: int,
    first: int,
    paths: list[Path],
    names: list[str],
    enc: _Encoder,
    batch_size: int,
    bar: Any,
    fmt: str,
    labels: list[int] | None,
) -> tuple[int, list[tuple[str, str]]]:
    records: list[tuple[str, Tokens]] = []
    bad: list[tuple[str, str]] = []
    for b in range(0, len(paths), batch_size):
        tokens = enc.run(paths[b : b + batch_size], names[b : b + batch_size], bad)
        for k, t in enumerate(tokens):
            if t is not None:
                stamp(enc.model, t)
                t.meta["source"] = names[b + k]
                if labels is not None:
                    t.meta["label"] = labels[b + k]
                records.append((f"{first + b + k:09d}", t))
        bar.update(len(tokens))
    suffix, write = FORMATS[fmt]
    name = SHARD.format(j)
    atomic_write_bytes(out / f"{name}{suffix}", write(records))
    record = {
        "name": f"{name}{suffix}",
        "sha256": sha256_file(out / f"{name}{suffix}"),
        "samples": len(records),
        "inputs": len(paths),
        "bad": [list(b) for b in bad],
    }
    atomic_write_bytes(out / f"{name}.json", json.dumps(record, indent=1).encode())
    return len(records), bad


def folder_labels(names: Sequence[str]) -> tuple[list[int], list[str]]:
    """Class labels from an ImageNet-style layout: the first folder of each (relative) name is its class.
    Returns (a class index per name, the sorted class names); ValueError when a name has no folder."""
    top = [Path(n).parts[0] if len(Path(n).parts) > 1 else None for n in names]
    if None in top:
        raise ValueError(f"{names[top.index(None)]}: not inside a class folder (expected CLASS/FILE)")
    classes = sorted(set(top))  # type: ignore[arg-type]
    index = {c: i for i, c in enumerate(classes)}
    return [index[c] for c in top], classes  # type: ignore[index]


def _check_format(out: Path, fmt: str) -> None:
    """Refuse to resume a folder whose finished shards are of another format (the manifest would mix them)."""
    suffix = FORMATS[fmt][0]
    for record in sorted(out.glob("shard-*.json")):
        name = json.loads(record.read_text()).get("name", "")
        if not name.endswith(suffix):
            raise ValueError(
                f"{out}: holds {Path(name).suffix or 'unknown'} shards ({name}); resume it with that format "
                f"or write {fmt} shards to a new folder"
            )


def write_manifest(out: Path, tokenizer: str, num_shards: int, classes: Sequence[str] | None = None) -> bool:
    """Write ``manifest.json`` if every shard's record exists (with the class names when samples carry
    labels); whether it was written."""
    records = [out / f"{SHARD.format(j)}.json" for j in range(num_shards)]
    if not all(r.is_file() for r in records):
        return False
    shards = [json.loads(r.read_text()) for r in records]
    manifest = {
        "format": MANIFEST_FORMAT,
        "format_version": 1,
        "tokenizer": tokenizer,
        "samples": sum(s["samples"] for s in shards),
        "shards": [{k: s[k] for k in ("name", "sha256", "samples", "inputs")} for s in shards],
        "bad": [b for s in shards for b in s["bad"]],
    }
    if classes is not None:
        manifest["classes"] = list(classes)
    atomic_write_bytes(out / MANIFEST, json.dumps(manifest, indent=1).encode())
    return True


def tokenize_files(
    model: Tokenizer,
    files: Sequence[Path],
    names: Sequence[str],
    out: str | Path,
    *,
    shard_size: int = 256,
    batch_size: int = 8,
    size: int | None = None,
    rank: int = 0,
    world_size: int = 1,
    progress: bool = False,
    fmt: str = "tar",
    labels: Sequence[int] | None = None,
    classes: Sequence[str] | None = None,
    after_shard: Callable[[int], None] | None = None,
) -> TokenizeResult:
    """Encode this rank's shards of ``files`` (sorted; ``names`` are what records and reports call them) into
    ``out`` as ``fmt`` shards (``tar`` of ``.tok`` records or ``parquet``, :mod:`tokzoo.data.tok_parquet`).
    ``labels``: a class index per file, stored as ``meta["label"]`` of its sample, with the class names
    ``classes`` in the manifest (e.g. from :func:`folder_labels`). ``after_shard(j)`` runs after each shard is
    written (a hook for progress or tests)."""
    if shard_size < 1 or batch_size < 1:
        raise ValueError(f"shard_size and batch_size must be >= 1, got {shard_size} and {batch_size}")
    if fmt not in FORMATS:
        raise ValueError(f"shard format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if labels is not None and (len(labels) != len(files) or classes is None):
        raise ValueError("labels need one class index per file and the list of class names")
    if labels is not None and any(not 0 <= int(c) < len(classes) for c in labels):
        raise ValueError(f"labels must be class indices in [0, {len(classes)})")
    if len(files) != len(names):
        raise ValueError("one name per file is needed")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    enc = _Encoder(model.eval(), size)
    num_shards = -(-len(files) // shard_size)
    mine = [j for j in range(num_shards) if j % world_size == rank]
    result = TokenizeResult()
    _check_format(out, fmt)
    todo = [j for j in mine if not (out / f"{SHARD.format(j)}.json").is_file()]
    result.resumed = [j for j in mine if j not in todo]
    total = sum(min(shard_size, len(files) - j * shard_size) for j in todo)
    start = time.perf_counter()
    with tqdm(total=total, unit="sample", disable=not progress, desc=f"rank {rank}") as bar:
        for j in todo:
            lo, hi = j * shard_size, min(len(files), (j + 1) * shard_size)
            count, bad = _write_shard(
                out, j, lo, list(files[lo:hi]), list(names[lo:hi]), enc, batch_size, bar, fmt,
                None if labels is None else [int(c) for c in labels[lo:hi]],
            )  # fmt: skip
            result.written.append(j)
            result.samples += count
            result.bad += bad
            if after_shard is not None:
                after_shard(j)
    result.seconds = time.perf_counter() - start
    result.manifest = write_manifest(out, model.registry_name, num_shards, classes)
    return result
