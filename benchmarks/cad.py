"""CAD programs as tokens: DeepCAD-format tokens vs byte-level BPE of the same programs as text, and the
geometry the manifold3d kernel builds before and after quantization and the token round trip.

python benchmarks/cad.py [--programs 200] [--train 1000] [--quick]  ->  results/cad.csv (per program),
                                                                         results/cad_summary.csv

Programs: :func:`tokzoo.cad.random_programs` (seed 0 for the test programs, seed 1 for the BPE's training
programs; DeepCAD's data set is not available offline). For each test program: its ``cad-deepcad-q8`` tokens,
DeepCAD's fixed-width size (17 values per command), the tokens of byte-level BPEs (``text-bpe`` of tokzoo,
HF tokenizers, learned on the training programs' text) of the same quantized program as ``.cadseq`` text and as
float text in model units (``tokzoo.cad.to_float_text``), and its ``cad-prim-q8`` primitive-level tokens (learned
on the same training programs at the BPEs' vocabulary sizes; lossless, so the geometry below is theirs too); then
the kernel: the continuous program, its
quantized form and the decoded tokens built as solids, volume IoU (exact, kernel booleans) and Chamfer-L1
distance (20,000 surface samples each way, as a fraction of the bounding-box diagonal) of quantized vs
continuous, and of decoded vs quantized (the round trip). A program the kernel cannot build is counted with
its reason.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np

import tokzoo
from common import write_results
from tokzoo.cad import (
    execute,
    quantize_program,
    random_programs,
    solid_mesh,
    to_cadseq,
    to_float_text,
    volume_iou,
)
from tokzoo.core.errors import DataError

BPE_VOCABS = (512, 4096)


def chamfer(a, b, points: int = 20_000) -> float:
    """Chamfer-L1 between two solids' surfaces (mean of both directions) over the diagonal of ``a``'s box."""
    import trimesh
    from scipy.spatial import cKDTree

    samples = []
    for solid in (a, b):
        v, f = solid_mesh(solid)
        pts, _ = trimesh.sample.sample_surface(trimesh.Trimesh(v, f, process=False), points, seed=0)
        samples.append(pts)
    d_ab = cKDTree(samples[1]).query(samples[0])[0].mean()
    d_ba = cKDTree(samples[0]).query(samples[1])[0].mean()
    v, _ = solid_mesh(a)
    return float((d_ab + d_ba) / 2 / np.linalg.norm(v.max(0) - v.min(0)))


def fit_bpes(train: list, vocabs: tuple[int, ...]) -> dict[str, object]:
    """Byte-level BPEs learned on the training programs as ``.cadseq`` and as float text."""
    texts = {"cadseq": [to_cadseq(quantize_program(p)) for p in train]}
    texts["float"] = [to_float_text(quantize_program(p)) for p in train]
    out = {}
    for form, docs in texts.items():
        for vocab in vocabs:
            bpe = tokzoo.create("text-bpe", vocab=vocab)
            bpe.fit([line for doc in docs for line in doc.splitlines(keepends=True)])
            out[f"{form}_bpe{vocab}"] = bpe
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--programs", type=int, default=200)
    ap.add_argument("--train", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="40 test programs, 300 training programs")
    a = ap.parse_args()
    n, n_train = (40, 300) if a.quick else (a.programs, a.train)
    t0 = time.time()
    tok = tokzoo.create("cad-deepcad-q8")
    train = random_programs(n_train, seed=1)
    bpes = fit_bpes(train, BPE_VOCABS)
    prims = {}
    for vocab in BPE_VOCABS:
        prims[f"prim{vocab}"] = tokzoo.create("cad-prim-q8", num_segments=vocab - tok.vocab_size)
        prims[f"prim{vocab}"].fit(train)
    rows, failures = [], Counter()
    for i, program in enumerate(random_programs(n, seed=0)):
        q = quantize_program(program)
        tokens = tok.encode([program])
        decoded = tok.decode(tokens)[0]
        row = {"program": i, "commands": q.num_commands(), "tokens": tokens.num_tokens}
        row |= {"bits": tokens.nbits(), "deepcad_values": 17 * q.num_commands(), "exact": int(decoded == q)}
        texts = {"cadseq": to_cadseq(q), "float": to_float_text(q)}
        row |= {"cadseq_bytes": len(texts["cadseq"]), "float_bytes": len(texts["float"])}
        for name, bpe in bpes.items():
            row[name] = bpe.encode([texts[name.split("_")[0]]]).num_tokens
        for name, prim in prims.items():
            prim_tokens = prim.encode([program])
            row[name] = prim_tokens.num_tokens
            row["exact"] &= int(prim.decode(prim_tokens)[0] == q)
        try:
            solids = [execute(p) for p in (program, q, decoded)]
        except DataError as e:
            failures[str(e).split(":")[-1].strip()] += 1
            row |= {"kernel": str(e), **dict.fromkeys(("iou_quantized", "iou_round_trip"), None)}
            row |= dict.fromkeys(("chamfer_quantized", "chamfer_round_trip"), None)
            rows.append(row)
            continue
        row |= {"kernel": "ok", "iou_quantized": volume_iou(solids[0], solids[1])}
        row |= {
            "iou_round_trip": volume_iou(solids[1], solids[2]),
            "chamfer_quantized": chamfer(solids[0], solids[1]),
        }
        row["chamfer_round_trip"] = chamfer(solids[1], solids[2])
        rows.append(row)
    write_results("cad", rows)
    built = [r for r in rows if r["kernel"] == "ok"]
    cad = sum(r["tokens"] for r in rows)
    summary = [
        {"metric": "programs", "value": len(rows)},
        {"metric": "kernel_failures", "value": len(rows) - len(built)},
        {"metric": "exact_round_trips", "value": sum(r["exact"] for r in rows)},
        {"metric": "cad_tokens_per_program", "value": cad / len(rows)},
        {"metric": "deepcad_values_per_program", "value": sum(r["deepcad_values"] for r in rows) / len(rows)},
    ]
    for name in prims:
        summary += [{"metric": f"{name}_tokens_per_program", "value": sum(r[name] for r in rows) / len(rows)}]
    for name in bpes:
        total = sum(r[name] for r in rows)
        summary += [{"metric": f"{name}_tokens_per_program", "value": total / len(rows)}]
        summary += [{"metric": f"{name}_over_cad_tokens", "value": total / cad}]
        vocab = name.split("bpe")[-1]
        summary += [
            {"metric": f"{name}_over_prim{vocab}", "value": total / sum(r[f"prim{vocab}"] for r in rows)}
        ]
    for key in ("iou_quantized", "iou_round_trip", "chamfer_quantized", "chamfer_round_trip"):
        values = np.array([r[key] for r in built])
        summary += [{"metric": f"{key}_mean", "value": float(values.mean())}]
        summary += [{"metric": f"{key}_min", "value": float(values.min())}]
    summary += [
        {
            "metric": "share_iou_quantized_ge_0.99",
            "value": float(np.mean([r["iou_quantized"] >= 0.99 for r in built])),
        }
    ]
    summary += [{"metric": f"failure: {k}", "value": v} for k, v in failures.items()]
    summary += [{"metric": "seconds", "value": round(time.time() - t0, 1)}]
    write_results("cad_summary", summary)


if __name__ == "__main__":
    main()
