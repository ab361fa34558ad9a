"""The next vertex of a mesh token stream, predicted from the geometry decoded so far.

A mesh serialization writes each face corner either as a vertex already written (again, or by a reference)
or as a new one. :meth:`MeshContext.predict` gives the joint distribution of the next vertex as a mixture of

- a **copy** distribution over the vertices decoded so far: each falls into a class (a vertex the
  serialization hints at, e.g. the previous face's corner; a common neighbour of the corners already known;
  a neighbour of one of them; any other), the class is chosen by an adaptive table and within it recent
  vertices weigh more. This is the structure Edgebreaker-style connectivity coders exploit (a face's third
  vertex is nearly always next to its edge: "Edgebreaker: Connectivity compression for triangle meshes",
  Rossignac, 1999), here as probabilities;
- a **new** vertex whose three coordinates are each a fixed-share mixture of a Laplace residual around a
  prediction (the parallelogram rule of "Triangle Mesh Compression", Touma & Gotsman, 1998, as Draco uses
  it), the values this axis already took in this mesh (artist meshes reuse a few planes), the values of a
  training set, spikes at the known corners' coordinates, and a uniform floor.

The mixture is exact Bayes over the joint vertex, so :meth:`VertexDist.axis_probs` (coordinates one token per
axis) and :meth:`VertexDist.block_mass` / :meth:`VertexDist.offset_mass` (BPT's block/offset tokens) are the
marginals and conditionals of the same distribution. Everything depends only on decoded tokens (causal).
Learned statistics live in :class:`MeshStats`, fitted on training meshes and copied for each coded mesh.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from tokzoo.mesh.coords import BlockCoder
from tokzoo.prior.mixing import FixedShareMixer, counts_table, laplace

__all__ = ["MeshContext", "MeshStats", "VertexDist"]

#: copy classes (see MeshContext._classes)
_CLASSES = 12
_COMPONENTS = 5  # residual, mesh values, training values, corner spikes, uniform


class MeshStats:
    """The learnable state shared across meshes: adaptive tables, mixers and residual scales, per context."""

    def __init__(self, bits: int) -> None:
        self.size = 2**bits
        self.tables: dict = {}
        self.mixers: dict = {}
        self.scales: dict = {}

    def table(self, key: object, size: int):
        return counts_table(self.tables, key, size)

    def mixer(self, key: object) -> FixedShareMixer:
        m = self.mixers.get(key)
        if m is None:
            m = self.mixers[key] = FixedShareMixer(_COMPONENTS)
        return m

    def value_probs(self, axis: int) -> np.ndarray:
        return counts_table(self.tables, ("values", axis), self.size, prior=0.05).probs()


class VertexDist:
    """Joint distribution of the next vertex: weighted copies of decoded vertices plus a product of axes."""

    def __init__(self, key, xyz, w, cls, copy_key, novel, p_novel, comps, pred) -> None:
        self.key = key
        self.xyz, self.w = xyz, w  # decoded vertices (n, 3) (index: vertex id), copy weights (sum: P(copy))
        self.cls, self.copy_key = cls, copy_key  # copy class of each; table key of the copy decision
        self.novel, self.p_novel = novel, p_novel  # (3, G) per-axis probabilities of a new vertex, its weight
        self.comps, self.pred = comps, pred  # (3, K, G) mixture components per axis; predicted coordinates

    def axis_probs(self, axis: int, prefix: Sequence[int]) -> np.ndarray:
        """Unnormalised (G,) P(coordinate ``axis`` = a, earlier axes = ``prefix``)."""
        mask = np.ones(len(self.w), dtype=bool)
        scale = self.p_novel
        for k, c in enumerate(prefix[:axis]):
            mask &= self.xyz[:, k] == c
            scale *= self.novel[k, c]
        out = scale * self.novel[axis]
        if mask.any():
            out = out + np.bincount(self.xyz[mask, axis], weights=self.w[mask], minlength=len(out))
        return out

    def block_mass(self, coder: BlockCoder, cands: np.ndarray) -> np.ndarray:
        """Unnormalised (num_blocks,) mass of the vertex lying in each block, copies restricted to ``cands``."""
        n = 2**coder.block_bits
        per_axis = [self.novel[k].reshape(n, -1).sum(1) for k in range(3)]
        out = self.p_novel * np.einsum("i,j,k->ijk", *per_axis).reshape(-1)
        if cands.any():
            blocks, _ = coder.split(self.xyz[cands])
            out = out + np.bincount(blocks, weights=self.w[cands], minlength=len(out))
        return out

    def offset_mass(self, coder: BlockCoder, block: int, cands: np.ndarray) -> np.ndarray:
        """Unnormalised (num_offsets,) mass of each offset inside ``block``, copies restricted to ``cands``."""
        n = 2**coder.block_bits
        hi = coder.join(block, 0)
        rows = [self.novel[k].reshape(n, -1)[hi[k] >> coder.offset_bits] for k in range(3)]
        out = self.p_novel * np.einsum("i,j,k->ijk", *rows).reshape(-1)
        if cands.any():
            blocks, offsets = coder.split(self.xyz[cands])
            inside = blocks == block
            if inside.any():
                out = out + np.bincount(offsets[inside], weights=self.w[cands][inside], minlength=len(out))
        return out


class MeshContext:
    """The geometry and connectivity decoded so far in one mesh, and the vertex predictor over it."""

    def __init__(self, stats: MeshStats) -> None:
        self.stats = stats
        self.size = stats.size
        self.xyz = np.zeros((16, 3), dtype=np.int64)
        self.last = np.zeros(16, dtype=np.float64)  # time of each vertex's latest occurrence
        self.openness = np.zeros(16, dtype=np.int64)  # open half-edges at each vertex
        self.n = 0
        self.index: dict[tuple[int, int, int], int] = {}
        self.nbrs: list[set[int]] = []
        self.open_from: list[set[int]] = []  # open_from[u]: v with the half-edge u -> v decoded, v -> u not
        self.open_to: list[set[int]] = []  # open_to[v]: the same edges seen from v
        self.hist = np.zeros((3, self.size))  # per-axis values of this mesh's vertices
        self.t = 0.0
        self.prev: tuple[int, int, int] | None = None  # last vertex coded

    def coords(self, v: int) -> np.ndarray:
        return self.xyz[v]

    def add_face(self, a: int, b: int, c: int) -> None:
        """Record the decoded face (a, b, c): adjacency and open half-edges (those whose twin is not decoded)."""
        for u, v in ((a, b), (b, c), (c, a)):
            self.nbrs[u].add(v)
            self.nbrs[v].add(u)
            if u in self.open_from[v]:  # the twin v -> u was open: the edge is now interior
                self.open_from[v].discard(u)
                self.open_to[u].discard(v)
                self.openness[[u, v]] -= 1
            elif v not in self.open_from[u]:
                self.open_from[u].add(v)
                self.open_to[v].add(u)
                self.openness[[u, v]] += 1

    def _classes(self, n: int, face: tuple, ctx: list[int], hints: list[int]) -> np.ndarray:
        """Copy class of every decoded vertex: 2 * base + (it has an open half-edge), base being 0 other,
        1 / 2 adjacent to one / two known corners, 3 / 4 sharing an open edge with one / both sides of the new
        face (a, b, new), 5 hinted by the serialization."""
        base = np.zeros(n, dtype=np.int64)
        for c in ctx:
            if self.nbrs[c]:
                base[list(self.nbrs[c])] += 1
        base = np.minimum(base, 2)
        a, b = face
        match = np.zeros(n, dtype=np.int64)
        if b is not None and self.open_to[b]:
            match[list(self.open_to[b])] += 1
        if a is not None and self.open_from[a]:
            match[list(self.open_from[a])] += 1
        base = np.where(match > 0, 2 + match, base)
        base[hints] = 5
        return 2 * base + (self.openness[:n] > 0)

    def predict(
        self,
        key: object,
        face: tuple[int | None, int | None] = (None, None),
        ctx: Iterable[int] = (),
        hints: Iterable[int] = (),
        exclude: Iterable[int] = (),
        pred: np.ndarray | None = None,
    ) -> VertexDist:
        """The next vertex's distribution in context ``key``. The vertex completes the face ``(a, b, new)``
        (``face = (a, b)``, either None when unknown); ``ctx`` are corners it is probably adjacent to,
        ``hints`` vertices the serialization makes likely, ``exclude`` vertices it cannot be, ``pred``
        predicted coordinates (default: the last vertex coded)."""
        st, n, g = self.stats, self.n, self.size
        ctx = [v for v in ctx if v is not None]
        if pred is None:
            pred = np.asarray(self.prev if self.prev is not None else (g // 2,) * 3, dtype=np.float64)
        pred = np.clip(pred, 0, g - 1)
        if n:
            cls = self._classes(n, face, ctx, [h for h in hints if h is not None])
            ok = np.ones(n, dtype=bool)
            ok[[e for e in exclude if e is not None]] = False
            rec = ok / (1.0 + self.t - self.last[:n])
            present = np.bincount(cls, weights=rec, minlength=_CLASSES)
            pc = st.table(("class", key), _CLASSES).probs() * (present > 0)
            pc = pc / pc.sum() if pc.sum() > 0 else pc
            w = rec * pc[cls] / np.maximum(present[cls], 1e-300)
            copy_key = ("copy", key, int(present[6:].any())) if pc.sum() > 0 else None
            p_copy = st.table(copy_key, 2).probs()[1] if copy_key else 0.0
            w = w * p_copy
        else:
            cls, w, p_copy, copy_key = np.zeros(0, np.int64), np.zeros(0), 0.0, None
        comps = np.empty((3, _COMPONENTS, g))
        novel = np.empty((3, g))
        corner_vals = [self.xyz[c] for c in ctx]
        for k in range(3):
            scale = st.scales.get((key, k), 4.0)
            comps[k, 0] = laplace(pred[k], scale, g)
            h = self.hist[k]
            comps[k, 1] = h / h.sum() if h.sum() > 0 else 1.0 / g
            comps[k, 2] = st.value_probs(k)
            spikes = np.zeros(g)
            spikes[int(np.rint(pred[k]))] += 1.0
            for cv in corner_vals:
                spikes[cv[k]] += 1.0
            comps[k, 3] = spikes / spikes.sum()
            comps[k, 4] = 1.0 / g
            novel[k] = st.mixer((key, k)).mix(comps[k])
        return VertexDist(key, self.xyz[:n], w, cls, copy_key, novel, 1.0 - p_copy, comps, pred)

    def observe(self, dist: VertexDist, xyz: Sequence[int]) -> int:
        """Learn from the coded vertex ``xyz`` (predicted by ``dist``) and return its vertex id."""
        st = self.stats
        xyz = tuple(int(c) for c in xyz)
        v = self.index.get(xyz)
        copied = v is not None and v < len(dist.w) and dist.w[v] > 0
        if dist.copy_key is not None:
            st.table(dist.copy_key, 2).update(int(copied))
        if copied:
            st.table(("class", dist.key), _CLASSES).update(int(dist.cls[v]))
        else:
            for k in range(3):
                st.mixer((dist.key, k)).update(dist.comps[k, :, xyz[k]])
                res = abs(xyz[k] - dist.pred[k])
                st.scales[(dist.key, k)] = 0.9 * st.scales.get((dist.key, k), 4.0) + 0.1 * max(res, 0.25)
                counts_table(st.tables, ("values", k), self.size, prior=0.05).update(xyz[k])
        if v is None:
            v = self._add(xyz)
        self.last[v] = self.t
        self.t += 1.0
        self.prev = xyz
        return v

    def _add(self, xyz: tuple[int, int, int]) -> int:
        if self.n == len(self.xyz):
            self.xyz = np.concatenate([self.xyz, np.zeros_like(self.xyz)])
            self.last = np.concatenate([self.last, np.zeros_like(self.last)])
            self.openness = np.concatenate([self.openness, np.zeros_like(self.openness)])
        v = self.n
        self.xyz[v] = xyz
        self.n += 1
        self.index[xyz] = v
        self.nbrs.append(set())
        self.open_from.append(set())
        self.open_to.append(set())
        for k in range(3):
            self.hist[k, xyz[k]] += 1.0
        return v
