"""Dynamic occupancy scenes built from real models: a floor, static furniture and moving objects, voxelised.

Our small-scale stand-in for the driving scenes of I²-World ("I²-World: Intra-Inter Tokenization for Efficient
Dynamic 4D Scene Forecasting", 2025): a scene is ``frames`` grids of ``size``³ voxels (X, Y, Z; Z up) holding a
class per voxel — 0 free, 1 floor (the layer z = 0), 2 static object, 3 moving object. Objects are models of the
Debian collection voxelised at 5-8 voxels per model unit (a minetest node), turned by quarter turns, standing on
the floor; moving objects follow a trajectory (random speed, heading and turn rate, positions rounded to whole
voxels, leaving the grid allowed) and are drawn over the static ones. A scene is a pure function of its seed and
the list of model files, and its manifest records every choice.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from tokzoo.scenes.voxelize import voxelize_file

__all__ = ["CLASSES", "FREE", "generate_scene"]

CLASSES = ("free", "floor", "static", "moving")
FREE, FLOOR, STATIC, MOVING = range(4)


def _paint(grid: np.ndarray, obj: np.ndarray, x: int, y: int, value: int) -> None:
    """Set the voxels of ``obj`` standing on the floor with its corner at (x, y) to ``value`` (clipped)."""
    sx, sy, sz = obj.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + sx, grid.shape[0]), min(y + sy, grid.shape[1])
    z1 = min(1 + sz, grid.shape[2])
    if x0 >= x1 or y0 >= y1 or z1 <= 1:
        return
    part = obj[x0 - x : x1 - x, y0 - y : y1 - y, : z1 - 1]
    grid[x0:x1, y0:y1, 1:z1][part] = value


def generate_scene(
    files: list[Path], seed: int, *, size: int = 32, frames: int = 8
) -> tuple[np.ndarray, dict[str, Any]]:
    """(occupancy (frames, size, size, size) uint8 class ids, manifest entry) of scene ``seed``: 3-6 static
    and 2-4 moving objects drawn from ``files``."""
    rng = np.random.default_rng(seed)
    objects: list[dict[str, Any]] = []
    for cls, count in ((STATIC, int(rng.integers(3, 7))), (MOVING, int(rng.integers(2, 5)))):
        for _ in range(count):
            path = files[int(rng.integers(len(files)))]
            vpu, turns = int(rng.integers(5, 9)), int(rng.integers(4))
            sx, sy, _ = voxelize_file(path, vpu, turns).shape
            x, y = rng.uniform(0, max(size - sx, 0)), rng.uniform(0, max(size - sy, 0))
            speed, heading, turn = rng.uniform(0.75, 1.5), rng.uniform(0, 2 * math.pi), rng.uniform(-0.3, 0.3)
            track = []
            for _ in range(frames):
                track.append([round(x), round(y)])
                if cls == MOVING:
                    x, y, heading = (
                        x + speed * math.cos(heading),
                        y + speed * math.sin(heading),
                        heading + turn,
                    )
            objects.append({"file": path.name, "class": CLASSES[cls], "voxels_per_unit": vpu,
                            "quarter_turns": turns, "track": track, "_path": path})  # fmt: skip
    grid = np.zeros((frames, size, size, size), dtype=np.uint8)
    grid[:, :, :, 0] = FLOOR
    for t in range(frames):
        for obj in objects:
            vox = voxelize_file(obj["_path"], obj["voxels_per_unit"], obj["quarter_turns"])
            _paint(grid[t], vox, *obj["track"][t], CLASSES.index(obj["class"]))
    entry = {"seed": seed, "size": size, "frames": frames,
             "objects": [{k: v for k, v in o.items() if k != "_path"} for o in objects]}  # fmt: skip
    return grid, entry
