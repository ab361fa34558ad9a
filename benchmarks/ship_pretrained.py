"""Ship a trained run as pretrained weights: fp16 safetensors into src/tokzoo/pretrained/weights/NAME and its
sha256 + card fields (steps, wall time, data, command) into src/tokzoo/pretrained/manifest.json.

python benchmarks/ship_pretrained.py runs/pretrained/fsq-f8-s          # the run's model/ (EMA weights)
python benchmarks/ship_pretrained.py runs/pretrained/fsq-f8-s --weights model_raw   # the raw weights
python benchmarks/ship_pretrained.py runs/pretrained/fsq-f8-s --compare data/photos/val  # choose: prints PSNRs

Pick EMA or raw weights on the validation split (data/photos/val), never on the held-out split the card
reports.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import yaml

import tokzoo
from tokzoo.bench.eval_run import load_eval_images
from tokzoo.bench.protocol import finalize, prepare_images
from tokzoo.bench.thumbnail import thumbnail_reconstruct, thumbnail_side
from tokzoo.core.pretrained import export_pretrained
from tokzoo.data import bundled_images
from tokzoo.metrics.fidelity import psnr

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "src" / "tokzoo" / "pretrained"


@torch.no_grad()
def bundled_heldout_psnr(model: tokzoo.Tokenizer, size: int = 128) -> dict[str, float]:
    """Mean PSNR on the 30 bundled held-out photos at ``size`` px and that of the equal-bits thumbnail: the
    figures a card states and tests/test_pretrained.py checks the shipped weights against."""
    _, x = prepare_images(bundled_images("heldout"), size)
    tokens = model.eval().encode(x)
    rec = finalize(model.decode(tokens))
    thumb = finalize(thumbnail_reconstruct(x, thumbnail_side(min(tokens.nbits_per_sample()))))
    return {
        "bits": float(min(tokens.nbits_per_sample())),
        "psnr": round(float(psnr(rec, x).mean()), 3),
        "thumbnail_psnr": round(float(psnr(thumb, x).mean()), 3),
    }


@torch.no_grad()
def folder_psnr(model: tokzoo.Tokenizer, folder: str, size: int = 128) -> float:
    """Mean PSNR of ``model`` on the images of ``folder`` at ``size`` px (how EMA and raw weights are chosen)."""
    _, x = prepare_images(load_eval_images(folder)[0], size)
    model.eval()
    return torch.cat([psnr(finalize(model.decode(model.encode(b))), b) for b in x.split(32)]).mean().item()


def _lineage(init: str, name: str, steps: int, command: str | None, partial: bool = False) -> dict:
    """Card fields of a run started from shipped weights (``init: pretrained:NAME``): the steps of every stage
    added up and each stage's command, so the card describes the weights, not only the last run. A transfer
    from another shipped model (``init_partial``) lists that model's stages under its name first."""
    source = init.removeprefix("pretrained:")
    if source == init or (source != name and not partial):
        return {}
    before = json.loads((WEIGHTS / "manifest.json").read_text())["models"][source]
    stages = before.get("stages") or [{"steps": before["steps"], "command": before.get("command")}]
    last: dict = {"steps": steps, "command": command}
    if source != name:
        stages = [{"model": source, **s} for s in stages]
        last = {"model": name, "init_partial": True, **last}
    return {"steps": before["steps"] + steps, "stages": [*stages, last]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", help="training run folder (holds model/, train_config.yaml, logs.jsonl)")
    p.add_argument(
        "--config", default=None, help="the YAML the run was started from (for the card's command)"
    )
    p.add_argument(
        "--weights",
        choices=["model", "model_raw"],
        default="model",
        help="model (EMA weights when the run used EMA) or model_raw",
    )
    p.add_argument(
        "--compare",
        metavar="FOLDER",
        default=None,
        help="only print the PSNR on FOLDER (the validation split) of the shipped, EMA and raw weights",
    )
    a = p.parse_args()
    run = Path(a.run)
    if a.compare:
        cfg = yaml.safe_load((run / "train_config.yaml").read_text())
        candidates = (
            {"shipped": tokzoo.create(cfg["model"], pretrained=True)}
            if cfg["model"] in tokzoo.list(pretrained=True)
            else {}
        )
        candidates.update({w: tokzoo.load(run / w) for w in ("model", "model_raw") if (run / w).is_dir()})
        for label, model in candidates.items():
            print(f"{cfg['model']} {label}: {folder_psnr(model, a.compare):.3f} dB on {a.compare}")
        return
    cfg = yaml.safe_load((run / "train_config.yaml").read_text())
    logs = [json.loads(line) for line in (run / "logs.jsonl").read_text().splitlines() if line.strip()]
    name = cfg["model"]
    model = tokzoo.load(run / a.weights)
    steps = logs[-1]["step"] if logs else cfg["max_steps"]
    card = {
        "summary": tokzoo.core.registry.get_spec(name).description,
        "data": cfg["data"],
        "steps": steps,
        "batch_size": cfg["batch_size"],
        "crop_sizes": [[0, cfg["image_size"]], *cfg.get("size_schedule", [])],
        "ema_decay": cfg.get("ema_decay", 0.0),
        "weights": "EMA" if a.weights == "model" and cfg.get("ema_decay", 0.0) else "raw",
        "pixel_loss": cfg.get("pixel_loss", "model"),
        "gan_weight": cfg.get("gan_weight", 0.0),
        "parameters": model.num_parameters(),
        "command": f"tokzoo train --config {a.config}" if a.config else None,
    }
    card.update(_lineage(cfg.get("init", ""), name, steps, card["command"], cfg.get("init_partial", False)))
    spec = export_pretrained(run / a.weights, WEIGHTS, name, card)
    shipped = tokzoo.create(name, pretrained=True)  # the fp16 weights as users get them
    card["bundled_heldout_128px"] = bundled_heldout_psnr(shipped)
    spec = export_pretrained(run / a.weights, WEIGHTS, name, card)
    print(f"{name}: bundled:heldout at 128 px {card['bundled_heldout_128px']}")
    print(f"{name}: {spec.folder} ({(spec.folder / 'model.safetensors').stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
