"""Rasterise SVG with resvg (``resvg-py``, MIT) and compare renders: PSNR, SSIM and silhouette IoU.

The original is drawn with its longer side at ``size`` pixels and centred on a square transparent canvas —
the same normalisation :mod:`tokzoo.svg.parse` applies — so it lines up with the decoded SVG (whose viewBox
is the square grid). Used to measure the fidelity of HiVG-style tokens ("Hierarchical SVG Tokenization", 2026).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
import resvg_py
import svgelements as se
import torch
from PIL import Image

from tokzoo.metrics.fidelity import psnr, ssim
from tokzoo.svg.errors import SvgInputError

__all__ = ["RenderFidelity", "compare_renders", "render_svg"]


def render_svg(svg: str | bytes, size: int = 256) -> np.ndarray:
    """``(size, size, 4)`` uint8 RGBA render, the drawing centred with its longer side at ``size`` px."""
    text = _with_namespace(svg.decode("utf-8", errors="replace") if isinstance(svg, bytes) else svg)
    try:
        img = _render(text, size)
    except Exception as first:  # resvg reports unrenderable input with various exception types
        try:
            img = _render(_resvg_compatible(text), size)
        except Exception:
            raise SvgInputError(f"resvg cannot render this SVG ({type(first).__name__}: {first})") from None
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    img = img.crop((0, 0, min(img.width, size), min(img.height, size)))
    canvas.paste(img, ((size - img.width) // 2, (size - img.height) // 2))
    return np.asarray(canvas)


def _render(text: str, size: int) -> Image.Image:
    w, h = Image.open(io.BytesIO(bytes(resvg_py.svg_to_bytes(svg_string=text)))).size
    width, height = (size, None) if w >= h else (None, size)
    png = resvg_py.svg_to_bytes(svg_string=text, width=width, height=height)
    return Image.open(io.BytesIO(bytes(png))).convert("RGBA")


def _with_namespace(text: str) -> str:
    """``text`` with the SVG namespace declared on its root: resvg draws nothing without it, while
    browsers and svgelements draw such files (openclipart has many)."""
    match = re.search(r"<svg\b[^>]*>", text)
    if match is None or "xmlns=" in match.group(0):
        return text
    return text[: match.start()] + '<svg xmlns="http://www.w3.org/2000/svg"' + text[match.start() + 4 :]


def _resvg_compatible(text: str) -> str:
    """The same drawing with a root ``width``/``height`` in units such as ``mm`` (which resvg-py refuses as
    "invalid size") rewritten as the pixel sizes svgelements computes."""
    match = re.search(r"<svg\b[^>]*>", text)
    if match is None:
        return text
    tag = match.group(0)
    doc = se.SVG.parse(io.StringIO(text))
    for name, value in (("width", doc.width), ("height", doc.height)):
        tag = re.sub(rf'(\s){name}\s*=\s*"[^"]*"', rf'\g<1>{name}="{float(value):g}"', tag, count=1)
    return text[: match.start()] + tag + text[match.end() :]


@dataclass
class RenderFidelity:
    """PSNR (dB) and SSIM of the renders composited on white, and IoU of their silhouettes (alpha > 50 %)."""

    psnr: float
    ssim: float
    iou: float


def _on_white(rgba: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(rgba.astype(np.float32) / 255).permute(2, 0, 1)
    return (x[:3] * x[3:] + (1 - x[3:]))[None]


def compare_renders(pred: np.ndarray, target: np.ndarray) -> RenderFidelity:
    """Fidelity of an RGBA render ``pred`` to ``target`` (same size); IoU is 1 when both are empty."""
    a, b = pred[..., 3] > 127, target[..., 3] > 127
    union = int((a | b).sum())
    iou = 1.0 if union == 0 else int((a & b).sum()) / union
    p, t = _on_white(pred), _on_white(target)
    return RenderFidelity(float(psnr(p, t)[0]), float(ssim(p, t)[0]), iou)
