"""Debian packages as offline data: download with ``apt-get download``, unpack with ``dpkg -x``, cache.

Nothing is installed and no root is needed. Each package is unpacked once into
``$TOKZOO_CACHE/debian/<package>/root`` (default cache: ``~/.cache/tokzoo``); the unpack happens in a
scratch folder that is renamed into place, so a killed download never leaves a half-filled cache entry.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tokzoo.core.errors import DataError

__all__ = ["cache_dir", "debian_package", "unpack_package"]


def cache_dir() -> Path:
    """tokzoo's download cache: ``$TOKZOO_CACHE`` or ``~/.cache/tokzoo``."""
    env = os.environ.get("TOKZOO_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "tokzoo"


def _run(cmd: list[str], cwd: Path, package: str) -> None:
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        raise DataError(f"{package}: {cmd[0]} not found (needs a Debian-based system with apt)") from e
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or [f"exit status {done.returncode}"]
        raise DataError(f"{package}: {' '.join(cmd[:2])} failed: {lines[-1]}")


def unpack_package(package: str, workdir: Path) -> Path:
    """``apt-get download`` then ``dpkg -x`` ``package`` under ``workdir/package``; returns the root.

    The ``.deb`` stays in ``workdir/package``. DataError (naming the package and the failing command)
    when apt or dpkg is missing or fails.
    """
    pkg_dir = workdir / package
    shutil.rmtree(pkg_dir, ignore_errors=True)
    pkg_dir.mkdir(parents=True)
    _run(["apt-get", "download", package], pkg_dir, package)
    debs = sorted(pkg_dir.glob("*.deb"))
    if not debs:
        raise DataError(f"{package}: apt-get download produced no .deb file")
    _run(["dpkg", "-x", str(debs[0]), "root"], pkg_dir, package)
    return pkg_dir / "root"


def debian_package(package: str, cache: str | os.PathLike[str] | None = None) -> Path:
    """Unpacked file tree of Debian ``package`` (its ``/`` as a folder), fetched once and cached.

    Returns ``<cache>/debian/<package>/root``; e.g. ``debian_package("wamerican") / "usr/share/dict/words"``.
    """
    base = (Path(cache) if cache is not None else cache_dir()) / "debian"
    final = base / package
    if (final / "root").is_dir():
        return final / "root"
    base.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{package}-", dir=base))
    try:
        unpack_package(package, scratch)
        try:
            os.rename(scratch / package, final)
        except OSError:  # another process won the race: use its copy
            if not (final / "root").is_dir():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return final / "root"
