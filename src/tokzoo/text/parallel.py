"""Parallel text from Debian packages: the gettext catalogues (``.mo``) that translate a program's messages.

Each catalogue maps an English message (``msgid``) to its translation; a message translated in every chosen language
is one aligned tuple of the same content (help texts, errors, prompts: mostly one or a few sentences). Fuzzy
translations never reach a ``.mo``; plural entries and the header are skipped. Used for tokenizer parity ("Language
Model Tokenizers Introduce Unfairness Between Languages", Petrov et al., 2023) on real translations.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

from tokzoo.core.errors import DataError
from tokzoo.data.apt import debian_package

__all__ = ["PACKAGES", "parallel_messages", "read_mo"]

#: Programs whose catalogues have long messages in many languages (Debian 12).
PACKAGES = ("coreutils", "apt", "dpkg")
_MAGIC = {0x950412DE: "<", 0xDE120495: ">"}


def read_mo(path: Path) -> dict[str, str]:
    """The singular, non-empty translations of a gettext ``.mo`` file (GNU format, UTF-8); DataError naming the
    file for anything else."""
    data = path.read_bytes()
    if len(data) < 20 or struct.unpack("<I", data[:4])[0] not in _MAGIC:
        raise DataError(f"{path}: not a gettext .mo file")
    order = _MAGIC[struct.unpack("<I", data[:4])[0]]
    _, count, ids_at, strs_at = struct.unpack(order + "4I", data[4:20])

    def string(table: int, i: int) -> bytes:
        length, offset = struct.unpack(order + "2I", data[table + 8 * i : table + 8 * i + 8])
        if offset + length > len(data):
            raise DataError(f"{path}: string {i} runs past the end of the file")
        return data[offset : offset + length]

    out = {}
    try:
        for i in range(count):
            msgid, msgstr = string(ids_at, i), string(strs_at, i)
            if msgid and b"\0" not in msgid and msgstr:
                out[msgid.decode("utf-8")] = msgstr.decode("utf-8")
    except (struct.error, UnicodeDecodeError) as e:
        raise DataError(f"{path}: unreadable catalogue ({e})") from None
    return out


def parallel_messages(
    languages: Sequence[str], packages: Sequence[str] = PACKAGES, min_chars: int = 20
) -> dict[str, list[str]]:
    """``{"en": [...], lang: [...]}``: the messages (of at least ``min_chars`` English characters) that every
    package's catalogue translates into every one of ``languages``, aligned by position, in a fixed order."""
    columns: dict[str, list[str]] = {"en": [], **{lang: [] for lang in languages}}
    for package in packages:
        root = debian_package(package)
        catalogues = {}
        for lang in languages:
            found = sorted(root.glob(f"usr/share/locale/{lang}/LC_MESSAGES/*.mo"))
            if not found:
                raise DataError(f"Debian package {package} has no {lang} catalogue")
            catalogues[lang] = {k: v for f in found for k, v in read_mo(f).items()}
        shared = set.intersection(*(set(c) for c in catalogues.values()))
        for msgid in sorted(m for m in shared if len(m) >= min_chars):
            columns["en"].append(msgid)
            for lang in languages:
                columns[lang].append(catalogues[lang][msgid])
    return columns
