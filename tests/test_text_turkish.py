"""Turkish morphology: the Hunspell reader, the suffix splitter, the morph-tr pre-split of BPE, MorphScore."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tokzoo
from tokzoo.core.errors import DataError
from tokzoo.text.hunspell import Hunspell
from tokzoo.text.metrics import boundary_scores, morph_score
from tokzoo.text.turkish import gold_morphs, gold_words, morph_pieces, split_word

AFF = (
    "SET UTF-8\nFLAG num\n\nSFX 1 N 1\nSFX 1 0 ler .\n\nSFX 2 N 1\nSFX 2 0 de .\n\nSFX 3 N 1\nSFX 3 k ğı k\n"
)
DIC = "4\nev/1,2\nevler/2\nkitap\nçocuk/3\n"


@pytest.fixture
def dictionary(tmp_path):
    (tmp_path / "t.aff").write_text(AFF, "utf-8")
    (tmp_path / "t.dic").write_text(DIC, "utf-8")
    return Hunspell.read(tmp_path / "t.aff", tmp_path / "t.dic")


def test_hunspell_analyses_and_gold(dictionary):
    assert dictionary.analyses("evlerde") == [("evler", "de")]
    assert dictionary.analyses("evde") == [("ev", "de")]
    assert dictionary.analyses("kitapde") == []  # kitap has no flag 2
    # strip + condition: çocuk -> çocuğı (strip k, add ğı, stem ends in k); the surface base is "çocu"
    assert dictionary.analyses("çocuğı") == [("çocu", "ğı")]
    assert gold_morphs(dictionary, "evlerde") == ["evler", "de"]
    assert gold_morphs(dictionary, "kitap") is None
    assert gold_words(dictionary, "Evlerde evlerde kitap evde.") == {
        "evlerde": ["evler", "de"],
        "evde": ["ev", "de"],
    }


@pytest.mark.parametrize(
    ("aff", "dic", "message"),
    [
        ("PFX A Y 1\nPFX A 0 re .\n", "1\nev\n", "t.aff:1: prefix rules"),
        ("SET ISO8859-9\n", "1\nev\n", "only SET UTF-8"),
        (AFF, "ev/1\n", "t.dic:1: expected the number"),
        ("SFX 1 N 1\nSFX 1 0 de [\n", "1\nev\n", "bad condition"),
    ],
)
def test_hunspell_bad_files_name_file_and_line(tmp_path, aff, dic, message):
    (tmp_path / "t.aff").write_text(aff, "utf-8")
    (tmp_path / "t.dic").write_text(dic, "utf-8")
    with pytest.raises(DataError, match=message):
        Hunspell.read(tmp_path / "t.aff", tmp_path / "t.dic")


def test_split_word_known_values():
    assert split_word("evlerde") == ["ev", "lerde"]
    assert split_word("kitaplarımızdan") == ["kitap", "lar", "ımız", "dan"]
    assert split_word("kitap") == ["kitap"]
    assert split_word("de") == ["de"]  # no base of two letters with a vowel would remain
    assert split_word("İZMİRDE") == ["İZMİR", "DE"]  # Turkish casing: İ -> i keeps the length


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("abçdeğıiİoöşuü lrmnkt .\n1"), max_size=60))
def test_morph_pieces_concatenate_to_the_text(text):
    pieces = morph_pieces(text)
    assert "".join(pieces) == text
    assert all(pieces) or pieces == [""]


def test_morph_score_and_byte_pieces():
    gold = [[b"ev", b"de"], [b"kitap", b"lar"], [b"okul", b"a"]]
    pred = [[b"e", b"vde"], [b"kitap", b"lar"], [b"okula"]]
    s = morph_score(gold, pred)
    assert (s.scored, s.kept_whole, s.score) == (2, 1, 0.5)
    assert boundary_scores(gold, pred).micro_recall == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="two or more morphs"):
        morph_score([[b"ev"]], [[b"e", b"v"]])


def test_morph_tr_bpe_never_crosses_a_suffix_cut(tmp_path):
    lines = ["evlerde kitaplarımızdan okullarda evde kitapta\n"] * 50
    model = tokzoo.create("text-bpe", vocab=300, split="morph-tr")
    model.fit(lines)
    text = " kitaplarımızdan evlerde"
    ids = model.encode_texts([text])[0]
    pieces = [model.pieces[i] for i in ids]
    assert b"".join(pieces).decode() == text and model.decode(model.encode([text])) == [text]
    ends, at = set(), 0
    for p in pieces:
        at += len(p)
        ends.add(at)
    cuts, at = set(), 0
    for p in morph_pieces(text):
        at += len(p.encode())
        cuts.add(at)
    assert cuts <= ends  # every suffix cut is a token boundary
    model.save_pretrained(tmp_path / "m")
    again = tokzoo.load(tmp_path / "m")
    assert again.encode_texts([text])[0].tolist() == ids.tolist()
