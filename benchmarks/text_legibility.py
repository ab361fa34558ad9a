"""Text legibility per font-size bin (TokBench-style): the pretrained fsq-f8-s against JPEG/WebP at equal bytes.

Renders dictionary words (Debian wamerican) in DejaVu, Liberation and Noto fonts at 6–48 px on plain colours
and on crops of the held-out bundled photos (256×256 pages, seed 0), reconstructs them with the demo
tokenizer (the shipped pretrained fsq-f8-s) and with each codec at the
tokenizer's byte cost per page (the largest file that fits; a page below the codec's floor is coded at its
lowest quality and its real size is counted), and reads every known word box with OCR on the original (the
ceiling) and on each reconstruction.

Writes results/text_legibility.csv|json and docs/img/text_legibility.png (plain pages per bin: original,
tokenizer, codecs).

python benchmarks/text_legibility.py                       # RapidOCR, 50 words per bin
python benchmarks/text_legibility.py --engine tesseract    # second engine (apt-get install tesseract-ocr)
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import tokzoo
from common import write_results
from tokzoo.bench.codecs import BelowCodecFloor, available_codecs, encode_to_budget, get_codec
from tokzoo.bench.ocr import ocr_read
from tokzoo.bench.text import legibility_table, reconstruct
from tokzoo.bench.text_render import pages_to_tensor, render_pages

ROOT = Path(__file__).resolve().parent.parent
FIGURE = ROOT / "docs" / "img" / "text_legibility.png"
FIGURE_BINS = ("8-11px", "12-15px", "16-23px", "24-31px")


def demo_model() -> tokzoo.Tokenizer:
    """The shipped highest-rate pretrained tokenizer (what `make demo` evaluates in detail)."""
    return tokzoo.create("fsq-f8-s", pretrained=True)


def codec_at_budget(pages: list, codec: str, budget: int) -> tuple[list[np.ndarray], list[int], int]:
    """Each page coded to at most ``budget`` bytes (its floor when it cannot); images, bytes, pages over."""
    images, sizes, over = [], [], 0
    for page in pages:
        try:
            enc = encode_to_budget(page.image, codec, budget)
        except BelowCodecFloor as e:
            enc = encode_to_budget(page.image, codec, e.floor_bytes)
            over += 1
        images.append(enc.image)
        sizes.append(enc.nbytes)
    return images, sizes, over


def figure(pages: list, columns: dict[str, list[np.ndarray]], path: Path) -> None:
    """One row per size bin (its first plain page), one column per method; 128×128 top-left crops at 2×."""
    rows = []
    for label in FIGURE_BINS:
        i = next(k for k, p in enumerate(pages) if p.size_bin == label and p.background == "plain")
        tiles = [
            Image.fromarray(col[i][:128, :128]).resize((256, 256), Image.Resampling.NEAREST)
            for col in columns.values()
        ]
        rows.append(
            np.concatenate(
                [np.pad(np.asarray(t), ((2, 2), (2, 2), (0, 0)), constant_values=255) for t in tiles], 1
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, 0)).save(path, optimize=True)
    print(f"figure: {path.relative_to(ROOT)} (rows {', '.join(FIGURE_BINS)}; columns {', '.join(columns)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--words-per-bin", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engine", default="rapidocr", choices=["rapidocr", "tesseract"])
    parser.add_argument("--codecs", default="jpeg,webp")
    args = parser.parse_args()
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    pages = render_pages(args.size, seed=args.seed, words_per_bin=args.words_per_bin)
    boxes = [[w.box for w in p.words] for p in pages]
    print(f"{len(pages)} pages, {sum(len(b) for b in boxes)} words, {args.engine}")
    model = demo_model()
    x = pages_to_tensor(pages)
    bits = model.encode(x[:1]).nbits_per_sample()[0]
    budget = math.ceil(bits / 8)
    pixels = args.size * args.size
    originals = ocr_read([p.image for p in pages], boxes, args.engine)
    methods: dict[str, tuple[list[np.ndarray] | torch.Tensor, float, int]] = {
        f"{model.registry_name} (pretrained)": (reconstruct(model, x), float(budget), 0)
    }
    for codec in [c for c in args.codecs.split(",") if c in available_codecs()]:
        images, sizes, over = codec_at_budget(pages, codec, budget)
        methods[get_codec(codec).label] = (images, float(np.mean(sizes)), over)
    rows, columns = [], {"original": [p.image for p in pages]}
    for name, (recs, mean_bytes, over) in methods.items():
        result = legibility_table(pages, recs, engine=args.engine, original_reads=originals)
        for r in result.rows:
            rows.append({"method": name, "engine": args.engine, "mean_bytes": mean_bytes,
                         "bpp": 8 * mean_bytes / pixels, "pages_over_budget": over, **r})  # fmt: skip
        columns[name] = _all_reconstructions(recs)
    write_results(f"text_legibility_{args.engine}" if args.engine != "rapidocr" else "text_legibility", rows)
    if args.engine == "rapidocr":
        figure(pages, columns, FIGURE)
    print(f"budget {budget} bytes/page ({bits} token bits), {time.perf_counter() - t0:.0f} s")


def _all_reconstructions(recs: list[np.ndarray] | torch.Tensor) -> list[np.ndarray]:
    if isinstance(recs, torch.Tensor):
        return list((recs * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy())
    return list(recs)


if __name__ == "__main__":
    main()
