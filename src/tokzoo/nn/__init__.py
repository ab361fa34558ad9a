"""Neural building blocks shared by tokenizers."""

from tokzoo.nn.checkpointing import set_grad_checkpointing
from tokzoo.nn.conv import ConvDecoder, ConvEncoder, Downsample, ResBlock, Upsample

__all__ = ["ConvDecoder", "ConvEncoder", "Downsample", "ResBlock", "Upsample", "set_grad_checkpointing"]
