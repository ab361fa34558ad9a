"""The parse of an SVG written back as SVG *without* quantization: float coordinates and exact paints.

Rendering it against the original measures what parsing alone loses (dropped text, clip paths, patterns,
gradients reduced to two stops...): the IoU ceiling that no grid, palette or stroke-width step can exceed.
Used by ``benchmarks/svg.py`` to separate grid quantization from parsing losses of HiVG-style tokens
("Hierarchical SVG Tokenization: Learning Compact Visual Programs for Scalable Vector Graphics Modeling", 2026).
"""

from __future__ import annotations

from tokzoo.svg.parse import Shape, parse_svg, read_svg_source
from tokzoo.svg.tokenizer import SvgSource
from tokzoo.svg.vocab import CAPS, JOINS

__all__ = ["shapes_to_svg", "unquantized_svg"]


def unquantized_svg(source: SvgSource, grid: int = 256) -> str:
    """The shapes :func:`~tokzoo.svg.parse.parse_svg` finds in ``source``, as an SVG on the ``grid`` canvas."""
    data, name = read_svg_source(source)
    return shapes_to_svg(parse_svg(data, grid, name), grid)


def shapes_to_svg(shapes: list[Shape], grid: int) -> str:
    """A standalone SVG (viewBox ``0 0 grid grid``, like decoded tokens) drawing ``shapes`` exactly."""
    body = "".join(_element(s, f"u{i}") for i, s in enumerate(shapes))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {grid} {grid}" width="{grid}" '
        f'height="{grid}">{body}</svg>\n'
    )


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _xy(p: tuple[float, float]) -> str:
    return f"{p[0]!r} {p[1]!r}"


def _element(shape: Shape, gid: str) -> str:
    attrs, defs = [], ""
    if shape.linear is not None:
        lf = shape.linear
        stops = "".join(
            f'<stop offset="{k}" stop-color="{_hex(rgb)}" stop-opacity="{alpha!r}"/>'
            for k, (rgb, alpha) in enumerate((lf.start, lf.end))
        )
        defs = (
            f'<linearGradient id="{gid}" gradientUnits="userSpaceOnUse" x1="{lf.p1[0]!r}" y1="{lf.p1[1]!r}" '
            f'x2="{lf.p2[0]!r}" y2="{lf.p2[1]!r}">{stops}</linearGradient>'
        )
        attrs.append(f'fill="url(#{gid})"')
    elif shape.fill is None:
        attrs.append('fill="none"')
    else:
        attrs += [f'fill="{_hex(shape.fill)}"', f'fill-opacity="{shape.fill_opacity!r}"']
    if shape.evenodd:
        attrs.append('fill-rule="evenodd"')
    if shape.stroke is not None:
        attrs += [f'stroke="{_hex(shape.stroke)}"', f'stroke-width="{shape.stroke_width!r}"']
        attrs += [f'stroke-opacity="{shape.stroke_opacity!r}"']
        attrs += [f'stroke-linecap="{CAPS[shape.cap]}"', f'stroke-linejoin="{JOINS[shape.join]}"']
        if shape.dash is not None:
            attrs.append(f'stroke-dasharray="{shape.dash[0]!r} {shape.dash[1]!r}"')
    d = " ".join(_command(seg) for seg in shape.segments)
    return f'{defs}<path d="{d}" {" ".join(attrs)}/>'


def _command(seg: tuple) -> str:
    kind = seg[0]
    if kind == "Z":
        return "Z"
    if kind == "A":
        rx, ry, rot, large, sweep, end, _probes = seg[1:]
        return f"A{rx!r} {ry!r} {rot!r} {large} {sweep} {_xy(end)}"
    return kind + " ".join(_xy(p) for p in seg[1:])
