"""Hypothesis strategies for SVG path data shared by the SVG tokenizer tests."""

from __future__ import annotations

from hypothesis import strategies as st

coord = st.floats(0, 256, allow_nan=False)
point = st.tuples(coord, coord)
#: Points on the quarter-step lattice (so sub-grid residuals hit exact values, including 0).
snapped = point.map(lambda p: (round(p[0] * 4) / 4, round(p[1] * 4) / 4))
#: One absolute path command with its parameters: every command letter except ``V``.
segment = st.one_of(
    st.tuples(st.just("L"), st.one_of(point, snapped)),
    st.tuples(st.just("H"), coord),
    st.tuples(st.just("Q"), point, point),
    st.tuples(st.just("T"), point),
    st.tuples(st.just("C"), point, point, point),
    st.tuples(st.just("S"), point, point),
    st.tuples(
        st.just("A"),
        st.floats(1, 200),
        st.floats(1, 200),
        st.integers(0, 359),
        st.booleans(),
        st.booleans(),
        point,
    ),
    st.tuples(st.just("Z")),
    st.tuples(st.just("M"), point),
)


def path_data(start: tuple[float, float], segs: list[tuple]) -> str:
    """The ``d`` attribute of a path starting at ``start`` with the generated ``segs`` (arc flags as 0/1)."""
    out = [f"M{start[0]!r} {start[1]!r}"]
    for s in segs:
        nums = [n for part in s[1:] for n in (part if isinstance(part, tuple) else (part,))]
        out.append(s[0] + " ".join(repr(int(n) if isinstance(n, bool) else n) for n in nums))
    return " ".join(out)
