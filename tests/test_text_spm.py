"""sentencepiece tokenizers (text-sp-unigram / text-sp-bpe): exact round trips, fit -> save -> load, bad input."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tokzoo
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.text.source import TextInputError

LINES = ["the licensee shall notify the licensor within thirty days\n", "Çocuklar bahçede oynuyorlar.\n"] * 40


@pytest.fixture(scope="module", params=["text-sp-unigram", "text-sp-bpe"])
def fitted(request):
    model = tokzoo.create(request.param, vocab=300)
    model.fit(LINES)
    return model


def test_fit_compresses_and_reloads(fitted, tmp_path):
    text = "the licensee shall notify the licensor"
    tokens = fitted.encode([text])
    assert int(tokens.lengths[0]) < 0.7 * len(text.encode()) and tokens.vocab_size == 300
    fitted.save_pretrained(tmp_path / "m")
    again = tokzoo.load(tmp_path / "m")
    assert again.encode([text]).ids.tolist() == tokens.ids.tolist() and again.decode(tokens) == [text]


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=st.characters(blacklist_characters="\u2581", blacklist_categories=("Cs",)), max_size=40)
)
def test_round_trip_exact(fitted, text):
    tokens = fitted.encode([text])
    assert fitted.decode(tokens) == [text]
    assert int(fitted.token_lengths(tokens.sample(0).tolist()).sum()) == len(text.encode())


def test_unfitted_is_bytes_and_bad_input():
    model = tokzoo.create("text-sp-bpe", vocab=512)
    assert model.encode(["é"]).sample(0).tolist() == [0xC3 + 1, 0xA9 + 1]
    with pytest.raises(TextInputError, match="U\\+2581"):
        model.encode(["a\u2581b"])
    with pytest.raises(DataError, match="empty corpus"):
        model.fit(["  \n", ""])
    with pytest.raises(ConfigError, match="model_type"):
        tokzoo.create("text-sp-bpe", model_type="wordpiece")
