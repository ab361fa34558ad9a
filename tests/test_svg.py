"""HiVG-style SVG tokens: lossless levels, quantization bound, prefix validity, fidelity, checkpoints."""

import math
import random
import xml.etree.ElementTree as ET

import pytest
import svgelements as se
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tokzoo
from svg_paths import path_data, point, segment
from tokzoo.data.apt import debian_package
from tokzoo.svg import SvgInputError, SvgTokenError
from tokzoo.svg.render import compare_renders, render_svg

ICONS = "usr/share/icons/Papirus/48x48/apps"


@pytest.fixture(scope="module")
def real_files():
    files = sorted((debian_package("papirus-icon-theme") / ICONS).glob("*.svg"))
    files = [f for f in files if not f.is_symlink()]
    random.Random(0).shuffle(files)
    return files[:80], files[80:110]


@pytest.fixture(scope="module")
def tok(real_files):
    model = tokzoo.create("svg-hivg-256", num_segments=512)
    stats = model.fit(real_files[0])
    assert stats["files"] == 80 and stats["segments"] > 100
    return model


def test_registered():
    assert {"svg-hivg-128", "svg-hivg-256"} <= set(tokzoo.list(modality="svg"))


def test_level2_is_lossless_and_shorter_on_real_files(tok, real_files):
    n1 = n2 = 0
    for f in real_files[1]:
        l1, l2 = tok.encode(f, level=1), tok.encode(f)
        assert tok.atoms(l2.sample(0).tolist())[0] == l1.sample(0).tolist()
        assert tok.decode(l1) == tok.decode(l2)
        n1, n2 = n1 + l1.num_tokens, n2 + l2.num_tokens
    assert n2 < 0.9 * n1


def test_render_fidelity_on_real_files(tok, real_files):
    ious = []
    for f in real_files[1][:6]:
        fid = compare_renders(render_svg(tok.decode(tok.encode(f))[0]), render_svg(f.read_bytes()))
        ious.append(fid.iou)
        assert fid.psnr > 15
    assert sum(ious) / len(ious) >= 0.97


def _doc(d: str, extra: str = "") -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 256 256" width="256" height="256">'
        f'<path d="{d}" fill="#336699" {extra}/></svg>'
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=point, segs=st.lists(segment, min_size=1, max_size=25))
def test_level2_lossless_on_generated_paths(tok, start, segs):
    svg = _doc(
        "M10 10 L50 10 L30 40 Z " + path_data(start, segs)
    )  # something drawable, then the generated path
    l1, l2 = tok.encode(svg, level=1), tok.encode(svg)
    assert tok.atoms(l2.sample(0).tolist())[0] == l1.sample(0).tolist()


@settings(max_examples=60, deadline=None)
@given(start=point, pts=st.lists(point, min_size=1, max_size=30))
def test_quantization_error_at_most_half_a_grid_step(start, pts):
    tok = tokzoo.create("svg-hivg-256", num_segments=0)
    d = f"M{start[0]!r} {start[1]!r} " + " ".join(f"L{x!r} {y!r}" for x, y in pts)
    want: list[tuple[float, float]] = []  # the vertices after rounding, repeats (zero-length lines) dropped
    for x, y in [start, *pts]:
        q = (float(math.floor(x + 0.5)), float(math.floor(y + 0.5)))
        assert abs(q[0] - x) <= 0.5 and abs(q[1] - y) <= 0.5
        if not want or want[-1] != q:
            want.append(q)
    if len(want) == 1:  # every point rounds to the start: nothing is drawn, which is refused
        with pytest.raises(SvgInputError, match="no drawable content"):
            tok.encode(_doc(d, 'stroke="#000"'))
        return
    decoded = tok.decode(tok.encode(_doc(d, 'stroke="#000"')))[0]
    path = se.Path(ET.fromstring(decoded)[0].attrib["d"])
    assert [(s.end.x, s.end.y) for s in path if isinstance(s, (se.Move, se.Line))] == want


def _valid_svg(text: str) -> None:
    root = ET.fromstring(text)
    assert root.tag.endswith("svg")
    for el in root:
        if el.tag.endswith("path"):
            se.Path(el.attrib["d"])
        else:
            assert el.tag.endswith("linearGradient") and len(el) == 2
    render_svg(text)


def test_every_prefix_of_a_real_sequence_is_allowed_and_decodes(tok, real_files):
    ids = min((tok.encode(f).sample(0).tolist() for f in real_files[1]), key=len)
    for k in [*range(min(len(ids), 80)), *range(80, len(ids), 7)]:
        assert tok.allowed_next(ids[:k])[ids[k]], k
        _valid_svg(tok.decode_ids(ids[:k]))
    assert not tok.allowed_next(ids).any()  # nothing after END


@pytest.mark.parametrize("level", [1, 2])
def test_random_constrained_generation_stays_valid(tok, level):
    rng = random.Random(level)
    ids: list[int] = []
    for _ in range(60):
        allowed = tok.allowed_next(ids, level=level).nonzero().flatten().tolist()
        if not allowed:
            break
        ids.append(rng.choice(allowed))
        _valid_svg(tok.decode_ids(ids, level=level))


def test_bad_token_names_its_position(tok, real_files):
    ids = tok.encode(real_files[1][0]).sample(0).tolist()
    bad = ids[:5] + [tok.atom_vocab.value(0)] * 3 + ids[5:]
    with pytest.raises(SvgTokenError) as e:
        tok.decode_ids(bad)
    assert e.value.position in (5, 6, 7) and f"token {e.value.position}:" in str(e.value)
    with pytest.raises(SvgTokenError, match=r"token 2: .*out of the vocabulary"):
        tok.decode_ids([1, 3, tok.vocab_size + 5])


def test_shapes_transforms_and_compact_arcs():
    svg = """<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 128 128">
      <g transform="translate(4 2) rotate(10)"><g transform="scale(1.5)">
        <rect x="2" y="3" width="20" height="10" rx="3" fill="red"/>
        <circle cx="40" cy="20" r="8" fill="blue" fill-opacity="0.5"/></g>
        <ellipse cx="80" cy="30" rx="12" ry="6" fill="green"/>
        <line x1="0" y1="60" x2="120" y2="50" stroke="black" stroke-width="3"/>
        <polyline points="10,40 20,50 30,40" fill="none" stroke="#f0f" stroke-width="2"/>
        <polygon points="100,5 120,5 110,20" fill="orange"/></g>
      <path d="M60 40a10 10 0 01.5.5 10 10 0 1110 10z" fill="purple" fill-rule="evenodd"/>
    </svg>"""
    tok = tokzoo.create("svg-hivg-256", num_segments=0)
    fid = compare_renders(render_svg(tok.decode(tok.encode(svg))[0]), render_svg(svg))
    assert fid.iou > 0.9 and fid.psnr > 20


def test_save_and_load_keep_segments_and_palette(tok, real_files, tmp_path):
    tok.registry_name = "svg-hivg-256"
    loaded = tokzoo.load(tok.save_pretrained(tmp_path / "m"))
    f = real_files[1][3]
    assert loaded.encode(f).equal(tok.encode(f))
    assert (loaded.palette == tok.palette).all()


def test_both_levels_from_one_parse_equal_encode(tok, real_files):
    files = real_files[1][:3]
    docs = [tok.level1(f) for f in files]
    for level in (1, 2):
        once, encoded = tok.doc_tokens(docs, level), tok.encode(files, level=level)
        assert once.ids.equal(encoded.ids) and once.lengths.equal(encoded.lengths)
        assert once.vocab_size == encoded.vocab_size and once.meta == encoded.meta
