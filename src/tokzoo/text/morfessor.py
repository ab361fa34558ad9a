"""An unsupervised morph segmenter in the manner of Morfessor Baseline: a lexicon of morphs learned from word
types by minimising a two-part code length (MAP / MDL), then Viterbi segmentation of any word.

"Unsupervised Discovery of Morphemes" (Creutz & Lagus, 2002) and "Unsupervised Models for Morpheme Segmentation
and Morphology Learning" (Creutz & Lagus, 2007). The cost of a lexicon and of the training words analysed with it
is, in nats,

* corpus: ``-sum_m c(m) ln(c(m) / N)`` over morph token counts ``c`` summing to ``N``;
* lexicon strings: each morph type spelled letter by letter under the training text's letter distribution,
  plus an end-of-morph mark, less ``ln K!`` because the lexicon is a set of ``K`` morphs, not a sequence;
* frequencies: ``ln C(N - 1, K - 1)``, Morfessor's implicit (non-informative) prior on the counts.

Training follows Morfessor's recursive search, on flat analyses: each word in turn is taken out of the counts and
re-analysed top down (keep the piece whole or split it in two, whichever costs least with everything else fixed,
then recurse into both halves), for ``epochs`` passes in a seeded order or until the cost stops falling by
``tol``. Words count once each (type-based training, which segments better than token counts in the 2007 paper).
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.errors import DataError

__all__ = ["MorphLexicon", "fit_morphs"]

_END = "\0"  # end-of-morph mark in the letter distribution
_MAX_WORD = 64  # longer "words" (URLs, hashes) are left out of training and kept whole when segmenting


class _Costs:
    """Incremental two-part cost of a lexicon with counts (see the module docstring)."""

    def __init__(self, letter_cost: dict[str, float], corpus_weight: float = 1.0) -> None:
        self.letter_cost = letter_cost
        self.corpus_weight = corpus_weight
        self.counts: Counter[str] = Counter()
        self.tokens = 0  # N
        self.c_log_c = 0.0  # sum c ln c
        self.spelling = 0.0  # sum over morph types of their spelled cost

    def spell(self, morph: str) -> float:
        unknown = self.letter_cost[_END] + 10.0  # a letter never seen in training: dearer than any seen one
        return sum(self.letter_cost.get(ch, unknown) for ch in morph) + self.letter_cost[_END]

    def add(self, morph: str, c: int) -> None:
        old = self.counts[morph]
        new = old + c
        if old == 0 and new > 0:
            self.spelling += self.spell(morph)
        elif old > 0 and new == 0:
            self.spelling -= self.spell(morph)
        self.c_log_c += (new * math.log(new) if new else 0.0) - (old * math.log(old) if old else 0.0)
        self.tokens += c
        if new:
            self.counts[morph] = new
        else:
            del self.counts[morph]

    def total(self) -> float:
        n, k = self.tokens, len(self.counts)
        if n == 0:
            return 0.0
        corpus = n * math.log(n) - self.c_log_c
        lexicon = self.spelling - math.lgamma(k + 1)
        frequencies = math.lgamma(n) - math.lgamma(k) - math.lgamma(n - k + 1) if k else 0.0
        return self.corpus_weight * corpus + lexicon + frequencies


def _letter_costs(words: Iterable[str]) -> dict[str, float]:
    letters: Counter[str] = Counter()
    for w in words:
        letters.update(w)
        letters[_END] += 1
    total = sum(letters.values())
    return {ch: -math.log(n / total) for ch, n in letters.items()}


def _resplit(costs: _Costs, piece: str) -> list[str]:
    """Add ``piece`` to the counts as its cheapest analysis (whole, or best binary split, recursively)."""
    best, best_cut = math.inf, 0
    for cut in range(len(piece)):  # 0: whole
        parts = [piece] if cut == 0 else [piece[:cut], piece[cut:]]
        for p in parts:
            costs.add(p, 1)
        cost = costs.total()
        for p in parts:
            costs.add(p, -1)
        if cost < best - 1e-9:
            best, best_cut = cost, cut
    if best_cut == 0:
        costs.add(piece, 1)
        return [piece]
    return _resplit(costs, piece[:best_cut]) + _resplit(costs, piece[best_cut:])


class MorphLexicon:
    """Learned morph counts; :meth:`segment` cuts any word by Viterbi under ``-ln(c(m) / N)`` per morph, with
    unknown single letters at their spelled cost plus a new-morph penalty."""

    def __init__(self, counts: dict[str, int], letter_cost: dict[str, float]) -> None:
        if not counts:
            raise DataError("a morph lexicon needs at least one morph")
        self.counts = dict(counts)
        self.letter_cost = dict(letter_cost)
        total = sum(self.counts.values())
        self._cost = {m: -math.log(c / total) for m, c in self.counts.items()}
        self._longest = max(len(m) for m in self.counts)
        self._unknown = math.log(total) + max(self.letter_cost.values()) + 10.0

    def segment_cased(self, word: str) -> list[str]:
        """:meth:`segment` of the lower-cased word, cut at the same places in ``word`` (as written when lower
        casing changes its length)."""
        low = word.lower()
        if len(low) != len(word):
            return self.segment(word)
        out, i = [], 0
        for piece in self.segment(low):
            out.append(word[i : i + len(piece)])
            i += len(piece)
        return out

    def segment(self, word: str) -> list[str]:
        """``word`` as its cheapest sequence of lexicon morphs (a letter outside the lexicon is its own morph)."""
        n = len(word)
        if n <= 1 or n > _MAX_WORD:
            return [word]
        best = [0.0] + [math.inf] * n
        back = [0] * (n + 1)
        for end in range(1, n + 1):
            for start in range(max(0, end - self._longest), end):
                morph = word[start:end]
                cost = self._cost.get(morph)
                if cost is None:
                    if end - start > 1:
                        continue
                    cost = self._unknown
                if best[start] + cost < best[end]:
                    best[end], back[end] = best[start] + cost, start
        pieces, end = [], n
        while end > 0:
            pieces.append(word[back[end] : end])
            end = back[end]
        return pieces[::-1]

    def to_json(self) -> bytes:
        """The lexicon as UTF-8 JSON (what :meth:`save` writes and a text tokenizer's checkpoint keeps)."""
        data = {
            "format": "tokzoo-morphs",
            "version": 1,
            "counts": self.counts,
            "letter_cost": self.letter_cost,
        }
        return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes, where: str = "morph lexicon") -> MorphLexicon:
        """Read :meth:`to_json` bytes; DataError naming ``where`` when they are not a lexicon."""
        try:
            data = json.loads(raw.decode("utf-8"))
            if data.get("format") != "tokzoo-morphs":
                raise ValueError("not a tokzoo morph lexicon")
            counts = {str(m): int(c) for m, c in data["counts"].items()}
            letters = {str(ch): float(v) for ch, v in data["letter_cost"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise DataError(f"{where}: cannot read a morph lexicon ({e})") from None
        if any(c < 1 for c in counts.values()) or _END not in letters:
            raise DataError(f"{where}: malformed morph lexicon (counts must be >= 1, letter costs complete)")
        return cls(counts, letters)

    def save(self, path: str | Path) -> None:
        """Write the lexicon as JSON (atomically)."""
        atomic_write_bytes(Path(path), self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> MorphLexicon:
        """Read a lexicon written by :meth:`save`; DataError naming the file when it is not one."""
        try:
            raw = Path(path).read_bytes()
        except OSError as e:
            raise DataError(f"{path}: cannot read a morph lexicon ({e})") from None
        return cls.from_json(raw, str(path))


def fit_morphs(
    words: Iterable[str], *, corpus_weight: float = 1.0, epochs: int = 4, tol: float = 1e-4, seed: int = 0
) -> MorphLexicon:
    """Learn a :class:`MorphLexicon` from word types (each distinct word counts once; words longer than 64
    letters are left out); stops after ``epochs`` passes or when a pass lowers the cost by less than ``tol``
    (relative). ``corpus_weight`` scales the corpus cost against the lexicon's (Morfessor 2.0's ``alpha``,
    "Morfessor 2.0: Python Implementation and Extensions for Morfessor Baseline", Virpioja et al., 2013): below
    1 a larger share of the cost is the lexicon's, so morphs are shorter and words are cut more."""
    if not corpus_weight > 0:
        raise ValueError(f"corpus_weight must be > 0, got {corpus_weight}")
    types = sorted({w for w in words if 0 < len(w) <= _MAX_WORD})
    if not types:
        raise DataError("no words to learn morphs from")
    costs = _Costs(_letter_costs(types), corpus_weight)
    analyses = {w: [w] for w in types}
    for w in types:
        costs.add(w, 1)
    rng = random.Random(seed)
    previous = costs.total()
    for _ in range(epochs):
        order = types[:]
        rng.shuffle(order)
        for w in order:
            for m in analyses[w]:
                costs.add(m, -1)
            analyses[w] = _resplit(costs, w)
        now = costs.total()
        if previous - now < tol * abs(previous):
            break
        previous = now
    return MorphLexicon(dict(costs.counts), costs.letter_cost)
