"""The text modality plugin: text files in and out, folders of text as fitting data, ``tokzoo eval`` per file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokzoo.core.modality import Modality, register_modality
from tokzoo.core.tokens import Tokens
from tokzoo.data.files import collect_files
from tokzoo.text.source import SUFFIXES


def text_dataset(spec: str) -> list[Path]:
    """The text files a ``data`` string names: one file, or a folder searched recursively (sorted)."""
    return collect_files([spec], SUFFIXES)


def _evaluator() -> Any:
    from tokzoo.bench.eval_files import FileEvaluator
    from tokzoo.text.evaluate import DEFAULT_DATA, default_files, evaluate

    return FileEvaluator(SUFFIXES, DEFAULT_DATA, default_files, evaluate)


def normalized(source: str, meta: dict[str, Any]) -> list[str]:
    """A line where Unicode normalization changed the text (decode then gives the normalized text)."""
    return (
        [f"{source}: Unicode normalization changed the text; decode gives the normalized text"]
        if any(meta.get("normalized") or [])
        else []
    )


def bytes_per_token(x: Any, tokens: Tokens) -> str:
    """Bytes per token of the encoded file(s)."""
    size = sum(Path(item).stat().st_size for item in x if isinstance(item, Path))
    return f"{size / max(tokens.num_tokens, 1):.3f} bytes/token" if size else ""


TEXT = register_modality(
    Modality(
        name="text",
        data="text (str, bytes or paths) in, str out",
        suffixes=SUFFIXES,
        dataset=text_dataset,
        evaluator=_evaluator,
        changes=normalized,
        rate=bytes_per_token,
    )
)
