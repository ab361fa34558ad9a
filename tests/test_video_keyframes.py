"""The key-frame video tokenizer: an image tokenizer on frames 0, k, 2k, ... and linear interpolation between."""

from __future__ import annotations

import pytest
import torch

import tokzoo
from tokzoo.cli import main
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.tokens import Tokens
from tokzoo.video.io import read_video
from tokzoo.video.keyframes import interpolate_keys
from video_clips import write_sprite_clip

SMALL = {"image_model": "fsq-f8-s", "image_pretrained": False, "image_options": {"ch": 8, "z_channels": 16}}


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(0)
    return tokzoo.create("video-keyframes-f4x8-s", **SMALL).eval()


def test_interpolate_keys_known_values():
    keys = torch.tensor([0.0, 4.0, 8.0]).view(1, 1, 3, 1, 1)
    assert interpolate_keys(keys, 4).flatten().tolist() == [float(t) for t in range(9)]
    assert interpolate_keys(keys, 1) is keys
    one = torch.rand(2, 3, 1, 4, 4)
    assert interpolate_keys(one, 4) is one


@torch.no_grad()
def test_tokens_are_the_image_tokens_of_the_key_frames(small):
    clip = torch.rand(2, 3, 9, 32, 32)
    tokens = small.encode(clip)
    assert tokens.layout == "grid3d" and tokens.shape == (3, 4, 4)
    image = small.image
    for j, t in enumerate((0, 4, 8)):
        assert torch.equal(tokens.ids.view(2, 3, 16)[:, j], image.encode(clip[:, :, t]).ids.view(2, 16))
    rec = small.decode(tokens)
    assert rec.shape == clip.shape
    k0, k4 = image.decode(image.encode(clip[:, :, 0])), image.decode(image.encode(clip[:, :, 4]))
    torch.testing.assert_close(rec[:, :, 0], k0)
    torch.testing.assert_close(rec[:, :, 1], 0.75 * k0 + 0.25 * k4)
    # an image is a one-frame clip; the bits are those of the key frames alone
    assert small.encode(clip[:, :, 0]).nbits() == image.encode(clip[:, :, 0]).nbits() == tokens.nbits() // 3


def test_bad_configs_and_clips_are_clear(small):
    with pytest.raises(ConfigError, match="key_every"):
        tokzoo.create("video-keyframes-f4x8-s", key_every=0)
    with pytest.raises(ConfigError, match="not a trainable image tokenizer"):
        tokzoo.create("video-keyframes-f4x8-s", image_model="text-bpe", image_pretrained=False)
    flex = tokzoo.create("video-keyframes-f4x8-s", image_model="flex-fsq-s-64", image_pretrained=False).eval()
    with pytest.raises(ConfigError, match="needs a 2-D grid with one id per cell"), torch.no_grad():
        flex.encode(torch.rand(1, 3, 5, 128, 128))
    with pytest.raises(DataError, match="1 \\+ 4·k frames"):
        small.encode(torch.rand(1, 3, 6, 32, 32))


def test_checkpoint_tok_file_and_training_step(small, tmp_path):
    clip = torch.rand(1, 3, 5, 32, 32)
    folder = small.save_pretrained(tmp_path / "kf")
    again = tokzoo.load(folder).eval()
    with torch.no_grad():
        tokens = small.encode(clip)
        tokens.save(tmp_path / "c.tok")
        back = Tokens.load(tmp_path / "c.tok")
        torch.testing.assert_close(again.decode(back), small.decode(tokens))
    model = tokzoo.create("video-keyframes-f4x8-s", **SMALL).train()
    loss, logs = model.loss(clip)
    loss.backward()
    assert torch.isfinite(loss) and "psnr" in logs
    assert model.image.encoder.net[0].weight.grad is not None


def test_cli_encodes_a_video_file_with_the_shipped_image_weights(tmp_path, capsys):
    clip = write_sprite_clip(tmp_path / "clip.mp4", frames=9, size=40)
    tok = tmp_path / "clip.tok"
    assert (
        main(["encode", str(clip), "--model", "video-keyframes-f4x8-s", "--size", "32", "-o", str(tok)]) == 0
    )
    assert "48 tokens, 480 bits" in capsys.readouterr().out  # 3 key frames of 4 x 4 tokens, 10 bits each
    assert main(["decode", str(tok), "--model", "video-keyframes-f4x8-s"]) == 0
    assert read_video(tmp_path / "clip_rec.mkv").shape == (9, 32, 32, 3)
