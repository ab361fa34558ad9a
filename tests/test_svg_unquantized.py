"""The unquantized parse (``tokzoo.svg.unquantized``): the fidelity ceiling no grid can beat."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import tokzoo
from tokzoo.data.apt import debian_package
from tokzoo.svg.render import compare_renders, render_svg
from tokzoo.svg.unquantized import unquantized_svg

SHAPES = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 30 20">'
    '<defs><linearGradient id="g" x1="0" x2="1"><stop offset="0" stop-color="red"/>'
    '<stop offset="1" stop-color="blue" stop-opacity="0.5"/></linearGradient></defs>'
    '<g transform="translate(1.3 0.7)" opacity="0.8"><rect x="2.2" y="3.1" width="11.7" height="5.3" fill="url(#g)"/>'
    '<circle cx="20.4" cy="12.2" r="4.6" fill="none" stroke="#123456" stroke-width="0.7" stroke-dasharray="2 1"/>'
    '<path d="M3 12a4 2 30 1 0 6 2q3 -4 5 0z" fill="#0a0" fill-rule="evenodd" stroke="black" '
    'stroke-width="0.3" stroke-linejoin="round" stroke-linecap="round"/></g></svg>'
)


def test_unquantized_parse_renders_like_the_original():
    fid = compare_renders(render_svg(unquantized_svg(SHAPES)), render_svg(SHAPES))
    assert fid.iou > 0.995 and fid.coverage_iou > 0.98 and fid.psnr > 35


def test_unquantized_parse_does_not_depend_on_the_grid_but_tokens_do():
    renders = [render_svg(unquantized_svg(SHAPES, grid)) for grid in (64, 256, 1024)]
    assert all(np.abs(r.astype(int) - renders[1]).max() <= 2 for r in renders)
    coarse = tokzoo.create("svg-hivg-128", grid=16)
    rec = render_svg(coarse.decode(coarse.encode(SHAPES))[0])
    assert compare_renders(rec, render_svg(SHAPES)).iou < compare_renders(renders[0], render_svg(SHAPES)).iou


def test_unquantized_parse_drops_what_the_tokenizer_drops():
    clip = '<clipPath id="c"><rect width="8" height="20"/></clipPath>'
    text = SHAPES.replace("<defs>", f"<defs>{clip}").replace(
        'fill="url(#g)"', 'fill="url(#g)" clip-path="url(#c)"'
    )
    fid = compare_renders(render_svg(unquantized_svg(text)), render_svg(text))
    assert fid.iou < 0.99


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get for the Debian data")
def test_unquantized_parse_of_a_real_icon_is_exact():
    icon = debian_package("papirus-icon-theme") / "usr/share/icons/Papirus/48x48/apps/vlc.svg"
    fid = compare_renders(render_svg(unquantized_svg(icon)), render_svg(icon.read_bytes()))
    assert fid.iou > 0.999
