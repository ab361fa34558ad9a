"""SVG resource limits: <use> bombs, reference cycles, deep nesting and many paths end in one-line errors."""

from __future__ import annotations

import time

import pytest

from tokzoo.core.errors import LimitError
from tokzoo.svg.errors import SvgInputError
from tokzoo.svg.parse import parse_svg

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
TRIANGLE = '<path d="M0 0 L5 5 L5 0 Z"/>'


def use_bomb(levels: int, fan: int) -> bytes:
    parts = ['<path id="l0" d="M0 0 L1 1 L1 0 Z"/>']
    for i in range(1, levels + 1):
        uses = "".join(f'<use xlink:href="#l{i - 1}"/>' for _ in range(fan))
        parts.append(f'<g id="l{i}">{uses}</g>')
    return f'<svg {NS} viewBox="0 0 10 10"><defs>{"".join(parts)}</defs><use xlink:href="#l{levels}"/></svg>'.encode()


def nested(depth: int) -> bytes:
    return f'<svg {NS} viewBox="0 0 10 10">{"<g>" * depth}{TRIANGLE}{"</g>" * depth}</svg>'.encode()


def test_use_fan_out_is_counted_before_expansion():
    start = time.perf_counter()
    with pytest.raises(
        LimitError, match=r"after <use> expansion .* svg_elements=.*TOKZOO_LIMIT_SVG_ELEMENTS"
    ):
        parse_svg(use_bomb(19, 10), 256, "bomb.svg")
    assert time.perf_counter() - start < 1


def test_small_use_fan_out_still_parses():
    assert len(parse_svg(use_bomb(2, 3), 256)) == 9


@pytest.mark.parametrize(
    "body",
    [
        '<g id="a"><use xlink:href="#a"/></g>',
        '<g id="a"><use xlink:href="#b"/></g><g id="b"><use href="#a"/></g>',
    ],
)
def test_use_cycles_are_refused(body):
    with pytest.raises(SvgInputError, match="reference cycle"):
        parse_svg(f'<svg {NS} viewBox="0 0 10 10">{body}{TRIANGLE}</svg>'.encode(), 256)


def test_deep_nesting_is_a_clean_error_not_a_recursion_error():
    with pytest.raises(
        LimitError, match=r"deep\.svg: element nesting depth 201 exceeds the limit svg_depth=200"
    ):
        parse_svg(nested(1000), 256, "deep.svg")
    assert len(parse_svg(nested(150), 256)) == 1


def test_limits_are_raised_through_the_environment(monkeypatch):
    monkeypatch.setenv("TOKZOO_LIMIT_SVG_DEPTH", "300")
    assert len(parse_svg(nested(250), 256)) == 1


def test_many_paths_are_bounded(monkeypatch):
    monkeypatch.setenv("TOKZOO_LIMIT_SVG_ELEMENTS", "100")
    with pytest.raises(LimitError, match="element count 101 exceeds the limit svg_elements=100"):
        parse_svg(f'<svg {NS} viewBox="0 0 10 10">{TRIANGLE * 200}</svg>'.encode(), 256)


def test_huge_coordinates_are_refused_or_clamped():
    with pytest.raises(SvgInputError, match="non-finite"):
        parse_svg(f'<svg {NS} viewBox="0 0 10 10"><path d="M0 0 L1e308 1e308 L1 0 Z"/></svg>'.encode(), 256)
    shapes = parse_svg(
        f'<svg {NS} viewBox="0 0 1e300 1e300"><path d="M0 0 L1e300 1e300 L1e300 0 Z"/></svg>'.encode(), 256
    )
    assert all(abs(v) <= 256 for s in shapes for seg in s.segments for p in seg[1:] for v in p)
