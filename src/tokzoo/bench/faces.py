"""Face identity through a tokenizer: does the reconstructed face still belong to the same person?

Faces are detected on the original with dlib's HOG detector ("Histograms of Oriented Gradients for Human
Detection", Dalal & Triggs, 2005) and embedded with dlib's ResNet face descriptor through ``face_recognition``
(128-d, trained with a metric loss so that two photos of one person lie within Euclidean distance 0.6:
"Deep Residual Learning for Image Recognition", He et al., 2016; the library's documented threshold). The
original and the reconstruction are embedded at the same face box (from the original); we report the cosine
similarity and the share of faces still within 0.6 — per face-size bin, as TokBench ("TokBench: Evaluating
Your Visual Tokenizer before Visual Generation", 2025) does for faces.

Offline face photos (``FACE_PHOTOS``): scikit-image's ``astronaut`` (Eileen Collins, NASA, public domain),
matplotlib's ``grace_hopper.jpg`` (US Navy, public domain), and OpenCV's sample images ``messi5.jpg`` and
``basketball1.png`` from Debian's ``opencv-doc`` package. Each photo is cropped around its face so that the
face spans a chosen width on a size×size page (``FACE_WIDTHS``), i.e. at the tokenizer's input resolution.

Install (not a pip dependency: ``face_recognition`` requires ``dlib``, which pip would compile from source):
``FACE_INSTALL`` or ``make extras``. Landmarks use the 5-point model (CC0); the 68-point model shipped beside
it is not used (its training data carries a non-commercial licence).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from tokzoo.bench.text import Reconstructor, reconstruct
from tokzoo.core.errors import DataError
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.data.apt import debian_package
from tokzoo.data.decode import load_image

FACE_INSTALL = (
    "pip install --no-deps face_recognition==1.3.0 face_recognition_models==0.3.0 "
    "dlib-bin==20.0.1.post1 setuptools==80.9.0"
)
"""The exact install command (``make extras`` runs it); setuptools<81 keeps pkg_resources for the models."""

MATCH_DISTANCE = 0.6
"""face_recognition's standard threshold: embeddings closer than this are the same person."""

DETECTION_SCORE = 0.5
"""Minimum HOG detector score; on the photos below it separates faces (≥ 1.1) from a robot and a patch (≤ 0.13)."""

FACE_WIDTHS = (32, 64, 128)
"""Face widths in pixels on the page (the face-size bins)."""

FACE_PHOTOS: dict[str, tuple[str, str]] = {
    "astronaut": ("skimage", "data/astronaut.png"),
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
    "messi5": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/messi5.jpg"),
    "basketball1": ("opencv-doc", "usr/share/doc/opencv-doc/examples/data/basketball1.png"),
}
"""Photo name → (source: a Python package folder or a Debian package, file inside it)."""

Box = tuple[int, int, int, int]  # (left, top, right, bottom)


def face_modules() -> tuple[Any, Any]:
    """``(dlib, face_recognition)``, or DataError naming the install command when either is missing."""
    try:
        dlib = importlib.import_module("dlib")
        importlib.import_module("pkg_resources")
        importlib.import_module("face_recognition_models")  # face_recognition calls quit() without it
        face_recognition = importlib.import_module("face_recognition")
    except ImportError as e:
        raise DataError(f"face identity needs face_recognition ({e.name} is missing): {FACE_INSTALL}") from e
    return dlib, face_recognition


def face_photo_path(name: str) -> Path:
    """File of face photo ``name`` (a key of ``FACE_PHOTOS``); Debian files are fetched once and cached."""
    if name not in FACE_PHOTOS:
        raise DataError(f"unknown face photo {name!r}; known: {', '.join(FACE_PHOTOS)}")
    source, rel = FACE_PHOTOS[name]
    if source in {"skimage", "matplotlib"}:
        root = Path(os.path.dirname(importlib.import_module(source).__file__ or ""))
    else:
        root = debian_package(source)
    path = root / rel
    if not path.is_file():
        raise DataError(f"{path}: face photo {name!r} not found in {source}")
    return path


def face_photos(names: Sequence[str] = tuple(FACE_PHOTOS)) -> list[tuple[str, np.ndarray]]:
    """``(name, HxWx3 uint8)`` for the offline face photos."""
    return [(n, load_image(face_photo_path(n))) for n in names]


@lru_cache(maxsize=1)
def _detector() -> Any:
    dlib, _ = face_modules()
    return dlib.get_frontal_face_detector()


def detect_faces(image: np.ndarray, upsample: int = 1) -> list[Box]:
    """Face boxes (left, top, right, bottom) with detector score ≥ ``DETECTION_SCORE``, best first."""
    rects, scores, _ = _detector().run(np.ascontiguousarray(image), upsample, 0.0)
    found = sorted(zip(scores, rects, strict=True), key=lambda t: -t[0])
    h, w = image.shape[:2]
    return [
        (max(0, r.left()), max(0, r.top()), min(w, r.right()), min(h, r.bottom()))
        for s, r in found
        if s >= DETECTION_SCORE
    ]


def face_embeddings(image: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
    """(len(boxes), 128) face descriptors of ``image`` at the given boxes (5-point landmarks)."""
    _, fr = face_modules()
    locations = [(t, r, b, left) for left, t, r, b in boxes]
    enc = fr.face_encodings(np.ascontiguousarray(image), known_face_locations=locations, model="small")
    return np.stack(enc) if enc else np.zeros((0, 128))


@dataclass
class FacePage:
    """A size×size crop of a photo around one face, with the face box found on it."""

    name: str
    image: np.ndarray
    face_width: int
    box: Box


def _square_around(image: np.ndarray, box: Box, side: int) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    side = min(side, h, w)
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    x0 = int(np.clip(cx - side // 2, 0, w - side))
    y0 = int(np.clip(cy - side // 2, 0, h - side))
    return image[y0 : y0 + side, x0 : x0 + side], side


def face_pages(
    images: Sequence[tuple[str, np.ndarray]], size: int = 256, widths: Sequence[int] = FACE_WIDTHS
) -> tuple[list[FacePage], list[str]]:
    """Pages where each photo's best face spans about ``width`` px, for every width; and notes on skips.

    The face is detected on the full photo, the photo is cropped to a square around it and resized to
    ``size`` (bicubic), and the face is detected again on the page (the original the tokenizer sees): a
    page where that fails, or where the photo is too tight to shrink the face to within 1.5× of ``width``,
    is skipped and named in the notes.
    """
    pages, notes = [], []
    for name, img in images:
        found = detect_faces(img)
        if not found:
            notes.append(f"{name}: no face detected")
            continue
        box = found[0]
        for width in widths:
            crop, side = _square_around(img, box, round((box[2] - box[0]) * size / width))
            if (box[2] - box[0]) * size / side > 1.5 * width:
                notes.append(f"{name} at {width} px: the photo is too tight to make its face that small")
                continue
            page = np.asarray(Image.fromarray(crop).resize((size, size), Image.Resampling.BICUBIC))
            on_page = detect_faces(page, upsample=2 if width < 80 else 1)
            if not on_page:
                notes.append(f"{name} at {width} px: no face detected on the page")
                continue
            pages.append(FacePage(name, page, width, on_page[0]))
    return pages, notes


def _uint8(images: torch.Tensor | Sequence[np.ndarray]) -> list[np.ndarray]:
    if isinstance(images, torch.Tensor):
        arr = (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)
        return list(arr.permute(0, 2, 3, 1).cpu().numpy())
    return [np.asarray(a) for a in images]


def face_scores(
    pages: Sequence[FacePage], reconstructions: torch.Tensor | Sequence[np.ndarray]
) -> list[dict[str, Any]]:
    """Per page: cosine similarity and Euclidean distance of the face embeddings, and whether they match."""
    recs = _uint8(reconstructions)
    if len(recs) != len(pages):
        raise DataError(f"{len(recs)} reconstructions for {len(pages)} face pages")
    out = []
    for page, rec in zip(pages, recs, strict=True):
        a = face_embeddings(page.image, [page.box])[0]
        b = face_embeddings(rec, [page.box])[0]
        cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
        dist = float(np.linalg.norm(a - b))
        out.append({"name": page.name, "face_width": page.face_width, "cosine": cos, "distance": dist,
                    "matched": dist < MATCH_DISTANCE})  # fmt: skip
    return out


@dataclass
class FaceIdentity:
    """Result of ``face_identity``: rows per face-size bin (plus ``all``), a summary, per-face records."""

    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    faces: list[dict[str, Any]]
    pages: list[FacePage]
    reconstructions: list[np.ndarray]


def _row(label: str, faces: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(faces)
    return {"face_width": label, "faces": n, "cosine": sum(f["cosine"] for f in faces) / n,
            "distance": sum(f["distance"] for f in faces) / n, "matched": sum(f["matched"] for f in faces) / n}  # fmt: skip


def identity_table(
    pages: Sequence[FacePage], reconstructions: torch.Tensor | Sequence[np.ndarray], notes: Sequence[str] = ()
) -> FaceIdentity:
    """Score ``reconstructions`` of ``pages``: mean cosine, mean distance and matched share per face width."""
    if not pages:
        raise DataError("no face pages to score (no face was detected on any original)")
    faces = face_scores(pages, reconstructions)
    rows = []
    for width in sorted({p.face_width for p in pages}):
        rows.append(_row(f"{width}px", [f for f in faces if f["face_width"] == width]))
    rows.append(_row("all", faces))
    summary = {"threshold": MATCH_DISTANCE, "photos": sorted({p.name for p in pages}), "notes": list(notes),
               **{k: rows[-1][k] for k in ("faces", "cosine", "distance", "matched")}}  # fmt: skip
    return FaceIdentity(rows, summary, faces, list(pages), _uint8(reconstructions))


def face_identity(
    model: Tokenizer | Reconstructor | Callable[[torch.Tensor], torch.Tensor],
    images: Sequence[tuple[str, np.ndarray]] | None = None,
    *,
    size: int = 256,
    widths: Sequence[int] = FACE_WIDTHS,
) -> FaceIdentity:
    """Crop ``images`` (default: ``face_photos()``) around their faces at ``size`` px, reconstruct, compare.

    ``model`` is an image ``Tokenizer`` or any (N, 3, H, W) → (N, 3, H, W) callable. DataError with the install
    command when face_recognition is missing.
    """
    face_modules()
    pages, notes = face_pages(face_photos() if images is None else images, size, widths)
    if not pages:
        raise DataError("no face detected on any of the images: " + "; ".join(notes))
    x = torch.from_numpy(np.stack([p.image for p in pages])).permute(0, 3, 1, 2).float() / 255
    return identity_table(pages, reconstruct(model, x), notes)
