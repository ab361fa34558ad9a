"""The text corpus from Debian packages, offline and without root: general English (Python documentation,
WordNet glosses, GCIDE, man pages), legal text (the licences of ``base-files``, Debian's constitution and social
contract, and every used package's ``copyright`` file) and Turkish (the Turkish man pages).

``python -m tokzoo.text.corpus --out data/text`` unpacks each package once (:func:`tokzoo.data.apt.debian_package`,
cached), extracts plain text (:mod:`tokzoo.text.extract`), cuts long files into documents of at most
``chunk_bytes`` at line ends, drops repeated documents (SHA-256 of the text) and assigns each to ``test`` when the
first 32 bits of the SHA-256 of ``source/path/chunk``, modulo 1000, fall below ``1000 * test_fraction``, else to
``train``. Documents land in ``OUT/<domain>/<split>/<source>-<sha12>.txt`` (so ``tokzoo fit --data
OUT/legal/train``), and ``OUT/manifest.json`` records each document's source, package, version, path, bytes and
split, the packages used, and the packages that failed (each also logged and skipped). Each package's licence:
its ``copyright`` file, which is part of the legal domain itself.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import DataError
from tokzoo.data.apt import debian_package
from tokzoo.data.report import LOGGER, reason_of, report_bad
from tokzoo.text.extract import EXTRACTORS

__all__ = ["SOURCES", "Source", "build_text_corpus", "main"]

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Source:
    """Files ``pattern`` (a glob under the unpacked package) of Debian ``package``, read with ``extract``."""

    name: str
    package: str
    pattern: str
    domain: str
    language: str
    extract: str = "plain"


SOURCES = (
    Source("python-docs", "python3.11-doc", "usr/share/doc/python3.11/html/_sources/**/*.rst.txt", "general", "en"),
    Source("wordnet", "wordnet-base", "usr/share/wordnet/data.*", "general", "en", "wordnet"),
    Source("gcide", "dict-gcide", "usr/share/dictd/gcide.dict.dz", "general", "en"),
    Source("manpages", "manpages", "usr/share/man/man*/*.gz", "general", "en", "groff"),
    Source("licenses", "base-files", "usr/share/common-licenses/*", "legal", "en"),
    Source("debian-governance", "doc-debian", "usr/share/doc/debian/[cs]o*.txt.gz", "legal", "en"),
    Source("manpages-tr", "manpages-tr", "usr/share/man/tr/man*/*.gz", "turkish", "tr", "groff"),
)  # fmt: skip
COPYRIGHT = "copyright"  # every package's usr/share/doc/<package>/copyright joins the legal domain


def _chunks(text: str, chunk_bytes: int) -> Iterator[str]:
    """``text`` cut at line ends into pieces of at most about ``chunk_bytes`` UTF-8 bytes."""
    piece: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        n = len(line.encode("utf-8"))
        if piece and size + n > chunk_bytes:
            yield "".join(piece)
            piece, size = [], 0
        piece.append(line)
        size += n
    if piece:
        yield "".join(piece)


def _split(key: str, test_fraction: float) -> str:
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return "test" if int(digest[:8], 16) % 1000 < round(1000 * test_fraction) else "train"


def _deb_version(root: Path) -> str | None:
    debs = sorted(root.parent.glob("*.deb"))
    return debs[0].name if debs else None


def _documents(source: Source, root: Path) -> Iterator[tuple[str, str]]:
    """``(path in package, text)`` of each file of ``source`` (files that fail to extract are reported)."""
    files = sorted(p for p in root.glob(source.pattern) if p.is_file() and not p.is_symlink())
    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            yield rel, EXTRACTORS[source.extract](path)
        except (OSError, EOFError, ValueError) as e:
            report_bad(f"{source.package}:/{rel}", str(e))


def build_text_corpus(
    out: str | Path,
    sources: Sequence[Source] = SOURCES,
    *,
    test_fraction: float = 0.1,
    chunk_bytes: int = 1 << 16,
    cache: str | Path | None = None,
) -> dict[str, Any]:
    """Write the corpus into ``out`` and return its manifest (see the module docstring). DataError when no
    document at all was written."""
    if not 0 < test_fraction < 1:
        raise DataError(f"test_fraction must be in (0, 1), got {test_fraction}")
    out = Path(out)
    manifest: dict[str, Any] = {"packages": {}, "failed": {}, "documents": []}
    seen: set[str] = set()
    roots: dict[str, Path] = {}
    plan = [
        *sources,
        *(
            Source(COPYRIGHT, p, "usr/share/doc/*/copyright", "legal", "en")
            for p in dict.fromkeys(s.package for s in sources)
        ),
    ]
    for source in plan:
        if source.package in manifest["failed"]:
            continue
        try:
            roots.setdefault(source.package, debian_package(source.package, cache))
        except DataError as e:
            manifest["failed"][source.package] = reason_of(e, source.package)
            report_bad(source.package, manifest["failed"][source.package])
            continue
        root = roots[source.package]
        manifest["packages"][source.package] = {"deb": _deb_version(root)}
        count = 0
        for rel, text in _documents(source, root):
            for i, chunk in enumerate(_chunks(text, chunk_bytes)):
                data = chunk.encode("utf-8")
                digest = hashlib.sha256(data).hexdigest()
                if not chunk.strip() or digest in seen:
                    continue
                seen.add(digest)
                split = _split(f"{source.name}/{source.package}/{rel}/{i}", test_fraction)
                name = f"{source.domain}/{split}/{source.name}-{digest[:12]}.txt"
                target = out / name
                if not target.is_file() or target.stat().st_size != len(data):  # reruns skip what is there
                    target.parent.mkdir(parents=True, exist_ok=True)
                    atomic_write_bytes(target, data)
                manifest["documents"].append(
                    {"file": name, "source": source.name, "package": source.package, "path": f"/{rel}",
                     "chunk": i, "domain": source.domain, "language": source.language, "bytes": len(data),
                     "sha256": digest, "split": split}
                )  # fmt: skip
                count += 1
        LOGGER.info("%s (%s): %d documents", source.name, source.package, count)
    if not manifest["documents"]:
        failed = "; ".join(f"{p}: {r}" for p, r in manifest["failed"].items()) or "no text found"
        raise DataError(f"{out}: no documents written ({failed})")
    atomic_write_bytes(out / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode("utf-8"))
    return manifest


def main(argv: list[str] | None = None) -> int:
    """``python -m tokzoo.text.corpus --out DIR [--sources NAME ...] [--test-fraction F]``."""
    names = [s.name for s in SOURCES]
    parser = argparse.ArgumentParser(prog="python -m tokzoo.text.corpus", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", required=True, help="output folder (gets DOMAIN/SPLIT/*.txt and manifest.json)"
    )
    parser.add_argument("--sources", nargs="+", default=names, choices=names, help="which sources to include")
    parser.add_argument("--test-fraction", type=float, default=0.1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        manifest = build_text_corpus(args.out, [s for s in SOURCES if s.name in args.sources],
                                     test_fraction=args.test_fraction)  # fmt: skip
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    totals: dict[str, int] = {}
    for doc in manifest["documents"]:
        key = f"{doc['domain']}/{doc['split']}"
        totals[key] = totals.get(key, 0) + doc["bytes"]
    for key, size in sorted(totals.items()):
        print(f"{key}: {size / 1e6:.2f} MB")
    failed = (
        f" ({len(manifest['failed'])} packages failed: {', '.join(manifest['failed'])})"
        if manifest["failed"]
        else ""
    )
    print(f"{len(manifest['documents'])} documents -> {Path(args.out) / MANIFEST}{failed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
