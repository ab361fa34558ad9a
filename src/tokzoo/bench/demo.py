"""``tokzoo demo``: the shipped pretrained image tokenizers on held-out photos, then a short fine-tune.

Evaluates every pretrained image tokenizer (``tokzoo.list(pretrained=True)``) on the 30 held-out photographs
shipped with tokzoo (``bundled:heldout``) at 128 px through the ``tokzoo eval`` code path (the equal-bits
thumbnail beside every number), compares them with JPEG / WebP / AVIF / JPEG XL at equal bytes, then fine-tunes
one of them for a few steps on the scikit-image photos to show the trainer, and writes under ``out``:
``summary.txt`` (one line per model first: bits per image and dB above or below the floor), ``report.html``,
``grid.png`` (originals / each model / the thumbnail of the lowest rate), ``rd.png`` + CSVs, and one folder per
model with its ``metrics.json``, ``report.html`` and ``grid.png``. A killed fine-tune resumes when run again.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from PIL import Image

from tokzoo.bench.eval_run import EvalOptions, load_eval_images, run_eval
from tokzoo.bench.protocol import prepare_images
from tokzoo.bench.rd import plot_rd, rate_distortion, summarize_rd, write_rd
from tokzoo.bench.report import comparison_grid, format_summary, html_report
from tokzoo.core.api import create, list_models, load
from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import DataError
from tokzoo.data import tensor_to_image
from tokzoo.train import TrainConfig, train
from tokzoo.train.state import list_checkpoints

DATA = "bundled:heldout"
FINETUNE = "fsq-f8-s"
FINETUNE_TEST = "bundled:test"


def finetune_config(out: Path, steps: int) -> TrainConfig:
    """A short fine-tune of the pretrained ``FINETUNE`` on the scikit-image photos (64 px crops)."""
    return TrainConfig(
        model=FINETUNE, init=f"pretrained:{FINETUNE}", data="bundled:train", image_size=64, crop_scale=(0.15, 1.0),
        batch_size=16, max_steps=steps, lr=2e-5, warmup_steps=10, seed=0, out_dir=str(out), ckpt_every=50,
        log_every=10,
    )  # fmt: skip


def _floor_line(name: str, s: dict) -> str:
    gap = s["psnr"]["mean"] - s["thumb_psnr"]["mean"]
    where = "above" if gap > 0 else "below"
    return (
        f"  {name:<15} {s['bits']['mean']:>6.0f} bits/image ({s['bpp']['mean']:.3f} bpp)  PSNR {s['psnr']['mean']:.2f} dB"
        f"  {abs(gap):.2f} dB {where} the floor (thumbnail {s['thumb_psnr']['mean']:.2f} dB)"
        f"  SSIM {s['ssim']['mean']:.3f} vs {s['thumb_ssim']['mean']:.3f}"
    )


def run_demo(
    out: str | Path = "runs/demo", *, steps: int = 100, eval_size: int = 128, rd: bool = True
) -> dict:
    """Evaluate the pretrained tokenizers, compare with codecs (``rd``), fine-tune ``FINETUNE`` for ``steps``;
    returns ``{name: evaluation summary}``."""
    out = Path(out)
    t0 = time.perf_counter()
    names = list_models(modality="image", pretrained=True)
    if not names:
        raise DataError(
            "no pretrained image tokenizer is installed (tokzoo/pretrained/manifest.json is empty)"
        )
    images, _ = load_eval_images(DATA)
    img_names, batch = prepare_images(images, eval_size)
    runs, rd_rows, models = {}, [], {}
    for name in names:
        print(f"[demo] evaluating pretrained {name} on {len(images)} held-out photos", flush=True)
        model = models[name] = create(name, pretrained=True)
        opts = EvalOptions(
            data=DATA, size=eval_size, out=out / name / "metrics.json", grid=out / name / "grid.png",
            title=f"{name} (pretrained), held-out photos",
        )  # fmt: skip
        runs[name] = run_eval(model, opts).result
        if rd:
            rows = rate_distortion(model, img_names, batch, token_counts=[None], sweep_bpp=(), thumb_sides=())
            rd_rows += [r for r in rows if r["point"] != "floor"]  # floors come once, with the sweep below
    if rd:
        print("[demo] codecs and thumbnails at a sweep of rates", flush=True)
        rd_rows += rate_distortion(None, img_names, batch)
        write_rd(rd_rows, out, name="rd", title="pretrained tokenizers vs codecs, held-out photos")
    print(f"[demo] fine-tuning {FINETUNE} for {steps} steps on bundled:train", flush=True)
    ft_out = out / "finetune"
    train(finetune_config(ft_out, steps), resume=bool(list_checkpoints(ft_out / "checkpoints")))
    tuned = load(ft_out / "model")
    tuned_run = run_eval(tuned, EvalOptions(data=DATA, size=eval_size, out=ft_out / "metrics.json")).result
    # The fine-tune's own domain: the scikit-image test photos it did not train on.
    domain = {
        tag: run_eval(
            m, EvalOptions(data=FINETUNE_TEST, size=eval_size, out=ft_out / f"{tag}_test.json")
        ).result.summary["psnr"]["mean"]
        for tag, m in (("before", models[FINETUNE]), ("after", tuned))
    }

    first = min(names, key=lambda n: runs[n].summary["bits"]["mean"])
    grid = comparison_grid(
        [batch[:8]] + [runs[n].reconstructions[:8] for n in names] + [runs[first].thumbnails[:8]]
    )
    png = io.BytesIO()
    Image.fromarray(tensor_to_image(grid)).save(png, format="PNG")
    atomic_write_bytes(out / "grid.png", png.getvalue())
    best = max(names, key=lambda n: runs[n].summary["psnr"]["mean"] - runs[n].summary["thumb_psnr"]["mean"])
    sections = {}
    if rd:
        sections["rd"] = {
            "rows": rd_rows,
            "summary": summarize_rd(rd_rows),
            "figure": plot_rd(rd_rows, "psnr"),
        }
    page = html_report(
        runs[best], f"tokzoo demo: pretrained tokenizers on held-out photos ({best} in detail)", sections
    )
    atomic_write_bytes(out / "report.html", page.render().encode("utf-8"))

    before, after = runs[FINETUNE].summary["psnr"]["mean"], tuned_run.summary["psnr"]["mean"]
    text = f"tokzoo demo: pretrained tokenizers, {len(images)} held-out photos at {eval_size} px\n"
    text += "".join(_floor_line(n, runs[n].summary) + "\n" for n in names)
    text += (
        f"  fine-tune         {FINETUNE}, {steps} steps on bundled:train (scikit-image photos): PSNR on "
        f"{FINETUNE_TEST} {domain['before']:.2f} -> {domain['after']:.2f} dB, on {DATA} {before:.2f} -> {after:.2f} dB\n"
    )
    text += f"  ({steps} steps on 15 photos show the trainer and --init working; they do not improve a model trained on 5,750)\n"
    text += "\n" + format_summary(runs[best], f"{best} in detail") + "\n"
    text += f"  wall time         {time.perf_counter() - t0:.0f} s\n"
    text += f"  outputs           {out}/summary.txt, report.html, grid.png, rd.png, <model>/, finetune/\n"
    atomic_write_bytes(out / "summary.txt", text.encode())
    print(text)
    return {n: r.summary for n, r in runs.items()}
