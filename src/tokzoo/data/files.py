"""The files a list of paths names: each a file, or a folder searched recursively by suffix."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from tokzoo.core.errors import DataError


def collect_files(data: Iterable[str | Path], suffixes: tuple[str, ...]) -> list[Path]:
    """Files named in ``data``: each a file, or a folder searched recursively for ``suffixes``.

    A named file or folder that does not exist, a named file of another type, or nothing found is a
    DataError; files of other types inside a folder are ignored. Sorted within a folder, without repeats.
    """
    files: list[Path] = []
    for item in data:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in suffixes and p.is_file())
            if not found:
                raise DataError(f"{path}: no {'/'.join(suffixes)} files in this folder")
            files += found
        elif path.is_file():
            if path.suffix.lower() not in suffixes:
                raise DataError(f"{path}: not a {'/'.join(suffixes)} file")
            files.append(path)
        else:
            raise DataError(f"{path}: no such file or folder")
    return list(dict.fromkeys(files))


def hash_split(name: str) -> str:
    """``"test"`` for about 10 % of names, ``"train"`` for the others: the first 32 bits of the SHA-256 of
    ``name``, modulo 10, are 0 for test. Used to split real collections by source model."""
    return "test" if int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 10 == 0 else "train"
