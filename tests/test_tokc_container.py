"""The ``.tokc`` container's binary header: small, exact, bounded, and version-1 files still decode."""

import contextlib
import json
import zlib

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tokzoo.core.errors import TokFormatError, TokLimitError
from tokzoo.core.tokens import Tokens
from tokzoo.prior.container import MAGIC, coded_size, compress, decompress, header_size
from tokzoo.prior.unigram import AdaptiveUnigram


def _grid(batch: int = 1) -> Tokens:
    g = torch.Generator().manual_seed(0)
    return Tokens.from_ids(torch.randint(0, 1000, (batch, 256), generator=g), 1000, "grid2d", (16, 16))


def test_header_of_one_image_is_a_few_dozen_bytes():
    data, nbits = compress(_grid(), AdaptiveUnigram(1000))
    name = len("unigram-adaptive")
    assert header_size(data) <= 21 + name  # the version-1 JSON header of the same file: 138 bytes
    assert len(data) == coded_size(header_size(data), nbits)
    assert len(data) - -(-nbits // 8) <= 31 + name  # all the overhead: magic, version, header, CRC32


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 40), min_size=1, max_size=5),
    vocab=st.integers(2, 70_000),
    meta=st.dictionaries(st.text(max_size=5), st.integers(-9, 9) | st.text(max_size=8), max_size=3),
)
def test_round_trip_of_any_batch(lengths, vocab, meta):
    l_max = max(lengths)
    ids = torch.randint(0, vocab, (len(lengths), l_max))
    for i, n in enumerate(lengths):
        ids[i, n:] = 0
    tokens = Tokens(ids, torch.tensor(lengths), vocab, "seq1d", (), meta)
    data, nbits = compress(tokens, AdaptiveUnigram(vocab))
    assert decompress(data, AdaptiveUnigram(vocab)).equal(tokens)
    assert len(data) == coded_size(header_size(data), nbits)


def _sealed(body: bytes) -> bytes:
    return body + zlib.crc32(body).to_bytes(4, "little")


def test_version_1_files_still_decode():
    tokens = _grid(2)
    v2, nbits = compress(tokens, AdaptiveUnigram(1000))
    payload = v2[6 + header_size(v2) : -4]  # the header's length is a one-byte varint here
    header = {
        "vocab_size": 1000, "layout": "grid2d", "shape": [16, 16], "meta": {}, "lengths": [256, 256],
        "L_max": 256, "payload_bits": nbits, "model": "unigram-adaptive",
    }  # fmt: skip
    head = json.dumps(header).encode()
    v1 = _sealed(MAGIC + bytes([1]) + len(head).to_bytes(4, "little") + head + payload)
    assert decompress(v1, AdaptiveUnigram(1000)).equal(tokens)


def test_hostile_header_is_refused_before_allocating():
    head = b"".join([bytes([0xE8, 0x07]), b"\x06grid2d", b"\x00", b"\xff\xff\xff\xff\x07", b"\xff\xff\x03"])
    data = _sealed(MAGIC + bytes([2, len(head)]) + head)
    with pytest.raises(TokLimitError, match="tok_ids"):
        decompress(data, AdaptiveUnigram(1000))


def test_damage_gives_one_format_error():
    data, _ = compress(_grid(), AdaptiveUnigram(1000))
    with pytest.raises(TokFormatError, match="version 3"):
        decompress(_sealed(MAGIC + bytes([3]) + data[5:-4]), AdaptiveUnigram(1000))
    with pytest.raises(TokFormatError, match="truncated"):
        decompress(_sealed(MAGIC + bytes([2, 100]) + data[6:20]), AdaptiveUnigram(1000))
    with pytest.raises(TokFormatError, match="bad magic"):
        decompress(b"TOK", AdaptiveUnigram(1000))


@settings(max_examples=200, deadline=None)
@given(pos=st.integers(0, 40), byte=st.integers(0, 255))
def test_mutated_headers_raise_only_format_errors(pos, byte):
    """Any byte of the header changed (and the CRC recomputed): a clean TokFormatError or a valid decode."""
    data, _ = compress(_grid(), AdaptiveUnigram(1000))
    body = bytearray(data[:-4])
    if pos >= len(body):
        return
    body[pos] = byte
    with contextlib.suppress(TokFormatError):  # anything else (IndexError, MemoryError, ...) fails the test
        decompress(_sealed(bytes(body)), AdaptiveUnigram(1000))
