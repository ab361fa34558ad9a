"""VideoFlexTok over a frozen causal 3-D tokenizer's latent grid (video-flex-f4x8-s-32): prefixes, causality,
the frozen autoencoder, warm start from a causal video tokenizer, mixed-length batches, files and refusals."""

import pytest
import torch

import tokzoo
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.tokens import Tokens
from tokzoo.train.trainer import transfer_matching

CONV = dict(ch=8, ch_mult=(1, 2, 2), z_channels=16, temporal_factor=4)
TINY = dict(
    **CONV, frames=5, image_size=16, width=32, encoder_depth=1, decoder_depth=1, heads=2, num_tokens=6
)


def tiny(**overrides):
    return tokzoo.create("video-flex-f4x8-s-32", **{**TINY, **overrides})


def clips(n: int) -> torch.Tensor:
    return torch.rand(n, 3, 5, 16, 16)


def trained_a_little(model, steps=2):
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(steps):
        loss, _ = model.loss(clips(2))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def test_every_prefix_decodes_to_a_clip_and_prefixes_are_nested():
    model = trained_a_little(tiny())
    x = clips(3)
    with torch.no_grad():
        full = model.encode(x)
        assert full.layout == "seq1d" and full.ids.shape == (3, 6) and full.vocab_size == 1000
        for k in (1, 4, 6):
            short = model.encode(x, num_tokens=k)
            assert torch.equal(short.ids, full.ids[:, :k])
            clip = model.decode(short)
            assert clip.shape == (3, 3, 5, 16, 16) and clip.min() >= 0 and clip.max() <= 1
        assert not torch.allclose(model.decode(model.encode(x, num_tokens=1)), model.decode(full))
    assert model.token_counts() == [1, 2, 3, 4, 5, 6]


def test_registers_are_causal_and_cells_cover_space_and_time():
    model = trained_a_little(tiny())
    x = clips(2)
    with torch.no_grad():
        cells = model._cells(x)
        assert cells.shape == (2, 2 * 4 * 4, 16)  # (1 + 4/4) latent frames of 4 x 4
        assert len({tuple(p.tolist()) for p in model.grid_pos}) == 32  # every cell its own position
        before = model._registers(cells)
        model.registers[3:] += torch.randn_like(model.registers[3:])
        after = model._registers(cells)
    assert torch.allclose(before[:, :3], after[:, :3], atol=1e-6)
    assert not torch.allclose(before[:, 3:], after[:, 3:])


def test_mixed_lengths_in_one_batch_equal_one_clip_at_a_time():
    model = trained_a_little(tiny())
    x = clips(3)
    lengths = [1, 6, 3]
    with torch.no_grad():
        full = model.encode(x)
        mixed = Tokens(full.ids, torch.tensor(lengths), full.vocab_size, full.layout, full.shape, full.meta)
        batched = model.decode(mixed)
        for i, k in enumerate(lengths):
            alone = model.decode(model.encode(x[i : i + 1], num_tokens=k))
            assert torch.allclose(batched[i], alone[0], atol=1e-5)
        back = Tokens.from_bytes(mixed.to_bytes())
        assert back.equal(mixed) and torch.allclose(model.decode(back), batched)


def test_only_the_resampler_trains_and_the_loss_falls():
    model = tiny()
    loss, logs = model.loss(clips(2))
    loss.backward()
    for part in (model.encoder, model.quantizer, model.decoder):
        assert all(p.grad is None for p in part.parameters())
    assert all(p.grad is not None for p in model.resampler.parameters())
    assert {"code_mse", "code_match", "kept_tokens"} <= logs.keys()
    torch.manual_seed(0)
    model, x = tiny(drop_schedule="none"), clips(2)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for _ in range(15):
        loss, _ = model.loss(x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_warm_start_from_a_causal_video_tokenizer_and_exact_render():
    """init_partial copies the causal tokenizer's encoder, FSQ and decoder; rendering the encoder's own cells
    then gives exactly that tokenizer's reconstruction."""
    causal = tokzoo.create("video-causal-f4x8-s", **CONV).eval()
    model = tiny().eval()
    share, fresh = transfer_matching(causal, model)
    assert 0 < share < 1 and any(k.startswith("resampler.") for k in fresh)
    x = clips(2)
    with torch.no_grad():
        assert torch.allclose(model._render(model._cells(x)), causal.autoencode(x).rec, atol=1e-5)


def test_clip_files_and_refusals(tmp_path):
    model = tiny().eval()
    with torch.no_grad():
        model.save_file(clips(1)[0], tmp_path / "a.mkv")
        x = model.load_file(tmp_path / "a.mkv")
        assert x.shape == (1, 3, 5, 16, 16)
        assert model.encode(x).ids.shape == (1, 6)
    with pytest.raises(DataError, match=r"clips \(B, 3, 5, 16, 16\)"):
        model.encode(torch.rand(1, 3, 9, 16, 16))
    with pytest.raises(DataError, match="exactly 5 frames"):
        model.check_clip_frames(9)
    with pytest.raises(ValueError, match="num_tokens must be in"):
        model.encode(clips(1), num_tokens=7)
    with pytest.raises(DataError, match="seq1d"):
        model.decode(Tokens.from_ids(torch.zeros(1, 4, dtype=torch.long), 1000, "grid2d", (2, 2)))
    with pytest.raises(ConfigError, match="frames must be 1 \\+ 4"):
        tiny(frames=6)
    with pytest.raises(ConfigError, match="temporal_factor"):
        tiny(temporal_factor=3)
    with pytest.raises(ConfigError, match="1-D prefix"):
        tiny(quantizer="rvq")
    fixed = tiny(drop_schedule="none").eval()
    assert fixed.token_counts() == [6]
    with pytest.raises(ValueError, match="fixed-length"):
        fixed.encode(clips(1), num_tokens=3)
