"""TiTok-family tokenizers: registry and checkpoint round trips, input errors, semantic teacher, training runs."""

import json
from pathlib import Path

import pytest
import torch
from torch import nn

import tokzoo
from tokzoo.train import Trainer, load_config

TINY = dict(
    image_size=32, patch_size=8, width=32, encoder_depth=1, decoder_depth=1, heads=2, codebook_size=64
)
CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def test_registry_has_every_family_and_size():
    names = set(tokzoo.list())
    for k in (32, 64, 128, 256):
        assert {f"titok-s-{k}", f"titok-b-{k}"} <= names
    assert {"titok-t-16", "titok-t-32", "titok-t-64", "flex-s-256", "flex-b-256", "onedpiece-s-256"} <= names
    assert {"retok-t-32", "hieratok-t", "hieratok-s", "matryoshka-t", "matryoshka-s"} <= names
    big = tokzoo.create("titok-b-32", encoder_depth=1, decoder_depth=1)  # full depth takes seconds to build
    assert big.cfg.width == 768 and big.cfg.num_tokens == 32 and big.vocab_size == 4096
    assert tokzoo.create("flex-s-256").cfg.causal_tokens


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("titok-t-32", {"num_tokens": 8}),
        (
            "flex-t-32",
            {
                "num_tokens": 8,
                "quantizer": "fsq",
                "quantizer_options": {"levels": [4, 4, 4]},
                "codebook_size": 1024,
            },
        ),
        ("retok-t-32", {"num_tokens": 8}),
        ("hieratok-t", {"scales": [1, 2, 4], "scale_drop": True}),
        ("matryoshka-t", {"scales": [1, 2, 4]}),
    ],
)
def test_save_load_round_trip(name, extra, tmp_path):
    model = tokzoo.create(name, **{**TINY, **extra}).eval()
    x = torch.rand(2, 3, 32, 32)
    path = model.save_pretrained(tmp_path / "ckpt")
    loaded = tokzoo.load(path)
    assert loaded.registry_name == name and loaded.cfg == model.cfg
    with torch.no_grad():
        t1, t2 = model.encode(x), loaded.encode(x)
        assert t1.equal(t2)
        assert torch.equal(model.decode(t1), loaded.decode(t2))
        restored = tokzoo.Tokens.from_bytes(t1.to_bytes())
        assert torch.equal(loaded.decode(restored), model.decode(t1))
    assert t1.nbits() == 2 * t1.ids.shape[1] * 6  # 64 codes = 6 bits per token


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (torch.rand(1, 3, 64, 64), "takes 32x32"),
        (torch.rand(1, 1, 32, 32), "channels"),
        (torch.randint(0, 255, (1, 3, 32, 32), dtype=torch.uint8), "float"),
    ],
)
def test_bad_inputs(x, match):
    with pytest.raises(tokzoo.DataError, match=match):
        tokzoo.create("flex-t-16", **TINY).encode(x)


def test_decode_checks_layout_and_vocabulary():
    a = tokzoo.create("flex-t-16", **TINY).eval()
    b = tokzoo.create("flex-t-16", **{**TINY, "codebook_size": 128}).eval()
    grid = tokzoo.create("hieratok-t", **TINY, scales=[1, 2]).eval()
    x = torch.rand(1, 3, 32, 32)
    with pytest.raises(tokzoo.DataError, match="vocabulary"):
        b.decode(a.encode(x))
    with pytest.raises(tokzoo.DataError, match="seq1d"):
        a.decode(grid.encode(x))


class PoolTeacher(nn.Module):
    """A stand-in feature extractor with real weights: a strided conv (B, 3, H, W) → (B, 24, H/4, W/4)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 24, 4, stride=4)

    def forward(self, x):
        return self.conv(x)


def test_semantic_regularization_with_module_teacher():
    model = tokzoo.create("retok-t-16", **TINY, num_tokens=8, semantic_weight=1.0, teacher_dim=24)
    model.set_teacher(PoolTeacher())
    loss, logs = model.loss(torch.rand(2, 3, 32, 32))
    loss.backward()
    assert float(logs["semantic_loss"]) > 0
    assert model.semantic_head[0].weight.grad.abs().sum() > 0
    assert not any(k.startswith("_teacher") for k in model.state_dict())
    with pytest.raises(tokzoo.ConfigError, match="teacher_dim=16"):
        tokzoo.create("retok-t-16", **TINY, semantic_weight=1.0, teacher_dim=16).set_teacher(PoolTeacher())


def test_semantic_teacher_from_tokzoo_checkpoint(tmp_path):
    teacher = tokzoo.create("titok-t-16", **TINY, num_tokens=8)
    path = teacher.save_pretrained(tmp_path / "teacher")
    student = tokzoo.create("retok-t-16", **TINY, num_tokens=8, semantic_weight=0.5, teacher=str(path))
    assert student.cfg.teacher_dim == 32  # inferred from the teacher's encoder width
    loss, logs = student.loss(torch.rand(2, 3, 32, 32))
    assert torch.isfinite(loss) and "semantic_loss" in logs
    saved = json.loads((student.save_pretrained(tmp_path / "student") / "config.json").read_text())
    assert saved["config"]["teacher_dim"] == 32
    with pytest.raises(tokzoo.ConfigError, match="teacher"):
        tokzoo.create("retok-t-16", semantic_weight=0.5)


def test_trainer_runs_and_resumes_flexible_model(tmp_path):
    """Two steps, then a resumed run to four steps, equal (same losses) to an uninterrupted four-step run."""

    def run(out, steps, resume=False):
        cfg = load_config(overrides=[
            "model=flex-t-16", "image_size=32", "batch_size=2", f"max_steps={steps}", "ckpt_every=2",
            "warmup_steps=1", "log_every=1", "progress=false", f"out_dir={out}",
            *(f"model_overrides.{k}={v}" for k, v in {**TINY, "num_tokens": 8}.items()),
        ])  # fmt: skip
        return Trainer(cfg).fit(resume=resume)

    straight = run(tmp_path / "a", 4)
    run(tmp_path / "b", 2)
    resumed = run(tmp_path / "b", 4, resume=True)
    assert resumed["loss"] == pytest.approx(straight["loss"], rel=1e-5)
    loaded = tokzoo.load(tmp_path / "b" / "model")
    assert loaded.registry_name == "flex-t-16" and loaded.cfg.num_tokens == 8


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_configs_build_their_models(path):
    cfg = load_config(path)
    if not cfg.model.startswith(("titok", "flex", "onedpiece", "retok", "hieratok", "matryoshka")):
        pytest.skip("not a transformer tokenizer config")
    overrides = {k: v for k, v in cfg.model_overrides.items() if k != "teacher"}
    model = tokzoo.create(
        cfg.model, **overrides, **({"teacher_dim": 8} if "teacher" in cfg.model_overrides else {})
    )
    assert model.cfg.image_size == cfg.image_size
