"""Decoding any still image into HxWx3 uint8 RGB, and conversions to and from float tensors."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from tokzoo.core.errors import DataError, LimitError
from tokzoo.core.limits import check_limit

_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


def load_image(src: str | os.PathLike[str] | bytes, *, name: str | None = None) -> np.ndarray:
    """Decode an image file (or its bytes) into an HxWx3 uint8 RGB array.

    Any format Pillow reads (PNG, JPEG, WebP, AVIF, GIF's first frame, TIFF, BMP...) and any mode:
    EXIF orientation is applied, alpha and transparency keys are composited over white, 16-bit and
    32-bit integer images are scaled to 8 bits (not clipped). ``name`` labels the source in errors
    (default: the path, or ``<bytes>``). Raises ``DataError("<name>: <reason>")`` for empty,
    truncated, non-image and decompression-bomb inputs, and ``LimitError`` for more pixels than the limit
    ``image_pixels`` (read from the header, before decoding).
    """
    if isinstance(src, (bytes, bytearray, memoryview)):
        label, data = name or "<bytes>", bytes(src)
    else:
        label = name or os.fspath(src)
        try:
            data = Path(src).read_bytes()
        except OSError as e:
            raise DataError(f"{label}: cannot read file ({e.strerror or e})") from e
    if not data:
        raise DataError(f"{label}: empty file (0 bytes)")
    try:
        with warnings.catch_warnings():  # the limit image_pixels replaces Pillow's bomb warning
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))  # reads the header only
        with opened as im:
            check_limit(label, "image_pixels", im.width * im.height, f"pixel count ({im.width}x{im.height})")
            im.load()  # decode fully now, so truncation is detected here
            return _to_rgb(ImageOps.exif_transpose(im))
    except LimitError:
        raise
    except Image.DecompressionBombError as e:
        raise DataError(f"{label}: refused as a possible decompression bomb ({e})") from e
    except UnidentifiedImageError as e:
        raise DataError(f"{label}: not a recognised image file") from e
    except Exception as e:  # Pillow's decoders raise many types (OSError, SyntaxError, ValueError...)
        raise DataError(f"{label}: cannot decode image ({type(e).__name__}: {e})") from e


def _to_rgb(im: Image.Image) -> np.ndarray:
    """Convert a loaded Pillow image of any mode to a writable HxWx3 uint8 array."""
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.uint16)
        alpha = rgba[:, :, 3:]
        over_white = (rgba[:, :, :3] * alpha + 255 * (255 - alpha) + 127) // 255
        return over_white.astype(np.uint8)
    if im.mode == "F" or im.mode.startswith("I"):
        gray = _gray_to_uint8(np.asarray(im), is_float=im.mode == "F")
        return np.repeat(gray[:, :, None], 3, axis=2)
    return np.array(im.convert("RGB"))


def _gray_to_uint8(arr: np.ndarray, *, is_float: bool) -> np.ndarray:
    """Scale a 16/32-bit integer or float gray image to uint8.

    Integers within [0, 65535] are read as 16-bit (divided by 257), floats within [0, 1] are
    multiplied by 255; anything else is min-max normalised.
    """
    a = np.nan_to_num(arr.astype(np.float64))
    lo, hi = float(a.min()), float(a.max())
    if is_float and lo >= 0.0 and hi <= 1.0:
        a = a * 255.0
    elif not is_float and lo >= 0.0 and hi <= 65535.0:
        a = a / 257.0
    else:
        a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
    return np.rint(a).astype(np.uint8)


def image_to_tensor(arr: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 array -> (3, H, W) float32 tensor in [0, 1]."""
    if not isinstance(arr, np.ndarray) or arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        got = f"shape {arr.shape} dtype {arr.dtype}" if isinstance(arr, np.ndarray) else type(arr).__name__
        raise DataError(f"expected an HxWx3 uint8 image array, got {got}")
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1), dtype=np.float32)).div_(255.0)


def tensor_to_image(t: torch.Tensor) -> np.ndarray:
    """(3, H, W) float tensor in [0, 1] -> HxWx3 uint8 array (clipped to [0, 1], rounded to nearest)."""
    if t.ndim != 3 or t.shape[0] != 3:
        raise DataError(f"expected a (3, H, W) image tensor, got shape {tuple(t.shape)}")
    x = torch.nan_to_num(t.detach().to("cpu", torch.float32), nan=0.0).clamp_(0.0, 1.0)
    return x.mul_(255.0).round_().to(torch.uint8).permute(1, 2, 0).contiguous().numpy()


def save_image(image: torch.Tensor | np.ndarray, path: str | os.PathLike[str]) -> None:
    """Save a (3, H, W) float tensor or an HxWx3 uint8 array; the format follows the file extension."""
    arr = tensor_to_image(image) if isinstance(image, torch.Tensor) else image
    if not isinstance(arr, np.ndarray) or arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise DataError(f"{os.fspath(path)}: expected an HxWx3 uint8 array or a (3, H, W) tensor")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        Image.fromarray(arr).save(path)
    except (OSError, ValueError, KeyError) as e:
        raise DataError(f"{os.fspath(path)}: cannot save image ({e})") from e
