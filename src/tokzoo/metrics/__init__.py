"""Metrics: fidelity, token-stream statistics, aggregation."""

from tokzoo.metrics.fidelity import ms_ssim, ms_ssim_min_side, psnr, quantize_uint8, sam, ssim, uqi, vif
from tokzoo.metrics.summary import mean_ci
from tokzoo.metrics.token_stats import token_stats
from tokzoo.quant.base import codebook_stats

__all__ = [
    "codebook_stats",
    "mean_ci",
    "ms_ssim",
    "ms_ssim_min_side",
    "psnr",
    "quantize_uint8",
    "sam",
    "ssim",
    "token_stats",
    "uqi",
    "vif",
]
