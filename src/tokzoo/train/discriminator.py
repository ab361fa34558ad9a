"""A PatchGAN discriminator with hinge losses, for the adversarial term of VQGAN-class recipes.

"Image-to-Image Translation with Conditional Adversarial Networks" (Isola et al., 2017) introduced the patch
discriminator; "Taming Transformers for High-Resolution Image Synthesis" (Esser et al., 2021) uses it with the
hinge loss ("Geometric GAN", Lim & Ye, 2017) and an adaptive weight; the same setup trains the tokenizers of
MaskGIT, LlamaGen and TiTok. Normalisation is GroupNorm rather than BatchNorm, so a sample's score never
depends on the other samples of its batch or on the number of ranks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PatchDiscriminator(nn.Module):
    """Image (B, 3, H, W) in [0, 1] → a (B, 1, h, w) map of real/fake logits, one per overlapping patch."""

    def __init__(self, in_channels: int = 3, ch: int = 64, num_layers: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ch, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        cur = ch
        for i in range(1, num_layers + 1):
            nxt = ch * min(2**i, 8)
            stride = 2 if i < num_layers else 1
            layers += [
                nn.Conv2d(cur, nxt, 4, stride=stride, padding=1, bias=False),
                nn.GroupNorm(min(32, nxt // 4), nxt),
                nn.LeakyReLU(0.2),
            ]
            cur = nxt
        layers.append(nn.Conv2d(cur, 1, 4, stride=1, padding=1))
        self.net = nn.Sequential(*layers)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 2 - 1)


def hinge_d_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    """Discriminator hinge loss: ``mean(relu(1 - D(x))) + mean(relu(1 + D(x̂)))``, halved."""
    return 0.5 * (F.relu(1.0 - logits_real).mean() + F.relu(1.0 + logits_fake).mean())


def hinge_g_loss(logits_fake: torch.Tensor) -> torch.Tensor:
    """Generator hinge loss: ``-mean(D(x̂))``."""
    return -logits_fake.mean()


def adaptive_weight(
    nll_loss: torch.Tensor, g_loss: torch.Tensor, last_layer: torch.Tensor, max_weight: float = 1e4
) -> torch.Tensor:
    """VQGAN's balance: ``‖∇_w nll‖ / (‖∇_w g_loss‖ + 1e-4)`` at the decoder's last weight ``w``, clamped
    to ``[0, max_weight]`` and detached, so the adversarial gradient matches the reconstruction's scale."""
    nll_grad = torch.autograd.grad(nll_loss, last_layer, retain_graph=True)[0]
    g_grad = torch.autograd.grad(g_loss, last_layer, retain_graph=True)[0]
    return (nll_grad.norm() / (g_grad.norm() + 1e-4)).clamp(0.0, max_weight).detach()
