"""The entropy-coded token file (``.tokc``): a batch of ``Tokens`` arithmetic-coded under a model.

``b"TOKC"``, one format-version byte, the header's length as a LEB128 varint, a binary header, the arithmetic
code of every sample's ids in order (one code stream, :mod:`tokzoo.prior.coder`), and a CRC32 of everything
before it. The version-2 header is a few dozen bytes (varints and length-prefixed UTF-8, see
:func:`_header`): at the rates priors reach (a few hundred bytes per image) the version-1 JSON header (about
200 bytes) doubled the file, and version-1 files still decode. As in the ``.tok`` container, lengths live in
the header and the payload holds ids only, so ``payload_bits`` compares directly with ``Tokens.nbits()``;
:func:`coded_size` is the exact file size. Decoding needs the same model (a unigram model or a trained
prior), named in the header; what a header may make the decoder allocate is held to the limit ``tok_ids``.
"""

from __future__ import annotations

import json
import zlib
from typing import Any, Protocol

import torch

from tokzoo.core.errors import TokFormatError, TokLimitError
from tokzoo.core.limits import check_limit
from tokzoo.core.tokens import Tokens
from tokzoo.prior.coder import ArithmeticDecoder, ArithmeticEncoder, SymbolModel

__all__ = ["MAGIC", "CodingModel", "coded_size", "compress", "decompress", "header_size"]

MAGIC = b"TOKC"
VERSION = 2
_KEYS = ("vocab_size", "layout", "shape", "meta", "lengths", "L_max", "payload_bits", "model")


class CodingModel(Protocol):
    """Gives the :class:`SymbolModel` that codes one sample of a layout, shape and length, and the order in
    which the sample's stored ids are coded (a prior's generation order, e.g. position-major for RVQ)."""

    name: str

    def for_sample(self, layout: str, shape: tuple[int, ...], length: int) -> SymbolModel: ...

    def order(self, layout: str, shape: tuple[int, ...], length: int) -> list[int]: ...


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


class _Reader:
    """Reads varints and strings from a header, raising TokFormatError instead of running off its end."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def varint(self) -> int:
        value = 0
        for shift in range(0, 70, 7):
            if self.pos >= len(self.data):
                raise TokFormatError("malformed .tokc header: truncated")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
        raise TokFormatError("malformed .tokc header: a varint longer than 10 bytes")

    def text(self) -> str:
        n = self.varint()
        if self.pos + n > len(self.data):
            raise TokFormatError("malformed .tokc header: truncated")
        raw, self.pos = self.data[self.pos : self.pos + n], self.pos + n
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TokFormatError("malformed .tokc header: a string is not UTF-8") from None


def _header(tokens: Tokens, nbits: int, model: CodingModel) -> bytes:
    """vocab_size, layout, ndim and shape, L_max, batch size, a flag (1: every length is L_max) and else the
    lengths, payload_bits, the model's name and the meta as JSON (empty when there is none)."""
    l_max = int(tokens.ids.shape[1])
    lengths = tokens.lengths.tolist()
    full = all(n == l_max for n in lengths)
    fields = [_varint(tokens.vocab_size), _text(tokens.layout), _varint(len(tokens.shape))]
    fields += [_varint(int(s)) for s in tokens.shape]
    fields += [_varint(l_max), _varint(len(lengths)), bytes([int(full)])]
    fields += [] if full else [_varint(n) for n in lengths]
    meta = json.dumps(tokens.meta, sort_keys=True, separators=(",", ":")) if tokens.meta else ""
    fields += [_varint(nbits), _text(model.name), _text(meta)]
    return b"".join(fields)


def _text(s: str) -> bytes:
    raw = s.encode("utf-8")
    return _varint(len(raw)) + raw


def _parse_header(head: bytes) -> dict[str, Any]:
    r = _Reader(head)
    out: dict[str, Any] = {"vocab_size": r.varint(), "layout": r.text()}
    ndim = r.varint()
    if ndim > 16:
        raise TokFormatError(f"malformed .tokc header: {ndim} shape dimensions")
    out["shape"] = [r.varint() for _ in range(ndim)]
    out["L_max"], batch = r.varint(), r.varint()
    check_limit(
        ".tokc header", "tok_ids", batch * max(1, out["L_max"]), "ids (batch size x L_max)", TokLimitError
    )
    if r.pos >= len(head) or head[r.pos] not in (0, 1):
        raise TokFormatError("malformed .tokc header: bad lengths flag")
    full = head[r.pos] == 1
    r.pos += 1
    out["lengths"] = [out["L_max"]] * batch if full else [r.varint() for _ in range(batch)]
    out["payload_bits"], out["model"] = r.varint(), r.text()
    meta = r.text()
    try:
        out["meta"] = json.loads(meta) if meta else {}
    except ValueError:
        raise TokFormatError("malformed .tokc header: meta is not JSON") from None
    if r.pos != len(head):
        raise TokFormatError("malformed .tokc header: trailing bytes")
    return out


def _parse_header_v1(head: bytes) -> dict[str, Any]:
    try:
        header = json.loads(head)
        missing = [k for k in _KEYS if k not in header]
    except (ValueError, TypeError):
        raise TokFormatError("malformed .tokc header") from None
    if missing:
        raise TokFormatError(f"malformed .tokc header: missing {', '.join(missing)}")
    try:
        header["shape"] = [int(s) for s in header["shape"]]
        header["lengths"] = [int(n) for n in header["lengths"]]
        header["L_max"] = int(header["L_max"])
    except (TypeError, ValueError):
        raise TokFormatError("malformed .tokc header: shape, lengths and L_max must be integers") from None
    slots = len(header["lengths"]) * max(1, header["L_max"])
    check_limit(".tokc header", "tok_ids", slots, "ids (batch size x L_max)", TokLimitError)
    return header


def compress(tokens: Tokens, model: CodingModel) -> tuple[bytes, int]:
    """(``.tokc`` bytes, exact payload bits) of ``tokens`` (ids only; continuous values are refused)."""
    if tokens.values is not None:
        raise ValueError("continuous tokens (values) cannot be arithmetic-coded; only ids can")
    enc = ArithmeticEncoder()
    for i in range(len(tokens)):
        stored = tokens.sample(i).tolist()
        ids = [stored[k] for k in model.order(tokens.layout, tokens.shape, len(stored))]
        sym = model.for_sample(tokens.layout, tokens.shape, len(ids))
        for s in ids:
            enc.encode(s, sym.frequencies())
            sym.update(s)
    payload = enc.finish()
    head = _header(tokens, enc.nbits, model)
    body = MAGIC + bytes([VERSION]) + _varint(len(head)) + head + payload
    return body + zlib.crc32(body).to_bytes(4, "little"), enc.nbits


def coded_size(header_bytes: int, payload_bits: int) -> int:
    """Exact ``.tokc`` size in bytes for a header of ``header_bytes`` and a payload of ``payload_bits``."""
    return len(MAGIC) + 1 + len(_varint(header_bytes)) + header_bytes + -(-payload_bits // 8) + 4


def header_size(data: bytes) -> int:
    """The header's length in bytes of a version-2 ``.tokc`` file."""
    return _Reader(data[len(MAGIC) + 1 : len(MAGIC) + 11]).varint()


def _split(data: bytes) -> tuple[dict[str, Any], bytes]:
    """(header, payload) of a checked file of either version."""
    if len(data) < len(MAGIC) + 6 or data[:4] != MAGIC:
        raise TokFormatError("not a .tokc file (bad magic or too short)")
    if data[4] not in (1, VERSION):
        raise TokFormatError(f"unsupported .tokc version {data[4]}")
    if zlib.crc32(data[:-4]) != int.from_bytes(data[-4:], "little"):
        raise TokFormatError(".tokc checksum mismatch (file damaged)")
    if data[4] == 1:
        size, start = int.from_bytes(data[5:9], "little"), 9
        return _parse_header_v1(data[start : start + size]), data[start + size : -4]
    r = _Reader(data[5:-4])
    size = r.varint()
    start = 5 + r.pos
    if start + size > len(data) - 4:
        raise TokFormatError("malformed .tokc header: truncated")
    return _parse_header(data[start : start + size]), data[start + size : -4]


def decompress(data: bytes, model: CodingModel) -> Tokens:
    """``Tokens`` back from :func:`compress`'s bytes; ``TokFormatError`` on a damaged or foreign file."""
    header, payload = _split(data)
    if header["model"] != model.name:
        raise TokFormatError(f"coded with model {header['model']!r}, not {model.name!r}")
    shape, lengths, l_max = tuple(header["shape"]), header["lengths"], header["L_max"]
    if any(not 0 <= n <= l_max for n in lengths):
        raise TokFormatError("malformed .tokc header: a length exceeds L_max")
    dec = ArithmeticDecoder(payload)
    rows = []
    for n in lengths:
        sym = model.for_sample(header["layout"], shape, n)
        row = [0] * l_max
        for k in model.order(header["layout"], shape, n):
            s = dec.decode(sym.frequencies())
            sym.update(s)
            row[k] = s
        rows.append(row)
    ids = torch.tensor(rows, dtype=torch.int64).reshape(len(rows), l_max)
    try:
        return Tokens(ids, torch.tensor(lengths, dtype=torch.int64), header["vocab_size"], header["layout"], shape,
                      header["meta"])  # fmt: skip
    except (TypeError, ValueError) as e:
        raise TokFormatError(f"malformed .tokc header: {e}") from None
