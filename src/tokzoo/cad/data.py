"""Real CAD programs from Debian: the OpenSCAD files of ``openscad-testing-data`` converted to DeepCAD-format
``.cadseq`` where they are sketch-and-extrude (:mod:`tokzoo.cad.openscad`), each other file refused with its
reason.

Run ``python -m tokzoo.cad.data --out data/scad``. The package is fetched once with ``apt-get download`` and
unpacked with ``dpkg -x`` (no root; :func:`tokzoo.data.apt.debian_package`); a package that cannot be fetched is
reported and skipped.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokzoo.cad.openscad import Conversion, convert_scad
from tokzoo.cad.scad_eval import ScadError, ScadFile, parse_scad
from tokzoo.cad.tokenizer import CadConfig, CadTokenizer
from tokzoo.core.errors import DataError, LimitError
from tokzoo.data.apt import debian_package
from tokzoo.data.report import LOGGER, OnError, reason_of, report_bad

__all__ = ["DEFAULT_PACKAGES", "ScadRecord", "build_scad_set", "convert_folder"]

#: package -> folder of its .scad programs inside the package
DEFAULT_PACKAGES = {"openscad-testing-data": "usr/share/openscad/testdata/scad"}


@dataclass(frozen=True)
class ScadRecord:
    """One ``.scad`` file: its text, the parsed file and conversion when it converted, else the refusal."""

    path: str
    text: str
    scad: ScadFile | None = None
    conversion: Conversion | None = None
    reason: str | None = None  # a short key for counting refusals
    message: str | None = None  # the one-line error


def convert_folder(root: str | os.PathLike[str], on_error: OnError | None = None) -> list[ScadRecord]:
    """Every ``*.scad`` file under ``root`` (sorted, symlinks skipped), parsed and converted or refused."""
    root = Path(root)
    out = []
    for path in sorted(p for p in root.rglob("*.scad") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(root).as_posix()
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            report_bad(rel, f"cannot read ({e})", on_error)
            out.append(ScadRecord(rel, "", reason="unreadable", message=f"{rel}: cannot read ({e})"))
            continue
        try:
            scad = parse_scad(text, rel)
            out.append(ScadRecord(rel, text, scad, convert_scad(scad)))
        except DataError as e:
            reason = (
                e.reason if isinstance(e, ScadError) else "limit" if isinstance(e, LimitError) else "error"
            )
            report_bad(rel, reason_of(e, rel), on_error)
            out.append(ScadRecord(rel, text, reason=reason, message=str(e)))
    return out


def build_scad_set(
    out_dir: str | os.PathLike[str],
    packages: dict[str, str] | None = None,
    cache: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Convert the OpenSCAD programs of Debian ``packages`` and write the tokenizable ones as ``.cadseq``.

    Writes ``out_dir/<package>/<path>.cadseq`` (the program as ``cad-deepcad-q8`` tokens decode it) per converted
    file, and returns and writes ``out_dir/manifest.json``: per file its status (``converted``, or ``refused``
    with the reason and message; a converted program the tokenizer refuses keeps its ``tokenize_error``), the
    counts per status and per refusal reason, and the packages that failed to download (logged and skipped).
    """
    tok = CadTokenizer(CadConfig())
    out = Path(out_dir)
    manifest: dict[str, Any] = {"packages": {}, "failed": {}, "files": [], "reasons": {}}
    reasons: Counter[str] = Counter()
    for package, sub in (packages or DEFAULT_PACKAGES).items():
        try:
            root = debian_package(package, cache)
        except DataError as e:
            manifest["failed"][package] = reason_of(e, package)
            report_bad(package, manifest["failed"][package])
            continue
        records = convert_folder(root / sub)
        copyright_src = root / "usr/share/doc" / package / "copyright"
        if copyright_src.is_file():
            (out / package).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(copyright_src, out / package / "copyright")
        for r in records:
            entry: dict[str, Any] = {"package": package, "source": r.path}
            if r.conversion is None:
                reasons[r.reason or "error"] += 1
                entry |= {"status": "refused", "reason": r.reason, "message": r.message}
            else:
                program = r.conversion.program
                entry |= {"status": "converted", "commands": program.num_commands()}
                try:
                    tokens = tok.encode([program])
                    target = out / package / (r.path[: -len(".scad")] + ".cadseq")
                    tok.save_file(tok.decode(tokens)[0], target)
                    entry |= {"tokens": tokens.num_tokens, "cadseq": target.relative_to(out).as_posix()}
                except DataError as e:
                    entry["tokenize_error"] = str(e)
            manifest["files"].append(entry)
        converted = sum(r.conversion is not None for r in records)
        manifest["packages"][package] = {"files": len(records), "converted": converted}
        LOGGER.info("%s: %d of %d .scad files converted", package, converted, len(records))
    manifest["reasons"] = dict(reasons.most_common())
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m tokzoo.cad.data --out DIR [--cache DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m tokzoo.cad.data", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", required=True, help="output folder (gets <package>/....cadseq and manifest.json)"
    )
    parser.add_argument(
        "--cache", default=None, help="download cache (default: $TOKZOO_CACHE or ~/.cache/tokzoo)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(message)s")
    manifest = build_scad_set(args.out, cache=args.cache)
    for package, info in manifest["packages"].items():
        print(f"{package}: {info['converted']} of {info['files']} .scad files converted")
    for reason, n in manifest["reasons"].items():
        print(f"  refused {n:4d}  {reason}")
    for package, why in manifest["failed"].items():
        print(f"{package}: skipped ({why})", file=sys.stderr)
    return 0 if manifest["packages"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
