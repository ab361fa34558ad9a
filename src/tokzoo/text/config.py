"""``SubwordConfig``: the options of the BPE / Unigram / WordPiece text tokenizers (saved as ``config.json``)."""

from __future__ import annotations

from dataclasses import dataclass

from tokzoo.core.errors import ConfigError

__all__ = ["ALGORITHMS", "CRITERIA", "MAX_VOCAB", "NORMALIZERS", "SPLITS", "SubwordConfig", "base_size"]

ALGORITHMS = ("bpe", "unigram", "wordpiece")
NORMALIZERS = ("none", "nfc", "nfkc")
#: ``words``: GPT-2's regex splits words, numbers and punctuation before the model (tokens never cross them);
#: ``none``: the whole line is one sequence (tokens may cross spaces; KL3M's character-level variants);
#: ``morph-tr``: ``words`` after cutting Turkish suffixes off each word (:func:`tokzoo.text.turkish.morph_pieces`).
#: ``morfessor``: ``words`` after cutting each word by a morph lexicon that ``fit`` learns first, unsupervised
#: (:mod:`tokzoo.text.morfessor`, Morfessor Baseline's MAP search; the lexicon is saved in the checkpoint).
SPLITS = ("words", "none", "morph-tr", "morfessor")
#: How BPE picks its merges: the most frequent pair, or the pair that most shortens the unigram-coded stream
#: (:mod:`~tokzoo.text.compression_bpe`).
CRITERIA = ("frequency", "compression")
MAX_VOCAB = 1 << 20
ALPHABET = 256  # the byte-level alphabet


def base_size(algorithm: str, custom_tokens: tuple[str, ...]) -> int:
    """Ids an unfitted model already uses: the 256 bytes (WordPiece: also their 256 ``##`` continuations and
    ``[UNK]``) plus the custom tokens."""
    return (2 * ALPHABET + 1 if algorithm == "wordpiece" else ALPHABET) + len(custom_tokens)


@dataclass
class SubwordConfig:
    """``algorithm`` over the byte-level alphabet (every UTF-8 text is encodable, decoding is exact up to the
    normalizer) with a vocabulary of ``vocab`` ids (custom tokens included; the ``.tok`` cost is log2(vocab)
    bits per token). ``normalize``: Unicode normalization before tokenizing (``nfkc`` as KL3M). ``custom_tokens``:
    strings always kept as one token. ``power_of_two``: require ``vocab`` to be 2^k (KL3M: every id costs
    exactly k bits). ``max_token_length``: longest token in bytes, 0 = no limit (BPE and Unigram).
    ``split``: see :data:`SPLITS`. ``sample_bytes``: how much of the corpus ``fit`` reads (bounded memory);
    ``min_frequency``: the fewest occurrences of a merged pair (BPE, WordPiece); ``seed``: of the sampling.
    ``criterion``: see :data:`CRITERIA` (BPE only); ``candidates``: how many of the most frequent pairs the
    compression criterion chooses among."""

    algorithm: str = "bpe"
    vocab: int = 16384
    normalize: str = "none"
    custom_tokens: tuple[str, ...] = ()
    power_of_two: bool = False
    max_token_length: int = 0
    split: str = "words"
    sample_bytes: int = 64 << 20
    min_frequency: int = 2
    seed: int = 0
    criterion: str = "frequency"
    candidates: int = 8

    def __post_init__(self) -> None:
        self.custom_tokens = tuple(self.custom_tokens)
        for name, allowed in (
            ("algorithm", ALGORITHMS),
            ("normalize", NORMALIZERS),
            ("split", SPLITS),
            ("criterion", CRITERIA),
        ):
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"text config: {name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}"
                )
        if any(not isinstance(t, str) or not t for t in self.custom_tokens):
            raise ConfigError("text config: custom_tokens must be non-empty strings")
        if len(set(self.custom_tokens)) != len(self.custom_tokens):
            raise ConfigError("text config: custom_tokens are repeated")
        for name, low, high in (
            ("vocab", base_size(self.algorithm, self.custom_tokens), MAX_VOCAB),
            ("max_token_length", 0, 1 << 16),
            ("sample_bytes", 1, 1 << 40),
            ("min_frequency", 1, 1 << 30),
            ("candidates", 1, 1 << 20),
        ):
            value = getattr(self, name)
            if type(value) is not int or not low <= value <= high:
                raise ConfigError(f"text config: {name} must be an integer in [{low}, {high}], got {value!r}")
        if self.power_of_two and self.vocab & (self.vocab - 1):
            raise ConfigError(
                f"text config: power_of_two is set but vocab={self.vocab} is not a power of two"
            )
        if self.criterion != "frequency" and self.algorithm != "bpe":
            raise ConfigError(
                f"text config: criterion={self.criterion!r} applies to bpe, not {self.algorithm}"
            )
        if self.max_token_length and self.algorithm == "wordpiece":
            raise ConfigError("text config: max_token_length applies to bpe and unigram, not wordpiece")
