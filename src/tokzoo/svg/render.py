"""Rasterise SVG with resvg (``resvg-py``, MIT) and compare renders: PSNR, SSIM and silhouette IoU.

The original's page is drawn with its longer side at ``size`` pixels and centred on a square transparent
canvas at exactly the (fractional) place :mod:`tokzoo.svg.parse` puts it on the grid, so it lines up with the
decoded SVG (whose viewBox is the square grid). Used to measure the fidelity of HiVG-style tokens ("Hierarchical SVG Tokenization", 2026).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
import resvg_py
import torch
from PIL import Image

from tokzoo.metrics.fidelity import psnr, ssim
from tokzoo.svg.errors import SvgInputError
from tokzoo.svg.parse import page_size

__all__ = ["HAIRLINE_SHARE", "RenderFidelity", "compare_renders", "page_mask", "render_svg"]


def render_svg(svg: str | bytes, size: int = 256) -> np.ndarray:
    """``(size, size, 4)`` uint8 RGBA render: the document's page scaled uniformly so that its longer side
    spans ``size`` px and centred — exactly where :func:`tokzoo.svg.parse.parse_svg` puts it on the grid."""
    text = svg.decode("utf-8", errors="replace") if isinstance(svg, bytes) else svg
    try:
        png = resvg_py.svg_to_bytes(svg_string=_placed(text, size), width=size, height=size)
    except SvgInputError:
        raise
    except Exception as e:  # resvg reports unrenderable input with various exception types
        raise SvgInputError(f"resvg cannot render this SVG ({type(e).__name__}: {e})") from None
    img = Image.open(io.BytesIO(bytes(png))).convert("RGBA")
    if img.size != (size, size):
        raise SvgInputError(f"resvg rendered {img.size}, expected {(size, size)}")
    return np.asarray(img)


def page_mask(svg: str | bytes, size: int = 256) -> np.ndarray:
    """``(size, size)`` bool: the pixels (centres) inside the document's page in :func:`render_svg`."""
    text = svg.decode("utf-8", errors="replace") if isinstance(svg, bytes) else svg
    x, y, w, h = _page_box(page_size(text), size)
    centres = np.arange(size) + 0.5
    return ((centres >= y) & (centres < y + h))[:, None] & ((centres >= x) & (centres < x + w))[None, :]


_ROOT = re.compile(r"<(?:[\w.-]+:)?svg\b[^>]*>")
_PLACEMENT = re.compile(r"(?<=\s)(?:x|y|width|height)\s*=\s*(?:\"[^\"]*\"|'[^']*')")


def _root_tag(text: str) -> tuple[re.Match[str], str]:
    match = _ROOT.search(text)
    if match is None:
        raise SvgInputError("no <svg> root element to render")
    return match, match.group(0)


def _page_box(page: tuple[float, float], size: int) -> tuple[float, float, float, float]:
    """``(x, y, w, h)`` in pixels of a ``page`` (width, height) centred on the square canvas."""
    k = size / max(page)
    w, h = page[0] * k, page[1] * k
    return (size - w) / 2, (size - h) / 2, w, h


def _placed(text: str, size: int) -> str:
    """``text`` nested in a square ``size`` px document, its root's position and size set to the page box.

    A root without a ``viewBox`` gets ``0 0 width height`` (its user units are px, as before); a root without
    ``xmlns`` inherits the SVG namespace from the wrapper (browsers and svgelements draw such files,
    openclipart has many).
    """
    match, tag = _root_tag(text)
    page = page_size(text)
    x, y, w, h = _page_box(page, size)
    body = _PLACEMENT.sub("", tag[:-1].rstrip("/"))
    if not re.search(r"\sviewBox\s*=", body):
        body += f' viewBox="0 0 {page[0]!r} {page[1]!r}"'
    body += f' x="{x!r}" y="{y!r}" width="{w!r}" height="{h!r}"' + ("/>" if tag.endswith("/>") else ">")
    outer = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">'
    )
    return text[: match.start()] + outer + body + text[match.end() :] + "</svg>"


#: A target whose silhouette (alpha > 50 %) holds less than this share of its inked pixels (alpha > 0) is a
#: *hairline* drawing: its strokes are thinner than a pixel, so its silhouette is a sampling artefact.
HAIRLINE_SHARE = 0.25


@dataclass
class RenderFidelity:
    """PSNR (dB) and SSIM of the renders composited on white; ``iou``: IoU of their silhouettes (alpha > 50 %);
    ``coverage_iou``: sum(min(alpha)) / sum(max(alpha)), the IoU of the alpha coverages; ``hairline``: the
    target's silhouette holds under :data:`HAIRLINE_SHARE` of its ink. ``silhouette_iou`` is ``iou``, or
    ``coverage_iou`` for a hairline target, whose silhouette is not defined at this resolution."""

    psnr: float
    ssim: float
    iou: float
    coverage_iou: float = float("nan")
    hairline: bool = False

    @property
    def silhouette_iou(self) -> float:
        return self.coverage_iou if self.hairline else self.iou


def _on_white(rgba: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(rgba.astype(np.float32) / 255).permute(2, 0, 1)
    return (x[:3] * x[3:] + (1 - x[3:]))[None]


def compare_renders(pred: np.ndarray, target: np.ndarray) -> RenderFidelity:
    """Fidelity of an RGBA render ``pred`` to ``target`` (same size); both IoUs are 1 when both are empty."""
    a, b = pred[..., 3] > 127, target[..., 3] > 127
    union = int((a | b).sum())
    iou = 1.0 if union == 0 else int((a & b).sum()) / union
    pa, ta = pred[..., 3].astype(np.int64), target[..., 3].astype(np.int64)
    cover = int(np.maximum(pa, ta).sum())
    coverage = 1.0 if cover == 0 else int(np.minimum(pa, ta).sum()) / cover
    hairline = bool((ta > 0).any()) and int(b.sum()) < HAIRLINE_SHARE * int((ta > 0).sum())
    p, t = _on_white(pred), _on_white(target)
    return RenderFidelity(float(psnr(p, t)[0]), float(ssim(p, t)[0]), iou, coverage, hairline)
