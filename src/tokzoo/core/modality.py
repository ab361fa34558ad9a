"""What a modality package declares once — its data, files, datasets, evaluator, what quantization changed —
so that the CLI, the trainer and ``tokzoo eval`` dispatch through it instead of naming modalities."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokzoo.core.errors import RegistryError
from tokzoo.core.plugins import load_plugins
from tokzoo.core.tokens import Tokens


def _no_changes(source: str, meta: dict[str, Any]) -> list[str]:
    return []


def _no_rate(x: Any, tokens: Tokens) -> str:
    return ""


def _no_meta(path: Path) -> dict[str, Any]:
    return {}


def _no_save_options(meta: dict[str, Any]) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Modality:
    """One modality plugin, registered by its package with :func:`register_modality`.

    - ``data``: what ``encode`` takes and ``decode`` gives, in words;
    - ``suffixes``: the files ``load_file`` reads, the first is what ``decode`` writes by default;
    - ``dataset(spec, **options)``: the training or fitting data a ``data`` string names (a folder, ...);
    - ``evaluator()``: the ``tokzoo eval`` evaluator (a :class:`tokzoo.bench.evaluator.Evaluator`), built on use;
    - ``changes(source, meta)``: one line per thing quantization changed in an input, from its tokens' meta;
    - ``resize(x, size)``: what ``--size`` does to a loaded input, None where the modality has no resolution;
    - ``rate(x, tokens)``: the rate in the modality's own unit (e.g. ``"0.0156 bpp"``), "" where it has none;
    - ``file_meta(path)``: what an input file says about itself that its tokens carry (``tokzoo encode`` adds
      it to the tokens' meta, e.g. a video's frame rate);
    - ``save_options(meta)``: keyword options of ``save_file`` from the tokens' meta (``tokzoo decode``);
    - ``load_items(model, path, **options)``: where one file gives several inputs to ``encode`` (a video's
      fixed-length clip windows), an iterator of ``(input, meta for its tokens)`` read lazily; None: the file is
      one input, ``load_file``. ``item_options`` names the options it takes (``tokzoo tokenize``).
    """

    name: str
    data: str
    suffixes: tuple[str, ...]
    dataset: Callable[..., Any]
    evaluator: Callable[[], Any]
    changes: Callable[[str, dict[str, Any]], list[str]] = _no_changes
    resize: Callable[[Any, int], Any] | None = None
    rate: Callable[[Any, Tokens], str] = _no_rate
    file_meta: Callable[[Path], dict[str, Any]] = _no_meta
    save_options: Callable[[dict[str, Any]], dict[str, Any]] = _no_save_options
    load_items: Callable[..., Iterator[tuple[Any, dict[str, Any]]]] | None = None
    item_options: tuple[str, ...] = ()


_MODALITIES: dict[str, Modality] = {}


def register_modality(modality: Modality) -> Modality:
    """Make ``modality`` known to the CLI, trainer and evaluation (each name once)."""
    if modality.name in _MODALITIES:
        raise RegistryError(f"modality {modality.name!r} is registered twice")
    _MODALITIES[modality.name] = modality
    return modality


def list_modalities() -> list[str]:
    """Names of the registered modalities, sorted."""
    load_plugins()
    return sorted(_MODALITIES)


def get_modality(name: str) -> Modality:
    """The registered modality ``name``; RegistryError naming the registered ones when there is none."""
    load_plugins()
    if name not in _MODALITIES:
        raise RegistryError(
            f"no modality {name!r} is registered (registered: {', '.join(sorted(_MODALITIES))})"
        )
    return _MODALITIES[name]
