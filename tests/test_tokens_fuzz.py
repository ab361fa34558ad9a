"""Fuzzing the .tok decoder: random bytes and mutated valid containers raise only TokFormatError."""

import json
import zlib

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tokzoo.core.errors import TokFormatError
from tokzoo.core.tokens import MAGIC, Tokens

VALID = [
    Tokens.from_ids(torch.tensor([[1, 2, 3], [4, 0, 2]]), 5, meta={"tokenizer": "x", "level": 2}).to_bytes(),
    Tokens(torch.tensor([[7, 1000, 3, 0]]), torch.tensor([3]), 5279, "seq1d", (), {"grid": 256}).to_bytes(),
    Tokens.from_ids(torch.zeros(0, 4, dtype=torch.long), 2**40, "grid2d", (2, 2)).to_bytes(),
]


def _decode(data: bytes) -> None:
    try:
        tokens = Tokens.from_bytes(data)
    except TokFormatError:
        return
    assert Tokens.from_bytes(tokens.to_bytes()).equal(tokens)  # whatever is accepted is a consistent batch


def _reseal(body: bytes) -> bytes:
    """Fix the CRC so that the mutation reaches the header and payload checks."""
    return body + zlib.crc32(body).to_bytes(4, "little")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.binary(max_size=60).map(lambda b: MAGIC + b"\x01" + b))
def test_random_bytes(data):
    _decode(data)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_containers(data):
    raw = bytearray(data.draw(st.sampled_from(VALID)))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["flip", "cut", "dup"]))
        if op == "flip":
            raw[i] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "cut":
            del raw[i : i + data.draw(st.integers(1, 8))]
        else:
            raw[i:i] = raw[i : i + data.draw(st.integers(1, 8))]
    _decode(bytes(raw))
    if len(raw) > 4:
        _decode(_reseal(bytes(raw[:-4])))


@settings(max_examples=200, deadline=None)
@given(
    field=st.sampled_from(["vocab_size", "layout", "shape", "meta", "lengths", "payload_bits", "L_max"]),
    value=st.one_of(
        st.integers(-(2**70), 2**70),
        st.text(max_size=5),
        st.none(),
        st.booleans(),
        st.floats(),
        st.lists(st.integers(-3, 2**40), max_size=4),
        st.dictionaries(st.text(max_size=3), st.integers()),
    ),
)
def test_header_fields_of_any_type(field, value):
    good = VALID[0]
    head_len = int.from_bytes(good[5:9], "little")
    header = json.loads(good[9 : 9 + head_len])
    header[field] = value
    head = json.dumps(header).encode()
    body = good[:5] + len(head).to_bytes(4, "little") + head + good[9 + head_len : -4]
    _decode(_reseal(body))
