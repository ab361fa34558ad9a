"""Deterministic seed derivation shared by samplers and datasets."""

from __future__ import annotations

import hashlib


def derive_seed(*values: int) -> int:
    """Hash a tuple of integers into a seed in ``[0, 2**63)``; the same values always give the same seed."""
    text = ",".join(str(int(v)) for v in values).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little") >> 1
