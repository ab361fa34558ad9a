"""Progressive joint image-video training: which source each step's batch comes from.

"OmniTokenizer: A Joint Image-Video Tokenizer for Visual Generation" (Wang et al., 2024) trains one tokenizer
on images first, then on images and videos jointly. With ``image_data`` set, steps ``0 .. image_steps - 1``
take an image batch (stage 1); after them every ``image_every``-th step takes an image batch and the others a
batch of ``data`` (stage 2; ``image_every = 0``: no images after stage 1). The source of a step is a pure
function of the step, and each source's sampler counts only its own steps, so batches stay a pure function of
(seed, step) and a resumed run sees what an uninterrupted one sees.
"""

from __future__ import annotations

from tokzoo.train.config import TrainConfig

IMAGE, DATA = "image", "data"


def source_at(step: int, cfg: TrainConfig) -> str:
    """``"image"`` when global step ``step`` trains on ``cfg.image_data``, else ``"data"``."""
    if not cfg.image_data:
        return DATA
    if step < cfg.image_steps:
        return IMAGE
    every = cfg.image_every
    return IMAGE if every and (step - cfg.image_steps) % every == every - 1 else DATA


def source_steps(step: int, cfg: TrainConfig, source: str) -> int:
    """How many of the global steps before ``step`` took their batch from ``source``."""
    if not cfg.image_data:
        return step if source == DATA else 0
    return sum(source_at(s, cfg) == source for s in range(step))
