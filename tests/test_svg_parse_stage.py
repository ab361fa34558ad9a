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


def test_a_stroke_under_a_sheared_transform_becomes_a_filled_outline():
    svg = (
        f'<svg {NS} viewBox="0 0 100 100"><g transform="matrix(1.3 0.2 -0.6 0.7 40 30)">'
        '<circle cx="20" cy="40" r="18" fill="#36c" stroke="#000" stroke-width="6"/>'
        '<path d="M5 5H40V20" fill="none" stroke="#c00" stroke-width="4" stroke-linecap="round" '
        'stroke-dasharray="8 3"/></g></svg>'
    )
    shapes = parse_svg(svg.encode(), 100)
    assert all(s.stroke is None for s in shapes)  # every stroke is now a fill
    assert [s.fill for s in shapes] == [(0x33, 0x66, 0xCC), (0, 0, 0), (0xCC, 0, 0)]
    assert _ceiling(svg).iou > 0.99


def test_uniformly_scaled_strokes_keep_one_width():
    svg = (
        f'<svg {NS} viewBox="0 0 100 100"><circle cx="50" cy="50" r="30" transform="rotate(30 50 50) '
        'scale(1.0 1.0001)" fill="none" stroke="#000" stroke-width="5"/></svg>'
    )
    (shape,) = parse_svg(svg.encode(), 100)
    assert shape.stroke == (0, 0, 0) and shape.stroke_width == pytest.approx(5, rel=1e-3)


@pytest.mark.parametrize("cap", ["butt", "round", "square"])
@pytest.mark.parametrize("join", ["miter", "round", "bevel"])
def test_outline_matches_the_renderer_for_every_cap_and_join(cap, join):
    svg = (
        f'<svg {NS} viewBox="0 0 100 100"><path d="M10 10L50 30L20 45" transform="scale(1.6 0.8)" '
        f'fill="none" stroke="#000" stroke-width="7" stroke-linecap="{cap}" stroke-linejoin="{join}"/></svg>'
    )
    (shape,) = parse_svg(svg.encode(), 100)
    assert shape.stroke is None and shape.fill == (0, 0, 0)
    outline, target = render_svg(unquantized_svg(svg))[..., 3] > 127, render_svg(svg)[..., 3] > 127
    assert (outline ^ target).sum() <= 8  # a square join for bevel differed in 88 pixels


def test_outlined_strokes_round_trip_through_both_token_levels():
    import tokzoo

    tok = tokzoo.create("svg-hivg-256")
    svg = (
        f'<svg {NS} viewBox="0 0 100 100"><ellipse cx="50" cy="50" rx="30" ry="20" transform="skewX(25)" '
        'fill="none" stroke="#000" stroke-width="6"/></svg>'
    )
    l1, l2 = tok.encode(svg, level=1), tok.encode(svg)
    assert tok.atoms(l2.sample(0).tolist())[0] == l1.sample(0).tolist()
    assert tok.decode(l1)[0] == tok.decode(l2)[0]
    rec = render_svg(tok.decode(l2)[0])
    assert compare_renders(rec, render_svg(svg)).iou > 0.9


@pytest.mark.parametrize(
    ("line", "linear"),
    [('x1="10" y1="-500" x2="90" y2="-500"', True), ('x1="0" y1="-1000" x2="0" y2="-990"', False)],
)
def test_gradient_points_off_the_canvas_are_kept_exact(line, linear):
    import tokzoo

    svg = (
        f'<svg {NS} viewBox="0 0 128 128"><linearGradient id="g" gradientUnits="userSpaceOnUse" {line}>'
        '<stop offset="0" stop-color="#f00"/><stop offset="1" stop-color="#00f"/></linearGradient>'
        '<rect x="16" y="16" width="96" height="96" fill="url(#g)"/></svg>'
    )
    (shape,) = parse_svg(svg.encode(), 256)
    assert (shape.linear is not None) is linear
    tok = tokzoo.create("svg-hivg-256")
    fid = compare_renders(render_svg(tok.decode(tok.encode(svg))[0]), render_svg(svg))
    assert fid.iou > 0.99 and fid.psnr > 30
