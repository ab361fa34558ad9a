"""`tokzoo encode/decode` on SVG through the tokenizer's load_file/save_file hooks."""

import pytest
import torch

import tokzoo
from tokzoo.cli import main
from tokzoo.core.tokens import Tokens

ICONS = [
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M2 2h20v20H2z" fill="#4caf50"/>'
    '<circle cx="12" cy="12" r="5" fill="#fff" stroke="#222" stroke-width="1.5"/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M2 2h20v20H2z" fill="#4caf50"/>'
    '<path d="M6 12l4 4 8-8" fill="none" stroke="#fff" stroke-width="2"/></svg>',
]


@pytest.fixture
def ckpt(tmp_path):
    tok = tokzoo.create("svg-hivg-256", num_segments=64)
    tok.fit(ICONS)
    return str(tok.save_pretrained(tmp_path / "model"))


def test_encode_decode_round_trip(ckpt, tmp_path, capsys):
    icon = tmp_path / "icon.svg"
    icon.write_text(ICONS[1])
    assert main(["encode", str(icon), "--model", ckpt]) == 0
    assert "tokens" in capsys.readouterr().out
    tokens = Tokens.load(tmp_path / "icon.tok")
    assert tokens.meta["tokenizer"] == "svg-hivg-256" and tokens.meta["source"] == "icon.svg"
    assert main(["decode", str(tmp_path / "icon.tok"), "--model", ckpt]) == 0
    out = (tmp_path / "icon_rec.svg").read_text()
    model = tokzoo.load(ckpt)
    assert out == model.decode(tokens)[0] == model.decode(model.encode(icon))[0]
    assert icon.read_text() == ICONS[1]


@pytest.mark.parametrize(
    ("name", "content", "extra", "match"),
    [
        ("icon.png", ICONS[0], [], "reads .svg files"),
        ("icon.svg", ICONS[0], ["--size", "32"], "tokenizers only, not to svg"),
        ("bad.svg", "<svg", [], "malformed XML"),
    ],
)
def test_encode_errors_are_one_line(ckpt, tmp_path, capsys, name, content, extra, match):
    path = tmp_path / name
    path.write_text(content)
    assert main(["encode", str(path), "--model", ckpt, *extra]) == 2
    assert match in capsys.readouterr().err


def test_decode_bad_tokens_names_the_position(ckpt, tmp_path, capsys):
    model = tokzoo.load(ckpt)
    ids = model.encode(ICONS[0]).sample(0).tolist()
    bad = [ids[0], model.atom_vocab.value(0), *ids[1:]]  # a number where a whole unit must start
    Tokens.from_ids(torch.tensor([bad]), model.vocab_size, meta={"tokenizer": "svg-hivg-256"}).save(
        tmp_path / "bad.tok"
    )
    assert main(["decode", str(tmp_path / "bad.tok"), "--model", ckpt]) == 2
    assert "token 1:" in capsys.readouterr().err
