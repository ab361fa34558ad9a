"""The OmniTokenizer-style transformer: image = one-frame clip, causality, bottlenecks, joint training + resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import tokzoo
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.tokens import Tokens
from tokzoo.train import Trainer
from tokzoo.train.config import TrainConfig
from tokzoo.train.joint import source_at, source_steps
from video_clips import write_sprite_clip

SMALL = {"width": 32, "heads": 2, "spatial_depth": 1, "temporal_depth": 1, "window": 2}


@pytest.fixture(scope="module")
def omni():
    torch.manual_seed(0)
    return tokzoo.create("video-omni-t", **SMALL).eval()


@torch.no_grad()
def test_an_image_is_exactly_a_one_frame_clip(omni):
    clip = torch.rand(2, 3, 9, 16, 24)
    images = clip[:, :, 0]
    a, b = omni.encode(images), omni.encode(clip)
    assert a.shape == (1, 4, 6) and b.shape == (3, 4, 6) and b.layout == "grid3d"
    assert torch.equal(a.ids, b.ids[:, :24])
    assert torch.allclose(omni.decode(a)[:, :, 0], omni.decode(b)[:, :, 0], atol=1e-5)


@torch.no_grad()
def test_later_frames_never_change_earlier_tokens_or_their_decoding(omni):
    clip = torch.rand(1, 3, 9, 16, 16)
    changed = clip.clone()
    changed[:, :, 5:] = torch.rand(1, 3, 4, 16, 16)  # frames 5-8: latent frame 2 only
    a, b = omni.encode(clip), omni.encode(changed)
    assert torch.equal(a.ids[:, :32], b.ids[:, :32]) and not torch.equal(a.ids[:, 32:], b.ids[:, 32:])
    ra, rb = omni.decode(a), omni.decode(b)
    assert torch.allclose(ra[:, :, :5], rb[:, :, :5], atol=1e-5)


@torch.no_grad()
def test_tok_round_trip_and_one_line_errors(omni, tmp_path):
    tokens = omni.encode(torch.rand(1, 3, 5, 16, 16))
    assert tokens.nbits() == 2 * 4 * 4 * 10  # FSQ 1000 codes: 10 bits per token
    tokens.save(tmp_path / "c.tok")
    back = Tokens.load(tmp_path / "c.tok")
    assert back.equal(tokens) and torch.equal(omni.decode(back), omni.decode(tokens))
    with pytest.raises(DataError, match=r"codes 1 \+ 4·k frames"):
        omni.encode(torch.rand(1, 3, 6, 16, 16))
    with pytest.raises(DataError, match="multiple of the tokenizer's downsampling factor 4"):
        omni.encode(torch.rand(1, 3, 5, 18, 16))
    with pytest.raises(DataError, match="at most 16"):
        omni.encode(torch.rand(1, 3, 1 + 4 * 16, 8, 8))
    with pytest.raises(ValueError, match="fixed-length"):
        omni.encode(torch.rand(1, 3, 5, 16, 16), num_tokens=3)
    with pytest.raises(DataError, match="expected grid3d tokens"):
        omni.decode(Tokens.from_ids(torch.zeros(1, 4, dtype=torch.long), 1000, "seq1d", (4,)))
    with pytest.raises(ConfigError, match="divisible by 4 and by heads 3"):
        tokzoo.create("video-omni-t", width=32, heads=3)


@pytest.mark.parametrize(
    ("quantizer", "options"),
    [("fsq", {"levels": [5, 5]}), ("vq", {"codebook_size": 16}), ("lfq", {"bits": 4}), ("kl", {})],
)
def test_a_training_step_with_each_bottleneck(quantizer, options):
    torch.manual_seed(0)
    model = tokzoo.create(
        "video-omni-t", quantizer=quantizer, quantizer_options=options, latent_dim=4, **SMALL
    )
    for batch in (torch.rand(2, 3, 5, 8, 8), torch.rand(2, 3, 8, 8)):  # clips and images
        model.zero_grad()
        loss, logs = model.loss(batch)
        loss.backward()
        assert torch.isfinite(loss) and "psnr" in logs
        assert model.embed_first.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        assert model.decode(model.encode(torch.rand(1, 3, 5, 8, 8))).shape == (1, 3, 5, 8, 8)


def test_joint_schedule_images_first_then_every_kth_step():
    cfg = TrainConfig(image_data="bundled:train", image_steps=3, image_every=3)
    sources = [source_at(s, cfg) for s in range(9)]
    assert sources == ["image"] * 3 + ["data", "data", "image"] * 2
    assert source_steps(9, cfg, "image") == 5 and source_steps(9, cfg, "data") == 4
    assert [source_at(s, TrainConfig()) for s in range(3)] == ["data"] * 3
    with pytest.raises(ConfigError, match="image_data must name an image data set"):
        TrainConfig(image_steps=10)
    with pytest.raises(ConfigError, match="image_every must be 0"):
        TrainConfig(image_data="bundled:train", image_every=1)


def test_joint_training_resumes_exactly_after_a_kill(tmp_path):
    for i in range(2):
        write_sprite_clip(tmp_path / "clips" / f"c{i}.mkv", frames=10, size=24, seed=i)
    (tmp_path / "images").mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)).save(
            tmp_path / "images" / f"{i}.png"
        )
    cfg = dict(
        model="video-omni-t", model_overrides=SMALL, data=str(tmp_path / "clips"), image_size=16, batch_size=2,
        image_data=str(tmp_path / "images"), image_steps=2, image_every=2, image_batch_size=3, max_steps=6,
        warmup_steps=1, ckpt_every=3, log_every=1, progress=False,
    )  # fmt: skip
    full: dict[int, tuple[float, float]] = {}
    Trainer(
        TrainConfig(**cfg, out_dir=str(tmp_path / "a")),
        callbacks=[lambda s, lg: full.__setitem__(s, (lg["loss"], lg["image_batch"]))],
    ).fit()
    assert [full[s][1] for s in range(1, 7)] == [1, 1, 0, 1, 0, 1]

    def kill(step: int, logs: dict) -> None:
        if step == 3:
            raise KeyboardInterrupt

    run_b = TrainConfig(**cfg, out_dir=str(tmp_path / "b"))
    with pytest.raises(KeyboardInterrupt):
        Trainer(run_b, callbacks=[kill]).fit()
    resumed: dict[int, float] = {}
    Trainer(run_b, callbacks=[lambda s, lg: resumed.__setitem__(s, lg["loss"])]).fit(resume=True)
    assert resumed == {s: full[s][0] for s in (4, 5, 6)}
