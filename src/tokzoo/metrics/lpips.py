"""LPIPS (AlexNet, v0.1) in plain torch: a learned perceptual distance, lower is more similar.

"The Unreasonable Effectiveness of Deep Features as a Perceptual Metric" (Zhang et al., 2018). Images are
scaled to [-1, 1] and shifted/scaled per channel, passed through AlexNet's five conv+ReLU stages ("ImageNet
Classification with Deep Convolutional Neural Networks", Krizhevsky et al., 2012); each stage's features are
unit-normalised over channels, their squared difference is weighted per channel by a learned 1×1 layer,
averaged over positions, and the five stages are summed. Needs two standard weight files: the AlexNet backbone
(torchvision's ``alexnet-owt-7be5be79.pth``, keys ``features.N.*``) and the LPIPS heads (``alex.pth`` of the
``lpips`` package, keys ``linN.model.1.weight``).
"""

from __future__ import annotations

import os

import torch
from torch import nn

from tokzoo.metrics.weights import find_weights, load_into, read_weights

LPIPS_ENV = "TOKZOO_LPIPS_WEIGHTS"
BACKBONE_ENV = "TOKZOO_LPIPS_BACKBONE"
LPIPS_WEIGHT_FILES = ("alex.pth", "lpips_alex_v0.1.pth", "lpips_alex_v0.1.safetensors")
BACKBONE_WEIGHT_FILES = ("alexnet-owt-7be5be79.pth", "alexnet-owt-4df8aa71.pth", "alexnet.safetensors")
STAGE_CHANNELS = (64, 192, 384, 256, 256)
TAPS = (1, 4, 7, 9, 11)  # indices of the ReLUs after conv1..conv5 in ``features``


def alexnet_features() -> nn.Sequential:
    """AlexNet's convolutional trunk with torchvision's layer indices (so its weight names load as they are)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, stride=4, padding=2),
        nn.ReLU(inplace=False),
        nn.MaxPool2d(3, stride=2),
        nn.Conv2d(64, 192, 5, padding=2),
        nn.ReLU(inplace=False),
        nn.MaxPool2d(3, stride=2),
        nn.Conv2d(192, 384, 3, padding=1),
        nn.ReLU(inplace=False),
        nn.Conv2d(384, 256, 3, padding=1),
        nn.ReLU(inplace=False),
        nn.Conv2d(256, 256, 3, padding=1),
        nn.ReLU(inplace=False),
    )


class AlexNetTrunk(nn.Module):
    """Holds ``features`` so torchvision's keys (``features.0.weight`` ...) map one to one."""

    def __init__(self):
        super().__init__()
        self.features = alexnet_features()


class LinearHead(nn.Module):
    """One 1×1 channel weighting, named like the ``lpips`` package's (``model.1.weight``)."""

    def __init__(self, channels: int):
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(p=0.0), nn.Conv2d(channels, 1, 1, bias=False))


class LPIPSHeads(nn.Module):
    def __init__(self):
        super().__init__()
        for i, c in enumerate(STAGE_CHANNELS):
            self.add_module(f"lin{i}", LinearHead(c))


class LPIPS(nn.Module):
    """Per-image LPIPS distance of (B, 3, H, W) batches in [0, 1]."""

    def __init__(self):
        super().__init__()
        self.net = AlexNetTrunk()
        self.heads = LPIPSHeads()
        self.register_buffer(
            "shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1), persistent=False
        )
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1), persistent=False)

    def _stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = ((2 * x - 1) - self.shift) / self.scale
        out = []
        for i, layer in enumerate(self.net.features):
            x = layer(x)
            if i in TAPS:
                out.append(x / (x.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10))
        return out

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        total = torch.zeros(len(pred), device=pred.device)
        for i, (a, b) in enumerate(zip(self._stages(pred), self._stages(target), strict=True)):
            head = getattr(self.heads, f"lin{i}")
            total = total + head.model((a - b) ** 2).mean(dim=(1, 2, 3))
        return total


def load_lpips(
    heads: str | os.PathLike[str] | None = None, backbone: str | os.PathLike[str] | None = None
) -> LPIPS | None:
    """LPIPS with the standard heads and AlexNet weights (paths, environment variables or caches), or None when
    either file is not found (LPIPS is then reported as unavailable, never computed from random weights)."""
    head_path = find_weights(heads, LPIPS_ENV, LPIPS_WEIGHT_FILES)
    trunk_path = find_weights(backbone, BACKBONE_ENV, BACKBONE_WEIGHT_FILES)
    if head_path is None or trunk_path is None:
        return None
    model = LPIPS()
    load_into(model.net, read_weights(trunk_path), trunk_path, ignore_prefixes=("classifier.",))
    load_into(model.heads, read_weights(head_path), head_path)
    return model.eval()


@torch.no_grad()
def lpips_distance(
    model: LPIPS, pred: torch.Tensor, target: torch.Tensor, batch_size: int = 16
) -> torch.Tensor:
    """Per-image LPIPS of two (N, 3, H, W) batches in [0, 1] (computed in batches, returned on CPU)."""
    device = next(model.parameters()).device
    parts = [
        model(pred[i : i + batch_size].to(device), target[i : i + batch_size].to(device)).cpu()
        for i in range(0, len(pred), batch_size)
    ]
    return torch.cat(parts)
