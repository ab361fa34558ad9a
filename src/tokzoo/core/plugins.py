"""Modality packages and third-party tokenizers plug in through the entry-point group ``tokzoo.tokenizers``.

Each entry point names a module; importing it runs its ``@register_tokenizer`` (and ``register_modality``)
calls. tokzoo's own modalities are entry points of its ``pyproject.toml`` like any other package's.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from tokzoo.core.errors import RegistryError

GROUP = "tokzoo.tokenizers"
_loaded = False


def load_plugins() -> None:
    """Import every ``tokzoo.tokenizers`` entry point once (later calls return at once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    found = sorted(entry_points(group=GROUP), key=lambda ep: ep.name)
    if not found:
        raise RegistryError(
            f"no {GROUP} entry points: install tokzoo (pip install -e .) to register its models"
        )
    for ep in found:
        try:
            ep.load()
        except ImportError as e:
            raise RegistryError(f"tokenizer plugin {ep.name!r} ({ep.value}) cannot be imported: {e}") from e
