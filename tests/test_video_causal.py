"""The causal 3-D video tokenizer: grid3d tokens, causality, image = one-frame video, inflation, training."""

from __future__ import annotations

import pytest
import torch

import tokzoo
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.tokens import Tokens
from tokzoo.nn.causal3d import CausalUpsample3d, inflate_state_dict
from tokzoo.train import TrainConfig, Trainer
from tokzoo.video.dataset import ClipDataset
from video_clips import write_sprite_clip


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return tokzoo.create("video-causal-f4x8-t").eval()


def test_tokens_are_a_t_h_w_grid_and_round_trip_through_tok(tiny, tmp_path):
    clip = torch.rand(2, 3, 9, 16, 24)
    tokens = tiny.encode(clip)
    assert (tokens.layout, tokens.shape, tokens.ids.shape) == ("grid3d", (3, 2, 3), (2, 18))
    assert tokens.nbits() == 2 * 18 * 10  # FSQ 8·5·5·5 = 1000 codes: 10 bits per id
    tokens.save(tmp_path / "c.tok")
    back = Tokens.load(tmp_path / "c.tok")
    assert back.equal(tokens)
    rec = tiny.decode(back)
    assert rec.shape == clip.shape and rec.min() >= 0 and rec.max() <= 1


def test_an_image_is_a_one_frame_clip(tiny):
    image = torch.rand(2, 3, 16, 16)
    a, b = tiny.encode(image), tiny.encode(image[:, :, None])
    assert a.equal(b) and a.shape == (1, 2, 2)
    assert tiny.decode(a).shape == (2, 3, 1, 16, 16)


def test_causality_prefix_and_later_frames(tiny):
    clip = torch.rand(1, 3, 13, 16, 16)
    full = tiny.encode(clip)
    per_frame = 2 * 2
    for k in (1, 5, 9):  # the first 1 + 4j frames give the first 1 + j latent frames' tokens, exactly
        prefix = tiny.encode(clip[:, :, :k])
        assert torch.equal(prefix.ids, full.ids[:, : prefix.ids.shape[1]])
    changed = clip.clone()
    changed[:, :, 7] = 1 - changed[:, :, 7]  # frame 7 belongs to latent frame 2 (frames 5..8)
    ids = tiny.encode(changed).ids
    assert torch.equal(ids[:, : 2 * per_frame], full.ids[:, : 2 * per_frame])
    z_full, _ = tiny._latents(clip)
    z_changed, _ = tiny._latents(changed)
    assert not torch.allclose(z_full[:, 2 * per_frame :], z_changed[:, 2 * per_frame :])


def test_decoding_is_causal_too(tiny):
    tokens = tiny.encode(torch.rand(1, 3, 9, 16, 16))
    rec = tiny.decode(tokens)
    head = Tokens.from_ids(tokens.ids[:, :8], tokens.vocab_size, "grid3d", (2, 2, 2))
    assert torch.allclose(tiny.decode(head), rec[:, :, :5], atol=1e-5)


def _identity_upsample(time_mode: str) -> CausalUpsample3d:
    up = CausalUpsample3d(2, temporal=True, time_mode=time_mode)
    with torch.no_grad():
        up.conv.weight.zero_()
        up.conv.bias.zero_()
        up.conv.weight[:, :, -1, 1, 1] = torch.eye(2)  # the current frame's centre tap: identity
    return up


def test_temporal_upsampling_holds_or_interpolates_latent_frames():
    a, b, c = (torch.full((1, 2, 1, 1, 1), v) for v in (0.0, 4.0, 8.0))
    x = torch.cat([a, b, c], dim=2)
    frames = lambda up: up(x)[0, 0, :, 0, 0].tolist()  # noqa: E731  (each frame is 2x2 after upsampling)
    assert frames(_identity_upsample("nearest")) == [0.0, 4.0, 4.0, 8.0, 8.0]
    assert frames(_identity_upsample("linear")) == [0.0, 2.0, 4.0, 6.0, 8.0]
    old = torch.nn.functional.interpolate(x, scale_factor=(2.0, 2.0, 2.0), mode="nearest")[:, :, 1:]
    assert torch.equal(_identity_upsample("nearest")(x), old)  # the nearest mode is the earlier upsampling
    with pytest.raises(ValueError, match="temporal upsampling"):
        CausalUpsample3d(2, temporal=True, time_mode="cubic")


def test_linear_temporal_upsampling_is_causal_and_starts_from_the_key_frames():
    torch.manual_seed(0)
    lin = tokzoo.create("video-causal-f4x8-t", temporal_upsample="linear").eval()
    tokens = lin.encode(torch.rand(1, 3, 9, 16, 16))
    head = Tokens.from_ids(tokens.ids[:, :8], tokens.vocab_size, "grid3d", (2, 2, 2))
    with torch.no_grad():
        assert torch.allclose(lin.decode(head), lin.decode(tokens)[:, :, :5], atol=1e-5)
    with pytest.raises(ConfigError, match="temporal_upsample"):
        tokzoo.create("video-causal-f4x8-t", temporal_upsample="cubic")
    # inflated from the image tokenizer: the tokens are the key frames' image tokens and the key frames decode
    # as the image tokenizer decodes them; the frames between are interpolated from their two key frames
    image_model = tokzoo.create("fsq-f8-s", pretrained=True).eval()
    video = tokzoo.create(
        "video-causal-f4x8-s", inflate_from="pretrained:fsq-f8-s", temporal_upsample="linear"
    )
    clip = torch.rand(1, 3, 9, 32, 32)
    with torch.no_grad():
        tokens = video.eval().encode(clip)
        keys = image_model.encode(clip[:, :, ::4].transpose(1, 2).reshape(3, 3, 32, 32))
        assert torch.equal(tokens.ids.reshape(3, 16), keys.ids)
        rec, key_rec = video.decode(tokens), image_model.decode(keys)
    assert torch.allclose(rec[0, :, ::4].transpose(0, 1), key_rec, atol=1e-4)
    middle = rec[0, :, 2]
    assert not any(torch.allclose(middle, key, atol=1e-3) for key in key_rec[:2])


def test_bad_clips_are_one_line_errors(tiny):
    with pytest.raises(DataError, match=r"1 \+ 4·k frames .* trim it to 5"):
        tiny.encode(torch.rand(1, 3, 6, 16, 16))
    with pytest.raises(DataError, match="multiple of the tokenizer's downsampling factor 8"):
        tiny.encode(torch.rand(1, 3, 5, 12, 16))
    with pytest.raises(DataError, match="float clips"):
        tiny.encode(torch.zeros(1, 3, 5, 16, 16, dtype=torch.uint8))
    with pytest.raises(DataError, match="expected grid3d tokens"):
        tiny.decode(Tokens.from_ids(torch.zeros(1, 4, dtype=torch.long), 1000, "grid2d", (2, 2)))
    with pytest.raises(ValueError, match="fixed-length"):
        tiny.encode(torch.rand(1, 3, 5, 16, 16), num_tokens=3)
    with pytest.raises(ConfigError, match="temporal_factor"):
        tokzoo.create("video-causal-f4x8-t", temporal_factor=3)


@pytest.mark.parametrize("quantizer", [{"quantizer": "lfq", "quantizer_options": {"bits": 6}}, {}])
def test_temporal_factor_and_bottleneck_are_configurable(quantizer):
    model = tokzoo.create("video-causal-f4x8-t", temporal_factor=2, **quantizer)
    clip = torch.rand(1, 3, 5, 16, 16)
    tokens = model.encode(clip)
    assert tokens.shape == (3, 2, 2)
    loss, logs = model.loss(clip)
    loss.backward()
    assert torch.isfinite(loss) and "psnr" in logs


def test_inflation_from_the_pretrained_image_tokenizer_is_exact_on_images():
    image_model = tokzoo.create("fsq-f8-s", pretrained=True).eval()
    video = tokzoo.create("video-causal-f4x8-s", inflate_from="pretrained:fsq-f8-s").eval()
    assert video.cfg.inflate_from == ""  # initial weights only; the saved config does not ask for them again
    images = torch.rand(2, 3, 32, 32)
    a, b = image_model.encode(images), video.encode(images)
    assert torch.equal(a.ids, b.ids) and b.shape == (1, 4, 4)
    with torch.no_grad():
        assert torch.allclose(image_model.decode(a), video.decode(b)[:, :, 0], atol=1e-5)


def test_inflation_refuses_another_architecture():
    small = tokzoo.create("video-causal-f4x8-t")
    image = tokzoo.create("fsq-f8-s")
    with pytest.raises(ValueError, match="has shape"):
        inflate_state_dict(image.state_dict(), small.state_dict())


def test_clip_dataset_and_trainer_step_and_resume(tmp_path):
    for i in range(2):
        write_sprite_clip(tmp_path / "clips" / f"c{i}.mkv", frames=10, size=24, seed=i)
    data = ClipDataset(sorted((tmp_path / "clips").iterdir()), 16, frames=5, scale=(0.5, 1.0))
    assert len(data) == 4 and data.sources == ["c0.mkv", "c0.mkv", "c1.mkv", "c1.mkv"]
    item = data[(1, 7)]
    assert item.shape == (3, 5, 16, 16) and torch.equal(item, data[(1, 7)])
    cfg = dict(
        model="video-causal-f4x8-t", data=str(tmp_path / "clips"), image_size=16, batch_size=2, max_steps=4,
        warmup_steps=1, out_dir=str(tmp_path / "run"), ckpt_every=2, log_every=1, progress=False,
    )  # fmt: skip
    losses: dict[int, float] = {}
    Trainer(TrainConfig(**cfg), callbacks=[lambda s, logs: losses.__setitem__(s, logs["loss"])]).fit()
    assert sorted(losses) == [1, 2, 3, 4] and all(v == v for v in losses.values())
    model = tokzoo.load(tmp_path / "run" / "model")
    assert model.registry_name == "video-causal-f4x8-t"
    resumed: dict[int, float] = {}
    Trainer(
        TrainConfig(**{**cfg, "max_steps": 6}), callbacks=[lambda s, lg: resumed.__setitem__(s, lg["loss"])]
    ).fit(resume=True)
    assert sorted(resumed) == [5, 6]
