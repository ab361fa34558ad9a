"""One self-contained, offline HTML report: headings, text, tables and images embedded as base64 PNG.

The page references nothing outside itself (no scripts, stylesheets, fonts or image URLs), so it opens the
same on an air-gapped machine, in an e-mail attachment, or years later.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import DataError

_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 72em; color: #222; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th { background: #eee; } td:first-child, th:first-child { text-align: left; }
caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: 0.3em; }
figure { margin: 0.5em 0 1.5em; } figcaption { font-size: 0.9em; color: #555; }
img { max-width: 100%; image-rendering: pixelated; border: 1px solid #ddd; }
"""


def _to_uint8_array(img: Any) -> np.ndarray:
    """PIL image, HxWx3 uint8 array or (3, H, W) float tensor in [0, 1] -> HxWx3 uint8 array."""
    if isinstance(img, Image.Image):
        return np.asarray(img.convert("RGB"))
    if isinstance(img, torch.Tensor):
        if img.ndim != 3 or img.shape[0] != 3:
            raise DataError(f"report image: expected a (3, H, W) tensor, got shape {tuple(img.shape)}")
        x = torch.nan_to_num(img.detach().to("cpu", torch.float32), nan=0.0).clamp(0, 1)
        return x.mul(255).round().to(torch.uint8).permute(1, 2, 0).contiguous().numpy()
    if isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3:
        return img
    got = (
        f"array of shape {img.shape} dtype {img.dtype}" if isinstance(img, np.ndarray) else type(img).__name__
    )
    raise DataError(f"report image: expected a PIL image, HxWx3 uint8 array or (3, H, W) tensor, got {got}")


def _png_data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def format_cell(value: Any) -> str:
    """How a table cell is shown: floats to 4 significant digits, None as "unavailable", CI dicts as
    ``mean [low, high]``."""
    if value is None:
        return "unavailable"
    if isinstance(value, dict) and {"mean", "ci95_low", "ci95_high"} <= value.keys():
        return f"{format_cell(value['mean'])} [{format_cell(value['ci95_low'])}, {format_cell(value['ci95_high'])}]"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"
    return str(value)


class HtmlReport:
    """Build an HTML page piece by piece; ``write`` stores it atomically as one self-contained file."""

    def __init__(self, title: str):
        self.title = title
        self._parts: list[str] = [f"<h1>{html.escape(title)}</h1>"]

    def heading(self, text: str, level: int = 2) -> None:
        """A section heading (level 1–6)."""
        level = min(6, max(1, int(level)))
        self._parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def paragraph(self, text: str) -> None:
        """A paragraph of plain text (escaped; no markup)."""
        self._parts.append(f"<p>{html.escape(text)}</p>")

    def table(self, rows: list[dict], columns: list[str] | None = None, caption: str | None = None) -> None:
        """A table with one row per dict; ``columns`` default to the keys in order of first appearance."""
        if columns is None:
            columns = list(dict.fromkeys(k for row in rows for k in row))
        out = ["<table>"]
        if caption:
            out.append(f"<caption>{html.escape(caption)}</caption>")
        out.append("<tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in columns) + "</tr>")
        for row in rows:
            cells = "".join(f"<td>{html.escape(format_cell(row.get(c)))}</td>" for c in columns)
            out.append(f"<tr>{cells}</tr>")
        out.append("</table>")
        self._parts.append("\n".join(out))

    def image(self, img: Any, caption: str | None = None) -> None:
        """An image (PIL, HxWx3 uint8 array or (3, H, W) float tensor in [0, 1]) embedded as PNG."""
        buf = io.BytesIO()
        Image.fromarray(_to_uint8_array(img)).save(buf, format="PNG", optimize=True)
        self._embed(buf.getvalue(), caption)

    def figure(self, fig: Any, caption: str | None = None) -> None:
        """A matplotlib Figure rendered to PNG and embedded."""
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        self._embed(buf.getvalue(), caption)

    def _embed(self, png: bytes, caption: str | None) -> None:
        alt = html.escape(caption or "figure", quote=True)
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self._parts.append(f'<figure><img alt="{alt}" src="{_png_data_uri(png)}">{cap}</figure>')

    def render(self) -> str:
        """The complete HTML document as a string."""
        body = "\n".join(self._parts)
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(self.title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n"
        )

    def write(self, path: str | Path) -> Path:
        """Write the page to ``path`` atomically (a reader never sees half a report)."""
        atomic_write_bytes(path, self.render().encode("utf-8"))
        return Path(path)
