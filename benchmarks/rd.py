"""Rate–distortion: the pretrained fsq-f8-s vs JPEG/WebP/AVIF/JPEG XL at equal bytes and the equal-bits thumbnail.

Uses the shipped pretrained ``fsq-f8-s`` (the highest-rate tokenizer ``make demo`` evaluates) and measures, on the
bundled held-out photos:

1. at 128 px: tokenizer, codecs and thumbnails          -> results/rd/rd_128.{csv,png}, rd_128_summary.csv
2. at 256 px: codecs and thumbnails only (the floors)   -> results/rd/rd_256_codecs.*
3. the codecs' floors (lowest quality) at both sizes    -> results/rd_floors.csv
4. at 128 px on rendered text pages, OCR word accuracy  -> results/rd/rd_text_128.*  (needs rapidocr)

With ``--docs`` the plots are also copied to docs/img/ (how the committed ones were made).

python benchmarks/rd.py --docs          # everything (a few minutes with a trained demo model)
python benchmarks/rd.py --skip-text     # without the OCR part
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import time
from pathlib import Path

from PIL import Image

import tokzoo
from common import RESULTS, write_results
from tokzoo.bench.codecs import CODECS
from tokzoo.bench.protocol import prepare_images
from tokzoo.bench.rd import rate_distortion, summarize_rd, text_rate_distortion, write_rd
from tokzoo.core.errors import DataError
from tokzoo.data import bundled_images, tensor_to_image

ROOT = Path(__file__).resolve().parent.parent
DOCS_IMG = ROOT / "docs" / "img"
TEXT_SWEEP_BPP = (0.25, 0.5, 1.0, 2.0)


def demo_model() -> tokzoo.Tokenizer:
    """The shipped highest-rate pretrained tokenizer (what `make demo` evaluates in detail)."""
    return tokzoo.create("fsq-f8-s", pretrained=True)


def print_summary(rows: list[dict], title: str) -> None:
    print(f"\n{title}")
    metrics = [
        k for k in ("psnr", "ssim", "ms_ssim", "ocr_word_acc") if any(r.get(k) is not None for r in rows)
    ]
    print(f"  {'method':<34} {'point':<22} {'fit':>5} {'bpp':>8} " + " ".join(f"{m:>12}" for m in metrics))
    for r in summarize_rd(rows):
        vals = " ".join(f"{r[m]:>12.4f}" if r.get(m) is not None else f"{'-':>12}" for m in metrics)
        bpp = f"{r['bpp']:.4f}" if r["bpp"] is not None else "-"
        print(f"  {r['method']:<34} {r['point']:<22} {r['fit']:>2}/{r['images']:<2} {bpp:>8} {vals}")


def jpeg_standard_tables_floor(images) -> list[float]:
    """JPEG at quality 1 with Pillow's default (standard) Huffman tables, in bpp, for comparison."""
    out = []
    for x in images:
        buf = io.BytesIO()
        Image.fromarray(tensor_to_image(x)).save(buf, "JPEG", quality=1)
        out.append(8 * len(buf.getvalue()) / (x.shape[-2] * x.shape[-1]))
    return out


def floors_table(rows_by_size: dict[int, list[dict]], images_by_size: dict) -> list[dict]:
    table = []
    for size, rows in rows_by_size.items():
        for codec in CODECS.values():
            floor = [r for r in rows if r["method"] == codec.label and r["point"] == "floor"]
            bpp = [r["bpp"] for r in floor]
            table.append({
                "size": size, "codec": codec.name, "quality": floor[0]["quality"],
                "bytes_min": min(r["bits"] for r in floor) // 8, "bytes_max": max(r["bits"] for r in floor) // 8,
                "bpp_min": min(bpp), "bpp_mean": statistics.mean(bpp), "bpp_max": max(bpp),
                "psnr_mean": statistics.mean(r["psnr"] for r in floor),
            })  # fmt: skip
        std = jpeg_standard_tables_floor(images_by_size[size])
        table.append({
            "size": size, "codec": "jpeg (standard Huffman tables)", "quality": 1,
            "bytes_min": round(min(std) * size * size / 8), "bytes_max": round(max(std) * size * size / 8),
            "bpp_min": min(std), "bpp_mean": statistics.mean(std), "bpp_max": max(std), "psnr_mean": None,
        })  # fmt: skip
    return table


def save(rows: list[dict], name: str, title: str, docs: bool) -> None:
    paths = write_rd(rows, RESULTS / "rd", name=name, title=title)
    print(f"  wrote {', '.join(str(p.relative_to(ROOT)) for p in paths)}")
    if docs:
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(paths[2], DOCS_IMG / f"{name}.png")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--skip-text", action="store_true", help="skip the OCR word-accuracy part")
    p.add_argument("--docs", action="store_true", help="also copy the plots to docs/img/")
    a = p.parse_args()
    t0 = time.perf_counter()
    model = demo_model()
    photos = bundled_images("test")
    names, x128 = prepare_images(photos, 128)
    _, x256 = prepare_images(photos, 256)

    rows128 = rate_distortion(model, names, x128)
    print_summary(rows128, f"{model.registry_name} (pretrained) vs codecs, bundled test photos at 128 px")
    save(
        rows128,
        "rd_128",
        f"{model.registry_name} vs codecs and the thumbnail: bundled test photos, 128 px",
        a.docs,
    )

    rows256 = rate_distortion(None, names, x256, thumb_sides=(4, 8, 16, 32, 64))
    print_summary(rows256, "codecs alone, bundled test photos at 256 px")
    save(rows256, "rd_256_codecs", "codecs and the thumbnail: bundled test photos, 256 px", a.docs)

    print("\ncodec floors (lowest quality)")
    write_results("rd_floors", floors_table({128: rows128, 256: rows256}, {128: x128, 256: x256}))

    if not a.skip_text:
        try:
            rows_text = text_rate_distortion(
                model, size=128, words_per_bin=6, sweep_bpp=TEXT_SWEEP_BPP, thumb_sides=(4, 8, 16, 32)
            )
        except DataError as e:  # no OCR engine installed: say so, keep the other results
            print(f"\ntext part skipped: {e}")
        else:
            print_summary(rows_text, "OCR word accuracy on rendered text pages at 128 px")
            save(
                rows_text,
                "rd_text_128",
                f"{model.registry_name} vs codecs on rendered text, 128 px",
                a.docs,
            )
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
