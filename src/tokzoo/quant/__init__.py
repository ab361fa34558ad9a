"""Quantizers: one file per family behind the ``Quantizer`` interface, selectable by name."""

from tokzoo.quant.base import Quantizer, QuantOut, codebook_stats
from tokzoo.quant.bottleneck import Bottleneck
from tokzoo.quant.bsq import BSQ
from tokzoo.quant.config import QuantizerConfig
from tokzoo.quant.dual import DualCodebookVQ
from tokzoo.quant.fsq import FSQ
from tokzoo.quant.gq import GroupLFQ
from tokzoo.quant.kl import KLBottleneck
from tokzoo.quant.lfq import LFQ
from tokzoo.quant.multiscale import MultiScaleResidualQuantizer, MultiScaleResidualQuantizer1d
from tokzoo.quant.ptq import PostTrainingQuantizer
from tokzoo.quant.registry import build_quantizer, list_quantizers, register_quantizer
from tokzoo.quant.residual import ResidualVQ
from tokzoo.quant.vq import VectorQuantizer

__all__ = [
    "BSQ",
    "FSQ",
    "LFQ",
    "Bottleneck",
    "DualCodebookVQ",
    "GroupLFQ",
    "KLBottleneck",
    "MultiScaleResidualQuantizer",
    "MultiScaleResidualQuantizer1d",
    "PostTrainingQuantizer",
    "QuantOut",
    "Quantizer",
    "QuantizerConfig",
    "ResidualVQ",
    "VectorQuantizer",
    "build_quantizer",
    "codebook_stats",
    "list_quantizers",
    "register_quantizer",
]
