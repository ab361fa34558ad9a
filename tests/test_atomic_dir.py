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
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as live_writer:
        live = tmp_path / f".model.{live_writer.pid}.xyz.tmp"  # a writer that still runs: left alone
        live.mkdir()
        write(tmp_path / "model", "new")
        assert not stale.exists() and live.exists()
        live_writer.kill()


def test_a_live_writer_between_its_renames_is_left_alone(tmp_path):
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as writer:
        aside = tmp_path / f".model.{writer.pid}.old"
        aside.mkdir()
        recover_directory(tmp_path / "model")
        assert aside.is_dir() and not (tmp_path / "model").exists()
        writer.kill()
    recover_directory(tmp_path / "model")  # the writer is gone: its set-aside folder comes back
    assert (tmp_path / "model").is_dir() and not aside.exists()


def test_a_failed_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    from tokzoo.core import atomic

    model = tmp_path / "model"
    write(model, "old")
    real = os.replace

    def failing(src, dst):
        if str(src).endswith(".tmp"):
            raise OSError("disk full")
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", failing)
    with pytest.raises(OSError, match="disk full"):
        write(model, "new")
    assert (model / "data.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
