"""Bounded-memory sampling of a text corpus for fitting a tokenizer.

Fitting BPE/Unigram on all of a large corpus holds it in memory (the failure sentencepiece's users meet with
``input_sentence_size`` unset). :func:`sample_corpus` streams the files once and keeps each line with
probability ``p = min(1, budget / total bytes)`` (Bernoulli sampling, seeded), so the sample is spread over the
whole corpus and its expected size is the budget; a hard cap of twice the budget bounds memory whatever the
draw. Lines longer than ``max_line`` bytes (minified files, one-line dumps) are cut into pieces of that size.
Binary files and lines that are not UTF-8 are skipped and counted.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tokzoo.core.errors import DataError
from tokzoo.text.source import SNIFF_BYTES

__all__ = ["CorpusSample", "sample_corpus"]


@dataclass
class CorpusSample:
    """The sampled lines and what the sampling saw: files used, files skipped (binary), bytes read and kept."""

    lines: list[str] = field(default_factory=list)
    files: int = 0
    binary_files: int = 0
    invalid_lines: int = 0
    bytes_total: int = 0
    bytes_kept: int = 0

    def counts(self) -> dict[str, int]:
        """The counts (not the lines), for reports."""
        return {
            "files": self.files,
            "binary_files": self.binary_files,
            "invalid_lines": self.invalid_lines,
            "bytes_total": self.bytes_total,
            "bytes_sampled": self.bytes_kept,
            "lines_sampled": len(self.lines),
        }


def _pieces(path: Path, max_line: int) -> Iterator[bytes] | None:
    """Lines (cut to ``max_line`` bytes) of a text file; None for a binary file."""
    with path.open("rb") as f:
        if b"\x00" in f.read(SNIFF_BYTES):
            return None
    return _read_lines(path, max_line)


def _read_lines(path: Path, max_line: int) -> Iterator[bytes]:
    with path.open("rb") as f:
        while piece := f.readline(max_line):
            yield piece


def sample_corpus(
    files: Sequence[str | Path], budget_bytes: int, *, seed: int = 0, max_line: int = 1 << 16
) -> CorpusSample:
    """Sample lines of ``files`` up to about ``budget_bytes`` (see the module docstring).

    DataError when no file is given, or when nothing usable (non-empty UTF-8 text) is found.
    """
    if budget_bytes < 1:
        raise DataError(f"sample budget must be at least 1 byte, got {budget_bytes}")
    paths = [Path(f) for f in files]
    if not paths:
        raise DataError("empty corpus: no text files given")
    total = sum(p.stat().st_size for p in paths)
    keep = min(1.0, budget_bytes / max(total, 1))
    rng = random.Random(seed)
    out = CorpusSample()
    for path in paths:
        lines = _pieces(path, max_line)
        if lines is None:
            out.binary_files += 1
            continue
        out.files += 1
        for raw in lines:
            out.bytes_total += len(raw)
            if rng.random() >= keep or out.bytes_kept >= 2 * budget_bytes:
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                out.invalid_lines += 1
                continue
            out.lines.append(line)
            out.bytes_kept += len(raw)
    if not any(line.strip() for line in out.lines):
        why = f"{out.binary_files} binary files, {out.invalid_lines} non-UTF-8 lines"
        raise DataError(f"empty corpus: no UTF-8 text in {len(paths)} files ({why})")
    return out
