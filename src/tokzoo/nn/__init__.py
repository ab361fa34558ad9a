"""Neural building blocks shared by tokenizers."""

from tokzoo.nn.conv import ConvDecoder, ConvEncoder, Downsample, ResBlock, Upsample

__all__ = ["ConvDecoder", "ConvEncoder", "Downsample", "ResBlock", "Upsample"]
