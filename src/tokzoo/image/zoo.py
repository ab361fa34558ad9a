"""Architectures of the shipped pretrained image tokenizers (weights: ``tokzoo.pretrained``; model cards and
the commands that trained them: ``docs/pretrained.md``).

All take 128 px images (the grid and KL models any multiple of their downsampling factor) and span the rates
a 128 px image is tokenized at in the literature, 0.04–0.25 bits per pixel:

=================  =============================  ==========================  ==================
name               architecture                   tokens at 128 px            bits per image
=================  =============================  ==========================  ==================
``fsq-f16-s``      conv grid, 16× down, FSQ 1000   8×8 = 64                    640
``fsq-f8-s-lo``    conv grid, 8× down, FSQ 32      16×16 = 256                 1,280
``fsq-f8-s``       conv grid, 8× down, FSQ 1000    16×16 = 256                 2,560
``flex-f16-s-64``  FlexTok resampler over         any prefix of 1–64          10 per token
                   ``fsq-f16-s``'s frozen grid
``kl-f16-s``       conv grid, 16× down, KL, 4 ch   8×8 × 4 values (fp16)       4,096
``kl-f16-s-q16``   ``kl-f16-s``, means stored on   8×8 × 4 ids of 16 bins      1,024
                   a fitted 16-bin grid per dim
``kl-f16-s-q32``   the same on a 32-bin grid       8×8 × 4 ids of 32 bins      1,280
=================  =============================  ==========================  ==================

``flex-f16-s-64`` is defined in :mod:`tokzoo.image.latent_flex`. ``flex-fsq-s-64`` (a pixel-space ViT with
nested dropout) was shipped before it and is kept as an architecture; its weights are no longer shipped.

FSQ: "Finite Scalar Quantization: VQ-VAE Made Simple" (Mentzer et al., 2024); the FSQ ids are packed
mixed-radix, so 1000 codes cost 10 bits in the ``.tok`` container (9.97 in theory).
"""

from __future__ import annotations

from tokzoo.core.presets import register_preset
from tokzoo.image.grid_vq import GridVQConfig, GridVQTokenizer
from tokzoo.image.titok import TiTokConfig, TiTokTokenizer

FSQ_1000 = {"quantizer": "fsq", "quantizer_options": {"levels": [8, 5, 5, 5]}}
FSQ_32 = {"quantizer": "fsq", "quantizer_options": {"levels": [8, 4]}}
F16 = (1, 2, 2, 4, 4)

register_preset(
    "fsq-f16-s", GridVQTokenizer, GridVQConfig(ch_mult=F16, **FSQ_1000),
    "2D FSQ grid, 16x downsampling, 1000 codes: 64 tokens = 640 bits per 128 px image (pretrained).",
)  # fmt: skip
register_preset(
    "fsq-f8-s-lo", GridVQTokenizer, GridVQConfig(**FSQ_32),
    "2D FSQ grid, 8x downsampling, 32 codes: 256 tokens = 1280 bits per 128 px image (pretrained).",
)  # fmt: skip
register_preset(
    "fsq-f8-s", GridVQTokenizer, GridVQConfig(**FSQ_1000),
    "2D FSQ grid, 8x downsampling, 1000 codes: 256 tokens = 2560 bits per 128 px image (pretrained).",
)  # fmt: skip
register_preset(
    "kl-f16-s", GridVQTokenizer,
    GridVQConfig(ch_mult=F16, quantizer="kl", quantizer_options={"latent_dim": 4, "kl_weight": 1e-6}),
    "Continuous KL autoencoder, 16x downsampling, 4 fp16 values per cell: 4096 bits at 128 px (pretrained).",
)  # fmt: skip
for _bins in (16, 32):  # kl-f16-s-q16 and -q32: kl-f16-s + a grid; 8x8x4 = 256 ids of log2(bins) bits
    register_preset(
        f"kl-f16-s-q{_bins}", GridVQTokenizer,
        GridVQConfig(ch_mult=F16, quantizer="kl",
                     quantizer_options={"latent_dim": 4, "kl_weight": 1e-6, "store_bins": _bins}),
        f"kl-f16-s with its 4 posterior means per cell stored through a fitted {_bins}-bin grid per dimension "
        f"(TokenBridge post-training quantization): {256 * (_bins.bit_length() - 1)} bits at 128 px "
        "(pretrained: kl-f16-s's weights).",
    )  # fmt: skip
register_preset(
    "flex-fsq-s-64", TiTokTokenizer,
    TiTokConfig(
        image_size=128, patch_size=16, width=192, encoder_depth=4, decoder_depth=4, heads=4, num_tokens=64,
        drop_schedule="pow2", causal_tokens=True, **FSQ_1000,
    ),
    "FlexTok-style 1D tokens at 128 px from pixels (ViT): any prefix of 1..64 FSQ tokens (10 bits each) decodes.",
)  # fmt: skip
