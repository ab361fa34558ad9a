"""Checkpoint folders: round trip, atomic replacement, and refusal of anything that would unpickle."""

import json
import pickle

import pytest
import torch

import tokzoo
from tokzoo.core.errors import CheckpointError


@pytest.fixture
def ckpt(tmp_path):
    model = tokzoo.create("vq-f8-s", codebook_size=32, ch=8)
    return model, model.save_pretrained(tmp_path / "ckpt")


def test_files_and_config(ckpt):
    _, path = ckpt
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.safetensors"]
    cfg = json.loads((path / "config.json").read_text())
    assert cfg["tokenizer"] == "vq-f8-s" and cfg["config"]["codebook_size"] == 32
    assert cfg["format"] == "tokzoo-checkpoint" and cfg["format_version"] == 1


def test_pickle_weights_refused(ckpt):
    _, path = ckpt
    (path / "model.safetensors").write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(CheckpointError, match="never unpickles"):
        tokzoo.load(path)


def test_torch_save_zip_refused(ckpt):
    model, path = ckpt
    torch.save(model.state_dict(), path / "model.safetensors")
    with pytest.raises(CheckpointError, match="pickle"):
        tokzoo.load(path)


def test_only_pickle_present_refused(ckpt):
    model, path = ckpt
    (path / "model.safetensors").unlink()
    torch.save(model.state_dict(), path / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match=r"pytorch_model\.bin, a pickle format"):
        tokzoo.load(path)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda c: c.update(tokenizer="nope-f1"), "unknown tokenizer"),
        (lambda c: c.update(format_version=7), "format version 7"),
        (lambda c: c.pop("format"), "not a tokzoo checkpoint"),
        (lambda c: c["config"].update(codebook_size=64), "do not match"),
        (lambda c: c["config"].update(bogus=1), "does not match"),
    ],
)
def test_bad_config_refused(ckpt, edit, match):
    _, path = ckpt
    cfg = json.loads((path / "config.json").read_text())
    edit(cfg)
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match=match):
        tokzoo.load(path)


def test_missing_folder_and_garbage(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        tokzoo.load(tmp_path / "nothing")
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="invalid JSON"):
        tokzoo.load(tmp_path / "g")


def test_truncated_safetensors_refused(ckpt):
    _, path = ckpt
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        tokzoo.load(path)


def test_resave_replaces_atomically(ckpt):
    model, path = ckpt
    with torch.no_grad():
        model.quantizer.codebook.weight.add_(1.0)
    model.save_pretrained(path)
    loaded = tokzoo.load(path)
    assert torch.equal(loaded.quantizer.codebook.weight, model.quantizer.codebook.weight)
    assert sorted(p.name for p in path.parent.iterdir()) == ["ckpt"]  # no temp leftovers


def test_folder_with_other_files_is_never_replaced(tmp_path):
    model = tokzoo.create("vq-f8-s", codebook_size=32, ch=8)
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("precious")
    with pytest.raises(CheckpointError, match=r"holds other files \(notes\.txt\)"):
        model.save_pretrained(project)
    assert (project / "notes.txt").read_text() == "precious"
    (tmp_path / "afile").write_text("x")
    with pytest.raises(CheckpointError, match="not a folder"):
        model.save_pretrained(tmp_path / "afile")


def test_saved_files_are_not_private(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = tokzoo.create("vq-f8-s", codebook_size=32, ch=8).save_pretrained(tmp_path / "ckpt")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o755
    assert stat.S_IMODE((path / "model.safetensors").stat().st_mode) == 0o644


@pytest.mark.parametrize("pad", range(0, 300, 7))
def test_header_lengths_that_start_like_a_pickle_still_load(tmp_path, pad):
    """A safetensors header length whose low byte is 0x80 must not be mistaken for a pickle."""
    from safetensors.torch import save

    from tokzoo.core.checkpoint import read_safetensors

    data = save({"w": torch.zeros(2)}, metadata={"pad": "x" * pad})
    (tmp_path / "w.safetensors").write_bytes(data)
    assert torch.equal(read_safetensors(tmp_path / "w.safetensors")["w"], torch.zeros(2))


def test_form_state_takes_plain_and_own_form_tensors_only():
    from tokzoo.core.checkpoint import form_state

    a, b, c = torch.zeros(1), torch.ones(1), torch.full((1,), 2.0)
    state = {"w": a, "grid@q16": b, "grid@q32": c}
    assert form_state(state, "q32") == {"w": a, "grid": c}
    assert form_state(state, "base") == {"w": a}
