"""The .tok container: bits per token against fixed-width packing and log2(V), and pack/unpack speed.

python benchmarks/container.py     ->  results/container.csv
"""

from __future__ import annotations

import math

import torch

from common import median_seconds, write_results
from tokzoo import Tokens

VOCABS = [2, 5, 1000, 4096, 64000, 2**16 + 1, 2**18, 2**24]
BATCH, LENGTH = 64, 256


def main() -> None:
    g = torch.Generator().manual_seed(0)
    rows = []
    for v in VOCABS:
        ids = torch.randint(0, v, (BATCH, LENGTH), generator=g)
        tokens = Tokens.from_ids(ids, v)
        data = tokens.to_bytes()
        assert Tokens.from_bytes(data).equal(tokens)
        n = BATCH * LENGTH
        pack = median_seconds(tokens.to_bytes)
        unpack = median_seconds(lambda d=data: Tokens.from_bytes(d))
        rows.append({
            "vocab": v, "log2_vocab": math.log2(v), "bits_per_token": tokens.nbits() / n,
            "fixed_width_bits": math.ceil(math.log2(v)), "container_bytes": len(data),
            "header_bytes": len(data) - math.ceil(tokens.nbits() / 8),
            "pack_Mtok_per_s": n / pack / 1e6, "unpack_Mtok_per_s": n / unpack / 1e6,
        })  # fmt: skip
    write_results("container", rows)


if __name__ == "__main__":
    main()
