"""Training: the loss goes down, a killed run resumes exactly, NaN stops cleanly, configs parse strictly."""

import json

import pytest
import torch
from torch.utils.data import Dataset

import tokzoo
from tokzoo.core.errors import NonFiniteLossError
from tokzoo.train import ConfigError, TrainConfig, Trainer, load_config
from tokzoo.train.state import list_checkpoints

TINY = {"ch": 8, "z_channels": 16, "code_dim": 8, "codebook_size": 64}


def tiny_cfg(out, **kw) -> TrainConfig:
    base = dict(
        model="vq-f8-s", model_overrides=TINY, data="bundled:train", image_size=32, batch_size=4,
        max_steps=8, lr=3e-3, warmup_steps=2, out_dir=str(out), ckpt_every=4, log_every=1, progress=False,
    )  # fmt: skip
    base.update(kw)
    return TrainConfig(**base)


class Recorder:
    def __init__(self, stop_at=None):
        self.losses, self.stop_at = {}, stop_at

    def __call__(self, step, logs):
        self.losses[step] = logs["loss"]
        if step == self.stop_at:
            raise KeyboardInterrupt("simulated kill")


def test_training_lowers_reconstruction_loss(tmp_path):
    rec = Recorder()
    Trainer(tiny_cfg(tmp_path, max_steps=40, ckpt_every=40, batch_size=8), callbacks=[rec]).fit()
    first = sum(rec.losses[s] for s in range(1, 6)) / 5
    last = sum(rec.losses[s] for s in range(36, 41)) / 5
    assert last < 0.7 * first, (first, last)
    model = tokzoo.load(tmp_path / "model")
    assert model.cfg.codebook_size == 64


def test_kill_and_resume_matches_uninterrupted_run(tmp_path):
    # restart_threshold=0.5 makes dead-code restarts (which draw random numbers) happen within these steps
    kw = dict(max_steps=14, model_overrides={**TINY, "restart_threshold": 0.5})
    full = Recorder()
    Trainer(tiny_cfg(tmp_path / "a", **kw), callbacks=[full]).fit()

    killed = Recorder(stop_at=6)
    with pytest.raises(KeyboardInterrupt):
        Trainer(tiny_cfg(tmp_path / "b", **kw), callbacks=[killed]).fit()
    assert [s for s, _ in list_checkpoints(tmp_path / "b" / "checkpoints")] == [4]
    resumed = Recorder()
    trainer = Trainer(tiny_cfg(tmp_path / "b", **kw), callbacks=[resumed])
    trainer.fit(resume=True)
    assert trainer.step == 14 and sorted(resumed.losses) == list(range(5, 15))
    for step in range(5, 15):
        assert resumed.losses[step] == pytest.approx(full.losses[step], rel=1e-6, abs=1e-7)
    a, b = tokzoo.load(tmp_path / "a" / "model"), tokzoo.load(tmp_path / "b" / "model")
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.allclose(va, vb, atol=1e-6), k
    steps = [json.loads(ln)["step"] for ln in (tmp_path / "b" / "logs.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 15))  # the killed run's step 5-6 entries were replaced, not duplicated
    assert (tmp_path / "b" / "tb").is_dir()


def test_training_on_a_folder_with_bad_files_reports_and_continues(tmp_path, caplog):
    import io

    import numpy as np
    from PIL import Image

    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(data / f"good{i}.png")
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(buf, "JPEG")
    (data / "truncated.jpg").write_bytes(buf.getvalue()[:300])
    (data / "empty.png").write_bytes(b"")
    (data / "text.png").write_text("not an image")
    with caplog.at_level("WARNING", logger="tokzoo.data"):
        Trainer(tiny_cfg(tmp_path / "run", data=str(data), max_steps=3)).fit()
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()
    for name in ("empty.png", "text.png", "truncated.jpg"):  # each bad file is named in the log
        assert name in caplog.text


def test_resume_without_checkpoint_is_an_error(tmp_path):
    with pytest.raises(tokzoo.CheckpointError, match="no checkpoint"):
        Trainer(tiny_cfg(tmp_path)).fit(resume=True)


def test_resume_with_another_model_is_a_clear_error(tmp_path):
    Trainer(tiny_cfg(tmp_path, max_steps=4)).fit()
    other = {**TINY, "codebook_size": 32}
    with pytest.raises(ConfigError, match=r"model_overrides: .*codebook_size': 64.* -> .*codebook_size': 32"):
        Trainer(tiny_cfg(tmp_path, max_steps=8, model_overrides=other)).fit(resume=True)
    with pytest.raises(ConfigError, match=r"batch_size: 4 -> 2"):
        Trainer(tiny_cfg(tmp_path, max_steps=8, batch_size=2)).fit(resume=True)


def test_fresh_run_refuses_an_out_dir_with_checkpoints(tmp_path):
    Trainer(tiny_cfg(tmp_path, max_steps=4)).fit()
    with pytest.raises(tokzoo.CheckpointError, match="pass --resume"):
        Trainer(tiny_cfg(tmp_path, max_steps=4, lr=5e-4)).fit()


class NaNImages(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, key):
        return torch.full((3, 32, 32), float("nan"))


def test_nan_loss_stops_without_touching_checkpoints(tmp_path):
    Trainer(tiny_cfg(tmp_path, max_steps=4)).fit()
    ckpt = tmp_path / "checkpoints" / "step_00000004"
    before = (ckpt / "model.safetensors").read_bytes()
    with pytest.raises(NonFiniteLossError, match="loss is nan at step 5"):
        Trainer(tiny_cfg(tmp_path, max_steps=8), dataset=NaNImages()).fit(resume=True)
    assert [s for s, _ in list_checkpoints(tmp_path / "checkpoints")] == [4]
    assert (ckpt / "model.safetensors").read_bytes() == before


def test_keep_checkpoints_prunes_old_ones(tmp_path):
    Trainer(tiny_cfg(tmp_path, max_steps=6, ckpt_every=2, keep_checkpoints=2)).fit()
    assert [s for s, _ in list_checkpoints(tmp_path / "checkpoints")] == [4, 6]
    assert not [p for p in (tmp_path / "checkpoints").iterdir() if p.name.startswith(".")]


def test_config_yaml_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model: vq-f4-s\nlr: 1\nbetas: [0.5, 0.9]\nmodel_overrides: {codebook_size: 256}\n")
    cfg = load_config(path, ["max_steps=7", "model_overrides.ch=16", "progress=false"])
    assert cfg.model == "vq-f4-s" and cfg.lr == 1.0 and isinstance(cfg.lr, float)
    assert cfg.betas == (0.5, 0.9) and cfg.max_steps == 7 and cfg.progress is False
    assert cfg.model_overrides == {"codebook_size": 256, "ch": 16}


@pytest.mark.parametrize(
    ("overrides", "match"),
    [(["nope=1"], "unknown config key 'nope'"), (["max_steps=abc"], "max_steps"), (["lr"], "key=value")],
)
def test_config_errors(overrides, match):
    with pytest.raises(ConfigError, match=match):
        load_config(None, overrides)


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(tmp_path / "bad.yaml")
