"""Token shards as Parquet: one row per sample, for tools that read tables (pandas, DuckDB, HF datasets).

Columns: ``key`` (the sample's running number, as in the tar shards), ``source`` (its input file),
``length``, ``ids`` (list of the ``length`` valid ids), ``vocab_size``, ``layout``, ``shape`` and ``meta``
(JSON, ``source`` left out). Only discrete tokens fit: continuous ``values`` need the ``.tok`` tar shards.
A shard is written in one call with fixed options, so equal samples give byte-identical files (pyarrow writes
no timestamps). Needs ``pyarrow`` (``pip install tokzoo[parquet]``).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import ModuleType

import torch

from tokzoo.core.errors import DataError
from tokzoo.core.tokens import Tokens

__all__ = ["PYARROW", "read_parquet_shard", "write_parquet_shard"]

PYARROW = "pyarrow==26.0.1"


def _pa() -> tuple[ModuleType, ModuleType]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(f"Parquet token shards need pyarrow: pip install {PYARROW}") from None
    return pa, pq


def write_parquet_shard(samples: list[tuple[str, Tokens]]) -> bytes:
    """The Parquet bytes of ``(key, single-sample Tokens)`` pairs; DataError for continuous tokens."""
    pa, pq = _pa()
    for key, t in samples:
        if t.values is not None:
            raise DataError(f"sample {key}: continuous tokens (values) need tar shards, not Parquet")
    meta = [{k: v for k, v in t.meta.items() if k != "source"} for _, t in samples]
    table = pa.table(
        {
            "key": pa.array([k for k, _ in samples], pa.string()),
            "source": pa.array([str(t.meta.get("source", "")) for _, t in samples], pa.string()),
            "length": pa.array([int(t.lengths[0]) for _, t in samples], pa.int64()),
            "ids": pa.array([t.sample(0).tolist() for _, t in samples], pa.list_(pa.int64())),
            "vocab_size": pa.array([t.vocab_size for _, t in samples], pa.int64()),
            "layout": pa.array([t.layout for _, t in samples], pa.string()),
            "shape": pa.array([list(t.shape) for _, t in samples], pa.list_(pa.int64())),
            "meta": pa.array([json.dumps(m, sort_keys=True) for m in meta], pa.string()),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", write_statistics=False)
    return buf.getvalue()


def read_parquet_shard(path: str | Path) -> list[tuple[str, Tokens]]:
    """``(key, Tokens)`` of every row of a shard written by :func:`write_parquet_shard`; DataError naming the
    file on a damaged or foreign file."""
    _, pq = _pa()
    try:
        rows = pq.read_table(str(path)).to_pylist()
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: not a readable Parquet file ({e})") from None
    out = []
    for row in rows:
        try:
            meta = json.loads(row["meta"])
            if row["source"]:
                meta["source"] = row["source"]
            ids = torch.tensor(row["ids"], dtype=torch.int64)[None]
            if ids.shape[1] != row["length"]:
                raise ValueError(f"length {row['length']} but {ids.shape[1]} ids")
            tokens = Tokens(ids, torch.tensor([row["length"]]), row["vocab_size"], row["layout"],
                            tuple(row["shape"]), meta)  # fmt: skip
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"{path}: bad token row {row.get('key', '?')} ({e})") from None
        out.append((row["key"], tokens))
    return out
