"""The flexible-length video tokenizer: prefixes, variable-length batches, .tok, nested-dropout training."""

from __future__ import annotations

import pytest
import torch

import tokzoo
from tokzoo.core.errors import DataError
from tokzoo.core.tokens import Tokens
from tokzoo.video.flex import pow2_lengths
from video_clips import write_sprite_clip

SMALL = {"frames": 5, "image_size": 32, "width": 32, "heads": 2, "num_tokens": 8}


@pytest.fixture(scope="module")
def flex():
    torch.manual_seed(0)
    return tokzoo.create("video-flex-t-32", **SMALL).eval()


def test_every_prefix_is_the_prefix_of_the_full_sequence(flex):
    clip = torch.rand(2, 3, 5, 32, 32)
    full = flex.encode(clip)
    assert (full.layout, full.ids.shape, full.nbits()) == ("seq1d", (2, 8), 2 * 8 * 10)
    for k in (1, 3, 8):
        assert torch.equal(flex.encode(clip, num_tokens=k).ids, full.ids[:, :k])
    with pytest.raises(ValueError, match=r"num_tokens must be in 1\.\.8"):
        flex.encode(clip, num_tokens=9)


def test_batched_variable_length_decode_equals_per_sample_decode(flex, tmp_path):
    clip = torch.rand(3, 3, 5, 32, 32)
    full = flex.encode(clip)
    mixed = Tokens(full.ids, torch.tensor([1, 4, 8]), full.vocab_size, "seq1d", full.shape, full.meta)
    mixed.save(tmp_path / "mixed.tok")
    back = Tokens.load(tmp_path / "mixed.tok")
    assert back.equal(mixed) and back.nbits() == (1 + 4 + 8) * 10
    batched = flex.decode(back)
    for i, k in enumerate([1, 4, 8]):
        single = flex.decode(flex.encode(clip[i : i + 1], num_tokens=k))
        assert torch.allclose(batched[i : i + 1], single, atol=1e-5)


def test_wrong_clips_and_tokens_are_one_line_errors(flex):
    with pytest.raises(DataError, match=r"takes float clips \(B, 3, 5, 32, 32\)"):
        flex.encode(torch.rand(1, 3, 9, 32, 32))
    with pytest.raises(DataError, match="expected seq1d tokens"):
        flex.decode(Tokens.from_ids(torch.zeros(1, 4, dtype=torch.long), 1000, "grid3d", (1, 2, 2)))


def test_nested_dropout_lengths_and_a_training_step():
    lengths = pow2_lengths(4000, 32, torch.Generator().manual_seed(0))
    assert set(lengths.tolist()) == {1, 2, 4, 8, 16, 32}
    assert set(pow2_lengths(500, 6).tolist()) == {1, 2, 4, 6}
    model = tokzoo.create("video-flex-t-32", **SMALL)
    loss, logs = model.loss(torch.rand(2, 3, 5, 32, 32))
    loss.backward()
    assert torch.isfinite(loss) and "psnr" in logs and model.registers.grad is not None


def test_load_file_takes_the_first_frames(flex, tmp_path):
    path = write_sprite_clip(tmp_path / "c.mkv", frames=12, size=32)
    x = flex.load_file(path)
    assert x.shape == (1, 3, 5, 32, 32)
    assert flex.decode(flex.encode(x, num_tokens=2)).shape == x.shape


def test_without_nested_dropout_training_decodes_from_every_token():
    torch.manual_seed(0)
    clip = torch.rand(4, 3, 5, 32, 32)
    for nested in (False, True):
        model = tokzoo.create("video-flex-t-32", **SMALL, nested_dropout=nested)
        with torch.no_grad():
            trained = model.train().autoencode(clip).rec
            full = model.eval().autoencode(clip).rec
        assert torch.allclose(trained, full, atol=1e-6) != nested
