"""The pixel reconstruction objective shared by every pixel tokenizer (images and video clips)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tokzoo.core.autoencode import AutoencodeOut


def reconstruction_loss(
    rec: torch.Tensor, target: torch.Tensor, quant_loss: torch.Tensor, l1_weight: float
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``MSE + l1_weight·L1 + quant_loss`` and the scalars every training log carries.

    Logs: ``rec_mse``, ``rec_l1``, ``psnr`` (dB, of the MSE on [0, 1] images) and ``vq_loss`` (the bottleneck's
    own loss: commitment, entropy or KL terms), all detached.
    """
    mse = F.mse_loss(rec, target)
    l1 = F.l1_loss(rec, target)
    logs = {
        "rec_mse": mse.detach(),
        "rec_l1": l1.detach(),
        "psnr": -10 * torch.log10(mse.detach().clamp_min(1e-10)),
        "vq_loss": quant_loss.detach(),
    }
    return mse + l1_weight * l1 + quant_loss, logs


def autoencoder_loss(
    out: AutoencodeOut, target: torch.Tensor, l1_weight: float
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """A tokenizer's own objective on its ``autoencode`` output: ``reconstruction_loss`` plus its logs."""
    total, logs = reconstruction_loss(out.rec, target, out.aux_loss, l1_weight)
    logs.update(out.logs)
    return total, logs
