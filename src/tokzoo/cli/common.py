"""Helpers every ``tokzoo`` command shares: loading a model by name or path, output paths, option checks."""

from __future__ import annotations

import argparse
from pathlib import Path

from tokzoo.core.errors import DataError, TokzooError
from tokzoo.core.modality import Modality, get_modality, list_modalities
from tokzoo.core.tokenizer import Tokenizer


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (a one-line usage error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def join_names(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def load_model(path: str) -> Tokenizer:
    """A checkpoint folder, shipped weights (``pretrained:NAME`` or their name), or the name of a registered
    tokenizer that is usable untrained (not Trainable, or built from shipped weights: ``starts_trained``)."""
    from tokzoo.core.api import load
    from tokzoo.core.pretrained import PREFIX, list_pretrained
    from tokzoo.core.protocols import Trainable
    from tokzoo.core.registry import create, get_spec

    if path.startswith(PREFIX) or (not Path(path).exists() and path in list_pretrained()):
        return load(PREFIX + path.removeprefix(PREFIX))
    if Path(path).exists():
        return load(path)
    try:
        get_spec(path)
    except TokzooError:
        raise DataError(f"{path}: checkpoint folder not found") from None
    model = create(path)
    if isinstance(model, Trainable) and not model.starts_trained:
        raise DataError(
            f"{path}: checkpoint folder not found ({path} is trained with tokzoo train and has no shipped "
            "weights: pass the folder of a trained checkpoint, or a name from `tokzoo list --pretrained`)"
        )
    return model


def refuse_size(size: int | None, modality: Modality) -> None:
    """A one-line error when ``--size`` is given for a modality that has no resizing."""
    if size is not None and modality.resize is None:
        having = [m for m in list_modalities() if get_modality(m).resize is not None]
        raise DataError(f"--size applies to {join_names(having)} tokenizers only, not to {modality.name}")


def output_paths(out: Path, count: int) -> list[Path]:
    """``out`` for one item; ``out`` with ``_000``, ``_001``, ... before the suffix for several."""
    if count == 1:
        return [out]
    return [out.with_name(f"{out.stem}_{i:03d}{out.suffix}") for i in range(count)]
