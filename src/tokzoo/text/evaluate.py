"""``tokzoo eval`` for text tokenizers: per file, the compression and word-level measures of
:mod:`tokzoo.text.metrics` and whether decoding gives the file back exactly.

Default data: the licence texts of ``/usr/share/common-licenses`` (Debian's ``base-files``, on every Debian
system), copied as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokzoo.bench.eval_files import FileEval, FileEvalOptions, failure
from tokzoo.bench.protocol import summarize
from tokzoo.core.errors import DataError
from tokzoo.text.metrics.report import text_metrics
from tokzoo.text.source import read_bytes

__all__ = ["DEFAULT_DATA", "default_files", "evaluate"]

LICENSES = Path("/usr/share/common-licenses")
DEFAULT_DATA = f"the licence texts of {LICENSES} (Debian base-files)"
METRICS = ("bytes_per_token", "tokens_per_char", "fertility", "continued_word_rate", "exact")


def default_files() -> list[Path]:
    """The regular files of /usr/share/common-licenses (sorted)."""
    files = (
        sorted(p for p in LICENSES.glob("*") if p.is_file() and not p.is_symlink())
        if LICENSES.is_dir()
        else []
    )
    if not files:
        raise DataError(f"{LICENSES}: no licence texts here (not a Debian system?); pass --data")
    return files


def evaluate(model: Any, files: list[Path], opts: FileEvalOptions) -> FileEval:
    """Measure ``model`` on ``files``; unreadable or unencodable files are listed and skipped."""
    records: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    for path in files:
        try:
            data = read_bytes(path)
            tokens = model.encode([path])
            decoded = model.decode(tokens)[0]
        except DataError as e:
            failures.append(failure(path, "encode", e))
            continue
        text = decoded.encode("utf-8", "surrogateescape")
        row = {"file": path.name, "bytes": len(data), "tokens": tokens.num_tokens, "bits": tokens.nbits()}
        row |= text_metrics(text, model.token_lengths(tokens.sample(0).tolist()))
        row["exact"] = float(text == data)
        records.append(row)
    summary: dict[str, Any] = {"num_files": len(records), "num_failed": len(failures)}
    total_tokens = sum(r["tokens"] for r in records)
    if total_tokens:
        summary["total_bytes_per_token"] = sum(r["bytes"] for r in records) / total_tokens
    summary |= summarize(records, METRICS)
    notes = [
        "bytes_per_token: UTF-8 bytes of the input per token (higher = more compression); tokens_per_char: "
        "tokens per Unicode character; fertility: tokens per whitespace-separated word; exact: decode gives "
        "the file's bytes back (0 where Unicode normalization changed them)."
    ]
    return FileEval(records, failures, summary, ["file", "bytes", "tokens", "bits", *METRICS], notes=notes)
