"""Optional learned metrics: the Fréchet distance against its closed form, and safe loading of rFID/LPIPS weights."""

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from tokzoo.core.errors import CheckpointError
from tokzoo.metrics.frechet import frechet_distance, gaussian_stats, load_fid_inception, rfid
from tokzoo.metrics.inception import FEATURE_DIM, FIDInceptionV3
from tokzoo.metrics.lpips import LPIPS, load_lpips, lpips_distance
from tokzoo.metrics.weights import read_weights


@pytest.fixture(autouse=True)
def no_weight_caches(tmp_path, monkeypatch):
    """Point every weight lookup at empty folders so the tests see only the files they create."""
    monkeypatch.setenv("TOKZOO_WEIGHTS_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    for env in ("TOKZOO_FID_WEIGHTS", "TOKZOO_LPIPS_WEIGHTS", "TOKZOO_LPIPS_BACKBONE"):
        monkeypatch.delenv(env, raising=False)


def test_frechet_diagonal_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])  # standard deviations
    expected = float(((mu1 - mu2) ** 2).sum() + ((s1 - s2) ** 2).sum())  # (1 + 0 + 4) + (9 + 9 + 0) = 23
    assert frechet_distance(mu1, np.diag(s1**2), mu2, np.diag(s2**2)) == pytest.approx(expected, rel=1e-10)
    assert expected == 23


def test_frechet_commuting_covariances_closed_form():
    # Σ1 = Q diag(a) Qᵀ, Σ2 = Q diag(b) Qᵀ commute; then d² = ‖Δμ‖² + Σ (√a − √b)²
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    a, b = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    expected = float(((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum())
    got = frechet_distance(mu1, q @ np.diag(a) @ q.T, mu2, q @ np.diag(b) @ q.T)
    assert got == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(mu1, q @ np.diag(a) @ q.T, mu1, q @ np.diag(a) @ q.T) == pytest.approx(
        0, abs=1e-9
    )


def test_frechet_of_sampled_gaussian_features():
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 1.0, size=(20000, 4))
    y = rng.normal(0.5, 2.0, size=(20000, 4))
    expected = 4 * 0.5**2 + 4 * (2.0 - 1.0) ** 2  # 5
    assert frechet_distance(*gaussian_stats(x), *gaussian_stats(y)) == pytest.approx(expected, rel=0.03)


def test_frechet_rank_deficient_covariance_stays_finite():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(5, 64)), rng.normal(size=(5, 64))  # 5 samples in 64-d: covariance of rank 4
    d = frechet_distance(*gaussian_stats(x), *gaussian_stats(y))
    assert np.isfinite(d) and d > 0


def save_lpips_weights(model: LPIPS, folder):
    """Write the two files the way the standard ones are laid out (torch.save backbone, lpips heads)."""
    trunk = {**model.net.state_dict(), "classifier.1.weight": torch.zeros(4096, 9216)[:2, :3]}
    torch.save(trunk, folder / "alexnet-owt-7be5be79.pth")
    save_file(model.heads.state_dict(), folder / "alex.safetensors")
    return folder / "alex.safetensors", folder / "alexnet-owt-7be5be79.pth"


def test_lpips_weights_round_trip(tmp_path):
    torch.manual_seed(0)
    original = LPIPS().eval()
    with torch.no_grad():  # LPIPS heads are non-negative weights
        for p in original.heads.parameters():
            p.abs_()
    heads, trunk = save_lpips_weights(original, tmp_path)
    loaded = load_lpips(heads, trunk)
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(2, 3, 64, 64, generator=g), torch.rand(2, 3, 64, 64, generator=g)
    assert torch.allclose(lpips_distance(loaded, x, y), lpips_distance(original, x, y))
    assert torch.allclose(lpips_distance(loaded, x, x), torch.zeros(2))
    assert (lpips_distance(loaded, x, y) > 0).all()


def test_lpips_found_in_cache_or_unavailable(tmp_path, monkeypatch):
    assert load_lpips() is None  # nothing anywhere: unavailable, not random weights
    cache = tmp_path / "cache"
    cache.mkdir()
    model = LPIPS()
    torch.save(model.net.state_dict(), cache / "alexnet-owt-7be5be79.pth")
    assert load_lpips() is None  # the heads are still missing
    torch.save(model.heads.state_dict(), cache / "alex.pth")
    assert isinstance(load_lpips(), LPIPS)


def test_wrong_weights_are_refused_with_the_key(tmp_path):
    heads = LPIPS().heads.state_dict()
    heads["lin2.model.1.weight"] = torch.zeros(1, 383, 1, 1)
    save_file(heads, tmp_path / "bad.safetensors")
    trunk = tmp_path / "trunk.pth"
    torch.save(LPIPS().net.state_dict(), trunk)
    with pytest.raises(CheckpointError, match=r"lin2\.model\.1\.weight.*\(1, 383, 1, 1\).*\(1, 384, 1, 1\)"):
        load_lpips(tmp_path / "bad.safetensors", trunk)
    with pytest.raises(CheckpointError, match="weight file not found"):
        load_lpips(tmp_path / "nope.pth", trunk)
    small = tmp_path / "partial.pth"
    torch.save({"lin0.model.1.weight": torch.zeros(1, 64, 1, 1)}, small)
    with pytest.raises(CheckpointError, match="missing tensor 'lin1"):
        load_lpips(small, trunk)


def test_pickled_objects_are_not_executed(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"w": torch.zeros(1), "cfg": {1, 2}}, path)  # a set is not an allowed plain type
    with pytest.raises(CheckpointError, match=r"evil\.pth"):
        read_weights(path)
    (tmp_path / "junk.pth").write_bytes(b"not weights at all")
    with pytest.raises(CheckpointError, match=r"junk\.pth"):
        read_weights(tmp_path / "junk.pth")


def test_fid_inception_wrong_file_and_absence(tmp_path, monkeypatch):
    assert load_fid_inception() is None
    bad = tmp_path / "bad.safetensors"
    save_file({"Conv2d_1a_3x3.conv.weight": torch.zeros(32, 3, 5, 5)}, bad)
    with pytest.raises(CheckpointError, match=r"Conv2d_1a_3x3\.conv\.weight.*\(32, 3, 3, 3\)"):
        load_fid_inception(bad)
    monkeypatch.setenv("TOKZOO_FID_WEIGHTS", str(tmp_path / "missing.pth"))
    with pytest.raises(CheckpointError, match=r"missing\.pth.*TOKZOO_FID_WEIGHTS"):
        load_fid_inception()


@pytest.mark.slow
def test_fid_inception_weights_round_trip(tmp_path):
    torch.manual_seed(0)
    net = FIDInceptionV3().eval()
    state = {**net.state_dict(), "fc.weight": torch.zeros(1008, FEATURE_DIM), "fc.bias": torch.zeros(1008)}
    torch.save(state, tmp_path / "pt_inception-2015-12-05-6726825d.pth")
    loaded = load_fid_inception(tmp_path / "pt_inception-2015-12-05-6726825d.pth")
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(loaded(x), net(x), atol=1e-5)
        assert loaded(x).shape == (2, FEATURE_DIM)
    y = torch.rand(3, 3, 48, 48, generator=torch.Generator().manual_seed(2))
    assert rfid(loaded, y, y) == pytest.approx(0.0, abs=1e-6)
    assert rfid(loaded, y, y.flip(-1).roll(7, -2) * 0.5) > 0
