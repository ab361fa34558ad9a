"""One SVG file through a HiVG-style tokenizer: its tokens at both levels, the decoded SVG and render fidelity.

The per-file measurement shared by ``tokzoo eval`` (:mod:`tokzoo.svg.evaluate`) and ``benchmarks/svg.py``,
for HiVG tokens ("Hierarchical SVG Tokenization", 2026): the file is parsed once, counted at level 1 (atoms)
and level 2 (segments), decoded, and original and decoded SVG are rendered with resvg at ``size`` px by
:func:`tokzoo.svg.render.render_svg` and compared by :func:`tokzoo.svg.render.compare_renders`. Stages run in
order — ``parse``, ``decode``, ``render original``, ``render reconstruction``, ``compare`` — and the first that fails
stops the measurement and is kept with its exception (any exception: a tokzoo bug fails only its file;
:func:`tokzoo.bench.eval_files.failure` names it as one).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tokzoo.core.tokens import Tokens
from tokzoo.svg.render import RenderFidelity, compare_renders, render_svg

__all__ = ["RECORD_KEYS", "SvgFileMeasure", "measure_svg_file"]

#: Keys of :meth:`SvgFileMeasure.record`, in report order (``None`` where a stage did not run).
RECORD_KEYS = (
    "file",
    "bytes",
    "level1_tokens",
    "level2_tokens",
    "bits",
    "clamped",
    "psnr",
    "ssim",
    "iou",
    "coverage_iou",
    "silhouette_iou",
    "hairline",
)


@dataclass
class SvgFileMeasure:
    """What :func:`measure_svg_file` got for one file before its first failing stage (``stage``/``error``)."""

    path: Path
    data: bytes | None = None
    level1: Tokens | None = None
    level2: Tokens | None = None
    svg: str | None = None
    original: np.ndarray | None = None
    rendered: np.ndarray | None = None
    fidelity: RenderFidelity | None = None
    stage: str | None = None
    error: Exception | None = None

    @property
    def tokenized(self) -> bool:
        return self.level2 is not None

    def record(self) -> dict[str, Any]:
        """One flat row: bytes, token counts, level-2 payload bits, clamped points, and the fidelity."""
        row: dict[str, Any] = dict.fromkeys(RECORD_KEYS)
        row["file"] = self.path.name
        if self.data is not None:
            row["bytes"] = len(self.data)
        if self.level1 is not None and self.level2 is not None:
            row |= {"level1_tokens": self.level1.num_tokens, "level2_tokens": self.level2.num_tokens}
            row |= {"bits": self.level2.nbits(), "clamped": int(self.level2.meta["clamped"][0])}
        fid = self.fidelity
        if fid is not None:
            row |= {"psnr": fid.psnr, "ssim": fid.ssim, "iou": fid.iou, "coverage_iou": fid.coverage_iou}
            row |= {"silhouette_iou": fid.silhouette_iou, "hairline": fid.hairline}
        return row


def measure_svg_file(model: Any, path: Path, size: int = 256) -> SvgFileMeasure:
    """Tokenize, decode and render ``path`` with ``model`` (an SVG tokenizer such as ``svg-hivg-256``)."""
    out = SvgFileMeasure(Path(path))
    stage = "parse"
    try:
        out.data = out.path.read_bytes()
        doc = model.level1(out.path)  # named in its errors
        out.level1, out.level2 = model.doc_tokens([doc], level=1), model.doc_tokens([doc])
        stage = "decode"
        out.svg = model.decode(out.level2)[0]
        stage = "render original"
        out.original = render_svg(out.data, size)
        stage = "render reconstruction"
        out.rendered = render_svg(out.svg, size)
        stage = "compare"
        out.fidelity = compare_renders(out.rendered, out.original)
    except Exception as e:  # every failure is kept with its stage; the caller reports it
        out.stage, out.error = stage, e
    return out
