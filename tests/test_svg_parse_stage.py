"""Parse-stage fidelity: what the parser keeps of real-world SVG before any quantization."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tokzoo.svg.parse import parse_svg
from tokzoo.svg.prepare import conditions_pass, prepare_tree
from tokzoo.svg.render import compare_renders, render_svg
from tokzoo.svg.unquantized import unquantized_svg

NS = 'xmlns="http://www.w3.org/2000/svg"'


def _ceiling(svg: str):
    return compare_renders(render_svg(unquantized_svg(svg)), render_svg(svg))


def _boxes(svg: str, grid: int = 100) -> list[tuple[float, float, float, float]]:
    out = []
    for shape in parse_svg(svg.encode(), grid):
        pts = [s[-1] for s in shape.segments if s[0] in ("M", "L")]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        out.append((min(xs), min(ys), max(xs), max(ys)))
    return out


def test_switch_draws_only_the_first_child_whose_conditions_pass():
    svg = (
        f'<svg {NS} viewBox="0 0 100 100"><switch transform="translate(10 0)">'
        '<foreignObject width="5" height="5" requiredExtensions="http://ns.adobe.com/AdobeIllustrator/10.0/"/>'
        '<rect width="50" height="100" systemLanguage="fr"/><desc>skipped</desc>'
        '<rect width="20" height="30" requiredFeatures="http://www.w3.org/TR/SVG11/feature#Shape"/>'
        '<rect width="90" height="90"/></switch></svg>'
    )
    assert _boxes(svg) == [(10.0, 0.0, 30.0, 30.0)]
    assert _ceiling(svg).iou > 0.999


def test_failing_conditions_outside_a_switch_hide_the_element():
    svg = (
        f'<svg {NS} viewBox="0 0 100 100"><rect width="100" height="100" requiredExtensions=""/>'
        '<rect width="10" height="10"/></svg>'
    )
    assert _boxes(svg) == [(0.0, 0.0, 10.0, 10.0)]


@pytest.mark.parametrize(
    ("attrs", "languages", "passes"),
    [
        ({}, (), True),
        ({"requiredExtensions": ""}, ("en",), False),
        ({"requiredExtensions": "http://example.org/ext"}, ("en",), False),
        ({"requiredFeatures": "http://www.w3.org/TR/SVG11/feature#Shape"}, (), True),
        ({"systemLanguage": "en"}, (), False),
        ({"systemLanguage": "fr, en-US"}, ("en",), True),
        ({"systemLanguage": "en"}, ("en-GB",), True),
        ({"systemLanguage": "de"}, ("en",), False),
        ({"systemLanguage": ""}, ("en",), False),
    ],
)
def test_conditional_processing_attributes(attrs, languages, passes):
    assert conditions_pass(ET.Element("rect", attrs), languages) is passes


def test_prepare_keeps_switch_style_as_a_group():
    root = ET.fromstring(f'<svg {NS}><switch opacity="0.5"><circle r="1"/><rect width="1"/></switch></svg>')
    group = prepare_tree(root)[0]
    assert group.tag.endswith("}g") and group.attrib["opacity"] == "0.5"
    assert [c.tag.rsplit("}", 1)[-1] for c in group] == ["circle"]


def test_namespace_declaration_named_x_does_not_move_the_drawing():
    # Adobe Illustrator declares xmlns:x="http://ns.adobe.com/Extensibility/1.0/"; svgelements alone reads it
    # as x="1.0" and shifts every shape by one unit.
    svg = (
        f'<svg {NS} xmlns:x="http://ns.adobe.com/Extensibility/1.0/" width="100" height="100" '
        'viewBox="0 0 100 100" x="7" y="3"><rect x="10" y="10" width="20" height="20"/></svg>'
    )
    assert _boxes(svg) == [(10.0, 10.0, 30.0, 30.0)]
    assert _ceiling(svg).iou > 0.999


def test_dashes_scale_with_the_element_transform():
    svg = (
        f'<svg {NS} viewBox="0 0 100 100"><path d="M5 5H45" transform="scale(2)" fill="none" stroke="#000" '
        'stroke-width="4" stroke-dasharray="4 4"/></svg>'
    )
    (shape,) = parse_svg(svg.encode(), 100)
    assert shape.stroke_width == pytest.approx(8) and shape.dash == pytest.approx((8, 8))
    assert _ceiling(svg).iou > 0.999
