"""Text tokenizers on the Debian text corpus: domain tokenizers (KL3M) both ways, Turkish vocabulary sweep,
throughput, and the small-LM bits-per-byte comparison at equal compute, with BLT/MegaByte patch statistics.

python benchmarks/text.py [--corpus data/text] [--quick]  ->  results/text_*.csv / .json

The corpus is built first if missing (``python -m tokzoo.text.corpus --out data/text``; Debian packages, cached).
Every rate names its unit: bytes/token = UTF-8 bytes of the held-out text per token (higher = more compression).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import itertools
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

import tokzoo
from common import RESULTS, fill_columns, write_results
from tokzoo.text.corpus import build_text_corpus
from tokzoo.text.glyphs import glyph_embeddings
from tokzoo.text.lm import CausalLM, LMConfig, bits_per_byte, next_token_entropies, train_lm
from tokzoo.text.metrics import (
    boundary_scores,
    conditional_entropies,
    morph_score,
    parity,
    renyi_efficiency,
    shannon_efficiency,
    unigram_entropy,
    word_stats,
)
from tokzoo.text.metrics.entropy import token_counts
from tokzoo.text.morfessor import fit_morphs
from tokzoo.text.parallel import parallel_messages
from tokzoo.text.parallel_docs import ENGLISH_PACKAGES, parallel_documents
from tokzoo.text.patching import entropy_patches, fixed_patches, patch_pieces, threshold_for_size
from tokzoo.text.turkish import LETTERS, TURKISH_LOWER, gold_words, morph_pieces, turkish_dictionary
from tokzoo.text.word_pooled import (
    WordLMConfig,
    WordPooledLM,
    split_words,
    train_word_lm,
    word_bits_per_byte,
    word_table,
)


def _read(folder: Path, limit: int | None = None, source: str | None = None) -> str:
    """The documents of a corpus folder (sorted), concatenated, up to ``limit`` bytes."""
    parts, size = [], 0
    for path in sorted(folder.glob("*.txt")):
        if source and not path.name.startswith(source):
            continue
        text = path.read_text("utf-8")
        parts.append(text)
        size += len(text.encode())
        if limit and size >= limit:
            break
    return "".join(parts)


def _read_mixed(folder: Path, limit: int) -> str:
    """About ``limit`` bytes of a corpus folder with an equal share from each source (the file-name prefix before
    the hash): a plain sorted read of the general corpus would be all GCIDE."""
    sources = sorted({p.name.rsplit("-", 1)[0] for p in folder.glob("*.txt")})
    return "".join(_read(folder, limit // len(sources), source=f"{name}-") for name in sources)


def _fit(name: str, text: str, **options) -> tokzoo.Tokenizer:
    model = tokzoo.create(name, **options)
    model.fit(text.splitlines(keepends=True))
    return model


def _encode_stream(model, text: str) -> np.ndarray:
    """Ids of ``text`` encoded line by line (what the LM and the metrics see)."""
    ids = model.encode_texts(text.splitlines(keepends=True)) if hasattr(model, "encode_texts") else None
    if ids is None:
        return np.frombuffer(text.encode(), dtype=np.uint8).astype(np.int64)
    return np.concatenate(ids)


def _bytes_per_token(model, text: str) -> float:
    return len(text.encode()) / len(_encode_stream(model, text))


def domain_rows(corpus: Path, vocab: int, quick: bool) -> list[dict]:
    """KL3M's claim at small scale: a legal-domain BPE vs a general one on legal and on general held-out text."""
    legal_train = _read(corpus / "legal/train")
    budget = len(legal_train.encode())
    general_train = _read(corpus / "general/train", budget)
    tests = {"legal": _read(corpus / "legal/test"), "general": _read(corpus / "general/test", 1 << 20)}
    models = {
        "legal (kl3m-style: NFKC + custom tokens)": _fit("text-kl3m", legal_train, vocab=vocab),
        "legal (plain BPE)": _fit("text-bpe", legal_train, vocab=vocab),
        "general (plain BPE)": _fit("text-bpe", general_train, vocab=vocab),
        "bytes": tokzoo.create("text-bytes"),
    }
    rows = []
    for name, model in models.items():
        row = {"tokenizer": name, "vocab": model.vocab_size, "train_bytes": budget if name != "bytes" else 0}
        for domain, text in tests.items():
            row[f"{domain}_bytes_per_token"] = round(_bytes_per_token(model, text), 3)
        rows.append(row)
    return rows


def turkish_rows(corpus: Path, quick: bool) -> list[dict]:
    """Turkish man pages: BPE/Unigram/WordPiece across vocabulary sizes, and an English-trained BPE."""
    train, test = _read(corpus / "turkish/train"), _read(corpus / "turkish/test")
    english = _read(corpus / "general/train", len(train.encode()))
    data = test.encode()
    rows = []
    vocabs = (1024, 4096) if quick else (1024, 2048, 4096, 8192)
    for algorithm in ("bpe", "unigram", "wordpiece"):
        for vocab in vocabs:
            model = _fit(f"text-{algorithm}", train, vocab=vocab)
            rows.append(_turkish_row(f"{algorithm} (Turkish)", model, test, data))
    rows.append(_turkish_row("bpe (English)", _fit("text-bpe", english, vocab=4096), test, data))
    return rows


def _turkish_row(name: str, model, test: str, data: bytes) -> dict:
    ids = _encode_stream(model, test)
    stats = word_stats(data, model.token_lengths(ids))
    counts = token_counts(ids, model.vocab_size)
    return {
        "tokenizer": name, "vocab": model.vocab_size, "bytes_per_token": round(len(data) / len(ids), 3),
        "fertility": round(stats.fertility, 3), "continued_word_rate": round(stats.continued_word_rate, 3),
        "unigram_entropy_bits": round(unigram_entropy(counts), 3),
        "renyi_eff_2.5": round(renyi_efficiency(counts, model.vocab_size), 3),
    }  # fmt: skip


def _cut(word: bytes, cuts) -> list[bytes]:
    bounds = [0, *sorted(c for c in set(cuts) if 0 < c < len(word)), len(word)]
    return [word[a:b] for a, b in itertools.pairwise(bounds)]


def _word_pieces(model, words: list[str]) -> list[list[bytes]]:
    """Each word's byte pieces as the tokenizer cuts it in running text (encoded after a space)."""
    out = []
    for word, ids in zip(words, model.encode_texts([" " + w for w in words]), strict=True):
        ends = np.cumsum(model.token_lengths(ids))[:-1] - 1  # byte offsets inside the word (space dropped)
        out.append(_cut(word.encode(), ends.tolist()))
    return out


def _morph_row(name: str, vocab: int | str, gold: dict[str, list[str]], pieces: list[list[bytes]]) -> dict:
    g = [[m.encode() for m in morphs] for morphs in gold.values()]
    b, ms = boundary_scores(g, pieces), morph_score(g, pieces)
    return {
        "segmentation": name, "vocab": vocab, "gold_words": b.words,
        "micro_P": round(b.micro_precision, 3), "micro_R": round(b.micro_recall, 3), "micro_F1": round(b.micro_f1, 3),
        "macro_P": round(b.macro_precision, 3), "macro_R": round(b.macro_recall, 3), "macro_F1": round(b.macro_f1, 3),
        "morphscore": round(ms.score, 3), "morphscore_words": ms.scored, "kept_whole": ms.kept_whole,
    }  # fmt: skip


def morph_rows(
    corpus: Path,
    quick: bool,
    lm_vocabs: tuple[int, ...] = (1024, 4096),
    lm_budget: str = "tokens",
    lm_seeds: tuple[int, ...] = (0,),
) -> list[dict]:
    """Turkish morphology: frequency-only BPE vs BPE after the rule-based suffix splitter (``split="morph-tr"``)
    vs BPE after the unsupervised Morfessor-style segmenter learned in the same fit (``split="morfessor"``),
    across vocabulary sizes, on boundary P/R/F1 and MorphScore against the hunspell-tr gold of the held-out
    words, held-out compression, and (at ``lm_vocabs``) LM bits per byte at the protocol of ``lm_rows``.

    ``lm_budget="tokens"`` gives every LM the same steps x batch x context tokens; ``"bytes"`` gives the two
    morphology-aware LMs as many more steps as their tokens are shorter on the training text than frequency-only
    BPE's at the same vocabulary, so every LM sees the same bytes of training text (and more compute). With
    several ``lm_seeds`` (initialisation and batch order) the LM column is their mean, with the standard
    deviation and each seed's value beside it."""
    if lm_budget not in ("tokens", "bytes"):
        raise ValueError(f"lm_budget must be 'tokens' or 'bytes', got {lm_budget!r}")
    train, test = _read(corpus / "turkish/train"), _read(corpus / "turkish/test")
    gold = gold_words(turkish_dictionary(), test)
    words = list(gold)
    splitter = [
        _cut(w.encode(), np.cumsum([len(p.encode()) for p in morph_pieces(w)]).tolist()) for w in words
    ]
    rows = [_morph_row("suffix splitter alone (no BPE)", "-", gold, splitter)]
    lexicon = fit_morphs(m.group().translate(TURKISH_LOWER).lower() for m in LETTERS.finditer(train))
    morfessor = [[p.encode() for p in lexicon.segment(w)] for w in words]
    rows.append(_morph_row("Morfessor-style, unsupervised (no BPE)", len(lexicon.counts), gold, morfessor))
    cfg = LMConfig(steps=150 if quick else 600, dim=128, depth=2, heads=4, context=128, batch=16)
    for vocab in (1024, 4096) if quick else (1024, 2048, 4096, 8192):
        for name, split in (
            ("BPE (frequency only)", "words"),
            ("suffix splitter + BPE", "morph-tr"),
            ("Morfessor-style + BPE", "morfessor"),
        ):
            model = _fit("text-bpe", train, vocab=vocab, split=split)
            row = _morph_row(name, vocab, gold, _word_pieces(model, words))
            ids = _encode_stream(model, test)
            row["bytes_per_token"] = round(len(test.encode()) / len(ids), 3)
            row["fertility"] = round(word_stats(test.encode(), model.token_lengths(ids)).fertility, 3)
            if vocab in lm_vocabs:
                train_bpt = len(train.encode()) / len(_encode_stream(model, train))
                if split == "words":
                    reference_bpt = train_bpt  # frequency-only BPE comes first at every vocabulary
                steps = round(cfg.steps * reference_bpt / train_bpt) if lm_budget == "bytes" else cfg.steps
                lms = [
                    _lm_row(name, model, train, test, replace(cfg, steps=steps, seed=s))[0] for s in lm_seeds
                ]
                bpb = [lm["test_bits_per_byte"] for lm in lms]
                row["lm_bits_per_byte"] = round(float(np.mean(bpb)), 4)
                if len(bpb) > 1:
                    row["lm_bpb_std"] = round(float(np.std(bpb, ddof=1)), 4)
                    row["lm_bpb_seeds"] = "/".join(f"{v:.4f}" for v in bpb)
                row["lm_train_s"] = round(sum(lm["train_seconds"] for lm in lms), 1)
                row["lm_steps"] = steps
                row["lm_train_mb"] = round(steps * cfg.batch * cfg.context * train_bpt / 1e6, 2)
            rows.append(row)
            print(row, flush=True)
    return fill_columns(rows)  # LM columns only where the vocabulary got an LM


#: sha256 of cl100k_base.tiktoken as tiktoken 0.14.0 publishes it (tiktoken_ext/openai_public.py, expected_hash).
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


def _cl100k(path: str | None):
    """tiktoken's own ``cl100k_base`` encoding from a local copy of its ranks (no download): the file's sha256 is
    checked against the published one, then placed where tiktoken's cache looks for that URL. None (with a note)
    when tiktoken or the file is missing."""
    try:
        import tiktoken
    except ImportError:
        print("tiktoken not installed (pip install tokzoo[text-bench]): its rows are left out")
        return None
    if not path or not Path(path).is_file():
        print(f"no local cl100k_base.tiktoken ({path}): tiktoken rows left out (it would download the ranks)")
        return None
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    if digest != CL100K_SHA256:
        raise SystemExit(f"{path}: sha256 {digest} is not the published cl100k_base hash {CL100K_SHA256}")
    cache = Path(tempfile.mkdtemp(prefix="tokzoo-tiktoken-"))
    shutil.copy(path, cache / hashlib.sha1(CL100K_URL.encode()).hexdigest())
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    print(f"cl100k_base ranks: {path}, sha256 {digest} = published")
    return tiktoken.get_encoding("cl100k_base")


PARITY_LANGUAGES = ("de", "fr", "es", "pl", "ru", "el", "tr", "vi", "ja", "ko", "zh_CN")


@functools.cache
def _parity_models(corpus: Path, quick: bool, cl100k: str | None) -> dict[str, object]:
    """The tokenizers of the parity tables (``parity`` and ``parity_docs`` share them, trained once per run): English
    tokenizers trained on 4 MB of general text (1 MB with --quick), an equal share from each of its four sources
    (GCIDE, WordNet glosses, Python docs, man pages), BPE on the Turkish man pages, cl100k_base."""
    english = _read_mixed(corpus / "general/train", (1 if quick else 4) << 20)
    models = {
        "characters (reference)": None,
        "bytes (UTF-8)": tokzoo.create("text-bytes"),
        "BPE-16k (English)": _fit("text-bpe", english, vocab=16384),
        "sentencepiece unigram 16k (English)": _fit("text-sp-unigram", english, vocab=16384),
        "BPE-16k (Turkish man pages)": _fit("text-bpe", _read(corpus / "turkish/train"), vocab=16384),
    }
    enc = _cl100k(cl100k)
    return {**models, **({"cl100k_base (tiktoken)": enc} if enc else {})}


def _token_counts(name: str, model, texts: list[str]) -> list[int]:
    """Tokens of each text under one of the parity tokenizers (characters for the reference row)."""
    if model is None:
        return [len(t) for t in texts]
    if name.startswith("bytes"):
        return [len(t.encode()) for t in texts]
    if name.startswith("cl100k"):
        return [len(ids) for ids in model.encode_ordinary_batch(texts, num_threads=1)]
    return [len(ids) for ids in model.encode_texts(texts)]


def parity_rows(corpus: Path, quick: bool, cl100k: str | None) -> list[dict]:
    """Premium (tokens of the translation / tokens of the English message, summed over the aligned messages) per
    language and tokenizer, on the gettext catalogues of coreutils, apt and dpkg; the tokenizers of
    ``_parity_models``."""
    messages = parallel_messages(PARITY_LANGUAGES)
    rows = []
    for name, model in _parity_models(corpus, quick, cl100k).items():
        base = _token_counts(name, model, messages["en"])
        row = {"tokenizer": name, "messages": len(base), "en_per_message": round(sum(base) / len(base), 2)}
        for lang in PARITY_LANGUAGES:
            row[lang] = round(parity(_token_counts(name, model, messages[lang]), base).total_premium, 2)
        rows.append(row)
    return rows


def parity_docs_rows(corpus: Path, quick: bool, cl100k: str | None) -> list[tuple[str, str, list[dict]]]:
    """Parity on long documents: translated man pages against their English originals (text/parallel_docs.py),
    the tokenizers of the ``parity`` part. Two tables: the pairs per language (pages, bytes, rejections, packages)
    and the premiums per tokenizer and language: ``<lang>`` = ratio of the summed token counts, ``<lang>_mean`` =
    mean of the per-document ratios."""
    docs = parallel_documents(PARITY_LANGUAGES)
    pair_rows = []
    for lang, d in docs.items():
        pair_rows.append(
            {"language": lang, "pairs": len(d.pairs),
             "en_bytes": sum(len(p.english_text.encode()) for p in d.pairs),
             "bytes": sum(len(p.translation_text.encode()) for p in d.pairs),
             "sections": sum(len(p.english) for p in d.pairs),
             "rejected": "; ".join(f"{reason}: {len(pages)}" for reason, pages in d.rejected.items()),
             "missing_packages": "; ".join(f"{p}: {r}" for p, r in d.missing.items()),
             "packages": " ".join(f"{deb or p}" for p, deb in d.packages.items() if p not in ENGLISH_PACKAGES),
             "licences": "; ".join(f"{p}: {lic}" for p, lic in d.licences.items() if p not in ENGLISH_PACKAGES)}
        )  # fmt: skip
    english_debs = next(iter(docs.values())).packages if docs else {}
    en_row = dict.fromkeys(pair_rows[0] if pair_rows else ["language"], "")
    en_row["language"] = "en (originals)"
    en_row["packages"] = " ".join(
        f"{english_debs.get(p) or p}" for p in ENGLISH_PACKAGES if p in english_debs
    )
    english_licences = next(iter(docs.values())).licences if docs else {}
    en_row["licences"] = "; ".join(
        f"{p}: {english_licences[p]}" for p in ENGLISH_PACKAGES if p in english_licences
    )
    pair_rows.append(en_row)
    english = {p.page: p.english_text for d in docs.values() for p in d.pairs}
    rows = []
    for name, model in _parity_models(corpus, quick, cl100k).items():
        en_counts = dict(zip(english, _token_counts(name, model, list(english.values())), strict=True))
        row = {"tokenizer": name, "documents_en": len(en_counts),
               "en_per_document": round(sum(en_counts.values()) / max(len(en_counts), 1), 1)}  # fmt: skip
        for lang, d in docs.items():
            if not d.pairs:
                row[lang] = row[f"{lang}_mean"] = "-"
                continue
            result = parity(
                _token_counts(name, model, [p.translation_text for p in d.pairs]),
                [en_counts[p.page] for p in d.pairs],
            )
            row[lang], row[f"{lang}_mean"] = round(result.total_premium, 2), round(result.mean_premium, 2)
        rows.append(row)
    return [
        (
            "text_parity_docs_pairs",
            "Parity on long documents: translated man pages paired with English",
            pair_rows,
        ),
        (
            "text_parity_docs",
            "Parity on long documents (man pages): token premium vs English, total and mean",
            rows,
        ),
    ]


def encoder_rows(corpus: Path, quick: bool, cl100k: str | None) -> list[dict]:
    """Encode throughput (MB of UTF-8 per CPU second, one thread) of HF tokenizers BPE, sentencepiece and tiktoken's
    cl100k_base on the same text (8 MB of general English; 2 MB with --quick); tokenizers trained on 4 MB (1 MB)."""
    text = _read(corpus / "general/test", (2 if quick else 8) << 20)
    lines, mb = text.splitlines(keepends=True), len(text.encode()) / 1e6
    train = _read(corpus / "general/train", (1 if quick else 4) << 20)
    rows = []
    bpe = _fit("text-bpe", train, vocab=16384)
    cases = {
        "HF tokenizers BPE-16k encode_batch_fast": lambda: bpe.hf.encode_batch_fast(
            lines, add_special_tokens=False
        ),
        "tokzoo text-bpe 16k (HF + custom-token split + NumPy ids)": lambda: bpe.encode_texts(lines),
    }
    for kind in ("unigram", "bpe"):
        sp = _fit(f"text-sp-{kind}", train, vocab=16384)
        cases[f"sentencepiece {kind} 16k encode (one thread)"] = lambda sp=sp: sp.sp.encode(
            lines, num_threads=1
        )
    enc = _cl100k(cl100k)
    if enc is not None:
        cases["tiktoken cl100k_base encode_ordinary_batch (one thread)"] = lambda: enc.encode_ordinary_batch(
            lines, num_threads=1
        )
    for name, fn in cases.items():
        rows.append(
            {"encoder": name, "MB": round(mb, 2), "MB_per_s": round(mb / _cpu_seconds(fn, repeats=2), 2)}
        )
    return rows


def _cpu_seconds(fn, repeats: int = 3) -> float:
    """Median CPU time of ``fn()`` in this process (one thread: OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1), which other
    jobs on the machine do not inflate the way they inflate wall time."""
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return float(np.median(times))


def throughput_rows(corpus: Path, quick: bool) -> list[dict]:
    """Encode throughput (tokzoo wrapper vs the HF tokenizer it wraps) and the metric suite's throughput, per CPU
    second of one thread."""
    text = _read(corpus / "general/train", (8 if quick else 32) << 20)
    data = text.encode()
    lines = text.splitlines(keepends=True)
    model = _fit("text-bpe", _read(corpus / "general/train", 4 << 20), vocab=16384)
    rows = []
    ids = model.encode_texts(lines)
    t_ours = _cpu_seconds(lambda: model.encode_texts(lines), repeats=2)
    t_hf = _cpu_seconds(lambda: [e.ids for e in model.hf.encode_batch_fast(lines, add_special_tokens=False)],
                        repeats=2)  # fmt: skip
    rows.append({"what": "encode text-bpe (tokzoo: custom-token split + HF + NumPy ids)", "MB": len(data) / 1e6,
                 "MB_per_s": len(data) / 1e6 / t_ours})  # fmt: skip
    rows.append({"what": "encode HF tokenizers encode_batch_fast + .ids (same model)", "MB": len(data) / 1e6,
                 "MB_per_s": len(data) / 1e6 / t_hf})  # fmt: skip
    stream = np.concatenate(ids)
    lengths = model.token_lengths(stream)

    def suite() -> list[float]:
        counts = token_counts(stream, model.vocab_size)
        stats = word_stats(data, lengths)
        h = unigram_entropy(counts)
        v = model.vocab_size
        return [
            len(data) / len(stream),
            stats.fertility,
            h,
            shannon_efficiency(counts, v),
            renyi_efficiency(counts, v),
        ]

    t_basic = _cpu_seconds(suite)
    t_cond = _cpu_seconds(lambda: conditional_entropies([stream], model.vocab_size, max_k=2))
    rows.append(
        {
            "what": "metrics: bytes/token, fertility, continued words, H, Shannon/Rényi eff.",
            "MB": len(data) / 1e6,
            "MB_per_s": len(data) / 1e6 / t_basic,
        }
    )
    rows.append(
        {
            "what": "metrics: conditional entropies H_0..H_2",
            "MB": len(data) / 1e6,
            "MB_per_s": len(data) / 1e6 / t_cond,
        }
    )
    return [{k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()} for r in rows]  # fmt: skip


def _lm_data(corpus: Path, quick: bool) -> tuple[str, str, LMConfig]:
    """Python documentation: training text, held-out text and the LM configuration every tokenization gets."""
    train = _read(corpus / "general/train", (2 if quick else 8) << 20, source="python-docs")
    test = _read(corpus / "general/test", 256 << 10, source="python-docs")
    return (
        train,
        test,
        LMConfig(steps=150 if quick else 600, dim=128, depth=2, heads=4, context=128, batch=16),
    )


def _lm_row(
    name: str, model, train: str, test: str, cfg: LMConfig, glyphs: bool = False
) -> tuple[dict, CausalLM]:
    """Train the LM on one tokenization of ``train`` (input embeddings learned, or frozen glyph pictures); its
    held-out bits per byte on ``test``."""
    torch.manual_seed(cfg.seed)
    frozen = glyph_embeddings(model.pieces, cfg.dim) if glyphs else None
    lm = CausalLM(model.vocab_size, cfg, frozen_embeddings=frozen)
    t0 = time.perf_counter()
    losses = train_lm(lm, _encode_stream(model, train))
    seconds = time.perf_counter() - t0
    ids = _encode_stream(model, test)
    bpb = bits_per_byte(lm, ids, model.token_lengths(ids))
    row = {
        "tokenization": name, "vocab": model.vocab_size, "trained_params": sum(p.numel() for p in lm.parameters() if p.requires_grad),
        "test_bytes_per_token": round(len(test.encode()) / len(ids), 3),
        "approx_train_bytes_seen": int(cfg.steps * cfg.batch * cfg.context * len(test.encode()) / len(ids)),
        "final_train_loss_nats": round(float(np.mean(losses[-20:])), 3), "test_bits_per_byte": round(bpb, 4),
        "train_seconds": round(seconds, 1),
    }  # fmt: skip
    return row, lm


def ca_rows(corpus: Path, quick: bool) -> list[dict]:
    """Compression-aware vs plain BPE at equal vocabulary: held-out compression, unigram-coded size, LM bits/byte."""
    train, test, cfg = _lm_data(corpus, quick)
    data = test.encode()
    rows = []
    for name, options in [("bpe-4k", {}), ("bpe-ca-4k (8 candidates)", {"criterion": "compression"}),
                          ("bpe-ca-4k (64 candidates)", {"criterion": "compression", "candidates": 64})]:  # fmt: skip
        model = _fit("text-bpe", train, vocab=4096, **options)
        ids = _encode_stream(model, test)
        h = unigram_entropy(token_counts(ids, model.vocab_size))
        row, _ = _lm_row(name, model, train, test, cfg)
        row["unigram_coded_bits_per_byte"] = round(len(ids) * h / len(data), 4)
        rows.append(row)
    return rows


def glyph_rows(corpus: Path, quick: bool) -> list[dict]:
    """Frozen glyph-picture input embeddings vs learned ones, same LM, data and compute."""
    train, test, cfg = _lm_data(corpus, quick)
    rows = []
    for name, model in (
        ("bytes", tokzoo.create("text-bytes")),
        ("bpe-4k", _fit("text-bpe", train, vocab=4096)),
    ):
        for glyphs in (False, True):
            row, _ = _lm_row(f"{name}, {'frozen glyph' if glyphs else 'learned'} embeddings", model, train, test,
                             cfg, glyphs)  # fmt: skip
            rows.append(row)
    return rows


def lm_rows(corpus: Path, quick: bool) -> list[dict]:
    """Bits per byte of the same small LM trained for the same steps x tokens on each tokenization of the same
    text."""
    train, test, cfg = _lm_data(corpus, quick)
    tokenizers = {
        "bytes": tokzoo.create("text-bytes"),
        "bpe-1k": _fit("text-bpe", train, vocab=1024),
        "bpe-4k": _fit("text-bpe", train, vocab=4096),
        "unigram-4k": _fit("text-unigram", train, vocab=4096),
    }
    return [_lm_row(name, model, train, test, cfg)[0] for name, model in tokenizers.items()]


def _train_flops(model, batch) -> float:
    """FLOPs of one training step (forward + backward) as torch's FlopCounterMode counts them (matmuls and
    attention)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        out = model(batch)
        out.float().sum().backward()
    model.zero_grad(set_to_none=True)
    return float(counter.get_total_flops())


def wordpool_rows(corpus: Path, quick: bool) -> list[dict]:
    """ "Learn Your Tokens" word-pooled byte LM vs the BPE-4k LM of ``lm_rows``: same text, steps and batch, a
    window of 65 words (~ the bytes of BPE-4k's 129 tokens); bits per byte, FLOPs per step, train time."""
    train, test, cfg = _lm_data(corpus, quick)
    bpe = _fit("text-bpe", train, vocab=4096)
    row, lm = _lm_row("BPE-4k tokens", bpe, train, test, cfg)
    row["window_bytes"] = round(row["test_bytes_per_token"] * (cfg.context + 1), 1)
    row["train_gflops_per_step"] = round(
        _train_flops(lm, torch.zeros(cfg.batch, cfg.context, dtype=torch.long)) / 1e9, 2
    )
    rows = [row]
    wcfg = WordLMConfig(steps=cfg.steps, batch=cfg.batch, lr=cfg.lr, seed=cfg.seed)
    pieces = [split_words(t.encode(), wcfg.max_word) for t in (train, test)]
    rows.append(_pooled_row("word-pooled bytes (Learn Your Tokens)", *pieces, wcfg))
    return rows


def _pooled_row(name: str, train: list[bytes], test: list[bytes], wcfg: WordLMConfig) -> dict:
    """Train the pooled byte LM on one segmentation of the training bytes; held-out bits per byte and its costs."""
    tr, te = word_table(train, wcfg.max_word), word_table(test, wcfg.max_word)
    torch.manual_seed(wcfg.seed)
    model = WordPooledLM(wcfg)
    t0 = time.perf_counter()
    losses = train_word_lm(model, tr)
    seconds = time.perf_counter() - t0
    per_piece = sum(map(len, test)) / len(te)
    return {
        "tokenization": name, "vocab": 257,
        "trained_params": sum(p.numel() for p in model.parameters()),
        "test_bytes_per_token": round(per_piece, 3), "approx_train_bytes_seen": int(wcfg.steps * wcfg.batch * (wcfg.context - 1) * per_piece),
        "final_train_loss_nats": round(float(np.mean(losses[-20:])), 3),
        "test_bits_per_byte": round(word_bits_per_byte(model, te), 4), "train_seconds": round(seconds, 1),
        "window_bytes": round(per_piece * wcfg.context, 1),
        "train_gflops_per_step": round(_step_flops(model, wcfg, tr) / 1e9, 2),
    }  # fmt: skip


def patchlm_rows(corpus: Path, quick: bool) -> list[dict]:
    """One patch-level LM (the word-pooled model's local encoder, latent transformer and local decoder) on three
    segmentations of the same bytes: words, BLT entropy patches (relative rise > 0.5 bits under the byte LM of
    ``lm_rows``, same data, steps and seed) and MegaByte fixed 4-byte patches; the wordpool protocol. The two
    patchings again with BLT's encoder (hash 3/4/5-gram embeddings, cross-attention pooling) in place of CLS
    pooling, same protocol."""
    train, test, cfg = _lm_data(corpus, quick)
    _, byte_lm = _lm_row("bytes", tokzoo.create("text-bytes"), train, test, cfg)
    wcfg = WordLMConfig(steps=cfg.steps, batch=cfg.batch, lr=cfg.lr, seed=cfg.seed)
    data = [t.encode() for t in (train, test)]
    words = [split_words(d, wcfg.max_word) for d in data]
    blt = [
        patch_pieces(
            d, entropy_patches(next_token_entropies(byte_lm, list(d)), 0.5, "relative"), wcfg.max_word
        )
        for d in data
    ]
    fixed = [patch_pieces(d, fixed_patches(len(d), 4), wcfg.max_word) for d in data]
    blt_cfg = replace(wcfg, pooling="cross", hash_ngrams=(3, 4, 5))
    return [
        _pooled_row("words (Learn Your Tokens)", *words, wcfg),
        _pooled_row("BLT entropy patches, relative θ = 0.5 bits", *blt, wcfg),
        _pooled_row("MegaByte fixed 4-byte patches", *fixed, wcfg),
        _pooled_row("BLT entropy patches, relative θ = 0.5 bits, BLT encoder", *blt, blt_cfg),
        _pooled_row("MegaByte fixed 4-byte patches, BLT encoder", *fixed, blt_cfg),
    ]  # fmt: skip


def patch_ablation_rows(corpus: Path, quick: bool) -> list[dict]:
    """BLT's encoder pieces one at a time on MegaByte fixed 4-byte patches (the ``patchlm`` protocol): hash
    n-grams alone, cross-attention pooling alone, both, and both trained for fewer steps so that the total training
    FLOPs equal the CLS model's."""
    train, test, cfg = _lm_data(corpus, quick)
    wcfg = WordLMConfig(steps=cfg.steps, batch=cfg.batch, lr=cfg.lr, seed=cfg.seed)
    fixed = [
        patch_pieces(d, fixed_patches(len(d), 4), wcfg.max_word) for d in (t.encode() for t in (train, test))
    ]
    both = replace(wcfg, pooling="cross", hash_ngrams=(3, 4, 5))
    rows = [
        _pooled_row("fixed 4 bytes, CLS + hash 3/4/5-grams", *fixed, replace(wcfg, hash_ngrams=(3, 4, 5))),
        _pooled_row("fixed 4 bytes, cross-attention pooling", *fixed, replace(wcfg, pooling="cross")),
        _pooled_row("fixed 4 bytes, BLT encoder", *fixed, both),
    ]
    tr = word_table(fixed[0], wcfg.max_word)
    steps = round(
        wcfg.steps * _step_flops(WordPooledLM(wcfg), wcfg, tr) / _step_flops(WordPooledLM(both), both, tr)
    )
    rows.append(_pooled_row(f"fixed 4 bytes, BLT encoder, {steps} steps (CLS's training FLOPs)", *fixed,
                            replace(both, steps=steps)))  # fmt: skip
    return rows


def patchsweep_rows(corpus: Path, quick: bool, sizes: tuple[int, ...], seeds: tuple[int, ...]) -> list[dict]:
    """Compute-matched sweep of patchings at matched mean patch size: for each size, MegaByte fixed patches and BLT
    entropy patches with the global and the relative threshold calibrated on the training text to that mean
    (``threshold_for_size``); one patch-level LM with BLT's encoder (the ``patchlm`` protocol: same steps, batch,
    65-piece window, so the same FLOPs per step and the same bytes per step at one size), one run per seed.
    The entropy model is a byte LM trained 4x the LM steps, read with half-overlapping windows (no spurious patch
    start at window edges)."""
    train, test, cfg = _lm_data(corpus, quick)
    wcfg = WordLMConfig(steps=cfg.steps, batch=cfg.batch, lr=cfg.lr, pooling="cross", hash_ngrams=(3, 4, 5))
    data = [t.encode() for t in (train, test)]
    entropy_row, byte_lm = _lm_row(
        "bytes", tokzoo.create("text-bytes"), train, test, replace(cfg, steps=4 * cfg.steps)
    )
    entropies = [next_token_entropies(byte_lm, list(d), min_context=cfg.context // 2, batch=64) for d in data]
    rows = [
        {
            "target_bytes_per_piece": "",
            "patching": f"(entropy model: byte LM, {4 * cfg.steps} steps, held-out "
            f"{entropy_row['test_bits_per_byte']} bits/byte; next-byte entropy on the training text: mean "
            f"{entropies[0].mean():.2f}, median {np.median(entropies[0]):.2f} bits)",
        }
    ]
    for size in sizes:
        patchings = {f"MegaByte fixed {size} bytes": [fixed_patches(len(d), size) for d in data]}
        for mode in ("global", "relative"):
            theta, _ = threshold_for_size(entropies[0], size, mode, wcfg.max_word)
            patchings[f"BLT {mode}, θ = {theta:.3f} bits"] = [
                entropy_patches(h, theta, mode) for h in entropies
            ]
        for name, lengths in patchings.items():
            pieces = [patch_pieces(d, n, wcfg.max_word) for d, n in zip(data, lengths, strict=True)]
            runs = [_pooled_row(name, *pieces, replace(wcfg, seed=seed)) for seed in seeds]
            bpb = [r["test_bits_per_byte"] for r in runs]
            rows.append({
                "target_bytes_per_piece": size, "patching": name,
                "train_bytes_per_piece": round(len(data[0]) / len(pieces[0]), 3),
                "test_bytes_per_piece": runs[0]["test_bytes_per_token"],
                "train_gflops_per_step": runs[0]["train_gflops_per_step"],
                "seeds": len(seeds), "test_bits_per_byte_mean": round(float(np.mean(bpb)), 4),
                "test_bits_per_byte_std": round(float(np.std(bpb, ddof=1)) if len(bpb) > 1 else 0.0, 4),
                "test_bits_per_byte_each": " / ".join(f"{b:.4f}" for b in bpb),
                "final_train_loss_mean": round(float(np.mean([r["final_train_loss_nats"] for r in runs])), 3),
            })  # fmt: skip
            print(rows[-1], flush=True)
    return fill_columns(rows)


def _step_flops(model: WordPooledLM, wcfg: WordLMConfig, table: np.ndarray) -> float:
    """Training FLOPs of one step of the pooled byte LM ``model`` on the first batch of the word ``table``."""
    batch = torch.from_numpy(table[: wcfg.batch * wcfg.context].astype(np.int64))
    return _train_flops(model, batch.reshape(wcfg.batch, wcfg.context, -1))


def patch_rows(corpus: Path, quick: bool) -> list[dict]:
    """Patch sizes on 64 KiB of held-out text: BLT entropy patches from the byte LM of ``lm_rows`` (same seed,
    data and steps), at global and relative thresholds, beside MegaByte's fixed patches."""
    train, test, cfg = _lm_data(corpus, quick)
    _, byte_lm = _lm_row("bytes", tokzoo.create("text-bytes"), train, test, cfg)
    data = test.encode()[: 64 << 10]
    entropies = next_token_entropies(byte_lm, list(data))
    rows = [{"patching": f"(next-byte entropy: mean {entropies.mean():.2f}, median {np.median(entropies):.2f} bits)",
             "bytes_per_patch": ""}]  # fmt: skip
    for mode, thresholds in (("global", (2.0, 3.0, 4.0, 5.0)), ("relative", (0.5, 1.0, 2.0))):
        for t in thresholds:
            lengths = entropy_patches(entropies, t, mode)
            rows.append(
                {
                    "patching": f"BLT {mode}, θ = {t} bits",
                    "bytes_per_patch": round(len(data) / len(lengths), 3),
                }
            )
    for size in (4, 6, 8):
        rows.append(
            {
                "patching": f"MegaByte fixed {size}",
                "bytes_per_patch": round(len(data) / len(fixed_patches(len(data), size)), 3),
            }
        )
    return rows  # fmt: skip


def memory_rows(corpus: Path, quick: bool) -> list[dict]:
    """``tokzoo fit --model text-bpe --vocab 16000`` on a 1 GiB text file (256 MiB with --quick) in a child
    process: wall time and peak resident memory (fit samples 64 MiB of lines, so memory stays bounded)."""
    size = (256 if quick else 1024) << 20
    block = _read(corpus / "general/train", 32 << 20).encode()
    with tempfile.TemporaryDirectory(prefix="tokzoo-text-bench-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        with open(data / "big.txt", "wb") as f:
            for _ in range(-(-size // len(block))):
                f.write(block)
        command = [sys.executable, "-m", "tokzoo", "fit", "--model", "text-bpe", "--data", str(data),
                   "--vocab", "16000", "--out", str(Path(tmp) / "tok")]  # fmt: skip
        t0 = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        corpus_mb = (data / "big.txt").stat().st_size / 2**20
    return [{"command": "tokzoo fit --model text-bpe --vocab 16000", "corpus_MiB": round(corpus_mb),
             "sample_MiB": 64, "seconds": round(seconds, 1), "peak_rss_MiB": round(peak)}]  # fmt: skip


def _table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    rows = fill_columns(rows, "")
    keys = list(rows[0]) if rows else []
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r[k]) for k in keys) + " |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--corpus", default="data/text", help="corpus folder (built from Debian packages if missing)"
    )
    p.add_argument("--quick", action="store_true", help="smaller sweeps and fewer LM steps")
    p.add_argument("--vocab", type=int, default=4096, help="vocabulary of the domain comparison")
    p.add_argument(
        "--parts", nargs="+", default=list(PARTS), choices=list(PARTS), help="which comparisons to run"
    )
    p.add_argument(
        "--cl100k",
        default=os.environ.get("TOKZOO_CL100K"),
        help="local cl100k_base.tiktoken (sha256-checked) for the tiktoken rows; default $TOKZOO_CL100K",
    )
    p.add_argument(
        "--morph-lm",
        nargs="*",
        type=int,
        default=[1024, 4096],
        help="vocabularies of the Turkish morphology comparison that also get the LM (none: boundaries only)",
    )
    p.add_argument(
        "--morph-lm-budget",
        choices=["tokens", "bytes"],
        default="tokens",
        help="Turkish LMs: equal training tokens (default) or equal training bytes (shorter tokens, more steps)",
    )
    p.add_argument(
        "--morph-lm-seeds",
        nargs="+",
        type=int,
        default=[0],
        help="Turkish LMs: one LM per seed, mean reported",
    )
    p.add_argument(
        "--sweep-sizes",
        nargs="+",
        type=int,
        default=[4, 6, 8],
        help="patchsweep: mean bytes per patch to match",
    )
    p.add_argument(
        "--sweep-seeds", nargs="+", type=int, default=[0, 1, 2], help="patchsweep: one LM per seed"
    )
    a = p.parse_args()
    corpus = Path(a.corpus)
    if not (corpus / "manifest.json").is_file():
        build_text_corpus(corpus)
    RESULTS.mkdir(exist_ok=True)
    for part in a.parts:
        for name, title, rows in PARTS[part](corpus, a):
            write_results(name, rows)
            _table(title, rows)


PARTS = {
    "domain": lambda c, a: [("text_domain", "Domain tokenizers (KL3M claim), bytes/token on held-out text",
                             domain_rows(c, a.vocab, a.quick))],
    "turkish": lambda c, a: [("text_turkish", "Turkish man pages: vocabulary sweep", turkish_rows(c, a.quick))],
    "parity": lambda c, a: [("text_parity", "Parity on parallel text (gettext catalogues): token premium vs English",
                             parity_rows(c, a.quick, a.cl100k))],
    "parity_docs": lambda c, a: parity_docs_rows(c, a.quick, a.cl100k),
    "encoders": lambda c, a: [("text_encoders", "Encode throughput: HF tokenizers, sentencepiece, tiktoken (MB per "
                               "CPU second, one thread)", encoder_rows(c, a.quick, a.cl100k))],
    "morph": lambda c, a: [("text_morph", "Turkish morphology: boundary scores vs hunspell-tr gold, compression, "
                            "LM bits/byte", morph_rows(c, a.quick, tuple(a.morph_lm), a.morph_lm_budget,
                                                    tuple(a.morph_lm_seeds)))],
    "throughput": lambda c, a: [("text_throughput", "Throughput (MB of UTF-8 text per CPU second, one thread)",
                                 throughput_rows(c, a.quick))],
    "ca": lambda c, a: [("text_ca_bpe", "Compression-aware vs plain BPE (Python docs), equal vocabulary and LM compute",
                         ca_rows(c, a.quick))],
    "memory": lambda c, a: [("text_memory", "Fitting on a large corpus (bounded memory)", memory_rows(c, a.quick))],
    "glyph": lambda c, a: [("text_glyph", "Frozen glyph embeddings vs learned, equal LM compute", glyph_rows(c, a.quick))],
    "lm": lambda c, a: [("text_lm", "Small LM at equal compute (same steps x batch x context tokens), held-out "
                         "bits per byte", lm_rows(c, a.quick))],
    "wordpool": lambda c, a: [("text_wordpool", "Word-pooled byte LM (Learn Your Tokens) vs BPE-4k LM, held-out "
                               "bits per byte", wordpool_rows(c, a.quick))],
    "patches": lambda c, a: [("text_patches", "Patch sizes on held-out text (entropies from the byte LM)",
                              patch_rows(c, a.quick))],
    "patchablation": lambda c, a: [("text_patch_ablation", "BLT's encoder pieces one at a time on fixed 4-byte "
                                    "patches, held-out bits per byte", patch_ablation_rows(c, a.quick))],
    "patchsweep": lambda c, a: [("text_patchsweep", "Patchings at matched mean patch size and equal LM compute "
                                 "(BLT encoder), held-out bits per byte over seeds",
                                 patchsweep_rows(c, a.quick, tuple(a.sweep_sizes), tuple(a.sweep_seeds)))],
    "patchlm": lambda c, a: [("text_patchlm", "Patch-level byte LM on words, BLT entropy patches and MegaByte "
                              "fixed patches, held-out bits per byte", patchlm_rows(c, a.quick))],
}  # fmt: skip


if __name__ == "__main__":
    main()
