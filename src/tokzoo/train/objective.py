"""The full image-tokenizer training objective on a tokenizer's ``autoencode`` output.

    L_G = pixel(x̂, x) + perceptual_weight · LPIPS(x̂, x) + aux + gan_weight · λ · hinge_G(D(x̂))   (after gan_start)
    L_D = hinge_D(D(x), D(x̂))                                                                  (after gan_start)

``aux`` is the tokenizer's own non-pixel loss (commitment, entropy, KL, semantic); λ is VQGAN's adaptive
weight (``discriminator.adaptive_weight``) or 1. Pixel losses: ``mse``, ``l1``, ``mse+l1`` (MSE + 0.5·L1, the
tokenizers' own default) and ``msssim`` (0.84·(1 − MS-SSIM) + 0.16·L1, "Loss Functions for Image Restoration
with Neural Networks", Zhao et al., 2017; three scales, 7-px window, so it works from 32 px crops). The
perceptual term needs LPIPS weights on disk (``tokzoo.metrics.lpips``); without them it is switched off with
one log line, never computed from random weights.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.functional.image import multiscale_structural_similarity_index_measure as ms_ssim

from tokzoo.core.autoencode import AutoencodeOut
from tokzoo.core.errors import ConfigError
from tokzoo.metrics.lpips import load_lpips
from tokzoo.train.discriminator import PatchDiscriminator, adaptive_weight, hinge_d_loss, hinge_g_loss

log = logging.getLogger("tokzoo.train")
PIXEL_LOSSES = ("model", "mse", "l1", "mse+l1", "msssim")
MSSSIM_BETAS = (0.3, 0.4, 0.3)  # three scales (of the five in Wang et al. 2003, renormalised)


def pixel_loss(name: str, rec: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The named pixel loss between a reconstruction and its target (both in [0, 1])."""
    if name == "mse":
        return F.mse_loss(rec, target)
    if name == "l1":
        return F.l1_loss(rec, target)
    if name == "mse+l1":
        return F.mse_loss(rec, target) + 0.5 * F.l1_loss(rec, target)
    if name == "msssim":
        sim = ms_ssim(rec.clamp(0, 1), target, data_range=1.0, kernel_size=7, betas=MSSSIM_BETAS)
        return 0.84 * (1 - sim) + 0.16 * F.l1_loss(rec, target)
    raise ConfigError(f"pixel_loss must be one of {', '.join(PIXEL_LOSSES)}, got {name!r}")


class ImageObjective(nn.Module):
    """Pixel + perceptual + adversarial losses; holds the discriminator (a second model with its own optimizer)."""

    def __init__(
        self,
        pixel: str,
        *,
        perceptual_weight: float = 0.0,
        gan_weight: float = 0.0,
        gan_start: int = 0,
        adaptive: bool = True,
        disc_ch: int = 64,
        disc_layers: int = 3,
    ) -> None:
        super().__init__()
        if pixel == "model":
            raise ConfigError(
                "pixel_loss 'model' uses the tokenizer's own loss: pick mse, l1, mse+l1 or msssim"
            )
        pixel_loss(pixel, torch.zeros(1, 3, 32, 32), torch.zeros(1, 3, 32, 32))  # validates the name
        self.pixel, self.perceptual_weight = pixel, perceptual_weight
        self.gan_weight, self.gan_start, self.adaptive = gan_weight, gan_start, adaptive
        self.lpips = None
        if perceptual_weight > 0:
            self.lpips = load_lpips()
            if self.lpips is None:
                log.warning(
                    "perceptual loss off: no LPIPS weights found (set TOKZOO_LPIPS_WEIGHTS and "
                    "TOKZOO_LPIPS_BACKBONE to alex.pth and the AlexNet weights to turn it on)"
                )
            else:
                self.lpips.requires_grad_(False)
        self.discriminator = (
            PatchDiscriminator(ch=disc_ch, num_layers=disc_layers) if gan_weight > 0 else None
        )

    def gan_active(self, step: int) -> bool:
        """Whether the adversarial terms are on at ``step`` (0-based optimizer step)."""
        return self.discriminator is not None and step >= self.gan_start

    def generator_loss(
        self,
        out: AutoencodeOut,
        target: torch.Tensor,
        step: int,
        last_layer: torch.Tensor | None,
        discriminator: nn.Module | None = None,
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """The tokenizer's loss at ``step``; ``discriminator`` is the (possibly DDP-wrapped) one to call."""
        rec = out.rec
        mse = F.mse_loss(rec.detach(), target)
        logs: dict[str, Any] = {
            "rec_mse": mse,
            "rec_l1": F.l1_loss(rec.detach(), target),
            "psnr": -10 * torch.log10(mse.clamp_min(1e-10)),
            "vq_loss": out.aux_loss.detach(),
        }
        nll = pixel_loss(self.pixel, rec, target)
        if self.lpips is not None:
            self.lpips.to(rec.device)
            p = self.lpips(rec, target).mean()
            nll = nll + self.perceptual_weight * p
            logs["lpips"] = p.detach()
        total = nll + out.aux_loss
        if self.gan_active(step):
            disc = discriminator if discriminator is not None else self.discriminator
            g = hinge_g_loss(disc(rec))
            w = (
                adaptive_weight(nll, g, last_layer)
                if self.adaptive and last_layer is not None
                else torch.ones(())
            )
            total = total + self.gan_weight * w * g
            logs.update({"g_loss": g.detach(), "gan_lambda": w})
        logs.update(out.logs)
        return total, logs

    def discriminator_loss(
        self, rec: torch.Tensor, target: torch.Tensor, discriminator: nn.Module | None = None
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """Hinge loss of the discriminator on real ``target`` and detached fake ``rec``."""
        disc = discriminator if discriminator is not None else self.discriminator
        real, fake = disc(target), disc(rec.detach())
        loss = hinge_d_loss(real, fake)
        return loss, {"d_loss": loss.detach(), "d_real": real.detach().mean(), "d_fake": fake.detach().mean()}
