"""Idempotence of the structured tokenizers on real files: ``encode(load(save(decode(t)))) == t``.

python benchmarks/idempotence.py [--svgs 400] [--quick]  ->  results/idempotence.csv (one row per file and
tokenizer: encoded, idempotent, the first differing token)

SVG: ``svg-hivg-256`` (atoms) on files drawn evenly from Debian's ``papirus-icon-theme`` and ``openclipart-svg``
(sorted paths, every k-th); meshes: every ``mesh-*-q7`` serialization on the 146 homedecor OBJ models and the
glmark2 bunny. A file that does not encode is counted apart (it has no tokens to re-encode).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

import tokzoo
from common import write_results
from tokzoo.core.errors import TokzooError
from tokzoo.data.apt import debian_package
from tokzoo.mesh.data import mesh_files


def svg_files(n: int) -> list[Path]:
    """``n`` SVG files, half from each package, drawn evenly from the sorted listings."""
    out = []
    for package in ("papirus-icon-theme", "openclipart-svg"):
        files = sorted(p for p in (debian_package(package) / "usr/share").rglob("*.svg") if p.is_file())
        step = max(1, len(files) // (n // 2))
        out += files[::step][: n // 2]
    return out


def first_difference(a: torch.Tensor, b: torch.Tensor) -> int:
    """The first position where two id sequences differ (the shorter length if one is a prefix)."""
    n = min(len(a), len(b))
    diff = (a[:n] != b[:n]).nonzero()
    return int(diff[0]) if len(diff) else n


def check(tok, path: Path, suffix: str, tmp: Path) -> dict:
    """One file through encode -> decode -> save -> load -> encode."""
    row = {"tokenizer": tok.registry_name, "file": str(path), "encoded": 0, "idempotent": 0, "first_diff": ""}
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
    if not row["idempotent"]:
        row["first_diff"] = first_difference(a, b)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--svgs", type=int, default=400)
    ap.add_argument("--quick", action="store_true", help="40 SVGs, 20 meshes")
    ap.add_argument("--only", choices=["svg", "mesh"], help="one modality")
    a = ap.parse_args()
    meshes = mesh_files("homedecor") + mesh_files("glmark2")
    svgs = svg_files(40 if a.quick else a.svgs)
    if a.quick:
        meshes = meshes[:: max(1, len(meshes) // 20)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        svg = tokzoo.create("svg-hivg-256")
        rows += [check(svg, p, ".svg", Path(tmp)) for p in svgs if a.only != "mesh"]
        for name in tokzoo.list_models("mesh-*-q7") if a.only != "svg" else []:
            tok = tokzoo.create(name)
            rows += [check(tok, p, ".obj", Path(tmp)) for p in meshes]
    write_results("idempotence", rows)
    summary = {}
    for r in rows:
        s = summary.setdefault(r["tokenizer"], [0, 0, 0])
        s[0] += 1
        s[1] += r["encoded"]
        s[2] += r["idempotent"]
    for name, (n, enc, idem) in summary.items():
        print(f"{name:18s} files {n:4d}  encoded {enc:4d}  idempotent {idem:4d} ({idem / max(enc, 1):.1%})")


if __name__ == "__main__":
    main()
