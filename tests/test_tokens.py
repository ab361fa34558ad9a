"""Tests of the bit packer and of ``Tokens`` with its ``.tok`` container."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tokzoo.core.bitpack import group_size, pack_ids, sequence_bits, unpack_ids
from tokzoo.core.errors import TokFormatError
from tokzoo.core.tokens import Tokens

VOCABS = [1, 2, 3, 5, 7, 255, 256, 1000, 4096, 2**16 + 1, 2**24, 2**32 + 1, 2**40 + 7, 2**63, 2**64]


def reference_pack(seqs: list[list[int]], vocab: int) -> tuple[bytes, int]:
    """The packing format written out with Python ints, one id at a time."""
    g = group_size(vocab)
    acc, nbits = 0, 0
    for seq in seqs:
        for start in range(0, len(seq), g):
            group = seq[start : start + g]
            width = (vocab ** len(group) - 1).bit_length()
            acc = (acc << width) | sum(x * vocab**j for j, x in enumerate(group))
            nbits += width
    pad = -nbits % 8
    return (acc << pad).to_bytes((nbits + pad) // 8, "big"), nbits


def random_ids(rng: np.random.Generator, n: int, vocab: int) -> np.ndarray:
    """Ids in [0, vocab) that fit int64, with the extreme ids made likely."""
    high = min(vocab, 2**63)
    ids = rng.integers(0, high, size=n, dtype=np.int64) if high < 2**63 else rng.integers(0, 2**63 - 1, n)
    ids[rng.random(n) < 0.1] = high - 1
    ids[rng.random(n) < 0.1] = 0
    return ids


@st.composite
def token_batches(draw: st.DrawFn) -> Tokens:
    vocab = draw(st.one_of(st.sampled_from([v for v in VOCABS if v <= 2**63]), st.integers(1, 2**63)))
    lengths = draw(st.lists(st.integers(0, 300), min_size=0, max_size=5))
    l_max = max(lengths, default=0) + draw(st.integers(0, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ids = torch.zeros((len(lengths), l_max), dtype=torch.int64)
    for i, n in enumerate(lengths):
        ids[i, :n] = torch.from_numpy(random_ids(rng, n, vocab))
    meta = draw(st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3))
    shape = tuple(draw(st.lists(st.integers(0, 64), max_size=3)))
    return Tokens(
        ids, torch.tensor(lengths, dtype=torch.int64), vocab, draw(st.text(max_size=8)), shape, meta
    )


@settings(max_examples=150, deadline=None)
@given(token_batches())
def test_container_round_trip_and_exact_size(tokens: Tokens) -> None:
    data = tokens.to_bytes()
    back = Tokens.from_bytes(data)
    assert back.equal(tokens) and tokens.equal(back)
    seqs = [tokens.sample(i).tolist() for i in range(len(tokens))]
    expected_payload, expected_bits = reference_pack(seqs, tokens.vocab_size)
    assert tokens.nbits() == expected_bits == sum(tokens.nbits_per_sample())
    head_len = int.from_bytes(data[5:9], "little")
    payload = data[9 + head_len : -4]
    assert payload == expected_payload
    assert len(payload) == math.ceil(tokens.nbits() / 8)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(VOCABS), st.lists(st.integers(0, 200), max_size=6), st.integers(0, 2**32 - 1))
def test_pack_matches_reference_and_inverts(vocab: int, lengths: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    seqs = [random_ids(rng, n, vocab) for n in lengths]
    payload, nbits = pack_ids(seqs, vocab)
    assert (payload, nbits) == reference_pack([s.tolist() for s in seqs], vocab)
    assert nbits == sum(sequence_bits(n, vocab) for n in lengths)
    back = unpack_ids(payload, lengths, vocab)
    assert len(back) == len(seqs)
    dtype = np.int64 if vocab <= 2**63 else np.uint64
    assert all(a.dtype == dtype for a in back)
    assert all(
        np.array_equal(a.astype(np.uint64), b.astype(np.uint64)) for a, b in zip(back, seqs, strict=True)
    )


def test_huge_vocab_keeps_ids_above_int64() -> None:
    vocab = 2**64
    ids = np.array([2**64 - 1, 0, 2**63, 12345], dtype=np.uint64)
    payload, nbits = pack_ids([ids], vocab)
    assert nbits == 4 * 64
    (back,) = unpack_ids(payload, [4], vocab)
    assert back.dtype == np.uint64 and np.array_equal(back, ids)


@pytest.mark.parametrize(
    ("vocab", "length", "bits"),
    [(4096, 32, 384), (5, 27, 63), (5, 28, 66), (1, 1000, 0), (2, 65, 65), (2**24, 3, 72), (3, 0, 0)],
)
def test_known_sizes(vocab: int, length: int, bits: int) -> None:
    assert sequence_bits(length, vocab) == bits
    tokens = Tokens.from_ids(torch.full((1, length), vocab - 1, dtype=torch.int64), vocab)
    assert tokens.nbits() == bits


def test_group_sizes() -> None:
    assert [group_size(v) for v in (1, 2, 3, 5, 2**32, 2**32 + 1, 2**64)] == [64, 64, 40, 27, 2, 1, 1]
    with pytest.raises(ValueError, match="vocab_size"):
        group_size(0)
    with pytest.raises(ValueError, match="vocab_size"):
        pack_ids([], 2**64 + 1)


def test_empty_batch_and_vocab_one() -> None:
    empty = Tokens.from_ids(torch.zeros((0, 7), dtype=torch.int64), 10)
    assert len(empty) == 0 and empty.nbits() == 0 and empty.num_tokens == 0
    assert Tokens.from_bytes(empty.to_bytes()).equal(empty)
    ones = Tokens.from_ids(torch.zeros((3, 50), dtype=torch.int64), 1)
    assert ones.nbits() == 0 and ones.bits_per_token == 0.0
    assert Tokens.from_bytes(ones.to_bytes()).equal(ones)
    assert pack_ids([], 7) == (b"", 0) and unpack_ids(b"", [], 7) == []


def small_container() -> bytes:
    ids = torch.tensor([[4, 0, 3, 1], [2, 2, 0, 0]])
    return Tokens(ids, torch.tensor([4, 2]), 5, "grid2d", (2, 2), {"m": "x"}).to_bytes()


def test_every_bit_flip_is_detected() -> None:
    data = small_container()
    for pos in range(len(data)):
        for bit in range(8):
            bad = bytearray(data)
            bad[pos] ^= 1 << bit
            with pytest.raises(TokFormatError):
                Tokens.from_bytes(bytes(bad))


def test_every_truncation_and_extension_is_detected() -> None:
    data = small_container()
    for n in range(len(data)):
        with pytest.raises(TokFormatError, match="truncated"):
            Tokens.from_bytes(data[:n])
    with pytest.raises(TokFormatError, match="truncated"):
        Tokens.from_bytes(data[:-3])
    with pytest.raises(TokFormatError):
        Tokens.from_bytes(data + b"\x00")


def test_bad_magic_and_version_messages() -> None:
    data = small_container()
    with pytest.raises(TokFormatError, match=r"not a \.tok file"):
        Tokens.from_bytes(b"PK\x03\x04" + data[4:])
    with pytest.raises(TokFormatError, match=r"version 99.*supported: 1"):
        Tokens.from_bytes(data[:4] + bytes([99]) + data[5:])
    with pytest.raises(TokFormatError, match="version 99"):  # found before the rest is looked at
        Tokens.from_bytes(b"TOKZ\x63")


def with_header(header: bytes, payload: bytes = b"") -> bytes:
    body = b"TOKZ\x01" + len(header).to_bytes(4, "little") + header + payload
    return body + zlib.crc32(body).to_bytes(4, "little")


def test_checksum_and_header_messages() -> None:
    data = bytearray(small_container())
    data[-6] ^= 0x10  # a payload bit
    with pytest.raises(TokFormatError, match="corrupted"):
        Tokens.from_bytes(bytes(data))
    with pytest.raises(TokFormatError, match=r"malformed \.tok header.*JSON"):
        Tokens.from_bytes(with_header(b"{not json"))
    with pytest.raises(TokFormatError, match=r"malformed \.tok header"):
        Tokens.from_bytes(with_header(b'{"vocab_size": 5}'))
    good = b'{"L_max":2,"layout":"seq1d","lengths":[2],"meta":{},"payload_bits":%d,"shape":[],"vocab_size":5}'
    assert Tokens.from_bytes(with_header(good % 5, b"\x00")).sample(0).tolist() == [0, 0]
    with pytest.raises(TokFormatError, match="payload_bits"):
        Tokens.from_bytes(with_header(good % 6, b"\x00"))
    with pytest.raises(TokFormatError, match="too long"):
        Tokens.from_bytes(with_header(good % 5, b"\x00\x00"))
    with pytest.raises(TokFormatError, match="padding"):
        Tokens.from_bytes(with_header(good % 5, b"\x01"))
    with pytest.raises(TokFormatError, match="outside the range"):  # 5 bits can say 31 > 5**2 - 1
        Tokens.from_bytes(with_header(good % 5, b"\xf8"))


def test_save_and_load(tmp_path) -> None:
    tokens = Tokens.from_ids(torch.arange(12).reshape(3, 4), 12, meta={"model": "m", "size": (4, 4)})
    path = tmp_path / "a.tok"
    tokens.save(path)
    tokens.save(path)  # overwrite in place
    assert [p.name for p in tmp_path.iterdir()] == ["a.tok"]
    back = Tokens.load(path)
    assert back.equal(tokens) and back.meta == {"model": "m", "size": [4, 4]}
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(TokFormatError, match=r"a\.tok: truncated"):
        Tokens.load(path)


def test_pack_validation() -> None:
    with pytest.raises(ValueError, match=r"id 5 .*\[0, 5\)"):
        pack_ids([np.array([0, 5])], 5)
    with pytest.raises(ValueError, match="id -1"):
        pack_ids([np.array([1]), np.array([-1, 2])], 5)
    with pytest.raises(ValueError, match="integers"):
        pack_ids([np.array([1.0])], 5)
    with pytest.raises(ValueError, match="1-D"):
        pack_ids([np.zeros((2, 2), dtype=np.int64)], 5)
    payload, _ = pack_ids([np.arange(10)], 16)
    with pytest.raises(TokFormatError, match="too short"):
        unpack_ids(payload[:-1], [10], 16)
    with pytest.raises(TokFormatError, match="too short"):
        unpack_ids(payload, [10, 1], 16)
    with pytest.raises(ValueError, match=">= 0"):
        unpack_ids(payload, [-1], 16)


def test_tokens_validation() -> None:
    ids = torch.tensor([[1, 2, 3], [4, 0, 0]])
    with pytest.raises(ValueError, match=r"ids must be in \[0, 5\).*got 5"):
        Tokens(torch.tensor([[1, 5]]), torch.tensor([2]), 5)
    with pytest.raises(ValueError, match="got -2"):
        Tokens(torch.tensor([[1, -2]]), torch.tensor([2]), 5)
    Tokens(torch.tensor([[1, 9]]), torch.tensor([1]), 5)  # only valid positions are checked
    with pytest.raises(ValueError, match=r"lengths must be in \[0, L_max=3\], got 4"):
        Tokens(ids, torch.tensor([4, 1]), 5)
    with pytest.raises(ValueError, match="got -1"):
        Tokens(ids, torch.tensor([3, -1]), 5)
    with pytest.raises(ValueError, match="size B=2"):
        Tokens(ids, torch.tensor([3]), 5)
    with pytest.raises(ValueError, match="2-D"):
        Tokens(torch.tensor([1, 2]), torch.tensor([2]), 5)
    with pytest.raises(ValueError, match="integer dtype"):
        Tokens(ids.float(), torch.tensor([3, 1]), 5)
    with pytest.raises(ValueError, match="vocab_size"):
        Tokens(ids, torch.tensor([3, 1]), 0)
    with pytest.raises(ValueError, match="JSON"):
        Tokens(ids, torch.tensor([3, 1]), 5, meta={"x": object()})


def test_tokens_accessors() -> None:
    ids = torch.tensor([[1, 2, 3], [4, 0, 0], [0, 0, 0]])
    tokens = Tokens(ids, torch.tensor([3, 1, 0]), 5, "seq1d", (), {"k": 1})
    assert tokens.batch_size == len(tokens) == 3 and tokens.num_tokens == 4
    assert tokens.bits_per_token == pytest.approx(math.log2(5))
    assert tokens.sample(0).tolist() == [1, 2, 3] and tokens.sample(2).tolist() == []
    assert tokens.nbits_per_sample() == [7, 3, 0] and tokens.nbits() == 10
    assert tokens[1].sample(0).tolist() == [4] and len(tokens[1]) == 1
    assert tokens[-1].lengths.tolist() == [0]
    assert tokens[::-1].lengths.tolist() == [0, 1, 3]
    assert tokens[1:].equal(Tokens(ids[1:], torch.tensor([1, 0]), 5, meta={"k": 1}))
    with pytest.raises(IndexError):
        tokens[3]
    assert tokens.to("cpu").equal(tokens)
    padded = Tokens(
        torch.tensor([[1, 2, 3, 7], [4, 9, 9, 9], [0] * 4]), torch.tensor([3, 1, 0]), 5, meta={"k": 1}
    )
    assert padded.equal(tokens)
    assert not tokens.equal(Tokens(ids, torch.tensor([3, 1, 0]), 6, meta={"k": 1}))
    assert not tokens.equal(Tokens(ids, torch.tensor([3, 1, 0]), 5, "grid2d", meta={"k": 1}))
    assert not tokens.equal(Tokens(ids, torch.tensor([3, 1, 0]), 5, meta={"k": 2}))
    assert not tokens.equal(Tokens(ids, torch.tensor([3, 2, 0]), 5, meta={"k": 1}))
    same_flat = Tokens(torch.tensor([[1, 2], [3, 0]]), torch.tensor([2, 1]), 5)
    assert not same_flat.equal(Tokens(torch.tensor([[1, 0], [2, 3]]), torch.tensor([1, 2]), 5))
    assert not tokens.equal(Tokens(torch.where(ids == 1, 2, ids), torch.tensor([3, 1, 0]), 5, meta={"k": 1}))


def test_vocab_above_int64_is_refused_by_tokens() -> None:
    with pytest.raises(ValueError, match=r"2\*\*63"):
        Tokens.from_ids(torch.zeros(1, 2, dtype=torch.int64), 2**63 + 1)


def test_header_claiming_a_huge_matrix_is_refused() -> None:
    """A crafted header (valid CRC) must not make from_bytes allocate terabytes."""
    import json
    import zlib

    good = Tokens.from_ids(torch.zeros(1, 0, dtype=torch.int64), 7).to_bytes()
    n = int.from_bytes(good[5:9], "little")
    header = json.loads(good[9 : 9 + n])
    header["L_max"] = 10**13
    head = json.dumps(header).encode()
    body = good[:5] + len(head).to_bytes(4, "little") + head + good[9 + n : -4]
    with pytest.raises(TokFormatError, match="exceeds the limit tok_ids"):
        Tokens.from_bytes(body + zlib.crc32(body).to_bytes(4, "little"))


@st.composite
def value_batches(draw: st.DrawFn) -> Tokens:
    """Continuous tokens (format version 2), sometimes with ids over a real vocabulary as well."""
    lengths = draw(st.lists(st.integers(0, 40), min_size=1, max_size=4))
    l_max = max(lengths) + draw(st.integers(0, 2))
    channels = draw(st.integers(0, 5))
    dtype = draw(st.sampled_from([torch.float16, torch.float32]))
    vocab = draw(st.sampled_from([1, 5, 256]))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31)))
    values = (torch.randn(len(lengths), l_max, channels, generator=g) * 1e3).to(dtype)
    ids = torch.randint(0, vocab, (len(lengths), l_max), generator=g)
    return Tokens(ids, torch.tensor(lengths), vocab, "grid2d", (l_max,), {"k": 1}, values)


@settings(max_examples=60, deadline=None)
@given(value_batches())
def test_values_round_trip_bit_exact_with_exact_size(tokens: Tokens) -> None:
    data = tokens.to_bytes()
    assert data[4] == 2
    back = Tokens.from_bytes(data)
    assert back.equal(tokens) and back.values.dtype == tokens.values.dtype
    width = 16 if tokens.values.dtype == torch.float16 else 32
    value_bits = tokens.num_tokens * tokens.value_channels * width
    assert tokens.nbits() == value_bits + sum(
        sequence_bits(n, tokens.vocab_size) for n in tokens.lengths.tolist()
    )
    head_len = int.from_bytes(data[5:9], "little")
    id_bytes = math.ceil((tokens.nbits() - value_bits) / 8)
    assert len(data) == 9 + head_len + id_bytes + value_bits // 8 + 4
    assert back[-1].equal(tokens[-1])


def test_values_are_part_of_equality_and_version_one_is_kept_without_them() -> None:
    values = torch.tensor([[[0.5, -1.0], [2.0, 3.0]]])
    a = Tokens.from_values(values.half(), "grid2d", (1, 2))
    assert a.vocab_size == 1 and a.nbits() == 2 * 2 * 16 and a.bits_per_token == 32
    assert not a.equal(Tokens.from_values(values, "grid2d", (1, 2)))  # float32 is another encoding
    assert not a.equal(Tokens.from_values((values + 1).half(), "grid2d", (1, 2)))
    assert not a.equal(Tokens.from_ids(torch.zeros(1, 2, dtype=torch.int64), 1, "grid2d", (1, 2)))
    assert small_container()[4] == 1  # no values: still written as format version 1
    neg_zero = Tokens.from_values(-values.half() * 0)
    assert not neg_zero.equal(Tokens.from_values(values.half() * 0))  # bit-exact, -0.0 != +0.0


def test_values_errors() -> None:
    with pytest.raises(ValueError, match="float16 or float32"):
        Tokens.from_values(torch.zeros(1, 2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"3-D \(B=1, L_max=2, C\)"):
        Tokens(torch.zeros(1, 2, dtype=torch.int64), torch.tensor([2]), 1, values=torch.zeros(1, 3, 1))
    with pytest.raises(ValueError, match="finite"):
        Tokens.from_values(torch.tensor([[[float("nan")]]]))
    padded = Tokens.from_values(torch.tensor([[[1.0], [float("inf")]]]), lengths=torch.tensor([1]))
    assert padded.nbits() == 16 * 0 + 32  # padding is neither checked nor stored


def _rewrite_header(data: bytes, change, version: int | None = None) -> bytes:
    import json

    n = int.from_bytes(data[5:9], "little")
    header = json.loads(data[9 : 9 + n])
    change(header)
    head = json.dumps(header).encode()
    prefix = data[:5] if version is None else data[:4] + bytes([version])
    body = prefix + len(head).to_bytes(4, "little") + head + data[9 + n : -4]
    return body + zlib.crc32(body).to_bytes(4, "little")


def test_value_container_damage_is_detected() -> None:
    data = Tokens.from_values(torch.randn(2, 3, 2).half(), "grid2d", (1, 3)).to_bytes()
    for n in range(len(data)):
        with pytest.raises(TokFormatError, match="truncated"):
            Tokens.from_bytes(data[:n])
    bad = bytearray(data)
    bad[-6] ^= 1
    with pytest.raises(TokFormatError, match="corrupted"):
        Tokens.from_bytes(bytes(bad))
    with pytest.raises(TokFormatError, match="'values' entry"):
        Tokens.from_bytes(_rewrite_header(data, lambda h: h["values"].update(dtype="int8")))
    with pytest.raises(TokFormatError, match="'values' entry for format version 1"):
        Tokens.from_bytes(_rewrite_header(data, lambda h: None, version=1))
    with pytest.raises(TokFormatError, match="value bytes"):
        Tokens.from_bytes(_rewrite_header(data, lambda h: h["values"].update(channels=1)))
