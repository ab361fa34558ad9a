"""Fans around a centre vertex: the patches of BPT and the shells of Nautilus.

A fan is a centre ``c`` and an ordered ring ``r0, r1, ..., rk`` standing for the faces ``(c, r_i, r_{i+1})``
(orientation kept); a closed ring ends with ``r0`` again. :class:`FanCover` hands out, for any centre, all
of its not yet covered faces as maximal fans, and keeps the count of uncovered faces at every vertex so
that the next centre can be chosen by degree.
"""

from __future__ import annotations

import heapq

import numpy as np

__all__ = ["FanCover", "rotate_closed"]


def rotate_closed(ring: list[int], cost) -> list[int]:
    """A closed ring (``ring[0] == ring[-1]``) restarted at its vertex of least ``cost`` (same faces);
    an open ring unchanged."""
    if len(ring) < 3 or ring[0] != ring[-1]:
        return ring
    body = ring[:-1]
    i = min(range(len(body)), key=lambda k: cost(body[k]))
    return body[i:] + body[:i] + [body[i]]


class FanCover:
    """Covers a mesh's faces with fans, each face exactly once."""

    def __init__(self, faces: np.ndarray, num_vertices: int) -> None:
        self.rows: list[list[int]] = faces.tolist()
        self.alive = bytearray([1]) * len(self.rows)
        self.incident: list[list[int]] = [[] for _ in range(num_vertices)]
        for i, row in enumerate(self.rows):
            for v in row:
                self.incident[v].append(i)
        self.degree = [len(f) for f in self.incident]
        self.remaining = len(self.rows)
        self._heap = [(-d, v) for v, d in enumerate(self.degree) if d]
        heapq.heapify(self._heap)

    def highest_degree(self) -> int:
        """The vertex with the most uncovered faces (ties: lowest in canonical order); -1 when all are covered."""
        while self._heap:
            d, v = self._heap[0]
            if -d == self.degree[v] and d:
                return v
            heapq.heappop(self._heap)
        return -1

    def take_fans(self, centre: int) -> list[list[int]]:
        """All uncovered faces around ``centre`` as maximal fans (rings), marking them covered."""
        succ: dict[int, list[tuple[int, int]]] = {}
        balance: dict[int, int] = {}  # out-degree minus in-degree in the link of the centre
        order: list[int] = []
        for f in self.incident[centre]:
            if not self.alive[f]:
                continue
            a, b, c = self.rows[f]
            a, b = (b, c) if a == centre else (c, a) if b == centre else (a, b)
            if a not in succ:
                succ[a] = []
                order.append(a)
            succ[a].append((b, f))
            balance[a] = balance.get(a, 0) + 1
            balance[b] = balance.get(b, 0) - 1
        starts = [v for v in order if balance[v] > 0] + order  # open fans first start at a ring boundary
        rings = []
        for s in starts:
            if not succ.get(s):
                continue
            ring, v = [s], s
            while succ.get(v):
                w, f = succ[v].pop(0)
                self._cover(f)
                ring.append(w)
                v = w
            rings.append(ring)
        return rings

    def _cover(self, f: int) -> None:
        self.alive[f] = 0
        self.remaining -= 1
        for v in self.rows[f]:
            self.degree[v] -= 1
            if self.degree[v]:
                heapq.heappush(self._heap, (-self.degree[v], v))
