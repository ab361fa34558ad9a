"""Samples of a prior decoded by its tokenizer and written as files (``tokzoo sample``)."""

from __future__ import annotations

from pathlib import Path

import torch

from tokzoo.core.errors import DataError
from tokzoo.core.modality import get_modality
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.prior.ar import ARPrior
from tokzoo.prior.ar_sample import sample_ar
from tokzoo.prior.checkpoint import Prior
from tokzoo.prior.layout import from_sequence
from tokzoo.prior.maskgit import sample_maskgit

__all__ = ["sample_to_files"]


def sample_to_files(
    prior: Prior,
    model: Tokenizer,
    n: int,
    out: str | Path,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    steps: int = 8,
    class_id: int | None = None,
    guidance: float = 1.0,
    seed: int = 0,
) -> tuple[list[Path], int]:
    """Draw ``n`` samples, decode them with ``model`` and write ``out/sample_NNN<suffix>``; returns the paths
    and how many variable-length samples were dropped for not ending within the prior's length. A tokenizer
    with ``allowed_next`` (the SVG grammar) constrains AR sampling to valid programs. ``guidance``: classifier-free
    guidance scale with ``class_id``."""
    seq = prior.seq
    if seq.vocab_size != model.vocab_size:
        raise DataError(
            f"the prior models {seq.vocab_size} ids, {model.registry_name} has {model.vocab_size}"
        )
    gen = torch.Generator().manual_seed(seed)
    classes = None if class_id is None else torch.full((n,), class_id, dtype=torch.int64)
    if isinstance(prior, ARPrior):
        constraint = getattr(model, "allowed_next", None) if max(seq.groups) == 1 else None
        s = sample_ar(
            prior,
            n,
            classes=classes,
            temperature=temperature,
            top_k=top_k,
            allowed_next=constraint,
            guidance=guidance,
            generator=gen,
        )
        keep = s.ended if constraint is not None or seq.variable else torch.ones(n, dtype=torch.bool)
        ids, lengths = s.ids[keep], s.lengths[keep]
    else:
        ids = sample_maskgit(prior, n, steps=steps, classes=classes, temperature=temperature,
                             guidance=guidance, generator=gen)  # fmt: skip
        lengths = torch.full((n,), seq.length, dtype=torch.int64)
    if len(ids) == 0:
        raise DataError(
            f"none of the {n} samples ended within {seq.length} tokens (raise the prior's length)"
        )
    tokens = from_sequence(ids, lengths, seq, {"tokenizer": model.registry_name})
    with torch.no_grad():
        items = list(model.decode(tokens))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = get_modality(model.modality).suffixes[0]
    paths = []
    for i, item in enumerate(items):
        path = out / f"sample_{i:03d}{suffix}"
        model.save_file(item, path)
        paths.append(path)
    return paths, n - len(items)
