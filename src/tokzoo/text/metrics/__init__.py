"""Intrinsic measures of text tokenizations, one concept per module; every rate says its unit.

- :mod:`.compression`: bytes per token, tokens per character;
- :mod:`.words`: fertility (tokens per word) and continued-word rate;
- :mod:`.parity`: token counts of parallel texts;
- :mod:`.entropy`: unigram Shannon and Rényi entropy, and their efficiencies at a given vocabulary size;
- :mod:`.conditional`: conditional entropies H_k of a token given the k before it;
- :mod:`.morphology`: morph-boundary precision, recall and F1 (micro and macro) and a MorphScore-style score;
- :mod:`.report`: the per-text summary ``tokzoo eval`` writes.
"""

from tokzoo.text.metrics.compression import bytes_per_token, tokens_per_char
from tokzoo.text.metrics.conditional import conditional_entropies
from tokzoo.text.metrics.entropy import renyi_efficiency, renyi_entropy, shannon_efficiency, unigram_entropy
from tokzoo.text.metrics.morphology import BoundaryScores, MorphScore, boundary_scores, morph_score
from tokzoo.text.metrics.parity import parity
from tokzoo.text.metrics.words import WordStats, word_stats

__all__ = [
    "BoundaryScores",
    "MorphScore",
    "WordStats",
    "boundary_scores",
    "bytes_per_token",
    "conditional_entropies",
    "morph_score",
    "parity",
    "renyi_efficiency",
    "renyi_entropy",
    "shannon_efficiency",
    "tokens_per_char",
    "unigram_entropy",
    "word_stats",
]
