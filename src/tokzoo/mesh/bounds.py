"""Declared sizes of mesh files checked against the file's length and the limits, before parsing.

A PLY or OFF header states how many vertices and faces follow, and a binary STL how many triangles: a
truncated file (or one that declares 10^7 faces and holds 2) is refused with a one-line ``DataError``
instead of being read as a smaller mesh or allocated at its declared size. The counts are also held to the
limit ``mesh_elements`` (:mod:`tokzoo.core.limits`); ``read_mesh`` holds the file to ``mesh_bytes`` before
reading it.
"""

from __future__ import annotations

from pathlib import Path

from tokzoo.core.errors import DataError
from tokzoo.core.limits import check_limit

__all__ = ["check_mesh_bytes"]

_PLY_SIZES = {"char": 1, "uchar": 1, "int8": 1, "uint8": 1, "short": 2, "ushort": 2, "int16": 2,
              "uint16": 2, "int": 4, "uint": 4, "int32": 4, "uint32": 4, "float": 4, "float32": 4,
              "double": 8, "float64": 8}  # fmt: skip
_STL_HEADER = 84  # 80-byte header + uint32 triangle count
_STL_TRIANGLE = 50


def check_mesh_bytes(path: Path, data: bytes) -> None:
    """Refuse ``data`` (the content of ``path``) if its declared counts exceed the limit or the file."""
    suffix = path.suffix.lower()
    if suffix == ".ply":
        _check_ply(path, data)
    elif suffix == ".off":
        _check_off(path, data)
    elif suffix == ".stl":
        _check_stl(path, data)
    elif suffix == ".obj":
        check_limit(path, "mesh_elements", data.count(b"\nv "), "vertex count")
        check_limit(path, "mesh_elements", data.count(b"\nf "), "face count")


def _declared(path: Path, counts: dict[str, int]) -> None:
    for element, n in counts.items():
        check_limit(path, "mesh_elements", n, f"declared {element} count")


def _truncated(path: Path, what: str, declared: str, need: int, have: str) -> DataError:
    return DataError(f"{path}: truncated {what}: the header declares {declared}, which needs {need:,} {have}")


def _check_ply(path: Path, data: bytes) -> None:
    end = data.find(b"end_header")
    if not data.startswith(b"ply") or end < 0:
        return  # not a PLY header: the reader reports it
    lines = data[:end].decode("ascii", errors="replace").splitlines()
    fmt = next((ln.split()[1] for ln in lines if ln.startswith("format") and len(ln.split()) > 1), "")
    elements: list[tuple[str, int, int]] = []  # name, count, least bytes per element (binary)
    for line in lines:
        words = line.split()
        try:
            if words[:1] == ["element"] and len(words) == 3:
                elements.append((words[1], int(words[2]), 0))
            elif words[:1] == ["property"] and elements:
                name, n, size = elements[-1]
                if words[1] == "list":  # the count, and at least three entries for a face's vertex list
                    entries = 3 if "vertex" in words[-1] else 0
                    least = _PLY_SIZES.get(words[2], 1) + entries * _PLY_SIZES.get(words[3], 1)
                else:
                    least = _PLY_SIZES.get(words[1], 1)
                elements[-1] = (name, n, size + least)
        except (ValueError, IndexError):
            raise DataError(f"{path}: malformed PLY header line {line.strip()!r}") from None
    if any(n < 0 for _, n, _ in elements):
        raise DataError(f"{path}: malformed PLY header (negative element count)")
    _declared(path, {name: n for name, n, _ in elements})
    body = data[data.find(b"\n", end) + 1 :] if data.find(b"\n", end) >= 0 else b""
    declared = ", ".join(f"{n:,} {name}" for name, n, _ in elements)
    if fmt == "ascii":
        rows = body.count(b"\n") + 1  # one line per element
        need = sum(n for _, n, _ in elements)
        if rows < need:
            raise _truncated(path, "ASCII PLY", declared, need, f"lines; it holds {rows:,}")
    elif fmt.startswith("binary"):
        need = sum(n * size for _, n, size in elements)
        if len(body) < need:
            raise _truncated(path, "binary PLY", declared, need, f"bytes; it holds {len(body):,}")


def _check_off(path: Path, data: bytes) -> None:
    head = data[:4096].split(b"\n")
    words = [w for ln in head[:-1] for w in ln.split(b"#")[0].split()][:4]
    if not words or not words[0].endswith(b"OFF") or b"BINARY" in words:
        return  # not an ASCII OFF header: the reader reports it
    try:
        nv, nf = int(words[1]), int(words[2])
    except (ValueError, IndexError):
        raise DataError(f"{path}: malformed OFF header (expected vertex and face counts)") from None
    if nv < 0 or nf < 0:
        raise DataError(f"{path}: malformed OFF header (negative counts)")
    _declared(path, {"vertex": nv, "face": nf})
    rows = data.count(b"\n") + 1  # one line per vertex and per face, after the header
    if rows < nv + nf:
        declared = f"{nv:,} vertices and {nf:,} faces"
        raise _truncated(path, "OFF", declared, nv + nf, f"lines; it holds {rows:,}")


def _check_stl(path: Path, data: bytes) -> None:
    if data.lstrip()[:5].lower() == b"solid" and b"facet" in data[:4096]:
        return  # ASCII STL: read line by line, its size is its content
    if len(data) < _STL_HEADER:
        raise DataError(f"{path}: truncated binary STL: {len(data)} bytes, shorter than its 84-byte header")
    n = int.from_bytes(data[80:84], "little")
    _declared(path, {"triangle": n})
    need = _STL_HEADER + _STL_TRIANGLE * n
    if len(data) < need:
        raise _truncated(path, "binary STL", f"{n:,} triangles", need, f"bytes; it holds {len(data):,}")
