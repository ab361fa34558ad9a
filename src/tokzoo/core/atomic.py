"""Atomic file and directory writes: a reader sees the old version or the new one, never half of one."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    The file gets the usual permissions (0666 less the umask), not the private ones of a temporary file.
    """
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _aside(path: Path) -> Path:
    """Where this process sets the previous version of folder ``path`` while the new one is renamed in."""
    return path.with_name(f".{path.name}.{os.getpid()}.old")


def _writer_gone(leftover: Path, path: Path) -> bool:
    """Whether the process that named ``leftover`` (``.NAME.PID.*``) beside ``path`` no longer runs."""
    pid = leftover.name[len(path.name) + 2 :].split(".", 1)[0]
    if not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def recover_directory(path: str | Path) -> None:
    """Undo a replacement of folder ``path`` that a crash interrupted, and clean stale temporary folders.

    Only leftovers of writers that no longer run are touched (a live writer may be between its renames): a
    missing ``path`` gets its set-aside previous version back, a set-aside version beside a present ``path`` and
    hidden temporary folders are deleted.
    """
    path = Path(path).resolve()
    if not path.parent.is_dir():
        return
    name = glob.escape(path.name)
    for old in sorted(path.parent.glob(f".{name}.*.old")):
        if old.is_dir() and _writer_gone(old, path):
            if path.exists():
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(old, path)
                _fsync_dir(path.parent)
    for tmp in path.parent.glob(f".{name}.*.tmp"):
        if tmp.is_dir() and _writer_gone(tmp, path):
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Yield a hidden temporary folder beside ``path``; on success it replaces ``path``.

    The new folder is written completely, the old ``path`` is renamed aside, the new one renamed in, and only
    then is the old one deleted. A crash at any point leaves either the old or the new complete folder, or
    the old one set aside, which :func:`recover_directory` (run here first, and by checkpoint loading) puts
    back; temporary folders of crashed writers are cleaned the same way.
    """
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    recover_directory(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent))
    old = _aside(path)
    set_aside = False
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        for f in tmp.iterdir():
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        _fsync_dir(tmp)
        if path.exists():
            os.replace(path, old)
            set_aside = True
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        if set_aside and not path.exists():
            os.replace(old, path)  # the new folder did not arrive: the old one is back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if set_aside:
        shutil.rmtree(old, ignore_errors=True)
