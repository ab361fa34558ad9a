"""Turkish morphology for tokenizer evaluation: gold stem/suffix segmentations from Debian's ``hunspell-tr``, and a
rule-based suffix splitter used as a morphology-aware pre-tokenizer (``split="morph-tr"``) before BPE.

Gold ("Optimal Turkish Subword Strategies at Scale", 2025, evaluates boundary F1 against morphological
segmentations): a running-text word is segmented where the Hunspell dictionary derives it in exactly one way as a
listed stem + one suffix rule (``kaynaktan`` = ``kaynak`` + ``tan``), one boundary per word. The dictionary is a trustworthy source of *where* a stem ends because its suffix rules are
hand-written inflections that a spell checker accepts, but it is partial: a rule's suffix is often a chain of
several morphemes (``lerinden``) and a listed stem may itself be derived (``görüntülen`` + ``ir``), so gold has no
boundary inside either: boundary precision against it is a lower bound; MorphScore uses only the one boundary.

The splitter is independent of that dictionary: suffix allomorphs written out from Turkish grammar (vowel harmony
A = a/e, I = ı/i/u/ü, consonant alternation D = d/t, C = c/ç), stripped greedily from the end of each run of
letters, longest first, at most three, while a base of at least two letters with a vowel remains. It is a
deliberately simple light stemmer; its boundary scores against the dictionary's gold measure how good it is.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from tokzoo.data.apt import debian_package
from tokzoo.text.hunspell import Hunspell

__all__ = [
    "LETTERS",
    "SUFFIXES",
    "TURKISH_LOWER",
    "gold_morphs",
    "gold_words",
    "morph_pieces",
    "split_word",
    "turkish_dictionary",
]

_HARMONY = {"A": "ae", "I": "ıiuü", "D": "dt", "C": "cç"}
_TEMPLATES = (
    "lAr", "lArI", "lArDA", "lArDAn", "DA", "DAn", "DAkI", "nIn", "nA", "nDA", "nDAn", "ylA", "lA", "yA", "yI",
    "In", "sI", "ImIz", "InIz", "sInIz", "lI", "sIz", "lIk", "CI", "CIk", "DI", "DIr", "DIk", "mIş", "AcAk",
    "yAcAk", "Iyor", "yor", "mAk", "mA", "mAz", "mAlI", "yAn", "An", "ken", "AbIl", "yAbIl", "Il", "sA", "ş",
)  # fmt: skip


def _expand(template: str) -> set[str]:
    options = [_HARMONY.get(c, c) for c in template]
    return {"".join(p) for p in itertools.product(*options)}


#: Every allomorph of the templates of at least two letters, longest first.
SUFFIXES = tuple(
    sorted({s for t in _TEMPLATES for s in _expand(t) if len(s) >= 2}, key=lambda s: (-len(s), s))
)
_VOWELS = set("aeıioöuüâîû")
#: runs of letters (words, without digits and underscores)
LETTERS = re.compile(r"[^\W\d_]+")
#: Turkish dotted/dotless capitals before ``str.lower`` (``I`` -> ``ı``, ``İ`` -> ``i``)
TURKISH_LOWER = str.maketrans("Iİ", "ıi")


def split_word(word: str, max_suffixes: int = 3) -> list[str]:
    """``word`` cut before each suffix stripped from its end (matching in Turkish lower case)."""
    low = word.translate(TURKISH_LOWER).lower()
    if len(low) != len(word):
        return [word]
    cuts, end = [], len(low)
    while len(cuts) < max_suffixes:
        for suffix in SUFFIXES:
            base = end - len(suffix)
            if base >= 2 and low.endswith(suffix, 0, end) and _VOWELS & set(low[:base]):
                cuts.append(base)
                end = base
                break
        else:
            break
    bounds = [0, *sorted(cuts), len(word)]
    return [word[a:b] for a, b in itertools.pairwise(bounds)]


def morph_pieces(text: str, split: Callable[[str], list[str]] = split_word) -> list[str]:
    """``text`` cut where ``split`` cuts each run of letters (default: before Turkish suffixes); the pieces
    concatenate to ``text``."""
    out, start = [], 0
    for m in LETTERS.finditer(text):
        parts = split(m.group())
        if len(parts) == 1:
            continue
        out.append(text[start : m.start()] + parts[0])
        out.extend(parts[1:])
        start = m.end()
    if start < len(text) or not out:
        out.append(text[start:])
    return out


@lru_cache(maxsize=1)
def turkish_dictionary(root: str | None = None) -> Hunspell:
    """The ``hunspell-tr`` dictionary (Debian 12: 1:7.5.0-1, from LibreOffice's dictionaries), unpacked once."""
    base = Path(root) if root else debian_package("hunspell-tr")
    folder = base / "usr/share/hunspell"
    return Hunspell.read(folder / "tr_TR.aff", folder / "tr_TR.dic")


def gold_morphs(dictionary: Hunspell, word: str) -> list[str] | None:
    """Gold morphs ``[base, suffix]`` of ``word``: its unique derivation as a stem + one suffix rule, with a base
    of at least two letters; None when the word has no such derivation or more than one. (Segmenting the base
    again the same way was tried and rejected: short bases such as ``ye`` + ``r`` + ``e`` for ``yere`` made the
    nested splits wrong too often.)"""
    found = dictionary.analyses(word)
    if len(found) != 1 or len(found[0][0]) < 2:
        return None
    return list(found[0])


def gold_words(dictionary: Hunspell, text: str) -> dict[str, list[str]]:
    """Distinct all-lower-case words of ``text`` (in order of first use) with their gold morphs, those the
    dictionary derives uniquely."""
    out: dict[str, list[str]] = {}
    seen: set[str] = set()
    for m in LETTERS.finditer(text):
        word = m.group()
        if word in seen or word != word.translate(TURKISH_LOWER).lower():
            continue
        seen.add(word)
        morphs = gold_morphs(dictionary, word)
        if morphs is not None:
            out[word] = morphs
    return out
