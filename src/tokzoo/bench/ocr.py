"""OCR of known word boxes with two real engines: RapidOCR (PP-OCR) and Tesseract.

The boxes are known (the pages are rendered), so only the recogniser runs on each cropped box; no detector
decides what counts as text. Engines:

* ``rapidocr``: the PP-OCRv4 recogniser ("PP-OCRv3: More Attempts for the Improvement of Ultra Lightweight OCR
  System", Li et al., 2022; v4 is its successor) in ONNX form, shipped inside the ``rapidocr-onnxruntime``
  wheel (Apache-2.0; nothing is downloaded at run time).
* ``tesseract``: Tesseract's LSTM recogniser ("An Overview of the Tesseract OCR Engine", Smith, 2007) in
  single-line mode through ``pytesseract``; needs the ``tesseract`` binary (``apt-get install tesseract-ocr``).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from PIL import Image

from tokzoo.core.errors import ConfigError, DataError

Box = tuple[int, int, int, int]

ENGINES = ("rapidocr", "tesseract")

TESSERACT_HINT = "apt-get install tesseract-ocr (and pip install pytesseract==0.3.13)"
RAPIDOCR_HINT = "pip install rapidocr-onnxruntime==1.4.4 (or pip install -e '.[ocr]')"

TESSERACT_HEIGHT = 64
"""Crops are scaled to this height (bicubic) for Tesseract, which reads best at about 30 px x-height."""


def _as_uint8_images(images: torch.Tensor | Sequence[np.ndarray]) -> list[np.ndarray]:
    if isinstance(images, torch.Tensor):
        if images.ndim != 4 or images.shape[1] != 3:
            raise DataError(f"expected images of shape (N, 3, H, W), got {tuple(images.shape)}")
        arr = (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)
        return list(arr.permute(0, 2, 3, 1).cpu().numpy())
    out = []
    for i, img in enumerate(images):
        a = np.asarray(img)
        if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
            raise DataError(f"image {i}: expected an HxWx3 uint8 array, got {a.dtype} {a.shape}")
        out.append(a)
    return out


def crop_boxes(image: np.ndarray, boxes: Sequence[Box]) -> list[np.ndarray]:
    """The HxWx3 crops of ``image`` inside each (x0, y0, x1, y1) box (clipped to the image)."""
    h, w = image.shape[:2]
    crops = []
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 <= x0 or y1 <= y0:
            raise DataError(f"box {i} ({x0}, {y0}, {x1}, {y1}) is empty inside a {w}x{h} image")
        crops.append(image[y0:y1, x0:x1])
    return crops


@lru_cache(maxsize=1)
def _rapidocr() -> Any:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as e:
        raise DataError(f"OCR engine 'rapidocr' is not installed: {RAPIDOCR_HINT}") from e
    return RapidOCR(rec_batch_num=16, intra_op_num_threads=torch.get_num_threads())


def read_rapidocr(crops: Sequence[np.ndarray]) -> list[str]:
    """Text of each RGB uint8 crop read by RapidOCR's recogniser alone (no detection, no rotation step)."""
    if not crops:
        return []
    engine = _rapidocr()
    bgr = [np.ascontiguousarray(c[:, :, ::-1]) for c in crops]  # the PP-OCR models read BGR (OpenCV) order
    results, _ = engine.text_rec(bgr)
    return [text for text, _score in results]


def tesseract_available() -> bool:
    """Whether both the ``tesseract`` binary and ``pytesseract`` are installed."""
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return False
    return shutil.which("tesseract") is not None


def read_tesseract(crops: Sequence[np.ndarray]) -> list[str]:
    """Text of each RGB uint8 crop read by Tesseract (``--psm 7``: one line of text), English model."""
    if not tesseract_available():
        raise DataError(f"OCR engine 'tesseract' is not installed: {TESSERACT_HINT}")
    import pytesseract

    out = []
    for crop in crops:
        img = Image.fromarray(crop).convert("L")
        scale = TESSERACT_HEIGHT / img.height
        img = img.resize((max(1, round(img.width * scale)), TESSERACT_HEIGHT), Image.Resampling.BICUBIC)
        out.append(pytesseract.image_to_string(img, lang="eng", config="--psm 7").strip())
    return out


def read_crops(crops: Sequence[np.ndarray], engine: str = "rapidocr") -> list[str]:
    """Text of each RGB uint8 crop, read by ``engine`` (one of ``ENGINES``)."""
    if engine == "rapidocr":
        return read_rapidocr(crops)
    if engine == "tesseract":
        return read_tesseract(crops)
    raise ConfigError(f"unknown OCR engine {engine!r}; valid engines: {', '.join(ENGINES)}")


def ocr_read(
    images: torch.Tensor | Sequence[np.ndarray], boxes: Sequence[Sequence[Box]], engine: str = "rapidocr"
) -> list[list[str]]:
    """Read the text inside each known box of each image.

    ``images``: a (N, 3, H, W) float batch in [0, 1] (rounded to uint8 first) or N HxWx3 uint8 arrays;
    ``boxes[i]``: the (x0, y0, x1, y1) boxes of image i. Returns, per image, the strings in box order.
    All crops go to the engine in one call (RapidOCR batches them).
    """
    arrays = _as_uint8_images(images)
    if len(arrays) != len(boxes):
        raise DataError(f"{len(arrays)} images but boxes for {len(boxes)}")
    crops, counts = [], []
    for img, bxs in zip(arrays, boxes, strict=True):
        page_crops = crop_boxes(img, bxs)
        crops.extend(page_crops)
        counts.append(len(page_crops))
    texts = read_crops(crops, engine)
    out, start = [], 0
    for n in counts:
        out.append(texts[start : start + n])
        start += n
    return out
