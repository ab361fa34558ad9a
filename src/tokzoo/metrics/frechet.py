"""Fréchet distance between Gaussians fitted to features, and reconstruction FID (rFID) with Inception-v3.

"GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium" (Heusel et al., 2017):
d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½). The trace of the matrix square root is computed as the sum of
square roots of the eigenvalues of the symmetric PSD matrix Σ₁^½ Σ₂ Σ₁^½ (same eigenvalues as Σ₁Σ₂), in
float64, which stays real and stable even for the rank-deficient covariances of small image sets.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from tokzoo.core.errors import DataError
from tokzoo.metrics.inception import FID_WEIGHT_FILES, FIDInceptionV3
from tokzoo.metrics.weights import find_weights, load_into, read_weights

FID_ENV = "TOKZOO_FID_WEIGHTS"


def gaussian_stats(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased, N − 1) covariance of (N, D) features, in float64."""
    f = np.asarray(features.cpu() if isinstance(features, torch.Tensor) else features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise DataError(f"Fréchet statistics need at least 2 feature vectors of shape (N, D), got {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise DataError(
            f"Fréchet distance: mismatched shapes {mu1.shape}, {s1.shape}, {mu2.shape}, {s2.shape}"
        )
    root1 = _sqrt_psd(s1)
    cross = np.linalg.eigvalsh(root1 @ s2 @ root1)
    trace_sqrt = float(np.sqrt(np.clip(cross, 0, None)).sum())
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt)


def load_fid_inception(path: str | os.PathLike[str] | None = None) -> FIDInceptionV3 | None:
    """The FID Inception-v3 with the standard weights (``path``, ``$TOKZOO_FID_WEIGHTS`` or a cache), or None
    when no weight file is found (rFID is then reported as unavailable, never computed from random weights)."""
    found = find_weights(path, FID_ENV, FID_WEIGHT_FILES)
    if found is None:
        return None
    return load_into(FIDInceptionV3(), read_weights(found), found, ignore_prefixes=("fc.", "AuxLogits."))


@torch.no_grad()
def inception_features(net: FIDInceptionV3, images: torch.Tensor, batch_size: int = 16) -> torch.Tensor:
    """(N, 2048) pool features of images (N, 3, H, W) in [0, 1]."""
    device = next(net.parameters()).device
    parts = [net(images[i : i + batch_size].to(device)).cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(parts)


def rfid(net: FIDInceptionV3, originals: torch.Tensor, reconstructions: torch.Tensor) -> float:
    """Reconstruction FID: Fréchet distance between Inception features of originals and reconstructions."""
    a = gaussian_stats(inception_features(net, originals))
    b = gaussian_stats(inception_features(net, reconstructions))
    return frechet_distance(*a, *b)
