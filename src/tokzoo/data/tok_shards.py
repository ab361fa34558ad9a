"""Token shards: WebDataset tar shards of ``.tok`` records (or Parquet) plus a manifest, and a dataset reading
them back.

A token-shard folder (written by :func:`tokzoo.data.tokenize.tokenize_shards`) holds ``shard-NNNNNN.tar``
(members ``KEY.tok``, one ``Tokens`` sample each, its source in ``meta["source"]``: the file, or ``URL#KEY`` of
a WebDataset sample; a video's clip windows are keyed ``KEY-WWWWW`` with ``fps``, ``clip_start`` and
``clip_frames`` in their meta) or
``shard-NNNNNN.parquet`` (one row per sample, :mod:`tokzoo.data.tok_parquet`), one
``shard-NNNNNN.json`` per finished shard (sha256, samples, inputs skipped and why, the input shard's URL) and
``manifest.json`` (format ``tokzoo-token-shards``, tokenizer, the shards in order with sha256, sample counts and
input URLs, skipped inputs). Shards and records are written with fixed member modes and mtimes, so equal inputs give
byte-identical folders.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from tokzoo.core.errors import DataError, TokFormatError
from tokzoo.core.tokens import Tokens
from tokzoo.data.shards import iter_shards
from tokzoo.data.tok_parquet import read_parquet_shard

__all__ = ["MANIFEST", "MANIFEST_FORMAT", "TokenShards", "sha256_file", "shard_labels", "stack_tokens"]

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "tokzoo-token-shards"


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stack_tokens(samples: list[Tokens]) -> Tokens:
    """One batch from single-sample ``Tokens`` of the same vocabulary, layout and shape (right-padded); the
    meta of the first sample, without its ``source``."""
    if not samples:
        raise DataError("no token samples to stack")
    first = samples[0]
    for s in samples:
        if (s.vocab_size, s.layout, s.shape) != (first.vocab_size, first.layout, first.shape):
            raise DataError(
                f"token samples differ: {s.layout} {s.shape} over {s.vocab_size} vs {first.layout} {first.shape}"
            )
    lengths = torch.cat([s.lengths for s in samples])
    ids = torch.zeros((len(samples), int(lengths.max())), dtype=torch.int64)
    for i, s in enumerate(samples):
        ids[i, : int(s.lengths[0])] = s.sample(0)
    meta = {k: v for k, v in first.meta.items() if k != "source"}
    return Tokens(ids, lengths, first.vocab_size, first.layout, first.shape, meta)


def _read_shard(path: Path) -> list[tuple[str, Tokens]]:
    """(key, Tokens) of a tar shard of ``.tok`` records or a Parquet shard, by the file's suffix."""
    if path.suffix == ".parquet":
        return read_parquet_shard(path)
    out = []
    for key, files in iter_shards(str(path)):
        try:
            out.append((key, Tokens.from_bytes(files["tok"])))
        except (KeyError, TokFormatError) as e:
            raise DataError(f"{path}:{key}: bad token record ({e})") from None
    return out


class TokenShards(Dataset):
    """The samples of a token-shard folder as single-sample ``Tokens`` (``dataset[i]``), in manifest order.

    Every shard's sha256 is checked against the manifest before it is read (``DataError`` on a mismatch or a
    missing shard); the records are decoded once, at construction.
    """

    def __init__(self, folder: str | Path, *, verify: bool = True) -> None:
        self.folder = Path(folder)
        try:
            self.manifest: dict[str, Any] = json.loads((self.folder / MANIFEST).read_text())
        except (OSError, ValueError) as e:
            raise DataError(f"{self.folder}: no readable {MANIFEST} ({e})") from None
        if self.manifest.get("format") != MANIFEST_FORMAT:
            raise DataError(f"{self.folder / MANIFEST}: not a token-shard manifest")
        self.keys: list[str] = []
        self.samples: list[Tokens] = []
        for entry in self.manifest["shards"]:
            path = self.folder / entry["name"]
            if not path.is_file():
                raise DataError(f"{path}: shard listed in the manifest is missing")
            if verify and sha256_file(path) != entry["sha256"]:
                raise DataError(f"{path}: sha256 does not match the manifest (damaged or replaced)")
            for key, tokens in _read_shard(path):
                self.samples.append(tokens)
                self.keys.append(key)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> Tokens:
        return self.samples[index]

    def tokens(self) -> Tokens:
        """All samples as one batch (see :func:`stack_tokens`)."""
        return stack_tokens(self.samples)


def shard_labels(shards: TokenShards) -> tuple[torch.Tensor, int]:
    """(class index per sample, number of classes) of shards written with labels; DataError otherwise."""
    classes = shards.manifest.get("classes")
    missing = [k for k, t in zip(shards.keys, shards.samples, strict=True) if "label" not in t.meta]
    if not classes or missing:
        raise DataError(
            f"{shards.folder}: samples carry no class labels (write them with tokzoo tokenize --labels folder or --labels cls)"
        )
    return torch.tensor([int(t.meta["label"]) for t in shards.samples], dtype=torch.int64), len(classes)
