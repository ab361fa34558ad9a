"""An exact binary arithmetic coder on integers (no floating point in the coding path).

"Arithmetic Coding for Data Compression" (Witten, Neal & Cleary, 1987): the interval ``[low, high]`` of
``PRECISION``-bit integers is narrowed to each symbol's share of its integer frequencies; equal leading bits
are shifted out, and the straddling case (interval inside the middle half) is rescaled with "pending" bits.
With ``PRECISION = 48`` and frequency totals up to ``2**24`` the coded size stays within ``2 + 1e-6 * n`` bits
of the information content ``sum(-log2 f_s / T)`` of the ``n`` symbols (checked by the tests).

Frequencies come from a :class:`SymbolModel` that sees every coded symbol (``update``), so static, adaptive
and neural models (a prior over tokens) drive the same coder; encoder and decoder must compute identical
frequencies from identical histories.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["PRECISION", "ArithmeticDecoder", "ArithmeticEncoder", "SymbolModel", "decode", "encode"]

PRECISION = 48
_TOP = (1 << PRECISION) - 1
_HALF = 1 << (PRECISION - 1)
_QUARTER = 1 << (PRECISION - 2)


@runtime_checkable
class SymbolModel(Protocol):
    """What drives the coder: integer frequencies of the next symbol given the symbols seen so far."""

    def frequencies(self) -> np.ndarray:
        """int64 (V,) frequencies >= 1 of the next symbol (see :func:`tokzoo.prior.frequencies.quantize`)."""
        ...

    def update(self, symbol: int) -> None:
        """Record that ``symbol`` was coded."""
        ...


class _Bits:
    """Bits appended MSB first into a growing byte array."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.count = 0  # bits written

    def write(self, bit: int, repeat: int = 1) -> None:
        for _ in range(repeat):
            self.acc = (self.acc << 1) | bit
            self.count += 1
            if self.count % 8 == 0:
                self.out.append(self.acc)
                self.acc = 0

    def getvalue(self) -> bytes:
        tail = self.count % 8
        return bytes(self.out) + (bytes([self.acc << (8 - tail)]) if tail else b"")


def _bounds(freqs: np.ndarray, symbol: int) -> tuple[int, int, int]:
    """(cumulative frequency below ``symbol``, up to and including it, total) as Python ints."""
    if not 0 <= symbol < freqs.size:
        raise ValueError(f"symbol {symbol} is outside the model's alphabet of {freqs.size}")
    below = int(freqs[:symbol].sum())
    return below, below + int(freqs[symbol]), int(freqs.sum())


class ArithmeticEncoder:
    """Encodes symbols one at a time; :meth:`finish` returns the bytes and :attr:`nbits` their exact bit count."""

    def __init__(self) -> None:
        self.low, self.high, self.pending = 0, _TOP, 0
        self.bits = _Bits()
        self.done = False

    def encode(self, symbol: int, freqs: np.ndarray) -> None:
        """Narrow the interval to ``symbol``'s share of ``freqs``."""
        lo, hi, total = _bounds(freqs, symbol)
        if int(freqs[symbol]) < 1:
            raise ValueError(
                f"symbol {symbol} has frequency {int(freqs[symbol])}; every frequency must be >= 1"
            )
        span = self.high - self.low + 1
        self.high = self.low + span * hi // total - 1
        self.low = self.low + span * lo // total
        while True:
            if self.high < _HALF:
                self._emit(0)
            elif self.low >= _HALF:
                self._emit(1)
                self.low -= _HALF
                self.high -= _HALF
            elif self.low >= _QUARTER and self.high < _HALF + _QUARTER:
                self.pending += 1
                self.low -= _QUARTER
                self.high -= _QUARTER
            else:
                break
            self.low = 2 * self.low
            self.high = 2 * self.high + 1

    def _emit(self, bit: int) -> None:
        self.bits.write(bit)
        self.bits.write(1 - bit, self.pending)
        self.pending = 0

    def finish(self) -> bytes:
        """Two more bits (plus pending) pin a value inside the final interval; later bits read as zeros."""
        if not self.done:
            self.pending += 1
            self._emit(0 if self.low < _QUARTER else 1)
            self.done = True
        return self.bits.getvalue()

    @property
    def nbits(self) -> int:
        """Bits written so far (exact size of the code after :meth:`finish`)."""
        return self.bits.count


class ArithmeticDecoder:
    """Decodes the symbols of :class:`ArithmeticEncoder`'s output, given the same frequencies in order."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.low, self.high, self.value = 0, _TOP, 0
        for _ in range(PRECISION):
            self.value = (self.value << 1) | self._bit()

    def _bit(self) -> int:
        byte, offset = divmod(self.pos, 8)
        self.pos += 1
        return (self.data[byte] >> (7 - offset)) & 1 if byte < len(self.data) else 0

    def decode(self, freqs: np.ndarray) -> int:
        """The next symbol under ``freqs``."""
        cum = np.cumsum(freqs, dtype=np.int64)
        total = int(cum[-1])
        span = self.high - self.low + 1
        target = ((self.value - self.low + 1) * total - 1) // span
        symbol = int(np.searchsorted(cum, target, side="right"))
        if symbol >= freqs.size:
            raise ValueError("corrupt arithmetic code: value outside the model's interval")
        lo = int(cum[symbol - 1]) if symbol else 0
        hi = int(cum[symbol])
        self.high = self.low + span * hi // total - 1
        self.low = self.low + span * lo // total
        while True:
            if self.high < _HALF:
                pass
            elif self.low >= _HALF:
                self.low -= _HALF
                self.high -= _HALF
                self.value -= _HALF
            elif self.low >= _QUARTER and self.high < _HALF + _QUARTER:
                self.low -= _QUARTER
                self.high -= _QUARTER
                self.value -= _QUARTER
            else:
                break
            self.low = 2 * self.low
            self.high = 2 * self.high + 1
            self.value = (self.value << 1) | self._bit()
        return symbol


def encode(symbols: Iterable[int], model: SymbolModel) -> tuple[bytes, int]:
    """(code bytes, exact bit count) of ``symbols`` under ``model`` (which is updated with every symbol)."""
    enc = ArithmeticEncoder()
    for s in symbols:
        enc.encode(int(s), model.frequencies())
        model.update(int(s))
    data = enc.finish()
    return data, enc.nbits


def decode(data: bytes, count: int, model: SymbolModel) -> list[int]:
    """The ``count`` symbols coded in ``data`` under a model in the state the encoder's started in."""
    dec = ArithmeticDecoder(data)
    out = []
    for _ in range(count):
        s = dec.decode(model.frequencies())
        model.update(s)
        out.append(s)
    return out
