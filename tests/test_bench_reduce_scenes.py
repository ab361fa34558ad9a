"""benchmarks/reduce_scenes.py: the multi-view scenes' tokens, their 3-D points and depth validity (the benchmark
itself runs under `make bench`)."""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import reduce_scenes


def test_depth_validity_marks_sky_and_far_ground_not_objects():
    data = reduce_scenes.multiview_qa(4, 3, seed=0)
    assert data["depth_valid"].shape == data["points"].shape[:2] and data["depth_valid"].dtype == torch.bool
    ok = data["depth_valid"]
    # every scene has located tokens, and tokens without valid depth (sky, far ground) in some view
    assert ok.any(1).all() and (~ok).any(1).all()
    # a located token's point is within the sensor's range of the scene, an unlocated one is not
    near = data["points"].norm(dim=-1) < 5.5 + reduce_scenes.RANGE
    assert near[ok].all()
    # tokens on a sphere's surface are always located (the objects lie within the sensor's range)
    gap = torch.cdist(data["centres"], data["points"]) - data["radii"][..., None]
    on_object = ((gap.abs() < 0.15) & (data["radii"] > 0)[..., None]).any(1)
    assert on_object.any() and ok[on_object].all()


def test_answers_match_the_scenes_for_every_question_type():
    data = reduce_scenes.multiview_qa(60, 2, seed=3)
    kinds, colours = data["question"][:, 0], data["question"][:, 1]
    present = data["radii"] > 0
    assert set(kinds.tolist()) == set(range(len(reduce_scenes.QUESTIONS)))
    assert ((data["answer"] >= 0) & (data["answer"] < reduce_scenes.ANSWERS)).all()
    total = kinds == reduce_scenes.QUESTIONS.index("total")
    # "how many objects in all": no colour, answer class 12 + (count - 2) for 2..6 objects
    assert (colours[total] == reduce_scenes.ANY).all() and (colours[~total] < reduce_scenes.ANY).all()
    assert torch.equal(data["answer"][total], 4 + 2 + reduce_scenes.ANY + present[total].sum(1) - 2)
