"""Procedural multi-view 3-D QA data for benchmarks/reduce.py.

A scene is 2–6 coloured spheres resting on a checkered ground plane, seen by V posed pinhole cameras on a ring
around it (random start azimuth, equal spacing, looking at the centre). Each view is ray-cast exactly (RGB and
depth); each 8 × 8 patch becomes one token whose 3-D point is the mean of its pixels' back-projected world points,
and whose depth counts as valid when most of its pixels lie within a depth sensor's range (``RANGE``: the sky
and the far ground do not).
Questions, one per scene: how many objects of colour c (0, 1, 2, 3+), is there an object of colour c (yes/no),
which colour is the object nearest to the (only) object of colour c, and how many objects are there in all
(2–6: the one question no colour points to, so a pruned model answers it only if the kept tokens cover the
whole scene once, which is what cross-view sampling is for).
"""

from __future__ import annotations

import numpy as np
import torch

COLOURS = np.array([[1, 0, 0], [0, 0.8, 0], [0, 0.3, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1]], dtype=np.float32)
QUESTIONS = ("count", "exists", "nearest", "total")
ANY = len(COLOURS)  # the colour slot of a question about no colour ("total")
ANSWERS = 4 + 2 + len(COLOURS) + 5  # counts 0..3+, no/yes, colours, totals 2..6
FAR = 30.0
RANGE = 10.0  # a depth sensor's range; the scene lies within ~8.5 of every camera


def _scene(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(centres (K, 3), radii (K,), colour ids (K,)) of non-overlapping spheres on the ground."""
    centres, radii = [], []
    count = int(rng.integers(2, 7))
    while len(centres) < count:
        r = rng.uniform(0.35, 0.7)
        c = np.array([rng.uniform(-2.2, 2.2), r, rng.uniform(-2.2, 2.2)])
        if all(np.linalg.norm(c - o) > r + q + 0.1 for o, q in zip(centres, radii, strict=True)):
            centres.append(c)
            radii.append(r)
    return np.array(centres), np.array(radii), rng.integers(0, len(COLOURS), count)


def _cameras(views: int, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """(position, 3×3 world-from-camera rotation) per view; the camera looks down its +z axis."""
    start = rng.uniform(0, 2 * np.pi)
    cams = []
    for v in range(views):
        a = start + 2 * np.pi * v / views
        pos = np.array([5.5 * np.cos(a), rng.uniform(2.5, 3.5), 5.5 * np.sin(a)])
        forward = -pos / np.linalg.norm(pos)
        right = np.cross(forward, [0.0, 1.0, 0.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, forward)
        cams.append((pos, np.stack([right, -up, forward], 1)))
    return cams


def _render(cam, centres, radii, colours, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(size, size, 3) RGB, (size, size, 3) world points and (size, size) ray depths of one view."""
    pos, rot = cam
    f = size / 2 / np.tan(np.radians(30))
    px = (np.arange(size) + 0.5 - size / 2) / f
    u, v = np.meshgrid(px, px)
    dirs = np.stack([u, v, np.ones_like(u)], -1) @ rot.T
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    t = np.full(u.shape, FAR)
    rgb = np.tile(np.array([0.55, 0.65, 0.8], dtype=np.float32), (size, size, 1))  # sky
    ground_t = np.where(dirs[..., 1] < -1e-6, -pos[1] / np.minimum(dirs[..., 1], -1e-6), np.inf)
    hit_ground = ground_t < t
    t = np.where(hit_ground, ground_t, t)
    gp = pos + dirs * t[..., None]
    checker = (np.floor(gp[..., 0]) + np.floor(gp[..., 2])) % 2
    rgb = np.where(hit_ground[..., None], (0.35 + 0.25 * checker)[..., None].repeat(3, -1), rgb)
    for c, r, k in zip(centres, radii, colours, strict=True):
        oc = pos - c
        b = (dirs * oc).sum(-1)
        disc = b * b - (oc @ oc - r * r)
        ts = -b - np.sqrt(np.maximum(disc, 0))
        hit = (disc > 0) & (ts > 0) & (ts < t)
        t = np.where(hit, ts, t)
        normal = (pos + dirs * ts[..., None] - c) / r
        shade = 0.5 + 0.5 * np.clip(normal @ np.array([0.3, 0.9, 0.3]), 0, 1)
        rgb = np.where(hit[..., None], COLOURS[k] * shade[..., None], rgb)
    return rgb.astype(np.float32), (pos + dirs * t[..., None]).astype(np.float32), t.astype(np.float32)


def _question(rng, colours, centres) -> tuple[int, int, int]:
    """(question type, colour, answer class)."""
    kind = int(rng.integers(0, len(QUESTIONS)))
    if kind == 3:
        return 3, ANY, 4 + 2 + len(COLOURS) + len(colours) - 2
    once = [c for c in range(len(COLOURS)) if (colours == c).sum() == 1]
    if kind == 2 and once:
        c = int(rng.choice(once))
        i = int(np.flatnonzero(colours == c)[0])
        d = np.linalg.norm(centres - centres[i], axis=1)
        d[i] = np.inf
        return 2, c, 6 + int(colours[int(d.argmin())])
    kind = kind % 2
    c = int(rng.integers(0, len(COLOURS)))
    n = int((colours == c).sum())
    return (0, c, min(n, 3)) if kind == 0 else (1, c, 4 + int(n > 0))


def multiview_qa(
    count: int, views: int, seed: int, size: int = 32, patch: int = 8
) -> dict[str, torch.Tensor]:
    """``count`` scenes: patches (S, V·T, patch²·3), points (S, V·T, 3), depth_valid (S, V·T) (most of the
    patch within ``RANGE``), question (S, 2), answer (S,), and the spheres: centres (S, 6, 3), radii (S, 6) (0
    for absent ones)."""
    rng = np.random.default_rng(seed)
    g = size // patch
    patches, points, located, questions, answers = [], [], [], [], []
    all_centres, all_radii = np.zeros((count, 6, 3), np.float32), np.zeros((count, 6), np.float32)
    for s in range(count):
        centres, radii, colours = _scene(rng)
        all_centres[s, : len(radii)], all_radii[s, : len(radii)] = centres, radii
        p_scene, x_scene, v_scene = [], [], []
        for cam in _cameras(views, rng):
            rgb, world, depth = _render(cam, centres, radii, colours, size)
            v_scene.append((depth < RANGE).reshape(g, patch, g, patch).mean((1, 3)).reshape(g * g) > 0.5)
            p_scene.append(rgb.reshape(g, patch, g, patch, 3).transpose(0, 2, 1, 3, 4).reshape(g * g, -1))
            x_scene.append(world.reshape(g, patch, g, patch, 3).mean((1, 3)).reshape(g * g, 3))
        kind, colour, answer = _question(rng, colours, centres)
        patches.append(np.concatenate(p_scene))
        points.append(np.concatenate(x_scene))
        located.append(np.concatenate(v_scene))
        questions.append((kind, colour))
        answers.append(answer)
    return {
        "patches": torch.from_numpy(np.stack(patches)),
        "points": torch.from_numpy(np.stack(points)),
        "depth_valid": torch.from_numpy(np.stack(located)),
        "question": torch.tensor(questions),
        "answer": torch.tensor(answers),
        "centres": torch.from_numpy(all_centres),
        "radii": torch.from_numpy(all_radii),
    }
