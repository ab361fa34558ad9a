"""The Morfessor-style segmenter: the cost falls, shared suffixes are found, segmentation is a partition of the
word, the lexicon round-trips through JSON, bad input is refused."""

import itertools
import json

import pytest

from tokzoo.core.errors import DataError
from tokzoo.text.morfessor import MorphLexicon, _Costs, _letter_costs, fit_morphs

STEMS = ["kitap", "ev", "araba", "okul", "masa", "kalem", "bahçe", "deniz", "gemi", "yol", "şehir", "köprü"]
SUFFIXES = ["", "lar", "ler", "da", "de", "dan", "den", "ım", "in", "ı", "i", "a", "e"]
WORDS = [s + x for s in STEMS for x in SUFFIXES]


def test_learns_the_shared_suffixes():
    lex = fit_morphs(WORDS)
    assert lex.segment("gemiler") == ["gemi", "ler"]
    cut_at_stem = [
        len(stem) in itertools.accumulate(len(p) for p in lex.segment(stem + suffix))
        for stem in STEMS
        for suffix in SUFFIXES
        if suffix
    ]
    assert sum(cut_at_stem) > 0.5 * len(cut_at_stem)  # 0.62 here; a random cut would be right 1 time in ~6
    assert len(lex.counts) < len(set(WORDS)) / 2  # a lexicon far smaller than the word list


def test_cost_is_lower_than_the_whole_words_lexicon():
    letters = _letter_costs(WORDS)
    whole = _Costs(letters)
    for w in WORDS:
        whole.add(w, 1)
    learned = _Costs(letters)
    lex = fit_morphs(WORDS)
    for w in WORDS:
        for m in lex.segment(w):
            learned.add(m, 1)
    assert learned.total() < whole.total()


@pytest.mark.parametrize("word", ["kitaplardan", "xyz", "q", "", "ağaçlarımızdan", "a" * 80])
def test_segments_partition_the_word(word):
    pieces = fit_morphs(WORDS).segment(word)
    assert "".join(pieces) == word and all(pieces if word else [pieces == [""]])


def test_corpus_weight_moves_the_granularity():
    fine, coarse = fit_morphs(WORDS, corpus_weight=0.2), fit_morphs(WORDS, corpus_weight=5.0)
    assert sum(len(fine.segment(w)) for w in WORDS) > sum(len(coarse.segment(w)) for w in WORDS)


def test_save_load_and_bad_files(tmp_path):
    lex = fit_morphs(WORDS, seed=3)
    lex.save(tmp_path / "m.json")
    back = MorphLexicon.load(tmp_path / "m.json")
    assert [back.segment(w) for w in WORDS] == [lex.segment(w) for w in WORDS]
    (tmp_path / "bad.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(DataError, match=r"bad\.json: cannot read a morph lexicon"):
        MorphLexicon.load(tmp_path / "bad.json")
    (tmp_path / "neg.json").write_text(
        json.dumps({"format": "tokzoo-morphs", "counts": {"a": 0}, "letter_cost": {"\0": 1.0}})
    )
    with pytest.raises(DataError, match="malformed"):
        MorphLexicon.load(tmp_path / "neg.json")
    with pytest.raises(DataError, match="no words"):
        fit_morphs(["", "x" * 100])
    with pytest.raises(ValueError, match="corpus_weight"):
        fit_morphs(WORDS, corpus_weight=0)


def test_segment_cased_cuts_the_written_word_where_its_lower_case_is_cut():
    lex = fit_morphs(WORDS)
    assert "".join(lex.segment_cased("GEMİLER")) == "GEMİLER"
    assert lex.segment_cased("Gemiler") == ["Gemi", "ler"]


def test_morfessor_split_bpe_learns_morphs_never_crosses_them_and_saves_them(tmp_path):
    """split="morfessor": fit learns the lexicon first, BPE never merges across a morph cut, and the lexicon
    travels in the checkpoint (the loaded tokenizer gives the same ids without refitting)."""
    import tokzoo
    from tokzoo.text.turkish import morph_pieces

    lines = [" ".join(WORDS) + "\n"] * 20
    model = tokzoo.create("text-bpe", vocab=400, split="morfessor")
    with pytest.raises(DataError, match="needs fit"):
        model.encode(["gemiler"])
    report = model.fit(lines)
    assert 0 < report["morphs"] < len(WORDS)
    text = " Gemilerden okullarda evde"
    ids = model.encode_texts([text])[0]
    pieces = [model.pieces[i] for i in ids]
    assert b"".join(pieces).decode() == text
    ends = set(itertools.accumulate(len(p) for p in pieces))
    cuts = set(itertools.accumulate(len(p.encode()) for p in morph_pieces(text, model._morphs.segment_cased)))
    assert cuts <= ends and len(cuts) > 3  # morph cuts exist and every one is a token boundary
    model.save_pretrained(tmp_path / "m")
    again = tokzoo.load(tmp_path / "m")
    assert again.encode_texts([text])[0].tolist() == ids.tolist()
