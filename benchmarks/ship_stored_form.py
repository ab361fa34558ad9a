"""Ship a second form of a shipped continuous tokenizer: its weights with the posterior means stored through a
post-training grid fitted on training images (``kl`` with ``store_bins``), in the same weight file.

python benchmarks/ship_stored_form.py --base kl-f16-s --name kl-f16-s-q16 --fit data/photos/train
    fits the grid of ``kl-f16-s-q16`` on the posterior means of ``--fit-images`` training images (evenly spaced
    over the sorted files, 128 px evaluation crops), then adds it to ``src/tokzoo/pretrained`` beside
    ``kl-f16-s`` (``tokzoo.core.pretrained.export_pretrained_form``) with its card: the bundled held-out photos'
    PSNR and thumbnail at its rate.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

import tokzoo
from ship_pretrained import bundled_heldout_psnr
from tokzoo.bench.protocol import prepare_images
from tokzoo.core import pretrained as pt
from tokzoo.core.registry import get_spec
from tokzoo.data.folder import ImageFolder

ROOT = Path(__file__).resolve().parent.parent / "src" / "tokzoo" / "pretrained"


def fit_images(folder: str, count: int, size: int) -> torch.Tensor:
    """``count`` images evenly spaced over the sorted files of ``folder`` (unreadable or smaller than ``size``
    ones skipped), as ``size`` px evaluation crops."""
    data = ImageFolder(folder)
    step = max(1, len(data) // count)
    images = []
    for i in range(0, len(data), step):
        try:
            image = data[i]
        except tokzoo.TokzooError as e:
            print(f"skipped {data.paths[i]}: {e}")
            continue
        if min(image.shape[:2]) >= size:
            images.append((data.paths[i], image))
    return prepare_images(images[:count], size)[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True, help="the shipped continuous tokenizer, e.g. kl-f16-s")
    p.add_argument("--name", required=True, help="the registered stored form, e.g. kl-f16-s-q16")
    p.add_argument("--fit", required=True, help="training images to fit the grid on")
    p.add_argument("--fit-images", type=int, default=2048)
    p.add_argument("--size", type=int, default=128)
    a = p.parse_args()
    base = tokzoo.create(a.base, pretrained=True)
    model = tokzoo.create(a.name)
    missing, unexpected = model.load_state_dict(base.state_dict(), strict=False)
    if unexpected or not missing or any(".store." not in k for k in missing):
        raise SystemExit(
            f"{a.name} is not {a.base} plus a storage grid (missing {missing}, unexpected {unexpected})"
        )
    images = fit_images(a.fit, a.fit_images, a.size)
    model.eval().fit(images.split(64))
    print(f"fitted {a.name}'s grid on {len(images)} images of {a.fit}")
    card = {k: v for k, v in pt.get_pretrained(a.base).card.items() if k != "bundled_heldout_128px"}
    card.update(
        summary=get_spec(a.name).description,
        storage_fit=f"{len(images)} images of {a.fit} ({a.size} px evaluation crops)",
        command=f"{card.get('command', '')}; then python benchmarks/ship_stored_form.py --base {a.base} "
        f"--name {a.name} --fit {a.fit} --fit-images {a.fit_images}",
        bundled_heldout_128px=bundled_heldout_psnr(model),
    )
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(Path(tmp) / "ckpt")
        spec = pt.export_pretrained_form(Path(tmp) / "ckpt", ROOT, a.base, a.name, card)
    print(f"shipped {spec.name} in {spec.folder} ({spec.config}); card: {card['bundled_heldout_128px']}")


if __name__ == "__main__":
    main()
