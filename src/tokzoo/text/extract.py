"""Plain text out of the file formats Debian packages ship text in: plain (optionally gzip'd), man pages (groff),
WordNet data files (their glosses) and dictd dictionaries (``.dict.dz`` is gzip-compatible)."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path

__all__ = ["EXTRACTORS", "read_maybe_gzip"]

_GROFF_ESCAPES = [
    (re.compile(r"\\f(\(..|\[[^]]*\]|.)"), ""),  # font changes \fB \fI \fR \f(CW \f[...]
    (re.compile(r"\\\*(\(..|\[[^]]*\]|.)"), ""),  # strings \*(xx
    (re.compile(r"\\\((em|en)"), "—"),
    (re.compile(r"\\\((lq|rq|dq)"), '"'),
    (re.compile(r"\\\((oq|cq)"), "'"),
    (re.compile(r"\\\(..|\\\[[^]]*\]"), ""),  # other special characters
    (re.compile(r"\\[-]"), "-"),
    (re.compile(r"\\[&|^%:]"), ""),
    (re.compile(r"\\e"), "\\\\"),
    (re.compile(r"\\ "), " "),
]
_REQUEST = re.compile(r"^[.'][ \t]*([A-Za-z]{1,3})\b[ \t]*(.*)$")
_TEXT_MACROS = {
    "SH",
    "SS",
    "B",
    "I",
    "BI",
    "BR",
    "IB",
    "IR",
    "RB",
    "RI",
    "SM",
    "SB",
    "TP",
    "IP",
    "Nm",
    "Nd",
    "Dt",
}


def read_maybe_gzip(path: Path) -> str:
    """A file's text (gunzipped when it ends in .gz or .dz), undecodable bytes replaced."""
    data = path.read_bytes()
    if path.suffix in (".gz", ".dz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


def groff_text(path: Path) -> str:
    """The running text of a man page: requests dropped except the text of heading and font macros, escapes
    resolved or removed (an approximation of ``man``'s rendering, enough for token statistics)."""
    out = []
    for line in read_maybe_gzip(path).splitlines():
        if line.startswith(('.\\"', "'\\\"", '.\\\\"')):
            continue
        m = _REQUEST.match(line)
        if m:
            if m.group(1) not in _TEXT_MACROS or not m.group(2):
                continue
            line = m.group(2).replace('"', "")
        elif line.startswith((".", "'")):
            continue
        for pattern, repl in _GROFF_ESCAPES:
            line = pattern.sub(repl, line)
        out.append(line)
    return "\n".join(out) + "\n"


def wordnet_glosses(path: Path) -> str:
    """The glosses of a WordNet ``data.*`` file (after ``|``), one per line; the licence header is left out."""
    glosses = [
        line.split(" | ", 1)[1].strip()
        for line in read_maybe_gzip(path).splitlines()
        if not line.startswith("  ") and " | " in line
    ]
    return "\n".join(glosses) + "\n"


EXTRACTORS: dict[str, Callable[[Path], str]] = {
    "plain": read_maybe_gzip,
    "groff": groff_text,
    "wordnet": wordnet_glosses,
}
