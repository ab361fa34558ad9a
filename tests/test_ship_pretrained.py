"""benchmarks/ship_pretrained.py: a run continued from shipped weights gets a card for all its stages."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import ship_pretrained


def _manifest(tmp_path: Path, card: dict) -> None:
    models = {"m": {"folder": "weights/m", "files": {}, **card}}
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "tokzoo-pretrained", "models": models}))


def test_a_fresh_run_has_no_lineage(tmp_path, monkeypatch):
    monkeypatch.setattr(ship_pretrained, "WEIGHTS", tmp_path)
    _manifest(tmp_path, {"steps": 100, "command": "first"})
    assert ship_pretrained._lineage("", "m", 50, "second") == {}
    assert ship_pretrained._lineage("runs/other/model", "m", 50, "second") == {}
    assert ship_pretrained._lineage("pretrained:other", "m", 50, "second") == {}


def test_continuing_shipped_weights_adds_up_the_stages(tmp_path, monkeypatch):
    monkeypatch.setattr(ship_pretrained, "WEIGHTS", tmp_path)
    _manifest(tmp_path, {"steps": 100, "command": "first"})
    card = ship_pretrained._lineage("pretrained:m", "m", 50, "second")
    assert card == {
        "steps": 150,
        "stages": [{"steps": 100, "command": "first"}, {"steps": 50, "command": "second"}],
    }
    _manifest(tmp_path, {"steps": 150, "command": "second", "stages": card["stages"]})
    again = ship_pretrained._lineage("pretrained:m", "m", 25, "third")
    assert again["steps"] == 175 and [s["steps"] for s in again["stages"]] == [100, 50, 25]


def test_a_transfer_lists_the_source_models_stages(tmp_path, monkeypatch):
    monkeypatch.setattr(ship_pretrained, "WEIGHTS", tmp_path)
    _manifest(tmp_path, {"steps": 100, "command": "first"})
    assert ship_pretrained._lineage("pretrained:m", "lo", 40, "transfer") == {}  # not init_partial
    card = ship_pretrained._lineage("pretrained:m", "lo", 40, "transfer", partial=True)
    assert card == {
        "steps": 140,
        "stages": [
            {"model": "m", "steps": 100, "command": "first"},
            {"model": "lo", "init_partial": True, "steps": 40, "command": "transfer"},
        ],
    }
