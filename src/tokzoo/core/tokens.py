"""``Tokens``: the batch of id sequences every tokenizer's ``encode`` returns, and its ``.tok`` container.

A ``.tok`` byte string is ``b"TOKZ"``, one format-version byte, a 4-byte little-endian header length,
the UTF-8 JSON header, the bit-packed payload of :mod:`tokzoo.core.bitpack`, and a 4-byte
little-endian CRC32 of everything before it. Version 2 adds optional continuous ``values`` (float16/float32 per
token, for continuous bottlenecks): its header has a ``values`` entry and the raw little-endian floats follow the
id payload. Containers without values are still written as version 1, so older readers read them.
"""

from __future__ import annotations

import json
import math
import operator
import os
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tokzoo.core.atomic import atomic_write_bytes
from tokzoo.core.bitpack import pack_ids, sequence_bits, unpack_ids
from tokzoo.core.errors import TokFormatError, TokLimitError
from tokzoo.core.limits import check_limit

__all__ = ["FORMAT_VERSION", "MAGIC", "Tokens"]

MAGIC = b"TOKZ"
FORMAT_VERSION = 2  # the newest version written; version 1 is written when there are no values
_SUPPORTED_VERSIONS = (1, 2)
_PREFIX = len(MAGIC) + 1 + 4  # magic, version byte, header length
_CRC = 4
MAX_VOCAB = 2**63  # ids are int64 tensors
MAX_IDS = 2**31  # bound on value channels; the size of what a header may allocate is the limit tok_ids
_HEADER_KEYS = ("vocab_size", "layout", "shape", "meta", "lengths", "payload_bits", "L_max")
VALUE_DTYPES = {"float16": torch.float16, "float32": torch.float32}  # container name -> dtype of ``values``


@dataclass
class Tokens:
    """A batch of right-padded id sequences over a vocabulary of ``vocab_size`` ids.

    Only the first ``lengths[i]`` entries of row ``i`` of ``ids`` are tokens; the padding beyond them
    is ignored by :meth:`equal`, :meth:`nbits` and serialisation.

    Continuous tokens (e.g. of a Gaussian/KL bottleneck) carry ``values`` (B, L_max, C), float16 or float32,
    stored exactly as given (C * 16 or C * 32 bits per token); such a batch usually has ``vocab_size`` 1, so its
    ids cost 0 bits (see :meth:`from_values`).
    """

    ids: torch.Tensor
    lengths: torch.Tensor
    vocab_size: int
    layout: str = "seq1d"
    shape: tuple[int, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    values: torch.Tensor | None = None

    def __post_init__(self) -> None:
        self.ids = _int_tensor(self.ids, "ids", "2-D (B, L_max)", 2)
        batch, l_max = self.ids.shape
        self.lengths = _int_tensor(self.lengths, "lengths", f"1-D of size B={batch}", 1)
        if self.lengths.shape != (batch,):
            raise ValueError(f"lengths must be 1-D of size B={batch}, got shape {tuple(self.lengths.shape)}")
        _check_range(self.lengths, 0, l_max + 1, f"lengths must be in [0, L_max={l_max}]")
        self.vocab_size = int(self.vocab_size)
        if not 1 <= self.vocab_size <= MAX_VOCAB:
            raise ValueError(f"vocab_size must be in [1, 2**63] (ids are int64), got {self.vocab_size}")
        self.layout = str(self.layout)
        self.shape = tuple(int(s) for s in self.shape)
        try:  # stored in its JSON form, so that a .tok round trip gives back an equal meta
            self.meta = json.loads(json.dumps(dict(self.meta), allow_nan=False))
        except (TypeError, ValueError) as e:
            raise ValueError(f"meta must be JSON-serialisable: {e}") from None
        _check_range(
            self.ids[self._mask()], 0, self.vocab_size, f"ids must be in [0, {self.vocab_size}) (vocab_size)"
        )
        if self.values is not None:
            self.values = _check_values(self.values, batch, l_max)
            if not bool(torch.isfinite(self.values[self._mask().to(self.values.device)]).all()):
                raise ValueError("values must be finite")

    @classmethod
    def from_ids(
        cls,
        ids: torch.Tensor,
        vocab_size: int,
        layout: str = "seq1d",
        shape: tuple[int, ...] = (),
        meta: dict[str, Any] | None = None,
    ) -> Tokens:
        """Build a fixed-length batch: every sample has all ``L`` ids of its row of ``ids`` (B, L)."""
        ids = _int_tensor(ids, "ids", "2-D (B, L)", 2)
        lengths = torch.full((ids.shape[0],), ids.shape[1], dtype=torch.int64, device=ids.device)
        return cls(ids, lengths, vocab_size, layout, shape, dict(meta or {}))

    @classmethod
    def from_values(
        cls,
        values: torch.Tensor,
        layout: str = "seq1d",
        shape: tuple[int, ...] = (),
        meta: dict[str, Any] | None = None,
        lengths: torch.Tensor | None = None,
    ) -> Tokens:
        """Continuous tokens: ``values`` (B, L, C) float16/float32, ids all 0 over a vocabulary of 1 (0 bits);
        every sample has all ``L`` tokens unless ``lengths`` says otherwise."""
        b, n = values.shape[:2]
        ids = torch.zeros((b, n), dtype=torch.int64, device=values.device)
        if lengths is None:
            lengths = torch.full((b,), n, dtype=torch.int64, device=values.device)
        return cls(ids, lengths, 1, layout, shape, dict(meta or {}), values)

    def _mask(self) -> torch.Tensor:
        positions = torch.arange(self.ids.shape[1], device=self.ids.device)
        return positions < self.lengths.to(self.ids.device)[:, None]

    @property
    def batch_size(self) -> int:
        """Number of samples B."""
        return int(self.ids.shape[0])

    @property
    def num_tokens(self) -> int:
        """Total number of valid tokens over the batch."""
        return int(self.lengths.sum())

    @property
    def value_channels(self) -> int:
        """Continuous values per token (the rate of a continuous tokenizer in latent dimensions); 0 if none."""
        return 0 if self.values is None else int(self.values.shape[-1])

    @property
    def bits_per_token(self) -> float:
        """Cost of one token: log2(vocab_size) for its id plus the stored bits of its values, if any."""
        return math.log2(self.vocab_size) + self._value_bits()

    def _value_bits(self) -> int:
        """Stored bits of one token's values (0 without values)."""
        return 0 if self.values is None else self.value_channels * self.values.element_size() * 8

    def nbits_per_sample(self) -> list[int]:
        """Exact payload bits each sample takes in a ``.tok`` container (ids, then values if any)."""
        per_value = self._value_bits()
        return [sequence_bits(n, self.vocab_size) + n * per_value for n in self.lengths.tolist()]

    def nbits(self) -> int:
        """Exact payload bits of the whole batch (the ``.tok`` payload, header excluded)."""
        return sum(self.nbits_per_sample())

    def sample(self, i: int) -> torch.Tensor:
        """The valid ids of sample ``i``."""
        return self.ids[i, : int(self.lengths[i])]

    def to(self, device: torch.device | str) -> Tokens:
        """The same batch with its tensors on ``device``."""
        values = None if self.values is None else self.values.to(device)
        return replace(self, ids=self.ids.to(device), lengths=self.lengths.to(device), values=values)

    def __len__(self) -> int:
        return self.batch_size

    def __getitem__(self, index: int | slice) -> Tokens:
        """The samples selected by ``index``; an int gives a batch of one."""
        if isinstance(index, slice):
            rows = list(range(*index.indices(self.batch_size)))
        else:
            i = operator.index(index)
            if not -self.batch_size <= i < self.batch_size:
                raise IndexError(f"sample index {i} out of range for batch size {self.batch_size}")
            rows = [i % self.batch_size]
        select = torch.tensor(rows, dtype=torch.int64)
        return replace(
            self,
            ids=self.ids[select.to(self.ids.device)],
            lengths=self.lengths[select.to(self.lengths.device)],
            values=None if self.values is None else self.values[select.to(self.values.device)],
        )

    def equal(self, other: Tokens) -> bool:
        """Whether both hold the same valid ids (and values, bit for bit), lengths, vocabulary, layout, shape
        and meta."""
        return (
            (self.vocab_size, self.layout, self.shape, self.meta)
            == (other.vocab_size, other.layout, other.shape, other.meta)
            and torch.equal(self.lengths.cpu(), other.lengths.cpu())
            and torch.equal(self.ids[self._mask()].cpu(), other.ids[other._mask()].cpu())
            and _same_values(self, other)
        )

    def _valid_values(self) -> torch.Tensor:
        """The values of the valid tokens, (num_tokens, C), on the CPU."""
        assert self.values is not None
        return self.values.cpu()[self._mask().cpu()]

    def to_bytes(self) -> bytes:
        """Serialise to the ``.tok`` container."""
        ids = self.ids.cpu().numpy()
        lengths = self.lengths.tolist()
        payload, nbits = pack_ids([ids[i, :n] for i, n in enumerate(lengths)], self.vocab_size)
        header = {
            "vocab_size": self.vocab_size,
            "layout": self.layout,
            "shape": list(self.shape),
            "meta": self.meta,
            "lengths": lengths,
            "payload_bits": nbits,
            "L_max": int(self.ids.shape[1]),
        }
        version = 1
        if self.values is not None:
            version = 2
            dtype = next(k for k, v in VALUE_DTYPES.items() if v == self.values.dtype)
            header["values"] = {"dtype": dtype, "channels": self.value_channels}
            payload += self._valid_values().numpy().astype(np.dtype(dtype).newbyteorder("<")).tobytes()
        head = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
        body = MAGIC + bytes([version]) + len(head).to_bytes(4, "little") + head + payload
        return body + zlib.crc32(body).to_bytes(4, "little")

    @classmethod
    def from_bytes(cls, data: bytes) -> Tokens:
        """Parse a ``.tok`` container; raise :class:`TokFormatError` naming what is wrong with it."""
        header, payload = _open_container(bytes(data))
        lengths = header["lengths"]
        values = None
        if "values" in header:
            id_bytes = -(-header["payload_bits"] // 8)
            payload, raw = payload[:id_bytes], payload[id_bytes:]
            values = _read_values(raw, header)
        seqs = unpack_ids(payload, lengths, header["vocab_size"])
        ids = torch.zeros((len(lengths), header["L_max"]), dtype=torch.int64)
        lens = torch.tensor(lengths, dtype=torch.int64)
        if seqs:
            ids[torch.arange(header["L_max"]) < lens[:, None]] = torch.from_numpy(
                np.concatenate(seqs).astype(np.int64)
            )
        try:
            return cls(
                ids, lens, header["vocab_size"], header["layout"], header["shape"], header["meta"], values
            )
        except ValueError as e:
            raise TokFormatError(f"malformed .tok header: {e}") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the ``.tok`` container to ``path`` atomically (temporary file + rename)."""
        atomic_write_bytes(path, self.to_bytes())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Tokens:
        """Read a ``.tok`` file (held to the limit ``tok_bytes`` before reading); format errors name the path."""
        check_limit(path, "tok_bytes", Path(path).stat().st_size, "file size in bytes", TokLimitError)
        data = Path(path).read_bytes()
        try:
            return cls.from_bytes(data)
        except TokFormatError as e:
            raise type(e)(f"{path}: {e}") from None


def _int_tensor(x: object, name: str, what: str, ndim: int) -> torch.Tensor:
    """``x`` as an int64 tensor, after checking it is an integer tensor with ``ndim`` dimensions."""
    if not isinstance(x, torch.Tensor) or x.ndim != ndim:
        got = f"shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a {what} tensor, got {got}")
    if x.dtype.is_floating_point or x.dtype.is_complex or x.dtype == torch.bool:
        raise ValueError(f"{name} must have an integer dtype, got {x.dtype}")
    return x.long()


def _check_values(values: object, batch: int, l_max: int) -> torch.Tensor:
    """``values`` must be a float16/float32 tensor of shape (B, L_max, C)."""
    if not isinstance(values, torch.Tensor) or values.ndim != 3 or tuple(values.shape[:2]) != (batch, l_max):
        got = f"shape {tuple(values.shape)}" if isinstance(values, torch.Tensor) else type(values).__name__
        raise ValueError(f"values must be a 3-D (B={batch}, L_max={l_max}, C) tensor, got {got}")
    if values.dtype not in VALUE_DTYPES.values():
        raise ValueError(f"values must be float16 or float32 (stored as they are), got {values.dtype}")
    return values.detach()


def _same_values(a: Tokens, b: Tokens) -> bool:
    """Both without values, or both with values of one dtype that agree bit for bit on the valid tokens."""
    if a.values is None or b.values is None:
        return a.values is None and b.values is None
    if a.values.dtype != b.values.dtype:
        return False
    int_type = torch.int16 if a.values.dtype == torch.float16 else torch.int32
    return torch.equal(a._valid_values().view(int_type), b._valid_values().view(int_type))


def _read_values(raw: bytes, header: dict[str, Any]) -> torch.Tensor:
    """The (B, L_max, C) values tensor from the container's value bytes (zeros in the padding)."""
    spec, lengths = header["values"], header["lengths"]
    dtype = np.dtype(spec["dtype"]).newbyteorder("<")
    expected = sum(lengths) * spec["channels"] * dtype.itemsize
    if len(raw) != expected:
        raise TokFormatError(f"malformed .tok payload: {len(raw)} value bytes, the header needs {expected}")
    flat = np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="))
    flat = torch.from_numpy(flat).reshape(sum(lengths), spec["channels"])
    values = torch.zeros((len(lengths), header["L_max"], spec["channels"]), dtype=VALUE_DTYPES[spec["dtype"]])
    mask = torch.arange(header["L_max"]) < torch.tensor(lengths, dtype=torch.int64)[:, None]
    values[mask] = flat
    return values


def _check_range(values: torch.Tensor, low: int, high: int, message: str) -> None:
    """Raise ``ValueError(message + offending value)`` unless all values lie in ``[low, high)``."""
    if values.numel():
        vmin, vmax = int(values.min()), int(values.max())
        if vmin < low or vmax >= high:
            raise ValueError(f"{message}, got {vmin if vmin < low else vmax}")


def _open_container(data: bytes) -> tuple[dict[str, Any], bytes]:
    """Check a ``.tok`` byte string's framing and checksum; return its parsed header and its payload."""
    got = len(data)
    if data[: len(MAGIC)] != MAGIC[: min(got, len(MAGIC))]:
        raise TokFormatError("not a .tok file (bad magic bytes)")
    if got > len(MAGIC) and data[len(MAGIC)] not in _SUPPORTED_VERSIONS:
        supported = ", ".join(map(str, _SUPPORTED_VERSIONS))
        raise TokFormatError(f"unsupported .tok format version {data[len(MAGIC)]} (supported: {supported})")
    head_len = int.from_bytes(data[len(MAGIC) + 1 : _PREFIX], "little") if got >= _PREFIX else 0
    need = _PREFIX + head_len + _CRC
    if got < need:
        raise TokFormatError(f"truncated .tok data: expected at least {need} bytes, got {got}")
    intact = zlib.crc32(data[:-_CRC]) == int.from_bytes(data[-_CRC:], "little")
    try:
        header = _parse_header(data[_PREFIX : _PREFIX + head_len], data[len(MAGIC)])
    except TokFormatError:
        if intact:
            raise
        raise TokFormatError("corrupted .tok data: checksum mismatch") from None
    expected = need + -(-header["payload_bits"] // 8)
    if "values" in header:
        spec = header["values"]
        expected += sum(header["lengths"]) * spec["channels"] * VALUE_DTYPES[spec["dtype"]].itemsize
    if not intact and got < expected:
        raise TokFormatError(f"truncated .tok data: expected {expected} bytes, got {got}")
    if not intact:
        raise TokFormatError("corrupted .tok data: checksum mismatch")
    return header, data[_PREFIX + head_len : -_CRC]


def _parse_header(raw: bytes, version: int) -> dict[str, Any]:
    """Decode and type-check the JSON header (the payload size must agree with the lengths); a version 2
    header also describes the values (version 1 has none)."""
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TokFormatError(f"malformed .tok header: not valid JSON ({e})") from None
    if not isinstance(header, dict) or any(k not in header for k in _HEADER_KEYS):
        raise TokFormatError(f"malformed .tok header: expected an object with keys {', '.join(_HEADER_KEYS)}")
    lengths, shape = header["lengths"], header["shape"]
    if (
        not isinstance(lengths, list)
        or not isinstance(shape, list)
        or not all(type(v) is int for v in [header["vocab_size"], header["payload_bits"], header["L_max"]])
        or not all(type(v) is int for v in [*lengths, *shape])
        or not isinstance(header["layout"], str)
        or not isinstance(header["meta"], dict)
        or not 1 <= header["vocab_size"] <= MAX_VOCAB
        or header["L_max"] < 0
        or any(n < 0 or n > header["L_max"] for n in lengths)
    ):
        raise TokFormatError("malformed .tok header: a field has the wrong type or range")
    slots = len(lengths) * header["L_max"]  # what from_bytes allocates, checked before it does
    check_limit(".tok header", "tok_ids", slots, "ids (batch size x L_max)", TokLimitError)
    if header["payload_bits"] != sum(sequence_bits(n, header["vocab_size"]) for n in lengths):
        raise TokFormatError("malformed .tok header: payload_bits does not match the lengths")
    spec = header.get("values")
    if (version == 1) != (spec is None) or (
        spec is not None
        and (
            not isinstance(spec, dict)
            or spec.get("dtype") not in VALUE_DTYPES
            or type(spec.get("channels")) is not int
            or not 0 <= spec["channels"] <= MAX_IDS
        )
    ):
        raise TokFormatError(
            f"malformed .tok header: bad or missing 'values' entry for format version {version}"
        )
    if spec is not None:
        check_limit(
            ".tok header",
            "tok_ids",
            slots * spec["channels"],
            "values (batch x L_max x channels)",
            TokLimitError,
        )
    return header
