"""A continuous Gaussian (VAE) bottleneck with a KL penalty toward N(0, I).

Method: "Auto-Encoding Variational Bayes" (Kingma & Welling, 2014), as used for continuous tokens by e.g.
MingTok (2025) and VAT's Gaussian mapping.
"""

from __future__ import annotations

import torch
from torch import nn

from tokzoo.core.errors import ConfigError
from tokzoo.quant.base import Quantizer, QuantOut
from tokzoo.quant.registry import register_quantizer


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Elementwise ``KL(N(mu, exp(logvar)) || N(0, 1))``."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


@register_quantizer("kl")
class KLBottleneck(Quantizer):
    """VAE bottleneck ("Auto-Encoding Variational Bayes", Kingma & Welling, 2014).

    ``Linear(dim, 2 * latent_dim)`` maps ``z`` to the posterior mean and log-variance; training samples
    ``mu + sigma * eps`` (reparameterisation), eval uses ``mu``; ``Linear(latent_dim, dim)`` maps back so the
    latents have the input's shape. Both maps start as the identity on the mean (when ``latent_dim == dim``)
    and the log-variance head starts at the constant ``logvar_init`` (zero weights), so an untrained bottleneck passes ``z`` through (plus noise in
    training). The loss is ``kl_weight * mean KL`` (mean over positions and latent dims).

    There are no ids: ``ids`` is None, ``codebook_size`` None, ``bits_per_token`` None, and the rate is
    ``latent_dim`` continuous dimensions per position. ``stats`` has ``kl``, ``mean_abs_mu`` and
    ``mean_sigma``; the codebook keys ``usage``, ``perplexity`` and ``entropy_bits`` exist but are NaN, as
    for every continuous bottleneck.

    Args:
        dim: channel size of the input ``z[..., dim]``.
        latent_dim: dimensions of the Gaussian latent (default ``dim``).
        kl_weight: weight of the KL term in ``loss``.
        logvar_init: initial log-variance (bias of the log-variance head).
        logvar_clamp: log-variance is clamped to ``[-logvar_clamp, logvar_clamp]`` for stability.
    """

    codebook_size = None
    token_kind = "continuous"

    def __init__(
        self,
        dim: int,
        latent_dim: int | None = None,
        *,
        kl_weight: float = 1e-6,
        logvar_init: float = 0.0,
        logvar_clamp: float = 30.0,
    ) -> None:
        super().__init__()
        self.dim = dim
        self.latent_dim = latent_dim or dim
        self.kl_weight = kl_weight
        self.logvar_clamp = logvar_clamp
        self.to_moments = nn.Linear(dim, 2 * self.latent_dim)
        self.from_latent = nn.Linear(self.latent_dim, dim)
        with torch.no_grad():
            if self.latent_dim == dim:
                eye = torch.eye(dim)
                self.to_moments.weight[: self.latent_dim].copy_(eye)
                self.to_moments.bias[: self.latent_dim].zero_()
                self.from_latent.weight.copy_(eye)
                self.from_latent.bias.zero_()
            self.to_moments.weight[self.latent_dim :].zero_()
            self.to_moments.bias[self.latent_dim :].fill_(logvar_init)

    @torch.no_grad()
    def adopt(self, source: nn.Module, *, logvar: float = -5.0) -> list[str]:
        """Warm-start from another quantizer's linear projections ``proj_in`` (``dim -> latent_dim``) and
        ``proj_out`` (``latent_dim -> dim``), e.g. an FSQ bottleneck of ``latent_dim`` channels: the mean head
        takes ``proj_in``, ``from_latent`` takes ``proj_out`` and the log-variance head starts at the constant
        ``logvar`` (-5: variance 0.007, the order of 5-level FSQ's rounding noise, step**2 / 12 = 0.02),
        so the decoder first sees the source's latents before its tanh bound and rounding.

        Returns the names of this module's tensors that were set (empty when the shapes do not fit, and then
        nothing changes).
        """
        p_in, p_out = getattr(source, "proj_in", None), getattr(source, "proj_out", None)
        fits = (
            isinstance(p_in, nn.Linear)
            and isinstance(p_out, nn.Linear)
            and p_in.weight.shape == (self.latent_dim, self.dim)
            and p_out.weight.shape == (self.dim, self.latent_dim)
        )
        if not fits:
            return []
        d = self.latent_dim
        self.to_moments.weight[:d].copy_(p_in.weight)
        self.to_moments.bias[:d].copy_(p_in.bias)
        self.to_moments.weight[d:].zero_()
        self.to_moments.bias[d:].fill_(logvar)
        self.from_latent.weight.copy_(p_out.weight)
        self.from_latent.bias.copy_(p_out.bias)
        return ["to_moments.weight", "to_moments.bias", "from_latent.weight", "from_latent.bias"]

    def moments(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and (clamped) log-variance, each ``[..., latent_dim]``."""
        mu, logvar = self.to_moments(z).chunk(2, dim=-1)
        return mu, logvar.clamp(-self.logvar_clamp, self.logvar_clamp)

    def forward(self, z: torch.Tensor) -> QuantOut:
        with torch.autocast(device_type=z.device.type, enabled=False):
            return self._bottleneck(z.float())

    def _bottleneck(self, z: torch.Tensor) -> QuantOut:
        mu, logvar = self.moments(z)
        sigma = torch.exp(0.5 * logvar)
        sample = mu + sigma * torch.randn_like(mu) if self.training else mu
        kl = gaussian_kl(mu, logvar).mean()
        nan = torch.tensor(float("nan"), device=z.device)
        stats = {
            "kl": kl.detach(),
            "mean_abs_mu": mu.detach().abs().mean(),
            "mean_sigma": sigma.detach().mean(),
            "usage": nan,
            "perplexity": nan.clone(),
            "entropy_bits": nan.clone(),
        }
        return QuantOut(self.from_latent(sample), None, self.kl_weight * kl, stats)

    def latent_values(self, z: torch.Tensor) -> torch.Tensor:
        """What a continuous token stores: the posterior mean ``[..., latent_dim]`` (deterministic)."""
        with torch.autocast(device_type=z.device.type, enabled=False):
            return self.moments(z.float())[0]

    def values_to_latents(self, values: torch.Tensor) -> torch.Tensor:
        """Stored values ``[..., latent_dim]`` -> latents ``[..., dim]`` (what eval-mode ``forward`` returns)."""
        return self.from_latent(values.float())

    def ids_to_latents(self, ids: torch.Tensor) -> torch.Tensor:
        raise ConfigError(
            "KLBottleneck is continuous and has no ids; decode its latents directly instead of ids"
        )
