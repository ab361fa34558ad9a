"""Fuzzing every file reader (``.tok``, SVG, PLY/OFF/STL/OBJ, images) with at least 10,000 hostile inputs each.

Inputs are valid files mutated (bytes flipped, cut, inserted, deleted, repeated; ``.tok`` checksums recomputed
so the header is reached) plus generated structures. A reader may accept an input or refuse it with a
``TokzooError``; any other exception (a crash) fails the test. Slow: ``make test-slow``.
"""

from __future__ import annotations

import contextlib
import io
import json
import zlib

import numpy as np
import pytest
import torch
import trimesh
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tokzoo.core.errors import TokzooError
from tokzoo.core.tokens import Tokens
from tokzoo.data import load_image
from tokzoo.mesh.io import read_mesh
from tokzoo.svg.parse import parse_svg

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # 10,000 cases: minutes per reader on 2 busy cores
FUZZ = settings(
    max_examples=10_000, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)  # fmt: skip


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    """One of ``seeds`` after a few random byte-level edits."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete", "repeat", "digit"]))
        if op == "flip" and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(max_size=16))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "repeat":
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 64))] * draw(st.integers(1, 50))
        elif op == "digit" and pos < len(data):  # numbers grow: the fields a header declares
            data[pos:pos] = draw(st.sampled_from([b"9", b"99999999", b"-1", b"1e308", b"nan", b"0"]))
    return bytes(data)


def _refused_cleanly(read, data) -> None:
    with contextlib.suppress(TokzooError):
        read(data)


# -- .tok ----------------------------------------------------------------------------------------------
def _tok_seeds() -> list[bytes]:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 5, (2, 7), generator=g)
    return [
        Tokens(ids, torch.tensor([7, 3]), 5, meta={"tokenizer": "x"}).to_bytes(),
        Tokens.from_ids(torch.randint(0, 2**20, (1, 9), generator=g), 2**20, "grid2d", (3, 3)).to_bytes(),
        Tokens.from_values(torch.randn(1, 4, 2, generator=g)).to_bytes(),
    ]


def _recrc(data: bytes) -> bytes:
    body = data[:-4] if len(data) >= 4 else data
    return body + zlib.crc32(body).to_bytes(4, "little")


@FUZZ
@given(data=mutated(_tok_seeds()), fix_crc=st.booleans())
def test_tok_reader(data, fix_crc):
    _refused_cleanly(Tokens.from_bytes, _recrc(data) if fix_crc else data)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=8), kids, max_size=5),
    max_leaves=20,
)
_KEYS = ["vocab_size", "layout", "shape", "meta", "lengths", "payload_bits", "L_max", "values"]


@FUZZ
@given(
    header=st.dictionaries(st.sampled_from(_KEYS), _JSON),
    payload=st.binary(max_size=64),
    version=st.sampled_from([1, 2]),
)
def test_tok_reader_on_generated_headers(header, payload, version):
    head = json.dumps(header).encode()
    body = b"TOKZ" + bytes([version]) + len(head).to_bytes(4, "little") + head + payload
    _refused_cleanly(Tokens.from_bytes, body + zlib.crc32(body).to_bytes(4, "little"))


# -- SVG -----------------------------------------------------------------------------------------------
NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
SVG_SEEDS = [
    f'<svg {NS} viewBox="0 0 20 20"><path d="M1 1 L10 2 Q15 15 2 10 Z" fill="#f00" stroke="#00f"/></svg>'.encode(),
    f'<svg {NS} width="30" height="10"><g transform="rotate(30) scale(2,1)" opacity=".5"><rect x="1" y="1" '
    'width="5" height="3" rx="1"/><circle cx="5" cy="5" r="2" stroke-dasharray="1 2"/></g></svg>'.encode(),
    f'<svg {NS} viewBox="0 0 10 10"><defs><linearGradient id="g"><stop stop-color="red"/><stop offset="1"/>'
    '</linearGradient><path id="p" d="M0 0 A3 4 30 1 1 8 8"/></defs><use xlink:href="#p" fill="url(#g)"/>'
    '<switch><polygon points="1,1 5,1 3,4" systemLanguage="en"/><ellipse rx="2" ry="1"/></switch></svg>'.encode(),
]
_TAGS = ["g", "path", "rect", "circle", "use", "switch", "defs", "svg", "symbol", "polyline", "text"]
_ATTRS = [
    "d",
    "id",
    "href",
    "transform",
    "x",
    "y",
    "width",
    "height",
    "r",
    "points",
    "viewBox",
    "fill",
    "stroke",
]
_VALUES = st.sampled_from(
    ["M0 0 L1 1 Z", "M1e308 0 L0 1e308", "#a", "#b", "scale(1e300)", "rotate(90)", "-1", "0", "1e999", "nan",
     "10%", "url(#a)", "M 0 0 A 1 1 0 1 1 0 0", "0,0 1,1 2,0"]
)  # fmt: skip
_ELEMENT = st.recursive(
    st.tuples(
        st.sampled_from(_TAGS), st.dictionaries(st.sampled_from(_ATTRS), _VALUES, max_size=4), st.just([])
    ),
    lambda kids: st.tuples(
        st.sampled_from(_TAGS),
        st.dictionaries(st.sampled_from(_ATTRS), _VALUES, max_size=4),
        st.lists(kids, max_size=4),
    ),
    max_leaves=25,
)


def _xml(element) -> str:
    tag, attrs, kids = element
    attributes = "".join(f' {"xlink:href" if k == "href" else k}="{v}"' for k, v in attrs.items())
    return f"<{tag}{attributes}>{''.join(_xml(k) for k in kids)}</{tag}>"


@FUZZ
@given(data=mutated(SVG_SEEDS))
def test_svg_reader(data):
    _refused_cleanly(lambda d: parse_svg(d, 64), data)


@FUZZ
@given(body=st.lists(_ELEMENT, max_size=4))
def test_svg_reader_on_generated_trees(body):
    _refused_cleanly(
        lambda d: parse_svg(d, 64), f'<svg {NS} viewBox="0 0 10 10">{"".join(map(_xml, body))}</svg>'.encode()
    )


# -- meshes --------------------------------------------------------------------------------------------
def _mesh_seeds() -> dict[str, list[bytes]]:
    box = trimesh.creation.box()
    seeds = {
        s: [trimesh.exchange.export.export_mesh(box, None, file_type=s[1:])]
        for s in (".ply", ".stl", ".obj", ".off")
    }
    seeds[".ply"].append(trimesh.exchange.ply.export_ply(box, encoding="ascii"))
    seeds[".stl"].append(trimesh.exchange.stl.export_stl_ascii(box).encode())
    return {s: [d.encode() if isinstance(d, str) else d for d in v] for s, v in seeds.items()}


MESH_SEEDS = _mesh_seeds()


@pytest.mark.parametrize("suffix", sorted(MESH_SEEDS))
def test_mesh_reader(suffix, tmp_path):
    path = tmp_path / f"m{suffix}"

    @FUZZ
    @given(data=mutated(MESH_SEEDS[suffix]))
    def fuzz(data):
        path.write_bytes(data)
        _refused_cleanly(read_mesh, path)

    fuzz()


# -- images --------------------------------------------------------------------------------------------
def _image_seeds() -> list[bytes]:
    rng = np.random.default_rng(0)
    out = []
    for fmt, mode in [
        ("PNG", "RGB"),
        ("PNG", "RGBA"),
        ("JPEG", "RGB"),
        ("GIF", "P"),
        ("BMP", "RGB"),
        ("WEBP", "RGB"),
        ("TIFF", "I;16"),
    ]:
        im = Image.fromarray(rng.integers(0, 255, (6, 5, 3), dtype=np.uint8)).convert(mode)
        buf = io.BytesIO()
        im.save(buf, fmt)
        out.append(buf.getvalue())
    return out


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's notes on corrupt EXIF/TIFF tags
@FUZZ
@given(data=mutated(_image_seeds()))
def test_image_reader(data):
    _refused_cleanly(load_image, data)
