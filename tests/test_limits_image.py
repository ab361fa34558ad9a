"""Image pixel counts are checked from the header, before the image is decoded."""

from __future__ import annotations

import struct
import time
import zlib

import pytest

from tokzoo.core.errors import LimitError
from tokzoo.data import load_image


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares ``width`` x ``height`` and whose data is a tiny, truncated stream."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_huge_png_is_refused_from_its_header(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(png_header_only(13_000, 13_000))
    start = time.perf_counter()
    with pytest.raises(
        LimitError, match=r"huge\.png: pixel count \(13000x13000\) 169,000,000 exceeds .*image_pixels"
    ):
        load_image(path)
    assert time.perf_counter() - start < 1


def test_pixel_limit_is_configurable(monkeypatch, tmp_path):
    from PIL import Image

    path = tmp_path / "small.png"
    Image.new("RGB", (20, 10)).save(path)
    monkeypatch.setenv("TOKZOO_LIMIT_IMAGE_PIXELS", "199")
    with pytest.raises(LimitError, match="TOKZOO_LIMIT_IMAGE_PIXELS"):
        load_image(path)
    monkeypatch.setenv("TOKZOO_LIMIT_IMAGE_PIXELS", "200")
    assert load_image(path).shape == (10, 20, 3)
