"""Build a larger real image set from Debian packages (wallpapers, clip art), without root.

Run ``python -m tokzoo.data.debian --out data/debian [--packages PKG ...]``. Each package is fetched
with ``apt-get download`` and unpacked with ``dpkg -x`` in a scratch folder; nothing is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from PIL import Image

from tokzoo.core.errors import DataError
from tokzoo.data.apt import unpack_package
from tokzoo.data.decode import load_image
from tokzoo.data.report import LOGGER, reason_of, report_bad

DEFAULT_PACKAGES = ("gnome-backgrounds", "mate-backgrounds", "desktop-base", "openclipart-png")
MIN_SIDE = 128
_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
LICENCE_NOTE = (
    "Images come from the Debian packages listed under 'packages', each under its own licence: the "
    "package's /usr/share/doc/PKG/copyright file is copied to <package>/copyright next to its images."
)


def _is_icon(path: Path) -> bool:
    """True when the header says the shorter side is below MIN_SIDE (cheap: nothing is decoded)."""
    try:
        with Image.open(path) as im:
            return min(im.size) < MIN_SIDE
    except Exception:  # unreadable: load_image will report why
        return False


def _collect(package: str, root: Path, out_dir: Path, max_side: int, seen: set[str]) -> list[dict[str, Any]]:
    """Convert every new, large-enough image under ``root`` to PNG in ``out_dir/package``."""
    entries: list[dict[str, Any]] = []
    used: set[Path] = set()
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in _EXTENSIONS and p.is_file())
    for src in files:
        if src.is_symlink() or _is_icon(src):
            continue
        rel = src.relative_to(root)
        where = f"{package}:/{rel.as_posix()}"
        try:
            rgb = load_image(src, name=where)
        except DataError as e:
            report_bad(where, reason_of(e, where))
            continue
        pixel_hash = hashlib.sha256(f"{rgb.shape}".encode() + rgb.tobytes()).hexdigest()
        if pixel_hash in seen:
            continue
        seen.add(pixel_hash)
        image = Image.fromarray(rgb)
        if max(image.size) > max_side:
            ratio = max_side / max(image.size)
            new_size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
            image = image.resize(new_size, Image.Resampling.LANCZOS)
        target = out_dir / package / rel.with_suffix(".png")
        if target in used:  # e.g. both name.jpg and name.png
            target = target.with_name(f"{target.stem}-{pixel_hash[:8]}.png")
        used.add(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        target.write_bytes(buf.getvalue())
        entries.append(
            {
                "file": target.relative_to(out_dir).as_posix(),
                "package": package,
                "source": "/" + rel.as_posix(),
                "sha256": hashlib.sha256(buf.getvalue()).hexdigest(),
                "width": image.width,
                "height": image.height,
            }
        )
    return entries


def build_debian_imageset(
    out_dir: str | os.PathLike[str],
    packages: tuple[str, ...] | list[str] = DEFAULT_PACKAGES,
    max_side: int = 1024,
    workdir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Download Debian ``packages``, keep their PNG/JPEG/WebP images and write them to ``out_dir``.

    Images whose shorter side is below 128 px (icons) and pixel-identical duplicates (sha256 of the
    decoded RGB) are skipped; the rest are downsized to a longer side <= ``max_side`` and saved as
    ``out_dir/<package>/<path in package>.png``. Writes and returns ``out_dir/manifest.json``: per
    image ``file``, ``package``, ``source``, ``sha256`` (of the saved PNG), ``width``, ``height``; per
    package the .deb used; the packages that failed (each also logged and skipped); and the licence
    note. ``workdir`` keeps downloads (default: a temporary folder, removed afterwards). DataError if
    no image at all was collected.
    """
    out = Path(out_dir)
    manifest: dict[str, Any] = {
        "licence": LICENCE_NOTE,
        "max_side": max_side,
        "packages": {},
        "failed": {},
        "images": [],
    }
    seen: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="tokzoo-debian-") as tmp:
        scratch = Path(workdir) if workdir is not None else Path(tmp)
        for package in packages:
            try:
                root = unpack_package(package, scratch)
                entries = _collect(package, root, out, max_side, seen)
            except DataError as e:
                manifest["failed"][package] = reason_of(e, package)
                report_bad(package, manifest["failed"][package])
                continue
            copyright_src = root / "usr/share/doc" / package / "copyright"
            if copyright_src.is_file():
                (out / package).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(copyright_src, out / package / "copyright")
            deb = next((scratch / package).glob("*.deb")).name
            manifest["packages"][package] = {
                "deb": deb,
                "images": len(entries),
                "copyright": f"{package}/copyright" if copyright_src.is_file() else None,
            }
            manifest["images"].extend(entries)
            LOGGER.info("%s: %d images", package, len(entries))
    if not manifest["images"]:
        failed = "; ".join(f"{p}: {r}" for p, r in manifest["failed"].items()) or "no usable image found"
        raise DataError(f"{out}: no images collected ({failed})")
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m tokzoo.data.debian --out DIR [--packages PKG ...] [--max-side N]``."""
    parser = argparse.ArgumentParser(prog="python -m tokzoo.data.debian", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output folder (gets <package>/... and manifest.json)")
    parser.add_argument("--packages", nargs="+", default=list(DEFAULT_PACKAGES), help="Debian package names")
    parser.add_argument("--max-side", type=int, default=1024, help="longer side of the saved images, in px")
    parser.add_argument("--workdir", default=None, help="keep downloads here (default: a temporary folder)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        manifest = build_debian_imageset(args.out, args.packages, args.max_side, args.workdir)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    failed = f", {len(manifest['failed'])} packages failed" if manifest["failed"] else ""
    print(f"{len(manifest['images'])} images -> {Path(args.out) / 'manifest.json'}{failed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
