"""``ImageTokenizer``: what every image tokenizer shares — image files in, PNG out, floats (B, 3, H, W) in [0, 1]."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

import torch

from tokzoo.core.tokenizer import Tokenizer
from tokzoo.data.decode import image_to_tensor, load_image, save_image


class ImageTokenizer(Tokenizer):
    """Base of the image tokenizers: ``load_file`` reads any image as a (1, 3, H, W) batch, ``save_file``
    writes one decoded (3, H, W) image (PNG by default, the format follows the suffix)."""

    modality = "image"

    @property
    @abstractmethod
    def input_size(self) -> int:
        """The side of the square images it is built for (a small one it takes where many sizes work)."""

    def example_input(self) -> torch.Tensor:
        return torch.rand(2, self.cfg.in_channels, self.input_size, self.input_size)

    def load_file(self, path: Path) -> torch.Tensor:
        return image_to_tensor(load_image(path))[None]

    def save_file(self, item: torch.Tensor, path: Path) -> None:
        save_image(item, path)
