"""Modality-agnostic core: tokens and their container, the tokenizer base class, registry, checkpoints."""

from tokzoo.core.api import create, list_models, load
from tokzoo.core.checkpoint import save_pretrained
from tokzoo.core.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    NonFiniteLossError,
    RegistryError,
    TokFormatError,
    TokzooError,
)
from tokzoo.core.registry import register_tokenizer
from tokzoo.core.tokenizer import Tokenizer
from tokzoo.core.tokens import Tokens

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "NonFiniteLossError",
    "RegistryError",
    "TokFormatError",
    "Tokenizer",
    "Tokens",
    "TokzooError",
    "create",
    "list_models",
    "load",
    "register_tokenizer",
    "save_pretrained",
]
