"""Rendered-text test pages for the text-legibility benchmark (after TokBench).

"TokBench: Evaluating Your Visual Tokenizer before Visual Generation" (2025) showed that visual tokenizers lose
small text long before PSNR notices. These pages make the same test offline: dictionary words (Debian
``wamerican``) in real fonts (DejaVu, Liberation, Noto, from their Debian packages) at 6–48 px, on plain
colours and on crops of real photos (the bundled scikit-image test photos), each word with its known box.
Everything is drawn from a seed: the same seed gives the same pages, word for word and pixel for pixel.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from tokzoo.core.errors import DataError
from tokzoo.data.apt import debian_package
from tokzoo.data.bundled import bundled_images

FONTS: dict[str, tuple[str, str]] = {
    "DejaVuSans": ("fonts-dejavu-core", "usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    "DejaVuSerif": ("fonts-dejavu-core", "usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"),
    "DejaVuSansMono": ("fonts-dejavu-core", "usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"),
    "LiberationSans": ("fonts-liberation", "usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
    "LiberationSerif": (
        "fonts-liberation",
        "usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    ),
    "LiberationMono": ("fonts-liberation", "usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf"),
    "NotoSans": ("fonts-noto-core", "usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"),
    "NotoSerif": ("fonts-noto-core", "usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf"),
}
"""Font name → (Debian package, file inside it). Regular weights only."""

SIZE_BINS: tuple[tuple[int, int], ...] = ((6, 7), (8, 11), (12, 15), (16, 23), (24, 31), (32, 48))
"""Font-size bins in pixels (em size), both ends included."""

BACKGROUNDS = ("plain", "photo")
"""Page backgrounds: a flat colour, or a crop of a held-out bundled photo."""

PHOTO_SPLIT = "test"
"""Bundled split the photo backgrounds come from (held out from the demo tokenizer's training)."""

WORD_LIST = ("wamerican", "usr/share/dict/american-english")

_WORD_RE = re.compile(r"^[A-Za-z]{3,12}$")


def debian_file(package: str, relative: str) -> Path:
    """``/relative`` when the package is installed on this system, else the file inside its unpacked copy."""
    system = Path("/") / relative
    if system.is_file():
        return system
    path = debian_package(package) / relative
    if not path.is_file():
        raise DataError(f"{path}: not found in Debian package {package}")
    return path


def font_path(name: str) -> Path:
    """Path of the TrueType file of font ``name`` (a key of ``FONTS``), fetched from Debian if needed."""
    if name not in FONTS:
        raise DataError(f"unknown font {name!r}; known fonts: {', '.join(FONTS)}")
    return debian_file(*FONTS[name])


@lru_cache(maxsize=256)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(name)), size)


@lru_cache(maxsize=1)
def dictionary_words() -> tuple[str, ...]:
    """Words of 3–12 ASCII letters from Debian's ``wamerican`` list (no possessives, no accents), sorted."""
    path = debian_file(*WORD_LIST)
    words = sorted({w for w in path.read_text(encoding="utf-8").split() if _WORD_RE.match(w)})
    if not words:
        raise DataError(f"{path}: no usable words (expected one word per line)")
    return tuple(words)


def text_bins(size: int) -> list[tuple[int, int]]:
    """The font-size bins whose largest text fits a page of ``size`` px with room for words (≤ size / 4)."""
    bins = [b for b in SIZE_BINS if 4 * b[1] <= size]
    if not bins:
        raise DataError(f"text pages need at least {4 * SIZE_BINS[0][1]} px, got {size} px (--size {size})")
    return bins


def bin_label(lo: int, hi: int) -> str:
    """Printable name of a size bin, e.g. ``"8-11px"``."""
    return f"{lo}-{hi}px"


@dataclass(frozen=True)
class WordBox:
    """One rendered word: its text, font, pixel size, and the box (x0, y0, x1, y1) an OCR engine reads."""

    text: str
    font: str
    size: int
    box: tuple[int, int, int, int]


@dataclass
class TextPage:
    """A rendered page: HxWx3 uint8 pixels, its words, its size bin and its background."""

    image: np.ndarray
    words: list[WordBox]
    size_bin: str
    background: str


def pages_to_tensor(pages: Sequence[TextPage]) -> torch.Tensor:
    """The pages as one (N, 3, H, W) float batch in [0, 1] (the tokenizer's input)."""
    if not pages:
        raise DataError("no text pages")
    arr = np.stack([p.image for p in pages])
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float() / 255


@lru_cache(maxsize=1)
def _photos() -> tuple[np.ndarray, ...]:
    return tuple(img for _, img in bundled_images(PHOTO_SPLIT))


def _photo_background(rng: np.random.Generator, size: int) -> np.ndarray:
    photo = _photos()[rng.integers(len(_photos()))]
    h, w = photo.shape[:2]
    side = int(rng.integers(min(h, w) // 3, min(h, w) + 1))
    y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    crop = Image.fromarray(photo[y : y + side, x : x + side])
    return np.asarray(crop.resize((size, size), Image.Resampling.BICUBIC, reducing_gap=None))


def _plain_background(rng: np.random.Generator, size: int) -> tuple[np.ndarray, tuple[int, int, int]]:
    light = rng.random() < 0.75
    lo, hi = (170, 256) if light else (0, 86)
    bg = tuple(int(v) for v in rng.integers(lo, hi, 3))
    ink_lo, ink_hi = (0, 70) if light else (190, 256)
    ink = tuple(int(v) for v in rng.integers(ink_lo, ink_hi, 3))
    return np.full((size, size, 3), bg, dtype=np.uint8), ink  # type: ignore[return-value]


def _ink_on_photo(image: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever contrasts with the photo under the word."""
    x0, y0, x1, y1 = box
    luma = image[y0:y1, x0:x1].astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return (0, 0, 0) if luma.mean() > 127 else (255, 255, 255)


def _pick_word(
    rng: np.random.Generator, words: Sequence[str], font: ImageFont.FreeTypeFont, room: int
) -> str | None:
    for _ in range(8):
        word = words[int(rng.integers(len(words)))]
        if font.getlength(word) <= room:
            return word
    return None


def render_page(
    size: int, size_bin: tuple[int, int], background: str, rng: np.random.Generator, fonts: Sequence[str]
) -> TextPage:
    """Fill one size×size page with rows of words whose sizes lie in ``size_bin``; boxes never overlap."""
    if background not in BACKGROUNDS:
        raise DataError(f"unknown background {background!r}; valid: {', '.join(BACKGROUNDS)}")
    words = dictionary_words()
    if background == "photo":
        canvas, ink = _photo_background(rng, size), None
    else:
        canvas, ink = _plain_background(rng, size)
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    placed: list[WordBox] = []
    y = int(rng.integers(1, 1 + size_bin[0]))
    while True:
        px = int(rng.integers(size_bin[0], size_bin[1] + 1))
        pad = max(2, round(0.2 * px))
        row_fonts = [fonts[int(rng.integers(len(fonts)))] for _ in range(size // px + 1)]
        ascent, descent = max(_font(f, px).getmetrics() for f in set(row_fonts))
        row_h = ascent + descent
        if y + row_h + 2 * pad > size:
            break
        x = int(rng.integers(0, 1 + 2 * px))
        for name in row_fonts:
            font = _font(name, px)
            word = _pick_word(rng, words, font, size - x - 2 * pad)
            if word is None:
                break
            left, top, right, bottom = draw.textbbox((x + pad, y + pad), word, font=font)
            box = (max(0, left - pad), max(0, top - pad), min(size, right + pad), min(size, bottom + pad))
            colour = ink if ink is not None else _ink_on_photo(canvas, box)
            draw.text((x + pad, y + pad), word, font=font, fill=colour)
            placed.append(WordBox(word, name, px, box))
            x = box[2] + pad + int(rng.integers(0, px + 1))
        y += row_h + 2 * pad + int(rng.integers(0, 1 + px // 2))
    return TextPage(np.asarray(image).copy(), placed, bin_label(*size_bin), background)


def render_pages(
    size: int,
    *,
    seed: int = 0,
    words_per_bin: int = 60,
    bins: Sequence[tuple[int, int]] = SIZE_BINS,
    fonts: Sequence[str] = tuple(FONTS),
    backgrounds: Sequence[str] = BACKGROUNDS,
) -> list[TextPage]:
    """Pages at ``size``×``size`` px: for every size bin, pages alternating over ``backgrounds`` until the bin
    holds at least ``words_per_bin`` words (and every background has a page).

    Deterministic: page j of bin i is drawn from ``numpy.random.default_rng([seed, i, j])``.
    """
    if size < 2 * max(hi for _, hi in bins):
        raise DataError(
            f"page size {size} px is too small for {max(hi for _, hi in bins)} px text (need ≥ 2×)"
        )
    pages = []
    for i, size_bin in enumerate(bins):
        count, j = 0, 0
        while count < words_per_bin or j < len(backgrounds):
            if j >= 4 * words_per_bin + len(backgrounds):
                raise DataError(
                    f"size bin {bin_label(*size_bin)}: {j} pages of {size} px fit only {count} words of that size "
                    f"(asked for {words_per_bin}); use larger pages, fewer words per bin or smaller font sizes"
                )
            page = render_page(
                size, size_bin, backgrounds[j % len(backgrounds)], np.random.default_rng([seed, i, j]), fonts
            )
            pages.append(page)
            count += len(page.words)
            j += 1
    return pages
