"""Dynamic occupancy scenes (I²-World-style intra / inter tokens): a scene generator over real models, scene
files, IoU / mIoU, and the ``scene-ii-msrq`` / ``scene-frame-msrq`` tokenizers (``docs/scenes.md``)."""

from tokzoo.scenes import modality  # noqa: F401  (registers the scenes modality)
from tokzoo.scenes.generate import CLASSES, generate_scene
from tokzoo.scenes.metrics import confusion, iou_scores
from tokzoo.scenes.tokenizer import SceneConfig, SceneTokenizer
from tokzoo.scenes.voxelize import voxelize

__all__ = [
    "CLASSES",
    "SceneConfig",
    "SceneTokenizer",
    "confusion",
    "generate_scene",
    "iou_scores",
    "voxelize",
]
