"""Face identity through the pretrained fsq-f8-s and through JPEG/WebP at equal bytes.

The offline face photos (tokzoo.bench.faces.FACE_PHOTOS: scikit-image astronaut, matplotlib grace_hopper,
OpenCV's messi5 and basketball1 from Debian opencv-doc) are cropped around their face so that it spans 32, 64
or 128 px of a 256×256 page; each page is reconstructed by the shipped pretrained fsq-f8-s and by each codec at the tokenizer's byte cost (a page below the codec's floor is coded at its
lowest quality and its real size counted). Face embeddings (face_recognition / dlib ResNet) of original and
reconstruction are compared at the face box found on the original.

Needs `make extras` (face_recognition installed with --no-deps beside dlib-bin). Writes results/faces.csv|json.

python benchmarks/faces.py
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
import torch

from common import write_results
from text_legibility import codec_at_budget, demo_model
from tokzoo.bench.codecs import available_codecs, get_codec
from tokzoo.bench.faces import face_modules, face_pages, face_photos, identity_table
from tokzoo.bench.text import reconstruct
from tokzoo.core.errors import DataError


def main() -> int:
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    try:
        face_modules()
    except DataError as e:
        print(f"skipped: {e}")
        return 0
    pages, notes = face_pages(face_photos(), size=256)
    for note in notes:
        print(f"note: {note}")
    model = demo_model()
    x = torch.from_numpy(np.stack([p.image for p in pages])).permute(0, 3, 1, 2).float() / 255
    budget = math.ceil(model.encode(x[:1]).nbits_per_sample()[0] / 8)
    methods = {f"{model.registry_name} (pretrained)": (reconstruct(model, x), float(budget), 0)}
    for codec in [c for c in ("jpeg", "webp") if c in available_codecs()]:
        images, sizes, over = codec_at_budget(pages, codec, budget)
        methods[get_codec(codec).label] = (images, float(np.mean(sizes)), over)
    rows = []
    for name, (recs, mean_bytes, over) in methods.items():
        result = identity_table(pages, recs, notes)
        for r in result.rows:
            rows.append({"method": name, "mean_bytes": mean_bytes, "bpp": 8 * mean_bytes / (256 * 256),
                         "pages_over_budget": over, **r})  # fmt: skip
    write_results("faces", rows)
    print(
        f"{len(pages)} face pages from {len({p.name for p in pages})} photos, {time.perf_counter() - t0:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
