"""The entropy-coded token file (``.tokc``): a batch of ``Tokens`` arithmetic-coded under a model.

``b"TOKC"``, one format-version byte, a 4-byte little-endian header length, a UTF-8 JSON header (vocab_size,
layout, shape, meta, lengths, L_max, payload_bits, model), the arithmetic code of every sample's ids in order
(one code stream, :mod:`tokzoo.prior.coder`), and a CRC32 of everything before it. As in the ``.tok``
container, lengths live in the header and the payload holds ids only, so ``payload_bits`` compares directly
with ``Tokens.nbits()``; :func:`coded_size` is the exact file size. Decoding needs the same model (a unigram
model or a trained prior), named in the header.
"""

from __future__ import annotations

import json
import zlib
from typing import Protocol

import torch

from tokzoo.core.errors import TokFormatError
from tokzoo.core.tokens import Tokens
from tokzoo.prior.coder import ArithmeticDecoder, ArithmeticEncoder, SymbolModel

__all__ = ["MAGIC", "CodingModel", "coded_size", "compress", "decompress"]

MAGIC = b"TOKC"
VERSION = 1
_PREFIX = len(MAGIC) + 1 + 4
_KEYS = ("vocab_size", "layout", "shape", "meta", "lengths", "L_max", "payload_bits", "model")


class CodingModel(Protocol):
    """Gives the :class:`SymbolModel` that codes one sample of a layout, shape and length, and the order in
    which the sample's stored ids are coded (a prior's generation order, e.g. position-major for RVQ)."""

    name: str

    def for_sample(self, layout: str, shape: tuple[int, ...], length: int) -> SymbolModel: ...

    def order(self, layout: str, shape: tuple[int, ...], length: int) -> list[int]: ...


def _header(tokens: Tokens, nbits: int, model: CodingModel) -> bytes:
    header = {
        "vocab_size": tokens.vocab_size,
        "layout": tokens.layout,
        "shape": list(tokens.shape),
        "meta": tokens.meta,
        "lengths": tokens.lengths.tolist(),
        "L_max": int(tokens.ids.shape[1]),
        "payload_bits": nbits,
        "model": model.name,
    }
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


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
    body = MAGIC + bytes([VERSION]) + len(head).to_bytes(4, "little") + head + payload
    return body + zlib.crc32(body).to_bytes(4, "little"), enc.nbits


def coded_size(header_bytes: int, payload_bits: int) -> int:
    """Exact ``.tokc`` size in bytes for a header of ``header_bytes`` and a payload of ``payload_bits``."""
    return _PREFIX + header_bytes + -(-payload_bits // 8) + 4


def decompress(data: bytes, model: CodingModel) -> Tokens:
    """``Tokens`` back from :func:`compress`'s bytes; ``TokFormatError`` on a damaged or foreign file."""
    if len(data) < _PREFIX + 4 or data[:4] != MAGIC:
        raise TokFormatError("not a .tokc file (bad magic or too short)")
    if data[4] != VERSION:
        raise TokFormatError(f"unsupported .tokc version {data[4]}")
    if zlib.crc32(data[:-4]) != int.from_bytes(data[-4:], "little"):
        raise TokFormatError(".tokc checksum mismatch (file damaged)")
    size = int.from_bytes(data[5:9], "little")
    try:
        header = json.loads(data[_PREFIX : _PREFIX + size])
        missing = [k for k in _KEYS if k not in header]
    except (ValueError, TypeError):
        raise TokFormatError("malformed .tokc header") from None
    if missing:
        raise TokFormatError(f"malformed .tokc header: missing {', '.join(missing)}")
    if header["model"] != model.name:
        raise TokFormatError(f"coded with model {header['model']!r}, not {model.name!r}")
    dec = ArithmeticDecoder(data[_PREFIX + size : -4])
    try:
        shape = tuple(int(s) for s in header["shape"])
        lengths = [int(n) for n in header["lengths"]]
        l_max = int(header["L_max"])
    except (TypeError, ValueError):
        raise TokFormatError("malformed .tokc header: shape, lengths and L_max must be integers") from None
    if any(not 0 <= n <= l_max for n in lengths):
        raise TokFormatError("malformed .tokc header: a length exceeds L_max")
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
