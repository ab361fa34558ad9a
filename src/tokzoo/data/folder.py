"""A folder of image files, listed deterministically, decoded on access."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tokzoo.core.errors import DataError
from tokzoo.data.decode import load_image
from tokzoo.data.report import OnError, reason_of, report_bad

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".avif", ".bmp", ".gif", ".tif", ".tiff")


@dataclass
class LoadResult:
    """Outcome of ``ImageFolder.load_all``: decoded images with their paths, and ``(path, reason)`` of bad files."""

    images: list[tuple[str, np.ndarray]] = field(default_factory=list)
    bad: list[tuple[str, str]] = field(default_factory=list)


class ImageFolder:
    """Image files under ``root`` whose extension (case-insensitive) is in ``extensions``, sorted by path.

    ``folder[i]`` decodes file ``i`` with ``load_image`` (HxWx3 uint8; DataError if unusable).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        extensions: tuple[str, ...] = IMAGE_EXTENSIONS,
        recursive: bool = True,
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError(f"{self.root}: image folder does not exist (or is not a directory)")
        exts = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions}
        found = self.root.rglob("*") if recursive else self.root.iterdir()
        files = [p for p in found if p.suffix.lower() in exts and p.is_file()]
        files.sort(key=lambda p: p.relative_to(self.root).as_posix())
        if not files:
            raise DataError(
                f"{self.root}: no images found under this folder with extensions {', '.join(sorted(exts))}"
                + ("" if recursive else " (recursive=False)")
            )
        self.paths: list[str] = [str(p) for p in files]

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> np.ndarray:
        return load_image(self.paths[index])

    def iter_images(self, *, on_error: OnError | None = None) -> Iterator[tuple[str, np.ndarray]]:
        """Yield ``(path, image)`` for every file that decodes; each bad file is logged on the
        ``tokzoo.data`` logger, passed to ``on_error(path, reason)`` and skipped."""
        for path in self.paths:
            try:
                image = load_image(path)
            except DataError as e:
                report_bad(path, reason_of(e, path), on_error)
                continue
            yield path, image

    def load_all(self, *, skip_bad: bool = True, on_error: OnError | None = None) -> LoadResult:
        """Decode every file into memory. Bad files are reported as in ``iter_images`` and collected in
        ``LoadResult.bad``; with ``skip_bad=False`` the first bad file raises DataError instead."""
        if not skip_bad:
            return LoadResult(images=[(path, load_image(path)) for path in self.paths])
        result = LoadResult()

        def collect(path: str, reason: str) -> None:
            result.bad.append((path, reason))
            if on_error is not None:
                on_error(path, reason)

        result.images.extend(self.iter_images(on_error=collect))
        return result
