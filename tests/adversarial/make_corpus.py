"""Generate the adversarial corpus: hostile or careless inputs for every reader, each with its documented error.

``python tests/adversarial/make_corpus.py OUT`` writes the files into ``OUT`` and ``OUT/manifest.json``: one
entry per case with the ``tokzoo`` arguments to run (``{dir}`` is ``OUT``; ``{image_model}`` a tiny image
checkpoint the runner provides) and a regular expression the one-line error must match. Nothing here is a
committed blob: every file is built from a few lines of code.
"""

from __future__ import annotations

import json
import random
import struct
import sys
import zlib
from pathlib import Path

SVG_NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
TRIANGLE = '<path d="M0 0 L5 5 L5 0 Z"/>'


def _svg(body: str, view: str = "0 0 10 10") -> bytes:
    return f'<svg {SVG_NS} viewBox="{view}">{body}</svg>'.encode()


def _billion_laughs() -> bytes:
    entities = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return f'<?xml version="1.0"?><!DOCTYPE svg [{entities}]><svg {SVG_NS}><text>&l9;</text></svg>'.encode()


def svg_cases() -> dict[str, tuple[bytes, str]]:
    """name -> (content, expected error)."""
    levels = ['<path id="l0" d="M0 0 L1 1 L1 0 Z"/>']
    for i in range(1, 20):
        levels.append(f'<g id="l{i}">' + f'<use xlink:href="#l{i - 1}"/>' * 10 + "</g>")
    bomb = _svg(f'<defs>{"".join(levels)}</defs><use xlink:href="#l19"/>')
    return {
        "use_bomb.svg": (bomb, r"element count after <use> expansion .* exceeds the limit svg_elements"),
        "use_cycle.svg": (
            _svg('<g id="a"><use xlink:href="#b"/></g><g id="b"><use href="#a"/></g>'),
            "reference cycle",
        ),
        "deep_nesting.svg": (
            _svg("<g>" * 1000 + TRIANGLE + "</g>" * 1000),
            "nesting depth 201 exceeds the limit svg_depth",
        ),
        "huge_coordinates.svg": (_svg('<path d="M0 0 L1e308 1e308 L1 0 Z"/>'), "non-finite coordinate"),
        "many_paths.svg": (_svg(TRIANGLE * 40_000), "element count .* exceeds the limit svg_elements"),
        "billion_laughs.svg": (_billion_laughs(), "malformed XML"),
        "not_xml.svg": (b"\x00\x01\x02 not svg", "malformed XML"),
    }


def _tok(header: dict, payload: bytes = b"", version: int = 1, crc: bool = True) -> bytes:
    head = json.dumps(header).encode()
    body = b"TOKZ" + bytes([version]) + len(head).to_bytes(4, "little") + head + payload
    return body + (zlib.crc32(body) if crc else 0).to_bytes(4, "little")


def _header(**changes: object) -> dict:
    base = {"vocab_size": 1, "layout": "seq1d", "shape": [], "meta": {}, "lengths": [0], "payload_bits": 0}
    return {**base, "L_max": 0, **changes}


def tok_cases() -> dict[str, tuple[bytes, str]]:
    values = {"dtype": "float32", "channels": 2**20}
    return {
        "huge_l_max.tok": (
            _tok(_header(L_max=2**31 - 1)),
            r"ids \(batch size x L_max\) .* exceeds the limit tok_ids",
        ),
        "zero_bit_ids.tok": (_tok(_header(lengths=[2**30], L_max=2**30)), "exceeds the limit tok_ids"),
        "huge_values.tok": (
            _tok(_header(L_max=4096, values=values), version=2),
            r"values \(batch x L_max x channels\)",
        ),
        "many_samples.tok": (_tok(_header(lengths=[0] * 100_000, L_max=1000)), "exceeds the limit tok_ids"),
        "short_payload.tok": (
            _tok(_header(vocab_size=256, lengths=[4], L_max=4, payload_bits=32), b"\x01"),
            "payload",
        ),
        "bad_checksum.tok": (_tok(_header(), crc=False), "checksum"),
        "huge_header_length.tok": (b"TOKZ\x01\xff\xff\xff\xff{}", "truncated .tok data"),
        "bad_version.tok": (b"TOKZ\x09" + bytes(20), "unsupported .tok format version 9"),
        "bad_json.tok": (_tok({"vocab_size": 1}), "malformed .tok header"),
    }


_PLY = "ply\nformat {fmt} 1.0\nelement vertex {v}\nproperty float x\nproperty float y\nproperty float z\n"
_PLY += "element face {f}\nproperty list uchar int vertex_indices\nend_header\n"
_BODY = "0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n3 0 2 1\n"


def mesh_cases() -> dict[str, tuple[bytes, str]]:
    triangle = struct.pack("<12f", 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0) + b"\x00\x00"
    stl = b"\x00" * 80 + struct.pack("<I", 12) + triangle * 12
    return {
        "truncated_ascii.ply": (
            _PLY.format(fmt="ascii", v=3, f=10**6).encode() + _BODY.encode(),
            "truncated ASCII PLY",
        ),
        "truncated_binary.ply": (
            _PLY.format(fmt="binary_little_endian", v=3, f=1000).encode() + bytes(60),
            "truncated binary PLY",
        ),
        "declared_too_large.ply": (
            _PLY.format(fmt="ascii", v=3, f=10**7).encode() + _BODY.encode(),
            "exceeds the limit mesh_elements",
        ),
        "truncated.off": (f"OFF\n3 {10**6} 0\n{_BODY}".encode(), "truncated OFF"),
        "declared_too_large.off": (f"OFF\n{10**9} 2 0\n{_BODY}".encode(), "exceeds the limit mesh_elements"),
        "truncated_binary.stl": (stl[:-30], "truncated binary STL"),
        "huge_count.stl": (
            b"\x00" * 80 + struct.pack("<I", 2**32 - 1) + triangle,
            "exceeds the limit mesh_elements",
        ),
        "tiny.stl": (b"\x00" * 20, "shorter than its 84-byte header"),
    }


def _png(width: int, height: int, data: bytes) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(data))
        + chunk(b"IEND", b"")
    )


def image_cases() -> dict[str, tuple[bytes, str]]:
    return {
        "huge_13000.png": (
            _png(13_000, 13_000, b"\x00" * 64),
            r"pixel count \(13000x13000\) .* exceeds the limit image_pixels",
        ),
        "truncated.png": (_png(64, 64, random.Random(0).randbytes(64 * 193))[:2000], "cannot decode image"),
        "empty.png": (b"", "empty file"),
        "not_an_image.png": (b"hello, I am text", "not a recognised image file"),
    }


def config_cases() -> dict[str, tuple[bytes, str]]:
    aliases = "model_overrides:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"  {n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )  # 10^9 leaves once expanded
    return {
        "huge_ch.yaml": (
            b"model_overrides: {ch: 100000}\n",
            r"ch=100000 is outside the allowed range \[1, 1024\]",
        ),
        "huge_codebook.yaml": (
            b"model_overrides: {codebook_size: 1099511627776}\n",
            "codebook_size=1099511627776 is outside",
        ),
        "negative_ch.yaml": (b"model_overrides: {ch: -5}\n", "ch=-5 is outside"),
        "text_ch.yaml": (b"model_overrides: {ch: abc}\n", "ch='abc' is not a number"),
        "huge_image_size.yaml": (b"image_size: 1000000\n", r"image_size must be in \[1, 8192\]"),
        "yaml_alias_bomb.yaml": (f"{aliases}data: *i\n".encode(), "config key 'data' expects"),
        "not_a_mapping.yaml": (b"- 1\n- 2\n", "top level must be a mapping"),
    }


GROUPS = (svg_cases, tok_cases, mesh_cases, image_cases, config_cases)


def case_names() -> list[str]:
    """The names of every case, in corpus order."""
    return [name for group in GROUPS for name in group()]


def build(out: Path) -> list[dict]:
    """Write every case into ``out``; return the manifest entries."""
    out.mkdir(parents=True, exist_ok=True)
    commands = {
        ".svg": ["encode", "{file}", "--model", "svg-hivg-128", "-o", "{dir}/out.tok"],
        ".tok": ["decode", "{file}", "--model", "mesh-amt-q7", "-o", "{dir}/out.obj"],
        ".ply": ["encode", "{file}", "--model", "mesh-amt-q7", "-o", "{dir}/out.tok"],
        ".png": ["encode", "{file}", "--model", "{image_model}", "-o", "{dir}/out.tok"],
        ".yaml": ["train", "--config", "{file}", "max_steps=1", "out_dir={dir}/run"],
    }
    commands[".off"] = commands[".stl"] = commands[".ply"]
    manifest = []
    for group in GROUPS:
        for name, (content, error) in group().items():
            (out / name).write_bytes(content)
            argv = [
                a.replace("{file}", str(out / name)).replace("{dir}", str(out))
                for a in commands[Path(name).suffix]
            ]
            manifest.append({"name": name, "argv": argv, "expected": error})
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


if __name__ == "__main__":
    cases = build(Path(sys.argv[1]))
    print(f"{len(cases)} cases in {sys.argv[1]}")
