"""Scene data: ``.npz`` scene files, folders of them with a manifest, and the generated training stream.

``data`` strings: ``homedecor:train`` (an endless stream of generated scenes over the training models),
``homedecor:test`` (a fixed set of 32 scenes over the held-out models, written once to the cache with its
manifest), or a ``.npz`` file / folder. Models are split by name (:func:`tokzoo.data.files.hash_split`, the rule
the point-cloud data uses), so no held-out model appears in a training scene.

A scene file is an ``.npz`` with one array ``occupancy`` (T, X, Y, Z) of uint8 class ids (Z up).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from tokzoo.core.atomic import atomic_directory, atomic_write_bytes
from tokzoo.core.errors import DataError
from tokzoo.data.apt import cache_dir, debian_package
from tokzoo.data.files import collect_files, hash_split
from tokzoo.data.seeding import derive_seed
from tokzoo.scenes.generate import CLASSES, generate_scene

__all__ = [
    "SUFFIXES", "SceneDataset", "model_files", "read_scene", "scene_files", "write_scene", "write_scenes",
]  # fmt: skip

SUFFIXES = (".npz",)
_PACKAGE, _FOLDER = "minetest-mod-homedecor", "usr/share/games/minetest/mods"
#: Scenes in the fixed held-out set (``homedecor:test``) and its format version (bump when generation changes).
TEST_SCENES, _VERSION = 32, 1
#: Nominal length of the generated training stream (one epoch of the trainer's sampler).
STREAM_LENGTH = 4096


def model_files(split: str | None = None) -> list[Path]:
    """The homedecor OBJ models (Debian ``minetest-mod-homedecor``), all or one split (``train``/``test``)."""
    if split not in (None, "train", "test"):
        raise DataError(f"homedecor:{split}: the split must be train or test")
    files = sorted((debian_package(_PACKAGE) / _FOLDER).glob("**/*.obj"))
    return [f for f in files if split is None or hash_split(f.name) == split]


def read_scene(path: Path) -> np.ndarray:
    """The (T, X, Y, Z) uint8 class ids of a scene file; DataError naming the file and the problem."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            if "occupancy" not in z.files:
                raise DataError(f"{path}: no 'occupancy' array (has {', '.join(z.files) or 'none'})")
            occ = z["occupancy"]
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path}: cannot read as a scene .npz ({e})") from None
    if occ.ndim != 4 or min(occ.shape) < 1:
        raise DataError(f"{path}: occupancy must be (T, X, Y, Z), got shape {occ.shape}")
    if occ.dtype.kind not in "iu" or occ.min() < 0 or occ.max() >= len(CLASSES):
        raise DataError(f"{path}: occupancy must hold class ids 0..{len(CLASSES) - 1}")
    return occ.astype(np.uint8)


def write_scene(occupancy: np.ndarray, path: Path) -> None:
    """Write one scene (T, X, Y, Z) of class ids as a compressed ``.npz`` (atomic)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, occupancy=np.asarray(occupancy, dtype=np.uint8))
    atomic_write_bytes(Path(path), buf.getvalue())


def write_scenes(folder: Path, split: str, count: int, *, seed: int = 0, frames: int = 8) -> Path:
    """Generate ``count`` scenes over the ``split`` models into ``folder`` (``scene_NNNN.npz``) with a
    ``manifest.json`` (package, models, per-scene seed and objects); atomic: the folder appears complete."""
    files = model_files(split)
    entries = []
    with atomic_directory(folder) as tmp:
        for i in range(count):
            occ, entry = generate_scene(files, derive_seed(seed, i), frames=frames)
            write_scene(occ, tmp / f"scene_{i:04d}.npz")
            entries.append({"file": f"scene_{i:04d}.npz", **entry})
        manifest = {"format": "tokzoo-scenes", "version": _VERSION, "package": _PACKAGE, "split": split,
                    "classes": list(CLASSES), "models": [f.name for f in files], "scenes": entries}  # fmt: skip
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return Path(folder)


def scene_files(spec: str) -> list[Path]:
    """The scene files a ``data`` string names (``homedecor:test`` is written to the cache on first use)."""
    if spec == "homedecor:test":
        folder = cache_dir() / "scenes" / f"homedecor-test-v{_VERSION}"
        if not (folder / "manifest.json").is_file():
            write_scenes(folder, "test", TEST_SCENES, seed=1)
        return sorted(folder.glob("scene_*.npz"))
    return collect_files([spec], SUFFIXES)


class SceneDataset(Dataset):
    """Scenes as (T, X, Y, Z) int64 class tensors: generated over the models of a split (item ``(i,
    sample_seed)`` is a pure function of ``(seed, i, sample_seed)``, a fresh scene each epoch) or read from files."""

    def __init__(self, spec: str, seed: int = 0) -> None:
        name, _, split = spec.partition(":")
        self.seed, self.models, self.files = seed, [], []
        if name == "homedecor" and split != "test":
            self.models = model_files(split or None)
        else:
            self.files = scene_files(spec)
        if not self.models and not self.files:
            raise DataError(f"{spec}: no scenes to train on")

    def __len__(self) -> int:
        return STREAM_LENGTH if self.models else len(self.files)

    def __getitem__(self, item: int | tuple[int, int]) -> torch.Tensor:
        i, sample_seed = item if isinstance(item, tuple) else (item, 0)
        if self.models:
            occ = generate_scene(self.models, derive_seed(self.seed, i, sample_seed))[0]
        else:
            occ = read_scene(self.files[i])
        return torch.from_numpy(occ.astype(np.int64))
