"""What a continuous-latent tokenizer's rate really is: ``kl-f16-s``'s posterior means stored at fewer bits.

``kl-f16-s`` stores its 8×8×4 latent values as float16 (4,096 bits per 128 px image), a storage choice, not a
property of the model: its decoder was trained on samples ``mu + sigma·eps``, so it cannot use precision far
below the posterior noise. This benchmark quantizes the means per dimension after training, with TokenBridge's
post-training quantizer (equal-probability bins with conditional-mean centres, ``quant/ptq.py``; "Bridging
Continuous and Discrete Tokens for Autoregressive Visual Generation", 2025) and, beside it, a uniform grid
between each dimension's 0.1 and 99.9 % quantiles, both fitted on ``--fit`` images; decodes the held-out split
from the quantized means and compares each rate with the equal-bits thumbnail (paired bootstrap CI of the PSNR
gain), and with float16.

python benchmarks/kl_ptq.py --fit data/photos/val --test data/photos/test   ->  results/kl_ptq.{csv,json}
"""

from __future__ import annotations

import argparse
import math

import torch

import tokzoo
from common import write_results
from ship_stored_form import fit_images
from tokzoo.bench.eval_run import drop_small, load_eval_images
from tokzoo.bench.protocol import fidelity_batch, prepare_images, summarize
from tokzoo.bench.thumbnail import thumbnail_reconstruct, thumbnail_side
from tokzoo.core.tokens import Tokens
from tokzoo.quant import build_quantizer


def _images(folder: str, size: int) -> torch.Tensor:
    images, bad = load_eval_images(folder)
    for path, reason in bad:
        print(f"skipped {path}: {reason}")
    return prepare_images(drop_small(images, size)[0], size)[1]


@torch.no_grad()
def _means(model: tokzoo.Tokenizer, images: torch.Tensor) -> tuple[torch.Tensor, Tokens]:
    """Posterior means (N, L, C) as float32, and the tokens of the first batch (for layout and shape)."""
    tokens = [model.encode(b) for b in images.split(32)]
    return torch.cat([t.values.float() for t in tokens]), tokens[0]


class UniformGrid:
    """``bins`` evenly spaced levels per dimension between its 0.1 and 99.9 % quantiles on the fitted values."""

    def __init__(self, values: torch.Tensor, bins: int) -> None:
        flat = values.reshape(-1, values.shape[-1])
        self.lo, self.hi = torch.quantile(flat, 0.001, dim=0), torch.quantile(flat, 0.999, dim=0)
        self.bins = bins

    def __call__(self, values: torch.Tensor) -> torch.Tensor:
        step = (self.hi - self.lo) / (self.bins - 1)
        return ((values - self.lo) / step).round().clamp(0, self.bins - 1) * step + self.lo


def _ptq(values: torch.Tensor, bins: int):
    q = build_quantizer("ptq", values.shape[-1], bins=bins)
    q.fit(values.reshape(-1, values.shape[-1]))
    return lambda v: q.eval()(v.reshape(-1, v.shape[-1])).latents.reshape(v.shape)


@torch.no_grad()
def _row(model, images, means, like: Tokens, quantize, name: str, bits: int) -> dict:
    recs = []
    side = thumbnail_side(bits)
    for x, m in zip(images.split(32), means.split(32), strict=True):
        values = quantize(m) if quantize else m
        tokens = Tokens.from_values(values.to(like.values.dtype), like.layout, like.shape, like.meta)
        pred = model.decode(tokens)
        ours = fidelity_batch(pred, x, ("psnr", "ssim"))
        thumb = fidelity_batch(thumbnail_reconstruct(x, side), x, ("psnr", "ssim"))
        recs += [
            {"psnr": o["psnr"], "ssim": o["ssim"], "thumb_psnr": t["psnr"], "thumb_ssim": t["ssim"],
             "d": o["psnr"] - t["psnr"]}
            for o, t in zip(ours, thumb, strict=True)
        ]  # fmt: skip
    s = summarize(recs, ["psnr", "ssim", "thumb_psnr", "thumb_ssim", "d"])
    return {
        "storage": name, "bits_per_image": bits, "bpp": round(bits / images.shape[-1] / images.shape[-2], 4),
        "psnr": round(s["psnr"]["mean"], 2), "ssim": round(s["ssim"]["mean"], 3),
        "thumb_side": side, "thumb_psnr": round(s["thumb_psnr"]["mean"], 2),
        "thumb_ssim": round(s["thumb_ssim"]["mean"], 3), "d_psnr": round(s["d"]["mean"], 2),
        "d_psnr_ci": f"{s['d']['ci95_low']:.2f}–{s['d']['ci95_high']:.2f}",
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="kl-f16-s", help="a pretrained continuous-latent (kl) image tokenizer")
    p.add_argument("--fit", required=True, help="images the quantizers are fitted on (not the test split)")
    p.add_argument("--test", required=True, help="held-out images")
    p.add_argument("--fit-images", type=int, default=512, help="at most this many fit images, evenly spaced")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--bins", nargs="+", type=int, default=[4, 8, 16, 32, 64, 256])
    a = p.parse_args()
    torch.manual_seed(0)
    model = tokzoo.create(a.name, pretrained=True).eval()
    fit, _ = _means(model, fit_images(a.fit, a.fit_images, a.size))
    test_images = _images(a.test, a.size)
    means, like = _means(model, test_images)
    if like.values is None:
        raise SystemExit(f"{a.name} is not a continuous-latent tokenizer (its tokens have no values)")
    values_per_image = means.shape[1] * means.shape[2]
    value_bits = like.values.element_size() * 8
    print(
        f"{a.name}: {values_per_image} values per image; fitted on {len(fit)} images, {len(means)} held out"
    )
    stored = str(like.values.dtype).removeprefix("torch.")
    rows = [_row(model, test_images, means, like, None, stored, values_per_image * value_bits)]
    print(rows[-1], flush=True)
    for bins in a.bins:
        bits = values_per_image * math.ceil(math.log2(bins))
        for name, quantize in ((f"TokenBridge ptq, {bins} bins", _ptq(fit, bins)),
                               (f"uniform, {bins} levels", UniformGrid(fit, bins))):  # fmt: skip
            rows.append(_row(model, test_images, means, like, quantize, name, bits))
            print(rows[-1], flush=True)
    write_results("kl_ptq", rows)


if __name__ == "__main__":
    main()
