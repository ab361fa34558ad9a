"""Run every benchmark script in this folder (``make bench``); each prints a table and writes results/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
# Scripts whose full run takes longer than a few minutes: `make bench` runs their short version.
QUICK_ARGS = {
    "flexible.py": ["--quick"],
    "vit_init.py": ["--quick"],
    "reduce.py": ["--quick"],
    "text.py": ["--quick"],
    "priors.py": ["--quick"],
    "priors_codecs.py": ["--quick"],
    "priors_svg.py": ["--quick"],
    "priors_mesh.py": ["--quick", "--serializations", "nautilus", "amt"],
    "cad.py": ["--quick"],
    "points.py": ["--quick"],
    "idempotence.py": ["--quick"],
    "video.py": ["--quick"],
    "scenes.py": ["--quick"],
    "gaussians.py": ["--quick"],
}
# Modules the scripts import, not benchmarks themselves.
HELPERS = {
    "common.py",
    "video_claims.py",
    "reduce_data.py",
    "reduce_scenes.py",
    "reduce_views.py",
    "reduce_code.py",
}

# Scripts that need inputs `make bench` cannot provide (a built corpus, a trained run): their docstrings give the
# commands; `make bench` names them and goes on.
NEEDS_INPUTS = {
    "pretrained.py": "the photo corpus' test split (--test data/photos/test)",
    "recipe_ablation.py": "the photo corpus (--data data/photos/train --test data/photos/test)",
    "ship_pretrained.py": "a training run to ship (a tool, not a benchmark)",
    "points_scales.py": "a trained multi-scale VAT model folder",
    "kl_ptq.py": "the photo corpus (--fit data/photos/val --test data/photos/test)",
    "ship_stored_form.py": "the photo corpus' train split (a tool that ships weights, not a benchmark)",
}


def main() -> int:
    failed = []
    for script in sorted(HERE.glob("*.py")):
        if script.name == Path(__file__).name or script.name in HELPERS:
            continue
        if script.name in NEEDS_INPUTS:
            print(f"== {script.name}: not run, needs {NEEDS_INPUTS[script.name]}", flush=True)
            continue
        print(f"== {script.name}", flush=True)
        command = [sys.executable, str(script), *QUICK_ARGS.get(script.name, [])]
        if subprocess.run(command, check=False).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
