"""HF ``tokenizers`` pipelines (normalizer → byte-level pre-tokenizer → BPE / Unigram / WordPiece) for a
:class:`~tokzoo.text.config.SubwordConfig`: the unfitted start (the byte alphabet alone) and training.

The algorithms are the libraries' own: BPE ("Neural Machine Translation of Rare Words with Subword Units",
Sennrich et al., 2016, over bytes as in GPT-2), Unigram ("Subword Regularization", Kudo, 2018) and WordPiece
("Japanese and Korean Voice Search", Schuster and Nakajima, 2012). The byte-level alphabet makes every UTF-8 text
encodable without an unknown token; WordPiece gets all 256 ``##`` continuations added after training for the
same reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

from tokzoo.text.compression_bpe import learn_merges
from tokzoo.text.config import SubwordConfig

__all__ = ["CONTINUE", "UNK", "build_pipeline", "train_pipeline"]

UNK = "[UNK]"
CONTINUE = "##"
ALPHABET = pre_tokenizers.ByteLevel.alphabet()


def _wordpiece(vocab: dict[str, int]) -> models.WordPiece:
    """A WordPiece model over ``vocab`` completed with [UNK] and every byte and ``##`` byte continuation."""
    full = dict(vocab)
    for piece in [UNK, *sorted(ALPHABET), *(CONTINUE + c for c in sorted(ALPHABET))]:
        full.setdefault(piece, len(full))
    return models.WordPiece(full, unk_token=UNK, max_input_chars_per_word=1 << 30)


def _frame(cfg: SubwordConfig, model: models.Model) -> Tokenizer:
    """Normalizer and byte-level pre-tokenizer around ``model``."""
    tok = Tokenizer(model)
    if cfg.normalize != "none":
        tok.normalizer = {"nfc": normalizers.NFC, "nfkc": normalizers.NFKC}[cfg.normalize]()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=cfg.split != "none")
    return tok


def build_pipeline(cfg: SubwordConfig) -> Tokenizer:
    """The unfitted tokenizer: the byte alphabet alone (no merges or pieces learned)."""
    alphabet = sorted(ALPHABET)
    if cfg.algorithm == "bpe":
        model: models.Model = models.BPE({c: i for i, c in enumerate(alphabet)}, [])
    elif cfg.algorithm == "unigram":
        model = models.Unigram([(c, -1.0) for c in alphabet])
    else:
        model = _wordpiece({})
    return _frame(cfg, model)


def train_pipeline(cfg: SubwordConfig, lines: Iterable[str], count: int) -> Tokenizer:
    """A tokenizer trained on ``lines`` (``count`` of them, for progress only) with ``cfg``'s trainer, leaving
    room for the custom tokens (which tokzoo matches itself, :mod:`~tokzoo.text.custom`)."""
    size = cfg.vocab - len(cfg.custom_tokens)
    common = {"vocab_size": size, "initial_alphabet": ALPHABET, "show_progress": False}
    if cfg.algorithm == "bpe" and cfg.criterion == "compression":
        return _train_compression_bpe(cfg, lines, size)
    if cfg.algorithm == "bpe":
        model: models.Model = models.BPE()
        trainer: trainers.Trainer = trainers.BpeTrainer(
            min_frequency=cfg.min_frequency, max_token_length=cfg.max_token_length or None, **common
        )
    elif cfg.algorithm == "unigram":
        model = models.Unigram()
        trainer = trainers.UnigramTrainer(max_piece_length=cfg.max_token_length or 16, **common)
    else:
        model = models.WordPiece(unk_token=UNK)
        # room for the [UNK] and the 256 continuations completed afterwards
        common["vocab_size"] = size - 1 - len(ALPHABET)
        trainer = trainers.WordPieceTrainer(min_frequency=cfg.min_frequency, continuing_subword_prefix=CONTINUE,
                                            **common)  # fmt: skip
    tok = _frame(cfg, model)
    tok.train_from_iterator(lines, trainer, length=count)
    if cfg.algorithm == "wordpiece":
        tok.model = _wordpiece(tok.get_vocab(with_added_tokens=False))
    return tok


def _train_compression_bpe(cfg: SubwordConfig, lines: Iterable[str], size: int) -> Tokenizer:
    """BPE whose merges are learned by :func:`~tokzoo.text.compression_bpe.learn_merges` (compression criterion)
    on the words of the same normalizer and pre-tokenizer, then loaded into an HF BPE model."""
    tok = _frame(cfg, models.BPE())
    words: Counter[str] = Counter()
    for line in lines:
        text = tok.normalizer.normalize_str(line) if tok.normalizer is not None else line
        words.update(piece for piece, _ in tok.pre_tokenizer.pre_tokenize_str(text))
    merges = learn_merges(words, size - len(ALPHABET), criterion="compression", candidates=cfg.candidates,
                          min_frequency=cfg.min_frequency,
                          max_token_length=cfg.max_token_length)  # fmt: skip
    vocab = {c: i for i, c in enumerate(sorted(ALPHABET))}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    tok.model = models.BPE(vocab, merges)
    return tok
