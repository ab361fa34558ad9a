"""Text tokenizers (tokzoo.text): exact round trips, fit -> save -> load, custom tokens, sampling, CLI errors."""

import string
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tokzoo
from tokzoo.cli import main
from tokzoo.core.errors import ConfigError, DataError
from tokzoo.core.tokens import Tokens
from tokzoo.text import TextInputError
from tokzoo.text.sample import sample_corpus

CORPUS = (
    "The licensee shall notify the licensor within thirty days of any breach of this agreement.\n"
    "Çocuklar bahçede oynuyorlar ve kitaplarını okuyorlar.\n"
    "Le café est très naïve; 東京は大きい 🙂🙂 — emoji and combining e\u0301.\n"
) * 20
#: Letters, digits, accents, combining marks, CJK, emoji and controls: what the round trips are tried on.
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(string.printable + "çğışöüÇĞİŞÖÜé\u0301\u0308東京🙂👍🏽§\u200d\t\r\x00"),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=60,
)


@pytest.fixture(scope="module")
def fitted():
    """One fitted model per algorithm (small vocabularies, fitted on CORPUS's lines)."""
    models = {}
    for name, vocab in (
        ("text-bpe", 400),
        ("text-bpe-ca", 400),
        ("text-unigram", 400),
        ("text-wordpiece", 700),
    ):
        model = tokzoo.create(name, vocab=vocab, custom_tokens=("§", "et al."))
        model.fit(CORPUS.splitlines(keepends=True))
        models[name] = model
    return models


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_bytes_round_trip_any_bytes(data):
    model = tokzoo.create("text-bytes")
    tokens = model.encode([data])
    assert tokens.num_tokens == len(data) and model.decode_bytes(tokens) == [data]
    assert model.decode(tokens)[0].encode("utf-8", "surrogateescape") == data


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_bytes_round_trip_text(text):
    model = tokzoo.create("text-bytes")
    assert model.decode(model.encode(text)) == [text]


@settings(max_examples=60, deadline=None)
@given(TEXT)
def test_subword_round_trip_exact(fitted, text):
    for model in fitted.values():
        tokens = model.encode([text, text + " et al. § ç"])
        assert model.decode(tokens) == [text, text + " et al. § ç"]


def test_custom_tokens_are_one_token_and_do_not_collide(fitted):
    """'§' is a custom token and also a byte-level character (byte 0xA7, the second byte of 'ç')."""
    for model in fitted.values():
        ids = model.encode("§").sample(0).tolist()
        assert ids == [model.vocab_size - 2]
        assert model.decode(model.encode("ç§ç")) == ["ç§ç"]


def test_fit_learns_and_compresses(fitted):
    line = CORPUS.splitlines()[0]
    for name, model in fitted.items():
        unfitted = tokzoo.create(name, vocab=model.vocab_size, custom_tokens=("§", "et al."))
        assert model.encode(line).num_tokens < 0.75 * unfitted.encode(line).num_tokens, name


def test_fit_save_load_same_ids_and_tok(fitted, tmp_path):
    for name, model in fitted.items():
        tokens = model.encode(list(CORPUS.splitlines()[:3]))
        loaded = tokzoo.load(model.save_pretrained(tmp_path / name))
        assert loaded.encode(list(CORPUS.splitlines()[:3])).equal(tokens)
        back = Tokens.from_bytes(tokens.to_bytes())
        assert back.equal(tokens) and back.nbits() == tokens.nbits()
        assert loaded.decode(back) == CORPUS.splitlines()[:3]


def test_nfkc_is_reported_and_kl3m_vocab_is_a_power_of_two():
    model = tokzoo.create("text-kl3m")
    tokens = model.encode(["ﬁne ①", "plain"])
    assert tokens.meta["normalized"] == [True, False]
    assert model.decode(tokens) == ["fine 1", "plain"]
    assert tokens.nbits() == 15 * tokens.num_tokens
    with pytest.raises(ConfigError, match="power of two"):
        tokzoo.create("text-kl3m", vocab=30000)


def test_char_variant_tokens_are_at_most_four_bytes():
    model = tokzoo.create("text-kl3m-char", vocab=512)
    model.fit(CORPUS.splitlines())
    ids = model.encode(CORPUS.splitlines()[0]).sample(0).tolist()
    assert max(len(model.decode_ids([i])) for i in ids) <= 4


def test_bad_config_and_input():
    with pytest.raises(ConfigError, match="vocab"):
        tokzoo.create("text-bpe", vocab=100)
    with pytest.raises(ConfigError, match="algorithm"):
        tokzoo.create("text-bpe", algorithm="spm")
    with pytest.raises(TextInputError, match="not UTF-8"):
        tokzoo.create("text-bpe").encode(b"caf\xe9")
    with pytest.raises(ConfigError, match="variable-length"):
        tokzoo.create("text-bytes").encode("x", num_tokens=3)
    with pytest.raises(DataError, match="empty corpus"):
        tokzoo.create("text-bpe").fit(["", "  \n"])


def test_sampling_is_bounded_and_spread(tmp_path):
    for i in range(4):
        (tmp_path / f"{i}.txt").write_text("".join(f"file {i} line {j}\n" for j in range(2000)))
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01binary")
    files = sorted(tmp_path.glob("*.txt"))
    sample = sample_corpus(files, 20_000, seed=1)
    assert 10_000 < sample.bytes_kept <= 40_000 and sample.binary_files == 1
    assert {line.split()[1] for line in sample.lines} == {"0", "1", "2", "3"}
    assert sample_corpus(files, 20_000, seed=1).lines == sample.lines


def test_cli_fit_encode_decode(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(CORPUS)
    src = tmp_path / "doc.txt"
    src.write_text(CORPUS.splitlines()[1] + "\n")
    assert (
        main(
            [
                "fit",
                "--model",
                "text-bpe",
                "--data",
                str(corpus),
                "--vocab",
                "500",
                "--out",
                str(tmp_path / "tok"),
            ]
        )
        == 0
    )
    assert main(["encode", str(src), "--model", str(tmp_path / "tok"), "-o", str(tmp_path / "d.tok")]) == 0
    assert (
        main(
            [
                "decode",
                str(tmp_path / "d.tok"),
                "--model",
                str(tmp_path / "tok"),
                "-o",
                str(tmp_path / "o.txt"),
            ]
        )
        == 0
    )
    assert (tmp_path / "o.txt").read_bytes() == src.read_bytes()
    assert Tokens.load(tmp_path / "d.tok").vocab_size == 500


@pytest.mark.parametrize(
    ("content", "command", "message"),
    [
        (b"", "fit", "empty corpus"),
        (b"\x7fELF\x00\x01", "encode", "binary file"),
        (b"caf\xe9\n", "encode", "not UTF-8"),
    ],
)
def test_cli_bad_input_one_line(tmp_path, capsys, content, command, message):
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "bad.txt"
    path.write_bytes(content)
    if command == "fit":
        argv = ["fit", "--model", "text-bpe", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "o")]
    else:
        argv = ["encode", str(path), "--model", "text-bpe", "-o", str(tmp_path / "x.tok")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_cli_vocab_refused_where_it_does_not_apply(tmp_path, capsys):
    assert (
        main(
            [
                "fit",
                "--model",
                "svg-hivg-256",
                "--vocab",
                "10",
                "--data",
                str(tmp_path),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "--vocab applies to" in capsys.readouterr().err


def test_unused_ids_are_refused():
    model = tokzoo.create("text-bpe", vocab=1000)
    with pytest.raises(DataError, match="not in the learned vocabulary"):
        model.decode(Tokens.from_ids(torch.tensor([[900]]), 1000))


def test_paths_are_read(tmp_path):
    path = Path(tmp_path / "x.txt")
    path.write_bytes("naïve\n".encode())
    assert tokzoo.create("text-bytes").decode(tokzoo.create("text-bytes").encode(path)) == ["naïve\n"]


def test_cli_eval_on_text_files(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text(CORPUS)
    (tmp_path / "d" / "b.txt").write_bytes(b"\xff\xfe")
    out = tmp_path / "m.json"
    assert main(["eval", "--model", "text-bpe", "--data", str(tmp_path / "d"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "bytes_per_token" in printed and "failed b.txt at encode" in printed and out.is_file()


def test_malformed_pipeline_in_checkpoint_is_refused(tmp_path):
    from safetensors.torch import load_file, save_file

    from tokzoo.core.errors import CheckpointError

    folder = tokzoo.create("text-bpe", vocab=300).save_pretrained(tmp_path / "ckpt")
    state = load_file(folder / "model.safetensors")
    state["pipeline_json"] = torch.frombuffer(bytearray(b'{"not": "a pipeline"}'), dtype=torch.uint8)
    save_file(state, folder / "model.safetensors")
    with pytest.raises(CheckpointError):
        tokzoo.load(folder)
