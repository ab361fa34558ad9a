"""Long parallel documents from Debian packages: translated man pages paired with their English originals.

The same page (``man1/ls.1``: section folder and file name) in a translation package (``manpages-de`` puts it under
``usr/share/man/de/``) and in an English package (``usr/share/man/``); both are rendered to text with
:mod:`tokzoo.text.roff`, section by section. Symlinks and ``.so`` redirects are links, not documents.

Pairing rule (against mis-pairing: a translation of another version of the page, a partial or stub page):

1. both exist, neither is a link, and the English text has at least ``min_chars`` characters;
2. the same number of ``.SH`` sections, after dropping the translation's last section when it has exactly one more
   (the translators' credits that manpages-l10n and manpages-zh append: ÜBERSETZUNG, TRADUCTION, 跋, ...);
   sections then align by position;
3. at most ``max_verbatim`` of the English text lines of 6 or more words reappear verbatim in the translation
   (more: the page is left largely untranslated, or is mostly code or tables, which are the same in every language);
4. the length ratio r = characters(translation) / characters(English) within a factor ``max_ratio_factor`` of the
   median r of the language's pages that pass 1-3 (languages differ in characters per content: German ~1.25,
   Chinese ~0.5, so the bound is relative to the language itself).

Each rejected page is counted under its reason; a missing package is reported (logged, recorded) and skipped.
Licences: each package's ``usr/share/doc/<package>/copyright`` (man-page translations: GPL-3+ for manpages-l10n,
others per package), recorded with the package's ``.deb`` name.
"""

from __future__ import annotations

import gzip
import os
import re
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tokzoo.core.errors import DataError
from tokzoo.data.apt import debian_package
from tokzoo.data.report import reason_of, report_bad
from tokzoo.text.roff import is_link, roff_sections

__all__ = [
    "ENGLISH_PACKAGES",
    "TRANSLATIONS",
    "DocPair",
    "LanguageDocs",
    "PairRule",
    "find_pages",
    "licences",
    "pair_pages",
    "parallel_documents",
    "read_page",
    "verbatim_share",
]

#: Packages with the English originals of the translated pages (Debian 12): the Linux man-pages project and the
#: upstream programs whose pages manpages-l10n translates most.
ENGLISH_PACKAGES = (
    "manpages",
    "manpages-dev",
    "coreutils",
    "util-linux",
    "findutils",
    "grep",
    "sed",
    "procps",
)
#: Language -> (man folder, translation packages). manpages-l10n: de fr es pl ru el vi (GPL-3+); manpages-ja (JM
#: project), manpages-zh (CMPP), manpages-tr (Turkish project) are separate translations of older page versions.
TRANSLATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "de": ("de", ("manpages-de", "manpages-de-dev")),
    "fr": ("fr", ("manpages-fr", "manpages-fr-dev")),
    "es": ("es", ("manpages-es", "manpages-es-dev")),
    "pl": ("pl", ("manpages-pl", "manpages-pl-dev")),
    "ru": ("ru", ("manpages-ru", "manpages-ru-dev")),
    "el": ("el", ("manpages-el",)),
    "tr": ("tr", ("manpages-tr",)),
    "vi": ("vi", ("manpages-vi",)),
    "ja": ("ja", ("manpages-ja", "manpages-ja-dev")),
    "ko": ("ko", ("manpages-ko",)),
    "zh_CN": ("zh_CN", ("manpages-zh",)),
}
_PAGE = re.compile(r"^man[0-9n][^/]*/[^/]+$")


@dataclass(frozen=True)
class PairRule:
    """See the module docstring: rule 1 (``min_chars``), rule 3 (``max_verbatim``), rule 4 (``max_ratio_factor``)."""

    min_chars: int = 1000
    max_verbatim: float = 0.5
    max_ratio_factor: float = 1.5


@dataclass(frozen=True)
class DocPair:
    """One page in English and in a translation, its sections aligned by position."""

    page: str
    english: tuple[tuple[str, str], ...]
    translation: tuple[tuple[str, str], ...]

    @property
    def english_text(self) -> str:
        return _joined(self.english)

    @property
    def translation_text(self) -> str:
        return _joined(self.translation)


@dataclass
class LanguageDocs:
    """The pairs of one language, the packages used (package -> .deb) or missing (package -> reason), each used
    package's licence (:func:`licences`), and the rejected pages by reason."""

    language: str
    pairs: list[DocPair] = field(default_factory=list)
    packages: dict[str, str | None] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    licences: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, list[str]] = field(default_factory=dict)


def _joined(sections: Sequence[tuple[str, str]]) -> str:
    return "\n\n".join(f"{h}\n{t}" if t else h for h, t in sections) + "\n"


def read_page(path: Path) -> str:
    """A man page's roff source (gunzipped when it ends in .gz), undecodable bytes replaced."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


def find_pages(roots: Sequence[Path], man_dir: str = "") -> dict[str, Path]:
    """``{"man1/ls.1": path}``: the regular (non-symlink) page files under ``root/usr/share/man/<man_dir>`` of each
    root, the first root winning; the key drops ``.gz``."""
    pages: dict[str, Path] = {}
    for root in roots:
        base = root / "usr/share/man" / man_dir
        for path in sorted(base.glob("man*/*")):
            key = path.relative_to(base).as_posix().removesuffix(".gz")
            if path.is_file() and not path.is_symlink() and _PAGE.match(key):
                pages.setdefault(key, path)
    return pages


def _sections(path: Path) -> list[tuple[str, str]] | None:
    source = read_page(path)
    return None if is_link(source) else roff_sections(source)


def verbatim_share(english: str, translation: str) -> float:
    """The share of ``english``'s lines of 6 or more words that reappear verbatim as lines of ``translation``."""
    lines = [ln.strip() for ln in english.splitlines() if len(ln.split()) >= 6]
    if not lines:
        return 0.0
    other = {ln.strip() for ln in translation.splitlines()}
    return sum(ln in other for ln in lines) / len(lines)


def _chars(sections: Sequence[tuple[str, str]]) -> int:
    return len(_joined(sections))


def pair_pages(
    english: Mapping[str, Path], translated: Mapping[str, Path], rule: PairRule = PairRule()
) -> tuple[list[DocPair], dict[str, list[str]]]:
    """The pairs that pass the rule (module docstring) and the rejected pages by reason, both in page order."""
    rejected: dict[str, list[str]] = {}
    candidates: list[DocPair] = []
    for page in sorted(translated):
        if page not in english:
            rejected.setdefault("no English page", []).append(page)
            continue
        try:
            en, tr = _sections(english[page]), _sections(translated[page])
        except (OSError, EOFError, ValueError) as e:  # a broken .gz
            report_bad(page, str(e))
            rejected.setdefault("unreadable", []).append(page)
            continue
        if en is None or tr is None:
            rejected.setdefault("link (.so)", []).append(page)
            continue
        if not en or _chars(en) < rule.min_chars:
            rejected.setdefault(f"English text under {rule.min_chars} characters", []).append(page)
            continue
        if len(tr) == len(en) + 1:
            tr = tr[:-1]  # the translators' credits
        if len(tr) != len(en):
            rejected.setdefault("section count differs", []).append(page)
            continue
        pair = DocPair(page, tuple(en), tuple(tr))
        if verbatim_share(pair.english_text, pair.translation_text) > rule.max_verbatim:
            rejected.setdefault(f"over {rule.max_verbatim:.0%} of English lines verbatim", []).append(page)
            continue
        candidates.append(pair)
    if not candidates:
        return [], rejected
    ratios = [_chars(p.translation) / _chars(p.english) for p in candidates]
    median = statistics.median(ratios)
    pairs = []
    for pair, r in zip(candidates, ratios, strict=True):
        if median / rule.max_ratio_factor <= r <= median * rule.max_ratio_factor:
            pairs.append(pair)
        else:
            rejected.setdefault(
                f"length ratio off the median {median:.2f} by > {rule.max_ratio_factor}x", []
            ).append(pair.page)
    return pairs, rejected


def licences(root: Path, package: str) -> str:
    """The ``License:`` names of a package's ``usr/share/doc/<package>/copyright`` (machine-readable ones, most
    frequent first), else the file's path in the package ("see ..."); "no copyright file" when there is none."""
    folder = root / "usr/share/doc" / package
    if (
        folder.is_symlink()
    ):  # Debian shares the folder of the package it depends on (manpages-dev -> manpages)
        return f"see /usr/share/doc/{Path(os.readlink(folder)).name}/copyright"
    path = folder / "copyright"
    if not path.is_file():
        return "no copyright file"
    names = Counter(
        m.group(1).strip()
        for m in re.finditer(r"^License:[ \t]*(\S.*)$", path.read_text("utf-8", "replace"), re.MULTILINE)
    )
    return (
        ", ".join(n for n, _ in names.most_common()) if names else f"see /usr/share/doc/{package}/copyright"
    )


def _roots(packages: Sequence[str], cache, used: dict, missing: dict, licence: dict) -> list[Path]:
    roots = []
    for package in packages:
        try:
            root = debian_package(package, cache)
        except DataError as e:
            missing[package] = reason_of(e, package)
            report_bad(package, missing[package])
            continue
        debs = sorted(root.parent.glob("*.deb"))
        used[package] = debs[0].name if debs else None
        licence[package] = licences(root, package)
        roots.append(root)
    return roots


def parallel_documents(
    languages: Sequence[str],
    *,
    english_packages: Sequence[str] = ENGLISH_PACKAGES,
    rule: PairRule = PairRule(),
    cache: str | Path | None = None,
) -> dict[str, LanguageDocs]:
    """``{language: LanguageDocs}`` for each of ``languages`` (keys of :data:`TRANSLATIONS`); missing packages are
    reported and skipped. DataError when no English package could be fetched."""
    english_used: dict[str, str | None] = {}
    english_missing: dict[str, str] = {}
    english_licences: dict[str, str] = {}
    english = find_pages(_roots(english_packages, cache, english_used, english_missing, english_licences))
    if not english:
        raise DataError(f"no English man pages (packages {', '.join(english_packages)}: {english_missing})")
    out = {}
    for lang in languages:
        if lang not in TRANSLATIONS:
            raise DataError(
                f"no man-page translation packages known for {lang!r} (known: {', '.join(TRANSLATIONS)})"
            )
        man_dir, packages = TRANSLATIONS[lang]
        docs = LanguageDocs(
            lang, packages=dict(english_used), missing=dict(english_missing), licences=dict(english_licences)
        )
        roots = _roots(packages, cache, docs.packages, docs.missing, docs.licences)
        docs.pairs, docs.rejected = pair_pages(english, find_pages(roots, man_dir), rule)
        out[lang] = docs
    return out
