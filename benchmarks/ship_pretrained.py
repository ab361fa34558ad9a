"""Ship a trained run as pretrained weights: fp16 safetensors into src/tokzoo/pretrained/weights/NAME and its
sha256 + card fields (steps, wall time, data, command) into src/tokzoo/pretrained/manifest.json.

python benchmarks/ship_pretrained.py runs/pretrained/fsq-f8-s          # the run's model/ (EMA weights)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

import tokzoo
from tokzoo.core.pretrained import export_pretrained

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "src" / "tokzoo" / "pretrained"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", help="training run folder (holds model/, train_config.yaml, logs.jsonl)")
    p.add_argument(
        "--config", default=None, help="the YAML the run was started from (for the card's command)"
    )
    a = p.parse_args()
    run = Path(a.run)
    cfg = yaml.safe_load((run / "train_config.yaml").read_text())
    logs = [json.loads(line) for line in (run / "logs.jsonl").read_text().splitlines() if line.strip()]
    name = cfg["model"]
    model = tokzoo.load(run / "model")
    card = {
        "summary": tokzoo.core.registry.get_spec(name).description,
        "data": cfg["data"],
        "steps": logs[-1]["step"] if logs else cfg["max_steps"],
        "batch_size": cfg["batch_size"],
        "crop_sizes": [[0, cfg["image_size"]], *cfg.get("size_schedule", [])],
        "ema_decay": cfg.get("ema_decay", 0.0),
        "pixel_loss": cfg.get("pixel_loss", "model"),
        "gan_weight": cfg.get("gan_weight", 0.0),
        "parameters": model.num_parameters(),
        "command": f"tokzoo train --config {a.config}" if a.config else None,
    }
    spec = export_pretrained(run / "model", WEIGHTS, name, card)
    print(f"{name}: {spec.folder} ({(spec.folder / 'model.safetensors').stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
