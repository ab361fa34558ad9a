"""The encoding step of ``tokzoo tokenize``: an input file -> the items its modality gives (one, or a video's
clip windows), resized, and batches of items -> single-sample ``Tokens``, the failing item found one at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from tokzoo.core.errors import TokzooError
from tokzoo.core.modality import get_modality
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens

__all__ = ["LOAD_ERRORS", "Encoder"]

#: what a bad input raises while it is read or encoded (reported and skipped, never fatal)
LOAD_ERRORS = (TokzooError, OSError, ValueError)


def _batch(items: list[Any]) -> Any:
    """Concatenate loaded inputs: tensors of one shape along dim 0, lists by extension; None if they differ."""
    if all(isinstance(x, torch.Tensor) for x in items):
        return torch.cat(items) if len({tuple(x.shape[1:]) for x in items}) == 1 else None
    if all(isinstance(x, list) for x in items):
        return [y for x in items for y in x]
    return None


class Encoder:
    """Reads and encodes inputs with one model. ``size``: the modality's ``resize`` (``--size``); ``options``:
    those of its ``load_items`` (e.g. a video's ``clip_frames``, ``fps``, ``max_frames``)."""

    def __init__(
        self, model: Tokenizer, size: int | None = None, options: dict[str, Any] | None = None
    ) -> None:
        self.model = model
        self.modality = get_modality(model.modality)
        if size is not None and self.modality.resize is None:
            raise ValueError(
                f"size applies to tokenizers of modalities with a resolution, not {model.modality}"
            )
        self.options = {k: v for k, v in (options or {}).items() if v is not None}
        unknown = sorted(set(self.options) - set(self.modality.item_options))
        if unknown:
            raise ValueError(f"{', '.join(unknown)} do not apply to {model.modality} tokenizers")
        self.size = size

    @property
    def windowed(self) -> bool:
        """Whether a file may give several items (each its own record)."""
        return self.modality.load_items is not None

    def items(self, path: Path) -> Iterator[tuple[Any, dict[str, Any]]]:
        """``(input, meta)`` of each item of the file ``path``, read lazily."""
        if self.modality.load_items is None:
            stream: Any = [(self.model.load_file(path), {})]
        else:
            stream = self.modality.load_items(self.model, path, **self.options)
        for x, meta in stream:
            yield (
                (self.modality.resize(x, self.size) if self.size is not None and self.modality.resize else x),
                meta,
            )

    @torch.no_grad()
    def _encode(self, x: Any) -> list[Tokens]:
        tokens = self.model.encode(x)
        return [tokens[i] for i in range(len(tokens))]

    def encode(self, items: list[Any]) -> list[Tokens | str]:
        """Tokens per item, or the reason it failed: batched where the items stack, else (and to find the item
        that fails a batch) one at a time."""
        if len(items) > 1:
            batch = _batch(items)
            if batch is not None:
                try:
                    return list(self._encode(batch))
                except (TokzooError, ValueError):
                    pass  # find the failing item one at a time
        out: list[Tokens | str] = []
        for x in items:
            try:
                out.append(self._encode(x)[0])
            except (TokzooError, ValueError) as e:
                out.append(str(e))
        return out
