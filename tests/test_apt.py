"""Debian package cache: fetch once, reuse, clear errors."""

from __future__ import annotations

import shutil

import pytest

from tokzoo.core.errors import DataError
from tokzoo.data.apt import debian_package

needs_apt = pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get")


@needs_apt
def test_package_is_unpacked_once_and_cached(tmp_path):
    root = debian_package("wamerican", cache=tmp_path)
    words = (root / "usr/share/dict/american-english").read_text().splitlines()
    assert len(words) > 50_000 and "zebra" in words
    (root / "marker").write_text("kept")
    assert debian_package("wamerican", cache=tmp_path) == root
    assert (root / "marker").read_text() == "kept"  # second call reused the cache
    assert not [p for p in (tmp_path / "debian").iterdir() if p.name.startswith(".")]  # no scratch left


@needs_apt
def test_unknown_package_names_the_package(tmp_path):
    with pytest.raises(DataError, match="no-such-package-xyz"):
        debian_package("no-such-package-xyz", cache=tmp_path)
    assert not (tmp_path / "debian" / "no-such-package-xyz").exists()
