"""``tokzoo tokenize``: a dataset -> token shards, batched, sharded over processes, resumable.

The inputs are cut into shards (:mod:`tokzoo.data.tok_inputs`): ``shard_size`` consecutive files of the sorted
input files, or one output shard per input WebDataset tar shard (local or remote). Shard j is encoded by rank
``j % world_size`` (ranks from ``RANK`` / ``WORLD_SIZE`` under ``torchrun`` or ``accelerate launch``; more
nodes are more ranks), in batches of ``batch_size`` consecutive items of that shard (an item is an input, or one
clip window of a video, :mod:`tokzoo.data.tok_encode`). A shard's content is thus a function of the inputs
alone, and 1 or N processes write byte-identical folders. Each finished shard
(a WebDataset tar of ``.tok`` records, or Parquet rows with ``fmt="parquet"``) is written atomically
(temporary file + rename) followed by its record ``shard-NNNNNN.json``; a rerun skips
shards whose record exists, so a killed run resumes losing at most the shards in flight and writing no
sample twice. Inputs that fail to load or encode (and corrupt tar members) are reported (logger + the shard's
record) and skipped; an input that fails part-way (a video) leaves no record. An input shard that cannot be
read at all (network, timeout, size limit) gets no record, so a rerun retries it, and the run reports it.
The last rank to finish writes ``manifest.json`` (see :mod:`tokzoo.data.tok_shards`). No collective is used,
so no rank can hang on another.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.fingerprint import stamp
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens
from tokzoo.data.report import reason_of, report_bad
from tokzoo.data.shard_open import ShardUnavailable
from tokzoo.data.tok_encode import LOAD_ERRORS, Encoder
from tokzoo.data.tok_inputs import FileShard, Input, UrlShard, file_shards
from tokzoo.data.tok_parquet import write_parquet_shard
from tokzoo.data.tok_shards import MANIFEST, MANIFEST_FORMAT, sha256_file

__all__ = [
    "TokenizeResult",
    "dist_env",
    "folder_labels",
    "tokenize_files",
    "tokenize_shards",
    "write_manifest",
]

SHARD = "shard-{:06d}"


@dataclass
class TokenizeResult:
    """What one process did: shards written and skipped (already done), samples encoded, inputs skipped, and
    shards whose input could not be read (``failed``: not written, a rerun retries them)."""

    written: list[int] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)
    samples: int = 0
    bad: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    manifest: bool = False
    failed: list[tuple[int, str]] = field(default_factory=list)

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


def _write_shard(
    out: Path,
    j: int,
    shard: FileShard | UrlShard,
    enc: Encoder,
    batch_size: int,
    bar: Any,
    fmt: str,
    tmp: Path,
) -> tuple[int, list[tuple[str, str]]]:
    """Encode and write shard ``j`` (then its record); ShardUnavailable (nothing written) if its input shard
    cannot be read."""
    inputs: list[Input] = []
    done: list[list[tuple[dict[str, Any], Tokens]]] = []
    failed: set[int] = set()
    bad: list[tuple[str, str]] = []
    pending: list[tuple[int, dict[str, Any], Any]] = []

    def fail(i: int, reason: str) -> None:
        if i not in failed:
            failed.add(i)
            bad.append((inputs[i].name, reason))
            report_bad(inputs[i].name, reason)

    def flush() -> None:
        for (i, meta, _), t in zip(pending, enc.encode([x for _, _, x in pending]), strict=True):
            if isinstance(t, str):
                fail(i, t)
            else:
                done[i].append((meta, t))
        pending.clear()

    for i, inp in enumerate(shard.inputs(lambda where, reason: bad.append((where, reason)))):
        inputs.append(inp)
        done.append([])
        try:
            with inp.local_file(tmp) as path:
                try:
                    for x, meta in enc.items(path):
                        pending.append((i, meta, x))
                        if len(pending) == batch_size:
                            flush()
                except LOAD_ERRORS as e:
                    reason = str(e) if inp.path is not None else str(e).replace(str(path), inp.name)
                    fail(i, reason_of(ValueError(reason), inp.name))
        finally:
            bar.update(1)
    flush()
    records: list[tuple[str, Tokens]] = []
    for i, inp in enumerate(inputs):
        if i in failed:
            continue
        for w, (meta, t) in enumerate(done[i]):
            stamp(enc.model, t)
            t.meta.update(meta)
            t.meta["source"] = inp.name
            if inp.label is not None:
                t.meta["label"] = inp.label
            records.append((f"{inp.key}-{w:05d}" if enc.windowed else inp.key, t))
    suffix, write = FORMATS[fmt]
    name = SHARD.format(j)
    atomic_write_bytes(out / f"{name}{suffix}", write(records))
    record = {
        "name": f"{name}{suffix}",
        "sha256": sha256_file(out / f"{name}{suffix}"),
        "samples": len(records),
        "inputs": len(inputs),
        **shard.record(),
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
        "shards": [
            {k: s[k] for k in ("name", "sha256", "samples", "inputs", "input") if k in s} for s in shards
        ],
        "bad": [b for s in shards for b in s["bad"]],
    }
    if classes is not None:
        manifest["classes"] = list(classes)
    atomic_write_bytes(out / MANIFEST, json.dumps(manifest, indent=1).encode())
    return True


def tokenize_shards(
    model: Tokenizer,
    shards: Sequence[FileShard | UrlShard],
    out: str | Path,
    *,
    batch_size: int = 8,
    size: int | None = None,
    rank: int = 0,
    world_size: int = 1,
    progress: bool = False,
    fmt: str = "tar",
    classes: Sequence[str] | None = None,
    options: dict[str, Any] | None = None,
    after_shard: Callable[[int], None] | None = None,
) -> TokenizeResult:
    """Encode this rank's ``shards`` (:func:`~tokzoo.data.tok_inputs.file_shards` or
    :func:`~tokzoo.data.tok_inputs.url_shards`) into ``out`` as ``fmt`` shards (``tar`` of ``.tok`` records or
    ``parquet``, :mod:`tokzoo.data.tok_parquet`); ``classes``: the class names of the inputs' labels, for the
    manifest; ``options``: the modality's item options (a video's ``clip_frames``, ``fps``, ``max_frames``).
    ``after_shard(j)`` runs after each shard is written (a hook for progress or tests). Input shards that cannot
    be read are reported in ``result.failed`` and left for a rerun."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if fmt not in FORMATS:
        raise ValueError(f"shard format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    enc = Encoder(model.eval(), size, options)
    mine = [j for j in range(len(shards)) if j % world_size == rank]
    result = TokenizeResult()
    _check_format(out, fmt)
    todo = [j for j in mine if not (out / f"{SHARD.format(j)}.json").is_file()]
    result.resumed = [j for j in mine if j not in todo]
    sizes = [shards[j].size for j in todo]
    total = None if None in sizes else sum(sizes)  # type: ignore[arg-type]
    start = time.perf_counter()
    with (
        tqdm(total=total, unit="input", disable=not progress, desc=f"rank {rank}") as bar,
        tempfile.TemporaryDirectory(prefix="tokzoo-tokenize-") as tmp,
    ):
        for j in todo:
            try:
                count, bad = _write_shard(out, j, shards[j], enc, batch_size, bar, fmt, Path(tmp))
            except ShardUnavailable as e:
                report_bad(SHARD.format(j), f"not written, rerun to retry: {e}")
                result.failed.append((j, str(e)))
                continue
            result.written.append(j)
            result.samples += count
            result.bad += bad
            if after_shard is not None:
                after_shard(j)
    result.seconds = time.perf_counter() - start
    result.manifest = write_manifest(out, model.registry_name, len(shards), classes)
    return result


def tokenize_files(
    model: Tokenizer,
    files: Sequence[Path],
    names: Sequence[str],
    out: str | Path,
    *,
    shard_size: int = 256,
    labels: Sequence[int] | None = None,
    classes: Sequence[str] | None = None,
    **kw: Any,
) -> TokenizeResult:
    """:func:`tokenize_shards` over ``files`` (sorted; ``names`` are what records and reports call them) in shards
    of ``shard_size`` consecutive files. ``labels``: a class index per file, stored as ``meta["label"]`` of its
    samples, with the class names ``classes`` in the manifest (e.g. from :func:`folder_labels`)."""
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    if labels is not None and (len(labels) != len(files) or classes is None):
        raise ValueError("labels need one class index per file and the list of class names")
    if labels is not None and any(not 0 <= int(c) < len(classes) for c in labels):  # type: ignore[arg-type]
        raise ValueError(f"labels must be class indices in [0, {len(classes)})")  # type: ignore[arg-type]
    if len(files) != len(names):
        raise ValueError("one name per file is needed")
    return tokenize_shards(model, file_shards(files, names, shard_size, labels), out, classes=classes, **kw)
