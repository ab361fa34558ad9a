"""Registered flexible-length 1D tokenizers: TiTok configured with a kept-prefix training schedule.

- ``onedpiece-*``: tail token drop, "One-D-Piece: Image Tokenizer Meets Quality-Controllable Compression"
  (Miwa et al., 2025) — bidirectional encoder, kept length uniform in ``1..K``.
- ``flex-*``: nested dropout with causal register tokens, "FlexTok: Resampling Images into 1D Token Sequences of
  Flexible Length" (Bachmann et al., 2025) — causal latents, power-of-two kept lengths. (FlexTok's rectified-flow
  decoder is replaced by the deterministic TiTok decoder here.)
- ``retok-*``: FlexTok-style training plus redundant token padding, "ReTok: … Redundant Token Padding and
  Hierarchical Semantic Regularization" (2026), uniform kept lengths; hierarchical semantic regularization is
  switched on with ``semantic_weight > 0`` and a ``teacher`` checkpoint (see ``tokzoo.image.semantic``).
"""

from __future__ import annotations

from dataclasses import replace

from tokzoo.core.presets import register_preset
from tokzoo.image.titok import TiTokConfig, TiTokTokenizer, base_config, small_config

VARIANTS = {
    "onedpiece": (dict(drop_schedule="uniform"), "One-D-Piece tail token drop"),
    "flex": (dict(drop_schedule="pow2", causal_tokens=True), "FlexTok nested dropout, causal registers"),
    "retok": (
        dict(drop_schedule="uniform", causal_tokens=True, redundant_padding=True),
        "ReTok redundant token padding over nested dropout",
    ),
}

SIZES = {
    "t": (TiTokConfig(), (16, 32, 64), "64 px, width 128, 3+3 blocks (CPU)"),
    "s": (small_config(256), (128, 256), "256 px, width 512, 8+8 blocks, 4096 codes (GPU)"),
    "b": (base_config(256), (256,), "256 px, width 768, 12+12 blocks, 4096 codes (GPU)"),
}


def _register() -> None:
    for variant, (options, method) in VARIANTS.items():
        for size, (base, counts, what) in SIZES.items():
            for k in counts:
                cfg = replace(base, num_tokens=k, **options)
                description = f"{method}; any prefix of 1..{k} tokens decodes; {what}."
                register_preset(f"{variant}-{size}-{k}", TiTokTokenizer, cfg, description)


_register()
