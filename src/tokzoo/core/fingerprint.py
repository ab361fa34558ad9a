"""Fingerprints: a short hash of a tokenizer's weights and fit state, so tokens meet the model that made them.

``tokzoo encode`` records ``meta["tokenizer"]`` (the registry name) and ``meta["fingerprint"]`` in each ``.tok``;
``tokzoo decode`` refuses tokens of another tokenizer or fingerprint, naming both, unless ``--force``. A
checkpoint's ``config.json`` carries the same fingerprint, and loading checks the weights against it. Tokens
and checkpoints written before fingerprints existed carry none and are not checked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import TYPE_CHECKING, Any

import torch

from tokzoo.core.errors import DataError

if TYPE_CHECKING:
    from tokzoo.core.tokenizer import Tokenizer
    from tokzoo.core.tokens import Tokens

__all__ = ["check_fingerprint", "fingerprint", "matches", "stamp"]

_LENGTH = 12  # hex digits: 48 bits, enough to tell checkpoints apart, short enough to read


def fingerprint(model: Tokenizer) -> str:
    """A short hex hash of ``model``'s registry name, config and every tensor of its state (weights, fitted
    palettes and vocabularies)."""
    return _hash(model, _identity_config(model))


def matches(model: Tokenizer, recorded: str) -> bool:
    """Whether ``recorded`` is ``model``'s fingerprint, or the one tokzoo 0.1 wrote before config fields at
    their defaults were left out of the hash (so checkpoints and tokens of that version keep working)."""
    return recorded in (fingerprint(model), _hash(model, model.config_dict()))


def _hash(model: Tokenizer, config: dict[str, Any]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([model.registry_name, config], sort_keys=True, default=str).encode())
    for key, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{key}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:_LENGTH]


def _identity_config(model: Tokenizer) -> dict[str, Any]:
    """The config values that differ from their declared defaults: a field added later with a default that
    keeps the old behaviour changes no fingerprint, so older checkpoints and ``.tok`` files stay valid."""
    values = model.config_dict()
    if not dataclasses.is_dataclass(model.cfg):
        return values
    defaults: dict[str, Any] = {}
    for f in dataclasses.fields(model.cfg):
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            defaults[f.name] = f.default_factory()
    defaults = {k: dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v for k, v in defaults.items()}
    return {k: v for k, v in values.items() if k not in defaults or _json(defaults[k]) != _json(v)}


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def stamp(model: Tokenizer, tokens: Tokens) -> Tokens:
    """Record ``model``'s registry name and fingerprint in ``tokens.meta`` (in place); returns ``tokens``."""
    tokens.meta["tokenizer"] = model.registry_name
    tokens.meta["fingerprint"] = fingerprint(model)
    return tokens


def check_fingerprint(
    model: Tokenizer, tokens: Tokens, *, force: bool = False, source: str = "tokens"
) -> None:
    """Refuse (``DataError`` naming both) to decode ``tokens`` made by another tokenizer or fingerprint than
    ``model``, unless ``force``; tokens that record neither are accepted."""
    made_by, made_fp = tokens.meta.get("tokenizer"), tokens.meta.get("fingerprint")
    if force or (made_by is None and made_fp is None):
        return
    mine = fingerprint(model) if made_fp is not None else None
    same_fp = made_fp is None or matches(model, made_fp)
    if (made_by is not None and made_by != model.registry_name) or not same_fp:
        theirs = f"{made_by}@{made_fp}" if made_fp else str(made_by)
        ours = f"{model.registry_name}@{mine}" if made_fp else str(model.registry_name)
        raise DataError(
            f"{source}: tokens were made by {theirs}, but the model is {ours} "
            "(another checkpoint or fit; pass --force / force=True to decode anyway)"
        )
