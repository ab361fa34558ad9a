"""Classical image codecs at a byte budget: JPEG, WebP, AVIF and JPEG XL.

Each codec is driven by a binary search on its integer quality setting to the largest file that fits a byte
budget (``encode_to_budget``). The count is the whole file as a user would store it (headers included).
Every codec has a floor: even its lowest quality needs some bytes. When a budget is below it,
``BelowCodecFloor`` says so (with the floor) instead of returning an over-budget file.

Codecs:

- ``jpeg``: baseline JPEG with optimised Huffman tables, 4:2:0 chroma (Pillow/libjpeg-turbo); "The JPEG still
  picture compression standard", Wallace, 1991.
- ``webp``: lossy WebP, slowest/best method 6 (Pillow/libwebp); VP8 intra coding, "VP8 Data Format and
  Decoding Guide", Bankoski et al., RFC 6386, 2011.
- ``avif``: AV1 intra frame in HEIF (Pillow/libavif), speed 6; "AV1 Image File Format (AVIF)", AOMedia, 2019.
- ``jxl``: JPEG XL, effort 7 (libjxl via ``imagecodecs``); "JPEG XL next-generation image compression
  architecture and coding tools", Alakuijala et al., 2019.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, features

from tokzoo.core.errors import ConfigError, DataError
from tokzoo.data.decode import load_image

JXL_PACKAGE = "imagecodecs==2026.3.6"


class BelowCodecFloor(DataError):
    """The byte budget is smaller than the codec's file at its lowest quality."""

    def __init__(self, codec: str, budget: int, floor_bytes: int, quality: int) -> None:
        self.codec, self.budget, self.floor_bytes, self.quality = codec, budget, floor_bytes, quality
        super().__init__(
            f"{codec}: a budget of {budget} bytes is below the codec's floor "
            f"({floor_bytes} bytes at its lowest quality {quality})"
        )


@dataclass(frozen=True)
class Encoded:
    """One coded image: the file's bytes, the quality that made it, and its decoded HxWx3 uint8 pixels."""

    codec: str
    quality: int
    data: bytes = field(repr=False)
    image: np.ndarray = field(repr=False)

    @property
    def nbytes(self) -> int:
        return len(self.data)

    @property
    def nbits(self) -> int:
        return 8 * len(self.data)


def _pillow_encoder(fmt: str, **options: object) -> Callable[[np.ndarray, int], bytes]:
    def encode(img: np.ndarray, quality: int) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, fmt, quality=quality, **options)
        return buf.getvalue()

    return encode


def _pillow_decoder(codec: str) -> Callable[[bytes], np.ndarray]:
    return lambda data: load_image(data, name=f"<{codec} file>")


def _jxl_encode(img: np.ndarray, quality: int) -> bytes:
    import imagecodecs

    return bytes(imagecodecs.jpegxl_encode(img, level=quality, effort=7))


def _jxl_decode(data: bytes) -> np.ndarray:
    import imagecodecs

    out = np.asarray(imagecodecs.jpegxl_decode(data))
    return np.repeat(out[:, :, None], 3, axis=2) if out.ndim == 2 else out[:, :, :3]


def _jxl_available() -> bool:
    if importlib.util.find_spec("imagecodecs") is None:
        return False
    import imagecodecs

    return bool(imagecodecs.JPEGXL.available)


@dataclass(frozen=True)
class Codec:
    """A lossy codec with an integer quality knob (``qualities``, lowest first)."""

    name: str
    label: str
    qualities: range
    requirement: str
    encode: Callable[[np.ndarray, int], bytes] = field(repr=False)
    decode: Callable[[bytes], np.ndarray] = field(repr=False)
    is_available: Callable[[], bool] = field(repr=False)


CODECS: dict[str, Codec] = {
    "jpeg": Codec(
        "jpeg", "JPEG", range(1, 101), "pillow (built with libjpeg)",
        _pillow_encoder("JPEG", optimize=True, subsampling="4:2:0"), _pillow_decoder("jpeg"),
        lambda: bool(features.check("jpg")),
    ),
    "webp": Codec(
        "webp", "WebP", range(0, 101), "pillow (built with libwebp)",
        _pillow_encoder("WEBP", method=6), _pillow_decoder("webp"), lambda: bool(features.check("webp")),
    ),
    "avif": Codec(
        "avif", "AVIF", range(0, 101), "pillow>=11.3 (built with libavif)",
        _pillow_encoder("AVIF", speed=6), _pillow_decoder("avif"), lambda: bool(features.check("avif")),
    ),
    "jxl": Codec("jxl", "JPEG XL", range(0, 101), JXL_PACKAGE, _jxl_encode, _jxl_decode, _jxl_available),
}  # fmt: skip
"""Every codec tokzoo knows, by name."""


def get_codec(name: str) -> Codec:
    """The codec called ``name``; ConfigError if unknown, DataError naming the package if not installed."""
    codec = CODECS.get(name)
    if codec is None:
        raise ConfigError(f"unknown codec {name!r}; known codecs: {', '.join(CODECS)}")
    if not codec.is_available():
        raise DataError(
            f"codec {name!r} ({codec.label}) is not available here: pip install {codec.requirement}"
        )
    return codec


def available_codecs() -> list[str]:
    """Names of the codecs usable in this environment."""
    return [name for name, codec in CODECS.items() if codec.is_available()]


def _check_image(img: np.ndarray) -> None:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        got = f"shape {img.shape} dtype {img.dtype}" if isinstance(img, np.ndarray) else type(img).__name__
        raise DataError(f"codecs need an HxWx3 uint8 image array, got {got}")
    if min(img.shape[:2]) < 1:
        raise DataError(f"codecs need a non-empty image, got {img.shape[0]}x{img.shape[1]} px")


class BudgetSearch:
    """Binary search on one codec's quality for one image; encodings are cached across budgets."""

    def __init__(self, img: np.ndarray, codec: str) -> None:
        _check_image(img)
        self.img = np.ascontiguousarray(img)
        self.codec = get_codec(codec)
        self._files: dict[int, bytes] = {}

    def file(self, quality: int) -> bytes:
        """The codec's file for this image at ``quality`` (cached)."""
        if quality not in self._files:
            self._files[quality] = self.codec.encode(self.img, quality)
        return self._files[quality]

    def _result(self, quality: int) -> Encoded:
        data = self.file(quality)
        return Encoded(self.codec.name, quality, data, self.codec.decode(data))

    def floor(self) -> Encoded:
        """The file at the codec's lowest quality: the smallest rate this codec is plotted at."""
        return self._result(self.codec.qualities[0])

    def fit(self, max_bytes: int) -> Encoded:
        """Largest-quality file with at most ``max_bytes`` bytes, or ``BelowCodecFloor``.

        Assumes size grows with quality; where a codec is not monotone the result still fits the budget,
        it may just not be the very largest file that would.
        """
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)) or max_bytes < 1:
            raise ConfigError(f"byte budget must be a positive integer, got {max_bytes!r}")
        qs = self.codec.qualities
        fits = lambda i: len(self.file(qs[i])) <= max_bytes  # noqa: E731
        if fits(len(qs) - 1):
            return self._result(qs[-1])
        lo, hi = -1, len(qs) - 1  # invariant: index hi does not fit; lo fits (or is the virtual -1)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
        if lo < 0:
            raise BelowCodecFloor(self.codec.name, int(max_bytes), len(self.file(qs[0])), qs[0])
        return self._result(qs[lo])


def encode_to_budget(img: np.ndarray, codec: str, max_bytes: int) -> Encoded:
    """Encode an HxWx3 uint8 image with ``codec`` as the largest file of at most ``max_bytes`` bytes.

    Raises ``BelowCodecFloor`` when even the lowest quality does not fit, ``ConfigError`` for an unknown
    codec and ``DataError`` (naming the pip package) for a codec not installed.
    """
    return BudgetSearch(img, codec).fit(max_bytes)


def encode_to_budgets(img: np.ndarray, codec: str, budgets: Sequence[int]) -> list[Encoded | BelowCodecFloor]:
    """``encode_to_budget`` for several budgets sharing one cache; a budget below the floor gives its error."""
    search = BudgetSearch(img, codec)
    out: list[Encoded | BelowCodecFloor] = []
    for budget in budgets:
        try:
            out.append(search.fit(budget))
        except BelowCodecFloor as e:
            out.append(e)
    return out
