"""The byte ↔ character map of byte-level BPE ("Language Models are Unsupervised Multitask Learners", Radford
et al., 2019): printable Latin-1 bytes stand for themselves, the other 68 bytes for the characters U+0100 onward,
so that every byte string is a string of 256 visible characters. tokzoo decodes tokens with it."""

from __future__ import annotations

__all__ = ["BYTE_OF_CHAR", "CHAR_OF_BYTE", "piece_bytes"]


def _char_of_byte() -> dict[int, str]:
    kept = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    table = {b: chr(b) for b in kept}
    moved = (b for b in range(256) if b not in table)
    for n, b in enumerate(moved):
        table[b] = chr(256 + n)
    return table


CHAR_OF_BYTE = _char_of_byte()
BYTE_OF_CHAR = {c: b for b, c in CHAR_OF_BYTE.items()}


def piece_bytes(piece: str) -> bytes:
    """The bytes a byte-level piece stands for; KeyError for a character outside the map."""
    return bytes(BYTE_OF_CHAR[c] for c in piece)
