"""Build the photo corpus: thousands of real colour images from Debian packages, offline, without root.

Run ``python -m tokzoo.data.photos --out data/photos``. Each package of ``DEFAULT_SOURCES`` is fetched
once with ``apt-get download`` and unpacked with ``dpkg -x`` (``tokzoo.data.apt``, cached); its images
are screened (``photo_analysis``), deduplicated across packages (pixel hash and pHash), split by
source file and written as PNG folders per split, WebDataset shards, ``manifest.json`` and
``stats.json``, with each package's copyright file under ``copyright/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tokzoo.core.errors import DataError
from tokzoo.data import apt
from tokzoo.data.dedupe import NearDuplicates
from tokzoo.data.photo_analysis import SKIP_REASONS, Screen, analyse
from tokzoo.data.photo_sources import DEFAULT_SOURCES, Source, list_candidates
from tokzoo.data.photo_stats import bundled_stats, corpus_stats, packages_table, stats_table
from tokzoo.data.report import LOGGER, reason_of, report_bad
from tokzoo.data.shards import write_shards

__all__ = ["SPLITS", "build_photos", "main"]

SPLITS = ("train", "val", "test")
LICENCE_NOTE = (
    "Images come from the Debian packages listed under 'packages', each under its own licence: "
    "copyright/<package> is that package's /usr/share/doc/<package>/copyright. Check it before redistributing."
)
_OWNED = (*SPLITS, "shards", "copyright")  # output entries the builder replaces on each run


@dataclass
class _Package:
    """One package's screened images (PNG files in ``folder``) and what was skipped."""

    source: Source
    root: Path
    folder: Path
    records: list[dict[str, Any]]
    skipped: Counter[str] = field(default_factory=Counter)
    deb: str | None = None


def _screen_package(source: Source, screen: Screen, cache: Path, pool: Any) -> _Package:
    """Unpack ``source.package`` (cached) and screen all its images, reusing an earlier run's result."""
    root = apt.debian_package(source.package, cache)
    debs = sorted(root.parent.glob("*.deb"))
    deb = debs[0].name if debs else None
    folder = cache / "photos" / source.package / f"{Path(deb or 'unpacked').stem}-{screen.key()}"
    index = folder / "index.json"
    if not index.is_file():
        candidates = list_candidates(root)
        run = partial(analyse, root, screen)
        results = pool.imap(run, candidates, chunksize=4) if pool is not None else map(run, candidates)
        folder.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".screen-", dir=folder.parent))
        try:
            records, skipped = [], Counter()
            for result in results:
                if "skip" in result:
                    skipped[result["skip"]] += 1
                    if "why" in result:
                        LOGGER.warning("skipping %s:%s", source.package, result["why"])
                    continue
                result["file"] = f"{len(records):06d}.png"
                (scratch / result["file"]).write_bytes(result.pop("png"))
                records.append(result)
            (scratch / "index.json").write_text(json.dumps({"records": records, "skipped": skipped}))
            shutil.rmtree(folder, ignore_errors=True)
            os.rename(scratch, folder)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    data = json.loads(index.read_text())
    return _Package(source, root, folder, data["records"], Counter(data["skipped"]), deb)


def _key(package: str, source: str, taken: set[str]) -> str:
    """A WebDataset key ``package/slug`` (no dots) unique within ``taken``."""
    stem = source.rsplit(".", 1)[0].removeprefix("/usr/share/")
    slug = re.sub(r"[^A-Za-z0-9]+", "_", stem).strip("_") or "image"
    key, n = f"{package}/{slug}", 1
    while key in taken:
        n += 1
        key = f"{package}/{slug}_{n}"
    taken.add(key)
    return key


def _split_of(source: Source, origin: str, val_percent: float) -> str:
    """test for held-out packages; else val for about ``val_percent`` % of source files (by hash), train."""
    if source.heldout:
        return "test"
    h = int(hashlib.sha256(f"{source.package}:{origin}".encode()).hexdigest()[:8], 16)
    return "val" if h % 10000 < val_percent * 100 else "train"


def _origin(source_path: str) -> str:
    """The source file of an image: the archive for members of a zip (all its members share a split)."""
    return source_path.split(":", 1)[0]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _samples(out: Path, images: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, bytes]]]:
    for rec in images:
        yield rec["key"], {"png": (out / rec["file"]).read_bytes(), "json": json.dumps(rec).encode()}


def build_photos(
    out_dir: str | os.PathLike[str],
    sources: Sequence[Source] = DEFAULT_SOURCES,
    *,
    screen: Screen | None = None,
    near_distance: int = 6,
    val_percent: float = 2.0,
    shard_size: int = 1000,
    cache: str | os.PathLike[str] | None = None,
    jobs: int = 1,
) -> dict[str, Any]:
    """Build the corpus in ``out_dir``; returns the manifest (also written to ``out_dir/manifest.json``).

    Held-out packages are deduplicated first, so a training image that duplicates a held-out one is
    dropped from training. Within a package the largest version of an image wins. A package that
    cannot be fetched is reported and listed under ``failed``. DataError if no image is kept, or if
    the held-out split would be empty while training is not.
    """
    out = Path(out_dir)
    screen = screen or Screen()
    cache_root = Path(cache) if cache is not None else apt.cache_dir()
    ordered = [s for s in sources if s.heldout] + [s for s in sources if not s.heldout]
    manifest: dict[str, Any] = {
        "licence": LICENCE_NOTE,
        "screen": vars(screen) | {"near_duplicate_max_bits": near_distance, "val_percent": val_percent},
        "packages": {},
        "failed": {},
        "images": [],
        "duplicates": [],
        "shards": {},
    }
    for name in _OWNED:
        shutil.rmtree(out / name, ignore_errors=True)
    (out / "copyright").mkdir(parents=True)
    exact: dict[str, str] = {}
    near = NearDuplicates(near_distance)
    near_keys: list[str] = []
    taken: set[str] = set()
    pool = multiprocessing.get_context("fork").Pool(jobs) if jobs > 1 else None
    try:
        for source in ordered:
            started = time.monotonic()
            try:
                pkg = _screen_package(source, screen, cache_root, pool)
            except DataError as e:
                manifest["failed"][source.package] = reason_of(e, source.package)
                report_bad(source.package, manifest["failed"][source.package])
                continue
            kept = _add_package(pkg, out, manifest, exact, near, near_keys, taken, val_percent)
            LOGGER.info("%s: %d images kept (%.0f s)", source.package, kept, time.monotonic() - started)
    finally:
        if pool is not None:
            pool.close()
    images = manifest["images"]
    if not images:
        raise DataError(
            f"{out}: no images collected ({'; '.join(manifest['failed']) or 'none passed screening'})"
        )
    for split in SPLITS:
        chosen = [rec for rec in images if rec["split"] == split]
        paths = write_shards(_samples(out, chosen), str(out / "shards" / f"{split}-%06d.tar"), shard_size)
        for path in paths:
            manifest["shards"][Path(path).relative_to(out).as_posix()] = {
                "split": split,
                "sha256": _sha256(Path(path)),
            }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    stats = {"photos": corpus_stats(images), "bundled": bundled_stats(screen.stored_side)}
    (out / "stats.json").write_text(json.dumps(stats, indent=1) + "\n")
    return manifest


def _add_package(
    pkg: _Package,
    out: Path,
    manifest: dict[str, Any],
    exact: dict[str, str],
    near: NearDuplicates,
    near_keys: list[str],
    taken: set[str],
    val_percent: float,
) -> int:
    """Deduplicate ``pkg``'s records against everything kept so far and copy the survivors to ``out``."""
    source, skipped = pkg.source, Counter(pkg.skipped)
    records = sorted(pkg.records, key=lambda r: (-r["content_size"][0] * r["content_size"][1], r["source"]))
    kept = 0
    for rec in records:
        domain = source.domain_of(rec["source"])
        if domain is None:
            skipped["excluded"] += 1
            continue
        h = int(rec["phash"], 16)
        if rec["pixel_sha256"] in exact:
            skipped["duplicate"] += 1
            manifest["duplicates"].append(
                {
                    "package": source.package,
                    "source": rec["source"],
                    "kind": "exact",
                    "of": exact[rec["pixel_sha256"]],
                }
            )
            continue
        hit = near.find(h)
        if hit is not None:
            skipped["near_duplicate"] += 1
            manifest["duplicates"].append(
                {
                    "package": source.package,
                    "source": rec["source"],
                    "kind": "near",
                    "of": near_keys[hit[0]],
                    "bits": hit[1],
                }
            )
            continue
        key = _key(source.package, rec["source"], taken)
        split = _split_of(source, _origin(rec["source"]), val_percent)
        file = f"{split}/{key}.png"
        (out / file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pkg.folder / rec["file"], out / file)
        exact[rec["pixel_sha256"]] = key
        near.add(h)
        near_keys.append(key)
        entry = {"key": key, "split": split, "package": source.package, "domain": domain, "file": file}
        entry |= {k: v for k, v in rec.items() if k != "file"}
        entry["sha256"] = _sha256(out / file)
        manifest["images"].append(entry)
        kept += 1
    copyright_src = pkg.root / "usr/share/doc" / source.package / "copyright"
    has_copyright = copyright_src.is_file()
    if has_copyright:
        shutil.copyfile(copyright_src, out / "copyright" / source.package)
    manifest["packages"][source.package] = {
        "deb": pkg.deb,
        "version": unquote(pkg.deb.split("_")[1]) if pkg.deb else None,
        "heldout": source.heldout,
        "images": kept,
        "skipped": {
            r: skipped[r] for r in (*SKIP_REASONS, "excluded", "duplicate", "near_duplicate") if skipped[r]
        },
        "copyright": f"copyright/{source.package}" if has_copyright else None,
    }
    return kept


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m tokzoo.data.photos --out DIR [--packages PKG ...] [--jobs N]``."""
    parser = argparse.ArgumentParser(prog="python -m tokzoo.data.photos", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", required=True, help="output folder (train/ val/ test/ shards/ manifest.json ...)"
    )
    parser.add_argument("--packages", nargs="+", default=None, help="only these packages of the default list")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="screening processes")
    parser.add_argument(
        "--cache", default=None, help="download and screening cache (default: ~/.cache/tokzoo)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sources = DEFAULT_SOURCES
    if args.packages:
        unknown = sorted(set(args.packages) - {s.package for s in DEFAULT_SOURCES})
        if unknown:
            print(f"error: not in the corpus package list: {', '.join(unknown)}", file=sys.stderr)
            return 2
        sources = tuple(s for s in DEFAULT_SOURCES if s.package in args.packages)
    started = time.monotonic()
    try:
        manifest = build_photos(args.out, sources, cache=args.cache, jobs=args.jobs)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    stats = json.loads((Path(args.out) / "stats.json").read_text())
    print(packages_table(manifest) + "\n")
    print(stats_table(stats["photos"], stats["bundled"]))
    for package, reason in manifest["failed"].items():
        print(f"failed: {package}: {reason}")
    print(
        f"{len(manifest['images'])} images -> {Path(args.out) / 'manifest.json'} ({time.monotonic() - started:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
