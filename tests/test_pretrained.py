"""Pretrained weights: the catalogue, hash checks, fp16 → fp32, create/list/load by name, fine-tuning init."""

import json

import pytest
import torch

import tokzoo
from tokzoo.core import pretrained as pt
from tokzoo.core.checkpoint import read_safetensors
from tokzoo.core.errors import CheckpointError, ConfigError, RegistryError
from tokzoo.train import TrainConfig, Trainer

TINY = {"ch": 8, "z_channels": 16, "code_dim": 8, "codebook_size": 64}


@pytest.fixture
def weights_root(tmp_path, monkeypatch):
    """A third-party weights folder holding a tiny ``vq-f8-s`` checkpoint, added to the catalogue."""
    torch.manual_seed(0)
    model = tokzoo.create("vq-f8-s", **TINY)
    model.save_pretrained(tmp_path / "ckpt")
    root = tmp_path / "weights"
    pt.export_pretrained(tmp_path / "ckpt", root, "vq-f8-s", {"bits_per_image": 2560})
    shipped = pt._weight_roots()
    monkeypatch.setattr(pt, "_weight_roots", lambda: [*shipped, root])
    pt.catalog.cache_clear()
    yield root, model
    pt.catalog.cache_clear()


def test_create_list_and_load_pretrained(weights_root):
    root, original = weights_root
    assert "vq-f8-s" in tokzoo.list("vq-*", pretrained=True)
    assert "vq-f4-s" not in tokzoo.list("vq-*", pretrained=True)
    model = tokzoo.create("vq-f8-s", pretrained=True)
    assert model.pretrained_name == "vq-f8-s" and not model.training
    assert all(p.dtype == torch.float32 for p in model.parameters())
    stored = json.loads((root / "manifest.json").read_text())["models"]["vq-f8-s"]
    assert (
        stored["bits_per_image"] == 2560
        and stored["bytes"] < 2 * sum(v.numel() for v in original.state_dict().values()) + 20_000
    )
    for (k, a), b in zip(original.state_dict().items(), model.state_dict().values(), strict=True):
        assert torch.allclose(a.float(), b.float(), atol=2e-3, rtol=1e-3), k  # fp16 storage
    again = tokzoo.load("pretrained:vq-f8-s")
    assert torch.equal(again.decoder.net[-1].weight, model.decoder.net[-1].weight)


def test_altered_or_missing_weight_file_is_one_clear_error(weights_root):
    root, _ = weights_root
    weights = root / "weights" / "vq-f8-s" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"model.safetensors does not match its sha256"):
        tokzoo.create("vq-f8-s", pretrained=True)
    weights.unlink()
    with pytest.raises(CheckpointError, match=r"weight file .*model.safetensors is missing"):
        tokzoo.load("pretrained:vq-f8-s")


def test_unknown_pretrained_name_and_overrides_are_refused(weights_root):
    with pytest.raises(RegistryError, match="no pretrained weights named 'vq-f4-s'"):
        tokzoo.create("vq-f4-s", pretrained=True)
    with pytest.raises(ConfigError, match="pretrained weights fix the config"):
        tokzoo.create("vq-f8-s", pretrained=True, ch=16)


def test_export_refuses_another_architecture_name(weights_root, tmp_path):
    with pytest.raises(CheckpointError, match="cannot ship as 'vq-f4-s'"):
        pt.export_pretrained(tmp_path / "ckpt", tmp_path / "w2", "vq-f4-s")


def test_malformed_manifest(tmp_path):
    (tmp_path / "manifest.json").write_text('{"format": "other"}')
    with pytest.raises(CheckpointError, match="not a tokzoo-pretrained manifest"):
        pt.read_manifest(tmp_path)


def test_fine_tune_from_pretrained(weights_root, tmp_path):
    cfg = TrainConfig(
        model="vq-f8-s", init="pretrained:vq-f8-s", data="bundled:train", image_size=32, batch_size=2,
        max_steps=1, out_dir=str(tmp_path / "ft"), progress=False,
    )  # fmt: skip
    trainer = Trainer(cfg)
    assert trainer.model.cfg.ch == TINY["ch"]  # the shipped architecture, not vq-f8-s's default width
    trainer.fit()
    with pytest.raises(ConfigError, match="set model=vq-f8-s"):
        Trainer(TrainConfig(model="vq-f4-s", init="pretrained:vq-f8-s", out_dir=str(tmp_path / "x")))


def test_partial_init_copies_matching_tensors(weights_root, tmp_path):
    """init_partial: another bottleneck on the same trunk takes every tensor that matches by name and shape."""
    _, source = weights_root
    other = {**TINY, "codebook_size": 32}  # same encoder/decoder, a smaller codebook
    cfg = TrainConfig(
        model="vq-f8-s", model_overrides=other, init="pretrained:vq-f8-s", init_partial=True,
        out_dir=str(tmp_path / "p"), progress=False,
    )  # fmt: skip
    model = Trainer(cfg).model
    src = source.state_dict()
    got = model.state_dict()
    same = [k for k in got if got[k].shape == src[k].shape]
    assert 0 < len(same) < len(got)
    for k in same:
        torch.testing.assert_close(
            got[k], src[k].to(got[k].dtype), atol=1e-3, rtol=1e-3
        )  # fp16-shipped weights
    with pytest.raises(ConfigError, match="init_partial=true"):
        Trainer(
            TrainConfig(
                model="vq-f8-s", model_overrides=other, init="pretrained:vq-f8-s", out_dir=str(tmp_path / "x")
            )
        )
    with pytest.raises(ConfigError, match="no tensor of the init checkpoint"):
        Trainer(
            TrainConfig(
                model="fsq-f16-s", init="pretrained:vq-f8-s", init_partial=True, out_dir=str(tmp_path / "y")
            )
        )


def test_partial_init_lets_a_kl_bottleneck_adopt_fsq():
    """A KL grid initialised from an FSQ grid of the same trunk: every tensor is set (the bottleneck adopts
    FSQ's projections) and in eval it reproduces the FSQ model's decoder input before bounding and rounding."""
    from tokzoo.train.trainer import transfer_matching

    small = {"ch": 8, "z_channels": 16, "ch_mult": (1, 2)}
    fsq = tokzoo.create("fsq-f16-s", **small).eval()
    kl = tokzoo.create("kl-f16-s", **small).eval()
    share, fresh = transfer_matching(fsq, kl)
    assert share == 1.0 and fresh == []
    z = torch.randn(3, 16)
    with torch.no_grad():
        torch.testing.assert_close(kl.quantizer(z).latents, fsq.quantizer.proj_out(fsq.quantizer.proj_in(z)))


def test_shipped_manifest_is_valid():
    specs = pt.read_manifest(pt._weight_roots()[0])
    for name, spec in specs.items():
        assert name in tokzoo.list(), name
        assert set(spec.files) == {spec.config, "model.safetensors"}


DOCS = __import__("pathlib").Path(__file__).resolve().parent.parent / "docs" / "pretrained.md"


def test_every_shipped_weight_file_has_a_model_card():
    specs = pt.read_manifest(pt._weight_roots()[0])
    cards = DOCS.read_text()
    sizes = {}
    for name, spec in specs.items():
        assert f"## {name}" in cards, f"docs/pretrained.md has no card for {name}"
        size = (spec.folder / "model.safetensors").stat().st_size
        sizes[spec.folder] = size  # two forms of one weight file count once
        assert f"{size:,} bytes" in cards, f"the card of {name} does not state its file size ({size:,} bytes)"
    assert sum(sizes.values()) <= 40 * 10**6  # the repository's weight budget


def test_shipped_weights_reproduce_their_cards_held_out_figures():
    """The fp16 weights, the loader and the evaluation protocol together reproduce the PSNR each card states on
    the 30 bundled held-out photos (to 0.02 dB); the flagship fsq-f8-s, which the demo and the benchmarks use,
    is above its equal-bits thumbnail there."""
    from tokzoo.bench.protocol import finalize, prepare_images
    from tokzoo.bench.thumbnail import thumbnail_reconstruct, thumbnail_side
    from tokzoo.data import bundled_images
    from tokzoo.metrics.fidelity import psnr

    _, x = prepare_images(bundled_images("heldout"), 128)
    specs = pt.read_manifest(pt._weight_roots()[0])
    for name in tokzoo.list(modality="image", pretrained=True):
        card = specs[name].card["bundled_heldout_128px"]
        model = tokzoo.create(name, pretrained=True)
        with torch.no_grad():
            tokens = model.encode(x)
            rec = finalize(model.decode(tokens))
        thumb = finalize(thumbnail_reconstruct(x, thumbnail_side(min(tokens.nbits_per_sample()))))
        assert float(psnr(rec, x).mean()) == pytest.approx(card["psnr"], abs=0.02), name
        assert float(psnr(thumb, x).mean()) == pytest.approx(card["thumbnail_psnr"], abs=0.02), name
        if name == "fsq-f8-s":
            assert card["psnr"] > card["thumbnail_psnr"], "the flagship fell below its thumbnail floor"


TINY_KL = {"ch": 8, "z_channels": 16}


def test_a_second_form_shares_the_weight_file(tmp_path, monkeypatch):
    """kl-f16-s and its grid-stored forms kl-f16-s-q16 / -q32 from one weight file: each loads its own config
    and grid, the float form ignores the grids, an altered base tensor or a config the files do not list is
    refused, and shipping new base weights removes the forms of the old ones."""
    torch.manual_seed(0)
    base = tokzoo.create("kl-f16-s", **TINY_KL)
    base.save_pretrained(tmp_path / "base")
    root = tmp_path / "weights"
    pt.export_pretrained(tmp_path / "base", root, "kl-f16-s", {"bits_per_image": 4096})
    shipped = pt._weight_roots()
    monkeypatch.setattr(pt, "_weight_roots", lambda: [root])
    pt.catalog.cache_clear()
    images = torch.rand(8, 3, 32, 32)
    for name, bits in (("kl-f16-s-q16", 16), ("kl-f16-s-q32", 20)):
        form = tokzoo.create(name, **TINY_KL)
        missing, _ = form.load_state_dict(
            tokzoo.create("kl-f16-s", pretrained=True).state_dict(), strict=False
        )
        assert missing and all(".store." in k for k in missing)
        form.eval().fit(images)
        form.save_pretrained(tmp_path / name)
        spec = pt.export_pretrained_form(tmp_path / name, root, "kl-f16-s", name, {"bits_per_image": bits})
        assert spec.config == f"config-{name}.json" and spec.folder == pt.get_pretrained("kl-f16-s").folder
    assert sorted(p.name for p in spec.folder.iterdir()) == [
        "config-kl-f16-s-q16.json", "config-kl-f16-s-q32.json", "config.json", "model.safetensors"
    ]  # fmt: skip
    stored = read_safetensors(spec.folder / "model.safetensors")
    assert {k.split("@")[1] for k in stored if "@" in k} == {"kl-f16-s-q16", "kl-f16-s-q32"}
    floats = tokzoo.create("kl-f16-s", pretrained=True)
    q16, q32 = tokzoo.create("kl-f16-s-q16", pretrained=True), tokzoo.create("kl-f16-s-q32", pretrained=True)
    assert q16.quantizer.store.bins == 16 and q32.quantizer.store.bins == 32
    with torch.no_grad():
        a, b, c = floats.encode(images), q16.encode(images), q32.encode(images)
        assert a.values is not None and b.values is None and b.nbits() == 8 * 4 * 4 * 4  # 2x2 cells x 4 ids
        assert c.nbits() == 8 * 4 * 4 * 5
        assert torch.allclose(floats.decode(a), base.eval().decode(base.encode(images)), atol=2e-2)
        err = [float((m.decode(t) - floats.decode(a)).pow(2).mean()) for m, t in ((q16, b), (q32, c))]
        assert err[1] < err[0]  # the finer grid decodes closer to the float means
    bad = tokzoo.create("kl-f16-s-q32", **TINY_KL)
    bad.load_state_dict(form.state_dict())
    with torch.no_grad():
        bad.decoder.net[-1].weight.add_(1.0)
    bad.save_pretrained(tmp_path / "bad")
    with pytest.raises(CheckpointError, match="not kl-f16-s's weights"):
        pt.export_pretrained_form(tmp_path / "bad", root, "kl-f16-s", "kl-f16-s-q32")
    manifest = json.loads((root / "manifest.json").read_text())
    del manifest["models"]["kl-f16-s-q32"]["files"]["config-kl-f16-s-q32.json"]
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="which its 'files' do not list"):
        pt.read_manifest(root)
    pt.export_pretrained(tmp_path / "base", root, "kl-f16-s", {"bits_per_image": 4096})  # new base weights
    assert list(pt.read_manifest(root)) == ["kl-f16-s"]
    assert sorted(p.name for p in spec.folder.iterdir()) == ["config.json", "model.safetensors"]
    monkeypatch.setattr(pt, "_weight_roots", lambda: shipped)
    pt.catalog.cache_clear()
