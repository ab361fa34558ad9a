"""Text input and its one policy on bytes.

Every text tokenizer takes ``str`` or ``bytes`` (or a path, read as bytes). The policy on invalid UTF-8:

- ``text-bytes`` encodes *any* bytes exactly. A ``str`` is turned into bytes
  with UTF-8 and ``surrogateescape`` (PEP 383, "Non-decodable Bytes in System Character Interfaces", 2009), and
  ``decode`` gives ``str`` in the same way, so ``decode(encode(b))[0].encode("utf-8", "surrogateescape") == b``
  for every byte string ``b`` and ``decode(encode(s))[0] == s`` for every ``str`` that UTF-8 can write;
- subword models (BPE, Unigram, WordPiece) need UTF-8 text: invalid bytes raise :class:`TextInputError` naming
  the byte offset (nothing is replaced silently).

A file whose first 8 KiB hold a NUL byte is binary and refused with one line.
"""

from __future__ import annotations

import os
from pathlib import Path

from tokzoo.core.errors import DataError

__all__ = [
    "SUFFIXES",
    "TextInputError",
    "TextSource",
    "as_bytes",
    "as_text",
    "check_not_binary",
    "read_bytes",
]

#: What ``tokzoo encode`` reads (the first is what ``tokzoo decode`` writes).
SUFFIXES = (".txt", ".md", ".rst", ".text")
TextSource = str | bytes | os.PathLike
SNIFF_BYTES = 8192


class TextInputError(DataError):
    """Text that a tokenizer cannot take: binary data, invalid UTF-8 for a subword model, a lone surrogate."""


def check_not_binary(data: bytes, name: str) -> None:
    """Refuse data whose first 8 KiB contain a NUL byte (how ``grep`` and ``git`` tell binary files)."""
    if b"\x00" in data[:SNIFF_BYTES]:
        raise TextInputError(
            f"{name}: looks like a binary file (NUL byte at offset {data.index(0)}), not text"
        )


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a text file (binary files refused)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise TextInputError(f"{p}: cannot read ({e.strerror or e})") from None
    check_not_binary(data, str(p))
    return data


def as_bytes(x: TextSource, name: str = "text") -> bytes:
    """Bytes of one item: ``bytes`` as they are, ``str`` as UTF-8 with surrogateescape, a path read."""
    if isinstance(x, bytes):
        return x
    if isinstance(x, str):
        try:
            return x.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as e:
            raise TextInputError(
                f"{name}: lone surrogate U+{ord(x[e.start]):04X} at character {e.start} cannot be written as UTF-8"
            ) from None
    if isinstance(x, os.PathLike):
        return read_bytes(x)
    raise TextInputError(f"{name}: expected str, bytes or a path, got {type(x).__name__}")


def as_text(x: TextSource, name: str = "text") -> str:
    """Strict UTF-8 text of one item (for subword models); TextInputError names the first invalid byte."""
    if isinstance(x, os.PathLike):
        name = str(x)
    data = x if isinstance(x, str) else as_bytes(x, name)
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError as e:
            raise TextInputError(
                f"{name}: character {e.start} (U+{ord(data[e.start]):04X}) is not valid UTF-8 text; subword "
                "models need UTF-8 (text-bytes encodes any bytes exactly)"
            ) from None
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TextInputError(
            f"{name}: not UTF-8 (invalid byte 0x{data[e.start]:02x} at offset {e.start}); subword models need "
            "UTF-8 text (text-bytes encodes any bytes exactly)"
        ) from None


def batch_of(x: TextSource | list[TextSource] | tuple[TextSource, ...]) -> list[TextSource]:
    """One item as a batch of one; a list or tuple as it is."""
    return [x] if isinstance(x, (str, bytes, os.PathLike)) else list(x)
