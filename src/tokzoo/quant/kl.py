"""A continuous Gaussian (VAE) bottleneck with a KL penalty toward N(0, I).

Method: "Auto-Encoding Variational Bayes" (Kingma & Welling, 2014), as used for continuous tokens by e.g.
MingTok (2025) and VAT's Gaussian mapping.
"""

from __future__ import annotations

import torch
from torch import nn

from tokzoo.core.errors import ConfigError
from tokzoo.quant.base import Quantizer, QuantOut
from tokzoo.quant.ptq import NotFittedError, PostTrainingQuantizer
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

    **Stored through a post-training grid** (``store_bins`` > 0): the posterior means are kept as ids of a
    per-dimension quantile grid fitted after training (TokenBridge's quantizer, :mod:`tokzoo.quant.ptq`;
    "Bridging Continuous and Discrete Tokens for Autoregressive Visual Generation", 2025), so the bottleneck
    gives ``depth`` tokens of ``latent_dim`` ids over ``store_bins`` codes per position instead of float values.
    Training is unchanged (samples, KL); ``fit(z)`` fits the grid on the means of trained latents and eval-mode
    ``forward`` then decodes the grid's centres. The grid's buffers live under ``store.``; a bottleneck without
    a grid ignores them when loading, so one weight file serves both forms.

    Args:
        dim: channel size of the input ``z[..., dim]``.
        latent_dim: dimensions of the Gaussian latent (default ``dim``).
        kl_weight: weight of the KL term in ``loss``.
        logvar_init: initial log-variance (bias of the log-variance head).
        logvar_clamp: log-variance is clamped to ``[-logvar_clamp, logvar_clamp]`` for stability.
        store_bins: 0 (store float values) or the bins per dimension of the post-training storage grid.
    """

    def __init__(
        self,
        dim: int,
        latent_dim: int | None = None,
        *,
        kl_weight: float = 1e-6,
        logvar_init: float = 0.0,
        logvar_clamp: float = 30.0,
        store_bins: int = 0,
    ) -> None:
        super().__init__()
        if (
            isinstance(store_bins, bool)
            or not isinstance(store_bins, int)
            or store_bins == 1
            or store_bins < 0
        ):
            raise ConfigError(f"kl store_bins must be 0 (float values) or at least 2, got {store_bins!r}")
        self.dim = dim
        self.latent_dim = latent_dim or dim
        self.store = PostTrainingQuantizer(self.latent_dim, store_bins) if store_bins else None
        self.codebook_size = store_bins or None
        self.token_kind = "depth" if store_bins else "continuous"
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
        ids = None
        if self.store is not None and (not self.training or self.store.is_fitted):
            self._require_store()
            stored = self.store(mu.detach())
            ids = stored.ids  # training keeps the samples; eval decodes the grid's centres
            sample = sample if self.training else stored.latents
            stats.update({k: stored.stats[k] for k in ("usage", "perplexity", "entropy_bits")})
        return QuantOut(self.from_latent(sample), ids, self.kl_weight * kl, stats)

    @property
    def fittable(self) -> bool:
        """Whether ``fit`` applies: only with a storage grid (``store_bins`` > 0)."""
        return self.store is not None

    @torch.no_grad()
    def fit(self, z: torch.Tensor) -> KLBottleneck:
        """Fit the storage grid on the posterior means of trained latents ``z[..., dim]``; returns self."""
        if self.store is None:
            raise ConfigError(
                "this kl bottleneck stores float values (store_bins=0): there is nothing to fit"
            )
        self.store.fit(self.latent_values(z).reshape(-1, self.latent_dim))
        return self

    def _require_store(self) -> None:
        if self.store is not None and not self.store.is_fitted:
            raise NotFittedError(
                f"the kl bottleneck's storage grid ({self.store.bins} bins) is not fitted: fit the trained model "
                "on images first (tokzoo fit, or model.fit(images))"
            )

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        if self.store is None:  # a weight file with a storage grid also serves the float form
            for key in [k for k in state_dict if k.startswith(prefix + "store.")]:
                del state_dict[key]
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def latent_values(self, z: torch.Tensor) -> torch.Tensor:
        """What a continuous token stores: the posterior mean ``[..., latent_dim]`` (deterministic)."""
        with torch.autocast(device_type=z.device.type, enabled=False):
            return self.moments(z.float())[0]

    def values_to_latents(self, values: torch.Tensor) -> torch.Tensor:
        """Stored values ``[..., latent_dim]`` -> latents ``[..., dim]`` (what eval-mode ``forward`` returns)."""
        return self.from_latent(values.float())

    def ids_to_latents(self, ids: torch.Tensor) -> torch.Tensor:
        """With a storage grid: ``ids[..., latent_dim]`` -> latents ``[..., dim]`` (the grid's centres)."""
        if self.store is None:
            raise ConfigError(
                "KLBottleneck is continuous and has no ids; decode its latents directly instead of ids"
            )
        self._require_store()
        return self.from_latent(self.store.ids_to_latents(ids))
