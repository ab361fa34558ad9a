"""Face identity: embeddings of original vs reconstruction at the face found on the original."""

from __future__ import annotations

import importlib.util
import re
import sys

import numpy as np
import pytest
from PIL import Image, ImageFilter

from tokzoo.bench.faces import FACE_INSTALL, face_identity, face_pages, face_photos, identity_table
from tokzoo.core.errors import DataError

HAVE_FACES = all(importlib.util.find_spec(m) for m in ("dlib", "face_recognition", "face_recognition_models"))
needs_faces = pytest.mark.skipif(not HAVE_FACES, reason=f"face_recognition not installed: {FACE_INSTALL}")


def test_missing_face_recognition_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "face_recognition_models", None)  # as on a machine without it
    with pytest.raises(DataError, match=re.escape(FACE_INSTALL)):
        face_identity(lambda x: x)


@pytest.fixture(scope="module")
def pages():
    found, notes = face_pages(face_photos(), size=256)
    return found, notes


@pytest.mark.slow
@needs_faces
def test_every_offline_photo_gives_a_face_page(pages):
    found, notes = pages
    assert {p.name for p in found} == {"astronaut", "grace_hopper", "messi5", "basketball1"}
    assert all(p.image.shape == (256, 256, 3) for p in found)
    assert any("too tight" in n for n in notes)  # grace_hopper's face cannot be shrunk to 32 px


@pytest.mark.slow
@needs_faces
def test_identity_holds_on_originals_and_fails_on_heavy_blur(pages):
    found, _ = pages
    same = identity_table(found, [p.image for p in found])
    assert same.summary["matched"] == 1.0 and same.summary["cosine"] > 0.999
    blur = [np.asarray(Image.fromarray(p.image).filter(ImageFilter.GaussianBlur(8))) for p in found]
    lost = identity_table(found, blur)
    small = next(r for r in lost.rows if r["face_width"] == "32px")
    assert small["matched"] == 0.0 and small["distance"] > 0.6
    assert lost.summary["cosine"] < same.summary["cosine"]
