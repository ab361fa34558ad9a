"""Idempotence of the structured tokenizers on real files: ``encode(load(save(decode(t)))) == t``.

python benchmarks/idempotence.py [--svgs 400] [--quick]  ->  results/idempotence.csv (one row per file and
tokenizer: encoded, idempotent, the first differing token)

SVG: ``svg-hivg-256`` (atoms) on files drawn evenly from Debian's ``papirus-icon-theme`` and ``openclipart-svg``
(sorted paths, every k-th); meshes: every ``mesh-*-q7`` serialization on the 146 homedecor OBJ models and the
glmark2 bunny; CAD: ``cad-deepcad-q8`` and ``cad-prim-q8`` (its primitive tokens learned on 3,000 generated
programs) on the real OpenSCAD programs of Debian's ``openscad-testing-data`` that convert, written as ``.cadseq``.
Points (``--points-model RUN/model``, a trained point tokenizer): the held-out ``homedecor:test`` models, decoded
clouds written as ``.xyz``. Every row also gives ``agreement``, the share of token ids that come back (as a
multiset, since a point tokenizer's patch tokens are a set whose order follows farthest-point sampling): learned
point tokenizers are lossy, so this says how far from idempotent they are. A file that does not encode is counted
apart (it has no tokens to re-encode).
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

import torch

import tokzoo
from common import write_results
from tokzoo.cad import quantize_program, random_programs, to_cadseq
from tokzoo.cad.data import DEFAULT_PACKAGES, convert_folder
from tokzoo.core.errors import DataError, TokzooError
from tokzoo.data.apt import debian_package
from tokzoo.mesh.data import mesh_files
from tokzoo.points.data import point_files


def svg_files(n: int) -> list[Path]:
    """``n`` SVG files, half from each package, drawn evenly from the sorted listings."""
    out = []
    for package in ("papirus-icon-theme", "openclipart-svg"):
        files = sorted(p for p in (debian_package(package) / "usr/share").rglob("*.svg") if p.is_file())
        step = max(1, len(files) // (n // 2))
        out += files[::step][: n // 2]
    return out


def cad_files(folder: Path) -> list[Path]:
    """The OpenSCAD test programs that convert, quantized and written as ``.cadseq`` files into ``folder`` (none
    without the package)."""
    try:
        root = debian_package("openscad-testing-data") / DEFAULT_PACKAGES["openscad-testing-data"]
    except DataError as e:
        print(f"cad skipped: {e}")
        return []
    out = []
    for i, record in enumerate(convert_folder(root, on_error=lambda where, why: None)):
        if record.conversion is not None:
            out.append(folder / f"scad{i:03d}.cadseq")
            out[-1].write_text(to_cadseq(quantize_program(record.conversion.program)))
    return out


def first_difference(a: torch.Tensor, b: torch.Tensor) -> int:
    """The first position where two id sequences differ (the shorter length if one is a prefix)."""
    n = min(len(a), len(b))
    diff = (a[:n] != b[:n]).nonzero()
    return int(diff[0]) if len(diff) else n


def check(tok, path: Path, suffix: str, tmp: Path) -> dict:
    """One file through encode -> decode -> save -> load -> encode."""
    row = {"tokenizer": tok.registry_name, "file": str(path), "encoded": 0, "idempotent": 0, "first_diff": ""}
    row["agreement"] = ""
    try:
        tokens = tok.encode(tok.load_file(path))
    except TokzooError:
        return row
    row["encoded"] = 1
    out = tmp / f"decoded{suffix}"
    tok.save_file(tok.decode(tokens)[0], out)
    again = tok.encode(tok.load_file(out))
    a, b = tokens.sample(0), again.sample(0)
    row["idempotent"] = int(torch.equal(a, b))
    common = sum((Counter(a.tolist()) & Counter(b.tolist())).values())
    row["agreement"] = common / max(len(a), len(b), 1)
    if not row["idempotent"]:
        row["first_diff"] = first_difference(a, b)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--svgs", type=int, default=400)
    ap.add_argument("--quick", action="store_true", help="40 SVGs, 20 meshes")
    ap.add_argument("--only", choices=["svg", "mesh", "cad", "points"], help="one modality")
    ap.add_argument(
        "--points-model", help="a trained point tokenizer (checkpoint folder) for the points rows"
    )
    a = ap.parse_args()
    meshes = mesh_files("homedecor") + mesh_files("glmark2")
    svgs = svg_files(40 if a.quick else a.svgs)
    if a.quick:
        meshes = meshes[:: max(1, len(meshes) // 20)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        svg = tokzoo.create("svg-hivg-256")
        rows += [check(svg, p, ".svg", Path(tmp)) for p in svgs if a.only in (None, "svg")]
        for name in tokzoo.list_models("mesh-*-q7") if a.only in (None, "mesh") else []:
            tok = tokzoo.create(name)
            rows += [check(tok, p, ".obj", Path(tmp)) for p in meshes]
        if a.only in (None, "cad"):
            (Path(tmp) / "cad").mkdir()
            programs = cad_files(Path(tmp) / "cad")
            prim = tokzoo.create("cad-prim-q8")
            prim.fit(random_programs(3000, seed=1))
            for tok in (tokzoo.create("cad-deepcad-q8"), prim):
                rows += [check(tok, p, ".cadseq", Path(tmp)) for p in programs]
        if a.only in (None, "points") and a.points_model:
            tok = tokzoo.load(a.points_model).eval()
            with torch.no_grad():
                rows += [check(tok, p, ".xyz", Path(tmp)) for p in point_files("homedecor:test")]
    write_results("idempotence", rows)
    summary = {}
    for r in rows:
        s = summary.setdefault(r["tokenizer"], [0, 0, 0, []])
        s[0] += 1
        s[1] += r["encoded"]
        s[2] += r["idempotent"]
        s[3] += [r["agreement"]] if r["encoded"] else []
    for name, (n, enc, idem, agree) in summary.items():
        line = f"{name:18s} files {n:4d}  encoded {enc:4d}  idempotent {idem:4d} ({idem / max(enc, 1):.1%})"
        print(line + (f"  tokens unchanged {sum(agree) / len(agree):.1%}" if agree else ""))


if __name__ == "__main__":
    main()
