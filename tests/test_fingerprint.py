"""Fingerprints: tokens and checkpoints record a hash of the weights; a mismatch is refused naming both."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

import tokzoo
from tokzoo.cli import main
from tokzoo.core.errors import CheckpointError, DataError
from tokzoo.core.fingerprint import check_fingerprint, fingerprint
from tokzoo.core.tokens import Tokens

TINY = {"ch": 8, "z_channels": 16, "code_dim": 8, "codebook_size": 64}


def checkpoint(path, seed):
    torch.manual_seed(seed)
    model = tokzoo.create("vq-f8-s", **TINY)
    model.save_pretrained(path)
    return model


@pytest.fixture
def two_checkpoints(tmp_path):
    a, b = checkpoint(tmp_path / "a", 0), checkpoint(tmp_path / "b", 1)
    image = tmp_path / "x.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(image)
    return tmp_path, a, b, image


def test_checkpoints_carry_the_fingerprint(two_checkpoints):
    tmp, a, b, _ = two_checkpoints
    recorded = json.loads((tmp / "a" / "config.json").read_text())["fingerprint"]
    assert recorded == fingerprint(a) == fingerprint(tokzoo.load(tmp / "a")) != fingerprint(b)


def test_decoding_with_another_checkpoint_is_refused_naming_both(two_checkpoints, capsys):
    tmp, a, b, image = two_checkpoints
    assert main(["encode", str(image), "--model", str(tmp / "a"), "-o", str(tmp / "x.tok")]) == 0
    assert Tokens.load(tmp / "x.tok").meta["fingerprint"] == fingerprint(a)
    capsys.readouterr()
    assert main(["decode", str(tmp / "x.tok"), "--model", str(tmp / "b"), "-o", str(tmp / "y.png")]) == 2
    err = capsys.readouterr().err
    assert f"vq-f8-s@{fingerprint(a)}" in err and f"vq-f8-s@{fingerprint(b)}" in err and "--force" in err
    assert (
        main(["decode", str(tmp / "x.tok"), "--model", str(tmp / "b"), "-o", str(tmp / "y.png"), "--force"])
        == 0
    )
    assert main(["decode", str(tmp / "x.tok"), "--model", str(tmp / "a"), "-o", str(tmp / "z.png")]) == 0


def test_tokens_without_a_fingerprint_are_still_decoded(two_checkpoints):
    _, a, b, _ = two_checkpoints
    tokens = a.encode(torch.rand(1, 3, 32, 32))
    tokens.meta.pop("fingerprint", None)
    check_fingerprint(b, tokens)  # an old .tok: no fingerprint, no check
    tokens.meta["fingerprint"] = fingerprint(a)
    with pytest.raises(DataError, match="tokens were made by"):
        check_fingerprint(b, tokens)
    check_fingerprint(b, tokens, force=True)


def test_svg_tokens_of_another_fit_are_refused():
    plain = tokzoo.create("svg-hivg-128")
    fitted = tokzoo.create("svg-hivg-128")
    fitted.palette.add_(1)
    tokens = Tokens.from_ids(torch.zeros((1, 1), dtype=torch.int64), 2, meta={"tokenizer": "svg-hivg-128"})
    tokens.meta["fingerprint"] = fingerprint(fitted)
    with pytest.raises(
        DataError, match=rf"svg-hivg-128@{fingerprint(fitted)}.*svg-hivg-128@{fingerprint(plain)}"
    ):
        check_fingerprint(plain, tokens)


def test_mixed_checkpoint_files_are_refused(two_checkpoints):
    tmp, *_ = two_checkpoints
    shutil.copy(tmp / "b" / "model.safetensors", tmp / "a" / "model.safetensors")
    with pytest.raises(CheckpointError, match="fingerprint"):
        tokzoo.load(tmp / "a")


def test_a_config_field_added_with_its_default_keeps_old_fingerprints(two_checkpoints, monkeypatch):
    """A checkpoint written before a defaulted field existed (its config.json lacks it) still loads, and its
    tokens still decode; a value that differs from the default does change the fingerprint."""
    tmp, a, _, _ = two_checkpoints
    before = fingerprint(a)
    full = a.config_dict()
    monkeypatch.setattr(a, "config_dict", lambda: {k: v for k, v in full.items() if k != "restart_decay"})
    assert fingerprint(a) == before
    config = json.loads((tmp / "a" / "config.json").read_text())
    del config["config"]["restart_decay"]
    (tmp / "a" / "config.json").write_text(json.dumps(config))
    assert fingerprint(tokzoo.load(tmp / "a")) == before
    changed = tokzoo.create("vq-f8-s", **TINY, restart_decay=0.5)
    changed.load_state_dict(a.state_dict())
    assert fingerprint(changed) != before


def test_checkpoints_and_tokens_of_tokzoo_0_1_keep_their_fingerprints(two_checkpoints):
    """tokzoo 0.1 hashed the whole config; its checkpoints still load and its tokens still decode."""
    from tokzoo.core.fingerprint import _hash

    tmp, a, b, _ = two_checkpoints
    old = _hash(a, a.config_dict())
    assert old != fingerprint(a)
    config = json.loads((tmp / "a" / "config.json").read_text())
    config["fingerprint"] = old
    (tmp / "a" / "config.json").write_text(json.dumps(config))
    tokzoo.load(tmp / "a")
    tokens = a.encode(torch.rand(1, 3, 32, 32))
    tokens.meta.update(tokenizer="vq-f8-s", fingerprint=old)
    check_fingerprint(a, tokens)
    with pytest.raises(DataError):
        check_fingerprint(b, tokens)
