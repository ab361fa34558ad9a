"""The resource-limit policy: one bound per kind of input, checked before the work it bounds.

The defaults keep any single input under about 1 GB of memory and 10 s on two CPU cores. Each limit can be
raised (or lowered) with an environment variable ``TOKZOO_LIMIT_<NAME>`` (e.g. ``TOKZOO_LIMIT_SVG_ELEMENTS=1e6``)
or, on the command line, with ``tokzoo --limit NAME=VALUE ...``. An exceeded limit is one ``LimitError`` line
naming the file, the limit and how to raise it. See docs/limits.md.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from tokzoo.core.errors import ConfigError, LimitError

__all__ = ["ENV_PREFIX", "Limits", "check_limit", "get_limits", "set_limit"]

ENV_PREFIX = "TOKZOO_LIMIT_"


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what one input may make tokzoo allocate or compute."""

    #: bytes of one SVG file
    svg_bytes: int = 32 * 2**20
    #: elements of one SVG document after every ``<use>`` reference is expanded (counted, never built)
    svg_elements: int = 30_000
    #: element nesting depth of one SVG document (``<g>`` in ``<g>`` ...)
    svg_depth: int = 200
    #: path segments of one SVG document
    svg_segments: int = 200_000
    #: bytes of one ``.tok`` file
    tok_bytes: int = 256 * 2**20
    #: ids one ``.tok`` file may ask to allocate (batch size x L_max, 8 bytes each)
    tok_ids: int = 2**25
    #: vertices, and faces, declared by one mesh file
    mesh_elements: int = 5_000_000
    #: bytes of one mesh file
    mesh_bytes: int = 256 * 2**20
    #: pixels of one image, read from its header before it is decoded
    image_pixels: int = 40_000_000
    #: frames decoded from one video file (a longer file is refused unless fewer frames are asked for)
    video_frames: int = 4096
    #: decoded pixels of one video (frames x height x width), checked before decoding
    video_pixels: int = 50_000_000
    #: bytes of one WebDataset shard read by ``tokzoo tokenize`` (declared size checked first, then streamed)
    shard_bytes: int = 16 * 2**30
    #: bytes of one member of a shard (held in memory while its sample is read)
    shard_member_bytes: int = 256 * 2**20
    #: seconds a remote shard read (``http(s)://``, ``pipe:``) may wait for data
    shard_timeout_s: int = 60
    #: bytes of one OpenSCAD (``.scad``) file
    scad_bytes: int = 2**20
    #: syntax tokens of one OpenSCAD file (a bound on its nodes), counted before parsing
    scad_nodes: int = 100_000
    #: nesting depth of one OpenSCAD file (blocks, chained instantiations, brackets), checked while parsing
    scad_depth: int = 100
    #: evaluation steps of one OpenSCAD file (expressions, objects, vector elements), counted while evaluating
    scad_steps: int = 1_000_000
    #: nesting of module and function calls of one OpenSCAD file (recursion), checked before each call
    scad_calls: int = 500


def _env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _parse(name: str, text: str) -> int:
    """An integer limit from text such as ``1000`` or ``1e6``."""
    try:
        value = int(text) if text.strip().isdigit() else int(float(text))
    except (ValueError, OverflowError):
        raise ConfigError(f"limit {name}: expected a positive integer, got {text!r}") from None
    if value < 1:
        raise ConfigError(f"limit {name}: expected a positive integer, got {text!r}")
    return value


def get_limits() -> Limits:
    """The limits in force: the defaults, overridden by ``TOKZOO_LIMIT_<NAME>`` environment variables."""
    values = {
        f.name: _parse(f.name, os.environ[_env_name(f.name)])
        for f in dataclasses.fields(Limits)
        if _env_name(f.name) in os.environ
    }
    return Limits(**values)


def set_limit(assignment: str) -> None:
    """Apply ``NAME=VALUE`` (the CLI's ``--limit``) for the rest of this process (and its children)."""
    names = [f.name for f in dataclasses.fields(Limits)]
    name, _, text = assignment.partition("=")
    name = name.strip().lower()
    if name not in names or not text:
        raise ConfigError(
            f"--limit expects NAME=VALUE with NAME one of {', '.join(names)}; got {assignment!r}"
        )
    os.environ[_env_name(name)] = str(_parse(name, text.strip()))


def check_limit(
    source: object, name: str, value: int, what: str, error: type[LimitError] = LimitError
) -> None:
    """Raise ``error`` if ``value`` (a count of ``what``) exceeds the limit ``name`` for ``source``."""
    limit = getattr(get_limits(), name)
    if value > limit:
        raise error(
            f"{source}: {what} {value:,} exceeds the limit {name}={limit:,} "
            f"(raise it with {_env_name(name)}=N or tokzoo --limit {name}=N)"
        )
