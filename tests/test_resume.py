"""``--resume``: the stored config is resumed, invariant keys are refused if changed, the rest are noted."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from tokzoo.cli import main
from tokzoo.train import TrainConfig
from tokzoo.train.resume import RESUME_INVARIANT, RESUME_MAY_CHANGE

TINY = ["model_overrides.ch=8", "model_overrides.z_channels=16", "model_overrides.codebook_size=64"]


def run_args(out, *extra):
    base = [
        "image_size=32",
        "batch_size=2",
        "warmup_steps=1",
        "ckpt_every=2",
        "progress=false",
        f"out_dir={out}",
    ]
    return ["train", *TINY, *base, *extra]


def test_every_setting_is_either_invariant_or_allowed_to_change():
    keys = [f.name for f in dataclasses.fields(TrainConfig)]
    assert sorted(RESUME_INVARIANT + RESUME_MAY_CHANGE) == sorted(keys)
    assert not set(RESUME_INVARIANT) & set(RESUME_MAY_CHANGE)


def test_resume_alone_keeps_the_stored_overrides(tmp_path, capsys, caplog):
    out = tmp_path / "run"
    assert main(run_args(out, "max_steps=2", "lr=5e-4")) == 0
    # resumed without repeating lr or the model overrides: the stored ones apply, not the defaults
    assert main(["train", "--resume", f"out_dir={out}", "max_steps=4"]) == 0
    err = capsys.readouterr().err
    assert "resumed from step 2" in err
    assert "resume: max_steps changed from 2 to 4" in caplog.text  # an allowed change, noted
    stored = yaml.safe_load((out / "train_config.yaml").read_text())
    assert stored["lr"] == 5e-4 and stored["model_overrides"]["ch"] == 8 and stored["max_steps"] == 4


@pytest.mark.parametrize("change", ["lr=1e-3", "seed=1", "weight_decay=0.1", "model_overrides.ch=16"])
def test_changing_an_invariant_setting_is_refused_naming_it(tmp_path, capsys, change):
    out = tmp_path / "run"
    assert main(run_args(out, "max_steps=2", "lr=5e-4")) == 0
    capsys.readouterr()
    assert main(["train", "--resume", f"out_dir={out}", "max_steps=4", change]) == 2
    err = capsys.readouterr().err.strip()
    key = change.split("=")[0].split(".")[0]
    assert err.startswith("tokzoo: error: cannot resume") and f"{key}: " in err and len(err.splitlines()) == 1
