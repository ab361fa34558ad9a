"""A Hunspell dictionary (``.aff`` suffix rules + ``.dic`` stems) as a morphological analyser: which stem and
which suffix rule produce a word. Used to build gold stem/suffix boundaries for Turkish from Debian's
``hunspell-tr`` (:mod:`tokzoo.text.turkish`).

Only what that dictionary uses is read: ``SET UTF-8``, ``FLAG num`` (comma-separated numeric flags) or single-
character flags, and ``SFX`` rules with their strip string and condition; ``PFX`` rules are refused (a prefix would
add a boundary this reader does not model). Format: the ``hunspell(5)`` manual page.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tokzoo.core.errors import DataError

__all__ = ["Hunspell", "SuffixRule"]


@dataclass(frozen=True)
class SuffixRule:
    """``stem`` ending in ``strip`` and matching ``condition`` at its end becomes ``stem[:-len(strip)] + add``."""

    flag: str
    strip: str
    add: str
    condition: re.Pattern[str]


def _flags(field: str, numeric: bool) -> frozenset[str]:
    return frozenset(field.split(",")) if numeric else frozenset(field)


class Hunspell:
    """Stems with their flags and the suffix rules of each flag; :meth:`analyses` inverts them."""

    def __init__(self, stems: dict[str, frozenset[str]], rules: list[SuffixRule]) -> None:
        self.stems = stems
        self.by_add: dict[str, list[SuffixRule]] = defaultdict(list)
        for rule in rules:
            self.by_add[rule.add].append(rule)

    @classmethod
    def read(cls, aff: Path, dic: Path) -> Hunspell:
        """Parse ``aff`` and ``dic`` (UTF-8); DataError naming the file and line for what cannot be read."""
        numeric, rules = False, []
        for n, line in enumerate(aff.read_text("utf-8").splitlines(), 1):
            parts = line.split()
            if not parts or parts[0].startswith("#"):
                continue
            if parts[0] == "SET" and parts[1:] != ["UTF-8"]:
                raise DataError(f"{aff}:{n}: only SET UTF-8 is supported, got {line!r}")
            if parts[0] == "FLAG":
                if parts[1:] != ["num"]:
                    raise DataError(f"{aff}:{n}: only FLAG num or single-character flags, got {line!r}")
                numeric = True
            if parts[0] == "PFX":
                raise DataError(f"{aff}:{n}: prefix rules are not supported")
            if parts[0] == "SFX" and len(parts) >= 5:
                flag, strip, add, cond = parts[1], parts[2], parts[3].split("/")[0], parts[4]
                try:
                    pattern = re.compile(f"(?:{cond})$")
                except re.error as e:
                    raise DataError(f"{aff}:{n}: bad condition {cond!r}: {e}") from None
                rules.append(
                    SuffixRule(flag, "" if strip == "0" else strip, "" if add == "0" else add, pattern)
                )
        stems: dict[str, frozenset[str]] = {}
        lines = dic.read_text("utf-8").splitlines()
        if not lines or not lines[0].strip().isdigit():
            raise DataError(f"{dic}:1: expected the number of entries on the first line")
        for line in lines[1:]:
            word, _, flags = line.strip().partition("/")
            if word:
                stems[word] = stems.get(word, frozenset()) | (
                    _flags(flags, numeric) if flags else frozenset()
                )
        if not stems or not rules:
            raise DataError(f"{dic}: no stems or no suffix rules read (with {aff})")
        return cls(stems, rules)

    def analyses(self, word: str) -> list[tuple[str, str]]:
        """Every (base, suffix) with ``word == base + suffix``, suffix non-empty, where some stem with a flag whose
        rule adds ``suffix`` yields ``base`` after stripping (base == stem when the rule strips nothing)."""
        out = set()
        for cut in range(1, len(word)):
            base, suffix = word[:cut], word[cut:]
            for rule in self.by_add.get(suffix, ()):
                stem = base + rule.strip
                flags = self.stems.get(stem)
                if flags is not None and rule.flag in flags and rule.condition.search(stem):
                    out.add((base, suffix))
        return sorted(out)
