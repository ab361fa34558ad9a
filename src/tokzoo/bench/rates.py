"""Three rates of a token batch side by side: fixed-width bits, empirical unigram entropy, bits under a model.

- ``fixed_bits``: ``Tokens.nbits()``, the ``.tok`` payload (every id at log2 V bits, mixed-radix packed).
- ``unigram_bits``: token count times the plug-in unigram entropy of the batch itself
  (:func:`tokzoo.metrics.token_stats.unigram_entropy`), the size an ideal static code fitted to this very
  batch would reach, with its table for free (a lower bound for any unigram coder, optimistic on small sets).
- ``coded_bits``: the exact arithmetic-code payload under a coding model (a trained prior, or an adaptive
  unigram model when none is given), i.e. a real compressed size (:func:`tokzoo.prior.container.compress`).

Lengths are side information in all three (as in the ``.tok`` header), so they compare directly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from tokzoo.core.tokens import Tokens
from tokzoo.metrics.token_stats import unigram_entropy
from tokzoo.prior.container import CodingModel, compress
from tokzoo.prior.unigram import AdaptiveUnigram

__all__ = ["TokenRates", "token_rates"]


@dataclass
class TokenRates:
    """Bits of one batch under the three measures (totals over the batch) and its token count."""

    tokens: int
    fixed_bits: int
    unigram_bits: float
    coded_bits: int
    model: str

    def per_token(self) -> dict[str, float]:
        """The three rates in bits per token."""
        n = max(self.tokens, 1)
        return {"fixed": self.fixed_bits / n, "unigram": self.unigram_bits / n, "coded": self.coded_bits / n}

    def saving(self) -> float:
        """Fraction of the fixed-width bits the coded stream saves (0.25 = 25 % smaller)."""
        return 1.0 - self.coded_bits / self.fixed_bits if self.fixed_bits else 0.0

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "saving": self.saving()}


def token_rates(tokens: Tokens, model: CodingModel | None = None) -> TokenRates:
    """The :class:`TokenRates` of ``tokens``; ``model`` codes them (default: an adaptive unigram model)."""
    if tokens.values is not None:
        raise ValueError("continuous tokens have no ids to entropy-code")
    model = model if model is not None else AdaptiveUnigram(tokens.vocab_size)
    seqs = [tokens.sample(i) for i in range(len(tokens))]
    _, coded = compress(tokens, model)
    return TokenRates(
        tokens.num_tokens, tokens.nbits(), tokens.num_tokens * unigram_entropy(seqs), coded, model.name
    )
