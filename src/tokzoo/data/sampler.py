"""Resumable, rank-sharded batch sampler over an endless stream of per-epoch permutations."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from tokzoo.data.seeding import derive_seed

Key = tuple[int, int]
"""A dataset key ``(index, sample_seed)``."""

_EPOCH_TAG, _SAMPLE_TAG = 0, 1


class StreamBatchSampler:
    """Infinite iterable of batches of ``(index, sample_seed)`` keys, for ``DataLoader(batch_sampler=...)``.

    The global stream concatenates one ``torch.randperm(num_items)`` per epoch, each drawn from a
    generator seeded by ``(seed, epoch)``. Global step ``s`` consumes stream positions
    ``[s*B*W, (s+1)*B*W)`` (``B = batch_size``, ``W = world_size``) and rank ``r`` takes the
    contiguous slice ``[r*B, (r+1)*B)`` of them. The key at position ``p`` carries a sample seed
    hashed from ``(seed, p)``. Batches are a pure function of ``(seed, step, rank)``, so a
    run resumed with ``start_step=s`` sees exactly what an uninterrupted run sees from step ``s`` on.
    """

    def __init__(
        self,
        num_items: int,
        batch_size: int,
        *,
        seed: int,
        start_step: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if num_items < 1 or batch_size < 1 or start_step < 0 or not 0 <= rank < world_size:
            raise ValueError(
                f"need num_items >= 1, batch_size >= 1, start_step >= 0, 0 <= rank < world_size; got "
                f"{num_items=}, {batch_size=}, {start_step=}, {rank=}, {world_size=}"
            )
        self.num_items, self.batch_size, self.seed = num_items, batch_size, seed
        self.start_step, self.rank, self.world_size = start_step, rank, world_size

    def _permutation(self, epoch: int) -> list[int]:
        gen = torch.Generator().manual_seed(derive_seed(self.seed, _EPOCH_TAG, epoch))
        return torch.randperm(self.num_items, generator=gen).tolist()

    def __iter__(self) -> Iterator[list[Key]]:
        step, epoch, perm = self.start_step, -1, []
        while True:
            first = (step * self.world_size + self.rank) * self.batch_size
            batch = []
            for pos in range(first, first + self.batch_size):
                if pos // self.num_items != epoch:
                    epoch = pos // self.num_items
                    perm = self._permutation(epoch)
                batch.append((perm[pos % self.num_items], derive_seed(self.seed, _SAMPLE_TAG, pos)))
            yield batch
            step += 1
