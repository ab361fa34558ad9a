"""WebDataset-format tar shards, written and read without the ``webdataset`` package.

A sample is a group of consecutive tar members sharing a key: ``dir/key.jpg``, ``dir/key.json``...
The key is the member path up to the first dot of its basename; the rest is the extension.
"""

from __future__ import annotations

import io
import itertools
import lzma
import os
import posixpath
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from tokzoo.core.errors import DataError
from tokzoo.core.limits import get_limits
from tokzoo.data.braces import expand_braces
from tokzoo.data.decode import load_image
from tokzoo.data.report import OnError, reason_of, report_bad
from tokzoo.data.shard_open import ShardUnavailable, local_path, open_shard

Sample = tuple[str, dict[str, bytes]]

_READ_ERRORS = (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError)


def write_shards(samples: Iterable[Sample], pattern: str, maxcount: int) -> list[str]:
    """Write ``(key, {ext: bytes})`` samples into tar shards of at most ``maxcount`` samples.

    ``pattern`` holds one printf field for the shard number, e.g. ``out/shard-%06d.tar``. Members
    get mode 0644 and mtime 0, so equal input gives byte-identical shards. Returns the paths written.
    """
    if maxcount < 1:
        raise ValueError(f"maxcount must be >= 1, got {maxcount}")
    try:
        numbered = pattern % 0 != pattern % 1
    except TypeError:
        numbered = False
    if not numbered:
        raise ValueError(f"shard pattern {pattern!r} needs one integer field such as %06d")
    written: list[str] = []
    stream = iter(samples)
    for first in stream:
        path = pattern % len(written)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        written.append(path)
        with tarfile.open(path, "w") as tar:
            for key, files in itertools.chain([first], itertools.islice(stream, maxcount - 1)):
                _check_sample(key, files)
                for ext, data in files.items():
                    info = tarfile.TarInfo(f"{key}.{ext}")
                    info.size, info.mode, info.mtime = len(data), 0o644, 0
                    tar.addfile(info, io.BytesIO(data))
    return written


def _check_sample(key: str, files: dict[str, bytes]) -> None:
    base = posixpath.basename(key)
    if not base or "." in base:
        raise ValueError(f"sample key {key!r} must be non-empty and have no dot in its basename")
    if not files:
        raise ValueError(f"sample {key!r} has no files")
    for ext in files:
        if not ext or "/" in ext or ext.startswith("."):
            raise ValueError(f"sample {key!r}: bad extension {ext!r} (give e.g. 'jpg', not '.jpg')")


def shard_paths(urls: str | list[str]) -> list[str]:
    """Brace-expand one pattern or a list of them (local paths, ``file:``, ``http(s)://``, ``pipe:``); DataError
    naming the first local shard that does not exist (remote ones are only found when read)."""
    paths = [p for u in ([urls] if isinstance(urls, str) else urls) for p in expand_braces(u)]
    missing = [p for p in paths if local_path(p) is not None and not os.path.isfile(local_path(p))]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise DataError(f"{missing[0]}: shard not found{more}")
    return paths


def iter_shards(urls: str | list[str], *, on_error: OnError | None = None) -> Iterator[Sample]:
    """Stream ``(key, {ext: bytes})`` samples from shards in order (brace patterns allowed).

    All shards must exist (DataError otherwise). A shard that is truncated or corrupt is reported
    (``tokzoo.data`` logger and ``on_error(shard, reason)``): its samples read so far are kept, the
    sample being read is dropped, and iteration goes on with the next shard.
    """
    for path in shard_paths(urls):
        yield from _iter_shard(path, on_error)


def _iter_shard(path: str, on_error: OnError | None) -> Iterator[Sample]:
    """:func:`read_shard`, a shard that cannot be read reported like a corrupt one."""
    try:
        yield from read_shard(path, on_error)
    except ShardUnavailable as e:
        report_bad(path, reason_of(e, path), on_error)


def read_shard(url: str, on_error: OnError | None = None) -> Iterator[Sample]:
    """Stream the ``(key, {ext: bytes})`` samples of one shard (:func:`tokzoo.data.shard_open.open_shard`).

    Corrupt content is reported (``tokzoo.data`` logger and ``on_error(where, reason)``) and skipped: a member
    larger than the limit ``shard_member_bytes`` (its sample loses it), or a truncated or corrupt tar (reading
    stops; the samples read so far are kept, the one being read is dropped). A shard whose bytes cannot be got
    raises :class:`~tokzoo.data.shard_open.ShardUnavailable`.
    """
    key, files = "", {}
    limit = get_limits().shard_member_bytes
    try:
        with open_shard(url) as raw:
            f = _Counted(raw)
            with tarfile.open(fileobj=f, mode="r|") as tar:  # type: ignore[call-overload]
                for member in tar:
                    stem, dot, ext = posixpath.basename(member.name).partition(".")
                    if not member.isfile() or not stem or not dot:
                        continue
                    member_key = posixpath.join(posixpath.dirname(member.name), stem)
                    if member_key != key and files:
                        yield key, files
                        files = {}
                    key = member_key
                    if member.size > limit:
                        report_bad(f"{url}#{member.name}", f"member of {member.size:,} bytes exceeds the limit "
                                   f"shard_member_bytes={limit:,}", on_error)  # fmt: skip
                        continue
                    files[ext] = tar.extractfile(member).read()  # type: ignore[union-attr]  # isfile()
                while f.read(1 << 16):  # a complete tar has an end-of-archive block at tar.offset
                    pass
                if f.pos < tar.offset + tarfile.BLOCKSIZE:
                    raise tarfile.ReadError("file ends before the end-of-archive block")
    except _READ_ERRORS as e:
        report_bad(url, f"truncated or corrupt tar shard, stopped reading it ({e})", on_error)
        return
    if files:
        yield key, files


class _Counted:
    """A ``read``-only view of a stream that counts the bytes read (a non-seekable stream has no ``tell``)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.pos = raw, 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.pos += len(data)
        return data


class ShardImages:
    """Iterable of ``(key, image)`` over shards: the first member whose extension is in ``image_exts``
    is decoded to HxWx3 uint8.

    Samples without an image or whose image does not decode, and truncated shards, are reported
    (``tokzoo.data`` logger and ``on_error``), collected in ``bad`` (reset at each iteration) and
    skipped; iteration never raises for bad data. A missing shard raises DataError at construction.
    """

    def __init__(
        self,
        urls: str | list[str],
        image_exts: tuple[str, ...] = ("jpg", "jpeg", "png", "webp", "avif"),
        *,
        on_error: OnError | None = None,
    ) -> None:
        self.paths = shard_paths(urls)
        self.image_exts = tuple(e.lower().lstrip(".") for e in image_exts)
        self.on_error = on_error
        self.bad: list[tuple[str, str]] = []

    def _report(self, where: str, reason: str) -> None:
        self.bad.append((where, reason))
        if self.on_error is not None:
            self.on_error(where, reason)

    def __iter__(self) -> Iterator[tuple[str, np.ndarray]]:
        self.bad = []
        for path in self.paths:
            for key, files in _iter_shard(path, self._report):
                by_ext = {ext.lower(): ext for ext in files}
                ext = next((by_ext[e] for e in self.image_exts if e in by_ext), None)
                where = f"{path}:{key}" if ext is None else f"{path}:{key}.{ext}"
                if ext is None:
                    report_bad(where, f"no image member (has {', '.join(files)})", self._report)
                    continue
                try:
                    image = load_image(files[ext], name=where)
                except DataError as e:
                    report_bad(where, reason_of(e, where), self._report)
                    continue
                yield key, image
