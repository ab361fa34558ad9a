"""Opening a WebDataset shard URL as a bounded byte stream: local paths, ``file:``, ``http(s)://`` and ``pipe:``.

Every read is bounded: a shard may not exceed the limit ``shard_bytes`` (checked from the size a local file or
an HTTP ``Content-Length`` declares before reading, and again while streaming), and a remote read that gets no
data for ``shard_timeout_s`` seconds fails. Failures to *get* the bytes (missing file, HTTP error, timeout,
a ``pipe:`` command that fails, a size limit) raise :class:`ShardUnavailable`, distinct from corrupt *content*
(which the tar reader reports): a job may retry the former and record the latter. gzip, bzip2 and xz shards
are decompressed by magic number.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import http.client
import io
import lzma
import os
import select
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from tokzoo.core.errors import DataError, LimitError
from tokzoo.core.limits import check_limit, get_limits

__all__ = ["ShardUnavailable", "is_shard_url", "local_path", "open_shard"]

_REMOTE = ("http://", "https://", "pipe:")


class ShardUnavailable(DataError):
    """A shard's bytes could not be read (I/O, network, timeout, failed command, size limit): retry-able."""


def is_shard_url(spec: str) -> bool:
    """Whether ``spec`` names WebDataset shards (a URL, ``pipe:``/``file:``, a brace pattern or a .tar file)
    rather than a file or folder of inputs."""
    return (
        spec.startswith((*_REMOTE, "file:"))
        or "{" in spec
        or spec.lower().endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"))
    )


def local_path(url: str) -> str | None:
    """The file a local shard URL names (``file:`` stripped); None for ``http(s)://`` and ``pipe:``."""
    if url.startswith(_REMOTE):
        return None
    return url.removeprefix("file://") if url.startswith("file://") else url.removeprefix("file:")


class _Bounded(io.RawIOBase):
    """A raw stream over ``read_into`` that fails once more than the ``shard_bytes`` limit was read and turns
    every I/O error into :class:`ShardUnavailable`."""

    def __init__(self, url: str, read_into: Callable[[memoryview], int], close: Callable[[], None]) -> None:
        self.url, self._read_into, self._close = url, read_into, close
        self.count, self.limit = 0, get_limits().shard_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        try:
            n = self._read_into(memoryview(b).cast("B"))
        except (OSError, http.client.HTTPException, subprocess.SubprocessError) as e:
            raise ShardUnavailable(f"{self.url}: read failed ({e or type(e).__name__})") from None
        self.count += n
        if self.count > self.limit:
            raise ShardUnavailable(
                f"{self.url}: more than shard_bytes={self.limit:,} bytes (raise it with tokzoo --limit shard_bytes=N)"
            )
        return n

    def close(self) -> None:
        if not self.closed:
            self._close()
        super().close()


def _declared(url: str, size: int | None) -> None:
    if size is not None:
        try:
            check_limit(url, "shard_bytes", size, "shard size")
        except LimitError as e:
            raise ShardUnavailable(str(e)) from None


def _open_file(url: str, path: str) -> _Bounded:
    try:
        _declared(url, os.path.getsize(path))
        f = open(path, "rb")  # noqa: SIM115  # closed by the _Bounded stream
    except OSError as e:
        raise ShardUnavailable(f"{url}: cannot open shard ({e.strerror or e})") from None
    return _Bounded(url, f.readinto, f.close)


def _open_http(url: str, timeout: float) -> _Bounded:
    try:
        response = urllib.request.urlopen(url, timeout=timeout)  # http(s) only, checked by caller
    except urllib.error.HTTPError as e:
        raise ShardUnavailable(f"{url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise ShardUnavailable(f"{url}: cannot fetch shard ({reason})") from None
    length = response.headers.get("Content-Length")
    _declared(url, int(length) if length and length.isdigit() else None)
    return _Bounded(url, response.readinto, response.close)


def _open_pipe(url: str, timeout: float) -> _Bounded:
    """``pipe:CMD``: the standard output of the shell command CMD (a non-zero exit status fails the read)."""
    command = url.removeprefix("pipe:")
    proc = subprocess.Popen(command, shell=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    fd = proc.stdout.fileno()  # type: ignore[union-attr]  # stdout=PIPE

    def read_into(b: memoryview) -> int:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise TimeoutError(f"no data for {timeout:g} s (shard_timeout_s)")
        n = os.readv(fd, [b])
        if n == 0 and proc.wait(timeout=timeout) != 0:
            raise OSError(f"command exited with status {proc.returncode}")
        return n

    def close() -> None:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]

    return _Bounded(url, read_into, close)


@contextlib.contextmanager
def open_shard(url: str) -> Iterator[BinaryIO]:
    """A context giving a readable, decompressed byte stream of the shard ``url``; ShardUnavailable when the shard
    cannot be opened or read within the limits ``shard_bytes`` and ``shard_timeout_s``."""
    timeout = float(get_limits().shard_timeout_s)
    if url.startswith(("http://", "https://")):
        raw = _open_http(url, timeout)
    elif url.startswith("pipe:"):
        raw = _open_pipe(url, timeout)
    else:
        raw = _open_file(url, local_path(url) or "")
    with io.BufferedReader(raw, 1 << 16) as stream:
        magic = stream.peek(6)[:6]
        if magic.startswith(b"\x1f\x8b"):
            with gzip.GzipFile(fileobj=stream, mode="rb") as f:
                yield f  # type: ignore[misc]
        elif magic.startswith(b"BZh"):
            with bz2.BZ2File(stream, "rb") as f:
                yield f  # type: ignore[misc]
        elif magic.startswith(b"\xfd7zXZ\x00"):
            with lzma.LZMAFile(stream, "rb") as f:
                yield f  # type: ignore[misc]
        else:
            yield stream  # type: ignore[misc]
