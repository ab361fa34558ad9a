"""tokzoo: one library to train, run, evaluate and compare tokenizers.

import tokzoo
tok = tokzoo.create("vq-f8-s")          # or tokzoo.load("runs/demo/model")
tokens = tok.encode(images)              # images: (B, 3, H, W) floats in [0, 1]
tokens.nbits(), tokens.to_bytes()
recon = tok.decode(tokens)
"""

from tokzoo.core import (
    CheckpointError,
    ConfigError,
    DataError,
    NonFiniteLossError,
    RegistryError,
    Tokenizer,
    Tokens,
    TokFormatError,
    TokzooError,
    create,
    list_models,
    load,
    register_tokenizer,
    save_pretrained,
)
from tokzoo.core.version import __version__

list = list_models  # the short name of the README; list_models does not shadow the builtin

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
    "__version__",
    "create",
    "list",
    "list_models",
    "load",
    "register_tokenizer",
    "save_pretrained",
]
