"""Config values out of range or of the wrong type are one-line ConfigErrors naming the key and the range."""

from __future__ import annotations

import pytest

import tokzoo
from tokzoo.cli import main
from tokzoo.core.errors import ConfigError
from tokzoo.train import load_config


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"ch": 100000}, r"ch=100000 is outside the allowed range \[1, 1024\]"),
        (
            {"codebook_size": 2**40},
            r"codebook_size=1099511627776 is outside the allowed range \[1, 16,777,216\]",
        ),
        ({"ch": -5}, r"ch=-5 is outside the allowed range"),
        ({"ch": "abc"}, r"ch='abc' is not a number \(allowed: \[1, 1024\]\)"),
        ({"ch": True}, r"ch=True is not a number"),
        ({"ch": 8.5}, r"ch=8.5 is not of type int"),
        ({"beta": "x"}, r"beta='x' is not of type float"),
    ],
)
def test_bad_values_are_refused_before_building(overrides, match):
    with pytest.raises(ConfigError, match=match):
        tokzoo.create("vq-f8-s", **overrides)


@pytest.mark.parametrize("name", ["titok-s-32", "svg-hivg-256", "mesh-amt-q7"])
def test_every_family_checks_its_ranges(name):
    key = {"titok-s-32": "width", "svg-hivg-256": "grid", "mesh-amt-q7": "bits"}[name]
    with pytest.raises(ConfigError, match=rf"{key}=10000000 is outside"):
        tokzoo.create(name, **{key: 10_000_000})


def test_training_overrides_are_checked_in_one_line(capsys, tmp_path):
    assert main(["train", "model_overrides.ch=100000", f"out_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "tokzoo: error: vq-f8-s: ch=100000 is outside the allowed range [1, 1024]"


def test_train_config_sizes_are_bounded():
    with pytest.raises(ConfigError, match="image_size"):
        load_config(None, ["image_size=100000"])
    with pytest.raises(ConfigError, match="batch_size"):
        load_config(None, ["batch_size=10000000"])
