"""Checks on output paths before anything is computed: never an input, and no folders made unasked.

``tokzoo encode`` / ``decode`` refuse ``-o`` equal to an input, and an ``-o`` whose folder does not exist unless
``--parents`` is given. ``tokzoo eval``'s ``--out`` / ``--report`` / ``--grid`` name where results go: their
folders are created (only once everything is measured), but they must not be inputs either. A mistyped
``-o`` folder is thus an error, not a new folder tree.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from tokzoo.core.errors import DataError

__all__ = ["check_output"]


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def check_output(
    out: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]], *, parents: bool
) -> Path:
    """``out`` as a Path, after refusing it if it is one of ``inputs`` and, unless ``parents`` (the writer then
    creates the folder, once it has something to write), if its folder does not exist."""
    out = Path(out)
    for src in inputs:
        if _same(out, Path(src)):
            raise DataError(
                f"{out}: the output is also an input; refusing to overwrite it (choose another -o)"
            )
    if not parents and not out.parent.is_dir():
        raise DataError(f"{out.parent}: folder does not exist (create it, or pass --parents)")
    return out
