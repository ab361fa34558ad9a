"""Quantizers: one file per family behind the ``Quantizer`` interface."""

from tokzoo.quant.base import Quantizer, QuantOut, codebook_stats
from tokzoo.quant.vq import VectorQuantizer

__all__ = ["QuantOut", "Quantizer", "VectorQuantizer", "codebook_stats"]
