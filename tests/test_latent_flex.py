"""FlexTok over a conv autoencoder's latent grid (flex-f16-s-64): prefixes, causality, the frozen autoencoder,
warm start from a grid tokenizer, mixed-length batches and refusals."""

import pytest
import torch

import tokzoo
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.tokens import Tokens
from tokzoo.train.trainer import transfer_matching

CONV = dict(image_size=32, ch=8, ch_mult=(1, 2, 2), z_channels=16)
TINY = dict(**CONV, width=32, encoder_depth=1, decoder_depth=1, heads=2, num_tokens=8)


def tiny(**overrides):
    return tokzoo.create("flex-f16-s-64", **{**TINY, **overrides})


def trained_a_little(model, steps=2):
    """A few optimizer steps so the resampler and the query decoder are not at their initialisation."""
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(steps):
        loss, _ = model.loss(torch.rand(2, 3, 32, 32))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def test_every_prefix_decodes_and_prefixes_are_nested():
    model = trained_a_little(tiny())
    x = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        full = model.encode(x)
        assert full.layout == "seq1d" and full.ids.shape == (3, 8) and full.vocab_size == 1000
        for k in (1, 3, 8):
            short = model.encode(x, num_tokens=k)
            assert torch.equal(short.ids, full.ids[:, :k])
            image = model.decode(short)
            assert image.shape == (3, 3, 32, 32) and image.min() >= 0 and image.max() <= 1
        assert not torch.allclose(model.reconstruct(x, num_tokens=1), model.reconstruct(x, num_tokens=8))


def test_registers_are_causal():
    """Register i never sees registers after it: changing the later ones leaves the first ones unchanged."""
    model = trained_a_little(tiny())
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        before = model._registers(model._cells(x))
        model.registers[5:] += torch.randn_like(model.registers[5:])
        after = model._registers(model._cells(x))
    assert torch.allclose(before[:, :5], after[:, :5], atol=1e-6)
    assert not torch.allclose(before[:, 5:], after[:, 5:])


def test_mixed_lengths_in_one_batch_equal_one_sample_at_a_time():
    model = trained_a_little(tiny())
    x = torch.rand(4, 3, 32, 32)
    lengths = [1, 8, 3, 5]
    with torch.no_grad():
        full = model.encode(x)
        mixed = Tokens(full.ids, torch.tensor(lengths), full.vocab_size, full.layout, full.shape, full.meta)
        batched = model.decode(mixed)
        for i, k in enumerate(lengths):
            alone = model.decode(model.encode(x[i : i + 1], num_tokens=k))
            assert torch.allclose(batched[i], alone[0], atol=1e-5)


@pytest.mark.parametrize("latent_loss", [True, False])
def test_frozen_grid_tokenizer_gets_no_gradient_and_the_resampler_does(latent_loss):
    model = tiny(latent_loss=latent_loss)
    loss, logs = model.loss(torch.rand(2, 3, 32, 32))
    loss.backward()
    for part in (model.encoder, model.quantizer, model.decoder):
        assert all(p.grad is None for p in part.parameters())
    assert all(p.grad is not None for p in model.resampler.parameters())
    assert model.registers.grad is not None and model.grid_out.weight.grad is not None
    assert ("code_match" in logs) == latent_loss and ("psnr" in logs) != latent_loss
    unfrozen = tiny(freeze_autoencoder=False, latent_loss=False)
    unfrozen.loss(torch.rand(2, 3, 32, 32))[0].backward()
    assert all(p.grad is not None for p in unfrozen.encoder.parameters())


def test_train_decoder_trains_the_decoder_on_continuous_cells_and_keeps_the_encoder_frozen():
    torch.manual_seed(0)
    model = tiny(latent_loss=False, train_decoder=True)
    model.loss(torch.rand(2, 3, 32, 32))[0].backward()
    for part in (model.encoder, model.quantizer):
        assert all(p.grad is None for p in part.parameters())
    assert all(p.grad is not None for p in model.decoder.parameters())
    assert model.last_layer() is model.decoder.net[-1].weight
    # The decoder reads the un-rounded prediction: nudging a cell within its grid code changes the picture.
    with torch.no_grad():
        cells = model._cells(torch.rand(1, 3, 32, 32))
        nudged = cells + 1e-4
        assert torch.equal(model.quantizer(cells).ids, model.quantizer(nudged).ids)
        assert not torch.allclose(model._render(cells), model._render(nudged))
        model.cfg.train_decoder = False
        assert torch.allclose(model._render(cells), model._render(nudged))
    with pytest.raises(ConfigError, match="train_decoder"):
        tiny(train_decoder=True)  # latent_loss on
    with pytest.raises(ConfigError, match="train_decoder"):
        tiny(train_decoder=True, latent_loss=False, freeze_autoencoder=False)


def test_latent_loss_is_zero_when_the_prediction_is_the_encoders_latent():
    """The regression target is the grid FSQ's view of the encoder's latent: predicting the latent itself
    scores 0 and matches every code; the rendering then equals the grid tokenizer's own reconstruction."""
    model = tiny(drop_schedule="none").eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        cells = model._cells(x)
        assert torch.equal(model._code_space(cells), model._code_space(cells.clone()))
        grid = tokzoo.create("fsq-f16-s", ch=8, ch_mult=(1, 2, 2), z_channels=16).eval()
        transfer_matching(grid, model)
        assert torch.allclose(model._render(model._cells(x)), grid.autoencode(x).rec, atol=1e-5)


def test_warm_start_from_a_grid_tokenizer_copies_its_autoencoder():
    grid = tokzoo.create("fsq-f16-s", ch=8, ch_mult=(1, 2, 2), z_channels=16)
    model = tiny()
    share, fresh = transfer_matching(grid, model)
    for name in ("encoder", "quantizer", "decoder"):
        for (k, a), b in zip(
            getattr(grid, name).state_dict().items(), getattr(model, name).state_dict().values(), strict=False
        ):
            assert torch.equal(a, b), f"{name}.{k}"
    assert 0 < share < 1 and any(k.startswith("resampler.") for k in fresh)


def test_refusals():
    model = tiny().eval()
    with pytest.raises(ValueError, match="num_tokens must be in"):
        model.encode(torch.rand(1, 3, 32, 32), num_tokens=9)
    with pytest.raises(DataError, match="32x32"):
        model.encode(torch.rand(1, 3, 64, 64))
    with pytest.raises(DataError, match="seq1d"):
        model.decode(Tokens.from_ids(torch.zeros(1, 4, dtype=torch.long), 1000, "grid2d", (2, 2)))
    with pytest.raises(ConfigError, match="multiple of the conv downsampling"):
        tiny(image_size=30)
    with pytest.raises(ConfigError, match="1-D prefix"):
        tiny(quantizer="rvq")
    with pytest.raises(ConfigError, match="frozen encoder"):
        tiny(freeze_autoencoder=False)
    fixed = tiny(drop_schedule="none").eval()
    assert fixed.token_counts() == [8]
    with pytest.raises(ValueError, match="fixed-length"):
        fixed.encode(torch.rand(1, 3, 32, 32), num_tokens=4)
