"""The scenes modality plugin: occupancy clips (B, T, X, Y, Z) of class ids; ``.npz`` scene files; generated
training scenes over the Debian model collection (:mod:`tokzoo.scenes.data`)."""

from __future__ import annotations

from typing import Any

from tokzoo.core.modality import Modality, register_modality
from tokzoo.core.tokens import Tokens
from tokzoo.scenes.data import SUFFIXES, SceneDataset


def scenes_dataset(spec: str, size: int | None = None, *, seed: int = 0, **_: Any) -> SceneDataset:
    """Scenes of ``spec``: ``homedecor:train`` (generated), ``homedecor:test``, or ``.npz`` files / folders."""
    return SceneDataset(spec, seed)


def _evaluator() -> Any:
    from tokzoo.bench.eval_files import FileEvaluator
    from tokzoo.scenes.evaluate import DEFAULT_DATA, default_files, evaluate

    return FileEvaluator(SUFFIXES, DEFAULT_DATA, default_files, evaluate)


def _rate(x: Any, tokens: Tokens) -> str:
    frames = tokens.shape[0] if tokens.shape else 1
    return f"{tokens.num_tokens / frames:.1f} tokens per frame, {tokens.nbits() / frames:.0f} bits per frame"


SCENES = register_modality(
    Modality(
        name="scenes",
        data="occupancy clips (B, T, X, Y, Z) of class ids in, (T, X, Y, Z) uint8 per scene out",
        suffixes=SUFFIXES,
        dataset=scenes_dataset,
        evaluator=_evaluator,
        rate=_rate,
    )
)
