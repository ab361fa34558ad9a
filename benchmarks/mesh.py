"""Mesh serializations on real models: tokens per face, ratio to naive, bytes vs Draco, Chamfer distance.

python benchmarks/mesh.py [--bits 7 10] [--limit N]  ->  results/mesh.csv (per dataset and method),
                                                          results/mesh_models.csv (per model)

Datasets (Debian, offline): homedecor = the 146 OBJ models of minetest-mod-homedecor; glmark2 = the bunny.
For each model and grid size: every serialization's token count (the round trip is checked to be exact),
its bit-packed payload (``Tokens.nbits()``, what the ``.tok`` container stores besides its JSON header),
Draco (DracoPy, ``quantization_bits`` = the same grid bits, compression level 10) bytes, and the
Chamfer-L1 distance (sampled points to the exact nearest surface point, both ways) of the quantized mesh
(and of Draco's) to the original surface, as a fraction of the bounding box's longest side, beside half a
grid step. Needs ``pip install -e '.[mesh-bench]'`` (DracoPy, rtree).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import tokzoo
from common import RESULTS, write_results
from tokzoo.mesh import read_mesh
from tokzoo.mesh.chamfer import chamfer_distance
from tokzoo.mesh.data import mesh_files

SERIALIZATIONS = ["naive", "amt", "bpt", "nautilus"]


def _draco(raw, bits: int) -> tuple[int, tuple[np.ndarray, np.ndarray]] | None:
    try:
        import DracoPy
    except ImportError:
        return None
    data = DracoPy.encode(raw.vertices, raw.faces, quantization_bits=bits, compression_level=10)
    decoded = DracoPy.decode(data)
    return len(data), (np.asarray(decoded.points, np.float64), np.asarray(decoded.faces, np.int64))


def model_rows(dataset: str, path, bits: int, toks: dict) -> dict:
    raw = read_mesh(path)
    mesh, report = toks["naive"].quantize(raw)
    row = {"dataset": dataset, "model": path.name, "bits": bits, "faces": mesh.num_faces}
    for s, tok in toks.items():
        tokens = tok.encode(raw)
        assert tok.decode(tokens)[0].same_triangles(mesh), (path, s)
        row[f"{s}_tokens"] = tokens.num_tokens
        row[f"{s}_bytes"] = math.ceil(tokens.nbits() / 8)
    original = (raw.vertices, raw.faces)
    row["chamfer"] = chamfer_distance(original, (mesh.world_vertices(), mesh.faces)) / report.scale
    draco = _draco(raw, bits)
    if draco is not None:
        row["draco_bytes"] = draco[0]
        row["draco_chamfer"] = chamfer_distance(original, draco[1]) / report.scale
    return row


def summarize(rows: list[dict]) -> list[dict]:
    out = []
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        for bits in dict.fromkeys(r["bits"] for r in rows):
            sel = [r for r in rows if r["dataset"] == dataset and r["bits"] == bits]
            faces = sum(r["faces"] for r in sel)
            naive = sum(r["naive_tokens"] for r in sel)
            for s in [*SERIALIZATIONS, "draco"]:
                if f"{s}_bytes" not in sel[0]:
                    continue
                nbytes = sum(r[f"{s}_bytes"] for r in sel)
                tokens = sum(r[f"{s}_tokens"] for r in sel) if s != "draco" else None
                ratios = [r[f"{s}_tokens"] / r["naive_tokens"] for r in sel] if s != "draco" else []
                chamfer = [r["draco_chamfer" if s == "draco" else "chamfer"] for r in sel]
                out.append(
                    {
                        "dataset": dataset,
                        "N": len(sel),
                        "faces": faces,
                        "bits": bits,
                        "method": s,
                        "tokens_per_face": tokens / faces if tokens else float("nan"),
                        "ratio_to_naive": tokens / naive if tokens else float("nan"),
                        "mean_model_ratio": float(np.mean(ratios)) if ratios else float("nan"),
                        "bytes_per_face": nbytes / faces,
                        "bytes_vs_draco": nbytes / sum(r["draco_bytes"] for r in sel)
                        if "draco_bytes" in sel[0]
                        else float("nan"),
                        "chamfer_mean": float(np.mean(chamfer)),
                        "half_step": 0.5 / (2**bits - 1),
                    }
                )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bits", type=int, nargs="+", default=[7, 10])
    p.add_argument("--limit", type=int, default=None, help="first N models of each dataset")
    a = p.parse_args()
    start = time.perf_counter()
    rows = []
    for bits in a.bits:
        toks = {s: tokzoo.create(f"mesh-{s}-q7", bits=bits) for s in SERIALIZATIONS}
        for dataset in ["homedecor", "glmark2"]:
            for path in mesh_files(dataset)[: a.limit]:
                rows.append(model_rows(dataset, path, bits, toks))
    RESULTS.mkdir(exist_ok=True)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with open(RESULTS / "mesh_models.csv", "w") as f:
        f.write(",".join(keys) + "\n")
        f.writelines(",".join(str(r.get(k, "")) for k in keys) + "\n" for r in rows)
    summary = summarize(rows)
    write_results("mesh", summary)
    if not any(r["method"] == "draco" for r in summary):
        print("Draco not measured: pip install -e '.[mesh-bench]'")
    print(f"{len(rows)} model runs in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
