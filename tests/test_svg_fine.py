"""Sub-grid precision for hairline paths (FINE paths, layout 3): exact splits, round trips, constraints."""

import copy
import math
import random
import re
import xml.etree.ElementTree as ET

import pytest
import svgelements as se
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tokzoo
from svg_paths import path_data, point, segment, snapped
from tokzoo.core.errors import ConfigError
from tokzoo.data.apt import debian_package
from tokzoo.svg import SvgTokenError
from tokzoo.svg.constrain import SegmentGeometry
from tokzoo.svg.decode import parse_atoms
from tokzoo.svg.grammar import BOUNDARY_PHASES
from tokzoo.svg.render import compare_renders, render_svg

NS = 'xmlns="http://www.w3.org/2000/svg" viewBox="0 0 256 256" width="256" height="256"'
STARS = "usr/share/openclipart/svg/shapes/stars"
HATCHING = "star_57pt07step.svg"  # generative line art: ~60 straight lines, stroke width 0.26 grid steps
ICONS = "usr/share/icons/Papirus/48x48/apps"
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _svg(d: str, width: float = 0.2, fill: str = "none") -> str:
    return f'<svg {NS}><path d="{d}" fill="{fill}" stroke="#000" stroke-width="{width}"/></svg>'


def _lattice_doc(seed: int) -> str:
    """A hairline drawing on a quarter-step lattice: its units repeat, so segments of fine units are learned."""
    rng = random.Random(seed)
    x, y = 100.0, 100.0
    d = [f"M{x} {y}"]
    for _ in range(40):
        x = min(max(x + rng.choice((-2, -1, 1, 2)) * rng.choice((0.25, 0.5, 1.75)), 0), 256)
        y = min(max(y + rng.choice((-1, 0, 1)) * 0.75, 0), 256)
        d.append(f"L{x} {y}")
    return _svg(" ".join(d))


@pytest.fixture(scope="module")
def stars():
    root = debian_package("openclipart-svg") / STARS
    files = sorted(f for f in root.glob("star_*.svg") if f.name != HATCHING)
    return root / HATCHING, files[:24]


@pytest.fixture(scope="module")
def icons():
    files = sorted(
        f for f in (debian_package("papirus-icon-theme") / ICONS).glob("*.svg") if not f.is_symlink()
    )
    random.Random(1).shuffle(files)
    return files[:12]


@pytest.fixture(scope="module")
def tok(stars, icons):
    model = tokzoo.create("svg-hivg-256", num_segments=512)
    model.fit([*stars[1], *icons[:6], *(_lattice_doc(s) for s in range(12))])
    v = model.atom_vocab
    assert any(any(v.is_res(t) for t in e) for e in model.table.expansions)  # fine units were merged
    return model


def _names(model, ids) -> list[str]:
    return [model.atom_vocab.name(t) for t in ids]


def _points(svg: str) -> list[tuple[float, float]]:
    """Every absolute point (ends and controls) of the first path of ``svg``, as svgelements reads it."""
    return _path_points(next(el for el in ET.fromstring(svg) if el.tag.endswith("path")).attrib["d"])


def _path_points(d: str) -> list[tuple[float, float]]:
    out = []
    for s in se.Path(d):
        if isinstance(s, se.Move | se.Line | se.Arc):
            out.append((s.end.x, s.end.y))
        elif isinstance(s, se.QuadraticBezier):
            out += [(s.control.x, s.control.y), (s.end.x, s.end.y)]
        elif isinstance(s, se.CubicBezier):
            out += [(s.control1.x, s.control1.y), (s.control2.x, s.control2.y), (s.end.x, s.end.y)]
    return out


def test_fine_bits_must_be_0_to_4():
    for bad in (5, -1, 2.0, "4"):
        with pytest.raises(ConfigError, match="fine_bits"):
            tokzoo.create("svg-hivg-256", fine_bits=bad)
    with pytest.raises(ConfigError, match="fine_below"):
        tokzoo.create("svg-hivg-256", fine_below=0)
    sizes = [tokzoo.create("svg-hivg-256", fine_bits=b).atom_vocab.size for b in range(5)]
    assert [s - sizes[0] for s in sizes] == [0, 1 + 4, 1 + 16, 1 + 64, 1 + 256]


def test_known_split_of_a_thin_path():
    svg = _svg("M10.3 20.7 L30.2 20.9 L30.2 40.1")
    fine, coarse = tokzoo.create("svg-hivg-256"), tokzoo.create("svg-hivg-256", fine_bits=0)
    body = _names(fine, fine.encode(svg, level=1).sample(0).tolist())[6:]
    # 16 * (10.3, 20.7) = (164.8, 331.2) -> (165, 331) = cells (10, 20) + remainders (5, 11); x stays: v
    assert body == [
        *("FINE", "M", "INT(10)", "INT(20)", "RES_5_11"),
        *("l", "INT(20)", "INT(0)", "RES_3_14", "v", "INT(20)", "RES_0_2", "PATH_END", "END"),
    ]
    assert 'd="M10.3125 20.6875 l19.875 0.1875 v19.25"' in fine.decode_ids(
        fine.encode(svg).sample(0).tolist()
    )
    # without sub-grid precision: exactly the layout-2 tokens (points rounded to the grid, then differenced)
    ids = coarse.encode(svg, level=1).sample(0).tolist()
    names = _names(coarse, ids)
    assert names[2].startswith("STROKE_") and names[:2] + names[3:] == [
        *("PATH", "FILL_NONE", "INT(1)", "OPACITY_7", "STYLE_butt_miter"),
        *("M", "INT(10)", "INT(21)", "h", "INT(20)", "v", "INT(19)", "PATH_END", "END"),
    ]
    assert coarse.atom_vocab.size == fine.atom_vocab.fine  # FINE and the residuals come after layout 2


def test_thick_strokes_and_filled_paths_never_get_fine_atoms(icons):
    plain = tokzoo.create("svg-hivg-256", fine_bits=0)
    for b in range(1, 5):
        tok = tokzoo.create("svg-hivg-256", fine_bits=b)
        for f in icons:
            assert tok.encode(f, level=1).sample(0).tolist() == plain.encode(f, level=1).sample(0).tolist()
    thick = _svg("M10.3 20.7 L30.2 20.9", width=1.0)  # fine_below is strict
    filled = f'<svg {NS}><path d="M10.3 20.7 L30.2 20.9 L5.5 9.1Z" fill="#000"/></svg>'
    outlined = _svg(
        "M10.3 20.7 L30.2 20.9 L5.5 9.1Z", width=0.02, fill="#000"
    )  # a hairline outline of a fill
    fine = tokzoo.create("svg-hivg-256")
    for svg in (thick, filled, outlined):
        assert fine.encode(svg, level=1).sample(0).tolist() == plain.encode(svg, level=1).sample(0).tolist()
    v = fine.atom_vocab
    for svg, offered in ((outlined, False), (thick, True), (filled, False)):  # FINE: stroke-only paths
        atoms = fine.encode(svg, level=1).sample(0).tolist()
        assert parse_atoms(atoms[: atoms.index(v.cmd("M"))], v).allowed()[v.fine] == offered
    assert "FINE" in _names(
        fine, tokzoo.create("svg-hivg-256", fine_below=1.5).encode(thick, level=1).sample(0).tolist()
    )


def test_hatching_file_round_trips_and_renders_closer(tok, stars):
    hatching = stars[0]
    l1, l2 = tok.encode(hatching, level=1), tok.encode(hatching)
    atoms = l1.sample(0).tolist()
    assert "FINE" in _names(tok, atoms) and tok.atoms(l2.sample(0).tolist())[0] == atoms
    assert l2.num_tokens <= l1.num_tokens and tok.decode(l1) == tok.decode(l2)
    v = tok.atom_vocab
    points = sum(1 for t in atoms if v.command_of(t) not in (None, "z"))
    assert sum(1 for t in atoms if v.is_res(t)) == points > 50  # a residual per point
    coarse = tokzoo.create("svg-hivg-256", fine_bits=0)
    target = render_svg(hatching.read_bytes())
    fine_fid = compare_renders(render_svg(tok.decode(l2)[0]), target)
    coarse_fid = compare_renders(render_svg(coarse.decode(coarse.encode(hatching))[0]), target)
    assert fine_fid.coverage_iou > 0.95 > 0.8 > coarse_fid.coverage_iou


@SLOW
@given(start=st.one_of(point, snapped), segs=st.lists(segment, min_size=1, max_size=25))
def test_level2_lossless_on_generated_fine_paths(tok, start, segs):
    svg = _svg("M10 10 L50 10.25 L30 40.5 Z " + path_data(start, segs))
    l1, l2 = tok.encode(svg, level=1), tok.encode(svg)
    atoms = l1.sample(0).tolist()
    assert atoms[6] == tok.atom_vocab.fine
    assert tok.atoms(l2.sample(0).tolist())[0] == atoms
    assert tok.decode(l1) == tok.decode(l2)


@settings(max_examples=40, deadline=None)
@given(
    start=point,
    segs=st.lists(
        st.one_of(point.map(lambda p: ("L", p)), st.tuples(point, point, point)), min_size=1, max_size=30
    ),
    bits=st.integers(1, 4),
)
def test_every_decoded_point_is_within_half_a_fine_step(start, segs, bits):
    """Lines (dropped only when zero-length on the lattice) and cubics (never dropped)."""
    tok = tokzoo.create("svg-hivg-256", fine_bits=bits, num_segments=0)
    n = 1 << bits
    want = [start]
    parts = [f"M{start[0]!r} {start[1]!r}"]
    snap = lambda p: (math.floor(p[0] * n + 0.5) / n, math.floor(p[1] * n + 0.5) / n)  # noqa: E731
    last = snap(start)
    for s in segs:
        if s[0] == "L":
            if snap(s[1]) == last:
                continue  # a zero-length line on the lattice is dropped
            parts.append(f"L{s[1][0]!r} {s[1][1]!r}")
            want.append(s[1])
            last = snap(s[1])
        else:
            parts.append("C" + " ".join(f"{p[0]!r} {p[1]!r}" for p in s))
            want += list(s)
            last = snap(s[2])
    if len(parts) == 1:
        return
    svg = _svg(" ".join(parts)).replace("<path", '<path id="p"')
    decoded = tok.decode(tok.encode(svg))[0]
    got = _points(decoded)  # an s command's first control is read back as the reflected point
    for (gx, gy), (wx, wy) in zip(got, want, strict=True):
        assert abs(gx - wx) <= 0.5 / n + 1e-9 and abs(gy - wy) <= 0.5 / n + 1e-9
        assert (gx * n).is_integer() and (gy * n).is_integer()


wide = st.tuples(st.floats(-300, 560), st.floats(-300, 560))  # beyond both clamp edges [-128, 384]


@settings(max_examples=40, deadline=None)
@given(
    start=wide,
    segs=st.lists(st.one_of(wide.map(lambda p: ("L", p)), st.tuples(wide, wide, wide)), max_size=20),
)
def test_negative_and_clamped_fine_points_decode_to_the_clamped_lattice_point(tok, start, segs):
    """Floor division and remainder of negative lattice values, and points clamped at either range edge."""
    v, n = tok.atom_vocab, tok.atom_vocab.fine_steps
    lo, hi = v.coord_range

    def snap(p):
        return tuple(min(max(math.floor(c * n + 0.5), lo * n), hi * n) / n for c in p)

    want, parts, last = [snap(start)], [f"M{start[0]!r} {start[1]!r}"], snap(start)
    for s in segs:
        if s[0] == "L":
            if snap(s[1]) == last:
                continue  # zero length on the lattice: dropped
            parts.append(f"L{s[1][0]!r} {s[1][1]!r}")
            want.append(last := snap(s[1]))
        else:
            parts.append("C" + " ".join(f"{p[0]!r} {p[1]!r}" for p in s))
            want += [snap(p) for p in s]
            last = want[-1]
    if len(parts) == 1:
        return
    svg = _svg("M10 10 L50 10.25 " + " ".join(parts))
    l1, l2 = tok.encode(svg, level=1), tok.encode(svg)
    assert tok.atoms(l2.sample(0).tolist())[0] == l1.sample(0).tolist()
    (decoded,) = tok.decode(l2)
    assert _points(decoded)[2:] == want  # after the fixed start "M10 10 L50 10.25"


def test_no_drift_over_a_long_path():
    rng = random.Random(0)
    pts = [(128.0, 128.0)]
    for _ in range(3000):
        x, y = pts[-1]
        pts.append(
            (min(max(x + rng.uniform(-0.45, 0.45), 1), 255), min(max(y + rng.uniform(-0.45, 0.45), 1), 255))
        )
    d = "M" + " L".join(f"{x!r} {y!r}" for x, y in pts)
    tok = tokzoo.create("svg-hivg-256", num_segments=0)
    got = _points(tok.decode(tok.encode(_svg(d, width=0.1)))[0])
    want = []
    for p in pts:  # lattice points, repeats dropped like zero-length lines
        q = (math.floor(p[0] * 16 + 0.5) / 16, math.floor(p[1] * 16 + 0.5) / 16)
        if not want or want[-1] != q:
            want.append(q)
    assert got == want


def _explicit_points(d: str) -> list[tuple[float, float]]:
    """The points a decoded ``d`` writes (ends, written controls; not the reflected controls of s/t), absolute."""
    out, cur, start = [], (0.0, 0.0), (0.0, 0.0)
    for letter, nums in re.findall(r"([MmlhvcsqtaZz])([^MmlhvcsqtaZz]*)", d):
        p = [float(n) for n in nums.split()]
        if letter in "zZ":
            cur = start
            continue
        if letter == "h":
            pts = [(cur[0] + p[0], cur[1])]
        elif letter == "v":
            pts = [(cur[0], cur[1] + p[0])]
        elif letter == "M":
            pts = [(p[0], p[1])]
        else:
            p = p[-2:] if letter == "a" else p
            pts = [(cur[0] + dx, cur[1] + dy) for dx, dy in zip(p[0::2], p[1::2], strict=True)]
        out += pts
        cur = pts[-1]
        if letter in "Mm":
            start = cur
    return out


def _valid(text: str, render: bool = True) -> None:
    """Parses, renders, and every written point of every path lies in the grid's coordinate range."""
    for el in ET.fromstring(text):
        if el.tag.endswith("path"):
            assert len(se.Path(el.attrib["d"])) >= 1
            assert all(-128 <= x <= 384 and -128 <= y <= 384 for x, y in _explicit_points(el.attrib["d"]))
    if render:
        render_svg(text)


@pytest.mark.parametrize("level", [1, 2])
def test_every_prefix_of_a_fine_sequence_is_allowed_and_decodes(tok, stars, level):
    svg = _svg(
        "M10 10 L50 10.25 Q70.3 5.1 80.6 20.2 T90.9 40.4 A20 10.5 30 0 1 120.1 60.3 C1 2 3 4 5.5 6.5 "
        "S200 1 255.9 255.9 H3.1 V7.7 Z m1 1 l1.1 3.3"
    )
    for ids in (
        tok.encode(svg, level=level).sample(0).tolist(),
        tok.encode(stars[0], level=level).sample(0).tolist()[:90],
    ):
        for k in range(len(ids)):
            assert tok.allowed_next(ids[:k], level=level)[ids[k]], (
                k,
                _names(tok, tok.atoms(ids[: k + 1], level)[0][-3:]),
            )
            _valid(tok.decode_ids(ids[:k], level=level))


@pytest.mark.parametrize("level", [1, 2])
def test_random_constrained_generation_stays_in_range(tok, level):
    v = tok.atom_vocab
    for seed in range(4):
        rng = random.Random(seed)
        ids: list[int] = []
        for _ in range(120):
            allowed = tok.allowed_next(ids, level=level).nonzero().flatten().tolist()
            if not allowed:
                break
            prefer = [t for t in allowed if t == v.fine or (seed % 2 and t == v.FILL_NONE)]
            go_on = [t for t in allowed if t != v.END] or allowed
            ids.append(prefer[0] if prefer else rng.choice(go_on))  # FINE whenever offered, never END
            _valid(tok.decode_ids(ids, level=level), render=len(ids) % 10 == 0)
        assert "FINE" in _names(tok, tok.atoms(ids, level)[0]) or seed % 2 == 0  # odd: unfilled paths


def test_residuals_at_the_upper_edge_keep_the_point_in_range():
    tok = tokzoo.create("svg-hivg-256", num_segments=0)
    v = tok.atom_vocab
    hi = v.coord_range[1]
    svg = _svg(
        f"M{hi} 10.5 L{hi - 0.5} {hi} L{hi} {hi}"
    )  # on the upper edge only a zero remainder is in range
    atoms = tok.encode(svg, level=1).sample(0).tolist()
    assert _names(tok, atoms)[6:] == [
        *("FINE", "M", f"INT({hi})", "INT(10)", "RES_0_8"),
        *("l", "INT(-1)", f"INT({hi - 10})", "RES_8_0", "h", "INT(1)", "RES_0_0", "PATH_END", "END"),
    ]
    expected = {  # the residuals allowed after each point's integers: x at the edge, y free, ...
        10: {v.res(0, ry) for ry in range(16)},
        14: {v.res(rx, 0) for rx in range(16)},
        17: {v.res(0, 0)},  # h: x at the edge, and h keeps y (its y remainder is 0)
    }
    for k, want in expected.items():
        mask = parse_atoms(atoms[:k], v).allowed()
        assert {t for t in range(v.res0, v.res0 + v.residuals) if mask[t]} == want
    with pytest.raises(SvgTokenError, match="residual"):
        tok.decode_ids([*atoms[:10], v.res(1, 0)], level=1)
    inner = tok.encode(_svg("M200.3 10.5 L100 100.3"), level=1).sample(0).tolist()
    assert parse_atoms(inner[:10], v).allowed()[v.res0 : v.res0 + v.residuals].all()


def test_segment_mask_is_exact(tok, stars):
    """A segment is allowed exactly when the grammar accepts all its atoms as whole units (every point in
    range, coarse units in coarse paths and fine ones in FINE paths)."""
    table, v = tok.table, tok.atom_vocab
    rng = random.Random(0)
    states = []
    for seed in range(3):
        ids: list[int] = []
        for _ in range(60):
            allowed = tok.allowed_next(ids, level=1).nonzero().flatten().tolist()
            if not allowed:
                break
            prefer = [t for t in allowed if t in (v.fine, v.FILL_NONE)]
            ids.append(prefer[0] if prefer and seed else rng.choice(allowed))
            parser = parse_atoms(ids, v)
            if parser.phase in BOUNDARY_PHASES:
                states.append(parser)
    assert any(s.fine for s in states) and any(not s.fine for s in states)
    geometry = SegmentGeometry(table, v)
    fine_allowed = 0
    for parser in states[::3]:
        mask = geometry.allowed(parser)
        fine_allowed += sum(mask[k] for k, e in enumerate(table.expansions) if any(v.is_res(t) for t in e))
        for k, atoms in enumerate(table.expansions):
            trial = copy.deepcopy(parser)
            try:
                for t in atoms:
                    trial.feed(t)
                ok = trial.phase in BOUNDARY_PHASES  # whole units: a coarse unit leaves a fine one unfinished
            except SvgTokenError:
                ok = False
            assert mask[k] == ok, (k, [v.name(t) for t in atoms], parser.cur, parser.start, parser.scale)
    assert fine_allowed > 0


def test_fine_tokenizer_saves_and_loads(tok, stars, tmp_path):
    tok.save_pretrained(tmp_path / "m")
    back = tokzoo.load(tmp_path / "m")
    assert (
        back.cfg.fine_bits == 4
        and back.encode(stars[0]).sample(0).tolist() == tok.encode(stars[0]).sample(0).tolist()
    )
