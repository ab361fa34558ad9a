"""Real CAD programs: the OpenSCAD files of Debian's ``openscad-testing-data`` converted to DeepCAD-format programs
(:mod:`tokzoo.cad.openscad`), checked against a direct manifold3d evaluation of the same CSG tree, and tokenized.

python benchmarks/cad_real.py  ->  results/cad_real.csv (per converted file), results/cad_real_reasons.csv
                                   (refusals per reason), results/cad_real_summary.csv

For each ``.scad`` file: parse and convert, or the refusal's reason. For each converted one: the direct CSG solid
(:func:`tokzoo.cad.scad_csg.evaluate_scad`, the tree as written, circles with the kernel's 64 segments) moved by
the conversion's normalisation; volume IoU (exact, kernel booleans) of ``execute(program)`` vs it (the
converter), and of the program after the ``cad-deepcad-q8`` token round trip (8-bit quantization) vs it (what
tokenizing costs); the CAD tokens vs byte-level BPEs (``text-bpe``, vocab 512 and 4096) of the original ``.scad``
text, as written and without comments, the BPEs learned on the package's refused files (so never on a test file);
and the ``cad-prim-q8`` primitive-level tokens (vocabulary 4,096 like the larger BPE), learned three ways, none on
the test file: on 3,000 generated programs (``random_programs`` seed 1), on the other converted files
(leave-one-out, every copy of the test program left out), and on both.
A file whose program makes an empty solid (OpenSCAD's own empty-result tests) or that the tokenizer refuses is
counted with its reason. Without apt (or the package) the script says so and exits 0.
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter

import numpy as np

import tokzoo
from common import write_results
from tokzoo.cad import execute, quantize_program, random_programs, volume_iou
from tokzoo.cad.data import DEFAULT_PACKAGES, convert_folder
from tokzoo.cad.scad_csg import evaluate_scad
from tokzoo.core.errors import DataError
from tokzoo.data.apt import debian_package

PACKAGE = "openscad-testing-data"
GENERATED = 3000  # generated programs the primitive tokens are learned on
BPE_VOCABS = (512, 4096)
TRAIN_CAP = 32 * 1024  # characters of one refused file used to learn the BPEs
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
#: what only the evaluator runs: definitions, loops, conditionals, let, ranges (in the text without comments)
_LANGUAGE = re.compile(
    r"^\s*(module|function)\b|\b(for|intersection_for|if|let)\s*\(|\[[^\[\]\n]*:[^\[\]\n]*\]", re.M
)
FAMILIES = {
    "external file (import, include, use, surface)": {
        "import", "import_stl", "import_dxf", "surface", "include", "use",
    },
    "language features not evaluated (function literals, assert/echo expressions, rands/search/chr, child)": {
        "function call", "function expression", "assert expression", "echo expression", "child", "each statement",
        "member access",
    },
    "3-D shape that is not an extrusion": {
        "sphere", "polyhedron", "rotate_extrude", "cone", "minkowski", "hull", "resize", "projection", "text",
        "multmatrix", "offset",
    },
    "2-D only (no linear_extrude)": {"2-D object without extrusion"},
    "no solid (echo / variables only, or all disabled)": {"no solid"},
    "CSG tree does not linearise": {"non-linearisable CSG"},
    "more than 60 commands": {"too long"},
}  # fmt: skip


def family(reason: str) -> str:
    """The row of the refusal table a reason belongs to."""
    return next(
        (f for f, rs in FAMILIES.items() if reason in rs), "invalid or unusual input (syntax, errors ...)"
    )


def strip_comments(text: str) -> str:
    """``text`` without comments, trailing spaces and blank lines."""
    lines = (line.rstrip() for line in _COMMENT.sub("", text).splitlines())
    return "\n".join(line for line in lines if line) + "\n"


def primitive_tokens(programs: list) -> dict[str, list[int]]:
    """Tokens of each program under ``cad-prim-q8`` learned on generated programs, on the other programs
    (leave-one-out, leaving out every copy: several test files convert to the same program) and on both."""
    generated = random_programs(GENERATED, seed=1)
    on_generated = tokzoo.create("cad-prim-q8")
    on_generated.fit(generated)
    quantized = [quantize_program(p) for p in programs]
    out: dict[str, list[int]] = {"prim_generated": [], "prim_loo": [], "prim_loo_generated": []}
    for i, q in enumerate(quantized):
        others = [p for p in quantized if p != q]
        out["prim_generated"].append(on_generated.encode([q]).num_tokens)
        for name, train in (("prim_loo", others), ("prim_loo_generated", others + generated)):
            model = tokzoo.create("cad-prim-q8")
            model.fit(train)
            tokens = model.encode([q])
            if model.decode(tokens)[0] != q:
                raise AssertionError(f"primitive tokens of program {i} do not round trip")
            out[name].append(tokens.num_tokens)
    return out


def main() -> int:
    t0 = time.time()
    try:
        root = debian_package(PACKAGE) / DEFAULT_PACKAGES[PACKAGE]
    except DataError as e:
        print(f"skipped: {e}")
        return 0
    records = convert_folder(root, on_error=lambda where, why: None)
    refused = [r for r in records if r.conversion is None]
    bpes = {}
    train = [r.text[:TRAIN_CAP] for r in refused if r.text]
    for vocab in BPE_VOCABS:
        bpe = tokzoo.create("text-bpe", vocab=vocab)
        bpe.fit([line for doc in train for line in doc.splitlines(keepends=True)])
        bpes[vocab] = bpe
    tok = tokzoo.create("cad-deepcad-q8")
    rows, failures, programs = [], Counter(), []
    for r in records:
        if r.conversion is None:
            continue
        conv = r.conversion
        row = {"file": r.path, "commands": conv.program.num_commands(), "scad_bytes": len(r.text.encode())}
        row["uses_language"] = bool(_LANGUAGE.search(strip_comments(r.text)))
        for vocab, bpe in bpes.items():
            row[f"bpe{vocab}_tokens"] = bpe.encode([r.text]).num_tokens
            row[f"bpe{vocab}_tokens_nocomments"] = bpe.encode([strip_comments(r.text)]).num_tokens
        try:
            tokens = tok.encode([conv.program])
            row |= {"cad_tokens": tokens.num_tokens}
            programs.append(conv.program)
            decoded = tok.decode(tokens)[0]
        except DataError as e:
            failures[f"tokenizer: {str(e).split(': ', 2)[-1]}"] += 1
            rows.append(row | {"status": f"tokenizer refused: {e}"})
            continue
        direct = evaluate_scad(r.scad)
        try:
            solid = execute(conv.program)
        except DataError as e:
            failures[f"kernel: {str(e).split(': ')[-1]}"] += 1
            rows.append(row | {"status": f"kernel: {e}"})
            continue
        ref = direct.scale([conv.scale] * 3).translate(list(-conv.centre * conv.scale))
        row |= {"status": "ok", "iou_converter": volume_iou(ref, solid)}
        try:
            row["iou_tokens"] = volume_iou(ref, execute(decoded))
        except DataError as e:
            failures[f"kernel after quantization: {str(e).split(': ')[-1]}"] += 1
            row |= {"status": f"kernel after quantization: {e}"}
        rows.append(row)
    tokenized = [r for r in rows if "cad_tokens" in r]
    prims = primitive_tokens(programs)
    for name, counts in prims.items():
        for row, count in zip(tokenized, counts, strict=True):
            row[name] = count
    write_results("cad_real", rows)
    reason_counts = Counter(r.reason for r in refused)
    write_results(
        "cad_real_reasons",
        [{"reason": k, "files": v, "family": family(k)} for k, v in reason_counts.most_common()],
    )
    families = Counter()
    for k, v in reason_counts.items():
        families[family(k)] += v
    ok = [r for r in rows if "iou_converter" in r]
    tokd = [r for r in rows if "cad_tokens" in r]
    iou_c = np.array([r["iou_converter"] for r in ok])
    iou_t = np.array([r["iou_tokens"] for r in ok if "iou_tokens" in r])
    cad = sum(r["cad_tokens"] for r in tokd)
    summary = [
        {"metric": "scad_files", "value": len(records)},
        {"metric": "converted", "value": len(rows)},
        {
            "metric": "converted_using_modules_loops_conditionals",
            "value": sum(r["uses_language"] for r in rows),
        },
        {"metric": "tokenized", "value": len(tokd)},
        {"metric": "built_and_compared", "value": len(ok)},
        {"metric": "iou_converter_mean", "value": float(iou_c.mean())},
        {"metric": "iou_converter_min", "value": float(iou_c.min())},
        {"metric": "iou_tokens_mean", "value": float(iou_t.mean())},
        {"metric": "iou_tokens_min", "value": float(iou_t.min())},
        {"metric": "share_iou_tokens_ge_0.99", "value": float((iou_t >= 0.99).mean())},
        {"metric": "commands_per_program", "value": float(np.mean([r["commands"] for r in rows]))},
        {"metric": "cad_tokens_per_program", "value": cad / len(tokd)},
        {"metric": "scad_bytes_per_program", "value": sum(r["scad_bytes"] for r in tokd) / len(tokd)},
    ]
    for name in prims:
        summary += [{"metric": f"{name}_tokens_per_program", "value": sum(r[name] for r in tokd) / len(tokd)}]
    for vocab in BPE_VOCABS:
        for suffix in ("", "_nocomments"):
            total = sum(r[f"bpe{vocab}_tokens{suffix}"] for r in tokd)
            summary += [{"metric": f"bpe{vocab}{suffix}_tokens_per_program", "value": total / len(tokd)}]
            summary += [{"metric": f"bpe{vocab}{suffix}_over_cad_tokens", "value": total / cad}]
            for name in prims:
                ratio = total / sum(r[name] for r in tokd)
                summary += [{"metric": f"bpe{vocab}{suffix}_over_{name}", "value": ratio}]
    summary += [{"metric": f"refused: {k}", "value": v} for k, v in families.most_common()]
    summary += [{"metric": f"failure: {k}", "value": v} for k, v in failures.items()]
    summary += [{"metric": "seconds", "value": round(time.time() - t0, 1)}]
    write_results("cad_real_summary", summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
