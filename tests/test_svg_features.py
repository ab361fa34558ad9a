"""SVG features real files use: linear gradients, stroke caps/joins/dashes, group opacity, arcs chosen on
their quantized shape, exact page registration of renders, hairline drawings and the cause of a lost IoU."""

import numpy as np
import pytest
import svgelements as se

import tokzoo
from tokzoo.svg.atoms import arc_points
from tokzoo.svg.diagnose import explain, features
from tokzoo.svg.render import compare_renders, page_mask, render_svg
from tokzoo.svg.vocab import ARC_PROBES

NS = 'xmlns="http://www.w3.org/2000/svg"'


@pytest.fixture(scope="module")
def tok():
    return tokzoo.create("svg-hivg-256", num_segments=0)


def _round_trip(tok, svg: str):
    l1 = tok.encode(svg, level=1)
    out = tok.decode(l1)[0]
    return out, compare_renders(render_svg(out), render_svg(svg))


def test_linear_gradient_with_an_opacity_ramp_is_kept(tok):
    svg = (
        f'<svg {NS} viewBox="0 0 16 16"><defs><linearGradient id="a" x1="8" x2="8" y1="15" y2="1" '
        'gradientUnits="userSpaceOnUse"><stop offset="0" stop-color="#dfdfdf"/>'
        '<stop offset="1" stop-color="#dfdfdf" stop-opacity="0"/></linearGradient>'
        '<linearGradient id="b" href="#a" x1="0" x2="1" y1="0" y2="0" gradientUnits="objectBoundingBox"/>'
        '</defs><path d="M1 1H15V8H1z" fill="url(#a)"/><rect x="1" y="9" width="14" height="6" fill="url(#b)"/>'
        "</svg>"
    )
    out, fid = _round_trip(tok, svg)
    assert out.count("<linearGradient") == 2 and 'stop-opacity="0"' in out
    assert (
        fid.iou > 0.97 and fid.coverage_iou > 0.95
    )  # the mean colour at half opacity: IoU 0.5, coverage 0.6


def test_degenerate_gradient_paints_the_stop_that_covers_the_shape(tok):
    svg = (
        f'<svg {NS} viewBox="0 0 100 100"><linearGradient id="g" gradientUnits="userSpaceOnUse" x1="0.4" '
        'y1="0.3" x2="0.4" y2="0.1"><stop offset="0" stop-color="red"/><stop offset="1" stop-color="blue" '
        'stop-opacity="0"/></linearGradient><rect x="10" y="10" width="80" height="80" fill="url(#g)"/></svg>'
    )
    out, fid = _round_trip(tok, svg)
    assert "<linearGradient" not in out and fid.iou > 0.98


def test_stroke_caps_joins_and_dashes_round_trip(tok):
    svg = (
        f'<svg {NS} viewBox="0 0 64 64"><g transform="scale(2)">'
        '<path d="M4 4L28 4L28 28" fill="none" stroke="#000" stroke-width="3" stroke-linecap="round" '
        'stroke-linejoin="bevel"/>'
        '<path d="M4 14H28" fill="none" stroke="#000" stroke-width="2" stroke-dasharray="4,2,1" '
        'stroke-linecap="square"/></g></svg>'
    )
    out, fid = _round_trip(tok, svg)
    assert 'stroke-linecap="round"' in out and 'stroke-linejoin="bevel"' in out
    # the first dash/gap pair, scaled like the stroke width: by the group's scale(2) and 4 grid steps per unit
    assert 'stroke-dasharray="32 16"' in out and 'stroke-width="16"' in out
    assert fid.iou > 0.9
    l1, l2 = tok.encode(svg, level=1), tok.encode(svg)
    assert tok.atoms(l2.sample(0).tolist())[0] == l1.sample(0).tolist()


def test_nested_group_opacities_multiply(tok):
    svg = (
        f'<svg {NS} viewBox="0 0 10 10"><g opacity="0.5"><g style="opacity:0.5">'
        '<rect width="10" height="10" fill="#000"/></g></g></svg>'
    )
    out, _ = _round_trip(tok, svg)
    assert 'fill-opacity="0.2857"' in out  # 0.25 on 8 levels (2/7), not the innermost 0.5


@pytest.mark.parametrize("flags", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_arc_probe_points_match_svgelements(flags):
    """The quantized arc is chosen by comparing points along it; they must be the points SVG draws."""
    large, sweep = flags
    seg = list(se.Path(f"M 10 50 A 30 20 25 {large} {sweep} 70 60"))[1]
    want = [(float(seg.point(t).x), float(seg.point(t).y)) for t in ARC_PROBES]
    got = arc_points((10, 50), (70, 60), 30, 20, 25, large, sweep)
    assert np.allclose(got, want, atol=1e-6)


def test_renders_register_a_non_square_page_exactly(tok):
    svg = f'<svg {NS} width="248.9" height="429.3"><rect x="3" y="3" width="242" height="423" fill="#0a0"/></svg>'
    original = render_svg(svg)
    assert (original[..., 3] > 0).any()
    _, fid = _round_trip(tok, svg)
    assert fid.iou > 0.99
    mask = page_mask(svg)
    assert mask[128, 128] and not mask[128, 2] and abs(int(mask.sum()) - 256 * 148) < 300


def test_hairline_drawings_use_coverage_iou():
    canvas = np.zeros((32, 32, 4), np.uint8)
    faint, shifted = canvas.copy(), canvas.copy()
    faint[10, 4:28, 3] = 60  # a stroke thinner than a pixel: no silhouette at 50 % alpha
    shifted[11, 4:28, 3] = 60
    fid = compare_renders(shifted, faint)
    # both silhouettes are empty, so the alpha > 50 % IoU calls two disjoint strokes identical
    assert fid.hairline and fid.iou == 1.0 and fid.coverage_iou == 0.0 and fid.silhouette_iou == 0.0
    fid = compare_renders(faint, faint)
    assert fid.hairline and fid.silhouette_iou == 1.0
    solid = canvas.copy()
    solid[8:24, 8:24, 3] = 255
    half = solid.copy()
    half[8:24, 8:16, 3] = 0
    fid = compare_renders(half, solid)
    assert not fid.hairline and fid.silhouette_iou == fid.iou == pytest.approx(0.5)


def test_explain_names_a_clip_path_as_the_cause(tok):
    svg = (
        f'<svg {NS} viewBox="0 0 10 10"><clipPath id="c"><rect width="5" height="10"/></clipPath>'
        '<rect width="10" height="10" fill="#00f" clip-path="url(#c)"/></svg>'
    )
    assert features(svg.encode()) == {"clip"}
    why = explain(svg.encode(), tok.decode(tok.encode(svg))[0])
    assert why.iou < 0.6 and why.cause == "clip" and why.gain["clip"] > 0.4
