"""Bad SVG input gives SvgInputError (a DataError), never a hang or another exception; fuzzed with hypothesis."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tokzoo
from tokzoo.data.apt import debian_package
from tokzoo.svg import SvgInputError, SvgTokenError

HEAD = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'


@pytest.fixture(scope="module")
def tok():
    return tokzoo.create("svg-hivg-256", num_segments=0)


@pytest.mark.parametrize(
    ("svg", "match"),
    [
        ("<svg><path d='M0 0 L1 1'", "malformed XML"),
        ("not xml at all", "malformed XML"),
        ("<html><body/></html>", "not <svg>"),
        (HEAD + "</svg>", "no drawable content"),
        (HEAD + '<text x="1" y="1">only text</text></svg>', "no drawable content"),
        (HEAD + '<path d="M1 1 L5 5" fill="none"/></svg>', "no drawable content"),
        (HEAD + '<path d="M1 1 L5 5 L1 5z" fill="red" opacity="0"/></svg>', "no drawable content"),
        (HEAD + '<path d="M1 1 L5 5 L1 5z" transform="scale(1e308) scale(1e308)"/></svg>', "non-finite"),
        (
            '<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"><path d="M1 1 L5 5z"/></svg>',
            "width",
        ),
    ],
)
def test_bad_svg_is_a_clear_error(tok, svg, match):
    with pytest.raises(SvgInputError, match=match):
        tok.encode(svg)


def test_nan_in_a_path_is_not_garbage(tok):
    """svgelements stops reading a path at a token that is not a number: the path keeps its valid part."""
    svg = HEAD + '<path d="M1 1 L5 NaN L5 5 L1 5 z" fill="red"/></svg>'
    try:
        out = tok.decode(tok.encode(svg))[0]
    except SvgInputError:
        return
    assert "nan" not in out.lower()


def test_huge_coordinates_are_clamped_and_counted(tok):
    svg = HEAD + '<path d="M1 1 L1e30 5 L5 5 z" fill="red"/></svg>'
    tokens = tok.encode(svg)
    assert tokens.meta["clamped"] == [1]
    _, hi = tok.atom_vocab.coord_range
    assert f"M16 16 l{hi - 16} 64" in tok.decode(tokens)[0]  # x clamped to the range, y = 5 * 16


def test_use_cycle_is_an_error_not_a_hang(tok):
    svg = HEAD + '<g id="a"><use href="#a"/><path d="M1 1 L5 5 L1 5z"/></g></svg>'
    try:
        out = tok.decode(tok.encode(svg))[0]
    except SvgInputError:  # svgelements' recursion guard, reported as bad input
        return
    assert out.startswith("<svg")


def _check(tok, data) -> None:
    try:
        tokens = tok.encode(data)
    except SvgInputError:
        return
    tok.decode(tokens)


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400))
def test_random_input_only_raises_svg_input_error(tok, data):
    _check(tok, data)


@pytest.fixture(scope="module")
def real_bytes():
    root = debian_package("papirus-icon-theme") / "usr/share/icons/Papirus/22x22/apps"
    files = sorted(f for f in root.glob("*.svg") if not f.is_symlink())
    return [f.read_bytes() for f in random.Random(1).sample(files, 20)]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_real_files_only_raise_svg_input_error(tok, real_bytes, data):
    raw = bytearray(data.draw(st.sampled_from(real_bytes)))
    for _ in range(data.draw(st.integers(1, 8))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "digit"]))
        i = data.draw(st.integers(0, max(0, len(raw) - 1)))
        if op == "flip" and raw:
            raw[i] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del raw[i : i + data.draw(st.integers(1, 50))]
        elif op == "insert":
            raw[i:i] = data.draw(
                st.sampled_from([b"<", b">", b'"', b"e99", b"-", b".", b"NaN", b"<g>", b"a"])
            )
        else:
            raw[i:i] = data.draw(st.sampled_from([b"9" * 40, b"1e308", b"-1e308", b".5.5.5"]))
    _check(tok, bytes(raw))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-5, 1300), max_size=60))
def test_random_ids_decode_or_name_a_position(tok, ids):
    try:
        out = tok.decode_ids(ids)
    except SvgTokenError as e:
        assert 0 <= e.position < len(ids)
        return
    assert out.startswith("<svg")


def test_an_arc_flattened_by_its_transform_is_a_line():
    """Regression (found by the mutation fuzzer): a transform that maps an arc's ellipse to zero height made
    the arc quantizer divide by its zero radius; SVG draws such an arc as a straight line (F.6.2)."""
    import tokzoo

    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
        '<path transform="matrix(1 0 0 0 0 50)" d="M10 10 A 20 20 0 0 1 40 30" stroke="black"/></svg>'
    )
    tok = tokzoo.create("svg-hivg-256")
    tokens = tok.encode([svg])
    assert len(tokens) == 1
