"""Causal parsers of each serialization's token stream that turn :class:`MeshContext` predictions into
next-token probabilities (one :class:`~tokzoo.prior.coder.SymbolModel` per coded mesh).

Each stream follows its serialization's grammar exactly as the decoder does (``Serialization._triangles``),
so it knows the role of the next token — a coordinate of the vertex being written (and which axis), a
block or offset token, a reference to a recent vertex, a control token (restart, swap, new shell) — and the
faces decoded so far. Control decisions are coded under adaptive tables keyed by the grammar state; vertices
under the joint vertex distribution of :meth:`MeshContext.predict`, whose context is what the serialization
implies: the edge the next strip face is built on (adjacent, "MeshAnything V2", 2024), the centre and the
previous ring vertex of a fan (BPT, 2024; "Nautilus", 2025), the corners of the current face (naive).
A stream raises ``DataError`` naming the token position for a sequence its serialization cannot decode.
"""

from __future__ import annotations

import numpy as np

from tokzoo.core.errors import DataError
from tokzoo.mesh.adjacent import AdjacentSerialization, _next_edges
from tokzoo.mesh.naive import NaiveSerialization
from tokzoo.mesh.nautilus import NautilusSerialization, _touch
from tokzoo.mesh.patchified import PatchifiedSerialization
from tokzoo.mesh.serialization import Serialization
from tokzoo.mesh.vertex_model import MeshContext, MeshStats, VertexDist
from tokzoo.prior.frequencies import quantize

__all__ = ["make_stream"]


class _Stream:
    """Shared plumbing: probabilities computed once per position, symbols checked against the vocabulary."""

    def __init__(self, ser: Serialization, stats: MeshStats) -> None:
        self.ser, self.stats = ser, stats
        self.geo = MeshContext(stats)
        self.size = 2**ser.bits
        self.pos = 0
        self._probs: np.ndarray | None = None

    def frequencies(self) -> np.ndarray:
        if self._probs is None:
            self._probs = self._next_probs()
        return quantize(self._probs)

    def update(self, symbol: int) -> None:
        if not 0 <= symbol < self.ser.vocab_size:
            raise DataError(
                f"token {self.pos}: id {symbol} is outside the vocabulary [0, {self.ser.vocab_size})"
            )
        self._advance(int(symbol))
        self.pos += 1
        self._probs = None

    def _bad(self, why: str) -> DataError:
        return DataError(f"token {self.pos}: {why}")

    def _norm(self, p: np.ndarray) -> np.ndarray:
        s = p.sum()
        return p / s if s > 0 else np.full(len(p), 1.0 / len(p))

    def _next_probs(self) -> np.ndarray: ...

    def _advance(self, s: int) -> None: ...


class _NaiveStream(_Stream):
    """Nine coordinates per face; the copy hint is the previous face's same corner."""

    def __init__(self, ser: Serialization, stats: MeshStats) -> None:
        super().__init__(ser, stats)
        self.face: list[int] = []
        self.prev_face: list[int] = []
        self.buf: list[int] = []
        self.dist: VertexDist | None = None

    def _vertex(self) -> VertexDist:
        if self.dist is None:
            j, geo = len(self.face), self.geo
            hint = self.prev_face[j] if self.prev_face else None
            pred = geo.coords(hint).astype(np.float64) if hint is not None else None
            face = (self.face[0], self.face[1]) if j == 2 else (None, self.face[0] if j else None)
            self.dist = geo.predict(("naive", j), face, self.face, [hint], self.face, pred)
        return self.dist

    def _next_probs(self) -> np.ndarray:
        return self._norm(self._vertex().axis_probs(len(self.buf), self.buf))

    def _advance(self, s: int) -> None:
        dist = self._vertex()
        self.buf.append(s)
        if len(self.buf) < 3:
            return
        self.face.append(self.geo.observe(dist, self.buf))
        self.buf, self.dist = [], None
        if len(self.face) == 3:
            self.geo.add_face(*self.face)
            self.prev_face, self.face = self.face, []


class _AdjacentStream(_Stream):
    """Strips: a control event (continue / restart / swap) after each face, then the new vertex across the
    edge the decoder knows, predicted by the parallelogram over the previous face."""

    def __init__(self, ser: AdjacentSerialization, stats: MeshStats) -> None:
        super().__init__(ser, stats)
        self.strip: list[int] = []
        self.state: tuple = ()
        self.swap = False
        self.buf: list[int] = []
        self.dist: VertexDist | None = None
        self.event = 1  # last control event: 0 continue, 1 restart (or start), 2 swap

    def _edge(self) -> tuple[int, int]:
        return _next_edges(*self.state)[1 if self.swap else 0]

    def _vertex(self) -> VertexDist:
        if self.dist is None:
            geo, strip = self.geo, self.strip
            if len(strip) < 3:
                pred = geo.coords(strip[-1]).astype(np.float64) if strip else None
                face = (strip[0], strip[1]) if len(strip) == 2 else (None, strip[0] if strip else None)
                self.dist = geo.predict(("amt", len(strip)), face, strip, (), strip, pred)
            else:
                p, q = self._edge()
                (w,) = [x for x in self.state[:3] if x not in (p, q)] or [p]
                pred = (geo.coords(p) + geo.coords(q) - geo.coords(w)).astype(np.float64)
                key = ("amt", "swap" if self.swap else "next")
                self.dist = geo.predict(key, (p, q), (p, q), (), (p, q, w), pred)
        return self.dist

    def _may_control(self) -> bool:
        return not self.buf and len(self.strip) == 3 and not self.swap

    def _next_probs(self) -> np.ndarray:
        out = np.zeros(self.ser.vocab_size)
        vert = self._norm(self._vertex().axis_probs(len(self.buf), self.buf))
        if not self._may_control():
            out[: self.size] = vert
            return out
        ev = self.stats.table(("amt-event", self.event), 3).probs()
        out[: self.size] = ev[0] * vert
        out[self.ser.restart], out[self.ser.swap] = ev[1], ev[2]
        return out

    def _advance(self, s: int) -> None:
        if self._may_control():
            event = 0 if s < self.size else 1 if s == self.ser.restart else 2
            self.stats.table(("amt-event", self.event), 3).update(event)
            self.event = event
        elif s >= self.size:
            raise self._bad("a restart or swap token needs a finished face before it and a vertex after it")
        if s == self.ser.restart:
            self.strip, self.state = [], ()
            return
        if s == self.ser.swap:
            self.swap = True
            return
        dist = self._vertex()
        self.buf.append(s)
        if len(self.buf) < 3:
            return
        v = self.geo.observe(dist, self.buf)
        self.buf, self.dist = [], None
        if len(self.strip) < 2:
            self.strip.append(v)
        elif len(self.strip) == 2:
            a, b = self.strip
            self.strip.append(v)
            self.geo.add_face(a, b, v)
            self.state = (a, b, v, False)
        else:
            p, q = self._edge()
            self.geo.add_face(p, q, v)
            self.state = (p, q, v, p == self.state[2])
            self.swap = False


class _ShellStream(_Stream):
    """Fans (BPT patches, Nautilus shells): whether a new fan starts, then the centre or the next ring vertex
    as a reference to a recent vertex (Nautilus) or block/offset tokens (block implied when unchanged)."""

    def __init__(self, ser: PatchifiedSerialization | NautilusSerialization, stats: MeshStats) -> None:
        super().__init__(ser, stats)
        self.coder = ser.coder
        self.refs = isinstance(ser, NautilusSerialization)
        self.ref0 = ser.ref0 if self.refs else ser.vocab_size
        self.cache: list[int] = []
        self.centre: int | None = None
        self.ring: list[int] = []
        self.block: int | None = None  # block of the last vertex
        self.pending: int | None = None  # block token waiting for its offset
        self.pending_centre = False
        self.slot: tuple | None = None  # (P(new fan), its table key, centre dist, ring dist)

    def _slot(self) -> tuple:
        if self.slot is not None:
            return self.slot
        geo, ring = self.geo, self.ring
        key = None
        if self.centre is None:
            end = 1.0
        elif len(ring) < 2:
            end = 0.0
        else:
            key = ("fan-end", len(ring) > 2 and ring[-1] == ring[0], min(len(ring), 6))
            end = self.stats.table(key, 2).probs()[1]
        dc = geo.predict(("centre",), hints=ring) if end > 0 else None
        dr = None
        if end < 1:
            c = geo.coords(self.centre)
            if not ring:
                pred = c
            elif len(ring) == 1:
                pred = geo.coords(ring[0])
            else:
                pred = c + geo.coords(ring[-1]) - geo.coords(ring[-2])
            last = ring[-1] if ring else None
            hints = [ring[0]] if len(ring) >= 2 else []
            face = (self.centre, last) if last is not None else (None, self.centre)
            before = ring[-2] if len(ring) >= 2 else None  # (centre, last, before) would repeat the last face
            dr = geo.predict(("ring", min(len(ring), 2)), face, (self.centre, last), hints,
                             (self.centre, last, before), pred.astype(np.float64))  # fmt: skip
        self.slot = (end, key, dc, dr)
        return self.slot

    def _uncached(self, dist: VertexDist) -> np.ndarray:
        mask = np.ones(len(dist.w), dtype=bool)
        if self.cache:
            mask[self.cache] = False
        return mask

    def _next_probs(self) -> np.ndarray:
        ser, coder = self.ser, self.coder
        end, _, dc, dr = self._slot()
        out = np.zeros(ser.vocab_size)
        if self.pending is not None:
            dist = dc if self.pending_centre else dr
            if dist is not None:
                out[: coder.num_offsets] = self._norm(
                    dist.offset_mass(coder, self.pending, self._uncached(dist))
                )
            return out
        nb = coder.num_blocks
        if dc is not None:
            if self.cache:
                out[ser.centre_ref0 : ser.centre_ref0 + len(self.cache)] = end * dc.w[self.cache]
            out[ser.centre0 : ser.centre0 + nb] = end * dc.block_mass(coder, self._uncached(dc))
        if dr is not None:
            if self.cache:
                out[ser.ref0 : ser.ref0 + len(self.cache)] = (1 - end) * dr.w[self.cache]
            uncached = self._uncached(dr)
            blocks = dr.block_mass(coder, uncached)
            blocks[self.block] = 0.0  # the encoder leaves an unchanged block out
            out[ser.block0 : ser.block0 + nb] = (1 - end) * blocks
            out[: coder.num_offsets] = (1 - end) * dr.offset_mass(coder, self.block, uncached)
        return out

    def _advance(self, s: int) -> None:
        ser = self.ser
        _, key, dc, dr = self._slot()
        if self.pending is not None:
            if s >= ser.block0:
                raise self._bad(f"block token at {self.pos - 1} is not followed by an offset")
            xyz, is_centre = self.coder.join(self.pending, s), self.pending_centre
            self.pending = None
            self._finish(xyz, is_centre)
            return
        if s >= self.ref0:
            is_centre = s >= ser.centre_ref0
            index = s - (ser.centre_ref0 if is_centre else ser.ref0)
            if index >= len(self.cache):
                raise self._bad(f"refers to recent vertex {index}, only {len(self.cache)} written so far")
        else:
            is_centre = ser.centre0 <= s < self.ref0
        if (dc if is_centre else dr) is None:
            raise self._bad("a fan needs a centre token first and two ring vertices before the next centre")
        if key is not None:
            self.stats.table(key, 2).update(int(is_centre))
        if s >= self.ref0:
            self._finish(tuple(int(c) for c in self.geo.coords(self.cache[index])), is_centre)
        elif s >= ser.block0:
            self.pending, self.pending_centre = s - (ser.centre0 if is_centre else ser.block0), is_centre
        else:
            self._finish(self.coder.join(self.block, s), False)

    def _finish(self, xyz: tuple[int, int, int], is_centre: bool) -> None:
        _, _, dc, dr = self.slot
        v = self.geo.observe(dc if is_centre else dr, xyz)
        if is_centre:
            self.centre, self.ring = v, []
        else:
            if self.ring:
                self.geo.add_face(self.centre, self.ring[-1], v)
            self.ring.append(v)
        self.block = self.coder.block_of(xyz)
        if self.refs:
            _touch(self.cache, v, self.ser.cache_size)
        self.slot = None


def make_stream(ser: Serialization, stats: MeshStats) -> _Stream:
    """The causal token-stream model of ``ser`` over the learned ``stats`` (updated as it codes)."""
    if isinstance(ser, NaiveSerialization):
        return _NaiveStream(ser, stats)
    if isinstance(ser, AdjacentSerialization):
        return _AdjacentStream(ser, stats)
    if isinstance(ser, PatchifiedSerialization | NautilusSerialization):
        return _ShellStream(ser, stats)
    raise ValueError(f"no context model for the {type(ser).__name__} serialization")
