"""The inputs of ``tokzoo tokenize``, cut into the shards that ranks encode: files, or WebDataset tar shards.

A :class:`FileShard` is ``shard_size`` consecutive files of a sorted list; a :class:`UrlShard` is one input tar
shard (local, ``file:``, ``http(s)://`` or ``pipe:``, :mod:`tokzoo.data.shard_open`), streamed sample by sample.
Either way the shards, their order and each input's record key are functions of the inputs alone, which is what
makes 1 and N processes write the same bytes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokzoo.data.report import OnError, report_bad
from tokzoo.data.shards import read_shard, shard_paths

__all__ = ["FileShard", "Input", "UrlShard", "file_shards", "parse_cls", "url_shards"]


@dataclass(frozen=True)
class Input:
    """One input: a file (``path``) or a shard member's bytes (``data``, with its file ``suffix``); ``key`` names
    its records in the output, ``name`` is its source (``meta["source"]`` and reports)."""

    key: str
    name: str
    path: Path | None = None
    data: bytes | None = None
    suffix: str = ""
    label: int | None = None

    @contextlib.contextmanager
    def local_file(self, tmp: Path) -> Iterator[Path]:
        """The input as a file: ``path``, or ``data`` written to a file in ``tmp`` (removed afterwards)."""
        if self.path is not None:
            yield self.path
            return
        file = tmp / f"sample{self.suffix}"
        file.write_bytes(self.data or b"")
        try:
            yield file
        finally:
            file.unlink(missing_ok=True)


@dataclass(frozen=True)
class FileShard:
    """Files ``first ..`` of the sorted input list; record keys are the files' running numbers."""

    files: tuple[Path, ...]
    names: tuple[str, ...]
    first: int
    labels: tuple[int, ...] | None = None

    @property
    def size(self) -> int | None:
        return len(self.files)

    def record(self) -> dict[str, Any]:
        return {}

    def inputs(self, on_error: OnError | None = None) -> Iterator[Input]:
        for k, (path, name) in enumerate(zip(self.files, self.names, strict=True)):
            label = None if self.labels is None else self.labels[k]
            yield Input(f"{self.first + k:09d}", name, path=path, label=label)


def file_shards(
    files: Sequence[Path], names: Sequence[str], shard_size: int, labels: Sequence[int] | None = None
) -> list[FileShard]:
    """``files`` (with their ``names`` and class ``labels``) in shards of ``shard_size`` consecutive files."""
    cut = range(0, len(files), shard_size)
    lab = [None if labels is None else tuple(int(c) for c in labels[lo : lo + shard_size]) for lo in cut]
    return [
        FileShard(tuple(files[lo : lo + shard_size]), tuple(names[lo : lo + shard_size]), lo, lab[k])
        for k, lo in enumerate(cut)
    ]


@dataclass(frozen=True)
class UrlShard:
    """Input tar shard number ``index`` at ``url``: each sample's first member with one of ``suffixes`` (in
    their order) is an input named ``URL#KEY``; its records are keyed ``INDEX-NNNNNNN`` (its place in the shard).
    With ``num_classes`` set, each sample's ``.cls`` member (WebDataset's class-index convention: a decimal
    integer in ``[0, num_classes)``) is its label; a sample without a valid one is reported and skipped."""

    url: str
    index: int
    suffixes: tuple[str, ...]
    num_classes: int | None = None

    @property
    def size(self) -> int | None:
        return None  # known once read

    def record(self) -> dict[str, Any]:
        return {"input": self.url}

    def inputs(self, on_error: OnError | None = None) -> Iterator[Input]:
        """The shard's usable samples in order; samples without a member of ``suffixes``, oversized members and
        a truncated or corrupt tar are reported and skipped (ShardUnavailable if the shard cannot be read)."""
        for n, (key, files) in enumerate(read_shard(self.url, on_error)):
            name = f"{self.url}#{key}"
            by_suffix = {"." + ext.rsplit(".", 1)[-1].lower(): ext for ext in files}
            suffix = next((s for s in self.suffixes if s in by_suffix), None)
            if suffix is None:
                want = "/".join(self.suffixes)
                report_bad(name, f"no {want} member (has {', '.join(files)})", on_error)
                continue
            label = None
            if self.num_classes is not None:
                cls = files[by_suffix[".cls"]] if ".cls" in by_suffix else None
                label, why = parse_cls(cls, self.num_classes)
                if label is None:
                    report_bad(name, why, on_error)
                    continue
            key = f"{self.index:06d}-{n:07d}"
            yield Input(key, name, data=files[by_suffix[suffix]], suffix=suffix, label=label)


def parse_cls(data: bytes | None, num_classes: int) -> tuple[int | None, str]:
    """(label, "") from a ``.cls`` member's bytes, or (None, why it is not a class index below ``num_classes``)."""
    if data is None:
        return None, "no .cls member (--labels cls)"
    text = data[:32].decode("ascii", "replace").strip()
    if len(data) > 32 or not text.isdigit():
        return None, f".cls member is not a class index: {data[:32]!r}"
    if int(text) >= num_classes:
        return None, f".cls label {int(text)} is not below the {num_classes} classes (--num-classes)"
    return int(text), ""


def url_shards(
    urls: Sequence[str], suffixes: Sequence[str], num_classes: int | None = None
) -> list[UrlShard]:
    """The input shards that brace patterns / URLs name, in order (DataError naming a missing local shard);
    ``num_classes``: read each sample's label from its ``.cls`` member."""
    paths = shard_paths(list(urls))
    return [UrlShard(p, j, tuple(suffixes), num_classes) for j, p in enumerate(paths)]
