"""Atomic folder replacement: a kill between the renames leaves the old or the new folder, recovered later."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tokzoo.core.atomic import atomic_directory, recover_directory

# Writes `new` into the folder at argv[1], killed (os._exit) right after os.replace call number argv[2].
CHILD = textwrap.dedent(
    """
    import os, sys
    from tokzoo.core import atomic
    real, calls = os.replace, []
    def replace(src, dst):
        real(src, dst)
        calls.append(dst)
        if len(calls) == int(sys.argv[2]):
            os._exit(9)
    atomic.os.replace = replace
    with atomic.atomic_directory(sys.argv[1]) as tmp:
        (tmp / "data.txt").write_text("new")
    """
)


def write(path: Path, text: str) -> None:
    with atomic_directory(path) as tmp:
        (tmp / "data.txt").write_text(text)


def killed_writer(path: Path, after_rename: int) -> None:
    run = subprocess.run([sys.executable, "-c", CHILD, str(path), str(after_rename)], timeout=60)
    assert run.returncode == 9


@pytest.mark.parametrize(("after_rename", "expected"), [(1, "old"), (2, "new")])
def test_kill_between_renames_leaves_a_complete_folder(tmp_path, after_rename, expected):
    model = tmp_path / "model"
    write(model, "old")
    killed_writer(model, after_rename)
    recover_directory(model)
    assert (model / "data.txt").read_text() == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # nothing hidden left behind


def test_kill_between_renames_is_recovered_by_loading_a_checkpoint(tmp_path):
    import tokzoo

    model = tmp_path / "model"
    tokzoo.create("mesh-amt-q7").save_pretrained(model)
    code = CHILD.replace('(tmp / "data.txt").write_text("new")', "pass")
    subprocess.run([sys.executable, "-c", code, str(model), "1"], timeout=60)
    assert not model.exists()
    assert tokzoo.load(model).registry_name == "mesh-amt-q7"


def test_stale_temp_folders_of_dead_writers_are_cleaned(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = tmp_path / f".model.{dead.stdout.strip()}.abc.tmp"
    stale.mkdir()
    live = tmp_path / f".model.{os.getpid()}.xyz.tmp"  # a writer that still runs: left alone
    live.mkdir()
    write(tmp_path / "model", "new")
    assert not stale.exists() and live.exists()
