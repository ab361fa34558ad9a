"""``tokzoo eval`` for image tokenizers: the evaluation protocol of :mod:`tokzoo.bench.eval_run` on one image
folder or bundled split (default ``bundled:test`` at 128 px), with its optional sections."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from tokzoo.bench.eval_run import EvalOptions, run_eval
from tokzoo.bench.evaluator import EvalRequest
from tokzoo.bench.report import format_summary
from tokzoo.core.errors import DataError
from tokzoo.core.tokenizer import Tokenizer

_PATHS = ("grid",)


class ImageEvaluator:
    """The image :class:`~tokzoo.bench.evaluator.Evaluator`: fidelity, rate, thumbnails and (on request)
    rFID/LPIPS, rate-distortion, text legibility and face identity."""

    options = frozenset(
        f.name for f in fields(EvalOptions) if f.name not in ("data", "out", "report", "title", "meta")
    )

    def run(self, model: Tokenizer, request: EvalRequest) -> str:
        if request.data and len(request.data) > 1:
            raise DataError(
                "image tokenizers take one --data: an image folder, or bundled:test / bundled:train"
            )
        data = request.data[0] if request.data else "bundled:test"
        title = f"tokzoo eval: {request.model} on {data}"
        options = {k: Path(v) if k in _PATHS else v for k, v in request.options.items()}
        opts = EvalOptions(
            data=data, out=Path(request.out), report=request.report, title=title, meta={"model": request.model},
            **options,
        )  # fmt: skip
        run = run_eval(model, opts)
        skipped = len(run.skipped)
        lines = [format_summary(run.result, title)]
        if run.too_small:
            shown = ", ".join(f"{n} ({r.split(',')[0]})" for n, r in run.too_small[:5])
            more = ", ..." if len(run.too_small) > 5 else ""
            lines.append(
                f"  skipped           {len(run.too_small)} images smaller than the evaluation size {opts.size} "
                f"px, not upscaled into the mean: {shown}{more}"
            )
        lines.append(
            f"  metrics           {request.out}"
            + (f" ({skipped} unreadable files skipped)" if skipped else "")
        )
        lines.append(f"  report            {run.report}")
        return "\n".join(lines)
