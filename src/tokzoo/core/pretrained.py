"""The catalogue of pretrained weights: shipped ones and those of installed third-party packages.

A *weights folder* holds ``manifest.json`` — ``{"format": "tokzoo-pretrained", "format_version": 1,
"models": {NAME: {"folder": REL, "files": {FILE: SHA256, ...}, ...card fields}}}`` — and, for each model, a
checkpoint folder ``REL`` (``config.json`` + ``model.safetensors``, usually fp16). An entry may name another
config file of a folder (``"config": "config-NAME.json"``), so that two models share one weight file (e.g. a
continuous model and the same weights stored through a fitted grid). tokzoo ships one in the
data package ``tokzoo.pretrained``; another package adds its own by declaring an entry point in the group
``tokzoo.pretrained`` whose object is the path of its weights folder. Every file's sha256 is checked before
loading, so a missing or altered file is one error naming it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import json
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from tokzoo.core.errors import CheckpointError, RegistryError

if TYPE_CHECKING:
    from tokzoo.core.tokenizer import Tokenizer

ENTRY_POINT_GROUP = "tokzoo.pretrained"
MANIFEST = "manifest.json"
PREFIX = "pretrained:"
log = logging.getLogger("tokzoo")


@dataclass(frozen=True)
class PretrainedSpec:
    """One pretrained model: its name, checkpoint folder, expected file hashes and card fields."""

    name: str
    folder: Path
    files: dict[str, str]
    card: dict[str, Any] = field(default_factory=dict)
    config: str = "config.json"


def read_manifest(root: Path) -> dict[str, PretrainedSpec]:
    """The models declared in ``root/manifest.json``; CheckpointError when it is unreadable or malformed."""
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path}: unreadable pretrained manifest ({e})") from e
    if (
        not isinstance(data, dict)
        or data.get("format") != "tokzoo-pretrained"
        or data.get("format_version") != 1
    ):
        raise CheckpointError(f"{path}: not a tokzoo-pretrained manifest of format version 1")
    specs = {}
    for name, entry in data.get("models", {}).items():
        if not isinstance(entry, dict) or not isinstance(entry.get("files"), dict) or "folder" not in entry:
            raise CheckpointError(f"{path}: model {name!r} needs 'folder' and 'files'")
        config = entry.get("config", "config.json")
        if config not in entry["files"]:
            raise CheckpointError(f"{path}: model {name!r} loads {config!r}, which its 'files' do not list")
        card = {k: v for k, v in entry.items() if k not in ("folder", "files", "config")}
        specs[name] = PretrainedSpec(name, root / entry["folder"], dict(entry["files"]), card, config)
    return specs


def _weight_roots() -> list[Path]:
    roots = [Path(str(importlib.resources.files("tokzoo.pretrained")))]
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            roots.append(Path(ep.load()))
        except Exception as e:  # a broken third-party package must not break tokzoo
            log.warning("pretrained weights of entry point %s skipped: %s", ep.value, e)
    return roots


@cache
def catalog() -> dict[str, PretrainedSpec]:
    """Every known pretrained model by name (shipped first; a later duplicate name is an error)."""
    out: dict[str, PretrainedSpec] = {}
    for root in _weight_roots():
        for name, spec in read_manifest(root).items():
            if name in out:
                raise RegistryError(
                    f"pretrained model {name!r} is declared twice ({out[name].folder}, {spec.folder})"
                )
            out[name] = spec
    return out


def list_pretrained() -> list[str]:
    """Sorted names of the models with pretrained weights."""
    return sorted(catalog())


def get_pretrained(name: str) -> PretrainedSpec:
    """The catalogue entry for ``name`` (a bare name or ``pretrained:NAME``)."""
    name = name.removeprefix(PREFIX)
    specs = catalog()
    if name not in specs:
        have = ", ".join(sorted(specs)) or "none"
        raise RegistryError(f"no pretrained weights named {name!r} (available: {have})")
    return specs[name]


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verified_folder(name: str) -> Path:
    """The checkpoint folder of pretrained ``name`` after checking every file's sha256."""
    spec = get_pretrained(name)
    for file, expected in spec.files.items():
        path = spec.folder / file
        if not path.is_file():
            raise CheckpointError(f"pretrained {spec.name}: weight file {path} is missing (reinstall tokzoo)")
        if file_sha256(path) != expected:
            raise CheckpointError(
                f"pretrained {spec.name}: {path} does not match its sha256 in the manifest (altered or corrupt)"
            )
    return spec.folder


def load_pretrained(name: str) -> Tokenizer:
    """The pretrained model ``name`` in float32, eval mode, after the hash check."""
    from tokzoo.core.checkpoint import load

    spec = get_pretrained(name)
    model = load(verified_folder(name), config_name=spec.config)
    model.pretrained_name = spec.name
    return model.float()


def export_pretrained(
    checkpoint: str | Path, root: str | Path, name: str, card: dict[str, Any] | None = None
) -> PretrainedSpec:
    """Add the checkpoint folder ``checkpoint`` to the weights folder ``root`` as pretrained ``name``.

    The weights are stored as fp16 safetensors in ``root/weights/name/`` (floating tensors only; integer
    buffers keep their type) and ``root/manifest.json`` gets the files' sha256 and the ``card`` fields
    (bits per image, data, steps, ...). The checkpoint's tokenizer must be registered as ``name``, so that
    ``tokzoo.create(name, pretrained=True)`` and a fresh ``tokzoo.create(name)`` are the same architecture.
    Second forms that shared ``name``'s old weight file (:func:`export_pretrained_form`) are removed with it:
    export them again from the new weights.
    """
    from safetensors.torch import save as st_save

    from tokzoo.core.atomic import atomic_write_bytes
    from tokzoo.core.checkpoint import CONFIG_NAME, WEIGHTS_NAME, read_config, read_safetensors

    checkpoint, root = Path(checkpoint), Path(root)
    cfg = read_config(checkpoint)
    if cfg["tokenizer"] != name:
        raise CheckpointError(f"{checkpoint}: a {cfg['tokenizer']} checkpoint cannot ship as {name!r}")
    state = {
        k: (v.half() if v.is_floating_point() else v).contiguous()
        for k, v in read_safetensors(checkpoint / WEIGHTS_NAME).items()
    }
    folder = root / "weights" / name
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(
        folder / WEIGHTS_NAME, st_save(state, metadata={"tokenizer": name, "dtype": "float16"})
    )
    _refingerprint(cfg, name, state)
    atomic_write_bytes(folder / CONFIG_NAME, (json.dumps(cfg, indent=2) + "\n").encode())
    manifest_path = root / MANIFEST
    manifest = (
        json.loads(manifest_path.read_text())
        if manifest_path.is_file()
        else {"format": "tokzoo-pretrained", "format_version": 1, "models": {}}
    )
    for form, old in list(manifest["models"].items()):
        if form != name and old["folder"] == f"weights/{name}":
            del manifest["models"][form]
            (folder / old["config"]).unlink(missing_ok=True)
    files = {f: file_sha256(folder / f) for f in (CONFIG_NAME, WEIGHTS_NAME)}
    entry = {"folder": f"weights/{name}", "files": files, "bytes": (folder / WEIGHTS_NAME).stat().st_size}
    manifest["models"][name] = {**entry, **(card or {})}
    manifest["models"] = dict(sorted(manifest["models"].items()))
    atomic_write_bytes(manifest_path, (json.dumps(manifest, indent=1) + "\n").encode())
    catalog.cache_clear()
    return read_manifest(root)[name]


def _refingerprint(cfg: dict[str, Any], name: str, state: dict[str, torch.Tensor]) -> None:
    """Record in ``cfg`` the fingerprint of the fp16-rounded weights ``state`` as tokzoo.load gives them back."""
    from tokzoo.core.fingerprint import fingerprint
    from tokzoo.core.registry import create

    if "fingerprint" in cfg:
        shipped = create(name, **cfg.get("config", {}))
        shipped.load_state_dict(state)
        cfg["fingerprint"] = fingerprint(shipped)


def export_pretrained_form(
    checkpoint: str | Path, root: str | Path, base: str, name: str, card: dict[str, Any] | None = None
) -> PretrainedSpec:
    """Ship the checkpoint folder ``checkpoint`` as pretrained ``name`` *in the folder of* pretrained ``base``:
    a second form of the same weights. ``name``'s extra tensors (e.g. a fitted storage grid) are added to the
    weight file as ``KEY@name`` (:data:`~tokzoo.core.checkpoint.FORM_MARK`), so several forms share one file;
    every tensor ``base`` has must be unchanged at fp16. ``name`` gets its own config file
    (``config-NAME.json``) and manifest entry; the entries of the file's forms get its new hash. No second
    weight file: the budget counts one."""
    from safetensors.torch import save as st_save

    from tokzoo.core.atomic import atomic_write_bytes
    from tokzoo.core.checkpoint import FORM_MARK, WEIGHTS_NAME, form_state, read_config, read_safetensors

    checkpoint, root = Path(checkpoint), Path(root)
    manifest_path = root / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    if base not in manifest.get("models", {}):
        raise CheckpointError(f"{manifest_path}: no pretrained {base!r} to add a form to")
    cfg = read_config(checkpoint)
    if cfg["tokenizer"] != name:
        raise CheckpointError(f"{checkpoint}: a {cfg['tokenizer']} checkpoint cannot ship as {name!r}")
    folder = root / manifest["models"][base]["folder"]
    shipped = read_safetensors(folder / WEIGHTS_NAME)
    own = FORM_MARK + name
    state = {
        k: (v.half() if v.is_floating_point() else v).contiguous()
        for k, v in read_safetensors(checkpoint / WEIGHTS_NAME).items()
    }
    plain = form_state(shipped, base)  # the base's own tensors, without any form's
    changed = [k for k, v in plain.items() if k not in state or not torch.equal(state[k], v)]
    if changed:
        raise CheckpointError(
            f"{checkpoint}: not {base}'s weights ({len(changed)} tensors differ, e.g. {changed[0]})"
        )
    state = {
        **plain,
        **{k: v for k, v in shipped.items() if FORM_MARK in k and not k.endswith(own)},
        **{k + own: v for k, v in state.items() if k not in plain},
    }
    atomic_write_bytes(
        folder / WEIGHTS_NAME, st_save(state, metadata={"tokenizer": base, "dtype": "float16"})
    )
    config_name = f"config-{name}.json"
    _refingerprint(cfg, name, form_state(state, name))
    atomic_write_bytes(folder / config_name, (json.dumps(cfg, indent=2) + "\n").encode())
    weights_hash, size = file_sha256(folder / WEIGHTS_NAME), (folder / WEIGHTS_NAME).stat().st_size
    for entry in manifest["models"].values():
        if entry["folder"] == manifest["models"][base]["folder"]:
            entry["files"][WEIGHTS_NAME], entry["bytes"] = weights_hash, size
    files = {config_name: file_sha256(folder / config_name), WEIGHTS_NAME: weights_hash}
    entry = {
        "folder": manifest["models"][base]["folder"],
        "config": config_name,
        "files": files,
        "bytes": size,
    }
    manifest["models"][name] = {**entry, **(card or {})}
    manifest["models"] = dict(sorted(manifest["models"].items()))
    atomic_write_bytes(manifest_path, (json.dumps(manifest, indent=1) + "\n").encode())
    catalog.cache_clear()
    return read_manifest(root)[name]
