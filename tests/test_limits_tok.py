"""``.tok`` headers are checked against the resource limits and the payload before anything is allocated."""

from __future__ import annotations

import json
import zlib

import pytest
import torch

from tokzoo.core.errors import LimitError, TokFormatError
from tokzoo.core.tokens import MAGIC, Tokens


def container(header: dict, payload: bytes = b"", version: int = 1) -> bytes:
    head = json.dumps(header).encode()
    body = MAGIC + bytes([version]) + len(head).to_bytes(4, "little") + head + payload
    return body + zlib.crc32(body).to_bytes(4, "little")


def header(**changes) -> dict:
    base = {"vocab_size": 1, "layout": "seq1d", "shape": [], "meta": {}, "lengths": [0], "payload_bits": 0}
    return {**base, "L_max": 0, **changes}


def test_huge_l_max_with_a_valid_checksum_is_refused_before_allocating(tmp_path):
    data = container(header(L_max=2**31 - 1))
    assert len(data) < 200
    path = tmp_path / "bomb.tok"
    path.write_bytes(data)
    with pytest.raises(
        LimitError, match=r"bomb\.tok: .*ids \(batch size x L_max\) 2,147,483,647 exceeds .*tok_ids"
    ):
        Tokens.load(path)


def test_zero_bit_ids_cannot_ask_for_a_huge_matrix():
    with pytest.raises(LimitError, match="tok_ids"):  # vocabulary 1: every id costs 0 payload bits
        Tokens.from_bytes(container(header(lengths=[2**30], L_max=2**30)))


def test_values_are_bounded_with_their_channels():
    values = {"dtype": "float16", "channels": 2**20}
    with pytest.raises(LimitError, match=r"values \(batch x L_max x channels\)"):
        Tokens.from_bytes(container(header(lengths=[0], L_max=2**10, values=values), version=2))


def test_payload_shorter_than_the_header_says_is_refused():
    data = container(header(vocab_size=256, lengths=[4], L_max=4, payload_bits=32), b"\x01\x02")
    with pytest.raises(TokFormatError, match="payload"):
        Tokens.from_bytes(data)


def test_limit_can_be_raised(monkeypatch):
    tokens = Tokens.from_ids(torch.zeros((1, 64), dtype=torch.int64), 1)
    monkeypatch.setenv("TOKZOO_LIMIT_TOK_IDS", "10")
    with pytest.raises(LimitError):
        Tokens.from_bytes(tokens.to_bytes())
    monkeypatch.setenv("TOKZOO_LIMIT_TOK_IDS", "64")
    assert Tokens.from_bytes(tokens.to_bytes()).equal(tokens)


def test_file_size_is_checked_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.tok"
    path.write_bytes(Tokens.from_ids(torch.zeros((1, 64), dtype=torch.int64), 1).to_bytes())
    monkeypatch.setenv("TOKZOO_LIMIT_TOK_BYTES", "10")
    with pytest.raises(LimitError, match=r"big\.tok: file size in bytes .* exceeds the limit tok_bytes=10"):
        Tokens.load(path)
