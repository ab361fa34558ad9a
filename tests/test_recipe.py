"""The full training recipe: discriminator + hinge + adaptive weight, EMA, MS-SSIM/L1 losses, LPIPS when its
weights exist, progressive crops, gradient checkpointing, bf16 — and a killed run resumes all of it exactly."""

import logging

import pytest
import torch
from safetensors.torch import save_file

import tokzoo
from tokzoo.core.autoencode import Autoencoding
from tokzoo.metrics.lpips import LPIPS
from tokzoo.nn import set_grad_checkpointing
from tokzoo.train import ConfigError, TrainConfig, Trainer
from tokzoo.train.discriminator import PatchDiscriminator, adaptive_weight, hinge_d_loss, hinge_g_loss
from tokzoo.train.ema import EMA
from tokzoo.train.objective import pixel_loss
from tokzoo.train.state import list_checkpoints

TINY = {"ch": 8, "z_channels": 16, "code_dim": 8, "codebook_size": 64}
FULL = dict(pixel_loss="mse+l1", gan_weight=0.5, gan_start=3, ema_decay=0.9, disc_ch=8, disc_layers=2)


def tiny_cfg(out, **kw) -> TrainConfig:
    base = dict(
        model="vq-f8-s", model_overrides=TINY, data="bundled:train", image_size=32, batch_size=4,
        max_steps=8, lr=3e-3, warmup_steps=2, out_dir=str(out), ckpt_every=4, log_every=1, progress=False,
    )  # fmt: skip
    base.update(kw)
    return TrainConfig(**base)


class Recorder:
    def __init__(self, stop_at=None):
        self.logs, self.stop_at = {}, stop_at

    def __call__(self, step, logs):
        self.logs[step] = dict(logs)
        if step == self.stop_at:
            raise KeyboardInterrupt("simulated kill")


def test_hinge_losses_known_values():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.5])
    # relu(1 - real) = [0, 0.5] -> 0.25; relu(1 + fake) = [0, 1.5] -> 0.75; halved sum = 0.5
    assert hinge_d_loss(real, fake).item() == pytest.approx(0.5)
    assert hinge_g_loss(fake).item() == pytest.approx(0.75)


def test_adaptive_weight_is_the_gradient_norm_ratio():
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    nll, g = (3 * w).sum(), (w**2).sum()  # grads: [3, 3] and [2, 4]
    expected = torch.tensor([3.0, 3.0]).norm() / (torch.tensor([2.0, 4.0]).norm() + 1e-4)
    assert adaptive_weight(nll, g, w).item() == pytest.approx(expected.item(), rel=1e-6)


def test_patch_discriminator_scores_patches():
    logits = PatchDiscriminator(ch=8, num_layers=3)(torch.rand(2, 3, 64, 64))
    assert logits.shape == (2, 1, 6, 6)


def test_ema_warms_up_and_averages():
    model = torch.nn.Linear(2, 1)
    ema = EMA(model, decay=0.99)
    assert ema.decay_at(0) == pytest.approx(0.1) and ema.decay_at(10**6) == 0.99
    start = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model, step=0)  # weight 0.9 towards the new value
    avg = EMA(model, 0.5)
    avg.load_state_tensors(ema.state_tensors())
    target = torch.nn.Linear(2, 1)
    assert torch.allclose(avg.copy_to(target).weight, start + 0.9)


def test_pixel_losses():
    x = torch.rand(2, 3, 32, 32)
    for name in ("mse", "l1", "mse+l1", "msssim"):
        assert pixel_loss(name, x, x).item() == pytest.approx(0.0, abs=1e-5), name
        assert pixel_loss(name, x.flip(-1), x).item() > 0.01, name
    y = x.clone().requires_grad_(True)
    pixel_loss("msssim", y * 0.9, x).backward()
    assert torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0


def test_every_pixel_tokenizer_hands_over_its_reconstruction():
    for name in ("vq-f8-s", "flex-t-32", "hieratok-t", "matryoshka-t"):
        model = tokzoo.create(name)
        assert isinstance(model, Autoencoding), name
        size = 64
        out = model(torch.rand(2, 3, size, size), autoencode=True)
        assert out.rec.shape == (2, 3, size, size) and out.aux_loss.dim() == 0
        assert model.last_layer().requires_grad


def test_full_recipe_kill_and_resume_matches_uninterrupted_run(tmp_path):
    kw = dict(max_steps=10, size_schedule=[[0, 32], [6, 48]], **FULL)
    full = Recorder()
    Trainer(tiny_cfg(tmp_path / "a", **kw), callbacks=[full]).fit()
    assert "d_loss" not in full.logs[3] and "d_loss" in full.logs[4]  # the discriminator starts at step 3
    killed = Recorder(stop_at=6)
    with pytest.raises(KeyboardInterrupt):
        Trainer(tiny_cfg(tmp_path / "b", **kw), callbacks=[killed]).fit()
    assert [s for s, _ in list_checkpoints(tmp_path / "b" / "checkpoints")] == [4]
    resumed = Recorder()
    Trainer(tiny_cfg(tmp_path / "b", **kw), callbacks=[resumed]).fit(resume=True)
    for step in range(5, 11):
        for key in ("loss", "d_loss", "g_loss", "gan_lambda"):
            assert resumed.logs[step][key] == pytest.approx(full.logs[step][key], rel=1e-5, abs=1e-6), (
                step,
                key,
            )
    for sub in ("model", "model_raw"):
        a, b = tokzoo.load(tmp_path / "a" / sub), tokzoo.load(tmp_path / "b" / sub)
        for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            assert torch.allclose(va, vb, atol=1e-6), (sub, k)
    ema, raw = tokzoo.load(tmp_path / "a" / "model"), tokzoo.load(tmp_path / "a" / "model_raw")
    assert not torch.allclose(ema.decoder.net[-1].weight, raw.decoder.net[-1].weight)


def test_progressive_crop_size(tmp_path):
    sizes = {}

    class Sizes:
        def __call__(self, step, logs):
            sizes[step] = trainer.dataset.size

    trainer = Trainer(tiny_cfg(tmp_path, max_steps=4, size_schedule=[[0, 32], [2, 64]]), callbacks=[Sizes()])
    trainer.fit()
    assert sizes == {1: 32, 2: 32, 3: 64, 4: 64}


def test_gradient_checkpointing_gives_the_same_gradients():
    torch.manual_seed(0)
    model = tokzoo.create("vq-f8-s", **TINY)
    x = torch.rand(2, 3, 32, 32)

    def grads():
        model.zero_grad()
        torch.manual_seed(1)
        model.train()
        model(x)[0].backward()
        return [p.grad.clone() for p in model.parameters() if p.grad is not None]

    plain = grads()
    assert set_grad_checkpointing(model) > 0
    for a, b in zip(plain, grads(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


@pytest.fixture
def fresh_accelerate_state():
    """Accelerate keeps one global state per process; reset it around a run with another precision."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


def test_bf16_autocast_step(tmp_path, fresh_accelerate_state):
    last = Trainer(tiny_cfg(tmp_path, max_steps=2, mixed_precision="bf16", **FULL)).fit()
    assert torch.isfinite(torch.tensor(last["loss"]))


def test_perceptual_loss_off_without_weights_and_on_with_them(tmp_path, monkeypatch, caplog):
    for env in ("TOKZOO_LPIPS_WEIGHTS", "TOKZOO_LPIPS_BACKBONE", "TOKZOO_CACHE"):
        monkeypatch.delenv(env, raising=False)
    monkeypatch.setenv("TOKZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path))
    cfg = dict(max_steps=1, pixel_loss="l1", perceptual_weight=1.0)
    with caplog.at_level(logging.WARNING, logger="tokzoo.train"):
        last = Trainer(tiny_cfg(tmp_path / "off", **cfg)).fit()
    assert "lpips" not in last and "perceptual loss off" in caplog.text
    lp = LPIPS()
    save_file({k: v.contiguous() for k, v in lp.net.state_dict().items()}, tmp_path / "alexnet.safetensors")
    heads = {k: v.abs().contiguous() for k, v in lp.heads.state_dict().items()}
    save_file(heads, tmp_path / "lpips_alex_v0.1.safetensors")
    monkeypatch.setenv("TOKZOO_LPIPS_WEIGHTS", str(tmp_path / "lpips_alex_v0.1.safetensors"))
    monkeypatch.setenv("TOKZOO_LPIPS_BACKBONE", str(tmp_path / "alexnet.safetensors"))
    last = Trainer(tiny_cfg(tmp_path / "on", **cfg)).fit()
    assert last["lpips"] > 0


@pytest.mark.parametrize(
    "overrides, match",
    [
        (dict(gan_weight=0.1), "pixel_loss must name a pixel loss"),
        (dict(pixel_loss="ssim"), "pixel_loss must be one of"),
        (dict(size_schedule=[[5, 64], [2, 32]]), "size_schedule"),
        (dict(ema_decay=1.0), "ema_decay"),
    ],
)
def test_recipe_config_errors(tmp_path, overrides, match):
    with pytest.raises(ConfigError, match=match):
        tiny_cfg(tmp_path, **overrides)


def test_resume_refuses_a_changed_recipe(tmp_path):
    Trainer(tiny_cfg(tmp_path, max_steps=4, **FULL)).fit()
    with pytest.raises(ConfigError, match="gan_weight"):
        Trainer(tiny_cfg(tmp_path, max_steps=8, **{**FULL, "gan_weight": 0.1})).fit(resume=True)
