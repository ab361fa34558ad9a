"""The registered text tokenizers (``tokzoo list --modality text``)."""

from __future__ import annotations

from tokzoo.core.presets import register_preset
from tokzoo.text.config import SubwordConfig
from tokzoo.text.subword import SubwordTokenizer

__all__ = ["KL3M_CUSTOM_TOKENS"]

#: Domain tokens kept whole by the KL3M-style presets: section and paragraph signs, common legal and financial
#: citation abbreviations, and markup. Chosen here after KL3M's idea of custom tokens; not KL3M's own list.
KL3M_CUSTOM_TOKENS = (
    "§", "§§", "¶", "U.S.C.", "C.F.R.", "F.3d", "F.2d", "S.Ct.", "Inc.", "LLC", "Ltd.", "et al.", "i.e.",
    "e.g.", "v.", "No.", "Id.", "<p>", "</p>", "<br>", "```", "**", "##", "\n\n",
)  # fmt: skip

for _algorithm in ("bpe", "unigram", "wordpiece"):
    register_preset(
        f"text-{_algorithm}", SubwordTokenizer, SubwordConfig(algorithm=_algorithm),
        f"Byte-level {_algorithm} text tokens, vocab 16384 (learn with tokzoo fit; HF tokenizers).",
    )  # fmt: skip
register_preset(
    "text-bpe-ca", SubwordTokenizer, SubwordConfig(criterion="compression"),
    "Compression-aware byte-level BPE: merges that most shorten the unigram-coded stream, vocab 16384 (fit).",
)  # fmt: skip
register_preset(
    "text-kl3m", SubwordTokenizer,
    SubwordConfig(vocab=1 << 15, normalize="nfkc", custom_tokens=KL3M_CUSTOM_TOKENS, power_of_two=True),
    "KL3M-style domain BPE: NFKC, legal/markup custom tokens, 2^15 ids (15 bits each).",
)  # fmt: skip
register_preset(
    "text-kl3m-char", SubwordTokenizer,
    SubwordConfig(vocab=1 << 12, normalize="nfkc", power_of_two=True, max_token_length=4, split="none"),
    "KL3M-style character-level BPE: NFKC, 2^12 ids, tokens of at most 4 bytes, crossing spaces.",
)  # fmt: skip
