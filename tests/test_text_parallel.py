"""gettext .mo catalogues as parallel text (tokzoo.text.parallel.read_mo)."""

import struct

import pytest

from tokzoo.core.errors import DataError
from tokzoo.text.parallel import read_mo


def _mo(pairs: list[tuple[bytes, bytes]]) -> bytes:
    """A GNU .mo file (little-endian) with ``pairs`` in the given order."""
    n, ids_at = len(pairs), 28
    strs_at = ids_at + 8 * n
    at = strs_at + 8 * n
    head, tables, blob = struct.pack("<7I", 0x950412DE, 0, n, ids_at, strs_at, 0, 0), [b"", b""], b""
    for col in (0, 1):
        for pair in pairs:
            tables[col] += struct.pack("<2I", len(pair[col]), at + len(blob))
            blob += pair[col] + b"\0"
    return head + tables[0] + tables[1] + blob


def test_read_mo_keeps_singular_translations(tmp_path):
    pairs = [(b"", b"Content-Type: text/plain; charset=UTF-8\n"), (b"file not found", "dosya bulunamad\u0131".encode()),
             (b"one file\0%d files", b"bir dosya\0%d dosya"), (b"untranslated", b"")]  # fmt: skip
    (tmp_path / "tr.mo").write_bytes(_mo(pairs))
    assert read_mo(tmp_path / "tr.mo") == {"file not found": "dosya bulunamadı"}


def test_read_mo_refuses_other_files(tmp_path):
    (tmp_path / "x.mo").write_bytes(b"not a catalogue at all")
    with pytest.raises(DataError, match=r"x\.mo: not a gettext \.mo file"):
        read_mo(tmp_path / "x.mo")
    broken = bytearray(_mo([(b"a", b"b")]))
    broken[32:36] = struct.pack("<I", 10**6)  # the first message's offset points past the end
    (tmp_path / "y.mo").write_bytes(bytes(broken))
    with pytest.raises(DataError, match=r"y\.mo: string 0 runs past the end"):
        read_mo(tmp_path / "y.mo")
