"""Video metrics, the equal-bits thumbnail clip and the codec baselines at a byte budget."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tokzoo.bench.codecs import BelowCodecFloor
from tokzoo.bench.video_codecs import available_video_codecs, encode_clip, encode_clip_to_budget
from tokzoo.bench.video_thumbnail import thumbnail_clip, thumbnail_shapes
from tokzoo.metrics.video import flicker, frame_psnr, frame_ssim
from video_clips import sprite_frames


def test_frame_metrics_and_flicker():
    clip = torch.rand(2, 3, 4, 16, 16)
    assert frame_psnr(clip, clip).shape == (2, 4) and bool((frame_psnr(clip, clip) == 100).all())
    assert torch.allclose(frame_ssim(clip, clip), torch.ones(2, 4))
    assert torch.equal(flicker(clip, clip), torch.zeros(2))
    still = clip[:, :, :1].expand_as(clip)  # a frozen reconstruction flickers where the original moves
    assert bool((flicker(still, clip) > 10).all())
    base = torch.round(clip * 127) / 255
    assert bool((flicker(base + 51 / 255, base) < 1e-3).all())  # a constant offset is no flicker


def test_thumbnail_clip_shapes_and_budget():
    assert thumbnail_shapes(24 * 2 * 16, 3) == [(1, 5), (2, 4), (3, 3)]
    clip = torch.rand(1, 3, 5, 16, 16)
    rec = thumbnail_clip(clip, 2, 4)
    assert rec.shape == clip.shape and rec.min() >= 0 and rec.max() <= 1
    smooth = torch.linspace(0, 1, 16).expand(1, 3, 5, 16, 16).contiguous()
    assert frame_psnr(thumbnail_clip(smooth, 1, 8), smooth).mean() > 30


def test_the_wheel_has_the_four_codecs():
    assert available_video_codecs() == ["h264", "h265", "vp9", "av1"]


@pytest.mark.parametrize("codec", ["h264", "h265", "vp9", "av1"])
def test_codec_never_exceeds_the_budget(codec):
    frames = sprite_frames(5, 32, 32)
    fine = encode_clip(frames, codec, 10)
    assert fine.frames.shape == frames.shape and np.abs(fine.frames.astype(int) - frames).mean() < 6
    budget = (fine.nbytes + encode_clip(frames, codec, 50).nbytes) // 2
    fit = encode_clip_to_budget(frames, codec, budget)
    assert fit.nbytes <= budget
    with pytest.raises(BelowCodecFloor):
        encode_clip_to_budget(frames, codec, 20)
