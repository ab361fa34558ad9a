"""The SVG corpus: Debian's ``openclipart-svg`` and ``papirus-icon-theme``, de-duplicated, split by file.

``python -m tokzoo.svg.corpus --out data/svg`` unpacks both packages (:func:`tokzoo.data.apt.debian_package`,
cached), keeps one copy of each distinct file content (SHA-256), and assigns each file to ``test`` when the
first 32 bits of the SHA-256 of its *file name*, modulo 1000, fall below ``1000 * test_fraction``, else to
``train``. Keying the split on the name keeps every size variant of one icon (Papirus draws ``firefox.svg`` at
16, 22, 24, 32, 48 and 64 px) in the same split, so no design leaks from train to test. Files land in ``OUT/{train,test}/<hash>.svg``
with ``OUT/manifest.json`` recording each file's package, original path, size and split. Used to learn and
evaluate HiVG-style tokens ("Hierarchical SVG Tokenization", 2026).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import DataError
from tokzoo.data.apt import debian_package

__all__ = ["PACKAGES", "build_corpus", "corpus_files"]

PACKAGES = ("openclipart-svg", "papirus-icon-theme")
MANIFEST = "manifest.json"


def _split(digest: str, test_fraction: float) -> str:
    return "test" if int(digest[:8], 16) % 1000 < round(1000 * test_fraction) else "train"


def build_corpus(
    out: str | Path, packages: tuple[str, ...] = PACKAGES, test_fraction: float = 0.1
) -> dict[str, int]:
    """Write the de-duplicated corpus into ``out``; returns counts (found, unique, train, test)."""
    if not 0 < test_fraction < 1:
        raise DataError(f"test_fraction must be in (0, 1), got {test_fraction}")
    out = Path(out)
    seen: dict[str, dict[str, object]] = {}
    found = 0
    for package in packages:
        root = debian_package(package)
        for path in sorted(root.rglob("*.svg")):
            if path.is_symlink() or not path.is_file():
                continue
            found += 1
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                continue
            split = _split(hashlib.sha256(path.name.encode()).hexdigest(), test_fraction)
            name = f"{split}/{digest[:20]}.svg"
            target = out / name
            if not target.is_file() or target.stat().st_size != len(data):  # rerun after an interrupted build
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            rel = str(path.relative_to(root))
            seen[digest] = {
                "file": name,
                "package": package,
                "source": rel,
                "bytes": len(data),
                "split": split,
            }
    entries = sorted(seen.values(), key=lambda e: str(e["file"]))
    counts = {
        "found": found,
        "unique": len(entries),
        "train": sum(e["split"] == "train" for e in entries),
        "test": sum(e["split"] == "test" for e in entries),
    }
    manifest = {
        "packages": list(packages),
        "test_fraction": test_fraction,
        "counts": counts,
        "files": entries,
    }
    atomic_write_bytes(out / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
    return counts


def corpus_files(out: str | Path, split: str, package: str | None = None) -> list[Path]:
    """Sorted paths of one split (optionally one package) of a corpus written by :func:`build_corpus`."""
    out = Path(out)
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(
            f"{out}: no readable {MANIFEST} (build it: python -m tokzoo.svg.corpus --out {out})"
        ) from e
    return [
        out / e["file"]
        for e in manifest["files"]
        if e["split"] == split and (package is None or e["package"] == package)
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tokzoo.svg.corpus", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="data/svg", help="output folder (default: data/svg)")
    p.add_argument("--test-fraction", type=float, default=0.1)
    a = p.parse_args(argv)
    try:
        counts = build_corpus(a.out, test_fraction=a.test_fraction)
    except DataError as e:
        print(f"tokzoo: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"out": a.out, **counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
